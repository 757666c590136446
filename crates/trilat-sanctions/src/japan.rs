//! Japanese lists (xlsx): the Ministry of Finance asset-freeze workbook and the METI End
//! User List. Read with `calamine` from bytes; no file I/O here.

use crate::error::{Error, ErrorKind, Result};
use crate::ident;
use crate::model::{
    BirthDate, Entity, IdScheme, ListSource, ListVersion, NameQuality, Parsed, PartialDate,
    Problem, Schema,
};
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

/// Bound on rows read from one sheet.
pub const SHEET_ROWS_MAX: usize = 50_000;

fn workbook(bytes: &[u8]) -> Result<Xlsx<Cursor<&[u8]>>> {
    Xlsx::new(Cursor::new(bytes))
        .map_err(|e| Error::new(ErrorKind::Malformed, "workbook", e.to_string()))
}

fn text(cell: Option<&Data>) -> String {
    match cell {
        None | Some(Data::Empty) => String::new(),
        Some(Data::Float(f)) if f.fract() == 0.0 => format!("{}", *f as i64),
        Some(other) => other.to_string().trim().to_string(),
    }
}

/// Column positions found from a header row.
#[derive(Debug, Default)]
struct Columns {
    notice: Option<usize>,
    notice_date: Option<usize>,
    japanese: Option<usize>,
    english: Option<usize>,
    aliases: Option<usize>,
    birth: Option<usize>,
    nationality: Option<usize>,
    passport: Option<usize>,
    national_id: Option<usize>,
    address: Option<usize>,
}

fn header_columns(row: &[Data]) -> Option<Columns> {
    let mut columns = Columns::default();
    for (i, cell) in row.iter().enumerate() {
        let header = text(Some(cell));
        match header.as_str() {
            "告示番号" => columns.notice = Some(i),
            "告示日付" => columns.notice_date = Some(i),
            "日本語表記" => columns.japanese = Some(i),
            "英語表記" => columns.english = Some(i),
            "生年月日" => columns.birth = Some(i),
            "国籍" => columns.nationality = Some(i),
            "旅券番号" => columns.passport = Some(i),
            "身分証番号" => columns.national_id = Some(i),
            h if h.starts_with("別称") => columns.aliases = Some(i),
            "住所" | "所在地" | "住所・所在地" => columns.address = Some(i),
            _ => {}
        }
    }
    (columns.japanese.is_some() && columns.english.is_some()).then_some(columns)
}

const LEGAL_FORMS: &[&str] = &[
    "ltd", "ltd.", "limited", "inc", "inc.", "llc", "co", "co.", "co.,", "s.a.", "sa", "gmbh",
    "jsc", "plc", "l.l.c.",
];

/// Splits an alias cell: lines, `;`, `；`, `、`, and `, ` between names (not before a legal form).
pub fn split_aliases(cell: &str) -> Vec<String> {
    let mut out = Vec::new();
    for piece in cell.split(['\n', '\r', ';', '；', '、']) {
        let piece = piece.trim().trim_start_matches(['・', '･']).trim();
        let piece = strip_bracket_label(piece);
        if piece.is_empty() {
            continue;
        }
        let mut current = String::new();
        for part in piece.split(", ") {
            let is_legal_form = LEGAL_FORMS.contains(&part.trim().to_ascii_lowercase().as_str());
            if current.is_empty() || is_legal_form {
                if !current.is_empty() {
                    current.push_str(", ");
                }
                current.push_str(part);
            } else {
                out.push(std::mem::take(&mut current));
                current.push_str(part);
            }
        }
        if !current.trim().is_empty() {
            out.push(current.trim().to_string());
        }
    }
    out
}

/// Drops a leading `（別称）` / `(旧称)` label.
fn strip_bracket_label(text: &str) -> &str {
    for (open, close) in [('（', '）'), ('(', ')')] {
        if let Some(rest) = text.strip_prefix(open) {
            if let Some(end) = rest.find(close) {
                let label = &rest[..end];
                if label.chars().all(|c| !c.is_ascii()) {
                    return rest[end + close.len_utf8()..].trim();
                }
            }
        }
    }
    text
}

