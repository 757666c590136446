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
use super::link::body_budget;
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
    /// The reports: at most `limits.push_batch_max`, and split so the body
    /// stays under the body limit ([`super::push_bodies`]).
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
    let party = state.party.clone();
    let policy = state.policy.clone();
    let budget = body_budget(state.config.limits.body_bytes_max);
    let requester_bg = requester.clone();
    let (reports, next, more) = tokio::task::spawn_blocking(move || {
        let page = store.changes(after.as_ref(), limit)?;
        let (reports, consumed) = cut_page(
            page.changes.into_iter().map(|change| change.report),
            |report| should_send(report, &party, &requester_bg, &policy),
            budget,
        );
        if let Some(consumed) = consumed {
            // Cut short by size: resume right after the last change served.
            let cut = store.changes(after.as_ref(), consumed)?;
            return Ok::<_, AppError>((reports, cut.next, true));
        }
        Ok((reports, page.next, page.more))
    })
    .await
    .map_err(AppError::internal)??;
    let page = PeerChangesPage {
        reports,
        next: next.to_string(),
        more,
    };
    let reports = &page.reports;
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
    Ok(Json(page))
}

/// Takes the reports of a feed page the filter lets through until their
/// serialized size would pass `budget` bytes (the first one always goes).
/// Returns them and, if the page was cut short, how many feed entries were
/// consumed (the served ones and the filtered ones before the cut).
pub fn cut_page(
    feed: impl IntoIterator<Item = Report>,
    mut send: impl FnMut(&Report) -> bool,
    budget: usize,
) -> (Vec<Report>, Option<usize>) {
    // `{"reports":[` … `],"next":"<cursor>","more":true}`: under 400 bytes.
    const ENVELOPE_BYTES: usize = 400;
    let mut reports = Vec::new();
    let mut bytes = ENVELOPE_BYTES;
    for (consumed, report) in feed.into_iter().enumerate() {
        if !send(&report) {
            continue;
        }
        let size = serde_json::to_vec(&report).map_or(usize::MAX, |json| json.len() + 1);
        if !reports.is_empty() && bytes.saturating_add(size) > budget {
            return (reports, Some(consumed));
        }
        bytes = bytes.saturating_add(size);
        reports.push(report);
    }
    (reports, None)
}

fn serde_urlencoded_query<T: serde::de::DeserializeOwned>(uri: &Uri) -> Result<T, AppError> {
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(AppError::from)
}
