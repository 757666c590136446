//! Bundles: reading (every object kept as its original JSON text beside its
//! parsed form; bad objects rejected one by one with the reason) and writing
//! (the original text of each object, so unchanged objects leave byte for
//! byte as they came).

use std::collections::HashMap;

use serde::de::{MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind};
use crate::object::StixObject;
use crate::validate::validate_object;

/// Most objects accepted in one bundle.
pub const BUNDLE_OBJECTS_MAX: usize = 1_000_000;
/// Largest single object, bytes (a report payload is at most 1 MiB).
pub const OBJECT_BYTES_MAX: usize = 512 * 1024;
/// Largest bundle, bytes.
pub const BUNDLE_BYTES_MAX: usize = 1 << 30;

/// One accepted object: its original text and its parsed form.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The object's JSON text exactly as it appeared in the bundle.
    pub text: String,
    /// The parsed object.
    pub object: StixObject,
    /// Set when the import had to upgrade the object to valid STIX 2.1 (see
    /// [`Entry::parse_upgrading`]); says what was changed.
    pub upgrade: Option<String>,
}

impl Entry {
    /// Parses and validates one object's text.
    pub fn parse(text: &str) -> Result<Entry, Error> {
        let object = parse_object(text)?;
        validate_object(&object).map_err(|e| e.at_object(None, Some(object.common().id)))?;
        Ok(Entry {
            text: text.to_string(),
            object,
            upgrade: None,
        })
    }

    /// Like [`Entry::parse`], but first upgrades the one STIX 2.0 leftover
    /// found in real feeds: a `malware` without `is_family` (MITRE ATT&CK's
    /// software objects) gets `"is_family": true`, as ATT&CK's own STIX 2.1
    /// release writes; the object's other properties keep their text.
    pub fn parse_upgrading(text: &str) -> Result<Entry, Error> {
        let mut object = parse_object(text)?;
        let err = match validate_object(&object) {
            Ok(()) => {
                return Ok(Entry {
                    text: text.to_string(),
                    object,
                    upgrade: None,
                })
            }
            Err(err) => err,
        };
        // The object is already parsed: set the property on it and on its
        // text instead of parsing the upgraded text again (a third of
        // ATT&CK's software objects would otherwise be parsed twice).
        let StixObject::Malware(malware) = &mut object else {
            return Err(err.at_object(None, Some(object.common().id)));
        };
        if err.kind != ErrorKind::MissingProperty("is_family".into()) {
            return Err(err.at_object(None, Some(object.common().id)));
        }
        debug_assert!(malware.is_family.is_none());
        malware.is_family = Some(true);
        validate_object(&object).map_err(|e| e.at_object(None, Some(object.common().id)))?;
        let upgraded = with_property(text, "is_family", "true")?;
        debug_assert_eq!(
            StixObject::from_json(&upgraded).ok().as_ref(),
            Some(&object),
            "the patched object is the parse of the upgraded text"
        );
        Ok(Entry {
            text: upgraded,
            object,
            upgrade: Some("added is_family: true (STIX 2.0 malware)".into()),
        })
    }
}

/// Parses one object's text (size bound, then the typed parse).
fn parse_object(text: &str) -> Result<StixObject, Error> {
    if text.len() > OBJECT_BYTES_MAX {
        return Err(Error::bare(ErrorKind::TooLarge(format!(
            "object is {} bytes, more than {OBJECT_BYTES_MAX}",
            text.len()
        ))));
    }
    StixObject::from_json(text)
}

/// A parsed bundle: accepted objects in bundle order and rejected ones.
#[derive(Debug, Default)]
pub struct ParsedBundle {
    /// The bundle's id.
    pub id: String,
    /// Objects that parsed and validated.
    pub entries: Vec<Entry>,
    /// Objects refused, each with where and why.
    pub rejected: Vec<Error>,
}

/// Most threads one bundle is parsed on.
pub const PARSE_THREADS_MAX: usize = 8;
/// Fewest objects worth a thread of their own, in parsing and in mapping.
/// Measured on 2 idle cores (2026-11-28): the 852-object ATT&CK DPRK
/// subset imported at 51k objects/s on two threads and 56k on one (the
/// spawns and the allocator's per-thread arenas cost more than half the
/// work saves), the 1,826-object ICS bundle at 63k on two and 56k on one.
pub(crate) const THREAD_OBJECTS_MIN: usize = 512;
/// Objects parsed between two progress reports (each block is split
/// between the threads).
const PARSE_BLOCK_LEN: usize = 8192;

