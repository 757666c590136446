//! The report: a typed, versioned record signed by its owner.

use std::fmt;

use crate::{
    canonical_json, Kind, KindRegistry, Marking, NodeKey, Party, Policy, PolicyError, PublicKey,
    Signature, Timestamp,
};

/// Largest canonical size of a payload.
pub const PAYLOAD_BYTES_MAX: usize = 1024 * 1024;
/// Deepest nesting accepted in a GeoJSON geometry.
pub const GEOMETRY_DEPTH_MAX: usize = 8;
/// Most positions accepted in one geometry.
pub const GEOMETRY_POSITIONS_MAX: usize = 100_000;
/// Domain separation: a report signature can never be mistaken for a request signature.
const REPORT_SIGNING_PREFIX: &[u8] = b"trilat-report-v1\n";
/// Room reserved for a report's signing bytes: most reports fit, so the
/// encoder rarely reallocates.
const SIGNING_BYTES_CAPACITY: usize = 1024;

/// A report's identity: a UUIDv7, so ids sort by creation time.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ReportId(uuid::Uuid);

impl ReportId {
    /// A UUIDv7 for `now` with fresh random bits.
    pub fn new_v7(now: Timestamp) -> ReportId {
        let random: [u8; 10] = rand::random();
        ReportId(
            uuid::Builder::from_unix_timestamp_millis(now.unix_ms() as u64, &random).into_uuid(),
        )
    }

    /// Parses the hyphenated form.
    pub fn parse(text: &str) -> Result<ReportId, ReportError> {
        uuid::Uuid::try_parse(text).map(ReportId).map_err(|_| {
            ReportError::Malformed(format!(
                "invalid report id {:?}",
                text.chars().take(40).collect::<String>()
            ))
        })
    }
}

impl fmt::Display for ReportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A report's identity: its owner and its id. Two parties may use the same
/// [`ReportId`] (ids derived from STIX objects are predictable, and nothing
/// stops a partner from copying one); they are then two different reports.
/// Everything that names a report (store keys, federation, the change feed,
/// API paths, audit entries) names it by this pair, so no party can occupy
/// another's report. Written `OWNER/uuid` (`USA/0190…`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReportKey {
    /// The party that signs every version.
    pub owner: Party,
    /// The id the owner chose.
    pub id: ReportId,
}

impl ReportKey {
    /// The identity of `owner`'s report `id`.
    pub fn new(owner: Party, id: ReportId) -> ReportKey {
        ReportKey { owner, id }
    }

    /// Parses `OWNER/uuid`.
    pub fn parse(text: &str) -> Result<ReportKey, ReportError> {
        let Some((owner, id)) = text.split_once('/') else {
            return Err(ReportError::Malformed(format!(
                "report {:?} is not OWNER/uuid",
                text.chars().take(60).collect::<String>()
            )));
        };
        let owner = Party::new(owner)
            .map_err(|e| ReportError::Malformed(format!("owner of report: {e}")))?;
        Ok(ReportKey::new(owner, ReportId::parse(id)?))
    }
}

impl fmt::Display for ReportKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.id)
    }
}

impl std::str::FromStr for ReportKey {
    type Err = ReportError;
    fn from_str(text: &str) -> Result<ReportKey, ReportError> {
        ReportKey::parse(text)
    }
}

impl serde::Serialize for ReportKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ReportKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ReportKey, D::Error> {
        let text = String::deserialize(d)?;
        ReportKey::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A report version: the owner's counter, then the modification time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Version {
    /// 1 for the first version, +1 for each next one.
    pub counter: u64,
    /// When the owner issued this version.
    pub modified: Timestamp,
}

