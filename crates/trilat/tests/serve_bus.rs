//! The shipped binary as one node run as several processes (docs/scale.md):
//! two `trilat serve` processes of one JPN node, configured by `trilat init
//! --store postgres://… --bus nats://…`, on one PostgreSQL schema and one
//! NATS JetStream bus. A note posted at either process is read at the
//! other, and reaches both processes' live streams once; both stop cleanly
//! on SIGTERM. The node tests' second pass runs the library on that setup;
//! this runs the binary a party installs.
//!
//! Needs `TRILAT_TEST_POSTGRES` and `TRILAT_TEST_NATS` (scripts/test starts
//! both); skips, saying so, without them, and fails under `CI=true`.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use trilat_node::config::Config;
use trilat_store::PostgresStore;

mod support;
use support::Serve;

const TRILAT: &str = env!("CARGO_BIN_EXE_trilat");
/// How long a process may take to start, and a note to reach a stream
/// (generous: a loaded 2-core machine).
const WAIT_MAX: Duration = Duration::from_secs(60);

fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// The test's schema and bus namespace, removed on drop (a failed
/// assertion too).
struct Leftovers {
    postgres: String,
    schema: String,
    nats: String,
    namespace: String,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        if let Err(e) = PostgresStore::drop_schema(&self.postgres, &self.schema) {
            eprintln!("schema {} not dropped: {e}", self.schema);
        }
        let namespaces = vec![self.namespace.clone()];
        if let Err(e) = trilat_node::bus::delete_namespace_streams(&self.nats, namespaces) {
            eprintln!("streams of {} not deleted: {e}", self.namespace);
        }
    }
}

/// The `(owner/id, times seen)` of the reports on a process's live stream
/// since it was subscribed.
type Seen = Arc<Mutex<BTreeMap<String, usize>>>;

/// Subscribes to the live stream at `url`; returns once subscribed (the
/// answer's head came, so what is stored from now on is on it).
async fn subscribe(client: &reqwest::Client, url: &str, token: &str) -> Seen {
    let response = client
        .get(format!("{url}/api/v1/stream"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let seen = Seen::default();
    let sink = seen.clone();
    tokio::spawn(async move {
        let mut response = response;
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                if !event.lines().any(|line| line == "event: report") {
                    continue;
                }
                let data: String = (event.lines())
                    .filter_map(|line| line.strip_prefix("data: "))
                    .collect();
                let report: Value = serde_json::from_str(&data).unwrap();
                let (owner, id) = (report["owner"].as_str(), report["id"].as_str());
                let key = format!("{}/{}", owner.unwrap(), id.unwrap());
                *sink.lock().unwrap().entry(key).or_default() += 1;
            }
        }
    });
    seen
}

