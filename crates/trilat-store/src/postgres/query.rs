//! Queries and the change feed: the SQL of a [`ReportQuery`] and its pages.

use tokio_postgres::types::ToSql;
use trilat_core::{Kind, Timestamp};

use super::pool::{wait, Context};
use super::versions::decode_report;
use super::PostgresStore;
use crate::grid::query_cells;
use crate::{check_limit, Change, ChangePage, Cursor, ReportPage, ReportQuery, StoreError};

/// A value bound into a query.
type SqlValue = Box<dyn ToSql + Sync + Send>;

impl PostgresStore {
    pub(super) fn query_page(&self, query: &ReportQuery) -> Result<ReportPage, StoreError> {
        query.check()?;
        let after = match &query.after {
            Some(cursor) => cursor.seq_in(self.store_id)?,
            None => 0,
        };
        let (sql, values) = query_sql(query, after);
        let params: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|value| value.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let mut conn = self.pool.get()?;
        let rows = wait(async {
            let statement = conn.statement(&sql).await?;
            conn.client
                .query(&statement, &params)
                .await
                .ctx("run query")
        })?;
        let more = rows.len() > query.limit;
        let mut reports = Vec::with_capacity(rows.len().min(query.limit));
        let mut last_seq = after;
        for row in rows.iter().take(query.limit) {
            let seq: i64 = row.get(0);
            let report = decode_report(seq, row.get(1))?;
            debug_assert!(
                query.matches(&report),
                "SQL filter and ReportQuery::matches agree"
            );
            reports.push(report);
            last_seq = seq as u64;
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
        let (after_value, limit_value) = (after as i64, limit as i64 + 1);
        let mut conn = self.pool.get()?;
        let rows = wait(async {
            let rows = match kind {
                None => {
                    let statement = conn
                        .statement(
                            "SELECT seq, stored_at_ms, body FROM report_version
                             WHERE seq > $1 ORDER BY seq LIMIT $2",
                        )
                        .await?;
                    conn.client
                        .query(&statement, &[&after_value, &limit_value])
                        .await
                }
                Some(kind) => {
                    let statement = conn
                        .statement(
                            "SELECT seq, stored_at_ms, body FROM report_version
                             WHERE kind = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                        )
                        .await?;
                    conn.client
                        .query(&statement, &[&kind.as_str(), &after_value, &limit_value])
                        .await
                }
            };
            rows.ctx("read changes")
        })?;
        let more = rows.len() > limit;
        let mut changes = Vec::with_capacity(rows.len().min(limit));
        for row in rows.iter().take(limit) {
            let seq: i64 = row.get(0);
            let report = decode_report(seq, row.get(2))?;
            debug_assert!(kind.is_none_or(|kind| *kind == report.kind));
            changes.push(Change {
                seq: seq as u64,
                stored_at: Timestamp::from_unix_ms(row.get(1)),
                report,
            });
        }
        debug_assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
        debug_assert!(changes.windows(2).all(|w| w[0].stored_at <= w[1].stored_at));
        let next_seq = changes.last().map_or(after, |c| c.seq);
        Ok(ChangePage {
            changes,
            next: Cursor::new(self.store_id, next_seq),
            more,
        })
    }

    /// The change feed's head: after the highest seq committed. Writers
    /// take their seqs in turn at the head row and commit in that order,
    /// so everything below the highest committed seq is committed too.
    pub(super) fn change_head(&self) -> Result<Cursor, StoreError> {
        let seq = self.max_seq("SELECT COALESCE(max(seq), 0) FROM report_version")?;
        Ok(Cursor::new(self.store_id, seq))
    }

    /// The withdrawal log's highest seq (0 while empty).
    pub(super) fn withdrawal_log_last_seq(&self) -> Result<u64, StoreError> {
        self.max_seq("SELECT COALESCE(max(seq), 0) FROM withdrawal_log")
    }

    fn max_seq(&self, sql: &str) -> Result<u64, StoreError> {
        let mut conn = self.pool.get()?;
        let seq: i64 = wait(async {
            let statement = conn.statement(sql).await?;
            let row = conn.client.query_one(&statement, &[]).await.ctx(sql)?;
            Ok::<_, StoreError>(row.get(0))
        })?;
        u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("{sql}: {seq}")))
    }
}

/// The SQL of a query and its bound values. Only the shape depends on which
/// filters are set, so each connection prepares few variants.
fn query_sql(query: &ReportQuery, after: u64) -> (String, Vec<SqlValue>) {
    let mut sql = String::from(
        "SELECT c.seq, c.body FROM report_version c WHERE c.seq > $1 \
         AND NOT EXISTS (SELECT 1 FROM report_superseded s WHERE s.seq = c.seq)",
    );
    let mut values: Vec<SqlValue> = vec![Box::new(after as i64)];
    let mut clause = |sql_text: &str, value: SqlValue| {
        values.push(value);
        sql.push_str(&sql_text.replace('?', &format!("${}", values.len())));
    };
    if let Some(kind) = &query.kind {
        clause(" AND c.kind = ?", Box::new(kind.as_str().to_string()));
    }
    if let Some(owner) = &query.owner {
        clause(" AND c.owner = ?", Box::new(owner.as_str().to_string()));
    }
    if let Some(from) = query.observed_from {
        clause(" AND c.observed_ms >= ?", Box::new(from.unix_ms()));
    }
    if let Some(to) = query.observed_to {
        clause(" AND c.observed_ms < ?", Box::new(to.unix_ms()));
    }
    if let Some(exercise) = query.exercise {
        clause(" AND c.exercise = ?", Box::new(exercise));
    }
    if let Some(bbox @ [west, south, east, north]) = query.bbox {
        // The grid cells narrow the candidates (a superset); the exact
        // comparison is on the float columns.
        if let Some(cells) = query_cells(bbox) {
            clause(" AND c.cell = ANY(?::bigint[])", Box::new(cells));
        }
        clause(" AND c.west <= ?", Box::new(east));
        clause(" AND c.east >= ?", Box::new(west));
        clause(" AND c.south <= ?", Box::new(north));
        clause(" AND c.north >= ?", Box::new(south));
    }
    if !query.include_revoked {
        sql.push_str(" AND NOT c.revoked");
    }
    if !query.include_withdrawn {
        sql.push_str(
            " AND NOT EXISTS (SELECT 1 FROM report_withdrawal w \
             WHERE w.report_id = c.report_id AND w.owner = c.owner \
             AND w.counter > c.counter)",
        );
    }
    values.push(Box::new(query.limit as i64 + 1));
    sql.push_str(&format!(" ORDER BY c.seq LIMIT ${}", values.len()));
    (sql, values)
}
