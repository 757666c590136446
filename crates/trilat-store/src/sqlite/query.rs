//! Queries and the change feed: the SQL of a [`ReportQuery`] and its pages.

use trilat_core::{Kind, Timestamp};

use super::versions::decode_report;
use super::{Context, SqliteStore};
use crate::grid::query_cells;
use crate::{check_limit, Change, ChangePage, Cursor, ReportPage, ReportQuery, StoreError};

impl SqliteStore {
    pub(super) fn query_page(&self, query: &ReportQuery) -> Result<ReportPage, StoreError> {
        query.check()?;
        let after = match &query.after {
            Some(cursor) => cursor.seq_in(self.store_id)?,
            None => 0,
        };
        let (sql, values) = query_sql(query, after);
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&sql).ctx("prepare query")?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values.iter()), |row| {
                Ok((row.get::<_, u64>(0)?, row.get::<_, String>(1)?))
            })
            .ctx("run query")?;
        let mut reports = Vec::new();
        let mut last_seq = after;
        let mut more = false;
        for row in rows {
            let (seq, body) = row.ctx("read query row")?;
            if reports.len() == query.limit {
                more = true;
                break;
            }
            let report = decode_report(seq, &body)?;
            debug_assert!(
                query.matches(&report),
                "SQL filter and ReportQuery::matches agree"
            );
            reports.push(report);
            last_seq = seq;
        }
        Ok(ReportPage {
            reports,
            next: more.then(|| Cursor::new(self.store_id, last_seq)),
        })
    }

    /// A page of the change feed, of one kind or of all.
    pub(super) fn change_page(
        &self,
        kind: Option<&Kind>,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<ChangePage, StoreError> {
        check_limit(limit)?;
        let after = match after {
            Some(cursor) => cursor.seq_in(self.store_id)?,
            None => 0,
        };
        let conn = self.reader()?;
        let row_to_change = |row: &rusqlite::Row<'_>| {
            Ok((
                row.get::<_, u64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        };
        let (sql, values) = change_sql(kind, after, limit);
        let mut stmt = conn.prepare_cached(sql).ctx("prepare changes")?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values.iter()), row_to_change)
            .ctx("read changes")?;
        let mut changes = Vec::with_capacity(limit.min(64));
        let mut more = false;
        for row in rows {
            let (seq, stored_at_ms, body) = row.ctx("read change")?;
            if changes.len() == limit {
                more = true;
                break;
            }
            let report = decode_report(seq, &body)?;
            debug_assert!(kind.is_none_or(|kind| *kind == report.kind));
            changes.push(Change {
                seq,
                stored_at: Timestamp::from_unix_ms(stored_at_ms),
                report,
            });
        }
        debug_assert!(changes.windows(2).all(|w| w[0].stored_at <= w[1].stored_at));
        let next_seq = changes.last().map_or(after, |c| c.seq);
        Ok(ChangePage {
            changes,
            next: Cursor::new(self.store_id, next_seq),
            more,
        })
    }

    /// The change feed's head: after the highest seq stored (one read of
    /// the primary key's end).
    pub(super) fn change_head(&self) -> Result<Cursor, StoreError> {
        let conn = self.reader()?;
        let seq: u64 = conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM report_version")
            .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
            .ctx("read the change feed's head")?;
        Ok(Cursor::new(self.store_id, seq))
    }

    /// The withdrawal log's highest seq (0 while empty).
    pub(super) fn withdrawal_log_last_seq(&self) -> Result<u64, StoreError> {
        let conn = self.reader()?;
        conn.prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM withdrawal_log")
            .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
            .ctx("read the withdrawal log's head")
    }
}

/// The SQL of a change-feed page (of one kind or of all) and its bound
/// values; one row more than `limit` says whether there is more.
fn change_sql(kind: Option<&Kind>, after: u64, limit: usize) -> (&'static str, Vec<SqlValue>) {
    let after_value = SqlValue::Int(after as i64);
    let limit_value = SqlValue::Int(limit as i64 + 1);
    match kind {
        None => (
            "SELECT seq, stored_at_ms, body FROM report_version
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            vec![after_value, limit_value],
        ),
        Some(kind) => (
            "SELECT seq, stored_at_ms, body FROM report_version
             WHERE kind = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            vec![
                SqlValue::Text(kind.as_str().to_string()),
                after_value,
                limit_value,
            ],
        ),
    }
}

/// A value bound into a query.
pub(super) enum SqlValue {
    Int(i64),
    Real(f64),
    Text(String),
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            SqlValue::Int(v) => v.to_sql(),
            SqlValue::Real(v) => v.to_sql(),
            SqlValue::Text(v) => v.to_sql(),
        }
    }
}

/// The SQL of a query and its bound values. Only the shape depends on which
/// filters are set, so the prepared-statement cache holds few variants.
pub(super) fn query_sql(query: &ReportQuery, after: u64) -> (String, Vec<SqlValue>) {
    let mut sql = String::from(
        "SELECT c.seq, c.body FROM report_version c WHERE c.seq > ? \
         AND NOT EXISTS (SELECT 1 FROM report_superseded s WHERE s.seq = c.seq)",
    );
    let mut values = vec![SqlValue::Int(after as i64)];
    let mut clause = |sql_text: &str, value: SqlValue| {
        sql.push_str(sql_text);
        values.push(value);
    };
    if let Some(kind) = &query.kind {
        clause(" AND c.kind = ?", SqlValue::Text(kind.as_str().to_string()));
    }
    if let Some(owner) = &query.owner {
        clause(
            " AND c.owner = ?",
            SqlValue::Text(owner.as_str().to_string()),
        );
    }
    if let Some(from) = query.observed_from {
        clause(" AND c.observed_ms >= ?", SqlValue::Int(from.unix_ms()));
    }
    if let Some(to) = query.observed_to {
        clause(" AND c.observed_ms < ?", SqlValue::Int(to.unix_ms()));
    }
    if let Some(exercise) = query.exercise {
        clause(" AND c.exercise = ?", SqlValue::Int(i64::from(exercise)));
    }
    if let Some(bbox @ [west, south, east, north]) = query.bbox {
        // The grid cells narrow the candidates (a superset); the exact
        // comparison is on the REAL columns.
        if let Some(cells) = query_cells(bbox) {
            clause(
                " AND c.cell IN (SELECT value FROM json_each(?))",
                SqlValue::Text(json_list(&cells)),
            );
        }
        sql.push_str(" AND c.west <= ? AND c.east >= ? AND c.south <= ? AND c.north >= ?");
        values.extend([east, west, north, south].map(SqlValue::Real));
    }
    if !query.include_revoked {
        sql.push_str(" AND c.revoked = 0");
    }
    if !query.include_withdrawn {
        sql.push_str(
            " AND NOT EXISTS (SELECT 1 FROM report_withdrawal w \
             WHERE w.report_id = c.report_id AND w.owner = c.owner \
             AND w.counter > c.counter)",
        );
    }
    sql.push_str(" ORDER BY c.seq LIMIT ?");
    values.push(SqlValue::Int(query.limit as i64 + 1));
    (sql, values)
}

/// `cells` as a JSON array, the form `json_each` reads: one bound value
/// however many cells, so the statement's text does not vary with the box.
fn json_list(cells: &[i64]) -> String {
    let mut list = String::with_capacity(cells.len() * 6);
    list.push('[');
    for (cell_idx, cell) in cells.iter().enumerate() {
        if cell_idx > 0 {
            list.push(',');
        }
        list.push_str(&cell.to_string());
    }
    list.push(']');
    list
}
