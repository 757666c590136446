//! The exit codes of `trilat`, set here and nowhere else: commands return
//! `Ok`, a [`Refused`] error, or any other error, and `main` maps them.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success |
//! | 1 | error: the command could not do its job, or a check it ran failed (a broken audit chain); the message names what and where |
//! | 2 | usage error: a flag or argument clap refused |
//! | 3 | done, but some input was refused (STIX objects rejected by `cyber import`, invalid `cyber pattern`s); the output lists each with its reason |
//!
//! A panic (a bug) exits with Rust's 101. A one-shot command whose reader
//! has gone (`| head`) is ended by SIGPIPE (`main.rs`), as other
//! command-line tools are.

use std::fmt;
use std::process::ExitCode;

/// Success.
pub const SUCCESS: u8 = 0;
/// The command failed, or a check it ran failed.
pub const FAILURE: u8 = 1;
/// Clap refused the command line.
pub const USAGE: u8 = 2;
/// The command finished, but refused some of its input.
pub const REFUSED: u8 = 3;

/// The exit codes as `--help` and the README list them.
pub const HELP: &str = "\
Exit status: 0 success; 1 error (the message names what and where), or a
check that failed (a broken audit chain); 2 usage error; 3 done, but some
input was refused (listed with the reasons).";

/// The error a command returns when it has finished but refused some of
/// its input: exit code [`REFUSED`], not [`FAILURE`].
#[derive(Debug)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Prints a clap error (or the help or version clap answers with) and
/// returns its code: [`SUCCESS`] for `--help` and `--version`, else [`USAGE`].
pub fn clap_error(err: &clap::Error) -> ExitCode {
    let _ = err.print();
    if err.use_stderr() {
        ExitCode::from(USAGE)
    } else {
        ExitCode::from(SUCCESS)
    }
}

/// Prints a command's error, if any, and returns its code.
pub fn of(res: anyhow::Result<()>) -> ExitCode {
    match res {
        Ok(()) => ExitCode::from(SUCCESS),
        Err(err) => match err.downcast_ref::<Refused>() {
            Some(refused) => {
                eprintln!("{refused}");
                ExitCode::from(REFUSED)
            }
            None => {
                eprintln!("{}", cause_chain(&err));
                ExitCode::from(FAILURE)
            }
        },
    }
}

/// The error and its causes, as `anyhow` prints them from `main` but without
/// the backtrace it adds under `RUST_BACKTRACE=1`: an operating error ("cannot
/// connect") is not a bug, and its message says what and where.
fn cause_chain(err: &anyhow::Error) -> String {
    let mut text = format!("Error: {err}");
    let causes: Vec<String> = err.chain().skip(1).map(ToString::to_string).collect();
    match causes.as_slice() {
        [] => {}
        [cause] => text.push_str(&format!("\n\nCaused by:\n    {cause}")),
        _ => {
            text.push_str("\n\nCaused by:");
            for (idx, cause) in causes.iter().enumerate() {
                text.push_str(&format!("\n    {idx}: {cause}"));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_chain_is_printed_once_without_a_backtrace() {
        let one = anyhow::anyhow!("cannot connect to http://127.0.0.1:7401 — is the node running?");
        assert_eq!(
            cause_chain(&one),
            "Error: cannot connect to http://127.0.0.1:7401 — is the node running?"
        );
        let two = anyhow::anyhow!("no such file").context("reading trilat.toml");
        assert_eq!(
            cause_chain(&two),
            "Error: reading trilat.toml\n\nCaused by:\n    no such file"
        );
        let three = two.context("starting the node");
        assert_eq!(
            cause_chain(&three),
            "Error: starting the node\n\nCaused by:\n    0: reading trilat.toml\n    1: no such file"
        );
    }
}
