//! The local API (`/api/v1`): route table first, then handlers named
//! `resource_verb`, each with its request and response types beside it.
//!
//! Every report that leaves through here passes [`trilat_core::Policy::release`]
//! for the caller's party; reads and refusals are audited.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use trilat_core::{Kind, Marking, Party, Report, ReportDraft, ReportId, ReportKey, Timestamp};
use trilat_store::{AuditAction, AuditEvent, Cursor, ReportQuery};

use crate::config::Role;
use crate::state::{now, Caller};
use crate::{publish_as, AppError, AppState, JsonBody, QueryParams};

/// Every route of the local API and the node: `(method, path)`. The OpenAPI
/// document lists exactly these (a test checks both ways).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/reports"),
    ("GET", "/api/v1/reports"),
    ("GET", "/api/v1/reports/{owner}/{id}"),
    ("PUT", "/api/v1/reports/{owner}/{id}"),
    ("POST", "/api/v1/reports/{owner}/{id}/revoke"),
    ("GET", "/api/v1/changes"),
    ("GET", "/api/v1/withdrawals"),
    ("GET", "/api/v1/stream"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/audit/verify"),
    ("GET", "/api/v1/whoami"),
    ("POST", "/api/v1/demo/replay"),
    ("POST", "/api/v1/release/preview"),
    ("POST", "/api/v1/reports/{owner}/{id}/acknowledge"),
    ("GET", "/api/v1/acknowledgements"),
    ("GET", "/api/v1/federation/peers"),
    ("GET", "/api/v1/federation/leases"),
    ("POST", "/api/v1/federation/peers/{party}/suspend"),
    ("POST", "/api/v1/federation/peers/{party}/resume"),
    ("GET", "/api/v1/geo/zones"),
    ("GET", "/api/v1/ais/vessels"),
    ("POST", "/peer/v1/push"),
    ("GET", "/peer/v1/changes"),
];

/// The routes served under the edge limits (all but the stream).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health_get))
        .route("/metrics", get(metrics_get))
        .route("/api/v1/openapi.json", get(openapi_get))
        .route("/api/v1/reports", post(reports_create).get(reports_query))
        .route(
            "/api/v1/reports/{owner}/{id}",
            get(reports_get).put(reports_version),
        )
        .route("/api/v1/reports/{owner}/{id}/revoke", post(reports_revoke))
        .route("/api/v1/changes", get(changes_get))
        .route("/api/v1/withdrawals", get(withdrawals_get))
        .route("/api/v1/audit", get(audit_get))
        .route("/api/v1/audit/verify", get(audit_verify))
        .route("/api/v1/whoami", get(whoami_get))
}

/// The live stream: long-lived, so outside the timeout and concurrency limit.
pub(crate) fn stream_router() -> Router<AppState> {
    Router::new().route("/api/v1/stream", get(stream_get))
}

/// Unknown paths answer in the node's error format.
pub(crate) async fn fallback() -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        "no such endpoint; see /api/v1/openapi.json",
    )
}

async fn health_get(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "party": state.party }))
}

async fn metrics_get(State(state): State<AppState>, caller: Caller) -> Result<String, AppError> {
    caller.require(Role::Admin)?;
    let mut text = state.metrics.render();
    if let Some(bus) = &state.bus {
        text.push_str(&bus.render_metrics());
    }
    Ok(text)
}

async fn openapi_get() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

async fn whoami_get(State(state): State<AppState>, caller: Caller) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "party": caller.party, "role": caller.role, "name": caller.name, "node": state.party,
    }))
}

/// The body of a create or a new version: what the author decides. The node
/// fills in id, owner, version, times and the signature.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    /// Report kind, e.g. `note`.
    pub kind: Kind,
    /// Who may receive it.
    pub marking: Marking,
    /// The kind's content.
    pub payload: serde_json::Value,
    /// Optional GeoJSON geometry.
    #[serde(default)]
    pub geometry: Option<serde_json::Value>,
    /// When the reported thing was observed (default: now).
    #[serde(default)]
    pub observed_at: Option<Timestamp>,
    /// Exercise report (default false).
    #[serde(default)]
    pub exercise: Option<bool>,
}

