//! Reading stored versions: the current versions of many reports, one
//! version, a history.

use std::collections::HashMap;

use tokio_postgres::{Client, Statement};
use trilat_core::{Report, ReportKey};

use super::pool::{wait, Conn, Context};
use super::PostgresStore;
use crate::audit::report_id_bytes;
use crate::{check_batch_len, history_too_long, StoreError, QUERY_LIMIT_MAX};

/// The current version (highest counter) and its seq of each listed report
/// (`$1` ids, `$2` owners, pairwise).
pub(super) const CURRENT_VERSIONS_SQL: &str = "SELECT DISTINCT ON (v.report_id, v.owner) \
     v.report_id, v.owner, v.seq, v.body \
     FROM unnest($1::bytea[], $2::text[]) AS k (report_id, owner) \
     JOIN report_version v ON v.report_id = k.report_id AND v.owner = k.owner \
     ORDER BY v.report_id, v.owner, v.counter DESC";

pub(super) fn decode_report(seq: i64, body: &str) -> Result<Report, StoreError> {
    serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("report_version seq {seq} does not decode: {e}")))
}

/// The current version and its seq of each report of `reports` that the
/// store holds, by key.
pub(super) async fn current_versions(
    conn: &mut Conn,
    reports: &[ReportKey],
) -> Result<HashMap<ReportKey, (u64, Report)>, StoreError> {
    if reports.is_empty() {
        return Ok(HashMap::new());
    }
    let statement = conn.statement(CURRENT_VERSIONS_SQL).await?;
    current_versions_with(&conn.client, &statement, reports).await
}

/// [`current_versions`] with its statement prepared (so that it can be
/// sent together with another query).
pub(super) async fn current_versions_with(
    client: &Client,
    statement: &Statement,
    reports: &[ReportKey],
) -> Result<HashMap<ReportKey, (u64, Report)>, StoreError> {
    if reports.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<[u8; 16]> = reports.iter().map(|r| report_id_bytes(&r.id)).collect();
    let id_slices: Vec<&[u8]> = ids.iter().map(|id| id.as_slice()).collect();
    let owners: Vec<&str> = reports.iter().map(|r| r.owner.as_str()).collect();
    let rows = client
        .query(statement, &[&id_slices, &owners])
        .await
        .ctx("read current versions")?;
    let mut current = HashMap::with_capacity(rows.len());
    for row in rows {
        let seq: i64 = row.get(2);
        let report = decode_report(seq, row.get(3))?;
        debug_assert_eq!(row.get::<_, &[u8]>(0), report_id_bytes(&report.id));
        current.insert(report.key(), (seq as u64, report));
    }
    Ok(current)
}

impl PostgresStore {
    pub(super) fn current_many(
        &self,
        reports: &[ReportKey],
    ) -> Result<Vec<Option<Report>>, StoreError> {
        check_batch_len(reports.len())?;
        let mut conn = self.pool.get()?;
        let current = wait(current_versions(&mut conn, reports))?;
        // A key asked twice gets the same answer twice.
        let answer: Vec<Option<Report>> = reports
            .iter()
            .map(|key| current.get(key).map(|(_, report)| report.clone()))
            .collect();
        debug_assert_eq!(answer.len(), reports.len());
        Ok(answer)
    }

    pub(super) fn one_version(
        &self,
        report: &ReportKey,
        counter: u64,
    ) -> Result<Option<Report>, StoreError> {
        let Ok(counter) = i64::try_from(counter) else {
            return Ok(None);
        };
        let mut conn = self.pool.get()?;
        wait(async {
            let statement = conn
                .statement(
                    "SELECT seq, body FROM report_version
                     WHERE report_id = $1 AND owner = $2 AND counter = $3",
                )
                .await?;
            let row = conn
                .client
                .query_opt(
                    &statement,
                    &[
                        &report_id_bytes(&report.id).as_slice(),
                        &report.owner.as_str(),
                        &counter,
                    ],
                )
                .await
                .ctx("read version")?;
            row.map(|row| decode_report(row.get(0), row.get(1)))
                .transpose()
        })
    }

    pub(super) fn version_history(&self, report: &ReportKey) -> Result<Vec<Report>, StoreError> {
        let mut conn = self.pool.get()?;
        let rows = wait(async {
            let statement = conn
                .statement(
                    "SELECT seq, body FROM report_version WHERE report_id = $1 AND owner = $2
                     ORDER BY counter LIMIT $3",
                )
                .await?;
            conn.client
                .query(
                    &statement,
                    &[
                        &report_id_bytes(&report.id).as_slice(),
                        &report.owner.as_str(),
                        &(QUERY_LIMIT_MAX as i64 + 1),
                    ],
                )
                .await
                .ctx("read history")
        })?;
        if rows.len() > QUERY_LIMIT_MAX {
            return Err(history_too_long());
        }
        let mut versions = Vec::with_capacity(rows.len());
        for row in rows {
            let version = decode_report(row.get(0), row.get(1))?;
            debug_assert_eq!(&version.key(), report);
            versions.push(version);
        }
        Ok(versions)
    }
}
