//! The TAXII 2.1 server over the node's report store (`/taxii2/…`).
//!
//! * `GET /taxii2/` — discovery; `GET /taxii2/{root}/` — API root.
//! * `GET /taxii2/{root}/collections/[{id}/]` — the `[taxii]` collections
//!   (without any, one default collection `trilat-cyber` over every
//!   `cyber.stix` report, readable and writable).
//! * `GET …/objects/`, `…/objects/{object_id}/`, `…/objects/{object_id}/versions/`,
//!   `…/manifest/` — each record passes the collection's admission (kind,
//!   TLP ceiling) **and** the release rule for the caller's party.
//! * `POST …/objects/` — each object becomes a `cyber.stix` report owned by
//!   the node's party (analyst tokens of the node's party only); the answer
//!   is a status resource, kept for `GET /taxii2/{root}/status/{id}/`.
//!
//! Every answer, errors included, is `application/taxii+json;version=2.1`;
//! errors are TAXII error messages.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use trilat_core::{Marking, Party, ReportId, ReportKey, Tlp};
use trilat_cyber::mapping::{draft_for, report_id_for, report_time, StixPayload, REPORT_KIND};
use trilat_cyber::marking::{releasability_of, Releasability};
use trilat_cyber::taxii::{
    self as tx, ApiRoot, ApiRootConfig, CollectionConfig, Collections, Discovery, ObjectQuery,
    Status, TaxiiConfig, TaxiiError, Versions, MEDIA_TYPE_TAXII,
};
use trilat_store::AuditAction;

mod feed;

use feed::FeedPage;

use crate::audit::{release_events, Released};
use crate::config::Role;
use crate::{AppError, AppState, Caller};

/// The default collection's id, when `[taxii]` lists none.
pub const DEFAULT_COLLECTION_ID: &str = "5d0c1f3e-7a42-4b8e-9c61-0e2f4a7b9d13";
/// The default collection's alias.
pub const DEFAULT_COLLECTION_ALIAS: &str = "trilat-cyber";
/// The default API root's name, when `[taxii]` lists none.
pub const DEFAULT_API_ROOT: &str = "trilat";
/// Status resources kept for `GET …/status/{id}/` (oldest dropped first).
const STATUSES_KEPT: usize = 1024;

/// The TAXII routes as served, for the OpenAPI document; kept beside
/// [`routes`].
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/taxii2/"),
    ("GET", "/taxii2/{root}/"),
    ("GET", "/taxii2/{root}/collections/"),
    ("GET", "/taxii2/{root}/collections/{id}/"),
    ("GET", "/taxii2/{root}/collections/{id}/objects/"),
    ("POST", "/taxii2/{root}/collections/{id}/objects/"),
    (
        "GET",
        "/taxii2/{root}/collections/{id}/objects/{object_id}/",
    ),
    (
        "DELETE",
        "/taxii2/{root}/collections/{id}/objects/{object_id}/",
    ),
    (
        "GET",
        "/taxii2/{root}/collections/{id}/objects/{object_id}/versions/",
    ),
    ("GET", "/taxii2/{root}/collections/{id}/manifest/"),
    ("GET", "/taxii2/{root}/status/{id}/"),
];

/// The TAXII routes, merged at the router's root.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/taxii2/", get(discovery))
        .route("/taxii2/{root}/", get(api_root))
        .route("/taxii2/{root}/collections/", get(collections))
        .route("/taxii2/{root}/collections/{id}/", get(collection))
        .route(
            "/taxii2/{root}/collections/{id}/objects/",
            get(objects).post(add_objects),
        )
        .route(
            "/taxii2/{root}/collections/{id}/objects/{object_id}/",
            get(object).delete(delete_object),
        )
        .route(
            "/taxii2/{root}/collections/{id}/objects/{object_id}/versions/",
            get(versions),
        )
        .route("/taxii2/{root}/collections/{id}/manifest/", get(manifest))
        .route("/taxii2/{root}/status/{id}/", get(status))
}

