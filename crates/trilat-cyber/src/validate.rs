//! Validation of parsed objects against the STIX 2.1 rules the partners rely
//! on: identifiers, required common properties, timestamps, references,
//! property names, indicator patterns, and the versioning rules between two
//! versions of one object.

use crate::error::{invalid, Error, ErrorKind};
use crate::object::{Category, CommonView, StixObject};
use crate::pattern::parse_pattern;

/// Longest property name the specification allows.
pub const PROPERTY_NAME_LEN_MAX: usize = 250;
/// Longest object type the specification allows.
pub const TYPE_LEN_MAX: usize = 250;

/// Checks one object; the error names the property at fault.
pub fn validate_object(object: &StixObject) -> Result<(), Error> {
    let common = object.common();
    let category = object.category();
    check_type_name(common.type_name)?;
    check_identifier(common.id, Some(common.type_name)).map_err(|e| e.at_property("id"))?;
    check_common(&common, category)?;
    check_specific(object)?;
    Ok(())
}

fn check_common(common: &CommonView<'_>, category: Category) -> Result<(), Error> {
    let versioned = matches!(category, Category::Domain | Category::Relationship);
    match common.spec_version {
        Some("2.1") => {}
        Some(other) => {
            return Err(invalid(
                "spec_version",
                format!("{other:?}; this engine reads STIX 2.1"),
            ))
        }
        None if category == Category::Observable => {}
        None => return Err(missing("spec_version")),
    }
    if versioned {
        let created = common.created.ok_or_else(|| missing("created"))?;
        let modified = common.modified.ok_or_else(|| missing("modified"))?;
        check_timestamp("created", created)?;
        check_timestamp("modified", modified)?;
        if compare_timestamps(modified, created) == Some(std::cmp::Ordering::Less) {
            return Err(invalid("modified", "earlier than created"));
        }
    } else {
        if let Some(created) = common.created {
            check_timestamp("created", created)?;
        }
        if let Some(modified) = common.modified {
            check_timestamp("modified", modified)?;
        }
    }
    if let Some(creator) = common.created_by_ref {
        check_identifier(creator, Some("identity")).map_err(|e| e.at_property("created_by_ref"))?;
    }
    if let Some(confidence) = common.confidence {
        if !(0..=100).contains(&confidence) {
            return Err(invalid(
                "confidence",
                format!("{confidence} outside 0..=100"),
            ));
        }
    }
    for marking in common.object_marking_refs {
        check_identifier(marking, Some("marking-definition"))
            .map_err(|e| e.at_property("object_marking_refs"))?;
    }
    for granular in common.granular_markings {
        if granular.selectors.is_empty() {
            return Err(invalid("granular_markings", "selectors must not be empty"));
        }
        match (&granular.marking_ref, &granular.lang) {
            (Some(marking), None) => check_identifier(marking, Some("marking-definition"))
                .map_err(|e| e.at_property("granular_markings.marking_ref"))?,
            (None, Some(_)) => {}
            _ => {
                return Err(invalid(
                    "granular_markings",
                    "exactly one of marking_ref and lang is required",
                ))
            }
        }
    }
    for reference in common.external_references {
        let has_detail = reference.description.is_some()
            || reference.url.is_some()
            || reference.external_id.is_some();
        if !has_detail {
            return Err(invalid(
                "external_references",
                format!(
                    "reference {:?} needs a description, url or external_id",
                    reference.source_name
                ),
            ));
        }
    }
    if let Some(extensions) = common.extensions {
        for key in extensions.keys() {
            if key.starts_with("extension-definition--") {
                check_identifier(key, Some("extension-definition"))
                    .map_err(|e| e.at_property("extensions"))?;
            }
        }
    }
    for name in common.custom.keys() {
        check_property_name(name)?;
    }
    Ok(())
}

