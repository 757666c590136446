//! Link ownership: with several processes of one party's node on one
//! store, the link to a peer (its push and its pull) is driven by one
//! process at a time, the one holding the store's lease `link:<PARTY>`
//! (the machinery is [`crate::lease_owner`], shared with the engines'
//! partitions).
//!
//! The push and pull tasks stand by until their process owns the link;
//! then every write they make as owner (a pulled page, the pull cursor,
//! the release entries of a push) goes through the lease's fenced store,
//! which refuses it once the lease has expired or moved. Inbound peer
//! requests are served by every process.

use std::sync::Arc;

use trilat_core::Party;

pub(super) use crate::lease_owner::{audit_all_in, is_fenced, owned, Owner, Ownership};

/// The name of the lease on the link to `peer`.
pub fn lease_name(peer: &Party) -> String {
    format!("link:{peer}")
}

/// The ownership of the link to `peer` for the process named `holder`.
pub(super) fn link_ownership(peer: &Party, holder: String) -> Arc<Ownership> {
    Ownership::new(
        lease_name(peer),
        format!("link to {peer}"),
        "federation",
        Some(peer.clone()),
        holder,
    )
}
