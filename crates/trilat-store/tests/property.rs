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
        assert_eq!(store.history(&versions[0].key()).unwrap(), expected_history);
        assert_eq!(
            store.get(&versions[0].key()).unwrap(),
            expected_history.last().cloned()
        );
    }
    let mut feed = store.changes(None, 1000).unwrap().changes;
    feed.sort_by_key(|c| (c.report.key(), c.report.version));
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
    reports.sort_by_key(|r| r.key());
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

        // Small batches look each id up; from 8 reports on, a batch asks
        // once which ids are held: both paths, with duplicates and several
        // versions of one report inside a batch.
        let sqlite = SqliteStore::open(":memory:").unwrap();
        let sqlite_batch_len = if batch_len % 2 == 0 { 1 + batch_len % 3 } else { 6 + batch_len };
        put_all(&sqlite, &order, sqlite_batch_len);
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
                include_withdrawn: false,
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

/// Sixty reports whose geometries are boxes (two-point line strings) of
/// 0 to 3 degrees a side near Korea and Japan, straddling the store's grid
/// cells and its small/large box threshold, some at the grid's edges.
fn box_pool() -> &'static Vec<Report> {
    static POOL: OnceLock<Vec<Report>> = OnceLock::new();
    POOL.get_or_init(|| {
        (0..60i64)
            .map(|i| {
                let mut d = draft(["USA", "JPN", "KOR"][i as usize % 3], "note", i);
                let (w, s) = match i {
                    0 => (-180.0, -90.0),
                    1 => (179.5, 89.9),
                    _ => (
                        124.0 + (i * 37 % 100) as f64 * 0.07,
                        33.0 + (i * 53 % 100) as f64 * 0.05,
                    ),
                };
                let side = [0.0, 0.1, 0.24, 0.26, 0.49, 0.5, 0.51, 1.3, 3.0][i as usize % 9];
                let (e, n) = ((w + side).min(180.0), (s + side * 0.7).min(90.0));
                d.geometry = Some(if side == 0.0 {
                    point(w, s)
                } else {
                    serde_json::json!({"type": "LineString", "coordinates": [[w, s], [e, n]]})
                });
                sign(d)
            })
            .collect()
    })
}

/// The box oracle: min/max over the geometry's positions.
fn box_oracle([w, s, e, n]: [f64; 4], report: &Report) -> bool {
    let g = report.geometry.as_ref().unwrap();
    let positions: Vec<(f64, f64)> = match g["type"].as_str().unwrap() {
        "Point" => vec![(
            g["coordinates"][0].as_f64().unwrap(),
            g["coordinates"][1].as_f64().unwrap(),
        )],
        _ => g["coordinates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect(),
    };
    let lon_min = positions.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let lon_max = positions
        .iter()
        .map(|p| p.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let lat_min = positions.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let lat_max = positions
        .iter()
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max);
    lon_min <= e && lon_max >= w && lat_min <= n && lat_max >= s
}

/// One SQLite store with the box pool, filled once.
fn box_store() -> &'static SqliteStore {
    static STORE: OnceLock<SqliteStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = SqliteStore::open(":memory:").unwrap();
        let batch: Vec<_> = box_pool().iter().map(|r| (r.clone(), event(r))).collect();
        assert!(store.put_batch(&batch).unwrap().iter().all(|o| o.is_ok()));
        store
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Bounding-box queries (served by the grid cells in SQLite) find
    /// exactly the boxes that intersect, small or large, whatever the
    /// query's size (up to the whole world, past the cell-list limit).
    #[test]
    fn bbox_queries_match_a_box_oracle(
        w in -180.0f64..180.0,
        s in -90.0f64..90.0,
        dw in prop_oneof![0.0f64..1.0, 0.0f64..8.0, 0.0f64..360.0],
        dh in prop_oneof![0.0f64..1.0, 0.0f64..8.0, 0.0f64..180.0],
        placement in 0usize..3,
        anchor in 0usize..60,
    ) {
        let (w, s) = match placement {
            // Near the pool, or queries rarely match.
            0 => (123.0 + (w + 180.0) / 40.0, 32.0 + (s + 90.0) / 30.0),
            // The query's south-west corner inside or just beyond a pool
            // box: probes the edges of the candidate cells.
            1 => {
                let g = &box_pool()[anchor].geometry.as_ref().unwrap()["coordinates"];
                let corner = if g[0].is_array() { &g[0] } else { g };
                let (bw, bs) = (corner[0].as_f64().unwrap(), corner[1].as_f64().unwrap());
                (bw + (w + 180.0) / 600.0, bs + (s + 90.0) / 300.0)
            }
            _ => (w, s),
        };
        let (w, s) = (w.min(180.0), s.min(90.0));
        let bbox = [w, s, (w + dw).min(180.0), (s + dh).min(90.0)];
        let expected: Vec<&Report> = box_pool().iter().filter(|r| box_oracle(bbox, r)).collect();
        let page = box_store()
            .query(&ReportQuery { bbox: Some(bbox), limit: 1000, ..ReportQuery::default() })
            .unwrap();
        prop_assert_eq!(page.reports.iter().collect::<Vec<_>>(), expected, "{:?}", bbox);
    }
}