/// Posts a note at `url`; its `owner/id` as the stream shows it.
async fn post_note(client: &reqwest::Client, url: &str, token: &str, text: &str) -> String {
    let response = client
        .post(format!("{url}/api/v1/reports"))
        .bearer_auth(token)
        .json(&json!({
            "kind": "note",
            "marking": {"level": "UNCLASSIFIED", "tlp": "GREEN", "rel_to": ["JPN"],
                        "further_sharing": "none"},
            "payload": {"text": text},
        }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    let (owner, id) = (
        body["report"]["owner"].as_str(),
        body["report"]["id"].as_str(),
    );
    format!("{}/{}", owner.unwrap(), id.unwrap())
}

/// Waits (at most [`WAIT_MAX`]) until `done`; the failure says `what` and
/// shows both processes' logs.
async fn wait_for(what: &str, serves: &[&Serve], mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        let logs: Vec<String> = serves.iter().map(|serve| serve.log()).collect();
        assert!(
            start.elapsed() < WAIT_MAX,
            "{what} within {WAIT_MAX:?}:\n{logs:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_on_postgres_and_nats_share_reports_and_live_streams() {
    let test = "two_serve_processes_on_postgres_and_nats_share_reports_and_live_streams";
    let untested = "the binary as two processes on PostgreSQL and NATS";
    let Some((postgres, nats)) = support::postgres_and_nats_or_skip(test, untested) else {
        return;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let id = format!("{}x{nanos:08x}", std::process::id());
    let leftovers = Leftovers {
        schema: format!("serve_bus_{id}"),
        namespace: format!("sb{id}"),
        postgres: postgres.clone(),
        nats: nats.clone(),
    };
    drop(PostgresStore::open_in_schema(&postgres, &leftovers.schema).unwrap());
    let store = trilat_node::cluster::postgres_url_in_schema(&postgres, &leftovers.schema);
    let dir = tempfile::tempdir().unwrap();
    let stdout = support::run_ok(
        Command::new(TRILAT)
            .args(["init", "--party", "JPN", "--store", &store, "--bus", &nats])
            .args(["--listen", &free_addr(), "--peer-listen", &free_addr()])
            .arg("--dir")
            .arg(dir.path()),
    );
    let token = support::admin_token(&stdout);
    // Each process gets its own copy of the config with its own addresses
    // (docs/scale.md); the namespace keeps the test's streams its own.
    let mut config = Config::load(&dir.path().join("trilat.toml")).unwrap();
    config.bus_namespace = Some(leftovers.namespace.clone());
    let mut urls = Vec::new();
    let mut serves = Vec::new();
    for name in ["a", "b"] {
        config.listen = free_addr().parse().unwrap();
        config.tls.listen = Some(free_addr().parse().unwrap());
        let path = dir.path().join(format!("serve-{name}.toml"));
        std::fs::write(&path, config.to_toml()).unwrap();
        urls.push(format!("http://{}", config.listen));
        serves.push(Serve::start(&path));
    }
    let client = reqwest::Client::new();
    for (url, serve) in urls.iter().zip(&serves) {
        let start = Instant::now();
        loop {
            let answer = client.get(format!("{url}/healthz")).send().await;
            if answer.is_ok_and(|answer| answer.status().is_success()) {
                break;
            }
            let log = serve.log();
            assert!(start.elapsed() < WAIT_MAX, "{url} never answered:\n{log}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let streams = [
        subscribe(&client, &urls[0], &token).await,
        subscribe(&client, &urls[1], &token).await,
    ];
    let serve_refs: Vec<&Serve> = serves.iter().collect();

    let at_a = post_note(&client, &urls[0], &token, "posted at process A").await;
    let at_b = post_note(&client, &urls[1], &token, "posted at process B").await;
    for (stream, name) in streams.iter().zip(["A", "B"]) {
        wait_for(
            &format!("both notes on process {name}'s live stream"),
            &serve_refs,
            || {
                let seen = stream.lock().unwrap();
                seen.contains_key(&at_a) && seen.contains_key(&at_b)
            },
        )
        .await;
    }
    // The other process reads it from the store they share.
    let read = client
        .get(format!("{}/api/v1/reports/{at_a}", urls[1]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status().as_u16(), 200, "A's note read at B");
    // A later note on both streams: the two before it came once each (a
    // copy delivered twice would have come before it, in the feed's order).
    let later = post_note(&client, &urls[0], &token, "a later note").await;
    for stream in &streams {
        wait_for("the later note on both streams", &serve_refs, || {
            stream.lock().unwrap().contains_key(&later)
        })
        .await;
        let seen = stream.lock().unwrap().clone();
        assert_eq!((seen[&at_a], seen[&at_b]), (1, 1), "{seen:?}");
    }

    for serve in &serves {
        serve.terminate();
    }
    for serve in &mut serves {
        let status = serve.exit(Duration::from_secs(30));
        assert!(status.success(), "SIGTERM: {status}\n{}", serve.log());
    }
    drop(serves);
    drop(leftovers);
}
