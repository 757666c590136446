//! TAXII 2.1 resources and the collection logic, free of HTTP: the node's
//! `taxii` module turns requests into these calls and these values into
//! responses.
//!
//! * Resources: [`Discovery`], [`ApiRoot`], [`Collection`], envelopes
//!   ([`write_envelope`], objects written from their original text),
//!   [`Manifest`], [`Versions`], [`Status`], [`TaxiiError`].
//! * Configuration: [`TaxiiConfig`] — API roots (one per sharing community)
//!   and collections, each a view over the report store ([`CollectionConfig`]:
//!   kinds, TLP ceiling, read/write/delete).
//! * Queries: [`ObjectQuery::parse`] reads `added_after`, `limit`, `next` and
//!   `match[id|type|version|spec_version]`; [`select`] applies it to the
//!   records a caller may see and pages them by an opaque `next` cursor;
//!   the page carries `X-TAXII-Date-Added-First/Last`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use trilat_core::{Marking, Tlp};

use crate::bundle::Entry;
use crate::error::Error;

/// The TAXII 2.1 media type.
pub const MEDIA_TYPE_TAXII: &str = "application/taxii+json;version=2.1";
/// The STIX 2.1 media type.
pub const MEDIA_TYPE_STIX: &str = "application/stix+json;version=2.1";
/// Most objects in one page (a larger `limit` is lowered to this).
pub const PAGE_LIMIT_MAX: usize = 1000;
/// Objects in a page when the client gives no `limit`.
pub const PAGE_LIMIT_DEFAULT: usize = 100;
/// Most objects accepted in one POST.
pub const POST_OBJECTS_MAX: usize = 10_000;
/// Most values in one `match[…]` parameter.
pub const MATCH_VALUES_MAX: usize = 100;
/// Longest `next` cursor accepted.
const NEXT_LEN_MAX: usize = 512;

/// `GET /taxii2/`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discovery {
    /// Server title.
    pub title: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The default API root URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// API root URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_roots: Vec<String>,
}

/// `GET /{api-root}/`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiRoot {
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Supported TAXII versions (media types).
    pub versions: Vec<String>,
    /// Largest request body accepted, bytes.
    pub max_content_length: u64,
}

/// One collection resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Collection {
    /// Identifier (a UUID).
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Whether the caller may read.
    pub can_read: bool,
    /// Whether the caller may write.
    pub can_write: bool,
    /// Media types of the objects.
    pub media_types: Vec<String>,
}

/// `GET /{api-root}/collections/`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Collections {
    /// The collections (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collections: Vec<Collection>,
}

/// One manifest record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestRecord {
    /// Object id.
    pub id: String,
    /// When the server added this version.
    pub date_added: String,
    /// The version (`modified`, or `created`, or `date_added`).
    pub version: String,
    /// The media type.
    pub media_type: String,
}

/// `GET …/manifest/`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Whether more pages follow.
    pub more: bool,
    /// Cursor of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The records (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ManifestRecord>,
}

/// `GET …/objects/{id}/versions/`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Versions {
    /// Whether more pages follow.
    pub more: bool,
    /// Cursor of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The versions (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

/// The outcome for one posted object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusDetails {
    /// Object id.
    pub id: String,
    /// Object version.
    pub version: String,
    /// Why, for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `GET /{api-root}/status/{id}/`, also the answer to a POST.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Status id (a UUID).
    pub id: String,
    /// `complete` or `pending`.
    pub status: String,
    /// When the request was received.
    pub request_timestamp: String,
    /// Objects in the request.
    #[serde(default)]
    pub total_count: usize,
    /// Objects stored.
    #[serde(default)]
    pub success_count: usize,
    /// Stored objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub successes: Vec<StatusDetails>,
    /// Objects refused.
    #[serde(default)]
    pub failure_count: usize,
    /// Refused objects, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<StatusDetails>,
    /// Objects not yet processed.
    #[serde(default)]
    pub pending_count: usize,
    /// Pending objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pendings: Vec<StatusDetails>,
}

