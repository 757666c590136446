//! What the tests that run the `trilat` binary share: the test PostgreSQL
//! server (or a visible skip), a command run that must succeed, and the
//! admin token `trilat init` prints. Each test binary uses a part of it.
#![allow(dead_code)]

use std::process::Command;

/// The test server's URL (`TRILAT_TEST_POSTGRES`), or `None` after saying
/// on stderr that `untested` is not tested. Under `CI=true` a missing
/// server fails the test: `.ci/run` starts one.
pub fn postgres_or_skip(test: &str, untested: &str) -> Option<String> {
    match std::env::var("TRILAT_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("TRILAT_TEST_POSTGRES is not set under CI: .ci/run must start PostgreSQL")
        }
        _ => {
            eprintln!(
                "SKIP: {test}: TRILAT_TEST_POSTGRES not set, {untested} not tested \
                 (scripts/test starts a server; see docs/store.md)"
            );
            None
        }
    }
}

/// Runs `command`, which must succeed; its stdout. A failure shows both
/// outputs.
pub fn run_ok(command: &mut Command) -> String {
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{command:?} failed ({}): {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The admin token in what `trilat init` printed.
pub fn admin_token(init_stdout: &str) -> String {
    init_stdout
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("trl_"))
        .unwrap_or_else(|| panic!("init prints the admin token: {init_stdout}"))
        .to_string()
}

/// The test servers' URLs (`TRILAT_TEST_POSTGRES`, `TRILAT_TEST_NATS`), or
/// `None` after saying on stderr that `untested` is not tested. Under
/// `CI=true` a missing server fails the test: `.ci/run` starts both.
pub fn postgres_and_nats_or_skip(test: &str, untested: &str) -> Option<(String, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    match (var("TRILAT_TEST_POSTGRES"), var("TRILAT_TEST_NATS")) {
        (Some(postgres), Some(nats)) => Some((postgres, nats)),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => panic!(
            "TRILAT_TEST_POSTGRES or TRILAT_TEST_NATS is not set under CI: \
             .ci/run must start PostgreSQL and NATS"
        ),
        _ => {
            eprintln!(
                "SKIP: {test}: TRILAT_TEST_POSTGRES or TRILAT_TEST_NATS not set, {untested} \
                 not tested (scripts/test starts both servers; see docs/scale.md)"
            );
            None
        }
    }
}
