//! [`PostgresStore`]: the store of a node that runs as several processes
//! (tokio-postgres). See `docs/store.md`, "PostgreSQL", for the driver
//! choice and the write order.
//!
//! **Write order.** Every write transaction that adds to the change feed or
//! the audit log first locks the one `store_head` row (`SELECT … FOR
//! UPDATE`), reads the feed's last seq and the audit chain's tip there,
//! assigns the next seqs and entries, writes them, moves the head and
//! commits. Writers of every process take turns at that row, so:
//!
//! * the audit log is one chain: each transaction's block starts at the
//!   tip the previous transaction committed;
//! * the change feed has no gaps and commits in seq order: seq `n + 1` is
//!   assigned only once the transaction holding `n` has committed (the lock
//!   is released after its commit is visible), so a reader's snapshot
//!   holds a prefix `1..=k` of the feed, never a later seq without an
//!   earlier one that would appear afterwards. A plain sequence would give
//!   no such guarantee: a later number can commit first.
//!
//! Batching (`put_batch`: one transaction, a few statements for up to
//! [`BATCH_LEN_MAX`](crate::BATCH_LEN_MAX) reports) is what makes the turn-taking cheap.

use trilat_core::{Kind, Report, ReportKey, Timestamp, Withdrawal};

use crate::audit_block::PendingBlock;
use crate::{
    audit, check_batch_len, system_clock, AuditEntry, AuditEvent, AuditVerification, ChangePage,
    Clock, Cursor, PutOutcome, RecordedWithdrawal, ReportPage, ReportQuery, ReportStore,
    StoreError,
};
use pool::{wait, Conn, Context, Pool};
use tls::parse_url;

pub use migrate::{Migration, MigrationProgress};
pub use migrate_tables::TableCounts;
pub use redact::redact_password;

mod audit_blocks;
mod ingest;
mod lease;
mod migrate;
mod migrate_tables;
mod pool;
mod query;
mod redact;
mod schema;
mod state;
mod tls;
mod versions;

/// The PostgreSQL store. Several instances (in several processes) may
/// share one database schema: they see one change feed and one audit
/// chain (see the module's "Write order").
pub struct PostgresStore {
    store_id: u64,
    clock: Clock,
    pool: Pool,
}