/// The answer to a create, version or revoke, and to a get.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReportBody {
    /// The current version the caller may see.
    pub report: Report,
    /// Every version the caller may see, oldest first (`?history=true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<Report>>,
    /// Present when the owner withdrew `report` from this node: a later
    /// version narrowed its marking away from this party. The copy is kept
    /// for the record but is no longer current (it leaves the listing, the
    /// stream and TAXII).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal: Option<trilat_core::Withdrawal>,
}

fn require_writer(state: &AppState, caller: &Caller) -> Result<(), AppError> {
    caller.require(Role::Analyst)?;
    if caller.party != state.party {
        return Err(AppError::forbidden(format!(
            "this node publishes for {}; a {} token cannot",
            state.party, caller.party
        )));
    }
    Ok(())
}

async fn reports_create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<DraftBody>,
) -> Result<(StatusCode, Json<ReportBody>), AppError> {
    require_writer(&state, &caller)?;
    let now = now();
    let mut draft = ReportDraft::new(
        state.party.clone(),
        body.kind,
        body.marking,
        body.payload,
        now,
    );
    draft.geometry = body.geometry;
    draft.observed_at = body.observed_at.unwrap_or(now);
    draft.exercise = body.exercise.unwrap_or(false);
    let report = publish_as(&state, draft, caller.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(ReportBody {
            report,
            history: None,
            withdrawal: None,
        }),
    ))
}

pub(crate) fn parse_id(text: &str) -> Result<ReportId, AppError> {
    ReportId::parse(text).map_err(|e| AppError::bad_request("invalid_id", e.to_string()))
}

/// The report named by the path segments `{owner}/{id}`: a report is its
/// owner and its id (two parties may use one id).
pub(crate) fn parse_key((owner, id): (String, String)) -> Result<ReportKey, AppError> {
    let owner = Party::new(&owner).map_err(|e| {
        AppError::bad_request("invalid_id", format!("owner in the report path: {e}"))
    })?;
    Ok(ReportKey::new(owner, parse_id(&id)?))
}

/// Refuses a write to another party's report: a node issues versions of,
/// and revokes, only the reports it owns.
fn require_own(state: &AppState, report: &ReportKey, what: &str) -> Result<(), AppError> {
    if report.owner != state.party {
        return Err(AppError::forbidden(format!(
            "report {report} is owned by {}; only the owner {what}",
            report.owner
        )));
    }
    Ok(())
}

/// The current version of `report` if the caller's party may see it; a
/// refusal is audited and answered as 404 (existence is not disclosed).
pub(crate) async fn visible_current(
    state: &AppState,
    caller: &Caller,
    report: ReportKey,
) -> Result<Report, AppError> {
    let store = state.store.clone();
    let key = report.clone();
    let current = tokio::task::spawn_blocking(move || store.get(&key))
        .await
        .map_err(AppError::internal)??;
    let Some(current) = current else {
        return Err(AppError::not_found(format!("no report {report}")));
    };
    debug_assert_eq!(current.key(), report);
    if let Err(refusal) = state.policy.release(&current, &caller.party) {
        state
            .audit(
                AuditEvent::new(now(), caller.actor(), AuditAction::Refuse)
                    .report(report.clone())
                    .counterparty(caller.party.clone())
                    .detail(format!("read refused: {refusal}")),
            )
            .await?;
        return Err(AppError::not_found(format!("no report {report}")));
    }
    Ok(current)
}

async fn reports_version(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<DraftBody>,
) -> Result<Json<ReportBody>, AppError> {
    require_writer(&state, &caller)?;
    let id = parse_key(path)?;
    require_own(&state, &id, "issues versions")?;
    let current = visible_current(&state, &caller, id.clone()).await?;
    if body.kind != current.kind {
        return Err(AppError::bad_request(
            "invalid_report",
            format!(
                "report {id} is a {}; a version cannot change the kind",
                current.kind
            ),
        ));
    }
    let mut draft = current.next_version(now());
    draft.marking = body.marking;
    draft.payload = body.payload;
    draft.geometry = body.geometry;
    if let Some(observed_at) = body.observed_at {
        draft.observed_at = observed_at;
    }
    if let Some(exercise) = body.exercise {
        draft.exercise = exercise;
    }
    let report = publish_as(&state, draft, caller.actor()).await?;
    Ok(Json(ReportBody {
        report,
        history: None,
        withdrawal: None,
    }))
}

