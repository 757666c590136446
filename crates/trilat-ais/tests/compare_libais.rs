//! Decode libais's examples and compare with libais's JSON on the keys both
//! decoders name alike; tag blocks compared too.

use crate::common::{align_and_compare, shared_data};
use serde_json::{Map, Value};
use trilat_ais::{gpsd::to_gpsd_json, Decoder};

fn objects(text: &str) -> Vec<Map<String, Value>> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Map<String, Value>>(l).ok())
        .collect()
}

#[test]
fn libais_type_examples() {
    let (Some(nmea), Some(json)) = (
        shared_data("ais/libais/typeexamples.nmea"),
        shared_data("ais/libais/typeexamples.json"),
    ) else {
        return;
    };
    let nmea = std::fs::read_to_string(nmea).unwrap();
    let theirs_all = objects(&std::fs::read_to_string(json).unwrap());
    let mut decoder = Decoder::new();
    let mut ours = Vec::new();
    for line in nmea.lines() {
        if let Ok(Some(msg)) = decoder.decode_line(line.as_bytes()) {
            ours.push(to_gpsd_json(&msg, true));
        }
    }
    // Compare only the keys both decoders use (libais names some fields its
    // own way: slot_timeout, part_num, spare …).
    let theirs: Vec<Map<String, Value>> = theirs_all
        .iter()
        .zip(ours.iter().chain(std::iter::repeat(&Map::new())))
        .map(|(t, o)| {
            t.iter()
                .filter(|(k, _)| {
                    matches!(k.as_str(), "type" | "mmsi" | "class" | "scaled")
                        || o.contains_key(*k)
                        || is_ours(k)
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .collect();
    let tally = align_and_compare(&ours, &theirs);
    eprintln!(
        "{} libais messages, {} matched; {:?}",
        theirs.len(),
        tally.messages_matched,
        tally.counts
    );
    assert!(
        tally.unexplained.is_empty(),
        "unexplained:\n{}",
        tally.unexplained.join("\n")
    );
    assert!(
        tally.messages_matched + 1 >= theirs.len(),
        "unmatched {:?}",
        tally.messages_unmatched
    );
}

/// Keys we emit for some type, so a key libais has and we lack is compared
/// (and must be explained) rather than skipped as a naming difference.
fn is_ours(key: &str) -> bool {
    matches!(
        key,
        "lat"
            | "lon"
            | "speed"
            | "course"
            | "heading"
            | "shipname"
            | "callsign"
            | "imo"
            | "destination"
            | "draught"
            | "shiptype"
            | "status"
            | "second"
            | "turn"
            | "timestamp"
    )
}

#[test]
fn libais_tag_blocks() {
    let (Some(nmea), Some(json)) = (
        shared_data("ais/libais/tagblock.nmea"),
        shared_data("ais/libais/tagblock.json"),
    ) else {
        return;
    };
    let nmea = std::fs::read_to_string(nmea).unwrap();
    let theirs = objects(&std::fs::read_to_string(json).unwrap());
    let mut decoder = Decoder::new();
    let mut ours = Vec::new();
    for line in nmea.lines() {
        if let Ok(Some(msg)) = decoder.decode_line(line.as_bytes()) {
            let meta = msg.meta();
            ours.push((
                msg.mmsi(),
                meta.source.as_str().to_string(),
                meta.time_unix_ms,
            ));
        }
    }
    assert_eq!(ours.len(), theirs.len(), "{ours:?}");
    for ((mmsi, source, time_ms), t) in ours.iter().zip(&theirs) {
        assert_eq!(Some(u64::from(*mmsi)), t["mmsi"].as_u64());
        assert_eq!(Some(source.as_str()), t["tagblock_station"].as_str());
        // libais: "2014-12-10T00:41:53.000000Z"; compare by Unix seconds.
        let stamp = t["tagblock_timestamp"].as_str().unwrap();
        assert_eq!(
            time_ms.map(|ms| unix_to_iso(ms / 1000)),
            Some(stamp[..19].to_string())
        );
    }
}

/// Civil date-time from Unix seconds (days-from-civil inverse), for the test.
fn unix_to_iso(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
