//! Gaps ("going dark"): no transmission for at least
//! [`Config::gap_hours_min`](super::Config::gap_hours_min), both ends far
//! from shore, where other vessels were heard meanwhile.

use trilat_geo::{haversine_m, LatLon};

use super::events::EventDetail;
use super::grid::coverage_cell;
use super::{Event, Fix, Tracker, HOUR_MS};

impl Tracker {
    pub(super) fn shore_distance_m(&self, lat: f64, lon: f64) -> Option<f64> {
        self.zones
            .as_ref()?
            .distance_to_coast_m(LatLon { lat, lon })
    }

    pub(super) fn detect_gap(
        &mut self,
        vidx: usize,
        seg_idx: usize,
        fix: Fix,
        covered: bool,
        events: &mut Vec<Event>,
    ) {
        let mmsi = fix.mmsi;
        let seg = &self.vessels[vidx].segments[seg_idx];
        if seg.n_fixes == 0 {
            return;
        }
        let last = seg.last;
        let hours = (fix.time_unix_ms - last.time_unix_ms) as f64 / HOUR_MS;
        if hours < self.config.gap_hours_min {
            return;
        }
        let start_shore = self.shore_distance_m(last.lat, last.lon);
        let end_shore = self.shore_distance_m(fix.lat, fix.lon);
        let far = |d: Option<f64>| d.is_none_or(|d| d >= self.config.gap_shore_distance_m_min);
        if !(far(start_shore) && far(end_shore) && covered) {
            return;
        }
        let detail = EventDetail::Gap {
            hours,
            distance_m: haversine_m(
                LatLon::new(last.lat, last.lon),
                LatLon::new(fix.lat, fix.lon),
            ),
            shore_distance_m_start: start_shore,
            shore_distance_m_end: end_shore,
            covered,
            ongoing: false,
        };
        let e = Event {
            mmsi,
            segment: seg.id,
            start_unix_ms: last.time_unix_ms,
            end_unix_ms: fix.time_unix_ms,
            lat: last.lat,
            lon: last.lon,
            detail,
            evidence: vec![last, fix],
        };
        self.emit(events, e);
    }

    /// At the end of the input: the gap of a segment last heard at `last`,
    /// when it has been silent for the gap threshold before the latest time
    /// seen, far from shore, where other vessels were heard since.
    pub(super) fn close_ongoing_gap(
        &mut self,
        mmsi: u32,
        segment: u32,
        last: Fix,
        events: &mut Vec<Event>,
    ) {
        let hours = (self.now_ms - last.time_unix_ms) as f64 / HOUR_MS;
        let shore = self.shore_distance_m(last.lat, last.lon);
        let far = shore.is_none_or(|d| d >= self.config.gap_shore_distance_m_min);
        if hours < self.config.gap_hours_min || !far {
            return;
        }
        let covered = self
            .coverage
            .get(&coverage_cell(last.lat, last.lon))
            .is_some_and(|s| {
                s.iter()
                    .any(|&(m, t)| m != mmsi && m != 0 && t > last.time_unix_ms)
            });
        if !covered {
            return;
        }
        let detail = EventDetail::Gap {
            hours,
            distance_m: 0.0,
            shore_distance_m_start: shore,
            shore_distance_m_end: None,
            covered,
            ongoing: true,
        };
        let e = Event {
            mmsi,
            segment,
            start_unix_ms: last.time_unix_ms,
            end_unix_ms: self.now_ms,
            lat: last.lat,
            lon: last.lon,
            detail,
            evidence: vec![last],
        };
        self.emit(events, e);
    }
}
