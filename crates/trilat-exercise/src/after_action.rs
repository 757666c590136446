//! The after-action report: for every inject, which products it caused,
//! and for every party whether its node received each one, when, and the
//! latency from the inject; what a party did not receive and the release
//! rule's reason; duplicates and gaps.
//!
//! The figures come from the nodes' own records ([`NodeEvidence`]: the
//! exercise reports each node stores and the `receive` entries of its audit
//! log, and its `acknowledge` entries: a warning seen on a console), never
//! from the runner's memory. The runner's [`RunRecord`] says
//! only when each inject was played and which reports it published itself
//! (an engine's products are found by kind, owner and time).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use trilat_core::{Party, Report, ReportId, Timestamp};

/// Products listed per inject at most (a lofted ICBM's tracker publishes
/// many track updates); the rest are counted.
pub const PRODUCTS_PER_INJECT_MAX: usize = 2_000;

/// What the runner recorded: the controller's log of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// A unique id of the run.
    pub run_id: String,
    /// The scenario's name.
    pub scenario: String,
    /// The speed factor.
    pub speed: f64,
    /// Wall-clock time of exercise time 0.
    pub started_at: Timestamp,
    /// When the last step was played.
    pub ended_at: Timestamp,
    /// The nodes played against.
    pub nodes: Vec<RunNode>,
    /// Every inject, in the scenario's order.
    pub injects: Vec<PlayedInject>,
}

/// One node of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunNode {
    /// The party it speaks for.
    pub party: Party,
    /// Its base URL.
    pub url: String,
}

/// One inject as played.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlayedInject {
    /// The label.
    pub label: String,
    /// The inject's `type`.
    pub type_name: String,
    /// Exercise seconds.
    pub at_s: f64,
    /// When its first step was sent (wall clock).
    pub played_at: Timestamp,
    /// Reports published for it, as the owner's node answered the
    /// runner's requests (a report it posted, or what an engine published
    /// from the detections or AIS lines it sent).
    pub reports: Vec<ReportId>,
    /// For engine-made products: which reports are this inject's.
    pub engine: Option<EngineProducts>,
    /// When its last step was sent: a link restored, a node serving again
    /// (absent in run records written before outages were reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    /// For a link outage its two ends, for a node restart the node's
    /// party; empty for any other inject.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outage_parties: Vec<Party>,
}

/// How an engine's products are told apart: kind, owner, creation time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngineProducts {
    /// Kind prefix, e.g. `missile.`.
    pub kind_prefix: String,
    /// Whose engines publish them.
    pub owners: Vec<Party>,
    /// Created from (the inject's first step).
    pub from: Timestamp,
    /// Created until (the next inject of the same engine, or the run's end
    /// and the settling time after it).
    pub to: Timestamp,
    /// Missiles flown, for a launch (each should be one track).
    pub missiles: Option<u32>,
}

/// What one node holds about the exercise.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeEvidence {
    /// The node's party.
    pub party: Option<Party>,
    /// Its exercise reports (current versions).
    pub reports: Vec<Report>,
    /// The `receive` entries of its audit log.
    pub receipts: Vec<Receipt>,
    /// The `acknowledge` entries of its audit log.
    pub acknowledgements: Vec<Acknowledgement>,
}

/// One `acknowledge` audit entry: a user of the node acknowledged a report
/// (a warning seen on the console).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The report.
    pub report_id: ReportId,
    /// Who (`PARTY:name`).
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// One `receive` audit entry: a version of a report arrived from a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The report.
    pub report_id: ReportId,
    /// The version, when the entry names it.
    pub version: Option<u64>,
    /// The peer it came from.
    pub from: Option<Party>,
    /// When it was stored.
    pub at: Timestamp,
}

/// The report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AfterAction {
    /// The run.
    pub run_id: String,
    /// The scenario.
    pub scenario: String,
    /// The speed factor.
    pub speed: f64,
    /// Exercise time 0.
    pub started_at: Timestamp,
    /// The parties, in the run's node order.
    pub parties: Vec<Party>,
    /// Per inject.
    pub injects: Vec<InjectOutcome>,
    /// Per party, over the whole run.
    pub summary: Vec<PartySummary>,
    /// Duplicates, gaps, products not flagged exercise.
    pub findings: Vec<Finding>,
    /// Link outages and node restarts, with what each party caught up.
    #[serde(default)]
    pub outages: Vec<Outage>,
}

