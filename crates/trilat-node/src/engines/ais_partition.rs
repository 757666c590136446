//! AIS partitions (docs/scale.md, *Engine partitions*): with several
//! processes of one party on a bus, the AIS vessels are split by MMSI into
//! `[engines.ais] partitions` partitions (default 16), each driven by the
//! one process holding its lease `ais:<k>` ([`crate::lease_owner`]).
//!
//! * **Every process accepts input.** It splits NMEA lines by the MMSI of
//!   the message they make up (the lines of a multi-sentence message stay
//!   together) and hands each partition's lines to JetStream
//!   (`trilat.<party>.input.ais.<k>`, [`crate::bus::input`]), answering the
//!   sender once JetStream has stored them. It does so for the partitions it
//!   owns too: one queue per partition keeps that partition's input in the
//!   order it was accepted, whichever process accepted it.
//! * **The owner consumes.** The holder of `ais:<k>` reads the partition's
//!   durable consumer, one message at a time, feeds the lines to its
//!   tracker and publishes the events through the lease's fenced store; it
//!   acknowledges the message only while its lease surely runs, so input is
//!   never lost with an owner: unacknowledged, it is given again to the
//!   next owner (at least once: an owner that dies after publishing and
//!   before acknowledging has its message processed again).
//! * **What looks across vessels is detected in one place.** An
//!   encounter needs both vessels in one tracker, a gap other vessels
//!   heard meanwhile, a shared IMO number its other claimant, and these
//!   may be in partitions driven by different processes: the partitions'
//!   trackers leave those findings out, and every line accepted is also
//!   handed, in the order it was accepted, to the one process holding
//!   `ais:cross-vessel`, whose tracker raises them alone ([`CrossVessel`]).
//! * **Tracker state is not handed over.** A new owner starts the vessels
//!   of a partition it takes from what it has (nothing, usually): their
//!   next positions start new tracks, and events the old owner had open
//!   (a gap, a stay, an encounter) are not closed by it.
//!
//! Without a bus nothing here runs: the one process owns every vessel and
//! feeds its tracker directly, as it always did.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use trilat_ais::analyser::Analyser;
use trilat_ais::nmea::{parse_line, Line};
use trilat_ais::track::Event;
use trilat_ais::{DecodeStats, Decoder};

use super::{publish_finding_in, Finding};
use crate::bus::input::{self, Processed, Received};
use crate::bus::Bus;
use crate::lease_owner::{is_fenced, Owner, Ownership};
use crate::{AppError, AppState};

/// Partitions when `[engines.ais] partitions` is not given.
pub(super) const PARTITIONS_DEFAULT: u16 = 16;
/// Most partitions: each has a lease asked for by every process, a consumer,
/// and at its owner a fenced store (a PostgreSQL connection and a thread).
pub(super) const PARTITIONS_MAX: u16 = 64;
/// Multi-sentence messages awaiting their other lines at the router.
const FRAGMENT_GROUPS_MAX: usize = 64;
/// The engine's name in subjects and consumers.
const ENGINE: &str = "ais";

/// The partition of a vessel.
pub(super) fn partition_of(mmsi: u32, n_partitions: u16) -> u16 {
    assert!(n_partitions > 0);
    (mmsi % u32::from(n_partitions)) as u16
}

/// The lease of partition `k`.
pub(super) fn lease_name(k: u16) -> String {
    format!("ais:{k}")
}

/// The cross-vessel detection's name: its lease is `ais:cross-vessel`,
/// its input `trilat.<party>.input.<store>.ais.cross-vessel`.
const CROSS_VESSEL: &str = "cross-vessel";

/// What the router made of some lines: each partition's lines
/// (newline-separated), every vessel's lines in the order received (for
/// the cross-vessel detection), and the counts the sender is answered
/// with.
#[derive(Debug, Default)]
pub(super) struct Routed {
    pub(super) batches: BTreeMap<u16, Vec<u8>>,
    pub(super) every_vessel: Vec<u8>,
    pub(super) n_lines: usize,
    pub(super) n_refused: usize,
}

/// Which multi-sentence message a line belongs to.
type GroupKey = (Option<u8>, u8, Option<u32>);