impl PostgresStore {
    /// Opens the store in the database at `url` (`postgres://user@host:port/db`,
    /// or any form tokio-postgres's `Config` parses), in the first schema
    /// of the connection's `search_path` (normally `public`), creating its
    /// tables there if the schema is empty. A schema holding other tables,
    /// or a store of another schema version, is refused; nothing is written.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let (config, tls) = parse_url(url)?;
        PostgresStore::with_pool(Pool::new(config, tls)?)
    }

    /// Opens the store in the schema `schema` (created if absent) of the
    /// database at `url`: several stores in one database, e.g. one per
    /// test. `schema` is 1 to 63 characters of `a-z`, `0-9` and `_`,
    /// starting with a letter.
    pub fn open_in_schema(url: &str, schema: &str) -> Result<PostgresStore, StoreError> {
        check_schema_name(schema)?;
        let (mut config, tls) = parse_url(url)?;
        let mut options = config.get_options().unwrap_or("").to_string();
        options.push_str(&format!(" -c search_path={schema}"));
        config.options(options.trim());
        let pool = Pool::new(config, tls)?;
        {
            let conn = pool.get()?;
            wait(
                conn.client
                    .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")),
            )
            .ctx("create schema")?;
        }
        PostgresStore::with_pool(pool)
    }

    /// Drops the schema `schema` of the database at `url` and everything
    /// in it: what a test made with [`PostgresStore::open_in_schema`]
    /// cleans up. Waits at most 10 s for the locks of stores still open
    /// on it; a schema that does not exist is not an error.
    pub fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        check_schema_name(schema)?;
        let (config, tls) = parse_url(url)?;
        let pool = Pool::new(config, tls)?;
        let conn = pool.get()?;
        wait(conn.client.batch_execute(&format!(
            "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {schema} CASCADE"
        )))
        .ctx("drop schema")
    }

    /// The schemas of the database at `url` whose names begin with
    /// `prefix`: what the tests look through for the schemas a killed run
    /// left (`trilat_node::cluster`).
    pub fn schema_names(url: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        let (config, tls) = parse_url(url)?;
        let pool = Pool::new(config, tls)?;
        let conn = pool.get()?;
        let rows = wait(conn.client.query(
            "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname::text, $1)",
            &[&prefix],
        ))
        .ctx("list schemas")?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    /// Whether `url` is a PostgreSQL URL this store can use (it is not
    /// connected to): what a config check asks before the node starts.
    pub fn check_url(url: &str) -> Result<(), StoreError> {
        parse_url(url).map(|_| ())
    }

    /// Whether the TLS files `url` names (`sslrootcert`, `sslcert`,
    /// `sslkey`; docs/store.md, "TLS") can be read and used (it is not
    /// connected to): what `trilat init` checks; an error names the file.
    pub fn check_tls_files(url: &str) -> Result<(), StoreError> {
        let (_, tls) = parse_url(url)?;
        tls.connector().map(|_| ())
    }

    fn with_pool(pool: Pool) -> Result<PostgresStore, StoreError> {
        let store_id = {
            let mut conn = pool.get()?;
            wait(schema::open(&mut conn))?
        };
        Ok(PostgresStore {
            store_id,
            clock: std::sync::Arc::new(system_clock),
            pool,
        })
    }

    /// The same store, reading arrival times ([`Change::stored_at`](crate::Change::stored_at)) from
    /// `clock` instead of the system clock (tests step it back).
    pub fn with_clock(mut self, clock: Clock) -> PostgresStore {
        self.clock = clock;
        self
    }
}

fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let mut chars = schema.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !starts_with_letter || !rest_ok || schema.len() > 63 {
        return Err(StoreError::Invalid(format!(
            "schema name {:?} must be 1 to 63 of a-z, 0-9 and _, starting with a letter",
            schema.chars().take(80).collect::<String>()
        )));
    }
    Ok(())
}

/// The locked head of a write transaction: the change feed's last seq, the
/// last arrival, and the audit entries appended so far.
struct Head {
    feed_seq: u64,
    /// `feed_seq` when the head was locked.
    feed_seq_locked: u64,
    stored_at: Option<Timestamp>,
    block: PendingBlock,
}

/// The current versions of some reports, with their seqs, by key.
type CurrentVersions = std::collections::HashMap<ReportKey, (u64, Report)>;

/// A statement a write transaction sends together with its commit.
struct PipelinedWrite<'a> {
    statement: tokio_postgres::Statement,
    params: Vec<&'a (dyn tokio_postgres::types::ToSql + Sync)>,
    /// What it does, for an error message.
    what: &'static str,
}

const LOCK_HEAD_SQL: &str = "SELECT feed_seq, stored_at_ms, audit_tip_seq, audit_tip_hash
     FROM store_head FOR UPDATE";

impl Head {
    /// Begins a write transaction and locks the head (both sent at once);
    /// the audit chain's recorded tip must be the log's last entry (the
    /// chain link).
    async fn lock(conn: &mut Conn) -> Result<Head, StoreError> {
        Ok(Head::lock_reading(conn, &[]).await?.0)
    }

    /// [`Head::lock`], and the current versions of `reports` read in the
    /// same round trip as the tip (both after the lock: they see every
    /// commit before this transaction's turn).
    async fn lock_reading(
        conn: &mut Conn,
        reports: &[ReportKey],
    ) -> Result<(Head, CurrentVersions), StoreError> {
        let lock = conn.statement(LOCK_HEAD_SQL).await?;
        let current = conn.statement(versions::CURRENT_VERSIONS_SQL).await?;
        conn.in_transaction = true;
        let (begun, locked) = futures::join!(
            conn.client
                .batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED"),
            conn.client.query_one(&lock, &[]),
        );
        let res = match begun.ctx("begin") {
            Ok(()) => {
                let (tip, current) = futures::join!(
                    audit_blocks::last_audit_entry(&conn.client),
                    versions::current_versions_with(&conn.client, &current, reports),
                );
                Head::read_locked(locked.ctx("lock store_head"), tip)
                    .and_then(|head| Ok((head, current?)))
            }
            Err(e) => Err(e),
        };
        if res.is_err() {
            conn.rollback().await;
        }
        res
    }

