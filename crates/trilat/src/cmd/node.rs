//! `trilat init | serve | demo | report … | audit … | bench federation`: run
//! a node, run a three-node demo, and talk to a node over HTTP.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};
use trilat_core::{NodeKey, Party, Policy, ReportKey};
use trilat_node::client::NodeClient;
use trilat_node::cluster::write_node_files;
use trilat_node::config::{
    generate_token, token_sha256, BusTlsConfig, Limits, Role, TlsConfig, TokenConfig,
};
use trilat_node::{Config, ConnectionUrl};

mod bench;
mod demo;

/// Where `--node` defaults from.
const NODE_URL_DEFAULT: &str = "http://127.0.0.1:7401";

/// The node commands (flattened into the top level of `trilat`).
/// Examples shown by `trilat report --help`.
const REPORT_EXAMPLES: &str = "Examples:
  export TRILAT_TOKEN=trl_...   # a token the node printed at init or demo
  trilat report post --text 'Tanker dark for 14 h' --level CONFIDENTIAL --tlp AMBER --rel-to USA,JPN
  trilat report list --kind note --limit 20
  trilat report get USA/0192f0c8-3e1a-7cc4-9a2b-3c4d5e6f7a8b --history
  trilat report revoke USA/0192f0c8-3e1a-7cc4-9a2b-3c4d5e6f7a8b
  trilat report export --format geojson --kind seismic.event --out quakes.geojson

A report is named OWNER/ID (its owner party and its id, as `report list`
prints them): two parties may use the same id.

Each command has --help with more examples.";

/// Examples shown by `trilat audit --help`.
const AUDIT_EXAMPLES: &str = "Examples:
  trilat audit verify --token trl_...   # admin token; exit 1 if the chain is broken
  trilat audit list --token trl_... --after 100 --limit 50

Each command has --help with more examples.";

/// Examples shown by `trilat bench --help`.
const BENCH_EXAMPLES: &str = "Examples:
  cargo run --release -p trilat -- bench federation --samples 200 --backlog 100000
  cargo run --release -p trilat -- bench missile --launches 50
  cargo run --release -p trilat -- bench bus --samples 500   # needs PostgreSQL and NATS

