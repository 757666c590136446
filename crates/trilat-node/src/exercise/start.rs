//! Starting a play of a shipped scenario from the console
//! (`/api/v1/exercise/scenarios`).
//!
//! A node cannot play a scenario by itself: injects go in at each party's
//! node with that party's token, and a node never holds its partners'
//! tokens. A process that does hold all three nodes (`trilat demo`) gives
//! its nodes a [`ScenarioStarter`] ([`super::Exercises::set_starter`]); the
//! play it starts registers itself as a run like any other, so the Exercises
//! view shows its progress and an admin pauses it there.
//!
//! A node without a starter lists no scenarios (`starter: false`) and
//! answers a start with 404 `unknown_scenario`. Listing and starting are
//! for admins of the node's party; a start is audited (action `other`)
//! before the play begins.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use trilat_store::AuditAction;

use super::{conflict, require_own};
use crate::config::Role;
use crate::{audit_event, AppError, AppState, Caller, QueryParams};

/// Slowest and fastest exercise clock a start may ask for (exercise
/// seconds per wall-clock second), as `trilat exercise run --speed`.
pub const SPEED_MIN: f64 = 1.0;
/// See [`SPEED_MIN`].
pub const SPEED_MAX: f64 = 1000.0;
/// Most scenarios a starter may offer (the answer stays small).
pub const SCENARIOS_MAX: usize = 64;

/// What a process holding every party's node and token provides, to play a
/// scenario when an administrator asks.
pub trait ScenarioStarter: Send + Sync {
    /// The scenarios it can play, each with the run now playing it.
    fn scenarios(&self) -> Vec<ShippedScenario>;
    /// Starts a play of `name` at `speed` (default: the scenario's); the
    /// run's id, as it will be registered.
    fn start(&self, name: &str, speed: Option<f64>) -> Result<String, StartError>;
}

/// A scenario a starter can play.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShippedScenario {
    /// The scenario's name (its `name` field).
    pub name: String,
    /// What the exercise trains.
    pub description: String,
    /// How many injects it has.
    pub n_injects: usize,
    /// Exercise seconds from the first inject to the last.
    pub duration_s: f64,
    /// The exercise clock's speed when none is asked for.
    pub speed: f64,
    /// The run now playing it, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playing_run_id: Option<String>,
}

/// Why a start was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum StartError {
    /// The starter has no scenario of that name.
    Unknown,
    /// A run of it is playing.
    Playing {
        /// That run's id.
        run_id: String,
    },
    /// The play could not be started.
    Failed(String),
}

/// The routes (listed in [`super::ROUTES`]).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exercise/scenarios", get(scenarios_get))
        .route(
            "/api/v1/exercise/scenarios/{name}/start",
            post(scenario_start_post),
        )
}

fn starter(state: &AppState) -> Option<&Arc<dyn ScenarioStarter>> {
    state.exercises.starter.get()
}

/// The answer of `GET /api/v1/exercise/scenarios`.
#[derive(Debug, Serialize)]
pub(crate) struct ScenariosAnswer {
    /// Whether this node can start plays at all.
    starter: bool,
    scenarios: Vec<ShippedScenario>,
}

async fn scenarios_get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ScenariosAnswer>, AppError> {
    require_own(&state, &caller, Role::Admin)?;
    let Some(starter) = starter(&state) else {
        return Ok(Json(ScenariosAnswer {
            starter: false,
            scenarios: Vec::new(),
        }));
    };
    let mut scenarios = starter.scenarios();
    scenarios.truncate(SCENARIOS_MAX);
    Ok(Json(ScenariosAnswer {
        starter: true,
        scenarios,
    }))
}

/// `?speed=` of a start.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartQuery {
    speed: Option<f64>,
}

/// The answer of a start (202: the play runs on).
#[derive(Debug, Serialize)]
pub(crate) struct StartAnswer {
    run_id: String,
    scenario: String,
}

async fn scenario_start_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    QueryParams(query): QueryParams<StartQuery>,
) -> Result<(StatusCode, Json<StartAnswer>), AppError> {
    require_own(&state, &caller, Role::Admin)?;
    if let Some(speed) = query.speed {
        if !(SPEED_MIN..=SPEED_MAX).contains(&speed) {
            return Err(AppError::bad_request(
                "invalid_request",
                format!("speed {speed}: expected {SPEED_MIN} to {SPEED_MAX} exercise seconds per second"),
            ));
        }
    }
    let unknown = || {
        AppError::new(
            StatusCode::NOT_FOUND,
            "unknown_scenario",
            format!(
                "no scenario {:?} can be started here (GET /api/v1/exercise/scenarios lists them; only a node whose process holds every party's node, as `trilat demo` does, starts plays)",
                super::clipped(&name)
            ),
        )
    };
    let starter = starter(&state).ok_or_else(unknown)?;
    let shipped = starter
        .scenarios()
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(unknown)?;
    if let Some(run_id) = shipped.playing_run_id {
        return Err(playing(&name, &run_id));
    }
    let detail = format!("exercise scenario {name} start requested");
    state
        .audit(audit_event(&caller.actor(), AuditAction::Other, detail))
        .await?;
    match starter.start(&name, query.speed) {
        Ok(run_id) => {
            tracing::info!(scenario = %name, %run_id, by = %caller.actor(), "exercise play started");
            Ok((
                StatusCode::ACCEPTED,
                Json(StartAnswer {
                    run_id,
                    scenario: name,
                }),
            ))
        }
        Err(StartError::Unknown) => Err(unknown()),
        Err(StartError::Playing { run_id }) => Err(playing(&name, &run_id)),
        Err(StartError::Failed(why)) => Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "start_failed",
            format!("scenario {name} was not started: {why}"),
        )),
    }
}

fn playing(name: &str, run_id: &str) -> AppError {
    conflict(format!(
        "scenario {name} is already playing as run {run_id}; pause it in the runs list or wait for it to finish"
    ))
}
