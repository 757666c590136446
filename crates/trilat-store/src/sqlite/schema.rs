//! The schema: its DDL and the check that a store opened has it.
//!
//! Version 1 is the first schema released. Stores made by development
//! versions before it (their own `user_version` 1 to 7, no
//! [`APPLICATION_ID`]) are refused with an error that says to re-create
//! them: nobody holds data in one. Later versions are steps from 1, never
//! a rewrite of its DDL: a new store runs version 1 and then every step,
//! an older store the steps it lacks, each in one transaction with the
//! version it reaches.

use rusqlite::{params, Connection, OptionalExtension};

use super::Context;
use crate::{StoreError, AUDIT_HASH_GENESIS};

/// The schema version this code writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 2;

/// `PRAGMA application_id` of a Trilat store ("TRLT"): what tells a store
/// of the released schema from one a development version made (those
/// left it 0).
const APPLICATION_ID: i64 = 0x5452_4c54;

/// Schema version 1. Tables named after what they hold; `report_version`,
/// `report_superseded` and `audit_block` are append-only (triggers refuse
/// UPDATE and DELETE).
///
/// * A report is its owner and its id (`trilat_core::ReportKey`): every
///   table that names a report keys it on `(report_id, owner)`, so one
///   party's report never stands in for another's under the same id.
///   `report_id` (the UUID's 16 bytes) leads the keys: UUIDv7 ids sort by
///   creation time, so a batch of new reports probes one narrow range.
/// * `report_version` holds every version with the columns queries filter
///   on; the current version of a report is its highest counter (the
///   version rules only ever make a higher counter current), and
///   `report_superseded` lists the versions that are not current (an
///   older version stored to history only, or one a newer version
///   replaced). New reports write one row there: none.
/// * `seq` is the change feed's store sequence (no `AUTOINCREMENT`: rows
///   are never deleted, so the largest plus one never goes back).
/// * `cell` is a grid cell of the bounding box (see `grid.rs`), in one
///   B-tree index, instead of an R*Tree (costly to insert into).
/// * `audit_block` holds each write transaction's audit entries back to
///   back, each as its hash (32 bytes) and its binary encoding
///   (`audit::encode_fields`); `last_hash` repeats the last entry's hash.
/// * `report_withdrawal`: the highest withdrawal recorded per report.
/// * `peer_request_seen`: signatures of recent peer requests (replay guard).
const SCHEMA_V1: &str = r#"
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE report_version (
    seq          INTEGER PRIMARY KEY,
    report_id    BLOB    NOT NULL,
    owner        TEXT    NOT NULL,
    counter      INTEGER NOT NULL,
    body         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    stored_at_ms INTEGER NOT NULL,
    observed_ms  INTEGER NOT NULL,
    exercise     INTEGER NOT NULL,
    revoked      INTEGER NOT NULL,
    west REAL, south REAL, east REAL, north REAL,
    cell INTEGER,
    UNIQUE (report_id, owner, counter)
);
CREATE INDEX report_version_kind     ON report_version (kind, seq);
CREATE INDEX report_version_owner    ON report_version (owner);
CREATE INDEX report_version_observed ON report_version (observed_ms);
CREATE INDEX report_version_cell     ON report_version (cell);

CREATE TABLE report_superseded (seq INTEGER PRIMARY KEY);

CREATE TABLE report_withdrawal (
    report_id BLOB    NOT NULL,
    owner     TEXT    NOT NULL,
    counter   INTEGER NOT NULL,
    body      TEXT    NOT NULL,
    PRIMARY KEY (report_id, owner)
) WITHOUT ROWID;

CREATE TABLE audit_block (
    first_seq INTEGER PRIMARY KEY,
    n_entries INTEGER NOT NULL,
    last_hash BLOB    NOT NULL,
    entries   BLOB    NOT NULL
);

CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE peer_request_seen (
    signature BLOB    PRIMARY KEY,
    seen_ms   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX peer_request_seen_ms ON peer_request_seen (seen_ms);

CREATE TRIGGER report_version_no_update BEFORE UPDATE ON report_version
BEGIN SELECT RAISE(ABORT, 'report_version is append-only'); END;
CREATE TRIGGER report_version_no_delete BEFORE DELETE ON report_version
BEGIN SELECT RAISE(ABORT, 'report_version is append-only'); END;
CREATE TRIGGER report_superseded_no_update BEFORE UPDATE ON report_superseded
BEGIN SELECT RAISE(ABORT, 'report_superseded is append-only'); END;
CREATE TRIGGER report_superseded_no_delete BEFORE DELETE ON report_superseded
BEGIN SELECT RAISE(ABORT, 'report_superseded is append-only'); END;
CREATE TRIGGER audit_block_no_update BEFORE UPDATE ON audit_block
BEGIN SELECT RAISE(ABORT, 'audit_block is append-only'); END;
CREATE TRIGGER audit_block_no_delete BEFORE DELETE ON audit_block
BEGIN SELECT RAISE(ABORT, 'audit_block is append-only'); END;
"#;

/// Step 1 → 2: the withdrawal log, every withdrawal recorded (its JSON,
/// as in `report_withdrawal`) with its arrival time (`report_withdrawal`
/// keeps only the highest per report, with no time), append-only. Withdrawals recorded before the step are
/// copied in with no time (`stored_at_ms` NULL: not known).
const STEP_1_TO_2: &str = r#"
CREATE TABLE withdrawal_log (
    seq          INTEGER PRIMARY KEY,
    body         TEXT    NOT NULL,
    stored_at_ms INTEGER
);
INSERT INTO withdrawal_log (body, stored_at_ms)
    SELECT body, NULL FROM report_withdrawal;
CREATE TRIGGER withdrawal_log_no_update BEFORE UPDATE ON withdrawal_log
BEGIN SELECT RAISE(ABORT, 'withdrawal_log is append-only'); END;
CREATE TRIGGER withdrawal_log_no_delete BEFORE DELETE ON withdrawal_log
BEGIN SELECT RAISE(ABORT, 'withdrawal_log is append-only'); END;
"#;

/// The steps after version 1: `STEPS[i]` takes a store from version
/// `i + 1` to `i + 2`.
const STEPS: [&str; (SCHEMA_VERSION - 1) as usize] = [STEP_1_TO_2];

/// What [`check_schema`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// An empty database: the schema is to be created.
    New,
    /// A store of this version or of an older released one, to be brought
    /// up to [`SCHEMA_VERSION`] by [`upgrade`].
    Store { version: i64 },
}

/// Whether the database is new (its schema is to be created) or a store of
/// a released schema (this one or an older one). A store from a development version
/// before the first release, or from a newer Trilat, or another program's
/// database is an error saying so. Run before any pragma that writes
/// (journal mode, page size), so a refused file is left as it was.
pub(super) fn check_schema(conn: &Connection) -> Result<Found, StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .ctx("read user_version")?;
    let application_id: i64 = conn
        .query_row("PRAGMA application_id", [], |row| row.get(0))
        .ctx("read application_id")?;
    match (version, application_id) {
        (0, 0) => Ok(Found::New),
        (1..=SCHEMA_VERSION, APPLICATION_ID) => Ok(Found::Store { version }),
        (version, APPLICATION_ID) if version > SCHEMA_VERSION => {
            Err(StoreError::Corrupt(format!(
                "schema version {version} is newer than this program's {SCHEMA_VERSION}; upgrade trilat"
            )))
        }
        (version, 0) => Err(StoreError::Corrupt(format!(
            "this store (schema version {version}) was created by a development version of \
             Trilat before the first release, whose schemas are not migrated; re-create it \
             (move the file away and start the node again)"
        ))),
        (version, other) => Err(StoreError::Corrupt(format!(
            "not a Trilat store: application_id {other:#x} (schema version {version})"
        ))),
    }
}

/// A new store: the tables and its `store_meta` (a random store id, the
/// audit chain at genesis), in one transaction.
pub(super) fn create(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction().ctx("begin create schema")?;
    tx.execute_batch(SCHEMA_V1).ctx("create schema v1")?;
    for (i, step) in STEPS.iter().enumerate() {
        tx.execute_batch(step)
            .ctx(&format!("create schema: step {} to {}", i + 1, i + 2))?;
    }
    let store_id: u64 = rand::random();
    for (key, value) in [
        ("store_id", format!("{store_id:016x}")),
        ("audit_tip_seq", "0".to_string()),
        ("audit_tip_hash", AUDIT_HASH_GENESIS.to_string()),
    ] {
        tx.execute(
            "INSERT INTO store_meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )
        .ctx("write store_meta")?;
    }
    tx.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
    ))
    .ctx("set schema version")?;
    tx.commit().ctx("commit create schema")?;
    Ok(())
}

/// Brings a store of schema `version` up to [`SCHEMA_VERSION`], one step
/// per transaction (a step and the version it reaches are written
/// together, so an interrupted upgrade resumes where it stopped).
pub(super) fn upgrade(conn: &mut Connection, version: i64) -> Result<(), StoreError> {
    assert!((1..=SCHEMA_VERSION).contains(&version), "a released schema");
    for to in version + 1..=SCHEMA_VERSION {
        let step = STEPS[(to - 2) as usize];
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .ctx("begin schema upgrade")?;
        tx.execute_batch(step)
            .ctx(&format!("upgrade schema to {to}"))?;
        tx.execute_batch(&format!("PRAGMA user_version = {to};"))
            .ctx("set schema version")?;
        tx.commit().ctx("commit schema upgrade")?;
    }
    Ok(())
}

pub(super) fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    conn.prepare_cached("SELECT value FROM store_meta WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
        .ctx("read store_meta")
}
