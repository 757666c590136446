//! Names in other scripts read to Latin for matching (issue 14): Russian and Ukrainian
//! Cyrillic, Greek, Armenian, Georgian, Arabic and Persian.

use trilat_sanctions::analysis::analyze;
use trilat_sanctions::matcher::{compare, Rarity, THRESHOLD_DEFAULT};
use trilat_sanctions::model::Schema;
use trilat_sanctions::normalize::fold_latin;

fn score(a: &str, b: &str) -> f64 {
    compare(
        &analyze(a, Some(Schema::Person), None),
        &analyze(b, Some(Schema::Person), None),
        &Rarity::default(),
    )
    .score
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
