//! Identifier checks: IMO ship and company numbers (different checksums), MMSI.

use crate::model::IdScheme;

/// True when `number` is a 7-digit IMO number whose check digit is right for `scheme`.
///
/// Ship numbers: digits 1–6 weighted 7,6,5,4,3,2; the check digit is the sum mod 10.
/// Company / registered-owner numbers: weighted 8,6,4,2,9,7; check = (11 − sum mod 11) mod 10
/// (verified against every company IMO number in the OFAC list).
pub fn imo_valid(number: &str, scheme: IdScheme) -> bool {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 7 || number.chars().count() != 7 {
        return false;
    }
    let check = digits[6];
    match scheme {
        IdScheme::ImoShip => {
            let sum: u32 = digits[..6]
                .iter()
                .zip([7, 6, 5, 4, 3, 2])
                .map(|(d, w)| d * w)
                .sum();
            sum % 10 == check
        }
        IdScheme::ImoCompany => {
            let sum: u32 = digits[..6]
                .iter()
                .zip([8, 6, 4, 2, 9, 7])
                .map(|(d, w)| d * w)
                .sum();
            (11 - sum % 11) % 10 == check
        }
        _ => false,
    }
}

/// Strips an `IMO` prefix and spaces: `"IMO 9191347"` → `"9191347"`.
pub fn imo_digits(text: &str) -> String {
    let upper = text.trim().to_ascii_uppercase();
    upper
        .trim_start_matches("IMO")
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

/// True for a 9-digit MMSI.
pub fn mmsi_valid(text: &str) -> bool {
    text.len() == 9 && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imo() {
        // Ship numbers from the OFAC list (EBANO, TIFON).
        assert!(imo_valid("7406784", IdScheme::ImoShip));
        assert!(imo_valid("7206512", IdScheme::ImoShip));
        assert!(!imo_valid("7406785", IdScheme::ImoShip));
        // Company numbers follow another checksum.
        assert!(imo_valid("5110478", IdScheme::ImoCompany));
        assert!(imo_valid("1991835", IdScheme::ImoCompany));
        assert!(!imo_valid("5110479", IdScheme::ImoCompany));
        assert!(!imo_valid("740678", IdScheme::ImoShip));
        assert!(!imo_valid("74067８4", IdScheme::ImoShip));
        assert_eq!(imo_digits("IMO 9191347"), "9191347");
        assert!(mmsi_valid("445112000"));
    }
}
