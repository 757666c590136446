use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;
use crate::{NodeKey, ReportDraft};

fn party(code: &str) -> Party {
    Party::new(code).unwrap()
}

fn kind(k: &str) -> Kind {
    Kind::new(k).unwrap()
}

/// A policy with a Japan–Korea agreement that stops at CONFIDENTIAL and
/// covers only missile kinds, and a Korean node accredited at CONFIDENTIAL.
fn gsomia_policy() -> Policy {
    let mut policy = Policy::trilateral_default();
    policy.agreements = vec![
        Agreement {
            name: "US-JPN".into(),
            parties: [party("USA"), party("JPN")].into(),
            level_max: "SECRET".into(),
            kinds: vec!["*".into()],
        },
        Agreement {
            name: "US-KOR".into(),
            parties: [party("USA"), party("KOR")].into(),
            level_max: "SECRET".into(),
            kinds: vec!["*".into()],
        },
        Agreement {
            name: "GSOMIA".into(),
            parties: [party("JPN"), party("KOR")].into(),
            level_max: "CONFIDENTIAL".into(),
            kinds: vec!["missile.*".into()],
        },
    ];
    policy
        .accreditation
        .insert(party("KOR"), "CONFIDENTIAL".into());
    policy.validate().unwrap();
    policy
}

#[track_caller]
fn check(owner: &str, k: &str, marking: Marking, recipient: &str, expect: &str) {
    let policy = gsomia_policy();
    let got = match policy.release_marked(&party(owner), &kind(k), &marking, &party(recipient)) {
        Ok(()) => "released".to_string(),
        Err(refusal) => refusal.to_string(),
    };
    assert_eq!(got, expect);
}

fn m(level: &str, tlp: Tlp, rel_to: &[&str]) -> Marking {
    Marking::new(level, tlp, rel_to.iter().copied())
}

#[test]
fn release_rule_table() {
    check(
        "USA",
        "note",
        m("SECRET", Tlp::Amber, &["USA", "JPN"]),
        "JPN",
        "released",
    );
    check(
        "USA",
        "note",
        m("SECRET", Tlp::Amber, &["USA", "JPN"]),
        "KOR",
        "KOR is not in the releasability list",
    );
    check(
        "USA",
        "note",
        m("SECRET", Tlp::Amber, &[]),
        "USA",
        "released",
    );
    check(
        "USA",
        "note",
        m("SECRET", Tlp::Amber, &["TRILAT"]),
        "KOR",
        "KOR is accredited below SECRET",
    );
    check(
        "USA",
        "note",
        m("CONFIDENTIAL", Tlp::Amber, &["TRILAT"]),
        "KOR",
        "released",
    );
    check(
        "JPN",
        "missile.track",
        m("CONFIDENTIAL", Tlp::Green, &["TRILAT"]),
        "KOR",
        "released",
    );
    check(
        "JPN",
        "missile.track",
        m("SECRET", Tlp::Green, &["TRILAT"]),
        "KOR",
        "no sharing agreement covers JPN→KOR for missile.track at SECRET",
    );
    check(
        "JPN",
        "note",
        m("UNCLASSIFIED", Tlp::Clear, &["TRILAT"]),
        "KOR",
        "no sharing agreement covers JPN→KOR for note at UNCLASSIFIED",
    );
    check(
        "JPN",
        "missile",
        m("UNCLASSIFIED", Tlp::Clear, &["TRILAT"]),
        "KOR",
        "no sharing agreement covers JPN→KOR for missile at UNCLASSIFIED",
    );
    check(
        "USA",
        "note",
        m("SECRET", Tlp::Red, &["TRILAT"]),
        "JPN",
        "TLP:RED requires JPN to be named individually in rel_to",
    );
    check(
        "USA",
        "note",
        m("SECRET", Tlp::Red, &["JPN"]),
        "JPN",
        "released",
    );
    check(
        "USA",
        "note",
        m("TOP SECRET", Tlp::Red, &["JPN"]),
        "JPN",
        "unknown classification level \"TOP SECRET\"",
    );
    check(
        "USA",
        "note",
        m("SECRET", Tlp::Amber, &["JPN"]),
        "PHL",
        "PHL is not in the releasability list",
    );
    check(
        "USA",
        "note",
        m("UNCLASSIFIED", Tlp::Clear, &["PHL"]),
        "PHL",
        "no sharing agreement covers USA→PHL for note at UNCLASSIFIED",
    );
}

