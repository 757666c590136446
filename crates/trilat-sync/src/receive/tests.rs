use trilat_core::{
    Agreement, FurtherSharing, Kind, KindRegistry, Marking, NodeKey, Party, Policy, PublicKey,
    Report, ReportDraft, ReportKey, Timestamp, Tlp,
};

use super::*;

fn party(code: &str) -> Party {
    Party::new(code).unwrap()
}

fn key(code: &str) -> NodeKey {
    let seed = match code {
        "USA" => 1,
        "JPN" => 2,
        "KOR" => 3,
        _ => 4,
    };
    NodeKey::from_seed([seed; 32])
}

/// USA–JPN and USA–KOR at SECRET for every kind; JPN–KOR (GSOMIA) only up
/// to CONFIDENTIAL and only missile kinds; PHL has no key and no agreement.
fn policy() -> Policy {
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
            kinds: vec!["missile.*".into(), "note".into()],
        },
    ];
    policy.validate().unwrap();
    policy
}

fn owner_keys(p: &Party) -> Option<PublicKey> {
    ["USA", "JPN", "KOR"]
        .contains(&p.as_str())
        .then(|| key(p.as_str()).public_key())
}

fn draft(owner: &str, marking: Marking) -> ReportDraft {
    ReportDraft::new(
        party(owner),
        Kind::new("note").unwrap(),
        marking,
        serde_json::json!({"text": "launch detected"}),
        Timestamp::from_unix_ms(1_700_000_000_000),
    )
}

fn signed(owner: &str, marking: Marking) -> Report {
    draft(owner, marking).sign(&key(owner)).unwrap()
}

fn rel(level: &str, tlp: Tlp, rel_to: &[&str]) -> Marking {
    Marking::new(level, tlp, rel_to.iter().copied())
}

fn relayable(level: &str, tlp: Tlp, rel_to: &[&str]) -> Marking {
    Marking {
        further_sharing: FurtherSharing::WithinRelTo,
        ..rel(level, tlp, rel_to)
    }
}

fn next(report: &Report, edit: impl FnOnce(&mut ReportDraft)) -> Report {
    let mut draft = report.next_version(report.modified.add_ms(1000));
    edit(&mut draft);
    draft.sign(&key(report.owner.as_str())).unwrap()
}

/// Judges `report` arriving at `me` from `sender`, holding `held`, and
/// compares the verdict's code (and refusal text, if any) with `expect`.
#[track_caller]
fn check(report: &Report, sender: &str, me: &str, held: Option<&Report>, expect: &str) {
    let verdict = judge_incoming(
        report,
        &party(sender),
        &party(me),
        held,
        &policy(),
        &KindRegistry::with_core_kinds(),
        &owner_keys,
    );
    // The page path (signatures checked ahead, in a batch) must agree.
    let page = [report.clone()];
    let checks = verify_page(&page, |_| held, &owner_keys);
    let checked = checks
        .into_iter()
        .map(|signature| {
            judge_incoming_checked(
                report,
                &party(sender),
                &party(me),
                held,
                &policy(),
                &KindRegistry::with_core_kinds(),
                &owner_keys,
                signature,
            )
        })
        .next();
    assert_eq!(checked.as_ref(), Some(&verdict), "page path disagrees");
    let got = match &verdict {
        Verdict::Refuse(reason) => format!("{}: {reason}", verdict.code()),
        _ => verdict.code().to_string(),
    };
    assert_eq!(got, expect);
}