impl Status {
    /// A complete status from per-object outcomes (`Err` carries the reason).
    pub fn complete(
        id: String,
        request_timestamp: String,
        outcomes: Vec<(StatusDetails, Result<(), String>)>,
    ) -> Status {
        let total_count = outcomes.len();
        let mut successes = Vec::new();
        let mut failures = Vec::new();
        for (mut details, outcome) in outcomes {
            match outcome {
                Ok(()) => successes.push(details),
                Err(reason) => {
                    details.message = Some(reason);
                    failures.push(details);
                }
            }
        }
        let status = Status {
            id,
            status: "complete".into(),
            request_timestamp,
            total_count,
            success_count: successes.len(),
            successes,
            failure_count: failures.len(),
            failures,
            pending_count: 0,
            pendings: Vec::new(),
        };
        debug_assert_eq!(
            status.success_count + status.failure_count,
            status.total_count
        );
        status
    }
}

/// A TAXII error message; `http_status` is also the response status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{http_status} {title}")]
pub struct TaxiiError {
    /// Short title.
    pub title: String,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The HTTP status code, as a string per the specification.
    pub http_status: String,
}

impl TaxiiError {
    /// An error with `status`, a title and a description.
    pub fn new(status: u16, title: &str, description: impl Into<String>) -> TaxiiError {
        debug_assert!((400..600).contains(&status));
        TaxiiError {
            title: title.to_string(),
            description: Some(description.into()),
            http_status: status.to_string(),
        }
    }

    /// The status code as a number.
    pub fn status_code(&self) -> u16 {
        self.http_status.parse().unwrap_or(500)
    }
}

fn bad_request(description: impl Into<String>) -> TaxiiError {
    TaxiiError::new(400, "Bad Request", description)
}

/// The TAXII server's configuration: the node's `[taxii]` table.
///
/// ```toml
/// [taxii]
/// title = "Trilat TAXII"
/// [[taxii.api_roots]]
/// name = "trilat"                       # served at /trilat/
/// title = "Trilat trilateral sharing community"
/// [[taxii.collections]]
/// id = "8f5c2e1a-4b0d-4c3e-9f7a-1d2e3f4a5b6c"
/// api_root = "trilat"
/// title = "TRILAT cyber indicators, TLP:AMBER"
/// tlp_max = "AMBER"
/// can_write = true
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxiiConfig {
    /// Server title (discovery).
    #[serde(default = "default_title")]
    pub title: String,
    /// Server description.
    #[serde(default)]
    pub description: Option<String>,
    /// Contact.
    #[serde(default)]
    pub contact: Option<String>,
    /// API roots.
    #[serde(default)]
    pub api_roots: Vec<ApiRootConfig>,
    /// Collections.
    #[serde(default)]
    pub collections: Vec<CollectionConfig>,
}

fn default_title() -> String {
    "Trilat TAXII 2.1".into()
}

/// One API root: a sharing community.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiRootConfig {
    /// Path segment (`trilat` → `/trilat/`): `a-z0-9-`.
    pub name: String,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// One collection: a view over the node's reports.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionConfig {
    /// Identifier (a UUID).
    pub id: String,
    /// The API root it belongs to.
    pub api_root: String,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Alias.
    #[serde(default)]
    pub alias: Option<String>,
    /// Report kinds shown (default `cyber.stix`).
    #[serde(default = "default_kinds")]
    pub kinds: Vec<String>,
    /// Most restrictive TLP shown (default AMBER: RED is for named
    /// recipients, never a collection).
    #[serde(default = "default_tlp_max")]
    pub tlp_max: Tlp,
    /// Whether callers may read.
    #[serde(default = "yes")]
    pub can_read: bool,
    /// Whether callers with the writer role may post.
    #[serde(default)]
    pub can_write: bool,
    /// Whether the owner may delete objects.
    #[serde(default)]
    pub allow_delete: bool,
}