Each command has --help with more; BENCHMARKS.md lists every benchmark.";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a node: config (TOML), signing key, TLS certificate and key for
    /// the peers, and an admin token (printed once).
    #[command(
        after_help = "Example:\n  trilat init --party JPN --dir ./jpn --peer-listen 0.0.0.0:7441\n  trilat serve --config ./jpn/trilat.toml\n\nA node run as several processes keeps its reports in PostgreSQL (each process gets\nits own copy of the config with its own --listen), and hears of the others' reports on\nthe party's NATS JetStream bus:\n  trilat init --party JPN --dir ./jpn --store postgres://trilat@db.jpn.example:5432/trilat \\\n      --bus nats://nats.jpn.example:4222\n(a node on SQLite moves to PostgreSQL later with trilat migrate).\n\nAcross machines, both over TLS, each server's certificate checked against your CA\n(docs/store.md, \"TLS\"; docs/bus.md, \"TLS\"):\n  trilat init --party JPN --dir ./jpn --bus tls://nats.jpn.example:4222 \\\n      --bus-ca-file /etc/trilat/ca.pem --store \\\n      'postgres://trilat@db.jpn.example/trilat?sslmode=verify-full&sslrootcert=/etc/trilat/ca.pem'\n(add --bus-cert-file and --bus-key-file for a NATS server that demands a client certificate).\n\nThen add the partners under [[peers]] in trilat.toml (party, url = \"https://HOST:PORT\"\nof their peer listener, public_key, cert_sha256); what to give them is printed here."
    )]
    Init {
        /// This node's party (ISO 3166-1 alpha-3, e.g. JPN, or JPN-JCG).
        #[arg(long)]
        party: String,
        /// Directory to create the node in.
        #[arg(long)]
        dir: PathBuf,
        /// Address to listen on (API, console, TAXII: plain HTTP; put a
        /// TLS reverse proxy in front for remote users).
        #[arg(long, default_value = "127.0.0.1:7401")]
        listen: String,
        /// Address of the peer listener (mutual TLS, peers only).
        #[arg(long, default_value = "127.0.0.1:7441")]
        peer_listen: String,
        /// Where to keep the reports: "sqlite:PATH" (relative to the
        /// config file) or "postgres://USER@HOST:PORT/DATABASE" (shared by
        /// the processes of one node; over TLS with libpq's
        /// "?sslmode=verify-full&sslrootcert=CA.pem", docs/store.md "TLS").
        /// Default: SQLite in the node's data directory.
        #[arg(long, value_name = "STORE")]
        store: Option<ConnectionUrl>,
        /// The party's internal bus, "nats://HOST:PORT" (NATS with
        /// JetStream; "tls://HOST:PORT" over TLS), for a node run as several processes on one
        /// PostgreSQL store: each process then shows on its live stream
        /// what the others stored (docs/bus.md). Needs `--store
        /// postgres://…`: several processes cannot share an SQLite file.
        /// Default: none.
        #[arg(long, value_name = "URL")]
        bus: Option<String>,
        /// PEM file of the CAs that sign the NATS server's certificate:
        /// the bus is then reached over TLS only ([bus_tls] ca_file).
        /// Default with a tls:// bus: the system's CAs.
        #[arg(long, value_name = "PATH", requires = "bus")]
        bus_ca_file: Option<PathBuf>,
        /// Client certificate (PEM) for a NATS server that demands one
        /// (mutual TLS); with --bus-key-file.
        #[arg(long, value_name = "PATH", requires_all = ["bus", "bus_key_file"])]
        bus_cert_file: Option<PathBuf>,
        /// The client certificate's private key (PEM); with --bus-cert-file.
        #[arg(long, value_name = "PATH", requires = "bus_cert_file")]
        bus_key_file: Option<PathBuf>,
        /// Overwrite an existing config and key.
        #[arg(long)]
        force: bool,
    },
    /// Run a node until Ctrl-C or SIGTERM.
    #[command(
        after_help = "Example:\n  trilat serve --config ./jpn/trilat.toml\n\nLogs go to stderr; set RUST_LOG=debug for more.\n\nCtrl-C and SIGTERM (systemctl stop, a Kubernetes pod's end) stop the node cleanly:\nit gives up the leases of the peer links it drives, so another process of the\nnode takes them at once rather than after the lease (docs/lease.md)."
    )]
    Serve {
        /// The node's config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Run three nodes (USA, JPN, KOR) on loopback with an exercise story
    /// to watch in their consoles.
    #[command(after_help = "\
Prints each node's console link (open it in a browser: it signs you in),
its tokens, and when the exercise story happens: a day of AIS traffic
replayed over four minutes from 20 s after the start, and a missile launch
2 minutes after the start whose first assessment comes within a minute.
An admin starts a play of a shipped scenario (freedom-edge-day,
lofted-icbm-gap) from any console's Exercises view (docs/exercise.md).

Each node keeps its data under --dir; without it, in a temporary folder that
is removed when the demo stops (unless --keep). Stop with Ctrl-C.

Sanctions screening needs lists, which the demo cannot ship: download them
(docs/sanctions.md), import them with `trilat sanctions import --store DIR
FILE…` and pass --sanctions-store DIR. Critical minerals need the USGS MCS
2024 data release and WGI files (docs/economic.md): pass --supply-data DIR;
the nodes group countries by the example trilat-supply ships.

Examples:
  cargo run -p trilat -- demo --replay-every 15
  cargo run -p trilat -- sanctions import consolidated.xml
  cargo run -p trilat -- demo --sanctions-store ~/.local/share/trilat/sanctions")]
    Demo {
        /// First port; the nodes listen on PORT, PORT+1, PORT+2.
        #[arg(long, default_value_t = 7401)]
        port: u16,
        /// Where to keep the three nodes' data, kept on exit (default: a
        /// temporary folder, removed on exit).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Keep the temporary folder when the demo stops.
        #[arg(long)]
        keep: bool,
        /// Start the exercise story again every MINUTES (10 to 1440; the story
        /// lasts about ten).
        #[arg(long, value_name = "MINUTES")]
        replay_every: Option<u64>,
        /// Print the banner as one line of JSON (for scripts and tests).
        #[arg(long)]
        json_banner: bool,
        /// A sanctions list store written by `trilat sanctions import --store
        /// DIR` for every node to screen against (repeatable).
        #[arg(long, value_name = "DIR")]
        sanctions_store: Vec<PathBuf>,
        /// USGS MCS 2024 and WGI files or folders for every node's critical-minerals view (repeatable).
        #[arg(long, value_name = "DIR")]
        supply_data: Vec<PathBuf>,
    },
    /// Post, get, list, revoke or export reports on a node.
    #[command(subcommand, after_help = REPORT_EXAMPLES)]
    Report(ReportCommand),
    /// Read or verify a node's audit log.
    #[command(subcommand, after_help = AUDIT_EXAMPLES)]
    Audit(AuditCommand),
    /// Benchmarks that need running nodes.
    #[command(subcommand, after_help = BENCH_EXAMPLES)]
    Bench(BenchCommand),
}

