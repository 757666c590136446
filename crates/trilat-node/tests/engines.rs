//! The engines wired into a node: sanctions screening over a list store,
//! AIS ingest publishing maritime events, missile detections fused into
//! assessments whose marking combines the contributors' markings.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use trilat_core::{Marking, Tlp};

use crate::common::{engine_node_with, on_bus, within, Api};

/// A UN consolidated-list fixture in the real format (hand-written).
const UN_FIXTURE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2030-01-02T00:00:00Z">
 <INDIVIDUALS>
  <INDIVIDUAL>
   <DATAID>1</DATAID><FIRST_NAME>PAK</FIRST_NAME><SECOND_NAME>CHO'NG-IL</SECOND_NAME>
   <UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPi.901</REFERENCE_NUMBER>
   <LISTED_ON>2017-06-02</LISTED_ON>
   <NATIONALITY><VALUE>Democratic People's Republic of Korea</VALUE></NATIONALITY>
  </INDIVIDUAL>
 </INDIVIDUALS>
 <ENTITIES>
  <ENTITY><DATAID>3</DATAID><FIRST_NAME>SAMPLE TRADING &amp; SHIPPING CO.</FIRST_NAME><UN_LIST_TYPE>DPRK</UN_LIST_TYPE>
   <REFERENCE_NUMBER>KPe.901</REFERENCE_NUMBER>
  </ENTITY>
 </ENTITIES>
</CONSOLIDATED_LIST>"#;

fn marking(rel_to: &[&str]) -> Marking {
    Marking::new("CONFIDENTIAL", Tlp::Amber, rel_to.iter().copied())
}

/// One JPN node with every engine configured; returns its analyst API.
async fn engine_node(dir: &std::path::Path) -> (trilat_node::cluster::BackendNode, Api) {
    let lists = dir.join("lists");
    std::fs::create_dir_all(&lists).unwrap();
    let parsed = trilat_sanctions::un::parse(UN_FIXTURE.as_bytes()).unwrap();
    std::fs::write(
        lists.join("un.json"),
        serde_json::to_vec(&parsed.list).unwrap(),
    )
    .unwrap();
    let party_markings = json!({
        "USA": marking(&["USA", "JPN"]),
        "KOR": marking(&["KOR", "JPN"]),
        "JPN": marking(&["TRILAT"]),
    });
    let engines = json!({
        "marking": marking(&["TRILAT"]),
        "sanctions": {"lists": [lists]},
        "missile": {"party_markings": party_markings},
    });
    engine_node_with(dir, engines, "/api/v1/sanctions/status").await
}

/// How long engine products may take on a loaded machine (on a bus: the
/// partitions' leases, then the owner's processing).
const ENGINE_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

