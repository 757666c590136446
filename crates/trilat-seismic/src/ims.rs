//! The IMS1.0 bulletin, short form: the fixed-column text the CTBTO's
//! International Data Centre publishes its bulletins in (and the ISC's
//! ISF builds on). An `EVENT` line opens an event; a header line opens a
//! block of origins, magnitudes or phases; `STOP` ends the message.
//!
//! Columns (1-based, as the IMS1.0 / ISF documents give them; ObsPy's
//! `obspy.io.iaspei` reads the same):
//! origin line: date-time 1–22, fixed-time flag 23, time error 25–29,
//! RMS 31–35, latitude 37–44, longitude 46–54, fixed-epicentre flag 55,
//! 90 % ellipse semi-major 56–60 and semi-minor 62–66 (km), strike 68–70,
//! depth 72–76 (km), fixed-depth flag 77, depth error 79–82 (km), …,
//! analysis type 112, location method 114, event type 116–117,
//! author 119–127, origin id 129–136.
//! Magnitude line: type 1–5, min/max flag 6, value 7–10, error 12–14,
//! station count 16–19, author 21–29, origin id 31–38.

use crate::error::{check_len, Diagnostic, ErrorKind, ParseError, Parsed};
use crate::error::{EVENTS_MAX, MAGNITUDES_PER_EVENT_MAX};
use crate::event::{Event, Format, HorizontalUncertainty, Magnitude, MagnitudeScale, Origin};
use time::{Date, Month, PrimitiveDateTime, Time};

/// Most origins kept per event.
const ORIGINS_PER_EVENT_MAX: usize = 256;

/// Which block the lines belong to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Block {
    None,
    Origins,
    Magnitudes,
    Phases,
    Other,
}

/// One origin line, before the event's preferred one is chosen.
struct OriginLine {
    origin: Origin,
    author: Option<String>,
    event_type: Option<(&'static str, &'static str)>,
    prime: bool,
}

/// An event being read.
struct Pending {
    id: String,
    region: Option<String>,
    line: usize,
    origins: Vec<OriginLine>,
    magnitudes: Vec<Magnitude>,
}