fn default_kinds() -> Vec<String> {
    vec![crate::mapping::REPORT_KIND.to_string()]
}
fn default_tlp_max() -> Tlp {
    Tlp::Amber
}
fn yes() -> bool {
    true
}

impl TaxiiConfig {
    /// Checks names, ids and references between roots and collections.
    pub fn validate(&self) -> Result<(), String> {
        for root in &self.api_roots {
            let well_formed = !root.name.is_empty()
                && root.name.len() <= 64
                && root
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !well_formed || root.name == "taxii2" {
                return Err(format!("api root name {:?}: use a-z, 0-9 and -", root.name));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for collection in &self.collections {
            uuid::Uuid::try_parse(&collection.id)
                .map_err(|_| format!("collection id {:?} is not a UUID", collection.id))?;
            if !seen.insert(collection.id.as_str()) {
                return Err(format!("collection {} is listed twice", collection.id));
            }
            if !self.api_roots.iter().any(|r| r.name == collection.api_root) {
                return Err(format!(
                    "collection {} names api root {:?}, which is not configured",
                    collection.id, collection.api_root
                ));
            }
        }
        Ok(())
    }

    /// The collections of one API root.
    pub fn collections_of<'a>(
        &'a self,
        api_root: &'a str,
    ) -> impl Iterator<Item = &'a CollectionConfig> + 'a {
        self.collections
            .iter()
            .filter(move |c| c.api_root == api_root)
    }
}

impl CollectionConfig {
    /// Whether a report of `kind` with `marking` belongs in this collection
    /// (the caller's own release check comes on top).
    pub fn admits(&self, kind: &str, marking: &Marking) -> bool {
        self.kinds.iter().any(|k| k == kind) && marking.tlp <= self.tlp_max
    }

    /// Whether `reader` sees a report in this collection: the collection
    /// admits it **and** the release rule lets `reader` have it. The node
    /// calls this for every record of every page.
    pub fn visible_to(
        &self,
        policy: &trilat_core::Policy,
        reader: &trilat_core::Party,
        owner: &trilat_core::Party,
        kind: &trilat_core::Kind,
        marking: &Marking,
    ) -> bool {
        self.can_read
            && self.admits(kind.as_str(), marking)
            && policy.release_marked(owner, kind, marking, reader).is_ok()
    }

    /// The collection resource as the caller sees it.
    pub fn resource(&self, caller_may_write: bool) -> Collection {
        Collection {
            id: self.id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            alias: self.alias.clone(),
            can_read: self.can_read,
            can_write: self.can_write && caller_may_write,
            media_types: vec![MEDIA_TYPE_STIX.to_string()],
        }
    }
}

/// Which versions `match[version]` selects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionMatch {
    /// `first`.
    pub first: bool,
    /// `last` (the default when the parameter is absent).
    pub last: bool,
    /// `all`.
    pub all: bool,
    /// Exact versions.
    pub exact: Vec<String>,
}

/// A parsed object query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectQuery {
    /// `added_after`, as milliseconds since the epoch.
    pub added_after_ms: Option<i64>,
    /// Page size (at most [`PAGE_LIMIT_MAX`]).
    pub limit: usize,
    /// The cursor from a previous page.
    pub next: Option<Cursor>,
    /// `match[id]`.
    pub ids: Vec<String>,
    /// `match[type]`.
    pub types: Vec<String>,
    /// `match[version]`.
    pub versions: VersionMatch,
    /// `match[spec_version]`.
    pub spec_versions: Vec<String>,
}

/// The position after the last record of a page.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    /// `date_added` of the last record, ms.
    pub date_added_ms: i64,
    /// Its object id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// Its position in the node's change feed (0 when paging records held
    /// in memory by [`select`]): a node resumes after it.
    pub seq: u64,
}

impl Cursor {
    /// The opaque text form: `<ms>.<hex of id|version>[.<hex seq>]`.
    pub fn encode(&self) -> String {
        let key = format!("{}|{}", self.id, self.version);
        let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
        if self.seq == 0 {
            format!("{}.{hex}", self.date_added_ms)
        } else {
            format!("{}.{hex}.{:x}", self.date_added_ms, self.seq)
        }
    }

