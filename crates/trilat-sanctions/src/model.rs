//! The one entity model every list is normalised into.

use serde::{Deserialize, Serialize};

/// What kind of thing a sanctions entry designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Schema {
    /// A natural person.
    Person,
    /// A company, bank, agency or other organisation.
    Organization,
    /// A ship.
    Vessel,
    /// An aircraft.
    Aircraft,
}

impl Schema {
    /// Parses the CLI / API spelling (`person`, `organization`, `vessel`, `aircraft`).
    pub fn parse(text: &str) -> Option<Schema> {
        match text.trim().to_ascii_lowercase().as_str() {
            "person" | "individual" => Some(Schema::Person),
            "organization" | "organisation" | "entity" | "company" => Some(Schema::Organization),
            "vessel" | "ship" => Some(Schema::Vessel),
            "aircraft" => Some(Schema::Aircraft),
            _ => None,
        }
    }
}

/// The writing system a name is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Script {
    /// Latin letters (with or without diacritics).
    Latin,
    /// Korean Hangul.
    Hangul,
    /// Han characters (hanja, kanji, hanzi).
    Han,
    /// Japanese kana (katakana or hiragana), possibly mixed with Han.
    Kana,
    /// Cyrillic.
    Cyrillic,
    /// Arabic script.
    Arabic,
    /// Anything else.
    Other,
}

/// How much a list trusts a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NameQuality {
    /// The listed (primary) name.
    Primary,
    /// A strong / good-quality alias.
    Strong,
    /// A weak / low-quality alias (UN "Low", OFAC "weak a.k.a.").
    Weak,
}

/// One name of an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Name {
    /// The name as written in the source.
    pub text: String,
    /// The script it is written in.
    pub script: Script,
    /// How much the source trusts it.
    pub quality: NameQuality,
}

impl Name {
    /// Builds a name, detecting its script.
    pub fn new(text: &str, quality: NameQuality) -> Name {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let script = crate::script::detect(&text);
        Name {
            text,
            script,
            quality,
        }
    }
}

/// A date that may lack its month or day (lists often give only a year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct PartialDate {
    /// Year, e.g. 1984.
    pub year: u16,
    /// Month 1..=12 when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<u8>,
    /// Day 1..=31 when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<u8>,
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub fn parse_iso(text: &str) -> Option<PartialDate> {
        let text = text.trim();
        let mut parts = text.split('-');
        let year: u16 = parts.next()?.parse().ok()?;
        if !(1000..=2999).contains(&year) {
            return None;
        }
        let month = match parts.next() {
            Some(m) => Some(m.parse::<u8>().ok().filter(|m| (1..=12).contains(m))?),
            None => None,
        };
        let day = match parts.next() {
            Some(d) => Some(
                d.get(..2)
                    .unwrap_or(d)
                    .parse::<u8>()
                    .ok()
                    .filter(|d| (1..=31).contains(d))?,
            ),
            None => None,
        };
        if parts.next().is_some() || (day.is_some() && month.is_none()) {
            return None;
        }
        Some(PartialDate { year, month, day })
    }

    /// Formats as `YYYY[-MM[-DD]]`.
    pub fn to_iso(self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{:04}-{:02}-{:02}", self.year, m, d),
            (Some(m), None) => format!("{:04}-{:02}", self.year, m),
            _ => format!("{:04}", self.year),
        }
    }

    /// Converts an Excel serial day number (1900 date system) to a date.
    pub fn from_excel_serial(serial: f64) -> Option<PartialDate> {
        if !(1.0..2_958_465.0).contains(&serial) {
            return None;
        }
        // Excel day 25569 is 1970-01-01 (Excel counts the fictitious 1900-02-29).
        let days = serial.floor() as i64 - 25569;
        let (y, m, d) = civil_from_days(days);
        let year = u16::try_from(y).ok()?;
        Some(PartialDate {
            year,
            month: Some(m),
            day: Some(d),
        })
    }
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A date of birth as a list gives it: exact, approximate, or a range of years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BirthDate {
    /// The (first) date.
    pub date: PartialDate,
    /// Last year of a `BETWEEN` range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_to: Option<u16>,
    /// `circa` / `APPROXIMATELY`.
    #[serde(default)]
    pub circa: bool,
}

