//! `trilat exercise validate | run | report`: play a scenario file against
//! three nodes through their public APIs, and build the after-action report
//! from the nodes' stores and audit logs. The scenario, the plan, the clock
//! and the report's figures are `trilat-exercise`'s; this is the glue that
//! sends and fetches.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde_json::{json, Value};
use trilat_core::{Party, Report, ReportId, Timestamp};
use trilat_exercise::after_action::{Acknowledgement, EngineProducts, PlayedInject, RunNode};
use trilat_exercise::{
    plan, Action, AfterAction, Evidence, ExerciseClock, NodeEvidence, Receipt, RunRecord, Scenario,
    Step, StepAction,
};
use trilat_node::client::{ClientError, NodeClient};
use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
use trilat_node::config::{Limits, Role};
use trilat_store::AuditAction;

/// Examples shown by `trilat exercise --help`.
pub const EXAMPLES: &str = "Examples:
  trilat exercise validate scenarios/freedom-edge-day.toml
  trilat exercise run scenarios/freedom-edge-day.toml --cluster --speed 10 --out ./aar
  trilat exercise run scenarios/lofted-icbm-gap.toml \\
      --nodes http://usa:7401,http://jpn:7401,http://kor:7401 --tokens $USA,$JPN,$KOR \\
      --engines-exercise --speed 60 --out ./aar
  trilat exercise report ./aar/RUN_ID.run.json --tokens $USA,$JPN,$KOR --out ./aar

While a run plays, type `p` and Enter to pause the exercise clock, `r` and
Enter to resume. docs/exercise.md describes the scenario format.";

/// Exercise reports read from one node at most.
const REPORTS_MAX: usize = 100_000;
/// Audit entries read from one node at most.
const AUDIT_ENTRIES_MAX: usize = 2_000_000;
/// Page size of the store and audit reads (the node's default maximum).
const PAGE_LIMIT: usize = 1000;
/// How often a waiting runner looks at the clock (pause, resume).
const TICK_MS: u64 = 100;

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
    /// Seconds to wait after the last step before the run counts as ended
    /// (federation delivers in that time).
    #[arg(long, default_value_t = 5)]
    settle_s: u64,
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
}

