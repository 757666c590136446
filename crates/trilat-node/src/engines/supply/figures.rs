//! The partners' figures a stop scenario uses: every `econ.figures` report
//! this node holds that the caller may see (its own analysts' and those
//! received from partners), read from the store, recorded in the audit log
//! as released to the caller, and the marking a published scenario built on
//! them must carry (a figure never reaches a party through a scenario that
//! its own report could not reach).

use trilat_core::{Kind, Marking, Report};
use trilat_store::{AuditAction, AuditEvent, ReportQuery, QUERY_LIMIT_MAX};
use trilat_supply::figures::{source_for, Figure, FigureKind, FigureSet};
use trilat_supply::report::FiguresPayload;
use trilat_supply::scenario::StopScenario;

use crate::{AppError, AppState, Caller};

/// Most `econ.figures` reports one scenario reads.
const REPORTS_MAX: usize = 1_000;
/// Most figures one scenario holds.
const FIGURES_MAX: usize = 50_000;

/// The figure sets a caller may use, newest first, each with its report's
/// marking, and what was left out.
pub(super) struct HeldFigures {
    /// One per report, newest first (the order [`source_for`] prefers).
    pub sets: Vec<FigureSet>,
    /// The marking of each set's report (same index).
    pub markings: Vec<Marking>,
    /// What was not read, in words (bounds reached, unreadable payloads).
    pub notes: Vec<String>,
}

impl HeldFigures {
    /// The markings of the sets `result` took an exposure from.
    pub fn markings_used(&self, result: &StopScenario) -> Vec<&Marking> {
        let mut used = vec![false; self.sets.len()];
        for outcome in &result.outcomes {
            for exposure in &outcome.exposures {
                if let Some(set) = source_for(&self.sets, &exposure.party, &outcome.commodity) {
                    let idx = self
                        .sets
                        .iter()
                        .position(|s| std::ptr::eq(s, set))
                        .expect("source_for returns one of the sets");
                    used[idx] = true;
                }
            }
        }
        self.markings
            .iter()
            .zip(used)
            .filter_map(|(m, u)| u.then_some(m))
            .collect()
    }
}

/// The `econ.figures` reports of this node's mode (exercise or not) that
/// `caller` may see, kept to the reliance and import shares of
/// `commodities` (file codes; empty = all). The reports read are audited
/// as released to the caller before anything is answered.
pub(super) async fn held_figures(
    state: &AppState,
    caller: &Caller,
    commodities: &[String],
    exercise: bool,
) -> Result<HeldFigures, AppError> {
    let reports = visible_reports(state, caller, exercise).await?;
    let mut held = HeldFigures {
        sets: Vec::new(),
        markings: Vec::new(),
        notes: Vec::new(),
    };
    let mut used: Vec<&Report> = Vec::new();
    let mut n_figures = 0;
    for report in &reports.0 {
        let payload: FiguresPayload = match serde_json::from_value(report.payload.clone()) {
            Ok(payload) => payload,
            Err(e) => {
                held.notes.push(format!("{}: not read ({e})", report.key()));
                continue;
            }
        };
        let figures: Vec<_> = payload
            .figures
            .into_iter()
            .filter(|f| commodities.is_empty() || commodities.contains(&f.commodity))
            .filter(import_kind)
            .collect();
        let set = FigureSet {
            origin: format!("econ.figures {} ({})", report.key(), payload.file),
            publisher: Some(report.owner.to_string()),
            figures,
        };
        if set.figures.is_empty() {
            continue;
        }
        if n_figures + set.figures.len() > FIGURES_MAX {
            held.notes.push(format!(
                "more than {FIGURES_MAX} figures: {} and older reports not used",
                report.key()
            ));
            break;
        }
        n_figures += set.figures.len();
        held.sets.push(set);
        held.markings.push(report.marking.clone());
        used.push(report);
    }
    held.notes.extend(reports.1);
    let template = AuditEvent::new(crate::now(), caller.actor(), AuditAction::Read)
        .counterparty(caller.party.clone());
    let released = crate::audit::released(used);
    state
        .audit_all(crate::audit::release_events(
            template,
            "supply scenario figures",
            &released,
        ))
        .await?;
    Ok(held)
}

/// What a scenario's exposure reads: reliance and import shares.
fn import_kind(f: &Figure) -> bool {
    matches!(
        f.figure,
        FigureKind::NetImportReliancePct | FigureKind::ImportSharePct
    )
}

/// The current `econ.figures` reports `caller` may see, newest first, at
/// most [`REPORTS_MAX`], and a note when there were more.
async fn visible_reports(
    state: &AppState,
    caller: &Caller,
    exercise: bool,
) -> Result<(Vec<Report>, Option<String>), AppError> {
    let kind = Kind::new("econ.figures").map_err(AppError::internal)?;
    let mut reports = Vec::new();
    let mut after = None;
    let mut note = None;
    loop {
        let query = ReportQuery {
            kind: Some(kind.clone()),
            exercise: Some(exercise),
            after: after.take(),
            limit: QUERY_LIMIT_MAX,
            ..ReportQuery::default()
        };
        let store = state.store.clone();
        let page = tokio::task::spawn_blocking(move || store.query(&query))
            .await
            .map_err(AppError::internal)??;
        reports.extend(
            page.reports
                .into_iter()
                .filter(|r| state.policy.release(r, &caller.party).is_ok()),
        );
        if reports.len() >= REPORTS_MAX {
            if page.next.is_some() || reports.len() > REPORTS_MAX {
                note = Some(format!(
                    "more than {REPORTS_MAX} econ.figures reports: the {REPORTS_MAX} newest of the first read were used"
                ));
            }
            break;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    reports.sort_by(|a, b| b.modified.cmp(&a.modified).then(b.key().cmp(&a.key())));
    reports.truncate(REPORTS_MAX);
    Ok((reports, note))
}
