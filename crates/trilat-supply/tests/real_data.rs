//! The readers and indicators on the real files.

use std::collections::BTreeSet;

use trilat_supply::country::Who;
use trilat_supply::indicators::{ranking, SeriesIndicators, WorldFrom};
use trilat_supply::usgs::Stage;
use trilat_supply::Groups;

use crate::common::{close, dataset, read};

fn groups() -> Groups {
    Groups {
        allies: ["AUS", "CAN", "GBR", "DEU", "FRA"].map(String::from).into(),
        concern: ["CHN", "RUS", "PRK", "IRN"].map(String::from).into(),
        ..Groups::default()
    }
}

fn series<'a>(all: &'a [SeriesIndicators], code: &str, word: &str) -> &'a SeriesIndicators {
    all.iter()
        .find(|s| s.commodity == code && s.series_type.to_lowercase().contains(word))
        .unwrap_or_else(|| panic!("no {code} series with {word:?}"))
}

#[test]
fn all_77_world_files_read_and_every_label_is_known() {
    let Some(data) = dataset() else { return };
    assert_eq!(data.world.len(), 77);
    let mut unknown = BTreeSet::new();
    for file in &data.world {
        for s in &file.series {
            for row in &s.rows {
                if let Who::Unknown(name) = &row.who {
                    unknown.insert(name.clone());
                }
            }
        }
    }
    // The one aggregate USGS reports as a row (helium reserves).
    assert_eq!(
        unknown,
        BTreeSet::from(["United States and Canada".to_string()])
    );
    // Series: copper has mine and refinery, PGMs palladium and platinum.
    let copper = data.world.iter().find(|f| f.code == "coppe").unwrap();
    let stages: Vec<Stage> = copper.series.iter().map(|s| s.stage).collect();
    assert_eq!(stages, [Stage::Mining, Stage::Refining]);
    let pgm = data.world.iter().find(|f| f.code == "plati").unwrap();
    assert_eq!(pgm.series.len(), 2);
}

#[test]
fn every_wgi_economy_has_an_iso_code() {
    let Some(data) = dataset() else { return };
    let wgi = data.wgi.as_ref().expect("WGI read");
    assert_eq!(wgi.by_country.len(), 215);
    assert!(wgi.diagnostics.is_empty(), "{:?}", wgi.diagnostics);
    assert!(wgi.by_country.values().all(|years| years.len() == 17));
    // Hand-computed from line 1685: the mean of Japan's six 2015
    // estimates is 1.348097…, rescaled (2.5 − mean)/5 × 10.
    let japan = wgi.score("JPN", 2023).unwrap();
    assert_eq!((japan.year, japan.line), (2015, 1685));
    close(japan.score, 2.303_805_569_807_684, 1e-12);
    let china = wgi.score("CHN", 2023).unwrap();
    assert_eq!(china.line, 818);
    close(china.score, 5.862_695_207_198_461, 1e-12);
}

#[test]
fn reliance_lines_join_their_commodities() {
    let Some(data) = dataset() else { return };
    assert_eq!(data.reliance.len(), 63);
    let unjoined: BTreeSet<&str> = data
        .reliance
        .iter()
        .filter(|r| r.code.is_none())
        .map(|r| r.label.as_str())
        .collect();
    assert_eq!(
        unjoined,
        BTreeSet::from([
            "CESIUM",
            "NEPHELINE SYENITE",
            "RUBIDIUM",
            "SCANDIUM",
            "YTTRIUM"
        ])
    );
    let gallium = data.reliance.iter().find(|r| r.label == "GALLIUM").unwrap();
    assert_eq!(gallium.import_sources, ["JPN", "CHN", "DEU", "CAN"]);
    assert_eq!(gallium.fraction(), Some(1.0));
    let indium = data.reliance.iter().find(|r| r.label == "INDIUM").unwrap();
    assert_eq!(indium.import_sources[0], "KOR");
}

#[test]
fn hand_computed_gallium_graphite_rare_earths() {
    let Some(data) = dataset() else { return };
    let all = data.indicators(&groups(), &[]);
    // Gallium 2023e (lines 3–8): China 600,000 kg of a world 610,000;
    // Japan 3,000, Korea 2,000, Russia 5,000, United States 0.
    let ga = series(&all, "galli", "primary")
        .production
        .as_ref()
        .unwrap();
    assert_eq!(ga.column, "Prod_kg_est_2023");
    assert_eq!(ga.world_from, WorldFrom::TotalRow { line: 8 });
    close(ga.hhi, 9_675.839_828_003_223, 1e-6);
    assert_eq!(ga.top1.as_ref().unwrap().0, "CHN");
    close(ga.concern_share, 605_000.0 / 610_000.0, 1e-12);
    close(ga.partners_share, 5_000.0 / 610_000.0, 1e-12);
    close(ga.unattributed_share, 0.0, 1e-12);
    // Graphite 2023e: 18 countries of a world 1,600,000 t.
    let gr = series(&all, "graph", "graphite")
        .production
        .as_ref()
        .unwrap();
    close(gr.hhi, 6_010.723_876_953_126, 1e-6);
    close(
        gr.top3_share,
        (1_230_000.0 + 100_000.0 + 96_000.0) / 1_600_000.0,
        1e-12,
    );
    close(gr.unattributed_share, 1.0 - 0.992_281_25, 1e-12);
    // Rare earths 2023e production and reserves.
    let re = series(&all, "raree", "rare earths");
    close(
        re.production.as_ref().unwrap().hhi,
        5_002.765_257_142_856,
        1e-6,
    );
    let reserves = re.reserves.as_ref().unwrap();
    assert_eq!(reserves.column, "Reserves_t");
    close(reserves.hhi, 2_519.582_744_008_264, 1e-6);
    // Burma has no reserves figure (NA): named, in no share.
    assert!(reserves.not_given.contains(&"MMR".to_string()));
}

