//! Sanctions screening in the node: lists loaded from the stores that
//! `trilat sanctions import` writes, name and identifier screening
//! endpoints, list status, and publication of analyst-reviewed hits as
//! `sanctions.hit` / `sanctions.id-hit` reports.
//! Designations go through the generic report API (kind
//! `sanctions.designation`), validated by the sanctions engine.

use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use trilat_core::Marking;
use trilat_sanctions::ident::index::{IdHit, IdScreening};
use trilat_sanctions::model::{IdScheme, Identifier, ListVersion, PartialDate, Schema};
use trilat_sanctions::report::{HitDecision, HitPayload, IdHitPayload};
use trilat_sanctions::unihan::HanReadings;
use trilat_sanctions::{Hit, Query, Screener};

use super::{publish_finding, Finding, SanctionsConfig};
use crate::{AppError, AppState, Caller, JsonBody};

/// Largest stored list file read.
const LIST_FILE_BYTES_MAX: u64 = 1024 * 1024 * 1024;
/// Most hits one screening request may ask for.
const SCREEN_LIMIT_MAX: usize = 100;
/// Longest name screened.
const SCREEN_NAME_LEN_MAX: usize = 512;

/// Loaded lists and their index, or why there are none.
pub struct SanctionsEngine {
    screener: Option<Arc<Screener>>,
    status: SanctionsStatus,
}

/// What `/api/v1/sanctions/status` answers.
#[derive(Clone, Debug, Serialize)]
pub struct SanctionsStatus {
    /// Whether screening is possible.
    pub loaded: bool,
    /// Entities indexed.
    pub entities: usize,
    /// Names indexed (with aliases).
    pub names: usize,
    /// Version of each loaded list.
    pub lists: Vec<ListStatus>,
    /// Whether Han-character names are read (always: Trilat ships a Unihan reading table).
    pub han_readings: bool,
    /// Why lists are missing, if they are.
    pub note: Option<String>,
}

/// One loaded list.
#[derive(Clone, Debug, Serialize)]
pub struct ListStatus {
    /// `un`, `ofac`, `jp-mof` …
    pub list: String,
    /// The list's own version.
    pub version: String,
}

impl SanctionsEngine {
    /// Loads the configured list stores (off the async runtime: parsing and
    /// indexing take seconds on full lists).
    pub async fn load(config: &SanctionsConfig) -> SanctionsEngine {
        let config = config.clone();
        let loaded = tokio::task::spawn_blocking(move || build(&config)).await;
        match loaded {
            Ok(Ok(engine)) => engine,
            Ok(Err(note)) => SanctionsEngine::empty(note),
            Err(e) => SanctionsEngine::empty(format!("loading failed: {e}")),
        }
    }

    fn empty(note: String) -> SanctionsEngine {
        if !note.starts_with("no lists configured") {
            tracing::warn!(%note, "sanctions screening unavailable");
        }
        SanctionsEngine {
            screener: None,
            status: SanctionsStatus {
                loaded: false,
                entities: 0,
                names: 0,
                lists: Vec::new(),
                han_readings: false,
                note: Some(note),
            },
        }
    }

    /// The screener, for the maritime engine's vessel checks.
    pub fn screener(&self) -> Option<Arc<Screener>> {
        self.screener.clone()
    }

    /// What is loaded, or why nothing is (what `/api/v1/sanctions/status`
    /// answers; `trilat demo`'s banner prints it).
    pub fn status(&self) -> &SanctionsStatus {
        &self.status
    }
}

fn build(config: &SanctionsConfig) -> Result<SanctionsEngine, String> {
    if config.lists.is_empty() {
        return Err("no lists configured ([engines.sanctions] lists = [\"DIR\"], after `trilat sanctions import --store DIR FILE…`)".into());
    }
    let mut lists = Vec::new();
    for dir in &config.lists {
        lists.extend(load_list_store(dir)?);
    }
    let readings = config
        .unihan
        .as_deref()
        .and_then(|path| match load_han_readings(path) {
            Ok(readings) => Some(Arc::new(readings)),
            Err(e) => {
                tracing::warn!(%e, "Han-character names are read through the shipped table");
                None
            }
        });
    let status_lists: Vec<ListStatus> = lists
        .iter()
        .map(|l| ListStatus {
            list: l.source.slug().to_string(),
            version: l.version.clone(),
        })
        .collect();
    // Trilat ships a Han reading table; a configured Unihan file only replaces it.
    let han_readings = true;
    let screener = Screener::new(lists, readings).map_err(|e| e.to_string())?;
    let status = SanctionsStatus {
        loaded: true,
        entities: screener.entities().len(),
        names: screener.names_len(),
        lists: status_lists,
        han_readings,
        note: None,
    };
    tracing::info!(entities = status.entities, "sanctions lists loaded");
    Ok(SanctionsEngine {
        screener: Some(Arc::new(screener)),
        status,
    })
}

