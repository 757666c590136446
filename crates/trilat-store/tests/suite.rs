//! The behavioural suite, run against every store implementation: memory,
//! SQLite and PostgreSQL (the last when a server is configured: see
//! `pg_server.rs`).

use trilat_core::{Kind, ReportError, Timestamp};
use trilat_store::{
    AuditAction, AuditEvent, Clock, Cursor, MemoryStore, PutOutcome, ReportQuery, ReportStore,
    SqliteStore, StoreError, BATCH_LEN_MAX, QUERY_LIMIT_MAX,
};

use crate::fixture::*;
use crate::pg_server;

/// Runs every check against fresh stores from `make`.
pub fn suite<S: ReportStore>(make: impl Fn() -> S) {
    versions_history_current(&make());
    idempotency(&make());
    refusals_write_nothing(&make());
    batches(&make());
    queries(&make());
    change_feed(&make());
    feed_heads(&make());
    bad_cursors(&make(), &make());
    audit_log(&make());
    sync_state(&make());
    peer_requests(&make());
    long_history(&make());
    get_many(&make());
    withdrawals(&make());
    two_owners_one_id(&make());
    threads(make());
}

/// KOR publishing under USA's report id first (a squatter: STIX-derived
/// ids are predictable) neither replaces nor blocks USA's report: two
/// owners, one id, two reports, each with its own versions, history,
/// withdrawal and place in queries and the change feed.
fn two_owners_one_id(store: &impl ReportStore) {
    let usa = chain("USA", 2);
    let mut squat = draft("KOR", "note", 0);
    squat.id = usa[0].id;
    squat.payload = serde_json::json!({"text": "squatter"});
    let squat = sign(squat);
    assert_eq!(squat.id, usa[0].id);
    assert_ne!(squat.key(), usa[0].key());
    assert!(stored(store.put(&squat, event(&squat)).unwrap()).1);
    // The true owner's versions arrive after it, alone and in a batch.
    assert!(stored(store.put(&usa[0], event(&usa[0])).unwrap()).1);
    let batch = vec![
        (usa[1].clone(), event(&usa[1])),
        (squat.clone(), event(&squat)),
    ];
    let outcomes = store.put_batch(&batch).unwrap();
    assert!(matches!(
        outcomes[0],
        Ok(PutOutcome::Stored { current: true, .. })
    ));
    assert!(matches!(outcomes[1], Ok(PutOutcome::Duplicate)));
    assert_eq!(store.get(&usa[0].key()).unwrap().as_ref(), Some(&usa[1]));
    assert_eq!(store.get(&squat.key()).unwrap().as_ref(), Some(&squat));
    assert_eq!(store.history(&usa[0].key()).unwrap(), usa);
    assert_eq!(store.history(&squat.key()).unwrap(), vec![squat.clone()]);
    assert_eq!(store.version(&squat.key(), 2).unwrap(), None);
    assert_eq!(
        store.get_many(&[squat.key(), usa[0].key()]).unwrap(),
        vec![Some(squat.clone()), Some(usa[1].clone())]
    );
    let keys: Vec<_> = query_all(store, ReportQuery::default())
        .iter()
        .map(|r| r.key())
        .collect();
    assert_eq!(keys, vec![squat.key(), usa[0].key()]);
    let feed = store.changes(None, 10).unwrap();
    assert_eq!(feed.changes.len(), 3);
    // A withdrawal of USA's report leaves KOR's alone.
    let withdrawal = trilat_core::Withdrawal::sign(&usa[1], &key("USA")).unwrap();
    let audit = AuditEvent::new(t(9_000), "peer:USA", AuditAction::Withdraw)
        .report(withdrawal.key())
        .counterparty(party("USA"));
    assert!(store.put_withdrawal(&withdrawal, audit).unwrap());
    assert_eq!(store.withdrawal(&squat.key()).unwrap(), None);
    assert_eq!(
        store
            .withdrawn_versions(&[squat.key(), usa[0].key()])
            .unwrap(),
        vec![None, Some(2)]
    );
    // A batch large enough for the SQLite store to ask once which ids it
    // holds: JPN and PHL under one new id, and PHL under USA's held id.
    let mut batch: Vec<_> = (0..8).map(|i| sign(draft("JPN", "note", 10 + i))).collect();
    let mut twin = draft("PHL", "note", 20);
    twin.id = batch[3].id;
    let mut late_squat = draft("PHL", "note", 21);
    late_squat.id = usa[0].id;
    batch.extend([sign(twin), sign(late_squat)]);
    let puts: Vec<_> = batch.iter().map(|r| (r.clone(), event(r))).collect();
    let outcomes = store.put_batch(&puts).unwrap();
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Ok(PutOutcome::Stored { current: true, .. }))));
    for report in &batch {
        assert_eq!(store.get(&report.key()).unwrap().as_ref(), Some(report));
    }
    assert_eq!(store.get(&usa[0].key()).unwrap().as_ref(), Some(&usa[1]));
    // The audit entries name each report by owner and id.
    let named: Vec<_> = store
        .audit(0, 100)
        .unwrap()
        .iter()
        .filter_map(|entry| entry.event.report_key())
        .collect();
    let mut expected = vec![squat.key(), usa[0].key(), usa[1].key(), usa[0].key()];
    expected.extend(batch.iter().map(|r| r.key()));
    assert_eq!(named, expected);
    assert_eq!(store.verify_audit().unwrap().first_broken, None);
}

