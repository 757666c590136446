//! Identifiers on the real OFAC, UN and MOF lists: every type parsed and counted, invalid ones
//! reported with their reason, and exact screening of listed wallets, e-mails, IMO numbers and
//! passports. Skipped, saying so, when `../shared/data` is absent.

use std::collections::BTreeMap;

use crate::real_data::shared;
use trilat_sanctions::model::ListSource;
use trilat_sanctions::model::{IdScheme, ListVersion};
use trilat_sanctions::{japan, ofac, un, Screener};

fn ofac_2025() -> Option<ListVersion> {
    // The 2024 SDN file with the 2025 comments: the comments carry most wallet addresses.
    let sdn = shared("sanctions/ofac/ofac_sdn_2024-05-03.csv")?;
    let comments = shared("sanctions/ofac/ofac_2025-02-27_sdn_comments.csv")?;
    let mut parsed = ofac::parse_sdn(&sdn, "2024-05-03").unwrap();
    ofac::apply_comments(&mut parsed.list, &comments, &mut parsed.problems);
    Some(parsed.list)
}

/// (parsed, invalid) per scheme, and invalid reasons by scheme.
fn counts(list: &ListVersion) -> BTreeMap<&'static str, (usize, usize)> {
    let mut counts: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    for id in list.entities.iter().flat_map(|e| &e.identifiers) {
        let entry = counts.entry(id.scheme.name()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(id.invalid.is_some());
    }
    counts
}

#[test]
fn ofac_identifier_counts() {
    let Some(list) = ofac_2025() else {
        return;
    };
    let counts = counts(&list);
    eprintln!("OFAC identifiers (parsed, invalid) by type: {counts:?}");
    for id in list.entities.iter().flat_map(|e| &e.identifiers) {
        if let (Some(why), IdScheme::DigitalCurrency | IdScheme::SwiftBic | IdScheme::ImoShip) =
            (&id.invalid, id.scheme)
        {
            eprintln!(
                "  invalid {} {:?} {}: {why}",
                id.scheme.name(),
                id.currency,
                id.value
            );
        }
    }
    let (wallets, wallets_invalid) = counts["digital_currency"];
    // `Digital Currency Address` occurs 636 times in the two files; an address repeated
    // within an entity is kept once, and comments of entities not in the 2024 file do not join.
    // The one 64-hex-digit "XMR address" is a hash, not an address: reported, not dropped.
    assert!(
        wallets_invalid >= 1 && wallets_invalid * 20 < wallets,
        "{wallets_invalid}"
    );
    for scheme in [
        "email",
        "website",
        "phone",
        "swift_bic",
        "imo_ship",
        "mmsi",
        "passport",
    ] {
        let (parsed, invalid) = counts[scheme];
        assert!(parsed > 0, "{scheme}: none parsed");
        assert!(
            invalid * 4 < parsed,
            "{scheme}: {invalid} of {parsed} invalid"
        );
    }
    // An IMO ship number is marked invalid exactly when its check digit fails.
    for id in list.entities.iter().flat_map(|e| &e.identifiers) {
        if id.scheme == IdScheme::ImoShip {
            let valid = trilat_sanctions::ident::imo_valid(&id.value, IdScheme::ImoShip);
            assert_eq!(id.invalid.is_none(), valid, "{id:?}");
        }
    }
}

#[test]
fn ofac_identifier_screening() {
    let Some(list) = ofac_2025() else {
        return;
    };
    let screener = Screener::new(vec![list], None).unwrap();
    // A Bitcoin address of the list, exactly as written; one changed letter misses.
    let hit = |value: &str| screener.screen_id(value, None).hits;
    let btc = hit("12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h");
    assert_eq!(btc.len(), 1, "{btc:?}");
    assert_eq!(btc[0].currency.as_deref(), Some("XBT"));
    assert!(!btc[0].programmes.is_empty());
    assert!(hit("12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9H").is_empty());
    // Ethereum: case does not matter (EIP-55 is a display checksum).
    let eth = "0x983a81ca6FB1e441266D2FbcB7D8E530AC2E05A2";
    assert!(!hit(eth).is_empty());
    assert_eq!(hit(eth).len(), hit(&eth.to_ascii_lowercase()).len());
    // E-mail, case-insensitive.
    assert!(!hit("INFO@ARRAI.TV").is_empty());
    // A listed BIC by its 11-character head-office form.
    let bic = screener.screen_id("KDBKKPPYXXX", None);
    assert!(!bic.hits.is_empty(), "{bic:?}");
    // Not listed: no hit, and the query's own checksum failure is reported.
    let bad = screener.screen_id("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", None);
    assert!(bad.hits.is_empty());
    assert!(bad.query_invalid[0].1.contains("checksum"), "{bad:?}");
}

fn un_2026() -> Option<ListVersion> {
    let bytes = shared("sanctions/un/UN_consolidated_2026-02-27.xml")?;
    Some(un::parse(&bytes).unwrap().list)
}

fn mof_2026() -> Option<ListVersion> {
    let bytes = shared("sanctions/japan/mof_shisantouketsu20260305.xlsx")?;
    Some(japan::parse_mof(&bytes, "2026-03-05").unwrap().list)
}

fn print_invalid(list: &ListVersion) {
    for entity in &list.entities {
        for id in &entity.identifiers {
            if let Some(why) = &id.invalid {
                let (scheme, value) = (id.scheme.name(), &id.value);
                eprintln!("  invalid {scheme} {value} ({}): {why}", entity.id);
            }
        }
    }
}

