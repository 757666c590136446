//! Federation over HTTP: the full mesh between partner nodes.
//!
//! * **Peer endpoints** ([`routes`]): `POST /peer/v1/push` receives a batch
//!   of reports; `GET /peer/v1/changes?cursor=&limit=` serves this node's
//!   change feed, filtered by the send rule ([`trilat_sync::should_send`])
//!   for the requesting peer. Both demand a request signed with the peer's
//!   node key ([`auth`]): headers `x-trilat-party`, `x-trilat-time` and
//!   `x-trilat-signature` over [`trilat_core::request_signing_bytes`];
//!   unknown senders, stale times, bad signatures and replays are refused
//!   and audited.
//! * **Transport** ([`tls`]): peers talk over mutual TLS on a listener of
//!   their own (`[tls] listen`), each certificate pinned by its SHA-256 in
//!   `[[peers]] cert_sha256`; plain HTTP only on loopback where
//!   `tls.allow_plain_http_loopback` says so (tests).
//! * **Links** ([`start`]): two tokio tasks per peer, thin drivers of the
//!   protocol's state machines in `trilat-sync`. The push task drives a
//!   [`trilat_sync::PushLink`]: it sleeps until this node stores one of its
//!   own reports ([`Outbox::offer`]) and pushes at once, in batches. The
//!   pull task drives a [`trilat_sync::PullLink`]: it fetches the peer's
//!   change feed from a persisted cursor on its own schedule, pages
//!   fetched, judged and stored in a pipeline while catching up, so a
//!   partition or a restart on either side loses nothing and a long
//!   catch-up never delays a push.
//! * **Ownership** (`owner.rs`): several processes of one node may share
//!   one store; each peer's link is driven only by the process holding the
//!   store's lease `link:<PARTY>`, and its writes as owner (pulled pages,
//!   the pull cursor, a push's release entries) carry the lease's fencing
//!   token: once the lease has moved or expired they are refused, and the
//!   process stops driving the link, audits it and stands by.
//! * **Receive** ([`receive`]): every page of reports from a peer, pushed
//!   or pulled, is judged by [`trilat_sync::judge_page`] (owner's
//!   signature, release rule to this node, the sender's right to send,
//!   validity, version order) before it is stored idempotently; refusals
//!   are audited; newly current versions go to the live stream.
//! * **Suspension** ([`SuspendedLinks`]): an administrator may cut the
//!   link to one peer and restore it (`POST /api/v1/federation/peers/
//!   {party}/suspend`, `…/resume`, an exercise's `link_outage`). While
//!   cut, neither task sends anything to the peer and the peer endpoints
//!   answer that peer `503 link_suspended`; both sides back off and retry,
//!   and the pull cursors bring everything across once the link is back.
//!   Kept in the store, so it outlives a restart and every process of the
//!   node follows it (`suspension.rs`).

pub mod auth;
mod link;
mod owner;
mod pull;
mod push;
mod receive;
pub mod refusals;
mod server;
pub(crate) mod suspension;
#[cfg(test)]
mod tests;
pub mod tls;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use trilat_core::{Party, Report};

pub use link::{body_budget, cursor_key, push_bodies, start, BODY_MARGIN_BYTES};
pub use owner::lease_name;
pub use receive::{receive, ReceiveSummary};
pub use server::{cut_page, routes, CutPage, PeerChangesPage, PushBody, ServedPage};
pub use suspension::{set_suspended, SuspendedLinks};

/// Local changes waiting to be pushed, one bounded channel per peer. Filled
/// by [`crate::publish`]; drained by the link tasks. A full channel drops
/// the offer: the peer's pull delivers it instead.
#[derive(Default)]
pub struct Outbox {
    senders: Mutex<HashMap<Party, OfferSender>>,
}

/// The sending half of one peer's offer channel: `(store sequence, report)`.
type OfferSender = mpsc::Sender<link::Offer>;

impl Outbox {
    /// Offers a stored local version (store sequence `seq`) to every peer
    /// link. Only the node's own reports are pushed; relays travel by pull.
    pub fn offer(&self, seq: u64, report: Arc<Report>) {
        let senders = self.senders.lock().unwrap_or_else(|e| e.into_inner());
        for sender in senders.values() {
            let _ = sender.try_send((seq, report.clone()));
        }
    }

    fn register(&self, peer: Party, sender: OfferSender) {
        let mut senders = self.senders.lock().unwrap_or_else(|e| e.into_inner());
        senders.insert(peer, sender);
    }
}
