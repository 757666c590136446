//! Serde types for the STIX 2.1 objects the partners exchange.
//!
//! Every type carries the common properties, its own properties (required
//! ones are not `Option`, so a missing one is a parse error naming it), and a
//! `custom` map that keeps every other property (`x_mitre_*` …) untouched.
//! Types the project does not model field by field (other observables,
//! `x-…` custom objects, `language-content`) parse as [`GenericObject`].

use std::borrow::Cow;

use serde::de::{Error as _, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};

/// The specification's four families of objects, plus custom ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// STIX Domain Object (indicator, malware …).
    Domain,
    /// STIX Relationship Object (relationship, sighting).
    Relationship,
    /// STIX Cyber-observable Object (ipv4-addr, file …).
    Observable,
    /// STIX Meta Object (marking-definition, extension-definition, language-content).
    Meta,
    /// A custom object type (`x-…` or defined by an extension definition).
    Custom,
}

/// An external reference (`source_name` plus optional description, URL, hashes, id).
/// `Deserialize` is written by hand (below): serde's derive buffers every
/// property of a struct with a `flatten` field, which was the import's
/// largest cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExternalReference {
    /// The source (`mitre-attack`, `capec`, `cve` …).
    pub source_name: String,
    /// A human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Hashes of the referenced content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Map<String, Value>>,
    /// The identifier in the source (`T1566`, `CVE-2017-0144`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Unknown properties, kept as given.
    #[serde(flatten)]
    pub custom: Map<String, Value>,
}

/// A property name as read: borrowed from the text unless it has escapes.
struct PropertyName<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for PropertyName<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PropertyName<'de>, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = PropertyName<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a property name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<PropertyName<'de>, E> {
                Ok(PropertyName(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<PropertyName<'de>, E> {
                Ok(PropertyName(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<PropertyName<'de>, E> {
                Ok(PropertyName(Cow::Owned(v)))
            }
        }
        d.deserialize_str(NameVisitor)
    }
}

/// A Rust field name as its JSON property name (`r#abstract` → `abstract`).
fn field_name(rust_name: &'static str) -> &'static str {
    rust_name.strip_prefix("r#").unwrap_or(rust_name)
}

/// Reads a required property's value; a second occurrence is an error.
fn read_required<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    slot: &mut Option<T>,
    name: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(A::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// Reads an optional property's value (`null` reads as absent, as serde's
/// derive does for `Option`); a second occurrence is an error.
fn read_optional<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    slot: &mut Option<T>,
    name: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(A::Error::duplicate_field(name));
    }
    *slot = map.next_value::<Option<T>>()?;
    Ok(())
}

/// The common properties while an object is being read.
#[derive(Default)]
struct CommonSlots {
    type_name: Option<String>,
    id: Option<String>,
    spec_version: Option<String>,
    created_by_ref: Option<String>,
    created: Option<String>,
    modified: Option<String>,
    revoked: Option<bool>,
    labels: Option<Vec<String>>,
    confidence: Option<i64>,
    lang: Option<String>,
    external_references: Option<Vec<ExternalReference>>,
    object_marking_refs: Option<Vec<String>>,
    granular_markings: Option<Vec<GranularMarking>>,
    extensions: Option<Map<String, Value>>,
}

impl CommonSlots {
    /// Reads the value of `key` when it is a common property; says whether it was.
    fn read<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "type" => read_required(&mut self.type_name, "type", map)?,
            "id" => read_required(&mut self.id, "id", map)?,
            "spec_version" => read_optional(&mut self.spec_version, "spec_version", map)?,
            "created_by_ref" => read_optional(&mut self.created_by_ref, "created_by_ref", map)?,
            "created" => read_optional(&mut self.created, "created", map)?,
            "modified" => read_optional(&mut self.modified, "modified", map)?,
            "revoked" => read_optional(&mut self.revoked, "revoked", map)?,
            "labels" => read_optional(&mut self.labels, "labels", map)?,
            "confidence" => read_optional(&mut self.confidence, "confidence", map)?,
            "lang" => read_optional(&mut self.lang, "lang", map)?,
            "external_references" => {
                read_optional(&mut self.external_references, "external_references", map)?
            }
            "object_marking_refs" => {
                read_optional(&mut self.object_marking_refs, "object_marking_refs", map)?
            }
            "granular_markings" => {
                read_optional(&mut self.granular_markings, "granular_markings", map)?
            }
            "extensions" => read_optional(&mut self.extensions, "extensions", map)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `type` and `id`, which every object must have.
    fn required<E: serde::de::Error>(&mut self) -> Result<(String, String), E> {
        let type_name = self
            .type_name
            .take()
            .ok_or_else(|| E::missing_field("type"))?;
        let id = self.id.take().ok_or_else(|| E::missing_field("id"))?;
        Ok((type_name, id))
    }
}

impl<'de> Deserialize<'de> for ExternalReference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ExternalReference, D::Error> {
        struct ReferenceVisitor;
        impl<'de> Visitor<'de> for ReferenceVisitor {
            type Value = ExternalReference;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an external reference")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ExternalReference, A::Error> {
                let mut source_name = None;
                let mut description = None;
                let mut url = None;
                let mut hashes = None;
                let mut external_id = None;
                let mut custom = Map::new();
                while let Some(PropertyName(key)) = map.next_key::<PropertyName<'de>>()? {
                    match &*key {
                        "source_name" => read_required(&mut source_name, "source_name", &mut map)?,
                        "description" => read_optional(&mut description, "description", &mut map)?,
                        "url" => read_optional(&mut url, "url", &mut map)?,
                        "hashes" => read_optional(&mut hashes, "hashes", &mut map)?,
                        "external_id" => read_optional(&mut external_id, "external_id", &mut map)?,
                        _ => {
                            let value: Value = map.next_value()?;
                            custom.insert(key.into_owned(), value);
                        }
                    }
                }
                Ok(ExternalReference {
                    source_name: source_name
                        .ok_or_else(|| A::Error::missing_field("source_name"))?,
                    description,
                    url,
                    hashes,
                    external_id,
                    custom,
                })
            }
        }
        d.deserialize_map(ReferenceVisitor)
    }
}

