//! The party bus (docs/bus.md): two USA processes — child processes that
//! run the node as `trilat serve` does — on one PostgreSQL database and one
//! NATS JetStream server. What either stores (created there, or received
//! from a partner) appears exactly once on both live streams, withdrawals
//! too, and a NATS restart during ingest loses nothing.
//!
//! Needs `TRILAT_TEST_POSTGRES` and `TRILAT_TEST_NATS` (scripts/test starts
//! both: scripts/postgres, scripts/nats); without them the tests skip,
//! saying so, and under CI (`CI=true`) they fail.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;
use trilat_core::{Kind, Marking, Report, ReportDraft, Tlp};
use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
use trilat_node::config::{Limits, Role};
use trilat_node::Config;

use crate::common::{eventually, free_tcp_addr, party, Api};
use crate::stream_withdrawn::{subscribe, SseEvent};

/// The config file a child process serves (see [`bus_child_node`]).
const CHILD_CONFIG_ENV: &str = "TRILAT_BUS_CHILD_CONFIG";
/// The stream of USA's bus.
const STREAM: &str = "TRILAT_USA";

/// A USA process of the node: serves the config in [`CHILD_CONFIG_ENV`]
/// (store and bus included) as `trilat serve` does, until its stdin closes.
/// Run on its own (no such variable), as a test, it does nothing.
#[test]
fn bus_child_node() {
    let Ok(path) = std::env::var(CHILD_CONFIG_ENV) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = Config::load(Path::new(&path)).unwrap();
        let listen = config.listen;
        let state = trilat_node::open(config).unwrap();
        let _node = trilat_node::serve(state, listen).await.unwrap();
        println!("serving on {listen}");
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
        })
        .await
        .unwrap();
    });
}

/// The PostgreSQL and NATS servers, or `None` (after saying so).
pub(crate) fn servers(test: &str) -> Option<(String, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var("TRILAT_TEST_POSTGRES"), var("TRILAT_TEST_NATS")) {
        (Some(postgres), Some(nats)) => Some((postgres, nats)),
        missing if std::env::var("CI").is_ok_and(|ci| ci == "true") => panic!(
            "under CI the bus tests need TRILAT_TEST_POSTGRES and TRILAT_TEST_NATS \
             (scripts/test starts both); set: {missing:?}"
        ),
        _ => {
            eprintln!(
                "SKIP: {test}: TRILAT_TEST_POSTGRES or TRILAT_TEST_NATS not set, the party bus \
                 is not tested (scripts/test starts both servers; see docs/bus.md)"
            );
            None
        }
    }
}

/// Runs `sql` on the server of `url` with a connection of its own.
fn execute(url: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
    let (url, sql) = (url.to_string(), sql.to_string());
    // A thread of its own: the caller may be inside a runtime.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            let driver = tokio::spawn(connection);
            let res = client.batch_execute(&sql).await;
            drop(client);
            let _ = driver.await;
            res
        })
    })
    .join()
    .unwrap()
}

/// A database of its own for one test (the processes' followers read the
/// whole store), dropped with it.
pub(crate) struct Database {
    server_url: String,
    name: String,
    pub(crate) url: String,
}