    /// Reads [`Cursor::encode`]'s form.
    pub fn decode(text: &str) -> Result<Cursor, TaxiiError> {
        let bad = || bad_request("next is not a cursor this server issued");
        if text.len() > NEXT_LEN_MAX {
            return Err(bad());
        }
        let (ms, rest) = text.split_once('.').ok_or_else(bad)?;
        let (hex, seq) = match rest.split_once('.') {
            Some((hex, seq)) => {
                let seq = u64::from_str_radix(seq, 16).map_err(|_| bad())?;
                (hex, seq)
            }
            None => (rest, 0),
        };
        let date_added_ms = ms.parse().map_err(|_| bad())?;
        if hex.len() % 2 != 0 {
            return Err(bad());
        }
        let bytes: Result<Vec<u8>, _> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
            .collect();
        let key = String::from_utf8(bytes?).map_err(|_| bad())?;
        let (id, version) = key.split_once('|').ok_or_else(bad)?;
        Ok(Cursor {
            date_added_ms,
            id: id.to_string(),
            version: version.to_string(),
            seq,
        })
    }
}

impl ObjectQuery {
    /// Parses query parameters (`name`, `value` pairs, already URL-decoded).
    /// `match[version]` defaults to `last`; unknown parameters are refused.
    pub fn parse<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ObjectQuery, TaxiiError> {
        let mut query = ObjectQuery {
            added_after_ms: None,
            limit: PAGE_LIMIT_DEFAULT,
            next: None,
            ids: Vec::new(),
            types: Vec::new(),
            versions: VersionMatch::default(),
            spec_versions: Vec::new(),
        };
        let mut version_given = false;
        for (name, value) in params {
            let values = || -> Result<Vec<String>, TaxiiError> {
                let values: Vec<String> = value.split(',').map(|v| v.trim().to_string()).collect();
                if values.len() > MATCH_VALUES_MAX || values.iter().any(String::is_empty) {
                    return Err(bad_request(format!(
                        "{name}: 1 to {MATCH_VALUES_MAX} non-empty comma-separated values"
                    )));
                }
                Ok(values)
            };
            match name {
                "added_after" => {
                    let at = crate::mapping::report_time(value).ok_or_else(|| {
                        bad_request(format!(
                            "added_after {value:?} is not an RFC 3339 timestamp"
                        ))
                    })?;
                    query.added_after_ms = Some(at.unix_ms());
                }
                "limit" => {
                    let limit: usize = value.parse().ok().filter(|l| *l > 0).ok_or_else(|| {
                        bad_request(format!("limit {value:?} is not a positive integer"))
                    })?;
                    query.limit = limit.min(PAGE_LIMIT_MAX);
                }
                "next" => query.next = Some(Cursor::decode(value)?),
                "match[id]" => query.ids.extend(values()?),
                "match[type]" => query.types.extend(values()?),
                "match[spec_version]" => query.spec_versions.extend(values()?),
                "match[version]" => {
                    version_given = true;
                    for v in values()? {
                        match v.as_str() {
                            "first" => query.versions.first = true,
                            "last" => query.versions.last = true,
                            "all" => query.versions.all = true,
                            _ if crate::validate::is_stix_timestamp(&v) => {
                                query.versions.exact.push(v)
                            }
                            _ => {
                                return Err(bad_request(format!(
                                    "match[version] {v:?}: use first, last, all or a timestamp"
                                )))
                            }
                        }
                    }
                }
                _ => {
                    return Err(bad_request(format!(
                        "unknown parameter {:?}",
                        crate::error::truncate(name, 40)
                    )))
                }
            }
        }
        if !version_given {
            query.versions.last = true;
        }
        Ok(query)
    }
}

