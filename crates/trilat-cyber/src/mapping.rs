//! STIX objects ↔ Trilat reports.
//!
//! One STIX object id is one report (kind `cyber.stix`) per owner; each STIX
//! version is a report version. The payload keeps the object's original JSON
//! text, so export reproduces it byte for byte when nothing changed:
//!
//! ```json
//! {"stix_id": "indicator--…", "stix_type": "indicator",
//!  "stix_modified": "2024-01-01T00:00:00.000Z", "object": "{\"type\":\"indicator\",…}"}
//! ```
//!
//! The report's marking comes from the object's markings ([`marking_of`]);
//! on export the marking goes back into `object_marking_refs`.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::Digest;
use trilat_core::{Kind, Marking, Party, ReportDraft, ReportId, Timestamp};

use crate::bundle::{versions_by_id, with_marking_refs, write_bundle, Entry, ParsedBundle};
use crate::error::{Error, ErrorKind};
use crate::marking::{
    marking_of, releasability_of, tlp_marking_definition, tlp_marking_ref, tlp_of_marking_ref,
    trilat_definitions, Releasability,
};
use crate::object::StixObject;
use crate::validate::check_successor;

/// The report kind of a STIX object.
pub const REPORT_KIND: &str = "cyber.stix";
/// Every report kind this engine owns.
pub const REPORT_KINDS: &[&str] = &[REPORT_KIND];

/// The error of [`validate_payload`].
pub type PayloadError = Error;

/// The payload of a `cyber.stix` report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StixPayload {
    /// The object's `id`.
    pub stix_id: String,
    /// The object's `type`.
    pub stix_type: String,
    /// The object's `modified`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stix_modified: Option<String>,
    /// The object's JSON text as received.
    pub object: String,
}

impl StixPayload {
    /// The payload for one accepted object.
    pub fn of(entry: &Entry) -> StixPayload {
        let common = entry.object.common();
        StixPayload {
            stix_id: common.id.to_string(),
            stix_type: common.type_name.to_string(),
            stix_modified: common.modified.map(str::to_string),
            object: entry.text.clone(),
        }
    }

    /// As a report payload.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("plain struct serialises")
    }

    /// The report payload of one accepted object, built directly (the same
    /// value as `StixPayload::of(entry).to_value()`, with one copy of the
    /// object's text instead of two).
    pub fn value_of(entry: &Entry) -> serde_json::Value {
        let common = entry.object.common();
        let mut payload = serde_json::Map::new();
        payload.insert("stix_id".into(), common.id.into());
        payload.insert("stix_type".into(), common.type_name.into());
        if let Some(modified) = common.modified {
            payload.insert("stix_modified".into(), modified.into());
        }
        payload.insert("object".into(), entry.text.as_str().into());
        serde_json::Value::Object(payload)
    }

    /// Reads and checks a report payload: the object must parse, validate and
    /// agree with the payload's id, type and modified.
    pub fn from_value(payload: &serde_json::Value) -> Result<(StixPayload, Entry), Error> {
        let parsed: StixPayload = StixPayload::deserialize(payload)
            .map_err(|e| Error::bare(ErrorKind::Payload(e.to_string())))?;
        let entry = Entry::parse(&parsed.object)?;
        let common = entry.object.common();
        let agrees = common.id == parsed.stix_id
            && common.type_name == parsed.stix_type
            && common.modified == parsed.stix_modified.as_deref();
        if !agrees {
            return Err(Error::bare(ErrorKind::Payload(
                "stix_id, stix_type or stix_modified disagree with the object".into(),
            ))
            .at_object(None, Some(&parsed.stix_id)));
        }
        Ok((parsed, entry))
    }
}

/// Checks a report payload of one of [`REPORT_KINDS`].
pub fn validate_payload(kind: &str, payload: &serde_json::Value) -> Result<(), PayloadError> {
    if !REPORT_KINDS.contains(&kind) {
        return Err(Error::bare(ErrorKind::Payload(format!(
            "kind {kind:?} is not a cyber kind"
        ))));
    }
    StixPayload::from_value(payload).map(|_| ())
}

/// [`validate_payload`] in the shape of `trilat_core::PayloadCheck`, for
/// `KindRegistry::register(REPORT_KINDS, payload_check)`.
pub fn payload_check(kind: &str, payload: &serde_json::Value) -> Result<(), String> {
    validate_payload(kind, payload).map_err(|e| e.to_string())
}

