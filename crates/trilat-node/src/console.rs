//! The console: the web page every node serves at `/` (a common operating
//! picture for the node's party). It is one more API client: every file is
//! static, embedded in the binary, and everything it shows comes from the
//! documented `/api/v1` routes with the user's own token.
//!
//! Files live in `crates/trilat-node/console/` (the page's own modules and
//! the vendored, pinned libraries, see `scripts/vendor-console`); they are
//! embedded with `rust-embed` (its `debug-embed` feature embeds in debug
//! builds too, so a test binary serves exactly what a release binary does,
//! and the node never reads the file system at run time).
//!
//! No request may leave the node's origin: the Content-Security-Policy
//! below allows only `'self'` (plus `blob:` workers and `data:`/`blob:`
//! images, which MapLibre creates in the page itself).

use axum::extract::Path;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, REFERRER_POLICY, VARY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::{AppError, AppState};

#[derive(rust_embed::RustEmbed)]
#[folder = "console/"]
struct Files;

/// The page may talk to its own origin only. `worker-src blob:`: MapLibre
/// starts its module worker from a `blob:` script that imports the worker
/// file from here; `img-src data: blob:`: milsymbol's symbols become `data:`
/// images and MapLibre decodes images through blobs.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data: blob:; worker-src 'self' blob:; child-src 'self' blob:; \
connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// The console's routes as the OpenAPI document lists them (for
/// [`crate::served_routes`]): `/console/{path}` is the route
/// `/console/{*path}`, whose path may hold slashes.
pub const ROUTES: &[(&str, &str)] = &[("GET", "/"), ("GET", "/console/{path}")];

/// The console's routes: unauthenticated (the page is public; its data
/// needs a token), gzip-compressed when the browser accepts it.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index_get))
        .route("/console/{*path}", get(file_get))
}

/// Each file's gzip body, compressed on its first request and kept: the
/// files change only with the binary, and compressing the ~3.4 MB of them
/// (MapLibre alone is 1 MB) on every load cost the node more than sending
/// them. Bounded by the embedded files.
fn gzipped(path: &str, data: &[u8]) -> Arc<[u8]> {
    static CACHE: Mutex<Option<HashMap<String, Arc<[u8]>>>> = Mutex::new(None);
    if let Some(body) = CACHE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashMap::new)
        .get(path)
    {
        return body.clone();
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let body: Arc<[u8]> = match encoder.write_all(data).and_then(|()| encoder.finish()) {
        Ok(bytes) => bytes.into(),
        // Writing to a Vec cannot fail; were it to, the caller sends plain bytes.
        Err(_) => return Arc::from(&[][..]),
    };
    CACHE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashMap::new)
        .insert(path.to_string(), body.clone());
    body
}

/// Whether the request's `Accept-Encoding` lists gzip (not with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            parts.next().is_some_and(|c| c.eq_ignore_ascii_case("gzip"))
                && !parts.any(|p| p.replace(' ', "") == "q=0")
        })
}

async fn index_get(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn file_get(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers)
}

