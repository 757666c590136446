//! Chinese names written in katakana, read back as pinyin: `ルオ・チュワンシュー` is
//! `luo chuanxu`. Japanese writes a Mandarin syllable with a fixed group of kana; the longest
//! group is matched first. A katakana spelling stands for one pinyin syllable here (the most
//! frequent in names: `シュー` xu, `ジャン` jian), so a name using the other is left to the
//! edit distance.

/// Katakana syllable → pinyin, longest groups first within each leading kana.
const SYLLABLES: &[(&str, &str)] = &[
    ("チュワン", "chuan"),
    ("チュアン", "chuan"),
    ("シュワン", "shuan"),
    ("ジュワン", "zhuan"),
    ("ヂョウ", "zhou"),
    ("ジョウ", "zhou"),
    ("チョウ", "zhou"),
    ("ジャオ", "zhao"),
    ("チャオ", "chao"),
    ("シャオ", "xiao"),
    ("ジャン", "jian"),
    ("チャン", "zhang"),
    ("シャン", "shan"),
    ("ジエン", "jian"),
    ("チエン", "qian"),
    ("シエン", "xian"),
    ("ジョン", "zhong"),
    ("チョン", "chong"),
    ("ション", "xiong"),
    ("シュエ", "xue"),
    ("ジュエ", "jue"),
    ("チュエ", "que"),
    ("ツァイ", "cai"),
    ("ホァー", "hua"),
    ("ホァ", "hua"),
    ("ホア", "hua"),
    ("フア", "hua"),
    ("ルオ", "luo"),
    ("グオ", "guo"),
    ("クオ", "kuo"),
    ("トゥオ", "tuo"),
    ("ドゥオ", "duo"),
    ("ヅオ", "zuo"),
    ("ツオ", "cuo"),
    ("ソン", "song"),
    ("スン", "sun"),
    ("ホン", "hong"),
    ("ポン", "peng"),
    ("ボン", "beng"),
    ("フン", "hun"),
    ("ジン", "jin"),
    ("チン", "qin"),
    ("シン", "xin"),
    ("ミン", "ming"),
    ("リン", "lin"),
    ("ピン", "ping"),
    ("ビン", "bing"),
    ("ティン", "ting"),
    ("ディン", "ding"),
    ("ヤン", "yang"),
    ("ワン", "wang"),
    ("ユン", "yun"),
    ("ジュン", "jun"),
    ("シュン", "xun"),
    ("ヨン", "yong"),
    ("ロン", "long"),
    ("ドン", "dong"),
    ("トン", "tong"),
    ("コン", "kong"),
    ("ゴン", "gong"),
    ("ノン", "nong"),
    ("ファン", "fang"),
    ("ファ", "hua"),
    ("マン", "man"),
    ("ラン", "lan"),
    ("ダン", "dan"),
    ("タン", "tan"),
    ("ハン", "han"),
    ("カン", "kan"),
    ("ガン", "gan"),
    ("サン", "san"),
    ("パン", "pan"),
    ("バン", "ban"),
    ("ナン", "nan"),
    ("チェン", "chen"),
    ("ジェン", "zhen"),
    ("シェン", "shen"),
    ("ウェン", "wen"),
    ("フェン", "feng"),
    ("ウェイ", "wei"),
    ("フイ", "hui"),
    ("グイ", "gui"),
    ("ドゥイ", "dui"),
    ("ライ", "lai"),
    ("ハイ", "hai"),
    ("カイ", "kai"),
    ("ガイ", "gai"),
    ("タイ", "tai"),
    ("ダイ", "dai"),
    ("サイ", "sai"),
    ("ザイ", "zai"),
    ("バイ", "bai"),
    ("パイ", "pai"),
    ("マイ", "mai"),
    ("ナイ", "nai"),
    ("レイ", "lei"),
    ("メイ", "mei"),
    ("ペイ", "pei"),
    ("ベイ", "bei"),
    ("フェイ", "fei"),
    ("ガオ", "gao"),
    ("ハオ", "hao"),
    ("タオ", "tao"),
    ("ダオ", "dao"),
    ("ラオ", "lao"),
    ("マオ", "mao"),
    ("バオ", "bao"),
    ("ヤオ", "yao"),
    ("ザオ", "zao"),
    ("リウ", "liu"),
    ("ニウ", "niu"),
    ("ユエ", "yue"),
    ("シュー", "xu"),
    ("シュ", "xu"),
    ("ジュー", "ju"),
    ("チュー", "chu"),
    ("ユー", "yu"),
    ("ウー", "wu"),
    ("リー", "li"),
    ("ルー", "lu"),
    ("フー", "hu"),
    ("スー", "su"),
    ("ズー", "zi"),
    ("ジー", "ji"),
    ("ヂー", "zhi"),
    ("チー", "qi"),
    ("シー", "xi"),
    ("イー", "yi"),
    ("ポー", "po"),
    ("ボー", "bo"),
    ("モー", "mo"),
    ("マー", "ma"),
    ("ハー", "ha"),
    ("ヤー", "ya"),
    ("ワ", "wa"),
    ("マ", "ma"),
    ("チ", "chi"),
    ("リ", "li"),
    ("ウ", "wu"),
    ("フ", "hu"),
    ("ユ", "yu"),
    ("ヤ", "ya"),
    ("イ", "yi"),
];

/// The name as pinyin words (`ルオ・チュワンシュー` → `luo chuanxu`); `None` when a word is
/// not made of the syllables above (then it is not a Chinese name written in katakana).
pub fn pinyin_reading(name: &str) -> Option<String> {
    let mut words = Vec::new();
    for word in name
        .split(['・', '･', '＝', ' ', '\u{3000}'])
        .filter(|w| !w.is_empty())
    {
        let mut rest = word;
        let mut out = String::new();
        while !rest.is_empty() {
            let (kana, pinyin) = SYLLABLES.iter().find(|(kana, _)| rest.starts_with(kana))?;
            out.push_str(pinyin);
            rest = rest[kana.len()..].trim_start_matches('ー');
        }
        words.push(out);
    }
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names_in_katakana() {
        let read = |kana| pinyin_reading(kana).unwrap_or_default();
        assert_eq!(read("ルオ・チュワンシュー"), "luo chuanxu");
        assert_eq!(read("マ・シャオホン"), "ma xiaohong");
        assert_eq!(read("ホン・ジンホァー"), "hong jinhua");
        assert_eq!(read("チ・ユーポン"), "chi yupeng");
        assert_eq!(pinyin_reading("セルゲイ"), None);
    }

    #[test]
    fn longer_groups_come_first() {
        // A group that starts with another group must be listed before it, or it never matches.
        for (i, (longer, _)) in SYLLABLES.iter().enumerate() {
            for (shorter, _) in &SYLLABLES[..i] {
                assert!(
                    !longer.starts_with(shorter) || longer == shorter,
                    "{longer} after {shorter}"
                );
            }
        }
    }
}