async fn post_text(api: &Api, path: &str, body: String) -> (u16, Value) {
    let response = api
        .client
        .post(format!("{}{path}", api.url))
        .bearer_auth(&api.token)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn sanctions_screening_through_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, api) = engine_node(dir.path()).await;
    let (status, body) = api.get("/api/v1/sanctions/status").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["loaded"], true);
    assert_eq!(body["entities"], 2);
    let (status, body) = api
        .post(
            "/api/v1/sanctions/screen",
            &json!({"name": "Pak Jong Il", "schema": "person"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"][0]["entity_id"], "un:KPi.901", "{body}");
    let (status, body) = api
        .post("/api/v1/sanctions/screen", &json!({"name": "Kim Jong Un"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|hit| hit["entity_id"] != "un:KPi.901"),
        "{body}"
    );
    for bad in [
        json!({"name": ""}),
        json!({"name": "x", "schema": "planet"}),
        json!({"name": "x", "limit": 0}),
        json!({"name": "x", "dob": "1960-13"}),
        json!({"nom": "x"}),
    ] {
        let (status, body) = api.post("/api/v1/sanctions/screen", &bad).await;
        assert!(matches!(status, 400 | 422), "{bad} → {status} {body}");
    }
    // An analyst confirms the hit; it becomes a sanctions.hit report.
    let (_, screened) = api
        .post("/api/v1/sanctions/screen", &json!({"name": "Pak Jong Il"}))
        .await;
    let confirm = json!({"query": screened["query"], "hit": screened["hits"][0], "decision": "confirmed", "note": "same DOB"});
    let (status, report) = api.post("/api/v1/sanctions/hits", &confirm).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["kind"], "sanctions.hit");
    assert_eq!(report["payload"]["reviewed_by"], "analyst");
}

#[tokio::test]
async fn ais_lines_become_maritime_event_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, api) = engine_node(dir.path()).await;
    let start_unix_s = 1_764_000_000;
    let feeds = trilat_ais::synth::demo_scenario(start_unix_s);
    let lines: Vec<String> = feeds
        .iter()
        .flat_map(|feed| feed.lines.iter().cloned())
        .collect();
    assert!(!lines.is_empty());
    let (status, body) = post_text(&api, "/api/v1/ais/nmea", lines.join("\n")).await;
    assert_eq!(status, 200, "{body}");
    if on_bus() {
        // Handed to the partitions' owner (this process), which publishes
        // the events once it has processed them.
        let n_taken = body["lines"].as_u64().unwrap() - body["lines_refused"].as_u64().unwrap();
        assert_eq!(body["lines_handed_off"], n_taken, "{body}");
        assert_eq!(body["events"], 0, "{body}");
    } else {
        assert!(body["events"].as_u64().unwrap() > 0, "{body}");
        assert_eq!(
            body["events"],
            body["reports"].as_array().unwrap().len(),
            "every event is published: {body}"
        );
    }
    // On a bus too: the two vessels' partitions are processed apart, but
    // the cross-vessel detection gets both vessels' lines in the order
    // they came (docs/scale.md, *Engine partitions*).
    within(ENGINE_WAIT, "the demo's encounter published", || async {
        let (status, page) = api.get("/api/v1/reports?kind=maritime.event").await;
        assert_eq!(status, 200, "{page}");
        let events: Vec<&str> = page["reports"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["payload"]["event"].as_str())
            .collect();
        events.contains(&"encounter")
    })
    .await;
    let (status, body) = post_text(&api, "/api/v1/ais/nmea", "x".repeat(2000)).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn missile_products_carry_the_combined_marking() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, api) = engine_node(dir.path()).await;
    // Bad input names the line and changes nothing. Checked first: on a
    // bus, products of good input appear while the owner processes it.
    let (_, before) = api.get("/api/v1/reports?kind=missile.track").await;
    for bad in [
        "not json",
        r#"{"sensor": "no-such-radar", "time": "2026-01-01T00:00:00Z", "range_m": 1, "az_deg": 1, "el_deg": 1}"#,
    ] {
        let (status, body) = post_text(&api, "/api/v1/missile/detections", bad.to_string()).await;
        assert_eq!(status, 400, "{bad} → {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains('1'),
            "{body}"
        );
    }
    let (_, after) = api.get("/api/v1/reports?kind=missile.track").await;
    assert_eq!(
        before["reports"].as_array().map(Vec::len),
        after["reports"].as_array().map(Vec::len)
    );

    let lines = demo_detection_lines(7);
    let (status, body) = post_text(&api, "/api/v1/missile/detections", lines.join("\n")).await;
    assert_eq!(status, 200, "{body}");
    // At once without a bus; once the sensor group's owner fused them with one.
    within(ENGINE_WAIT, "assessments of the detections", || async {
        let (_, page) = api.get("/api/v1/reports?kind=missile.assessment").await;
        page["reports"].as_array().is_some_and(|r| !r.is_empty())
    })
    .await;
    let (status, page) = api.get("/api/v1/reports?kind=missile.assessment").await;
    assert_eq!(status, 200, "{page}");
    let assessments = page["reports"].as_array().unwrap();
    let by_party = |p: &str| -> BTreeSet<String> {
        match p {
            "USA" => ["USA", "JPN"].map(String::from).into(),
            "KOR" => ["KOR", "JPN"].map(String::from).into(),
            _ => ["USA", "JPN", "KOR"].map(String::from).into(),
        }
    };
    for report in assessments {
        let parties: Vec<&str> = report["payload"]["parties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert!(!parties.is_empty());
        let expected = parties
            .iter()
            .map(|p| by_party(p))
            .reduce(|a, b| a.intersection(&b).cloned().collect())
            .unwrap();
        let got: BTreeSet<String> = report["marking"]["rel_to"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, expected, "parties {parties:?}");
    }
}

