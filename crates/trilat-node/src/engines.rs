//! The hook where the domain engines (sanctions, AIS, missile warning,
//! seismic events) plug into the node: their report kinds, their HTTP
//! routes (merged under `/api/v1`) and their background tasks.
//!
//! The engines themselves are pure crates; this module does their I/O
//! (reading list stores, sockets, sensor files) and turns their findings into
//! reports through [`crate::publish_as`], marked by the `[engines.marking]`
//! config (or, for fused missile products, by [`trilat_core::Policy::combine`]
//! over the contributing parties' markings).
//!
//! Configuration lives in the node config's `[engines]` table
//! ([`EnginesConfig`]); every part is optional.

use std::path::PathBuf;
use std::sync::OnceLock;

use axum::Router;
use serde::Deserialize;
use trilat_core::{FurtherSharing, Kind, KindRegistry, Marking, ReportDraft, Timestamp, Tlp};

use crate::{AppError, AppState, Caller, Role};

mod ais_partition;
pub mod demo;
mod maritime;
mod missile;
mod missile_partition;
mod sanctions;
mod seismic;
pub mod supply;

pub use demo::{DemoPacing, DemoParts, DemoRunner, DemoSchedule};
pub use sanctions::{load_han_readings, load_list_store, ListStatus, SanctionsStatus};

/// The engines' configuration: the node config's `[engines]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnginesConfig {
    /// Mark every engine report as an exercise ("EXERCISE EXERCISE
    /// EXERCISE"). The demo sets it.
    #[serde(default)]
    pub exercise: bool,
    /// Run the demo scenarios at start (an AIS encounter seen in two
    /// partners' feeds; a simulated launch seen by all three partners),
    /// paced for someone watching, and again on `POST /api/v1/demo/replay`.
    #[serde(default)]
    pub demo: bool,
    /// When the demo's story happens (`[engines.demo_pacing]`).
    #[serde(default)]
    pub demo_pacing: DemoPacing,
    /// Marking of the reports the engines publish. Default: CONFIDENTIAL,
    /// TLP:AMBER, releasable to TRILAT, no further sharing.
    #[serde(default)]
    pub marking: Option<Marking>,
    /// Sanctions screening.
    #[serde(default)]
    pub sanctions: SanctionsConfig,
    /// AIS ingestion and maritime events.
    #[serde(default)]
    pub ais: maritime::AisConfig,
    /// Missile-warning fusion.
    #[serde(default)]
    pub missile: missile::MissileConfig,
    /// Seismic events and nuclear-test assessment.
    #[serde(default)]
    pub seismic: seismic::SeismicConfig,
    /// Critical-mineral supply risk.
    #[serde(default)]
    pub supply: supply::SupplyConfig,
}

/// `[engines.sanctions]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SanctionsConfig {
    /// List stores written by `trilat sanctions import --store DIR`.
    #[serde(default)]
    pub lists: Vec<PathBuf>,
    /// A full Unihan readings file (e.g. Debian `unicode-data`:
    /// `/usr/share/unicode/Unihan_Readings.txt.bz2`) in place of the table Trilat ships.
    #[serde(default)]
    pub unihan: Option<PathBuf>,
}

/// The engines' live state, set once when the node starts
/// ([`start`]); handlers answer 503 until then.
#[derive(Default)]
pub struct EngineSlot(OnceLock<Engines>);

impl EngineSlot {
    /// The engines, once started.
    pub fn get(&self) -> Result<&Engines, AppError> {
        self.0.get().ok_or_else(|| {
            AppError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "engines_starting",
                "the engines are still starting; retry shortly",
            )
        })
    }
}

/// The engines of one node.
pub struct Engines {
    /// The `[engines]` config.
    pub config: EnginesConfig,
    /// The marking of engine reports.
    pub marking: Marking,
    /// Sanctions screening.
    pub sanctions: sanctions::SanctionsEngine,
    /// AIS analysis.
    pub maritime: maritime::MaritimeEngine,
    /// Missile-warning fusion.
    pub missile: missile::MissileEngine,
    /// Critical-mineral supply risk.
    pub supply: supply::SupplyEngine,
    /// The demo's story (idle unless `config.demo`).
    pub demo: DemoRunner,
    /// The engines' zones as served at `GET /api/v1/geo/zones`, written
    /// on the first request (they do not change once the engines start).
    pub zones_geojson: OnceLock<axum::body::Bytes>,
}