#[test]
fn germanium_has_no_figures_and_says_nothing_made_up() {
    let Some(data) = dataset() else { return };
    let all = data.indicators(&groups(), &["germa".to_string()]);
    assert_eq!(all.len(), 1);
    assert!(all[0].production.is_none());
    assert!(all[0].reserves.is_none());
    assert!(all[0].us_reliance.is_some());
}

/// USGS's own table of critical minerals (MCS 2024 Table 5) names the
/// leading producer of each and its share of world production, computed
/// by USGS: the same from our parse of the world files.
#[test]
fn leading_producers_agree_with_usgs_salient_table() {
    let Some(data) = dataset() else { return };
    let Some(text) = read("usgs_mcs2024/industry_trends/MCS2024_T5_Critical_Minerals_Salient.csv")
    else {
        return;
    };
    let all = data.indicators(&groups(), &[]);
    let join: &[(&str, &str, &str)] = &[
        ("Aluminum (bauxite)", "bauxi", "bauxite"),
        ("Antimony", "antim", ""),
        ("Arsenic", "arsen", ""),
        ("Barite", "barit", ""),
        ("Beryllium", "beryl", ""),
        ("Bismuth", "bismu", ""),
        ("Chromium", "chrom", ""),
        ("Cobalt", "cobal", ""),
        ("Fluorspar", "fluor", ""),
        ("Gallium", "galli", ""),
        ("Graphite (natural)", "graph", ""),
        ("Indium", "indiu", ""),
        ("Lithium", "lithi", ""),
        ("Magnesium", "mgmet", ""),
        ("Manganese", "manga", ""),
        ("Nickel", "nicke", ""),
        ("Niobium", "niobi", ""),
        ("Palladium", "plati", "palladium"),
        ("Platinum", "plati", "platinum"),
        ("Rare earths (compounds and metals)", "raree", ""),
        ("Tantalum", "tanta", ""),
        ("Tellurium", "tellu", ""),
        ("Tin", "tin", ""),
        ("Titanium (metal)", "titan", ""),
        ("Tungsten", "tungs", ""),
        ("Vanadium", "vanad", ""),
        ("Zirconium (ores and concentrates)", "zirco", ""),
    ];
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut checked = 0;
    for record in reader.records() {
        let r = record.unwrap();
        let Some((_, code, word)) = join.iter().find(|(name, _, _)| *name == &r[2]) else {
            continue;
        };
        let p = series(&all, code, word).production.as_ref().unwrap();
        let (top, share) = p.top1.clone().unwrap();
        let leader = trilat_supply::country::iso3(&r[11]).unwrap();
        assert_eq!(top, leader, "{}", &r[2]);
        let usgs_pct: f64 = r[15].parse().unwrap();
        assert!(
            (share * 100.0 - usgs_pct).abs() <= 1.0,
            "{}: ours {:.1}%, USGS {usgs_pct}%",
            &r[2],
            share * 100.0
        );
        checked += 1;
    }
    assert_eq!(checked, join.len());
}

#[test]
fn ranking_covers_every_series_with_production_and_gives_provenance() {
    let Some(data) = dataset() else { return };
    let all = data.indicators(&groups(), &[]);
    let ranked = ranking(&all);
    let with_production = all
        .iter()
        .filter(|s| {
            s.production
                .as_ref()
                .is_some_and(|p| p.world_from != WorldFrom::SumOfRows)
        })
        .count();
    // Boron, iron oxide pigments, kyanite, pumice: no world total; not ranked.
    assert_eq!(
        all.iter().filter(|s| s.production.is_some()).count() - with_production,
        4
    );
    assert_eq!(ranked.len(), with_production);
    assert!(ranked.len() > 77, "{} series", ranked.len());
    // Dimension stone has one figure (the United States) and no world total.
    assert!(all
        .iter()
        .any(|s| s.commodity == "stond" && s.production.is_none()));
    for pair in ranked.windows(2) {
        assert!(pair[0].hhi_wgi.unwrap_or(-1.0) >= pair[1].hhi_wgi.unwrap_or(-1.0));
    }
    for e in &ranked {
        assert!(
            e.provenance[0].starts_with(&format!("mcs2024-{}", e.commodity))
                || e.provenance[0].starts_with("MCS2024-")
        );
    }
    // Gallium, where China holds 98 %, ranks near the top.
    let ga = ranked.iter().find(|e| e.commodity == "galli").unwrap();
    assert!(ga.rank <= 5, "gallium ranks {}", ga.rank);
    assert_eq!(ga.us_reliance_pct, Some(100.0));
}
