//! Words written in a script that transcribes a foreign name by sound (Chinese characters
//! for `Vladimir`, Khmer for `Sihamoni`, katakana for `Lazarus`), compared with the Latin spellings of that name
//! through consonant skeletons ([`crate::abjad::latin_skeleton`]).
//!
//! One written word may stand for several Latin spellings: Chinese `基` (ji) writes the `di`
//! of Vladimir, the `gi` of Gilbert and the `ki` of Nikita; Khmer `ត` (t) is the `d` of
//! Norodom. So a transcribed word carries the *set* of skeletons of the spellings it may stand
//! for (each written unit contributes one of its options; vowels give nothing, as in a Latin
//! skeleton), and matches a Latin word whose skeleton is in the set. The sets are bounded:
//! a word with more than its source allows (at most [`SKELETONS_MAX`]) has none and matches no Latin word this way.
//!
//! The matcher compares a transcribed word only with a word that is neither transcribed nor in
//! Arabic script (`matcher::token_similarity`), and the retrieval index files the set under
//! the Arabic-script skeleton tag on the index side and looks it up under the other on the
//! query side, so that retrieval stays exact.

use crate::abjad::{push_class, skeleton_hash, Skeleton, SKELETON_LEN_MAX};
use crate::analysis::Token;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;

/// Bound on the skeletons of one transcribed word (every one is a key a query looks up).
pub const SKELETONS_MAX: usize = 1024;

/// The script a word was transcribed from (it names the comparison in explanations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Chinese characters read in Mandarin ([`crate::mandarin`]).
    Mandarin,
    /// Khmer script ([`crate::khmer`]).
    Khmer,
    /// A foreign word in katakana outside the loanword table ([`crate::loanword`]).
    Kana,
}

impl Source {
    /// Shortest skeleton kept. A katakana word outside the loanword table is compared by
    /// consonants only when it has three or more: the lists' katakana names are many, and a
    /// Latin word of one or two consonants (`Kim`, `Sun`) would meet hundreds of them.
    fn skeleton_len_min(self) -> usize {
        match self {
            Source::Kana => 3,
            Source::Mandarin | Source::Khmer => 1,
        }
    }

    /// Most skeletons kept for one word: [`SKELETONS_MAX`] for Chinese renderings (their
    /// syllables write many consonants, and the lists hold none of them), a quarter of it for
    /// the katakana words of the lists' own organisation names, which every Latin query may
    /// meet.
    fn skeletons_max(self) -> usize {
        match self {
            Source::Mandarin => SKELETONS_MAX,
            Source::Khmer | Source::Kana => SKELETONS_MAX / 4,
        }
    }
}

/// The skeletons a transcribed word may stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spellings {
    /// Where the word came from.
    pub source: Source,
    /// Skeleton hashes ([`skeleton_hash`]), sorted, without repeats, non-zero.
    pub(crate) skeletons: Arc<[u64]>,
}

impl Spellings {
    /// True when `skeleton` (a [`skeleton_hash`]) is one of the set.
    pub(crate) fn contains(&self, skeleton: u64) -> bool {
        skeleton != 0 && self.skeletons.binary_search(&skeleton).is_ok()
    }

    /// The skeleton hashes of the set.
    pub(crate) fn hashes(&self) -> &[u64] {
        &self.skeletons
    }
}

/// The skeletons of a word written as `units`, each unit one choice among its options (a
/// class string each, possibly empty: a vowel or a silent letter); `None` when the word
/// allows more than [`SKELETONS_MAX`] skeletons or none.
pub fn spellings(source: Source, units: &[&[&[u8]]]) -> Option<Spellings> {
    spellings_with_liquid(source, units, &[])
}

