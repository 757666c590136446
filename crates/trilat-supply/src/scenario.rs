//! Scenarios on the indicators:
//!
//! - [`stop`]: "countries X stop exporting commodities M": per series, the
//!   share of world production lost, the partners' and allies' remaining
//!   production and reserves, the gap (what the coalition could not make
//!   up even by redirecting all of its own production to itself, an
//!   optimistic bound), and each partner's exposure;
//! - [`pool`]: "the partners pool their production and reserves": the
//!   coalition's share of world production and reserves per series.
//!
//! Exposure of a partner = its net import reliance × the share of its
//! imports from the stopped countries. The shares come from the partner's
//! figures ([`crate::figures`]), all from one source
//! ([`crate::figures::source_for`]: the partner's own publication first);
//! for the United States without them,
//! from USGS: the reliance (Fig. 2) and whether a stopped country is among
//! the listed major import sources (USGS gives their order, not their
//! shares, so the exposure is then the reliance itself, an upper bound,
//! and the basis says so).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::figures::{source_for, Figure, FigureKind, FigureSet};
use crate::groups::Groups;
use crate::indicators::{Concentration, SeriesIndicators};
use crate::usgs::Stage;

/// Most countries one scenario may stop.
pub const STOP_MAX: usize = 50;

/// A partner's exposure to a stop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exposure {
    /// The partner.
    pub party: String,
    /// Its net import reliance (fraction), if known.
    pub net_import_reliance: Option<f64>,
    /// Share of its imports from the stopped countries (fraction), if known.
    pub import_share_stopped: Option<f64>,
    /// Reliance × that share (fraction of its consumption at risk), if known.
    pub exposure: Option<f64>,
    /// Whether `exposure` is only an upper bound (USGS lists a stopped
    /// country among the import sources without its share).
    #[serde(default)]
    pub upper_bound: bool,
    /// Where the numbers come from, in words.
    pub basis: String,
}

/// The outcome of a stop for one series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StopOutcome {
    /// Commodity code.
    pub commodity: String,
    /// Commodity name.
    pub name: String,
    /// The series.
    pub series_type: String,
    /// Its stage.
    pub stage: Stage,
    /// The production column used, and its file.
    pub column: String,
    /// The USGS file.
    pub file: String,
    /// The unit of production.
    pub unit: String,
    /// World production.
    pub world: f64,
    /// Share of world production lost.
    pub lost_share: f64,
    /// Production lost, in `unit`.
    pub lost: f64,
    /// The partners' production share (stopped countries left out).
    pub partners_share: f64,
    /// The allies' production share (stopped countries left out).
    pub allies_share: f64,
    /// The partners' share of world reserves (stopped countries left out),
    /// if USGS gives reserves.
    #[serde(default)]
    pub partners_reserves_share: Option<f64>,
    /// The allies' share of world reserves (stopped countries left out).
    #[serde(default)]
    pub allies_reserves_share: Option<f64>,
    /// The coalition's share of world reserves, if USGS gives reserves.
    pub coalition_reserves_share: Option<f64>,
    /// max(0, lost − coalition production), share of world production.
    pub gap_share: f64,
    /// Per partner.
    pub exposures: Vec<Exposure>,
    /// The partner with the largest known exposure.
    pub most_exposed: Option<String>,
}

/// A stop scenario's result (an `econ.scenario` payload).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StopScenario {
    /// The scenario kind: `stop`.
    pub scenario: String,
    /// The countries that stop exporting.
    pub stopped: BTreeSet<String>,
    /// One outcome per series of the chosen commodities with production figures.
    pub outcomes: Vec<StopOutcome>,
    /// Commodities asked for that have no production figures.
    pub without_figures: Vec<String>,
}

/// Runs a stop scenario over the indicators of the chosen commodities
/// (`commodities`: file codes; empty = all).
pub fn stop(
    indicators: &[SeriesIndicators],
    stopped: &BTreeSet<String>,
    commodities: &[String],
    groups: &Groups,
    figures: &[FigureSet],
) -> StopScenario {
    let chosen = |code: &str| commodities.is_empty() || commodities.iter().any(|c| c == code);
    let mut outcomes = Vec::new();
    let mut without_figures = Vec::new();
    for s in indicators.iter().filter(|s| chosen(&s.commodity)) {
        let Some(p) = &s.production else {
            without_figures.push(format!("{} ({})", s.name, s.series_type));
            continue;
        };
        outcomes.push(outcome(s, p, stopped, groups, figures));
    }
    StopScenario {
        scenario: "stop".into(),
        stopped: stopped.clone(),
        outcomes,
        without_figures,
    }
}

