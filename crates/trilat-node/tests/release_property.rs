//! Property: whatever markings are posted at one node, the set visible at
//! each other node's API is exactly what the release rule allows for each
//! report's current version; when a later version narrows a report away
//! from a party that was released an earlier one, that party's copy is
//! withdrawn (and it never holds a version the rule forbids it).

use proptest::prelude::*;
use serde_json::json;
use trilat_node::config::Role;

use crate::common::{cluster, eventually, party, Api};

const LEVELS: [&str; 3] = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"];
const TLPS: [&str; 5] = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];
const REL_TO: [&str; 4] = ["USA", "JPN", "KOR", "TRILAT"];

/// Level, TLP, `rel_to` mask, relay allowed, and for some reports a second
/// version keeping only the `rel_to` entries of a second mask.
type Posting = (usize, usize, Vec<bool>, bool, Option<Vec<bool>>);

fn marking() -> impl Strategy<Value = Posting> {
    (
        0..3usize,
        0..5usize,
        proptest::collection::vec(any::<bool>(), 4),
        any::<bool>(),
        proptest::option::of(proptest::collection::vec(any::<bool>(), 4)),
    )
}

/// The marking JSON of `rel_to` (a mask over [`REL_TO`]).
fn marking_json(level: usize, tlp: usize, rel_to: &[bool], relay: bool) -> serde_json::Value {
    let rel_to: Vec<&str> = REL_TO
        .iter()
        .zip(rel_to)
        .filter(|(_, on)| **on)
        .map(|(p, _)| *p)
        .collect();
    json!({"level": LEVELS[level], "tlp": TLPS[tlp], "rel_to": rel_to,
           "further_sharing": if relay { "within-rel-to" } else { "none" }})
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

async fn check(owner_idx: usize, markings: Vec<Posting>) {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let parties = ["USA", "JPN", "KOR"];
    let owner = cluster.node(parties[owner_idx]);
    let poster = Api::new(&owner.url, owner.admin_token());
    // Every version posted, per report: (first, current).
    let mut posted = Vec::new();
    for (level, tlp, rel_to, relay, narrowing) in markings {
        let body = json!({
            "kind": "note",
            "marking": marking_json(level, tlp, &rel_to, relay),
            "payload": {"text": "property"},
        });
        let (status, created) = poster.post("/api/v1/reports", &body).await;
        assert_eq!(status, 201, "{created}");
        let first =
            serde_json::from_value::<trilat_core::Report>(created["report"].clone()).unwrap();
        let current = match narrowing {
            None => first.clone(),
            Some(keep) => {
                let kept: Vec<bool> = rel_to.iter().zip(&keep).map(|(a, b)| *a && *b).collect();
                let body = json!({
                    "kind": "note",
                    "marking": marking_json(level, tlp, &kept, relay),
                    "payload": {"text": "property, narrowed"},
                });
                let response = poster
                    .client
                    .put(format!("{}/api/v1/reports/{}", poster.url, first.key()))
                    .bearer_auth(&poster.token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 200);
                let answer: serde_json::Value = response.json().await.unwrap();
                serde_json::from_value(answer["report"].clone()).unwrap()
            }
        };
        posted.push((first, current));
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
            reader.report(&barrier.key()).await.is_some()
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
        let me = party(reader_party);
        let allowed: std::collections::BTreeSet<_> = posted
            .iter()
            .filter(|(_, current)| policy.release(current, &me).is_ok())
            .map(|(_, current)| current.id)
            .collect();
        assert_eq!(visible, allowed, "at {reader_party}");
        // Narrowed away from this party after it was released the first
        // version: whatever it holds of the report is withdrawn.
        let store = &cluster.state(reader_party).store;
        for (first, current) in &posted {
            let narrowed_away =
                policy.release(first, &me).is_ok() && policy.release(current, &me).is_err();
            if !narrowed_away {
                continue;
            }
            let withdrawal = store.withdrawal(&first.key()).unwrap();
            assert_eq!(
                withdrawal.map(|w| w.version),
                Some(current.version),
                "{} at {reader_party}",
                first.id
            );
        }
        // No version this party may not have ever reached its store.
        let held = store.changes(None, 1000).unwrap();
        for change in &held.changes {
            assert!(
                policy.release(&change.report, &me).is_ok(),
                "{reader_party} holds {} v{}",
                change.report.id,
                change.report.version
            );
        }
    }
    let _ = Role::Reader;
}
