//! No-panic properties for the parsers and the analysis on arbitrary input.

use proptest::prelude::*;
use trilat_sanctions::{analysis, format, japan, ofac, un};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn un_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = un::parse(&bytes);
    }

    #[test]
    fn un_parser_on_xmlish_text(text in "(<CONSOLIDATED_LIST>|<INDIVIDUAL>|</INDIVIDUAL>|<FIRST_NAME>|</FIRST_NAME>|<DATAID>|</DATAID>|<ENTITY>|</ENTITY>|&amp;|&#x41;|&bogus;|[a-zA-Z0-9 ]{0,8}){0,40}") {
        let _ = un::parse(text.as_bytes());
    }

    #[test]
    fn ofac_parser_never_panics(text in "([0-9]{1,3}|\"[^\"]{0,12}\"|-0- |,|\r\n|; DOB [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4}|IMO [0-9]{7}){0,60}") {
        let _ = ofac::parse_sdn(text.as_bytes(), "v");
        let mut list = trilat_sanctions::model::ListVersion { source: trilat_sanctions::model::ListSource::OfacSdn, version: "v".into(), entities: Vec::new() };
        let mut problems = Vec::new();
        ofac::apply_alt(&mut list, text.as_bytes(), &mut problems);
        ofac::apply_comments(&mut list, text.as_bytes(), &mut problems);
    }

    #[test]
    fn free_text_scan_is_bounded(
        text in "(IMO|ＩＭＯ|番号|：|Number|No\\.| |[0-9]{1,9}|@|\\.|Tel\\.|Fax:|Website:|/|,|\\PC{0,4}){0,40}",
    ) {
        let mut ids = Vec::new();
        trilat_sanctions::ident::free_text::scan(&text, trilat_sanctions::model::IdScheme::ImoCompany, &mut ids);
        prop_assert!(ids.len() <= trilat_sanctions::ident::free_text::FREE_TEXT_IDS_MAX);
        for id in &ids {
            prop_assert!(!id.value.is_empty());
        }
    }

    #[test]
    fn identifier_parsers_never_panic(
        text in "(0x|0X|bc1|BC1|[13LTX]|[0-9a-fA-F]{0,40}|[1-9A-HJ-NP-Za-km-z]{0,34}|@|www\\.|IMO |\\+|\\.|XXX|\\PC{0,6}){0,6}",
        scheme in proptest::sample::select(trilat_sanctions::model::IdScheme::ALL.to_vec()),
        currency in proptest::option::of("(XBT|ETH|USDT|XMR|LTC|BCH|ZEC|TRX|XRP|DASH|\\PC{0,4})"),
    ) {
        let id = trilat_sanctions::ident::identifier(scheme, &text, None, currency.as_deref());
        // Round trip: the lookup form is a fixed point of normalisation.
        let mut again = String::new();
        trilat_sanctions::ident::normalise(scheme, &id.value, &mut again);
        prop_assert_eq!(&again, &id.value);
        let mut guesses = Vec::new();
        trilat_sanctions::ident::guess(&text, &mut guesses);
        prop_assert!(guesses.len() <= 4);
        let _ = trilat_sanctions::ident::crypto::check(currency.as_deref(), &text);
    }

    #[test]
    fn xlsx_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut zipish = b"PK\x03\x04".to_vec();
        zipish.extend(bytes);
        let _ = japan::parse_mof(&zipish, "v");
        let _ = japan::parse_meti(&zipish, "v");
    }

    #[test]
    fn analysis_and_detection_never_panic(text in "\\PC{0,40}") {
        let forms = analysis::analyze(&text, None, None);
        prop_assert!(!forms.forms.is_empty());
        let _ = format::detect(&text, text.as_bytes());
    }

    #[test]
    fn compare_is_bounded_and_symmetric_in_range(a in "[a-zA-Z가-힣 -]{0,20}", b in "[a-zA-Z가-힣 -]{0,20}") {
        let rarity = trilat_sanctions::matcher::Rarity::default();
        let s = trilat_sanctions::matcher::compare(&analysis::analyze(&a, None, None), &analysis::analyze(&b, None, None), &rarity).score;
        prop_assert!((0.0..=1.0).contains(&s));
        let same = trilat_sanctions::matcher::compare(&analysis::analyze(&a, None, None), &analysis::analyze(&a, None, None), &rarity).score;
        prop_assert!(a.trim().is_empty() || a.chars().all(|c| c == '-' || c == ' ') || same >= 0.99, "{a:?} vs itself: {same}");
    }
}
