//! The store's typed error.

use trilat_core::ReportError;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The report breaks core's version rules (forgery, equivocation, a
    /// version after a revocation); nothing was written.
    #[error("refused: {0}")]
    Refused(#[from] ReportError),
    /// A cursor that is garbage or comes from another store.
    #[error("bad cursor: {0}")]
    BadCursor(String),
    /// A page or batch larger than the store allows.
    #[error("limit {limit} exceeds the maximum {max}")]
    LimitExceeded {
        /// What was asked for.
        limit: usize,
        /// The largest allowed.
        max: usize,
    },
    /// A malformed query, audit event or sync-state key/value.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The stored data is inconsistent (undecodable row, broken audit link).
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// The database failed; the message names the operation.
    #[error("sqlite: {0}")]
    Sqlite(String),
    /// The PostgreSQL server failed or could not be reached; the message
    /// names the operation.
    #[error("postgres: {0}")]
    Postgres(String),
    /// A write under a lease's fence ([`crate::ReportStore::fenced`]), or
    /// a renewal, after the lease expired or moved to another holder;
    /// nothing was written. The message names the lease and who holds it.
    #[error("fenced: {0}")]
    Fenced(String),
    /// The store's mutex was poisoned by a panic in another thread.
    #[error("store lock poisoned")]
    Poisoned,
}
