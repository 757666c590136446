//! trilat-sanctions
#![allow(missing_docs)]
pub mod analysis;
pub mod country;
pub mod error;
pub mod hangul;
pub mod ident;
pub mod japan;
pub mod kana;
pub mod matcher;
pub mod model;
pub mod normalize;
pub mod ofac;
pub mod script;
pub mod un;
pub mod unihan;