/// A TAXII error answer.
struct Failure(TaxiiError);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&self.0).expect("plain struct serialises");
        taxii_response(status, body, HeaderMap::new())
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Failure {
        let title = e.status.canonical_reason().unwrap_or("Error").to_string();
        let description = if e.status.is_server_error() {
            "internal error; see the node's log".to_string()
        } else {
            e.message
        };
        Failure(TaxiiError::new(e.status.as_u16(), &title, description))
    }
}

impl From<TaxiiError> for Failure {
    fn from(e: TaxiiError) -> Failure {
        Failure(e)
    }
}

type Answer = Result<Response, Failure>;

fn fail(status: u16, title: &str, description: impl Into<String>) -> Failure {
    Failure(TaxiiError::new(status, title, description))
}

fn not_found(description: impl Into<String>) -> Failure {
    fail(404, "Not Found", description)
}

fn taxii_response(status: StatusCode, body: String, mut headers: HeaderMap) -> Response {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(MEDIA_TYPE_TAXII),
    );
    (status, headers, body).into_response()
}

fn json_ok<T: serde::Serialize>(value: &T) -> Answer {
    let body = serde_json::to_string(value).map_err(|e| Failure::from(AppError::internal(e)))?;
    Ok(taxii_response(StatusCode::OK, body, HeaderMap::new()))
}

/// The authenticated caller whose `Accept` admits TAXII 2.1.
fn admit(caller: Result<Caller, AppError>, headers: &HeaderMap) -> Result<Caller, Failure> {
    let caller = caller?;
    let accept = headers
        .get(header::ACCEPT)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    if !tx::accepts_taxii(accept) {
        return Err(fail(
            406,
            "Not Acceptable",
            format!("this server answers {MEDIA_TYPE_TAXII}"),
        ));
    }
    Ok(caller)
}

/// The TAXII server's state of one node (in [`AppState::taxii`]): its
/// `[taxii]` configuration, parsed once, the collections' index and the
/// status resources of its POSTs. Nothing of it is shared between nodes
/// of one process.
pub struct TaxiiState {
    config: Result<TaxiiConfig, String>,
    indexes: feed::Indexes,
    statuses: StatusBook,
}

impl TaxiiState {
    /// The state for a `[taxii]` table (see [`parse_config`]). A table
    /// that does not parse leaves every TAXII route answering 500 naming
    /// it; [`crate::Config::validate`] refuses such a config first.
    pub fn new(table: Option<&toml::Table>) -> TaxiiState {
        TaxiiState {
            config: parse_config(table),
            indexes: feed::Indexes::default(),
            statuses: StatusBook::default(),
        }
    }
}

/// The `[taxii]` table as a validated [`TaxiiConfig`]; without API roots
/// or collections, the default ones ([`DEFAULT_API_ROOT`],
/// [`DEFAULT_COLLECTION_ID`]).
pub fn parse_config(table: Option<&toml::Table>) -> Result<TaxiiConfig, String> {
    let table = table.cloned().unwrap_or_default();
    let mut config: TaxiiConfig = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    if config.api_roots.is_empty() {
        config.api_roots.push(ApiRootConfig {
            name: DEFAULT_API_ROOT.into(),
            title: "Trilat sharing community".into(),
            description: None,
        });
    }
    if config.collections.is_empty() {
        config.collections.push(CollectionConfig {
            id: DEFAULT_COLLECTION_ID.into(),
            api_root: config.api_roots[0].name.clone(),
            title: "Trilat cyber threat intelligence".into(),
            description: Some(
                "Every cyber.stix report, as the release rule lets the caller see it".into(),
            ),
            alias: Some(DEFAULT_COLLECTION_ALIAS.into()),
            kinds: vec![REPORT_KIND.into()],
            tlp_max: Tlp::Red,
            can_read: true,
            can_write: true,
            allow_delete: false,
        });
    }
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

/// The node's `[taxii]` configuration.
fn config(state: &AppState) -> Result<&TaxiiConfig, Failure> {
    state
        .taxii
        .config
        .as_ref()
        .map_err(|e| AppError::internal(format!("[taxii]: {e}")).into())
}

fn root_of<'a>(config: &'a TaxiiConfig, root: &str) -> Result<&'a ApiRootConfig, Failure> {
    config
        .api_roots
        .iter()
        .find(|r| r.name == root)
        .ok_or_else(|| not_found(format!("no API root {root:?}")))
}

