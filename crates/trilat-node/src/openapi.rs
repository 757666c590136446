//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`, written by
//! hand (no derive machinery to compile); a test checks it lists exactly the
//! routes of [`crate::served_routes`] (the engines' and TAXII's entries are
//! in [`crate::openapi_domain`]).

use serde_json::{json, Value};

fn error_responses() -> Value {
    json!({
        "400": { "$ref": "#/components/responses/Error" },
        "401": { "$ref": "#/components/responses/Error" },
        "403": { "$ref": "#/components/responses/Error" },
        "404": { "$ref": "#/components/responses/Error" },
        "413": { "$ref": "#/components/responses/Error" },
        "503": { "$ref": "#/components/responses/Error" }
    })
}

fn op(summary: &str, tag: &str, params: Value, body: Option<&str>, ok: (&str, Value)) -> Value {
    let mut responses = error_responses();
    responses[ok.0] =
        json!({ "description": "success", "content": { "application/json": { "schema": ok.1 } } });
    let mut operation = json!({
        "summary": summary,
        "tags": [tag],
        "parameters": params,
        "responses": responses,
    });
    if let Some(schema) = body {
        operation["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
        });
    }
    operation
}

fn param(name: &str, location: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": location, "required": location == "path", "schema": schema, "description": description })
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn peer_headers() -> Vec<Value> {
    vec![
        param(
            "x-trilat-party",
            "header",
            json!({"type": "string"}),
            "Sending party (a configured peer).",
        ),
        param(
            "x-trilat-time",
            "header",
            json!({"type": "integer"}),
            "Request time, ms since the Unix epoch.",
        ),
        param(
            "x-trilat-signature",
            "header",
            json!({"type": "string"}),
            "Base64 Ed25519 signature over the request signing bytes.",
        ),
    ]
}

/// The document.
pub fn document() -> Value {
    // A report is its owner and its id: two parties may use one id.
    let owner = param(
        "owner",
        "path",
        json!({"type": "string", "pattern": "^[A-Z]{3}(-[A-Z0-9]{1,12})?$"}),
        "The report's owner (party code, e.g. USA or JPN-JCG).",
    );
    let id = param(
        "id",
        "path",
        json!({"type": "string", "format": "uuid"}),
        "The report's id (UUIDv7), unique per owner.",
    );
    let cursor = param(
        "cursor",
        "query",
        json!({"type": "string"}),
        "Opaque cursor from a previous page.",
    );
    let limit = param(
        "limit",
        "query",
        json!({"type": "integer", "minimum": 1, "maximum": 1000}),
        "Page size.",
    );
    let no_params = json!([]);
    let console = console_paths(&owner, &id, &limit);
    let mut peer_changes_params = peer_headers();
    peer_changes_params.push(cursor.clone());
    peer_changes_params.push(limit.clone());
    let unauthenticated = |mut op: Value| {
        op["security"] = json!([]);
        op
    };
    let health = unauthenticated(op(
        "Liveness; no token needed.",
        "node",
        no_params.clone(),
        None,
        ("200", json!({"type": "object"})),
    ));
    let openapi = unauthenticated(op(
        "This document; no token needed.",
        "node",
        no_params.clone(),
        None,
        ("200", json!({"type": "object"})),
    ));
    let push = unauthenticated(op(
        "Receive a batch of reports from a peer (signed request).",
        "peer",
        json!(peer_headers()),
        Some("PushBody"),
        ("200", schema_ref("ReceiveSummary")),
    ));
    let peer_changes = unauthenticated(op(
        "Serve this node's change feed to a peer, filtered by the send rule (signed request).",
        "peer",
        json!(peer_changes_params),
        None,
        ("200", schema_ref("PeerChangesPage")),
    ));
    let mut seismic_events = op(
        "Read seismic events (QuakeML 1.2, IMS1.0 or USGS GeoJSON text; the format is detected), assess each as a possible nuclear test, and publish one seismic.event and one nuclear.assessment report per event (analyst of the node's party). 400 invalid_seismic_input names the line.",
        "engines",
        no_params.clone(),
        None,
        ("200", schema_ref("SeismicIngest")),
    );
    let seismic_ingest = json!({ "type": "object", "properties": { "format": {"enum": ["quakeml", "ims1", "usgs-geojson", null]}, "reports": {"type": "array", "items": {"type": "string"}}, "events": {"type": "array", "items": {"type": "object", "properties": { "event_id": {"type": "string"}, "origin_time": {"type": "string", "format": "date-time"}, "event_report": {"type": ["string", "null"]}, "assessment_report": {"type": ["string", "null"]}, "explosion": {"enum": ["unlikely", "possible", "likely"]}, "likely_nuclear_test": {"type": "boolean"}, "site_distance_km": {"type": ["number", "null"]}, "errors": {"type": "array", "items": {"type": "string"}} } }}, "diagnostics": {"type": "array", "items": {"type": "object", "properties": {"line": {"type": "integer"}, "what": {"type": "string"}}}}, "diagnostics_total": {"type": "integer"} } });
    seismic_events["requestBody"] = json!({
        "required": true,
        "content": { "text/plain": { "schema": {"type": "string"} }, "application/xml": { "schema": {"type": "string"} }, "application/json": { "schema": {"type": "object"} } }
    });
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Trilat node API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Signed, marked reports shared between partner nodes. Every read passes the release rule for the token's party. Errors are {\"error\": {\"code\", \"message\"}}."
        },
        "security": [{ "bearer": [] }],
        "paths": {
            "/healthz": { "get": health },
            "/metrics": { "get": op("Prometheus metrics (admin token).", "node", no_params.clone(), None, ("200", json!({"type": "string"}))) },
            "/api/v1/openapi.json": { "get": openapi },
            "/api/v1/whoami": { "get": op("The token's party, role and name.", "node", no_params.clone(), None, ("200", json!({"type": "object"}))) },
            "/api/v1/reports": {
                "post": op("Create a report from a draft (analyst). The node fills id, owner, times and signature.", "reports", no_params.clone(), Some("DraftBody"), ("201", schema_ref("ReportBody"))),
                "get": op("Query current versions visible to the token's party.", "reports", json!([
                    param("kind", "query", json!({"type": "string"}), "Report kind, e.g. note."),
                    param("owner", "query", json!({"type": "string"}), "Owner party code."),
                    param("from", "query", json!({"type": "string", "format": "date-time"}), "Observed at or after."),
                    param("to", "query", json!({"type": "string", "format": "date-time"}), "Observed before."),
                    param("bbox", "query", json!({"type": "string"}), "west,south,east,north in degrees."),
                    param("exercise", "query", json!({"type": "boolean"}), "Only exercise (true) or real-world (false) reports."),
                    param("include_revoked", "query", json!({"type": "boolean"}), "Include revoked reports."),
                    param("include_withdrawn", "query", json!({"type": "boolean"}), "Include copies the owner withdrew from this node (for auditors)."),
                    cursor.clone(), limit.clone()
                ]), None, ("200", schema_ref("ReportsPage")))
            },
            "/api/v1/reports/{owner}/{id}": {
                "get": op("The current version (and with history=true every visible version) of owner's report id.", "reports", json!([owner.clone(), id.clone(), param("history", "query", json!({"type": "boolean"}), "Include every version.")]), None, ("200", schema_ref("ReportBody"))),
                "put": op("Issue a new version of one of this node's reports (analyst; owner must be the node's party, else 403).", "reports", json!([owner.clone(), id.clone()]), Some("DraftBody"), ("200", schema_ref("ReportBody")))
            },
            "/api/v1/reports/{owner}/{id}/revoke": {
                "post": op("Revoke one of this node's reports (analyst; owner must be the node's party, else 403); propagates like any version.", "reports", json!([owner, id]), None, ("200", schema_ref("ReportBody")))
            },
            "/api/v1/changes": { "get": op("The change feed: every stored version visible to the token's party, in store order.", "reports", json!([cursor, limit]), None, ("200", schema_ref("ChangesPage"))) },
            "/api/v1/withdrawals": { "get": op("The withdrawal log: each withdrawal this node recorded of a report the token's party may see (versions below `version` withdrawn by their owner, from `received_at`), oldest first; what a replay of a past moment needs besides the change feed.", "reports", json!([param("after", "query", json!({"type": "integer"}), "Entries after this place in the log (the previous page's `next`)."), limit.clone()]), None, ("200", schema_ref("WithdrawalsPage"))) },
            "/api/v1/stream": { "get": op("Server-sent events of newly visible reports (event `report`, the report), of copies their owner withdrew (event `withdrawn`, `{id, owner, version}`: versions below `version` are gone), `lagged` (events skipped: catch up from the change feed) and `error`; exercise and real-world reports are never mixed.", "reports", json!([param("exercise", "query", json!({"type": "boolean"}), "Stream exercise reports (default false: real-world only).")]), None, ("200", json!({"type": "string", "contentMediaType": "text/event-stream"}))) },
            "/api/v1/audit": { "get": op("The audit log (admin).", "audit", json!([param("after", "query", json!({"type": "integer"}), "Entries after this sequence."), limit]), None, ("200", json!({"type": "object", "properties": {"entries": {"type": "array", "items": schema_ref("AuditEntry")}}}))) },
            "/api/v1/audit/verify": { "get": op("Recompute the audit hash chain (admin).", "audit", no_params, None, ("200", schema_ref("AuditVerification"))) },
            "/api/v1/demo/replay": { "post": op("Start the node's exercise story again (admin; demo nodes only, else 404 no_route). Answers 202 with the new run's schedule.", "node", json!([]), None, ("202", schema_ref("DemoSchedule"))) },
            "/api/v1/seismic/events": { "post": seismic_events },
            "/peer/v1/push": { "post": push },
            "/peer/v1/changes": { "get": peer_changes }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "API token bound to a party and a role (reader, analyst, admin)." } },
            "responses": {
                "Error": { "description": "An error", "content": { "application/json": { "schema": schema_ref("Error") } } }
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": { "code": {"type": "string"}, "message": {"type": "string"} } } } },
                "Marking": { "type": "object", "required": ["level", "tlp", "rel_to", "further_sharing"], "properties": {
                    "level": {"type": "string"}, "tlp": {"enum": ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]},
                    "rel_to": {"type": "array", "items": {"type": "string"}}, "further_sharing": {"enum": ["none", "within-rel-to"]} } },
                "DraftBody": { "type": "object", "required": ["kind", "marking", "payload"], "additionalProperties": false, "properties": {
                    "kind": {"type": "string"}, "marking": schema_ref("Marking"), "payload": {}, "geometry": {"type": "object"},
                    "observed_at": {"type": "string", "format": "date-time"}, "exercise": {"type": "boolean"} } },
                "Report": { "type": "object", "properties": {
                    "id": {"type": "string"}, "owner": {"type": "string"}, "kind": {"type": "string"}, "version": {"type": "integer"},
                    "modified": {"type": "string"}, "created_at": {"type": "string"}, "observed_at": {"type": "string"},
                    "geometry": {"type": "object"}, "marking": schema_ref("Marking"), "exercise": {"type": "boolean"},
                    "payload": {}, "revoked": {"type": "boolean"}, "signature": {"type": "string"} } },
                "ReportBody": { "type": "object", "properties": { "report": schema_ref("Report"), "history": {"type": "array", "items": schema_ref("Report")}, "withdrawal": schema_ref("Withdrawal") } },
                "Withdrawal": { "type": "object", "required": ["id", "owner", "version", "signature"], "properties": { "id": {"type": "string", "format": "uuid"}, "owner": {"type": "string"}, "version": {"type": "integer"}, "signature": {"type": "string"} } },
                "ReportsPage": { "type": "object", "properties": { "reports": {"type": "array", "items": schema_ref("Report")}, "next": {"type": ["string", "null"]} } },
                "ChangesPage": { "type": "object", "properties": { "changes": {"type": "array", "items": {"type": "object", "properties": {"seq": {"type": "integer"}, "report": schema_ref("Report")}}}, "next": {"type": "string"}, "more": {"type": "boolean"} } },
                "WithdrawalsPage": { "type": "object", "properties": { "withdrawals": {"type": "array", "items": {"type": "object", "required": ["seq", "owner", "id", "version", "received_at"], "properties": {"seq": {"type": "integer"}, "owner": {"type": "string"}, "id": {"type": "string", "format": "uuid"}, "version": {"type": "integer"}, "received_at": {"type": ["string", "null"], "format": "date-time"}}}}, "next": {"type": "integer"}, "more": {"type": "boolean"} } },
                "PeerChangesPage": { "type": "object", "properties": { "reports": {"type": "array", "items": schema_ref("Report")}, "withdrawals": {"type": "array", "items": schema_ref("Withdrawal")}, "next": {"type": "string"}, "more": {"type": "boolean"} } },
                "PushBody": { "type": "object", "required": ["reports"], "properties": { "reports": {"type": "array", "items": schema_ref("Report")}, "withdrawals": {"type": "array", "items": schema_ref("Withdrawal")} } },
                "ReceiveSummary": { "type": "object", "properties": { "stored": {"type": "integer"}, "duplicate": {"type": "integer"}, "refused": {"type": "array", "description": "[report, code] pairs; report is OWNER/uuid.", "items": {"type": "array", "items": {"type": "string"}}}, "withdrawn": {"type": "integer"} } },
                "AuditEntry": { "type": "object", "properties": { "seq": {"type": "integer"}, "event": {"type": "object"}, "prev_hash": {"type": "string"}, "hash": {"type": "string"} } },
                "DemoSchedule": { "type": "object", "properties": { "started_at": {"type": "string", "format": "date-time"}, "launch_at": {"type": ["string", "null"], "format": "date-time"}, "maritime_from": {"type": ["string", "null"], "format": "date-time"}, "maritime_to": {"type": ["string", "null"], "format": "date-time"}, "seismic_at": {"type": ["string", "null"], "format": "date-time"} } },
                "SeismicIngest": seismic_ingest,
                "AuditVerification": { "type": "object", "properties": { "entries": {"type": "integer"}, "first_broken": {"type": ["integer", "null"]} } }
            }
        }
    });
    for (path, operations) in console["paths"].as_object().expect("an object") {
        document["paths"][path] = operations.clone();
    }
    for (name, schema) in console["schemas"].as_object().expect("an object") {
        document["components"]["schemas"][name] = schema.clone();
    }
    if let Some(paths) = document["paths"].as_object_mut() {
        crate::openapi_domain::extend(paths);
        crate::openapi_exercise::extend(paths);
    }
    document
}

