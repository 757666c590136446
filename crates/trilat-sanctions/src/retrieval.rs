//! Score-aware candidate retrieval: which indexed names can reach a query's threshold.
//!
//! The index holds, for every way two names can score above zero, a key both names share:
//!
//! - token similarity (`matcher::token_similarity`): the token key, the Korean phonetic key
//!   and the surname class; and for edit distance, the *vocabulary* (every distinct token key
//!   of the names) filed under its *deletion neighbourhood* (every key with up to one byte
//!   deleted, two for keys of 6 bytes or more): two keys within edit distance 1 (2) share a
//!   variant with up to 1 (2) deletions, so no typo escapes the index the way it escapes
//!   trigram lists cut for length. A query token looks its variants up, checks each
//!   vocabulary key found with the matcher's own edit rule (linear for 1 or 2 edits), and
//!   reads the names list of only the keys within reach, at the level their distance allows:
//!   filing names under every variant read each name once per shared variant and touched a
//!   third more names than were similar at all;
//! - the Korean given name compared as a unit: its syllable classes, its written form and the
//!   one-deletion neighbourhood of its phonetic key;
//! - merged tokens (`Jong Un` = `Jongun`): adjacent tokens joined, on both sides;
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
//! so is one whose own adjacent tokens may merge (a join of the name equals a query token, or
//! a query join when the query's tokens merge too). When only the query's tokens may merge
//! (a query join equals a name token), the name is scored if its bound with merges reaches
//! the threshold (`Index::merged_bound`: units that neither match nor merge stay unmatched).
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
/// same key (`k`) up to 1; the same Korean key, surname class or a vocabulary key one edit
/// apart up to 0.95 (`matcher::token_similarity` gives 0.95, 0.9, 0.88); two edits apart up
/// to 0.71.
const LEVEL_SIMILARITY_MAX: [f64; 3] = [1.0, 0.95, 0.71];
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

/// Calls `visit(variant, deletions)` for `key` itself (0), every key with one byte deleted
/// (1), and with `two` every key with two bytes deleted (2; repeats possible). `key` has at
/// most [`DELETION_KEY_LEN_MAX`] bytes.
///
/// Each variant is made from the previous one by restoring one byte in a stack buffer: a
/// query makes ~90 variants, and copying prefix and suffix for each showed in profiles
/// (docs/bench/sanctions.md, "Measurements behind the code").
fn deletions(key: &[u8], two: bool, visit: &mut dyn FnMut(&[u8], u8)) {
    assert!(key.len() <= DELETION_KEY_LEN_MAX);
    visit(key, 0);
    let n = key.len();
    if n == 0 {
        return;
    }
    // `one` = `key` without byte `i`: start without byte 0, then put byte i - 1 back at i - 1.
    let mut one = [0u8; DELETION_KEY_LEN_MAX];
    one[..n - 1].copy_from_slice(&key[1..]);
    let mut two_deleted = [0u8; DELETION_KEY_LEN_MAX];
    for i in 0..n {
        if i > 0 {
            one[i - 1] = key[i - 1];
        }
        let one = &one[..n - 1];
        visit(one, 1);
        if two && i < one.len() {
            // `two_deleted` = `one` without byte `j`, for j from i: the same trick.
            let m = one.len();
            two_deleted[..i].copy_from_slice(&one[..i]);
            two_deleted[i..m - 1].copy_from_slice(&one[i + 1..]);
            for j in i..m {
                if j > i {
                    two_deleted[j - 1] = one[j - 1];
                }
                visit(&two_deleted[..m - 1], 2);
            }
        }
    }
}

/// Which side of the index keys are made for: the index files a name's deletion variants by
/// depth (`d` up to one, `D` two); the query looks its variants up in both, so that two keys
/// within edit distance 1 meet in a `d` list (near level) and within 2 in some list (far).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Index,
    Query,
}

/// The keys through which `token` equals another token up to romanisation: its key (exact
/// level), its Korean key and its surname class (near level). Edit distance goes through the
/// vocabulary ([`deletion_keys`]).
fn token_keys(token: &Token, push: &mut dyn FnMut(u64, u8)) {
    push(key_hash(TAG_KEY, token.key.as_bytes()), LEVEL_EXACT);
    push(key_hash(TAG_KOREAN, token.korean.as_bytes()), LEVEL_NEAR);
    if let Some(class) = token.surname_class {
        push(key_hash(TAG_CLASS, &class.to_le_bytes()), LEVEL_NEAR);
    }
}

/// Every deletion variant through which a token key can be within the edit distance
/// `matcher::token_similarity` allows of another (see the module docs): on the index side the
/// vocabulary's keys are filed under them, on the query side they are looked up.
fn deletion_keys(key: &str, side: Side, push: &mut dyn FnMut(u64)) {
    let len = key.len();
    // `token_similarity` tries edit distance when the longer key has 4 bytes or more, allowing
    // 2 edits from 8 bytes: a pair within reach has both keys of 3 bytes or more (of 6 or more
    // when 2 edits are allowed).
    if !(3..=DELETION_KEY_LEN_MAX).contains(&len) {
        return;
    }
    match side {
        Side::Index => deletions(key.as_bytes(), len >= 6, &mut |variant, depth| {
            let tag = if depth <= 1 {
                TAG_DELETION
            } else {
                TAG_DELETION_TWO
            };
            push(key_hash(tag, variant))
        }),
        Side::Query => {
            // Two edits need a key of 8 bytes or more on one side and 6 or more on the other.
            // A query key of length m meets an indexed key of length n (|m - n| <= 2) with i
            // bytes deleted from it and j from the other, j - i = n - m: a 6-byte query key
            // meets the two-deletion lists undeleted, a 7-byte one with up to one deletion,
            // and only from 8 bytes does the query need two-deletion variants of its own.
            let query_deleted_max = match len {
                6 => Some(0),
                7 => Some(1),
                8.. => Some(2),
                _ => None,
            };
            deletions(key.as_bytes(), len >= 8, &mut |variant, depth| {
                push(key_hash(TAG_DELETION, variant));
                if query_deleted_max.is_some_and(|max| depth <= max) {
                    push(key_hash(TAG_DELETION_TWO, variant));
                }
            });
        }
    }
}

/// The similarity level at which token keys `query` and `indexed` (different) can match
/// through edit distance, as `matcher::token_similarity` decides it (`letters`: their
/// [`crate::analysis::letter_mask`]s); `None` when they cannot.
fn edit_level(query: &[u8], indexed: &[u8], letters: (u64, u64)) -> Option<u8> {
    let len = query.len().max(indexed.len());
    if len < 4 {
        return None;
    }
    let allowed = if len >= 8 { 2 } else { 1 };
    // Half the letter sets' difference is a lower bound on the distance (as in the matcher).
    if ((letters.0 ^ letters.1).count_ones() as usize).div_ceil(2) > allowed {
        return None;
    }
    if within_edits(query, indexed, 1) {
        Some(LEVEL_NEAR)
    } else if allowed == 2 && within_edits(query, indexed, 2) {
        Some(LEVEL_FAR)
    } else {
        None
    }
}

