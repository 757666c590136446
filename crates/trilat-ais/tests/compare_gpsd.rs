//! Decode gpsd's own test files and compare with gpsd's expected JSON, field
//! by field; every difference must fall in an explained category.

use crate::common::{align_and_compare, shared_data, Tally};
use serde_json::{Map, Value};
use trilat_ais::{gpsd::to_gpsd_json, Decoder};

fn decode_file(text: &str, scaled: bool) -> (Vec<Map<String, Value>>, trilat_ais::DecodeStats) {
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Ok(Some(msg)) = decoder.decode_line(line.as_bytes()) {
            out.push(to_gpsd_json(&msg, scaled));
        }
    }
    (out, decoder.stats().clone())
}

/// gpsd's AIS JSON objects from a `.chk` file, consecutive repeats removed
/// (the daemon logs print some lines twice).
fn expected(text: &str) -> Vec<Map<String, Value>> {
    let mut out: Vec<Map<String, Value>> = Vec::new();
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if obj.get("class").and_then(Value::as_str) != Some("AIS") {
            continue;
        }
        if out.last() != Some(&obj) {
            out.push(obj);
        }
    }
    out
}

#[track_caller]
fn check(input: &str, chk: &str, scaled: bool, matched_min_percent: usize) -> Option<Tally> {
    let (Some(input), Some(chk)) = (shared_data(input), shared_data(chk)) else {
        return None;
    };
    let input = std::fs::read_to_string(input).unwrap();
    let chk = std::fs::read_to_string(chk).unwrap();
    let (ours, stats) = decode_file(&input, scaled);
    let theirs = expected(&chk);
    let tally = align_and_compare(&ours, &theirs);
    eprintln!(
        "{chk_len} reference messages, {} matched, {} ours; {:?}; stats {stats:?}; unmatched {:?}",
        tally.messages_matched,
        ours.len(),
        tally.counts,
        tally.messages_unmatched,
        chk_len = theirs.len()
    );
    assert!(
        tally.unexplained.is_empty(),
        "unexplained differences:\n{}",
        tally.unexplained.join("\n")
    );
    assert!(
        tally.messages_matched * 100 >= theirs.len() * matched_min_percent,
        "only {} of {} reference messages matched",
        tally.messages_matched,
        theirs.len()
    );
    Some(tally)
}

#[test]
fn gpsd_sample_scaled() {
    check(
        "ais/gpsd/sample.aivdm",
        "ais/gpsd/sample.aivdm.js.chk",
        true,
        95,
    );
}

#[test]
fn gpsd_sample_unscaled() {
    check(
        "ais/gpsd/sample.aivdm",
        "ais/gpsd/sample.aivdm.ju.chk",
        false,
        95,
    );
}

#[test]
fn gpsd_daemon_log_nmea_mix() {
    check(
        "ais/gpsd/ais-nmea.log",
        "ais/gpsd/ais-nmea.log.chk",
        false,
        95,
    );
}

#[test]
fn gpsd_daemon_log_types_18_27() {
    check(
        "ais/gpsd/ais-18-27.log",
        "ais/gpsd/ais-18-27.log.chk",
        false,
        95,
    );
}

#[test]
fn gpsd_daemon_log_raw() {
    check(
        "ais/gpsd/ais-raw-messages.log",
        "ais/gpsd/ais-raw-messages.log.chk",
        false,
        95,
    );
}
