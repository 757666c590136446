//! What the federation tasks last saw of each peer, for
//! `GET /api/v1/federation/peers`: the push task reports each batch's
//! outcome and its queue, the pull task each page's outcome and whether the
//! peer had more. One board per node, held in [`crate::AppState`]; its
//! entries are the configured peers (fixed at start), so it never grows.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;
use trilat_core::{Party, Timestamp};

use crate::config::PeerConfig;
use crate::state::clip;

/// Longest error text kept per direction (a peer's answer is quoted).
const ERROR_BYTES_MAX: usize = 512;

/// The last outcome of one direction of a link.
#[derive(Clone, Debug, Default)]
struct Direction {
    last_ok_ms: Option<i64>,
    last_error: Option<String>,
    /// Whether the last attempt failed.
    failing: bool,
}

impl Direction {
    fn record(&mut self, now_ms: i64, outcome: Result<(), &str>) {
        match outcome {
            Ok(()) => {
                self.last_ok_ms = Some(now_ms);
                self.failing = false;
            }
            Err(error) => {
                let mut error = error.to_string();
                clip(&mut error, ERROR_BYTES_MAX);
                self.last_error = Some(error);
                self.failing = true;
            }
        }
    }

    fn attempted(&self) -> bool {
        self.last_ok_ms.is_some() || self.last_error.is_some()
    }
}

#[derive(Clone, Debug, Default)]
struct Link {
    push: Direction,
    push_queued: usize,
    pull: Direction,
    /// Whether the last page pulled said the peer had more after it.
    pull_more: Option<bool>,
}

/// Per-peer link status, updated by the federation tasks.
#[derive(Debug, Default)]
pub struct PeerStatusBoard {
    links: Mutex<BTreeMap<Party, Link>>,
}

/// One peer as `GET /api/v1/federation/peers` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeerView {
    /// The peer's party.
    pub party: Party,
    /// Its configured base URL.
    pub url: String,
    /// `up`, `degraded`, `down` or `unknown` (see [`PeerStatusBoard::views`]);
    /// the console route shows `suspended` for a link an admin cut.
    pub state: &'static str,
    /// Last successful exchange in either direction.
    pub last_contact: Option<Timestamp>,
    /// The push direction (this node's reports to the peer).
    pub push: PushView,
    /// The pull direction (the peer's change feed to this node).
    pub pull: PullView,
}

/// The push direction of a [`PeerView`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PushView {
    /// Reports queued for the peer, not yet acknowledged.
    pub queued: usize,
    /// Last batch the peer accepted.
    pub last_ok: Option<Timestamp>,
    /// The last failure's message (kept after a later success).
    pub last_error: Option<String>,
}

/// The pull direction of a [`PeerView`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PullView {
    /// Last page fetched and stored.
    pub last_ok: Option<Timestamp>,
    /// The last failure's message (kept after a later success).
    pub last_error: Option<String>,
    /// 0 once the last page said nothing more was waiting; `null` while
    /// the peer has more (it does not say how many) or before any pull.
    pub behind: Option<u64>,
}

impl PeerStatusBoard {
    /// A board with one empty entry per configured peer.
    pub fn new(peers: &[PeerConfig]) -> PeerStatusBoard {
        let links = peers
            .iter()
            .map(|peer| (peer.party.clone(), Link::default()))
            .collect();
        PeerStatusBoard {
            links: Mutex::new(links),
        }
    }

    fn update(&self, peer: &Party, change: impl FnOnce(&mut Link)) {
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        // Only configured peers have an entry: the board does not grow.
        if let Some(link) = links.get_mut(peer) {
            change(link);
        }
    }

    /// The push task queued or dropped reports: `queued` are waiting now.
    pub fn push_queued(&self, peer: &Party, queued: usize) {
        self.update(peer, |link| link.push_queued = queued);
    }

    /// The push task finished a batch at `now_ms`.
    pub fn push_done(&self, peer: &Party, now_ms: i64, outcome: Result<(), &str>, queued: usize) {
        self.update(peer, |link| {
            link.push.record(now_ms, outcome);
            link.push_queued = queued;
        });
    }

    /// The pull task finished a page at `now_ms`; `Ok(more)` says whether
    /// the peer had more after it.
    pub fn pull_done(&self, peer: &Party, now_ms: i64, outcome: Result<bool, &str>) {
        self.update(peer, |link| {
            link.pull.record(now_ms, outcome.map(|_| ()));
            if let Ok(more) = outcome {
                link.pull_more = Some(more);
            }
        });
    }

