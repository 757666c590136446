//! STIX markings ↔ Trilat markings.
//!
//! * TLP: the TLP 2.0 marking definitions published by the OASIS CTI TC as a
//!   property extension (`extension-definition--60a3c5c5-…`), with fixed
//!   identifiers; the four STIX 2.1 predefined TLP 1.0 markings are read too
//!   (WHITE as CLEAR) but never written.
//! * Classification and releasability: a marking definition carrying the
//!   project's own property extension [`RELEASABILITY_EXTENSION_ID`]:
//!   ```json
//!   {"extension_type": "property-extension", "level": "CONFIDENTIAL",
//!    "rel_to": ["USA", "JPN"], "further_sharing": "none"}
//!   ```
//!   Its identifier is a UUIDv5 of the marking's content, so every node
//!   names the same releasability with the same marking definition.

use serde::{Deserialize, Serialize};
use trilat_core::{FurtherSharing, Marking, Tlp};

use crate::error::{Error, ErrorKind};
use crate::object::StixObject;

/// The TLP 2.0 extension definition (OASIS CTI common objects).
pub const TLP2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";
/// `created` of every TLP 2.0 marking definition.
pub const TLP2_CREATED: &str = "2022-10-01T00:00:00.000Z";

/// The TLP 2.0 marking-definition identifiers.
pub const TLP2_MARKING_IDS: [(Tlp, &str); 5] = [
    (
        Tlp::Clear,
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    ),
    (
        Tlp::Green,
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    ),
    (
        Tlp::Amber,
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    ),
    (
        Tlp::AmberStrict,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    ),
    (
        Tlp::Red,
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    ),
];

/// The STIX 2.1 predefined TLP 1.0 markings (read only).
pub const TLP1_MARKING_IDS: [(Tlp, &str); 4] = [
    (
        Tlp::Clear,
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    ),
    (
        Tlp::Green,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    ),
    (
        Tlp::Amber,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    ),
    (
        Tlp::Red,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    ),
];

/// The project's releasability extension definition.
pub const RELEASABILITY_EXTENSION_ID: &str =
    "extension-definition--d237112c-5e22-4dc5-aaeb-8fc788cd5520";
/// The Trilat project identity that created the extension definition.
pub const TRILAT_IDENTITY_ID: &str = "identity--67119e33-e0d6-4875-9a79-386c2c35b9ea";
/// `created`/`modified` of the project's fixed objects.
const TRILAT_OBJECTS_CREATED: &str = "2026-01-01T00:00:00.000Z";

/// The TLP a marking-definition identifier stands for, if it is a TLP marking.
pub fn tlp_of_marking_ref(marking_ref: &str) -> Option<Tlp> {
    TLP2_MARKING_IDS
        .iter()
        .chain(TLP1_MARKING_IDS.iter())
        .find(|(_, id)| *id == marking_ref)
        .map(|(tlp, _)| *tlp)
}

/// The TLP 2.0 marking-definition identifier of `tlp`.
pub fn tlp_marking_ref(tlp: Tlp) -> &'static str {
    let found = TLP2_MARKING_IDS.iter().find(|(t, _)| *t == tlp);
    found.expect("every TLP has a TLP 2.0 marking").1
}

/// The TLP 2.0 marking-definition object of `tlp`, as published.
pub fn tlp_marking_definition(tlp: Tlp) -> String {
    format!(
        r#"{{"type":"marking-definition","spec_version":"2.1","id":"{}","created":"{TLP2_CREATED}","name":"TLP:{}","extensions":{{"{TLP2_EXTENSION_ID}":{{"extension_type":"property-extension","tlp_2_0":"{}"}}}}}}"#,
        tlp_marking_ref(tlp),
        tlp.as_str(),
        tlp.as_str().to_ascii_lowercase(),
    )
}

/// The content of the project's releasability extension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Releasability {
    /// Always `property-extension`.
    pub extension_type: String,
    /// Classification level (`CONFIDENTIAL`).
    pub level: String,
    /// Party codes or group names (`USA`, `TRILAT`).
    pub rel_to: Vec<String>,
    /// Further-sharing rule.
    pub further_sharing: FurtherSharing,
}

