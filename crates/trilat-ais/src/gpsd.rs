//! gpsd-compatible JSON rendering of any message type 1–27: field names as
//! gpsd's AIS JSON names them, scaled (`"scaled":true`) or raw
//! (`"scaled":false`) as gpsd scales them. Differences from gpsd, all
//! deliberate: "not available" sentinels are omitted instead of printed as
//! numbers; `*_text` descriptions and `device` are not emitted; binary
//! application payloads (types 6, 8, 25, 26) stay as `"data":"<bits>:<hex>"`
//! rather than decoded per DAC/FID; fields a short message does not carry
//! are omitted, not zeroed; type 22/23 corners are numbers, not strings.
//! Not the hot path: it allocates a JSON map per message.

use crate::bits::Bits;
use crate::message::Message;
use serde_json::{Map, Value};

#[derive(Clone, Copy, Debug)]
enum Kind {
    U,
    B,
    /// Six-bit text of this many characters.
    Text(u16),
    Turn,
    /// 1/10 knot, 1023 = n/a.
    Speed10,
    /// Integer knots, 1023 = n/a (type 9).
    SpeedKnots,
    /// 1/10 degree, 3600 = n/a.
    Course10,
    /// Degrees, 511 = n/a.
    Heading,
    /// 1/10,000 minute (28/27 bits).
    Lon4,
    Lat4,
    /// 1/10 minute (18/17 bits).
    Lon1,
    Lat1,
    /// Type 27 speed (knots, 63 = n/a) and course (degrees, 511 = n/a).
    Speed27,
    Course27,
    /// 1/10 metre, 0 = n/a.
    Draught,
    /// UTC second, 60+ = n/a.
    Second,
    /// Metres, 4095 = n/a.
    Altitude,
    /// 0 = n/a.
    Imo,
    /// Type 4/11 UTC date-time starting here.
    Stamp,
    /// Type 5 ETA starting here.
    Eta,
    /// Binary payload from here to the end minus this many trailing bits.
    Data(u16),
}

use Kind::*;

