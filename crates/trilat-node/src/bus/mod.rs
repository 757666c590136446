//! The party's internal bus (docs/bus.md): several `trilat serve`
//! processes of ONE party on one PostgreSQL store hear of each other's
//! reports through NATS JetStream.
//!
//! * The **store stays the truth.** Each process follows the store's
//!   gap-free change feed and withdrawal log from where it started
//!   ([`follower`]), and puts what it reads onto its own in-process channels
//!   (`state.live`, `state.withdrawn`): the live stream, the console and the
//!   TAK feed see every report once, whichever process stored it, because a
//!   cursor passes each version once.
//! * The **bus is the wake-up.** A process that stores a report announces it
//!   on `trilat.<party>.reports.<kind>` (withdrawals on
//!   `trilat.<party>.withdrawals`), `Nats-Msg-Id` = `OWNER/ID@VERSION`, so
//!   JetStream drops a repeated announcement; every other process wakes its
//!   follower when one arrives ([`nats`]). Without the bus (an outage, a
//!   restart, a full queue) the followers still read the feed every
//!   [`POLL_INTERVAL`]: slower, nothing lost.
//! * A write never waits for the bus and never fails because of it: the
//!   announcement goes into a bounded queue ([`ANNOUNCE_QUEUE_LEN_MAX`]); a
//!   full queue drops it, counted.
//!
//! Without `bus` in the config nothing here runs, and a stored report goes
//! straight onto the channels, as it always did ([`announce_report`]).
//!
//! Sovereignty: a bus carries one party's reports inside that party; no
//! party's broker is shared with another party. Between parties only the
//! federation protocol runs.

mod follower;
pub(crate) mod input;
mod nats;
mod tls;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use trilat_core::{Party, Report, Withdrawal};

use crate::AppState;

/// How often a follower reads the store's feed when nothing woke it: the
/// delay of a report between processes while the bus is down.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Announcements waiting for the bus, per process. Beyond it they are
/// dropped (and counted): the other processes then find those reports at
/// their next poll of the feed.
pub const ANNOUNCE_QUEUE_LEN_MAX: usize = 10_000;

/// [`Bus::health`] before the first connection or failure.
const UNKNOWN: u8 = 0;
/// [`Bus::health`]: connected, publishes acknowledged.
const UP: u8 = 1;
/// [`Bus::health`]: disconnected or publishes failing.
const DOWN: u8 = 2;

/// What a process tells the others it stored.
#[derive(Debug)]
enum Announcement {
    /// A version stored here that became its report's current one.
    Report(Arc<Report>),
    /// A withdrawal recorded here.
    Withdrawal(Withdrawal),
}

