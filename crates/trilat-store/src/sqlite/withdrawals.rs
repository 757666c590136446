//! Withdrawals: the highest one per report.

use rusqlite::{params, OptionalExtension};
use trilat_core::{ReportKey, Timestamp, Withdrawal};

use super::versions::id_key;
use super::{write, Context, SqliteStore};
use crate::{next_stored_at, AuditEvent, RecordedWithdrawal, StoreError};

impl SqliteStore {
    pub(super) fn record_withdrawal(
        &self,
        withdrawal: &Withdrawal,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        audit.check()?;
        let body = serde_json::to_string(withdrawal)
            .map_err(|e| StoreError::Invalid(format!("withdrawal of {}: {e}", withdrawal.key())))?;
        let mut conn = self.lock()?;
        write(&mut conn, |tx, tip| {
            let recorded: Option<u64> = tx
                .prepare_cached(
                    "SELECT counter FROM report_withdrawal WHERE report_id = ?1 AND owner = ?2",
                )
                .ctx("prepare withdrawal")?
                .query_row(
                    params![id_key(&withdrawal.id), withdrawal.owner.as_str()],
                    |row| row.get(0),
                )
                .optional()
                .ctx("read withdrawal")?;
            if recorded.is_some_and(|counter| counter >= withdrawal.version) {
                return Ok(false);
            }
            tx.prepare_cached(
                "INSERT INTO report_withdrawal (report_id, owner, counter, body)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (report_id, owner) DO UPDATE SET counter = ?3, body = ?4",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    id_key(&withdrawal.id),
                    withdrawal.owner.as_str(),
                    withdrawal.version,
                    body
                ])
            })
            .ctx("record withdrawal")?;
            let previous: Option<i64> = tx
                .prepare_cached("SELECT max(stored_at_ms) FROM withdrawal_log")
                .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
                .ctx("read last withdrawal arrival")?;
            let stored_at = next_stored_at((self.clock)(), previous.map(Timestamp::from_unix_ms));
            tx.prepare_cached("INSERT INTO withdrawal_log (body, stored_at_ms) VALUES (?1, ?2)")
                .and_then(|mut stmt| stmt.execute(params![body, stored_at.unix_ms()]))
                .ctx("log withdrawal")?;
            tip.append(audit);
            Ok(true)
        })
    }

    pub(super) fn withdrawn_counters(
        &self,
        ids: &[ReportKey],
    ) -> Result<Vec<Option<u64>>, StoreError> {
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
            .prepare_cached(
                "SELECT counter FROM report_withdrawal WHERE report_id = ?1 AND owner = ?2",
            )
            .ctx("prepare withdrawn versions")?;
        let mut versions = Vec::with_capacity(ids.len());
        for report in ids {
            let version: Option<u64> = stmt
                .query_row(params![id_key(&report.id), report.owner.as_str()], |row| {
                    row.get(0)
                })
                .optional()
                .ctx("read withdrawn version")?;
            versions.push(version);
        }
        Ok(versions)
    }

    pub(super) fn withdrawal_log(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordedWithdrawal>, StoreError> {
        crate::check_limit(limit)?;
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, body, stored_at_ms FROM withdrawal_log
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .ctx("prepare withdrawal log")?;
        let rows = stmt
            .query_map(params![after_seq, limit as u64], |row| {
                Ok((
                    row.get::<_, u64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<i64>>(2)?,
                ))
            })
            .ctx("read withdrawal log")?;
        let mut page = Vec::new();
        for row in rows {
            let (seq, body, stored_at_ms) = row.ctx("read withdrawal log")?;
            let withdrawal: Withdrawal = serde_json::from_str(&body).map_err(|e| {
                StoreError::Corrupt(format!("withdrawal_log seq {seq} does not decode: {e}"))
            })?;
            page.push(RecordedWithdrawal {
                seq,
                report: withdrawal.key(),
                version: withdrawal.version,
                stored_at: stored_at_ms.map(Timestamp::from_unix_ms),
            });
        }
        debug_assert!(page.windows(2).all(|w| w[0].seq < w[1].seq));
        Ok(page)
    }

    pub(super) fn stored_withdrawal(
        &self,
        report: &ReportKey,
    ) -> Result<Option<Withdrawal>, StoreError> {
        let conn = self.reader()?;
        let body: Option<String> = conn
            .prepare_cached(
                "SELECT body FROM report_withdrawal WHERE report_id = ?1 AND owner = ?2",
            )
            .ctx("prepare withdrawal")?
            .query_row(params![id_key(&report.id), report.owner.as_str()], |row| {
                row.get(0)
            })
            .optional()
            .ctx("read withdrawal")?;
        body.map(|body| {
            serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("withdrawal of {report}: {e}")))
        })
        .transpose()
    }
}
