//! The NATS side of the bus: the connection, the party's JetStream stream
//! (created or brought to this configuration at every connection), the
//! publisher of this process's announcements and the consumer that wakes
//! the follower on the other processes'.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, context::PublishErrorKind, stream};
use futures::stream::FuturesUnordered;
use futures::StreamExt as _;
use tokio::sync::mpsc;
use trilat_store::AuditAction;

use super::tls::TlsRefusal;
use super::{shown_url, Announcement, Bus};
use crate::{audit_event, AppState};

/// Publishes waiting for their acknowledgement at once, per process.
const IN_FLIGHT_MAX: usize = 256;
/// The stream keeps at most this many announcements…
const STREAM_MESSAGES_MAX: i64 = 1_000_000;
/// …this many bytes…
const STREAM_BYTES_MAX: i64 = 1 << 30;
/// …for at most this long (the store keeps the reports; the stream only
/// announces them).
const STREAM_AGE_MAX: Duration = Duration::from_secs(24 * 3600);
/// JetStream drops a second announcement with the same `Nats-Msg-Id` seen
/// within this window.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// Wait before subscribing again after the consumer failed.
const RESUBSCRIBE_DELAY: Duration = Duration::from_millis(500);
/// The header naming the process that announced.
const ORIGIN_HEADER: &str = "Trilat-Origin";

impl Bus {
    /// The subjects of the party's bus: reports by kind, and withdrawals.
    pub(super) fn subjects(&self) -> [String; 2] {
        [
            format!("{}.reports.>", self.subject_root),
            format!("{}.withdrawals", self.subject_root),
        ]
    }
}

/// The largest announcement body: an identity, a version and a kind.
pub(super) const ANNOUNCEMENT_BYTES_MAX: usize = 512;

impl Announcement {
    /// Subject on `bus`, `Nats-Msg-Id` and body. The body names the
    /// version (`{"report": "OWNER/ID", "version": N, "kind": K}`, or
    /// `{"withdrawal": "OWNER/ID", "version": N}`) and never carries the
    /// report: every process reads reports from the store the party's
    /// processes share (the consumers take headers only), so an
    /// announcement stays under [`ANNOUNCEMENT_BYTES_MAX`] whatever the
    /// report's size, far below any NATS server's `max_payload`
    /// (docs/scale.md, *Message sizes on the bus*).
    pub(super) fn message(&self, bus: &Bus) -> (String, String, Vec<u8>) {
        let (subject, id, body) = match self {
            Announcement::Report(report) => (
                format!("{}.reports.{}", bus.subject_root, report.kind),
                format!("{}@{}", report.key(), report.version),
                serde_json::json!({
                    "report": report.key().to_string(),
                    "version": report.version,
                    "kind": report.kind.as_str(),
                }),
            ),
            Announcement::Withdrawal(withdrawal) => (
                format!("{}.withdrawals", bus.subject_root),
                format!("withdrawal:{}@{}", withdrawal.key(), withdrawal.version),
                serde_json::json!({
                    "withdrawal": withdrawal.key().to_string(),
                    "version": withdrawal.version,
                }),
            ),
        };
        let body = body.to_string().into_bytes();
        assert!(body.len() <= ANNOUNCEMENT_BYTES_MAX, "{} bytes", body.len());
        (subject, id, body)
    }
}

/// Connects (in the background, again after every loss), then publishes
/// this process's announcements and wakes the follower on the others'.
/// With `tls` (a `tls://` URL or `[bus_tls]`), only over TLS, verified
/// by its config ([`super::tls`]).
pub(super) async fn run(
    state: AppState,
    bus: Arc<Bus>,
    queue: mpsc::Receiver<Announcement>,
    tls: Option<(rustls::ClientConfig, TlsRefusal)>,
) {
    let events_state = state.clone();
    let events_bus = bus.clone();
    let mut options = async_nats::ConnectOptions::new()
        .name(format!("trilat {} {}", bus.party, bus.origin))
        .retry_on_initial_connect();
    let mut refusal = None;
    if let Some((config, tls_refusal)) = tls {
        options = options.require_tls(true).tls_client_config(config);
        refusal = Some(tls_refusal);
    }
    let connecting = options
        .event_callback(move |event| {
            let state = events_state.clone();
            let bus = events_bus.clone();
            let refusal = refusal.clone();
            async move { on_event(&state, &bus, event, refusal.as_ref()).await }
        })
        .connect(bus.url.as_str())
        .await;
    let client = match connecting {
        Ok(client) => client,
        Err(e) => {
            mark_down(&state, &bus, &format!("cannot connect: {e}")).await;
            return;
        }
    };
    let js = jetstream::new(client.clone());
    let _ = bus.jetstream.set(js.clone());
    tokio::join!(
        publish(&state, &bus, &js, queue),
        consume(&state, &bus, &js, &client)
    );
}

