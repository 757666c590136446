//! UTC instants with millisecond precision, written as RFC 3339 with exactly
//! three fractional digits so that a parse/format round trip is the identity
//! (the signature covers the formatted text).

use std::fmt;
use time::format_description::well_known::Rfc3339;

/// A UTC instant, milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// A time that is not RFC 3339, is out of range or has sub-millisecond digits.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid timestamp {text:?}: {reason}")]
pub struct TimestampError {
    /// The rejected text.
    pub text: String,
    /// Why it was rejected.
    pub reason: &'static str,
}

/// Earliest accepted instant: 1970-01-01.
const UNIX_MS_MIN: i64 = 0;
/// Latest accepted instant: 9999-12-31.
const UNIX_MS_MAX: i64 = 253_402_300_799_999;

impl Timestamp {
    /// From milliseconds since the Unix epoch, clamped to years 1970–9999.
    pub fn from_unix_ms(ms: i64) -> Timestamp {
        Timestamp(ms.clamp(UNIX_MS_MIN, UNIX_MS_MAX))
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_ms(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (any offset; converted to UTC). More than millisecond
    /// precision is refused rather than silently truncated.
    pub fn parse(text: &str) -> Result<Timestamp, TimestampError> {
        let err = |reason| TimestampError {
            text: text.chars().take(64).collect(),
            reason,
        };
        let parsed =
            time::OffsetDateTime::parse(text, &Rfc3339).map_err(|_| err("not RFC 3339"))?;
        let nanos = parsed.unix_timestamp_nanos();
        if nanos % 1_000_000 != 0 {
            return Err(err("more precise than a millisecond"));
        }
        let ms = i64::try_from(nanos / 1_000_000).map_err(|_| err("out of range"))?;
        if !(UNIX_MS_MIN..=UNIX_MS_MAX).contains(&ms) {
            return Err(err("outside 1970..9999"));
        }
        Ok(Timestamp(ms))
    }

    /// `self` plus `ms` milliseconds (saturating at the accepted range).
    pub fn add_ms(self, ms: i64) -> Timestamp {
        Timestamp::from_unix_ms(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .expect("timestamp range is checked at construction");
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_identity() {
        for ms in [0, 1, 999, 1_764_292_711_123, UNIX_MS_MAX] {
            let t = Timestamp::from_unix_ms(ms);
            let text = t.to_string();
            assert_eq!(Timestamp::parse(&text).unwrap(), t, "{text}");
        }
        assert_eq!(
            Timestamp::from_unix_ms(1_764_292_711_123).to_string(),
            "2025-11-28T01:18:31.123Z"
        );
    }

    #[test]
    fn refuses_bad_times() {
        for bad in [
            "",
            "yesterday",
            "2026-11-28T01:18:31.1234Z",
            "1969-12-31T23:59:59Z",
            "2026-13-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Timestamp::parse("2026-11-28T10:18:31+09:00")
                .unwrap()
                .to_string(),
            "2026-11-28T01:18:31.000Z"
        );
    }
}
