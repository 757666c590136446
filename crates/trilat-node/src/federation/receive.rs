//! The receive path: judge every report from a peer, store the good ones in
//! one transaction, audit the refusals, tell the live stream. Withdrawals
//! (the owner's notice that a version we hold is no longer current for us)
//! are judged and recorded first, each with its audit entry, so a version
//! arriving in the same page already withdrawn never reaches the stream.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use trilat_core::{Party, Report, ReportKey, Withdrawal};
use trilat_store::{AuditAction, AuditEvent, PutOutcome, ReportStore};
use trilat_sync::{
    judge_page, judge_withdrawal, ReceiveRules, SignatureCheck, Verdict, WithdrawalVerdict,
};

use crate::{now, AppError, AppState, Metrics};

/// What a batch from a peer came to.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceiveSummary {
    /// Versions stored (new reports, newer or older versions).
    pub stored: usize,
    /// Versions already held, or older than held (nothing changed).
    pub duplicate: usize,
    /// Refused reports and withdrawals: `(id, code)`.
    pub refused: Vec<(String, String)>,
    /// Withdrawals recorded (higher than any recorded of their report).
    #[serde(default)]
    pub withdrawn: usize,
}

/// Judges and stores `reports` received from `sender`. Signature checks run
/// on every core of the machine; the store write is one transaction.
pub async fn receive(
    state: &AppState,
    sender: &Party,
    reports: Vec<Report>,
    withdrawals: Vec<Withdrawal>,
) -> Result<ReceiveSummary, AppError> {
    let page = judge(state, sender, reports, withdrawals).await?;
    store(state, page).await
}

/// A page from a peer with every report judged, not yet stored. The pull
/// task judges page N+1 while page N is being stored ([`store`]), so the
/// signature checks (both cores) overlap SQLite's single-threaded commit.
///
/// Judging ahead of the previous page's commit is safe: the verdict
/// depends on the held version only for version order (and the replay
/// shortcut), and the store applies the version rules again inside its
/// transaction (`Report::supersedes`), so a version judged against an older
/// held one is still refused there (audited as `store_refused`); the
/// signature, release and sender rules do not depend on what is held.
#[derive(Debug)]
pub struct JudgedPage {
    sender: Party,
    judged: Vec<Judged>,
    /// Judged when stored: their verdicts depend on what is held then.
    withdrawals: Vec<Withdrawal>,
}

/// Judges every report of a page from `sender` (owner signatures in
/// batches on every core, then the receive rule), on a blocking thread.
pub async fn judge(
    state: &AppState,
    sender: &Party,
    reports: Vec<Report>,
    withdrawals: Vec<Withdrawal>,
) -> Result<JudgedPage, AppError> {
    if reports.is_empty() {
        return Ok(JudgedPage {
            sender: sender.clone(),
            judged: Vec::new(),
            withdrawals,
        });
    }
    let state_bg = state.clone();
    let sender_bg = sender.clone();
    let n_reports = reports.len();
    let judged = tokio::task::spawn_blocking(move || judge_all(&state_bg, &sender_bg, reports))
        .await
        .map_err(AppError::internal)??;
    // Pair assertion with `judge_all`: nothing dropped, nothing added.
    assert_eq!(judged.len(), n_reports, "every report is judged once");
    Ok(JudgedPage {
        sender: sender.clone(),
        judged,
        withdrawals,
    })
}

/// Stores the reports of a judged page the verdicts allow, in one
/// transaction per `BATCH_LEN_MAX` (each version with its receive entry),
/// tells the live stream about the newly current versions and audits the
/// refusals.
pub async fn store(state: &AppState, page: JudgedPage) -> Result<ReceiveSummary, AppError> {
    store_as(state, state.store.clone(), page).await
}

