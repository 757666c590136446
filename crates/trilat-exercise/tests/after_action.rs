//! The after-action figures from node evidence built here: who had what,
//! when, how late, why not, and the gaps.

use std::collections::BTreeMap;

use serde_json::json;
use trilat_core::{Kind, Marking, NodeKey, Party, Report, ReportDraft, Timestamp, Tlp};
use trilat_exercise::after_action::{
    after_action, Acknowledgement, DeliveryStatus, Evidence, FindingKind, NodeEvidence,
    PlayedInject, Receipt, RunNode, RunRecord,
};

const T0_MS: i64 = 1_800_000_000_000;

fn party(code: &str) -> Party {
    Party::new(code).unwrap()
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_ms(T0_MS + ms)
}

fn note(owner: &str, rel_to: &[&str], created_ms: i64) -> Report {
    let mut draft = ReportDraft::new(
        party(owner),
        Kind::new("note").unwrap(),
        Marking::new("SECRET", Tlp::Amber, rel_to.iter().copied()),
        json!({"text": "EXERCISE"}),
        at(created_ms),
    );
    draft.exercise = true;
    draft.sign(&NodeKey::generate()).unwrap()
}

fn played(label: &str, at_ms: i64, reports: &[&Report]) -> PlayedInject {
    PlayedInject {
        label: label.into(),
        type_name: "note".into(),
        at_s: at_ms as f64 / 1000.0,
        played_at: at(at_ms),
        reports: reports.iter().map(|r| r.id).collect(),
        engine: None,
        ended_at: None,
        outage_parties: Vec::new(),
    }
}

fn run(injects: Vec<PlayedInject>) -> RunRecord {
    RunRecord {
        run_id: "r1".into(),
        scenario: "t".into(),
        speed: 10.0,
        started_at: at(0),
        ended_at: at(10_000),
        nodes: ["USA", "JPN", "KOR"]
            .map(|p| RunNode {
                party: party(p),
                url: format!("http://{p}"),
            })
            .to_vec(),
        injects,
    }
}

fn receipt(report: &Report, from: &str, at_ms: i64) -> Receipt {
    Receipt {
        report_id: report.id,
        version: Some(1),
        from: Some(party(from)),
        at: at(at_ms),
    }
}

