//! Critical-mineral supply risk through the node: USA reads the real USGS
//! MCS 2024 and WGI files, answers indicators and scenarios, and publishes
//! `econ.indicator`, `econ.scenario` and `econ.figures` reports that reach
//! JPN (in the engines' marking) and never KOR (not in it). Then each
//! partner shares its own import figures, and every node's scenario answers
//! which partner is most exposed from the figures its marking lets it see.

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
    post_figures(api, "kor.csv", body).await
}

async fn post_figures(api: &Api, file: &str, body: &str) -> (u16, Value) {
    let response = api
        .client
        .post(format!("{}/api/v1/supply/figures?file={file}", api.url))
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
    // USA: reliance 100 % and China first source, an upper bound of 1.0, not
    // a figure: it may be above or below KOR's 0.95, so nobody is named.
    assert_eq!(graphite["most_exposed"], Value::Null, "{graphite}");
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

/// All three nodes read the data; each shares its own gallium import
/// figures (test figures, not statistics) under its own marking: USA's and
/// JPN's to all three, KOR's to USA only.
async fn cluster_of_three(dir: &std::path::Path, data: &std::path::Path) -> Cluster {
    let engines = |rel_to: &[&str]| {
        json!({
            "marking": {"level": "CONFIDENTIAL", "tlp": "AMBER", "rel_to": rel_to, "further_sharing": "none"},
            "supply": {"data": [data.display().to_string()], "groups": {"concern": ["CHN", "RUS", "PRK"]}},
        })
    };
    cluster_with(
        dir,
        [
            (party("USA"), engines(&["USA", "JPN", "KOR"])),
            (party("JPN"), engines(&["USA", "JPN", "KOR"])),
            (party("KOR"), engines(&["USA", "KOR"])),
        ]
        .into(),
    )
    .await
}

fn gallium_figures(party: &str, china_pct: u32) -> String {
    format!(
        "party,commodity,figure,country,value,unit,year,source\n\
         {party},gallium,net_import_reliance_pct,,100,%,2023,test figures\n\
         {party},gallium,import_share_pct,CHN,{china_pct},%,2023,test figures\n"
    )
}

/// The exposure of each partner in a "China stops gallium" answer.
fn exposures(answer: &Value) -> Vec<(String, Option<f64>, String)> {
    let outcome = &answer["result"]["outcomes"][0];
    assert_eq!(outcome["commodity"], "galli", "{answer}");
    outcome["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["party"].as_str().unwrap().to_string(),
                e["exposure"].as_f64(),
                e["basis"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn partners_figures_received_decide_who_is_most_exposed_within_their_marking() {
    let Some(data) = supply_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster_of_three(dir.path(), &data).await;
    let mut admins = Vec::new();
    for code in ["USA", "JPN", "KOR"] {
        let node = cluster.node(code);
        let admin = Api::new(&node.url, node.admin_token());
        let api = admin.clone();
        eventually(&format!("{code}'s supply data loaded"), move || {
            let api = api.clone();
            async move { api.get("/api/v1/supply/ranking").await.0 == 200 }
        })
        .await;
        admins.push(admin);
    }
    let [usa, jpn, kor] = [&admins[0], &admins[1], &admins[2]];
    let mut report_of = std::collections::BTreeMap::new();
    for (api, code, china_pct) in [(usa, "USA", 20), (jpn, "JPN", 60), (kor, "KOR", 80)] {
        let file = format!("{}.csv", code.to_lowercase());
        let (status, body) = post_figures(api, &file, &gallium_figures(code, china_pct)).await;
        assert_eq!(status, 200, "{body}");
        report_of.insert(
            code,
            format!("{code}/{}", body["reports"][0].as_str().unwrap()),
        );
    }
    // USA holds all three partners' figures once they arrive; JPN never KOR's.
    let stop = json!({"stop": ["CHN"], "commodities": ["gallium"], "publish": true});
    let api = usa.clone();
    eventually("JPN's and KOR's figures at USA", move || {
        let api = api.clone();
        async move { api.ids_of("econ.figures").await.len() == 3 }
    })
    .await;
    let (status, at_usa) = usa.post("/api/v1/supply/scenario", &stop).await;
    assert_eq!(status, 200, "{at_usa}");
    let found = exposures(&at_usa);
    let want = [("JPN", 0.6), ("KOR", 0.8), ("USA", 0.2)];
    for ((party, exposure, basis), (want_party, want_exposure)) in found.iter().zip(want) {
        assert_eq!(party, want_party);
        assert!(
            (exposure.unwrap() - want_exposure).abs() < 1e-12,
            "{party}: {exposure:?}"
        );
        // Each from its own report, named in the basis.
        assert!(basis.contains(&report_of[party.as_str()]), "{basis}");
    }
    assert_eq!(at_usa["result"]["outcomes"][0]["most_exposed"], "KOR");
    assert_eq!(at_usa["figures"].as_array().unwrap().len(), 3, "{at_usa}");

    // Built on KOR's figures, the published scenario carries KOR's marking
    // too: it reaches KOR and never JPN.
    let scenario_id = at_usa["report"].as_str().unwrap().to_string();
    let (status, stored) = usa.get(&format!("/api/v1/reports/USA/{scenario_id}")).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["report"]["marking"]["rel_to"], json!(["KOR", "USA"]));
    let api = kor.clone();
    let want = BTreeSet::from([scenario_id.clone()]);
    eventually("USA's scenario at KOR", move || {
        let (api, want) = (api.clone(), want.clone());
        async move { api.ids_of("econ.scenario").await == want }
    })
    .await;

    // At JPN: USA's and its own figures, not KOR's; JPN is the most exposed it knows of.
    let api = jpn.clone();
    eventually("USA's figures at JPN", move || {
        let api = api.clone();
        async move { api.ids_of("econ.figures").await.len() == 2 }
    })
    .await;
    let (status, at_jpn) = jpn
        .post(
            "/api/v1/supply/scenario",
            &json!({"stop": ["CHN"], "commodities": ["gallium"]}),
        )
        .await;
    assert_eq!(status, 200, "{at_jpn}");
    let found = exposures(&at_jpn);
    let kor_at_jpn = found.iter().find(|e| e.0 == "KOR").unwrap();
    assert_eq!(kor_at_jpn.1, None, "{}", kor_at_jpn.2);
    assert_eq!(at_jpn["result"]["outcomes"][0]["most_exposed"], "JPN");
    // A note JPN gets after USA's scenario: the scenario itself never comes.
    let note = usa
        .post_note("after the scenario", "CONFIDENTIAL", "AMBER", &["TRILAT"])
        .await;
    let api = jpn.clone();
    eventually("the later note at JPN", move || {
        let (api, id) = (api.clone(), note.key());
        async move { api.report(&id).await.is_some() }
    })
    .await;
    assert!(jpn.ids_of("econ.scenario").await.is_empty());

    // USA's audit log records the figures released to the scenario's caller.
    assert!(audit_mentions(usa, "supply scenario figures: 3 versions").await);
}

/// Whether an entry of the node's audit log mentions `needle`.
async fn audit_mentions(admin: &Api, needle: &str) -> bool {
    let mut after = 0;
    loop {
        let (status, page) = admin
            .get(&format!("/api/v1/audit?after={after}&limit=500"))
            .await;
        assert_eq!(status, 200, "{page}");
        let entries = page["entries"].as_array().unwrap();
        if entries.iter().any(|e| e.to_string().contains(needle)) {
            return true;
        }
        match entries.last() {
            Some(last) => after = last["seq"].as_u64().unwrap(),
            None => return false,
        }
    }
}
