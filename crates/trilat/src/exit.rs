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
//! A panic (a bug) exits with Rust's 101.

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
                // The cause chain once, as `anyhow` prints it from `main`.
                eprintln!("Error: {err:?}");
                ExitCode::from(FAILURE)
            }
        },
    }
}
