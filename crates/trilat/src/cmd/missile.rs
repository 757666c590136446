//! `trilat missile …` subcommands (being built).

/// The `trilat missile` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {}

/// Runs one `trilat missile` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {}
}
