//! Signed peer requests: the sender signs method, path and query, its party,
//! the time and the body's SHA-256 ([`trilat_core::request_signing_bytes`])
//! with its node key; the receiver checks the party is a configured peer,
//! the time is within the allowed clock skew, the signature, and that the
//! same signature was not seen before (replay).

use std::collections::{HashSet, VecDeque};

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
/// Most request signatures remembered for replay detection. When full, the
/// oldest are forgotten early; report-level idempotency still makes a
/// replayed push change nothing.
pub const REPLAY_ENTRIES_MAX: usize = 1_000_000;

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

/// Signatures of recent requests, forgotten once older than the clock skew
/// window (older requests are refused as stale anyway).
pub struct ReplayGuard {
    window_ms: i64,
    seen: HashSet<[u8; 64]>,
    order: VecDeque<(i64, [u8; 64])>,
}

impl ReplayGuard {
    /// A guard remembering signatures for `window_ms`.
    pub fn new(window_ms: i64) -> ReplayGuard {
        ReplayGuard {
            window_ms,
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Records a signature; false if it was seen within the window.
    pub fn first_use(&mut self, signature: [u8; 64], now_ms: i64) -> bool {
        while let Some((at, old)) = self.order.front() {
            if *at >= now_ms - 2 * self.window_ms && self.order.len() < REPLAY_ENTRIES_MAX {
                break;
            }
            self.seen.remove(old);
            self.order.pop_front();
        }
        if !self.seen.insert(signature) {
            return false;
        }
        self.order.push_back((now_ms, signature));
        debug_assert_eq!(self.seen.len(), self.order.len());
        true
    }
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
    match check(state, method, path_and_query, headers, body) {
        Ok(party) => Ok(party),
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

fn check(
    state: &AppState,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Party, AppError> {
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
    let mut guard = state.replay_guard.lock().unwrap_or_else(|e| e.into_inner());
    if !guard.first_use(signature.to_bytes(), now) {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            "replay",
            "this signed request was already received",
        ));
    }
    Ok(party)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_guard_remembers_within_window() {
        let mut guard = ReplayGuard::new(1000);
        assert!(guard.first_use([1; 64], 0));
        assert!(!guard.first_use([1; 64], 10));
        assert!(guard.first_use([2; 64], 10));
        // Long after the window the entry is forgotten (the request would be stale).
        assert!(guard.first_use([1; 64], 10_000));
    }
}
