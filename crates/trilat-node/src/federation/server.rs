//! The peer endpoints: `POST /peer/v1/push` and `GET /peer/v1/changes`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use trilat_core::Report;
use trilat_store::{AuditAction, AuditEvent, Cursor};
use trilat_sync::should_send;

use super::auth::verify_request;
use super::receive::{receive, ReceiveSummary};
use crate::{now, AppError, AppState};

/// The peer routes (signed requests only).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/peer/v1/push", post(peer_push))
        .route("/peer/v1/changes", get(peer_changes))
}

/// Body of a push: a batch of signed reports.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushBody {
    /// The reports, at most `limits.push_batch_max` … up to the body limit.
    pub reports: Vec<Report>,
}

/// A page of this node's change feed as a peer may receive it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerChangesPage {
    /// Versions the requesting peer may receive, in store order.
    pub reports: Vec<Report>,
    /// Where to resume.
    pub next: String,
    /// Whether more changes follow now.
    pub more: bool,
}

fn path_and_query(uri: &Uri) -> &str {
    uri.path_and_query().map_or("/", |pq| pq.as_str())
}

async fn peer_push(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ReceiveSummary>, AppError> {
    let sender = verify_request(&state, &method, path_and_query(&uri), &headers, &body).await?;
    let push: PushBody = serde_json::from_slice(&body)
        .map_err(|e| AppError::bad_request("invalid_json", format!("push body: {e}")))?;
    if push.reports.len() > trilat_store::BATCH_LEN_MAX {
        return Err(AppError::bad_request(
            "limit_exceeded",
            format!("at most {} reports per push", trilat_store::BATCH_LEN_MAX),
        ));
    }
    let summary = receive(&state, &sender, push.reports).await?;
    Ok(Json(summary))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangesParams {
    cursor: Option<String>,
    limit: Option<usize>,
}

async fn peer_changes(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<PeerChangesPage>, AppError> {
    let requester = verify_request(&state, &method, path_and_query(&uri), &headers, b"").await?;
    let params: ChangesParams = serde_urlencoded_query(&uri)?;
    let limit = params.limit.unwrap_or(state.config.limits.pull_page_max);
    if limit == 0 || limit > trilat_store::QUERY_LIMIT_MAX {
        return Err(AppError::bad_request(
            "invalid_query",
            format!("limit must be 1..={}", trilat_store::QUERY_LIMIT_MAX),
        ));
    }
    let after = params
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(Cursor::parse)
        .transpose()?;
    let store = state.store.clone();
    let page = tokio::task::spawn_blocking(move || store.changes(after.as_ref(), limit))
        .await
        .map_err(AppError::internal)??;
    let reports: Vec<Report> = page
        .changes
        .into_iter()
        .map(|change| change.report)
        .filter(|report| should_send(report, &state.party, &requester, &state.policy))
        .collect();
    if !reports.is_empty() {
        state
            .audit(AuditEvent {
                at: now(),
                actor: format!("peer:{requester}"),
                action: AuditAction::Release,
                report_id: (reports.len() == 1).then(|| reports[0].id),
                counterparty: Some(requester.clone()),
                detail: format!("pull: {} versions up to {}", reports.len(), page.next),
            })
            .await;
    }
    Ok(Json(PeerChangesPage {
        reports,
        next: page.next.to_string(),
        more: page.more,
    }))
}

fn serde_urlencoded_query<T: serde::de::DeserializeOwned>(uri: &Uri) -> Result<T, AppError> {
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(AppError::from)
}
