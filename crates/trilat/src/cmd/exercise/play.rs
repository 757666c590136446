//! `trilat exercise run`: the steps of the plan, each sent on the exercise
//! clock to its party's node; the run record.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde_json::json;
use trilat_core::{Party, Report, ReportId, Timestamp};
use trilat_exercise::after_action::{EngineProducts, PlayedInject, RunNode};
use trilat_exercise::{plan, Action, ExerciseClock, RunRecord, Scenario, Step, StepAction};
use trilat_node::client::NodeClient;
use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
use trilat_node::config::{Limits, Role};

use super::restart::OwnedNodes;
use super::{connect, read_scenario, retrying, NodeHandle, RunArgs};

/// How often a waiting runner looks at the clock (pause, resume).
const TICK_MS: u64 = 100;

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
    action.party()
}

/// Every node a sanctions hit is screened at has lists loaded: refused
/// before anything is played otherwise.
async fn check_sanctions_lists(
    scenario: &Scenario,
    steps: &[Step],
    nodes: &[NodeHandle],
) -> anyhow::Result<()> {
    for step in steps {
        let StepAction::SanctionsHit { party, .. } = &step.action else {
            continue;
        };
        let node = nodes
            .iter()
            .find(|n| &n.party == party)
            .expect("check_parties found every party");
        let status = retrying(|| node.client.get("/api/v1/sanctions/status")).await?;
        if status["loaded"] != true {
            bail!(
                "inject {} ({}): {party}'s node at {} has no sanctions lists loaded ({}); nothing was played",
                step.inject_idx + 1,
                scenario.injects[step.inject_idx].label_or(step.inject_idx),
                node.url,
                status["note"].as_str().unwrap_or("no note")
            );
        }
    }
    Ok(())
}

pub(super) async fn run_scenario(args: RunArgs) -> anyhow::Result<()> {
    let scenario = read_scenario(&args.scenario)?;
    if let Some((idx, why)) = scenario.first_needing_own_nodes().filter(|_| !args.cluster) {
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
        let Some(dir) = &args.cluster_dir else {
            let dir = std::env::temp_dir().join(format!("trilat-exercise-{}", std::process::id()));
            let res = run_on_cluster(&scenario, &args, &dir).await;
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                eprintln!("could not remove {}: {e}", dir.display());
            }
            return res;
        };
        run_on_cluster(&scenario, &args, dir).await?;
        eprintln!(
            "the nodes' files (stores, audit logs, configs): {}",
            dir.display()
        );
        Ok(())
    } else {
        let nodes = connect(&args.nodes, &args.tokens).await?;
        let run = play(&scenario, &nodes, &args, None).await?;
        let path = write_run(&run, &args.out)?;
        if args.publish {
            eprintln!("run record: {}", path.display());
            let report = super::report::write_report(&run, &nodes, &args.out).await?;
            return super::control::publish(&report, &nodes).await;
        }
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
    let cluster = start_cluster(dir, args.sanctions_store.as_deref()).await?;
    let nodes: Vec<NodeHandle> = cluster
        .nodes
        .iter()
        .map(|n| NodeHandle {
            party: n.party.clone(),
            url: n.url.clone(),
            client: NodeClient::new(&n.url, n.admin_token()),
        })
        .collect();
    let mut owned = OwnedNodes::new(cluster, dir);
    let run = play(scenario, &nodes, args, Some(&mut owned)).await?;
    let path = write_run(&run, &args.out)?;
    eprintln!("run record: {}", path.display());
    let report = super::report::write_report(&run, &nodes, &args.out).await?;
    if args.publish {
        super::control::publish(&report, &nodes).await?;
    }
    Ok(())
}

