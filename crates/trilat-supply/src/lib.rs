//! Critical-mineral supply risk for the partners: pure, no I/O.
//!
//! Readers of the files users download, in their published formats:
//! - [`usgs::parse_world`]: a USGS Mineral Commodity Summaries 2024 data
//!   release world file (production, capacity, reserves by country);
//! - [`usgs::parse_reliance`]: the MCS net-import-reliance figure;
//! - [`wgi::parse_wgi`]: the World Bank Worldwide Governance Indicators
//!   (the WDI API's long CSV and DataBank's wide export);
//! - [`figures::parse_figures`]: a partner's own figures (documented CSV).
//!
//! Country names become ISO 3166-1 alpha-3 codes ([`country`]). Then
//! [`indicators::indicators`] gives, per commodity and series (mining,
//! refining), the HHI of production and reserves, top-1/top-3 shares, the
//! shares of the countries of concern, the partners and the allies
//! ([`Groups`], from configuration), the governance-weighted HHI and the
//! US import reliance, each number with its file and line;
//! [`indicators::ranking`] ranks the series; [`scenario`] runs "X stops
//! exporting" and "the partners pool". [`report`] holds the `econ.*`
//! report payloads and their checks.
//!
//! ```
//! use trilat_supply::{indicators, usgs, Groups};
//!
//! let text = "Source,Country,Type,Prod_kg_2022,Prod_kg_est_2023,Prod_notes\n\
//!             MCS2024,China,Primary production,600000,600000,\n\
//!             MCS2024,Japane,Primary production,3000,3000,\n\
//!             MCS2024,World total (rounded),Primary production,610000,610000,\n";
//! let file = usgs::parse_world("mcs2024-galli_world.csv", text).unwrap();
//! let mut groups = Groups::default();
//! groups.concern.insert("CHN".into());
//! let found = indicators::indicators(&[file], &[], None, &groups);
//! let p = found[0].production.as_ref().unwrap();
//! assert_eq!(p.top1.as_ref().unwrap().0, "CHN");
//! assert!((p.concern_share - 600_000.0 / 610_000.0).abs() < 1e-12);
//! ```
#![deny(missing_docs)]

pub mod commodity;
pub mod country;
mod csvfile;
mod error;
pub mod figures;
mod groups;
pub mod indicators;
pub mod report;
pub mod scenario;
pub mod usgs;
pub mod wgi;

pub use error::{DataError, Diagnostic, FILE_LEN_MAX, ROWS_MAX};
pub use groups::{Groups, GROUP_LEN_MAX};

/// An example grouping (`data/groups.example.toml`, the TOML of
/// [`Groups`]): an example to adapt, not the project's policy. `trilat
/// demo` configures its nodes with it; `docs/economic.md` shows it.
pub const GROUPS_EXAMPLE: &str = include_str!("../data/groups.example.toml");

/// The name of the USGS net-import-reliance file.
pub const RELIANCE_FILE: &str = "MCS2024_Fig2_Net_Import_Reliance.csv";

/// Everything read from a set of files: the world files, the reliance
/// figure, the WGI, and what the readers skipped.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// The world files, sorted by commodity code.
    pub world: Vec<usgs::WorldFile>,
    /// The reliance lines.
    pub reliance: Vec<usgs::Reliance>,
    /// The WGI, when given.
    pub wgi: Option<wgi::Wgi>,
    /// What the readers skipped.
    pub diagnostics: Vec<Diagnostic>,
}

impl Dataset {
    /// Reads the files by their names: `mcs2024-<code>_world.csv`,
    /// [`RELIANCE_FILE`], and one WGI CSV (any other `.csv` whose header
    /// is the WDI API's long layout or DataBank's wide one, see [`wgi`]).
    /// Other files are ignored.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Dataset, DataError> {
        let mut data = Dataset::default();
        for (name, text) in files {
            let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
            if usgs::world_code(base).is_some() {
                let file = usgs::parse_world(base, text)?;
                data.diagnostics.extend(file.diagnostics.iter().cloned());
                data.world.push(file);
            } else if base.eq_ignore_ascii_case(RELIANCE_FILE) {
                data.reliance = usgs::parse_reliance(base, text)?;
            } else if base.to_lowercase().ends_with(".csv") && wgi::is_wgi(text) {
                if let Some(first) = &data.wgi {
                    return Err(DataError {
                        file: base.to_string(),
                        line: 0,
                        what: format!("a second WGI file (the first is {}); give one", first.file),
                    });
                }
                let wgi = wgi::parse_wgi(base, text)?;
                data.diagnostics.extend(wgi.diagnostics.iter().cloned());
                data.wgi = Some(wgi);
            }
        }
        data.world.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(data)
    }

    /// The indicators of every series (or of `commodities`, file codes).
    pub fn indicators(
        &self,
        groups: &Groups,
        commodities: &[String],
    ) -> Vec<indicators::SeriesIndicators> {
        let files: Vec<usgs::WorldFile> = self
            .world
            .iter()
            .filter(|f| commodities.is_empty() || commodities.contains(&f.code))
            .cloned()
            .collect();
        indicators::indicators(&files, &self.reliance, self.wgi.as_ref(), groups)
    }
}