/// Reads a bundle on every core (at most [`PARSE_THREADS_MAX`]). A
/// malformed envelope is an error; a bad object is listed in
/// [`ParsedBundle::rejected`] and the rest are kept. `on_object` is called
/// (for progress bars) with the count done and the total.
pub fn parse_bundle(
    text: &str,
    on_object: impl FnMut(usize, usize),
) -> Result<ParsedBundle, Error> {
    let n_threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    parse_bundle_on(text, n_threads, on_object)
}

/// [`parse_bundle`] on at most `n_threads` threads (1: the calling thread
/// only). The result does not depend on `n_threads`.
pub fn parse_bundle_on(
    text: &str,
    n_threads: usize,
    mut on_object: impl FnMut(usize, usize),
) -> Result<ParsedBundle, Error> {
    let n_threads = n_threads.clamp(1, PARSE_THREADS_MAX);
    if text.len() > BUNDLE_BYTES_MAX {
        return Err(Error::bare(ErrorKind::TooLarge(format!(
            "bundle is {} bytes, more than {BUNDLE_BYTES_MAX}",
            text.len()
        ))));
    }
    let envelope = crate::envelope::split(text)?;
    if envelope.type_name != "bundle" {
        return Err(crate::error::invalid(
            "type",
            format!("{:?}, expected \"bundle\"", envelope.type_name),
        ));
    }
    crate::validate::check_identifier(&envelope.id, Some("bundle"))
        .map_err(|e| e.at_property("id"))?;
    debug_assert!(envelope.objects.len() <= BUNDLE_OBJECTS_MAX);
    let n_objects = envelope.objects.len();
    let mut parsed = ParsedBundle {
        id: envelope.id,
        entries: Vec::with_capacity(n_objects),
        rejected: Vec::new(),
    };
    for (block_idx, block) in envelope.objects.chunks(PARSE_BLOCK_LEN).enumerate() {
        let first_idx = block_idx * PARSE_BLOCK_LEN;
        for (offset, res) in parse_objects(block, n_threads).into_iter().enumerate() {
            let object_idx = first_idx + offset;
            match res {
                Ok(entry) => parsed.entries.push(entry),
                Err(err) => {
                    // The scanner left each object's JSON to its parse: an
                    // object that is not JSON at all makes the bundle
                    // malformed (as a JSON reader of the whole text would
                    // say), not just one rejected object.
                    let (at, object) = block[offset];
                    if let Err(syntax) = serde_json::from_str::<serde::de::IgnoredAny>(object) {
                        return Err(Error::bare(ErrorKind::Json(format!(
                            "object {object_idx} at byte {at}: {syntax}"
                        ))));
                    }
                    parsed.rejected.push(err.at_object(Some(object_idx), None));
                }
            }
            on_object(object_idx + 1, n_objects);
        }
    }
    debug_assert_eq!(parsed.entries.len() + parsed.rejected.len(), n_objects);
    Ok(parsed)
}

/// Parses objects in order, split between up to `n_threads` threads (the
/// objects are independent; only the import's versioning looks across them).
fn parse_objects(objects: &[(usize, &str)], n_threads: usize) -> Vec<Result<Entry, Error>> {
    let parse_part = |part: &[(usize, &str)]| -> Vec<Result<Entry, Error>> {
        part.iter()
            .map(|(_, text)| Entry::parse_upgrading(text))
            .collect()
    };
    let n_parts = n_threads.min(objects.len() / THREAD_OBJECTS_MIN).max(1);
    let res: Vec<Result<Entry, Error>> = crate::parallel::map_parts(objects, n_parts, parse_part)
        .into_iter()
        .flatten()
        .collect();
    debug_assert_eq!(res.len(), objects.len());
    res
}