impl Releasability {
    /// The releasability part of a Trilat marking.
    pub fn of(marking: &Marking) -> Releasability {
        Releasability {
            extension_type: "property-extension".into(),
            level: marking.level.clone(),
            rel_to: marking.rel_to.clone(),
            further_sharing: marking.further_sharing,
        }
    }

    /// The marking-definition identifier: UUIDv5 of the canonical content,
    /// in the extension's namespace.
    pub fn marking_ref(&self) -> String {
        let namespace = uuid::Uuid::parse_str(
            RELEASABILITY_EXTENSION_ID.trim_start_matches("extension-definition--"),
        )
        .expect("constant UUID");
        let name = format!(
            "{}|{}|{}",
            self.level,
            self.rel_to.join(","),
            match self.further_sharing {
                FurtherSharing::WithinRelTo => "within-rel-to",
                FurtherSharing::None => "none",
            }
        );
        format!(
            "marking-definition--{}",
            uuid::Uuid::new_v5(&namespace, name.as_bytes()).hyphenated()
        )
    }

    /// The marking-definition object carrying this releasability.
    pub fn marking_definition(&self) -> String {
        let extension = serde_json::to_string(self).expect("plain struct serialises");
        let name = serde_json::to_string(&format!(
            "{}//REL TO {}",
            self.level,
            self.rel_to.join(", ")
        ))
        .expect("string serialises");
        format!(
            r#"{{"type":"marking-definition","spec_version":"2.1","id":"{}","created_by_ref":"{TRILAT_IDENTITY_ID}","created":"{TRILAT_OBJECTS_CREATED}","name":{name},"extensions":{{"{RELEASABILITY_EXTENSION_ID}":{extension}}}}}"#,
            self.marking_ref()
        )
    }
}

/// The project identity and the releasability extension definition: the
/// objects a bundle needs besides the marking definitions themselves.
pub fn trilat_definitions() -> [String; 2] {
    [
        format!(
            r#"{{"type":"identity","spec_version":"2.1","id":"{TRILAT_IDENTITY_ID}","created":"{TRILAT_OBJECTS_CREATED}","modified":"{TRILAT_OBJECTS_CREATED}","name":"Trilat","identity_class":"system"}}"#
        ),
        format!(
            r#"{{"type":"extension-definition","spec_version":"2.1","id":"{RELEASABILITY_EXTENSION_ID}","created_by_ref":"{TRILAT_IDENTITY_ID}","created":"{TRILAT_OBJECTS_CREATED}","modified":"{TRILAT_OBJECTS_CREATED}","name":"Trilat releasability marking","description":"Classification level, releasability (REL TO party codes or groups) and further-sharing rule of a Trilat report, as a marking definition.","schema":"https://example.invalid/trilat/docs/cyber.md#releasability-marking","version":"1.0.0","extension_types":["property-extension"]}}"#
        ),
    ]
}

/// Reads the releasability extension of a marking definition, if it has one.
pub fn releasability_of(definition: &StixObject) -> Result<Option<Releasability>, Error> {
    let StixObject::MarkingDefinition(marking) = definition else {
        return Ok(None);
    };
    let Some(extension) = marking
        .extensions
        .as_ref()
        .and_then(|e| e.get(RELEASABILITY_EXTENSION_ID))
    else {
        return Ok(None);
    };
    let releasability: Releasability = serde_json::from_value(extension.clone()).map_err(|e| {
        Error::bare(ErrorKind::Marking(format!("releasability extension: {e}")))
            .at_object(None, Some(&marking.id))
    })?;
    if releasability.marking_ref() != marking.id {
        return Err(Error::bare(ErrorKind::Marking(format!(
            "releasability marking id should be {} for its content",
            releasability.marking_ref()
        )))
        .at_object(None, Some(&marking.id)));
    }
    Ok(Some(releasability))
}

