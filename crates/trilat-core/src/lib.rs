//! Trilat's core: what a report is, who may see it, and how it is signed.
//!
//! Everything here is pure: no files, no sockets, no clocks (callers pass the
//! time in). The other crates build on four ideas defined here:
//!
//! * [`Report`] — a typed, versioned, signed record owned by one [`Party`].
//!   Its [`Marking`] says who may receive it. Only the owner issues new
//!   versions; a revocation is a version like any other.
//! * [`Marking`] — classification level, TLP 2.0 label, releasability
//!   (`rel_to`) and the further-sharing rule.
//! * [`Policy`] — the deployment's ordered levels, named groups, sharing
//!   agreements and node accreditations, and the **release rule**
//!   ([`Policy::release`]) that every other crate calls before a report
//!   crosses to a party: on send, on receive and on every read.
//!   [`Policy::combine`] gives the marking of a product fused from several
//!   reports (intersection of releasability, highest level, strictest TLP).
//! * [`Withdrawal`] — the owner's signed notice that a report's new version
//!   narrowed its marking so a party that held an earlier version may no
//!   longer receive it: id, owner and version only.
//! * Signing — [`NodeKey`] / [`PublicKey`] (Ed25519) over the RFC 8785
//!   canonical JSON of the report ([`Report::signing_bytes`]); the same keys
//!   sign peer requests ([`request_signing_bytes`]).
//!
//! ```
//! use trilat_core::*;
//! let policy = Policy::trilateral_default();
//! let key = NodeKey::generate();
//! let marking = Marking::new("CONFIDENTIAL", Tlp::Amber, ["USA", "JPN"]);
//! let draft = ReportDraft::new(Party::new("USA").unwrap(), Kind::new("note").unwrap(),
//!     marking, serde_json::json!({"text": "hello"}), Timestamp::from_unix_ms(0));
//! let report = draft.sign(&key).unwrap();
//! report.verify(&key.public_key()).unwrap();
//! assert!(policy.release(&report, &Party::new("JPN").unwrap()).is_ok());
//! assert!(policy.release(&report, &Party::new("KOR").unwrap()).is_err());
//! ```
#![deny(missing_docs)]

mod canonical;
mod kind;
mod marking;
mod party;
mod policy;
mod report;
mod signing;
mod timestamp;
mod withdrawal;

pub use canonical::{canonical_json, CanonicalError};
pub use kind::{Kind, KindRegistry, PayloadCheck};
pub use marking::{FurtherSharing, Marking, Tlp};
pub use party::{Party, PartyError};
pub use policy::{Agreement, Policy, PolicyError, Refusal, ReleaseDecision};
pub use report::{Report, ReportDraft, ReportError, ReportId, ReportKey, Version};
/// Adversarial Ed25519 cases and the differential check of [`verify_batch`]
/// against `verify_strict` (feature `differential`, for the fuzz target).
#[cfg(feature = "differential")]
pub use signing::differential;
pub use signing::{
    request_signing_bytes, verify_batch, KeyError, NodeKey, PublicKey, Signature, SignedMessage,
    VERIFY_BATCH_LEN_MAX,
};
pub use timestamp::{Timestamp, TimestampError};
pub use withdrawal::Withdrawal;
