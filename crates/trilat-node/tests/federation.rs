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
        jpn.report(&secret.key()).await.is_some() && jpn.report(&barrier.key()).await.is_some()
    })
    .await;
    eventually("KOR sees the barrier", || async {
        kor.report(&barrier.key()).await.is_some()
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

    assert_eq!(jpn.report(&secret.key()).await.unwrap(), secret);
    assert!(
        kor.report(&secret.key()).await.is_none(),
        "KOR API shows it"
    );
    assert!(
        cluster
            .state("KOR")
            .store
            .get(&secret.key())
            .unwrap()
            .is_none(),
        "KOR's store holds it"
    );
    assert!(kor_stream.lock().unwrap().iter().all(|r| r.id != secret.id));
    assert!(jpn_stream.lock().unwrap().iter().any(|r| r.id == secret.id));
    // The read rule on USA's own node: a KOR reader there does not see it.
    let kor_on_usa = api(&cluster, "USA", "KOR", Role::Reader);
    assert!(kor_on_usa.report(&secret.key()).await.is_none());
    assert!(kor_on_usa.report(&barrier.key()).await.is_some());
    // The refused read is audited.
    let audit = cluster.state("USA").store.audit(0, 1000).unwrap();
    assert!(audit.iter().any(
        |e| e.event.action == AuditAction::Refuse && e.event.report_key() == Some(secret.key())
    ));
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

/// Pushes `reports` to the peer listener at `url` as `sender`, signed with
/// `key`, over `client` (mutual TLS as one of the nodes); returns the
/// response.
async fn push_as(
    client: &reqwest::Client,
    url: &str,
    sender: &str,
    key: &trilat_core::NodeKey,
    body: &[u8],
) -> (u16, serde_json::Value) {
    let headers = sign_request(key, &party(sender), "POST", "/peer/v1/push", body, now_ms());
    send_signed(client, url, &headers, body).await
}

async fn send_signed(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, serde_json::Value) {
    let mut request = client
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_replayed_after_a_restart_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = cluster(dir.path()).await;
    let usa_key = cluster.state("USA").key.clone();
    let report = ReportDraft::new(
        party("USA"),
        Kind::new("note").unwrap(),
        Marking::new("CONFIDENTIAL", Tlp::Amber, ["TRILAT"]),
        json!({"text": "pushed once"}),
        trilat_core::Timestamp::from_unix_ms(now_ms()),
    )
    .sign(&usa_key)
    .unwrap();
    let body = serde_json::to_vec(&json!({"reports": [report]})).unwrap();
    let headers = sign_request(
        &usa_key,
        &party("USA"),
        "POST",
        "/peer/v1/push",
        &body,
        now_ms(),
    );
    let kor = cluster.take("KOR").unwrap();
    let (url, addr) = (kor.peer_url.clone(), kor.node.addr);
    let usa = cluster.node("USA");
    let (before, after) = (
        usa.peer_client_to(&kor).unwrap(),
        usa.peer_client_to(&kor).unwrap(),
    );
    let (status, summary) = send_signed(&before, &url, &headers, &body).await;
    assert_eq!(status, 200, "{summary}");
    // KOR restarts from its files, well within the request-age window…
    kor.node.stop();
    drop(kor);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let config = trilat_node::Config::load(&dir.path().join("KOR/trilat.toml")).unwrap();
    let state = trilat_node::open(config).unwrap();
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let _kor = trilat_node::serve_on(state.clone(), listener)
        .await
        .unwrap();
    // …and still knows the request.
    let (status, error) = send_signed(&after, &url, &headers, &body).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["error"]["code"], "replay");
    assert!(refusals(state.store.as_ref())
        .iter()
        .any(|d| d.contains("already received")));
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
    let usa_to_kor = cluster.node("USA").peer_client_to(kor).unwrap();
    let jpn_to_kor = cluster.node("JPN").peer_client_to(kor).unwrap();
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
    let (status, summary) = push_as(&usa_to_kor, &kor.peer_url, "USA", &usa_key, &body).await;
    assert_eq!(status, 200);
    assert_eq!(
        summary["refused"][0][1], "not_releasable_to_me",
        "{summary}"
    );
    assert!(kor_store.get(&unreleasable.key()).unwrap().is_none());

    // 2. A tampered signature: payload changed after signing.
    let mut tampered = note("USA", &["TRILAT"], "original").sign(&usa_key).unwrap();
    tampered.payload = json!({"text": "changed"});
    let body = serde_json::to_vec(&json!({"reports": [tampered]})).unwrap();
    let (_, summary) = push_as(&usa_to_kor, &kor.peer_url, "USA", &usa_key, &body).await;
    assert_eq!(summary["refused"][0][1], "bad_signature", "{summary}");
    assert!(kor_store.get(&tampered.key()).unwrap().is_none());

    // 3. JPN forges a report claiming USA as owner, signed with JPN's key.
    let forged = note("USA", &["TRILAT"], "forged").sign(&jpn_key).unwrap();
    let body = serde_json::to_vec(&json!({"reports": [forged]})).unwrap();
    let (_, summary) = push_as(&jpn_to_kor, &kor.peer_url, "JPN", &jpn_key, &body).await;
    assert_eq!(summary["refused"][0][1], "bad_signature", "{summary}");
    assert!(kor_store.get(&forged.key()).unwrap().is_none());

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
    let (status, summary) = send_signed(&usa_to_kor, &kor.peer_url, &headers, &body).await;
    assert_eq!(
        (status, summary["stored"].as_u64()),
        (200, Some(1)),
        "{summary}"
    );
    let (status, error) = send_signed(&usa_to_kor, &kor.peer_url, &headers, &body).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["error"]["code"], "replay");
    // A fresh request with the same report is idempotent: nothing changes.
    let (_, summary) = push_as(&usa_to_kor, &kor.peer_url, "USA", &usa_key, &body).await;
    assert_eq!(summary["duplicate"], 1, "{summary}");
    assert_eq!(kor_store.history(&good.key()).unwrap().len(), 1);

    // 5. A request signed by a key that is not the claimed peer's.
    let (status, _) = push_as(&usa_to_kor, &kor.peer_url, "USA", &jpn_key, &body).await;
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
            reader.report(&report.key()).await.is_some()
        })
        .await;
    }
    let (status, body) = usa
        .post(
            &format!("/api/v1/reports/{}/revoke", report.key()),
            &json!(null),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for reader in &readers {
        eventually("revocation arrives", || async {
            reader
                .report(&report.key())
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
            &format!("/api/v1/reports/{}/revoke", report.key()),
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
    let kor_node = cluster.take("KOR").unwrap();
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
    assert!(state.store.get(&private.key()).unwrap().is_none());
    // Nothing duplicated: exactly one stored version per report.
    let changes = state.store.changes(None, 1000).unwrap();
    assert_eq!(changes.changes.len(), expected.len());
}

/// Sends a signed `GET /peer/v1/changes` to the peer listener at `url` as
/// `requester`, over `client`.
async fn pull_as(
    client: &reqwest::Client,
    url: &str,
    requester: &str,
    key: &trilat_core::NodeKey,
    path_and_query: &str,
) -> (u16, usize, serde_json::Value) {
    let headers = sign_request(key, &party(requester), "GET", path_and_query, b"", now_ms());
    let mut request = client.get(format!("{url}{path_and_query}"));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, bytes.len(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_or_unusable_pull_cursor_is_reset_and_pulling_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = cluster(dir.path()).await;
    let usa = api(&cluster, "USA", "USA", Role::Admin);
    let jpn = api(&cluster, "JPN", "JPN", Role::Admin);
    let early = usa
        .post_note("before", "UNCLASSIFIED", "GREEN", &["TRILAT"])
        .await;
    let kor_early = api(&cluster, "KOR", "KOR", Role::Reader);
    eventually("KOR has the first report", || async {
        kor_early.report(&early.key()).await.is_some()
    })
    .await;
    // The report may have come by push: wait for KOR's pull to record its
    // cursor too (on PostgreSQL, through the link owner's fenced store, it
    // can come later than the push).
    let kor_store = cluster.state("KOR").store.clone();
    let usa_key = trilat_node::federation::cursor_key(&party("USA"));
    eventually("KOR records its pull cursor of USA", || {
        let found = kor_store.sync_state(&usa_key).unwrap().is_some();
        async move { found }
    })
    .await;
    drop(kor_store);
    // A cursor minted by another store (as if USA had rebuilt its store).
    let foreign = cluster
        .state("JPN")
        .store
        .changes(None, 1)
        .unwrap()
        .next
        .to_string();

    let kor_node = cluster.take("KOR").unwrap();
    let kor_url = kor_node.url.clone();
    let kor_token = kor_node.reader_token(&party("KOR")).to_string();
    let kor_addr = kor_node.node.addr;
    drop(kor_node);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    // Created while KOR is down: USA's and JPN's pushes fail and are dropped,
    // so only a pull brings them.
    let from_usa = usa
        .post_note("while down, usa", "UNCLASSIFIED", "GREEN", &["TRILAT"])
        .await;
    let from_jpn = jpn
        .post_note("while down, jpn", "UNCLASSIFIED", "GREEN", &["TRILAT"])
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;

    let config = trilat_node::Config::load(&dir.path().join("KOR/trilat.toml")).unwrap();
    let state = trilat_node::open(config).unwrap();
    let jpn_key = trilat_node::federation::cursor_key(&party("JPN"));
    assert!(
        state.store.sync_state(&usa_key).unwrap().is_some(),
        "no persisted cursor under {usa_key}"
    );
    state.store.set_sync_state(&usa_key, &foreign).unwrap();
    state
        .store
        .set_sync_state(&jpn_key, "not a cursor!")
        .unwrap();
    let listener = tokio::net::TcpListener::bind(kor_addr).await.unwrap();
    let _kor = trilat_node::serve_on(state.clone(), listener)
        .await
        .unwrap();
    let kor = Api::new(&kor_url, &kor_token);
    eventually("KOR pulls what USA and JPN created meanwhile", || async {
        kor.report(&from_usa.key()).await.is_some() && kor.report(&from_jpn.key()).await.is_some()
    })
    .await;
    // New reports keep arriving too.
    let later = usa
        .post_note("after", "UNCLASSIFIED", "GREEN", &["TRILAT"])
        .await;
    eventually("KOR receives a new report", || async {
        kor.report(&later.key()).await.is_some()
    })
    .await;
    eventually(
        "the persisted cursors are USA's and JPN's again",
        || async {
            let usa_cursor = state
                .store
                .sync_state(&usa_key)
                .unwrap()
                .unwrap_or_default();
            let jpn_cursor = state
                .store
                .sync_state(&jpn_key)
                .unwrap()
                .unwrap_or_default();
            [("USA", usa_cursor), ("JPN", jpn_cursor)]
                .iter()
                .all(|(peer, cursor)| {
                    trilat_store::Cursor::parse(cursor)
                        .is_ok_and(|c| cluster.state(peer).store.changes(Some(&c), 1).is_ok())
                })
        },
    )
    .await;
    // Re-pulling from the start stored nothing twice.
    assert_eq!(state.store.history(&early.key()).unwrap().len(), 1);
    let audit = state.store.audit(0, 1000).unwrap();
    for peer in ["USA", "JPN"] {
        assert!(
            audit.iter().any(|e| e.event.action == AuditAction::Other
                && e.event.counterparty == Some(party(peer))
                && e.event.detail.contains("pull cursor")),
            "no audited cursor reset for {peer}"
        );
    }
    assert_eq!(state.store.verify_audit().unwrap().first_broken, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_pages_are_bounded_in_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let usa = api(&cluster, "USA", "USA", Role::Admin);
    let body_bytes_max = cluster.state("USA").config.limits.body_bytes_max;
    let text_len = 63 * 1024; // just under the 64 KiB note text limit
                              // More than two body limits of notes, each just under the text limit.
    let n_reports = 2 * body_bytes_max / text_len + 4;
    let mut posted = std::collections::BTreeSet::new();
    for i in 0..n_reports {
        let text = format!("{i:04}{}", "x".repeat(text_len - 4));
        posted.insert(
            usa.post_note(&text, "UNCLASSIFIED", "GREEN", &["TRILAT"])
                .await
                .id,
        );
    }
    let usa_url = &cluster.node("USA").peer_url;
    let jpn_to_usa = cluster
        .node("JPN")
        .peer_client_to(cluster.node("USA"))
        .unwrap();
    let jpn_key = cluster.state("JPN").key.clone();
    let mut cursor: Option<String> = None;
    let mut pulled = std::collections::BTreeSet::new();
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/peer/v1/changes?cursor={c}&limit=1000"),
            None => "/peer/v1/changes?limit=1000".to_string(),
        };
        let (status, bytes, page) = pull_as(&jpn_to_usa, usa_url, "JPN", &jpn_key, &path).await;
        assert_eq!(status, 200, "{page}");
        assert!(
            bytes <= trilat_node::federation::body_budget(body_bytes_max),
            "a page of {bytes} bytes"
        );
        pages += 1;
        for report in page["reports"].as_array().unwrap() {
            let id: trilat_core::ReportId = serde_json::from_value(report["id"].clone()).unwrap();
            assert!(pulled.insert(id), "{id} served twice");
        }
        cursor = Some(page["next"].as_str().unwrap().to_string());
        if !page["more"].as_bool().unwrap() {
            break;
        }
        assert!(pages < 100, "pages never end");
    }
    assert!(pages >= 3, "only {pages} pages");
    assert_eq!(pulled, posted);
    // The peers got them all as well (pushes and pulls within the limit).
    let jpn = api(&cluster, "JPN", "JPN", Role::Reader);
    eventually("JPN holds every large note", || async {
        jpn.all_reports().await.len() >= posted.len()
    })
    .await;
}

#[test]
fn push_batches_are_split_under_the_byte_budget() {
    let key = trilat_core::NodeKey::generate();
    let now = trilat_core::Timestamp::from_unix_ms(now_ms());
    let reports: Vec<trilat_core::Report> = (0..40)
        .map(|i| {
            ReportDraft::new(
                party("USA"),
                Kind::new("note").unwrap(),
                Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]),
                json!({"text": format!("{i}{}", "y".repeat(60_000))}),
                now,
            )
            .sign(&key)
            .unwrap()
        })
        .collect();
    let refs: Vec<&trilat_core::Report> = reports.iter().collect();
    let budget = trilat_node::federation::body_budget(512 * 1024);
    let bodies = trilat_node::federation::push_bodies(&refs, budget).unwrap();
    assert!(bodies.len() >= 5, "{} bodies", bodies.len());
    let mut back = Vec::new();
    for body in &bodies {
        assert!(body.len() <= budget, "a body of {} bytes", body.len());
        let push: trilat_node::federation::PushBody = serde_json::from_slice(body).unwrap();
        assert!(!push.reports.is_empty());
        back.extend(push.reports);
    }
    assert_eq!(back, reports);
    // One report over the budget travels alone.
    let one = trilat_node::federation::push_bodies(&refs[..3], 1024).unwrap();
    assert_eq!(one.len(), 3);
    // Nothing to push, no body.
    assert!(trilat_node::federation::push_bodies(&[], budget)
        .unwrap()
        .is_empty());
}

/// Push and pull of a link run as separate tasks: a report published at USA
/// reaches JPN at once even while USA is busy pulling a long backlog from
/// JPN (with one task per link, the push waited for the whole catch-up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_is_not_held_up_by_a_catch_up_pull() {
    const BACKLOG: usize = 3000;
    let dir = tempfile::tempdir().unwrap();
    let limits = trilat_node::config::Limits {
        // Small pages: USA's catch-up from JPN takes many round trips.
        pull_page_max: 50,
        pull_interval_ms: 200,
        backoff_ms_min: 50,
        backoff_ms_max: 500,
        ..trilat_node::config::Limits::default()
    };
    let cluster = trilat_node::cluster::Cluster::start(trilat_node::cluster::ClusterSpec {
        parties: vec![party("USA"), party("JPN"), party("KOR")],
        dir: dir.path().to_path_buf(),
        ports: None,
        policy: trilat_node::cluster::demo_policy(),
        limits,
        engines: Default::default(),
    })
    .await
    .unwrap();
    let usa_state = cluster.state("USA").clone();
    let jpn_state = cluster.state("JPN").clone();
    // JPN's backlog goes straight into its store: no push, USA must pull.
    let mut batch = Vec::new();
    for i in 0..BACKLOG {
        let report = ReportDraft::new(
            party("JPN"),
            Kind::new("note").unwrap(),
            Marking::new("UNCLASSIFIED", Tlp::Green, ["USA", "JPN"]),
            json!({ "text": format!("jpn backlog {i}") }),
            trilat_node::now(),
        )
        .sign(&jpn_state.key)
        .unwrap();
        let audit = trilat_store::AuditEvent::new(report.created_at, "node", AuditAction::Create)
            .report(report.key());
        batch.push((report, audit));
    }
    jpn_state.store.put_batch(&batch).unwrap();
    let received = |state: &trilat_node::AppState| {
        state
            .metrics
            .reports_received
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    eventually("USA starts pulling JPN's backlog", || async {
        received(&usa_state) > 0
    })
    .await;
    let mut jpn_live = jpn_state.live.subscribe();
    let report = trilat_node::publish(
        &usa_state,
        ReportDraft::new(
            party("USA"),
            Kind::new("note").unwrap(),
            Marking::new("UNCLASSIFIED", Tlp::Green, ["USA", "JPN"]),
            json!({ "text": "pushed during a catch-up" }),
            trilat_node::now(),
        ),
    )
    .await
    .unwrap();
    loop {
        let got = tokio::time::timeout(std::time::Duration::from_secs(20), jpn_live.recv())
            .await
            .expect("the push reaches JPN")
            .unwrap();
        if got.id == report.id {
            break;
        }
    }
    let usa_received = received(&usa_state);
    assert!(
        usa_received < BACKLOG as u64,
        "pushed only after USA's catch-up ({usa_received} of {BACKLOG} pulled)"
    );
    // The catch-up itself completes.
    eventually("USA has JPN's backlog", || async {
        received(&usa_state) >= BACKLOG as u64
    })
    .await;
}

/// A note by `owner` released to `rel_to`, created now.
fn note_draft(owner: &str, rel_to: &[&str], text: &str) -> ReportDraft {
    ReportDraft::new(
        party(owner),
        Kind::new("note").unwrap(),
        Marking::new("UNCLASSIFIED", Tlp::Green, rel_to.iter().copied()),
        json!({ "text": text }),
        trilat_node::now(),
    )
}

/// USA's `cyber.stix` draft of one STIX indicator, released to `rel_to`:
/// what USA's TAXII import publishes. Its report id is derived from USA,
/// the STIX id and the creation time, so anyone can compute it.
fn usa_indicator_draft(rel_to: &[&str]) -> ReportDraft {
    let bundle = r#"{"type":"bundle","id":"bundle--0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e","objects":[
        {"type":"indicator","spec_version":"2.1","id":"indicator--7e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b",
         "created":"2026-03-04T05:06:07.000Z","modified":"2026-03-04T05:06:07.000Z",
         "name":"command server","pattern":"[ipv4-addr:value = '203.0.113.9']",
         "pattern_type":"stix","valid_from":"2026-03-04T05:06:07.000Z"}]}"#;
    let parsed = trilat_cyber::parse_bundle(bundle, |_, _| {}).unwrap();
    let marking = Marking::new("UNCLASSIFIED", Tlp::Green, rel_to.iter().copied());
    let outcome = trilat_cyber::import_bundle(&parsed, &party("USA"), &marking, trilat_node::now());
    assert!(outcome.rejected.is_empty());
    outcome.drafts[0].clone()
}

