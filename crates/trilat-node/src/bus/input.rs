//! Input handed to a partition's owner (docs/scale.md, *Engine
//! partitions*): a process that receives engine input (AIS NMEA lines)
//! publishes it on `trilat.<party>.input.<store>.<engine>.<partition>`
//! (`<store>`: the store's id, 16 hex digits, so that two nodes of one
//! party on one NATS server keep apart); the owner consumes it
//! through the partition's durable consumer and acknowledges each message
//! once it has processed it, so nothing acknowledged to a sender is lost
//! when an owner dies: the next owner resumes the same consumer.
//!
//! The input stream is a work queue (a message is gone once its owner
//! acknowledged it), bounded in messages, bytes and age, on disk.

use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::{self, consumer, stream};

use super::Bus;
use crate::lease_owner::{owned, Owner, Ownership};
use crate::AppError;

/// The input stream keeps at most this many messages waiting…
const INPUT_MESSAGES_MAX: i64 = 100_000;
/// …this many bytes (a message is one request's lines of one partition)…
const INPUT_BYTES_MAX: i64 = 1 << 30;
/// …for at most this long: input nobody processed in a day is stale.
const INPUT_AGE_MAX: Duration = Duration::from_secs(24 * 3600);
/// How long a hand-off waits for JetStream's acknowledgement before the
/// sender is told the input was not accepted.
const PUBLISH_ACK_WAIT: Duration = Duration::from_secs(10);
/// How long an owner has to process and acknowledge a message before
/// JetStream gives it again (to the same or the next owner).
pub(crate) const OWNER_ACK_WAIT: Duration = Duration::from_secs(30);
/// How long an owner's fetch waits for input before it checks its tenure.
const OWNER_FETCH_WAIT: Duration = Duration::from_secs(1);
/// Wait before asking for a partition's consumer again after a failure.
const CONSUMER_RETRY_DELAY: Duration = Duration::from_secs(1);
/// The header carrying when the receiving process received the input
/// (ms since the Unix epoch): lines without their own time are tracked at
/// that time, not at the owner's.
const RECEIVED_HEADER: &str = "Trilat-Received-Ms";
/// The header saying the input ends a batch (missile detections: the owner
/// processes the last scan at once instead of waiting for the next).
const FLUSH_HEADER: &str = "Trilat-Flush";

/// The input stream of the bus's store `store_id`: `TRILAT_<PARTY>_INPUT_<STORE>`
/// (after the bus's namespace, if it has one).
pub(crate) fn stream_name(bus: &Bus, store_id: u64) -> String {
    format!("{}_INPUT_{store_id:016x}", bus.stream)
}

/// The subjects of the input stream of the bus's store `store_id`.
fn subjects(bus: &Bus, store_id: u64) -> String {
    format!("{}.input.{store_id:016x}.>", bus.subject_root)
}

/// The subject of one partition's input.
pub(crate) fn subject(bus: &Bus, store_id: u64, engine: &str, partition: &str) -> String {
    format!(
        "{}.input.{store_id:016x}.{engine}.{partition}",
        bus.subject_root
    )
}

/// One message of a partition's input, as its owner processes it.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    /// The input itself (AIS: NMEA lines; missile: detection JSON lines;
    /// newline-separated). Empty only when `flush` is set.
    pub(crate) body: Vec<u8>,
    /// When the receiving process received it.
    pub(crate) received_ms: Option<i64>,
    /// Whether it ends a batch.
    pub(crate) flush: bool,
}

/// One message of a partition's input, to acknowledge once processed.
pub(crate) struct Input {
    pub(crate) received: Received,
    message: jetstream::Message,
}

impl Input {
    /// Tells JetStream the input is processed: it is gone from the queue.
    pub(crate) async fn ack(&self) -> Result<(), String> {
        self.message.ack().await.map_err(|e| e.to_string())
    }
}

fn unavailable(what: String) -> AppError {
    AppError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "bus_unavailable",
        format!("{what}; the input was not accepted: send it again"),
    )
}

/// The party's JetStream and the store's id, once the bus has started.
fn jetstream_of(bus: &Bus) -> Result<(&jetstream::Context, u64), String> {
    match (bus.jetstream.get(), bus.store_id.get()) {
        (Some(js), Some(store_id)) => Ok((js, *store_id)),
        _ => Err("the party's bus is not connected yet".into()),
    }
}

