//! UN Security Council consolidated list (XML): `INDIVIDUAL` and `ENTITY` records.

use crate::error::{Error, ErrorKind, Result};
use crate::ident;
use crate::model::{
    BirthDate, Entity, IdScheme, Identifier, ListSource, ListVersion, NameQuality, Parsed,
    PartialDate, Problem, Schema,
};
use quick_xml::events::Event;

/// Bound on records in one file (the real list has about 1,000).
pub const RECORDS_MAX: usize = 100_000;
/// Bound on nesting depth inside one record.
const DEPTH_MAX: usize = 16;

/// A minimal element tree of one record.
#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child_text(&self, name: &str) -> &str {
        self.children
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.text.trim())
            .unwrap_or("")
    }
    fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    fn values(&self, name: &str) -> Vec<String> {
        self.children_named(name)
            .flat_map(|c| c.children_named("VALUE"))
            .map(|v| v.text.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

/// Parses the consolidated list XML. Records that cannot be read are reported and skipped.
pub fn parse(bytes: &[u8]) -> Result<Parsed> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().trim_text(false);
    let mut version = String::new();
    let mut entities = Vec::new();
    let mut problems = Vec::new();
    let mut stack: Vec<Element> = Vec::new();
    let mut record_start = 0u64;
    let mut saw_root = false;
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            Error::new(
                ErrorKind::Malformed,
                format!("byte {position}"),
                e.to_string(),
            )
        })?;
        match event {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                if name == "CONSOLIDATED_LIST" {
                    saw_root = true;
                    for attr in start.attributes().flatten() {
                        if attr.key.as_ref() == b"dateGenerated" {
                            version = String::from_utf8_lossy(&attr.value).into_owned();
                        }
                    }
                    continue;
                }
                if name == "INDIVIDUAL" || name == "ENTITY" {
                    record_start = position;
                    stack.clear();
                }
                if !stack.is_empty() || name == "INDIVIDUAL" || name == "ENTITY" {
                    if stack.len() >= DEPTH_MAX {
                        return Err(Error::new(
                            ErrorKind::LimitExceeded,
                            format!("byte {position}"),
                            "record nested too deeply",
                        ));
                    }
                    stack.push(Element {
                        name,
                        ..Element::default()
                    });
                }
            }
            Event::Empty(start) => {
                if let Some(parent) = stack.last_mut() {
                    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                    parent.children.push(Element {
                        name,
                        ..Element::default()
                    });
                }
            }
            Event::Text(text) => {
                if let Some(top) = stack.last_mut() {
                    let decoded = text.decode().map_err(|e| {
                        Error::new(
                            ErrorKind::Malformed,
                            format!("byte {position}"),
                            e.to_string(),
                        )
                    })?;
                    top.text.push_str(&decoded);
                }
            }
            Event::CData(text) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&text));
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(top) = stack.last_mut() {
                    let resolved = match reference.as_ref() {
                        b"amp" => Some('&'),
                        b"lt" => Some('<'),
                        b"gt" => Some('>'),
                        b"quot" => Some('"'),
                        b"apos" => Some('\''),
                        _ => reference.resolve_char_ref().ok().flatten(),
                    };
                    match resolved {
                        Some(c) => top.text.push(c),
                        None => problems.push(Problem {
                            position: format!("byte {position}"),
                            message: "unknown entity reference".into(),
                        }),
                    }
                }
            }
            Event::End(_) => {
                if let Some(done) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => {
                            if entities.len() >= RECORDS_MAX {
                                return Err(Error::new(
                                    ErrorKind::LimitExceeded,
                                    format!("byte {record_start}"),
                                    format!("more than {RECORDS_MAX} records"),
                                ));
                            }
                            match record(&done, record_start) {
                                Ok(entity) => entities.push(entity),
                                Err(message) => problems.push(Problem {
                                    position: format!("byte {record_start}"),
                                    message,
                                }),
                            }
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(Error::new(
            ErrorKind::Malformed,
            "byte 0",
            "no CONSOLIDATED_LIST root element",
        ));
    }
    if !stack.is_empty() {
        problems.push(Problem {
            position: format!("byte {record_start}"),
            message: "file ends inside a record".into(),
        });
    }
    Ok(Parsed {
        list: ListVersion {
            source: ListSource::UnConsolidated,
            version,
            entities,
        },
        problems,
    })
}