/// Every key through which two Korean readings' given names can match (`matcher::korean_parts`:
/// written form, phonetic key, syllable classes, one edit on the phonetic key).
fn given_keys(korean: &KoreanName, push: &mut dyn FnMut(u64)) {
    let mut classes = Vec::with_capacity(32);
    for (i, class) in korean.given_classes.iter().enumerate() {
        if i > 0 {
            classes.push(0);
        }
        classes.extend_from_slice(class.as_bytes());
    }
    push(key_hash(TAG_GIVEN_CLASSES, &classes));
    push(key_hash(TAG_GIVEN_JOINED, korean.given_joined.as_bytes()));
    let key = korean.given_key.as_bytes();
    if (4..=DELETION_KEY_LEN_MAX).contains(&key.len()) {
        deletions(key, false, &mut |variant, _| {
            push(key_hash(TAG_GIVEN_KEY, variant))
        });
    } else {
        push(key_hash(TAG_GIVEN_KEY, key));
    }
}

/// Calls `found` for every element of `small` (sorted) that is in `list` (sorted), galloping
/// through `list`: cost grows with `small.len() * log(list.len())`, not with the list.
fn intersect(list: &[u32], small: &[u32], mut found: impl FnMut(u32)) {
    debug_assert!(small.windows(2).all(|w| w[0] <= w[1]));
    let mut rest = list;
    for &name_pos in small {
        // Gallop: find a step past `name_pos`, then binary search within it.
        let mut step = 1;
        while step < rest.len() && rest[step - 1] < name_pos {
            step *= 2;
        }
        let window = &rest[..step.min(rest.len())];
        let at = window.partition_point(|&p| p < name_pos);
        rest = &rest[at..];
        match rest.first() {
            Some(&p) if p == name_pos => found(name_pos),
            Some(_) => {}
            None => return,
        }
    }
}

/// Asks the CPU to bring `value`'s cache line in and goes on: a query's key lookups and list
/// reads each miss the cache (a multi-megabyte table read at random), and misses requested
/// together overlap instead of following one another.
#[inline(always)]
fn prefetch_read<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults nor changes memory, whatever the address
    // (this one is a live reference's).
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
            (value as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Where a key's posting list is, and what a match through it can add at most.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct KeyRange {
    start: u32,
    len: u32,
    /// The heaviest rarity weight of a token that has the key, rounded up to `f32`.
    weight_max: f32,
}

/// The largest key hash; `u64::MAX` marks an empty [`KeyTable`] slot.
const KEY_HASH_MAX: u64 = u64::MAX - 1;
const SLOT_EMPTY_HASH: u64 = u64::MAX;
/// Bound on keys of one index (the table's slots are `u32`-addressed, like the postings).
const KEYS_MAX: usize = POSTINGS_MAX;

/// One slot of the [`KeyTable`]: a key hash (or [`SLOT_EMPTY_HASH`]), where its list starts
/// (an empty slot: where the next list starts) and its `weight_max`. 16 bytes: 4 per line.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(16))]
struct KeySlot {
    hash: u64,
    start: u32,
    weight_max: f32,
}

/// Key hash → posting list, as flat open addressing built once and read per query key.
///
/// The hashes are already uniform, so a key's *home* slot is the hash scaled to the slot count
/// (`hash × homes / 2⁶⁴`, one multiplication, no rehash; it keeps hash order, which a shift
/// by a power of two would too, at up to twice the memory), with home slots ¾ full. Keys are
/// inserted in ascending hash order, each at its home or just after the previous key, so the
/// slots hold keys in ascending hash order (no wrap-around: the last homes overflow past the
/// home slots, into a tail) and
/// postings are laid out in slot order: a list ends where the next slot's starts, so a slot
/// needs no length. A lookup probes from the home slot while the slot's hash is below the
/// key's (empty slots hold `u64::MAX`, which stops it), and finds the key there or nowhere:
/// one comparison per probe, absent keys stop as early as present ones, and the home slot's
/// address is known from the hash alone, so a query's lookups can be prefetched together.
#[derive(Debug)]
struct KeyTable {
    /// Home slots, the overflow tail, then one empty sentinel slot whose `start` is the
    /// postings' end.
    slots: Vec<KeySlot>,
    /// Home slots: a hash's home is `hash × homes / 2⁶⁴`.
    homes: u64,
}

impl KeyTable {
    /// Smallest table.
    const HOMES_MIN: usize = 16;

    /// Home slots for `keys_n` keys: keys fill ¾ of them.
    fn homes_for(keys_n: usize) -> usize {
        (keys_n.saturating_mul(4) / 3 + 1).max(Self::HOMES_MIN)
    }

    /// An empty table for `keys_n` keys, to be filled with [`KeyTable::push`] in ascending
    /// hash order and closed with [`KeyTable::finish`].
    fn with_keys(keys_n: usize) -> KeyTable {
        assert!(keys_n <= KEYS_MAX);
        Self::with_homes(Self::homes_for(keys_n))
    }

    /// An empty table of `homes` home slots (tests fill some completely).
    fn with_homes(homes: usize) -> KeyTable {
        assert!(homes >= Self::HOMES_MIN);
        assert!(homes <= KEYS_MAX * 2);
        KeyTable {
            // The overflow tail is short (a few slots): room for it without regrowing.
            slots: Vec::with_capacity(homes + homes / 64 + 16),
            homes: homes as u64,
        }
    }

    /// Adds the key `hash` (above every key pushed so far, at most [`KEY_HASH_MAX`]), whose
    /// list starts at `start` (not before the previous key's) and ends where the next key's
    /// starts.
    fn push(&mut self, hash: u64, start: u32, weight_max: f32) {
        assert!(hash <= KEY_HASH_MAX);
        if let Some(last) = self.slots.last() {
            assert!(last.hash < hash, "keys pushed in ascending hash order");
            assert!(last.start <= start);
        }
        let home = self.home(hash);
        while self.slots.len() < home {
            self.slots.push(KeySlot {
                hash: SLOT_EMPTY_HASH,
                start,
                weight_max: 0.0,
            });
        }
        self.slots.push(KeySlot {
            hash,
            start,
            weight_max,
        });
    }

