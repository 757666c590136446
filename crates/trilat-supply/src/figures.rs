//! A partner's own figures (its import statistics, its refining capacity),
//! as CSV in the format `docs/economic.md` documents:
//!
//! ```text
//! party,commodity,figure,country,value,unit,year,source
//! JPN,gallium,net_import_reliance_pct,,100,%,2023,Japan customs statistics
//! JPN,gallium,import_share_pct,CHN,60,%,2023,Japan customs statistics
//! KOR,graphite,refining_capacity,KOR,20000,t,2024,KOMIR
//! ```
//!
//! `figure` is one of [`FigureKind`]; `country` is the source country of an
//! import share, the producing country of a capacity or production figure,
//! and empty for a reliance. Every row is checked; a bad one is an error
//! naming its line. The scenario reads reliance and import shares; all of
//! them are shared as `econ.figures` reports.

use serde::{Deserialize, Serialize};

use crate::commodity;
use crate::country::is_code;
use crate::csvfile::Headed;
use crate::error::DataError;

/// Most rows one figures file may hold.
pub const FIGURES_MAX: usize = 10_000;
/// Longest free-text field (source, unit), bytes.
pub const TEXT_MAX: usize = 512;
/// The header, exactly.
pub const HEADER: [&str; 8] = [
    "party",
    "commodity",
    "figure",
    "country",
    "value",
    "unit",
    "year",
    "source",
];

/// What a figure states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureKind {
    /// The party's net import reliance, % of apparent consumption.
    NetImportReliancePct,
    /// Share of the party's imports that come from `country`, %.
    ImportSharePct,
    /// Production in `country`.
    Production,
    /// Refining capacity in `country`.
    RefiningCapacity,
    /// Reserves in `country`.
    Reserves,
}

impl FigureKind {
    fn parse(s: &str) -> Option<FigureKind> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    fn is_pct(self) -> bool {
        matches!(
            self,
            FigureKind::NetImportReliancePct | FigureKind::ImportSharePct
        )
    }
}

/// One figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// The party the figure is about (ISO alpha-3).
    pub party: String,
    /// Commodity file code.
    pub commodity: String,
    /// What it states.
    pub figure: FigureKind,
    /// The other country, if the figure has one.
    pub country: Option<String>,
    /// The number.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// The year it is for.
    pub year: u16,
    /// Where the party got it.
    pub source: String,
    /// 1-based line in the file (provenance).
    pub line: usize,
}

/// The figures of one source (a CSV file given to the CLI, or one
/// `econ.figures` report a node holds), with where they came from: a
/// scenario takes each partner's figures from one source, so two sources
/// for the same partner never add up.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureSet {
    /// Where, in words (`kor.csv`; `econ.figures KOR/<id> (kor.csv)`).
    pub origin: String,
    /// The party that published them, if known (a report's owner).
    pub publisher: Option<String>,
    /// The figures.
    pub figures: Vec<Figure>,
}

impl FigureSet {
    /// The figures this set gives for `party`'s reliance and import shares
    /// of `commodity` (what a scenario's exposure reads).
    pub fn imports_of<'a>(
        &'a self,
        party: &'a str,
        commodity: &'a str,
    ) -> impl Iterator<Item = &'a Figure> + 'a {
        self.figures.iter().filter(move |f| {
            f.party == party
                && f.commodity == commodity
                && matches!(
                    f.figure,
                    FigureKind::NetImportReliancePct | FigureKind::ImportSharePct
                )
        })
    }
}

/// The set a partner's import figures for `commodity` are taken from:
/// the first in `sets` published by the partner itself, else the first
/// that has any (callers order `sets` newest first).
pub fn source_for<'a>(
    sets: &'a [FigureSet],
    party: &str,
    commodity: &str,
) -> Option<&'a FigureSet> {
    let has = |s: &&FigureSet| s.imports_of(party, commodity).next().is_some();
    sets.iter()
        .filter(has)
        .find(|s| s.publisher.as_deref() == Some(party))
        .or_else(|| sets.iter().find(has))
}

