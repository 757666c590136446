//! Missile warning across three loopback nodes: from the detection that
//! makes a launch's first assessment possible (POSTed to KOR, which runs
//! the missile engine) until that assessment is stored at USA and JPN.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use trilat_core::ReportId;
use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
use trilat_node::AppState;

use crate::measure::Latencies;
use crate::nodes;

/// Simulated time between launches: every flight is over and its track
/// deleted before the next one starts.
const LAUNCH_SPACING_S: f64 = 7200.0;

/// What was measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Detection POST at KOR → first `missile.assessment` stored at USA and JPN.
    pub first_assessment: Latencies,
    /// Radar scans POSTed per launch until the first assessment: fewest,
    /// median, most.
    pub scans_min: usize,
    /// Median of the scans per launch.
    pub scans_median: usize,
    /// Most scans per launch.
    pub scans_max: usize,
}

/// Flies `launches` simulated launches (one sample each) through a cluster
/// in a temporary directory (removed afterwards).
pub async fn run(launches: usize) -> anyhow::Result<Figures> {
    anyhow::ensure!(launches > 0, "--launches must be at least 1");
    nodes::in_temp_dir("missile", |dir| async move { run_in(&dir, launches).await }).await
}

async fn run_in(dir: &Path, launches: usize) -> anyhow::Result<Figures> {
    let parties = nodes::parties();
    let mut exercise = toml::Table::new();
    exercise.insert("exercise".into(), toml::Value::Boolean(true));
    let cluster = Cluster::start(ClusterSpec {
        parties: parties.to_vec(),
        dir: dir.to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: nodes::limits(None),
        engines: parties
            .iter()
            .map(|party| (party.clone(), exercise.clone()))
            .collect(),
    })
    .await?;
    let kor = cluster.node("KOR");
    let detections = DetectionsPoster {
        http: reqwest::Client::new(),
        url: format!("{}/api/v1/missile/detections", kor.url),
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
    Ok(Figures {
        first_assessment: Latencies::of(&mut latencies).context("no launches")?,
        scans_min: n_scans[0],
        scans_median: n_scans[n_scans.len() / 2],
        scans_max: n_scans[n_scans.len() - 1],
    })
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
                assessment = Some(report.key());
                break;
            }
        }
        let Some(id) = assessment else {
            continue;
        };
        for (live, state) in lives.iter_mut().zip(partners) {
            nodes::wait_visible(live, state, &id).await?;
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
        let deadline = Instant::now() + nodes::VISIBLE_TIMEOUT;
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
