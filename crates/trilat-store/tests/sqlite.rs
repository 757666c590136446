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
fn peer_request_signatures_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        assert!(store.note_peer_request(&[7; 64], 1_000, 0).unwrap());
    }
    let store = SqliteStore::open(&path).unwrap();
    assert!(!store.note_peer_request(&[7; 64], 1_100, 0).unwrap());
    assert!(store.note_peer_request(&[8; 64], 1_100, 0).unwrap());
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

/// A store of schema 1 (the first released) is upgraded on open: its
/// withdrawals enter the withdrawal log with no arrival time (none was
/// kept), the rest is untouched, and new withdrawals are logged with theirs.
#[test]
fn a_store_of_schema_1_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let usa = chain("USA", 3);
    let withdraw = |store: &SqliteStore, report: &trilat_core::Report| {
        let withdrawal = trilat_core::Withdrawal::sign(report, &key("USA")).unwrap();
        let audit = AuditEvent::new(t(0), "peer:USA", AuditAction::Withdraw).report(report.key());
        assert!(store.put_withdrawal(&withdrawal, audit).unwrap());
    };
    let reports = {
        let store = populated(&path);
        store.put(&usa[0], event(&usa[0])).unwrap();
        withdraw(&store, &usa[1]);
        store
            .query(&ReportQuery {
                include_withdrawn: true,
                ..ReportQuery::default()
            })
            .unwrap()
            .reports
    };
    // Schema 1 as released: no withdrawal log.
    raw(&path)
        .execute_batch("DROP TABLE withdrawal_log; PRAGMA user_version = 1;")
        .unwrap();

    let store = SqliteStore::open(&path).unwrap();
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let log = store.withdrawals(0, 10).unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (&log[0].report, log[0].version, log[0].stored_at),
        (&usa[0].key(), 2, None)
    );
    let all = ReportQuery {
        include_withdrawn: true,
        ..ReportQuery::default()
    };
    assert_eq!(store.query(&all).unwrap().reports, reports);
    assert_eq!(store.verify_audit().unwrap().first_broken, None);
    withdraw(&store, &usa[2]);
    let log = store.withdrawals(1, 10).unwrap();
    assert_eq!((log[0].seq, log[0].version), (2, 3));
    assert!(log[0].stored_at.is_some());
    drop(store);
    // Opened again: nothing to upgrade, nothing changes.
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.withdrawals(0, 10).unwrap().len(), 2);
    // The log is append-only, the upgraded rows too.
    for sql in [
        "UPDATE withdrawal_log SET stored_at_ms = 0 WHERE seq = 1",
        "DELETE FROM withdrawal_log WHERE seq = 2",
    ] {
        let err = raw(&path).execute_batch(sql).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

#[test]
fn history_and_audit_are_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(populated(&path));
    let conn = raw(&path);
    for sql in [
        "UPDATE audit_block SET entries = x'00' WHERE first_seq = 1",
        "DELETE FROM audit_block WHERE first_seq = 1",
        "UPDATE report_version SET body = '{}' WHERE seq = 1",
        "DELETE FROM report_version",
    ] {
        let err = conn.execute_batch(sql).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

// ---- The audit block format, re-implemented from docs/store.md ----

/// One entry as a block stores it: its hash and its binary fields.
#[derive(Clone, Debug)]
struct StoredEntry {
    hash: [u8; 32],
    fields: Vec<u8>,
}

/// A block row: its first seq and its entries.
type Block = (u64, Vec<StoredEntry>);

/// The binary fields of an event, as docs/store.md describes them.
fn encode_fields(event: &AuditEvent) -> Vec<u8> {
    let mut out = event.at.unix_ms().to_be_bytes().to_vec();
    let code = AuditAction::ALL
        .iter()
        .position(|a| *a == event.action)
        .unwrap() as u8
        + 1;
    out.push(code);
    out.push(event.actor.len() as u8);
    out.extend_from_slice(event.actor.as_bytes());
    match event.report_key() {
        Some(report) => {
            out.push(1);
            let mut bytes = [0u8; 16];
            hex::decode_to_slice(report.id.to_string().replace('-', ""), &mut bytes).unwrap();
            out.extend_from_slice(&bytes);
            out.push(report.owner.as_str().len() as u8);
            out.extend_from_slice(report.owner.as_str().as_bytes());
        }
        None => out.push(0),
    }
    match &event.counterparty {
        Some(party) => {
            out.push(party.as_str().len() as u8);
            out.extend_from_slice(party.as_str().as_bytes());
        }
        None => out.push(0),
    }
    out.extend_from_slice(&(event.detail.len() as u16).to_be_bytes());
    out.extend_from_slice(event.detail.as_bytes());
    out
}

/// The length of the binary fields at the front of `bytes`.
fn fields_len(bytes: &[u8]) -> usize {
    let mut at = 9;
    at += 1 + bytes[at] as usize; // actor
    if bytes[at] == 1 {
        at += 1 + 16; // report id
        at += 1 + bytes[at] as usize; // report owner
    } else {
        at += 1;
    }
    at += 1 + bytes[at] as usize; // counterparty
    at + 2 + u16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize // detail
}

fn read_blocks(path: &std::path::Path) -> Vec<Block> {
    let conn = raw(path);
    let mut stmt = conn
        .prepare("SELECT first_seq, n_entries, entries FROM audit_block ORDER BY first_seq")
        .unwrap();
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, u64>(0)?,
                row.get::<_, u64>(1)?,
                row.get::<_, Vec<u8>>(2)?,
            ))
        })
        .unwrap();
    rows.map(|row| {
        let (first_seq, n_entries, blob) = row.unwrap();
        let mut entries = Vec::new();
        let mut rest = blob.as_slice();
        while !rest.is_empty() {
            let len = fields_len(&rest[32..]);
            entries.push(StoredEntry {
                hash: rest[..32].try_into().unwrap(),
                fields: rest[32..32 + len].to_vec(),
            });
            rest = &rest[32 + len..];
        }
        assert_eq!(entries.len() as u64, n_entries);
        (first_seq, entries)
    })
    .collect()
}