/// A complete message: its vessel's partition and its lines.
struct RoutedMessage {
    partition: u16,
    lines: Vec<Vec<u8>>,
}

/// Splits lines by partition: decodes each message (its own decoder, only
/// to read the MMSI) and keeps a multi-sentence message's lines together.
pub(super) struct LineRouter {
    decoder: Decoder,
    /// Lines of multi-sentence messages not complete yet, oldest first.
    groups: VecDeque<(GroupKey, Vec<Vec<u8>>)>,
}

impl LineRouter {
    pub(super) fn new() -> LineRouter {
        LineRouter {
            decoder: Decoder::new(),
            groups: VecDeque::new(),
        }
    }

    /// Routes `lines` into `routed`.
    pub(super) fn route<'a>(
        &mut self,
        lines: impl Iterator<Item = &'a [u8]>,
        n_partitions: u16,
        routed: &mut Routed,
    ) {
        for line in lines {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            routed.n_lines += 1;
            match self.route_line(line, n_partitions) {
                Ok(Some(message)) => {
                    let batch = routed.batches.entry(message.partition).or_default();
                    for line in &message.lines {
                        batch.extend_from_slice(line);
                        batch.push(b'\n');
                        routed.every_vessel.extend_from_slice(line);
                        routed.every_vessel.push(b'\n');
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    routed.n_refused += 1;
                    tracing::debug!(%e, "AIS line refused");
                }
            }
        }
        debug_assert!(self.groups.len() <= FRAGMENT_GROUPS_MAX);
    }

    /// The message `line` completes, if it completes one.
    fn route_line(
        &mut self,
        line: &[u8],
        n_partitions: u16,
    ) -> Result<Option<RoutedMessage>, trilat_ais::Error> {
        let group = match parse_line(line) {
            Ok(Line::Ais(sentence)) if sentence.total > 1 => Some((
                (
                    sentence.seq_id,
                    sentence.channel,
                    sentence.tag.group.map(|g| g.2),
                ),
                sentence.number,
            )),
            _ => None,
        };
        if let Some((key, number)) = group {
            self.hold(key, number, line);
        }
        let decoded = self.decoder.decode_line(line);
        let mmsi = match decoded {
            Ok(Some(message)) => message.mmsi(),
            Ok(None) => return Ok(None),
            Err(e) => {
                if let Some((key, _)) = group {
                    self.groups.retain(|(k, _)| *k != key);
                }
                return Err(e);
            }
        };
        let lines = match group {
            Some((key, _)) => {
                let idx = self.groups.iter().position(|(k, _)| *k == key);
                idx.and_then(|idx| self.groups.remove(idx))
                    .map_or_else(|| vec![line.to_vec()], |(_, lines)| lines)
            }
            None => vec![line.to_vec()],
        };
        Ok(Some(RoutedMessage {
            partition: partition_of(mmsi, n_partitions),
            lines,
        }))
    }

    /// Keeps a line of a multi-sentence message until the message is
    /// complete; its first line starts the group again.
    fn hold(&mut self, key: GroupKey, number: u8, line: &[u8]) {
        if number == 1 {
            self.groups.retain(|(k, _)| *k != key);
        }
        if let Some((_, lines)) = self.groups.iter_mut().find(|(k, _)| *k == key) {
            if lines.len() < 9 {
                lines.push(line.to_vec());
            }
            return;
        }
        if self.groups.len() == FRAGMENT_GROUPS_MAX {
            self.groups.pop_front();
        }
        self.groups.push_back((key, vec![line.to_vec()]));
    }
}

/// The cross-vessel detection of a node on a bus: one tracker, driven by
/// the process holding `ais:cross-vessel`, fed the lines of every vessel,
/// that raises only the findings that look across vessels (encounters,
/// gaps, shared IMO numbers: [`trilat_ais::track::Detectors::AcrossVessels`]).
/// One queue keeps every vessel's lines in the order they were accepted,
/// so two vessels' traffic replayed in one request meets in the tracker
/// as it would in one process.
struct CrossVessel {
    ownership: Arc<Ownership>,
    analyser: Mutex<Analyser>,
}

