//! Reading stored versions: id keys, body decoding, the current version,
//! one version, a history.

use rusqlite::{params, Connection, OptionalExtension};
use trilat_core::{Report, ReportId, ReportKey, Signature};

use super::ingest::{held_keys, CURRENT_VERSION_SQL, HELD_IDS_BATCH_LEN_MIN};
use super::{Context, SqliteStore};
use crate::audit;
use crate::{history_too_long, StoreError, QUERY_LIMIT_MAX};

/// A report id as the 16 bytes of its UUID: the key of three indexes, so
/// less than half the size of the 36-character text form.
pub(super) fn id_key(id: &ReportId) -> [u8; 16] {
    audit::report_id_bytes(id)
}

pub(super) fn decode_report(seq: u64, body: &str) -> Result<Report, StoreError> {
    serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("report_version seq {seq} does not decode: {e}")))
}

/// The current version of a report and its seq: its highest counter.
pub(super) fn current_version(
    tx: &Connection,
    report: &ReportKey,
) -> Result<Option<(u64, Report)>, StoreError> {
    let row: Option<(u64, String)> = tx
        .prepare_cached(CURRENT_VERSION_SQL)
        .and_then(|mut stmt| {
            stmt.query_row(params![id_key(&report.id), report.owner.as_str()], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()
        })
        .ctx("read current version")?;
    row.map(|(seq, body)| Ok((seq, decode_report(seq, &body)?)))
        .transpose()
}

pub(super) fn current_report(
    tx: &Connection,
    report: &ReportKey,
) -> Result<Option<Report>, StoreError> {
    Ok(current_version(tx, report)?.map(|(_, report)| report))
}

pub(super) fn held_signature(
    tx: &Connection,
    report: &ReportKey,
    counter: u64,
) -> Result<Option<Signature>, StoreError> {
    let text: Option<String> = tx
        .prepare_cached(
            "SELECT json_extract(body, '$.signature') FROM report_version
             WHERE report_id = ?1 AND owner = ?2 AND counter = ?3",
        )
        .and_then(|mut stmt| {
            stmt.query_row(
                params![id_key(&report.id), report.owner.as_str(), counter],
                |row| row.get(0),
            )
            .optional()
        })
        .ctx("read held signature")?;
    text.map(|text| {
        Signature::from_base64(&text).map_err(|e| {
            StoreError::Corrupt(format!("signature of {report} version {counter}: {e}"))
        })
    })
    .transpose()
}

impl SqliteStore {
    pub(super) fn current_many(
        &self,
        ids: &[ReportKey],
    ) -> Result<Vec<Option<Report>>, StoreError> {
        crate::check_batch_len(ids.len())?;
        let conn = self.reader()?;
        let keys: Vec<[u8; 16]> = ids.iter().map(|report| id_key(&report.id)).collect();
        let held = if ids.len() >= HELD_IDS_BATCH_LEN_MIN {
            held_keys(&conn, &keys)?
        } else {
            None
        };
        let mut stmt = conn
            .prepare_cached(CURRENT_VERSION_SQL)
            .ctx("prepare current version")?;
        let mut reports = Vec::with_capacity(ids.len());
        for (key, report) in keys.iter().zip(ids) {
            // Held: some owner's report has this id (not necessarily this one's).
            if held.as_ref().is_some_and(|held| !held.contains(key)) {
                reports.push(None);
                continue;
            }
            let row: Option<(u64, String)> = stmt
                .query_row(params![key, report.owner.as_str()], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()
                .ctx("read current version")?;
            reports.push(
                row.map(|(seq, body)| decode_report(seq, &body))
                    .transpose()?,
            );
        }
        debug_assert_eq!(reports.len(), ids.len());
        Ok(reports)
    }

    pub(super) fn version_history(&self, report: &ReportKey) -> Result<Vec<Report>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, body FROM report_version WHERE report_id = ?1 AND owner = ?2
                 ORDER BY counter LIMIT ?3",
            )
            .ctx("prepare history")?;
        let rows = stmt
            .query_map(
                params![
                    id_key(&report.id),
                    report.owner.as_str(),
                    QUERY_LIMIT_MAX as u64 + 1
                ],
                |row| Ok((row.get::<_, u64>(0)?, row.get::<_, String>(1)?)),
            )
            .ctx("read history")?;
        let mut reports = Vec::new();
        for row in rows {
            let (seq, body) = row.ctx("read history")?;
            if reports.len() == QUERY_LIMIT_MAX {
                return Err(history_too_long());
            }
            let version = decode_report(seq, &body)?;
            debug_assert_eq!(&version.key(), report);
            reports.push(version);
        }
        Ok(reports)
    }
}
