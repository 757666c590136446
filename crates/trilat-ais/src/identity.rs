//! Vessel identity rules: MMSI formats (ITU-R M.585), IMO check digits, and
//! the ITU table of Maritime Identification Digits (MID → flag).

use std::collections::HashMap;

/// The MID of the Democratic People's Republic of Korea.
pub const MID_DPRK: u16 = 445;
/// Most rows accepted from a MID table (ITU allocates under 400).
pub const MID_ROWS_MAX: usize = 1_000;

/// What an MMSI's digits say it identifies (ITU-R M.585 annex 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MmsiKind {
    /// Ship station: `MIDxxxxxx`, first digit 2–7.
    Ship,
    /// Group of ships: `0MIDxxxxx`.
    Group,
    /// Coast station: `00MIDxxxx`.
    Coast,
    /// SAR aircraft: `111MIDxxx`.
    SarAircraft,
    /// Handheld VHF with DSC/GNSS: `8MIDxxxxx`.
    Handheld,
    /// Craft associated with a parent ship: `98MIDxxxx`.
    AuxiliaryCraft,
    /// Aid to navigation: `99MIDxxxx`.
    AidToNavigation,
    /// AIS-SART (`970`), man overboard (`972`), EPIRB-AIS (`974`).
    Distress,
    /// None of the above (e.g. 000000000, 123456789-style test values
    /// still parse as ship format; this is for leading 1 and 9 misuse).
    Invalid,
}

/// An MMSI's kind and, where the format carries one, its MID.
pub fn mmsi_kind(mmsi: u32) -> (MmsiKind, Option<u16>) {
    if mmsi > 999_999_999 || mmsi == 0 {
        return (MmsiKind::Invalid, None);
    }
    let d = |i: u32| (mmsi / 10u32.pow(8 - i)) % 10; // i-th digit, 0-based
    let mid_at = |i: u32| Some((mmsi / 10u32.pow(6 - i) % 1000) as u16);
    match d(0) {
        2..=7 => (MmsiKind::Ship, mid_at(0)),
        8 => (MmsiKind::Handheld, mid_at(1)),
        0 if d(1) == 0 => (MmsiKind::Coast, mid_at(2)),
        0 => (MmsiKind::Group, mid_at(1)),
        1 if d(1) == 1 && d(2) == 1 => (MmsiKind::SarAircraft, mid_at(3)),
        9 if d(1) == 8 => (MmsiKind::AuxiliaryCraft, mid_at(2)),
        9 if d(1) == 9 => (MmsiKind::AidToNavigation, mid_at(2)),
        9 if d(1) == 7 && matches!(d(2), 0 | 2 | 4) => (MmsiKind::Distress, None),
        _ => (MmsiKind::Invalid, None),
    }
}

/// True when an IMO ship number's seventh digit matches its check digit
/// (digits weighted 7..2, sum mod 10).
pub fn imo_is_valid(imo: u32) -> bool {
    if !(1_000_000..=9_999_999).contains(&imo) {
        return false;
    }
    let digits: Vec<u32> = (0..7).rev().map(|i| imo / 10u32.pow(i) % 10).collect();
    let sum: u32 = digits[..6]
        .iter()
        .zip((2..=7).rev())
        .map(|(d, w)| d * w)
        .sum();
    sum % 10 == digits[6]
}

/// The IMO number whose first six digits are `six_digits` (100000..=999999),
/// with its check digit appended.
pub fn imo_with_check_digit(six_digits: u32) -> u32 {
    debug_assert!((100_000..=999_999).contains(&six_digits));
    let sum: u32 = (0..6)
        .map(|i| (six_digits / 10u32.pow(5 - i) % 10) * (7 - i))
        .sum();
    let imo = six_digits * 10 + sum % 10;
    debug_assert!(imo_is_valid(imo));
    imo
}

/// The ITU MID table: MID → country or territory.
#[derive(Clone, Debug, Default)]
pub struct MidTable {
    names: HashMap<u16, String>,
}

/// A MID table row that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MID table line {line}: {what}")]
pub struct MidTableError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

