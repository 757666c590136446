//! The sanctions engine: import the UN, OFAC and Japanese lists into one entity model, and
//! screen people, companies and vessels against them across scripts.
//!
//! - Parsers ([`un`], [`ofac`], [`japan`]) take bytes and return a [`model::Parsed`]: a
//!   [`model::ListVersion`] of normalised [`model::Entity`]s plus the [`model::Problem`]s met
//!   (a malformed record is reported with its position and skipped, never dropped silently).
//!   [`format::detect`] names the format of a file; [`delta::delta`] compares two versions.
//! - Name analysis ([`analysis`]) turns a name in any script into comparable forms: Hangul is
//!   split into surname and given name and romanised ([`hangul`]), kana into Hepburn ([`kana`]),
//!   Han characters read through the Unihan table ([`unihan`]); Latin and Cyrillic are folded
//!   ([`normalize`]), which also holds the Korean phonetic key and the curated equivalence
//!   classes (`data/*.txt`); Arabic and Persian script also keep a consonant skeleton
//!   ([`abjad`]) that meets vowelled Latin spellings. Words that write a foreign name by its
//!   sound — Chinese renderings ([`mandarin`]), Khmer ([`khmer`]), katakana outside the
//!   loanword table ([`loanword`], [`kana`]) — carry the skeletons of the Latin spellings they
//!   may stand for ([`transcription`]).
//! - [`matcher::compare`] scores two names with an explanation; [`screener::Screener`] indexes
//!   loaded lists once and screens [`screener::Query`]s into ranked [`screener::Hit`]s. Its
//!   candidates come from [`retrieval`]: keys for every way two names can match and a score
//!   bound per name, so that screening scores few names yet returns what scoring every
//!   name would.
//! - Identifiers ([`ident`]): wallet addresses, e-mail, websites, phones, passports, IMO, MMSI,
//!   call signs and BIC codes are typed, normalised and validated (Base58Check, Bech32/Bech32m,
//!   EIP-55, IMO check digits, BIC structure; invalid ones kept and marked);
//!   [`Screener::screen_id`] looks one up exactly in the screener's [`ident::index::IdIndex`].
//! - [`report`] defines the `sanctions.designation` / `sanctions.hit` payloads the node
//!   publishes; [`eval`] builds a labelled set from the data and measures precision / recall.
//!
//! Architecture invariant: no file or network I/O in this crate; the CLI opens files.
//!
//! Two records of OFAC's `sdn.csv` as published (2024-05-03), screened with a name in Hangul:
//!
//! ```
//! use trilat_sanctions::ofac;
//! use trilat_sanctions::screener::{Query, Screener};
//!
//! let sdn = "20157,\"KIM, Jong Un\",individual,DPRK3,Chairman of the Workers' Party of Korea,\
//!            -0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 08 Jan 1984.\"\n\
//!            17068,OCEAN MARITIME MANAGEMENT COMPANY LIMITED,-0- ,DPRK,-0- ,-0- ,-0- ,-0- ,\
//!            -0- ,-0- ,-0- ,\"Identification Number IMO 1790183.\"\n";
//! let parsed = ofac::parse_sdn(sdn.as_bytes(), "2024-05-03").unwrap();
//! assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
//! let screener = Screener::new(vec![parsed.list], None).unwrap();
//! let hits = screener.screen(&Query::name("김정은"));
//! assert_eq!(hits[0].record_id, "20157");
//! assert_eq!(hits[0].position, "row 1");
//! assert_eq!(hits.len(), 1);
//! ```
#![deny(missing_docs)]

pub mod abjad;
pub mod analysis;
pub mod bench;
pub mod country;
pub mod delta;
pub mod error;
pub mod eval;
pub mod format;
pub mod han_words;
pub mod hangul;
pub mod ident;
pub mod japan;
pub mod kana;
pub mod kana_pinyin;
pub mod khmer;
pub mod loanword;
pub mod mandarin;
pub mod matcher;
pub mod model;
pub mod normalize;
pub mod ofac;
pub mod report;
pub mod retrieval;
pub mod screener;
pub mod script;
pub mod transcription;
pub mod un;
pub mod unihan;

pub use error::{Error, ErrorKind};
pub use matcher::THRESHOLD_DEFAULT;
pub use report::{validate_payload, DesignationPayload, HitPayload, PayloadError, REPORT_KINDS};
pub use screener::{Hit, Query, Screener, VesselQuery};