/// `get_many` answers what `get` answers for each id, in order, for batches
/// below and above the size from which SQLite scans for held ids first.
fn get_many(store: &impl ReportStore) {
    let versions = chain("JPN", 3);
    for report in &versions[..2] {
        store.put(report, event(report)).unwrap();
    }
    let held: Vec<_> = (0..12)
        .map(|i| sign(draft(["USA", "KOR"][i % 2], "note", i as i64)))
        .collect();
    let batch: Vec<_> = held.iter().map(|r| (r.clone(), event(r))).collect();
    store.put_batch(&batch).unwrap();
    let unheld: Vec<_> = (0..12)
        .map(|i| sign(draft("USA", "note", 100 + i as i64)).key())
        .collect();
    let mut ids = vec![versions[0].key()];
    for i in 0..12 {
        ids.push(held[i].key());
        ids.push(unheld[i].clone());
    }
    // Held ids under another owner: not held.
    ids.push(trilat_core::ReportKey::new(party("PHL"), held[0].id));
    ids.push(versions[0].key());
    for len in [0, 1, 3, 7, 8, 9, ids.len()] {
        let expected: Vec<_> = ids[..len].iter().map(|id| store.get(id).unwrap()).collect();
        assert_eq!(store.get_many(&ids[..len]).unwrap(), expected, "{len} ids");
    }
    let answer = store.get_many(&ids).unwrap();
    assert_eq!(
        answer[0].as_ref(),
        Some(&versions[1]),
        "the current version"
    );
    assert_eq!(answer[1].as_ref(), Some(&held[0]));
    assert_eq!(answer[2], None);
    assert!(matches!(
        store.get_many(&vec![unheld[0].clone(); BATCH_LEN_MAX + 1]),
        Err(StoreError::LimitExceeded { .. })
    ));
}

/// A withdrawal is kept at its highest version with its audit entry; the
/// held copy leaves the default query while the withdrawal is above it,
/// stays in history and `get`, and comes back with a newer version. A
/// withdrawal recorded before the copy arrives withdraws it at once.
fn withdrawals(store: &impl ReportStore) {
    let q = ReportQuery::default;
    let versions = chain("USA", 4);
    let (v1, v3) = (&versions[0], &versions[2]);
    store.put(v1, event(v1)).unwrap();
    let other = sign(draft("USA", "note", 5));
    store.put(&other, event(&other)).unwrap();
    let withdraw = |report: &trilat_core::Report| {
        let withdrawal = trilat_core::Withdrawal::sign(report, &key("USA")).unwrap();
        let audit = AuditEvent::new(t(9_000), "peer:USA", AuditAction::Withdraw)
            .report(report.key())
            .counterparty(party("USA"));
        (withdrawal, audit)
    };
    assert_eq!(store.withdrawal(&v1.key()).unwrap(), None);
    let audit_before = store.audit_last_seq().unwrap();
    let (w3, audit) = withdraw(v3);
    assert!(store.put_withdrawal(&w3, audit.clone()).unwrap());
    assert_eq!(store.audit_last_seq().unwrap(), audit_before + 1);
    assert_eq!(store.withdrawal(&v1.key()).unwrap(), Some(w3.clone()));
    // Again, or a lower one: nothing written.
    assert!(!store.put_withdrawal(&w3, audit.clone()).unwrap());
    let (w2, audit2) = withdraw(&versions[1]);
    assert!(!store.put_withdrawal(&w2, audit2).unwrap());
    assert_eq!(store.audit_last_seq().unwrap(), audit_before + 1);
    let ids =
        |query: ReportQuery| -> Vec<_> { query_all(store, query).iter().map(|r| r.id).collect() };
    assert_eq!(ids(q()), vec![other.id]);
    assert_eq!(
        ids(ReportQuery {
            include_withdrawn: true,
            ..q()
        }),
        vec![v1.id, other.id]
    );
    assert_eq!(store.get(&v1.key()).unwrap().as_ref(), Some(v1));
    assert_eq!(store.history(&v1.key()).unwrap(), vec![v1.clone()]);
    // v2 arrives late: still below the withdrawal, still withdrawn.
    store.put(&versions[1], event(&versions[1])).unwrap();
    assert_eq!(ids(q()), vec![other.id]);
    // v4 (broadened again, say) is above it: current and listed.
    store.put(&versions[3], event(&versions[3])).unwrap();
    assert_eq!(ids(q()).len(), 2);
    assert_eq!(
        store.version(&v1.key(), 2).unwrap().as_ref(),
        Some(&versions[1])
    );
    assert_eq!(store.version(&v1.key(), 3).unwrap(), None);
    assert_eq!(store.version(&other.key(), 2).unwrap(), None);
    assert_eq!(
        store.withdrawn_versions(&[other.key(), v1.key()]).unwrap(),
        vec![None, Some(3)]
    );
    let entries = store.audit(audit_before, 10).unwrap();
    assert_eq!(entries[0].event, audit);
    assert!(store.verify_audit().unwrap().first_broken.is_none());
    // The log holds the one withdrawal recorded, not the refused repeats.
    let log = store.withdrawals(0, 10).unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0].seq, &log[0].report, log[0].version),
        (1, &v1.key(), 3)
    );
    assert!(log[0].stored_at.is_some());
    assert_eq!(store.withdrawals(1, 10).unwrap(), vec![]);
    assert!(matches!(
        store.withdrawals(0, QUERY_LIMIT_MAX + 1),
        Err(StoreError::LimitExceeded { .. })
    ));
}

#[test]
fn memory_store() {
    suite(MemoryStore::new);
}

#[test]
fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let counter = std::cell::Cell::new(0);
    suite(|| {
        counter.set(counter.get() + 1);
        SqliteStore::open(dir.path().join(format!("store-{}.db", counter.get()))).unwrap()
    });
}

#[test]
fn postgres_store() {
    let Some(server) = pg_server::server("postgres_store") else {
        return;
    };
    suite(|| server.store());
}