/// Rewrites every block as someone with write access to the file would:
/// guard triggers dropped, `n_entries` and `last_hash` kept consistent with
/// the entries (so only the hash chain can tell).
fn write_blocks(path: &std::path::Path, blocks: &[Block]) {
    let conn = raw(path);
    conn.execute_batch(
        "DROP TRIGGER audit_block_no_update; DROP TRIGGER audit_block_no_delete;
         DELETE FROM audit_block;",
    )
    .unwrap();
    for (first_seq, entries) in blocks.iter().filter(|(_, e)| !e.is_empty()) {
        let blob: Vec<u8> = entries
            .iter()
            .flat_map(|e| e.hash.iter().chain(&e.fields).copied())
            .collect();
        conn.execute(
            "INSERT INTO audit_block (first_seq, n_entries, last_hash, entries) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![first_seq, entries.len() as u64, entries.last().unwrap().hash, blob],
        )
        .unwrap();
    }
}

/// sha256("trilat-audit-v1\0" || prev hash bytes || seq u64 BE ||
/// fields), as docs/store.md says.
fn binary_hash(prev_hash: &str, seq: u64, fields: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"trilat-audit-v1\0");
    hasher.update(hex::decode(prev_hash).unwrap());
    hasher.update(seq.to_be_bytes());
    hasher.update(fields);
    hasher.finalize().into()
}

/// The entry for `seq` (`store.audit` lists every one).
fn entry_at(path: &std::path::Path, seq: u64) -> trilat_store::AuditEntry {
    let store = SqliteStore::open(path).unwrap();
    store.audit(seq - 1, 1).unwrap().remove(0)
}

/// The store of `make` with its blocks edited by `edit`; the first broken
/// entry verification reports.
#[track_caller]
fn check_tamper(
    make: fn(&std::path::Path) -> SqliteStore,
    edit: impl FnOnce(&std::path::Path, &mut Vec<Block>),
    expect_first_broken: u64,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(make(&path));
    let mut blocks = read_blocks(&path);
    edit(&path, &mut blocks);
    write_blocks(&path, &blocks);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.verify_audit().unwrap().first_broken,
        Some(expect_first_broken)
    );
}

/// Replaces the fields of entry `seq` (in any block) with `event`'s.
fn rewrite(blocks: &mut [Block], seq: u64, event: &AuditEvent) {
    let (first_seq, entries) = blocks.iter_mut().rfind(|(first, _)| *first <= seq).unwrap();
    entries[(seq - *first_seq) as usize].fields = encode_fields(event);
}