    fn read_locked(
        locked: Result<tokio_postgres::Row, StoreError>,
        last_entry: Result<(u64, String), StoreError>,
    ) -> Result<Head, StoreError> {
        let row = locked?;
        let feed_seq: i64 = row.get(0);
        let stored_at: Option<i64> = row.get(1);
        let tip_seq: i64 = row.get(2);
        let tip_hash: String = row.get(3);
        let (last_seq, last_hash) = last_entry?;
        if last_seq != tip_seq as u64 || last_hash != tip_hash {
            return Err(StoreError::Corrupt(format!(
                "audit log ends at entry {last_seq} but its recorded tip is entry {tip_seq}; refusing to extend a broken chain (run audit verify)"
            )));
        }
        let tip_hash = audit::hash_from_hex(&tip_hash).ok_or_else(|| {
            StoreError::Corrupt(format!("audit tip hash {tip_hash:?} is not 64 hex digits"))
        })?;
        Ok(Head {
            feed_seq: feed_seq as u64,
            feed_seq_locked: feed_seq as u64,
            stored_at: stored_at.map(Timestamp::from_unix_ms),
            block: PendingBlock::after(tip_seq as u64, tip_hash),
        })
    }

    /// Commits (with the audit block and the moved head) if `res` is `Ok`;
    /// rolls back otherwise. Returns `res`.
    async fn finish<T>(self, conn: &mut Conn, res: Result<T, StoreError>) -> Result<T, StoreError> {
        match res {
            Ok(value) => self.commit(conn, Vec::new()).await.map(|()| value),
            Err(e) => {
                conn.rollback().await;
                Err(e)
            }
        }
    }

