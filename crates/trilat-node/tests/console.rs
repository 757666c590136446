//! The console as a browser fetches it, over real HTTP from a running node:
//! the page, its module graph, content types, the CSP, gzip and revalidation.
//! (The page's behaviour is tested in Chromium by tests/browser.)

use std::collections::BTreeSet;
use std::io::Read as _;

use crate::common::cluster;

async fn get(client: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = client.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Relative imports of an ES module (`from './x.mjs'`, `import('./x.mjs')`).
fn imports(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for pattern in ["from '", "import('"] {
        for (at, _) in source.match_indices(pattern) {
            let rest = &source[at + pattern.len()..];
            let spec = &rest[..rest.find('\'').unwrap()];
            if spec.starts_with("./") || spec.starts_with("../") {
                out.push(spec.to_string());
            }
        }
    }
    out
}

fn resolve(base: &str, spec: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop();
    for piece in spec.split('/') {
        match piece {
            "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[tokio::test]
async fn the_page_and_every_module_it_imports_are_served_with_their_types() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let base = cluster.node("JPN").url.clone();
    let client = reqwest::Client::new();

    let page = get(&client, &format!("{base}/"), &[]).await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    let csp = header(&page, "content-security-policy");
    assert!(csp.starts_with("default-src 'self';"), "{csp}");
    assert!(!csp.contains("http"), "CSP names no other origin: {csp}");
    let html = page.text().await.unwrap();

    // Every script and style the page names, then the module graph from main.
    let mut queue: Vec<String> = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attr) {
            let rest = &html[at + attr.len()..];
            let path = &rest[..rest.find('"').unwrap()];
            if path.starts_with("/console/") {
                queue.push(path.to_string());
            }
        }
    }
    assert!(
        queue.iter().any(|p| p == "/console/js/main.mjs"),
        "{queue:?}"
    );
    let mut seen = BTreeSet::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let response = get(&client, &format!("{base}{path}"), &[]).await;
        assert_eq!(response.status(), 200, "{path}");
        let kind = header(&response, "content-type");
        let expected = match path.rsplit_once('.').unwrap().1 {
            "mjs" | "js" => "text/javascript; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            other => panic!("{path}: unexpected .{other}"),
        };
        assert_eq!(kind, expected, "{path}");
        if path.ends_with(".mjs") && !path.contains("/vendor/") {
            let source = response.text().await.unwrap();
            for spec in imports(&source) {
                queue.push(resolve(&path, &spec));
            }
        }
    }
    assert!(seen.contains("/console/js/map.mjs"), "{seen:?}");
    assert!(seen.contains("/console/vendor/maplibre-gl.mjs"), "{seen:?}");

    for path in [
        "/console/i18n/ja.json",
        "/console/vendor/countries-50m.json",
    ] {
        let response = get(&client, &format!("{base}{path}"), &[]).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-type"), "application/json");
    }
    // Notes and unknown files are not served; the answer is the API's error.
    for path in [
        "/console/TESTING.md",
        "/console/vendor/SHA256SUMS",
        "/console/nope.js",
    ] {
        let response = get(&client, &format!("{base}{path}"), &[]).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
}

#[tokio::test]
async fn console_files_are_gzipped_on_request_and_revalidated_by_etag() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let url = format!("{}/console/vendor/maplibre-gl.mjs", cluster.node("JPN").url);
    let client = reqwest::Client::new();
    let on_disk = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/console/vendor/maplibre-gl.mjs"
    ))
    .unwrap();

    let plain = get(&client, &url, &[]).await;
    assert_eq!(header(&plain, "content-encoding"), "");
    let etag = header(&plain, "etag");
    assert_eq!(plain.bytes().await.unwrap().as_ref(), on_disk.as_slice());

    let zipped = get(&client, &url, &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&zipped, "content-encoding"), "gzip");
    let compressed = zipped.bytes().await.unwrap();
    assert!(compressed.len() < on_disk.len() / 2, "{}", compressed.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_ref())
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, on_disk);

    let again = get(&client, &url, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), 304);
    let stale = get(&client, &url, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(stale.status(), 200);
}
