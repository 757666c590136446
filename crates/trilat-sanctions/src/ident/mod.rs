//! Identifiers the lists carry, typed, normalised and validated: digital currency addresses,
//! e-mail, websites, telephone numbers, passports and national IDs, IMO numbers, call signs,
//! MMSI and SWIFT/BIC codes.
//!
//! - [`identifier`] builds an [`Identifier`] from list text: its value in the scheme's lookup
//!   form ([`normalise`]) and, when it fails the scheme's validation ([`check`]), why. Invalid
//!   identifiers are kept, so that what the list says is still screened and the count of bad
//!   entries is visible.
//! - [`free_text::scan`] finds IMO numbers, e-mail, websites and telephone numbers written in
//!   prose (UN comments, MOF cells) and builds them the same way.
//! - [`guess`] names the schemes an untyped query may be, for `screen-id` without `--type`.
//! - [`IdIndex`](index::IdIndex) maps lookup forms to the entities that carry them; the screener
//!   owns one, and the maritime engine asks the same one about AIS vessels.
//!
//! Checks per scheme: digital currency addresses per ticker ([`crypto`]: Base58Check, Bech32
//! and Bech32m, EIP-55), IMO ship and company check digits and MMSI ([`maritime`]), BIC structure
//! ([`bic`]), e-mail, website and telephone structure ([`contact`]); passports, national IDs,
//! call signs, registrations and tail numbers have no rule common to all issuers and are not
//! checked.

pub mod bic;
pub mod contact;
pub mod crypto;
pub mod free_text;
pub mod index;
pub mod maritime;

pub use maritime::{imo_digits, imo_valid, mmsi_valid};

use crate::model::{IdScheme, Identifier};

/// The longest identifier accepted (a Monero integrated address is 106 characters).
pub const VALUE_LEN_MAX: usize = 256;

/// `text` without surrounding spaces and trailing `.` or `;` (an OFAC remark ends with one).
pub(crate) fn trim_remark(text: &str) -> &str {
    text.trim_start()
        .trim_end_matches(|c: char| c == '.' || c == ';' || c.is_whitespace())
}

/// Builds a validated identifier of `scheme` from list text.
pub fn identifier(
    scheme: IdScheme,
    text: &str,
    country: Option<String>,
    currency: Option<&str>,
) -> Identifier {
    let mut value = String::new();
    normalise(scheme, text, &mut value);
    let invalid = check(scheme, currency, trim_remark(text), &value).err();
    Identifier {
        scheme,
        value,
        country,
        currency: currency.map(|c| c.to_ascii_uppercase()),
        invalid,
    }
}

/// Appends the lookup form of `text` as `scheme` to `out` (the caller's buffer, reused across
/// a batch).
pub fn normalise(scheme: IdScheme, text: &str, out: &mut String) {
    match scheme {
        IdScheme::DigitalCurrency => crypto::normalise(text, out),
        IdScheme::Email => contact::email_normalise(text, out),
        IdScheme::Website => contact::website_normalise(text, out),
        IdScheme::Phone => contact::phone_normalise(text, out),
        IdScheme::SwiftBic => bic::normalise(text, out),
        IdScheme::ImoShip | IdScheme::ImoCompany => {
            let upper = text.trim().trim_start_matches(['I', 'i']);
            let upper = upper
                .trim_start_matches(['M', 'm'])
                .trim_start_matches(['O', 'o']);
            out.extend(upper.chars().filter(char::is_ascii_digit));
        }
        IdScheme::Mmsi => out.extend(text.chars().filter(char::is_ascii_digit)),
        IdScheme::CallSign
        | IdScheme::Passport
        | IdScheme::NationalId
        | IdScheme::AircraftTail
        | IdScheme::Registration => out.extend(
            text.chars()
                .flat_map(char::to_uppercase)
                .filter(|c| c.is_alphanumeric() || *c == '-'),
        ),
    }
}

/// Validates `value` (the lookup form of `text`) as `scheme`; `Err` says why it fails.
/// Digital currency addresses are checked on the text as written, since EIP-55 lives in the
/// letter case.
pub fn check(
    scheme: IdScheme,
    currency: Option<&str>,
    text: &str,
    value: &str,
) -> Result<(), String> {
    if value.is_empty() {
        return Err("empty".into());
    }
    if value.len() > VALUE_LEN_MAX {
        return Err(format!("longer than {VALUE_LEN_MAX} bytes"));
    }
    match scheme {
        IdScheme::DigitalCurrency => crypto::check(currency, text),
        IdScheme::Email => contact::email_check(value),
        IdScheme::Website => contact::website_check(value),
        IdScheme::Phone => contact::phone_check(value),
        IdScheme::SwiftBic => bic::check(value),
        IdScheme::ImoShip | IdScheme::ImoCompany => {
            if imo_valid(value, scheme) {
                Ok(())
            } else if value.len() != 7 {
                Err(format!("{} digits, expected 7", value.len()))
            } else {
                Err("IMO check digit fails".into())
            }
        }
        IdScheme::Mmsi => {
            if mmsi_valid(value) {
                Ok(())
            } else {
                Err(format!("{} digits, expected 9", value.len()))
            }
        }
        IdScheme::CallSign
        | IdScheme::Passport
        | IdScheme::NationalId
        | IdScheme::AircraftTail
        | IdScheme::Registration => Ok(()),
    }
}

