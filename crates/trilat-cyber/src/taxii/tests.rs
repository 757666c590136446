use super::*;

fn ids(page: &Page<'_>) -> Vec<(String, String)> {
    page.records
        .iter()
        .map(|r| (r.id.to_string(), r.version.to_string()))
        .collect()
}

fn query(params: &[(&str, &str)]) -> ObjectQuery {
    ObjectQuery::parse(params.iter().copied()).unwrap()
}

const V1: &str = "2024-01-01T00:00:00.000Z";
const V2: &str = "2024-02-01T00:00:00.000Z";
const V3: &str = "2024-03-01T00:00:00.000Z";

fn records() -> Vec<Record<'static>> {
    vec![
        Record {
            id: "indicator--a",
            type_name: "indicator",
            version: V1,
            date_added_ms: 10,
            object: "{\"n\":1}",
        },
        Record {
            id: "indicator--a",
            type_name: "indicator",
            version: V2,
            date_added_ms: 20,
            object: "{\"n\":2}",
        },
        Record {
            id: "indicator--a",
            type_name: "indicator",
            version: V3,
            date_added_ms: 30,
            object: "{\"n\":3}",
        },
        Record {
            id: "malware--b",
            type_name: "malware",
            version: V1,
            date_added_ms: 15,
            object: "{\"n\":4}",
        },
    ]
}

#[test]
fn version_matching() {
    let records = records();
    let last = select(&records, &query(&[]));
    assert_eq!(
        ids(&last),
        vec![
            ("malware--b".into(), V1.into()),
            ("indicator--a".into(), V3.into())
        ]
    );
    let first = select(&records, &query(&[("match[version]", "first")]));
    assert_eq!(
        ids(&first),
        vec![
            ("indicator--a".into(), V1.into()),
            ("malware--b".into(), V1.into())
        ]
    );
    assert_eq!(
        select(&records, &query(&[("match[version]", "all")]))
            .records
            .len(),
        4
    );
    assert_eq!(
        select(&records, &query(&[("match[version]", "first,last")]))
            .records
            .len(),
        3
    );
    let exact = select(&records, &query(&[("match[version]", V2)]));
    assert_eq!(ids(&exact), vec![("indicator--a".into(), V2.into())]);
}

#[test]
fn filters_and_added_after() {
    let records = records();
    let by_type = select(&records, &query(&[("match[type]", "malware")]));
    assert_eq!(by_type.records.len(), 1);
    let by_id = select(
        &records,
        &query(&[
            ("match[id]", "indicator--a,nothing--c"),
            ("match[version]", "all"),
        ]),
    );
    assert_eq!(by_id.records.len(), 3);
    assert!(select(&records, &query(&[("match[spec_version]", "2.0")]))
        .records
        .is_empty());
    let after = select(
        &records,
        &query(&[
            ("added_after", "1970-01-01T00:00:00.015Z"),
            ("match[version]", "all"),
        ]),
    );
    assert_eq!(
        after
            .records
            .iter()
            .map(|r| r.date_added_ms)
            .collect::<Vec<_>>(),
        vec![20, 30]
    );
    assert_eq!(
        after.date_added_first().unwrap(),
        "1970-01-01T00:00:00.020000Z"
    );
    assert_eq!(
        after.date_added_last().unwrap(),
        "1970-01-01T00:00:00.030000Z"
    );
}

#[test]
fn paging_visits_every_record_once() {
    let names: Vec<String> = (0..2500).map(|i| format!("indicator--{i:05}")).collect();
    let records: Vec<Record<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, id)| Record {
            id,
            type_name: "indicator",
            version: V1,
            date_added_ms: (i / 3) as i64,
            object: "{}",
        })
        .collect();
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut n_pages = 0;
    loop {
        let mut params = vec![("limit", "1000")];
        if let Some(next) = &next {
            params.push(("next", next));
        }
        let page = select(
            &records,
            &ObjectQuery::parse(params.iter().copied()).unwrap(),
        );
        n_pages += 1;
        seen.extend(page.records.iter().map(|r| r.id.to_string()));
        assert_eq!(page.more, page.next.is_some());
        match page.next {
            Some(cursor) => next = Some(cursor),
            None => break,
        }
    }
    assert_eq!(n_pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 2500);
    assert_eq!(seen.len(), 2500);
}

