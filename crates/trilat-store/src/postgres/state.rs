//! Withdrawals (the highest one per report), the sync layer's key/value
//! state and the signatures of recent peer requests.

use trilat_core::{ReportKey, Timestamp, Withdrawal};

use super::pool::{wait, Conn, Context};
use super::{Head, PostgresStore};
use crate::audit::report_id_bytes;
use crate::memory::check_sync_state;
use crate::{
    check_batch_len, check_limit, next_stored_at, AuditEvent, RecordedWithdrawal, StoreError,
    PEER_REQUESTS_MAX,
};

impl PostgresStore {
    pub(super) fn record_withdrawal(
        &self,
        withdrawal: &Withdrawal,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        audit.check()?;
        let body = serde_json::to_string(withdrawal)
            .map_err(|e| StoreError::Invalid(format!("withdrawal of {}: {e}", withdrawal.key())))?;
        let counter = i64::try_from(withdrawal.version).map_err(|_| {
            StoreError::Invalid(format!(
                "withdrawal of {} from version {} is beyond what the store keeps",
                withdrawal.key(),
                withdrawal.version
            ))
        })?;
        let mut conn = self.pool.get()?;
        wait(async {
            // In the head's turn: withdrawals are written only there, so the
            // recorded counter read below cannot change before the commit.
            let mut head = Head::lock(&mut conn).await?;
            let mut res = upsert_withdrawal(&mut conn, withdrawal, counter, &body).await;
            if let Ok(true) = res {
                res = log_withdrawal(&mut conn, &body, (self.clock)())
                    .await
                    .map(|()| true);
            }
            if let Ok(true) = res {
                head.block.append(audit);
            }
            head.finish(&mut conn, res).await
        })
    }

    pub(super) fn withdrawn_counters(
        &self,
        reports: &[ReportKey],
    ) -> Result<Vec<Option<u64>>, StoreError> {
        check_batch_len(reports.len())?;
        if reports.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<[u8; 16]> = reports.iter().map(|r| report_id_bytes(&r.id)).collect();
        let id_slices: Vec<&[u8]> = ids.iter().map(|id| id.as_slice()).collect();
        let owners: Vec<&str> = reports.iter().map(|r| r.owner.as_str()).collect();
        let mut conn = self.pool.get()?;
        let rows = wait(async {
            let statement = conn
                .statement(
                    "SELECT k.n, w.counter
                     FROM unnest($1::bytea[], $2::text[]) WITH ORDINALITY AS k (report_id, owner, n)
                     JOIN report_withdrawal w ON w.report_id = k.report_id AND w.owner = k.owner",
                )
                .await?;
            conn.client
                .query(&statement, &[&id_slices, &owners])
                .await
                .ctx("read withdrawn versions")
        })?;
        let mut versions = vec![None; reports.len()];
        for row in rows {
            let report_idx = usize::try_from(row.get::<_, i64>(0) - 1)
                .ok()
                .filter(|idx| *idx < reports.len())
                .ok_or_else(|| StoreError::Corrupt("withdrawn versions out of range".into()))?;
            versions[report_idx] = Some(row.get::<_, i64>(1) as u64);
        }
        Ok(versions)
    }

    pub(super) fn stored_withdrawal(
        &self,
        report: &ReportKey,
    ) -> Result<Option<Withdrawal>, StoreError> {
        let mut conn = self.pool.get()?;
        let body: Option<String> = wait(async {
            let statement = conn
                .statement("SELECT body FROM report_withdrawal WHERE report_id = $1 AND owner = $2")
                .await?;
            let row = conn
                .client
                .query_opt(
                    &statement,
                    &[
                        &report_id_bytes(&report.id).as_slice(),
                        &report.owner.as_str(),
                    ],
                )
                .await
                .ctx("read withdrawal")?;
            Ok::<_, StoreError>(row.map(|row| row.get(0)))
        })?;
        body.map(|body| {
            serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("withdrawal of {report}: {e}")))
        })
        .transpose()
    }

    pub(super) fn withdrawal_log(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordedWithdrawal>, StoreError> {
        check_limit(limit)?;
        let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
        let mut conn = self.pool.get()?;
        let rows = wait(async {
            let statement = conn
                .statement(
                    "SELECT seq, body, stored_at_ms FROM withdrawal_log
                     WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .await?;
            conn.client
                .query(&statement, &[&after, &(limit as i64)])
                .await
                .ctx("read withdrawal log")
        })?;
        rows.iter()
            .map(|row| {
                let (seq, body, stored_at_ms): (i64, String, Option<i64>) =
                    (row.get(0), row.get(1), row.get(2));
                let withdrawal: Withdrawal = serde_json::from_str(&body)
                    .map_err(|e| StoreError::Corrupt(format!("withdrawal log entry {seq}: {e}")))?;
                Ok(RecordedWithdrawal {
                    seq: seq as u64,
                    report: withdrawal.key(),
                    version: withdrawal.version,
                    stored_at: stored_at_ms.map(Timestamp::from_unix_ms),
                })
            })
            .collect()
    }

    pub(super) fn read_sync_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        check_sync_state(key, "")?;
        let mut conn = self.pool.get()?;
        wait(async {
            let statement = conn
                .statement("SELECT value FROM sync_state WHERE key = $1")
                .await?;
            let row = conn
                .client
                .query_opt(&statement, &[&key])
                .await
                .ctx("read sync state")?;
            Ok(row.map(|row| row.get(0)))
        })
    }

    pub(super) fn write_sync_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        check_sync_state(key, value)?;
        let mut conn = self.pool.get()?;
        wait(async {
            let statement = conn
                .statement(
                    "INSERT INTO sync_state (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .await?;
            conn.client
                .execute(&statement, &[&key, &value])
                .await
                .ctx("write sync state")?;
            Ok(())
        })
    }

    pub(super) fn remember_peer_request(
        &self,
        signature: &[u8; 64],
        seen_ms: i64,
        forget_before_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.pool.get()?;
        wait(async {
            conn.begin("BEGIN").await?;
            let res = note_peer_request(&mut conn, signature, seen_ms, forget_before_ms).await;
            conn.end(res).await
        })
    }
}

