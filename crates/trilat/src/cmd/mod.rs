//! One module per command family; `main.rs` only dispatches.
pub mod ais;
pub mod cyber;
pub mod exercise;
pub mod migrate;
pub mod missile;
pub mod node;
pub mod report_export;
pub mod sanctions;
pub mod seismic;
pub mod supply;