/// Registers the engines' report kinds and payload checks.
pub fn register_kinds(registry: &mut KindRegistry) {
    registry.register(trilat_sanctions::REPORT_KINDS, |kind, payload| {
        trilat_sanctions::validate_payload(kind, payload).map_err(|e| e.to_string())
    });
    registry.register(trilat_ais::report::REPORT_KINDS, |kind, payload| {
        trilat_ais::report::validate_payload(kind, payload).map_err(|e| e.to_string())
    });
    missile::register_kinds(registry);
    registry.register(trilat_seismic::report::REPORT_KINDS, |kind, payload| {
        trilat_seismic::report::validate_payload(kind, payload).map_err(|e| e.to_string())
    });
    registry.register(trilat_supply::report::REPORT_KINDS, |kind, payload| {
        trilat_supply::report::validate_payload(kind, payload).map_err(|e| e.to_string())
    });
    registry.register(trilat_cyber::REPORT_KINDS, trilat_cyber::payload_check);
}

/// The engines' routes as served (`/api/v1` included), for the OpenAPI
/// document; kept beside [`routes`] and [`stream_routes`].
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/sanctions/status"),
    ("POST", "/api/v1/sanctions/screen"),
    ("POST", "/api/v1/sanctions/hits"),
    ("POST", "/api/v1/sanctions/screen-id"),
    ("POST", "/api/v1/sanctions/id-hits"),
    ("POST", "/api/v1/ais/nmea"),
    ("GET", "/api/v1/ais/status"),
    ("POST", "/api/v1/missile/detections"),
    ("POST", "/api/v1/missile/detections/stream"),
    ("POST", "/api/v1/seismic/events"),
    ("GET", "/api/v1/supply/indicators"),
    ("POST", "/api/v1/supply/indicators"),
    ("GET", "/api/v1/supply/ranking"),
    ("POST", "/api/v1/supply/scenario"),
    ("POST", "/api/v1/supply/figures"),
];

/// The engines' HTTP routes, merged under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(sanctions::routes())
        .merge(maritime::routes())
        .merge(missile::routes())
        .merge(seismic::routes())
        .merge(supply::routes())
        .merge(demo::routes())
}

/// The engines' long-lived streaming routes (under `/api/v1`), mounted outside
/// the request timeout.
pub fn stream_routes() -> Router<AppState> {
    missile::stream_routes()
}

/// Parses the `[engines]` table of the node config.
pub fn engines_config(state: &AppState) -> Result<EnginesConfig, String> {
    parse_config(state.config.engines.as_ref(), &state.policy)
}

/// Parses and checks an `[engines]` table without reading any file: the
/// fields, the markings against `policy`, the zone options. The node
/// checks it when its config loads ([`crate::Config::validate`]); the
/// files it names are read when the engines start.
pub fn parse_config(
    table: Option<&toml::Table>,
    policy: &trilat_core::Policy,
) -> Result<EnginesConfig, String> {
    let Some(table) = table else {
        return Ok(EnginesConfig::default());
    };
    let config = EnginesConfig::deserialize(toml::Value::Table(table.clone()))
        .map_err(|e| e.message().to_string())?;
    if let Some(marking) = &config.marking {
        policy
            .check_marking(marking)
            .map_err(|e| format!("marking: {e}"))?;
    }
    for (party, marking) in &config.missile.party_markings {
        policy
            .check_marking(marking)
            .map_err(|e| format!("missile.party_markings.{party}: {e}"))?;
    }
    config.ais.check()?;
    config.missile.check()?;
    config
        .supply
        .groups
        .validate()
        .map_err(|e| format!("supply.groups: {e}"))?;
    Ok(config)
}

/// The default marking of engine reports.
fn marking_default() -> Marking {
    Marking {
        further_sharing: FurtherSharing::None,
        ..Marking::new("CONFIDENTIAL", Tlp::Amber, ["TRILAT"])
    }
}

