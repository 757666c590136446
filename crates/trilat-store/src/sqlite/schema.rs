//! The schema: its DDL, one constant per version, and the migrations that
//! bring an older store to [`SCHEMA_VERSION`].

use rusqlite::{params, Connection, OptionalExtension};
use trilat_core::{Kind, Timestamp};

use super::grid::QueryColumns;
use super::versions::decode_report;
use super::Context;
use crate::{next_stored_at, StoreError, AUDIT_HASH_GENESIS};

/// The schema version this code writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 7;

/// Schema version 1. Tables named after what they hold; `report_version` and
/// `audit_log` are append-only (triggers refuse UPDATE and DELETE).
const SCHEMA_V1: &str = r#"
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Every version ever stored; seq is the store sequence of the change feed.
CREATE TABLE report_version (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id BLOB    NOT NULL,
    counter   INTEGER NOT NULL,
    signature TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    UNIQUE (report_id, counter)
);

-- The current version of each report, with the columns queries filter on.
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

-- Bounding boxes of current versions that have a geometry, keyed by seq.
CREATE VIRTUAL TABLE report_current_bbox USING rtree (seq, west, east, south, north);

CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY,
    at_ms        INTEGER NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    report_id    TEXT,
    counterparty TEXT,
    detail       TEXT    NOT NULL,
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL
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
"#;

/// Schema version 2 (after the v1 tables exist): each version records its
/// kind and its arrival time, and the kind's change feed has an index.
/// The defaults only serve `ALTER TABLE` on a v1 store; [`migrate_v2`]
/// backfills the real values before the version is set.
const SCHEMA_V2: &str = r#"
ALTER TABLE report_version ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE report_version ADD COLUMN stored_at_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX report_version_kind ON report_version (kind, seq);
"#;

/// Schema version 3 (after v2), for ingest speed: a new report writes one
/// row (plus its indexes) instead of three.
///
/// * The columns queries filter on move into `report_version` itself, so
///   `report_current` goes. The current version of a report is its highest
///   counter (the version rules only ever make a higher counter current),
///   read through the `UNIQUE (report_id, counter)` index.
/// * `report_superseded` lists the versions that are not current (an older
///   version stored to history only, or a current one a newer version
///   replaced); queries skip them. Ingest of new reports writes nothing
///   there. Append-only like the rest: a version never becomes current
///   again.
/// * The R*Tree (the costliest index to insert into) gives way to a `cell` column:
///   a [`CELL_DEG`](super::grid::CELL_DEG) grid cell of the box's south-west corner, or
///   [`CELL_BIG`](super::grid::CELL_BIG) for boxes wider or taller than half a cell, in one B-tree
///   index (see [`bbox_cell`](super::grid::bbox_cell) and [`query_cells`](super::grid::query_cells)).
/// * `report_version.signature` goes: the body holds the signature, and
///   only the rare equivocation check reads it.
///
/// [`migrate_v3`] fills the new columns from each body.
const SCHEMA_V3: &str = r#"
ALTER TABLE report_version DROP COLUMN signature;
ALTER TABLE report_version ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE report_version ADD COLUMN observed_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_version ADD COLUMN exercise INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_version ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_version ADD COLUMN west REAL;
ALTER TABLE report_version ADD COLUMN south REAL;
ALTER TABLE report_version ADD COLUMN east REAL;
ALTER TABLE report_version ADD COLUMN north REAL;
ALTER TABLE report_version ADD COLUMN cell INTEGER;
CREATE TABLE report_superseded (seq INTEGER PRIMARY KEY);
INSERT INTO report_superseded (seq)
    SELECT seq FROM report_version WHERE seq NOT IN (SELECT seq FROM report_current);
DROP TABLE report_current;
DROP TABLE report_current_bbox;
CREATE INDEX report_version_owner    ON report_version (owner);
CREATE INDEX report_version_observed ON report_version (observed_ms);
CREATE INDEX report_version_cell     ON report_version (cell);
CREATE TRIGGER report_superseded_no_update BEFORE UPDATE ON report_superseded
BEGIN SELECT RAISE(ABORT, 'report_superseded is append-only'); END;
CREATE TRIGGER report_superseded_no_delete BEFORE DELETE ON report_superseded
BEGIN SELECT RAISE(ABORT, 'report_superseded is append-only'); END;
"#;