/// The input stream, created or brought to this configuration.
async fn ensure_stream(
    bus: &Bus,
    js: &jetstream::Context,
    store_id: u64,
) -> Result<stream::Stream, String> {
    let config = stream::Config {
        name: stream_name(bus, store_id),
        description: Some(format!(
            "Trilat: engine input handed to the owner of its partition by {}'s processes (docs/scale.md)",
            bus.party
        )),
        subjects: vec![subjects(bus, store_id)],
        retention: stream::RetentionPolicy::WorkQueue,
        max_messages: INPUT_MESSAGES_MAX,
        max_bytes: INPUT_BYTES_MAX,
        max_age: INPUT_AGE_MAX,
        // A full queue refuses new input (the sender is told) rather than
        // dropping input already acknowledged.
        discard: stream::DiscardPolicy::New,
        storage: stream::StorageType::File,
        num_replicas: 1,
        ..Default::default()
    };
    let name = config.name.clone();
    if !bus.input_stream_ready.load(Ordering::Relaxed) {
        js.create_or_update_stream(config)
            .await
            .map_err(|e| format!("stream {name}: {e}"))?;
        bus.input_stream_ready.store(true, Ordering::Relaxed);
    }
    js.get_stream(&name)
        .await
        .map_err(|e| format!("stream {name}: {e}"))
}

/// Hands `body` to the owner of `engine`'s partition `partition`: returns
/// once JetStream has stored it (acknowledged the publish), so the caller
/// may acknowledge its sender. Errors are 503s: the input was not taken
/// (or, said in the error, only its first lines were).
///
/// An input larger than one message on the bus (the NATS server's
/// `max_payload`, 1 MiB by default, where a request may be 4 MiB) goes as
/// several messages, cut at line ends ([`pieces`]), published one after the
/// other: the partition's queue keeps them in order, and its one owner
/// feeds them to the same engine, whose decoder and tracker carry on across
/// messages. Only the last carries `flush`.
pub(crate) async fn hand_off(
    bus: &Bus,
    (engine, partition): (&str, &str),
    received: Received,
) -> Result<(), AppError> {
    assert!(
        !received.body.is_empty() || received.flush,
        "no empty input is handed off"
    );
    let (js, store_id) = jetstream_of(bus).map_err(unavailable)?;
    let piece_bytes_max = piece_bytes_max(js).await.map_err(unavailable)?;
    let pieces = pieces(&received.body, piece_bytes_max).map_err(|line_bytes| {
        AppError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "input_line_too_long",
            format!(
                "a line of {line_bytes} bytes is longer than the {piece_bytes_max} bytes one message \
                 on the party's bus holds (the NATS server's max_payload less {HEADERS_BYTES_RESERVED} \
                 for headers); the input was not accepted"
            ),
        )
    })?;
    assert!(!pieces.is_empty());
    if !bus.input_stream_ready.load(Ordering::Relaxed) {
        ensure_stream(bus, js, store_id)
            .await
            .map_err(unavailable)?;
    }
    let subject = subject(bus, store_id, engine, partition);
    let n_pieces = pieces.len();
    let mut n_lines_stored = 0;
    for (idx, piece) in pieces.into_iter().enumerate() {
        let mut message =
            jetstream::message::PublishMessage::build().payload(piece.to_vec().into());
        if let Some(received_ms) = received.received_ms {
            message = message.header(RECEIVED_HEADER, received_ms.to_string().as_str());
        }
        if received.flush && idx + 1 == n_pieces {
            message = message.header(FLUSH_HEADER, "1");
        }
        publish_piece(bus, js, store_id, &subject, message)
            .await
            .map_err(|e| match n_lines_stored {
                0 => unavailable(e),
                n => unavailable(format!(
                    "{e} (its first {n} lines were stored and will be processed)"
                )),
            })?;
        n_lines_stored += piece.iter().filter(|b| **b == b'\n').count();
    }
    Ok(())
}

/// Room kept in each message for its headers: NATS counts them in a
/// message's size against the server's `max_payload`.
const HEADERS_BYTES_RESERVED: usize = 1024;
/// The smallest `max_payload` engine input is handed off with (the server's
/// default is 1 MiB; an AIS line is at most 1 KiB).
const MAX_PAYLOAD_MIN: usize = 64 * 1024;