/// Connection to a node.
#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// The node's base URL.
    #[arg(long, env = "TRILAT_NODE", default_value = NODE_URL_DEFAULT)]
    node: String,
    /// API token (bearer).
    #[arg(long, env = "TRILAT_TOKEN", hide_env_values = true)]
    token: String,
}

/// `trilat report …`
#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// Create a report (a `note` by default).
    #[command(
        after_help = "Example:\n  export TRILAT_TOKEN=trl_...\n  trilat report post --text 'Tanker dark for 14 h' --level CONFIDENTIAL --tlp AMBER --rel-to USA,JPN\n  trilat report post --kind note --payload '{\"text\":\"hello\"}' --rel-to TRILAT --exercise"
    )]
    Post {
        #[command(flatten)]
        node: NodeArgs,
        /// Report kind.
        #[arg(long, default_value = "note")]
        kind: String,
        /// Text of a note (sets payload {"text": ...}).
        #[arg(long, conflicts_with = "payload")]
        text: Option<String>,
        /// Payload as JSON.
        #[arg(long)]
        payload: Option<String>,
        /// Classification level.
        #[arg(long, default_value = "UNCLASSIFIED")]
        level: String,
        /// TLP label: CLEAR, GREEN, AMBER, AMBER+STRICT, RED.
        #[arg(long, default_value = "GREEN")]
        tlp: String,
        /// Releasability: party codes or groups, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        rel_to: Vec<String>,
        /// Let recipients relay within rel_to.
        #[arg(long)]
        relay: bool,
        /// Mark as an exercise report.
        #[arg(long)]
        exercise: bool,
    },
    /// Show a report (and with --history every version).
    #[command(
        after_help = "Example:\n  trilat report get USA/0192f0c8-3e1a-7cc4-9a2b-3c4d5e6f7a8b --history"
    )]
    Get {
        #[command(flatten)]
        node: NodeArgs,
        /// The report: OWNER/ID, as `report list` prints it.
        report: ReportKey,
        /// Every version you may see.
        #[arg(long)]
        history: bool,
    },
    /// List current reports you may see.
    #[command(after_help = "Example:\n  trilat report list --kind note --owner USA --limit 20")]
    List {
        #[command(flatten)]
        node: NodeArgs,
        /// Only this kind.
        #[arg(long)]
        kind: Option<String>,
        /// Only this owner.
        #[arg(long)]
        owner: Option<String>,
        /// Exercise reports only (default: real-world only).
        #[arg(long)]
        exercise: bool,
        /// Page size.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Continue from a previous page's cursor.
        #[arg(long)]
        cursor: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke one of the node's reports (propagates to every recipient).
    #[command(
        after_help = "Example:\n  trilat report revoke JPN/0192f0c8-3e1a-7cc4-9a2b-3c4d5e6f7a8b\n\nOnly the node's own reports can be revoked (OWNER is the node's party)."
    )]
    Revoke {
        #[command(flatten)]
        node: NodeArgs,
        /// The report: OWNER/ID, as `report list` prints it.
        report: ReportKey,
    },
    /// Export the reports a query answers as GeoJSON or KML, for GIS tools.
    #[command(after_help = super::report_export::EXPORT_HELP)]
    Export(super::report_export::ExportArgs),
}