/// The AIS partitions of a process on a bus: the router, who drives each
/// partition here, and the cross-vessel detection.
pub(super) struct Partitions {
    n_partitions: u16,
    bus: Arc<Bus>,
    router: Mutex<LineRouter>,
    ownerships: Vec<Arc<Ownership>>,
    cross_vessel: CrossVessel,
}

impl Partitions {
    /// Starts a lease task and an owner task per partition, and those of
    /// the cross-vessel detection (`cross_vessel`: its analyser).
    pub(super) fn start(
        state: &AppState,
        bus: Arc<Bus>,
        (n_partitions, cross_vessel): (u16, Analyser),
        holder: &str,
    ) -> Arc<Partitions> {
        assert!((1..=PARTITIONS_MAX).contains(&n_partitions));
        let ownerships = (0..n_partitions)
            .map(|k| {
                Ownership::new(
                    lease_name(k),
                    format!("AIS partition {k}"),
                    "engine:ais",
                    None,
                    holder.to_string(),
                )
            })
            .collect();
        let cross_vessel = CrossVessel {
            ownership: Ownership::new(
                format!("{ENGINE}:{CROSS_VESSEL}"),
                "AIS cross-vessel detection".to_string(),
                "engine:ais",
                None,
                holder.to_string(),
            ),
            analyser: Mutex::new(cross_vessel),
        };
        let partitions = Arc::new(Partitions {
            n_partitions,
            bus,
            router: Mutex::new(LineRouter::new()),
            ownerships,
            cross_vessel,
        });
        partitions.start_cross_vessel(state);
        for k in 0..n_partitions {
            let ownership = partitions.ownerships[usize::from(k)].clone();
            let tasks = state.tasks.clone();
            tasks.spawn(crate::lease_owner::run(state.clone(), ownership.clone()));
            let (state, owned_partitions) = (state.clone(), partitions.clone());
            let process = move |_owner, received: Received| {
                let (state, partitions) = (state.clone(), owned_partitions.clone());
                async move { partitions.process(&state, received).await }
            };
            let bus = partitions.bus.clone();
            tasks.spawn(input::drive(
                bus,
                ownership,
                (ENGINE, k.to_string()),
                process,
            ));
        }
        partitions
    }

    /// Starts the cross-vessel detection's lease task and owner task.
    fn start_cross_vessel(self: &Arc<Self>, state: &AppState) {
        let ownership = self.cross_vessel.ownership.clone();
        let tasks = state.tasks.clone();
        tasks.spawn(crate::lease_owner::run(state.clone(), ownership.clone()));
        let (state, partitions) = (state.clone(), self.clone());
        let process = move |owner, received: Received| {
            let (state, partitions) = (state.clone(), partitions.clone());
            async move {
                partitions
                    .detect_cross_vessel(&state, owner, received)
                    .await
            }
        };
        let partition = (ENGINE, CROSS_VESSEL.to_string());
        tasks.spawn(input::drive(
            self.bus.clone(),
            ownership,
            partition,
            process,
        ));
    }

    /// The cross-vessel detection's owner's work on one message: the lines
    /// into its tracker, the findings published as its owner.
    async fn detect_cross_vessel(
        &self,
        state: &AppState,
        owner: Arc<Owner>,
        received: Received,
    ) -> Processed {
        let received_ms = received.received_ms.unwrap_or_else(crate::now_ms);
        let mut events = Vec::new();
        {
            let mut analyser = lock(&self.cross_vessel.analyser);
            for line in received.body.split(|b| *b == b'\n') {
                if line.is_empty() {
                    continue;
                }
                if let Err(e) = analyser.feed_line(line, Some(received_ms), &mut events) {
                    tracing::debug!(%e, "AIS line refused by the cross-vessel detection");
                }
            }
        }
        if self.publish_cross_vessel(state, &owner, events).await {
            Processed::Left
        } else {
            Processed::Done
        }
    }