impl Database {
    pub(crate) fn create(server_url: &str) -> Database {
        let name = format!("bus_{:016x}", rand::random::<u64>());
        execute(server_url, &format!("CREATE DATABASE {name}")).unwrap();
        let (base, _) = server_url.rsplit_once('/').unwrap();
        Database {
            server_url: server_url.to_string(),
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE {} WITH (FORCE)", self.name);
        if let Err(e) = execute(&self.server_url, &sql) {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// A NATS server of the test's own (scripts/nats), to stop and start again.
pub(crate) struct NatsServer {
    dir: tempfile::TempDir,
    pub(crate) url: String,
}

impl NatsServer {
    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/nats")
    }

    pub(crate) fn start() -> NatsServer {
        NatsServer::start_with(None)
    }

    /// A server refusing messages larger than `max_payload` bytes if given
    /// (its default is 1 MiB).
    pub(crate) fn start_with(max_payload: Option<usize>) -> NatsServer {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(Self::script());
        command.args(["start", dir.path().to_str().unwrap()]);
        if let Some(max_payload) = max_payload {
            command.env("NATS_MAX_PAYLOAD", max_payload.to_string());
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "scripts/nats start: {out:?}");
        let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
        NatsServer { dir, url }
    }

    fn stop(&self) {
        let status = Command::new(Self::script())
            .args(["stop", self.dir.path().to_str().unwrap()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Starts it again on its port, with the streams it kept on disk.
    fn restart(&self) {
        let port = std::fs::read_to_string(self.dir.path().join("port")).unwrap();
        let out = Command::new(Self::script())
            .args(["start", self.dir.path().to_str().unwrap(), port.trim()])
            .output()
            .unwrap();
        assert!(out.status.success(), "scripts/nats start again: {out:?}");
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A USA process: the child and its API (admin and reader tokens).
pub(crate) struct Process {
    pub(crate) child: Child,
    pub(crate) admin: Api,
    pub(crate) reader: Api,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a USA process serving `config` (written beside `dir`'s files)
/// and waits until its API answers.
pub(crate) async fn start_process(
    config: &Config,
    name: &str,
    dir: &Path,
    tokens: &BTreeMap<(trilat_core::Party, Role), String>,
) -> Process {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, config.to_toml()).unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "bus::bus_child_node", "--nocapture"])
        .env(CHILD_CONFIG_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://{}", config.listen);
    let usa = party("USA");
    let process = Process {
        child,
        admin: Api::new(&url, &tokens[&(usa.clone(), Role::Admin)]),
        reader: Api::new(&url, &tokens[&(usa, Role::Reader)]),
    };
    let api = process.reader.clone();
    eventually(&format!("{name} serving"), move || {
        let api = api.clone();
        async move {
            let answer = api
                .client
                .get(format!("{}/api/v1/reports?limit=1", api.url))
                .bearer_auth(&api.token)
                .send()
                .await;
            answer.is_ok_and(|r| r.status().is_success())
        }
    })
    .await;
    process
}

/// USA (in this process only long enough to write its files) and JPN on
/// loopback; then USA's node as two processes on `postgres` and `nats`:
/// A keeps USA's peer listener and its link to JPN, B has neither (it hears
/// of JPN's reports from A, through the store and the bus).
struct Setup {
    cluster: Cluster,
    a: Process,
    b: Process,
    _dir: tempfile::TempDir,
}

async fn setup(postgres: &str, nats: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(ClusterSpec {
        parties: vec![party("USA"), party("JPN")],
        dir: dir.path().to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: Limits {
            pull_interval_ms: 200,
            backoff_ms_min: 50,
            backoff_ms_max: 500,
            ..Limits::default()
        },
        engines: BTreeMap::new(),
    })
    .await
    .unwrap();
    let usa = cluster.take("USA").unwrap();
    let tokens = usa.tokens.clone();
    // Stopped, so that process A can take USA's peer listener (JPN's link).
    drop(usa);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let usa_dir = dir.path().join("USA");
    let mut config = Config::load(&usa_dir.join("trilat.toml")).unwrap();
    config.store = Some(postgres.into());
    config.bus = Some(nats.into());
    config.listen = free_tcp_addr();
    let a = start_process(&config, "usa-a", &usa_dir, &tokens).await;
    config.listen = free_tcp_addr();
    config.tls.listen = None;
    config.peers.clear();
    let b = start_process(&config, "usa-b", &usa_dir, &tokens).await;
    Setup {
        cluster,
        a,
        b,
        _dir: dir,
    }
}

/// How many `name` events with SSE id `id` `events` holds.
fn n_events(events: &Mutex<Vec<SseEvent>>, name: &str, id: &str) -> usize {
    let events = events.lock().unwrap();
    events
        .iter()
        .filter(|e| e.name == name && e.id == id)
        .count()
}

/// Waits until both streams hold a `name` event for every id of `ids`, lets
/// more than a follower's poll pass (a duplicate would come by then), and
/// checks each is there exactly once and that nothing else is.
async fn exactly_once(streams: [&Mutex<Vec<SseEvent>>; 2], name: &str, ids: &[String]) {
    for (process, events) in ["A", "B"].iter().zip(streams) {
        eventually(
            &format!("{} {name} events on {process}'s live stream", ids.len()),
            || async { ids.iter().all(|id| n_events(events, name, id) > 0) },
        )
        .await;
    }
    tokio::time::sleep(trilat_node::bus::POLL_INTERVAL * 2 + Duration::from_millis(500)).await;
    for (process, events) in ["A", "B"].iter().zip(streams) {
        for id in ids {
            assert_eq!(n_events(events, name, id), 1, "{name} {id} on {process}");
        }
        let n_all = events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.name == name)
            .count();
        assert_eq!(n_all, ids.len(), "{name} events on {process}");
    }
}

fn version_id(report: &Report) -> String {
    format!("{}@{}", report.key(), report.version)
}

/// The number of messages in USA's stream (0 before it exists).
async fn n_stream_messages(js: &async_nats::jetstream::Context) -> u64 {
    match js.get_stream(STREAM).await {
        Ok(mut stream) => stream.info().await.unwrap().state.messages,
        Err(_) => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_either_process_stores_reaches_both_live_streams_once() {
    let Some((postgres, nats)) =
        servers("what_either_process_stores_reaches_both_live_streams_once")
    else {
        return;
    };
    let database = Database::create(&postgres);
    let js = async_nats::jetstream::new(async_nats::connect(nats.as_str()).await.unwrap());
    let messages_before = n_stream_messages(&js).await;
    let setup = setup(&database.url, &nats).await;
    let (a_events, b_events) = (
        subscribe(&setup.a.reader).await,
        subscribe(&setup.b.reader).await,
    );

    // Created at either process.
    let mut created = Vec::new();
    for idx in 0..20 {
        let process = if idx % 2 == 0 { &setup.a } else { &setup.b };
        let text = format!("note {idx}");
        created.push(
            process
                .admin
                .post_note(&text, "UNCLASSIFIED", "GREEN", &["USA"])
                .await,
        );
    }
    // Received from JPN by A (B has no link): on both streams too.
    let jpn = setup.cluster.state("JPN");
    let shared = trilat_node::publish(
        jpn,
        ReportDraft::new(
            party("JPN"),
            Kind::new("note").unwrap(),
            Marking::new("UNCLASSIFIED", Tlp::Green, ["JPN", "USA"]),
            json!({ "text": "a vessel of interest" }),
            trilat_node::now(),
        ),
    )
    .await
    .unwrap();
    created.push(shared.clone());
    let ids: Vec<String> = created.iter().map(version_id).collect();
    exactly_once([&a_events, &b_events], "report", &ids).await;

    // JPN narrows its report to itself: A receives the withdrawal, and both
    // streams say so once.
    let mut narrowed = shared.next_version(trilat_node::now());
    narrowed.marking = Marking::new("UNCLASSIFIED", Tlp::Green, ["JPN"]);
    let narrowed = trilat_node::publish(jpn, narrowed).await.unwrap();
    let withdrawal_id = format!("{}@{}", shared.key(), narrowed.version);
    exactly_once([&a_events, &b_events], "withdrawn", &[withdrawal_id]).await;

    // Every one was announced on the bus once: 21 versions, 1 withdrawal.
    let n_announced = created.len() as u64 + 1;
    eventually("every announcement in the stream", || async {
        n_stream_messages(&js).await - messages_before >= n_announced
    })
    .await;
    assert_eq!(n_stream_messages(&js).await - messages_before, n_announced);
    // JetStream drops an announcement repeated under the same Nats-Msg-Id.
    let repeated = async_nats::jetstream::message::PublishMessage::build()
        .payload(serde_json::to_vec(&created[0]).unwrap().into())
        .message_id(&ids[0]);
    let ack = js
        .send_publish("trilat.USA.reports.note", repeated)
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(ack.duplicate, "{ack:?}");
    assert_eq!(n_stream_messages(&js).await - messages_before, n_announced);

    // Created at B for JPN: B has no link; A, which drives JPN's, pushes
    // them (the follower offers the party's own versions, whoever stored
    // them), and JPN holds each.
    let pushed_before = n_pushed(&setup.a).await;
    let mut for_jpn = Vec::new();
    for idx in 0..3 {
        let text = format!("for JPN {idx}");
        let note = setup
            .b
            .admin
            .post_note(&text, "UNCLASSIFIED", "GREEN", &["USA", "JPN"])
            .await;
        for_jpn.push(note.key());
    }
    eventually("A pushes B's three notes to JPN", || async {
        n_pushed(&setup.a).await - pushed_before >= 3
    })
    .await;
    eventually("JPN holds B's three notes", || async {
        for_jpn
            .iter()
            .all(|key| jpn.store.get(key).unwrap().is_some())
    })
    .await;
    assert_eq!(n_pushed(&setup.b).await, 0, "B drives no link");

    // The processes' engine input stream reserves 1 GiB on the shared
    // server: deleted once they are gone (killed: nothing makes it again;
    // it is not there if no process took an engine partition by then).
    let store = trilat_store::PostgresStore::open(&database.url).unwrap();
    let store_id = trilat_store::ReportStore::changes(&store, None, 1)
        .unwrap()
        .next
        .store_id();
    drop(store);
    drop(setup);
    let input_stream = format!("{STREAM}_INPUT_{store_id:016x}");
    if let Err(e) = js.delete_stream(&input_stream).await {
        assert!(e.to_string().contains("not found"), "{input_stream}: {e}");
    }
}

/// The process's `/metrics` (Prometheus text).
async fn metrics(process: &Process) -> String {
    process
        .admin
        .client
        .get(format!("{}/metrics", process.admin.url))
        .bearer_auth(&process.admin.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The process's `trilat_reports_pushed_total`.
async fn n_pushed(process: &Process) -> u64 {
    metrics(process)
        .await
        .lines()
        .find_map(|line| line.strip_prefix("trilat_reports_pushed_total "))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_during_ingest_loses_nothing() {
    let Some((postgres, _)) = servers("a_nats_restart_during_ingest_loses_nothing") else {
        return;
    };
    let database = Database::create(&postgres);
    let nats = NatsServer::start();
    let setup = setup(&database.url, &nats.url).await;
    let (a_events, b_events) = (
        subscribe(&setup.a.reader).await,
        subscribe(&setup.b.reader).await,
    );

    // 90 notes, at A and B in turn; NATS is stopped after the 30th and
    // started again after the 60th.
    let mut created = Vec::new();
    for idx in 0..90 {
        if idx == 30 {
            nats.stop();
        }
        if idx == 60 {
            nats.restart();
        }
        let process = if idx % 2 == 0 { &setup.a } else { &setup.b };
        let text = format!("ingest {idx}");
        created.push(
            process
                .admin
                .post_note(&text, "UNCLASSIFIED", "GREEN", &["USA"])
                .await,
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ids: Vec<String> = created.iter().map(version_id).collect();
    exactly_once([&a_events, &b_events], "report", &ids).await;

    // Each process saw the bus go and come back on its own, and said so.
    for (name, process) in [("A", &setup.a), ("B", &setup.b)] {
        eventually(
            &format!("{name} audits the bus's loss and recovery"),
            || async {
                let (status, page) = process.admin.get("/api/v1/audit?limit=1000").await;
                assert_eq!(status, 200, "{page}");
                let details: Vec<String> = page["entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|e| e["event"]["actor"] == "bus")
                    .map(|e| {
                        e["event"]["detail"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string()
                    })
                    .collect();
                details.iter().any(|d| d.contains(" lost: "))
                    && details.iter().any(|d| d.contains(" recovered;"))
            },
        )
        .await;
        eventually(&format!("{name} says its bus is up"), || async {
            let response = process
                .admin
                .client
                .get(format!("{}/metrics", process.admin.url))
                .bearer_auth(&process.admin.token)
                .send()
                .await
                .unwrap();
            let text = response.text().await.unwrap();
            text.lines().any(|line| line == "trilat_bus_up 1")
        })
        .await;
    }
    // And announces again: a note created after the recovery is in the stream.
    let after = setup
        .b
        .admin
        .post_note("after the restart", "UNCLASSIFIED", "GREEN", &["USA"])
        .await;
    let js = async_nats::jetstream::new(async_nats::connect(nats.url.as_str()).await.unwrap());
    eventually("the note after the restart announced", || async {
        let Ok(stream) = js.get_stream(STREAM).await else {
            return false;
        };
        let last = stream
            .get_last_raw_message_by_subject("trilat.USA.reports.note")
            .await;
        last.is_ok_and(|message| {
            message
                .headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .is_some_and(|id| id.as_str() == version_id(&after))
        })
    })
    .await;
}

/// A NATS server refuses a message larger than its `max_payload` (1 MiB by
/// default; the largest report a node accepts is a little more, a 1 MiB
/// payload in its signed envelope) and closes the connection of the client
/// that sent it. Here the server's limit is 64 KiB, below a note of 64 KiB
/// of text: the note is announced all the same (the announcement names the
/// version; the processes read the report from the store), B's live stream
/// has it, and A's bus never dropped an announcement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_larger_than_a_bus_message_is_announced() {
    let Some((postgres, _)) = servers("a_report_larger_than_a_bus_message_is_announced") else {
        return;
    };
    const MAX_PAYLOAD: usize = 64 * 1024;
    let database = Database::create(&postgres);
    let nats = NatsServer::start_with(Some(MAX_PAYLOAD));
    let setup = setup(&database.url, &nats.url).await;
    let b_events = subscribe(&setup.b.reader).await;

    // The longest note text core accepts.
    let text = "x".repeat(64 * 1024);
    let large = setup
        .a
        .admin
        .post_note(&text, "UNCLASSIFIED", "GREEN", &["USA"])
        .await;
    assert!(serde_json::to_vec(&large).unwrap().len() > MAX_PAYLOAD);
    let id = version_id(&large);
    eventually("the large note on B's live stream", || async {
        n_events(&b_events, "report", &id) > 0
    })
    .await;
    let js = async_nats::jetstream::new(async_nats::connect(nats.url.as_str()).await.unwrap());
    assert_eq!(js.client().server_info().max_payload, MAX_PAYLOAD);
    let last_note = || async {
        let stream = js.get_stream(STREAM).await.ok()?;
        stream
            .get_last_raw_message_by_subject("trilat.USA.reports.note")
            .await
            .ok()
    };
    eventually("the large note announced on the bus", || async {
        last_note().await.is_some_and(|message| {
            message
                .headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .is_some_and(|message_id| message_id.as_str() == id)
        })
    })
    .await;
    let announcement = last_note().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&announcement.payload).unwrap();
    assert_eq!(
        body,
        json!({"report": large.key().to_string(), "version": large.version, "kind": "note"})
    );
    let metrics = metrics(&setup.a).await;
    assert!(
        metrics.contains("\ntrilat_bus_announcements_dropped_total 0\n"),
        "{metrics}"
    );
    assert_eq!(n_events(&b_events, "report", &id), 1);
}
