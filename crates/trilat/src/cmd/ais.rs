//! `trilat ais …` subcommands (being built).

/// The `trilat ais` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {}

/// Runs one `trilat ais` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {}
}