/// What the NATS client reports about its connection: logged and audited
/// once per change ([`mark_up`], [`mark_down`]); a reconnection wakes the
/// follower (announcements missed meanwhile are in the store's feed). A
/// connection attempt the TLS verifier refused says why (the client's
/// own event does not).
async fn on_event(
    state: &AppState,
    bus: &Bus,
    event: async_nats::Event,
    refusal: Option<&TlsRefusal>,
) {
    if let async_nats::Event::ClientError(_) = &event {
        if let Some(reason) = refusal.and_then(TlsRefusal::take) {
            tracing::warn!("bus {}: {reason}", shown_url(&bus.url));
            mark_down(state, bus, &reason).await;
            return;
        }
    }
    match event {
        async_nats::Event::Connected => {
            mark_up(state, bus).await;
            bus.withdrawals_pending.store(true, Ordering::Relaxed);
            bus.wake.notify_one();
        }
        async_nats::Event::Disconnected => mark_down(state, bus, "disconnected").await,
        async_nats::Event::Closed => mark_down(state, bus, "connection closed").await,
        other => tracing::warn!(event = %other, "bus: {}", shown_url(&bus.url)),
    }
}

/// The bus is up: logged and audited if it was not.
async fn mark_up(state: &AppState, bus: &Bus) {
    if bus.health.swap(super::UP, Ordering::Relaxed) == super::UP {
        return;
    }
    let recovered = bus.ever_up.swap(true, Ordering::Relaxed);
    let detail = if recovered {
        format!(
            "bus {} recovered; {} announcements were not delivered meanwhile \
             (the other processes read those reports from the store)",
            shown_url(&bus.url),
            bus.n_dropped()
        )
    } else {
        format!("bus {} connected", shown_url(&bus.url))
    };
    tracing::info!("{detail}");
    audit(state, detail).await;
}

/// The bus is down: logged and audited if it was not already.
async fn mark_down(state: &AppState, bus: &Bus, reason: &str) {
    if bus.health.swap(super::DOWN, Ordering::Relaxed) == super::DOWN {
        return;
    }
    let detail = format!(
        "bus {} lost: {reason}; the processes of this node read each other's reports \
         from the store every {} ms until it is back",
        shown_url(&bus.url),
        super::POLL_INTERVAL.as_millis()
    );
    tracing::warn!("{detail}");
    audit(state, detail).await;
}

async fn audit(state: &AppState, detail: String) {
    let event = audit_event("bus", AuditAction::Other, detail);
    if let Err(e) = state.audit(event).await {
        tracing::error!(%e, "bus: cannot audit a change of the bus's state");
    }
}

/// The stream of the party's bus, created or brought to this configuration:
/// bounded in messages, bytes and age, oldest dropped first, on disk.
async fn ensure_stream(js: &jetstream::Context, bus: &Bus) -> Result<(), String> {
    let config = stream::Config {
        name: bus.stream.clone(),
        description: Some(format!(
            "Trilat: reports and withdrawals stored by {}'s processes (docs/bus.md)",
            bus.party
        )),
        subjects: bus.subjects().to_vec(),
        max_messages: STREAM_MESSAGES_MAX,
        max_bytes: STREAM_BYTES_MAX,
        max_age: STREAM_AGE_MAX,
        discard: stream::DiscardPolicy::Old,
        duplicate_window: DUPLICATE_WINDOW,
        storage: stream::StorageType::File,
        num_replicas: 1,
        ..Default::default()
    };
    js.create_or_update_stream(config)
        .await
        .map(|_| ())
        .map_err(|e| format!("stream {}: {e}", bus.stream))
}

