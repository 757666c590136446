//! OFAC SDN list: the main CSV (`sdn.csv`) and its companions `alt.csv` (aliases),
//! `add.csv` (addresses) and `sdn_comments.csv` (remarks that overflow the main file).
//!
//! The official files are latin-1, CRLF, without header, with `-0-` for null and a trailing
//! 0x1A byte. A UTF-8 variant with a header row (as some filtered extracts have) is accepted too.

use crate::error::{Error, ErrorKind, Result};
use crate::ident;
use crate::model::{
    BirthDate, Entity, IdScheme, ListSource, ListVersion, NameQuality, Parsed, PartialDate,
    Problem, Schema,
};
use std::collections::HashMap;

/// Bound on records in one file (the real SDN has about 15,000).
pub const RECORDS_MAX: usize = 200_000;

/// Decodes latin-1 (windows-1252) unless the bytes are valid UTF-8.
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

fn field(record: &csv::StringRecord, index: usize) -> &str {
    let value = record.get(index).unwrap_or("").trim();
    if value == "-0-" {
        ""
    } else {
        value
    }
}

fn records(text: &str) -> csv::StringRecordsIntoIter<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .into_records()
}

/// True when a row is only the DOS end-of-file marker.
fn is_eof_marker(record: &csv::StringRecord) -> bool {
    record.len() == 1
        && record.get(0).is_some_and(|f| {
            f.trim_matches(|c: char| c == '\u{1A}' || c.is_whitespace())
                .is_empty()
        })
}

/// Parses `sdn.csv`. `version` names the list version (the CLI passes the file date).
pub fn parse_sdn(bytes: &[u8], version: &str) -> Result<Parsed> {
    let text = decode(bytes);
    let mut entities = Vec::new();
    let mut problems = Vec::new();
    for (row_idx, res) in records(&text).enumerate() {
        let line = row_idx + 1;
        let record = match res {
            Ok(record) => record,
            Err(e) => {
                problems.push(Problem {
                    position: format!("row {line}"),
                    message: e.to_string(),
                });
                continue;
            }
        };
        if is_eof_marker(&record) || (row_idx == 0 && field(&record, 0) == "ent_num") {
            continue;
        }
        if entities.len() >= RECORDS_MAX {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                format!("row {line}"),
                format!("more than {RECORDS_MAX} records"),
            ));
        }
        match sdn_record(&record, line) {
            Ok(entity) => entities.push(entity),
            Err(message) => problems.push(Problem {
                position: format!("row {line}"),
                message,
            }),
        }
    }
    if entities.is_empty() && !problems.is_empty() {
        return Err(Error::new(
            ErrorKind::Malformed,
            "row 1",
            format!("no SDN record could be read ({} problems)", problems.len()),
        ));
    }
    Ok(Parsed {
        list: ListVersion {
            source: ListSource::OfacSdn,
            version: version.to_string(),
            entities,
        },
        problems,
    })
}

fn sdn_record(record: &csv::StringRecord, line: usize) -> std::result::Result<Entity, String> {
    if record.len() < 12 {
        return Err(format!("{} fields, expected 12", record.len()));
    }
    let ent_num = field(record, 0);
    if ent_num.is_empty() || !ent_num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("ent_num {ent_num:?} is not a number"));
    }
    let name = field(record, 1);
    if name.is_empty() {
        return Err(format!("{ent_num}: empty SDN_Name"));
    }
    let schema = match field(record, 2).to_ascii_lowercase().as_str() {
        "individual" => Schema::Person,
        "vessel" => Schema::Vessel,
        "aircraft" => Schema::Aircraft,
        "" => Schema::Organization,
        other => return Err(format!("{ent_num}: unknown SDN_Type {other:?}")),
    };
    let mut entity = Entity::new(ListSource::OfacSdn, ent_num, format!("row {line}"), schema);
    entity.push_name(&person_order(name, schema), NameQuality::Primary);
    for programme in field(record, 3).split("] [") {
        let programme = programme.trim_matches(|c| c == '[' || c == ']' || c == ' ');
        if !programme.is_empty() {
            entity.programmes.push(programme.to_string());
        }
    }
    let call_sign = field(record, 5);
    if !call_sign.is_empty() {
        push_id(&mut entity, IdScheme::CallSign, call_sign, None, None);
    }
    let flag = field(record, 9);
    if !flag.is_empty() {
        entity.flag = Some(
            crate::country::iso2(flag)
                .map(str::to_string)
                .unwrap_or_else(|| flag.to_string()),
        );
    }
    apply_remarks(&mut entity, field(record, 11));
    Ok(entity)
}

