//! Leases: one process at a time owns a named piece of work (the link to
//! a peer, `link:JPN`) among the processes of one party's node, with a
//! **fencing token** that the store checks on every write the owner makes
//! as owner.
//!
//! * [`ReportStore::acquire_lease`](crate::ReportStore::acquire_lease)
//!   grants the lease to a holder for a duration, or says who holds it.
//!   A grant that is not an extension of the holder's own live lease (the
//!   lease was free, expired or released) starts a new tenure: the token
//!   goes up by one. So the token increases on every change of holder.
//! * [`ReportStore::renew_lease`](crate::ReportStore::renew_lease) extends
//!   a live lease; a lease that expired or moved is [`StoreError::Fenced`].
//! * [`ReportStore::fenced`](crate::ReportStore::fenced) is the store as
//!   the lease's holder writes to it: every write is refused with
//!   [`StoreError::Fenced`], in its own transaction, unless the lease is
//!   still held by that holder under that token and has not expired; while
//!   the write runs, the lease cannot change hands.
//!
//! Time is the store's: PostgreSQL's clock (`clock_timestamp()`), never the
//! processes' clocks, which may disagree. SQLite and memory serve one
//! process, whose monotonic clock is the store's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use trilat_core::{Kind, Report, ReportKey, Withdrawal};

use crate::{
    AuditEntry, AuditEvent, AuditVerification, ChangePage, Cursor, PutOutcome, RecordedWithdrawal,
    ReportPage, ReportQuery, ReportStore, StoreError,
};

/// Longest lease name or holder (ASCII letters, digits and `:._-`).
pub const LEASE_NAME_LEN_MAX: usize = 128;
/// Longest a lease may be granted or renewed for (ms).
pub const LEASE_DURATION_MS_MAX: u64 = 3_600_000;

/// A lease held: what the holder needs to renew it, release it and write
/// under its fence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// What is owned, e.g. `link:JPN`.
    pub name: String,
    /// Who holds it (one process of the node).
    pub holder: String,
    /// The fencing token: increases with every new tenure.
    pub token: u64,
    /// How long it was granted or renewed for (ms, the store's clock).
    pub duration_ms: u64,
}

/// A lease as the store has it now ([`ReportStore::leases`](crate::ReportStore::leases)):
/// who holds it, under which token, for how much longer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LeaseState {
    /// What is owned, e.g. `link:JPN`, `ais:3`.
    pub name: String,
    /// Its last holder.
    pub holder: String,
    /// The last tenure's fencing token.
    pub token: u64,
    /// How long it still runs unless renewed (ms, the store's clock); 0:
    /// expired or released, free for the next process that asks.
    pub remaining_ms: u64,
}

/// Most leases [`ReportStore::leases`](crate::ReportStore::leases) lists (a
/// node has one per peer link and engine partition: far fewer).
pub const LEASES_LISTED_MAX: usize = 1_000;

/// What [`ReportStore::acquire_lease`](crate::ReportStore::acquire_lease) came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseGrant {
    /// The lease is the caller's for `duration_ms` from now.
    Granted(Lease),
    /// Another holder has it, for `remaining_ms` more unless renewed.
    HeldBy {
        /// The holder.
        holder: String,
        /// Its tenure's token.
        token: u64,
        /// How long until it expires (ms, the store's clock).
        remaining_ms: u64,
    },
}

/// Checks a lease name or holder and a duration before a store is asked.
pub(crate) fn check_lease_request(
    name: &str,
    holder: &str,
    duration_ms: u64,
) -> Result<(), StoreError> {
    for (what, text) in [("lease name", name), ("lease holder", holder)] {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '-');
        if text.is_empty() || text.len() > LEASE_NAME_LEN_MAX || !text.chars().all(allowed) {
            return Err(StoreError::Invalid(format!(
                "{what} {:?} must be 1 to {LEASE_NAME_LEN_MAX} ASCII letters, digits or :._-",
                text.chars().take(80).collect::<String>()
            )));
        }
    }
    if duration_ms == 0 || duration_ms > LEASE_DURATION_MS_MAX {
        return Err(StoreError::Invalid(format!(
            "lease duration {duration_ms} ms must be 1 to {LEASE_DURATION_MS_MAX} ms"
        )));
    }
    Ok(())
}

