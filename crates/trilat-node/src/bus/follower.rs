//! The follower: reads what any process of the party stored, from the
//! store's change feed and withdrawal log, and puts it onto this process's
//! channels. Each version passes its cursor once, so each is delivered once
//! whichever process stored it; a wake-up (a local write, a bus
//! announcement) or the poll timer only decides when.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use trilat_core::{Party, Report, ReportKey, Withdrawal};
use trilat_store::{Cursor, ReportStore, StoreError};

use super::{Bus, POLL_INTERVAL};
use crate::AppState;

/// Changes or withdrawals read per store call.
const PAGE_LEN: usize = 1000;

/// Where the follower is in the store's two feeds.
pub(super) struct Follower {
    /// The change feed's resume point.
    changes: Cursor,
    /// The withdrawal log's last `seq` read.
    withdrawals_seq: u64,
}

/// What one read found for the channels.
#[derive(Default)]
struct Delivery {
    /// Versions that are their report's current one and not withdrawn.
    live: Vec<Arc<Report>>,
    /// Copies withdrawn, each with the withdrawal.
    withdrawn: Vec<Arc<(Report, Withdrawal)>>,
    /// The party's own versions, each with its store sequence, whichever
    /// process stored them: offered to the push links, which only the
    /// process holding a link's lease drives.
    offers: Vec<(u64, Arc<Report>)>,
    /// Whether more is waiting (a full page was read).
    more: bool,
}

impl Follower {
    /// A follower at the heads of both feeds: what is stored from now on.
    pub(super) fn at_head(store: &dyn ReportStore) -> Result<Follower, StoreError> {
        Ok(Follower {
            changes: store.changes_head()?,
            withdrawals_seq: store.withdrawals_last_seq()?,
        })
    }

    /// Reads one page of each feed past the cursors, and moves them.
    /// Withdrawals first, as the receive path records them first: a version
    /// already withdrawn is then not announced.
    fn read(
        &mut self,
        store: &dyn ReportStore,
        party: &Party,
        with_withdrawals: bool,
    ) -> Result<Delivery, StoreError> {
        let mut delivery = Delivery::default();
        let log = if with_withdrawals {
            store.withdrawals(self.withdrawals_seq, PAGE_LEN)?
        } else {
            Vec::new()
        };
        for recorded in &log {
            assert!(recorded.seq > self.withdrawals_seq, "the log moves forward");
            // The highest withdrawal of the report: an entry a later one
            // replaced is that later entry's to announce.
            let held = store.get(&recorded.report)?;
            let highest = store.withdrawal(&recorded.report)?;
            if let (Some(copy), Some(withdrawal)) = (held, highest) {
                if withdrawal.version == recorded.version && copy.version < withdrawal.version {
                    delivery.withdrawn.push(Arc::new((copy, withdrawal)));
                }
            }
            self.withdrawals_seq = recorded.seq;
        }
        let page = store.changes(Some(&self.changes), PAGE_LEN)?;
        if page.changes.is_empty() {
            self.changes = page.next;
            delivery.more = log.len() == PAGE_LEN;
            return Ok(delivery);
        }
        let keys: Vec<ReportKey> = page.changes.iter().map(|c| c.report.key()).collect();
        let current = store.get_many(&keys)?;
        let withdrawn = store.withdrawn_versions(&keys)?;
        assert_eq!(current.len(), keys.len(), "one answer per report");
        assert_eq!(withdrawn.len(), keys.len(), "one answer per report");
        for ((change, current), withdrawn) in page.changes.into_iter().zip(current).zip(withdrawn) {
            let version = change.report.version;
            // A version a newer one replaced before we read it, or one stored
            // to history only, is not announced: the current one is.
            let is_current = current.is_some_and(|held| held.version == version);
            let is_withdrawn = withdrawn.is_some_and(|from| from > version);
            let report = Arc::new(change.report);
            if report.owner == *party {
                delivery.offers.push((change.seq, report.clone()));
            }
            if is_current && !is_withdrawn {
                delivery.live.push(report);
            }
        }
        self.changes = page.next;
        delivery.more = page.more || log.len() == PAGE_LEN;
        Ok(delivery)
    }
}

/// Follows the feeds until the node stops: on each wake-up or every
/// [`POLL_INTERVAL`], reads until nothing is left.
pub(super) async fn run(state: AppState, bus: Arc<Bus>, mut follower: Follower) {
    let mut poll = tokio::time::interval(POLL_INTERVAL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        // The withdrawal log is read at every poll, and on a wake-up when a
        // withdrawal was announced.
        let polled = tokio::select! {
            _ = bus.wake.notified() => false,
            _ = poll.tick() => true,
        };
        let mut with_withdrawals = polled;
        loop {
            with_withdrawals |= bus.withdrawals_pending.swap(false, Ordering::Relaxed);
            let store = state.store.clone();
            let party = state.party.clone();
            let read = tokio::task::spawn_blocking(move || {
                let delivery = follower.read(store.as_ref(), &party, with_withdrawals);
                (follower, delivery)
            })
            .await;
            let delivery = match read {
                Ok((moved, delivery)) => {
                    follower = moved;
                    delivery
                }
                Err(e) => {
                    // The read panicked: the cursors went with it. Nothing
                    // can be delivered in order any more; say so loudly.
                    tracing::error!(%e, "bus: the store follower failed; other processes' reports no longer reach this one");
                    return;
                }
            };
            match delivery {
                Ok(delivery) => {
                    if failing {
                        tracing::info!("bus: the store's feed is readable again");
                        failing = false;
                    }
                    for withdrawn in delivery.withdrawn {
                        let _ = state.withdrawn.send(withdrawn);
                    }
                    for report in delivery.live {
                        let _ = state.live.send(report);
                    }
                    for (seq, report) in delivery.offers {
                        state.outbox.offer(seq, report);
                    }
                    if !delivery.more {
                        break;
                    }
                }
                Err(e) => {
                    // The store is down: read again at the next wake-up or poll,
                    // from the same cursors (nothing skipped), the withdrawal
                    // log included.
                    bus.withdrawals_pending.store(true, Ordering::Relaxed);
                    if !failing {
                        tracing::warn!(%e, "bus: cannot read the store's feed; retrying");
                        failing = true;
                    }
                    break;
                }
            }
        }
    }
}
