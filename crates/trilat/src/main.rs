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

#[derive(Debug, Subcommand)]
enum Command {
    /// Sanctions lists: import, screen, compare.
    #[command(subcommand)]
    Sanctions(cmd::sanctions::Command),
    /// AIS: decode and analyse vessel traffic.
    #[command(subcommand)]
    Ais(cmd::ais::Command),
    /// Missile warning: simulate flights and assess detections.
    #[command(subcommand)]
    Missile(cmd::missile::Command),
    /// Seismic events: read QuakeML, IMS1.0, GeoJSON; assess possible nuclear tests.
    #[command(subcommand)]
    Seismic(cmd::seismic::Command),
    /// Cyber-threat sharing: STIX 2.1 import and export.
    #[command(subcommand)]
    Cyber(cmd::cyber::Command),
    #[command(flatten)]
    Node(cmd::node::Command),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return exit::clap_error(&err),
    };
    exit::of(run(cli.command))
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Sanctions(c) => cmd::sanctions::run(c),
        Command::Ais(c) => cmd::ais::run(c),
        Command::Missile(c) => cmd::missile::run(c),
        Command::Seismic(c) => cmd::seismic::run(c),
        Command::Cyber(c) => cmd::cyber::run(c),
        Command::Node(c) => cmd::node::run(c),
    }
}