/// Why a report was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportError {
    /// The report's structure is wrong (bad id, times, version).
    #[error("malformed report: {0}")]
    Malformed(String),
    /// The kind is unknown here or its payload is invalid for its engine.
    #[error("payload: {0}")]
    Payload(String),
    /// The marking does not fit the policy.
    #[error("marking: {0}")]
    Marking(#[from] PolicyError),
    /// The geometry is not valid GeoJSON.
    #[error("geometry: {0}")]
    Geometry(String),
    /// The payload is too large.
    #[error("payload is {bytes} bytes canonical, more than {PAYLOAD_BYTES_MAX}")]
    TooLarge {
        /// Canonical size.
        bytes: usize,
    },
    /// The signature does not verify under the owner's key.
    #[error("signature of report {id} does not verify under {owner}'s key")]
    BadSignature {
        /// The report.
        id: ReportId,
        /// Its claimed owner.
        owner: Party,
    },
    /// A version after a revocation: revocation is final.
    #[error("report {0} is revoked; revocation is final")]
    RevokedFinal(ReportId),
    /// Two different reports with the same id and version (equivocation).
    #[error("report {id} version {counter} exists with different content")]
    VersionConflict {
        /// The report.
        id: ReportId,
        /// The contested version.
        counter: u64,
    },
    /// The report could not be encoded canonically.
    #[error("canonical encoding: {0}")]
    Canonical(String),
}

/// A report as its owner composes it, before signing.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportDraft {
    /// Identity, kept across versions.
    pub id: ReportId,
    /// The party that owns the report and alone may version it.
    pub owner: Party,
    /// What the payload is.
    pub kind: Kind,
    /// Version counter, from 1.
    pub version: u64,
    /// When this version was issued.
    pub modified: Timestamp,
    /// When the first version was created.
    pub created_at: Timestamp,
    /// When the reported thing was observed.
    pub observed_at: Timestamp,
    /// Optional GeoJSON geometry (WGS-84, lon/lat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<serde_json::Value>,
    /// Who may receive it.
    pub marking: Marking,
    /// "EXERCISE EXERCISE EXERCISE": shared like others, never mixed with real-world data.
    pub exercise: bool,
    /// The kind's content, validated by the engine that owns the kind.
    pub payload: serde_json::Value,
    /// A revoked report is withdrawn; the revocation is a version.
    pub revoked: bool,
}

/// A signed report. Construct by [`ReportDraft::sign`] or by deserialising
/// (then [`Report::verify`] before trusting it).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// See [`ReportDraft::id`].
    pub id: ReportId,
    /// See [`ReportDraft::owner`].
    pub owner: Party,
    /// See [`ReportDraft::kind`].
    pub kind: Kind,
    /// See [`ReportDraft::version`].
    pub version: u64,
    /// See [`ReportDraft::modified`].
    pub modified: Timestamp,
    /// See [`ReportDraft::created_at`].
    pub created_at: Timestamp,
    /// See [`ReportDraft::observed_at`].
    pub observed_at: Timestamp,
    /// See [`ReportDraft::geometry`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<serde_json::Value>,
    /// See [`ReportDraft::marking`].
    pub marking: Marking,
    /// See [`ReportDraft::exercise`].
    pub exercise: bool,
    /// See [`ReportDraft::payload`].
    pub payload: serde_json::Value,
    /// See [`ReportDraft::revoked`].
    pub revoked: bool,
    /// The owner's Ed25519 signature over [`Report::signing_bytes`].
    pub signature: Signature,
}

impl ReportDraft {
    /// The first version of a new report, observed and created at `now`.
    pub fn new(
        owner: Party,
        kind: Kind,
        marking: Marking,
        payload: serde_json::Value,
        now: Timestamp,
    ) -> ReportDraft {
        ReportDraft {
            id: ReportId::new_v7(now),
            owner,
            kind,
            version: 1,
            modified: now,
            created_at: now,
            observed_at: now,
            geometry: None,
            marking,
            exercise: false,
            payload,
            revoked: false,
        }
    }

    /// Signs the draft with the owner's key.
    pub fn sign(self, key: &NodeKey) -> Result<Report, ReportError> {
        let mut report = Report {
            id: self.id,
            owner: self.owner,
            kind: self.kind,
            version: self.version,
            modified: self.modified,
            created_at: self.created_at,
            observed_at: self.observed_at,
            geometry: self.geometry,
            marking: self.marking,
            exercise: self.exercise,
            payload: self.payload,
            revoked: self.revoked,
            signature: Signature::EMPTY,
        };
        let bytes = report.signing_bytes()?;
        report.signature = key.sign(&bytes);
        // Pair assertion: what we sign, we can verify.
        debug_assert!(report.verify(&key.public_key()).is_ok());
        Ok(report)
    }
}

