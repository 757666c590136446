//! The WGI as the World Bank's DataBank web page exports it (wide: a row
//! per economy and series, a column per year). The fixture
//! `data/wgi_databank_Data.csv` is written in that layout (byte-order mark,
//! quoted fields, CRLF, `..` for missing, a standard-error row, the two
//! footer lines) with the 2014 and 2015 estimates of five economies from
//! the WGI release the long test file holds (Kaufmann, Kraay and
//! Mastruzzi, World Bank, CC BY 4.0), so both layouts must give the same
//! scores.

use trilat_supply::wgi::{is_wgi, parse_wgi};
use trilat_supply::Dataset;

use crate::common::{close, dataset};

const FIXTURE: &str = include_str!("data/wgi_databank_Data.csv");
const FILE: &str = "wgi_databank_Data.csv";

#[test]
fn databank_export_reads_as_the_long_layout_does() {
    assert!(is_wgi(FIXTURE));
    let wide = parse_wgi(FILE, FIXTURE).unwrap();
    assert!(wide.diagnostics.is_empty(), "{:?}", wide.diagnostics);
    let codes: Vec<&str> = wide.by_country.keys().map(String::as_str).collect();
    assert_eq!(codes, ["CHN", "JPN", "KOR", "NCL", "XKX"]);
    // Hand-computed: the mean of Japan's six 2015 estimates is 1.348097…,
    // rescaled (2.5 − mean)/5 × 10; the line is Japan's first estimate row.
    let japan = wide.score("JPN", 2023).unwrap();
    assert_eq!((japan.year, japan.line), (2015, 8));
    close(japan.score, 2.303_805_569_807_684, 1e-12);
    // New Caledonia: every cell `..`, so no score in any year.
    assert_eq!(wide.score("NCL", 2015), None);
    // The same release in the WDI API's long layout, when the test data is here.
    let Some(long) = dataset().and_then(|d| d.wgi.as_ref()) else {
        return;
    };
    for code in ["CHN", "JPN", "KOR", "XKX"] {
        for year in [2014, 2015] {
            let (w, l) = (
                wide.score(code, year).unwrap(),
                long.score(code, year).unwrap(),
            );
            assert_eq!(w.year, l.year);
            close(w.score, l.score, 1e-12);
        }
    }
}

#[test]
fn a_dataset_finds_the_databank_export_by_its_header() {
    let world = "Source,Country,Type,Prod_kg_2022,Prod_kg_est_2023\n\
                 MCS2024,China,Primary production,600000,600000\n\
                 MCS2024,Japane,Primary production,3000,3000\n\
                 MCS2024,World total (rounded),Primary production,610000,610000\n";
    let data = Dataset::from_files([("mcs2024-galli_world.csv", world), (FILE, FIXTURE)]).unwrap();
    assert_eq!(data.wgi.as_ref().unwrap().file, FILE);
    let p = data.indicators(&Default::default(), &[])[0]
        .production
        .clone()
        .unwrap();
    assert!(p.hhi_wgi.is_some(), "{p:?}");
    // Two WGI files are refused, naming both.
    let e = Dataset::from_files([(FILE, FIXTURE), ("other.csv", FIXTURE)]).unwrap_err();
    assert!(
        e.to_string().contains(FILE) && e.what.contains("second WGI"),
        "{e}"
    );
}

#[test]
fn databank_errors_name_the_line() {
    let head = "Country Name,Country Code,Series Name,Series Code,2014 [YR2014],2015 [YR2015]\n";
    let row = "Japan,JPN,Rule of Law: Estimate,RL.EST";
    // Unquoted, as some exports are: read the same.
    let ok = parse_wgi(FILE, &format!("{head}{row},1.5,1.5\n")).unwrap();
    assert_eq!(ok.by_country["JPN"][&2015].estimates[4], Some(1.5));
    for (text, line, needle) in [
        (format!("{head}{row},1.5,x\n"), 2, "RL.EST 2015"),
        (format!("{head}{row},1,1\n{row},2,2\n"), 3, "twice"),
        (
            format!("{head}Japan,JPN,Rule of Law: Estimate,,1,1\n"),
            2,
            "Series Code",
        ),
        (
            "Country Name,Country Code,Series Name,Series Code,2015\n".into(),
            1,
            "year columns",
        ),
    ] {
        let e = parse_wgi(FILE, &text).unwrap_err();
        assert_eq!(e.line, line, "{e}");
        assert!(e.what.contains(needle), "{e}");
    }
}
