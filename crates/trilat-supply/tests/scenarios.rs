//! Scenarios on the real files.

use std::collections::BTreeSet;

use trilat_supply::figures::{parse_figures, FigureSet};
use trilat_supply::scenario::{pool, stop};
use trilat_supply::Groups;

use crate::common::{close, dataset};

fn groups() -> Groups {
    Groups {
        allies: ["AUS", "CAN", "GBR", "DEU", "FRA"].map(String::from).into(),
        concern: ["CHN", "RUS"].map(String::from).into(),
        ..Groups::default()
    }
}

/// A figures file (`origin`, as the node names a report's) of these rows
/// under the documented header.
fn figure_set(origin: &str, publisher: Option<&str>, rows: &str) -> FigureSet {
    let csv = format!("party,commodity,figure,country,value,unit,year,source\n{rows}");
    FigureSet {
        origin: origin.into(),
        publisher: publisher.map(String::from),
        figures: parse_figures(origin, &csv).unwrap(),
    }
}

#[test]
fn china_stops_gallium_and_germanium() {
    let Some(data) = dataset() else { return };
    let codes = vec!["galli".to_string(), "germa".to_string()];
    let all = data.indicators(&groups(), &codes);
    let stopped = BTreeSet::from(["CHN".to_string()]);
    let result = stop(&all, &stopped, &codes, &groups(), &[]);
    assert_eq!(result.outcomes.len(), 1);
    assert_eq!(result.without_figures.len(), 1, "germanium has no figures");
    let ga = &result.outcomes[0];
    close(ga.lost_share, 600_000.0 / 610_000.0, 1e-12);
    close(ga.lost, 600_000.0, 1e-6);
    close(ga.partners_share, 5_000.0 / 610_000.0, 1e-12);
    close(ga.allies_share, 0.0, 1e-12);
    close(ga.gap_share, 595_000.0 / 610_000.0, 1e-12);
    // USGS lists China second among US gallium import sources.
    let usa = ga.exposures.iter().find(|e| e.party == "USA").unwrap();
    assert_eq!(usa.exposure, Some(1.0));
    assert!(usa.upper_bound);
    assert!(usa.basis.contains("CHN #2"), "{}", usa.basis);
    let jpn = ga.exposures.iter().find(|e| e.party == "JPN").unwrap();
    assert_eq!(jpn.exposure, None);
    assert_eq!(ga.most_exposed.as_deref(), Some("USA"));
}

/// A partner's figure is not ranked against a larger USGS bound: the
/// United States, bounded at its gallium reliance (100 %), may be more or
/// less exposed than Korea at 60 %, so no partner is named; at 100 % Korea
/// is at least as exposed as the bound allows the United States to be.
#[test]
fn a_figure_is_not_ranked_against_a_larger_bound() {
    let Some(data) = dataset() else { return };
    let codes = vec!["galli".to_string()];
    let all = data.indicators(&groups(), &codes);
    let stopped = BTreeSet::from(["CHN".to_string()]);
    let kor_at = |share: u32| {
        let rows = format!(
            "KOR,gallium,net_import_reliance_pct,,100,%,2023,test figures\n\
             KOR,gallium,import_share_pct,CHN,{share},%,2023,test figures\n"
        );
        let sets = [figure_set("kor.csv", None, &rows)];
        stop(&all, &stopped, &codes, &groups(), &sets).outcomes[0].clone()
    };
    let below = kor_at(60);
    let usa = below.exposures.iter().find(|e| e.party == "USA").unwrap();
    assert!(usa.upper_bound && usa.exposure == Some(1.0), "{usa:?}");
    assert_eq!(below.most_exposed, None);
    assert_eq!(kor_at(100).most_exposed.as_deref(), Some("KOR"));
}

