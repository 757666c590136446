//! The TAXII 2.1 server of a node: discovery, POST then GET round trips,
//! the release rule on every record, media-type and body errors. Each node
//! runs on the test backend (`TRILAT_TEST_CLUSTER_BACKEND`: SQLite, or
//! PostgreSQL and NATS).

use serde_json::{json, Value};
use trilat_core::{Marking, NodeKey, Party, Policy, Tlp};
use trilat_cyber::marking::{tlp_marking_ref, trilat_definitions, Releasability};
use trilat_node::cluster::{BackendNode, ClusterBackend};
use trilat_node::config::{generate_token, token_sha256, Config, Limits, Role, TokenConfig};

const TAXII: &str = "application/taxii+json;version=2.1";
const COLLECTION: &str = "/taxii2/trilat/collections/trilat-cyber";

fn party(code: &str) -> Party {
    Party::new(code).unwrap()
}

/// The tokens of one USA node.
struct Tokens {
    analyst: String,
    reader: String,
    jpn: String,
}

/// One USA node with no `[taxii]` table (the default collection); tokens:
/// a USA analyst, a USA reader and a JPN reader.
async fn taxii_node(dir: &std::path::Path) -> (BackendNode, String, Tokens) {
    let (node, url, tokens, _) = taxii_node_with(dir, None, |_| {}).await;
    (node, url, tokens)
}

/// [`taxii_node`] with a `[taxii]` table, and `seed` run on the state
/// before serving; also returns the state.
async fn taxii_node_with(
    dir: &std::path::Path,
    taxii: Option<toml::Table>,
    seed: impl FnOnce(&trilat_node::AppState),
) -> (BackendNode, String, Tokens, trilat_node::AppState) {
    let tokens = Tokens {
        analyst: generate_token(),
        reader: generate_token(),
        jpn: generate_token(),
    };
    let token = |secret: &str, code: &str, role: Role, name: &str| TokenConfig {
        sha256: token_sha256(secret),
        party: party(code),
        role,
        name: name.into(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config {
        party: party("USA"),
        listen: addr,
        data_dir: dir.join("data"),
        key_file: dir.join("node.key"),
        policy: Policy::trilateral_default(),
        tls: Default::default(),
        peers: Vec::new(),
        parties: Vec::new(),
        tokens: vec![
            token(&tokens.analyst, "USA", Role::Analyst, "analyst"),
            token(&tokens.reader, "USA", Role::Reader, "reader"),
            token(&tokens.jpn, "JPN", Role::Reader, "jpn-reader"),
        ],
        limits: Limits::default(),
        taxii,
        engines: None,
        tak: Vec::new(),
        store: None,
        bus: None,
        bus_namespace: None,
        bus_tls: None,
    };
    let place = ClusterBackend::from_env()
        .unwrap()
        .place(&mut config)
        .unwrap();
    config.validate().unwrap();
    trilat_node::cluster::write_node_files(dir, &config, &NodeKey::generate()).unwrap();
    let state = trilat_node::open(config).unwrap();
    seed(&state);
    let node = place.serve_on(state.clone(), listener).await.unwrap();
    (node, format!("http://{addr}"), tokens, state)
}

struct Answer {
    status: u16,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        headers,
        body,
    }
}

async fn get(url: &str, path: &str, token: &str) -> Answer {
    send(
        reqwest::Client::new()
            .get(format!("{url}{path}"))
            .bearer_auth(token)
            .header("accept", TAXII),
    )
    .await
}

async fn post(url: &str, path: &str, token: &str, content_type: &str, body: String) -> Answer {
    send(
        reqwest::Client::new()
            .post(format!("{url}{path}"))
            .bearer_auth(token)
            .header("accept", TAXII)
            .header("content-type", content_type)
            .body(body),
    )
    .await
}

fn indicator(id: &str, modified: &str, marking_refs: &[String]) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": id,
        "created": "2026-01-02T03:04:05.000Z",
        "modified": modified,
        "name": "bad address",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-01-02T03:04:05.000Z",
        "object_marking_refs": marking_refs,
    })
}

