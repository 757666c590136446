//! Critical-mineral supply risk in the node: the USGS Mineral Commodity
//! Summaries and World Bank WGI files named in `[engines.supply] data` are
//! read when the engines start; analysts read indicators, the ranking and
//! scenarios, and publish them as `econ.indicator` and `econ.scenario`
//! reports (and their own figures as `econ.figures`), marked by
//! `[engines.marking]` like every engine report. Who the allies and the
//! countries of concern are is `[engines.supply.groups]`, never code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use trilat_core::{Marking, ReportId};
use trilat_supply::figures::parse_figures;
use trilat_supply::indicators::{ranking, RankEntry, SeriesIndicators};
use trilat_supply::report::FiguresPayload;
use trilat_supply::{commodity, scenario, Dataset, Groups};

use super::{publish_finding, Finding};
use crate::{AppError, AppState, Caller, JsonBody, QueryParams, Role};

mod figures;

/// Most files read from the data directories.
const DATA_FILES_MAX: usize = 1_000;
/// How deep the data directories are walked.
const DATA_DEPTH_MAX: usize = 4;
/// Longest figures file name kept as provenance.
const FILE_NAME_MAX: usize = 256;
/// Most reports one publish request may make.
const PUBLISH_MAX: usize = 200;

/// `[engines.supply]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplyConfig {
    /// Directories (or files) holding the USGS MCS 2024 data release CSVs
    /// (`mcs2024-<code>_world.csv`, `MCS2024_Fig2_Net_Import_Reliance.csv`)
    /// and the WGI CSV; walked a few levels deep.
    #[serde(default)]
    pub data: Vec<PathBuf>,
    /// Partners, allies, countries of concern (ISO alpha-3).
    #[serde(default)]
    pub groups: Groups,
}

/// The supply engine: the data read at start, or why there is none.
pub struct SupplyEngine {
    dataset: Option<Arc<Dataset>>,
    groups: Groups,
    note: Option<String>,
}

impl SupplyEngine {
    /// Reads the configured files (off the async runtime).
    pub async fn load(config: &SupplyConfig) -> SupplyEngine {
        let groups = config.groups.clone();
        let (dataset, note) = if config.data.is_empty() {
            (
                None,
                Some("no data configured ([engines.supply] data = [\"DIR\"])".to_string()),
            )
        } else {
            let dirs = config.data.clone();
            match tokio::task::spawn_blocking(move || load_dataset(&dirs)).await {
                Ok(Ok(data)) => {
                    tracing::info!(commodities = data.world.len(), "supply data loaded");
                    (Some(Arc::new(data)), None)
                }
                Ok(Err(e)) => {
                    tracing::warn!(%e, "supply indicators unavailable");
                    (None, Some(e))
                }
                Err(e) => (None, Some(format!("loading failed: {e}"))),
            }
        };
        SupplyEngine {
            dataset,
            groups,
            note,
        }
    }

    fn dataset(&self) -> Result<&Dataset, AppError> {
        self.dataset.as_deref().ok_or_else(|| {
            AppError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "supply_data_unavailable",
                self.note.clone().unwrap_or_default(),
            )
        })
    }
}

/// Reads every USGS and WGI CSV under `paths` (files or directories,
/// walked [`DATA_DEPTH_MAX`] deep) into a [`Dataset`]. The CLI reads its
/// `--data` the same way.
pub fn load_dataset(paths: &[PathBuf]) -> Result<Dataset, String> {
    let mut files = Vec::new();
    for path in paths {
        collect_csv(path, 0, &mut files)?;
    }
    if files.is_empty() {
        return Err(format!("no CSV files under {paths:?}"));
    }
    let mut texts = Vec::with_capacity(files.len());
    for path in &files {
        let size = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        if size > trilat_supply::FILE_LEN_MAX as u64 {
            continue; // Not one of the data release's files; named files are small.
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {e} (UTF-8 CSV expected)", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        texts.push((name, text));
    }
    let data = Dataset::from_files(texts.iter().map(|(n, t)| (n.as_str(), t.as_str())))
        .map_err(|e| e.to_string())?;
    if data.world.is_empty() {
        return Err(format!(
            "no USGS world files (mcs2024-<code>_world.csv) under {paths:?}"
        ));
    }
    Ok(data)
}

fn collect_csv(path: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            if out.len() >= DATA_FILES_MAX {
                return Err(format!("more than {DATA_FILES_MAX} CSV files"));
            }
            out.push(path.to_path_buf());
        }
        return Ok(());
    }
    if depth >= DATA_DEPTH_MAX {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        collect_csv(&entry, depth + 1, out)?;
    }
    Ok(())
}

