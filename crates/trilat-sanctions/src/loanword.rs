//! Katakana loanwords read as the words they spell: `タンチョン・コマーシャル・バンク` is also
//! read `tanchon commercial bank`, not only `tanchon komaasharu banku`. The table
//! (`data/katakana_loanwords.txt`) holds the words of organisation names on the lists; a word
//! not in it keeps its Hepburn reading.

use crate::analysis::{joins_of, Form, Token, Via, TOKENS_MAX};
use crate::script::is_kana;
use crate::transcription::{spellings, Source, Spellings};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Katakana word → the word it spells, built once from the data file compiled into the crate.
fn table() -> &'static HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../data/katakana_loanwords.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| l.split_once('\t'))
            .collect()
    })
}

/// Katakana names of Latin letters (`ディー・シー・ビー` is `DCB`, `オー・オー・オー` is `OOO`).
const LETTERS: &[(&str, char)] = &[
    ("エー", 'a'),
    ("ビー", 'b'),
    ("シー", 'c'),
    ("ディー", 'd'),
    ("イー", 'e'),
    ("エフ", 'f'),
    ("ジー", 'g'),
    ("エイチ", 'h'),
    ("アイ", 'i'),
    ("ジェー", 'j'),
    ("ケー", 'k'),
    ("エル", 'l'),
    ("エム", 'm'),
    ("エヌ", 'n'),
    ("オー", 'o'),
    ("ピー", 'p'),
    ("キュー", 'q'),
    ("アール", 'r'),
    ("エス", 's'),
    ("ティー", 't'),
    ("ユー", 'u'),
    ("ブイ", 'v'),
    ("ヴイ", 'v'),
    ("ダブリュー", 'w'),
    ("エックス", 'x'),
    ("ワイ", 'y'),
    ("ゼット", 'z'),
];

/// True for the characters that separate words in a katakana name (brackets too: `リーダー
/// （ホン・コン）インターナショナル`).
fn is_separator(c: char) -> bool {
    matches!(
        c,
        '・' | '･' | '＝' | '=' | ' ' | '\u{3000}' | '、' | '，' | '（' | '）' | '(' | ')'
    )
}

fn letter(word: &str) -> Option<char> {
    LETTERS
        .iter()
        .find(|(kana, _)| *kana == word)
        .map(|(_, c)| *c)
}

/// How the words outside the table are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rest {
    /// Hepburn as written (`タンチョン` → `tanchon`).
    Hepburn,
    /// As a Korean name in katakana: syllable finals restored and `ン` before a consonant or
    /// at the end read `ng` (`デドン` → `dedong`, `ペクソル` → `peksol`), as in `Daedong`.
    Korean,
    /// As a European name, the vowels Japanese adds after a closing consonant dropped
    /// (`セナット` → `senat`, `パルセック` → `parsek`: [`crate::kana::foreign_from_hepburn`]).
    Foreign,
    /// As Chinese pinyin when the word is made of pinyin syllables (`シェン・ジョン` →
    /// `shen zhong`: [`crate::kana_pinyin::pinyin_reading`]), else as Hepburn.
    Pinyin,
}

/// The words of a katakana name: split at the separators and where kana meets Latin letters
/// or digits (`オフィス39` is office 39, `インテレクトLLC` Intellekt LLC).
fn words_of(name: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for word in name.split(is_separator).filter(|w| !w.is_empty()) {
        let mut start = 0;
        let mut last_kana = None;
        for (at, c) in word.char_indices() {
            let kana = is_kana(c);
            if last_kana.is_some_and(|k| k != kana) {
                words.push(&word[start..at]);
                start = at;
            }
            last_kana = Some(kana);
        }
        words.push(&word[start..]);
    }
    words
}

