//! The audit log: append-only entries, each committing to the one before.
//!
//! Each entry's `hash` covers the previous entry's hash, its own `seq` and
//! its event, so changing, deleting or reordering an entry breaks the link
//! of the next one (or, for the last entry, the tip the store keeps beside
//! the log). The first entry's `prev_hash` is [`AUDIT_HASH_GENESIS`]. One
//! encoding of the hashed fields exists: `hash = sha256("trilat-audit-v1\0"
//! || prev_hash as 32 bytes || seq as u64 big-endian || fields)`, where
//! `fields` is the entry's binary encoding ([`encode_fields`]), which is
//! also how the SQLite store keeps it.

use sha2::{Digest, Sha256};
use trilat_core::{Party, ReportId, ReportKey, Timestamp};

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
    /// A local user acknowledged a report (a warning seen on the console);
    /// `detail` names the version acknowledged.
    Acknowledge,
    /// A report's owner withdrew it from a party (a new version narrowed
    /// its marking away from that party): sent to, or received from, the
    /// counterparty; `detail` names the version that narrowed it.
    Withdraw,
}

impl AuditAction {
    /// Every action, for parsing and tests.
    pub const ALL: [AuditAction; 10] = [
        AuditAction::Create,
        AuditAction::Version,
        AuditAction::Revoke,
        AuditAction::Receive,
        AuditAction::Release,
        AuditAction::Read,
        AuditAction::Refuse,
        AuditAction::Other,
        AuditAction::Acknowledge,
        AuditAction::Withdraw,
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
            AuditAction::Acknowledge => "acknowledge",
            AuditAction::Withdraw => "withdraw",
        }
    }

    /// The action's byte in the binary entry encoding. Fixed forever: a new
    /// action takes a new code.
    pub(crate) fn code(self) -> u8 {
        match self {
            AuditAction::Create => 1,
            AuditAction::Version => 2,
            AuditAction::Revoke => 3,
            AuditAction::Receive => 4,
            AuditAction::Release => 5,
            AuditAction::Read => 6,
            AuditAction::Refuse => 7,
            AuditAction::Other => 8,
            AuditAction::Acknowledge => 9,
            AuditAction::Withdraw => 10,
        }
    }

    /// The action of [`AuditAction::code`].
    pub(crate) fn from_code(code: u8) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.code() == code)
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
    /// The report concerned, if one (its id; its owner is
    /// `report_owner`: both are set or neither).
    pub report_id: Option<ReportId>,
    /// The owner of the report concerned: with `report_id`, the report's
    /// identity ([`ReportKey`]), since two owners may use one id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_owner: Option<Party>,
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
            report_owner: None,
            counterparty: None,
            detail: String::new(),
        }
    }

    /// Sets the report concerned.
    pub fn report(mut self, key: ReportKey) -> AuditEvent {
        self.report_id = Some(key.id);
        self.report_owner = Some(key.owner);
        self
    }

    /// The report concerned, if one.
    pub fn report_key(&self) -> Option<ReportKey> {
        Some(ReportKey::new(self.report_owner.clone()?, self.report_id?))
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
        if self.report_id.is_some() != self.report_owner.is_some() {
            return Err(StoreError::Invalid(format!(
                "audit entry names a report by {} alone: a report is its owner and its id",
                if self.report_id.is_some() {
                    "its id"
                } else {
                    "its owner"
                }
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
    /// SHA-256 over `prev_hash`, `seq` and the event, hex (the formulas
    /// are in this module's docs and `docs/store.md`).
    pub hash: String,
}

impl AuditEntry {
    /// Chains `event` after an entry whose sequence and hash are given, in
    /// the binary format.
    pub(crate) fn chain(prev_seq: u64, prev_hash: &str, event: AuditEvent) -> AuditEntry {
        debug_assert_eq!(prev_hash.len(), 64);
        let seq = prev_seq + 1;
        let hash = entry_hash(seq, prev_hash, &event).expect("the previous hash is 64 hex digits");
        AuditEntry {
            seq,
            event,
            prev_hash: prev_hash.to_string(),
            hash,
        }
    }

    /// Whether `hash` is right for the rest of the entry.
    pub fn hash_is_valid(&self) -> bool {
        entry_hash(self.seq, &self.prev_hash, &self.event).as_deref() == Some(self.hash.as_str())
    }
}

/// Domain separation of the binary entry hash from any other SHA-256 use.
const ENTRY_HASH_TAG: &[u8] = b"trilat-audit-v1\0";

/// Appends `event`'s binary encoding to `out`: `at` (milliseconds, i64
/// big-endian), the action's code (u8), the actor (u8 length, UTF-8), the
/// report (u8 0, or 1, its id's 16 UUID bytes and its owner as u8 length
/// and code), the counterparty (u8 0, or its length and its code) and the
/// detail (u16 big-endian length, UTF-8). Every length fits:
/// [`AuditEvent::check`] bounds actor and detail, and party codes are at
/// most 16 bytes.
pub(crate) fn encode_fields(out: &mut Vec<u8>, event: &AuditEvent) {
    encode_fields_keyed(out, event, None);
}

/// [`encode_fields`], taking the 16 bytes of `known_key`'s report id from
/// it instead of formatting the id again.
pub(crate) fn encode_fields_keyed(
    out: &mut Vec<u8>,
    event: &AuditEvent,
    known_key: Option<(&ReportId, [u8; 16])>,
) {
    assert!(event.actor.len() <= AUDIT_ACTOR_LEN_MAX);
    assert!(event.detail.len() <= AUDIT_DETAIL_LEN_MAX);
    out.extend_from_slice(&event.at.unix_ms().to_be_bytes());
    out.push(event.action.code());
    out.push(event.actor.len() as u8);
    out.extend_from_slice(event.actor.as_bytes());
    match (&event.report_id, &event.report_owner) {
        (Some(id), Some(owner)) => {
            out.push(1);
            match known_key {
                Some((known_id, key)) if known_id == id => {
                    debug_assert_eq!(key, report_id_bytes(id));
                    out.extend_from_slice(&key);
                }
                _ => out.extend_from_slice(&report_id_bytes(id)),
            }
            push_party(out, owner);
        }
        (None, None) => out.push(0),
        _ => panic!("an audit event names a report by owner and id (AuditEvent::check)"),
    }
    match &event.counterparty {
        Some(party) => push_party(out, party),
        None => out.push(0),
    }
    out.extend_from_slice(&(event.detail.len() as u16).to_be_bytes());
    out.extend_from_slice(event.detail.as_bytes());
}

/// A party code as its length (u8, never 0) and its bytes.
fn push_party(out: &mut Vec<u8>, party: &Party) {
    let code = party.as_str().as_bytes();
    assert!(!code.is_empty() && code.len() <= usize::from(u8::MAX));
    out.push(code.len() as u8);
    out.extend_from_slice(code);
}

/// Reads one [`encode_fields`] encoding from the front of `bytes`; returns
/// the event and the bytes after it. Errors say what is wrong (the caller
/// adds where).
pub(crate) fn decode_fields(bytes: &[u8]) -> Result<(AuditEvent, &[u8]), String> {
    let mut rest = bytes;
    let mut take = |n: usize, what: &str| -> Result<&[u8], String> {
        if rest.len() < n {
            return Err(format!("{what} cut short ({} of {n} bytes)", rest.len()));
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    let at_ms = i64::from_be_bytes(take(8, "time")?.try_into().expect("8 bytes"));
    let action_code = take(1, "action")?[0];
    let action = AuditAction::from_code(action_code)
        .ok_or_else(|| format!("unknown action code {action_code}"))?;
    let actor_len = usize::from(take(1, "actor length")?[0]);
    let actor = utf8(take(actor_len, "actor")?, "actor")?;
    let (report_id, report_owner) = match take(1, "report flag")?[0] {
        0 => (None, None),
        1 => {
            let id = report_id_from_bytes(take(16, "report id")?)?;
            let owner_len = usize::from(take(1, "report owner length")?[0]);
            let owner = utf8(take(owner_len, "report owner")?, "report owner")?;
            let owner = Party::new(&owner).map_err(|e| format!("report owner: {e}"))?;
            (Some(id), Some(owner))
        }
        flag => return Err(format!("report flag {flag} is neither 0 nor 1")),
    };
    let party_len = usize::from(take(1, "counterparty length")?[0]);
    let counterparty = match party_len {
        0 => None,
        n => {
            let code = utf8(take(n, "counterparty")?, "counterparty")?;
            Some(Party::new(&code).map_err(|e| format!("counterparty: {e}"))?)
        }
    };
    let detail_len = usize::from(u16::from_be_bytes(
        take(2, "detail length")?.try_into().expect("2 bytes"),
    ));
    let detail = utf8(take(detail_len, "detail")?, "detail")?;
    let event = AuditEvent {
        at: Timestamp::from_unix_ms(at_ms),
        actor,
        action,
        report_id,
        report_owner,
        counterparty,
        detail,
    };
    event.check().map_err(|e| e.to_string())?;
    Ok((event, rest))
}

fn utf8(bytes: &[u8], what: &str) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
}

/// A report id's 16 UUID bytes, from its fixed-layout text (8-4-4-4-12 hex
/// digits; core exposes the text, not the bytes).
pub(crate) fn report_id_bytes(id: &ReportId) -> [u8; 16] {
    /// Where each byte's two hex digits start in the text.
    const BYTE_STARTS: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    fn nibble(digit: u8) -> u8 {
        match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            b'A'..=b'F' => digit - b'A' + 10,
            _ => unreachable!("a UUID's text is hex digits and hyphens"),
        }
    }
    let text = crate::body::id_text(id);
    let text = text.as_bytes();
    assert_eq!(text.len(), 36, "a hyphenated UUID has 36 characters");
    let mut bytes = [0u8; 16];
    for (byte, start) in bytes.iter_mut().zip(BYTE_STARTS) {
        *byte = (nibble(text[start]) << 4) | nibble(text[start + 1]);
    }
    bytes
}

/// The report id of [`report_id_bytes`].
fn report_id_from_bytes(bytes: &[u8]) -> Result<ReportId, String> {
    debug_assert_eq!(bytes.len(), 16);
    let hex = hex::encode(bytes);
    let text = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    ReportId::parse(&text).map_err(|e| e.to_string())
}

/// The binary hash of an entry whose [`encode_fields`] bytes are `fields`.
pub(crate) fn binary_hash(prev_hash: &[u8; 32], seq: u64, fields: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(ENTRY_HASH_TAG);
    hasher.update(prev_hash);
    hasher.update(seq.to_be_bytes());
    hasher.update(fields);
    hasher.finalize().into()
}

/// 64 hex digits as 32 bytes.
pub(crate) fn hash_from_hex(text: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes).ok()?;
    Some(bytes)
}

/// An entry's hash, hex; `None` when `prev_hash` is not 64 hex digits.
pub(crate) fn entry_hash(seq: u64, prev_hash: &str, event: &AuditEvent) -> Option<String> {
    let prev = hash_from_hex(prev_hash)?;
    let mut fields = Vec::with_capacity(64 + event.actor.len() + event.detail.len());
    encode_fields(&mut fields, event);
    Some(hex::encode(binary_hash(&prev, seq, &fields)))
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

    /// Checks the next entry.
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

    /// Records entries `first_seq..first_seq + n_entries` as broken
    /// without their contents (a block that does not decode), continuing
    /// the chain after them from `last_hash`.
    pub(crate) fn push_undecodable(&mut self, first_seq: u64, n_entries: u64, last_hash: &str) {
        self.entries += n_entries;
        if self.first_broken.is_none() {
            self.first_broken = Some(first_seq.min(self.expected_seq));
        }
        self.expected_seq = first_seq + n_entries;
        self.expected_prev = last_hash.to_string();
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
        fn binary_fields_round_trip(
            ms in -62_135_596_800_000i64..253_402_300_799_999,
            actor in "\\PC{1,40}",
            detail in "\\PC{0,200}",
            action in 0..AuditAction::ALL.len(),
            with_report in proptest::prelude::any::<bool>(),
            with_party in proptest::prelude::any::<bool>(),
        ) {
            let mut event = AuditEvent::new(Timestamp::from_unix_ms(ms), actor, AuditAction::ALL[action])
                .detail(detail);
            if with_report {
                event = event.report(ReportKey::new(
                    Party::new("KOR-NIS").unwrap(),
                    ReportId::new_v7(Timestamp::from_unix_ms(ms.max(0))),
                ));
            }
            if with_party {
                event = event.counterparty(Party::new("JPN-JCG").unwrap());
            }
            proptest::prop_assume!(event.check().is_ok());
            let mut bytes = Vec::new();
            encode_fields(&mut bytes, &event);
            bytes.extend_from_slice(b"next");
            let (decoded, rest) = decode_fields(&bytes).unwrap();
            proptest::prop_assert_eq!(&decoded, &event);
            proptest::prop_assert_eq!(rest, b"next");
            // Every truncation is an error, not a panic or a wrong event.
            for len in 0..bytes.len() - 4 {
                proptest::prop_assert!(decode_fields(&bytes[..len]).is_err());
            }
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = decode_fields(&bytes);
        }
    }

    #[test]
    fn binary_hash_is_chained_and_covers_every_field() {
        let entries = chain(3);
        assert_eq!(entries[1].prev_hash, entries[0].hash);
        assert!(entries.iter().all(|e| e.hash_is_valid()));
        let mut base = entries[2].clone();
        base.event = base.event.report(ReportKey::new(
            Party::new("USA").unwrap(),
            ReportId::new_v7(Timestamp::from_unix_ms(1)),
        ));
        base.hash = entry_hash(base.seq, &base.prev_hash, &base.event).unwrap();
        assert!(base.hash_is_valid());
        let mut changed = vec![base.clone(); 8];
        changed[0].seq += 1;
        changed[1].prev_hash = entries[0].hash.clone();
        changed[2].event.at = Timestamp::from_unix_ms(99);
        changed[3].event.actor.push('x');
        changed[4].event.action = AuditAction::Read;
        changed[5].event.report_id = Some(ReportId::new_v7(Timestamp::from_unix_ms(1)));
        changed[6].event.counterparty = Some(Party::new("KOR").unwrap());
        changed[7].event.report_owner = Some(Party::new("KOR").unwrap());
        for (field_idx, entry) in changed.iter().enumerate() {
            assert!(!entry.hash_is_valid(), "change {field_idx} went unnoticed");
        }
        let mut bad_prev = base;
        bad_prev.prev_hash = "not hex".into();
        assert!(!bad_prev.hash_is_valid());
    }

    #[test]
    fn action_codes_are_distinct() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::from_code(action.code()), Some(action));
        }
        assert_eq!(AuditAction::from_code(0), None);
        assert_eq!(AuditAction::from_code(11), None);
        // Codes are fixed forever: entries written before a new action
        // existed decode to the same actions.
        let codes: Vec<u8> = AuditAction::ALL.iter().map(|a| a.code()).collect();
        assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
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