/// A link outage or a node restart: when the runner cut the network, when
/// it restored it, and what the parties it touched received only after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    /// The inject, from 0.
    pub inject_idx: usize,
    /// Its label.
    pub label: String,
    /// `link_outage` or `node_restart`.
    pub type_name: String,
    /// The link's two ends, or the restarted node's party.
    pub parties: Vec<Party>,
    /// When the runner cut the link or stopped the node (its first step).
    pub from: Timestamp,
    /// When it restored the link or the node served again (its last
    /// step; the run's end if the record lacks it).
    pub to: Timestamp,
    /// Per party of `parties`: what it caught up.
    pub caught_up: Vec<CaughtUp>,
}

/// The products a party's node received from a peer only after an outage
/// ended, though they were created before: what it caught up on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaughtUp {
    /// The party.
    pub party: Party,
    /// How many.
    pub n_products: usize,
    /// Which (at most [`PRODUCTS_PER_INJECT_MAX`]), by receipt time.
    pub products: Vec<ReportId>,
    /// When the last of them arrived.
    pub last_at: Option<Timestamp>,
    /// `last_at` after the outage ended: how long catching up took.
    pub last_after_ms: Option<i64>,
}

/// One inject's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InjectOutcome {
    /// Index, from 0.
    pub inject_idx: usize,
    /// Label.
    pub label: String,
    /// The inject's `type`.
    pub type_name: String,
    /// Exercise seconds.
    pub at_s: f64,
    /// When it was played.
    pub played_at: Timestamp,
    /// Per party: the first product it had and how late.
    pub parties: Vec<PartyOutcome>,
    /// Products (at most [`PRODUCTS_PER_INJECT_MAX`]).
    pub products: Vec<Product>,
    /// Products beyond the listed ones.
    pub n_products_unlisted: usize,
}

/// One party's view of one inject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartyOutcome {
    /// The party.
    pub party: Party,
    /// When its node first had a product of the inject (stored or received).
    pub first_at: Option<Timestamp>,
    /// `first_at` minus the inject's time.
    pub latency_ms: Option<i64>,
    /// Products received (or owned).
    pub n_received: usize,
    /// Products the release rule withheld from it.
    pub n_withheld: usize,
    /// Products it may see but does not have.
    pub n_missing: usize,
    /// Products acknowledged at its node.
    pub n_acknowledged: usize,
}

/// One product and where it went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// The report.
    pub id: ReportId,
    /// Its owner.
    pub owner: Party,
    /// Its kind.
    pub kind: String,
    /// Its marking banner.
    pub banner: String,
    /// When the owner created it.
    pub created_at: Timestamp,
    /// One per party of the run.
    pub deliveries: Vec<Delivery>,
}

/// Whether and when one party had one product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The party.
    pub party: Party,
    /// What happened.
    #[serde(flatten)]
    pub status: DeliveryStatus,
    /// The first acknowledgement at the party's node, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Acknowledged>,
}

/// When a party acknowledged a product, and how long after its node had it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Acknowledged {
    /// Who.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// After the node had the product (created or received); `None` when
    /// that time is unknown.
    pub after_ms: Option<i64>,
}

/// What happened to a product for one party.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum DeliveryStatus {
    /// The party owns it: its node created it.
    Owner {
        /// Created at.
        at: Timestamp,
        /// After the inject.
        latency_ms: i64,
    },
    /// Its node received it from a peer.
    Received {
        /// When (its audit log's `receive` entry).
        at: Timestamp,
        /// After the inject.
        latency_ms: i64,
        /// From which peer.
        from: Option<Party>,
    },
    /// Its node holds it but its audit log shows no `receive` entry (the
    /// log was read only in part).
    Stored,
    /// The release rule withholds it from the party.
    Withheld {
        /// The rule's reason.
        reason: String,
    },
    /// The party may see it but its node does not have it: a gap.
    Missing,
}