/// `trilat audit …`
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Recompute the node's audit hash chain (admin token); exit 1 if broken.
    #[command(
        after_help = "Example:\n  trilat audit verify --node http://127.0.0.1:7401 --token trl_..."
    )]
    Verify {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Print audit entries (admin token).
    #[command(
        after_help = "Example:\n  trilat audit list --token trl_... --after 100 --limit 50   # entries 101 to 150"
    )]
    List {
        #[command(flatten)]
        node: NodeArgs,
        /// Entries after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// How many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

/// `trilat bench …`
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Fan-out latency (create at USA → stored at JPN and KOR) and catch-up
    /// rate after a partition, on three loopback nodes with SQLite.
    #[command(after_help = "\
Three nodes (USA, JPN, KOR) run in this process with real HTTP and a SQLite
store each. Prints the build profile and load average, then:
  fan-out   p50/p99 from publish at USA until JPN and KOR have both stored it;
  catch-up  KOR is stopped, --backlog reports are stored at USA, JPN takes
            them, then KOR restarts and pulls them all: reports/s, wall
            clock and per process CPU-second.
Build with --release for figures worth quoting.

Example:
  cargo run --release -p trilat -- bench federation --samples 200 --backlog 100000")]
    Federation {
        /// Reports created one by one for the latency figures.
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Reports created while a node is down, for the catch-up rate (0: skip).
        #[arg(long, default_value_t = 100_000)]
        backlog: usize,
        /// The peers' pull page size (1 to 1000, the store's query limit;
        /// default: the node default), to measure its effect on catch-up.
        #[arg(long, env = "TRILAT_BENCH_PULL_PAGE", value_name = "REPORTS")]
        pull_page: Option<usize>,
    },
    /// Audited reads per second with concurrent clients, with the audit
    /// group commit and without (each read committing alone).
    #[command(after_help = "\
One USA node runs in this process (real HTTP, a SQLite store with FULL
synchronous commits). --clients tasks read one report as fast as the node
answers (GET /api/v1/reports/{owner}/{id}: one audit entry each, written
before the answer) for --seconds. Rounds alternate A B B A between the
default limits.audit_group_max (the entries of reads arriving during a
commit share the next one) and 1 (every read commits alone), a fresh node
each round. Prints, per round: reads/s, latency p50/p99/max, audit
commits and entries per commit; then the ratio of the medians.
docs/node.md (limits) and docs/scale.md (\"What limits one node\") explain it.

Example:
  cargo run --release -p trilat -- bench audit --clients 32 --seconds 5 --pairs 2")]
    Audit {
        /// Readers at once.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// How long each round reads.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Pairs of rounds (grouped and alone), in the order A B B A.
        #[arg(long, default_value_t = 2)]
        pairs: usize,
    },
    /// Cross-process live-stream latency on the party bus: a note created
    /// at one `trilat serve` process → on another process's live stream.
    #[command(after_help = "\
Two `trilat serve` processes of USA (children of this one) share the
PostgreSQL store and the NATS JetStream bus given. For each sample a note
is POSTed at process A; the clock stops when process B's live stream
(/api/v1/stream) carries it. Included: HTTP create at A (signing, the
store's commit), the announcement on the bus, B's read of the store's feed
and the server-sent event. Use a database of its own: the processes create
their tables in it. docs/bus.md explains the bus.

With --ais, then as many AIS positions of new DPRK-flagged vessels are
POSTed at B; the clock stops when the finding the vessel's partition owner
makes of each is on A's live stream (the hand-off of engine input through
JetStream, docs/scale.md \"Engine partitions\").

Example (scripts/postgres and scripts/nats start throwaway servers):
  pg=$(mktemp -d); nats=$(mktemp -d)
  export TRILAT_TEST_POSTGRES=$(scripts/postgres start $pg) TRILAT_TEST_NATS=$(scripts/nats start $nats)
  cargo run --release -p trilat -- bench bus --samples 500
  cargo run --release -p trilat -- bench bus --samples 500 --ais")]
    Bus {
        /// Notes created at A one after another (one sample each).
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// The PostgreSQL store both processes share.
        #[arg(long, env = "TRILAT_TEST_POSTGRES", value_name = "URL")]
        postgres: String,
        /// The NATS JetStream server, nats://HOST:PORT.
        #[arg(long, env = "TRILAT_TEST_NATS", value_name = "URL")]
        nats: String,
        /// Also time AIS input handed to its partition's owner: a position
        /// POSTed at B -> its finding on A's live stream.
        #[arg(long)]
        ais: bool,
    },
    /// Time from the detection that makes a first missile assessment
    /// possible to that assessment being stored at the other partners.
    #[command(after_help = "\
Three nodes (USA, JPN, KOR) run in this process; KOR runs the missile
engine. For each simulated launch (a lofted ICBM from Sunan, seen by the
partners' approximate radars) the radar scans are POSTed in time order to
KOR's /api/v1/missile/detections. The clock starts when the POST that
yields the launch's first missile.assessment is sent and stops when the
assessment is stored at both USA and JPN. Included: HTTP request, engine
(association, tracking, assessment), marking, signing, SQLite commit,
push, the receive rule and the SQLite commit at each partner.

Example:
  cargo run --release -p trilat -- bench missile --launches 50")]
    Missile {
        /// Simulated launches, one after another (one sample each).
        #[arg(long, default_value_t = 50)]
        launches: usize,
    },
}

/// Runs one node command.
pub fn run(command: Command) -> anyhow::Result<()> {
    if let Command::Init {
        party,
        dir,
        listen,
        peer_listen,
        store,
        bus,
        bus_ca_file,
        bus_cert_file,
        bus_key_file,
        force,
    } = &command
    {
        let bus_tls = [bus_ca_file, bus_cert_file, bus_key_file]
            .iter()
            .any(|file| file.is_some())
            .then(|| BusTlsConfig {
                ca_file: bus_ca_file.clone(),
                cert_file: bus_cert_file.clone(),
                key_file: bus_key_file.clone(),
            });
        let backends = Backends {
            store: store.clone(),
            bus: bus.as_deref(),
            bus_tls,
        };
        return init(party, dir, listen, peer_listen, backends, *force);
    }
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        match command {
            Command::Init { .. } => unreachable!("handled above"),
            Command::Serve { config } => serve(&config).await,
            Command::Demo {
                port,
                dir,
                keep,
                replay_every,
                json_banner,
                sanctions_store,
                supply_data,
            } => {
                demo::run(demo::DemoArgs {
                    port,
                    dir,
                    keep,
                    replay_every_min: replay_every,
                    json_banner,
                    sanctions_stores: sanctions_store,
                    supply_data,
                })
                .await
            }
            Command::Report(c) => report(c).await,
            Command::Audit(c) => audit(c).await,
            Command::Bench(BenchCommand::Federation {
                samples,
                backlog,
                pull_page,
            }) => {
                bench::federation(trilat_bench::federation::Spec {
                    samples,
                    backlog,
                    pull_page_max: pull_page,
                })
                .await
            }
            Command::Bench(BenchCommand::Bus {
                samples,
                postgres,
                nats,
                ais,
            }) => bench::bus(samples, postgres, nats, ais).await,
            Command::Bench(BenchCommand::Missile { launches }) => bench::missile(launches).await,
            Command::Bench(BenchCommand::Audit {
                clients,
                seconds,
                pairs,
            }) => {
                bench::audit(trilat_bench::audit::Spec {
                    clients,
                    round: std::time::Duration::from_secs_f64(seconds),
                    pairs,
                })
                .await
            }
        }
    })
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Where `trilat init`'s node keeps its reports and hears the others'.
struct Backends<'a> {
    store: Option<ConnectionUrl>,
    bus: Option<&'a str>,
    bus_tls: Option<BusTlsConfig>,
}

impl Backends<'_> {
    /// Reads the TLS files named now, so a wrong path fails `init`, naming
    /// it, rather than the first `serve`; paths become absolute (the
    /// config's own paths are relative to its file, the flags' to here).
    fn check_tls_files(&mut self) -> anyhow::Result<()> {
        if let Some(store) = &self.store {
            if store.as_str().starts_with("postgres") {
                trilat_store::PostgresStore::check_tls_files(store.as_str())
                    .with_context(|| format!("--store {store}"))?;
            }
        }
        let Some(bus_tls) = &mut self.bus_tls else {
            return Ok(());
        };
        for (flag, file) in [
            ("--bus-ca-file", &mut bus_tls.ca_file),
            ("--bus-cert-file", &mut bus_tls.cert_file),
            ("--bus-key-file", &mut bus_tls.key_file),
        ] {
            let Some(path) = file else { continue };
            std::fs::metadata(&path)
                .with_context(|| format!("{flag} {}: cannot read", path.display()))?;
            *path =
                std::path::absolute(&path).with_context(|| format!("{flag} {}", path.display()))?;
        }
        Ok(())
    }
}