/// The signed part of a report: every field but the signature.
#[derive(serde::Serialize)]
struct SignedFields<'a> {
    id: &'a ReportId,
    owner: &'a Party,
    kind: &'a Kind,
    version: u64,
    modified: &'a Timestamp,
    created_at: &'a Timestamp,
    observed_at: &'a Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    geometry: &'a Option<serde_json::Value>,
    marking: &'a Marking,
    exercise: bool,
    payload: &'a serde_json::Value,
    revoked: bool,
}

impl Report {
    /// This report's identity: owner and id.
    pub fn key(&self) -> ReportKey {
        ReportKey::new(self.owner.clone(), self.id)
    }

    /// Whether `self` and `other` are versions of one report (same owner,
    /// same id).
    pub fn same_report(&self, other: &Report) -> bool {
        self.id == other.id && self.owner == other.owner
    }

    /// The version of this report.
    pub fn version(&self) -> Version {
        Version {
            counter: self.version,
            modified: self.modified,
        }
    }

    /// The exact bytes the owner signs: a domain prefix, then the RFC 8785
    /// canonical JSON of every field but the signature.
    pub fn signing_bytes(&self) -> Result<Vec<u8>, ReportError> {
        let mut bytes = Vec::with_capacity(SIGNING_BYTES_CAPACITY);
        self.write_signing_bytes(&mut bytes)?;
        Ok(bytes)
    }

    /// Appends [`Report::signing_bytes`] to `out` (to check a page's
    /// signatures with one buffer instead of one allocation per report).
    /// On error `out` is left as it was.
    pub fn write_signing_bytes(&self, out: &mut Vec<u8>) -> Result<(), ReportError> {
        let fields = self.signed_fields();
        let start = out.len();
        out.extend_from_slice(REPORT_SIGNING_PREFIX);
        // The same encoder as `canonical_json`, writing in place.
        if let Err(e) = serde_json_canonicalizer::to_writer(&fields, out) {
            out.truncate(start);
            // Worded as `CanonicalError` words it.
            return Err(ReportError::Canonical(format!(
                "canonical JSON encoding failed: {e}"
            )));
        }
        debug_assert!(out[start..].starts_with(REPORT_SIGNING_PREFIX));
        Ok(())
    }

