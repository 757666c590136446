//! `trilat exercise validate | run | report`: play a scenario file against
//! three nodes through their public APIs, and build the after-action report
//! from the nodes' stores and audit logs. The scenario, the plan, the clock
//! and the report's figures are `trilat-exercise`'s; this is the glue that
//! sends and fetches.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde_json::Value;
use trilat_core::Party;
use trilat_exercise::Scenario;
use trilat_node::client::{ClientError, NodeClient};

mod control;
mod play;
mod report;
mod restart;
mod starter;

pub use starter::DemoStarter;

/// Examples shown by `trilat exercise --help`.
pub const EXAMPLES: &str = "Examples:
  trilat exercise validate scenarios/freedom-edge-day.toml
  trilat exercise run scenarios/freedom-edge-day.toml --cluster --speed 10 --out ./aar
  trilat exercise run scenarios/degraded-network.toml --cluster --speed 30 --cluster-dir ./nodes --out ./aar
  trilat sanctions import consolidated.xml
  trilat exercise run my-drill.toml --cluster --sanctions-store ~/.local/share/trilat/sanctions --out ./aar
  trilat exercise run scenarios/lofted-icbm-gap.toml \\
      --nodes http://usa:7401,http://jpn:7401,http://kor:7401 --tokens $USA,$JPN,$KOR \\
      --engines-exercise --speed 60 --out ./aar
  trilat exercise report ./aar/RUN_ID.run.json --tokens $USA,$JPN,$KOR --out ./aar --publish
  trilat exercise pause freedom-edge-day-1765100000000 --node http://usa:7401 --token $USA
  trilat exercise resume freedom-edge-day-1765100000000 --node http://usa:7401 --token $USA

While a run plays, type `p` and Enter to pause the exercise clock, `r` and
Enter to resume. The run is also registered with every node: an admin
pauses and resumes it from the console's Exercises view or with `trilat
exercise pause|resume` (the run holds while any node has it paused).
With --publish, each node gets its own party's share of the after-action
report, for the console's Exercises view. A `node_restart` inject needs
--cluster (the runner stops and starts only nodes it started).
docs/exercise.md describes the scenario format.";

/// The exercise commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Read and check a scenario file; print its injects.
    #[command(after_help = "Example:\n  trilat exercise validate scenarios/freedom-edge-day.toml")]
    Validate {
        /// The scenario (TOML).
        scenario: PathBuf,
    },
    /// Play a scenario against running nodes (--nodes) or three loopback
    /// nodes started for it (--cluster); writes RUN_ID.run.json to --out.
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Build the after-action report of a run from the nodes' stores and
    /// audit logs: RUN_ID.after-action.json and .html in --out.
    #[command(after_help = EXAMPLES)]
    Report(ReportArgs),
    /// Pause a run at a node (admin token of the node's party): the runner
    /// holds its exercise clock until every node has it running again.
    #[command(after_help = EXAMPLES)]
    Pause(SteerArgs),
    /// Resume a run paused at a node.
    #[command(after_help = EXAMPLES)]
    Resume(SteerArgs),
}

/// `trilat exercise pause|resume`.
#[derive(Debug, clap::Args)]
pub struct SteerArgs {
    /// The run's id (the run record's `run_id`, shown in the console).
    run: String,
    /// The node's base URL.
    #[arg(long)]
    node: String,
    /// An admin token of the node's party.
    #[arg(long, env = "TRILAT_TOKEN", hide_env_values = true)]
    token: String,
}

/// `trilat exercise run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario (TOML).
    scenario: PathBuf,
    /// The nodes' base URLs, comma-separated (one per party).
    #[arg(long, value_delimiter = ',', required_unless_present = "cluster")]
    nodes: Vec<String>,
    /// An admin token of each node, in the order of --nodes.
    #[arg(
        long,
        value_delimiter = ',',
        env = "TRILAT_TOKENS",
        hide_env_values = true
    )]
    tokens: Vec<String>,
    /// Start three nodes (USA, JPN, KOR) on loopback for the run, with the
    /// demo's policy and engines flagged exercise; the report is written
    /// before they stop.
    #[arg(long, conflicts_with = "nodes")]
    cluster: bool,
    /// With --cluster: keep the nodes' files (stores, audit logs, configs)
    /// in DIR/USA, DIR/JPN, DIR/KOR after the run, instead of a temporary
    /// directory removed at the end.
    #[arg(long, requires = "cluster")]
    cluster_dir: Option<PathBuf>,
    /// Exercise seconds per wall-clock second (1 = real time, up to 1000).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Where to write the run record (and, with --cluster, the report).
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// State that the nodes run with `[engines] exercise = true`, so the
    /// products of missile and AIS injects are flagged exercise (the node
    /// does not say so over its API; without this flag such injects are
    /// refused against --nodes).
    #[arg(long)]
    engines_exercise: bool,
    /// With --cluster: a sanctions list store (`trilat sanctions import
    /// --store DIR FILE…`) every node loads, for `sanctions_hit` injects.
    #[arg(long, requires = "cluster")]
    sanctions_store: Option<PathBuf>,
    /// Seconds to wait after the last step before the run counts as ended
    /// (federation delivers in that time).
    #[arg(long, default_value_t = 5)]
    settle_s: u64,
    /// Build the after-action report at the end (with --nodes too) and
    /// publish to each node its party's share, for the console.
    #[arg(long)]
    publish: bool,
    /// The run's id, when the caller chose it (a start from the console
    /// answers with it); default SCENARIO-STARTMS.
    #[arg(skip)]
    run_id: Option<String>,
    /// Played as a task of another command (`trilat demo`): no progress
    /// bar, no pause from stdin.
    #[arg(skip)]
    unattended: bool,
}

