//! Identifiers on the real OFAC list: every type parsed and counted, invalid ones reported
//! with their reason, and exact screening of listed wallets, e-mails and vessels. Skipped,
//! saying so, when `../shared/data` is absent.

use std::collections::BTreeMap;

use crate::real_data::shared;
use trilat_sanctions::model::{IdScheme, ListVersion};
use trilat_sanctions::{ofac, Screener};

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
