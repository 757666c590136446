//! Exercise runs and their after-action reports, for the console's
//! Exercises view.
//!
//! * **Runs** (`/api/v1/exercise/runs`): `trilat exercise run` registers
//!   its run with every node it plays against, reports its progress, and
//!   reads back a control state (running or paused) that an administrator
//!   sets here (`…/pause`, `…/resume`). The runner's clock stays its own:
//!   the node only holds the state. Runs are kept in memory, at most
//!   [`RUNS_LIVE_MAX`]; a restart forgets them (the runner then plays on
//!   uncontrolled and says so).
//! * **Reports** (`/api/v1/exercise/reports`): the CLI builds the report
//!   from all three nodes and publishes to each node only its party's share
//!   ([`trilat_exercise::PartyShare`]); the node checks the share names
//!   nothing its party may not see ([`trilat_exercise::check_share`]) and
//!   keeps it in `DATA_DIR/exercises/`, at most [`REPORTS_MAX`] runs of at
//!   most [`REPORT_BYTES_MAX`] each (the oldest published goes first).
//!
//! * **Scenarios** (`/api/v1/exercise/scenarios`): on a node whose process
//!   holds every party's node (`trilat demo`), an administrator starts a
//!   play of a shipped scenario ([`start`]).
//!
//! Only users of the node's own party read them (analyst or admin: a
//! report says what each party received); only its admins register,
//! steer and publish. Registering, pausing, resuming, publishing and
//! reading a report are audited (action `other`) before they take effect.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use trilat_core::Timestamp;
use trilat_exercise::PartyShare;
use trilat_store::AuditAction;

use crate::config::Role;
use crate::{audit_event, now, AppError, AppState, Caller, JsonBody};

pub mod start;
pub use start::{ScenarioStarter, ShippedScenario, StartError};

/// The routes of this module, `(method, path)`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/exercise/runs"),
    ("POST", "/api/v1/exercise/runs"),
    ("POST", "/api/v1/exercise/runs/{run_id}/progress"),
    ("POST", "/api/v1/exercise/runs/{run_id}/pause"),
    ("POST", "/api/v1/exercise/runs/{run_id}/resume"),
    ("GET", "/api/v1/exercise/reports"),
    ("GET", "/api/v1/exercise/reports/{run_id}"),
    ("PUT", "/api/v1/exercise/reports/{run_id}"),
    ("GET", "/api/v1/exercise/scenarios"),
    ("POST", "/api/v1/exercise/scenarios/{name}/start"),
];

/// Runs held at once; a new one replaces the oldest finished.
pub const RUNS_LIVE_MAX: usize = 16;
/// Reports kept; a new one replaces the oldest published.
pub const REPORTS_MAX: usize = 32;
/// Largest report kept (its JSON).
pub const REPORT_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Longest run id; ids are `[A-Za-z0-9._-]` and name files.
pub const RUN_ID_LEN_MAX: usize = 160;
/// Most injects a run may announce.
pub const INJECTS_MAX: usize = 100_000;

/// The routes (served under the edge limits).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exercise/runs", get(runs_get).post(runs_post))
        .route(
            "/api/v1/exercise/runs/{run_id}/progress",
            post(run_progress_post),
        )
        .route("/api/v1/exercise/runs/{run_id}/pause", post(run_pause_post))
        .route(
            "/api/v1/exercise/runs/{run_id}/resume",
            post(run_resume_post),
        )
        .route("/api/v1/exercise/reports", get(reports_get))
        .route(
            "/api/v1/exercise/reports/{run_id}",
            get(report_get).put(report_put),
        )
        .merge(start::routes())
}

/// What the node holds about exercises.
#[derive(Default)]
pub struct Exercises {
    runs: Mutex<Vec<LiveRun>>,
    /// The kept reports' headers, read from disk on first use.
    reports: Mutex<Option<Vec<ReportHeader>>>,
    /// Held while a report is published: one eviction at a time.
    publishing: tokio::sync::Mutex<()>,
    /// Plays shipped scenarios, when the node's process can.
    starter: OnceLock<Arc<dyn ScenarioStarter>>,
}

impl Exercises {
    /// Lets administrators start plays of `starter`'s scenarios; set once
    /// (a second starter is refused and returned).
    pub fn set_starter(
        &self,
        starter: Arc<dyn ScenarioStarter>,
    ) -> Result<(), Arc<dyn ScenarioStarter>> {
        self.starter.set(starter)
    }
}

/// A run's control state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Injects are played.
    Running,
    /// The runner holds its clock.
    Paused,
    /// The runner played every inject (or stopped).
    Finished,
}

