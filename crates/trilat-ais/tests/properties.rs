//! No-panic, bounded-memory properties of the decoder on arbitrary input.

use proptest::prelude::*;
use trilat_ais::{gpsd::to_gpsd_json, Decoder};

fn with_checksum(body: &str) -> String {
    let x = body.as_bytes()[1..].iter().fold(0u8, |a, b| a ^ b);
    format!("{body}*{x:02X}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary bytes: never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 1..8)) {
        let mut decoder = Decoder::new();
        for line in &lines {
            if let Ok(Some(msg)) = decoder.decode_line(line) {
                let _ = to_gpsd_json(&msg, true);
                let _ = msg.position();
                let _ = msg.static_data();
            }
        }
        prop_assert_eq!(decoder.stats().lines, lines.len() as u64);
    }

    /// Well-formed sentences with arbitrary armoured payloads, fill bits and
    /// fragment numbers: every message type decodes or is rejected, never a
    /// panic, and every field renders.
    #[test]
    fn valid_sentences_any_payload(
        parts in proptest::collection::vec(("[0-9:;<=>?@A-W`a-w]{0,90}", 0u8..6, 1u8..4, 1u8..4, 0u8..10), 1..12)
    ) {
        let mut decoder = Decoder::new();
        for (payload, fill, total, number, seq) in &parts {
            let line = with_checksum(&format!("!AIVDM,{total},{number},{seq},A,{payload},{fill}"));
            if let Ok(Some(msg)) = decoder.decode_line(line.as_bytes()) {
                let json = to_gpsd_json(&msg, true);
                prop_assert!(json.contains_key("mmsi"));
                prop_assert!((1..=27).contains(&msg.msg_type()));
                if let Some(p) = msg.position() {
                    if let Some(lat) = p.lat { prop_assert!(lat.abs() <= 90.0); }
                    if let Some(lon) = p.lon { prop_assert!(lon.abs() <= 180.0); }
                    if let Some(h) = p.heading_deg { prop_assert!(h < 360); }
                }
            }
        }
    }
}

/// Memory stays bounded when first fragments never get their second.
#[test]
fn pending_groups_are_bounded() {
    let mut decoder = Decoder::new();
    for i in 0..10_000u32 {
        let line = with_checksum(&format!(
            "\\s:r{i}*00\\!AIVDM,2,1,{},A,55R3Vn82=ILTQ3KKS>1<D60Dq@E918U<F222221J1,0",
            i % 10
        ));
        // The tag-block checksum is wrong on purpose for half of them.
        let _ = decoder.decode_line(line.as_bytes());
        let line = with_checksum(&format!(
            "!AIVDM,2,1,{},A,55R3Vn82=ILTQ3KKS>1<D60Dq@E918U<F222221J1,0",
            i % 10
        ));
        let _ = decoder.decode_line(line.as_bytes());
    }
    let dbg = format!("{decoder:?}");
    // The pending table never exceeds PENDING_GROUPS_MAX entries.
    assert!(
        dbg.matches("Pending {").count() <= trilat_ais::decoder::PENDING_GROUPS_MAX,
        "{}",
        dbg.len()
    );
    assert!(decoder.stats().incomplete_groups > 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Own encoder → decoder gives the same fields (to the message's resolution).
    /// Expected tenths are rounded in f64, as the encoder does: f32 arithmetic
    /// turns 71.35f32 × 10 into exactly 713.5 and rounds the other way.
    #[test]
    fn encode_decode_round_trip(
        mmsi in 200_000_000u32..800_000_000,
        lat in proptest::option::of(-90.0f64..90.0),
        lon in proptest::option::of(-180.0f64..180.0),
        speed in proptest::option::of(0.0f32..102.0),
        course in proptest::option::of(0.0f32..359.9),
        heading in proptest::option::of(0u16..360),
        second in proptest::option::of(0u8..60),
        class_b: bool,
        name in "[A-Z0-9 ]{0,20}",
        imo in 1_000_000u32..9_999_999,
    ) {
        use trilat_ais::encode::*;
        let p = PositionFields { mmsi, lat, lon, speed_knots: speed, course_deg: course, heading_deg: heading, status: 5, second, class_b };
        let mut d = Decoder::new();
        let line = &sentences(&encode_position(&p), 'A', 0, None, None)[0];
        let msg = d.decode_line(line.as_bytes()).unwrap().unwrap();
        let got = msg.position().unwrap();
        prop_assert_eq!(msg.mmsi(), mmsi);
        prop_assert_eq!(msg.msg_type(), if class_b { 18 } else { 1 });
        prop_assert_eq!(got.lat.is_some(), lat.is_some());
        prop_assert_eq!(got.lon.is_some(), lon.is_some());
        if let (Some(a), Some(b)) = (got.lat, lat) { prop_assert!((a - b).abs() < 1e-6); }
        if let (Some(a), Some(b)) = (got.lon, lon) { prop_assert!((a - b).abs() < 1e-6); }
        prop_assert_eq!(got.speed_knots.map(|s| (s * 10.0).round() as i32), speed.map(|s| (f64::from(s) * 10.0).round() as i32));
        prop_assert_eq!(got.course_deg.map(|c| (c * 10.0).round() as i32), course.map(|c| (f64::from(c) * 10.0).round() as i32));
        prop_assert_eq!(got.heading_deg, heading);
        prop_assert_eq!(got.second, second);
        let s = StaticFields { mmsi, imo, shipname: name.clone(), callsign: "AB12".into(), ..StaticFields::default() };
        let lines = sentences(&encode_static(&s), 'B', 7, Some("RX"), Some(1_700_000_000));
        let mut out = None;
        for l in &lines {
            if let Some(m) = d.decode_line(l.as_bytes()).unwrap() { out = m.static_data(); }
        }
        let got = out.unwrap();
        prop_assert_eq!(got.imo, Some(imo));
        prop_assert_eq!(got.shipname.map(|n| n.as_str().to_string()).unwrap_or_default(), name.trim_end().to_string());
    }
}