/// (number of changes, number of audit entries): what "nothing written" compares.
fn footprint(store: &impl ReportStore) -> (usize, usize) {
    let mut changes = 0;
    let mut after: Option<Cursor> = None;
    loop {
        let page = store.changes(after.as_ref(), QUERY_LIMIT_MAX).unwrap();
        changes += page.changes.len();
        after = Some(page.next);
        if !page.more {
            break;
        }
    }
    let audit = store.audit(0, QUERY_LIMIT_MAX).unwrap().len();
    (changes, audit)
}

fn stored(outcome: PutOutcome) -> (u64, bool) {
    match outcome {
        PutOutcome::Stored { seq, current } => (seq, current),
        PutOutcome::Duplicate => panic!("expected Stored, got Duplicate"),
    }
}

fn versions_history_current(store: &impl ReportStore) {
    let versions = chain("JPN", 3);
    let id = versions[0].key();
    assert_eq!(store.get(&id).unwrap(), None);
    assert_eq!(store.history(&id).unwrap(), vec![]);
    let mut seqs = Vec::new();
    for (idx, report) in versions.iter().enumerate() {
        let (seq, current) = stored(store.put(report, event(report)).unwrap());
        assert!(current);
        seqs.push(seq);
        assert_eq!(store.get(&id).unwrap().as_ref(), Some(report));
        assert_eq!(store.history(&id).unwrap(), versions[..=idx].to_vec());
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    let revocation = revoke(&versions[2]);
    let (_, current) = stored(store.put(&revocation, event(&revocation)).unwrap());
    assert!(current);
    assert!(store.get(&id).unwrap().unwrap().revoked);
    assert_eq!(store.history(&id).unwrap().len(), 4);

    let before = footprint(store);
    let mut after_revocation = revocation.next_version(t(99_000));
    after_revocation.revoked = false;
    let after_revocation = sign(after_revocation);
    let err = store
        .put(&after_revocation, event(&after_revocation))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Refused(ReportError::RevokedFinal(_))),
        "{err}"
    );
    assert_eq!(footprint(store), before);
    assert_eq!(store.get(&id).unwrap(), Some(revocation));
}

fn idempotency(store: &impl ReportStore) {
    let versions = chain("USA", 3);
    let id = versions[0].key();
    // Out of order: the newest first, the older ones go to history only.
    assert!(stored(store.put(&versions[2], event(&versions[2])).unwrap()).1);
    assert!(!stored(store.put(&versions[0], event(&versions[0])).unwrap()).1);
    assert!(!stored(store.put(&versions[1], event(&versions[1])).unwrap()).1);
    assert_eq!(store.get(&id).unwrap().as_ref(), Some(&versions[2]));
    assert_eq!(store.history(&id).unwrap(), versions);

    // Replays of every version change nothing, not even the audit log.
    let before = footprint(store);
    for report in versions.iter().rev().chain(&versions) {
        assert_eq!(
            store.put(report, event(report)).unwrap(),
            PutOutcome::Duplicate
        );
    }
    let replay: Vec<_> = versions.iter().map(|r| (r.clone(), event(r))).collect();
    let outcomes = store.put_batch(&replay).unwrap();
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Ok(PutOutcome::Duplicate))));
    assert_eq!(footprint(store), before);
    assert_eq!(store.get(&id).unwrap().as_ref(), Some(&versions[2]));
}

fn refusals_write_nothing(store: &impl ReportStore) {
    let versions = chain("KOR", 3);
    for report in &versions {
        store.put(report, event(report)).unwrap();
    }
    let other_chain = chain("KOR", 3);
    store.put(&other_chain[2], event(&other_chain[2])).unwrap();
    let before = footprint(store);

    // The owner equivocates: a different v3, and a different v1 (older
    // than the current version, so only history can tell).
    for counter in [3, 1] {
        let held = &versions[counter as usize - 1];
        let mut other = if counter == 1 {
            draft("KOR", "note", 0)
        } else {
            versions[1].next_version(held.modified)
        };
        other.id = held.id;
        other.created_at = held.created_at;
        other.modified = held.modified;
        other.payload = serde_json::json!({"text": "equivocation"});
        let other = sign(other);
        assert_ne!(other.signature, held.signature);
        let err = store.put(&other, event(&other)).unwrap_err();
        assert!(
            matches!(err, StoreError::Refused(ReportError::VersionConflict { counter: c, .. }) if c == counter),
            "{err}"
        );
    }

    // An older version that is a revocation cannot precede a newer one.
    let stray = revoke(&other_chain[0]);
    assert_eq!(stray.version, 2);
    let err = store.put(&stray, event(&stray)).unwrap_err();
    assert!(
        matches!(err, StoreError::Refused(ReportError::RevokedFinal(_))),
        "{err}"
    );

    // An audit event out of bounds refuses the whole put.
    let v4 = sign(versions[2].next_version(t(60_000)));
    let mut bad_event = event(&v4);
    bad_event.actor.clear();
    assert!(matches!(
        store.put(&v4, bad_event),
        Err(StoreError::Invalid(_))
    ));

    assert_eq!(footprint(store), before);
    assert_eq!(store.history(&versions[0].key()).unwrap(), versions);
    assert_eq!(store.verify_audit().unwrap().first_broken, None);
}

