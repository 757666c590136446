//! Chinese renderings of foreign names: `弗拉基米尔·普京` is Vladimir Putin, read `fu la ji mi
//! er · pu jing`. Chinese writes a foreign name with characters chosen for their sound, one
//! syllable each (Xinhua's transcription tables), its words separated by a middle dot. The
//! characters' Mandarin readings come from the shipped Unihan table; each syllable stands for a
//! Latin consonant with a vowel added (`弗` fu for v or f, `尔` er for a final r or l), so a
//! word is compared with a Latin word through the consonants they may both spell
//! ([`crate::transcription`]): the initial of each syllable gives the Latin consonants it
//! transcribes (`j` di, gi, ki, ji; `l` l or r; `x` s, sh or h), a final `n` or `ng` the
//! nasal, and the vowels nothing, the added ones included.

use crate::analysis::{joins_of, Form, Token, Via, TOKENS_MAX};
use crate::transcription::{spellings_with_liquid, Source};
use crate::unihan::HanReadings;

/// The characters that separate the words of a transcribed name (`·` in mainland and Taiwan
/// usage, the katakana middle dot, the hyphenation point and the bullet in copied text).
pub fn is_separator(c: char) -> bool {
    matches!(c, '·' | '・' | '･' | '‧' | '•' | '∙' | '．')
}

/// True when `text` is written as a transcribed foreign name: Han characters in two or more
/// words separated by a middle dot ([`is_separator`]). A Chinese name has no dot.
pub fn is_transcribed(text: &str) -> bool {
    let mut words = 0;
    for word in text.split(is_separator) {
        let word = word.trim();
        if word.is_empty() || !word.chars().all(crate::script::is_han) {
            return false;
        }
        words += 1;
    }
    words >= 2
}

/// The Latin consonants a syllable's initial may transcribe (classes of
/// [`crate::abjad::latin_skeleton`]: `c` sh/ch, `x` kh, `j` j/zh/dj; empty for none).
fn initial_options(initial: &str) -> &'static [&'static [u8]] {
    match initial {
        "b" | "p" => &[b"b"],
        "m" => &[b"m"],
        // `弗` fu writes v as well as f; a Latin v has no class.
        "f" => &[b"f", b""],
        "d" | "t" => &[b"d", b"t"],
        "n" => &[b"n"],
        "l" => &[b"l", b"r"],
        // Russian ж (zh) as well: `普里戈任` Prigozhin.
        "r" => &[b"r", b"l", b"j"],
        "g" | "k" => &[b"g", b"k"],
        "h" => &[b"h", b"x", b""],
        "j" => &[b"j", b"d", b"g", b"k", b"t"],
        "q" => &[b"k", b"c", b"t", b"j"],
        // A Latin x (ks) is written `克` ke + an s syllable (`阿列克谢` Alexei) or the s
        // syllable alone (`亚历山大` Alexander).
        "x" => &[b"s", b"c", b"h", b"z", b"x"],
        "zh" => &[b"j", b"z", b"c"],
        "ch" => &[b"c", b"k", b"t"],
        "sh" => &[b"c", b"s", b"x"],
        "z" | "c" => &[b"z", b"s", b"ts"],
        "s" => &[b"s", b"z", b"x"],
        _ => &[b""],
    }
}

/// What the end of a syllable adds: a nasal (`京` jing for Putin's -tin, `朗` lang for
/// Trump's -rum-), or for `尔` er an r or l (or nothing: Xinhua also writes the r of Sergey).
fn final_options(syllable: &str) -> &'static [&'static [u8]] {
    if syllable == "er" {
        &[b"r", b"l", b""]
    } else if syllable.ends_with("ng") {
        &[b"n", b"ng", b"m"]
    } else if syllable.ends_with('n') {
        &[b"n"]
    } else {
        &[b""]
    }
}

/// The initial of a pinyin syllable (`zh`, `ch`, `sh` or one letter; empty for `er`, `ao`).
fn initial(syllable: &str) -> &str {
    if ["zh", "ch", "sh"].iter().any(|i| syllable.starts_with(i)) {
        return &syllable[..2];
    }
    match syllable.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') | None => "",
        Some(_) => &syllable[..1],
    }
}

/// What the initial of `syllable` may transcribe ([`initial_options`]).
fn syllable_initial_options(syllable: &str) -> &'static [&'static [u8]] {
    match syllable {
        // `克` ke, `格` ge: a k or g alone, or the k of an x written with the next syllable.
        "ke" | "ge" => &[b"k", b"g", b""],
        _ => initial_options(initial(syllable)),
    }
}

