//! Identifiers written in prose: the UN list's `COMMENTS1` ("… IMO number: 5571322.",
//! "Email: a@b.c; d@e.f", "Telephone: +850-2-18111") and the cells of Japan's MOF workbook
//! ("IMO5434358", "メールアドレス：…"). Each is handed to the typed parser
//! ([`super::identifier`]), so what these lists write is validated like OFAC's remarks.

use crate::model::{IdScheme, Identifier};

/// Bound on identifiers taken from one text (the longest UN comment holds about a dozen).
pub const FREE_TEXT_IDS_MAX: usize = 64;

/// Labels after which telephone or fax numbers follow, as the UN and MOF write them.
const PHONE_LABELS: [&str; 9] = [
    "Telephone numbers:",
    "Telephone number:",
    "Telephone:",
    "Tel.:",
    "Tel.",
    "Phone",
    "Fax:",
    "Facsimile number:",
    "Mobile:",
];

/// Labels after which a website follows.
const WEBSITE_LABELS: [&str; 2] = ["Website:", "website:"];

/// Pushes the identifiers written in `text` to `out` (validated, kept when invalid, no
/// duplicates). `imo_scheme` says whether an IMO number here is a ship's or a company's: the
/// lists give both after the same word.
pub fn scan(text: &str, imo_scheme: IdScheme, out: &mut Vec<Identifier>) {
    debug_assert!(matches!(
        imo_scheme,
        IdScheme::ImoShip | IdScheme::ImoCompany
    ));
    let folded = fold_full_width(text);
    let text = folded.as_ref();
    let n_before = out.len();
    let mut push = |scheme: IdScheme, value: &str| {
        if out.len() - n_before >= FREE_TEXT_IDS_MAX {
            return;
        }
        let id = super::identifier(scheme, value, None, None);
        if !id.value.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    };
    for number in imo_numbers(text) {
        push(imo_scheme, number);
    }
    for token in text.split(|c: char| c.is_whitespace() || ";,()<>\"'：；、。".contains(c)) {
        if token.contains('@') {
            push(IdScheme::Email, token.trim_start_matches(['.', ':']));
        }
    }
    for label in WEBSITE_LABELS {
        for (at, _) in text.match_indices(label) {
            let rest = text[at + label.len()..].trim_start();
            let site = rest
                .split(|c: char| c.is_whitespace() || c == ')' || c == ';' || c == ',')
                .next()
                .unwrap_or("");
            if !site.is_empty() {
                push(IdScheme::Website, site);
            }
        }
    }
    for label in PHONE_LABELS {
        for (at, _) in text.match_indices(label) {
            for number in phone_numbers(&text[at + label.len()..]) {
                push(IdScheme::Phone, number);
            }
        }
    }
    debug_assert!(out.len() - n_before <= FREE_TEXT_IDS_MAX);
}

/// `text` with full-width ASCII (`ＩＭＯ番号：５５７１３２２`, as Japanese cells write it) as
/// ASCII; borrowed when there is none.
fn fold_full_width(text: &str) -> std::borrow::Cow<'_, str> {
    const FULL_WIDTH: std::ops::RangeInclusive<char> = '\u{FF01}'..='\u{FF5E}';
    if !text.chars().any(|c| FULL_WIDTH.contains(&c)) {
        return text.into();
    }
    text.chars()
        .map(|c| match FULL_WIDTH.contains(&c) {
            true => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            false => c,
        })
        .collect::<String>()
        .into()
}

/// The digits after each `IMO` (a word of its own, then optionally `)`, `Number`, `No.`,
/// `番号`, `:`).
fn imo_numbers(text: &str) -> impl Iterator<Item = &str> + '_ {
    text.match_indices("IMO").filter_map(move |(at, _)| {
        let word_start = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        if !word_start {
            return None;
        }
        let mut rest = text[at + 3..].trim_start_matches([')', ' ', ':', '：']);
        for word in ["Number", "number", "No.", "no.", "番号"] {
            if let Some(after) = rest.strip_prefix(word) {
                rest = after.trim_start_matches([' ', ':', '：']);
            }
        }
        let n_digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        (n_digits > 0).then(|| &rest[..n_digits])
    })
}

/// The numbers in the run of telephone characters at the start of `rest`, split at `,`, `;`
/// and `/` ("+850-2-381-4410/4416" gives the second as written, and it fails as too short).
fn phone_numbers(rest: &str) -> impl Iterator<Item = &str> + '_ {
    let rest = rest.trim_start_matches([' ', ':']);
    let run_len = rest
        .find(|c: char| !(c.is_ascii_digit() || " +-().,;/".contains(c)))
        .unwrap_or(rest.len());
    rest[..run_len]
        .split([',', ';', '/'])
        .map(|n| n.trim().trim_end_matches(['.', '(', ' ']))
        .filter(|n| n.bytes().filter(u8::is_ascii_digit).count() >= 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expect: &[(IdScheme, &str, bool)]) {
        let mut out = Vec::new();
        scan(text, IdScheme::ImoCompany, &mut out);
        let got: Vec<(IdScheme, &str, bool)> = out
            .iter()
            .map(|id| (id.scheme, id.value.as_str(), id.invalid.is_none()))
            .collect();
        assert_eq!(got, expect, "{text}");
    }

    #[test]
    fn scans() {
        use IdScheme::*;
        check(
            "Registered owner of CHON MYONG 1. IMO number: 5571322.",
            &[(ImoCompany, "5571322", true)],
        );
        check(
            "Ocean Maritime Management (IMO) Number: 1790183.",
            &[(ImoCompany, "1790183", true)],
        );
        check(
            "Company Number IMO 5434358.",
            &[(ImoCompany, "5434358", true)],
        );
        check("IMO5878589", &[(ImoCompany, "5878589", true)]);
        check(
            "船舶管理会社、IMO番号：5905801",
            &[(ImoCompany, "5905801", true)],
        );
        check("ＩＭＯ番号：5571322", &[(ImoCompany, "5571322", true)]);
        // MOF wrote two numbers as one: kept, and marked.
        check(
            "IMO番号：51792455405737",
            &[(ImoCompany, "51792455405737", false)],
        );
        check(
            "humura2020@gmail.com。同団体に対する",
            &[(Email, "humura2020@gmail.com", true)],
        );
        check("IMO number: 5571323.", &[(ImoCompany, "5571323", false)]);
        check("SALIMOVICH KHALIMOV IMO", &[]);
        check(
            "Email addresses: pac@silibank.com and kndic@co.chesin.com.",
            &[
                (Email, "pac@silibank.com", true),
                (Email, "kndic@co.chesin.com", true),
            ],
        );
        check(
            "Website: http://www.behinehco.ir) [Old Reference #",
            &[(Website, "behinehco.ir", true)],
        );
        check(
            "Telephone: +850-2-18111-8208. Fax: +850-2-381-4410/4416. Email: daesong@star-co.net.kp.",
            &[
                (Email, "daesong@star-co.net.kp", true),
                (Phone, "8502181118208", true),
                (Phone, "85023814410", true),
                (Phone, "4416", false),
            ],
        );
    }
}
