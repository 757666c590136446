//! Seismic events in the node: a bulletin or feed posted by an analyst
//! (QuakeML 1.2, IMS1.0 or USGS GeoJSON, detected by `trilat_seismic::read`
//! as the CLI does) is read, every event assessed as a possible nuclear
//! test, and each event published as one `seismic.event` report and one
//! `nuclear.assessment` report (every event gets its assessment, whatever
//! its verdict: "explosion unlikely" is an answer partners ask for too).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use trilat_core::{ReportId, Timestamp};
use trilat_seismic::{assess_all, Assessment, Diagnostic, Event, Likelihood, Params};

use serde::Deserialize;

use super::{publish_finding, Finding};
use crate::{AppError, AppState, Caller};

/// Most events one request may carry (each becomes two reports); the body
/// itself is bounded by `limits.body_bytes_max`.
pub const HTTP_EVENTS_MAX: usize = 1_000;
/// Most reader diagnostics returned in one answer (the count is always whole).
const DIAGNOSTICS_MAX: usize = 100;

/// `[engines.seismic]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeismicConfig {
    /// In the demo, post a synthetic exercise event at Punggye-ri through
    /// this node's seismic ingest (one node of the demo does; the others
    /// receive its reports).
    #[serde(default)]
    pub demo_event: bool,
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/seismic/events", post(seismic_events_ingest))
}

/// What became of one event of the request.
#[derive(Debug, Serialize)]
pub struct EventOutcome {
    /// The source's event id.
    pub event_id: String,
    /// Origin time.
    pub origin_time: Timestamp,
    /// The `seismic.event` report, if published.
    pub event_report: Option<ReportId>,
    /// The `nuclear.assessment` report, if published.
    pub assessment_report: Option<ReportId>,
    /// The assessment's explosion likelihood.
    pub explosion: Likelihood,
    /// The assessment's verdict.
    pub likely_nuclear_test: bool,
    /// Distance to the Punggye-ri test site, km, when located.
    pub site_distance_km: Option<f64>,
    /// Why a report was not published (none when both were).
    pub errors: Vec<String>,
}

/// The answer of `POST /api/v1/seismic/events`.
#[derive(Debug, Serialize)]
pub struct IngestResponse {
    /// The detected format.
    pub format: Option<trilat_seismic::Format>,
    /// Every published report id (events and assessments).
    pub reports: Vec<ReportId>,
    /// One entry per event read, in input order.
    pub events: Vec<EventOutcome>,
    /// What the reader skipped (line and what), at most [`DIAGNOSTICS_MAX`].
    pub diagnostics: Vec<Diagnostic>,
    /// How many diagnostics there were in all.
    pub diagnostics_total: usize,
}

/// `POST /api/v1/seismic/events` (analyst of the node's party): the body is
/// the text of a QuakeML 1.2 document, an IMS1.0 bulletin or a USGS GeoJSON
/// feed. 400 names the line when the text cannot be read at all.
async fn seismic_events_ingest(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Json<IngestResponse>, AppError> {
    super::analyst_of_node(&state, &caller)?;
    state.engines.get()?;
    let text = utf8(&body)?;
    let answer = ingest(&state, text, &caller.name).await?;
    tracing::info!(
        by = %caller.name,
        events = answer.events.len(),
        reports = answer.reports.len(),
        "seismic events ingested"
    );
    Ok(Json(answer))
}

/// The body as text, or a 400 naming the line of the first byte that is
/// not UTF-8 (the three formats are text; a Latin-1 bulletin must be
/// converted first).
fn utf8(body: &[u8]) -> Result<&str, AppError> {
    std::str::from_utf8(body).map_err(|e| {
        let valid = &body[..e.valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        AppError::bad_request(
            "invalid_seismic_input",
            format!(
                "input, line {line}: not UTF-8 text (byte {})",
                e.valid_up_to()
            ),
        )
    })
}

/// Reads, assesses and publishes the events of `text` (the route and the
/// demo's inject both come here). `who` is for the log only.
pub(super) async fn ingest(
    state: &AppState,
    text: &str,
    who: &str,
) -> Result<IngestResponse, AppError> {
    let format = trilat_seismic::detect(text);
    let parsed = trilat_seismic::read(text)
        .map_err(|e| AppError::bad_request("invalid_seismic_input", e.to_string()))?;
    if parsed.events.len() > HTTP_EVENTS_MAX {
        return Err(AppError::bad_request(
            "too_many_events",
            format!(
                "{} events; at most {HTTP_EVENTS_MAX} per request",
                parsed.events.len()
            ),
        ));
    }
    let assessments = assess_all(&parsed.events, &Params::default());
    assert_eq!(assessments.len(), parsed.events.len());
    let mut reports = Vec::with_capacity(2 * parsed.events.len());
    let mut events = Vec::with_capacity(parsed.events.len());
    for (event, assessment) in parsed.events.iter().zip(&assessments) {
        let outcome = publish_event(state, event, assessment).await;
        reports.extend(outcome.event_report);
        reports.extend(outcome.assessment_report);
        for e in &outcome.errors {
            tracing::warn!(%e, event = %outcome.event_id, who, "seismic report not published");
        }
        events.push(outcome);
    }
    let diagnostics_total = parsed.diagnostics.len();
    let mut diagnostics = parsed.diagnostics;
    diagnostics.truncate(DIAGNOSTICS_MAX);
    Ok(IngestResponse {
        format,
        reports,
        events,
        diagnostics,
        diagnostics_total,
    })
}

/// Publishes one event and its assessment; an error on one does not stop
/// the other (it is said in the outcome).
async fn publish_event(state: &AppState, event: &Event, assessment: &Assessment) -> EventOutcome {
    assert_eq!(event.id, assessment.event_id);
    let origin_time = origin_timestamp(event);
    let mut errors = Vec::new();
    let mut published = [None, None];
    let payloads = [
        ("seismic.event", serde_json::to_value(event)),
        ("nuclear.assessment", serde_json::to_value(assessment)),
    ];
    for (slot, (kind, payload)) in payloads.into_iter().enumerate() {
        let result = match payload {
            Ok(payload) => {
                let finding = Finding {
                    engine: "seismic",
                    kind,
                    payload,
                    observed_at: origin_time,
                    // The epicentre; the uncertainty is in the payload
                    // (`origin.uncertainty`, `uncertainty_km`).
                    position: event.epicentre(),
                    marking: None,
                };
                publish_finding(state, finding).await
            }
            Err(e) => Err(AppError::internal(e)),
        };
        match result {
            Ok(report) => published[slot] = Some(report.id),
            Err(e) => errors.push(format!("{kind}: {}", e.message)),
        }
    }
    let [event_report, assessment_report] = published;
    EventOutcome {
        event_id: event.id.clone(),
        origin_time,
        event_report,
        assessment_report,
        explosion: assessment.explosion,
        likely_nuclear_test: assessment.likely_nuclear_test,
        site_distance_km: assessment.site_distance_km,
        errors,
    }
}

/// The origin time as a report timestamp: ms precision, as reports keep;
/// clamped to 1970 and later (the payload keeps the true time).
fn origin_timestamp(event: &Event) -> Timestamp {
    let ms = event.origin.time.unix_timestamp_nanos() / 1_000_000;
    Timestamp::from_unix_ms(i64::try_from(ms).unwrap_or(i64::MIN))
}
