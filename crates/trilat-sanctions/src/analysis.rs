//! Per-script analysis of one name into comparable forms: generic tokens with keys, and
//! Korean readings split into surname and given name.

use crate::hangul::{self, System};
use crate::kana;
use crate::loanword;
use crate::model::{Schema, Script};
use crate::normalize::{self, fold_latin, korean_key, tables};
use crate::unihan::HanReadings;
use serde::{Deserialize, Serialize};

/// Bound on tokens kept from one name.
pub const TOKENS_MAX: usize = 12;
/// Bound on Han reading combinations tried for one name.
pub const HAN_COMBINATIONS_MAX: usize = 4;

/// How a form was derived from the written name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// Directly from Latin (or folded Cyrillic) text.
    Written,
    /// Romanised from Hangul.
    Hangul,
    /// Romanised from kana (Hepburn).
    Kana,
    /// Read through the Unihan reading table (weaker evidence).
    HanReading,
}

/// One word of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Folded text (lower-case ASCII for Latin).
    pub text: String,
    /// Generic key: folded, Japanese long vowels folded.
    pub key: String,
    /// Korean phonetic key of the whole token.
    pub korean: String,
    /// Legal form, connective or title (`co`, `ltd`, `general`): weighted low.
    pub legal_form: bool,
    /// A number or a country (`3`, `panama`): two names whose only difference is such a word
    /// (`Ocean Trader 3` / `Ocean Trader 5`) are two things, so an unmatched one on each side
    /// counts against the match ([`crate::matcher`]).
    pub distinctive: bool,
    /// A Russian, Ukrainian or Turkic patronymic (`Vladimirovich`, `ogly`): weighted at half
    /// its rarity, since one spelling of a name carries it and the other often does not.
    pub patronymic: bool,
    /// A given name of a person after the first (`Mehanna` in `Zeinab Mehanna TALEBZADEH`,
    /// `Lvovna` in `CHERNET, Yelena Lvovna`): weighted at half its rarity, since one listing of
    /// a person often leaves it out (see [`mark_person_words`]).
    pub middle: bool,
    /// A single letter in a person's name of two or more (`V.` in `V. V. Ivanov`, not `A.` in
    /// `Oluwole A. OGUNGBUYI`): it meets a word of a person's name beginning with that letter
    /// ([`crate::matcher::INITIAL_SIMILARITY`]). One initial alone would never count, and
    /// leaving it out keeps the retrieval's lists of initials short.
    pub initial: bool,
    /// A word (two letters or more) of a person's name: an initial may stand for it.
    pub person: bool,
    /// Korean surname class of the token, when it is one.
    pub surname_class: Option<u16>,
    /// Written in Arabic script (Arabic, Persian): compared with other tokens through its
    /// consonant skeleton too.
    pub abjad: bool,
    /// Hash of the token's consonant skeleton ([`crate::abjad`]); 0 when it has none.
    pub(crate) skeleton: u64,
    /// Consonant classes in the skeleton (at most [`crate::abjad::SKELETON_LEN_MAX`] + 1).
    pub(crate) skeleton_len: u8,
    /// For a word transcribed from Chinese characters or Khmer, the skeletons of the Latin
    /// spellings it may stand for ([`crate::transcription`]).
    pub(crate) spellings: Option<crate::transcription::Spellings>,
    /// Rarity weight of this token under one rarity table, set once by
    /// [`crate::matcher::Rarity::annotate`] so that scoring does not look it up per pair.
    pub(crate) weight_cached: Option<WeightCached>,
    /// The set of bytes of `key`, each byte as bit `byte % 64` ([`letter_mask`]).
    pub(crate) key_letters: u64,
    /// Hash of the key's vowel pattern ([`vowel_pattern_into`]), 0 when it has none: two words
    /// with one pattern are one name transliterated with other vowels (`Morteza` / `Murtaza`),
    /// as words in Arabic script meet by consonant skeleton.
    pub(crate) vowels: u64,
    /// Hashes of `text`, `key` and `korean` ([`text_hash`]): two tokens whose hashes differ
    /// have different strings, so comparing tokens costs integer compares, not `memcmp`s
    /// (measured: docs/bench/sanctions.md, "Measurements behind the code").
    pub(crate) hashes: TokenHashes,
}

/// See [`Token::hashes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenHashes {
    pub(crate) text: u64,
    pub(crate) key: u64,
    pub(crate) korean: u64,
}

/// Hash of a token string for [`TokenHashes`] (fixed seed: equal strings, equal hashes).
fn text_hash(text: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one(text)
}

