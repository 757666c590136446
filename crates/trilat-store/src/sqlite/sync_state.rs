//! What the sync layer keeps in the store: its key/value state and the
//! signatures of recent peer requests.

use rusqlite::{params, OptionalExtension};

use super::{Context, SqliteStore};
use crate::memory::check_sync_state;
use crate::{StoreError, PEER_REQUESTS_MAX, SYNC_STATE_LEN_MAX};

impl SqliteStore {
    pub(super) fn read_sync_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        check_sync_state(key, "")?;
        self.reader()?
            .prepare_cached("SELECT value FROM sync_state WHERE key = ?1")
            .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
            .ctx("read sync state")
    }

    pub(super) fn write_sync_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
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

    pub(super) fn remember_peer_request(
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
