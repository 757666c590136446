//! NMEA 0183 line parsing: receiver prefixes, NMEA 4 tag blocks, checksums
//! and the fields of `!xxVDM` / `!xxVDO` sentences. Borrowing only: a
//! [`Sentence`] points into the caller's line.

use crate::ErrorKind;

/// Longest source name kept from a tag block (`s:` field); longer ones are
/// truncated, not rejected.
pub const SOURCE_LEN_MAX: usize = 24;

/// A short, fixed-capacity ASCII station name (tag-block `s:` field).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StationName {
    bytes: [u8; SOURCE_LEN_MAX],
    len: u8,
}

impl StationName {
    /// Builds from bytes, keeping the first [`SOURCE_LEN_MAX`] printable ones.
    pub fn new(raw: &[u8]) -> Self {
        let mut name = StationName::default();
        // Common case: a short printable name, copied whole.
        let head = &raw[..raw.len().min(SOURCE_LEN_MAX)];
        if head.iter().all(u8::is_ascii_graphic) {
            name.bytes[..head.len()].copy_from_slice(head);
            name.len = head.len() as u8;
            return name;
        }
        for &b in raw {
            if usize::from(name.len) == SOURCE_LEN_MAX {
                break;
            }
            if b.is_ascii_graphic() {
                name.bytes[usize::from(name.len)] = b;
                name.len += 1;
            }
        }
        name
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    /// True when no name was given.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Debug for StationName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// What an NMEA 4 tag block said about a sentence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TagBlock {
    /// `s:` source station.
    pub source: StationName,
    /// `c:` receive time, milliseconds since the Unix epoch.
    pub time_unix_ms: Option<i64>,
    /// `g:` sentence number, group size, group id.
    pub group: Option<(u8, u8, u32)>,
}

/// One `!xxVDM` / `!xxVDO` sentence, borrowed from its line.
#[derive(Clone, Copy, Debug)]
pub struct Sentence<'a> {
    /// Talker ID (`AI`, `AB`, `BS`, `SA` …).
    pub talker: [u8; 2],
    /// True for `VDO` (own ship), false for `VDM`.
    pub own_ship: bool,
    /// Number of sentences in the message (1..=9).
    pub total: u8,
    /// This sentence's number (1..=total).
    pub number: u8,
    /// Sequential message id linking fragments (0..=9), if given.
    pub seq_id: Option<u8>,
    /// Radio channel (`A`, `B`, `1`, `2`), 0 when absent.
    pub channel: u8,
    /// Armoured payload characters.
    pub payload: &'a [u8],
    /// Fill bits at the end of the payload (0..=5).
    pub fill: u8,
    /// Tag block, when the line carried one.
    pub tag: TagBlock,
    /// Receive time from a receiver prefix or a trailing Unix time
    /// (the USCG / libais format), milliseconds since the Unix epoch.
    pub receiver_time_unix_ms: Option<i64>,
}

/// What one input line turned out to be.
#[derive(Clone, Copy, Debug)]
pub enum Line<'a> {
    /// An AIS sentence.
    Ais(Sentence<'a>),
    /// Another NMEA sentence with a valid checksum (GPS, …), ignored.
    OtherNmea,
    /// Blank line or `#` comment.
    Blank,
}

/// Parses one line (without its line ending, though `\r\n` is tolerated).
/// On error, returns the byte offset in the line and what is wrong.
pub fn parse_line(line: &[u8]) -> Result<Line<'_>, (usize, ErrorKind)> {
    let line = trim_end(line);
    // Fast path: a bare sentence, the common case on a feed.
    if line.first() == Some(&b'!') {
        return parse_sentence(line, 0, TagBlock::default(), None);
    }
    let start = match line
        .iter()
        .position(|&b| b == b'\\' || b == b'!' || b == b'$')
    {
        Some(i) => i,
        None => {
            let rest = trim_start(line);
            if rest.is_empty() || rest[0] == b'#' {
                return Ok(Line::Blank);
            }
            return Err((0, ErrorKind::NotNmea));
        }
    };
    if trim_start(&line[..start]).first() == Some(&b'#') {
        return Ok(Line::Blank);
    }
    let prefix_time = parse_prefix_time(&line[..start]);
    let mut at = start;
    let mut tag = TagBlock::default();
    if line[at] == b'\\' {
        let (block, close) = parse_tag_block(&line[at + 1..]).map_err(|k| (at, k))?;
        tag = block;
        at += 1 + close + 1;
        if at >= line.len() {
            return Err((at, ErrorKind::Truncated));
        }
    }
    parse_sentence(line, at, tag, prefix_time)
}