/// The name with every katakana word of the table replaced by the word it spells, runs of two
/// or more letter names written as one Latin word (`ディー・シー・ビー` → `dcb`), and the other
/// words read as `rest` says; `None` when nothing was read so (the Hepburn form says it all):
/// for [`Rest::Hepburn`] and [`Rest::Korean`] when no word is in the table, for the others
/// also when no word reads otherwise than in Hepburn.
pub fn english_reading(name: &str, rest: Rest) -> Option<String> {
    let table = table();
    let words = words_of(name);
    let mut known = false;
    let mut reread = false;
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let run = words[i..]
            .iter()
            .take_while(|w| letter(w).is_some())
            .count();
        if run >= 2 {
            out.push(words[i..i + run].iter().filter_map(|w| letter(w)).collect());
            known = true;
            i += run;
            continue;
        }
        let word = words[i];
        out.push(match table.get(word) {
            Some(english) => {
                known = true;
                (*english).to_string()
            }
            None if word.chars().all(is_kana) => {
                let hepburn = crate::kana::to_hepburn(word);
                let read = match rest {
                    Rest::Hepburn => hepburn.clone(),
                    Rest::Korean => final_ng(&crate::kana::korean_from_hepburn(&hepburn)),
                    Rest::Foreign => {
                        single_consonants(&crate::kana::foreign_from_hepburn(&hepburn))
                    }
                    Rest::Pinyin => {
                        crate::kana_pinyin::pinyin_reading(word).unwrap_or_else(|| hepburn.clone())
                    }
                };
                reread |= read != hepburn;
                read
            }
            None => word.to_string(),
        });
        i += 1;
    }
    let read = match rest {
        Rest::Hepburn | Rest::Korean => known,
        Rest::Foreign | Rest::Pinyin => known || reread,
    };
    read.then(|| out.join(" "))
}

/// The name read as [`english_reading`] reads it with [`Rest::Hepburn`], as a form whose
/// katakana words outside the table also carry the consonants they may spell
/// ([`crate::kana::spelling_units`]: `ラザルス` meets `Lazarus`, `チンタオ` `Qingdao`), so that
/// the foreign words and names no table lists are compared by sound; `None` when no word is so.
pub fn spelled_form(name: &str) -> Option<Form> {
    let table = table();
    let words = words_of(name);
    let mut parts: Vec<(String, Option<Spellings>)> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let run = words[i..]
            .iter()
            .take_while(|w| letter(w).is_some())
            .count();
        if run >= 2 {
            parts.push((
                words[i..i + run].iter().filter_map(|w| letter(w)).collect(),
                None,
            ));
            i += run;
            continue;
        }
        let word = words[i];
        match table.get(word) {
            Some(english) => parts.extend(english.split(' ').map(|w| (w.to_string(), None))),
            None if word.chars().all(is_kana) => {
                let hepburn = crate::kana::to_hepburn(word);
                let units = crate::kana::spelling_units(&hepburn);
                let set = units.and_then(|units| spellings(Source::Kana, &units));
                parts.push((hepburn, set));
            }
            None => parts.extend(
                crate::normalize::fold_latin(word)
                    .split_whitespace()
                    .map(|w| (w.to_string(), None)),
            ),
        }
        i += 1;
    }
    if parts.iter().all(|(_, set)| set.is_none()) {
        return None;
    }
    let tokens = spelled_tokens(parts);
    Some(Form {
        via: Via::Kana,
        joins: joins_of(&tokens),
        tokens,
        korean: Vec::new(),
    })
}

/// Adds the spellings of [`spelled_form`] to `forms`, the readings of a katakana name: to
/// the reading with the same words when there is one (one form fewer to index and to look up),
/// else as a form of its own.
pub fn add_spelled_form(forms: &mut Vec<Form>, name: &str) {
    let Some(spelled) = spelled_form(name) else {
        return;
    };
    let same_words = |form: &&mut Form| {
        form.tokens.len() == spelled.tokens.len()
            && form
                .tokens
                .iter()
                .zip(&spelled.tokens)
                .all(|(a, b)| a.text == b.text)
    };
    match forms.iter_mut().find(same_words) {
        Some(form) => form.tokens = spelled.tokens,
        None => forms.push(spelled),
    }
}

fn spelled_tokens(parts: Vec<(String, Option<Spellings>)>) -> Vec<Token> {
    parts
        .into_iter()
        .take(TOKENS_MAX)
        .map(|(text, set)| {
            let mut token = Token::new(&text);
            if set.is_some() {
                token.skeleton = 0;
                token.skeleton_len = 0;
                token.spellings = set;
            }
            token
        })
        .collect()
}

