//! [`MemoryStore`]: the same behaviour as [`crate::SqliteStore`], in memory,
//! for tests of the crates above.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use trilat_core::{Kind, Report, ReportKey, Signature, Timestamp, Withdrawal};

use crate::audit::ChainCheck;
use crate::lease::{LeaseTable, LocalLeases};
use crate::rules::{place, Placement};
use crate::{
    check_batch_len, check_limit, history_too_long, next_stored_at, system_clock, AuditEntry,
    AuditEvent, AuditVerification, Change, ChangePage, Clock, Cursor, PutOutcome,
    RecordedWithdrawal, ReportPage, ReportQuery, ReportStore, StoreError, AUDIT_HASH_GENESIS,
    BATCH_LEN_MAX, PEER_REQUESTS_MAX, QUERY_LIMIT_MAX, SYNC_STATE_LEN_MAX,
};

/// A store that lives in memory and is lost with the process.
pub struct MemoryStore {
    store_id: u64,
    clock: Clock,
    state: Mutex<State>,
    leases: LeaseTable,
}

#[derive(Default)]
struct State {
    /// Every stored version by store sequence (seq = index + 1).
    versions: Vec<Report>,
    /// Arrival time of each version, parallel to `versions`.
    stored_at: Vec<Timestamp>,
    /// Per kind: the seqs of its versions, ascending.
    by_kind: HashMap<Kind, Vec<u64>>,
    /// Per report (owner and id): version counter -> seq, and the seq of
    /// the current version.
    by_id: HashMap<ReportKey, Versions>,
    /// Current versions by their seq: the query order.
    current: BTreeMap<u64, ReportKey>,
    audit: Vec<AuditEntry>,
    sync: HashMap<String, String>,
    /// Peer request signatures by when they were seen, and the set of them.
    seen_order: VecDeque<(i64, [u8; 64])>,
    seen: HashSet<[u8; 64]>,
    /// The highest withdrawal recorded per report.
    withdrawals: HashMap<ReportKey, Withdrawal>,
    /// Every withdrawal recorded, in order (seq = index + 1).
    withdrawal_log: Vec<RecordedWithdrawal>,
}

struct Versions {
    by_counter: BTreeMap<u64, u64>,
    current_seq: u64,
}

impl Default for MemoryStore {
    fn default() -> MemoryStore {
        MemoryStore::new()
    }
}

impl MemoryStore {
    /// An empty store with a fresh random store id.
    pub fn new() -> MemoryStore {
        MemoryStore::with_clock(std::sync::Arc::new(system_clock))
    }

    /// An empty store that reads arrival times from `clock`.
    pub fn with_clock(clock: Clock) -> MemoryStore {
        MemoryStore {
            store_id: rand::random(),
            clock,
            state: Mutex::new(State::default()),
            leases: LeaseTable::default(),
        }
    }

    /// The seq a cursor points after (0 for none), checked to be ours.
    fn after_seq(&self, after: Option<&Cursor>) -> Result<u64, StoreError> {
        after.map_or(Ok(0), |cursor| cursor.seq_in(self.store_id))
    }

    /// A page of changes from `seqs`: ascending store sequences, all after
    /// `after`.
    fn page(
        &self,
        state: &State,
        seqs: impl Iterator<Item = u64>,
        after: u64,
        limit: usize,
    ) -> Result<ChangePage, StoreError> {
        check_limit(limit)?;
        let mut seqs = seqs.peekable();
        debug_assert!(seqs.peek().is_none_or(|seq| *seq > after));
        let changes: Vec<Change> = seqs
            .by_ref()
            .take(limit)
            .map(|seq| Change {
                seq,
                stored_at: state.stored_at[(seq - 1) as usize],
                report: state.report(seq).clone(),
            })
            .collect();
        let next_seq = changes.last().map_or(after, |c| c.seq);
        Ok(ChangePage {
            changes,
            next: Cursor::new(self.store_id, next_seq),
            more: seqs.peek().is_some(),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Poisoned)
    }
}

impl State {
    fn report(&self, seq: u64) -> &Report {
        &self.versions[(seq - 1) as usize]
    }

    fn current(&self, id: &ReportKey) -> Option<&Report> {
        self.by_id.get(id).map(|v| self.report(v.current_seq))
    }

    fn is_withdrawn(&self, report: &Report) -> bool {
        self.withdrawals
            .get(&report.key())
            .is_some_and(|withdrawal| withdrawal.withdraws(report))
    }

