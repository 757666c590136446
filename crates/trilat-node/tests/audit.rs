//! Every release is audited before it leaves, and nothing leaves when the
//! audit log cannot be written: bulk reads (reports, change feed, TAXII, a
//! peer's pull) are recorded version by version within the store's detail
//! bound, and a store whose audit appends fail makes each read path answer
//! an error and release nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use trilat_core::{Kind, Marking, NodeKey, Report, ReportDraft, ReportKey, Tlp};
use trilat_node::config::{generate_token, token_sha256, Limits, PeerConfig, Role, TokenConfig};
use trilat_node::federation::auth::sign_request;
use trilat_node::{now_ms, AppState, Config};
use trilat_store::{
    AuditAction, AuditEntry, AuditEvent, AuditVerification, ChangePage, Cursor, MemoryStore,
    PutOutcome, ReportPage, ReportQuery, ReportStore, StoreError, AUDIT_DETAIL_LEN_MAX,
};

use crate::common::{eventually, party, Api};

/// A store whose audit appends fail while `fail_audit` is set (a full
/// disk under the audit log); everything else passes to `inner`.
pub struct AuditSwitch {
    pub inner: Arc<dyn ReportStore>,
    pub fail_audit: AtomicBool,
}

impl AuditSwitch {
    pub fn new(inner: Arc<dyn ReportStore>) -> Arc<AuditSwitch> {
        Arc::new(AuditSwitch {
            inner,
            fail_audit: AtomicBool::new(false),
        })
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.fail_audit.load(Ordering::SeqCst) {
            return Err(StoreError::Sqlite(
                "database or disk is full (injected by the test)".into(),
            ));
        }
        Ok(())
    }
}

impl ReportStore for AuditSwitch {
    fn put(&self, report: &Report, audit: AuditEvent) -> Result<PutOutcome, StoreError> {
        self.inner.put(report, audit)
    }
    fn put_batch(
        &self,
        batch: &[(Report, AuditEvent)],
    ) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
        self.inner.put_batch(batch)
    }
    fn get(&self, id: &ReportKey) -> Result<Option<Report>, StoreError> {
        self.inner.get(id)
    }
    fn history(&self, id: &ReportKey) -> Result<Vec<Report>, StoreError> {
        self.inner.history(id)
    }
    fn version(&self, id: &ReportKey, counter: u64) -> Result<Option<Report>, StoreError> {
        self.inner.version(id, counter)
    }
    fn put_withdrawal(
        &self,
        withdrawal: &trilat_core::Withdrawal,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.put_withdrawal(withdrawal, audit)
    }
    fn withdrawal(&self, id: &ReportKey) -> Result<Option<trilat_core::Withdrawal>, StoreError> {
        self.inner.withdrawal(id)
    }
    fn withdrawals(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<trilat_store::RecordedWithdrawal>, StoreError> {
        self.inner.withdrawals(after_seq, limit)
    }
    fn query(&self, query: &ReportQuery) -> Result<ReportPage, StoreError> {
        self.inner.query(query)
    }
    fn changes(&self, after: Option<&Cursor>, limit: usize) -> Result<ChangePage, StoreError> {
        self.inner.changes(after, limit)
    }
    fn changes_of_kind(
        &self,
        kind: &Kind,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<ChangePage, StoreError> {
        self.inner.changes_of_kind(kind, after, limit)
    }
    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        self.check()?;
        self.inner.append_audit(event)
    }
    fn append_audit_batch(&self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        self.check()?;
        self.inner.append_audit_batch(events)
    }
    fn audit(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit(after_seq, limit)
    }
    fn audit_last_seq(&self) -> Result<u64, StoreError> {
        self.inner.audit_last_seq()
    }
    fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        self.inner.verify_audit()
    }
    fn sync_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.inner.sync_state(key)
    }
    fn set_sync_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.inner.set_sync_state(key, value)
    }
    fn note_peer_request(
        &self,
        signature: &[u8; 64],
        seen_ms: i64,
        forget_before_ms: i64,
    ) -> Result<bool, StoreError> {
        self.inner
            .note_peer_request(signature, seen_ms, forget_before_ms)
    }
    fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        duration_ms: u64,
    ) -> Result<trilat_store::LeaseGrant, StoreError> {
        self.inner.acquire_lease(name, holder, duration_ms)
    }
    fn renew_lease(
        &self,
        lease: &trilat_store::Lease,
        duration_ms: u64,
    ) -> Result<trilat_store::Lease, StoreError> {
        self.inner.renew_lease(lease, duration_ms)
    }
    fn release_lease(&self, lease: &trilat_store::Lease) -> Result<(), StoreError> {
        self.inner.release_lease(lease)
    }
    fn leases(&self) -> Result<Vec<trilat_store::LeaseState>, StoreError> {
        self.inner.leases()
    }
    /// Itself, unfenced, so its fault stays in the owner's path (one
    /// process here: no other holder to fence out).
    fn fenced(
        self: Arc<Self>,
        _lease: &trilat_store::Lease,
    ) -> Result<Arc<dyn ReportStore>, StoreError> {
        Ok(self)
    }
}

