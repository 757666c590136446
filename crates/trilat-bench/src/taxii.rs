//! TAXII 2.1 page latency over HTTP: a USA node in this process, `cyber.stix`
//! reports in its store, read by a JPN reader so the release rule runs on
//! every record.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use trilat_core::{Marking, Party, Policy, Timestamp, Tlp};
use trilat_node::config::{generate_token, token_sha256, Config, Limits, Role, TokenConfig};
use trilat_node::AppState;

use crate::measure::process_cpu;
use crate::nodes;

/// Generated indicators after the MITRE objects: one chunk in this many is
/// released to USA only, so JPN's reads skip records.
const USA_ONLY_EVERY: usize = 10;
/// Objects per bundle (and store batch) while loading.
const LOAD_CHUNK: usize = 1000;
/// `objects/{id}/` GETs timed after the walks.
const OBJECT_GETS: usize = 200;
/// Bound on the pages of one walk: a collection of the bench's size has far fewer.
const WALK_PAGES_MAX: usize = 100_000;
/// The MITRE ATT&CK bundles loaded first, under `<data>/cyber/mitre_attack`.
const MITRE_BUNDLES: [&str; 2] = [
    "enterprise-attack-v18_dprk-groups_subset.stix21.json",
    "ics-attack-18.1.json",
];

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Reports to load (MITRE objects first, then generated indicators).
    pub n_objects: usize,
    /// Objects per page (`limit`, ≥ 1).
    pub limit: usize,
    /// Full walks of the collection, each followed by an `added_after` walk (≥ 1).
    pub rounds: usize,
    /// The shared data directory (for the MITRE ATT&CK bundles).
    pub data: PathBuf,
}

/// What was measured; wall times in milliseconds, each list sorted.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Reports stored before the walks.
    pub n_loaded: usize,
    /// Objects one walk returns to JPN.
    pub n_visible: usize,
    /// Every GET of the timed walks (full and `added_after`).
    pub page_wall_ms: Vec<f64>,
    /// GETs of pages that came back with `limit` objects (full walks only).
    pub full_page_wall_ms: Vec<f64>,
    /// Process CPU (server and client together) over the timed walks.
    pub walks_cpu: Duration,
    /// Wall time of the timed walks.
    pub walks_wall: Duration,
    /// `objects/{id}/?match[version]=all` GETs (a 404 for objects not released to JPN).
    pub object_by_id_wall_ms: Vec<f64>,
}