/// Reads a birth date cell: an Excel serial, `1938年`, `1966年又は1965年`, `1960年1月2日`.
fn birth_dates(cell: Option<&Data>) -> Vec<BirthDate> {
    match cell {
        Some(Data::Float(f)) => PartialDate::from_excel_serial(*f)
            .map(|date| BirthDate {
                date,
                year_to: None,
                circa: false,
            })
            .into_iter()
            .collect(),
        Some(Data::Int(i)) => PartialDate::from_excel_serial(*i as f64)
            .map(|date| BirthDate {
                date,
                year_to: None,
                circa: false,
            })
            .into_iter()
            .collect(),
        Some(Data::DateTime(dt)) => PartialDate::from_excel_serial(dt.as_f64())
            .map(|date| BirthDate {
                date,
                year_to: None,
                circa: false,
            })
            .into_iter()
            .collect(),
        Some(other) => japanese_dates(&other.to_string()),
        None => Vec::new(),
    }
}

/// Extracts `YYYY年[M月[D日]]` dates from free text; `頃`/`約` marks them approximate.
fn japanese_dates(text: &str) -> Vec<BirthDate> {
    let circa = text.contains('頃') || text.contains('約');
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let number = |i: &mut usize| -> Option<u32> {
        let start = *i;
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>().parse().ok()
    };
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let Some(year) = number(&mut i) else { break };
        if i >= chars.len() || chars[i] != '年' || !(1000..3000).contains(&year) {
            continue;
        }
        i += 1;
        let mut date = PartialDate {
            year: year as u16,
            month: None,
            day: None,
        };
        let save = i;
        if let Some(month) = number(&mut i).filter(|m| (1..=12).contains(m)) {
            if chars.get(i) == Some(&'月') {
                i += 1;
                date.month = Some(month as u8);
                let save_day = i;
                match number(&mut i).filter(|d| (1..=31).contains(d)) {
                    Some(day) if chars.get(i) == Some(&'日') => date.day = Some(day as u8),
                    _ => i = save_day,
                }
            } else {
                i = save;
            }
        } else {
            i = save;
        }
        out.push(BirthDate {
            date,
            year_to: None,
            circa,
        });
    }
    out
}

