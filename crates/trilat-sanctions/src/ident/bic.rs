//! SWIFT / BIC codes (ISO 9362): `BBBB CC LL [bbb]`.
//!
//! Four letters of institution, the ISO 3166 country of the institution, two letters or digits
//! of location, and an optional three-character branch; `XXX` is the head office, so an
//! 11-character code ending in `XXX` is the 8-character code.

/// ISO 3166-1 alpha-2 codes (the 249 assigned), plus `XK` (Kosovo), which SWIFT uses.
const COUNTRIES: &str = "\
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE \
BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD \
CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM \
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF \
GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU \
ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN \
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME \
MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA \
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM \
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI \
SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK \
TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI \
VN VU WF WS YE YT ZA ZM ZW XK";

fn is_country(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.split(' ').any(|c| c == code)
}

/// Upper-case letters and digits; `XXX` (head office) dropped from an 11-character code.
pub fn normalise(text: &str, out: &mut String) {
    let start = out.len();
    out.extend(
        text.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase()),
    );
    if out.len() - start == 11 && out.ends_with("XXX") {
        out.truncate(start + 8);
    }
}

/// The structure of a normalised BIC.
pub fn check(value: &str) -> Result<(), String> {
    let bytes = value.as_bytes();
    if !(bytes.len() == 8 || bytes.len() == 11) {
        return Err(format!("{} characters, expected 8 or 11", bytes.len()));
    }
    if !bytes[..4].iter().all(u8::is_ascii_uppercase) {
        return Err(format!(
            "institution code {:?} is not four letters",
            &value[..4]
        ));
    }
    let country = &value[4..6];
    if !is_country(country) {
        return Err(format!("{country:?} is not an ISO 3166 country code"));
    }
    let alnum = |s: &[u8]| {
        s.iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    if !alnum(&bytes[6..8]) {
        return Err(format!(
            "location code {:?} is not letters or digits",
            &value[6..8]
        ));
    }
    if bytes.len() == 11 && !alnum(&bytes[8..]) {
        return Err(format!(
            "branch code {:?} is not letters or digits",
            &value[8..]
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure() {
        // Listed North Korean banks (OFAC SDN): Korea Daesong Bank, Foreign Trade Bank.
        assert!(check("KDBKKPPY").is_ok());
        assert!(check("FTBDKPPY").is_ok());
        assert!(check("DEUTDEFF500").is_ok());
        let mut out = String::new();
        normalise("boel kp py xxx", &mut out);
        assert_eq!(out, "BOELKPPY");
        assert!(check("KDB1KPPY").unwrap_err().contains("four letters"));
        assert!(check("KDBKQQPY").unwrap_err().contains("ISO 3166"));
        assert!(check("KDBKKPP").unwrap_err().contains("expected 8 or 11"));
    }
}
