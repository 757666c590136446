//! What the `bench` and `eval` examples share: reading list files the way
//! `trilat sanctions` does (formats detected; OFAC alt.csv applied to the
//! sdn.csv given with it), without the CLI's progress bars and list store.

use trilat_sanctions::format::{detect, Format};
use trilat_sanctions::model::{ListSource, ListVersion};
use trilat_sanctions::{japan, ofac, un};

/// The lists in `paths` (UN XML, OFAC sdn.csv and alt.csv, MOF and METI
/// xlsx). A file of another format is skipped, saying so.
pub fn load_lists(
    paths: impl IntoIterator<Item = String>,
) -> Result<Vec<ListVersion>, Box<dyn std::error::Error>> {
    let mut lists = Vec::new();
    let mut alt = Vec::new();
    for path in paths {
        let bytes = std::fs::read(&path)?;
        match detect(&path, &bytes[..bytes.len().min(4096)]) {
            Some(Format::UnXml) => lists.push(un::parse(&bytes)?.list),
            Some(Format::OfacSdn) => lists.push(ofac::parse_sdn(&bytes, "file")?.list),
            Some(Format::OfacAlt) => alt.push(bytes),
            Some(Format::JapanMof) => lists.push(japan::parse_mof(&bytes, "file")?.list),
            Some(Format::JapanMeti) => lists.push(japan::parse_meti(&bytes, "file")?.list),
            other => eprintln!("skipping {path}: {other:?}"),
        }
    }
    let mut problems = Vec::new();
    if let Some(sdn) = lists.iter_mut().find(|l| l.source == ListSource::OfacSdn) {
        for bytes in &alt {
            ofac::apply_alt(sdn, bytes, &mut problems);
        }
    }
    Ok(lists)
}
