//! What the tests that run the `trilat` binary share: the test PostgreSQL
//! server (or a visible skip), a command run that must succeed, the admin
//! token `trilat init` prints, and a `trilat serve` child ([`Serve`]).
//! Each test binary uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// A `trilat serve` child, killed on drop if still running; its stderr
/// collected (read to the end, so the node never blocks on the pipe).
pub struct Serve {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Serve {
    pub fn start(config: &Path) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_trilat"))
            .arg("serve")
            .arg("--config")
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Serve { child, log }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn terminate(&self) {
        // SAFETY: kill(2) on the id of a child this test started and has not waited for.
        let res = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(res, 0, "kill -TERM");
    }

    /// Its exit status, waiting up to `within`.
    pub fn exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "serve still runs {within:?} after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
