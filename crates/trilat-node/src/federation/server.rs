//! The peer endpoints: `POST /peer/v1/push` and `GET /peer/v1/changes`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use trilat_core::{NodeKey, Party, Policy, Report, Withdrawal};
use trilat_store::{AuditAction, AuditEvent, Cursor, ReportStore};
use trilat_sync::{should_send, should_withdraw};

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
    /// The owner's withdrawals for the receiver (see [`Withdrawal`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawals: Vec<Withdrawal>,
}

/// A page of this node's change feed as a peer may receive it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerChangesPage {
    /// Versions the requesting peer may receive, in store order.
    pub reports: Vec<Report>,
    /// Withdrawals for the requesting peer: versions of this page that
    /// narrowed a report of this node's away from it ([`FeedOffer`]).
    #[serde(default)]
    pub withdrawals: Vec<Withdrawal>,
    /// Where to resume.
    pub next: String,
    /// Whether more changes follow now.
    pub more: bool,
}

/// `503 link_suspended` while an administrator has cut the link to
/// `peer`: the peer's tasks treat it as any failure (back off, retry from
/// the same cursor), so they catch up once the link is restored.
pub(super) fn refuse_if_suspended(state: &AppState, peer: &Party) -> Result<(), AppError> {
    if state.suspended.contains(peer) {
        return Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "link_suspended",
            format!(
                "the link to {peer} is suspended by an administrator of {}",
                state.party
            ),
        ));
    }
    Ok(())
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
    refuse_if_suspended(&state, &sender)?;
    let push: PushBody = serde_json::from_slice(&body)
        .map_err(|e| AppError::bad_request("invalid_json", format!("push body: {e}")))?;
    if push.reports.len() > trilat_store::BATCH_LEN_MAX {
        return Err(AppError::bad_request(
            "limit_exceeded",
            format!("at most {} reports per push", trilat_store::BATCH_LEN_MAX),
        ));
    }
    if push.withdrawals.len() > trilat_store::BATCH_LEN_MAX {
        return Err(AppError::bad_request(
            "limit_exceeded",
            format!(
                "at most {} withdrawals per push",
                trilat_store::BATCH_LEN_MAX
            ),
        ));
    }
    let summary = receive(&state, &sender, push.reports, push.withdrawals).await?;
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
    refuse_if_suspended(&state, &requester)?;
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
    let key = state.key.clone();
    let budget = body_budget(state.config.limits.body_bytes_max);
    let requester_bg = requester.clone();
    let page = tokio::task::spawn_blocking(move || {
        let page = store.changes(after.as_ref(), limit)?;
        let cut = cut_page(
            page.changes.into_iter().map(|change| change.report),
            |report| {
                feed_offer(
                    &*store,
                    report,
                    (&party, key.as_ref()),
                    &requester_bg,
                    &policy,
                )
            },
            budget,
        )?;
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
    let mut events = release_events(template, &what, &page.released);
    events.extend(withdrawal_events(&requester, &page.withdrawn, "pull"));
    state.audit_all(events).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], page.body).into_response())
}

/// What this node offers a peer for one version of its change feed.
#[derive(Debug, PartialEq)]
pub enum FeedOffer {
    /// The version itself (the send rule allows it).
    Report,
    /// Not the version but the owner's withdrawal: the version narrowed the
    /// report away from the peer, which was released the one before.
    Withdrawal(Withdrawal),
    /// Nothing.
    Nothing,
}

/// The offer for `report` to `peer` from this node (`me`, signing with
/// `key`): the send rule, else the withdrawal rule against the version
/// before, read from the store (only for this node's own versions after
/// the first that the peer may not have).
pub fn feed_offer(
    store: &dyn ReportStore,
    report: &Report,
    (me, key): (&Party, &NodeKey),
    peer: &Party,
    policy: &Policy,
) -> Result<FeedOffer, AppError> {
    if should_send(report, me, peer, policy) {
        return Ok(FeedOffer::Report);
    }
    if report.owner != *me || report.version < 2 || peer == me {
        return Ok(FeedOffer::Nothing);
    }
    let Some(previous) = store.version(&report.key(), report.version - 1)? else {
        // Not held (cannot happen for the owner's own reports): the peer
        // was never sent it by this node either.
        return Ok(FeedOffer::Nothing);
    };
    if !should_withdraw(&previous, report, me, peer, policy) {
        return Ok(FeedOffer::Nothing);
    }
    let withdrawal = Withdrawal::sign(report, key).map_err(AppError::internal)?;
    Ok(FeedOffer::Withdrawal(withdrawal))
}

