//! Concentration indicators per commodity and series (stage), with the
//! file, line and year of every number.
//!
//! For a measure (the latest production year, or reserves) of a series:
//! - world: the series' "World total" row, or, when USGS gives none (or
//!   gives `XX`/`NA`), the sum of its rows;
//! - each country's share s_i = value_i / world (rows of one country, such
//!   as helium's two US rows, are added);
//! - HHI = Σ (100·s_i)², 0–10,000, over the named countries only: "Other
//!   countries" (composition unknown) is left out, so the HHI is a lower
//!   bound, as in Gaultois et al. 2013;
//! - top-1 and top-3 shares; the shares of the countries of concern, of the
//!   partners and of their allies ([`Groups`]);
//! - HHI_WGI = Σ s_i² · WGI_i, 0–10, with WGI_i the governance score of
//!   [`crate::wgi`] (the European Commission's 2017 criticality method,
//!   global-supply term; differences in `docs/economic.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::commodity;
use crate::country::Who;
use crate::groups::Groups;
use crate::usgs::{Cell, Measure, MeasureKind, Reliance, Series, Stage, WorldFile};
use crate::wgi::Wgi;

/// Fewest countries with a figure for indicators over the sum of the rows
/// (a series without a world total): one or two named producers of an
/// unknown world say nothing about its concentration.
pub const SUM_OF_ROWS_COUNTRIES_MIN: usize = 3;

/// Where the world figure of a measure comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "from")]
pub enum WorldFrom {
    /// The "World total" row, at this line.
    TotalRow {
        /// 1-based line.
        line: usize,
    },
    /// The sum of the series' rows (no usable total).
    SumOfRows,
}

/// One country's share, with its line in the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// ISO alpha-3.
    pub country: String,
    /// The value, in the measure's unit.
    pub value: f64,
    /// Fraction of the world figure.
    pub share: f64,
    /// 1-based line(s) of the row(s).
    pub lines: Vec<usize>,
    /// The WGI governance score used (0–10, 10 = worst), and its year.
    pub wgi: Option<(f64, u16)>,
}

/// The indicators of one measure of one series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Concentration {
    /// The column (`Prod_t_est_2023`).
    pub column: String,
    /// Production, capacity or reserves.
    pub kind: MeasureKind,
    /// The unit as USGS writes it.
    pub unit: String,
    /// The year (reserves: none in the column; the MCS 2024 reserves are as of 2023).
    pub year: Option<u16>,
    /// The world figure.
    pub world: f64,
    /// Where it comes from.
    pub world_from: WorldFrom,
    /// Named countries with a number, largest first.
    pub shares: Vec<Share>,
    /// Countries whose figure USGS withholds (`W`) or does not have (`NA`):
    /// in no share.
    pub not_given: Vec<String>,
    /// 1 − the named countries' shares (others, unknown labels, rounding).
    pub unattributed_share: f64,
    /// HHI, 0–10,000.
    pub hhi: f64,
    /// The largest producer and its share.
    pub top1: Option<(String, f64)>,
    /// The three largest producers' share together.
    pub top3_share: f64,
    /// Share of the countries of concern.
    pub concern_share: f64,
    /// Share of the partners.
    pub partners_share: f64,
    /// Share of the allies (partners not counted).
    pub allies_share: f64,
    /// HHI_WGI, 0–10 (none without WGI data).
    pub hhi_wgi: Option<f64>,
    /// Fraction of the named countries' share that has a WGI score.
    pub wgi_coverage: f64,
}

/// The indicators of one series of one commodity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesIndicators {
    /// File code (`galli`).
    pub commodity: String,
    /// Commodity name (`gallium`).
    pub name: String,
    /// The USGS file (provenance).
    pub file: String,
    /// The series' `Type` (`Mine production, graphite`).
    pub series_type: String,
    /// Mining, refining, other.
    pub stage: Stage,
    /// Line of the series' first row.
    pub line: usize,
    /// Latest production (or, for capacity-only tables, capacity) year.
    pub production: Option<Concentration>,
    /// Reserves.
    pub reserves: Option<Concentration>,
    /// US net import reliance and import sources (MCS Fig. 2), when joined.
    pub us_reliance: Option<Reliance>,
    /// What limits these numbers (mixed row types, no world total …).
    pub notes: Vec<String>,
}

/// Indicators for every series of the given world files.
pub fn indicators(
    files: &[WorldFile],
    reliance: &[Reliance],
    wgi: Option<&Wgi>,
    groups: &Groups,
) -> Vec<SeriesIndicators> {
    let mut out = Vec::new();
    for file in files {
        for series in &file.series {
            out.push(series_indicators(file, series, reliance, wgi, groups));
        }
    }
    out
}