fn releasability(level: &str, tlp: Tlp, rel_to: &[&str]) -> Releasability {
    Releasability::of(&Marking::new(level, tlp, rel_to.iter().copied()))
}

const SHARED: &str = "indicator--0a4b7c2e-1d3f-4e5a-8b6c-7d8e9f0a1b2c";
const USA_ONLY: &str = "indicator--1b5c8d3f-2e4a-4f6b-9c7d-8e9f0a1b2c3d";

/// An envelope: a TLP:GREEN indicator released to TRILAT and a TLP:RED one
/// released to USA only, with their marking definitions.
fn envelope() -> String {
    let trilat = releasability("CONFIDENTIAL", Tlp::Green, &["TRILAT"]);
    let usa = releasability("CONFIDENTIAL", Tlp::Red, &["USA"]);
    let mut objects: Vec<Value> = trilat_definitions()
        .iter()
        .map(|text| serde_json::from_str(text).unwrap())
        .collect();
    objects.push(serde_json::from_str(&trilat.marking_definition()).unwrap());
    objects.push(serde_json::from_str(&usa.marking_definition()).unwrap());
    objects.push(indicator(
        SHARED,
        "2026-01-02T03:04:05.000Z",
        &[
            tlp_marking_ref(Tlp::Green).to_string(),
            trilat.marking_ref(),
        ],
    ));
    objects.push(indicator(
        USA_ONLY,
        "2026-01-02T03:04:05.000Z",
        &[tlp_marking_ref(Tlp::Red).to_string(), usa.marking_ref()],
    ));
    json!({ "objects": objects }).to_string()
}

fn ids(envelope: &Value) -> Vec<String> {
    envelope["objects"]
        .as_array()
        .map(|objects| {
            objects
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn discovery_api_root_and_collections() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, url, tokens) = taxii_node(dir.path()).await;
    let answer = get(&url, "/taxii2/", &tokens.reader).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.content_type, TAXII);
    assert_eq!(answer.body["default"], "/taxii2/trilat/");
    assert_eq!(answer.body["api_roots"], json!(["/taxii2/trilat/"]));

    let answer = get(&url, "/taxii2/trilat/", &tokens.reader).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["versions"], json!([TAXII]));
    assert!(answer.body["max_content_length"].as_u64().unwrap() > 0);

    let answer = get(&url, "/taxii2/trilat/collections/", &tokens.reader).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let collection = &answer.body["collections"][0];
    assert_eq!(collection["alias"], "trilat-cyber");
    assert_eq!(collection["can_read"], true);
    assert_eq!(collection["can_write"], false, "a reader may not write");
    let id = collection["id"].as_str().unwrap().to_string();

    let answer = get(
        &url,
        &format!("/taxii2/trilat/collections/{id}/"),
        &tokens.analyst,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["can_write"], true);

    // Errors are TAXII error messages.
    let answer = get(&url, "/taxii2/nowhere/", &tokens.reader).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.content_type, TAXII);
    assert_eq!(answer.body["http_status"], "404");
    assert!(answer.body["title"].is_string());
    let answer = get(&url, "/taxii2/", "not-a-token").await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["http_status"], "401");
    let answer = send(
        reqwest::Client::new()
            .get(format!("{url}/taxii2/"))
            .bearer_auth(&tokens.reader)
            .header("accept", "text/html"),
    )
    .await;
    assert_eq!(answer.status, 406);
    assert_eq!(answer.body["http_status"], "406");
}

