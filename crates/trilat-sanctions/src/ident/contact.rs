//! E-mail addresses, websites and telephone numbers: lookup forms and structure checks.
//!
//! Lookup forms are what two spellings of the same identifier share: e-mail and website in
//! lower case (mail providers and DNS ignore case), a website without its scheme, `www.` and
//! trailing `/`, a telephone number as its digits without an international `00` or `+`.

/// Longest e-mail address (RFC 5321: 254 in a path).
const EMAIL_LEN_MAX: usize = 254;

/// Lower-cased, trimmed e-mail; a trailing `.` (end of an OFAC remark) dropped.
pub fn email_normalise(text: &str, out: &mut String) {
    let text = super::trim_remark(text);
    out.extend(text.chars().map(|c| c.to_ascii_lowercase()));
}

/// `local@domain.tld`: one `@`, a non-empty local part, a domain of dot-separated labels of
/// letters, digits and `-`, a top-level label of letters.
pub fn email_check(value: &str) -> Result<(), String> {
    if value.len() > EMAIL_LEN_MAX {
        return Err(format!("longer than {EMAIL_LEN_MAX} characters"));
    }
    let Some((local, domain)) = value.split_once('@') else {
        return Err("no @".into());
    };
    if local.is_empty() || local.contains(char::is_whitespace) {
        return Err("empty or spaced local part".into());
    }
    domain_check(domain)
}

fn domain_check(domain: &str) -> Result<(), String> {
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(format!("domain {domain:?} has no top-level label"));
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!("domain label {label:?} is not a DNS label"));
        }
    }
    let tld = labels.last().copied().unwrap_or("");
    if tld.len() < 2 || !tld.chars().all(char::is_alphabetic) {
        return Err(format!("top-level label {tld:?} is not letters"));
    }
    Ok(())
}

/// Host and path in lower case, without scheme, `www.`, or trailing `/` and `.`.
pub fn website_normalise(text: &str, out: &mut String) {
    let mut text = text.trim_start();
    // Until none is left, so that the lookup form is a fixed point (`http://www.x` → `x`).
    while let Some(prefix) = ["https://", "http://", "www."].into_iter().find(|p| {
        text.len() >= p.len() && text.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
    }) {
        text = text[prefix.len()..].trim_start();
    }
    let text = text.trim_end_matches(|c: char| c == '/' || c == '.' || c.is_whitespace());
    out.extend(text.chars().map(|c| c.to_ascii_lowercase()));
}

/// A normalised website: its host is a domain name.
pub fn website_check(value: &str) -> Result<(), String> {
    let host = value.split('/').next().unwrap_or("");
    domain_check(host)
}

/// The digits of a telephone number, without an international `00` (the `+` is dropped with
/// the other punctuation).
pub fn phone_normalise(text: &str, out: &mut String) {
    let start = out.len();
    out.extend(text.chars().filter(char::is_ascii_digit));
    let zeros = out[start..].bytes().take_while(|b| *b == b'0').count();
    // International prefix `00` (pairs only, so a lone trunk `0` stays).
    out.replace_range(start..start + zeros / 2 * 2, "");
}

/// 6 to 15 digits (ITU-T E.164 allows 15; shorter ones are local numbers as listed).
pub fn phone_check(value: &str) -> Result<(), String> {
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not digits".into());
    }
    if !(6..=15).contains(&value.len()) {
        return Err(format!("{} digits, expected 6 to 15 (E.164)", value.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(normalise: fn(&str, &mut String), text: &str) -> String {
        let mut out = String::new();
        normalise(text, &mut out);
        out
    }

    #[test]
    fn forms_and_checks() {
        assert_eq!(form(email_normalise, " Info@Arrai.TV."), "info@arrai.tv");
        assert!(email_check("info@arrai.tv").is_ok());
        assert!(email_check("info@arrai").is_err());
        assert!(email_check("info.arrai.tv").is_err());
        assert_eq!(form(website_normalise, "WWW.BNTD.BY"), "bntd.by");
        assert_eq!(
            form(website_normalise, "https://www.vrbank.com.vn/en/"),
            "vrbank.com.vn/en"
        );
        assert!(website_check("vrbank.com.vn/en").is_ok());
        assert!(website_check("vrbank").is_err());
        assert_eq!(form(phone_normalise, "+98 (21) 8852-6300"), "982188526300");
        assert_eq!(form(phone_normalise, "009613679153"), "9613679153");
        assert!(phone_check("982188526300").is_ok());
        assert!(phone_check("12345").is_err());
    }
}