    fn put(
        &mut self,
        report: &Report,
        event: AuditEvent,
        stored_at: Timestamp,
    ) -> Result<PutOutcome, StoreError> {
        event.check()?;
        let key = report.key();
        let held_signature = |counter| -> Option<Signature> {
            let seq = *self.by_id.get(&key)?.by_counter.get(&counter)?;
            Some(self.report(seq).signature)
        };
        let placement = place(report, self.current(&key), || {
            Ok(held_signature(report.version))
        })?;
        if placement == Placement::Duplicate {
            return Ok(PutOutcome::Duplicate);
        }
        debug_assert!(self.stored_at.last().is_none_or(|prev| *prev <= stored_at));
        self.versions.push(report.clone());
        self.stored_at.push(stored_at);
        let seq = self.versions.len() as u64;
        self.by_kind
            .entry(report.kind.clone())
            .or_default()
            .push(seq);
        let current = placement == Placement::Current;
        let versions = self.by_id.entry(key.clone()).or_insert(Versions {
            by_counter: BTreeMap::new(),
            current_seq: seq,
        });
        let fresh = versions.by_counter.insert(report.version, seq).is_none();
        assert!(fresh, "a placed version is new");
        if current {
            self.current.remove(&versions.current_seq);
            versions.current_seq = seq;
            self.current.insert(seq, key);
        }
        self.append_audit(event);
        Ok(PutOutcome::Stored { seq, current })
    }

    fn append_audit(&mut self, event: AuditEvent) -> AuditEntry {
        let entry = match self.audit.last() {
            Some(last) => AuditEntry::chain(last.seq, &last.hash, event),
            None => AuditEntry::chain(0, AUDIT_HASH_GENESIS, event),
        };
        self.audit.push(entry.clone());
        entry
    }
}

impl LocalLeases for MemoryStore {
    fn lease_table(&self) -> &LeaseTable {
        &self.leases
    }
}

impl ReportStore for MemoryStore {
    crate::lease::local_lease_methods!();

    fn put(&self, report: &Report, audit: AuditEvent) -> Result<PutOutcome, StoreError> {
        let mut state = self.lock()?;
        let stored_at = next_stored_at((self.clock)(), state.stored_at.last().copied());
        state.put(report, audit, stored_at)
    }

    fn put_batch(
        &self,
        batch: &[(Report, AuditEvent)],
    ) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
        if batch.len() > BATCH_LEN_MAX {
            return Err(StoreError::LimitExceeded {
                limit: batch.len(),
                max: BATCH_LEN_MAX,
            });
        }
        let mut state = self.lock()?;
        let stored_at = next_stored_at((self.clock)(), state.stored_at.last().copied());
        Ok(batch
            .iter()
            .map(|(report, event)| state.put(report, event.clone(), stored_at))
            .collect())
    }

    fn get(&self, id: &ReportKey) -> Result<Option<Report>, StoreError> {
        Ok(self.lock()?.current(id).cloned())
    }

    fn version(&self, id: &ReportKey, counter: u64) -> Result<Option<Report>, StoreError> {
        let state = self.lock()?;
        let seq = state
            .by_id
            .get(id)
            .and_then(|versions| versions.by_counter.get(&counter));
        Ok(seq.map(|seq| state.report(*seq).clone()))
    }

    fn put_withdrawal(
        &self,
        withdrawal: &Withdrawal,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        audit.check()?;
        let mut state = self.lock()?;
        let key = withdrawal.key();
        let recorded = state.withdrawals.get(&key);
        if recorded.is_some_and(|recorded| recorded.version >= withdrawal.version) {
            return Ok(false);
        }
        let previous = state.withdrawal_log.last().and_then(|w| w.stored_at);
        let stored_at = next_stored_at((self.clock)(), previous);
        let seq = state.withdrawal_log.len() as u64 + 1;
        state.withdrawal_log.push(RecordedWithdrawal {
            seq,
            report: key.clone(),
            version: withdrawal.version,
            stored_at: Some(stored_at),
        });
        state.withdrawals.insert(key, withdrawal.clone());
        state.append_audit(audit);
        Ok(true)
    }

    fn withdrawal(&self, id: &ReportKey) -> Result<Option<Withdrawal>, StoreError> {
        Ok(self.lock()?.withdrawals.get(id).cloned())
    }