/// Reads a figures CSV. `file` names it in errors.
pub fn parse_figures(file: &str, text: &str) -> Result<Vec<Figure>, DataError> {
    let csv = Headed::open(file, text, true)?;
    if csv.headers.iter().ne(HEADER) {
        return Err(DataError::new(
            file,
            1,
            format!("header must be {}", HEADER.join(",")),
        ));
    }
    let mut out = Vec::new();
    for row in csv.rows() {
        let (line, record) = row?;
        if out.len() >= FIGURES_MAX {
            return Err(DataError::new(
                file,
                line,
                format!("more than {FIGURES_MAX} rows"),
            ));
        }
        out.push(figure(&record).map_err(|what| DataError::new(file, line, what))?);
        out.last_mut().expect("pushed").line = line;
    }
    Ok(out)
}

fn figure(r: &csv::StringRecord) -> Result<Figure, String> {
    let field = |i: usize| r.get(i).unwrap_or("");
    let party = field(0);
    if !is_code(party) {
        return Err(format!("party {party:?} is not an ISO 3166-1 alpha-3 code"));
    }
    let commodity = commodity::code_of(field(1))
        .ok_or_else(|| format!("commodity {:?} is none of the 77 MCS commodities", field(1)))?;
    let kind = FigureKind::parse(field(2)).ok_or_else(|| {
        format!(
            "figure {:?}: expected net_import_reliance_pct, import_share_pct, production, refining_capacity or reserves",
            field(2)
        )
    })?;
    let country = match (field(3), kind) {
        ("", FigureKind::NetImportReliancePct) => None,
        (c, FigureKind::NetImportReliancePct) => {
            return Err(format!("country {c:?}: a reliance figure has no country"))
        }
        ("", _) => return Err(format!("{}: needs a country", field(2))),
        (c, _) if !is_code(c) => {
            return Err(format!("country {c:?} is not an ISO 3166-1 alpha-3 code"))
        }
        (c, _) => Some(c.to_string()),
    };
    let value: f64 = field(4)
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("value {:?} is not a number ≥ 0", field(4)))?;
    if kind.is_pct() && value > 100.0 {
        return Err(format!("value {value} is a percentage above 100"));
    }
    let year: u16 = field(6)
        .parse()
        .ok()
        .filter(|y| (1900..=2100).contains(y))
        .ok_or_else(|| format!("year {:?} is not a year", field(6)))?;
    for (i, name) in [(5, "unit"), (7, "source")] {
        if field(i).len() > TEXT_MAX {
            return Err(format!("{name} longer than {TEXT_MAX} bytes"));
        }
    }
    if field(7).is_empty() {
        return Err("source is empty: say where the figure comes from".into());
    }
    Ok(Figure {
        party: party.to_string(),
        commodity: commodity.to_string(),
        figure: kind,
        country,
        value,
        unit: field(5).to_string(),
        year,
        source: field(7).to_string(),
        line: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "party,commodity,figure,country,value,unit,year,source\n";

    #[test]
    fn reads_the_documented_format() {
        let text = format!(
            "{HEAD}JPN,gallium,net_import_reliance_pct,,100,%,2023,customs\nJPN,gallium,import_share_pct,CHN,60,%,2023,customs\n"
        );
        let f = parse_figures("jpn.csv", &text).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].commodity, "galli");
        assert_eq!(f[1].country.as_deref(), Some("CHN"));
        assert_eq!(f[1].line, 3);
    }

    #[test]
    fn bad_rows_name_their_line() {
        for (row, needle) in [
            (
                "JPN,gallium,import_share_pct,,60,%,2023,x",
                "needs a country",
            ),
            ("JPN,gallium,import_share_pct,CHN,160,%,2023,x", "above 100"),
            ("JPN,unobtainium,production,JPN,1,t,2023,x", "unobtainium"),
            ("JP,gallium,production,JPN,1,t,2023,x", "party"),
            ("JPN,gallium,production,JPN,1,t,2023,", "source"),
            ("JPN,gallium,exports,JPN,1,t,2023,x", "exports"),
        ] {
            let e = parse_figures("f.csv", &format!("{HEAD}{row}\n")).unwrap_err();
            assert_eq!(e.line, 2, "{row}");
            assert!(e.what.contains(needle), "{row}: {e}");
        }
        let e = parse_figures("f.csv", "a,b\n").unwrap_err();
        assert_eq!(e.line, 1);
    }
}
