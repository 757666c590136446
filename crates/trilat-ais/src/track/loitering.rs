//! Loitering: slow for a long time, far from shore and from port.

use super::events::EventDetail;
use super::{Event, Fix, Tracker, HOUR_MS};

/// An open slow stretch of one segment.
#[derive(Clone, Debug)]
pub(super) struct Loiter {
    pub(super) start: Fix,
    pub(super) last: Fix,
    pub(super) speed_sum: f64,
    pub(super) n: u32,
}

impl Tracker {
    pub(super) fn detect_loitering(
        &mut self,
        vidx: usize,
        seg_idx: usize,
        fix: Fix,
        events: &mut Vec<Event>,
    ) {
        let mmsi = fix.mmsi;
        let Some(speed) = fix.speed_knots else { return };
        let slow = f64::from(speed) < self.config.loitering_speed_knots_max;
        let seg = &mut self.vessels[vidx].segments[seg_idx];
        let seg_id = seg.id;
        if slow {
            let l = seg.loiter.get_or_insert(Loiter {
                start: fix,
                last: fix,
                speed_sum: 0.0,
                n: 0,
            });
            l.last = fix;
            l.speed_sum += f64::from(speed);
            l.n += 1;
            return;
        }
        if let Some(l) = seg.loiter.take() {
            self.close_loiter(mmsi, seg_id, l, events);
        }
    }

    pub(super) fn close_loiter(
        &mut self,
        mmsi: u32,
        segment: u32,
        l: Loiter,
        events: &mut Vec<Event>,
    ) {
        let hours = (l.last.time_unix_ms - l.start.time_unix_ms) as f64 / HOUR_MS;
        if hours < self.config.loitering_hours_min {
            return;
        }
        let far = self
            .shore_distance_m(l.start.lat, l.start.lon)
            .is_none_or(|d| d >= self.config.loitering_shore_distance_m_min);
        let at_port = self
            .near_port_m(l.start.lat, l.start.lon)
            .is_some_and(|d| d < self.config.encounter_anchorage_distance_m_min);
        if !far || at_port {
            return;
        }
        let detail = EventDetail::Loitering {
            hours,
            mean_speed_knots: l.speed_sum / f64::from(l.n.max(1)),
        };
        let e = Event {
            mmsi,
            segment,
            start_unix_ms: l.start.time_unix_ms,
            end_unix_ms: l.last.time_unix_ms,
            lat: l.start.lat,
            lon: l.start.lon,
            detail,
            evidence: vec![l.start, l.last],
        };
        self.emit(events, e);
    }
}
