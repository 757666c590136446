//! Cross-process live-stream latency on the party bus (docs/bus.md): two
//! `trilat serve` processes of USA on one PostgreSQL store and one NATS
//! JetStream server. Each sample: a note is POSTed at process A; the clock
//! stops when it arrives on process B's live stream (`/api/v1/stream`).
//! Included: HTTP create at A (signing, the store's commit), the
//! announcement on the bus, B's read of the store's feed and the SSE event.
//! The same for A's own live stream, and the create alone, for comparison.
//!
//! With `ais`, also the hand-off of engine input (docs/scale.md, *Engine
//! partitions*): each sample is one AIS position of a new vessel with a
//! DPRK MMSI, POSTed at B; the clock stops when the `identity-anomaly`
//! finding it makes is on A's live stream. Included: B's hand-off to
//! JetStream (acknowledged before B answers), the partition owner's
//! consumer, its tracker, the fenced store write, and the bus to A.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use tokio::sync::mpsc;
use trilat_core::{NodeKey, Party, Policy};
use trilat_node::config::{generate_token, token_sha256, Role, TokenConfig};
use trilat_node::Config;

use crate::measure::Latencies;

/// How long a sample may take before it counts as missed.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Answers once a process serves its API, and how long to wait for it.
const SERVING: &str = "/api/v1/reports?limit=1";
const SERVING_WAIT: Duration = Duration::from_secs(20);
/// Answers once a process's engines have started, and how long to wait.
const ENGINES: &str = "/api/v1/ais/status";
const ENGINES_WAIT: Duration = Duration::from_secs(60);

/// What to measure.
pub struct Spec {
    /// Notes created at A, one after another (one sample each).
    pub samples: usize,
    /// The PostgreSQL store both processes share (`postgres://…`).
    pub postgres: String,
    /// The NATS JetStream server (`nats://HOST:PORT`).
    pub nats: String,
    /// The `trilat` binary the processes run (`trilat serve --config …`).
    pub trilat_exe: PathBuf,
    /// Also measure AIS input handed to its partition's owner.
    pub ais: bool,
}

/// The figures of one run.
pub struct Figures {
    /// The POST at A until its answer (signed, stored).
    pub created: Latencies,
    /// Created at A → on A's own live stream (through A's follower too).
    pub a_to_a: Latencies,
    /// Created at A → on B's live stream.
    pub a_to_b: Latencies,
    /// Samples that did not arrive within [`SAMPLE_TIMEOUT`].
    pub n_missed: usize,
    /// With `ais`: a position POSTed at B → its finding on A's live stream,
    /// and the samples missed.
    pub ais_handoff: Option<(Latencies, usize)>,
}

