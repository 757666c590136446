//! `PostgresStore::import_sqlite` (what `trilat migrate` runs): an SQLite
//! store copied into PostgreSQL answers every read as the source did, with
//! the same audit chain, feed seqs, arrival times and cursors; a store
//! that is not empty, or a source whose chain is broken, is refused with
//! nothing written. (The same on a store a real node wrote:
//! `crates/trilat/tests/migrate.rs`.)

use trilat_core::Withdrawal;
use trilat_store::{
    AuditAction, AuditEvent, MigrationProgress, ReportStore, SqliteStore, StoreError,
    QUERY_LIMIT_MAX,
};

use crate::fixture::*;
use crate::pg_server::server;

/// A source with several versions, a revocation, batches, withdrawals,
/// plain audit entries, sync state and a peer request.
fn populated_source(path: &std::path::Path) -> SqliteStore {
    let store = SqliteStore::open(path).unwrap();
    let usa = chain("USA", 3);
    for report in &usa {
        store.put(report, event(report)).unwrap();
    }
    let jpn = sign(draft("JPN", "note", 5));
    store.put(&jpn, event(&jpn)).unwrap();
    store.put(&revoke(&jpn), event(&revoke(&jpn))).unwrap();
    let batch: Vec<_> = (0..40)
        .map(|i| {
            let mut d = draft("KOR", "maritime.incident", i);
            d.geometry = Some(point(124.0 + i as f64 * 0.01, 37.5));
            let report = sign(d);
            let event = event(&report);
            (report, event)
        })
        .collect();
    store.put_batch(&batch).unwrap();
    let withdrawal = Withdrawal::sign(&usa[1], &key("USA")).unwrap();
    let audit = AuditEvent::new(t(9), "peer:USA", AuditAction::Withdraw).report(usa[0].key());
    assert!(store.put_withdrawal(&withdrawal, audit).unwrap());
    store
        .append_audit(AuditEvent::new(t(10), "node", AuditAction::Other).detail("tick"))
        .unwrap();
    store
        .set_sync_state("pull:KOR", "c1.0123456789abcdef.2a")
        .unwrap();
    assert!(store.note_peer_request(&[9; 64], T0_MS, 0).unwrap());
    store
}

/// Everything a reader can ask both stores, compared.
fn assert_same_reads(source: &dyn ReportStore, copy: &dyn ReportStore) {
    let mut cursor = None;
    loop {
        let (a, b) = (
            source.changes(cursor.as_ref(), 7).unwrap(),
            copy.changes(cursor.as_ref(), 7).unwrap(),
        );
        assert_eq!(a.changes, b.changes, "the change feed differs");
        assert_eq!(a.next.to_string(), b.next.to_string(), "cursors differ");
        cursor = Some(a.next);
        if !a.more {
            break;
        }
    }
    let all = trilat_store::ReportQuery {
        include_withdrawn: true,
        include_revoked: true,
        limit: QUERY_LIMIT_MAX,
        ..Default::default()
    };
    assert_eq!(
        source.query(&all).unwrap().reports,
        copy.query(&all).unwrap().reports
    );
    assert_eq!(
        source.audit(0, QUERY_LIMIT_MAX).unwrap(),
        copy.audit(0, QUERY_LIMIT_MAX).unwrap()
    );
    assert_eq!(
        source.audit_last_seq().unwrap(),
        copy.audit_last_seq().unwrap()
    );
    assert_eq!(
        source.withdrawals(0, QUERY_LIMIT_MAX).unwrap(),
        copy.withdrawals(0, QUERY_LIMIT_MAX).unwrap()
    );
    let verified = copy.verify_audit().unwrap();
    assert_eq!(verified, source.verify_audit().unwrap());
    assert_eq!(verified.first_broken, None);
}