fn init(
    party: &str,
    dir: &Path,
    listen: &str,
    peer_listen: &str,
    mut backends: Backends<'_>,
    force: bool,
) -> anyhow::Result<()> {
    backends.check_tls_files()?;
    let Backends {
        store,
        bus,
        bus_tls,
    } = backends;
    let party = Party::new(party)?;
    let config_path = dir.join("trilat.toml");
    if config_path.exists() && !force {
        bail!(
            "{} exists; pass --force to overwrite",
            config_path.display()
        );
    }
    let key = NodeKey::generate();
    let token = generate_token();
    let mut policy = Policy::trilateral_default();
    if !policy.accreditation.contains_key(&party) {
        policy
            .accreditation
            .insert(party.clone(), "UNCLASSIFIED".into());
    }
    let config = Config {
        party: party.clone(),
        listen: listen
            .parse()
            .with_context(|| format!("--listen {listen:?}"))?,
        data_dir: "data".into(),
        key_file: "node.key".into(),
        policy,
        tls: TlsConfig {
            listen: Some(
                peer_listen
                    .parse()
                    .with_context(|| format!("--peer-listen {peer_listen:?}"))?,
            ),
            ..TlsConfig::default()
        },
        peers: Vec::new(),
        parties: Vec::new(),
        tokens: vec![TokenConfig {
            sha256: token_sha256(&token),
            party: party.clone(),
            role: Role::Admin,
            name: "admin".into(),
        }],
        limits: Limits::default(),
        taxii: None,
        engines: None,
        tak: Vec::new(),
        store,
        bus: bus.map(ConnectionUrl::from),
        bus_namespace: None,
        bus_tls,
    };
    config.validate()?;
    // Paths in the file stay relative to it; write_node_files needs real ones.
    let mut on_disk = config.clone();
    on_disk.key_file = dir.join("node.key");
    std::fs::create_dir_all(dir)?;
    write_node_files(dir, &on_disk, &key)?;
    let cert_sha256 = trilat_node::federation::tls::write_identity(
        &party,
        &dir.join(&config.tls.cert_file),
        &dir.join(&config.tls.key_file),
    )?;
    let holds_password = [&config.store, &config.bus]
        .into_iter()
        .flatten()
        .any(|url| url.to_string() != url.as_str());
    if holds_password {
        // Readable by its owner only, like the key.
        trilat_node::cluster::write_secret(&config_path, &config.to_toml())?;
    } else {
        std::fs::write(&config_path, config.to_toml())?;
    }
    println!("Created node {party} in {}", dir.display());
    println!("  config:      {}", config_path.display());
    println!("  store:       {}", config.store_location()?);
    println!("  Give your partners, for their [[peers]] entry of {party}:");
    println!("    party = \"{party}\"");
    println!(
        "    url = \"https://HOST:{}\"   (this node's peer listener, tls.listen)",
        peer_port(peer_listen)
    );
    println!("    public_key = \"{}\"", key.public_key());
    println!("    cert_sha256 = \"{cert_sha256}\"");
    println!("  admin token (shown once, store it safely):\n    {token}");
    println!(
        "Run it with:  trilat serve --config {}",
        config_path.display()
    );
    Ok(())
}

