//! Hangul syllable arithmetic and romanisation (Revised Romanization, McCune–Reischauer,
//! DPRK 1992 official system), syllable by syllable as names are romanised.
//!
//! Tables follow the published systems: the initial / medial / final jamo order of Unicode
//! (U+AC00 + (initial × 21 + medial) × 28 + final).

/// Romanisation systems in use for Korean names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum System {
    /// South Korea's Revised Romanization (2000).
    Revised,
    /// McCune–Reischauer with breves (ŏ, ŭ) and aspiration apostrophes.
    McCuneReischauer,
    /// McCune–Reischauer as the UN and many lists write it: breves as apostrophes (`CHO'NG`).
    McCuneApostrophe,
    /// McCune–Reischauer without any diacritics (`Chong`).
    McCunePlain,
    /// The DPRK official system (1992): kh, th, ph, j.
    Dprk,
}

/// All systems, in a stable order.
pub const SYSTEMS: [System; 5] = [
    System::Revised,
    System::McCuneReischauer,
    System::McCuneApostrophe,
    System::McCunePlain,
    System::Dprk,
];

const RR_INITIAL: [&str; 19] = [
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p",
    "h",
];
const MR_INITIAL: [&str; 19] = [
    "k", "kk", "n", "t", "tt", "r", "m", "p", "pp", "s", "ss", "", "ch", "tch", "ch'", "k'", "t'",
    "p'", "h",
];
/// Voiced forms MR uses inside a name after a vowel or sonorant (Kim Chŏng-il → -il; Kwang-gil).
const MR_INITIAL_VOICED: [&str; 19] = [
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "tch", "ch'", "k'", "t'",
    "p'", "h",
];
const DPRK_INITIAL: [&str; 19] = [
    "k", "kk", "n", "t", "tt", "r", "m", "p", "pp", "s", "ss", "", "j", "jj", "ch", "kh", "th",
    "ph", "h",
];
const RR_MEDIAL: [&str; 21] = [
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we",
    "wi", "yu", "eu", "ui", "i",
];
const MR_MEDIAL: [&str; 21] = [
    "a", "ae", "ya", "yae", "ŏ", "e", "yŏ", "ye", "o", "wa", "wae", "oe", "yo", "u", "wŏ", "we",
    "wi", "yu", "ŭ", "ŭi", "i",
];
const FINAL: [&str; 28] = [
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p",
    "t", "t", "ng", "t", "t", "k", "t", "p", "t",
];

/// Two-syllable Korean surnames (남궁, 황보, 제갈, 선우, 독고, 사공, 서문, 동방, 어금, 망절).
pub const TWO_SYLLABLE_SURNAMES: [&str; 10] = [
    "남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방", "어금", "망절",
];

/// The jamo indices of a precomposed syllable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jamo {
    /// Initial consonant index (0..19).
    pub initial: usize,
    /// Vowel index (0..21).
    pub medial: usize,
    /// Final consonant index (0..28, 0 = none).
    pub last: usize,
}

/// Decomposes a precomposed Hangul syllable (U+AC00..U+D7A3).
pub fn decompose(c: char) -> Option<Jamo> {
    let code = c as u32;
    if !(0xAC00..=0xD7A3).contains(&code) {
        return None;
    }
    let s = (code - 0xAC00) as usize;
    let jamo = Jamo {
        initial: s / 588,
        medial: (s % 588) / 28,
        last: s % 28,
    };
    debug_assert!(jamo.initial < 19 && jamo.medial < 21 && jamo.last < 28);
    Some(jamo)
}

/// Composes jamo indices back into a syllable.
pub fn compose(jamo: Jamo) -> Option<char> {
    if jamo.initial >= 19 || jamo.medial >= 21 || jamo.last >= 28 {
        return None;
    }
    char::from_u32(0xAC00 + ((jamo.initial * 21 + jamo.medial) * 28 + jamo.last) as u32)
}