/// Parses the sentence starting at `line[at]` (`!` or `$`).
fn parse_sentence(
    line: &[u8],
    at: usize,
    tag: TagBlock,
    prefix_time: Option<i64>,
) -> Result<Line<'_>, (usize, ErrorKind)> {
    let body = &line[at..];
    if body[0] != b'!' && body[0] != b'$' {
        return Err((at, ErrorKind::NotNmea));
    }
    // The checksum is usually the last three bytes; else search (trailing
    // receiver fields follow it).
    let n = body.len();
    let star = if n >= 4 && body[n - 3] == b'*' {
        n - 3
    } else {
        match body.iter().position(|&b| b == b'*') {
            Some(i) => i,
            None => return Err((at, ErrorKind::Truncated)),
        }
    };
    let expected = match body.get(star + 1..star + 3).and_then(parse_hex2) {
        Some(v) => v,
        None => return Err((at + star, ErrorKind::Truncated)),
    };
    let found = xor(&body[1..star]);
    if found != expected {
        return Err((at + star, ErrorKind::Checksum { expected, found }));
    }
    let fields = &body[1..star];
    if fields.len() < 5 || &fields[2..5] != b"VDM" && &fields[2..5] != b"VDO" {
        return Ok(Line::OtherNmea);
    }
    let suffix_time = if star + 3 < n {
        parse_suffix_time(&body[star + 3..])
    } else {
        None
    };
    let mut sentence = parse_vdm(fields).map_err(|(off, k)| (at + 1 + off, k))?;
    sentence.tag = tag;
    sentence.receiver_time_unix_ms = prefix_time.or(suffix_time);
    Ok(Line::Ais(sentence))
}

fn parse_vdm(fields: &[u8]) -> Result<Sentence<'_>, (usize, ErrorKind)> {
    // The first five commas are in the short head (`AIVDM,1,1,,A,`); the
    // last one precedes the fill-bit digit. A comma inside the payload is
    // then caught as a bad payload character by the unpacker.
    let mut commas = [0usize; 5];
    let mut n = 0;
    for (i, &b) in fields.iter().enumerate() {
        if b == b',' {
            commas[n] = i;
            n += 1;
            if n == 5 {
                break;
            }
        }
    }
    if n < 5 {
        return Err((
            fields.len(),
            ErrorKind::Field("expected 7 comma-separated fields"),
        ));
    }
    let last = match fields.iter().rposition(|&b| b == b',') {
        Some(i) if i > commas[4] => i,
        _ => {
            return Err((
                fields.len(),
                ErrorKind::Field("expected 7 comma-separated fields"),
            ))
        }
    };
    let field = |k: usize| &fields[commas[k - 1] + 1..commas[k]];
    let total = digit(field(1)).ok_or((commas[0] + 1, ErrorKind::Field("fragment count")))?;
    let number = digit(field(2)).ok_or((commas[1] + 1, ErrorKind::Field("fragment number")))?;
    if total == 0 || number == 0 || number > total {
        return Err((
            commas[1] + 1,
            ErrorKind::Field("fragment number out of range"),
        ));
    }
    let seq_field = field(3);
    let seq_id = if seq_field.is_empty() {
        None
    } else {
        Some(digit(seq_field).ok_or((commas[2] + 1, ErrorKind::Field("sequential message id")))?)
    };
    let channel = field(4).first().copied().unwrap_or(0);
    let fill = digit(&fields[last + 1..]).ok_or((last + 1, ErrorKind::Field("fill bits")))?;
    if fill > 5 {
        return Err((last + 1, ErrorKind::Field("fill bits above 5")));
    }
    Ok(Sentence {
        talker: [fields[0], fields[1]],
        own_ship: &fields[2..5] == b"VDO",
        total,
        number,
        seq_id,
        channel,
        payload: &fields[commas[4] + 1..last],
        fill,
        tag: TagBlock::default(),
        receiver_time_unix_ms: None,
    })
}

