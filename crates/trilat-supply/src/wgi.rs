//! The World Bank Worldwide Governance Indicators in the two CSV layouts
//! users get them in, and the governance score the governance-weighted
//! concentration uses:
//!
//! - long, as the WDI API serves them (`"country","year","VA.EST","PV.EST",
//!   "GE.EST","RQ.EST","RL.EST","CC.EST"`, `NA` for missing);
//! - wide, as the World Bank's DataBank web page exports them
//!   (`Country Name,Country Code,Series Name,Series Code,1996 [YR1996],…`,
//!   one row per economy and series, one column per year, `..` for
//!   missing, two footer lines naming the database and its update).
//!   Only the six `*.EST` series are read; the export's other WGI series
//!   (standard errors, percentile ranks, source counts) are not estimates.
//!
//! Score (see `docs/economic.md`): the mean of the six estimates when at
//! least four are present, rescaled linearly from [-2.5, 2.5] to [10, 0]
//! (10 = worst governance) and clamped to [0, 10].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::country::{is_code, iso3};
use crate::csvfile::Headed;
use crate::error::{strip_bom, DataError, Diagnostic};

/// The six estimate series, in file order.
pub const SERIES: [&str; 6] = ["VA.EST", "PV.EST", "GE.EST", "RQ.EST", "RL.EST", "CC.EST"];
/// Fewest estimates a country-year needs for a score.
pub const ESTIMATES_MIN: usize = 4;

/// One country's governance score for one year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Governance {
    /// ISO alpha-3.
    pub country: String,
    /// The WGI year.
    pub year: u16,
    /// The six estimates (`None`: `NA`).
    pub estimates: [Option<f64>; 6],
    /// 1-based line in the file.
    pub line: usize,
}

impl Governance {
    /// The 0–10 score (10 = worst), if at least [`ESTIMATES_MIN`]
    /// estimates are present.
    pub fn score(&self) -> Option<f64> {
        let present: Vec<f64> = self.estimates.iter().flatten().copied().collect();
        if present.len() < ESTIMATES_MIN {
            return None;
        }
        let mean = present.iter().sum::<f64>() / present.len() as f64;
        Some(((2.5 - mean) / 5.0 * 10.0).clamp(0.0, 10.0))
    }
}

/// The WGI file read: scores by country and year.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Wgi {
    /// File name (provenance).
    pub file: String,
    /// By ISO code, then year.
    pub by_country: BTreeMap<String, BTreeMap<u16, Governance>>,
    /// Rows whose economy has no ISO code.
    pub diagnostics: Vec<Diagnostic>,
}

/// A score with where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// 0–10, 10 = worst governance.
    pub score: f64,
    /// The WGI year used.
    pub year: u16,
    /// 1-based line in the WGI file.
    pub line: usize,
}

impl Wgi {
    /// The score of `country` for the latest year at or before `year` that
    /// has one.
    pub fn score(&self, country: &str, year: u16) -> Option<Score> {
        self.by_country
            .get(country)?
            .range(..=year)
            .rev()
            .find_map(|(&y, g)| {
                g.score().map(|score| Score {
                    score,
                    year: y,
                    line: g.line,
                })
            })
    }
}

/// Whether `text` is a WGI CSV in either layout (by its header).
pub fn is_wgi(text: &str) -> bool {
    let head = strip_bom(text).lines().next().unwrap_or("");
    let plain: String = head.chars().filter(|&c| c != '"').collect();
    plain.starts_with("country,year,")
        || plain.starts_with("Country Name,Country Code,Series Name,Series Code,")
}

/// Reads a WGI CSV in either layout. `file` names it in errors.
pub fn parse_wgi(file: &str, text: &str) -> Result<Wgi, DataError> {
    let csv = Headed::open(file, text, false)?;
    if csv.headers.iter().any(|h| h.trim() == "Series Code") {
        return parse_wide(file, csv);
    }
    let country_col = csv.column("country")?;
    let year_col = csv.column("year")?;
    let mut series_cols = [0usize; 6];
    for (slot, name) in series_cols.iter_mut().zip(SERIES) {
        *slot = csv.column(name)?;
    }
    let mut wgi = Wgi {
        file: file.to_string(),
        ..Wgi::default()
    };
    for row in csv.rows() {
        let (line, record) = row?;
        let name = record.get(country_col).unwrap_or("").trim();
        let year_text = record.get(year_col).unwrap_or("").trim();
        let year: u16 = year_text
            .parse()
            .map_err(|_| DataError::new(file, line, format!("year {year_text:?} is not a year")))?;
        let mut estimates = [None; 6];
        for (slot, (&c, series)) in estimates.iter_mut().zip(series_cols.iter().zip(SERIES)) {
            let cell = record.get(c).unwrap_or("").trim();
            *slot = match cell {
                "NA" | "" => None,
                _ => Some(
                    cell.parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| {
                            DataError::new(file, line, format!("{series} {cell:?} is not a number"))
                        })?,
                ),
            };
        }
        let Some(code) = iso3(name) else {
            wgi.diagnostics.push(Diagnostic {
                file: file.to_string(),
                line,
                what: format!("economy {name:?} has no ISO code in the name table"),
            });
            continue;
        };
        wgi.by_country.entry(code.to_string()).or_default().insert(
            year,
            Governance {
                country: code.to_string(),
                year,
                estimates,
                line,
            },
        );
    }
    Ok(wgi)
}