/// [`store`], writing to `store`: the node's store, or a link owner's
/// fenced store (a pulled page is written as the link's owner, so every
/// write is refused once its lease is gone: `AppError` code `fenced`).
pub(super) async fn store_as(
    state: &AppState,
    store: Arc<dyn ReportStore>,
    page: JudgedPage,
) -> Result<ReceiveSummary, AppError> {
    if page.judged.is_empty() && page.withdrawals.is_empty() {
        return Ok(ReceiveSummary::default());
    }
    let state_bg = state.clone();
    let store_bg = store.clone();
    let (summary, fresh, refusals) = tokio::task::spawn_blocking(move || {
        let (state, store) = (&state_bg, &*store_bg);
        let mut withdrawals_summary = ReceiveSummary::default();
        let mut refusals = store_withdrawals(
            (state, store),
            &page.sender,
            page.withdrawals,
            &mut withdrawals_summary,
        )?;
        let (mut summary, fresh, report_refusals) =
            store_blocking((state, store), &page.sender, page.judged)?;
        refusals.extend(report_refusals);
        summary.withdrawn = withdrawals_summary.withdrawn;
        summary.duplicate += withdrawals_summary.duplicate;
        summary.refused.extend(withdrawals_summary.refused);
        let fresh = not_withdrawn(store, fresh)?;
        Ok::<_, AppError>((summary, fresh, refusals))
    })
    .await
    .map_err(AppError::internal)??;
    for report in fresh {
        crate::bus::announce_report(state, &report);
    }
    // The refusals in one transaction; if they cannot be recorded the batch
    // is answered as a fault (the sender retries, receive is idempotent).
    super::owner::audit_all_in(store, refusals).await?;
    Ok(summary)
}

type Judged = (Report, Verdict);

/// Judges and records each withdrawal from `sender` (with its audit entry,
/// in one transaction each: they are few). Returns the refusals to audit.
/// A store failure fails the whole receive (the sender retries; receive is
/// idempotent).
fn store_withdrawals(
    (state, store): (&AppState, &dyn ReportStore),
    sender: &Party,
    withdrawals: Vec<Withdrawal>,
    summary: &mut ReceiveSummary,
) -> Result<Vec<AuditEvent>, AppError> {
    let mut refusals = Vec::new();
    let owner_keys = |party: &Party| state.key_of(party);
    for withdrawal in withdrawals {
        let held = store.get(&withdrawal.key())?;
        let before = store.withdrawal(&withdrawal.key())?.map(|w| w.version);
        let verdict = judge_withdrawal(&withdrawal, sender, held.as_ref(), before, &owner_keys);
        let event = AuditEvent::new(now(), format!("peer:{sender}"), AuditAction::Withdraw)
            .report(withdrawal.key())
            .counterparty(sender.clone());
        match verdict {
            WithdrawalVerdict::Store => {
                let held_text = held.as_ref().map_or("not held".to_string(), |report| {
                    format!("held version {}", report.version)
                });
                let detail = format!(
                    "withdrawn by its owner from version {} ({held_text}); kept in history only",
                    withdrawal.version
                );
                if store.put_withdrawal(&withdrawal, event.detail(detail))? {
                    summary.withdrawn += 1;
                    // Live consoles drop the copy (no subscriber: nothing sent).
                    if let Some(copy) = held.filter(|copy| copy.version < withdrawal.version) {
                        let withdrawn = Arc::new((copy, withdrawal.clone()));
                        crate::bus::announce_withdrawal(state, withdrawn);
                    }
                } else {
                    summary.duplicate += 1;
                }
            }
            WithdrawalVerdict::Duplicate => summary.duplicate += 1,
            WithdrawalVerdict::Refuse(reason) => {
                let code = reason.code();
                summary
                    .refused
                    .push((withdrawal.key().to_string(), code.to_string()));
                refusals.push(AuditEvent {
                    action: AuditAction::Refuse,
                    detail: format!(
                        "withdrawal of version {} from {sender} refused: {reason}",
                        withdrawal.version
                    ),
                    ..event
                });
            }
            // A verdict this node does not know yet: record nothing.
            _ => summary
                .refused
                .push((withdrawal.key().to_string(), "unknown_verdict".into())),
        }
    }
    Ok(refusals)
}

