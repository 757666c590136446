//! Mutual TLS between peers: only pinned certificates get through, plain
//! HTTP is refused, and a connection speaks for one party only.

use std::time::Duration;

use serde_json::json;
use trilat_core::{Kind, Marking, NodeKey, Report, ReportDraft, Tlp};
use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
use trilat_node::config::Limits;
use trilat_node::federation::auth::sign_request;
use trilat_node::federation::tls;
use trilat_node::now_ms;
use trilat_store::{AuditAction, ReportStore};

use crate::common::{eventually, party};

const TIMEOUT: Duration = Duration::from_secs(10);

/// USA and KOR, over mutual TLS (the cluster's default).
async fn two_nodes(dir: &std::path::Path) -> Cluster {
    Cluster::start(ClusterSpec {
        parties: vec![party("USA"), party("KOR")],
        dir: dir.to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: Limits::default(),
        engines: Default::default(),
    })
    .await
    .unwrap()
}

/// A note by USA for everyone, signed with USA's real key.
fn usa_note(key: &NodeKey, text: &str) -> Report {
    ReportDraft::new(
        party("USA"),
        Kind::new("note").unwrap(),
        Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]),
        json!({ "text": text }),
        trilat_node::now(),
    )
    .sign(key)
    .unwrap()
}

/// A push of `report` to `url` signed as `sender` with `key`, over `client`.
async fn push(
    client: &reqwest::Client,
    url: &str,
    sender: &str,
    key: &NodeKey,
    report: &Report,
) -> Result<(u16, serde_json::Value), reqwest::Error> {
    let body = serde_json::to_vec(&json!({ "reports": [report] })).unwrap();
    let headers = sign_request(
        key,
        &party(sender),
        "POST",
        "/peer/v1/push",
        &body,
        now_ms(),
    );
    let mut request = client
        .post(format!("{url}/peer/v1/push"))
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or_default()))
}

