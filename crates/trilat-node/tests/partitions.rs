//! Engine partitions (docs/scale.md, *Engine partitions*): USA's node as
//! two processes — child processes running the node as `trilat serve`
//! does ([`crate::bus::bus_child_node`]) — on one PostgreSQL database and
//! a NATS JetStream server of the test's own. The AIS vessels are split
//! into 16 partitions, each driven by the process holding its lease; any
//! process accepts NMEA lines and hands them to the owner through
//! JetStream.
//!
//! Every test compares what the node stored with the pure engine run in
//! this process over the same lines (the expected findings and track), so
//! a vessel tracked twice, or a finding published twice or lost, fails it.
//!
//! Needs `TRILAT_TEST_POSTGRES` (and `nats-server`, as scripts/nats runs
//! it; the tests check `TRILAT_TEST_NATS` is set, as the bus tests do):
//! skips, saying so, without them; fails under `CI=true` without them.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use trilat_ais::analyser::Analyser;
use trilat_ais::track::{Config as TrackerConfig, Event, Tracker};
use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
use trilat_node::config::Limits;
use trilat_node::Config;
use trilat_store::{AuditEntry, PostgresStore, ReportStore};

use crate::bus::{servers, start_process, Database, NatsServer, Process};
use crate::common::{free_tcp_addr, party};

/// The partitions of the AIS vessels (the default).
const N_PARTITIONS: usize = 16;
/// The AIS leases: the partitions' and the cross-vessel detection's.
const N_AIS_LEASES: usize = N_PARTITIONS + 1;
/// The lease of a partition, short so that a failover is quick to test.
const LEASE_MS: u64 = 3_000;
const RENEW_MS: u64 = 500;
/// Messages per request (a message's lines are sent together, as a
/// receiver does); requests go to A and B in turn.
const MESSAGES_PER_REQUEST: usize = 20;
/// How long a condition may take on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(120);