async fn reports_revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<ReportBody>, AppError> {
    require_writer(&state, &caller)?;
    let id = parse_key(path)?;
    require_own(&state, &id, "revokes it")?;
    let current = visible_current(&state, &caller, id.clone()).await?;
    if current.revoked {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "already_revoked",
            format!("report {id} is already revoked"),
        ));
    }
    let report = publish_as(&state, current.revocation(now()), caller.actor()).await?;
    Ok(Json(ReportBody {
        report,
        history: None,
        withdrawal: None,
    }))
}

/// `?history=true` adds every version the caller may see.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GetParams {
    #[serde(default)]
    history: bool,
}

async fn reports_get(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<(String, String)>,
    QueryParams(params): QueryParams<GetParams>,
) -> Result<Json<ReportBody>, AppError> {
    caller.require(Role::Reader)?;
    let id = parse_key(path)?;
    let report = visible_current(&state, &caller, id.clone()).await?;
    let store = state.store.clone();
    let key = id.clone();
    let withdrawal = tokio::task::spawn_blocking(move || store.withdrawal(&key))
        .await
        .map_err(AppError::internal)??
        .filter(|withdrawal| withdrawal.withdraws(&report));
    let history = if params.history {
        let store = state.store.clone();
        let key = id.clone();
        let versions = tokio::task::spawn_blocking(move || store.history(&key))
            .await
            .map_err(AppError::internal)??;
        Some(
            versions
                .into_iter()
                .filter(|version| state.policy.release(version, &caller.party).is_ok())
                .collect::<Vec<Report>>(),
        )
    } else {
        None
    };
    match &history {
        // Every version in the history leaves the node: all are recorded.
        Some(versions) => {
            let template = AuditEvent::new(now(), caller.actor(), AuditAction::Read)
                .report(id.clone())
                .counterparty(caller.party.clone());
            let mut released = crate::audit::released(versions.iter());
            let current = (report.key(), report.version);
            if !released.contains(&current) {
                released.push(current);
            }
            state
                .audit_all(crate::audit::release_events(template, "history", &released))
                .await?;
        }
        None => {
            state
                .audit(
                    AuditEvent::new(now(), caller.actor(), AuditAction::Read)
                        .report(id)
                        .counterparty(caller.party.clone())
                        .detail(format!("version {}", report.version)),
                )
                .await?
        }
    }
    Ok(Json(ReportBody {
        report,
        history,
        withdrawal,
    }))
}

/// Query string of `GET /api/v1/reports`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryString {
    kind: Option<String>,
    owner: Option<String>,
    from: Option<String>,
    to: Option<String>,
    bbox: Option<String>,
    exercise: Option<bool>,
    #[serde(default)]
    include_revoked: bool,
    #[serde(default)]
    include_withdrawn: bool,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// A page of reports and where the next page starts.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReportsPage {
    /// Current versions the caller may see.
    pub reports: Vec<Report>,
    /// Cursor of the next page, if any.
    pub next: Option<String>,
}

/// Page size when a request names none: small enough for a console's first
/// screen and a quick answer; a tool that wants more asks, up to
/// `limits.page_size_max` (every other bound of the API is in `[limits]`).
const PAGE_SIZE_DEFAULT: usize = 100;

pub(crate) fn page_limit(state: &AppState, limit: Option<usize>) -> Result<usize, AppError> {
    let max = state.config.limits.page_size_max;
    match limit {
        None => Ok(max.min(PAGE_SIZE_DEFAULT)),
        Some(0) => Err(AppError::bad_request(
            "invalid_query",
            "limit must be at least 1",
        )),
        Some(n) if n > max => Err(AppError::bad_request(
            "invalid_query",
            format!("limit {n} is more than the page maximum {max}"),
        )),
        Some(n) => Ok(n),
    }
}

fn parse_cursor(text: Option<&str>) -> Result<Option<Cursor>, AppError> {
    text.filter(|t| !t.is_empty())
        .map(|t| Cursor::parse(t).map_err(|e| AppError::bad_request("bad_cursor", e.to_string())))
        .transpose()
}

