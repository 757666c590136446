//! `trilat missile assess` away from the repository: the zones come from the Natural Earth data
//! shipped inside the binary, so the default simulated flight (which falls in the Sea of Japan)
//! gets a real EEZ call; a zones file that is named but missing is an error naming it, never a
//! silent "0 % in Japan's EEZ".

use std::process::{Command, Output};

const TRILAT: &str = env!("CARGO_BIN_EXE_trilat");

use tempfile::TempDir;

/// Runs trilat in `dir` with no shared test data reachable (neither `TRILAT_SHARED_DATA` nor
/// `../shared/data` from there).
fn trilat(dir: &TempDir, args: &[&str]) -> Output {
    Command::new(TRILAT)
        .args(args)
        .current_dir(dir.path())
        .env("TRILAT_SHARED_DATA", dir.path().join("no-shared-data"))
        .output()
        .expect("trilat runs")
}

#[test]
fn assess_uses_the_shipped_zones_and_a_missing_zones_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = trilat(&dir, &["missile", "simulate", "--out-dir", "."]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = trilat(
        &dir,
        &[
            "missile",
            "assess",
            "--sensors",
            "SENSORS.json",
            "DETECTIONS.jsonl",
            "--json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("will be 0"), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let assessments: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(assessments.len(), 1, "{stdout}");
    let a = &assessments[0];
    let p_eez = a["p_impact_in_jpn_eez"].as_f64().unwrap();
    assert!(p_eez >= 0.9, "P(JPN EEZ) {p_eez}: {a}");
    assert_eq!(a["zones_approximate"], serde_json::Value::Bool(true));

    let missing = dir.path().join("no-such-countries-10m.json");
    let out = trilat(
        &dir,
        &[
            "missile",
            "assess",
            "--sensors",
            "SENSORS.json",
            "DETECTIONS.jsonl",
            "--zones",
            missing.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a missing zones file was accepted");
    assert!(stderr.contains(missing.to_str().unwrap()), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
