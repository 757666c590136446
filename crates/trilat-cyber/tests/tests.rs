//! Integration tests against the real data in `../shared/data/cyber`
//! (MITRE ATT&CK DPRK subset and ICS, the OASIS examples, medallion's data).
//! Each test skips, saying so, when the data is absent.

use std::path::PathBuf;

use trilat_core::{Marking, Party, Timestamp, Tlp};
use trilat_cyber::*;

fn shared_data() -> PathBuf {
    std::env::var_os("TRILAT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        })
}

fn read(relative: &str) -> Option<String> {
    let path = shared_data().join(relative);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!("skipping: {} is absent", path.display());
            None
        }
    }
}

const MITRE_DPRK: &str = "cyber/mitre_attack/enterprise-attack-v18_dprk-groups_subset.stix21.json";
const MITRE_ICS: &str = "cyber/mitre_attack/ics-attack-18.1.json";
const OASIS_EXAMPLES: &[&str] = &[
    "apt1.json",
    "poisonivy.json",
    "indicator-for-c2-ip-address.json",
    "indicator-to-campaign-relationship.json",
    "indicators-for-C2-with-COA.json",
    "infrastructure.json",
    "malicious-email-indicator-with-attachment.json",
];

fn default_marking() -> Marking {
    Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"])
}

/// Import then bare export reproduces every object's text byte for byte.
fn round_trip(text: &str) -> ParsedBundle {
    let parsed = parse_bundle(text, |_, _| {}).unwrap();
    let outcome = import_bundle(
        &parsed,
        &Party::new("USA").unwrap(),
        &default_marking(),
        Timestamp::from_unix_ms(0),
    );
    assert!(
        outcome.rejected.is_empty(),
        "{:?}",
        outcome.rejected.first()
    );
    assert_eq!(outcome.drafts.len(), parsed.entries.len());
    let items: Vec<ExportItem<'_>> = outcome
        .drafts
        .iter()
        .map(|d| ExportItem {
            payload: &d.payload,
            marking: &d.marking,
        })
        .collect();
    let bare = export_bundle(&parsed.id, &items, false).unwrap();
    let again = parse_bundle(&bare, |_, _| {}).unwrap();
    assert_eq!(again.entries.len(), parsed.entries.len());
    for (before, after) in parsed.entries.iter().zip(&again.entries) {
        assert_eq!(before.text, after.text);
        if before.upgrade.is_none() {
            assert!(text.contains(&before.text), "object text changed on import");
        }
    }
    let marked = export_bundle(&parsed.id, &items, true).unwrap();
    let marked = parse_bundle(&marked, |_, _| {}).unwrap();
    assert!(marked.rejected.is_empty(), "{:?}", marked.rejected.first());
    parsed
}

#[test]
fn mitre_dprk_subset_parses_validates_and_round_trips() {
    let Some(text) = read(MITRE_DPRK) else { return };
    let parsed = round_trip(&text);
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected.first());
    assert_eq!(parsed.entries.len(), 852);
    // ATT&CK's software objects predate STIX 2.1's is_family.
    let n_upgraded = parsed
        .entries
        .iter()
        .filter(|e| e.upgrade.is_some())
        .count();
    assert_eq!(n_upgraded, 57);
    let lazarus = parsed
        .entries
        .iter()
        .find(|e| matches!(&e.object, StixObject::IntrusionSet(s) if s.name == "Lazarus Group"))
        .expect("Lazarus Group is in the subset");
    // Custom properties survive parsing and the text is kept verbatim.
    assert!(lazarus
        .object
        .common()
        .custom
        .keys()
        .any(|k| k.starts_with("x_mitre_")));
    assert!(text.contains(&lazarus.text));
}

#[test]
fn mitre_ics_bundle_parses_and_validates() {
    let Some(text) = read(MITRE_ICS) else { return };
    let parsed = round_trip(&text);
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected.first());
    assert_eq!(parsed.entries.len(), 1826);
}

#[test]
fn oasis_examples_parse_and_their_patterns_are_valid() {
    let mut n_patterns = 0;
    for name in OASIS_EXAMPLES {
        let Some(text) = read(&format!("cyber/oasis_stix21_examples/{name}")) else {
            return;
        };
        let parsed = round_trip(&text);
        assert!(
            parsed.rejected.is_empty(),
            "{name}: {:?}",
            parsed.rejected.first()
        );
        for entry in &parsed.entries {
            if let StixObject::Indicator(indicator) = &entry.object {
                if indicator.pattern_type == "stix" {
                    let pattern = parse_pattern(&indicator.pattern).unwrap();
                    // The printed form parses to the same tree.
                    assert_eq!(parse_pattern(&pattern.to_string()).unwrap(), pattern);
                    n_patterns += 1;
                }
            }
        }
    }
    assert!(n_patterns >= 10, "only {n_patterns} patterns");
}

#[test]
fn medallion_objects_parse() {
    let Some(text) = read("cyber/taxii21_medallion/default_data.json") else {
        return;
    };
    let data: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut n_objects = 0;
    for api_root in data.as_object().unwrap().values() {
        let Some(collections) = api_root.get("collections").and_then(|c| c.as_array()) else {
            continue;
        };
        for collection in collections {
            for object in collection["objects"].as_array().into_iter().flatten() {
                let mut object = object.clone();
                // medallion stores its own bookkeeping beside each object,
                // and leaves spec_version to the collection's media type.
                let fields = object.as_object_mut().unwrap();
                fields.remove("__meta");
                fields.entry("spec_version").or_insert("2.1".into());
                let entry = Entry::parse(&object.to_string());
                assert!(entry.is_ok(), "{object}: {:?}", entry.err());
                n_objects += 1;
            }
        }
    }
    assert!(n_objects >= 8, "only {n_objects} objects");
}