fn record(element: &Element, offset: u64) -> std::result::Result<Entity, String> {
    let is_person = element.name == "INDIVIDUAL";
    let reference = element.child_text("REFERENCE_NUMBER");
    let data_id = element.child_text("DATAID");
    let record_id = if reference.is_empty() {
        data_id
    } else {
        reference
    };
    if record_id.is_empty() {
        return Err("record without REFERENCE_NUMBER or DATAID".into());
    }
    let schema = if is_person {
        Schema::Person
    } else {
        Schema::Organization
    };
    let mut entity = Entity::new(
        ListSource::UnConsolidated,
        record_id,
        format!("byte {offset}"),
        schema,
    );
    let primary: Vec<&str> = ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"]
        .iter()
        .map(|f| element.child_text(f))
        .filter(|t| !t.is_empty())
        .collect();
    if primary.is_empty() {
        return Err(format!("{record_id}: record without FIRST_NAME"));
    }
    entity.push_name(&primary.join(" "), NameQuality::Primary);
    let original = element.child_text("NAME_ORIGINAL_SCRIPT");
    if !original.is_empty() {
        entity.push_name(original, NameQuality::Strong);
    }
    let alias_tag = if is_person {
        "INDIVIDUAL_ALIAS"
    } else {
        "ENTITY_ALIAS"
    };
    for alias in element.children_named(alias_tag) {
        let quality = if alias.child_text("QUALITY").eq_ignore_ascii_case("low") {
            NameQuality::Weak
        } else {
            NameQuality::Strong
        };
        // One ALIAS_NAME may hold several names separated by semicolons.
        for part in alias.child_text("ALIAS_NAME").split(';') {
            entity.push_name(part, quality);
        }
    }
    let list_type = element.child_text("UN_LIST_TYPE");
    if !list_type.is_empty() {
        entity.programmes.push(list_type.to_string());
    }
    entity.listed_on = PartialDate::parse_iso(element.child_text("LISTED_ON"));
    for nationality in element.values("NATIONALITY") {
        entity.push_country(&nationality);
    }
    for dob in element.children_named("INDIVIDUAL_DATE_OF_BIRTH") {
        if let Some(birth) = birth_date(dob) {
            entity.birth_dates.push(birth);
        }
    }
    for document in element.children_named("INDIVIDUAL_DOCUMENT") {
        if let Some(id) = document_identifier(document) {
            if !entity.identifiers.contains(&id) {
                entity.identifiers.push(id);
            }
        }
    }
    // Contact details and IMO numbers are written in the comments (and address notes, below).
    // The list designates no vessel as such: an IMO number of a company record is the company's.
    let imo_scheme = match entity.schema {
        Schema::Vessel => IdScheme::ImoShip,
        _ => IdScheme::ImoCompany,
    };
    ident::free_text::scan(
        element.child_text("COMMENTS1"),
        imo_scheme,
        &mut entity.identifiers,
    );
    let address_tag = if is_person {
        "INDIVIDUAL_ADDRESS"
    } else {
        "ENTITY_ADDRESS"
    };
    for address in element.children_named(address_tag) {
        let parts: Vec<&str> = ["STREET", "CITY", "STATE_PROVINCE", "COUNTRY"]
            .iter()
            .map(|f| address.child_text(f))
            .filter(|t| !t.is_empty())
            .collect();
        if !parts.is_empty() {
            entity.addresses.push(parts.join(", "));
        }
        // An address note may give telephone numbers and e-mail ("Tel. +236 72198628").
        ident::free_text::scan(
            address.child_text("NOTE"),
            imo_scheme,
            &mut entity.identifiers,
        );
    }
    debug_assert!(!entity.names.is_empty());
    Ok(entity)
}

