//! The OpenAPI entries of the engines' routes (sanctions, AIS, missile, supply;
//! [`crate::engines::ROUTES`]), the TAXII server's ([`crate::taxii::ROUTES`])
//! and the console's files ([`crate::console::ROUTES`]), added to the
//! document of [`crate::openapi`].

use serde_json::{json, Map, Value};

/// A JSON operation: summary, tag, parameters, optional request body
/// (media type, schema), the success status and its schema.
fn operation(
    summary: &str,
    tag: &str,
    params: Value,
    body: Option<(&str, Value)>,
    ok: &str,
    media: &str,
    schema: Value,
) -> Value {
    let error = json!({ "$ref": "#/components/responses/Error" });
    let mut responses = json!({
        "400": error, "401": error, "403": error, "404": error, "503": error,
    });
    responses[ok] = json!({ "description": "success", "content": { media: { "schema": schema } } });
    let mut op =
        json!({ "summary": summary, "tags": [tag], "parameters": params, "responses": responses });
    if let Some((media, schema)) = body {
        op["requestBody"] = json!({ "required": true, "content": { media: { "schema": schema } } });
    }
    op
}

fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description })
}

fn object() -> Value {
    json!({"type": "object"})
}

const JSON: &str = "application/json";
const TAXII: &str = "application/taxii+json;version=2.1";
const LINES: &str = "text/plain";

/// The engines' paths (under `/api/v1`).
fn engine_paths() -> Value {
    let no = json!([]);
    let commodity = json!([{ "name": "commodity", "in": "query", "required": false, "schema": {"type": "string"}, "description": "Commodities, comma-separated names or USGS file codes (gallium, galli); all when absent." }]);
    let file = json!([{ "name": "file", "in": "query", "required": false, "schema": {"type": "string"}, "description": "The figures file's name, kept as provenance." }]);
    json!({
        "/api/v1/sanctions/status": { "get": operation("Loaded sanctions lists and their versions.", "sanctions", no.clone(), None, "200", JSON, object()) },
        "/api/v1/sanctions/screen": { "post": operation("Screen a name (any script) with optional schema, birth date, country and identifiers; ranked, explained hits.", "sanctions", no.clone(), Some((JSON, json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "schema": {"type": "string"}, "dob": {"type": "string"}, "country": {"type": "string"}, "identifiers": {"type": "array"}, "threshold": {"type": "number"}, "limit": {"type": "integer", "minimum": 1, "maximum": 100}}}))), "200", JSON, object()) },
        "/api/v1/sanctions/hits": { "post": operation("Publish an analyst's decision on a screening hit as a `sanctions.hit` report (analyst of this node's party).", "sanctions", no.clone(), Some((JSON, json!({"type": "object", "required": ["query", "hit", "decision"]}))), "200", JSON, json!({"$ref": "#/components/schemas/Report"})) },
        "/api/v1/sanctions/screen-id": { "post": operation("Screen an identifier (wallet address, e-mail, website, phone, SWIFT/BIC, IMO, MMSI, passport …) exactly, after its type's normalisation; the listed identifiers it equals, with entity and programmes.", "sanctions", no.clone(), Some((JSON, json!({"type": "object", "required": ["value"], "properties": {"value": {"type": "string"}, "type": {"type": "string"}}}))), "200", JSON, object()) },
        "/api/v1/sanctions/id-hits": { "post": operation("Publish an analyst's decision on an identifier hit as a `sanctions.id-hit` report (analyst of this node's party).", "sanctions", no.clone(), Some((JSON, json!({"type": "object", "required": ["query", "hit", "decision"]}))), "200", JSON, json!({"$ref": "#/components/schemas/Report"})) },
        "/api/v1/ais/nmea": { "post": operation("Ingest NMEA 0183 AIS sentences, one per line (analyst of this node's party); maritime events become reports.", "ais", no.clone(), Some((LINES, json!({"type": "string"}))), "200", JSON, object()) },
        "/api/v1/ais/status": { "get": operation("Decoder and tracker counts and the most recently heard vessels (analyst of this node's party: its own feed data).", "ais", no.clone(), None, "200", JSON, object()) },
        "/api/v1/missile/detections": { "post": operation("Fuse sensor detections (DETECTIONS.jsonl lines; analyst of this node's party); products become reports.", "missile", no.clone(), Some((LINES, json!({"type": "string"}))), "200", JSON, object()) },
        "/api/v1/missile/detections/stream": { "post": operation("A sensor's live feed: detections as a chunked body, fused and published while it lasts (outside the request timeout).", "missile", no.clone(), Some((LINES, json!({"type": "string"}))), "200", JSON, object()) },
        "/api/v1/supply/indicators": {
            "get": operation("Critical-mineral indicators per commodity and series (USGS MCS 2024, WGI): HHI, top shares, shares of concern/partners/allies, HHI_WGI, US import reliance, each with file and line (reader). 503 supply_data_unavailable without [engines.supply] data.", "supply", commodity.clone(), None, "200", JSON, object()),
            "post": operation("Publish one econ.indicator report per series of the named commodities (analyst of this node's party).", "supply", no.clone(), Some((JSON, json!({"type": "object", "required": ["commodities"], "properties": {"commodities": {"type": "array", "items": {"type": "string"}}}}))), "200", JSON, json!({"type": "object", "properties": {"reports": {"type": "array", "items": {"type": "string"}}}})),
        },
        "/api/v1/supply/ranking": { "get": operation("Series ranked by governance-weighted concentration of production (HHI_WGI), then HHI, with provenance (reader).", "supply", no.clone(), None, "200", JSON, json!({"type": "array", "items": object()})) },
        "/api/v1/supply/scenario": { "post": operation("A stop scenario (countries stop exporting commodities: share lost, partners' and allies' production and reserves, gap, each partner's exposure from the econ.figures reports the caller may see, this node's and partners', listed in `figures`) or a pool scenario; published as econ.scenario when `publish` (analyst of this node's party), in the engines' marking combined with the markings of the figures used.", "supply", no.clone(), Some((JSON, json!({"type": "object", "properties": {"scenario": {"enum": ["stop", "pool"]}, "stop": {"type": "array", "items": {"type": "string"}}, "commodities": {"type": "array", "items": {"type": "string"}}, "publish": {"type": "boolean"}}}))), "200", JSON, json!({"type": "object", "properties": {"result": object(), "report": {"type": ["string", "null"]}, "figures": {"type": "array", "items": {"type": "string"}}, "notes": {"type": "array", "items": {"type": "string"}}}})) },
        "/api/v1/supply/figures": { "post": operation("A partner's own figures as CSV (party,commodity,figure,country,value,unit,year,source; docs/economic.md), kept for scenarios and published as one econ.figures report (analyst of this node's party). 400 names the line.", "supply", file, Some(("text/csv", json!({"type": "string"}))), "200", JSON, json!({"type": "object", "properties": {"reports": {"type": "array", "items": {"type": "string"}}}})) },
    })
}

