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

/// Schema version 1 as shipped (commit a3d11c8), for the migration test.
const SCHEMA_V1_AS_SHIPPED: &str = r#"
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE report_version (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id BLOB    NOT NULL,
    counter   INTEGER NOT NULL,
    signature TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    UNIQUE (report_id, counter)
);
CREATE TABLE report_current (
    report_id   BLOB    PRIMARY KEY,
    seq         INTEGER NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    observed_ms INTEGER NOT NULL,
    exercise    INTEGER NOT NULL,
    revoked     INTEGER NOT NULL,
    west  REAL, south REAL, east REAL, north REAL
) WITHOUT ROWID;
CREATE INDEX report_current_kind     ON report_current (kind, seq);
CREATE INDEX report_current_owner    ON report_current (owner, seq);
CREATE INDEX report_current_observed ON report_current (observed_ms);
CREATE VIRTUAL TABLE report_current_bbox USING rtree (seq, west, east, south, north);
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, report_id TEXT, counterparty TEXT, detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER report_version_no_update BEFORE UPDATE ON report_version
BEGIN SELECT RAISE(ABORT, 'report_version is append-only'); END;
CREATE TRIGGER report_version_no_delete BEFORE DELETE ON report_version
BEGIN SELECT RAISE(ABORT, 'report_version is append-only'); END;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
INSERT INTO store_meta VALUES ('store_id', '00000000000000ab'), ('audit_tip_seq', '0'),
    ('audit_tip_hash', '0000000000000000000000000000000000000000000000000000000000000000');
PRAGMA user_version = 1;
"#;

/// A v1 store holding `reports` in this order, written row by row as the
/// v1 code wrote them; the last one stored of each id is its current one.
fn v1_store(path: &std::path::Path, reports: &[trilat_core::Report]) {
    let conn = raw(path);
    conn.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    conn.execute_batch(SCHEMA_V1_AS_SHIPPED).unwrap();
    for report in reports {
        let mut key = [0u8; 16];
        hex::decode_to_slice(report.id.to_string().replace('-', ""), &mut key).unwrap();
        conn.execute(
            "INSERT INTO report_version (report_id, counter, signature, body) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![key, report.version, report.signature.to_string(), serde_json::to_string(report).unwrap()],
        )
        .unwrap();
        conn.execute(
            "INSERT OR REPLACE INTO report_current (report_id, seq, kind, owner, observed_ms, exercise, revoked)
             VALUES (?1, last_insert_rowid(), ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![key, report.kind.as_str(), report.owner.as_str(), report.observed_at.unix_ms(), report.exercise, report.revoked],
        )
        .unwrap();
    }
}

/// Every schema object's SQL, whitespace collapsed (the test's v1 copy is
/// laid out more compactly than the crate's).
fn table_sql(path: &std::path::Path) -> Vec<(String, Option<String>)> {
    let conn = raw(path);
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master ORDER BY name")
        .unwrap();
    let rows = stmt
        .query_map([], |row| {
            let sql: Option<String> = row.get(1)?;
            let sql = sql.map(|sql| sql.split_whitespace().collect::<Vec<_>>().join(" "));
            Ok((row.get(0)?, sql))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn migrates_a_v1_store_and_backfills_arrival() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    // Modified times out of seq order: 5 s, 1 s (arrived later), 9 s.
    let mut located = draft("JPN", "note", 9_000);
    located.geometry = Some(point(129.0, 35.1));
    let reports = [
        sign(draft("USA", "note", 5_000)),
        sign(draft("KOR", "track", 1_000)),
        sign(located),
    ];
    v1_store(&path, &reports);
    let store = SqliteStore::open(&path).unwrap();
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);

    // Arrival is backfilled from `modified`, clamped to stay non-decreasing.
    let page = store.changes(None, 10).unwrap();
    let backfilled: Vec<_> = page.changes.iter().map(|c| (c.seq, c.stored_at)).collect();
    assert_eq!(backfilled, [(1, t(5_000)), (2, t(5_000)), (3, t(9_000))]);
    let reports_read: Vec<_> = page.changes.iter().map(|c| c.report.clone()).collect();
    assert_eq!(reports_read, reports);
    // Kinds are backfilled: the kind feed works on migrated rows.
    let notes = store
        .changes_of_kind(&Kind::new("note").unwrap(), None, 10)
        .unwrap();
    assert_eq!(
        notes.changes.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [1, 3]
    );
    assert_eq!(
        store.get(&reports[1].id).unwrap().as_ref(),
        Some(&reports[1])
    );

    // New writes arrive after the backfilled ones, and the table is still
    // append-only (the trigger lifted for the backfill is back).
    let fresh = sign(draft("USA", "note", 0));
    store.put(&fresh, event(&fresh)).unwrap();
    let last = store.changes(Some(&page.next), 10).unwrap().changes;
    assert!(last[0].stored_at >= t(9_000));
    let err = raw(&path)
        .execute("UPDATE report_version SET stored_at_ms = 0", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");

    // The query columns are backfilled: a bbox query finds the located one.
    let near_busan = store
        .query(&ReportQuery {
            bbox: Some([128.5, 34.5, 129.5, 35.5]),
            ..ReportQuery::default()
        })
        .unwrap();
    assert_eq!(near_busan.reports, [reports[2].clone()]);

    // The migrated schema is the one a fresh store gets.
    let fresh_path = dir.path().join("fresh.db");
    drop(SqliteStore::open(&fresh_path).unwrap());
    drop(store);
    assert_eq!(table_sql(&path), table_sql(&fresh_path));

    // Reopening a migrated store changes nothing.
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.changes(None, 10).unwrap().changes[..3],
        page.changes[..]
    );
}

#[test]
fn migration_refuses_an_undecodable_v1_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    v1_store(&path, &[sign(draft("USA", "note", 0))]);
    raw(&path)
        .execute_batch(
            "INSERT INTO report_version (report_id, counter, signature, body) VALUES (x'00', 1, 's', '{oops')",
        )
        .unwrap();
    let err = SqliteStore::open(&path).err().expect("corrupt row refused");
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert!(err.to_string().contains("seq 2"), "{err}");
    // Nothing was half-migrated: still version 1.
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
}

#[test]
fn migration_keeps_current_versions_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    let versions = chain("JPN", 3);
    let other = sign(draft("USA", "note", 0));
    v1_store(
        &path,
        &[
            versions[0].clone(),
            other.clone(),
            versions[1].clone(),
            versions[2].clone(),
        ],
    );
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.get(&versions[0].id).unwrap().as_ref(),
        Some(&versions[2])
    );
    assert_eq!(store.history(&versions[0].id).unwrap(), versions);
    // Queries see current versions only, in the order they became current.
    let current = store.query(&ReportQuery::default()).unwrap().reports;
    assert_eq!(current, [other, versions[2].clone()]);
    // A revocation after migration supersedes the migrated current one.
    let revocation = revoke(&versions[2]);
    store.put(&revocation, event(&revocation)).unwrap();
    let page = store
        .query(&ReportQuery {
            include_revoked: true,
            ..ReportQuery::default()
        })
        .unwrap();
    assert_eq!(page.reports.last(), Some(&revocation));
    assert_eq!(page.reports.len(), 2);
}
