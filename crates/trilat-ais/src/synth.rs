//! Synthetic traffic made with the project's own encoder: the demo vessel
//! scenario (as two partners' feeds would see it) and a realistic day of
//! traffic for tests and benchmarks. Deterministic for a given seed.

use crate::encode::{encode_position, encode_static, sentences, PositionFields, StaticFields};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The demo tanker: Panama-flagged MMSI, broadcasting IMO 8814881 (a
/// number that fails its check digit, one digit from 8314881).
pub const DEMO_TANKER_MMSI: u32 = 352_001_234;
/// The demo DPRK-linked vessel (MID 445).
pub const DEMO_DPRK_MMSI: u32 = 445_123_000;
/// Where the demo encounter happens (East China Sea, far from shore).
pub const DEMO_MEETING_POINT: (f64, f64) = (31.0, 124.5);

/// One partner's view of the demo: its receiver and the lines it got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoFeed {
    /// Partner (ISO-3).
    pub partner: String,
    /// Receiver name (tag-block source).
    pub source: String,
    /// NMEA lines, time-ordered, with tag blocks.
    pub lines: Vec<String>,
}

#[derive(Clone, Copy)]
struct Leg {
    from_h: f64,
    to_h: f64,
    from: (f64, f64),
    to: (f64, f64),
    transmitting: bool,
}

fn interpolate(leg: &Leg, h: f64) -> (f64, f64, f32, f32) {
    let f = ((h - leg.from_h) / (leg.to_h - leg.from_h)).clamp(0.0, 1.0);
    let lat = leg.from.0 + f * (leg.to.0 - leg.from.0);
    let lon = leg.from.1 + f * (leg.to.1 - leg.from.1);
    let dy = (leg.to.0 - leg.from.0) * 60.0;
    let dx = (leg.to.1 - leg.from.1) * 60.0 * lat.to_radians().cos();
    let speed = (dx.hypot(dy) / (leg.to_h - leg.from_h)) as f32;
    let course = (dx.atan2(dy).to_degrees().rem_euclid(360.0)) as f32;
    (lat, lon, speed, course)
}

fn vessel_messages(
    mmsi: u32,
    statics: &StaticFields,
    legs: &[Leg],
    start_s: i64,
    step_s: i64,
    out: &mut Vec<(i64, crate::encode::BitWriter)>,
) {
    let end_h = legs.last().map_or(0.0, |l| l.to_h);
    let mut t = 0i64;
    let mut k = 0u64;
    while (t as f64) / 3600.0 <= end_h {
        let h = t as f64 / 3600.0;
        if let Some(leg) = legs.iter().find(|l| h >= l.from_h && h <= l.to_h) {
            if leg.transmitting {
                let (lat, lon, speed, course) = interpolate(leg, h);
                let p = PositionFields {
                    mmsi,
                    lat: Some(lat),
                    lon: Some(lon),
                    speed_knots: Some(speed),
                    course_deg: Some(course),
                    heading_deg: Some(course.round() as u16 % 360),
                    status: 0,
                    second: Some((t % 60) as u8),
                    class_b: false,
                };
                out.push((start_s + t, encode_position(&p)));
                if k % 10 == 0 {
                    out.push((start_s + t, encode_static(statics)));
                }
                k += 1;
            }
        }
        t += step_s;
    }
}