fn batches(store: &impl ReportStore) {
    let a = chain("JPN", 2);
    let b = chain("USA", 1);
    // A later version whose kind changed: refused, the rest stored.
    let mut changed_kind = a[1].next_version(t(9_000));
    changed_kind.kind = Kind::new("track").unwrap();
    let changed_kind = sign(changed_kind);
    let batch: Vec<_> = [&a[0], &a[1], &changed_kind, &b[0], &a[0]]
        .into_iter()
        .map(|r| (r.clone(), event(r)))
        .collect();
    let outcomes = store.put_batch(&batch).unwrap();
    assert_eq!(outcomes.len(), 5);
    assert!(matches!(
        outcomes[0],
        Ok(PutOutcome::Stored { current: true, .. })
    ));
    assert!(matches!(
        outcomes[1],
        Ok(PutOutcome::Stored { current: true, .. })
    ));
    assert!(matches!(
        outcomes[2],
        Err(StoreError::Refused(ReportError::Malformed(_)))
    ));
    assert!(matches!(
        outcomes[3],
        Ok(PutOutcome::Stored { current: true, .. })
    ));
    assert!(matches!(outcomes[4], Ok(PutOutcome::Duplicate)));
    assert_eq!(footprint(store), (3, 3));
    assert_eq!(store.get(&a[0].key()).unwrap().as_ref(), Some(&a[1]));

    let too_many = vec![batch[0].clone(); BATCH_LEN_MAX + 1];
    assert!(matches!(
        store.put_batch(&too_many),
        Err(StoreError::LimitExceeded { .. })
    ));
    assert_eq!(footprint(store), (3, 3));
}

/// All pages of a query, checking the cursor chain on the way.
fn query_all(store: &impl ReportStore, mut query: ReportQuery) -> Vec<trilat_core::Report> {
    let mut reports = Vec::new();
    for _ in 0..1000 {
        let page = store.query(&query).unwrap();
        assert!(page.reports.len() <= query.limit);
        reports.extend(page.reports);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return reports,
        }
    }
    panic!("query did not finish in 1000 pages");
}

fn queries(store: &impl ReportStore) {
    // Ten reports: alternating owners and kinds, one per hour, on a line of
    // points from (120, 30) to (129, 39); every third an exercise.
    let mut all = Vec::new();
    for i in 0..10i64 {
        let owner = ["USA", "JPN"][i as usize % 2];
        let kind = ["note", "maritime.incident"][(i as usize / 2) % 2];
        let mut d = draft(owner, kind, i * 3_600_000);
        d.geometry = Some(point(120.0 + i as f64, 30.0 + i as f64));
        d.exercise = i % 3 == 0;
        let report = sign(d);
        store.put(&report, event(&report)).unwrap();
        all.push(report);
    }
    // Revoke the last one, and give the first a new version (moves it last).
    let revocation = revoke(&all[9]);
    store.put(&revocation, event(&revocation)).unwrap();
    let v2 = sign(all[0].next_version(t(100_000_000)));
    store.put(&v2, event(&v2)).unwrap();
    let mut current: Vec<_> = all[1..9].to_vec();
    current.push(v2.clone());

    #[track_caller]
    fn check(
        store: &impl ReportStore,
        current: &[trilat_core::Report],
        query: ReportQuery,
        expect_len: usize,
    ) {
        let expected: Vec<_> = current
            .iter()
            .filter(|r| query.matches(r))
            .cloned()
            .collect();
        assert_eq!(expected.len(), expect_len, "oracle for {query:?}");
        for limit in [1, 3, QUERY_LIMIT_MAX] {
            let got = query_all(
                store,
                ReportQuery {
                    limit,
                    ..query.clone()
                },
            );
            assert_eq!(got, expected, "{query:?} limit {limit}");
        }
    }
    let q = ReportQuery::default;
    check(store, &current, q(), 9);
    check(
        store,
        &current,
        ReportQuery {
            kind: Some(Kind::new("note").unwrap()),
            ..q()
        },
        5,
    );
    check(
        store,
        &current,
        ReportQuery {
            owner: Some(party("JPN")),
            ..q()
        },
        4,
    );
    check(
        store,
        &current,
        ReportQuery {
            observed_from: Some(t(2 * 3_600_000)),
            observed_to: Some(t(5 * 3_600_000)),
            ..q()
        },
        3,
    );
    check(
        store,
        &current,
        ReportQuery {
            exercise: Some(true),
            ..q()
        },
        3,
    );
    check(
        store,
        &current,
        ReportQuery {
            exercise: Some(false),
            ..q()
        },
        6,
    );
    check(
        store,
        &current,
        ReportQuery {
            bbox: Some([122.5, 32.5, 125.0, 35.0]),
            ..q()
        },
        3,
    );
    check(
        store,
        &current,
        ReportQuery {
            bbox: Some([140.0, 0.0, 150.0, 10.0]),
            ..q()
        },
        0,
    );
    let all_current = {
        let mut v = current.clone();
        v.insert(8, revocation.clone());
        v
    };
    check(
        store,
        &all_current,
        ReportQuery {
            include_revoked: true,
            ..q()
        },
        10,
    );
    check(
        store,
        &current,
        ReportQuery {
            owner: Some(party("USA")),
            kind: Some(Kind::new("note").unwrap()),
            bbox: Some([119.0, 29.0, 130.0, 40.0]),
            ..q()
        },
        3,
    );
    // Store order: the re-versioned report comes last.
    assert_eq!(query_all(store, q()).last(), Some(&v2));

    assert!(matches!(
        store.query(&ReportQuery { limit: QUERY_LIMIT_MAX + 1, ..q() }),
        Err(StoreError::LimitExceeded { limit, max }) if limit == QUERY_LIMIT_MAX + 1 && max == QUERY_LIMIT_MAX
    ));
    for bad in [
        ReportQuery { limit: 0, ..q() },
        ReportQuery {
            bbox: Some([10.0, 0.0, 5.0, 1.0]),
            ..q()
        },
        ReportQuery {
            bbox: Some([f64::NAN, 0.0, 5.0, 1.0]),
            ..q()
        },
    ] {
        assert!(
            matches!(store.query(&bad), Err(StoreError::Invalid(_))),
            "{bad:?}"
        );
    }
}

