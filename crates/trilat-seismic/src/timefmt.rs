//! Origin-time parsing shared by the readers: ISO 8601 as QuakeML and its
//! producers write it (fractional seconds of any length, `Z`, an offset,
//! or no zone at all, which QuakeML means as UTC).

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const DATE_TIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
const DATE_TIME_FRACTION: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]");

/// Parses `2014-11-06T00:24:42.240Z`, `2011-03-11T05:46:24.1200`,
/// `2012-04-04T14:21:42.3+00:00`; a time without a zone is UTC.
pub(crate) fn parse_iso(text: &str) -> Result<OffsetDateTime, String> {
    let s = text.trim();
    let (local, offset) = split_zone(s)?;
    let format = if local.contains('.') {
        DATE_TIME_FRACTION
    } else {
        DATE_TIME
    };
    let primitive = PrimitiveDateTime::parse(local, format)
        .map_err(|e| format!("time {s:?} is not ISO 8601 ({e})"))?;
    Ok(primitive.assume_offset(offset).to_offset(UtcOffset::UTC))
}

fn split_zone(s: &str) -> Result<(&str, UtcOffset), String> {
    if let Some(local) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        return Ok((local, UtcOffset::UTC));
    }
    // An offset is the last 6 characters `+HH:MM` after the time part.
    if s.len() > 19 && s.is_char_boundary(s.len() - 6) {
        let (local, zone) = s.split_at(s.len() - 6);
        let bytes = zone.as_bytes();
        if (bytes[0] == b'+' || bytes[0] == b'-') && bytes[3] == b':' {
            let hours: i8 = zone[1..3]
                .parse()
                .map_err(|_| format!("bad zone offset in {s:?}"))?;
            let minutes: i8 = zone[4..6]
                .parse()
                .map_err(|_| format!("bad zone offset in {s:?}"))?;
            let sign = if bytes[0] == b'-' { -1 } else { 1 };
            let offset = UtcOffset::from_hms(sign * hours, sign * minutes, 0)
                .map_err(|e| format!("bad zone offset in {s:?} ({e})"))?;
            return Ok((local, offset));
        }
    }
    Ok((s, UtcOffset::UTC))
}

/// Formats a time as RFC 3339 UTC (for messages and tables).
pub fn format_utc(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_the_test_files_use() {
        let t = parse_iso("2014-11-06T00:24:42.240Z").unwrap();
        assert_eq!(t.unix_timestamp(), 1_415_233_482);
        assert_eq!(t.millisecond(), 240);
        let t = parse_iso("2011-03-11T05:46:24.1200").unwrap();
        assert_eq!(t.millisecond(), 120);
        let t = parse_iso("2012-04-04T14:21:42.3+00:00").unwrap();
        assert_eq!(t.millisecond(), 300);
        let t = parse_iso("2012-04-04T16:21:42+02:00").unwrap();
        assert_eq!(t.hour(), 14);
        assert!(parse_iso("2012-13-04T14:21:42").is_err());
        assert!(parse_iso("yesterday").is_err());
        assert!(parse_iso("").is_err());
    }
}
