//! Suspending and resuming a federation link (an exercise's
//! `link_outage`): nothing crosses while it is cut, everything catches up
//! once it is restored, only an admin may cut it, and both are audited.

use std::time::Duration;

use serde_json::json;
use trilat_node::cluster::Cluster;
use trilat_node::config::Role;
use trilat_store::AuditAction;

use crate::common::{cluster, eventually, party, Api};

fn api(cluster: &Cluster, node: &str, as_party: &str, role: Role) -> Api {
    let n = cluster.node(node);
    Api::new(&n.url, &n.tokens[&(party(as_party), role)])
}

/// The state `api`'s node shows for its link to `peer`.
async fn link_state(api: &Api, peer: &str) -> String {
    let (status, body) = api.get("/api/v1/federation/peers").await;
    assert_eq!(status, 200, "{body}");
    let peers = body["peers"].as_array().unwrap();
    let view = peers.iter().find(|p| p["party"] == peer).unwrap();
    view["state"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_link_carries_nothing_and_catches_up_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let usa = api(&cluster, "USA", "USA", Role::Admin);
    let jpn = api(&cluster, "JPN", "JPN", Role::Admin);
    let kor = api(&cluster, "KOR", "KOR", Role::Reader);

    // Only an admin of the node may cut a link, and only to a peer.
    let usa_reader = api(&cluster, "USA", "USA", Role::Reader);
    let (status, body) = usa_reader
        .post("/api/v1/federation/peers/JPN/suspend", &json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = usa
        .post("/api/v1/federation/peers/GBR/suspend", &json!({}))
        .await;
    assert_eq!(status, 404, "{body}");

    // Both ends, as the exercise runner plays a link_outage.
    let (status, body) = usa
        .post("/api/v1/federation/peers/JPN/suspend", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["suspended"], true);
    assert_eq!(body["changed"], true);
    let (status, body) = jpn
        .post("/api/v1/federation/peers/USA/suspend", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(link_state(&usa, "JPN").await, "suspended");
    assert_eq!(link_state(&jpn, "USA").await, "suspended");
    assert_ne!(link_state(&usa, "KOR").await, "suspended");

    // USA–JPN only, so KOR cannot relay it.
    let secret = usa
        .post_note(
            "for Japan, during the outage",
            "SECRET",
            "AMBER",
            &["USA", "JPN"],
        )
        .await;
    let barrier = usa
        .post_note(
            "for all, during the outage",
            "UNCLASSIFIED",
            "GREEN",
            &["TRILAT"],
        )
        .await;
    eventually("KOR, whose link is up, sees the barrier", || async {
        kor.report(&barrier.key()).await.is_some()
    })
    .await;
    // Several pull rounds (200 ms) and pushes would have carried it by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        jpn.report(&secret.key()).await.is_none(),
        "the note crossed a suspended link"
    );
    assert!(jpn.report(&barrier.key()).await.is_none());

    let (status, body) = usa
        .post("/api/v1/federation/peers/JPN/resume", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["suspended"], false);
    let (status, body) = jpn
        .post("/api/v1/federation/peers/USA/resume", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    eventually("JPN catches up after the resume", || async {
        jpn.report(&secret.key()).await.is_some()
    })
    .await;
    assert_eq!(jpn.report(&secret.key()).await.unwrap(), secret);
    assert_ne!(link_state(&usa, "JPN").await, "suspended");

    // Who, which peer, when: both entries, in order, on each side.
    for (node, peer, actor) in [("USA", "JPN", "USA:"), ("JPN", "USA", "JPN:")] {
        let audit = cluster.state(node).store.audit(0, 1000).unwrap();
        let link: Vec<_> = audit
            .iter()
            .map(|e| &e.event)
            .filter(|e| e.action == AuditAction::Other && e.detail.starts_with("federation link"))
            .collect();
        let details: Vec<&str> = link.iter().map(|e| e.detail.as_str()).collect();
        assert_eq!(
            details,
            ["federation link suspended", "federation link resumed"],
            "{node}"
        );
        for event in link {
            assert_eq!(event.counterparty, Some(party(peer)), "{node}");
            assert!(event.actor.starts_with(actor), "{node}: {}", event.actor);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_cut_at_the_receiving_end_alone_refuses_the_sender() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let usa = api(&cluster, "USA", "USA", Role::Admin);
    let jpn = api(&cluster, "JPN", "JPN", Role::Admin);

    let (status, body) = jpn
        .post("/api/v1/federation/peers/USA/suspend", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let secret = usa
        .post_note(
            "for Japan, refused at the door",
            "SECRET",
            "AMBER",
            &["USA", "JPN"],
        )
        .await;
    // USA's push is answered 503 link_suspended and shows as its error.
    eventually("USA sees JPN refuse its push", || async {
        let (_, body) = usa.get("/api/v1/federation/peers").await;
        body["peers"].as_array().unwrap().iter().any(|p| {
            p["party"] == "JPN"
                && p["push"]["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("503"))
        })
    })
    .await;
    assert!(jpn.report(&secret.key()).await.is_none());

    let (status, body) = jpn
        .post("/api/v1/federation/peers/USA/resume", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    eventually("JPN catches up after the resume", || async {
        jpn.report(&secret.key()).await.is_some()
    })
    .await;
}

/// A cut is kept in the store: it outlives a restart of the node, and on
/// a store shared by several processes of the node (PostgreSQL, the second
/// pass) a second process follows a cut or a restore made at the first
/// within a few seconds: the process serving the peer or driving the link
/// need not be the one that took the administrator's request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_outlives_a_restart_and_holds_at_every_process_of_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = cluster(dir.path()).await;
    let usa = api(&cluster, "USA", "USA", Role::Admin);
    let token = cluster.node("USA").admin_token().to_string();
    let (status, body) = usa
        .post("/api/v1/federation/peers/JPN/suspend", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let config = (*cluster.state("USA").config).clone();

    let shared_store = config
        .store
        .as_ref()
        .is_some_and(|store| store.as_str().starts_with("postgres"));
    if shared_store {
        let second = serve_free(config.clone()).await;
        let usa2 = Api::new(&format!("http://{}", second.addr), &token);
        assert_eq!(link_state(&usa2, "JPN").await, "suspended");
        assert_ne!(link_state(&usa2, "KOR").await, "suspended");
        let (status, body) = usa
            .post("/api/v1/federation/peers/JPN/resume", &json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        eventually("the second process follows the restore", || async {
            link_state(&usa2, "JPN").await != "suspended"
        })
        .await;
        let (status, body) = usa2
            .post("/api/v1/federation/peers/JPN/suspend", &json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["changed"], true, "{body}");
        eventually("the first process follows the cut", || async {
            link_state(&usa, "JPN").await == "suspended"
        })
        .await;
        second.stop();
    }

    let old = cluster.take("USA").unwrap();
    old.node.stop();
    drop(old);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let restarted = serve_free(config).await;
    let usa = Api::new(&format!("http://{}", restarted.addr), &token);
    assert_eq!(link_state(&usa, "JPN").await, "suspended");
    assert_ne!(link_state(&usa, "KOR").await, "suspended");
    let (status, body) = usa
        .post("/api/v1/federation/peers/JPN/resume", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changed"], true, "{body}");
    assert_ne!(link_state(&usa, "JPN").await, "suspended");
}

/// Opens the node of `config` and serves its API on a free port (no peer
/// listener: the first process may still hold the configured one).
async fn serve_free(config: trilat_node::Config) -> trilat_node::Node {
    let state = trilat_node::open(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    trilat_node::serve_with(state, listener, None)
        .await
        .unwrap()
}
