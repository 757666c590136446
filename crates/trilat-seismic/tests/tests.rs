//! Integration tests of trilat-seismic: the readers on ObsPy's real test
//! files (and against ObsPy's own conversion), the assessment against the
//! published table of the six declared DPRK tests, the report payloads,
//! and no-panic properties of every reader.

mod bad_input;
mod common;
mod declared;
mod properties;
mod readers;
mod report;