/// The report id of `owner`'s copy of a STIX object: a UUIDv7 whose time is
/// the object's creation and whose other bits hash the owner and STIX id,
/// so re-importing finds the same report.
pub fn report_id_for(owner: &Party, stix_id: &str, created: Timestamp) -> ReportId {
    let mut hasher = sha2::Sha256::new();
    for part in ["trilat-cyber\n", owner.as_str(), "\n", stix_id] {
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut random = [0u8; 10];
    random.copy_from_slice(&digest[..10]);
    let uuid =
        uuid::Builder::from_unix_timestamp_millis(created.unix_ms() as u64, &random).into_uuid();
    debug_assert_eq!(uuid.get_version_num(), 7);
    ReportId::parse(&uuid.hyphenated().to_string()).expect("a hyphenated UUID parses")
}

/// A STIX timestamp as a report timestamp, rounded down to the millisecond.
pub fn report_time(stix_time: &str) -> Option<Timestamp> {
    let parsed =
        time::OffsetDateTime::parse(stix_time, &time::format_description::well_known::Rfc3339)
            .ok()?;
    let ms = i64::try_from(parsed.unix_timestamp_nanos().div_euclid(1_000_000)).ok()?;
    Some(Timestamp::from_unix_ms(ms))
}

/// What an import produced.
#[derive(Debug, Default)]
pub struct ImportOutcome {
    /// Report drafts, one per accepted object version, oldest version first.
    pub drafts: Vec<ReportDraft>,
    /// Versions refused by the versioning rules or the marking mapping.
    pub rejected: Vec<Error>,
    /// Accepted objects by type.
    pub counts_by_type: BTreeMap<String, usize>,
}

/// Maps a parsed bundle to report drafts owned by `owner`, on every core
/// (at most [`crate::bundle::PARSE_THREADS_MAX`]). Objects without markings
/// take `default`; releasability markings defined in the bundle are
/// honoured. `now` stamps objects that carry no time (observables).
pub fn import_bundle(
    bundle: &ParsedBundle,
    owner: &Party,
    default: &Marking,
    now: Timestamp,
) -> ImportOutcome {
    let n_threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    import_bundle_on(bundle, owner, default, now, n_threads)
}

/// [`import_bundle`] on at most `n_threads` threads (1: the calling thread
/// only). The outcome does not depend on `n_threads`: objects are mapped
/// independently of each other (only an object's own versions are chained),
/// so each thread maps a run of objects and the runs are joined in order.
pub fn import_bundle_on(
    bundle: &ParsedBundle,
    owner: &Party,
    default: &Marking,
    now: Timestamp,
    n_threads: usize,
) -> ImportOutcome {
    let mut outcome = ImportOutcome::default();
    let mut releasabilities = HashMap::new();
    for entry in &bundle.entries {
        match releasability_of(&entry.object) {
            Ok(Some(r)) => {
                releasabilities.insert(r.marking_ref(), r);
            }
            Ok(None) => {}
            Err(err) => outcome.rejected.push(err),
        }
    }
    let objects = versions_by_id(&bundle.entries);
    let map_run = |run: &[Vec<&Entry>]| -> ImportOutcome {
        let mut part = ImportOutcome::default();
        part.drafts.reserve(run.iter().map(Vec::len).sum());
        for versions in run {
            map_versions(versions, owner, &releasabilities, default, now, &mut part);
        }
        part
    };
    let n_runs = n_threads
        .clamp(1, crate::bundle::PARSE_THREADS_MAX)
        .min(objects.len() / crate::bundle::THREAD_OBJECTS_MIN)
        .max(1);
    let parts = crate::parallel::map_parts(&objects, n_runs, map_run);
    outcome.drafts.reserve(bundle.entries.len());
    for part in parts {
        outcome.drafts.extend(part.drafts);
        outcome.rejected.extend(part.rejected);
        for (type_name, count) in part.counts_by_type {
            *outcome.counts_by_type.entry(type_name).or_insert(0) += count;
        }
    }
    debug_assert!(outcome.drafts.len() <= bundle.entries.len());
    outcome
}

/// Maps one object's versions (oldest first) into `out`: each accepted
/// version becomes the next report version of the previous accepted one.
fn map_versions(
    versions: &[&Entry],
    owner: &Party,
    releasabilities: &HashMap<String, Releasability>,
    default: &Marking,
    now: Timestamp,
    out: &mut ImportOutcome,
) {
    // The preceding accepted version: its entry and its draft's index.
    let mut previous: Option<(&Entry, usize)> = None;
    for entry in versions {
        let res = draft_for(
            entry,
            owner,
            releasabilities,
            default,
            previous.map(|(e, draft_idx)| (&e.object, &out.drafts[draft_idx])),
            now,
        );
        match res {
            Ok(draft) => {
                let type_name = entry.object.common().type_name;
                match out.counts_by_type.get_mut(type_name) {
                    Some(count) => *count += 1,
                    None => {
                        out.counts_by_type.insert(type_name.to_string(), 1);
                    }
                }
                out.drafts.push(draft);
                previous = Some((entry, out.drafts.len() - 1));
            }
            Err(err) => out.rejected.push(err),
        }
    }
}

/// The draft for one object version; `previous` is the object's preceding
/// version with its draft.
pub fn draft_for(
    entry: &Entry,
    owner: &Party,
    releasabilities: &HashMap<String, Releasability>,
    default: &Marking,
    previous: Option<(&StixObject, &ReportDraft)>,
    now: Timestamp,
) -> Result<ReportDraft, Error> {
    let common = entry.object.common();
    let mut marking = marking_of(&entry.object, releasabilities, default)?;
    // A releasability marking definition is itself released only as widely
    // as the releasability it defines: its existence says who may see what.
    if let Some(own) = releasability_of(&entry.object)? {
        marking.level = own.level;
        marking.rel_to = own.rel_to;
        marking.further_sharing = own.further_sharing;
    }
    let stamp = common
        .modified
        .or(common.created)
        .and_then(report_time)
        .unwrap_or(now);
    let kind = Kind::new(REPORT_KIND).expect("constant kind");
    let payload = StixPayload::value_of(entry);
    let draft = match previous {
        None => {
            let created = common.created.and_then(report_time).unwrap_or(stamp);
            let mut draft = ReportDraft::new(owner.clone(), kind, marking, payload, stamp);
            draft.id = report_id_for(owner, common.id, created);
            draft
        }
        Some((prev_object, prev_draft)) => {
            check_successor(prev_object, &entry.object)?;
            // Field by field: `..prev_draft.clone()` would copy the
            // previous payload only to drop it.
            ReportDraft {
                id: prev_draft.id,
                owner: prev_draft.owner.clone(),
                kind: prev_draft.kind.clone(),
                version: prev_draft.version + 1,
                // Distinct STIX times may round to one millisecond.
                modified: stamp.max(prev_draft.modified.add_ms(1)),
                created_at: prev_draft.created_at,
                observed_at: prev_draft.observed_at,
                geometry: prev_draft.geometry.clone(),
                marking,
                exercise: prev_draft.exercise,
                payload,
                revoked: common.revoked,
            }
        }
    };
    debug_assert!(draft.version >= 1);
    debug_assert!(draft.modified >= draft.created_at);
    Ok(draft)
}

/// One report to export: its payload and the marking it carries now.
#[derive(Clone, Copy, Debug)]
pub struct ExportItem<'a> {
    /// The `cyber.stix` payload.
    pub payload: &'a serde_json::Value,
    /// The report's marking.
    pub marking: &'a Marking,
}

