//! Storing reports: a batch decided in memory and written with a few
//! set-based statements, inside the head's turn (see `mod.rs`).
//!
//! Before the turn, each report's row is prepared (body, query columns):
//! work that need not hold up other writers. Inside it, one query reads
//! the current versions of every report of the batch, the version rules
//! place each report in order (a batch may hold several versions of one
//! report), and one `INSERT … SELECT FROM unnest(…)` writes the stored
//! versions, whatever their number.

use std::collections::HashMap;

use trilat_core::{Report, ReportKey, Signature, Timestamp};

use super::pool::{wait, Conn, Context};
use super::versions::decode_report;
use super::{Head, PipelinedWrite, PostgresStore};
use crate::audit::report_id_bytes;
use crate::grid::QueryColumns;
use crate::rules::{place, Placement};
use crate::{check_batch_len, next_stored_at, AuditEvent, PutOutcome, StoreError};

const INSERT_VERSIONS_SQL: &str = "INSERT INTO report_version (seq, report_id, owner, counter, \
     body, kind, stored_at_ms, observed_ms, exercise, revoked, west, south, east, north, cell) \
     SELECT seq, report_id, owner, counter, body, kind, $7, observed_ms, exercise, revoked, \
     west, south, east, north, cell \
     FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::bigint[], $5::text[], $6::text[], \
     $8::bigint[], $9::boolean[], $10::boolean[], $11::float8[], $12::float8[], $13::float8[], \
     $14::float8[], $15::bigint[]) \
     AS v (seq, report_id, owner, counter, body, kind, observed_ms, exercise, revoked, \
     west, south, east, north, cell)";

/// A report's row, prepared before the turn.
struct Prepared {
    id: [u8; 16],
    counter: i64,
    body: String,
    columns: QueryColumns,
}

/// A report's row, or why it cannot be stored (an invalid request).
fn prepare(report: &Report) -> Result<Prepared, String> {
    let counter = i64::try_from(report.version).map_err(|_| {
        format!(
            "report {} version {} is beyond what the store keeps ({})",
            report.key(),
            report.version,
            i64::MAX
        )
    })?;
    let mut body = Vec::with_capacity(1024);
    crate::body::write_body(&mut body, report)
        .map_err(|e| format!("report {} does not encode: {e}", report.key()))?;
    let body = String::from_utf8(body)
        .map_err(|e| format!("report {} does not encode: {e}", report.key()))?;
    Ok(Prepared {
        id: report_id_bytes(&report.id),
        counter,
        body,
        columns: QueryColumns::of(report),
    })
}

/// The versions a batch stores, as the columns of one insert.
#[derive(Default)]
struct NewVersions<'a> {
    seq: Vec<i64>,
    report_id: Vec<&'a [u8]>,
    owner: Vec<&'a str>,
    counter: Vec<i64>,
    body: Vec<&'a str>,
    kind: Vec<&'a str>,
    observed_ms: Vec<i64>,
    exercise: Vec<bool>,
    revoked: Vec<bool>,
    bbox: [Vec<Option<f64>>; 4],
    cell: Vec<Option<i64>>,
    /// Seqs that are not (or no longer) current.
    superseded: Vec<i64>,
    /// The arrival time of the batch (Unix ms).
    stored_at_ms: i64,
}

impl<'a> NewVersions<'a> {
    fn push(&mut self, seq: u64, report: &'a Report, row: &'a Prepared) {
        self.seq.push(seq as i64);
        self.report_id.push(&row.id);
        self.owner.push(report.owner.as_str());
        self.counter.push(row.counter);
        self.body.push(&row.body);
        self.kind.push(report.kind.as_str());
        self.observed_ms.push(report.observed_at.unix_ms());
        self.exercise.push(report.exercise);
        self.revoked.push(report.revoked);
        for (column, value) in self.bbox.iter_mut().zip(row.columns.bbox) {
            column.push(value);
        }
        self.cell.push(row.columns.cell);
    }