/// Reads an IMS1.0 short-form bulletin. Lines before the
/// `DATA_TYPE BULLETIN IMS1.0:short` line (an AutoDRM envelope, a URL) are
/// skipped; a bad origin or magnitude line is reported and skipped.
pub fn parse_ims1(text: &str) -> Result<Parsed, ParseError> {
    check_len(Format::Ims1, text)?;
    let mut parsed = Parsed::default();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let header = lines.by_ref().find(|(_, l)| is_data_type_line(l));
    let Some((header_line, header)) = header else {
        return Err(ParseError::new(
            Some(Format::Ims1),
            0,
            ErrorKind::Malformed,
            "no `DATA_TYPE BULLETIN IMS1.0:short` line",
        ));
    };
    if !header.to_ascii_lowercase().contains("ims1.0:short") {
        return Err(ParseError::new(
            Some(Format::Ims1),
            header_line,
            ErrorKind::UnsupportedVersion,
            format!(
                "only the short form IMS1.0:short is read, found {:?}",
                header.trim()
            ),
        ));
    }
    let mut block = Block::None;
    let mut pending: Option<Pending> = None;
    for (n, line) in lines {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with("STOP") || trimmed.starts_with("DATA_TYPE") {
            break;
        }
        if let Some(next) = block_header(trimmed) {
            block = next;
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("EVENT ") {
            finish(pending.take(), &mut parsed)?;
            pending = Some(event_line(rest, n));
            block = Block::None;
            continue;
        }
        let Some(event) = pending.as_mut() else {
            continue; // the bulletin's title line, before the first event
        };
        read_line(block, line, n, event, &mut parsed.diagnostics);
    }
    finish(pending.take(), &mut parsed)?;
    Ok(parsed)
}

fn read_line(block: Block, line: &str, n: usize, event: &mut Pending, diags: &mut Vec<Diagnostic>) {
    let trimmed = line.trim();
    let is_comment = trimmed.starts_with('(');
    match block {
        Block::Origins if is_comment && trimmed.to_ascii_uppercase().contains("#PRIME") => {
            if let Some(last) = event.origins.last_mut() {
                last.prime = true;
            }
        }
        Block::Origins if is_comment => {}
        Block::Origins => {
            if event.origins.len() >= ORIGINS_PER_EVENT_MAX {
                diags.push(diag(
                    n,
                    format!("more than {ORIGINS_PER_EVENT_MAX} origins; skipped"),
                ));
                return;
            }
            match origin_line(line) {
                Ok(o) => event.origins.push(o),
                Err(what) => diags.push(diag(n, format!("origin line skipped: {what}"))),
            }
        }
        Block::Magnitudes if !is_comment => {
            if event.magnitudes.len() >= MAGNITUDES_PER_EVENT_MAX {
                diags.push(diag(n, "too many magnitudes; skipped".into()));
                return;
            }
            match magnitude_line(line) {
                Ok(m) => event.magnitudes.push(m),
                Err(what) => diags.push(diag(n, format!("magnitude line skipped: {what}"))),
            }
        }
        Block::None if !is_comment => {
            diags.push(diag(n, "a line outside any block; skipped".into()));
        }
        _ => {}
    }
}

fn diag(line: usize, what: String) -> Diagnostic {
    Diagnostic { line, what }
}

fn is_data_type_line(line: &str) -> bool {
    let upper = line.trim().to_ascii_uppercase();
    upper.starts_with("DATA_TYPE") && upper.contains("BULLETIN") && upper.contains("IMS1.0")
}

/// The block a header line opens (its first four words), if it is one.
fn block_header(line: &str) -> Option<Block> {
    let words: Vec<String> = line
        .split_whitespace()
        .take(4)
        .map(str::to_ascii_lowercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["date", "time", "err", "rms"] => Some(Block::Origins),
        ["magnitude", "err", "nsta", "author"] => Some(Block::Magnitudes),
        ["sta", "dist", "evaz", "phase"] => Some(Block::Phases),
        ["year", "volume", "page1", "page2"] => Some(Block::Other),
        _ => None,
    }
}

/// `EVENT 2032257  CZECH REPUBLIC, OSTRAVA` (after `EVENT `).
fn event_line(rest: &str, n: usize) -> Pending {
    let rest = rest.trim();
    let (id, region) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let region = region.trim();
    Pending {
        id: id.to_owned(),
        region: (!region.is_empty()).then(|| region.to_owned()),
        line: n,
        origins: Vec::new(),
        magnitudes: Vec::new(),
    }
}

fn finish(pending: Option<Pending>, parsed: &mut Parsed) -> Result<(), ParseError> {
    let Some(mut p) = pending else { return Ok(()) };
    if parsed.events.len() >= EVENTS_MAX {
        return Err(ParseError::new(
            Some(Format::Ims1),
            p.line,
            ErrorKind::LimitExceeded,
            format!("more than {EVENTS_MAX} events"),
        ));
    }
    if p.origins.is_empty() {
        parsed.diagnostics.push(diag(
            p.line,
            format!("event {} has no origin; skipped", p.id),
        ));
        return Ok(());
    }
    let prime = p.origins.iter().position(|o| o.prime);
    if prime.is_none() && p.origins.len() > 1 {
        parsed.diagnostics.push(diag(
            p.line,
            format!(
                "event {}: {} origins, none marked #PRIME; the first is used",
                p.id,
                p.origins.len()
            ),
        ));
    }
    let chosen = p.origins.swap_remove(prime.unwrap_or(0));
    let event_type = chosen
        .event_type
        .or_else(|| p.origins.iter().find_map(|o| o.event_type));
    parsed.events.push(Event {
        id: p.id,
        format: Format::Ims1,
        agency: chosen.author,
        origin: chosen.origin,
        magnitudes: p.magnitudes,
        event_type: event_type.map(|(t, _)| t.to_owned()),
        event_type_certainty: event_type.map(|(_, c)| c.to_owned()),
        region: p.region,
    });
    Ok(())
}

/// Columns `a..b` (0-based, end exclusive) of a line, trimmed; empty when
/// the line is shorter.
fn col(line: &str, a: usize, b: usize) -> Result<&str, String> {
    if a >= line.len() {
        return Ok("");
    }
    line.get(a..b.min(line.len()))
        .map(str::trim)
        .ok_or_else(|| {
            format!(
                "columns {}-{} cut a character (the format is ASCII)",
                a + 1,
                b
            )
        })
}

fn number(line: &str, a: usize, b: usize, what: &str) -> Result<Option<f64>, String> {
    let field = col(line, a, b)?;
    if field.is_empty() {
        return Ok(None);
    }
    field
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| format!("{what} {field:?} (columns {}-{}) is not a number", a + 1, b))
}

fn flag(line: &str, at: usize) -> bool {
    line.as_bytes()
        .get(at)
        .is_some_and(|b| b.eq_ignore_ascii_case(&b'f'))
}