#[tokio::test]
async fn post_then_get_round_trip_with_the_release_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, url, tokens) = taxii_node(dir.path()).await;
    let objects = format!("{COLLECTION}/objects/");
    let answer = post(&url, &objects, &tokens.analyst, TAXII, envelope()).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.content_type, TAXII);
    let status = answer.body;
    assert_eq!(status["status"], "complete");
    assert_eq!(status["total_count"], 6);
    assert_eq!(status["failure_count"], 0, "{status}");
    assert_eq!(status["success_count"], 6);
    let status_id = status["id"].as_str().unwrap();
    let answer = get(
        &url,
        &format!("/taxii2/trilat/status/{status_id}/"),
        &tokens.analyst,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, status);

    // The owner's reader sees both indicators, byte for byte as posted.
    let answer = get(
        &url,
        &format!("{objects}?match[type]=indicator"),
        &tokens.reader,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.content_type, TAXII);
    let mut seen = ids(&answer.body);
    seen.sort();
    assert_eq!(seen, vec![SHARED.to_string(), USA_ONLY.to_string()]);
    assert_eq!(answer.body["more"], false);
    assert!(answer.headers.contains_key("x-taxii-date-added-first"));
    assert!(answer.headers.contains_key("x-taxii-date-added-last"));
    let red = answer.body["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == USA_ONLY)
        .unwrap();
    assert_eq!(red["pattern"], "[ipv4-addr:value = '198.51.100.7']");

    // JPN does not see the TLP:RED, USA-only indicator, anywhere.
    let answer = get(
        &url,
        &format!("{objects}?match[type]=indicator"),
        &tokens.jpn,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(ids(&answer.body), vec![SHARED.to_string()]);
    let answer = get(&url, &format!("{objects}{USA_ONLY}/"), &tokens.jpn).await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    let answer = get(&url, &format!("{objects}{USA_ONLY}/versions/"), &tokens.jpn).await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    let answer = get(&url, &format!("{COLLECTION}/manifest/"), &tokens.jpn).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let manifest_ids: Vec<&str> = answer.body["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(manifest_ids.contains(&SHARED));
    assert!(!manifest_ids.contains(&USA_ONLY));

    // A new version, then versions and match[version].
    let trilat = releasability("CONFIDENTIAL", Tlp::Green, &["TRILAT"]);
    let v2 = indicator(
        SHARED,
        "2026-02-01T00:00:00.000Z",
        &[
            tlp_marking_ref(Tlp::Green).to_string(),
            trilat.marking_ref(),
        ],
    );
    let mut definitions: Vec<Value> =
        vec![serde_json::from_str(&trilat.marking_definition()).unwrap()];
    definitions.push(v2);
    let body = json!({ "objects": definitions }).to_string();
    let answer = post(&url, &objects, &tokens.analyst, TAXII, body).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.body["failure_count"], 0, "{}", answer.body);
    let answer = get(&url, &format!("{objects}{SHARED}/versions/"), &tokens.jpn).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["versions"],
        json!(["2026-01-02T03:04:05.000Z", "2026-02-01T00:00:00.000Z"])
    );
    let answer = get(&url, &format!("{objects}{SHARED}/"), &tokens.jpn).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["objects"][0]["modified"],
        "2026-02-01T00:00:00.000Z"
    );
    let answer = get(
        &url,
        &format!("{objects}{SHARED}/?match[version]=all"),
        &tokens.jpn,
    )
    .await;
    assert_eq!(ids(&answer.body).len(), 2, "{}", answer.body);

    // Paging: one object a page, following next.
    let mut next: Option<String> = None;
    let mut pages = 0;
    let mut paged = Vec::new();
    loop {
        let path = match &next {
            Some(n) => format!("{objects}?match[type]=indicator&limit=1&next={n}"),
            None => format!("{objects}?match[type]=indicator&limit=1"),
        };
        let answer = get(&url, &path, &tokens.reader).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        paged.extend(ids(&answer.body));
        pages += 1;
        if answer.body["more"] != true {
            break;
        }
        next = Some(answer.body["next"].as_str().unwrap().to_string());
        assert!(pages < 10);
    }
    paged.sort();
    assert_eq!(paged, vec![SHARED.to_string(), USA_ONLY.to_string()]);
}