    fn signed_fields(&self) -> SignedFields<'_> {
        SignedFields {
            id: &self.id,
            owner: &self.owner,
            kind: &self.kind,
            version: self.version,
            modified: &self.modified,
            created_at: &self.created_at,
            observed_at: &self.observed_at,
            geometry: &self.geometry,
            marking: &self.marking,
            exercise: self.exercise,
            payload: &self.payload,
            revoked: self.revoked,
        }
    }

    /// Verifies the owner's signature.
    pub fn verify(&self, owner_key: &PublicKey) -> Result<(), ReportError> {
        let bytes = self.signing_bytes()?;
        owner_key
            .verify(&bytes, &self.signature)
            .map_err(|_| ReportError::BadSignature {
                id: self.id,
                owner: self.owner.clone(),
            })
    }

    /// Verifies the owner's signature of each report, like [`Report::verify`]
    /// per report but with one batch verification for the lot (see
    /// [`crate::signing::verify_batch`] for how strictness is kept and its
    /// one documented difference). One verdict per item, in order.
    pub fn verify_each(items: &[(&Report, &PublicKey)]) -> Vec<Result<(), ReportError>> {
        // Every report's signing bytes in one buffer, each at its range.
        let mut buffer: Vec<u8> = Vec::with_capacity(items.len() * SIGNING_BYTES_CAPACITY);
        let signing_bytes: Vec<Result<std::ops::Range<usize>, ReportError>> = items
            .iter()
            .map(|(report, _)| {
                let start = buffer.len();
                report
                    .write_signing_bytes(&mut buffer)
                    .map(|()| start..buffer.len())
            })
            .collect();
        let signed: Vec<crate::signing::SignedMessage<'_>> = items
            .iter()
            .zip(&signing_bytes)
            .filter_map(|((report, key), range)| {
                let range = range.as_ref().ok()?;
                Some(crate::signing::SignedMessage {
                    message: &buffer[range.clone()],
                    signature: &report.signature,
                    key,
                })
            })
            .collect();
        let key_verdicts = crate::signing::verify_batch(&signed);
        drop(signed);
        let mut key_verdicts = key_verdicts.into_iter();
        let verdicts: Vec<Result<(), ReportError>> = items
            .iter()
            .zip(signing_bytes)
            .map(|((report, _), bytes)| match bytes {
                Err(error) => Err(error),
                Ok(_) => match key_verdicts.next() {
                    Some(Ok(())) => Ok(()),
                    _ => Err(ReportError::BadSignature {
                        id: report.id,
                        owner: report.owner.clone(),
                    }),
                },
            })
            .collect();
        assert!(
            key_verdicts.next().is_none(),
            "one key verdict per signed item"
        );
        assert_eq!(verdicts.len(), items.len());
        verdicts
    }

    /// Checks everything but the signature against a node's policy and
    /// kinds: structure, marking, payload (by the kind's engine), geometry
    /// and size.
    pub fn validate(&self, policy: &Policy, kinds: &KindRegistry) -> Result<(), ReportError> {
        if self.version == 0 {
            return Err(ReportError::Malformed("version counter starts at 1".into()));
        }
        if self.modified < self.created_at {
            return Err(ReportError::Malformed(format!(
                "modified {} is before created_at {}",
                self.modified, self.created_at
            )));
        }
        if self.version == 1 && self.modified != self.created_at {
            return Err(ReportError::Malformed(
                "version 1 must have modified == created_at".into(),
            ));
        }
        if self.id.0.get_version_num() != 7 {
            return Err(ReportError::Malformed(format!(
                "report id {} is not a UUIDv7",
                self.id
            )));
        }
        policy.check_marking(&self.marking)?;
        let payload_bytes = canonical_json(&self.payload)
            .map_err(|e| ReportError::Canonical(e.to_string()))?
            .len();
        if payload_bytes > PAYLOAD_BYTES_MAX {
            return Err(ReportError::TooLarge {
                bytes: payload_bytes,
            });
        }
        kinds
            .check(&self.kind, &self.payload)
            .map_err(ReportError::Payload)?;
        if let Some(geometry) = &self.geometry {
            let mut positions = 0;
            check_geometry(geometry, 0, &mut positions)?;
        }
        Ok(())
    }

    /// Whether `self` replaces `held`, the version a node already has of the
    /// same report (same [`ReportKey`]: another owner's report under the
    /// same id is another report, never compared). `Ok(false)` for a
    /// duplicate or an older version (idempotent receive); an error for an
    /// equivocation, a changed kind or a version after a revocation.
    ///
    /// # Panics
    /// If `held` is another report (owner or id differ): callers look it
    /// up by [`Report::key`].
    pub fn supersedes(&self, held: &Report) -> Result<bool, ReportError> {
        assert_eq!(
            self.id, held.id,
            "supersedes compares versions of one report"
        );
        assert_eq!(
            self.owner, held.owner,
            "supersedes compares versions of one report: another owner's is another report"
        );
        if self.kind != held.kind || self.created_at != held.created_at {
            return Err(ReportError::Malformed(format!(
                "version {} of {} changes its kind or creation time",
                self.version,
                self.key()
            )));
        }
        if self.version == held.version {
            return if self.signature == held.signature {
                Ok(false)
            } else {
                Err(ReportError::VersionConflict {
                    id: self.id,
                    counter: self.version,
                })
            };
        }
        if self.version < held.version {
            return Ok(false);
        }
        if held.revoked {
            return Err(ReportError::RevokedFinal(self.id));
        }
        if self.modified <= held.modified {
            return Err(ReportError::Malformed(format!(
                "version {} of {} is not modified after version {}",
                self.version, self.id, held.version
            )));
        }
        Ok(true)
    }

    /// The draft of the next version, to be edited then signed by the owner.
    /// `modified` is `now`, or 1 ms after the current version if the clock
    /// has not moved on, so versions stay strictly ordered in time.
    pub fn next_version(&self, now: Timestamp) -> ReportDraft {
        ReportDraft {
            id: self.id,
            owner: self.owner.clone(),
            kind: self.kind.clone(),
            version: self.version + 1,
            modified: now.max(self.modified.add_ms(1)),
            created_at: self.created_at,
            observed_at: self.observed_at,
            geometry: self.geometry.clone(),
            marking: self.marking.clone(),
            exercise: self.exercise,
            payload: self.payload.clone(),
            revoked: self.revoked,
        }
    }

    /// The draft of the revocation: the next version with `revoked = true`.
    pub fn revocation(&self, now: Timestamp) -> ReportDraft {
        ReportDraft {
            revoked: true,
            ..self.next_version(now)
        }
    }

    /// The geometry's bounding box `[west, south, east, north]`, if any.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        extend_bbox(self.geometry.as_ref()?, &mut bbox, 0);
        (bbox[0] <= bbox[2]).then_some(bbox)
    }
}

