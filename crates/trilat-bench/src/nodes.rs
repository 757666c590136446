//! What the node benches share: the three parties, the cluster limits, a
//! temporary directory removed afterwards, and waiting for a report to
//! arrive.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use tokio::sync::broadcast;
use trilat_core::{Party, Report, ReportKey};
use trilat_node::config::Limits;
use trilat_node::AppState;

/// Longest wait for one report to reach a node before the bench gives up.
pub(crate) const VISIBLE_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn parties() -> [Party; 3] {
    ["USA", "JPN", "KOR"].map(|p| Party::new(p).expect("static party code"))
}

/// The limits of the bench clusters: the defaults, with a short pull
/// interval and backoff so a restarted node starts pulling at once, and
/// the pull page size `pull_page_max` (the default when `None`).
pub(crate) fn limits(pull_page_max: Option<usize>) -> Limits {
    let defaults = Limits::default();
    Limits {
        pull_interval_ms: 500,
        backoff_ms_min: 50,
        backoff_ms_max: 1000,
        pull_page_max: pull_page_max.unwrap_or(defaults.pull_page_max),
        ..defaults
    }
}

/// Checks a pull page size: 1..=the store's query limit.
pub(crate) fn check_pull_page_max(pull_page_max: Option<usize>) -> anyhow::Result<()> {
    if let Some(n) = pull_page_max {
        anyhow::ensure!(
            (1..=trilat_store::QUERY_LIMIT_MAX).contains(&n),
            "pull page size {n}: expected 1..={}",
            trilat_store::QUERY_LIMIT_MAX
        );
    }
    Ok(())
}

/// Runs `bench` in a fresh directory under the system's temporary folder
/// named `trilat-bench-<name>-<pid>`, and removes it afterwards, whether
/// the bench succeeded or not.
pub(crate) async fn in_temp_dir<T, F, Fut>(name: &str, bench: F) -> anyhow::Result<T>
where
    F: FnOnce(PathBuf) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let dir = temp_dir(name);
    let res = bench(dir.clone()).await;
    let _ = std::fs::remove_dir_all(&dir);
    res
}

pub(crate) fn temp_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("trilat-bench-{name}-{}", std::process::id()))
}

/// The config a cluster node was written with.
pub(crate) fn node_config(dir: &Path, party: &str) -> anyhow::Result<trilat_node::Config> {
    Ok(trilat_node::Config::load(
        &dir.join(party).join("trilat.toml"),
    )?)
}

/// Waits until `id` is stored at the node behind `live` (its live channel,
/// the one `/api/v1/stream` reads; subscribed before `id` was created). A
/// lagging channel falls back to the store.
pub(crate) async fn wait_visible(
    live: &mut broadcast::Receiver<Arc<Report>>,
    state: &AppState,
    id: &ReportKey,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + VISIBLE_TIMEOUT;
    loop {
        match tokio::time::timeout_at(deadline, live.recv()).await {
            Err(_) => bail!(
                "report {id} not visible at {} after {} s",
                state.party,
                VISIBLE_TIMEOUT.as_secs()
            ),
            Ok(Ok(report)) if report.id == id.id && report.owner == id.owner => return Ok(()),
            Ok(Ok(_)) => {}
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                if state.store.get(id)?.is_some() {
                    return Ok(());
                }
            }
            Ok(Err(broadcast::error::RecvError::Closed)) => bail!("live channel closed"),
        }
    }
}

/// A GREEN note of `state`'s party for the three partners, now.
pub(crate) fn note(state: &AppState, text: String) -> anyhow::Result<trilat_core::ReportDraft> {
    Ok(trilat_core::ReportDraft::new(
        state.party.clone(),
        trilat_core::Kind::new("note").map_err(anyhow::Error::msg)?,
        trilat_core::Marking::new("UNCLASSIFIED", trilat_core::Tlp::Green, ["TRILAT"]),
        serde_json::json!({ "text": text }),
        trilat_node::now(),
    ))
}