impl TokenHashes {
    /// True when `a` and `b` are equal strings; `a_hash`/`b_hash` are their [`text_hash`]es.
    #[inline]
    pub(crate) fn same(a_hash: u64, a: &str, b_hash: u64, b: &str) -> bool {
        let same = a_hash == b_hash && a == b;
        debug_assert_eq!(same, a == b);
        same
    }
}

/// The set of bytes of `key` as a 64-bit mask (bit `byte % 64`). One edit (insertion,
/// deletion or substitution) flips at most two bits of it, so half the Hamming distance of
/// two masks, rounded up, is a lower bound on the edit distance of the keys: a cheap test
/// that skips most edit-distance computations between unrelated tokens.
pub(crate) fn letter_mask(key: &str) -> u64 {
    key.bytes()
        .fold(0u64, |mask, byte| mask | 1u64 << (byte % 64))
}

/// A token's rarity weight as computed by the rarity table `rarity_id` (bits of the `f64`,
/// so tokens stay `Eq`). A weight cached by another table is ignored, never used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WeightCached {
    pub(crate) rarity_id: u64,
    pub(crate) weight_bits: u64,
}

/// `x` after a vowel and before another letter, or first before e, written `ks` (see
/// [`Token::new`]).
fn x_as_ks(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = String::with_capacity(key.len() + 2);
    for (i, c) in key.char_indices() {
        let after_vowel = i > 0 && b"aeiouy".contains(&bytes[i - 1]);
        // And at the start before e (Xenia, Ksenia); not before i or u, pinyin's x (Xi, Xu,
        // Xiang), nor before a, Somali's x for h (Xasan).
        let initial_before_vowel = i == 0 && bytes.get(1) == Some(&b'e');
        if c == 'x' && (after_vowel || initial_before_vowel) && i + 1 < bytes.len() {
            out.push_str("ks");
        } else {
            out.push(c);
        }
    }
    out
}

impl Token {
    /// Builds a token from folded text.
    pub fn new(text: &str) -> Token {
        let mut skeleton = crate::abjad::Skeleton::new();
        crate::abjad::latin_skeleton(text, &mut skeleton);
        Token::with_skeleton(text, &skeleton, false)
    }

    /// Replaces the token's Korean key (and its hash); the surname class stays the word's.
    fn set_korean(&mut self, korean: String) {
        self.hashes.korean = text_hash(&korean);
        self.korean = korean;
        debug_assert!(
            self.weight_cached.is_none(),
            "weights are cached after analysis"
        );
    }

    /// A token with the consonant skeleton given ([`crate::abjad`]); `abjad` when it is
    /// written in Arabic script (its skeleton comes from the letters as written, not from
    /// `text`, their folding).
    fn with_skeleton(text: &str, skeleton: &[u8], abjad: bool) -> Token {
        // `x` after a vowel is written `ks` in the other romanisations of the same name
        // (Alexey, Aleksey; Maxim, Maksim), but not at the end of a word, where it is often
        // Somali for h (`Baynax`, Baynah); a final `tre` is `ter` in American spelling
        // (Centre, Center).
        let mut key = kana::fold_long_vowels(text);
        if key.contains('x') {
            key = x_as_ks(&key);
        }
        if key.len() >= 5 && key.ends_with("tre") {
            key.replace_range(key.len() - 2.., "er");
        }
        let korean = korean_key(text);
        let surname_class = tables().surname_class.get(&korean).copied();
        let key_letters = letter_mask(&key);
        // Hashed from a buffer on the stack: a `String` per token showed in the screening
        // profile (the query's tokens and joins, ~100 per query).
        let mut pattern = VowelPattern::new();
        let vowels = if vowel_pattern_into(&key, &mut pattern) {
            text_hash(std::str::from_utf8(&pattern).expect("ASCII"))
        } else {
            0
        };
        let hashes = TokenHashes {
            text: text_hash(text),
            key: text_hash(&key),
            korean: text_hash(&korean),
        };
        Token {
            hashes,
            korean,
            legal_form: normalize::is_legal_form(text) || normalize::is_title(text),
            distinctive: normalize::is_country(text) || text.bytes().any(|b| b.is_ascii_digit()),
            patronymic: normalize::is_patronymic(text),
            middle: false,
            initial: false,
            person: false,
            surname_class,
            abjad,
            skeleton: crate::abjad::skeleton_hash(skeleton),
            skeleton_len: skeleton.len().min(usize::from(u8::MAX)) as u8,
            spellings: None,
            key,
            text: text.to_string(),
            weight_cached: None,
            key_letters,
            vowels,
        }
    }
}

/// Shortest key with a vowel pattern, and fewest consonants in it: shorter words have too
/// few letters left to tell names apart.
const VOWEL_PATTERN_KEY_MIN: usize = 4;
const VOWEL_PATTERN_CONSONANTS_MIN: usize = 2;