/// The file codes of what the caller named (`gallium`, `galli`); empty = all.
pub fn commodity_codes(names: &[String]) -> Result<Vec<String>, String> {
    names
        .iter()
        .flat_map(|n| n.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            commodity::code_of(n)
                .map(str::to_string)
                .ok_or_else(|| format!("{n:?} is none of the 77 MCS 2024 commodities"))
        })
        .collect()
}

/// The ISO codes of `--stop` / `stop`: codes or names.
pub fn country_codes(names: &[String]) -> Result<BTreeSet<String>, String> {
    let codes: BTreeSet<String> = names
        .iter()
        .flat_map(|n| n.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            trilat_supply::country::iso3(n)
                .map(str::to_string)
                .ok_or_else(|| format!("{n:?} is no country of the ISO 3166 table"))
        })
        .collect::<Result<_, _>>()?;
    if codes.len() > scenario::STOP_MAX {
        return Err(format!("at most {} countries", scenario::STOP_MAX));
    }
    Ok(codes)
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/supply/indicators",
            get(indicators_get).post(indicators_publish),
        )
        .route("/supply/ranking", get(ranking_get))
        .route("/supply/scenario", post(scenario_post))
        .route("/supply/figures", post(figures_post))
}

/// `?commodity=gallium,germanium` (empty: all).
#[derive(Debug, Default, Deserialize)]
struct CommodityQuery {
    #[serde(default)]
    commodity: Option<String>,
}

fn bad(e: String) -> AppError {
    AppError::bad_request("invalid_supply_request", e)
}

/// The answer of `GET /api/v1/supply/indicators`.
#[derive(Debug, Serialize)]
struct IndicatorsResponse {
    groups: Groups,
    indicators: Vec<SeriesIndicators>,
}

/// `GET /api/v1/supply/indicators?commodity=…` (reader).
async fn indicators_get(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<CommodityQuery>,
) -> Result<Json<IndicatorsResponse>, AppError> {
    caller.require(Role::Reader)?;
    let engine = &state.engines.get()?.supply;
    let codes = commodity_codes(&q.commodity.into_iter().collect::<Vec<_>>()).map_err(bad)?;
    let indicators = engine.dataset()?.indicators(&engine.groups, &codes);
    Ok(Json(IndicatorsResponse {
        groups: engine.groups.clone(),
        indicators,
    }))
}

/// `GET /api/v1/supply/ranking` (reader).
async fn ranking_get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<RankEntry>>, AppError> {
    caller.require(Role::Reader)?;
    let engine = &state.engines.get()?.supply;
    Ok(Json(ranking(
        &engine.dataset()?.indicators(&engine.groups, &[]),
    )))
}

/// The body of `POST /api/v1/supply/indicators`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest {
    /// Commodities (names or codes).
    commodities: Vec<String>,
}

/// What a publish made.
#[derive(Debug, Serialize)]
struct Published {
    reports: Vec<ReportId>,
}

/// Publishes `payload` as a report of `kind`, in the engines' marking
/// unless `marking` (a scenario built on partners' figures) says otherwise.
async fn publish(
    state: &AppState,
    kind: &'static str,
    payload: &impl Serialize,
    marking: Option<Marking>,
) -> Result<ReportId, AppError> {
    let finding = Finding {
        engine: "supply",
        kind,
        payload: serde_json::to_value(payload).map_err(AppError::internal)?,
        observed_at: crate::now(),
        position: None,
        marking,
    };
    Ok(publish_finding(state, finding).await?.id)
}

/// `POST /api/v1/supply/indicators` (analyst of the node's party): publish
/// one `econ.indicator` report per series of the named commodities.
async fn indicators_publish(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(req): JsonBody<PublishRequest>,
) -> Result<Json<Published>, AppError> {
    super::analyst_of_node(&state, &caller)?;
    let engine = &state.engines.get()?.supply;
    let codes = commodity_codes(&req.commodities).map_err(bad)?;
    if codes.is_empty() {
        return Err(bad("name at least one commodity".into()));
    }
    let indicators = engine.dataset()?.indicators(&engine.groups, &codes);
    if indicators.len() > PUBLISH_MAX {
        return Err(bad(format!(
            "{} series; at most {PUBLISH_MAX} per request",
            indicators.len()
        )));
    }
    let mut reports = Vec::with_capacity(indicators.len());
    for s in &indicators {
        reports.push(publish(&state, "econ.indicator", s, None).await?);
    }
    tracing::info!(by = %caller.name, reports = reports.len(), "supply indicators published");
    Ok(Json(Published { reports }))
}

