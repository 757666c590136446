//! Signed reports for the tests: fixed keys, readable builders.

use trilat_core::{Kind, Marking, NodeKey, Party, Report, ReportDraft, Timestamp, Tlp};
use trilat_store::{AuditAction, AuditEvent};

/// 2026-11-28T00:00:00Z.
pub const T0_MS: i64 = 1_795_824_000_000;

pub fn t(offset_ms: i64) -> Timestamp {
    Timestamp::from_unix_ms(T0_MS + offset_ms)
}

pub fn party(code: &str) -> Party {
    Party::new(code).unwrap()
}

/// A fixed key per party, so tests are reproducible.
pub fn key(code: &str) -> NodeKey {
    let mut seed = [7u8; 32];
    seed[..code.len()].copy_from_slice(code.as_bytes());
    NodeKey::from_seed(seed)
}

pub fn marking() -> Marking {
    Marking::new("CONFIDENTIAL", Tlp::Amber, ["USA", "JPN", "KOR"])
}

/// A draft for `owner` of `kind`, observed at `t(observed)`.
pub fn draft(owner: &str, kind: &str, observed: i64) -> ReportDraft {
    let mut draft = ReportDraft::new(
        party(owner),
        Kind::new(kind).unwrap(),
        marking(),
        serde_json::json!({"text": format!("{owner} {kind} at {observed}")}),
        t(observed),
    );
    draft.observed_at = t(observed);
    draft
}

pub fn sign(draft: ReportDraft) -> Report {
    let owner = draft.owner.as_str().to_string();
    draft.sign(&key(&owner)).unwrap()
}

/// A point geometry at (lon, lat).
pub fn point(lon: f64, lat: f64) -> serde_json::Value {
    serde_json::json!({"type": "Point", "coordinates": [lon, lat]})
}

/// `n` versions of one report, v1 first; the owner edits the text each time.
pub fn chain(owner: &str, n: u64) -> Vec<Report> {
    let mut versions = vec![sign(draft(owner, "note", 0))];
    for i in 1..n {
        let previous = versions.last().unwrap();
        let mut next = previous.next_version(t(i as i64 * 1000));
        next.payload = serde_json::json!({"text": format!("version {}", i + 1)});
        versions.push(sign(next));
    }
    versions
}

/// The revocation of `report` (the next version, revoked).
pub fn revoke(report: &Report) -> Report {
    sign(report.revocation(report.modified.add_ms(1000)))
}

pub fn event(report: &Report) -> AuditEvent {
    AuditEvent::new(
        report.modified,
        format!("{}:analyst-1", report.owner),
        AuditAction::Create,
    )
    .report(report.key())
}