/// Writes a bundle from object texts (each one JSON object, written as is).
pub fn write_bundle<'a>(bundle_id: &str, objects: impl IntoIterator<Item = &'a str>) -> String {
    debug_assert!(bundle_id.starts_with("bundle--"));
    let mut out = String::with_capacity(4096);
    out.push_str(r#"{"type":"bundle","id":""#);
    out.push_str(bundle_id);
    out.push_str(r#"","objects":["#);
    for (idx, object) in objects.into_iter().enumerate() {
        debug_assert!(
            object.trim_start().starts_with('{'),
            "objects are JSON objects"
        );
        if idx > 0 {
            out.push(',');
        }
        out.push_str(object);
    }
    out.push_str("]}");
    out
}

/// A fresh bundle identifier.
pub fn new_bundle_id() -> String {
    format!("bundle--{}", uuid::Uuid::new_v4().hyphenated())
}

/// An object's properties in their original order, each value as its
/// original text.
struct OrderedObject(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<OrderedObject, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Box<RawValue>>()? {
                    entries.push((key, value));
                }
                Ok(OrderedObject(entries))
            }
        }
        d.deserialize_map(OrderedVisitor)
    }
}

/// Sets an object's `object_marking_refs`, keeping every other property's
/// text and the property order unchanged (the new property goes last when
/// absent). Insignificant whitespace between properties is not kept.
pub fn with_marking_refs(text: &str, marking_refs: &[String]) -> Result<String, Error> {
    let refs_text = serde_json::to_string(marking_refs).expect("strings serialise");
    with_property(text, "object_marking_refs", &refs_text)
}

/// Sets one property to `value_text` (JSON), keeping every other property's
/// text and order; an absent property goes last.
pub fn with_property(text: &str, name: &str, value_text: &str) -> Result<String, Error> {
    debug_assert!(serde_json::from_str::<serde_json::Value>(value_text).is_ok());
    let object: OrderedObject =
        serde_json::from_str(text).map_err(|e| Error::bare(ErrorKind::Json(e.to_string())))?;
    let mut out = String::with_capacity(text.len() + value_text.len() + 32);
    out.push('{');
    let mut replaced = false;
    for (idx, (key, value)) in object.0.iter().enumerate() {
        if idx > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(key).expect("strings serialise"));
        out.push(':');
        if key == name {
            out.push_str(value_text);
            replaced = true;
        } else {
            out.push_str(value.get());
        }
    }
    if !replaced {
        if !object.0.is_empty() {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(name).expect("strings serialise"));
        out.push(':');
        out.push_str(value_text);
    }
    out.push('}');
    Ok(out)
}

