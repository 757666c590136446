//! Score-aware retrieval against the exhaustive scan, on a hand-made list (always runs):
//! random queries drawn from the listed names with random perturbations (typos, dropped,
//! joined, split and reordered words, other scripts), random thresholds and attributes. The
//! bounded screen must return exactly the exhaustive scan's hits, score for score.

use proptest::prelude::*;
use std::sync::OnceLock;
use trilat_sanctions::model::{
    BirthDate, Entity, IdScheme, Identifier, ListSource, ListVersion, Name, NameQuality,
    PartialDate, Schema,
};
use trilat_sanctions::{Query, Screener};

/// Names of a small list: Korean names in several romanisations and scripts, families sharing
/// most of a name, Arabic and Russian names with common parts, companies with legal forms,
/// vessels and one-letter tokens.
const NAMES: &[(&str, Schema)] = &[
    ("KIM JONG UN", Schema::Person),
    ("Kim Jong-un", Schema::Person),
    ("김정은", Schema::Person),
    ("KIM CHO'NG-UN", Schema::Person),
    ("KIM JONG MAN", Schema::Person),
    ("KIM YONG CHOL", Schema::Person),
    ("RI CHOL HO", Schema::Person),
    ("Lee Cheol-ho", Schema::Person),
    ("PAK JONG CHON", Schema::Person),
    ("CHOE RYONG HAE", Schema::Person),
    ("RYU JIN", Schema::Person),
    ("YU JIN", Schema::Person),
    ("JANG MYONG JIN", Schema::Person),
    ("チャン・ミョンジン", Schema::Person),
    ("リ・ホンソプ", Schema::Person),
    ("NO MIN U", Schema::Person),
    ("RO MIN U", Schema::Person),
    ("SADDAM HUSSEIN AL-TIKRITI", Schema::Person),
    ("QUSAY SADDAM HUSSEIN AL-TIKRITI", Schema::Person),
    ("UDAY SADDAM HUSSEIN AL TIKRITI", Schema::Person),
    ("Ayad Futayyih Al-Rawi", Schema::Person),
    ("AYAD FUTAYYIH ALAWI", Schema::Person),
    ("Mohammed Ali Hassan", Schema::Person),
    ("MUHAMMAD ALI HASAN", Schema::Person),
    ("AHMAD MAHMOOD HASSAN", Schema::Person),
    ("Abdul Rahman Yasin", Schema::Person),
    ("Osama bin Laden", Schema::Person),
    ("Usama bin Ladin", Schema::Person),
    ("Ivan Petrovich Sidorov", Schema::Person),
    ("Иван Петрович Сидоров", Schema::Person),
    // Transcribed by sound: Chinese, Khmer, katakana; an Arabic compound written as one word.
    ("弗拉基米尔·普京", Schema::Person),
    ("Vladimir Putin", Schema::Person),
    ("នរោត្តម សីហមុនី", Schema::Person),
    ("Norodom Sihamoni", Schema::Person),
    ("ラザルス・グループ", Schema::Organization),
    ("Lazarus Group", Schema::Organization),
    ("ابوبكر البغدادي", Schema::Person),
    ("Abu Bakr al-Baghdadi", Schema::Person),
    ("KOREA RYONBONG GENERAL CORPORATION", Schema::Organization),
    (
        "Korea Mining Development Trading Corporation",
        Schema::Organization,
    ),
    ("KOMID", Schema::Organization),
    ("Tanchon Commercial Bank", Schema::Organization),
    ("Green Pine Associated Corporation", Schema::Organization),
    ("DCB FINANCE LIMITED", Schema::Organization),
    (
        "Leader (Hong Kong) International Trading Limited",
        Schema::Organization,
    ),
    ("CHON MA SAN", Schema::Vessel),
    ("MI RIM", Schema::Vessel),
    ("MI RIM 2", Schema::Vessel),
    ("JI SONG 6", Schema::Vessel),
    ("F-OJHH", Schema::Aircraft),
    // Two initials that join into a common word (`al`) of other names.
    ("A.L. MINTS", Schema::Organization),
];

