//! The screening fast path against its references, on the evaluation pairs built from the
//! real lists (skipped, saying so, when `../shared/data` is absent): the score-only matcher
//! against the explained one, and bounded candidate retrieval against the exhaustive scan.

use crate::real_data::shared;
use trilat_sanctions::analysis::analyze;
use trilat_sanctions::eval::build_pairs;
use trilat_sanctions::matcher::{compare, score};
use trilat_sanctions::model::ListVersion;
use trilat_sanctions::screener::{Query, Screener};
use trilat_sanctions::{ofac, un};

/// UN consolidated plus the OFAC DPRK programmes: the lists the DPRK-heavy eval set draws on.
fn lists() -> Option<Vec<ListVersion>> {
    let un_xml = shared("sanctions/un/UN_consolidated_2026-02-27.xml")?;
    let ofac_csv = shared("sanctions/ofac/ofac_sdn_2024-05-03_DPRK_programs.csv")?;
    Some(vec![
        un::parse(&un_xml).unwrap().list,
        ofac::parse_sdn(&ofac_csv, "ofac_sdn_2024-05-03_DPRK_programs.csv")
            .unwrap()
            .list,
    ])
}

#[test]
fn fast_scores_equal_explained_scores_on_eval_pairs() {
    let Some(lists) = lists() else { return };
    let pairs = build_pairs(&lists, 300, 1718);
    assert!(pairs.len() > 2_000, "{}", pairs.len());
    let screener = Screener::new(lists, None).unwrap();
    let mut matches = 0;
    for pair in &pairs {
        let a = analyze(&pair.name1, Some(pair.schema), None);
        let b = analyze(&pair.name2, Some(pair.schema), None);
        for (q, c) in [(&a, &b), (&b, &a)] {
            let fast = score(q, c, screener.rarity());
            let explained = compare(q, c, screener.rarity());
            assert_eq!(
                fast.to_bits(),
                explained.score.to_bits(),
                "{} ↔ {}: fast {fast}, explained {explained:#?}",
                pair.name1,
                pair.name2
            );
            matches += usize::from(fast >= 0.8);
        }
    }
    // Not vacuous: the pairs cover both sides of the threshold.
    assert!(
        matches > 500 && matches < 2 * pairs.len() - 500,
        "{matches}"
    );
}

#[test]
fn bounded_retrieval_finds_what_the_exhaustive_scan_finds() {
    let Some(lists) = lists() else { return };
    let pairs = build_pairs(&lists, 100, 1718);
    let screener = Screener::new(lists, None).unwrap();
    let (mut expected, mut missed) = (0, Vec::new());
    // Every 40th pair's second name (aliases, katakana, Arabic script, synthetic Korean): the
    // exhaustive scan is slow in a debug build; the benchmark runs the full mix in release.
    for pair in pairs.iter().step_by(40) {
        let mut query = Query::name(&pair.name2);
        query.schema = Some(pair.schema);
        query.limit = 1_000;
        let bounded = screener.screen(&query);
        for hit in screener.screen_exhaustive(&query) {
            expected += 1;
            match bounded.iter().find(|b| b.entity_id == hit.entity_id) {
                Some(found) => assert_eq!(found.score.to_bits(), hit.score.to_bits()),
                None => missed.push((pair.name2.clone(), hit.entity_id, hit.score)),
            }
        }
    }
    assert!(expected > 50, "{expected}");
    assert!(
        missed.is_empty(),
        "{} of {expected} missed: {missed:#?}",
        missed.len()
    );
}