fn collection_of(config: &TaxiiConfig, root: &str, id: &str) -> Result<CollectionConfig, Failure> {
    root_of(config, root)?;
    config
        .collections_of(root)
        .find(|c| c.id == id || c.alias.as_deref() == Some(id))
        .cloned()
        .ok_or_else(|| not_found(format!("no collection {id:?} in API root {root:?}")))
}

fn may_write(state: &AppState, caller: &Caller) -> bool {
    caller.role >= Role::Analyst && caller.party == state.party
}

async fn discovery(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
) -> Answer {
    admit(caller, &headers)?;
    let config = config(&state)?;
    let roots: Vec<String> = config
        .api_roots
        .iter()
        .map(|r| format!("/taxii2/{}/", r.name))
        .collect();
    json_ok(&Discovery {
        title: config.title.clone(),
        description: config.description.clone(),
        contact: config.contact.clone(),
        default: roots.first().cloned(),
        api_roots: roots,
    })
}

async fn api_root(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    Path(root): Path<String>,
) -> Answer {
    admit(caller, &headers)?;
    let config = config(&state)?;
    let root = root_of(config, &root)?;
    json_ok(&ApiRoot {
        title: root.title.clone(),
        description: root.description.clone(),
        versions: vec![MEDIA_TYPE_TAXII.to_string()],
        max_content_length: state.config.limits.body_bytes_max as u64,
    })
}

async fn collections(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    Path(root): Path<String>,
) -> Answer {
    let caller = admit(caller, &headers)?;
    let config = config(&state)?;
    root_of(config, &root)?;
    let write = may_write(&state, &caller);
    json_ok(&Collections {
        collections: config
            .collections_of(&root)
            .map(|c| c.resource(write))
            .collect(),
    })
}

async fn collection(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
) -> Answer {
    let caller = admit(caller, &headers)?;
    let config = config(&state)?;
    let collection = collection_of(config, &root, &id)?;
    json_ok(&collection.resource(may_write(&state, &caller)))
}

/// One page of `collection` for the caller (see [`feed::read_page`]); the
/// read is audited when it returns anything.
async fn read(
    state: &AppState,
    caller: &Caller,
    collection: &CollectionConfig,
    query: ObjectQuery,
) -> Result<FeedPage, Failure> {
    if !collection.can_read {
        return Err(fail(403, "Forbidden", "this collection cannot be read"));
    }
    let page = read_as(state, caller.party.clone(), collection, query).await?;
    // Every version on the page, recorded before the page is answered.
    let template = crate::audit_event(&caller.actor(), AuditAction::Read, "")
        .counterparty(caller.party.clone());
    let released: Vec<Released> = page
        .held
        .iter()
        .map(|h| (h.report(), h.report_version))
        .collect();
    let what = format!("taxii collection {}", collection.id);
    state
        .audit_all(release_events(template, &what, &released))
        .await?;
    Ok(page)
}

/// [`feed::read_page`] off the async runtime, as `party` would see it.
async fn read_as(
    state: &AppState,
    party: Party,
    collection: &CollectionConfig,
    query: ObjectQuery,
) -> Result<FeedPage, Failure> {
    let store = state.store.clone();
    let policy = state.policy.clone();
    let taxii = state.taxii.clone();
    let collection = collection.clone();
    let page = tokio::task::spawn_blocking(move || {
        let reader = feed::Reader {
            policy: &policy,
            party: &party,
            collection: &collection,
        };
        feed::read_page(store.as_ref(), &taxii.indexes, &reader, &query)
    })
    .await
    .map_err(AppError::internal)??;
    Ok(page)
}