/// Groups entries by object id, each group sorted by `modified` (oldest first).
pub fn versions_by_id(entries: &[Entry]) -> Vec<Vec<&Entry>> {
    let mut groups: HashMap<&str, Vec<&Entry>> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for entry in entries {
        let id = entry.object.common().id;
        groups
            .entry(id)
            .or_insert_with(|| {
                order.push(id);
                Vec::new()
            })
            .push(entry);
    }
    order
        .into_iter()
        .map(|id| {
            let mut versions = groups.remove(id).unwrap_or_default();
            versions.sort_by(|a, b| {
                let (a, b) = (a.object.common().modified, b.object.common().modified);
                match (a, b) {
                    (Some(a), Some(b)) => crate::validate::compare_timestamps(a, b)
                        .unwrap_or(std::cmp::Ordering::Equal),
                    _ => std::cmp::Ordering::Equal,
                }
            });
            versions
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJECT: &str = r#"{"type": "ipv4-addr", "id": "ipv4-addr--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b", "value": "175.45.178.1", "x_trilat_note": {"b": 1.50, "a": "\u2013"}}"#;

    #[test]
    fn bundle_keeps_object_text_and_lists_rejects() {
        let text = format!(
            r#"{{"type":"bundle","id":"bundle--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b","objects":[{OBJECT},{{"type":"ipv4-addr","id":"ipv4-addr--bad"}},7]}}"#
        );
        let mut calls = 0;
        let parsed = parse_bundle(&text, |done, total| {
            calls += 1;
            assert!(done <= total);
        })
        .unwrap();
        assert_eq!(calls, 3);
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(parsed.entries[0].text, OBJECT);
        assert_eq!(parsed.rejected.len(), 2);
        assert!(
            parsed.rejected[0].to_string().starts_with("object 1"),
            "{}",
            parsed.rejected[0]
        );
        let written = write_bundle(&parsed.id, parsed.entries.iter().map(|e| e.text.as_str()));
        assert!(written.contains(OBJECT));
        let again = parse_bundle(&written, |_, _| {}).unwrap();
        assert_eq!(again.entries[0].text, OBJECT);
    }

    #[test]
    fn threads_do_not_change_the_result() {
        let mut objects = Vec::new();
        // Enough objects for 2 threads (and 3 at 8).
        for idx in 0..1600 {
            objects.push(format!(
                r#"{{"type":"ipv4-addr","id":"ipv4-addr--5e2a3f1c-8a0d-4f5a-9c1e-{idx:012x}","value":"10.0.0.{}"}}"#,
                idx % 256
            ));
            if idx % 7 == 0 {
                objects.push(r#"{"type":"ipv4-addr","id":"bad"}"#.to_string());
            }
        }
        let text = write_bundle(
            "bundle--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b",
            objects.iter().map(String::as_str),
        );
        let one = parse_bundle_on(&text, 1, |_, _| {}).unwrap();
        for n_threads in [2, 3, 8] {
            let mut last_done = 0;
            let many = parse_bundle_on(&text, n_threads, |done, _| {
                assert_eq!(done, last_done + 1);
                last_done = done;
            })
            .unwrap();
            assert_eq!(last_done, objects.len());
            let texts =
                |p: &ParsedBundle| p.entries.iter().map(|e| e.text.clone()).collect::<Vec<_>>();
            assert_eq!(texts(&many), texts(&one));
            let errors =
                |p: &ParsedBundle| p.rejected.iter().map(|e| e.to_string()).collect::<Vec<_>>();
            assert_eq!(errors(&many), errors(&one));
            assert_eq!(many.rejected.len(), 229);
        }
    }

    #[test]
    fn bad_envelopes_are_errors() {
        assert!(parse_bundle("{", |_, _| {}).is_err());
        assert!(parse_bundle(
            r#"{"type":"report","id":"bundle--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b"}"#,
            |_, _| {}
        )
        .is_err());
        assert!(parse_bundle(
            r#"{"type":"bundle","id":"bundle--x","objects":[]}"#,
            |_, _| {}
        )
        .is_err());
        assert!(parse_bundle(
            r#"{"type":"bundle","id":"bundle--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b","objects":{}}"#,
            |_, _| {}
        )
        .is_err());
    }

    #[test]
    fn stix20_malware_is_upgraded_once_and_other_errors_stay_errors() {
        let old = r#"{"type":"malware","spec_version":"2.1","id":"malware--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"BLINDINGCAN","x_mitre_aliases":["BLINDINGCAN"]}"#;
        let entry = Entry::parse_upgrading(old).unwrap();
        assert!(entry.upgrade.is_some());
        assert!(
            entry.text.ends_with(r#","is_family":true}"#),
            "{}",
            entry.text
        );
        assert!(entry.text.contains(r#""x_mitre_aliases":["BLINDINGCAN"]"#));
        // The typed object is exactly the parse of the upgraded text.
        assert_eq!(Entry::parse(&entry.text).unwrap().object, entry.object);
        assert!(Entry::parse(old).is_err());
        // A current object is not touched.
        let current = Entry::parse_upgrading(&entry.text).unwrap();
        assert!(current.upgrade.is_none());
        assert_eq!(current.text, entry.text);
        // Without a name, the upgraded object is still invalid.
        let nameless = old.replace(r#""name":"BLINDINGCAN","#, "");
        let err = Entry::parse_upgrading(&nameless).unwrap_err();
        assert!(err.to_string().contains("name"), "{err}");
        // Another type missing a required property is not upgraded.
        let tool = r#"{"type":"tool","spec_version":"2.1","id":"tool--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z"}"#;
        assert!(Entry::parse_upgrading(tool).is_err());
    }

    #[test]
    fn marking_refs_rewrite_keeps_other_properties_verbatim() {
        let refs = vec!["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421".to_string()];
        let added = with_marking_refs(OBJECT, &refs).unwrap();
        assert!(
            added.contains(r#""x_trilat_note":{"b": 1.50, "a": "\u2013"}"#),
            "{added}"
        );
        assert!(added.ends_with(
            r#""object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]}"#
        ));
        let replaced = with_marking_refs(&added, &[]).unwrap();
        assert!(replaced.contains(r#""object_marking_refs":[]"#));
        assert_eq!(replaced.matches("object_marking_refs").count(), 1);
    }
}