/// Judges a page at KOR from USA both ways: one report at a time and with
/// the signatures checked ahead in a batch. Returns the verdict codes.
fn judge_page_both_ways(page: &[Report], held: &[Report]) -> Vec<String> {
    let held_of = |report: &ReportKey| held.iter().find(|h| h.key() == *report);
    let kinds = KindRegistry::with_core_kinds();
    let policy = policy();
    let (usa, kor) = (party("USA"), party("KOR"));
    let single: Vec<Verdict> = page
        .iter()
        .map(|r| {
            judge_incoming(
                r,
                &usa,
                &kor,
                held_of(&r.key()),
                &policy,
                &kinds,
                &owner_keys,
            )
        })
        .collect();
    let checks = verify_page(page, held_of, &owner_keys);
    assert_eq!(checks.len(), page.len());
    let checked: Vec<Verdict> = page
        .iter()
        .zip(checks)
        .map(|(r, signature)| {
            let held = held_of(&r.key());
            judge_incoming_checked(r, &usa, &kor, held, &policy, &kinds, &owner_keys, signature)
        })
        .collect();
    assert_eq!(single, checked, "page path disagrees with the single path");
    single.iter().map(|v| v.code().to_string()).collect()
}

#[test]
fn one_forged_report_in_a_page_is_the_only_one_refused() {
    let marking = rel("SECRET", Tlp::Amber, &["USA", "KOR"]);
    let mut page: Vec<Report> = (0..50)
        .map(|i| {
            let mut d = draft("USA", marking.clone());
            d.payload = serde_json::json!({"text": format!("launch {i}")});
            d.sign(&key("USA")).unwrap()
        })
        .collect();
    assert!(judge_page_both_ways(&page, &[])
        .iter()
        .all(|c| c == "store"));
    let held = vec![page[3].clone()];
    page[17].payload = serde_json::json!({"text": "no launch"}); // tampered
    page[30] = draft("USA", marking.clone()).sign(&key("JPN")).unwrap(); // forged
    page[40].owner = party("PHL"); // unknown owner (and tampered)
    let codes = judge_page_both_ways(&page, &held);
    for (i, code) in codes.iter().enumerate() {
        let expect = match i {
            3 => "duplicate",
            17 | 30 => "bad_signature",
            40 => "unknown_owner",
            _ => "store",
        };
        assert_eq!(code, expect, "report {i}");
    }
}

#[test]
fn verdict_table() {
    let v1 = signed("USA", rel("SECRET", Tlp::Amber, &["USA", "JPN"]));
    let v2 = next(&v1, |d| {
        d.payload = serde_json::json!({"text": "apogee 970 km"})
    });
    let revoked = v2
        .revocation(v2.modified.add_ms(1))
        .sign(&key("USA"))
        .unwrap();

    check(&v1, "USA", "JPN", None, "store");
    check(&v2, "USA", "JPN", Some(&v1), "store");
    check(&revoked, "USA", "JPN", Some(&v1), "store");
    check(&v1, "USA", "JPN", Some(&v1), "duplicate");
    check(&v1, "USA", "JPN", Some(&v2), "stale");
    check(&v1, "USA", "JPN", Some(&revoked), "stale");

    // A version after a revocation (only the owner's key could sign it).
    let after_revocation = next(&revoked, |d| d.revoked = false);
    check(
        &after_revocation,
        "USA",
        "JPN",
        Some(&revoked),
        "revoked_final: the held version is a revocation, which is final",
    );

    // Owner equivocates: a second, different version 2.
    let other_v2 = next(&v1, |d| d.payload = serde_json::json!({"text": "other"}));
    check(
        &other_v2,
        "USA",
        "JPN",
        Some(&v2),
        "version_conflict: same version, different content",
    );
}