/// The last audit sequence number of `store`.
pub fn audit_tip(store: &dyn ReportStore) -> u64 {
    store.verify_audit().unwrap().entries
}

/// The `OWNER/id@version`s recorded as released by the entries after `after`
/// with `action` whose detail starts with `what`, read back as an auditor
/// would: the parts' lists in order, each part checked against the count,
/// first, last and digest it repeats, every detail within the bound.
pub fn recorded(
    store: &dyn ReportStore,
    after: u64,
    action: AuditAction,
    what: &str,
) -> Vec<String> {
    let entries: Vec<AuditEntry> = store
        .audit(after, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action == action && e.event.detail.starts_with(what))
        .collect();
    let mut listed: Vec<String> = Vec::new();
    let mut head: Option<(String, usize)> = None;
    for (idx, entry) in entries.iter().enumerate() {
        let detail = &entry.event.detail;
        assert!(detail.len() <= AUDIT_DETAIL_LEN_MAX, "{}", detail.len());
        let (before, list) = detail.rsplit_once(": ").unwrap();
        let (summary, part) = before.rsplit_once(", part ").unwrap();
        let (k, n) = part.split_once('/').unwrap();
        assert_eq!(
            k.parse::<usize>().unwrap(),
            idx % n.parse::<usize>().unwrap() + 1
        );
        if k == "1" {
            head = Some((summary.to_string(), n.parse().unwrap()));
        }
        assert_eq!(head.as_ref().unwrap().0, summary, "parts of one release");
        listed.extend(list.split(' ').map(str::to_string));
    }
    if let Some((summary, _)) = head {
        // One release in these tests' windows: check its summary.
        let digest = hex::encode(Sha256::digest(
            listed.iter().map(|l| format!("{l}\n")).collect::<String>(),
        ));
        let expected = format!(
            "{what}{} versions, first {}, last {}, sha256 {digest}",
            listed.len(),
            listed[0],
            listed[listed.len() - 1]
        );
        assert!(
            summary.ends_with(&expected[what.len()..]),
            "{summary} / {expected}"
        );
    }
    listed
}

fn versions_of(reports: &[Report]) -> Vec<String> {
    reports
        .iter()
        .map(|r| format!("{}@{}", r.key(), r.version))
        .collect()
}

const JPN_SEED: [u8; 32] = [5; 32];
const USA_SEED: [u8; 32] = [6; 32];

