//! The reading every headed CSV of this crate shares: size bound, byte-order
//! mark, header, columns by name, rows with their 1-based line and the row
//! bound, each error naming the file and line.

use csv::StringRecord;

use crate::error::{check_len, strip_bom, DataError, ROWS_MAX};

/// A headed CSV file being read.
pub(crate) struct Headed<'a> {
    file: &'a str,
    /// The header row.
    pub headers: StringRecord,
    reader: csv::Reader<&'a [u8]>,
}

impl<'a> Headed<'a> {
    /// Opens `text` (named `file` in errors) and reads its header.
    pub fn open(file: &'a str, text: &'a str, trim: bool) -> Result<Headed<'a>, DataError> {
        check_len(file, text)?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(if trim {
                csv::Trim::All
            } else {
                csv::Trim::None
            })
            .from_reader(strip_bom(text).as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| DataError::new(file, 1, format!("not CSV: {e}")))?
            .clone();
        Ok(Headed {
            file,
            headers,
            reader,
        })
    }

    /// The index of column `name`, or an error naming it.
    pub fn column(&self, name: &str) -> Result<usize, DataError> {
        self.headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| DataError::new(self.file, 1, format!("no column {name:?}")))
    }

    /// The data rows with their 1-based lines, at most [`ROWS_MAX`].
    pub fn rows(self) -> impl Iterator<Item = Result<(usize, StringRecord), DataError>> + 'a {
        let file = self.file;
        self.reader
            .into_records()
            .enumerate()
            .map(move |(n, record)| {
                let line = n + 2;
                if n >= ROWS_MAX {
                    return Err(DataError::new(
                        file,
                        line,
                        format!("more than {ROWS_MAX} rows"),
                    ));
                }
                record
                    .map(|r| (line, r))
                    .map_err(|e| DataError::new(file, line, format!("not CSV: {e}")))
            })
    }
}
