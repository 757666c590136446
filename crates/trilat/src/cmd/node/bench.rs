//! `trilat bench federation | missile`: three nodes on loopback in this
//! process, real HTTP and SQLite, timed end to end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::json;
use tokio::sync::broadcast;
use trilat_core::{Party, Report, ReportId};
use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
use trilat_node::config::Limits;
use trilat_node::{AppState, Config};

/// Longest wait for one report to reach a node before the bench gives up.
const VISIBLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a catch-up may take before the bench gives up.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(900);

/// The limits of the bench clusters: the defaults, with a short pull
/// interval and backoff so a restarted node starts pulling at once.
/// `TRILAT_BENCH_PULL_PAGE` (1..=1000, the store's query limit) sets the
/// pull page size, to measure its effect on catch-up.
fn bench_limits() -> Limits {
    let defaults = Limits::default();
    let pull_page_max = std::env::var("TRILAT_BENCH_PULL_PAGE")
        .ok()
        .and_then(|text| text.parse::<usize>().ok())
        .filter(|n| (1..=trilat_store::QUERY_LIMIT_MAX).contains(n))
        .unwrap_or(defaults.pull_page_max);
    Limits {
        pull_interval_ms: 500,
        backoff_ms_min: 50,
        backoff_ms_max: 1000,
        pull_page_max,
        ..defaults
    }
}

fn parties() -> [Party; 3] {
    ["USA", "JPN", "KOR"].map(|p| Party::new(p).expect("static party code"))
}

/// Prints what the figures depend on: build profile, cores, load.
fn print_conditions() {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_else(|_| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "build: {profile}; cores: {cores}; load average at start (1, 5, 15 min): {}",
        loadavg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}

/// CPU time (user + system) this process has used so far, from
/// `/proc/self/stat` (clock ticks of 1/100 s); zero where unavailable.
fn process_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // The command name (field 2) may hold spaces: count fields after ')'.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |idx: usize| fields.get(idx).and_then(|f| f.parse::<u64>().ok());
    // utime and stime are fields 14 and 15: 12 and 13 after the name.
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => Duration::from_millis((user + system) * 10),
        _ => Duration::ZERO,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    assert!(!sorted.is_empty(), "percentile of no samples");
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn print_latencies(what: &str, latencies: &mut [Duration]) {
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{what}, {} samples: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        ms(percentile(latencies, 0.50)),
        ms(percentile(latencies, 0.99)),
        latencies.last().map_or(0.0, |d| ms(*d)),
    );
}

/// Waits until `id` is stored at the node behind `live` (its live channel,
/// the one `/api/v1/stream` reads; subscribed before `id` was created). A
/// lagging channel falls back to the store.
async fn wait_visible(
    live: &mut broadcast::Receiver<Arc<Report>>,
    state: &AppState,
    id: ReportId,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + VISIBLE_TIMEOUT;
    loop {
        match tokio::time::timeout_at(deadline, live.recv()).await {
            Err(_) => bail!("report {id} not visible at {} after 30 s", state.party),
            Ok(Ok(report)) if report.id == id => return Ok(()),
            Ok(Ok(_)) => {}
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                if state.store.get(&id)?.is_some() {
                    return Ok(());
                }
            }
            Ok(Err(broadcast::error::RecvError::Closed)) => bail!("live channel closed"),
        }
    }
}

/// `trilat bench federation`.
pub(super) async fn federation(samples: usize, backlog: usize) -> anyhow::Result<()> {
    anyhow::ensure!(samples > 0, "--samples must be at least 1");
    print_conditions();
    let dir = std::env::temp_dir().join(format!("trilat-bench-{}", std::process::id()));
    let res = federation_in(&dir, samples, backlog).await;
    let _ = std::fs::remove_dir_all(&dir);
    res
}