fn origin_line(line: &str) -> Result<OriginLine, String> {
    let time = origin_time(col(line, 0, 22)?)?;
    let lat = number(line, 36, 44, "latitude")?;
    let lon = number(line, 45, 54, "longitude")?;
    if lat.is_some_and(|v| !(-90.0..=90.0).contains(&v)) {
        return Err(format!("latitude {lat:?} out of range"));
    }
    if lon.is_some_and(|v| !(-180.0..=180.0).contains(&v)) {
        return Err(format!("longitude {lon:?} out of range"));
    }
    let major = number(line, 55, 60, "ellipse semi-major axis")?;
    let minor = number(line, 61, 66, "ellipse semi-minor axis")?;
    let strike = number(line, 67, 70, "ellipse strike")?;
    let uncertainty = match (major, minor) {
        (Some(semi_major_km), Some(semi_minor_km)) => Some(HorizontalUncertainty::Ellipse {
            semi_major_km,
            semi_minor_km,
            azimuth_deg: strike.unwrap_or(0.0),
            confidence_pct: Some(90.0),
        }),
        _ => None,
    };
    let author = col(line, 118, 127)?;
    Ok(OriginLine {
        origin: Origin {
            time,
            time_error_s: number(line, 24, 29, "time error")?,
            lat: lon.and(lat),
            lon: lat.and(lon),
            uncertainty,
            depth_km: number(line, 71, 76, "depth")?,
            depth_error_km: number(line, 78, 82, "depth error")?,
            depth_fixed: flag(line, 76),
        },
        author: (!author.is_empty()).then(|| author.to_owned()),
        event_type: event_type(col(line, 115, 117)?),
        prime: false,
    })
}

/// `2024/09/01 12:33:19.91`.
fn origin_time(field: &str) -> Result<time::OffsetDateTime, String> {
    let bad = || format!("origin time {field:?} (columns 1-22) is not yyyy/mm/dd hh:mm:ss.ss");
    let (date, clock) = field.split_once(' ').ok_or_else(bad)?;
    let mut d = date.split('/');
    let year: i32 = d.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let month: u8 = d.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let day: u8 = d.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let mut c = clock.trim().split(':');
    let hour: u8 = c.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let minute: u8 = c.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let seconds: f64 = c.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    if !(0.0..60.0).contains(&seconds) {
        return Err(bad());
    }
    let month = Month::try_from(month).map_err(|_| bad())?;
    let date = Date::from_calendar_date(year, month, day).map_err(|_| bad())?;
    let whole = seconds.trunc() as u8;
    let nanos = ((seconds - seconds.trunc()) * 1e9)
        .round()
        .min(999_999_999.0) as u32;
    let clock = Time::from_hms_nano(hour, minute, whole, nanos).map_err(|_| bad())?;
    Ok(PrimitiveDateTime::new(date, clock).assume_utc())
}

/// The two-letter IMS1.0 event type, in QuakeML 1.2's words, with its
/// certainty (the same table ObsPy uses).
fn event_type(code: &str) -> Option<(&'static str, &'static str)> {
    let (kind, certainty) = match code.to_ascii_lowercase().as_str() {
        "de" | "fe" | "ke" => ("earthquake", "known"),
        "se" => ("earthquake", "suspected"),
        "kr" => ("rock burst", "known"),
        "sr" => ("rock burst", "suspected"),
        "ki" => ("induced or triggered event", "known"),
        "si" => ("induced or triggered event", "suspected"),
        "km" => ("mining explosion", "known"),
        "sm" => ("mining explosion", "suspected"),
        "kh" => ("chemical explosion", "known"),
        "sh" => ("chemical explosion", "suspected"),
        "kx" => ("experimental explosion", "known"),
        "sx" => ("experimental explosion", "suspected"),
        "kn" => ("nuclear explosion", "known"),
        "sn" => ("nuclear explosion", "suspected"),
        "ls" => ("landslide", "known"),
        _ => return None,
    };
    Some((kind, certainty))
}

fn magnitude_line(line: &str) -> Result<Magnitude, String> {
    let raw_type = col(line, 0, 5)?.to_owned();
    if raw_type.is_empty() {
        return Err("no magnitude type (columns 1-5)".into());
    }
    let value = number(line, 6, 10, "magnitude")?.ok_or("no magnitude value (columns 7-10)")?;
    let author = col(line, 20, 29)?;
    Ok(Magnitude {
        scale: MagnitudeScale::from_type(&raw_type),
        raw_type,
        value,
        error: number(line, 11, 14, "magnitude error")?,
        agency: (!author.is_empty()).then(|| author.to_owned()),
        station_count: number(line, 15, 19, "station count")?.map(|v| v.max(0.0) as u32),
    })
}
