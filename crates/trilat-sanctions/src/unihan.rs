//! Readings of Han characters (hanja, kanji) from the Unicode Unihan database
//! (`Unihan_Readings.txt`: kHangul, kJapaneseOn, kJapaneseKun, kMandarin).
//!
//! Trilat ships its own table ([`HanReadings::builtin`]): `data/han_readings.tsv`, generated
//! from Unihan by `scripts/gen-han-readings` (its header carries the Unicode version and licence
//! notice). A full `Unihan_Readings.txt` can still be supplied instead ([`HanReadings::parse`]).
//! Matching through a reading table is weaker evidence than a name written in a phonetic script.

use crate::error::{Error, ErrorKind, Result};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The shipped table (compact form, see `scripts/gen-han-readings`).
const BUILTIN_TSV: &str = include_str!("../data/han_readings.tsv");

/// Bound on lines read from the readings file (Unihan 15 has about 250,000).
pub const LINES_MAX: usize = 2_000_000;
/// Bound on readings kept per field per character.
const READINGS_PER_FIELD_MAX: usize = 3;

/// The readings of one character.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HanReading {
    /// Korean readings as Hangul syllables (`金` → 금, 김).
    pub hangul: Vec<char>,
    /// Japanese on readings in romaji, lower case (`正` → sei, shou).
    pub japanese_on: Vec<String>,
    /// Japanese kun readings in romaji, lower case.
    pub japanese_kun: Vec<String>,
    /// Mandarin pinyin with tone marks folded (`正` → zheng).
    pub mandarin: Vec<String>,
}

/// A reading table: character → readings.
#[derive(Debug, Clone, Default)]
pub struct HanReadings {
    table: HashMap<char, HanReading>,
}

impl HanReadings {
    /// Parses `Unihan_Readings.txt` (tab-separated `U+XXXX<TAB>field<TAB>value`).
    pub fn parse(text: &str) -> Result<HanReadings> {
        let mut table: HashMap<char, HanReading> = HashMap::new();
        for (line_idx, line) in text.lines().enumerate() {
            if line_idx >= LINES_MAX {
                return Err(Error::new(
                    ErrorKind::LimitExceeded,
                    format!("line {}", line_idx + 1),
                    format!("more than {LINES_MAX} lines"),
                ));
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let mut fields = line.splitn(3, '\t');
            let (Some(code), Some(field), Some(value)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(Error::new(
                    ErrorKind::InvalidTable,
                    format!("line {}", line_idx + 1),
                    "expected three tab-separated fields",
                ));
            };
            if !matches!(
                field,
                "kHangul" | "kJapaneseOn" | "kJapaneseKun" | "kMandarin"
            ) {
                continue;
            }
            let c = code
                .strip_prefix("U+")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .and_then(char::from_u32)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidTable,
                        format!("line {}", line_idx + 1),
                        format!("bad code point {code:?}"),
                    )
                })?;
            add_field(table.entry(c).or_default(), field, value);
        }
        non_empty(table)
    }

    /// Parses the compact table `scripts/gen-han-readings` writes: one line per character,
    /// `CHAR<TAB>HANGUL SYLLABLES<TAB>ON<TAB>KUN<TAB>MANDARIN`, `#` lines are comments.
    pub fn parse_compact(text: &str) -> Result<HanReadings> {
        let mut table: HashMap<char, HanReading> = HashMap::new();
        for (line_idx, line) in text.lines().enumerate() {
            if line_idx >= LINES_MAX {
                return Err(Error::new(
                    ErrorKind::LimitExceeded,
                    format!("line {}", line_idx + 1),
                    format!("more than {LINES_MAX} lines"),
                ));
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let columns: Vec<&str> = line.split('\t').collect();
            let mut chars = columns[0].chars();
            let (Some(c), None, [_, hangul, on, kun, mandarin]) =
                (chars.next(), chars.next(), columns.as_slice())
            else {
                return Err(Error::new(
                    ErrorKind::InvalidTable,
                    format!("line {}", line_idx + 1),
                    "expected one character and four tab-separated reading fields",
                ));
            };
            let entry = table.entry(c).or_default();
            entry.hangul = hangul.chars().take(READINGS_PER_FIELD_MAX).collect();
            add_field(entry, "kJapaneseOn", on);
            add_field(entry, "kJapaneseKun", kun);
            add_field(entry, "kMandarin", mandarin);
        }
        non_empty(table)
    }

    /// The table shipped with Trilat (parsed once, on first use).
    pub fn builtin() -> &'static HanReadings {
        static TABLE: OnceLock<HanReadings> = OnceLock::new();
        TABLE.get_or_init(|| {
            // The shipped file is checked by the crate's tests; failing here is a build defect.
            HanReadings::parse_compact(BUILTIN_TSV).expect("data/han_readings.tsv parses")
        })
    }

    /// The readings of one character.
    pub fn get(&self, c: char) -> Option<&HanReading> {
        self.table.get(&c)
    }

    /// Number of characters with readings.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when the table is empty.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Korean readings of a Han name as Hangul strings, e.g. 金正恩 → [금정은, 김정은].
    /// Every combination up to `combinations_max`; characters without a reading end the walk.
    pub fn hangul_readings(&self, name: &str, combinations_max: usize) -> Vec<String> {
        let mut out = vec![String::new()];
        for c in name.chars().filter(|c| !c.is_whitespace() && *c != '・') {
            let Some(reading) = self.get(c).filter(|r| !r.hangul.is_empty()) else {
                return Vec::new();
            };
            let mut next = Vec::new();
            for prefix in &out {
                for syllable in &reading.hangul {
                    if next.len() < combinations_max {
                        next.push(format!("{prefix}{syllable}"));
                    }
                }
            }
            out = next;
        }
        out.retain(|s| !s.is_empty());
        out
    }

    /// Japanese readings of a Han name (first on and first kun reading of each character,
    /// combined), and the Mandarin reading; at most `combinations_max` strings.
    pub fn other_readings(&self, name: &str, combinations_max: usize) -> Vec<String> {
        let chars: Vec<char> = name.chars().filter(|c| crate::script::is_han(*c)).collect();
        if chars.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mandarin: Option<Vec<&str>> = chars
            .iter()
            .map(|c| {
                self.get(*c)
                    .and_then(|r| r.mandarin.first())
                    .map(String::as_str)
            })
            .collect();
        if let Some(parts) = mandarin {
            out.push(parts.concat());
        }
        for pick_kun in [false, true] {
            let parts: Option<Vec<&str>> = chars
                .iter()
                .map(|c| {
                    let r = self.get(*c)?;
                    let list = if pick_kun && !r.japanese_kun.is_empty() {
                        &r.japanese_kun
                    } else {
                        &r.japanese_on
                    };
                    list.first().or(r.japanese_kun.first()).map(String::as_str)
                })
                .collect();
            if let Some(parts) = parts {
                out.push(parts.concat());
            }
        }
        out.dedup();
        out.truncate(combinations_max);
        out
    }
}

