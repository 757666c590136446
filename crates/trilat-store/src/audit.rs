//! The audit log: append-only entries, each committing to the one before.
//!
//! `hash = sha256(prev_hash || canonical JSON of {seq, at, actor, action,
//! report_id, counterparty, detail})`, hex-encoded; the first entry's
//! `prev_hash` is [`AUDIT_HASH_GENESIS`]. Changing, deleting or reordering
//! an entry breaks the link of the next one (or, for the last entry, the tip
//! the store keeps beside the log).

use sha2::{Digest, Sha256};
use trilat_core::{canonical_json, Party, ReportId, Timestamp};

use crate::StoreError;

/// `prev_hash` of the first entry: 64 zeros.
pub const AUDIT_HASH_GENESIS: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";
/// Longest actor accepted, in bytes.
pub const AUDIT_ACTOR_LEN_MAX: usize = 128;
/// Longest detail accepted, in bytes.
pub const AUDIT_DETAIL_LEN_MAX: usize = 4096;

/// What happened, for the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuditAction {
    /// A local user created a report.
    Create,
    /// A local user issued a new version.
    Version,
    /// A local user revoked a report.
    Revoke,
    /// A report arrived from a peer.
    Receive,
    /// A report was released to a peer.
    Release,
    /// A local user read reports.
    Read,
    /// Something was refused (release rule, forgery, bad signature …).
    Refuse,
    /// Anything else (start-up, configuration …); say what in `detail`.
    Other,
}

impl AuditAction {
    /// Every action, for parsing and tests.
    pub const ALL: [AuditAction; 8] = [
        AuditAction::Create,
        AuditAction::Version,
        AuditAction::Revoke,
        AuditAction::Receive,
        AuditAction::Release,
        AuditAction::Read,
        AuditAction::Refuse,
        AuditAction::Other,
    ];

    /// The kebab-case name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Version => "version",
            AuditAction::Revoke => "revoke",
            AuditAction::Receive => "receive",
            AuditAction::Release => "release",
            AuditAction::Read => "read",
            AuditAction::Refuse => "refuse",
            AuditAction::Other => "other",
        }
    }

    /// Parses [`AuditAction::as_str`].
    pub fn parse(text: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// One thing to record in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEvent {
    /// When it happened (the caller's clock).
    pub at: Timestamp,
    /// Who did it: `"JPN:analyst-1"`, `"peer:KOR"`, `"node"`.
    pub actor: String,
    /// What was done.
    pub action: AuditAction,
    /// The report concerned, if one.
    pub report_id: Option<ReportId>,
    /// The other party (recipient of a release, sender of a receive).
    pub counterparty: Option<Party>,
    /// Free text: why, how many, which query.
    pub detail: String,
}

impl AuditEvent {
    /// An event with no report, no counterparty and no detail.
    pub fn new(at: Timestamp, actor: impl Into<String>, action: AuditAction) -> AuditEvent {
        AuditEvent {
            at,
            actor: actor.into(),
            action,
            report_id: None,
            counterparty: None,
            detail: String::new(),
        }
    }

    /// Sets the report concerned.
    pub fn report(mut self, id: ReportId) -> AuditEvent {
        self.report_id = Some(id);
        self
    }

    /// Sets the counterparty.
    pub fn counterparty(mut self, party: Party) -> AuditEvent {
        self.counterparty = Some(party);
        self
    }

    /// Sets the detail.
    pub fn detail(mut self, detail: impl Into<String>) -> AuditEvent {
        self.detail = detail.into();
        self
    }

    /// Checks the bounds on actor and detail.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        if self.actor.is_empty() || self.actor.len() > AUDIT_ACTOR_LEN_MAX {
            return Err(StoreError::Invalid(format!(
                "audit actor must be 1..={AUDIT_ACTOR_LEN_MAX} bytes, is {}",
                self.actor.len()
            )));
        }
        if self.detail.len() > AUDIT_DETAIL_LEN_MAX {
            return Err(StoreError::Invalid(format!(
                "audit detail must be at most {AUDIT_DETAIL_LEN_MAX} bytes, is {}",
                self.detail.len()
            )));
        }
        Ok(())
    }
}

/// A stored audit entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// What happened.
    pub event: AuditEvent,
    /// The previous entry's `hash` ([`AUDIT_HASH_GENESIS`] for the first).
    pub prev_hash: String,
    /// `sha256(prev_hash || canonical JSON of seq and event)`, hex.
    pub hash: String,
}

