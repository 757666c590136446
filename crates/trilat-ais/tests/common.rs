//! Shared helpers: where the real data lives, and the field comparison.

use serde_json::{Map, Value};
use std::path::PathBuf;

/// `../shared/data` (or `$TRILAT_SHARED_DATA`), or `None` (the caller skips,
/// printing that it does).
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    let root = std::env::var_os("TRILAT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    let path = root.join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "SKIP: {} not found (set TRILAT_SHARED_DATA)",
            path.display()
        );
        None
    }
}

/// Why a field differs from the reference decoder, when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// Same value.
    Match,
    /// The reference prints a "not available" sentinel as a number or
    /// string; we omit it by design.
    Sentinel,
    /// The reference decodes a DAC/FID application payload (types 6, 8, 25,
    /// 26); we keep it as `data`.
    ApplicationPayload,
    /// gpsd merges type 24 part A's name into part B's line; we emit each
    /// part as received.
    Type24Merge,
    /// The reference fills a field the message does not carry with 0.
    AbsentZero,
    /// A documented convention of the reference differs from ITU-R M.1371
    /// or from gpsd (see `reference_convention`).
    ReferenceConvention,
    /// A field the message's end cuts short: we pad its missing low bits
    /// with zeros, the reference sometimes reads only the bits present.
    CutShort,
    /// Not explained: a bug on one side.
    Unexplained,
}