impl BirthDate {
    /// The inclusive range of years this birth date allows (circa widens by one year).
    pub fn year_range(&self) -> (u16, u16) {
        let to = self.year_to.unwrap_or(self.date.year);
        if self.circa {
            (self.date.year.saturating_sub(1), to.saturating_add(1))
        } else {
            (self.date.year, to)
        }
    }
}

/// The numbering scheme of an identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdScheme {
    /// IMO ship number (7 digits, weighted checksum).
    ImoShip,
    /// IMO unique company / registered owner number (7 digits, different checksum).
    ImoCompany,
    /// Maritime Mobile Service Identity (9 digits).
    Mmsi,
    /// Radio call sign.
    CallSign,
    /// Passport number (with issuing country when known).
    Passport,
    /// National identification number.
    NationalId,
    /// Aircraft tail number / registration.
    AircraftTail,
    /// Any other registration number.
    Registration,
    /// A digital currency (cryptocurrency) address; the ticker is in [`Identifier::currency`].
    DigitalCurrency,
    /// An e-mail address.
    Email,
    /// A website (host and path, without the scheme).
    Website,
    /// A telephone or fax number.
    Phone,
    /// A SWIFT / BIC code (ISO 9362).
    SwiftBic,
}

impl IdScheme {
    /// Every scheme, in declaration order.
    pub const ALL: [IdScheme; 13] = [
        IdScheme::ImoShip,
        IdScheme::ImoCompany,
        IdScheme::Mmsi,
        IdScheme::CallSign,
        IdScheme::Passport,
        IdScheme::NationalId,
        IdScheme::AircraftTail,
        IdScheme::Registration,
        IdScheme::DigitalCurrency,
        IdScheme::Email,
        IdScheme::Website,
        IdScheme::Phone,
        IdScheme::SwiftBic,
    ];

    /// The snake_case name the JSON and the CLI use (`digital_currency`, `imo_ship` …).
    pub fn name(self) -> &'static str {
        match self {
            IdScheme::ImoShip => "imo_ship",
            IdScheme::ImoCompany => "imo_company",
            IdScheme::Mmsi => "mmsi",
            IdScheme::CallSign => "call_sign",
            IdScheme::Passport => "passport",
            IdScheme::NationalId => "national_id",
            IdScheme::AircraftTail => "aircraft_tail",
            IdScheme::Registration => "registration",
            IdScheme::DigitalCurrency => "digital_currency",
            IdScheme::Email => "email",
            IdScheme::Website => "website",
            IdScheme::Phone => "phone",
            IdScheme::SwiftBic => "swift_bic",
        }
    }

    /// Parses [`IdScheme::name`], plus the short forms `imo`, `crypto`, `wallet`, `bic`, `swift`.
    pub fn parse(text: &str) -> Option<IdScheme> {
        let text = text.trim().to_ascii_lowercase().replace('-', "_");
        match text.as_str() {
            "imo" => Some(IdScheme::ImoShip),
            "crypto" | "wallet" | "address" => Some(IdScheme::DigitalCurrency),
            "bic" | "swift" => Some(IdScheme::SwiftBic),
            "e_mail" => Some(IdScheme::Email),
            "web" | "url" => Some(IdScheme::Website),
            "telephone" | "fax" => Some(IdScheme::Phone),
            _ => IdScheme::ALL.into_iter().find(|s| s.name() == text),
        }
    }
}

/// An identifier of an entity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identifier {
    /// Its scheme.
    pub scheme: IdScheme,
    /// The value, upper-cased with spaces removed.
    pub value: String,
    /// ISO 3166-1 alpha-2 of the issuing country when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The currency of a [`IdScheme::DigitalCurrency`] address as OFAC writes it (`XBT`, `ETH`,
    /// `USDT` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Why the value fails its scheme's validation (check digit, checksum, structure), when it
    /// does: invalid identifiers are kept and reported, never dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
}

impl Identifier {
    /// Builds a document-style identifier (upper case, only letters, digits and `-` kept),
    /// without validating it; [`crate::ident::identifier`] builds and validates every scheme.
    pub fn new(scheme: IdScheme, value: &str, country: Option<String>) -> Identifier {
        let value: String = value
            .chars()
            .flat_map(char::to_uppercase)
            .filter(|c| c.is_alphanumeric() || *c == '-')
            .collect();
        Identifier {
            scheme,
            value,
            country,
            currency: None,
            invalid: None,
        }
    }
}

