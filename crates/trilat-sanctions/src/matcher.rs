//! Pairwise name scoring with explanations.
//!
//! Two strategies, chosen per pair of forms:
//! - **Korean**: when both sides read as Korean names, the surname is compared through the
//!   curated surname classes and the given name *as a unit* (all syllables, through the
//!   syllable classes). A different given name is a different person, whatever the surname.
//!   A frequent surname (Kim, Lee …) contributes less than a rare one.
//! - **Generic**: tokens are aligned (adjacent tokens merge when their concatenation is a token
//!   of the other side: `Jong Un` = `Jongun`), each pair scored exact / romanisation variant /
//!   equivalence class / edit distance / initial, weighted by rarity (inverse document
//!   frequency from the loaded lists) so that `Kim`, `Trading` or `Co.` count little, and a
//!   person's middle names half.

use crate::analysis::{
    joins_of, Form, Join, KoreanName, NameForms, Token, TokenHashes, Via, TOKENS_MAX,
};
use crate::normalize::{edit_distance, tables};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::collections::HashMap;

/// Default alert threshold: a pair scoring at least this is a match.
pub const THRESHOLD_DEFAULT: f64 = 0.80;
/// Similarity of a word in Arabic script and a word with the same consonant skeleton: below
/// a romanisation variant (0.95) and one edit (0.88), since a skeleton drops the vowels, yet
/// enough for a name whose every word agrees to pass the default threshold.
pub const SKELETON_SIMILARITY: f64 = 0.85;
/// Similarity of two words with one vowel pattern (`Morteza` / `Murtaza`, `Hossein` /
/// `Hoseyn`; [`crate::analysis::vowel_pattern`]): the same evidence as a consonant skeleton,
/// a name written without its vowels, so the same similarity. Legal forms never meet so.
pub const VOWEL_VARIANT_SIMILARITY: f64 = SKELETON_SIMILARITY;
/// Factor applied to a score whose names each leave a different number or country unmatched
/// (`Ocean Trader 3` / `Ocean Trader 5`): enough to take two names that agree on every other
/// word under the default threshold.
pub const DISTINCTIVE_MISMATCH_FACTOR: f64 = 0.7;
/// Weight of a conflict: twice the lighter side's unmatched token weight over the pair's total
/// is taken off the score (see `generic`), the same share an agreeing pair of such tokens
/// would have added.
pub const CONFLICT_FACTOR: f64 = 1.0;
/// Factor applied to scores obtained through a Han reading table (weaker evidence).
pub const HAN_READING_FACTOR: f64 = 0.95;
/// Similarity of an initial and a word of a person's name beginning with it (`V.` and
/// `Vladimir`): below every other way two words meet, and within the far level of the
/// retrieval's keys (0.71), through which an initial finds its words. It counts only when two
/// or more initials of one name meet words (`V. V. Ivanov` / `Vladimir Vladimirovich Ivanov`):
/// one initial alone (`V. V. Ivanov` / `Vladimir Ivanov`) says too little, and is left
/// unmatched; a name with one single letter has no initial at all ([`Token::initial`]).
pub const INITIAL_SIMILARITY: f64 = 0.7;
/// Weight of an initial, whatever its letter's rarity: one letter tells little.
pub const INITIAL_WEIGHT: f64 = 0.3;
/// Factor on the weight of a middle name ([`Token::middle`]): a listing that leaves it out
/// loses half of what it weighs, one that writes another in its place loses that and the
/// conflict (see `generic`).
pub const MIDDLE_NAME_FACTOR: f64 = 0.5;
/// The lightest a token weighs (a legal form; a common middle name's half is raised to it).
const WEIGHT_MIN: f64 = 0.1;
/// Factor on the weight of the candidate's words left unmatched when every word of the query
/// met one (`Ali Darassa` against the listed `Ali Darassa Mahamat`): a query that names part
/// of a listed name is that name more often than not, as logic-v2 too weighs a result's extra
/// words low (0.2 there). A number or a country keeps its whole weight.
pub const EXTRA_CANDIDATE_WORD_FACTOR: f64 = 0.5;
/// Factor on the weight of the query's words left unmatched when every word of the listed
/// name met one (`Hafiz Muhammad Saeed` against the listed `Hafiz Muhammad`): heavier than the
/// candidate's, since a query word the listed name lacks is more often a difference (logic-v2
/// weighs them 0.8; 0.6 here took 44 more list aliases than 0.7 for 2 more false matches, 0.5
/// 43 more than 0.6 for 7). A number or a country keeps its whole weight.
pub const EXTRA_QUERY_WORD_FACTOR: f64 = 0.6;

/// How two name parts matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// Identical after folding case and diacritics.
    Exact,
    /// Same after the romanisation / phonetic key (Chŏng = Jeong, Ōno = Ohno).
    Romanisation,
    /// Same curated equivalence class (Ri = Lee, Chol = Chul).
    EquivalenceClass,
    /// Within a small edit distance.
    EditDistance,
    /// An initial and a word of a person's name beginning with it (`V.`, `Vladimir`), one of
    /// two or more such pairs ([`INITIAL_SIMILARITY`]).
    Initial,
    /// A word in Arabic script with the same consonant skeleton as the other (`محمد` and
    /// `Mohammed`: mhmd; [`crate::abjad`]).
    ConsonantSkeleton,
    /// Two words (not legal forms) that differ only in their vowels (`Morteza`, `Murtaza`;
    /// [`VOWEL_VARIANT_SIMILARITY`]).
    VowelVariant,
    /// Read through the Unihan table from Han characters.
    HanReading,
    /// A foreign name in Chinese characters (`弗拉基米尔` fu la ji mi er) and a Latin spelling
    /// whose consonants it may transcribe (`Vladimir`; [`crate::mandarin`]).
    MandarinTranscription,
    /// A word in Khmer and a Latin spelling whose consonants it may stand for (`នរោត្តម`,
    /// `Norodom`; [`crate::khmer`]).
    KhmerConsonants,
    /// A foreign word in katakana and a Latin spelling whose consonants it may write
    /// (`ラザルス`, `Lazarus`: r or l, z or s, the added vowels dropped; [`crate::kana`]).
    KanaConsonants,
    /// Did not match.
    Mismatch,
    /// An identifier (IMO, passport) matched.
    Identifier,
    /// Date of birth, nationality / flag or schema adjustment.
    Attribute,
}

/// One line of an explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The query's part.
    pub query: String,
    /// The candidate's part.
    pub candidate: String,
    /// How they matched.
    pub how: How,
    /// Similarity of the two parts, 0..=1.
    pub similarity: f64,
    /// Share of the final score this part carries (can be negative for penalties).
    pub contribution: f64,
}

/// The score of one pair of names and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameScore {
    /// 0..=1.
    pub score: f64,
    /// `korean` or `generic`.
    pub method: String,
    /// Which form of each side was used.
    pub via: (Via, Via),
    /// Parts and their contributions.
    pub explanation: Vec<Contribution>,
}

