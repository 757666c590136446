//! The push task of one peer: asleep on the peer's offer channel until a
//! local report is stored, then sends everything queued in batches at once.
//! A failed batch is retried with backoff up to `limits.push_attempts_max`
//! times, then dropped: the peer's pull from its own cursor delivers it.
//! Each attempt is audited (a release to the peer) before it is sent.
//! A local version that narrowed a report away from the peer goes as the
//! owner's withdrawal instead (see [`super::server::feed_offer`]), in the
//! same queue, so it keeps its place among the versions.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use trilat_core::{Report, Withdrawal};
use trilat_sync::{Action, PeerLink};

use super::link::{body_budget, push_bodies, Offer, PeerClient, LINK_SUSPENDED};
use super::server::{feed_offer, withdrawal_events, FeedOffer, PushBody};
use crate::audit::{release_events, released};
use crate::{audit_event, now_ms, Metrics};
use trilat_store::AuditAction;

/// Runs until the offer channel closes (the node stops).
pub(super) async fn run(peer: Arc<PeerClient>, mut offers: mpsc::Receiver<Offer>, seed: u64) {
    let mut link = PeerLink::new(peer.party().clone(), peer.sync_config(), seed);
    let mut queue = PushQueue::default();
    loop {
        if link.push_queue_len() == 0 {
            // Nothing queued (or the link dropped its queue): the reports
            // kept for it are no longer needed.
            queue.clear();
            let Some(offer) = offers.recv().await else {
                return;
            };
            queue.accept(&peer, &mut link, offer);
            drain(&peer, &mut link, &mut queue, &mut offers);
            continue;
        }
        match link.next_action(now_ms()) {
            Action::Push(seqs) => {
                let res = push(&peer, &queue, &seqs).await;
                if res.is_ok() {
                    for seq in &seqs {
                        queue.pending.remove(seq);
                    }
                }
                let outcome = res.clone();
                link.push_done(now_ms(), res);
                let (board, queued) = (&peer.state.peer_status, link.push_queue_len());
                board.push_done(
                    peer.party(),
                    now_ms(),
                    outcome.as_ref().map(|_| ()).map_err(String::as_str),
                    queued,
                );
            }
            Action::Idle { until_ms } => {
                // Backing off after a failure; keep taking offers meanwhile.
                let wait_ms = until_ms.saturating_sub(now_ms()).clamp(0, 60_000);
                tokio::select! {
                    offer = offers.recv() => {
                        let Some(offer) = offer else { return };
                        queue.accept(&peer, &mut link, offer);
                        drain(&peer, &mut link, &mut queue, &mut offers);
                    }
                    _ = tokio::time::sleep(Duration::from_millis(wait_ms as u64)) => {}
                }
            }
            Action::Pull { .. } => {
                // A link with a queued push and nothing in flight pushes or
                // idles; a pull here is a bug in this loop, not the peer's.
                tracing::error!(peer = %peer.party(), "push link asked for a pull");
                debug_assert!(false, "push link asked for a pull");
                return;
            }
        }
    }
}

/// Takes every offer already waiting, so they leave in one batch.
fn drain(
    peer: &PeerClient,
    link: &mut PeerLink,
    queue: &mut PushQueue,
    offers: &mut mpsc::Receiver<Offer>,
) {
    while let Ok(offer) = offers.try_recv() {
        queue.accept(peer, link, offer);
    }
}

/// What one queued sequence number carries to the peer.
enum Pending {
    /// The version itself.
    Report(Arc<Report>),
    /// The owner's withdrawal in its stead.
    Withdrawal(Withdrawal),
}

/// The reports behind the link's queued sequence numbers.
#[derive(Default)]
struct PushQueue {
    /// Reports or withdrawals offered for push by sequence, until pushed or
    /// dropped.
    pending: HashMap<u64, Pending>,
    /// The newest version offered of each report while the queue is not
    /// empty: a queued version superseded by a newer one is not pushed (the
    /// newer one, or its withdrawal, goes; the peer's pull brings the
    /// history), so a peer that was down never gets a version alone in a
    /// push whose withdrawal is already queued behind it.
    newest: HashMap<trilat_core::ReportKey, u64>,
}

impl PushQueue {
    fn clear(&mut self) {
        self.pending.clear();
        self.newest.clear();
    }

    /// Whether a newer version of `report` was offered since.
    fn superseded(&self, report: &Report) -> bool {
        self.newest
            .get(&report.key())
            .is_some_and(|newest| *newest > report.version)
    }