/// [`spellings`], where after the units marked in `liquid_after` the Latin spelling may have
/// an r or an l the transcription leaves unwritten, once per word: Chinese writes Donald
/// `唐纳德` (tang na de) and Rotenberg `罗滕贝格` (luo teng bei ge), without the l and the r
/// before the last consonant.
pub fn spellings_with_liquid(
    source: Source,
    units: &[&[&[u8]]],
    liquid_after: &[bool],
) -> Option<Spellings> {
    // (skeleton so far, an unwritten liquid already added)
    let mut partial: Vec<(Skeleton, bool)> = vec![(Skeleton::new(), false)];
    let mut next: Vec<(Skeleton, bool)> = Vec::new();
    let mut seen: HashSet<(Skeleton, bool)> = HashSet::new();
    for (unit_idx, options) in units.iter().enumerate() {
        assert!(!options.is_empty(), "a unit has at least one option");
        let liquid = liquid_after.get(unit_idx).copied().unwrap_or(false);
        next.clear();
        seen.clear();
        for (skeleton, used) in &partial {
            for option in options.iter() {
                let mut grown = skeleton.clone();
                for &class in option.iter() {
                    push_class(&mut grown, class);
                }
                let mut add = |grown: Skeleton, used: bool| {
                    if grown.len() <= SKELETON_LEN_MAX && seen.insert((grown.clone(), used)) {
                        next.push((grown, used));
                    }
                };
                if liquid && !used {
                    for class in [b'r', b'l'] {
                        let mut with_liquid = grown.clone();
                        push_class(&mut with_liquid, class);
                        add(with_liquid, true);
                    }
                }
                add(grown, *used);
            }
        }
        if next.len() > source.skeletons_max() {
            return None;
        }
        std::mem::swap(&mut partial, &mut next);
    }
    let mut skeletons: Vec<u64> = partial
        .iter()
        .filter(|(s, _)| s.len() >= source.skeleton_len_min())
        .map(|(s, _)| skeleton_hash(s))
        .filter(|h| *h != 0)
        .collect();
    skeletons.sort_unstable();
    skeletons.dedup();
    debug_assert!(skeletons.len() <= source.skeletons_max());
    (!skeletons.is_empty()).then(|| Spellings {
        source,
        skeletons: skeletons.into(),
    })
}

/// Moves the spellings of `from`'s tokens to the tokens of `to` with the same text, in order:
/// `to` is `from` rewritten with some words replaced (`normalize::canonical_legal_forms`
/// writes `Company` as `co` and keeps the other words as they are and in order).
pub(crate) fn carry_spellings(from: Vec<Token>, to: &mut [Token]) {
    let mut rest = from
        .into_iter()
        .filter(|t| t.spellings.is_some())
        .peekable();
    for token in to.iter_mut() {
        if rest.peek().is_some_and(|t| t.text == token.text) {
            let spelled = rest.next().expect("peeked");
            token.skeleton = spelled.skeleton;
            token.skeleton_len = spelled.skeleton_len;
            token.spellings = spelled.spellings;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abjad::latin_skeleton;

    fn latin(word: &str) -> u64 {
        let mut s = Skeleton::new();
        latin_skeleton(word, &mut s);
        skeleton_hash(&s)
    }

    #[test]
    fn every_choice_is_a_spelling() {
        let t: &[&[u8]] = &[b"t", b"d"];
        let vowel: &[&[u8]] = &[b""];
        let m: &[&[u8]] = &[b"m"];
        let set = spellings(Source::Khmer, &[t, vowel, m]).unwrap();
        assert!(set.contains(latin("tom")));
        assert!(set.contains(latin("dam")));
        assert!(!set.contains(latin("sam")));
        assert!(!set.contains(0));
        assert_eq!(set.hashes().len(), 2);
    }

    #[test]
    fn too_many_spellings_give_none() {
        let wide: &[&[u8]] = &[b"b", b"d", b"f", b"g"];
        let units = vec![wide; 6]; // 4^6 = 4,096 choices
        assert!(spellings(Source::Mandarin, &units).is_none());
        assert!(spellings(Source::Kana, &units[..5]).is_none());
        assert!(spellings(Source::Mandarin, &units[..5]).is_some());
        let vowel: &[&[u8]] = &[b""];
        assert!(spellings(Source::Mandarin, &[vowel]).is_none());
    }
}
