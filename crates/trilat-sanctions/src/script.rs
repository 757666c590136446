//! Script detection.

use crate::model::Script;

/// True for a precomposed Hangul syllable or a Hangul jamo.
pub fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}')
}

/// True for a CJK unified ideograph (hanja, kanji, hanzi).
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2A6DF}')
}

/// True for hiragana or katakana (including the long-vowel mark and half-width katakana).
pub fn is_kana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' | '\u{FF66}'..='\u{FF9F}')
}

/// Detects the dominant script of a name: kana wins over Han (Japanese mixes them).
pub fn detect(text: &str) -> Script {
    let (mut latin, mut hangul, mut han, mut kana, mut cyr, mut arabic, mut other) =
        (0, 0, 0, 0, 0, 0, 0);
    for c in text.chars() {
        if c.is_ascii_alphabetic() || matches!(c, '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}') {
            latin += 1;
        } else if is_hangul(c) {
            hangul += 1;
        } else if is_kana(c) {
            kana += 1;
        } else if is_han(c) {
            han += 1;
        } else if matches!(c, '\u{400}'..='\u{4FF}') {
            cyr += 1;
        } else if matches!(c, '\u{600}'..='\u{6FF}' | '\u{750}'..='\u{77F}') {
            arabic += 1;
        } else if c.is_alphabetic() {
            other += 1;
        }
    }
    if hangul > 0 && hangul >= latin {
        Script::Hangul
    } else if kana > 0 {
        Script::Kana
    } else if han > 0 && han >= latin {
        Script::Han
    } else if cyr > latin {
        Script::Cyrillic
    } else if arabic > latin {
        Script::Arabic
    } else if latin > 0 || other == 0 {
        Script::Latin
    } else {
        Script::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts() {
        assert_eq!(detect("Kim Jong Un"), Script::Latin);
        assert_eq!(detect("김정은"), Script::Hangul);
        assert_eq!(detect("金正恩"), Script::Han);
        assert_eq!(detect("ユン・ホジン"), Script::Kana);
        assert_eq!(detect("田中 ヨシオ"), Script::Kana);
        assert_eq!(detect("Иванов"), Script::Cyrillic);
        assert_eq!(detect("Chŏng"), Script::Latin);
    }
}
