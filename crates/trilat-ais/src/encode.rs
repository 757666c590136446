//! The project's own AIS encoder: fields → bits → armoured payload →
//! NMEA sentences (split into fragments, checksummed, optional tag block).
//! Used for synthetic traffic and the demo; round-trip tested against the
//! decoder.

/// Longest payload per sentence (keeps sentences under 82 characters).
const FRAGMENT_CHARS_MAX: usize = 60;
const SIXBIT_TEXT: &[u8; 64] =
    b"@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?";

/// Accumulates message bits, most significant first.
#[derive(Clone, Debug, Default)]
pub struct BitWriter {
    bits: Vec<bool>,
}

impl BitWriter {
    /// Appends the low `width` bits of `v`.
    pub fn u(&mut self, v: u64, width: usize) -> &mut Self {
        debug_assert!(width <= 64);
        for i in (0..width).rev() {
            self.bits.push((v >> i) & 1 == 1);
        }
        self
    }

    /// Appends a two's-complement signed value in `width` bits.
    pub fn i(&mut self, v: i64, width: usize) -> &mut Self {
        let mask = if width == 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        self.u((v as u64) & mask, width)
    }

    /// Appends six-bit text padded with `@` to `chars` characters
    /// (lowercase is upper-cased; characters outside the alphabet become `?`).
    pub fn text(&mut self, s: &str, chars: usize) -> &mut Self {
        let mut n = 0;
        for c in s.bytes().map(|c| c.to_ascii_uppercase()).take(chars) {
            let code = SIXBIT_TEXT.iter().position(|&t| t == c).unwrap_or(63);
            self.u(code as u64, 6);
            n += 1;
        }
        for _ in n..chars {
            self.u(0, 6);
        }
        self
    }

    /// Number of bits so far.
    pub fn len(&self) -> usize {
        self.bits.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// The armoured payload and its fill bits.
    pub fn armor(&self) -> (String, u8) {
        let fill = (6 - self.bits.len() % 6) % 6;
        let mut out = String::with_capacity(self.bits.len() / 6 + 1);
        for chunk in self.bits.chunks(6) {
            let mut v = 0u8;
            for k in 0..6 {
                v = (v << 1) | u8::from(chunk.get(k).copied().unwrap_or(false));
            }
            out.push(char::from(if v < 40 { v + 48 } else { v + 56 }));
        }
        (out, fill as u8)
    }
}

/// Position report fields (type 1 or 18), in natural units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PositionFields {
    /// MMSI.
    pub mmsi: u32,
    /// Latitude, degrees (None: not available).
    pub lat: Option<f64>,
    /// Longitude, degrees.
    pub lon: Option<f64>,
    /// Speed, knots.
    pub speed_knots: Option<f32>,
    /// Course, degrees.
    pub course_deg: Option<f32>,
    /// Heading, degrees.
    pub heading_deg: Option<u16>,
    /// Navigational status (class A).
    pub status: u8,
    /// UTC second.
    pub second: Option<u8>,
    /// Class B (type 18) instead of class A (type 1).
    pub class_b: bool,
}

fn lat_raw(v: Option<f64>) -> i64 {
    v.map_or(91 * 600_000, |d| (d * 600_000.0).round() as i64)
}

fn lon_raw(v: Option<f64>) -> i64 {
    v.map_or(181 * 600_000, |d| (d * 600_000.0).round() as i64)
}

/// Encodes a type 1 (class A) or type 18 (class B) position report.
pub fn encode_position(p: &PositionFields) -> BitWriter {
    let mut w = BitWriter::default();
    let speed = p
        .speed_knots
        .map_or(1023, |s| ((f64::from(s) * 10.0).round() as u64).min(1022));
    let course = p
        .course_deg
        .map_or(3600, |c| ((f64::from(c) * 10.0).round() as u64).min(3599));
    let heading = p.heading_deg.map_or(511, |h| u64::from(h.min(359)));
    let second = p.second.map_or(60, |s| u64::from(s.min(59)));
    if p.class_b {
        w.u(18, 6)
            .u(0, 2)
            .u(u64::from(p.mmsi), 30)
            .u(0, 8)
            .u(speed, 10)
            .u(0, 1);
        w.i(lon_raw(p.lon), 28)
            .i(lat_raw(p.lat), 27)
            .u(course, 12)
            .u(heading, 9)
            .u(second, 6);
        w.u(0, 2)
            .u(1, 1)
            .u(0, 1)
            .u(1, 1)
            .u(1, 1)
            .u(1, 1)
            .u(0, 1)
            .u(0, 1)
            .u(0, 20);
    } else {
        w.u(1, 6)
            .u(0, 2)
            .u(u64::from(p.mmsi), 30)
            .u(u64::from(p.status & 15), 4)
            .i(-128, 8)
            .u(speed, 10)
            .u(0, 1);
        w.i(lon_raw(p.lon), 28)
            .i(lat_raw(p.lat), 27)
            .u(course, 12)
            .u(heading, 9)
            .u(second, 6);
        w.u(0, 2).u(0, 3).u(0, 1).u(0, 19);
    }
    debug_assert_eq!(w.len(), 168);
    w
}

/// Static and voyage data fields (type 5).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct StaticFields {
    /// MMSI.
    pub mmsi: u32,
    /// IMO number (0: not available).
    pub imo: u32,
    /// Call sign (≤ 7 characters).
    pub callsign: String,
    /// Name (≤ 20 characters).
    pub shipname: String,
    /// Ship and cargo type.
    pub shiptype: u8,
    /// Length, metres (split as bow/stern halves).
    pub length_m: u16,
    /// Beam, metres.
    pub beam_m: u16,
    /// Draught, metres.
    pub draught_m: f32,
    /// Destination (≤ 20 characters).
    pub destination: String,
}