/// The refusal of a write or renewal under a lease that is no longer held.
pub(crate) fn fenced(lease: &Lease, now: Option<&TenureRow>) -> StoreError {
    let what = match now {
        Some(row) if row.holder != lease.holder || row.token != lease.token => {
            format!("it moved to {} under token {}", row.holder, row.token)
        }
        Some(_) => "it expired".to_string(),
        None => "it was never granted".to_string(),
    };
    StoreError::Fenced(format!(
        "lease {} is no longer held by {} under token {}: {what}",
        lease.name, lease.holder, lease.token
    ))
}

/// One lease as a store keeps it: holder, token and expiry (ms on the
/// store's clock).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TenureRow {
    pub(crate) holder: String,
    pub(crate) token: u64,
    pub(crate) expires_ms: u64,
}

impl TenureRow {
    fn live(&self, now_ms: u64) -> bool {
        now_ms < self.expires_ms
    }

    /// Whether `lease` may write (or renew) at `now_ms`.
    pub(crate) fn holds(&self, lease: &Lease, now_ms: u64) -> bool {
        self.holder == lease.holder && self.token == lease.token && self.live(now_ms)
    }
}

/// The acquire rule (PostgreSQL's `lease.rs` states the same in SQL): the
/// row after `holder` asks at `now_ms`, or `None` while another holds it.
pub(crate) fn acquire_rule(
    row: Option<&TenureRow>,
    holder: &str,
    now_ms: u64,
    duration_ms: u64,
) -> Option<TenureRow> {
    let expires_ms = now_ms + duration_ms;
    match row {
        None => Some(TenureRow {
            holder: holder.to_string(),
            token: 1,
            expires_ms,
        }),
        Some(row) if row.live(now_ms) && row.holder != holder => None,
        // The holder's own live lease: extended, same tenure.
        Some(row) if row.live(now_ms) => Some(TenureRow {
            expires_ms: expires_ms.max(row.expires_ms),
            ..row.clone()
        }),
        // Free (expired or released): a new tenure.
        Some(row) => Some(TenureRow {
            holder: holder.to_string(),
            token: row.token + 1,
            expires_ms,
        }),
    }
}

/// The leases of a store that serves one process (memory, SQLite): a
/// table in memory, on the process's monotonic clock (ms since the table
/// was made; the unit tests move a clock of their own).
pub(crate) struct LeaseTable {
    now_ms: Box<dyn Fn() -> u64 + Send + Sync>,
    rows: Mutex<HashMap<String, TenureRow>>,
}

impl Default for LeaseTable {
    fn default() -> LeaseTable {
        let epoch = Instant::now();
        LeaseTable::with_clock(Box::new(move || epoch.elapsed().as_millis() as u64))
    }
}

impl LeaseTable {
    fn with_clock(now_ms: Box<dyn Fn() -> u64 + Send + Sync>) -> LeaseTable {
        LeaseTable {
            now_ms,
            rows: Mutex::new(HashMap::new()),
        }
    }

    fn now_ms(&self) -> u64 {
        (self.now_ms)()
    }

