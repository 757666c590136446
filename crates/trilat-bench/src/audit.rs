//! Audited reads under concurrency, with the audit group commit and
//! without: one USA node (real HTTP, a SQLite store with its `FULL`
//! synchronous commits) and `clients` tasks each reading one report
//! (`GET /api/v1/reports/{owner}/{id}`, one audit entry per read) as fast
//! as the node answers, for a fixed time. Rounds alternate between
//! `limits.audit_group_max` at its default (the entries of concurrent reads
//! share a commit) and 1 (each read commits alone), in the order A B B A,
//! so the ratio is taken under the same machine load.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
use trilat_node::config::Limits;

use crate::measure::Latencies;
use crate::nodes;

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    /// Readers at once (≥ 1).
    pub clients: usize,
    /// How long each round reads.
    pub round: Duration,
    /// Pairs of rounds (each pair: grouped and alone), ≥ 1.
    pub pairs: usize,
}

/// One round's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    /// `limits.audit_group_max` in force (1: each read commits alone).
    pub audit_group_max: usize,
    /// Reads answered 200 in the round.
    pub n_reads: u64,
    /// The round's wall time.
    pub wall: Duration,
    /// Each read's latency.
    pub latencies: Latencies,
    /// Audit transactions committed, and the entries they wrote
    /// (`/metrics`), over the round.
    pub n_commits: u64,
    /// See `n_commits`.
    pub n_entries: u64,
}

impl Round {
    /// Reads answered per second.
    pub fn reads_per_s(&self) -> f64 {
        self.n_reads as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Runs the rounds in a temporary directory (removed afterwards).
pub async fn run(spec: Spec) -> anyhow::Result<Vec<Round>> {
    anyhow::ensure!(spec.clients > 0, "--clients must be at least 1");
    anyhow::ensure!(spec.pairs > 0, "--pairs must be at least 1");
    let grouped = Limits::default().audit_group_max;
    let order = (0..spec.pairs).flat_map(|pair| {
        if pair % 2 == 0 {
            [grouped, 1]
        } else {
            [1, grouped]
        }
    });
    let mut rounds = Vec::new();
    for (idx, audit_group_max) in order.enumerate() {
        let round = nodes::in_temp_dir(&format!("audit-{idx}"), |dir| async move {
            run_round(&dir, spec, audit_group_max).await
        })
        .await?;
        rounds.push(round);
    }
    Ok(rounds)
}

async fn run_round(dir: &Path, spec: Spec, audit_group_max: usize) -> anyhow::Result<Round> {
    let cluster = Cluster::start(ClusterSpec {
        parties: vec![nodes::parties()[0].clone()],
        dir: dir.to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: Limits {
            audit_group_max,
            ..nodes::limits(None)
        },
        engines: Default::default(),
    })
    .await?;
    let usa = cluster.node("USA");
    let state = cluster.state("USA").clone();
    let report = trilat_node::publish(&state, nodes::note(&state, "read me".into())?).await?;
    let url = format!("{}/api/v1/reports/{}/{}", usa.url, report.owner, report.id);
    let token = usa.admin_token().to_string();
    let client = reqwest::Client::new();
    let (commits_before, entries_before) = audit_counters(&state);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let readers: Vec<_> = (0..spec.clients)
        .map(|_| {
            let (client, url, token, stop) =
                (client.clone(), url.clone(), token.clone(), stop.clone());
            tokio::spawn(async move { read_until(&client, &url, &token, &stop).await })
        })
        .collect();
    tokio::time::sleep(spec.round).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for reader in readers {
        latencies.extend(reader.await.context("a reader task failed")??);
    }
    let wall = started.elapsed();
    let (commits_after, entries_after) = audit_counters(&state);
    let n_reads = latencies.len() as u64;
    Ok(Round {
        audit_group_max,
        n_reads,
        wall,
        latencies: Latencies::of(&mut latencies).context("no read was answered")?,
        n_commits: commits_after - commits_before,
        n_entries: entries_after - entries_before,
    })
}

/// Reads `url` one request after another until `stop`; each latency.
async fn read_until(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    stop: &AtomicBool,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let response = client.get(url).bearer_auth(token).send().await?;
        if !response.status().is_success() {
            bail!("GET {url} answered {}", response.status());
        }
        response.bytes().await?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

fn audit_counters(state: &trilat_node::AppState) -> (u64, u64) {
    let metrics = &state.metrics;
    (
        metrics.audit_commits.load(Ordering::Relaxed),
        metrics.audit_entries.load(Ordering::Relaxed),
    )
}
