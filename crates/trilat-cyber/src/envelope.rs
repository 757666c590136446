//! The bundle envelope split into its objects' texts, by a byte scanner.
//!
//! Why not serde: reading the envelope with serde_json (`Vec<&RawValue>`)
//! validates every byte of every object only to hand the object's text to a
//! second, typed parse that validates it again, and that first pass runs on
//! one core before the objects can be parsed on all of them (its measured
//! share is in `docs/bench/cyber.md`). This scanner only finds
//! where each object starts and ends (strings skipped with `memchr`), and
//! checks the envelope's own grammar (braces, colons, commas, whitespace).
//!
//! The whole text is still checked as JSON, by composition: the scanner
//! checks the structure between the pieces, serde checks each piece (the
//! envelope's `type`, `id` and other values here; each object in its typed
//! parse, see [`crate::bundle::parse_bundle`], which turns an object that is
//! not JSON at all into an error for the whole bundle). A test compares
//! this scanner with serde's reading on random and mutated bundles.

use serde::de::IgnoredAny;

use crate::bundle::BUNDLE_OBJECTS_MAX;
use crate::error::{Error, ErrorKind};

/// The bundle's envelope and its objects' texts.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Envelope<'a> {
    /// The envelope's `type`.
    pub type_name: String,
    /// The envelope's `id`.
    pub id: String,
    /// Each element of `objects`, exactly as written (no surrounding space),
    /// with its byte offset in the bundle. Not yet checked as JSON.
    pub objects: Vec<(usize, &'a str)>,
}

/// Splits a bundle's text; see the module documentation for what is checked
/// here and what is left to the objects' parse.
pub(crate) fn split(text: &str) -> Result<Envelope<'_>, Error> {
    let bytes = text.as_bytes();
    let mut type_name = None;
    let mut id = None;
    let mut objects = None;
    let mut pos = expect(bytes, skip_space(bytes, 0), b'{', "'{' opening the bundle")?;
    pos = skip_space(bytes, pos);
    if bytes.get(pos) == Some(&b'}') {
        pos += 1;
    } else {
        // Bounded: every round consumes at least one key.
        for _ in 0..=bytes.len() {
            let key_end = skip_string(bytes, pos).ok_or_else(|| syntax(pos, "a property name"))?;
            let key: String = serde_json::from_str(&text[pos..key_end])
                .map_err(|e| syntax(pos, &format!("a property name ({e})")))?;
            pos = expect(bytes, skip_space(bytes, key_end), b':', "':'")?;
            pos = skip_space(bytes, pos);
            let value_start = pos;
            match key.as_str() {
                "objects" => {
                    if objects.is_some() {
                        return Err(duplicate("objects"));
                    }
                    let (elements, end) = split_array(text, pos)?;
                    objects = Some(elements);
                    pos = end;
                }
                _ => {
                    let end = skip_value(bytes, pos)
                        .filter(|&end| end > pos)
                        .ok_or_else(|| syntax(pos, "a value"))?;
                    let value = text[value_start..end].trim_end_matches(is_space);
                    pos = end;
                    let string = |name: &str| -> Result<String, Error> {
                        serde_json::from_str(value)
                            .map_err(|e| json_at(value_start, &format!("property {name}: {e}")))
                    };
                    match key.as_str() {
                        "type" if type_name.is_some() => return Err(duplicate("type")),
                        "type" => type_name = Some(string("type")?),
                        "id" if id.is_some() => return Err(duplicate("id")),
                        "id" => id = Some(string("id")?),
                        _ => {
                            serde_json::from_str::<IgnoredAny>(value)
                                .map_err(|e| json_at(value_start, &e.to_string()))?;
                        }
                    }
                }
            }
            pos = skip_space(bytes, pos);
            match bytes.get(pos) {
                Some(b',') => pos = skip_space(bytes, pos + 1),
                Some(b'}') => {
                    pos += 1;
                    break;
                }
                _ => return Err(syntax(pos, "',' or '}' after a property")),
            }
        }
    }
    pos = skip_space(bytes, pos);
    if pos != bytes.len() {
        return Err(syntax(pos, "the end of the text after the bundle"));
    }
    Ok(Envelope {
        type_name: type_name.ok_or_else(|| missing("type"))?,
        id: id.ok_or_else(|| missing("id"))?,
        objects: objects.unwrap_or_default(),
    })
}

