//! Party codes: ISO 3166-1 alpha-3 (`USA`, `JPN`, `KOR`), optionally with an
//! agency suffix (`JPN-JCG`). Group names (`TRILAT`) are not parties; they
//! live in [`crate::Policy`].

use std::fmt;

/// The longest party code accepted (`XXX-` + agency).
pub const PARTY_CODE_LEN_MAX: usize = 16;

/// A partner: a nation or an agency of one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Party(String);

/// A party code that is not of the form `AAA` or `AAA-AGENCY`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid party code {code:?}: expected ISO 3166-1 alpha-3 such as USA, optionally with an agency suffix such as JPN-JCG")]
pub struct PartyError {
    /// The rejected code.
    pub code: String,
}

impl Party {
    /// Validates and wraps a party code.
    pub fn new(code: &str) -> Result<Party, PartyError> {
        if is_party_code(code) {
            Ok(Party(code.to_string()))
        } else {
            Err(PartyError {
                code: code.chars().take(PARTY_CODE_LEN_MAX + 8).collect(),
            })
        }
    }

    /// The code as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// True for `AAA` and `AAA-AGENCY` (agency: 1–12 of `A-Z0-9`).
pub(crate) fn is_party_code(code: &str) -> bool {
    let bytes = code.as_bytes();
    if bytes.len() < 3 || bytes.len() > PARTY_CODE_LEN_MAX {
        return false;
    }
    if !bytes[..3].iter().all(u8::is_ascii_uppercase) {
        return false;
    }
    match &bytes[3..] {
        [] => true,
        [b'-', agency @ ..] => {
            !agency.is_empty()
                && agency
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        }
        _ => false,
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Party {
    type Err = PartyError;
    fn from_str(s: &str) -> Result<Party, PartyError> {
        Party::new(s)
    }
}

impl<'de> serde::Deserialize<'de> for Party {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Party, D::Error> {
        let code = String::deserialize(d)?;
        Party::new(&code).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_codes() {
        for ok in ["USA", "JPN", "KOR", "JPN-JCG", "USA-7F"] {
            assert!(Party::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "us", "USAA", "US", "JPN-", "JPN_JCG", "jpn", "JPN-jcg", "ÄBC",
        ] {
            assert!(Party::new(bad).is_err(), "{bad}");
        }
    }
}
