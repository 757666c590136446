//! `trilat cyber …` subcommands (being built).

/// The `trilat cyber` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {}

/// Runs one `trilat cyber` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {}
}
