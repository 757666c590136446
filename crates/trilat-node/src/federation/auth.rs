//! Signed peer requests: the sender signs method, path and query, its party,
//! the time and the body's SHA-256 ([`trilat_core::request_signing_bytes`])
//! with its node key; the receiver checks the party is a configured peer,
//! the time is within the allowed clock skew, the signature, and that the
//! same signature was not seen before (replay): seen signatures are kept in
//! the store ([`trilat_store::ReportStore::note_peer_request`]) for twice
//! the skew window, so a restart does not forget them.

use axum::http::{HeaderMap, HeaderValue, Method};
use trilat_core::{request_signing_bytes, NodeKey, Party, Signature};
use trilat_store::AuditAction;

use crate::{audit_event, now_ms, AppError, AppState, Metrics};

/// Header naming the sending party.
pub const HEADER_PARTY: &str = "x-trilat-party";
/// Header with the request time, ms since the Unix epoch.
pub const HEADER_TIME: &str = "x-trilat-time";
/// Header with the base64 Ed25519 signature.
pub const HEADER_SIGNATURE: &str = "x-trilat-signature";
/// The three authentication headers of a request signed by `party`.
pub fn sign_request(
    key: &NodeKey,
    party: &Party,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    unix_ms: i64,
) -> [(&'static str, String); 3] {
    let bytes = request_signing_bytes(method, path_and_query, party.as_str(), unix_ms, body);
    [
        (HEADER_PARTY, party.to_string()),
        (HEADER_TIME, unix_ms.to_string()),
        (HEADER_SIGNATURE, key.sign(&bytes).to_string()),
    ]
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, AppError> {
    headers
        .get(name)
        .and_then(|value: &HeaderValue| value.to_str().ok())
        .ok_or_else(|| AppError::unauthorized(format!("missing or non-ASCII header {name}")))
}

/// Authenticates a peer request; returns the sending party. Every refusal
/// is audited and counted.
pub async fn verify_request(
    state: &AppState,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Party, AppError> {
    let checked = match check(state, method, path_and_query, headers, body) {
        Ok((party, signature)) => first_use(state, signature).await.map(|()| party),
        Err(e) => Err(e),
    };
    match checked {
        Ok(party) => Ok(party),
        Err(e) if e.status.is_server_error() => Err(e),
        Err(e) => {
            Metrics::bump(&state.metrics.peer_requests_refused, 1);
            let claimed = headers
                .get(HEADER_PARTY)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?")
                .chars()
                .take(16)
                .collect::<String>();
            let mut event = audit_event(
                &format!("peer:{claimed}"),
                AuditAction::Refuse,
                format!(
                    "peer request {method} {path_and_query} refused: {}",
                    e.message
                ),
            );
            event.counterparty = Party::new(&claimed).ok();
            // A refusal that cannot be recorded is answered as a fault.
            state.audit(event).await?;
            Err(e)
        }
    }
}

/// Checks a request's party, time and signature; returns the party and
/// the signature's bytes.
fn check(
    state: &AppState,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Party, [u8; 64]), AppError> {
    let party = Party::new(header(headers, HEADER_PARTY)?)
        .map_err(|e| AppError::unauthorized(e.to_string()))?;
    let peer = state
        .config
        .peers
        .iter()
        .find(|peer| peer.party == party)
        .ok_or_else(|| AppError::unauthorized(format!("{party} is not a peer of this node")))?;
    let unix_ms: i64 = header(headers, HEADER_TIME)?
        .parse()
        .map_err(|_| AppError::unauthorized("x-trilat-time is not an integer"))?;
    let now = now_ms();
    let skew = state.config.limits.clock_skew_ms_max;
    if (now - unix_ms).abs() > skew {
        return Err(AppError::unauthorized(format!(
            "request time {unix_ms} is more than {skew} ms from this node's clock {now}"
        )));
    }
    let signature = Signature::from_base64(header(headers, HEADER_SIGNATURE)?)
        .map_err(|e| AppError::unauthorized(e.to_string()))?;
    let bytes = request_signing_bytes(
        method.as_str(),
        path_and_query,
        party.as_str(),
        unix_ms,
        body,
    );
    peer.public_key.verify(&bytes, &signature).map_err(|_| {
        AppError::unauthorized(format!(
            "request signature does not verify under {party}'s key"
        ))
    })?;
    Ok((party, signature.to_bytes()))
}

/// Records the signature of an authentic request in the store (durably,
/// so a restart does not forget it) for twice the clock-skew window, the
/// longest a request stays acceptable after it was first seen; 409 if it
/// was seen before: a replay.
async fn first_use(state: &AppState, signature: [u8; 64]) -> Result<(), AppError> {
    let now = now_ms();
    let forget_before = now.saturating_sub(2 * state.config.limits.clock_skew_ms_max);
    let store = state.store.clone();
    let fresh = tokio::task::spawn_blocking(move || {
        store.note_peer_request(&signature, now, forget_before)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    if !fresh {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            "replay",
            "this signed request was already received",
        ));
    }
    Ok(())
}