/// Reads every list version stored in `dir` by `trilat sanctions import`
/// (`*.json`, not the `*.delta.json` change files), sorted by file name.
pub fn load_list_store(dir: &Path) -> Result<Vec<ListVersion>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("list store {}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut lists = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.ends_with(".json") || name.ends_with(".delta.json") {
            continue;
        }
        let size = std::fs::metadata(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        if size > LIST_FILE_BYTES_MAX {
            return Err(format!(
                "{}: {size} bytes is more than {LIST_FILE_BYTES_MAX}",
                path.display()
            ));
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let list: ListVersion = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{}: not a stored list version: {e}", path.display()))?;
        lists.push(list);
    }
    if lists.is_empty() {
        return Err(format!(
            "list store {} holds no lists (run `trilat sanctions import --store {} FILE…`)",
            dir.display(),
            dir.display()
        ));
    }
    Ok(lists)
}

/// Reads the Unihan readings table, plain or bzip2-compressed (as Debian's
/// `unicode-data` ships it).
pub fn load_han_readings(path: &Path) -> Result<HanReadings, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("Unihan readings {}: {e}", path.display()))?;
    let text = if path.extension().is_some_and(|e| e == "bz2") {
        let mut text = String::new();
        bzip2::read::BzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .map_err(|e| format!("decompressing {}: {e}", path.display()))?;
        text
    } else {
        String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8: {e}", path.display()))?
    };
    HanReadings::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/sanctions/status", get(sanctions_status))
        .route("/sanctions/screen", post(sanctions_screen))
        .route("/sanctions/hits", post(sanctions_hits_confirm))
        .route("/sanctions/screen-id", post(sanctions_screen_id))
        .route("/sanctions/id-hits", post(sanctions_id_hits_confirm))
}

/// The loaded screener, or 503 naming the status route.
fn loaded_screener(state: &AppState) -> Result<Arc<Screener>, AppError> {
    state
        .engines
        .get()?
        .sanctions
        .screener
        .clone()
        .ok_or_else(|| {
            AppError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "no_lists",
                "no sanctions lists are loaded on this node; see /api/v1/sanctions/status",
            )
        })
}

async fn sanctions_status(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<SanctionsStatus>, AppError> {
    Ok(Json(state.engines.get()?.sanctions.status.clone()))
}

/// A screening request: a name plus what is known of the subject.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenRequest {
    /// The name, in any script.
    pub name: String,
    /// `person`, `organization`, `vessel` or `aircraft`.
    #[serde(default)]
    pub schema: Option<String>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[serde(default)]
    pub dob: Option<String>,
    /// Nationality or flag, ISO 3166-1 alpha-2.
    #[serde(default)]
    pub country: Option<String>,
    /// Identifiers (IMO, passport …) as the sanctions engine models them.
    #[serde(default)]
    pub identifiers: Vec<Identifier>,
    /// Minimum score (default: the engine's alert threshold).
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Most hits (default 10, at most 100).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// The screening answer.
#[derive(Debug, Serialize)]
pub struct ScreenResponse {
    /// The query as screened.
    pub query: Query,
    /// Ranked hits, each with its explanation and source record.
    pub hits: Vec<Hit>,
}

fn screen_query(request: ScreenRequest) -> Result<Query, AppError> {
    let bad = |message: String| AppError::bad_request("invalid_query", message);
    if request.name.trim().is_empty() || request.name.len() > SCREEN_NAME_LEN_MAX {
        return Err(bad(format!(
            "name must be 1 to {SCREEN_NAME_LEN_MAX} bytes"
        )));
    }
    let mut query = Query::name(&request.name);
    if let Some(schema) = request.schema.as_deref() {
        query.schema = Some(Schema::parse(schema).ok_or_else(|| {
            bad(format!(
                "unknown schema {schema:?}: person, organization, vessel or aircraft"
            ))
        })?);
    }
    if let Some(dob) = request.dob.as_deref() {
        query.birth_date = Some(
            PartialDate::parse_iso(dob)
                .ok_or_else(|| bad(format!("dob {dob:?} is not YYYY, YYYY-MM or YYYY-MM-DD")))?,
        );
    }
    query.country = request.country;
    query.identifiers = request.identifiers;
    if let Some(threshold) = request.threshold {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(bad(format!("threshold {threshold} is outside 0..=1")));
        }
        query.threshold = threshold;
    }
    let limit = request.limit.unwrap_or(10);
    if limit == 0 || limit > SCREEN_LIMIT_MAX {
        return Err(bad(format!("limit must be 1 to {SCREEN_LIMIT_MAX}")));
    }
    query.limit = limit;
    Ok(query)
}

