//! Integration tests of trilat-supply: the readers on the real USGS MCS 2024
//! data release and World Bank WGI files (skipped, saying so, when
//! `../shared/data` is absent), indicators against hand-computed values and
//! against USGS's own salient-statistics table, scenarios, and bad input.

mod bad_input;
mod common;
mod real_data;
mod scenarios;
mod wgi_wide;