/// The author's preview: one line per recipient, with the refusal's reason.
#[track_caller]
fn check_preview(owner: &str, k: &str, marking: Marking, expect: &[&str]) {
    let policy = gsomia_policy();
    let recipients: Vec<Party> = ["USA", "JPN", "KOR", "PHL"].map(party).into();
    let got: Vec<String> = match policy.preview(&party(owner), &kind(k), &marking, &recipients) {
        Ok(decisions) => decisions
            .into_iter()
            .map(|(recipient, decision)| match decision {
                Ok(()) => format!("{recipient}: released"),
                Err(refusal) => format!("{recipient}: {refusal}"),
            })
            .collect(),
        Err(e) => vec![format!("invalid: {e}")],
    };
    assert_eq!(got, expect);
}

#[test]
fn preview_table() {
    check_preview(
        "USA",
        "note",
        m("SECRET", Tlp::Amber, &["USA", "JPN"]),
        &[
            "USA: released",
            "JPN: released",
            "KOR: KOR is not in the releasability list",
            "PHL: PHL is not in the releasability list",
        ],
    );
    check_preview(
        "JPN",
        "note",
        m("CONFIDENTIAL", Tlp::Red, &["TRILAT", "USA"]),
        &[
            "USA: released",
            "JPN: released",
            "KOR: TLP:RED requires KOR to be named individually in rel_to",
            "PHL: PHL is not in the releasability list",
        ],
    );
    check_preview(
        "JPN",
        "note",
        m("CONFIDENTIAL", Tlp::Amber, &["TRILAT"]),
        &[
            "USA: released",
            "JPN: released",
            "KOR: no sharing agreement covers JPN→KOR for note at CONFIDENTIAL",
            "PHL: PHL is not in the releasability list",
        ],
    );
    check_preview(
        "USA",
        "note",
        m("SECRET", Tlp::Green, &["TRILAT"]),
        &[
            "USA: released",
            "JPN: released",
            "KOR: KOR is accredited below SECRET",
            "PHL: PHL is not in the releasability list",
        ],
    );
    check_preview(
        "USA",
        "note",
        m("TOP SECRET", Tlp::Green, &["TRILAT"]),
        &["invalid: unknown classification level \"TOP SECRET\" (known: UNCLASSIFIED < CONFIDENTIAL < SECRET)"],
    );
    check_preview(
        "USA",
        "note",
        m("SECRET", Tlp::Green, &["NATO"]),
        &["invalid: rel_to entry \"NATO\" is neither a party code nor a group defined in the policy"],
    );
}

#[test]
fn policy_parties_are_every_named_party() {
    let mut policy = gsomia_policy();
    policy
        .groups
        .insert("QUAD".into(), [party("AUS"), party("IND")].into());
    let parties: Vec<String> = policy.parties().iter().map(|p| p.to_string()).collect();
    assert_eq!(parties, ["AUS", "IND", "JPN", "KOR", "USA"]);
}

#[test]
fn relay_needs_within_rel_to_and_a_relayable_tlp() {
    let policy = Policy::trilateral_default();
    let key = NodeKey::from_seed([3; 32]);
    let mut marking = m("SECRET", Tlp::Amber, &["TRILAT"]);
    let draft = ReportDraft::new(
        party("USA"),
        kind("note"),
        marking.clone(),
        serde_json::json!({"text": "x"}),
        crate::Timestamp::from_unix_ms(0),
    );
    let report = draft.clone().sign(&key).unwrap();
    assert!(policy
        .may_send(&report, &party("USA"), &party("KOR"))
        .is_ok());
    assert!(matches!(
        policy.may_send(&report, &party("JPN"), &party("KOR")),
        Err(Refusal::RelayForbidden { .. })
    ));
    marking.further_sharing = FurtherSharing::WithinRelTo;
    let relayable = ReportDraft {
        marking: marking.clone(),
        ..draft.clone()
    }
    .sign(&key)
    .unwrap();
    assert!(policy
        .may_send(&relayable, &party("JPN"), &party("KOR"))
        .is_ok());
    marking.tlp = Tlp::AmberStrict;
    let strict = ReportDraft { marking, ..draft }.sign(&key).unwrap();
    assert!(matches!(
        policy.may_send(&strict, &party("JPN"), &party("KOR")),
        Err(Refusal::RelayForbidden { .. })
    ));
}