#[test]
fn refusals_of_signatures_and_owners() {
    let v1 = signed("USA", rel("SECRET", Tlp::Amber, &["USA", "JPN"]));

    let mut tampered = v1.clone();
    tampered.payload = serde_json::json!({"text": "no launch"});
    check(
        &tampered,
        "USA",
        "JPN",
        None,
        "bad_signature: signature does not verify under the owner's key",
    );
    // Tampering a held report's copy is not a duplicate, it is a forgery.
    check(
        &tampered,
        "USA",
        "JPN",
        Some(&v1),
        "bad_signature: signature does not verify under the owner's key",
    );
    let mut remarked = v1.clone();
    remarked.marking.rel_to.push("KOR".into());
    check(
        &remarked,
        "USA",
        "KOR",
        None,
        "bad_signature: signature does not verify under the owner's key",
    );

    // KOR signs a report claiming to be USA's.
    let forged = draft("USA", rel("SECRET", Tlp::Amber, &["USA", "JPN"]))
        .sign(&key("KOR"))
        .unwrap();
    check(
        &forged,
        "KOR",
        "JPN",
        None,
        "bad_signature: signature does not verify under the owner's key",
    );

    // JPN issues, under its own valid key, a "version" of USA's report:
    // it is JPN's report under the same id, judged on its own (the
    // receiver looks up what it holds by owner and id, so USA's report
    // is neither replaced nor consulted).
    let mut squat = v1.next_version(v1.modified.add_ms(5));
    squat.owner = party("JPN");
    let squat = squat.sign(&key("JPN")).unwrap();
    assert_ne!(squat.key(), v1.key());
    check(&squat, "JPN", "USA", None, "store");

    let philippine = draft("PHL", rel("UNCLASSIFIED", Tlp::Clear, &["TRILAT"]))
        .sign(&key("PHL"))
        .unwrap();
    check(
        &philippine,
        "USA",
        "JPN",
        None,
        "unknown_owner: owner has no known public key",
    );
}

#[test]
fn refusals_of_the_release_and_relay_rules() {
    let us_jp = signed("USA", rel("SECRET", Tlp::Amber, &["USA", "JPN"]));
    check(
        &us_jp,
        "USA",
        "KOR",
        None,
        "not_releasable_to_me: not releasable to this node: KOR is not in the releasability list",
    );
    // GSOMIA stops at CONFIDENTIAL: JPN's SECRET note never reaches KOR.
    let jp_secret = signed("JPN", rel("SECRET", Tlp::Amber, &["TRILAT"]));
    check(
        &jp_secret,
        "JPN",
        "KOR",
        None,
        "not_releasable_to_me: not releasable to this node: no sharing agreement covers JPN→KOR for note at SECRET",
    );
    check(&jp_secret, "JPN", "USA", None, "store");

    // Relaying: only with `within-rel-to` and a TLP that permits it.
    let owner_only = signed("USA", rel("CONFIDENTIAL", Tlp::Amber, &["TRILAT"]));
    check(
        &owner_only,
        "JPN",
        "KOR",
        None,
        "sender_may_not_send: sender may not send this report: JPN may not relay this report (further sharing: None, TLP:AMBER)",
    );
    check(&owner_only, "USA", "KOR", None, "store");
    let relay_ok = signed("USA", relayable("CONFIDENTIAL", Tlp::Amber, &["TRILAT"]));
    check(&relay_ok, "JPN", "KOR", None, "store");
    let strict = signed(
        "USA",
        relayable("CONFIDENTIAL", Tlp::AmberStrict, &["TRILAT"]),
    );
    check(
        &strict,
        "JPN",
        "KOR",
        None,
        "sender_may_not_send: sender may not send this report: JPN may not relay this report (further sharing: WithinRelTo, TLP:AMBER+STRICT)",
    );
    // A relay must itself be allowed the report.
    let us_kr = signed(
        "USA",
        relayable("CONFIDENTIAL", Tlp::Green, &["USA", "KOR"]),
    );
    check(
        &us_kr,
        "JPN",
        "KOR",
        None,
        "sender_may_not_send: sender may not send this report: JPN is not in the releasability list",
    );
}