/// Token rarity weights. Built from the loaded lists; without lists every token weighs 1
/// except legal forms and frequent Korean surnames.
#[derive(Debug, Clone, Default)]
pub struct Rarity {
    document_frequency: HashMap<String, u32, foldhash::fast::RandomState>,
    documents: u32,
    /// Identity of this table's contents (0 for the empty default table, which all defaults
    /// share): a weight cached in a token is used only by the table that computed it.
    id: u64,
}

/// Next [`Rarity`] identity; 0 is the empty table's.
static RARITY_ID_NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Rarity {
    /// Counts, for each token key, the number of names containing it.
    pub fn from_names<'a>(names: impl Iterator<Item = &'a NameForms>) -> Rarity {
        let mut rarity = Rarity {
            id: RARITY_ID_NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            ..Rarity::default()
        };
        assert!(rarity.id != 0, "identity 0 is the empty table's");
        for forms in names {
            rarity.documents += 1;
            let Some(form) = forms.forms.first() else {
                continue;
            };
            let mut seen: Vec<&str> = Vec::new();
            for token in &form.tokens {
                if !seen.contains(&token.key.as_str()) {
                    seen.push(&token.key);
                    *rarity
                        .document_frequency
                        .entry(token.key.clone())
                        .or_default() += 1;
                }
            }
        }
        rarity
    }

    /// Weight of a token: log inverse document frequency, clamped to 0.2..=3. Reads the
    /// weight cached by [`Rarity::annotate`] when this table cached it.
    pub fn weight(&self, token: &Token) -> f64 {
        match token.weight_cached {
            Some(cached) if cached.rarity_id == self.id => {
                let weight = f64::from_bits(cached.weight_bits);
                debug_assert_eq!(weight.to_bits(), self.weight_uncached(token).to_bits());
                weight
            }
            _ => self.weight_uncached(token),
        }
    }

    /// Caches every token's weight in `forms` (the screener does this once per indexed name
    /// and once per query, so scoring a pair looks nothing up).
    pub fn annotate(&self, forms: &mut NameForms) {
        // Joins too: a merged run is scored as its join's token.
        let tokens = forms.forms.iter_mut().flat_map(|f| {
            let joined = f.joins.iter_mut().map(|join| &mut join.token);
            f.tokens.iter_mut().chain(joined)
        });
        for token in tokens {
            let weight = self.weight_uncached(token);
            assert!((0.1..=3.0).contains(&weight));
            token.weight_cached = Some(crate::analysis::WeightCached {
                rarity_id: self.id,
                weight_bits: weight.to_bits(),
            });
        }
    }

    fn weight_uncached(&self, token: &Token) -> f64 {
        if token.legal_form {
            return WEIGHT_MIN;
        }
        if token.initial {
            return INITIAL_WEIGHT;
        }
        let weight = self.weight_of_word(token);
        // A patronymic already weighs half.
        if token.middle && !token.patronymic {
            (weight * MIDDLE_NAME_FACTOR).max(WEIGHT_MIN)
        } else {
            weight
        }
    }

    /// A word's weight before its place in the name counts.
    fn weight_of_word(&self, token: &Token) -> f64 {
        if self.documents == 0 {
            let common_surname = token
                .surname_class
                .is_some_and(|c| tables().surname_common.contains(&c));
            return match (common_surname, token.patronymic) {
                (true, _) => 0.4,
                (false, true) => 0.5,
                (false, false) => 1.0,
            };
        }
        let df = self
            .document_frequency
            .get(&token.key)
            .copied()
            .unwrap_or(0) as f64;
        let idf = ((self.documents as f64 + 1.0) / (df + 1.0)).ln() / 5.0;
        let idf = idf.clamp(0.2, 3.0);
        if token.patronymic {
            idf * 0.5
        } else {
            idf
        }
    }
}

/// The pair of forms (and of Korean readings) that gave the best score of two names.
#[derive(Debug, Clone, Copy)]
struct BestForms {
    score: f64,
    query_form: usize,
    candidate_form: usize,
    /// Indices of the Korean readings when the pair was compared as Korean names.
    korean: Option<(usize, usize)>,
}

fn reading_factor(query: &Form, candidate: &Form) -> f64 {
    if query.via == Via::HanReading || candidate.via == Via::HanReading {
        HAN_READING_FACTOR
    } else {
        1.0
    }
}

/// Scores every pair of forms without explanations; the first best pair wins ties.
/// `merges` false skips looking for adjacent tokens to merge: only for a pair the caller knows
/// has none (the retrieval index's merge keys say so), where the score is the same.
fn best_forms(
    query: &NameForms,
    candidate: &NameForms,
    rarity: &Rarity,
    merges: bool,
) -> Option<BestForms> {
    let mut best: Option<BestForms> = None;
    for (query_form, qf) in query.forms.iter().enumerate() {
        for (candidate_form, cf) in candidate.forms.iter().enumerate() {
            let (raw, korean) = form_score(qf, cf, rarity, merges);
            let score = raw * reading_factor(qf, cf);
            if best.is_none_or(|b| score > b.score) {
                best = Some(BestForms {
                    score,
                    query_form,
                    candidate_form,
                    korean,
                });
            }
        }
    }
    best
}

/// Score of two analysed names, without an explanation: the screening fast path. Always
/// equal to `compare(query, candidate, rarity).score` (same arithmetic; tested on the
/// evaluation pairs), and allocates nothing unless tokens must be merged.
pub fn score(query: &NameForms, candidate: &NameForms, rarity: &Rarity) -> f64 {
    let score = best_forms(query, candidate, rarity, true).map_or(0.0, |b| b.score);
    debug_assert!((0.0..=1.0 + 1e-9).contains(&score));
    score
}

/// [`score`] for a pair in which no adjacent tokens of either side can merge (no join of one
/// side has the Korean key of a token of the other): the same score without looking for
/// merges. The screener knows this from its retrieval index.
pub(crate) fn score_unmerged(query: &NameForms, candidate: &NameForms, rarity: &Rarity) -> f64 {
    let score = best_forms(query, candidate, rarity, false).map_or(0.0, |b| b.score);
    debug_assert!((0.0..=1.0 + 1e-9).contains(&score));
    score
}

/// Scores two analysed names: the best over their forms, with the explanation of that pair.
pub fn compare(query: &NameForms, candidate: &NameForms, rarity: &Rarity) -> NameScore {
    let Some(best) = best_forms(query, candidate, rarity, true) else {
        return NameScore {
            score: 0.0,
            method: "generic".into(),
            via: (Via::Written, Via::Written),
            explanation: Vec::new(),
        };
    };
    // Explain only the winning pair: the other pairs' explanations would be thrown away.
    let qf = &query.forms[best.query_form];
    let cf = &candidate.forms[best.candidate_form];
    let mut explained = match best.korean {
        Some((qk, ck)) => compare_korean(&qf.korean[qk], &cf.korean[ck]),
        None => {
            let mut explanation = Vec::new();
            let score = generic(
                (&qf.tokens, &qf.joins),
                (&cf.tokens, &cf.joins),
                rarity,
                Some(&mut explanation),
                (true, both_written(qf, cf)),
            );
            NameScore {
                score,
                method: "generic".into(),
                via: (Via::Written, Via::Written),
                explanation,
            }
        }
    };
    explained.via = (qf.via, cf.via);
    let factor = reading_factor(qf, cf);
    explained.score *= factor;
    if factor < 1.0 {
        for c in &mut explained.explanation {
            c.contribution *= factor;
        }
    }
    // Pair assertion: the explained path reproduces the fast path's score exactly.
    assert_eq!(explained.score.to_bits(), best.score.to_bits());
    debug_assert!((0.0..=1.0 + 1e-9).contains(&explained.score));
    explained
}