#[test]
fn received_withheld_and_missing_with_their_times_and_reasons() {
    // Inject 1 at 1 s: a US-Japan note; KOR is not in rel_to.
    let bilateral = note("USA", &["USA", "JPN"], 1_020);
    // Inject 2 at 2 s: a trilateral note that never reached KOR.
    let trilateral = note("USA", &["USA", "JPN", "KOR"], 2_010);
    let nodes = vec![
        NodeEvidence {
            party: Some(party("USA")),
            reports: vec![bilateral.clone(), trilateral.clone()],
            receipts: vec![],
            acknowledgements: vec![],
        },
        NodeEvidence {
            party: Some(party("JPN")),
            reports: vec![bilateral.clone(), trilateral.clone()],
            receipts: vec![
                receipt(&bilateral, "USA", 1_150),
                receipt(&trilateral, "USA", 2_400),
            ],
            acknowledgements: vec![Acknowledgement {
                report_id: bilateral.id,
                by: "JPN:watch-officer".into(),
                at: at(1_900),
            }],
        },
        NodeEvidence {
            party: Some(party("KOR")),
            reports: vec![],
            receipts: vec![],
            acknowledgements: vec![],
        },
    ];
    let withheld = BTreeMap::from([(
        (bilateral.id, party("KOR")),
        "KOR is not in rel_to".to_string(),
    )]);
    let run = run(vec![
        played("bilateral", 1_000, &[&bilateral]),
        played("trilateral", 2_000, &[&trilateral]),
    ]);
    let report = after_action(
        &run,
        &Evidence {
            nodes: &nodes,
            withheld: &withheld,
        },
    );

    let statuses = |inject_idx: usize| -> Vec<DeliveryStatus> {
        report.injects[inject_idx].products[0]
            .deliveries
            .iter()
            .map(|d| d.status.clone())
            .collect()
    };
    assert_eq!(
        statuses(0),
        vec![
            DeliveryStatus::Owner {
                at: at(1_020),
                latency_ms: 20
            },
            DeliveryStatus::Received {
                at: at(1_150),
                latency_ms: 150,
                from: Some(party("USA"))
            },
            DeliveryStatus::Withheld {
                reason: "KOR is not in rel_to".into()
            },
        ]
    );
    assert_eq!(statuses(1)[2], DeliveryStatus::Missing);
    // JPN's watch officer acknowledged the bilateral note 750 ms after it came.
    let jpn_delivery = &report.injects[0].products[0].deliveries[1];
    let ack = jpn_delivery.acknowledged.as_ref().unwrap();
    assert_eq!(
        (ack.by.as_str(), ack.after_ms),
        ("JPN:watch-officer", Some(750))
    );
    assert_eq!(
        report.injects[0].products[0].deliveries[0].acknowledged,
        None
    );
    assert_eq!(
        (
            report.summary[1].n_acknowledged,
            report.summary[1].acknowledge_ms_max
        ),
        (1, Some(750))
    );
    let jpn = &report.injects[1].parties[1];
    assert_eq!((jpn.n_received, jpn.latency_ms), (1, Some(400)));
    let kor = &report.summary[2];
    assert_eq!((kor.n_received, kor.n_withheld, kor.n_missing), (0, 1, 1));
    assert_eq!(kor.latency_ms_p50, None);
    let jpn = &report.summary[1];
    assert_eq!(jpn.latencies_ms, vec![150, 400]);
    assert_eq!(
        (jpn.latency_ms_p50, jpn.latency_ms_max),
        (Some(150), Some(400))
    );
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].kind, FindingKind::Gap);
    assert_eq!(report.findings[0].inject_idx, 1);
    assert!(report.findings[0].message.contains("KOR may see 1 product"));

    let page = trilat_exercise::html::render(&report);
    assert!(page.contains("withheld: KOR is not in rel_to"));
    assert!(page.contains("<svg"));
    assert!(!page.contains("<script"), "no script in the page");
    assert!(
        !page.contains("src=") && !page.contains("href="),
        "nothing fetched"
    );
}

#[test]
fn a_receipt_twice_and_an_inject_without_products_are_findings() {
    let report_a = note("JPN", &["TRILAT"], 1_000);
    let nodes = vec![
        NodeEvidence {
            party: Some(party("JPN")),
            reports: vec![report_a.clone()],
            receipts: vec![],
            acknowledgements: vec![],
        },
        NodeEvidence {
            party: Some(party("KOR")),
            reports: vec![report_a.clone()],
            receipts: vec![
                receipt(&report_a, "JPN", 1_100),
                receipt(&report_a, "JPN", 1_200),
            ],
            acknowledgements: vec![],
        },
    ];
    // A report the owner's node said it published for "lost", which no
    // node lists among its exercise reports.
    let real_world = note("JPN", &["TRILAT"], 3_100);
    let run = run(vec![
        played("a", 900, &[&report_a]),
        played("lost", 3_000, &[&real_world]),
    ]);
    let report = after_action(
        &run,
        &Evidence {
            nodes: &nodes,
            withheld: &BTreeMap::new(),
        },
    );
    let kinds: Vec<(usize, FindingKind)> = report
        .findings
        .iter()
        .map(|f| (f.inject_idx, f.kind))
        .collect();
    assert!(
        kinds.contains(&(1, FindingKind::Gap)),
        "{:?}",
        report.findings
    );
    assert!(
        kinds.contains(&(0, FindingKind::Duplicate)),
        "{:?}",
        report.findings
    );
    // The first receipt counts.
    let kor = &report.injects[0].parties[2];
    assert_eq!(kor.latency_ms, Some(200));
}

