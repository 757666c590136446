//! The console's routes (`console_api`): the release preview checked
//! against what publishing then delivers across three live nodes,
//! acknowledgements under the release rule and fail-closed audit, peer
//! link status through an outage, the zones and the AIS picture.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::{json, Value};
use trilat_core::Report;
use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
use trilat_node::config::{generate_token, token_sha256, Limits, Role, TokenConfig};
use trilat_store::MemoryStore;

use crate::audit::AuditSwitch;
use crate::common::{eventually, jpn_config, party, Api};

/// The demo policy with GSOMIA narrowed to missile kinds and KOR's node
/// accredited only to CONFIDENTIAL, so every refusal reason can happen.
fn narrow_policy() -> trilat_core::Policy {
    let mut policy = demo_policy();
    for agreement in &mut policy.agreements {
        if agreement.name.starts_with("GSOMIA") {
            agreement.kinds = vec!["missile.*".into()];
        }
    }
    policy
        .accreditation
        .insert(party("KOR"), "CONFIDENTIAL".into());
    policy.validate().unwrap();
    policy
}

async fn cluster_with(dir: &std::path::Path, policy: trilat_core::Policy) -> Cluster {
    Cluster::start(ClusterSpec {
        parties: vec![party("USA"), party("JPN"), party("KOR")],
        dir: dir.to_path_buf(),
        ports: None,
        policy,
        limits: Limits {
            pull_interval_ms: 200,
            backoff_ms_min: 50,
            backoff_ms_max: 500,
            ..Limits::default()
        },
        engines: Default::default(),
    })
    .await
    .unwrap()
}

/// `party`'s reader at its own node.
fn reader_at_home(cluster: &Cluster, code: &str) -> Api {
    let node = cluster.node(code);
    Api::new(&node.url, node.reader_token(&party(code)))
}

fn admin(cluster: &Cluster, code: &str) -> Api {
    let node = cluster.node(code);
    Api::new(&node.url, node.admin_token())
}

fn marking(level: &str, tlp: &str, rel_to: &[&str]) -> Value {
    json!({"level": level, "tlp": tlp, "rel_to": rel_to, "further_sharing": "none"})
}

/// The preview's verdict per party: `Ok` or `Err(reason)`.
async fn preview(api: &Api, marking: &Value) -> BTreeMap<String, Result<(), String>> {
    let (status, body) = api
        .post(
            "/api/v1/release/preview",
            &json!({"marking": marking, "exercise": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let party = r["party"].as_str().unwrap().to_string();
            let verdict = if r["released"] == true {
                assert!(r.get("reason").is_none(), "{r}");
                Ok(())
            } else {
                let reason = r["reason"].as_str().unwrap().to_string();
                assert_eq!(english_of_code(r), reason, "the code says less: {r}");
                Err(reason)
            };
            (party, verdict)
        })
        .collect()
}

/// The English sentence a refusal's `reason_code` and `reason_values` stand
/// for (the console's en.json says the same): a client that translates the
/// code loses nothing the sentence says.
fn english_of_code(r: &Value) -> String {
    let v = |key: &str| {
        r["reason_values"][key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} in {r}"))
            .to_string()
    };
    match r["reason_code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code: {r}"))
    {
        "not_in_rel_to" => format!("{} is not in the releasability list", v("party")),
        "red_not_named" => format!(
            "TLP:RED requires {} to be named individually in rel_to",
            v("party")
        ),
        "no_agreement" => format!(
            "no sharing agreement covers {}→{} for {} at {}",
            v("owner"),
            v("party"),
            v("kind"),
            v("level")
        ),
        "not_accredited" => format!("{} is accredited below {}", v("party"), v("level")),
        "unknown_level" => format!("unknown classification level \"{}\"", v("level")),
        code => panic!("unexpected code {code}: {r}"),
    }
}

/// A recipient and the refusal reason expected (`None`: released).
type Expect = (&'static str, Option<&'static str>);

