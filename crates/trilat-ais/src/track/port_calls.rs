//! Port calls: within [`Config::port_radius_m`](super::Config::port_radius_m)
//! of a port for at least
//! [`Config::port_call_hours_min`](super::Config::port_call_hours_min).

use super::events::EventDetail;
use super::{Event, Fix, Tracker, HOUR_MS};

/// Furthest a port is looked for when an encounter or a loiter is judged
/// (m): the rules need 10 km (GFW's encounter-to-anchorage distance); the
/// event also reports the nearest port within this reach as context.
const ANCHORAGE_SEARCH_M: f64 = 50_000.0;
/// A vessel faster than this (knots) and not yet in port skips the port
/// lookup: a call is a stay, and a ship moored or at anchor reports well
/// under 3 knots.
const PORT_LOOKUP_SPEED_KNOTS_MAX: f32 = 3.0;

/// An open stay at one port.
#[derive(Clone, Debug)]
pub(super) struct PortStay {
    pub(super) port_idx: usize,
    pub(super) arrived: Fix,
    pub(super) last_in: Fix,
}

impl Tracker {
    pub(super) fn near_port_m(&self, lat: f64, lon: f64) -> Option<f64> {
        self.ports
            .as_ref()?
            .nearest_within(lat, lon, ANCHORAGE_SEARCH_M)
            .map(|(_, d)| d)
    }

    pub(super) fn detect_port_call(
        &mut self,
        vidx: usize,
        seg_idx: usize,
        fix: Fix,
        events: &mut Vec<Event>,
    ) {
        let mmsi = fix.mmsi;
        let Some(ports) = self.ports.clone() else {
            return;
        };
        let seg = &self.vessels[vidx].segments[seg_idx];
        // Only slow vessels or ones already in port need the lookup.
        if seg.port.is_none()
            && fix
                .speed_knots
                .is_some_and(|s| s > PORT_LOOKUP_SPEED_KNOTS_MAX)
        {
            return;
        }
        let near = ports
            .nearest_within(fix.lat, fix.lon, self.config.port_radius_m)
            .map(|(p, _)| {
                (
                    ports
                        .ports()
                        .iter()
                        .position(|q| std::ptr::eq(q, p))
                        .unwrap_or(0),
                    p,
                )
            });
        let seg = &mut self.vessels[vidx].segments[seg_idx];
        let seg_id = seg.id;
        match (&mut seg.port, near) {
            (Some(stay), Some((idx, _))) if stay.port_idx == idx => stay.last_in = fix,
            (stay @ None, Some((idx, _))) => {
                *stay = Some(PortStay {
                    port_idx: idx,
                    arrived: fix,
                    last_in: fix,
                })
            }
            (stay, _) => {
                if let Some(s) = stay.take() {
                    self.close_port_stay(mmsi, seg_id, s, events);
                }
                if let Some((idx, _)) = near {
                    let seg = &mut self.vessels[vidx].segments[seg_idx];
                    seg.port = Some(PortStay {
                        port_idx: idx,
                        arrived: fix,
                        last_in: fix,
                    });
                }
            }
        }
    }

    pub(super) fn close_port_stay(
        &mut self,
        mmsi: u32,
        segment: u32,
        s: PortStay,
        events: &mut Vec<Event>,
    ) {
        let hours = (s.last_in.time_unix_ms - s.arrived.time_unix_ms) as f64 / HOUR_MS;
        let Some(ports) = &self.ports else { return };
        if hours < self.config.port_call_hours_min {
            return;
        }
        let port = &ports.ports()[s.port_idx];
        let detail = EventDetail::PortCall {
            port: port.name.clone(),
            wpi: port.wpi,
            country: port.country.clone(),
            hours,
        };
        let e = Event {
            mmsi,
            segment,
            start_unix_ms: s.arrived.time_unix_ms,
            end_unix_ms: s.last_in.time_unix_ms,
            lat: port.lat,
            lon: port.lon,
            detail,
            evidence: vec![s.arrived, s.last_in],
        };
        self.emit(events, e);
    }
}