/// The demo: a tanker and a DPRK-linked vessel meet in the East China Sea
/// for about 3.5 hours at drifting speed; the DPRK-linked vessel was dark
/// for 13 hours before. Fishing vessels nearby give the coverage that makes
/// the gap meaningful. Japan's and Korea's receivers each hear part of the
/// traffic (overlapping), as two partners' AIS feeds would.
pub fn demo_scenario(start_unix_s: i64) -> Vec<DemoFeed> {
    let m = DEMO_MEETING_POINT;
    let tanker = StaticFields {
        mmsi: DEMO_TANKER_MMSI,
        imo: 8_814_881,
        callsign: "3EXY9".into(),
        shipname: "A LI".into(),
        shiptype: 80,
        length_m: 105,
        beam_m: 17,
        draught_m: 6.8,
        destination: "NINGBO".into(),
    };
    let dark = StaticFields {
        mmsi: DEMO_DPRK_MMSI,
        imo: 0,
        callsign: "HMRG7".into(),
        shipname: "RYONGGANG 7".into(),
        shiptype: 80,
        length_m: 98,
        beam_m: 15,
        draught_m: 4.2,
        destination: "NAMPO".into(),
    };
    let alongside = (m.0 + 0.0015, m.1 + 0.0005);
    let tanker_legs = [
        Leg {
            from_h: 0.0,
            to_h: 15.5,
            from: (m.0 - 1.6, m.1 - 1.2),
            to: m,
            transmitting: true,
        },
        Leg {
            from_h: 15.5,
            to_h: 19.5,
            from: m,
            to: (m.0 + 0.01, m.1 + 0.01),
            transmitting: true,
        },
        Leg {
            from_h: 19.5,
            to_h: 23.0,
            from: (m.0 + 0.01, m.1 + 0.01),
            to: (m.0 - 0.5, m.1 + 0.3),
            transmitting: true,
        },
    ];
    let dark_legs = [
        Leg {
            from_h: 0.0,
            to_h: 2.0,
            from: (33.2, 124.6),
            to: (32.87, 124.6),
            transmitting: true,
        },
        Leg {
            from_h: 2.0,
            to_h: 15.0,
            from: (32.87, 124.6),
            to: alongside,
            transmitting: false,
        },
        Leg {
            from_h: 15.0,
            to_h: 19.5,
            from: alongside,
            to: (alongside.0 + 0.01, alongside.1 + 0.01),
            transmitting: true,
        },
        Leg {
            from_h: 19.5,
            to_h: 23.0,
            from: (alongside.0 + 0.01, alongside.1 + 0.01),
            to: (32.0, 124.6),
            transmitting: true,
        },
    ];
    let mut msgs = Vec::new();
    vessel_messages(
        DEMO_TANKER_MMSI,
        &tanker,
        &tanker_legs,
        start_unix_s,
        180,
        &mut msgs,
    );
    vessel_messages(
        DEMO_DPRK_MMSI,
        &dark,
        &dark_legs,
        start_unix_s,
        180,
        &mut msgs,
    );
    // Fishing vessels working at 3 knots near the dark vessel's last fix
    // and near the meeting point (they give reception coverage).
    for (i, centre) in [(32.8, 124.7), (32.9, 124.55), (31.2, 124.6)]
        .iter()
        .enumerate()
    {
        let f = StaticFields {
            mmsi: 412_400_001 + i as u32,
            callsign: format!("BZ{i:03}"),
            shipname: format!("ZHE LING YU {}", 1001 + i),
            shiptype: 30,
            length_m: 40,
            beam_m: 8,
            draught_m: 3.0,
            ..StaticFields::default()
        };
        let legs: Vec<Leg> = (0..23)
            .map(|h| {
                let (a, b) = if h % 2 == 0 { (0.0, 0.05) } else { (0.05, 0.0) };
                Leg {
                    from_h: f64::from(h),
                    to_h: f64::from(h + 1),
                    from: (centre.0, centre.1 + a),
                    to: (centre.0, centre.1 + b),
                    transmitting: true,
                }
            })
            .collect();
        vessel_messages(f.mmsi, &f, &legs, start_unix_s, 300, &mut msgs);
    }
    msgs.sort_by_key(|(t, _)| *t);
    let mut feeds = vec![
        DemoFeed {
            partner: "JPN".into(),
            source: "JCG-SAT-1".into(),
            lines: Vec::new(),
        },
        DemoFeed {
            partner: "KOR".into(),
            source: "KCG-RX-2".into(),
            lines: Vec::new(),
        },
    ];
    for (i, (t, w)) in msgs.iter().enumerate() {
        // Japan hears two messages in three, Korea two in three, overlapping.
        for (f, feed) in feeds.iter_mut().enumerate() {
            if (i + f) % 3 != 2 {
                let channel = if i % 2 == 0 { 'A' } else { 'B' };
                feed.lines.extend(sentences(
                    w,
                    channel,
                    (i % 10) as u8,
                    Some(&feed.source),
                    Some(*t),
                ));
            }
        }
    }
    feeds
}