/// The DataBank export: a row per economy and series, a column per year.
fn parse_wide(file: &str, csv: Headed<'_>) -> Result<Wgi, DataError> {
    let name_col = csv.column("Country Name")?;
    let code_col = csv.column("Country Code")?;
    let series_col = csv.column("Series Code")?;
    let years: Vec<(usize, u16)> = csv
        .headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| Some((i, databank_year(h)?)))
        .collect();
    if years.is_empty() {
        return Err(DataError::new(
            file,
            1,
            "no year columns (\"1996 [YR1996]\", …)",
        ));
    }
    let mut wgi = Wgi {
        file: file.to_string(),
        ..Wgi::default()
    };
    for row in csv.rows() {
        let (line, record) = row?;
        if is_databank_footer(&record) {
            continue;
        }
        let series = record.get(series_col).unwrap_or("").trim();
        let Some(slot) = SERIES.iter().position(|s| *s == series) else {
            if series.is_empty() {
                return Err(DataError::new(file, line, "no Series Code"));
            }
            continue; // Another WGI series: not an estimate.
        };
        let name = record.get(name_col).unwrap_or("").trim();
        let code_given = record.get(code_col).unwrap_or("").trim();
        let code = if is_code(code_given) {
            code_given
        } else if let Some(code) = iso3(name) {
            code
        } else {
            wgi.diagnostics.push(Diagnostic {
                file: file.to_string(),
                line,
                what: format!("economy {name:?} ({code_given}) has no ISO code in the name table"),
            });
            continue;
        };
        for &(col, year) in &years {
            let cell = record.get(col).unwrap_or("").trim();
            let value = match cell {
                ".." | "" => None,
                _ => Some(
                    cell.parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| {
                            DataError::new(
                                file,
                                line,
                                format!("{series} {year}: {cell:?} is not a number"),
                            )
                        })?,
                ),
            };
            let entry = wgi
                .by_country
                .entry(code.to_string())
                .or_default()
                .entry(year)
                .or_insert_with(|| Governance {
                    country: code.to_string(),
                    year,
                    estimates: [None; 6],
                    line,
                });
            if value.is_some() && entry.estimates[slot].is_some() {
                return Err(DataError::new(
                    file,
                    line,
                    format!(
                        "{series} {year} of {code} given twice (first near line {})",
                        entry.line
                    ),
                ));
            }
            entry.estimates[slot] = entry.estimates[slot].or(value);
        }
    }
    Ok(wgi)
}

/// `1996 [YR1996]` → 1996.
fn databank_year(header: &str) -> Option<u16> {
    let (year, code) = header.trim().split_once(" [YR")?;
    (code.strip_suffix(']')? == year).then_some(())?;
    year.parse().ok()
}

/// The lines DataBank appends after the data (`Data from database: …`,
/// `Last Updated: …`), each one field.
fn is_databank_footer(record: &csv::StringRecord) -> bool {
    let first = record.get(0).unwrap_or("").trim();
    record.iter().skip(1).all(|f| f.trim().is_empty())
        && (first.is_empty()
            || first.starts_with("Data from database:")
            || first.starts_with("Last Updated:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "\"country\",\"year\",\"VA.EST\",\"PV.EST\",\"GE.EST\",\"RQ.EST\",\"RL.EST\",\"CC.EST\"\n";

    #[test]
    fn score_rescales_and_needs_four_estimates() {
        let text = format!(
            "{HEAD}\"Japan\",2015,1,1,1,1,1,1\n\"Japan\",2014,NA,NA,NA,0,0,0\n\"Korea, Dem. People\u{2019}s Rep.\",2015,-2.5,-2.5,-2.5,-2.5,-2.5,-2.5\n"
        );
        let wgi = parse_wgi("wgi.csv", &text).unwrap();
        // mean 1 → (2.5 − 1)/5 × 10 = 3
        let s = wgi.score("JPN", 2023).unwrap();
        assert!((s.score - 3.0).abs() < 1e-12);
        assert_eq!((s.year, s.line), (2015, 2));
        // 2014 has three estimates only: no score, and nothing earlier.
        assert_eq!(wgi.score("JPN", 2014), None);
        assert_eq!(wgi.score("PRK", 2015).unwrap().score, 10.0);
    }

    #[test]
    fn errors_name_the_line() {
        let text = format!("{HEAD}\"Japan\",2015,1,x,1,1,1,1\n");
        let e = parse_wgi("wgi.csv", &text).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("PV.EST"), "{e}");
        let e = parse_wgi("wgi.csv", "\"country\",\"year\"\n").unwrap_err();
        assert_eq!(e.line, 1);
    }
}