fn parse_time(name: &str, text: Option<&str>) -> Result<Option<Timestamp>, AppError> {
    text.map(|t| {
        Timestamp::parse(t)
            .map_err(|e| AppError::bad_request("invalid_query", format!("{name}: {e}")))
    })
    .transpose()
}

pub(crate) fn parse_bbox(text: &str) -> Result<[f64; 4], AppError> {
    let err = || {
        AppError::bad_request(
            "invalid_query",
            format!("bbox {text:?}: expected west,south,east,north in degrees"),
        )
    };
    let parts: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>().map_err(|_| err()))
        .collect::<Result<_, _>>()?;
    let [west, south, east, north] = <[f64; 4]>::try_from(parts).map_err(|_| err())?;
    let valid = (-180.0..=180.0).contains(&west)
        && (-180.0..=180.0).contains(&east)
        && (-90.0..=90.0).contains(&south)
        && (-90.0..=90.0).contains(&north)
        && south <= north;
    if !valid {
        return Err(err());
    }
    Ok([west, south, east, north])
}

async fn reports_query(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<QueryString>,
) -> Result<Json<ReportsPage>, AppError> {
    caller.require(Role::Reader)?;
    let kind = params
        .kind
        .as_deref()
        .map(|k| Kind::new(k).map_err(|e| AppError::bad_request("invalid_query", e)))
        .transpose()?;
    let owner = params
        .owner
        .as_deref()
        .map(|p| Party::new(p).map_err(|e| AppError::bad_request("invalid_query", e.to_string())))
        .transpose()?;
    let query = ReportQuery {
        kind,
        owner,
        observed_from: parse_time("from", params.from.as_deref())?,
        observed_to: parse_time("to", params.to.as_deref())?,
        bbox: params.bbox.as_deref().map(parse_bbox).transpose()?,
        exercise: params.exercise,
        include_revoked: params.include_revoked,
        include_withdrawn: params.include_withdrawn,
        after: parse_cursor(params.cursor.as_deref())?,
        limit: page_limit(&state, params.limit)?,
    };
    let store = state.store.clone();
    let page = tokio::task::spawn_blocking(move || store.query(&query))
        .await
        .map_err(AppError::internal)??;
    let reports: Vec<Report> = page
        .reports
        .into_iter()
        .filter(|report| state.policy.release(report, &caller.party).is_ok())
        .collect();
    audit_read_many(&state, &caller, reports.iter(), "query").await?;
    Ok(Json(ReportsPage {
        reports,
        next: page.next.map(|c| c.to_string()),
    }))
}

/// The audit entries of a page of reads (every released version, see
/// [`crate::audit`]), written before the page is answered.
async fn audit_read_many<'a>(
    state: &AppState,
    caller: &Caller,
    reports: impl Iterator<Item = &'a Report>,
    what: &str,
) -> Result<(), AppError> {
    let template = AuditEvent::new(now(), caller.actor(), AuditAction::Read)
        .counterparty(caller.party.clone());
    let released = crate::audit::released(reports);
    state
        .audit_all(crate::audit::release_events(template, what, &released))
        .await
}

/// Query string of the change feed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangesParams {
    pub(crate) cursor: Option<String>,
    pub(crate) limit: Option<usize>,
}

/// One entry of the change feed.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChangeBody {
    /// Position in this node's store.
    pub seq: u64,
    /// The stored version.
    pub report: Report,
}

/// A page of the change feed.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChangesPage {
    /// Versions the caller may see, in store order.
    pub changes: Vec<ChangeBody>,
    /// Where to resume (always present).
    pub next: String,
    /// Whether more changes are waiting now.
    pub more: bool,
}

