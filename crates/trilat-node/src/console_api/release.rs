//! `POST /api/v1/release/preview`: before an author publishes, which
//! partners the marking would reach and, for each it would not, why. The
//! answer is the node's own release rule ([`trilat_core::Policy::preview`]),
//! the call the publish path makes, never a copy of it.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use trilat_core::{Kind, Marking, Party, Refusal};

use crate::config::Role;
use crate::{AppError, AppState, Caller, JsonBody};

/// The kind previewed when the body names none (the console writes notes).
const KIND_DEFAULT: &str = "note";

/// What the author has chosen so far.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    marking: Marking,
    /// Exercise report; accepted for the draft's shape, it does not change
    /// who receives the report (only where it is shown).
    #[serde(default, rename = "exercise")]
    _exercise: bool,
    /// The report's kind (agreements may cover only some kinds).
    #[serde(default)]
    kind: Option<Kind>,
}

/// The preview.
#[derive(Debug, Serialize)]
pub(super) struct PreviewAnswer {
    owner: Party,
    kind: Kind,
    banner: String,
    recipients: Vec<RecipientDecision>,
}

/// One partner's decision.
#[derive(Debug, Serialize)]
struct RecipientDecision {
    party: Party,
    released: bool,
    /// The refusal in English (for API clients that show it as is).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// The refusal as a stable code and its values, for clients that show
    /// it in the reader's language (the console's `release.reason_<code>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason_values: Option<BTreeMap<&'static str, String>>,
}

/// A refusal's stable code and the values its sentence names.
fn refusal_code(refusal: &Refusal) -> (&'static str, BTreeMap<&'static str, String>) {
    let values = |pairs: &[(&'static str, String)]| pairs.iter().cloned().collect();
    match refusal {
        Refusal::NotInRelTo { recipient } => {
            ("not_in_rel_to", values(&[("party", recipient.to_string())]))
        }
        Refusal::RedNotNamed { recipient } => {
            ("red_not_named", values(&[("party", recipient.to_string())]))
        }
        Refusal::NoAgreement {
            owner,
            recipient,
            kind,
            level,
        } => (
            "no_agreement",
            values(&[
                ("owner", owner.to_string()),
                ("party", recipient.to_string()),
                ("kind", kind.clone()),
                ("level", level.clone()),
            ]),
        ),
        Refusal::NotAccredited { recipient, level } => (
            "not_accredited",
            values(&[("party", recipient.to_string()), ("level", level.clone())]),
        ),
        Refusal::UnknownLevel { level } => ("unknown_level", values(&[("level", level.clone())])),
        Refusal::RelayForbidden {
            relay,
            further_sharing,
            tlp,
        } => (
            "relay_forbidden",
            values(&[
                ("relay", relay.to_string()),
                ("further_sharing", format!("{further_sharing:?}")),
                ("tlp", tlp.to_string()),
            ]),
        ),
        // A refusal added to the rule later: the English sentence only.
        _ => ("other", values(&[("reason", refusal.to_string())])),
    }
}

pub(super) async fn preview_post(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> Result<Json<PreviewAnswer>, AppError> {
    caller.require(Role::Reader)?;
    // Parsed here, not by the extractor, so a bad marking is a 400 with
    // the field named, like a bad marking on publish.
    let body: PreviewBody = serde_json::from_value(body)
        .map_err(|e| AppError::bad_request("invalid_report", format!("preview body: {e}")))?;
    let kind = match body.kind {
        Some(kind) => kind,
        None => Kind::new(KIND_DEFAULT).map_err(AppError::internal)?,
    };
    if !state.kinds.knows(&kind) {
        return Err(AppError::bad_request(
            "invalid_report",
            format!("this node does not accept reports of kind {kind}"),
        ));
    }
    let recipients = recipients(&state);
    let decisions = state
        .policy
        .preview(&state.party, &kind, &body.marking, &recipients)
        .map_err(|e| AppError::bad_request("invalid_report", e.to_string()))?;
    assert_eq!(decisions.len(), recipients.len());
    let recipients = decisions
        .into_iter()
        .map(|(party, decision)| {
            let refusal = decision.err();
            let code = refusal.as_ref().map(refusal_code);
            RecipientDecision {
                party,
                released: refusal.is_none(),
                reason: refusal.as_ref().map(Refusal::to_string),
                reason_code: code.as_ref().map(|(code, _)| *code),
                reason_values: code.map(|(_, values)| values),
            }
        })
        .collect();
    Ok(Json(PreviewAnswer {
        owner: state.party.clone(),
        kind,
        banner: body.marking.banner(),
        recipients,
    }))
}

/// Every party this node knows, its own excepted: its peers and the
/// parties its policy names.
fn recipients(state: &AppState) -> BTreeSet<Party> {
    let mut parties = state.policy.parties();
    parties.extend(state.config.peers.iter().map(|peer| peer.party.clone()));
    parties.remove(&state.party);
    debug_assert!(!parties.contains(&state.party));
    parties
}
