//! PostgreSQL only: several processes on one store (one audit chain, a
//! change feed without gaps while they commit), reopening, refusals of
//! what is not a store, and tampering. The behavioural suite runs on
//! PostgreSQL too (`suite.rs`).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use trilat_core::Report;
use trilat_store::{
    AuditAction, AuditEvent, Cursor, PostgresStore, PutOutcome, ReportStore, StoreError,
};

use crate::fixture::*;
use crate::pg_server;

/// Set in a child's environment: the schema it writes to.
const CHILD_SCHEMA_ENV: &str = "TRILAT_STORE_PG_CHILD_SCHEMA";
/// Set in a child's environment: the file of shared reports it puts.
const CHILD_SHARED_ENV: &str = "TRILAT_STORE_PG_CHILD_SHARED";
/// Set in a child's environment: the owner of its own reports.
const CHILD_OWNER_ENV: &str = "TRILAT_STORE_PG_CHILD_OWNER";
/// Writer processes (children) besides the parent's own writer.
const CHILDREN: [&str; 2] = ["USA", "JPN"];
/// Writer threads per process.
const THREADS_PER_PROCESS: usize = 2;
/// Rounds per writer thread: a single put, a batch, an audit entry.
const ROUNDS: usize = 12;
/// Reports every process receives (as from a peer) and puts concurrently.
const SHARED_REPORTS: usize = 120;

/// The batch a writer puts in `round`: 1 to 31 reports.
fn batch_len(round: usize) -> usize {
    (round % 7) * 5 + 1
}

/// Reports one writer thread stores of its own: each round one put and
/// one batch.
fn own_reports_per_thread() -> usize {
    (0..ROUNDS).map(|round| 1 + batch_len(round)).sum()
}

/// One process's writers: `THREADS_PER_PROCESS` threads on one store, each
/// writing `ROUNDS` rounds of its own reports (owner `owner`), and every
/// shared report, in batches of 10 (each thread starting at another
/// place). Returns (stored, duplicate) counts over the shared reports.
fn write_as_process(store: &PostgresStore, owner: &str, shared: &[Report]) -> (usize, usize) {
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS_PER_PROCESS)
            .map(|thread_idx| {
                scope.spawn(move || {
                    let mut counts = (0, 0);
                    let chunks: Vec<_> = shared.chunks(10).collect();
                    for round in 0..ROUNDS {
                        let report = sign(draft(owner, "note", round as i64));
                        assert!(matches!(
                            store.put(&report, event(&report)).unwrap(),
                            PutOutcome::Stored { current: true, .. }
                        ));
                        let batch: Vec<_> = (0..batch_len(round))
                            .map(|i| {
                                let report = sign(draft(owner, "track", i as i64));
                                let event = event(&report);
                                (report, event)
                            })
                            .collect();
                        for outcome in store.put_batch(&batch).unwrap() {
                            outcome.unwrap();
                        }
                        store
                            .append_audit(
                                AuditEvent::new(t(0), format!("{owner}:writer"), AuditAction::Read)
                                    .detail(format!("thread {thread_idx} round {round}")),
                            )
                            .unwrap();
                        // The shared reports, from another place per thread.
                        let chunk = chunks[(round + thread_idx * 5) % chunks.len()];
                        let puts: Vec<_> = chunk.iter().map(|r| (r.clone(), event(r))).collect();
                        for outcome in store.put_batch(&puts).unwrap() {
                            match outcome.unwrap() {
                                PutOutcome::Stored { .. } => counts.0 += 1,
                                PutOutcome::Duplicate => counts.1 += 1,
                            }
                        }
                    }
                    counts
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    })
}

/// A child process's side. Does nothing unless started by
/// `several_processes_keep_one_audit_chain_and_a_gap_free_feed`.
#[test]
fn pg_child_writer() {
    let (Ok(schema), Ok(shared), Ok(owner)) = (
        std::env::var(CHILD_SCHEMA_ENV),
        std::env::var(CHILD_SHARED_ENV),
        std::env::var(CHILD_OWNER_ENV),
    ) else {
        return;
    };
    let Some(server) = pg_server::server("pg_child_writer") else {
        return;
    };
    let shared: Vec<Report> = serde_json::from_slice(&std::fs::read(shared).unwrap()).unwrap();
    let store = server.store_in(&schema);
    let (stored, duplicate) = write_as_process(&store, &owner, &shared);
    println!("shared stored {stored} duplicate {duplicate}");
}

/// Two child processes and the parent write at once (single puts, batches
/// of 1 to 31, audit entries, and the same shared reports in every
/// process), while a reader in the parent follows the change feed.
/// The reader never sees a gap (a seq that appears only after a later one
/// was read), the feed holds every version once, each shared report is
/// stored exactly once over all processes, and the audit log is one
/// intact chain.
#[test]
fn several_processes_keep_one_audit_chain_and_a_gap_free_feed() {
    let Some(server) = pg_server::server("several_processes_keep_one_audit_chain") else {
        return;
    };
    let schema = server.schema();
    let store = server.store_in(&schema);
    let shared: Vec<Report> = (0..SHARED_REPORTS)
        .map(|i| sign(draft("KOR", "note", i as i64)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let shared_path = dir.path().join("shared.json");
    std::fs::write(&shared_path, serde_json::to_vec(&shared).unwrap()).unwrap();
    let n_processes = CHILDREN.len() + 1;
    let versions_expected =
        n_processes * THREADS_PER_PROCESS * own_reports_per_thread() + SHARED_REPORTS;
    let appends_expected = n_processes * THREADS_PER_PROCESS * ROUNDS;

    let children: Vec<_> = CHILDREN
        .iter()
        .map(|owner| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "postgres::pg_child_writer", "--nocapture"])
                .env(CHILD_SCHEMA_ENV, &schema)
                .env(CHILD_SHARED_ENV, &shared_path)
                .env(CHILD_OWNER_ENV, owner)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let reader_store = server.store_in(&schema);
    let (mut shared_counts, seen) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| follow_feed(&reader_store, versions_expected));
        let counts = write_as_process(&store, "PHL", &shared);
        (counts, reader.join().unwrap())
    });
    for mut child in children {
        let stdout = BufReader::new(child.stdout.take().unwrap());
        for line in stdout.lines() {
            let line = line.unwrap();
            if let Some(counts) = line.strip_prefix("shared stored ") {
                let (stored, duplicate) = counts.split_once(" duplicate ").unwrap();
                shared_counts.0 += stored.parse::<usize>().unwrap();
                shared_counts.1 += duplicate.parse::<usize>().unwrap();
            }
        }
        assert!(child.wait().unwrap().success(), "a writer process failed");
    }

    // Every shared report stored once over all processes, the rest duplicates.
    let shared_puts = n_processes * THREADS_PER_PROCESS * ROUNDS * 10;
    assert_eq!(
        shared_counts,
        (SHARED_REPORTS, shared_puts - SHARED_REPORTS)
    );
    // The feed as the reader saw it while writers committed: every version
    // once, in seq order 1, 2, 3, … (checked as it read).
    assert_eq!(seen.len(), versions_expected);
    let distinct: HashSet<_> = seen.values().collect();
    assert_eq!(distinct.len(), versions_expected);
    for report in &shared {
        assert_eq!(store.get(&report.key()).unwrap().as_ref(), Some(report));
    }
    let verification = store.verify_audit().unwrap();
    assert_eq!(verification.first_broken, None);
    assert_eq!(
        verification.entries as usize,
        versions_expected + appends_expected
    );
}

