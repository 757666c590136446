//! The named examples, and Han-character names through the Unihan readings (skipped,
//! saying so, when the `unicode-data` package is not installed).

use std::io::Read;
use trilat_sanctions::analysis::analyze;
use trilat_sanctions::matcher::{compare, Rarity, THRESHOLD_DEFAULT};
use trilat_sanctions::model::Schema;
use trilat_sanctions::unihan::HanReadings;

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
fn han_kim_jong_un_matches() {
    let Some(readings) = unihan() else { return };
    assert!(readings.len() > 20_000);
    let s = score("金正恩", "Kim Jong Un", Some(&readings));
    assert!(s >= THRESHOLD_DEFAULT, "{s}");
    // Through a reading table the evidence is weaker than a phonetic script.
    assert!(s < score("김정은", "Kim Jong Un", Some(&readings)));
    assert!(score("金正恩", "Kim Jong Man", Some(&readings)) < THRESHOLD_DEFAULT);
}
