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

/// Length of the formatted text: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
const TEXT_LEN: usize = 24;

impl Timestamp {
    /// The RFC 3339 text into a stack buffer. Hand-written (days to civil
    /// date after Howard Hinnant's `civil_from_days`) because it runs several
    /// times per stored report; a property test checks it against the `time`
    /// crate.
    fn format(self) -> [u8; TEXT_LEN] {
        // The range is checked at construction, so ms >= 0 and the year has
        // four digits.
        debug_assert!((UNIX_MS_MIN..=UNIX_MS_MAX).contains(&self.0));
        let ms = self.0 as u64;
        let days = ms / 86_400_000;
        let ms_of_day = ms % 86_400_000;
        let (year, month, day) = civil_from_days(days);
        let secs = ms_of_day / 1000;
        let millis = ms_of_day % 1000;
        let (hour, minute, second) = (secs / 3600, secs / 60 % 60, secs % 60);
        let mut out = *b"0000-00-00T00:00:00.000Z";
        let digits = |out: &mut [u8; TEXT_LEN], at: usize, width: usize, mut value: u64| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        digits(&mut out, 0, 4, year);
        digits(&mut out, 5, 2, month);
        digits(&mut out, 8, 2, day);
        digits(&mut out, 11, 2, hour);
        digits(&mut out, 14, 2, minute);
        digits(&mut out, 17, 2, second);
        digits(&mut out, 20, 3, millis);
        out
    }
}

/// Proleptic Gregorian (year, month 1–12, day 1–31) of `days` since
/// 1970-01-01 (non-negative).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days end each 400-year era.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.format();
        f.write_str(std::str::from_utf8(&text).expect("ASCII digits"))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.format();
        s.serialize_str(std::str::from_utf8(&text).expect("ASCII digits"))
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

    /// The `time` crate's formatting of the same instant (the reference).
    fn reference(ms: i64) -> String {
        let t =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
        format!(
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

    #[test]
    fn formatter_matches_time_at_edges() {
        // Epoch, leap days, century and 400-year boundaries, the maximum.
        for text in [
            "1970-01-01T00:00:00.000Z",
            "1972-02-29T23:59:59.999Z",
            "2000-02-29T12:00:00.000Z",
            "2000-03-01T00:00:00.000Z",
            "2100-02-28T23:59:59.999Z",
            "2100-03-01T00:00:00.000Z",
            "2400-02-29T00:00:00.001Z",
            "9999-12-31T23:59:59.999Z",
        ] {
            let t = Timestamp::parse(text).unwrap();
            assert_eq!(t.to_string(), text);
            assert_eq!(t.to_string(), reference(t.unix_ms()));
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{text}\""));
        }
    }

    proptest::proptest! {
        #[test]
        fn formatter_equals_time_crate(ms in UNIX_MS_MIN..=UNIX_MS_MAX) {
            let t = Timestamp::from_unix_ms(ms);
            let text = t.to_string();
            proptest::prop_assert_eq!(&text, &reference(ms));
            proptest::prop_assert_eq!(Timestamp::parse(&text).unwrap(), t);
            proptest::prop_assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", text));
        }

        #[test]
        fn formatter_equals_time_crate_near_day_ends(day in 0i64..=2_932_896, ms_in_day in proptest::prop_oneof![0i64..1_000, 86_399_000i64..86_400_000]) {
            let ms = (day * 86_400_000 + ms_in_day).min(UNIX_MS_MAX);
            proptest::prop_assert_eq!(Timestamp::from_unix_ms(ms).to_string(), reference(ms));
        }
    }
}