/// [`vowel_pattern_into`] as a string.
#[cfg(test)]
pub(crate) fn vowel_pattern(key: &str) -> Option<String> {
    let mut pattern = VowelPattern::new();
    vowel_pattern_into(key, &mut pattern)
        .then(|| String::from_utf8(pattern.to_vec()).expect("ASCII"))
}

/// A vowel pattern's bytes (ASCII), on the stack for the usual word.
type VowelPattern = smallvec::SmallVec<[u8; 32]>;

/// The consonants of a Latin key in order with each run of vowels as one `*`: the shape that
/// the transliterations of one name written without vowels (Arabic, Persian, Pashto) share
/// (`morteza`, `murtaza`: `m*rt*z*`). A doubled letter counts once (`Muttaqi`, `Motaqi`), `q`
/// and `gh` are `k` (`Qasim`, `Kasim`, `Ghasem`), `zh` is `j` (`Salehnezhad`, `Salehnejad`), `y` after the first letter is a vowel, and a run of vowels
/// ending in `i` or `y` keeps that glide (`*y`: `Hussein`, `Husayn`, not `Hasan`; `Soleimani`,
/// `Sulaymani`). False (and `out` unusable) for a key that is not lower-case ASCII letters, shorter than
/// [`VOWEL_PATTERN_KEY_MIN`] or with fewer than [`VOWEL_PATTERN_CONSONANTS_MIN`] consonants.
/// Written into `out`, emptied first.
fn vowel_pattern_into(key: &str, out: &mut VowelPattern) -> bool {
    out.clear();
    let bytes = key.as_bytes();
    if bytes.len() < VOWEL_PATTERN_KEY_MIN || !bytes.iter().all(u8::is_ascii_lowercase) {
        return false;
    }
    let is_vowel = |at: usize| {
        matches!(bytes[at], b'a' | b'e' | b'i' | b'o' | b'u') || (at > 0 && bytes[at] == b'y')
    };
    let mut consonants = 0;
    let mut at = 0;
    while at < bytes.len() {
        if is_vowel(at) {
            let start = at;
            while at < bytes.len() && is_vowel(at) {
                at += 1;
            }
            out.push(b'*');
            if at - start >= 2 && matches!(bytes[at - 1], b'i' | b'y') {
                out.push(b'y');
            }
            continue;
        }
        // Persian's ق and ژ as the lists spell them: `Qasem` / `Ghasem`, `nejad` / `nezhad`.
        let (letter, len) = match (bytes[at], bytes.get(at + 1)) {
            (b'q', _) | (b'g', Some(b'h')) => (b'k', if bytes[at] == b'q' { 1 } else { 2 }),
            (b'z', Some(b'h')) => (b'j', 2),
            (other, _) => (other, 1),
        };
        if out.last() != Some(&letter) {
            out.push(letter);
            consonants += 1;
        }
        at += len;
    }
    debug_assert!(!out.is_empty());
    consonants >= VOWEL_PATTERN_CONSONANTS_MIN
}

/// A Korean reading of a name: surname and given name (as syllables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KoreanName {
    /// Surname as written (folded).
    pub surname: String,
    /// Surname equivalence class, when known.
    pub surname_class: Option<u16>,
    /// True when the surname is one of the most frequent.
    pub surname_common: bool,
    /// Given name syllables as written (folded).
    pub given: Vec<String>,
    /// Given name: Korean key of each syllable mapped to its class representative.
    pub given_classes: Vec<String>,
    /// Given name: concatenated Korean keys of the syllables.
    pub given_key: String,
    /// Korean phonetic key of the surname (computed once here, compared per candidate).
    pub surname_key: String,
    /// Given name syllables as written, concatenated.
    pub given_joined: String,
}

/// Two or three adjacent tokens joined, precomputed once per name so that comparing
/// `Jong Un` with `Jongun` costs string comparisons per candidate, not keying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    /// Index of the first token joined.
    pub start: usize,
    /// Tokens joined: 3 or 2.
    pub width: usize,
    /// Their texts concatenated, as one token: what the matcher puts in their place when they
    /// merge (built once per name, not per comparison). Its `korean` key is that of the
    /// concatenated text, not the concatenation of the tokens' keys.
    pub token: Token,
}