/// Follows the change feed from its start until `expected` versions were
/// read, asserting each page continues exactly where the last one ended,
/// and that the feed's head read before a page is never ahead of what the
/// page can read (every version at or before the head is committed).
/// Returns what it read, by seq.
fn follow_feed(store: &PostgresStore, expected: usize) -> BTreeMap<u64, (String, u64)> {
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut seen = BTreeMap::new();
    let mut cursor: Option<Cursor> = None;
    let mut next_seq = 1;
    while seen.len() < expected {
        assert!(Instant::now() < deadline, "the feed stalled at {next_seq}");
        let head = cursor_seq(&store.changes_head().unwrap());
        let page = store.changes(cursor.as_ref(), 50).unwrap();
        let behind = head.saturating_sub(next_seq - 1);
        assert!(
            page.changes.len() as u64 >= behind.min(50),
            "the head was at {head} but only {} changes after {} were readable",
            page.changes.len(),
            next_seq - 1
        );
        for change in &page.changes {
            assert_eq!(
                change.seq, next_seq,
                "the feed showed seq {} before {next_seq}: a gap filled later",
                change.seq
            );
            next_seq += 1;
            let key = (change.report.key().to_string(), change.report.version);
            assert!(seen.insert(change.seq, key).is_none());
        }
        cursor = Some(page.next);
        if page.changes.is_empty() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    seen
}

/// The seq a cursor points after (its text ends in the seq, hex).
fn cursor_seq(cursor: &Cursor) -> u64 {
    let text = cursor.to_string();
    u64::from_str_radix(text.rsplit('.').next().unwrap(), 16).unwrap()
}

/// `drop_schema` removes a schema and what is in it (what the tests'
/// clusters clean up with); a schema already gone is no error, and a name
/// that is not a plain schema name is refused before anything runs.
#[test]
fn a_dropped_schema_is_gone() {
    let Some(server) = pg_server::server("a_dropped_schema_is_gone") else {
        return;
    };
    // Not one of the server's schemas: this test drops it itself.
    let schema = format!("dropped_{:016x}", rand::random::<u64>());
    let open = || PostgresStore::open_in_schema(server.url(), &schema).unwrap();
    let store = open();
    let report = sign(draft("USA", "note", 1));
    store.put(&report, event(&report)).unwrap();
    drop(store);
    PostgresStore::drop_schema(server.url(), &schema).unwrap();
    // Opened again: a new, empty store.
    let store = open();
    assert_eq!(store.get(&report.key()).unwrap(), None);
    assert_eq!(store.audit_last_seq().unwrap(), 0);
    drop(store);
    PostgresStore::drop_schema(server.url(), &schema).unwrap();
    PostgresStore::drop_schema(server.url(), &schema).unwrap();
    for bad in ["public; DROP TABLE x", "Upper", ""] {
        assert!(matches!(
            PostgresStore::drop_schema(server.url(), bad),
            Err(StoreError::Invalid(_))
        ));
    }
}

/// A store opened again (as a restarted process) holds the same reports,
/// accepts its own cursors and extends the same chain.
#[test]
fn reopened_store_keeps_reports_cursors_and_chain() {
    let Some(server) = pg_server::server("reopened_store_keeps_reports_cursors_and_chain") else {
        return;
    };
    let schema = server.schema();
    let versions = chain("JPN", 3);
    let cursor = {
        let store = server.store_in(&schema);
        for report in &versions[..2] {
            store.put(report, event(report)).unwrap();
        }
        store.changes(None, 10).unwrap().next
    };
    let store = server.store_in(&schema);
    assert_eq!(
        store.get(&versions[0].key()).unwrap().as_ref(),
        Some(&versions[1])
    );
    store.put(&versions[2], event(&versions[2])).unwrap();
    let page = store.changes(Some(&cursor), 10).unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].report, versions[2]);
    let verification = store.verify_audit().unwrap();
    assert_eq!((verification.entries, verification.first_broken), (3, None));
}

