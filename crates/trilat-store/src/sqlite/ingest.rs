//! Storing reports: one write transaction's ingest, and which ids of a
//! batch the store already holds.

use std::collections::HashSet;

use rusqlite::{params, CachedStatement, Connection, OptionalExtension, Transaction};
use trilat_core::{Report, Timestamp};

use super::audit_blocks::AuditTip;
use super::versions::{current_version, decode_report, held_signature, id_key};
use super::{write, Context, SqliteStore};
use crate::grid::QueryColumns;
use crate::rules::{place, Placement};
use crate::{AuditEvent, PutOutcome, StoreError, BATCH_LEN_MAX};

/// The current version of a report (by its id key and owner): its highest
/// counter.
pub(super) const CURRENT_VERSION_SQL: &str =
    "SELECT seq, body FROM report_version WHERE report_id = ?1 AND owner = ?2
     ORDER BY counter DESC LIMIT 1";

/// Below this many reports a batch looks each id up on its own rather than
/// asking once which ids are held.
pub(super) const HELD_IDS_BATCH_LEN_MIN: usize = 8;

/// One write transaction's ingest: the statements every stored report
/// uses, looked up in the statement cache once per transaction rather than
/// once per report (the lookup hashes the SQL each time), and which of the
/// batch's ids the store held when it began.
pub(super) struct Ingest<'tx> {
    current: CachedStatement<'tx>,
    insert: CachedStatement<'tx>,
    superseded: CachedStatement<'tx>,
    /// Ids of the batch the store held before it, under any owner: `None`
    /// when not asked (every report is then looked up).
    held: Option<HashSet<[u8; 16]>>,
    /// The id keys of the batch, in order (computed once: each is used
    /// for the lookup, the insert and the audit entry).
    keys: Vec<[u8; 16]>,
    /// The body of the report being put (reused: one allocation per batch).
    body: Vec<u8>,
    /// Ids already put in this transaction, under any owner (a batch may
    /// hold several versions of one report).
    seen: HashSet<[u8; 16]>,
}

impl<'tx> Ingest<'tx> {
    pub(super) fn new(
        tx: &'tx Transaction<'_>,
        batch: &[(Report, AuditEvent)],
    ) -> Result<Ingest<'tx>, StoreError> {
        let keys: Vec<[u8; 16]> = batch.iter().map(|(report, _)| id_key(&report.id)).collect();
        let held = if batch.len() >= HELD_IDS_BATCH_LEN_MIN {
            held_keys(tx, &keys)?
        } else {
            None
        };
        Ok(Ingest {
            current: tx
                .prepare_cached(CURRENT_VERSION_SQL)
                .ctx("prepare current version")?,
            insert: tx
                .prepare_cached(
                    "INSERT INTO report_version (report_id, counter, body, kind, stored_at_ms, owner,
                     observed_ms, exercise, revoked, west, south, east, north, cell)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )
                .ctx("prepare insert version")?,
            superseded: tx
                .prepare_cached("INSERT INTO report_superseded (seq) VALUES (?1)")
                .ctx("prepare superseded")?,
            held,
            keys,
            body: Vec::with_capacity(1024),
            seen: HashSet::with_capacity(batch.len()),
        })
    }

    /// One put inside the open write transaction; `report_idx` is its
    /// place in the batch given to [`Ingest::new`] (`None` for a report
    /// outside it).
    pub(super) fn put(
        &mut self,
        tx: &Transaction<'_>,
        tip: &mut AuditTip,
        (report, event): (&Report, &AuditEvent),
        report_idx: Option<usize>,
        stored_at: Timestamp,
    ) -> Result<PutOutcome, StoreError> {
        event.check()?;
        let key = match report_idx {
            Some(report_idx) => self.keys[report_idx],
            None => id_key(&report.id),
        };
        debug_assert_eq!(key, id_key(&report.id));
        // A new id (held by no owner, not yet put in this transaction) has
        // no current version: skip the lookup.
        let first_in_batch = self.seen.insert(key);
        let known_new =
            first_in_batch && self.held.as_ref().is_some_and(|held| !held.contains(&key));
        let current = if known_new {
            debug_assert!(current_version(tx, &report.key())?.is_none());
            None
        } else {
            self.current_version(&key, report)?
        };
        let placement = place(report, current.as_ref().map(|(_, held)| held), || {
            held_signature(tx, &report.key(), report.version)
        })?;
        if placement == Placement::Duplicate {
            return Ok(PutOutcome::Duplicate);
        }
        let seq = self.insert_version(tx, &key, report, stored_at)?;
        let is_current = placement == Placement::Current;
        // The version that stops (or never starts) being current.
        let superseded_seq = match (&current, is_current) {
            (Some((old_seq, _)), true) => Some(*old_seq),
            (None, true) => None,
            (_, false) => Some(seq),
        };
        if let Some(superseded_seq) = superseded_seq {
            debug_assert!(superseded_seq <= seq);
            self.superseded
                .execute([superseded_seq])
                .ctx("record superseded version")?;
        }
        tip.append_event(event, Some((&report.id, key)));
        Ok(PutOutcome::Stored {
            seq,
            current: is_current,
        })
    }

    /// The current version of `report`'s report (id keyed `key`) and its seq.
    fn current_version(
        &mut self,
        key: &[u8; 16],
        report: &Report,
    ) -> Result<Option<(u64, Report)>, StoreError> {
        let row: Option<(u64, String)> = self
            .current
            .query_row(params![key, report.owner.as_str()], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()
            .ctx("read current version")?;
        row.map(|(seq, body)| Ok((seq, decode_report(seq, &body)?)))
            .transpose()
    }

    /// Appends a version with the columns queries filter on; returns its seq.
    fn insert_version(
        &mut self,
        tx: &Transaction<'_>,
        key: &[u8; 16],
        report: &Report,
        stored_at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.body.clear();
        crate::body::write_body(&mut self.body, report).map_err(|e| {
            StoreError::Invalid(format!("report {} does not encode: {e}", report.key()))
        })?;
        // serde_json writes UTF-8: bound as TEXT without a copy or a check.
        let body =
            rusqlite::types::ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(&self.body));
        let columns = QueryColumns::of(report);
        let [west, south, east, north] = columns.bbox;
        self.insert
            .execute(params![
                key,
                report.version,
                body,
                report.kind.as_str(),
                stored_at.unix_ms(),
                report.owner.as_str(),
                report.observed_at.unix_ms(),
                report.exercise,
                report.revoked,
                west,
                south,
                east,
                north,
                columns.cell,
            ])
            .ctx("insert report version")?;
        Ok(tx.last_insert_rowid() as u64)
    }
}