/// Every join of `tokens`, by start, the wider first (the order the matcher tries them).
pub fn joins_of(tokens: &[Token]) -> Vec<Join> {
    let mut joins = Vec::new();
    for start in 0..tokens.len() {
        for width in [3usize, 2] {
            if start + width > tokens.len() {
                continue;
            }
            let text: String = tokens[start..start + width]
                .iter()
                .map(|t| t.text.as_str())
                .collect();
            // No skeleton: a Latin join merges by Korean key only, and joins with a word in
            // Arabic script get theirs from `abjad_form` (skeletons cost analysis time per join).
            joins.push(Join {
                start,
                width,
                token: Token::with_skeleton(&text, &[], false),
            });
        }
    }
    debug_assert!(joins.len() <= 2 * tokens.len());
    joins
}

/// A comparable form of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// How it was derived.
    pub via: Via,
    /// Tokens in written order.
    pub tokens: Vec<Token>,
    /// Adjacent tokens joined ([`joins_of`] the tokens).
    pub joins: Vec<Join>,
    /// Korean readings (both orders for Latin names without a comma).
    pub korean: Vec<KoreanName>,
}

/// All forms of one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameForms {
    /// The written script.
    pub script: Script,
    /// Forms: the written one first, then readings.
    pub forms: Vec<Form>,
}

/// Analyses a name for comparison. `readings` replaces the shipped Han reading table
/// ([`HanReadings::builtin`]) when given.
pub fn analyze(text: &str, schema: Option<Schema>, readings: Option<&HanReadings>) -> NameForms {
    let script = crate::script::detect(text);
    let korean_allowed = !matches!(
        schema,
        Some(Schema::Organization | Schema::Vessel | Schema::Aircraft)
    );
    let mut forms = Vec::new();
    match script {
        Script::Hangul => {
            let (surname, given) = hangul::split_name(text);
            forms.push(hangul_form(&surname, &given, Via::Hangul, korean_allowed));
        }
        Script::Kana => forms.extend(kana_forms(text, schema, korean_allowed)),
        Script::Han => {
            forms.push(latin_form(text, Via::Written, false));
            let readings: &HanReadings = readings.unwrap_or(HanReadings::builtin());
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            for hangul_name in readings.hangul_readings(&compact, HAN_COMBINATIONS_MAX) {
                let (surname, given) = hangul::split_name(&hangul_name);
                forms.push(hangul_form(
                    &surname,
                    &given,
                    Via::HanReading,
                    korean_allowed,
                ));
            }
            for reading in readings.other_readings(text, HAN_COMBINATIONS_MAX) {
                forms.push(latin_form(&reading, Via::HanReading, false));
            }
            forms.extend(crate::mandarin::transcription_form(text, readings));
            // An organisation name: its common words read as English (`銀行` bank).
            if schema != Some(Schema::Person) {
                for english in crate::han_words::english_readings(text, readings) {
                    forms.push(latin_form(&english, Via::HanReading, false));
                }
            }
        }
        Script::Cyrillic => {
            forms.push(latin_form(text, Via::Written, korean_allowed));
            // A Ukrainian name also as Ukrainian spells it (`Володимир` volodymyr, not volodimir).
            if normalize::may_be_ukrainian(text) {
                let ukrainian = normalize::fold_ukrainian(text);
                if ukrainian != fold_latin(text) {
                    forms.push(latin_form(&ukrainian, Via::Written, korean_allowed));
                }
            }
        }
        Script::Arabic => {
            forms.push(abjad_form(text));
            // `ابوبكر` also as `ابو بكر`, to meet `Abu Bakr`.
            forms.extend(crate::abjad::split_compounds(text).map(|split| abjad_form(&split)));
        }
        // Khmer (read twice, and only for the rare names in a script of no case of its own).
        Script::Other if crate::khmer::khmer_form(text).is_some() => {
            forms.extend(crate::khmer::khmer_form(text));
        }
        _ => {
            forms.push(latin_form(text, Via::Written, korean_allowed));
            if schema != Some(Schema::Person) {
                if let Some(spelled_out) = without_own_initialism(text) {
                    forms.push(latin_form(spelled_out, Via::Written, false));
                }
            }
        }
    }
    if schema != Some(Schema::Person) {
        for form in &mut forms {
            canonical_words(form);
            stem_org_words(form);
        }
    } else {
        let surname_words = text
            .split_once(',')
            .map(|(surname, _)| fold_latin(surname).split_whitespace().count());
        for form in &mut forms {
            mark_person_words(form, surname_words);
        }
    }
    debug_assert!(!forms.is_empty());
    NameForms { script, forms }
}