fn geometry_error(reason: impl Into<String>) -> ReportError {
    ReportError::Geometry(reason.into())
}

/// Checks a GeoJSON geometry (RFC 7946): known type, coordinates of the right
/// nesting, positions within WGS-84 ranges, bounded size.
fn check_geometry(
    geometry: &serde_json::Value,
    depth: usize,
    positions: &mut usize,
) -> Result<(), ReportError> {
    if depth > GEOMETRY_DEPTH_MAX {
        return Err(geometry_error("nested too deeply"));
    }
    let object = geometry
        .as_object()
        .ok_or_else(|| geometry_error("not an object"))?;
    let kind = object
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or_else(|| geometry_error("missing \"type\""))?;
    if kind == "GeometryCollection" {
        let members = object
            .get("geometries")
            .and_then(|g| g.as_array())
            .ok_or_else(|| geometry_error("GeometryCollection without \"geometries\""))?;
        return members
            .iter()
            .try_for_each(|member| check_geometry(member, depth + 1, positions));
    }
    let nesting = match kind {
        "Point" => 0,
        "MultiPoint" | "LineString" => 1,
        "MultiLineString" | "Polygon" => 2,
        "MultiPolygon" => 3,
        other => {
            return Err(geometry_error(format!(
                "unknown geometry type {:?}",
                other.chars().take(32).collect::<String>()
            )))
        }
    };
    let coordinates = object
        .get("coordinates")
        .ok_or_else(|| geometry_error(format!("{kind} without \"coordinates\"")))?;
    check_coordinates(coordinates, nesting, positions)
}

fn check_coordinates(
    coordinates: &serde_json::Value,
    nesting: usize,
    positions: &mut usize,
) -> Result<(), ReportError> {
    let items = coordinates
        .as_array()
        .ok_or_else(|| geometry_error("coordinates must be arrays"))?;
    if nesting > 0 {
        return items
            .iter()
            .try_for_each(|item| check_coordinates(item, nesting - 1, positions));
    }
    *positions += 1;
    if *positions > GEOMETRY_POSITIONS_MAX {
        return Err(geometry_error(format!(
            "more than {GEOMETRY_POSITIONS_MAX} positions"
        )));
    }
    let numbers: Vec<f64> = items.iter().filter_map(|n| n.as_f64()).collect();
    if numbers.len() != items.len() || !(2..=3).contains(&numbers.len()) {
        return Err(geometry_error(
            "a position is [lon, lat] or [lon, lat, height] of numbers",
        ));
    }
    let (lon, lat) = (numbers[0], numbers[1]);
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(geometry_error(format!(
            "position [{lon}, {lat}] is outside WGS-84 ranges"
        )));
    }
    Ok(())
}