fn change_feed(store: &impl ReportStore) {
    let empty = store.changes(None, 10).unwrap();
    assert!(empty.changes.is_empty());
    assert!(!empty.more);

    let mut written = Vec::new();
    for owner in ["USA", "JPN", "KOR"] {
        let versions = chain(owner, 3);
        for report in &versions {
            store.put(report, event(report)).unwrap();
        }
        written.extend(versions);
    }
    let revocation = revoke(&written[8]);
    store.put(&revocation, event(&revocation)).unwrap();
    written.push(revocation);

    // Paging by 4 yields every version once, in store order.
    let mut seen = Vec::new();
    let mut cursor = empty.next;
    loop {
        let page = store.changes(Some(&cursor), 4).unwrap();
        assert!(page.changes.len() <= 4);
        seen.extend(page.changes);
        cursor = page.next;
        if !page.more {
            break;
        }
    }
    assert!(seen.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(
        seen.iter().map(|c| c.report.clone()).collect::<Vec<_>>(),
        written
    );

    // At the end: an empty page that resumes at the same place.
    let end = store.changes(Some(&cursor), 4).unwrap();
    assert!(end.changes.is_empty() && !end.more);
    assert_eq!(end.next, cursor);

    // A saved cursor (through its text form) resumes exactly after it.
    let saved = Cursor::parse(&cursor.to_string()).unwrap();
    let fresh = chain("USA", 2);
    for report in &fresh {
        store.put(report, event(report)).unwrap();
    }
    let page = store.changes(Some(&saved), 100).unwrap();
    assert_eq!(
        page.changes
            .iter()
            .map(|c| c.report.clone())
            .collect::<Vec<_>>(),
        fresh
    );
    assert!(!page.more);
    // Resuming from a mid-feed cursor gives the next change.
    let first_three = store.changes(None, 3).unwrap();
    assert!(first_three.more);
    let fourth = store.changes(Some(&first_three.next), 1).unwrap();
    assert_eq!(fourth.changes, seen[3..4].to_vec());

    assert!(matches!(
        store.changes(None, QUERY_LIMIT_MAX + 1),
        Err(StoreError::LimitExceeded { .. })
    ));
    let zero = store.changes(Some(&saved), 0).unwrap();
    assert!(zero.changes.is_empty() && zero.more);
    assert_eq!(zero.next, saved);
}

/// `changes_head` and `withdrawals_last_seq`: where a reader of what is
/// stored from now on starts (the bus's follower). The head is the cursor
/// a reader of the whole feed ends at; a version stored to history only, a
/// batch and a withdrawal move it; a refused write does not.
fn feed_heads(store: &impl ReportStore) {
    let read_to_end = |store: &dyn ReportStore| {
        let mut cursor = store.changes(None, 0).unwrap().next;
        loop {
            let page = store.changes(Some(&cursor), 3).unwrap();
            cursor = page.next;
            if !page.more {
                return cursor;
            }
        }
    };
    assert_eq!(store.changes_head().unwrap(), read_to_end(store));
    assert_eq!(store.withdrawals_last_seq().unwrap(), 0);
    let versions = chain("USA", 3);
    store.put(&versions[0], event(&versions[0])).unwrap();
    store.put(&versions[2], event(&versions[2])).unwrap();
    // To history only: still a change.
    store.put(&versions[1], event(&versions[1])).unwrap();
    let batch: Vec<_> = chain("JPN", 2)
        .into_iter()
        .map(|report| {
            let audit = event(&report);
            (report, audit)
        })
        .collect();
    store.put_batch(&batch).unwrap();
    let head = store.changes_head().unwrap();
    assert_eq!(head, read_to_end(store));
    assert_eq!(store.changes(Some(&head), 10).unwrap().changes, vec![]);
    // A refused write (a version after the revocation) moves nothing.
    let revocation = revoke(&versions[2]);
    store.put(&revocation, event(&revocation)).unwrap();
    let head = store.changes_head().unwrap();
    let late = sign(revocation.next_version(revocation.modified.add_ms(1000)));
    assert!(store.put(&late, event(&late)).is_err());
    assert_eq!(store.changes_head().unwrap(), head);
    // What is stored next is exactly what a reader at the head gets.
    let next = sign(draft("KOR", "note", 4));
    store.put(&next, event(&next)).unwrap();
    let page = store.changes(Some(&head), 10).unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].report, next);
    assert_eq!(store.changes_head().unwrap(), page.next);
    // The withdrawal log's head moves with each withdrawal recorded, not
    // with a refused repeat.
    // Version 2 of `next` (not stored) withdraws the copies of version 1.
    let next_narrowed = sign(next.next_version(next.modified.add_ms(1000)));
    for (n, report) in [&batch[1].0, &next_narrowed].into_iter().enumerate() {
        let withdrawal =
            trilat_core::Withdrawal::sign(report, &key(report.owner.as_str())).unwrap();
        let audit = AuditEvent::new(t(9_000), "peer", AuditAction::Withdraw).report(report.key());
        assert!(store.put_withdrawal(&withdrawal, audit.clone()).unwrap());
        assert_eq!(store.withdrawals_last_seq().unwrap(), n as u64 + 1);
        assert!(!store.put_withdrawal(&withdrawal, audit).unwrap());
        assert_eq!(store.withdrawals_last_seq().unwrap(), n as u64 + 1);
    }
    let log = store.withdrawals(0, 10).unwrap();
    assert_eq!(log.last().map(|w| w.seq), Some(2));
}

