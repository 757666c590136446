//! Score-aware candidate retrieval: which indexed names can reach a query's threshold.
//!
//! The index holds, for every way two names can score above zero, a key both names share:
//!
//! - token similarity (`matcher::token_similarity`): the token key, the Korean phonetic key,
//!   the surname class and, for a token in Arabic script, the consonant skeleton; and for
//!   edit distance, the *vocabulary* (every distinct token key
//!   of the names) filed under its *deletion neighbourhood* (every key with up to one byte
//!   deleted, two for keys of 6 bytes or more): two keys within edit distance 1 (2) share a
//!   variant with up to 1 (2) deletions, so no typo escapes the index the way it escapes
//!   trigram lists cut for length. A query token looks its variants up, checks each
//!   vocabulary key found with the matcher's own edit rule (linear for 1 or 2 edits), and
//!   reads the names list of only the keys within reach, at the level their distance allows:
//!   filing names under every variant read each name once per shared variant and touched a
//!   third more names than were similar at all;
//! - initials of persons' names (`matcher::initial_of`): an indexed initial under its letter,
//!   an indexed word of a person's name under its first letter, each read at the far level
//!   (an initial meets a word at 0.7);
//! - the Korean given name compared as a unit: its syllable classes, its written form and the
//!   one-deletion neighbourhood of its phonetic key;
//! - merged tokens (`Jong Un` = `Jongun`): adjacent tokens joined, on both sides, by Korean
//!   key and, with a word in Arabic script on one side, by consonant skeleton (`نصر الله` =
//!   `Nasrallah`);
//! - identifiers.
//!
//! Keys are 64-bit hashes (a collision only adds a candidate, it never loses one), held in a
//! flat table (`KeyTable`: 16-byte slots in hash order, home slot = the hash scaled to the
//! slot count, ordered linear probing) that also says where each key's posting list is.
//!
//! A query is split into *units*, one per token of each of its forms. Every key records the
//! heaviest rarity weight of the indexed tokens that have it (WAND's per-term upper bound).
//! Through the generic token alignment a name scores at most `(A + s X) / (Q + C)`: `Q` the
//! query form's token weight; `A` the weight of the query tokens that share a key with the name,
//! each times the most similarity its key level allows (same key 1; same Korean key, surname
//! class or one edit apart 0.95; two edits apart 0.71), `s` the largest of those; `C`
//! the name form's weight; `X` what the name's matched tokens can weigh: no more than its `k`
//! heaviest tokens (`k` units matched) nor the sum of the matched units' heaviest partners. A
//! name that shares a Korean given-name key or an identifier is scored whatever its bound, and
//! so is one whose tokens may merge on both sides (a join of the name equals a query token
//! or join, and the query's tokens may merge too). Tokens merge only between forms of
//! different lengths: a name whose every form is as long as every query form is bounded like
//! any other. When only the name's tokens may merge (a join of the name spells a query
//! token), a merged run meets only the word it spells (`matcher::generic`), so the units that
//! can pair are the matched ones and the spelled ones, a spelled one's partner no heavier
//! than the heaviest indexed run with its join key; the name is scored if that query-side
//! bound reaches the threshold (`Units::bound_name_runs`). When only the query's tokens may
//! merge (a query join equals a name token), the name is scored if its bound with merges
//! reaches the threshold (`Index::merged_bound`: units that neither match nor merge stay
//! unmatched).
//! A name scores at most 0.4 through the Korean comparison without a given-name key (the
//! surname alone), so thresholds at or below [`EXHAUSTIVE_THRESHOLD_MAX`] fall back to the
//! exhaustive scan.
//!
//! Max-score: the (unit, near keys / far keys) groups with the longest posting lists (`kim`,
//! `mohammed`) are skipped while a name matching *only* skipped keys could not reach the
//! threshold even with their heaviest partners. Every other key is read in full; each touched
//! name is bounded as if it matched every skipped key; only for the names that then reach the
//! threshold are the skipped lists consulted (galloping, or a scan when the list is short),
//! and they are bounded again on what they really match. Only names whose bound reaches the
//! threshold are scored. There is no cap on candidates: the bound, not a count, decides, so
//! the bounded screen returns what the exhaustive scan returns.
//!
//! Memory, not instructions, is what a query waits for. On the full lists (UN, OFAC with its
//! alt.csv, MOF and METI: 52,477 names) the index holds 197,888 keys (a 4.2 MB table) over
//! 611,501 name postings, a vocabulary of 36,168 keys (64 bytes each) filed under 1.56 M
//! deletion variants (a 33 MB table over 1.68 M ids), and the names' weights (3.4 MB). A query
//! of the benchmark mix looks up ~23 keys and ~86 variants, checks ~54 vocabulary keys (~19
//! within reach), reads ~24 lists (~220 postings), touches ~130 names, refines ~34 on the
//! skipped lists and scores ~15; most first reads miss the cache. So [`Index::candidates`]
//! asks for them in waves: every key's and variant's hash is computed first and every home
//! slot prefetched before any is probed; then every id list, every vocabulary entry, and
//! every names list to be read, each wave before the first of it is read; a name's weights
//! are prefetched when it is first touched, long before it is bounded. The misses of a wave
//! overlap instead of following one another. The skipped lists are scanned against a bitmap
//! of the provisional names (6.5 KB, in L1) unless they are much longer than there are
//! provisional names, when galloping through them is cheaper.

