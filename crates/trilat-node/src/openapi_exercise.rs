//! The OpenAPI entries of the exercise routes ([`crate::exercise::ROUTES`]),
//! added to the document of [`crate::openapi`].

use serde_json::{json, Map, Value};

fn op(summary: &str, params: Value, body: Option<Value>, ok: &str, schema: Value) -> Value {
    let error = json!({ "$ref": "#/components/responses/Error" });
    let mut responses = json!({
        "400": error, "401": error, "403": error, "404": error, "409": error, "413": error, "422": error, "503": error,
    });
    responses[ok] = json!({ "description": "success", "content": { "application/json": { "schema": schema } } });
    let mut op = json!({ "summary": summary, "tags": ["exercise"], "parameters": params, "responses": responses });
    if let Some(schema) = body {
        op["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": schema } } });
    }
    op
}

fn run() -> Value {
    json!({ "type": "object", "required": ["run_id", "scenario", "state", "injects_done", "injects_total"], "properties": {
        "run_id": {"type": "string"}, "scenario": {"type": "string"},
        "state": {"enum": ["running", "paused", "finished"]},
        "injects_done": {"type": "integer"}, "injects_total": {"type": "integer"},
        "registered_by": {"type": "string"}, "registered_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "steered_by": {"type": "string", "description": "Who paused or resumed it last."} } })
}

fn header() -> Value {
    json!({ "type": "object", "properties": {
        "run_id": {"type": "string"}, "scenario": {"type": "string"},
        "started_at": {"type": "string", "format": "date-time"}, "published_at": {"type": "string", "format": "date-time"},
        "n_injects": {"type": "integer"}, "n_products": {"type": "integer"}, "bytes": {"type": "integer"} } })
}

fn share() -> Value {
    json!({ "type": "object", "required": ["party", "n_injects_not_shown", "report"], "properties": {
        "party": {"type": "string", "description": "The node's party: the share is cut for it."},
        "n_injects_not_shown": {"type": "integer"},
        "report": {"type": "object", "description": "The after-action report (trilat-exercise's AfterAction JSON, as `trilat exercise report` writes it), cut to what the party may see: docs/exercise.md."} } })
}

fn scenario() -> Value {
    json!({ "type": "object", "required": ["name", "description", "n_injects", "duration_s", "speed"], "properties": {
        "name": {"type": "string"}, "description": {"type": "string"},
        "n_injects": {"type": "integer"}, "duration_s": {"type": "number", "description": "Exercise seconds from the first inject to the last."},
        "speed": {"type": "number", "description": "The exercise clock's speed when the start names none."},
        "playing_run_id": {"type": "string", "description": "The run now playing it, if one is."} } })
}

fn scenario_paths() -> Value {
    let name = json!([{ "name": "name", "in": "path", "required": true, "schema": {"type": "string"}, "description": "The scenario's name." },
        { "name": "speed", "in": "query", "required": false, "schema": {"type": "number", "minimum": 1, "maximum": 1000}, "description": "Exercise seconds per wall-clock second (default: the scenario's `speed`)." }]);
    json!({
        "/api/v1/exercise/scenarios": {
            "get": op("Scenarios this node can start a play of (admin of the node's party). Only a node whose process holds every party's node and token (`trilat demo`) has any; any other answers `starter: false` and an empty list.", json!([]), None, "200",
                json!({"type": "object", "required": ["starter", "scenarios"], "properties": {"starter": {"type": "boolean"}, "scenarios": {"type": "array", "items": scenario()}}}))
        },
        "/api/v1/exercise/scenarios/{name}/start": {
            "post": op("Start a play of a scenario (admin of the node's party); audited. 202 with the run's id: the run then registers with every node like `trilat exercise run`, and publishes its after-action report at the end. 404 unknown_scenario (also on a node without a starter); 409 while a run of it plays.", name, None, "202",
                json!({"type": "object", "required": ["run_id", "scenario"], "properties": {"run_id": {"type": "string"}, "scenario": {"type": "string"}}}))
        }
    })
}

fn exercise_paths() -> Value {
    let run_id = json!([{ "name": "run_id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,159}$"}, "description": "The run's id (SCENARIO-STARTMS)." }]);
    json!({
        "/api/v1/exercise/runs": {
            "get": op("Exercise runs registered here, newest first: state and progress (analyst or admin of the node's party).", json!([]), None, "200",
                json!({"type": "object", "properties": {"runs": {"type": "array", "items": run()}}})),
            "post": op("Register a run (admin of the node's party; `trilat exercise run` does it). 409 if the id is held or 16 unfinished runs are; audited.", json!([]),
                Some(json!({"type": "object", "required": ["run_id", "scenario", "injects_total"], "additionalProperties": false, "properties": {
                    "run_id": {"type": "string"}, "scenario": {"type": "string"}, "injects_total": {"type": "integer", "minimum": 1} } })), "201", run())
        },
        "/api/v1/exercise/runs/{run_id}/progress": {
            "post": op("The runner's progress in, the control state out (admin of the node's party). The runner holds its clock while the state is paused.", run_id.clone(),
                Some(json!({"type": "object", "required": ["injects_done"], "additionalProperties": false, "properties": {
                    "injects_done": {"type": "integer"}, "finished": {"type": "boolean"} } })), "200", run())
        },
        "/api/v1/exercise/runs/{run_id}/pause": {
            "post": op("Pause the run (admin of the node's party): the runner stops injecting within a second. 409 once finished; audited.", run_id.clone(), None, "200", run())
        },
        "/api/v1/exercise/runs/{run_id}/resume": {
            "post": op("Resume the run (admin of the node's party). 409 once finished; audited.", run_id.clone(), None, "200", run())
        },
        "/api/v1/exercise/reports": {
            "get": op("After-action reports kept here (at most 32, newest first; analyst or admin of the node's party).", json!([]), None, "200",
                json!({"type": "object", "properties": {"party": {"type": "string"}, "reports_max": {"type": "integer"}, "reports": {"type": "array", "items": header()}}}))
        },
        "/api/v1/exercise/reports/{run_id}": {
            "get": op("This node's party's share of a run's after-action report (analyst or admin of the node's party); the read is audited.", run_id.clone(), None, "200",
                json!({"allOf": [share(), {"type": "object", "properties": {"published_at": {"type": "string", "format": "date-time"}}}]})),
            "put": op("Keep a run's report (admin of the node's party; `trilat exercise report --publish`). 422 invalid_report if it is another party's share or names a product, an outcome or a copy the party may not see; 413 above 4 MiB; the oldest of 32 is dropped; audited. 201 new, 200 replaced.", run_id, Some(share()), "201", header())
        }
    })
}

/// Adds the exercise routes to `paths`.
pub(crate) fn extend(paths: &mut Map<String, Value>) {
    for more in [exercise_paths(), scenario_paths()] {
        if let Value::Object(more) = more {
            paths.extend(more);
        }
    }
}
