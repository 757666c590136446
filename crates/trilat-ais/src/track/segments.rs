//! Segmentation: several ships can transmit one MMSI. A fix joins the most
//! recent segment it is reachable from; an unreachable fix opens a new
//! segment and raises an `impossible-jump` identity anomaly.

use trilat_geo::{haversine_m, LatLon};

use super::events::{instant, AnomalyKind, EventDetail};
use super::grid::distance_m_bound;
use super::vessels::Segment;
use super::{Event, Fix, Tracker, HOUR_MS, KNOT_MS, NAUTICAL_MILE_M, SEGMENTS_PER_VESSEL_MAX};

/// Position noise and time-stamp jitter a reachable fix may exceed the
/// jump speed by, metres.
const REACH_ALLOWANCE_M: f64 = 2_000.0;

impl Tracker {
    /// The segment this fix belongs to: the most recent one it is reachable
    /// from at `jump_speed_knots_max`; else a new segment and an
    /// impossible-jump anomaly.
    pub(super) fn assign_segment(
        &mut self,
        vidx: usize,
        fix: Fix,
        events: &mut Vec<Event>,
    ) -> usize {
        let speed_max_ms = self.config.jump_speed_knots_max * KNOT_MS;
        let mut best: Option<(usize, i64)> = None;
        for (i, s) in self.vessels[vidx].segments.iter().enumerate() {
            if best.is_some_and(|(_, t)| s.last.time_unix_ms <= t) {
                continue;
            }
            let dt_s = ((fix.time_unix_ms - s.last.time_unix_ms).abs() as f64) / 1000.0;
            let reach_m = speed_max_ms * dt_s + REACH_ALLOWANCE_M;
            // The trigonometry-free bound settles almost every fix.
            let reachable = distance_m_bound(s.last.lat, s.last.lon, fix.lat, fix.lon) <= reach_m
                || haversine_m(
                    LatLon::new(s.last.lat, s.last.lon),
                    LatLon::new(fix.lat, fix.lon),
                ) <= reach_m;
            if reachable {
                best = Some((i, s.last.time_unix_ms));
            }
        }
        match best {
            Some((i, _)) => i,
            None => self.open_segment(vidx, fix, events),
        }
    }

    /// Starts a new segment at `fix` (dropping the oldest beyond
    /// [`SEGMENTS_PER_VESSEL_MAX`]) and, when the vessel had a fix before,
    /// raises the impossible jump from it; returns the segment's index.
    fn open_segment(&mut self, vidx: usize, fix: Fix, events: &mut Vec<Event>) -> usize {
        let mmsi = fix.mmsi;
        let vessel = &mut self.vessels[vidx];
        let previous = vessel.latest_fix();
        if vessel.segments.len() >= SEGMENTS_PER_VESSEL_MAX {
            let oldest = vessel
                .segments
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.last.time_unix_ms)
                .map_or(0, |(i, _)| i);
            let removed = vessel.segments.swap_remove(oldest);
            if let Some(cell) = self.grid.get_mut(&removed.cell) {
                cell.retain(|&k| k != (mmsi, removed.id));
            }
        }
        let id = vessel.next_segment;
        vessel.next_segment += 1;
        vessel.segments.push(Segment::new(id, fix));
        let idx = vessel.segments.len() - 1;
        if let Some(prev) = previous {
            let mut e = instant(fix, id, impossible_jump(prev, fix, id));
            e.evidence = vec![prev, fix];
            self.emit(events, e);
        }
        idx
    }
}

/// The anomaly of a jump from `prev` to `fix` that opened segment `id`.
fn impossible_jump(prev: Fix, fix: Fix, id: u32) -> EventDetail {
    let d = haversine_m(
        LatLon::new(prev.lat, prev.lon),
        LatLon::new(fix.lat, fix.lon),
    );
    // At least a second: two fixes with one time stamp still give a finite speed.
    let hours = ((fix.time_unix_ms - prev.time_unix_ms).abs() as f64 / HOUR_MS).max(1.0 / 3600.0);
    let text = format!(
        "{:.1} km in {:.2} h = {:.0} knots implied; new segment {id}",
        d / 1000.0,
        hours,
        d / NAUTICAL_MILE_M / hours
    );
    EventDetail::IdentityAnomaly {
        anomaly: AnomalyKind::ImpossibleJump,
        text,
    }
}