impl AuditEntry {
    /// Chains `event` after an entry whose sequence and hash are given.
    pub(crate) fn chain(prev_seq: u64, prev_hash: &str, event: AuditEvent) -> AuditEntry {
        debug_assert_eq!(prev_hash.len(), 64);
        let seq = prev_seq + 1;
        let hash = entry_hash(seq, prev_hash, &event);
        AuditEntry {
            seq,
            event,
            prev_hash: prev_hash.to_string(),
            hash,
        }
    }

    /// Whether `hash` is right for the rest of the entry.
    pub fn hash_is_valid(&self) -> bool {
        entry_hash(self.seq, &self.prev_hash, &self.event) == self.hash
    }
}

/// The fields an entry's hash covers, in canonical JSON (the reference
/// encoding; [`hashed_fields_json`] must produce the same bytes).
#[derive(serde::Serialize)]
struct HashedFields<'a> {
    seq: u64,
    at: &'a Timestamp,
    actor: &'a str,
    action: AuditAction,
    report_id: &'a Option<ReportId>,
    counterparty: &'a Option<Party>,
    detail: &'a str,
}

/// Largest integer RFC 8785 writes as plain decimal digits (2^53).
const JCS_INTEGER_MAX: u64 = 1 << 53;

/// The RFC 8785 canonical JSON of an entry's hashed fields, written
/// directly: this runs once per stored report on the ingest path, and the
/// general canonicaliser (which builds and sorts a map) cost a tenth of the
/// ingest time. Keys are in JCS order (all ASCII, so byte order); strings
/// use serde_json's escaping, which is JCS's (short escapes for `\b \t \n
/// \f \r`, lowercase `\u00xx` for other controls, nothing else escaped).
/// A property test checks equality with `canonical_json`.
pub(crate) fn hashed_fields_json(seq: u64, event: &AuditEvent) -> Vec<u8> {
    assert!(
        seq <= JCS_INTEGER_MAX,
        "audit seq {seq} beyond exact JSON integers"
    );
    fn string(out: &mut Vec<u8>, text: &str) {
        serde_json::to_writer(&mut *out, text).expect("writing to a Vec cannot fail");
    }
    // Timestamps and report ids serialise as JSON strings of ASCII
    // characters that need no escaping: written without a String between.
    fn plain<T: serde::Serialize>(out: &mut Vec<u8>, value: &T) {
        serde_json::to_writer(&mut *out, value).expect("writing to a Vec cannot fail");
    }
    let mut out = Vec::with_capacity(192 + event.actor.len() + event.detail.len());
    out.extend_from_slice(b"{\"action\":");
    string(&mut out, event.action.as_str());
    out.extend_from_slice(b",\"actor\":");
    string(&mut out, &event.actor);
    out.extend_from_slice(b",\"at\":");
    plain(&mut out, &event.at);
    out.extend_from_slice(b",\"counterparty\":");
    match &event.counterparty {
        Some(party) => string(&mut out, party.as_str()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"detail\":");
    string(&mut out, &event.detail);
    out.extend_from_slice(b",\"report_id\":");
    match &event.report_id {
        Some(id) => plain(&mut out, id),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"seq\":");
    plain(&mut out, &seq);
    out.push(b'}');
    out
}

/// The reference encoding, for the equivalence test.
pub(crate) fn hashed_fields_canonical(seq: u64, event: &AuditEvent) -> Vec<u8> {
    let fields = HashedFields {
        seq,
        at: &event.at,
        actor: &event.actor,
        action: event.action,
        report_id: &event.report_id,
        counterparty: &event.counterparty,
        detail: &event.detail,
    };
    // Only strings, integers and null: canonical encoding cannot fail.
    canonical_json(&fields).expect("audit fields encode canonically")
}

pub(crate) fn entry_hash(seq: u64, prev_hash: &str, event: &AuditEvent) -> String {
    let canonical = hashed_fields_json(seq, event);
    debug_assert_eq!(canonical, hashed_fields_canonical(seq, event));
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(&canonical);
    hex::encode(hasher.finalize())
}

/// The result of [`crate::ReportStore::verify_audit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditVerification {
    /// Entries checked.
    pub entries: u64,
    /// The first entry whose hash, link or sequence is wrong (for a deleted
    /// last entry: the sequence it had); `None` when the chain is intact.
    pub first_broken: Option<u64>,
}

