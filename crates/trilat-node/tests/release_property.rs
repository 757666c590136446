//! Property: whatever markings are posted at one node, the set visible at
//! each other node's API is exactly what the release rule allows.

use proptest::prelude::*;
use serde_json::json;
use trilat_node::config::Role;

use crate::common::{cluster, eventually, party, Api};

const LEVELS: [&str; 3] = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"];
const TLPS: [&str; 5] = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];
const REL_TO: [&str; 4] = ["USA", "JPN", "KOR", "TRILAT"];

fn marking() -> impl Strategy<Value = (usize, usize, Vec<bool>, bool)> {
    (
        0..3usize,
        0..5usize,
        proptest::collection::vec(any::<bool>(), 4),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, ..ProptestConfig::default() })]
    #[test]
    fn visible_set_equals_release_rule(
        owner_idx in 0..3usize,
        markings in proptest::collection::vec(marking(), 1..12),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(check(owner_idx, markings));
    }
}

async fn check(owner_idx: usize, markings: Vec<(usize, usize, Vec<bool>, bool)>) {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let parties = ["USA", "JPN", "KOR"];
    let owner = cluster.node(parties[owner_idx]);
    let poster = Api::new(&owner.url, owner.admin_token());
    let mut posted = Vec::new();
    for (level, tlp, rel_to, relay) in markings {
        let rel_to: Vec<&str> = REL_TO
            .iter()
            .zip(&rel_to)
            .filter(|(_, on)| **on)
            .map(|(p, _)| *p)
            .collect();
        let body = json!({
            "kind": "note",
            "marking": {"level": LEVELS[level], "tlp": TLPS[tlp], "rel_to": rel_to,
                        "further_sharing": if relay { "within-rel-to" } else { "none" }},
            "payload": {"text": "property"},
        });
        let (status, created) = poster.post("/api/v1/reports", &body).await;
        assert_eq!(status, 201, "{created}");
        posted.push(
            serde_json::from_value::<trilat_core::Report>(created["report"].clone()).unwrap(),
        );
    }
    let barrier = poster
        .post_note("barrier", "UNCLASSIFIED", "CLEAR", &["TRILAT"])
        .await;
    let policy = &cluster.state("USA").policy;
    for (idx, reader_party) in parties.iter().enumerate() {
        if idx == owner_idx {
            continue;
        }
        let node = cluster.node(reader_party);
        let reader = Api::new(&node.url, node.reader_token(&party(reader_party)));
        eventually("barrier arrives", || async {
            reader.report(&barrier.id).await.is_some()
        })
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let visible: std::collections::BTreeSet<_> = reader
            .all_reports()
            .await
            .into_iter()
            .filter(|r| r.id != barrier.id)
            .map(|r| r.id)
            .collect();
        let allowed: std::collections::BTreeSet<_> = posted
            .iter()
            .filter(|r| policy.release(r, &party(reader_party)).is_ok())
            .map(|r| r.id)
            .collect();
        assert_eq!(visible, allowed, "at {reader_party}");
    }
    let _ = Role::Reader;
}