/// Whether any version of `object_id` is in the collection for `party`.
async fn exists_for(
    state: &AppState,
    party: Party,
    collection: &CollectionConfig,
    object_id: &str,
) -> Result<bool, Failure> {
    let mut query = ObjectQuery::parse([("limit", "1"), ("match[version]", "all")])?;
    query.ids.push(object_id.to_string());
    Ok(!read_as(state, party, collection, query)
        .await?
        .held
        .is_empty())
}

type Params = Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>;

fn query_of(params: Params) -> Result<(ObjectQuery, Vec<(String, String)>), Failure> {
    let Query(pairs) = params.map_err(|e| fail(400, "Bad Request", e.body_text()))?;
    let query = ObjectQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok((query, pairs))
}

fn page_headers(page: &FeedPage) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let pairs = [
        ("x-taxii-date-added-first", page.date_added_first()),
        ("x-taxii-date-added-last", page.date_added_last()),
    ];
    for (name, value) in pairs {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, value);
        }
    }
    headers
}

async fn objects(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    params: Params,
) -> Answer {
    let caller = admit(caller, &headers)?;
    let config = config(&state)?;
    let collection = collection_of(config, &root, &id)?;
    let (query, _) = query_of(params)?;
    let page = read(&state, &caller, &collection, query).await?;
    Ok(taxii_response(
        StatusCode::OK,
        page.envelope(),
        page_headers(&page),
    ))
}

async fn object(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    Path((root, id, object_id)): Path<(String, String, String)>,
    params: Params,
) -> Answer {
    let caller = admit(caller, &headers)?;
    let config = config(&state)?;
    let collection = collection_of(config, &root, &id)?;
    let (mut query, _) = query_of(params)?;
    if !query.ids.is_empty() {
        return Err(fail(400, "Bad Request", "match[id] is not allowed here"));
    }
    query.ids.push(object_id.clone());
    let page = read(&state, &caller, &collection, query).await?;
    if page.held.is_empty()
        && !exists_for(&state, caller.party.clone(), &collection, &object_id).await?
    {
        return Err(not_found(format!(
            "no object {object_id:?} in this collection"
        )));
    }
    Ok(taxii_response(
        StatusCode::OK,
        page.envelope(),
        page_headers(&page),
    ))
}

async fn versions(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    Path((root, id, object_id)): Path<(String, String, String)>,
    params: Params,
) -> Answer {
    let caller = admit(caller, &headers)?;
    let config = config(&state)?;
    let collection = collection_of(config, &root, &id)?;
    let (mut query, pairs) = query_of(params)?;
    query.ids = vec![object_id.clone()];
    if !pairs.iter().any(|(k, _)| k == "match[version]") {
        query.versions.all = true;
    }
    let page = read(&state, &caller, &collection, query).await?;
    if page.held.is_empty()
        && !exists_for(&state, caller.party.clone(), &collection, &object_id).await?
    {
        return Err(not_found(format!(
            "no object {object_id:?} in this collection"
        )));
    }
    let headers = page_headers(&page);
    let body = serde_json::to_string(&Versions {
        more: page.more,
        next: page.next.clone(),
        versions: page.held.iter().map(|h| h.version.clone()).collect(),
    })
    .map_err(|e| Failure::from(AppError::internal(e)))?;
    Ok(taxii_response(StatusCode::OK, body, headers))
}

async fn manifest(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    params: Params,
) -> Answer {
    let caller = admit(caller, &headers)?;
    let config = config(&state)?;
    let collection = collection_of(config, &root, &id)?;
    let (query, _) = query_of(params)?;
    let page = read(&state, &caller, &collection, query).await?;
    let body = serde_json::to_string(&page.manifest())
        .map_err(|e| Failure::from(AppError::internal(e)))?;
    Ok(taxii_response(StatusCode::OK, body, page_headers(&page)))
}