/// Encodes a type 5 message (424 bits, two sentences).
pub fn encode_static(s: &StaticFields) -> BitWriter {
    let mut w = BitWriter::default();
    w.u(5, 6)
        .u(0, 2)
        .u(u64::from(s.mmsi), 30)
        .u(0, 2)
        .u(u64::from(s.imo), 30);
    w.text(&s.callsign, 7)
        .text(&s.shipname, 20)
        .u(u64::from(s.shiptype), 8);
    let (bow, stern) = (
        u64::from(s.length_m / 2).min(511),
        u64::from(s.length_m - s.length_m / 2).min(511),
    );
    let (port, stbd) = (
        u64::from(s.beam_m / 2).min(63),
        u64::from(s.beam_m - s.beam_m / 2).min(63),
    );
    w.u(bow, 9).u(stern, 9).u(port, 6).u(stbd, 6).u(1, 4);
    w.u(0, 4).u(0, 5).u(24, 5).u(60, 6);
    w.u(((f64::from(s.draught_m) * 10.0).round() as u64).min(255), 8);
    w.text(&s.destination, 20).u(0, 1).u(0, 1);
    debug_assert_eq!(w.len(), 424);
    w
}

/// NMEA sentences for one message: `!AIVDM` fragments on `channel`, with
/// sequence id `seq_id` when split, each behind a tag block when `source`
/// or `time_unix_s` is given.
pub fn sentences(
    w: &BitWriter,
    channel: char,
    seq_id: u8,
    source: Option<&str>,
    time_unix_s: Option<i64>,
) -> Vec<String> {
    let (payload, fill) = w.armor();
    let chunks: Vec<&str> = payload
        .as_bytes()
        .chunks(FRAGMENT_CHARS_MAX)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    let total = chunks.len();
    debug_assert!((1..=9).contains(&total));
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let last_fill = if i + 1 == total { fill } else { 0 };
            let seq = if total > 1 {
                (seq_id % 10).to_string()
            } else {
                String::new()
            };
            let body = format!(
                "AIVDM,{total},{},{seq},{channel},{chunk},{last_fill}",
                i + 1
            );
            let sentence = format!("!{body}*{:02X}", crate::nmea::xor(body.as_bytes()));
            let mut tags = Vec::new();
            if total > 1 {
                tags.push(format!("g:{}-{total}-{}", i + 1, u32::from(seq_id) + 1000));
            }
            if i == 0 {
                if let Some(s) = source {
                    tags.push(format!("s:{s}"));
                }
                if let Some(t) = time_unix_s {
                    tags.push(format!("c:{t}"));
                }
            }
            if tags.is_empty() || (source.is_none() && time_unix_s.is_none()) {
                return sentence;
            }
            let tag = tags.join(",");
            format!(
                "\\{tag}*{:02X}\\{sentence}",
                crate::nmea::xor(tag.as_bytes())
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;

    #[test]
    fn encodes_gpsd_sample_identically() {
        // gpsd sample: type 1, MMSI 371798000 — re-encode its fields and compare
        // the decoded values (radio bits differ, so not the payload text).
        let p = PositionFields {
            mmsi: 371_798_000,
            lat: Some(48.381_633_333),
            lon: Some(-123.395_383_333),
            speed_knots: Some(12.3),
            course_deg: Some(224.0),
            heading_deg: Some(215),
            status: 0,
            second: Some(33),
            class_b: false,
        };
        let lines = sentences(&encode_position(&p), 'A', 0, None, None);
        assert_eq!(lines.len(), 1);
        let mut d = Decoder::new();
        let msg = d.decode_line(lines[0].as_bytes()).unwrap().unwrap();
        let got = msg.position().unwrap();
        assert_eq!(
            (msg.mmsi(), got.speed_knots, got.heading_deg, got.second),
            (371_798_000, Some(12.3), Some(215), Some(33))
        );
        assert!((got.lat.unwrap() - 48.381_633_333).abs() < 1e-6);
    }

    #[test]
    fn static_splits_and_reassembles_with_tag_blocks() {
        let s = StaticFields {
            mmsi: 445_123_000,
            imo: 8_814_881,
            callsign: "HMAB".into(),
            shipname: "RYONGGANG 7".into(),
            shiptype: 80,
            length_m: 110,
            beam_m: 18,
            draught_m: 6.4,
            destination: "NAMPO".into(),
        };
        let lines = sentences(
            &encode_static(&s),
            'B',
            3,
            Some("JCG-SAT"),
            Some(1_700_000_000),
        );
        assert_eq!(lines.len(), 2);
        let mut d = Decoder::new();
        assert!(d.decode_line(lines[0].as_bytes()).unwrap().is_none());
        let msg = d.decode_line(lines[1].as_bytes()).unwrap().unwrap();
        let got = msg.static_data().unwrap();
        assert_eq!(got.imo, Some(8_814_881));
        assert_eq!(got.shipname.unwrap().as_str(), "RYONGGANG 7");
        assert_eq!(got.destination.unwrap().as_str(), "NAMPO");
        assert_eq!(
            (got.length_m, got.beam_m, got.draught_m),
            (Some(110), Some(18), Some(6.4))
        );
        assert_eq!(msg.meta().source.as_str(), "JCG-SAT");
        assert_eq!(msg.meta().time_unix_ms, Some(1_700_000_000_000));
    }
}