/// A JPN node on loopback over an [`AuditSwitch`] of a memory store
/// holding `n_notes` of its own notes (TRILAT); USA is its peer (nobody
/// listens there). Returns the node, its API as a JPN reader and as a JPN
/// analyst, and the switch.
async fn jpn_node(n_notes: usize) -> (trilat_node::Node, Api, Api, Arc<AuditSwitch>) {
    let reader = generate_token();
    let analyst = generate_token();
    let token = |secret: &str, role: Role, name: &str| TokenConfig {
        sha256: token_sha256(secret),
        party: party("JPN"),
        role,
        name: name.into(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        party: party("JPN"),
        listen: addr,
        data_dir: "unused".into(),
        key_file: "unused".into(),
        policy: trilat_core::Policy::trilateral_default(),
        // USA's signed requests come over plain HTTP on loopback.
        tls: trilat_node::config::TlsConfig {
            allow_plain_http_loopback: true,
            ..Default::default()
        },
        peers: vec![PeerConfig {
            party: party("USA"),
            url: "http://127.0.0.1:9".into(),
            public_key: NodeKey::from_seed(USA_SEED).public_key(),
            cert_sha256: None,
        }],
        parties: Vec::new(),
        tokens: vec![
            token(&reader, Role::Reader, "reader"),
            token(&analyst, Role::Analyst, "analyst"),
        ],
        limits: Limits::default(),
        taxii: None,
        engines: None,
        tak: Vec::new(),
        store: None,
        bus: None,
        bus_namespace: None,
        bus_tls: None,
    };
    config.validate().unwrap();
    let switch = AuditSwitch::new(Arc::new(MemoryStore::new()));
    let key = NodeKey::from_seed(JPN_SEED);
    let batch: Vec<(Report, AuditEvent)> = (0..n_notes)
        .map(|idx| {
            let report = ReportDraft::new(
                party("JPN"),
                Kind::new("note").unwrap(),
                Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]),
                json!({ "text": format!("note {idx}") }),
                trilat_node::now(),
            )
            .sign(&key)
            .unwrap();
            let event = AuditEvent::new(report.created_at, "node", AuditAction::Create)
                .report(report.key());
            (report, event)
        })
        .collect();
    switch.put_batch(&batch).unwrap();
    let state = AppState::new(config, key, switch.clone());
    let node = trilat_node::serve_on(state, listener).await.unwrap();
    let url = format!("http://{addr}");
    (
        node,
        Api::new(&url, &reader),
        Api::new(&url, &analyst),
        switch,
    )
}

