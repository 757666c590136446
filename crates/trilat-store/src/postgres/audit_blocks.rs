//! Reading the audit chain from `audit_block` rows: the last entry, a
//! page of entries, and the whole chain's verification. (Writing is the
//! write transaction's: `Head` in `mod.rs`.)

use tokio_postgres::{Client, Row};

use super::pool::{wait, Conn, Context};
use super::PostgresStore;
use crate::audit::ChainCheck;
use crate::audit_block::{AuditBlockRow, BLOCK_ENTRIES_MAX};
use crate::{check_limit, AuditEntry, AuditVerification, StoreError, AUDIT_HASH_GENESIS};

/// Blocks read per round trip while paging or verifying (a block holds up
/// to [`BLOCK_ENTRIES_MAX`] entries, so memory stays bounded).
const BLOCKS_PER_READ: i64 = 64;

/// The last audit entry's seq and hash (hex): the last block's, else
/// (0, genesis).
pub(super) async fn last_audit_entry(client: &Client) -> Result<(u64, String), StoreError> {
    let row = client
        .query_opt(
            "SELECT first_seq + n_entries - 1, last_hash FROM audit_block
             ORDER BY first_seq DESC LIMIT 1",
            &[],
        )
        .await
        .ctx("read audit tip")?;
    Ok(row.map_or((0, AUDIT_HASH_GENESIS.to_string()), |row| {
        (
            row.get::<_, i64>(0) as u64,
            hex::encode(row.get::<_, &[u8]>(1)),
        )
    }))
}

fn block_row(row: &Row) -> AuditBlockRow {
    AuditBlockRow {
        first_seq: row.get::<_, i64>(0) as u64,
        n_entries: row.get::<_, i64>(1) as u64,
        last_hash: row.get(2),
        entries: row.get(3),
    }
}

/// Up to [`BLOCKS_PER_READ`] blocks starting at or after `first_seq`, in order.
async fn blocks_from(conn: &mut Conn, first_seq: u64) -> Result<Vec<AuditBlockRow>, StoreError> {
    let statement = conn
        .statement(
            "SELECT first_seq, n_entries, last_hash, entries FROM audit_block
             WHERE first_seq >= $1 ORDER BY first_seq LIMIT $2",
        )
        .await?;
    let rows = conn
        .client
        .query(&statement, &[&(first_seq as i64), &BLOCKS_PER_READ])
        .await
        .ctx("read audit blocks")?;
    Ok(rows.iter().map(block_row).collect())
}

impl PostgresStore {
    /// Up to `limit` entries after `after_seq`.
    pub(super) fn audit_page(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        check_limit(limit)?;
        let mut conn = self.pool.get()?;
        let entries = wait(entries_after(&mut conn, after_seq, limit))?;
        debug_assert!(entries.len() <= limit);
        debug_assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq));
        Ok(entries)
    }

    /// Recomputes every hash and link, in one snapshot with the recorded tip.
    pub(super) fn verify_audit_chain(&self) -> Result<AuditVerification, StoreError> {
        let mut conn = self.pool.get()?;
        wait(async {
            conn.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?;
            let res = verify(&mut conn).await;
            conn.end(res).await
        })
    }
}

pub(super) async fn verify(conn: &mut Conn) -> Result<AuditVerification, StoreError> {
    let row = conn
        .client
        .query_one("SELECT audit_tip_seq, audit_tip_hash FROM store_head", &[])
        .await
        .ctx("read audit tip")?;
    let tip: (i64, String) = (row.get(0), row.get(1));
    let mut walk = ChainCheck::new();
    let mut prev_hash = AUDIT_HASH_GENESIS.to_string();
    let mut next_first_seq = 0;
    loop {
        let blocks = blocks_from(conn, next_first_seq).await?;
        let Some(last) = blocks.last() else { break };
        next_first_seq = last.first_seq + 1;
        for block in &blocks {
            // Each entry's `prev_hash` is the hash stored before it, so a
            // link is checked by its hash.
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
    }
    Ok(walk.finish((tip.0 as u64, &tip.1)))
}

/// Up to `limit` entries after `after_seq`, read from the block that
/// holds `after_seq + 1` on.
async fn entries_after(
    conn: &mut Conn,
    after_seq: u64,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let start = conn
        .client
        .query_one(
            "SELECT coalesce(max(first_seq), 0) FROM audit_block WHERE first_seq <= $1",
            &[&(after_seq as i64 + 1)],
        )
        .await
        .ctx("find audit block")?;
    let mut next_first_seq = start.get::<_, i64>(0) as u64;
    let mut prev_hash = hash_before(&conn.client, next_first_seq).await?;
    let mut entries = Vec::new();
    loop {
        let blocks = blocks_from(conn, next_first_seq).await?;
        let Some(last) = blocks.last() else {
            return Ok(entries);
        };
        next_first_seq = last.first_seq + 1;
        for block in &blocks {
            let decoded = block.decode(&prev_hash).map_err(|problem| {
                StoreError::Corrupt(format!("audit block {}: {problem}", block.first_seq))
            })?;
            prev_hash = hex::encode(&block.last_hash);
            for entry in decoded.into_iter().filter(|e| e.seq > after_seq) {
                if entries.len() == limit {
                    return Ok(entries);
                }
                entries.push(entry);
            }
        }
    }
}

/// The hash (hex) of the entry before the block starting at `first_seq`.
async fn hash_before(client: &Client, first_seq: u64) -> Result<String, StoreError> {
    let row = client
        .query_opt(
            "SELECT last_hash FROM audit_block WHERE first_seq < $1
             ORDER BY first_seq DESC LIMIT 1",
            &[&(first_seq as i64)],
        )
        .await
        .ctx("read audit block")?;
    Ok(row.map_or_else(
        || AUDIT_HASH_GENESIS.to_string(),
        |row| hex::encode(row.get::<_, &[u8]>(0)),
    ))
}