/// Totals of one party.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartySummary {
    /// The party.
    pub party: Party,
    /// Products received or owned.
    pub n_received: usize,
    /// Products withheld by the release rule.
    pub n_withheld: usize,
    /// Products missing.
    pub n_missing: usize,
    /// Latencies of the injects' first products, nearest rank.
    pub latency_ms_p50: Option<i64>,
    /// See `latency_ms_p50`.
    pub latency_ms_p90: Option<i64>,
    /// See `latency_ms_p50`.
    pub latency_ms_max: Option<i64>,
    /// Every inject latency (for the distribution chart).
    pub latencies_ms: Vec<i64>,
    /// Products acknowledged at its node.
    pub n_acknowledged: usize,
    /// The longest time from having a product to acknowledging it.
    pub acknowledge_ms_max: Option<i64>,
}

/// Something the exercise staff should look at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The inject, from 0.
    pub inject_idx: usize,
    /// `duplicate` or `gap`.
    pub kind: FindingKind,
    /// What.
    pub message: String,
}

/// The kinds of finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// Something arrived or was seen twice (a missile as two tracks).
    Duplicate,
    /// Something did not arrive, or was not seen at all.
    Gap,
    /// A warning a party had but nobody at its node acknowledged.
    Unacknowledged,
    /// A report published for an inject that no node lists among its
    /// exercise reports: published without the exercise flag, or lost.
    NotExercise,
}

/// The inputs besides the run record: what each node holds, and the
/// release rule's reason for each (product, party) it withholds, as the
/// owner's node states it.
pub struct Evidence<'a> {
    /// One per node of the run.
    pub nodes: &'a [NodeEvidence],
    /// `(report, party)` → reason.
    pub withheld: &'a BTreeMap<(ReportId, Party), String>,
}

/// Builds the after-action report.
pub fn after_action(run: &RunRecord, evidence: &Evidence<'_>) -> AfterAction {
    let parties: Vec<Party> = run.nodes.iter().map(|n| n.party.clone()).collect();
    let reports = all_reports(evidence.nodes);
    let mut findings = Vec::new();
    let mut injects = Vec::with_capacity(run.injects.len());
    for (inject_idx, played) in run.injects.iter().enumerate() {
        let products = products_of(played, &reports);
        findings.extend(unlisted_reports(inject_idx, played, &reports));
        let outcome = inject_outcome(inject_idx, played, &products, &parties, evidence);
        findings.extend(inject_findings(inject_idx, played, &products, &outcome));
        injects.push(outcome);
    }
    findings.extend(duplicate_receipts(run, evidence.nodes));
    let summary = parties.iter().map(|p| party_summary(p, &injects)).collect();
    let outages = outages(run, &injects);
    AfterAction {
        run_id: run.run_id.clone(),
        scenario: run.scenario.clone(),
        speed: run.speed,
        started_at: run.started_at,
        parties,
        injects,
        summary,
        findings,
        outages,
    }
}

/// The run's link outages and node restarts (the injects with outage
/// parties: their first and last steps), each with what its parties
/// caught up.
fn outages(run: &RunRecord, injects: &[InjectOutcome]) -> Vec<Outage> {
    let mut outages = Vec::new();
    for (inject_idx, played) in run.injects.iter().enumerate() {
        if played.outage_parties.is_empty() {
            continue;
        }
        let parties = played.outage_parties.clone();
        let to = played.ended_at.unwrap_or(run.ended_at);
        assert!(played.played_at <= to, "an outage ends after it begins");
        let caught_up = parties
            .iter()
            .map(|party| caught_up(party, to, injects))
            .collect();
        outages.push(Outage {
            inject_idx,
            label: played.label.clone(),
            type_name: played.type_name.clone(),
            parties,
            from: played.played_at,
            to,
            caught_up,
        });
    }
    outages
}