/// One registered run.
#[derive(Clone, Debug, Serialize)]
pub struct LiveRun {
    run_id: String,
    scenario: String,
    state: RunState,
    injects_done: usize,
    injects_total: usize,
    registered_by: String,
    registered_at: Timestamp,
    updated_at: Timestamp,
    /// Who paused or resumed it last.
    #[serde(skip_serializing_if = "Option::is_none")]
    steered_by: Option<String>,
}

/// One kept report, as listed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReportHeader {
    run_id: String,
    scenario: String,
    started_at: Timestamp,
    published_at: Timestamp,
    n_injects: usize,
    n_products: usize,
    bytes: usize,
}

/// `POST /api/v1/exercise/runs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunBody {
    run_id: String,
    scenario: String,
    injects_total: usize,
}

/// `POST /api/v1/exercise/runs/{run_id}/progress`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProgressBody {
    injects_done: usize,
    #[serde(default)]
    finished: bool,
}

/// 403 unless the caller is of the node's party with at least `role`.
fn require_own(state: &AppState, caller: &Caller, role: Role) -> Result<(), AppError> {
    caller.require(role)?;
    if caller.party != state.party {
        return Err(AppError::forbidden(format!(
            "exercise runs and reports of this node are for {} users; the token is {}'s",
            state.party, caller.party
        )));
    }
    Ok(())
}

fn check_run_id(run_id: &str) -> Result<(), AppError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if run_id.is_empty()
        || run_id.len() > RUN_ID_LEN_MAX
        || run_id.starts_with('.')
        || !run_id.chars().all(ok_char)
    {
        return Err(AppError::bad_request(
            "invalid_run_id",
            format!(
                "run id {:?}: expected 1 to {RUN_ID_LEN_MAX} letters, digits, '.', '_' or '-', not starting with '.' (a scenario name of those makes one)",
                clipped(run_id)
            ),
        ));
    }
    Ok(())
}

fn clipped(text: &str) -> String {
    text.chars().take(64).collect()
}

fn conflict(message: String) -> AppError {
    AppError::new(StatusCode::CONFLICT, "conflict", message)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The answer of `GET /api/v1/exercise/runs`.
#[derive(Debug, Serialize)]
pub(crate) struct RunsAnswer {
    runs: Vec<LiveRun>,
}

async fn runs_get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<RunsAnswer>, AppError> {
    require_own(&state, &caller, Role::Analyst)?;
    let mut runs = lock(&state.exercises.runs).clone();
    runs.reverse(); // newest first
    Ok(Json(RunsAnswer { runs }))
}

async fn runs_post(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<RunBody>,
) -> Result<(StatusCode, Json<LiveRun>), AppError> {
    require_own(&state, &caller, Role::Admin)?;
    check_run_id(&body.run_id)?;
    if body.scenario.is_empty() || body.scenario.len() > RUN_ID_LEN_MAX {
        return Err(AppError::bad_request(
            "invalid_request",
            format!("scenario: expected 1 to {RUN_ID_LEN_MAX} bytes"),
        ));
    }
    if body.injects_total == 0 || body.injects_total > INJECTS_MAX {
        return Err(AppError::bad_request(
            "invalid_request",
            format!(
                "injects_total {}: expected 1 to {INJECTS_MAX}",
                body.injects_total
            ),
        ));
    }
    let at = now();
    let run = LiveRun {
        run_id: body.run_id.clone(),
        scenario: body.scenario,
        state: RunState::Running,
        injects_done: 0,
        injects_total: body.injects_total,
        registered_by: caller.actor(),
        registered_at: at,
        updated_at: at,
        steered_by: None,
    };
    room_for(&lock(&state.exercises.runs), &run.run_id)?;
    let detail = format!(
        "exercise run {} registered: scenario {}, {} injects",
        run.run_id, run.scenario, run.injects_total
    );
    state
        .audit(audit_event(&caller.actor(), AuditAction::Other, detail))
        .await?;
    let mut runs = lock(&state.exercises.runs);
    room_for(&runs, &run.run_id)?;
    if runs.len() >= RUNS_LIVE_MAX {
        let oldest_done = runs
            .iter()
            .position(|r| r.state == RunState::Finished)
            .expect("room_for found a finished run");
        runs.remove(oldest_done);
    }
    runs.push(run.clone());
    assert!(runs.len() <= RUNS_LIVE_MAX);
    Ok((StatusCode::CREATED, Json(run)))
}

/// Refuses a run id already held, and a new run when every place is taken
/// by an unfinished one.
fn room_for(runs: &[LiveRun], run_id: &str) -> Result<(), AppError> {
    if runs.iter().any(|r| r.run_id == run_id) {
        return Err(conflict(format!("run {run_id} is already registered")));
    }
    if runs.len() >= RUNS_LIVE_MAX && runs.iter().all(|r| r.state != RunState::Finished) {
        return Err(conflict(format!(
            "{RUNS_LIVE_MAX} runs are under way here; finish one first"
        )));
    }
    Ok(())
}

/// The runner's call, each step and while it waits: its progress in, the
/// control state out.
async fn run_progress_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): Path<String>,
    JsonBody(body): JsonBody<ProgressBody>,
) -> Result<Json<LiveRun>, AppError> {
    require_own(&state, &caller, Role::Admin)?;
    check_run_id(&run_id)?;
    let mut runs = lock(&state.exercises.runs);
    let run = find_run(&mut runs, &run_id)?;
    if body.injects_done > run.injects_total {
        return Err(AppError::bad_request(
            "invalid_request",
            format!(
                "injects_done {}: the run has {} injects",
                body.injects_done, run.injects_total
            ),
        ));
    }
    run.injects_done = body.injects_done;
    run.updated_at = now();
    if body.finished {
        run.state = RunState::Finished;
    }
    Ok(Json(run.clone()))
}