/// A store with one batch of 5 reports (one block of entries 1–5) and 2
/// single appends (blocks 6 and 7).
fn batched(path: &std::path::Path) -> SqliteStore {
    let store = SqliteStore::open(path).unwrap();
    let batch: Vec<_> = (0..5)
        .map(|i| {
            let report = sign(draft("USA", "note", i));
            let event = event(&report);
            (report, event)
        })
        .collect();
    assert!(store.put_batch(&batch).unwrap().iter().all(|o| o.is_ok()));
    for i in 0..2 {
        store
            .append_audit(AuditEvent::new(t(i), "node", AuditAction::Other).detail("tick"))
            .unwrap();
    }
    assert_eq!(store.verify_audit().unwrap().first_broken, None);
    store
}

#[test]
fn verify_detects_tampering() {
    let edit_event = |seq: u64, change: fn(&mut AuditEvent)| {
        move |path: &std::path::Path, blocks: &mut Vec<Block>| {
            let mut event = entry_at(path, seq).event;
            change(&mut event);
            rewrite(blocks, seq, &event);
        }
    };
    // An undecodable entry breaks its whole block: entry 3 is a block of
    // its own in `populated`, in the block of entries 1–5 in `batched`.
    for (make, undecodable_at) in [
        (populated as fn(&std::path::Path) -> SqliteStore, 3),
        (batched, 1),
    ] {
        check_tamper(
            make,
            edit_event(2, |e| e.detail = "nothing to see".into()),
            2,
        );
        check_tamper(
            make,
            edit_event(5, |e| e.actor = "JPN:someone-else".into()),
            5,
        );
        check_tamper(make, edit_event(1, |e| e.at = t(1)), 1);
        check_tamper(make, edit_event(3, |e| e.action = AuditAction::Read), 3);
        check_tamper(make, edit_event(2, |e| e.report_id = None), 2);
        // An action code no program wrote: the block does not decode.
        check_tamper(
            make,
            |_, blocks| {
                let (first_seq, entries) = blocks.iter_mut().rfind(|(f, _)| *f <= 3).unwrap();
                entries[(3 - *first_seq) as usize].fields[8] = 200;
            },
            undecodable_at,
        );
        // Reordering: entries 2 and 4 swap places (keeping their seqs' slots).
        check_tamper(
            make,
            |_, blocks| {
                let mut flat: Vec<StoredEntry> =
                    blocks.iter().flat_map(|(_, e)| e.clone()).collect();
                flat.swap(1, 3);
                let mut flat = flat.into_iter();
                for (_, entries) in blocks.iter_mut() {
                    for entry in entries.iter_mut() {
                        *entry = flat.next().unwrap();
                    }
                }
            },
            2,
        );
    }
    // Deletions in single-entry blocks.
    let delete_block = |seq: u64| {
        move |_: &std::path::Path, blocks: &mut Vec<Block>| {
            blocks.retain(|(first, _)| *first != seq)
        }
    };
    check_tamper(populated, delete_block(3), 3);
    check_tamper(populated, delete_block(5), 5);
    check_tamper(populated, |_, blocks| blocks.clear(), 1);
    // Deletions inside a block of a batch: the later entries shift down.
    let delete_entry = |seq: u64| {
        move |_: &std::path::Path, blocks: &mut Vec<Block>| {
            blocks[0].1.remove(seq as usize - 1);
        }
    };
    check_tamper(batched, delete_entry(2), 2);
    check_tamper(batched, delete_entry(5), 5);
    check_tamper(batched, |_, blocks| blocks.truncate(1), 6);
}

#[test]
fn verify_detects_a_rehashed_edit_and_a_forged_tip_column() {
    // Recomputing an edited entry's own hash still breaks the next link.
    for (make, seq) in [
        (populated as fn(&std::path::Path) -> SqliteStore, 2),
        (batched, 2),
        (batched, 5),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        drop(make(&path));
        let mut entry = entry_at(&path, seq);
        entry.event.detail = "rewritten".into();
        let fields = encode_fields(&entry.event);
        let rehashed = binary_hash(&entry.prev_hash, entry.seq, &fields);
        let mut blocks = read_blocks(&path);
        let (first_seq, entries) = blocks.iter_mut().rfind(|(f, _)| *f <= seq).unwrap();
        entries[(seq - *first_seq) as usize] = StoredEntry {
            hash: rehashed,
            fields,
        };
        write_blocks(&path, &blocks);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.verify_audit().unwrap().first_broken, Some(seq + 1));
    }
    // A block's last_hash column that is not its last entry's hash.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(batched(&path));
    raw(&path)
        .execute_batch(
            "DROP TRIGGER audit_block_no_update;
             UPDATE audit_block SET last_hash = zeroblob(32) WHERE first_seq = 1",
        )
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.verify_audit().unwrap().first_broken, Some(1));
    assert!(matches!(store.audit(0, 10), Err(StoreError::Corrupt(_))));
}

