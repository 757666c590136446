//! Integration tests of trilat-store: one behavioural suite run against both
//! stores, SQLite-only checks (tampering, reopening, `kill -9`), and a
//! convergence property.

mod fixture;
mod kill9;
mod property;
mod sqlite;
mod suite;
