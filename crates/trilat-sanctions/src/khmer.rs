//! Khmer names read to Latin: `ហ៊ុន សែន` is Hun Sen, `នរោត្តម សីហមុនី` Norodom Sihamoni.
//!
//! Two readings of each word. The romanisation follows the UNGEGN / BGN-PCGN 1972 system for
//! Khmer (simplified: the vowel signs read by the consonant's series, the first series'
//! inherent vowel `a`, the second's `o`, diacritics that change the series applied; marks that
//! silence a letter ignored): `ហ៊ុន` hun, `សែន` saen, `ម៉ាណែត` manaet. It meets the usual
//! spellings by edit distance. Names on the lists are also spelt the French way (`Norodom` for
//! what UNGEGN writes norottam, `Sihamoni` for seihamoni), so each word also carries the
//! consonant skeletons of the spellings it may stand for ([`crate::transcription`]): vowels
//! give nothing, `ត` is t or d, `ង` n or ng, `ផ` ph or p. No well-kept Rust crate transliterates
//! Khmer (checked: `any_ascii`, which the folding already uses and which gives `hun saen` but
//! ignores the series; ICU4X's transliterator is experimental, `icu_experimental`, and
//! `rust_icu_utrans` binds ICU's C library), hence this table.

use crate::analysis::{joins_of, Form, Token, Via, TOKENS_MAX};
use crate::transcription::{spellings, Source};

/// True for a character of the Khmer block (letters, signs, digits, punctuation).
pub fn is_khmer(c: char) -> bool {
    matches!(c, '\u{1780}'..='\u{17FF}' | '\u{19E0}'..='\u{19FF}')
}

/// A consonant: its romanisation, its series (1 or 2) and the Latin skeleton classes it may
/// stand for ([`crate::abjad::latin_skeleton`]: `c` ch/sh, `x` kh, `f` ph; empty for none).
struct Consonant {
    roman: &'static str,
    series: u8,
    classes: &'static [&'static [u8]],
}

const fn c(roman: &'static str, series: u8, classes: &'static [&'static [u8]]) -> Consonant {
    Consonant {
        roman,
        series,
        classes,
    }
}

/// U+1780 … U+17A2 in code point order.
const CONSONANTS: [Consonant; 35] = [
    c("k", 1, &[b"k", b"g"]),    // ក
    c("kh", 1, &[b"x", b"k"]),   // ខ
    c("k", 2, &[b"k", b"g"]),    // គ
    c("kh", 2, &[b"x", b"k"]),   // ឃ
    c("ng", 2, &[b"n", b"ng"]),  // ង
    c("ch", 1, &[b"c", b"j"]),   // ច
    c("chh", 1, &[b"c", b"ch"]), // ឆ
    c("ch", 2, &[b"c", b"j"]),   // ជ
    c("chh", 2, &[b"c", b"ch"]), // ឈ
    c("nh", 2, &[b"n", b"nh"]),  // ញ
    c("d", 1, &[b"d", b"t"]),    // ដ
    c("th", 1, &[b"t"]),         // ឋ
    c("d", 2, &[b"d", b"t"]),    // ឌ
    c("th", 2, &[b"t"]),         // ឍ
    c("n", 1, &[b"n"]),          // ណ
    c("t", 1, &[b"t", b"d"]),    // ត
    c("th", 1, &[b"t"]),         // ថ
    c("t", 2, &[b"t", b"d"]),    // ទ
    c("th", 2, &[b"t"]),         // ធ
    c("n", 2, &[b"n"]),          // ន
    c("b", 1, &[b"b"]),          // ប
    c("ph", 1, &[b"f", b"b"]),   // ផ
    c("p", 2, &[b"b"]),          // ព
    c("ph", 2, &[b"f", b"b"]),   // ភ
    c("m", 2, &[b"m"]),          // ម
    c("y", 2, &[b""]),           // យ
    c("r", 2, &[b"r"]),          // រ
    c("l", 2, &[b"l"]),          // ល
    c("v", 2, &[b""]),           // វ
    c("s", 1, &[b"s", b"c"]),    // ឝ
    c("s", 1, &[b"s", b"c"]),    // ឞ
    c("s", 1, &[b"s"]),          // ស
    c("h", 1, &[b"h", b""]),     // ហ
    c("l", 1, &[b"l"]),          // ឡ
    c("", 1, &[b""]),            // អ
];

fn consonant(ch: char) -> Option<&'static Consonant> {
    let at = (ch as u32).checked_sub(0x1780)?;
    CONSONANTS.get(at as usize)
}