/// Score of one pair of forms; Korean names are compared structurally whenever both sides
/// read as Korean (then the indices of the best readings are returned).
fn form_score(
    query: &Form,
    candidate: &Form,
    rarity: &Rarity,
    merges: bool,
) -> (f64, Option<(usize, usize)>) {
    let mut best: Option<(f64, (usize, usize))> = None;
    for (qk, q) in query.korean.iter().enumerate() {
        for (ck, c) in candidate.korean.iter().enumerate() {
            let score = korean_parts(q, c).score;
            if best.is_none_or(|b| score > b.0) {
                best = Some((score, (qk, ck)));
            }
        }
    }
    match best {
        Some((score, pair)) => (score, Some(pair)),
        None => {
            let score = generic(
                (&query.tokens, &query.joins),
                (&candidate.tokens, &candidate.joins),
                rarity,
                None,
                (merges, both_written(query, candidate)),
            );
            (score, None)
        }
    }
}

fn part_how(a: &str, b: &str, same_key: bool, same_class: bool) -> (How, f64) {
    if a == b {
        (How::Exact, 1.0)
    } else if same_key {
        (How::Romanisation, 1.0)
    } else if same_class {
        (How::EquivalenceClass, 0.97)
    } else {
        (How::Mismatch, 0.0)
    }
}

/// The parts of a Korean comparison, before any explanation text is built.
struct KoreanParts {
    surname_how: How,
    surname_sim: f64,
    given_how: How,
    given_sim: f64,
    surname_weight: f64,
    score: f64,
}

fn korean_parts(q: &KoreanName, c: &KoreanName) -> KoreanParts {
    let surname_class_equal = q.surname_class.is_some() && q.surname_class == c.surname_class;
    let (mut surname_how, mut surname_sim) = part_how(
        &q.surname,
        &c.surname,
        q.surname_key == c.surname_key,
        surname_class_equal,
    );
    if surname_how == How::Mismatch
        && q.surname.len() >= 3
        && edit_distance(&q.surname, &c.surname, 1) <= 1
    {
        (surname_how, surname_sim) = (How::EditDistance, 0.6);
    }
    let (mut given_how, mut given_sim) = part_how(
        &q.given_joined,
        &c.given_joined,
        q.given_key == c.given_key,
        q.given_classes == c.given_classes,
    );
    if given_how == How::Mismatch
        && q.given_key.len() >= 5
        && edit_distance(&q.given_key, &c.given_key, 1) <= 1
        && q.given.len() == c.given.len()
    {
        // One letter apart on the phonetic key, same number of syllables: a likely typo.
        (given_how, given_sim) = (How::EditDistance, 0.7);
    }
    let common = q.surname_common || c.surname_common;
    let surname_weight = if common { 0.25 } else { 0.4 };
    let given_weight = 1.0 - surname_weight;
    let mut score = surname_weight * surname_sim + given_weight * given_sim;
    if surname_sim == 0.0 {
        // A matching given name under another surname is another person far more often than not.
        score = score.min(0.6);
    }
    KoreanParts {
        surname_how,
        surname_sim,
        given_how,
        given_sim,
        surname_weight,
        score: score.clamp(0.0, 1.0),
    }
}

/// Korean structural comparison: surname through classes, given name as a unit.
pub fn compare_korean(q: &KoreanName, c: &KoreanName) -> NameScore {
    let parts = korean_parts(q, c);
    let given_weight = 1.0 - parts.surname_weight;
    let explanation = vec![
        Contribution {
            query: q.surname.clone(),
            candidate: c.surname.clone(),
            how: parts.surname_how,
            similarity: parts.surname_sim,
            contribution: parts.surname_weight * parts.surname_sim,
        },
        Contribution {
            query: q.given.join("-"),
            candidate: c.given.join("-"),
            how: parts.given_how,
            similarity: parts.given_sim,
            contribution: given_weight * parts.given_sim,
        },
    ];
    NameScore {
        score: parts.score,
        method: "korean".into(),
        via: (Via::Written, Via::Written),
        explanation,
    }
}

fn token_similarity(a: &Token, b: &Token) -> (How, f64) {
    let (ha, hb) = (&a.hashes, &b.hashes);
    if TokenHashes::same(ha.text, &a.text, hb.text, &b.text) {
        return (How::Exact, 1.0);
    }
    if TokenHashes::same(ha.key, &a.key, hb.key, &b.key)
        || TokenHashes::same(ha.korean, &a.korean, hb.korean, &b.korean)
    {
        return (How::Romanisation, 0.95);
    }
    if a.surname_class.is_some() && a.surname_class == b.surname_class {
        return (How::EquivalenceClass, 0.9);
    }
    if initial_of(a, b) || initial_of(b, a) {
        return (How::Initial, INITIAL_SIMILARITY);
    }
    if a.distinctive && b.distinctive {
        // Two numbers or two countries one letter apart (`7612` / `7614`, `Iran` / `Iraq`)
        // are two things, not a typo.
        return (How::Mismatch, 0.0);
    }
    // Only a token written in Arabic script is compared by skeleton: two Latin spellings with
    // one skeleton (`Salman`, `Sliman`) are not thereby one name.
    let skeleton = same_skeleton(a, b);
    let transcription = if a.spellings.is_some() || b.spellings.is_some() {
        transcribed(a, b).or_else(|| transcribed(b, a))
    } else {
        None
    };
    let vowel_variant = a.vowels != 0 && a.vowels == b.vowels && !a.legal_form && !b.legal_form;
    let by_consonants = skeleton || transcription.is_some() || vowel_variant;
    let len = a.key.len().max(b.key.len());
    if len >= 4 {
        let bound = if len >= 8 { 2 } else { 1 };
        // Lower bound on the distance from the keys' letter sets (see `letter_mask`): most
        // unrelated tokens are rejected here without filling a distance table.
        let letters_apart = (a.key_letters ^ b.key_letters).count_ones() as usize;
        let d = if letters_apart.div_ceil(2) > bound {
            bound + 1
        } else {
            edit_distance(&a.key, &b.key, bound)
        };
        if d <= bound {
            let sim = 1.0 - 0.12 * d as f64 - if d == 2 { 0.05 } else { 0.0 };
            if !(by_consonants && sim < SKELETON_SIMILARITY) {
                return (How::EditDistance, sim);
            }
        }
    }
    if skeleton {
        return (How::ConsonantSkeleton, SKELETON_SIMILARITY);
    }
    if let Some(how) = transcription {
        return (how, SKELETON_SIMILARITY);
    }
    if vowel_variant {
        return (How::VowelVariant, VOWEL_VARIANT_SIMILARITY);
    }
    (How::Mismatch, 0.0)
}