#[test]
fn bad_queries_are_400() {
    for params in [
        vec![("limit", "0")],
        vec![("limit", "x")],
        vec![("added_after", "yesterday")],
        vec![("match[version]", "newest")],
        vec![("match[id]", "")],
        vec![("next", "zz")],
        vec![("next", "5.abc")],
        vec![("colour", "red")],
    ] {
        let err = ObjectQuery::parse(params.iter().copied()).unwrap_err();
        assert_eq!(err.status_code(), 400, "{params:?}");
    }
    assert_eq!(query(&[("limit", "5000")]).limit, PAGE_LIMIT_MAX);
    let cursor = Cursor {
        date_added_ms: 7,
        id: "indicator--a".into(),
        version: V1.into(),
        seq: 0,
    };
    assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
    let in_feed = Cursor {
        seq: 0x1f2e,
        ..cursor
    };
    assert_eq!(Cursor::decode(&in_feed.encode()).unwrap(), in_feed);
    assert!(Cursor::decode(&format!("{}.zz", in_feed.encode())).is_err());
}

#[test]
fn envelopes_manifests_and_statuses_have_taxii_shapes() {
    let records = records();
    let page = select(&records, &query(&[("limit", "1")]));
    let envelope: serde_json::Value = serde_json::from_str(&page.envelope()).unwrap();
    assert_eq!(envelope["more"], true);
    assert!(envelope["next"].is_string());
    assert_eq!(envelope["objects"][0]["n"], 4);
    let empty: serde_json::Value = serde_json::from_str(&write_envelope(false, None, [])).unwrap();
    assert_eq!(empty, serde_json::json!({"more": false}));
    let manifest = serde_json::to_value(page.manifest()).unwrap();
    assert_eq!(manifest["objects"][0]["media_type"], MEDIA_TYPE_STIX);
    assert_eq!(
        manifest["objects"][0]["date_added"],
        "1970-01-01T00:00:00.015000Z"
    );
    let status = Status::complete(
        "2d086da7-4bdc-4f91-900e-d77486753710".into(),
        taxii_timestamp(0),
        vec![
            (
                StatusDetails {
                    id: "indicator--a".into(),
                    version: V1.into(),
                    message: None,
                },
                Ok(()),
            ),
            (
                StatusDetails {
                    id: "malware--b".into(),
                    version: V1.into(),
                    message: None,
                },
                Err("invalid".into()),
            ),
        ],
    );
    let status = serde_json::to_value(status).unwrap();
    assert_eq!(status["status"], "complete");
    assert_eq!(status["success_count"], 1);
    assert_eq!(status["failures"][0]["message"], "invalid");
    assert!(status.get("pendings").is_none());
}

