//! Exercises: the scenario file, the exercise clock, the play plan and the
//! after-action report. Pure: data in, findings out; no I/O, no clock.
//!
//! - [`Scenario::parse`] reads a scenario (TOML, `docs/exercise.md`) and
//!   names the file, the inject and the field of anything wrong.
//! - [`plan`] turns it into timed [`Step`]s, each one request a sensor or
//!   an analyst would make to a node (publish a report, send radar
//!   detections, send AIS lines); a missile launch becomes the simulator's
//!   detections, a seismic inject the bulletin of [`bulletin()`], a
//!   sanctions hit a screening and its confirmation. Injects the runner
//!   cannot play yet are refused, never skipped.
//! - [`ExerciseClock`] maps wall-clock time to exercise time at a speed
//!   factor, with pause and resume.
//! - [`after_action`] builds the report from what the nodes hold (their
//!   exercise reports and the `receive` entries of their audit logs) and
//!   the runner's [`RunRecord`]; [`html::render`] draws it as one page.
//!
//! The `trilat exercise` command is the glue: it sends the steps to the
//! nodes' public APIs and reads their stores and audit logs back.
//!
//! ```
//! use trilat_exercise::{plan, Scenario};
//!
//! let text = r#"
//! name = "drill"
//! description = "One note, then a mistake."
//!
//! [[inject]]
//! at_s = 0
//! type = "note"
//! party = "USA"
//! text = "EXERCISE: STARTEX"
//! marking = { level = "UNCLASSIFIED", tlp = "GREEN", rel_to = ["TRILAT"] }
//! "#;
//! let scenario = Scenario::parse("drill.toml", text).unwrap();
//! assert_eq!(plan(&scenario, 0).unwrap().len(), 1);
//!
//! let wrong = text.replace("GREEN", "PINK");
//! let error = Scenario::parse("drill.toml", &wrong).unwrap_err();
//! assert!(error.to_string().contains("inject 1"), "{error}");
//! assert!(error.to_string().contains("marking.tlp"), "{error}");
//! ```
#![deny(missing_docs)]

pub mod after_action;
pub mod bulletin;
pub mod clock;
pub mod html;
pub mod plan;
pub mod scenario;
pub mod share;
pub mod vessels;

pub use after_action::{
    after_action, Acknowledgement, AfterAction, Evidence, NodeEvidence, Receipt, RunRecord,
};
pub use bulletin::bulletin;
pub use clock::ExerciseClock;
pub use plan::{plan, PlanError, Step, StepAction};
pub use scenario::{Action, Inject, Scenario, ScenarioError};
pub use share::{check_share, share_for, PartyShare};
