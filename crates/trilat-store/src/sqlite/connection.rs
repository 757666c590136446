//! Opening connections: the writer with its pragmas (page size, WAL,
//! durability, cache, checkpoints) and the read-only readers.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::Connection;

use super::schema::{check_schema, create, meta, upgrade, Found};
use super::{Context, Durability, SqliteStore};
use crate::{system_clock, StoreError};

/// Page size of a new database. 16 KiB rather than SQLite's 4 KiB: a
/// committed batch writes a quarter as many WAL frames (one `pwrite` each)
/// and the B-trees are shallower (the measured gain on batched ingest is in
/// `docs/bench/store.md`).
const PAGE_SIZE_BYTES: u64 = 16 * 1024;

/// SQLite page cache per connection, in KiB.
const CACHE_KIB: u64 = 64 * 1024;

/// WAL size between automatic checkpoints, bytes (SQLite counts pages).
const WAL_AUTOCHECKPOINT_BYTES: u64 = 32 * 1024 * 1024;

/// How long a writer waits for another connection's lock.
const BUSY_TIMEOUT_MS: u64 = 5_000;

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` with
    /// [`Durability::PowerLoss`].
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, Durability::default())
    }

    /// Opens (creating if needed) the store at `path`. A store of an older
    /// released schema is upgraded to [`SCHEMA_VERSION`](super::SCHEMA_VERSION);
    /// one made by a development version before the first release, or by a
    /// newer Trilat, is [`StoreError::Corrupt`] with what to do, and
    /// nothing is rewritten.
    pub fn open_with(
        path: impl AsRef<Path>,
        durability: Durability,
    ) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        let (mut conn, is_wal, found) = open_writer(path, durability)?;
        match found {
            Found::New => create(&mut conn)?,
            Found::Store { version } => upgrade(&mut conn, version)?,
        }
        let store_id = meta(&conn, "store_id")?
            .and_then(|text| u64::from_str_radix(&text, 16).ok())
            .ok_or_else(|| StoreError::Corrupt("store_meta has no valid store_id".into()))?;
        let reader_path = is_wal.then(|| path.to_path_buf());
        Ok(SqliteStore {
            store_id,
            clock: std::sync::Arc::new(system_clock),
            conn: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            reader_path,
            leases: crate::lease::LeaseTable::default(),
        })
    }
}

/// The writer connection at `path` with the store's pragmas, whether it is
/// in WAL mode (`false` only for an in-memory database), and what
/// [`check_schema`] found (a new database, or a store's schema version). A database of another
/// schema is refused before any pragma writes to it.
fn open_writer(
    path: &Path,
    durability: Durability,
) -> Result<(Connection, bool, Found), StoreError> {
    let conn = Connection::open(path).ctx(&format!("open {}", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
        .ctx("set busy timeout")?;
    let found = check_schema(&conn)?;
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
    // 1,000 pages: index pages that every batch touches are copied back to
    // the database file less often (checkpoints were a large share of
    // ingest; figures in docs/bench/store.md).
    let page_size: u64 = conn
        .query_row("PRAGMA page_size", [], |row| row.get(0))
        .ctx("read page size")?;
    let autocheckpoint_pages = WAL_AUTOCHECKPOINT_BYTES / page_size.max(512);
    conn.execute_batch(&format!(
        "PRAGMA cache_size = -{CACHE_KIB}; PRAGMA wal_autocheckpoint = {autocheckpoint_pages};"
    ))
    .ctx("set cache size")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok((conn, journal == "wal", found))
}

pub(super) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
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
