//! `trilat supply …` on the real USGS MCS 2024 and WGI files
//! (../shared/data/supply; skipped, saying so, when absent): the JSON a
//! script reads, the table an analyst reads, and a bad file named with its
//! line.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const TRILAT: &str = env!("CARGO_BIN_EXE_trilat");
const GROUPS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../trilat-supply/data/groups.example.toml"
);

fn supply_data() -> Option<PathBuf> {
    let root = std::env::var_os("TRILAT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").into());
    let dir = root.join("supply");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIP: {} absent (set TRILAT_SHARED_DATA)", dir.display());
        None
    }
}

fn supply(args: &[&str]) -> Output {
    Command::new(TRILAT)
        .arg("supply")
        .args(args)
        .env_remove("TRILAT_SUPPLY_DATA")
        .output()
        .expect("running trilat supply")
}

#[test]
fn a_stop_of_two_countries_and_two_commodities_as_json_and_as_a_table() {
    let Some(data) = supply_data() else { return };
    let data = data.to_str().unwrap();
    let common = ["--data", data, "--groups", GROUPS, "--stop", "CHN,Russia"];
    let out = supply(
        &[
            &["scenario"],
            &common[..],
            &["--commodity", "antimony,graphite", "--json"],
        ]
        .concat(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["stopped"], serde_json::json!(["CHN", "RUS"]));
    let outcomes = result["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 2);
    // Antimony 2023e: China 40,000 t and Russia 4,300 t of 83,000 t.
    let lost = outcomes[0]["lost_share"].as_f64().unwrap();
    assert!((lost - 44_300.0 / 83_000.0).abs() < 1e-12, "{lost}");

    let out = supply(
        &[
            &["scenario"],
            &common[..],
            &["--commodity", "antimony,graphite"],
        ]
        .concat(),
    );
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "Scenario: CHN, RUS stop(s) exporting");
    assert!(lines[1].starts_with("commodity "), "{table}");
    // One row per series, its columns under the header's.
    let antimony = lines.iter().find(|l| l.starts_with("antimony ")).unwrap();
    let col = |line: &str, word: &str| {
        let end = line.find(word).unwrap() + word.len();
        line[..end].chars().count()
    };
    assert_eq!(col(lines[1], "lost%"), col(antimony, "53.4"), "{table}");
    assert!(
        antimony.contains("Mine production, contained an…"),
        "a cut series says so: {antimony}"
    );
}

#[test]
fn a_bad_world_file_is_named_with_its_line_and_exit_status_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mcs2024-galli_world.csv");
    std::fs::write(
        &file,
        "Source,Nation,Type,Prod_kg_2022\nMCS2024,China,Primary production,1\n",
    )
    .unwrap();
    let out = supply(&["indicators", "--data", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mcs2024-galli_world.csv, line 1:"),
        "{stderr}"
    );
}
