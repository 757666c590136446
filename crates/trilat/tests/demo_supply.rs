//! `trilat demo --supply-data DIR`: every demo node reads the USGS MCS 2024
//! and WGI files (../shared/data/supply; skipped, saying so, when absent)
//! and groups countries by the example trilat-supply ships, so an analyst
//! sees concern, partner and ally shares; without the flag the supply
//! routes say no data is configured, and the grouping is still the example.

use std::path::PathBuf;

use serde_json::Value;

mod common;
use common::{node, start_demo};

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

fn get(node: &Value, path: &str) -> (u16, Value) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", node["url"].as_str().unwrap()))
            .bearer_auth(node["admin_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    })
}

fn codes(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect()
}

#[test]
fn demo_nodes_show_concern_partner_and_ally_shares_from_the_example_grouping() {
    let Some(data) = supply_data() else { return };
    let work = tempfile::tempdir().unwrap();
    let (_demo, banner) = start_demo(work.path(), &["--supply-data", data.to_str().unwrap()]);
    for party in ["USA", "JPN", "KOR"] {
        let (status, found) = get(
            node(&banner, party),
            "/api/v1/supply/indicators?commodity=gallium,rare%20earths",
        );
        assert_eq!(status, 200, "{party}: {found}");
        assert_eq!(
            codes(&found["groups"]["concern"]),
            ["CHN", "IRN", "PRK", "RUS"]
        );
        assert_eq!(found["groups"]["allies"].as_array().unwrap().len(), 17);
        // Gallium 2023e (kg): China 600,000 and Russia 5,000 (concern),
        // Japan 3,000 and Korea 2,000 (partners), of 610,000.
        let gallium = &found["indicators"][0]["production"];
        let share = |key: &str| gallium[key].as_f64().unwrap();
        assert!(
            (share("concern_share") - 605_000.0 / 610_000.0).abs() < 1e-12,
            "{gallium}"
        );
        assert!(
            (share("partners_share") - 5_000.0 / 610_000.0).abs() < 1e-12,
            "{gallium}"
        );
        // Rare earths: Australia among the allies.
        let rare = found["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["commodity"] == "raree")
            .unwrap();
        assert!(
            rare["production"]["allies_share"].as_f64().unwrap() > 0.03,
            "{rare}"
        );
    }
}

#[test]
fn a_demo_without_supply_data_says_so() {
    let work = tempfile::tempdir().unwrap();
    let (_demo, banner) = start_demo(work.path(), &[]);
    let (status, answer) = get(node(&banner, "JPN"), "/api/v1/supply/ranking");
    assert_eq!(status, 503, "{answer}");
    assert_eq!(
        answer["error"]["code"], "supply_data_unavailable",
        "{answer}"
    );
}
