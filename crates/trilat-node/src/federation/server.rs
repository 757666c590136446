//! The peer endpoints: `POST /peer/v1/push` and `GET /peer/v1/changes`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use trilat_core::Report;
use trilat_store::{AuditAction, AuditEvent, Cursor};
use trilat_sync::should_send;

use super::auth::verify_request;
use super::link::body_budget;
use super::receive::{receive, ReceiveSummary};
use crate::audit::{release_events, Released};
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
) -> Result<Response, AppError> {
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
    let page = tokio::task::spawn_blocking(move || {
        let page = store.changes(after.as_ref(), limit)?;
        let cut = cut_page(
            page.changes.into_iter().map(|change| change.report),
            |report| should_send(report, &party, &requester_bg, &policy),
            budget,
        )
        .map_err(AppError::internal)?;
        if let Some(consumed) = cut.consumed {
            // Cut short by size: resume right after the last change served.
            let resume = store.changes(after.as_ref(), consumed)?;
            return Ok::<_, AppError>(cut.finish(&resume.next.to_string(), true));
        }
        Ok(cut.finish(&page.next.to_string(), page.more))
    })
    .await
    .map_err(AppError::internal)??;
    // Recorded before the page leaves: no audit entry, no page.
    let template = AuditEvent::new(now(), format!("peer:{requester}"), AuditAction::Release)
        .counterparty(requester.clone());
    let what = format!("pull up to {}", page.next);
    state
        .audit_all(release_events(template, &what, &page.released))
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], page.body).into_response())
}

/// A page of the change feed cut for one peer, its reports already
/// serialized (each once: the size check and the body share the bytes).
pub struct CutPage {
    /// `{"reports":[` and the reports, comma-separated; no closing yet.
    body: Vec<u8>,
    /// The versions in `body`, in order.
    pub released: Vec<Released>,
    /// If the page was cut short by size: how many feed entries were
    /// consumed (the served ones and the filtered ones before the cut).
    pub consumed: Option<usize>,
}

/// A [`CutPage`] closed into a [`PeerChangesPage`] body.
pub struct ServedPage {
    /// The JSON body.
    pub body: Vec<u8>,
    /// The versions in it, in order.
    pub released: Vec<Released>,
    /// The cursor the page ends at.
    pub next: String,
}

impl CutPage {
    /// Closes the body: `],"next":<next>,"more":<more>}`.
    pub fn finish(mut self, next: &str, more: bool) -> ServedPage {
        self.body.extend_from_slice(b"],\"next\":");
        serde_json::to_writer(&mut self.body, next).expect("a string serializes");
        self.body.extend_from_slice(if more {
            b",\"more\":true}"
        } else {
            b",\"more\":false}"
        });
        ServedPage {
            body: self.body,
            released: self.released,
            next: next.to_string(),
        }
    }
}

/// Serializes the reports of a feed page the filter lets through until the
/// body would pass `budget` bytes (the first one always goes).
pub fn cut_page(
    feed: impl IntoIterator<Item = Report>,
    mut send: impl FnMut(&Report) -> bool,
    budget: usize,
) -> Result<CutPage, serde_json::Error> {
    // `],"next":"<cursor>","more":false}`: under 300 bytes (cursors are
    // at most `CURSOR_LEN_MAX` = 256).
    const TAIL_BYTES: usize = 300;
    let mut page = CutPage {
        body: b"{\"reports\":[".to_vec(),
        released: Vec::new(),
        consumed: None,
    };
    for (consumed, report) in feed.into_iter().enumerate() {
        if !send(&report) {
            continue;
        }
        let mark = page.body.len();
        if !page.released.is_empty() {
            page.body.push(b',');
        }
        serde_json::to_writer(&mut page.body, &report)?;
        if !page.released.is_empty() && page.body.len() + TAIL_BYTES > budget {
            page.body.truncate(mark);
            page.consumed = Some(consumed);
            break;
        }
        page.released.push((report.id, report.version));
    }
    Ok(page)
}

fn serde_urlencoded_query<T: serde::de::DeserializeOwned>(uri: &Uri) -> Result<T, AppError> {
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(AppError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilat_core::{Kind, Marking, NodeKey, Party, ReportDraft, Timestamp, Tlp};

    fn notes(n: usize) -> Vec<Report> {
        let key = NodeKey::from_seed([7; 32]);
        (0..n)
            .map(|idx| {
                ReportDraft::new(
                    Party::new("USA").unwrap(),
                    Kind::new("note").unwrap(),
                    Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]),
                    serde_json::json!({ "text": format!("note {idx}") }),
                    Timestamp::parse("2026-11-28T00:00:00Z").unwrap(),
                )
                .sign(&key)
                .unwrap()
            })
            .collect()
    }

    /// Cuts `n` notes, every `skip`-th filtered out, under `budget`; checks
    /// the body parses back to exactly the served reports, in order.
    #[track_caller]
    fn check(n: usize, skip: usize, budget: usize, served: usize, consumed: Option<usize>) {
        let feed = notes(n);
        let mut idx = 0;
        let cut = cut_page(
            feed.clone(),
            |_| {
                idx += 1;
                idx % skip != 0
            },
            budget,
        )
        .unwrap();
        assert_eq!(cut.released.len(), served);
        assert_eq!(cut.consumed, consumed);
        let released = cut.released.clone();
        let page = cut.finish("c1.00.00", consumed.is_some());
        let parsed: PeerChangesPage = serde_json::from_slice(&page.body).unwrap();
        assert_eq!(parsed.reports.len(), served);
        assert_eq!(parsed.next, "c1.00.00");
        assert_eq!(parsed.more, consumed.is_some());
        let expected: Vec<&Report> = feed
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + 1) % skip != 0)
            .map(|(_, r)| r)
            .take(served)
            .collect();
        assert_eq!(parsed.reports.iter().collect::<Vec<_>>(), expected);
        let expected_released: Vec<Released> = expected.iter().map(|r| (r.id, r.version)).collect();
        assert_eq!(released, expected_released);
        if served > 1 {
            assert!(page.body.len() <= budget, "{} > {budget}", page.body.len());
        }
    }

    #[test]
    fn pages_hold_what_the_filter_passes_under_the_budget() {
        let one = serde_json::to_vec(&notes(1)[0]).unwrap().len();
        check(0, 2, 1 << 20, 0, None);
        check(10, usize::MAX, 1 << 20, 10, None);
        check(10, 2, 1 << 20, 5, None);
        check(1, usize::MAX, 1 << 20, 1, None);
        // The first report goes even when it alone passes the budget.
        check(3, usize::MAX, 10, 1, Some(1));
        // Room for three: the fourth is the cut.
        check(10, usize::MAX, 13 + 3 * (one + 1) + 300, 3, Some(3));
        // Filtered entries before the cut count as consumed.
        check(10, 2, 13 + 3 * (one + 1) + 300, 3, Some(6));
    }
}