    /// Closes the table over postings of `postings_len` entries: empty home slots up to the
    /// power of two, then the sentinel.
    fn finish(&mut self, postings_len: u32) {
        let homes = self.homes as usize;
        if let Some(last) = self.slots.last() {
            assert!(last.start <= postings_len);
        }
        while self.slots.len() < homes {
            self.slots.push(KeySlot {
                hash: SLOT_EMPTY_HASH,
                start: postings_len,
                weight_max: 0.0,
            });
        }
        self.slots.push(KeySlot {
            hash: SLOT_EMPTY_HASH,
            start: postings_len,
            weight_max: 0.0,
        });
        self.slots.shrink_to_fit();
        debug_assert!(self.slots.windows(2).all(|w| w[0].start <= w[1].start));
    }

    fn home(&self, hash: u64) -> usize {
        let home = ((u128::from(hash) * u128::from(self.homes)) >> 64) as usize;
        debug_assert!(home < self.homes as usize);
        home
    }

    /// Starts loading the slots [`KeyTable::get`] reads first for `hash` (its home slot and
    /// the next, where the list ends), without waiting for them.
    fn prefetch(&self, hash: u64) {
        let home = self.home(hash);
        prefetch_read(&self.slots[home]);
        // The sentinel follows the last home slot.
        prefetch_read(&self.slots[home + 1]);
    }

    /// The list of the key `hash` (empty when absent).
    fn get(&self, hash: u64) -> KeyRange {
        let mut at = self.home(hash);
        // The sentinel (empty, `u64::MAX`) stops every probe before the end.
        while self.slots[at].hash < hash {
            at += 1;
        }
        let slot = &self.slots[at];
        if slot.hash != hash {
            return KeyRange::default();
        }
        let end = self.slots[at + 1].start;
        debug_assert!(slot.start <= end);
        KeyRange {
            start: slot.start,
            len: end - slot.start,
            weight_max: slot.weight_max,
        }
    }

    /// Keys held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|slot| slot.hash != SLOT_EMPTY_HASH)
            .count()
    }
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

/// One candidate form's weights in one cache line: its total and the prefix sums of its
/// token weights, heaviest first (`prefix[k - 1]` = weight of the `k` heaviest tokens,
/// rounded *up* to `f32`, so the bound stays an upper bound); on a name's first form, where
/// its other forms are in `Index::forms_more`.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct FormWeights {
    total: f64,
    prefix: [f32; TOKENS_MAX],
    more_start: u32,
    more_n: u8,
    tokens_n: u8,
}

/// `x` as the smallest `f32` not below it (`x` finite, non-negative).
fn f32_up(x: f64) -> f32 {
    debug_assert!(x.is_finite() && x >= 0.0);
    let rounded = x as f32;
    let up = if f64::from(rounded) < x {
        f32::from_bits(rounded.to_bits() + 1)
    } else {
        rounded
    };
    debug_assert!(f64::from(up) >= x);
    up
}

impl FormWeights {
    fn of(weights: &mut [f64]) -> FormWeights {
        assert!(weights.len() <= TOKENS_MAX);
        weights.sort_unstable_by(|a, b| b.total_cmp(a));
        let mut prefix = [0.0f32; TOKENS_MAX];
        let mut sum = 0.0;
        for (slot, weight) in prefix.iter_mut().zip(weights.iter()) {
            sum += weight;
            *slot = f32_up(sum);
        }
        FormWeights {
            total: sum,
            prefix,
            more_start: 0,
            more_n: 0,
            tokens_n: weights.len() as u8,
        }
    }
}

/// The retrieval index: posting lists keyed by hashed keys, and per name the form weights
/// the bound needs.
#[derive(Debug)]
pub struct Index {
    /// Key → its posting list (start, length in `postings`) and the heaviest rarity weight of
    /// a token that has the key (the most a match through it adds on the name's side).
    keys: KeyTable,
    postings: Vec<u32>,
    /// Per name, its first form (one cache line per name bounded).
    forms_first: Vec<FormWeights>,
    /// Names' other forms (Hangul, kana and Han names have several).
    forms_more: Vec<FormWeights>,
    /// The edit-distance vocabulary: every distinct token key of the names.
    vocabulary: Vocabulary,
}

/// The distinct token keys of the indexed names, and their deletion variants. A query token
/// finds the keys within edit distance here, checks each with the matcher's own rule, and
/// reads the names of only those that pass (one list per similar key): filing every name
/// under every variant of its tokens read each name once per shared variant, and touched
/// a third more names than were similar at all.
#[derive(Debug)]
struct Vocabulary {
    /// Per key, what checking it needs, in one cache line.
    entries: Vec<VocabularyEntry>,
    /// Keys longer than [`KEY_INLINE_MAX`], concatenated.
    long_keys: String,
    /// Deletion variant → the vocabulary ids having it, in `ids`.
    variants: KeyTable,
    ids: Vec<u32>,
}

/// Key bytes held in a [`VocabularyEntry`] itself (most keys: one memory read per key checked).
const KEY_INLINE_MAX: usize = 24;

/// One vocabulary key: its names list, letter set and bytes.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct VocabularyEntry {
    /// The names list of the key (its exact-key list in `Index::ranges`).
    names: KeyRange,
    letters: u64,
    len: u32,
    /// Where the key is in `long_keys` when longer than [`KEY_INLINE_MAX`].
    long_start: u32,
    inline: [u8; KEY_INLINE_MAX],
}

impl Vocabulary {
    fn push(&mut self, key: &str, letters: u64) {
        let mut entry = VocabularyEntry {
            names: KeyRange::default(),
            letters,
            len: key.len() as u32,
            long_start: 0,
            inline: [0; KEY_INLINE_MAX],
        };
        if key.len() <= KEY_INLINE_MAX {
            entry.inline[..key.len()].copy_from_slice(key.as_bytes());
        } else {
            entry.long_start = self.long_keys.len() as u32;
            self.long_keys.push_str(key);
        }
        self.entries.push(entry);
    }

    fn key<'s>(&'s self, entry: &'s VocabularyEntry) -> &'s [u8] {
        let len = entry.len as usize;
        if len <= KEY_INLINE_MAX {
            &entry.inline[..len]
        } else {
            &self.long_keys.as_bytes()[entry.long_start as usize..][..len]
        }
    }
}

/// Per-thread accumulator, reused across queries: per name the query units and flags its
/// keys matched, and the names touched (so a query costs what it touches).
#[derive(Debug, Default)]
pub struct Scratch {
    /// Per name, its entry in `touched` (`SLOT_NONE` when untouched): 4 bytes per name
    /// touched at random, the rest kept together in the order names are touched.
    slot_of: Vec<u32>,
    touched: Vec<Touched>,
    /// (key hash, units, level, flags) of the query.
    keys: Vec<QueryKey>,
    /// Touched names whose bound reaches the threshold if they match the skipped units.
    provisional: Vec<u32>,
    /// The query's deletion variants (hash, unit).
    variants: Vec<(u64, u8)>,
    /// Their vocabulary id lists (non-empty ones).
    variant_ranges: Vec<(KeyRange, u8)>,
    /// The bound's per-query buffers.
    units: UnitsBuffers,
    /// Vocabulary ids found for the query's units (unit, id).
    vocabulary_found: Vec<(u8, u32)>,
    /// One bit per name, set for the provisional names while the skipped lists are read
    /// (6.5 KB for 52,000 names: a list is scanned against it from L1).
    provisional_bits: Vec<u64>,
}

