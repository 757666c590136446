//! `trilat migrate` on a store a real node wrote: KOR's node, one of three
//! federated nodes, holds reports, new versions, revocations, withdrawals
//! (USA narrowed reports KOR held) and its audit log; the binary copies its
//! SQLite store into PostgreSQL, and KOR's node started on the copy answers
//! as before (listing, withdrawals, a change-feed cursor issued before the
//! move, `trilat audit verify`). A second run into the filled store is
//! refused. The database password never appears in the output.
//!
//! Needs a PostgreSQL server: `TRILAT_TEST_POSTGRES` (scripts/test and
//! .ci/run start one); without it the test says so and passes, under
//! `CI=true` it fails.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use trilat_core::{Marking, Party, ReportDraft, Tlp};
use trilat_node::client::NodeClient;
use trilat_node::cluster::{demo_policy, Cluster, ClusterBackend, ClusterSpec};
use trilat_node::config::{Limits, Role};
use trilat_store::{PostgresStore, ReportStore, QUERY_LIMIT_MAX};

mod support;

const TRILAT: &str = env!("CARGO_BIN_EXE_trilat");
/// Put in the URL to check that it is never printed (the test server
/// trusts loopback connections, so any password is accepted).
const PASSWORD: &str = "s3cret-migrate-test";

/// The test server's URL with [`PASSWORD`] in it, or `None` (after saying
/// so) when no server is configured.
fn postgres_url() -> Option<String> {
    let url = support::postgres_or_skip("migrate", "trilat migrate")?;
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (user, host) = rest.split_once('@').expect("postgres://USER@HOST…");
    Some(format!("{scheme}://{user}:{PASSWORD}@{host}"))
}

