//! Names in other scripts read to Latin for matching (issue 14): Russian and Ukrainian
//! Cyrillic, Greek, Armenian, Georgian, Arabic and Persian; foreign names transcribed by sound
//! in Chinese characters, Khmer and katakana.

use trilat_sanctions::analysis::analyze;
use trilat_sanctions::matcher::{compare, How, Rarity, THRESHOLD_DEFAULT};
use trilat_sanctions::model::Schema;
use trilat_sanctions::normalize::fold_latin;

fn score(a: &str, b: &str) -> f64 {
    score_as(a, b, Schema::Person)
}

fn score_as(a: &str, b: &str, schema: Schema) -> f64 {
    compare(
        &analyze(a, Some(schema), None),
        &analyze(b, Some(schema), None),
        &Rarity::default(),
    )
    .score
}

/// How each token of `a` met `b`'s, as the explanation says.
fn hows(a: &str, b: &str, schema: Schema) -> Vec<How> {
    compare(
        &analyze(a, Some(schema), None),
        &analyze(b, Some(schema), None),
        &Rarity::default(),
    )
    .explanation
    .iter()
    .map(|c| c.how)
    .collect()
}

#[test]
fn foreign_names_in_chinese_characters_match_by_sound() {
    for (han, latin) in [
        ("弗拉基米尔·普京", "Vladimir Putin"),
        ("谢尔盖·拉夫罗夫", "Sergey Lavrov"),
        ("奥萨马·本·拉登", "Osama bin Laden"),
        ("德米特里·梅德韦杰夫", "Dmitry Medvedev"),
        // An l or r Chinese leaves unwritten (tang na de, luo teng bei ge).
        ("唐纳德·特朗普", "Donald Trump"),
        ("阿尔卡季·罗滕贝格", "Arkady Rotenberg"),
    ] {
        let s = score(han, latin);
        assert!(s >= THRESHOLD_DEFAULT, "{han} / {latin}: {s:.3}");
    }
    for (han, latin) in [
        ("弗拉基米尔·普京", "Vladimir Zelensky"),
        ("谢尔盖·拉夫罗夫", "Sergey Shoigu"),
        ("德米特里·梅德韦杰夫", "Dmitry Peskov"),
        ("阿尔卡季·罗滕贝格", "Boris Rotenberg"),
        // A Chinese name (no middle dot) is not read as a transcription.
        ("普京", "Putin"),
    ] {
        let s = score(han, latin);
        assert!(s < THRESHOLD_DEFAULT, "{han} / {latin}: {s:.3}");
    }
    assert_eq!(
        hows("弗拉基米尔·普京", "Vladimir Putin", Schema::Person),
        [How::MandarinTranscription, How::MandarinTranscription]
    );
}

#[test]
fn khmer_names_match_their_latin_spelling() {
    for (khmer, latin) in [
        ("ហ៊ុន សែន", "Hun Sen"),
        ("ហ៊ុន ម៉ាណែត", "Hun Manet"),
        ("សម រង្ស៊ី", "Sam Rainsy"),
        ("នរោត្តម សីហមុនី", "Norodom Sihamoni"),
    ] {
        let s = score(khmer, latin);
        assert!(s >= THRESHOLD_DEFAULT, "{khmer} / {latin}: {s:.3}");
    }
    for (khmer, latin) in [("ហ៊ុន សែន", "Hun Manet"), ("នរោត្តម សីហមុនី", "Norodom Ranariddh")]
    {
        let s = score(khmer, latin);
        assert!(s < THRESHOLD_DEFAULT, "{khmer} / {latin}: {s:.3}");
    }
    // The romanisation meets `Hun` exactly; the French spelling `Norodom` only by consonants.
    assert_eq!(hows("ហ៊ុន សែន", "Hun Sen", Schema::Person)[0], How::Exact);
    assert_eq!(
        hows("នរោត្តម សីហមុនី", "Norodom Sihamoni", Schema::Person),
        [How::KhmerConsonants, How::KhmerConsonants]
    );
}