fn share_of(c: &Concentration, pick: impl Fn(&str) -> bool) -> f64 {
    c.shares
        .iter()
        .filter(|s| pick(&s.country))
        .map(|s| s.share)
        .sum::<f64>()
        + 0.0 // an empty f64 sum is -0.0
}

fn outcome(
    s: &SeriesIndicators,
    p: &Concentration,
    stopped: &BTreeSet<String>,
    groups: &Groups,
    figures: &[FigureSet],
) -> StopOutcome {
    let lost_share = share_of(p, |c| stopped.contains(c));
    let partners_share = share_of(p, |c| groups.partners.contains(c) && !stopped.contains(c));
    let allies_share = share_of(p, |c| {
        groups.allies.contains(c) && !groups.partners.contains(c) && !stopped.contains(c)
    });
    let coalition = groups.coalition();
    let reserves_of = |pick: &dyn Fn(&str) -> bool| {
        s.reserves
            .as_ref()
            .map(|r| share_of(r, |c| pick(c) && !stopped.contains(c)))
    };
    let partners_reserves_share = reserves_of(&|c| groups.partners.contains(c));
    let allies_reserves_share =
        reserves_of(&|c| groups.allies.contains(c) && !groups.partners.contains(c));
    let coalition_reserves_share = reserves_of(&|c| coalition.contains(c));
    let exposures: Vec<Exposure> = groups
        .partners
        .iter()
        .map(|party| exposure(party, s, stopped, figures))
        .collect();
    let most_exposed = most_exposed(&exposures);
    StopOutcome {
        commodity: s.commodity.clone(),
        name: s.name.clone(),
        series_type: s.series_type.clone(),
        stage: s.stage,
        column: p.column.clone(),
        file: s.file.clone(),
        unit: p.unit.clone(),
        world: p.world,
        lost_share,
        lost: lost_share * p.world,
        partners_share,
        allies_share,
        partners_reserves_share,
        allies_reserves_share,
        coalition_reserves_share,
        gap_share: (lost_share - partners_share - allies_share).max(0.0),
        exposures,
        most_exposed,
    }
}

/// The partner with the largest known exposure. A figure is compared with
/// a bound only when the bound cannot exceed it: a partner known to be 60 %
/// exposed is not named before one that may be up to 100 % exposed, so
/// then no partner is named (each exposure and its basis still shown).
/// With bounds only, the largest bound.
fn most_exposed(exposures: &[Exposure]) -> Option<String> {
    let largest = |bound: bool| {
        exposures
            .iter()
            .filter(|e| e.upper_bound == bound)
            .filter_map(|e| Some((e.exposure?, &e.party)))
            .filter(|(x, _)| *x > 0.0)
            .max_by(|a, b| a.0.total_cmp(&b.0))
    };
    match (largest(false), largest(true)) {
        (Some((figure, party)), Some((bound, _))) if bound <= figure => Some(party.clone()),
        (Some(_), Some(_)) => None,
        (Some((_, party)), None) | (None, Some((_, party))) => Some(party.clone()),
        (None, None) => None,
    }
}