/// Builds a bundle of report objects. With `mark`, each object's
/// `object_marking_refs` are set to the report's TLP and releasability
/// (other references kept; objects that already say exactly that are left
/// byte for byte), and the needed marking definitions are added. Without
/// `mark`, objects leave exactly as they came.
pub fn export_bundle(
    bundle_id: &str,
    items: &[ExportItem<'_>],
    mark: bool,
) -> Result<String, Error> {
    let mut objects: Vec<String> = Vec::with_capacity(items.len());
    let mut definitions: BTreeMap<String, String> = BTreeMap::new();
    let mut exported_ids: HashSet<String> = HashSet::new();
    for item in items {
        let (payload, entry) = StixPayload::from_value(item.payload)?;
        exported_ids.insert(payload.stix_id.clone());
        // Marking and extension definitions are referenced, not marked:
        // the TLP 2.0 definitions must stay exactly as published.
        if !mark || entry.object.category() == crate::object::Category::Meta {
            objects.push(payload.object);
            continue;
        }
        let releasability = Releasability::of(item.marking);
        let tlp_ref = tlp_marking_ref(item.marking.tlp);
        let releasability_ref = releasability.marking_ref();
        definitions.insert(
            tlp_ref.to_string(),
            tlp_marking_definition(item.marking.tlp),
        );
        definitions.insert(
            releasability_ref.clone(),
            releasability.marking_definition(),
        );
        let common = entry.object.common();
        let current = common.object_marking_refs;
        let mut wanted: Vec<String> = current
            .iter()
            .filter(|r| tlp_of_marking_ref(r).is_none() && **r != releasability_ref)
            .cloned()
            .collect();
        wanted.push(tlp_ref.to_string());
        wanted.push(releasability_ref);
        let unchanged = current.len() == wanted.len() && wanted.iter().all(|w| current.contains(w));
        if unchanged {
            objects.push(payload.object);
        } else {
            objects.push(with_marking_refs(&payload.object, &wanted)?);
        }
    }
    let mut texts: Vec<&str> = Vec::with_capacity(objects.len() + definitions.len() + 2);
    let fixed = trilat_definitions();
    if mark {
        texts.extend(fixed.iter().map(String::as_str));
    }
    texts.extend(
        definitions
            .iter()
            .filter(|(id, _)| !exported_ids.contains(*id))
            .map(|(_, text)| text.as_str()),
    );
    texts.extend(objects.iter().map(String::as_str));
    Ok(write_bundle(bundle_id, texts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::parse_bundle;
    use trilat_core::Tlp;

    const BUNDLE: &str = r#"{"type":"bundle","id":"bundle--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b","objects":[
 {"type":"tool","spec_version":"2.1","id":"tool--11111111-1111-4111-8111-111111111111","created_by_ref":"identity--22222222-2222-4222-8222-222222222222","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"AdFind","x_mitre_version":"1.0"},
 {"type":"tool","spec_version":"2.1","id":"tool--11111111-1111-4111-8111-111111111111","created_by_ref":"identity--22222222-2222-4222-8222-222222222222","created":"2024-01-01T00:00:00.000Z","modified":"2024-03-01T00:00:00.000Z","name":"AdFind","x_mitre_version":"1.1","object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]},
 {"type":"tool","spec_version":"2.1","id":"tool--11111111-1111-4111-8111-111111111111","created_by_ref":"identity--33333333-3333-4333-8333-333333333333","created":"2024-01-01T00:00:00.000Z","modified":"2024-04-01T00:00:00.000Z","name":"AdFind (forged)"}
]}"#;

    #[test]
    fn versions_become_report_versions_and_foreign_versions_are_refused() {
        let parsed = parse_bundle(BUNDLE, |_, _| {}).unwrap();
        assert_eq!(parsed.entries.len(), 3);
        let owner = Party::new("JPN").unwrap();
        let default = Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]);
        let outcome = import_bundle(&parsed, &owner, &default, Timestamp::from_unix_ms(0));
        assert_eq!(outcome.drafts.len(), 2);
        assert_eq!(outcome.rejected.len(), 1);
        assert!(outcome.rejected[0].to_string().contains("creator"));
        let (v1, v2) = (&outcome.drafts[0], &outcome.drafts[1]);
        assert_eq!(v1.id, v2.id);
        assert_eq!((v1.version, v2.version), (1, 2));
        assert_eq!(v1.marking.tlp, Tlp::Green);
        assert_eq!(v2.marking.tlp, Tlp::Red);
        assert!(v2.modified > v1.modified);
        assert_eq!(v1.modified, v1.created_at);
        // Same owner and object, same report id; another owner, another id.
        let again = import_bundle(&parsed, &owner, &default, Timestamp::from_unix_ms(5));
        assert_eq!(again.drafts[0].id, v1.id);
        let korea = import_bundle(
            &parsed,
            &Party::new("KOR").unwrap(),
            &default,
            Timestamp::from_unix_ms(0),
        );
        assert_ne!(korea.drafts[0].id, v1.id);
        for draft in &outcome.drafts {
            validate_payload(REPORT_KIND, &draft.payload).unwrap();
        }
    }

    #[test]
    fn threads_do_not_change_the_import() {
        // 1,500 objects (enough for 2 threads) with 1 to 3 versions, every
        // fifth third version forged by another creator, in an order that
        // interleaves objects.
        let mut objects = Vec::new();
        for version in 0..3 {
            for idx in 0..1500 {
                if version > idx % 3 {
                    continue;
                }
                let creator = if version == 2 && idx % 5 == 0 { 3 } else { 2 };
                objects.push(format!(
                    r#"{{"type":"tool","spec_version":"2.1","id":"tool--11111111-1111-4111-8111-{idx:012x}","created_by_ref":"identity--{c}{c}{c}{c}{c}{c}{c}{c}-{c}{c}{c}{c}-4{c}{c}{c}-8{c}{c}{c}-{c}{c}{c}{c}{c}{c}{c}{c}{c}{c}{c}{c}","created":"2024-01-01T00:00:00.000Z","modified":"2024-0{m}-01T00:00:00.000Z","name":"tool {idx}"}}"#,
                    c = creator,
                    m = version + 1,
                ));
            }
        }
        let text = crate::bundle::write_bundle(
            "bundle--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b",
            objects.iter().map(String::as_str),
        );
        let parsed = parse_bundle(&text, |_, _| {}).unwrap();
        assert_eq!(parsed.entries.len(), objects.len());
        let owner = Party::new("KOR").unwrap();
        let default = Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]);
        let now = Timestamp::from_unix_ms(0);
        let one = import_bundle_on(&parsed, &owner, &default, now, 1);
        assert_eq!(one.rejected.len(), 100);
        assert_eq!(one.drafts.len(), objects.len() - 100);
        assert_eq!(one.counts_by_type["tool"], objects.len() - 100);
        for n_threads in [2, 3, 8] {
            let many = import_bundle_on(&parsed, &owner, &default, now, n_threads);
            assert_eq!(many.drafts, one.drafts);
            let errors =
                |o: &ImportOutcome| o.rejected.iter().map(|e| e.to_string()).collect::<Vec<_>>();
            assert_eq!(errors(&many), errors(&one));
            assert_eq!(many.counts_by_type, one.counts_by_type);
        }
    }

    #[test]
    fn payload_checks() {
        let parsed = parse_bundle(BUNDLE, |_, _| {}).unwrap();
        let good = StixPayload::of(&parsed.entries[0]).to_value();
        for entry in &parsed.entries {
            assert_eq!(
                StixPayload::value_of(entry),
                StixPayload::of(entry).to_value()
            );
        }
        assert!(validate_payload("cyber.stix", &good).is_ok());
        assert!(validate_payload("note", &good).is_err());
        let mut lying = good.clone();
        lying["stix_id"] = "tool--44444444-4444-4444-8444-444444444444".into();
        assert!(validate_payload("cyber.stix", &lying)
            .unwrap_err()
            .to_string()
            .contains("disagree"));
        let mut broken = good.clone();
        broken["object"] = "{".into();
        assert!(validate_payload("cyber.stix", &broken).is_err());
        assert!(payload_check("cyber.stix", &serde_json::json!({"text": "x"})).is_err());
    }

    #[test]
    fn export_marks_objects_and_reimport_recovers_the_marking() {
        let parsed = parse_bundle(BUNDLE, |_, _| {}).unwrap();
        let payload = StixPayload::of(&parsed.entries[0]).to_value();
        let marking = Marking::new("CONFIDENTIAL", Tlp::AmberStrict, ["USA", "JPN"]);
        let item = ExportItem {
            payload: &payload,
            marking: &marking,
        };
        let bare = export_bundle(
            "bundle--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b",
            &[item],
            false,
        )
        .unwrap();
        assert!(bare.contains(&parsed.entries[0].text));
        let marked = export_bundle(
            "bundle--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b",
            &[item],
            true,
        )
        .unwrap();
        let reparsed = parse_bundle(&marked, |_, _| {}).unwrap();
        assert!(reparsed.rejected.is_empty(), "{:?}", reparsed.rejected);
        let default = Marking::new("UNCLASSIFIED", Tlp::Clear, ["TRILAT"]);
        let outcome = import_bundle(
            &reparsed,
            &Party::new("USA").unwrap(),
            &default,
            Timestamp::from_unix_ms(0),
        );
        let tool = outcome
            .drafts
            .iter()
            .find(|d| d.payload["stix_type"] == "tool")
            .unwrap();
        assert_eq!(tool.marking, marking);
        assert!(tool.payload["object"]
            .as_str()
            .unwrap()
            .contains(r#""x_mitre_version":"1.0""#));
        // Exporting the re-imported object again changes nothing.
        let item = ExportItem {
            payload: &tool.payload,
            marking: &tool.marking,
        };
        let twice = export_bundle(
            "bundle--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b",
            &[item],
            true,
        )
        .unwrap();
        assert!(twice.contains(tool.payload["object"].as_str().unwrap()));
    }
}
