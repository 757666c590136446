//! The `seismic.event` and `nuclear.assessment` payloads: what the
//! assessment produces passes its check; broken payloads are refused with
//! the path of the fault.

use trilat_seismic::report::{validate_payload, REPORT_KINDS};
use trilat_seismic::{assess_all, read, Params};

const FEED: &str = r#"{"type":"Feature","id":"x1","properties":{"mag":5.1,"magType":"mb","time":1360637871000,"net":"us","type":"earthquake"},"geometry":{"type":"Point","coordinates":[129.004,41.299,0]}}"#;

#[test]
fn produced_payloads_pass_and_broken_ones_name_the_field() {
    assert_eq!(REPORT_KINDS, ["seismic.event", "nuclear.assessment"]);
    let events = read(FEED).unwrap().events;
    let assessment = &assess_all(&events, &Params::default())[0];
    let event_json = serde_json::to_value(&events[0]).unwrap();
    let assessment_json = serde_json::to_value(assessment).unwrap();
    validate_payload("seismic.event", &event_json).unwrap();
    validate_payload("nuclear.assessment", &assessment_json).unwrap();

    let mut bad = event_json.clone();
    bad["origin"]["lat"] = serde_json::json!(95.0);
    let e = validate_payload("seismic.event", &bad).unwrap_err();
    assert_eq!(e.path, "$.origin.lat");

    let mut bad = assessment_json.clone();
    bad["score"] = serde_json::json!(99);
    let e = validate_payload("nuclear.assessment", &bad).unwrap_err();
    assert_eq!(e.path, "$.score");

    let e = validate_payload("nuclear.assessment", &event_json).unwrap_err();
    assert_eq!(e.path, "$");
    let e = validate_payload("seismic.other", &event_json).unwrap_err();
    assert!(e.to_string().contains("not a seismic report kind"), "{e}");
}