/// A dependent vowel sign (U+17B6 … U+17C5) after a consonant of the first and of the
/// second series.
fn vowel(ch: char) -> Option<(&'static str, &'static str)> {
    Some(match ch {
        '\u{17B6}' => ("a", "ea"),
        '\u{17B7}' => ("e", "i"),
        '\u{17B8}' => ("ei", "i"),
        '\u{17B9}' => ("oe", "ue"),
        '\u{17BA}' => ("eu", "eu"),
        '\u{17BB}' => ("o", "u"),
        '\u{17BC}' => ("o", "u"),
        '\u{17BD}' => ("uo", "uo"),
        '\u{17BE}' => ("aeu", "eu"),
        '\u{17BF}' => ("oea", "oea"),
        '\u{17C0}' => ("ie", "ie"),
        '\u{17C1}' => ("e", "e"),
        '\u{17C2}' => ("ae", "ae"),
        '\u{17C3}' => ("ai", "ey"),
        '\u{17C4}' => ("ao", "o"),
        '\u{17C5}' => ("au", "ov"),
        _ => return None,
    })
}

/// An independent vowel (U+17A3 … U+17B3): its romanisation and skeleton classes.
fn independent_vowel(ch: char) -> Option<(&'static str, &'static [u8])> {
    Some(match ch {
        '\u{17A3}' | '\u{17A4}' => ("a", b""),
        '\u{17A5}' => ("e", b""),
        '\u{17A6}' => ("ei", b""),
        '\u{17A7}' | '\u{17A8}' => ("o", b""),
        '\u{17A9}' => ("ou", b""),
        '\u{17AA}' => ("ov", b""),
        '\u{17AB}' | '\u{17AC}' => ("rue", b"r"),
        '\u{17AD}' | '\u{17AE}' => ("lue", b"l"),
        '\u{17AF}' => ("ae", b""),
        '\u{17B0}' => ("ai", b""),
        '\u{17B1}' | '\u{17B2}' => ("ao", b""),
        '\u{17B3}' => ("au", b""),
        _ => return None,
    })
}

/// Where the reading of a word stands after the last letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Nothing read yet.
    Start,
    /// A consonant (of this series) opened a syllable and no vowel followed yet.
    Onset(u8),
    /// The syllable has its vowel: a consonant now closes it.
    Voiced,
    /// A consonant (of this series) closed the syllable; a vowel sign after it makes it the
    /// onset of the next one instead.
    Closed(u8),
    /// A sign closed the syllable (nikahit, reahmuk).
    Ended,
}

/// One word being read: its romanisation and its skeleton units.
struct Reading {
    roman: String,
    units: Vec<&'static [&'static [u8]]>,
    at: At,
}

impl Reading {
    /// The consonant that opened the syllable takes its inherent vowel: `a` in the first
    /// series, `o` in the second.
    fn inherent_vowel(&mut self) {
        if let At::Onset(series) = self.at {
            self.roman.push(if series == 1 { 'a' } else { 'o' });
            self.at = At::Voiced;
        }
    }

    fn consonant(&mut self, letter: &Consonant, subscript: bool) {
        self.units.push(letter.classes);
        self.at = match (self.at, subscript) {
            // Below an onset: one cluster (`ស្រី` srei), the onset's series kept.
            (At::Onset(series), true) => At::Onset(series),
            (_, true) => At::Onset(letter.series),
            (At::Onset(_), false) => {
                // The syllable before wrote no vowel: it has the inherent one, closed by this.
                self.inherent_vowel();
                At::Closed(letter.series)
            }
            (At::Voiced, false) => At::Closed(letter.series),
            (At::Start | At::Closed(_) | At::Ended, false) => At::Onset(letter.series),
        };
        self.roman.push_str(letter.roman);
    }

    fn push(&mut self, ch: char, subscript: bool) {
        if let Some(letter) = consonant(ch) {
            self.consonant(letter, subscript);
        } else if let Some((first, second)) = vowel(ch) {
            let series = match self.at {
                At::Onset(series) | At::Closed(series) => series,
                _ => 1,
            };
            self.roman
                .push_str(if series == 1 { first } else { second });
            self.at = At::Voiced;
        } else if let Some((roman, classes)) = independent_vowel(ch) {
            self.inherent_vowel();
            self.roman.push_str(roman);
            self.units.push(match classes {
                b"r" => &[b"r"],
                b"l" => &[b"l"],
                _ => &[b""],
            });
            self.at = At::Voiced;
        } else {
            self.sign(ch);
        }
    }

