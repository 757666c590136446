use std::path::PathBuf;
use trilat_sanctions::model::{IdScheme, ListSource, Schema};
use trilat_sanctions::{japan, ofac, un};

pub(crate) fn shared(relative: &str) -> Option<Vec<u8>> {
    let root = std::env::var("TRILAT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    let path = root.join(relative);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(_) => {
            eprintln!(
                "skipping: {} not found (set TRILAT_SHARED_DATA)",
                path.display()
            );
            None
        }
    }
}

#[test]
fn un_consolidated_counts() {
    let Some(bytes) = shared("sanctions/un/UN_consolidated_2026-02-27.xml") else {
        return;
    };
    let parsed = un::parse(&bytes).unwrap();
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    let list = &parsed.list;
    assert_eq!(list.version, "2026-02-27T00:00:09.554Z");
    let persons = list
        .entities
        .iter()
        .filter(|e| e.schema == Schema::Person)
        .count();
    let organizations = list
        .entities
        .iter()
        .filter(|e| e.schema == Schema::Organization)
        .count();
    assert_eq!((persons, organizations), (730, 273));
    let dprk = list
        .entities
        .iter()
        .filter(|e| e.programmes.iter().any(|p| p == "DPRK"))
        .count();
    assert_eq!(dprk, 155);
    let kpi1 = list
        .entities
        .iter()
        .find(|e| e.record_id == "KPi.001")
        .unwrap();
    assert_eq!(kpi1.caption(), "YUN HO-JIN");
    assert_eq!(kpi1.birth_dates[0].date.to_iso(), "1944-10-13");
    assert_eq!(kpi1.countries, ["KP"]);
    // Every DPRK entry has a reference number KPi.* / KPe.*.
    assert!(list
        .entities
        .iter()
        .filter(|e| e.programmes.iter().any(|p| p == "DPRK"))
        .all(|e| e.record_id.starts_with("KP")));
    let filtered = shared("sanctions/un/UN_consolidated_2026-02-27_DPRK_only.xml").unwrap();
    assert_eq!(un::parse(&filtered).unwrap().list.entities.len(), 155);
}

#[test]
fn ofac_sdn_counts_and_companions() {
    let Some(bytes) = shared("sanctions/ofac/ofac_sdn_2024-05-03.csv") else {
        return;
    };
    let mut parsed = ofac::parse_sdn(&bytes, "2024-05-03").unwrap();
    assert!(
        parsed.problems.is_empty(),
        "{:?}",
        &parsed.problems[..parsed.problems.len().min(5)]
    );
    let count = |s: Schema| {
        parsed
            .list
            .entities
            .iter()
            .filter(|e| e.schema == s)
            .count()
    };
    assert_eq!(parsed.list.entities.len(), 14_965);
    assert_eq!(
        (
            count(Schema::Organization),
            count(Schema::Person),
            count(Schema::Vessel),
            count(Schema::Aircraft)
        ),
        (6_884, 6_854, 851, 376)
    );
    let vessels_with_imo = parsed
        .list
        .entities
        .iter()
        .filter(|e| {
            e.schema == Schema::Vessel
                && e.identifiers.iter().any(|i| i.scheme == IdScheme::ImoShip)
        })
        .count();
    assert!(vessels_with_imo > 800, "{vessels_with_imo}");
    let mut problems = Vec::new();
    let alt = ofac::apply_alt(
        &mut parsed.list,
        &shared("sanctions/ofac/ofac_2025-02-27_alt.csv").unwrap(),
        &mut problems,
    );
    let add = ofac::apply_add(
        &mut parsed.list,
        &shared("sanctions/ofac/ofac_2025-02-27_add.csv").unwrap(),
        &mut problems,
    );
    let comments = ofac::apply_comments(
        &mut parsed.list,
        &shared("sanctions/ofac/ofac_2025-02-27_sdn_comments.csv").unwrap(),
        &mut problems,
    );
    assert!(
        alt.applied > 10_000 && add.applied > 10_000 && comments.applied > 0,
        "{alt:?} {add:?} {comments:?}"
    );
    // The companions are from another date: unmatched rows are reported, not dropped silently.
    assert!(alt.unmatched > 0);
    assert!(problems.iter().any(|p| p.position == "alt.csv"));

    let dprk = shared("sanctions/ofac/ofac_sdn_2024-05-03_DPRK_programs.csv").unwrap();
    let dprk = ofac::parse_sdn(&dprk, "2024-05-03").unwrap();
    assert_eq!(dprk.list.entities.len(), 484);
    let with_imo = dprk
        .list
        .entities
        .iter()
        .filter(|e| e.identifiers.iter().any(|i| i.scheme == IdScheme::ImoShip))
        .count();
    // The data README says "105 vessels with IMO numbers": there are 105 vessels, and one of
    // them (17104 RYONG GUN BONG) has no IMO in its remarks.
    let vessels = dprk
        .list
        .entities
        .iter()
        .filter(|e| e.schema == Schema::Vessel)
        .count();
    assert_eq!((vessels, with_imo), (105, 104));
    assert_eq!(dprk.list.source, ListSource::OfacSdn);
}

#[test]
fn japan_mof_dprk_sheets() {
    let Some(bytes) = shared("sanctions/japan/mof_shisantouketsu20260305.xlsx") else {
        return;
    };
    let parsed = japan::parse_mof(&bytes, "2026-03-05").unwrap();
    let per_sheet = |sheet: usize| {
        parsed
            .list
            .entities
            .iter()
            .filter(|e| e.record_id.starts_with(&format!("{sheet}-")))
            .count()
    };
    assert_eq!(
        [
            per_sheet(13),
            per_sheet(14),
            per_sheet(15),
            per_sheet(16),
            per_sheet(17)
        ],
        [16, 75, 80, 75, 84]
    );
    let yun = parsed
        .list
        .entities
        .iter()
        .find(|e| e.record_id == "15-1")
        .unwrap();
    assert_eq!(yun.schema, Schema::Person);
    let names: Vec<&str> = yun.names.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(
        names,
        ["Yun Ho-jin", "ユン・ホジン", "ユン・ホチン", "Yun Ho-chin"]
    );
    assert_eq!(yun.birth_dates[0].date.to_iso(), "1944-10-13");
    assert_eq!(yun.countries, ["KP"]);
    assert!(parsed.list.entities.len() > 1000);
}

#[test]
fn japan_meti_end_user_list() {
    let Some(bytes) = shared("sanctions/japan/meti_foreign_user_list_20250929.xlsx") else {
        return;
    };
    let parsed = japan::parse_meti(&bytes, "2025-09-29").unwrap();
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    assert_eq!(parsed.list.entities.len(), 835);
    let north_korean = parsed
        .list
        .entities
        .iter()
        .filter(|e| e.countries.iter().any(|c| c == "KP"))
        .count();
    assert_eq!(north_korean, 154);
}
