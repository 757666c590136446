//! Federation on three loopback nodes (USA, JPN, KOR; real HTTP, a SQLite
//! store each): fan-out latency, then the catch-up rate of a node that was
//! down while its partner stored a backlog.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
use trilat_node::AppState;

use crate::measure::{process_cpu, Latencies};
use crate::nodes;

/// Longest a catch-up may take before the bench gives up.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(900);
/// Reports per store batch while writing the backlog.
const BACKLOG_BATCH: usize = 5000;

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Notes created one by one at USA for the fan-out latencies (≥ 1).
    pub samples: usize,
    /// Reports stored at USA while KOR is down (0: no catch-up).
    pub backlog: usize,
    /// The peers' pull page size (1..=the store's query limit; `None`: the default).
    pub pull_page_max: Option<usize>,
}

/// What was measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// From `publish` at USA until JPN and KOR have both stored the note.
    pub fan_out: Latencies,
    /// `None` when the spec's backlog was 0.
    pub catch_up: Option<CatchUp>,
}

/// KOR's catch-up after its restart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CatchUp {
    /// Reports stored at USA while KOR was down.
    pub n_stored: usize,
    /// Reports KOR received after its restart (the backlog).
    pub n_pulled: usize,
    /// From KOR's restart until it has received them all.
    pub wall: Duration,
    /// Process CPU over the same span: USA serving, KOR receiving.
    pub cpu: Duration,
    /// The pull page size in force.
    pub pull_page_max: usize,
}

/// Runs the federation bench in a temporary directory (removed afterwards).
pub async fn run(spec: Spec) -> anyhow::Result<Figures> {
    anyhow::ensure!(spec.samples > 0, "--samples must be at least 1");
    nodes::check_pull_page_max(spec.pull_page_max)?;
    nodes::in_temp_dir("federation", |dir| async move { run_in(&dir, spec).await }).await
}

async fn run_in(dir: &Path, spec: Spec) -> anyhow::Result<Figures> {
    let mut cluster = Cluster::start(ClusterSpec {
        parties: nodes::parties().to_vec(),
        dir: dir.to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: nodes::limits(spec.pull_page_max),
        engines: Default::default(),
    })
    .await?;
    let mut latencies = fan_out(&cluster, spec.samples).await?;
    let fan_out = Latencies::of(&mut latencies).context("no fan-out samples")?;
    let catch_up = if spec.backlog == 0 {
        None
    } else {
        Some(catch_up(&mut cluster, dir, spec).await?)
    };
    Ok(Figures { fan_out, catch_up })
}

/// Publishes `samples` notes at USA one at a time; each latency runs from
/// the call to `publish` until both JPN and KOR have stored it.
async fn fan_out(cluster: &Cluster, samples: usize) -> anyhow::Result<Vec<Duration>> {
    let usa_state = cluster.state("USA").clone();
    let receivers = [cluster.state("JPN").clone(), cluster.state("KOR").clone()];
    let mut lives: Vec<_> = receivers.iter().map(|s| s.live.subscribe()).collect();
    let mut latencies = Vec::with_capacity(samples);
    for sample_idx in 0..samples {
        let draft = nodes::note(&usa_state, format!("fan-out sample {sample_idx}"))?;
        let started = Instant::now();
        let report = trilat_node::publish(&usa_state, draft).await?;
        for (live, state) in lives.iter_mut().zip(&receivers) {
            nodes::wait_visible(live, state, &report.key()).await?;
        }
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

/// KOR down while USA stores the backlog, JPN takes it, then KOR restarts
/// and is timed until it has pulled it all.
async fn catch_up(cluster: &mut Cluster, dir: &Path, spec: Spec) -> anyhow::Result<CatchUp> {
    let kor = cluster.take("KOR").context("KOR is in the cluster")?;
    let kor_addr = kor.node.addr;
    kor.node.stop();
    drop(kor);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let usa_state = cluster.state("USA").clone();
    let n_stored = store_backlog(&usa_state, spec.backlog).await?;
    // JPN was not partitioned: let it take the backlog first (it pulls, as
    // the backlog bypassed USA's push), so KOR's catch-up is timed alone.
    let jpn_state = cluster.state("JPN").clone();
    let jpn_target = spec.samples as u64 + spec.backlog as u64;
    wait_received(&jpn_state, jpn_target, Instant::now()).await?;
    let kor_state = trilat_node::open(nodes::node_config(dir, "KOR")?)?;
    let cpu_before = process_cpu();
    let started = Instant::now();
    let listener = tokio::net::TcpListener::bind(kor_addr).await?;
    let kor = trilat_node::serve_on(kor_state.clone(), listener).await?;
    // The restarted node's counters start at zero: they count the backlog.
    wait_received(&kor_state, spec.backlog as u64, started).await?;
    let wall = started.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_before);
    kor.stop();
    Ok(CatchUp {
        n_stored,
        n_pulled: spec.backlog,
        wall,
        cpu,
        pull_page_max: kor_state.config.limits.pull_page_max,
    })
}

/// Signs and stores `backlog` notes at USA straight into its store, each
/// with its audit entry, as a node that creates reports while its peers are
/// unreachable would have them: stored, never pushed. (`publish` would
/// also try to push each one; the bench is about pulling.)
async fn store_backlog(usa_state: &AppState, backlog: usize) -> anyhow::Result<usize> {
    let state = usa_state.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut n_stored = 0;
        let mut batch = Vec::with_capacity(BACKLOG_BATCH.min(backlog));
        for backlog_idx in 0..backlog {
            let report = nodes::note(&state, format!("backlog {backlog_idx}"))?.sign(&state.key)?;
            let audit = trilat_store::AuditEvent::new(
                report.created_at,
                "node",
                trilat_store::AuditAction::Create,
            )
            .report(report.key());
            batch.push((report, audit));
            if batch.len() == BACKLOG_BATCH || backlog_idx + 1 == backlog {
                n_stored += state.store.put_batch(&batch)?.len();
                batch.clear();
            }
        }
        Ok(n_stored)
    })
    .await?
}

/// Waits until `state` has received `target` reports from peers.
async fn wait_received(state: &AppState, target: u64, started: Instant) -> anyhow::Result<()> {
    loop {
        let received = state
            .metrics
            .reports_received
            .load(std::sync::atomic::Ordering::Relaxed);
        if received >= target {
            return Ok(());
        }
        if started.elapsed() > CATCH_UP_TIMEOUT {
            bail!(
                "catch-up at {} incomplete after {} s: {received} of {target}",
                state.party,
                CATCH_UP_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