/// Runs the bench on its own runtime, in a temporary directory removed afterwards.
pub fn run(spec: &Spec) -> anyhow::Result<Figures> {
    anyhow::ensure!(
        spec.limit > 0 && spec.rounds > 0,
        "--limit and --rounds must be positive"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(nodes::in_temp_dir("taxii", |dir| async move {
        run_in(&dir, spec).await
    }))
}

async fn run_in(dir: &Path, spec: &Spec) -> anyhow::Result<Figures> {
    let jpn_token = generate_token();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = open_usa_node(dir, addr, &jpn_token)?;
    let texts = bench_objects(&spec.data, spec.n_objects);
    let loading = Instant::now();
    let n_loaded = tokio::task::block_in_place(|| load_reports(&state, &texts))?;
    eprintln!(
        "bench-taxii: {n_loaded} reports stored in {:.1} s",
        loading.elapsed().as_secs_f64()
    );
    let _node = trilat_node::serve_on(state, listener).await?;
    let reader = Reader {
        http: reqwest::Client::new(),
        token: jpn_token,
        collection: format!(
            "http://{addr}/taxii2/trilat/collections/{}",
            trilat_node::taxii::DEFAULT_COLLECTION_ALIAS
        ),
    };
    let objects = format!("{}/objects/?limit={}", reader.collection, spec.limit);
    // One unmeasured walk: the first read catches the TAXII index up.
    let mut warm = Vec::new();
    let n_visible = reader.walk(&objects, &mut warm).await?;
    let halfway = warm
        .get(warm.len() / 2)
        .and_then(|p| p.date_added_last.clone())
        .context("no page to take added_after from")?;
    let after_url = format!("{objects}&added_after={halfway}");
    let mut pages = Vec::new();
    let mut after_pages = Vec::new();
    let cpu_started = process_cpu();
    let wall_started = Instant::now();
    for _ in 0..spec.rounds {
        let n_seen = reader.walk(&objects, &mut pages).await?;
        if n_seen != n_visible {
            bail!("a walk saw {n_seen} objects, the first {n_visible}");
        }
        reader.walk(&after_url, &mut after_pages).await?;
    }
    let walks_cpu = process_cpu().saturating_sub(cpu_started);
    let walks_wall = wall_started.elapsed();
    let object_by_id_wall_ms = reader.objects_by_id(&texts).await?;
    let mut full_page_wall_ms: Vec<f64> = pages
        .iter()
        .filter(|p| p.n_objects == spec.limit)
        .map(|p| p.wall_ms)
        .collect();
    let mut page_wall_ms: Vec<f64> = pages
        .iter()
        .chain(&after_pages)
        .map(|p| p.wall_ms)
        .collect();
    full_page_wall_ms.sort_by(f64::total_cmp);
    page_wall_ms.sort_by(f64::total_cmp);
    Ok(Figures {
        n_loaded,
        n_visible,
        page_wall_ms,
        full_page_wall_ms,
        walks_cpu,
        walks_wall,
        object_by_id_wall_ms,
    })
}

/// A USA node (SQLite store under `dir`) with one token: a JPN reader.
fn open_usa_node(
    dir: &Path,
    addr: std::net::SocketAddr,
    jpn_token: &str,
) -> anyhow::Result<AppState> {
    let config = Config {
        party: Party::new("USA").expect("constant party"),
        listen: addr,
        data_dir: dir.join("data"),
        key_file: dir.join("node.key"),
        policy: Policy::trilateral_default(),
        tls: Default::default(),
        peers: Vec::new(),
        parties: Vec::new(),
        tokens: vec![TokenConfig {
            sha256: token_sha256(jpn_token),
            party: Party::new("JPN").expect("constant party"),
            role: Role::Reader,
            name: "jpn-reader".into(),
        }],
        limits: Limits::default(),
        taxii: None,
        engines: None,
        tak: Vec::new(),
        store: None,
        bus: None,
        bus_namespace: None,
        bus_tls: None,
    };
    config.validate()?;
    std::fs::create_dir_all(dir)?;
    trilat_node::cluster::write_node_files(dir, &config, &trilat_core::NodeKey::generate())?;
    Ok(trilat_node::open(config)?)
}

/// The object texts to load: MITRE ATT&CK objects (when the shared data is
/// there), then generated indicators, `n_objects` in all.
fn bench_objects(data: &Path, n_objects: usize) -> Vec<String> {
    let mut texts = Vec::with_capacity(n_objects);
    for name in MITRE_BUNDLES {
        let path = data.join("cyber/mitre_attack").join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!(
                "bench-taxii: {} is absent; generated objects only",
                path.display()
            );
            continue;
        };
        if let Ok(parsed) = trilat_cyber::parse_bundle(&text, |_, _| {}) {
            texts.extend(parsed.entries.into_iter().map(|e| e.text));
        }
    }
    texts.truncate(n_objects);
    for idx in texts.len()..n_objects {
        let (a, b, c) = ((idx >> 16) & 0xff, (idx >> 8) & 0xff, idx & 0xff);
        texts.push(format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{idx:08x}-5b7d-4c9e-8f0a-1b2c3d4e5f60","created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z","name":"Lazarus C2 node {idx}","description":"Address seen in DPRK-attributed intrusion set activity; generated for the TAXII benchmark.","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.{a}.{b}.{c}']","pattern_type":"stix","valid_from":"2026-01-02T03:04:05.000Z"}}"#
        ));
    }
    texts
}

/// Signs, validates and stores the objects as USA's reports, each with its
/// audit entry, a thousand per transaction. Not through `publish`: that
/// commits one report per transaction (tens of thousands of fsyncs before
/// the first timed read), and the bench measures reads.
fn load_reports(state: &AppState, texts: &[String]) -> anyhow::Result<usize> {
    let usa = Party::new("USA").expect("constant party");
    let trilat = Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]);
    let usa_only = Marking::new("UNCLASSIFIED", Tlp::Green, ["USA"]);
    let now = Timestamp::from_unix_ms(time::OffsetDateTime::now_utc().unix_timestamp() * 1000);
    let mut n_stored = 0;
    for (chunk_idx, chunk) in texts.chunks(LOAD_CHUNK).enumerate() {
        let marking = if chunk_idx % USA_ONLY_EVERY == USA_ONLY_EVERY - 1 {
            &usa_only
        } else {
            &trilat
        };
        let bundle = trilat_cyber::write_bundle(
            &trilat_cyber::bundle::new_bundle_id(),
            chunk.iter().map(String::as_str),
        );
        let parsed = trilat_cyber::parse_bundle(&bundle, |_, _| {})?;
        let outcome = trilat_cyber::import_bundle(&parsed, &usa, marking, now);
        let mut batch = Vec::with_capacity(outcome.drafts.len());
        for draft in outcome.drafts {
            let report = draft.sign(&state.key)?;
            report.validate(&state.policy, &state.kinds)?;
            let event = trilat_store::AuditEvent::new(
                now,
                "bench-taxii",
                trilat_store::AuditAction::Create,
            )
            .report(report.key());
            batch.push((report, event));
        }
        // The two MITRE bundles share a few objects (identities, marking
        // definitions): the second copy is refused, which is fine here.
        n_stored += state
            .store
            .put_batch(&batch)?
            .iter()
            .filter(|outcome| outcome.is_ok())
            .count();
    }
    Ok(n_stored)
}

