//! The streaming AIS decoder: lines in, [`Message`]s out, with multi-sentence
//! reassembly that survives interleaving, missing fragments and other NMEA
//! traffic, in bounded memory and without allocating per message.

use crate::bits::{Bits, UnpackError, PAYLOAD_CHARS_MAX};
use crate::message::{min_bits, Message, MessageMeta};
use crate::nmea::{parse_line, Line, Sentence, StationName};
use crate::{Error, ErrorKind};

/// Most multi-sentence messages awaiting their remaining fragments at once;
/// a new group beyond this evicts the oldest (counted as incomplete).
pub const PENDING_GROUPS_MAX: usize = 64;
/// Lines after which a pending group is considered lost.
pub const PENDING_AGE_LINES_MAX: u64 = 2_000;

/// Counts of what the decoder has seen, for reports ("errors counted, not fatal").
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DecodeStats {
    /// Lines given to the decoder.
    pub lines: u64,
    /// AIS sentences with a valid checksum.
    pub sentences: u64,
    /// Messages decoded.
    pub messages: u64,
    /// Other NMEA sentences (GPS …) skipped.
    pub other_nmea: u64,
    /// Blank and comment lines.
    pub blank: u64,
    /// Lines rejected with an error (checksum, format, payload, length).
    pub errors: u64,
    /// Multi-sentence groups dropped because a fragment never came.
    pub incomplete_groups: u64,
}

#[derive(Clone, Debug)]
struct Pending {
    key: GroupKey,
    next_number: u8,
    payload: Vec<u8>,
    meta: MessageMeta,
    started_line: u64,
    in_use: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GroupKey {
    seq_id: Option<u8>,
    channel: u8,
    total: u8,
    talker: [u8; 2],
    source: StationName,
}

/// Decodes AIS from NMEA lines. Build one per input stream and reuse it.
#[derive(Debug)]
pub struct Decoder {
    bits: Bits,
    meta: MessageMeta,
    pending: Vec<Pending>,
    stats: DecodeStats,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder with empty reassembly state.
    pub fn new() -> Self {
        Decoder {
            bits: Bits::default(),
            meta: MessageMeta::default(),
            pending: Vec::new(),
            stats: DecodeStats::default(),
        }
    }

    /// What has been seen so far.
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Multi-sentence groups awaiting fragments now (at most
    /// [`PENDING_GROUPS_MAX`]); the fuzz targets check the bound.
    pub fn pending_groups(&self) -> usize {
        let n = self.pending.iter().filter(|p| p.in_use).count();
        debug_assert!(self.pending.len() <= PENDING_GROUPS_MAX);
        n
    }

    /// Decodes one line. `Ok(None)`: nothing complete yet (a fragment, a
    /// comment, another NMEA sentence). Errors carry the line number (1-based
    /// count of lines given) and byte offset, and are never fatal: keep
    /// feeding lines.
    pub fn decode_line(&mut self, line: &[u8]) -> Result<Option<Message<'_>>, Error> {
        self.stats.lines += 1;
        let line_no = self.stats.lines;
        let res = self.decode_inner(line, line_no);
        match res {
            Ok(true) => {
                self.stats.messages += 1;
                Ok(Some(Message::new(&self.bits, &self.meta)))
            }
            Ok(false) => Ok(None),
            Err((offset, kind)) => {
                self.stats.errors += 1;
                Err(Error {
                    line: line_no,
                    offset,
                    kind,
                })
            }
        }
    }

    fn decode_inner(&mut self, line: &[u8], line_no: u64) -> Result<bool, (usize, ErrorKind)> {
        let sentence = match parse_line(line)? {
            Line::Ais(s) => s,
            Line::OtherNmea => {
                self.stats.other_nmea += 1;
                return Ok(false);
            }
            Line::Blank => {
                self.stats.blank += 1;
                return Ok(false);
            }
        };
        self.stats.sentences += 1;
        let payload_offset = line.len().saturating_sub(sentence.payload.len() + 5);
        if sentence.total == 1 {
            self.meta = meta_of(&sentence, line_no);
            self.bits
                .load(sentence.payload, sentence.fill)
                .map_err(|e| (payload_offset, unpack_kind(e)))?;
            self.check_length().map_err(|k| (payload_offset, k))?;
            return Ok(true);
        }
        self.reassemble(&sentence, line_no)
            .map_err(|k| (payload_offset, k))
    }

