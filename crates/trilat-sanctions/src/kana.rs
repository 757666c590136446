//! Japanese kana to modified Hepburn, with the passport long-vowel variants folded by
//! [`fold_long_vowels`] (`Ōno` = `Ono` = `Ohno` = `Oono`).

/// Katakana (after hiragana is shifted) to Hepburn; digraphs are tried first.
const DIGRAPHS: &[(&str, &str)] = &[
    ("キャ", "kya"),
    ("キュ", "kyu"),
    ("キョ", "kyo"),
    ("シャ", "sha"),
    ("シュ", "shu"),
    ("ショ", "sho"),
    ("シェ", "she"),
    ("チャ", "cha"),
    ("チュ", "chu"),
    ("チョ", "cho"),
    ("チェ", "che"),
    ("ニャ", "nya"),
    ("ニュ", "nyu"),
    ("ニョ", "nyo"),
    ("ヒャ", "hya"),
    ("ヒュ", "hyu"),
    ("ヒョ", "hyo"),
    ("ミャ", "mya"),
    ("ミュ", "myu"),
    ("ミョ", "myo"),
    ("リャ", "rya"),
    ("リュ", "ryu"),
    ("リョ", "ryo"),
    ("ギャ", "gya"),
    ("ギュ", "gyu"),
    ("ギョ", "gyo"),
    ("ジャ", "ja"),
    ("ジュ", "ju"),
    ("ジョ", "jo"),
    ("ジェ", "je"),
    ("ビャ", "bya"),
    ("ビュ", "byu"),
    ("ビョ", "byo"),
    ("ピャ", "pya"),
    ("ピュ", "pyu"),
    ("ピョ", "pyo"),
    ("ファ", "fa"),
    ("フィ", "fi"),
    ("フェ", "fe"),
    ("フォ", "fo"),
    ("ティ", "ti"),
    ("ディ", "di"),
    ("トゥ", "tu"),
    ("ドゥ", "du"),
    ("ウィ", "wi"),
    ("ウェ", "we"),
    ("ウォ", "wo"),
    ("ヴァ", "va"),
    ("ヴィ", "vi"),
    ("ヴェ", "ve"),
    ("ヴォ", "vo"),
    ("クァ", "kwa"),
    ("グァ", "gwa"),
    ("ツァ", "tsa"),
    ("イェ", "ye"),
];

const MONOGRAPHS: &[(char, &str)] = &[
    ('ア', "a"),
    ('イ', "i"),
    ('ウ', "u"),
    ('エ', "e"),
    ('オ', "o"),
    ('カ', "ka"),
    ('キ', "ki"),
    ('ク', "ku"),
    ('ケ', "ke"),
    ('コ', "ko"),
    ('サ', "sa"),
    ('シ', "shi"),
    ('ス', "su"),
    ('セ', "se"),
    ('ソ', "so"),
    ('タ', "ta"),
    ('チ', "chi"),
    ('ツ', "tsu"),
    ('テ', "te"),
    ('ト', "to"),
    ('ナ', "na"),
    ('ニ', "ni"),
    ('ヌ', "nu"),
    ('ネ', "ne"),
    ('ノ', "no"),
    ('ハ', "ha"),
    ('ヒ', "hi"),
    ('フ', "fu"),
    ('ヘ', "he"),
    ('ホ', "ho"),
    ('マ', "ma"),
    ('ミ', "mi"),
    ('ム', "mu"),
    ('メ', "me"),
    ('モ', "mo"),
    ('ヤ', "ya"),
    ('ユ', "yu"),
    ('ヨ', "yo"),
    ('ラ', "ra"),
    ('リ', "ri"),
    ('ル', "ru"),
    ('レ', "re"),
    ('ロ', "ro"),
    ('ワ', "wa"),
    ('ヰ', "i"),
    ('ヱ', "e"),
    ('ヲ', "o"),
    ('ン', "n"),
    ('ガ', "ga"),
    ('ギ', "gi"),
    ('グ', "gu"),
    ('ゲ', "ge"),
    ('ゴ', "go"),
    ('ザ', "za"),
    ('ジ', "ji"),
    ('ズ', "zu"),
    ('ゼ', "ze"),
    ('ゾ', "zo"),
    ('ダ', "da"),
    ('ヂ', "ji"),
    ('ヅ', "zu"),
    ('デ', "de"),
    ('ド', "do"),
    ('バ', "ba"),
    ('ビ', "bi"),
    ('ブ', "bu"),
    ('ベ', "be"),
    ('ボ', "bo"),
    ('パ', "pa"),
    ('ピ', "pi"),
    ('プ', "pu"),
    ('ペ', "pe"),
    ('ポ', "po"),
    ('ヴ', "vu"),
    ('ァ', "a"),
    ('ィ', "i"),
    ('ゥ', "u"),
    ('ェ', "e"),
    ('ォ', "o"),
    ('ャ', "ya"),
    ('ュ', "yu"),
    ('ョ', "yo"),
    ('ヮ', "wa"),
];

