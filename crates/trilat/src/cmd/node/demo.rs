//! `trilat demo`: three partner nodes on loopback, an exercise story paced
//! for someone watching the consoles, and a banner that says where to look
//! and when.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde_json::json;
use trilat_core::{Party, Timestamp};
use trilat_node::cluster::{
    demo_live_notes, demo_policy, demo_scenario, Cluster, ClusterNode, ClusterSpec, DEMO_LIVE_NOTES,
};
use trilat_node::config::Limits;

use crate::cmd::exercise::DemoStarter;
use trilat_node::engines::demo::{replay, schedule};
use trilat_node::engines::DemoSchedule;
use trilat_node::engines::{load_list_store, SanctionsStatus};

/// What `trilat demo` was asked for.
pub struct DemoArgs {
    /// First port; the nodes listen on PORT, PORT+1, PORT+2.
    pub port: u16,
    /// Where to keep the nodes' data; `None`: a temporary folder.
    pub dir: Option<PathBuf>,
    /// Keep the temporary folder on exit.
    pub keep: bool,
    /// Start the exercise story again every so many minutes.
    pub replay_every_min: Option<u64>,
    /// Print the banner as one JSON line instead of text.
    pub json_banner: bool,
    /// Sanctions list stores (`trilat sanctions import --store DIR`) every
    /// node screens against.
    pub sanctions_stores: Vec<PathBuf>,
    /// USGS MCS 2024 and WGI files or folders every node's supply engine reads.
    pub supply_data: Vec<PathBuf>,
}

/// The node that flies the demo launch (it fuses the three partners' radars).
const LAUNCH_PARTY: &str = "JPN";
/// The node that posts the demo's seismic event (the Korea Meteorological
/// Administration runs the peninsula's seismic network).
const SEISMIC_PARTY: &str = "KOR";
/// How long the nodes' engines may take to start their story.
const ENGINES_WAIT_S_MAX: u64 = 60;
/// Shortest replay period accepted: the story lasts about ten minutes (the
/// launch at 2:00 falls at 9:40), and a shorter period would cut it before
/// the missile lands.
const REPLAY_EVERY_MIN_MIN: u64 = 10;
/// Longest replay period accepted (a day).
const REPLAY_EVERY_MIN_MAX: u64 = 24 * 60;
/// Where the UN Security Council publishes its consolidated list (it holds
/// the DPRK designations; see docs/sanctions.md for the others).
const UN_LIST_URL: &str = "https://scsanctions.un.org/resources/xml/en/consolidated.xml";

/// Runs the demo until Ctrl-C (or SIGTERM), then removes its temporary
/// folder unless asked to keep it.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    if let Some(minutes) = args.replay_every_min {
        if !(REPLAY_EVERY_MIN_MIN..=REPLAY_EVERY_MIN_MAX).contains(&minutes) {
            bail!(
                "--replay-every {minutes}: expected {REPLAY_EVERY_MIN_MIN} to {REPLAY_EVERY_MIN_MAX} minutes (the story lasts about ten)"
            );
        }
    }
    let sanctions = demo_sanctions(&args.sanctions_stores)?;
    let supply = demo_supply(&args.supply_data)?;
    let (dir, temporary) = match &args.dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("trilat-demo-{}", std::process::id())),
            true,
        ),
    };
    let outcome = serve(&args, &dir, temporary, &[sanctions, supply]).await;
    if temporary && !args.keep {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => eprintln!("removed {}", dir.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!("could not remove {}: {e}", dir.display()),
        }
    } else {
        eprintln!("the nodes' data stays in {}", dir.display());
    }
    outcome
}

