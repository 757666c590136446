//! The push task of one peer: the tokio driver of a
//! [`trilat_sync::PushLink`], which decides what to send, when to retry
//! and what to drop. The task turns each local report stored into an
//! offer (the version, or the owner's withdrawal in its stead: see
//! [`super::server::feed_offer`]), sleeps until the link has a batch, and
//! sends it: audited as a release to the peer first, then in bodies under
//! the peer's size limit. It runs only while this process owns the link
//! (`owner.rs`); the release entries are written as owner, so no push
//! leaves once the fence refuses them (one recorded just before the lease
//! moved may still be sent: the peer cannot see the token, and absorbs the
//! duplicate, receive being idempotent).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use trilat_core::{Report, Withdrawal};
use trilat_sync::{Outgoing, PushAction, PushBatch, PushLink};

use super::link::{body_budget, push_bodies, Offer, PeerClient, LINK_SUSPENDED};
use super::owner::{audit_all_in, is_fenced, Owner, Ownership};
use super::server::{feed_offer, withdrawal_events, FeedOffer, PushBody};
use crate::audit::{release_events, released};
use crate::{audit_event, now_ms, Metrics};
use trilat_store::AuditAction;

/// This process's tenure on the link, as the push task watches it.
type OwnedWatch = tokio::sync::watch::Receiver<Option<Arc<Owner>>>;

/// Runs until the offer channel closes (the node stops): stands by while
/// another process owns the link (offers are dropped then: the peer's pull
/// from the shared store delivers them), and drives the link while this
/// process owns it.
pub(super) async fn run(
    peer: Arc<PeerClient>,
    mut offers: mpsc::Receiver<Offer>,
    ownership: Arc<Ownership>,
    seed: u64,
) {
    let mut owned = ownership.subscribe();
    loop {
        let owner = loop {
            if let Some(owner) = owned.borrow_and_update().clone() {
                break owner;
            }
            tokio::select! {
                changed = owned.changed() => if changed.is_err() { return },
                offer = offers.recv() => if offer.is_none() { return },
            }
        };
        if drive(&peer, &mut offers, (&ownership, &owner, &mut owned), seed).await == Driven::Closed
        {
            return;
        }
    }
}

#[derive(PartialEq)]
enum Driven {
    /// The tenure ended: stand by.
    Lost,
    /// The offer channel closed: the node stops.
    Closed,
}

/// Drives the link for one tenure of this process: performs what the link
/// asks ([`PushAction::Send`]), and otherwise waits for an offer, the end
/// of a backoff or the end of the tenure.
async fn drive(
    peer: &PeerClient,
    offers: &mut mpsc::Receiver<Offer>,
    (ownership, owner, owned): (&Ownership, &Arc<Owner>, &mut OwnedWatch),
    seed: u64,
) -> Driven {
    let mut link = PushLink::new(peer.party().clone(), peer.sync_config(), seed);
    while ownership.holds(owner) {
        match link.next_action(now_ms()) {
            PushAction::Send(batch) => {
                let res = push(peer, owner, &batch).await;
                if let Err(PushError::Fenced(reason)) = &res {
                    ownership.lose(&peer.state, owner, reason).await;
                }
                let res = res.map_err(|e| e.to_string());
                let outcome = res.clone();
                link.push_done(now_ms(), res);
                let (board, queued) = (&peer.state.peer_status, link.queue_len());
                board.push_done(
                    peer.party(),
                    now_ms(),
                    outcome.as_ref().map(|_| ()).map_err(String::as_str),
                    queued,
                );
            }
            PushAction::Idle { until_ms } => {
                // An offer wakes the link at once; a backoff ends on time.
                let wait_ms = until_ms.map_or(60_000, |until_ms| {
                    until_ms.saturating_sub(now_ms()).clamp(0, 60_000)
                });
                tokio::select! {
                    offer = offers.recv() => {
                        let Some(offer) = offer else { return Driven::Closed };
                        accept(peer, &mut link, offer);
                        // Take every offer already waiting, so they leave in one batch.
                        while let Ok(offer) = offers.try_recv() {
                            accept(peer, &mut link, offer);
                        }
                    }
                    _ = owned.changed() => {}
                    _ = tokio::time::sleep(Duration::from_millis(wait_ms as u64)) => {}
                }
            }
        }
    }
    Driven::Lost
}

/// Offers a stored version to the link as what the peer is to get: the
/// version, its withdrawal, or nothing (not the node's own, or the send
/// rule forbids it and it narrowed nothing away from the peer).
fn accept(peer: &PeerClient, link: &mut PushLink, (seq, report): Offer) {
    let state = &peer.state;
    if report.owner != state.party {
        return; // Relays travel by pull.
    }
    let me = (&state.party, state.key.as_ref());
    let outgoing = match feed_offer(&*state.store, &report, me, peer.party(), &state.policy) {
        Ok(FeedOffer::Report) => Outgoing::Report(report),
        Ok(FeedOffer::Withdrawal(withdrawal)) => Outgoing::Withdrawal(withdrawal),
        Ok(FeedOffer::Nothing) => return,
        Err(e) => {
            // The peer's pull serves it (and asks the store again).
            tracing::warn!(peer = %peer.party(), error = %e, "push offer skipped");
            return;
        }
    };
    link.offer(seq, outgoing);
    state
        .peer_status
        .push_queued(peer.party(), link.queue_len());
}

/// Why a push failed: the lease is gone (the tenure ends), or anything
/// else (the link retries).
enum PushError {
    Fenced(String),
    Failed(String),
}

impl std::fmt::Display for PushError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PushError::Fenced(reason) => write!(f, "push not sent, fenced: {reason}"),
            PushError::Failed(reason) => f.write_str(reason),
        }
    }
}

impl From<String> for PushError {
    fn from(reason: String) -> PushError {
        PushError::Failed(reason)
    }
}

/// Sends one batch: audited first (as the link's owner: refused once the
/// lease is gone), then in bodies under the peer's limit.
async fn push(peer: &PeerClient, owner: &Owner, batch: &PushBatch) -> Result<(), PushError> {
    if peer.state.suspended.contains(peer.party()) {
        // Nothing released, nothing audited; the link backs off and the
        // peer's pull brings the batch once the link is restored.
        return Err(PushError::Failed(LINK_SUSPENDED.into()));
    }
    let reports: Vec<&Report> = batch.reports.iter().map(Arc::as_ref).collect();
    let withdrawals: Vec<Withdrawal> = batch.withdrawals.clone();
    assert!(
        !reports.is_empty() || !withdrawals.is_empty(),
        "a batch sends something"
    );
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
    if let Err(e) = audit_all_in(owner.store.clone(), events).await {
        Metrics::bump(&state.metrics.push_failures, 1);
        if is_fenced(&e) {
            return Err(PushError::Fenced(e.message));
        }
        return Err(PushError::Failed(format!("push not sent: {e}")));
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
    res.map_err(PushError::Failed)
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