/// OFAC writes persons as `SURNAME, Given Names`; we keep the comma so analysis knows the order.
fn person_order(name: &str, schema: Schema) -> String {
    if schema == Schema::Person {
        name.to_string()
    } else {
        name.replace(',', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Parses OFAC date text: `21 Jan 1971`, `Jan 1971`, `1971`.
pub fn parse_date(text: &str) -> Option<PartialDate> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let month = |m: &str| {
        MONTHS
            .iter()
            .position(|x| m.to_ascii_lowercase().starts_with(x))
            .map(|i| i as u8 + 1)
    };
    let year = |y: &str| {
        y.trim_end_matches('.')
            .parse::<u16>()
            .ok()
            .filter(|y| (1000..3000).contains(y))
    };
    match parts.as_slice() {
        [y] => Some(PartialDate {
            year: year(y)?,
            month: None,
            day: None,
        }),
        [m, y] => Some(PartialDate {
            year: year(y)?,
            month: Some(month(m)?),
            day: None,
        }),
        [d, m, y] => {
            let day = d.parse::<u8>().ok().filter(|d| (1..=31).contains(d))?;
            Some(PartialDate {
                year: year(y)?,
                month: Some(month(m)?),
                day: Some(day),
            })
        }
        _ => None,
    }
}

fn parse_birth(text: &str) -> Option<BirthDate> {
    let (circa, text) = match text.strip_prefix("circa ") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if let Some((from, to)) = text.split_once(" to ") {
        let from = parse_date(from)?;
        let to = parse_date(to)?;
        return Some(BirthDate {
            date: from,
            year_to: Some(to.year).filter(|y| *y >= from.year),
            circa,
        });
    }
    Some(BirthDate {
        date: parse_date(text)?,
        year_to: None,
        circa,
    })
}

/// Splits `NUMBER (Country)` into the number and the country's ISO code.
fn number_and_country(text: &str) -> (String, Option<String>) {
    let head = text
        .split(" issued")
        .next()
        .unwrap_or(text)
        .split(" expires")
        .next()
        .unwrap_or(text);
    match head.split_once('(') {
        Some((number, rest)) => {
            let country = rest.split(')').next().unwrap_or("");
            (
                number.trim().to_string(),
                crate::country::iso2(country).map(str::to_string),
            )
        }
        None => (head.trim().to_string(), None),
    }
}

/// Reads the `;`-separated remarks: DOB, nationality, passports, IMO/MMSI, a.k.a.
pub fn apply_remarks(entity: &mut Entity, remarks: &str) {
    for item in remarks.split("; ") {
        let item = item.trim().trim_end_matches('.');
        let item = item.strip_prefix("alt. ").unwrap_or(item);
        if let Some(rest) = item.strip_prefix("DOB ") {
            if let Some(birth) = parse_birth(rest) {
                entity.birth_dates.push(birth);
            }
        } else if let Some(rest) = item
            .strip_prefix("nationality ")
            .or_else(|| item.strip_prefix("citizen "))
        {
            entity.push_country(rest);
        } else if let Some(rest) = ["a.k.a. ", "f.k.a. ", "n.k.a. "]
            .iter()
            .find_map(|p| item.strip_prefix(p))
        {
            let alias = rest.trim_matches(|c| c == '\'' || c == '"' || c == ' ');
            entity.push_name(&person_order(alias, entity.schema), NameQuality::Strong);
        } else if let Some(rest) = item.strip_prefix("Passport ") {
            let (number, country) = number_and_country(rest);
            push_id(entity, IdScheme::Passport, &number, country, None);
        } else if let Some(rest) = item.strip_prefix("National ID No. ") {
            let (number, country) = number_and_country(rest);
            push_id(entity, IdScheme::NationalId, &number, country, None);
        } else if let Some(rest) = item.strip_prefix("MMSI ") {
            push_id(entity, IdScheme::Mmsi, rest, None, None);
        } else if let Some(rest) = item.strip_prefix("Aircraft Tail Number ") {
            push_id(entity, IdScheme::AircraftTail, rest, None, None);
        } else if let Some(rest) = item.strip_prefix("Digital Currency Address - ") {
            let (currency, address) = rest.split_once(' ').unwrap_or((rest, ""));
            push_id(
                entity,
                IdScheme::DigitalCurrency,
                address,
                None,
                Some(currency),
            );
        } else if let Some((scheme, rest)) = contact_item(item) {
            push_id(entity, scheme, rest, None, None);
        } else if let Some(position) = item.find("IMO ") {
            let number: String = item[position + 4..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let scheme = if entity.schema == Schema::Vessel {
                IdScheme::ImoShip
            } else {
                IdScheme::ImoCompany
            };
            // A number failing its check digit is kept and marked invalid, not dropped.
            push_id(entity, scheme, &number, None, None);
        } else if let Some(rest) = item.strip_prefix("Vessel Year of Build ") {
            if let Some(date) = parse_date(rest) {
                entity.birth_dates.push(BirthDate {
                    date,
                    year_to: None,
                    circa: false,
                });
            }
        }
    }
}

/// Remark labels of contact identifiers and bank codes, as OFAC writes them.
const CONTACT_LABELS: [(&str, IdScheme); 14] = [
    ("Email Address ", IdScheme::Email),
    ("Email:", IdScheme::Email),
    ("Email ", IdScheme::Email),
    ("Website ", IdScheme::Website),
    ("Phone Number ", IdScheme::Phone),
    ("PHONE ", IdScheme::Phone),
    ("Telephone No. ", IdScheme::Phone),
    ("Telephone: ", IdScheme::Phone),
    ("Telephone ", IdScheme::Phone),
    ("Fax No. ", IdScheme::Phone),
    ("Fax: ", IdScheme::Phone),
    ("Fax ", IdScheme::Phone),
    ("FAX ", IdScheme::Phone),
    ("SWIFT/BIC ", IdScheme::SwiftBic),
];

fn contact_item(item: &str) -> Option<(IdScheme, &str)> {
    CONTACT_LABELS
        .iter()
        .find_map(|(label, scheme)| item.strip_prefix(label).map(|rest| (*scheme, rest.trim())))
}

/// Adds a validated identifier (kept when invalid: [`Identifier::invalid`] says why) unless
/// empty or already there.
fn push_id(
    entity: &mut Entity,
    scheme: IdScheme,
    text: &str,
    country: Option<String>,
    currency: Option<&str>,
) {
    let id = ident::identifier(scheme, text, country, currency);
    if !id.value.is_empty() && !entity.identifiers.contains(&id) {
        entity.identifiers.push(id);
    }
}

/// Counts of a companion file applied to a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanionCounts {
    /// Rows applied to an entity.
    pub applied: usize,
    /// Rows whose `ent_num` is not in the list (companion from another date).
    pub unmatched: usize,
}

fn by_ent_num(list: &ListVersion) -> HashMap<String, usize> {
    list.entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.record_id.clone(), i))
        .collect()
}

