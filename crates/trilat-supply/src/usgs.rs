//! Readers of the USGS Mineral Commodity Summaries 2024 data release
//! (doi:10.5066/P144BA54), as USGS publishes the files:
//!
//! - [`parse_world`]: one `mcs2024-<code>_world.csv` (world production,
//!   capacity and reserves by country). Columns `Source, Country, Type`,
//!   then measure columns whose names carry the unit and year
//!   (`Prod_kg_est_2023`, `Reserves_kt`, `Cap_t_2023`) and notes columns.
//!   A file may hold several series (copper: mine, then refinery); each
//!   ends at its "World total" row.
//! - [`parse_reliance`]: `MCS2024_Fig2_Net_Import_Reliance.csv` (US net
//!   import reliance 2023 and the major import sources 2019–22).
//!
//! Cells are kept as USGS writes them ([`Cell`]): `W` (withheld), `NA`,
//! `XX` (not applicable), `>75`, numbers with thousands separators.

use serde::{Deserialize, Serialize};

use crate::country::{classify, iso3, Who};
use crate::csvfile::Headed;
use crate::error::{check_len, strip_bom, DataError, Diagnostic, ROWS_MAX};

/// One cell of a USGS table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// A number.
    Value(f64),
    /// `W`: withheld to avoid disclosing company proprietary data.
    Withheld,
    /// `NA`: not available.
    NotAvailable,
    /// `XX`: not applicable.
    NotApplicable,
    /// `>75`, `<50`: a bound (`op` is `>` or `<`).
    Bound {
        /// `>` or `<`.
        op: char,
        /// The bound.
        value: f64,
    },
    /// Empty.
    Empty,
    /// Any other text ("Included in World total.").
    Text(String),
}

impl Cell {
    /// Reads a cell as USGS writes it.
    pub fn parse(raw: &str) -> Cell {
        let s = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}');
        match s {
            "" => Cell::Empty,
            "W" => Cell::Withheld,
            "NA" => Cell::NotAvailable,
            "XX" => Cell::NotApplicable,
            _ => {
                if let Some(v) = number(s) {
                    return Cell::Value(v);
                }
                let mut chars = s.chars();
                match chars.next() {
                    Some(op @ ('>' | '<')) => match number(chars.as_str()) {
                        Some(value) => Cell::Bound { op, value },
                        None => Cell::Text(s.to_string()),
                    },
                    _ => Cell::Text(s.to_string()),
                }
            }
        }
    }

    /// The number, if the cell is one.
    pub fn value(&self) -> Option<f64> {
        match self {
            Cell::Value(v) => Some(*v),
            _ => None,
        }
    }
}

impl std::fmt::Display for Cell {
    /// As USGS writes it (`100`, `>95`, `W`, `NA`, `XX`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Value(v) => write!(f, "{v}"),
            Cell::Withheld => f.write_str("W"),
            Cell::NotAvailable => f.write_str("NA"),
            Cell::NotApplicable => f.write_str("XX"),
            Cell::Bound { op, value } => write!(f, "{op}{value}"),
            Cell::Empty => Ok(()),
            Cell::Text(t) => f.write_str(t),
        }
    }
}

/// A plain decimal with optional thousands separators (`1,230,000`).
fn number(s: &str) -> Option<f64> {
    let digits: String = s.chars().filter(|&c| c != ',').collect();
    if digits.is_empty()
        || !digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
    {
        return None;
    }
    digits.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// What a measure column counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    /// Production in a year (`Prod_…`).
    Production,
    /// Capacity (`Cap_…`).
    Capacity,
    /// Reserves (`Reserves_…`).
    Reserves,
}

/// A measure column of a world file, read from its name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    /// The column name as written (`Prod_kg_est_2023`).
    pub column: String,
    /// What it counts.
    pub kind: MeasureKind,
    /// The unit as written (`kg`, `kt`, `Sponge_t`, `ore_K2O_equiv_kt`).
    pub unit: String,
    /// The year, when the name has one.
    pub year: Option<u16>,
    /// Whether the column is marked estimated (`_est_`).
    pub estimated: bool,
    /// 0-based column index in the file.
    pub index: usize,
}

