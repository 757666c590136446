//! The push link: this node's own new versions to one peer, at once and in
//! batches, for low latency.
//!
//! The node offers each version it stores of its own reports
//! ([`PushLink::offer`]) with what it carries to the peer ([`Outgoing`]: the
//! version, or the owner's withdrawal in its stead, decided by the send
//! and withdrawal rules). It asks [`PushLink::next_action`] what to do,
//! sends the [`PushBatch`] and reports the outcome with
//! [`PushLink::push_done`]. The link never sleeps, reads a clock or touches
//! the network: time comes in as milliseconds, jitter from a seed.
//!
//! Pushing is an optimisation, never the only way across: the queue is
//! bounded, and on overflow, or after [`SyncConfig::push_attempts_max`]
//! failed attempts at a batch, it is dropped. Nothing is lost: the peer's
//! pull from its own cursor brings everything ([`crate::PullLink`]).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use trilat_core::{Party, Report, ReportKey, Withdrawal};

use crate::backoff::Backoff;
use crate::SyncConfig;

/// What one offered change carries to the peer.
#[derive(Clone, Debug, PartialEq)]
pub enum Outgoing {
    /// The version itself (the send rule allows the peer).
    Report(Arc<Report>),
    /// The owner's withdrawal in its stead (the version narrowed the report
    /// away from the peer).
    Withdrawal(Withdrawal),
}

impl Outgoing {
    fn key_version(&self) -> (ReportKey, u64) {
        match self {
            Outgoing::Report(report) => (report.key(), report.version),
            Outgoing::Withdrawal(withdrawal) => (withdrawal.key(), withdrawal.version),
        }
    }
}

/// One push request: what to send, in feed order. Withdrawals go first in
/// the request (the receiver records them before storing versions, so a
/// version they withdraw is never announced as current).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PushBatch {
    /// The change-feed sequence numbers this batch covers.
    pub seqs: Vec<u64>,
    /// Versions to send (none superseded by a newer offered version).
    pub reports: Vec<Arc<Report>>,
    /// Withdrawals to send.
    pub withdrawals: Vec<Withdrawal>,
}

/// What the node should do next on a push link.
#[derive(Clone, Debug, PartialEq)]
pub enum PushAction {
    /// Audit the release, send the batch to the peer, then call
    /// [`PushLink::push_done`].
    Send(PushBatch),
    /// Nothing to send before `until_ms`, or before the next
    /// [`PushLink::offer`] (`None`: only an offer or a `push_done` wakes it).
    Idle {
        /// When to ask again at the latest.
        until_ms: Option<i64>,
    },
}

/// Counters for metrics and tests; they only grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushStats {
    /// Batches acknowledged by the peer.
    pub batches_ok: u64,
    /// Attempts that failed.
    pub failures: u64,
    /// Offers dropped (queue overflow or attempts exhausted); the peer's
    /// pull delivers them.
    pub offers_dropped: u64,
    /// Times the queue overflowed.
    pub queue_overflows: u64,
    /// Versions left out of a batch because a newer one was offered.
    pub superseded: u64,
}

/// The push direction of one link: a bounded queue of offered changes, the
/// batch in flight and the backoff. Lost on restart: the peer's pull
/// delivers whatever was queued.
#[derive(Clone, Debug)]
pub struct PushLink {
    peer: Party,
    config: SyncConfig,
    backoff: Backoff,
    queue: VecDeque<(u64, Outgoing)>,
    in_flight: Option<Vec<(u64, Outgoing)>>,
    /// Failed attempts at the batch at the head of the queue.
    attempts: u32,
    /// The newest version offered of each report while the queue is not
    /// empty: a queued version superseded by a newer one is not pushed (the
    /// newer one, or its withdrawal, goes; the peer's pull brings the
    /// history), so a peer never gets a version alone in a push whose
    /// withdrawal is already queued behind it. Bounded like the queue.
    newest: HashMap<ReportKey, u64>,
    stats: PushStats,
}

impl PushLink {
    /// A push link to `peer`. `config` is clamped to the nearest valid one;
    /// `seed` drives backoff jitter.
    pub fn new(peer: Party, config: SyncConfig, seed: u64) -> PushLink {
        let config = config.clamped();
        PushLink {
            peer,
            backoff: Backoff::new(config.backoff_ms_min, config.backoff_ms_max, seed),
            config,
            queue: VecDeque::new(),
            in_flight: None,
            attempts: 0,
            newest: HashMap::new(),
            stats: PushStats::default(),
        }
    }