/// The bus of a node run as several processes: where it is, this process's
/// name on it, the announcement queue and the follower's wake-up.
pub struct Bus {
    /// `nats://HOST:PORT` as configured (may hold credentials: never logged).
    url: String,
    party: Party,
    /// The stream: `TRILAT_<PARTY>`, or `<NS>_TRILAT_<PARTY>` with a namespace.
    stream: String,
    /// The subjects' first tokens: `trilat.<PARTY>`, or `<NS>.trilat.<PARTY>`.
    subject_root: String,
    /// This process's name on the bus (random per start), so it can tell
    /// its own announcements from the others'.
    origin: String,
    queue: mpsc::Sender<Announcement>,
    queue_rx: Mutex<Option<mpsc::Receiver<Announcement>>>,
    /// Wakes the follower: a report stored here or announced by another process.
    wake: Notify,
    /// Whether a withdrawal was stored or announced since the follower last
    /// read the withdrawal log (which it otherwise reads at its polls only:
    /// one store read less per report).
    withdrawals_pending: AtomicBool,
    /// Whether the bus is up as far as this process knows (connected, last
    /// publish acknowledged): [`UNKNOWN`], [`UP`] or [`DOWN`]. Changes are
    /// logged and audited.
    health: AtomicU8,
    /// Whether it was ever up (the first connection is not a recovery).
    ever_up: AtomicBool,
    /// Announcements not delivered to the bus (queue full, publish failed).
    n_dropped: AtomicU64,
    /// Announcements the bus acknowledged.
    n_published: AtomicU64,
    /// The party's JetStream, set once the NATS client exists (it
    /// reconnects by itself): engine input is handed off through it
    /// ([`input`]).
    jetstream: OnceLock<async_nats::jetstream::Context>,
    /// The store's id: engine input is handed off on subjects of this store
    /// only ([`input`]), so two nodes of one party on one NATS server (a
    /// test server, staging beside production) never take each other's.
    store_id: OnceLock<u64>,
    /// Whether the input stream was made (or brought to its configuration)
    /// since the last failed hand-off.
    input_stream_ready: AtomicBool,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("url", &shown_url(&self.url))
            .field("party", &self.party)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Bus {
    /// The bus at `url` (checked by [`check_url`]) for `party`'s
    /// processes, its stream and subjects prefixed with `namespace` if
    /// given (checked by [`check_namespace`]).
    pub fn new(url: &str, party: Party, namespace: Option<&str>) -> Bus {
        let (queue, queue_rx) = mpsc::channel(ANNOUNCE_QUEUE_LEN_MAX);
        let origin = format!("{:016x}", rand::random::<u64>());
        debug_assert!(namespace.is_none_or(|ns| check_namespace(ns).is_ok()));
        let stream = stream_name(&party, namespace);
        let subject_root = match namespace {
            None => format!("trilat.{party}"),
            Some(ns) => format!("{ns}.trilat.{party}"),
        };
        Bus {
            url: url.to_string(),
            party,
            stream,
            subject_root,
            origin,
            queue,
            queue_rx: Mutex::new(Some(queue_rx)),
            wake: Notify::new(),
            withdrawals_pending: AtomicBool::new(false),
            health: AtomicU8::new(UNKNOWN),
            ever_up: AtomicBool::new(false),
            n_dropped: AtomicU64::new(0),
            n_published: AtomicU64::new(0),
            jetstream: OnceLock::new(),
            store_id: OnceLock::new(),
            input_stream_ready: AtomicBool::new(false),
        }
    }

    /// Whether the bus is up as far as this process knows.
    pub fn is_up(&self) -> bool {
        self.health.load(Ordering::Relaxed) == UP
    }

    /// Announcements not delivered to the bus since the start.
    pub fn n_dropped(&self) -> u64 {
        self.n_dropped.load(Ordering::Relaxed)
    }

    /// Announcements the bus acknowledged since the start.
    pub fn n_published(&self) -> u64 {
        self.n_published.load(Ordering::Relaxed)
    }

    /// The bus's lines of `/metrics` (Prometheus text).
    pub fn render_metrics(&self) -> String {
        let up = u64::from(self.is_up());
        format!(
            "# HELP trilat_bus_up Whether this process's bus is up (connected, publishes acknowledged).\n\
             # TYPE trilat_bus_up gauge\n\
             trilat_bus_up {up}\n\
             # HELP trilat_bus_announcements_published_total Announcements the bus acknowledged.\n\
             # TYPE trilat_bus_announcements_published_total counter\n\
             trilat_bus_announcements_published_total {}\n\
             # HELP trilat_bus_announcements_dropped_total Announcements not delivered to the bus (the others read those reports from the store).\n\
             # TYPE trilat_bus_announcements_dropped_total counter\n\
             trilat_bus_announcements_dropped_total {}\n",
            self.n_published(),
            self.n_dropped()
        )
    }

    fn announce(&self, announcement: Announcement) {
        if matches!(announcement, Announcement::Withdrawal(_)) {
            self.withdrawals_pending.store(true, Ordering::Relaxed);
        }
        if self.queue.try_send(announcement).is_err() {
            self.n_dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.wake.notify_one();
    }
}

/// Checks a `bus` value: `nats://HOST:PORT`, or `tls://HOST:PORT` (TLS
/// required). The error says what is wrong.
pub fn check_url(text: &str) -> Result<(), String> {
    let shown = shown_url(text);
    let Some(rest) = text
        .strip_prefix("nats://")
        .or_else(|| text.strip_prefix("tls://"))
    else {
        return Err(format!(
            "{shown:?} is not a bus: expected \"nats://HOST:PORT\" (NATS with JetStream) \
             or \"tls://HOST:PORT\" (the same over TLS)"
        ));
    };
    let host_port = rest.rsplit('@').next().unwrap_or(rest);
    let port = host_port.rsplit_once(':').map(|(_, port)| port);
    if host_port.is_empty() || host_port.contains('/') || port.is_none() {
        return Err(format!(
            "{shown:?} is not a bus: expected \"nats://HOST:PORT\" with a host and a port, nothing after"
        ));
    }
    text.parse::<async_nats::ServerAddr>()
        .map(|_| ())
        .map_err(|e| format!("{shown:?}: {e}"))
}

/// The stream of `party`'s bus: `TRILAT_<PARTY>`, or `<NS>_TRILAT_<PARTY>`
/// with the namespace `NS`.
pub fn stream_name(party: &Party, namespace: Option<&str>) -> String {
    match namespace {
        None => format!("TRILAT_{party}"),
        Some(ns) => format!("{ns}_TRILAT_{party}"),
    }
}

/// Deletes every stream of the bus namespaces `namespaces` (the party
/// streams and the input streams) from the NATS server at `url`, on a
/// thread and runtime of its own (the caller may be a runtime's thread, in
/// a `Drop`), waiting 10 s at most: what the tests' clusters clean up. A
/// stream already gone is not an error.
pub fn delete_namespace_streams(url: &str, namespaces: Vec<String>) -> Result<(), String> {
    let url = url.to_string();
    let deleting = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            use futures::TryStreamExt as _;
            let deleting = async {
                let client = async_nats::connect(url.as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                let js = async_nats::jetstream::new(client);
                let prefixes: Vec<String> = namespaces
                    .iter()
                    .map(|ns| format!("{ns}_TRILAT_"))
                    .collect();
                let names: Vec<String> = js
                    .stream_names()
                    .try_collect::<Vec<String>>()
                    .await
                    .map_err(|e| format!("listing the streams: {e}"))?
                    .into_iter()
                    .filter(|name| prefixes.iter().any(|p| name.starts_with(p.as_str())))
                    .collect();
                for name in &names {
                    match js.delete_stream(name).await {
                        Ok(_) => {}
                        Err(e) if e.to_string().contains("not found") => {}
                        Err(e) => return Err(format!("stream {name}: {e}")),
                    }
                }
                Ok(())
            };
            tokio::time::timeout(std::time::Duration::from_secs(10), deleting)
                .await
                .map_err(|_| "no answer within 10 s".to_string())?
        })
    });
    deleting
        .join()
        .map_err(|_| "the deleting thread panicked".to_string())?
}

