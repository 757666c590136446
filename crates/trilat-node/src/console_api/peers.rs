//! `GET /api/v1/federation/peers`: each peer's link as the federation tasks
//! last saw it ([`crate::peer_status::PeerStatusBoard`]), `suspended` where
//! an administrator has cut it; `POST /api/v1/federation/peers/{party}/
//! suspend` and `…/resume` (admin): cut and restore that link
//! ([`crate::federation::SuspendedLinks`]), audited before it takes effect.

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use trilat_core::Party;
use trilat_store::AuditAction;

use crate::config::Role;
use crate::peer_status::PeerView;
use crate::{audit_event, AppError, AppState, Caller};

/// The answer.
#[derive(Debug, Serialize)]
pub(super) struct PeersAnswer {
    party: Party,
    peers: Vec<PeerView>,
}

pub(super) async fn peers_get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<PeersAnswer>, AppError> {
    caller.require(Role::Reader)?;
    let mut peers = state.peer_status.views(&state.config.peers);
    for view in &mut peers {
        if state.suspended.contains(&view.party) {
            view.state = "suspended";
        }
    }
    Ok(Json(PeersAnswer {
        party: state.party.clone(),
        peers,
    }))
}

/// The answer to a suspend or a resume.
#[derive(Debug, Serialize)]
pub(super) struct LinkAnswer {
    peer: Party,
    /// Whether the link is now suspended.
    suspended: bool,
    /// Whether this request changed it (false: it already was).
    changed: bool,
}

pub(super) async fn peer_suspend_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(party): Path<String>,
) -> Result<Json<LinkAnswer>, AppError> {
    set_suspended(&state, &caller, &party, true).await
}

pub(super) async fn peer_resume_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(party): Path<String>,
) -> Result<Json<LinkAnswer>, AppError> {
    set_suspended(&state, &caller, &party, false).await
}

/// Cuts (`suspend`) or restores the link to the configured peer `party`,
/// at every process of the node ([`crate::federation::set_suspended`]).
/// The audit entry is written first: an entry that cannot be written
/// leaves the link as it was.
async fn set_suspended(
    state: &AppState,
    caller: &Caller,
    party: &str,
    suspend: bool,
) -> Result<Json<LinkAnswer>, AppError> {
    caller.require(Role::Admin)?;
    let peer = Party::new(party)
        .map_err(|e| AppError::bad_request("invalid_request", format!("peer {party:?}: {e}")))?;
    if !state.config.peers.iter().any(|p| p.party == peer) {
        return Err(AppError::not_found(format!(
            "{peer} is not a configured peer of {}",
            state.party
        )));
    }
    let changed = state.suspended.contains(&peer) != suspend;
    let detail = match (suspend, changed) {
        (true, true) => "federation link suspended",
        (true, false) => "federation link suspended (already suspended)",
        (false, true) => "federation link resumed",
        (false, false) => "federation link resumed (was not suspended)",
    };
    let event = audit_event(&caller.actor(), AuditAction::Other, detail).counterparty(peer.clone());
    state.audit(event).await?;
    crate::federation::set_suspended(state, &peer, suspend).await?;
    Ok(Json(LinkAnswer {
        peer,
        suspended: suspend,
        changed,
    }))
}