/// A schema holding another program's tables, or a store of a newer
/// schema version, is refused with what to do, and left as it was.
#[test]
fn refuses_what_is_not_a_store_of_this_version() {
    let Some(server) = pg_server::server("refuses_what_is_not_a_store_of_this_version") else {
        return;
    };
    let foreign = server.schema();
    server
        .execute(&foreign, "CREATE TABLE invoices (id int)")
        .unwrap();
    let err = PostgresStore::open_in_schema(server.url(), &foreign)
        .err()
        .expect("refused");
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert!(err.to_string().contains("not a Trilat store"), "{err}");

    let newer = server.schema();
    drop(server.store_in(&newer));
    server
        .execute(
            &newer,
            "UPDATE store_meta SET value = '3' WHERE key = 'schema_version'",
        )
        .unwrap();
    let err = PostgresStore::open_in_schema(server.url(), &newer)
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("newer than this program's"),
        "{err}"
    );

    for bad in ["", "Public", "a-b", "x; DROP TABLE y", &"a".repeat(64)] {
        assert!(matches!(
            PostgresStore::open_in_schema(server.url(), bad),
            Err(StoreError::Invalid(_))
        ));
    }
    assert!(matches!(
        PostgresStore::open("not a url ://"),
        Err(StoreError::Invalid(_))
    ));
}

/// The history tables refuse changes; an audit block changed behind the
/// triggers' back is found by `verify_audit`, and a chain whose last
/// block was removed is not extended.
#[test]
fn append_only_tables_and_tampering_found() {
    let Some(server) = pg_server::server("append_only_tables_and_tampering_found") else {
        return;
    };
    let schema = server.schema();
    let store = server.store_in(&schema);
    for i in 0..3 {
        let report = sign(draft("USA", "note", i));
        store.put(&report, event(&report)).unwrap();
    }
    for sql in [
        "UPDATE report_version SET kind = 'x'",
        "DELETE FROM report_version",
        "TRUNCATE audit_block",
        "UPDATE audit_block SET n_entries = 2",
        "DELETE FROM report_superseded",
    ] {
        let err = server.execute(&schema, sql).expect_err(sql);
        assert!(
            err.to_string().contains("append-only") || format!("{err:?}").contains("append-only"),
            "{sql}: {err:?}"
        );
    }
    // Someone with the owner's rights changes entry 2's time.
    server
        .execute(
            &schema,
            "ALTER TABLE audit_block DISABLE TRIGGER USER;
             UPDATE audit_block SET entries = set_byte(entries, 35, get_byte(entries, 35) # 1)
             WHERE first_seq = 2;
             ALTER TABLE audit_block ENABLE TRIGGER USER;",
        )
        .unwrap();
    let verification = store.verify_audit().unwrap();
    assert_eq!(verification.first_broken, Some(2));
    // The last block removed: the recorded tip no longer matches.
    server
        .execute(
            &schema,
            "ALTER TABLE audit_block DISABLE TRIGGER USER;
             DELETE FROM audit_block WHERE first_seq = 3;
             ALTER TABLE audit_block ENABLE TRIGGER USER;",
        )
        .unwrap();
    let report = sign(draft("USA", "note", 9));
    let err = store.put(&report, event(&report)).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert_eq!(store.get(&report.key()).unwrap(), None);
}
