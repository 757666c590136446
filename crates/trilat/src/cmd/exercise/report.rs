//! `trilat exercise report`: the evidence read from each node (its exercise
//! reports, its audit log's receipts and acknowledgements, the release
//! rule's reasons), the after-action report built from it, JSON and HTML.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context as _};
use serde_json::{json, Value};
use trilat_core::{Party, Report, ReportId, Timestamp};
use trilat_exercise::after_action::Acknowledgement;
use trilat_exercise::{AfterAction, Evidence, NodeEvidence, Receipt, RunRecord};
use trilat_store::AuditAction;

use super::{connect, NodeHandle, ReportArgs};

/// Exercise reports read from one node at most.
const REPORTS_MAX: usize = 100_000;
/// Audit entries read from one node at most.
const AUDIT_ENTRIES_MAX: usize = 2_000_000;
/// Page size of the store and audit reads (the node's default maximum).
const PAGE_LIMIT: usize = 1000;

pub(super) async fn report(args: ReportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.run)
        .with_context(|| format!("reading the run record {}", args.run.display()))?;
    let run: RunRecord = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a run record", args.run.display()))?;
    let urls: Vec<String> = if args.nodes.is_empty() {
        run.nodes.iter().map(|n| n.url.clone()).collect()
    } else {
        args.nodes.clone()
    };
    let nodes = connect(&urls, &args.tokens).await?;
    for (node, expected) in nodes.iter().zip(&run.nodes) {
        if node.party != expected.party {
            bail!(
                "{}: a {} node, but the run played {} there (give the nodes in the run's order)",
                node.url,
                node.party,
                expected.party
            );
        }
    }
    let report = write_report(&run, &nodes, &args.out).await?;
    if args.publish {
        super::control::publish(&report, &nodes).await?;
    }
    Ok(())
}

/// Reads the evidence, builds the report, writes JSON and HTML.
pub(super) async fn write_report(
    run: &RunRecord,
    nodes: &[NodeHandle],
    out: &Path,
) -> anyhow::Result<AfterAction> {
    let report = build_report(run, nodes).await?;
    let json_path = out.join(format!("{}.after-action.json", run.run_id));
    let html_path = out.join(format!("{}.after-action.html", run.run_id));
    std::fs::write(&json_path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", json_path.display()))?;
    std::fs::write(&html_path, trilat_exercise::html::render(&report))
        .with_context(|| format!("writing {}", html_path.display()))?;
    print_summary(&report);
    println!("{}\n{}", json_path.display(), html_path.display());
    Ok(report)
}

fn print_summary(report: &AfterAction) {
    let ms = |v: Option<i64>| v.map_or("-".to_string(), |v| format!("{v} ms"));
    println!("{} ({} injects)", report.scenario, report.injects.len());
    for s in &report.summary {
        println!(
            "  {}: {} received, {} withheld, {} missing; latency p50 {}, p90 {}, max {}",
            s.party,
            s.n_received,
            s.n_withheld,
            s.n_missing,
            ms(s.latency_ms_p50),
            ms(s.latency_ms_p90),
            ms(s.latency_ms_max)
        );
    }
    for finding in &report.findings {
        println!(
            "  {:?} (inject {}): {}",
            finding.kind,
            finding.inject_idx + 1,
            finding.message
        );
    }
}

async fn build_report(run: &RunRecord, nodes: &[NodeHandle]) -> anyhow::Result<AfterAction> {
    let mut evidence = Vec::with_capacity(nodes.len());
    for node in nodes {
        let reports = exercise_reports(node).await?;
        let (receipts, acknowledgements) = audit_evidence(node, run.started_at).await?;
        evidence.push(NodeEvidence {
            party: Some(node.party.clone()),
            reports,
            receipts,
            acknowledgements,
        });
    }
    let withheld = withheld_reasons(nodes, &evidence).await?;
    Ok(trilat_exercise::after_action(
        run,
        &Evidence {
            nodes: &evidence,
            withheld: &withheld,
        },
    ))
}

/// Every exercise report the node stores (current versions), page by page;
/// revoked and withdrawn ones too: they did arrive.
async fn exercise_reports(node: &NodeHandle) -> anyhow::Result<Vec<Report>> {
    let mut reports = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = node
            .client
            .get(&format!(
                "/api/v1/reports?exercise=true&include_revoked=true&include_withdrawn=true&limit={PAGE_LIMIT}&cursor={cursor}"
            ))
            .await?;
        let batch: Vec<Report> = serde_json::from_value(page["reports"].clone())
            .with_context(|| format!("{}: reports page", node.url))?;
        reports.extend(batch);
        if reports.len() > REPORTS_MAX {
            bail!("{}: more than {REPORTS_MAX} exercise reports", node.url);
        }
        match page["next"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => return Ok(reports),
        }
    }
}

