//! Integration tests of trilat-store: one behavioural suite run against
//! every store (memory, SQLite, PostgreSQL), SQLite-only checks (tampering,
//! reopening, `kill -9`), PostgreSQL-only checks (several processes on one
//! store, tampering, reopening), leases and their fence on every store, and a convergence
//! property.

mod fixture;
mod kill9;
mod lease;
mod migrate;
mod pg_server;
mod postgres;
mod postgres_tls;
mod property;
mod sqlite;
mod suite;