#[test]
fn partner_figures_decide_who_is_most_exposed() {
    let Some(data) = dataset() else { return };
    let codes = vec!["graph".to_string()];
    let all = data.indicators(&groups(), &codes);
    let sets = [figure_set(
        "kor.csv",
        None,
        "KOR,graphite,net_import_reliance_pct,,100,%,2023,test figures\n\
         KOR,graphite,import_share_pct,CHN,90,%,2023,test figures\n\
         USA,graphite,net_import_reliance_pct,,100,%,2023,test figures\n\
         USA,graphite,import_share_pct,CHN,40,%,2023,test figures\n",
    )];
    let stopped = BTreeSet::from(["CHN".to_string()]);
    let result = stop(&all, &stopped, &codes, &groups(), &sets);
    let gr = &result.outcomes[0];
    let kor = gr.exposures.iter().find(|e| e.party == "KOR").unwrap();
    close(kor.exposure.unwrap(), 0.9, 1e-12);
    assert_eq!(kor.basis, "KOR's figures, kor.csv (lines 2, 3)");
    let usa = gr.exposures.iter().find(|e| e.party == "USA").unwrap();
    close(usa.exposure.unwrap(), 0.4, 1e-12);
    assert_eq!(gr.most_exposed.as_deref(), Some("KOR"));
    // Graphite: the coalition has Canada, Germany and Korea (2023e).
    close(gr.partners_share, 27_000.0 / 1_600_000.0, 1e-12);
    close(gr.allies_share, (3_500.0 + 150.0) / 1_600_000.0, 1e-12);
}

#[test]
fn stopping_a_partner_counts_it_out_of_the_coalition() {
    let Some(data) = dataset() else { return };
    let codes = vec!["graph".to_string()];
    let all = data.indicators(&groups(), &codes);
    let stopped = BTreeSet::from(["KOR".to_string()]);
    let result = stop(&all, &stopped, &codes, &groups(), &[]);
    let gr = &result.outcomes[0];
    close(gr.lost_share, 27_000.0 / 1_600_000.0, 1e-12);
    close(gr.partners_share, 0.0, 1e-12);
    // What Canada and Germany make cannot replace Korea's output.
    close(gr.gap_share, (27_000.0 - 3_650.0) / 1_600_000.0, 1e-12);
}

#[test]
fn pooling_rare_earths() {
    let Some(data) = dataset() else { return };
    let codes = vec!["raree".to_string()];
    let all = data.indicators(&groups(), &codes);
    let result = pool(&all, &codes, &groups());
    let re = &result.outcomes[0];
    // 2023e: United States 43,000 t, Australia 18,000 t of 350,000 t.
    close(
        re.partners_production_share.unwrap(),
        43_000.0 / 350_000.0,
        1e-12,
    );
    close(
        re.coalition_production_share.unwrap(),
        61_000.0 / 350_000.0,
        1e-12,
    );
    // Reserves: United States 1.8 Mt, Australia 5.7 Mt, Canada 0.83 Mt of 110 Mt.
    close(
        re.coalition_reserves_share.unwrap(),
        8_330_000.0 / 110_000_000.0,
        1e-12,
    );
}

/// Two sources for one partner never add up: its own publication is used,
/// else the first source given; the basis names the one used.
#[test]
fn a_partners_figures_come_from_one_source_its_own_first() {
    let Some(data) = dataset() else { return };
    let codes = vec!["galli".to_string()];
    let all = data.indicators(&groups(), &codes);
    let set = |origin: &str, publisher: Option<&str>, share: u32| {
        let rows = format!(
            "JPN,gallium,net_import_reliance_pct,,100,%,2023,test figures\n\
             JPN,gallium,import_share_pct,CHN,{share},%,2023,test figures\n"
        );
        figure_set(origin, publisher, &rows)
    };
    let stopped = BTreeSet::from(["CHN".to_string()]);
    let jpn_of = |sets: &[FigureSet]| {
        let r = stop(&all, &stopped, &codes, &groups(), sets);
        let e = r.outcomes[0]
            .exposures
            .iter()
            .find(|e| e.party == "JPN")
            .cloned();
        e.unwrap()
    };
    // USA's estimate of Japan's imports, then Japan's own: Japan's is used.
    let usa_view = set("econ.figures USA/1 (usa.csv)", Some("USA"), 30);
    let jpn_own = set("econ.figures JPN/2 (jpn.csv)", Some("JPN"), 60);
    let e = jpn_of(&[usa_view.clone(), jpn_own.clone()]);
    close(e.exposure.unwrap(), 0.6, 1e-12);
    assert!(e.basis.contains("JPN/2"), "{}", e.basis);
    // Two sources, neither Japan's: the first, not their sum (0.9).
    let other = set("econ.figures KOR/3 (kor.csv)", Some("KOR"), 20);
    let e = jpn_of(&[other, usa_view]);
    close(e.exposure.unwrap(), 0.2, 1e-12);
    assert!(e.basis.contains("KOR/3"), "{}", e.basis);
}

