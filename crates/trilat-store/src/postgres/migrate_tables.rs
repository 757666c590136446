//! The tables `trilat migrate` copies (see `migrate.rs`): each read from
//! the SQLite snapshot in chunks, in key order (keyset paging, so a large
//! table is never held in memory), and written with one
//! `INSERT … SELECT FROM unnest(…)` per chunk. Columns are copied as they
//! are: SQLite's `INTEGER` 0/1 flags become `boolean`, nothing else changes.

use rusqlite::{params, Connection, Row};
use tokio_postgres::types::ToSql;

use super::migrate::{source_error, MigrationProgress};
use super::pool::{Conn, Context};
use crate::StoreError;

/// Rows per chunk (a report version's body is ~1 KB: a few MB per insert).
const CHUNK_ROWS: usize = 2_000;
/// Audit blocks per chunk (a batch's block is up to ~1 MB).
const CHUNK_BLOCKS: usize = 32;

/// Rows per table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableCounts {
    /// Report versions (`report_version`), every version of every report.
    pub report_versions: u64,
    /// Versions that are not current (`report_superseded`).
    pub superseded: u64,
    /// The highest withdrawal per report (`report_withdrawal`).
    pub withdrawals: u64,
    /// Every withdrawal recorded (`withdrawal_log`).
    pub withdrawal_log: u64,
    /// Audit blocks (`audit_block`; one per write transaction).
    pub audit_blocks: u64,
    /// Federation key/value state, e.g. the cursors into peers' feeds.
    pub sync_state: u64,
    /// Recent peer requests' signatures (the replay guard).
    pub peer_requests: u64,
}

impl TableCounts {
    /// Rows in all.
    pub fn total(&self) -> u64 {
        self.report_versions
            + self.superseded
            + self.withdrawals
            + self.withdrawal_log
            + self.audit_blocks
            + self.sync_state
            + self.peer_requests
    }
}

/// The source's row counts, in its snapshot.
pub(super) fn count_rows(source: &Connection) -> Result<TableCounts, StoreError> {
    source
        .query_row(
            "SELECT (SELECT count(*) FROM report_version), (SELECT count(*) FROM report_superseded),
                    (SELECT count(*) FROM report_withdrawal), (SELECT count(*) FROM withdrawal_log),
                    (SELECT count(*) FROM audit_block), (SELECT count(*) FROM sync_state),
                    (SELECT count(*) FROM peer_request_seen)",
            [],
            |row| {
                let n = |idx: usize| row.get::<_, i64>(idx).map(|n| n as u64);
                Ok(TableCounts {
                    report_versions: n(0)?,
                    superseded: n(1)?,
                    withdrawals: n(2)?,
                    withdrawal_log: n(3)?,
                    audit_blocks: n(4)?,
                    sync_state: n(5)?,
                    peer_requests: n(6)?,
                })
            },
        )
        .map_err(|e| source_error("count rows", e))
}

/// One table's copy: what it reads, what it writes, how it pages.
struct Table {
    name: &'static str,
    /// Reads rows after the key `?1` (the last row's first column), `?2` at most.
    select: &'static str,
    /// The first key (below every row's).
    key_start: Key,
    insert: &'static str,
    /// The columns `select` reads, in the order `insert` takes them.
    columns: &'static [Column],
    chunk: usize,
}

/// A column as it is copied.
#[derive(Clone, Copy)]
enum Column {
    Int,
    MaybeInt,
    MaybeReal,
    Text,
    Blob,
    /// SQLite's 0/1 `INTEGER`, PostgreSQL's `boolean`.
    Flag,
}
use Column::*;

/// A keyset paging key: the last row's key column(s).
#[derive(Clone)]
enum Key {
    Int(i64),
    Blob(Vec<u8>),
    /// `report_withdrawal`'s `(report_id, owner)`.
    BlobText(Vec<u8>, String),
    Text(String),
}

