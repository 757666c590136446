//! Country names (English, Japanese, list spellings) to ISO 3166-1 alpha-2.

/// (alpha-2, names in lower case). Covers the countries that appear in the DPRK-related
/// lists and the most frequent others; unknown names are kept as raw text.
const COUNTRIES: &[(&str, &[&str])] = &[
    (
        "KP",
        &[
            "north korea",
            "democratic people's republic of korea",
            "korea, north",
            "dprk",
            "korea (north)",
            "korea, democratic people's republic of",
            "北朝鮮",
            "朝鮮民主主義人民共和国",
            "kp",
            "prk",
        ],
    ),
    (
        "KR",
        &[
            "south korea",
            "republic of korea",
            "korea, south",
            "korea",
            "韓国",
            "大韓民国",
            "kr",
            "kor",
        ],
    ),
    ("JP", &["japan", "日本", "jp", "jpn"]),
    (
        "US",
        &[
            "united states",
            "united states of america",
            "usa",
            "米国",
            "アメリカ",
            "us",
        ],
    ),
    (
        "CN",
        &[
            "china",
            "people's republic of china",
            "中国",
            "中華人民共和国",
            "cn",
            "chn",
        ],
    ),
    ("HK", &["hong kong", "香港", "hong kong sar", "hk"]),
    ("TW", &["taiwan", "台湾", "tw"]),
    (
        "RU",
        &[
            "russia",
            "russian federation",
            "ロシア",
            "ロシア連邦",
            "ru",
            "rus",
        ],
    ),
    (
        "IR",
        &["iran", "iran (islamic republic of)", "イラン", "ir"],
    ),
    ("SY", &["syria", "syrian arab republic", "シリア", "sy"]),
    ("IQ", &["iraq", "イラク", "iq"]),
    ("AF", &["afghanistan", "アフガニスタン", "af"]),
    ("PK", &["pakistan", "パキスタン", "pk"]),
    (
        "AE",
        &["united arab emirates", "アラブ首長国連邦", "uae", "ae"],
    ),
    ("SG", &["singapore", "シンガポール", "sg"]),
    ("MY", &["malaysia", "マレーシア", "my"]),
    ("TH", &["thailand", "タイ", "th"]),
    ("VN", &["vietnam", "viet nam", "ベトナム", "vn"]),
    ("MN", &["mongolia", "モンゴル", "mn"]),
    ("PA", &["panama", "パナマ", "pa"]),
    ("SL", &["sierra leone", "シエラレオネ", "sl"]),
    ("TG", &["togo", "トーゴ", "tg"]),
    ("KM", &["comoros", "コモロ", "km"]),
    ("MH", &["marshall islands", "マーシャル諸島", "mh"]),
    ("BZ", &["belize", "ベリーズ", "bz"]),
    ("KH", &["cambodia", "カンボジア", "kh"]),
    (
        "LA",
        &["laos", "lao people's democratic republic", "ラオス", "la"],
    ),
    ("MM", &["burma", "myanmar", "ミャンマー", "mm"]),
    ("ID", &["indonesia", "インドネシア", "id"]),
    ("PH", &["philippines", "フィリピン", "ph"]),
    ("IN", &["india", "インド", "in"]),
    ("GB", &["united kingdom", "uk", "英国", "gb"]),
    ("DE", &["germany", "ドイツ", "de"]),
    ("FR", &["france", "フランス", "fr"]),
    ("CH", &["switzerland", "スイス", "ch"]),
    ("TR", &["turkey", "türkiye", "turkiye", "トルコ", "tr"]),
    ("UA", &["ukraine", "ウクライナ", "ua"]),
    ("BY", &["belarus", "ベラルーシ", "by"]),
    ("CU", &["cuba", "キューバ", "cu"]),
    ("VE", &["venezuela", "ベネズエラ", "ve"]),
    ("LY", &["libya", "リビア", "ly"]),
    ("SD", &["sudan", "スーダン", "sd"]),
    ("SO", &["somalia", "ソマリア", "so"]),
    ("YE", &["yemen", "イエメン", "ye"]),
    ("LB", &["lebanon", "レバノン", "lb"]),
    ("SA", &["saudi arabia", "サウジアラビア", "sa"]),
    ("EG", &["egypt", "エジプト", "eg"]),
    (
        "CD",
        &[
            "democratic republic of the congo",
            "congo, democratic republic of the",
            "コンゴ民主共和国",
            "cd",
        ],
    ),
    ("RW", &["rwanda", "ルワンダ", "rw"]),
    ("TZ", &["tanzania", "united republic of tanzania", "tz"]),
    ("KE", &["kenya", "ケニア", "ke"]),
    (
        "CF",
        &["central african republic", "中央アフリカ共和国", "cf"],
    ),
    ("ML", &["mali", "マリ", "ml"]),
    ("JO", &["jordan", "ヨルダン", "jo"]),
    ("KW", &["kuwait", "クウェート", "kw"]),
    ("QA", &["qatar", "カタール", "qa"]),
    ("BH", &["bahrain", "バーレーン", "bh"]),
    ("GE", &["georgia", "ジョージア", "ge"]),
    ("KZ", &["kazakhstan", "カザフスタン", "kz"]),
    ("UZ", &["uzbekistan", "ウズベキスタン", "uz"]),
    ("KG", &["kyrgyzstan", "キルギス", "kg"]),
    ("TJ", &["tajikistan", "タジキスタン", "tj"]),
    ("AZ", &["azerbaijan", "アゼルバイジャン", "az"]),
    ("AM", &["armenia", "アルメニア", "am"]),
    ("IL", &["israel", "イスラエル", "il"]),
    ("PS", &["palestinian", "west bank", "gaza", "ps"]),
    ("IT", &["italy", "イタリア", "it"]),
    ("ES", &["spain", "スペイン", "es"]),
    ("NL", &["netherlands", "オランダ", "nl"]),
    ("BE", &["belgium", "ベルギー", "be"]),
    ("CY", &["cyprus", "キプロス", "cy"]),
    ("MT", &["malta", "マルタ", "mt"]),
    ("GR", &["greece", "ギリシャ", "gr"]),
    ("LR", &["liberia", "リベリア", "lr"]),
    ("NG", &["nigeria", "ナイジェリア", "ng"]),
    ("MX", &["mexico", "メキシコ", "mx"]),
    ("CO", &["colombia", "コロンビア", "co"]),
    ("NI", &["nicaragua", "ニカラグア", "ni"]),
    ("BR", &["brazil", "ブラジル", "br"]),
    ("CA", &["canada", "カナダ", "ca"]),
    ("AU", &["australia", "オーストラリア", "au"]),
    ("ET", &["ethiopia", "エチオピア", "et"]),
    ("ER", &["eritrea", "エリトリア", "er"]),
    ("ZW", &["zimbabwe", "ジンバブエ", "zw"]),
    ("SS", &["south sudan", "南スーダン", "ss"]),
    ("TN", &["tunisia", "チュニジア", "tn"]),
    ("DZ", &["algeria", "アルジェリア", "dz"]),
    ("MA", &["morocco", "モロッコ", "ma"]),
];

/// ISO 3166-1 alpha-2 of a country name or code, if known.
pub fn iso2(text: &str) -> Option<&'static str> {
    let lower = text.trim().trim_end_matches('.').to_lowercase();
    if lower.is_empty() {
        return None;
    }
    for (code, names) in COUNTRIES {
        if names.iter().any(|n| *n == lower) {
            return Some(code);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        assert_eq!(
            super::iso2("Democratic People's Republic of Korea"),
            Some("KP")
        );
        assert_eq!(super::iso2("北朝鮮"), Some("KP"));
        assert_eq!(super::iso2("kp"), Some("KP"));
        assert_eq!(super::iso2("Atlantis"), None);
    }
}