    fn withdrawals(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordedWithdrawal>, StoreError> {
        check_limit(limit)?;
        let state = self.lock()?;
        let start = usize::try_from(after_seq)
            .unwrap_or(usize::MAX)
            .min(state.withdrawal_log.len());
        let page: Vec<RecordedWithdrawal> = state.withdrawal_log[start..]
            .iter()
            .take(limit)
            .cloned()
            .collect();
        debug_assert!(page.iter().all(|w| w.seq > after_seq));
        Ok(page)
    }

    fn history(&self, id: &ReportKey) -> Result<Vec<Report>, StoreError> {
        let state = self.lock()?;
        if state
            .by_id
            .get(id)
            .is_some_and(|v| v.by_counter.len() > QUERY_LIMIT_MAX)
        {
            return Err(history_too_long());
        }
        Ok(state.by_id.get(id).map_or_else(Vec::new, |versions| {
            versions
                .by_counter
                .values()
                .map(|seq| state.report(*seq).clone())
                .collect()
        }))
    }

    fn query(&self, query: &ReportQuery) -> Result<ReportPage, StoreError> {
        query.check()?;
        let after = match &query.after {
            Some(cursor) => cursor.seq_in(self.store_id)?,
            None => 0,
        };
        let state = self.lock()?;
        let mut reports = Vec::new();
        let mut last_seq = after;
        let mut more = false;
        for (seq, id) in state.current.range(after + 1..) {
            let report = state.current(id).expect("current index points at a report");
            if !query.matches(report) {
                continue;
            }
            if !query.include_withdrawn && state.is_withdrawn(report) {
                continue;
            }
            if reports.len() == query.limit {
                more = true;
                break;
            }
            reports.push(report.clone());
            last_seq = *seq;
        }
        Ok(ReportPage {
            reports,
            next: more.then(|| Cursor::new(self.store_id, last_seq)),
        })
    }

    fn changes(&self, after: Option<&Cursor>, limit: usize) -> Result<ChangePage, StoreError> {
        let after = self.after_seq(after)?;
        let state = self.lock()?;
        let n_versions = state.versions.len() as u64;
        self.page(&state, after + 1..=n_versions, after, limit)
    }

    fn changes_of_kind(
        &self,
        kind: &Kind,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<ChangePage, StoreError> {
        let after = self.after_seq(after)?;
        let state = self.lock()?;
        let seqs = state.by_kind.get(kind).map_or(&[][..], |v| v.as_slice());
        // Start at the first seq after the cursor without walking the kind.
        let from = seqs.partition_point(|seq| *seq <= after);
        self.page(&state, seqs[from..].iter().copied(), after, limit)
    }

    fn changes_head(&self) -> Result<Cursor, StoreError> {
        let n_versions = self.lock()?.versions.len() as u64;
        Ok(Cursor::new(self.store_id, n_versions))
    }

    fn withdrawals_last_seq(&self) -> Result<u64, StoreError> {
        Ok(self.lock()?.withdrawal_log.last().map_or(0, |w| w.seq))
    }

    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        event.check()?;
        Ok(self.lock()?.append_audit(event))
    }

    fn append_audit_batch(&self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        check_batch_len(events.len())?;
        events.iter().try_for_each(AuditEvent::check)?;
        let mut state = self.lock()?;
        for event in events {
            state.append_audit(event);
        }
        Ok(())
    }

    fn audit(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        check_limit(limit)?;
        let state = self.lock()?;
        let start = (after_seq as usize).min(state.audit.len());
        Ok(state.audit[start..].iter().take(limit).cloned().collect())
    }

    fn audit_last_seq(&self) -> Result<u64, StoreError> {
        Ok(self.lock()?.audit.last().map_or(0, |entry| entry.seq))
    }

    fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        let state = self.lock()?;
        let mut walk = ChainCheck::new();
        state.audit.iter().for_each(|entry| walk.push(entry));
        let tip = state
            .audit
            .last()
            .map_or((0, AUDIT_HASH_GENESIS), |e| (e.seq, e.hash.as_str()));
        Ok(walk.finish(tip))
    }

    fn sync_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        check_sync_state(key, "")?;
        Ok(self.lock()?.sync.get(key).cloned())
    }

    fn set_sync_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        check_sync_state(key, value)?;
        self.lock()?.sync.insert(key.to_string(), value.to_string());
        Ok(())
    }

    fn note_peer_request(
        &self,
        signature: &[u8; 64],
        seen_ms: i64,
        forget_before_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock()?;
        let state = &mut *state;
        while let Some((at, old)) = state.seen_order.front() {
            if *at >= forget_before_ms && state.seen_order.len() < PEER_REQUESTS_MAX {
                break;
            }
            state.seen.remove(old);
            state.seen_order.pop_front();
        }
        if !state.seen.insert(*signature) {
            return Ok(false);
        }
        state.seen_order.push_back((seen_ms, *signature));
        debug_assert_eq!(state.seen.len(), state.seen_order.len());
        Ok(true)
    }
}

/// Bounds on sync-state keys and values (shared by both stores).
pub(crate) fn check_sync_state(key: &str, value: &str) -> Result<(), StoreError> {
    if key.is_empty() || key.len() > SYNC_STATE_LEN_MAX || value.len() > SYNC_STATE_LEN_MAX {
        return Err(StoreError::Invalid(format!(
            "sync state key must be 1..={SYNC_STATE_LEN_MAX} bytes and value at most {SYNC_STATE_LEN_MAX} (key is {}, value {})",
            key.len(),
            value.len()
        )));
    }
    Ok(())
}
