//! [`SqliteStore`]: the embedded default store (rusqlite, bundled SQLite,
//! WAL mode). See `docs/store.md` for the schema and the durability choice.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, CachedStatement, Connection, OptionalExtension, Transaction};
use trilat_core::{Kind, Report, ReportId, Signature, Timestamp, Withdrawal};

use crate::audit::{self, ChainCheck, HashFormat};
use crate::memory::check_sync_state;
use crate::rules::{place, Placement};
use crate::{
    check_batch_len, check_limit, history_too_long, next_stored_at, system_clock, AuditAction,
    AuditEntry, AuditEvent, AuditVerification, Change, ChangePage, Clock, Cursor, PutOutcome,
    ReportPage, ReportQuery, ReportStore, StoreError, AUDIT_HASH_GENESIS, BATCH_LEN_MAX,
    PEER_REQUESTS_MAX, QUERY_LIMIT_MAX, SYNC_STATE_LEN_MAX,
};

/// The schema version this code writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 7;

/// Page size of a new database. 16 KiB rather than SQLite's 4 KiB: a
/// committed batch writes a quarter as many WAL frames (one `pwrite` each)
/// and the B-trees are shallower; measured +10% reports per CPU-second on
/// batched ingest (`docs/bench/store.md`).
const PAGE_SIZE_BYTES: u64 = 16 * 1024;

/// SQLite page cache per connection, in KiB.
const CACHE_KIB: u64 = 64 * 1024;

/// WAL size between automatic checkpoints, bytes (SQLite counts pages;
/// stores made before 16 KiB pages keep 4 KiB pages).
const WAL_AUTOCHECKPOINT_BYTES: u64 = 32 * 1024 * 1024;

/// How long a writer waits for another connection's lock.
const BUSY_TIMEOUT_MS: u64 = 5_000;

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
/// * The R*Tree (a fifth of the ingest CPU) gives way to a `cell` column:
///   a [`CELL_DEG`] grid cell of the box's south-west corner, or
///   [`CELL_BIG`] for boxes wider or taller than half a cell, in one B-tree
///   index (see [`bbox_cell`] and [`query_cells`]).
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
/// table's row in `sqlite_sequence` (measured: 2.9 k instructions per
/// insert, ≈ 6% of ingest). Without it a new `seq` is the largest one plus
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
/// ([`ReportStore::note_peer_request`]), so a replay is refused after a
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
/// ([`ReportStore::put_withdrawal`]): its counter, which queries compare
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

/// Side of a spatial grid cell, degrees. Maritime and missile reports are
/// points or small boxes; a bbox query of a few degrees reads a few dozen
/// cells.
pub(crate) const CELL_DEG: f64 = 0.5;
/// Cells per row of the grid (longitude).
const CELL_COLUMNS: i64 = (360.0 / CELL_DEG) as i64;
/// Cells per column of the grid (latitude).
const CELL_ROWS: i64 = (180.0 / CELL_DEG) as i64;
/// The `cell` of a box too large for one cell: every bbox query reads them.
const CELL_BIG: i64 = -1;
/// Most cells one bbox query lists; a larger box reads the table in seq
/// order with the exact comparison instead (such a box matches most
/// geometries anyway).
pub(crate) const QUERY_CELLS_MAX: usize = 4096;

/// The grid cell holding `(lon, lat)`, clamped to the grid. Monotonic in
/// both coordinates, which is what makes [`query_cells`] a superset.
fn cell_xy(lon: f64, lat: f64) -> (i64, i64) {
    let x = ((lon + 180.0) / CELL_DEG).floor() as i64;
    let y = ((lat + 90.0) / CELL_DEG).floor() as i64;
    (x.clamp(0, CELL_COLUMNS - 1), y.clamp(0, CELL_ROWS - 1))
}

/// The `cell` of a bounding box: its south-west corner's cell when the box
/// spans at most half a cell each way (so it lies within that cell and the
/// next one east and north), otherwise [`CELL_BIG`].
fn bbox_cell([west, south, east, north]: [f64; 4]) -> i64 {
    debug_assert!(west <= east && south <= north);
    if east - west > CELL_DEG / 2.0 || north - south > CELL_DEG / 2.0 {
        return CELL_BIG;
    }
    let (x, y) = cell_xy(west, south);
    y * CELL_COLUMNS + x
}

/// The cells a box intersecting `query` can have: small boxes whose
/// south-west corner is at most one cell west or south of the query's,
/// plus [`CELL_BIG`]. `None` when that is more than [`QUERY_CELLS_MAX`].
fn query_cells([west, south, east, north]: [f64; 4]) -> Option<Vec<i64>> {
    // A small box [w, s, e, n] intersects the query iff w <= east,
    // e >= west, ...; with e <= w + CELL_DEG / 2 that needs
    // w >= west - CELL_DEG: the x range below (same for y).
    let (x_min, y_min) = cell_xy(west - CELL_DEG, south - CELL_DEG);
    let (x_max, y_max) = cell_xy(east, north);
    let n_cells = ((x_max - x_min + 1) * (y_max - y_min + 1)) as usize;
    if n_cells > QUERY_CELLS_MAX {
        return None;
    }
    let mut cells = Vec::with_capacity(n_cells + 1);
    cells.push(CELL_BIG);
    for y in y_min..=y_max {
        cells.extend((x_min..=x_max).map(|x| y * CELL_COLUMNS + x));
    }
    Some(cells)
}

/// What an acknowledged write survives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL`: the WAL is fsynced at every commit, so an
    /// acknowledged write survives a process kill **and** an OS crash or
    /// power cut. The default: a warning or a release record must not vanish.
    #[default]
    PowerLoss,
    /// `synchronous = NORMAL`: the WAL is fsynced only at checkpoints. An
    /// acknowledged write survives `kill -9` (it is in the OS page cache),
    /// but the last commits may be lost on an OS crash or power cut.
    ProcessCrash,
}

/// The SQLite store. One connection behind a mutex: writes are serialised
/// anyway, and batching (`put_batch`) is what makes ingest fast.
pub struct SqliteStore {
    store_id: u64,
    /// Where arrival times come from.
    clock: Clock,
    /// The one writer connection.
    conn: Mutex<Connection>,
    /// Idle read-only connections: in WAL mode readers see the last commit
    /// and never wait for a running write transaction.
    readers: Mutex<Vec<Connection>>,
    /// Where readers open; `None` for an in-memory database, whose only
    /// connection is the writer.
    reader_path: Option<std::path::PathBuf>,
}

/// Idle read connections kept open.
const READERS_IDLE_MAX: usize = 4;