const TABLES: [Table; 7] = [
    Table {
        name: "report_version",
        select: "SELECT seq, report_id, owner, counter, body, kind, stored_at_ms, observed_ms,
                 exercise, revoked, west, south, east, north, cell
                 FROM report_version WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        key_start: Key::Int(i64::MIN),
        insert: "INSERT INTO report_version (seq, report_id, owner, counter, body, kind,
                 stored_at_ms, observed_ms, exercise, revoked, west, south, east, north, cell)
                 SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::bigint[],
                 $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::boolean[],
                 $10::boolean[], $11::float8[], $12::float8[], $13::float8[], $14::float8[],
                 $15::bigint[])",
        columns: &[
            Int, Blob, Text, Int, Text, Text, Int, Int, Flag, Flag, MaybeReal, MaybeReal,
            MaybeReal, MaybeReal, MaybeInt,
        ],
        chunk: CHUNK_ROWS,
    },
    Table {
        name: "report_superseded",
        select: "SELECT seq FROM report_superseded WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        key_start: Key::Int(i64::MIN),
        insert: "INSERT INTO report_superseded (seq) SELECT unnest($1::bigint[])",
        columns: &[Int],
        chunk: CHUNK_ROWS * 10,
    },
    Table {
        name: "report_withdrawal",
        select: "SELECT report_id, owner, counter, body FROM report_withdrawal
                 WHERE (report_id, owner) > (?1, ?3) ORDER BY report_id, owner LIMIT ?2",
        key_start: Key::BlobText(Vec::new(), String::new()),
        insert: "INSERT INTO report_withdrawal (report_id, owner, counter, body)
                 SELECT * FROM unnest($1::bytea[], $2::text[], $3::bigint[], $4::text[])",
        columns: &[Blob, Text, Int, Text],
        chunk: CHUNK_ROWS,
    },
    Table {
        name: "withdrawal_log",
        select: "SELECT seq, body, stored_at_ms FROM withdrawal_log
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        key_start: Key::Int(i64::MIN),
        insert: "INSERT INTO withdrawal_log (seq, body, stored_at_ms)
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])",
        columns: &[Int, Text, MaybeInt],
        chunk: CHUNK_ROWS,
    },
    Table {
        name: "audit_block",
        select: "SELECT first_seq, n_entries, last_hash, entries FROM audit_block
                 WHERE first_seq > ?1 ORDER BY first_seq LIMIT ?2",
        key_start: Key::Int(i64::MIN),
        insert: "INSERT INTO audit_block (first_seq, n_entries, last_hash, entries)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[])",
        columns: &[Int, Int, Blob, Blob],
        chunk: CHUNK_BLOCKS,
    },
    Table {
        name: "sync_state",
        select: "SELECT key, value FROM sync_state WHERE key > ?1 ORDER BY key LIMIT ?2",
        key_start: Key::Text(String::new()),
        insert: "INSERT INTO sync_state (key, value)
                 SELECT * FROM unnest($1::text[], $2::text[])",
        columns: &[Text, Text],
        chunk: CHUNK_ROWS,
    },
    Table {
        name: "peer_request_seen",
        select: "SELECT signature, seen_ms FROM peer_request_seen
                 WHERE signature > ?1 ORDER BY signature LIMIT ?2",
        key_start: Key::Blob(Vec::new()),
        insert: "INSERT INTO peer_request_seen (signature, seen_ms)
                 SELECT * FROM unnest($1::bytea[], $2::bigint[])",
        columns: &[Blob, Int],
        chunk: CHUNK_ROWS * 5,
    },
];

/// A chunk read from one table, column by column (what `unnest` takes).
#[derive(Default)]
struct Columns {
    ints: Vec<Vec<i64>>,
    maybe_ints: Vec<Vec<Option<i64>>>,
    floats: Vec<Vec<Option<f64>>>,
    texts: Vec<Vec<String>>,
    blobs: Vec<Vec<Vec<u8>>>,
    flags: Vec<Vec<bool>>,
    /// The parameters in the insert's order: (kind, index into that kind).
    order: Vec<(Column, usize)>,
    n_rows: usize,
}

impl Columns {
    fn new(kinds: &[Column]) -> Columns {
        let mut columns = Columns::default();
        for kind in kinds {
            let idx = match kind {
                Int => push_new(&mut columns.ints),
                MaybeInt => push_new(&mut columns.maybe_ints),
                MaybeReal => push_new(&mut columns.floats),
                Text => push_new(&mut columns.texts),
                Blob => push_new(&mut columns.blobs),
                Flag => push_new(&mut columns.flags),
            };
            columns.order.push((*kind, idx));
        }
        columns
    }

    /// Appends `row`'s columns.
    fn push(&mut self, row: &Row) -> rusqlite::Result<()> {
        for (column_idx, (kind, idx)) in self.order.iter().enumerate() {
            match kind {
                Int => self.ints[*idx].push(row.get(column_idx)?),
                MaybeInt => self.maybe_ints[*idx].push(row.get(column_idx)?),
                MaybeReal => self.floats[*idx].push(row.get(column_idx)?),
                Text => self.texts[*idx].push(row.get(column_idx)?),
                Blob => self.blobs[*idx].push(row.get(column_idx)?),
                Flag => self.flags[*idx].push(row.get::<_, i64>(column_idx)? != 0),
            }
        }
        self.n_rows += 1;
        Ok(())
    }