    fn accept(&mut self, peer: &PeerClient, link: &mut PeerLink, (seq, report): Offer) {
        let state = &peer.state;
        if report.owner != state.party {
            return;
        }
        let me = (&state.party, state.key.as_ref());
        let (key, version) = (report.key(), report.version);
        let pending = match feed_offer(&*state.store, &report, me, peer.party(), &state.policy) {
            Ok(FeedOffer::Report) => Pending::Report(report),
            Ok(FeedOffer::Withdrawal(withdrawal)) => Pending::Withdrawal(withdrawal),
            Ok(FeedOffer::Nothing) => return,
            Err(e) => {
                // The peer's pull serves it (and asks the store again).
                tracing::warn!(peer = %peer.party(), error = %e, "push offer skipped");
                return;
            }
        };
        let pending_max = state.config.limits.push_queue_max + state.config.limits.push_batch_max;
        if self.pending.len() >= pending_max {
            // The link drops its queue on overflow too; the peer pulls instead.
            self.clear();
        }
        if self.newest.len() >= pending_max {
            // Bounded like the queue; only the skipping of superseded
            // versions is lost until the queue next empties.
            self.newest.clear();
        }
        self.pending.insert(seq, pending);
        let newest = self.newest.entry(key).or_insert(version);
        *newest = version.max(*newest);
        link.offer(seq);
        state
            .peer_status
            .push_queued(peer.party(), link.push_queue_len());
        assert!(self.pending.len() <= pending_max);
    }
}

async fn push(peer: &PeerClient, queue: &PushQueue, seqs: &[u64]) -> Result<(), String> {
    if peer.state.suspended.contains(peer.party()) {
        // Nothing released, nothing audited; the link backs off and the
        // peer's pull brings the batch once the link is restored.
        return Err(LINK_SUSPENDED.into());
    }
    let mut reports: Vec<&Report> = Vec::new();
    let mut withdrawals: Vec<Withdrawal> = Vec::new();
    for seq in seqs {
        match queue.pending.get(seq) {
            Some(Pending::Report(report)) if queue.superseded(report) => {}
            Some(Pending::Report(report)) => reports.push(report.as_ref()),
            Some(Pending::Withdrawal(withdrawal)) => withdrawals.push(withdrawal.clone()),
            None => {}
        }
    }
    if reports.is_empty() && withdrawals.is_empty() {
        return Ok(());
    }
    let state = &peer.state;
    let budget = body_budget(state.config.limits.body_bytes_max);
    let mut bodies = push_bodies(&reports, budget)?;
    let withdrawn: Vec<(trilat_core::ReportKey, u64)> =
        withdrawals.iter().map(|w| (w.key(), w.version)).collect();
    if !withdrawals.is_empty() {
        // In the first body, with the versions before them: the receiver
        // records them first, so a version they withdraw is never announced
        // on its stream. Small (id, owner, version, signature each).
        let json = serde_json::to_vec(&withdrawals).map_err(|e| e.to_string())?;
        match bodies.first_mut() {
            Some(first) => {
                assert!(first.ends_with(b"]}"), "a push body ends its reports");
                first.truncate(first.len() - 1);
                first.extend_from_slice(b",\"withdrawals\":");
                first.extend_from_slice(&json);
                first.push(b'}');
            }
            None => {
                let body = PushBody {
                    reports: Vec::new(),
                    withdrawals,
                };
                bodies.push(serde_json::to_vec(&body).map_err(|e| e.to_string())?);
            }
        }
    }
    // Recorded before anything is sent: no audit entry, no push (the batch
    // is retried, or the peer's pull brings it, audited there).
    let template =
        audit_event("federation", AuditAction::Release, "").counterparty(peer.party().clone());
    let versions = released(reports.iter().copied());
    let mut events = release_events(template, "push", &versions);
    events.extend(withdrawal_events(peer.party(), &withdrawn, "push"));
    if let Err(e) = state.audit_all(events).await {
        Metrics::bump(&state.metrics.push_failures, 1);
        return Err(format!("push not sent: {e}"));
    }
    let mut res = Ok(());
    for body in bodies {
        res = push_body(peer, body).await;
        if res.is_err() {
            // The whole batch is retried; the peer absorbs what it has.
            break;
        }
    }
    match &res {
        Ok(()) => Metrics::bump(&state.metrics.reports_pushed, reports.len() as u64),
        Err(e) => {
            tracing::debug!(peer = %peer.party(), error = %e, "push failed");
            Metrics::bump(&state.metrics.push_failures, 1);
        }
    }
    res
}

async fn push_body(peer: &PeerClient, body: Vec<u8>) -> Result<(), String> {
    let response = peer
        .signed(reqwest::Method::POST, "/peer/v1/push", body)
        .send()
        .await
        .map_err(|e| super::tls::error_chain(&e))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("push answered {}", response.status()))
    }
}