fn exposure(
    party: &str,
    s: &SeriesIndicators,
    stopped: &BTreeSet<String>,
    figures: &[FigureSet],
) -> Exposure {
    let source = source_for(figures, party, &s.commodity);
    let own: Vec<&Figure> = source
        .map(|set| set.imports_of(party, &s.commodity).collect())
        .unwrap_or_default();
    let latest = |kind: FigureKind| {
        own.iter()
            .filter(|f| f.figure == kind)
            .max_by_key(|f| f.year)
    };
    let reliance_fig = latest(FigureKind::NetImportReliancePct);
    let shares: Vec<&&Figure> = own
        .iter()
        .filter(|f| f.figure == FigureKind::ImportSharePct)
        .collect();
    if reliance_fig.is_some() || !shares.is_empty() {
        let reliance = reliance_fig.map(|f| f.value / 100.0);
        let share = (!shares.is_empty()).then(|| {
            let year = shares.iter().map(|f| f.year).max().unwrap_or(0);
            shares
                .iter()
                .filter(|f| {
                    f.year == year && f.country.as_ref().is_some_and(|c| stopped.contains(c))
                })
                .map(|f| f.value / 100.0)
                .sum::<f64>()
                .min(1.0)
                + 0.0
        });
        return Exposure {
            party: party.to_string(),
            net_import_reliance: reliance,
            import_share_stopped: share,
            exposure: reliance.zip(share).map(|(r, s)| r * s),
            upper_bound: false,
            basis: format!(
                "{party}'s figures, {} (lines {})",
                source.map_or("", |set| set.origin.as_str()),
                own.iter()
                    .map(|f| f.line.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
    }
    match (party, &s.us_reliance) {
        ("USA", Some(r)) => {
            let reliance = r.fraction();
            let listed: Vec<(usize, &String)> = r
                .import_sources
                .iter()
                .enumerate()
                .filter(|(_, c)| stopped.contains(*c))
                .map(|(i, c)| (i + 1, c))
                .collect();
            let basis = if listed.is_empty() {
                format!(
                    "USGS MCS 2024 Fig. 2 line {}: no stopped country among the major import sources ({}); exposure counted 0",
                    r.line,
                    r.import_sources.join(", ")
                )
            } else {
                format!(
                    "USGS MCS 2024 Fig. 2 line {}: {} among the major import sources ({}); USGS gives no shares, so exposure = reliance (upper bound)",
                    r.line,
                    listed.iter().map(|(i, c)| format!("{c} #{i}")).collect::<Vec<_>>().join(", "),
                    r.import_sources.join(", ")
                )
            };
            let share = Some(if listed.is_empty() { 0.0 } else { 1.0 });
            Exposure {
                party: party.to_string(),
                net_import_reliance: reliance,
                import_share_stopped: None,
                exposure: reliance.zip(share).map(|(r, s)| r * s),
                upper_bound: !listed.is_empty(),
                basis,
            }
        }
        _ => Exposure {
            party: party.to_string(),
            net_import_reliance: None,
            import_share_stopped: None,
            exposure: None,
            upper_bound: false,
            basis: "no import figures (add them as a figures CSV)".into(),
        },
    }
}

/// The coalition's cover of one series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolOutcome {
    /// Commodity code.
    pub commodity: String,
    /// Commodity name.
    pub name: String,
    /// The series.
    pub series_type: String,
    /// Its stage.
    pub stage: Stage,
    /// The partners' share of world production.
    pub partners_production_share: Option<f64>,
    /// Partners' and allies' share of world production.
    pub coalition_production_share: Option<f64>,
    /// The partners' share of world reserves.
    pub partners_reserves_share: Option<f64>,
    /// Partners' and allies' share of world reserves.
    pub coalition_reserves_share: Option<f64>,
}

/// A pool scenario's result (an `econ.scenario` payload).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolScenario {
    /// The scenario kind: `pool`.
    pub scenario: String,
    /// The partners.
    pub partners: BTreeSet<String>,
    /// The allies.
    pub allies: BTreeSet<String>,
    /// One per series, least covered first.
    pub outcomes: Vec<PoolOutcome>,
}

/// How far the partners (and with their allies) cover each series.
pub fn pool(
    indicators: &[SeriesIndicators],
    commodities: &[String],
    groups: &Groups,
) -> PoolScenario {
    let chosen = |code: &str| commodities.is_empty() || commodities.iter().any(|c| c == code);
    let coalition = groups.coalition();
    let mut outcomes: Vec<PoolOutcome> = indicators
        .iter()
        .filter(|s| chosen(&s.commodity))
        .map(|s| PoolOutcome {
            commodity: s.commodity.clone(),
            name: s.name.clone(),
            series_type: s.series_type.clone(),
            stage: s.stage,
            partners_production_share: s
                .production
                .as_ref()
                .map(|p| share_of(p, |c| groups.partners.contains(c))),
            coalition_production_share: s
                .production
                .as_ref()
                .map(|p| share_of(p, |c| coalition.contains(c))),
            partners_reserves_share: s
                .reserves
                .as_ref()
                .map(|r| share_of(r, |c| groups.partners.contains(c))),
            coalition_reserves_share: s
                .reserves
                .as_ref()
                .map(|r| share_of(r, |c| coalition.contains(c))),
        })
        .collect();
    outcomes.sort_by(|a, b| {
        let key = |o: &PoolOutcome| o.coalition_production_share.unwrap_or(f64::INFINITY);
        key(a)
            .total_cmp(&key(b))
            .then(a.commodity.cmp(&b.commodity))
    });
    PoolScenario {
        scenario: "pool".into(),
        partners: groups.partners.clone(),
        allies: groups.allies.clone(),
        outcomes,
    }
}
