//! [`SqliteStore`]: the embedded default store (rusqlite, bundled SQLite,
//! WAL mode). See `docs/store.md` for the schema and the durability choice.

use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use trilat_core::{Kind, Report, ReportKey, Timestamp, Withdrawal};

use crate::lease::{LeaseTable, LocalLeases};
use crate::{
    check_batch_len, next_stored_at, AuditEntry, AuditEvent, AuditVerification, ChangePage, Clock,
    Cursor, PutOutcome, RecordedWithdrawal, ReportPage, ReportQuery, ReportStore, StoreError,
};
use audit_blocks::{last_audit_entry, AuditTip};
use ingest::Ingest;
use versions::{current_report, decode_report, id_key};

mod audit_blocks;
mod connection;
mod ingest;
mod query;
mod readers;
mod schema;
mod sync_state;
mod versions;
mod withdrawals;

pub use schema::SCHEMA_VERSION;

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
    /// Leases: one process opens an SQLite store, so they live in memory.
    leases: LeaseTable,
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
    /// The same store, reading arrival times ([`Change::stored_at`](crate::Change::stored_at)) from
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

    pub(super) fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }
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

impl LocalLeases for SqliteStore {
    fn lease_table(&self) -> &LeaseTable {
        &self.leases
    }
}

impl ReportStore for SqliteStore {
    crate::lease::local_lease_methods!();

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
        self.store_batch(batch)
    }

    fn get(&self, report: &ReportKey) -> Result<Option<Report>, StoreError> {
        let conn = self.reader()?;
        current_report(&conn, report)
    }

    fn get_many(&self, reports: &[ReportKey]) -> Result<Vec<Option<Report>>, StoreError> {
        self.current_many(reports)
    }

    fn version(&self, report: &ReportKey, counter: u64) -> Result<Option<Report>, StoreError> {
        let conn = self.reader()?;
        let row: Option<(u64, String)> = conn
            .prepare_cached(
                "SELECT seq, body FROM report_version
                 WHERE report_id = ?1 AND owner = ?2 AND counter = ?3",
            )
            .ctx("prepare version")?
            .query_row(
                params![id_key(&report.id), report.owner.as_str(), counter],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .ctx("read version")?;
        row.map(|(seq, body)| decode_report(seq, &body)).transpose()
    }

    fn put_withdrawal(
        &self,
        withdrawal: &Withdrawal,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        self.record_withdrawal(withdrawal, audit)
    }

    fn withdrawn_versions(&self, reports: &[ReportKey]) -> Result<Vec<Option<u64>>, StoreError> {
        self.withdrawn_counters(reports)
    }

    fn withdrawal(&self, report: &ReportKey) -> Result<Option<Withdrawal>, StoreError> {
        self.stored_withdrawal(report)
    }

    fn withdrawals(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordedWithdrawal>, StoreError> {
        self.withdrawal_log(after_seq, limit)
    }

    fn history(&self, report: &ReportKey) -> Result<Vec<Report>, StoreError> {
        self.version_history(report)
    }

    fn query(&self, query: &ReportQuery) -> Result<ReportPage, StoreError> {
        self.query_page(query)
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

    fn changes_head(&self) -> Result<Cursor, StoreError> {
        self.change_head()
    }

    fn withdrawals_last_seq(&self) -> Result<u64, StoreError> {
        self.withdrawal_log_last_seq()
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

    fn audit_last_seq(&self) -> Result<u64, StoreError> {
        let conn = self.reader()?;
        Ok(last_audit_entry(&conn)?.0)
    }

    fn audit(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_page(after_seq, limit)
    }

    fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        self.verify_audit_chain()
    }

    fn sync_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.read_sync_state(key)
    }

    fn set_sync_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.write_sync_state(key, value)
    }

    fn note_peer_request(
        &self,
        signature: &[u8; 64],
        seen_ms: i64,
        forget_before_ms: i64,
    ) -> Result<bool, StoreError> {
        self.remember_peer_request(signature, seen_ms, forget_before_ms)
    }
}