    fn lock(&self) -> Result<MutexGuard<'_, HashMap<String, TenureRow>>, StoreError> {
        self.rows.lock().map_err(|_| StoreError::Poisoned)
    }

    pub(crate) fn acquire(
        &self,
        name: &str,
        holder: &str,
        duration_ms: u64,
    ) -> Result<LeaseGrant, StoreError> {
        check_lease_request(name, holder, duration_ms)?;
        let now_ms = self.now_ms();
        let mut rows = self.lock()?;
        let row = rows.get(name);
        match acquire_rule(row, holder, now_ms, duration_ms) {
            Some(granted) => {
                debug_assert!(row.is_none_or(|row| granted.token >= row.token));
                let lease = Lease {
                    name: name.to_string(),
                    holder: holder.to_string(),
                    token: granted.token,
                    duration_ms,
                };
                rows.insert(name.to_string(), granted);
                Ok(LeaseGrant::Granted(lease))
            }
            None => {
                let row = row.expect("held by another");
                Ok(LeaseGrant::HeldBy {
                    holder: row.holder.clone(),
                    token: row.token,
                    remaining_ms: row.expires_ms.saturating_sub(now_ms),
                })
            }
        }
    }

    pub(crate) fn renew(&self, lease: &Lease, duration_ms: u64) -> Result<Lease, StoreError> {
        check_lease_request(&lease.name, &lease.holder, duration_ms)?;
        let now_ms = self.now_ms();
        let mut rows = self.lock()?;
        match rows.get_mut(&lease.name) {
            Some(row) if row.holds(lease, now_ms) => {
                row.expires_ms = row.expires_ms.max(now_ms + duration_ms);
                Ok(Lease {
                    duration_ms,
                    ..lease.clone()
                })
            }
            row => Err(fenced(lease, row.as_deref())),
        }
    }

    pub(crate) fn list(&self) -> Result<Vec<LeaseState>, StoreError> {
        let now_ms = self.now_ms();
        let rows = self.lock()?;
        let mut leases: Vec<LeaseState> = rows
            .iter()
            .map(|(name, row)| LeaseState {
                name: name.clone(),
                holder: row.holder.clone(),
                token: row.token,
                remaining_ms: row.expires_ms.saturating_sub(now_ms),
            })
            .collect();
        leases.sort_by(|a, b| a.name.cmp(&b.name));
        leases.truncate(LEASES_LISTED_MAX);
        Ok(leases)
    }

    pub(crate) fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        let now_ms = self.now_ms();
        let mut rows = self.lock()?;
        if let Some(row) = rows.get_mut(&lease.name) {
            if row.holds(lease, now_ms) {
                row.expires_ms = now_ms;
            }
        }
        Ok(())
    }

    /// Runs `write` while `lease` is held, under the table's lock, so the
    /// lease cannot change hands before the write has committed.
    fn while_held<T>(
        &self,
        lease: &Lease,
        write: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let now_ms = self.now_ms();
        let rows = self.lock()?;
        match rows.get(&lease.name) {
            Some(row) if row.holds(lease, now_ms) => write(),
            row => Err(fenced(lease, row)),
        }
    }
}

/// A store of one process with its lease table: what [`LocalFenced`] needs.
pub(crate) trait LocalLeases: ReportStore {
    fn lease_table(&self) -> &LeaseTable;
}

/// The four lease methods of a store with its own [`LeaseTable`] (memory,
/// SQLite), written once; used inside the store's `impl ReportStore`.
macro_rules! local_lease_methods {
    () => {
        fn acquire_lease(
            &self,
            name: &str,
            holder: &str,
            duration_ms: u64,
        ) -> Result<crate::LeaseGrant, crate::StoreError> {
            crate::lease::LocalLeases::lease_table(self).acquire(name, holder, duration_ms)
        }

        fn renew_lease(
            &self,
            lease: &crate::Lease,
            duration_ms: u64,
        ) -> Result<crate::Lease, crate::StoreError> {
            crate::lease::LocalLeases::lease_table(self).renew(lease, duration_ms)
        }

        fn release_lease(&self, lease: &crate::Lease) -> Result<(), crate::StoreError> {
            crate::lease::LocalLeases::lease_table(self).release(lease)
        }

        fn leases(&self) -> Result<Vec<crate::LeaseState>, crate::StoreError> {
            crate::lease::LocalLeases::lease_table(self).list()
        }

        fn fenced(
            self: std::sync::Arc<Self>,
            lease: &crate::Lease,
        ) -> Result<std::sync::Arc<dyn crate::ReportStore>, crate::StoreError> {
            Ok(std::sync::Arc::new(crate::lease::LocalFenced {
                store: self,
                lease: lease.clone(),
            }))
        }
    };
}
pub(crate) use local_lease_methods;

/// The store as a lease's holder writes to it (memory, SQLite): reads pass
/// through; each write runs only while the lease is held, under the lease
/// table's lock (PostgreSQL checks in the write's transaction instead).
pub(crate) struct LocalFenced<S> {
    pub(crate) store: Arc<S>,
    pub(crate) lease: Lease,
}

impl<S: LocalLeases> LocalFenced<S> {
    fn write<T>(&self, write: impl FnOnce(&S) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.store
            .lease_table()
            .while_held(&self.lease, || write(&self.store))
    }
}