/// Doubled consonants written once: `ッ` doubles the next consonant where the foreign word has
/// one (`セナット` senatto → senat, `パルセック` → parsek).
fn single_consonants(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        if out.ends_with(c) && !"aeiou".contains(c) {
            continue;
        }
        out.push(c);
    }
    out
}

/// `n` before a consonant (not `y`, not `g`) or at the end of the word read `ng`.
fn final_ng(word: &str) -> String {
    let bytes = word.as_bytes();
    let mut out = String::with_capacity(word.len() + 2);
    for (i, c) in word.char_indices() {
        out.push(c);
        let next = bytes.get(i + 1).copied();
        if c == 'n' && next.is_none_or(|n| !b"aeiouyg'".contains(&n)) {
            out.push('g');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loanwords_read_as_english() {
        assert_eq!(
            english_reading("タンチョン・コマーシャル・バンク", Rest::Hepburn).as_deref(),
            Some("tanchon commercial bank")
        );
        assert_eq!(
            english_reading(
                "コリア・マイニング・デベロップメント・トレーディング・コーポレーション",
                Rest::Hepburn
            )
            .as_deref(),
            Some("korea mining development trading corporation")
        );
        assert_eq!(english_reading("ユン・ホジン", Rest::Hepburn), None);
        assert_eq!(
            english_reading(
                "ディー・シー・ビー・ファイナンス・リミテッド",
                Rest::Hepburn
            )
            .as_deref(),
            Some("dcb finance limited")
        );
        assert_eq!(
            english_reading("アポロン・オー・オー・オー", Rest::Hepburn).as_deref(),
            Some("aporon ooo")
        );
        assert_eq!(
            english_reading("デドン・クレジット・バンク", Rest::Korean).as_deref(),
            Some("dedong credit bank")
        );
        assert_eq!(
            english_reading("ペクソル・トレーディング・コーポレーション", Rest::Korean).as_deref(),
            Some("peksol trading corporation")
        );
        // Kana next to Latin letters or digits is another word.
        assert_eq!(
            english_reading("オフィス39", Rest::Hepburn).as_deref(),
            Some("office 39")
        );
        assert_eq!(
            english_reading("ファースト・オイルJVカンパニー・リミテッド", Rest::Hepburn).as_deref(),
            Some("first oil JV company limited")
        );
        // Words outside the table as a European name, or as pinyin.
        assert_eq!(
            english_reading("セナット・シッピング・リミテッド", Rest::Foreign).as_deref(),
            Some("senat shipping limited")
        );
        assert_eq!(
            english_reading("パルセック", Rest::Foreign).as_deref(),
            Some("parsek")
        );
        assert_eq!(
            english_reading(
                "シェン・ジョン・インターナショナル・シッピング",
                Rest::Pinyin
            )
            .as_deref(),
            Some("shen zhong international shipping")
        );
        assert_eq!(english_reading("パルセック", Rest::Pinyin), None);
        // One letter name alone is a word, not a letter (`アイ` may be a name).
        assert_eq!(
            english_reading("アイ・バンク", Rest::Hepburn).as_deref(),
            Some("ai bank")
        );
    }

    #[test]
    fn words_outside_the_table_carry_their_consonants() {
        let form = spelled_form("ラザルス・グループ").unwrap();
        let texts: Vec<&str> = form.tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["razarusu", "group"]);
        assert!(form.tokens[0].spellings.is_some());
        assert!(form.tokens[1].spellings.is_none());
        let form = spelled_form("チンタオ・トレーディング・カンパニー・リミテッド").unwrap();
        let texts: Vec<&str> = form.tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["chintao", "trading", "company", "limited"]);
        assert!(form.tokens[0].spellings.is_some());
        assert!(spelled_form("トレーディング・カンパニー").is_none());
    }

    #[test]
    fn table_lines_are_katakana_and_a_word() {
        for line in include_str!("../data/katakana_loanwords.txt").lines() {
            if line.starts_with('#') {
                continue;
            }
            let (kana, word) = line.split_once('\t').expect(line);
            assert!(kana.chars().all(is_kana), "{line}");
            assert!(
                word.chars().all(|c| c.is_ascii_lowercase() || c == ' '),
                "{line}"
            );
        }
    }
}
