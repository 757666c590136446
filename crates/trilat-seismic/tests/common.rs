//! Where the real data lives.

use std::path::PathBuf;

/// `../shared/data/seismic/<rel>` (or under `$TRILAT_SHARED_DATA`), read to
/// a string, or `None` (the caller skips, printing that it does).
pub fn seismic_data(rel: &str) -> Option<String> {
    let root = std::env::var_os("TRILAT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    let path = root.join("seismic").join(rel);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            eprintln!(
                "SKIP: {} not readable ({e}; set TRILAT_SHARED_DATA)",
                path.display()
            );
            None
        }
    }
}

/// Asserts two floats agree to `tol`.
#[track_caller]
pub fn close(ours: f64, theirs: f64, tol: f64) {
    assert!(
        (ours - theirs).abs() <= tol,
        "ours {ours}, expected {theirs} (±{tol})"
    );
}