/// Most held ids [`held_keys`] reads per report of the batch before it
/// gives up (and the batch looks each id up on its own).
pub(super) const HELD_IDS_PER_REPORT_MAX: usize = 2;

/// Which of the batch's report ids the store holds a version of (under any
/// owner: a hit is then looked up with its owner), or `None`
/// when that would take too long to say. One range scan of the id index
/// between the batch's smallest and largest id replaces a lookup per
/// report, which for new reports always misses. Report ids are UUIDv7,
/// ordered by creation time, so a batch of fresh reports spans a range
/// holding few or no stored ids; a batch whose range holds more than
/// [`HELD_IDS_PER_REPORT_MAX`] rows per id (old ids mixed with new
/// ones) is `None`. (A per-batch `IN (json_each(…))` probe does not
/// pay: see `docs/bench/store.md`.)
pub(super) fn held_keys(
    conn: &Connection,
    keys: &[[u8; 16]],
) -> Result<Option<HashSet<[u8; 16]>>, StoreError> {
    let Some(first) = keys.first() else {
        return Ok(Some(HashSet::new()));
    };
    let (key_min, key_max) = keys.iter().fold((*first, *first), |(lo, hi), key| {
        (lo.min(*key), hi.max(*key))
    });
    debug_assert!(key_min <= key_max);
    let rows_max = HELD_IDS_PER_REPORT_MAX * keys.len();
    let mut stmt = conn
        .prepare_cached(
            "SELECT report_id FROM report_version
             WHERE report_id BETWEEN ?1 AND ?2 LIMIT ?3",
        )
        .ctx("prepare held ids")?;
    let rows = stmt
        .query_map(params![key_min, key_max, rows_max as u64 + 1], |row| {
            row.get::<_, Vec<u8>>(0)
        })
        .ctx("read held ids")?;
    let mut held = HashSet::new();
    let mut n_rows = 0;
    for row in rows {
        n_rows += 1;
        // A key that is not 16 bytes is a corrupt row: let the lookups
        // (which report it) decide rather than guess here.
        let Ok(key) = <[u8; 16]>::try_from(row.ctx("read held id")?) else {
            return Ok(None);
        };
        if n_rows > rows_max {
            return Ok(None);
        }
        debug_assert!(key_min <= key && key <= key_max);
        held.insert(key);
    }
    Ok(Some(held))
}

impl SqliteStore {
    pub(super) fn store_batch(
        &self,
        batch: &[(Report, AuditEvent)],
    ) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
        if batch.len() > BATCH_LEN_MAX {
            return Err(StoreError::LimitExceeded {
                limit: batch.len(),
                max: BATCH_LEN_MAX,
            });
        }
        let mut conn = self.lock()?;
        write(&mut conn, |tx, tip| {
            // One arrival time per batch: it arrived in one transaction.
            let stored_at = self.stored_at(tx)?;
            let mut ingest = Ingest::new(tx, batch)?;
            let mut outcomes = Vec::with_capacity(batch.len());
            for (report_idx, (report, event)) in batch.iter().enumerate() {
                match ingest.put(tx, tip, (report, event), Some(report_idx), stored_at) {
                    // A database failure aborts the whole batch (rolled back);
                    // a refusal is that report's outcome only. Refusals are
                    // decided before anything of that report is written.
                    Err(StoreError::Sqlite(message)) => return Err(StoreError::Sqlite(message)),
                    outcome => outcomes.push(outcome),
                }
            }
            debug_assert_eq!(outcomes.len(), batch.len());
            Ok(outcomes)
        })
    }
}