/// A `trilat serve` child, killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts A and B, measures `spec.samples` notes, stops them.
pub async fn run(spec: Spec) -> anyhow::Result<Figures> {
    if spec.samples == 0 {
        bail!("--samples must be at least 1");
    }
    let dir = tempfile_dir()?;
    let result = measure(&spec, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(spec: &Spec, dir: &Path) -> anyhow::Result<Figures> {
    let usa = Party::new("USA")?;
    let (admin, reader) = (generate_token(), generate_token());
    let token = |token: &str, role, name: &str| TokenConfig {
        sha256: token_sha256(token),
        party: usa.clone(),
        role,
        name: name.into(),
    };
    let config = Config {
        party: usa.clone(),
        listen: free_port()?,
        data_dir: dir.join("data"),
        key_file: dir.join("node.key"),
        policy: Policy::trilateral_default(),
        tls: Default::default(),
        peers: Vec::new(),
        parties: Vec::new(),
        tokens: vec![
            token(&admin, Role::Admin, "admin"),
            token(&reader, Role::Reader, "reader"),
        ],
        limits: Default::default(),
        taxii: None,
        engines: None,
        tak: Vec::new(),
        store: Some(spec.postgres.clone().into()),
        bus: Some(spec.nats.clone().into()),
        bus_namespace: None,
        bus_tls: None,
    };
    config.validate()?;
    trilat_node::cluster::write_node_files(dir, &config, &NodeKey::generate())?;
    let a_url = format!("http://{}", config.listen);
    let _a = serve(spec, dir, "a", &config)?;
    let b_config = Config {
        listen: free_port()?,
        ..config
    };
    let b_url = format!("http://{}", b_config.listen);
    let _b = serve(spec, dir, "b", &b_config)?;
    let client = reqwest::Client::new();
    wait_answering(&client, &a_url, SERVING, &reader, SERVING_WAIT).await?;
    wait_answering(&client, &b_url, SERVING, &reader, SERVING_WAIT).await?;
    let mut on_a = Arrivals::new(follow_stream(&client, &a_url, &reader).await?);
    let mut on_b = Arrivals::new(follow_stream(&client, &b_url, &reader).await?);

    let (mut created, mut a_to_a, mut a_to_b) = (Vec::new(), Vec::new(), Vec::new());
    let mut n_missed = 0;
    for idx in 0..spec.samples {
        let started = Instant::now();
        let id = create_note(&client, &a_url, &admin, idx).await?;
        created.push(started.elapsed());
        let deadline = started + SAMPLE_TIMEOUT;
        let (at_a, at_b) = (
            on_a.wait(&id, deadline).await?,
            on_b.wait(&id, deadline).await?,
        );
        match (at_a, at_b) {
            (Some(at_a), Some(at_b)) => {
                a_to_a.push(at_a.saturating_duration_since(started));
                a_to_b.push(at_b.saturating_duration_since(started));
            }
            _ => n_missed += 1,
        }
    }
    let ais_handoff = if spec.ais {
        wait_answering(&client, &a_url, ENGINES, &admin, ENGINES_WAIT).await?;
        wait_answering(&client, &b_url, ENGINES, &admin, ENGINES_WAIT).await?;
        Some(ais_handoff(&client, &b_url, &admin, &mut on_a, spec.samples).await?)
    } else {
        None
    };
    Ok(Figures {
        created: Latencies::of(&mut created).context("no sample")?,
        a_to_a: Latencies::of(&mut a_to_a).context("no sample arrived")?,
        a_to_b: Latencies::of(&mut a_to_b).context("no sample arrived")?,
        n_missed,
        ais_handoff,
    })
}

/// `samples` AIS positions of new DPRK-flagged vessels POSTed at `b_url`,
/// each timed until its finding is on A's live stream.
async fn ais_handoff(
    client: &reqwest::Client,
    b_url: &str,
    token: &str,
    on_a: &mut Arrivals,
    samples: usize,
) -> anyhow::Result<(Latencies, usize)> {
    use trilat_ais::encode::{encode_position, sentences, PositionFields};
    let (mut latencies, mut n_missed) = (Vec::new(), 0);
    for idx in 0..samples {
        // MID 445 (DPRK): the tracker reports the vessel at its first position.
        let mmsi = 445_100_000 + idx as u32;
        let position = PositionFields {
            mmsi,
            lat: Some(38.5),
            lon: Some(124.5),
            speed_knots: Some(8.0),
            course_deg: Some(90.0),
            heading_deg: Some(90),
            status: 0,
            second: Some(0),
            class_b: false,
        };
        let lines = sentences(&encode_position(&position), 'A', 0, None, None);
        let started = Instant::now();
        let response = client
            .post(format!("{b_url}/api/v1/ais/nmea"))
            .bearer_auth(token)
            .body(lines.join("\n"))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("AIS line at B answered {}", response.status());
        }
        match on_a
            .wait(&format!("mmsi:{mmsi}"), started + SAMPLE_TIMEOUT)
            .await?
        {
            Some(at) => latencies.push(at.saturating_duration_since(started)),
            None => n_missed += 1,
        }
    }
    let latencies = Latencies::of(&mut latencies).context("no AIS finding arrived")?;
    Ok((latencies, n_missed))
}

/// One live stream's report events, by id, as they arrive.
struct Arrivals {
    receiver: mpsc::Receiver<(String, Instant)>,
    /// Ids that arrived before they were waited for (bounded: only this
    /// run's notes arrive, and each is taken once).
    early: HashMap<String, Instant>,
}

impl Arrivals {
    fn new(receiver: mpsc::Receiver<(String, Instant)>) -> Arrivals {
        Arrivals {
            receiver,
            early: HashMap::new(),
        }
    }

    /// When `id` arrived, or `None` if not by `deadline`.
    async fn wait(&mut self, id: &str, deadline: Instant) -> anyhow::Result<Option<Instant>> {
        if let Some(at) = self.early.remove(id) {
            return Ok(Some(at));
        }
        loop {
            match tokio::time::timeout_at(deadline.into(), self.receiver.recv()).await {
                Ok(Some((seen, at))) if seen == id => return Ok(Some(at)),
                Ok(Some((seen, at))) => {
                    self.early.insert(seen, at);
                }
                Ok(None) => bail!("a live stream ended"),
                Err(_) => return Ok(None),
            }
        }
    }
}

/// A fresh temporary directory.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("trilat-bench-bus-{:016x}", rand_u64()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

fn rand_u64() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

/// A free loopback port (bound, then let go).
fn free_port() -> anyhow::Result<std::net::SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// Writes `config` as `NAME.toml` in `dir` and runs `trilat serve` on it.
fn serve(spec: &Spec, dir: &Path, name: &str, config: &Config) -> anyhow::Result<Process> {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, config.to_toml())?;
    let child = Command::new(&spec.trilat_exe)
        .arg("serve")
        .arg("--config")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {} serve", spec.trilat_exe.display()))?;
    Ok(Process(child))
}

