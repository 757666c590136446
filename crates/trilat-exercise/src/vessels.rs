//! An AIS story described in the scenario file, as the receivers of the
//! parties that hear each vessel would get it: type 1 position reports
//! along straight legs between the track points (speed and course from the
//! leg), a type 5 static report every tenth position, nothing while a
//! vessel is dark; real `!AIVDM` sentences behind tag blocks (receiver and
//! time), made by the AIS crate's own encoder (`trilat_ais::encode`).

use trilat_ais::encode::{
    encode_position, encode_static, sentences, BitWriter, PositionFields, StaticFields,
};
use trilat_core::Party;

use crate::scenario::VesselSpec;

/// A static report goes with every this many position reports.
const POSITIONS_PER_STATIC: u64 = 10;

/// Seconds from the story's start (0 h) to its last track point.
pub fn story_span_s(vessels: &[VesselSpec]) -> i64 {
    let span_h = vessels
        .iter()
        .filter_map(|v| v.track.last())
        .map(|p| p[0])
        .fold(0.0, f64::max);
    (span_h * 3600.0).round() as i64
}

/// Each party's receiver lines, time-ordered, the story's 0 h at
/// `story_start_unix_s`; parties in the order the vessels first name them.
pub fn feeds(vessels: &[VesselSpec], story_start_unix_s: i64) -> Vec<(Party, Vec<String>)> {
    let mut messages: Vec<(i64, usize, BitWriter)> = Vec::new();
    for (vessel_idx, vessel) in vessels.iter().enumerate() {
        vessel_messages(vessel, story_start_unix_s, &mut |time_unix_s, w| {
            messages.push((time_unix_s, vessel_idx, w))
        });
    }
    messages.sort_by_key(|(time_unix_s, vessel_idx, _)| (*time_unix_s, *vessel_idx));
    let mut feeds: Vec<(Party, Vec<String>)> = Vec::new();
    for (message_idx, (time_unix_s, vessel_idx, w)) in messages.iter().enumerate() {
        let channel = if message_idx % 2 == 0 { 'A' } else { 'B' };
        for party in &vessels[*vessel_idx].heard_by {
            let feed_idx = match feeds.iter().position(|(p, _)| p == party) {
                Some(idx) => idx,
                None => {
                    feeds.push((party.clone(), Vec::new()));
                    feeds.len() - 1
                }
            };
            let source = format!("{party}-EXERCISE-RX");
            feeds[feed_idx].1.extend(sentences(
                w,
                channel,
                (message_idx % 10) as u8,
                Some(&source),
                Some(*time_unix_s),
            ));
        }
    }
    feeds
}

/// The vessel's messages from its first track point to its last, one
/// position every `report_s`, to `sink` with their times.
fn vessel_messages(
    vessel: &VesselSpec,
    story_start_unix_s: i64,
    sink: &mut dyn FnMut(i64, BitWriter),
) {
    assert!(
        vessel.track.len() >= 2,
        "the scenario check requires two points"
    );
    let statics = StaticFields {
        mmsi: vessel.mmsi,
        imo: vessel.imo,
        callsign: vessel.callsign.clone(),
        shipname: vessel.name.clone(),
        shiptype: vessel.ship_type,
        ..StaticFields::default()
    };
    let first_s = (vessel.track[0][0] * 3600.0).round() as i64;
    let last_s = (vessel.track[vessel.track.len() - 1][0] * 3600.0).round() as i64;
    let mut n_positions = 0u64;
    for t_s in (first_s..=last_s).step_by(vessel.report_s as usize) {
        let h = t_s as f64 / 3600.0;
        if vessel
            .dark_h
            .iter()
            .any(|[from_h, to_h]| (*from_h..*to_h).contains(&h))
        {
            continue;
        }
        let (lat, lon, speed_knots, course_deg) = along_track(&vessel.track, h);
        let position = PositionFields {
            mmsi: vessel.mmsi,
            lat: Some(lat),
            lon: Some(lon),
            speed_knots: Some(speed_knots as f32),
            course_deg: Some(course_deg as f32),
            heading_deg: Some(course_deg.round() as u16 % 360),
            status: 0,
            second: Some((t_s % 60) as u8),
            class_b: false,
        };
        let time_unix_s = story_start_unix_s + t_s;
        if n_positions % POSITIONS_PER_STATIC == 0 {
            sink(time_unix_s, encode_static(&statics));
        }
        sink(time_unix_s, encode_position(&position));
        n_positions += 1;
    }
}

/// Position, speed (knots) and course (degrees) at `h` on the leg holding
/// it (flat-earth over one leg, as a plotter draws it).
fn along_track(track: &[[f64; 3]], h: f64) -> (f64, f64, f64, f64) {
    let leg_idx = track
        .windows(2)
        .position(|leg| h <= leg[1][0])
        .unwrap_or(track.len() - 2);
    let [from_h, from_lat, from_lon] = track[leg_idx];
    let [to_h, to_lat, to_lon] = track[leg_idx + 1];
    assert!(to_h > from_h, "the scenario check orders the points");
    let f = ((h - from_h) / (to_h - from_h)).clamp(0.0, 1.0);
    let lat = from_lat + f * (to_lat - from_lat);
    let lon = from_lon + f * (to_lon - from_lon);
    let dy_nm = (to_lat - from_lat) * 60.0;
    let dx_nm = (to_lon - from_lon) * 60.0 * lat.to_radians().cos();
    let speed_knots = dx_nm.hypot(dy_nm) / (to_h - from_h);
    let course_deg = dx_nm.atan2(dy_nm).to_degrees().rem_euclid(360.0);
    (lat, lon, speed_knots, course_deg)
}