#[tokio::test]
async fn missile_detections_stream_publishes_while_the_feed_lasts() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, api) = engine_node(dir.path()).await;
    let lines = demo_detection_lines(11);
    // The feed arrives in chunks that split lines anywhere; the first half is
    // sent, then the test waits for an assessment before sending the rest, so
    // products must be published while the request is still open.
    let text = lines.join("\n");
    let half = text.len() / 2;
    let (first, rest) = text.split_at(half);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_of(rx));
    let request = api
        .client
        .post(format!("{}/api/v1/missile/detections/stream", api.url))
        .bearer_auth(&api.token)
        .body(body)
        .send();
    let sender = {
        let api = api.clone();
        let first = first.as_bytes().to_vec();
        let rest = rest.as_bytes().to_vec();
        tokio::spawn(async move {
            for piece in first.chunks(997) {
                tx.send(Ok(piece.to_vec())).await.unwrap();
            }
            within(
                ENGINE_WAIT,
                "an assessment published mid-stream",
                move || {
                    let api = api.clone();
                    async move {
                        let (_, page) = api.get("/api/v1/reports?kind=missile.assessment").await;
                        page["reports"].as_array().is_some_and(|r| !r.is_empty())
                    }
                },
            )
            .await;
            for piece in rest.chunks(1009) {
                tx.send(Ok(piece.to_vec())).await.unwrap();
            }
        })
    };
    let response = request.await.unwrap();
    sender.await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["detections"].as_u64(),
        Some(lines.len() as u64),
        "{answer}"
    );
    if on_bus() {
        // Handed to the sensor group's owner, which published the
        // assessment the sender waited for.
        assert_eq!(
            answer["detections_handed_off"].as_u64(),
            Some(lines.len() as u64),
            "{answer}"
        );
    } else {
        assert!(answer["reports"].as_u64().unwrap() > 0, "{answer}");
    }

    // A bad line ends the stream with its line number (blank lines count).
    let bad = "\n\nnot json\n".to_string();
    let (status, body) = post_text(&api, "/api/v1/missile/detections/stream", bad).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 3"),
        "{body}"
    );
    // A line without an end that outgrows the bound is refused.
    let endless = "x".repeat(10_000);
    let (status, body) = post_text(&api, "/api/v1/missile/detections/stream", endless).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "line_too_long", "{body}");
}

/// The receiving half of a channel as a stream of body chunks.
fn tokio_stream_of(
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// The demo launch's detections as DETECTIONS.jsonl lines.
fn demo_detection_lines(seed: u64) -> Vec<String> {
    let (registry, _truth, detections) =
        trilat_missile::sim::demo_scenario(1_764_000_000.0, seed).unwrap();
    detections
        .iter()
        .map(|d| {
            serde_json::to_string(&trilat_missile::sensors::DetectionRecord {
                sensor: registry.sensors()[d.sensor_idx].spec.id.clone(),
                time: trilat_missile::sensors::format_time(d.time_s),
                range_m: d.range_m,
                az_deg: d.az_deg,
                el_deg: d.el_deg,
                range_rate_mps: d.range_rate_mps,
            })
            .unwrap()
        })
        .collect()
}