/// True when `initial` is an initial and `word` a word of a person's name beginning with it
/// (the retrieval files them so: `retrieval::candidates::token_keys`).
fn initial_of(initial: &Token, word: &Token) -> bool {
    initial.initial && word.person && initial.text.as_bytes()[0] == word.text.as_bytes()[0]
}

/// True when the concatenation `join` equals a token of `other`. Comparing Korean keys
/// suffices: equal texts have equal keys (a token's and a join's key are both `korean_key`
/// of the text). Or, for a join with a word in Arabic script, when the two have one consonant
/// skeleton (`نصر الله` and `Nasrallah`; not `Abu Bakr` and `ابوبكر`: Latin joins are not
/// indexed by skeleton, as they would double the keys of every Latin name).
fn join_matches(join: &Join, other: &[&Token]) -> bool {
    other.iter().any(|o| join_meets(&join.token, o))
}

/// True when the token of a join, `joined`, equals `other` as [`join_matches`] means it.
fn join_meets(joined: &Token, other: &Token) -> bool {
    let (hash, korean) = (joined.hashes.korean, &joined.korean);
    TokenHashes::same(other.hashes.korean, &other.korean, hash, korean)
        || (crate::retrieval::merges_by_skeleton(joined) && same_skeleton(joined, other))
}

/// How `a`, a word transcribed from Chinese characters or Khmer, meets `b`, a word neither
/// transcribed nor in Arabic script, when `b`'s consonant skeleton is one of those `a` may
/// stand for ([`crate::transcription`]; the retrieval index files them so).
fn transcribed(a: &Token, b: &Token) -> Option<How> {
    let spellings = a.spellings.as_ref()?;
    if b.spellings.is_some() || b.abjad || !spellings.contains(b.skeleton) {
        return None;
    }
    Some(match spellings.source {
        crate::transcription::Source::Mandarin => How::MandarinTranscription,
        crate::transcription::Source::Khmer => How::KhmerConsonants,
        crate::transcription::Source::Kana => How::KanaConsonants,
    })
}

/// True when `a` and `b` are compared by consonant skeleton (one is in Arabic script) and
/// their skeletons are equal.
fn same_skeleton(a: &Token, b: &Token) -> bool {
    (a.abjad || b.abjad) && a.skeleton != 0 && a.skeleton == b.skeleton
}

/// Tokens after [`merge_against`], and which of them are merged runs (bit `i` for token `i`).
type Merged<'t> = (SmallVec<[&'t Token; TOKENS_MAX]>, u32);

/// Merges adjacent tokens of `tokens` whose concatenation equals a token of `other`; `None`
/// when nothing merges (the common case). A merged run is its join's token (built once per
/// name by the analysis); nothing is copied. `joins` are `tokens`' joins.
fn merge_against<'t>(
    tokens: &'t [Token],
    joins: &'t [Join],
    other: &[&Token],
) -> Option<Merged<'t>> {
    debug_assert!(joins.iter().all(|j| j.start + j.width <= tokens.len()));
    let first = joins.iter().position(|join| join_matches(join, other))?;
    let mut runs = 0u32;
    let mut out: SmallVec<[&'t Token; TOKENS_MAX]> = SmallVec::new();
    out.extend(&tokens[..joins[first].start]);
    // Left to right, the wider join first at each start (`joins` is in that order).
    let mut i = joins[first].start;
    let mut next_join = first;
    while i < tokens.len() {
        // Joins are by start, so the ones starting at `i` follow those before it.
        while joins.get(next_join).is_some_and(|join| join.start < i) {
            next_join += 1;
        }
        let merged = joins[next_join..]
            .iter()
            .take_while(|join| join.start == i)
            .find(|join| join_matches(join, other));
        match merged {
            Some(join) => {
                runs |= 1 << out.len();
                out.push(&join.token);
                i += join.width;
            }
            None => {
                out.push(&tokens[i]);
                i += 1;
            }
        }
    }
    debug_assert!(out.len() < tokens.len());
    debug_assert!(runs != 0);
    Some((out, runs))
}

/// Bound on token pairs aligned in one comparison (both sides hold at most `TOKENS_MAX`).
const TOKEN_PAIRS_MAX: usize = TOKENS_MAX * TOKENS_MAX;

/// True when both forms are the names as written (not a reading of kana or Han, whose
/// unmatched words are more often a reading that failed than a word that differs).
fn both_written(query: &Form, candidate: &Form) -> bool {
    query.via == Via::Written && candidate.via == Via::Written
}