/// Waits until `path` at `url` answers with success (the process serves
/// it), polling every 100 ms for at most `within`.
async fn wait_answering(
    client: &reqwest::Client,
    url: &str,
    path: &str,
    token: &str,
    within: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let answer = client
            .get(format!("{url}{path}"))
            .bearer_auth(token)
            .send()
            .await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{url}{path} did not answer within {} s", within.as_secs())
}

/// POSTs a note at `url`; returns its SSE id (`OWNER/ID@VERSION`).
async fn create_note(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    idx: usize,
) -> anyhow::Result<String> {
    let note = serde_json::json!({
        "kind": "note",
        "marking": {"level": "UNCLASSIFIED", "tlp": "GREEN", "rel_to": ["USA"], "further_sharing": "none"},
        "payload": {"text": format!("bench bus {idx}")},
    });
    let response = client
        .post(format!("{url}/api/v1/reports"))
        .bearer_auth(token)
        .json(&note)
        .send()
        .await?;
    if response.status().as_u16() != 201 {
        bail!("create at A answered {}", response.status());
    }
    let body: serde_json::Value = response.json().await?;
    let report = &body["report"];
    Ok(format!(
        "{}/{}@{}",
        report["owner"].as_str().unwrap_or_default(),
        report["id"].as_str().unwrap_or_default(),
        report["version"]
    ))
}

/// Reads `url`'s live stream in a task: each report event's id and when it
/// arrived, in order; for a maritime finding also `mmsi:<MMSI>`.
async fn follow_stream(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> anyhow::Result<mpsc::Receiver<(String, Instant)>> {
    let mut response = client
        .get(format!("{url}/api/v1/stream"))
        .bearer_auth(token)
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("B's live stream answered {}", response.status());
    }
    let (sender, receiver) = mpsc::channel(1024);
    tokio::spawn(async move {
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            let at = Instant::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                let is_report = event.lines().any(|line| line == "event: report");
                let id = event.lines().find_map(|line| line.strip_prefix("id: "));
                if let (true, Some(id)) = (is_report, id) {
                    if sender.send((id.to_string(), at)).await.is_err() {
                        return;
                    }
                    if let Some(mmsi) = maritime_mmsi(&event) {
                        if sender.send((format!("mmsi:{mmsi}"), at)).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    });
    Ok(receiver)
}

/// The vessel of a maritime finding's SSE event (its `data:` is the report).
fn maritime_mmsi(event: &str) -> Option<u64> {
    let data = event.lines().find_map(|line| line.strip_prefix("data: "))?;
    let report: serde_json::Value = serde_json::from_str(data).ok()?;
    if !report["kind"].as_str()?.starts_with("maritime.") {
        return None;
    }
    report["payload"]["mmsi"].as_u64()
}