#[test]
fn refusals_of_invalid_reports() {
    let mut unknown_kind = draft("USA", rel("SECRET", Tlp::Amber, &["USA", "JPN"]));
    unknown_kind.kind = Kind::new("missile.track").unwrap();
    let unknown_kind = unknown_kind.sign(&key("USA")).unwrap();
    check(
        &unknown_kind,
        "USA",
        "JPN",
        None,
        "invalid: invalid report: payload: unknown kind Kind(\"missile.track\"); this node accepts: note",
    );
    let mut bad_payload = draft("USA", rel("SECRET", Tlp::Amber, &["USA", "JPN"]));
    bad_payload.payload = serde_json::json!({"text": 7});
    let bad_payload = bad_payload.sign(&key("USA")).unwrap();
    let verdict = judge_incoming(
        &bad_payload,
        &party("USA"),
        &party("JPN"),
        None,
        &policy(),
        &KindRegistry::with_core_kinds(),
        &owner_keys,
    );
    assert_eq!(verdict.code(), "invalid");
    // A version that moves its creation time is refused, not stored.
    let v1 = signed("USA", rel("SECRET", Tlp::Amber, &["USA", "JPN"]));
    let moved = next(&v1, |d| d.created_at = d.created_at.add_ms(-1));
    assert_eq!(
        judge_incoming(
            &moved,
            &party("USA"),
            &party("JPN"),
            Some(&v1),
            &policy(),
            &KindRegistry::with_core_kinds(),
            &owner_keys
        )
        .code(),
        "invalid"
    );
}

#[track_caller]
fn check_send(report: &Report, me: &str, peer: &str, expect: bool) {
    assert_eq!(
        should_send(report, &party(me), &party(peer), &policy()),
        expect,
        "{me} -> {peer}"
    );
}