/// A granular marking: a marking (or language) applied to selected properties.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GranularMarking {
    /// The language of the selected properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The marking definition applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marking_ref: Option<String>,
    /// Selectors of the marked properties (`description`, `external_references.[0].url`).
    pub selectors: Vec<String>,
}

/// A kill-chain phase (`mitre-attack` / `initial-access`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KillChainPhase {
    /// The kill chain's name.
    pub kill_chain_name: String,
    /// The phase's name.
    pub phase_name: String,
}

/// Borrowed view of the properties every object may carry.
#[derive(Clone, Copy, Debug)]
pub struct CommonView<'a> {
    /// `type`.
    pub type_name: &'a str,
    /// `id`.
    pub id: &'a str,
    /// `spec_version`.
    pub spec_version: Option<&'a str>,
    /// `created_by_ref`.
    pub created_by_ref: Option<&'a str>,
    /// `created`.
    pub created: Option<&'a str>,
    /// `modified`.
    pub modified: Option<&'a str>,
    /// `revoked`.
    pub revoked: bool,
    /// `confidence`.
    pub confidence: Option<i64>,
    /// `object_marking_refs`.
    pub object_marking_refs: &'a [String],
    /// `granular_markings`.
    pub granular_markings: &'a [GranularMarking],
    /// `external_references`.
    pub external_references: &'a [ExternalReference],
    /// `extensions`.
    pub extensions: Option<&'a Map<String, Value>>,
    /// Properties this crate does not model: custom ones and, for
    /// [`GenericObject`], the type's own.
    pub custom: &'a Map<String, Value>,
}