    /// Publishes findings as the cross-vessel detection's owner `owner`.
    /// True if a write was fenced (the tenure ended).
    async fn publish_cross_vessel(
        &self,
        state: &AppState,
        owner: &Arc<Owner>,
        events: Vec<Event>,
    ) -> bool {
        for event in &events {
            let finding = match super::maritime::finding_of(event) {
                Ok(finding) => finding,
                Err(e) => {
                    tracing::warn!(%e, "maritime event not encoded");
                    continue;
                }
            };
            if let Err(e) = publish_owned(state, owner, finding).await {
                if is_fenced(&e) {
                    self.cross_vessel
                        .ownership
                        .lose(state, owner, &e.message)
                        .await;
                    return true;
                }
                tracing::warn!(%e, event = event.name(), "maritime event not published");
            }
        }
        false
    }

    /// Starts the cross-vessel detection's tracker again from `analyser`
    /// (the demo's replay).
    pub(super) fn reset_cross_vessel(&self, analyser: Analyser) {
        *lock(&self.cross_vessel.analyser) = analyser;
    }

    /// Closes what the cross-vessel detection has open (encounters,
    /// ongoing gaps: the end of the demo's scenario) and publishes it, if
    /// this process drives the cross-vessel detection.
    pub(super) async fn finish_cross_vessel(&self, state: &AppState) {
        let Some(owner) = self.cross_vessel.ownership.current() else {
            return;
        };
        let mut events = Vec::new();
        lock(&self.cross_vessel.analyser).finish(&mut events);
        self.publish_cross_vessel(state, &owner, events).await;
    }

    /// What this process's router decoded of the lines it received.
    pub(super) fn decode_stats(&self) -> DecodeStats {
        lock(&self.router).decoder.stats().clone()
    }

    /// The owner's work on one message of a partition's input: the lines
    /// into this process's tracker, the events published.
    async fn process(&self, state: &AppState, received: Received) -> Processed {
        let Ok(engines) = state.engines.get() else {
            return Processed::Left;
        };
        let received_ms = received.received_ms.unwrap_or_else(crate::now_ms);
        let lines = received.body.split(|b| *b == b'\n');
        let (_, _, events) = engines.maritime.ingest(lines, received_ms);
        if self.publish(state, events).await {
            Processed::Left
        } else {
            Processed::Done
        }
    }

