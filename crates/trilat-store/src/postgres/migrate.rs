//! `trilat migrate`: an SQLite store copied into an empty PostgreSQL store,
//! table by table and row for row, in **one** PostgreSQL transaction.
//!
//! Both stores keep the same tables (`postgres/schema.rs` mirrors SQLite's
//! schema 2), so nothing is re-derived: every report version keeps its
//! `seq` and arrival time, the audit blocks are copied byte for byte (the
//! hash chain is the same chain), and the destination takes the source's
//! store id, so the cursors the old node handed out (to peers pulling its
//! feed, to TAXII clients) stay valid. The order of work:
//!
//! 1. the source is opened as a store (its schema checked; one of schema 1
//!    upgraded), then read in one SQLite read transaction: one snapshot;
//! 2. its audit chain is verified in that snapshot (a broken chain: nothing
//!    is written);
//! 3. the destination's head is locked and the store must be empty;
//! 4. the tables are copied in chunks ([`MigrationProgress`] after each);
//! 5. the head is moved to the source's feed and audit tip, and the copied
//!    chain is verified end to end *inside the transaction*: it must end
//!    at the source's head hash with the same number of entries;
//! 6. commit. Any failure before it rolls everything back, leaving the
//!    destination empty (so the command can simply be run again).

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::migrate_tables::{copy_tables, count_rows, TableCounts};
use super::pool::{wait, Conn, Context};
use super::{audit_blocks, PostgresStore};
use crate::audit::ChainCheck;
use crate::audit_block::{AuditBlockRow, BLOCK_ENTRIES_MAX};
use crate::{SqliteStore, StoreError, AUDIT_HASH_GENESIS};

/// How far a migration has got, reported after each chunk of rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationProgress {
    /// The table being copied.
    pub table: &'static str,
    /// Rows copied so far, all tables together.
    pub rows_done: u64,
    /// Rows to copy in all.
    pub rows_total: u64,
}

/// What a migration copied (all of it, or it failed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    /// Rows copied, per table.
    pub copied: TableCounts,
    /// Audit entries, verified in the source and again in the destination.
    pub audit_entries: u64,
    /// The audit chain's head: the last entry's hash (hex; the genesis
    /// hash for an empty log), the same in both stores.
    pub audit_head_hash: String,
    /// The store id both stores now share (cursors stay valid).
    pub store_id: u64,
}

/// The source's audit chain as verified in the snapshot.
struct SourceChain {
    entries: u64,
    tip_seq: u64,
    tip_hash: String,
}

impl PostgresStore {
    /// Copies the SQLite store at `source` into this store, which must be
    /// empty (see the module's comment for the steps). Returns the store
    /// (now with the source's store id) and what was copied. `progress` is
    /// called after each chunk of rows.
    pub fn import_sqlite(
        mut self,
        source: &Path,
        progress: &mut dyn FnMut(&MigrationProgress),
    ) -> Result<(PostgresStore, Migration), StoreError> {
        let source_conn = open_source(source)?;
        let migration = {
            let mut conn = self.pool.get()?;
            wait(async {
                conn.begin("BEGIN ISOLATION LEVEL READ COMMITTED").await?;
                let res = migrate(&mut conn, &source_conn, progress).await;
                conn.end(res).await
            })?
        };
        // The source's read transaction ends here.
        drop(source_conn);
        self.store_id = migration.store_id;
        Ok((self, migration))
    }
}

/// The source store, its schema checked, in a read transaction.
fn open_source(path: &Path) -> Result<Connection, StoreError> {
    if !path.is_file() {
        return Err(StoreError::Invalid(format!(
            "no SQLite store at {} (not a file)",
            path.display()
        )));
    }
    // Checks the schema (refusing another program's file or a newer
    // store) and upgrades one of schema 1, as the node would on start.
    drop(SqliteStore::open(path)?);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| source_error("open", e))?;
    // Deferred: the first read takes the snapshot every later read shares.
    conn.execute_batch("BEGIN DEFERRED")
        .map_err(|e| source_error("begin a read", e))?;
    Ok(conn)
}

pub(super) fn source_error(operation: &str, error: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(format!("the source store: {operation}: {error}"))
}

async fn migrate(
    conn: &mut Conn,
    source: &Connection,
    progress: &mut dyn FnMut(&MigrationProgress),
) -> Result<Migration, StoreError> {
    let chain = verify_source(source)?;
    let store_id = source_store_id(source)?;
    check_empty(conn).await?;
    let counts = count_rows(source)?;
    let copied = copy_tables(conn, source, &counts, progress).await?;
    debug_assert_eq!(copied, counts);
    move_head(conn, source, &chain, store_id).await?;
    verify_destination(conn, &chain).await?;
    Ok(Migration {
        copied,
        audit_entries: chain.entries,
        audit_head_hash: chain.tip_hash,
        store_id,
    })
}