/// The longest `bus_namespace`.
pub const NAMESPACE_LEN_MAX: usize = 32;

/// Checks a `bus_namespace` value: 1 to [`NAMESPACE_LEN_MAX`] of `A-Z`,
/// `a-z`, `0-9`, `_` and `-`, which a NATS subject token and a stream
/// name both accept. The error says what is wrong.
pub fn check_namespace(text: &str) -> Result<(), String> {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if text.is_empty() || text.len() > NAMESPACE_LEN_MAX || !plain {
        return Err(format!(
            "{:?} is not a bus namespace: 1 to {NAMESPACE_LEN_MAX} of A-Z, a-z, 0-9, _ and -",
            text.chars().take(NAMESPACE_LEN_MAX + 8).collect::<String>()
        ));
    }
    Ok(())
}

/// The URL without user and password, for logs and errors.
pub(crate) fn shown_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://…@{host}"),
            None => url.to_string(),
        },
        None => url.chars().take(40).collect(),
    }
}

/// A version this process stored that became its report's current one (and
/// is not withdrawn): onto the live stream. With a bus, announced to the
/// other processes, and the follower puts it onto the live stream (so each
/// process sees each version once, whoever stored it).
pub fn announce_report(state: &AppState, report: &Arc<Report>) {
    match &state.bus {
        None => {
            let _ = state.live.send(report.clone());
        }
        Some(bus) => bus.announce(Announcement::Report(report.clone())),
    }
}

/// A withdrawal this process recorded, with the copy it withdrew: onto the
/// live stream's `withdrawn` events; with a bus, as [`announce_report`].
pub fn announce_withdrawal(state: &AppState, withdrawn: Arc<(Report, Withdrawal)>) {
    match &state.bus {
        None => {
            let _ = state.withdrawn.send(withdrawn);
        }
        Some(bus) => bus.announce(Announcement::Withdrawal(withdrawn.1.clone())),
    }
}

