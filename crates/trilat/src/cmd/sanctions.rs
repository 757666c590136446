//! `trilat sanctions …` subcommands (being built).

/// The `trilat sanctions` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {}

/// Runs one `trilat sanctions` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {}
}