    /// The key after the last row (its first column, or first two).
    fn last_key(&self, start: &Key) -> Key {
        debug_assert!(self.n_rows > 0);
        let last = self.n_rows - 1;
        match start {
            Key::Int(_) => Key::Int(self.ints[0][last]),
            Key::Blob(_) => Key::Blob(self.blobs[0][last].clone()),
            Key::BlobText(..) => {
                Key::BlobText(self.blobs[0][last].clone(), self.texts[0][last].clone())
            }
            Key::Text(_) => Key::Text(self.texts[0][last].clone()),
        }
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.order
            .iter()
            .map(|(kind, idx)| -> &(dyn ToSql + Sync) {
                match kind {
                    Int => &self.ints[*idx],
                    MaybeInt => &self.maybe_ints[*idx],
                    MaybeReal => &self.floats[*idx],
                    Text => &self.texts[*idx],
                    Blob => &self.blobs[*idx],
                    Flag => &self.flags[*idx],
                }
            })
            .collect()
    }
}

fn push_new<T>(columns: &mut Vec<Vec<T>>) -> usize {
    columns.push(Vec::new());
    columns.len() - 1
}

/// Reads up to `table.chunk` rows after `after`.
fn read_chunk(source: &Connection, table: &Table, after: &Key) -> Result<Columns, StoreError> {
    let mut stmt = source
        .prepare_cached(table.select)
        .map_err(|e| source_error(table.name, e))?;
    let limit = table.chunk as i64;
    let mut rows = match after {
        Key::Int(key) => stmt.query(params![key, limit]),
        Key::Blob(key) => stmt.query(params![key, limit]),
        Key::BlobText(id, owner) => stmt.query(params![id, limit, owner]),
        Key::Text(key) => stmt.query(params![key, limit]),
    }
    .map_err(|e| source_error(table.name, e))?;
    let mut columns = Columns::new(table.columns);
    while let Some(row) = rows.next().map_err(|e| source_error(table.name, e))? {
        columns.push(row).map_err(|e| source_error(table.name, e))?;
    }
    debug_assert!(columns.n_rows <= table.chunk);
    Ok(columns)
}

/// Copies one table; returns its row count.
async fn copy_table(
    conn: &mut Conn,
    source: &Connection,
    table: &Table,
    (mut rows_done, rows_total): (u64, u64),
    progress: &mut dyn FnMut(&MigrationProgress),
) -> Result<u64, StoreError> {
    let insert = conn.statement(table.insert).await?;
    let mut after = table.key_start.clone();
    let mut n_rows = 0u64;
    loop {
        let columns = read_chunk(source, table, &after)?;
        if columns.n_rows == 0 {
            return Ok(n_rows);
        }
        let written = conn
            .client
            .execute(&insert, &columns.params())
            .await
            .ctx(&format!("copy {}", table.name))?;
        if written != columns.n_rows as u64 {
            return Err(StoreError::Corrupt(format!(
                "copy {}: {written} rows written of {}",
                table.name, columns.n_rows
            )));
        }
        n_rows += written;
        rows_done += written;
        progress(&MigrationProgress {
            table: table.name,
            rows_done,
            rows_total,
        });
        after = columns.last_key(&table.key_start);
    }
}

/// Copies every table; the counts must equal the source's (`counts`).
pub(super) async fn copy_tables(
    conn: &mut Conn,
    source: &Connection,
    counts: &TableCounts,
    progress: &mut dyn FnMut(&MigrationProgress),
) -> Result<TableCounts, StoreError> {
    let rows_total = counts.total();
    let mut copied = Vec::with_capacity(TABLES.len());
    let mut rows_done = 0;
    for table in &TABLES {
        let n_rows = copy_table(conn, source, table, (rows_done, rows_total), progress).await?;
        rows_done += n_rows;
        copied.push(n_rows);
    }
    let copied = TableCounts {
        report_versions: copied[0],
        superseded: copied[1],
        withdrawals: copied[2],
        withdrawal_log: copied[3],
        audit_blocks: copied[4],
        sync_state: copied[5],
        peer_requests: copied[6],
    };
    if &copied != counts {
        return Err(StoreError::Corrupt(format!(
            "copied {copied:?} but the source holds {counts:?}; rolled back"
        )));
    }
    Ok(copied)
}