async fn start_cluster(dir: &Path, sanctions_store: Option<&Path>) -> anyhow::Result<Cluster> {
    let parties = ["USA", "JPN", "KOR"].map(|p| Party::new(p).expect("static party code"));
    let mut engines = toml::Table::new();
    engines.insert("exercise".into(), toml::Value::Boolean(true));
    if let Some(store) = sanctions_store {
        let store = std::fs::canonicalize(store)
            .with_context(|| format!("the sanctions store {}", store.display()))?;
        let mut sanctions = toml::Table::new();
        sanctions.insert(
            "lists".into(),
            toml::Value::Array(vec![toml::Value::String(store.display().to_string())]),
        );
        engines.insert("sanctions".into(), toml::Value::Table(sanctions));
    }
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

/// Plays the steps on the exercise clock; returns the run record. `owned`:
/// the nodes the runner started, which `node_restart` steps stop and start.
async fn play(
    scenario: &Scenario,
    nodes: &[NodeHandle],
    args: &RunArgs,
    mut owned: Option<&mut OwnedNodes>,
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
    check_sanctions_lists(scenario, &steps, nodes).await?;
    let clock = Arc::new(Mutex::new(ExerciseClock::start(args.speed, start_ms)?));
    let run_id = (args.run_id.clone()).unwrap_or_else(|| run_id(&scenario.name, start_ms));
    let control = super::control::Control::register(
        nodes,
        &run_id,
        &scenario.name,
        scenario.injects.len(),
        &steps,
        clock.clone(),
    )
    .await?;
    let progress = if args.unattended {
        indicatif::ProgressBar::hidden()
    } else {
        let clock_of_stdin = clock.clone();
        std::thread::spawn(move || pause_from_stdin(clock_of_stdin));
        indicatif::ProgressBar::new(steps.len() as u64)
    };
    progress.set_length(steps.len() as u64);
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
            ended_at: None,
            outage_parties: inject
                .action
                .outage()
                .map(|(_, parties)| parties.into_iter().cloned().collect())
                .unwrap_or_default(),
        });
        let sent = match (&step.action, owned.as_deref_mut()) {
            (StepAction::Node { party, up }, Some(owned)) => {
                owned.set(party, *up).await.map(|()| Vec::new())
            }
            _ => send(nodes, &step.action).await,
        };
        let published = match sent {
            Ok(published) => published,
            Err(e) => {
                control.finish().await;
                restore_links(nodes, &steps).await;
                return Err(e.context(format!("inject {} ({label})", step.inject_idx + 1)));
            }
        };
        record.reports.extend(published);
        record.ended_at = Some(trilat_node::now());
        progress.inc(1);
        control.step_done(step.inject_idx);
    }
    control.finish().await;
    progress.finish_with_message("all injects played; letting federation settle");
    tokio::time::sleep(Duration::from_secs(args.settle_s)).await;
    let ended_at = trilat_node::now();
    Ok(RunRecord {
        run_id,
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

/// After a failed step: resumes every link the plan cuts, so a stopped
/// run leaves no node cut off (a link not cut yet answers `changed: false`).
/// Best effort: a failure is only reported.
async fn restore_links(nodes: &[NodeHandle], steps: &[Step]) {
    for step in steps {
        let StepAction::Link {
            party,
            peer,
            suspend: false,
        } = &step.action
        else {
            continue;
        };
        if let Err(e) = send(nodes, &step.action).await {
            eprintln!("could not restore the link from {party} to {peer}: {e:#}");
        }
    }
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
            exercise_report(node, &answer["report"])
        }
        StepAction::Detections { records, .. } => {
            let mut body = String::new();
            for record in records {
                body.push_str(&serde_json::to_string(record)?);
                body.push('\n');
            }
            let answer = retrying(|| {
                node.client
                    .post_text("/api/v1/missile/detections", body.clone())
            })
            .await?;
            published_ids(&answer)
        }
        StepAction::Nmea { lines, .. } => {
            let body = lines.join("\n");
            let answer =
                retrying(|| node.client.post_text("/api/v1/ais/nmea", body.clone())).await?;
            published_ids(&answer)
        }
        StepAction::Bulletin { text, .. } => {
            let answer = retrying(|| {
                node.client
                    .post_text("/api/v1/seismic/events", text.clone())
            })
            .await?;
            // One event per bulletin: read, assessed and published, or a stop.
            let Some(event) = answer["events"].get(0) else {
                bail!(
                    "{}: the seismic reader found no event in the bulletin: {}",
                    node.url,
                    answer["diagnostics"]
                );
            };
            if let Some(errors) = event["errors"].as_array().filter(|e| !e.is_empty()) {
                bail!(
                    "{}: the seismic engine did not publish: {errors:?}",
                    node.url
                );
            }
            published_ids(&answer)
        }
        StepAction::SanctionsHit {
            party,
            screen,
            decision,
            note,
            marking,
        } => {
            let answer = retrying(|| node.client.post("/api/v1/sanctions/screen", screen)).await?;
            let Some(hit) = answer["hits"].get(0) else {
                bail!(
                    "{}: screening {} at {party}'s node found no hit above the alert threshold; no hit report to share",
                    node.url,
                    screen["name"]
                );
            };
            let mut body =
                json!({ "query": answer["query"], "hit": hit, "decision": decision, "note": note });
            if let Some(marking) = marking {
                body["marking"] = json!(marking);
            }
            let report = retrying(|| node.client.post("/api/v1/sanctions/hits", &body)).await?;
            exercise_report(node, &report)
        }
        StepAction::Node { .. } => {
            bail!("only the runner that started the nodes (--cluster) can stop and start them")
        }
        StepAction::Link { peer, suspend, .. } => {
            let verb = if *suspend { "suspend" } else { "resume" };
            let path = format!("/api/v1/federation/peers/{peer}/{verb}");
            let empty = json!({});
            retrying(|| node.client.post(&path, &empty)).await?;
            Ok(Vec::new())
        }
    }
}

/// The id of a report the node answered with, refused when it is not
/// flagged exercise.
fn exercise_report(node: &NodeHandle, answer: &serde_json::Value) -> anyhow::Result<Vec<ReportId>> {
    let report: Report =
        serde_json::from_value(answer.clone()).context("the node's answer has no report")?;
    if !report.exercise {
        bail!(
            "{}: report {} was stored without the exercise flag; stop the exercise and check the node",
            node.url,
            report.id
        );
    }
    Ok(vec![report.id])
}

/// The reports an engine published from one request (`reports` in the
/// ingest routes' answers).
fn published_ids(answer: &serde_json::Value) -> anyhow::Result<Vec<ReportId>> {
    serde_json::from_value(answer["reports"].clone())
        .context("the node's answer lists no published reports")
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