/// What `party`'s node received from a peer at or after `to` that was
/// created before `to`.
fn caught_up(party: &Party, to: Timestamp, injects: &[InjectOutcome]) -> CaughtUp {
    let mut received: BTreeMap<ReportId, Timestamp> = BTreeMap::new();
    for product in injects.iter().flat_map(|i| &i.products) {
        if product.created_at >= to {
            continue;
        }
        for delivery in product.deliveries.iter().filter(|d| &d.party == party) {
            if let DeliveryStatus::Received { at, .. } = delivery.status {
                if at >= to {
                    received.insert(product.id, at);
                }
            }
        }
    }
    let mut by_time: Vec<(Timestamp, ReportId)> =
        received.into_iter().map(|(id, at)| (at, id)).collect();
    by_time.sort();
    let last_at = by_time.last().map(|(at, _)| *at);
    CaughtUp {
        party: party.clone(),
        n_products: by_time.len(),
        products: by_time
            .iter()
            .take(PRODUCTS_PER_INJECT_MAX)
            .map(|(_, id)| *id)
            .collect(),
        last_at,
        last_after_ms: last_at.map(|at| at.unix_ms() - to.unix_ms()),
    }
}

/// Every exercise report any node holds, by id (the owner's copy first).
fn all_reports(nodes: &[NodeEvidence]) -> BTreeMap<ReportId, &Report> {
    let mut reports: BTreeMap<ReportId, &Report> = BTreeMap::new();
    for node in nodes {
        for report in node.reports.iter().filter(|r| r.exercise) {
            let owned_here = node.party.as_ref() == Some(&report.owner);
            let entry = reports.entry(report.id).or_insert(report);
            if owned_here || report.version > entry.version {
                *entry = report;
            }
        }
    }
    reports
}

/// The inject's products, by creation time.
fn products_of<'a>(
    played: &PlayedInject,
    reports: &BTreeMap<ReportId, &'a Report>,
) -> Vec<&'a Report> {
    let mut products: Vec<&Report> = played
        .reports
        .iter()
        .filter_map(|id| reports.get(id).copied())
        .collect();
    if let Some(engine) = &played.engine {
        products.extend(reports.values().copied().filter(|r| {
            r.kind.as_str().starts_with(&engine.kind_prefix)
                && engine.owners.contains(&r.owner)
                && engine.from <= r.created_at
                && r.created_at < engine.to
        }));
    }
    products.sort_by_key(|r| (r.created_at, r.id));
    products.dedup_by_key(|r| r.id);
    products
}

fn inject_outcome(
    inject_idx: usize,
    played: &PlayedInject,
    products: &[&Report],
    parties: &[Party],
    evidence: &Evidence<'_>,
) -> InjectOutcome {
    let listed: Vec<Product> = products
        .iter()
        .map(|report| product(played, report, parties, evidence))
        .collect();
    let party_outcomes = parties
        .iter()
        .map(|party| party_outcome(played, party, &listed))
        .collect();
    let n_products_unlisted = listed.len().saturating_sub(PRODUCTS_PER_INJECT_MAX);
    let mut listed = listed;
    listed.truncate(PRODUCTS_PER_INJECT_MAX);
    InjectOutcome {
        inject_idx,
        label: played.label.clone(),
        type_name: played.type_name.clone(),
        at_s: played.at_s,
        played_at: played.played_at,
        parties: party_outcomes,
        products: listed,
        n_products_unlisted,
    }
}

fn product(
    played: &PlayedInject,
    report: &Report,
    parties: &[Party],
    evidence: &Evidence<'_>,
) -> Product {
    let latency = |at: Timestamp| at.unix_ms() - played.played_at.unix_ms();
    let deliveries = parties
        .iter()
        .map(|party| {
            let node = evidence
                .nodes
                .iter()
                .find(|n| n.party.as_ref() == Some(party));
            let status = if &report.owner == party {
                DeliveryStatus::Owner {
                    at: report.created_at,
                    latency_ms: latency(report.created_at),
                }
            } else if let Some(receipt) = node.and_then(|n| first_receipt(n, report.id)) {
                DeliveryStatus::Received {
                    at: receipt.at,
                    latency_ms: latency(receipt.at),
                    from: receipt.from.clone(),
                }
            } else if node.is_some_and(|n| n.reports.iter().any(|r| r.id == report.id)) {
                DeliveryStatus::Stored
            } else if let Some(reason) = evidence.withheld.get(&(report.id, party.clone())) {
                DeliveryStatus::Withheld {
                    reason: reason.clone(),
                }
            } else {
                DeliveryStatus::Missing
            };
            let had_at = match &status {
                DeliveryStatus::Owner { at, .. } | DeliveryStatus::Received { at, .. } => Some(*at),
                _ => None,
            };
            let acknowledged = node
                .and_then(|n| first_ack(n, report.id))
                .map(|ack| Acknowledged {
                    by: ack.by.clone(),
                    at: ack.at,
                    after_ms: had_at.map(|had| ack.at.unix_ms() - had.unix_ms()),
                });
            Delivery {
                party: party.clone(),
                status,
                acknowledged,
            }
        })
        .collect();
    Product {
        id: report.id,
        owner: report.owner.clone(),
        kind: report.kind.as_str().to_string(),
        banner: report.marking.banner(),
        created_at: report.created_at,
        deliveries,
    }
}

