//! Consonant skeletons: how a name written in Arabic or Persian script is compared with its
//! vowelled Latin spellings.
//!
//! Arabic and Persian script write consonants and long vowels only, so `محمد بن سلمان` folds
//! to `mhmd bn slman` and no edit distance reaches `Mohammed bin Salman`. Both sides are
//! reduced to their *skeleton* instead: the consonants, each mapped to a class that the usual
//! romanisations agree on (`ق` and `q`, `k`, `c` are one class; `خ` and `kh`, `x` another),
//! the vowels and the letters that also write vowels (`ا و ي ی`, Latin `w` `y`) dropped, a
//! final `ه`/`ة` (written `-a`, `-ah`, `-e`) dropped, the article `ال` (`al-`) dropped, and
//! repeated classes written once: `محمد` and `Mohammed` are both `mhmd`, `قاسم` and `Qasem`
//! both `ksm`.
//!
//! A skeleton is lossy on purpose, so the matcher uses it only between a token written in
//! Arabic script and another token (never between two Latin tokens), at a similarity below a
//! romanisation variant's; the explanation names it (`consonant_skeleton`).

/// A skeleton being built: on the stack (every token analysed builds one, the query's too).
pub type Skeleton = smallvec::SmallVec<[u8; 32]>;

/// Longest skeleton kept (a longer token is compared without one).
pub const SKELETON_LEN_MAX: usize = 24;
/// Shortest skeleton through which words written apart in Arabic script merge with one written
/// together: a shorter one (`bn`, `l`) is shared by too many short words to be evidence.
pub const JOIN_SKELETON_LEN_MIN: u8 = 3;

/// True for a letter of the Arabic script blocks (Arabic, Persian, Urdu …).
pub fn is_abjad(c: char) -> bool {
    matches!(c, '\u{0620}'..='\u{064A}' | '\u{066E}'..='\u{06D3}' | '\u{06FA}'..='\u{06FF}'
        | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}' | '\u{FB50}'..='\u{FDFF}'
        | '\u{FE70}'..='\u{FEFF}')
}

/// True for a character that belongs inside a word of Arabic-script text: letters, digits,
/// the vowel signs, the tatweel and the zero-width (non-)joiners of Persian.
pub fn in_word(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(c, '\u{0610}'..='\u{061A}' | '\u{064B}'..='\u{065F}' | '\u{0670}'
            | '\u{06D6}'..='\u{06ED}' | '\u{0640}' | '\u{200C}' | '\u{200D}')
}

/// The consonant class of one Arabic-script letter; `None` for letters that also write
/// vowels (alif, waw, ya), hamza, ʿayn, vowel signs and everything else.
fn abjad_class(c: char) -> Option<u8> {
    Some(match c {
        'ب' | 'پ' => b'b',
        'ت' | 'ط' | 'ث' => b't',
        'ج' | 'ژ' => b'j',
        'چ' | 'ش' => b'c',
        'ح' | 'ه' | 'ھ' | 'ۀ' => b'h',
        'خ' => b'x',
        'د' | 'ذ' | 'ض' => b'd',
        'ر' => b'r',
        'ز' | 'ظ' => b'z',
        'س' | 'ص' => b's',
        'غ' | 'گ' => b'g',
        'ف' | 'ڤ' => b'f',
        'ق' | 'ك' | 'ک' => b'k',
        'ل' => b'l',
        'م' => b'm',
        'ن' => b'n',
        _ => return None,
    })
}

/// The skeleton of words written together (`نصر الله` as `Nasrallah`): their skeletons
/// concatenated, a class repeated across the seam written once.
pub fn joined_skeleton<'a>(skeletons: impl Iterator<Item = &'a [u8]>, out: &mut Skeleton) {
    out.clear();
    for skeleton in skeletons {
        for &class in skeleton {
            push_class(out, class);
        }
    }
}

/// Pushes `class` unless it repeats the last one (`مُحَمَّد`'s doubled m, `Hassan`'s ss).
pub(crate) fn push_class(out: &mut Skeleton, class: u8) {
    if out.last() != Some(&class) {
        out.push(class);
    }
}

/// The skeleton of one word written in Arabic script, into `out` (cleared first).
pub fn abjad_skeleton(word: &str, out: &mut Skeleton) {
    out.clear();
    let letters: Vec<char> = word
        .chars()
        .filter(|&c| is_abjad(c) || c == '\u{200C}')
        .collect();
    // The article, written joined (`الحسن` al-Hasan), when a word follows it.
    let start = if letters.len() > 3 && letters[0] == 'ا' && letters[1] == 'ل' {
        2
    } else {
        0
    };
    for (i, &c) in letters.iter().enumerate().skip(start) {
        // A final heh or ta marbuta writes a vowel (`-a`, `-e`): also before a Persian
        // zero-width non-joiner, which ends a written word (`خامنه‌ای`).
        let word_end = letters.get(i + 1).is_none_or(|&next| next == '\u{200C}');
        if word_end && matches!(c, 'ه' | 'ة' | 'ۀ') {
            continue;
        }
        if let Some(class) = abjad_class(c) {
            push_class(out, class);
        }
    }
    out.truncate(SKELETON_LEN_MAX + 1);
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y' | b'w')
}