async fn serve(
    args: &DemoArgs,
    dir: &Path,
    temporary: bool,
    [sanctions, supply]: &[toml::Table; 2],
) -> anyhow::Result<()> {
    let parties = ["USA", "JPN", "KOR"].map(|p| Party::new(p).expect("static party code"));
    let port_last = args.port.checked_add(2).context("--port is too high")?;
    let cluster = Cluster::start(ClusterSpec {
        parties: parties.to_vec(),
        dir: dir.to_path_buf(),
        ports: Some(vec![args.port, args.port + 1, port_last]),
        policy: demo_policy(),
        limits: Limits::default(),
        engines: parties
            .iter()
            .map(|party| (party.clone(), demo_engines(party, sanctions, supply)))
            .collect(),
    })
    .await?;
    let start_ms = trilat_node::now_ms();
    let n_reports = demo_scenario(&cluster).await?;
    offer_scenarios(&cluster, dir)?;
    let states = cluster.nodes.iter().map(|n| n.node.state.clone()).collect();
    tokio::spawn(demo_live_notes(states, start_ms));
    let schedules = wait_for_schedules(&cluster).await?;
    let sanctions = sanctions_status(&cluster);
    let banner = Banner {
        cluster: &cluster,
        dir,
        temporary: temporary && !args.keep,
        n_reports,
        start_ms,
        schedules: &schedules,
        replay_every_min: args.replay_every_min,
        sanctions: &sanctions,
    };
    if args.json_banner {
        println!("{}", banner.json());
    } else {
        banner.print();
    }
    until_stopped(&cluster, args.replay_every_min).await
}

/// Lets each node's admins start plays of the shipped scenarios from the
/// console (the demo holds every node's admin token; a node alone cannot).
fn offer_scenarios(cluster: &Cluster, dir: &Path) -> anyhow::Result<()> {
    let nodes = cluster
        .nodes
        .iter()
        .map(|n| (n.url.clone(), n.admin_token().to_string()))
        .collect();
    let starter = Arc::new(DemoStarter::new(nodes, dir.join("exercise"))?);
    for node in &cluster.nodes {
        if node
            .node
            .state
            .exercises
            .set_starter(starter.clone())
            .is_err()
        {
            bail!("{}: a scenario starter was already set", node.party);
        }
    }
    Ok(())
}

/// The demo's `[engines]` table for `party`: every engine report is an
/// exercise; the AIS scenario plays on every node that has a feed in it;
/// the missile launch is fused at [`LAUNCH_PARTY`]; the seismic event is
/// posted at [`SEISMIC_PARTY`]; `sanctions` is every node's
/// `[engines.sanctions]` ([`demo_sanctions`]), `supply` its
/// `[engines.supply]` ([`demo_supply`]).
fn demo_engines(party: &Party, sanctions: &toml::Table, supply: &toml::Table) -> toml::Table {
    let mut missile = toml::Table::new();
    missile.insert(
        "demo_launch".into(),
        toml::Value::Boolean(party.as_str() == LAUNCH_PARTY),
    );
    let mut seismic = toml::Table::new();
    seismic.insert(
        "demo_event".into(),
        toml::Value::Boolean(party.as_str() == SEISMIC_PARTY),
    );
    let mut engines = toml::Table::new();
    engines.insert("demo".into(), toml::Value::Boolean(true));
    engines.insert("exercise".into(), toml::Value::Boolean(true));
    engines.insert("missile".into(), toml::Value::Table(missile));
    engines.insert("seismic".into(), toml::Value::Table(seismic));
    engines.insert("sanctions".into(), toml::Value::Table(sanctions.clone()));
    engines.insert("supply".into(), toml::Value::Table(supply.clone()));
    engines
}

/// The nodes' `[engines.supply]`: the files given (by absolute path), and
/// the example grouping trilat-supply ships (`GROUPS_EXAMPLE`), so the
/// console shows concern, partner and ally shares.
fn demo_supply(data: &[PathBuf]) -> anyhow::Result<toml::Table> {
    let mut paths = Vec::new();
    for path in data {
        let absolute = std::fs::canonicalize(path)
            .with_context(|| format!("--supply-data {}", path.display()))?;
        paths.push(toml::Value::String(absolute.display().to_string()));
    }
    let groups: toml::Table =
        toml::from_str(trilat_supply::GROUPS_EXAMPLE).context("the shipped example grouping")?;
    let mut supply = toml::Table::new();
    supply.insert("data".into(), toml::Value::Array(paths));
    supply.insert("groups".into(), toml::Value::Table(groups));
    Ok(supply)
}