/// Publishes the announcements of this process, at most [`IN_FLIGHT_MAX`]
/// awaiting their acknowledgement. A failure drops the announcement
/// (counted; the store has the report) and marks the bus down until the
/// next acknowledgement.
async fn publish(
    state: &AppState,
    bus: &Bus,
    js: &jetstream::Context,
    mut queue: mpsc::Receiver<Announcement>,
) {
    let mut stream_ready = false;
    let mut in_flight = FuturesUnordered::new();
    loop {
        tokio::select! {
            Some(acked) = in_flight.next(), if !in_flight.is_empty() => {
                let acked: Result<jetstream::publish::PublishAck, jetstream::context::PublishError> = acked;
                match acked {
                    Ok(_) => {
                        bus.n_published.fetch_add(1, Ordering::Relaxed);
                        mark_up(state, bus).await;
                    }
                    Err(e) => {
                        bus.n_dropped.fetch_add(1, Ordering::Relaxed);
                        if matches!(e.kind(), PublishErrorKind::StreamNotFound) {
                            stream_ready = false;
                        }
                        mark_down(state, bus, &format!("publish not acknowledged: {e}")).await;
                    }
                }
            }
            next = queue.recv(), if in_flight.len() < IN_FLIGHT_MAX => {
                let Some(announcement) = next else { break };
                if !stream_ready {
                    if let Err(e) = ensure_stream(js, bus).await {
                        bus.n_dropped.fetch_add(1, Ordering::Relaxed);
                        mark_down(state, bus, &e).await;
                        continue;
                    }
                    stream_ready = true;
                }
                let (subject, id, body) = announcement.message(bus);
                let message = jetstream::message::PublishMessage::build()
                    .payload(body.into())
                    .message_id(id)
                    .header(ORIGIN_HEADER, bus.origin.as_str());
                match js.send_publish(subject, message).await {
                    Ok(ack) => in_flight.push(std::future::IntoFuture::into_future(ack)),
                    Err(e) => {
                        bus.n_dropped.fetch_add(1, Ordering::Relaxed);
                        stream_ready = false;
                        mark_down(state, bus, &format!("publish failed: {e}")).await;
                    }
                }
            }
        }
    }
}

/// Wakes the follower on every announcement of another process, through an
/// ordered consumer of the party's stream (new messages, headers only);
/// subscribes again whenever it fails.
async fn consume(
    state: &AppState,
    bus: &Bus,
    js: &jetstream::Context,
    client: &async_nats::Client,
) {
    loop {
        if let Err(e) = consume_once(state, bus, js, client).await {
            tracing::debug!(%e, "bus: consumer ended; subscribing again");
            if bus.is_up() && client.connection_state() == async_nats::connection::State::Connected
            {
                mark_down(state, bus, &format!("consumer: {e}")).await;
            }
        }
        tokio::time::sleep(RESUBSCRIBE_DELAY).await;
    }
}

async fn consume_once(
    state: &AppState,
    bus: &Bus,
    js: &jetstream::Context,
    client: &async_nats::Client,
) -> Result<(), String> {
    ensure_stream(js, bus).await?;
    let stream = js
        .get_stream(&bus.stream)
        .await
        .map_err(|e| e.to_string())?;
    let config = consumer::push::OrderedConfig {
        deliver_subject: client.new_inbox(),
        filter_subject: format!("{}.>", bus.subject_root),
        headers_only: true,
        deliver_policy: consumer::DeliverPolicy::New,
        ..Default::default()
    };
    let mut messages = stream
        .create_consumer(config)
        .await
        .map_err(|e| e.to_string())?
        .messages()
        .await
        .map_err(|e| e.to_string())?;
    // Subscribed: the bus works, even if nothing is published here.
    mark_up(state, bus).await;
    // Whatever was announced while not subscribed is in the store's feed.
    bus.wake.notify_one();
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| e.to_string())?;
        let from_here = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get(ORIGIN_HEADER))
            .is_some_and(|origin| origin.as_str() == bus.origin);
        if !from_here {
            if message.subject.ends_with(".withdrawals") {
                bus.withdrawals_pending.store(true, Ordering::Relaxed);
            }
            bus.wake.notify_one();
        }
    }
    Err("the consumer's messages ended".into())
}