fn to_katakana(c: char) -> char {
    match c {
        '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
        _ => c,
    }
}

/// Romanises kana to Hepburn. Word separators (`・`, `＝`, spaces) become spaces;
/// `ー` repeats the previous vowel; `ッ` doubles the next consonant (`tch` before `ch`).
/// Characters that are not kana are kept (lower-cased).
pub fn to_hepburn(text: &str) -> String {
    let chars: Vec<char> = text.chars().map(to_katakana).collect();
    let mut out = String::with_capacity(chars.len() * 3);
    let mut geminate = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '・' | '･' | '＝' | '=' | ' ' | '\u{3000}' | '、' | '，') {
            out.push(' ');
            i += 1;
            continue;
        }
        if c == 'ッ' {
            geminate = true;
            i += 1;
            continue;
        }
        if c == 'ー' {
            if let Some(vowel) = out.chars().last().filter(|v| "aeiou".contains(*v)) {
                out.push(vowel);
            }
            i += 1;
            continue;
        }
        let pair: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let (roman, step) = match DIGRAPHS.iter().find(|(k, _)| *k == pair) {
            Some((_, roman)) => (*roman, 2),
            None => match MONOGRAPHS.iter().find(|(k, _)| *k == c) {
                Some((_, roman)) => (*roman, 1),
                None => {
                    out.extend(c.to_lowercase());
                    i += 1;
                    continue;
                }
            },
        };
        if geminate {
            if roman.starts_with("ch") {
                out.push('t');
            } else if let Some(first) = roman.chars().next().filter(|f| !"aeiou".contains(*f)) {
                out.push(first);
            }
            geminate = false;
        }
        out.push_str(roman);
        i += step;
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Folds Japanese long-vowel spellings: `ō`/`ou`/`oo`/`oh`(+consonant) → `o`, `ū`/`uu` → `u`.
/// Input is lower-case ASCII (diacritics already folded except ō/ū, which are handled here).
pub fn fold_long_vowels(word: &str) -> String {
    let mut chars = word.chars().map(|c| match c {
        'ō' | 'ô' => 'o',
        'ū' | 'û' => 'u',
        other => other,
    });
    // A window of three characters over the word (every token is keyed: no buffer).
    let (mut c, mut next, mut after) = (chars.next(), chars.next(), chars.next());
    let mut out = String::with_capacity(word.len());
    while let Some(current) = c {
        let long_o = next == Some('u') || next == Some('o');
        let oh = next == Some('h') && after.is_none_or(|a| !"aeiouy".contains(a));
        let long = (current == 'o' && (long_o || oh)) || (current == 'u' && next == Some('u'));
        out.push(current);
        for _ in 0..if long { 2 } else { 1 } {
            (c, next, after) = (next, after, chars.next());
        }
    }
    out
}