/// The newly current versions the live stream may announce: not those a
/// withdrawal covers (recorded in this page or before: a push may bring a
/// withdrawal ahead of the page that brings the version it withdraws).
fn not_withdrawn(
    store: &dyn ReportStore,
    fresh: Vec<Arc<Report>>,
) -> Result<Vec<Arc<Report>>, AppError> {
    if fresh.is_empty() {
        return Ok(fresh);
    }
    let mut versions = Vec::with_capacity(fresh.len());
    for chunk in fresh.chunks(trilat_store::BATCH_LEN_MAX) {
        let ids: Vec<ReportKey> = chunk.iter().map(|report| report.key()).collect();
        versions.extend(store.withdrawn_versions(&ids)?);
    }
    assert_eq!(versions.len(), fresh.len(), "one answer per version");
    Ok(fresh
        .into_iter()
        .zip(versions)
        .filter(|(report, withdrawn)| withdrawn.is_none_or(|version| version <= report.version))
        .map(|(report, _)| report)
        .collect())
}

fn judge_all(
    state: &AppState,
    sender: &Party,
    reports: Vec<Report>,
) -> Result<Vec<Judged>, AppError> {
    // The held version of each report (owner and id: another owner's
    // report under the same id is another report), read in one go (the
    // store skips ids it does not hold, which in a catch-up is nearly all
    // of them).
    let mut unique: Vec<ReportKey> = Vec::with_capacity(reports.len());
    let mut seen: HashSet<ReportKey> = HashSet::with_capacity(reports.len());
    for report in &reports {
        let key = report.key();
        if !seen.contains(&key) {
            seen.insert(key.clone());
            unique.push(key);
        }
    }
    let mut held: HashMap<ReportKey, Report> = HashMap::new();
    for keys in unique.chunks(trilat_store::BATCH_LEN_MAX) {
        let found = state.store.get_many(keys)?;
        assert_eq!(found.len(), keys.len(), "one answer per report");
        for (key, report) in keys.iter().zip(found) {
            if let Some(report) = report {
                assert_eq!(report.key(), *key, "the held version of the asked report");
                held.insert(key.clone(), report);
            }
        }
    }
    let owner_keys = |party: &Party| state.key_of(party);
    let rules = ReceiveRules {
        me: &state.party,
        policy: &state.policy,
        kinds: &state.kinds,
        owner_keys: &owner_keys,
    };
    let check = signature_check();
    let judge_run = |run: Vec<Report>| judge_page(run, sender, &rules, |key| held.get(key), check);
    // Ed25519 verification dominates catch-up: spread it over the cores.
    let n_threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if n_threads == 1 || reports.len() < 64 {
        return Ok(judge_run(reports));
    }
    let n_reports = reports.len();
    let chunk_len = n_reports.div_ceil(n_threads);
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
        // Join every thread before looking at the results, so no panic is
        // left for the scope to re-raise.
        let shares: Vec<std::thread::Result<Vec<Judged>>> =
            handles.into_iter().map(|handle| handle.join()).collect();
        join_shares(shares, n_reports, sender)
    })?;
    assert_eq!(judged.len(), n_reports, "every report is judged once");
    Ok(judged)
}

/// The judged shares of a page from its verification threads, in order. A
/// thread that panicked would take its share of the page with it: the
/// whole page is refused with a clear error instead (nothing is stored, the
/// pull cursor stays, the page is pulled again).
fn join_shares<T>(
    shares: Vec<std::thread::Result<Vec<T>>>,
    n_reports: usize,
    sender: &Party,
) -> Result<Vec<T>, AppError> {
    let n_threads = shares.len();
    let mut judged: Vec<T> = Vec::with_capacity(n_reports);
    let mut n_panicked = 0;
    for share in shares {
        match share {
            Ok(share) => judged.extend(share),
            Err(_) => n_panicked += 1,
        }
    }
    if n_panicked > 0 {
        return Err(AppError::internal(format!(
            "{n_panicked} of {n_threads} signature verification threads panicked while \
             judging a page of {n_reports} reports from {sender}; the page is not stored"
        )));
    }
    if judged.len() != n_reports {
        return Err(AppError::internal(format!(
            "judging a page of {n_reports} reports from {sender} gave {} verdicts; \
             the page is not stored",
            judged.len()
        )));
    }
    Ok(judged)
}