fn birth_date(dob: &Element) -> Option<BirthDate> {
    let kind = dob.child_text("TYPE_OF_DATE").to_ascii_uppercase();
    let circa = kind == "APPROXIMATELY";
    if let Some(date) = PartialDate::parse_iso(dob.child_text("DATE")) {
        return Some(BirthDate {
            date,
            year_to: None,
            circa,
        });
    }
    if let Ok(year) = dob.child_text("YEAR").parse::<u16>() {
        return Some(BirthDate {
            date: PartialDate {
                year,
                month: None,
                day: None,
            },
            year_to: None,
            circa,
        });
    }
    let from = dob.child_text("FROM_YEAR").parse::<u16>().ok()?;
    let to = dob
        .child_text("TO_YEAR")
        .parse::<u16>()
        .ok()
        .filter(|to| *to >= from);
    Some(BirthDate {
        date: PartialDate {
            year: from,
            month: None,
            day: None,
        },
        year_to: to,
        circa,
    })
}

fn document_identifier(document: &Element) -> Option<Identifier> {
    // A few documents give their number only in prose: "Tunisian passport number L 191609
    // issued on …", "Afghan national identification card (tazkira) number 545167".
    let number = match document.child_text("NUMBER") {
        "" => number_in_note(document.child_text("TYPE_OF_DOCUMENT2"))
            .or_else(|| number_in_note(document.child_text("NOTE")))?,
        number => number.to_string(),
    };
    let kind = document.child_text("TYPE_OF_DOCUMENT").to_ascii_lowercase();
    // English, and the Spanish and French labels a few records keep.
    let scheme =
        if kind.contains("passport") || kind.contains("pasaporte") || kind.contains("passeport") {
            IdScheme::Passport
        } else if kind.contains("national") || kind.contains("identi") {
            IdScheme::NationalId
        } else {
            IdScheme::Registration
        };
    let country_text = match document.child_text("ISSUING_COUNTRY") {
        "" => document.child_text("COUNTRY_OF_ISSUE"),
        text => text,
    };
    let country = crate::country::iso2(country_text).map(str::to_string);
    Some(ident::identifier(scheme, &number, country, None))
}

