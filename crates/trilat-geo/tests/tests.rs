//! Integration tests of trilat-geo: fixture zones, real data (when present), properties.
mod fixture;
