//! Property: versions of several reports, with duplicates, put in any order
//! (singly or in batches) converge to the same current state and history,
//! in both stores.

use std::sync::OnceLock;

use proptest::prelude::*;
use trilat_core::Report;
use trilat_store::{MemoryStore, PutOutcome, ReportQuery, ReportStore, SqliteStore};

use crate::fixture::*;

/// Three reports of four versions each; the third ends in a revocation.
/// Signed once: signing dominates otherwise.
fn pool() -> &'static Vec<Vec<Report>> {
    static POOL: OnceLock<Vec<Vec<Report>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut chains = vec![chain("USA", 4), chain("JPN", 4), chain("KOR", 3)];
        let revocation = revoke(chains[2].last().unwrap());
        chains[2].push(revocation);
        chains
    })
}

fn put_all(store: &impl ReportStore, order: &[(usize, usize)], batch_len: usize) {
    let pool = pool();
    for group in order.chunks(batch_len) {
        let batch: Vec<_> = group
            .iter()
            .map(|&(r, v)| (pool[r][v].clone(), event(&pool[r][v])))
            .collect();
        for outcome in store.put_batch(&batch).unwrap() {
            assert!(
                matches!(
                    outcome,
                    Ok(PutOutcome::Stored { .. } | PutOutcome::Duplicate)
                ),
                "{outcome:?}"
            );
        }
    }
}

fn check_converged(store: &impl ReportStore, order: &[(usize, usize)]) {
    let pool = pool();
    for (r, versions) in pool.iter().enumerate() {
        let mut put: Vec<usize> = order
            .iter()
            .filter(|(x, _)| *x == r)
            .map(|(_, v)| *v)
            .collect();
        put.sort_unstable();
        put.dedup();
        let expected_history: Vec<Report> = put.iter().map(|v| versions[*v].clone()).collect();
        assert_eq!(store.history(&versions[0].id).unwrap(), expected_history);
        assert_eq!(
            store.get(&versions[0].id).unwrap(),
            expected_history.last().cloned()
        );
    }
    let mut feed = store.changes(None, 1000).unwrap().changes;
    feed.sort_by_key(|c| (c.report.id, c.report.version));
    let distinct: std::collections::BTreeSet<_> = order.iter().collect();
    assert_eq!(
        feed.len(),
        distinct.len(),
        "each distinct version once in the feed"
    );
    assert_eq!(store.verify_audit().unwrap().entries, distinct.len() as u64);
}

fn current_state(store: &impl ReportStore) -> Vec<Report> {
    let mut reports = store
        .query(&ReportQuery {
            include_revoked: true,
            ..ReportQuery::default()
        })
        .unwrap()
        .reports;
    reports.sort_by_key(|r| r.id);
    reports
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_order_converges(
        order in proptest::collection::vec((0usize..3, 0usize..4), 1..40),
        batch_len in 1usize..8,
    ) {
        let memory = MemoryStore::new();
        put_all(&memory, &order, batch_len);
        check_converged(&memory, &order);

        let sqlite = SqliteStore::open(":memory:").unwrap();
        put_all(&sqlite, &order, 1 + batch_len % 3);
        check_converged(&sqlite, &order);

        // The same set in the reverse order, one at a time, ends the same.
        let reversed = MemoryStore::new();
        let mut back = order.clone();
        back.reverse();
        put_all(&reversed, &back, 1);
        prop_assert_eq!(current_state(&memory), current_state(&sqlite));
        prop_assert_eq!(current_state(&memory), current_state(&reversed));
    }
}
