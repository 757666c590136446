//! `GET /api/v1/federation/peers`: each peer's link as the federation tasks
//! last saw it ([`crate::peer_status::PeerStatusBoard`]).

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use trilat_core::Party;

use crate::config::Role;
use crate::peer_status::PeerView;
use crate::{AppError, AppState, Caller};

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
    Ok(Json(PeersAnswer {
        party: state.party.clone(),
        peers: state.peer_status.views(&state.config.peers),
    }))
}
