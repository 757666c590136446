//! Cursor-on-Target feeds to TAK endpoints (`[[tak]]` in the node config):
//! what this node's party may see, as CoT events over TCP (TLS for real
//! servers, plain TCP to loopback for tests), one task per endpoint.
//!
//! - `config.rs`: the `[[tak]]` table, checked when the config loads;
//! - `feed.rs`: the release to one destination (the release rule through
//!   [`trilat_tak::release_report`], an audit entry per release, the CoT
//!   event from `trilat-tak`), from the live reports and the AIS picture;
//! - `link.rs`: the connection: TCP or TLS, a bounded queue, reconnection
//!   with backoff.
//!
//! docs/tak.md is the operator's guide.

mod config;
mod feed;
mod link;

pub use config::{validate_endpoints, TakEndpoint, TAK_ENDPOINTS_MAX};

use crate::AppState;

/// Starts one feed per configured endpoint; the handles go with the node's
/// other background tasks.
pub fn start(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    state
        .config
        .tak
        .iter()
        .flat_map(|endpoint| {
            let (queue, reconnected, link) = link::Link::new(endpoint);
            let feed = feed::Feed::new(state.clone(), endpoint.clone(), queue, reconnected);
            [tokio::spawn(link.run()), tokio::spawn(feed.run())]
        })
        .collect()
}