impl MidTable {
    /// Parses `MID,Allocated_to` CSV (header required).
    pub fn parse_csv(text: &str) -> Result<MidTable, MidTableError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let mut names = HashMap::new();
        for (i, row) in reader.records().enumerate() {
            let line = i + 2;
            let row = row.map_err(|e| MidTableError {
                line,
                what: e.to_string(),
            })?;
            if names.len() >= MID_ROWS_MAX {
                return Err(MidTableError {
                    line,
                    what: format!("more than {MID_ROWS_MAX} rows"),
                });
            }
            let mid: u16 = row
                .get(0)
                .and_then(|s| s.trim().parse().ok())
                .filter(|m| (201..=799).contains(m))
                .ok_or_else(|| MidTableError {
                    line,
                    what: "MID is not a number in 201..=799".into(),
                })?;
            names.insert(mid, row.get(1).unwrap_or("").trim().to_string());
        }
        Ok(MidTable { names })
    }

    /// The ITU table shipped with Trilat (`data/mid.csv`, 292 MIDs; source and licence in
    /// `data/PROVENANCE.md`): what the CLI and the node use when no table is configured.
    pub fn shipped() -> Result<MidTable, MidTableError> {
        MidTable::parse_csv(include_str!("../data/mid.csv"))
    }

    /// Country for a MID.
    pub fn country(&self, mid: u16) -> Option<&str> {
        self.names.get(&mid).map(String::as_str)
    }

    /// True when the table is empty (no table loaded: MIDs are not checked).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_mmsi(mmsi: u32, kind: MmsiKind, mid: Option<u16>) {
        assert_eq!(mmsi_kind(mmsi), (kind, mid), "{mmsi}");
    }

    #[test]
    fn the_shipped_mid_table_is_itus() {
        let mids = MidTable::shipped().unwrap();
        assert_eq!(mids.names.len(), 292);
        assert_eq!(
            mids.country(445),
            Some("Democratic People's Republic of Korea")
        );
        assert_eq!(mids.country(440), Some("Korea (Republic of)"));
        assert_eq!(mids.country(431), Some("Japan"));
        assert_eq!(mids.country(471), Some("United Arab Emirates"));
        assert_eq!(mids.country(335), None);
        // Row for row the ITU table of the project's test data, when present.
        let data = std::env::var("TRILAT_SHARED_DATA").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").to_string()
        });
        let reference = std::path::Path::new(&data)
            .join("ais/reference/itu_maritime_identification_digits.csv");
        match std::fs::read_to_string(&reference) {
            Ok(text) => assert_eq!(MidTable::parse_csv(&text).unwrap().names, mids.names),
            Err(e) => eprintln!("skipping the comparison with {}: {e}", reference.display()),
        }
    }

    #[test]
    fn mmsi_formats() {
        check_mmsi(445_123_000, MmsiKind::Ship, Some(445));
        check_mmsi(440_348_000, MmsiKind::Ship, Some(440));
        check_mmsi(3_669_702, MmsiKind::Coast, Some(366));
        check_mmsi(24_412_345, MmsiKind::Group, Some(244));
        check_mmsi(111_265_591, MmsiKind::SarAircraft, Some(265));
        check_mmsi(992_509_976, MmsiKind::AidToNavigation, Some(250));
        check_mmsi(982_441_234, MmsiKind::AuxiliaryCraft, Some(244));
        check_mmsi(970_123_456, MmsiKind::Distress, None);
        check_mmsi(123_456_789, MmsiKind::Invalid, None);
        check_mmsi(0, MmsiKind::Invalid, None);
        check_mmsi(1_000_000_000, MmsiKind::Invalid, None);
    }

    #[test]
    fn imo_check_digit() {
        // IMO 9074729: 9×7 + 0×6 + 7×5 + 4×4 + 7×3 + 2×2 = 139 → 9.
        assert!(imo_is_valid(9_074_729));
        assert!(imo_is_valid(9_134_270)); // EVER DIADEM, gpsd sample
        assert!(imo_is_valid(9_383_663)); // RUTH THERESA, libais example
                                          // The numbers in the "A LI" case (8814881 claimed, 8314881 real)
                                          // both fail the check digit as written here: 135 → 5, 165 → 5.
        assert!(!imo_is_valid(8_814_881));
        assert!(!imo_is_valid(8_314_881));
        assert!(!imo_is_valid(9_074_728));
        assert!(!imo_is_valid(123));
        assert_eq!(imo_with_check_digit(907_472), 9_074_729);
    }

    #[test]
    fn mid_table() {
        let t = MidTable::parse_csv("MID,Allocated_to\n445,Democratic People's Republic of Korea\n440,Korea (Republic of)\n")
            .unwrap();
        assert_eq!(
            t.country(MID_DPRK),
            Some("Democratic People's Republic of Korea")
        );
        assert_eq!(t.country(999), None);
        let err = MidTable::parse_csv("MID,Allocated_to\nabc,x\n").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