fn bad_cursors(store: &impl ReportStore, other: &impl ReportStore) {
    let report = sign(draft("USA", "note", 0));
    store.put(&report, event(&report)).unwrap();
    other.put(&report, event(&report)).unwrap();
    for garbage in [
        "",
        "abc",
        "c1.zz.1",
        "c1.0000000000000001.",
        "c9.0000000000000001.1",
    ] {
        assert!(
            matches!(Cursor::parse(garbage), Err(StoreError::BadCursor(_))),
            "{garbage:?}"
        );
    }
    let foreign = other.changes(None, 10).unwrap().next;
    let err = store.changes(Some(&foreign), 10).unwrap_err();
    assert!(matches!(err, StoreError::BadCursor(_)), "{err}");
    assert!(err.to_string().contains("another store"), "{err}");
    let query = ReportQuery {
        after: Some(foreign),
        ..ReportQuery::default()
    };
    assert!(matches!(store.query(&query), Err(StoreError::BadCursor(_))));
}

/// A peer request signature is fresh once, a replay while remembered,
/// and forgotten once older than the window the caller names.
fn peer_requests(store: &impl ReportStore) {
    let (a, b) = ([1u8; 64], [2u8; 64]);
    assert!(store.note_peer_request(&a, 1_000, 0).unwrap());
    assert!(!store.note_peer_request(&a, 1_500, 0).unwrap(), "a replay");
    assert!(store.note_peer_request(&b, 2_000, 0).unwrap());
    // Forgetting what was seen before 1,800 forgets `a`, keeps `b`.
    assert!(store.note_peer_request(&a, 3_000, 1_800).unwrap());
    assert!(!store.note_peer_request(&b, 3_000, 1_800).unwrap());
    assert!(!store.note_peer_request(&a, 3_100, 1_800).unwrap());
}

fn audit_log(store: &impl ReportStore) {
    let verification = store.verify_audit().unwrap();
    assert_eq!((verification.entries, verification.first_broken), (0, None));
    assert_eq!(store.audit_last_seq().unwrap(), 0);
    let mut entries = Vec::new();
    for i in 0..5 {
        let event = AuditEvent::new(t(i), "JPN:analyst-1", AuditAction::Read)
            .counterparty(party("JPN"))
            .detail(format!("query {i}"));
        let entry = store.append_audit(event.clone()).unwrap();
        assert_eq!(entry.seq, i as u64 + 1);
        assert_eq!(entry.event, event);
        assert!(entry.hash_is_valid());
        if let Some(previous) = entries.last() {
            let previous: &trilat_store::AuditEntry = previous;
            assert_eq!(entry.prev_hash, previous.hash);
        }
        entries.push(entry);
    }
    let report = sign(draft("USA", "note", 0));
    store.put(&report, event(&report)).unwrap();
    assert_eq!(store.audit(0, 100).unwrap()[..5], entries[..]);
    assert_eq!(store.audit(2, 2).unwrap(), entries[2..4].to_vec());
    let last = store.audit(5, 100).unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].event.report_key(), Some(report.key()));
    assert_eq!(last[0].prev_hash, entries[4].hash);
    assert!(store.audit(6, 100).unwrap().is_empty());
    assert!(matches!(
        store.audit(0, QUERY_LIMIT_MAX + 1),
        Err(StoreError::LimitExceeded { .. })
    ));
    let verification = store.verify_audit().unwrap();
    assert_eq!((verification.entries, verification.first_broken), (6, None));
    assert_eq!(store.audit_last_seq().unwrap(), 6);
    // An acknowledgement is an entry like any other, read back as written.
    let ack = AuditEvent::new(t(9), "JPN:watch", AuditAction::Acknowledge)
        .report(report.key())
        .detail("version 1");
    let ack_entry = store.append_audit(ack.clone()).unwrap();
    assert_eq!(ack_entry.seq, 7);
    assert_eq!(store.audit_last_seq().unwrap(), 7);
    assert_eq!(store.audit(6, 10).unwrap(), vec![ack_entry]);
    assert_eq!(store.verify_audit().unwrap().first_broken, None);

    let too_long = AuditEvent::new(t(0), "node", AuditAction::Other).detail("x".repeat(5000));
    assert!(matches!(
        store.append_audit(too_long),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.audit(0, 100).unwrap().len(), 7);
    // A batch is written whole, in order, chained like single entries…
    let batch: Vec<AuditEvent> = (0..3)
        .map(|i| AuditEvent::new(t(i), "node", AuditAction::Read).detail(format!("part {i}")))
        .collect();
    store.append_audit_batch(batch.clone()).unwrap();
    let after = store.audit(7, 100).unwrap();
    let events: Vec<AuditEvent> = after.iter().map(|e| e.event.clone()).collect();
    assert_eq!(events, batch);
    assert_eq!(after[0].prev_hash, store.audit(6, 1).unwrap()[0].hash);
    // …or not at all: one bad event refuses the whole batch.
    let mut bad = batch.clone();
    bad[1].detail = "x".repeat(5000);
    assert!(matches!(
        store.append_audit_batch(bad),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.audit(0, 100).unwrap().len(), 10);
    let verification = store.verify_audit().unwrap();
    assert_eq!(
        (verification.entries, verification.first_broken),
        (10, None)
    );
    // Serde shape the node returns.
    let json = serde_json::to_value(&entries[0]).unwrap();
    assert_eq!(json["event"]["action"], "read");
    assert_eq!(json["seq"], 1);
}

fn sync_state(store: &impl ReportStore) {
    assert_eq!(store.sync_state("peer:KOR:cursor").unwrap(), None);
    store
        .set_sync_state("peer:KOR:cursor", "c1.0000000000000001.5")
        .unwrap();
    store
        .set_sync_state("peer:KOR:cursor", "c1.0000000000000001.9")
        .unwrap();
    assert_eq!(
        store.sync_state("peer:KOR:cursor").unwrap().as_deref(),
        Some("c1.0000000000000001.9")
    );
    assert!(matches!(
        store.set_sync_state("", "x"),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.set_sync_state("k", &"x".repeat(5000)),
        Err(StoreError::Invalid(_))
    ));
}

/// A history longer than one page is a typed error, not a silent truncation
/// nor an unbounded allocation.
fn long_history(store: &impl ReportStore) {
    let versions = chain("JPN", QUERY_LIMIT_MAX as u64 + 1);
    let batch: Vec<_> = versions.iter().map(|r| (r.clone(), event(r))).collect();
    let outcomes = store.put_batch(&batch).unwrap();
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Ok(PutOutcome::Stored { current: true, .. }))));
    let id = versions[0].key();
    assert_eq!(store.get(&id).unwrap().as_ref(), versions.last());
    assert!(matches!(
        store.history(&id),
        Err(StoreError::LimitExceeded { max, .. }) if max == QUERY_LIMIT_MAX
    ));
}

