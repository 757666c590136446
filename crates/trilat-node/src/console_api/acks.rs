//! Acknowledgements: a watch officer confirms a warning was seen
//! (`POST /api/v1/reports/{owner}/{id}/acknowledge`). An acknowledgement is an
//! audit entry (action `acknowledge`) and nothing else: the listing
//! (`GET /api/v1/acknowledgements`) reads it back from the audit log,
//! newest first, over the last [`ACK_SCAN_ENTRIES_MAX`] entries, and shows
//! only acknowledgements of reports the caller's party may see.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use trilat_core::{Party, Policy, ReportId, ReportKey, Timestamp};
use trilat_store::{AuditAction, AuditEntry, AuditEvent, ReportStore, StoreError, QUERY_LIMIT_MAX};

use crate::api::{page_limit, parse_key, visible_current};
use crate::config::Role;
use crate::state::now;
use crate::{AppError, AppState, Caller, QueryParams};

/// Longest note an acknowledgement may carry, bytes.
pub const ACK_NOTE_BYTES_MAX: usize = 1024;
/// Audit entries the listing reads back from the newest: acknowledgements
/// older than that are not listed (they stay in the audit log).
pub const ACK_SCAN_ENTRIES_MAX: u64 = 100_000;

/// The optional body of an acknowledgement.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    #[serde(default)]
    note: Option<String>,
}

/// One acknowledgement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(super) struct Ack {
    report_id: ReportId,
    /// With `report_id`, the report acknowledged (two owners may use one id).
    report_owner: Party,
    version: u64,
    by: String,
    at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

pub(super) async fn acknowledge_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Ack>, AppError> {
    caller.require(Role::Reader)?;
    let id = parse_key(path)?;
    let body: AckBody = if body.iter().all(u8::is_ascii_whitespace) {
        AckBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::bad_request("invalid_json", format!("body: {e}")))?
    };
    if let Some(note) = &body.note {
        if note.len() > ACK_NOTE_BYTES_MAX {
            return Err(AppError::bad_request(
                "invalid_request",
                format!("note is {} bytes; at most {ACK_NOTE_BYTES_MAX}", note.len()),
            ));
        }
    }
    let report = visible_current(&state, &caller, id.clone()).await?;
    let ack = Ack {
        report_id: id.id,
        report_owner: id.owner,
        version: report.version,
        by: caller.actor(),
        at: now(),
        note: body.note,
    };
    state.audit(ack_event(&ack, &caller.party)).await?;
    Ok(Json(ack))
}

/// The audit entry of an acknowledgement; [`ack_of`] reads it back.
fn ack_event(ack: &Ack, party: &Party) -> AuditEvent {
    let detail = match &ack.note {
        Some(note) => format!("version {}: {note}", ack.version),
        None => format!("version {}", ack.version),
    };
    AuditEvent::new(ack.at, ack.by.clone(), AuditAction::Acknowledge)
        .report(ack.key())
        .counterparty(party.clone())
        .detail(detail)
}

/// The acknowledgement an audit entry records, if it is one.
fn ack_of(entry: &AuditEntry) -> Option<Ack> {
    let event = &entry.event;
    if event.action != AuditAction::Acknowledge {
        return None;
    }
    let rest = event.detail.strip_prefix("version ")?;
    let (version, note) = match rest.split_once(": ") {
        Some((version, note)) => (version, Some(note.to_string())),
        None => (rest, None),
    };
    Some(Ack {
        report_id: event.report_id?,
        report_owner: event.report_owner.clone()?,
        version: version.parse().ok()?,
        by: event.actor.clone(),
        at: event.at,
        note,
    })
}

impl Ack {
    fn key(&self) -> ReportKey {
        ReportKey::new(self.report_owner.clone(), self.report_id)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AcksParams {
    limit: Option<usize>,
}

/// The listing.
#[derive(Debug, Serialize)]
pub(super) struct AcksPage {
    acknowledgements: Vec<Ack>,
}

pub(super) async fn acknowledgements_get(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<AcksParams>,
) -> Result<Json<AcksPage>, AppError> {
    caller.require(Role::Reader)?;
    let limit = page_limit(&state, params.limit)?;
    let (store, policy, party) = (
        state.store.clone(),
        state.policy.clone(),
        caller.party.clone(),
    );
    let acks = tokio::task::spawn_blocking(move || recent_acks(store, &policy, &party, limit))
        .await
        .map_err(AppError::internal)??;
    // The listing names reports: recorded like any bulk read, every
    // version recoverable (`audit::release_events`), before it is answered.
    let released: Vec<crate::audit::Released> = acks.iter().map(|a| (a.key(), a.version)).collect();
    let template = AuditEvent::new(now(), caller.actor(), AuditAction::Read)
        .counterparty(caller.party.clone());
    state
        .audit_all(crate::audit::release_events(
            template,
            "acknowledgements",
            &released,
        ))
        .await?;
    Ok(Json(AcksPage {
        acknowledgements: acks,
    }))
}

/// Up to `limit` acknowledgements of reports `party` may see (the current
/// version decides), newest first, from the last [`ACK_SCAN_ENTRIES_MAX`]
/// audit entries, read a page at a time from the newest.
fn recent_acks(
    store: Arc<dyn ReportStore>,
    policy: &Policy,
    party: &Party,
    limit: usize,
) -> Result<Vec<Ack>, StoreError> {
    let last_seq = store.audit_last_seq()?;
    let scan_from = last_seq.saturating_sub(ACK_SCAN_ENTRIES_MAX);
    let mut acks = Vec::new();
    let mut page_end = last_seq;
    while page_end > scan_from && acks.len() < limit {
        let page_start = page_end
            .saturating_sub(QUERY_LIMIT_MAX as u64)
            .max(scan_from);
        let entries = store.audit(page_start, (page_end - page_start) as usize)?;
        let mut page: Vec<Ack> = entries.iter().rev().filter_map(ack_of).collect();
        let ids: Vec<ReportKey> = page.iter().map(Ack::key).collect();
        let reports = store.get_many(&ids)?;
        let mut reports = reports.into_iter();
        page.retain(|_| {
            let report = reports.next().flatten();
            report.is_some_and(|report| policy.release(&report, party).is_ok())
        });
        acks.extend(page);
        page_end = page_start;
    }
    acks.truncate(limit);
    debug_assert!(acks.len() <= limit);
    Ok(acks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ack_reads_back_from_its_audit_entry() {
        let id = ReportId::new_v7(Timestamp::from_unix_ms(1));
        for note in [None, Some("seen: track 7".to_string())] {
            let ack = Ack {
                report_id: id,
                report_owner: Party::new("USA").unwrap(),
                version: 3,
                by: "JPN:watch".into(),
                at: Timestamp::from_unix_ms(9),
                note,
            };
            let event = ack_event(&ack, &Party::new("JPN").unwrap());
            let entry = AuditEntry {
                seq: 1,
                event,
                prev_hash: String::new(),
                hash: String::new(),
            };
            assert_eq!(ack_of(&entry), Some(ack));
        }
    }
}