/// The nodes' `[engines.sanctions]`: the list stores given (checked here,
/// so a wrong folder stops the demo with the reason instead of a node
/// quietly screening nothing), by absolute path since the nodes' configs
/// live elsewhere (Han readings ship with Trilat).
fn demo_sanctions(stores: &[PathBuf]) -> anyhow::Result<toml::Table> {
    let mut lists = Vec::new();
    for store in stores {
        let absolute = std::fs::canonicalize(store)
            .with_context(|| format!("--sanctions-store {}", store.display()))?;
        load_list_store(&absolute)
            .map_err(|e| anyhow::anyhow!("--sanctions-store {}: {e}", store.display()))?;
        lists.push(toml::Value::String(absolute.display().to_string()));
    }
    let mut sanctions = toml::Table::new();
    sanctions.insert("lists".into(), toml::Value::Array(lists));
    Ok(sanctions)
}

/// Each node's sanctions status, once its engines have started.
fn sanctions_status(cluster: &Cluster) -> Vec<Option<SanctionsStatus>> {
    cluster
        .nodes
        .iter()
        .map(|node| {
            let engines = node.node.state.engines.get().ok()?;
            Some(engines.sanctions.status().clone())
        })
        .collect()
}

/// Each node's story schedule, once its engines have started.
async fn wait_for_schedules(cluster: &Cluster) -> anyhow::Result<Vec<DemoSchedule>> {
    for _ in 0..ENGINES_WAIT_S_MAX * 10 {
        let found: Option<Vec<DemoSchedule>> = cluster
            .nodes
            .iter()
            .map(|node| schedule(&node.node.state))
            .collect();
        if let Some(found) = found {
            return Ok(found);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the nodes' engines did not start within {ENGINES_WAIT_S_MAX} s (run with RUST_LOG=info to see why)")
}

/// Waits for Ctrl-C or SIGTERM, replaying the story every `replay_every_min`.
async fn until_stopped(cluster: &Cluster, replay_every_min: Option<u64>) -> anyhow::Result<()> {
    let period = Duration::from_secs(replay_every_min.unwrap_or(0) * 60);
    loop {
        let tick = async {
            if period.is_zero() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(period).await;
        };
        tokio::select! {
            stopped = super::stop_signal() => {
                eprintln!("stopping");
                return stopped;
            }
            () = tick => {
                for node in &cluster.nodes {
                    match replay(&node.node.state) {
                        Ok(schedule) => {
                            if let Some(launch) = schedule.launch_at {
                                eprintln!("replaying the exercise story; launch at {} UTC", clock(&launch));
                            }
                        }
                        Err(e) => eprintln!("{}: replay not started: {e}", node.party),
                    }
                }
            }
        }
    }
}

/// `HH:MM:SS` of a time (UTC).
fn clock(at: &Timestamp) -> String {
    let text = at.to_string();
    text.get(11..19).unwrap_or(&text).to_string()
}

/// This program as a command that works when pasted into a shell: the
/// absolute path of the running executable (`cargo run` builds it under
/// `target/`), quoted when it needs to be.
fn this_program() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "cargo run -q -p trilat --".to_string();
    };
    let path = exe.display().to_string();
    let plain = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c));
    if plain {
        path
    } else {
        format!("'{}'", path.replace('\'', r"'\''"))
    }
}

/// What the demo prints once its nodes run.
struct Banner<'a> {
    cluster: &'a Cluster,
    dir: &'a Path,
    /// The folder is removed on exit.
    temporary: bool,
    n_reports: usize,
    start_ms: i64,
    schedules: &'a [DemoSchedule],
    replay_every_min: Option<u64>,
    /// Each node's sanctions status, in the order of the cluster's nodes.
    sanctions: &'a [Option<SanctionsStatus>],
}

/// The sign-in link of a node's console: the token travels in the URL
/// fragment, which the browser never sends to the server.
fn console_link(node: &ClusterNode, token: &str) -> String {
    format!("{}/#token={token}", node.url)
}