/// Writers and readers on several threads: every put lands, the audit
/// chain stays intact.
fn threads<S: ReportStore>(store: S) {
    let store = std::sync::Arc::new(store);
    let handles: Vec<_> = ["USA", "JPN", "KOR", "PHL"]
        .into_iter()
        .map(|owner| {
            let store = std::sync::Arc::clone(&store);
            std::thread::spawn(move || {
                let versions = chain(owner, 10);
                for report in &versions {
                    store.put(report, event(report)).unwrap();
                    store.query(&ReportQuery::default()).unwrap();
                }
                versions.last().unwrap().clone()
            })
        })
        .collect();
    for handle in handles {
        let last = handle.join().unwrap();
        assert_eq!(store.get(&last.key()).unwrap(), Some(last));
    }
    let verification = store.verify_audit().unwrap();
    assert_eq!(
        (verification.entries, verification.first_broken),
        (40, None)
    );
}

/// A clock the test sets by hand, shared with the store.
#[derive(Clone, Default)]
pub struct HandClock(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl HandClock {
    pub fn set(&self, offset_ms: i64) {
        self.0
            .store(T0_MS + offset_ms, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn clock(&self) -> Clock {
        let reading = self.0.clone();
        std::sync::Arc::new(move || {
            Timestamp::from_unix_ms(reading.load(std::sync::atomic::Ordering::SeqCst))
        })
    }
}

/// Arrival times and the per-kind feed, against every store from `make`.
pub fn arrival_suite<S: ReportStore>(make: impl Fn(Clock) -> S) {
    arrival_times(&make);
    withdrawal_log(&make);
    let hand = HandClock::default();
    hand.set(0);
    kind_feed(&make(hand.clock()), &make(hand.clock()));
}

#[test]
fn memory_store_arrival() {
    arrival_suite(MemoryStore::with_clock);
}

#[test]
fn sqlite_store_arrival() {
    let dir = tempfile::tempdir().unwrap();
    let counter = std::cell::Cell::new(0);
    arrival_suite(|clock| {
        counter.set(counter.get() + 1);
        SqliteStore::open(dir.path().join(format!("arrival-{}.db", counter.get())))
            .unwrap()
            .with_clock(clock)
    });
}

#[test]
fn postgres_store_arrival() {
    let Some(server) = pg_server::server("postgres_store_arrival") else {
        return;
    };
    arrival_suite(|clock| server.store().with_clock(clock));
}

fn arrivals(store: &impl ReportStore) -> Vec<(u64, Timestamp)> {
    let page = store.changes(None, QUERY_LIMIT_MAX).unwrap();
    assert!(!page.more);
    page.changes.iter().map(|c| (c.seq, c.stored_at)).collect()
}

fn arrival_times<S: ReportStore>(make: &impl Fn(Clock) -> S) {
    let hand = HandClock::default();
    let store = make(hand.clock());
    // A report modified long before it arrives: stored_at is the arrival.
    hand.set(3_600_000);
    let old = sign(draft("JPN", "note", -86_400_000));
    store.put(&old, event(&old)).unwrap();
    assert_eq!(arrivals(&store).last().unwrap().1, t(3_600_000));
    assert_ne!(old.modified, t(3_600_000));

    // A batch arrives at one instant.
    hand.set(3_700_000);
    let batch: Vec<_> = ["USA", "KOR", "JPN"]
        .iter()
        .map(|owner| {
            let report = sign(draft(owner, "track", 10));
            let event = event(&report);
            (report, event)
        })
        .collect();
    store.put_batch(&batch).unwrap();
    let times: Vec<_> = arrivals(&store).iter().map(|(_, at)| *at).collect();
    assert_eq!(
        times,
        [t(3_600_000), t(3_700_000), t(3_700_000), t(3_700_000)]
    );

    // The clock steps back (an NTP correction): arrival is clamped to the
    // previous one, so the feed stays ordered by arrival.
    hand.set(1_000);
    let late = sign(draft("KOR", "note", 20));
    store.put(&late, event(&late)).unwrap();
    let (_, clamped) = *arrivals(&store).last().unwrap();
    assert_eq!(clamped, t(3_700_000));
    // ... and moves on once the clock passes it again.
    hand.set(3_800_000);
    let later = sign(draft("USA", "note", 30));
    store.put(&later, event(&later)).unwrap();
    let all = arrivals(&store);
    assert_eq!(all.last().unwrap().1, t(3_800_000));
    assert!(all.windows(2).all(|w| w[0].1 <= w[1].1), "{all:?}");

    // A duplicate stores nothing, so records no arrival.
    hand.set(4_000_000);
    assert_eq!(
        store.put(&later, event(&later)).unwrap(),
        PutOutcome::Duplicate
    );
    assert_eq!(arrivals(&store), all);
    // The kind feed carries the same arrival times as the full feed.
    let notes = store
        .changes_of_kind(&Kind::new("note").unwrap(), None, 10)
        .unwrap();
    for change in &notes.changes {
        assert!(all.contains(&(change.seq, change.stored_at)));
    }
}

/// Every withdrawal recorded is logged in order with its arrival (the
/// store clock, clamped when it steps back), each report's as often as a
/// higher one arrives; a repeat or a lower one is not logged; pages follow
/// `after_seq`.
fn withdrawal_log<S: ReportStore>(make: &impl Fn(Clock) -> S) {
    let hand = HandClock::default();
    let store = make(hand.clock());
    let usa = chain("USA", 4);
    let kor = chain("KOR", 2);
    let record = |report: &trilat_core::Report, owner: &str| {
        let withdrawal = trilat_core::Withdrawal::sign(report, &key(owner)).unwrap();
        let audit = AuditEvent::new(t(0), format!("peer:{owner}"), AuditAction::Withdraw)
            .report(report.key())
            .counterparty(party(owner));
        store.put_withdrawal(&withdrawal, audit).unwrap()
    };
    hand.set(5_000);
    assert!(record(&usa[1], "USA"));
    hand.set(9_000);
    assert!(record(&kor[1], "KOR"));
    assert!(!record(&usa[1], "USA"), "a repeat is not logged");
    hand.set(2_000); // the clock steps back: clamped to the last arrival
    assert!(record(&usa[3], "USA"));
    assert!(!record(&usa[2], "USA"), "a lower one is not logged");
    let logged: Vec<_> = store
        .withdrawals(0, 10)
        .unwrap()
        .into_iter()
        .map(|w| (w.seq, w.report, w.version, w.stored_at))
        .collect();
    assert_eq!(
        logged,
        vec![
            (1, usa[0].key(), 2, Some(t(5_000))),
            (2, kor[0].key(), 2, Some(t(9_000))),
            (3, usa[0].key(), 4, Some(t(9_000))),
        ]
    );
    let page = store.withdrawals(1, 1).unwrap();
    assert_eq!(page.iter().map(|w| w.seq).collect::<Vec<_>>(), vec![2]);
    assert_eq!(store.withdrawals(3, 10).unwrap(), vec![]);
}

fn kind_feed(store: &impl ReportStore, other: &impl ReportStore) {
    let note = Kind::new("note").unwrap();
    let track = Kind::new("track").unwrap();
    let empty = store.changes_of_kind(&note, None, 10).unwrap();
    assert!(empty.changes.is_empty() && !empty.more);

    let mut written = Vec::new();
    for i in 0..7 {
        let kind = if i % 3 == 0 { "track" } else { "note" };
        let mut versions = vec![sign(draft(["USA", "JPN", "KOR"][i % 3], kind, i as i64))];
        let next = sign(versions[0].next_version(t(i as i64 + 100)));
        versions.push(next);
        for report in &versions {
            store.put(report, event(report)).unwrap();
        }
        written.extend(versions);
    }
    let revocation = revoke(&written[3]);
    store.put(&revocation, event(&revocation)).unwrap();

    // Oracle: the full feed filtered by kind.
    let all = store.changes(None, QUERY_LIMIT_MAX).unwrap().changes;
    for kind in [&note, &track] {
        let expect: Vec<_> = all
            .iter()
            .filter(|c| c.report.kind == *kind)
            .cloned()
            .collect();
        assert!(!expect.is_empty());
        for page_len in [1, 2, 5, QUERY_LIMIT_MAX] {
            let mut seen = Vec::new();
            let mut cursor = None;
            loop {
                let page = store
                    .changes_of_kind(kind, cursor.as_ref(), page_len)
                    .unwrap();
                assert!(page.changes.len() <= page_len);
                seen.extend(page.changes);
                cursor = Some(page.next);
                if !page.more {
                    break;
                }
            }
            assert_eq!(seen, expect, "{kind} in pages of {page_len}");
            // The end resumes where it was.
            let end = store
                .changes_of_kind(kind, cursor.as_ref(), page_len)
                .unwrap();
            assert!(end.changes.is_empty() && !end.more);
            assert_eq!(Some(end.next), cursor);
        }
        // A cursor from the full feed (same form) resumes the kind's feed.
        let mid = store.changes(None, 5).unwrap().next;
        let rest = store
            .changes_of_kind(kind, Some(&mid), QUERY_LIMIT_MAX)
            .unwrap();
        let expect_rest: Vec<_> = expect.iter().filter(|c| c.seq > 5).cloned().collect();
        assert_eq!(rest.changes, expect_rest);
    }
    // A kind never stored: empty.
    let none = store
        .changes_of_kind(&Kind::new("missile.track").unwrap(), None, 10)
        .unwrap();
    assert!(none.changes.is_empty() && !none.more);
    // Bounds and foreign cursors.
    assert!(matches!(
        store.changes_of_kind(&note, None, QUERY_LIMIT_MAX + 1),
        Err(StoreError::LimitExceeded { .. })
    ));
    let foreign = other.changes(None, 1).unwrap().next;
    assert!(matches!(
        store.changes_of_kind(&note, Some(&foreign), 10),
        Err(StoreError::BadCursor(_))
    ));
}
