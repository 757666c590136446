//! Leases and their fence, on every store: the same checks on memory,
//! SQLite and PostgreSQL; on PostgreSQL also two processes' stores (two
//! pools) on one database, the database's clock, and the step from
//! schema version 1.

use std::sync::Arc;
use std::time::Duration;

use trilat_store::{
    Lease, LeaseGrant, MemoryStore, PutOutcome, ReportStore, SqliteStore, StoreError,
};

use crate::fixture::*;
use crate::pg_server;

fn granted(grant: LeaseGrant) -> Lease {
    match grant {
        LeaseGrant::Granted(lease) => lease,
        held => panic!("expected a grant, got {held:?}"),
    }
}

#[track_caller]
fn assert_fenced<T: std::fmt::Debug>(res: Result<T, StoreError>, says: &str) {
    match res {
        Err(StoreError::Fenced(message)) => assert!(message.contains(says), "{message}"),
        other => panic!("expected Fenced ({says}), got {other:?}"),
    }
}

/// The lease `name` as `store` lists it.
#[track_caller]
fn listed(store: &dyn ReportStore, name: &str) -> trilat_store::LeaseState {
    let leases = store.leases().unwrap();
    assert!(leases.windows(2).all(|w| w[0].name < w[1].name), "by name");
    leases
        .into_iter()
        .find(|lease| lease.name == name)
        .unwrap_or_else(|| panic!("{name} is not listed"))
}

/// `a` and `b` are two processes' handles on one store (the same handle
/// for the stores of one process).
fn leases_and_fence(a: Arc<dyn ReportStore>, b: Arc<dyn ReportStore>) {
    let name = format!("link:JPN{:x}", rand::random::<u16>());
    let lease_a = granted(a.acquire_lease(&name, "usa-a", 60_000).unwrap());
    assert_eq!(lease_a.token, 1);
    match b.acquire_lease(&name, "usa-b", 60_000).unwrap() {
        LeaseGrant::HeldBy {
            holder,
            token,
            remaining_ms,
        } => {
            assert_eq!((holder.as_str(), token), ("usa-a", 1));
            assert!(
                remaining_ms > 50_000 && remaining_ms <= 60_000,
                "{remaining_ms}"
            );
        }
        other => panic!("held by usa-a, got {other:?}"),
    }
    // Either process lists it: who holds it, under which token, how long.
    for store in [&a, &b] {
        let listed = listed(store.as_ref(), &name);
        assert_eq!((listed.holder.as_str(), listed.token), ("usa-a", 1));
        assert!(listed.remaining_ms > 50_000, "{listed:?}");
    }
    // The holder asks again: the same tenure, extended.
    assert_eq!(
        granted(a.acquire_lease(&name, "usa-a", 60_000).unwrap()),
        lease_a
    );
    assert_eq!(a.renew_lease(&lease_a, 60_000).unwrap().token, 1);

    // Writes as owner pass while the lease is held.
    let fenced_a = a.clone().fenced(&lease_a).unwrap();
    // Versions 1 to 3 of one report.
    let reports = chain("JPN", 3);
    assert!(matches!(
        fenced_a.put(&reports[0], event(&reports[0])).unwrap(),
        PutOutcome::Stored { .. }
    ));
    fenced_a.set_sync_state("pull-cursor:JPN", "one").unwrap();
    let entries_before = a.audit_last_seq().unwrap();

    // Released, then taken by b: a higher token.
    a.release_lease(&lease_a).unwrap();
    let lease_b = granted(b.acquire_lease(&name, "usa-b", 60_000).unwrap());
    assert_eq!(lease_b.token, 2, "a new holder gets a higher token");
    let listed_b = listed(a.as_ref(), &name);
    assert_eq!((listed_b.holder.as_str(), listed_b.token), ("usa-b", 2));
    let moved = "moved to usa-b under token 2";
    // Every write of the old owner is refused and writes nothing.
    let batch = vec![(reports[1].clone(), event(&reports[1]))];
    assert_fenced(fenced_a.put_batch(&batch), moved);
    assert_fenced(fenced_a.put(&reports[1], event(&reports[1])), moved);
    assert_fenced(fenced_a.set_sync_state("pull-cursor:JPN", "two"), moved);
    let audit = trilat_store::AuditEvent::new(t(0), "federation", trilat_store::AuditAction::Other);
    assert_fenced(fenced_a.append_audit_batch(vec![audit.clone()]), moved);
    assert_fenced(fenced_a.append_audit(audit), moved);
    assert_fenced(a.renew_lease(&lease_a, 60_000), moved);
    assert_eq!(a.version(&reports[1].key(), 2).unwrap(), None);
    assert_eq!(
        a.sync_state("pull-cursor:JPN").unwrap().as_deref(),
        Some("one")
    );
    assert_eq!(a.audit_last_seq().unwrap(), entries_before);
    // Reads through the old owner's handle still work.
    assert_eq!(
        fenced_a.get(&reports[0].key()).unwrap().as_ref(),
        Some(&reports[0])
    );

    // The new owner writes; the unfenced store is never fenced.
    let fenced_b = b.clone().fenced(&lease_b).unwrap();
    fenced_b.put_batch(&batch).unwrap();
    fenced_b.set_sync_state("pull-cursor:JPN", "two").unwrap();
    a.set_sync_state("other", "x").unwrap();

    // An expired lease fences its holder too, and a fresh tenure (even the
    // same holder's) takes the next token.
    let short = format!("{name}-short");
    let lease = granted(b.acquire_lease(&short, "usa-b", 150).unwrap());
    let fenced = b.clone().fenced(&lease).unwrap();
    fenced.set_sync_state("k", "v").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_fenced(fenced.set_sync_state("k", "w"), "expired");
    assert_fenced(b.renew_lease(&lease, 1000), "expired");
    assert_eq!(
        listed(a.as_ref(), &short).remaining_ms,
        0,
        "listed as expired"
    );
    let again = granted(b.acquire_lease(&short, "usa-b", 1000).unwrap());
    assert_eq!(again.token, 2);
    assert_fenced(
        fenced.set_sync_state("k", "w"),
        "moved to usa-b under token 2",
    );

    // Bad requests are refused before the store is asked.
    for (name, holder, duration_ms) in [
        ("", "a", 1000),
        ("link JPN", "a", 1000),
        ("link:JPN", "a;b", 1000),
        ("link:JPN", "a", 0),
        ("link:JPN", "a", trilat_store::LEASE_DURATION_MS_MAX + 1),
    ] {
        assert!(
            matches!(
                a.acquire_lease(name, holder, duration_ms),
                Err(StoreError::Invalid(_))
            ),
            "{name:?} {holder:?} {duration_ms}"
        );
    }
}