#[test]
fn a_link_outage_publishes_nothing_and_is_no_gap() {
    let nodes = vec![NodeEvidence {
        party: Some(party("JPN")),
        reports: vec![],
        receipts: vec![],
        acknowledgements: vec![],
    }];
    let mut outage = played("JPN–KOR link lost", 500, &[]);
    outage.type_name = "link_outage".into();
    // The same inject as a note that published nothing is a gap.
    let silent_note = played("silent", 600, &[]);
    let run = run(vec![outage, silent_note]);
    let report = after_action(
        &run,
        &Evidence {
            nodes: &nodes,
            withheld: &BTreeMap::new(),
        },
    );
    let gaps: Vec<usize> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Gap)
        .map(|f| f.inject_idx)
        .collect();
    assert_eq!(gaps, [1], "{:?}", report.findings);
}

#[test]
fn a_warning_nobody_acknowledged_is_a_finding() {
    let mut draft = ReportDraft::new(
        party("JPN"),
        Kind::new("missile.warning").unwrap(),
        Marking::new("CONFIDENTIAL", Tlp::Amber, ["TRILAT"]),
        json!({}),
        at(1_000),
    );
    draft.exercise = true;
    let warning = draft.sign(&NodeKey::generate()).unwrap();
    let evidence =
        |party_code: &str, receipts: Vec<Receipt>, acks: Vec<Acknowledgement>| NodeEvidence {
            party: Some(party(party_code)),
            reports: vec![warning.clone()],
            receipts,
            acknowledgements: acks,
        };
    let nodes = vec![
        evidence("USA", vec![receipt(&warning, "JPN", 1_100)], vec![]),
        evidence(
            "JPN",
            vec![],
            vec![Acknowledgement {
                report_id: warning.id,
                by: "JPN:watch".into(),
                at: at(4_000),
            }],
        ),
        evidence("KOR", vec![receipt(&warning, "JPN", 1_200)], vec![]),
    ];
    let run = run(vec![played("launch", 900, &[&warning])]);
    let report = after_action(
        &run,
        &Evidence {
            nodes: &nodes,
            withheld: &BTreeMap::new(),
        },
    );
    let unacknowledged: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Unacknowledged)
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        unacknowledged,
        [
            "launch: USA had 1 warning(s), 1 not acknowledged",
            "launch: KOR had 1 warning(s), 1 not acknowledged"
        ]
    );
    let jpn = &report.injects[0].products[0].deliveries[1];
    assert_eq!(jpn.acknowledged.as_ref().unwrap().after_ms, Some(3_000));
}