async fn sanctions_screen(
    State(state): State<AppState>,
    _caller: Caller,
    JsonBody(request): JsonBody<ScreenRequest>,
) -> Result<Json<ScreenResponse>, AppError> {
    let query = screen_query(request)?;
    let screener = loaded_screener(&state)?;
    let hits = screener.screen(&query);
    Ok(Json(ScreenResponse { query, hits }))
}

/// An analyst's decision on a screening hit, to publish as `sanctions.hit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HitConfirmRequest {
    /// The query as the screening answer returned it.
    pub query: Query,
    /// The hit as the screening answer returned it.
    pub hit: Hit,
    /// The analyst's decision.
    pub decision: HitDecision,
    /// Free text.
    #[serde(default)]
    pub note: String,
    /// The marking (default: the engines' marking).
    #[serde(default)]
    pub marking: Option<Marking>,
}

async fn sanctions_hits_confirm(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<HitConfirmRequest>,
) -> Result<Json<trilat_core::Report>, AppError> {
    super::analyst_of_node(&state, &caller)?;
    let payload = HitPayload {
        query: request.query,
        hit: request.hit,
        decision: request.decision,
        reviewed_by: caller.name.clone(),
        note: request.note,
    };
    let payload = serde_json::to_value(&payload).map_err(AppError::internal)?;
    let finding = Finding {
        engine: "sanctions",
        kind: "sanctions.hit",
        payload,
        observed_at: crate::now(),
        position: None,
        marking: request.marking,
    };
    publish_finding(&state, finding).await.map(Json)
}

/// An identifier screening request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenIdRequest {
    /// The identifier: a wallet address, e-mail, website, phone, BIC, IMO, MMSI, passport …
    pub value: String,
    /// Its type (`digital_currency`, `email`, … as `trilat sanctions screen-id --type`);
    /// default: every type its shape allows.
    #[serde(default, rename = "type")]
    pub scheme: Option<String>,
}

async fn sanctions_screen_id(
    State(state): State<AppState>,
    _caller: Caller,
    JsonBody(request): JsonBody<ScreenIdRequest>,
) -> Result<Json<IdScreening>, AppError> {
    let bad = |message: String| AppError::bad_request("invalid_query", message);
    let max = trilat_sanctions::ident::VALUE_LEN_MAX;
    if request.value.trim().is_empty() || request.value.len() > max {
        return Err(bad(format!("value must be 1 to {max} bytes")));
    }
    let scheme = match request.scheme.as_deref() {
        None => None,
        Some(text) => Some(IdScheme::parse(text).ok_or_else(|| {
            let names: Vec<&str> = IdScheme::ALL.iter().map(|s| s.name()).collect();
            bad(format!(
                "unknown identifier type {text:?}: one of {}",
                names.join(", ")
            ))
        })?),
    };
    let screener = loaded_screener(&state)?;
    Ok(Json(screener.screen_id(&request.value, scheme)))
}

/// An analyst's decision on an identifier hit, to publish as `sanctions.id-hit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdHitConfirmRequest {
    /// The identifier as screened.
    pub query: String,
    /// The hit as the screening answer returned it.
    pub hit: IdHit,
    /// The analyst's decision.
    pub decision: HitDecision,
    /// Free text (where the identifier was seen).
    #[serde(default)]
    pub note: String,
    /// The marking (default: the engines' marking).
    #[serde(default)]
    pub marking: Option<Marking>,
}

async fn sanctions_id_hits_confirm(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<IdHitConfirmRequest>,
) -> Result<Json<trilat_core::Report>, AppError> {
    super::analyst_of_node(&state, &caller)?;
    let payload = IdHitPayload {
        query: request.query,
        hit: request.hit,
        decision: request.decision,
        reviewed_by: caller.name.clone(),
        note: request.note,
    };
    trilat_sanctions::report::validate_id_hit(&payload)
        .map_err(|e| AppError::bad_request("invalid_hit", e.to_string()))?;
    let payload = serde_json::to_value(&payload).map_err(AppError::internal)?;
    let finding = Finding {
        engine: "sanctions",
        kind: "sanctions.id-hit",
        payload,
        observed_at: crate::now(),
        position: None,
        marking: request.marking,
    };
    publish_finding(&state, finding).await.map(Json)
}