fn series_indicators(
    file: &WorldFile,
    series: &Series,
    reliance: &[Reliance],
    wgi: Option<&Wgi>,
    groups: &Groups,
) -> SeriesIndicators {
    let mut notes = Vec::new();
    if series.mixed_types {
        notes.push(
            "rows measure different things (their Type differs): USGS says these figures are not comparable; shares are indicative only"
                .to_string(),
        );
    }
    let production = headline(
        &file.measures,
        &[MeasureKind::Production, MeasureKind::Capacity],
    )
    .and_then(|m| concentration(file, series, m, wgi, groups, &mut notes));
    let reserves = file
        .measures
        .iter()
        .filter(|m| m.kind == MeasureKind::Reserves)
        .find_map(|m| concentration(file, series, m, wgi, groups, &mut notes));
    let series_type = series.series_type.to_lowercase();
    let us_reliance = reliance
        .iter()
        .find(|r| {
            r.code.as_deref() == Some(file.code.as_str())
                && r.series_word
                    .as_deref()
                    .is_none_or(|w| series_type.contains(w))
        })
        .cloned();
    SeriesIndicators {
        commodity: file.code.clone(),
        name: commodity::name_of(&file.code)
            .unwrap_or(&file.code)
            .to_string(),
        file: file.file.clone(),
        series_type: series.series_type.clone(),
        stage: series.stage,
        line: series.rows.first().map_or(0, |r| r.line),
        production,
        reserves,
        us_reliance,
        notes,
    }
}

/// The measure of the first kind in `kinds` with the latest year.
fn headline<'a>(measures: &'a [Measure], kinds: &[MeasureKind]) -> Option<&'a Measure> {
    kinds.iter().find_map(|kind| {
        measures
            .iter()
            .filter(|m| m.kind == *kind)
            .max_by_key(|m| (m.year, m.index))
    })
}

/// The indicators of one measure, or none when the series has no number
/// for it at all (germanium: every cell `NA`).
fn concentration(
    file: &WorldFile,
    series: &Series,
    measure: &Measure,
    wgi: Option<&Wgi>,
    groups: &Groups,
    notes: &mut Vec<String>,
) -> Option<Concentration> {
    let slot = file.measures.iter().position(|m| m == measure)?;
    let mut by_country: BTreeMap<String, (f64, Vec<usize>)> = BTreeMap::new();
    let mut not_given = Vec::new();
    let mut rows_sum = 0.0;
    for row in &series.rows {
        let cell = &row.cells[slot];
        if let Some(v) = cell.value() {
            rows_sum += v;
        }
        let Who::Country(code) = &row.who else {
            continue;
        };
        match cell {
            Cell::Value(v) => {
                let entry = by_country.entry(code.clone()).or_default();
                entry.0 += v;
                entry.1.push(row.line);
            }
            Cell::Withheld | Cell::NotAvailable => not_given.push(code.clone()),
            _ => {}
        }
    }
    let total_row = series.world.as_ref().and_then(|w| {
        w.cells[slot]
            .value()
            .filter(|v| *v > 0.0)
            .map(|v| (v, w.line))
    });
    let (world, world_from) = match total_row {
        Some((v, line)) => (v, WorldFrom::TotalRow { line }),
        None if by_country.values().filter(|(v, _)| *v > 0.0).count()
            < SUM_OF_ROWS_COUNTRIES_MIN =>
        {
            notes.push(format!(
                "{}: no world total and fewer than {SUM_OF_ROWS_COUNTRIES_MIN} countries with a figure: no indicators",
                measure.column
            ));
            return None;
        }
        None if rows_sum > 0.0 => {
            notes.push(format!(
                "{}: no world total; shares are of the sum of the listed rows",
                measure.column
            ));
            (rows_sum, WorldFrom::SumOfRows)
        }
        None => return None,
    };
    let year = measure.year.unwrap_or(2023);
    let mut shares: Vec<Share> = by_country
        .into_iter()
        .filter(|(_, (v, _))| *v > 0.0)
        .map(|(country, (value, lines))| {
            let wgi = wgi
                .and_then(|w| w.score(&country, year))
                .map(|s| (s.score, s.year));
            Share {
                share: value / world,
                country,
                value,
                lines,
                wgi,
            }
        })
        .collect();
    shares.sort_by(|a, b| b.share.total_cmp(&a.share).then(a.country.cmp(&b.country)));
    let named: f64 = shares.iter().map(|s| s.share).sum();
    let sum_of = |pick: &dyn Fn(&str) -> bool| -> f64 {
        shares
            .iter()
            .filter(|s| pick(&s.country))
            .map(|s| s.share)
            .sum::<f64>()
            + 0.0 // an empty f64 sum is -0.0
    };
    let with_wgi: Vec<&Share> = shares.iter().filter(|s| s.wgi.is_some()).collect();
    let hhi_wgi = (wgi.is_some() && !with_wgi.is_empty()).then(|| {
        with_wgi
            .iter()
            .map(|s| s.share * s.share * s.wgi.map_or(0.0, |w| w.0))
            .sum()
    });
    let covered: f64 = with_wgi.iter().map(|s| s.share).sum();
    Some(Concentration {
        column: measure.column.clone(),
        kind: measure.kind,
        unit: measure.unit.clone(),
        year: measure.year,
        world,
        world_from,
        hhi: shares.iter().map(|s| (100.0 * s.share).powi(2)).sum(),
        top1: shares.first().map(|s| (s.country.clone(), s.share)),
        top3_share: shares.iter().take(3).map(|s| s.share).sum(),
        concern_share: sum_of(&|c| groups.concern.contains(c)),
        partners_share: sum_of(&|c| groups.partners.contains(c)),
        allies_share: sum_of(&|c| groups.allies.contains(c) && !groups.partners.contains(c)),
        hhi_wgi,
        wgi_coverage: if named > 0.0 { covered / named } else { 0.0 },
        unattributed_share: (1.0 - named).max(0.0),
        not_given,
        shares,
    })
}