/// Starts the bus of `state`, if it has one: finds the heads of the store's
/// feeds (what is stored from now on is delivered), then runs the follower
/// and the NATS connection. Returns their tasks (none without a bus).
pub async fn start(
    state: &AppState,
) -> Result<Vec<tokio::task::JoinHandle<()>>, crate::StartError> {
    let Some(bus) = state.bus.clone() else {
        return Ok(Vec::new());
    };
    let queue = bus
        .queue_rx
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .ok_or_else(|| {
            crate::StartError::Bus(
                "this node's bus runs already: a state is served once (open the node again)".into(),
            )
        })?;
    let store = state.store.clone();
    let (follower, store_id) = tokio::task::spawn_blocking(move || {
        let follower = follower::Follower::at_head(store.as_ref())?;
        let store_id = store.changes(None, 1)?.next.store_id();
        Ok::<_, trilat_store::StoreError>((follower, store_id))
    })
    .await
    .map_err(|e| crate::StartError::Bus(format!("finding the store's feed heads: {e}")))??;
    let _ = bus.store_id.set(store_id);
    let bus_tls = state.config.bus_tls.as_ref();
    let tls = if tls::wanted(&bus.url, bus_tls) {
        Some(tls::client_config(bus_tls).map_err(crate::StartError::Bus)?)
    } else {
        None
    };
    tracing::info!(
        bus = %shown_url(&bus.url),
        origin = %bus.origin,
        "bus: following the store from here; announcing on {}.> (stream {})",
        bus.subject_root,
        bus.stream
    );
    Ok(vec![
        tokio::spawn(follower::run(state.clone(), bus.clone(), follower)),
        tokio::spawn(nats::run(state.clone(), bus, queue, tls)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bus_is_nats_host_and_port() {
        for good in [
            "nats://127.0.0.1:4222",
            "nats://nats.usa.example:4222",
            "nats://user:secret@127.0.0.1:4222",
            "tls://nats.usa.example:4222",
        ] {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "127.0.0.1:4222",
            "http://127.0.0.1:4222",
            "nats://",
            "nats://127.0.0.1",
            "nats://127.0.0.1:4222/x",
            "nats://127.0.0.1:port",
        ] {
            let err = check_url(bad).unwrap_err();
            assert!(
                err.contains("nats://") || err.contains("invalid"),
                "{bad}: {err}"
            );
        }
        let err = check_url("nats://user:secret@127.0.0.1").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }

    /// Without a namespace the names are today's; with one, each is
    /// prefixed, so two nodes of one party on one server share nothing.
    #[test]
    fn a_namespace_prefixes_the_stream_and_every_subject() {
        let usa = Party::new("USA").unwrap();
        let plain = Bus::new("nats://127.0.0.1:4222", usa.clone(), None);
        assert_eq!(plain.stream, "TRILAT_USA");
        assert_eq!(
            plain.subjects(),
            ["trilat.USA.reports.>", "trilat.USA.withdrawals"]
        );
        let spaced = Bus::new("nats://127.0.0.1:4222", usa, Some("ci-7"));
        assert_eq!(spaced.stream, "ci-7_TRILAT_USA");
        assert_eq!(
            spaced.subjects(),
            ["ci-7.trilat.USA.reports.>", "ci-7.trilat.USA.withdrawals"]
        );
        let key = trilat_core::NodeKey::from_seed([5; 32]);
        let report = trilat_core::ReportDraft::new(
            Party::new("USA").unwrap(),
            trilat_core::Kind::new("missile.track").unwrap(),
            trilat_core::Marking::new("UNCLASSIFIED", trilat_core::Tlp::Green, ["USA"]),
            serde_json::json!({}),
            trilat_core::Timestamp::from_unix_ms(1_700_000_000_000),
        )
        .sign(&key)
        .unwrap();
        let narrowed = report.next_version(report.modified).sign(&key).unwrap();
        let withdrawal = Withdrawal::sign(&narrowed, &key).unwrap();
        let (subject, _, _) = Announcement::Report(Arc::new(report)).message(&spaced);
        assert_eq!(subject, "ci-7.trilat.USA.reports.missile.track");
        let (subject, _, _) = Announcement::Withdrawal(withdrawal).message(&spaced);
        assert_eq!(subject, "ci-7.trilat.USA.withdrawals");
        for good in ["a", "CI_1", "t-0123456789abcdef", &"x".repeat(32)] {
            assert_eq!(check_namespace(good), Ok(()), "{good}");
        }
        for bad in ["", "a.b", "a*", ">", "a b", "a/b", "ä", &"x".repeat(33)] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
    }

    /// An announcement names the version and never carries the report, so
    /// the largest report a node accepts (a payload of 1 MiB)
    /// is announced in a few hundred bytes, under any server's `max_payload`.
    #[test]
    fn an_announcement_names_the_version_whatever_the_reports_size() {
        let usa = Party::new("USA").unwrap();
        let bus = Bus::new("nats://127.0.0.1:4222", usa.clone(), None);
        let key = trilat_core::NodeKey::from_seed([6; 32]);
        // Just under core's payload limit (1 MiB canonical).
        let text = "x".repeat(1024 * 1024 - 64);
        let report = trilat_core::ReportDraft::new(
            usa,
            trilat_core::Kind::new("note").unwrap(),
            trilat_core::Marking::new("UNCLASSIFIED", trilat_core::Tlp::Green, ["USA"]),
            serde_json::json!({ "text": text }),
            trilat_core::Timestamp::from_unix_ms(1_700_000_000_000),
        )
        .sign(&key)
        .unwrap();
        assert!(serde_json::to_vec(&report).unwrap().len() > 1024 * 1024);
        let withdrawal = Withdrawal::sign(
            &report.next_version(report.modified).sign(&key).unwrap(),
            &key,
        )
        .unwrap();
        let (_, id, body) = Announcement::Report(Arc::new(report.clone())).message(&bus);
        assert_eq!(id, format!("{}@1", report.key()));
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let expect =
            serde_json::json!({"report": report.key().to_string(), "version": 1, "kind": "note"});
        assert_eq!(body, expect);
        let (_, id, body) = Announcement::Withdrawal(withdrawal).message(&bus);
        assert_eq!(id, format!("withdrawal:{}@2", report.key()));
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"withdrawal": report.key().to_string(), "version": 2})
        );
    }
}
