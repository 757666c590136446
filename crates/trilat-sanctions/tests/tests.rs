//! Integration tests: parsers and matcher on the real lists in `../shared/data` (skipped,
//! saying so, when that folder is absent).

mod real_data;
