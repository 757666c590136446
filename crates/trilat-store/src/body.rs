//! The stored JSON of a report (`report_version.body`), written directly.
//!
//! Written by hand because the body is encoded once per stored report and
//! serde's per-field machinery dominated that cost (figures in
//! `docs/bench/store.md`): every key escaped, the signature and the id
//! formatted through `collect_str`'s escaping adapter, the output `Vec`
//! grown three times per report. [`write_body`] writes the same bytes as
//! `serde_json::to_vec(report)` (a property test checks equality, so every
//! body still decodes with serde) into a buffer the batch reuses: keys and
//! the fixed-alphabet fields (id, timestamps, signature, booleans, counter)
//! are written as they are, strings that may need escaping (the marking's,
//! party codes, kinds) go through a scan that copies clean strings whole,
//! and the JSON values (geometry, payload) and the marking's two enums
//! still go through serde.

use std::fmt::Write as _;

use trilat_core::{Marking, Report};

/// Appends the JSON of `report` to `out`, byte for byte what
/// `serde_json::to_vec(report)` writes.
pub(crate) fn write_body(out: &mut Vec<u8>, report: &Report) -> Result<(), serde_json::Error> {
    let start = out.len();
    out.extend_from_slice(b"{\"id\":\"");
    out.extend_from_slice(id_text(&report.id).as_bytes());
    out.extend_from_slice(b"\",\"owner\":");
    string(out, report.owner.as_str());
    out.extend_from_slice(b",\"kind\":");
    string(out, report.kind.as_str());
    out.extend_from_slice(b",\"version\":");
    decimal(out, report.version);
    out.extend_from_slice(b",\"modified\":");
    serde_json::to_writer(&mut *out, &report.modified)?;
    out.extend_from_slice(b",\"created_at\":");
    serde_json::to_writer(&mut *out, &report.created_at)?;
    out.extend_from_slice(b",\"observed_at\":");
    serde_json::to_writer(&mut *out, &report.observed_at)?;
    if let Some(geometry) = &report.geometry {
        out.extend_from_slice(b",\"geometry\":");
        serde_json::to_writer(&mut *out, geometry)?;
    }
    out.extend_from_slice(b",\"marking\":");
    marking(out, &report.marking)?;
    out.extend_from_slice(b",\"exercise\":");
    boolean(out, report.exercise);
    out.extend_from_slice(b",\"payload\":");
    serde_json::to_writer(&mut *out, &report.payload)?;
    out.extend_from_slice(b",\"revoked\":");
    boolean(out, report.revoked);
    out.extend_from_slice(b",\"signature\":\"");
    let mut signature = StackText::<88>::new();
    write!(signature, "{}", report.signature).expect("base64 of 64 bytes is 88 characters");
    out.extend_from_slice(signature.as_bytes());
    out.extend_from_slice(b"\"}");
    debug_assert_eq!(
        out[start..],
        serde_json::to_vec(report).expect("a report encodes")[..]
    );
    Ok(())
}

/// A marking as serde writes it: fields in declaration order, the two
/// enums through serde (their names are core's), the strings directly.
fn marking(out: &mut Vec<u8>, marking: &Marking) -> Result<(), serde_json::Error> {
    out.extend_from_slice(b"{\"level\":");
    string(out, &marking.level);
    out.extend_from_slice(b",\"tlp\":");
    serde_json::to_writer(&mut *out, &marking.tlp)?;
    out.extend_from_slice(b",\"rel_to\":[");
    for (party_idx, party) in marking.rel_to.iter().enumerate() {
        if party_idx > 0 {
            out.push(b',');
        }
        string(out, party);
    }
    out.extend_from_slice(b"],\"further_sharing\":");
    serde_json::to_writer(&mut *out, &marking.further_sharing)?;
    out.push(b'}');
    Ok(())
}

/// A JSON string: copied whole when nothing in it needs escaping (party
/// codes and kinds never do), escaped by serde_json otherwise.
fn string(out: &mut Vec<u8>, text: &str) {
    let clean = text
        .bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b != 0x7f);
    if clean {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, text).expect("writing to a Vec cannot fail");
    }
}

fn boolean(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

fn decimal(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut n_digits = 0;
    let mut rest = value;
    loop {
        digits[digits.len() - 1 - n_digits] = b'0' + (rest % 10) as u8;
        n_digits += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[digits.len() - n_digits..]);
}

/// A report id's hyphenated text on the stack (it is written several times
/// per stored report; a `String` each time showed in the profile).
pub(crate) fn id_text(id: &trilat_core::ReportId) -> StackText<36> {
    let mut text = StackText::new();
    write!(text, "{id}").expect("a UUID's text is 36 bytes");
    text
}

/// Short text on the stack, up to `N` bytes (a report id's 36 characters,
/// a signature's 88 base64 characters); writing more is a `fmt::Error`.
pub(crate) struct StackText<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackText<N> {
    fn new() -> StackText<N> {
        StackText {
            buf: [0; N],
            len: 0,
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> std::fmt::Write for StackText<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use trilat_core::{Kind, NodeKey, Party, ReportDraft, Timestamp, Tlp};

    fn report(
        text: &str,
        level: &str,
        rel_to: &[String],
        geometry: bool,
        version: u64,
        flags: (bool, bool),
    ) -> Report {
        let now = Timestamp::from_unix_ms(1_795_824_000_123);
        let mut draft = ReportDraft::new(
            Party::new("JPN-JCG").unwrap(),
            Kind::new("maritime.incident").unwrap(),
            Marking::new(level, Tlp::AmberStrict, rel_to.iter().cloned()),
            serde_json::json!({"text": text, "n": version, "nested": {"k\"ey": [1.5, null, true]}}),
            now,
        );
        if geometry {
            draft.geometry =
                Some(serde_json::json!({"type": "Point", "coordinates": [124.01, -37.5]}));
        }
        let mut report = draft.sign(&NodeKey::from_seed([3; 32])).unwrap();
        report.version = version;
        (report.exercise, report.revoked) = flags;
        report
    }

    proptest! {
        #[test]
        fn equals_serde(
            text in any::<String>(),
            level in "\\PC{0,12}|[\\x00-\\x7f]{0,8}",
            rel_to in proptest::collection::vec("\\PC{0,6}", 0..4),
            geometry in any::<bool>(),
            version in any::<u64>(),
            flags in any::<(bool, bool)>(),
            times_ms in any::<(i64, i64)>(),
        ) {
            let mut report = report(&text, &level, &rel_to, geometry, version, flags);
            // Any instant core can hold (it clamps to years 0000–9999).
            report.modified = Timestamp::from_unix_ms(times_ms.0);
            report.created_at = Timestamp::from_unix_ms(times_ms.1);
            report.observed_at = Timestamp::from_unix_ms(times_ms.0 / 7);
            let mut out = b"prefix".to_vec();
            write_body(&mut out, &report).unwrap();
            prop_assert_eq!(
                String::from_utf8(out[6..].to_vec()).unwrap(),
                serde_json::to_string(&report).unwrap()
            );
        }
    }

    #[test]
    fn strings_that_need_escaping_are_escaped() {
        for text in [
            "plain",
            "quote \" here",
            "back\\slash",
            "tab\t",
            "\u{7f}del",
            "日本",
        ] {
            let mut out = Vec::new();
            string(&mut out, text);
            assert_eq!(out, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
        for value in [0, 9, 10, 1_000, u64::MAX] {
            let mut out = Vec::new();
            decimal(&mut out, value);
            assert_eq!(out, value.to_string().into_bytes());
        }
    }
}
