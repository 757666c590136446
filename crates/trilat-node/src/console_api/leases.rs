//! `GET /api/v1/federation/leases` (admin): the single-owner work of this
//! party's node — each peer link (`link:<PARTY>`) and engine partition
//! (`ais:<k>`, `missile:<group>`) — and which process drives it, from the
//! store's leases (docs/lease.md). With several processes on one store,
//! every process answers the same; `this_process` marks its own.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use trilat_core::Party;
use trilat_store::LeaseState;

use crate::config::Role;
use crate::{AppError, AppState, Caller};

/// The answer.
#[derive(Debug, Serialize)]
pub(super) struct LeasesAnswer {
    party: Party,
    /// This process's holder name.
    this_process: String,
    leases: Vec<LeaseView>,
}

/// One lease, and whether this process holds it.
#[derive(Debug, Serialize)]
pub(super) struct LeaseView {
    #[serde(flatten)]
    lease: LeaseState,
    /// Held (not expired nor released).
    held: bool,
    /// Held by this process.
    this_process: bool,
}

pub(super) async fn leases_get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<LeasesAnswer>, AppError> {
    caller.require(Role::Admin)?;
    let store = state.store.clone();
    let leases = tokio::task::spawn_blocking(move || store.leases())
        .await
        .map_err(AppError::internal)??;
    let this_process = state.holder.to_string();
    let leases = leases
        .into_iter()
        .map(|lease| {
            let held = lease.remaining_ms > 0;
            LeaseView {
                this_process: held && lease.holder == this_process,
                held,
                lease,
            }
        })
        .collect();
    Ok(Json(LeasesAnswer {
        party: state.party.clone(),
        this_process,
        leases,
    }))
}