fn party(code: &str) -> Party {
    Party::new(code).unwrap()
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// USA's notes to the three parties, new versions of some, two narrowed to
/// USA and JPN (KOR gets the withdrawals) and one revoked; waits until KOR
/// holds all of it.
async fn write_history(cluster: &Cluster) {
    let usa = cluster.state("USA");
    let mut reports = Vec::new();
    for i in 0..12 {
        let draft = ReportDraft::new(
            party("USA"),
            trilat_core::Kind::new("note").unwrap(),
            Marking::new("UNCLASSIFIED", Tlp::Green, ["USA", "JPN", "KOR"]),
            serde_json::json!({"text": format!("tanker {i} dark for 6 h")}),
            trilat_node::now(),
        );
        reports.push(trilat_node::publish(usa, draft).await.unwrap());
    }
    for report in &reports[..4] {
        let mut next = report.next_version(trilat_node::now());
        next.payload = serde_json::json!({"text": "seen again"});
        trilat_node::publish(usa, next).await.unwrap();
    }
    for report in &reports[4..6] {
        let mut next = report.next_version(trilat_node::now());
        next.marking = Marking::new("UNCLASSIFIED", Tlp::Green, ["USA", "JPN"]);
        trilat_node::publish(usa, next).await.unwrap();
    }
    let revocation = reports[6].revocation(trilat_node::now());
    trilat_node::publish(usa, revocation).await.unwrap();
    let kor = &cluster.state("KOR").store;
    eventually("KOR holds the withdrawals and the revocation", || {
        kor.withdrawals(0, 10).unwrap().len() == 2
            && kor
                .get(&reports[6].key())
                .unwrap()
                .is_some_and(|r| r.revoked)
            && reports[..4].iter().all(|r| {
                kor.get(&r.key())
                    .unwrap()
                    .is_some_and(|held| held.version == 2)
            })
    })
    .await;
}

/// What KOR's reader sees: every report (revoked and withdrawn included),
/// the withdrawal log, and the change feed after `cursor`.
async fn reader_view(client: &NodeClient, cursor: &str) -> Value {
    let reports = client
        .get("/api/v1/reports?include_revoked=true&include_withdrawn=true&limit=1000")
        .await
        .unwrap();
    let withdrawals = client.get("/api/v1/withdrawals?limit=1000").await.unwrap();
    let changes = client
        .get(&format!("/api/v1/changes?cursor={cursor}&limit=1000"))
        .await
        .unwrap();
    serde_json::json!({
        "reports": reports["reports"],
        "withdrawals": withdrawals,
        "changes": changes["changes"],
    })
}

fn trilat(args: &[&str]) -> std::process::Output {
    Command::new(TRILAT).args(args).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_a_node_wrote_moves_to_postgres_and_the_node_runs_on_it() {
    let Some(url) = postgres_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    // On SQLite whatever TRILAT_TEST_CLUSTER_BACKEND says: the store moved
    // is an SQLite file.
    let spec = ClusterSpec {
        parties: ["USA", "JPN", "KOR"].map(party).to_vec(),
        dir: dir.path().to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: Limits::default(),
        engines: Default::default(),
    };
    let mut cluster = Cluster::start_on(spec, ClusterBackend::Sqlite)
        .await
        .unwrap();
    write_history(&cluster).await;
    let kor = cluster.take("KOR").unwrap();
    let reader_token = kor.tokens[&(party("KOR"), Role::Reader)].clone();
    let admin_token = kor.admin_token().to_string();
    drop(kor);
    drop(cluster);

    // KOR's node alone on its SQLite store, its partners gone: what it
    // answers now is exactly what the store to be moved holds (taken while
    // the cluster ran, a late pull or push could land after the snapshot).
    let config_path = dir.path().join("KOR/trilat.toml");
    let node = serve_alone(&config_path, None).await;
    let reader = NodeClient::new(&format!("http://{}", node.addr), &reader_token);
    // A cursor a client got from the node before the move.
    let first_page = reader.get("/api/v1/changes?limit=5").await.unwrap();
    let cursor = first_page["next"].as_str().unwrap().to_string();
    let before = reader_view(&reader, &cursor).await;
    let sqlite_path = dir.path().join("KOR/data/trilat.sqlite3");
    drop(node);

    // An empty store in a schema of its own, named in the URL.
    let schema = format!("migrate_{:016x}", rand_u64());
    drop(PostgresStore::open_in_schema(&url, &schema).unwrap());
    let destination = format!("{url}?options=-c%20search_path%3D{schema}");
    let from = format!("sqlite:{}", sqlite_path.display());
    let out = trilat(&["migrate", "--from", &from, "--to", &destination]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("verified in both stores"), "{stdout}");
    assert!(stdout.contains("2 in the withdrawal log"), "{stdout}");
    assert!(
        !format!("{stdout}{stderr}").contains(PASSWORD),
        "{stdout}{stderr}"
    );

    // The same history, chain and cursors in PostgreSQL.
    let copy = PostgresStore::open_in_schema(&url, &schema).unwrap();
    let source = trilat_store::SqliteStore::open(&sqlite_path).unwrap();
    assert_eq!(
        copy.audit_last_seq().unwrap(),
        source.audit_last_seq().unwrap()
    );
    assert_eq!(copy.verify_audit().unwrap().first_broken, None);
    assert_eq!(
        copy.audit(0, QUERY_LIMIT_MAX).unwrap(),
        source.audit(0, QUERY_LIMIT_MAX).unwrap()
    );

    // A second run: the destination is not empty any more.
    let again = trilat(&["migrate", "--from", &from, "--to", &destination]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not empty"), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");

    // KOR's node on the copy: its config with the PostgreSQL store.
    let node = serve_alone(&config_path, Some(&destination)).await;
    let url_kor = format!("http://{}", node.addr);
    let after = reader_view(&NodeClient::new(&url_kor, &reader_token), &cursor).await;
    assert_eq!(before["reports"], after["reports"]);
    assert_eq!(before["withdrawals"], after["withdrawals"]);
    assert_eq!(before["changes"], after["changes"]);
    let verify = tokio::task::spawn_blocking(move || {
        trilat(&[
            "audit",
            "verify",
            "--node",
            &url_kor,
            "--token",
            &admin_token,
        ])
    })
    .await
    .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    node.stop();
}

/// KOR's node from its config on loopback ports, on `store` when given.
async fn serve_alone(config_path: &std::path::Path, store: Option<&str>) -> trilat_node::Node {
    let mut config = trilat_node::Config::load(config_path).unwrap();
    if let Some(store) = store {
        config.store = Some(store.to_string().into());
    }
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.tls.listen = Some("127.0.0.1:0".parse().unwrap());
    assert!(!format!("{config:?}").contains(PASSWORD));
    let state = trilat_node::open(config).unwrap();
    trilat_node::serve(state, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    hasher.finish()
}
