//! The version rules both stores apply, on top of core's
//! [`Report::supersedes`], so that [`crate::MemoryStore`] and
//! [`crate::SqliteStore`] cannot drift apart.

use trilat_core::{Report, ReportError, Signature};

/// Where an incoming version goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Already held, byte for byte: write nothing.
    Duplicate,
    /// The new current version (and into history).
    Current,
    /// An older version than the current one: history only.
    HistoryOnly,
}

/// Decides where `incoming` goes, given the current version of its report
/// (same owner and id; if any) and, when `incoming` is older than the current one, the signature
/// already stored under `incoming`'s counter (if any).
///
/// `held_same_counter` is only consulted for older versions; the caller
/// looks it up only when `incoming.version < current.version`.
pub(crate) fn place(
    incoming: &Report,
    current: Option<&Report>,
    held_same_counter: impl FnOnce() -> Result<Option<Signature>, crate::StoreError>,
) -> Result<Placement, crate::StoreError> {
    let Some(current) = current else {
        return Ok(Placement::Current);
    };
    debug_assert!(incoming.same_report(current));
    if incoming.supersedes(current)? {
        debug_assert!(incoming.version > current.version);
        return Ok(Placement::Current);
    }
    if incoming.version == current.version {
        // supersedes refused a different signature; same signature = duplicate.
        debug_assert_eq!(incoming.signature, current.signature);
        return Ok(Placement::Duplicate);
    }
    debug_assert!(incoming.version < current.version);
    match held_same_counter()? {
        Some(signature) if signature == incoming.signature => Ok(Placement::Duplicate),
        Some(_) => Err(ReportError::VersionConflict {
            id: incoming.id,
            counter: incoming.version,
        }
        .into()),
        None => {
            // Seen from the current version, the older one must be a valid
            // predecessor: not a revocation, modified strictly earlier.
            if current.supersedes(incoming)? {
                Ok(Placement::HistoryOnly)
            } else {
                Err(ReportError::Malformed(format!(
                    "version {} of {} does not precede version {}",
                    incoming.version,
                    incoming.key(),
                    current.version
                ))
                .into())
            }
        }
    }
}