/// Whether `report` reached `code`'s node at all (its store, not a view).
fn held_by(cluster: &Cluster, code: &str, report: &Report) -> bool {
    cluster
        .state(code)
        .store
        .get(&report.key())
        .unwrap()
        .is_some()
}

/// The preview cannot lie: each marking is previewed, then published, and
/// who actually receives the report is what the preview said, for every
/// refusal reason the rule has.
#[tokio::test]
async fn preview_says_what_publish_then_does() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster_with(dir.path(), narrow_policy()).await;
    let cases: [(&str, Value, [Expect; 2]); 5] = [
        (
            "USA",
            marking("SECRET", "AMBER", &["USA", "JPN"]),
            [
                ("JPN", None),
                ("KOR", Some("KOR is not in the releasability list")),
            ],
        ),
        (
            "USA",
            marking("SECRET", "AMBER", &["TRILAT"]),
            [
                ("JPN", None),
                ("KOR", Some("KOR is accredited below SECRET")),
            ],
        ),
        (
            "USA",
            marking("CONFIDENTIAL", "RED", &["TRILAT", "JPN"]),
            [
                ("JPN", None),
                (
                    "KOR",
                    Some("TLP:RED requires KOR to be named individually in rel_to"),
                ),
            ],
        ),
        (
            "USA",
            marking("CONFIDENTIAL", "GREEN", &["TRILAT"]),
            [("JPN", None), ("KOR", None)],
        ),
        (
            "JPN",
            marking("SECRET", "AMBER", &["TRILAT"]),
            [
                ("USA", None),
                (
                    "KOR",
                    Some("no sharing agreement covers JPN→KOR for note at SECRET"),
                ),
            ],
        ),
    ];
    let mut published = Vec::new();
    for (owner, marking, expect) in &cases {
        // A reader may preview (it is not a write), of any party: KOR's
        // reader at the owner's node previews for the node's party.
        let node = cluster.node(owner);
        let kor_reader = Api::new(&node.url, node.reader_token(&party("KOR")));
        let seen = preview(&kor_reader, marking).await;
        assert_eq!(
            seen.len(),
            2,
            "{seen:?}: the node's own party is no recipient"
        );
        for (recipient, reason) in expect {
            let got = seen[*recipient].as_ref().err().map(String::as_str);
            assert_eq!(got, *reason, "{owner} {marking} → {recipient}");
        }
        let author = admin(&cluster, owner);
        let m = marking.clone();
        let rel_to: Vec<&str> = m["rel_to"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let report = author
            .post_note(
                "preview check",
                m["level"].as_str().unwrap(),
                m["tlp"].as_str().unwrap(),
                &rel_to,
            )
            .await;
        published.push((report, seen));
    }
    // Sentinels releasable everywhere: once they arrive, everything sent
    // earlier by their owners has had its chance to arrive too.
    let mut sentinels = Vec::new();
    for owner in ["USA", "JPN"] {
        sentinels.push(
            admin(&cluster, owner)
                .post_note("sentinel", "CONFIDENTIAL", "GREEN", &["TRILAT"])
                .await,
        );
    }
    for code in ["USA", "JPN", "KOR"] {
        for sentinel in &sentinels {
            let reader = reader_at_home(&cluster, code);
            let id = sentinel.key();
            eventually(&format!("sentinel at {code}"), || {
                let (reader, id) = (reader.clone(), id.clone());
                async move { reader.report(&id).await.is_some() }
            })
            .await;
        }
    }
    for (report, seen) in &published {
        for (recipient, verdict) in seen {
            let reader = reader_at_home(&cluster, recipient);
            let visible = reader.report(&report.key()).await.is_some();
            assert_eq!(
                visible,
                verdict.is_ok(),
                "{} {} → {recipient}: preview said {verdict:?}",
                report.owner,
                report.marking.banner()
            );
            assert_eq!(held_by(&cluster, recipient, report), verdict.is_ok());
        }
    }
}

