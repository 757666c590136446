//! `kill -9` during a burst of writes loses no acknowledged report.
//!
//! The parent re-runs this test binary as a child with
//! [`CHILD_DB_ENV`] set; the child writes reports in a burst (single puts
//! and batches), printing each id only after the store acknowledged it.
//! The parent SIGKILLs it mid-burst, reopens the database and checks that
//! every acknowledged id is there and the audit chain verifies.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use trilat_core::ReportKey;
use trilat_store::{ReportStore, SqliteStore};

use crate::fixture::*;

/// Set in the child's environment: the database it writes to.
const CHILD_DB_ENV: &str = "TRILAT_STORE_KILL9_CHILD_DB";
/// Acknowledged ids the parent waits for before killing the child.
const ACKED_BEFORE_KILL: usize = 300;
/// The child stops on its own after this many reports (if never killed).
const CHILD_REPORTS_MAX: usize = 1_000_000;

/// The child's side. Does nothing unless started by
/// `kill9_loses_no_acknowledged_report` with [`CHILD_DB_ENV`] set.
#[test]
fn kill9_child_writer() {
    let Ok(path) = std::env::var(CHILD_DB_ENV) else {
        return;
    };
    let store = SqliteStore::open(&path).unwrap();
    let stdout = std::io::stdout();
    let mut written = 0;
    while written < CHILD_REPORTS_MAX {
        // Alternate a single put with a batch of 16.
        let report = sign(draft("JPN", "note", written as i64));
        store.put(&report, event(&report)).unwrap();
        writeln!(stdout.lock(), "ack {}", report.key()).unwrap();
        let batch: Vec<_> = (0..16)
            .map(|i| {
                let report = sign(draft("USA", "note", (written + i) as i64));
                let event = event(&report);
                (report, event)
            })
            .collect();
        for outcome in store.put_batch(&batch).unwrap() {
            outcome.unwrap();
        }
        let mut out = stdout.lock();
        for (report, _) in &batch {
            writeln!(out, "ack {}", report.key()).unwrap();
        }
        out.flush().unwrap();
        written += 17;
    }
}

#[test]
fn kill9_loses_no_acknowledged_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("burst.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "kill9::kill9_child_writer",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked: Vec<ReportKey> = Vec::new();
    let parse = |line: &str| {
        line.strip_prefix("ack ")
            .and_then(|key| ReportKey::parse(key).ok())
    };
    while acked.len() < ACKED_BEFORE_KILL {
        let line = lines.next().expect("child ended before the kill").unwrap();
        acked.extend(parse(&line));
    }
    child.kill().unwrap(); // SIGKILL on Unix
                           // Ids acknowledged between our last read and the kill are still in the pipe.
    for line in lines.map_while(Result::ok) {
        acked.extend(parse(&line));
    }
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "child was killed, not finished: {status}"
    );

    let store = SqliteStore::open(&path).unwrap();
    let missing: Vec<_> = acked
        .iter()
        .filter(|id| store.get(id).unwrap().is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged reports lost: {missing:?}",
        missing.len(),
        acked.len()
    );
    let verification = store.verify_audit().unwrap();
    assert_eq!(verification.first_broken, None);
    assert!(verification.entries >= acked.len() as u64);
    eprintln!(
        "kill -9: {} acknowledged, {} audit entries after reopen, none lost",
        acked.len(),
        verification.entries
    );
}