/// Which published list an entity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ListSource {
    /// UN Security Council consolidated list.
    UnConsolidated,
    /// US Treasury OFAC Specially Designated Nationals list.
    OfacSdn,
    /// Japan Ministry of Finance asset-freeze list.
    JapanMof,
    /// Japan METI End User List.
    JapanMeti,
    /// A partner's national designation received as a report.
    National,
}

impl ListSource {
    /// Short stable name used in entity ids and file names.
    pub fn slug(self) -> &'static str {
        match self {
            ListSource::UnConsolidated => "un",
            ListSource::OfacSdn => "ofac",
            ListSource::JapanMof => "jp-mof",
            ListSource::JapanMeti => "jp-meti",
            ListSource::National => "national",
        }
    }
}

/// One designated person, organisation, vessel or aircraft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Stable id: `<source slug>:<record id>`.
    pub id: String,
    /// The list it came from.
    pub source: ListSource,
    /// The record id in the source (UN DATAID/reference number, OFAC ent_num, MOF sheet/row number).
    pub record_id: String,
    /// Where in the source file the record starts (line, row or byte offset), for tracing a hit.
    pub position: String,
    /// What it designates.
    pub schema: Schema,
    /// Names; the first is the primary name.
    pub names: Vec<Name>,
    /// Dates of birth (persons) or build years (vessels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub birth_dates: Vec<BirthDate>,
    /// Nationalities / countries as ISO 3166-1 alpha-2 (or the raw text when unknown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    /// Flag state of a vessel (ISO alpha-2 or raw text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// Identifiers (IMO, MMSI, passports …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<Identifier>,
    /// Addresses as free text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// Sanctions programmes (DPRK, NPWMD, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programmes: Vec<String>,
    /// Listing date when the source gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_on: Option<PartialDate>,
}

impl Entity {
    /// Builds an empty entity of `schema` with its traceable id.
    pub fn new(source: ListSource, record_id: &str, position: String, schema: Schema) -> Entity {
        Entity {
            id: format!("{}:{}", source.slug(), record_id),
            source,
            record_id: record_id.to_string(),
            position,
            schema,
            names: Vec::new(),
            birth_dates: Vec::new(),
            countries: Vec::new(),
            flag: None,
            identifiers: Vec::new(),
            addresses: Vec::new(),
            programmes: Vec::new(),
            listed_on: None,
        }
    }

    /// The primary name (empty if the record had none).
    pub fn caption(&self) -> &str {
        self.names.first().map(|n| n.text.as_str()).unwrap_or("")
    }

    /// Adds a name unless an identical text is already present.
    pub fn push_name(&mut self, text: &str, quality: NameQuality) {
        let name = Name::new(text, quality);
        if name.text.is_empty()
            || self
                .names
                .iter()
                .any(|n| n.text.eq_ignore_ascii_case(&name.text))
        {
            return;
        }
        self.names.push(name);
    }

    /// Adds a country (normalised to ISO alpha-2 when known) unless present.
    pub fn push_country(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let code = crate::country::iso2(text)
            .map(str::to_string)
            .unwrap_or_else(|| text.to_string());
        if !self.countries.contains(&code) {
            self.countries.push(code);
        }
    }
}

/// A parse problem: a record that was skipped or a field that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where: line, row, record id or byte offset.
    pub position: String,
    /// What went wrong.
    pub message: String,
}

/// One imported version of one list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListVersion {
    /// Which list.
    pub source: ListSource,
    /// The version as the source states it (generation date, publication date, file date).
    pub version: String,
    /// Normalised entities.
    pub entities: Vec<Entity>,
}

/// The result of parsing a file: a list version plus the problems met on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The list.
    pub list: ListVersion,
    /// Records skipped or fields not understood, with their position.
    pub problems: Vec<Problem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates() {
        assert_eq!(PartialDate::parse_iso("1984").unwrap().to_iso(), "1984");
        assert_eq!(
            PartialDate::parse_iso("1984-02").unwrap().to_iso(),
            "1984-02"
        );
        assert_eq!(
            PartialDate::parse_iso("1984-02-16").unwrap().to_iso(),
            "1984-02-16"
        );
        assert_eq!(PartialDate::parse_iso("1984-13"), None);
        assert_eq!(PartialDate::parse_iso("x"), None);
        // Excel serial 16358 is 1944-10-13 (UN KPi.001, MOF row 1).
        assert_eq!(
            PartialDate::from_excel_serial(16358.0).unwrap().to_iso(),
            "1944-10-13"
        );
    }
}
