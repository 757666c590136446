//! Single-owner work under a lease (docs/lease.md): with several processes
//! of one party's node on one store, a piece of work — a peer link
//! (`link:<PARTY>`), an AIS partition (`ais:<k>`) — is driven by one
//! process at a time, the one holding the store's lease of that name.
//!
//! Per piece of work, a lease task ([`run`]) asks for the lease, renews it
//! every `limits.link_lease_renew_ms` while it holds it, and asks again as
//! soon as it may while another process holds it (the lease lasts
//! `limits.link_lease_ms` unless renewed, on the store's clock). The tasks
//! doing the work stand by until their process owns it ([`owned`]); then
//! every write they make as owner goes through the lease's fenced store
//! ([`trilat_store::ReportStore::fenced`]), which refuses it once the lease
//! has expired or moved. A refused write or renewal ends the tenure
//! ([`Ownership::lose`]): the work stops, the loss is audited, and the
//! process stands by.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use trilat_core::Party;
use trilat_store::{AuditAction, AuditEvent, Lease, LeaseGrant, ReportStore, StoreError};

use crate::{audit_event, AppError, AppState};

/// The holder name of this process: the party, the process id and a
/// random part (a restarted process with the same pid is a new holder).
pub(crate) fn holder_name(party: &Party) -> String {
    format!(
        "{party}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// One tenure of this process on a piece of work.
pub(crate) struct Owner {
    pub(crate) lease: Lease,
    /// The store as the lease's holder writes to it.
    pub(crate) store: Arc<dyn ReportStore>,
}

/// Who drives one piece of work in this process: `Some` while this
/// process owns it. Shared by its lease task and the tasks doing the work.
pub(crate) struct Ownership {
    /// The lease's name (`link:JPN`, `ais:3`).
    lease_name: String,
    /// What the lease is for, as audit entries and logs say it
    /// (`link to JPN`, `AIS partition 3`).
    work: String,
    /// The audit actor of the entries about the lease.
    actor: &'static str,
    /// The peer the work concerns, if any (the audit's counterparty).
    counterparty: Option<Party>,
    holder: String,
    current: watch::Sender<Option<Arc<Owner>>>,
    /// Until when the tenure surely lasts by this process's own clock: the
    /// lease's length after the last grant or renewal was asked for. A
    /// process that stalled (SIGSTOP) finds it passed when it resumes,
    /// before its lease task has heard of the loss.
    valid_until: std::sync::Mutex<Instant>,
}

impl Ownership {
    /// The ownership of the work `work` under the lease `lease_name`.
    pub(crate) fn new(
        lease_name: String,
        work: String,
        actor: &'static str,
        counterparty: Option<Party>,
        holder: String,
    ) -> Arc<Ownership> {
        assert!(!lease_name.is_empty(), "a lease has a name");
        assert!(!holder.is_empty(), "a lease has a holder");
        Arc::new(Ownership {
            lease_name,
            work,
            actor,
            counterparty,
            holder,
            current: watch::Sender::new(None),
            valid_until: std::sync::Mutex::new(Instant::now()),
        })
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<Option<Arc<Owner>>> {
        self.current.subscribe()
    }

    /// This process's tenure, if it owns the work now.
    pub(crate) fn current(&self) -> Option<Arc<Owner>> {
        self.current.borrow().clone()
    }

    /// Whether `owner` is still this process's tenure.
    pub(crate) fn holds(&self, owner: &Arc<Owner>) -> bool {
        self.current
            .borrow()
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, owner))
    }

    /// Whether `owner` is this process's tenure and its lease surely still
    /// runs by this process's clock: the check before an act the fence
    /// cannot refuse (acknowledging input to the bus).
    pub(crate) fn holds_now(&self, owner: &Arc<Owner>) -> bool {
        let valid_until = *self.valid_until.lock().unwrap_or_else(|e| e.into_inner());
        self.holds(owner) && Instant::now() < valid_until
    }

    fn renewed(&self, asked_at: Instant, duration_ms: u64) {
        let until = asked_at + Duration::from_millis(duration_ms);
        *self.valid_until.lock().unwrap_or_else(|e| e.into_inner()) = until;
    }

    fn audit_event(&self, detail: String) -> AuditEvent {
        let mut event = audit_event(self.actor, AuditAction::Other, detail);
        event.counterparty = self.counterparty.clone();
        event
    }

    /// Ends the tenure `owner` (a write or renewal was refused); true if
    /// it was current, and then audits why (through the plain store: the
    /// entry records a fact, not a write as owner).
    pub(crate) async fn lose(&self, state: &AppState, owner: &Arc<Owner>, reason: &str) -> bool {
        let ended = self.current.send_if_modified(|current| {
            let is_owner = current.as_ref().is_some_and(|c| Arc::ptr_eq(c, owner));
            if is_owner {
                *current = None;
            }
            is_owner
        });
        if ended {
            let lease = &owner.lease;
            tracing::warn!(work = %self.work, holder = %lease.holder, token = lease.token, reason, "lease lost: standing by");
            let detail = format!(
                "{}: lease {} (token {}) lost by {}: {reason}; this process stops driving it and stands by",
                self.work, lease.name, lease.token, lease.holder
            );
            if let Err(e) = state.audit(self.audit_event(detail)).await {
                tracing::error!(work = %self.work, %e, "the loss of a lease could not be audited");
            }
        }
        ended
    }
}

/// Waits until this process owns the work.
pub(crate) async fn owned(owned: &mut watch::Receiver<Option<Arc<Owner>>>) -> Option<Arc<Owner>> {
    loop {
        if let Some(owner) = owned.borrow_and_update().clone() {
            return Some(owner);
        }
        owned.changed().await.ok()?;
    }
}

/// Whether an error from a write as owner says the lease is gone.
pub(crate) fn is_fenced(error: &AppError) -> bool {
    error.code == "fenced"
}

/// [`AppState::audit_all`] on `store`: with an owner's fenced store, the
/// entries are written as the owner, refused once the lease is gone
/// (`AppError` code `fenced`).
pub(crate) async fn audit_all_in(
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
/// are aborted), so another process takes the work at once instead of
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
            tracing::warn!(work = %self.ownership.work, %e, "the lease was not released at stop");
        }
    }
}

