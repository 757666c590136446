//! `trilat demo --sanctions-store DIR`: a list imported with `trilat
//! sanctions import --store DIR` (a one-person list in the UN XML format,
//! written here) is loaded by every demo node, whose screening route then
//! finds the person from a Hangul spelling of the name; without the flag the
//! banner says how to get lists.

use std::process::Command;

use serde_json::{json, Value};

mod common;
use common::{node, start_demo};

const TRILAT: &str = env!("CARGO_BIN_EXE_trilat");

/// A one-person UN consolidated list (the element names of the published
/// XML): PAK CHO'NG-IL, McCune–Reischauer, as the UN writes DPRK names.
const UN_LIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2030-01-02T00:00:00Z">
 <INDIVIDUALS>
  <INDIVIDUAL>
   <DATAID>1</DATAID><FIRST_NAME>PAK</FIRST_NAME><SECOND_NAME>CHO'NG-IL</SECOND_NAME>
   <UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPi.901</REFERENCE_NUMBER>
   <LISTED_ON>2017-06-02</LISTED_ON>
  </INDIVIDUAL>
 </INDIVIDUALS>
 <ENTITIES/>
</CONSOLIDATED_LIST>
"#;

fn screen(node: &Value, name: &str) -> (u16, Value) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!(
                "{}/api/v1/sanctions/screen",
                node["url"].as_str().unwrap()
            ))
            .bearer_auth(node["admin_token"].as_str().unwrap())
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    })
}

#[test]
fn a_demo_node_with_a_list_store_screens_a_hangul_name_to_the_listed_person() {
    let work = tempfile::tempdir().unwrap();
    let list = work.path().join("consolidated.xml");
    std::fs::write(&list, UN_LIST).unwrap();
    let store = work.path().join("lists");
    let import = Command::new(TRILAT)
        .args(["sanctions", "import", "--store"])
        .arg(&store)
        .arg(&list)
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "import: {}",
        String::from_utf8_lossy(&import.stderr)
    );

    let (_demo, banner) = start_demo(work.path(), &["--sanctions-store", store.to_str().unwrap()]);
    let jpn = node(&banner, "JPN");
    assert_eq!(jpn["sanctions"]["loaded"], true, "{banner}");
    assert_eq!(jpn["sanctions"]["entities"], 1, "{banner}");

    let (status, answer) = screen(jpn, "박정일");
    assert_eq!(status, 200, "{answer}");
    let hits = answer["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{answer}");
    assert_eq!(hits[0]["entity_id"], "un:KPi.901", "{answer}");
    assert!(hits[0]["score"].as_f64().unwrap() >= 0.8, "{answer}");
    assert!(
        !hits[0]["explanation"].as_array().unwrap().is_empty(),
        "a hit without its explanation: {answer}"
    );
    // Every node was given the store, not only the one asked.
    for party in ["USA", "KOR"] {
        assert_eq!(
            node(&banner, party)["sanctions"]["loaded"],
            true,
            "{banner}"
        );
    }
}

#[test]
fn a_demo_without_lists_says_so_and_answers_no_lists() {
    let work = tempfile::tempdir().unwrap();
    let (_demo, banner) = start_demo(work.path(), &[]);
    let jpn = node(&banner, "JPN");
    assert_eq!(jpn["sanctions"]["loaded"], false, "{banner}");
    let (status, answer) = screen(jpn, "박정일");
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], "no_lists", "{answer}");
}

#[test]
fn a_demo_given_an_empty_store_stops_with_the_reason() {
    let work = tempfile::tempdir().unwrap();
    let output = Command::new(TRILAT)
        .args(["demo", "--sanctions-store"])
        .arg(work.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("holds no lists") && stderr.contains("trilat sanctions import --store"),
        "{stderr}"
    );
}