fn screener() -> &'static Screener {
    static SCREENER: OnceLock<Screener> = OnceLock::new();
    SCREENER.get_or_init(|| {
        let mut entities = Vec::new();
        for (i, &(name, schema)) in NAMES.iter().enumerate() {
            let mut entity = Entity::new(
                ListSource::UnConsolidated,
                &format!("T.{i:03}"),
                format!("fixture line {i}"),
                schema,
            );
            entity.names.push(Name::new(name, NameQuality::Primary));
            // Every third entity also carries its neighbour's name as a weak alias.
            if i % 3 == 0 {
                let alias = NAMES[(i + 1) % NAMES.len()].0;
                entity.names.push(Name::new(alias, NameQuality::Weak));
            }
            if schema == Schema::Person && i % 2 == 0 {
                entity.birth_dates.push(BirthDate {
                    date: PartialDate {
                        year: 1950 + i as u16,
                        month: None,
                        day: None,
                    },
                    year_to: None,
                    circa: false,
                });
                entity
                    .countries
                    .push(if i % 4 == 0 { "KP" } else { "IQ" }.into());
            }
            if schema == Schema::Vessel {
                let imo = format!("86603{i:02}");
                entity
                    .identifiers
                    .push(Identifier::new(IdScheme::ImoShip, &imo, None));
            }
            entities.push(entity);
        }
        let list = ListVersion {
            source: ListSource::UnConsolidated,
            version: "fixture".into(),
            entities,
        };
        Screener::new(vec![list], None).unwrap()
    })
}

/// Applies one perturbation (chosen by `kind`, placed by `at`) to `name`.
fn perturb(name: &str, kind: u8, at: usize) -> String {
    let chars: Vec<char> = name.chars().collect();
    let words: Vec<&str> = name.split_whitespace().collect();
    let char_at = at % chars.len().max(1);
    let word_at = at % words.len().max(1);
    match kind % 9 {
        0 => name.to_string(),
        1 => chars
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != char_at)
            .map(|(_, c)| c)
            .collect(),
        2 => {
            let mut out = chars.clone();
            out.insert(char_at, 'e');
            out.into_iter().collect()
        }
        3 => {
            let mut out = chars.clone();
            if out.len() >= 2 {
                let i = char_at.min(out.len() - 2);
                out.swap(i, i + 1);
            }
            out.into_iter().collect()
        }
        4 if words.len() > 1 => {
            let kept: Vec<&str> = words
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != word_at)
                .map(|(_, w)| *w)
                .collect();
            kept.join(" ")
        }
        5 if words.len() > 1 => {
            // Join two adjacent words (`Jong Un` → `Jongun`).
            let i = word_at.min(words.len() - 2);
            let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            let next = out.remove(i + 1);
            out[i].push_str(&next);
            out.join(" ")
        }
        6 => {
            let mut out: Vec<&str> = words.clone();
            out.rotate_left(word_at);
            out.join(" ")
        }
        7 => {
            // Split a word in two.
            let word = words.get(word_at).copied().unwrap_or("");
            let split = word
                .char_indices()
                .nth(word.chars().count() / 2)
                .map_or(0, |(i, _)| i);
            let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            if split > 0 && word_at < out.len() {
                out[word_at] = format!("{} {}", &word[..split], &word[split..]);
            }
            out.join(" ")
        }
        _ => name.to_lowercase().replace('-', " "),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn bounded_screen_equals_exhaustive_scan(
        pick in 0..NAMES.len(),
        perturbations in proptest::collection::vec((0u8..9, 0usize..40), 0..3),
        threshold in 0.3f64..0.98,
        schema in proptest::option::of(0usize..4),
        dob in proptest::option::of(1940u16..2000),
        country in proptest::option::of(0usize..2),
        imo in proptest::option::of(0usize..NAMES.len()),
    ) {
        let mut name = NAMES[pick].0.to_string();
        for (kind, at) in perturbations {
            name = perturb(&name, kind, at);
        }
        let mut query = Query::name(&name);
        query.threshold = threshold;
        query.limit = 1_000;
        query.schema = schema.map(|s| [Schema::Person, Schema::Organization, Schema::Vessel, Schema::Aircraft][s]);
        query.birth_date = dob.map(|year| PartialDate { year, month: None, day: None });
        query.country = country.map(|c| ["KP", "IQ"][c].to_string());
        if let Some(i) = imo {
            query.identifiers.push(Identifier::new(IdScheme::ImoShip, &format!("86603{i:02}"), None));
        }
        let screener = screener();
        let bounded = screener.screen(&query);
        let exhaustive = screener.screen_exhaustive(&query);
        let key = |hits: &[trilat_sanctions::Hit]| -> Vec<(String, u64)> {
            hits.iter().map(|h| (h.entity_id.clone(), h.score.to_bits())).collect()
        };
        prop_assert_eq!(key(&bounded), key(&exhaustive), "query {:?} at {}", name, threshold);
    }
}