/// Shared loop over a companion file: calls `apply(entity, record)` for rows that join.
fn apply_companion(
    list: &mut ListVersion,
    bytes: &[u8],
    file: &str,
    problems: &mut Vec<Problem>,
    mut apply: impl FnMut(&mut Entity, &csv::StringRecord),
) -> CompanionCounts {
    let text = decode(bytes);
    let index = by_ent_num(list);
    let mut counts = CompanionCounts::default();
    let mut unmatched_first: Vec<String> = Vec::new();
    for (row_idx, res) in records(&text).enumerate() {
        let line = row_idx + 1;
        let record = match res {
            Ok(record) => record,
            Err(e) => {
                problems.push(Problem {
                    position: format!("{file} row {line}"),
                    message: e.to_string(),
                });
                continue;
            }
        };
        if is_eof_marker(&record) {
            continue;
        }
        match index.get(field(&record, 0)) {
            Some(&entity_idx) => {
                apply(&mut list.entities[entity_idx], &record);
                counts.applied += 1;
            }
            None => {
                counts.unmatched += 1;
                if unmatched_first.len() < 5 {
                    unmatched_first.push(format!("row {line} (ent_num {})", field(&record, 0)));
                }
            }
        }
    }
    if counts.unmatched > 0 {
        problems.push(Problem {
            position: file.to_string(),
            message: format!("{} rows name an ent_num not in the SDN list (companion from another date?), first: {}", counts.unmatched, unmatched_first.join(", ")),
        });
    }
    counts
}

/// Applies `alt.csv` (ent_num, alt_num, alt_type, alt_name, alt_remarks).
pub fn apply_alt(
    list: &mut ListVersion,
    bytes: &[u8],
    problems: &mut Vec<Problem>,
) -> CompanionCounts {
    apply_companion(list, bytes, "alt.csv", problems, |entity, record| {
        let quality = if field(record, 4).to_ascii_lowercase().contains("weak") {
            NameQuality::Weak
        } else {
            NameQuality::Strong
        };
        let name = person_order(field(record, 3), entity.schema);
        entity.push_name(&name, quality);
    })
}