/// Every listed IMO number is marked invalid exactly when its check digit fails.
#[track_caller]
fn assert_imo_marks(list: &ListVersion) {
    for id in list.entities.iter().flat_map(|e| &e.identifiers) {
        if matches!(id.scheme, IdScheme::ImoShip | IdScheme::ImoCompany) {
            let valid = trilat_sanctions::ident::imo_valid(&id.value, id.scheme);
            assert_eq!(id.invalid.is_none(), valid, "{id:?}");
        }
    }
}

#[test]
fn un_identifier_counts() {
    let Some(list) = un_2026() else {
        return;
    };
    let counts = counts(&list);
    eprintln!("UN identifiers (parsed, invalid) by type: {counts:?}");
    print_invalid(&list);
    // 468 INDIVIDUAL_DOCUMENT elements: 454 with a NUMBER, 12 of the other 14 with the number
    // in a note ("Tunisian passport number L 191609 issued …"). The UN writes each DPRK
    // passport under three labels (English, Spanish, French): kept once per record.
    assert_eq!(counts["passport"], (307, 0));
    assert_eq!(counts["national_id"], (153, 0));
    // The 16 `IMO … number` mentions of the comments, all company numbers, all valid.
    assert_eq!(counts["imo_company"], (16, 0));
    assert!(!counts.contains_key("imo_ship"));
    assert_imo_marks(&list);
    // Written in comments and address notes ("Tel. +236 72198628"). The two invalid phones
    // are alternatives written as the tail of the number before (`18111, 18222`, `4410/4416`).
    assert_eq!(counts["email"], (15, 0));
    assert_eq!(counts["phone"], (30, 2));
    assert_eq!(counts["website"], (2, 0));
}

#[test]
fn mof_identifier_counts() {
    let Some(list) = mof_2026() else {
        return;
    };
    let counts = counts(&list);
    eprintln!("MOF identifiers (parsed, invalid) by type: {counts:?}");
    print_invalid(&list);
    assert_eq!(counts["passport"], (237, 0));
    assert_eq!(counts["national_id"], (7, 0));
    // IMO numbers written in remarks (`ＩＭＯ番号：5571322`, `IMO番号：5905801`,
    // `船舶登録証明：IMO5434358`), all company numbers. Two cells run two or three numbers
    // together: kept as the workbook wrote them, and marked invalid.
    assert_eq!(counts["imo_company"], (29, 2));
    let mut imo_invalid: Vec<&str> = list
        .entities
        .iter()
        .flat_map(|e| &e.identifiers)
        .filter(|id| id.scheme == IdScheme::ImoCompany && id.invalid.is_some())
        .map(|id| id.value.as_str())
        .collect();
    imo_invalid.sort();
    assert_eq!(imo_invalid, ["51792455405737", "581488358149065000000"]);
    assert_imo_marks(&list);
    let (emails, emails_invalid) = counts["email"];
    assert!(emails > 0);
    assert_eq!(emails_invalid, 0);
}

#[test]
fn un_and_mof_identifier_screening() {
    let (Some(un_list), Some(mof_list), Some(ofac_list)) = (un_2026(), mof_2026(), ofac_2025())
    else {
        return;
    };
    let screener = Screener::new(vec![un_list, mof_list, ofac_list], None).unwrap();
    // The company IMO number of the manager of the XIN GUANG HAI: written in the UN comment
    // ("IMO number: 5905801."), in MOF's IMO column and in OFAC's remarks. One query, the
    // three listings, each with its programme.
    let hits = screener.screen_id("5905801", None).hits;
    let mut sources: Vec<ListSource> = hits.iter().map(|h| h.source).collect();
    sources.sort();
    sources.dedup();
    assert_eq!(
        sources,
        [
            ListSource::UnConsolidated,
            ListSource::OfacSdn,
            ListSource::JapanMof
        ],
        "{hits:?}"
    );
    let un_hit = hits
        .iter()
        .find(|h| h.source == ListSource::UnConsolidated)
        .unwrap();
    assert_eq!(
        un_hit.scheme,
        IdScheme::ImoShip,
        "looked up as what the query may be"
    );
    assert_eq!(un_hit.programmes, ["DPRK"]);
    let mof_hit = hits
        .iter()
        .find(|h| h.source == ListSource::JapanMof)
        .unwrap();
    assert!(
        mof_hit.programmes.iter().any(|p| p == "DPRK"),
        "{mof_hit:?}"
    );
    // Written `IMO 5905801` or as an IMO number: the same listings.
    assert_eq!(
        screener.screen_id("IMO 5905801", None).hits.len(),
        hits.len()
    );
    // A passport of RA KY'ONG-SU (KPi.008), which the UN and MOF list and OFAC does not.
    let passport = screener
        .screen_id("645120196", Some(IdScheme::Passport))
        .hits;
    let mut sources: Vec<(ListSource, &str)> = passport
        .iter()
        .map(|h| (h.source, h.record_id.as_str()))
        .collect();
    sources.sort();
    assert_eq!(
        sources[0],
        (ListSource::UnConsolidated, "KPi.008"),
        "{passport:?}"
    );
    assert_eq!(sources.len(), 2, "{passport:?}");
    assert_eq!(sources[1].0, ListSource::JapanMof, "{passport:?}");
    assert_eq!(passport[0].programmes, ["DPRK"]);
    // One wrong digit: nothing, and the query's check digit failure is said.
    let wrong = screener.screen_id("5905802", Some(IdScheme::ImoShip));
    assert!(wrong.hits.is_empty());
    assert!(!wrong.query_invalid.is_empty());
}