/// Adds one Unihan field's readings (at most [`READINGS_PER_FIELD_MAX`]) to a character.
fn add_field(entry: &mut HanReading, field: &str, value: &str) {
    let words = value.split_whitespace().take(READINGS_PER_FIELD_MAX);
    match field {
        // kHangul values look like `김:0N`; the syllable is before the colon.
        "kHangul" => entry.hangul.extend(words.filter_map(|w| w.chars().next())),
        "kJapaneseOn" => entry.japanese_on.extend(words.map(str::to_lowercase)),
        "kJapaneseKun" => entry
            .japanese_kun
            .extend(words.map(|w| w.to_lowercase().replace('-', ""))),
        _ => entry
            .mandarin
            .extend(words.map(crate::normalize::fold_latin)),
    }
}

fn non_empty(table: HashMap<char, HanReading>) -> Result<HanReadings> {
    if table.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidTable,
            "line 1",
            "no kHangul / kJapanese* / kMandarin readings",
        ));
    }
    Ok(HanReadings { table })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = "# test fixture\nU+91D1\tkHangul\t금:0E 김:0N\nU+91D1\tkJapaneseOn\tKIN KON\nU+91D1\tkMandarin\tjīn\nU+6B63\tkHangul\t정:0E\nU+6B63\tkJapaneseKun\tTADASHII MASA\nU+6B63\tkJapaneseOn\tSEI SHOU\nU+6069\tkHangul\t은:0E\nU+6069\tkDefinition\tkindness\n";

    #[test]
    fn readings() {
        let table = HanReadings::parse(FIXTURE).unwrap();
        assert_eq!(table.len(), 3);
        assert_eq!(table.get('金').unwrap().hangul, ['금', '김']);
        assert_eq!(table.get('金').unwrap().mandarin, ["jin"]);
        assert_eq!(table.hangul_readings("金正恩", 8), ["금정은", "김정은"]);
        assert!(table.hangul_readings("金X", 8).is_empty());
        assert!(HanReadings::parse("garbage").is_err());
    }

    #[test]
    fn builtin_table() {
        let table = HanReadings::builtin();
        assert!(table.len() > 15_000, "{}", table.len());
        assert_eq!(table.get('金').unwrap().hangul, ['금', '김']);
        assert_eq!(table.get('金').unwrap().japanese_on, ["kin", "kon"]);
        assert_eq!(table.get('銀').unwrap().mandarin, ["yin"]);
        assert!(table
            .hangul_readings("李炳哲", 8)
            .contains(&"리병철".to_string()));
    }

    #[test]
    fn compact_errors_name_the_line() {
        let e = HanReadings::parse_compact("# c\n金\t금\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(HanReadings::parse_compact("# only comments\n").is_err());
    }
}