use crate::analysis::{KoreanName, NameForms, Token, TOKENS_MAX};
use crate::matcher::Rarity;
use crate::normalize::within_edits;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

mod bound;
mod candidates;
mod key_table;
mod vocabulary;

use bound::*;
pub(crate) use candidates::merges_by_skeleton;
pub use candidates::Scratch;
#[cfg(test)]
use candidates::{intersect, token_keys};
use key_table::*;
use vocabulary::*;

/// Bound on query units (tokens over all forms: at most 9 forms of 12 tokens).
pub const UNITS_MAX: usize = 128;
/// At or below this name threshold the exhaustive scan is used: a Korean reading that shares
/// only a surname scores up to 0.4, and surnames are not indexed as units in every reading.
pub const EXHAUSTIVE_THRESHOLD_MAX: f64 = 0.45;
/// Upper bound of a Korean comparison whose given names share no key.
const KOREAN_SURNAME_ONLY_MAX: f64 = 0.4;
/// Rounding allowance: bounds are summed in another order than scores.
const BOUND_SLACK: f64 = 1e-9;
/// Keys longer than this have no edit-distance neighbours: `edit_distance` gives up when the
/// candidate key has 64 bytes or more, and the lengths differ by at most 2.
const DELETION_KEY_LEN_MAX: usize = 66;
/// Bound on posting entries (names × keys) of one index.
pub const POSTINGS_MAX: usize = 200_000_000;

const TAG_KEY: u8 = b'k';
const TAG_KOREAN: u8 = b'r';
const TAG_CLASS: u8 = b'c';
const TAG_DELETION: u8 = b'd';
const TAG_DELETION_TWO: u8 = b'D';
const TAG_GIVEN_CLASSES: u8 = b'g';
const TAG_GIVEN_JOINED: u8 = b'n';
const TAG_GIVEN_KEY: u8 = b'e';
const TAG_JOIN: u8 = b'm';
const TAG_IDENTIFIER: u8 = b'i';
/// An indexed initial of a person's name, by its letter.
const TAG_INITIAL: u8 = b'I';
/// An indexed word of a person's name, by its first letter (for the query's initials).
const TAG_INITIAL_WORD: u8 = b'W';
/// Consonant skeleton of an indexed token written in Arabic script.
const TAG_SKELETON_ABJAD: u8 = b'a';
/// Consonant skeleton of an indexed token in any other script.
const TAG_SKELETON_OTHER: u8 = b'l';
/// Consonant skeleton of an indexed join (adjacent tokens together) with a word in Arabic
/// script (only those merge by skeleton).
const TAG_JOIN_SKELETON: u8 = b'j';
/// A word (not a legal form) by its vowel pattern (`analysis::vowel_pattern`).
const TAG_VOWELS: u8 = b'v';

/// The set of key hashes of [`Index::abjad_keys`].
pub(crate) type AbjadKeys = std::collections::HashSet<u64, foldhash::fast::RandomState>;

/// A name shares a Korean given-name key with the query.
const FLAG_KOREAN: u8 = 1;
/// Adjacent tokens of the name may merge into one equal to a token or join of the query
/// (`Jong Un` / `Jongun`).
const FLAG_MERGE_NAME: u8 = 2;
/// Adjacent tokens of the query may merge into one equal to a token of the name (its units:
/// the tokens joined); the name's own tokens cannot merge (no [`FLAG_MERGE_NAME`]).
const FLAG_MERGE_QUERY: u8 = 8;
/// A join of the name equals a join of the query: after the query's tokens merge, the name's
/// may too. Matters only with [`FLAG_MERGE_QUERY`] (no query merge, no merged query token).
const FLAG_JOINS_MEET: u8 = 16;
/// The name's entity carries one of the query's identifiers.
const FLAG_IDENTIFIER: u8 = 4;

