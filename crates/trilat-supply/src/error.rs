//! What a reader says about bad input: the file, the 1-based line and what.

use serde::{Deserialize, Serialize};

/// A file that could not be read: which file, which line, what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{file}, line {line}: {what}")]
pub struct DataError {
    /// The file name as the caller gave it (the USGS or World Bank name).
    pub file: String,
    /// 1-based line (0: the whole file).
    pub line: usize,
    /// What was wrong, in words.
    pub what: String,
}

impl DataError {
    pub(crate) fn new(file: &str, line: usize, what: impl Into<String>) -> DataError {
        DataError {
            file: file.to_string(),
            line,
            what: what.into(),
        }
    }
}

/// Something a reader could not use and went on (a row whose country has
/// no ISO code, a value it could not read): the file, line and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// File name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What, in words.
    pub what: String,
}

/// Largest file a reader accepts, bytes (the largest USGS world file is
/// 30 kB, the WGI file 450 kB).
pub const FILE_LEN_MAX: usize = 16 * 1024 * 1024;
/// Most data rows one file may hold.
pub const ROWS_MAX: usize = 100_000;

/// Refuses a file longer than [`FILE_LEN_MAX`].
pub(crate) fn check_len(file: &str, text: &str) -> Result<(), DataError> {
    if text.len() > FILE_LEN_MAX {
        return Err(DataError::new(
            file,
            0,
            format!("{} bytes, more than {FILE_LEN_MAX}", text.len()),
        ));
    }
    Ok(())
}

/// The text without a leading UTF-8 byte-order mark (the USGS files have one).
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}
