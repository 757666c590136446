//! Bad input: errors that name the file and line, never a panic.

use proptest::prelude::*;
use trilat_supply::usgs::{parse_reliance, parse_world};
use trilat_supply::wgi::parse_wgi;
use trilat_supply::Dataset;

#[test]
fn world_file_errors_name_file_and_line() {
    let e = parse_world("galli.csv", "Source,Country\n").unwrap_err();
    assert!(e.to_string().starts_with("galli.csv, line 0"), "{e}");
    let e = parse_world(
        "mcs2024-galli_world.csv",
        "Source,Nation,Type,Prod_t_2023\n",
    )
    .unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.to_string().contains("Country"), "{e}");
    let e = parse_world(
        "mcs2024-galli_world.csv",
        "Source,Country,Type,Notes\nMCS2024,China,x,1\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("no Prod_"), "{e}");
    let e = parse_world(
        "mcs2024-galli_world.csv",
        "Source,Country,Type,Prod_t_2023\n,,,\n,,,\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("no data rows"), "{e}");
    let e = parse_world(
        "mcs2024-galli_world.csv",
        "Source,Country,Type,Prod_t_2023\nMCS2024,\"China,x,1\n",
    );
    // An unterminated quote reads to the end: one odd row, not a panic.
    assert!(e.is_ok() || e.unwrap_err().line >= 2);
}

#[test]
fn reliance_and_wgi_errors_name_the_column() {
    let e = parse_reliance("fig2.csv", "Source,Commodity\n").unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.to_string().contains("Major_Import_Sources"), "{e}");
    let e = parse_wgi("wgi.csv", "\"country\",\"year\",\"VA.EST\"\n").unwrap_err();
    assert!(e.to_string().contains("PV.EST"), "{e}");
    let e = Dataset::from_files([("wgi.csv", "\"country\",\"year\",\"VA.EST\",\"PV.EST\",\"GE.EST\",\"RQ.EST\",\"RL.EST\",\"CC.EST\"\n\"Japan\",twenty,1,1,1,1,1,1\n")])
        .unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("wgi.csv", 2));
}

#[test]
fn oversized_input_is_refused() {
    let big = "x".repeat(trilat_supply::FILE_LEN_MAX + 1);
    assert!(parse_world("mcs2024-galli_world.csv", &big).is_err());
    assert!(parse_wgi("wgi.csv", &big).is_err());
}

proptest! {
    #[test]
    fn readers_never_panic(text in "\\PC{0,400}") {
        let _ = parse_world("mcs2024-galli_world.csv", &format!("Source,Country,Type,Prod_t_2023,Reserves_t\n{text}"));
        let _ = parse_reliance("fig2.csv", &text);
        let _ = parse_wgi("wgi.csv", &text);
        let _ = trilat_supply::figures::parse_figures("f.csv", &text);
    }
}
