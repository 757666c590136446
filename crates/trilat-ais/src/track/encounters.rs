//! Encounters (possible ship-to-ship transfers): two vessels close, slow
//! and far from port for a long time. Vessels sit in a grid of ~1 km
//! cells; each slow fix looks at its cell and the eight around it.

use trilat_geo::{haversine_m, LatLon};

use super::events::EventDetail;
use super::grid::encounter_cell;
use super::vessels::HashMap;
use super::{Event, Fix, Tracker, HOUR_MS, MINUTE_MS, PAIRS_MAX, PAIR_SPEEDS_MAX};

/// Fixes of two vessels further apart in time than this are not compared:
/// the earlier one no longer says where that vessel is (class A ships
/// report every 2–10 s under way and every 3 minutes at anchor).
const PAIR_TIME_APART_MS_MAX: i64 = 10 * MINUTE_MS;
/// A fix faster than this multiple of the encounter speed skips the
/// neighbour search: the pair's *median* speed decides, so a few faster
/// samples of a slow pair must still be counted, but a vessel at twice the
/// threshold is under way.
const ENCOUNTER_SEARCH_SPEED_FACTOR: f64 = 2.0;

/// Two vessels under watch for an encounter.
#[derive(Clone, Debug)]
pub(super) struct Pair {
    pub(super) segments: (u32, u32),
    pub(super) first: (Fix, Fix),
    pub(super) last: (Fix, Fix),
    pub(super) speeds: Vec<f32>,
    pub(super) distance_m_min: f64,
}

impl Tracker {
    /// Moves the segment to `fix`'s grid cell and, when it is slow enough
    /// for an encounter, watches every vessel close by in this and the
    /// eight neighbouring cells.
    pub(super) fn watch_encounters(
        &mut self,
        vidx: usize,
        segment_id: u32,
        seg_idx: usize,
        fix: Fix,
    ) {
        let mmsi = fix.mmsi;
        let cell = self.move_to_cell(vidx, seg_idx, (mmsi, segment_id), fix);
        // Encounters need slow vessels: skip the neighbour search when fast.
        if fix.speed_knots.is_some_and(|s| {
            f64::from(s) > ENCOUNTER_SEARCH_SPEED_FACTOR * self.config.encounter_speed_knots_max
        }) {
            return;
        }
        for dy in -1..=1 {
            for dx in -1..=1 {
                let Some(keys) = self.grid.get(&(cell.0 + dy, cell.1 + dx)) else {
                    continue;
                };
                for &(other, other_seg) in keys {
                    if other == mmsi {
                        continue;
                    }
                    let Some(o) = self
                        .vessels
                        .get(&other)
                        .and_then(|v| v.segments.iter().find(|s| s.id == other_seg))
                    else {
                        continue;
                    };
                    let of = o.last;
                    if (of.time_unix_ms - fix.time_unix_ms).abs() > PAIR_TIME_APART_MS_MAX {
                        continue;
                    }
                    let d = haversine_m(LatLon::new(fix.lat, fix.lon), LatLon::new(of.lat, of.lon));
                    if d > self.config.encounter_distance_m_max {
                        continue;
                    }
                    observe_pair(&mut self.pairs, (fix, segment_id), (of, other_seg), d);
                }
            }
        }
    }

    /// Files the segment `key` under `fix`'s encounter cell (leaving its
    /// old one); returns the cell.
    fn move_to_cell(
        &mut self,
        vidx: usize,
        seg_idx: usize,
        key: (u32, u32),
        fix: Fix,
    ) -> (i32, i32) {
        let cell = encounter_cell(fix.lat, fix.lon);
        let seg = &mut self.vessels[vidx].segments[seg_idx];
        let old_cell = seg.cell;
        seg.cell = cell;
        if old_cell != cell || seg.n_fixes == 1 {
            if let Some(v) = self.grid.get_mut(&old_cell) {
                v.retain(|&k| k != key);
                if v.is_empty() {
                    self.grid.remove(&old_cell);
                }
            }
            self.grid.entry(cell).or_default().push(key);
        }
        cell
    }

    /// Closes pairs apart for longer than the break allowance (or all, at
    /// the end), raising encounters that qualify.
    pub(super) fn close_pairs(&mut self, all: bool, events: &mut Vec<Event>) {
        let break_ms = (self.config.encounter_break_minutes_max * MINUTE_MS as f64) as i64;
        let now = self.now_ms;
        let closing: Vec<(u32, u32)> = self
            .pairs
            .iter()
            .filter(|(_, p)| {
                all || now - p.last.0.time_unix_ms.max(p.last.1.time_unix_ms) > break_ms
            })
            .map(|(&k, _)| k)
            .collect();
        for key in closing {
            let Some(mut pair) = self.pairs.remove(&key) else {
                continue;
            };
            let start = pair.first.0.time_unix_ms.min(pair.first.1.time_unix_ms);
            let end = pair.last.0.time_unix_ms.max(pair.last.1.time_unix_ms);
            let hours = (end - start) as f64 / HOUR_MS;
            if hours < self.config.encounter_hours_min || pair.speeds.is_empty() {
                continue;
            }
            pair.speeds.sort_by(f32::total_cmp);
            let median = f64::from(pair.speeds[pair.speeds.len() / 2]);
            if median >= self.config.encounter_speed_knots_max {
                continue;
            }
            let anchorage = self.near_port_m(pair.first.0.lat, pair.first.0.lon);
            if anchorage.is_some_and(|d| d < self.config.encounter_anchorage_distance_m_min) {
                continue;
            }
            let detail = EventDetail::Encounter {
                other_mmsi: key.1,
                hours,
                median_speed_knots: median,
                distance_m_min: pair.distance_m_min,
                anchorage_distance_m: anchorage,
            };
            let e = Event {
                mmsi: key.0,
                segment: pair.segments.0,
                start_unix_ms: start,
                end_unix_ms: end,
                lat: pair.first.0.lat,
                lon: pair.first.0.lon,
                detail,
                evidence: vec![pair.first.0, pair.first.1, pair.last.0, pair.last.1],
            };
            self.emit(events, e);
        }
    }
}

/// Records that two vessels (each a fix and its segment) are `d` metres
/// apart: opens their pair (while fewer than [`PAIRS_MAX`] are open) or
/// extends it, and samples both speeds.
fn observe_pair(pairs: &mut HashMap<(u32, u32), Pair>, one: (Fix, u32), other: (Fix, u32), d: f64) {
    // Pairs are keyed lower MMSI first.
    let ((fa, sa), (fb, sb)) = if one.0.mmsi < other.0.mmsi {
        (one, other)
    } else {
        (other, one)
    };
    let key = (fa.mmsi, fb.mmsi);
    if !pairs.contains_key(&key) && pairs.len() >= PAIRS_MAX {
        return;
    }
    let pair = pairs.entry(key).or_insert_with(|| Pair {
        segments: (sa, sb),
        first: (fa, fb),
        last: (fa, fb),
        speeds: Vec::new(),
        distance_m_min: d,
    });
    pair.last = (fa, fb);
    pair.distance_m_min = pair.distance_m_min.min(d);
    for s in [fa.speed_knots, fb.speed_knots].into_iter().flatten() {
        if pair.speeds.len() < PAIR_SPEEDS_MAX {
            pair.speeds.push(s);
        } else {
            // Keep a spread of samples: overwrite round-robin.
            let i = (pair.last.0.time_unix_ms / 1000) as usize % PAIR_SPEEDS_MAX;
            pair.speeds[i] = s;
        }
    }
}