#[test]
fn a_migrated_store_answers_as_the_sqlite_store_did() {
    let Some(server) = server("migrate::a_migrated_store_answers_as_the_sqlite_store_did") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("source.db");
    let source = populated_source(&path);
    let schema = server.schema();
    let mut seen = Vec::new();
    let (copy, migration) = server
        .store_in(&schema)
        .import_sqlite(&path, &mut |p: &MigrationProgress| seen.push(p.clone()))
        .unwrap();

    assert_eq!(migration.copied.report_versions, 45);
    assert_eq!(migration.copied.withdrawals, 1);
    assert_eq!(migration.copied.withdrawal_log, 1);
    assert_eq!(migration.copied.sync_state, 1);
    assert_eq!(migration.copied.peer_requests, 1);
    assert_eq!(migration.audit_entries, 47);
    let last = source.audit(46, 1).unwrap();
    assert_eq!(migration.audit_head_hash, last[0].hash);
    let last = seen.last().expect("progress reported");
    assert_eq!(last.rows_done, last.rows_total);
    assert_eq!(last.rows_total, migration.copied.total());
    assert!(seen.windows(2).all(|w| w[0].rows_done < w[1].rows_done));

    assert_same_reads(&source, &copy);
    // A reopened store (another process) reads the same; the state the
    // node keeps for its peers came along.
    let reopened = server.store_in(&schema);
    assert_same_reads(&source, &reopened);
    assert_eq!(
        reopened.sync_state("pull:KOR").unwrap().as_deref(),
        Some("c1.0123456789abcdef.2a")
    );
    assert!(!reopened.note_peer_request(&[9; 64], T0_MS, 0).unwrap());
    // Writing goes on where the source stopped: the next seq, the chain extended.
    let next = sign(draft("USA", "note", 99));
    let outcome = reopened.put(&next, event(&next)).unwrap();
    assert_eq!(
        outcome,
        trilat_store::PutOutcome::Stored {
            seq: 46,
            current: true
        }
    );
    assert_eq!(reopened.audit_last_seq().unwrap(), 48);
    assert_eq!(reopened.verify_audit().unwrap().first_broken, None);
}

#[test]
fn a_store_that_is_not_empty_is_refused_and_left_as_it_was() {
    let Some(server) = server("migrate::a_store_that_is_not_empty_is_refused_and_left_as_it_was")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("source.db");
    drop(populated_source(&path));
    let schema = server.schema();
    let held = server.store_in(&schema);
    let report = sign(draft("KOR", "note", 1));
    held.put(&report, event(&report)).unwrap();

    let err = server
        .store_in(&schema)
        .import_sqlite(&path, &mut |_| {})
        .err()
        .expect("refused");
    let message = err.to_string();
    assert!(message.contains("not empty"), "{message}");
    assert!(message.contains("1 report versions"), "{message}");
    assert_eq!(held.changes(None, 10).unwrap().changes.len(), 1);
    assert_eq!(held.audit_last_seq().unwrap(), 1);

    // A second migration into a store the first one filled is refused too.
    let schema = server.schema();
    server
        .store_in(&schema)
        .import_sqlite(&path, &mut |_| {})
        .unwrap();
    let err = server
        .store_in(&schema)
        .import_sqlite(&path, &mut |_| {})
        .err()
        .expect("refused");
    assert!(err.to_string().contains("not empty"), "{err}");
}

#[test]
fn a_source_whose_chain_is_broken_is_refused_with_nothing_written() {
    let Some(server) =
        server("migrate::a_source_whose_chain_is_broken_is_refused_with_nothing_written")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("source.db");
    drop(populated_source(&path));
    // The recorded tip no longer matches the last entry (as if entries
    // after it had been cut away).
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE store_meta SET value = '46' WHERE key = 'audit_tip_seq'")
        .unwrap();
    let schema = server.schema();
    let err = server
        .store_in(&schema)
        .import_sqlite(&path, &mut |_| {})
        .err()
        .expect("refused");
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert!(err.to_string().contains("broken at entry"), "{err}");
    let destination = server.store_in(&schema);
    assert_eq!(destination.changes(None, 10).unwrap().changes.len(), 0);
    assert_eq!(destination.audit_last_seq().unwrap(), 0);
}

#[test]
fn a_missing_source_is_named_and_not_created() {
    let Some(server) = server("migrate::a_missing_source_is_named_and_not_created") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.db");
    let err = server
        .store()
        .import_sqlite(&path, &mut |_| {})
        .err()
        .expect("refused");
    assert!(err.to_string().contains("typo.db"), "{err}");
    assert!(!path.exists());
}

/// A store of schema 1 holds withdrawals without an arrival time: they
/// are copied as such (not given a made-up time).
#[test]
fn withdrawals_without_an_arrival_time_stay_without_one() {
    let Some(server) = server("migrate::withdrawals_without_an_arrival_time_stay_without_one")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("source.db");
    drop(populated_source(&path));
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TABLE withdrawal_log; PRAGMA user_version = 1;")
        .unwrap();
    let (copy, migration) = server.store().import_sqlite(&path, &mut |_| {}).unwrap();
    assert_eq!(migration.copied.withdrawal_log, 1);
    let log = copy.withdrawals(0, 10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].stored_at, None);
    let source = SqliteStore::open(&path).unwrap();
    assert_same_reads(&source, &copy);
}