type Spec = (&'static str, u16, u16, Kind);

const POS_A: &[Spec] = &[
    ("status", 38, 4, U),
    ("turn", 42, 8, Turn),
    ("speed", 50, 10, Speed10),
    ("accuracy", 60, 1, B),
    ("lon", 61, 28, Lon4),
    ("lat", 89, 27, Lat4),
    ("course", 116, 12, Course10),
    ("heading", 128, 9, Heading),
    ("second", 137, 6, Second),
    ("maneuver", 143, 2, U),
    ("raim", 148, 1, B),
    ("radio", 149, 19, U),
];
const BASE: &[Spec] = &[
    ("timestamp", 38, 40, Stamp),
    ("accuracy", 78, 1, B),
    ("lon", 79, 28, Lon4),
    ("lat", 107, 27, Lat4),
    ("epfd", 134, 4, U),
    ("raim", 148, 1, B),
    ("radio", 149, 19, U),
];
const STATIC_VOYAGE: &[Spec] = &[
    ("ais_version", 38, 2, U),
    ("imo", 40, 30, Imo),
    ("callsign", 70, 42, Text(7)),
    ("shipname", 112, 120, Text(20)),
    ("shiptype", 232, 8, U),
    ("to_bow", 240, 9, U),
    ("to_stern", 249, 9, U),
    ("to_port", 258, 6, U),
    ("to_starboard", 264, 6, U),
    ("epfd", 270, 4, U),
    ("eta", 274, 20, Eta),
    ("draught", 294, 8, Draught),
    ("destination", 302, 120, Text(20)),
    ("dte", 422, 1, U),
];
const BINARY_ADDRESSED: &[Spec] = &[
    ("seqno", 38, 2, U),
    ("dest_mmsi", 40, 30, U),
    ("retransmit", 70, 1, B),
    ("dac", 72, 10, U),
    ("fid", 82, 6, U),
    ("data", 88, 0, Data(0)),
];
const ACK: &[Spec] = &[
    ("mmsi1", 40, 30, U),
    ("mmsi2", 72, 30, U),
    ("mmsi3", 104, 30, U),
    ("mmsi4", 136, 30, U),
];
const BINARY_BROADCAST: &[Spec] = &[
    ("dac", 40, 10, U),
    ("fid", 50, 6, U),
    ("data", 56, 0, Data(0)),
];
const SAR: &[Spec] = &[
    ("alt", 38, 12, Altitude),
    ("speed", 50, 10, SpeedKnots),
    ("accuracy", 60, 1, B),
    ("lon", 61, 28, Lon4),
    ("lat", 89, 27, Lat4),
    ("course", 116, 12, Course10),
    ("second", 128, 6, Second),
    ("regional", 134, 8, U),
    ("dte", 142, 1, U),
    ("assigned", 146, 1, B),
    ("raim", 147, 1, B),
    ("radio", 148, 20, U),
];
const UTC_INQUIRY: &[Spec] = &[("dest_mmsi", 40, 30, U)];
const SAFETY_ADDRESSED: &[Spec] = &[
    ("seqno", 38, 2, U),
    ("dest_mmsi", 40, 30, U),
    ("retransmit", 70, 1, B),
    ("text", 72, 936, Text(156)),
];
const SAFETY_BROADCAST: &[Spec] = &[("text", 40, 966, Text(161))];
const INTERROGATION: &[Spec] = &[
    ("mmsi1", 40, 30, U),
    ("type1_1", 70, 6, U),
    ("offset1_1", 76, 12, U),
    ("type1_2", 90, 6, U),
    ("offset1_2", 96, 12, U),
    ("mmsi2", 110, 30, U),
    ("type2_1", 140, 6, U),
    ("offset2_1", 146, 12, U),
];
const ASSIGNED_MODE: &[Spec] = &[
    ("mmsi1", 40, 30, U),
    ("offset1", 70, 12, U),
    ("increment1", 82, 10, U),
    ("mmsi2", 92, 30, U),
    ("offset2", 122, 12, U),
    ("increment2", 134, 10, U),
];
const DGNSS: &[Spec] = &[
    ("lon", 40, 18, Lon1),
    ("lat", 58, 17, Lat1),
    ("data", 80, 0, Data(0)),
];
const POS_B: &[Spec] = &[
    ("reserved", 38, 8, U),
    ("speed", 46, 10, Speed10),
    ("accuracy", 56, 1, B),
    ("lon", 57, 28, Lon4),
    ("lat", 85, 27, Lat4),
    ("course", 112, 12, Course10),
    ("heading", 124, 9, Heading),
    ("second", 133, 6, Second),
    ("regional", 139, 2, U),
    ("cs", 141, 1, B),
    ("display", 142, 1, B),
    ("dsc", 143, 1, B),
    ("band", 144, 1, B),
    ("msg22", 145, 1, B),
    ("assigned", 146, 1, B),
    ("raim", 147, 1, B),
    ("radio", 148, 20, U),
];
const POS_B_EXT: &[Spec] = &[
    ("reserved", 38, 8, U),
    ("speed", 46, 10, Speed10),
    ("accuracy", 56, 1, B),
    ("lon", 57, 28, Lon4),
    ("lat", 85, 27, Lat4),
    ("course", 112, 12, Course10),
    ("heading", 124, 9, Heading),
    ("second", 133, 6, Second),
    ("regional", 139, 4, U),
    ("shipname", 143, 120, Text(20)),
    ("shiptype", 263, 8, U),
    ("to_bow", 271, 9, U),
    ("to_stern", 280, 9, U),
    ("to_port", 289, 6, U),
    ("to_starboard", 295, 6, U),
    ("epfd", 301, 4, U),
    ("raim", 305, 1, B),
    ("dte", 306, 1, U),
    ("assigned", 307, 1, B),
];
const DATALINK: &[Spec] = &[
    ("offset1", 40, 12, U),
    ("number1", 52, 4, U),
    ("timeout1", 56, 3, U),
    ("increment1", 59, 11, U),
    ("offset2", 70, 12, U),
    ("number2", 82, 4, U),
    ("timeout2", 86, 3, U),
    ("increment2", 89, 11, U),
    ("offset3", 100, 12, U),
    ("number3", 112, 4, U),
    ("timeout3", 116, 3, U),
    ("increment3", 119, 11, U),
    ("offset4", 130, 12, U),
    ("number4", 142, 4, U),
    ("timeout4", 146, 3, U),
    ("increment4", 149, 11, U),
];
const ATON: &[Spec] = &[
    ("aid_type", 38, 5, U),
    ("accuracy", 163, 1, B),
    ("lon", 164, 28, Lon4),
    ("lat", 192, 27, Lat4),
    ("to_bow", 219, 9, U),
    ("to_stern", 228, 9, U),
    ("to_port", 237, 6, U),
    ("to_starboard", 243, 6, U),
    ("epfd", 249, 4, U),
    ("second", 253, 6, Second),
    ("off_position", 259, 1, B),
    ("regional", 260, 8, U),
    ("raim", 268, 1, B),
    ("virtual_aid", 269, 1, B),
    ("assigned", 270, 1, B),
];
const CHANNEL_HEAD: &[Spec] = &[
    ("channel_a", 40, 12, U),
    ("channel_b", 52, 12, U),
    ("txrx", 64, 4, U),
    ("power", 68, 1, B),
];
const CHANNEL_ADDRESSED: &[Spec] = &[("dest1", 69, 30, U), ("dest2", 104, 30, U)];
const CHANNEL_AREA: &[Spec] = &[
    ("ne_lon", 69, 18, Lon1),
    ("ne_lat", 87, 17, Lat1),
    ("sw_lon", 104, 18, Lon1),
    ("sw_lat", 122, 17, Lat1),
];
const CHANNEL_TAIL: &[Spec] = &[
    ("addressed", 139, 1, B),
    ("band_a", 140, 1, B),
    ("band_b", 141, 1, B),
    ("zonesize", 142, 3, U),
];
const GROUP_ASSIGNMENT: &[Spec] = &[
    ("ne_lon", 40, 18, Lon1),
    ("ne_lat", 58, 17, Lat1),
    ("sw_lon", 75, 18, Lon1),
    ("sw_lat", 93, 17, Lat1),
    ("stationtype", 110, 4, U),
    ("shiptype", 114, 8, U),
    ("txrx", 144, 2, U),
    ("interval", 146, 4, U),
    ("quiet", 150, 4, U),
];
const STATIC_A: &[Spec] = &[("partno", 38, 2, U), ("shipname", 40, 120, Text(20))];
const STATIC_B: &[Spec] = &[
    ("partno", 38, 2, U),
    ("shiptype", 40, 8, U),
    ("vendorid", 48, 42, Text(7)),
    ("model", 66, 4, U),
    ("serial", 70, 20, U),
    ("callsign", 90, 42, Text(7)),
];
const STATIC_B_DIMS: &[Spec] = &[
    ("to_bow", 132, 9, U),
    ("to_stern", 141, 9, U),
    ("to_port", 150, 6, U),
    ("to_starboard", 156, 6, U),
];
const STATIC_B_MOTHERSHIP: &[Spec] = &[("mothership_mmsi", 132, 30, U)];
const LONG_RANGE: &[Spec] = &[
    ("accuracy", 38, 1, B),
    ("raim", 39, 1, B),
    ("status", 40, 4, U),
    ("lon", 44, 18, Lon1),
    ("lat", 62, 17, Lat1),
    ("speed", 79, 6, Speed27),
    ("course", 85, 9, Course27),
    ("gnss", 94, 1, B),
];

/// Renders a message as gpsd's AIS JSON object.
pub fn to_gpsd_json(message: &Message<'_>, scaled: bool) -> Map<String, Value> {
    let bits = message.bits();
    let mut out = Map::new();
    out.insert("class".into(), "AIS".into());
    out.insert("type".into(), message.msg_type().into());
    out.insert("repeat".into(), message.repeat().into());
    out.insert("mmsi".into(), message.mmsi().into());
    out.insert("scaled".into(), scaled.into());
    let mut put = |specs: &[Spec]| render(bits, specs, scaled, &mut out);
    match message.msg_type() {
        1..=3 => put(POS_A),
        4 | 11 => put(BASE),
        5 => put(STATIC_VOYAGE),
        6 => put(BINARY_ADDRESSED),
        7 | 13 => put(ACK),
        8 => put(BINARY_BROADCAST),
        9 => put(SAR),
        10 => put(UTC_INQUIRY),
        12 => put(SAFETY_ADDRESSED),
        14 => put(SAFETY_BROADCAST),
        15 => put(INTERROGATION),
        // ITU-R M.1371: 96 bits carry one assignment, 144 bits two.
        16 if bits.len() < 144 => put(&ASSIGNED_MODE[..3]),
        16 => put(ASSIGNED_MODE),
        17 => put(DGNSS),
        18 => put(POS_B),
        19 => put(POS_B_EXT),
        20 => put(DATALINK),
        21 => {
            put(ATON);
            let mut name = bits.text(43, 20);
            if bits.len() > 272 && name.len() == 20 {
                name.push_str(&bits.text(272, (bits.len() - 272) / 6));
            }
            out.insert("name".into(), name.into());
        }
        22 => {
            put(CHANNEL_HEAD);
            put(if bits.b(139) {
                CHANNEL_ADDRESSED
            } else {
                CHANNEL_AREA
            });
            put(CHANNEL_TAIL);
        }
        23 => put(GROUP_ASSIGNMENT),
        24 => match bits.u(38, 2) {
            0 => put(STATIC_A),
            _ => {
                put(STATIC_B);
                put(if message.mmsi() / 10_000_000 == 98 {
                    STATIC_B_MOTHERSHIP
                } else {
                    STATIC_B_DIMS
                });
            }
        },
        25 | 26 => {
            render_radio_binary(message.msg_type(), bits, &mut out);
        }
        27 => put(LONG_RANGE),
        _ => {}
    }
    out
}

/// Types 25 and 26: layout depends on the addressed and structured flags.
fn render_radio_binary(msg_type: u8, bits: &Bits, out: &mut Map<String, Value>) {
    let addressed = bits.b(38);
    let structured = bits.b(39);
    out.insert("addressed".into(), addressed.into());
    out.insert("structured".into(), structured.into());
    let mut at = 40;
    if addressed {
        out.insert("dest_mmsi".into(), bits.u(40, 30).into());
        at += 30;
    }
    if structured {
        out.insert("app_id".into(), bits.u(at, 16).into());
        at += 16;
    }
    let radio_bits = if msg_type == 26 { 20 } else { 0 };
    let end = bits.len().saturating_sub(radio_bits);
    out.insert("data".into(), bits.data_hex(at, end.max(at)).into());
    if msg_type == 26 && bits.len() >= at + 20 {
        out.insert("radio".into(), bits.u(bits.len() - 20, 20).into());
    }
}

fn render(bits: &Bits, specs: &[Spec], scaled: bool, out: &mut Map<String, Value>) {
    for &(name, start, width, kind) in specs {
        let (start, width) = (usize::from(start), usize::from(width));
        debug_assert!(width <= 32 || matches!(kind, Text(_) | Stamp | Data(_)));
        // Fields the message does not reach are omitted; a field cut short
        // by the message's end reads its missing low bits as zeros.
        if bits.len() <= start {
            continue;
        }
        if let Some(v) = field_value(bits, start, width, kind, scaled) {
            out.insert(name.into(), v);
        }
    }
}

fn field_value(bits: &Bits, start: usize, width: usize, kind: Kind, scaled: bool) -> Option<Value> {
    let u = || bits.u(start, width);
    let i = || bits.i(start, width);
    let num = |raw: i64, scale: f64| -> Value {
        if scaled {
            serde_json::Number::from_f64(raw as f64 / scale).map_or(Value::Null, Value::Number)
        } else {
            raw.into()
        }
    };
    Some(match kind {
        U => u().into(),
        B => (u() == 1).into(),
        Text(chars) => bits.text(start, usize::from(chars)).into(),
        Turn => {
            let raw = i();
            match (raw, scaled) {
                (-128, _) => return None,
                (_, false) => raw.into(),
                (-127, true) => "fastleft".into(),
                (127, true) => "fastright".into(),
                (_, true) => {
                    let rot = (f64::from(raw) / 4.733).powi(2);
                    format!("{:.2}", if raw < 0 { -rot } else { rot }).into()
                }
            }
        }
        Speed10 => match u() {
            1023 => return None,
            raw => num(raw.into(), 10.0),
        },
        SpeedKnots => match u() {
            1023 => return None,
            raw => raw.into(),
        },
        Course10 => match u() {
            raw if raw >= 3600 => return None,
            raw => num(raw.into(), 10.0),
        },
        Heading => match u() {
            raw if raw >= 360 => return None,
            raw => raw.into(),
        },
        Lon4 | Lat4 => {
            let raw = i();
            let limit = if matches!(kind, Lon4) { 180 } else { 90 } * 600_000;
            if raw.abs() > limit {
                return None;
            }
            num(raw.into(), 600_000.0)
        }
        Lon1 | Lat1 => {
            let raw = i();
            let limit = if matches!(kind, Lon1) { 180 } else { 90 } * 600;
            if raw.abs() > limit {
                return None;
            }
            num(raw.into(), 600.0)
        }
        Speed27 => match u() {
            63 => return None,
            raw => raw.into(),
        },
        Course27 => match u() {
            raw if raw >= 360 => return None,
            raw => raw.into(),
        },
        Draught => match u() {
            0 => return None,
            raw => num(raw.into(), 10.0),
        },
        Second => match u() {
            raw if raw >= 60 => return None,
            raw => raw.into(),
        },
        Altitude => match u() {
            4095 => return None,
            raw => raw.into(),
        },
        Kind::Imo => match u() {
            0 => return None,
            raw => raw.into(),
        },
        Stamp => {
            let (y, mo, d) = (
                bits.u(start, 14),
                bits.u(start + 14, 4),
                bits.u(start + 18, 5),
            );
            let (h, mi, s) = (
                bits.u(start + 23, 5),
                bits.u(start + 28, 6),
                bits.u(start + 34, 6),
            );
            if y == 0 || mo == 0 || mo > 12 || d == 0 || h > 23 || mi > 59 || s > 59 {
                return None;
            }
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z").into()
        }
        Eta => {
            let (mo, d) = (bits.u(start, 4), bits.u(start + 4, 5));
            let (h, mi) = (bits.u(start + 9, 5), bits.u(start + 14, 6));
            if mo == 0 || mo > 12 || d == 0 || h > 23 || mi > 59 {
                return None;
            }
            format!("{mo:02}-{d:02}T{h:02}:{mi:02}Z").into()
        }
        Data(trailing) => {
            let end = bits.len().saturating_sub(usize::from(trailing));
            bits.data_hex(start, end.max(start)).into()
        }
    })
}