/// Walks a chain in order and finds the first broken entry. `tip` is the
/// (seq, hash) the store recorded for its last entry.
pub(crate) struct ChainCheck {
    expected_seq: u64,
    expected_prev: String,
    entries: u64,
    first_broken: Option<u64>,
}

impl ChainCheck {
    pub(crate) fn new() -> ChainCheck {
        ChainCheck {
            expected_seq: 1,
            expected_prev: AUDIT_HASH_GENESIS.to_string(),
            entries: 0,
            first_broken: None,
        }
    }

    pub(crate) fn push(&mut self, entry: &AuditEntry) {
        self.entries += 1;
        let intact = entry.seq == self.expected_seq
            && entry.prev_hash == self.expected_prev
            && entry.hash_is_valid();
        if !intact && self.first_broken.is_none() {
            self.first_broken = Some(entry.seq.min(self.expected_seq));
        }
        self.expected_seq = entry.seq + 1;
        self.expected_prev.clone_from(&entry.hash);
    }

    /// Finishes with the recorded tip: a log shorter than its tip lost its
    /// last entries.
    pub(crate) fn finish(mut self, tip: (u64, &str)) -> AuditVerification {
        let (tip_seq, tip_hash) = tip;
        let last_seq = self.expected_seq - 1;
        if self.first_broken.is_none() && (last_seq != tip_seq || self.expected_prev != tip_hash) {
            self.first_broken = Some(last_seq.min(tip_seq) + 1);
        }
        AuditVerification {
            entries: self.entries,
            first_broken: self.first_broken,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: i64) -> AuditEvent {
        AuditEvent::new(Timestamp::from_unix_ms(n), "node", AuditAction::Other)
            .detail(n.to_string())
    }

    fn chain(n: u64) -> Vec<AuditEntry> {
        let mut entries: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let (seq, hash) = entries
                .last()
                .map_or((0, AUDIT_HASH_GENESIS.to_string()), |e| {
                    (e.seq, e.hash.clone())
                });
            entries.push(AuditEntry::chain(seq, &hash, event(i as i64)));
        }
        entries
    }

    #[track_caller]
    fn check(entries: &[AuditEntry], tip: (u64, &str), expect: Option<u64>) {
        let mut walk = ChainCheck::new();
        entries.iter().for_each(|e| walk.push(e));
        assert_eq!(walk.finish(tip).first_broken, expect);
    }

    #[test]
    fn detects_modified_deleted_reordered() {
        let entries = chain(5);
        let tip = (5, entries[4].hash.as_str());
        check(&entries, tip, None);
        check(&[], (0, AUDIT_HASH_GENESIS), None);

        let mut modified = entries.clone();
        modified[2].event.detail = "forged".into();
        check(&modified, tip, Some(3));

        let mut deleted = entries.clone();
        deleted.remove(1);
        check(&deleted, tip, Some(2));

        let mut truncated = entries.clone();
        truncated.pop();
        check(&truncated, tip, Some(5));

        let mut reordered = entries.clone();
        reordered.swap(1, 3);
        check(&reordered, tip, Some(2));
    }

    proptest::proptest! {
        #[test]
        fn direct_encoding_is_canonical(
            seq in 0u64..=JCS_INTEGER_MAX,
            ms in 0i64..253_402_300_799_999,
            actor in "\\PC{0,40}|[\\x00-\\x7f]{0,20}",
            detail in proptest::prelude::any::<String>(),
            action in 0usize..8,
            with_party in proptest::prelude::any::<bool>(),
        ) {
            let mut event = AuditEvent::new(Timestamp::from_unix_ms(ms), actor, AuditAction::ALL[action])
                .detail(detail);
            if with_party {
                event = event
                    .counterparty(Party::new("JPN-JCG").unwrap())
                    .report(ReportId::new_v7(Timestamp::from_unix_ms(ms)));
            }
            proptest::prop_assert_eq!(
                String::from_utf8(hashed_fields_json(seq, &event)).unwrap(),
                String::from_utf8(hashed_fields_canonical(seq, &event)).unwrap()
            );
        }
    }

    #[test]
    fn action_names_match_serde() {
        for action in AuditAction::ALL {
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(json, format!("\"{}\"", action.as_str()));
            assert_eq!(AuditAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(AuditAction::parse("delete"), None);
    }
}