#[tokio::test]
async fn writes_need_the_media_type_a_good_body_and_an_analyst() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, url, tokens) = taxii_node(dir.path()).await;
    let objects = format!("{COLLECTION}/objects/");
    let answer = post(
        &url,
        &objects,
        &tokens.analyst,
        "application/json",
        envelope(),
    )
    .await;
    assert_eq!(answer.status, 415, "{}", answer.body);
    assert_eq!(answer.content_type, TAXII);
    assert_eq!(answer.body["http_status"], "415");
    let answer = post(&url, &objects, &tokens.analyst, TAXII, "{not json".into()).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["http_status"], "400");
    let answer = post(
        &url,
        &objects,
        &tokens.analyst,
        TAXII,
        r#"{"objects":[]}"#.into(),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let answer = post(&url, &objects, &tokens.reader, TAXII, envelope()).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(answer.body["http_status"], "403");
    let answer = post(&url, &objects, &tokens.jpn, TAXII, envelope()).await;
    assert_eq!(answer.status, 403, "{}", answer.body);

    // A bad object is refused on its own; the good one is stored.
    let good = indicator(SHARED, "2026-01-02T03:04:05.000Z", &[]);
    let body = json!({ "objects": [good, {"type": "indicator", "id": "indicator--nope"}] });
    let answer = post(&url, &objects, &tokens.analyst, TAXII, body.to_string()).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.body["success_count"], 1, "{}", answer.body);
    assert_eq!(answer.body["failure_count"], 1, "{}", answer.body);
    assert!(answer.body["failures"][0]["message"].is_string());

    // Unknown query parameters are a 400.
    let answer = get(&url, &format!("{objects}?colour=red"), &tokens.reader).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["http_status"], "400");
    let answer = get(
        &url,
        "/taxii2/trilat/collections/nope/objects/",
        &tokens.reader,
    )
    .await;
    assert_eq!(answer.status, 404, "{}", answer.body);
}

async fn delete(url: &str, path: &str, token: &str) -> Answer {
    send(
        reqwest::Client::new()
            .delete(format!("{url}{path}"))
            .bearer_auth(token)
            .header("accept", TAXII),
    )
    .await
}

const DELETABLE: &str = "/taxii2/trilat/collections/6a1c9e52-3b7d-4f08-8e2a-5c4d3b2a1f09";
const KEPT: &str = "/taxii2/trilat/collections/7b2d0f63-4c8e-4a19-9f3b-6d5e4c3b2a10";
const JPN_OWNED: &str = "indicator--2c6d9e4a-3f5b-4a7c-8d8e-9f0a1b2c3d4e";

/// Two collections over the same reports, one that allows deleting.
fn deleting_config() -> toml::Table {
    toml::from_str(
        r#"
[[api_roots]]
name = "trilat"
title = "Trilat"

[[collections]]
id = "6a1c9e52-3b7d-4f08-8e2a-5c4d3b2a1f09"
api_root = "trilat"
title = "Deletable"
tlp_max = "RED"
can_write = true
allow_delete = true

[[collections]]
id = "7b2d0f63-4c8e-4a19-9f3b-6d5e4c3b2a10"
api_root = "trilat"
title = "Kept"
tlp_max = "RED"
can_write = true
"#,
    )
    .unwrap()
}

/// Stores an indicator owned by JPN (as if federated in) in a USA node.
fn seed_jpn_indicator(state: &trilat_node::AppState) {
    let text = indicator(JPN_OWNED, "2026-01-02T03:04:05.000Z", &[]).to_string();
    let bundle = format!(
        r#"{{"type":"bundle","id":"bundle--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b","objects":[{text}]}}"#
    );
    let parsed = trilat_cyber::parse_bundle(&bundle, |_, _| {}).unwrap();
    let marking = Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]);
    let now = trilat_core::Timestamp::from_unix_ms(1_767_000_000_000);
    let outcome = trilat_cyber::import_bundle(&parsed, &party("JPN"), &marking, now);
    let report = outcome.drafts[0]
        .clone()
        .sign(&NodeKey::generate())
        .unwrap();
    let event = trilat_store::AuditEvent::new(now, "test", trilat_store::AuditAction::Receive)
        .report(report.key());
    state.store.put(&report, event).unwrap();
}

