//! Critical-mineral supply risk through the node: USA reads the real USGS
//! MCS 2024 and WGI files, answers indicators and scenarios, and publishes
//! `econ.indicator`, `econ.scenario` and `econ.figures` reports that reach
//! JPN (in the engines' marking) and never KOR (not in it).

use std::collections::BTreeSet;

use serde_json::{json, Value};
use trilat_node::cluster::Cluster;

use crate::common::{cluster_with, eventually, party, Api};

/// `../shared/data/supply` (or under `$TRILAT_SHARED_DATA`), or `None`
/// after saying the test skips.
fn supply_data() -> Option<std::path::PathBuf> {
    let root = std::env::var_os("TRILAT_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").into());
    let dir = root.join("supply");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIP: {} absent (set TRILAT_SHARED_DATA)", dir.display());
        None
    }
}

/// USA, JPN, KOR; USA's engines read the supply data and mark their
/// reports REL TO USA, JPN.
async fn cluster(dir: &std::path::Path, data: &std::path::Path) -> Cluster {
    let usa_engines = json!({
        "marking": {"level": "CONFIDENTIAL", "tlp": "AMBER", "rel_to": ["USA", "JPN"], "further_sharing": "none"},
        "supply": {
            "data": [data.display().to_string()],
            "groups": {"allies": ["AUS", "CAN", "GBR", "DEU", "FRA"], "concern": ["CHN", "RUS", "PRK"]},
        },
    });
    cluster_with(dir, [(party("USA"), usa_engines)].into()).await
}

async fn post_csv(api: &Api, body: &str) -> (u16, Value) {
    let response = api
        .client
        .post(format!("{}/api/v1/supply/figures?file=kor.csv", api.url))
        .bearer_auth(&api.token)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn ids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn supply_indicators_and_scenarios_reach_the_partners_their_marking_allows() {
    let Some(data) = supply_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path(), &data).await;
    let usa = cluster.node("USA");
    let admin = Api::new(&usa.url, usa.admin_token());
    let api = admin.clone();
    eventually("USA's supply data loaded", move || {
        let api = api.clone();
        async move { api.get("/api/v1/supply/ranking").await.0 == 200 }
    })
    .await;

    // Indicators: gallium as the USGS file has it.
    let reader = Api::new(&usa.url, usa.reader_token(&party("USA")));
    let (status, found) = reader
        .get("/api/v1/supply/indicators?commodity=gallium")
        .await;
    assert_eq!(status, 200, "{found}");
    let gallium = &found["indicators"][0];
    assert_eq!(gallium["file"], "mcs2024-galli_world.csv");
    assert_eq!(gallium["production"]["top1"][0], "CHN");
    assert_eq!(
        gallium["us_reliance"]["import_sources"],
        json!(["JPN", "CHN", "DEU", "CAN"])
    );
    let (status, body) = reader
        .get("/api/v1/supply/indicators?commodity=unobtainium")
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_supply_request"))
    );
    let (status, ranked) = reader.get("/api/v1/supply/ranking").await;
    assert_eq!(status, 200);
    assert_eq!(ranked[0]["commodity"], "galli", "{}", ranked[0]);

    // A scenario a reader may compute, not publish.
    let stop = json!({"stop": ["CHN"], "commodities": ["gallium", "graphite"]});
    let (status, answer) = reader.post("/api/v1/supply/scenario", &stop).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["report"], Value::Null);
    assert_eq!(answer["result"]["outcomes"].as_array().unwrap().len(), 2);
    let mut publish = stop.clone();
    publish["publish"] = json!(true);
    assert_eq!(
        reader.post("/api/v1/supply/scenario", &publish).await.0,
        403
    );
    let (status, body) = reader
        .post("/api/v1/supply/scenario", &json!({"stop": ["Atlantis"]}))
        .await;
    assert_eq!(status, 400, "{body}");

    // Korea's own figures: a bad row is refused naming its line; good ones
    // are published and then decide who is most exposed.
    let header = "party,commodity,figure,country,value,unit,year,source\n";
    let (status, body) = post_csv(
        &admin,
        &format!("{header}KOR,graphite,import_share_pct,,90,%,2023,x\n"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("kor.csv, line 2:"), "{message}");
    let figures = format!(
        "{header}KOR,graphite,net_import_reliance_pct,,100,%,2023,test figures\nKOR,graphite,import_share_pct,CHN,95,%,2023,test figures\n"
    );
    let (status, figures_answer) = post_csv(&admin, &figures).await;
    assert_eq!(status, 200, "{figures_answer}");
    let (status, scenario) = admin.post("/api/v1/supply/scenario", &publish).await;
    assert_eq!(status, 200, "{scenario}");
    let outcomes = scenario["result"]["outcomes"].as_array().unwrap();
    let graphite = outcomes.iter().find(|o| o["commodity"] == "graph").unwrap();
    // USA: reliance 100 % and China first source (upper bound 1.0) > KOR 0.95.
    assert_eq!(graphite["most_exposed"], "USA", "{graphite}");
    let kor = graphite["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["party"] == "KOR")
        .unwrap();
    assert_eq!(kor["exposure"], json!(0.95));
    let scenario_id = scenario["report"].as_str().unwrap().to_string();

    // Indicators published, one report per series.
    let (status, published) = admin
        .post(
            "/api/v1/supply/indicators",
            &json!({"commodities": ["gallium", "copper"]}),
        )
        .await;
    assert_eq!(status, 200, "{published}");
    let indicator_ids = ids(&published["reports"]);
    assert_eq!(
        indicator_ids.len(),
        3,
        "gallium, copper mine, copper refinery"
    );

    // Stored at USA in the engines' marking.
    let (status, stored) = admin
        .get(&format!("/api/v1/reports/USA/{scenario_id}"))
        .await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["report"]["kind"], "econ.scenario");
    assert_eq!(stored["report"]["marking"]["rel_to"], json!(["USA", "JPN"]));

    // JPN receives them all.
    let jpn = cluster.node("JPN");
    let jpn_reader = Api::new(&jpn.url, jpn.reader_token(&party("JPN")));
    let figures_ids = ids(&figures_answer["reports"]);
    let (api, want) = (
        jpn_reader.clone(),
        (
            indicator_ids.clone(),
            scenario_id.clone(),
            figures_ids.clone(),
        ),
    );
    eventually("the econ reports at JPN", move || {
        let (api, want) = (api.clone(), want.clone());
        async move {
            api.ids_of("econ.indicator").await == want.0
                && api.ids_of("econ.scenario").await == BTreeSet::from([want.1])
                && api.ids_of("econ.figures").await == want.2
        }
    })
    .await;

    // KOR never: a TRILAT note posted after them arrives, they do not.
    let note = admin
        .post_note(
            "after the econ reports",
            "CONFIDENTIAL",
            "AMBER",
            &["TRILAT"],
        )
        .await;
    let kor_node = cluster.node("KOR");
    let kor_admin = Api::new(&kor_node.url, kor_node.admin_token());
    let api = kor_admin.clone();
    eventually("the later note at KOR", move || {
        let (api, id) = (api.clone(), note.key());
        async move { api.report(&id).await.is_some() }
    })
    .await;
    for kind in ["econ.indicator", "econ.scenario", "econ.figures"] {
        assert!(
            kor_admin.ids_of(kind).await.is_empty(),
            "{kind} reached KOR"
        );
    }
}