    /// Every configured peer, in party order. State: `unknown` before any
    /// attempt; `down` when every direction tried has failed its last
    /// attempt; `degraded` when one has; `up` otherwise.
    pub fn views(&self, peers: &[PeerConfig]) -> Vec<PeerView> {
        let links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        let views: Vec<PeerView> = peers
            .iter()
            .map(|peer| view(peer, links.get(&peer.party).cloned().unwrap_or_default()))
            .collect();
        assert_eq!(views.len(), peers.len());
        views
    }
}

fn view(peer: &PeerConfig, link: Link) -> PeerView {
    let tried: Vec<&Direction> = [&link.push, &link.pull]
        .into_iter()
        .filter(|d| d.attempted())
        .collect();
    let n_failing = tried.iter().filter(|d| d.failing).count();
    let state = match (tried.len(), n_failing) {
        (0, _) => "unknown",
        (n_tried, n_failing) if n_failing == n_tried => "down",
        (_, 0) => "up",
        _ => "degraded",
    };
    let time = |ms: Option<i64>| ms.map(Timestamp::from_unix_ms);
    let last_contact = link.push.last_ok_ms.max(link.pull.last_ok_ms);
    PeerView {
        party: peer.party.clone(),
        url: peer.url.clone(),
        state,
        last_contact: time(last_contact),
        push: PushView {
            queued: link.push_queued,
            last_ok: time(link.push.last_ok_ms),
            last_error: link.push.last_error,
        },
        pull: PullView {
            last_ok: time(link.pull.last_ok_ms),
            last_error: link.pull.last_error,
            behind: match link.pull_more {
                Some(false) => Some(0),
                _ => None,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peers() -> Vec<PeerConfig> {
        ["JPN", "KOR"]
            .iter()
            .map(|code| PeerConfig {
                party: Party::new(code).unwrap(),
                url: format!("http://{code}"),
                public_key: trilat_core::NodeKey::from_seed([1; 32]).public_key(),
                cert_sha256: None,
            })
            .collect()
    }

    #[track_caller]
    fn check(steps: impl FnOnce(&PeerStatusBoard, &Party), expect: &str) {
        let peers = peers();
        let board = PeerStatusBoard::new(&peers);
        steps(&board, &peers[0].party);
        let jpn = &board.views(&peers)[0];
        let got = format!(
            "{} contact={:?} push={}/{:?} pull={:?}/{:?}",
            jpn.state,
            jpn.last_contact.map(|t| t.unix_ms()),
            jpn.push.queued,
            jpn.push.last_error,
            jpn.pull.last_error,
            jpn.pull.behind,
        );
        assert_eq!(got, expect);
    }

    #[test]
    fn states_follow_the_last_attempts() {
        check(|_, _| {}, "unknown contact=None push=0/None pull=None/None");
        check(
            |b, p| b.pull_done(p, 5, Ok(false)),
            "up contact=Some(5) push=0/None pull=None/Some(0)",
        );
        check(
            |b, p| b.pull_done(p, 5, Ok(true)),
            "up contact=Some(5) push=0/None pull=None/None",
        );
        check(
            |b, p| {
                b.pull_done(p, 5, Ok(false));
                b.push_done(p, 7, Err("refused"), 3);
            },
            "degraded contact=Some(5) push=3/Some(\"refused\") pull=None/Some(0)",
        );
        check(
            |b, p| {
                b.push_done(p, 4, Ok(()), 0);
                b.push_done(p, 7, Err("connection refused"), 2);
                b.pull_done(p, 8, Err("timed out"));
            },
            "down contact=Some(4) push=2/Some(\"connection refused\") pull=Some(\"timed out\")/None",
        );
        check(
            |b, p| {
                b.pull_done(p, 8, Err("timed out"));
                b.pull_done(p, 9, Ok(false));
            },
            "up contact=Some(9) push=0/None pull=Some(\"timed out\")/Some(0)",
        );
    }

    #[test]
    fn unknown_peers_and_long_errors_stay_bounded() {
        let peers = peers();
        let board = PeerStatusBoard::new(&peers);
        board.pull_done(&Party::new("PHL").unwrap(), 1, Ok(false));
        assert_eq!(board.links.lock().unwrap().len(), 2);
        board.pull_done(&peers[1].party, 1, Err(&"x".repeat(10_000)));
        let views = board.views(&peers);
        assert_eq!(
            views[1].pull.last_error.as_ref().unwrap().len(),
            ERROR_BYTES_MAX
        );
    }
}
