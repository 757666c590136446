//! Link ownership: with several processes of one party's node on one
//! store, the link to a peer (its push and its pull) is driven by one
//! process at a time, the one holding the store's lease `link:<PARTY>`.
//!
//! Per peer, a lease task asks for the lease, renews it every
//! `limits.link_lease_renew_ms` while it holds it, and asks again as soon
//! as it may while another process holds it (the lease lasts
//! `limits.link_lease_ms` unless renewed, on the store's clock). The push
//! and pull tasks stand by until their process owns the link; then every
//! write they make as owner (a pulled page, the pull cursor, the release
//! entries of a push) goes through the lease's fenced store
//! ([`trilat_store::ReportStore::fenced`]), which refuses it once the
//! lease has expired or moved. A refused write or renewal ends the tenure:
//! the tasks stop driving the link, the loss is audited, and the process
//! stands by. Inbound peer requests are served by every process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use trilat_core::Party;
use trilat_store::{AuditAction, AuditEvent, Lease, LeaseGrant, ReportStore, StoreError};

use super::link::PeerClient;
use crate::{audit_event, AppError, AppState};

/// The name of the lease on the link to `peer`.
pub fn lease_name(peer: &Party) -> String {
    format!("link:{peer}")
}

/// The holder name of this process: the party, the process id and a
/// random part (a restarted process with the same pid is a new holder).
pub(super) fn holder_name(party: &Party) -> String {
    format!(
        "{party}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// One tenure of this process on a link.
pub(super) struct Owner {
    pub(super) lease: Lease,
    /// The store as the lease's holder writes to it.
    pub(super) store: Arc<dyn ReportStore>,
}

/// Who drives one peer's link in this process: `Some` while this process
/// owns it. Shared by the peer's lease, push and pull tasks.
pub(super) struct Ownership {
    peer: Party,
    holder: String,
    current: watch::Sender<Option<Arc<Owner>>>,
}

impl Ownership {
    pub(super) fn new(peer: Party, holder: String) -> Arc<Ownership> {
        Arc::new(Ownership {
            peer,
            holder,
            current: watch::Sender::new(None),
        })
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<Option<Arc<Owner>>> {
        self.current.subscribe()
    }

    /// Whether `owner` is still this process's tenure.
    pub(super) fn holds(&self, owner: &Arc<Owner>) -> bool {
        self.current
            .borrow()
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, owner))
    }

    /// Ends the tenure `owner` (a write or renewal was refused); true if
    /// it was current, and then audits why (through the plain store: the
    /// entry records a fact, not a write as owner).
    pub(super) async fn lose(&self, state: &AppState, owner: &Arc<Owner>, reason: &str) -> bool {
        let ended = self.current.send_if_modified(|current| {
            let is_owner = current.as_ref().is_some_and(|c| Arc::ptr_eq(c, owner));
            if is_owner {
                *current = None;
            }
            is_owner
        });
        if ended {
            let lease = &owner.lease;
            tracing::warn!(peer = %self.peer, holder = %lease.holder, token = lease.token, reason, "link lease lost: standing by");
            let detail = format!(
                "link to {}: lease {} (token {}) lost by {}: {reason}; this process stops driving the link and stands by",
                self.peer, lease.name, lease.token, lease.holder
            );
            let mut event = audit_event("federation", AuditAction::Other, detail);
            event.counterparty = Some(self.peer.clone());
            if let Err(e) = state.audit(event).await {
                tracing::error!(peer = %self.peer, %e, "the loss of a link lease could not be audited");
            }
        }
        ended
    }
}

/// Waits until this process owns the link.
pub(super) async fn owned(owned: &mut watch::Receiver<Option<Arc<Owner>>>) -> Option<Arc<Owner>> {
    loop {
        if let Some(owner) = owned.borrow_and_update().clone() {
            return Some(owner);
        }
        owned.changed().await.ok()?;
    }
}

/// Whether an error from a write as owner says the lease is gone.
pub(super) fn is_fenced(error: &AppError) -> bool {
    error.code == "fenced"
}

/// [`AppState::audit_all`] on `store`: with a link owner's fenced store,
/// the entries are written as the link's owner, refused once the lease is
/// gone (`AppError` code `fenced`).
pub(super) async fn audit_all_in(
    store: Arc<dyn ReportStore>,
    mut events: Vec<AuditEvent>,
) -> Result<(), AppError> {
    if events.is_empty() {
        return Ok(());
    }
    for event in &mut events {
        crate::state::clip(&mut event.actor, trilat_store::AUDIT_ACTOR_LEN_MAX);
        crate::state::clip(&mut event.detail, trilat_store::AUDIT_DETAIL_LEN_MAX);
    }
    tokio::task::spawn_blocking(move || store.append_audit_batch(events))
        .await
        .map_err(|e| AppError::internal(format!("audit task failed: {e}")))?
        .map_err(AppError::from)
}

/// Gives the lease up when the lease task ends (the node stops: its tasks
/// are aborted), so another process takes the link at once instead of
/// after the lease. A write of this process still in flight is refused by
/// the fence once another holder has the lease.
struct ReleaseOnStop {
    state: AppState,
    ownership: Arc<Ownership>,
}

impl Drop for ReleaseOnStop {
    fn drop(&mut self) {
        let Some(owner) = self.ownership.current.send_replace(None) else {
            return;
        };
        // A short blocking call: the store's own connections, not this runtime's.
        if let Err(e) = self.state.store.release_lease(&owner.lease) {
            tracing::warn!(peer = %self.ownership.peer, %e, "the link lease was not released at stop");
        }
    }
}

/// The lease task of one peer: runs for the life of the node, and gives
/// the lease up when it is stopped.
pub(super) async fn run(peer: Arc<PeerClient>, ownership: Arc<Ownership>) {
    let _release = ReleaseOnStop {
        state: peer.state.clone(),
        ownership: ownership.clone(),
    };
    let limits = &peer.state.config.limits;
    let renew_every = Duration::from_millis(limits.link_lease_renew_ms);
    let mut renewed_at = Instant::now();
    loop {
        let current = ownership.current.borrow().clone();
        let wait = match current {
            None => match take(&peer, &ownership).await {
                Ok(Some(owner)) => {
                    renewed_at = Instant::now();
                    ownership.current.send_replace(Some(owner));
                    renew_every
                }
                // Held by another: ask again once it may have expired.
                Ok(None) => renew_every,
                Err(e) => {
                    tracing::warn!(peer = %ownership.peer, %e, "asking for the link lease failed");
                    renew_every
                }
            },
            Some(owner) => {
                renew(&peer, &ownership, &owner, &mut renewed_at).await;
                renew_every
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// Asks for the lease; on a grant, audits the new tenure as its owner.
async fn take(peer: &PeerClient, ownership: &Ownership) -> Result<Option<Arc<Owner>>, AppError> {
    let state = &peer.state;
    let (name, holder) = (lease_name(&ownership.peer), ownership.holder.clone());
    let duration_ms = state.config.limits.link_lease_ms;
    let store = state.store.clone();
    let grant = tokio::task::spawn_blocking(move || {
        let grant = store.acquire_lease(&name, &holder, duration_ms)?;
        let LeaseGrant::Granted(lease) = grant else {
            return Ok(None);
        };
        let fenced = store.fenced(&lease)?;
        Ok::<_, StoreError>(Some(Owner {
            lease,
            store: fenced,
        }))
    })
    .await
    .map_err(AppError::internal)??;
    let Some(owner) = grant else { return Ok(None) };
    let lease = &owner.lease;
    let detail = format!(
        "link to {}: lease {} taken by {} (token {}); this process drives the link",
        ownership.peer, lease.name, lease.holder, lease.token
    );
    let mut event = audit_event("federation", AuditAction::Other, detail);
    event.counterparty = Some(ownership.peer.clone());
    audit_all_in(owner.store.clone(), vec![event]).await?;
    tracing::info!(peer = %ownership.peer, holder = %lease.holder, token = lease.token, "link lease taken");
    Ok(Some(Arc::new(owner)))
}

/// Renews the tenure; a refusal ends it. A store that cannot be reached
/// ends it once the lease must have expired by this process's own clock
/// (its writes are refused by then anyway).
async fn renew(
    peer: &PeerClient,
    ownership: &Ownership,
    owner: &Arc<Owner>,
    renewed_at: &mut Instant,
) {
    let state = &peer.state;
    let duration_ms = state.config.limits.link_lease_ms;
    let (store, lease) = (state.store.clone(), owner.lease.clone());
    let asked_at = Instant::now();
    let res = tokio::task::spawn_blocking(move || store.renew_lease(&lease, duration_ms)).await;
    match res {
        Ok(Ok(_)) => *renewed_at = asked_at,
        Ok(Err(StoreError::Fenced(reason))) => {
            ownership.lose(state, owner, &reason).await;
        }
        Ok(Err(e)) if renewed_at.elapsed() >= Duration::from_millis(duration_ms) => {
            let reason = format!("not renewed within the lease ({e})");
            ownership.lose(state, owner, &reason).await;
        }
        Ok(Err(e)) => tracing::warn!(peer = %ownership.peer, %e, "renewing the link lease failed"),
        Err(e) => tracing::error!(peer = %ownership.peer, %e, "the lease renewal task failed"),
    }
}