/// How owner signatures of a page are checked: in one batch (the default)
/// or one by one (`TRILAT_FED_VERIFY=single`, kept to compare the two in
/// `trilat bench federation`; both give the same verdicts).
fn signature_check() -> SignatureCheck {
    static CHECK: std::sync::OnceLock<SignatureCheck> = std::sync::OnceLock::new();
    *CHECK.get_or_init(|| match std::env::var("TRILAT_FED_VERIFY").as_deref() {
        Ok("single") => SignatureCheck::OneByOne,
        _ => SignatureCheck::Batch,
    })
}

/// What storing a judged page came to: the summary, the newly current
/// versions (for the live stream) and the refusals to audit.
type Stored = (ReceiveSummary, Vec<Arc<Report>>, Vec<AuditEvent>);

fn store_blocking(
    (state, store): (&AppState, &dyn ReportStore),
    sender: &Party,
    judged: Vec<Judged>,
) -> Result<Stored, AppError> {
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
                    report_owner: Some(report.owner.clone()),
                    counterparty: Some(sender.clone()),
                    detail: format!("version {} {}", report.version, report.marking.banner()),
                };
                batch.push((report, audit));
            }
            Verdict::Duplicate | Verdict::Stale => summary.duplicate += 1,
            Verdict::Refuse(reason) => {
                summary
                    .refused
                    .push((report.key().to_string(), reason.code().to_string()));
                // Clipped to the store's bound by `AppState::audit_all`.
                let detail = format!("received from {sender} refused: {reason}");
                refusals.push(AuditEvent {
                    at: now(),
                    actor: format!("peer:{sender}"),
                    action: AuditAction::Refuse,
                    report_id: Some(report.id),
                    report_owner: Some(report.owner.clone()),
                    counterparty: Some(sender.clone()),
                    detail,
                });
            }
            // A verdict this node does not know yet: store nothing.
            _ => summary
                .refused
                .push((report.key().to_string(), "unknown_verdict".into())),
        }
    }
    // Whether each version of `batch` was stored as its report's current one.
    let mut current_flags = Vec::with_capacity(batch.len());
    for chunk in batch.chunks(trilat_store::BATCH_LEN_MAX) {
        let outcomes = store.put_batch(chunk)?;
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
                        .push((report.key().to_string(), "store_refused".into()));
                    let detail = format!("received from {sender} refused by the store: {e}");
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
    Metrics::bump(&state.metrics.reports_received, summary.stored as u64);
    Metrics::bump(&state.metrics.reports_duplicate, summary.duplicate as u64);
    Metrics::bump(&state.metrics.reports_refused, summary.refused.len() as u64);
    Ok((summary, fresh, refusals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicked_verification_thread_refuses_the_page_clearly() {
        let sender = Party::new("USA").unwrap();
        let shares = std::thread::scope(|scope| {
            let handles = vec![
                scope.spawn(|| vec![1, 2, 3]),
                scope.spawn(|| -> Vec<i32> { panic!("verification thread fault (test)") }),
            ];
            handles.into_iter().map(|h| h.join()).collect::<Vec<_>>()
        });
        let error = join_shares(shares, 6, &sender).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("1 of 2 signature verification threads panicked"),
            "{error}"
        );
        let ok = join_shares(vec![Ok(vec![1, 2]), Ok(vec![3])], 3, &sender).unwrap();
        assert_eq!(ok, vec![1, 2, 3]);
        let short = join_shares(vec![Ok(vec![1, 2])], 3, &sender).unwrap_err();
        assert!(short.to_string().contains("gave 2 verdicts"), "{short}");
    }
}