async fn changes_get(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ChangesParams>,
) -> Result<Json<ChangesPage>, AppError> {
    caller.require(Role::Reader)?;
    let after = parse_cursor(params.cursor.as_deref())?;
    let limit = page_limit(&state, params.limit)?;
    let store = state.store.clone();
    let page = tokio::task::spawn_blocking(move || store.changes(after.as_ref(), limit))
        .await
        .map_err(AppError::internal)??;
    let changes: Vec<ChangeBody> = page
        .changes
        .into_iter()
        .filter(|change| state.policy.release(&change.report, &caller.party).is_ok())
        .map(|change| ChangeBody {
            seq: change.seq,
            report: change.report,
        })
        .collect();
    audit_read_many(
        &state,
        &caller,
        changes.iter().map(|c| &c.report),
        "changes",
    )
    .await?;
    Ok(Json(ChangesPage {
        changes,
        next: page.next.to_string(),
        more: page.more,
    }))
}

/// Query string of the withdrawal log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WithdrawalsParams {
    /// Where the previous page ended (its `next`); 0 or absent: the start.
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

/// One withdrawal this node recorded: its owner narrowed the report's
/// marking away from this node's party in version `version`, so every
/// version below it held here stopped being current at `received_at`.
#[derive(Debug, Serialize, Deserialize)]
pub struct WithdrawalEntry {
    /// Place in the node's withdrawal log.
    pub seq: u64,
    /// The report's owner.
    pub owner: Party,
    /// The report's id.
    pub id: ReportId,
    /// The version that narrowed it: the versions below it are withdrawn.
    pub version: u64,
    /// When this node recorded it; `null` if before the node kept the time
    /// (a store upgraded from schema 1): withdrawn since an unknown time.
    pub received_at: Option<Timestamp>,
}

/// A page of the withdrawal log.
#[derive(Debug, Serialize, Deserialize)]
pub struct WithdrawalsPage {
    /// Withdrawals of reports the caller may see, oldest first.
    pub withdrawals: Vec<WithdrawalEntry>,
    /// Where to resume (`after=`): the last log entry this page read.
    pub next: u64,
    /// Whether the page was full (more may follow).
    pub more: bool,
}

/// The withdrawal log, for a replay of a past moment (the change feed has
/// every version, this says when each copy was withdrawn). An entry is
/// shown only to a caller who may see the report's current version here,
/// and is audited as a read of the version it withdrew.
async fn withdrawals_get(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<WithdrawalsParams>,
) -> Result<Json<WithdrawalsPage>, AppError> {
    caller.require(Role::Reader)?;
    let limit = page_limit(&state, params.limit)?;
    let store = state.store.clone();
    let after = params.after;
    let (log, held) = tokio::task::spawn_blocking(move || {
        let log = store.withdrawals(after, limit)?;
        let keys: Vec<ReportKey> = log.iter().map(|w| w.report.clone()).collect();
        let held = store.get_many(&keys)?;
        Ok::<_, trilat_store::StoreError>((log, held))
    })
    .await
    .map_err(AppError::internal)??;
    debug_assert_eq!(log.len(), held.len());
    let next = log.last().map_or(after, |w| w.seq);
    let more = log.len() == limit;
    let withdrawals: Vec<WithdrawalEntry> = log
        .into_iter()
        .zip(held)
        .filter(|(_, held)| {
            held.as_ref()
                .is_some_and(|report| state.policy.release(report, &caller.party).is_ok())
        })
        .map(|(w, _)| WithdrawalEntry {
            seq: w.seq,
            owner: w.report.owner,
            id: w.report.id,
            version: w.version,
            received_at: w.stored_at,
        })
        .collect();
    let released: Vec<crate::audit::Released> = withdrawals
        .iter()
        .map(|w| (ReportKey::new(w.owner.clone(), w.id), w.version))
        .collect();
    let template = AuditEvent::new(now(), caller.actor(), AuditAction::Read)
        .counterparty(caller.party.clone());
    state
        .audit_all(crate::audit::release_events(
            template,
            "withdrawals",
            &released,
        ))
        .await?;
    Ok(Json(WithdrawalsPage {
        withdrawals,
        next,
        more,
    }))
}

/// `?exercise=true` streams exercise reports only; the default streams
/// real-world reports only: the two are never mixed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamParams {
    #[serde(default)]
    exercise: bool,
}