impl Banner<'_> {
    fn launch(&self) -> Option<&Timestamp> {
        self.schedules.iter().find_map(|s| s.launch_at.as_ref())
    }

    fn seismic(&self) -> Option<&Timestamp> {
        self.schedules.iter().find_map(|s| s.seismic_at.as_ref())
    }

    /// The maritime story's window over every node that plays it.
    fn maritime(&self) -> Option<(&Timestamp, &Timestamp)> {
        let from = self
            .schedules
            .iter()
            .filter_map(|s| s.maritime_from.as_ref())
            .min()?;
        let to = self
            .schedules
            .iter()
            .filter_map(|s| s.maritime_to.as_ref())
            .max()?;
        Some((from, to))
    }

    fn live_note_times(&self) -> Vec<Timestamp> {
        DEMO_LIVE_NOTES
            .iter()
            .map(|note| Timestamp::from_unix_ms(self.start_ms + note.after_s as i64 * 1000))
            .collect()
    }

    fn print(&self) {
        let folder = if self.temporary {
            "removed on Ctrl-C; --keep keeps it"
        } else {
            "kept on exit"
        };
        println!(
            "Trilat demo: three partner nodes on loopback (data in {}, {folder})",
            self.dir.display()
        );
        println!(
            "{} reports published at different markings; exercise reports stay separate.\n",
            self.n_reports
        );
        println!("Open a console (the link signs you in; the token stays in your browser):");
        for node in &self.cluster.nodes {
            let reader = node.reader_token(&node.party);
            println!("{}  {}", node.party, node.url);
            println!("     admin token: {}", node.admin_token());
            println!("     reader token: {reader}");
            println!(
                "     console (admin):  {}",
                console_link(node, node.admin_token())
            );
            println!("     console (reader): {}", console_link(node, reader));
        }
        self.print_story();
        self.print_sanctions();
        self.print_commands();
        println!("\nRunning until Ctrl-C.");
    }

    fn print_story(&self) {
        println!("\nEXERCISE story (the consoles' EXERCISE mode; never mixed with real-world data), UTC:");
        if let Some((from, to)) = self.maritime() {
            println!(
                "  {}–{}  maritime: JPN's and KOR's AIS feeds replay a day in the East China Sea in",
                clock(from),
                clock(to)
            );
            println!("      a few minutes: fishing boats at work, a DPRK-linked vessel (RYONGGANG 7) that went");
            println!("      dark for 13 h reappears alongside a tanker broadcasting a bad IMO number, and they");
            println!("      drift together for hours (maritime.event: identity, gap, loitering, encounter).");
        }
        if let Some(launch) = self.launch() {
            println!(
                "  {}           missile: a simulated launch from Sunan toward the Sea of Japan; {LAUNCH_PARTY} fuses",
                clock(launch)
            );
            println!("      the three partners' radar detections: launch warning within about 30 s, first impact");
            println!("      assessment and warning level within a minute, then tracks and updates as it flies.");
        }
        if let Some(seismic) = self.seismic() {
            println!(
                "  {}           seismic: a synthetic event at the Punggye-ri test site (mb 5.6, 0.7 km deep);",
                clock(seismic)
            );
            println!("      {SEISMIC_PARTY} posts it through its seismic ingest: a seismic.event and a nuclear.assessment");
            println!("      (likely nuclear test: at the site, shallow, explosion-like mb-Ms), shared with USA and JPN.");
        }
        let notes: Vec<String> = self.live_note_times().iter().map(clock).collect();
        println!(
            "Real world: more notes arrive at {} (the consoles' normal mode).",
            notes.join(" and ")
        );
        match self.replay_every_min {
            Some(minutes) => println!("The exercise story starts again every {minutes} min."),
            None => println!(
                "Replay the exercise story: --replay-every MINUTES, or the replay command below."
            ),
        }
    }

    /// Whether the Screening view has lists, and if not, how to get them.
    fn print_sanctions(&self) {
        let loaded: Vec<&SanctionsStatus> = self
            .sanctions
            .iter()
            .flatten()
            .filter(|s| s.loaded)
            .collect();
        if let Some(status) = loaded.first() {
            let lists: Vec<String> = status
                .lists
                .iter()
                .map(|l| format!("{} {}", l.list, l.version))
                .collect();
            let han = if status.han_readings {
                "Han-character names are read through the shipped Unihan table"
            } else {
                "Han-character names match only Han names"
            };
            println!(
                "\nSanctions screening (the consoles' Screening view): {} entities on {} of {} nodes, from {}; {han}.",
                status.entities,
                loaded.len(),
                self.cluster.nodes.len(),
                lists.join(", ")
            );
            for (node, status) in self.cluster.nodes.iter().zip(self.sanctions) {
                if let Some(note) = status.as_ref().and_then(|s| s.note.as_ref()) {
                    println!("  {}: not loaded: {note}", node.party);
                }
            }
            return;
        }
        let trilat = this_program();
        println!("\nSanctions screening: no lists loaded (the lists are not shipped; you download them). To screen names:");
        println!("  curl -fLo consolidated.xml {UN_LIST_URL}");
        println!("  {trilat} sanctions import consolidated.xml");
        match crate::cmd::sanctions::store_default() {
            Ok(store) => println!("  {trilat} demo --sanctions-store {}", store.display()),
            Err(_) => println!("  {trilat} demo --sanctions-store DIR   (the store import wrote)"),
        }
        println!("  (OFAC's and Japan's lists too: docs/sanctions.md, \"Getting the lists\".)");
    }

    fn print_commands(&self) {
        let usa = self.cluster.node("USA");
        let jpn = self.cluster.node("JPN");
        let kor = self.cluster.node("KOR");
        let trilat = this_program();
        println!("\nTry (these work as printed):");
        println!(
            "  curl -s -H 'Authorization: Bearer {}' {}/api/v1/reports",
            jpn.admin_token(),
            jpn.url
        );
        println!(
            "  curl -N -H 'Authorization: Bearer {}' '{}/api/v1/stream?exercise=true'",
            kor.admin_token(),
            kor.url
        );
        println!(
            "  {trilat} report post --node {} --token {} --text hello --rel-to TRILAT",
            usa.url,
            usa.admin_token()
        );
        println!(
            "  curl -s -X POST -H 'Authorization: Bearer {}' {}/api/v1/demo/replay",
            jpn.admin_token(),
            jpn.url
        );
        println!("  # play a shipped scenario across the three nodes (or Start in a console's Exercises view):");
        println!(
            "  curl -s -X POST -H 'Authorization: Bearer {}' {}/api/v1/exercise/scenarios/freedom-edge-day/start",
            usa.admin_token(),
            usa.url
        );
        println!("  (`cargo install --path crates/trilat` puts `trilat` on your PATH.)");
    }

    /// The banner as one JSON object (`--json-banner`).
    fn json(&self) -> serde_json::Value {
        let nodes: Vec<serde_json::Value> = self
            .cluster
            .nodes
            .iter()
            .zip(self.schedules)
            .zip(self.sanctions)
            .map(|((node, schedule), sanctions)| {
                let reader = node.reader_token(&node.party);
                json!({
                    "party": node.party,
                    "url": node.url,
                    "admin_token": node.admin_token(),
                    "reader_token": reader,
                    "console_admin": console_link(node, node.admin_token()),
                    "console_reader": console_link(node, reader),
                    "schedule": schedule,
                    "sanctions": sanctions,
                })
            })
            .collect();
        json!({
            "data_dir": self.dir,
            "data_dir_removed_on_exit": self.temporary,
            "reports_published": self.n_reports,
            "launch_party": LAUNCH_PARTY,
            "launch_at": self.launch(),
            "seismic_party": SEISMIC_PARTY,
            "seismic_at": self.seismic(),
            "maritime_from": self.maritime().map(|m| m.0),
            "maritime_to": self.maritime().map(|m| m.1),
            "live_notes_at": self.live_note_times(),
            "replay_every_min": self.replay_every_min,
            "trilat": this_program(),
            "nodes": nodes,
        })
    }
}