/// Verifies every audit block of the snapshot against the recorded tip.
fn verify_source(source: &Connection) -> Result<SourceChain, StoreError> {
    let tip_seq: u64 = source_meta(source, "audit_tip_seq")?
        .parse()
        .map_err(|_| StoreError::Corrupt("the source's audit_tip_seq is not a number".into()))?;
    let tip_hash = source_meta(source, "audit_tip_hash")?;
    let mut stmt = source
        .prepare(
            "SELECT first_seq, n_entries, last_hash, entries FROM audit_block ORDER BY first_seq",
        )
        .map_err(|e| source_error("read audit blocks", e))?;
    let mut rows = stmt
        .query([])
        .map_err(|e| source_error("read audit blocks", e))?;
    let mut walk = ChainCheck::new();
    let mut prev_hash = AUDIT_HASH_GENESIS.to_string();
    while let Some(row) = rows
        .next()
        .map_err(|e| source_error("read audit block", e))?
    {
        let block = AuditBlockRow {
            first_seq: row
                .get::<_, i64>(0)
                .map_err(|e| source_error("audit block", e))? as u64,
            n_entries: row
                .get::<_, i64>(1)
                .map_err(|e| source_error("audit block", e))? as u64,
            last_hash: row.get(2).map_err(|e| source_error("audit block", e))?,
            entries: row.get(3).map_err(|e| source_error("audit block", e))?,
        };
        match block.decode(&prev_hash) {
            Ok(entries) => entries.iter().for_each(|entry| walk.push(entry)),
            Err(_) => walk.push_undecodable(
                block.first_seq,
                block.n_entries.min(BLOCK_ENTRIES_MAX),
                &hex::encode(&block.last_hash),
            ),
        }
        prev_hash = hex::encode(&block.last_hash);
    }
    let verification = walk.finish((tip_seq, tip_hash.as_str()));
    if let Some(broken) = verification.first_broken {
        return Err(StoreError::Corrupt(format!(
            "the source store's audit chain is broken at entry {broken} ({} entries checked); \
             nothing was copied (see `trilat audit verify`)",
            verification.entries
        )));
    }
    debug_assert_eq!(verification.entries, tip_seq);
    Ok(SourceChain {
        entries: verification.entries,
        tip_seq,
        tip_hash,
    })
}

fn source_meta(source: &Connection, key: &str) -> Result<String, StoreError> {
    source
        .query_row(
            "SELECT value FROM store_meta WHERE key = ?1",
            [key],
            |row| row.get(0),
        )
        .optional()
        .map_err(|e| source_error("read store_meta", e))?
        .ok_or_else(|| StoreError::Corrupt(format!("the source's store_meta has no {key}")))
}

fn source_store_id(source: &Connection) -> Result<u64, StoreError> {
    u64::from_str_radix(&source_meta(source, "store_id")?, 16)
        .map_err(|_| StoreError::Corrupt("the source's store_id is not 16 hex digits".into()))
}

/// Locks the destination's head (so no node writes to it meanwhile) and
/// refuses a store that holds anything.
async fn check_empty(conn: &mut Conn) -> Result<(), StoreError> {
    conn.client
        .query_one("SELECT feed_seq FROM store_head FOR UPDATE", &[])
        .await
        .ctx("lock store_head")?;
    let row = conn
        .client
        .query_one(
            "SELECT (SELECT count(*) FROM report_version), (SELECT count(*) FROM audit_block),
                    (SELECT count(*) FROM report_withdrawal), (SELECT count(*) FROM withdrawal_log),
                    (SELECT count(*) FROM sync_state), (SELECT count(*) FROM peer_request_seen)",
            &[],
        )
        .await
        .ctx("count the destination's rows")?;
    let names = [
        "report versions",
        "audit blocks",
        "withdrawals",
        "withdrawal log entries",
        "sync state keys",
        "peer request signatures",
    ];
    let held: Vec<String> = names
        .iter()
        .enumerate()
        .filter_map(|(idx, name)| {
            let n: i64 = row.get(idx);
            (n > 0).then(|| format!("{n} {name}"))
        })
        .collect();
    if !held.is_empty() {
        return Err(StoreError::Invalid(format!(
            "the destination store is not empty (it holds {}); migrate copies into an empty \
             store only: give it a new database (or schema), nothing was written",
            held.join(", ")
        )));
    }
    Ok(())
}

/// The destination's head and store id, as the source's.
async fn move_head(
    conn: &mut Conn,
    source: &Connection,
    chain: &SourceChain,
    store_id: u64,
) -> Result<(), StoreError> {
    let (feed_seq, stored_at_ms): (i64, Option<i64>) = source
        .query_row(
            "SELECT coalesce(max(seq), 0), max(stored_at_ms) FROM report_version",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(|e| source_error("read the feed's end", e))?;
    conn.client
        .execute(
            "UPDATE store_head SET feed_seq = $1, stored_at_ms = $2,
             audit_tip_seq = $3, audit_tip_hash = $4",
            &[
                &feed_seq,
                &stored_at_ms,
                &(chain.tip_seq as i64),
                &chain.tip_hash,
            ],
        )
        .await
        .ctx("move store_head")?;
    let updated = conn
        .client
        .execute(
            "UPDATE store_meta SET value = $1 WHERE key = 'store_id'",
            &[&format!("{store_id:016x}")],
        )
        .await
        .ctx("write store_meta")?;
    if updated != 1 {
        return Err(StoreError::Corrupt(
            "the destination's store_meta has no store_id".into(),
        ));
    }
    Ok(())
}

/// The copied chain, read back in this transaction, must verify and end
/// at the source's head.
async fn verify_destination(conn: &mut Conn, chain: &SourceChain) -> Result<(), StoreError> {
    // `verify` checks the walk against store_head, which holds the
    // source's tip: a chain ending anywhere else is broken.
    let verification = audit_blocks::verify(conn).await?;
    if let Some(broken) = verification.first_broken {
        return Err(StoreError::Corrupt(format!(
            "the copied audit chain does not verify at entry {broken}; rolled back"
        )));
    }
    if verification.entries != chain.entries {
        return Err(StoreError::Corrupt(format!(
            "the copied audit chain has {} entries, the source {}; rolled back",
            verification.entries, chain.entries
        )));
    }
    Ok(())
}