/// Runs one exercise command.
pub fn run(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match command {
        Command::Validate { scenario } => validate(&scenario),
        Command::Run(args) => runtime.block_on(run_scenario(args)),
        Command::Report(args) => runtime.block_on(report(args)),
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
            .unsupported()
            .map_or(String::new(), |why| format!("  REFUSED BY `run`: {why}"));
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

/// Every party the scenario names must have a node.
fn check_parties(scenario: &Scenario, steps: &[Step], nodes: &[NodeHandle]) -> anyhow::Result<()> {
    for step in steps {
        let party = step_party(&step.action);
        if !nodes.iter().any(|n| &n.party == party) {
            let inject = &scenario.injects[step.inject_idx];
            bail!(
                "inject {} ({}): no node of {party} among the nodes given",
                step.inject_idx + 1,
                inject.label_or(step.inject_idx)
            );
        }
    }
    Ok(())
}

fn step_party(action: &StepAction) -> &Party {
    match action {
        StepAction::Publish { party, .. }
        | StepAction::Detections { party, .. }
        | StepAction::Nmea { party, .. } => party,
    }
}

async fn run_scenario(args: RunArgs) -> anyhow::Result<()> {
    let scenario = read_scenario(&args.scenario)?;
    if let Some((idx, why)) = scenario.first_unsupported() {
        bail!(
            "{}: inject {} ({}): {why}; nothing was played",
            args.scenario.display(),
            idx + 1,
            scenario.injects[idx].label_or(idx)
        );
    }
    if !args.cluster && !args.engines_exercise {
        if let Some((idx, inject)) = scenario
            .injects
            .iter()
            .enumerate()
            .find(|(_, i)| i.action.engine_made())
        {
            bail!(
                "inject {} ({}): its products are made by the nodes' engines, which flag them exercise only with `[engines] exercise = true`; pass --engines-exercise if the nodes run so (nothing was played)",
                idx + 1,
                inject.label_or(idx)
            );
        }
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    if args.cluster {
        let dir = std::env::temp_dir().join(format!("trilat-exercise-{}", std::process::id()));
        let res = run_on_cluster(&scenario, &args, &dir).await;
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            eprintln!("could not remove {}: {e}", dir.display());
        }
        res
    } else {
        let nodes = connect(&args.nodes, &args.tokens).await?;
        let run = play(&scenario, &nodes, &args).await?;
        let path = write_run(&run, &args.out)?;
        eprintln!(
            "run record: {}\nthen: trilat exercise report {} --tokens … --out {}",
            path.display(),
            path.display(),
            args.out.display()
        );
        Ok(())
    }
}

/// Plays on three loopback nodes started in `dir`, and writes the report
/// before they stop.
async fn run_on_cluster(scenario: &Scenario, args: &RunArgs, dir: &Path) -> anyhow::Result<()> {
    let cluster = start_cluster(dir).await?;
    let nodes: Vec<NodeHandle> = cluster
        .nodes
        .iter()
        .map(|n| NodeHandle {
            party: n.party.clone(),
            url: n.url.clone(),
            client: NodeClient::new(&n.url, n.admin_token()),
        })
        .collect();
    let run = play(scenario, &nodes, args).await?;
    let path = write_run(&run, &args.out)?;
    eprintln!("run record: {}", path.display());
    write_report(&run, &nodes, &args.out).await
}

async fn start_cluster(dir: &Path) -> anyhow::Result<Cluster> {
    let parties = ["USA", "JPN", "KOR"].map(|p| Party::new(p).expect("static party code"));
    let mut engines = toml::Table::new();
    engines.insert("exercise".into(), toml::Value::Boolean(true));
    let cluster = Cluster::start(ClusterSpec {
        parties: parties.to_vec(),
        dir: dir.to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: Limits::default(),
        engines: parties
            .iter()
            .map(|p| (p.clone(), engines.clone()))
            .collect(),
    })
    .await?;
    for node in &cluster.nodes {
        eprintln!("{} node at {}", node.party, node.url);
        debug_assert!(node.tokens.contains_key(&(node.party.clone(), Role::Admin)));
    }
    Ok(cluster)
}

/// Plays the steps on the exercise clock; returns the run record.
async fn play(
    scenario: &Scenario,
    nodes: &[NodeHandle],
    args: &RunArgs,
) -> anyhow::Result<RunRecord> {
    if scenario.injects.iter().any(|i| i.action.engine_made()) {
        // Inject latencies count from the first step: not from a wait for
        // engines that were still starting.
        for node in nodes {
            retrying(|| node.client.get("/api/v1/ais/status"))
                .await
                .with_context(|| format!("{}: waiting for its engines", node.url))?;
        }
    }
    let start_ms = trilat_node::now_ms();
    let steps = plan(scenario, start_ms)?;
    check_parties(scenario, &steps, nodes)?;
    let clock = Arc::new(Mutex::new(ExerciseClock::start(args.speed, start_ms)?));
    let clock_of_stdin = clock.clone();
    std::thread::spawn(move || pause_from_stdin(clock_of_stdin));
    let progress = indicatif::ProgressBar::new(steps.len() as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} steps  {msg}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    let mut played: Vec<Option<PlayedInject>> = vec![None; scenario.injects.len()];
    for step in &steps {
        wait_for(&clock, step.at_ms, &progress).await;
        let inject = &scenario.injects[step.inject_idx];
        let label = inject.label_or(step.inject_idx);
        progress.set_message(format!(
            "inject {}/{}: {label} (T+{:.0} s)",
            step.inject_idx + 1,
            scenario.injects.len(),
            step.at_ms / 1000.0
        ));
        let record = played[step.inject_idx].get_or_insert_with(|| PlayedInject {
            label: label.clone(),
            type_name: inject.action.type_name().to_string(),
            at_s: inject.at_s,
            played_at: trilat_node::now(),
            reports: Vec::new(),
            engine: None,
        });
        let published = send(nodes, &step.action)
            .await
            .with_context(|| format!("inject {} ({label})", step.inject_idx + 1))?;
        record.reports.extend(published);
        progress.inc(1);
    }
    progress.finish_with_message("all injects played; letting federation settle");
    tokio::time::sleep(Duration::from_secs(args.settle_s)).await;
    let ended_at = trilat_node::now();
    Ok(RunRecord {
        run_id: run_id(&scenario.name, start_ms),
        scenario: scenario.name.clone(),
        speed: args.speed,
        started_at: Timestamp::from_unix_ms(start_ms),
        ended_at,
        nodes: nodes
            .iter()
            .map(|n| RunNode {
                party: n.party.clone(),
                url: n.url.clone(),
            })
            .collect(),
        injects: with_engine_windows(scenario, &steps, played, ended_at),
    })
}

fn run_id(scenario: &str, start_ms: i64) -> String {
    format!("{scenario}-{start_ms}")
}

/// Waits until exercise time `at_ms`, looking at the clock every tick (it
/// may be paused or resumed meanwhile).
async fn wait_for(clock: &Mutex<ExerciseClock>, at_ms: f64, progress: &indicatif::ProgressBar) {
    loop {
        let wait = clock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .wait_ms(at_ms, trilat_node::now_ms());
        match wait {
            Some(0) => return,
            Some(ms) => tokio::time::sleep(Duration::from_millis(ms.min(TICK_MS))).await,
            None => {
                progress.set_message("PAUSED (type r and Enter to resume)");
                tokio::time::sleep(Duration::from_millis(TICK_MS)).await;
            }
        }
    }
}

/// `p` pauses the exercise clock, `r` resumes it (one per line on stdin;
/// a thread of its own, as reading stdin blocks).
fn pause_from_stdin(clock: Arc<Mutex<ExerciseClock>>) {
    use std::io::BufRead as _;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else {
            return;
        };
        let mut clock = clock.lock().unwrap_or_else(|p| p.into_inner());
        match line.trim() {
            "p" | "pause" => clock.pause(trilat_node::now_ms()),
            "r" | "resume" => clock.resume(trilat_node::now_ms()),
            _ => {}
        }
    }
}

/// Sends one step to its party's node; the ids of reports it published.
async fn send(nodes: &[NodeHandle], action: &StepAction) -> anyhow::Result<Vec<ReportId>> {
    let party = step_party(action);
    let node = nodes
        .iter()
        .find(|n| &n.party == party)
        .expect("check_parties found every party");
    match action {
        StepAction::Publish {
            kind,
            marking,
            payload,
            ..
        } => {
            let body =
                json!({ "kind": kind, "marking": marking, "payload": payload, "exercise": true });
            let answer = retrying(|| node.client.post("/api/v1/reports", &body)).await?;
            let report: Report = serde_json::from_value(answer["report"].clone())
                .context("the node's answer has no report")?;
            if !report.exercise {
                bail!(
                    "{}: report {} was stored without the exercise flag; stop the exercise and check the node",
                    node.url,
                    report.id
                );
            }
            Ok(vec![report.id])
        }
        StepAction::Detections { records, .. } => {
            let mut body = String::new();
            for record in records {
                body.push_str(&serde_json::to_string(record)?);
                body.push('\n');
            }
            retrying(|| {
                node.client
                    .post_text("/api/v1/missile/detections", body.clone())
            })
            .await?;
            Ok(Vec::new())
        }
        StepAction::Nmea { lines, .. } => {
            let body = lines.join("\n");
            retrying(|| node.client.post_text("/api/v1/ais/nmea", body.clone())).await?;
            Ok(Vec::new())
        }
    }
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

/// The run's injects with, for engine-made ones, how their products are
/// found: kind, the parties whose engines were fed, and the time from the
/// inject's first step to the next inject of the same engine (or the end).
fn with_engine_windows(
    scenario: &Scenario,
    steps: &[Step],
    played: Vec<Option<PlayedInject>>,
    ended_at: Timestamp,
) -> Vec<PlayedInject> {
    let prefix = |action: &Action| match action {
        Action::MissileLaunch(_) => Some("missile."),
        Action::AisStory(_) => Some("maritime."),
        _ => None,
    };
    let mut injects: Vec<PlayedInject> = played.into_iter().flatten().collect();
    assert_eq!(
        injects.len(),
        scenario.injects.len(),
        "every inject has a step"
    );
    for idx in 0..injects.len() {
        let action = &scenario.injects[idx].action;
        let Some(kind_prefix) = prefix(action) else {
            continue;
        };
        let mut owners: Vec<Party> = steps
            .iter()
            .filter(|s| s.inject_idx == idx)
            .map(|s| step_party(&s.action).clone())
            .collect();
        owners.sort();
        owners.dedup();
        let to = (idx + 1..injects.len())
            .find(|&next| prefix(&scenario.injects[next].action) == Some(kind_prefix))
            .map_or(ended_at, |next| injects[next].played_at);
        let missiles = match action {
            Action::MissileLaunch(launch) => Some(launch.missiles),
            _ => None,
        };
        injects[idx].engine = Some(EngineProducts {
            kind_prefix: kind_prefix.to_string(),
            owners,
            from: injects[idx].played_at,
            to,
            missiles,
        });
    }
    injects
}

fn write_run(run: &RunRecord, out: &Path) -> anyhow::Result<PathBuf> {
    let path = out.join(format!("{}.run.json", run.run_id));
    std::fs::write(&path, serde_json::to_vec_pretty(run)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

async fn report(args: ReportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.run)
        .with_context(|| format!("reading the run record {}", args.run.display()))?;
    let run: RunRecord = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a run record", args.run.display()))?;
    let urls: Vec<String> = if args.nodes.is_empty() {
        run.nodes.iter().map(|n| n.url.clone()).collect()
    } else {
        args.nodes.clone()
    };
    let nodes = connect(&urls, &args.tokens).await?;
    for (node, expected) in nodes.iter().zip(&run.nodes) {
        if node.party != expected.party {
            bail!(
                "{}: a {} node, but the run played {} there (give the nodes in the run's order)",
                node.url,
                node.party,
                expected.party
            );
        }
    }
    write_report(&run, &nodes, &args.out).await
}

/// Reads the evidence, builds the report, writes JSON and HTML.
async fn write_report(run: &RunRecord, nodes: &[NodeHandle], out: &Path) -> anyhow::Result<()> {
    let report = build_report(run, nodes).await?;
    let json_path = out.join(format!("{}.after-action.json", run.run_id));
    let html_path = out.join(format!("{}.after-action.html", run.run_id));
    std::fs::write(&json_path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", json_path.display()))?;
    std::fs::write(&html_path, trilat_exercise::html::render(&report))
        .with_context(|| format!("writing {}", html_path.display()))?;
    print_summary(&report);
    println!("{}\n{}", json_path.display(), html_path.display());
    Ok(())
}

fn print_summary(report: &AfterAction) {
    let ms = |v: Option<i64>| v.map_or("-".to_string(), |v| format!("{v} ms"));
    println!("{} ({} injects)", report.scenario, report.injects.len());
    for s in &report.summary {
        println!(
            "  {}: {} received, {} withheld, {} missing; latency p50 {}, p90 {}, max {}",
            s.party,
            s.n_received,
            s.n_withheld,
            s.n_missing,
            ms(s.latency_ms_p50),
            ms(s.latency_ms_p90),
            ms(s.latency_ms_max)
        );
    }
    for finding in &report.findings {
        println!(
            "  {:?} (inject {}): {}",
            finding.kind,
            finding.inject_idx + 1,
            finding.message
        );
    }
}

async fn build_report(run: &RunRecord, nodes: &[NodeHandle]) -> anyhow::Result<AfterAction> {
    let mut evidence = Vec::with_capacity(nodes.len());
    for node in nodes {
        let reports = exercise_reports(node).await?;
        let (receipts, acknowledgements) = audit_evidence(node, run.started_at).await?;
        evidence.push(NodeEvidence {
            party: Some(node.party.clone()),
            reports,
            receipts,
            acknowledgements,
        });
    }
    let withheld = withheld_reasons(nodes, &evidence).await?;
    Ok(trilat_exercise::after_action(
        run,
        &Evidence {
            nodes: &evidence,
            withheld: &withheld,
        },
    ))
}

/// Every exercise report the node stores (current versions), page by page.
async fn exercise_reports(node: &NodeHandle) -> anyhow::Result<Vec<Report>> {
    let mut reports = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = node
            .client
            .get(&format!(
                "/api/v1/reports?exercise=true&limit={PAGE_LIMIT}&cursor={cursor}"
            ))
            .await?;
        let batch: Vec<Report> = serde_json::from_value(page["reports"].clone())
            .with_context(|| format!("{}: reports page", node.url))?;
        reports.extend(batch);
        if reports.len() > REPORTS_MAX {
            bail!("{}: more than {REPORTS_MAX} exercise reports", node.url);
        }
        match page["next"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => return Ok(reports),
        }
    }
}

/// The `receive` and `acknowledge` entries of the node's audit log from
/// `since` on.
async fn audit_evidence(
    node: &NodeHandle,
    since: Timestamp,
) -> anyhow::Result<(Vec<Receipt>, Vec<Acknowledgement>)> {
    let mut receipts = Vec::new();
    let mut acknowledgements = Vec::new();
    let mut after = 0u64;
    let mut n_read = 0usize;
    loop {
        let page = node
            .client
            .get(&format!("/api/v1/audit?after={after}&limit={PAGE_LIMIT}"))
            .await?;
        let entries: Vec<trilat_store::AuditEntry> =
            serde_json::from_value(page["entries"].clone())
                .with_context(|| format!("{}: audit page", node.url))?;
        let Some(last) = entries.last() else {
            return Ok((receipts, acknowledgements));
        };
        after = last.seq;
        n_read += entries.len();
        if n_read > AUDIT_ENTRIES_MAX {
            bail!("{}: more than {AUDIT_ENTRIES_MAX} audit entries", node.url);
        }
        for entry in entries {
            let event = entry.event;
            if event.at < since {
                continue;
            }
            let Some(report_id) = event.report_id else {
                continue;
            };
            match event.action {
                AuditAction::Receive => receipts.push(receipt_of(report_id, event)),
                AuditAction::Acknowledge => acknowledgements.push(Acknowledgement {
                    report_id,
                    by: event.actor,
                    at: event.at,
                }),
                _ => {}
            }
        }
    }
}

/// A `receive` entry; its detail reads `version N MARKING`.
fn receipt_of(report_id: ReportId, event: trilat_store::AuditEvent) -> Receipt {
    Receipt {
        report_id,
        version: event
            .detail
            .strip_prefix("version ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok()),
        from: event.counterparty,
        at: event.at,
    }
}

/// For each product a party does not hold, the release rule's reason as
/// the owner's node states it (`POST /api/v1/release/preview`, the rule's
/// own call); no reason when the rule would release it (a gap).
async fn withheld_reasons(
    nodes: &[NodeHandle],
    evidence: &[NodeEvidence],
) -> anyhow::Result<BTreeMap<(ReportId, Party), String>> {
    let mut reasons = BTreeMap::new();
    let mut previews: BTreeMap<String, Value> = BTreeMap::new();
    for (owner_node, owner_evidence) in nodes.iter().zip(evidence) {
        for report in owner_evidence
            .reports
            .iter()
            .filter(|r| r.owner == owner_node.party)
        {
            let lacking: Vec<&Party> = nodes
                .iter()
                .zip(evidence)
                .filter(|(n, e)| {
                    n.party != report.owner && !e.reports.iter().any(|r| r.id == report.id)
                })
                .map(|(n, _)| &n.party)
                .collect();
            if lacking.is_empty() {
                continue;
            }
            let body = json!({ "marking": report.marking, "kind": report.kind });
            let key = body.to_string();
            if !previews.contains_key(&key) {
                let answer = owner_node
                    .client
                    .post("/api/v1/release/preview", &body)
                    .await?;
                previews.insert(key.clone(), answer);
            }
            for recipient in previews[&key]["recipients"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let Some(party) = recipient["party"].as_str() else {
                    continue;
                };
                let (Some(reason), false) =
                    (recipient["reason"].as_str(), recipient["released"] == true)
                else {
                    continue;
                };
                if let Some(party) = lacking.iter().find(|p| p.as_str() == party) {
                    reasons.insert((report.id, (*party).clone()), reason.to_string());
                }
            }
        }
    }
    Ok(reasons)
}