fn check_specific(object: &StixObject) -> Result<(), Error> {
    match object {
        StixObject::Indicator(indicator) => {
            check_timestamp("valid_from", &indicator.valid_from)?;
            if let Some(until) = &indicator.valid_until {
                check_timestamp("valid_until", until)?;
                if compare_timestamps(until, &indicator.valid_from)
                    != Some(std::cmp::Ordering::Greater)
                {
                    return Err(invalid("valid_until", "must be later than valid_from"));
                }
            }
            if indicator.pattern_type == "stix" {
                parse_pattern(&indicator.pattern)?;
            }
            Ok(())
        }
        StixObject::Relationship(relationship) => {
            check_identifier(&relationship.source_ref, None)
                .map_err(|e| e.at_property("source_ref"))?;
            check_identifier(&relationship.target_ref, None)
                .map_err(|e| e.at_property("target_ref"))?;
            if relationship.relationship_type.is_empty() {
                return Err(invalid("relationship_type", "empty"));
            }
            Ok(())
        }
        StixObject::Sighting(sighting) => {
            check_identifier(&sighting.sighting_of_ref, None)
                .map_err(|e| e.at_property("sighting_of_ref"))?;
            if let Some(count) = sighting.count {
                if !(0..=999_999_999).contains(&count) {
                    return Err(invalid("count", format!("{count} outside 0..=999999999")));
                }
            }
            Ok(())
        }
        StixObject::Report(report) => {
            check_timestamp("published", &report.published)?;
            check_refs("object_refs", &report.object_refs)
        }
        StixObject::Grouping(grouping) => check_refs("object_refs", &grouping.object_refs),
        StixObject::Note(note) => check_refs("object_refs", &note.object_refs),
        StixObject::Opinion(opinion) => check_refs("object_refs", &opinion.object_refs),
        StixObject::ObservedData(observed) => {
            check_timestamp("first_observed", &observed.first_observed)?;
            check_timestamp("last_observed", &observed.last_observed)?;
            if !(1..=999_999_999).contains(&observed.number_observed) {
                return Err(invalid("number_observed", "outside 1..=999999999"));
            }
            if observed.object_refs.is_none() == observed.objects.is_none() {
                return Err(invalid(
                    "object_refs",
                    "exactly one of object_refs and objects is required",
                ));
            }
            Ok(())
        }
        StixObject::Location(location) => {
            let has_place = location.region.is_some()
                || location.country.is_some()
                || (location.latitude.is_some() && location.longitude.is_some());
            if !has_place {
                return Err(missing("region, country or latitude+longitude"));
            }
            if location
                .latitude
                .is_some_and(|lat| !(-90.0..=90.0).contains(&lat))
            {
                return Err(invalid("latitude", "outside -90..=90"));
            }
            if location
                .longitude
                .is_some_and(|lon| !(-180.0..=180.0).contains(&lon))
            {
                return Err(invalid("longitude", "outside -180..=180"));
            }
            Ok(())
        }
        StixObject::Malware(malware) => match malware.is_family {
            None => Err(missing("is_family")),
            Some(true) if malware.name.is_none() => {
                Err(missing("name (required when is_family is true)"))
            }
            Some(_) => Ok(()),
        },
        StixObject::MarkingDefinition(marking) => {
            let by_extension = marking.extensions.as_ref().is_some_and(|e| !e.is_empty());
            if !by_extension && (marking.definition_type.is_none() || marking.definition.is_none())
            {
                return Err(missing("definition_type and definition (or extensions)"));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn check_refs(property: &str, refs: &[String]) -> Result<(), Error> {
    if refs.is_empty() {
        return Err(invalid(property, "must not be empty"));
    }
    for reference in refs {
        check_identifier(reference, None).map_err(|e| e.at_property(property))?;
    }
    Ok(())
}

fn missing(property: &str) -> Error {
    Error::bare(ErrorKind::MissingProperty(property.to_string()))
}

/// Checks an object type: 3–250 characters of `a-z0-9-`, no leading,
/// trailing or doubled hyphen.
pub fn check_type_name(type_name: &str) -> Result<(), Error> {
    let well_formed = (3..=TYPE_LEN_MAX).contains(&type_name.len())
        && type_name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !type_name.starts_with('-')
        && !type_name.ends_with('-')
        && !type_name.contains("--");
    if well_formed {
        Ok(())
    } else {
        Err(invalid(
            "type",
            format!(
                "{:?} is not a STIX type name",
                crate::error::truncate(type_name, 60)
            ),
        ))
    }
}

/// Checks a property name: 3–250 characters of `a-zA-Z0-9_` (1.0 `id`-style
/// two-letter names are not allowed either).
pub fn check_property_name(name: &str) -> Result<(), Error> {
    let well_formed = (3..=PROPERTY_NAME_LEN_MAX).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if well_formed {
        Ok(())
    } else {
        Err(invalid(
            "custom property",
            format!(
                "name {:?} must be 3-250 characters of a-z, A-Z, 0-9 and _",
                crate::error::truncate(name, 60)
            ),
        ))
    }
}

/// Checks `<type>--<UUID>`; with `expected_type`, also the type.
pub fn check_identifier(id: &str, expected_type: Option<&str>) -> Result<(), Error> {
    let bad = |reason: String| Error::bare(ErrorKind::Identifier(reason));
    let Some((type_name, uuid_text)) = id.split_once("--") else {
        return Err(bad(format!(
            "{:?} is not <type>--<UUID>",
            crate::error::truncate(id, 80)
        )));
    };
    if let Some(expected) = expected_type {
        if type_name != expected {
            return Err(bad(format!(
                "{:?} should be a {expected} identifier",
                crate::error::truncate(id, 80)
            )));
        }
    }
    check_type_name(type_name)
        .map_err(|_| bad(format!("bad type in {:?}", crate::error::truncate(id, 80))))?;
    // The hyphenated form only: `Uuid::try_parse` also takes braces and URNs.
    let hyphenated = uuid_text.len() == 36
        && uuid_text.bytes().enumerate().all(|(idx, b)| match idx {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if !hyphenated || uuid::Uuid::try_parse(uuid_text).is_err() {
        return Err(bad(format!(
            "{:?} does not end in a hyphenated UUID",
            crate::error::truncate(id, 80)
        )));
    }
    Ok(())
}

/// Whether `text` is a STIX timestamp: RFC 3339, in UTC with a `Z` suffix.
pub fn is_stix_timestamp(text: &str) -> bool {
    text.ends_with('Z') && parse_timestamp_ns(text).is_some()
}

fn parse_timestamp_ns(text: &str) -> Option<i128> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

fn check_timestamp(property: &str, text: &str) -> Result<(), Error> {
    if is_stix_timestamp(text) {
        Ok(())
    } else {
        Err(Error::bare(ErrorKind::Timestamp(format!(
            "{:?} is not RFC 3339 UTC (YYYY-MM-DDTHH:MM:SS[.s+]Z)",
            crate::error::truncate(text, 60)
        )))
        .at_property(property))
    }
}

/// Orders two STIX timestamps by instant (not by text: precision may differ).
pub fn compare_timestamps(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    Some(parse_timestamp_ns(a)?.cmp(&parse_timestamp_ns(b)?))
}

/// Checks that `next` may follow `previous` as a new version of the same
/// object: same id and creator, same `created`, a later `modified`, and
/// `previous` not revoked (revocation is final).
pub fn check_successor(previous: &StixObject, next: &StixObject) -> Result<(), Error> {
    let (prev, new) = (previous.common(), next.common());
    let versioning = |reason: String| {
        Err(Error::bare(ErrorKind::Versioning(reason)).at_object(None, Some(new.id)))
    };
    if prev.id != new.id {
        return versioning(format!("{} is not a version of {}", new.id, prev.id));
    }
    if prev.created_by_ref != new.created_by_ref {
        return versioning(format!(
            "only the creator ({}) may version the object, not {}",
            prev.created_by_ref.unwrap_or("anonymous"),
            new.created_by_ref.unwrap_or("anonymous"),
        ));
    }
    if prev.revoked {
        return versioning("the object is revoked; revocation is final".into());
    }
    if prev.created != new.created {
        return versioning("created must not change between versions".into());
    }
    let (Some(prev_modified), Some(new_modified)) = (prev.modified, new.modified) else {
        return versioning("only objects with modified are versioned".into());
    };
    if compare_timestamps(new_modified, prev_modified) != Some(std::cmp::Ordering::Greater) {
        return versioning(format!(
            "modified {new_modified} is not later than {prev_modified}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expect: Result<(), &str>) {
        let res = StixObject::from_json(text).and_then(|o| validate_object(&o));
        match (res, expect) {
            (Ok(()), Ok(())) => {}
            (Err(err), Err(fragment)) => {
                assert!(
                    err.to_string().contains(fragment),
                    "{err} lacks {fragment:?}"
                )
            }
            (res, expect) => panic!("got {res:?}, expected {expect:?}"),
        }
    }

    const ID: &str = "5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b";

    fn indicator(pattern: &str, extra: &str) -> String {
        format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{ID}","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-02T00:00:00.000Z","pattern":{},"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"{extra}}}"#,
            serde_json::to_string(pattern).unwrap()
        )
    }

    #[test]
    fn indicators() {
        check(&indicator("[ipv4-addr:value = '175.45.178.1']", ""), Ok(()));
        check(
            &indicator("[ipv4-addr:value = ", ""),
            Err("invalid pattern"),
        );
        check(
            &indicator(
                "[ipv4-addr:value = '1.2.3.4']",
                r#","valid_until":"2023-01-01T00:00:00Z""#,
            ),
            Err("later than valid_from"),
        );
        check(
            &indicator(
                "[ipv4-addr:value = '1.2.3.4']",
                r#","x_trilat_source":"KISA""#,
            ),
            Ok(()),
        );
        check(
            &indicator("[ipv4-addr:value = '1.2.3.4']", r#","x":"short""#),
            Err("3-250 characters"),
        );
        check(
            &indicator("[ipv4-addr:value = '1.2.3.4']", r#","confidence":101"#),
            Err("confidence"),
        );
        check(
            &indicator(
                "[ipv4-addr:value = '1.2.3.4']",
                r#","created_by_ref":"org--1""#,
            ),
            Err("created_by_ref"),
        );
        check(
            &indicator(
                "[ipv4-addr:value = '1.2.3.4']",
                r#","object_marking_refs":["identity--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b"]"#,
            ),
            Err("marking-definition identifier"),
        );
    }

    #[test]
    fn common_rules() {
        check(
            &format!(
                r#"{{"type":"malware","spec_version":"2.1","id":"malware--{ID}","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","name":"BLINDINGCAN","is_family":true}}"#
            ),
            Ok(()),
        );
        check(
            &format!(
                r#"{{"type":"malware","spec_version":"2.1","id":"tool--{ID}","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","is_family":false}}"#
            ),
            Err("should be a malware identifier"),
        );
        check(
            &format!(
                r#"{{"type":"malware","spec_version":"2.1","id":"malware--{ID}","modified":"2024-01-01T00:00:00Z","is_family":false}}"#
            ),
            Err("created"),
        );
        check(
            &format!(
                r#"{{"type":"malware","spec_version":"2.1","id":"malware--{ID}","created":"2024-01-02T00:00:00Z","modified":"2024-01-01T00:00:00Z","is_family":false}}"#
            ),
            Err("earlier than created"),
        );
        check(
            &format!(
                r#"{{"type":"malware","spec_version":"2.1","id":"malware--{ID}","created":"2024-01-01 00:00:00","modified":"2024-01-01T00:00:00Z","is_family":false}}"#
            ),
            Err("invalid timestamp"),
        );
        check(
            &format!(
                r#"{{"type":"malware","spec_version":"2.0","id":"malware--{ID}","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","is_family":false}}"#
            ),
            Err("spec_version"),
        );
        check(
            &format!(
                r#"{{"type":"malware","spec_version":"2.1","id":"malware--{ID}","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","is_family":true}}"#
            ),
            Err("name"),
        );
        check(
            r#"{"type":"ipv4-addr","id":"ipv4-addr--not-a-uuid","value":"1.2.3.4"}"#,
            Err("UUID"),
        );
        check(
            &format!(r#"{{"type":"ipv4-addr","id":"ipv4-addr--{ID}","value":"1.2.3.4"}}"#),
            Ok(()),
        );
        check(
            &format!(r#"{{"type":"Bad_Type","id":"Bad_Type--{ID}"}}"#),
            Err("type name"),
        );
    }

    fn versioned(modified: &str, creator: &str, revoked: bool) -> StixObject {
        StixObject::from_json(&format!(
            r#"{{"type":"tool","spec_version":"2.1","id":"tool--{ID}","created_by_ref":"identity--{creator}","created":"2024-01-01T00:00:00Z","modified":"{modified}","name":"AdFind","revoked":{revoked}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn versioning_rules() {
        let creator = "11111111-1111-4111-8111-111111111111";
        let other = "22222222-2222-4222-8222-222222222222";
        let v1 = versioned("2024-01-01T00:00:00Z", creator, false);
        let v2 = versioned("2024-02-01T00:00:00.5Z", creator, false);
        assert!(check_successor(&v1, &v2).is_ok());
        assert!(check_successor(&v2, &v1)
            .unwrap_err()
            .to_string()
            .contains("not later"));
        assert!(check_successor(&v1, &v1).is_err());
        let foreign = versioned("2024-03-01T00:00:00Z", other, false);
        assert!(check_successor(&v1, &foreign)
            .unwrap_err()
            .to_string()
            .contains("creator"));
        let revoked = versioned("2024-03-01T00:00:00Z", creator, true);
        assert!(check_successor(&v1, &revoked).is_ok());
        let after = versioned("2024-04-01T00:00:00Z", creator, false);
        assert!(check_successor(&revoked, &after)
            .unwrap_err()
            .to_string()
            .contains("final"));
    }
}