#[test]
fn retrieval_keeps_few_names_for_a_listed_name() {
    // Not vacuous: the bound does prune (a name query scores a handful of names, not all).
    let screener = screener();
    let kept = screener
        .candidates_len(&Query::name("Tanchon Commercial Bank"))
        .unwrap();
    assert!(
        kept >= 1 && kept < screener.names_len() / 2,
        "{kept} of {}",
        screener.names_len()
    );
}

#[test]
fn bounded_screen_equals_exhaustive_scan_on_every_listed_name() {
    // A sweep, not a sample: every listed name, each single perturbation at a few places, and
    // thresholds across the range the bound covers. Pairs such as `Mohammed` / `Muhammad`
    // (two edits apart) matter only in a narrow band of thresholds, which random sampling
    // rarely hits.
    let screener = screener();
    let mut checked = 0;
    for &(listed, _) in NAMES {
        for kind in 0u8..9 {
            for at in [0usize, 3, 7] {
                let name = perturb(listed, kind, at);
                for threshold in [0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9] {
                    let mut query = Query::name(&name);
                    query.threshold = threshold;
                    query.limit = 1_000;
                    let key = |hits: Vec<trilat_sanctions::Hit>| -> Vec<(String, u64)> {
                        hits.into_iter()
                            .map(|h| (h.entity_id, h.score.to_bits()))
                            .collect()
                    };
                    assert_eq!(
                        key(screener.screen(&query)),
                        key(screener.screen_exhaustive(&query)),
                        "query {name:?} at {threshold}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, NAMES.len() * 9 * 3 * 8);
}

#[test]
fn a_name_whose_initials_join_into_a_query_word_is_bounded() {
    // `A.L.` joins into `al`, a word of the query. Against a query as long as the name nothing
    // merges (tokens merge only between forms of different lengths): bounded like any other
    // name. Against a longer one the run may merge, and then meets only `al`: bounded by what
    // `al` and the words the name shares can add. Neither is retrieved (the name shares no
    // other word); `AL MINTS` is, through the merged run, and is a hit. The bounded screen is
    // the exhaustive scan's in every case.
    let entity = |id: &str, name: &str| {
        let mut entity = Entity::new(
            ListSource::UnConsolidated,
            id,
            "fixture".into(),
            Schema::Organization,
        );
        entity.names.push(Name::new(name, NameQuality::Primary));
        entity
    };
    let list = ListVersion {
        source: ListSource::UnConsolidated,
        version: "fixture".into(),
        entities: vec![
            entity("T.1", "A.L. MINTS"),
            entity("T.2", "GREEN PINE ASSOCIATED CORPORATION"),
        ],
    };
    let screener = Screener::new(vec![list], None).unwrap();
    let cases = [
        ("Hani al Sibai", 0, 0),
        ("Hani al Sibai Tariq", 0, 0),
        ("AL MINTS", 1, 1),
    ];
    for (query, retrieved, hits_n) in cases {
        let query = Query::name(query);
        assert_eq!(
            screener.candidates_len(&query),
            Some(retrieved),
            "{}",
            query.name
        );
        let ids = |hits: Vec<trilat_sanctions::Hit>| -> Vec<String> {
            hits.into_iter().map(|h| h.entity_id).collect()
        };
        let bounded = ids(screener.screen(&query));
        assert_eq!(bounded.len(), hits_n, "{}", query.name);
        assert_eq!(bounded, ids(screener.screen_exhaustive(&query)));
    }
}
