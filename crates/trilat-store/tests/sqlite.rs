//! What only the SQLite store can show: persistence across reopen, schema
//! versioning, and tamper detection with raw SQL.

use trilat_core::Kind;
use trilat_store::{
    AuditAction, AuditEvent, ReportQuery, ReportStore, SqliteStore, StoreError, SCHEMA_VERSION,
};

use crate::fixture::*;

fn raw(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// A store with 3 reports (3 audit entries) and 2 more audit entries.
fn populated(path: &std::path::Path) -> SqliteStore {
    let store = SqliteStore::open(path).unwrap();
    for owner in ["USA", "JPN", "KOR"] {
        let report = sign(draft(owner, "note", 0));
        store.put(&report, event(&report)).unwrap();
    }
    for i in 0..2 {
        store
            .append_audit(AuditEvent::new(t(i), "node", AuditAction::Other).detail("tick"))
            .unwrap();
    }
    assert_eq!(store.verify_audit().unwrap().first_broken, None);
    store
}

#[test]
fn reopen_keeps_everything_and_cursors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let (cursor, reports) = {
        let store = populated(&path);
        let page = store.changes(None, 2).unwrap();
        let all = store.query(&ReportQuery::default()).unwrap().reports;
        (page.next, all)
    };
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.query(&ReportQuery::default()).unwrap().reports,
        reports
    );
    let rest = store.changes(Some(&cursor), 10).unwrap();
    assert_eq!(rest.changes.len(), 1, "the cursor survives a reopen");
    let verification = store.verify_audit().unwrap();
    assert_eq!((verification.entries, verification.first_broken), (5, None));
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let journal: String = raw(&path)
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
}

#[test]
fn refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(populated(&path));
    raw(&path)
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let err = SqliteStore::open(&path)
        .err()
        .expect("newer schema refused");
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert!(err.to_string().contains("99"), "{err}");
}

#[test]
fn history_and_audit_are_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(populated(&path));
    let conn = raw(&path);
    for sql in [
        "UPDATE audit_log SET detail = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "UPDATE report_version SET body = '{}' WHERE seq = 1",
        "DELETE FROM report_version",
    ] {
        let err = conn.execute_batch(sql).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

/// Tampering as someone with write access to the file would: drop the
/// guard triggers, then edit.
fn tamper(path: &std::path::Path, sql: &str) {
    raw(path)
        .execute_batch(&format!(
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; {sql}"
        ))
        .unwrap();
}

#[track_caller]
fn check_tamper(sql: &str, expect_first_broken: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(populated(&path));
    tamper(&path, sql);
    let store = SqliteStore::open(&path).unwrap();
    let verification = store.verify_audit().unwrap();
    assert_eq!(
        verification.first_broken,
        Some(expect_first_broken),
        "{sql}"
    );
}

#[test]
fn verify_detects_tampering() {
    check_tamper(
        "UPDATE audit_log SET detail = 'nothing to see' WHERE seq = 2",
        2,
    );
    check_tamper(
        "UPDATE audit_log SET actor = 'JPN:someone-else' WHERE seq = 5",
        5,
    );
    check_tamper("UPDATE audit_log SET at_ms = at_ms + 1 WHERE seq = 1", 1);
    check_tamper("UPDATE audit_log SET action = 'read' WHERE seq = 3", 3);
    check_tamper(
        "UPDATE audit_log SET action = 'unheard-of' WHERE seq = 3",
        3,
    );
    check_tamper("DELETE FROM audit_log WHERE seq = 3", 3);
    check_tamper("DELETE FROM audit_log WHERE seq = 5", 5);
    check_tamper("DELETE FROM audit_log", 1);
    // Swap the contents of entries 2 and 4 (a reordering).
    check_tamper(
        "UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 4;
         UPDATE audit_log SET seq = 4 WHERE seq = 100;",
        2,
    );
    // Recomputing an edited entry's own hash still breaks the next link.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = populated(&path);
    let mut entry = store.audit(1, 1).unwrap().remove(0);
    drop(store);
    entry.event.detail = "rewritten".into();
    // The attacker can compute a valid hash for the edited entry itself.
    let rehashed = recompute_hash(&entry);
    tamper(
        &path,
        &format!(
            "UPDATE audit_log SET detail = 'rewritten', hash = '{rehashed}' WHERE seq = {}",
            entry.seq
        ),
    );
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.verify_audit().unwrap().first_broken,
        Some(entry.seq + 1)
    );
}

