//! Three real nodes on loopback: releasability, refusals, revocation, catch-up.

use serde_json::json;
use trilat_core::{Kind, Marking, ReportDraft, Tlp};
use trilat_node::config::Role;
use trilat_node::federation::auth::sign_request;
use trilat_node::now_ms;
use trilat_store::{AuditAction, ReportStore};

use crate::common::{cluster, eventually, party, Api};

fn api(cluster: &trilat_node::cluster::Cluster, node: &str, as_party: &str, role: Role) -> Api {
    let n = cluster.node(node);
    Api::new(&n.url, &n.tokens[&(party(as_party), role)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rel_to_usa_jpn_reaches_jpn_never_kor() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let usa = api(&cluster, "USA", "USA", Role::Admin);
    let jpn = api(&cluster, "JPN", "JPN", Role::Reader);
    let kor = api(&cluster, "KOR", "KOR", Role::Reader);
    let jpn_stream = jpn.subscribe(false).await;
    let kor_stream = kor.subscribe(false).await;

    let secret = usa
        .post_note("for Japan", "SECRET", "AMBER", &["USA", "JPN"])
        .await;
    // A barrier every node may see, posted after: once KOR has it, KOR has
    // had every chance to receive the first one too.
    let barrier = usa
        .post_note("for all", "UNCLASSIFIED", "GREEN", &["TRILAT"])
        .await;

    eventually("JPN sees both via the API", || async {
        jpn.report(&secret.id).await.is_some() && jpn.report(&barrier.id).await.is_some()
    })
    .await;
    eventually("KOR sees the barrier", || async {
        kor.report(&barrier.id).await.is_some()
    })
    .await;
    eventually("JPN's stream delivers both", || async {
        jpn_stream.lock().unwrap().len() >= 2
    })
    .await;
    eventually("KOR's stream delivers the barrier", || async {
        !kor_stream.lock().unwrap().is_empty()
    })
    .await;
    // Another pull round for good measure.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    assert_eq!(jpn.report(&secret.id).await.unwrap(), secret);
    assert!(kor.report(&secret.id).await.is_none(), "KOR API shows it");
    assert!(
        cluster
            .state("KOR")
            .store
            .get(&secret.id)
            .unwrap()
            .is_none(),
        "KOR's store holds it"
    );
    assert!(kor_stream.lock().unwrap().iter().all(|r| r.id != secret.id));
    assert!(jpn_stream.lock().unwrap().iter().any(|r| r.id == secret.id));
    // The read rule on USA's own node: a KOR reader there does not see it.
    let kor_on_usa = api(&cluster, "USA", "KOR", Role::Reader);
    assert!(kor_on_usa.report(&secret.id).await.is_none());
    assert!(kor_on_usa.report(&barrier.id).await.is_some());
    // The refused read is audited.
    let audit = cluster.state("USA").store.audit(0, 1000).unwrap();
    assert!(audit
        .iter()
        .any(|e| e.event.action == AuditAction::Refuse && e.event.report_id == Some(secret.id)));
    assert_eq!(
        cluster
            .state("USA")
            .store
            .verify_audit()
            .unwrap()
            .first_broken,
        None
    );
}

/// Pushes `reports` to `to` as `sender`, signed with `key`; returns the response.
async fn push_as(
    url: &str,
    sender: &str,
    key: &trilat_core::NodeKey,
    body: &[u8],
) -> (u16, serde_json::Value) {
    let headers = sign_request(key, &party(sender), "POST", "/peer/v1/push", body, now_ms());
    send_signed(url, &headers, body).await
}

async fn send_signed(
    url: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/peer/v1/push"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

fn refusals(store: &dyn ReportStore) -> Vec<String> {
    store
        .audit(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action == AuditAction::Refuse)
        .map(|e| e.event.detail)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faulty_sender_tampering_forgery_and_replay_are_refused_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let usa_key = cluster.state("USA").key.clone();
    let jpn_key = cluster.state("JPN").key.clone();
    let kor = cluster.node("KOR");
    let kor_store = cluster.state("KOR").store.clone();
    let now = trilat_core::Timestamp::from_unix_ms(now_ms());
    let note = |owner: &str, rel_to: &[&str], text: &str| {
        ReportDraft::new(
            party(owner),
            Kind::new("note").unwrap(),
            Marking::new("CONFIDENTIAL", Tlp::Amber, rel_to.iter().copied()),
            json!({"text": text}),
            now,
        )
    };

    // 1. A faulty USA node pushes a report not releasable to KOR.
    let unreleasable = note("USA", &["USA", "JPN"], "not for KOR")
        .sign(&usa_key)
        .unwrap();
    let body = serde_json::to_vec(&json!({"reports": [unreleasable]})).unwrap();
    let (status, summary) = push_as(&kor.url, "USA", &usa_key, &body).await;
    assert_eq!(status, 200);
    assert_eq!(
        summary["refused"][0][1], "not_releasable_to_me",
        "{summary}"
    );
    assert!(kor_store.get(&unreleasable.id).unwrap().is_none());

    // 2. A tampered signature: payload changed after signing.
    let mut tampered = note("USA", &["TRILAT"], "original").sign(&usa_key).unwrap();
    tampered.payload = json!({"text": "changed"});
    let body = serde_json::to_vec(&json!({"reports": [tampered]})).unwrap();
    let (_, summary) = push_as(&kor.url, "USA", &usa_key, &body).await;
    assert_eq!(summary["refused"][0][1], "bad_signature", "{summary}");
    assert!(kor_store.get(&tampered.id).unwrap().is_none());

    // 3. JPN forges a report claiming USA as owner, signed with JPN's key.
    let forged = note("USA", &["TRILAT"], "forged").sign(&jpn_key).unwrap();
    let body = serde_json::to_vec(&json!({"reports": [forged]})).unwrap();
    let (_, summary) = push_as(&kor.url, "JPN", &jpn_key, &body).await;
    assert_eq!(summary["refused"][0][1], "bad_signature", "{summary}");
    assert!(kor_store.get(&forged.id).unwrap().is_none());

    // 4. A replayed request: the same signed push twice.
    let good = note("USA", &["TRILAT"], "good").sign(&usa_key).unwrap();
    let body = serde_json::to_vec(&json!({"reports": [good]})).unwrap();
    let headers = sign_request(
        &usa_key,
        &party("USA"),
        "POST",
        "/peer/v1/push",
        &body,
        now_ms(),
    );
    let (status, summary) = send_signed(&kor.url, &headers, &body).await;
    assert_eq!(
        (status, summary["stored"].as_u64()),
        (200, Some(1)),
        "{summary}"
    );
    let (status, error) = send_signed(&kor.url, &headers, &body).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["error"]["code"], "replay");
    // A fresh request with the same report is idempotent: nothing changes.
    let (_, summary) = push_as(&kor.url, "USA", &usa_key, &body).await;
    assert_eq!(summary["duplicate"], 1, "{summary}");
    assert_eq!(kor_store.history(&good.id).unwrap().len(), 1);

    // 5. A request signed by a key that is not the claimed peer's.
    let (status, _) = push_as(&kor.url, "USA", &jpn_key, &body).await;
    assert_eq!(status, 401);

    let refused = refusals(kor_store.as_ref());
    for needle in [
        "not releasable",
        "signature does not verify",
        "already received",
        "does not verify under USA's key",
    ] {
        assert!(
            refused.iter().any(|d| d.contains(needle)),
            "no audited refusal with {needle:?}: {refused:#?}"
        );
    }
    assert_eq!(kor_store.verify_audit().unwrap().first_broken, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_reaches_every_recipient() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let usa = api(&cluster, "USA", "USA", Role::Admin);
    let report = usa
        .post_note("to be withdrawn", "UNCLASSIFIED", "GREEN", &["TRILAT"])
        .await;
    let readers = [
        api(&cluster, "JPN", "JPN", Role::Reader),
        api(&cluster, "KOR", "KOR", Role::Reader),
    ];
    for reader in &readers {
        eventually("report arrives", || async {
            reader.report(&report.id).await.is_some()
        })
        .await;
    }
    let (status, body) = usa
        .post(
            &format!("/api/v1/reports/{}/revoke", report.id),
            &json!(null),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for reader in &readers {
        eventually("revocation arrives", || async {
            reader
                .report(&report.id)
                .await
                .is_some_and(|r| r.revoked && r.version == 2)
        })
        .await;
        // Revoked reports leave default queries.
        let (_, page) = reader.get("/api/v1/reports").await;
        assert!(page["reports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != report.id.to_string()));
    }
    // A version after the revocation is refused.
    let (status, _) = usa
        .post(
            &format!("/api/v1/reports/{}/revoke", report.id),
            &json!(null),
        )
        .await;
    assert_eq!(status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_down_during_creation_catches_up_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = cluster(dir.path()).await;
    let usa = api(&cluster, "USA", "USA", Role::Admin);
    let jpn = api(&cluster, "JPN", "JPN", Role::Admin);
    let kor_idx = cluster
        .nodes
        .iter()
        .position(|n| n.party.as_str() == "KOR")
        .unwrap();
    let kor_node = cluster.nodes.remove(kor_idx);
    let kor_url = kor_node.url.clone();
    let kor_token = kor_node.reader_token(&party("KOR")).to_string();
    let kor_addr = kor_node.node.addr;
    drop(kor_node);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let mut expected = std::collections::BTreeSet::new();
    for i in 0..30 {
        expected.insert(
            usa.post_note(&format!("usa {i}"), "UNCLASSIFIED", "GREEN", &["TRILAT"])
                .await
                .id,
        );
    }
    for i in 0..20 {
        expected.insert(
            jpn.post_note(&format!("jpn {i}"), "CONFIDENTIAL", "AMBER", &["TRILAT"])
                .await
                .id,
        );
    }
    // Not for KOR: must not arrive after the restart either.
    let private = usa
        .post_note("US-Japan only", "SECRET", "AMBER", &["USA", "JPN"])
        .await;

    // Restart KOR from its config file, same port, same SQLite file.
    let config = trilat_node::Config::load(&dir.path().join("KOR/trilat.toml")).unwrap();
    let state = trilat_node::open(config).unwrap();
    let listener = tokio::net::TcpListener::bind(kor_addr).await.unwrap();
    let _kor = trilat_node::serve_on(state.clone(), listener)
        .await
        .unwrap();
    let kor = Api::new(&kor_url, &kor_token);
    eventually("KOR catches up", || async {
        kor.all_reports().await.len() >= expected.len()
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let held: std::collections::BTreeSet<_> =
        kor.all_reports().await.into_iter().map(|r| r.id).collect();
    assert_eq!(held, expected);
    assert!(state.store.get(&private.id).unwrap().is_none());
    // Nothing duplicated: exactly one stored version per report.
    let changes = state.store.changes(None, 1000).unwrap();
    assert_eq!(changes.changes.len(), expected.len());
}