/// Marks the words of a person's name: every word as a person's ([`Token::person`]) or, for a
/// single letter among two or more, an initial ([`Token::initial`]); and the given names after the first as
/// middle names ([`Token::middle`]). The given names are the words after the surname when a
/// comma ends it (`SURNAME, Given Middle`: `surname_words` words), else all but the first and
/// the last word (`Given Middle Surname`); a name of two words has none. Titles and
/// connectives are passed over (`Shaykh Ahmad Iman Ali`: Iman).
fn mark_person_words(form: &mut Form, surname_words: Option<usize>) {
    // Titles and connectives (`Sheikh`, `bin`) are not counted as names.
    let names: smallvec::SmallVec<[usize; TOKENS_MAX]> = (0..form.tokens.len())
        .filter(|&i| !form.tokens[i].legal_form)
        .collect();
    let middle: &[usize] = match surname_words {
        Some(surname_n) => {
            let given_first = names.iter().position(|&i| i >= surname_n);
            given_first.map_or(&[], |first| &names[first + 1..])
        }
        None if names.len() >= 3 => &names[1..names.len() - 1],
        None => &[],
    };
    let is_letter = |t: &Token| t.text.len() == 1 && t.text.as_bytes()[0].is_ascii_alphabetic();
    let initials = form.tokens.iter().filter(|t| is_letter(t)).count() >= 2;
    for (i, token) in form.tokens.iter_mut().enumerate() {
        let letters = token.text.len();
        token.initial = initials && is_letter(token);
        token.person = letters >= 2 && token.text.as_bytes()[0].is_ascii_alphabetic();
        token.middle = middle.contains(&i);
    }
    for join in &mut form.joins {
        let parts = &form.tokens[join.start..join.start + join.width];
        join.token.middle = parts.iter().all(|t| t.middle);
    }
    debug_assert!(form.tokens.iter().all(|t| !(t.initial && t.person)));
}

/// The forms of a kana name: Hepburn; for persons also as a Korean name, else as a Russian or
/// European name (added vowels dropped), and as a Chinese one (pinyin); for organisations with
/// katakana loanwords read as the words they spell (`バンク` bank). Each reading is kept to the
/// schema that needs it: every form is indexed and costs retrieval time.
fn kana_forms(text: &str, schema: Option<Schema>, korean_allowed: bool) -> Vec<Form> {
    let text = &long_vowel_marks(text);
    let hepburn = kana::to_hepburn(text);
    let mut forms = vec![latin_form(&hepburn, Via::Kana, korean_allowed)];
    if korean_allowed {
        let korean = katakana_korean_form(&hepburn);
        let read_as_korean = !korean.korean.is_empty();
        forms.push(korean);
        let foreign: Vec<String> = hepburn
            .split_whitespace()
            .map(kana::foreign_from_hepburn)
            .collect();
        let foreign = foreign.join(" ");
        if !read_as_korean && foreign != hepburn {
            forms.push(latin_form(&foreign, Via::Kana, false));
        }
        if let Some(pinyin) = crate::kana_pinyin::pinyin_reading(text) {
            forms.push(latin_form(&pinyin, Via::Kana, false));
        }
    }
    if schema != Some(Schema::Person) {
        // The words outside the table as written, as a Korean name in katakana (`デドン`
        // dedong, as Daedong), as a European name (`セナット` senat) and as pinyin (`シェン`
        // shen): organisation names on the lists are all of these.
        let mut readings: Vec<String> = Vec::new();
        for rest in [
            loanword::Rest::Hepburn,
            loanword::Rest::Korean,
            loanword::Rest::Foreign,
            loanword::Rest::Pinyin,
        ] {
            if let Some(english) = loanword::english_reading(text, rest) {
                if !readings.contains(&english) {
                    readings.push(english);
                }
            }
        }
        for english in &readings {
            forms.push(latin_form(english, Via::Kana, false));
        }
        loanword::add_spelled_form(&mut forms, text);
    }
    forms
}

