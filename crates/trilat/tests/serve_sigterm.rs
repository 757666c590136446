//! `trilat serve` stops cleanly on SIGTERM, as on Ctrl-C: how systemd and
//! Kubernetes stop a process. It gives up the lease of every peer link it
//! drives before it exits, so another process of the node takes the link
//! at once, not after the lease (docs/lease.md).
//!
//! On PostgreSQL (where the processes of one node share their leases; an
//! SQLite node's leases live in its one process): needs
//! `TRILAT_TEST_POSTGRES` (scripts/test starts a server), skips, saying so,
//! without it, and fails under `CI=true`. The USA node's lease is set to a
//! minute, so only a release frees it within the test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use trilat_node::config::{Config, PeerConfig};
use trilat_store::{LeaseGrant, PostgresStore, ReportStore};

mod support;
use support::Serve;

const TRILAT: &str = env!("CARGO_BIN_EXE_trilat");
/// The USA node's link lease: longer than the test, so a lease still held
/// after the stop was not released.
const LEASE_MS: u64 = 60_000;

fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// What `trilat init` printed: the `[[peers]]` entry's values and the admin token.
struct Init {
    config: PathBuf,
    public_key: String,
    cert_sha256: String,
    token: String,
}

fn init(dir: &Path, party: &str, store: &str) -> Init {
    let stdout = support::run_ok(
        Command::new(TRILAT)
            .args(["init", "--party", party, "--store", store])
            .args(["--listen", &free_addr(), "--peer-listen", &free_addr()])
            .arg("--dir")
            .arg(dir),
    );
    let value = |key: &str| {
        let line = stdout
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("init prints {key}: {stdout}"));
        line.split('"').nth(1).unwrap().to_string()
    };
    Init {
        config: dir.join("trilat.toml"),
        public_key: value("public_key"),
        cert_sha256: value("cert_sha256"),
        token: support::admin_token(&stdout),
    }
}

/// The audit log's details, read through the API with an admin token.
async fn audit_details(url: &str, token: &str) -> Vec<String> {
    let client = reqwest::Client::new();
    let Ok(response) = client
        .get(format!("{url}/api/v1/audit?limit=1000"))
        .bearer_auth(token)
        .send()
        .await
    else {
        return Vec::new();
    };
    let Ok(body) = response.json::<serde_json::Value>().await else {
        return Vec::new();
    };
    body["entries"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|entry| entry["event"]["detail"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_gives_the_link_leases_up_and_exits_cleanly() {
    let test = "sigterm_gives_the_link_leases_up_and_exits_cleanly";
    let Some(server) = support::postgres_or_skip(test, "the leases shared on PostgreSQL") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let stores: Vec<(String, String)> = ["usa", "jpn"]
        .iter()
        .map(|party| {
            let schema = format!("sigterm_{party}_{:x}", std::process::id());
            drop(PostgresStore::open_in_schema(&server, &schema).unwrap());
            let separator = if server.contains('?') { '&' } else { '?' };
            let url = format!("{server}{separator}options=-c%20search_path%3D{schema}");
            (schema, url)
        })
        .collect();
    let usa = init(&dir.path().join("usa"), "USA", &stores[0].1);
    let jpn = init(&dir.path().join("jpn"), "JPN", &stores[1].1);
    // JPN as USA's peer (nothing listens there: the link is driven, and its
    // lease taken, all the same), and a lease that outlasts the test.
    let mut config = Config::load(&usa.config).unwrap();
    let peer: PeerConfig = toml::from_str(&format!(
        "party = \"JPN\"\nurl = \"https://{}\"\npublic_key = \"{}\"\ncert_sha256 = \"{}\"",
        free_addr(),
        jpn.public_key,
        jpn.cert_sha256
    ))
    .unwrap();
    config.peers.push(peer);
    config.limits.link_lease_ms = LEASE_MS;
    let serve_config = dir.path().join("usa/serve.toml");
    std::fs::write(&serve_config, config.to_toml()).unwrap();
    let url = format!("http://{}", config.listen);

    let mut serve = Serve::start(&serve_config);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let details = audit_details(&url, &usa.token).await;
        if details
            .iter()
            .any(|d| d.starts_with("link to JPN: lease link:JPN taken by "))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "USA never took its JPN link within 60 s: {details:?}\n{}",
            serve.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    serve.terminate();
    let status = serve.exit(Duration::from_secs(30));
    let log = serve.log();
    assert!(
        status.success(),
        "serve ended by SIGTERM with {status}:\n{log}"
    );
    assert!(log.contains("stopping"), "{log}");
    assert!(log.contains("stopped"), "{log}");

    // The lease was given up: another holder gets the next tenure now,
    // not a minute from now.
    let store = PostgresStore::open_in_schema(&server, &stores[0].0).unwrap();
    let name = trilat_node::federation::lease_name(&trilat_core::Party::new("JPN").unwrap());
    match store
        .acquire_lease(&name, "USA-other-process", 10_000)
        .unwrap()
    {
        LeaseGrant::Granted(lease) => assert_eq!(lease.token, 2, "the second tenure"),
        other => panic!("the lease of the stopped process is still held: {other:?}\n{log}"),
    }
    drop(store);
    for (schema, _) in &stores {
        PostgresStore::drop_schema(&server, schema).unwrap();
    }
}