/// A skipped list is scanned (each entry tested against the provisional names' bits) when it
/// has at most this many entries per provisional name, else galloped through: 8 was as fast
/// as 16 with fewer entries scanned (docs/bench/sanctions.md, "Measurements behind the
/// code").
const SCAN_PER_PROVISIONAL_MAX: usize = 8;

/// An untouched name's slot.
const SLOT_NONE: u32 = u32::MAX;

/// A name touched by the query: the units its keys matched at each level, and flags.
#[derive(Debug, Clone, Copy)]
struct Touched {
    name_pos: u32,
    flags: u8,
    units: [u128; 3],
    /// Query units that may merge into a token equal to one of the name's.
    merge_units: u128,
}

impl Scratch {
    fn prepare(&mut self, names_n: usize) {
        self.reset();
        if self.slot_of.len() < names_n {
            self.slot_of.resize(names_n, SLOT_NONE);
        }
        if self.provisional_bits.len() < names_n.div_ceil(64) {
            self.provisional_bits.resize(names_n.div_ceil(64), 0);
        }
        debug_assert!(self.provisional_bits.iter().all(|&word| word == 0));
        self.keys.clear();
    }

    fn reset(&mut self) {
        for entry in &self.touched {
            self.slot_of[entry.name_pos as usize] = SLOT_NONE;
        }
        self.touched.clear();
    }
}

/// The query's units: per form its token bits, weights and total, and per unit the heaviest
/// name-side token its keys can match (per level group: near keys, far keys).
struct Units {
    weights: [f64; UNITS_MAX],
    /// Heaviest partner through the unit's near keys (exact, Korean, class, one deletion).
    partner_near: [f64; UNITS_MAX],
    /// Heaviest partner through the unit's far keys (two deletions).
    partner_far: [f64; UNITS_MAX],
    /// (bits of the form's tokens, the form's total weight)
    forms: Vec<(u128, f64)>,
    /// Per form, its joins: (bits of the tokens joined, the joined token's weight).
    joins: Vec<Vec<(u128, f64)>>,
    /// Query-side terms of the bound per matched-units triple (few distinct ones per query,
    /// hundreds of names): direct-mapped, `TERMS_MEMO_SLOTS` slots of one entry per form.
    memo_keys: Vec<Option<[u128; 3]>>,
    memo_terms: Vec<Option<FormTerms>>,
}

/// Slots of the per-query memo of bound terms.
const TERMS_MEMO_SLOTS: usize = 64;

/// The query side of a name's bound for one query form: matched units `k`, their weight
/// times their level's similarity cap, the largest cap, and their heaviest partners' sum.
#[derive(Debug, Clone, Copy)]
struct FormTerms {
    /// The query form's total weight.
    total: f64,
    k: u8,
    query_matched: f64,
    similarity_max: f64,
    partners: f64,
}

/// The heap buffers of [`Units`], kept in [`Scratch`] from one query to the next (allocation
/// showed in the screening profile).
#[derive(Debug, Default)]
struct UnitsBuffers {
    forms: Vec<(u128, f64)>,
    joins: Vec<Vec<(u128, f64)>>,
    memo_keys: Vec<Option<[u128; 3]>>,
    memo_terms: Vec<Option<FormTerms>>,
}

impl Units {
    /// `None` when the query has more than [`UNITS_MAX`] tokens over its forms. `buffers` are
    /// a previous query's ([`Units::into_buffers`]), emptied here.
    fn of(forms: &NameForms, rarity: &Rarity, buffers: UnitsBuffers) -> Option<Units> {
        let UnitsBuffers {
            forms: mut unit_forms,
            mut joins,
            mut memo_keys,
            mut memo_terms,
        } = buffers;
        unit_forms.clear();
        // Inner vectors kept (cleared below, per form) so that their capacity is reused.
        joins.truncate(forms.forms.len());
        memo_keys.clear();
        memo_keys.resize(TERMS_MEMO_SLOTS, None);
        // A slot's terms are read only after being written for the key `memo_keys` holds.
        let terms_n = TERMS_MEMO_SLOTS * forms.forms.len();
        if memo_terms.len() < terms_n {
            memo_terms.resize(terms_n, None);
        }
        let mut units = Units {
            weights: [0.0; UNITS_MAX],
            partner_near: [0.0; UNITS_MAX],
            partner_far: [0.0; UNITS_MAX],
            forms: unit_forms,
            joins,
            memo_keys,
            memo_terms,
        };
        let mut next = 0;
        for form in &forms.forms {
            let mut bits = 0u128;
            let mut total = 0.0;
            let form_start = next;
            for token in &form.tokens {
                if next >= UNITS_MAX {
                    return None;
                }
                let weight = rarity.weight(token);
                units.weights[next] = weight;
                total += weight;
                bits |= 1u128 << next;
                next += 1;
            }
            units.forms.push((bits, total));
            let form_idx = units.forms.len() - 1;
            if units.joins.len() == form_idx {
                units.joins.push(Vec::new());
            }
            let form_joins = &mut units.joins[form_idx];
            form_joins.clear();
            form_joins.extend(form.joins.iter().map(|join| {
                let joined = ((1u128 << join.width) - 1) << (form_start + join.start);
                debug_assert_eq!(joined & !bits, 0);
                (joined, rarity.weight(&join.token))
            }));
        }
        debug_assert_eq!(units.joins.len(), units.forms.len());
        Some(units)
    }

    /// The heap buffers, for the next query.
    fn into_buffers(self) -> UnitsBuffers {
        UnitsBuffers {
            forms: self.forms,
            joins: self.joins,
            memo_keys: self.memo_keys,
            memo_terms: self.memo_terms,
        }
    }