/// The form of a name in Arabic script: one token per written word, folded as
/// [`fold_latin`] folds it (`محمد` mhmd) and carrying the word's consonant skeleton, which
/// meets the vowelled spellings (`Mohammed`). Words in another script are tokens as usual.
fn abjad_form(text: &str) -> Form {
    let mut tokens = Vec::new();
    // Each token's skeleton, for the joins.
    let mut skeletons: Vec<crate::abjad::Skeleton> = Vec::new();
    for word in text.split(|c: char| !crate::abjad::in_word(c)) {
        let folded = fold_latin(word);
        if word.chars().any(crate::abjad::is_abjad) {
            let joined: String = folded.split_whitespace().collect();
            if !joined.is_empty() {
                let mut skeleton = crate::abjad::Skeleton::new();
                crate::abjad::abjad_skeleton(word, &mut skeleton);
                tokens.push(Token::with_skeleton(&joined, &skeleton, true));
                skeletons.push(skeleton);
            }
        } else {
            for piece in folded.split_whitespace() {
                let mut skeleton = crate::abjad::Skeleton::new();
                crate::abjad::latin_skeleton(piece, &mut skeleton);
                tokens.push(Token::with_skeleton(piece, &skeleton, false));
                skeletons.push(skeleton);
            }
        }
        if tokens.len() >= TOKENS_MAX {
            break;
        }
    }
    tokens.truncate(TOKENS_MAX);
    debug_assert!(skeletons.len() >= tokens.len());
    let mut joins = joins_of(&tokens);
    // Words written apart that a romanisation writes as one (`نصر الله`, Nasrallah) meet
    // through the skeleton of the words together.
    let mut skeleton = crate::abjad::Skeleton::new();
    for join in &mut joins {
        let joined = join.start..join.start + join.width;
        if tokens[joined.clone()].iter().any(|t| t.abjad) {
            let parts = skeletons[joined.clone()].iter().map(|s| s.as_slice());
            crate::abjad::joined_skeleton(parts, &mut skeleton);
            // A join no longer than its longest word (`أبو بكر`: b + bkr = bkr) would merge
            // with that word's spelling alone (`Bakr`) and leave the other unmatched.
            let longest = skeletons[joined].iter().map(|s| s.len()).max().unwrap_or(0);
            if skeleton.len() <= longest {
                skeleton.clear();
            }
            join.token = Token::with_skeleton(&join.token.text, &skeleton, true);
        }
    }
    Form {
        via: Via::Written,
        joins,
        tokens,
        korean: Vec::new(),
    }
}

/// An organisation name followed by its own initials in brackets (`Korea Ryonbong General
/// Corporation(KRGC)`), without them: the other spellings of the name seldom carry them.
fn without_own_initialism(text: &str) -> Option<&str> {
    let inner_end = text.trim_end().strip_suffix(')')?;
    let (outer, inner) = inner_end.rsplit_once('(')?;
    let inner = inner.trim();
    if !(2..=8).contains(&inner.len()) || !inner.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let initials: String = outer
        .split(|c: char| !c.is_alphanumeric())
        .filter_map(|word| word.chars().next())
        .flat_map(char::to_uppercase)
        .collect();
    (initials == inner).then_some(outer.trim_end())
}

/// A hyphen or dash after kana written where the long-vowel mark belongs (`コーポレ－ション`
/// on the MOF list) read as that mark.
fn long_vowel_marks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_kana = false;
    for c in text.chars() {
        let dash = matches!(c, '－' | '-' | '‐' | '—' | '―');
        out.push(if dash && after_kana { 'ー' } else { c });
        after_kana = crate::script::is_kana(c) || (dash && after_kana);
    }
    out
}

/// Writes the legal forms of an organisation's form one way (`Limited Liability Company`,
/// `OOO` → `llc`), and its numbers in digits (`Second`, `2nd` → 2; `Twenty-One` → 21), so both
/// sides of a comparison spell them alike whatever the order.
fn canonical_words(form: &mut Form) {
    if form.tokens.iter().any(|t| t.abjad) {
        // Rebuilding the tokens would lose their skeletons; the tables have no Arabic words.
        return;
    }
    let words: Vec<&str> = form.tokens.iter().map(|t| t.text.as_str()).collect();
    let spelled = normalize::spelled_out_org_words(&words);
    let words: Vec<&str> = match &spelled {
        Some(spelled) => spelled.iter().map(String::as_str).collect(),
        None => words,
    };
    let legal = normalize::canonical_legal_forms(&words);
    let legal = legal.or_else(|| spelled.clone());
    let words: Vec<&str> = match &legal {
        Some(canonical) => canonical.iter().map(String::as_str).collect(),
        None => words,
    };
    let numbers = normalize::canonical_numbers(&words);
    let canonical = match numbers {
        Some(canonical) => canonical,
        None if legal.is_some() => words.iter().map(|w| w.to_string()).collect(),
        None => return,
    };
    let written = std::mem::replace(&mut form.tokens, tokens_of(&canonical.join(" ")));
    crate::transcription::carry_spellings(written, &mut form.tokens);
    form.joins = joins_of(&form.tokens);
}

/// Gives each word of an organisation's name the Korean key of its stem
/// ([`normalize::org_word_stem`]: `Industries`, `Industrial` and `Industry` meet as one word
/// at 0.95, as a romanisation variant does), and each join that of the joined words' stem
/// (so that `Obshchestvo S` still merges into `Obshchestvos`). The key stays the word's own,
/// for the edit distance (`Defence` / `Defense`, `Technologies` / `Technologise`). Legal
/// forms, numbers, countries and words in Arabic script keep theirs.
fn stem_org_words(form: &mut Form) {
    let joined = form.joins.iter_mut().map(|join| &mut join.token);
    for token in form.tokens.iter_mut().chain(joined) {
        if token.legal_form || token.distinctive || token.abjad {
            continue;
        }
        if let Some(stem) = normalize::org_word_stem(&token.text) {
            token.set_korean(korean_key(stem));
        }
    }
}