#[test]
fn a_node_restart_is_an_interval_with_what_the_node_caught_up() {
    // USA's note before the restart reaches KOR before it: not caught up.
    let before = note("USA", &["TRILAT"], 500);
    // JPN's note while KOR is down (1 s to 5 s) reaches it 300 ms after.
    let during = note("JPN", &["TRILAT"], 2_000);
    // A US-Japan note while KOR is down: withheld, not caught up.
    let bilateral = note("USA", &["USA", "JPN"], 3_000);
    // USA's note after the restart: not caught up either.
    let after = note("USA", &["TRILAT"], 6_000);
    let all = [&before, &during, &bilateral, &after];
    let nodes = vec![
        NodeEvidence {
            party: Some(party("USA")),
            reports: vec![
                before.clone(),
                bilateral.clone(),
                after.clone(),
                during.clone(),
            ],
            receipts: vec![receipt(&during, "JPN", 2_050)],
            acknowledgements: vec![],
        },
        NodeEvidence {
            party: Some(party("JPN")),
            reports: all.iter().map(|r| (*r).clone()).collect(),
            receipts: vec![
                receipt(&before, "USA", 550),
                receipt(&bilateral, "USA", 3_050),
                receipt(&after, "USA", 6_050),
            ],
            acknowledgements: vec![],
        },
        NodeEvidence {
            party: Some(party("KOR")),
            reports: vec![before.clone(), during.clone(), after.clone()],
            receipts: vec![
                receipt(&before, "USA", 600),
                receipt(&during, "JPN", 5_300),
                receipt(&after, "USA", 6_100),
            ],
            acknowledgements: vec![],
        },
    ];
    let withheld = BTreeMap::from([(
        (bilateral.id, party("KOR")),
        "KOR is not in rel_to".to_string(),
    )]);
    let mut restart = played("KOR crashes", 1_000, &[]);
    restart.type_name = "node_restart".into();
    restart.ended_at = Some(at(5_000));
    restart.outage_parties = vec![party("KOR")];
    let run = run(vec![
        played("before", 500, &[&before]),
        restart,
        played("during", 2_000, &[&during]),
        played("bilateral", 3_000, &[&bilateral]),
        played("after", 6_000, &[&after]),
    ]);
    let report = after_action(
        &run,
        &Evidence {
            nodes: &nodes,
            withheld: &withheld,
        },
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["outages"],
        json!([{
            "inject_idx": 1,
            "label": "KOR crashes",
            "type_name": "node_restart",
            "parties": ["KOR"],
            "from": at(1_000),
            "to": at(5_000),
            "caught_up": [{
                "party": "KOR",
                "n_products": 1,
                "products": [during.id],
                "last_at": at(5_300),
                "last_after_ms": 300
            }]
        }])
    );
    // A restart publishes nothing: no gap.
    assert!(
        report.findings.iter().all(|f| f.inject_idx != 1),
        "{:?}",
        report.findings
    );
    // The JSON reads back.
    let back: trilat_exercise::AfterAction = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);

    let page = trilat_exercise::html::render(&report);
    let bands: Vec<&str> = page
        .lines()
        .filter(|l| l.starts_with("<rect class=\"outage\""))
        .collect();
    assert_eq!(bands.len(), 1, "{page}");
    assert!(
        bands[0].contains("inject 2: KOR node down from 1.0 s to 5.0 s"),
        "{}",
        bands[0]
    );
    assert!(page.contains("<h2>Outages and restarts</h2>"));
    assert!(
        page.contains("<td>KOR</td><td>1 product(s)</td><td>+300 ms</td>"),
        "{page}"
    );
}

#[test]
fn a_link_outage_shades_both_ends_on_the_timeline() {
    let during = note("KOR", &["JPN", "KOR"], 2_000);
    let nodes = vec![
        NodeEvidence {
            party: Some(party("JPN")),
            reports: vec![during.clone()],
            receipts: vec![receipt(&during, "KOR", 4_500)],
            acknowledgements: vec![],
        },
        NodeEvidence {
            party: Some(party("KOR")),
            reports: vec![during.clone()],
            receipts: vec![],
            acknowledgements: vec![],
        },
    ];
    let mut outage = played("JPN–KOR link lost", 1_000, &[]);
    outage.type_name = "link_outage".into();
    outage.ended_at = Some(at(4_000));
    outage.outage_parties = vec![party("JPN"), party("KOR")];
    let run = run(vec![outage, played("during", 2_000, &[&during])]);
    let report = after_action(
        &run,
        &Evidence {
            nodes: &nodes,
            withheld: &BTreeMap::new(),
        },
    );
    let caught_up: Vec<(String, Vec<trilat_core::ReportId>, Option<i64>)> = report.outages[0]
        .caught_up
        .iter()
        .map(|c| (c.party.to_string(), c.products.clone(), c.last_after_ms))
        .collect();
    assert_eq!(
        caught_up,
        [
            ("JPN".to_string(), vec![during.id], Some(500)),
            ("KOR".to_string(), vec![], None)
        ]
    );
    let page = trilat_exercise::html::render(&report);
    let bands: Vec<&str> = page
        .lines()
        .filter(|l| l.starts_with("<rect class=\"outage\""))
        .collect();
    assert_eq!(bands.len(), 2, "{page}");
    assert!(
        bands[0].contains("JPN link cut from 1.0 s to 4.0 s"),
        "{}",
        bands[0]
    );
    assert!(
        bands[1].contains("KOR link cut from 1.0 s to 4.0 s"),
        "{}",
        bands[1]
    );
}
