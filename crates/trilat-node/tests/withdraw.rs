//! Withdrawals across three real nodes: a version that narrows a report's
//! releasability reaches the parties it still covers, and the parties that
//! held an earlier version and are no longer covered get the owner's
//! withdrawal: their copy leaves the listing, the stream and TAXII, and
//! stays in history with the withdrawal, audited on both sides.

use serde_json::Value;
use trilat_core::{Kind, Marking, Party, Report, ReportDraft, Tlp};
use trilat_node::config::Role;
use trilat_node::AppState;
use trilat_store::AuditAction;

use crate::common::{cluster, eventually, party, Api};

const TAXII: &str = "application/taxii+json;version=2.1";
const OBJECTS: &str = "/taxii2/trilat/collections/trilat-cyber/objects/";
const INDICATOR: &str = "indicator--3c6d9e4f-5a7b-4c8d-9e0f-1a2b3c4d5e6f";

fn api(cluster: &trilat_node::cluster::Cluster, node: &str, as_party: &str, role: Role) -> Api {
    let n = cluster.node(node);
    Api::new(&n.url, &n.tokens[&(party(as_party), role)])
}

/// USA's `cyber.stix` draft of one indicator released to `rel_to`.
fn indicator_draft(rel_to: &[&str]) -> ReportDraft {
    let object = serde_json::json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": INDICATOR,
        "created": "2026-01-02T03:04:05.000Z",
        "modified": "2026-01-02T03:04:05.000Z",
        "name": "bad address",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-01-02T03:04:05.000Z",
    });
    let bundle = format!(
        r#"{{"type":"bundle","id":"bundle--6f1a2b3c-4d5e-4f6a-8b7c-9d0e1f2a3b4c","objects":[{object}]}}"#
    );
    let parsed = trilat_cyber::parse_bundle(&bundle, |_, _| {}).unwrap();
    let marking = Marking::new("UNCLASSIFIED", Tlp::Green, rel_to.iter().copied());
    let outcome = trilat_cyber::import_bundle(&parsed, &party("USA"), &marking, trilat_node::now());
    outcome.drafts[0].clone()
}