    fn reassemble(&mut self, s: &Sentence<'_>, line_no: u64) -> Result<bool, ErrorKind> {
        let key = GroupKey {
            seq_id: s.seq_id,
            channel: s.channel,
            total: s.total,
            talker: s.talker,
            source: s.tag.source,
        };
        // Later fragments often carry only the `g:` tag, not the source:
        // an empty source matches any.
        let same_group = |p: &GroupKey| {
            p.seq_id == key.seq_id
                && p.channel == key.channel
                && p.total == key.total
                && p.talker == key.talker
                && (p.source == key.source || key.source.is_empty() || p.source.is_empty())
        };
        let found = self
            .pending
            .iter()
            .position(|p| p.in_use && same_group(&p.key));
        if s.number == 1 {
            let slot_idx = match found {
                Some(i) => {
                    // A new first fragment while the old group was incomplete.
                    self.stats.incomplete_groups += 1;
                    i
                }
                None => self.free_slot(line_no),
            };
            let slot = &mut self.pending[slot_idx];
            slot.key = key;
            slot.next_number = 2;
            slot.payload.clear();
            slot.payload.extend_from_slice(s.payload);
            slot.meta = meta_of(s, line_no);
            slot.started_line = line_no;
            slot.in_use = true;
            return Ok(false);
        }
        let Some(slot_idx) = found else {
            return Err(ErrorKind::FragmentOrphan);
        };
        let slot = &mut self.pending[slot_idx];
        if slot.next_number != s.number {
            slot.in_use = false;
            self.stats.incomplete_groups += 1;
            return Err(ErrorKind::FragmentMissing);
        }
        if slot.payload.len() + s.payload.len() > PAYLOAD_CHARS_MAX {
            slot.in_use = false;
            return Err(ErrorKind::PayloadTooLong);
        }
        slot.payload.extend_from_slice(s.payload);
        slot.next_number += 1;
        if s.number < s.total {
            return Ok(false);
        }
        slot.in_use = false;
        let loaded = self.bits.load(&slot.payload, s.fill);
        self.meta = slot.meta;
        self.meta.line = line_no;
        loaded.map_err(unpack_kind)?;
        self.check_length()?;
        Ok(true)
    }

    /// A free pending slot: an unused one, else one past its age, else the
    /// oldest (evicted and counted).
    fn free_slot(&mut self, line_no: u64) -> usize {
        for (i, p) in self.pending.iter_mut().enumerate() {
            if p.in_use && line_no.saturating_sub(p.started_line) > PENDING_AGE_LINES_MAX {
                p.in_use = false;
                self.stats.incomplete_groups += 1;
            }
            if !p.in_use {
                return i;
            }
        }
        if self.pending.len() < PENDING_GROUPS_MAX {
            self.pending.push(Pending {
                key: GroupKey {
                    seq_id: None,
                    channel: 0,
                    total: 0,
                    talker: [0; 2],
                    source: StationName::default(),
                },
                next_number: 0,
                payload: Vec::with_capacity(128),
                meta: MessageMeta::default(),
                started_line: line_no,
                in_use: false,
            });
            return self.pending.len() - 1;
        }
        let oldest = self
            .pending
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| p.started_line)
            .map_or(0, |(i, _)| i);
        self.pending[oldest].in_use = false;
        self.stats.incomplete_groups += 1;
        debug_assert!(self.pending.len() <= PENDING_GROUPS_MAX);
        oldest
    }

    fn check_length(&self) -> Result<(), ErrorKind> {
        let msg_type = self.bits.u(0, 6) as u8;
        let Some(min) = min_bits(msg_type, &self.bits) else {
            return Err(ErrorKind::UnknownType(msg_type));
        };
        if self.bits.len() < min {
            return Err(ErrorKind::TooShort {
                msg_type,
                bits: self.bits.len(),
            });
        }
        Ok(())
    }
}

fn meta_of(s: &Sentence<'_>, line_no: u64) -> MessageMeta {
    MessageMeta {
        line: line_no,
        talker: s.talker,
        own_ship: s.own_ship,
        channel: s.channel,
        source: s.tag.source,
        time_unix_ms: s.tag.time_unix_ms.or(s.receiver_time_unix_ms),
    }
}

fn unpack_kind(e: UnpackError) -> ErrorKind {
    match e {
        UnpackError::BadChar(at) => ErrorKind::PayloadChar(at),
        UnpackError::TooLong => ErrorKind::PayloadTooLong,
        UnpackError::BadFill => ErrorKind::Field("fill bits"),
    }
}