/// Waits, up to [`DEADLINE`], until `condition` holds.
async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !condition().await {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The messages of the demo's tanker as Japan's receiver heard them (one
/// vessel: one partition), each its NMEA lines joined by newlines, in time
/// order with tag-block times, so that the tracker's findings do not
/// depend on when the lines are processed.
fn tanker_messages() -> Vec<String> {
    tanker_messages_from(1_764_000_000)
}

/// [`tanker_messages`] of the demo started at `start_unix_s`.
fn tanker_messages_from(start_unix_s: i64) -> Vec<String> {
    demo_messages(start_unix_s, Some(trilat_ais::synth::DEMO_TANKER_MMSI))
}

/// The messages of the demo started at `start_unix_s` as Japan's receiver
/// heard them: of the vessel `mmsi`, or of every vessel.
fn demo_messages(start_unix_s: i64, mmsi: Option<u32>) -> Vec<String> {
    let feeds = trilat_ais::synth::demo_scenario(start_unix_s);
    let mut decoder = trilat_ais::Decoder::new();
    let mut group = Vec::new();
    let mut messages = Vec::new();
    for line in &feeds[0].lines {
        group.push(line.as_str());
        if let Ok(Some(message)) = decoder.decode_line(line.as_bytes()) {
            if mmsi.is_none_or(|mmsi| message.mmsi() == mmsi) {
                messages.push(group.join("\n"));
            }
            group.clear();
        }
    }
    assert!(messages.len() > 300, "{} messages", messages.len());
    messages
}

fn n_lines(messages: &[String]) -> usize {
    messages.iter().map(|m| m.lines().count()).sum()
}

/// What the node's tracker makes of `parts`, each part in a tracker of its
/// own (a new owner starts from nothing): the findings as
/// "event mmsi start end" with their count, and the positions per vessel.
fn expected(parts: &[&[String]]) -> (BTreeMap<String, usize>, BTreeMap<u64, u64>) {
    let mut findings = BTreeMap::new();
    let mut positions = BTreeMap::new();
    for part in parts {
        let zones = Arc::new(trilat_geo::ZoneIndex::new(trilat_geo::fixture_zones()));
        let tracker = Tracker::new(TrackerConfig::default())
            .with_zones(zones)
            .with_mids(Arc::new(trilat_ais::identity::MidTable::shipped().unwrap()))
            .with_ports(Arc::new(trilat_ais::ports::PortIndex::shipped().unwrap()));
        let mut analyser = Analyser::new(tracker);
        let mut events: Vec<Event> = Vec::new();
        for line in part.iter().flat_map(|message| message.lines()) {
            analyser
                .feed_line(line.as_bytes(), None, &mut events)
                .unwrap();
        }
        for event in &events {
            let value = serde_json::to_value(event).unwrap();
            *findings.entry(finding_key(&value)).or_default() += 1;
        }
        for vessel in analyser.tracker().summaries() {
            *positions.entry(u64::from(vessel.mmsi)).or_default() += vessel.positions;
        }
    }
    assert!(!findings.is_empty(), "the lines make findings");
    (findings, positions)
}

fn finding_key(payload: &serde_json::Value) -> String {
    format!(
        "{} {} {} {}",
        payload["event"], payload["mmsi"], payload["start_unix_ms"], payload["end_unix_ms"]
    )
}

/// The maritime findings the node stored, counted as [`expected`] does.
async fn stored_findings(process: &Process) -> BTreeMap<String, usize> {
    let (status, page) = process
        .reader
        .get("/api/v1/reports?kind=maritime.event&limit=1000")
        .await;
    assert_eq!(status, 200, "{page}");
    let mut findings = BTreeMap::new();
    for report in page["reports"].as_array().unwrap() {
        *findings.entry(finding_key(&report["payload"])).or_default() += 1;
    }
    findings
}

/// The positions per vessel in `process`'s tracker.
async fn tracked(process: &Process) -> BTreeMap<u64, u64> {
    let (status, body) = process.admin.get("/api/v1/ais/status").await;
    assert_eq!(status, 200, "{body}");
    body["vessels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["mmsi"].as_u64().unwrap(),
                v["positions"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Posts `messages` at `process`; every line is handed off (none refused).
async fn post_messages(process: &Process, messages: &[String]) {
    let api = &process.admin;
    let response = api
        .client
        .post(format!("{}/api/v1/ais/nmea", api.url))
        .bearer_auth(&api.token)
        .body(messages.join("\n"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    let n = n_lines(messages);
    assert_eq!(body["lines"], n, "{body}");
    assert_eq!(body["lines_refused"], 0, "{body}");
    assert_eq!(body["lines_handed_off"], n, "{body}");
}

/// Posts `messages` in requests of [`MESSAGES_PER_REQUEST`], to each of
/// `processes` in turn, each request answered before the next is sent.
async fn post_in_turn(processes: &[&Process], messages: &[String]) {
    for (idx, chunk) in messages.chunks(MESSAGES_PER_REQUEST).enumerate() {
        post_messages(processes[idx % processes.len()], chunk).await;
    }
}

/// Every audit entry of `store`.
fn audit_log(store: &dyn ReportStore) -> Vec<AuditEntry> {
    let mut entries: Vec<AuditEntry> = Vec::new();
    loop {
        let after = entries.last().map_or(0, |e| e.seq);
        let page = store.audit(after, 1000).unwrap();
        if page.is_empty() {
            return entries;
        }
        entries.extend(page);
    }
}

/// The last holder of each engine partition's lease (`ais:<k>`,
/// `missile:<group>`), as the store lists its leases. Its time left is not
/// looked at: a renewal late on a loaded machine is not a change of owner;
/// only another process taking the lease is.
fn partition_holders(store: &dyn ReportStore) -> BTreeMap<String, String> {
    store
        .leases()
        .unwrap()
        .into_iter()
        .filter(|lease| lease.name.starts_with("ais:") || lease.name.starts_with("missile:"))
        .map(|lease| (lease.name, lease.holder))
        .collect()
}

/// Whether the process with `pid` holds every AIS partition, the
/// cross-vessel detection and the missile sensor group `default` (no groups
/// are configured).
fn holds_all(store: &dyn ReportStore, pid: u32) -> bool {
    let holders = partition_holders(store);
    let pid = format!("USA-{pid}-");
    let n_ais = holders.keys().filter(|l| l.starts_with("ais:")).count();
    n_ais == N_AIS_LEASES
        && holders.contains_key("ais:cross-vessel")
        && holders.contains_key("missile:default")
        && holders.len() == N_AIS_LEASES + 1
        && holders.values().all(|h| h.starts_with(&pid))
}

/// USA as two processes on a database and a NATS server of the test's
/// own. A starts first and takes every partition; B stands by.
struct Setup {
    a: Process,
    b: Process,
    store: PostgresStore,
    js: async_nats::jetstream::Context,
    input_stream: String,
    _nats: NatsServer,
    _database: Database,
    _cluster: Cluster,
    _dir: tempfile::TempDir,
}

async fn setup(postgres: &str) -> Setup {
    let database = Database::create(postgres);
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(ClusterSpec {
        parties: vec![party("USA")],
        dir: dir.path().to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: Limits::default(),
        engines: BTreeMap::new(),
    })
    .await
    .unwrap();
    let usa = cluster.take("USA").unwrap();
    let tokens = usa.tokens.clone();
    drop(usa);
    let usa_dir = dir.path().join("USA");
    let mut config = Config::load(&usa_dir.join("trilat.toml")).unwrap();
    config.store = Some(database.url.as_str().into());
    config.bus = Some(nats.url.as_str().into());
    config.limits.link_lease_ms = LEASE_MS;
    config.limits.link_lease_renew_ms = RENEW_MS;
    config.tls.listen = None;
    config.peers.clear();
    config.listen = free_tcp_addr();
    let a = start_process(&config, "usa-a", &usa_dir, &tokens).await;
    let store = PostgresStore::open(&database.url).unwrap();
    let pid_a = a.child.id();
    wait_until("A holds every AIS partition", || async {
        holds_all(&store, pid_a)
    })
    .await;
    config.listen = free_tcp_addr();
    let b = start_process(&config, "usa-b", &usa_dir, &tokens).await;
    wait_until("B's engines started", || async {
        b.admin.get("/api/v1/ais/status").await.0 == 200
    })
    .await;
    let store_id = store.changes(None, 1).unwrap().next.store_id();
    let client = async_nats::connect(nats.url.as_str()).await.unwrap();
    Setup {
        a,
        b,
        store,
        js: async_nats::jetstream::new(client),
        input_stream: format!("TRILAT_USA_INPUT_{store_id:016x}"),
        _nats: nats,
        _database: database,
        _cluster: cluster,
        _dir: dir,
    }
}

impl Setup {
    /// Input waiting in JetStream: accepted, not yet processed by an owner
    /// (a work queue: a message goes once its owner acknowledged it);
    /// `None` if the server did not answer in time (a loaded machine).
    async fn n_input_waiting(&self) -> Option<u64> {
        let mut stream = self.js.get_stream(&self.input_stream).await.ok()?;
        Some(stream.info().await.ok()?.state.messages)
    }

    /// Waits until every input accepted so far has been processed.
    async fn processed(&self) {
        wait_until("every handed-off line processed by its owner", || async {
            self.n_input_waiting().await == Some(0)
        })
        .await;
    }

    fn signal(&self, process: &Process, signal: &str) {
        let pid = process.child.id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }
}

fn postgres_or_skip(test: &str) -> Option<String> {
    servers(test).map(|(postgres, _)| postgres)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_vessel_fed_at_either_process_makes_one_track_and_one_set_of_findings() {
    let Some(postgres) = postgres_or_skip("partitions::one_vessel_fed_at_either_process") else {
        return;
    };
    let setup = setup(&postgres).await;
    let lines = tanker_messages();
    post_in_turn(&[&setup.a, &setup.b], &lines).await;
    setup.processed().await;
    // Nothing is left to process: what is stored now is final.
    let (findings, positions) = expected(&[&lines]);
    assert_eq!(stored_findings(&setup.a).await, findings);
    // One track, at the owner, with every position of either half; none at B.
    assert_eq!(tracked(&setup.a).await, positions);
    assert_eq!(tracked(&setup.b).await, BTreeMap::new());
    assert!(holds_all(&setup.store, setup.a.child.id()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_owner_hands_its_partitions_over_and_no_input_is_lost() {
    let Some(postgres) = postgres_or_skip("partitions::a_killed_owner_hands_its_partitions_over")
    else {
        return;
    };
    let mut setup = setup(&postgres).await;
    let lines = tanker_messages();
    let (before, after) = lines.split_at(lines.len() / 2);
    post_in_turn(&[&setup.a, &setup.b], before).await;
    setup.processed().await;
    setup.signal(&setup.a, "-KILL");
    setup.a.child.wait().unwrap();
    let killed_at = Instant::now();
    // Accepted by B while no process drives the partitions: it waits in
    // JetStream for the next owner.
    post_in_turn(&[&setup.b], after).await;
    let pid_b = setup.b.child.id();
    wait_until("B holds every AIS partition", || async {
        holds_all(&setup.store, pid_b)
    })
    .await;
    let failover = killed_at.elapsed();
    eprintln!(
        "AIS partitions failover after kill -9: {} ms (lease {LEASE_MS} ms, renew {RENEW_MS} ms)",
        failover.as_millis()
    );
    setup.processed().await;
    // A processed the first half; B, starting from nothing, the second.
    let (findings, positions) = expected(&[before, after]);
    assert_eq!(stored_findings(&setup.b).await, findings);
    let (_, positions_after) = expected(&[after]);
    assert_eq!(tracked(&setup.b).await, positions_after);
    assert!(positions.values().sum::<u64>() > positions_after.values().sum::<u64>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_owner_stands_by_when_it_resumes_and_writes_nothing() {
    let Some(postgres) = postgres_or_skip("partitions::a_stopped_owner_stands_by") else {
        return;
    };
    let setup = setup(&postgres).await;
    let lines = tanker_messages();
    let third = lines.len() / 3;
    let (first, rest) = lines.split_at(third);
    let (second, last) = rest.split_at(third);
    post_in_turn(&[&setup.a, &setup.b], first).await;
    setup.processed().await;
    let holder_a = partition_holders(&setup.store)["ais:0"].clone();
    setup.signal(&setup.a, "-STOP");
    let pid_b = setup.b.child.id();
    wait_until("B holds every AIS partition", || async {
        holds_all(&setup.store, pid_b)
    })
    .await;
    post_in_turn(&[&setup.b], second).await;
    setup.processed().await;
    setup.signal(&setup.a, "-CONT");
    // A finds its tenures gone and audits each loss (16 AIS partitions,
    // the cross-vessel detection, the missile group)…
    wait_until("A audited the loss of every partition", || async {
        let lost = format!("lost by {holder_a}:");
        audit_log(&setup.store)
            .iter()
            .filter(|e| e.event.detail.contains(": lease ") && e.event.detail.contains(&lost))
            .count()
            == N_AIS_LEASES + 1
    })
    .await;
    // …and input it accepts now goes to B, which goes on with its track.
    post_in_turn(&[&setup.a], last).await;
    setup.processed().await;
    let continued: Vec<String> = [second, last].concat();
    let (findings, _) = expected(&[first, &continued]);
    assert_eq!(stored_findings(&setup.b).await, findings);
    let (_, positions) = expected(&[&continued]);
    assert_eq!(tracked(&setup.b).await, positions);
    assert!(holds_all(&setup.store, pid_b));
}

/// Every audit entry's detail in `store`.
fn audit_details(store: &dyn ReportStore) -> Vec<String> {
    audit_log(store)
        .into_iter()
        .map(|e| e.event.detail)
        .collect()
}

/// Moves the lease `name` to the process `to`, as an operator moving work
/// would: ends its holder's tenure and grants the lease to `to`'s holder
/// name in the same breath, so no third party takes it between; `to`
/// takes it up on its next ask (the grant is its own, extended). Returns
/// once `to` drives it and the holder before has audited its loss.
async fn move_lease(setup: &Setup, name: &str, to: &Process) {
    let (status, body) = to.admin.get("/api/v1/federation/leases").await;
    assert_eq!(status, 200, "{body}");
    let to_holder = body["this_process"].as_str().unwrap().to_string();
    let before = setup
        .store
        .leases()
        .unwrap()
        .into_iter()
        .find(|lease| lease.name == name)
        .unwrap();
    assert_ne!(before.holder, to_holder, "{name} is to move");
    let taken = format!("lease {name} taken by {to_holder} ");
    let lost = format!(
        "lease {name} (token {}) lost by {}:",
        before.token, before.holder
    );
    wait_until(&format!("{name} driven by {to_holder}"), || async {
        let details = audit_details(&setup.store);
        if details.iter().any(|d| d.contains(&taken)) {
            return details.iter().any(|d| d.contains(&lost));
        }
        let lease = setup
            .store
            .leases()
            .unwrap()
            .into_iter()
            .find(|lease| lease.name == name)
            .unwrap();
        if lease.holder != to_holder || lease.remaining_ms == 0 {
            // Not granted yet, or the grant expired before `to` asked (a
            // loaded machine): end whoever's tenure and grant it again.
            let tenure = trilat_store::Lease {
                name: lease.name.clone(),
                holder: lease.holder.clone(),
                token: lease.token,
                duration_ms: LEASE_MS,
            };
            setup.store.release_lease(&tenure).unwrap();
            let _ = setup
                .store
                .acquire_lease(name, &to_holder, LEASE_MS)
                .unwrap();
        }
        false
    })
    .await;
}

/// The demo's tanker and the DPRK vessel meet for hours at sea (an
/// encounter) after the DPRK vessel went dark (a gap, called so because
/// the tanker was heard meanwhile), and their MMSIs fall in different
/// partitions. With A driving the tanker's partition and B the other
/// vessel's, the lines posted at either process make the findings one
/// process makes, each once: the encounter and the gap found by the
/// holder of `ais:cross-vessel`, which is fed every vessel's lines in the
/// order they were accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encounter_between_vessels_driven_by_different_processes_is_found_once() {
    let Some(postgres) = postgres_or_skip("partitions::an_encounter_between_vessels_driven") else {
        return;
    };
    use trilat_ais::synth::{DEMO_DPRK_MMSI, DEMO_TANKER_MMSI};
    let partition = |mmsi: u32| format!("ais:{}", mmsi as usize % N_PARTITIONS);
    let (tanker, dprk) = (partition(DEMO_TANKER_MMSI), partition(DEMO_DPRK_MMSI));
    assert_ne!(tanker, dprk, "the two vessels are in different partitions");
    let setup = setup(&postgres).await;
    move_lease(&setup, &dprk, &setup.b).await;
    let messages = demo_messages(1_764_000_000, None);
    post_in_turn(&[&setup.a, &setup.b], &messages).await;
    setup.processed().await;
    let (findings, _) = expected(&[&messages]);
    let encounters: Vec<&String> = findings
        .keys()
        .filter(|k| k.starts_with("\"encounter\""))
        .collect();
    assert_eq!(encounters.len(), 1, "{findings:?}");
    let dprk_gap = format!("\"gap\" {DEMO_DPRK_MMSI} ");
    assert!(
        findings.keys().any(|k| k.starts_with(&dprk_gap)),
        "{findings:?}"
    );
    assert_eq!(stored_findings(&setup.a).await, findings);
    // The work stayed apart throughout: a tanker's and a DPRK vessel's
    // tracker in two processes, the cross-vessel detection at A.
    let holders = partition_holders(&setup.store);
    let pid = |process: &Process| format!("USA-{}-", process.child.id());
    assert!(holders[&tanker].starts_with(&pid(&setup.a)), "{holders:?}");
    assert!(holders[&dprk].starts_with(&pid(&setup.b)), "{holders:?}");
    assert!(
        holders["ais:cross-vessel"].starts_with(&pid(&setup.a)),
        "{holders:?}"
    );
    let (tracked_a, tracked_b) = (tracked(&setup.a).await, tracked(&setup.b).await);
    let vessels = |tracked: &BTreeMap<u64, u64>| tracked.keys().copied().collect::<Vec<_>>();
    assert!(
        vessels(&tracked_a).contains(&u64::from(DEMO_TANKER_MMSI)),
        "{tracked_a:?}"
    );
    assert_eq!(
        vessels(&tracked_b),
        [u64::from(DEMO_DPRK_MMSI)],
        "{tracked_b:?}"
    );
}

/// The detections of the missile demo's simulated launch, as sensors post
/// them (DETECTIONS.jsonl records).
fn detection_records() -> Vec<trilat_missile::sensors::DetectionRecord> {
    let (registry, _truth, detections) =
        trilat_missile::sim::demo_scenario(1_764_000_000.0, 7).unwrap();
    detections.iter().map(|d| d.to_record(&registry)).collect()
}

/// A JSON value with its objects' keys in order, to compare payloads.
fn canonical(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, String> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            let fields: Vec<String> = sorted.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// What one process's fuser makes of the requests `chunks`, each fused
/// and flushed in turn: "kind payload" with their count.
fn expected_products(
    chunks: &[&[trilat_missile::sensors::DetectionRecord]],
) -> BTreeMap<String, usize> {
    use trilat_missile::engine::{EngineEvent, EngineParams};
    let registry =
        trilat_missile::sensors::SensorRegistry::new(trilat_missile::sim::default_sensors())
            .unwrap();
    let zones = trilat_missile::zones::GeoZones::shipped().unwrap();
    let mut fuser =
        trilat_missile::MissileEngine::new(registry, Box::new(zones), EngineParams::default());
    let mut events = Vec::new();
    for chunk in chunks {
        for record in chunk.iter() {
            events.extend(fuser.feed_record(record).unwrap());
        }
        events.extend(fuser.flush());
    }
    let mut products = BTreeMap::new();
    for event in &events {
        let payload = match event {
            EngineEvent::Track(track) => serde_json::to_value(track),
            EngineEvent::Assessment(assessment) => serde_json::to_value(assessment),
            EngineEvent::Warning(warning) => serde_json::to_value(warning),
        }
        .unwrap();
        *products
            .entry(format!("{} {}", event.kind(), canonical(&payload)))
            .or_default() += 1;
    }
    assert!(!products.is_empty(), "the launch makes products");
    products
}

/// The missile products the node stored, as [`expected_products`] counts them.
async fn stored_products(process: &Process) -> BTreeMap<String, usize> {
    let mut products = BTreeMap::new();
    for kind in ["missile.track", "missile.assessment", "missile.warning"] {
        let (status, page) = process
            .reader
            .get(&format!("/api/v1/reports?kind={kind}&limit=1000"))
            .await;
        assert_eq!(status, 200, "{page}");
        let reports = page["reports"].as_array().unwrap();
        assert!(reports.len() < 1000, "{kind}: one page holds them all");
        for report in reports {
            *products
                .entry(format!("{kind} {}", canonical(&report["payload"])))
                .or_default() += 1;
        }
    }
    products
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detections_posted_at_either_process_are_fused_once_by_the_groups_owner() {
    let Some(postgres) = postgres_or_skip("partitions::detections_posted_at_either_process") else {
        return;
    };
    let setup = setup(&postgres).await;
    let records = detection_records();
    let chunks: Vec<&[_]> = records.chunks(10).collect();
    for (idx, chunk) in chunks.iter().enumerate() {
        let process = if idx % 2 == 0 { &setup.a } else { &setup.b };
        let body: Vec<String> = chunk
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        let api = &process.admin;
        let response = api
            .client
            .post(format!("{}/api/v1/missile/detections", api.url))
            .bearer_auth(&api.token)
            .body(body.join("\n"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["detections_handed_off"], chunk.len(), "{answer}");
    }
    setup.processed().await;
    // One fuser (A's, the group's owner) fused every request in order.
    assert_eq!(stored_products(&setup.b).await, expected_products(&chunks));
    assert!(holds_all(&setup.store, setup.a.child.id()));
}

/// NATS refuses a message larger than its `max_payload` (1 MiB on this
/// server, its default) and closes the connection that sent it, while a
/// request to the node may be 4 MiB. One vessel's lines in one request,
/// over 2 MiB (the demo's tanker, on days after day), are one partition's
/// input: B hands it off in pieces cut at line ends, each under the limit,
/// and A, the owner, tracks it as one stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_larger_than_a_bus_message_is_handed_off_in_pieces() {
    let Some(postgres) = postgres_or_skip("partitions::an_input_larger_than_a_bus_message") else {
        return;
    };
    let setup = setup(&postgres).await;
    let mut lines = Vec::new();
    let mut day = 0;
    while lines.iter().map(|m: &String| m.len() + 1).sum::<usize>() < 2 * 1024 * 1024 + 1024 {
        // Two days apart: each demo is over within them, so time runs forward.
        lines.extend(tanker_messages_from(1_764_000_000 + day * 2 * 86_400));
        day += 1;
    }
    post_messages(&setup.b, &lines).await;
    setup.processed().await;
    let mut input = setup.js.get_stream(&setup.input_stream).await.unwrap();
    let n_messages = input.info().await.unwrap().state.last_sequence;
    assert!(
        n_messages >= 3,
        "{n_messages} messages on the bus for over 2 MiB"
    );
    let (findings, positions) = expected(&[&lines]);
    assert!(
        findings.values().sum::<usize>() < 1000,
        "stored_findings reads one page"
    );
    assert_eq!(stored_findings(&setup.a).await, findings);
    assert_eq!(tracked(&setup.a).await, positions);
    assert_eq!(tracked(&setup.b).await, BTreeMap::new());
}