/// Records the withdrawal unless one as high is recorded (`false`).
async fn upsert_withdrawal(
    conn: &mut Conn,
    withdrawal: &Withdrawal,
    counter: i64,
    body: &str,
) -> Result<bool, StoreError> {
    let id = report_id_bytes(&withdrawal.id);
    let owner = withdrawal.owner.as_str();
    let statement = conn
        .statement("SELECT counter FROM report_withdrawal WHERE report_id = $1 AND owner = $2")
        .await?;
    let recorded = conn
        .client
        .query_opt(&statement, &[&id.as_slice(), &owner])
        .await
        .ctx("read withdrawal")?;
    if recorded.is_some_and(|row| row.get::<_, i64>(0) >= counter) {
        return Ok(false);
    }
    let statement = conn
        .statement(
            "INSERT INTO report_withdrawal (report_id, owner, counter, body)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (report_id, owner) DO UPDATE SET counter = $3, body = $4",
        )
        .await?;
    conn.client
        .execute(&statement, &[&id.as_slice(), &owner, &counter, &body])
        .await
        .ctx("record withdrawal")?;
    Ok(true)
}

/// Appends a recorded withdrawal to the log. In the head's turn, so the
/// next seq and the last arrival read here cannot change before the commit:
/// the log has no gap a reader could see filled later.
async fn log_withdrawal(conn: &mut Conn, body: &str, now: Timestamp) -> Result<(), StoreError> {
    let statement = conn
        .statement("SELECT max(seq), max(stored_at_ms) FROM withdrawal_log")
        .await?;
    let row = conn
        .client
        .query_one(&statement, &[])
        .await
        .ctx("read the withdrawal log's end")?;
    let (last_seq, last_at): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
    let stored_at = next_stored_at(now, last_at.map(Timestamp::from_unix_ms));
    let statement = conn
        .statement("INSERT INTO withdrawal_log (seq, body, stored_at_ms) VALUES ($1, $2, $3)")
        .await?;
    conn.client
        .execute(
            &statement,
            &[&(last_seq.unwrap_or(0) + 1), &body, &stored_at.unix_ms()],
        )
        .await
        .ctx("log withdrawal")?;
    Ok(())
}

async fn note_peer_request(
    conn: &mut Conn,
    signature: &[u8; 64],
    seen_ms: i64,
    forget_before_ms: i64,
) -> Result<bool, StoreError> {
    let forget = conn
        .statement("DELETE FROM peer_request_seen WHERE seen_ms < $1")
        .await?;
    conn.client
        .execute(&forget, &[&forget_before_ms])
        .await
        .ctx("forget old peer requests")?;
    let record = conn
        .statement(
            "INSERT INTO peer_request_seen (signature, seen_ms) VALUES ($1, $2)
             ON CONFLICT (signature) DO NOTHING",
        )
        .await?;
    let fresh = conn
        .client
        .execute(&record, &[&signature.as_slice(), &seen_ms])
        .await
        .ctx("record peer request")?
        == 1;
    if fresh {
        // The bound: past it, the oldest go early (rare: a million
        // requests within the window).
        let bound = conn
            .statement(
                "DELETE FROM peer_request_seen WHERE signature IN (
                     SELECT signature FROM peer_request_seen ORDER BY seen_ms
                     LIMIT greatest(0, (SELECT count(*) FROM peer_request_seen) - $1))",
            )
            .await?;
        conn.client
            .execute(&bound, &[&(PEER_REQUESTS_MAX as i64)])
            .await
            .ctx("bound peer requests")?;
    }
    Ok(fresh)
}