/// The media type of a console file by its extension; files of any other
/// extension (notes such as `TESTING.md`, the checksum list) are not served.
fn content_type(path: &str) -> Option<&'static str> {
    let ext = path.rsplit_once('.').map(|(_, ext)| ext)?;
    Some(match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "pbf" => "application/x-protobuf",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let (Some(kind), Some(file)) = (content_type(path), Files::get(path)) else {
        return AppError::not_found(format!("no console file {path}")).into_response();
    };
    // Files change only with the binary: the content hash is the ETag, and
    // `no-cache` makes the browser revalidate (a 304 is cheap on loopback).
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let etag = HeaderValue::from_str(&etag).expect("hex is a valid header value");
    let fresh = headers
        .get(IF_NONE_MATCH)
        .is_some_and(|seen| seen.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let gzip = accepts_gzip(headers).then(|| gzipped(path, &file.data));
        let mut response = match gzip {
            Some(body) if !body.is_empty() => {
                let mut response = body.to_vec().into_response();
                response
                    .headers_mut()
                    .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                response
            }
            _ => file.data.into_owned().into_response(),
        };
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(kind));
        response
    };
    let out = response.headers_mut();
    out.insert(VARY, HeaderValue::from_static("accept-encoding"));
    out.insert(ETAG, etag);
    out.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    out.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    out.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_page_file_has_a_media_type() {
        let page: Vec<_> = Files::iter()
            .filter(|p| !p.starts_with("vendor/") && !p.ends_with(".md"))
            .collect();
        assert!(page.iter().any(|p| p == "index.html"), "{page:?}");
        for path in page {
            assert!(content_type(&path).is_some(), "{path} would not be served");
        }
    }

    #[test]
    fn gzip_bodies_are_kept_and_decode_to_the_file() {
        use std::io::Read;
        let file = Files::get("vendor/maplibre-gl.mjs").unwrap();
        let first = gzipped("vendor/maplibre-gl.mjs", &file.data);
        let again = gzipped("vendor/maplibre-gl.mjs", &file.data);
        assert!(Arc::ptr_eq(&first, &again), "compressed once");
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&first[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, file.data.as_ref());
        assert!(first.len() < file.data.len() / 2);
    }

    #[test]
    fn accept_encoding() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_static(value));
            accepts_gzip(&headers)
        };
        assert!(with("gzip, deflate, br, zstd"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(!with("br, deflate"));
        assert!(!with("gzip;q=0"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn media_types_of_modules_and_unknown_extensions() {
        assert_eq!(
            content_type("vendor/maplibre-gl.mjs"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(content_type("TESTING.md"), None);
        assert_eq!(content_type("vendor/SHA256SUMS"), None);
    }

    fn messages(lang: &str) -> serde_json::Map<String, serde_json::Value> {
        let file = Files::get(&format!("i18n/{lang}.json")).expect(lang);
        serde_json::from_slice(&file.data).unwrap_or_else(|e| panic!("i18n/{lang}.json: {e}"))
    }

    /// Every language has every message, and every message key written out
    /// in the page's modules (`t('…')`, `data-i18n="…"`) exists.
    #[test]
    fn every_language_has_every_message_the_page_uses() {
        let en = messages("en");
        for lang in ["ja", "ko"] {
            let other = messages(lang);
            let missing: Vec<_> = en.keys().filter(|k| !other.contains_key(*k)).collect();
            let extra: Vec<_> = other.keys().filter(|k| !en.contains_key(*k)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{lang}: missing {missing:?}, extra {extra:?}"
            );
        }
        let mut used = 0;
        for path in Files::iter().filter(|p| p.starts_with("js/") || p.as_ref() == "index.html") {
            let text = String::from_utf8(Files::get(&path).unwrap().data.into_owned()).unwrap();
            // Calls whose first quoted argument is a message key.
            let calls = [
                "t('",
                "status('",
                "streamState('",
                "data-i18n=\"",
                "data-i18n-label=\"",
            ];
            for open in calls {
                for (at, _) in text.match_indices(open) {
                    // `import('./x.mjs')` also ends in `t('`: not a message.
                    let before = text[..at].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rest = &text[at + open.len()..];
                    let key = &rest[..rest.find(['\'', '"']).unwrap()];
                    // `status('')` clears a line: no message.
                    assert!(
                        key.is_empty() || en.contains_key(key),
                        "{path}: no message {key:?}"
                    );
                    used += 1;
                }
            }
        }
        // setText(el, 'key', …): the key is the call's first quoted string.
        for path in Files::iter().filter(|p| p.starts_with("js/")) {
            let text = String::from_utf8(Files::get(&path).unwrap().data.into_owned()).unwrap();
            for (at, _) in text.match_indices("setText(") {
                let line = text[at..].lines().next().unwrap();
                // An element argument is looked up by its quoted id: skip it.
                let line = match line.find("getElementById(") {
                    Some(i) => &line[line[i..].find(')').map_or(line.len(), |j| i + j)..],
                    None => line,
                };
                if let Some(key) = line.split('\'').nth(1) {
                    assert!(en.contains_key(key), "{path}: no message {key:?}");
                    used += 1;
                }
            }
        }
        assert!(used > 200, "found only {used} message uses");
    }
}