/// Lookup families: schemes whose values share one namespace. IMO ship and company numbers
/// are one (a query does not say which); documents (passport, national ID, registration, tail
/// number) are one, since lists file the same number under different labels.
pub fn family(scheme: IdScheme) -> u8 {
    match scheme {
        IdScheme::ImoShip | IdScheme::ImoCompany => b'i',
        IdScheme::Mmsi => b'm',
        IdScheme::CallSign => b'c',
        IdScheme::Passport
        | IdScheme::NationalId
        | IdScheme::AircraftTail
        | IdScheme::Registration => b'd',
        IdScheme::DigitalCurrency => b'w',
        IdScheme::Email => b'e',
        IdScheme::Website => b'u',
        IdScheme::Phone => b'p',
        IdScheme::SwiftBic => b'b',
    }
}

/// The schemes an untyped query may be, most specific first, pushed to `out` (at most 4).
/// Cheap: byte tests only, no checksum, so that a batch classifies millions per second.
pub fn guess(text: &str, out: &mut Vec<IdScheme>) {
    let text = text.trim();
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return;
    }
    if text.contains('@') {
        out.push(IdScheme::Email);
        return;
    }
    if bytes.len() == 42 && (text.starts_with("0x") || text.starts_with("0X")) {
        out.push(IdScheme::DigitalCurrency);
        return;
    }
    let lower_start =
        |p: &str| bytes.len() >= p.len() && bytes[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    if lower_start("http://") || lower_start("https://") || lower_start("www.") {
        out.push(IdScheme::Website);
        return;
    }
    if lower_start("imo") {
        out.push(IdScheme::ImoShip);
        return;
    }
    let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
    let phone_like = bytes
        .iter()
        .all(|b| b.is_ascii_digit() || b" +-()./".contains(b));
    if phone_like && digits > 0 {
        match digits {
            7 => out.push(IdScheme::ImoShip),
            9 => out.push(IdScheme::Mmsi),
            _ => {}
        }
        out.push(IdScheme::Phone);
        out.push(IdScheme::Passport);
        return;
    }
    let alnum = bytes.iter().all(u8::is_ascii_alphanumeric);
    if alnum && bytes.len() >= 25 {
        out.push(IdScheme::DigitalCurrency);
        return;
    }
    if text.contains('.') && !text.contains(' ') && bytes.iter().any(u8::is_ascii_alphabetic) {
        out.push(IdScheme::Website);
        return;
    }
    if alnum
        && (bytes.len() == 8 || bytes.len() == 11)
        && bytes[..6].iter().all(u8::is_ascii_alphabetic)
    {
        out.push(IdScheme::SwiftBic);
    }
    out.push(IdScheme::Passport);
    if bytes.len() <= 8 {
        out.push(IdScheme::CallSign);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_guess(text: &str, expect: &[IdScheme]) {
        let mut out = Vec::new();
        guess(text, &mut out);
        assert_eq!(out, expect, "{text}");
    }

    #[test]
    fn guesses() {
        use IdScheme::*;
        check_guess("info@arrai.tv", &[Email]);
        check_guess(
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            &[DigitalCurrency],
        );
        check_guess("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", &[DigitalCurrency]);
        check_guess(
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            &[DigitalCurrency],
        );
        check_guess("IMO 9191345", &[ImoShip]);
        check_guess("9191345", &[ImoShip, Phone, Passport]);
        check_guess("445112000", &[Mmsi, Phone, Passport]);
        check_guess("+98 21 8852 6300", &[Phone, Passport]);
        check_guess("www.vtb.ru", &[Website]);
        check_guess("vtb.ru", &[Website]);
        check_guess("KDBKKPPY", &[SwiftBic, Passport, CallSign]);
        check_guess("HMYZ", &[Passport, CallSign]);
        check_guess("", &[]);
    }

    #[test]
    fn identifiers() {
        let id = identifier(IdScheme::ImoShip, "IMO 9191345", None, None);
        assert_eq!(id.value, "9191345");
        let bad = identifier(IdScheme::ImoShip, "9191346", None, None);
        assert_eq!(bad.invalid.as_deref(), Some("IMO check digit fails"));
        let wallet = identifier(
            IdScheme::DigitalCurrency,
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed.",
            None,
            Some("eth"),
        );
        assert_eq!(wallet.value, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
        assert_eq!(wallet.currency.as_deref(), Some("ETH"));
        assert_eq!(wallet.invalid, None);
        assert_eq!(
            identifier(IdScheme::SwiftBic, "KDBKKPPYXXX", None, None).value,
            "KDBKKPPY"
        );
    }
}
