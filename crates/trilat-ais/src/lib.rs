//! Trilat's maritime engine: AIS decoding at line rate, vessel tracks, and
//! the events coast guards care about (going dark, ship-to-ship encounters,
//! loitering, identity anomalies, zone entry and exit, port calls), plus the
//! `maritime.*` report payloads partners exchange.
//!
//! The core is pure: parsers take bytes, analysers take decoded messages and
//! return events; the CLI and the node do the I/O.
//!
//! - [`Decoder`] turns NMEA lines (`!AIVDM`, `!AIVDO`, any talker, tag blocks,
//!   receiver prefixes) into [`Message`]s, reassembling multi-sentence
//!   messages in bounded memory and never allocating per message. A
//!   [`Message`] is a view over the decoder's buffer: [`Message::position`]
//!   and [`Message::static_data`] read only the fields they need;
//!   [`gpsd::to_gpsd_json`] renders any type 1–27 the way gpsd names and
//!   scales its fields.
//!
//! ```
//! let mut decoder = trilat_ais::Decoder::new();
//! let msg = decoder.decode_line(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A").unwrap().unwrap();
//! assert_eq!(msg.mmsi(), 371798000);
//! let pos = msg.position().unwrap();
//! assert_eq!(pos.speed_knots, Some(12.3));
//! ```
#![deny(missing_docs)]

pub mod analyser;
pub mod bits;
pub mod decoder;
pub mod encode;
pub mod gpsd;
pub mod identity;
pub mod message;
pub mod nmea;
pub mod ports;
pub mod report;
pub mod synth;
pub mod track;

pub use decoder::{DecodeStats, Decoder};
pub use message::{AisText, Message, MessageMeta, Position, StaticData, StationClass};

/// A line the decoder could not use: where (line number, byte offset) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, byte {offset}: {kind}")]
pub struct Error {
    /// 1-based line number, as counted by the decoder.
    pub line: u64,
    /// Byte offset in the line.
    pub offset: usize,
    /// What is wrong.
    pub kind: ErrorKind,
}

/// What is wrong with an input line or message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line is not an NMEA sentence.
    #[error("not an NMEA sentence")]
    NotNmea,
    /// The sentence ends before its checksum.
    #[error("sentence truncated (no checksum)")]
    Truncated,
    /// Checksum mismatch.
    #[error("checksum: sentence says {expected:02X}, content gives {found:02X}")]
    Checksum {
        /// Checksum written in the sentence.
        expected: u8,
        /// Checksum computed from the content.
        found: u8,
    },
    /// A malformed NMEA 4 tag block.
    #[error("tag block: {0}")]
    TagBlock(&'static str),
    /// A malformed sentence field.
    #[error("field: {0}")]
    Field(&'static str),
    /// A payload character outside the six-bit alphabet (offset in payload).
    #[error("payload character {0} is not six-bit armoured")]
    PayloadChar(usize),
    /// Payload longer than [`bits::PAYLOAD_CHARS_MAX`].
    #[error("payload too long")]
    PayloadTooLong,
    /// A fragment 2..n with no group started.
    #[error("fragment without its first sentence")]
    FragmentOrphan,
    /// A fragment out of order (one was lost).
    #[error("fragment out of sequence (one is missing)")]
    FragmentMissing,
    /// Message type 0 or 28–63.
    #[error("unknown message type {0}")]
    UnknownType(u8),
    /// Fewer bits than the message type needs.
    #[error("type {msg_type} message too short ({bits} bits)")]
    TooShort {
        /// Message type.
        msg_type: u8,
        /// Bits received.
        bits: usize,
    },
}
