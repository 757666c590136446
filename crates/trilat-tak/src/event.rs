//! One Cursor-on-Target `<event>` and its XML.
//!
//! The shape follows CoT 2.0 as TAK clients and servers read it:
//!
//! ```text
//! <event version="2.0" uid type how time start stale [opex="e"]>
//!   <point lat lon hae ce le/>
//!   <detail>
//!     <contact callsign/>
//!     <track course speed/>                      (movers: degrees true, m/s)
//!     <shape><ellipse major minor angle/></shape> (areas: semi-axes in m)
//!     <link uid relation type/>                  (deletes: the event removed)
//!     <__trilat level tlp rel_to further_sharing banner owner report version/>
//!     <remarks>BANNER — text</remarks>
//!   </detail>
//! </event>
//! ```
//!
//! `opex="e"` marks an exercise event (CoT's operations/exercise flag).

use std::io::Cursor;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use trilat_core::{Marking, Party, ReportId, Timestamp};

/// CoT's "unknown" circular and linear error (metres).
pub const ERROR_UNKNOWN_M: f64 = 9_999_999.0;
/// Longest `remarks` text written, in bytes (clipped on a character boundary).
pub const REMARKS_LEN_MAX: usize = 2_000;

/// Where the event is: WGS-84 latitude and longitude (degrees), height above
/// the ellipsoid, circular and linear error (metres).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Degrees north, in [-90, 90].
    pub lat: f64,
    /// Degrees east, in [-180, 180].
    pub lon: f64,
    /// Height above the WGS-84 ellipsoid (m).
    pub hae_m: f64,
    /// Circular error (m, 1 sigma as CoT intends; [`ERROR_UNKNOWN_M`] when unknown).
    pub ce_m: f64,
    /// Linear (vertical) error (m).
    pub le_m: f64,
}

impl Point {
    /// A point on the surface with a known circular error and no height.
    pub fn surface(lat: f64, lon: f64, ce_m: f64) -> Point {
        Point {
            lat,
            lon,
            hae_m: 0.0,
            ce_m,
            le_m: ERROR_UNKNOWN_M,
        }
    }
}

/// A mover's course (degrees clockwise from true north) and speed (m/s).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Track {
    /// Course over ground, [0, 360).
    pub course_deg: f64,
    /// Speed, m/s.
    pub speed_mps: f64,
}

/// An ellipse around the event's point: semi-axes in metres, the major
/// axis's bearing in degrees from true north (ATAK's `<shape><ellipse>`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ellipse {
    /// Semi-major axis (m).
    pub major_m: f64,
    /// Semi-minor axis (m).
    pub minor_m: f64,
    /// Bearing of the major axis (degrees).
    pub angle_deg: f64,
}

/// Where the event's content comes from and who may see it: carried in the
/// `<__trilat>` detail element and as the banner opening `<remarks>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// The marking the content carries (a report's, or the engines' for feed data).
    pub marking: Marking,
    /// The party that owns the content.
    pub owner: Party,
    /// The report and version, when the content is a report.
    pub report: Option<(ReportId, u64)>,
}

/// One CoT event, ready to write.
#[derive(Clone, Debug, PartialEq)]
pub struct CotEvent {
    /// Stable across updates of the same thing (a track, a vessel).
    pub uid: String,
    /// The CoT type, e.g. `a-h-A-W-M-B`.
    pub cot_type: String,
    /// How the position was obtained (`m-f` fused, `m-g` GPS, `h-e` human).
    pub how: &'static str,
    /// When the event was generated.
    pub time: Timestamp,
    /// When it starts to be valid (the observation time).
    pub start: Timestamp,
    /// When a client should consider it out of date.
    pub stale: Timestamp,
    /// Where.
    pub point: Point,
    /// The label a TAK client shows.
    pub callsign: String,
    /// Free text after the banner.
    pub remarks: String,
    /// Course and speed of a mover.
    pub track: Option<Track>,
    /// The area around the point (an impact ellipse).
    pub ellipse: Option<Ellipse>,
    /// For a delete (`t-x-d-d`): the uid and type removed.
    pub link: Option<(String, String)>,
    /// Marking and provenance.
    pub source: Source,
    /// Exercise content (`opex="e"`).
    pub exercise: bool,
}

/// The CoT type of a delete request: clients remove the linked uid.
pub const TYPE_DELETE: &str = "t-x-d-d";

impl CotEvent {
    /// The delete request for this event's uid (sent when its report is
    /// revoked): same uid space, stale one minute after `now`.
    pub fn delete_of(&self, now: Timestamp) -> CotEvent {
        CotEvent {
            uid: format!("{}.delete", self.uid),
            cot_type: TYPE_DELETE.to_string(),
            how: "m-g",
            time: now,
            start: now,
            stale: now.add_ms(60_000),
            link: Some((self.uid.clone(), self.cot_type.clone())),
            track: None,
            ellipse: None,
            remarks: format!("{} withdrawn", self.callsign),
            ..self.clone()
        }
    }