#[tokio::test]
async fn delete_revokes_own_objects_where_the_collection_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, url, tokens, state) =
        taxii_node_with(dir.path(), Some(deleting_config()), seed_jpn_indicator).await;
    let answer = post(
        &url,
        &format!("{DELETABLE}/objects/"),
        &tokens.analyst,
        TAXII,
        envelope(),
    )
    .await;
    assert_eq!(answer.body["failure_count"], 0, "{}", answer.body);
    let shared = format!("{DELETABLE}/objects/{SHARED}/");

    // Who may not delete, and where.
    let answer = delete(&url, &format!("{KEPT}/objects/{SHARED}/"), &tokens.analyst).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(answer.content_type, TAXII);
    assert!(answer.body["description"]
        .as_str()
        .unwrap()
        .contains("does not allow"));
    for token in [&tokens.reader, &tokens.jpn] {
        let answer = delete(&url, &shared, token).await;
        assert_eq!(answer.status, 403, "{}", answer.body);
    }
    let answer = delete(
        &url,
        &format!("{DELETABLE}/objects/{JPN_OWNED}/"),
        &tokens.analyst,
    )
    .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(
        answer.body["description"]
            .as_str()
            .unwrap()
            .contains("owner"),
        "{}",
        answer.body
    );
    let answer = delete(
        &url,
        &format!("{DELETABLE}/objects/indicator--3d7e0f5b-4a6c-4b8d-9e9f-0a1b2c3d4e5f/"),
        &tokens.analyst,
    )
    .await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    let answer = delete(&url, &format!("{shared}?limit=3"), &tokens.analyst).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let answer = delete(
        &url,
        &format!("{shared}?match[version]=2020-01-01T00:00:00.000Z"),
        &tokens.analyst,
    )
    .await;
    assert_eq!(answer.status, 404, "{}", answer.body);

    // The owner's analyst deletes: the report is revoked (a signed version).
    let answer = delete(
        &url,
        &format!("{shared}?match[version]=last"),
        &tokens.analyst,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let history = state
        .store
        .query(&trilat_store::ReportQuery {
            kind: Some(trilat_core::Kind::new("cyber.stix").unwrap()),
            include_revoked: true,
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    let revoked: Vec<_> = history.reports.iter().filter(|r| r.revoked).collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].payload["stix_id"], SHARED);
    assert!(revoked[0].verify(&state.key.public_key()).is_ok());

    // Gone everywhere, for everyone; the other objects stay.
    for token in [&tokens.reader, &tokens.jpn] {
        let answer = get(&url, &format!("{DELETABLE}/objects/"), token).await;
        assert!(
            !ids(&answer.body).contains(&SHARED.to_string()),
            "{}",
            answer.body
        );
        let answer = get(
            &url,
            &format!("{DELETABLE}/manifest/?match[version]=all"),
            token,
        )
        .await;
        assert!(!answer.body.to_string().contains(SHARED), "{}", answer.body);
        for path in [shared.clone(), format!("{shared}versions/")] {
            let answer = get(&url, &path, token).await;
            assert_eq!(answer.status, 404, "{path}: {}", answer.body);
        }
    }
    let answer = get(
        &url,
        &format!("{KEPT}/objects/?match[type]=indicator"),
        &tokens.reader,
    )
    .await;
    let mut seen = ids(&answer.body);
    seen.sort();
    assert_eq!(seen, vec![USA_ONLY.to_string(), JPN_OWNED.to_string()]);
    let answer = delete(&url, &shared, &tokens.analyst).await;
    assert_eq!(answer.status, 404, "{}", answer.body);
}