/// Romanises one syllable. `voiced` selects the MR form used after a vowel or sonorant.
pub fn romanize_syllable(jamo: Jamo, system: System, voiced: bool) -> String {
    let initial = match system {
        System::Revised => RR_INITIAL[jamo.initial],
        System::Dprk => DPRK_INITIAL[jamo.initial],
        _ if voiced => MR_INITIAL_VOICED[jamo.initial],
        _ => MR_INITIAL[jamo.initial],
    };
    let medial = match system {
        System::Revised => RR_MEDIAL[jamo.medial],
        _ => MR_MEDIAL[jamo.medial],
    };
    // MR and the DPRK system write ㅅ before i / wi as "sh".
    let initial = if initial == "s" && system != System::Revised && matches!(jamo.medial, 16 | 20) {
        "sh"
    } else {
        initial
    };
    let mut out = String::with_capacity(8);
    out.push_str(initial);
    out.push_str(medial);
    out.push_str(FINAL[jamo.last]);
    match system {
        System::McCuneApostrophe => out.replace('ŏ', "o'").replace('ŭ', "u'"),
        System::McCunePlain => out.replace('ŏ', "o").replace('ŭ', "u").replace('\'', ""),
        System::Dprk => out.replace('ŏ', "o").replace('ŭ', "u"),
        _ => out,
    }
}

/// Romanises a run of Hangul syllables (one name part) as one word, e.g. 정은 → `jeongeun`
/// (RR) or `chŏngŭn` (MR). Non-Hangul characters are dropped.
pub fn romanize_word(word: &str, system: System) -> String {
    let mut out = String::new();
    let mut previous_voiced = false;
    for c in word.chars() {
        let Some(jamo) = decompose(c) else { continue };
        out.push_str(&romanize_syllable(jamo, system, previous_voiced));
        // A following initial is voiced after a vowel or l, m, n, ng.
        previous_voiced = matches!(FINAL[jamo.last], "" | "l" | "m" | "n" | "ng");
    }
    out
}

/// Romanises each syllable of a word separately: 정은 → [`jeong`, `eun`].
pub fn romanize_syllables(word: &str, system: System) -> Vec<String> {
    word.chars()
        .filter_map(decompose)
        .map(|jamo| romanize_syllable(jamo, system, false))
        .collect()
}

/// Splits a Korean name written in Hangul into (surname, given name). A name with a space is
/// split at the space; otherwise the first syllable (or a known two-syllable surname).
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    if let Some((surname, given)) = name.split_once(char::is_whitespace) {
        return (
            surname.trim().to_string(),
            given.split_whitespace().collect(),
        );
    }
    let chars: Vec<char> = name.chars().collect();
    if chars.len() >= 3 {
        let first_two: String = chars[..2].iter().collect();
        if TWO_SYLLABLE_SURNAMES.contains(&first_two.as_str()) {
            return (first_two, chars[2..].iter().collect());
        }
    }
    match chars.split_first() {
        Some((first, rest)) => (first.to_string(), rest.iter().collect()),
        None => (String::new(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(hangul: &str, system: System, expect: &str) {
        assert_eq!(romanize_word(hangul, system), expect);
    }

    #[test]
    fn romanisation_tables() {
        check("김", System::Revised, "gim");
        check("김", System::McCuneReischauer, "kim");
        check("정은", System::Revised, "jeongeun");
        check("정은", System::McCuneReischauer, "chŏngŭn");
        check("정은", System::McCuneApostrophe, "cho'ngu'n");
        check("정은", System::McCunePlain, "chongun");
        check("정일", System::McCuneReischauer, "chŏngil");
        check("철호", System::Revised, "cheolho");
        check("철호", System::McCuneReischauer, "ch'ŏlho");
        check("철호", System::Dprk, "cholho");
        check("최", System::Revised, "choe");
        check("시", System::McCuneReischauer, "shi");
        check("시", System::Revised, "si");
        check("광길", System::McCuneReischauer, "kwanggil");
        check("태", System::Dprk, "thae");
    }

    #[test]
    fn syllable_arithmetic_round_trips() {
        for code in 0xAC00u32..=0xD7A3 {
            let c = char::from_u32(code).unwrap();
            assert_eq!(compose(decompose(c).unwrap()), Some(c));
        }
        assert_eq!(decompose('A'), None);
    }

    #[test]
    fn surname_split() {
        assert_eq!(split_name("김정은"), ("김".to_string(), "정은".to_string()));
        assert_eq!(
            split_name("남궁민수"),
            ("남궁".to_string(), "민수".to_string())
        );
        assert_eq!(
            split_name("황보 관"),
            ("황보".to_string(), "관".to_string())
        );
        assert_eq!(split_name("이"), ("이".to_string(), String::new()));
    }
}
