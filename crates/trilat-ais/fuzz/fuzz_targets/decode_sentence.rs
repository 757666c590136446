//! One line of arbitrary bytes through the NMEA line parser and the decoder.
//! No panic; when a single-sentence message decodes, its bit length matches
//! the payload (6 bits a character minus the fill bits, within the payload
//! bound), re-armouring its bits gives back the payload's whole characters,
//! and every typed view renders within range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trilat_ais::bits::PAYLOAD_CHARS_MAX;
use trilat_ais::nmea::{parse_line, Line};
use trilat_ais::Decoder;

/// The AIS six-bit armour, value → character.
fn armor_char(v: u32) -> u8 {
    assert!(v < 64);
    let c = v as u8 + 48;
    if c > 87 {
        c + 8
    } else {
        c
    }
}

fuzz_target!(|line: &[u8]| {
    let parsed = parse_line(line);
    let mut counter = Decoder::new();
    let completed = match counter.decode_line(line) {
        Ok(Some(_)) => true,
        Ok(None) => false,
        Err(e) => {
            assert_eq!(e.line, 1);
            assert!(e.offset <= line.len(), "offset {} past the line", e.offset);
            false
        }
    };
    let stats = counter.stats();
    assert_eq!(stats.lines, 1);
    assert_eq!(stats.messages, u64::from(completed));
    assert!(stats.errors <= 1);
    let mut decoder = Decoder::new();
    let decoded = decoder.decode_line(line);
    let Ok(Line::Ais(sentence)) = parsed else {
        assert!(
            !matches!(decoded, Ok(Some(_))),
            "a message from a non-AIS line"
        );
        return;
    };
    assert!(sentence.fill <= 5);
    assert!(sentence.number >= 1 && sentence.number <= sentence.total && sentence.total <= 9);
    let Ok(Some(msg)) = decoded else { return };
    assert_eq!(
        sentence.total, 1,
        "a lone line completed a multi-sentence group"
    );
    let bits = msg.bits();
    assert!(bits.len() <= PAYLOAD_CHARS_MAX * 6);
    assert_eq!(
        bits.len(),
        sentence.payload.len() * 6 - usize::from(sentence.fill)
    );
    // Round trip: the whole characters re-armour to the payload.
    for (k, &c) in sentence.payload.iter().enumerate().take(bits.len() / 6) {
        assert_eq!(armor_char(bits.u(k * 6, 6)), c, "payload character {k}");
    }
    assert!((1..=27).contains(&msg.msg_type()));
    if let Some(p) = msg.position() {
        if let Some((lat, lon)) = p.lat_lon() {
            assert!(lat.abs() <= 90.0 && lon.abs() <= 180.0);
        }
    }
    let _ = msg.static_data();
    let json = trilat_ais::gpsd::to_gpsd_json(&msg, true);
    assert!(json.contains_key("mmsi"));
});
