//! Six-bit armoured payload → packed bits, and bit-field reads.
//!
//! Hot path: a payload is unpacked once into a fixed, reused byte buffer;
//! reads past the payload's end return zeros (the buffer is zero-padded), so a
//! field read never panics whatever the input.

/// Most armoured payload characters one message may carry (5 slots of AIS are
/// 1,064 bits ≈ 178 characters; the margin covers long multi-sentence groups).
pub const PAYLOAD_CHARS_MAX: usize = 512;
const BYTES_CAP: usize = PAYLOAD_CHARS_MAX * 6 / 8 + 16;

/// Value of each armoured character, or 0xFF when the character is not part
/// of the AIS six-bit alphabet.
const ARMOR: [u8; 256] = {
    let mut table = [0xFFu8; 256];
    let mut c = 48usize;
    while c < 120 {
        if c <= 87 {
            table[c] = (c - 48) as u8;
        } else if c >= 96 {
            table[c] = (c - 56) as u8;
        }
        c += 1;
    }
    table
};

/// The AIS six-bit text alphabet (ITU-R M.1371 table 47).
const SIXBIT_TEXT: &[u8; 64] =
    b"@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?";

/// A message's bits, unpacked from its armoured payload.
#[derive(Clone)]
pub struct Bits {
    bytes: [u8; BYTES_CAP],
    len: usize,
    /// End of the bytes ever written, so stale bytes can be cleared.
    dirty_end: usize,
}

impl Default for Bits {
    fn default() -> Self {
        Bits {
            bytes: [0; BYTES_CAP],
            len: 0,
            dirty_end: 0,
        }
    }
}

impl std::fmt::Debug for Bits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bits({} bits)", self.len)
    }
}

/// Why an armoured payload could not be unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnpackError {
    /// A character outside the six-bit alphabet, at this offset in the payload.
    BadChar(usize),
    /// More than [`PAYLOAD_CHARS_MAX`] characters.
    TooLong,
    /// Fill bits outside 0..=5 or more than the payload holds.
    BadFill,
}

impl Bits {
    /// Number of bits in the message (payload bits minus fill bits).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the message has no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Unpacks `armored` (the payload field of one or more sentences,
    /// concatenated) minus `fill` trailing bits.
    pub fn load(&mut self, armored: &[u8], fill: u8) -> Result<(), UnpackError> {
        if armored.len() > PAYLOAD_CHARS_MAX {
            return Err(UnpackError::TooLong);
        }
        let bits_total = armored.len() * 6;
        if fill > 5 || usize::from(fill) > bits_total {
            return Err(UnpackError::BadFill);
        }
        let mut out = 0usize;
        let mut chunks = armored.chunks_exact(4);
        let mut offset = 0usize;
        for chunk in &mut chunks {
            let a = ARMOR[chunk[0] as usize];
            let b = ARMOR[chunk[1] as usize];
            let c = ARMOR[chunk[2] as usize];
            let d = ARMOR[chunk[3] as usize];
            if (a | b | c | d) & 0xC0 != 0 {
                let bad = chunk
                    .iter()
                    .position(|&x| ARMOR[x as usize] == 0xFF)
                    .unwrap_or(0);
                return Err(UnpackError::BadChar(offset + bad));
            }
            let v =
                (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6) | u32::from(d);
            self.bytes[out] = (v >> 16) as u8;
            self.bytes[out + 1] = (v >> 8) as u8;
            self.bytes[out + 2] = v as u8;
            out += 3;
            offset += 4;
        }
        let mut acc: u32 = 0;
        let rest = chunks.remainder();
        for (i, &ch) in rest.iter().enumerate() {
            let v = ARMOR[ch as usize];
            if v == 0xFF {
                return Err(UnpackError::BadChar(offset + i));
            }
            acc = (acc << 6) | u32::from(v);
        }
        let rest_bits = rest.len() * 6;
        if rest_bits > 0 {
            let acc = acc << (24 - rest_bits);
            self.bytes[out] = (acc >> 16) as u8;
            self.bytes[out + 1] = (acc >> 8) as u8;
            self.bytes[out + 2] = acc as u8;
        }
        self.len = bits_total - usize::from(fill);
        // Zero everything from the last meaningful bit so that reads past the
        // end (and the fill bits) give zeros.
        let written_end = out + 3;
        let first_dirty = self.len / 8;
        let keep = self.len % 8;
        let clear_from = if keep > 0 {
            self.bytes[first_dirty] &= 0xFFu8 << (8 - keep);
            first_dirty + 1
        } else {
            first_dirty
        };
        let clear_to = written_end.max(self.dirty_end).min(BYTES_CAP);
        if clear_from < clear_to {
            self.bytes[clear_from..clear_to].fill(0);
        }
        self.dirty_end = written_end;
        debug_assert!(self.len <= PAYLOAD_CHARS_MAX * 6);
        Ok(())
    }

