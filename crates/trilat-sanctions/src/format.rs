//! Detecting which list format a file is, from its name and first bytes.

use serde::{Deserialize, Serialize};

/// The list formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// UN consolidated list XML.
    UnXml,
    /// OFAC `sdn.csv`.
    OfacSdn,
    /// OFAC `alt.csv`.
    OfacAlt,
    /// OFAC `add.csv`.
    OfacAdd,
    /// OFAC `sdn_comments.csv`.
    OfacComments,
    /// Japan MOF asset-freeze workbook.
    JapanMof,
    /// Japan METI End User List workbook.
    JapanMeti,
}

/// Detects the format from the file name and its first bytes (up to a few KiB).
pub fn detect(file_name: &str, head: &[u8]) -> Option<Format> {
    let name = file_name.to_ascii_lowercase();
    if head.starts_with(b"PK") {
        let meti = name.contains("meti") || name.contains("user_list") || name.contains("enduser");
        return Some(if meti {
            Format::JapanMeti
        } else {
            Format::JapanMof
        });
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('<') {
        return text.contains("CONSOLIDATED_LIST").then_some(Format::UnXml);
    }
    if name.contains("comments") {
        return Some(Format::OfacComments);
    }
    if name.contains("alt") && !name.contains("sdn") {
        return Some(Format::OfacAlt);
    }
    if name.contains("add") && !name.contains("sdn") {
        return Some(Format::OfacAdd);
    }
    let first_line = text.lines().next().unwrap_or("");
    if first_line.starts_with("ent_num,SDN_Name") {
        return Some(Format::OfacSdn);
    }
    let fields = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(first_line.as_bytes())
        .records()
        .next()?
        .ok()?;
    let numeric_first = fields
        .get(0)
        .is_some_and(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !numeric_first {
        return None;
    }
    match fields.len() {
        12 => Some(Format::OfacSdn),
        5 if matches!(
            fields
                .get(2)
                .map(|f| f.trim().to_ascii_lowercase())
                .as_deref(),
            Some("aka" | "fka" | "nka")
        ) =>
        {
            Some(Format::OfacAlt)
        }
        6 => Some(Format::OfacAdd),
        2 => Some(Format::OfacComments),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            detect("x.xml", b"<?xml version=\"1.0\"?><CONSOLIDATED_LIST>"),
            Some(Format::UnXml)
        );
        assert_eq!(detect("list.csv", b"36,\"AEROCARIBBEAN AIRLINES\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n"), Some(Format::OfacSdn));
        assert_eq!(
            detect("a.csv", b"36,12,\"aka\",\"AERO-CARIBBEAN\",-0- \r\n"),
            Some(Format::OfacAlt)
        );
        assert_eq!(
            detect("b.csv", b"36,25,-0- ,\"Havana\",\"Cuba\",-0- \r\n"),
            Some(Format::OfacAdd)
        );
        assert_eq!(
            detect("meti_list.xlsx", b"PK\x03\x04"),
            Some(Format::JapanMeti)
        );
        assert_eq!(detect("mof.xlsx", b"PK\x03\x04"), Some(Format::JapanMof));
        assert_eq!(detect("notes.txt", b"hello world"), None);
    }
}
