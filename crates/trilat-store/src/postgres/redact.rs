//! A PostgreSQL URL as it may be printed: without its password.

/// What stands in for a password removed from a URL.
const HIDDEN: &str = "***";

/// `url` with any password replaced by `***`: the one in the user info
/// (`postgres://user:PASSWORD@host/db`) and any `password=` parameter
/// (`?password=…`, or a `key=value` connection string). Everything else is
/// kept, so a message still says which server and database it is about.
/// Text that holds no password comes back unchanged.
pub fn redact_password(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let start = scheme_end + 3;
        let end = out[start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |idx| start + idx);
        // The last '@' of the authority ends the user info (a password may
        // hold an unescaped '@').
        if let Some(at) = out[start..end].rfind('@') {
            if let Some(colon) = out[start..start + at].find(':') {
                out.replace_range(start + colon + 1..start + at, HIDDEN);
            }
        }
    }
    let mut searched = 0;
    while let Some(found) = out[searched..].to_ascii_lowercase().find("password=") {
        let value_start = searched + found + "password=".len();
        let value_end = out[value_start..]
            .find(|c: char| c == '&' || c.is_whitespace())
            .map_or(out.len(), |idx| value_start + idx);
        out.replace_range(value_start..value_end, HIDDEN);
        searched = value_start + HIDDEN.len();
    }
    debug_assert!(searched <= out.len());
    out
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[track_caller]
    fn check(url: &str, expect: &str) {
        assert_eq!(redact_password(url), expect);
    }

    #[test]
    fn passwords_are_hidden_and_the_rest_kept() {
        check(
            "postgres://trilat:s3cret@db.example:5432/trilat",
            "postgres://trilat:***@db.example:5432/trilat",
        );
        check(
            "postgresql://u:p@ss@db/trilat?sslmode=disable",
            "postgresql://u:***@db/trilat?sslmode=disable",
        );
        check(
            "postgres://db/trilat?user=u&password=s3cret&application_name=x",
            "postgres://db/trilat?user=u&password=***&application_name=x",
        );
        check(
            "host=db user=u PASSWORD=s3cret dbname=trilat",
            "host=db user=u PASSWORD=*** dbname=trilat",
        );
        check(
            "postgres://trilat@db.example:5432/trilat",
            "postgres://trilat@db.example:5432/trilat",
        );
        check("postgres://u:@db/x", "postgres://u:***@db/x");
        check("sqlite:data/trilat.sqlite3", "sqlite:data/trilat.sqlite3");
        check("", "");
        check("password=", "password=***");
    }
}