/// `trilat exercise report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The run record written by `trilat exercise run`.
    run: PathBuf,
    /// The nodes' URLs, if not those of the run record (same order).
    #[arg(long, value_delimiter = ',')]
    nodes: Vec<String>,
    /// An admin token of each node, in the order of the nodes.
    #[arg(
        long,
        value_delimiter = ',',
        env = "TRILAT_TOKENS",
        hide_env_values = true
    )]
    tokens: Vec<String>,
    /// Where to write RUN_ID.after-action.json and .html.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Also publish to each node its party's share of the report (what
    /// that party owns or may see), for the console's Exercises view.
    #[arg(long)]
    publish: bool,
}

/// Runs one exercise command.
pub fn run(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match command {
        Command::Validate { scenario } => validate(&scenario),
        Command::Run(args) => runtime.block_on(play::run_scenario(args)),
        Command::Report(args) => runtime.block_on(report::report(args)),
        Command::Pause(args) => runtime.block_on(control::steer(args, true)),
        Command::Resume(args) => runtime.block_on(control::steer(args, false)),
    }
}

fn read_scenario(path: &Path) -> anyhow::Result<Scenario> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the scenario {}", path.display()))?;
    Ok(Scenario::parse(&path.display().to_string(), &text)?)
}

fn validate(path: &Path) -> anyhow::Result<()> {
    let scenario = read_scenario(path)?;
    println!("{}: {} injects", scenario.name, scenario.injects.len());
    for (idx, inject) in scenario.injects.iter().enumerate() {
        let note = inject
            .action
            .needs_own_nodes()
            .map_or(String::new(), |_| "  (needs `run --cluster`)".to_string());
        println!(
            "{:>4}  {:>8.1} s  {:<14}  {}{note}",
            idx + 1,
            inject.at_s,
            inject.action.type_name(),
            inject.label_or(idx)
        );
    }
    Ok(())
}

/// One node the runner talks to.
struct NodeHandle {
    party: Party,
    url: String,
    client: NodeClient,
}

/// Asks each node who it is; the token must be its own party's admin
/// (publishing needs its party, the audit log needs admin).
async fn connect(urls: &[String], tokens: &[String]) -> anyhow::Result<Vec<NodeHandle>> {
    if urls.len() != tokens.len() {
        bail!(
            "{} nodes but {} tokens: give one admin token per node, in the same order",
            urls.len(),
            tokens.len()
        );
    }
    let mut nodes = Vec::with_capacity(urls.len());
    for (url, token) in urls.iter().zip(tokens) {
        let client = NodeClient::new(url, token);
        let me = client.get("/api/v1/whoami").await?;
        let node_party = me["node"].as_str().unwrap_or("?");
        if me["role"] != "admin" || me["party"] != node_party {
            bail!(
                "{url}: the token is {} {} on a {node_party} node; the runner needs an admin token of the node's own party",
                me["party"].as_str().unwrap_or("?"),
                me["role"].as_str().unwrap_or("?")
            );
        }
        nodes.push(NodeHandle {
            party: Party::new(node_party).with_context(|| format!("{url}: party"))?,
            url: url.trim_end_matches('/').to_string(),
            client,
        });
    }
    Ok(nodes)
}

/// Tries of a request the node answers 503 (its engines still starting).
const UNAVAILABLE_TRIES_MAX: u32 = 60;
/// Wait between those tries.
const UNAVAILABLE_WAIT_MS: u64 = 500;

/// `request`, again while the node answers 503 (engines starting), at most
/// [`UNAVAILABLE_TRIES_MAX`] times; any other answer at once.
async fn retrying<F, Fut>(request: F) -> Result<Value, ClientError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Value, ClientError>>,
{
    let mut n_tries = 1;
    loop {
        match request().await {
            Err(ClientError::Api { status: 503, .. }) if n_tries < UNAVAILABLE_TRIES_MAX => {
                n_tries += 1;
                tokio::time::sleep(Duration::from_millis(UNAVAILABLE_WAIT_MS)).await;
            }
            res => return res,
        }
    }
}
