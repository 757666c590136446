//! Reports and a small CoT reader for the tests.

use std::collections::BTreeMap;

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{json, Value};
use trilat_core::{Kind, Marking, NodeKey, Party, Report, ReportDraft, Timestamp, Tlp};

/// 2027-01-15T08:00:00Z.
pub const T0_MS: i64 = 1_800_000_000_000;

pub fn party(code: &str) -> Party {
    Party::new(code).unwrap()
}

pub fn marking(level: &str, rel_to: &[&str]) -> Marking {
    Marking::new(level, Tlp::Amber, rel_to.iter().copied())
}

/// A signed report of `owner` observed at `observed_ms`.
pub fn report(
    owner: &str,
    kind: &str,
    marking: Marking,
    payload: Value,
    observed_ms: i64,
) -> Report {
    let owner = party(owner);
    let key = NodeKey::from_seed([7; 32]);
    let now = Timestamp::from_unix_ms(observed_ms);
    let mut draft = ReportDraft::new(owner, Kind::new(kind).unwrap(), marking, payload, now);
    draft.observed_at = now;
    draft.sign(&key).unwrap()
}

pub fn track_payload(track_id: u64, lat: f64, lon: f64, state: &str) -> Value {
    json!({
        "track_id": track_id, "time": "2027-01-15T03:00:00Z", "lat": lat, "lon": lon,
        "height_km": 120.5, "speed_mps": 2500.0, "phase": "ballistic", "p_ballistic": 0.97,
        "state": state, "parties": ["KOR", "JPN"], "n_detections": 40
    })
}

/// The predicted impact of [`assessment_payload`]: 7 min after `T0_MS`.
pub fn impact_time() -> String {
    Timestamp::from_unix_ms(T0_MS + 420_000).to_string()
}

pub fn assessment_payload() -> Value {
    json!({
        "track_id": 3, "assessed_at": "2027-01-15T03:01:00.000Z",
        "launch_time": "2027-01-15T02:58:00.000Z", "launch_lat": 39.0, "launch_lon": 125.7,
        "launch_method": "backtrack", "apogee_km": 550.0, "range_km": 1000.0, "flight_time_s": 600.0,
        "impact_time": impact_time(), "impact_lat": 40.5, "impact_lon": 137.25,
        "impact_ellipse": {"semi_major_km": 12.0, "semi_minor_km": 4.0, "bearing_deg": 80.0, "confidence": 0.95},
        "class": "MRBM", "energy_range_km": 1000.0, "overflown": [],
        "p_impact_in_jpn_eez": 0.8, "p_impact_in_jpn_territory": 0.0, "p_impact_on_land": 0.0,
        "zones_approximate": true, "parties": ["KOR", "JPN", "USA"], "n_detections": 120,
        "track_live": true, "impact_time_s": 600.0, "launch_time_s": 0.0
    })
}

pub fn maritime_event_payload() -> Value {
    json!({
        "mmsi": 445123000, "segment": 0, "start_unix_ms": T0_MS - 7_200_000, "end_unix_ms": T0_MS,
        "lat": 37.5, "lon": 124.25, "event": "gap", "hours": 2.0, "distance_m": 30000.0,
        "shore_distance_m_start": null, "shore_distance_m_end": null, "covered": false, "ongoing": false, "evidence": []
    })
}

pub fn seismic_payload() -> Value {
    json!({
        "id": "us2000aert", "format": "usgs-geojson", "agency": "us",
        "origin": {
            "time": "2017-09-03T03:30:01.760Z", "lat": 41.343, "lon": 129.036, "depth_km": 0.0,
            "depth_fixed": true,
            "uncertainty": {"kind": "ellipse", "semi_major_km": 9.0, "semi_minor_km": 6.0, "azimuth_deg": 30.0, "confidence_pct": 90.0}
        },
        "magnitudes": [{"scale": "mb", "raw_type": "mb", "value": 6.3}],
        "event_type": "nuclear explosion", "region": "North Korea"
    })
}

/// A parsed CoT event: each element's attributes (first of each name) and
/// the remarks text.
pub struct Parsed {
    pub elements: BTreeMap<String, BTreeMap<String, String>>,
    pub remarks: String,
}

impl Parsed {
    pub fn attr(&self, element: &str, name: &str) -> &str {
        self.elements
            .get(element)
            .and_then(|attrs| attrs.get(name))
            .unwrap_or_else(|| panic!("no {element}@{name} in {:?}", self.elements))
    }

    pub fn f64(&self, element: &str, name: &str) -> f64 {
        self.attr(element, name).parse().unwrap()
    }

    pub fn has(&self, element: &str) -> bool {
        self.elements.contains_key(element)
    }

    /// Milliseconds between two of the event's times.
    pub fn ms_between(&self, from: &str, to: &str) -> i64 {
        let at = |name| {
            Timestamp::parse(self.attr("event", name))
                .unwrap()
                .unix_ms()
        };
        at(to) - at(from)
    }
}

/// Parses one CoT event with quick-xml (unescaping), failing on malformed XML.
pub fn parse(xml: &str) -> Parsed {
    let mut reader = Reader::from_str(xml);
    let mut elements = BTreeMap::new();
    let mut remarks = String::new();
    let mut in_remarks = false;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                in_remarks = name == "remarks";
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                        (key, a.unescape_value().unwrap().into_owned())
                    })
                    .collect();
                elements.entry(name).or_insert(attrs);
            }
            Event::Text(t) if in_remarks => remarks.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) if in_remarks => {
                let name = String::from_utf8(r.to_vec()).unwrap();
                remarks.push_str(match name.as_str() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unexpected entity {other}"),
                });
            }
            Event::End(_) => in_remarks = false,
            Event::Eof => break,
            _ => {}
        }
    }
    Parsed { elements, remarks }
}
