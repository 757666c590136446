//! Seismic events through the node: a real IMS1.0 bulletin posted at USA
//! becomes `seismic.event` and `nuclear.assessment` reports that reach JPN
//! (in the engines' marking) and never KOR (not in it).

use std::collections::BTreeSet;

use serde_json::{json, Value};
use trilat_node::cluster::Cluster;

use crate::common::{cluster_with, eventually, party, Api};

/// `../shared/data/seismic/<rel>` (or under `$TRILAT_SHARED_DATA`), or
/// `None` after saying the test skips.
fn seismic_data(rel: &str) -> Option<String> {
    let root = std::env::var_os("TRILAT_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").into());
    let path = root.join("seismic").join(rel);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            eprintln!(
                "SKIP: {} not readable ({e}; set TRILAT_SHARED_DATA)",
                path.display()
            );
            None
        }
    }
}

/// USA, JPN, KOR; USA's engines mark their reports REL TO USA, JPN.
async fn cluster(dir: &std::path::Path) -> Cluster {
    let usa_engines = json!({
        "marking": {"level": "CONFIDENTIAL", "tlp": "AMBER", "rel_to": ["USA", "JPN"], "further_sharing": "none"},
    });
    cluster_with(dir, [(party("USA"), usa_engines)].into()).await
}

async fn post_text(api: &Api, body: &str) -> (u16, Value) {
    let response = api
        .client
        .post(format!("{}/api/v1/seismic/events", api.url))
        .bearer_auth(&api.token)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The 2017-09-03 test as the USGS summary feed would carry it.
const USGS_2017: &str = r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"us2000aert",
  "properties":{"mag":6.3,"magType":"mb","time":1504409401940,"net":"us","type":"nuclear explosion",
  "place":"North Korea"},"geometry":{"type":"Point","coordinates":[129.036,41.343,0]}}]}"#;

#[tokio::test]
async fn seismic_reports_reach_the_partners_their_marking_allows() {
    let Some(bulletin) = seismic_data("obspy_testdata/iaspei/ipe202409sel_ims.txt") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let usa = cluster.node("USA");
    let admin = Api::new(&usa.url, usa.admin_token());
    let api = admin.clone();
    eventually("USA's engines started", move || {
        let api = api.clone();
        async move { post_text(&api, "").await.0 != 503 }
    })
    .await;

    // Refusals: a reader, another party's token, text that is no format,
    // a QuakeML document broken at line 4.
    let usa_reader = Api::new(&usa.url, usa.reader_token(&party("USA")));
    assert_eq!(post_text(&usa_reader, USGS_2017).await.0, 403);
    let jpn_reader_at_usa = Api::new(&usa.url, usa.reader_token(&party("JPN")));
    assert_eq!(post_text(&jpn_reader_at_usa, USGS_2017).await.0, 403);
    let (status, body) = post_text(&admin, "hello").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_seismic_input")),
        "{body}"
    );
    let broken = "<?xml version=\"1.0\"?>\n<q:quakeml xmlns=\"http://quakeml.org/xmlns/bed/1.2\">\n<eventParameters>\n<event></origin>\n";
    let (status, body) = post_text(&admin, broken).await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("QuakeML, line 4:"), "{message}");

    let response = admin
        .client
        .post(format!("{}/api/v1/seismic/events", admin.url))
        .bearer_auth(&admin.token)
        .body(b"DATA_TYPE BULLETIN IMS1.0:short\nEvent 1 caf\xe9\n".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("input, line 2: not UTF-8"), "{message}");

    // More events than one request may carry: refused before any is published.
    let feature = r#"{"type":"Feature","id":"x","properties":{"mag":3.0,"magType":"ml","time":1504409401940},"geometry":{"type":"Point","coordinates":[129.0,41.3,10]}}"#;
    let features = vec![feature; 1001].join(",");
    let feed = format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#);
    let (status, body) = post_text(&admin, &feed).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("too_many_events")),
        "{body}"
    );
    assert!(admin.ids_of("seismic.event").await.is_empty());

    // The real bulletin: every event and its assessment published.
    let (status, answer) = post_text(&admin, &bulletin).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["format"], "ims1");
    let events = answer["events"].as_array().unwrap();
    assert!(!events.is_empty(), "{answer}");
    let published: BTreeSet<String> = answer["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_string())
        .collect();
    assert_eq!(published.len(), 2 * events.len(), "{answer}");
    for event in events {
        assert_eq!(event["errors"], json!([]), "{event}");
        assert_eq!(event["likely_nuclear_test"], false, "{event}");
    }
    // A declared test, through the same route: a likely nuclear test.
    let (status, test) = post_text(&admin, USGS_2017).await;
    assert_eq!(status, 200, "{test}");
    assert_eq!(test["events"][0]["likely_nuclear_test"], true, "{test}");
    let test_assessment = test["events"][0]["assessment_report"]
        .as_str()
        .unwrap()
        .to_string();

    // The reports as USA stored them: payload, epicentre, origin time.
    let (status, stored) = admin
        .get(&format!("/api/v1/reports/USA/{test_assessment}"))
        .await;
    assert_eq!(status, 200, "{stored}");
    let report = &stored["report"];
    assert_eq!(report["kind"], "nuclear.assessment");
    assert_eq!(
        report["geometry"],
        json!({"type": "Point", "coordinates": [129.036, 41.343]})
    );
    assert_eq!(report["observed_at"], "2017-09-03T03:30:01.940Z");
    assert_eq!(
        report["marking"]["rel_to"],
        json!(["USA", "JPN"]),
        "{report}"
    );
    assert_eq!(report["payload"]["explosion"], "likely");
    assert_eq!(report["exercise"], false);

    // JPN receives them all.
    let jpn = cluster.node("JPN");
    let jpn_reader = Api::new(&jpn.url, jpn.reader_token(&party("JPN")));
    let mut expected = published.clone();
    expected.extend(
        test["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap().to_string()),
    );
    let (api, want) = (jpn_reader.clone(), expected.clone());
    eventually("the seismic reports at JPN", move || {
        let (api, want) = (api.clone(), want.clone());
        async move {
            let mut seen = api.ids_of("seismic.event").await;
            seen.extend(api.ids_of("nuclear.assessment").await);
            seen == want
        }
    })
    .await;

    // KOR never: a TRILAT note posted after them arrives, they do not.
    let note = admin
        .post_note(
            "after the seismic reports",
            "CONFIDENTIAL",
            "AMBER",
            &["TRILAT"],
        )
        .await;
    let kor = cluster.node("KOR");
    let kor_admin = Api::new(&kor.url, kor.admin_token());
    let api = kor_admin.clone();
    eventually("the later note at KOR", move || {
        let (api, id) = (api.clone(), note.key());
        async move { api.report(&id).await.is_some() }
    })
    .await;
    assert!(kor_admin.ids_of("seismic.event").await.is_empty());
    assert!(kor_admin.ids_of("nuclear.assessment").await.is_empty());
    let kor_reader_at_usa = Api::new(&usa.url, usa.reader_token(&party("KOR")));
    assert!(kor_reader_at_usa
        .ids_of("nuclear.assessment")
        .await
        .is_empty());
}