    /// The statements that write the versions, sent with the commit
    /// (`stored_at_ms` is the arrival time of all of them).
    async fn writes(&'a self, conn: &mut Conn) -> Result<Vec<PipelinedWrite<'a>>, StoreError> {
        let mut writes = Vec::new();
        if !self.seq.is_empty() {
            let [west, south, east, north] = &self.bbox;
            writes.push(PipelinedWrite {
                statement: conn.statement(INSERT_VERSIONS_SQL).await?,
                params: vec![
                    &self.seq,
                    &self.report_id,
                    &self.owner,
                    &self.counter,
                    &self.body,
                    &self.kind,
                    &self.stored_at_ms,
                    &self.observed_ms,
                    &self.exercise,
                    &self.revoked,
                    west,
                    south,
                    east,
                    north,
                    &self.cell,
                ],
                what: "insert report versions",
            });
        }
        if !self.superseded.is_empty() {
            writes.push(PipelinedWrite {
                statement: conn
                    .statement("INSERT INTO report_superseded (seq) SELECT unnest($1::bigint[])")
                    .await?,
                params: vec![&self.superseded],
                what: "record superseded versions",
            });
        }
        Ok(writes)
    }
}

/// What the batch knows of each report while placing it: the current
/// version (held or put earlier in the batch) and the signatures of the
/// versions the batch put.
struct Placing {
    current: HashMap<ReportKey, (u64, Report)>,
    put: HashMap<(ReportKey, u64), Signature>,
}

impl Placing {
    /// The signature held under `counter` of `key`'s report: put by this
    /// batch, or stored.
    async fn held_signature(
        &self,
        conn: &mut Conn,
        key: &ReportKey,
        id: &[u8; 16],
        counter: i64,
    ) -> Result<Option<Signature>, StoreError> {
        if let Some(signature) = self.put.get(&(key.clone(), counter as u64)) {
            return Ok(Some(*signature));
        }
        let statement = conn
            .statement(
                "SELECT seq, body FROM report_version
                 WHERE report_id = $1 AND owner = $2 AND counter = $3",
            )
            .await?;
        let row = conn
            .client
            .query_opt(&statement, &[&id.as_slice(), &key.owner.as_str(), &counter])
            .await
            .ctx("read held version")?;
        Ok(row
            .map(|row| decode_report(row.get(0), row.get(1)))
            .transpose()?
            .map(|report| report.signature))
    }
}

/// Places the batch inside the head's turn: one outcome per report, and
/// the versions to write (sent with the commit). A database failure fails
/// the whole batch (rolled back); a refusal is that report's outcome only.
async fn ingest<'a>(
    conn: &mut Conn,
    head: &mut Head,
    batch: &'a [(Report, AuditEvent)],
    rows: &'a [Result<Prepared, String>],
    (keys, current): (Vec<ReportKey>, HashMap<ReportKey, (u64, Report)>),
    clock_now: Timestamp,
) -> Result<(Vec<Result<PutOutcome, StoreError>>, NewVersions<'a>), StoreError> {
    debug_assert_eq!(batch.len(), rows.len());
    debug_assert_eq!(batch.len(), keys.len());
    let mut placing = Placing {
        current,
        put: HashMap::new(),
    };
    let mut new = NewVersions::default();
    let mut outcomes = Vec::with_capacity(batch.len());
    for (((report, event), row), key) in batch.iter().zip(rows).zip(keys) {
        let outcome = match row {
            Ok(row) => {
                place_one(
                    conn,
                    head,
                    &mut placing,
                    &mut new,
                    (report, event),
                    row,
                    key,
                )
                .await
            }
            Err(problem) => Err(StoreError::Invalid(problem.clone())),
        };
        match outcome {
            Err(StoreError::Postgres(message)) => return Err(StoreError::Postgres(message)),
            outcome => outcomes.push(outcome),
        }
    }
    if !new.seq.is_empty() {
        let stored_at = next_stored_at(clock_now, head.stored_at);
        new.stored_at_ms = stored_at.unix_ms();
        head.stored_at = Some(stored_at);
    }
    debug_assert_eq!(outcomes.len(), batch.len());
    Ok((outcomes, new))
}

/// One report of the batch: where the version rules put it, and its row
/// and audit entry if it is stored.
async fn place_one<'a>(
    conn: &mut Conn,
    head: &mut Head,
    placing: &mut Placing,
    new: &mut NewVersions<'a>,
    (report, event): (&'a Report, &AuditEvent),
    row: &'a Prepared,
    key: ReportKey,
) -> Result<PutOutcome, StoreError> {
    event.check()?;
    let current = placing.current.get(&key);
    let held = match current {
        Some((_, current)) if report.version < current.version => {
            placing
                .held_signature(conn, &key, &row.id, row.counter)
                .await?
        }
        _ => None,
    };
    let placement = place(report, current.map(|(_, held)| held), || Ok(held))?;
    if placement == Placement::Duplicate {
        return Ok(PutOutcome::Duplicate);
    }
    let seq = head.feed_seq + 1;
    head.feed_seq = seq;
    new.push(seq, report, row);
    let is_current = placement == Placement::Current;
    // The version that stops (or never starts) being current.
    match (current, is_current) {
        (Some((old_seq, _)), true) => new.superseded.push(*old_seq as i64),
        (None, true) => {}
        (_, false) => new.superseded.push(seq as i64),
    }
    if is_current {
        placing.current.insert(key.clone(), (seq, report.clone()));
    }
    placing.put.insert((key, report.version), report.signature);
    head.block.append_event(event, Some((&report.id, row.id)));
    Ok(PutOutcome::Stored {
        seq,
        current: is_current,
    })
}

impl PostgresStore {
    /// Stores a batch in one transaction.
    pub(super) fn store_batch(
        &self,
        batch: &[(Report, AuditEvent)],
    ) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
        check_batch_len(batch.len())?;
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<Result<Prepared, String>> =
            batch.iter().map(|(report, _)| prepare(report)).collect();
        let mut conn = self.pool.get()?;
        wait(async {
            let keys: Vec<ReportKey> = batch.iter().map(|(report, _)| report.key()).collect();
            let (mut head, current) = Head::lock_reading(&mut conn, &keys).await?;
            let known = (keys, current);
            match ingest(&mut conn, &mut head, batch, &rows, known, (self.clock)()).await {
                Ok((outcomes, new)) => {
                    let writes = match new.writes(&mut conn).await {
                        Ok(writes) => writes,
                        Err(e) => return head.finish(&mut conn, Err(e)).await,
                    };
                    head.commit(&mut conn, writes).await.map(|()| outcomes)
                }
                Err(e) => head.finish(&mut conn, Err(e)).await,
            }
        })
    }
}
