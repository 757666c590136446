//! QuakeML 1.2 (BED, namespace `http://quakeml.org/xmlns/bed/1.2`):
//! each `event` element becomes an [`Event`] from its preferred origin and
//! all its magnitudes. Picks, arrivals, amplitudes and station magnitudes
//! are skipped without being kept in memory.
//!
//! Units as QuakeML defines them: depth and its uncertainty in metres,
//! `horizontalUncertainty` and the ellipse axes in metres, latitude and
//! longitude uncertainties in degrees.

use crate::error::{check_len, Diagnostic, ErrorKind, ParseError, Parsed};
use crate::error::{EVENTS_MAX, MAGNITUDES_PER_EVENT_MAX};
use crate::event::{Event, Format, HorizontalUncertainty, Magnitude, MagnitudeScale, Origin};
use crate::timefmt::parse_iso;
use quick_xml::events::{BytesStart, Event as XmlEvent};
use quick_xml::Reader;

/// The QuakeML 1.2 BED namespace.
pub const BED_1_2: &str = "http://quakeml.org/xmlns/bed/1.2";
/// Deepest element nesting kept inside one event.
const DEPTH_MAX: usize = 32;
/// Most elements kept for one event (its origins and magnitudes).
const ELEMENTS_PER_EVENT_MAX: usize = 20_000;
/// Subtrees of an event not needed for the model, skipped whole.
const SKIPPED: &[&str] = &[
    "pick",
    "arrival",
    "amplitude",
    "stationMagnitude",
    "focalMechanism",
    "stationMagnitudeContribution",
    "comment",
];
/// km per degree of latitude (mean Earth radius 6371 km).
const KM_PER_DEG: f64 = 111.195;

/// One kept element: local name, `publicID`, text, children.
#[derive(Default, Debug)]
struct Element {
    name: String,
    public_id: Option<String>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// The trimmed text at a child path, if present and not empty.
    fn text_at(&self, path: &[&str]) -> Option<&str> {
        let mut at = self;
        for name in path {
            at = at.child(name)?;
        }
        let t = at.text.trim();
        (!t.is_empty()).then_some(t)
    }
    fn number_at(&self, path: &[&str]) -> Option<f64> {
        self.text_at(path)?
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
    }
}

