//! Group commit of the node's audit entries ([`crate::AppState::audit_all`]).
//!
//! Every audited request waits for its entries to be durable before it
//! answers, and a commit waits for the disk's flush (2.5–5 ms here) whatever
//! it holds. One transaction per request caps a node at a few hundred
//! audited requests a second (docs/scale.md, "What limits one node").
//! Here the requests that arrive while a commit is under way wait for the
//! next one, which writes all their entries in one transaction
//! ([`trilat_store::ReportStore::append_audit_batch`]): one flush for many.
//!
//! What does not change: a request answers only after its own entries are
//! committed (nothing is released unaudited), each request's entries stay
//! together and in order in the chain, and a request whose entries cannot
//! be written fails. If a group's commit fails, each of its requests is
//! tried again alone, so a fault of one request's entries does not fail
//! the others.
//!
//! The writer is a task of its own, started by the first request that
//! finds none running: a request dropped while it waits (its client went
//! away, its timeout struck) does not stop the commit of the others.

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use trilat_store::{AuditEvent, ReportStore};

use crate::state::Metrics;

/// One request's entries and where to tell it how their commit went.
struct Request {
    events: Vec<AuditEvent>,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Request>,
    /// Whether a writer task is running (it drains `waiting` before it stops).
    writing: bool,
}

/// The audit entries waiting for their commit, and the group size.
pub(crate) struct AuditCommit {
    queue: Mutex<Queue>,
    /// Most entries in one transaction (`limits.audit_group_max`; 1 writes
    /// every request's entries alone). A request larger than this is
    /// committed alone.
    entries_max: usize,
    /// Where the commits and the entries written are counted.
    metrics: Arc<Metrics>,
}

impl AuditCommit {
    pub(crate) fn new(entries_max: usize, metrics: Arc<Metrics>) -> AuditCommit {
        AuditCommit {
            queue: Mutex::default(),
            entries_max: entries_max.max(1),
            metrics,
        }
    }