fn first_ack(node: &NodeEvidence, id: ReportId) -> Option<&Acknowledgement> {
    node.acknowledgements
        .iter()
        .filter(|a| a.report_id == id)
        .min_by_key(|a| a.at)
}

fn first_receipt(node: &NodeEvidence, id: ReportId) -> Option<&Receipt> {
    node.receipts
        .iter()
        .filter(|r| r.report_id == id)
        .min_by_key(|r| r.at)
}

fn party_outcome(played: &PlayedInject, party: &Party, products: &[Product]) -> PartyOutcome {
    let mut outcome = PartyOutcome {
        party: party.clone(),
        first_at: None,
        latency_ms: None,
        n_received: 0,
        n_withheld: 0,
        n_missing: 0,
        n_acknowledged: 0,
    };
    for delivery in products
        .iter()
        .flat_map(|p| &p.deliveries)
        .filter(|d| &d.party == party)
    {
        outcome.n_acknowledged += usize::from(delivery.acknowledged.is_some());
        let at = match &delivery.status {
            DeliveryStatus::Owner { at, .. } | DeliveryStatus::Received { at, .. } => Some(*at),
            DeliveryStatus::Stored => None,
            DeliveryStatus::Withheld { .. } => {
                outcome.n_withheld += 1;
                continue;
            }
            DeliveryStatus::Missing => {
                outcome.n_missing += 1;
                continue;
            }
        };
        outcome.n_received += 1;
        if let Some(at) = at {
            if outcome.first_at.is_none_or(|first| at < first) {
                outcome.first_at = Some(at);
            }
        }
    }
    outcome.latency_ms = outcome
        .first_at
        .map(|at| at.unix_ms() - played.played_at.unix_ms());
    outcome
}

fn inject_findings(
    inject_idx: usize,
    played: &PlayedInject,
    products: &[&Report],
    outcome: &InjectOutcome,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let finding = |kind, message| Finding {
        inject_idx,
        kind,
        message,
    };
    // A link outage or a restart changes the network, not the picture: it
    // publishes nothing, so nothing missing is a gap.
    if products.is_empty() && !matches!(played.type_name.as_str(), "link_outage" | "node_restart") {
        findings.push(finding(
            FindingKind::Gap,
            format!("{}: no product at any node", played.label),
        ));
    }
    for party in &outcome.parties {
        if party.n_missing > 0 {
            findings.push(finding(
                FindingKind::Gap,
                format!(
                    "{}: {} may see {} product(s) its node does not have",
                    played.label, party.party, party.n_missing
                ),
            ));
        }
    }
    for party in &outcome.parties {
        let warnings: Vec<&Delivery> = outcome
            .products
            .iter()
            .filter(|p| p.kind.ends_with(".warning"))
            .flat_map(|p| &p.deliveries)
            .filter(|d| d.party == party.party)
            .filter(|d| {
                matches!(
                    d.status,
                    DeliveryStatus::Owner { .. } | DeliveryStatus::Received { .. }
                )
            })
            .collect();
        let n_unacknowledged = warnings.iter().filter(|d| d.acknowledged.is_none()).count();
        if n_unacknowledged > 0 {
            findings.push(finding(
                FindingKind::Unacknowledged,
                format!(
                    "{}: {} had {} warning(s), {n_unacknowledged} not acknowledged",
                    played.label,
                    party.party,
                    warnings.len()
                ),
            ));
        }
    }
    if let Some(missiles) = played.engine.as_ref().and_then(|e| e.missiles) {
        let tracks: BTreeSet<u64> = products
            .iter()
            .filter(|r| r.kind.as_str() == "missile.track")
            .filter_map(|r| r.payload["track_id"].as_u64())
            .collect();
        let n_tracks = tracks.len();
        let n_missiles = missiles as usize;
        if n_tracks > n_missiles {
            findings.push(finding(
                FindingKind::Duplicate,
                format!(
                    "{}: {n_missiles} missile(s) seen as {n_tracks} tracks",
                    played.label
                ),
            ));
        } else if n_tracks < n_missiles {
            findings.push(finding(
                FindingKind::Gap,
                format!(
                    "{}: {n_missiles} missile(s), {n_tracks} track(s)",
                    played.label
                ),
            ));
        }
    }
    findings
}