#[test]
fn hash_formula_is_the_documented_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(batched(&path));
    let store = SqliteStore::open(&path).unwrap();
    let entries = store.audit(0, 100).unwrap();
    assert_eq!(entries.len(), 7, "every event is listed");
    let stored: Vec<StoredEntry> = read_blocks(&path)
        .into_iter()
        .flat_map(|(_, e)| e)
        .collect();
    for (entry, stored) in entries.iter().zip(&stored) {
        assert_eq!(
            stored.fields,
            encode_fields(&entry.event),
            "entry {}",
            entry.seq
        );
        let hash = binary_hash(&entry.prev_hash, entry.seq, &stored.fields);
        assert_eq!(hex::encode(hash), entry.hash, "entry {}", entry.seq);
        assert!(entry.hash_is_valid());
    }
    // Paging: every window of the listing is the same entries.
    for after in 0..7 {
        for limit in 1..4 {
            let page = store.audit(after, limit).unwrap();
            let end = (after as usize + limit).min(7);
            assert_eq!(
                page,
                entries[after as usize..end],
                "after {after} limit {limit}"
            );
        }
    }
}

#[test]
fn refuses_to_extend_a_truncated_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(populated(&path));
    let mut blocks = read_blocks(&path);
    blocks.pop();
    write_blocks(&path, &blocks);
    let store = SqliteStore::open(&path).unwrap();
    let report = sign(draft("USA", "note", 0));
    let err = store.put(&report, event(&report)).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert_eq!(store.get(&report.key()).unwrap(), None, "nothing written");
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
    let err = store.get(&report.key()).unwrap_err();
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
    use std::time::Duration;
    // The batch must outlast the reader's head start by a wide margin for the
    // timing to mean anything; machines differ, so grow it until it does.
    // A batch is at most BATCH_LEN_MAX reports: past that, a shorter head
    // start (the writer has begun its transaction within milliseconds).
    let head_start_ms = [(3_000, 100), (10_000, 100), (10_000, 20)];
    for (n_reports, head_start_ms) in head_start_ms {
        if reads_during_a_batch(n_reports, Duration::from_millis(head_start_ms)) {
            return;
        }
    }
    panic!("even a batch of 10,000 reports finished too fast to observe a concurrent read");
}

/// Runs one batch of `n_reports` with a read `head_start` after it began;
/// false when the batch was too short for the check to mean anything.
fn reads_during_a_batch(n_reports: u32, head_start: std::time::Duration) -> bool {
    use std::sync::Arc;
    use std::time::Instant;
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
    std::thread::sleep(head_start);
    let start = Instant::now();
    let seen = store.get(&early.key()).unwrap();
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

/// The first development schema as shipped (commit a3d11c8), for the test
/// that such a store is refused.
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

/// Stores made by development versions before the first release (here
/// the first schema as shipped, and the same file stamped with each later
/// development version) are refused with an error that says to re-create
/// them, and nothing in the file changes.
#[test]
fn refuses_a_store_from_before_the_first_release() {
    for dev_version in 1..=7 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        raw(&path).execute_batch(SCHEMA_V1_AS_SHIPPED).unwrap();
        raw(&path)
            .execute_batch(&format!("PRAGMA user_version = {dev_version}"))
            .unwrap();
        let before = std::fs::read(&path).unwrap();
        let err = SqliteStore::open(&path)
            .err()
            .expect("a development store is refused");
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
        let message = err.to_string();
        assert!(message.contains("before the first release"), "{message}");
        assert!(message.contains("re-create"), "{message}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "nothing rewritten");
    }
}

/// Another program's SQLite file is not taken for a store.
#[test]
fn refuses_a_database_that_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    raw(&path)
        .execute_batch("CREATE TABLE t (x); PRAGMA application_id = 7; PRAGMA user_version = 1;")
        .unwrap();
    let err = SqliteStore::open(&path).err().expect("refused");
    assert!(err.to_string().contains("not a Trilat store"), "{err}");
}