    /// The bound's query-side terms per query form for `matched` (`None` for a form none of
    /// whose units matched), memoised.
    fn terms(&mut self, matched: [u128; 3]) -> &[Option<FormTerms>] {
        let forms_n = self.forms.len();
        let folded = matched.iter().fold(0u64, |h, m| {
            (h ^ (*m as u64) ^ ((*m >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        });
        let slot = (folded >> 58) as usize % TERMS_MEMO_SLOTS;
        // Compared field by field: `!=` on the arrays is a `memcmp` call (seen in the profile).
        let hit = self.memo_keys[slot].is_some_and(|held| {
            held[0] == matched[0] && held[1] == matched[1] && held[2] == matched[2]
        });
        if !hit {
            for (form_idx, &(bits, total)) in self.forms.iter().enumerate() {
                self.memo_terms[slot * forms_n + form_idx] = self.form_terms(matched, bits, total);
            }
            self.memo_keys[slot] = Some(matched);
        }
        &self.memo_terms[slot * forms_n..(slot + 1) * forms_n]
    }

    fn form_terms(&self, matched: [u128; 3], bits: u128, total: f64) -> Option<FormTerms> {
        // Each unit at its best level only.
        let exact = matched[0] & bits;
        let near = matched[1] & bits & !exact;
        let far = matched[2] & bits & !exact & !near;
        let any = exact | near | far;
        if any == 0 {
            return None;
        }
        let level = if exact != 0 {
            0
        } else if near != 0 {
            1
        } else {
            2
        };
        Some(FormTerms {
            total,
            k: any.count_ones() as u8,
            query_matched: self.weight_of(exact) * LEVEL_SIMILARITY_MAX[0]
                + self.weight_of(near) * LEVEL_SIMILARITY_MAX[1]
                + self.weight_of(far) * LEVEL_SIMILARITY_MAX[2],
            similarity_max: LEVEL_SIMILARITY_MAX[level],
            // Each matched unit pairs with one name token, no heavier than its keys' heaviest.
            partners: self.partners_of(any, 0),
        })
    }

    /// Records the heaviest partner of every unit of `key`.
    fn add_partners(&mut self, key: &QueryKey) {
        let partners = if key.level == LEVEL_FAR {
            &mut self.partner_far
        } else {
            &mut self.partner_near
        };
        let mut bits = key.units;
        while bits != 0 {
            let unit = bits.trailing_zeros() as usize;
            partners[unit] = partners[unit].max(f64::from(key.range.weight_max));
            bits &= bits - 1;
        }
    }

    fn weight_of(&self, mut bits: u128) -> f64 {
        let mut sum = 0.0;
        while bits != 0 {
            sum += self.weights[bits.trailing_zeros() as usize];
            bits &= bits - 1;
        }
        sum
    }

    /// The most the name side adds for the units `near` (through any key) and `far` (through
    /// far keys only).
    fn partners_of(&self, mut near: u128, mut far: u128) -> f64 {
        let mut sum = 0.0;
        while near != 0 {
            let unit = near.trailing_zeros() as usize;
            sum += self.partner_near[unit].max(self.partner_far[unit]);
            near &= near - 1;
        }
        while far != 0 {
            sum += self.partner_far[far.trailing_zeros() as usize];
            far &= far - 1;
        }
        sum
    }

    /// Best generic score a name *not touched* by any read key could reach when the skipped
    /// keys all match it: a unit whose near keys are skipped at similarity up to 1, one whose
    /// far keys only up to 0.71; each matched unit pairs with one name token no heavier than
    /// the heaviest token with one of those keys.
    fn untouched_bound(&self, skipped: Skipped) -> f64 {
        let mut best: f64 = 0.0;
        for &(bits, total) in &self.forms {
            let near = skipped.near & bits;
            let far = skipped.far & bits & !near;
            if near | far == 0 {
                continue;
            }
            let similarity_max = if near != 0 {
                LEVEL_SIMILARITY_MAX[0]
            } else {
                LEVEL_SIMILARITY_MAX[2]
            };
            // A near-skipped unit whose far keys are read matches untouched names through
            // near keys only; both skipped, through either.
            let mut other = 0.0;
            let mut bits_left = near;
            while bits_left != 0 {
                let unit = bits_left.trailing_zeros() as usize;
                other += if skipped.far & (1u128 << unit) != 0 {
                    self.partner_near[unit].max(self.partner_far[unit])
                } else {
                    self.partner_near[unit]
                };
                bits_left &= bits_left - 1;
            }
            other += self.partners_of(0, far);
            let query_matched = self.weight_of(near) * LEVEL_SIMILARITY_MAX[0]
                + self.weight_of(far) * LEVEL_SIMILARITY_MAX[2];
            // (a + s x) / (b + x) grows with x while a <= s b, which holds: take x at its most.
            best = best.max((query_matched + similarity_max * other) / (total + other));
        }
        best
    }
}

/// Units whose keys are not read: `near`, their exact and near keys (and so assumed to match
/// exactly); `far`, their far keys (assumed to match at the far level).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Skipped {
    near: u128,
    far: u128,
}

impl Skipped {
    /// True when `key` is not read.
    fn covers(self, key: &QueryKey) -> bool {
        let bits = if key.level == LEVEL_FAR {
            self.far
        } else {
            self.near
        };
        key.flags == 0 && key.units & !bits == 0
    }

    /// `matched` with the skipped units assumed matched.
    fn assumed(self, mut matched: [u128; 3]) -> [u128; 3] {
        matched[usize::from(LEVEL_EXACT)] |= self.near;
        matched[usize::from(LEVEL_FAR)] |= self.far;
        matched
    }
}

impl Index {
    /// Builds the index over analysed names (annotated with `rarity`'s weights, which the
    /// bounds use) and their entities' identifiers (`(value, name position)`).
    pub fn new<'a>(
        names: &[&'a NameForms],
        identifiers: impl Iterator<Item = (&'a str, u32)>,
        rarity: &Rarity,
    ) -> crate::error::Result<Index> {
        // (key, name, weight of the token that has the key; 0 for other keys)
        let mut entries: Vec<(u64, u32, f64)> = Vec::new();
        let mut vocabulary = Vocabulary {
            entries: Vec::new(),
            long_keys: String::new(),
            variants: KeyTable::with_keys(0),
            ids: Vec::new(),
        };
        let mut vocabulary_ids: HashMap<&str, u32, foldhash::fast::RandomState> =
            HashMap::default();
        let mut forms_first = Vec::with_capacity(names.len());
        let mut forms_more = Vec::new();
        for (name_pos, name) in names.iter().enumerate() {
            let name_pos = name_pos as u32;
            if name_pos >= MERGE_BIT {
                return Err(crate::error::Error::new(
                    crate::error::ErrorKind::LimitExceeded,
                    "lists",
                    format!("more than {MERGE_BIT} names"),
                ));
            }
            let more_start = forms_more.len();
            for (form_idx, form) in name.forms.iter().enumerate() {
                for token in &form.tokens {
                    let weight = rarity.weight(token);
                    token_keys(token, &mut |hash, _| entries.push((hash, name_pos, weight)));
                    if !vocabulary_ids.contains_key(token.key.as_str()) {
                        vocabulary_ids.insert(&token.key, vocabulary.entries.len() as u32);
                        vocabulary.push(&token.key, token.key_letters);
                    }
                }
                for join in &form.joins {
                    entries.push((
                        key_hash(TAG_JOIN, join.token.korean.as_bytes()),
                        name_pos,
                        0.0,
                    ));
                }
                for korean in &form.korean {
                    given_keys(korean, &mut |hash| entries.push((hash, name_pos, 0.0)));
                }
                let mut weights: Vec<f64> = form.tokens.iter().map(|t| rarity.weight(t)).collect();
                let weights = FormWeights::of(&mut weights);
                if form_idx == 0 {
                    forms_first.push(weights);
                } else {
                    forms_more.push(weights);
                }
            }
            if name.forms.is_empty() {
                forms_first.push(FormWeights::of(&mut []));
            }
            let first = forms_first.last_mut().expect("pushed above");
            first.more_start = more_start as u32;
            first.more_n = (forms_more.len() - more_start) as u8;
            assert_eq!(forms_first.len(), name_pos as usize + 1);
            if entries.len() > POSTINGS_MAX {
                return Err(crate::error::Error::new(
                    crate::error::ErrorKind::LimitExceeded,
                    "lists",
                    format!("more than {POSTINGS_MAX} retrieval keys"),
                ));
            }
        }
        for (value, name_pos) in identifiers {
            entries.push((key_hash(TAG_IDENTIFIER, value.as_bytes()), name_pos, 0.0));
        }
        entries.sort_unstable_by_key(|&(hash, name_pos, _)| (hash, name_pos));
        let keys_n = entries.chunk_by(|a, b| a.0 == b.0).count();
        if keys_n > KEYS_MAX {
            return Err(crate::error::Error::new(
                crate::error::ErrorKind::LimitExceeded,
                "lists",
                format!("more than {KEYS_MAX} retrieval keys"),
            ));
        }
        let mut keys = KeyTable::with_keys(keys_n);
        let mut postings = Vec::with_capacity(entries.len());
        for group in entries.chunk_by(|a, b| a.0 == b.0) {
            let start = postings.len() as u32;
            let mut weight_max: f64 = 0.0;
            for &(_, name_pos, weight) in group {
                weight_max = weight_max.max(weight);
                if postings.len() == start as usize || postings.last() != Some(&name_pos) {
                    postings.push(name_pos);
                }
            }
            keys.push(group[0].0, start, f32_up(weight_max));
        }
        keys.finish(postings.len() as u32);
        assert!(keys_n <= postings.len());
        let mut variants: Vec<(u64, u32)> = Vec::new();
        for (key, &v) in &vocabulary_ids {
            let names = keys.get(key_hash(TAG_KEY, key.as_bytes()));
            assert!(names.len > 0, "every vocabulary key is a name token's key");
            vocabulary.entries[v as usize].names = names;
            deletion_keys(key, Side::Index, &mut |hash| variants.push((hash, v)));
            if variants.len() > POSTINGS_MAX {
                return Err(crate::error::Error::new(
                    crate::error::ErrorKind::LimitExceeded,
                    "lists",
                    format!("more than {POSTINGS_MAX} vocabulary variants"),
                ));
            }
        }
        variants.sort_unstable();
        variants.dedup();
        let variants_n = variants.chunk_by(|a, b| a.0 == b.0).count();
        vocabulary.variants = KeyTable::with_keys(variants_n);
        vocabulary.ids = Vec::with_capacity(variants.len());
        for group in variants.chunk_by(|a, b| a.0 == b.0) {
            let start = vocabulary.ids.len() as u32;
            vocabulary.ids.extend(group.iter().map(|&(_, v)| v));
            vocabulary.variants.push(group[0].0, start, 0.0);
        }
        vocabulary.variants.finish(vocabulary.ids.len() as u32);
        Ok(Index {
            keys,
            postings,
            forms_first,
            forms_more,
            vocabulary,
        })
    }

    /// Posting entries held (memory: 4 bytes each, plus the key table).
    pub fn postings_len(&self) -> usize {
        self.postings.len() + self.vocabulary.ids.len()
    }

    fn range(&self, hash: u64) -> KeyRange {
        self.keys.get(hash)
    }

    /// Starts loading the first line of `range`'s list (nothing when empty).
    fn prefetch_list(&self, range: KeyRange) {
        if let Some(first) = self.postings.get(range.start as usize) {
            prefetch_read(first);
        }
    }

    fn list(&self, range: KeyRange) -> &[u32] {
        &self.postings[range.start as usize..(range.start + range.len) as usize]
    }

    /// Pushes onto `out` every indexed name that can score `threshold_name` or more against
    /// `forms` (before attribute adjustments, which the caller has subtracted), in no
    /// particular order, with [`MERGE_BIT`] set when the name may merge tokens with the query.
    /// Returns `false`, pushing nothing, when the query is outside what the bound covers (a
    /// threshold at or below [`EXHAUSTIVE_THRESHOLD_MAX`], more than [`UNITS_MAX`] tokens):
    /// the caller scans every name.
    pub fn candidates(
        &self,
        (forms, identifiers): (&NameForms, &[&str]),
        rarity: &Rarity,
        threshold_name: f64,
        scratch: &mut Scratch,
        out: &mut Vec<u32>,
    ) -> bool {
        if threshold_name <= EXHAUSTIVE_THRESHOLD_MAX {
            return false;
        }
        let buffers = std::mem::take(&mut scratch.units);
        let Some(mut units) = Units::of(forms, rarity, buffers) else {
            return false;
        };
        scratch.prepare(self.forms_first.len());
        query_keys(forms, identifiers, &mut scratch.keys);
        // Each lookup misses the cache: request every key's slots before reading any, so the
        // misses overlap.
        for key in scratch.keys.iter() {
            self.keys.prefetch(key.hash);
        }
        for key in scratch.keys.iter_mut() {
            key.range = self.range(key.hash);
        }
        self.similar_keys(forms, scratch);
        for key in scratch.keys.iter().filter(|key| key.flags == 0) {
            units.add_partners(key);
        }
        let skipped = skipped_units(&units, &scratch.keys, threshold_name);
        debug_assert!(units.untouched_bound(skipped) < threshold_name);
        let Scratch {
            slot_of,
            touched,
            keys,
            provisional,
            provisional_bits,
            ..
        } = scratch;
        // The lists start at random places in the postings: request each one's first line
        // before reading any (the hardware follows a list once it is being read).
        for key in keys.iter().filter(|key| !skipped.covers(key)) {
            self.prefetch_list(key.range);
        }
        for key in keys.iter().filter(|key| !skipped.covers(key)) {
            // A flag key's units are the ones that may merge, not matched ones.
            let (matched, merging) = if key.flags == 0 {
                (key.units, 0)
            } else {
                (0, key.units)
            };
            for &name_pos in self.list(key.range) {
                let slot = &mut slot_of[name_pos as usize];
                if *slot == SLOT_NONE {
                    // Bounded below, at random in 3 MB: start loading its weights now.
                    prefetch_read(&self.forms_first[name_pos as usize]);
                    *slot = touched.len() as u32;
                    touched.push(Touched {
                        name_pos,
                        flags: 0,
                        units: [0; 3],
                        merge_units: 0,
                    });
                }
                let entry = &mut touched[*slot as usize];
                entry.units[usize::from(key.level)] |= matched;
                entry.merge_units |= merging;
                entry.flags |= key.flags;
            }
        }
        let from = out.len();
        // Names that could reach the threshold if they matched every skipped key.
        provisional.clear();
        for entry in touched.iter() {
            let matched = skipped.assumed(entry.units);
            let flags = entry.flags;
            let merges = flags & (FLAG_MERGE_NAME | FLAG_MERGE_QUERY) != 0;
            let both = FLAG_MERGE_QUERY | FLAG_JOINS_MEET;
            let name_merges = flags & FLAG_MERGE_NAME != 0 || flags & both == both;
            if flags & (FLAG_KOREAN | FLAG_IDENTIFIER) != 0 || name_merges {
                out.push(entry.name_pos | if merges { MERGE_BIT } else { 0 });
                continue;
            }
            if merges {
                // Only the query's tokens can merge (into tokens equal to the name's): scored
                // when the bound with or without merges reaches the threshold.
                debug_assert_eq!(flags & FLAG_MERGE_QUERY, FLAG_MERGE_QUERY);
                let bound = self
                    .bound(&mut units, matched, entry.name_pos)
                    .max(self.merged_bound(&units, matched, entry.merge_units, entry.name_pos));
                if bound + BOUND_SLACK >= threshold_name {
                    // Refined below on the skipped lists, like any other name.
                    provisional.push(entry.name_pos);
                }
                continue;
            }
            // No merge: a name sharing only joins with the query is bounded like any other.
            if self.bound(&mut units, matched, entry.name_pos) + BOUND_SLACK >= threshold_name {
                provisional.push(entry.name_pos);
            }
        }
        // Only for those, look the skipped keys' lists up (galloping through each list), then
        // bound them on what they really match.
        if skipped != Skipped::default() && !provisional.is_empty() {
            for key in keys.iter().filter(|key| skipped.covers(key)) {
                self.prefetch_list(key.range);
            }
            let mut sorted = false;
            for &name_pos in provisional.iter() {
                provisional_bits[(name_pos / 64) as usize] |= 1u64 << (name_pos % 64);
            }
            for key in keys.iter().filter(|key| skipped.covers(key)) {
                let list = self.list(key.range);
                let level = usize::from(key.level);
                // A scan tests each entry against the bits (L1, predictable branches);
                // galloping takes a few unpredictable steps per provisional name: only
                // lists much longer than the provisional names are galloped through.
                if list.len() <= provisional.len() * SCAN_PER_PROVISIONAL_MAX {
                    for &name_pos in list {
                        let word = provisional_bits[(name_pos / 64) as usize];
                        if (word >> (name_pos % 64)) & 1 != 0 {
                            touched[slot_of[name_pos as usize] as usize].units[level] |= key.units;
                        }
                    }
                } else {
                    if !sorted {
                        provisional.sort_unstable();
                        sorted = true;
                    }
                    intersect(list, provisional, |name_pos| {
                        touched[slot_of[name_pos as usize] as usize].units[level] |= key.units;
                    });
                }
            }
            for &name_pos in provisional.iter() {
                provisional_bits[(name_pos / 64) as usize] = 0;
            }
        }
        for &name_pos in provisional.iter() {
            let entry = &touched[slot_of[name_pos as usize] as usize];
            let mut bound = self.bound(&mut units, entry.units, name_pos);
            let merges = entry.flags & FLAG_MERGE_QUERY != 0;
            if merges {
                let merge_units = entry.merge_units;
                let merged = self.merged_bound(&units, entry.units, merge_units, name_pos);
                bound = bound.max(merged);
            }
            if bound + BOUND_SLACK >= threshold_name {
                out.push(name_pos | if merges { MERGE_BIT } else { 0 });
            }
        }
        debug_assert!(out.len() - from <= touched.len());
        scratch.reset();
        scratch.units = units.into_buffers();
        true
    }

    /// Appends to `scratch.keys`, per query unit, the names lists of the vocabulary keys within
    /// the matcher's edit distance of the unit's key (not the key itself: its list is read
    /// at the exact level), at the level the distance allows.
    ///
    /// Every step reads memory at random (variant slots, id lists, vocabulary entries): each
    /// is requested for the whole query before any is read, so that the misses overlap.
    fn similar_keys(&self, forms: &NameForms, scratch: &mut Scratch) {
        let Scratch {
            keys,
            vocabulary_found: found,
            variants,
            variant_ranges: ranges,
            ..
        } = scratch;
        let vocabulary = &self.vocabulary;
        let tokens: smallvec::SmallVec<[&Token; 32]> =
            forms.forms.iter().flat_map(|form| &form.tokens).collect();
        assert!(tokens.len() <= UNITS_MAX);
        variants.clear();
        for (unit, token) in tokens.iter().enumerate() {
            deletion_keys(&token.key, Side::Query, &mut |hash| {
                variants.push((hash, unit as u8))
            });
        }
        for &(hash, _) in variants.iter() {
            vocabulary.variants.prefetch(hash);
        }
        ranges.clear();
        let found_ranges = variants
            .iter()
            .map(|&(hash, unit)| (vocabulary.variants.get(hash), unit))
            .filter(|(range, _)| range.len > 0);
        ranges.extend(found_ranges);
        for (range, _) in ranges.iter() {
            prefetch_read(&vocabulary.ids[range.start as usize]);
        }
        found.clear();
        for &(range, unit) in ranges.iter() {
            let ids = &vocabulary.ids[range.start as usize..][..range.len as usize];
            found.extend(ids.iter().map(|&v| (unit, v)));
        }
        found.sort_unstable();
        found.dedup();
        for &(_, v) in found.iter() {
            prefetch_read(&vocabulary.entries[v as usize]);
        }
        for &(unit, v) in found.iter() {
            let token = tokens[usize::from(unit)];
            let entry = &vocabulary.entries[v as usize];
            let indexed = vocabulary.key(entry);
            if indexed == token.key.as_bytes() {
                continue;
            }
            let letters = (token.key_letters, entry.letters);
            if let Some(level) = edit_level(token.key.as_bytes(), indexed, letters) {
                keys.push(QueryKey {
                    hash: 0,
                    units: 1u128 << unit,
                    level,
                    flags: 0,
                    range: entry.names,
                });
            }
        }
    }

    /// Upper bound of the generic score of name `name_pos` when the query units `matched[l]`
    /// may have a token in it similar up to `LEVEL_SIMILARITY_MAX[l]` (see the module docs);
    /// at least the Korean surname-only bound.
    fn bound(&self, units: &mut Units, matched: [u128; 3], name_pos: u32) -> f64 {
        let first = &self.forms_first[name_pos as usize];
        let more = &self.forms_more[first.more_start as usize..][..usize::from(first.more_n)];
        let mut best = KOREAN_SURNAME_ONLY_MAX;
        let terms = units.terms(matched);
        for form_terms in terms.iter().flatten() {
            let total = form_terms.total;
            for form in std::iter::once(first).chain(more) {
                let taken = form_terms.k.min(form.tokens_n);
                let name_matched = if taken == 0 {
                    0.0
                } else {
                    let heaviest = f64::from(form.prefix[usize::from(taken) - 1]);
                    heaviest.min(form_terms.partners)
                };
                let bound = (form_terms.query_matched + form_terms.similarity_max * name_matched)
                    / (total + form.total);
                best = best.max(bound);
            }
        }
        best.min(1.0)
    }
}

impl Index {
    /// Upper bound of the generic score of name `name_pos` when adjacent query tokens may
    /// merge into tokens equal to the name's (and the name's tokens do not merge): `matched`
    /// as for [`Index::bound`], `merge_units` the query units of the joins that may merge.
    ///
    /// Per pair of forms the score is `N / (Q' + C)`: `Q'` the merged query form's weight,
    /// `C` the name form's, `N` what matched pairs add (similarity at most 1). Units outside
    /// `P` (matched or merging units) stay unmatched whatever merges (their weight `R`); the
    /// rest weighs `W'` after merging, at most their weight plus every join within `P`; the
    /// name side adds at most its `|P|` heaviest tokens (`M`, one per matched query token).
    /// So the score is at most `(W' + M) / (R + W' + C)`, which grows with `W'` (`M <= C`).
    fn merged_bound(
        &self,
        units: &Units,
        matched: [u128; 3],
        merge_units: u128,
        name_pos: u32,
    ) -> f64 {
        let first = &self.forms_first[name_pos as usize];
        let more = &self.forms_more[first.more_start as usize..][..usize::from(first.more_n)];
        let possible = matched[0] | matched[1] | matched[2] | merge_units;
        let mut best = KOREAN_SURNAME_ONLY_MAX;
        for (&(bits, _), joins) in units.forms.iter().zip(&units.joins) {
            let possible = possible & bits;
            if possible == 0 {
                continue;
            }
            let unmatched = units.weight_of(bits & !possible);
            let merged: f64 = joins
                .iter()
                .filter(|(joined, _)| joined & !possible == 0)
                .map(|(_, weight)| weight)
                .sum();
            let possible_weight = units.weight_of(possible) + merged;
            let k = possible.count_ones() as u8;
            for form in std::iter::once(first).chain(more) {
                let taken = k.min(form.tokens_n);
                let name_matched = if taken == 0 {
                    0.0
                } else {
                    f64::from(form.prefix[usize::from(taken) - 1])
                };
                let bound =
                    (possible_weight + name_matched) / (unmatched + possible_weight + form.total);
                best = best.max(bound);
            }
        }
        best.min(1.0)
    }
}

/// Max-score: the (unit, level group) keys that cost most to read are skipped while a name
/// matching only skipped keys stays below `threshold_name`.
fn skipped_units(units: &Units, keys: &[QueryKey], threshold_name: f64) -> Skipped {
    // Cost of each unit's near keys (index u) and far keys (index UNITS_MAX + u).
    let mut cost = [0usize; 2 * UNITS_MAX];
    for key in keys.iter().filter(|key| key.flags == 0) {
        let offset = if key.level == LEVEL_FAR { UNITS_MAX } else { 0 };
        let mut bits = key.units;
        while bits != 0 {
            cost[offset + bits.trailing_zeros() as usize] += key.range.len as usize;
            bits &= bits - 1;
        }
    }
    let mut order: Vec<usize> = (0..2 * UNITS_MAX).filter(|&u| cost[u] > 0).collect();
    order.sort_unstable_by(|a, b| cost[*b].cmp(&cost[*a]).then(a.cmp(b)));
    let mut skipped = Skipped::default();
    for slot in order {
        let mut with = skipped;
        if slot >= UNITS_MAX {
            with.far |= 1u128 << (slot - UNITS_MAX);
        } else {
            with.near |= 1u128 << slot;
        }
        if units.untouched_bound(with) + BOUND_SLACK < threshold_name {
            skipped = with;
        }
    }
    skipped
}

/// The query's keys: units with their level for token keys, flags for Korean given names,
/// merges and identifiers (ranges not yet looked up).
fn query_keys(forms: &NameForms, identifiers: &[&str], keys: &mut Vec<QueryKey>) {
    let key = |hash, units, level, flags| QueryKey {
        hash,
        units,
        level,
        flags,
        range: KeyRange::default(),
    };
    let mut unit = 0usize;
    for form in &forms.forms {
        for token in &form.tokens {
            let bit = 1u128 << unit;
            token_keys(token, &mut |hash, level| {
                keys.push(key(hash, bit, level, 0))
            });
            let join = key_hash(TAG_JOIN, token.korean.as_bytes());
            keys.push(key(join, 0, LEVEL_EXACT, FLAG_MERGE_NAME));
            unit += 1;
        }
        let form_start = unit - form.tokens.len();
        for join in &form.joins {
            // The query's tokens merge into a join equal to a name token; the name's into a
            // join equal to this (merged) query token.
            let joined = ((1u128 << join.width) - 1) << (form_start + join.start);
            let hash = key_hash(TAG_KOREAN, join.token.korean.as_bytes());
            keys.push(key(hash, joined, LEVEL_EXACT, FLAG_MERGE_QUERY));
            let hash = key_hash(TAG_JOIN, join.token.korean.as_bytes());
            keys.push(key(hash, 0, LEVEL_EXACT, FLAG_JOINS_MEET));
        }
        for korean in &form.korean {
            given_keys(korean, &mut |hash| {
                keys.push(key(hash, 0, LEVEL_EXACT, FLAG_KOREAN))
            });
        }
    }
    for value in identifiers {
        let hash = key_hash(TAG_IDENTIFIER, value.as_bytes());
        keys.push(key(hash, 0, LEVEL_EXACT, FLAG_IDENTIFIER));
    }
    // Not sorted nor merged: equal keys are rare (two units with one variant in common) and
    // reading a list twice only repeats the same marks; sorting cost more than it saved.
    debug_assert!(
        keys.len() <= UNITS_MAX * 5_000,
        "a token has at most ~4,600 keys"
    );
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
        token_keys(&i, &mut |hash, _| indexed_keys.push(hash));
        let mut best = None;
        token_keys(&q, &mut |hash, level| {
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
        assert_eq!(meeting_level("muhammad", "mohammed"), Some(LEVEL_FAR));
        assert_eq!(meeting_level("kim", "pak"), None);
    }
}
