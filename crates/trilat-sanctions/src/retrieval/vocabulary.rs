//! The edit-distance vocabulary: distinct token keys and their deletion variants.

use super::*;

/// Calls `visit(variant, deletions)` for `key` itself (0), every key with one byte deleted
/// (1), and with `two` every key with two bytes deleted (2; repeats possible). `key` has at
/// most [`DELETION_KEY_LEN_MAX`] bytes.
///
/// Each variant is made from the previous one by restoring one byte in a stack buffer: a
/// query makes ~90 variants, and copying prefix and suffix for each showed in profiles
/// (docs/bench/sanctions.md, "Measurements behind the code").
pub(super) fn deletions(key: &[u8], two: bool, visit: &mut dyn FnMut(&[u8], u8)) {
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
pub(super) enum Side {
    Index,
    Query,
}

/// Every deletion variant through which a token key can be within the edit distance
/// `matcher::token_similarity` allows of another (see the module docs): on the index side the
/// vocabulary's keys are filed under them, on the query side they are looked up.
pub(super) fn deletion_keys(key: &str, side: Side, push: &mut dyn FnMut(u64)) {
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
pub(super) fn edit_level(query: &[u8], indexed: &[u8], letters: (u64, u64)) -> Option<u8> {
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

/// The distinct token keys of the indexed names, and their deletion variants. A query token
/// finds the keys within edit distance here, checks each with the matcher's own rule, and
/// reads the names of only those that pass (one list per similar key): filing every name
/// under every variant of its tokens read each name once per shared variant, and touched
/// a third more names than were similar at all.
#[derive(Debug)]
pub(super) struct Vocabulary {
    /// Per key, what checking it needs, in one cache line.
    pub(super) entries: Vec<VocabularyEntry>,
    /// Keys longer than [`KEY_INLINE_MAX`], concatenated.
    pub(super) long_keys: String,
    /// Deletion variant → the vocabulary ids having it, in `ids`.
    pub(super) variants: KeyTable,
    pub(super) ids: Vec<u32>,
}

/// Key bytes held in a [`VocabularyEntry`] itself (most keys: one memory read per key checked).
pub(super) const KEY_INLINE_MAX: usize = 24;

/// One vocabulary key: its names list, letter set and bytes.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
pub(super) struct VocabularyEntry {
    /// The names list of the key (its exact-key list in `Index::ranges`).
    pub(super) names: KeyRange,
    pub(super) letters: u64,
    pub(super) len: u32,
    /// Where the key is in `long_keys` when longer than [`KEY_INLINE_MAX`].
    pub(super) long_start: u32,
    pub(super) inline: [u8; KEY_INLINE_MAX],
}

impl Vocabulary {
    pub(super) fn push(&mut self, key: &str, letters: u64) {
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

    pub(super) fn key<'s>(&'s self, entry: &'s VocabularyEntry) -> &'s [u8] {
        let len = entry.len as usize;
        if len <= KEY_INLINE_MAX {
            &entry.inline[..len]
        } else {
            &self.long_keys.as_bytes()[entry.long_start as usize..][..len]
        }
    }
}