/// Schema version 4 (after v3), for ingest speed: audit entries are
/// written one block per write transaction instead of one row each. A
/// block holds its entries back to back, each as its hash (32 bytes) and
/// its binary encoding (`audit::encode_fields`); `last_hash` repeats the
/// last entry's hash so the chain's tip is read without decoding. Every
/// entry is still hash-chained on its own (binary format, see `audit`).
/// Entries of older stores stay in `audit_log` (JSON-hashed) and the chain
/// continues from its last one.
const SCHEMA_V4: &str = r#"
CREATE TABLE audit_block (
    first_seq INTEGER PRIMARY KEY,
    n_entries INTEGER NOT NULL,
    last_hash BLOB    NOT NULL,
    entries   BLOB    NOT NULL
);
CREATE TRIGGER audit_block_no_update BEFORE UPDATE ON audit_block
BEGIN SELECT RAISE(ABORT, 'audit_block is append-only'); END;
CREATE TRIGGER audit_block_no_delete BEFORE DELETE ON audit_block
BEGIN SELECT RAISE(ABORT, 'audit_block is append-only'); END;
PRAGMA user_version = 4;
"#;

/// Schema version 5 (after v4), for ingest speed: `report_version` without
/// `AUTOINCREMENT`. With it, every insert also reads and rewrites the
/// table's row in `sqlite_sequence` (a write per insert
/// that buys nothing here; the measured cost is in `docs/bench/store.md`). Without it a new `seq` is the largest one plus
/// one, which never goes back either: rows are never deleted (the
/// append-only trigger), and a rolled-back insert leaves no row behind in
/// either scheme. SQLite cannot drop `AUTOINCREMENT` in place, so the table
/// is rebuilt (rows copied in `seq` order, indexes and triggers recreated).
const SCHEMA_V5: &str = r#"
CREATE TABLE report_version_v5 (
    seq          INTEGER PRIMARY KEY,
    report_id    BLOB    NOT NULL,
    counter      INTEGER NOT NULL,
    body         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    stored_at_ms INTEGER NOT NULL,
    owner        TEXT    NOT NULL,
    observed_ms  INTEGER NOT NULL,
    exercise     INTEGER NOT NULL,
    revoked      INTEGER NOT NULL,
    west REAL, south REAL, east REAL, north REAL,
    cell INTEGER,
    UNIQUE (report_id, counter)
);
INSERT INTO report_version_v5 (seq, report_id, counter, body, kind, stored_at_ms, owner,
    observed_ms, exercise, revoked, west, south, east, north, cell)
    SELECT seq, report_id, counter, body, kind, stored_at_ms, owner,
    observed_ms, exercise, revoked, west, south, east, north, cell
    FROM report_version ORDER BY seq;
DROP TABLE report_version;
ALTER TABLE report_version_v5 RENAME TO report_version;
DELETE FROM sqlite_sequence WHERE name IN ('report_version', 'report_version_v5');
CREATE INDEX report_version_kind     ON report_version (kind, seq);
CREATE INDEX report_version_owner    ON report_version (owner);
CREATE INDEX report_version_observed ON report_version (observed_ms);
CREATE INDEX report_version_cell     ON report_version (cell);
CREATE TRIGGER report_version_no_update BEFORE UPDATE ON report_version
BEGIN SELECT RAISE(ABORT, 'report_version is append-only'); END;
CREATE TRIGGER report_version_no_delete BEFORE DELETE ON report_version
BEGIN SELECT RAISE(ABORT, 'report_version is append-only'); END;
PRAGMA user_version = 5;
"#;