/// The console's routes (`console_api`) and their schemas, kept apart from
/// [`document`]'s literal (one `json!` of everything passes the macro's
/// recursion limit).
fn console_paths(owner: &Value, id: &Value, limit: &Value) -> Value {
    let no_params = json!([]);
    let peer_party = param(
        "party",
        "path",
        json!({"type": "string"}),
        "The peer's party code, e.g. JPN.",
    );
    let paths = json!({
            "/api/v1/release/preview": { "post": op("Preview the release rule for a marking: which partners a report of this node's party would reach, and why not (reader).", "console", no_params.clone(), Some("PreviewBody"), ("200", schema_ref("ReleasePreview"))) },
            "/api/v1/reports/{owner}/{id}/acknowledge": { "post": op("Acknowledge a report the token's party may see (reader); recorded in the audit log (action acknowledge). Body {} or {\"note\": \"...\"}.", "console", json!([owner, id]), None, ("200", schema_ref("Acknowledgement"))) },
            "/api/v1/acknowledgements": { "get": op("Acknowledgements of reports the token's party may see, newest first, from the recent audit log (reader).", "console", json!([limit]), None, ("200", json!({"type": "object", "properties": {"acknowledgements": {"type": "array", "items": schema_ref("Acknowledgement")}}}))) },
            "/api/v1/federation/peers": { "get": op("Each peer's link: state, last contact, push queue and pull lag (reader).", "console", no_params.clone(), None, ("200", schema_ref("FederationPeers"))) },
            "/api/v1/federation/leases": { "get": op("The node's single-owner work (peer links link:<PARTY>, AIS partitions ais:<k>, the AIS cross-vessel detection ais:cross-vessel, missile sensor groups missile:<group>) and the process holding each lease (admin); with several processes on one store every process answers the same, this_process marking its own.", "console", no_params.clone(), None, ("200", schema_ref("FederationLeases"))) },
            "/api/v1/federation/peers/{party}/suspend": { "post": op("Cut the federation link to this peer (admin): this node stops pushing to and pulling from it and answers its peer requests 503 link_suspended until resumed; audited (action other, counterparty the peer). 404 for a party that is not a configured peer. Not persisted: a restart restores every link.", "console", json!([peer_party.clone()]), None, ("200", schema_ref("FederationLink"))) },
            "/api/v1/federation/peers/{party}/resume": { "post": op("Restore the federation link to this peer (admin); both sides catch up from their pull cursors. Audited like suspend.", "console", json!([peer_party]), None, ("200", schema_ref("FederationLink"))) },
            "/api/v1/geo/zones": { "get": op("The maritime zones the engines use, as a GeoJSON FeatureCollection (reader).", "console", no_params.clone(), None, ("200", json!({"type": "object", "description": "GeoJSON FeatureCollection; properties id, name, kind, party, approximate, disputed, source, engines."}))) },
            "/api/v1/ais/vessels": { "get": op("The node's own AIS picture: vessels most recently heard first, with trails (reader of the node's party).", "console", json!([
                param("bbox", "query", json!({"type": "string"}), "west,south,east,north in degrees."),
                param("limit", "query", json!({"type": "integer", "minimum": 1, "maximum": 10000}), "Vessels at most (default 1000)."),
                param("since", "query", json!({"type": "integer"}), "Only vessels last heard at or after this time (unix milliseconds); total still counts all in bbox."),
                param("trail", "query", json!({"type": "boolean"}), "Whether each vessel carries its trail (default true).")
            ]), None, ("200", schema_ref("AisVessels"))) }
    });
    let schemas = json!({
                "PreviewBody": { "type": "object", "required": ["marking"], "additionalProperties": false, "properties": {
                    "marking": schema_ref("Marking"), "exercise": {"type": "boolean"}, "kind": {"type": "string", "description": "Default note."} } },
                "ReleasePreview": { "type": "object", "properties": {
                    "owner": {"type": "string"}, "kind": {"type": "string"}, "banner": {"type": "string"},
                    "recipients": {"type": "array", "items": {"type": "object", "required": ["party", "released"], "properties": {
                        "party": {"type": "string"}, "released": {"type": "boolean"}, "reason": {"type": "string", "description": "The refusal in English."},
                        "reason_code": {"enum": ["not_in_rel_to", "red_not_named", "no_agreement", "not_accredited", "unknown_level", "relay_forbidden", "other"], "description": "The refusal as a stable code, for clients that translate it."},
                        "reason_values": {"type": "object", "additionalProperties": {"type": "string"}, "description": "The values the refusal names (party, owner, kind, level, relay, further_sharing, tlp; reason for `other`)."} } } } } },
                "Acknowledgement": { "type": "object", "required": ["report_id", "report_owner", "version", "by", "at"], "properties": {
                    "report_id": {"type": "string"}, "report_owner": {"type": "string"}, "version": {"type": "integer"}, "by": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"}, "note": {"type": "string"} } },
                "FederationLeases": { "type": "object", "properties": { "party": {"type": "string"}, "this_process": {"type": "string", "description": "This process's lease holder name, PARTY-PID-RANDOM."}, "leases": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "holder": {"type": "string"}, "token": {"type": "integer", "description": "The last tenure's fencing token."},
                    "remaining_ms": {"type": "integer", "description": "How long the lease still runs unless renewed; 0 when expired or released."},
                    "held": {"type": "boolean"}, "this_process": {"type": "boolean"}}}}}},
                "FederationPeers": { "type": "object", "properties": { "party": {"type": "string"}, "peers": {"type": "array", "items": {"type": "object", "properties": {
                    "party": {"type": "string"}, "url": {"type": "string"}, "state": {"enum": ["up", "degraded", "down", "unknown", "suspended"]},
                    "last_contact": {"type": ["string", "null"]},
                    "push": {"type": "object", "properties": {"queued": {"type": "integer"}, "last_ok": {"type": ["string", "null"]}, "last_error": {"type": ["string", "null"]}}},
                    "pull": {"type": "object", "properties": {"last_ok": {"type": ["string", "null"]}, "last_error": {"type": ["string", "null"]}, "behind": {"type": ["integer", "null"]}}} } } } } },
                "FederationLink": { "type": "object", "required": ["peer", "suspended", "changed"], "properties": {
                    "peer": {"type": "string"}, "suspended": {"type": "boolean", "description": "Whether the link is now suspended."},
                    "changed": {"type": "boolean", "description": "Whether this request changed it (false: it already was)."} } },
                "AisVessels": { "type": "object", "properties": { "exercise": {"type": "boolean"}, "total": {"type": "integer"}, "vessels": {"type": "array", "items": {"type": "object", "properties": {
                    "mmsi": {"type": "integer"}, "name": {"type": ["string", "null"]}, "callsign": {"type": ["string", "null"]}, "imo": {"type": ["integer", "null"]},
                    "flag": {"type": ["string", "null"]}, "ship_type": {"type": ["string", "null"]}, "lat": {"type": "number"}, "lon": {"type": "number"},
                    "sog_kn": {"type": ["number", "null"]}, "cog_deg": {"type": ["number", "null"]}, "heading_deg": {"type": ["integer", "null"]},
                    "last_seen": {"type": "string", "format": "date-time"},
                    "trail": {"type": "array", "description": "Absent with trail=false.", "items": {"type": "array", "description": "[lon, lat, unix_ms]"}} } } } } }
    });
    json!({"paths": paths, "schemas": schemas})
}
