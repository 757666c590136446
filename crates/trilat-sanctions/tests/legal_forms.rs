//! Legal forms of organisation names (issue 14): spellings of one form meet, in any order, and
//! a shared legal form alone never carries a match.

use trilat_sanctions::analysis::analyze;
use trilat_sanctions::matcher::{compare, Rarity, THRESHOLD_DEFAULT};
use trilat_sanctions::model::Schema;

fn score(a: &str, b: &str) -> f64 {
    compare(
        &analyze(a, Some(Schema::Organization), None),
        &analyze(b, Some(Schema::Organization), None),
        &Rarity::default(),
    )
    .score
}

#[test]
fn spellings_of_one_legal_form_match() {
    let same = [
        ("OOO Volna", "Volna Limited Liability Company"),
        ("ООО Волна", "Volna LLC"),
        ("Siemens AG", "Siemens Aktiengesellschaft"),
        ("OAO Gazprom", "Gazprom Joint Stock Company"),
        ("Sovcomflot PJSC", "Sovcomflot Public Joint Stock Company"),
        ("ZAO Rosinka", "CJSC Rosinka"),
        (
            "Tanchon Commercial Bank Ltd",
            "Tanchon Commercial Bank Limited",
        ),
        ("Polimex Sp. z o.o.", "POLIMEX SP Z O O"),
        (
            "Korea Ryonbong General Corp.",
            "Korea Ryonbong General Corporation",
        ),
        ("Acme Trading Co.", "Acme Trading Company"),
        ("Acme Holdings Inc.", "Acme Holdings Incorporated"),
        ("Mercator S.R.L.", "Mercator SRL"),
    ];
    for (a, b) in same {
        let s = score(a, b);
        assert!(s >= THRESHOLD_DEFAULT, "{a} / {b}: {s:.3}");
        assert!(s >= 0.99, "{a} / {b} differ only in spelling: {s:.3}");
    }
}

#[test]
fn a_shared_legal_form_alone_does_not_match() {
    let apart = [
        ("OOO Volna", "OOO Rassvet"),
        ("Volna Limited Liability Company", "Rassvet LLC"),
        ("Siemens AG", "Bayer Aktiengesellschaft"),
        ("OAO Gazprom", "Rosneft Joint Stock Company"),
        ("Polimex Sp. z o.o.", "Budimex Sp. z o.o."),
        ("Acme Trading Co. Ltd", "Apex Mining Company Limited"),
    ];
    for (a, b) in apart {
        let s = score(a, b);
        assert!(s < THRESHOLD_DEFAULT, "{a} / {b}: {s:.3}");
    }
}

#[test]
fn persons_keep_words_that_spell_legal_forms() {
    // `Pao` is a family name in a person's name, not a joint stock company.
    let forms = analyze("Pao Wen", Some(Schema::Person), None);
    assert_eq!(forms.forms[0].tokens[0].text, "pao");
    let org = analyze("Pao Volna", Some(Schema::Organization), None);
    assert_eq!(org.forms[0].tokens[0].text, "jsc");
}
