//! Trilat's report store: the only crate that touches SQLite or PostgreSQL.
//!
//! A node keeps every version of every report it may see, the current
//! version of each, a change feed for federation, and an append-only,
//! hash-chained audit log. All of it sits behind one trait, [`ReportStore`],
//! so callers never see the database:
//!
//! * [`ReportStore::put`] / [`ReportStore::put_batch`] store a signed
//!   [`Report`] version together with its [`AuditEvent`] in **one
//!   transaction**. The version rules are core's ([`Report::supersedes`]):
//!   a duplicate is [`PutOutcome::Duplicate`] and writes nothing; an older
//!   version goes to history only; a forgery, an equivocation or a version
//!   after a revocation is [`StoreError::Refused`] and writes nothing.
//! * [`ReportStore::get`], [`ReportStore::history`] and
//!   [`ReportStore::query`] (by kind, owner, observed time, bounding box,
//!   exercise flag) read; every read is bounded by [`QUERY_LIMIT_MAX`].
//! * [`ReportStore::changes`] is the change feed: every stored version in
//!   store order, resumed from an opaque [`Cursor`] that names its store, so
//!   a cursor from another store is refused. Each [`Change`] carries its
//!   arrival time [`Change::stored_at`] (non-decreasing in feed order), and
//!   [`ReportStore::changes_of_kind`] is the same feed for one kind (what a
//!   TAXII collection pages over).
//! * The audit log ([`ReportStore::append_audit`], [`ReportStore::audit`],
//!   [`ReportStore::verify_audit`]): each [`AuditEntry`] commits to the
//!   previous one: its `hash` is SHA-256 over the previous hash, its `seq`
//!   and its event (a binary encoding). The SQLite store writes the entries of one
//!   transaction as one row, so a batch's audit costs one insert; every
//!   entry is still listed and verified on its own.
//! * [`ReportStore::get_many`] reads the current versions of a page of
//!   reports at once (what a receiver judging incoming reports needs).
//! * Withdrawals ([`ReportStore::put_withdrawal`]): the highest one per
//!   report decides what is withdrawn now, and the withdrawal log
//!   ([`ReportStore::withdrawals`]) keeps every one recorded with its
//!   arrival time, so a replay knows when each copy stopped being current.
//! * Leases ([`ReportStore::acquire_lease`], [`ReportStore::renew_lease`],
//!   [`ReportStore::release_lease`]): one process of a node at a time owns
//!   a named piece of work (the link to a peer), with a fencing token that
//!   goes up with every new tenure; [`ReportStore::fenced`] is the store as
//!   the holder writes to it, each write refused ([`StoreError::Fenced`])
//!   in its own transaction once the lease has expired or moved. Lease time
//!   is the store's clock (PostgreSQL's, not the processes').
//!
//! A report is named by its [`ReportKey`], owner and id, everywhere: two
//! parties' reports under one id are two reports, stored side by side, so
//! nobody can occupy another party's report by using its id first.
//!
//! Three implementations behave identically (one test suite runs against
//! all three): [`SqliteStore`] (WAL mode; an acknowledged write survives
//! `kill -9`, and with the default [`Durability::PowerLoss`] a power cut
//! too), [`PostgresStore`] (several processes of one party's node on one
//! database, with one audit chain and a gap-free change feed) and
//! [`MemoryStore`] for tests.
//!
//! ```
//! use trilat_core::*;
//! use trilat_store::*;
//! let store = MemoryStore::new();
//! let key = NodeKey::generate();
//! let now = Timestamp::from_unix_ms(1_764_000_000_000);
//! let draft = ReportDraft::new(Party::new("JPN").unwrap(), Kind::new("note").unwrap(),
//!     Marking::new("UNCLASSIFIED", Tlp::Clear, ["TRILAT"]), serde_json::json!({"text": "hi"}), now);
//! let report = draft.sign(&key).unwrap();
//! let event = AuditEvent::new(now, "JPN:analyst-1", AuditAction::Create).report(report.key());
//! assert!(matches!(store.put(&report, event).unwrap(), PutOutcome::Stored { current: true, .. }));
//! assert_eq!(store.get(&report.key()).unwrap(), Some(report));
//! assert_eq!(store.verify_audit().unwrap().first_broken, None);
//! ```
#![deny(missing_docs)]

mod audit;
mod audit_block;
mod body;
mod cursor;
mod error;
mod grid;
mod head;
mod lease;
mod memory;
mod postgres;
mod rules;
mod sqlite;