macro_rules! stix_type {
    (
        $(#[$meta:meta])*
        $name:ident, $type_name:literal, $category:ident,
        required { $( $(#[$rmeta:meta])* $rfield:ident : $rty:ty ),* $(,)? }
        optional { $( $(#[$ometa:meta])* $ofield:ident : $oty:ty ),* $(,)? }
    ) => {
        $(#[$meta])*
        ///
        /// `Deserialize` reads each property once, straight into its field;
        /// unknown ones go to `custom`.
        #[derive(Clone, Debug, PartialEq, Serialize)]
        pub struct $name {
            #[doc = concat!("`type`: `", $type_name, "`.")]
            #[serde(rename = "type")]
            pub type_name: String,
            /// `spec_version` (`2.1`).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub spec_version: Option<String>,
            /// `id`: `<type>--<UUID>`.
            pub id: String,
            /// The identity that created the object (and alone may version it).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub created_by_ref: Option<String>,
            /// When the object was first created.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub created: Option<String>,
            /// When this version was made.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub modified: Option<String>,
            /// Whether the object is revoked (final).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub revoked: Option<bool>,
            /// Free labels.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub labels: Option<Vec<String>>,
            /// Confidence, 0–100.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub confidence: Option<i64>,
            /// Language of the text properties.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub lang: Option<String>,
            /// External references.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub external_references: Option<Vec<ExternalReference>>,
            /// Markings of the whole object.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub object_marking_refs: Option<Vec<String>>,
            /// Markings of selected properties.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub granular_markings: Option<Vec<GranularMarking>>,
            /// Extensions keyed by extension-definition id or predefined name.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub extensions: Option<Map<String, Value>>,
            $( $(#[$rmeta])* pub $rfield: $rty, )*
            $( $(#[$ometa])* #[serde(default, skip_serializing_if = "Option::is_none")] pub $ofield: Option<$oty>, )*
            /// Every other property (`x_mitre_*` …), kept as given.
            #[serde(flatten)]
            pub custom: Map<String, Value>,
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                struct ObjectVisitor;
                impl<'de> Visitor<'de> for ObjectVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a STIX object (", stringify!($name), ")"))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        let mut common = CommonSlots::default();
                        $( let mut $rfield: Option<$rty> = None; )*
                        $( let mut $ofield: Option<$oty> = None; )*
                        let mut custom = Map::new();
                        while let Some(PropertyName(key)) = map.next_key::<PropertyName<'de>>()? {
                            if common.read(&key, &mut map)? {
                                continue;
                            }
                            let own = $( if key == field_name(stringify!($rfield)) {
                                read_required(&mut $rfield, field_name(stringify!($rfield)), &mut map)?;
                                true
                            } else )* $( if key == field_name(stringify!($ofield)) {
                                read_optional(&mut $ofield, field_name(stringify!($ofield)), &mut map)?;
                                true
                            } else )* { false };
                            if !own {
                                let value: Value = map.next_value()?;
                                custom.insert(key.into_owned(), value);
                            }
                        }
                        let (type_name, id) = common.required::<A::Error>()?;
                        Ok($name {
                            type_name,
                            id,
                            spec_version: common.spec_version,
                            created_by_ref: common.created_by_ref,
                            created: common.created,
                            modified: common.modified,
                            revoked: common.revoked,
                            labels: common.labels,
                            confidence: common.confidence,
                            lang: common.lang,
                            external_references: common.external_references,
                            object_marking_refs: common.object_marking_refs,
                            granular_markings: common.granular_markings,
                            extensions: common.extensions,
                            $( $rfield: $rfield.ok_or_else(|| {
                                A::Error::missing_field(field_name(stringify!($rfield)))
                            })?, )*
                            $( $ofield, )*
                            custom,
                        })
                    }
                }
                d.deserialize_map(ObjectVisitor)
            }
        }

        impl $name {
            /// The `type` this struct parses.
            pub const TYPE: &'static str = $type_name;
            /// The family of the type.
            pub const CATEGORY: Category = Category::$category;

            /// The common properties.
            pub fn common(&self) -> CommonView<'_> {
                CommonView {
                    type_name: &self.type_name,
                    id: &self.id,
                    spec_version: self.spec_version.as_deref(),
                    created_by_ref: self.created_by_ref.as_deref(),
                    created: self.created.as_deref(),
                    modified: self.modified.as_deref(),
                    revoked: self.revoked.unwrap_or(false),
                    confidence: self.confidence,
                    object_marking_refs: self.object_marking_refs.as_deref().unwrap_or(&[]),
                    granular_markings: self.granular_markings.as_deref().unwrap_or(&[]),
                    external_references: self.external_references.as_deref().unwrap_or(&[]),
                    extensions: self.extensions.as_ref(),
                    custom: &self.custom,
                }
            }
        }
    };
}

stix_type!(
    /// `attack-pattern`: a way adversaries compromise targets (ATT&CK technique).
    AttackPattern, "attack-pattern", Domain,
    required { /// Name.
        name: String }
    optional { /// Description.
        description: String, /// Aliases.
        aliases: Vec<String>, /// Kill-chain phases.
        kill_chain_phases: Vec<KillChainPhase> }
);
stix_type!(
    /// `campaign`: a grouping of adversarial behaviour over time.
    Campaign, "campaign", Domain,
    required { /// Name.
        name: String }
    optional { /// Description.
        description: String, /// Aliases.
        aliases: Vec<String>, /// First seen.
        first_seen: String, /// Last seen.
        last_seen: String, /// Objective.
        objective: String }
);
stix_type!(
    /// `course-of-action`: a recommendation to prevent or respond.
    CourseOfAction, "course-of-action", Domain,
    required { /// Name.
        name: String }
    optional { /// Description.
        description: String, /// Reserved action property (STIX 2.0).
        action: Value }
);
stix_type!(
    /// `grouping`: objects shared together in a context.
    Grouping, "grouping", Domain,
    required { /// Context (`suspicious-activity` …).
        context: String, /// The grouped objects.
        object_refs: Vec<String> }
    optional { /// Name.
        name: String, /// Description.
        description: String }
);
stix_type!(
    /// `identity`: an individual, organisation or group.
    Identity, "identity", Domain,
    required { /// Name.
        name: String }
    optional { /// Description.
        description: String, /// Roles.
        roles: Vec<String>, /// Class (`organization`, `individual` …).
        identity_class: String, /// Sectors.
        sectors: Vec<String>, /// Contact information.
        contact_information: String }
);
stix_type!(
    /// `incident`: a security incident (stub in STIX 2.1).
    Incident, "incident", Domain,
    required { /// Name.
        name: String }
    optional { /// Description.
        description: String, /// Kill-chain phases.
        kill_chain_phases: Vec<KillChainPhase> }
);
stix_type!(
    /// `indicator`: a pattern that detects suspicious or malicious activity.
    Indicator, "indicator", Domain,
    required { /// The detection pattern.
        pattern: String, /// Pattern language (`stix`, `snort`, `yara` …).
        pattern_type: String, /// Valid from.
        valid_from: String }
    optional { /// Name.
        name: String, /// Description.
        description: String, /// Indicator types.
        indicator_types: Vec<String>, /// Pattern language version.
        pattern_version: String, /// Valid until.
        valid_until: String, /// Kill-chain phases.
        kill_chain_phases: Vec<KillChainPhase> }
);
stix_type!(
    /// `infrastructure`: systems and services used by an adversary.
    Infrastructure, "infrastructure", Domain,
    required { /// Name.
        name: String }
    optional { /// Description.
        description: String, /// Infrastructure types.
        infrastructure_types: Vec<String>, /// Aliases.
        aliases: Vec<String>, /// Kill-chain phases.
        kill_chain_phases: Vec<KillChainPhase>, /// First seen.
        first_seen: String, /// Last seen.
        last_seen: String }
);
stix_type!(
    /// `intrusion-set`: behaviour and resources of one adversary (Lazarus Group …).
    IntrusionSet, "intrusion-set", Domain,
    required { /// Name.
        name: String }
    optional { /// Description.
        description: String, /// Aliases.
        aliases: Vec<String>, /// First seen.
        first_seen: String, /// Last seen.
        last_seen: String, /// Goals.
        goals: Vec<String>, /// Resource level.
        resource_level: String, /// Primary motivation.
        primary_motivation: String, /// Secondary motivations.
        secondary_motivations: Vec<String> }
);
stix_type!(
    /// `location`: a geographic location.
    Location, "location", Domain,
    required {}
    optional { /// Name.
        name: String, /// Description.
        description: String, /// Latitude, degrees.
        latitude: f64, /// Longitude, degrees.
        longitude: f64, /// Precision, metres.
        precision: f64, /// Region.
        region: String, /// Country (ISO 3166-1 alpha-2).
        country: String, /// Administrative area.
        administrative_area: String, /// City.
        city: String, /// Street address.
        street_address: String, /// Postal code.
        postal_code: String }
);
stix_type!(
    /// `malware`: malicious code (a family or an instance).
    Malware, "malware", Domain,
    required {}
    optional { /// Whether this is a family (required; checked by validation
        /// so that STIX 2.0 objects can be upgraded on import).
        is_family: bool, /// Name.
        name: String, /// Description.
        description: String, /// Malware types.
        malware_types: Vec<String>, /// Aliases.
        aliases: Vec<String>, /// Kill-chain phases.
        kill_chain_phases: Vec<KillChainPhase>, /// First seen.
        first_seen: String, /// Last seen.
        last_seen: String, /// Operating systems (software SCO refs).
        operating_system_refs: Vec<String>, /// Execution environments.
        architecture_execution_envs: Vec<String>, /// Languages.
        implementation_languages: Vec<String>, /// Capabilities.
        capabilities: Vec<String>, /// Samples (file/artifact refs).
        sample_refs: Vec<String> }
);
stix_type!(
    /// `malware-analysis`: the result of analysing malware.
    MalwareAnalysis, "malware-analysis", Domain,
    required { /// The analysis product.
        product: String }
    optional { /// Product version.
        version: String, /// Result (`malicious` …).
        result: String, /// Result name.
        result_name: String, /// Analysed SCOs.
        analysis_sco_refs: Vec<String>, /// The sample.
        sample_ref: String }
);
stix_type!(
    /// `note`: analyst text about other objects.
    Note, "note", Domain,
    required { /// Content.
        content: String, /// The objects the note is about.
        object_refs: Vec<String> }
    optional { /// Summary.
        r#abstract: String, /// Authors.
        authors: Vec<String> }
);
stix_type!(
    /// `observed-data`: observables seen on systems and networks.
    ObservedData, "observed-data", Domain,
    required { /// First observed.
        first_observed: String, /// Last observed.
        last_observed: String, /// Times observed.
        number_observed: i64 }
    optional { /// Observed SCOs.
        object_refs: Vec<String>, /// Embedded observables (deprecated).
        objects: Map<String, Value> }
);
stix_type!(
    /// `opinion`: an assessment of another object's correctness.
    Opinion, "opinion", Domain,
    required { /// Opinion (`strongly-disagree` … `strongly-agree`).
        opinion: String, /// The objects judged.
        object_refs: Vec<String> }
    optional { /// Explanation.
        explanation: String, /// Authors.
        authors: Vec<String> }
);
stix_type!(
    /// `report`: a collection of threat intelligence on a topic.
    Report, "report", Domain,
    required { /// Name.
        name: String, /// Publication time.
        published: String, /// The objects the report covers.
        object_refs: Vec<String> }
    optional { /// Description.
        description: String, /// Report types.
        report_types: Vec<String> }
);
stix_type!(
    /// `threat-actor`: individuals, groups or organisations behind malicious activity.
    ThreatActor, "threat-actor", Domain,
    required { /// Name.
        name: String }
    optional { /// Description.
        description: String, /// Threat-actor types.
        threat_actor_types: Vec<String>, /// Aliases.
        aliases: Vec<String>, /// First seen.
        first_seen: String, /// Last seen.
        last_seen: String, /// Roles.
        roles: Vec<String>, /// Goals.
        goals: Vec<String>, /// Sophistication.
        sophistication: String, /// Resource level.
        resource_level: String, /// Primary motivation.
        primary_motivation: String, /// Secondary motivations.
        secondary_motivations: Vec<String>, /// Personal motivations.
        personal_motivations: Vec<String> }
);
stix_type!(
    /// `tool`: legitimate software that adversaries use.
    Tool, "tool", Domain,
    required { /// Name.
        name: String }
    optional { /// Description.
        description: String, /// Tool types.
        tool_types: Vec<String>, /// Aliases.
        aliases: Vec<String>, /// Kill-chain phases.
        kill_chain_phases: Vec<KillChainPhase>, /// Tool version.
        tool_version: String }
);
stix_type!(
    /// `vulnerability`: a software flaw (CVE …).
    Vulnerability, "vulnerability", Domain,
    required { /// Name.
        name: String }
    optional { /// Description.
        description: String }
);
stix_type!(
    /// `relationship`: links two objects (`uses`, `attributed-to`, `indicates` …).
    Relationship, "relationship", Relationship,
    required { /// Relationship type.
        relationship_type: String, /// Source object.
        source_ref: String, /// Target object.
        target_ref: String }
    optional { /// Description.
        description: String, /// Start time.
        start_time: String, /// Stop time.
        stop_time: String }
);
stix_type!(
    /// `sighting`: something (an indicator, malware …) was seen.
    Sighting, "sighting", Relationship,
    required { /// What was sighted.
        sighting_of_ref: String }
    optional { /// Description.
        description: String, /// First seen.
        first_seen: String, /// Last seen.
        last_seen: String, /// Count.
        count: i64, /// Observed data.
        observed_data_refs: Vec<String>, /// Where (identities, locations).
        where_sighted_refs: Vec<String>, /// Whether a summary.
        summary: bool }
);
stix_type!(
    /// `marking-definition`: TLP, statements, or extension-defined markings.
    MarkingDefinition, "marking-definition", Meta,
    required {}
    optional { /// Name (`TLP:AMBER`).
        name: String, /// `statement` or `tlp` (TLP 1.0), absent for extension-defined ones.
        definition_type: String, /// The definition.
        definition: Value }
);
stix_type!(
    /// `extension-definition`: defines a new object, property or extension.
    ExtensionDefinition, "extension-definition", Meta,
    required { /// Name.
        name: String, /// URL of the schema.
        schema: String, /// Version.
        version: String, /// Kinds of extension defined.
        extension_types: Vec<String> }
    optional { /// Description.
        description: String, /// Top-level properties added.
        extension_properties: Vec<String> }
);
stix_type!(
    /// `domain-name` observable.
    DomainName, "domain-name", Observable,
    required { /// The domain.
        value: String }
    optional { /// Defanged.
        defanged: bool, /// Resolved addresses.
        resolves_to_refs: Vec<String> }
);
stix_type!(
    /// `email-addr` observable.
    EmailAddr, "email-addr", Observable,
    required { /// The address.
        value: String }
    optional { /// Defanged.
        defanged: bool, /// Display name.
        display_name: String, /// The user account.
        belongs_to_ref: String }
);
stix_type!(
    /// `ipv4-addr` observable.
    Ipv4Addr, "ipv4-addr", Observable,
    required { /// Address or CIDR block.
        value: String }
    optional { /// Defanged.
        defanged: bool, /// MAC addresses.
        resolves_to_refs: Vec<String>, /// Autonomous systems.
        belongs_to_refs: Vec<String> }
);
stix_type!(
    /// `ipv6-addr` observable.
    Ipv6Addr, "ipv6-addr", Observable,
    required { /// Address or CIDR block.
        value: String }
    optional { /// Defanged.
        defanged: bool, /// MAC addresses.
        resolves_to_refs: Vec<String>, /// Autonomous systems.
        belongs_to_refs: Vec<String> }
);
stix_type!(
    /// `url` observable.
    Url, "url", Observable,
    required { /// The URL.
        value: String }
    optional { /// Defanged.
        defanged: bool }
);
stix_type!(
    /// `file` observable, with hashes.
    File, "file", Observable,
    required {}
    optional { /// Defanged.
        defanged: bool, /// Hashes (`SHA-256`, `MD5` …).
        hashes: Map<String, Value>, /// Size, bytes.
        size: i64, /// File name.
        name: String, /// MIME type.
        mime_type: String, /// Parent directory.
        parent_directory_ref: String, /// Contents (artifact).
        content_ref: String }
);
stix_type!(
    /// `user-account` observable (also the false identities of IT workers).
    UserAccount, "user-account", Observable,
    required {}
    optional { /// Defanged.
        defanged: bool, /// User id.
        user_id: String, /// Login.
        account_login: String, /// Account type (`facebook`, `unix` …).
        account_type: String, /// Display name.
        display_name: String, /// Service account.
        is_service_account: bool, /// Privileged.
        is_privileged: bool, /// Disabled.
        is_disabled: bool, /// Created.
        account_created: String }
);
stix_type!(
    /// `cryptocurrency-wallet`: a wallet address (after the OASIS
    /// cryptocurrency extension; a new SCO defined by an extension definition).
    CryptocurrencyWallet, "cryptocurrency-wallet", Observable,
    required { /// Wallet address.
        address: String }
    optional { /// Defanged.
        defanged: bool, /// Currency (`BTC`, `ETH` …).
        currency: String }
);
stix_type!(
    /// Any other type: other observables, `x-…` custom objects,
    /// `language-content`. Its own properties are in `custom`.
    GenericObject, "", Custom,
    required {}
    optional {}
);

macro_rules! stix_object_enum {
    ($( $variant:ident ),* $(,)?) => {
        /// One parsed STIX object of any type.
        #[derive(Clone, Debug, PartialEq, Serialize)]
        #[serde(untagged)]
        #[allow(clippy::large_enum_variant)]
        pub enum StixObject {
            $(
                #[doc = concat!("A `", stringify!($variant), "`.")]
                $variant($variant),
            )*
            /// Any type not modelled field by field.
            Generic(GenericObject),
        }

        impl StixObject {
            /// The common properties.
            pub fn common(&self) -> CommonView<'_> {
                match self {
                    $( StixObject::$variant(o) => o.common(), )*
                    StixObject::Generic(o) => o.common(),
                }
            }

            /// The family of this object's type.
            pub fn category(&self) -> Category {
                match self {
                    $( StixObject::$variant(_) => $variant::CATEGORY, )*
                    StixObject::Generic(o) => generic_category(&o.type_name),
                }
            }

            /// Parses one object from its JSON text, dispatching on `type`.
            pub fn from_json(text: &str) -> Result<StixObject, Error> {
                // Fast path: `type` found by a scan that usually stops at the
                // first property, then one typed parse. The parsed `type`
                // must agree with the scan, else the slow path decides.
                if let Some(type_name) = scan_type(text) {
                    if let Ok(object) = StixObject::from_json_as(text, type_name) {
                        if object.common().type_name == type_name {
                            return Ok(object);
                        }
                    }
                }
                let probe: TypeProbe<'_> = serde_json::from_str(text)
                    .map_err(|e| Error::bare(ErrorKind::Json(e.to_string())))?;
                let type_name = probe.type_name.as_deref().ok_or_else(|| {
                    Error::bare(ErrorKind::MissingProperty("type".into()))
                })?;
                StixObject::from_json_as(text, type_name).map_err(|e| {
                    Error::bare(ErrorKind::Json(e.to_string())).at_object(None, probe.id.as_deref())
                })
            }

            fn from_json_as(text: &str, type_name: &str) -> serde_json::Result<StixObject> {
                match type_name {
                    $( $variant::TYPE => serde_json::from_str(text).map(StixObject::$variant), )*
                    _ => serde_json::from_str(text).map(StixObject::Generic),
                }
            }
        }
    };
}

stix_object_enum!(
    AttackPattern,
    Campaign,
    CourseOfAction,
    Grouping,
    Identity,
    Incident,
    Indicator,
    Infrastructure,
    IntrusionSet,
    Location,
    Malware,
    MalwareAnalysis,
    Note,
    ObservedData,
    Opinion,
    Report,
    ThreatActor,
    Tool,
    Vulnerability,
    Relationship,
    Sighting,
    MarkingDefinition,
    ExtensionDefinition,
    DomainName,
    EmailAddr,
    Ipv4Addr,
    Ipv6Addr,
    Url,
    File,
    UserAccount,
    CryptocurrencyWallet,
);

/// The STIX 2.1 observable types this crate does not model field by field.
pub const OTHER_OBSERVABLE_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "email-message",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "windows-registry-key",
    "x509-certificate",
];

fn generic_category(type_name: &str) -> Category {
    if OTHER_OBSERVABLE_TYPES.contains(&type_name) {
        Category::Observable
    } else if type_name == "language-content" {
        Category::Meta
    } else {
        Category::Custom
    }
}

/// The value of the top-level `type` property, found by a byte scan that
/// stops there (it is usually the first property). `None` when the scan
/// cannot tell cheaply (escapes, no `type`, malformed text): the caller then
/// asks serde. A wrong answer is harmless: the caller checks the parse.
fn scan_type(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut idx = skip_space(bytes, 0);
    if bytes.get(idx) != Some(&b'{') {
        return None;
    }
    idx += 1;
    // Bounded: every round consumes at least one byte.
    for _ in 0..bytes.len() {
        idx = skip_space(bytes, idx);
        let (key, after_key) = scan_plain_string(bytes, idx)?;
        idx = skip_space(bytes, after_key);
        if bytes.get(idx) != Some(&b':') {
            return None;
        }
        idx = skip_space(bytes, idx + 1);
        if key == b"type" {
            let (value, _) = scan_plain_string(bytes, idx)?;
            return std::str::from_utf8(value).ok();
        }
        idx = skip_space(bytes, skip_value(bytes, idx)?);
        if bytes.get(idx) != Some(&b',') {
            return None;
        }
        idx += 1;
    }
    None
}

fn skip_space(bytes: &[u8], mut idx: usize) -> usize {
    while matches!(bytes.get(idx), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        idx += 1;
    }
    idx
}

/// A string without escapes starting at `idx` (its opening quote): its
/// content and the index after its closing quote.
fn scan_plain_string(bytes: &[u8], idx: usize) -> Option<(&[u8], usize)> {
    if bytes.get(idx) != Some(&b'"') {
        return None;
    }
    let rest = bytes.get(idx + 1..)?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    if rest[end] == b'\\' {
        return None;
    }
    Some((&rest[..end], idx + 1 + end + 1))
}

/// The index after the JSON value starting at `idx`.
fn skip_value(bytes: &[u8], idx: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut pos = idx;
    while let Some(&b) = bytes.get(pos) {
        match b {
            b'"' => {
                pos += 1;
                // Skip the string, escapes included.
                loop {
                    match bytes.get(pos)? {
                        b'\\' => pos += 2,
                        b'"' => break,
                        _ => pos += 1,
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return Some(pos);
                }
                depth -= 1;
            }
            b',' if depth == 0 => return Some(pos),
            _ => {}
        }
        pos += 1;
        if depth == 0 && matches!(bytes.get(pos - 1), Some(b'"' | b'}' | b']')) {
            return Some(pos);
        }
    }
    None
}

/// Reads only `type` and `id`; serde skips the rest without building values.
#[derive(Deserialize)]
struct TypeProbe<'a> {
    #[serde(rename = "type", borrow, default)]
    type_name: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<std::borrow::Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatches_on_type_and_keeps_custom_properties() {
        let text = r#"{"type":"intrusion-set","spec_version":"2.1","id":"intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a","created":"2017-05-31T21:32:05.217Z","modified":"2025-04-16T20:37:39.681Z","name":"Lazarus Group","aliases":["Lazarus Group","HIDDEN COBRA"],"x_mitre_version":"4.1"}"#;
        let object = StixObject::from_json(text).unwrap();
        let StixObject::IntrusionSet(set) = &object else {
            panic!("parsed as {object:?}")
        };
        assert_eq!(set.name, "Lazarus Group");
        assert_eq!(set.custom["x_mitre_version"], "4.1");
        assert_eq!(object.category(), Category::Domain);
        assert_eq!(object.common().id, set.id);
    }

    #[test]
    fn missing_required_property_is_named() {
        let text = r#"{"type":"indicator","id":"indicator--c93fccb1-e8e8-42cf-ae33-2ad1d183913a","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}"#;
        let err = StixObject::from_json(text).unwrap_err();
        assert!(err.to_string().contains("pattern"), "{err}");
        assert!(err.to_string().contains("indicator--c93f"), "{err}");
    }

    #[test]
    fn type_scan_finds_the_top_level_type_or_gives_up() {
        #[track_caller]
        fn check(text: &str, expect: Option<&str>) {
            assert_eq!(scan_type(text), expect, "{text}");
        }
        check(r#"{"type":"tool","id":"x"}"#, Some("tool"));
        check(r#" { "id" : "x" , "type" : "tool" }"#, Some("tool"));
        check(
            r#"{"a":{"type":"no"},"b":["type",{"type":"no"}],"type":"yes"}"#,
            Some("yes"),
        );
        check(
            r#"{"a":"q\"type\":\"no","n":-1.5e3,"t":true,"type":"yes"}"#,
            Some("yes"),
        );
        check(r#"{"a":{"b":[1,2,{"c":"}"}]},"type":"yes"}"#, Some("yes"));
        check(r#"{"\u0074ype":"tool"}"#, None);
        check(r#"{"type":"to\u006fl"}"#, None);
        check(r#"{"type":3}"#, None);
        check(r#"{"id":"x"}"#, None);
        check(r#"{"id":"x""#, None);
        check(r#"[{"type":"tool"}]"#, None);
        check("", None);
        // The escaped forms still parse, through serde.
        let text =
            r#"{"\u0074ype":"tool","id":"tool--c93fccb1-e8e8-42cf-ae33-2ad1d183913a","name":"x"}"#;
        assert!(matches!(
            StixObject::from_json(text),
            Ok(StixObject::Tool(_))
        ));
    }

    #[test]
    fn hand_written_deserialize_agrees_with_the_properties() {
        let text = r#"{"type":"note","id":"note--c93fccb1-e8e8-42cf-ae33-2ad1d183913a","abstract":"a","content":"c","object_refs":[],"labels":null,"external_references":[{"source_name":"s","x":1}],"x_y":[1]}"#;
        let StixObject::Note(note) = StixObject::from_json(text).unwrap() else {
            panic!("not a note")
        };
        assert_eq!(note.r#abstract.as_deref(), Some("a"));
        assert_eq!(note.labels, None);
        assert_eq!(note.external_references.as_ref().unwrap()[0].custom["x"], 1);
        assert_eq!(note.custom["x_y"], serde_json::json!([1]));
        let twice = r#"{"type":"tool","id":"tool--c93fccb1-e8e8-42cf-ae33-2ad1d183913a","name":"a","name":"b"}"#;
        assert!(StixObject::from_json(twice)
            .unwrap_err()
            .to_string()
            .contains("duplicate"));
        let no_id = r#"{"type":"tool","name":"a"}"#;
        assert!(StixObject::from_json(no_id)
            .unwrap_err()
            .to_string()
            .contains("id"));
    }

    #[test]
    fn custom_types_are_generic() {
        let text = r#"{"type":"x-mitre-tactic","id":"x-mitre-tactic--c93fccb1-e8e8-42cf-ae33-2ad1d183913a","x_mitre_shortname":"discovery"}"#;
        let object = StixObject::from_json(text).unwrap();
        assert_eq!(object.category(), Category::Custom);
        assert_eq!(object.common().custom["x_mitre_shortname"], "discovery");
        assert!(StixObject::from_json(r#"{"id":"x"}"#).is_err());
        assert!(StixObject::from_json("[1,2").is_err());
    }
}