/// Generic token alignment, symmetric, rarity-weighted: the score, and the explanation when
/// asked for. Fixed-size stack arrays, no allocation unless tokens merge. `merges` false
/// skips merging (see `score_unmerged`); `conflicts` false counts no conflict (see below).
fn generic(
    (query, query_joins): (&[Token], &[Join]),
    (candidate, candidate_joins): (&[Token], &[Join]),
    rarity: &Rarity,
    explanation: Option<&mut Vec<Contribution>>,
    (merges, conflicts): (bool, bool),
) -> f64 {
    // Merging only helps when the token counts differ (`Jong Un` vs `Jongun`).
    let query_refs: SmallVec<[&Token; TOKENS_MAX]> = query.iter().collect();
    let candidate_refs: SmallVec<[&Token; TOKENS_MAX]> = candidate.iter().collect();
    let merged_q;
    let merged_c;
    // Which tokens are merged runs, per side: a run meets only the word it spells.
    let (mut q_runs, mut c_runs) = (0u32, 0u32);
    let (q, c): (&[&Token], &[&Token]) = if query.len() == candidate.len() || !merges {
        (&query_refs, &candidate_refs)
    } else {
        merged_q = merge_against(query, query_joins, &candidate_refs);
        let q = match &merged_q {
            Some((tokens, runs)) => {
                q_runs = *runs;
                tokens.as_slice()
            }
            None => &query_refs,
        };
        merged_c = merge_against(candidate, candidate_joins, q);
        let c = match &merged_c {
            Some((tokens, runs)) => {
                c_runs = *runs;
                tokens.as_slice()
            }
            None => &candidate_refs,
        };
        (q, c)
    };
    assert!(q.len() <= TOKENS_MAX && c.len() <= TOKENS_MAX);
    let mut q_weights = [0.0f64; TOKENS_MAX];
    let mut c_weights = [0.0f64; TOKENS_MAX];
    for (w, t) in q_weights.iter_mut().zip(q) {
        *w = rarity.weight(t);
    }
    for (w, t) in c_weights.iter_mut().zip(c) {
        *w = rarity.weight(t);
    }
    let total: f64 =
        q_weights[..q.len()].iter().sum::<f64>() + c_weights[..c.len()].iter().sum::<f64>();
    // Candidate pairs by similarity, descending; equal similarities keep query-major order
    // (a stable insertion: the alignment, and so the score, is deterministic).
    // Inline (uninitialised) storage for the usual few pairs; spills to the heap past 32.
    let mut pairs: SmallVec<[(f64, u8, u8, How); 32]> = SmallVec::new();
    for (i, qt) in q.iter().enumerate() {
        for (j, ct) in c.iter().enumerate() {
            // A merged run counts as the word it spells, not as a word it resembles: the
            // retrieval bounds a name that may merge by the query words its runs spell.
            let run_apart = (q_runs >> i & 1 != 0 && !join_meets(qt, ct))
                || (c_runs >> j & 1 != 0 && !join_meets(ct, qt));
            if run_apart {
                continue;
            }
            let (how, sim) = token_similarity(qt, ct);
            if sim > 0.0 {
                let at = pairs.partition_point(|p| p.0 >= sim);
                pairs.insert(at, (sim, i as u8, j as u8, how));
            }
        }
    }
    assert!(pairs.len() <= TOKEN_PAIRS_MAX);
    debug_assert!(pairs.windows(2).all(|w| w[0].0 >= w[1].0));
    let pairs_n = pairs.len();
    let mut q_used = [false; TOKENS_MAX];
    let mut c_used = [false; TOKENS_MAX];
    let mut matched = 0.0;
    let mut explanation = explanation;
    // The initial pairs aligned, per side holding the initial (query, candidate): how many,
    // and the first (query index, candidate index, share), which is all a lone one needs.
    let mut initials_n = [0usize; 2];
    let mut initial_first = [(0usize, 0usize, 0.0f64); 2];
    for &(sim, i, j, how) in &pairs[..pairs_n] {
        let (i, j) = (usize::from(i), usize::from(j));
        if q_used[i] || c_used[j] {
            continue;
        }
        q_used[i] = true;
        c_used[j] = true;
        let share = if total > 0.0 {
            sim * (q_weights[i] + c_weights[j]) / total
        } else {
            0.0
        };
        matched += share;
        if how == How::Initial {
            let side = usize::from(!q[i].initial);
            if initials_n[side] == 0 {
                initial_first[side] = (i, j, share);
            }
            initials_n[side] += 1;
        }
        if let Some(explanation) = explanation.as_deref_mut() {
            explanation.push(Contribution {
                query: q[i].text.clone(),
                candidate: c[j].text.clone(),
                how,
                similarity: sim,
                contribution: share,
            });
        }
    }
    for side in 0..2 {
        if initials_n[side] != 1 {
            continue;
        }
        // One initial of a name alone does not count (see [`INITIAL_SIMILARITY`]): it and its
        // word stay unmatched. Initials meet words at the lowest similarity of all, so nothing
        // else could have taken the two words instead.
        let (i, j, share) = initial_first[side];
        q_used[i] = false;
        c_used[j] = false;
        matched -= share;
        if let Some(explanation) = explanation.as_deref_mut() {
            let (query, candidate) = (&q[i].text, &c[j].text);
            let at = explanation.iter().position(|c| {
                c.how == How::Initial && &c.query == query && &c.candidate == candidate
            });
            explanation.remove(at.expect("every aligned pair is explained"));
        }
    }
    let matched = matched.clamp(0.0, 1.0);
    let unmatched_weight = |weights: &[f64], used: &[bool]| -> f64 {
        weights
            .iter()
            .zip(used)
            .filter(|(_, used)| !**used)
            .map(|(w, _)| w)
            .sum()
    };
    // A word on each side that met nothing on the other (`… Al-Toumi Al-Maaroufi` / `… Al-Toumi
    // Al-Tikriti`) is a difference, not a gap: the lighter side's unmatched weight, shared as
    // the matched words are, counts against the match. Not through a reading, nor for words in
    // Arabic script (an unmatched word there is more often a spelling the skeleton missed).
    let conflicts = conflicts && !q.iter().chain(c.iter()).any(|t| t.abjad);
    // Most pairs leave one side fully matched: no conflict, and no stems to compare.
    let both_unmatched = q_used[..q.len()].contains(&false) && c_used[..c.len()].contains(&false);
    let conflict = if conflicts && both_unmatched {
        let (q_apart, c_apart) = unmatched_apart(q, &q_used, c, &c_used);
        unmatched_weight(&q_weights[..q.len()], &q_apart[..q.len()])
            .min(unmatched_weight(&c_weights[..c.len()], &c_apart[..c.len()]))
    } else {
        0.0
    };
    let against = if total > 0.0 {
        (CONFLICT_FACTOR * conflict / total).min(matched)
    } else {
        0.0
    };
    let matched = matched - against;
    if let (Some(explanation), true) = (explanation.as_deref_mut(), against > 0.0) {
        explanation.push(Contribution {
            query: String::new(),
            candidate: String::new(),
            how: How::Mismatch,
            similarity: 0.0,
            contribution: -against,
        });
    }
    let score = against_distinctive(q, &q_used, c, &c_used, matched, explanation.as_deref_mut());
    // A number or a country one name lacks keeps its weight (`Yu Son` / `Yu Song 12`).
    let plain = |tokens: &[&Token], used: &[bool]| -> SmallVec<[bool; TOKENS_MAX]> {
        let kept = tokens.iter().zip(used);
        kept.map(|(t, used)| *used || t.distinctive).collect()
    };
    let extra = if q.is_empty() || c.is_empty() {
        (0.0, 1.0)
    } else if !q_used[..q.len()].contains(&false) {
        let c_plain = plain(c, &c_used[..c.len()]);
        (
            unmatched_weight(&c_weights[..c.len()], &c_plain),
            EXTRA_CANDIDATE_WORD_FACTOR,
        )
    } else if !c_used[..c.len()].contains(&false) {
        let q_plain = plain(q, &q_used[..q.len()]);
        (
            unmatched_weight(&q_weights[..q.len()], &q_plain),
            EXTRA_QUERY_WORD_FACTOR,
        )
    } else {
        (0.0, 1.0)
    };
    let score = with_extra_words(extra, total, score, explanation.as_deref_mut());
    if let Some(explanation) = explanation {
        explain_unmatched(q, &q_used, c, &c_used, explanation);
    }
    score
}

/// The score once the unmatched words of one name weigh `factor` of their weight, when every
/// word of the other met one (`extra`: their weight and the factor, [`EXTRA_CANDIDATE_WORD_FACTOR`]
/// or [`EXTRA_QUERY_WORD_FACTOR`]): the matched shares were taken over `total`, the pair's
/// whole weight, and are now taken over the lighter total (the explanation's shares with
/// them). Then no conflict and no differing number can have counted: both need an unmatched
/// word on each side.
fn with_extra_words(
    (extra_weight, factor): (f64, f64),
    total: f64,
    score: f64,
    explanation: Option<&mut Vec<Contribution>>,
) -> f64 {
    if extra_weight <= 0.0 {
        return score;
    }
    assert!(extra_weight < total);
    assert!((0.0..1.0).contains(&factor));
    let total_lighter = total - (1.0 - factor) * extra_weight;
    let raise = total / total_lighter;
    assert!(raise >= 1.0);
    if let Some(explanation) = explanation {
        for c in explanation.iter_mut() {
            c.contribution *= raise;
        }
    }
    let raised = (score * raise).min(1.0);
    debug_assert!(raised >= score);
    raised
}