/// Id squatting (issue 13): KOR, predicting the id of the report USA's
/// import of a STIX indicator will carry, publishes its own report under
/// that id first. USA then publishes its report, released to JPN. A report
/// is its owner and its id, so JPN (and USA) hold both, distinct: the
/// squatter's neither replaces nor blocks USA's, and USA's next version
/// arrives too. (Before identity by owner, JPN refused USA's report as a
/// forged version of KOR's.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_publishing_first_under_another_partys_id_occupies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let (usa_state, jpn_state, kor_state) = (
        cluster.state("USA"),
        cluster.state("JPN"),
        cluster.state("KOR"),
    );
    let jpn = api(&cluster, "JPN", "JPN", Role::Reader);
    let predicted = usa_indicator_draft(&["USA", "JPN"]).id;
    let mut squat = note_draft("KOR", &["TRILAT"], "squatting USA's indicator id");
    squat.id = predicted;
    let squat = trilat_node::publish(kor_state, squat).await.unwrap();
    for (where_, state) in [("JPN", &jpn_state), ("USA", &usa_state)] {
        eventually(&format!("KOR's report at {where_}"), || async {
            state.store.get(&squat.key()).unwrap().is_some()
        })
        .await;
    }

    let genuine = trilat_node::publish(usa_state, usa_indicator_draft(&["USA", "JPN"]))
        .await
        .unwrap();
    assert_eq!(genuine.id, squat.id, "KOR predicted USA's id");
    assert_ne!(genuine.key(), squat.key());
    eventually("USA's report at JPN", || async {
        jpn.report(&genuine.key()).await.as_ref() == Some(&genuine)
    })
    .await;
    assert_eq!(jpn.report(&squat.key()).await.as_ref(), Some(&squat));
    let (status, page) = jpn.get("/api/v1/reports?limit=1000").await;
    assert_eq!(status, 200, "{page}");
    let mut owners: Vec<&str> = page["reports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"] == genuine.id.to_string())
        .map(|r| r["owner"].as_str().unwrap())
        .collect();
    owners.sort_unstable();
    assert_eq!(owners, ["KOR", "USA"], "{page}");
    // The true owner's next version is not blocked either.
    let mut next = genuine.next_version(trilat_node::now());
    next.payload["object"] = json!(next.payload["object"]
        .as_str()
        .unwrap()
        .replace("command server", "command server, confirmed"));
    let next = trilat_node::publish(usa_state, next).await.unwrap();
    eventually("USA's version 2 at JPN", || async {
        jpn.report(&genuine.key()).await.as_ref() == Some(&next)
    })
    .await;
    for state in [&jpn_state, &usa_state] {
        assert_eq!(
            state.store.get(&squat.key()).unwrap().as_ref(),
            Some(&squat)
        );
        assert_eq!(
            state.store.history(&genuine.key()).unwrap(),
            [genuine.clone(), next.clone()]
        );
        // Nothing about either report was refused.
        assert!(!refusals(state.store.as_ref())
            .iter()
            .any(|d| d.contains("forged")));
        let refused_keys: Vec<_> = state
            .store
            .audit(0, 1000)
            .unwrap()
            .into_iter()
            .filter(|e| e.event.action == AuditAction::Refuse)
            .filter_map(|e| e.event.report_key())
            .collect();
        assert!(!refused_keys.contains(&genuine.key()), "{refused_keys:?}");
        assert!(!refused_keys.contains(&squat.key()), "{refused_keys:?}");
    }
    // The release rule still holds for each: USA's never reaches KOR.
    let barrier = trilat_node::publish(usa_state, note_draft("USA", &["TRILAT"], "barrier"))
        .await
        .unwrap();
    eventually("the barrier at KOR", || async {
        kor_state.store.get(&barrier.key()).unwrap().is_some()
    })
    .await;
    assert!(kor_state.store.get(&genuine.key()).unwrap().is_none());
    assert_eq!(
        kor_state.store.get(&squat.key()).unwrap().as_ref(),
        Some(&squat)
    );
}