impl Measure {
    fn from_column(name: &str, index: usize) -> Option<Measure> {
        let mut parts = name.trim().split('_');
        let kind = match parts.next()? {
            "Prod" => MeasureKind::Production,
            "Cap" => MeasureKind::Capacity,
            "Reserves" => MeasureKind::Reserves,
            _ => return None,
        };
        let rest: Vec<&str> = parts.collect();
        if rest
            .iter()
            .any(|p| p.eq_ignore_ascii_case("notes") || p.eq_ignore_ascii_case("note"))
        {
            return None;
        }
        let year = rest
            .iter()
            .find(|p| p.len() == 4 && p.chars().all(|c| c.is_ascii_digit()))
            .and_then(|p| p.parse().ok());
        let estimated = rest.iter().any(|p| p.eq_ignore_ascii_case("est"));
        let unit = rest
            .iter()
            .filter(|p| !p.eq_ignore_ascii_case("est") && p.parse::<u16>().is_err())
            .copied()
            .collect::<Vec<_>>()
            .join("_");
        Some(Measure {
            column: name.trim().to_string(),
            kind,
            unit,
            year,
            estimated,
            index,
        })
    }
}

/// One data row of a world file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// 1-based line in the file.
    pub line: usize,
    /// The country label as written.
    pub label: String,
    /// What the label names.
    pub who: Who,
    /// The `Type` column as written.
    pub row_type: String,
    /// One cell per measure of the file, in [`WorldFile::measures`] order.
    pub cells: Vec<Cell>,
}

/// The stage of supply a series covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Mine production.
    Mining,
    /// Refinery, smelter or plant production (processing).
    Refining,
    /// Anything else (capacity tables, cement).
    Other,
}

impl Stage {
    /// The stage a USGS `Type` text describes.
    pub fn of_type(text: &str) -> Stage {
        let t = text.to_lowercase();
        if [
            "refin",
            "smelter",
            "plant production",
            "sponge",
            "primary production",
            "pig iron",
            "raw steel",
        ]
        .iter()
        .any(|w| t.contains(w))
        {
            Stage::Refining
        } else if ["mine", "mne ", "poduction", "ore"]
            .iter()
            .any(|w| t.contains(w))
        {
            Stage::Mining
        } else {
            Stage::Other
        }
    }
}

/// Rows of one world file up to and including a "World total" row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// The `Type` of the series' first row (`Mine production, graphite`).
    pub series_type: String,
    /// The stage.
    pub stage: Stage,
    /// Country, "other countries" and unknown rows, in file order.
    pub rows: Vec<Row>,
    /// The world total row, when the series has one.
    pub world: Option<Row>,
    /// Whether the rows' `Type` texts differ (boron, talc: quantities
    /// USGS says are not reported consistently).
    pub mixed_types: bool,
}

/// A parsed `mcs2024-<code>_world.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorldFile {
    /// The file name (provenance).
    pub file: String,
    /// The commodity's file code (`galli`).
    pub code: String,
    /// The measure columns.
    pub measures: Vec<Measure>,
    /// The series, in file order.
    pub series: Vec<Series>,
    /// Rows with a label the name table does not know, and cells not read.
    pub diagnostics: Vec<Diagnostic>,
}

/// The commodity code of a world file name (`MCS2024-bismu_world.csv` → `bismu`).
pub fn world_code(file_name: &str) -> Option<String> {
    let lower = file_name.to_lowercase();
    let rest = lower.strip_prefix("mcs2024-")?;
    let code = rest.strip_suffix("_world.csv")?;
    (!code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase())).then(|| code.to_string())
}

