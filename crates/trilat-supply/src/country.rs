//! Country names as the USGS and the World Bank write them, to ISO 3166-1
//! alpha-3 codes. The table (`data/countries.tsv`) holds the ISO names and
//! the spellings of both publishers; a USGS row label may add a footnote
//! mark (`Japane`, `Other countries4`), a qualifier in brackets
//! (`India (ocher)`) or after a comma (`Chile, ulexite`), all of which
//! [`classify`] looks through.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const TABLE: &str = include_str!("../data/countries.tsv");

/// What a row label of a USGS table names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    /// A country, by its ISO 3166-1 alpha-3 code.
    Country(String),
    /// "Other countries": the rest of the world, composition unknown.
    Others,
    /// The world total row.
    WorldTotal,
    /// A label the table does not know (an aggregate such as "United
    /// States and Canada"): counted in no country's share.
    Unknown(String),
}

fn index() -> &'static HashMap<String, &'static str> {
    static INDEX: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = HashMap::new();
        for line in TABLE.lines().filter(|l| !l.starts_with('#')) {
            let mut fields = line.split('\t');
            let Some(code) = fields.next() else { continue };
            index.insert(key(code), code);
            for name in fields {
                index.insert(key(name), code);
            }
        }
        index
    })
}

/// The matching key of a name: lower case, typographic apostrophes and
/// no-break spaces made plain, runs of white space made one.
fn key(name: &str) -> String {
    let plain = name
        .replace(['\u{2019}', '\u{2018}'], "'")
        .replace('\u{a0}', " ")
        .to_lowercase();
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The ISO 3166-1 alpha-3 code of a country name or code, if the table
/// knows it exactly (`"Korea, Rep."` → `KOR`, `"Burma"` → `MMR`).
pub fn iso3(name: &str) -> Option<&'static str> {
    index().get(&key(name)).copied()
}

/// The ISO name of a code (`KOR` → "Korea, Republic of").
pub fn name_of(code: &str) -> Option<&'static str> {
    TABLE.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let mut fields = l.split('\t');
        (fields.next() == Some(code))
            .then(|| fields.next())
            .flatten()
    })
}

/// Whether `code` is a code of the table (ISO 3166-1 alpha-3, plus XKX and ANT).
pub fn is_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) && name_of(code).is_some()
}

/// What a USGS row label names, looking through footnote marks and
/// qualifiers.
pub fn classify(label: &str) -> Who {
    let plain = key(label);
    if plain.starts_with("world") {
        return Who::WorldTotal;
    }
    if plain == "other" || plain.starts_with("other countries") {
        return Who::Others;
    }
    match lookup(label) {
        Some(code) => Who::Country(code.to_string()),
        None => Who::Unknown(label.trim().replace('\u{a0}', " ")),
    }
}

fn lookup(label: &str) -> Option<&'static str> {
    if let Some(code) = iso3(label) {
        return Some(code);
    }
    // "Germany6", "New Caledonia11": a footnote number.
    let base = label.trim().trim_end_matches(|c: char| c.is_ascii_digit());
    // "India (ocher)", "Denmark (processed)5": a qualifier in brackets.
    let base = match base.find(" (") {
        Some(i) if base.ends_with(')') => &base[..i],
        _ => base,
    };
    if let Some(code) = iso3(base) {
        return Some(code);
    }
    // "Japane", "Korea, Republic ofe": the USGS "estimated" mark.
    if let Some(code) = base.strip_suffix('e').and_then(iso3) {
        return Some(code);
    }
    // "Chile, ulexite", "Argentina, crude ore": a lower-case qualifier after
    // a comma (never "Congo, Dem. Rep.", whose remainder is capitalised).
    let (head, rest) = base.split_once(", ")?;
    if rest.starts_with(|c: char| c.is_lowercase()) {
        return iso3(head);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishers_spellings() {
        assert_eq!(iso3("Korea, Rep."), Some("KOR"));
        assert_eq!(iso3("Korea, Dem. People\u{2019}s Rep."), Some("PRK"));
        assert_eq!(iso3("Congo (Kinshasa)"), Some("COD"));
        assert_eq!(iso3("Congo, Rep."), Some("COG"));
        assert_eq!(iso3("United\u{a0}States"), Some("USA"));
        assert_eq!(iso3("Burma"), Some("MMR"));
        assert_eq!(iso3("Atlantis"), None);
    }

    #[test]
    fn usgs_labels() {
        let c = |s: &str| Who::Country(s.into());
        assert_eq!(classify("Japane"), c("JPN"));
        assert_eq!(classify("Korea, Republic ofe"), c("KOR"));
        assert_eq!(classify("Greecee"), c("GRC"));
        assert_eq!(classify("Greece"), c("GRC"));
        assert_eq!(classify("Germany6"), c("DEU"));
        assert_eq!(classify("Denmark (processed)5"), c("DNK"));
        assert_eq!(classify("Chile, ulexite"), c("CHL"));
        assert_eq!(classify("Korea, North"), c("PRK"));
        assert_eq!(classify("Other countries4"), Who::Others);
        assert_eq!(classify("World total (rounded)10"), Who::WorldTotal);
        assert_eq!(
            classify("United\u{a0}States and Canada"),
            Who::Unknown("United States and Canada".into())
        );
    }

    #[test]
    fn names_of_codes() {
        assert_eq!(name_of("KOR"), Some("Korea, Republic of"));
        assert!(is_code("CHN"));
        assert!(!is_code("ZZZ"));
        assert!(!is_code("chn"));
    }
}