#[test]
fn combine_takes_the_strictest() {
    let policy = Policy::trilateral_default();
    let a = m("CONFIDENTIAL", Tlp::Green, &["TRILAT"]);
    let mut b = m("SECRET", Tlp::Amber, &["USA", "JPN"]);
    b.further_sharing = FurtherSharing::WithinRelTo;
    let c = Marking {
        further_sharing: FurtherSharing::None,
        ..m("UNCLASSIFIED", Tlp::Clear, &["JPN", "USA", "PHL"])
    };
    let combined = policy.combine([&a, &b, &c]).unwrap();
    assert_eq!(
        combined,
        Marking {
            level: "SECRET".into(),
            tlp: Tlp::Amber,
            rel_to: vec!["JPN".into(), "USA".into()],
            further_sharing: FurtherSharing::None
        }
    );
    assert!(policy.combine([]).is_err());
    assert!(policy
        .combine([&m("TOP SECRET", Tlp::Clear, &["USA"])])
        .is_err());
}

/// Found by `combine_never_widens`: a RED report released "to a group"
/// reaches no one but its owner, so its product must not name the group's
/// members explicitly (which would release it to them).
#[test]
fn combine_does_not_turn_a_red_group_into_named_parties() {
    let policy = Policy::trilateral_default();
    let red_via_group = m("SECRET", Tlp::Red, &["TRILAT"]);
    let combined = policy.combine([&red_via_group]).unwrap();
    assert!(combined.rel_to.is_empty(), "{combined:?}");
    let red_named = m("SECRET", Tlp::Red, &["JPN", "TRILAT"]);
    let clear_group = m("UNCLASSIFIED", Tlp::Clear, &["TRILAT"]);
    let combined = policy.combine([&red_named, &clear_group]).unwrap();
    assert_eq!(combined.rel_to, vec!["JPN".to_string()]);
}

#[test]
fn policy_validation() {
    let mut policy = Policy::trilateral_default();
    assert!(policy.validate().is_ok());
    policy.levels.push("SECRET".into());
    assert!(policy.validate().is_err());
    let mut policy = Policy::trilateral_default();
    policy.groups.insert("USA".into(), [party("JPN")].into());
    assert!(policy.validate().is_err());
    let policy = Policy::trilateral_default();
    assert!(policy
        .check_marking(&m("SECRET", Tlp::Red, &["NOT A GROUP"]))
        .is_err());
    assert!(policy
        .check_marking(&m("SECRET", Tlp::Red, &["TRILAT", "PHL"]))
        .is_ok());
}

// ---- Property: the release rule against an oracle written from the text.

const PARTIES: [&str; 5] = ["USA", "JPN", "KOR", "PHL", "AUS"];
const LEVELS: [&str; 3] = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"];
const KINDS: [&str; 3] = ["note", "missile.track", "cyber.stix"];

fn arb_party() -> impl Strategy<Value = &'static str> {
    prop::sample::select(PARTIES.to_vec())
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    let group = prop::collection::btree_set(arb_party(), 1..4);
    let agreement = (
        prop::collection::btree_set(arb_party(), 2..4),
        0..3usize,
        prop::sample::select(vec!["*", "missile.*", "note", "cyber.stix"]),
    );
    let accreditation = prop::collection::btree_map(arb_party(), 0..3usize, 0..5);
    (group, prop::collection::vec(agreement, 0..4), accreditation).prop_map(
        |(group, agreements, accreditation)| Policy {
            levels: LEVELS.iter().map(|l| l.to_string()).collect(),
            groups: [("GROUP".to_string(), group.into_iter().map(party).collect())].into(),
            agreements: agreements
                .into_iter()
                .enumerate()
                .map(|(i, (parties, level, kinds))| Agreement {
                    name: format!("A{i}"),
                    parties: parties.into_iter().map(party).collect(),
                    level_max: LEVELS[level].into(),
                    kinds: vec![kinds.into()],
                })
                .collect(),
            accreditation: accreditation
                .into_iter()
                .map(|(p, l)| (party(p), LEVELS[l].to_string()))
                .collect(),
        },
    )
}

fn arb_marking() -> impl Strategy<Value = Marking> {
    let entry = prop::sample::select(vec!["USA", "JPN", "KOR", "PHL", "AUS", "GROUP"]);
    (
        0..3usize,
        prop::sample::select(Tlp::ALL.to_vec()),
        prop::collection::vec(entry, 0..4),
        any::<bool>(),
    )
        .prop_map(|(level, tlp, rel_to, relay)| Marking {
            level: LEVELS[level].into(),
            tlp,
            rel_to: rel_to.into_iter().map(String::from).collect(),
            further_sharing: if relay {
                FurtherSharing::WithinRelTo
            } else {
                FurtherSharing::None
            },
        })
}