/// The TAXII 2.1 paths.
fn taxii_paths() -> Value {
    let root = path_param("root", "API root name, e.g. trilat.");
    let id = path_param("id", "Collection id or alias.");
    let object_id = path_param("object_id", "STIX object id.");
    let filters = [
        "added_after",
        "limit",
        "next",
        "match[id]",
        "match[type]",
        "match[version]",
        "match[spec_version]",
    ]
    .map(|name| json!({ "name": name, "in": "query", "required": false, "schema": {"type": "string"} }));
    let with = |mut params: Vec<Value>, more: &[Value]| {
        params.extend_from_slice(more);
        Value::Array(params)
    };
    let read = |summary: &str, params: Value| {
        operation(summary, "taxii", params, None, "200", TAXII, object())
    };
    json!({
        "/taxii2/": { "get": read("TAXII discovery.", json!([])) },
        "/taxii2/{root}/": { "get": read("An API root.", json!([root])) },
        "/taxii2/{root}/collections/": { "get": read("The API root's collections.", json!([root])) },
        "/taxii2/{root}/collections/{id}/": { "get": read("One collection.", json!([root, id])) },
        "/taxii2/{root}/collections/{id}/objects/": {
            "get": read("Objects the collection admits and the release rule lets the caller see; every page is audited.", with(vec![root.clone(), id.clone()], &filters)),
            "post": operation("Add objects (an envelope); each becomes a `cyber.stix` report of this node's party (analyst).", "taxii", json!([root, id]), Some((TAXII, object())), "202", TAXII, object()),
        },
        "/taxii2/{root}/collections/{id}/objects/{object_id}/": {
            "get": read("One object's versions the caller may see.", with(vec![root.clone(), id.clone(), object_id.clone()], &filters)),
            "delete": operation("Delete (revoke) one of this node's objects where the collection allows it (analyst).", "taxii", with(vec![root.clone(), id.clone(), object_id.clone()], &filters[5..]), None, "200", TAXII, object()),
        },
        "/taxii2/{root}/collections/{id}/objects/{object_id}/versions/": { "get": read("One object's version list.", with(vec![root.clone(), id.clone(), object_id], &filters)) },
        "/taxii2/{root}/collections/{id}/manifest/": { "get": read("The manifest of the objects the caller may see.", with(vec![root.clone(), id], &filters)) },
        "/taxii2/{root}/status/{id}/": { "get": read("The status of an earlier POST (analyst of this node's party).", json!([root, path_param("id", "Status id.")])) },
    })
}

/// The console's page and files: public (the page's data needs a token).
fn console_paths() -> Value {
    let file = json!([{ "name": "path", "in": "path", "required": true, "schema": {"type": "string"},
        "description": "A file of the console, e.g. js/app.mjs; may hold slashes (the route is /console/{*path})." }]);
    let public = |mut op: Value| {
        op["security"] = json!([]);
        op
    };
    json!({
        "/": { "get": public(operation("The web console's page.", "console", json!([]), None, "200", "text/html", json!({"type": "string"}))) },
        "/console/{path}": { "get": public(operation("A file of the web console (script, style, data, font), gzip when accepted.", "console", file, None, "200", "*/*", json!({"type": "string"}))) },
    })
}

/// Adds the engines', the TAXII server's and the console's paths to `paths`.
pub(crate) fn extend(paths: &mut Map<String, Value>) {
    for more in [engine_paths(), taxii_paths(), console_paths()] {
        if let Value::Object(more) = more {
            paths.extend(more);
        }
    }
}