/// The most input bytes one message on the bus holds: the connected
/// server's `max_payload` less room for the headers. The client knows the
/// figure once a server has answered; a process that has just started (its
/// client connects in the background) waits for that up to
/// [`PUBLISH_ACK_WAIT`], as a publish would wait for the connection.
async fn piece_bytes_max(js: &jetstream::Context) -> Result<usize, String> {
    let client = js.client();
    let deadline = tokio::time::Instant::now() + PUBLISH_ACK_WAIT;
    let max_payload = loop {
        let max_payload = client.server_info().max_payload;
        if max_payload > 0 {
            break max_payload;
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "the party's bus is not connected: no NATS server answered within {} s",
                PUBLISH_ACK_WAIT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    if max_payload < MAX_PAYLOAD_MIN {
        return Err(format!(
            "the NATS server's max_payload is {max_payload} bytes, less than the \
             {MAX_PAYLOAD_MIN} engine input needs: raise max_payload in nats-server's configuration"
        ));
    }
    Ok(max_payload - HEADERS_BYTES_RESERVED)
}

/// `body`, newline-separated lines, cut at line ends into pieces of at most
/// `piece_bytes_max` bytes each, in order; one empty piece for an empty
/// body (a flush alone). A line longer than `piece_bytes_max` (with its
/// newline) cannot go: its length is the error.
fn pieces(body: &[u8], piece_bytes_max: usize) -> Result<Vec<&[u8]>, usize> {
    assert!(piece_bytes_max > 0);
    if body.len() <= piece_bytes_max {
        return Ok(vec![body]);
    }
    let mut pieces = Vec::with_capacity(body.len() / piece_bytes_max + 1);
    let mut rest = body;
    // Bounded: every round takes at least one byte off `rest`.
    while rest.len() > piece_bytes_max {
        let Some(end) = rest[..piece_bytes_max].iter().rposition(|b| *b == b'\n') else {
            let line_bytes = rest
                .iter()
                .position(|b| *b == b'\n')
                .map_or(rest.len(), |end| end + 1);
            return Err(line_bytes);
        };
        let (piece, after) = rest.split_at(end + 1);
        pieces.push(piece);
        rest = after;
    }
    if !rest.is_empty() {
        pieces.push(rest);
    }
    debug_assert_eq!(pieces.iter().map(|p| p.len()).sum::<usize>(), body.len());
    Ok(pieces)
}

/// Publishes one message of a hand-off and waits for JetStream's
/// acknowledgement, making the stream again once if it is gone.
async fn publish_piece(
    bus: &Bus,
    js: &jetstream::Context,
    store_id: u64,
    subject: &str,
    message: jetstream::message::PublishMessage,
) -> Result<(), String> {
    let published = async {
        let first = publish_acked(js, subject, message.clone()).await;
        match first {
            // The stream is gone (a wiped server) or not seen yet: make it, once more.
            Err(PublishErrorKind::StreamNotFound) => {
                bus.input_stream_ready.store(false, Ordering::Relaxed);
                ensure_stream(bus, js, store_id)
                    .await
                    .map_err(|e| e.to_string())?;
                publish_acked(js, subject, message)
                    .await
                    .map_err(|kind| kind.to_string())
            }
            other => other.map_err(|kind| kind.to_string()),
        }
    };
    match tokio::time::timeout(PUBLISH_ACK_WAIT, published).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            bus.input_stream_ready.store(false, Ordering::Relaxed);
            Err(format!("handing input to {subject} failed: {e}"))
        }
        Err(_) => Err(format!(
            "JetStream did not acknowledge the input on {subject} within {} s",
            PUBLISH_ACK_WAIT.as_secs()
        )),
    }
}

/// Publishes `message` on `subject` and waits for JetStream's acknowledgement.
async fn publish_acked(
    js: &jetstream::Context,
    subject: &str,
    message: jetstream::message::PublishMessage,
) -> Result<(), PublishErrorKind> {
    let ack = js
        .send_publish(subject.to_string(), message)
        .await
        .map_err(|e| e.kind())?;
    ack.await.map(|_| ()).map_err(|e| e.kind())
}

/// The durable consumer of one partition's input (named
/// `<engine>_<partition>`), created if it does not exist: every owner of
/// the partition, in turn, resumes it where the last one acknowledged.
pub(crate) async fn partition_consumer(
    bus: &Bus,
    engine: &str,
    partition: &str,
) -> Result<consumer::PullConsumer, String> {
    let (js, store_id) = jetstream_of(bus)?;
    let stream = ensure_stream(bus, js, store_id).await?;
    let name = format!("{engine}_{partition}");
    let config = consumer::pull::Config {
        durable_name: Some(name.clone()),
        description: Some(format!("the owner of {engine} partition {partition}")),
        filter_subject: subject(bus, store_id, engine, partition),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: OWNER_ACK_WAIT,
        // One message at a time: the partition's input is processed in order.
        max_ack_pending: 1,
        ..Default::default()
    };
    stream
        .get_or_create_consumer(&name, config)
        .await
        .map_err(|e| format!("consumer {name}: {e}"))
}