impl<S: LocalLeases> ReportStore for LocalFenced<S> {
    fn put(&self, report: &Report, audit: AuditEvent) -> Result<PutOutcome, StoreError> {
        self.write(|store| store.put(report, audit))
    }

    fn put_batch(
        &self,
        batch: &[(Report, AuditEvent)],
    ) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
        self.write(|store| store.put_batch(batch))
    }

    fn get(&self, report: &ReportKey) -> Result<Option<Report>, StoreError> {
        self.store.get(report)
    }

    fn get_many(&self, reports: &[ReportKey]) -> Result<Vec<Option<Report>>, StoreError> {
        self.store.get_many(reports)
    }

    fn version(&self, report: &ReportKey, counter: u64) -> Result<Option<Report>, StoreError> {
        self.store.version(report, counter)
    }

    fn put_withdrawal(
        &self,
        withdrawal: &Withdrawal,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        self.write(|store| store.put_withdrawal(withdrawal, audit))
    }

    fn withdrawal(&self, report: &ReportKey) -> Result<Option<Withdrawal>, StoreError> {
        self.store.withdrawal(report)
    }

    fn withdrawn_versions(&self, reports: &[ReportKey]) -> Result<Vec<Option<u64>>, StoreError> {
        self.store.withdrawn_versions(reports)
    }

    fn withdrawals(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordedWithdrawal>, StoreError> {
        self.store.withdrawals(after_seq, limit)
    }

    fn history(&self, report: &ReportKey) -> Result<Vec<Report>, StoreError> {
        self.store.history(report)
    }

    fn query(&self, query: &ReportQuery) -> Result<ReportPage, StoreError> {
        self.store.query(query)
    }

    fn changes(&self, after: Option<&Cursor>, limit: usize) -> Result<ChangePage, StoreError> {
        self.store.changes(after, limit)
    }

    fn changes_of_kind(
        &self,
        kind: &Kind,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<ChangePage, StoreError> {
        self.store.changes_of_kind(kind, after, limit)
    }

    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        self.write(|store| store.append_audit(event))
    }

    fn append_audit_batch(&self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        self.write(|store| store.append_audit_batch(events))
    }

    fn audit(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.store.audit(after_seq, limit)
    }

    fn audit_last_seq(&self) -> Result<u64, StoreError> {
        self.store.audit_last_seq()
    }

    fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        self.store.verify_audit()
    }

    fn sync_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.store.sync_state(key)
    }

    fn set_sync_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.write(|store| store.set_sync_state(key, value))
    }

    fn note_peer_request(
        &self,
        signature: &[u8; 64],
        seen_ms: i64,
        forget_before_ms: i64,
    ) -> Result<bool, StoreError> {
        self.write(|store| store.note_peer_request(signature, seen_ms, forget_before_ms))
    }

    fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        duration_ms: u64,
    ) -> Result<LeaseGrant, StoreError> {
        self.store.acquire_lease(name, holder, duration_ms)
    }

    fn renew_lease(&self, lease: &Lease, duration_ms: u64) -> Result<Lease, StoreError> {
        self.store.renew_lease(lease, duration_ms)
    }

    fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        self.store.release_lease(lease)
    }

    fn leases(&self) -> Result<Vec<LeaseState>, StoreError> {
        self.store.leases()
    }

    fn fenced(self: Arc<Self>, lease: &Lease) -> Result<Arc<dyn ReportStore>, StoreError> {
        self.store.clone().fenced(lease)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    const HOLDERS: [&str; 3] = ["a", "b", "c"];

    #[derive(Clone, Debug)]
    enum Step {
        Acquire(usize, u64),
        Renew(usize, u64),
        Release(usize),
        Wait(u64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..3usize, 1..50u64).prop_map(|(h, d)| Step::Acquire(h, d)),
            (0..3usize, 1..50u64).prop_map(|(h, d)| Step::Renew(h, d)),
            (0..3usize).prop_map(Step::Release),
            (0..40u64).prop_map(Step::Wait),
        ]
    }

    /// A table on a clock the test moves.
    fn table() -> (LeaseTable, Arc<AtomicU64>) {
        let clock = Arc::new(AtomicU64::new(0));
        let reading = clock.clone();
        let table = LeaseTable::with_clock(Box::new(move || reading.load(Ordering::SeqCst)));
        (table, clock)
    }

    proptest! {
        /// Three holders acquiring, renewing, releasing and waiting at
        /// random: at every moment at most one of the leases they were
        /// granted passes the fence, a renewal passes only for that one,
        /// and each new grant's token is at least the last (higher for a
        /// new holder).
        #[test]
        fn at_most_one_holder_may_write(steps in prop::collection::vec(step(), 1..80)) {
            let (table, clock) = table();
            let mut held: [Option<Lease>; 3] = [None, None, None];
            let mut last: Option<Lease> = None;
            for step in &steps {
                match *step {
                    Step::Acquire(h, duration_ms) => {
                        if let LeaseGrant::Granted(lease) =
                            table.acquire("link:JPN", HOLDERS[h], duration_ms).unwrap()
                        {
                            if let Some(before) = &last {
                                prop_assert!(lease.token >= before.token);
                                if lease.holder != before.holder {
                                    prop_assert!(lease.token > before.token);
                                }
                            }
                            last = Some(lease.clone());
                            held[h] = Some(lease);
                        }
                    }
                    Step::Renew(h, duration_ms) => {
                        if let Some(lease) = &held[h] {
                            let may_write = table.while_held(lease, || Ok(())).is_ok();
                            let renewed = table.renew(lease, duration_ms).is_ok();
                            prop_assert_eq!(may_write, renewed);
                        }
                    }
                    Step::Release(h) => {
                        if let Some(lease) = held[h].take() {
                            table.release(&lease).unwrap();
                            prop_assert!(table.while_held(&lease, || Ok(())).is_err());
                        }
                    }
                    Step::Wait(ms) => {
                        clock.fetch_add(ms, Ordering::SeqCst);
                    }
                }
                let writers = held
                    .iter()
                    .flatten()
                    .filter(|lease| table.while_held(lease, || Ok(())).is_ok())
                    .count();
                prop_assert!(writers <= 1, "{} holders may write: {:?}", writers, held);
            }
        }
    }

    #[test]
    fn a_table_grants_renews_fences_and_hands_over() {
        let (table, clock) = table();
        let LeaseGrant::Granted(a) = table.acquire("link:JPN", "a", 1000).unwrap() else {
            panic!("a free lease is granted")
        };
        assert_eq!(a.token, 1);
        assert!(matches!(
            table.acquire("link:JPN", "b", 1000).unwrap(),
            LeaseGrant::HeldBy { ref holder, token: 1, remaining_ms: 1000 } if holder == "a"
        ));
        clock.store(600, Ordering::SeqCst);
        assert_eq!(table.renew(&a, 1000).unwrap().token, 1);
        clock.store(1500, Ordering::SeqCst);
        assert_eq!(
            table.while_held(&a, || Ok(7)).unwrap(),
            7,
            "renewed to 1600"
        );
        clock.store(1600, Ordering::SeqCst);
        let expired = table.while_held(&a, || Ok(())).unwrap_err();
        assert!(
            matches!(&expired, StoreError::Fenced(m) if m.contains("it expired")),
            "{expired}"
        );
        let LeaseGrant::Granted(b) = table.acquire("link:JPN", "b", 1000).unwrap() else {
            panic!("an expired lease is granted")
        };
        assert_eq!(b.token, 2, "a new holder, a higher token");
        let refused = table.while_held(&a, || Ok(())).unwrap_err();
        assert!(
            matches!(&refused, StoreError::Fenced(m) if m.contains("moved to b under token 2")),
            "{refused}"
        );
        assert!(matches!(table.renew(&a, 1000), Err(StoreError::Fenced(_))));
        table.release(&b).unwrap();
        let LeaseGrant::Granted(b_again) = table.acquire("link:JPN", "b", 1000).unwrap() else {
            panic!("a released lease is granted")
        };
        assert_eq!(b_again.token, 3, "a new tenure of the same holder");
        assert!(matches!(
            table.acquire("link JPN", "b", 1000),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            table.acquire("link:JPN", "b", 0),
            Err(StoreError::Invalid(_))
        ));
    }
}