    /// Unsigned field of `width` ≤ 32 bits at bit `start`; zeros past the end.
    #[inline]
    pub fn u(&self, start: usize, width: usize) -> u32 {
        debug_assert!(width <= 32 && width > 0);
        let byte = start / 8;
        if byte + 8 > BYTES_CAP {
            return self.u_slow(start, width);
        }
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.bytes[byte..byte + 8]);
        let v = u64::from_be_bytes(word) << (start % 8);
        (v >> (64 - width)) as u32
    }

    #[cold]
    fn u_slow(&self, start: usize, width: usize) -> u32 {
        let mut v = 0u32;
        for i in start..start + width {
            let bit = self.bytes.get(i / 8).map_or(0, |b| (b >> (7 - i % 8)) & 1);
            v = (v << 1) | u32::from(bit);
        }
        v
    }

    /// Two's-complement signed field of `width` ≤ 32 bits at bit `start`.
    #[inline]
    pub fn i(&self, start: usize, width: usize) -> i32 {
        let raw = self.u(start, width);
        let shift = 32 - width as u32;
        ((raw << shift) as i32) >> shift
    }

    /// Boolean (one bit) at `start`.
    #[inline]
    pub fn b(&self, start: usize) -> bool {
        self.u(start, 1) == 1
    }

    /// Six-bit text of `chars` characters at `start`, as gpsd renders it:
    /// stops at the first `@` (the padding character) and trims trailing
    /// spaces. Characters past the message's end are not read.
    pub fn text_into(&self, start: usize, chars: usize, out: &mut [u8]) -> usize {
        let avail = self.len.saturating_sub(start) / 6;
        let n = chars.min(avail).min(out.len());
        let mut len = 0;
        for i in 0..n {
            let c = SIXBIT_TEXT[self.u(start + 6 * i, 6) as usize];
            if c == b'@' {
                break;
            }
            out[len] = c;
            len += 1;
        }
        while len > 0 && out[len - 1] == b' ' {
            len -= 1;
        }
        len
    }

    /// Six-bit text as an owned string (for JSON output, not the hot path).
    pub fn text(&self, start: usize, chars: usize) -> String {
        let mut buf = vec![0u8; chars];
        let n = self.text_into(start, chars, &mut buf);
        buf.truncate(n);
        // Every byte of SIXBIT_TEXT is ASCII.
        String::from_utf8(buf).unwrap_or_default()
    }

    /// Bits from `start` to the end, as gpsd's `"<bits>:<hex>"` rendering.
    pub fn data_hex(&self, start: usize, end: usize) -> String {
        let end = end.min(self.len);
        let n = end.saturating_sub(start);
        let mut s = format!("{n}:");
        let mut i = 0;
        while i < n {
            let w = (n - i).min(8);
            let v = self.u(start + i, w) << (8 - w);
            s.push_str(&format!("{v:02x}"));
            i += 8;
        }
        s
    }

    /// Copies bits `start..end` into `out` as packed bytes (MSB first);
    /// returns the number of bits copied.
    pub fn copy_bytes(&self, start: usize, end: usize, out: &mut Vec<u8>) -> usize {
        let end = end.min(self.len);
        let n = end.saturating_sub(start);
        let mut i = 0;
        while i < n {
            let w = (n - i).min(8);
            out.push((self.u(start + i, w) << (8 - w)) as u8);
            i += 8;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpack_and_read() {
        let mut bits = Bits::default();
        // "15RTgt0PAso;90TKcjM8h6g208CQ": type 1, MMSI 371798000 (gpsd sample).
        bits.load(b"15RTgt0PAso;90TKcjM8h6g208CQ", 0).unwrap();
        assert_eq!(bits.len(), 168);
        assert_eq!(bits.u(0, 6), 1);
        assert_eq!(bits.u(8, 30), 371_798_000);
        assert_eq!(bits.i(42, 8), -127);
        // Past the end: zeros, no panic.
        assert_eq!(bits.u(4000, 32), 0);
        assert_eq!(bits.u(160, 32), bits.u(160, 8) << 24);
    }

    #[test]
    fn bad_payload_is_an_error() {
        let mut bits = Bits::default();
        assert_eq!(bits.load(b"15R~", 0), Err(UnpackError::BadChar(3)));
        assert_eq!(bits.load(b"1", 6), Err(UnpackError::BadFill));
        assert_eq!(
            bits.load(&[b'0'; PAYLOAD_CHARS_MAX + 1], 0),
            Err(UnpackError::TooLong)
        );
    }
}