#[test]
fn katakana_words_outside_the_table_match_by_sound() {
    let org = Schema::Organization;
    for (kana, latin) in [
        ("ラザルス・グループ", "Lazarus Group"),
        ("ブルーノロフ", "Bluenoroff"),
        ("キムスキー", "Kimsuky"),
        ("チンタオ・コンストラクション", "Qingdao Construction"),
    ] {
        let s = score_as(kana, latin, org);
        assert!(s >= THRESHOLD_DEFAULT, "{kana} / {latin}: {s:.3}");
    }
    for (kana, latin) in [
        ("ラザルス・グループ", "Lazard Group"),
        ("キムスキー", "Kimball"),
    ] {
        let s = score_as(kana, latin, org);
        assert!(s < THRESHOLD_DEFAULT, "{kana} / {latin}: {s:.3}");
    }
    assert_eq!(
        hows("ラザルス・グループ", "Lazarus Group", org),
        [How::Exact, How::KanaConsonants]
    );
}

#[test]
fn an_arabic_compound_written_as_one_word_meets_latin_words_written_apart() {
    for (arabic, latin) in [
        ("ابوبكر", "Abu Bakr"),
        ("ابوبكر", "Abubakr"),
        ("ابوبكر البغدادي", "Abu Bakr Baghdadi"),
    ] {
        let s = score(arabic, latin);
        assert!(s >= THRESHOLD_DEFAULT, "{arabic} / {latin}: {s:.3}");
    }
    let s = score("ابوبكر البغدادي", "Abu Bakr Zarqawi");
    assert!(s < THRESHOLD_DEFAULT, "{s:.3}");
}

#[test]
fn other_scripts_match_their_latin_spelling() {
    let same = [
        ("Сергей Михайлович Козлов", "Sergey Mikhaylovich Kozlov"),
        ("Олександр", "Oleksandr"),
        ("Володимир Зеленський", "Volodymyr Zelenskyy"),
        ("Григорій Сковорода", "Hryhorii Skovoroda"),
        ("Αλέξης Τσίπρας", "Alexis Tsipras"),
        ("Նիկոլ Փաշինյան", "Nikol Pashinyan"),
        ("მიხეილ სააკაშვილი", "Mikheil Saakashvili"),
        // Arabic script writes no short vowels: a spelling without them, and the vowelled ones
        // through the consonant skeleton.
        ("محمد بن سلمان", "MHMD BN SLMN"),
        ("محمد بن سلمان", "Mohammed bin Salman"),
        ("قاسم سليماني", "Qasem Soleimani"),
        ("حسن نصر الله", "Hassan Nasrallah"),
        ("محمود احمدی‌نژاد", "Mahmoud Ahmadinejad"),
    ];
    for (a, b) in same {
        let s = score(a, b);
        assert!(s >= THRESHOLD_DEFAULT, "{a} / {b}: {s:.3}");
    }
}

#[test]
fn other_scripts_keep_different_people_apart() {
    let apart = [
        ("Сергей Михайлович Козлов", "Sergey Mikhaylovich Volkov"),
        ("Αλέξης Τσίπρας", "Alexis Papadopoulos"),
        ("محمد بن سلمان", "Mhmd bin Nayef"),
        ("محمد بن سلمان", "Mohammed bin Nayef"),
        ("صدام حسين", "Qusay Hussein"),
    ];
    for (a, b) in apart {
        let s = score(a, b);
        assert!(s < THRESHOLD_DEFAULT, "{a} / {b}: {s:.3}");
    }
}

#[test]
fn folding_reads_each_script() {
    assert_eq!(fold_latin("Сергей Козлов"), "sergey kozlov");
    assert_eq!(fold_latin("Αλέξης Τσίπρας"), "alexis tsipras");
    assert_eq!(fold_latin("علی خامنه‌ای"), "ly khmnhy");
    assert_eq!(fold_latin("قاسم سليماني"), "qsm slymny");
    assert_eq!(fold_latin("მიხეილ"), "mikheil");
    // Scripts the analysis reads itself stay as written.
    assert_eq!(fold_latin("金正恩 ユン"), "金正恩 ユン");
}