/// Starts the engines: loads the sanctions lists, builds the AIS tracker
/// and the missile fuser, opens the configured feeds, runs the demo
/// scenarios. A configuration error is logged and leaves the engines
/// unstarted (their routes answer 503); the node itself keeps serving.
pub async fn start(state: AppState) {
    let config = match engines_config(&state) {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(%e, "engines not started");
            return;
        }
    };
    let marking = config.marking.clone().unwrap_or_else(marking_default);
    if let Err(e) = state.policy.check_marking(&marking) {
        tracing::error!(%e, "engines not started: [engines.marking] is invalid");
        return;
    }
    if let Err(e) = config.demo_pacing.check() {
        tracing::error!(%e, "engines not started");
        return;
    }
    let sanctions = sanctions::SanctionsEngine::load(&config.sanctions).await;
    let maritime = maritime::MaritimeEngine::new(&config.ais, sanctions.screener());
    // Computing the zones takes seconds (once per process for the shipped data).
    let missile_config = config.missile.clone();
    let missile = tokio::task::spawn_blocking(move || missile::MissileEngine::new(&missile_config));
    let missile = match missile.await {
        Ok(Ok(missile)) => missile,
        Ok(Err(e)) => {
            tracing::error!(%e, "engines not started: [engines.missile]");
            return;
        }
        Err(e) => {
            tracing::error!(%e, "engines not started: [engines.missile] failed to build");
            return;
        }
    };
    let supply = supply::SupplyEngine::load(&config.supply).await;
    let demo = DemoRunner::new(config.demo_pacing);
    let engines = Engines {
        config,
        marking,
        sanctions,
        maritime,
        missile,
        supply,
        demo,
        zones_geojson: OnceLock::new(),
    };
    if state.engines.0.set(engines).is_err() {
        tracing::warn!("engines already started");
        return;
    }
    let engines = state.engines.get().expect("set above");
    let holder = state.holder.to_string();
    maritime::start_feeds(&state, &engines.maritime, &engines.config.ais, &holder);
    missile::start_groups(&state, &engines.missile, &engines.config.missile, &holder);
    if engines.config.demo {
        demo::run(&state).await;
    }
}

/// Publishes one engine finding as a report of this node's party.
pub(crate) async fn publish_finding(
    state: &AppState,
    finding: Finding,
) -> Result<trilat_core::Report, AppError> {
    publish_finding_in(state, state.store.clone(), finding).await
}

/// [`publish_finding`] into `store` (a partition owner's fenced store).
pub(crate) async fn publish_finding_in(
    state: &AppState,
    store: std::sync::Arc<dyn trilat_store::ReportStore>,
    finding: Finding,
) -> Result<trilat_core::Report, AppError> {
    let engines = state.engines.get()?;
    let kind = Kind::new(finding.kind).map_err(AppError::internal)?;
    let marking = finding.marking.unwrap_or_else(|| engines.marking.clone());
    let mut draft = ReportDraft::new(
        state.party.clone(),
        kind,
        marking,
        finding.payload,
        crate::now(),
    );
    draft.observed_at = finding.observed_at.min(draft.created_at);
    draft.geometry = finding
        .position
        .map(|(lat, lon)| serde_json::json!({"type": "Point", "coordinates": [lon, lat]}));
    draft.exercise = engines.config.exercise;
    crate::publish_in(state, store, draft, format!("engine:{}", finding.engine)).await
}

/// An engine's finding, before it becomes a report.
pub(crate) struct Finding {
    /// Which engine (audit actor `engine:NAME`).
    pub engine: &'static str,
    /// The report kind.
    pub kind: &'static str,
    /// The payload, valid for the kind.
    pub payload: serde_json::Value,
    /// When the thing was observed.
    pub observed_at: Timestamp,
    /// Where, as (lat, lon).
    pub position: Option<(f64, f64)>,
    /// A marking other than the engines' default (fused products).
    pub marking: Option<Marking>,
}

/// An analyst of this node's own party: the engines publish for the node's
/// party only, so a partner's token may not make this node publish.
pub(crate) fn analyst_of_node(state: &AppState, caller: &Caller) -> Result<(), AppError> {
    caller.require(Role::Analyst)?;
    if caller.party != state.party {
        return Err(AppError::forbidden(format!(
            "this node publishes for {}, not {}",
            state.party, caller.party
        )));
    }
    Ok(())
}
