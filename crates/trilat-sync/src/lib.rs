//! Trilat's federation protocol: how partner nodes exchange signed, marked
//! reports without ever handing one to a party the release rule forbids.
//!
//! This crate is pure: no I/O, no async, no clock, no randomness of its own.
//! The node (`trilat-node`) carries its decisions over HTTP; the simulation
//! in `tests/sim.rs` carries them over a faulty simulated network. Three
//! pieces:
//!
//! * [`should_send`] — the **send rule**: a node offers a report to a peer
//!   only as its owner under the release rule, or as a relay the marking
//!   allows. Applied on push and when serving a pull.
//! * [`judge_incoming`] — the **receive rule**: owner key known, signature
//!   valid, releasable to this node, sender allowed to send, report valid,
//!   then version ordering against what is held. Its [`Verdict`] is
//!   [`Verdict::Store`], [`Verdict::Duplicate`], [`Verdict::Stale`] or
//!   [`Verdict::Refuse`] with a [`RefuseReason`] the node audits. Receiving
//!   is idempotent: duplicates and replays change nothing.
//! * [`should_withdraw`] / [`judge_withdrawal`] — the **withdrawal rules**:
//!   an owner whose new version narrows the marking sends each party the
//!   previous version was released to and this one is not a signed
//!   [`trilat_core::Withdrawal`] (id, owner, version); the receiver marks its
//!   copy withdrawn. See `withdraw.rs` for why no delivery record is needed.
//! * [`PeerLink`] — one link's state machine: a bounded push queue of local
//!   change-feed sequence numbers for low latency, and a cursor-based pull
//!   of the peer's change feed for catch-up after partitions and restarts,
//!   with bounded exponential backoff and jitter from a caller-given seed.
//!   The node asks [`PeerLink::next_action`] for an [`Action`] and reports
//!   its outcome.
//!
//! Sync is incremental: a pull asks for the peer's changes after a cursor,
//! and a push names only new sequence numbers, so the work of a sync grows
//! with what changed, never with the size of the store.
//!
//! ```
//! use trilat_core::Party;
//! use trilat_sync::{Action, PeerLink, PullResult, SyncConfig};
//! let mut link = PeerLink::new(Party::new("JPN").unwrap(), SyncConfig::default(), 7);
//! // A fresh link first catches up from the start of the peer's feed.
//! assert_eq!(link.next_action(0), Action::Pull { cursor: None });
//! link.pull_done(5, Ok(PullResult { next_cursor: "42".into(), received: 3, more: false }));
//! link.offer(17); // a local change
//! assert_eq!(link.next_action(6), Action::Push(vec![17]));
//! link.push_done(9, Ok(()));
//! assert!(matches!(link.next_action(10), Action::Idle { .. }));
//! assert_eq!(link.cursor(), Some("42"));
//! ```
#![deny(missing_docs)]

mod link;
mod receive;
mod withdraw;

pub use link::{
    Action, ConfigError, LinkStats, PeerLink, PullResult, SyncConfig, BACKOFF_MS_CEILING,
    CURSOR_LEN_MAX,
};
pub use receive::{
    judge_incoming, judge_incoming_checked, should_send, verify_page, OwnerSignature, RefuseReason,
    Verdict,
};
pub use withdraw::{judge_withdrawal, should_withdraw, WithdrawalVerdict};