/// How closely a key says two tokens can match, and the similarity it caps them at: the
/// same key (`k`) up to 1; the same Korean key, surname class, consonant skeleton or a
/// vocabulary key one edit apart up to 0.95 (`matcher::token_similarity` gives 0.95, 0.9,
/// 0.85, 0.88); two edits apart up to 0.71.
const LEVEL_SIMILARITY_MAX: [f64; 3] = [1.0, 0.95, 0.71];
// An initial meets its words through far keys (`candidates::initial_keys`).
const _: () = assert!(crate::matcher::INITIAL_SIMILARITY <= LEVEL_SIMILARITY_MAX[2]);
const LEVEL_EXACT: u8 = 0;
const LEVEL_NEAR: u8 = 1;
const LEVEL_FAR: u8 = 2;
/// Set in a candidate position ([`Index::candidates`]) when the name may merge tokens with
/// the query; clear when it cannot (the screener then scores it without looking for merges).
pub const MERGE_BIT: u32 = 1 << 31;

fn key_hash(tag: u8, bytes: &[u8]) -> u64 {
    let mut hasher = foldhash::fast::FixedState::default().build_hasher();
    hasher.write_u8(tag);
    hasher.write(bytes);
    // `u64::MAX` marks an empty slot of the key table: the one key hashing to it shares the
    // hash below it (a collision, which only adds candidates).
    hasher.finish().min(KEY_HASH_MAX)
}

/// One query key: its units (tokens), their level, flags, and its posting list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryKey {
    hash: u64,
    units: u128,
    level: u8,
    flags: u8,
    range: KeyRange,
}

/// The retrieval index: posting lists keyed by hashed keys, and per name the form weights
/// the bound needs.
#[derive(Debug)]
pub struct Index {
    /// Key → its posting list (start, length in `postings`) and the heaviest rarity weight of
    /// a token that has the key (the most a match through it adds on the name's side).
    keys: KeyTable,
    /// Every key filed under the Arabic-script skeleton tags (a few thousand: the lists' names
    /// in Arabic script): a query skeleton key not here is not looked up in `keys`.
    abjad_keys: AbjadKeys,
    postings: Vec<u32>,
    /// Per name, its first form (one cache line per name bounded).
    forms_first: Vec<FormWeights>,
    /// Names' other forms (Hangul, kana and Han names have several).
    forms_more: Vec<FormWeights>,
    /// Per name, the fewest tokens of its forms: a byte per name (52 KB for the lists, in
    /// cache), read before `forms_first` to rule out the bound of a name every token of which
    /// matched ([`bound::Cap`]).
    tokens_min: Vec<u8>,
    /// The edit-distance vocabulary: every distinct token key of the names.
    vocabulary: Vocabulary,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::edit_distance;
    use std::collections::HashMap;

    /// The deletion variants of `text`'s key on one side.
    fn variants(text: &str, side: Side) -> Vec<u64> {
        let mut out = Vec::new();
        deletion_keys(&Token::new(text).key, side, &mut |hash| out.push(hash));
        out
    }