    /// The event as one XML document (no declaration: TAK streams events
    /// back to back). Bounded: remarks are clipped to [`REMARKS_LEN_MAX`].
    pub fn to_xml(&self) -> String {
        assert!(self.start <= self.stale, "stale before start");
        assert!(!self.uid.is_empty(), "an event needs a uid");
        let mut writer = Writer::new(Cursor::new(Vec::with_capacity(1024)));
        self.write(&mut writer)
            .expect("writing to memory does not fail");
        let xml = String::from_utf8(writer.into_inner().into_inner()).expect("written from &str");
        debug_assert!(xml.starts_with("<event "));
        xml
    }

    /// The event as a standalone document with an XML declaration.
    pub fn to_document(&self) -> String {
        let mut writer = Writer::new(Cursor::new(Vec::new()));
        writer
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .expect("memory");
        let mut doc = String::from_utf8(writer.into_inner().into_inner()).expect("ascii");
        doc.push_str(&self.to_xml());
        doc
    }

    fn write(&self, w: &mut Writer<Cursor<Vec<u8>>>) -> std::io::Result<()> {
        let (time, start, stale) = (
            self.time.to_string(),
            self.start.to_string(),
            self.stale.to_string(),
        );
        let mut event = BytesStart::new("event");
        event.extend_attributes([
            ("version", "2.0"),
            ("uid", self.uid.as_str()),
            ("type", self.cot_type.as_str()),
            ("how", self.how),
            ("time", time.as_str()),
            ("start", start.as_str()),
            ("stale", stale.as_str()),
        ]);
        if self.exercise {
            event.push_attribute(("opex", "e"));
        }
        w.write_event(Event::Start(event))?;
        let p = &self.point;
        empty(
            w,
            "point",
            &[
                ("lat", format!("{:.7}", p.lat)),
                ("lon", format!("{:.7}", p.lon)),
                ("hae", format!("{:.1}", p.hae_m)),
                ("ce", format!("{:.1}", p.ce_m)),
                ("le", format!("{:.1}", p.le_m)),
            ],
        )?;
        w.write_event(Event::Start(BytesStart::new("detail")))?;
        self.write_detail(w)?;
        w.write_event(Event::End(BytesEnd::new("detail")))?;
        w.write_event(Event::End(BytesEnd::new("event")))?;
        Ok(())
    }

    fn write_detail(&self, w: &mut Writer<Cursor<Vec<u8>>>) -> std::io::Result<()> {
        empty(w, "contact", &[("callsign", self.callsign.clone())])?;
        if let Some(track) = self.track {
            empty(
                w,
                "track",
                &[
                    ("course", format!("{:.1}", track.course_deg)),
                    ("speed", format!("{:.1}", track.speed_mps)),
                ],
            )?;
        }
        if let Some(ellipse) = self.ellipse {
            w.write_event(Event::Start(BytesStart::new("shape")))?;
            empty(
                w,
                "ellipse",
                &[
                    ("major", format!("{:.1}", ellipse.major_m)),
                    ("minor", format!("{:.1}", ellipse.minor_m)),
                    ("angle", format!("{:.1}", ellipse.angle_deg)),
                ],
            )?;
            w.write_event(Event::End(BytesEnd::new("shape")))?;
        }
        if let Some((uid, cot_type)) = &self.link {
            empty(
                w,
                "link",
                &[
                    ("uid", uid.clone()),
                    ("relation", "none".into()),
                    ("type", cot_type.clone()),
                ],
            )?;
            empty(w, "__forcedelete", &[])?;
        }
        let source = &self.source;
        let marking = &source.marking;
        let mut trilat = vec![
            ("level", marking.level.clone()),
            ("tlp", marking.tlp.to_string()),
            ("rel_to", marking.rel_to.join(",")),
            ("further_sharing", further_sharing(marking)),
            ("banner", marking.banner()),
            ("owner", source.owner.to_string()),
        ];
        if let Some((id, version)) = source.report {
            trilat.push(("report", id.to_string()));
            trilat.push(("version", version.to_string()));
        }
        empty(w, "__trilat", &trilat)?;
        let mut remarks = format!("{} — {}", marking.banner(), self.remarks);
        if self.exercise {
            remarks = format!("EXERCISE EXERCISE EXERCISE — {remarks}");
        }
        clip(&mut remarks, REMARKS_LEN_MAX);
        w.write_event(Event::Start(BytesStart::new("remarks")))?;
        w.write_event(Event::Text(BytesText::new(&remarks)))?;
        w.write_event(Event::End(BytesEnd::new("remarks")))?;
        Ok(())
    }
}

/// The further-sharing rule as the marking's JSON spells it.
fn further_sharing(marking: &Marking) -> String {
    serde_json::to_value(marking.further_sharing)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn empty(
    w: &mut Writer<Cursor<Vec<u8>>>,
    name: &str,
    attributes: &[(&str, String)],
) -> std::io::Result<()> {
    let mut element = BytesStart::new(name);
    for (key, value) in attributes {
        element.push_attribute((*key, value.as_str()));
    }
    w.write_event(Event::Empty(element))
}

/// Shortens `text` to at most `len_max` bytes on a character boundary.
pub(crate) fn clip(text: &mut String, len_max: usize) {
    if text.len() > len_max {
        let mut end = len_max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}