/// The rule as the issue states it, written independently of `release_marked`.
fn oracle(policy: &Policy, owner: &str, kind: &str, marking: &Marking, recipient: &str) -> bool {
    if owner == recipient {
        return true;
    }
    let rank = |l: &str| LEVELS.iter().position(|x| *x == l).unwrap();
    let group: BTreeSet<&str> = policy.groups["GROUP"].iter().map(|p| p.as_str()).collect();
    let named = marking.rel_to.iter().any(|e| e == recipient);
    let via_group = marking.rel_to.iter().any(|e| e == "GROUP") && group.contains(recipient);
    let in_rel_to = if marking.tlp == Tlp::Red {
        named
    } else {
        named || via_group
    };
    let kind_ok = |pattern: &str| {
        pattern == "*"
            || pattern == kind
            || (pattern == "missile.*" && kind.starts_with("missile."))
    };
    let agreed = policy.agreements.iter().any(|a| {
        a.parties.iter().any(|p| p.as_str() == owner)
            && a.parties.iter().any(|p| p.as_str() == recipient)
            && rank(&marking.level) <= rank(&a.level_max)
            && a.kinds.iter().any(|k| kind_ok(k))
    });
    let accredited = policy
        .accreditation
        .iter()
        .any(|(p, l)| p.as_str() == recipient && rank(&marking.level) <= rank(l));
    in_rel_to && agreed && accredited
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn release_matches_oracle(policy in arb_policy(), marking in arb_marking(), owner in arb_party(), recipient in arb_party(), k in prop::sample::select(KINDS.to_vec())) {
        let got = policy.release_marked(&party(owner), &kind(k), &marking, &party(recipient)).is_ok();
        prop_assert_eq!(got, oracle(&policy, owner, k, &marking, recipient));
    }

    /// The author's preview says exactly what the release rule then does
    /// with the signed report, for every recipient.
    #[test]
    fn preview_agrees_with_release(policy in arb_policy(), marking in arb_marking(), owner in arb_party(), k in prop::sample::select(KINDS.to_vec())) {
        let recipients: Vec<Party> = PARTIES.map(party).into();
        let decisions = policy.preview(&party(owner), &kind(k), &marking, &recipients).unwrap();
        let draft = ReportDraft::new(party(owner), kind(k), marking, serde_json::json!({"text": "x"}), crate::Timestamp::from_unix_ms(0));
        let report = draft.sign(&NodeKey::from_seed([5; 32])).unwrap();
        prop_assert_eq!(decisions.len(), recipients.len());
        for (recipient, decision) in decisions {
            prop_assert_eq!(decision, policy.release(&report, &recipient));
        }
    }

    /// A fused product never reaches a party that any of its inputs could
    /// not reach by releasability, and is never less restricted.
    #[test]
    fn combine_never_widens(policy in arb_policy(), markings in prop::collection::vec(arb_marking(), 1..5), recipient in arb_party()) {
        let combined = policy.combine(markings.iter()).unwrap();
        let recipient = party(recipient);
        if policy.expand_rel_to(&combined).contains(&recipient) {
            for marking in &markings {
                prop_assert!(policy.expand_rel_to(marking).contains(&recipient));
            }
        }
        for marking in &markings {
            prop_assert!(policy.level_rank(&combined.level).unwrap() >= policy.level_rank(&marking.level).unwrap());
            prop_assert!(combined.tlp >= marking.tlp);
            prop_assert!(combined.further_sharing >= marking.further_sharing);
        }
        // Release of the fused product implies release of each input at the product's kind and owner.
        let owner = party("USA");
        let k = kind("missile.track");
        if policy.release_marked(&owner, &k, &combined, &recipient).is_ok() && recipient != owner {
            for marking in &markings {
                // Each input, raised to the product's level, must itself reach the
                // recipient. (Its own TLP is kept: under RED a group does not release,
                // so raising an input's TLP would change whom its rel_to names.)
                let widened = Marking { level: combined.level.clone(), ..marking.clone() };
                prop_assert!(policy.release_marked(&owner, &k, &widened, &recipient).is_ok());
            }
        }
    }
}
