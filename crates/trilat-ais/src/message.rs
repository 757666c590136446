//! A decoded AIS message: a typed view over its bits. Fields are read on
//! demand, so decoding a position costs only the fields asked for. Sentinel
//! values ("not available": lat 91, lon 181, speed 102.3, course 360,
//! heading 511 …) come out as `None`, never as numbers.

use crate::bits::Bits;
use crate::nmea::StationName;

/// Where and when a message was received.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageMeta {
    /// Line number (1-based, as counted by the decoder) of the last sentence.
    pub line: u64,
    /// NMEA talker ID.
    pub talker: [u8; 2],
    /// True for `VDO` (the receiver's own ship).
    pub own_ship: bool,
    /// Radio channel character, 0 when absent.
    pub channel: u8,
    /// Tag-block source station, empty when absent.
    pub source: StationName,
    /// Receive time (tag block `c:`, else receiver prefix/suffix), ms since
    /// the Unix epoch.
    pub time_unix_ms: Option<i64>,
}

/// Fixed-capacity ASCII text decoded from six-bit characters (no allocation).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AisText<const N: usize> {
    bytes: [u8; N],
    len: u8,
}

impl<const N: usize> AisText<N> {
    fn read(bits: &Bits, start: usize, chars: usize) -> Option<Self> {
        let mut t = AisText {
            bytes: [0; N],
            len: 0,
        };
        let n = bits.text_into(start, chars.min(N), &mut t.bytes);
        t.len = n as u8;
        (n > 0).then_some(t)
    }

    /// Builds from a string, keeping at most `N` bytes of ASCII.
    pub fn from_str_lossy(s: &str) -> Self {
        let mut t = AisText {
            bytes: [0; N],
            len: 0,
        };
        for b in s.bytes().filter(u8::is_ascii).take(N) {
            t.bytes[usize::from(t.len)] = b;
            t.len += 1;
        }
        t
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl<const N: usize> std::fmt::Debug for AisText<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl<const N: usize> std::fmt::Display for AisText<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Class of the transmitting station, from the message type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StationClass {
    /// Class A shipborne (types 1, 2, 3, 5, 27).
    A,
    /// Class B shipborne (types 18, 19, 24).
    B,
    /// Search-and-rescue aircraft (type 9).
    SarAircraft,
}

/// A position report (types 1, 2, 3, 9, 18, 19, 27), scaled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    /// Latitude in degrees, `None` when not available (91) or out of range.
    pub lat: Option<f64>,
    /// Longitude in degrees, `None` when not available (181) or out of range.
    pub lon: Option<f64>,
    /// Speed over ground in knots.
    pub speed_knots: Option<f32>,
    /// Course over ground in degrees.
    pub course_deg: Option<f32>,
    /// True heading in degrees.
    pub heading_deg: Option<u16>,
    /// Navigational status (0 under way using engine … 15 undefined).
    pub status: Option<u8>,
    /// UTC second of the fix.
    pub second: Option<u8>,
    /// Position accuracy flag (true: ≤ 10 m).
    pub accuracy: bool,
    /// Who sent it.
    pub class: StationClass,
}

impl Position {
    /// Latitude and longitude when both are available.
    pub fn lat_lon(&self) -> Option<(f64, f64)> {
        Some((self.lat?, self.lon?))
    }
}

/// Static and voyage data (types 5, 19, 24 A/B): only the parts present.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StaticData {
    /// IMO number (type 5), `None` when 0.
    pub imo: Option<u32>,
    /// Call sign.
    pub callsign: Option<AisText<7>>,
    /// Vessel name.
    pub shipname: Option<AisText<20>>,
    /// Ship and cargo type (0 not available, 80–89 tanker …).
    pub shiptype: Option<u8>,
    /// Destination (type 5).
    pub destination: Option<AisText<20>>,
    /// Draught in metres (type 5), `None` when 0.
    pub draught_m: Option<f32>,
    /// Length in metres (bow + stern), `None` when unknown.
    pub length_m: Option<u16>,
    /// Beam in metres (port + starboard), `None` when unknown.
    pub beam_m: Option<u16>,
}