/// Reads a Hepburn word written from katakana as the Korean name it transcribes: Japanese
/// cannot close a syllable with k, p, m or l, so it writes ク, プ, ム, ル (`ソク` = sok,
/// `ホンソプ` = honsop, `チョル` = chol); ファ is hwa; グワ / クワ are gwa / kwa.
pub fn korean_from_hepburn(word: &str) -> String {
    let word = word
        .replace("fa", "hwa")
        .replace("fi", "hwi")
        .replace("fe", "hwe")
        .replace("fo", "hwo")
        // フ writes the Korean hu (`テフン` = tae hun).
        .replace("fu", "hu")
        .replace("guwa", "gwa")
        .replace("kuwa", "kwa");
    let chars: Vec<char> = word.chars().collect();
    let is_vowel = |c: char| "aeiou".contains(c);
    let mut out = String::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // Before a consonant, at the end, or before ウ (the Korean syllable u: `チョルウ` =
        // chol u, `ナムウン` = nam ung).
        let closes = matches!(c, 'k' | 'p' | 'm' | 'r' | 'g')
            && chars.get(i + 1) == Some(&'u')
            && i > 0
            && is_vowel(chars[i - 1])
            && chars
                .get(i + 2)
                .is_none_or(|n| (!is_vowel(*n) && *n != 'y') || *n == 'u');
        if closes {
            out.push(if c == 'r' { 'l' } else { c });
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Reads a Hepburn word written from katakana as the foreign (Russian, European) name it
/// transcribes: Japanese adds a vowel after every consonant but n, so the vowel added after a
/// closing consonant is dropped (`serugei` → sergei, `arekusandoru` → areksandr; o after t
/// only at the end), `ヴィチ` is
/// -vich, `フ` closing a name after o or e is -v (`kozurofu` → kozrov, as Kozlov), and `h`
/// after a vowel is Russian kh (`mihairu` → mikhair).
pub fn foreign_from_hepburn(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let is_vowel = |c: char| "aeiou".contains(c);
    let consonant_after = |i: usize| chars.get(i).is_none_or(|c| !is_vowel(*c) && *c != 'y');
    let mut out = String::with_capacity(chars.len() + 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = out.chars().last();
        let after_consonant = prev.is_some_and(|p| !is_vowel(p) && p != 'n');
        // The vowel Japanese adds: u after most consonants, o after t and d, i after ch / sh / j.
        let added = match c {
            'u' => after_consonant && !matches!(prev, Some('y')),
            // ト before a consonant is often a real to (`アナトリー` Anatoly), ド rarely (dr).
            'o' => prev == Some('d') || (prev == Some('t') && i + 1 == chars.len()),
            'i' => out.ends_with("ch") || out.ends_with("sh") || prev == Some('j'),
            _ => false,
        };
        if added && i > 0 && consonant_after(i + 1) {
            i += 1;
            continue;
        }
        if c == 'h' && prev.is_some_and(is_vowel) && chars.get(i + 1).is_some_and(|n| is_vowel(*n))
        {
            out.push('k');
        }
        out.push(c);
        i += 1;
    }
    let out = out.replace("tch", "ch");
    match out.strip_suffix('f') {
        Some(stem) if stem.ends_with(['o', 'e']) => format!("{stem}v"),
        _ => out,
    }
}

/// The Latin consonants a Hepburn onset (the consonants before a vowel) may write in a foreign
/// word spelt in katakana (classes of [`crate::abjad::latin_skeleton`]: `c` sh/ch, `x` kh, `j`
/// j/zh; empty for none). Japanese has one liquid (`ラ` is la or ra), voices and devoices
/// (`ザ` za or sa), writes v as `ブ` or `ヴ` (a Latin v has no class) and y as `ヤ`.
fn onset_options(onset: &str) -> &'static [&'static [u8]] {
    // Few choices per onset: every spelling is a key a query looks up.
    match onset {
        "k" => &[b"k", b"g"],
        "g" => &[b"g", b"k"],
        "s" => &[b"s", b"z"],
        "sh" => &[b"c", b"s"],
        "z" => &[b"z", b"s"],
        "j" => &[b"j", b"z"],
        "t" => &[b"t", b"d"],
        "d" => &[b"d", b"t"],
        // チ also writes the pinyin q of Chinese place names (`チンタオ` Qingdao).
        "ch" => &[b"c", b"k"],
        "ts" => &[b"ts", b"z"],
        "n" => &[b"n"],
        "h" => &[b"h", b""],
        "f" => &[b"f", b""],
        "b" => &[b"b", b""],
        // `ピョ` also writes the Korean aspirate ph (`テピョンサン` Thaephyongsan).
        "p" => &[b"b", b"f"],
        "m" => &[b"m"],
        "y" => &[b"", b"j"],
        "r" => &[b"r", b"l"],
        _ => &[b""],
    }
}

/// The units of a Hepburn word read from katakana for [`crate::transcription::spellings`]:
/// each onset's consonants, `ン` a nasal (n or ng), a long vowel (`ー`, written twice in
/// Hepburn) nothing or the r of `-er`/`-or` (`シュタイガー` Steiger); vowels, the ones Japanese
/// adds included, nothing. `None` for a word that is not lower-case Hepburn.
pub fn spelling_units(hepburn: &str) -> Option<Vec<&'static [&'static [u8]]>> {
    let b = hepburn.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_lowercase) {
        return None;
    }
    let vowel = |c: u8| b"aeiou".contains(&c);
    let mut units: Vec<&'static [&'static [u8]]> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if vowel(b[i]) {
            if i > 0 && b[i - 1] == b[i] {
                units.push(&[b"", b"r"]);
            }
            i += 1;
            continue;
        }
        let end = (i..b.len()).find(|&j| vowel(b[j])).unwrap_or(b.len());
        let mut onset = &hepburn[i..end];
        // Syllabic n: before a consonant (not y) or at the end of the word.
        if onset.starts_with('n')
            && (onset.len() > 1 && !onset[1..].starts_with('y') || end == b.len())
        {
            units.push(&[b"n", b"ng"]);
            i += 1;
            continue;
        }
        // A doubled consonant (`ッ`) writes one; `tch` is ch; `ky`, `ry` … are k, r.
        let doubled = onset.len() >= 2 && onset.as_bytes()[0] == onset.as_bytes()[1];
        if doubled || onset.starts_with("tch") {
            onset = &onset[1..];
        }
        let onset = onset
            .strip_suffix('y')
            .filter(|o| !o.is_empty())
            .unwrap_or(onset);
        units.push(onset_options(onset));
        i = end;
    }
    Some(units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(kana: &str, expect: &str) {
        assert_eq!(to_hepburn(kana), expect);
    }

    #[test]
    fn hepburn() {
        check("ユン・ホジン", "yun hojin");
        check("リ・ジェソン", "ri jeson");
        check("キム・ジョンウン", "kimu jonun");
        check("おおの", "oono");
        check("マッチ", "matchi");
        check("ガッコウ", "gakkou");
        check("コーポレーション", "kooporeeshon");
        check("チャングァン", "changwan");
    }

    #[test]
    fn korean_in_katakana() {
        assert_eq!(korean_from_hepburn(&to_hepburn("ソクハ")), "sokha");
        assert_eq!(korean_from_hepburn(&to_hepburn("ホンソプ")), "honsop");
        assert_eq!(korean_from_hepburn(&to_hepburn("ファン")), "hwan");
        assert_eq!(korean_from_hepburn(&to_hepburn("チョルチェ")), "cholche");
        assert_eq!(korean_from_hepburn(&to_hepburn("グワンイル")), "gwanil");
        assert_eq!(korean_from_hepburn(&to_hepburn("ミョングク")), "myonguk");
        assert_eq!(korean_from_hepburn(&to_hepburn("チョルウ")), "cholu");
        assert_eq!(korean_from_hepburn(&to_hepburn("ナムウン")), "namun");
        assert_eq!(korean_from_hepburn(&to_hepburn("テフン")), "tehun");
    }

    #[test]
    fn foreign_in_katakana() {
        let read = |kana: &str| foreign_from_hepburn(&to_hepburn(kana));
        assert_eq!(read("セルゲイ"), "sergei");
        assert_eq!(read("ミハイロヴィチ"), "mikhairovich");
        assert_eq!(read("コズロフ"), "kozrov");
        assert_eq!(read("アレクサンドル"), "areksandr");
        assert_eq!(read("アレクサンドロヴィッチ"), "areksandrovich");
        assert_eq!(read("チャソヴニコフ"), "chasovnikov");
        assert_eq!(read("アナトリエヴィッチ"), "anatorievich");
    }

    #[test]
    fn katakana_words_meet_their_latin_spelling_by_consonants() {
        use crate::abjad::{latin_skeleton, skeleton_hash, Skeleton};
        use crate::transcription::{spellings, Source};
        let check = |kana: &str, latin: &str, expect: bool| {
            let units = spelling_units(&to_hepburn(kana)).unwrap();
            let set = spellings(Source::Kana, &units).unwrap();
            let mut s = Skeleton::new();
            latin_skeleton(latin, &mut s);
            assert_eq!(set.contains(skeleton_hash(&s)), expect, "{kana} {latin}");
        };
        check("ラザルス", "lazarus", true);
        check("キムスキー", "kimsuky", true);
        check("ブルーノロフ", "bluenoroff", true);
        check("チンタオ", "qingdao", true);
        check("タンドン", "dandong", true);
        check("シュタイガー", "steiger", true);
        check("ラザルス", "lazard", false);
        check("タンドン", "tanchon", false);
        assert!(spelling_units("Kim").is_none());
    }

    #[test]
    fn long_vowels() {
        for spelling in ["ono", "ōno", "ohno", "oono", "ouno"] {
            assert_eq!(fold_long_vowels(spelling), "ono", "{spelling}");
        }
        assert_eq!(fold_long_vowels("yuuki"), "yuki");
        assert_eq!(fold_long_vowels("ohara"), "ohara");
        assert_eq!(fold_long_vowels("oooh"), "oo");
        assert_eq!(fold_long_vowels("ōu"), "o");
        assert_eq!(fold_long_vowels(""), "");
    }

    /// The first version (characters collected, then indexed): the streaming one above must
    /// fold every word the same way.
    fn fold_long_vowels_indexed(word: &str) -> String {
        let chars: Vec<char> = word
            .chars()
            .map(|c| match c {
                'ō' | 'ô' => 'o',
                'ū' | 'û' => 'u',
                other => other,
            })
            .collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            let (c, next, after) = (
                chars[i],
                chars.get(i + 1).copied(),
                chars.get(i + 2).copied(),
            );
            let long_o = next == Some('u') || next == Some('o');
            let oh = next == Some('h') && after.is_none_or(|a| !"aeiouy".contains(a));
            out.push(c);
            i += if (c == 'o' && (long_o || oh)) || (c == 'u' && next == Some('u')) {
                2
            } else {
                1
            };
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2048, ..Default::default() })]
        #[test]
        fn long_vowels_fold_as_indexed(word in "[ouhōôūûaey k]{0,12}") {
            proptest::prop_assert_eq!(fold_long_vowels(&word), fold_long_vowels_indexed(&word));
        }
    }
}