fn find_run<'a>(runs: &'a mut [LiveRun], run_id: &str) -> Result<&'a mut LiveRun, AppError> {
    runs.iter_mut()
        .find(|r| r.run_id == run_id)
        .ok_or_else(|| AppError::not_found(format!("no run {run_id} is registered here")))
}

async fn run_pause_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): Path<String>,
) -> Result<Json<LiveRun>, AppError> {
    steer(&state, &caller, &run_id, RunState::Paused).await
}

async fn run_resume_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): Path<String>,
) -> Result<Json<LiveRun>, AppError> {
    steer(&state, &caller, &run_id, RunState::Running).await
}

/// Sets a run's control state (admin); audited first. A finished run is
/// not steered (409).
async fn steer(
    state: &AppState,
    caller: &Caller,
    run_id: &str,
    to: RunState,
) -> Result<Json<LiveRun>, AppError> {
    require_own(state, caller, Role::Admin)?;
    check_run_id(run_id)?;
    assert_ne!(to, RunState::Finished, "the runner finishes a run");
    {
        let mut runs = lock(&state.exercises.runs);
        let run = find_run(&mut runs, run_id)?;
        if run.state == RunState::Finished {
            return Err(conflict(format!("run {run_id} has finished")));
        }
    }
    let verb = if to == RunState::Paused {
        "paused"
    } else {
        "resumed"
    };
    let detail = format!("exercise run {run_id} {verb}");
    state
        .audit(audit_event(&caller.actor(), AuditAction::Other, detail))
        .await?;
    let mut runs = lock(&state.exercises.runs);
    let run = find_run(&mut runs, run_id)?;
    if run.state != RunState::Finished {
        run.state = to;
        run.steered_by = Some(caller.actor());
        run.updated_at = now();
    }
    Ok(Json(run.clone()))
}

/// Where the reports are kept.
fn reports_dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("exercises")
}

fn report_path(state: &AppState, run_id: &str) -> PathBuf {
    reports_dir(state).join(format!("{run_id}.json"))
}

fn header_of(share: &PartyShare, published_at: Timestamp, bytes: usize) -> ReportHeader {
    ReportHeader {
        run_id: share.report.run_id.clone(),
        scenario: share.report.scenario.clone(),
        started_at: share.report.started_at,
        published_at,
        n_injects: share.report.injects.len(),
        n_products: share.report.injects.iter().map(|i| i.products.len()).sum(),
        bytes,
    }
}

/// The file a report is kept in: the share and when it was published.
#[derive(Serialize, Deserialize)]
struct Kept {
    published_at: Timestamp,
    share: PartyShare,
}

/// The kept reports' headers, oldest published first; read from the
/// directory on first use (a file that cannot be read is logged and left
/// out).
async fn headers(state: &AppState) -> Result<Vec<ReportHeader>, AppError> {
    if let Some(headers) = lock(&state.exercises.reports).as_ref() {
        return Ok(headers.clone());
    }
    let dir = reports_dir(state);
    let read = tokio::task::spawn_blocking(move || read_headers(&dir))
        .await
        .map_err(AppError::internal)?;
    let mut slot = lock(&state.exercises.reports);
    Ok(slot.get_or_insert(read).clone())
}

fn read_headers(dir: &std::path::Path) -> Vec<ReportHeader> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut headers = Vec::new();
    for entry in entries.flatten().take(REPORTS_MAX * 2) {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let kept = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                let kept: Kept = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                Ok((kept, bytes.len()))
            });
        match kept {
            Ok((kept, bytes)) => headers.push(header_of(&kept.share, kept.published_at, bytes)),
            Err(e) => tracing::warn!(path = %path.display(), %e, "exercise report not read"),
        }
    }
    headers.sort_by_key(|h| h.published_at);
    headers
}

/// The answer of `GET /api/v1/exercise/reports`.
#[derive(Debug, Serialize)]
pub(crate) struct ReportsAnswer {
    party: trilat_core::Party,
    reports: Vec<ReportHeader>,
    reports_max: usize,
}

