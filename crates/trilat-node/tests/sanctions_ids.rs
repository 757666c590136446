//! Identifier screening through the node: `POST /api/v1/sanctions/screen-id` over an OFAC list
//! store (the published CSV layout, parsed by the engine), an analyst's decision published as a
//! `sanctions.id-hit` report, and the maritime engine flagging an AIS vessel by its listed MMSI
//! through the same identifier index.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{engine_node_with, within, Api};

/// A person with wallets and an e-mail, and a vessel listed with the MMSI of the demo's
/// DPRK-linked ship (AIS name `RYONGGANG 7`, listed under another name).
fn sdn() -> String {
    format!(
        "90001,\"KIM, Chol Su\",\"individual\",\"DPRK3] [CYBER2\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Digital Currency Address - XBT bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4; Digital Currency Address - ETH 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed; Email Address kcs@example.kp.\"\r\n\
         90003,\"SOUTHERN SAMPLE\",\"vessel\",\"DPRK3\",-0- ,\"HMRG7\",\"Oil Tanker\",\"3000\",\"2000\",\"Korea, North\",-0- ,\"MMSI {}.\"\r\n",
        trilat_ais::synth::DEMO_DPRK_MMSI
    )
}

async fn node(dir: &std::path::Path) -> (trilat_node::cluster::BackendNode, Api) {
    let lists = dir.join("lists");
    std::fs::create_dir_all(&lists).unwrap();
    let parsed = trilat_sanctions::ofac::parse_sdn(sdn().as_bytes(), "2030-01-01").unwrap();
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    std::fs::write(
        lists.join("ofac.json"),
        serde_json::to_vec(&parsed.list).unwrap(),
    )
    .unwrap();
    let engines = json!({
        "marking": trilat_core::Marking::new("CONFIDENTIAL", trilat_core::Tlp::Amber, ["TRILAT"]),
        "sanctions": {"lists": [lists]},
    });
    engine_node_with(dir, engines, "/api/v1/sanctions/status").await
}

#[tokio::test]
async fn screen_id_route_and_id_hit_report() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, api) = node(dir.path()).await;
    // Bech32 in upper case is the same address.
    let (status, body) = api
        .post(
            "/api/v1/sanctions/screen-id",
            &json!({"value": "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"][0]["entity_id"], "ofac:90001", "{body}");
    assert_eq!(body["hits"][0]["currency"], "XBT");
    assert_eq!(body["hits"][0]["programmes"], json!(["DPRK3", "CYBER2"]));
    // Typed: an e-mail; a wrong EIP-55 spelling is reported and still looked up.
    let (_, body) = api
        .post(
            "/api/v1/sanctions/screen-id",
            &json!({"value": "KCS@EXAMPLE.KP", "type": "email"}),
        )
        .await;
    assert_eq!(body["hits"].as_array().unwrap().len(), 1, "{body}");
    let (_, body) = api
        .post(
            "/api/v1/sanctions/screen-id",
            &json!({"value": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"}),
        )
        .await;
    assert_eq!(body["hits"].as_array().unwrap().len(), 1, "{body}");
    assert!(body["query_invalid"][0][1]
        .as_str()
        .unwrap()
        .contains("EIP-55"));
    // Bad requests say what is wrong.
    for bad in [
        json!({"value": ""}),
        json!({"value": "x", "type": "planet"}),
        json!({"value": "x".repeat(300)}),
        json!({"id": "x"}),
    ] {
        let (status, body) = api.post("/api/v1/sanctions/screen-id", &bad).await;
        assert!(matches!(status, 400 | 422), "{bad} → {status} {body}");
    }
    // The analyst confirms; the hit becomes a signed sanctions.id-hit report.
    let (_, screened) = api
        .post(
            "/api/v1/sanctions/screen-id",
            &json!({"value": "kcs@example.kp"}),
        )
        .await;
    let confirm = json!({"query": "kcs@example.kp", "hit": screened["hits"][0], "decision": "confirmed", "note": "applicant's e-mail"});
    let (status, report) = api.post("/api/v1/sanctions/id-hits", &confirm).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["kind"], "sanctions.id-hit");
    assert_eq!(report["payload"]["hit"]["entity_id"], "ofac:90001");
    // A hit that does not belong to its query is refused.
    let forged =
        json!({"query": "other@example.kp", "hit": screened["hits"][0], "decision": "confirmed"});
    let (status, body) = api.post("/api/v1/sanctions/id-hits", &forged).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn ais_vessel_flagged_by_listed_mmsi() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, api) = node(dir.path()).await;
    let lines: Vec<String> = trilat_ais::synth::demo_scenario(1_764_000_000)
        .iter()
        .flat_map(|feed| feed.lines.iter().cloned())
        .collect();
    let response = api
        .client
        .post(format!("{}/api/v1/ais/nmea", api.url))
        .bearer_auth(&api.token)
        .body(lines.join("\n"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    // Every event is published, the vessel's first static data (before any position) too.
    assert_eq!(
        body["events"],
        body["reports"].as_array().unwrap().len(),
        "{body}"
    );
    let api2 = api.clone();
    // On a bus the partition's owner publishes it once it took its lease.
    within(
        Duration::from_secs(120),
        "a sanctioned-vessel report",
        move || {
            let api = api2.clone();
            async move {
                let (_, page): (u16, Value) = api
                    .get("/api/v1/reports?kind=maritime.sanctioned-vessel")
                    .await;
                page["reports"].as_array().is_some_and(|reports| {
                    reports.iter().any(|r| {
                        let payload = r["payload"].to_string();
                        payload.contains(r#""matched_on":"mmsi""#)
                            && payload.contains("SOUTHERN SAMPLE")
                    })
                })
            }
        },
    )
    .await;
}