pub use audit::{
    AuditAction, AuditEntry, AuditEvent, AuditVerification, AUDIT_ACTOR_LEN_MAX,
    AUDIT_DETAIL_LEN_MAX, AUDIT_HASH_GENESIS,
};
pub use cursor::Cursor;
pub use error::StoreError;
pub use lease::{
    Lease, LeaseGrant, LeaseState, LEASES_LISTED_MAX, LEASE_DURATION_MS_MAX, LEASE_NAME_LEN_MAX,
};
pub use memory::MemoryStore;
pub use postgres::{redact_password, Migration, MigrationProgress, PostgresStore, TableCounts};
pub use sqlite::{Durability, SqliteStore, SCHEMA_VERSION};

use trilat_core::{Kind, Party, Report, ReportKey, Timestamp, Withdrawal};

/// Where a store reads arrival times ([`Change::stored_at`]) from. The
/// default is [`system_clock`]; tests inject a clock that steps back.
pub type Clock = std::sync::Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system's wall clock in milliseconds (the default [`Clock`]).
pub fn system_clock() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_unix_ms(ms)
}

/// The arrival time of the next write: the clock's reading, clamped to the
/// previous arrival so arrival times never decrease in store order (a
/// TAXII client paging by "added after" would otherwise skip versions
/// stored after an NTP step back).
pub(crate) fn next_stored_at(clock_now: Timestamp, previous: Option<Timestamp>) -> Timestamp {
    let stored_at = previous.map_or(clock_now, |prev| prev.max(clock_now));
    debug_assert!(previous.is_none_or(|prev| prev <= stored_at));
    stored_at
}

/// Most items one call returns: reports of a query, changes, audit entries.
pub const QUERY_LIMIT_MAX: usize = 1000;
/// Page size of [`ReportQuery::default`].
pub const QUERY_LIMIT_DEFAULT: usize = 100;
/// Most reports in one [`ReportStore::put_batch`] (one transaction).
pub const BATCH_LEN_MAX: usize = 10_000;
/// Longest key or value of [`ReportStore::set_sync_state`].
pub const SYNC_STATE_LEN_MAX: usize = 4096;