/// The lease task of one piece of work: runs for the life of the node, and
/// gives the lease up when it is stopped.
pub(crate) async fn run(state: AppState, ownership: Arc<Ownership>) {
    let _release = ReleaseOnStop {
        state: state.clone(),
        ownership: ownership.clone(),
    };
    let renew_every = Duration::from_millis(state.config.limits.link_lease_renew_ms);
    let mut renewed_at = Instant::now();
    loop {
        match ownership.current() {
            None => match take(&state, &ownership).await {
                Ok(Some((owner, asked_at))) => {
                    renewed_at = asked_at;
                    ownership.renewed(asked_at, state.config.limits.link_lease_ms);
                    ownership.current.send_replace(Some(owner));
                }
                // Held by another: ask again once it may have expired.
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(work = %ownership.work, %e, "asking for the lease failed")
                }
            },
            Some(owner) => renew(&state, &ownership, &owner, &mut renewed_at).await,
        }
        tokio::time::sleep(renew_every).await;
    }
}

/// Asks for the lease; on a grant, audits the new tenure as its owner.
async fn take(
    state: &AppState,
    ownership: &Ownership,
) -> Result<Option<(Arc<Owner>, Instant)>, AppError> {
    let asked_at = Instant::now();
    let (name, holder) = (ownership.lease_name.clone(), ownership.holder.clone());
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
    assert_eq!(lease.name, ownership.lease_name);
    let detail = format!(
        "{}: lease {} taken by {} (token {}); this process drives it",
        ownership.work, lease.name, lease.holder, lease.token
    );
    audit_all_in(owner.store.clone(), vec![ownership.audit_event(detail)]).await?;
    tracing::info!(work = %ownership.work, holder = %lease.holder, token = lease.token, "lease taken");
    Ok(Some((Arc::new(owner), asked_at)))
}

/// Renews the tenure; a refusal ends it. A store that cannot be reached
/// ends it once the lease must have expired by this process's own clock
/// (its writes are refused by then anyway).
async fn renew(
    state: &AppState,
    ownership: &Ownership,
    owner: &Arc<Owner>,
    renewed_at: &mut Instant,
) {
    let duration_ms = state.config.limits.link_lease_ms;
    let (store, lease) = (state.store.clone(), owner.lease.clone());
    let asked_at = Instant::now();
    let res = tokio::task::spawn_blocking(move || store.renew_lease(&lease, duration_ms)).await;
    match res {
        Ok(Ok(_)) => {
            *renewed_at = asked_at;
            ownership.renewed(asked_at, duration_ms);
        }
        Ok(Err(StoreError::Fenced(reason))) => {
            ownership.lose(state, owner, &reason).await;
        }
        Ok(Err(e)) if renewed_at.elapsed() >= Duration::from_millis(duration_ms) => {
            let reason = format!("not renewed within the lease ({e})");
            ownership.lose(state, owner, &reason).await;
        }
        Ok(Err(e)) => tracing::warn!(work = %ownership.work, %e, "renewing the lease failed"),
        Err(e) => tracing::error!(work = %ownership.work, %e, "the lease renewal task failed"),
    }
}