/// sha256(prev_hash || canonical JSON), as the store computes it.
fn recompute_hash(entry: &trilat_store::AuditEntry) -> String {
    use sha2::{Digest, Sha256};
    let fields = serde_json::json!({
        "seq": entry.seq,
        "at": entry.event.at,
        "actor": entry.event.actor,
        "action": entry.event.action,
        "report_id": entry.event.report_id,
        "counterparty": entry.event.counterparty,
        "detail": entry.event.detail,
    });
    let canonical = trilat_core::canonical_json(&fields).unwrap();
    let mut hasher = Sha256::new();
    hasher.update(entry.prev_hash.as_bytes());
    hasher.update(&canonical);
    hex::encode(hasher.finalize())
}

#[test]
fn hash_formula_is_the_documented_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(&dir.path().join("store.db"));
    for entry in store.audit(0, 100).unwrap() {
        assert_eq!(recompute_hash(&entry), entry.hash, "entry {}", entry.seq);
    }
}

#[test]
fn refuses_to_extend_a_truncated_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(populated(&path));
    tamper(&path, "DELETE FROM audit_log WHERE seq = 5");
    let store = SqliteStore::open(&path).unwrap();
    let report = sign(draft("USA", "note", 0));
    let err = store.put(&report, event(&report)).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert_eq!(store.get(&report.id).unwrap(), None, "nothing written");
    let err = store
        .append_audit(AuditEvent::new(t(0), "node", AuditAction::Other))
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
}

#[test]
fn corrupt_rows_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let report = {
        let store = populated(&path);
        store
            .query(&ReportQuery::default())
            .unwrap()
            .reports
            .remove(0)
    };
    raw(&path)
        .execute_batch(
            "DROP TRIGGER report_version_no_update; UPDATE report_version SET body = 'not json' WHERE seq = 1",
        )
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let err = store.get(&report.id).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert!(err.to_string().contains("seq 1"), "{err}");
    let kind_query = ReportQuery {
        kind: Some(Kind::new("note").unwrap()),
        ..ReportQuery::default()
    };
    assert!(matches!(
        store.query(&kind_query),
        Err(StoreError::Corrupt(_))
    ));
}

#[test]
fn two_handles_on_one_file_keep_one_chain() {
    // The chain's tip lives in the database, not in a handle: two handles
    // (as two processes would) append in turn and the chain stays intact.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let first = SqliteStore::open(&path).unwrap();
    let second = SqliteStore::open(&path).unwrap();
    for i in 0..6 {
        let store = if i % 2 == 0 { &first } else { &second };
        let report = sign(draft("USA", "note", i));
        store.put(&report, event(&report)).unwrap();
        store
            .append_audit(AuditEvent::new(t(i), "node", AuditAction::Read))
            .unwrap();
    }
    for store in [&first, &second] {
        let verification = store.verify_audit().unwrap();
        assert_eq!(
            (verification.entries, verification.first_broken),
            (12, None)
        );
        assert_eq!(store.changes(None, 100).unwrap().changes.len(), 6);
    }
}

#[test]
fn reads_do_not_wait_for_a_running_batch() {
    // The batch must outlast the reader's head start by a wide margin for the
    // timing to mean anything; machines differ, so grow it until it does.
    for n_reports in [3_000, 10_000] {
        if reads_during_a_batch(n_reports) {
            return;
        }
    }
    panic!("even a batch of 10,000 reports finished too fast to observe a concurrent read");
}

/// Runs one batch of `n_reports` with a read during it; false when the batch
/// was too short for the check to mean anything.
fn reads_during_a_batch(n_reports: u32) -> bool {
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("store.db")).unwrap());
    let early = sign(draft("KOR", "note", 0));
    store.put(&early, event(&early)).unwrap();
    let batch: Vec<_> = (0..n_reports)
        .map(|i| {
            let report = sign(draft("USA", "note", i.into()));
            let event = event(&report);
            (report, event)
        })
        .collect();
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            let start = Instant::now();
            store.put_batch(&batch).unwrap();
            start.elapsed()
        })
    };
    // Give the writer time to take the write lock, then read.
    let head_start = Duration::from_millis(100);
    std::thread::sleep(head_start);
    let start = Instant::now();
    let seen = store.get(&early.id).unwrap();
    let page = store.changes(None, 10).unwrap();
    let read = start.elapsed();
    let batch_time = writer.join().unwrap();
    if batch_time <= head_start * 3 {
        return false;
    }
    assert_eq!(seen, Some(early));
    assert_eq!(
        page.changes.len(),
        1,
        "the read sees the snapshot before the batch"
    );
    // Waiting for the writer would take the rest of the batch.
    assert!(
        read < (batch_time - head_start) / 2,
        "reads took {read:?} while the batch took {batch_time:?}"
    );
    assert!(store.changes(None, 10).unwrap().more);
    true
}