/// Reads one world file. `file` is its name (`mcs2024-galli_world.csv`):
/// the commodity code is taken from it and errors name it.
pub fn parse_world(file: &str, text: &str) -> Result<WorldFile, DataError> {
    check_len(file, text)?;
    let code = world_code(file).ok_or_else(|| {
        DataError::new(
            file,
            0,
            "not a world file name (expected mcs2024-<code>_world.csv)",
        )
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(strip_bom(text).as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(DataError::new(file, 1, format!("not CSV: {e}"))),
        None => return Err(DataError::new(file, 1, "empty file")),
    };
    if header.get(1).map(str::trim) != Some("Country") {
        return Err(DataError::new(
            file,
            1,
            format!(
                "second column is {:?}, expected \"Country\"",
                header.get(1).unwrap_or("")
            ),
        ));
    }
    let measures: Vec<Measure> = header
        .iter()
        .enumerate()
        .skip(3)
        .filter_map(|(i, name)| Measure::from_column(name, i))
        .collect();
    if measures.is_empty() {
        return Err(DataError::new(
            file,
            1,
            "no Prod_, Cap_ or Reserves_ column",
        ));
    }
    let mut out = WorldFile {
        file: file.to_string(),
        code,
        measures,
        series: Vec::new(),
        diagnostics: Vec::new(),
    };
    let mut current: Option<Series> = None;
    for (n, record) in records.enumerate() {
        let line = n + 2;
        if n >= ROWS_MAX {
            return Err(DataError::new(
                file,
                line,
                format!("more than {ROWS_MAX} rows"),
            ));
        }
        let record = record.map_err(|e| DataError::new(file, line, format!("not CSV: {e}")))?;
        let label = record.get(1).unwrap_or("").trim();
        if label.is_empty() {
            // USGS pads the files with empty rows.
            continue;
        }
        let row = Row {
            line,
            label: label.replace('\u{a0}', " "),
            who: classify(label),
            row_type: record.get(2).unwrap_or("").trim().to_string(),
            cells: out
                .measures
                .iter()
                .map(|m| Cell::parse(record.get(m.index).unwrap_or("")))
                .collect(),
        };
        if let Who::Unknown(name) = &row.who {
            out.diagnostics.push(Diagnostic {
                file: file.to_string(),
                line,
                what: format!(
                    "{name:?} is no country of the name table: counted in no country's share"
                ),
            });
        }
        let series = current.get_or_insert_with(|| Series {
            series_type: row.row_type.clone(),
            stage: Stage::of_type(&row.row_type),
            rows: Vec::new(),
            world: None,
            mixed_types: false,
        });
        if row.who == Who::WorldTotal {
            series.world = Some(row);
            out.series.extend(current.take());
        } else {
            series.mixed_types |= row.row_type != series.series_type;
            series.rows.push(row);
        }
    }
    out.series.extend(current.take());
    // A total with no rows of its own ("World total, natural and synthetic"
    // after the natural and the synthetic series) is no series to rank.
    out.series.retain(|s| !s.rows.is_empty());
    if out.series.is_empty() {
        return Err(DataError::new(file, 0, "no data rows"));
    }
    Ok(out)
}

/// One line of the net-import-reliance figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reliance {
    /// File name and 1-based line (provenance).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The commodity label as USGS prints it (`COPPER, refined`).
    pub label: String,
    /// US net import reliance 2023, % of apparent consumption, as written
    /// (`100`, `>95`).
    pub net_import_reliance_pct: Cell,
    /// The year of the reliance figure.
    pub year: u16,
    /// Major import sources 2019–22, in descending order of import share,
    /// as ISO codes (a name the table does not know is kept as written).
    pub import_sources: Vec<String>,
    /// The commodity code it joins to, if any.
    pub code: Option<String>,
    /// The series word it joins to, when the commodity has several series.
    pub series_word: Option<String>,
}

impl Reliance {
    /// The reliance as a fraction, taking a bound as its value (`>95` →
    /// 0.95): USGS publishes no closer figure.
    pub fn fraction(&self) -> Option<f64> {
        match self.net_import_reliance_pct {
            Cell::Value(v) | Cell::Bound { value: v, .. } => Some(v / 100.0),
            _ => None,
        }
    }
}

/// Reads `MCS2024_Fig2_Net_Import_Reliance.csv`.
pub fn parse_reliance(file: &str, text: &str) -> Result<Vec<Reliance>, DataError> {
    let csv = Headed::open(file, text, false)?;
    let commodity = csv.column("Commodity")?;
    let sources = csv.column("Major_Import_Sources_2019_2022")?;
    let (reliance, year) = csv
        .headers
        .iter()
        .enumerate()
        .find_map(|(i, h)| {
            let year = h.trim().strip_prefix("Net_Import_Reliance_pct_")?;
            Some((i, year.parse::<u16>().ok()?))
        })
        .ok_or_else(|| DataError::new(file, 1, "no column Net_Import_Reliance_pct_<year>"))?;
    let mut out = Vec::new();
    for row in csv.rows() {
        let (line, record) = row?;
        let label = record.get(commodity).unwrap_or("").trim();
        if label.is_empty() {
            continue;
        }
        let import_sources = record
            .get(sources)
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| iso3(s).map_or_else(|| s.to_string(), str::to_string))
            .collect();
        let target = crate::commodity::reliance_target(label);
        out.push(Reliance {
            file: file.to_string(),
            line,
            label: label.to_string(),
            net_import_reliance_pct: Cell::parse(record.get(reliance).unwrap_or("")),
            year,
            import_sources,
            code: target.map(|(c, _)| c.to_string()),
            series_word: target.and_then(|(_, w)| w.map(str::to_string)),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_as_usgs_writes_them() {
        assert_eq!(Cell::parse("1,230,000"), Cell::Value(1_230_000.0));
        assert_eq!(Cell::parse("1230 "), Cell::Value(1230.0));
        assert_eq!(Cell::parse("      NA"), Cell::NotAvailable);
        assert_eq!(Cell::parse("W"), Cell::Withheld);
        assert_eq!(Cell::parse("XX"), Cell::NotApplicable);
        assert_eq!(
            Cell::parse(">95"),
            Cell::Bound {
                op: '>',
                value: 95.0
            }
        );
        assert_eq!(
            Cell::parse("<100,000"),
            Cell::Bound {
                op: '<',
                value: 100_000.0
            }
        );
        assert_eq!(Cell::parse(""), Cell::Empty);
        assert_eq!(
            Cell::parse("Included in World total."),
            Cell::Text("Included in World total.".into())
        );
    }

    #[test]
    fn column_names() {
        let m = Measure::from_column("Prod_kg_est_2023", 4).unwrap();
        assert_eq!(
            (m.kind, m.unit.as_str(), m.year, m.estimated),
            (MeasureKind::Production, "kg", Some(2023), true)
        );
        let m = Measure::from_column("Reserves_ore_K2O_equiv_kt", 7).unwrap();
        assert_eq!(
            (m.kind, m.unit.as_str(), m.year),
            (MeasureKind::Reserves, "ore_K2O_equiv_kt", None)
        );
        let m = Measure::from_column("Prod_kt_Est_2023", 4).unwrap();
        assert!(m.estimated);
        assert!(Measure::from_column("Prod_notes", 5).is_none());
        assert!(Measure::from_column("Reserves_notes", 8).is_none());
        assert!(Measure::from_column("Source", 0).is_none());
    }

    #[test]
    fn file_codes() {
        assert_eq!(
            world_code("MCS2024-bismu_world.csv").as_deref(),
            Some("bismu")
        );
        assert_eq!(
            world_code("mcs2024-galli_world.csv").as_deref(),
            Some("galli")
        );
        assert_eq!(world_code("galli.csv"), None);
    }
}
