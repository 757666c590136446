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

/// Forty reports spread over owners, kinds, hours, positions (some without
/// a geometry, some exercises, some revoked).
fn query_pool() -> &'static Vec<Report> {
    static POOL: OnceLock<Vec<Report>> = OnceLock::new();
    POOL.get_or_init(|| {
        (0..40i64)
            .map(|i| {
                let owner = ["USA", "JPN", "KOR"][i as usize % 3];
                let kind = ["note", "maritime.incident"][i as usize % 2];
                let mut d = draft(owner, kind, (i * 7 % 24) * 3_600_000);
                if i % 5 != 4 {
                    d.geometry = Some(point(
                        120.0 + (i * 3 % 20) as f64,
                        30.0 + (i * 7 % 15) as f64,
                    ));
                }
                d.exercise = i % 4 == 0;
                let report = sign(d);
                if i % 6 == 5 {
                    revoke(&report)
                } else {
                    report
                }
            })
            .collect()
    })
}

/// The naive oracle, written independently of `ReportQuery::matches`.
fn oracle(query: &ReportQuery, report: &Report) -> bool {
    let kind_ok = query.kind.as_ref().is_none_or(|k| k == &report.kind);
    let owner_ok = query.owner.as_ref().is_none_or(|o| o == &report.owner);
    let from_ok = query.observed_from.is_none_or(|t| report.observed_at >= t);
    let to_ok = query.observed_to.is_none_or(|t| report.observed_at < t);
    let exercise_ok = query.exercise.is_none_or(|e| e == report.exercise);
    let revoked_ok = query.include_revoked || !report.revoked;
    let bbox_ok = match query.bbox {
        None => true,
        Some([w, s, e, n]) => report.geometry.as_ref().is_some_and(|g| {
            let lon = g["coordinates"][0].as_f64().unwrap();
            let lat = g["coordinates"][1].as_f64().unwrap();
            w <= lon && lon <= e && s <= lat && lat <= n
        }),
    };
    kind_ok && owner_ok && from_ok && to_ok && exercise_ok && revoked_ok && bbox_ok
}

fn query_strategy() -> impl Strategy<Value = ReportQuery> {
    (
        proptest::option::of(prop_oneof![
            Just("note"),
            Just("maritime.incident"),
            Just("cyber.stix")
        ]),
        proptest::option::of(prop_oneof![
            Just("USA"),
            Just("JPN"),
            Just("KOR"),
            Just("PHL")
        ]),
        proptest::option::of(0i64..24),
        proptest::option::of(0i64..24),
        proptest::option::of((118.0f64..142.0, 28.0f64..47.0, 0.0f64..12.0, 0.0f64..10.0)),
        proptest::option::of(any::<bool>()),
        any::<bool>(),
        1usize..7,
    )
        .prop_map(
            |(kind, owner, from, to, bbox, exercise, include_revoked, limit)| ReportQuery {
                kind: kind.map(|k| trilat_core::Kind::new(k).unwrap()),
                owner: owner.map(party),
                observed_from: from.map(|h| t(h * 3_600_000)),
                observed_to: to.map(|h| t(h * 3_600_000)),
                bbox: bbox.map(|(w, s, dw, dh)| [w, s, w + dw, s + dh]),
                exercise,
                include_revoked,
                after: None,
                limit,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn queries_match_a_naive_oracle(
        mask in proptest::collection::vec(any::<bool>(), 40),
        query in query_strategy(),
    ) {
        let chosen: Vec<&Report> = query_pool().iter().zip(&mask).filter(|(_, m)| **m).map(|(r, _)| r).collect();
        let sqlite = SqliteStore::open(":memory:").unwrap();
        let memory = MemoryStore::new();
        for report in &chosen {
            sqlite.put(report, event(report)).unwrap();
            memory.put(report, event(report)).unwrap();
        }
        let expected: Vec<Report> = chosen.iter().filter(|r| oracle(&query, r)).map(|r| (*r).clone()).collect();
        for store in [&sqlite as &dyn ReportStore, &memory] {
            let mut got = Vec::new();
            let mut query = query.clone();
            for _ in 0..50 {
                let page = store.query(&query).unwrap();
                prop_assert!(page.reports.len() <= query.limit);
                got.extend(page.reports);
                match page.next {
                    Some(next) => query.after = Some(next),
                    None => break,
                }
            }
            prop_assert_eq!(&got, &expected);
        }
    }
}