/// `GET /peer/v1/changes?limit=…` signed by USA.
async fn pull_as_usa(url: &str, limit: usize) -> (u16, Value) {
    let path = format!("/peer/v1/changes?limit={limit}");
    let key = NodeKey::from_seed(USA_SEED);
    let headers = sign_request(&key, &party("USA"), "GET", &path, b"", now_ms());
    let mut request = reqwest::Client::new().get(format!("{url}{path}"));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

const TAXII: &str = "application/taxii+json;version=2.1";
const OBJECTS: &str = "/taxii2/trilat/collections/trilat-cyber/objects/";

/// Posts `n` STIX indicators (default marking: JPN only) through TAXII.
async fn post_indicators(api: &Api, n: usize) {
    let objects: Vec<Value> = (0..n)
        .map(|idx| {
            json!({
                "type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--0a4b7c2e-1d3f-4e5a-8b6c-{idx:012x}"),
                "created": "2026-01-02T03:04:05.000Z", "modified": "2026-01-02T03:04:05.000Z",
                "name": "bad address", "pattern": "[ipv4-addr:value = '198.51.100.7']",
                "pattern_type": "stix", "valid_from": "2026-01-02T03:04:05.000Z",
            })
        })
        .collect();
    let response = api
        .client
        .post(format!("{}{OBJECTS}", api.url))
        .bearer_auth(&api.token)
        .header("accept", TAXII)
        .header("content-type", TAXII)
        .body(json!({ "objects": objects }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
}

async fn taxii_objects(api: &Api) -> (u16, Value) {
    let response = api
        .client
        .get(format!("{}{OBJECTS}", api.url))
        .bearer_auth(&api.token)
        .header("accept", TAXII)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn reports_of(body: &Value, field: &str) -> Vec<Report> {
    serde_json::from_value(body[field].clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_reads_record_exactly_the_released_versions() {
    let (node, reader, analyst, switch) = jpn_node(1000).await;
    let store = switch.as_ref();
    // Pages of 105 and of the page maximum, of reports and of changes.
    for limit in [105, 1000] {
        let tip = audit_tip(store);
        let (status, body) = reader.get(&format!("/api/v1/reports?limit={limit}")).await;
        assert_eq!(status, 200, "{body}");
        let served = reports_of(&body, "reports");
        assert_eq!(served.len(), limit);
        assert_eq!(
            recorded(store, tip, AuditAction::Read, "query: "),
            versions_of(&served)
        );

        let tip = audit_tip(store);
        let (status, body) = reader.get(&format!("/api/v1/changes?limit={limit}")).await;
        assert_eq!(status, 200, "{body}");
        let served: Vec<Report> = body["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| serde_json::from_value(c["report"].clone()).unwrap())
            .collect();
        assert_eq!(served.len(), limit);
        assert_eq!(
            recorded(store, tip, AuditAction::Read, "changes: "),
            versions_of(&served)
        );
    }
    // A peer's pull of a full page.
    let tip = audit_tip(store);
    let (status, body) = pull_as_usa(&reader.url, 1000).await;
    assert_eq!(status, 200, "{body}");
    let served = reports_of(&body, "reports");
    assert_eq!(served.len(), 1000);
    assert_eq!(
        recorded(store, tip, AuditAction::Release, "pull up to "),
        versions_of(&served)
    );
    // A TAXII page: the versions of the reports holding the objects.
    post_indicators(&analyst, 3).await;
    let tip = audit_tip(store);
    let (status, body) = taxii_objects(&reader).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["objects"].as_array().unwrap().len(), 3);
    let stix: Vec<Report> = store
        .changes_of_kind(&Kind::new("cyber.stix").unwrap(), None, 100)
        .unwrap()
        .changes
        .into_iter()
        .map(|c| c.report)
        .collect();
    assert_eq!(stix.len(), 3);
    assert_eq!(
        recorded(store, tip, AuditAction::Read, "taxii collection "),
        versions_of(&stix)
    );
    assert_eq!(store.verify_audit().unwrap().first_broken, None);
    node.stop();
}

/// `GET /api/v1/reports/{id}?history=true` releases every version it
/// lists: each is recorded, not only the current one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_read_records_every_version_it_releases() {
    let (node, reader, _analyst, switch) = jpn_node(0).await;
    let mut report = trilat_node::publish(&node.state, note_draft("version 1"))
        .await
        .unwrap();
    for _ in 0..2 {
        let next = report.next_version(trilat_node::now());
        report = trilat_node::publish(&node.state, next).await.unwrap();
    }
    let tip = audit_tip(switch.as_ref());
    let path = format!("/api/v1/reports/{}?history=true", report.key());
    let (status, body) = reader.get(&path).await;
    assert_eq!(status, 200, "{body}");
    let history = reports_of(&body, "history");
    assert_eq!(history.len(), 3, "{body}");
    assert_eq!(
        recorded(switch.as_ref(), tip, AuditAction::Read, "history: "),
        versions_of(&history)
    );
    node.stop();
}

/// Reads the live stream's events (`(event, data)`) into a shared list
/// until it ends.
async fn stream_events(api: &Api) -> Arc<std::sync::Mutex<Vec<(String, String)>>> {
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let response = api
        .client
        .get(format!("{}/api/v1/stream", api.url))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let sink = events.clone();
    tokio::spawn(async move {
        let mut body = response.bytes_stream();
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                let name = event.lines().find_map(|l| l.strip_prefix("event: "));
                let data: String = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                if let Some(name) = name {
                    sink.lock().unwrap().push((name.to_string(), data));
                }
            }
        }
        sink.lock().unwrap().push(("(ended)".into(), String::new()));
    });
    events
}

fn note_draft(text: &str) -> ReportDraft {
    ReportDraft::new(
        party("JPN"),
        Kind::new("note").unwrap(),
        Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]),
        json!({ "text": text }),
        trilat_node::now(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_released_when_the_audit_log_fails() {
    let (node, reader, analyst, switch) = jpn_node(200).await;
    post_indicators(&analyst, 2).await;
    let stream = stream_events(&reader).await;
    // The stream releases while the log works…
    let first = trilat_node::publish(&node.state, note_draft("while the log works"))
        .await
        .unwrap();
    eventually("the stream delivers the first note", || {
        let stream = stream.clone();
        async move { stream.lock().unwrap().iter().any(|(e, _)| e == "report") }
    })
    .await;
    let id = first.key();

    switch.fail_audit.store(true, Ordering::SeqCst);
    let tip = audit_tip(switch.as_ref());
    for path in [
        "/api/v1/reports?limit=105".to_string(),
        "/api/v1/reports?limit=1".to_string(),
        "/api/v1/changes?limit=1000".to_string(),
        format!("/api/v1/reports/{id}"),
    ] {
        let (status, body) = reader.get(&path).await;
        assert_eq!(status, 500, "{path}: {body}");
        assert_eq!(body["error"]["code"], "internal", "{path}: {body}");
        assert!(body.get("reports").is_none() && body.get("changes").is_none());
        assert!(body.get("report").is_none(), "{path}: {body}");
    }
    let (status, body) = pull_as_usa(&reader.url, 1000).await;
    assert_eq!(status, 500, "{body}");
    assert!(body.get("reports").is_none(), "{body}");
    let (status, body) = taxii_objects(&reader).await;
    assert_eq!(status, 500, "{body}");
    assert!(body.get("objects").is_none(), "{body}");
    // …and when the log fails, says so and ends, without the report.
    let second = trilat_node::publish(&node.state, note_draft("while the log fails"))
        .await
        .unwrap();
    eventually("the stream ends", || {
        let stream = stream.clone();
        async move { stream.lock().unwrap().iter().any(|(e, _)| e == "(ended)") }
    })
    .await;
    let seen = stream.lock().unwrap().clone();
    let names: Vec<&str> = seen.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names, ["report", "error", "(ended)"], "{seen:?}");
    assert!(!seen
        .iter()
        .any(|(_, data)| data.contains(&second.id.to_string())));
    // Nothing was recorded (the log failed) and nothing was released.
    assert_eq!(
        audit_tip(switch.as_ref()),
        tip + 1,
        "only the publish's own entry"
    );

    // Back to normal: the same reads answer again, recorded.
    switch.fail_audit.store(false, Ordering::SeqCst);
    let (status, _) = reader.get("/api/v1/reports?limit=105").await;
    assert_eq!(status, 200);
    node.stop();
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_audit_log_fails_sends_its_peers_nothing() {
    use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        pull_interval_ms: 100,
        backoff_ms_min: 20,
        backoff_ms_max: 200,
        ..Limits::default()
    };
    let mut cluster = Cluster::start(ClusterSpec {
        parties: vec![party("USA"), party("JPN")],
        dir: dir.path().to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits,
        engines: Default::default(),
    })
    .await
    .unwrap();
    // JPN again, from its files, over a store whose audit log fails.
    let jpn = cluster.take("JPN").unwrap();
    let addr = jpn.node.addr;
    jpn.node.stop();
    drop(jpn);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let config = Config::load(&dir.path().join("JPN/trilat.toml")).unwrap();
    let key = trilat_node::read_key_file(&config.key_file).unwrap();
    // The store its config names (SQLite, or PostgreSQL on that backend).
    let store = trilat_node::open(config.clone()).unwrap().store;
    let switch = AuditSwitch::new(store);
    switch.fail_audit.store(true, Ordering::SeqCst);
    let state = AppState::new(config, key, switch.clone());
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let _jpn = trilat_node::serve_on(state.clone(), listener)
        .await
        .unwrap();

    // Neither pushed nor pulled while JPN cannot record the release…
    let report = trilat_node::publish(&state, note_draft("for USA"))
        .await
        .unwrap();
    let usa = cluster.state("USA").clone();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        usa.store.get(&report.key()).unwrap(),
        None,
        "released unaudited"
    );
    // …and delivered, recorded, once it can.
    switch.fail_audit.store(false, Ordering::SeqCst);
    eventually("USA receives the note", || {
        let (usa, key) = (usa.clone(), report.key());
        async move { usa.store.get(&key).unwrap().is_some() }
    })
    .await;
    let needle = format!("{}@1", report.key());
    let releases: Vec<AuditEntry> = switch
        .audit(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action == AuditAction::Release && e.event.detail.contains(&needle))
        .collect();
    assert!(!releases.is_empty());
    assert!(releases
        .iter()
        .all(|e| e.event.counterparty == Some(party("USA"))));
}