async fn stream_get(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<StreamParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    caller.require(Role::Reader)?;
    let receiver = (state.live.subscribe(), state.withdrawn.subscribe());
    let exercise = params.exercise;
    // `open` turns false once the audit log fails: the stream then says so
    // and ends, never sending a report whose release was not recorded.
    let stream = futures::stream::unfold(
        (receiver, state, caller, true),
        move |(mut receiver, state, caller, open)| async move {
            if !open {
                return None;
            }
            loop {
                let next = tokio::select! {
                    report = receiver.0.recv() => report,
                    withdrawn = receiver.1.recv() => match withdrawn {
                        Ok(withdrawn) => match withdrawn_event(&state, &caller, &withdrawn, exercise) {
                            Some(event) => return Some((Ok(event), (receiver, state, caller, true))),
                            None => continue,
                        },
                        Err(e) => Err(e),
                    },
                };
                match next {
                    Ok(report) => match stream_event(&state, &caller, &report, exercise).await {
                        Ok(Some(event)) => {
                            return Some((Ok(event), (receiver, state, caller, true)))
                        }
                        Ok(None) => {}
                        Err(_) => {
                            let event = Event::default()
                                .event("error")
                                .data("the audit log cannot be written; stream closed");
                            return Some((Ok(event), (receiver, state, caller, false)));
                        }
                    },
                    Err(broadcast::error::RecvError::Lagged(n_missed)) => {
                        let event = Event::default().event("lagged").data(format!(
                            "{n_missed} reports skipped; catch up with /api/v1/changes"
                        ));
                        return Some((Ok(event), (receiver, state, caller, true)));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The SSE event for `report` if this subscriber may see it (release rule,
/// exercise flag). The release is audited first; if that fails, the error
/// comes back and nothing is sent.
async fn stream_event(
    state: &AppState,
    caller: &Caller,
    report: &Arc<Report>,
    exercise: bool,
) -> Result<Option<Event>, AppError> {
    if report.exercise != exercise {
        return Ok(None);
    }
    if state.policy.release(report, &caller.party).is_err() {
        return Ok(None);
    }
    let event = Event::default()
        .event("report")
        .id(format!("{}@{}", report.key(), report.version))
        .json_data(report.as_ref())
        .map_err(AppError::internal)?;
    state
        .audit(AuditEvent {
            at: now(),
            actor: caller.actor(),
            action: AuditAction::Release,
            report_id: Some(report.id),
            report_owner: Some(report.owner.clone()),
            counterparty: Some(caller.party.clone()),
            detail: format!("live stream, version {}", report.version),
        })
        .await?;
    crate::Metrics::bump(&state.metrics.stream_events, 1);
    Ok(Some(event))
}

/// The SSE event telling a subscriber that a copy it may have been shown
/// was withdrawn by its owner (`{id, owner, version}`: every version below
/// `version` is gone). Only for subscribers the copy was released to, in
/// its mode; it carries no content, so it is not a release to audit.
fn withdrawn_event(
    state: &AppState,
    caller: &Caller,
    withdrawn: &(Report, trilat_core::Withdrawal),
    exercise: bool,
) -> Option<Event> {
    let (copy, withdrawal) = withdrawn;
    debug_assert!(copy.id == withdrawal.id && copy.owner == withdrawal.owner);
    if copy.exercise != exercise || state.policy.release(copy, &caller.party).is_err() {
        return None;
    }
    let body = serde_json::json!({
        "id": withdrawal.id,
        "owner": withdrawal.owner,
        "version": withdrawal.version,
    });
    Some(
        Event::default()
            .event("withdrawn")
            .id(format!(
                "{}/{}@{}",
                withdrawal.owner, withdrawal.id, withdrawal.version
            ))
            .data(body.to_string()),
    )
}

/// Query string of the audit log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

async fn audit_get(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<AuditParams>,
) -> Result<Response, AppError> {
    caller.require(Role::Admin)?;
    let limit = page_limit(&state, params.limit)?;
    let store = state.store.clone();
    let entries = tokio::task::spawn_blocking(move || store.audit(params.after, limit))
        .await
        .map_err(AppError::internal)??;
    Ok(Json(serde_json::json!({ "entries": entries })).into_response())
}

async fn audit_verify(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    caller.require(Role::Admin)?;
    let store = state.store.clone();
    let verification = tokio::task::spawn_blocking(move || store.verify_audit())
        .await
        .map_err(AppError::internal)??;
    Ok(Json(verification).into_response())
}