/// Keys that describe rather than carry data, or name the reference's own
/// device; not compared.
pub fn is_descriptive(key: &str) -> bool {
    key.ends_with("_text") || key.ends_with("_str") || matches!(key, "class" | "device" | "scaled")
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn bad_time(s: &str) -> bool {
    let parts: Vec<u32> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect();
    // [year,] month, day, hour, minute[, second]
    let (mo, d, h, mi, sec) = match parts.as_slice() {
        [y, mo, d, h, mi, s] => {
            if *y == 0 {
                return true;
            }
            (*mo, *d, *h, *mi, *s)
        }
        [mo, d, h, mi] => (*mo, *d, *h, *mi, 0),
        _ => return true,
    };
    mo == 0 || mo > 12 || d == 0 || h > 23 || mi > 59 || sec > 59
}

/// True when `theirs` is the "not available" (or invalid) value of `key`.
pub fn is_sentinel(msg_type: u64, key: &str, theirs: &Value, scaled: bool) -> bool {
    if theirs.is_null() {
        return true;
    }
    if let Value::String(s) = theirs {
        return match key {
            "turn" => s == "n/a",
            "timestamp" | "eta" => bad_time(s),
            "imo" => s.trim() == "0",
            _ => false,
        };
    }
    let Some(v) = num(theirs) else { return false };
    let coarse = matches!(msg_type, 17 | 22 | 23 | 27);
    let (lat_max, lon_max) = match (scaled, coarse) {
        (true, _) => (90.0, 180.0),
        (false, true) => (54_000.0, 108_000.0),
        (false, false) => (54_000_000.0, 108_000_000.0),
    };
    match key {
        "lat" | "ne_lat" | "sw_lat" => v.abs() > lat_max,
        "lon" | "ne_lon" | "sw_lon" => v.abs() > lon_max,
        "speed" if msg_type == 27 => v >= 63.0,
        "speed" if msg_type == 9 => v >= 1023.0,
        "speed" => v >= if scaled { 102.3 } else { 1023.0 },
        "course" if msg_type == 27 => v >= 360.0,
        "course" => v >= if scaled { 360.0 } else { 3600.0 },
        "heading" => v >= 360.0,
        "turn" => v == -128.0,
        "second" => v >= 60.0,
        "imo" | "draught" => v == 0.0,
        "alt" => v >= 4095.0,
        _ => false,
    }
}

/// Compares one reference object with ours, key by key over the
/// reference's keys; returns one verdict per compared key.
pub fn compare(theirs: &Map<String, Value>, ours: &Map<String, Value>) -> Vec<(String, Verdict)> {
    let msg_type = theirs.get("type").and_then(Value::as_u64).unwrap_or(0);
    let scaled = theirs
        .get("scaled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let mut out = Vec::new();
    for (key, their_value) in theirs {
        if is_descriptive(key) {
            continue;
        }
        let verdict = match ours.get(key) {
            Some(our_value) if same(msg_type, key, our_value, their_value) => Verdict::Match,
            Some(_) | None
                if is_sentinel(msg_type, key, their_value, scaled) && ours.get(key).is_none() =>
            {
                Verdict::Sentinel
            }
            _ if matches!(msg_type, 6 | 8 | 25 | 26) && !theirs.contains_key("data") => {
                Verdict::ApplicationPayload
            }
            Some(our_value) if cut_short(our_value, their_value) => Verdict::CutShort,
            Some(our_value) if reference_convention(msg_type, key, our_value, their_value) => {
                Verdict::ReferenceConvention
            }
            None if msg_type == 24 => Verdict::Type24Merge,
            None if num(their_value) == Some(0.0) => Verdict::AbsentZero,
            _ => Verdict::Unexplained,
        };
        out.push((key.clone(), verdict));
    }
    out
}

fn cut_short(ours: &Value, theirs: &Value) -> bool {
    let (Some(a), Some(b)) = (ours.as_u64(), theirs.as_u64()) else {
        return false;
    };
    a != b && (1..31).any(|k| a == b << k || b == a << k)
}

/// Known conventions of the reference decoders, each checked narrowly:
/// - gpsd prints 0 for type 26's radio status, which it does not decode;
/// - libais inverts type 27's GNSS flag (ITU: 0 = current GNSS position);
/// - libais divides type 9's speed by 10 (ITU: 1-knot steps for SAR aircraft);
/// - libais's six-bit table has `-` for `_` and `` ` `` for `'`.
fn reference_convention(msg_type: u64, key: &str, ours: &Value, theirs: &Value) -> bool {
    match (msg_type, key) {
        (26, "radio") => theirs.as_u64() == Some(0),
        (27, "gnss") => ours.as_bool().is_some() && ours.as_bool() == theirs.as_bool().map(|b| !b),
        (9, "speed") => match (num(ours), num(theirs)) {
            (Some(a), Some(b)) => (a / 10.0 - b).abs() < 1e-4,
            _ => false,
        },
        (_, "name" | "shipname" | "destination" | "callsign" | "text") => {
            match (ours.as_str(), theirs.as_str()) {
                (Some(a), Some(b)) => a.replace('_', "-").replace('\'', "`") == b,
                _ => false,
            }
        }
        _ => false,
    }
}

/// gpsd's `"<bits>:<hex>"`: it does not mask the pad bits of the last byte.
fn same_data(ours: &str, theirs: &str) -> bool {
    let (Some((n_a, hex_a)), Some((n_b, hex_b))) = (ours.split_once(':'), theirs.split_once(':'))
    else {
        return false;
    };
    let (Ok(n), Ok(hex_a), Ok(hex_b)) =
        (n_a.parse::<usize>(), hex_decode(hex_a), hex_decode(hex_b))
    else {
        return false;
    };
    if n_a != n_b || hex_a.len() != hex_b.len() || hex_a.len() != n.div_ceil(8) {
        return false;
    }
    let mask = if n % 8 == 0 {
        0xFF
    } else {
        0xFFu8 << (8 - n % 8)
    };
    let last = hex_a.len().saturating_sub(1);
    hex_a.iter().zip(&hex_b).enumerate().all(|(i, (a, b))| {
        if i == last {
            a & mask == b & mask
        } else {
            a == b
        }
    })
}

fn hex_decode(s: &str) -> Result<Vec<u8>, std::num::ParseIntError> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
        .collect()
}

fn same(msg_type: u64, key: &str, ours: &Value, theirs: &Value) -> bool {
    if ours == theirs {
        return true;
    }
    if key == "data" {
        return same_data(ours.as_str().unwrap_or(""), theirs.as_str().unwrap_or(""));
    }
    // The precision the reference prints: gpsd, type 17 to 0.1°, types 22,
    // 23, 27 to 0.0001°; turn to 0.01.
    let printed = match (msg_type, key) {
        (17, "lat" | "lon") => Some(0.05),
        (22 | 23 | 27, _) => Some(5e-5),
        (_, "turn") => Some(0.005),
        _ => None,
    };
    if let (Some(tol), Some(a), Some(b)) = (printed, num(ours), num(theirs)) {
        return (a - b).abs() <= tol + 1e-9;
    }
    match (num(ours), num(theirs)) {
        // libais prints float32; gpsd rounds lat/lon to 7 decimals.
        (Some(a), Some(b)) => (a - b).abs() <= 1e-6_f64.max(b.abs() * 2e-7),
        _ => match (ours, theirs) {
            (Value::String(a), Value::String(b)) => a.trim_end() == b.trim_end(),
            _ => false,
        },
    }
}

/// Tally of verdicts over a whole file, printed by the test.
#[derive(Default, Debug)]
pub struct Tally {
    /// Verdict counts.
    pub counts: std::collections::BTreeMap<Verdict, usize>,
    /// The unexplained differences, for the failure message.
    pub unexplained: Vec<String>,
    /// Reference messages matched to one of ours.
    pub messages_matched: usize,
    /// Reference messages with no counterpart among ours.
    pub messages_unmatched: Vec<String>,
}

impl Tally {
    /// Adds one compared pair.
    pub fn add(&mut self, theirs: &Map<String, Value>, ours: &Map<String, Value>) {
        self.messages_matched += 1;
        for (key, verdict) in compare(theirs, ours) {
            *self.counts.entry(verdict).or_default() += 1;
            if verdict == Verdict::Unexplained {
                self.unexplained.push(format!(
                    "type {} mmsi {} key {key}: ours {:?}, theirs {:?}",
                    theirs["type"],
                    theirs["mmsi"],
                    ours.get(&key),
                    theirs[&key]
                ));
            }
        }
    }
}

/// Aligns our messages with the reference's, in order: each reference
/// message is matched with the next of ours of the same type and MMSI
/// (within a small window, since either side may skip a bad message).
pub fn align_and_compare(ours: &[Map<String, Value>], theirs: &[Map<String, Value>]) -> Tally {
    let mut tally = Tally::default();
    let mut at = 0;
    for t in theirs {
        let key = (t.get("type").cloned(), t.get("mmsi").cloned());
        let window = ours.iter().enumerate().skip(at).take(6);
        let found = window
            .into_iter()
            .find(|(_, o)| (o.get("type").cloned(), o.get("mmsi").cloned()) == key);
        match found {
            Some((i, o)) => {
                tally.add(t, o);
                at = i + 1;
            }
            None => tally
                .messages_unmatched
                .push(format!("type {:?} mmsi {:?}", key.0, key.1)),
        }
    }
    tally
}