async fn federation_in(
    dir: &std::path::Path,
    samples: usize,
    backlog: usize,
) -> anyhow::Result<()> {
    let parties = parties();
    let mut cluster = Cluster::start(ClusterSpec {
        parties: parties.to_vec(),
        dir: dir.to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: bench_limits(),
        engines: Default::default(),
    })
    .await?;
    let mut latencies = fan_out(&cluster, samples).await?;
    print_latencies(
        "fan-out create@USA -> stored and visible at JPN and KOR",
        &mut latencies,
    );
    if backlog == 0 {
        return Ok(());
    }
    // Catch-up: KOR down while USA stores `backlog` reports, then restarted.
    let kor = cluster.take("KOR").context("KOR is in the cluster")?;
    let kor_addr = kor.node.addr;
    kor.node.stop();
    drop(kor);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let usa_state = cluster.state("USA").clone();
    let stored = store_backlog(&usa_state, backlog).await?;
    println!("backlog: {stored} reports stored at USA while KOR was down");
    // JPN was not partitioned: let it take the backlog first (it pulls, as
    // the backlog bypassed USA's push), so KOR's catch-up is timed alone.
    let jpn_state = cluster.state("JPN").clone();
    let jpn_target = samples as u64 + backlog as u64;
    wait_received(&jpn_state, jpn_target, Instant::now()).await?;
    let config = Config::load(&dir.join("KOR/trilat.toml"))?;
    let kor_state = trilat_node::open(config)?;
    let cpu_before = process_cpu();
    let started = Instant::now();
    let listener = tokio::net::TcpListener::bind(kor_addr).await?;
    let kor = trilat_node::serve_on(kor_state.clone(), listener).await?;
    // The restarted node's counters start at zero: they count the backlog.
    wait_received(&kor_state, backlog as u64, started).await?;
    let elapsed = started.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_before);
    println!(
        "catch-up: {backlog} reports pulled by KOR after restart in {:.2} s = {:.0} reports/s \
         (process CPU {:.2} s = {:.0} reports per CPU-second, serving USA and receiving KOR; \
         {:.2} cores busy on average; pages of {})",
        elapsed.as_secs_f64(),
        backlog as f64 / elapsed.as_secs_f64(),
        cpu.as_secs_f64(),
        backlog as f64 / cpu.as_secs_f64().max(1e-3),
        cpu.as_secs_f64() / elapsed.as_secs_f64().max(1e-3),
        kor_state.config.limits.pull_page_max,
    );
    kor.stop();
    Ok(())
}

