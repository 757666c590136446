//! Integration tests: parsers and matcher on the real lists in `../shared/data` (skipped,
//! saying so, when that folder is absent), the named examples, and no-panic properties.

mod eval_set;
mod fast_path;
mod fuzz;
mod identifiers;
mod legal_forms;
mod mof_own_names;
mod named;
mod real_data;
mod retrieval;
mod scripts;