#[test]
fn posted_envelopes() {
    let good = r#"{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b","value":"175.45.178.1"}"#;
    let body = format!(r#"{{"objects":[{good},{{"type":"indicator","id":"indicator--x"}}]}}"#);
    let outcomes = parse_posted_envelope(&body).unwrap();
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes[0].1.is_ok());
    assert_eq!(outcomes[1].0.id, "indicator--x");
    assert!(outcomes[1].1.is_err());
    assert_eq!(parse_posted_envelope("[").unwrap_err().status_code(), 400);
    assert_eq!(
        parse_posted_envelope(r#"{"objects":[]}"#)
            .unwrap_err()
            .status_code(),
        400
    );
}

#[test]
fn media_types() {
    assert!(accepts_taxii(Some("application/taxii+json;version=2.1")));
    assert!(accepts_taxii(Some("application/taxii+json; version=2.1")));
    assert!(accepts_taxii(None));
    assert!(!accepts_taxii(Some("application/json")));
    assert!(!accepts_taxii(Some("application/taxii+json;version=2.0")));
    assert!(is_taxii_content_type(Some(
        "application/taxii+json;version=2.1"
    )));
    assert!(!is_taxii_content_type(Some("application/json")));
    assert!(!is_taxii_content_type(None));
}

#[test]
fn config_and_collection_views() {
    let config: TaxiiConfig = serde_json::from_value(serde_json::json!({
        "api_roots": [{"name": "trilat", "title": "Trilat community"}],
        "collections": [{"id": "8f5c2e1a-4b0d-4c3e-9f7a-1d2e3f4a5b6c", "api_root": "trilat",
                          "title": "TRILAT cyber indicators, TLP:AMBER", "can_write": true}]
    }))
    .unwrap();
    config.validate().unwrap();
    let collection = &config.collections[0];
    assert_eq!(collection.tlp_max, Tlp::Amber);
    let amber = Marking::new("UNCLASSIFIED", Tlp::Amber, ["TRILAT"]);
    let red = Marking::new("UNCLASSIFIED", Tlp::Red, ["USA"]);
    assert!(collection.admits("cyber.stix", &amber));
    assert!(!collection.admits("cyber.stix", &red));
    assert!(!collection.admits("note", &amber));
    assert!(!collection.resource(false).can_write);
    let mut broken = config.clone();
    broken.collections[0].api_root = "elsewhere".into();
    assert!(broken.validate().is_err());
    broken.collections[0].id = "not-a-uuid".into();
    assert!(broken.validate().is_err());
}

#[test]
fn medallion_manifest_shapes_read() {
    let path = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/cyber/taxii21_medallion/default_data.json"
    ));
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("skipping: {} is absent", path.display());
        return;
    };
    let data: serde_json::Value = serde_json::from_str(&text).unwrap();
    let _: Discovery = serde_json::from_value(data["/discovery"].clone()).unwrap();
    let _: ApiRoot = serde_json::from_value(data["trustgroup1"]["information"].clone()).unwrap();
    for status in data["trustgroup1"]["status"].as_array().unwrap() {
        let _: Status = serde_json::from_value(status.clone()).unwrap();
    }
    for collection in data["trustgroup1"]["collections"].as_array().unwrap() {
        let mut resource = collection.clone();
        resource
            .as_object_mut()
            .unwrap()
            .retain(|k, _| !matches!(k.as_str(), "objects" | "manifest"));
        let _: Collection = serde_json::from_value(resource).unwrap();
        for record in collection["manifest"].as_array().into_iter().flatten() {
            let _: ManifestRecord = serde_json::from_value(record.clone()).unwrap();
        }
    }
}

#[test]
fn red_and_single_partner_reports_stay_out_of_other_partners_views() {
    use trilat_core::{Kind, Party, Policy};
    let policy = Policy::trilateral_default();
    let mut collection: CollectionConfig = serde_json::from_value(serde_json::json!({
        "id": "8f5c2e1a-4b0d-4c3e-9f7a-1d2e3f4a5b6c", "api_root": "trilat", "title": "all", "tlp_max": "RED"
    }))
    .unwrap();
    let (usa, jpn, kor) = (
        Party::new("USA").unwrap(),
        Party::new("JPN").unwrap(),
        Party::new("KOR").unwrap(),
    );
    let kind = Kind::new("cyber.stix").unwrap();
    let red_usa_jpn = Marking::new("UNCLASSIFIED", Tlp::Red, ["USA", "JPN"]);
    let amber_usa = Marking::new("UNCLASSIFIED", Tlp::Amber, ["USA"]);
    let green_trilat = Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]);
    // (reader, marking, visible) with the USA as owner and a RED-admitting collection.
    let table = [
        (&usa, &red_usa_jpn, true),
        (&jpn, &red_usa_jpn, true),
        (&kor, &red_usa_jpn, false),
        (&jpn, &amber_usa, false),
        (&kor, &amber_usa, false),
        (&kor, &green_trilat, true),
    ];
    for (reader, marking, visible) in table {
        assert_eq!(
            collection.visible_to(&policy, reader, &usa, &kind, marking),
            visible,
            "{reader} {}",
            marking.banner()
        );
    }
    // With the default ceiling (AMBER), RED is in no one's view, not even a named recipient's.
    collection.tlp_max = Tlp::Amber;
    assert!(!collection.visible_to(&policy, &jpn, &usa, &kind, &red_usa_jpn));
    collection.can_read = false;
    assert!(!collection.visible_to(&policy, &kor, &usa, &kind, &green_trilat));
}