#[test]
fn send_rule_table() {
    let us_jp = signed("USA", rel("SECRET", Tlp::Amber, &["USA", "JPN"]));
    check_send(&us_jp, "USA", "JPN", true);
    check_send(&us_jp, "USA", "KOR", false);
    check_send(&us_jp, "JPN", "USA", false); // never back to the owner
    check_send(&us_jp, "USA", "USA", false);

    let owner_only = signed("USA", rel("CONFIDENTIAL", Tlp::Amber, &["TRILAT"]));
    check_send(&owner_only, "USA", "KOR", true);
    check_send(&owner_only, "JPN", "KOR", false);

    let relay_ok = signed("USA", relayable("CONFIDENTIAL", Tlp::Clear, &["TRILAT"]));
    check_send(&relay_ok, "JPN", "KOR", true);
    check_send(&relay_ok, "JPN", "PHL", false);
    let red = signed("USA", relayable("CONFIDENTIAL", Tlp::Red, &["JPN", "KOR"]));
    check_send(&red, "USA", "KOR", true);
    check_send(&red, "JPN", "KOR", false);

    // The send rule never offers what the receive rule refuses (same policy).
    for report in [&us_jp, &owner_only, &relay_ok, &red] {
        for me in ["USA", "JPN", "KOR"] {
            for peer in ["USA", "JPN", "KOR"] {
                let holds =
                    me == report.owner.as_str() || policy().release(report, &party(me)).is_ok();
                if holds && should_send(report, &party(me), &party(peer), &policy()) {
                    check(report, me, peer, None, "store");
                }
            }
        }
    }
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    const PARTIES: [&str; 3] = ["USA", "JPN", "KOR"];
    const LEVELS: [&str; 3] = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"];

    /// The fixture policy with the GSOMIA ceiling and KOR's accreditation
    /// drawn at random.
    fn varied_policy(gsomia_level: usize, kor_accreditation: usize) -> Policy {
        let mut policy = policy();
        policy.agreements[2].level_max = LEVELS[gsomia_level].into();
        policy
            .accreditation
            .insert(party("KOR"), LEVELS[kor_accreditation].into());
        policy.validate().unwrap();
        policy
    }

    fn marking(level: usize, tlp: usize, rel_mask: u8, group: bool, relay: bool) -> Marking {
        let mut rel_to: Vec<String> = PARTIES
            .iter()
            .enumerate()
            .filter(|(i, _)| rel_mask & (1 << i) != 0)
            .map(|(_, p)| p.to_string())
            .collect();
        if group {
            rel_to.push("TRILAT".into());
        }
        Marking {
            level: LEVELS[level].into(),
            tlp: Tlp::ALL[tlp],
            rel_to,
            further_sharing: if relay {
                FurtherSharing::WithinRelTo
            } else {
                FurtherSharing::None
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// The receive rule stores only what the release and relay rules
        /// allow, and the send rule offers exactly what the receive rule
        /// stores (for a sender that may hold the report).
        #[test]
        fn send_and_receive_rules_agree_with_the_release_rule(
            level in 0..3usize, tlp in 0..5usize, rel_mask in 0u8..8, group: bool, relay: bool,
            owner in 0..3usize, sender in 0..3usize, me in 0..3usize,
            gsomia_level in 0..3usize, kor_accreditation in 0..3usize,
        ) {
            let policy = varied_policy(gsomia_level, kor_accreditation);
            let report = signed(PARTIES[owner], marking(level, tlp, rel_mask, group, relay));
            let (owner, sender, me) = (party(PARTIES[owner]), party(PARTIES[sender]), party(PARTIES[me]));
            let verdict = judge_incoming(&report, &sender, &me, None, &policy,
                &KindRegistry::with_core_kinds(), &owner_keys);
            if verdict.is_store() {
                prop_assert!(me == owner || policy.release(&report, &me).is_ok());
                prop_assert!(policy.may_send(&report, &sender, &me).is_ok());
            }
            let sender_holds = sender == owner || policy.release(&report, &sender).is_ok();
            if sender_holds && sender != me && me != owner {
                prop_assert_eq!(should_send(&report, &sender, &me, &policy), verdict.is_store(),
                    "send rule and receive rule disagree: {:?}", verdict);
            }
        }

        /// Any change to a signed report is refused, whatever the field.
        #[test]
        fn tampered_reports_are_never_stored(field in 0..7usize, me in 1..3usize) {
            let report = signed("USA", rel("UNCLASSIFIED", Tlp::Clear, &["TRILAT"]));
            let mut tampered = report.clone();
            match field {
                0 => tampered.payload = serde_json::json!({"text": "no launch"}),
                1 => tampered.marking.level = "SECRET".into(),
                2 => tampered.marking.rel_to.push("PHL".into()),
                3 => tampered.revoked = true,
                4 => tampered.version += 1,
                5 => tampered.modified = tampered.modified.add_ms(1),
                _ => tampered.exercise = true,
            }
            let verdict = judge_incoming(&tampered, &party("USA"), &party(PARTIES[me]), None,
                &policy(), &KindRegistry::with_core_kinds(), &owner_keys);
            prop_assert_eq!(verdict, Verdict::Refuse(RefuseReason::BadSignature));
            let held = judge_incoming(&tampered, &party("USA"), &party(PARTIES[me]), Some(&report),
                &policy(), &KindRegistry::with_core_kinds(), &owner_keys);
            prop_assert_eq!(held, Verdict::Refuse(RefuseReason::BadSignature));
        }

        /// Batch and single verdicts agree on pages with random corruptions.
        #[test]
        fn page_verdicts_equal_single_verdicts(
            n in 1usize..12,
            corruptions in proptest::collection::vec((0usize..12, 0usize..4), 0..5),
        ) {
            let page: Vec<Report> = (0..n)
                .map(|i| {
                    let mut d = draft("USA", rel("UNCLASSIFIED", Tlp::Clear, &["TRILAT"]));
                    d.payload = serde_json::json!({"text": format!("track {i}")});
                    d.sign(&key("USA")).unwrap()
                })
                .collect();
            let held = vec![page[0].clone()];
            let mut page = page;
            for (idx, how) in corruptions {
                let idx = idx % n;
                match how {
                    0 => page[idx].payload = serde_json::json!({"text": "no launch"}),
                    1 => page[idx].signature = page[(idx + 1) % n].signature,
                    2 => page[idx].owner = party("JPN"),
                    _ => page[idx].signature = trilat_core::Signature::EMPTY,
                }
            }
            judge_page_both_ways(&page, &held);
        }
    }
}