/// The STIX ids a reader sees in the node's TAXII collection.
async fn taxii_ids(api: &Api) -> Vec<String> {
    let response = api
        .client
        .get(format!("{}{OBJECTS}", api.url))
        .bearer_auth(&api.token)
        .header("accept", TAXII)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    body["objects"]
        .as_array()
        .map(|objects| {
            objects
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The ids in the default listing (or with `include_withdrawn=true`).
async fn listed(api: &Api, include_withdrawn: bool) -> Vec<String> {
    let (status, page) = api
        .get(&format!(
            "/api/v1/reports?limit=1000&include_withdrawn={include_withdrawn}"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    page["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Audit entries of `action` about `report` with `counterparty`.
fn audited(state: &AppState, action: AuditAction, report: &Report, counterparty: &Party) -> usize {
    state
        .store
        .audit(0, 1000)
        .unwrap()
        .iter()
        .filter(|e| {
            e.event.action == action
                && e.event.report_key() == Some(report.key())
                && e.event.counterparty.as_ref() == Some(counterparty)
        })
        .count()
}

/// Issues the next version of `report` at USA, released to `rel_to` only.
async fn narrow(usa: &AppState, report: &Report, rel_to: &[&str]) -> Report {
    let mut draft = report.next_version(trilat_node::now());
    draft.marking = Marking::new("UNCLASSIFIED", Tlp::Green, rel_to.iter().copied());
    draft.payload["object"] = Value::String(
        draft.payload["object"]
            .as_str()
            .unwrap()
            .replace("bad address", "bad address, US-Japan attribution"),
    );
    trilat_node::publish(usa, draft).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_narrowing_version_withdraws_the_report_from_the_parties_it_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let (usa_state, jpn_state, kor_state) = (
        cluster.state("USA"),
        cluster.state("JPN"),
        cluster.state("KOR"),
    );
    let jpn = api(&cluster, "JPN", "JPN", Role::Reader);
    let kor = api(&cluster, "KOR", "KOR", Role::Reader);
    let kor_stream = kor.subscribe(false).await;

    let first = trilat_node::publish(usa_state, indicator_draft(&["USA", "JPN", "KOR"]))
        .await
        .unwrap();
    for (reader, name) in [(&jpn, "JPN"), (&kor, "KOR")] {
        eventually(&format!("{name} holds version 1"), || async {
            reader.report(&first.key()).await.is_some()
        })
        .await;
    }
    assert_eq!(taxii_ids(&kor).await, vec![INDICATOR.to_string()]);
    eventually("KOR's stream shows version 1", || async {
        kor_stream.lock().unwrap().iter().any(|r| r.id == first.id)
    })
    .await;

    let second = narrow(usa_state, &first, &["USA", "JPN"]).await;
    eventually("JPN gets version 2", || async {
        jpn.report(&first.key())
            .await
            .is_some_and(|r| r.version == 2)
    })
    .await;
    eventually("KOR records the withdrawal", || async {
        kor_state.store.withdrawal(&first.key()).unwrap().is_some()
    })
    .await;

    // KOR: version 1 kept, marked withdrawn, nothing of version 2.
    let withdrawal = kor_state.store.withdrawal(&first.key()).unwrap().unwrap();
    assert_eq!((withdrawal.id, withdrawal.version), (first.id, 2));
    assert_eq!(withdrawal.owner, party("USA"));
    assert_eq!(
        kor_state.store.history(&first.key()).unwrap(),
        vec![first.clone()]
    );
    let (status, body) = kor
        .get(&format!("/api/v1/reports/{}?history=true", first.key()))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["report"]["version"], 1);
    assert_eq!(body["withdrawal"]["version"], 2);
    assert_eq!(body["history"].as_array().unwrap().len(), 1);
    assert!(!body.to_string().contains("US-Japan attribution"));
    // Out of the listing (the console's data) and TAXII; auditors can ask.
    assert!(!listed(&kor, false).await.contains(&first.id.to_string()));
    assert!(listed(&kor, true).await.contains(&first.id.to_string()));
    assert!(
        taxii_ids(&kor).await.is_empty(),
        "KOR's TAXII still serves it"
    );
    // The stream never carried version 2 to KOR.
    assert!(kor_stream
        .lock()
        .unwrap()
        .iter()
        .all(|r| r.id != first.id || r.version == 1));

    // JPN: the new version, current, listed, in TAXII, no withdrawal.
    assert_eq!(jpn.report(&first.key()).await.unwrap(), second);
    assert!(jpn_state.store.withdrawal(&first.key()).unwrap().is_none());
    assert!(listed(&jpn, false).await.contains(&first.id.to_string()));
    assert_eq!(taxii_ids(&jpn).await, vec![INDICATOR.to_string()]);

    // Audited on both sides: USA sent KOR a withdrawal, KOR received one.
    let (usa, kor_party) = (party("USA"), party("KOR"));
    assert!(audited(usa_state, AuditAction::Withdraw, &first, &kor_party) >= 1);
    assert_eq!(
        audited(usa_state, AuditAction::Withdraw, &first, &party("JPN")),
        0
    );
    assert_eq!(audited(kor_state, AuditAction::Withdraw, &first, &usa), 1);
    for state in [usa_state, jpn_state, kor_state] {
        assert_eq!(state.store.verify_audit().unwrap().first_broken, None);
    }
}

/// A party that was down while a report was issued and narrowed away from
/// it pulls both late: it gets version 1 (released to it) with the
/// withdrawal in order, and its stream never announces the withdrawn copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_that_pulls_late_gets_the_withdrawal_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = cluster(dir.path()).await;
    let usa_state = cluster.state("USA").clone();
    let kor_node = cluster.take("KOR").unwrap();
    let kor_url = kor_node.url.clone();
    let kor_token = kor_node.reader_token(&party("KOR")).to_string();
    let kor_addr = kor_node.node.addr;
    drop(kor_node);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let first = trilat_node::publish(&usa_state, indicator_draft(&["USA", "JPN", "KOR"]))
        .await
        .unwrap();
    narrow(&usa_state, &first, &["USA", "JPN"]).await;
    let barrier = ReportDraft::new(
        party("USA"),
        Kind::new("note").unwrap(),
        Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]),
        serde_json::json!({"text": "after the narrowing"}),
        trilat_node::now(),
    );
    let barrier = trilat_node::publish(&usa_state, barrier).await.unwrap();

    let mut config = trilat_node::Config::load(&dir.path().join("KOR/trilat.toml")).unwrap();
    // Back on another peer address: USA's pushes of version 1, still
    // retried from before, cannot land; KOR gets everything by its pull.
    config.tls.listen = Some(crate::common::free_tcp_addr());
    let state = trilat_node::open(config).unwrap();
    let listener = tokio::net::TcpListener::bind(kor_addr).await.unwrap();
    let _kor = trilat_node::serve_on(state.clone(), listener)
        .await
        .unwrap();
    let kor = Api::new(&kor_url, &kor_token);
    let kor_stream = kor.subscribe(false).await;
    eventually("KOR catches up to the barrier", || async {
        state.store.get(&barrier.key()).unwrap().is_some()
    })
    .await;
    let withdrawal = state.store.withdrawal(&first.key()).unwrap();
    assert_eq!(withdrawal.map(|w| w.version), Some(2));
    assert!(state
        .store
        .get(&first.key())
        .unwrap()
        .is_none_or(|held| held.version == 1));
    assert!(!listed(&kor, false).await.contains(&first.id.to_string()));
    // KOR's pull may store the first barrier before its stream is open;
    // a second one, published now, is the stream's own sync point.
    let second = ReportDraft::new(
        party("USA"),
        Kind::new("note").unwrap(),
        Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]),
        serde_json::json!({"text": "after KOR is back"}),
        trilat_node::now(),
    );
    let second = trilat_node::publish(&usa_state, second).await.unwrap();
    eventually("KOR's stream shows the second barrier", || async {
        kor_stream
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.key() == second.key())
    })
    .await;
    assert!(kor_stream.lock().unwrap().iter().all(|r| r.id != first.id));
}