/// The `receive` and `acknowledge` entries of the node's audit log from
/// `since` on.
async fn audit_evidence(
    node: &NodeHandle,
    since: Timestamp,
) -> anyhow::Result<(Vec<Receipt>, Vec<Acknowledgement>)> {
    let mut receipts = Vec::new();
    let mut acknowledgements = Vec::new();
    let mut after = 0u64;
    let mut n_read = 0usize;
    loop {
        let page = node
            .client
            .get(&format!("/api/v1/audit?after={after}&limit={PAGE_LIMIT}"))
            .await?;
        let entries: Vec<trilat_store::AuditEntry> =
            serde_json::from_value(page["entries"].clone())
                .with_context(|| format!("{}: audit page", node.url))?;
        let Some(last) = entries.last() else {
            return Ok((receipts, acknowledgements));
        };
        after = last.seq;
        n_read += entries.len();
        if n_read > AUDIT_ENTRIES_MAX {
            bail!("{}: more than {AUDIT_ENTRIES_MAX} audit entries", node.url);
        }
        for entry in entries {
            let event = entry.event;
            if event.at < since {
                continue;
            }
            let Some(report_id) = event.report_id else {
                continue;
            };
            match event.action {
                AuditAction::Receive => receipts.push(receipt_of(report_id, event)),
                AuditAction::Acknowledge => acknowledgements.push(Acknowledgement {
                    report_id,
                    by: event.actor,
                    at: event.at,
                }),
                _ => {}
            }
        }
    }
}

/// A `receive` entry; its detail reads `version N MARKING`.
fn receipt_of(report_id: ReportId, event: trilat_store::AuditEvent) -> Receipt {
    Receipt {
        report_id,
        version: event
            .detail
            .strip_prefix("version ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok()),
        from: event.counterparty,
        at: event.at,
    }
}

/// For each product a party does not hold, the release rule's reason as
/// the owner's node states it (`POST /api/v1/release/preview`, the rule's
/// own call); no reason when the rule would release it (a gap).
async fn withheld_reasons(
    nodes: &[NodeHandle],
    evidence: &[NodeEvidence],
) -> anyhow::Result<BTreeMap<(ReportId, Party), String>> {
    let mut reasons = BTreeMap::new();
    let mut previews: BTreeMap<String, Value> = BTreeMap::new();
    for (owner_node, owner_evidence) in nodes.iter().zip(evidence) {
        for report in owner_evidence
            .reports
            .iter()
            .filter(|r| r.owner == owner_node.party)
        {
            let lacking: Vec<&Party> = nodes
                .iter()
                .zip(evidence)
                .filter(|(n, e)| {
                    n.party != report.owner && !e.reports.iter().any(|r| r.id == report.id)
                })
                .map(|(n, _)| &n.party)
                .collect();
            if lacking.is_empty() {
                continue;
            }
            let body = json!({ "marking": report.marking, "kind": report.kind });
            let key = body.to_string();
            if !previews.contains_key(&key) {
                let answer = owner_node
                    .client
                    .post("/api/v1/release/preview", &body)
                    .await?;
                previews.insert(key.clone(), answer);
            }
            for recipient in previews[&key]["recipients"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let Some(party) = recipient["party"].as_str() else {
                    continue;
                };
                let (Some(reason), false) =
                    (recipient["reason"].as_str(), recipient["released"] == true)
                else {
                    continue;
                };
                if let Some(party) = lacking.iter().find(|p| p.as_str() == party) {
                    reasons.insert((report.id, (*party).clone()), reason.to_string());
                }
            }
        }
    }
    Ok(reasons)
}
