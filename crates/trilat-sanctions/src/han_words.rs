//! Organisation names written in Han characters read as English: the common words of
//! organisation names (`銀行` bank, `貿易` trading, `朝鮮` Korea, `総局` general bureau) from
//! `data/han_words.txt`, the rest (usually a Korean place or proper name, `光線`) through its
//! Korean reading (`gwangseon`, which keys as `Kwangson`).

use crate::hangul::{self, System};
use crate::unihan::HanReadings;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Longest word of the table, in characters (greedy matching tries this many first).
const WORD_CHARS_MAX: usize = 5;

/// Han word → its English reading and an alternative (`bank` / `banking`).
fn table() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static TABLE: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../data/han_words.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| l.split_once('\t'))
            .map(|(han, english)| {
                let (first, second) = english.split_once('|').unwrap_or((english, english));
                (han, (first, second))
            })
            .collect()
    })
}

/// The name's English readings: the first with every word's first reading, the second with
/// the alternatives (when one differs). Empty when no word of the table occurs.
pub fn english_readings(name: &str, readings: &HanReadings) -> Vec<String> {
    let table = table();
    let chars: Vec<char> = name.chars().filter(|c| !c.is_whitespace()).collect();
    let (mut first, mut second) = (Vec::new(), Vec::new());
    let mut unknown = String::new();
    let mut known = false;
    let mut i = 0;
    while i < chars.len() {
        let found = (2..=WORD_CHARS_MAX.min(chars.len() - i))
            .rev()
            .find_map(|n| {
                let word: String = chars[i..i + n].iter().collect();
                table.get(word.as_str()).map(|e| (n, *e))
            });
        match found {
            Some((n, (a, b))) => {
                flush(&mut unknown, readings, &mut first, &mut second);
                first.push(a.to_string());
                second.push(b.to_string());
                known = true;
                i += n;
            }
            None => {
                unknown.push(chars[i]);
                i += 1;
            }
        }
    }
    flush(&mut unknown, readings, &mut first, &mut second);
    if !known {
        return Vec::new();
    }
    let (first, second) = (first.join(" "), second.join(" "));
    if first == second {
        vec![first]
    } else {
        vec![first, second]
    }
}

/// A run of characters outside the table, read as Korean (Revised Romanization), as one word.
fn flush(
    run: &mut String,
    readings: &HanReadings,
    first: &mut Vec<String>,
    second: &mut Vec<String>,
) {
    if run.is_empty() {
        return;
    }
    let word = match readings.hangul_readings(run, 1).first() {
        Some(hangul_word) => hangul::romanize_word(hangul_word, System::Revised),
        None => std::mem::take(run),
    };
    run.clear();
    first.push(word.clone());
    second.push(word);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisation_words() {
        let readings = HanReadings::builtin();
        assert_eq!(
            english_readings("朝鮮光線銀行", readings),
            ["korea gwangseon bank", "korea gwangseon banking"]
        );
        assert_eq!(
            english_readings("朝鮮民主主義人民共和国", readings),
            ["korea democratic peoples republic"]
        );
        assert!(english_readings("金正恩", readings).is_empty());
    }
}