/// One timed page: wall milliseconds, objects, `next`, date added last.
struct TimedPage {
    wall_ms: f64,
    n_objects: usize,
    next: Option<String>,
    date_added_last: Option<String>,
}

/// The JPN reader's HTTP client.
struct Reader {
    http: reqwest::Client,
    token: String,
    /// `http://…/taxii2/trilat/collections/<default>`.
    collection: String,
}

impl Reader {
    async fn get_page(&self, url: &str) -> anyhow::Result<TimedPage> {
        #[derive(serde::Deserialize)]
        struct Envelope {
            #[serde(default)]
            next: Option<String>,
            #[serde(default)]
            objects: Vec<serde::de::IgnoredAny>,
        }
        let started = Instant::now();
        let response = self.get(url).await?;
        let status = response.status();
        let date_added_last = response
            .headers()
            .get("x-taxii-date-added-last")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.bytes().await?;
        let wall_ms = started.elapsed().as_secs_f64() * 1e3;
        if !status.is_success() {
            bail!("GET {url}: {status}: {}", String::from_utf8_lossy(&body));
        }
        let envelope: Envelope = serde_json::from_slice(&body)?;
        Ok(TimedPage {
            wall_ms,
            n_objects: envelope.objects.len(),
            next: envelope.next,
            date_added_last,
        })
    }

    async fn get(&self, url: &str) -> reqwest::Result<reqwest::Response> {
        self.http
            .get(url)
            .bearer_auth(&self.token)
            .header("accept", trilat_cyber::taxii::MEDIA_TYPE_TAXII)
            .send()
            .await
    }

    /// Walks the collection from `first_url`, following `next`; returns
    /// the objects seen.
    async fn walk(&self, first_url: &str, pages: &mut Vec<TimedPage>) -> anyhow::Result<usize> {
        let mut url = first_url.to_string();
        let mut n_objects = 0;
        for _ in 0..WALK_PAGES_MAX {
            let page = self.get_page(&url).await?;
            n_objects += page.n_objects;
            let next = page.next.clone();
            pages.push(page);
            match next {
                Some(next) => {
                    let sep = if first_url.contains('?') { '&' } else { '?' };
                    url = format!("{first_url}{sep}next={next}");
                }
                None => return Ok(n_objects),
            }
        }
        bail!("{first_url}: more than {WALK_PAGES_MAX} pages")
    }

    /// Times `objects/{id}/` (all versions) for objects spread over the
    /// collection, some not visible to JPN (a 404 is an answer too);
    /// returns the wall milliseconds, sorted.
    async fn objects_by_id(&self, texts: &[String]) -> anyhow::Result<Vec<f64>> {
        let mut wall_ms = Vec::with_capacity(OBJECT_GETS);
        let step = (texts.len() / OBJECT_GETS).max(1);
        for text in texts.iter().step_by(step).take(OBJECT_GETS) {
            let id = trilat_cyber::Entry::parse(text)?
                .object
                .common()
                .id
                .to_string();
            let url = format!("{}/objects/{id}/?match[version]=all", self.collection);
            let started = Instant::now();
            let response = self.get(&url).await?;
            let status = response.status();
            response.bytes().await?;
            wall_ms.push(started.elapsed().as_secs_f64() * 1e3);
            if !(status.is_success() || status == reqwest::StatusCode::NOT_FOUND) {
                bail!("GET {url}: {status}");
            }
        }
        wall_ms.sort_by(f64::total_cmp);
        Ok(wall_ms)
    }
}
