//! trilat-tak's one integration-test binary.
mod common;
mod cot;
mod export;
mod release;