/// The document number in a note: the first token with a digit after `number`, `No.`,
/// `Code:`, `SSN` or `card` (with a short letter prefix written apart, `L 191609`,
/// `DE- 473900`), or the note's first token when it is one.
fn number_in_note(note: &str) -> Option<String> {
    const WORDS: [&str; 6] = ["number ", "Number ", "No. ", "Code: ", "SSN ", "card "];
    let mut starts: Vec<usize> = WORDS
        .iter()
        .flat_map(|w| note.match_indices(w).map(move |(at, _)| at + w.len()))
        .collect();
    starts.sort_unstable();
    if note.starts_with(|c: char| c.is_ascii_digit()) {
        starts.insert(0, 0);
    }
    starts.into_iter().find_map(|start| {
        let mut value = String::new();
        for token in note[start..].split_whitespace() {
            let token = token.trim_end_matches([',', ';', '.']);
            if token.chars().any(|c| c.is_ascii_digit()) {
                value.push_str(token);
                return Some(value);
            }
            let prefix = value.is_empty()
                && token.len() <= 3
                && token.chars().all(|c| c.is_ascii_uppercase() || c == '-');
            if !prefix {
                return None;
            }
            value.push_str(token);
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2030-01-02T00:00:00Z">
 <INDIVIDUALS>
  <INDIVIDUAL>
   <DATAID>1</DATAID><FIRST_NAME>PAK</FIRST_NAME><SECOND_NAME>CHO'NG-IL</SECOND_NAME>
   <UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPi.901</REFERENCE_NUMBER>
   <LISTED_ON>2017-06-02</LISTED_ON>
   <NATIONALITY><VALUE>Democratic People's Republic of Korea</VALUE></NATIONALITY>
   <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Pak Jong Il</ALIAS_NAME></INDIVIDUAL_ALIAS>
   <INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Mr. Pak; Pak Sensei</ALIAS_NAME></INDIVIDUAL_ALIAS>
   <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE><YEAR>1960</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
   <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1961</FROM_YEAR><TO_YEAR>1963</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>
   <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>PD 123 456</NUMBER><ISSUING_COUNTRY>Democratic People's Republic of Korea</ISSUING_COUNTRY></INDIVIDUAL_DOCUMENT>
  </INDIVIDUAL>
  <INDIVIDUAL><DATAID>2</DATAID><REFERENCE_NUMBER>KPi.902</REFERENCE_NUMBER></INDIVIDUAL>
 </INDIVIDUALS>
 <ENTITIES>
  <ENTITY><DATAID>3</DATAID><FIRST_NAME>SAMPLE TRADING &amp; SHIPPING CO.</FIRST_NAME><UN_LIST_TYPE>DPRK</UN_LIST_TYPE>
   <REFERENCE_NUMBER>KPe.901</REFERENCE_NUMBER>
   <ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>SAMPLE SHIPPING</ALIAS_NAME></ENTITY_ALIAS>
   <ENTITY_ADDRESS><CITY>Pyongyang</CITY><COUNTRY>DPRK</COUNTRY></ENTITY_ADDRESS>
  </ENTITY>
 </ENTITIES>
</CONSOLIDATED_LIST>"#;

    #[test]
    fn fixture() {
        let parsed = parse(FIXTURE.as_bytes()).unwrap();
        let list = &parsed.list;
        assert_eq!(list.version, "2030-01-02T00:00:00Z");
        assert_eq!(list.entities.len(), 2);
        assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
        assert!(parsed.problems[0].message.contains("KPi.902"));
        let pak = &list.entities[0];
        assert_eq!(pak.id, "un:KPi.901");
        assert_eq!(pak.schema, Schema::Person);
        let names: Vec<&str> = pak.names.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(
            names,
            ["PAK CHO'NG-IL", "Pak Jong Il", "Mr. Pak", "Pak Sensei"]
        );
        assert_eq!(pak.names[2].quality, NameQuality::Weak);
        assert_eq!(pak.countries, ["KP"]);
        assert_eq!(pak.birth_dates[0].year_range(), (1959, 1961));
        assert_eq!(pak.birth_dates[1].year_range(), (1961, 1963));
        assert_eq!(pak.identifiers[0].value, "PD123456");
        assert_eq!(pak.identifiers[0].country.as_deref(), Some("KP"));
        let company = &list.entities[1];
        assert_eq!(company.caption(), "SAMPLE TRADING & SHIPPING CO.");
        assert_eq!(company.schema, Schema::Organization);
        assert_eq!(company.addresses, ["Pyongyang, DPRK"]);
    }

    #[test]
    fn numbers_in_notes() {
        let check = |note: &str, expect: Option<&str>| {
            assert_eq!(number_in_note(note).as_deref(), expect, "{note}");
        };
        check(
            "Libyan passport number 347834, issued under name X",
            Some("347834"),
        );
        check(
            "Tunisian passport number L 191609 issued on 28 Feb. 1996",
            Some("L191609"),
        );
        check(
            "Moroccan national identity card DE- 473900",
            Some("DE-473900"),
        );
        check(
            "Italian Fiscal Code: DAOMMD74T11Z352Z",
            Some("DAOMMD74T11Z352Z"),
        );
        check(
            "SSN 156-92-9858 (United States of America)",
            Some("156-92-9858"),
        );
        check(
            "Afghan national identification card (tazkira) number 545167",
            Some("545167"),
        );
        check("04643632 issued on 18 Jun. 1999", Some("04643632"));
        check("issued in 1993, under name Muhammad", None);
        check("", None);
    }

    #[test]
    fn not_xml_is_an_error() {
        assert!(parse(b"<<<").is_err() || parse(b"<<<").unwrap().list.entities.is_empty());
        let err = parse(b"<OTHER/>").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Malformed);
    }
}