#[tokio::test]
async fn preview_refuses_bad_input_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster_with(dir.path(), narrow_policy()).await;
    let api = reader_at_home(&cluster, "USA");
    for (body, needle) in [
        (
            json!({"marking": marking("TOP SECRET", "AMBER", &["USA"])}),
            "unknown classification level",
        ),
        (
            json!({"marking": marking("SECRET", "AMBER", &["NATO"])}),
            "NATO",
        ),
        (
            json!({"marking": {"level": "SECRET", "tlp": "PURPLE", "rel_to": [], "further_sharing": "none"}}),
            "PURPLE",
        ),
        (json!({"exercise": true}), "marking"),
        (
            json!({"marking": marking("SECRET", "AMBER", &["USA"]), "kind": "no.such.kind"}),
            "no.such.kind",
        ),
        (
            json!({"marking": marking("SECRET", "AMBER", &["USA"]), "colour": 1}),
            "colour",
        ),
    ] {
        let (status, error) = api.post("/api/v1/release/preview", &body).await;
        assert_eq!(status, 400, "{body} → {error}");
        assert_eq!(error["error"]["code"], "invalid_report", "{error}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
    }
    let no_token = Api::new(&api.url, "not-a-token");
    let (status, _) = no_token
        .post(
            "/api/v1/release/preview",
            &json!({"marking": marking("SECRET", "AMBER", &["USA"])}),
        )
        .await;
    assert_eq!(status, 401);
    // The kind matters: the same marking on a missile product reaches KOR
    // under GSOMIA at JPN, a note does not.
    let jpn = reader_at_home(&cluster, "JPN");
    let body = |kind: &str| json!({"marking": marking("CONFIDENTIAL", "AMBER", &["TRILAT"]), "kind": kind});
    let (_, note) = jpn.post("/api/v1/release/preview", &body("note")).await;
    let (_, track) = jpn
        .post("/api/v1/release/preview", &body("missile.track"))
        .await;
    assert_eq!(note["owner"], "JPN");
    assert_eq!(track["kind"], "missile.track");
    assert_eq!(note["banner"], "CONFIDENTIAL//REL TO TRILAT//TLP:AMBER");
    let kor = |answer: &Value| {
        answer["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["party"] == "KOR")
            .unwrap()["released"]
            .clone()
    };
    // TRILAT covers CONFIDENTIAL for every kind: both reach KOR.
    assert_eq!((kor(&note), kor(&track)), (json!(true), json!(true)));
}

/// An acknowledgement is audited; KOR never sees one of a USA–JPN report;
/// the listing is newest first; bad input is a 400.
#[tokio::test]
async fn acknowledgements_follow_the_release_rule() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster_with(dir.path(), narrow_policy()).await;
    let usa = admin(&cluster, "USA");
    let bilateral = usa
        .post_note("US-JPN only", "SECRET", "AMBER", &["USA", "JPN"])
        .await;
    let trilateral = usa
        .post_note("for all", "CONFIDENTIAL", "GREEN", &["TRILAT"])
        .await;
    let jpn_node = cluster.node("JPN");
    let jpn = Api::new(&jpn_node.url, jpn_node.reader_token(&party("JPN")));
    let kor_at_jpn = Api::new(&jpn_node.url, jpn_node.reader_token(&party("KOR")));
    for report in [&bilateral, &trilateral] {
        let id = report.key();
        let api = jpn.clone();
        eventually("report at JPN", || {
            let (api, id) = (api.clone(), id.clone());
            async move { api.report(&id).await.is_some() }
        })
        .await;
    }
    let ack_path = |report: &Report| format!("/api/v1/reports/{}/acknowledge", report.key());
    let (status, ack) = jpn.post(&ack_path(&bilateral), &json!({})).await;
    assert_eq!(status, 200, "{ack}");
    assert_eq!(ack["report_id"], bilateral.id.to_string());
    assert_eq!(ack["report_owner"], "USA");
    assert_eq!(ack["version"], 1);
    assert_eq!(ack["by"], "JPN:reader");
    assert!(ack["at"].as_str().unwrap().ends_with('Z'), "{ack}");
    let (status, ack) = jpn
        .post(&ack_path(&trilateral), &json!({"note": "seen on watch"}))
        .await;
    assert_eq!(status, 200, "{ack}");
    // KOR's reader at the same node may not acknowledge what it may not see.
    let (status, error) = kor_at_jpn.post(&ack_path(&bilateral), &json!({})).await;
    assert_eq!(status, 404, "{error}");
    let (status, _) = kor_at_jpn.post(&ack_path(&trilateral), &json!({})).await;
    assert_eq!(status, 200);

    let listed = |api: Api| async move {
        let (status, body) = api.get("/api/v1/acknowledgements?limit=100").await;
        assert_eq!(status, 200, "{body}");
        body["acknowledgements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["report_id"].as_str().unwrap().to_string(),
                    a["by"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let (b, t) = (bilateral.id.to_string(), trilateral.id.to_string());
    assert_eq!(
        listed(jpn.clone()).await,
        [
            (t.clone(), "KOR:reader".to_string()),
            (t.clone(), "JPN:reader".to_string()),
            (b.clone(), "JPN:reader".to_string()),
        ]
    );
    // KOR never sees the USA–JPN report's acknowledgement.
    assert_eq!(
        listed(kor_at_jpn.clone()).await,
        [
            (t.clone(), "KOR:reader".to_string()),
            (t.clone(), "JPN:reader".to_string()),
        ]
    );
    let (_, one) = jpn.get("/api/v1/acknowledgements?limit=1").await;
    assert_eq!(one["acknowledgements"].as_array().unwrap().len(), 1);

    // A new version is acknowledged as that version.
    let response = usa
        .client
        .put(format!("{}/api/v1/reports/{}", usa.url, bilateral.key()))
        .bearer_auth(&usa.token)
        .json(&json!({"kind": "note", "marking": marking("SECRET", "AMBER", &["USA", "JPN"]), "payload": {"text": "v2"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let id = bilateral.key();
    let api = jpn.clone();
    eventually("version 2 at JPN", || {
        let (api, id) = (api.clone(), id.clone());
        async move { api.report(&id).await.is_some_and(|r| r.version == 2) }
    })
    .await;
    let (_, ack) = jpn.post(&ack_path(&bilateral), &json!({})).await;
    assert_eq!(ack["version"], 2);

    // The audit log holds each acknowledgement and the refusal.
    let (status, audit) = admin(&cluster, "JPN").get("/api/v1/audit?limit=1000").await;
    assert_eq!(status, 200);
    let entries = audit["entries"].as_array().unwrap();
    let acks: Vec<&Value> = entries
        .iter()
        .filter(|e| e["event"]["action"] == "acknowledge")
        .collect();
    assert_eq!(acks.len(), 4, "{acks:?}");
    assert!(acks
        .iter()
        .any(|e| e["event"]["detail"] == "version 1: seen on watch"));
    assert!(entries.iter().any(|e| e["event"]["action"] == "refuse"
        && e["event"]["report_id"] == b
        && e["event"]["counterparty"] == "KOR"));

    // Bad input.
    for (path, body, status_expect, code) in [
        (
            "/api/v1/reports/USA/not-an-id/acknowledge".to_string(),
            json!({}),
            400,
            "invalid_id",
        ),
        (
            ack_path(&trilateral),
            json!({"colour": 1}),
            400,
            "invalid_json",
        ),
        (
            ack_path(&trilateral),
            json!({"note": "x".repeat(2000)}),
            400,
            "invalid_request",
        ),
        (
            "/api/v1/reports/USA/0192f0c8-3e1a-7cc4-9a2b-3c4d5e6f7a8b/acknowledge".to_string(),
            json!({}),
            404,
            "not_found",
        ),
    ] {
        let (status, error) = jpn.post(&path, &body).await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (status_expect, Some(code)),
            "{path} {error}"
        );
    }
    for query in ["limit=0", "limit=100000", "limit=x", "colour=1"] {
        let (status, error) = jpn.get(&format!("/api/v1/acknowledgements?{query}")).await;
        assert_eq!(status, 400, "{query}: {error}");
    }
    let (status, _) = Api::new(&jpn.url, "nope")
        .get("/api/v1/acknowledgements")
        .await;
    assert_eq!(status, 401);
}

/// Tokens of `roles` for JPN on one node; returns them by role.
fn tokens(roles: &[(&str, Role)]) -> (Vec<TokenConfig>, BTreeMap<(String, Role), String>) {
    let mut configs = Vec::new();
    let mut by_role = BTreeMap::new();
    for &(code, role) in roles {
        let token = generate_token();
        configs.push(TokenConfig {
            sha256: token_sha256(&token),
            party: party(code),
            role,
            name: format!("{role:?}").to_lowercase(),
        });
        by_role.insert((code.to_string(), role), token);
    }
    (configs, by_role)
}

/// If the audit entry cannot be written, the acknowledgement is not
/// answered as done, and the listing is not answered at all.
#[tokio::test]
async fn acknowledgement_fails_closed_when_the_audit_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (configs, tokens) = tokens(&[("JPN", Role::Reader), ("JPN", Role::Analyst)]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = jpn_config(dir.path(), addr, configs, None);
    let store = AuditSwitch::new(Arc::new(MemoryStore::new()));
    let state = trilat_node::AppState::new(config, trilat_core::NodeKey::generate(), store.clone());
    let _node = trilat_node::serve_on(state, listener).await.unwrap();
    let url = format!("http://{addr}");
    let analyst = Api::new(&url, &tokens[&("JPN".to_string(), Role::Analyst)]);
    let reader = Api::new(&url, &tokens[&("JPN".to_string(), Role::Reader)]);
    let report = analyst
        .post_note("warning", "CONFIDENTIAL", "AMBER", &["TRILAT"])
        .await;
    let path = format!("/api/v1/reports/{}/acknowledge", report.key());
    let (status, _) = reader.post(&path, &json!({})).await;
    assert_eq!(status, 200);
    store.fail_audit.store(true, Ordering::SeqCst);
    let (status, body) = reader.post(&path, &json!({})).await;
    assert_eq!(status, 500, "{body}");
    assert!(body.get("report_id").is_none(), "{body}");
    let (status, body) = reader.get("/api/v1/acknowledgements").await;
    assert_eq!(status, 500, "{body}");
    store.fail_audit.store(false, Ordering::SeqCst);
    let (status, body) = reader.get("/api/v1/acknowledgements").await;
    assert_eq!(status, 200, "{body}");
    // Only the acknowledgement that was recorded is listed.
    assert_eq!(body["acknowledgements"].as_array().unwrap().len(), 1);
}

/// Peers come up; a stopped peer goes down with the error named; the
/// others stay up.
#[tokio::test]
async fn peer_status_follows_the_links() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = cluster_with(dir.path(), demo_policy()).await;
    let jpn_node = cluster.node("JPN");
    // A reader of another party may look too (it is the node's health).
    let kor_at_jpn = Api::new(&jpn_node.url, jpn_node.reader_token(&party("KOR")));
    let peers = |api: Api| async move {
        let (status, body) = api.get("/api/v1/federation/peers").await;
        assert_eq!(status, 200, "{body}");
        body
    };
    let api = kor_at_jpn.clone();
    eventually("both peers up at JPN", || {
        let api = api.clone();
        async move {
            let body = peers(api).await;
            body["peers"].as_array().unwrap().iter().all(|p| {
                p["state"] == "up" && p["pull"]["behind"] == 0 && p["last_contact"].is_string()
            })
        }
    })
    .await;
    let body = peers(kor_at_jpn.clone()).await;
    assert_eq!(body["party"], "JPN");
    let parties: Vec<&str> = body["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["party"].as_str().unwrap())
        .collect();
    assert_eq!(parties, ["USA", "KOR"]);
    assert_eq!(body["peers"][1]["url"], cluster.node("KOR").peer_url);

    let kor = cluster.take("KOR").unwrap();
    kor.node.stop();
    drop(kor);
    let jpn_admin = admin(&cluster, "JPN");
    jpn_admin
        .post_note("while KOR is away", "CONFIDENTIAL", "GREEN", &["TRILAT"])
        .await;
    let api = kor_at_jpn.clone();
    eventually("KOR down at JPN, USA up", || {
        let api = api.clone();
        async move {
            let body = peers(api).await;
            let (usa, kor) = (&body["peers"][0], &body["peers"][1]);
            usa["state"] == "up"
                && kor["state"] == "down"
                && kor["pull"]["last_error"].is_string()
                && kor["push"]["last_error"].is_string()
        }
    })
    .await;
    let (status, _) = Api::new(&kor_at_jpn.url, "nope")
        .get("/api/v1/federation/peers")
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_leases_say_which_process_drives_each_link() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster_with(dir.path(), demo_policy()).await;
    let (status, body) = admin(&cluster, "JPN")
        .get("/api/v1/federation/leases")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["party"], "JPN");
    let this_process = body["this_process"].as_str().unwrap();
    assert!(
        this_process.starts_with(&format!("JPN-{}-", std::process::id())),
        "{this_process}"
    );
    let links: Vec<&Value> = body["leases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|lease| lease["name"].as_str().unwrap().starts_with("link:"))
        .collect();
    // Cluster::start returns once every node drives its links.
    let names: Vec<&str> = links.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["link:KOR", "link:USA"], "{body}");
    for link in links {
        assert_eq!(link["holder"], this_process, "{link}");
        assert_eq!(link["held"], true, "{link}");
        assert_eq!(link["this_process"], true, "{link}");
        assert!(link["remaining_ms"].as_u64().unwrap() > 0, "{link}");
        assert!(link["token"].as_u64().unwrap() >= 1, "{link}");
    }
    // The node's internals: for its administrators only.
    let (status, _) = reader_at_home(&cluster, "JPN")
        .get("/api/v1/federation/leases")
        .await;
    assert_eq!(status, 403);
}

/// One JPN node with engines and tokens of the given roles; waits for the
/// engines.
async fn engine_node(
    dir: &std::path::Path,
    engines: Value,
    roles: &[(&str, Role)],
) -> (trilat_node::Node, String, BTreeMap<(String, Role), String>) {
    let (configs, tokens) = tokens(roles);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = jpn_config(dir, addr, configs, Some(engines));
    trilat_node::cluster::write_node_files(dir, &config, &trilat_core::NodeKey::generate())
        .unwrap();
    let state = trilat_node::open(config).unwrap();
    let node = trilat_node::serve_on(state, listener).await.unwrap();
    let url = format!("http://{addr}");
    let ready = Api::new(&url, &tokens.values().next().unwrap().clone());
    eventually("engines ready", || {
        let api = ready.clone();
        async move { api.get("/api/v1/geo/zones").await.0 == 200 }
    })
    .await;
    (node, url, tokens)
}

#[tokio::test]
async fn zones_are_the_engines_zones_honestly_labelled() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, url, tokens) = engine_node(dir.path(), json!({}), &[("KOR", Role::Reader)]).await;
    // Zones are no one's feed data: a reader of any party may draw them.
    let api = Api::new(&url, &tokens[&("KOR".to_string(), Role::Reader)]);
    let response = api
        .client
        .get(format!("{url}/api/v1/geo/zones"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let bytes = response.bytes().await.unwrap();
    let collection: Value = serde_json::from_slice(&bytes).unwrap();
    // Written once, served the same after.
    let (_, again) = api.get("/api/v1/geo/zones").await;
    assert_eq!(again, collection);
    assert_eq!(collection["type"], "FeatureCollection");
    let features = collection["features"].as_array().unwrap();
    let kinds = [
        "territorial_sea",
        "contiguous_zone",
        "eez",
        "declared_area",
        "area_of_interest",
    ];
    for feature in features {
        let props = &feature["properties"];
        assert!(kinds.contains(&props["kind"].as_str().unwrap()), "{props}");
        assert_eq!(feature["geometry"]["type"], "MultiPolygon");
        // Every zone the default engines use is computed by trilat-geo.
        assert_eq!(props["approximate"], true, "{props}");
        assert!(
            props["source"].as_str().unwrap().contains("computed"),
            "{props}"
        );
    }
    let eez: Vec<&str> = features
        .iter()
        .filter(|f| f["properties"]["kind"] == "eez")
        .filter_map(|f| f["properties"]["party"].as_str())
        .collect();
    for party in ["JPN", "KOR", "PRK"] {
        assert!(eez.contains(&party), "{party} EEZ missing: {eez:?}");
    }
    assert!(features
        .iter()
        .any(|f| f["properties"]["kind"] == "declared_area"));
    // The AIS tracker uses the fixture, the missile engine the Natural Earth
    // data shipped with Trilat: two different JPN EEZs, each named by source.
    let jpn_eez = features.iter().find(|f| f["id"] == "JPN-eez").unwrap();
    assert_eq!(jpn_eez["properties"]["engines"], json!(["maritime"]));
    let missile_eez = features
        .iter()
        .find(|f| f["id"] == "missile/JPN-eez")
        .unwrap();
    assert_eq!(missile_eez["properties"]["engines"], json!(["missile"]));
    assert!(
        missile_eez["properties"]["source"]
            .as_str()
            .unwrap()
            .contains("shipped"),
        "{}",
        missile_eez["properties"]
    );
    eprintln!(
        "geo/zones: {} features, {} bytes",
        features.len(),
        bytes.len()
    );
    assert!(bytes.len() < 2 << 20, "{} bytes", bytes.len());
}

#[tokio::test]
async fn vessels_are_the_own_feed_with_trails() {
    let dir = tempfile::tempdir().unwrap();
    // MID table rows as the ITU publishes them (ITU-R M.585).
    let mids = dir.path().join("mids.csv");
    std::fs::write(
        &mids,
        "MID,Allocated_to\n352,Panama (Republic of)\n445,Democratic People's Republic of Korea\n",
    )
    .unwrap();
    let (_node, url, tokens) = engine_node(
        dir.path(),
        json!({"exercise": true, "ais": {"mid_table": mids}}),
        &[
            ("JPN", Role::Reader),
            ("JPN", Role::Analyst),
            ("KOR", Role::Admin),
        ],
    )
    .await;
    let token = |code: &str, role| tokens[&(code.to_string(), role)].clone();
    let analyst = Api::new(&url, &token("JPN", Role::Analyst));
    let reader = Api::new(&url, &token("JPN", Role::Reader));
    let (status, body) = reader.get("/api/v1/ais/vessels").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["total"].clone(), body["exercise"].clone()),
        (json!(0), json!(true))
    );

    let lines: Vec<String> = trilat_ais::synth::demo_scenario(1_764_000_000)
        .iter()
        .flat_map(|feed| feed.lines.iter().cloned())
        .collect();
    let response = analyst
        .client
        .post(format!("{url}/api/v1/ais/nmea"))
        .bearer_auth(&analyst.token)
        .body(lines.join("\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let (status, body) = reader.get("/api/v1/ais/vessels").await;
    assert_eq!(status, 200, "{body}");
    let total = body["total"].as_u64().unwrap();
    let vessels = body["vessels"].as_array().unwrap();
    assert!(total >= 2, "{body}");
    assert_eq!(vessels.len() as u64, total);
    let tanker = vessels
        .iter()
        .find(|v| v["mmsi"] == trilat_ais::synth::DEMO_TANKER_MMSI)
        .expect("the demo tanker");
    assert_eq!(tanker["name"], "A LI");
    assert_eq!(tanker["callsign"], "3EXY9");
    assert_eq!(tanker["ship_type"], "tanker");
    // A flag is an ISO code or nothing: Panama is not in the node's ISO table.
    assert_eq!(tanker["flag"], Value::Null);
    let dprk = vessels
        .iter()
        .find(|v| v["mmsi"] == trilat_ais::synth::DEMO_DPRK_MMSI)
        .expect("the demo DPRK-linked vessel");
    assert_eq!(dprk["flag"], "PRK");
    assert!(tanker["last_seen"].as_str().unwrap().ends_with('Z'));
    let trail = tanker["trail"].as_array().unwrap();
    assert!(
        !trail.is_empty() && trail.len() <= trilat_ais::track::RECENT_FIXES,
        "{trail:?}"
    );
    let times: Vec<i64> = trail.iter().map(|p| p[2].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let last = trail.last().unwrap();
    assert_eq!(
        (last[0].as_f64(), last[1].as_f64()),
        (tanker["lon"].as_f64(), tanker["lat"].as_f64())
    );
    // Most recently heard first.
    let seen: Vec<&str> = vessels
        .iter()
        .map(|v| v["last_seen"].as_str().unwrap())
        .collect();
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "{seen:?}");

    // bbox and limit.
    let (lat, lon) = trilat_ais::synth::DEMO_MEETING_POINT;
    let (_, near) = reader
        .get(&format!(
            "/api/v1/ais/vessels?bbox={},{},{},{}",
            lon - 0.5,
            lat - 0.5,
            lon + 0.5,
            lat + 0.5
        ))
        .await;
    assert!(near["vessels"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["mmsi"] == trilat_ais::synth::DEMO_TANKER_MMSI));
    let (_, far) = reader.get("/api/v1/ais/vessels?bbox=140,40,141,41").await;
    assert_eq!(far["total"], 0);
    let (_, one) = reader.get("/api/v1/ais/vessels?limit=1").await;
    assert_eq!(one["vessels"].as_array().unwrap().len(), 1);
    assert_eq!(one["total"], total);

    // since: only the vessels heard at or after a time; trail=false drops trails.
    let newest = &vessels[0];
    let newest_ms = newest["trail"].as_array().unwrap().last().unwrap()[2]
        .as_i64()
        .unwrap();
    let (status, recent) = reader
        .get(&format!(
            "/api/v1/ais/vessels?since={newest_ms}&trail=false"
        ))
        .await;
    assert_eq!(status, 200, "{recent}");
    assert_eq!(recent["total"], total);
    let recent = recent["vessels"].as_array().unwrap();
    assert!(
        recent.iter().any(|v| v["mmsi"] == newest["mmsi"]),
        "{recent:?}"
    );
    assert!(
        recent.iter().all(|v| v.get("trail").is_none()),
        "{recent:?}"
    );
    let older = vessels
        .iter()
        .filter(|v| v["last_seen"].as_str() < newest["last_seen"].as_str())
        .count();
    assert_eq!(recent.len(), vessels.len() - older);
    let (_, none) = reader
        .get(&format!("/api/v1/ais/vessels?since={}", newest_ms + 1))
        .await;
    assert_eq!(
        (none["total"].clone(), none["vessels"].clone()),
        (json!(total), json!([]))
    );

    // Another party's token, even an admin's, does not read JPN's feed.
    let (status, error) = Api::new(&url, &token("KOR", Role::Admin))
        .get("/api/v1/ais/vessels")
        .await;
    assert_eq!(status, 403, "{error}");
    for query in [
        "limit=0",
        "limit=10001",
        "bbox=1,2,3",
        "bbox=0,10,1,5",
        "bbox=a,b,c,d",
        "colour=1",
        "since=yesterday",
        "trail=maybe",
    ] {
        let (status, error) = reader.get(&format!("/api/v1/ais/vessels?{query}")).await;
        assert_eq!(status, 400, "{query}: {error}");
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    }
}
