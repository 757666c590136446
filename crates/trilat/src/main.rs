//! `trilat`: the command-line tool. Glue only: flags → validated config → library calls.
mod cmd;

use clap::{Parser, Subcommand};

/// Trilat: allied information sharing and fusion.
#[derive(Debug, Parser)]
#[command(
    name = "trilat",
    version,
    about,
    long_about = None,
    after_help = "Start here:\n  trilat demo                          three partner nodes on loopback\n  trilat init --party JPN --dir ./jpn  create your own node\n  trilat serve --config ./jpn/trilat.toml\n\nEvery command has --help with examples."
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
    /// Critical-mineral supply risk: indicators, ranking, scenarios (USGS MCS 2024, WGI).
    #[command(subcommand)]
    Supply(cmd::supply::Command),
    /// Cyber-threat sharing: STIX 2.1 import and export.
    #[command(subcommand)]
    Cyber(cmd::cyber::Command),
    #[command(flatten)]
    Node(cmd::node::Command),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Sanctions(c) => cmd::sanctions::run(c),
        Command::Ais(c) => cmd::ais::run(c),
        Command::Missile(c) => cmd::missile::run(c),
        Command::Seismic(c) => cmd::seismic::run(c),
        Command::Supply(c) => cmd::supply::run(c),
        Command::Cyber(c) => cmd::cyber::run(c),
        Command::Node(c) => cmd::node::run(c),
    }
}