fn tokens_of(folded: &str) -> Vec<Token> {
    folded
        .split_whitespace()
        .take(TOKENS_MAX)
        .map(Token::new)
        .collect()
}

fn hangul_form(surname: &str, given: &str, via: Via, korean_allowed: bool) -> Form {
    let surname_rr = hangul::romanize_word(surname, System::Revised);
    let given_syllables = hangul::romanize_syllables(given, System::Revised);
    let mut tokens = vec![Token::new(&surname_rr)];
    if !given_syllables.is_empty() {
        tokens.push(Token::new(&given_syllables.concat()));
    }
    let mut korean = Vec::new();
    if korean_allowed && !surname_rr.is_empty() {
        korean.push(korean_name(&surname_rr, given_syllables));
    }
    Form {
        via,
        joins: joins_of(&tokens),
        tokens,
        korean,
    }
}

fn korean_name(surname: &str, given: Vec<String>) -> KoreanName {
    let t = tables();
    let surname_class = t.surname(surname);
    let given_classes: Vec<String> = given.iter().map(|s| t.syllable(s)).collect();
    let given_key = given.iter().map(|s| korean_key(s)).collect();
    KoreanName {
        surname_key: korean_key(surname),
        given_joined: given.concat(),
        surname: surname.to_string(),
        surname_class,
        surname_common: surname_class.is_some_and(|c| t.surname_common.contains(&c)),
        given,
        given_classes,
        given_key,
    }
}

/// Segments given-name words into syllables; `None` unless all are Korean and 1..=4 syllables.
fn given_syllables(words: &[&str]) -> Option<Vec<String>> {
    let t = tables();
    let mut out = Vec::new();
    for word in words {
        out.extend(t.segment(word)?.into_iter().map(str::to_string));
    }
    (1..=4).contains(&out.len()).then_some(out)
}

/// Bound on Korean readings generated from one katakana name.
const KANA_KOREAN_READINGS_MAX: usize = 8;

/// A katakana transcription of a Korean name (`ファン・ソクハ`): syllable finals restored, and
/// since `ン` stands for both n and ng, every n-final syllable is tried both ways.
fn katakana_korean_form(hepburn: &str) -> Form {
    let words: Vec<String> = hepburn
        .split_whitespace()
        .map(kana::korean_from_hepburn)
        .collect();
    let mut form = latin_form(&words.join(" "), Via::Kana, true);
    let t = tables();
    let mut readings = Vec::new();
    if words.len() >= 2 {
        let given_words: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        if let Some(given) = given_syllables(&given_words) {
            for surname in ng_variants(&[words[0].clone()]) {
                if t.surname(&surname[0]).is_none() {
                    continue;
                }
                for given_variant in ng_variants(&given) {
                    if readings.len() < KANA_KOREAN_READINGS_MAX {
                        readings.push(korean_name(&surname[0], given_variant));
                    }
                }
            }
        }
    }
    if !readings.is_empty() {
        form.korean = readings;
    }
    form
}

/// Every combination of n / ng for syllables ending in n (at most 2^4).
fn ng_variants(syllables: &[String]) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new()];
    for syllable in syllables.iter().take(4) {
        let mut next = Vec::new();
        for prefix in &out {
            let mut plain = prefix.clone();
            plain.push(syllable.clone());
            next.push(plain);
            if syllable.ends_with('n') {
                let mut ng = prefix.clone();
                ng.push(format!("{syllable}g"));
                next.push(ng);
            }
        }
        out = next;
    }
    out
}