/// Where reports, their history, the change feed and the audit log live.
///
/// Implementations are internally synchronised: share one as
/// `Arc<dyn ReportStore>`.
pub trait ReportStore: Send + Sync + 'static {
    /// Stores one report version and its audit entry in ONE transaction.
    /// Idempotent: the same version again is [`PutOutcome::Duplicate`] and
    /// writes nothing (no audit entry either). Uses [`Report::supersedes`]
    /// for the version rules: a forgery, an equivocation or a version after
    /// a revocation is `Err(StoreError::Refused(..))` and writes nothing.
    /// An older version than the current one goes to history only
    /// (`current: false`). The store does not verify signatures: the caller
    /// (the node) does, before calling.
    fn put(&self, report: &Report, audit: AuditEvent) -> Result<PutOutcome, StoreError>;
    /// Many reports in one transaction (the ingest path); one outcome per
    /// report, in order; a refused report does not abort the others. At most
    /// [`BATCH_LEN_MAX`] reports.
    #[allow(clippy::type_complexity)]
    fn put_batch(
        &self,
        batch: &[(Report, AuditEvent)],
    ) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError>;
    /// The current version of a report.
    fn get(&self, report: &ReportKey) -> Result<Option<Report>, StoreError>;
    /// The current versions of many reports, in the order of `reports`
    /// (`None` for one not held); at most [`BATCH_LEN_MAX`]. What a
    /// receiver judging a page of incoming reports needs: the SQLite store
    /// reads them in one read transaction and skips the lookup of ids no
    /// owner's report has (one range scan of the id index, as `put_batch`
    /// does). The default asks [`ReportStore::get`] for each.
    fn get_many(&self, reports: &[ReportKey]) -> Result<Vec<Option<Report>>, StoreError> {
        check_batch_len(reports.len())?;
        reports.iter().map(|report| self.get(report)).collect()
    }
    /// One stored version of a report by its counter (what an owner
    /// compares a new version with to know whom it withdraws from). The
    /// default looks through [`ReportStore::history`]; both stores here
    /// read the one version.
    fn version(&self, report: &ReportKey, counter: u64) -> Result<Option<Report>, StoreError> {
        Ok(self
            .history(report)?
            .into_iter()
            .find(|report| report.version == counter))
    }
    /// Records a [`Withdrawal`] received from a report's owner, with its
    /// audit entry, in ONE transaction. Only the highest withdrawn version
    /// of each report is kept (the audit log keeps every one):
    /// `Ok(false)` if one as high is already recorded, and nothing is
    /// written. Recorded whether or not the report is held: a copy that
    /// arrives later is withdrawn at once. The caller verifies the owner's
    /// signature first.
    fn put_withdrawal(
        &self,
        withdrawal: &Withdrawal,
        audit: AuditEvent,
    ) -> Result<bool, StoreError>;
    /// The highest withdrawal recorded of a report. The held copy is
    /// withdrawn while that withdrawal's version is above the copy's
    /// ([`Withdrawal::withdraws`]).
    fn withdrawal(&self, report: &ReportKey) -> Result<Option<Withdrawal>, StoreError>;
    /// The highest withdrawn version of each of `reports`, in order
    /// (`None`: no withdrawal recorded); at most [`BATCH_LEN_MAX`]. What a
    /// receiver checks before announcing a page's new versions. The
    /// default asks [`ReportStore::withdrawal`] for each; SQLite reads them
    /// in one read transaction.
    fn withdrawn_versions(&self, reports: &[ReportKey]) -> Result<Vec<Option<u64>>, StoreError> {
        check_batch_len(reports.len())?;
        reports
            .iter()
            .map(|report| Ok(self.withdrawal(report)?.map(|w| w.version)))
            .collect()
    }
    /// The withdrawal log: every withdrawal recorded (each
    /// [`ReportStore::put_withdrawal`] that returned `Ok(true)`) with
    /// `seq > after_seq`, oldest first, at most `limit` (at most
    /// [`QUERY_LIMIT_MAX`]). Written in the same transaction as the
    /// withdrawal, with the store clock's reading as its arrival: what a
    /// replay of a past moment needs to tell whether a copy was withdrawn
    /// then.
    fn withdrawals(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordedWithdrawal>, StoreError>;
    /// All stored versions of a report, oldest (lowest counter) first.
    /// A report with more than [`QUERY_LIMIT_MAX`] versions is
    /// [`StoreError::LimitExceeded`] (follow it in [`ReportStore::changes`]).
    fn history(&self, report: &ReportKey) -> Result<Vec<Report>, StoreError>;
    /// Current versions matching the filter, in store order (the order in
    /// which each current version was stored), paged by an opaque cursor.
    fn query(&self, query: &ReportQuery) -> Result<ReportPage, StoreError>;
    /// The change feed: every stored version (incl. older versions and
    /// revocations) after `after`, in store order.
    fn changes(&self, after: Option<&Cursor>, limit: usize) -> Result<ChangePage, StoreError>;
    /// The change feed of one kind: every stored version of `kind` after
    /// `after`, in store order (which is arrival order: see
    /// [`Change::stored_at`]). Cursors have the same form as those of
    /// [`ReportStore::changes`] (a store sequence), so a TAXII collection
    /// pages over its kind without reading the others.
    fn changes_of_kind(
        &self,
        kind: &Kind,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<ChangePage, StoreError>;
    /// The change feed's head in one read: the cursor after the newest
    /// stored version, where a reader of what is stored from now on starts
    /// (`changes(Some(&head), _)` is empty until the next write). Every
    /// version at or before it is committed, even with several writers. The
    /// default searches for it with [`ReportStore::changes`] (about
    /// 2·log2(n) reads); the stores here read it at once.
    fn changes_head(&self) -> Result<Cursor, StoreError> {
        head::search_changes_head(self)
    }
    /// The `seq` of the newest entry of the withdrawal log (0 while it is
    /// empty): where a reader of the withdrawals recorded from now on
    /// starts. The default searches for it with
    /// [`ReportStore::withdrawals`]; the stores here read it at once.
    fn withdrawals_last_seq(&self) -> Result<u64, StoreError> {
        head::search_withdrawals_last_seq(self)
    }
    /// Appends an audit entry (hash-chained) on its own, e.g. for reads and
    /// refusals.
    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError>;
    /// Appends several audit entries, in order, in ONE transaction: all are
    /// written or none (a read released in parts is recorded whole or not
    /// at all). At most [`BATCH_LEN_MAX`] events, each checked as by
    /// [`ReportStore::append_audit`]. The default appends them one by one
    /// (not atomic); both stores override it.
    fn append_audit_batch(&self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        check_batch_len(events.len())?;
        for event in events {
            self.append_audit(event)?;
        }
        Ok(())
    }
    /// Audit entries with `seq > after_seq`, oldest first, at most `limit`.
    fn audit(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
    /// The `seq` of the last audit entry (0 while the log is empty): where
    /// a reader of the newest entries starts counting back. The default
    /// walks the whole chain; both stores here answer from the tip.
    fn audit_last_seq(&self) -> Result<u64, StoreError> {
        Ok(self.verify_audit()?.entries)
    }
    /// Recomputes the whole chain; reports the first broken entry.
    fn verify_audit(&self) -> Result<AuditVerification, StoreError>;
    /// Small key/value state for federation (per-peer cursors etc.).
    fn sync_state(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Sets a key of [`ReportStore::sync_state`] (at most
    /// [`SYNC_STATE_LEN_MAX`] bytes each for key and value).
    fn set_sync_state(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Records the signature of a peer request received at `seen_ms` and
    /// forgets those received before `forget_before_ms` (the node keeps
    /// them for its request-age window: an older request is refused as
    /// stale anyway). `Ok(false)` if `signature` was already recorded and
    /// not yet forgotten: the request is a replay. Durable when it returns,
    /// so a replay after a restart is still recognised. Bounded by the
    /// window; past [`PEER_REQUESTS_MAX`] remembered signatures the oldest
    /// are forgotten early (a replayed push still changes nothing: receive
    /// is idempotent).
    fn note_peer_request(
        &self,
        signature: &[u8; 64],
        seen_ms: i64,
        forget_before_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Grants the lease `name` to `holder` for `duration_ms` of the store's
    /// clock if it is free, expired, released or already `holder`'s (then
    /// extended); otherwise says who holds it. A grant that does not extend
    /// the holder's live lease starts a new tenure with a higher token.
    /// Names and holders: 1 to [`LEASE_NAME_LEN_MAX`] ASCII letters,
    /// digits or `:._-`; durations 1 to [`LEASE_DURATION_MS_MAX`] ms.
    fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        duration_ms: u64,
    ) -> Result<LeaseGrant, StoreError>;
    /// Extends `lease` to `duration_ms` from now (never shortens it);
    /// [`StoreError::Fenced`] if it expired or moved: the caller is no
    /// longer the owner.
    fn renew_lease(&self, lease: &Lease, duration_ms: u64) -> Result<Lease, StoreError>;
    /// Gives `lease` up now (nothing if it is no longer held): the next
    /// holder need not wait for it to expire.
    fn release_lease(&self, lease: &Lease) -> Result<(), StoreError>;
    /// Every lease the store has (live or not), by name, at most
    /// [`LEASES_LISTED_MAX`]: which process drives which piece of work.
    fn leases(&self) -> Result<Vec<LeaseState>, StoreError>;
    /// This store as `lease`'s holder writes to it: reads as usual; every
    /// write (reports, withdrawals, audit entries, sync state, peer
    /// requests) is refused with [`StoreError::Fenced`], writing nothing,
    /// unless in its own transaction the lease is still held by its holder
    /// under its token and unexpired; the lease cannot change hands while
    /// such a write runs.
    fn fenced(
        self: std::sync::Arc<Self>,
        lease: &Lease,
    ) -> Result<std::sync::Arc<dyn ReportStore>, StoreError>;
}

/// Most peer request signatures [`ReportStore::note_peer_request`] keeps.
pub const PEER_REQUESTS_MAX: usize = 1_000_000;

/// What [`ReportStore::put`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PutOutcome {
    /// The version was stored under store sequence `seq`; `current` is false
    /// when a newer version was already held (it went to history only).
    Stored {
        /// Its place in the change feed.
        seq: u64,
        /// Whether it is now the current version.
        current: bool,
    },
    /// The store already held exactly this version; nothing was written.
    Duplicate,
}

/// A filter over current versions. Unset fields do not filter.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportQuery {
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only reports owned by this party.
    pub owner: Option<Party>,
    /// Only reports observed at or after this instant.
    pub observed_from: Option<Timestamp>,
    /// Only reports observed strictly before this instant.
    pub observed_to: Option<Timestamp>,
    /// Only reports whose geometry's bounding box intersects
    /// `[west, south, east, north]` (degrees, `west <= east`).
    pub bbox: Option<[f64; 4]>,
    /// Only exercise (`Some(true)`) or only real-world (`Some(false)`) reports.
    pub exercise: Option<bool>,
    /// Also return revoked reports (their revocation is the current version).
    pub include_revoked: bool,
    /// Also return withdrawn reports (the owner withdrew the held version:
    /// see [`ReportStore::put_withdrawal`]). The store filters on this;
    /// [`ReportQuery::matches`] sees the report alone and does not.
    pub include_withdrawn: bool,
    /// Resume after this cursor (from [`ReportPage::next`]).
    pub after: Option<Cursor>,
    /// Page size, 1..=[`QUERY_LIMIT_MAX`].
    pub limit: usize,
}

impl Default for ReportQuery {
    fn default() -> ReportQuery {
        ReportQuery {
            kind: None,
            owner: None,
            observed_from: None,
            observed_to: None,
            bbox: None,
            exercise: None,
            include_revoked: false,
            include_withdrawn: false,
            after: None,
            limit: QUERY_LIMIT_DEFAULT,
        }
    }
}

impl ReportQuery {
    /// Whether `report` (a current version) passes every filter but the
    /// cursor. The SQLite store filters in SQL and checks with this too.
    pub fn matches(&self, report: &Report) -> bool {
        if self.kind.as_ref().is_some_and(|kind| *kind != report.kind) {
            return false;
        }
        if self.owner.as_ref().is_some_and(|o| *o != report.owner) {
            return false;
        }
        if self.observed_from.is_some_and(|t| report.observed_at < t) {
            return false;
        }
        if self.observed_to.is_some_and(|t| report.observed_at >= t) {
            return false;
        }
        if self.exercise.is_some_and(|e| e != report.exercise) {
            return false;
        }
        if !self.include_revoked && report.revoked {
            return false;
        }
        if let Some(query_bbox) = self.bbox {
            match report.bbox() {
                Some(bbox) if bbox_intersects(&bbox, &query_bbox) => {}
                _ => return false,
            }
        }
        true
    }

    /// Checks the limit and the bounding box.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        check_limit(self.limit)?;
        if self.limit == 0 {
            return Err(StoreError::Invalid("query limit must be at least 1".into()));
        }
        if let Some([west, south, east, north]) = self.bbox {
            let finite = [west, south, east, north].iter().all(|v| v.is_finite());
            if !finite || west > east || south > north {
                return Err(StoreError::Invalid(format!(
                    "bbox [{west}, {south}, {east}, {north}] must be finite [west, south, east, north] with west <= east and south <= north"
                )));
            }
        }
        Ok(())
    }
}

/// Whether two `[west, south, east, north]` boxes intersect (edges count).
pub(crate) fn bbox_intersects(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] <= b[2] && a[2] >= b[0] && a[1] <= b[3] && a[3] >= b[1]
}

/// A history longer than one page: `limit` says "more than the maximum".
pub(crate) fn history_too_long() -> StoreError {
    StoreError::LimitExceeded {
        limit: QUERY_LIMIT_MAX + 1,
        max: QUERY_LIMIT_MAX,
    }
}

/// Refuses more than [`BATCH_LEN_MAX`] items in one call.
pub(crate) fn check_batch_len(len: usize) -> Result<(), StoreError> {
    if len > BATCH_LEN_MAX {
        return Err(StoreError::LimitExceeded {
            limit: len,
            max: BATCH_LEN_MAX,
        });
    }
    Ok(())
}

pub(crate) fn check_limit(limit: usize) -> Result<(), StoreError> {
    if limit > QUERY_LIMIT_MAX {
        return Err(StoreError::LimitExceeded {
            limit,
            max: QUERY_LIMIT_MAX,
        });
    }
    Ok(())
}

/// One page of [`ReportStore::query`].
#[derive(Clone, Debug, PartialEq)]
pub struct ReportPage {
    /// Current versions, in store order.
    pub reports: Vec<Report>,
    /// Where the next page starts; `None` when this was the last page.
    pub next: Option<Cursor>,
}

/// One entry of the change feed.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Change {
    /// Store sequence: strictly increasing in feed order.
    pub seq: u64,
    /// When this version arrived at this store (its transaction's clock
    /// reading). Non-decreasing in `seq` order within one store: the clock
    /// is clamped to the previous arrival when it steps back. This is
    /// TAXII's "date added", not the report's `modified`.
    pub stored_at: Timestamp,
    /// The stored version.
    pub report: Report,
}

/// One entry of the withdrawal log ([`ReportStore::withdrawals`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RecordedWithdrawal {
    /// Place in the log: strictly increasing, from 1.
    pub seq: u64,
    /// The report withdrawn (its owner and id).
    pub report: ReportKey,
    /// The version that narrowed it: every version below it is withdrawn.
    pub version: u64,
    /// When this store recorded it (the store clock, clamped like
    /// [`Change::stored_at`], so non-decreasing in `seq` order). `None`
    /// for a withdrawal recorded before the store kept the log (an SQLite
    /// store of schema 1, migrated): its time is not known.
    pub stored_at: Option<Timestamp>,
}

/// One page of [`ReportStore::changes`].
#[derive(Clone, Debug, PartialEq)]
pub struct ChangePage {
    /// Stored versions, in store order.
    pub changes: Vec<Change>,
    /// The resume point, even when `changes` is empty.
    pub next: Cursor,
    /// Whether more changes follow `next` right now.
    pub more: bool,
}