/// The port of a `HOST:PORT` listen address, for the URL partners use.
fn peer_port(listen: &str) -> &str {
    listen.rsplit_once(':').map_or(listen, |(_, port)| port)
}

async fn serve(path: &Path) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    let listen = config.listen;
    let party = config.party.clone();
    let state = trilat_node::open(config)?;
    let node = trilat_node::serve(state, listen).await?;
    eprintln!("trilat node {party} listening on http://{}", node.addr);
    if let Some(peer_addr) = node.peer_addr {
        eprintln!("  peers (mutual TLS) on https://{peer_addr}");
    }
    stop_signal().await?;
    eprintln!("stopping");
    stop(node).await;
    eprintln!("stopped");
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix: how a person, systemd or Kubernetes stops
/// a node. Either stops it cleanly ([`stop`]).
async fn stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        tokio::select! {
            res = tokio::signal::ctrl_c() => res.context("listening for Ctrl-C"),
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("listening for Ctrl-C")
    }
}

/// Stops the node's server and tasks and waits until each has ended, so
/// what a task does as it ends has happened before the process exits: a
/// link owner gives its lease up, and another process of the node takes
/// the link at once instead of after the lease (docs/lease.md).
async fn stop(mut node: trilat_node::Node) {
    node.stop();
    let _ = (&mut node.server).await;
    for task in &mut node.tasks {
        // Cancelled: the task's state, the lease's guard with it, is dropped.
        let _ = task.await;
    }
}