/// One object version in a collection, as the node's store provides it.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// The STIX id.
    pub id: &'a str,
    /// The STIX type.
    pub type_name: &'a str,
    /// The version: `modified`, else `created`, else the date added.
    pub version: &'a str,
    /// When this node stored the version, ms.
    pub date_added_ms: i64,
    /// The object's JSON text.
    pub object: &'a str,
}

/// One page of a query.
#[derive(Debug)]
pub struct Page<'a> {
    /// The records, oldest `date_added` first.
    pub records: Vec<Record<'a>>,
    /// Whether more records follow.
    pub more: bool,
    /// The cursor of the next page, when `more`.
    pub next: Option<String>,
}

impl Page<'_> {
    /// `X-TAXII-Date-Added-First`, when the page is not empty.
    pub fn date_added_first(&self) -> Option<String> {
        self.records
            .first()
            .map(|r| taxii_timestamp(r.date_added_ms))
    }

    /// `X-TAXII-Date-Added-Last`, when the page is not empty.
    pub fn date_added_last(&self) -> Option<String> {
        self.records
            .last()
            .map(|r| taxii_timestamp(r.date_added_ms))
    }

    /// The manifest of this page.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            more: self.more,
            next: self.next.clone(),
            objects: self
                .records
                .iter()
                .map(|r| ManifestRecord {
                    id: r.id.to_string(),
                    date_added: taxii_timestamp(r.date_added_ms),
                    version: r.version.to_string(),
                    media_type: MEDIA_TYPE_STIX.to_string(),
                })
                .collect(),
        }
    }

    /// The envelope of this page (objects written from their text).
    pub fn envelope(&self) -> String {
        write_envelope(
            self.more,
            self.next.as_deref(),
            self.records.iter().map(|r| r.object),
        )
    }
}

/// A TAXII timestamp (microsecond precision, as TAXII servers write).
pub fn taxii_timestamp(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

/// Applies a query to the records a caller may see in one collection (any
/// order) and returns one page, sorted by date added, then id, then version.
pub fn select<'a>(records: &[Record<'a>], query: &ObjectQuery) -> Page<'a> {
    let mut matching: Vec<Record<'a>> = records
        .iter()
        .filter(|r| query.ids.is_empty() || query.ids.iter().any(|id| id == r.id))
        .filter(|r| query.types.is_empty() || query.types.iter().any(|t| t == r.type_name))
        // Every object here is STIX 2.1.
        .filter(|_| {
            query.spec_versions.is_empty() || query.spec_versions.iter().any(|v| v == "2.1")
        })
        .copied()
        .collect();
    if !query.versions.all {
        let mut first: HashMap<&str, &str> = HashMap::new();
        let mut last: HashMap<&str, &str> = HashMap::new();
        for r in &matching {
            let earlier = |held: &&str| version_order(r.version, held).is_lt();
            let later = |held: &&str| version_order(r.version, held).is_gt();
            if first.get(r.id).is_none_or(earlier) {
                first.insert(r.id, r.version);
            }
            if last.get(r.id).is_none_or(later) {
                last.insert(r.id, r.version);
            }
        }
        let versions = &query.versions;
        matching.retain(|r| {
            (versions.first && first.get(r.id) == Some(&r.version))
                || (versions.last && last.get(r.id) == Some(&r.version))
                || versions.exact.iter().any(|v| v == r.version)
        });
    }
    if let Some(after) = query.added_after_ms {
        matching.retain(|r| r.date_added_ms > after);
    }
    // Borrowed keys: a page sorts tens of thousands of records.
    let key = |r: &Record<'a>| (r.date_added_ms, r.id, r.version);
    matching.sort_unstable_by(|x, y| key(x).cmp(&key(y)));
    if let Some(cursor) = &query.next {
        let cursor_key = (
            cursor.date_added_ms,
            cursor.id.as_str(),
            cursor.version.as_str(),
        );
        matching.retain(|r| key(r) > cursor_key);
    }
    let more = matching.len() > query.limit;
    matching.truncate(query.limit);
    let next = if more {
        matching.last().map(|r| {
            Cursor {
                date_added_ms: r.date_added_ms,
                id: r.id.to_string(),
                version: r.version.to_string(),
                seq: 0,
            }
            .encode()
        })
    } else {
        None
    };
    debug_assert!(matching.len() <= query.limit);
    Page {
        records: matching,
        more,
        next,
    }
}