    /// Appends `events` to the audit log of `store` in one transaction,
    /// with those of the requests waiting at the same time; returns once
    /// they are committed, or the store's error.
    pub(crate) async fn append(
        self: &Arc<Self>,
        store: &Arc<dyn ReportStore>,
        events: Vec<AuditEvent>,
    ) -> Result<(), String> {
        let (done, committed) = oneshot::channel();
        let start_writer = {
            let mut queue = self.lock();
            queue.waiting.push(Request { events, done });
            !std::mem::replace(&mut queue.writing, true)
        };
        if start_writer {
            // Made before the spawn: a writer dropped before it first runs
            // still gives `writing` up.
            let stopped = WriterStopped(Some(self.clone()));
            tokio::spawn(self.clone().write_while_waiting(store.clone(), stopped));
        }
        committed
            .await
            .unwrap_or_else(|_| Err("the audit writer stopped".into()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The writer: commits the waiting requests, a group at a time, until
    /// none wait.
    async fn write_while_waiting(
        self: Arc<Self>,
        store: Arc<dyn ReportStore>,
        mut stopped: WriterStopped,
    ) {
        loop {
            let group = {
                let mut queue = self.lock();
                if queue.waiting.is_empty() {
                    queue.writing = false;
                    // Another writer may start now: this one no longer owns `writing`.
                    stopped.0 = None;
                    return;
                }
                self.next_group(&mut queue.waiting)
            };
            let store = store.clone();
            let this = self.clone();
            let written = tokio::task::spawn_blocking(move || this.commit(&*store, group)).await;
            if let Err(e) = written {
                // The group's senders were dropped with the task: its
                // requests have heard "stopped"; the others go on.
                tracing::error!(%e, "an audit commit task failed");
            }
        }
    }

    /// Takes the oldest waiting requests, as many as fit in one
    /// transaction of `entries_max` entries (the first always).
    fn next_group(&self, waiting: &mut Vec<Request>) -> Vec<Request> {
        let mut n_entries = 0;
        let n_requests = waiting
            .iter()
            .take_while(|request| {
                n_entries += request.events.len();
                n_entries <= self.entries_max
            })
            .count()
            .max(1);
        waiting.drain(..n_requests).collect()
    }

    /// Commits `group` in one transaction; if that fails, each request
    /// alone. Tells each request how its entries fared.
    fn commit(&self, store: &dyn ReportStore, mut group: Vec<Request>) {
        if group.len() == 1 {
            let request = group.pop().expect("a group of one");
            return self.commit_alone(store, request);
        }
        // Copies: a request whose shared commit fails is tried again with its own.
        let events: Vec<AuditEvent> = group.iter().flat_map(|r| r.events.clone()).collect();
        let n_events = events.len() as u64;
        let res = store.append_audit_batch(events);
        self.counted(res.is_ok(), n_events);
        for request in group {
            match res {
                Ok(()) => {
                    let _ = request.done.send(Ok(()));
                }
                Err(_) => self.commit_alone(store, request),
            }
        }
    }

    /// Commits one request's entries in a transaction of their own.
    fn commit_alone(&self, store: &dyn ReportStore, request: Request) {
        let n_events = request.events.len() as u64;
        let res = store.append_audit_batch(request.events);
        self.counted(res.is_ok(), n_events);
        let _ = request.done.send(res.map_err(|e| e.to_string()));
    }

    fn counted(&self, committed: bool, n_events: u64) {
        if committed {
            Metrics::bump(&self.metrics.audit_commits, 1);
            Metrics::bump(&self.metrics.audit_entries, n_events);
        }
    }
}

/// Ends a writer however it stops. Dropped with its runtime, the writer
/// fails the requests still waiting and lets the next request start a
/// writer (a node's state may outlive a runtime), instead of leaving
/// every later audit waiting for a writer that is gone.
/// `None` once the writer ended on its own.
struct WriterStopped(Option<Arc<AuditCommit>>);

impl Drop for WriterStopped {
    fn drop(&mut self) {
        if let Some(commit) = self.0.take() {
            let mut queue = commit.lock();
            queue.writing = false;
            queue.waiting.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::Relaxed;

    use trilat_store::{AuditAction, MemoryStore};

    use super::*;

    fn event(detail: String) -> AuditEvent {
        crate::audit_event("test", AuditAction::Other, detail)
    }

    /// The entries of `n` requests of `per` entries each, sent at once.
    async fn append_at_once(
        commit: &Arc<AuditCommit>,
        store: &Arc<dyn ReportStore>,
        n: usize,
        per: usize,
    ) -> Vec<Result<(), String>> {
        let requests = (0..n).map(|r| {
            let events = (0..per)
                .map(|e| event(format!("request {r} entry {e}")))
                .collect();
            let (commit, store) = (commit.clone(), store.clone());
            tokio::spawn(async move { commit.append(&store, events).await })
        });
        let mut results = Vec::new();
        for handle in requests.collect::<Vec<_>>() {
            results.push(handle.await.unwrap());
        }
        results
    }

    fn details(store: &dyn ReportStore) -> Vec<String> {
        let mut details = Vec::new();
        loop {
            let page = store.audit(details.len() as u64, 1000).unwrap();
            if page.is_empty() {
                return details;
            }
            details.extend(page.into_iter().map(|e| e.event.detail));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_share_commits_and_keep_their_entries_together() {
        let store: Arc<dyn ReportStore> = Arc::new(MemoryStore::new());
        let commit = Arc::new(AuditCommit::new(64, Arc::default()));
        let results = append_at_once(&commit, &store, 200, 3).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let details = details(&*store);
        assert_eq!(details.len(), 600);
        // Each request's three entries are adjacent and in order.
        for triple in details.chunks(3) {
            let request = triple[0].split(" entry").next().unwrap();
            for (e, detail) in triple.iter().enumerate() {
                assert_eq!(detail, &format!("{request} entry {e}"));
            }
        }
        assert_eq!(commit.metrics.audit_entries.load(Relaxed), 600);
        let n_commits = commit.metrics.audit_commits.load(Relaxed);
        // Groups of at most 64 entries hold at most 21 requests of 3: 10
        // commits or more (how many share one depends on timing).
        assert!((10..=200).contains(&n_commits), "{n_commits} commits");
        assert_eq!(store.verify_audit().unwrap().first_broken, None);
    }

    #[test]
    fn a_group_takes_the_oldest_requests_that_fit() {
        let commit = AuditCommit::new(64, Arc::default());
        let request = |n: usize| Request {
            events: (0..n).map(|e| event(format!("entry {e}"))).collect(),
            done: oneshot::channel().0,
        };
        let mut waiting: Vec<Request> = (0..30).map(|_| request(3)).collect();
        assert_eq!(commit.next_group(&mut waiting).len(), 21);
        assert_eq!(waiting.len(), 9);
        // A request larger than the group goes alone, and first.
        waiting.insert(0, request(100));
        assert_eq!(commit.next_group(&mut waiting).len(), 1);
        assert_eq!(commit.next_group(&mut waiting).len(), 9);
        assert!(waiting.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_of_one_writes_every_request_alone() {
        let store: Arc<dyn ReportStore> = Arc::new(MemoryStore::new());
        let commit = Arc::new(AuditCommit::new(1, Arc::default()));
        let results = append_at_once(&commit, &store, 20, 2).await;
        assert!(results.iter().all(Result::is_ok));
        // A request of 2 entries is larger than the group: it goes alone.
        assert_eq!(commit.metrics.audit_commits.load(Relaxed), 20);
        assert_eq!(details(&*store).len(), 40);
    }

    #[test]
    fn a_writer_dropped_with_its_runtime_leaves_the_next_request_a_writer() {
        let store: Arc<dyn ReportStore> = Arc::new(MemoryStore::new());
        let commit = Arc::new(AuditCommit::new(1000, Arc::default()));
        // Queued, with the writer spawned but never run: the runtime ends.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut request = std::pin::pin!(commit.append(&store, vec![event("first".into())]));
        let answered = runtime.block_on(std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::future::Future::poll(request.as_mut(), cx).is_ready())
        }));
        assert!(!answered, "answered before its writer ran");
        assert!(commit.lock().writing);
        drop(runtime);
        assert!(!commit.lock().writing);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(commit.append(&store, vec![event("second".into())]))
            .unwrap();
        assert_eq!(details(&*store), ["second"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_request_that_cannot_be_written_fails_alone() {
        let store: Arc<dyn ReportStore> = Arc::new(MemoryStore::new());
        let commit = Arc::new(AuditCommit::new(1000, Arc::default()));
        // The store refuses a detail over its bound (AppState::audit_all
        // clips them; this request comes unclipped).
        let too_long = "x".repeat(trilat_store::AUDIT_DETAIL_LEN_MAX + 1);
        let requests = (0..30).map(|r| {
            let detail = if r == 7 {
                too_long.clone()
            } else {
                format!("good {r}")
            };
            let (commit, store) = (commit.clone(), store.clone());
            tokio::spawn(async move { commit.append(&store, vec![event(detail)]).await })
        });
        let mut results = Vec::new();
        for handle in requests.collect::<Vec<_>>() {
            results.push(handle.await.unwrap());
        }
        for (r, res) in results.iter().enumerate() {
            assert_eq!(res.is_err(), r == 7, "request {r}: {res:?}");
        }
        let details = details(&*store);
        assert_eq!(details.len(), 29);
        assert!(details.iter().all(|d| d.starts_with("good ")));
        assert_eq!(commit.metrics.audit_entries.load(Relaxed), 29);
    }
}