async fn report(command: ReportCommand) -> anyhow::Result<()> {
    match command {
        ReportCommand::Post {
            node,
            kind,
            text,
            payload,
            level,
            tlp,
            rel_to,
            relay,
            exercise,
        } => {
            let payload: Value = match (text, payload) {
                (Some(text), _) => json!({ "text": text }),
                (None, Some(payload)) => {
                    serde_json::from_str(&payload).context("--payload is not JSON")?
                }
                (None, None) => bail!("give --text or --payload"),
            };
            let body = json!({
                "kind": kind,
                "marking": { "level": level, "tlp": tlp, "rel_to": rel_to,
                             "further_sharing": if relay { "within-rel-to" } else { "none" } },
                "payload": payload,
                "exercise": exercise,
            });
            let created = client(&node).post("/api/v1/reports", &body).await?;
            print_report(&created["report"]);
        }
        ReportCommand::Export(args) => super::report_export::export(args).await?,
        ReportCommand::Get {
            node,
            report,
            history,
        } => {
            let got = client(&node)
                .get(&format!("/api/v1/reports/{report}?history={history}"))
                .await?;
            println!("{}", serde_json::to_string_pretty(&got)?);
        }
        ReportCommand::List {
            node,
            kind,
            owner,
            exercise,
            limit,
            cursor,
            json,
        } => {
            let mut query = format!("/api/v1/reports?limit={limit}&exercise={exercise}");
            for (name, value) in [("kind", kind), ("owner", owner), ("cursor", cursor)] {
                if let Some(value) = value {
                    query.push_str(&format!("&{name}={value}"));
                }
            }
            let page = client(&node).get(&query).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page)?);
                return Ok(());
            }
            for report in page["reports"].as_array().into_iter().flatten() {
                print_report(report);
            }
            if let Some(next) = page["next"].as_str() {
                println!("next page: --cursor {next}");
            }
        }
        ReportCommand::Revoke { node, report } => {
            let revoked = client(&node)
                .post(&format!("/api/v1/reports/{report}/revoke"), &Value::Null)
                .await?;
            print_report(&revoked["report"]);
        }
    }
    Ok(())
}

fn client(node: &NodeArgs) -> NodeClient {
    NodeClient::new(&node.node, &node.token)
}

fn print_report(report: &Value) {
    let marking = &report["marking"];
    let rel_to: Vec<&str> = marking["rel_to"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    println!(
        "{}/{}  v{}  {}  {}//REL TO {}//TLP:{}{}{}",
        report["owner"].as_str().unwrap_or("?"),
        report["id"].as_str().unwrap_or("?"),
        report["version"],
        report["kind"].as_str().unwrap_or("?"),
        marking["level"].as_str().unwrap_or("?"),
        rel_to.join(", "),
        marking["tlp"].as_str().unwrap_or("?"),
        if report["exercise"] == true {
            "  EXERCISE"
        } else {
            ""
        },
        if report["revoked"] == true {
            "  REVOKED"
        } else {
            ""
        },
    );
}

async fn audit(command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify { node } => {
            let verification = client(&node).get("/api/v1/audit/verify").await?;
            let entries = verification["entries"].as_u64().unwrap_or(0);
            match verification["first_broken"].as_u64() {
                None => println!("audit chain intact: {entries} entries verified"),
                Some(seq) => bail!("audit chain BROKEN at entry {seq} (of {entries})"),
            }
        }
        AuditCommand::List { node, after, limit } => {
            let entries = client(&node)
                .get(&format!("/api/v1/audit?after={after}&limit={limit}"))
                .await?;
            println!("{}", serde_json::to_string_pretty(&entries["entries"])?);
        }
    }
    Ok(())
}