fn refusals(store: &dyn ReportStore) -> Vec<(String, String)> {
    store
        .audit(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action == AuditAction::Refuse)
        .map(|e| (e.event.actor, e.event.detail))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_with_an_unpinned_certificate_is_refused_at_the_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = two_nodes(dir.path()).await;
    let (usa, kor) = (cluster.node("USA"), cluster.node("KOR"));
    let usa_key = cluster.state("USA").key.clone();
    let kor_state = cluster.state("KOR").clone();
    let kor_pin = tls::parse_pin(&kor.cert_sha256).unwrap();

    // Someone with USA's signing key but a certificate of their own: every
    // request is signed correctly, yet the handshake fails.
    let rogue_dir = tempfile::tempdir().unwrap();
    let (cert, key) = (
        rogue_dir.path().join("rogue.crt"),
        rogue_dir.path().join("rogue.key"),
    );
    let rogue_sha256 = tls::write_identity(&party("USA"), &cert, &key).unwrap();
    assert_ne!(rogue_sha256, usa.cert_sha256);
    let rogue = tls::Identity::load(&cert, &key).unwrap();
    let client = tls::peer_client(&rogue, &party("KOR"), kor_pin, TIMEOUT).unwrap();
    let report = usa_note(&usa_key, "from an unpinned certificate");
    let refused = push(&client, &kor.peer_url, "USA", &usa_key, &report).await;
    assert!(refused.is_err(), "answered: {refused:?}");

    // No certificate at all.
    let anonymous = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    let refused = push(&anonymous, &kor.peer_url, "USA", &usa_key, &report).await;
    assert!(refused.is_err(), "answered: {refused:?}");

    // Nothing stored; both refusals audited, the first naming the
    // certificate that was presented.
    eventually("the refused handshakes audited", || {
        let store = kor_state.store.clone();
        async move { refusals(store.as_ref()).len() >= 2 }
    })
    .await;
    assert_eq!(kor_state.store.get(&report.key()).unwrap(), None);
    let refused = refusals(kor_state.store.as_ref());
    assert!(
        refused
            .iter()
            .any(|(actor, detail)| actor.starts_with("tls:")
                && detail.contains(&rogue_sha256)
                && detail.contains("not pinned")),
        "{refused:#?}"
    );
    assert!(
        refused
            .iter()
            .any(|(_, detail)| detail.contains("no certificates")),
        "{refused:#?}"
    );

    // USA's own certificate gets the same report through.
    let client = usa.peer_client_to(kor).unwrap();
    let (status, summary) = push(&client, &kor.peer_url, "USA", &usa_key, &report)
        .await
        .unwrap();
    assert_eq!(
        (status, summary["stored"].as_u64()),
        (200, Some(1)),
        "{summary}"
    );
    assert!(kor_state.store.get(&report.key()).unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_refused_handshakes_is_audited_within_its_bound() {
    use trilat_node::federation::refusals::REFUSALS_AUDITED_PER_WINDOW;
    let dir = tempfile::tempdir().unwrap();
    let cluster = two_nodes(dir.path()).await;
    let kor = cluster.node("KOR");
    let usa_key = cluster.state("USA").key.clone();
    let kor_state = cluster.state("KOR").clone();
    let report = usa_note(&usa_key, "from nobody");
    let anonymous = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    let flood = REFUSALS_AUDITED_PER_WINDOW as usize + 15;
    for _ in 0..flood {
        let refused = push(&anonymous, &kor.peer_url, "USA", &usa_key, &report).await;
        assert!(refused.is_err(), "answered: {refused:?}");
    }
    let one_by_one = |store: &dyn ReportStore| {
        refusals(store)
            .into_iter()
            .filter(|(actor, _)| actor.starts_with("tls:") && actor != "tls:refusals")
            .count()
    };
    eventually("the first refusals audited one by one", || {
        let store = kor_state.store.clone();
        async move { one_by_one(store.as_ref()) >= REFUSALS_AUDITED_PER_WINDOW as usize }
    })
    .await;
    // The rest are counted for the window's summary, not audited each.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        one_by_one(kor_state.store.as_ref()),
        REFUSALS_AUDITED_PER_WINDOW as usize
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_the_pinned_certificate_is_refused_by_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = two_nodes(dir.path()).await;
    let (usa, kor) = (cluster.node("USA"), cluster.node("KOR"));
    let usa_key = cluster.state("USA").key.clone();
    let usa_identity = tls::Identity::of_config(&cluster.state("USA").config).unwrap();
    // USA dials KOR's peer listener expecting another certificate (its own).
    let wrong_pin = tls::parse_pin(&usa.cert_sha256).unwrap();
    let client = tls::peer_client(&usa_identity, &party("KOR"), wrong_pin, TIMEOUT).unwrap();
    let report = usa_note(&usa_key, "to a server with the wrong certificate");
    let error = push(&client, &kor.peer_url, "USA", &usa_key, &report)
        .await
        .unwrap_err();
    let text = tls::error_chain(&error);
    assert!(
        text.contains(&kor.cert_sha256) && text.contains("not the one pinned for KOR"),
        "{text}"
    );
    assert_eq!(cluster.state("KOR").store.get(&report.key()).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_between_peers_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = two_nodes(dir.path()).await;
    let kor = cluster.node("KOR");
    let kor_state = cluster.state("KOR").clone();
    let usa_key = cluster.state("USA").key.clone();
    let report = usa_note(&usa_key, "over plain HTTP");
    // A correctly signed push to the API listener, in the clear.
    let (status, error) = push(&reqwest::Client::new(), &kor.url, "USA", &usa_key, &report)
        .await
        .unwrap();
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["error"]["code"], "plain_http_refused");
    // A plain request to the peer listener gets no HTTP answer at all.
    let plain_url = kor.peer_url.replace("https://", "http://");
    let answered = push(
        &reqwest::Client::new(),
        &plain_url,
        "USA",
        &usa_key,
        &report,
    )
    .await;
    assert!(
        answered.is_err() || answered.as_ref().is_ok_and(|(s, _)| *s >= 400),
        "{answered:?}"
    );
    assert_eq!(kor_state.store.get(&report.key()).unwrap(), None);
    // And the report travels when published, over TLS.
    let usa_state = cluster.state("USA").clone();
    let published = trilat_node::publish(&usa_state, {
        ReportDraft::new(
            party("USA"),
            Kind::new("note").unwrap(),
            Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]),
            json!({ "text": "over mutual TLS" }),
            trilat_node::now(),
        )
    })
    .await
    .unwrap();
    eventually("the published note at KOR", || {
        let (store, key) = (kor_state.store.clone(), published.key());
        async move { store.get(&key).unwrap().is_some() }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_speaks_for_the_party_of_its_certificate_only() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(ClusterSpec {
        parties: vec![party("USA"), party("JPN"), party("KOR")],
        dir: dir.path().to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: Limits::default(),
        engines: Default::default(),
    })
    .await
    .unwrap();
    let kor = cluster.node("KOR");
    let kor_state = cluster.state("KOR").clone();
    let usa_key = cluster.state("USA").key.clone();
    // JPN's connection carrying a request signed by USA's key (as if JPN
    // held it): refused before the signature is looked at.
    let jpn_to_kor = cluster.node("JPN").peer_client_to(kor).unwrap();
    let report = usa_note(&usa_key, "USA's words on JPN's connection");
    let (status, error) = push(&jpn_to_kor, &kor.peer_url, "USA", &usa_key, &report)
        .await
        .unwrap();
    assert_eq!(status, 403, "{error}");
    assert_eq!(kor_state.store.get(&report.key()).unwrap(), None);
    let refused = refusals(kor_state.store.as_ref());
    assert!(
        refused.iter().any(|(actor, detail)| actor == "peer:JPN"
            && detail.contains("claims USA on a connection authenticated as JPN")),
        "{refused:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_its_certificate_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = two_nodes(dir.path()).await;
    let kor = cluster.take("KOR").unwrap();
    kor.node.stop();
    drop(kor);
    let mut config = trilat_node::Config::load(&dir.path().join("KOR/trilat.toml")).unwrap();
    std::fs::remove_file(&config.tls.cert_file).unwrap();
    // A fresh peer port: the stopped node may not have let go of its own yet.
    config.tls.listen = Some("127.0.0.1:0".parse().unwrap());
    let state = trilat_node::open(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let error = trilat_node::serve_on(state, listener)
        .await
        .err()
        .expect("started without a certificate");
    let text = error.to_string();
    assert!(text.contains("node-tls.crt"), "{text}");
}