    /// Sends `writes`, the audit block, the head's move and `COMMIT` at
    /// once (one round trip, in this order: a failed statement turns the
    /// `COMMIT` into a rollback) and reports the first failure.
    async fn commit(
        self,
        conn: &mut Conn,
        writes: Vec<PipelinedWrite<'_>>,
    ) -> Result<(), StoreError> {
        let block = &self.block;
        if writes.is_empty() && block.is_empty() && self.feed_seq == self.feed_seq_locked {
            // Nothing stored (a duplicate, a refusal): nothing to commit.
            return conn.end(Ok(())).await;
        }
        let insert_block = conn
            .statement(
                "INSERT INTO audit_block (first_seq, n_entries, last_hash, entries)
                 VALUES ($1, $2, $3, $4)",
            )
            .await?;
        let move_head = conn
            .statement(
                "UPDATE store_head SET feed_seq = $1, stored_at_ms = $2,
                 audit_tip_seq = $3, audit_tip_hash = $4",
            )
            .await?;
        let block_params = (
            block.first_seq() as i64,
            block.n_entries() as i64,
            block.last_hash().as_slice(),
            block.bytes(),
        );
        let head_params = (
            self.feed_seq as i64,
            self.stored_at.map(|at| at.unix_ms()),
            block.last_seq() as i64,
            hex::encode(block.last_hash()),
        );
        let block_refs: [&(dyn tokio_postgres::types::ToSql + Sync); 4] = [
            &block_params.0,
            &block_params.1,
            &block_params.2,
            &block_params.3,
        ];
        let head_refs: [&(dyn tokio_postgres::types::ToSql + Sync); 4] = [
            &head_params.0,
            &head_params.1,
            &head_params.2,
            &head_params.3,
        ];
        let client = &conn.client;
        let mut sent: Vec<(&str, StatementFuture<'_>)> = writes
            .iter()
            .map(|write| {
                let future: StatementFuture<'_> =
                    Box::pin(client.execute(&write.statement, &write.params));
                (write.what, future)
            })
            .collect();
        if !block.is_empty() {
            sent.push((
                "append audit block",
                Box::pin(client.execute(&insert_block, &block_refs)),
            ));
        }
        sent.push((
            "move store_head",
            Box::pin(client.execute(&move_head, &head_refs)),
        ));
        sent.push((
            "commit",
            Box::pin(async { client.batch_execute("COMMIT").await.map(|()| 0) }),
        ));
        let (whats, futures): (Vec<&str>, Vec<StatementFuture<'_>>) = sent.into_iter().unzip();
        let results = futures::future::join_all(futures).await;
        conn.in_transaction = false;
        for (what, result) in whats.into_iter().zip(results) {
            result.ctx(what)?;
        }
        Ok(())
    }
}

/// A statement sent in a pipeline: its affected row count.
type StatementFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<u64, tokio_postgres::Error>> + Send + 'a>,
>;

impl ReportStore for PostgresStore {
    fn put(&self, report: &Report, audit: AuditEvent) -> Result<PutOutcome, StoreError> {
        let batch = [(report.clone(), audit)];
        let mut outcomes = self.store_batch(&batch)?;
        debug_assert_eq!(outcomes.len(), 1);
        outcomes.pop().expect("one outcome per report")
    }

    fn put_batch(
        &self,
        batch: &[(Report, AuditEvent)],
    ) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
        self.store_batch(batch)
    }

    fn get(&self, report: &ReportKey) -> Result<Option<Report>, StoreError> {
        Ok(self.current_many(std::slice::from_ref(report))?.remove(0))
    }

    fn get_many(&self, reports: &[ReportKey]) -> Result<Vec<Option<Report>>, StoreError> {
        self.current_many(reports)
    }

    fn version(&self, report: &ReportKey, counter: u64) -> Result<Option<Report>, StoreError> {
        self.one_version(report, counter)
    }

    fn put_withdrawal(
        &self,
        withdrawal: &Withdrawal,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        self.record_withdrawal(withdrawal, audit)
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

    fn withdrawn_versions(&self, reports: &[ReportKey]) -> Result<Vec<Option<u64>>, StoreError> {
        self.withdrawn_counters(reports)
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
        let mut conn = self.pool.get()?;
        wait(async {
            let mut head = Head::lock(&mut conn).await?;
            let entry = head.block.append(event);
            head.finish(&mut conn, Ok(entry)).await
        })
    }

    fn append_audit_batch(&self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        check_batch_len(events.len())?;
        events.iter().try_for_each(AuditEvent::check)?;
        if events.is_empty() {
            return Ok(());
        }
        let mut conn = self.pool.get()?;
        wait(async {
            let mut head = Head::lock(&mut conn).await?;
            for event in &events {
                head.block.append_event(event, None);
            }
            head.finish(&mut conn, Ok(())).await
        })
    }

    fn audit_last_seq(&self) -> Result<u64, StoreError> {
        let conn = self.pool.get()?;
        Ok(wait(audit_blocks::last_audit_entry(&conn.client))?.0)
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

    fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        duration_ms: u64,
    ) -> Result<crate::LeaseGrant, StoreError> {
        self.lease_acquire(name, holder, duration_ms)
    }

    fn renew_lease(
        &self,
        lease: &crate::Lease,
        duration_ms: u64,
    ) -> Result<crate::Lease, StoreError> {
        self.lease_renew(lease, duration_ms)
    }

    fn release_lease(&self, lease: &crate::Lease) -> Result<(), StoreError> {
        self.lease_release(lease)
    }

    fn leases(&self) -> Result<Vec<crate::LeaseState>, StoreError> {
        self.lease_list()
    }

    fn fenced(
        self: std::sync::Arc<Self>,
        lease: &crate::Lease,
    ) -> Result<std::sync::Arc<dyn ReportStore>, StoreError> {
        self.lease_fenced(lease)
    }
}