/// Schema version 6 (after v5): the signatures of recent peer requests
/// ([`ReportStore::note_peer_request`](crate::ReportStore::note_peer_request)), so a replay is refused after a
/// restart too. Rows are deleted once older than the node's request-age
/// window; nothing else in the store refers to them.
const SCHEMA_V6: &str = r#"
CREATE TABLE peer_request_seen (
    signature BLOB    PRIMARY KEY,
    seen_ms   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX peer_request_seen_ms ON peer_request_seen (seen_ms);
PRAGMA user_version = 6;
"#;

/// Schema version 7 (after v6): the highest withdrawal recorded per report
/// ([`ReportStore::put_withdrawal`](crate::ReportStore::put_withdrawal)): its counter, which queries compare
/// with the current version's, and the signed withdrawal as JSON. A
/// withdrawal is replaced only by a higher one; the audit log keeps each.
const SCHEMA_V7: &str = r#"
CREATE TABLE report_withdrawal (
    report_id BLOB    PRIMARY KEY,
    counter   INTEGER NOT NULL,
    body      TEXT    NOT NULL
) WITHOUT ROWID;
PRAGMA user_version = 7;
"#;

/// Brings the schema to [`SCHEMA_VERSION`], one step per version, each in
/// its own transaction.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .ctx("read user_version")?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Corrupt(format!(
            "schema version {version} is newer than this program's {SCHEMA_VERSION}; upgrade trilat"
        )));
    }
    if version < 1 {
        create_v1(conn)?;
    }
    if version < 2 {
        migrate_v2(conn)?;
    }
    if version < 3 {
        migrate_v3(conn)?;
    }
    if version < 4 {
        apply_ddl(conn, SCHEMA_V4, 4)?;
    }
    if version < 5 {
        migrate_v5(conn)?;
    }
    if version < 6 {
        apply_ddl(conn, SCHEMA_V6, 6)?;
    }
    if version < 7 {
        apply_ddl(conn, SCHEMA_V7, 7)?;
    }
    Ok(())
}

/// A new store: the v1 tables and its `store_meta` (a random store id, the
/// audit chain at genesis).
fn create_v1(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction().ctx("begin migration")?;
    tx.execute_batch(SCHEMA_V1).ctx("create schema v1")?;
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
    tx.execute_batch("PRAGMA user_version = 1")
        .ctx("set user_version")?;
    tx.commit().ctx("commit migration")?;
    Ok(())
}

/// A step that is DDL only (`ddl` sets `user_version` itself), in one
/// transaction.
fn apply_ddl(conn: &mut Connection, ddl: &str, version: i64) -> Result<(), StoreError> {
    let tx = conn
        .transaction()
        .ctx(&format!("begin migration v{version}"))?;
    tx.execute_batch(ddl)
        .ctx(&format!("create schema v{version}"))?;
    tx.commit().ctx(&format!("commit migration v{version}"))?;
    Ok(())
}

/// v4 → v5 ([`SCHEMA_V5`]): rebuilds `report_version`, refusing to commit
/// unless every version was copied.
fn migrate_v5(conn: &mut Connection) -> Result<(), StoreError> {
    let n_before = count_versions(conn)?;
    let tx = conn.transaction().ctx("begin migration v5")?;
    tx.execute_batch(SCHEMA_V5)
        .ctx("rebuild report_version (schema v5)")?;
    let n_after: u64 = tx
        .query_row("SELECT count(*) FROM report_version", [], |row| row.get(0))
        .ctx("count versions")?;
    if n_after != n_before {
        return Err(StoreError::Corrupt(format!(
            "schema v5 rebuild copied {n_after} of {n_before} versions; left at v4"
        )));
    }
    tx.commit().ctx("commit migration v5")?;
    Ok(())
}

pub(super) fn count_versions(conn: &Connection) -> Result<u64, StoreError> {
    conn.query_row("SELECT count(*) FROM report_version", [], |row| row.get(0))
        .ctx("count versions")
}

