//! The routes the web console needs beyond the report API: the release
//! preview, acknowledgements, federation health, the zones the engines use
//! and the AIS picture. One file per route group; the contract between the
//! console and the node is `docs/api.md`.
//!
//! Decisions stay on the node: the preview's reasons come from
//! [`trilat_core::Policy::preview`], visibility from the release rule.
//! Acknowledgements and the reads of their listing are audited, and an
//! audit that cannot be written fails the request ([`AppState::audit`]).

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

mod acks;
mod leases;
mod peers;
mod release;
mod vessels;
mod zones;

/// The console routes (served under the edge limits).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/release/preview", post(release::preview_post))
        .route(
            "/api/v1/reports/{owner}/{id}/acknowledge",
            post(acks::acknowledge_post),
        )
        .route("/api/v1/acknowledgements", get(acks::acknowledgements_get))
        .route("/api/v1/federation/peers", get(peers::peers_get))
        .route("/api/v1/federation/leases", get(leases::leases_get))
        .route(
            "/api/v1/federation/peers/{party}/suspend",
            post(peers::peer_suspend_post),
        )
        .route(
            "/api/v1/federation/peers/{party}/resume",
            post(peers::peer_resume_post),
        )
        .route("/api/v1/geo/zones", get(zones::zones_get))
        .route("/api/v1/ais/vessels", get(vessels::vessels_get))
}