/// `DELETE …/objects/{object_id}/`: where the collection allows it, an
/// analyst of this node deletes an object this node owns. Deleting is
/// revoking the report (a new signed version, federated like any other
/// revocation); every version of the object then leaves the collection.
/// Trilat deletes whole objects: `match[version]` and `match[spec_version]`
/// only have to select a version that exists.
async fn delete_object(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    Path((root, id, object_id)): Path<(String, String, String)>,
    params: Params,
) -> Answer {
    let caller = admit(caller, &headers)?;
    let config = config(&state)?;
    let collection = collection_of(config, &root, &id)?;
    if !collection.allow_delete {
        return Err(fail(
            403,
            "Forbidden",
            "this collection does not allow deleting objects",
        ));
    }
    if !(collection.can_write && may_write(&state, &caller)) {
        return Err(fail(
            403,
            "Forbidden",
            format!(
                "deleting needs write access: an analyst token of {}",
                state.party
            ),
        ));
    }
    let (mut query, pairs) = query_of(params)?;
    let allowed = ["match[version]", "match[spec_version]"];
    if let Some((name, _)) = pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        return Err(fail(
            400,
            "Bad Request",
            format!("{name:?} is not allowed when deleting"),
        ));
    }
    query.ids = vec![object_id.clone()];
    query.limit = tx::PAGE_LIMIT_MAX;
    let page = read_as(&state, state.party.clone(), &collection, query).await?;
    let Some(held) = page.held.iter().find(|h| h.owner == state.party) else {
        let seen = exists_for(&state, caller.party.clone(), &collection, &object_id).await?;
        return Err(if seen && page.held.is_empty() {
            not_found(format!("no such version of {object_id:?}"))
        } else if seen {
            fail(
                403,
                "Forbidden",
                format!("{object_id} belongs to another party; only its owner can delete it"),
            )
        } else {
            not_found(format!("no object {object_id:?} in this collection"))
        });
    };
    revoke(&state, &caller, held.report()).await?;
    Ok(taxii_response(
        StatusCode::OK,
        String::new(),
        HeaderMap::new(),
    ))
}

/// Publishes the revocation of one of this node's reports.
async fn revoke(state: &AppState, caller: &Caller, report: ReportKey) -> Result<(), Failure> {
    debug_assert_eq!(report.owner, state.party);
    let store = state.store.clone();
    let key = report.clone();
    let current = tokio::task::spawn_blocking(move || store.get(&key))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::internal(format!("report {report} vanished")))?;
    debug_assert_eq!(current.owner, state.party);
    if current.revoked {
        return Ok(());
    }
    let mut draft = current.next_version(crate::now());
    draft.revoked = true;
    crate::publish_as(state, draft, format!("{} (taxii delete)", caller.actor())).await?;
    Ok(())
}

/// Status resources by id, oldest first in the queue: bounded by
/// [`STATUSES_KEPT`].
type StatusBook = Mutex<(HashMap<String, Status>, VecDeque<String>)>;

fn keep_status(state: &AppState, status: &Status) {
    let mut guard = state
        .taxii
        .statuses
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let (map, order) = &mut *guard;
    map.insert(status.id.clone(), status.clone());
    order.push_back(status.id.clone());
    while order.len() > STATUSES_KEPT {
        if let Some(old) = order.pop_front() {
            map.remove(&old);
        }
    }
}

async fn status(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
) -> Answer {
    let caller = admit(caller, &headers)?;
    let config = config(&state)?;
    root_of(config, &root)?;
    if !may_write(&state, &caller) {
        return Err(not_found(format!("no status {id:?}")));
    }
    let found = {
        let guard = state
            .taxii
            .statuses
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        guard.0.get(&id).cloned()
    };
    match found {
        Some(status) => json_ok(&status),
        None => Err(not_found(format!("no status {id:?}"))),
    }
}

/// A random (version 4) UUID.
fn random_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The marking of posted objects that say nothing: the node party only,
/// TLP:AMBER, at the policy's lowest level.
fn default_marking(state: &AppState) -> Marking {
    let level = state
        .policy
        .levels
        .first()
        .cloned()
        .unwrap_or_else(|| "UNCLASSIFIED".into());
    Marking::new(&level, Tlp::Amber, [state.party.as_str().to_string()])
}