    /// Splits `lines` by partition.
    pub(super) fn route<'a>(&self, lines: impl Iterator<Item = &'a [u8]>) -> Routed {
        let mut routed = Routed::default();
        lock(&self.router).route(lines, self.n_partitions, &mut routed);
        routed
    }

    /// Hands each partition's lines to its owner through JetStream, and
    /// every line to the cross-vessel detection (first: if that fails,
    /// nothing was accepted); returns the number of lines handed off once
    /// JetStream stored them all.
    pub(super) async fn hand_off(
        &self,
        routed: Routed,
        received_ms: i64,
    ) -> Result<usize, AppError> {
        if !routed.every_vessel.is_empty() {
            let received = Received {
                body: routed.every_vessel,
                received_ms: Some(received_ms),
                flush: false,
            };
            input::hand_off(&self.bus, (ENGINE, CROSS_VESSEL), received).await?;
        }
        let mut n_handed_off = 0;
        for (k, batch) in routed.batches {
            let n_batch = batch.iter().filter(|b| **b == b'\n').count();
            let received = Received {
                body: batch,
                received_ms: Some(received_ms),
                flush: false,
            };
            input::hand_off(&self.bus, (ENGINE, &k.to_string()), received)
                .await
                .map_err(|mut e| {
                    e.message = format!(
                        "{} ({n_handed_off} lines of other vessels were accepted before it)",
                        e.message
                    );
                    e
                })?;
            n_handed_off += n_batch;
        }
        Ok(n_handed_off)
    }

    /// Publishes events, each through the fenced store of its vessel's
    /// partition; an event of a partition this process does not own is
    /// left to its owner. True if a write was fenced (a tenure ended).
    pub(super) async fn publish(&self, state: &AppState, events: Vec<Event>) -> bool {
        let mut fenced = false;
        for event in &events {
            let k = partition_of(event.mmsi, self.n_partitions);
            let ownership = &self.ownerships[usize::from(k)];
            let Some(owner) = ownership.current() else {
                tracing::debug!(
                    mmsi = event.mmsi,
                    k,
                    event = event.name(),
                    "AIS event of a partition owned elsewhere: not published here"
                );
                continue;
            };
            let finding = match super::maritime::finding_of(event) {
                Ok(finding) => finding,
                Err(e) => {
                    tracing::warn!(%e, "maritime event not encoded");
                    continue;
                }
            };
            if let Err(e) = publish_owned(state, &owner, finding).await {
                if is_fenced(&e) {
                    fenced = true;
                    ownership.lose(state, &owner, &e.message).await;
                } else {
                    tracing::warn!(%e, event = event.name(), "maritime event not published");
                }
            }
        }
        fenced
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn publish_owned(state: &AppState, owner: &Owner, finding: Finding) -> Result<(), AppError> {
    publish_finding_in(state, owner.store.clone(), finding)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilat_ais::encode::{encode_static, sentences, StaticFields};

    #[test]
    fn the_number_of_partitions_is_bounded() {
        use super::super::maritime::AisConfig;
        let with = |partitions| AisConfig {
            partitions,
            ..AisConfig::default()
        };
        assert_eq!(with(None).n_partitions(), PARTITIONS_DEFAULT);
        assert_eq!(with(None).check(), Ok(()));
        assert_eq!(with(Some(PARTITIONS_MAX)).check(), Ok(()));
        for bad in [0, PARTITIONS_MAX + 1] {
            let e = with(Some(bad)).check().unwrap_err();
            assert!(e.starts_with("ais.partitions"), "{e}");
        }
    }

    #[test]
    fn a_vessel_has_one_partition() {
        for n in [1, 2, 16, PARTITIONS_MAX] {
            for mmsi in [0, 1, 211_000_001, 999_999_999] {
                let k = partition_of(mmsi, n);
                assert!(k < n);
                assert_eq!(k, partition_of(mmsi, n));
            }
        }
        assert_eq!(partition_of(211_000_017, 16), (211_000_017 % 16) as u16);
    }

    #[test]
    fn a_multi_sentence_message_goes_whole_to_its_vessels_partition() {
        let statics = |mmsi| StaticFields {
            mmsi,
            imo: 9_000_000 + mmsi % 1000,
            callsign: "ABCD".into(),
            shipname: "TEST".into(),
            shiptype: 70,
            length_m: 100,
            beam_m: 20,
            draught_m: 5.0,
            destination: "BUSAN".into(),
        };
        let mut lines = Vec::new();
        for (idx, mmsi) in [211_000_001u32, 211_000_002].into_iter().enumerate() {
            let parts = sentences(&encode_static(&statics(mmsi)), 'A', idx as u8, None, None);
            assert_eq!(parts.len(), 2, "{parts:?}");
            lines.extend(parts);
        }
        // Interleave the two messages' sentences: the router keeps each whole.
        lines.swap(1, 2);
        let mut router = LineRouter::new();
        let mut routed = Routed::default();
        router.route(lines.iter().map(|l| l.as_bytes()), 16, &mut routed);
        assert_eq!(routed.n_lines, 4);
        assert_eq!(routed.n_refused, 0);
        assert_eq!(routed.batches.len(), 2, "{routed:?}");
        for (mmsi, k) in [(211_000_001u32, 1u16), (211_000_002, 2)] {
            assert_eq!(partition_of(mmsi, 16), k);
            let batch = String::from_utf8(routed.batches[&k].clone()).unwrap();
            assert_eq!(batch.lines().count(), 2, "{batch}");
            // The owner's own decoder makes the same message of them.
            let mut decoder = Decoder::new();
            let decoded: Vec<u32> = batch
                .lines()
                .filter_map(|l| decoder.decode_line(l.as_bytes()).unwrap().map(|m| m.mmsi()))
                .collect();
            assert_eq!(decoded, vec![mmsi]);
        }
        // The cross-vessel detection gets every message whole, in the order
        // each was completed.
        let every_vessel = String::from_utf8(routed.every_vessel.clone()).unwrap();
        let in_order = [0, 2, 1, 3].map(|idx| lines[idx].as_str());
        assert_eq!(every_vessel.lines().collect::<Vec<_>>(), in_order);
        // A bad line is refused and counted, not routed.
        router.route(std::iter::once(&b"!AIVDM,garbage"[..]), 16, &mut routed);
        assert_eq!((routed.n_lines, routed.n_refused), (5, 1));
    }
}
