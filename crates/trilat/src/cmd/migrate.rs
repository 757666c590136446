//! `trilat migrate`: a node's SQLite store copied into PostgreSQL, so the
//! node can run as several processes (docs/store.md, "Moving a store to
//! PostgreSQL"). Glue: flags → the two stores → `PostgresStore::import_sqlite`
//! → a summary.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context as _};
use trilat_node::{Config, ConnectionUrl, StoreLocation};
use trilat_store::{redact_password, Migration, MigrationProgress, PostgresStore};

/// What `trilat migrate --help` shows after the flags.
pub const HELP: &str = "\
Copies every report version (with its store sequence and arrival time), the
withdrawals and the withdrawal log, the audit log (its blocks byte for byte:
the same hash chain), the federation state (cursors into peers' feeds) and
the peer-request replay guard into an empty PostgreSQL store, in one
transaction. The destination keeps the source's store id, so cursors the old
node handed out (peers pulling its feed, TAXII clients) stay valid.

Stop the node first. The source's audit chain is verified before anything is
written, and the copy's chain is verified end to end before the commit: it
must end at the same head hash. Anything that fails rolls the whole copy
back, leaving the destination empty, so the command can be run again. A
destination that holds anything is refused. The SQLite file is only read:
keep it as a backup.

Examples:
  trilat migrate --from sqlite:jpn/data/trilat.sqlite3 --to postgres://trilat@db.jpn.example:5432/trilat
  # or into the store a (new) config names:
  trilat migrate --from sqlite:jpn/data/trilat.sqlite3 --config jpn-pg/trilat.toml

Then set store = \"postgres://…\" in each process's trilat.toml and start them.";

/// `trilat migrate`'s flags.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The SQLite store to copy: "sqlite:PATH" (or just PATH), e.g.
    /// sqlite:jpn/data/trilat.sqlite3.
    #[arg(long, value_name = "STORE")]
    from: String,
    /// The PostgreSQL store to fill: "postgres://USER@HOST:PORT/DATABASE"
    /// (an empty database, or one the node created and never wrote to).
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "config",
        required_unless_present = "config"
    )]
    to: Option<ConnectionUrl>,
    /// Copy into the store this node config names (its `store` must be a
    /// postgres:// URL) instead of --to.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Runs `trilat migrate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let source = source_path(&args.from);
    let url = destination_url(&args)?;
    let shown = redact_password(&url);
    let started = Instant::now();
    let destination = PostgresStore::open(&url)
        .with_context(|| format!("opening the destination store {shown}"))?;
    let bar = progress_bar();
    let (_, migration) = destination
        .import_sqlite(&source, &mut |progress: &MigrationProgress| {
            bar.set_length(progress.rows_total);
            bar.set_position(progress.rows_done);
            bar.set_message(progress.table);
        })
        .with_context(|| {
            format!(
                "migrating {} into {shown} (nothing was written there)",
                source.display()
            )
        })?;
    bar.finish_and_clear();
    print_summary(&source, &shown, &migration, started.elapsed().as_secs_f64());
    Ok(())
}

fn source_path(from: &str) -> PathBuf {
    PathBuf::from(from.strip_prefix("sqlite:").unwrap_or(from))
}

/// `--to`, or the postgres store of `--config`.
fn destination_url(args: &Args) -> anyhow::Result<String> {
    if let Some(url) = &args.to {
        return match StoreLocation::parse(url.as_str()).map_err(anyhow::Error::msg)? {
            StoreLocation::Postgres(url) => Ok(url),
            StoreLocation::Sqlite(_) => {
                bail!("--to must be a postgres:// URL, not an SQLite store")
            }
        };
    }
    let path = args
        .config
        .as_deref()
        .expect("clap requires --to or --config");
    let config = Config::load(path)?;
    match config.store_location()? {
        StoreLocation::Postgres(url) => Ok(url),
        StoreLocation::Sqlite(sqlite) => bail!(
            "{}: its store is SQLite ({}); migrate copies into PostgreSQL: set store = \"postgres://…\" there, or pass --to",
            path.display(),
            sqlite.display()
        ),
    }
}

/// A bar on a terminal (hidden otherwise), its length set by the first report.
fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} rows  {msg}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar
}

fn print_summary(source: &Path, destination: &str, migration: &Migration, seconds: f64) {
    let copied = &migration.copied;
    println!(
        "Migrated {} into {destination} in {seconds:.1} s (one transaction):",
        source.display()
    );
    println!(
        "  report versions  {} ({} not current)",
        copied.report_versions, copied.superseded
    );
    println!(
        "  withdrawals      {} ({} in the withdrawal log)",
        copied.withdrawals, copied.withdrawal_log
    );
    println!(
        "  audit log        {} entries in {} blocks, verified in both stores; head {}",
        migration.audit_entries, copied.audit_blocks, migration.audit_head_hash
    );
    println!(
        "  federation state {} keys, {} recent peer requests",
        copied.sync_state, copied.peer_requests
    );
    println!(
        "  store id         {:016x} (kept: cursors issued by the old node stay valid)",
        migration.store_id
    );
    println!("Next: set store = \"{destination}\" (with its password) in trilat.toml and start the node.");
}