/// Letters two unmatched words must begin with alike to be one word's forms, not two words.
const STEM_LEN_MIN: usize = 4;

/// Which tokens count as unmatched in a conflict: the unmatched ones, except those that begin
/// like an unmatched token of the other side (`Metallurgy` / `Metallurgical`, `Industry` /
/// `Industries`: forms of one word, which the alignment does not match, not words that
/// differ). Returned as "used" flags, true for a token that does not count.
fn unmatched_apart(
    q: &[&Token],
    q_used: &[bool],
    c: &[&Token],
    c_used: &[bool],
) -> ([bool; TOKENS_MAX], [bool; TOKENS_MAX]) {
    let mut q_apart = [true; TOKENS_MAX];
    let mut c_apart = [true; TOKENS_MAX];
    q_apart[..q.len()].copy_from_slice(&q_used[..q.len()]);
    c_apart[..c.len()].copy_from_slice(&c_used[..c.len()]);
    fn stem(t: &Token) -> Option<&[u8]> {
        t.key.as_bytes().get(..STEM_LEN_MIN)
    }
    for (i, qt) in q.iter().enumerate().filter(|(i, _)| !q_used[*i]) {
        let Some(q_stem) = stem(qt) else { continue };
        for (j, ct) in c.iter().enumerate().filter(|(j, _)| !c_used[*j]) {
            if stem(ct) == Some(q_stem) {
                q_apart[i] = true;
                c_apart[j] = true;
            }
        }
    }
    (q_apart, c_apart)
}

/// The score of an alignment after its unmatched numbers and countries: when both sides leave
/// one unmatched (`Ocean Trader 3` / `Ocean Trader 5`, `(Panama)` / `(Liberia)`), the names
/// share their other words yet designate two things, and the score is multiplied by
/// [`DISTINCTIVE_MISMATCH_FACTOR`] (explained as a negative contribution). Only ever lowers a
/// score, so the retrieval's bounds stay bounds.
fn against_distinctive(
    q: &[&Token],
    q_used: &[bool],
    c: &[&Token],
    c_used: &[bool],
    matched: f64,
    explanation: Option<&mut Vec<Contribution>>,
) -> f64 {
    let unmatched = |tokens: &[&Token], used: &[bool]| {
        tokens
            .iter()
            .zip(used)
            .position(|(t, used)| !used && t.distinctive)
    };
    let (Some(qi), Some(ci)) = (unmatched(q, q_used), unmatched(c, c_used)) else {
        return matched;
    };
    let score = matched * DISTINCTIVE_MISMATCH_FACTOR;
    if let Some(explanation) = explanation {
        explanation.push(Contribution {
            query: q[qi].text.clone(),
            candidate: c[ci].text.clone(),
            how: How::Mismatch,
            similarity: 0.0,
            contribution: score - matched,
        });
    }
    score
}

fn explain_unmatched(
    q: &[&Token],
    q_used: &[bool],
    c: &[&Token],
    c_used: &[bool],
    explanation: &mut Vec<Contribution>,
) {
    let unmatched = |query: &str, candidate: &str| Contribution {
        query: query.to_string(),
        candidate: candidate.to_string(),
        how: How::Mismatch,
        similarity: 0.0,
        contribution: 0.0,
    };
    for (t, _) in q.iter().zip(q_used).filter(|(_, used)| !**used) {
        explanation.push(unmatched(&t.text, ""));
    }
    for (t, _) in c.iter().zip(c_used).filter(|(_, used)| !**used) {
        explanation.push(unmatched("", &t.text));
    }
}