/// A decoded message, borrowing the decoder's buffer until the next line.
#[derive(Clone, Copy)]
pub struct Message<'a> {
    bits: &'a Bits,
    meta: &'a MessageMeta,
}

impl std::fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("type", &self.msg_type())
            .field("mmsi", &self.mmsi())
            .finish()
    }
}

/// Smallest acceptable bit length for each message type (ITU-R M.1371),
/// with tolerance for common short transmissions; `None` for types that do
/// not exist (0, 28–63).
pub(crate) fn min_bits(msg_type: u8, bits: &Bits) -> Option<usize> {
    Some(match msg_type {
        1..=3 | 4 | 11 | 9 | 18 => 163,
        5 => 420,
        6 => 88,
        7 | 13 => 72,
        8 => 56,
        10 => 72,
        12 => 72,
        14 => 40,
        15 => 88,
        16 => 96,
        17 => 80,
        19 => 312,
        20 => 72,
        21 => 272,
        22 => 168,
        23 => 160,
        // Part A's 160 bits are often sent as 168 or with wrong fill bits:
        // accept any length carrying a part number and some name.
        24 => {
            if bits.u(38, 2) == 0 {
                46
            } else {
                162
            }
        }
        25 => 40,
        26 => 60,
        27 => 96,
        _ => return None,
    })
}

impl<'a> Message<'a> {
    pub(crate) fn new(bits: &'a Bits, meta: &'a MessageMeta) -> Self {
        Message { bits, meta }
    }

    /// The raw bits (for field access beyond the typed views).
    pub fn bits(&self) -> &'a Bits {
        self.bits
    }

    /// Reception metadata.
    pub fn meta(&self) -> &'a MessageMeta {
        self.meta
    }

    /// Message type, 1..=27.
    pub fn msg_type(&self) -> u8 {
        self.bits.u(0, 6) as u8
    }

    /// Repeat indicator.
    pub fn repeat(&self) -> u8 {
        self.bits.u(6, 2) as u8
    }

    /// Source MMSI.
    pub fn mmsi(&self) -> u32 {
        self.bits.u(8, 30)
    }

    /// For type 24: 0 for part A, 1 for part B.
    pub fn part_number(&self) -> Option<u8> {
        (self.msg_type() == 24).then(|| self.bits.u(38, 2) as u8)
    }

    /// The position of a vessel or SAR aircraft report, else `None`.
    pub fn position(&self) -> Option<Position> {
        let b = self.bits;
        match self.msg_type() {
            1..=3 => Some(Position {
                lat: lat_1_10000min(b.i(89, 27)),
                lon: lon_1_10000min(b.i(61, 28)),
                speed_knots: speed_tenths(b.u(50, 10)),
                course_deg: course_tenths(b.u(116, 12)),
                heading_deg: heading(b.u(128, 9)),
                status: Some(b.u(38, 4) as u8),
                second: second(b.u(137, 6)),
                accuracy: b.b(60),
                class: StationClass::A,
            }),
            18 | 19 => Some(Position {
                lat: lat_1_10000min(b.i(85, 27)),
                lon: lon_1_10000min(b.i(57, 28)),
                speed_knots: speed_tenths(b.u(46, 10)),
                course_deg: course_tenths(b.u(112, 12)),
                heading_deg: heading(b.u(124, 9)),
                status: None,
                second: second(b.u(133, 6)),
                accuracy: b.b(56),
                class: StationClass::B,
            }),
            9 => Some(Position {
                lat: lat_1_10000min(b.i(89, 27)),
                lon: lon_1_10000min(b.i(61, 28)),
                speed_knots: match b.u(50, 10) {
                    1023 => None,
                    v => Some(v as f32),
                },
                course_deg: course_tenths(b.u(116, 12)),
                heading_deg: None,
                status: None,
                second: second(b.u(128, 6)),
                accuracy: b.b(60),
                class: StationClass::SarAircraft,
            }),
            27 => {
                let lon = b.i(44, 18);
                let lat = b.i(62, 17);
                Some(Position {
                    lat: (lat != 91 * 600 && lat.abs() <= 90 * 600).then(|| f64::from(lat) / 600.0),
                    lon: (lon != 181 * 600 && lon.abs() <= 180 * 600)
                        .then(|| f64::from(lon) / 600.0),
                    speed_knots: match b.u(79, 6) {
                        63 => None,
                        v => Some(v as f32),
                    },
                    course_deg: match b.u(85, 9) {
                        v if v >= 360 => None,
                        v => Some(v as f32),
                    },
                    heading_deg: None,
                    status: Some(b.u(40, 4) as u8),
                    second: None,
                    accuracy: b.b(38),
                    class: StationClass::A,
                })
            }
            _ => None,
        }
    }

    /// Static data of a type 5, 19 or 24 message, else `None`.
    pub fn static_data(&self) -> Option<StaticData> {
        let b = self.bits;
        let dims = |at: usize| {
            let (bow, stern, port, stbd) =
                (b.u(at, 9), b.u(at + 9, 9), b.u(at + 18, 6), b.u(at + 24, 6));
            let length = (bow + stern > 0).then_some((bow + stern) as u16);
            let beam = (port + stbd > 0).then_some((port + stbd) as u16);
            (length, beam)
        };
        match self.msg_type() {
            5 => {
                let (length_m, beam_m) = dims(240);
                Some(StaticData {
                    imo: nonzero(b.u(40, 30)),
                    callsign: AisText::read(b, 70, 7),
                    shipname: AisText::read(b, 112, 20),
                    shiptype: nonzero(b.u(232, 8)).map(|v| v as u8),
                    destination: AisText::read(b, 302, 20),
                    draught_m: nonzero(b.u(294, 8)).map(|v| v as f32 / 10.0),
                    length_m,
                    beam_m,
                })
            }
            19 => {
                let (length_m, beam_m) = dims(271);
                Some(StaticData {
                    shipname: AisText::read(b, 143, 20),
                    shiptype: nonzero(b.u(263, 8)).map(|v| v as u8),
                    length_m,
                    beam_m,
                    ..StaticData::default()
                })
            }
            24 if b.u(38, 2) == 0 => Some(StaticData {
                shipname: AisText::read(b, 40, 20),
                ..StaticData::default()
            }),
            24 if b.u(38, 2) == 1 => {
                // An auxiliary craft (MMSI 98xxxxxxx) carries its mothership's
                // MMSI where others carry dimensions.
                let auxiliary = self.mmsi() / 10_000_000 == 98;
                let (length_m, beam_m) = if auxiliary { (None, None) } else { dims(132) };
                Some(StaticData {
                    shiptype: nonzero(b.u(40, 8)).map(|v| v as u8),
                    callsign: AisText::read(b, 90, 7),
                    length_m,
                    beam_m,
                    ..StaticData::default()
                })
            }
            _ => None,
        }
    }
}