/// The body of `POST /api/v1/supply/scenario`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioRequest {
    /// `stop` (default) or `pool`.
    #[serde(default)]
    scenario: Option<String>,
    /// Countries that stop exporting (codes or names); for `stop`.
    #[serde(default)]
    stop: Vec<String>,
    /// Commodities (names or codes); empty = all.
    #[serde(default)]
    commodities: Vec<String>,
    /// Publish the result as an `econ.scenario` report (analyst).
    #[serde(default)]
    publish: bool,
}

/// The answer of `POST /api/v1/supply/scenario`.
#[derive(Debug, Serialize)]
struct ScenarioResponse {
    result: serde_json::Value,
    report: Option<ReportId>,
    /// The `econ.figures` reports read for the exposures (own and
    /// partners'), newest first; what was left out is in `notes`.
    figures: Vec<String>,
    notes: Vec<String>,
}

/// `POST /api/v1/supply/scenario` (reader; analyst of the node's party to
/// publish): a stop or pool scenario. A stop's exposures use every
/// `econ.figures` report the caller may see, this node's and partners';
/// published, it carries the combination of the engines' marking and the
/// markings of the figures it used.
async fn scenario_post(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(req): JsonBody<ScenarioRequest>,
) -> Result<Json<ScenarioResponse>, AppError> {
    caller.require(Role::Reader)?;
    if req.publish {
        super::analyst_of_node(&state, &caller)?;
    }
    let engines = state.engines.get()?;
    let engine = &engines.supply;
    let codes = commodity_codes(&req.commodities).map_err(bad)?;
    let indicators = engine.dataset()?.indicators(&engine.groups, &codes);
    let (result, marking, figures, notes) = match req.scenario.as_deref().unwrap_or("stop") {
        "stop" => {
            let stopped = country_codes(&req.stop).map_err(bad)?;
            if stopped.is_empty() {
                return Err(bad(
                    "a stop scenario needs `stop`: one or more countries".into()
                ));
            }
            let held =
                figures::held_figures(&state, &caller, &codes, engines.config.exercise).await?;
            let result = scenario::stop(&indicators, &stopped, &codes, &engine.groups, &held.sets);
            let mut markings = held.markings_used(&result);
            markings.retain(|m| **m != engines.marking);
            let marking = if markings.is_empty() {
                None
            } else {
                markings.push(&engines.marking);
                Some(state.policy.combine(markings).map_err(AppError::internal)?)
            };
            let origins = held.sets.iter().map(|s| s.origin.clone()).collect();
            (serde_json::to_value(result), marking, origins, held.notes)
        }
        "pool" => (
            serde_json::to_value(scenario::pool(&indicators, &codes, &engine.groups)),
            None,
            Vec::new(),
            Vec::new(),
        ),
        other => {
            return Err(bad(format!(
                "scenario {other:?}: expected \"stop\" or \"pool\""
            )))
        }
    };
    let result = result.map_err(AppError::internal)?;
    let report = if req.publish {
        Some(publish(&state, "econ.scenario", &result, marking).await?)
    } else {
        None
    };
    Ok(Json(ScenarioResponse {
        result,
        report,
        figures,
        notes,
    }))
}

/// `POST /api/v1/supply/figures?file=NAME` (analyst of the node's party):
/// the body is a figures CSV (`docs/economic.md`), published as one
/// `econ.figures` report, which this node's scenarios and its partners'
/// (those the marking reaches) then use. 400 names the line.
async fn figures_post(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<FileQuery>,
    body: axum::body::Bytes,
) -> Result<Json<Published>, AppError> {
    super::analyst_of_node(&state, &caller)?;
    state.engines.get()?; // 503 until the engines start, as the other routes.
    let file = q.file.unwrap_or_else(|| "figures.csv".into());
    if file.len() > FILE_NAME_MAX {
        return Err(bad(format!("file name longer than {FILE_NAME_MAX} bytes")));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|e| bad(format!("{file}: not UTF-8 (byte {})", e.valid_up_to())))?;
    let figures = parse_figures(&file, text).map_err(|e| bad(e.to_string()))?;
    let report = publish(
        &state,
        "econ.figures",
        &FiguresPayload { file, figures },
        None,
    )
    .await?;
    Ok(Json(Published {
        reports: vec![report],
    }))
}

/// `?file=NAME`: the figures file's name, for provenance.
#[derive(Debug, Default, Deserialize)]
struct FileQuery {
    #[serde(default)]
    file: Option<String>,
}