/// The audit entries of withdrawals sent to `peer` (one per withdrawal:
/// they are few), recorded before they leave.
pub(super) fn withdrawal_events(
    peer: &Party,
    withdrawn: &[Released],
    how: &str,
) -> Vec<AuditEvent> {
    withdrawn
        .iter()
        .map(|(report, version)| {
            AuditEvent::new(now(), format!("peer:{peer}"), AuditAction::Withdraw)
                .report(report.clone())
                .counterparty(peer.clone())
                .detail(format!(
                    "withdrawal sent ({how}): version {version} is not releasable to {peer}"
                ))
        })
        .collect()
}

/// A page of the change feed cut for one peer, its reports already
/// serialized (each once: the size check and the body share the bytes).
pub struct CutPage {
    /// `{"reports":[` and the reports, comma-separated; no closing yet.
    body: Vec<u8>,
    /// The withdrawals, comma-separated.
    withdrawals: Vec<u8>,
    /// The versions in `body`, in order.
    pub released: Vec<Released>,
    /// The versions whose withdrawals are in the page, in order.
    pub withdrawn: Vec<Released>,
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
    /// The versions whose withdrawals are in it, in order.
    pub withdrawn: Vec<Released>,
    /// The cursor the page ends at.
    pub next: String,
}

impl CutPage {
    /// Closes the body: `],"withdrawals":[…],"next":<next>,"more":<more>}`.
    pub fn finish(mut self, next: &str, more: bool) -> ServedPage {
        self.body.extend_from_slice(b"],\"withdrawals\":[");
        self.body.extend_from_slice(&self.withdrawals);
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
            withdrawn: self.withdrawn,
            next: next.to_string(),
        }
    }
}

/// Serializes what `offer` gives for each version of a feed page (the
/// version, its withdrawal or nothing) until the body would pass `budget`
/// bytes (the first item always goes).
pub fn cut_page(
    feed: impl IntoIterator<Item = Report>,
    mut offer: impl FnMut(&Report) -> Result<FeedOffer, AppError>,
    budget: usize,
) -> Result<CutPage, AppError> {
    // `],"withdrawals":[],"next":"<cursor>","more":false}`: under 300
    // bytes (cursors are at most `CURSOR_LEN_MAX` = 256).
    const TAIL_BYTES: usize = 300;
    let mut page = CutPage {
        body: b"{\"reports\":[".to_vec(),
        withdrawals: Vec::new(),
        released: Vec::new(),
        withdrawn: Vec::new(),
        consumed: None,
    };
    for (consumed, report) in feed.into_iter().enumerate() {
        let offered = offer(&report)?;
        let (out, items) = match &offered {
            FeedOffer::Report => (&mut page.body, &page.released),
            FeedOffer::Withdrawal(_) => (&mut page.withdrawals, &page.withdrawn),
            FeedOffer::Nothing => continue,
        };
        let mark = out.len();
        if !items.is_empty() {
            out.push(b',');
        }
        match &offered {
            FeedOffer::Withdrawal(withdrawal) => serde_json::to_writer(&mut *out, withdrawal),
            _ => serde_json::to_writer(&mut *out, &report),
        }
        .map_err(AppError::internal)?;
        let n_items = page.released.len() + page.withdrawn.len();
        if n_items > 0 && page.body.len() + page.withdrawals.len() + TAIL_BYTES > budget {
            match offered {
                FeedOffer::Report => page.body.truncate(mark),
                _ => page.withdrawals.truncate(mark),
            }
            page.consumed = Some(consumed);
            break;
        }
        match offered {
            FeedOffer::Report => page.released.push((report.key(), report.version)),
            _ => page.withdrawn.push((report.key(), report.version)),
        }
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
                Ok(if idx % skip != 0 {
                    FeedOffer::Report
                } else {
                    FeedOffer::Nothing
                })
            },
            budget,
        )
        .unwrap_or_else(|e| panic!("{e}"));
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
        let expected_released: Vec<Released> =
            expected.iter().map(|r| (r.key(), r.version)).collect();
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