/// One word of a transcribed name as a token: its pinyin (`fulajimier`) carrying the
/// skeletons of the Latin spellings it may stand for; `None` when a character has no Mandarin
/// reading. The table keeps one reading per character, the commonest: `什` is shén there, shí
/// in `奥列什金` Oreshkin, which is missed.
fn word_token(word: &str, readings: &HanReadings) -> Option<Token> {
    let mut pinyin = String::new();
    let mut units: Vec<&[&[u8]]> = Vec::new();
    let mut liquid_after: Vec<bool> = Vec::new();
    for c in word.chars().filter(|c| !c.is_whitespace()) {
        let syllable = readings.get(c)?.mandarin.first()?;
        pinyin.push_str(syllable);
        units.push(syllable_initial_options(syllable));
        units.push(final_options(syllable));
        // An r or l left unwritten after a syllable that ends in a vowel.
        let open = !syllable.ends_with('n') && !syllable.ends_with('g') && syllable != "er";
        liquid_after.extend([false, open]);
    }
    let mut token = Token::new(&pinyin);
    // The pinyin's own Latin skeleton means nothing: the spellings replace it.
    token.skeleton = 0;
    token.skeleton_len = 0;
    token.spellings = Some(spellings_with_liquid(
        Source::Mandarin,
        &units,
        &liquid_after,
    )?);
    Some(token)
}

/// The form of a transcribed foreign name ([`is_transcribed`]): one token per word, each
/// compared with Latin words by the spellings it may stand for; `None` for any other name.
pub fn transcription_form(text: &str, readings: &HanReadings) -> Option<Form> {
    if !is_transcribed(text) {
        return None;
    }
    let tokens: Vec<Token> = text
        .split(is_separator)
        .take(TOKENS_MAX)
        .map(|word| word_token(word, readings))
        .collect::<Option<_>>()?;
    debug_assert!(tokens.len() >= 2);
    Some(Form {
        via: Via::HanReading,
        joins: joins_of(&tokens),
        tokens,
        korean: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abjad::{latin_skeleton, skeleton_hash, Skeleton};

    fn latin(word: &str) -> u64 {
        let mut s = Skeleton::new();
        latin_skeleton(word, &mut s);
        skeleton_hash(&s)
    }

    /// The words of `han` against the Latin `words`, one by one.
    #[track_caller]
    fn check(han: &str, words: &[&str], expect: bool) {
        let form = transcription_form(han, HanReadings::builtin()).expect(han);
        assert_eq!(form.tokens.len(), words.len());
        for (token, word) in form.tokens.iter().zip(words) {
            let spellings = token.spellings.as_ref().unwrap();
            assert_eq!(spellings.contains(latin(word)), expect, "{han}: {word}");
        }
    }

    #[test]
    fn transcribed_names_meet_their_latin_spelling() {
        check("弗拉基米尔·普京", &["vladimir", "putin"], true);
        check("谢尔盖·拉夫罗夫", &["sergey", "lavrov"], true);
        check("奥萨马·本·拉登", &["osama", "bin", "laden"], true);
        // Xinhua leaves Donald's l unwritten (`唐纳德` tang na de), Rotenberg's r too.
        check("唐纳德·特朗普", &["donald", "trump"], true);
        check("阿尔卡季·罗滕贝格", &["arkady", "rotenberg"], true);
        check("叶夫根尼·普里戈任", &["yevgeny", "prigozhin"], true);
        check("唐纳德·特朗普", &["donaldson", "trumpet"], false);
        check("阿列克谢·纳瓦尔尼", &["alexei", "navalny"], true);
        check("亚历山大·卢卡申科", &["alexander", "lukashenko"], true);
        check("马克西姆·高尔基", &["maxim", "gorky"], true);
        check("亚历山大·卢卡申科", &["alexis", "lukas"], false);
        check("弗拉基米尔·普京", &["zelensky", "medvedev"], false);
        check("谢尔盖·拉夫罗夫", &["smith", "shoigu"], false);
    }

    #[test]
    fn only_dotted_han_names_are_transcriptions() {
        assert!(is_transcribed("弗拉基米尔·普京"));
        assert!(is_transcribed("奥萨马・本・拉登"));
        assert!(!is_transcribed("金正恩"));
        assert!(!is_transcribed("普京"));
        assert!(!is_transcribed("Vladimir·Putin"));
        assert!(!is_transcribed("弗拉基米尔··普京"));
        assert_eq!(initial("zhang"), "zh");
        assert_eq!(initial("er"), "");
        assert_eq!(initial("jing"), "j");
    }
}
