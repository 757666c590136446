//! Integration tests of trilat-geo: fixture zones, real data (when present), properties,
//! malformed input.
mod fixture;
mod malformed;
mod properties;
mod real_data;