/// Several countries and commodities at once, hand-computed from the files.
#[test]
fn china_and_russia_stop_antimony_and_graphite() {
    let Some(data) = dataset() else { return };
    let codes = vec!["antim".to_string(), "graph".to_string()];
    let all = data.indicators(&groups(), &codes);
    let stopped = BTreeSet::from(["CHN".to_string(), "RUS".to_string()]);
    let result = stop(&all, &stopped, &codes, &groups(), &[]);
    assert_eq!(result.outcomes.len(), 2);
    let [sb, gr] = [&result.outcomes[0], &result.outcomes[1]];
    assert_eq!(
        (sb.commodity.as_str(), gr.commodity.as_str()),
        ("antim", "graph")
    );
    // Antimony 2023e (t): China 40,000 and Russia 4,300 of 83,000; the
    // United States 0; Australia 2,300 and Canada 2 among the allies.
    close(sb.lost_share, 44_300.0 / 83_000.0, 1e-12);
    close(sb.partners_share, 0.0, 1e-12);
    close(sb.allies_share, 2_302.0 / 83_000.0, 1e-12);
    close(sb.gap_share, (44_300.0 - 2_302.0) / 83_000.0, 1e-12);
    // Reserves: no world total, so the sum of the rows (2,171,000 t); the
    // United States 60,000, Australia 140,000, Canada 78,000.
    close(
        sb.partners_reserves_share.unwrap(),
        60_000.0 / 2_171_000.0,
        1e-12,
    );
    close(
        sb.allies_reserves_share.unwrap(),
        218_000.0 / 2_171_000.0,
        1e-12,
    );
    close(
        sb.coalition_reserves_share.unwrap(),
        278_000.0 / 2_171_000.0,
        1e-12,
    );
    // Graphite 2023e: China 1,230,000 and Russia 16,000 of 1,600,000 t;
    // reserves of Korea 1.8 Mt (partner), Canada 5.7 Mt (ally) of 280 Mt.
    close(gr.lost_share, 1_246_000.0 / 1_600_000.0, 1e-12);
    close(
        gr.partners_reserves_share.unwrap(),
        1_800_000.0 / 280_000_000.0,
        1e-12,
    );
    close(
        gr.allies_reserves_share.unwrap(),
        5_700_000.0 / 280_000_000.0,
        1e-12,
    );
}

/// Every series of the 77 commodities goes through both scenarios: a stop
/// outcome or "no production figures", and a pool outcome.
#[test]
fn both_scenarios_cover_every_series_of_the_77_commodities() {
    let Some(data) = dataset() else { return };
    let all = data.indicators(&groups(), &[]);
    let commodities: BTreeSet<&str> = all.iter().map(|s| s.commodity.as_str()).collect();
    assert_eq!(commodities.len(), 77);
    let stopped = BTreeSet::from(["CHN".to_string()]);
    let result = stop(&all, &stopped, &[], &groups(), &[]);
    assert_eq!(
        result.outcomes.len() + result.without_figures.len(),
        all.len()
    );
    assert!(
        result.outcomes.len() > 77,
        "{} outcomes",
        result.outcomes.len()
    );
    for o in &result.outcomes {
        assert!((0.0..=1.0 + 1e-9).contains(&o.lost_share), "{}", o.name);
        assert!(o.gap_share <= o.lost_share, "{}", o.name);
    }
    let pooled = pool(&all, &[], &groups());
    assert_eq!(pooled.outcomes.len(), all.len());
}
