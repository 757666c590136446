//! The audit chain in the store: its tip, the per-transaction
//! `audit_block` rows, and reading and verifying them.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use trilat_core::ReportId;

use super::schema::meta;
use super::{Context, SqliteStore};
use crate::audit::{self, ChainCheck};
use crate::audit_block::{AuditBlockRow, PendingBlock, BLOCK_ENTRIES_MAX};
use crate::{
    check_limit, AuditEntry, AuditEvent, AuditVerification, StoreError, AUDIT_HASH_GENESIS,
};

/// The tip of the audit chain as recorded beside it.
pub(super) fn recorded_tip(conn: &Connection) -> Result<(u64, String), StoreError> {
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
pub(super) struct AuditTip {
    block: PendingBlock,
}

impl AuditTip {
    pub(super) fn load(tx: &Transaction<'_>) -> Result<AuditTip, StoreError> {
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
            block: PendingBlock::after(seq, hash),
        })
    }

    /// Appends `event` and returns its entry.
    pub(super) fn append(&mut self, event: AuditEvent) -> AuditEntry {
        self.block.append(event)
    }

    /// Appends an entry for `event` to this transaction's block (see
    /// [`PendingBlock::append_event`]; the row is written once, by
    /// [`AuditTip::record`]).
    pub(super) fn append_event(
        &mut self,
        event: &AuditEvent,
        known_key: Option<(&ReportId, [u8; 16])>,
    ) {
        self.block.append_event(event, known_key);
    }

    pub(super) fn record(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let block = &self.block;
        if block.is_empty() {
            return Ok(());
        }
        tx.prepare_cached(
            "INSERT INTO audit_block (first_seq, n_entries, last_hash, entries)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                block.first_seq(),
                block.n_entries(),
                block.last_hash(),
                block.bytes()
            ])
        })
        .ctx("append audit block")?;
        let mut stmt = tx
            .prepare_cached("UPDATE store_meta SET value = ?2 WHERE key = ?1")
            .ctx("prepare tip update")?;
        stmt.execute(params!["audit_tip_seq", block.last_seq().to_string()])
            .ctx("record audit tip")?;
        stmt.execute(params!["audit_tip_hash", hex::encode(block.last_hash())])
            .ctx("record audit tip")?;
        Ok(())
    }
}

/// The last audit entry's seq and hash (hex): the last block's, else
/// (0, genesis).
pub(super) fn last_audit_entry(conn: &Connection) -> Result<(u64, String), StoreError> {
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
    Ok(
        last_block.map_or((0, AUDIT_HASH_GENESIS.to_string()), |(seq, hash)| {
            (seq, hex::encode(hash))
        }),
    )
}

/// The hash (hex) of the entry before the block starting at `first_seq`.
pub(super) fn audit_hash_before(conn: &Connection, first_seq: u64) -> Result<String, StoreError> {
    let previous_block: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT last_hash FROM audit_block WHERE first_seq < ?1
             ORDER BY first_seq DESC LIMIT 1",
        )
        .and_then(|mut stmt| stmt.query_row([first_seq], |row| row.get(0)).optional())
        .ctx("read audit block")?;
    Ok(previous_block.map_or_else(|| AUDIT_HASH_GENESIS.to_string(), hex::encode))
}

/// One `audit_block` row as read.
fn block_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditBlockRow> {
    Ok(AuditBlockRow {
        first_seq: row.get(0)?,
        n_entries: row.get(1)?,
        last_hash: row.get(2)?,
        entries: row.get(3)?,
    })
}

impl SqliteStore {
    /// Up to `limit` entries after `after_seq`.
    pub(super) fn audit_page(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        check_limit(limit)?;
        let conn = self.reader()?;
        let mut entries = Vec::new();
        block_entries_after(&conn, after_seq, limit, &mut entries)?;
        debug_assert!(entries.len() <= limit);
        debug_assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq));
        Ok(entries)
    }

    pub(super) fn verify_audit_chain(&self) -> Result<AuditVerification, StoreError> {
        let conn = self.reader()?;
        let tip = recorded_tip(&conn)?;
        let mut walk = ChainCheck::new();
        // Each entry's `prev_hash` is the hash stored before it, so a link
        // is checked by its hash.
        let mut stmt = conn
            .prepare_cached(
                "SELECT first_seq, n_entries, last_hash, entries FROM audit_block
                 ORDER BY first_seq",
            )
            .ctx("prepare audit verify")?;
        let mut rows = stmt.query([]).ctx("read audit")?;
        let mut prev_hash = AUDIT_HASH_GENESIS.to_string();
        while let Some(row) = rows.next().ctx("read audit block")? {
            let block = block_row(row).ctx("read audit block")?;
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
        Ok(walk.finish((tip.0, &tip.1)))
    }
}

/// Appends to `entries`, up to `limit` in all, the block entries after
/// `after_seq`, reading from the block that holds `after_seq + 1`.
fn block_entries_after(
    conn: &Connection,
    after_seq: u64,
    limit: usize,
    entries: &mut Vec<AuditEntry>,
) -> Result<(), StoreError> {
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
        let block = block_row(row).ctx("read audit block")?;
        let prev = match prev_hash.take() {
            Some(hash) => hash,
            None => audit_hash_before(conn, block.first_seq)?,
        };
        let decoded = block.decode(&prev).map_err(|problem| {
            StoreError::Corrupt(format!("audit block {}: {problem}", block.first_seq))
        })?;
        prev_hash = Some(hex::encode(&block.last_hash));
        for entry in decoded.into_iter().filter(|e| e.seq > after_seq) {
            if entries.len() == limit {
                return Ok(());
            }
            entries.push(entry);
        }
    }
    Ok(())
}