/// Parses the tag block at the start of `rest` (just after its opening
/// backslash); returns it and the offset of its closing backslash.
/// Three scans (`memchr`-style) rather than one byte loop that also XORs:
/// the decoder's hot path, where the one-pass form measured slower
/// (`docs/bench/maritime.md`, "Why the code is shaped this way").
fn parse_tag_block(rest: &[u8]) -> Result<(TagBlock, usize), ErrorKind> {
    let close = rest
        .iter()
        .position(|&b| b == b'\\')
        .ok_or(ErrorKind::TagBlock("no closing backslash"))?;
    let inner = &rest[..close];
    let star = inner
        .iter()
        .rposition(|&b| b == b'*')
        .ok_or(ErrorKind::TagBlock("no checksum"))?;
    let expected = inner
        .get(star + 1..star + 3)
        .and_then(parse_hex2)
        .ok_or(ErrorKind::TagBlock("bad checksum digits"))?;
    let found = xor(&inner[..star]);
    if found != expected {
        return Err(ErrorKind::Checksum { expected, found });
    }
    let mut tag = TagBlock::default();
    for field in inner[..star].split(|&b| b == b',') {
        tag_field(field, &mut tag)?;
    }
    Ok((tag, close))
}

/// One `k:value` field of a tag block; unknown keys are ignored.
fn tag_field(field: &[u8], tag: &mut TagBlock) -> Result<(), ErrorKind> {
    if field.len() < 2 || field[1] != b':' {
        return Ok(());
    }
    let value = &field[2..];
    match field[0] {
        b's' => tag.source = StationName::new(value),
        b'c' => {
            let v = parse_int(value).ok_or(ErrorKind::TagBlock("c: time is not a number"))?;
            // Receivers send seconds; some send milliseconds.
            tag.time_unix_ms = Some(if v > 100_000_000_000 { v } else { v * 1000 });
        }
        b'g' => {
            let mut it = value.split(|&b| b == b'-');
            let parsed = (|| {
                let a = parse_int(it.next()?)?;
                let b = parse_int(it.next()?)?;
                let c = parse_int(it.next()?)?;
                Some((
                    u8::try_from(a).ok()?,
                    u8::try_from(b).ok()?,
                    u32::try_from(c).ok()?,
                ))
            })();
            tag.group = parsed;
        }
        _ => {}
    }
    Ok(())
}

/// A receiver prefix such as `1325394060.123 ` or `1325394060;` before the
/// sentence: a Unix time in seconds (fraction allowed).
fn parse_prefix_time(prefix: &[u8]) -> Option<i64> {
    let prefix = trim_end(trim_start(prefix));
    let prefix = prefix
        .strip_suffix(b";")
        .or(prefix.strip_suffix(b":"))
        .unwrap_or(prefix);
    parse_unix_seconds(prefix)
}

/// Trailing fields after the checksum (USCG format: `,d-109,S2105,…,1325394060`):
/// the first field that is a 10-digit Unix time.
fn parse_suffix_time(suffix: &[u8]) -> Option<i64> {
    suffix.split(|&b| b == b',').find_map(|f| {
        if f.len() >= 10 {
            parse_unix_seconds(f)
        } else {
            None
        }
    })
}

fn parse_unix_seconds(text: &[u8]) -> Option<i64> {
    let (int, frac) = match text.iter().position(|&b| b == b'.') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, &[][..]),
    };
    if int.len() < 9 || int.len() > 10 {
        return None;
    }
    let seconds = parse_int(int)?;
    let mut ms = 0i64;
    let mut scale = 100;
    for &d in frac.iter().take(3) {
        if !d.is_ascii_digit() {
            return None;
        }
        ms += i64::from(d - b'0') * scale;
        scale /= 10;
    }
    Some(seconds * 1000 + ms)
}

fn parse_int(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > 15 {
        return None;
    }
    let mut v = 0i64;
    for &d in text {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(d - b'0');
    }
    Some(v)
}

fn digit(field: &[u8]) -> Option<u8> {
    match field {
        [d] if d.is_ascii_digit() => Some(d - b'0'),
        _ => None,
    }
}

fn parse_hex2(h: &[u8]) -> Option<u8> {
    fn nib(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'A'..=b'F' => Some(c - b'A' + 10),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    Some(nib(h[0])? << 4 | nib(h[1])?)
}

/// NMEA checksum: XOR of the bytes between the start character and `*`.
pub fn xor(bytes: &[u8]) -> u8 {
    // Eight bytes at a time: XOR is associative, so fold words then bytes.
    let mut chunks = bytes.chunks_exact(8);
    let mut word = 0u64;
    for chunk in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        word ^= u64::from_le_bytes(w);
    }
    let folded = word.to_le_bytes().iter().fold(0u8, |acc, &b| acc ^ b);
    chunks.remainder().iter().fold(folded, |acc, &b| acc ^ b)
}

fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() || *last == 0 {
            s = rest;
        } else {
            break;
        }
    }
    s
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends the right checksum to `!…` text.
    fn with_checksum(body: &str) -> String {
        format!("{body}*{:02X}", xor(&body.as_bytes()[1..]))
    }

    #[track_caller]
    fn check_err(line: &str, want: ErrorKind) {
        match parse_line(line.as_bytes()) {
            Err((_, kind)) => assert_eq!(kind, want, "{line}"),
            Ok(other) => panic!("{line}: expected {want:?}, got {other:?}"),
        }
    }

    #[test]
    fn station_name_keeps_the_first_printable_bytes() {
        let check = |raw: &[u8]| {
            let want: Vec<u8> = raw
                .iter()
                .copied()
                .filter(u8::is_ascii_graphic)
                .take(SOURCE_LEN_MAX)
                .collect();
            assert_eq!(
                StationName::new(raw).as_str().as_bytes(),
                &want[..],
                "{raw:?}"
            );
        };
        check(b"");
        check(b"SYNTH-RX");
        check(b"a b\tc");
        check(&[b'x'; 40]);
        check(b"0123456789012345678901234 56789");
        check(b" 0123456789012345678901234");
        check(&[0xff, b'A', 0x80]);
    }

    #[test]
    fn sentence_fields() {
        let line =
            b"!AIVDM,2,1,9,B,55R3Vn82=ILTQ3KKS>1<D60Dq@E918U<F222221J1`?164vc03S1CCAD,0*2A\r\n";
        let Ok(Line::Ais(s)) = parse_line(line) else {
            panic!("not AIS")
        };
        assert_eq!(
            (s.total, s.number, s.seq_id, s.channel, s.fill),
            (2, 1, Some(9), b'B', 0)
        );
        assert_eq!(&s.talker, b"AI");
        assert!(!s.own_ship);
    }

    #[test]
    fn tag_block_and_suffix() {
        let line = br"\g:1-2-1604,s:rORBCOMM008,c:1418169601,T:2014-12-10 00.00.01*37\!AIVDM,2,1,6,A,53@o0E000001Q0CG37U8u<Tp4q@D00000000000018330400000000000000,0*63";
        let Ok(Line::Ais(s)) = parse_line(line) else {
            panic!("not AIS")
        };
        assert_eq!(s.tag.source.as_str(), "rORBCOMM008");
        assert_eq!(s.tag.time_unix_ms, Some(1_418_169_601_000));
        assert_eq!(s.tag.group, Some((1, 2, 1604)));
        let line = b"!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*30,d-080,S2118,t050056.00,T56.4837741,r003669946,1325394060,1325394001";
        let Ok(Line::Ais(s)) = parse_line(line) else {
            panic!("not AIS")
        };
        assert_eq!(s.receiver_time_unix_ms, Some(1_325_394_060_000));
        let line = format!(
            "1325394060.5 {}",
            with_checksum("!BSVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0")
        );
        let Ok(Line::Ais(s)) = parse_line(line.as_bytes()) else {
            panic!("not AIS")
        };
        assert_eq!(s.receiver_time_unix_ms, Some(1_325_394_060_500));
        assert_eq!(&s.talker, b"BS");
    }

    #[test]
    fn other_lines() {
        assert!(matches!(parse_line(b"# comment"), Ok(Line::Blank)));
        assert!(matches!(parse_line(b"   "), Ok(Line::Blank)));
        assert!(matches!(
            parse_line(b"$GPGSA,A,3,11,32,14,28,22,03,10,08,17,,,,2.02,1.03,1.74*00"),
            Ok(Line::OtherNmea)
        ));
    }

    #[test]
    fn errors() {
        check_err(
            "!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*31",
            ErrorKind::Checksum {
                expected: 0x31,
                found: 0x30,
            },
        );
        check_err(
            "!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0",
            ErrorKind::Truncated,
        );
        check_err("hello", ErrorKind::NotNmea);
        check_err(
            &with_checksum("!AIVDM,1,1,,A,15N1u"),
            ErrorKind::Field("expected 7 comma-separated fields"),
        );
        check_err(
            &with_checksum("!AIVDM,1,2,,A,15N1u,0"),
            ErrorKind::Field("fragment number out of range"),
        );
        check_err(
            &with_checksum("!AIVDM,1,1,,A,15N1u,6"),
            ErrorKind::Field("fill bits above 5"),
        );
        check_err(
            r"\s:x*00\!AIVDM,1,1,,A,15N1u,0*00",
            ErrorKind::Checksum {
                expected: 0,
                found: xor(b"s:x"),
            },
        );
    }
}
