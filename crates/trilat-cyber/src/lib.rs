//! trilat-cyber: STIX 2.1 for Trilat — the objects partners exchange about
//! North Korean cyber operations, their validation, and their mapping to
//! Trilat's marked reports.
//!
//! * [`object`] — serde types for every SDO, both SROs, the meta objects and
//!   the observables indicators and sightings use ([`StixObject`]). Unknown
//!   and custom properties (`x_mitre_*` …) are kept in each type's `custom`
//!   map; other types parse as [`object::GenericObject`].
//! * [`bundle`] — reads a bundle keeping each object's original JSON text
//!   ([`Entry`]) and rejecting bad objects one by one; writes bundles from
//!   those texts, so unchanged objects leave byte for byte as they came.
//! * [`validate`] — identifiers, required properties, timestamps,
//!   references, property names, and the versioning rules
//!   ([`validate::check_successor`]).
//! * [`pattern`] — a parser for the STIX patterning language.
//! * [`marking`] — TLP 2.0 marking definitions ↔ [`trilat_core::Tlp`], and
//!   the project's releasability marking extension.
//! * [`taxii`] — TAXII 2.1 resources, collection configuration, object
//!   queries and paging, free of HTTP (the node serves them).
//! * [`mapping`] — STIX object ↔ `cyber.stix` report payload and marking;
//!   [`REPORT_KINDS`] and [`validate_payload`] for the node's kind registry.
//!
//! The engine is pure: text in, objects, drafts and bundles out.
//!
//! ```
//! use trilat_cyber::*;
//! let text = r#"{"type":"bundle","id":"bundle--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b","objects":[
//!   {"type":"ipv4-addr","id":"ipv4-addr--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b","value":"175.45.178.1"}]}"#;
//! let bundle = parse_bundle(text, |_, _| {}).unwrap();
//! let owner = trilat_core::Party::new("KOR").unwrap();
//! let default = trilat_core::Marking::new("UNCLASSIFIED", trilat_core::Tlp::Amber, ["TRILAT"]);
//! let outcome = import_bundle(&bundle, &owner, &default, trilat_core::Timestamp::from_unix_ms(0));
//! assert_eq!(outcome.drafts.len(), 1);
//! ```
#![deny(missing_docs)]

pub mod bundle;
mod envelope;
mod error;
pub mod mapping;
pub mod marking;
pub mod object;
mod parallel;
pub mod pattern;
pub mod taxii;
pub mod validate;

pub use bundle::{parse_bundle, write_bundle, Entry, ParsedBundle};
pub use error::{Error, ErrorKind, Location};
pub use mapping::{
    export_bundle, import_bundle, import_bundle_on, payload_check, validate_payload, ExportItem,
    ImportOutcome, PayloadError, StixPayload, REPORT_KIND, REPORT_KINDS,
};
pub use object::{Category, StixObject};
pub use pattern::{parse_pattern, Pattern};
pub use validate::validate_object;