/// Parses the MOF asset-freeze workbook: every sheet with a `日本語表記`/`英語表記` header.
pub fn parse_mof(bytes: &[u8], version: &str) -> Result<Parsed> {
    let mut book = workbook(bytes)?;
    let mut entities = Vec::new();
    let mut problems = Vec::new();
    let sheet_names = book.sheet_names().to_vec();
    for (sheet_idx, sheet_name) in sheet_names.iter().enumerate() {
        let range = match book.worksheet_range(sheet_name) {
            Ok(range) => range,
            Err(e) => {
                problems.push(Problem {
                    position: format!("sheet {sheet_idx}"),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let mut columns: Option<Columns> = None;
        for (row_idx, row) in range.rows().enumerate().take(SHEET_ROWS_MAX) {
            let Some(cols) = &columns else {
                columns = header_columns(row);
                continue;
            };
            let position = format!("sheet {sheet_idx} row {}", row_idx + 1);
            match mof_row(row, cols, sheet_idx, sheet_name, position.clone()) {
                Ok(Some(entity)) => entities.push(entity),
                Ok(None) => {}
                Err(message) => problems.push(Problem { position, message }),
            }
        }
        if range.rows().len() > SHEET_ROWS_MAX {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                format!("sheet {sheet_idx}"),
                format!("more than {SHEET_ROWS_MAX} rows"),
            ));
        }
    }
    if entities.is_empty() {
        return Err(Error::new(
            ErrorKind::Malformed,
            "workbook",
            "no sheet with 日本語表記 / 英語表記 columns",
        ));
    }
    Ok(Parsed {
        list: ListVersion {
            source: ListSource::JapanMof,
            version: version.to_string(),
            entities,
        },
        problems,
    })
}

fn mof_row(
    row: &[Data],
    cols: &Columns,
    sheet_idx: usize,
    sheet_name: &str,
    position: String,
) -> std::result::Result<Option<Entity>, String> {
    let get = |c: Option<usize>| c.map(|i| text(row.get(i))).unwrap_or_default();
    let japanese = get(cols.japanese);
    let english = get(cols.english);
    if japanese.is_empty() && english.is_empty() {
        let notice = get(cols.notice);
        if notice.is_empty() {
            return Ok(None); // a blank or note row
        }
        return Err(format!("notice {notice}: no name"));
    }
    let notice = get(cols.notice);
    let notice = notice.lines().next().unwrap_or("").trim();
    let record_id = format!(
        "{sheet_idx}-{}",
        if notice.is_empty() {
            position.rsplit(' ').next().unwrap_or("")
        } else {
            notice
        }
    );
    let schema = if sheet_name.contains("個人")
        || (cols.birth.is_some() && !sheet_name.contains("団体"))
    {
        Schema::Person
    } else {
        Schema::Organization
    };
    let mut entity = Entity::new(ListSource::JapanMof, &record_id, position, schema);
    for line in english.split(['\n', ';']) {
        entity.push_name(
            line.trim(),
            if entity.names.is_empty() {
                NameQuality::Primary
            } else {
                NameQuality::Strong
            },
        );
    }
    for line in japanese.split(['\n', '；', ';']) {
        entity.push_name(
            line.trim(),
            if entity.names.is_empty() {
                NameQuality::Primary
            } else {
                NameQuality::Strong
            },
        );
    }
    for alias in split_aliases(&get(cols.aliases)) {
        entity.push_name(&alias, NameQuality::Strong);
    }
    entity.birth_dates = cols
        .birth
        .map(|i| birth_dates(row.get(i)))
        .unwrap_or_default();
    for nationality in get(cols.nationality).split(['\n', '、']) {
        entity.push_country(nationality);
    }
    for (column, scheme) in [
        (cols.passport, IdScheme::Passport),
        (cols.national_id, IdScheme::NationalId),
    ] {
        let cell = get(column);
        let first = cell
            .lines()
            .next()
            .unwrap_or("")
            .split(['（', '('])
            .next()
            .unwrap_or("")
            .trim();
        if !first.is_empty() && first.chars().any(|c| c.is_ascii_digit()) {
            entity
                .identifiers
                .push(ident::identifier(scheme, first, None, None));
        }
    }
    // IMO numbers (`IMO番号：5905801`, `IMO5434358`), e-mail, websites and telephone numbers
    // are written inside cells (remarks, addresses): every cell of the row is read for them.
    // The workbook designates no vessel as such: an IMO number here is a company's.
    for cell in row {
        ident::free_text::scan(
            &text(Some(cell)),
            IdScheme::ImoCompany,
            &mut entity.identifiers,
        );
    }
    let address = get(cols.address);
    if !address.is_empty() {
        entity.addresses.extend(
            address
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    let programme = sheet_name
        .trim()
        .split_once('.')
        .map(|(_, p)| p)
        .unwrap_or(sheet_name)
        .trim();
    entity.programmes.push(programme.to_string());
    if sheet_name.contains("北朝鮮") {
        entity.programmes.push("DPRK".to_string());
    }
    entity.listed_on = date_dotted(get(cols.notice_date).lines().next().unwrap_or(""));
    Ok(Some(entity))
}

/// `2006.9.19` → 2006-09-19.
fn date_dotted(text: &str) -> Option<PartialDate> {
    let mut parts = text.trim().split('.');
    let year = parts.next()?.parse().ok()?;
    let month = parts
        .next()?
        .parse()
        .ok()
        .filter(|m| (1..=12).contains(m))?;
    let day = parts
        .next()?
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()
        .filter(|d| (1..=31).contains(d))?;
    Some(PartialDate {
        year,
        month: Some(month),
        day: Some(day),
    })
}

/// Parses the METI End User List (first sheet: No., country, company, a.k.a., WMD type, CW).
pub fn parse_meti(bytes: &[u8], version: &str) -> Result<Parsed> {
    let mut book = workbook(bytes)?;
    let first = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| Error::new(ErrorKind::Malformed, "workbook", "no sheet"))?;
    let range = book
        .worksheet_range(&first)
        .map_err(|e| Error::new(ErrorKind::Malformed, "sheet 0", e.to_string()))?;
    if range.rows().len() > SHEET_ROWS_MAX {
        return Err(Error::new(
            ErrorKind::LimitExceeded,
            "sheet 0",
            format!("more than {SHEET_ROWS_MAX} rows"),
        ));
    }
    let mut entities = Vec::new();
    let mut problems = Vec::new();
    let mut header_seen = false;
    for (row_idx, row) in range.rows().enumerate() {
        let position = format!("row {}", row_idx + 1);
        if !header_seen {
            header_seen = text(row.first()).starts_with("No");
            continue;
        }
        let number = text(row.first());
        let company = text(row.get(2));
        if number.is_empty() && company.is_empty() {
            continue;
        }
        if company.is_empty() {
            problems.push(Problem {
                position,
                message: format!("entry {number}: no company name"),
            });
            continue;
        }
        let mut entity = Entity::new(
            ListSource::JapanMeti,
            &number,
            position,
            Schema::Organization,
        );
        for line in company.lines() {
            entity.push_name(
                line.trim(),
                if entity.names.is_empty() {
                    NameQuality::Primary
                } else {
                    NameQuality::Strong
                },
            );
        }
        for alias in split_aliases(&text(row.get(3))) {
            entity.push_name(&alias, NameQuality::Strong);
        }
        let country = text(row.get(1));
        let english = country.lines().last().unwrap_or("").trim();
        let japanese = country.lines().next().unwrap_or("").trim();
        match crate::country::iso2(english).or_else(|| crate::country::iso2(japanese)) {
            Some(code) => entity.countries.push(code.to_string()),
            None => entity.push_country(english),
        }
        let wmd = text(row.get(4));
        entity.programmes.push(format!(
            "METI-EUL {}",
            wmd.lines().last().unwrap_or("").trim()
        ));
        entities.push(entity);
    }
    if !header_seen {
        return Err(Error::new(
            ErrorKind::Malformed,
            "sheet 0",
            "no `No.` header row",
        ));
    }
    Ok(Parsed {
        list: ListVersion {
            source: ListSource::JapanMeti,
            version: version.to_string(),
            entities,
        },
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert_eq!(
            split_aliases("チョソン・A；チョスン・B\r\nChoson A;Chosun B"),
            ["チョソン・A", "チョスン・B", "Choson A", "Chosun B"]
        );
        assert_eq!(
            split_aliases(
                "Changgwang Sinyong Corporation, External Technology General Corporation"
            ),
            [
                "Changgwang Sinyong Corporation",
                "External Technology General Corporation"
            ]
        );
        assert_eq!(
            split_aliases("DES INTERNATIONAL CO., LTD."),
            ["DES INTERNATIONAL CO., LTD."]
        );
        assert_eq!(
            split_aliases("（旧称）リョンガクサン\r\nLyongaksan"),
            ["リョンガクサン", "Lyongaksan"]
        );
        assert_eq!(
            split_aliases("・Al Qaeda\r\n・The Base"),
            ["Al Qaeda", "The Base"]
        );
    }

    #[test]
    fn dates() {
        let years: Vec<u16> = japanese_dates("1966年又は1965年")
            .iter()
            .map(|b| b.date.year)
            .collect();
        assert_eq!(years, [1966, 1965]);
        assert_eq!(
            japanese_dates("1960年1月2日")[0].date.to_iso(),
            "1960-01-02"
        );
        assert_eq!(date_dotted("2006.9.19").unwrap().to_iso(), "2006-09-19");
        assert!(japanese_dates("不明").is_empty());
    }

    #[test]
    fn not_a_workbook() {
        assert_eq!(
            parse_mof(b"PK\x03\x04garbage", "v").unwrap_err().kind,
            ErrorKind::Malformed
        );
        assert_eq!(
            parse_meti(b"hello", "v").unwrap_err().kind,
            ErrorKind::Malformed
        );
    }
}