/// Reports the owner's node said it published for the inject that no node
/// lists among its exercise reports.
fn unlisted_reports(
    inject_idx: usize,
    played: &PlayedInject,
    reports: &BTreeMap<ReportId, &Report>,
) -> Vec<Finding> {
    let unlisted: BTreeSet<ReportId> = played
        .reports
        .iter()
        .filter(|id| !reports.contains_key(id))
        .copied()
        .collect();
    let Some(first) = unlisted.first() else {
        return Vec::new();
    };
    vec![Finding {
        inject_idx,
        kind: FindingKind::NotExercise,
        message: format!(
            "{}: {} report(s) published for this inject (first {first}) are not among any node's exercise reports: published without the exercise flag, or lost",
            played.label,
            unlisted.len()
        ),
    }]
}

/// A version received twice at one node (receive is idempotent: a second
/// entry means the store accepted it twice).
fn duplicate_receipts(run: &RunRecord, nodes: &[NodeEvidence]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for node in nodes {
        let mut seen: BTreeMap<(ReportId, u64), usize> = BTreeMap::new();
        for receipt in &node.receipts {
            if let Some(version) = receipt.version {
                *seen.entry((receipt.report_id, version)).or_insert(0) += 1;
            }
        }
        for ((id, version), n) in seen.into_iter().filter(|(_, n)| *n > 1) {
            let inject_idx = run
                .injects
                .iter()
                .position(|i| i.reports.contains(&id))
                .unwrap_or(0);
            let party = node.party.as_ref().map_or("?", |p| p.as_str());
            findings.push(Finding {
                inject_idx,
                kind: FindingKind::Duplicate,
                message: format!("{party} received {id} version {version} {n} times"),
            });
        }
    }
    findings
}

fn party_summary(party: &Party, injects: &[InjectOutcome]) -> PartySummary {
    let outcomes = injects
        .iter()
        .flat_map(|i| &i.parties)
        .filter(|o| &o.party == party);
    let mut summary = PartySummary {
        party: party.clone(),
        n_received: 0,
        n_withheld: 0,
        n_missing: 0,
        latency_ms_p50: None,
        latency_ms_p90: None,
        latency_ms_max: None,
        latencies_ms: Vec::new(),
        n_acknowledged: 0,
        acknowledge_ms_max: None,
    };
    summary.acknowledge_ms_max = injects
        .iter()
        .flat_map(|i| &i.products)
        .flat_map(|p| &p.deliveries)
        .filter(|d| &d.party == party)
        .filter_map(|d| d.acknowledged.as_ref()?.after_ms)
        .max();
    for outcome in outcomes {
        summary.n_acknowledged += outcome.n_acknowledged;
        summary.n_received += outcome.n_received;
        summary.n_withheld += outcome.n_withheld;
        summary.n_missing += outcome.n_missing;
        summary.latencies_ms.extend(outcome.latency_ms);
    }
    summary.latencies_ms.sort_unstable();
    summary.latency_ms_p50 = nearest_rank(&summary.latencies_ms, 50);
    summary.latency_ms_p90 = nearest_rank(&summary.latencies_ms, 90);
    summary.latency_ms_max = summary.latencies_ms.last().copied();
    summary
}

/// The nearest-rank percentile of sorted values.
pub fn nearest_rank(sorted: &[i64], percent: usize) -> Option<i64> {
    assert!((1..=100).contains(&percent));
    debug_assert!(sorted.windows(2).all(|w| w[0] <= w[1]));
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}
