//! `trilat`: the command-line tool. Glue only: flags → validated config → library calls.
//! Exit codes are set in one place, `exit.rs`.
mod cmd;
mod exit;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const START_HERE: &str = "\
Start here:
  trilat demo                          three partner nodes on loopback
  trilat init --party JPN --dir ./jpn  create your own node
  trilat serve --config ./jpn/trilat.toml

Every command has --help with examples.";

/// Trilat: allied information sharing and fusion.
#[derive(Debug, Parser)]
#[command(
    name = "trilat",
    version,
    about,
    long_about = None,
    after_help = format!("{START_HERE}\n\n{}", exit::HELP)
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Examples shown by `trilat sanctions --help`.
const SANCTIONS_EXAMPLES: &str = "Examples:
  trilat sanctions import UN_consolidated.xml sdn.csv alt.csv add.csv
  trilat sanctions screen \"Kim Jong-un\" --schema person --dob 1984
  trilat sanctions compare \"김정은\" \"Kim Jong Un\"

Each command has --help with more examples.";

/// Examples shown by `trilat ais --help`.
const AIS_EXAMPLES: &str = "Examples:
  trilat ais decode capture.nmea --json
  trilat ais analyze day.nmea --zones fixture --json > events.jsonl
  trilat ais send day.nmea --token trl_...

Each command has --help with more examples.";

/// Examples shown by `trilat missile --help`.
const MISSILE_EXAMPLES: &str = "Examples:
  trilat missile simulate --out-dir /tmp/flight
  trilat missile assess --sensors /tmp/flight/SENSORS.json /tmp/flight/DETECTIONS.jsonl
  trilat missile eval classes --flights-per-class 10

Each command has --help with more examples.";

/// Examples shown by `trilat seismic --help`.
const SEISMIC_EXAMPLES: &str = "Examples:
  trilat seismic assess bulletin.txt
  trilat seismic assess events.xml feed.geojson --json > assessments.json

Each command has --help with more examples.";

/// Examples shown by `trilat cyber --help`.
const CYBER_EXAMPLES: &str = "Examples:
  trilat cyber import bundle.json --owner KOR --tlp AMBER --rel-to USA,KOR --out reports.jsonl
  trilat cyber export reports.jsonl --for JPN --out for-japan.json
  trilat cyber pattern \"[ipv4-addr:value = '203.0.113.7']\"

Each command has --help with more examples.";

/// Examples shown by `trilat supply --help`.
const SUPPLY_EXAMPLES: &str = "Examples:
  trilat supply rank --data ../shared/data/supply
  trilat supply indicators --data ../shared/data/supply --commodity gallium,graphite
  trilat supply scenario --data ../shared/data/supply --stop CHN --commodity gallium

Each command has --help with more examples.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Sanctions lists: import, screen, compare.
    #[command(subcommand, after_help = SANCTIONS_EXAMPLES)]
    Sanctions(cmd::sanctions::Command),
    /// AIS: decode and analyse vessel traffic.
    #[command(subcommand, after_help = AIS_EXAMPLES)]
    Ais(cmd::ais::Command),
    /// Missile warning: simulate flights and assess detections.
    #[command(subcommand, after_help = MISSILE_EXAMPLES)]
    Missile(cmd::missile::Command),
    /// Seismic events: read QuakeML, IMS1.0, GeoJSON; assess possible nuclear tests.
    #[command(subcommand, after_help = SEISMIC_EXAMPLES)]
    Seismic(cmd::seismic::Command),
    /// Critical-mineral supply risk: indicators, ranking, scenarios (USGS MCS 2024, WGI).
    #[command(subcommand, after_help = SUPPLY_EXAMPLES)]
    Supply(cmd::supply::Command),
    /// Cyber-threat sharing: STIX 2.1 import and export.
    #[command(subcommand, after_help = CYBER_EXAMPLES)]
    Cyber(cmd::cyber::Command),
    /// Exercises: play a scenario across the nodes, then the after-action report.
    #[command(subcommand, after_help = cmd::exercise::EXAMPLES)]
    Exercise(cmd::exercise::Command),
    /// Copy a node's SQLite store into PostgreSQL (audit chain verified end to end).
    #[command(after_help = cmd::migrate::HELP)]
    Migrate(cmd::migrate::Args),
    #[command(flatten)]
    Node(cmd::node::Command),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return exit::clap_error(&err),
    };
    if !runs_nodes(&cli.command) {
        stop_quietly_on_closed_stdout();
    }
    exit::of(run(cli.command))
}

/// Commands that run nodes or servers until stopped: a reader of their
/// output going away must not end them.
fn runs_nodes(command: &Command) -> bool {
    use cmd::node::Command as Node;
    matches!(
        command,
        Command::Node(Node::Serve { .. } | Node::Demo { .. } | Node::Bench(_))
            | Command::Exercise(cmd::exercise::Command::Run(_))
    )
}

/// Rust ignores SIGPIPE, so `trilat report list | head` panicked at the
/// first print after `head` had exited; a one-shot command stops quietly
/// there instead, as other command-line tools do.
fn stop_quietly_on_closed_stdout() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Sanctions(c) => cmd::sanctions::run(c),
        Command::Ais(c) => cmd::ais::run(c),
        Command::Missile(c) => cmd::missile::run(c),
        Command::Seismic(c) => cmd::seismic::run(c),
        Command::Supply(c) => cmd::supply::run(c),
        Command::Cyber(c) => cmd::cyber::run(c),
        Command::Exercise(c) => cmd::exercise::run(c),
        Command::Migrate(args) => cmd::migrate::run(args),
        Command::Node(c) => cmd::node::run(c),
    }
}