/// The skeleton of one folded Latin word (lower-case ASCII), into `out` (cleared first); empty
/// for anything else.
pub fn latin_skeleton(word: &str, out: &mut Skeleton) {
    out.clear();
    let mut b = word.as_bytes();
    if !b.iter().all(u8::is_ascii_lowercase) {
        return;
    }
    // The article written joined (`Alhassan`, `Elkhatib`), as `ال` is above.
    if b.len() >= 5 && (b.starts_with(b"al") || b.starts_with(b"el")) && !is_vowel(b[2]) {
        b = &b[2..];
    }
    let mut i = 0;
    while i < b.len() {
        let next = b.get(i + 1).copied();
        let (class, step) = match (b[i], next) {
            (b'k', Some(b'h')) => (Some(b'x'), 2),
            (b'g', Some(b'h')) => (Some(b'g'), 2),
            (b's' | b'c', Some(b'h')) => (Some(b'c'), 2),
            (b't', Some(b'h')) => (Some(b't'), 2),
            (b'd', Some(b'h')) => (Some(b'd'), 2),
            (b'z', Some(b'h')) | (b'd', Some(b'j')) => (Some(b'j'), 2),
            (b'p', Some(b'h')) => (Some(b'f'), 2),
            // A final h after a vowel writes the vowel (`Abdullah`, `Fatimah`).
            (b'h', None) if i > 0 && is_vowel(b[i - 1]) => (None, 1),
            (c, _) if is_vowel(c) => (None, 1),
            (b'p', _) => (Some(b'b'), 1),
            (b'q' | b'c', _) => (Some(b'k'), 1),
            // Persian `و` is v as often as it is o or u (`جواد` Javad, `محمود` Mahmoud).
            (b'v', _) => (None, 1),
            (c, _) => (Some(c), 1),
        };
        if let Some(class) = class {
            push_class(out, class);
        }
        i += step;
    }
    out.truncate(SKELETON_LEN_MAX + 1);
}

/// Hash of a skeleton for [`crate::analysis::Token`]; 0 (no skeleton) for an empty or too long one.
pub fn skeleton_hash(skeleton: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    if skeleton.is_empty() || skeleton.len() > SKELETON_LEN_MAX {
        return 0;
    }
    foldhash::fast::FixedState::with_seed(0x5e1e_7011)
        .hash_one(skeleton)
        .max(1)
}

/// The first words of Arabic compound names that romanisations write apart (`ابوبكر` Abu
/// Bakr, `عبدالرحمن` Abd al-Rahman); the Arabic-script word is often written as one.
const COMPOUND_HEADS: &[&str] = &["ابو", "أبو", "ابي", "أبي", "عبد"];

/// `text` with every compound name written as one word (`ابوبكر البغدادي`) split after its
/// first word (`ابو بكر البغدادي`), so that each part meets a Latin word written apart (`Abu
/// Bakr`); `None` when there is none. The name as written stays a form of its own: `Abubakr`
/// meets the whole word.
pub fn split_compounds(text: &str) -> Option<String> {
    let mut split = false;
    let words: Vec<String> = text
        .split(' ')
        .map(|word| {
            let head = COMPOUND_HEADS.iter().find(|head| {
                word.strip_prefix(**head)
                    .is_some_and(|rest| rest.chars().filter(|c| is_abjad(*c)).count() >= 2)
            });
            match head {
                Some(head) => {
                    split = true;
                    format!("{head} {}", &word[head.len()..])
                }
                None => word.to_string(),
            }
        })
        .collect();
    split.then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abjad(word: &str) -> String {
        let mut out = Skeleton::new();
        abjad_skeleton(word, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    fn latin(word: &str) -> String {
        let mut out = Skeleton::new();
        latin_skeleton(word, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[track_caller]
    fn check(written: &str, romanised: &[&str], skeleton: &str) {
        assert_eq!(abjad(written), skeleton, "{written}");
        for r in romanised {
            assert_eq!(latin(r), skeleton, "{r}");
        }
    }

    #[test]
    fn arabic_and_persian_meet_their_romanisations() {
        check(
            "محمد",
            &["mohammed", "muhammad", "mohamed", "mohammad"],
            "mhmd",
        );
        check("مُحَمَّد", &["mohammad"], "mhmd");
        check("بن", &["bin", "ben", "ibn"], "bn");
        check("سلمان", &["salman", "selman"], "slmn");
        check("قاسم", &["qasem", "qassem", "kassem"], "ksm");
        check("سليماني", &["soleimani", "suleimani", "sulaymani"], "slmn");
        check("خامنه‌ای", &["khamenei", "khameneyi"], "xmn");
        check("احمدی‌نژاد", &["ahmadinejad", "ahmadinezhad"], "hmdnjd");
        check("جواد", &["javad", "jawad"], "jd");
        check("أسامة", &["osama", "usama", "ousama"], "sm");
        check("لادن", &["laden", "ladin"], "ldn");
        check("عبدالله", &["abdullah", "abdallah", "abdulla"], "bdl");
        check("الحسن", &["hassan", "alhassan", "hasan"], "hsn");
        check("علي", &["ali"], "l");
    }

    #[test]
    fn compounds_written_as_one_word_are_split() {
        assert_eq!(
            split_compounds("ابوبكر البغدادي").as_deref(),
            Some("ابو بكر البغدادي")
        );
        assert_eq!(split_compounds("عبدالله").as_deref(), Some("عبد الله"));
        assert_eq!(split_compounds("أبو بكر"), None);
        assert_eq!(split_compounds("ابو"), None);
        assert_eq!(split_compounds("محمد"), None);
    }

    #[test]
    fn different_names_keep_different_skeletons() {
        assert_ne!(abjad("سلمان"), latin("nayef"));
        assert_ne!(abjad("سليماني"), latin("rahimi"));
        assert_ne!(abjad("احمدی‌نژاد"), latin("abbas"));
        // Not Latin-only: kana, Hangul and upper case have no Latin skeleton.
        assert_eq!(latin("キム"), "");
        assert_eq!(latin("Kim"), "");
        assert_eq!(skeleton_hash(b""), 0);
        assert_ne!(skeleton_hash(b"mhmd"), 0);
    }
}