/// v2 → v3 ([`SCHEMA_V3`]): moves the query columns into
/// `report_version`, filled from each version's body (the append-only
/// trigger is lifted for the backfill only, inside the same transaction).
fn migrate_v3(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction().ctx("begin migration v3")?;
    tx.execute_batch(SCHEMA_V3).ctx("alter schema to v3")?;
    tx.execute_batch("DROP TRIGGER report_version_no_update")
        .ctx("lift append-only trigger")?;
    {
        let mut read = tx
            .prepare("SELECT seq, body FROM report_version ORDER BY seq")
            .ctx("prepare backfill")?;
        let mut update = tx
            .prepare(
                "UPDATE report_version SET owner = ?2, observed_ms = ?3, exercise = ?4,
                 revoked = ?5, west = ?6, south = ?7, east = ?8, north = ?9, cell = ?10
                 WHERE seq = ?1",
            )
            .ctx("prepare backfill")?;
        let mut rows = read.query([]).ctx("read versions for backfill")?;
        while let Some(row) = rows.next().ctx("read version for backfill")? {
            let seq: u64 = row.get(0).ctx("read version for backfill")?;
            let body: String = row.get(1).ctx("read version for backfill")?;
            let report = decode_report(seq, &body)?;
            let columns = QueryColumns::of(&report);
            update
                .execute(params![
                    seq,
                    report.owner.as_str(),
                    report.observed_at.unix_ms(),
                    report.exercise,
                    report.revoked,
                    columns.bbox[0],
                    columns.bbox[1],
                    columns.bbox[2],
                    columns.bbox[3],
                    columns.cell,
                ])
                .ctx("backfill version")?;
        }
    }
    tx.execute_batch(
        "CREATE TRIGGER report_version_no_update BEFORE UPDATE ON report_version
         BEGIN SELECT RAISE(ABORT, 'report_version is append-only'); END;
         PRAGMA user_version = 3;",
    )
    .ctx("restore append-only trigger")?;
    tx.commit().ctx("commit migration v3")?;
    Ok(())
}

/// v1 → v2: adds `kind` and `stored_at_ms` to `report_version` and
/// backfills them from each version's body. A v1 store never recorded
/// arrival, so the version's `modified` stands in for it, clamped to the
/// previous row's so arrival stays non-decreasing in seq order. The
/// append-only trigger is lifted for the backfill only, inside the same
/// transaction.
fn migrate_v2(conn: &mut Connection) -> Result<(), StoreError> {
    #[derive(serde::Deserialize)]
    struct VersionHead {
        kind: Kind,
        modified: Timestamp,
    }
    let tx = conn.transaction().ctx("begin migration v2")?;
    tx.execute_batch(SCHEMA_V2).ctx("alter schema to v2")?;
    tx.execute_batch("DROP TRIGGER report_version_no_update")
        .ctx("lift append-only trigger")?;
    {
        let mut read = tx
            .prepare("SELECT seq, body FROM report_version ORDER BY seq")
            .ctx("prepare backfill")?;
        let mut update = tx
            .prepare("UPDATE report_version SET kind = ?2, stored_at_ms = ?3 WHERE seq = ?1")
            .ctx("prepare backfill")?;
        let mut rows = read.query([]).ctx("read versions for backfill")?;
        let mut previous = None;
        while let Some(row) = rows.next().ctx("read version for backfill")? {
            let seq: u64 = row.get(0).ctx("read version for backfill")?;
            let body: String = row.get(1).ctx("read version for backfill")?;
            let head: VersionHead = serde_json::from_str(&body).map_err(|e| {
                StoreError::Corrupt(format!("report_version seq {seq} does not decode: {e}"))
            })?;
            let stored_at = next_stored_at(head.modified, previous);
            update
                .execute(params![seq, head.kind.as_str(), stored_at.unix_ms()])
                .ctx("backfill version")?;
            previous = Some(stored_at);
        }
    }
    tx.execute_batch(
        "CREATE TRIGGER report_version_no_update BEFORE UPDATE ON report_version
         BEGIN SELECT RAISE(ABORT, 'report_version is append-only'); END;
         PRAGMA user_version = 2;",
    )
    .ctx("restore append-only trigger")?;
    tx.commit().ctx("commit migration v2")?;
    Ok(())
}

pub(super) fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    conn.prepare_cached("SELECT value FROM store_meta WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
        .ctx("read store_meta")
}