/// A connection to read from, inside one read transaction (one snapshot),
/// ended and returned to the pool on drop.
enum ReadGuard<'a> {
    Writer(MutexGuard<'a, Connection>),
    Pooled {
        conn: Option<Connection>,
        pool: &'a Mutex<Vec<Connection>>,
    },
}

impl std::ops::Deref for ReadGuard<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            ReadGuard::Writer(conn) => conn,
            ReadGuard::Pooled { conn, .. } => conn.as_ref().expect("present until drop"),
        }
    }
}

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        let ReadGuard::Pooled { conn, pool } = self else {
            return;
        };
        let Some(conn) = conn.take() else { return };
        // A connection whose read transaction does not end cleanly is
        // dropped rather than reused.
        if conn.execute_batch("COMMIT").is_ok() {
            if let Ok(mut idle) = pool.lock() {
                if idle.len() < READERS_IDLE_MAX {
                    idle.push(conn);
                }
            }
        }
    }
}

/// Adds the failing operation to a rusqlite error.
trait Context<T> {
    fn ctx(self, operation: &str) -> Result<T, StoreError>;
}

impl<T> Context<T> for Result<T, rusqlite::Error> {
    fn ctx(self, operation: &str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Sqlite(format!("{operation}: {e}")))
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` with
    /// [`Durability::PowerLoss`].
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, Durability::default())
    }

    /// Opens (creating if needed) the store at `path`, migrating its schema
    /// to [`SCHEMA_VERSION`].
    pub fn open_with(
        path: impl AsRef<Path>,
        durability: Durability,
    ) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        let mut conn = Connection::open(path).ctx(&format!("open {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
            .ctx("set busy timeout")?;
        // Before WAL mode: it only takes effect on a new, empty database
        // (an existing store keeps its page size; SQLite reads any).
        conn.execute_batch(&format!("PRAGMA page_size = {PAGE_SIZE_BYTES};"))
            .ctx("set page size")?;
        let journal: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .ctx("enable WAL")?;
        // An in-memory database reports "memory"; a file must be in WAL.
        if journal != "wal" && journal != "memory" {
            return Err(StoreError::Sqlite(format!(
                "{}: journal mode is {journal}, WAL could not be enabled",
                path.display()
            )));
        }
        let synchronous = match durability {
            Durability::PowerLoss => "FULL",
            Durability::ProcessCrash => "NORMAL",
        };
        conn.execute_batch(&format!("PRAGMA synchronous = {synchronous};"))
            .ctx("set synchronous")?;
        // A larger page cache: ingest touches five indexes per report, and
        // with SQLite's 2 MB default their pages are evicted and re-read
        // once the store outgrows it.
        // Checkpoint every WAL_AUTOCHECKPOINT_BYTES rather than SQLite's
        // 1,000: index pages that every batch touches are copied back to
        // the database file less often (checkpoints were 13% of ingest).
        let page_size: u64 = conn
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .ctx("read page size")?;
        let autocheckpoint_pages = WAL_AUTOCHECKPOINT_BYTES / page_size.max(512);
        conn.execute_batch(&format!(
            "PRAGMA cache_size = -{CACHE_KIB}; PRAGMA wal_autocheckpoint = {autocheckpoint_pages};"
        ))
        .ctx("set cache size")?;
        conn.set_prepared_statement_cache_capacity(64);
        migrate(&mut conn)?;
        let store_id = meta(&conn, "store_id")?
            .and_then(|text| u64::from_str_radix(&text, 16).ok())
            .ok_or_else(|| StoreError::Corrupt("store_meta has no valid store_id".into()))?;
        let reader_path = (journal == "wal").then(|| path.to_path_buf());
        Ok(SqliteStore {
            store_id,
            clock: std::sync::Arc::new(system_clock),
            conn: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            reader_path,
        })
    }

    /// The same store, reading arrival times ([`Change::stored_at`]) from
    /// `clock` instead of the system clock (tests step it back).
    pub fn with_clock(mut self, clock: Clock) -> SqliteStore {
        self.clock = clock;
        self
    }

    /// The arrival time for a write transaction that stores versions: the
    /// clock clamped to the last stored version's arrival.
    fn stored_at(&self, tx: &Transaction<'_>) -> Result<Timestamp, StoreError> {
        let previous: Option<i64> = tx
            .prepare_cached("SELECT stored_at_ms FROM report_version ORDER BY seq DESC LIMIT 1")
            .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)).optional())
            .ctx("read last arrival")?;
        Ok(next_stored_at(
            (self.clock)(),
            previous.map(Timestamp::from_unix_ms),
        ))
    }

    /// A connection for reads: a pooled read-only one in a read transaction,
    /// or the writer for an in-memory database.
    fn reader(&self) -> Result<ReadGuard<'_>, StoreError> {
        let Some(path) = &self.reader_path else {
            return Ok(ReadGuard::Writer(self.lock()?));
        };
        let idle = self.readers.lock().map_err(|_| StoreError::Poisoned)?.pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_reader(path)?,
        };
        conn.execute_batch("BEGIN").ctx("begin read")?;
        Ok(ReadGuard::Pooled {
            conn: Some(conn),
            pool: &self.readers,
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn =
        Connection::open_with_flags(path, flags).ctx(&format!("open reader {}", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
        .ctx("set busy timeout")?;
    conn.execute_batch(&format!("PRAGMA cache_size = -{CACHE_KIB};"))
        .ctx("set cache size")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Brings the schema to [`SCHEMA_VERSION`], one step per version, each in
/// its own transaction.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .ctx("read user_version")?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Corrupt(format!(
            "schema version {version} is newer than this program's {SCHEMA_VERSION}; upgrade trilat"
        )));
    }
    if version < 1 {
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
    }
    if version < 2 {
        migrate_v2(conn)?;
    }
    if version < 3 {
        migrate_v3(conn)?;
    }
    if version < 4 {
        let tx = conn.transaction().ctx("begin migration v4")?;
        tx.execute_batch(SCHEMA_V4).ctx("create schema v4")?;
        tx.commit().ctx("commit migration v4")?;
    }
    if version < 5 {
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
    }
    if version < 6 {
        let tx = conn.transaction().ctx("begin migration v6")?;
        tx.execute_batch(SCHEMA_V6).ctx("create schema v6")?;
        tx.commit().ctx("commit migration v6")?;
    }
    if version < 7 {
        let tx = conn.transaction().ctx("begin migration v7")?;
        tx.execute_batch(SCHEMA_V7).ctx("create schema v7")?;
        tx.commit().ctx("commit migration v7")?;
    }
    Ok(())
}

fn count_versions(conn: &Connection) -> Result<u64, StoreError> {
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

/// The spatial columns of a version: its bounding box and grid cell.
struct QueryColumns {
    bbox: [Option<f64>; 4],
    cell: Option<i64>,
}

impl QueryColumns {
    fn of(report: &Report) -> QueryColumns {
        let bbox = report.bbox();
        QueryColumns {
            bbox: bbox.map_or([None; 4], |b| b.map(Some)),
            cell: bbox.map(bbox_cell),
        }
    }
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

fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    conn.prepare_cached("SELECT value FROM store_meta WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
        .ctx("read store_meta")
}

/// The tip of the audit chain as recorded beside it.
fn recorded_tip(conn: &Connection) -> Result<(u64, String), StoreError> {
    let seq = meta(conn, "audit_tip_seq")?
        .and_then(|text| text.parse::<u64>().ok())
        .ok_or_else(|| StoreError::Corrupt("store_meta has no valid audit_tip_seq".into()))?;
    let hash = meta(conn, "audit_tip_hash")?
        .ok_or_else(|| StoreError::Corrupt("store_meta has no audit_tip_hash".into()))?;
    Ok((seq, hash))
}

/// The audit chain's tip inside a write transaction: checked once against
/// the log's last entry when the transaction starts (the chain link), moved
/// by each append, and recorded beside the log when it commits, together
/// with the transaction's entries as one `audit_block` row.
struct AuditTip {
    seq: u64,
    hash: [u8; 32],
    start_seq: u64,
    /// This transaction's entries as stored: per entry its hash (32 bytes)
    /// and its [`audit::encode_fields`] encoding.
    block: Vec<u8>,
}

impl AuditTip {
    fn load(tx: &Transaction<'_>) -> Result<AuditTip, StoreError> {
        let (seq, hash) = recorded_tip(tx)?;
        let (last_seq, last_hash) = last_audit_entry(tx)?;
        if last_seq != seq || last_hash != hash {
            return Err(StoreError::Corrupt(format!(
                "audit log ends at entry {last_seq} but its recorded tip is entry {seq}; refusing to extend a broken chain (run audit verify)"
            )));
        }
        let hash = audit::hash_from_hex(&hash).ok_or_else(|| {
            StoreError::Corrupt(format!("audit tip hash {hash:?} is not 64 hex digits"))
        })?;
        Ok(AuditTip {
            seq,
            hash,
            start_seq: seq,
            block: Vec::new(),
        })
    }

    /// Appends `event` and returns its entry.
    fn append(&mut self, event: AuditEvent) -> AuditEntry {
        let prev_hash = hex::encode(self.hash);
        self.append_event(&event, None);
        let entry = AuditEntry {
            seq: self.seq,
            event,
            prev_hash,
            hash: hex::encode(self.hash),
        };
        debug_assert!(entry.hash_is_valid_as(HashFormat::Binary));
        entry
    }

    /// Appends an entry for `event` to this transaction's block (borrowed:
    /// the ingest path does not need the entry back, so nothing is cloned;
    /// the row is written once, by [`AuditTip::record`]).
    /// `known_key` is a report id with its key, reused when the event
    /// concerns that report.
    fn append_event(&mut self, event: &AuditEvent, known_key: Option<(&ReportId, [u8; 16])>) {
        let seq = self.seq + 1;
        let entry_start = self.block.len();
        self.block.extend_from_slice(&[0; 32]);
        audit::encode_fields_keyed(&mut self.block, event, known_key);
        let hash = audit::binary_hash(&self.hash, seq, &self.block[entry_start + 32..]);
        self.block[entry_start..entry_start + 32].copy_from_slice(&hash);
        self.seq = seq;
        self.hash = hash;
    }

    fn record(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        if self.seq == self.start_seq {
            debug_assert!(self.block.is_empty());
            return Ok(());
        }
        debug_assert!(self.seq > self.start_seq);
        tx.prepare_cached(
            "INSERT INTO audit_block (first_seq, n_entries, last_hash, entries)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                self.start_seq + 1,
                self.seq - self.start_seq,
                self.hash,
                self.block
            ])
        })
        .ctx("append audit block")?;
        let mut stmt = tx
            .prepare_cached("UPDATE store_meta SET value = ?2 WHERE key = ?1")
            .ctx("prepare tip update")?;
        stmt.execute(params!["audit_tip_seq", self.seq.to_string()])
            .ctx("record audit tip")?;
        stmt.execute(params!["audit_tip_hash", hex::encode(self.hash)])
            .ctx("record audit tip")?;
        Ok(())
    }
}

/// The last audit entry's seq and hash (hex): the last block's, else the
/// last entry of the pre-v4 `audit_log`, else (0, genesis).
fn last_audit_entry(conn: &Connection) -> Result<(u64, String), StoreError> {
    let last_block: Option<(u64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT first_seq + n_entries - 1, last_hash FROM audit_block
             ORDER BY first_seq DESC LIMIT 1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
        .ctx("read audit tip")?;
    if let Some((seq, hash)) = last_block {
        return Ok((seq, hex::encode(hash)));
    }
    let last_row: Option<(u64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .and_then(|mut stmt| {
            stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
        .ctx("read audit tip")?;
    Ok(last_row.unwrap_or((0, AUDIT_HASH_GENESIS.to_string())))
}

/// The hash (hex) of the last entry written before schema v4, or genesis.
fn last_legacy_hash(conn: &Connection) -> Result<String, StoreError> {
    let last_row: Option<String> = conn
        .prepare_cached("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)).optional())
        .ctx("read audit log")?;
    Ok(last_row.unwrap_or_else(|| AUDIT_HASH_GENESIS.to_string()))
}

/// The hash (hex) of the entry before the block starting at `first_seq`.
fn audit_hash_before(conn: &Connection, first_seq: u64) -> Result<String, StoreError> {
    let previous_block: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT last_hash FROM audit_block WHERE first_seq < ?1
             ORDER BY first_seq DESC LIMIT 1",
        )
        .and_then(|mut stmt| stmt.query_row([first_seq], |row| row.get(0)).optional())
        .ctx("read audit block")?;
    if let Some(hash) = previous_block {
        return Ok(hex::encode(hash));
    }
    let last_row: Option<String> = conn
        .prepare_cached("SELECT hash FROM audit_log WHERE seq < ?1 ORDER BY seq DESC LIMIT 1")
        .and_then(|mut stmt| stmt.query_row([first_seq], |row| row.get(0)).optional())
        .ctx("read audit tip")?;
    Ok(last_row.unwrap_or_else(|| AUDIT_HASH_GENESIS.to_string()))
}

/// One `audit_block` row as read.
struct AuditBlockRow {
    first_seq: u64,
    n_entries: u64,
    last_hash: Vec<u8>,
    entries: Vec<u8>,
}

impl AuditBlockRow {
    fn of(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditBlockRow> {
        Ok(AuditBlockRow {
            first_seq: row.get(0)?,
            n_entries: row.get(1)?,
            last_hash: row.get(2)?,
            entries: row.get(3)?,
        })
    }

    /// The block's entries, the first one chained after `prev_hash` (hex).
    /// An error says what does not decode (the caller adds the block).
    fn decode(&self, prev_hash: &str) -> Result<Vec<AuditEntry>, String> {
        if self.n_entries == 0 || self.n_entries > BLOCK_ENTRIES_MAX {
            return Err(format!("{} entries", self.n_entries));
        }
        let mut entries = Vec::with_capacity(self.n_entries as usize);
        let mut prev_hash = prev_hash.to_string();
        let mut rest = self.entries.as_slice();
        while !rest.is_empty() {
            if entries.len() as u64 == self.n_entries {
                return Err(format!("more than its {} entries", self.n_entries));
            }
            let seq = self.first_seq + entries.len() as u64;
            if rest.len() < 32 {
                return Err(format!("entry {seq}: hash cut short"));
            }
            let (hash, fields) = rest.split_at(32);
            let (event, tail) =
                audit::decode_fields(fields).map_err(|e| format!("entry {seq}: {e}"))?;
            rest = tail;
            let hash = hex::encode(hash);
            entries.push(AuditEntry {
                seq,
                event,
                prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
                hash,
            });
        }
        if entries.len() as u64 != self.n_entries {
            return Err(format!("{} entries, not {}", entries.len(), self.n_entries));
        }
        if prev_hash != hex::encode(&self.last_hash) {
            return Err("last_hash is not its last entry's hash".into());
        }
        Ok(entries)
    }
}

/// Most entries one audit block holds: a batch's reports, or one append.
const BLOCK_ENTRIES_MAX: u64 = BATCH_LEN_MAX as u64;

/// A report id as the 16 bytes of its UUID: the key of three indexes, so
/// less than half the size of the 36-character text form.
fn id_key(id: &ReportId) -> [u8; 16] {
    audit::report_id_bytes(id)
}

fn decode_report(seq: u64, body: &str) -> Result<Report, StoreError> {
    serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("report_version seq {seq} does not decode: {e}")))
}

/// The current version of a report and its seq: its highest counter.
fn current_version(tx: &Connection, id: &ReportId) -> Result<Option<(u64, Report)>, StoreError> {
    let row: Option<(u64, String)> = tx
        .prepare_cached(
            "SELECT seq, body FROM report_version WHERE report_id = ?1
             ORDER BY counter DESC LIMIT 1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([id_key(id)], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
        .ctx("read current version")?;
    row.map(|(seq, body)| Ok((seq, decode_report(seq, &body)?)))
        .transpose()
}

fn current_report(tx: &Connection, id: &ReportId) -> Result<Option<Report>, StoreError> {
    Ok(current_version(tx, id)?.map(|(_, report)| report))
}

fn held_signature(
    tx: &Connection,
    id: &ReportId,
    counter: u64,
) -> Result<Option<Signature>, StoreError> {
    let text: Option<String> = tx
        .prepare_cached(
            "SELECT json_extract(body, '$.signature') FROM report_version
             WHERE report_id = ?1 AND counter = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![id_key(id), counter], |row| row.get(0))
                .optional()
        })
        .ctx("read held signature")?;
    text.map(|text| {
        Signature::from_base64(&text)
            .map_err(|e| StoreError::Corrupt(format!("signature of {id} version {counter}: {e}")))
    })
    .transpose()
}

/// The current version of a report (by its id key): its highest counter.
const CURRENT_VERSION_SQL: &str = "SELECT seq, body FROM report_version WHERE report_id = ?1
     ORDER BY counter DESC LIMIT 1";

/// Below this many reports a batch looks each id up on its own rather than
/// asking once which ids are held.
const HELD_IDS_BATCH_LEN_MIN: usize = 8;

/// One write transaction's ingest: the statements every stored report
/// uses, looked up in the statement cache once per transaction (per report
/// the lookup, its SQL hashing and the return to the cache were ~5% of
/// native ingest samples), and which of the batch's ids the store held
/// when it began.
struct Ingest<'tx> {
    current: CachedStatement<'tx>,
    insert: CachedStatement<'tx>,
    superseded: CachedStatement<'tx>,
    /// Ids of the batch the store held before it: `None` when not asked
    /// (every id is then looked up).
    held: Option<HashSet<[u8; 16]>>,
    /// The id keys of the batch, in order (computed once: formatting an id
    /// was ~2% of ingest instructions per use).
    keys: Vec<[u8; 16]>,
    /// The body of the report being put (reused: one allocation per batch).
    body: Vec<u8>,
    /// Ids already put in this transaction (a batch may hold several
    /// versions of one report).
    seen: HashSet<[u8; 16]>,
}

impl<'tx> Ingest<'tx> {
    fn new(
        tx: &'tx Transaction<'_>,
        batch: &[(Report, AuditEvent)],
    ) -> Result<Ingest<'tx>, StoreError> {
        let keys: Vec<[u8; 16]> = batch.iter().map(|(report, _)| id_key(&report.id)).collect();
        let held = if batch.len() >= HELD_IDS_BATCH_LEN_MIN {
            held_keys(tx, &keys)?
        } else {
            None
        };
        Ok(Ingest {
            current: tx
                .prepare_cached(CURRENT_VERSION_SQL)
                .ctx("prepare current version")?,
            insert: tx
                .prepare_cached(
                    "INSERT INTO report_version (report_id, counter, body, kind, stored_at_ms, owner,
                     observed_ms, exercise, revoked, west, south, east, north, cell)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )
                .ctx("prepare insert version")?,
            superseded: tx
                .prepare_cached("INSERT INTO report_superseded (seq) VALUES (?1)")
                .ctx("prepare superseded")?,
            held,
            keys,
            body: Vec::with_capacity(1024),
            seen: HashSet::with_capacity(batch.len()),
        })
    }

    /// One put inside the open write transaction; `report_idx` is its
    /// place in the batch given to [`Ingest::new`] (`None` for a report
    /// outside it).
    fn put(
        &mut self,
        tx: &Transaction<'_>,
        tip: &mut AuditTip,
        (report, event): (&Report, &AuditEvent),
        report_idx: Option<usize>,
        stored_at: Timestamp,
    ) -> Result<PutOutcome, StoreError> {
        event.check()?;
        let key = match report_idx {
            Some(report_idx) => self.keys[report_idx],
            None => id_key(&report.id),
        };
        debug_assert_eq!(key, id_key(&report.id));
        // A new id (not held, not yet put in this transaction) has no
        // current version: skip the lookup.
        let first_in_batch = self.seen.insert(key);
        let known_new =
            first_in_batch && self.held.as_ref().is_some_and(|held| !held.contains(&key));
        let current = if known_new {
            debug_assert!(current_version(tx, &report.id)?.is_none());
            None
        } else {
            self.current_version(&key)?
        };
        let placement = place(report, current.as_ref().map(|(_, held)| held), || {
            held_signature(tx, &report.id, report.version)
        })?;
        if placement == Placement::Duplicate {
            return Ok(PutOutcome::Duplicate);
        }
        let seq = self.insert_version(tx, &key, report, stored_at)?;
        let is_current = placement == Placement::Current;
        // The version that stops (or never starts) being current.
        let superseded_seq = match (&current, is_current) {
            (Some((old_seq, _)), true) => Some(*old_seq),
            (None, true) => None,
            (_, false) => Some(seq),
        };
        if let Some(superseded_seq) = superseded_seq {
            debug_assert!(superseded_seq <= seq);
            self.superseded
                .execute([superseded_seq])
                .ctx("record superseded version")?;
        }
        tip.append_event(event, Some((&report.id, key)));
        Ok(PutOutcome::Stored {
            seq,
            current: is_current,
        })
    }

    /// The current version of the report keyed `key` and its seq.
    fn current_version(&mut self, key: &[u8; 16]) -> Result<Option<(u64, Report)>, StoreError> {
        let row: Option<(u64, String)> = self
            .current
            .query_row([key], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .ctx("read current version")?;
        row.map(|(seq, body)| Ok((seq, decode_report(seq, &body)?)))
            .transpose()
    }

    /// Appends a version with the columns queries filter on; returns its seq.
    fn insert_version(
        &mut self,
        tx: &Transaction<'_>,
        key: &[u8; 16],
        report: &Report,
        stored_at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.body.clear();
        crate::body::write_body(&mut self.body, report).map_err(|e| {
            StoreError::Invalid(format!("report {} does not encode: {e}", report.id))
        })?;
        // serde_json writes UTF-8: bound as TEXT without a copy or a check.
        let body =
            rusqlite::types::ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(&self.body));
        let columns = QueryColumns::of(report);
        let [west, south, east, north] = columns.bbox;
        self.insert
            .execute(params![
                key,
                report.version,
                body,
                report.kind.as_str(),
                stored_at.unix_ms(),
                report.owner.as_str(),
                report.observed_at.unix_ms(),
                report.exercise,
                report.revoked,
                west,
                south,
                east,
                north,
                columns.cell,
            ])
            .ctx("insert report version")?;
        Ok(tx.last_insert_rowid() as u64)
    }
}

/// Most held ids [`held_ids`] reads per report of the batch before it
/// gives up (and the batch looks each id up on its own).
const HELD_IDS_PER_REPORT_MAX: usize = 2;

/// Which of the batch's report ids the store holds a version of, or `None`
/// when that would take too long to say. One range scan of the id index
/// between the batch's smallest and largest id replaces a lookup per
/// report, which for new reports always misses. Report ids are UUIDv7,
/// ordered by creation time, so a batch of fresh reports spans a range
/// holding few or no stored ids; a batch whose range holds more than
/// [`HELD_IDS_PER_REPORT_MAX`] rows per id (old ids mixed with new
/// ones) is `None`. (A per-batch `IN (json_each(…))` probe was measured
/// first: as costly as the lookups it replaced.)
fn held_keys(
    conn: &Connection,
    keys: &[[u8; 16]],
) -> Result<Option<HashSet<[u8; 16]>>, StoreError> {
    let Some(first) = keys.first() else {
        return Ok(Some(HashSet::new()));
    };
    let (key_min, key_max) = keys.iter().fold((*first, *first), |(lo, hi), key| {
        (lo.min(*key), hi.max(*key))
    });
    debug_assert!(key_min <= key_max);
    let rows_max = HELD_IDS_PER_REPORT_MAX * keys.len();
    let mut stmt = conn
        .prepare_cached(
            "SELECT report_id FROM report_version
             WHERE report_id BETWEEN ?1 AND ?2 LIMIT ?3",
        )
        .ctx("prepare held ids")?;
    let rows = stmt
        .query_map(params![key_min, key_max, rows_max as u64 + 1], |row| {
            row.get::<_, Vec<u8>>(0)
        })
        .ctx("read held ids")?;
    let mut held = HashSet::new();
    let mut n_rows = 0;
    for row in rows {
        n_rows += 1;
        // A key that is not 16 bytes is a corrupt row: let the lookups
        // (which report it) decide rather than guess here.
        let Ok(key) = <[u8; 16]>::try_from(row.ctx("read held id")?) else {
            return Ok(None);
        };
        if n_rows > rows_max {
            return Ok(None);
        }
        debug_assert!(key_min <= key && key <= key_max);
        held.insert(key);
    }
    Ok(Some(held))
}

/// Runs `work` in one write transaction with the audit tip loaded, checked
/// and recorded; nothing is written unless `work` succeeds.
fn write<T>(
    conn: &mut Connection,
    work: impl FnOnce(&Transaction<'_>, &mut AuditTip) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .ctx("begin write")?;
    let mut tip = AuditTip::load(&tx)?;
    let res = work(&tx, &mut tip)?;
    tip.record(&tx)?;
    tx.commit().ctx("commit")?;
    Ok(res)
}

fn row_to_entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<(AuditEntry, Option<String>)> {
    // Decoding problems are reported as corruption by the caller, with the
    // entry's seq; here the raw text travels along.
    let seq: u64 = row.get(0)?;
    let action: String = row.get(3)?;
    let report_id: Option<String> = row.get(4)?;
    let counterparty: Option<String> = row.get(5)?;
    let mut problem = None;
    let action = AuditAction::parse(&action).unwrap_or_else(|| {
        problem = Some(format!("unknown action {action:?}"));
        AuditAction::Other
    });
    let report_id = report_id.and_then(|text| {
        ReportId::parse(&text)
            .map_err(|e| problem = Some(e.to_string()))
            .ok()
    });
    let counterparty = counterparty.and_then(|text| {
        trilat_core::Party::new(&text)
            .map_err(|e| problem = Some(e.to_string()))
            .ok()
    });
    let entry = AuditEntry {
        seq,
        event: AuditEvent {
            at: Timestamp::from_unix_ms(row.get(1)?),
            actor: row.get(2)?,
            action,
            report_id,
            counterparty,
            detail: row.get(6)?,
        },
        prev_hash: row.get(7)?,
        hash: row.get(8)?,
    };
    Ok((entry, problem))
}

const AUDIT_COLUMNS: &str =
    "seq, at_ms, actor, action, report_id, counterparty, detail, prev_hash, hash";

impl ReportStore for SqliteStore {
    fn put(&self, report: &Report, audit: AuditEvent) -> Result<PutOutcome, StoreError> {
        let mut conn = self.lock()?;
        write(&mut conn, |tx, tip| {
            let stored_at = self.stored_at(tx)?;
            Ingest::new(tx, &[])?.put(tx, tip, (report, &audit), None, stored_at)
        })
    }

    fn put_batch(
        &self,
        batch: &[(Report, AuditEvent)],
    ) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
        if batch.len() > BATCH_LEN_MAX {
            return Err(StoreError::LimitExceeded {
                limit: batch.len(),
                max: BATCH_LEN_MAX,
            });
        }
        let mut conn = self.lock()?;
        write(&mut conn, |tx, tip| {
            // One arrival time per batch: it arrived in one transaction.
            let stored_at = self.stored_at(tx)?;
            let mut ingest = Ingest::new(tx, batch)?;
            let mut outcomes = Vec::with_capacity(batch.len());
            for (report_idx, (report, event)) in batch.iter().enumerate() {
                match ingest.put(tx, tip, (report, event), Some(report_idx), stored_at) {
                    // A database failure aborts the whole batch (rolled back);
                    // a refusal is that report's outcome only. Refusals are
                    // decided before anything of that report is written.
                    Err(StoreError::Sqlite(message)) => return Err(StoreError::Sqlite(message)),
                    outcome => outcomes.push(outcome),
                }
            }
            debug_assert_eq!(outcomes.len(), batch.len());
            Ok(outcomes)
        })
    }

    fn get(&self, id: &ReportId) -> Result<Option<Report>, StoreError> {
        let conn = self.reader()?;
        current_report(&conn, id)
    }

    fn get_many(&self, ids: &[ReportId]) -> Result<Vec<Option<Report>>, StoreError> {
        crate::check_batch_len(ids.len())?;
        let conn = self.reader()?;
        let keys: Vec<[u8; 16]> = ids.iter().map(id_key).collect();
        let held = if ids.len() >= HELD_IDS_BATCH_LEN_MIN {
            held_keys(&conn, &keys)?
        } else {
            None
        };
        let mut stmt = conn
            .prepare_cached(CURRENT_VERSION_SQL)
            .ctx("prepare current version")?;
        let mut reports = Vec::with_capacity(ids.len());
        for key in &keys {
            if held.as_ref().is_some_and(|held| !held.contains(key)) {
                reports.push(None);
                continue;
            }
            let row: Option<(u64, String)> = stmt
                .query_row([key], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
                .ctx("read current version")?;
            reports.push(
                row.map(|(seq, body)| decode_report(seq, &body))
                    .transpose()?,
            );
        }
        debug_assert_eq!(reports.len(), ids.len());
        Ok(reports)
    }

    fn version(&self, id: &ReportId, counter: u64) -> Result<Option<Report>, StoreError> {
        let conn = self.reader()?;
        let row: Option<(u64, String)> = conn
            .prepare_cached(
                "SELECT seq, body FROM report_version WHERE report_id = ?1 AND counter = ?2",
            )
            .ctx("prepare version")?
            .query_row(params![id_key(id), counter], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()
            .ctx("read version")?;
        row.map(|(seq, body)| decode_report(seq, &body)).transpose()
    }

    fn put_withdrawal(
        &self,
        withdrawal: &Withdrawal,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        audit.check()?;
        let body = serde_json::to_string(withdrawal)
            .map_err(|e| StoreError::Invalid(format!("withdrawal of {}: {e}", withdrawal.id)))?;
        let mut conn = self.lock()?;
        write(&mut conn, |tx, tip| {
            let recorded: Option<u64> = tx
                .prepare_cached("SELECT counter FROM report_withdrawal WHERE report_id = ?1")
                .ctx("prepare withdrawal")?
                .query_row([id_key(&withdrawal.id)], |row| row.get(0))
                .optional()
                .ctx("read withdrawal")?;
            if recorded.is_some_and(|counter| counter >= withdrawal.version) {
                return Ok(false);
            }
            tx.prepare_cached(
                "INSERT INTO report_withdrawal (report_id, counter, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (report_id) DO UPDATE SET counter = ?2, body = ?3",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![id_key(&withdrawal.id), withdrawal.version, body])
            })
            .ctx("record withdrawal")?;
            tip.append(audit);
            Ok(true)
        })
    }

    fn withdrawn_versions(&self, ids: &[ReportId]) -> Result<Vec<Option<u64>>, StoreError> {
        crate::check_batch_len(ids.len())?;
        let conn = self.reader()?;
        // Most stores hold no withdrawal at all: one query answers a page.
        let any: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM report_withdrawal)")
            .ctx("prepare any withdrawal")?
            .query_row([], |row| row.get(0))
            .ctx("read any withdrawal")?;
        if !any {
            return Ok(vec![None; ids.len()]);
        }
        let mut stmt = conn
            .prepare_cached("SELECT counter FROM report_withdrawal WHERE report_id = ?1")
            .ctx("prepare withdrawn versions")?;
        let mut versions = Vec::with_capacity(ids.len());
        for id in ids {
            let version: Option<u64> = stmt
                .query_row([id_key(id)], |row| row.get(0))
                .optional()
                .ctx("read withdrawn version")?;
            versions.push(version);
        }
        Ok(versions)
    }

    fn withdrawal(&self, id: &ReportId) -> Result<Option<Withdrawal>, StoreError> {
        let conn = self.reader()?;
        let body: Option<String> = conn
            .prepare_cached("SELECT body FROM report_withdrawal WHERE report_id = ?1")
            .ctx("prepare withdrawal")?
            .query_row([id_key(id)], |row| row.get(0))
            .optional()
            .ctx("read withdrawal")?;
        body.map(|body| {
            serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("withdrawal of {id}: {e}")))
        })
        .transpose()
    }

    fn history(&self, id: &ReportId) -> Result<Vec<Report>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, body FROM report_version WHERE report_id = ?1 ORDER BY counter LIMIT ?2",
            )
            .ctx("prepare history")?;
        let rows = stmt
            .query_map(params![id_key(id), QUERY_LIMIT_MAX as u64 + 1], |row| {
                Ok((row.get::<_, u64>(0)?, row.get::<_, String>(1)?))
            })
            .ctx("read history")?;
        let mut reports = Vec::new();
        for row in rows {
            let (seq, body) = row.ctx("read history")?;
            if reports.len() == QUERY_LIMIT_MAX {
                return Err(history_too_long());
            }
            reports.push(decode_report(seq, &body)?);
        }
        Ok(reports)
    }

    fn query(&self, query: &ReportQuery) -> Result<ReportPage, StoreError> {
        query.check()?;
        let after = match &query.after {
            Some(cursor) => cursor.seq_in(self.store_id)?,
            None => 0,
        };
        let (sql, values) = query_sql(query, after);
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&sql).ctx("prepare query")?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values.iter()), |row| {
                Ok((row.get::<_, u64>(0)?, row.get::<_, String>(1)?))
            })
            .ctx("run query")?;
        let mut reports = Vec::new();
        let mut last_seq = after;
        let mut more = false;
        for row in rows {
            let (seq, body) = row.ctx("read query row")?;
            if reports.len() == query.limit {
                more = true;
                break;
            }
            let report = decode_report(seq, &body)?;
            debug_assert!(
                query.matches(&report),
                "SQL filter and ReportQuery::matches agree"
            );
            reports.push(report);
            last_seq = seq;
        }
        Ok(ReportPage {
            reports,
            next: more.then(|| Cursor::new(self.store_id, last_seq)),
        })
    }

    fn changes(&self, after: Option<&Cursor>, limit: usize) -> Result<ChangePage, StoreError> {
        self.change_page(None, after, limit)
    }

    fn changes_of_kind(
        &self,
        kind: &Kind,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<ChangePage, StoreError> {
        self.change_page(Some(kind), after, limit)
    }

    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        event.check()?;
        let mut conn = self.lock()?;
        write(&mut conn, |_tx, tip| Ok(tip.append(event)))
    }

    fn append_audit_batch(&self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        check_batch_len(events.len())?;
        events.iter().try_for_each(AuditEvent::check)?;
        if events.is_empty() {
            return Ok(());
        }
        let mut conn = self.lock()?;
        write(&mut conn, |_tx, tip| {
            for event in &events {
                tip.append_event(event, None);
            }
            Ok(())
        })
    }

    fn audit(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        check_limit(limit)?;
        let conn = self.reader()?;
        // Entries written before schema v4 first (all of them precede the
        // blocks), then the blocks from the one holding `after_seq + 1`.
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))
            .ctx("prepare audit read")?;
        let rows = stmt
            .query_map(params![after_seq, limit as u64], row_to_entry)
            .ctx("read audit")?;
        let mut entries = Vec::new();
        for row in rows {
            let (entry, problem) = row.ctx("read audit entry")?;
            if let Some(problem) = problem {
                return Err(StoreError::Corrupt(format!(
                    "audit entry {}: {problem}",
                    entry.seq
                )));
            }
            entries.push(entry);
        }
        if entries.len() == limit {
            return Ok(entries);
        }
        let mut stmt = conn
            .prepare_cached(
                "SELECT first_seq, n_entries, last_hash, entries FROM audit_block
                 WHERE first_seq >= coalesce(
                     (SELECT max(first_seq) FROM audit_block WHERE first_seq <= ?1 + 1), 0)
                 ORDER BY first_seq",
            )
            .ctx("prepare audit read")?;
        let mut rows = stmt.query([after_seq]).ctx("read audit")?;
        let mut prev_hash = None;
        while let Some(row) = rows.next().ctx("read audit block")? {
            let block = AuditBlockRow::of(row).ctx("read audit block")?;
            let prev = match prev_hash.take() {
                Some(hash) => hash,
                None => audit_hash_before(&conn, block.first_seq)?,
            };
            let decoded = block.decode(&prev).map_err(|problem| {
                StoreError::Corrupt(format!("audit block {}: {problem}", block.first_seq))
            })?;
            prev_hash = Some(hex::encode(&block.last_hash));
            for entry in decoded.into_iter().filter(|e| e.seq > after_seq) {
                if entries.len() == limit {
                    return Ok(entries);
                }
                entries.push(entry);
            }
        }
        debug_assert!(entries.len() <= limit);
        debug_assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq));
        Ok(entries)
    }

    fn audit_last_seq(&self) -> Result<u64, StoreError> {
        let conn = self.reader()?;
        Ok(last_audit_entry(&conn)?.0)
    }

    fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        let conn = self.reader()?;
        let tip = recorded_tip(&conn)?;
        let mut walk = ChainCheck::new();
        // Entries written before schema v4: one row each, JSON-hashed.
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq"
            ))
            .ctx("prepare audit verify")?;
        let rows = stmt.query_map([], row_to_entry).ctx("read audit")?;
        for row in rows {
            let (mut entry, problem) = row.ctx("read audit entry")?;
            if problem.is_some() {
                // An undecodable field cannot have been hashed as stored.
                entry.hash.clear();
            }
            walk.push(&entry, HashFormat::Json);
        }
        // Then the blocks, binary-hashed. Each entry's `prev_hash` is the
        // hash stored before it, so a link is checked by its hash.
        let mut stmt = conn
            .prepare_cached(
                "SELECT first_seq, n_entries, last_hash, entries FROM audit_block
                 ORDER BY first_seq",
            )
            .ctx("prepare audit verify")?;
        let mut rows = stmt.query([]).ctx("read audit")?;
        let mut prev_hash = last_legacy_hash(&conn)?;
        while let Some(row) = rows.next().ctx("read audit block")? {
            let block = AuditBlockRow::of(row).ctx("read audit block")?;
            match block.decode(&prev_hash) {
                Ok(entries) => entries
                    .iter()
                    .for_each(|entry| walk.push(entry, HashFormat::Binary)),
                Err(_) => walk.push_undecodable(
                    block.first_seq,
                    block.n_entries.min(BLOCK_ENTRIES_MAX),
                    &hex::encode(&block.last_hash),
                ),
            }
            prev_hash = hex::encode(&block.last_hash);
        }
        Ok(walk.finish((tip.0, &tip.1)))
    }

    fn sync_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        check_sync_state(key, "")?;
        self.reader()?
            .prepare_cached("SELECT value FROM sync_state WHERE key = ?1")
            .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
            .ctx("read sync state")
    }

    fn set_sync_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        check_sync_state(key, value)?;
        debug_assert!(value.len() <= SYNC_STATE_LEN_MAX);
        self.lock()?
            .prepare_cached(
                "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut stmt| stmt.execute([key, value]))
            .ctx("write sync state")?;
        Ok(())
    }

    fn note_peer_request(
        &self,
        signature: &[u8; 64],
        seen_ms: i64,
        forget_before_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .ctx("begin peer request")?;
        tx.prepare_cached("DELETE FROM peer_request_seen WHERE seen_ms < ?1")
            .and_then(|mut stmt| stmt.execute([forget_before_ms]))
            .ctx("forget old peer requests")?;
        let fresh = tx
            .prepare_cached(
                "INSERT INTO peer_request_seen (signature, seen_ms) VALUES (?1, ?2)
                 ON CONFLICT (signature) DO NOTHING",
            )
            .and_then(|mut stmt| stmt.execute(params![&signature[..], seen_ms]))
            .ctx("record peer request")?
            == 1;
        if fresh {
            // The bound: past it, the oldest go early (rare: a million
            // requests within the window).
            tx.prepare_cached(
                "DELETE FROM peer_request_seen WHERE signature IN (
                     SELECT signature FROM peer_request_seen ORDER BY seen_ms
                     LIMIT max(0, (SELECT count(*) FROM peer_request_seen) - ?1))",
            )
            .and_then(|mut stmt| stmt.execute([PEER_REQUESTS_MAX as i64]))
            .ctx("bound peer requests")?;
        }
        tx.commit().ctx("commit peer request")?;
        Ok(fresh)
    }
}

impl SqliteStore {
    /// A page of the change feed, of one kind or of all.
    fn change_page(
        &self,
        kind: Option<&Kind>,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<ChangePage, StoreError> {
        check_limit(limit)?;
        let after = match after {
            Some(cursor) => cursor.seq_in(self.store_id)?,
            None => 0,
        };
        let conn = self.reader()?;
        let row_to_change = |row: &rusqlite::Row<'_>| {
            Ok((
                row.get::<_, u64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        };
        let after_value = SqlValue::Int(after as i64);
        let limit_value = SqlValue::Int(limit as i64 + 1);
        let (sql, values) = match kind {
            None => (
                "SELECT seq, stored_at_ms, body FROM report_version
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                vec![after_value, limit_value],
            ),
            Some(kind) => (
                "SELECT seq, stored_at_ms, body FROM report_version
                 WHERE kind = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                vec![
                    SqlValue::Text(kind.as_str().to_string()),
                    after_value,
                    limit_value,
                ],
            ),
        };
        let mut stmt = conn.prepare_cached(sql).ctx("prepare changes")?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values.iter()), row_to_change)
            .ctx("read changes")?;
        let mut changes = Vec::with_capacity(limit.min(64));
        let mut more = false;
        for row in rows {
            let (seq, stored_at_ms, body) = row.ctx("read change")?;
            if changes.len() == limit {
                more = true;
                break;
            }
            let report = decode_report(seq, &body)?;
            debug_assert!(kind.is_none_or(|kind| *kind == report.kind));
            changes.push(Change {
                seq,
                stored_at: Timestamp::from_unix_ms(stored_at_ms),
                report,
            });
        }
        debug_assert!(changes.windows(2).all(|w| w[0].stored_at <= w[1].stored_at));
        let next_seq = changes.last().map_or(after, |c| c.seq);
        Ok(ChangePage {
            changes,
            next: Cursor::new(self.store_id, next_seq),
            more,
        })
    }
}

/// A value bound into a query.
enum SqlValue {
    Int(i64),
    Real(f64),
    Text(String),
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            SqlValue::Int(v) => v.to_sql(),
            SqlValue::Real(v) => v.to_sql(),
            SqlValue::Text(v) => v.to_sql(),
        }
    }
}

/// The SQL of a query and its bound values. Only the shape depends on which
/// filters are set, so the prepared-statement cache holds few variants.
fn query_sql(query: &ReportQuery, after: u64) -> (String, Vec<SqlValue>) {
    let mut sql = String::from(
        "SELECT c.seq, c.body FROM report_version c WHERE c.seq > ? \
         AND NOT EXISTS (SELECT 1 FROM report_superseded s WHERE s.seq = c.seq)",
    );
    let mut values = vec![SqlValue::Int(after as i64)];
    let mut clause = |sql_text: &str, value: SqlValue| {
        sql.push_str(sql_text);
        values.push(value);
    };
    if let Some(kind) = &query.kind {
        clause(" AND c.kind = ?", SqlValue::Text(kind.as_str().to_string()));
    }
    if let Some(owner) = &query.owner {
        clause(
            " AND c.owner = ?",
            SqlValue::Text(owner.as_str().to_string()),
        );
    }
    if let Some(from) = query.observed_from {
        clause(" AND c.observed_ms >= ?", SqlValue::Int(from.unix_ms()));
    }
    if let Some(to) = query.observed_to {
        clause(" AND c.observed_ms < ?", SqlValue::Int(to.unix_ms()));
    }
    if let Some(exercise) = query.exercise {
        clause(" AND c.exercise = ?", SqlValue::Int(i64::from(exercise)));
    }
    if let Some(bbox @ [west, south, east, north]) = query.bbox {
        // The grid cells narrow the candidates (a superset); the exact
        // comparison is on the REAL columns.
        if let Some(cells) = query_cells(bbox) {
            let mut list = String::with_capacity(cells.len() * 6);
            list.push('[');
            for (cell_idx, cell) in cells.iter().enumerate() {
                if cell_idx > 0 {
                    list.push(',');
                }
                list.push_str(&cell.to_string());
            }
            list.push(']');
            clause(
                " AND c.cell IN (SELECT value FROM json_each(?))",
                SqlValue::Text(list),
            );
        }
        sql.push_str(" AND c.west <= ? AND c.east >= ? AND c.south <= ? AND c.north >= ?");
        values.extend([east, west, north, south].map(SqlValue::Real));
    }
    if !query.include_revoked {
        sql.push_str(" AND c.revoked = 0");
    }
    if !query.include_withdrawn {
        sql.push_str(
            " AND NOT EXISTS (SELECT 1 FROM report_withdrawal w \
             WHERE w.report_id = c.report_id AND w.counter > c.counter)",
        );
    }
    sql.push_str(" ORDER BY c.seq LIMIT ?");
    values.push(SqlValue::Int(query.limit as i64 + 1));
    (sql, values)
}
