//! Differential fuzzing of `trilat_core::verify_batch` (hand-written Ed25519
//! batch verification) against `ed25519_dalek`'s `verify_strict`: the bytes
//! choose up to 64 items — honest, mixed-order and small-order keys, repeated
//! keys, non-canonical encodings, small-order and mixed-order R, non-canonical
//! S, random and duplicated signatures — and every verdict must be the strict
//! one, up to the documented corner (`differential::check`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use trilat_core::differential::{check, Case};

fuzz_target!(|bytes: &[u8]| {
    let case = Case::from_bytes(bytes);
    if let Err(disagreement) = check(&case) {
        panic!("verify_batch disagrees with verify_strict: {disagreement}");
    }
});