/// One line of the supply-risk ranking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankEntry {
    /// 1-based rank.
    pub rank: usize,
    /// Commodity code.
    pub commodity: String,
    /// Commodity name.
    pub name: String,
    /// The series.
    pub series_type: String,
    /// Its stage.
    pub stage: Stage,
    /// HHI_WGI of production (0–10), the ranking key.
    pub hhi_wgi: Option<f64>,
    /// HHI of production (0–10,000), the second key.
    pub hhi: f64,
    /// The largest producer and its share.
    pub top1: Option<(String, f64)>,
    /// Share of the countries of concern.
    pub concern_share: f64,
    /// Share of partners and allies.
    pub coalition_share: f64,
    /// US net import reliance, % (a bound counts as its value), with its line.
    pub us_reliance_pct: Option<f64>,
    /// Where each number comes from: `file:line (column)`.
    pub provenance: Vec<String>,
}

/// The series ranked by governance-weighted concentration of production
/// (HHI_WGI), then by HHI. Left out: series without production figures,
/// and those without a USGS world total (their shares are of the listed
/// rows only, which overstates concentration).
pub fn ranking(indicators: &[SeriesIndicators]) -> Vec<RankEntry> {
    let mut entries: Vec<RankEntry> = indicators
        .iter()
        .filter_map(|s| {
            let p = s
                .production
                .as_ref()
                .filter(|p| p.world_from != WorldFrom::SumOfRows)?;
            let mut provenance = vec![match &p.world_from {
                WorldFrom::TotalRow { line } => {
                    format!("{}:{line} ({}, world total)", s.file, p.column)
                }
                WorldFrom::SumOfRows => {
                    format!("{}:{} ({}, sum of rows)", s.file, s.line, p.column)
                }
            }];
            if let Some((c, _)) = &p.top1 {
                if let Some(top) = p.shares.first() {
                    provenance.push(format!("{}:{} ({}, {c})", s.file, top.lines[0], p.column));
                }
                if let Some((_, year)) = p.shares.first().and_then(|t| t.wgi) {
                    provenance.push(format!("WGI {c} {year}"));
                }
            }
            if let Some(r) = &s.us_reliance {
                provenance.push(format!(
                    "{}:{} (Net_Import_Reliance_pct_{})",
                    r.file, r.line, r.year
                ));
            }
            Some(RankEntry {
                rank: 0,
                commodity: s.commodity.clone(),
                name: s.name.clone(),
                series_type: s.series_type.clone(),
                stage: s.stage,
                hhi_wgi: p.hhi_wgi,
                hhi: p.hhi,
                top1: p.top1.clone(),
                concern_share: p.concern_share,
                coalition_share: p.partners_share + p.allies_share,
                us_reliance_pct: s
                    .us_reliance
                    .as_ref()
                    .and_then(|r| r.fraction())
                    .map(|f| f * 100.0),
                provenance,
            })
        })
        .collect();
    entries.sort_by(|a, b| {
        let key = |e: &RankEntry| e.hhi_wgi.unwrap_or(-1.0);
        key(b)
            .total_cmp(&key(a))
            .then(b.hhi.total_cmp(&a.hhi))
            .then(a.commodity.cmp(&b.commodity))
    });
    for (i, e) in entries.iter_mut().enumerate() {
        e.rank = i + 1;
    }
    entries
}