fn nonzero(v: u32) -> Option<u32> {
    (v != 0).then_some(v)
}

/// Latitude in 1/10,000 minute; 91° means not available.
#[inline]
pub(crate) fn lat_1_10000min(raw: i32) -> Option<f64> {
    (raw.abs() <= 90 * 600_000).then(|| f64::from(raw) / 600_000.0)
}

/// Longitude in 1/10,000 minute; 181° means not available.
#[inline]
pub(crate) fn lon_1_10000min(raw: i32) -> Option<f64> {
    (raw.abs() <= 180 * 600_000).then(|| f64::from(raw) / 600_000.0)
}

/// Speed in 1/10 knot; 1023 not available, 1022 means ≥ 102.2 knots.
#[inline]
pub(crate) fn speed_tenths(raw: u32) -> Option<f32> {
    (raw < 1023).then(|| raw as f32 / 10.0)
}

/// Course in 1/10 degree; 3600 not available, above is invalid.
#[inline]
pub(crate) fn course_tenths(raw: u32) -> Option<f32> {
    (raw < 3600).then(|| raw as f32 / 10.0)
}

/// Heading in degrees; 511 not available, 360–510 invalid.
#[inline]
pub(crate) fn heading(raw: u32) -> Option<u16> {
    (raw < 360).then_some(raw as u16)
}

/// UTC second; 60 not available, 61–63 are positioning-system states.
#[inline]
pub(crate) fn second(raw: u32) -> Option<u8> {
    (raw < 60).then_some(raw as u8)
}