async fn reports_get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ReportsAnswer>, AppError> {
    require_own(&state, &caller, Role::Analyst)?;
    let mut reports = headers(&state).await?;
    reports.reverse(); // newest first
    Ok(Json(ReportsAnswer {
        party: state.party.clone(),
        reports,
        reports_max: REPORTS_MAX,
    }))
}

/// The answer of one report.
#[derive(Debug, Serialize)]
pub(crate) struct ReportAnswer {
    published_at: Timestamp,
    #[serde(flatten)]
    share: PartyShare,
}

async fn report_get(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): Path<String>,
) -> Result<Json<ReportAnswer>, AppError> {
    require_own(&state, &caller, Role::Analyst)?;
    check_run_id(&run_id)?;
    if !headers(&state).await?.iter().any(|h| h.run_id == run_id) {
        return Err(AppError::not_found(format!(
            "no after-action report of run {run_id} is kept here"
        )));
    }
    let detail = format!("after-action report of exercise run {run_id} read");
    state
        .audit(audit_event(&caller.actor(), AuditAction::Other, detail))
        .await?;
    let path = report_path(&state, &run_id);
    let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let kept: Kept = serde_json::from_slice(&bytes).map_err(AppError::internal)?;
    Ok(Json(ReportAnswer {
        published_at: kept.published_at,
        share: kept.share,
    }))
}

/// Keeps the share of a run's report (admin), replacing an earlier one of
/// the same run; 201 for a new run, 200 for a replacement.
async fn report_put(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): Path<String>,
    JsonBody(share): JsonBody<PartyShare>,
) -> Result<(StatusCode, Json<ReportHeader>), AppError> {
    require_own(&state, &caller, Role::Admin)?;
    check_run_id(&run_id)?;
    check_publishable(&state, &run_id, &share)?;
    let _publishing = state.exercises.publishing.lock().await;
    let published_at = now();
    let kept = Kept {
        published_at,
        share,
    };
    let bytes = serde_json::to_vec(&kept).map_err(AppError::internal)?;
    if bytes.len() > REPORT_BYTES_MAX {
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "report_too_large",
            format!(
                "the report of run {run_id} is {} bytes; at most {REPORT_BYTES_MAX} are kept",
                bytes.len()
            ),
        ));
    }
    let header = header_of(&kept.share, published_at, bytes.len());
    let mut kept_headers = headers(&state).await?;
    let replaced = kept_headers.iter().any(|h| h.run_id == run_id);
    kept_headers.retain(|h| h.run_id != run_id);
    let n_evicted = (kept_headers.len() + 1).saturating_sub(REPORTS_MAX);
    let evicted: Vec<ReportHeader> = kept_headers.drain(..n_evicted).collect();
    let mut detail = format!(
        "after-action report of exercise run {run_id} published: {} injects, {} products, {} bytes",
        header.n_injects, header.n_products, header.bytes
    );
    for old in &evicted {
        detail.push_str(&format!("; report of run {} dropped (oldest)", old.run_id));
    }
    state
        .audit(audit_event(&caller.actor(), AuditAction::Other, detail))
        .await?;
    let dir = reports_dir(&state);
    let path = report_path(&state, &run_id);
    let evicted_paths: Vec<PathBuf> = evicted
        .iter()
        .map(|h| report_path(&state, &h.run_id))
        .collect();
    tokio::task::spawn_blocking(move || write_report(&dir, &path, &bytes, &evicted_paths))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    kept_headers.push(header.clone());
    assert!(kept_headers.len() <= REPORTS_MAX);
    *lock(&state.exercises.reports) = Some(kept_headers);
    let status = if replaced {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(header)))
}

/// The share is this run's, this party's, and names nothing the party may
/// not see.
fn check_publishable(state: &AppState, run_id: &str, share: &PartyShare) -> Result<(), AppError> {
    let refuse = |message: String| {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_report", message)
    };
    if share.report.run_id != run_id {
        return Err(refuse(format!(
            "the report is of run {}, not {run_id}",
            clipped(&share.report.run_id)
        )));
    }
    if share.party != state.party {
        return Err(refuse(format!(
            "the report is {}'s share; this node keeps {}'s",
            share.party, state.party
        )));
    }
    trilat_exercise::check_share(share)
        .map_err(|why| refuse(format!("not {}'s share: {why}", state.party)))
}

/// Writes the report (to a temporary file, then renamed: a reader never
/// sees half of it) and removes the evicted ones.
fn write_report(
    dir: &std::path::Path,
    path: &std::path::Path,
    bytes: &[u8],
    evicted: &[PathBuf],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)?;
    for old in evicted {
        if let Err(e) = std::fs::remove_file(old) {
            tracing::warn!(path = %old.display(), %e, "evicted exercise report not removed");
        }
    }
    Ok(())
}
