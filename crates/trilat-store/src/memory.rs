//! [`MemoryStore`]: the same behaviour as [`crate::SqliteStore`], in memory,
//! for tests of the crates above.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use trilat_core::{Report, ReportId, Signature};

use crate::audit::ChainCheck;
use crate::rules::{place, Placement};
use crate::{
    check_limit, history_too_long, AuditEntry, AuditEvent, AuditVerification, Change, ChangePage,
    Cursor, PutOutcome, ReportPage, ReportQuery, ReportStore, StoreError, AUDIT_HASH_GENESIS,
    BATCH_LEN_MAX, QUERY_LIMIT_MAX, SYNC_STATE_LEN_MAX,
};

/// A store that lives in memory and is lost with the process.
pub struct MemoryStore {
    store_id: u64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Every stored version by store sequence (seq = index + 1).
    versions: Vec<Report>,
    /// Per id: version counter -> seq, and the seq of the current version.
    by_id: HashMap<ReportId, Versions>,
    /// Current versions by their seq: the query order.
    current: BTreeMap<u64, ReportId>,
    audit: Vec<AuditEntry>,
    sync: HashMap<String, String>,
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
        MemoryStore {
            store_id: rand::random(),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Poisoned)
    }
}

impl State {
    fn report(&self, seq: u64) -> &Report {
        &self.versions[(seq - 1) as usize]
    }

    fn current(&self, id: &ReportId) -> Option<&Report> {
        self.by_id.get(id).map(|v| self.report(v.current_seq))
    }

    fn put(&mut self, report: &Report, event: AuditEvent) -> Result<PutOutcome, StoreError> {
        event.check()?;
        let held_signature = |counter| -> Option<Signature> {
            let seq = *self.by_id.get(&report.id)?.by_counter.get(&counter)?;
            Some(self.report(seq).signature)
        };
        let placement = place(report, self.current(&report.id), || {
            Ok(held_signature(report.version))
        })?;
        if placement == Placement::Duplicate {
            return Ok(PutOutcome::Duplicate);
        }
        self.versions.push(report.clone());
        let seq = self.versions.len() as u64;
        let current = placement == Placement::Current;
        let versions = self.by_id.entry(report.id).or_insert(Versions {
            by_counter: BTreeMap::new(),
            current_seq: seq,
        });
        let fresh = versions.by_counter.insert(report.version, seq).is_none();
        assert!(fresh, "a placed version is new");
        if current {
            self.current.remove(&versions.current_seq);
            versions.current_seq = seq;
            self.current.insert(seq, report.id);
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

impl ReportStore for MemoryStore {
    fn put(&self, report: &Report, audit: AuditEvent) -> Result<PutOutcome, StoreError> {
        self.lock()?.put(report, audit)
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
        Ok(batch
            .iter()
            .map(|(report, event)| state.put(report, event.clone()))
            .collect())
    }

    fn get(&self, id: &ReportId) -> Result<Option<Report>, StoreError> {
        Ok(self.lock()?.current(id).cloned())
    }

    fn history(&self, id: &ReportId) -> Result<Vec<Report>, StoreError> {
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
        check_limit(limit)?;
        let after = match after {
            Some(cursor) => cursor.seq_in(self.store_id)?,
            None => 0,
        };
        let state = self.lock()?;
        let start = (after as usize).min(state.versions.len());
        let end = (start + limit).min(state.versions.len());
        let changes: Vec<Change> = (start..end)
            .map(|idx| Change {
                seq: idx as u64 + 1,
                report: state.versions[idx].clone(),
            })
            .collect();
        let next_seq = changes.last().map_or(after, |c| c.seq);
        Ok(ChangePage {
            changes,
            next: Cursor::new(self.store_id, next_seq),
            more: end < state.versions.len(),
        })
    }

    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        event.check()?;
        Ok(self.lock()?.append_audit(event))
    }

    fn audit(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        check_limit(limit)?;
        let state = self.lock()?;
        let start = (after_seq as usize).min(state.audit.len());
        Ok(state.audit[start..].iter().take(limit).cloned().collect())
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