    /// The signs that are neither consonants nor vowels.
    fn sign(&mut self, ch: char) {
        match (ch, self.at) {
            // Muusikatoan and triisap move the consonant to the other series.
            ('\u{17C9}', At::Onset(_)) => self.at = At::Onset(1),
            ('\u{17CA}', At::Onset(_)) => self.at = At::Onset(2),
            ('\u{17C9}', At::Closed(_)) => self.at = At::Closed(1),
            ('\u{17CA}', At::Closed(_)) => self.at = At::Closed(2),
            // Nikahit: a final m (`am`, `um` after a consonant without a vowel sign).
            ('\u{17C6}', at) => {
                if let At::Onset(series) = at {
                    self.roman.push_str(if series == 1 { "a" } else { "u" });
                }
                self.roman.push('m');
                self.units.push(&[b"m"]);
                self.at = At::Ended;
            }
            // Reahmuk: a final h.
            ('\u{17C7}', _) => {
                self.inherent_vowel();
                self.roman.push('h');
                self.units.push(&[b"h", b""]);
                self.at = At::Ended;
            }
            // Robat writes an r.
            ('\u{17CC}', _) => {
                self.roman.push('r');
                self.units.push(&[b"r"]);
            }
            // Other marks (bantoc, toandakhiat, viriam …) change no letter read here.
            _ => {}
        }
    }

    fn finish(mut self) -> Option<(String, Vec<&'static [&'static [u8]]>)> {
        // A last consonant that opened a syllable has its inherent vowel (`ន` no).
        self.inherent_vowel();
        (!self.units.is_empty()).then_some((self.roman, self.units))
    }
}

/// The romanisation and skeleton units of one Khmer word.
fn read_word(word: &str) -> Option<(String, Vec<&'static [&'static [u8]]>)> {
    let mut reading = Reading {
        roman: String::new(),
        units: Vec::new(),
        at: At::Start,
    };
    let mut subscript = false;
    for ch in word.chars() {
        if ch == '\u{17D2}' {
            // Coeng: the next consonant is written below the last one.
            subscript = true;
            continue;
        }
        reading.push(ch, subscript);
        subscript = false;
    }
    reading.finish()
}

/// The UNGEGN romanisation of the Khmer words of `text` (`ហ៊ុន សែន` → `hun saen`).
pub fn romanize(text: &str) -> String {
    words(text)
        .filter_map(read_word)
        .map(|(roman, _)| roman)
        .collect::<Vec<_>>()
        .join(" ")
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_khmer(c) || matches!(c, '\u{17D4}'..='\u{17DA}'))
        .filter(|w| !w.is_empty())
}

/// The form of a name written in Khmer (only Khmer words and separators): one token per word,
/// its UNGEGN romanisation carrying the skeletons of the spellings it may stand for; `None`
/// for any other name.
pub fn khmer_form(text: &str) -> Option<Form> {
    let khmer_only = text
        .chars()
        .all(|c| is_khmer(c) || !c.is_alphanumeric() || c == '\u{200B}');
    if !khmer_only || !text.chars().any(|c| consonant(c).is_some()) {
        return None;
    }
    let mut tokens = Vec::new();
    for (roman, units) in words(text).filter_map(read_word).take(TOKENS_MAX) {
        let mut token = Token::new(&roman);
        token.skeleton = 0;
        token.skeleton_len = 0;
        token.spellings = spellings(Source::Khmer, &units);
        tokens.push(token);
    }
    (!tokens.is_empty()).then(|| Form {
        via: Via::Written,
        joins: joins_of(&tokens),
        tokens,
        korean: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abjad::{latin_skeleton, skeleton_hash, Skeleton};

    #[test]
    fn ungegn_romanisation() {
        assert_eq!(romanize("ហ៊ុន សែន"), "hun saen");
        assert_eq!(romanize("ហ៊ុន ម៉ាណែត"), "hun manaet");
        assert_eq!(romanize("សម"), "sam");
        // A consonant between two vowels is read as closing the first syllable: the spelling
        // does not say that `ហ` here opens one of its own (sei-ha-mu-ni); the skeletons do not
        // depend on it.
        assert_eq!(romanize("សីហមុនី"), "seihmuni");
        assert_eq!(romanize("នរោត្តម"), "norottam");
        assert_eq!(romanize("កម្ពុជា"), "kampuchea");
    }

    #[test]
    fn french_spellings_meet_by_skeleton() {
        let latin = |word: &str| {
            let mut s = Skeleton::new();
            latin_skeleton(word, &mut s);
            skeleton_hash(&s)
        };
        let form = khmer_form("នរោត្តម សីហមុនី").unwrap();
        let set = |i: usize| form.tokens[i].spellings.clone().unwrap();
        assert!(set(0).contains(latin("norodom")));
        assert!(set(1).contains(latin("sihamoni")));
        assert!(!set(1).contains(latin("ranariddh")));
        let rainsy = khmer_form("សម រង្ស៊ី").unwrap();
        assert!(rainsy.tokens[1]
            .spellings
            .as_ref()
            .unwrap()
            .contains(latin("rainsy")));
        assert!(khmer_form("Hun Sen").is_none());
    }
}