fn latin_form(text: &str, via: Via, korean_allowed: bool) -> Form {
    // A comma marks `SURNAME, Given` (OFAC); remember it before folding drops it.
    let comma = text.split_once(',').map(|(surname, _)| fold_latin(surname));
    let folded = fold_latin(text);
    let tokens = tokens_of(&folded);
    let mut korean = Vec::new();
    // A title is no part of a Korean name (`Haji To-Chun PAK`).
    let words: Vec<&str> = match korean_allowed {
        true => tokens
            .iter()
            .map(|t| t.text.as_str())
            .filter(|w| !normalize::is_title(w))
            .collect(),
        false => Vec::new(),
    };
    if korean_allowed && (2..=5).contains(&words.len()) {
        let t = tables();
        let surname_count = comma
            .as_ref()
            .map(|s| s.split_whitespace().count())
            .unwrap_or(1);
        // Written order (surname first), then Western order (surname last) unless a comma fixes it.
        if surname_count == 1 && t.surname(words[0]).is_some() {
            if let Some(given) = given_syllables(&words[1..]) {
                korean.push(korean_name(words[0], given));
            }
        }
        let last = words.len() - 1;
        if comma.is_none() && t.surname(words[last]).is_some() {
            if let Some(given) = given_syllables(&words[..last]) {
                korean.push(korean_name(words[last], given));
            }
        }
    }
    Form {
        via,
        joins: joins_of(&tokens),
        tokens,
        korean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vowel_patterns() {
        let pattern = |key: &str| vowel_pattern(key);
        assert_eq!(pattern("morteza").as_deref(), Some("m*rt*z*"));
        assert_eq!(pattern("murtaza"), pattern("morteza"));
        assert_eq!(pattern("muttaqi"), pattern("motaki"));
        assert_eq!(pattern("hussein").as_deref(), Some("h*s*yn"));
        assert_eq!(pattern("husayn"), pattern("hussein"));
        assert_eq!(pattern("yusuf").as_deref(), Some("y*s*f"));
        assert_eq!(pattern("ghasemi"), pattern("qasemi"));
        assert_eq!(pattern("salehnezhad"), pattern("salehnejad"));
        // Apart: a glide, a consonant more, too short, not only Latin letters.
        assert_ne!(pattern("hasan"), pattern("hussein"));
        assert_ne!(pattern("salman"), pattern("sliman"));
        assert_eq!(pattern("ali"), None);
        assert_eq!(pattern("aaua"), None);
        assert_eq!(pattern("kim2"), None);
    }

    #[test]
    fn korean_readings() {
        let forms = analyze("Kim Jong-un", Some(Schema::Person), None);
        let k = &forms.forms[0].korean[0];
        assert_eq!(k.surname, "kim");
        assert_eq!(k.given, ["jong", "un"]);
        assert!(k.surname_common);
        let hangul = analyze("김정은", None, None);
        assert_eq!(hangul.forms[0].korean[0].given_key, "jongun");
        assert_eq!(
            hangul.forms[0].korean[0].given_key,
            forms.forms[0].korean[0].given_key
        );
        let comma = analyze("KIM, Yong Chol", Some(Schema::Person), None);
        assert_eq!(comma.forms[0].korean.len(), 1);
        let org = analyze(
            "Korea Mining Development Trading Corporation",
            Some(Schema::Organization),
            None,
        );
        assert!(org.forms[0].korean.is_empty());
        let western = analyze("John Smith", Some(Schema::Person), None);
        assert!(western.forms[0].korean.is_empty());
    }

    #[test]
    fn x_keyed_as_ks_after_a_vowel() {
        assert_eq!(Token::new("alexey").key, "aleksey");
        assert_eq!(Token::new("maxim").key, "maksim");
        assert_eq!(Token::new("baynax").key, "baynax");
        assert_eq!(Token::new("xasan").key, "xasan");
        assert_eq!(Token::new("xenia").key, "ksenia");
        assert_eq!(Token::new("xiang").key, "xiang");
        assert_eq!(Token::new("centre").key, "center");
    }

    #[test]
    fn own_initials_in_brackets_are_a_second_form() {
        let org = Some(Schema::Organization);
        let texts = |name: &str| -> Vec<String> {
            let forms = analyze(name, org, None).forms;
            let text = |f: &Form| {
                f.tokens
                    .iter()
                    .map(|t| t.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            forms.iter().map(text).collect()
        };
        assert_eq!(
            texts("Korea Ryonbong General Corporation(KRGC)"),
            [
                "korea ryonbong general corp krgc",
                "korea ryonbong general corp"
            ]
        );
        // Not the initials, or not in capitals: one form.
        assert_eq!(texts("Ocean Lines (Panama)").len(), 1);
        assert_eq!(texts("Korea Ryonbong General Corporation (KRG)").len(), 1);
    }

    #[test]
    fn arabic_script_tokens_carry_their_skeleton() {
        let forms = analyze("محمد بن سلمان", Some(Schema::Person), None);
        let tokens = &forms.forms[0].tokens;
        assert_eq!(tokens.len(), 3);
        assert!(tokens.iter().all(|t| t.abjad && t.skeleton != 0));
        let latin = analyze("Mohammed bin Salman", Some(Schema::Person), None);
        let skeletons = |f: &NameForms| {
            f.forms[0]
                .tokens
                .iter()
                .map(|t| t.skeleton)
                .collect::<Vec<_>>()
        };
        assert_eq!(skeletons(&forms), skeletons(&latin));
        assert!(latin.forms[0].tokens.iter().all(|t| !t.abjad));
    }
}