    /// The peer this link pushes to.
    pub fn peer(&self) -> &Party {
        &self.peer
    }

    /// The (clamped) config in force.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Counters for metrics.
    pub fn stats(&self) -> PushStats {
        self.stats
    }

    /// Offers waiting to be pushed (not counting a batch in flight).
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Consecutive failed attempts (0 when the peer is reachable).
    pub fn failures(&self) -> u32 {
        self.backoff.failures()
    }

    /// Queues the change at feed sequence `seq`. If the queue is full it is
    /// dropped whole (the peer's pull will deliver everything from its
    /// cursor), and `seq` starts a fresh queue.
    pub fn offer(&mut self, seq: u64, outgoing: Outgoing) {
        if self.queue.len() >= self.config.push_queue_max {
            self.drop_queue();
            self.stats.queue_overflows += 1;
        }
        if self.newest.len() >= self.config.push_queue_max + self.config.push_batch_max {
            // Only the skipping of superseded versions is lost until the
            // queue next empties.
            self.newest.clear();
        }
        let (key, version) = outgoing.key_version();
        let newest = self.newest.entry(key).or_insert(version);
        *newest = version.max(*newest);
        self.queue.push_back((seq, outgoing));
        assert!(self.queue.len() <= self.config.push_queue_max);
    }

    /// What to do now. At most one batch is in flight.
    pub fn next_action(&mut self, now_ms: i64) -> PushAction {
        if self.in_flight.is_some() {
            return PushAction::Idle { until_ms: None };
        }
        if let Some(until_ms) = self.backoff.waiting_until(now_ms) {
            return PushAction::Idle {
                until_ms: Some(until_ms),
            };
        }
        while !self.queue.is_empty() {
            let n = self.queue.len().min(self.config.push_batch_max);
            let offers: Vec<(u64, Outgoing)> = self.queue.drain(..n).collect();
            let batch = self.batch(&offers);
            if batch.reports.is_empty() && batch.withdrawals.is_empty() {
                continue; // Everything superseded: nothing to send.
            }
            assert!(!batch.seqs.is_empty() && batch.seqs.len() <= self.config.push_batch_max);
            self.in_flight = Some(offers);
            return PushAction::Send(batch);
        }
        self.newest.clear();
        PushAction::Idle { until_ms: None }
    }

    fn batch(&mut self, offers: &[(u64, Outgoing)]) -> PushBatch {
        let mut batch = PushBatch::default();
        for (seq, outgoing) in offers {
            batch.seqs.push(*seq);
            match outgoing {
                Outgoing::Report(report) if self.superseded(report) => self.stats.superseded += 1,
                Outgoing::Report(report) => batch.reports.push(report.clone()),
                Outgoing::Withdrawal(withdrawal) => batch.withdrawals.push(withdrawal.clone()),
            }
        }
        batch
    }

    fn superseded(&self, report: &Report) -> bool {
        self.newest
            .get(&report.key())
            .is_some_and(|newest| *newest > report.version)
    }

    /// The outcome of the last [`PushAction::Send`]. On failure the batch
    /// goes back to the head of the queue and the link backs off; after
    /// `push_attempts_max` failures the batch and queue are dropped.
    pub fn push_done(&mut self, now_ms: i64, result: Result<(), String>) {
        let Some(batch) = self.in_flight.take() else {
            debug_assert!(false, "push_done without a push in flight");
            return;
        };
        match result {
            Ok(()) => {
                self.stats.batches_ok += 1;
                self.attempts = 0;
                self.backoff.succeeded();
            }
            Err(_) => {
                self.stats.failures += 1;
                self.attempts += 1;
                self.backoff.failed(now_ms);
                if self.attempts >= self.config.push_attempts_max {
                    self.stats.offers_dropped += batch.len() as u64;
                    self.drop_queue();
                    return;
                }
                for offer in batch.into_iter().rev() {
                    self.queue.push_front(offer);
                }
                if self.queue.len() > self.config.push_queue_max {
                    self.drop_queue();
                    self.stats.queue_overflows += 1;
                }
            }
        }
        assert!(self.in_flight.is_none());
    }

    fn drop_queue(&mut self) {
        self.stats.offers_dropped += self.queue.len() as u64;
        self.queue.clear();
        self.newest.clear();
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests;
