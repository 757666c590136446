//! Integration tests of trilat-ais: decoder comparisons with gpsd and libais
//! on their own real test files, and no-panic properties.

mod common;
mod compare_gpsd;
mod compare_libais;
mod events;
mod properties;
mod scenario;
