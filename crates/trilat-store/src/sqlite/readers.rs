//! The reader pool: read-only connections, each read in one snapshot.

use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use super::connection::open_reader;
use super::{Context, SqliteStore};
use crate::StoreError;

/// Idle read connections kept open.
const READERS_IDLE_MAX: usize = 4;

/// A connection to read from, inside one read transaction (one snapshot),
/// ended and returned to the pool on drop.
pub(super) enum ReadGuard<'a> {
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

impl SqliteStore {
    /// A connection for reads: a pooled read-only one in a read transaction,
    /// or the writer for an in-memory database.
    pub(super) fn reader(&self) -> Result<ReadGuard<'_>, StoreError> {
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
}