    /// The best level at which retrieval finds an indexed token for a query token, if it
    /// does: through a shared exact key, or through a shared deletion variant that the
    /// vocabulary's edit check lets through.
    fn meeting_level(query: &str, indexed: &str) -> Option<u8> {
        let (q, i) = (Token::new(query), Token::new(indexed));
        let mut indexed_keys = Vec::new();
        token_keys(&i, Side::Index, None, &mut |hash, _| {
            indexed_keys.push(hash)
        });
        let mut best = None;
        token_keys(&q, Side::Query, None, &mut |hash, level| {
            if indexed_keys.contains(&hash) {
                best = Some(best.map_or(level, |b: u8| b.min(level)));
            }
        });
        let indexed_variants = variants(indexed, Side::Index);
        let meet = variants(query, Side::Query)
            .iter()
            .any(|hash| indexed_variants.contains(hash));
        if meet && q.key != i.key {
            let letters = (q.key_letters, i.key_letters);
            if let Some(level) = edit_level(q.key.as_bytes(), i.key.as_bytes(), letters) {
                best = Some(best.map_or(level, |b: u8| b.min(level)));
            }
        }
        best
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 4096, ..Default::default() })]
        /// Keys within the edit distance the matcher allows meet in the index, within one edit
        /// at the near level: the levels cap similarity soundly.
        #[test]
        fn deletion_keys_cover_edit_distance(a in "[a-dé]{1,10}", b in "[a-dé]{1,10}") {
            let (ta, tb) = (Token::new(&a), Token::new(&b));
            let longer = ta.key.len().max(tb.key.len());
            if longer >= 4 {
                let allowed = if longer >= 8 { 2 } else { 1 };
                let distance = edit_distance(&ta.key, &tb.key, allowed);
                let level = meeting_level(&a, &b);
                if distance <= 1 {
                    proptest::prop_assert!(level.is_some_and(|l| l <= LEVEL_NEAR), "{a:?} {b:?}: {level:?}");
                } else if distance <= allowed {
                    proptest::prop_assert!(level.is_some(), "{a:?} {b:?}");
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 4096, ..Default::default() })]
        /// The same on pairs one or two edits apart (random pairs rarely are).
        #[test]
        fn deletion_keys_cover_nearby_keys(
            a in "[a-dé]{3,11}",
            edits in proptest::collection::vec((0u8..3, 0usize..12, "[a-dé]"), 1..3),
        ) {
            let mut b: Vec<char> = a.chars().collect();
            for (op, at, c) in edits {
                let c = c.chars().next().unwrap();
                let at = at % (b.len() + 1);
                match op {
                    0 => b.insert(at, c),
                    1 if at < b.len() => { b.remove(at); }
                    _ if at < b.len() => b[at] = c,
                    _ => b.push(c),
                }
            }
            let b: String = b.into_iter().collect();
            let (ta, tb) = (Token::new(&a), Token::new(&b));
            let longer = ta.key.len().max(tb.key.len());
            if longer >= 4 && !b.is_empty() {
                let allowed = if longer >= 8 { 2 } else { 1 };
                let distance = edit_distance(&ta.key, &tb.key, allowed);
                for (q, i) in [(&a, &b), (&b, &a)] {
                    let level = meeting_level(q, i);
                    if distance <= 1 {
                        proptest::prop_assert!(level.is_some_and(|l| l <= LEVEL_NEAR), "{q:?} {i:?}: {level:?}");
                    } else if distance <= allowed {
                        proptest::prop_assert!(level.is_some(), "{q:?} {i:?}");
                    }
                }
            }
        }
    }

    /// Builds a table of `homes` home slots over `hashes` (any order, repeats dropped), list
    /// lengths and weights drawn from `seed`, and checks every lookup of them and of `absent`
    /// (minus any that are present) against a `HashMap`.
    #[track_caller]
    fn check_key_table(homes: Option<usize>, mut hashes: Vec<u64>, absent: &[u64], seed: u64) {
        hashes.sort_unstable();
        hashes.dedup();
        let mut table = match homes {
            Some(homes) => KeyTable::with_homes(homes),
            None => KeyTable::with_keys(hashes.len()),
        };
        let mut expect = HashMap::new();
        let mut start = 0u32;
        let mut state = seed;
        for &hash in &hashes {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = 1 + (state >> 60) as u32;
            let weight_max = (state >> 40) as f32 / 1e3;
            table.push(hash, start, weight_max);
            let range = KeyRange {
                start,
                len,
                weight_max,
            };
            expect.insert(hash, range);
            start += len;
        }
        table.finish(start);
        assert_eq!(table.len(), hashes.len());
        assert_eq!(table.slots.last().map(|s| s.start), Some(start));
        for hash in hashes.iter().chain(absent) {
            let found = table.get(*hash);
            let expected = expect.get(hash).copied().unwrap_or_default();
            assert_eq!(found, expected, "{hash:#x}");
        }
    }

    proptest::proptest! {
        /// Lookups agree with a `HashMap` on random keys, present and absent, including the
        /// extreme hashes.
        #[test]
        fn key_table_matches_hash_map(
            present in proptest::collection::vec(proptest::prelude::any::<u64>(), 0..600),
            absent in proptest::collection::vec(proptest::prelude::any::<u64>(), 0..600),
            seed in proptest::prelude::any::<u64>(),
        ) {
            let present: Vec<u64> = present.into_iter().map(|h| h.min(KEY_HASH_MAX)).collect();
            let mut absent = absent;
            absent.extend([0, 1, KEY_HASH_MAX, u64::MAX / 2]);
            check_key_table(None, present, &absent, seed);
        }
    }

    #[test]
    fn key_table_full_and_colliding() {
        let spread = |n: u64| -> Vec<u64> {
            (0..n)
                .map(|i| {
                    (i + 1)
                        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                        .min(KEY_HASH_MAX)
                })
                .collect()
        };
        let absent: Vec<u64> = (0..2000u64)
            .map(|i| (i ^ 0x5555).wrapping_mul(0xD6E8_FEB8_6659_FD93))
            .collect();
        // Every home slot taken, or more keys than homes (the tail grows).
        check_key_table(Some(1000), spread(1000), &absent, 1);
        check_key_table(Some(16), spread(300), &absent, 2);
        // Many keys with one home slot (the first, the middle, the last), and runs that meet.
        let mut colliding = Vec::new();
        for base in [0, u64::MAX / 2, KEY_HASH_MAX - 500] {
            colliding.extend((0..200).map(|i| base + i * 2));
        }
        let near: Vec<u64> = colliding.iter().map(|h| h + 1).collect();
        check_key_table(Some(64), colliding.clone(), &near, 3);
        check_key_table(None, colliding, &near, 4);
        // Empty and one-key tables.
        check_key_table(None, vec![], &absent, 5);
        check_key_table(None, vec![KEY_HASH_MAX], &[0, SLOT_EMPTY_HASH - 2], 6);
        check_key_table(None, vec![0], &[1, KEY_HASH_MAX], 7);
    }

    #[test]
    fn key_table_sizes() {
        // Home slots ¾ full, beyond the smallest table.
        for keys_n in [0, 1, 12, 13, 1000, 1_756_474] {
            let homes = KeyTable::homes_for(keys_n);
            assert!(homes >= KeyTable::HOMES_MIN);
            assert!(keys_n * 4 <= homes * 3 + 3, "{keys_n} keys, {homes} homes");
            assert!(homes <= (keys_n * 4 / 3 + 1).max(KeyTable::HOMES_MIN));
        }
        assert_eq!(std::mem::size_of::<KeySlot>(), 16);
    }

    #[test]
    fn galloping_intersection() {
        let list: Vec<u32> = (0..1000).map(|i| i * 3).collect();
        for small in [
            vec![],
            vec![0],
            vec![1, 2, 3],
            vec![3, 6, 7, 2997, 2998, 5000],
            vec![2997],
        ] {
            let mut found = Vec::new();
            intersect(&list, &small, |p| found.push(p));
            let expect: Vec<u32> = small.iter().copied().filter(|p| list.contains(p)).collect();
            assert_eq!(found, expect, "{small:?}");
        }
        let mut found = Vec::new();
        intersect(&[], &[1, 2], |p| found.push(p));
        assert!(found.is_empty());
    }

    /// The first version: each variant copied from prefix and suffix.
    fn deletions_copied(key: &[u8], two: bool) -> Vec<(Vec<u8>, u8)> {
        let mut out = vec![(key.to_vec(), 0)];
        for i in 0..key.len() {
            let one: Vec<u8> = [&key[..i], &key[i + 1..]].concat();
            out.push((one.clone(), 1));
            if two {
                for j in i..one.len() {
                    out.push(([&one[..j], &one[j + 1..]].concat(), 2));
                }
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn deletions_in_place_equal_copied(key in "[a-e]{0,12}", two: bool) {
            let mut seen = Vec::new();
            deletions(key.as_bytes(), two, &mut |variant, depth| seen.push((variant.to_vec(), depth)));
            proptest::prop_assert_eq!(seen, deletions_copied(key.as_bytes(), two));
        }
    }

    #[test]
    fn deletion_variants_of_a_short_key() {
        let mut seen = Vec::new();
        deletions(b"abc", true, &mut |variant, depth| {
            seen.push((variant.to_vec(), depth))
        });
        // Itself, 3 one-deletions, 3 two-deletions.
        assert_eq!(seen.len(), 1 + 3 + 3);
        assert_eq!(seen.iter().filter(|(_, d)| *d == 2).count(), 3);
        assert!(seen.contains(&(b"ac".to_vec(), 1)));
        assert!(seen.contains(&(b"a".to_vec(), 2)));
    }

    #[test]
    fn similar_tokens_meet_at_their_level() {
        assert_eq!(meeting_level("rashidi", "rashidi"), Some(LEVEL_EXACT));
        assert_eq!(meeting_level("rashedi", "rashidi"), Some(LEVEL_NEAR));
        assert_eq!(meeting_level("abramovich", "abramowicz"), Some(LEVEL_FAR));
        // Two edits, but only in the vowels: the vowel pattern's key, near.
        assert_eq!(meeting_level("muhammad", "mohammed"), Some(LEVEL_NEAR));
        assert_eq!(meeting_level("kim", "pak"), None);
    }
}
