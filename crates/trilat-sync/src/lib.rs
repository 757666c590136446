//! Trilat's federation protocol: how partner nodes exchange signed, marked
//! reports without ever handing one to a party the release rule forbids.
//!
//! This crate is pure: no I/O, no async, no clock, no randomness of its own.
//! The node (`trilat-node`) carries its decisions over HTTP; the simulation
//! in `tests/sim.rs` carries them over a faulty simulated network. The
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
//! * [`PushLink`] — the **push link**: this node's own new versions (or
//!   their withdrawals, [`Outgoing`]) to one peer at once, in bounded
//!   batches, for low latency. The queue is bounded and may be dropped:
//!   pushing is an optimisation, never the only way across.
//! * [`PullLink`] — the **pull link**: catch-up from one peer's change feed
//!   after a persisted cursor, as a pipeline of pages, each **fetched →
//!   judged → stored**, pages ahead fetched and judged while one is stored.
//!   The cursor moves only when a page is stored; a failure at any stage
//!   drops that page and those after it, and the next pull starts again
//!   from the cursor. Partitions and restarts on either side lose nothing.
//! * [`judge_page`] — the one way a page of reports (pushed or pulled) is
//!   judged: [`judge_incoming`] for each report, owner signatures checked
//!   in one batch.
//!
//! Both links are state machines with the same contract: the node asks
//! `next_action(now_ms)` for an action, performs it (the I/O, the CPU work,
//! the store write) and reports the outcome; the link decides what comes
//! next, when to back off (bounded exponential backoff, jitter from a
//! caller-given seed) and what to drop. The node's tokio tasks
//! (`trilat-node/src/federation/{push,pull}.rs`) and the deterministic
//! simulation (`tests/sim.rs`: loss, duplication, reordering, partitions,
//! restarts, failed store writes, forgeries, withdrawals, squatted ids)
//! drive exactly these types.
//!
//! Sync is incremental: a pull asks for the peer's changes after a cursor,
//! and a push names only new versions, so the work of a sync grows
//! with what changed, never with the size of the store.
//!
//! ```
//! use trilat_core::Party;
//! use trilat_sync::{PageHead, PullAction, PullLink, SyncConfig};
//! let jpn = Party::new("JPN").unwrap();
//! // Pages are the caller's: here the fetched body and verdicts are text.
//! let mut link: PullLink<String, String> = PullLink::new(jpn, SyncConfig::default(), 7);
//! // A fresh link first catches up from the start of the peer's feed.
//! let PullAction::Fetch { page, after: None } = link.next_action(0) else { panic!() };
//! let head = PageHead { next_cursor: "42".into(), received: 3, more: false };
//! link.fetched(5, page, Ok((head, "three reports".into())));
//! let PullAction::Judge { page, fetched } = link.next_action(5) else { panic!() };
//! link.judged(6, page, Ok(format!("verdicts on {fetched}")));
//! let PullAction::Store { page, judged } = link.next_action(6) else { panic!() };
//! assert_eq!(judged, "verdicts on three reports");
//! link.stored(9, page, Ok(()));
//! // Stored: the cursor moves (persist it); the next pull after an interval.
//! assert_eq!(link.cursor(), Some("42"));
//! assert!(matches!(link.next_action(10), PullAction::Idle { .. }));
//! ```
#![deny(missing_docs)]

mod backoff;
mod config;
mod page;
mod pull;
mod push;
mod receive;
mod withdraw;

pub use config::{
    ConfigError, SyncConfig, BACKOFF_MS_CEILING, CURSOR_LEN_MAX, PULL_PAGES_AHEAD_MAX,
};
pub use page::{judge_page, ReceiveRules, SignatureCheck};
pub use pull::{FetchError, PageHead, PageId, PullAction, PullLink, PullStats};
pub use push::{Outgoing, PushAction, PushBatch, PushLink, PushStats};
pub use receive::{judge_incoming, should_send, RefuseReason, Verdict};
pub use withdraw::{judge_withdrawal, should_withdraw, WithdrawalVerdict};