/// The elements of the array starting at `pos`, and the index after it.
#[allow(clippy::type_complexity)]
fn split_array(text: &str, pos: usize) -> Result<(Vec<(usize, &str)>, usize), Error> {
    let bytes = text.as_bytes();
    let mut pos = expect(bytes, pos, b'[', "'[' opening objects (a list)")?;
    let mut elements = Vec::new();
    pos = skip_space(bytes, pos);
    if bytes.get(pos) == Some(&b']') {
        return Ok((elements, pos + 1));
    }
    // Bounded: every round consumes at least one element.
    for _ in 0..=bytes.len() {
        let end = skip_value(bytes, pos)
            .filter(|&end| end > pos)
            .ok_or_else(|| syntax(pos, "an object"))?;
        if elements.len() == BUNDLE_OBJECTS_MAX {
            return Err(Error::bare(ErrorKind::TooLarge(format!(
                "more than {BUNDLE_OBJECTS_MAX} objects"
            ))));
        }
        elements.push((pos, text[pos..end].trim_end_matches(is_space)));
        pos = skip_space(bytes, end);
        match bytes.get(pos) {
            Some(b',') => pos = skip_space(bytes, pos + 1),
            Some(b']') => return Ok((elements, pos + 1)),
            _ => return Err(syntax(pos, "',' or ']' after an object")),
        }
    }
    Err(syntax(pos, "']' closing objects"))
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn skip_space(bytes: &[u8], mut pos: usize) -> usize {
    while matches!(bytes.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        pos += 1;
    }
    pos
}

fn expect(bytes: &[u8], pos: usize, byte: u8, what: &str) -> Result<usize, Error> {
    if bytes.get(pos) == Some(&byte) {
        Ok(pos + 1)
    } else {
        Err(syntax(pos, what))
    }
}

/// The index after the string whose opening quote is at `pos`.
fn skip_string(bytes: &[u8], pos: usize) -> Option<usize> {
    if bytes.get(pos) != Some(&b'"') {
        return None;
    }
    let mut pos = pos + 1;
    loop {
        pos += memchr::memchr2(b'"', b'\\', bytes.get(pos..)?)?;
        if bytes[pos] == b'"' {
            return Some(pos + 1);
        }
        // An escape: the next byte is escaped (a `\u` escape's hex digits
        // hold no quote or backslash).
        pos += 2;
    }
}

/// The index after the JSON value starting at `pos` (a string, an object or
/// an array by its brackets, a scalar up to the next delimiter). Only finds
/// the end: the value itself is checked by serde afterwards. `None` when
/// the text ends first.
fn skip_value(bytes: &[u8], pos: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut pos = pos;
    loop {
        match *bytes.get(pos)? {
            b'"' => {
                pos = skip_string(bytes, pos)?;
                if depth == 0 {
                    return Some(pos);
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return Some(pos);
                }
                depth -= 1;
                if depth == 0 {
                    return Some(pos + 1);
                }
            }
            b',' if depth == 0 => return Some(pos),
            _ => {}
        }
        pos += 1;
    }
}

fn syntax(pos: usize, expected: &str) -> Error {
    json_at(pos, &format!("expected {expected}"))
}

fn json_at(pos: usize, what: &str) -> Error {
    Error::bare(ErrorKind::Json(format!("at byte {pos}: {what}")))
}

fn duplicate(name: &str) -> Error {
    Error::bare(ErrorKind::Json(format!(
        "duplicate property `{name}` in the bundle"
    )))
}

fn missing(name: &str) -> Error {
    Error::bare(ErrorKind::MissingProperty(name.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::value::RawValue;

    /// serde's reading of the envelope: the oracle.
    #[derive(serde::Deserialize)]
    struct RawBundle<'a> {
        #[serde(rename = "type")]
        type_name: String,
        id: String,
        #[serde(borrow, default)]
        objects: Vec<&'a RawValue>,
    }

    /// The scanner plus the check that each object is JSON, as
    /// `parse_bundle` does it, against serde reading the whole text.
    fn check_against_serde(text: &str) {
        let by_serde = serde_json::from_str::<RawBundle<'_>>(text);
        let by_scan = split(text).and_then(|envelope| {
            for (offset, object) in &envelope.objects {
                serde_json::from_str::<IgnoredAny>(object)
                    .map_err(|e| json_at(*offset, &e.to_string()))?;
            }
            Ok(envelope)
        });
        match (by_serde, by_scan) {
            (Ok(serde), Ok(scan)) => {
                assert_eq!(serde.type_name, scan.type_name, "{text}");
                assert_eq!(serde.id, scan.id, "{text}");
                let serde_objects: Vec<&str> = serde.objects.iter().map(|o| o.get()).collect();
                let scan_objects: Vec<&str> = scan.objects.iter().map(|(_, o)| *o).collect();
                assert_eq!(serde_objects, scan_objects, "{text}");
                for (offset, object) in &scan.objects {
                    assert_eq!(&text[*offset..*offset + object.len()], *object);
                }
            }
            (Err(_), Err(_)) => {}
            (serde, scan) => panic!(
                "serde {:?} but the scanner {:?} on {text:?}",
                serde.err(),
                scan.err()
            ),
        }
    }

    #[test]
    fn examples_agree_with_serde() {
        for text in [
            r#"{"type":"bundle","id":"bundle--1","objects":[{"a":1},{"b":[1,{"c":"}]"}]}]}"#,
            r#" { "objects" : [ {"a" : "x\"y\\"} , 7 , "s" , [ ] , null ] , "id" : "i" , "type" : "t" } "#,
            r#"{"type":"bundle","id":"bundle--1"}"#,
            r#"{"type":"bundle","id":"bundle--1","objects":[],"spec_version":"2.0","x":{"y":[1,2]}}"#,
            r#"{"t\u0079pe":"bundle","id":"bundle--\u0031","objects":[]}"#,
            // Each of these is refused by both.
            r#"{"type":"bundle","id":"bundle--1","objects":[{"a":1},]}"#,
            r#"{"type":"bundle","id":"bundle--1","objects":[{"a":1}}]}"#,
            r#"{"type":"bundle","id":"bundle--1","objects":[{"a":1]]}"#,
            r#"{"type":"bundle","id":"bundle--1","objects":[{"a":}]}"#,
            r#"{"type":"bundle","id":"bundle--1","objects":[{"a":1}]} x"#,
            r#"{"type":"bundle","id":"bundle--1","objects":[{"a":1}]"#,
            r#"{"type":"bundle","id":"bundle--1","objects":{}}"#,
            r#"{"type":"bundle","id":"bundle--1","objects":null}"#,
            r#"{"type":"bundle","type":"bundle","id":"bundle--1"}"#,
            r#"{"type":"bundle","id":"bundle--1","objects":[],"objects":[]}"#,
            r#"{"type":5,"id":"bundle--1"}"#,
            r#"{"id":"bundle--1"}"#,
            r#"{"type":"bundle","id":"bundle--1","x":tru}"#,
            r#"{"type":"bundle","id":"bundle--1","objects":[{"a":"\x"}]}"#,
            r#"{"type":"bundle","id":"bundle--1","objects":[,]}"#,
            r#"{"type":"bundle","id":"bundle--1",}"#,
            r#"{"type":"bundle" "id":"bundle--1"}"#,
            "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[\"a\u{1}\"]}",
            "",
            "{",
            "[]",
            r#"{"type":"bundle","id":"bundle--1","objects":[{"a":"unterminated}]}"#,
        ] {
            check_against_serde(text);
        }
    }

    #[test]
    fn object_offsets_and_errors_say_where() {
        let text = r#"{"type":"bundle","id":"b","objects":[ {"a":1} ,{"b":2}]}"#;
        let envelope = split(text).unwrap();
        assert_eq!(
            envelope.objects,
            vec![(38, r#"{"a":1}"#), (47, r#"{"b":2}"#)]
        );
        let err = split(r#"{"type":"bundle","id":"b","objects":[{"a":1} {"b":2}]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "input: malformed JSON: at byte 45: expected ',' or ']' after an object"
        );
    }

    /// Pieces that random bundles are built from and mutated with.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\\",
            " ",
            "\n",
            "1",
            "-",
            "e",
            "null",
            "true",
            "\"type\"",
            "\"id\"",
            "\"objects\"",
            "\"bundle\"",
            "\"a\\\"b\"",
            "\"\\u0041\"",
            "{\"k\":[1,\"]\"]}",
            "\u{e9}",
        ])
    }

    fn bundle() -> impl Strategy<Value = String> {
        let value = prop::sample::select(vec![
            "{\"type\":\"x\",\"id\":\"x--1\"}",
            "{\"a\":[1,2,{\"b\":\"}\\\"]\"}],\"c\":null}",
            "[]",
            "\"s\"",
            "12.5e3",
            "{}",
        ]);
        (prop::collection::vec(value, 0..5), any::<bool>()).prop_map(|(objects, extra)| {
            let extra = if extra {
                ",\"x_extra\":{\"q\":[true]}"
            } else {
                ""
            };
            format!(
                "{{\"type\":\"bundle\",\"id\":\"bundle--1\"{extra},\"objects\":[{}]}}",
                objects.join(",")
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn scanner_agrees_with_serde_on_mutated_bundles(
            text in bundle(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, piece()), 0..4),
        ) {
            let mut text = text;
            for (at, op, piece) in edits {
                let mut idx = at.index(text.len() + 1);
                while !text.is_char_boundary(idx) {
                    idx -= 1;
                }
                match op {
                    0 => text.insert_str(idx, piece),
                    1 => {
                        if idx < text.len() {
                            let len = text[idx..].chars().next().map_or(0, char::len_utf8);
                            text.replace_range(idx..idx + len, "");
                        }
                    }
                    _ => {
                        if idx < text.len() {
                            let len = text[idx..].chars().next().map_or(0, char::len_utf8);
                            text.replace_range(idx..idx + len, piece);
                        }
                    }
                }
            }
            check_against_serde(&text);
        }

        #[test]
        fn scanner_never_panics(text in "\\PC{0,64}") {
            let _ = split(&text);
        }
    }
}