fn extend_bbox(value: &serde_json::Value, bbox: &mut [f64; 4], depth: usize) {
    if depth > GEOMETRY_DEPTH_MAX + 4 {
        return;
    }
    match value {
        serde_json::Value::Object(object) => {
            for key in ["coordinates", "geometries"] {
                if let Some(inner) = object.get(key) {
                    extend_bbox(inner, bbox, depth + 1);
                }
            }
        }
        serde_json::Value::Array(items) => {
            if let (Some(lon), Some(lat)) = (
                items.first().and_then(|v| v.as_f64()),
                items.get(1).and_then(|v| v.as_f64()),
            ) {
                bbox[0] = bbox[0].min(lon);
                bbox[1] = bbox[1].min(lat);
                bbox[2] = bbox[2].max(lon);
                bbox[3] = bbox[3].max(lat);
            } else {
                items
                    .iter()
                    .for_each(|item| extend_bbox(item, bbox, depth + 1));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod signing_bytes_tests {
    use super::*;
    use crate::Tlp;

    /// The signing bytes are exactly the domain prefix and the RFC 8785
    /// encoding of the signed fields (what every existing signature covers),
    /// whether fresh or appended to a buffer that already holds others.
    #[test]
    fn appended_signing_bytes_are_the_canonical_encoding() {
        let key = NodeKey::from_seed([5; 32]);
        let mut draft = ReportDraft::new(
            Party::new("KOR").unwrap(),
            Kind::new("note").unwrap(),
            Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]),
            serde_json::json!({"text": "é \"quoted\" \u{1F6A2}", "n": 1.0e21, "b": [true, null]}),
            Timestamp::from_unix_ms(1_764_292_711_000),
        );
        draft.geometry = Some(serde_json::json!({"type": "Point", "coordinates": [129.1, 35.1]}));
        let report = draft.sign(&key).unwrap();
        let mut expected = REPORT_SIGNING_PREFIX.to_vec();
        expected.extend(canonical_json(&report.signed_fields()).unwrap());
        assert_eq!(report.signing_bytes().unwrap(), expected);
        let text = String::from_utf8(expected.clone()).unwrap();
        assert!(text.contains("\"n\":1e+21"), "{text}");
        let mut buffer = b"earlier".to_vec();
        report.write_signing_bytes(&mut buffer).unwrap();
        assert_eq!(&buffer[..7], b"earlier");
        assert_eq!(&buffer[7..], &expected[..]);
        let items = [(&report, &key.public_key())];
        assert_eq!(Report::verify_each(&items), vec![Ok(())]);
    }
    /// The exact bytes docs/sync.md (*What signatures cover*) shows: a
    /// change here changes every signature, and the doc must change too.
    #[test]
    fn signing_bytes_known_answer() {
        let mut draft = ReportDraft::new(
            Party::new("JPN").unwrap(),
            Kind::new("note").unwrap(),
            Marking::new("CONFIDENTIAL", Tlp::Amber, ["USA", "JPN"]),
            serde_json::json!({"text": "Tanker dark for 14 h"}),
            Timestamp::from_unix_ms(1_764_292_711_000),
        );
        draft.id = ReportId::parse("0192f0c1-7a00-7000-8000-000000000001").unwrap();
        draft.geometry = Some(serde_json::json!({"type": "Point", "coordinates": [123.5, 36.2]}));
        let report = draft.sign(&NodeKey::from_seed([5; 32])).unwrap();
        let expected = concat!(
            "trilat-report-v1\n",
            r#"{"created_at":"2025-11-28T01:18:31.000Z","exercise":false,"#,
            r#""geometry":{"coordinates":[123.5,36.2],"type":"Point"},"#,
            r#""id":"0192f0c1-7a00-7000-8000-000000000001","kind":"note","#,
            r#""marking":{"further_sharing":"none","level":"CONFIDENTIAL","rel_to":["USA","JPN"],"tlp":"AMBER"},"#,
            r#""modified":"2025-11-28T01:18:31.000Z","observed_at":"2025-11-28T01:18:31.000Z","#,
            r#""owner":"JPN","payload":{"text":"Tanker dark for 14 h"},"revoked":false,"version":1}"#,
        );
        assert_eq!(
            String::from_utf8(report.signing_bytes().unwrap()).unwrap(),
            expected
        );
        let request = crate::request_signing_bytes(
            "GET",
            "/peer/v1/changes?cursor=c1.7f.42&limit=1000",
            "KOR",
            1_764_292_711_000,
            b"",
        );
        assert_eq!(
            String::from_utf8(request).unwrap(),
            "trilat-request-v1\nGET\n/peer/v1/changes?cursor=c1.7f.42&limit=1000\nKOR\n\
             1764292711000\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
