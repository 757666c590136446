//! The pipelined pull path against faults: bad reports among good ones, and
//! a store that fails while the next page is being judged.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use trilat_core::{Kind, Marking, NodeKey, Party, Report, ReportDraft, ReportKey, Tlp};
use trilat_store::{
    AuditAction, AuditEntry, AuditEvent, AuditVerification, ChangePage, Cursor, PutOutcome,
    ReportPage, ReportQuery, ReportStore, StoreError,
};

use crate::cluster::{demo_policy, Cluster, ClusterSpec};
use crate::config::Limits;

fn party(code: &str) -> Party {
    Party::new(code).unwrap()
}

/// A store that fails the `fail_call`-th `put_batch` (counting from 1) as a
/// whole, writing nothing, and passes everything else to `inner`.
struct FailingStore {
    inner: Arc<dyn ReportStore>,
    put_batch_calls: AtomicUsize,
    fail_call: usize,
}

impl ReportStore for FailingStore {
    fn put(&self, report: &Report, audit: AuditEvent) -> Result<PutOutcome, StoreError> {
        self.inner.put(report, audit)
    }
    fn put_batch(
        &self,
        batch: &[(Report, AuditEvent)],
    ) -> Result<Vec<Result<PutOutcome, StoreError>>, StoreError> {
        let call = self.put_batch_calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call == self.fail_call {
            return Err(StoreError::Sqlite(
                "disk I/O error (injected by the test)".into(),
            ));
        }
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
        self.inner.append_audit(event)
    }
    fn audit(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit(after_seq, limit)
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

fn note(usa: &Party, text: &str, key: &NodeKey) -> Report {
    ReportDraft::new(
        usa.clone(),
        Kind::new("note").unwrap(),
        Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]),
        serde_json::json!({ "text": text }),
        crate::now(),
    )
    .sign(key)
    .unwrap()
}

/// USA's backlog: `n_good` notes signed by USA, a tampered one (payload
/// changed after signing) and a forged one (claims USA, signed by another
/// key) among them. Returns (good ids, bad ids).
fn usa_backlog(usa_state: &crate::AppState, n_good: usize) -> (Vec<ReportKey>, Vec<ReportKey>) {
    let usa = usa_state.party.clone();
    let forger = NodeKey::from_seed([66; 32]);
    let mut batch = Vec::new();
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for idx in 0..n_good {
        if idx == 13 {
            let mut tampered = note(&usa, "tampered", &usa_state.key);
            tampered.payload = serde_json::json!({ "text": "tampered, after signing" });
            bad.push(tampered.key());
            batch.push(tampered);
        }
        if idx == 27 {
            let forged = note(&usa, "forged", &forger);
            bad.push(forged.key());
            batch.push(forged);
        }
        let report = note(&usa, &format!("backlog {idx}"), &usa_state.key);
        good.push(report.key());
        batch.push(report);
    }
    let batch: Vec<(Report, AuditEvent)> = batch
        .into_iter()
        .map(|report| {
            let audit = AuditEvent::new(report.created_at, "node", AuditAction::Create)
                .report(report.key());
            (report, audit)
        })
        .collect();
    // The store does not check signatures: the bad ones are served too.
    let outcomes = usa_state.store.put_batch(&batch).unwrap();
    assert!(outcomes.iter().all(|o| o.is_ok()));
    (good, bad)
}

/// KOR, stopped while USA stores a backlog with two bad reports, restarts
/// on a store whose `fail_call`-th page write fails; its catch-up (pages of
/// 8, so pipelined) must end with exactly the good reports, each stored
/// once, and each bad one refused and audited once.
async fn check_pipelined_catch_up(fail_call: usize) {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        pull_page_max: 8,
        pull_interval_ms: 100,
        backoff_ms_min: 20,
        backoff_ms_max: 200,
        ..Limits::default()
    };
    let mut cluster = Cluster::start(ClusterSpec {
        parties: vec![party("USA"), party("KOR")],
        dir: dir.path().to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits,
        engines: Default::default(),
    })
    .await
    .unwrap();
    let kor_node = cluster.take("KOR").unwrap();
    let kor_addr = kor_node.node.addr;
    kor_node.node.stop();
    drop(kor_node);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (good, bad) = usa_backlog(cluster.state("USA"), 50);

    let config = crate::Config::load(&dir.path().join("KOR/trilat.toml")).unwrap();
    let key = crate::read_key_file(&config.key_file).unwrap();
    let sqlite = trilat_store::SqliteStore::open(config.data_dir.join("trilat.sqlite3")).unwrap();
    let store = Arc::new(FailingStore {
        inner: Arc::new(sqlite),
        put_batch_calls: AtomicUsize::new(0),
        fail_call,
    });
    let kor_state = crate::AppState::new(config, key, store.clone());
    let listener = tokio::net::TcpListener::bind(kor_addr).await.unwrap();
    let _kor = crate::serve_on(kor_state.clone(), listener).await.unwrap();

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let n_held = good
            .iter()
            .filter(|id| kor_state.store.get(id).unwrap().is_some())
            .count();
        if n_held == good.len() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "KOR holds {n_held} of {} after 30 s",
            good.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let any page still in flight settle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let n_page_writes = store.put_batch_calls.load(Ordering::SeqCst);
    // 52 reports in pages of 8: 7 page writes, one more after a failure.
    assert!(n_page_writes >= 7, "{n_page_writes} page writes");
    assert!(fail_call == usize::MAX || n_page_writes > fail_call);
    for id in &bad {
        assert!(kor_state.store.get(id).unwrap().is_none(), "{id} stored");
    }
    // Nothing duplicated: one stored version per good report, nothing else.
    let changes = kor_state.store.changes(None, 1000).unwrap();
    let mut stored: Vec<ReportKey> = changes.changes.iter().map(|c| c.report.key()).collect();
    stored.sort();
    let mut expected = good.clone();
    expected.sort();
    assert_eq!(stored, expected);
    // Each bad report refused and audited once, as a bad signature.
    let audit = kor_state.store.audit(0, 1000).unwrap();
    for id in &bad {
        let refusals: Vec<&AuditEntry> = audit
            .iter()
            .filter(|e| {
                e.event.action == AuditAction::Refuse && e.event.report_key().as_ref() == Some(id)
            })
            .collect();
        assert_eq!(refusals.len(), 1, "refusals of {id}: {refusals:?}");
        assert!(
            refusals[0].event.detail.contains("signature"),
            "{}",
            refusals[0].event.detail
        );
    }
    let receives = audit
        .iter()
        .filter(|e| e.event.action == AuditAction::Receive)
        .count();
    assert_eq!(receives, good.len());
    assert_eq!(kor_state.store.verify_audit().unwrap().first_broken, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_catch_up_refuses_the_bad_reports_and_stores_the_rest() {
    check_pipelined_catch_up(usize::MAX).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_page_write_loses_nothing_and_duplicates_nothing() {
    // The second page's write fails while the third page is being judged;
    // the fourth holds the forged report (pages of 8).
    check_pipelined_catch_up(2).await;
    // The first page's, when the link has no persisted cursor yet.
    check_pipelined_catch_up(1).await;
}