/// Reads a QuakeML 1.2 document.
pub fn parse_quakeml(text: &str) -> Result<Parsed, ParseError> {
    check_len(Format::Quakeml, text)?;
    let mut reader = Reader::from_str(text);
    let mut parsed = Parsed::default();
    let mut stack: Vec<Element> = Vec::new();
    let mut event_line = 0;
    let mut n_elements = 0usize;
    let mut skip_depth = 0usize;
    let mut saw_root = false;
    loop {
        let position = reader.buffer_position() as usize;
        let xml = reader.read_event().map_err(|e| {
            fault(
                text,
                reader.error_position() as usize,
                ErrorKind::Malformed,
                e,
            )
        })?;
        match xml {
            XmlEvent::Start(start) => {
                let name = local_name(&start);
                if !saw_root {
                    check_root(text, position, &start)?;
                    saw_root = true;
                    continue;
                }
                if skip_depth > 0 || (!stack.is_empty() && SKIPPED.contains(&name.as_str())) {
                    skip_depth += 1;
                    continue;
                }
                if stack.is_empty() && name != "event" {
                    continue;
                }
                if stack.is_empty() {
                    event_line = line_of(text, position);
                    n_elements = 0;
                }
                n_elements += 1;
                if stack.len() >= DEPTH_MAX || n_elements > ELEMENTS_PER_EVENT_MAX {
                    return Err(fault(
                        text,
                        position,
                        ErrorKind::LimitExceeded,
                        "event nested too deeply or too large",
                    ));
                }
                stack.push(Element {
                    name,
                    public_id: public_id(&start),
                    ..Element::default()
                });
            }
            XmlEvent::Empty(start) if !saw_root => {
                check_root(text, position, &start)?;
                saw_root = true;
            }
            XmlEvent::Text(t) if skip_depth == 0 => {
                if let Some(top) = stack.last_mut() {
                    let decoded = t
                        .decode()
                        .map_err(|e| fault(text, position, ErrorKind::Malformed, e))?;
                    top.text.push_str(&decoded);
                }
            }
            XmlEvent::CData(t) if skip_depth == 0 => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            XmlEvent::GeneralRef(r) if skip_depth == 0 => {
                if let Some(top) = stack.last_mut() {
                    top.text.push(resolve_entity(r.as_ref(), &r));
                }
            }
            XmlEvent::End(_) => {
                if skip_depth > 0 {
                    skip_depth -= 1;
                    continue;
                }
                let Some(done) = stack.pop() else { continue };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => finish_event(&done, event_line, &mut parsed, text)?,
                }
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(ParseError::new(
            Some(Format::Quakeml),
            0,
            ErrorKind::Malformed,
            "no root element",
        ));
    }
    if !stack.is_empty() {
        parsed.diagnostics.push(Diagnostic {
            line: event_line,
            what: "the document ends inside an event; that event is dropped".into(),
        });
    }
    Ok(parsed)
}

fn resolve_entity(name: &[u8], r: &quick_xml::events::BytesRef<'_>) -> char {
    match name {
        b"amp" => '&',
        b"lt" => '<',
        b"gt" => '>',
        b"quot" => '"',
        b"apos" => '\'',
        _ => r
            .resolve_char_ref()
            .ok()
            .flatten()
            .unwrap_or(char::REPLACEMENT_CHARACTER),
    }
}

fn finish_event(
    done: &Element,
    line: usize,
    parsed: &mut Parsed,
    text: &str,
) -> Result<(), ParseError> {
    if parsed.events.len() >= EVENTS_MAX {
        return Err(fault(
            text,
            0,
            ErrorKind::LimitExceeded,
            format!("more than {EVENTS_MAX} events"),
        ));
    }
    match event(done, line, &mut parsed.diagnostics) {
        Ok(e) => parsed.events.push(e),
        Err(what) => parsed.diagnostics.push(Diagnostic { line, what }),
    }
    Ok(())
}

/// The root must be QuakeML 1.2: its namespaces name BED 1.2; QuakeML 1.0
/// is refused by name.
fn check_root(text: &str, position: usize, root: &BytesStart<'_>) -> Result<(), ParseError> {
    let mut namespaces = Vec::new();
    for attr in root.attributes().flatten() {
        if attr.key.as_ref().starts_with(b"xmlns") {
            namespaces.push(String::from_utf8_lossy(&attr.value).into_owned());
        }
    }
    if namespaces.iter().any(|ns| ns == BED_1_2) {
        return Ok(());
    }
    let found = namespaces.join(", ");
    let kind = if namespaces.iter().any(|ns| ns.contains("quakeml")) {
        ErrorKind::UnsupportedVersion
    } else {
        ErrorKind::Malformed
    };
    Err(ParseError::new(
        Some(Format::Quakeml),
        line_of(text, position),
        kind,
        format!(
            "root element does not declare the QuakeML 1.2 namespace {BED_1_2} (found: [{found}])"
        ),
    ))
}

fn local_name(start: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(start.local_name().as_ref()).into_owned()
}

fn public_id(start: &BytesStart<'_>) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == b"publicID")
        .map(|a| match a.unescape_value() {
            Ok(v) => v.into_owned(),
            Err(_) => String::from_utf8_lossy(&a.value).into_owned(),
        })
}

fn fault(text: &str, byte: usize, kind: ErrorKind, what: impl ToString) -> ParseError {
    ParseError::new(
        Some(Format::Quakeml),
        line_of(text, byte),
        kind,
        what.to_string(),
    )
}

/// 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, byte: usize) -> usize {
    let end = byte.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn event(e: &Element, line: usize, diags: &mut Vec<Diagnostic>) -> Result<Event, String> {
    let id = e.public_id.clone().unwrap_or_default();
    let preferred = e.text_at(&["preferredOriginID"]);
    let origin_el = e
        .children("origin")
        .find(|o| preferred.is_some() && o.public_id.as_deref() == preferred)
        .or_else(|| e.child("origin"))
        .ok_or_else(|| format!("event {id:?} has no origin; skipped"))?;
    let origin = origin(origin_el).map_err(|what| format!("event {id:?}: {what}; skipped"))?;
    let mut magnitudes = Vec::new();
    for m in e.children("magnitude") {
        if magnitudes.len() >= MAGNITUDES_PER_EVENT_MAX {
            diags.push(Diagnostic {
                line,
                what: format!("event {id:?}: more than {MAGNITUDES_PER_EVENT_MAX} magnitudes; the rest dropped"),
            });
            break;
        }
        match magnitude(m) {
            Some(mag) => magnitudes.push(mag),
            None => diags.push(Diagnostic {
                line,
                what: format!("event {id:?}: a magnitude without a numeric value; skipped"),
            }),
        }
    }
    // The preferred magnitude first, so "the first mb" is the agency's choice.
    if let Some(pref) = e.text_at(&["preferredMagnitudeID"]) {
        let ids: Vec<Option<&str>> = e
            .children("magnitude")
            .map(|m| m.public_id.as_deref())
            .collect();
        if let Some(idx) = ids.iter().position(|i| *i == Some(pref)) {
            if idx < magnitudes.len() {
                let m = magnitudes.remove(idx);
                magnitudes.insert(0, m);
            }
        }
    }
    let agency = agency(origin_el).or_else(|| agency(e));
    let region = e
        .children("description")
        .find_map(|d| d.text_at(&["text"]))
        .map(str::to_owned);
    Ok(Event {
        id,
        format: Format::Quakeml,
        agency,
        origin,
        magnitudes,
        // ComCat writes `quarry_blast` for QuakeML's `quarry blast`.
        event_type: e.text_at(&["type"]).map(|t| t.replace('_', " ")),
        event_type_certainty: e.text_at(&["typeCertainty"]).map(str::to_owned),
        region,
    })
}

fn agency(e: &Element) -> Option<String> {
    e.text_at(&["creationInfo", "agencyID"])
        .or_else(|| e.text_at(&["creationInfo", "author"]))
        .map(str::to_owned)
}

fn origin(o: &Element) -> Result<Origin, String> {
    let time_text = o
        .text_at(&["time", "value"])
        .ok_or("origin without a time")?;
    let time = parse_iso(time_text)?;
    let lat = o.number_at(&["latitude", "value"]);
    let lon = o.number_at(&["longitude", "value"]);
    if let Some(lat) = lat {
        if !(-90.0..=90.0).contains(&lat) {
            return Err(format!("latitude {lat} out of range"));
        }
    }
    if let Some(lon) = lon {
        if !(-180.0..=360.0).contains(&lon) {
            return Err(format!("longitude {lon} out of range"));
        }
    }
    let depth_fixed = o.text_at(&["depthType"]) == Some("operator assigned");
    Ok(Origin {
        time,
        time_error_s: o.number_at(&["time", "uncertainty"]),
        lat,
        lon: lon.map(|l| if l > 180.0 { l - 360.0 } else { l }),
        uncertainty: uncertainty(o, lat),
        depth_km: o.number_at(&["depth", "value"]).map(|m| m / 1000.0),
        depth_error_km: o.number_at(&["depth", "uncertainty"]).map(|m| m / 1000.0),
        depth_fixed,
    })
}

/// The epicentre's uncertainty: the origin's `originUncertainty` (ellipse
/// or circle), else the per-coordinate uncertainties.
fn uncertainty(o: &Element, lat: Option<f64>) -> Option<HorizontalUncertainty> {
    if let Some(u) = o.child("originUncertainty") {
        let confidence_pct = u.number_at(&["confidenceLevel"]);
        let major = u.number_at(&["maxHorizontalUncertainty"]);
        let minor = u.number_at(&["minHorizontalUncertainty"]);
        if let (Some(major), Some(minor)) = (major, minor) {
            if major > 0.0 {
                return Some(HorizontalUncertainty::Ellipse {
                    semi_major_km: major / 1000.0,
                    semi_minor_km: minor / 1000.0,
                    azimuth_deg: u
                        .number_at(&["azimuthMaxHorizontalUncertainty"])
                        .unwrap_or(0.0),
                    confidence_pct,
                });
            }
        }
        if let Some(radius) = u.number_at(&["horizontalUncertainty"]) {
            if radius > 0.0 {
                return Some(HorizontalUncertainty::Circle {
                    radius_km: radius / 1000.0,
                    confidence_pct,
                });
            }
        }
    }
    let lat_err = o.number_at(&["latitude", "uncertainty"])?;
    let lon_err = o.number_at(&["longitude", "uncertainty"])?;
    let cos_lat = lat.unwrap_or(0.0).to_radians().cos().abs();
    Some(HorizontalUncertainty::LatLon {
        lat_error_km: lat_err * KM_PER_DEG,
        lon_error_km: lon_err * KM_PER_DEG * cos_lat,
        confidence_pct: o.number_at(&["latitude", "confidenceLevel"]),
    })
}

fn magnitude(m: &Element) -> Option<Magnitude> {
    let value = m.number_at(&["mag", "value"])?;
    let raw_type = m.text_at(&["type"]).unwrap_or("").to_owned();
    Some(Magnitude {
        scale: MagnitudeScale::from_type(&raw_type),
        raw_type,
        value,
        error: m.number_at(&["mag", "uncertainty"]),
        agency: agency(m),
        station_count: m
            .text_at(&["stationCount"])
            .and_then(|s| s.parse::<u32>().ok()),
    })
}