async fn add_objects(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Answer {
    let caller = admit(caller, &headers)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !tx::is_taxii_content_type(content_type) {
        return Err(fail(
            415,
            "Unsupported Media Type",
            format!("POST a TAXII envelope as {MEDIA_TYPE_TAXII}"),
        ));
    }
    let config = config(&state)?;
    let collection = collection_of(config, &root, &id)?;
    if !collection.can_write {
        return Err(fail(403, "Forbidden", "this collection is read-only"));
    }
    if caller.role < Role::Analyst || caller.party != state.party {
        return Err(fail(
            403,
            "Forbidden",
            format!(
                "writing needs an analyst token of {}; this one is {:?} of {}",
                state.party, caller.role, caller.party
            ),
        ));
    }
    let body = body.map_err(|e| fail(e.status().as_u16(), "Bad Request", e.body_text()))?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| fail(400, "Bad Request", "the body is not UTF-8"))?;
    let request_timestamp = tx::taxii_timestamp(crate::now_ms());
    let posted = tx::parse_posted_envelope(text)?;
    let default = default_marking(&state);
    let releasabilities: HashMap<String, Releasability> = posted
        .iter()
        .filter_map(|(_, entry)| entry.as_ref().ok())
        .filter_map(|entry| releasability_of(&entry.object).ok().flatten())
        .map(|r| (r.marking_ref(), r))
        .collect();
    let mut outcomes = Vec::with_capacity(posted.len());
    for (details, entry) in posted {
        let outcome = match entry {
            Err(e) => Err(e.to_string()),
            Ok(entry) => store_object(
                &state,
                &caller,
                &collection,
                &entry,
                &releasabilities,
                &default,
            )
            .await
            .map_err(|e| e.message),
        };
        outcomes.push((details, outcome));
    }
    let status = Status::complete(random_uuid(), request_timestamp, outcomes);
    keep_status(&state, &status);
    let body = serde_json::to_string(&status).map_err(|e| Failure::from(AppError::internal(e)))?;
    Ok(taxii_response(StatusCode::ACCEPTED, body, HeaderMap::new()))
}

/// Publishes one posted object as a `cyber.stix` report version.
async fn store_object(
    state: &AppState,
    caller: &Caller,
    collection: &CollectionConfig,
    entry: &trilat_cyber::Entry,
    releasabilities: &HashMap<String, Releasability>,
    default: &Marking,
) -> Result<(), AppError> {
    let common = entry.object.common();
    let stix_id = common.id.to_string();
    let version = common.modified.or(common.created).map(str::to_string);
    let now = crate::now();
    let created = common
        .created
        .and_then(report_time)
        .or_else(|| common.modified.and_then(report_time))
        .unwrap_or(now);
    let report_id: ReportId = report_id_for(&state.party, &stix_id, created);
    // This node's own report of the object: another party's report under
    // the same id (ids are predictable) is another report.
    let report = ReportKey::new(state.party.clone(), report_id);
    let store = state.store.clone();
    let current = tokio::task::spawn_blocking(move || store.get(&report))
        .await
        .map_err(AppError::internal)??;
    let previous = match &current {
        Some(report) => {
            let (payload, prev_entry) = StixPayload::from_value(&report.payload)
                .map_err(|e| AppError::internal(format!("stored {stix_id}: {e}")))?;
            let held = prev_entry.object.common();
            let held_version = held.modified.or(held.created);
            if payload.object == entry.text || held_version == version.as_deref() {
                // The same version again: already held.
                return Ok(());
            }
            Some((prev_entry, report.next_version(report.modified)))
        }
        None => None,
    };
    let draft = draft_for(
        entry,
        &state.party,
        releasabilities,
        default,
        previous.as_ref().map(|(e, d)| (&e.object, d)),
        now,
    )
    .map_err(|e| AppError::bad_request("invalid_object", e.to_string()))?;
    if !collection.admits(draft.kind.as_str(), &draft.marking) {
        return Err(AppError::forbidden(format!(
            "{} is above this collection's TLP:{}",
            draft.marking.banner(),
            collection.tlp_max.as_str()
        )));
    }
    crate::publish_as(state, draft, format!("{} (taxii)", caller.actor())).await?;
    Ok(())
}