/// The Trilat marking of an object: the strictest TLP among its object and
/// granular marking references (a report is released whole, so a granular
/// marking binds the whole report), the releasability marking it references,
/// and `default` for what it does not say.
pub fn marking_of(
    object: &StixObject,
    releasabilities: &std::collections::HashMap<String, Releasability>,
    default: &Marking,
) -> Result<Marking, Error> {
    let common = object.common();
    let refs = common.object_marking_refs.iter().map(String::as_str).chain(
        common
            .granular_markings
            .iter()
            .filter_map(|g| g.marking_ref.as_deref()),
    );
    let mut tlp: Option<Tlp> = None;
    let mut releasability: Option<&Releasability> = None;
    for marking_ref in refs {
        if let Some(found) = tlp_of_marking_ref(marking_ref) {
            tlp = Some(tlp.map_or(found, |t| t.max(found)));
        } else if let Some(found) = releasabilities.get(marking_ref) {
            if releasability.is_some_and(|r| r != found) {
                return Err(Error::bare(ErrorKind::Marking(
                    "references two different releasability markings".into(),
                ))
                .at_object(None, Some(common.id)));
            }
            releasability = Some(found);
        }
    }
    let mut marking = default.clone();
    if let Some(tlp) = tlp {
        marking.tlp = tlp;
    }
    if let Some(r) = releasability {
        marking.level = r.level.clone();
        marking.rel_to = r.rel_to.clone();
        marking.further_sharing = r.further_sharing;
    }
    Ok(marking)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlp_identifiers_round_trip() {
        for tlp in Tlp::ALL {
            assert_eq!(tlp_of_marking_ref(tlp_marking_ref(tlp)), Some(tlp));
            let definition = StixObject::from_json(&tlp_marking_definition(tlp)).unwrap();
            crate::validate::validate_object(&definition).unwrap();
        }
        assert_eq!(
            tlp_of_marking_ref("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
            Some(Tlp::Clear)
        );
        assert_eq!(
            tlp_of_marking_ref("marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"),
            None
        );
    }

    #[test]
    fn releasability_marking_round_trips() {
        let marking = Marking::new("CONFIDENTIAL", Tlp::Amber, ["USA", "JPN"]);
        let releasability = Releasability::of(&marking);
        let definition = StixObject::from_json(&releasability.marking_definition()).unwrap();
        crate::validate::validate_object(&definition).unwrap();
        assert_eq!(
            releasability_of(&definition).unwrap(),
            Some(releasability.clone())
        );
        // Same content, same identifier; different content, different one.
        assert_eq!(
            releasability.marking_ref(),
            Releasability::of(&marking).marking_ref()
        );
        let korea = Releasability::of(&Marking::new("CONFIDENTIAL", Tlp::Amber, ["USA", "KOR"]));
        assert_ne!(releasability.marking_ref(), korea.marking_ref());
        for definition in trilat_definitions() {
            crate::validate::validate_object(&StixObject::from_json(&definition).unwrap()).unwrap();
        }
    }

    #[test]
    fn strictest_tlp_wins_and_defaults_fill_the_rest() {
        let default = Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]);
        let releasability = Releasability::of(&Marking::new("SECRET", Tlp::Red, ["USA"]));
        let known =
            std::collections::HashMap::from([(releasability.marking_ref(), releasability.clone())]);
        let object = StixObject::from_json(&format!(
            r#"{{"type":"ipv4-addr","id":"ipv4-addr--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b","value":"1.2.3.4","object_marking_refs":["{}","{}"],"granular_markings":[{{"marking_ref":"{}","selectors":["value"]}}]}}"#,
            tlp_marking_ref(Tlp::Amber),
            releasability.marking_ref(),
            tlp_marking_ref(Tlp::Red),
        ))
        .unwrap();
        let marking = marking_of(&object, &known, &default).unwrap();
        assert_eq!(marking.tlp, Tlp::Red);
        assert_eq!(marking.level, "SECRET");
        assert_eq!(marking.rel_to, vec!["USA".to_string()]);
        let bare = StixObject::from_json(
            r#"{"type":"ipv4-addr","id":"ipv4-addr--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b","value":"1.2.3.4"}"#,
        )
        .unwrap();
        assert_eq!(marking_of(&bare, &known, &default).unwrap(), default);
    }
}
