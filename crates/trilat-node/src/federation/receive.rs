//! The receive path: judge every report from a peer, store the good ones in
//! one transaction, audit the refusals, tell the live stream.

use std::collections::HashMap;
use std::sync::Arc;

use trilat_core::{Party, Report, ReportId};
use trilat_store::{AuditAction, AuditEvent, PutOutcome};
use trilat_sync::{judge_incoming, judge_incoming_checked, verify_page, Verdict};

use crate::{now, AppError, AppState, Metrics};

/// What a batch from a peer came to.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceiveSummary {
    /// Versions stored (new reports, newer or older versions).
    pub stored: usize,
    /// Versions already held, or older than held (nothing changed).
    pub duplicate: usize,
    /// Refused reports: `(id, code)`.
    pub refused: Vec<(String, String)>,
}

/// Judges and stores `reports` received from `sender`. Signature checks run
/// on every core of the machine; the store write is one transaction.
pub async fn receive(
    state: &AppState,
    sender: &Party,
    reports: Vec<Report>,
) -> Result<ReceiveSummary, AppError> {
    if reports.is_empty() {
        return Ok(ReceiveSummary::default());
    }
    let state_bg = state.clone();
    let sender_bg = sender.clone();
    let (summary, fresh) =
        tokio::task::spawn_blocking(move || receive_blocking(&state_bg, &sender_bg, reports))
            .await
            .map_err(AppError::internal)??;
    for report in fresh {
        let _ = state.live.send(report);
    }
    Ok(summary)
}

type Judged = (Report, Verdict);

fn judge_all(
    state: &AppState,
    sender: &Party,
    reports: Vec<Report>,
) -> Result<Vec<Judged>, AppError> {
    let ids: Vec<ReportId> = reports.iter().map(|r| r.id).collect();
    let mut held: HashMap<ReportId, Report> = HashMap::new();
    for id in ids {
        if held.contains_key(&id) {
            continue;
        }
        if let Some(report) = state.store.get(&id)? {
            held.insert(id, report);
        }
    }
    let owner_keys = |party: &Party| state.key_of(party);
    let batch = batch_verification();
    // Judges a run of the page: owner signatures first, in one batch
    // verification, then the receive rule report by report.
    let judge_run = |run: Vec<Report>| -> Vec<Judged> {
        if !batch {
            return run
                .into_iter()
                .map(|report| {
                    let verdict = judge_incoming(
                        &report,
                        sender,
                        &state.party,
                        held.get(&report.id),
                        &state.policy,
                        &state.kinds,
                        &owner_keys,
                    );
                    (report, verdict)
                })
                .collect();
        }
        let checks = verify_page(&run, |id| held.get(id), &owner_keys);
        assert_eq!(checks.len(), run.len(), "one signature check per report");
        run.into_iter()
            .zip(checks)
            .map(|(report, signature)| {
                let verdict = judge_incoming_checked(
                    &report,
                    sender,
                    &state.party,
                    held.get(&report.id),
                    &state.policy,
                    &state.kinds,
                    &owner_keys,
                    signature,
                );
                (report, verdict)
            })
            .collect()
    };
    // Ed25519 verification dominates catch-up: spread it over the cores.
    let n_threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if n_threads == 1 || reports.len() < 64 {
        return Ok(judge_run(reports));
    }
    let chunk_len = reports.len().div_ceil(n_threads);
    let mut chunks: Vec<Vec<Report>> = Vec::new();
    let mut reports = reports.into_iter().peekable();
    while reports.peek().is_some() {
        chunks.push(reports.by_ref().take(chunk_len).collect());
    }
    let judged = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(|| judge_run(chunk)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    Ok(judged)
}

/// Whether owner signatures of a page are checked in one batch (the
/// default) or one by one (`TRILAT_FED_VERIFY=single`, kept to compare the
/// two in `trilat bench federation`; both give the same verdicts).
fn batch_verification() -> bool {
    static BATCH: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *BATCH.get_or_init(|| std::env::var("TRILAT_FED_VERIFY").as_deref() != Ok("single"))
}

fn receive_blocking(
    state: &AppState,
    sender: &Party,
    reports: Vec<Report>,
) -> Result<(ReceiveSummary, Vec<Arc<Report>>), AppError> {
    let n_reports = reports.len();
    let judged = judge_all(state, sender, reports)?;
    assert_eq!(judged.len(), n_reports, "every report is judged once");
    let mut summary = ReceiveSummary::default();
    let mut batch = Vec::new();
    let mut refusals = Vec::new();
    for (report, verdict) in judged {
        match verdict {
            Verdict::Store => {
                let audit = AuditEvent {
                    at: now(),
                    actor: format!("peer:{sender}"),
                    action: AuditAction::Receive,
                    report_id: Some(report.id),
                    counterparty: Some(sender.clone()),
                    detail: format!("version {} {}", report.version, report.marking.banner()),
                };
                batch.push((report, audit));
            }
            Verdict::Duplicate | Verdict::Stale => summary.duplicate += 1,
            Verdict::Refuse(reason) => {
                summary
                    .refused
                    .push((report.id.to_string(), reason.code().to_string()));
                let mut detail = format!("received from {sender} refused: {reason}");
                crate::state::clip(&mut detail, 2048);
                refusals.push(AuditEvent {
                    at: now(),
                    actor: format!("peer:{sender}"),
                    action: AuditAction::Refuse,
                    report_id: Some(report.id),
                    counterparty: Some(sender.clone()),
                    detail,
                });
            }
            // A verdict this node does not know yet: store nothing.
            _ => summary
                .refused
                .push((report.id.to_string(), "unknown_verdict".into())),
        }
    }
    // Whether each version of `batch` was stored as its report's current one.
    let mut current_flags = Vec::with_capacity(batch.len());
    for chunk in batch.chunks(trilat_store::BATCH_LEN_MAX) {
        let outcomes = state.store.put_batch(chunk)?;
        assert_eq!(outcomes.len(), chunk.len(), "one outcome per version");
        for ((report, audit), outcome) in chunk.iter().zip(outcomes) {
            current_flags.push(matches!(
                outcome,
                Ok(PutOutcome::Stored { current: true, .. })
            ));
            match outcome {
                Ok(PutOutcome::Stored { .. }) => summary.stored += 1,
                Ok(PutOutcome::Duplicate) => summary.duplicate += 1,
                Err(e) => {
                    summary
                        .refused
                        .push((report.id.to_string(), "store_refused".into()));
                    let mut detail = format!("received from {sender} refused by the store: {e}");
                    crate::state::clip(&mut detail, 2048);
                    refusals.push(AuditEvent {
                        action: AuditAction::Refuse,
                        detail,
                        ..audit.clone()
                    });
                }
            }
        }
    }
    assert_eq!(current_flags.len(), batch.len());
    // Moved, not cloned: the stream gets the very reports just stored.
    let fresh: Vec<Arc<Report>> = batch
        .into_iter()
        .zip(current_flags)
        .filter(|(_, current)| *current)
        .map(|((report, _), _)| Arc::new(report))
        .collect();
    for event in refusals {
        state.store.append_audit(event)?;
    }
    Metrics::bump(&state.metrics.reports_received, summary.stored as u64);
    Metrics::bump(&state.metrics.reports_duplicate, summary.duplicate as u64);
    Metrics::bump(&state.metrics.reports_refused, summary.refused.len() as u64);
    Ok((summary, fresh))
}
