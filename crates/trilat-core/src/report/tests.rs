use serde_json::json;

use super::*;
use crate::{Policy, Tlp};

fn party(code: &str) -> Party {
    Party::new(code).unwrap()
}

fn draft() -> ReportDraft {
    let mut draft = ReportDraft::new(
        party("JPN"),
        Kind::new("note").unwrap(),
        Marking::new("CONFIDENTIAL", Tlp::Amber, ["USA", "JPN"]),
        json!({"text": "splashdown west of Oshima"}),
        Timestamp::from_unix_ms(1_764_292_711_000),
    );
    draft.geometry = Some(json!({"type": "Point", "coordinates": [138.9, 40.6]}));
    draft
}

#[test]
fn sign_serialise_verify() {
    let key = NodeKey::from_seed([9; 32]);
    let report = draft().sign(&key).unwrap();
    let text = serde_json::to_string(&report).unwrap();
    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
    back.verify(&key.public_key()).unwrap();
    back.validate(
        &Policy::trilateral_default(),
        &KindRegistry::with_core_kinds(),
    )
    .unwrap();
    assert_eq!(back.bbox(), Some([138.9, 40.6, 138.9, 40.6]));
}

#[test]
fn tampering_is_detected() {
    let key = NodeKey::from_seed([9; 32]);
    let report = draft().sign(&key).unwrap();
    let mut tampered = report.clone();
    tampered.marking.rel_to.push("KOR".into());
    assert!(matches!(
        tampered.verify(&key.public_key()),
        Err(ReportError::BadSignature { .. })
    ));
    let mut tampered = report.clone();
    tampered.payload["text"] = json!("splashdown east of Oshima");
    assert!(tampered.verify(&key.public_key()).is_err());
    let forger = NodeKey::from_seed([10; 32]);
    assert!(report.verify(&forger.public_key()).is_err());
}

#[test]
fn versions_and_revocation() {
    let key = NodeKey::from_seed([9; 32]);
    let v1 = draft().sign(&key).unwrap();
    let v2 = v1.next_version(v1.modified).sign(&key).unwrap();
    assert!(v2.modified > v1.modified);
    assert_eq!(v2.supersedes(&v1), Ok(true));
    assert_eq!(v1.supersedes(&v2), Ok(false));
    assert_eq!(v2.supersedes(&v2), Ok(false));
    let revoked = v2.revocation(v2.modified.add_ms(5)).sign(&key).unwrap();
    assert!(revoked.revoked);
    assert_eq!(revoked.supersedes(&v2), Ok(true));
    let after = revoked.next_version(revoked.modified.add_ms(5));
    let after = ReportDraft {
        revoked: false,
        ..after
    }
    .sign(&key)
    .unwrap();
    assert_eq!(
        after.supersedes(&revoked),
        Err(ReportError::RevokedFinal(v1.id))
    );
    let mut equivocation = v1.next_version(v1.modified);
    equivocation.payload = json!({"text": "different"});
    let equivocation = equivocation.sign(&key).unwrap();
    assert!(matches!(
        equivocation.supersedes(&v2),
        Err(ReportError::VersionConflict { .. })
    ));
    // KOR under USA's id is KOR's report, not a version of USA's.
    let mut squatter = v1.next_version(v1.modified);
    squatter.owner = party("KOR");
    let squatter = squatter.sign(&NodeKey::from_seed([11; 32])).unwrap();
    assert_ne!(squatter.key(), v1.key());
    assert!(!squatter.same_report(&v1));
}

#[test]
fn report_keys_read_back_and_name_owner_then_id() {
    let id = ReportId::parse("0190a5c4-0000-7000-8000-000000000001").unwrap();
    let key = ReportKey::new(party("JPN-JCG"), id);
    assert_eq!(
        key.to_string(),
        "JPN-JCG/0190a5c4-0000-7000-8000-000000000001"
    );
    assert_eq!(ReportKey::parse(&key.to_string()), Ok(key.clone()));
    let json = serde_json::to_string(&key).unwrap();
    assert_eq!(json, "\"JPN-JCG/0190a5c4-0000-7000-8000-000000000001\"");
    assert_eq!(serde_json::from_str::<ReportKey>(&json).unwrap(), key);
    for bad in [
        "0190a5c4-0000-7000-8000-000000000001",
        "jpn/0190a5c4-0000-7000-8000-000000000001",
        "JPN/not-a-uuid",
        "/",
        "",
    ] {
        assert!(ReportKey::parse(bad).is_err(), "{bad}");
    }
}

#[track_caller]
fn check_invalid(edit: impl FnOnce(&mut ReportDraft), expect: &str) {
    let key = NodeKey::from_seed([9; 32]);
    let mut d = draft();
    edit(&mut d);
    let report = d.sign(&key).unwrap();
    let err = report
        .validate(
            &Policy::trilateral_default(),
            &KindRegistry::with_core_kinds(),
        )
        .unwrap_err();
    assert!(err.to_string().contains(expect), "{err}");
}

#[test]
fn invalid_reports() {
    check_invalid(|d| d.version = 0, "version counter starts at 1");
    check_invalid(
        |d| d.kind = Kind::new("missile.track").unwrap(),
        "unknown kind",
    );
    check_invalid(|d| d.payload = json!({"txt": "x"}), "note payload");
    check_invalid(
        |d| d.marking.level = "TOP SECRET".into(),
        "unknown classification level",
    );
    check_invalid(
        |d| d.marking.rel_to = vec!["Japan".into()],
        "neither a party code nor a group",
    );
    check_invalid(
        |d| d.geometry = Some(json!({"type": "Point", "coordinates": [200.0, 0.0]})),
        "outside WGS-84",
    );
    check_invalid(
        |d| d.geometry = Some(json!({"type": "Blob"})),
        "unknown geometry type",
    );
    check_invalid(
        |d| d.geometry = Some(json!({"type": "Polygon", "coordinates": [[1.0, 2.0]]})),
        "coordinates must be arrays",
    );
    check_invalid(
        |d| d.modified = d.created_at.add_ms(-1),
        "before created_at",
    );
    check_invalid(
        |d| d.payload = json!({"text": "x".repeat(PAYLOAD_BYTES_MAX)}),
        "more than",
    );
}

#[test]
fn refuses_unknown_fields_and_bad_values() {
    let key = NodeKey::from_seed([9; 32]);
    let report = draft().sign(&key).unwrap();
    let mut value = serde_json::to_value(&report).unwrap();
    value["extra"] = json!(1);
    assert!(serde_json::from_value::<Report>(value).is_err());
    let mut value = serde_json::to_value(&report).unwrap();
    value["owner"] = json!("japan");
    assert!(serde_json::from_value::<Report>(value).is_err());
    let mut value = serde_json::to_value(&report).unwrap();
    value["marking"]["tlp"] = json!("PURPLE");
    assert!(serde_json::from_value::<Report>(value).is_err());
}