/// The next message of a partition's input, if one comes within `wait`.
pub(crate) async fn next_input(
    consumer: &consumer::PullConsumer,
    wait: Duration,
) -> Result<Option<Input>, String> {
    use futures::StreamExt as _;
    let mut batch = consumer
        .fetch()
        .max_messages(1)
        .expires(wait)
        .messages()
        .await
        .map_err(|e| e.to_string())?;
    let Some(message) = batch.next().await else {
        return Ok(None);
    };
    let message = message.map_err(|e| e.to_string())?;
    let header = |name: &str| {
        message
            .headers
            .as_ref()
            .and_then(|headers| headers.get(name))
            .map(|value| value.as_str().to_string())
    };
    let received = Received {
        received_ms: header(RECEIVED_HEADER).and_then(|value| value.parse().ok()),
        flush: header(FLUSH_HEADER).is_some_and(|value| value == "1"),
        body: message.payload.to_vec(),
    };
    Ok(Some(Input { received, message }))
}

/// What an owner's processing of one message came to.
pub(crate) enum Processed {
    /// Done: acknowledge it (if the tenure surely still runs).
    Done,
    /// Not done (a write as owner was refused, the engine is not there):
    /// leave it unacknowledged, to be given again.
    Left,
}

/// The owner task of one partition: for each tenure of this process,
/// consumes the partition's input, one message at a time, with `process`,
/// and acknowledges each message only if the tenure surely still runs by
/// this process's clock ([`Ownership::holds_now`]); a message not
/// acknowledged is given again after [`OWNER_ACK_WAIT`] to whoever owns
/// the partition then.
pub(crate) async fn drive<F, Fut>(
    bus: std::sync::Arc<Bus>,
    ownership: std::sync::Arc<Ownership>,
    (engine, partition): (&'static str, String),
    mut process: F,
) where
    F: FnMut(std::sync::Arc<Owner>, Received) -> Fut,
    Fut: std::future::Future<Output = Processed>,
{
    let mut owned_rx = ownership.subscribe();
    while let Some(owner) = owned(&mut owned_rx).await {
        let consumed = async {
            let consumer = partition_consumer(&bus, engine, &partition).await?;
            tracing::info!(engine, partition, "partition input: consuming");
            while ownership.holds(&owner) {
                if !ownership.holds_now(&owner) {
                    // Stalled past the lease: the lease task finds out whether it is lost.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                let Some(input) = next_input(&consumer, OWNER_FETCH_WAIT).await? else {
                    continue;
                };
                let processed = process(owner.clone(), input.received.clone()).await;
                if matches!(processed, Processed::Left) || !ownership.holds_now(&owner) {
                    tracing::warn!(
                        engine,
                        partition,
                        "partition input not acknowledged: the tenure ended while processing it"
                    );
                    continue;
                }
                input.ack().await?;
            }
            Ok::<_, String>(())
        };
        if let Err(e) = consumed.await {
            tracing::warn!(engine, partition, %e, "partition input: consumer failed; asking again");
            tokio::time::sleep(CONSUMER_RETRY_DELAY).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(body: &str, piece_bytes_max: usize, expect: Result<&[&str], usize>) {
        let got = pieces(body.as_bytes(), piece_bytes_max);
        let got = got.map(|pieces| {
            pieces
                .iter()
                .map(|p| std::str::from_utf8(p).unwrap())
                .collect::<Vec<_>>()
        });
        assert_eq!(
            got,
            expect.map(<[&str]>::to_vec),
            "{body:?} in {piece_bytes_max}"
        );
    }

    /// Cut at line ends only, each piece as full as the limit allows,
    /// nothing lost or reordered; a line that fits no piece is refused.
    #[test]
    fn input_is_cut_at_line_ends_into_pieces_a_message_holds() {
        check("", 8, Ok(&[""]));
        check("ab\ncd\n", 8, Ok(&["ab\ncd\n"]));
        check("ab\ncd\n", 6, Ok(&["ab\ncd\n"]));
        check("ab\ncd\n", 5, Ok(&["ab\n", "cd\n"]));
        check("ab\ncd\nef\n", 7, Ok(&["ab\ncd\n", "ef\n"]));
        check("ab\ncd\nef", 4, Ok(&["ab\n", "cd\n", "ef"]));
        check("a\nbcdef\ng\n", 4, Err(6));
        check("abcdef", 4, Err(6));
        let body = "0123456789\n".repeat(1000);
        let cut = pieces(body.as_bytes(), 1000).unwrap();
        assert_eq!(cut.len(), 12, "990 bytes each, then 110");
        assert!(cut.iter().all(|p| p.len() <= 1000 && p.ends_with(b"\n")));
        assert_eq!(cut.concat(), body.as_bytes());
    }
}