/// A realistic synthetic day: `n_vessels` vessels on straight routes across
/// the Yellow and East China Seas at 6–18 knots (a fifth of them class B),
/// a position every `step_s` seconds each and static data every 6 minutes,
/// time-ordered NMEA lines with tag blocks, with one corrupted sentence in
/// a thousand. The demo scenario's Japanese feed is merged in.
pub fn synthetic_day(seed: u64, n_vessels: u32, step_s: i64, start_unix_s: i64) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut msgs: Vec<(i64, crate::encode::BitWriter)> = Vec::new();
    for v in 0..n_vessels {
        let mid = [412u32, 413, 440, 441, 431, 432, 351, 352, 636, 538][rng.gen_range(0..10)];
        let mmsi = mid * 1_000_000 + 100_000 + v % 900_000;
        let (lat0, lon0) = (rng.gen_range(29.0..37.0), rng.gen_range(121.5..129.0));
        let course: f64 = rng.gen_range(0.0..360.0);
        let speed: f64 = rng.gen_range(6.0..18.0);
        let class_b = v % 5 == 4;
        let statics = StaticFields {
            mmsi,
            imo: if class_b {
                0
            } else {
                crate::identity::imo_with_check_digit(900_000 + v % 99_999)
            },
            callsign: format!("SY{v:05}"),
            shipname: format!("SYNTH {v}"),
            shiptype: [70u8, 80, 30, 60][(v % 4) as usize],
            length_m: 50 + (v % 200) as u16,
            beam_m: 10 + (v % 30) as u16,
            draught_m: 5.0,
            destination: "BUSAN".into(),
        };
        let phase = rng.gen_range(0..step_s.max(1));
        let mut t = phase;
        while t < 86_400 {
            let h = t as f64 / 3600.0;
            let d_nm = speed * h;
            let lat = lat0 + d_nm / 60.0 * course.to_radians().cos();
            let lon = lon0 + d_nm / 60.0 * course.to_radians().sin() / lat0.to_radians().cos();
            let p = PositionFields {
                mmsi,
                lat: Some(lat.clamp(-89.0, 89.0)),
                lon: Some(((lon + 180.0).rem_euclid(360.0)) - 180.0),
                speed_knots: Some(speed as f32),
                course_deg: Some(course as f32),
                heading_deg: Some(course as u16 % 360),
                status: 0,
                second: Some((t % 60) as u8),
                class_b,
            };
            msgs.push((start_unix_s + t, encode_position(&p)));
            if (t - phase) % 360 < step_s {
                msgs.push((start_unix_s + t, encode_static(&statics)));
            }
            t += step_s;
        }
    }
    msgs.sort_by_key(|(t, _)| *t);
    let mut lines = Vec::with_capacity(msgs.len() + msgs.len() / 4);
    for (i, (t, w)) in msgs.iter().enumerate() {
        for mut line in sentences(
            w,
            if i % 2 == 0 { 'A' } else { 'B' },
            (i % 10) as u8,
            Some("SYNTH-RX"),
            Some(*t),
        ) {
            if rng.gen_range(0..1000) == 0 {
                // Corrupt one payload character: the checksum must catch it.
                let at = line.len() - 8;
                let c = if line.as_bytes()[at] == b'0' {
                    "1"
                } else {
                    "0"
                };
                line.replace_range(at..at + 1, c);
            }
            lines.push(line);
        }
    }
    let demo = demo_scenario(start_unix_s);
    merge_by_time(lines, &demo[0].lines)
}

/// Merges two time-ordered line lists by their tag-block `c:` time (lines
/// without one keep their place after the previous timed line).
fn merge_by_time(a: Vec<String>, b: &[String]) -> Vec<String> {
    let time = |l: &str| -> i64 {
        l.find("c:")
            .and_then(|i| {
                l[i + 2..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(i64::MIN)
    };
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    let (mut ta, mut tb) = (i64::MIN, i64::MIN);
    while i < a.len() || j < b.len() {
        if i < a.len() {
            ta = ta.max(time(&a[i]));
        }
        if j < b.len() {
            tb = tb.max(time(&b[j]));
        }
        if j >= b.len() || (i < a.len() && ta <= tb) {
            out.push(a[i].clone());
            i += 1;
        } else {
            out.push(b[j].clone());
            j += 1;
        }
    }
    out
}
