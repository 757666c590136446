//! Where the real data lives, and the dataset read once.

use std::path::PathBuf;
use std::sync::OnceLock;

use trilat_supply::Dataset;

/// `../shared/data/supply` (or under `$TRILAT_SHARED_DATA`), if present.
pub fn supply_dir() -> Option<PathBuf> {
    let root = std::env::var_os("TRILAT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    let dir = root.join("supply");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP: {} absent (set TRILAT_SHARED_DATA); real-data supply tests not run",
            dir.display()
        );
        None
    }
}

/// One file of the supply data, as text.
pub fn read(rel: &str) -> Option<String> {
    let path = supply_dir()?.join(rel);
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The 77 world files, the reliance figure and the WGI, read once.
pub fn dataset() -> Option<&'static Dataset> {
    static DATA: OnceLock<Option<Dataset>> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = supply_dir()?;
        let mut texts = Vec::new();
        for sub in ["usgs_mcs2024/world", "usgs_mcs2024/industry_trends", "wgi"] {
            for entry in std::fs::read_dir(dir.join(sub)).expect("data dir") {
                let path = entry.expect("entry").path();
                if path.extension().is_some_and(|e| e == "csv") {
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    texts.push((name, std::fs::read_to_string(&path).expect("utf-8 file")));
                }
            }
        }
        Some(
            Dataset::from_files(texts.iter().map(|(n, t)| (n.as_str(), t.as_str())))
                .expect("the real files read"),
        )
    })
    .as_ref()
}

/// Asserts two floats agree to `tol`.
#[track_caller]
pub fn close(ours: f64, theirs: f64, tol: f64) {
    assert!(
        (ours - theirs).abs() <= tol,
        "ours {ours}, expected {theirs} (±{tol})"
    );
}
