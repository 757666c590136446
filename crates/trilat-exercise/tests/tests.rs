//! Integration tests of trilat-exercise: scenario errors name the file,
//! inject and field; the shipped scenarios parse; the play plan; the
//! after-action figures from synthetic node evidence.

mod after_action;
mod injects;
mod plan;
mod scenario;
mod shipped;
