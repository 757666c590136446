//! The issue's named examples, and Han-character names through the Unihan readings Trilat
//! ships (and, when Debian's `unicode-data` is installed, the same through its full file).

use std::io::Read;
use trilat_sanctions::analysis::analyze;
use trilat_sanctions::matcher::{compare, Rarity, THRESHOLD_DEFAULT};
use trilat_sanctions::model::Schema;
use trilat_sanctions::unihan::HanReadings;

/// Debian's full Unihan file, to hold the shipped table against (skipped, saying so, when absent).
fn unihan() -> Option<HanReadings> {
    let path = std::env::var("TRILAT_UNIHAN")
        .unwrap_or_else(|_| "/usr/share/unicode/Unihan_Readings.txt.bz2".into());
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!(
            "skipping: {path} not found (apt-get install unicode-data, or set TRILAT_UNIHAN)"
        );
        return None;
    };
    let mut text = String::new();
    if path.ends_with(".bz2") {
        bzip2::read::BzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
    } else {
        text = String::from_utf8(bytes).unwrap();
    }
    Some(HanReadings::parse(&text).unwrap())
}

#[track_caller]
fn score(a: &str, b: &str, readings: Option<&HanReadings>) -> f64 {
    compare(
        &analyze(a, Some(Schema::Person), readings),
        &analyze(b, Some(Schema::Person), readings),
        &Rarity::default(),
    )
    .score
}

#[test]
fn hangul_kim_jong_un_matches() {
    assert!(score("김정은", "Kim Jong Un", None) >= THRESHOLD_DEFAULT);
}

#[test]
fn ri_chol_ho_matches_lee_cheol_ho() {
    assert!(score("Ri Chol Ho", "Lee Cheol-ho", None) >= THRESHOLD_DEFAULT);
}

#[test]
fn kim_jong_un_does_not_match_kim_jong_man() {
    assert!(score("Kim Jong Un", "Kim Jong Man", None) < THRESHOLD_DEFAULT);
}

#[test]
fn ryu_jin_matches_yu_jin() {
    assert!(score("Ryu Jin", "Yu Jin", None) >= THRESHOLD_DEFAULT);
}

#[test]
fn ri_matches_lee() {
    assert!(score("Ri Song Gun", "Lee Seong-geun", None) >= THRESHOLD_DEFAULT);
}

#[test]
fn han_kim_jong_un_matches_with_the_shipped_table() {
    // No table passed: the one shipped in the crate, no system file.
    let s = score("金正恩", "Kim Jong Un", None);
    assert!(s >= THRESHOLD_DEFAULT, "{s}");
    // Through a reading table the evidence is weaker than a phonetic script.
    assert!(s < score("김정은", "Kim Jong Un", None));
    assert!(score("金正恩", "Kim Jong Man", None) < THRESHOLD_DEFAULT);
    assert!(score("李炳哲", "Ri Pyong Chol", None) >= THRESHOLD_DEFAULT);
}

#[test]
fn shipped_table_scores_as_the_full_unihan_file() {
    let Some(readings) = unihan() else { return };
    assert!(readings.len() > 20_000);
    for (a, b) in [
        ("金正恩", "Kim Jong Un"),
        ("李炳哲", "Ri Pyong Chol"),
        ("金正恩", "Kim Jong Man"),
        ("習近平", "Xi Jinping"),
        ("山田太郎", "Yamada Taro"),
    ] {
        assert_eq!(score(a, b, None), score(a, b, Some(&readings)), "{a} / {b}");
    }
}

#[test]
fn han_name_finds_its_un_entry_with_the_shipped_table() {
    let Some(bytes) =
        crate::real_data::shared("sanctions/un/UN_consolidated_2026-02-27_DPRK_only.xml")
    else {
        return;
    };
    let list = trilat_sanctions::un::parse(&bytes).unwrap().list;
    let screener = trilat_sanctions::Screener::new(vec![list], None).unwrap();
    let hits = screener.screen(&trilat_sanctions::Query::name("李炳哲"));
    assert!(
        hits.iter().any(|h| h.record_id == "KPi.076"),
        "{:?}",
        hits.iter().map(|h| &h.record_id).collect::<Vec<_>>()
    );
}

#[track_caller]
fn score_as(a: &str, b: &str, schema: Schema) -> f64 {
    compare(
        &analyze(a, Some(schema), None),
        &analyze(b, Some(schema), None),
        &Rarity::default(),
    )
    .score
}

#[test]
fn katakana_names_of_the_issue_match() {
    for (kana, latin) in [
        ("ユ・チョルウ", "YU CHOL U"),
        ("ルオ・チュワンシュー", "Luo Chuanxu"),
        (
            "セルゲイ・ミハイロヴィチ・コズロフ",
            "Sergey Mikhaylovich Kozlov",
        ),
    ] {
        let s = score_as(kana, latin, Schema::Person);
        assert!(s >= THRESHOLD_DEFAULT, "{kana} / {latin}: {s}");
    }
    let s = score_as("ユ・チョルウ", "YU CHOL HO", Schema::Person);
    assert!(s < THRESHOLD_DEFAULT, "{s}");
}

#[test]
fn katakana_loanwords_match_their_english() {
    let s = score_as(
        "タンチョン・コマーシャル・バンク",
        "Tanchon Commercial Bank",
        Schema::Organization,
    );
    assert!(s >= THRESHOLD_DEFAULT, "{s}");
    // The distinctive word still has to match.
    let s = score_as(
        "タンチョン・コマーシャル・バンク",
        "Koryo Commercial Bank",
        Schema::Organization,
    );
    assert!(s < THRESHOLD_DEFAULT, "{s}");
}

#[test]
fn han_organisation_names_match_their_english() {
    for (han, english) in [
        ("朝鮮光線銀行", "Korea Kwangson Banking Corporation"),
        (
            "朝鮮民主主義人民共和国",
            "Democratic People's Republic of Korea",
        ),
    ] {
        let s = score_as(han, english, Schema::Organization);
        assert!(s >= THRESHOLD_DEFAULT, "{han} / {english}: {s}");
    }
    let s = score_as("朝鮮光線銀行", "Korea Daesong Bank", Schema::Organization);
    assert!(s < THRESHOLD_DEFAULT, "{s}");
}