/// Applies `add.csv` (ent_num, add_num, address, city/state/postal, country, remarks).
pub fn apply_add(
    list: &mut ListVersion,
    bytes: &[u8],
    problems: &mut Vec<Problem>,
) -> CompanionCounts {
    apply_companion(list, bytes, "add.csv", problems, |entity, record| {
        let parts: Vec<&str> = [2, 3, 4]
            .iter()
            .map(|i| field(record, *i))
            .filter(|t| !t.is_empty())
            .collect();
        if !parts.is_empty() {
            entity.addresses.push(parts.join(", "));
        }
    })
}

/// Applies `sdn_comments.csv` (ent_num, remarks continued).
pub fn apply_comments(
    list: &mut ListVersion,
    bytes: &[u8],
    problems: &mut Vec<Problem>,
) -> CompanionCounts {
    apply_companion(
        list,
        bytes,
        "sdn_comments.csv",
        problems,
        |entity, record| apply_remarks(entity, field(record, 1)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Identifier;

    const SDN: &[u8] = b"90001,\"KIM, Chol Su\",\"individual\",\"DPRK2\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 07 Jan 1970; alt. DOB circa 1968; nationality Korea, North; Passport 745120026 (Korea, North) issued 01 Jan 2015; a.k.a. 'KIM, Chol-su'.\"\r\n\
90002,\"OCEAN SAMPLE\",\"vessel\",\"DPRK3\",-0- ,\"HMYZ\",\"Oil Tanker\",\"3000\",\"2000\",\"Korea, North\",-0- ,\"Vessel Registration Identification IMO 9191345; MMSI 445112000.\"\r\n\
90003,\"SAMPLE SHIPPING CO., LTD.\",-0- ,\"DPRK\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Company Number IMO 5110478; Caf\xe9 'ALIAS'.\"\r\n\
90004,\"BROKEN\"\r\n\
\x1a";

    #[test]
    fn fixture() {
        let mut parsed = parse_sdn(SDN, "2030-01-01").unwrap();
        assert_eq!(parsed.list.entities.len(), 3);
        assert_eq!(parsed.problems.len(), 1);
        assert_eq!(parsed.problems[0].position, "row 4");
        let kim = &parsed.list.entities[0];
        assert_eq!(kim.id, "ofac:90001");
        assert_eq!(kim.schema, Schema::Person);
        assert_eq!(kim.names.len(), 2);
        assert_eq!(kim.birth_dates.len(), 2);
        assert_eq!(kim.birth_dates[0].date.to_iso(), "1970-01-07");
        assert!(kim.birth_dates[1].circa);
        assert_eq!(kim.countries, ["KP"]);
        assert_eq!(
            kim.identifiers[0],
            Identifier::new(IdScheme::Passport, "745120026", Some("KP".into()))
        );
        let vessel = &parsed.list.entities[1];
        assert_eq!(vessel.flag.as_deref(), Some("KP"));
        assert!(vessel
            .identifiers
            .contains(&Identifier::new(IdScheme::ImoShip, "9191345", None)));
        assert!(vessel
            .identifiers
            .contains(&Identifier::new(IdScheme::Mmsi, "445112000", None)));
        assert!(vessel
            .identifiers
            .contains(&Identifier::new(IdScheme::CallSign, "HMYZ", None)));
        let company = &parsed.list.entities[2];
        assert_eq!(company.caption(), "SAMPLE SHIPPING CO. LTD.");
        assert!(company.identifiers.contains(&Identifier::new(
            IdScheme::ImoCompany,
            "5110478",
            None
        )));

        let mut problems = Vec::new();
        let alt = b"90002,1,\"fka\",\"SAMPLE OCEAN\",-0- \r\n99999,2,\"aka\",\"NOBODY\",-0- \r\n";
        let counts = apply_alt(&mut parsed.list, alt, &mut problems);
        assert_eq!(
            counts,
            CompanionCounts {
                applied: 1,
                unmatched: 1
            }
        );
        assert_eq!(parsed.list.entities[1].names[1].text, "SAMPLE OCEAN");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("99999"));
        let add = b"90003,1,\"1 Harbour Road\",\"Nampo\",\"Korea, North\",-0- \r\n";
        apply_add(&mut parsed.list, add, &mut problems);
        assert_eq!(
            parsed.list.entities[2].addresses,
            ["1 Harbour Road, Nampo, Korea, North"]
        );
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("21 Jan 1971").unwrap().to_iso(), "1971-01-21");
        assert_eq!(parse_date("Dec 1960").unwrap().to_iso(), "1960-12");
        assert_eq!(parse_date("1960").unwrap().to_iso(), "1960");
        assert_eq!(parse_date("31 Foo 1960"), None);
        let range = parse_birth("01 Jan 1960 to 31 Dec 1962").unwrap();
        assert_eq!(range.year_range(), (1960, 1962));
    }
}