/// Generic token alignment, symmetric, rarity-weighted, with its explanation.
pub fn compare_generic(query: &[Token], candidate: &[Token], rarity: &Rarity) -> NameScore {
    let (query_joins, candidate_joins) = (joins_of(query), joins_of(candidate));
    let mut explanation = Vec::new();
    let score = generic(
        (query, &query_joins),
        (candidate, &candidate_joins),
        rarity,
        Some(&mut explanation),
        (true, true),
    );
    NameScore {
        score,
        method: "generic".into(),
        via: (Via::Written, Via::Written),
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, letter_mask};
    use crate::model::Schema;

    proptest::proptest! {
        /// The letter-set test in `token_similarity` never rejects a pair the edit distance
        /// would accept: half the masks' Hamming distance is a lower bound on the distance.
        #[test]
        fn letter_masks_bound_the_edit_distance(a in "[a-dp-sé0-2]{0,12}", b in "[a-dp-sé0-2]{0,12}") {
            let apart = (letter_mask(&a) ^ letter_mask(&b)).count_ones() as usize;
            let distance = edit_distance(&a, &b, 64);
            proptest::prop_assert!(apart.div_ceil(2) <= distance, "{a:?} {b:?}: {apart} bits apart, distance {distance}");
        }
    }

    #[track_caller]
    fn check(a: &str, b: &str, schema: Option<Schema>, expect_match: bool) {
        let s = compare(
            &analyze(a, schema, None),
            &analyze(b, schema, None),
            &Rarity::default(),
        );
        assert_eq!(
            s.score >= THRESHOLD_DEFAULT,
            expect_match,
            "{a} ↔ {b}: {s:#?}"
        );
    }

    #[test]
    fn named_examples() {
        let person = Some(Schema::Person);
        check("김정은", "Kim Jong Un", person, true);
        check("Ri Chol Ho", "Lee Cheol-ho", person, true);
        check("Kim Jong Un", "Kim Jong Man", person, false);
        check("Ryu Jin", "Yu Jin", person, true);
        check("KIM CHO'NG-UN", "Kim Jong Un", person, true);
        check("Kim Jongun", "Kim Jong-un", person, true);
        check("Jong Un Kim", "Kim Jong Un", person, true);
        check("Pak Jong Un", "Kim Jong Un", person, false);
        check("Choe Ryong Hae", "Choi Ryong-hae", person, true);
        check("Ono Taro", "Ohno Taro", person, true);
        check("ユン・ホジン", "Yun Ho-jin", person, true);
        check("ファン・ソクハ", "Hwang Sok-hwa", person, true);
        check("ファン・ソクハ", "Hwang Sok Ha", person, true);
        check("リ・ホンソプ", "Ri Hong-sop", person, true);
        check("チャン・ミョンジン", "JANG MYONG-JIN", person, true);
        check(
            "Korea Ryonbong General Corporation",
            "KOREA RYONBONG GENERAL CORP",
            Some(Schema::Organization),
            true,
        );
        check(
            "Korea Ryonbong General Corporation",
            "Korea Mining Development Trading Corporation",
            Some(Schema::Organization),
            false,
        );
        check("Osama bin Laden", "Usama bin Laden", person, true);
        // Arabic and Persian script against vowelled spellings, by consonant skeleton.
        check("محمد بن سلمان", "Mohammed bin Salman", person, true);
        check("محمد بن سلمان", "Mohammed bin Nayef", person, false);
        check("محمود احمدی‌نژاد", "Mahmoud Ahmadinejad", person, true);
        check("قاسم سليماني", "Qasem Rahimi", person, false);
        // Words written apart in Arabic script, together in Latin, and the reverse.
        check("حسن نصر الله", "Hassan Nasrallah", person, true);
        // The article written apart in Latin (`al-`) stays unmatched (Latin joins are not
        // merged by skeleton: their keys cost throughput, docs/sanctions.md), but as a word the
        // listed name has beyond the query it weighs half (`EXTRA_CANDIDATE_WORD_FACTOR`).
        check("أبو بكر البغدادي", "Abu Bakr al-Baghdadi", person, true);
        check("أبو بكر البغدادي", "Abu Bakr Baghdadi", person, true);
        check("عبد الله", "Abdullah", person, true);
        check("محمد جواد ظریف", "Mohammad Javad Zarif", person, true);
        // Two Latin spellings are not compared by skeleton.
        check("Salman Khan", "Sliman Khan", person, false);
        // x and ks, after a vowel and first before e; not pinyin's x.
        check("Alexey Miller", "Aleksey Miller", person, true);
        check("Xenia Sobchak", "Ksenia Sobchak", person, true);
        check("Xu Wei", "Ksu Wei", person, false);
        // A transposition inside a word is one edit.
        check("Roman Abramovich", "Roman Abramovihc", person, true);
        // Titles weigh as little as legal forms.
        check("General Vladimir Putin", "Vladimir Putin", person, true);
        check("Sheikh Hassan Nasrallah", "Hassan Nasrallah", person, true);
        let org = Some(Schema::Organization);
        // Numbers and ordinals in words or digits; a different number or country is another
        // company, however close the spelling.
        check(
            "2nd Economic Committee",
            "Second Economic Committee",
            org,
            true,
        );
        check("Twenty-One Shipping", "21 Shipping", org, true);
        check("Ocean Trader 3", "Ocean Trader 5", org, false);
        check("Ocean Trader Three", "Ocean Trader 3", org, true);
        check(
            "Hanse Shipping (Panama) S.A.",
            "Hanse Shipping (Liberia) S.A.",
            org,
            false,
        );
        check("Iran Tire Company", "Iraq Tire Company", org, false);
        check(
            "Hanse Shipping (Panama) S.A.",
            "Hanse Shipping Panama SA",
            org,
            true,
        );
        // Russian legal forms transliterated.
        check(
            "OBSHCHESTVO S OGRANICHENNOY OTVETSTVENNOSTYU VOLNA",
            "Volna LLC",
            org,
            true,
        );
        check("AKTSIONERNOE OBSHCHESTVO PLUTON", "JSC Pluton", org, true);
    }

    #[test]
    fn initials() {
        let person = Some(Schema::Person);
        check(
            "V. V. Ivanov",
            "Vladimir Vladimirovich Ivanov",
            person,
            true,
        );
        check(
            "IVANOV, Vladimir Vladimirovich",
            "V. V. Ivanov",
            person,
            true,
        );
        check("S. A. LUKIN", "Sergey Anatolyevich LUKIN", person, true);
        // One initial alone is not enough, nor initials of other given names, nor two initials
        // under another surname.
        check("V. Ivanov", "Vladimir Ivanov", person, false);
        check("V. V. Ivanov", "Vladimir Ivanov", person, false);
        check("V. V. Ivanov", "Sergey Anatolyevich Ivanov", person, false);
        check(
            "V. V. Ivanov",
            "Vladimir Vladimirovich Petrov",
            person,
            false,
        );
        // Organisations have no initials.
        let org = Some(Schema::Organization);
        check("S. V. Trading", "Sea Vessel Trading", org, false);
    }

    #[test]
    fn an_initial_is_explained() {
        let person = Some(Schema::Person);
        let explain = |a: &str, b: &str| {
            compare(
                &analyze(a, person, None),
                &analyze(b, person, None),
                &Rarity::default(),
            )
        };
        let s = explain("V. V. Ivanov", "Vladimir Vladimirovich Ivanov");
        let hows: Vec<How> = s.explanation.iter().map(|c| c.how).collect();
        assert_eq!(hows, [How::Exact, How::Initial, How::Initial], "{s:#?}");
        // A lone initial is listed unmatched, with its word.
        let s = explain("V. V. Ivanov", "Vladimir Ivanov");
        assert!(
            s.explanation.iter().all(|c| c.how != How::Initial),
            "{s:#?}"
        );
        let unmatched: Vec<(&str, &str)> = s
            .explanation
            .iter()
            .filter(|c| c.how == How::Mismatch && c.contribution == 0.0)
            .map(|c| (c.query.as_str(), c.candidate.as_str()))
            .collect();
        assert_eq!(
            unmatched,
            [("v", ""), ("v", ""), ("", "vladimir")],
            "{s:#?}"
        );
    }

    #[test]
    fn forms_of_one_word_and_slips_in_legal_forms() {
        let org = Some(Schema::Organization);
        // Forms of one English word in an organisation's name meet; other words do not.
        check(
            "Yazd Metallurgy Industries",
            "Yazd Metallurgical Industry",
            org,
            true,
        );
        check(
            "Shahid Industries Group",
            "Shahid Industrial Group",
            org,
            true,
        );
        check(
            "Yazd Metallurgy Industries",
            "Yazd Mining Industries",
            org,
            false,
        );
        // Not in a person's name.
        let person = Some(Schema::Person);
        let stemmed = |name: &str, schema| {
            let forms = analyze(name, schema, None);
            forms.forms[0].tokens[0].korean.clone()
        };
        assert_eq!(stemmed("Industries Ltd", org), stemmed("Industry Ltd", org));
        assert_eq!(stemmed("Younes Ltd", org), stemmed("Youne Ltd", org));
        assert_ne!(stemmed("Younes Ali", person), stemmed("Youne Ali", person));
        // One slip in a legal form of several words; not a word that only looks like one.
        check(
            "LIMITED LIABILITY COMPANY GAZPROM NEDRA",
            "LIMITED LIBILITY COMPANY GAZPROM NEDRA",
            org,
            true,
        );
        check(
            "JOINT STOCK COMPANY RAMEC VS",
            "JOITN STOCK COMPANY RAMEC VS",
            org,
            true,
        );
        check("Limited Shipping", "Limiter Shipping", org, false);
        // Abbreviations of organisation words as the lists write them.
        check(
            "KOREA ANSAN SHIPPING COMPANY",
            "Korea Ansan SHPG CO",
            org,
            true,
        );
        check("Korea Ansan SHPG Co", "Korea Samma Shipping Co", org, false);
        // A title is no part of a Korean name.
        check("PAK, To-Chun", "Haji To-Chun PAK", person, true);
        check("PAK, To-Chun", "Haji To-Chol PAK", person, false);
    }

    #[test]
    fn middle_names() {
        let person = Some(Schema::Person);
        // A middle name left out costs half its weight…
        check("Fathi Ahmad Mohammad HAMMAD", "Fathi HAMMAD", person, true);
        check("CHERNET, Yelena Lvovna", "Yelena CHERNET", person, true);
        // … one written in its place costs that and the conflict; the first given name and
        // the surname keep their whole weight.
        check(
            "Ahmad Vahid Dastjerdi",
            "Ahmad Reza Dastjerdi",
            person,
            false,
        );
        check(
            "Fathi Ahmad Mohammad HAMMAD",
            "Fathi Ahmad Mohammad HAMAD",
            person,
            true,
        );
        check(
            "Fathi Ahmad Mohammad HAMMAD",
            "Fathi Ahmad Mohammad SALEH",
            person,
            false,
        );
        check(
            "Fathi Ahmad Mohammad HAMMAD",
            "Rami Ahmad Mohammad HAMMAD",
            person,
            false,
        );
        let weights = |name: &str| -> Vec<f64> {
            let forms = analyze(name, person, None);
            let rarity = Rarity::default();
            forms.forms[0]
                .tokens
                .iter()
                .map(|t| rarity.weight(t))
                .collect()
        };
        assert_eq!(weights("Fathi Ahmad Mohammad HAMMAD"), [1.0, 0.5, 0.5, 1.0]);
        assert_eq!(weights("HAMMAD, Fathi Ahmad"), [1.0, 1.0, 0.5]);
        // Not in an organisation's name.
        let org = analyze(
            "Korea Mining Development Corporation",
            Some(Schema::Organization),
            None,
        );
        assert!(org.forms[0].tokens.iter().all(|t| !t.middle && !t.person));
    }

    #[test]
    fn words_one_name_has_beyond_the_other() {
        let person = Some(Schema::Person);
        // Every query word met one: the listed name's other words weigh half…
        check("Ali Darassa", "Ali Darassa Mahamat", person, true);
        check("Laurent Nkunda", "Laurent Nkunda Batware", person, true);
        // … the query's own extra words 0.6 of it (`EXTRA_QUERY_WORD_FACTOR`) …
        check("Ali Darassa Mahamat", "Ali Darassa", person, true);
        check("Hafiz Muhammad Saeed", "Hafiz Muhammad", person, true);
        // … and neither when both names have a word the other lacks.
        check("Ali Darassa", "Omar Darassa Mahamat", person, false);
        check("Ali Darassa Mahamat", "Ali Darassa Omar", person, false);
        let org = Some(Schema::Organization);
        check(
            "Haramain Charity",
            "Haramain Charity Foundation Ltd",
            org,
            true,
        );
        // A country or a number the query lacks keeps its whole weight.
        check(
            "Haramain Charity",
            "Haramain Charity Somalia Ltd",
            org,
            false,
        );
        check("Haramain Charity", "Haramain Charity 2 Ltd", org, false);
        // The shares in the explanation are the raised score's.
        let s = compare(
            &analyze("Ali Darassa", person, None),
            &analyze("Ali Darassa Mahamat", person, None),
            &Rarity::default(),
        );
        let sum: f64 = s.explanation.iter().map(|c| c.contribution).sum();
        assert!((sum - s.score).abs() < 1e-9, "{s:#?}");
        assert!((s.score - 3.5 / 4.0).abs() < 1e-9, "{s:#?}");
    }

    #[test]
    fn a_merged_run_meets_only_the_word_it_spells() {
        let person = Some(Schema::Person);
        // `Abd Al` merges into `abdal`, a word of the query, and meets it …
        check("Abdal Rahman", "Abd Al Rahman", person, true);
        // … but not `Abdel`, one letter from it, when `abdal` met the listed `Abdal`: the run
        // is the word it spells (the retrieval bounds a name that may merge by those words).
        let s = compare(
            &analyze("Abdal Abdel", person, None),
            &analyze("Abdal Abd Al", person, None),
            &Rarity::default(),
        );
        let abdel = s.explanation.iter().find(|c| c.query == "abdel").unwrap();
        assert_eq!(
            (abdel.how, abdel.candidate.as_str()),
            (How::Mismatch, ""),
            "{s:#?}"
        );
        // Without the run, `Abdel` meets `Abdal` by one edit.
        let s = compare(
            &analyze("Abdel", person, None),
            &analyze("Abdal", person, None),
            &Rarity::default(),
        );
        assert_eq!(s.explanation[0].how, How::EditDistance, "{s:#?}");
    }

    #[test]
    fn vowel_variants() {
        let person = Some(Schema::Person);
        check("Morteza Safari", "Murtaza Safari", person, true);
        check("Hosein Salimi", "Husain Salimi", person, true);
        check("Qasem Soleimani", "Kasim Sulaymani", person, true);
        check("Amir Khan Motaqi", "Amir Khan Muttaqi", person, true);
        check("SOLEIMANI, Qasem", "SOLEYMANI, Ghasem", person, true);
        check("RAHIMIAN, Pezhman", "RAHIMIAN, Pejman", person, true);
        // A glide after the vowels is kept: Hassan and Hussein are two names.
        check("Hassan Salimi", "Hussein Salimi", person, false);
        // In organisations' names too (transliterated from Persian), with the glide kept.
        let org = Some(Schema::Organization);
        check(
            "Imam Hossein University",
            "Imam Hoseyn University",
            org,
            true,
        );
        check("Hassan Trading", "Hussein Trading", org, false);
        let s = compare(
            &analyze("Morteza Safari", person, None),
            &analyze("Murtaza Safari", person, None),
            &Rarity::default(),
        );
        let hows: Vec<How> = s.explanation.iter().map(|c| c.how).collect();
        assert_eq!(hows, [How::Exact, How::VowelVariant], "{s:#?}");
    }

    #[test]
    fn a_differing_number_is_explained() {
        let org = Some(Schema::Organization);
        let s = compare(
            &analyze("Ocean Trader 3", org, None),
            &analyze("Ocean Trader 5", org, None),
            &Rarity::default(),
        );
        let against: Vec<&Contribution> = s
            .explanation
            .iter()
            .filter(|c| c.contribution < 0.0)
            .collect();
        assert_eq!(against.len(), 2, "{s:#?}");
        assert_eq!(
            (against[1].query.as_str(), against[1].candidate.as_str()),
            ("3", "5")
        );
        let sum: f64 = s.explanation.iter().map(|c| c.contribution).sum();
        assert!(
            (sum - s.score).abs() < 1e-9,
            "contributions add up to the score: {s:#?}"
        );
    }

    #[test]
    fn a_skeleton_match_is_explained() {
        let person = Some(Schema::Person);
        let s = compare(
            &analyze("قاسم سليماني", person, None),
            &analyze("Qasem Soleimani", person, None),
            &Rarity::default(),
        );
        assert!(s.score >= THRESHOLD_DEFAULT, "{s:#?}");
        let hows: Vec<How> = s.explanation.iter().map(|c| c.how).collect();
        assert_eq!(hows, [How::ConsonantSkeleton, How::ConsonantSkeleton]);
        assert_eq!(s.explanation[0].candidate, "qasem");
        assert_eq!(s.explanation[0].similarity, SKELETON_SIMILARITY);
    }
}
