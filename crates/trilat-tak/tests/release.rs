//! What may go to a TAK destination: never more than its party may see,
//! never above its own accreditation, never across the exercise line.

use proptest::prelude::*;
use serde_json::json;
use trilat_core::{FurtherSharing, Marking, Policy, Tlp};
use trilat_tak::{release_feed, release_report, Destination, TakRefusal};

use crate::common::*;

const LEVELS: [&str; 3] = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"];
const PARTIES: [&str; 4] = ["USA", "JPN", "KOR", "AUS"];

fn destination(party_code: &str, level_max: &str, exercise: bool) -> Destination {
    Destination {
        party: party(party_code),
        level_max: level_max.into(),
        exercise,
    }
}

#[track_caller]
fn check(node: &str, owner: &str, m: Marking, dest: Destination, expect: Result<(), &str>) {
    let policy = Policy::trilateral_default();
    let report = report(owner, "note", m, json!({"text": "x"}), T0_MS);
    let got = release_report(&policy, &party(node), &dest, &report).map_err(|e| e.to_string());
    match expect {
        Ok(()) => assert_eq!(got, Ok(())),
        Err(fragment) => {
            let e = got.expect_err("refused");
            assert!(e.contains(fragment), "{e:?} does not say {fragment:?}");
        }
    }
}

#[test]
fn release_to_a_tak_destination() {
    let trilat_secret = || marking("SECRET", &["TRILAT"]);
    // The node's own party, accredited high enough.
    check(
        "JPN",
        "KOR",
        trilat_secret(),
        destination("JPN", "SECRET", false),
        Ok(()),
    );
    // A TAK server accredited below the report: refused entirely.
    check(
        "JPN",
        "KOR",
        trilat_secret(),
        destination("JPN", "CONFIDENTIAL", false),
        Err("accredited up to CONFIDENTIAL"),
    );
    // Not in rel_to.
    check(
        "JPN",
        "JPN",
        marking("UNCLASSIFIED", &["JPN", "KOR"]),
        destination("USA", "SECRET", false),
        Err("USA is not in the releasability list"),
    );
    // A party outside every agreement.
    check(
        "JPN",
        "JPN",
        marking("UNCLASSIFIED", &["JPN", "AUS"]),
        destination("AUS", "SECRET", false),
        Err("no sharing agreement"),
    );
    // Exercise and real world apart.
    check(
        "JPN",
        "JPN",
        marking("UNCLASSIFIED", &["TRILAT"]),
        destination("JPN", "SECRET", true),
        Err("kept apart"),
    );
    // Passing KOR's report to a USA server from the JPN node is a relay: no further sharing forbids it.
    let mut no_relay = trilat_secret();
    no_relay.further_sharing = FurtherSharing::None;
    check(
        "JPN",
        "KOR",
        no_relay,
        destination("USA", "SECRET", false),
        Err("may not relay"),
    );
}

#[test]
fn feed_data_goes_only_to_the_own_party_within_its_level() {
    let policy = Policy::trilateral_default();
    let m = marking("CONFIDENTIAL", &["TRILAT"]);
    let node = party("KOR");
    assert_eq!(
        release_feed(
            &policy,
            &node,
            &destination("KOR", "SECRET", false),
            &m,
            false
        ),
        Ok(())
    );
    assert!(matches!(
        release_feed(
            &policy,
            &node,
            &destination("JPN", "SECRET", false),
            &m,
            false
        ),
        Err(TakRefusal::NotOwnParty { .. })
    ));
    assert!(matches!(
        release_feed(
            &policy,
            &node,
            &destination("KOR", "UNCLASSIFIED", false),
            &m,
            false
        ),
        Err(TakRefusal::AboveAccreditation { .. })
    ));
    assert!(matches!(
        release_feed(
            &policy,
            &node,
            &destination("KOR", "SECRET", true),
            &m,
            false
        ),
        Err(TakRefusal::ExerciseMismatch { .. })
    ));
}

fn arb_marking() -> impl Strategy<Value = Marking> {
    let entries = prop::sample::subsequence(vec!["USA", "JPN", "KOR", "AUS", "TRILAT"], 0..=3);
    let tlp = prop::sample::select(vec![
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ]);
    let further = prop::sample::select(vec![FurtherSharing::None, FurtherSharing::WithinRelTo]);
    (prop::sample::select(LEVELS.to_vec()), tlp, entries, further).prop_map(
        |(level, tlp, rel_to, further)| {
            let mut m = Marking::new(level, tlp, rel_to);
            m.further_sharing = further;
            m
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever goes to a destination, its party may see under core's
    /// rule, its level is within the destination's, and the exercise flag
    /// matches; and whatever its party may not see is refused.
    #[test]
    fn nothing_goes_that_the_destination_may_not_see(
        m in arb_marking(),
        node in prop::sample::select(PARTIES[..3].to_vec()),
        owner in prop::sample::select(PARTIES[..3].to_vec()),
        dest_party in prop::sample::select(PARTIES.to_vec()),
        level_max in prop::sample::select(LEVELS.to_vec()),
        exercise in any::<bool>(),
        dest_exercise in any::<bool>(),
    ) {
        let policy = Policy::trilateral_default();
        let mut report = report(owner, "note", m.clone(), json!({"text": "x"}), T0_MS);
        report.exercise = exercise;
        let dest = destination(dest_party, level_max, dest_exercise);
        let released = release_report(&policy, &party(node), &dest, &report).is_ok();
        let party_may_see = policy.release(&report, &dest.party).is_ok();
        let rank = |level: &str| LEVELS.iter().position(|l| *l == level).unwrap();
        let within_level = rank(&m.level) <= rank(level_max);
        if released {
            prop_assert!(party_may_see);
            prop_assert!(within_level);
            prop_assert_eq!(exercise, dest_exercise);
        }
        if !party_may_see || !within_level || exercise != dest_exercise {
            prop_assert!(!released);
        }
        // The node's own party reads what core releases to it: no relay rule applies.
        if dest_party == node && party_may_see && within_level && exercise == dest_exercise {
            prop_assert!(released);
        }
    }
}
