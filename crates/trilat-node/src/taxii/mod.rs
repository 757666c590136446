//! The TAXII 2.1 server over the node's report store (`/taxii2/…`).

use axum::Router;

use crate::AppState;

/// The TAXII routes, merged at the router's root.
pub fn routes() -> Router<AppState> {
    Router::new()
}