#[tokio::test]
async fn date_added_is_arrival_so_late_objects_with_old_versions_are_not_missed() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, url, tokens) = taxii_node(dir.path()).await;
    let objects = format!("{COLLECTION}/objects/");
    let answer = post(&url, &objects, &tokens.analyst, TAXII, envelope()).await;
    assert_eq!(answer.body["failure_count"], 0, "{}", answer.body);
    let answer = get(&url, &objects, &tokens.reader).await;
    let polled = answer.headers["x-taxii-date-added-last"]
        .to_str()
        .unwrap()
        .to_string();
    // Date added is now-ish, not the objects' 2026-01-02 `modified`.
    assert!(polled.as_str() > "2026-01-03", "{polled}");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    // An object arrives late, with a `modified` years before the last poll.
    let late = "indicator--4e8f1a6c-5b7d-4c9e-8f0a-1b2c3d4e5f60";
    let mut object = indicator(late, "2019-06-01T00:00:00.000Z", &[]);
    object["created"] = "2019-06-01T00:00:00.000Z".into();
    object["valid_from"] = "2019-06-01T00:00:00.000Z".into();
    let body = json!({ "objects": [object] }).to_string();
    let answer = post(&url, &objects, &tokens.analyst, TAXII, body).await;
    assert_eq!(answer.body["success_count"], 1, "{}", answer.body);
    let answer = get(
        &url,
        &format!("{objects}?added_after={polled}"),
        &tokens.reader,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(ids(&answer.body), vec![late.to_string()]);
    let first = answer.headers["x-taxii-date-added-first"].to_str().unwrap();
    assert!(first > polled.as_str(), "{first} after {polled}");
    let answer = get(
        &url,
        &format!("{COLLECTION}/manifest/?added_after={polled}"),
        &tokens.reader,
    )
    .await;
    assert_eq!(answer.body["objects"][0]["id"], late);
    assert_eq!(
        answer.body["objects"][0]["version"],
        "2019-06-01T00:00:00.000Z"
    );
    assert!(answer.body["objects"][0]["date_added"].as_str().unwrap() > polled.as_str());
}

#[tokio::test]
async fn nodes_of_one_process_keep_their_own_taxii_state() {
    // Two USA nodes whose configs are alike but for their data: before
    // TAXII state moved into each node's state, a status resource of one
    // was served by the other (keyed by party and configured address).
    let dir = tempfile::tempdir().unwrap();
    let analyst = generate_token();
    let mut urls = Vec::new();
    let mut nodes = Vec::new();
    for name in ["a", "b"] {
        let node_dir = dir.path().join(name);
        let mut config = Config {
            party: party("USA"),
            listen: "127.0.0.1:7999".parse().unwrap(),
            data_dir: node_dir.join("data"),
            key_file: node_dir.join("node.key"),
            policy: Policy::trilateral_default(),
            tls: Default::default(),
            peers: Vec::new(),
            parties: Vec::new(),
            tokens: vec![TokenConfig {
                sha256: token_sha256(&analyst),
                party: party("USA"),
                role: Role::Analyst,
                name: "analyst".into(),
            }],
            limits: Limits::default(),
            taxii: None,
            engines: None,
            tak: Vec::new(),
            store: None,
            bus: None,
            bus_namespace: None,
            bus_tls: None,
        };
        let place = ClusterBackend::from_env()
            .unwrap()
            .place(&mut config)
            .unwrap();
        config.validate().unwrap();
        trilat_node::cluster::write_node_files(&node_dir, &config, &NodeKey::generate()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}", listener.local_addr().unwrap()));
        let state = trilat_node::open(config).unwrap();
        nodes.push(place.serve_on(state, listener).await.unwrap());
    }
    let objects = format!("{COLLECTION}/objects/");
    let answer = post(&urls[0], &objects, &analyst, TAXII, envelope()).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let status = format!(
        "/taxii2/trilat/status/{}/",
        answer.body["id"].as_str().unwrap()
    );
    assert_eq!(get(&urls[0], &status, &analyst).await.status, 200);
    assert_eq!(get(&urls[1], &status, &analyst).await.status, 404);
    let answer = get(&urls[1], &objects, &analyst).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(ids(&answer.body).is_empty(), "{}", answer.body);
    let held = ids(&get(&urls[0], &objects, &analyst).await.body);
    assert!(held.contains(&SHARED.to_string()), "{held:?}");
}
