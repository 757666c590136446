//! RFC 8785 (JSON Canonicalization Scheme) encoding: the exact bytes that
//! are signed. Delegated to `serde_json_canonicalizer`, which implements the
//! ECMAScript number formatting that JCS requires.

use serde::Serialize;

/// The value could not be encoded canonically (for example a non-finite float).
#[derive(Debug, thiserror::Error)]
#[error("canonical JSON encoding failed: {0}")]
pub struct CanonicalError(String);

/// Encodes `value` as RFC 8785 canonical JSON.
pub fn canonical_json<T: Serialize>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| CanonicalError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[track_caller]
    fn check(value: serde_json::Value, expect: &str) {
        let bytes = canonical_json(&value).unwrap();
        assert_eq!(std::str::from_utf8(&bytes).unwrap(), expect);
    }

    #[test]
    fn rfc8785_shapes() {
        check(
            json!({"b": 1, "a": [true, null]}),
            r#"{"a":[true,null],"b":1}"#,
        );
        check(json!({"n": 1.0e21}), r#"{"n":1e+21}"#);
        check(
            json!({"n": 0.5, "s": "\u{e9}"}),
            "{\"n\":0.5,\"s\":\"\u{e9}\"}",
        );
        check(json!({"€": 1, "a": 2}), "{\"a\":2,\"€\":1}");
    }
}
