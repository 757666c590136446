//! The hook where the domain engines (sanctions, AIS, missile warning) plug
//! into the node: their report kinds, their HTTP routes (merged under
//! `/api/v1`) and their background tasks. Filled in by the engines' wiring.

use axum::Router;
use trilat_core::KindRegistry;

use crate::AppState;

/// Registers the engines' report kinds and payload checks.
pub fn register_kinds(registry: &mut KindRegistry) {
    let _ = registry;
}

/// The engines' HTTP routes, merged under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// Starts the engines' background tasks (ingest, demo scenarios).
pub async fn start(state: AppState) {
    let _ = state;
}
