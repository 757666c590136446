//! ISO 3166-1 codes for the states Trilat cares about, from Natural Earth's numeric ids or names.

/// (numeric, alpha-3, Natural Earth / common English name) for North-East Asia and neighbours.
const ISO_TABLE: &[(&str, &str, &str)] = &[
    ("392", "JPN", "Japan"),
    ("410", "KOR", "South Korea"),
    ("408", "PRK", "North Korea"),
    ("156", "CHN", "China"),
    ("643", "RUS", "Russia"),
    ("158", "TWN", "Taiwan"),
    ("840", "USA", "United States of America"),
    ("608", "PHL", "Philippines"),
    ("496", "MNG", "Mongolia"),
    ("344", "HKG", "Hong Kong"),
    ("446", "MAC", "Macao"),
    ("704", "VNM", "Vietnam"),
    ("418", "LAO", "Laos"),
    ("116", "KHM", "Cambodia"),
    ("764", "THA", "Thailand"),
    ("104", "MMR", "Myanmar"),
    ("458", "MYS", "Malaysia"),
    ("360", "IDN", "Indonesia"),
    ("096", "BRN", "Brunei"),
    ("702", "SGP", "Singapore"),
    ("356", "IND", "India"),
    ("398", "KAZ", "Kazakhstan"),
    ("036", "AUS", "Australia"),
    ("554", "NZL", "New Zealand"),
    ("316", "GUM", "Guam"),
    ("580", "MNP", "N. Mariana Is."),
    ("585", "PLW", "Palau"),
    ("583", "FSM", "Micronesia"),
    ("584", "MHL", "Marshall Is."),
    ("826", "GBR", "United Kingdom"),
    ("250", "FRA", "France"),
];

/// Names Natural Earth and the ITU's MID table (ITU-R M.585) use that are not in the table,
/// with the state we attribute them to.
const NAME_ALIASES: &[(&str, &str)] = &[
    ("Korea (Republic of)", "KOR"),
    ("Democratic People's Republic of Korea", "PRK"),
    ("China (People's Republic of)", "CHN"),
    ("Korea", "KOR"),
    ("Republic of Korea", "KOR"),
    ("S. Korea", "KOR"),
    ("Dem. Rep. Korea", "PRK"),
    ("N. Korea", "PRK"),
    ("Russian Federation", "RUS"),
    ("United States", "USA"),
    ("Northern Mariana Islands", "MNP"),
    // Natural Earth has no id for Scarborough Reef (Scarborough Shoal): attributed to PHL,
    // and listed as a disputed feature (CHN, TWN claim it; CHN controls access since 2012).
    ("Scarborough Reef", "PHL"),
];

/// ISO 3166-1 alpha-3 for a numeric id (`"392"`, `"36"` or `"036"`), if known.
pub fn iso3_from_numeric(numeric: &str) -> Option<&'static str> {
    let numeric = numeric.trim();
    let value: u32 = numeric.parse().ok()?;
    ISO_TABLE
        .iter()
        .find(|(n, _, _)| n.parse::<u32>().ok() == Some(value))
        .map(|(_, a3, _)| *a3)
}

/// ISO 3166-1 alpha-3 for a Natural Earth or common English country name, if known.
pub fn iso3_from_name(name: &str) -> Option<&'static str> {
    let name = name.trim();
    ISO_TABLE
        .iter()
        .find(|(_, _, n)| n.eq_ignore_ascii_case(name))
        .map(|(_, a3, _)| *a3)
        .or_else(|| {
            NAME_ALIASES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, a3)| *a3)
        })
}

/// Alpha-3 from a numeric id, falling back to the name; `None` when neither is known.
pub fn iso3_of(numeric: Option<&str>, name: Option<&str>) -> Option<&'static str> {
    numeric
        .and_then(iso3_from_numeric)
        .or_else(|| name.and_then(iso3_from_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(numeric: Option<&str>, name: Option<&str>, expect: Option<&str>) {
        assert_eq!(iso3_of(numeric, name), expect, "{numeric:?} {name:?}");
    }

    #[test]
    fn north_east_asia() {
        check(Some("392"), Some("Japan"), Some("JPN"));
        check(Some("410"), None, Some("KOR"));
        check(Some("408"), None, Some("PRK"));
        check(None, Some("Korea (Republic of)"), Some("KOR"));
        check(
            None,
            Some("Democratic People's Republic of Korea"),
            Some("PRK"),
        );
        check(Some("156"), None, Some("CHN"));
        check(Some("643"), None, Some("RUS"));
        check(Some("158"), None, Some("TWN"));
        check(Some("840"), None, Some("USA"));
        check(Some("608"), None, Some("PHL"));
        check(Some("496"), None, Some("MNG"));
        check(Some("36"), None, Some("AUS"));
        check(None, Some("Scarborough Reef"), Some("PHL"));
        check(Some("-99"), Some("Somaliland"), None);
        check(Some("999"), None, None);
        check(None, None, None);
    }
}