/// Orders two versions (STIX timestamps). Same-shaped UTC texts order as
/// text, which skips parsing on the hot path; others are parsed.
fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    if a.len() == b.len() && a.ends_with('Z') && b.ends_with('Z') {
        return a.cmp(b);
    }
    crate::validate::compare_timestamps(a, b).unwrap_or_else(|| a.cmp(b))
}

/// Writes an envelope; each object is written as its JSON text.
pub fn write_envelope<'a>(
    more: bool,
    next: Option<&str>,
    objects: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut out = String::from("{\"more\":");
    out.push_str(if more { "true" } else { "false" });
    if let Some(next) = next {
        out.push_str(",\"next\":");
        out.push_str(&serde_json::to_string(next).expect("strings serialise"));
    }
    let mut objects = objects.into_iter().peekable();
    if objects.peek().is_some() {
        out.push_str(",\"objects\":[");
        for (idx, object) in objects.enumerate() {
            if idx > 0 {
                out.push(',');
            }
            out.push_str(object);
        }
        out.push(']');
    }
    out.push('}');
    out
}

#[derive(Deserialize)]
struct PostedEnvelope<'a> {
    #[serde(borrow, default)]
    objects: Vec<&'a serde_json::value::RawValue>,
}

/// One POSTed object: the id and version it claims, and its parse outcome.
pub type PostedObject = (StatusDetails, Result<Entry, Error>);

/// Reads a POSTed envelope: a malformed envelope or too many objects is a
/// 400/413 error and nothing is stored; each object is then accepted or
/// refused on its own, with the id and version it claims when readable.
pub fn parse_posted_envelope(body: &str) -> Result<Vec<PostedObject>, TaxiiError> {
    let envelope: PostedEnvelope<'_> = serde_json::from_str(body)
        .map_err(|e| bad_request(format!("the body is not a TAXII envelope: {e}")))?;
    if envelope.objects.len() > POST_OBJECTS_MAX {
        return Err(TaxiiError::new(
            413,
            "Payload Too Large",
            format!(
                "{} objects, more than {POST_OBJECTS_MAX}",
                envelope.objects.len()
            ),
        ));
    }
    if envelope.objects.is_empty() {
        return Err(bad_request("the envelope has no objects"));
    }
    Ok(envelope
        .objects
        .into_iter()
        .map(|raw| {
            #[derive(Deserialize, Default)]
            struct Claimed {
                #[serde(default)]
                id: String,
                #[serde(default)]
                modified: Option<String>,
                #[serde(default)]
                created: Option<String>,
            }
            let claimed: Claimed = serde_json::from_str(raw.get()).unwrap_or_default();
            let details = StatusDetails {
                id: claimed.id,
                version: claimed.modified.or(claimed.created).unwrap_or_default(),
                message: None,
            };
            (details, Entry::parse_upgrading(raw.get()))
        })
        .collect())
}

/// Whether an `Accept` header admits TAXII 2.1 responses.
pub fn accepts_taxii(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return true };
    accept.split(',').any(|range| {
        let range: String = range.chars().filter(|c| !c.is_whitespace()).collect();
        let media = range.split(";q=").next().unwrap_or("");
        media == "*/*"
            || media == "application/*"
            || media == "application/taxii+json"
            || media.eq_ignore_ascii_case(MEDIA_TYPE_TAXII)
    })
}

/// Whether a `Content-Type` header is the TAXII 2.1 media type.
pub fn is_taxii_content_type(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        let ct: String = ct.chars().filter(|c| !c.is_whitespace()).collect();
        ct.eq_ignore_ascii_case(MEDIA_TYPE_TAXII) || ct == "application/taxii+json"
    })
}

#[cfg(test)]
mod tests;