/// Publishes `samples` notes at USA one at a time; each latency runs from
/// the call to `publish` until both JPN and KOR have stored it.
async fn fan_out(cluster: &Cluster, samples: usize) -> anyhow::Result<Vec<Duration>> {
    let usa_state = cluster.state("USA").clone();
    let receivers = [cluster.state("JPN").clone(), cluster.state("KOR").clone()];
    let mut lives: Vec<_> = receivers.iter().map(|s| s.live.subscribe()).collect();
    let mut latencies = Vec::with_capacity(samples);
    for sample_idx in 0..samples {
        let draft = trilat_core::ReportDraft::new(
            usa_state.party.clone(),
            trilat_core::Kind::new("note").map_err(anyhow::Error::msg)?,
            trilat_core::Marking::new("UNCLASSIFIED", trilat_core::Tlp::Green, ["TRILAT"]),
            json!({ "text": format!("fan-out sample {sample_idx}") }),
            trilat_node::now(),
        );
        let started = Instant::now();
        let report = trilat_node::publish(&usa_state, draft).await?;
        for (live, state) in lives.iter_mut().zip(&receivers) {
            wait_visible(live, state, report.id).await?;
        }
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

/// Signs and stores `backlog` notes at USA straight into its store (no
/// push), as if created while the partition lasted.
async fn store_backlog(usa_state: &AppState, backlog: usize) -> anyhow::Result<usize> {
    let key = usa_state.key.clone();
    let store = usa_state.store.clone();
    let usa = usa_state.party.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut n_stored = 0;
        let mut batch = Vec::new();
        for backlog_idx in 0..backlog {
            let draft = trilat_core::ReportDraft::new(
                usa.clone(),
                trilat_core::Kind::new("note").map_err(anyhow::Error::msg)?,
                trilat_core::Marking::new("UNCLASSIFIED", trilat_core::Tlp::Green, ["TRILAT"]),
                json!({ "text": format!("backlog {backlog_idx}") }),
                trilat_node::now(),
            );
            let report = draft.sign(&key)?;
            let audit = trilat_store::AuditEvent::new(
                report.created_at,
                "node",
                trilat_store::AuditAction::Create,
            )
            .report(report.id);
            batch.push((report, audit));
            if batch.len() == 5000 || backlog_idx + 1 == backlog {
                n_stored += store.put_batch(&batch)?.len();
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

/// `trilat bench missile`.
pub(super) async fn missile(launches: usize) -> anyhow::Result<()> {
    anyhow::ensure!(launches > 0, "--launches must be at least 1");
    print_conditions();
    let dir = std::env::temp_dir().join(format!("trilat-bench-missile-{}", std::process::id()));
    let res = missile_in(&dir, launches).await;
    let _ = std::fs::remove_dir_all(&dir);
    res
}

/// Simulated time between launches: every flight is over and its track
/// deleted before the next one starts.
const LAUNCH_SPACING_S: f64 = 7200.0;

async fn missile_in(dir: &std::path::Path, launches: usize) -> anyhow::Result<()> {
    let parties = parties();
    let mut exercise = toml::Table::new();
    exercise.insert("exercise".into(), toml::Value::Boolean(true));
    let cluster = Cluster::start(ClusterSpec {
        parties: parties.to_vec(),
        dir: dir.to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: bench_limits(),
        engines: parties
            .iter()
            .map(|party| (party.clone(), exercise.clone()))
            .collect(),
    })
    .await?;
    let kor = cluster.node("KOR");
    let url = format!("{}/api/v1/missile/detections", kor.url);
    let detections = DetectionsPoster {
        http: reqwest::Client::new(),
        url,
        token: kor.admin_token().to_string(),
    };
    let partners = [cluster.state("USA").clone(), cluster.state("JPN").clone()];
    let kor_state = cluster.state("KOR").clone();
    // Past times, so every simulated detection is already "observed".
    let now_s = trilat_node::now_ms() as f64 / 1000.0;
    let first_launch_s = now_s - (launches as f64 + 1.0) * LAUNCH_SPACING_S;
    let mut latencies = Vec::with_capacity(launches);
    let mut n_scans = Vec::with_capacity(launches);
    for launch_idx in 0..launches {
        let launch_s = first_launch_s + launch_idx as f64 * LAUNCH_SPACING_S;
        let scans = simulated_scans(launch_s, launch_idx as u64 + 1)?;
        let (latency, scan_idx) =
            first_assessment(&detections, &kor_state, &partners, &scans).await?;
        latencies.push(latency);
        n_scans.push(scan_idx + 1);
    }
    n_scans.sort_unstable();
    println!(
        "first assessment after {}..{} radar scans per launch (median {})",
        n_scans[0],
        n_scans[n_scans.len() - 1],
        n_scans[n_scans.len() / 2]
    );
    print_latencies(
        "detection POST at KOR -> first missile.assessment stored at USA and JPN",
        &mut latencies,
    );
    Ok(())
}

/// A launch's radar detections as request bodies, one per scan (the
/// detections of one sensor at one time), in time order.
fn simulated_scans(launch_s: f64, seed: u64) -> anyhow::Result<Vec<String>> {
    let (registry, _truth, detections) = trilat_missile::sim::demo_scenario(launch_s, seed)
        .map_err(|e| anyhow::anyhow!("simulating a launch: {e}"))?;
    let mut scans: Vec<String> = Vec::new();
    let mut scan_key: Option<(usize, u64)> = None;
    for detection in detections {
        let key = (detection.sensor_idx, detection.time_s.to_bits());
        let record = trilat_missile::sensors::DetectionRecord {
            sensor: registry.sensors()[detection.sensor_idx].spec.id.clone(),
            time: trilat_missile::sensors::format_time(detection.time_s),
            range_m: detection.range_m,
            az_deg: detection.az_deg,
            el_deg: detection.el_deg,
            range_rate_mps: detection.range_rate_mps,
        };
        let line = serde_json::to_string(&record)?;
        match scans.last_mut() {
            Some(scan) if scan_key == Some(key) => {
                scan.push('\n');
                scan.push_str(&line);
            }
            _ => scans.push(line),
        }
        scan_key = Some(key);
    }
    Ok(scans)
}

/// Posts a launch's scans until one yields a `missile.assessment`; returns
/// the time from that POST until the assessment is stored at every
/// partner, and the index of that scan.
async fn first_assessment(
    detections: &DetectionsPoster,
    kor_state: &AppState,
    partners: &[AppState],
    scans: &[String],
) -> anyhow::Result<(Duration, usize)> {
    for (scan_idx, scan) in scans.iter().enumerate() {
        let mut kor_live = kor_state.live.subscribe();
        let mut lives: Vec<_> = partners.iter().map(|s| s.live.subscribe()).collect();
        let started = Instant::now();
        let ids = detections.post(scan).await?;
        let mut assessment = None;
        while let Ok(report) = kor_live.try_recv() {
            if report.kind.as_str() == "missile.assessment" && ids.contains(&report.id) {
                assessment = Some(report.id);
                break;
            }
        }
        let Some(id) = assessment else {
            continue;
        };
        for (live, state) in lives.iter_mut().zip(partners) {
            wait_visible(live, state, id).await?;
        }
        return Ok((started.elapsed(), scan_idx));
    }
    bail!(
        "no missile.assessment after all {} scans of a launch",
        scans.len()
    )
}

/// `POST /api/v1/missile/detections` at the engine's node.
struct DetectionsPoster {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl DetectionsPoster {
    /// Posts one scan; returns the ids of the reports it produced. Waits
    /// while the node answers 503 (its engines are still starting).
    async fn post(&self, scan: &str) -> anyhow::Result<Vec<ReportId>> {
        #[derive(serde::Deserialize)]
        struct Answer {
            reports: Vec<ReportId>,
        }
        let deadline = Instant::now() + VISIBLE_TIMEOUT;
        loop {
            let response = self
                .http
                .post(&self.url)
                .bearer_auth(&self.token)
                .body(scan.to_string())
                .send()
                .await?;
            let status = response.status();
            if status == reqwest::StatusCode::SERVICE_UNAVAILABLE && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            let text = response.text().await?;
            if !status.is_success() {
                bail!("detections answered {status}: {text}");
            }
            let answer: Answer = serde_json::from_str(&text)
                .with_context(|| format!("detections answer: {text}"))?;
            return Ok(answer.reports);
        }
    }
}