#[test]
fn memory_leases() {
    let store: Arc<dyn ReportStore> = Arc::new(MemoryStore::new());
    leases_and_fence(store.clone(), store);
}

#[test]
fn sqlite_leases() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ReportStore> =
        Arc::new(SqliteStore::open(dir.path().join("store.db")).unwrap());
    leases_and_fence(store.clone(), store);
}

#[test]
fn postgres_leases() {
    let Some(server) = pg_server::server("postgres_leases") else {
        return;
    };
    let schema = server.schema();
    let a: Arc<dyn ReportStore> = Arc::new(server.store_in(&schema));
    let b: Arc<dyn ReportStore> = Arc::new(server.store_in(&schema));
    leases_and_fence(a, b);
}

/// Many processes (threads with stores of their own) racing for one
/// lease: each tenure has one holder, tokens only go up, and a write under
/// a fence passes only for the holder of the time.
#[test]
fn postgres_racing_holders_get_one_tenure_each() {
    let Some(server) = pg_server::server("postgres_racing_holders_get_one_tenure_each") else {
        return;
    };
    let schema = server.schema();
    let tenures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for holder_idx in 0..4 {
            let store: Arc<dyn ReportStore> = Arc::new(server.store_in(&schema));
            let tenures = &tenures;
            scope.spawn(move || {
                let holder = format!("usa-{holder_idx}");
                for _ in 0..30 {
                    if let LeaseGrant::Granted(lease) =
                        store.acquire_lease("link:JPN", &holder, 40).unwrap()
                    {
                        let fenced = store.clone().fenced(&lease).unwrap();
                        if fenced.set_sync_state("owner", &holder).is_ok() {
                            tenures.lock().unwrap().push((lease.token, holder.clone()));
                        }
                        store.release_lease(&lease).unwrap();
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
        }
    });
    let mut tenures = tenures.into_inner().unwrap();
    assert!(tenures.len() >= 4, "{tenures:?}");
    tenures.sort();
    for pair in tenures.windows(2) {
        assert!(
            pair[0].0 != pair[1].0 || pair[0].1 == pair[1].1,
            "two holders wrote under one token: {pair:?}"
        );
    }
}

/// A store of schema version 1 (no leases) is stepped to version 2 on
/// open, keeping what it holds.
#[test]
fn postgres_schema_1_is_upgraded_with_leases() {
    let Some(server) = pg_server::server("postgres_schema_1_is_upgraded_with_leases") else {
        return;
    };
    let schema = server.schema();
    let report = chain("JPN", 1).remove(0);
    {
        let store = server.store_in(&schema);
        store.put(&report, event(&report)).unwrap();
    }
    server
        .execute(
            &schema,
            "DROP TRIGGER store_head_fenced ON store_head;
             DROP TRIGGER sync_state_fenced ON sync_state;
             DROP TRIGGER peer_request_seen_fenced ON peer_request_seen;
             DROP FUNCTION trilat_check_fence();
             DROP TABLE lease;
             UPDATE store_meta SET value = '1' WHERE key = 'schema_version';",
        )
        .unwrap();
    let store = Arc::new(server.store_in(&schema));
    assert_eq!(store.get(&report.key()).unwrap().as_ref(), Some(&report));
    assert_eq!(store.verify_audit().unwrap().first_broken, None);
    let lease = granted(store.acquire_lease("link:KOR", "usa-a", 1000).unwrap());
    store
        .clone()
        .fenced(&lease)
        .unwrap()
        .set_sync_state("k", "v")
        .unwrap();
    server
        .execute(
            &schema,
            "DO $$ BEGIN IF (SELECT value FROM store_meta WHERE key = 'schema_version') <> '2' \
             THEN RAISE EXCEPTION 'not upgraded'; END IF; END $$;",
        )
        .unwrap();
}
