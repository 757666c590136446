//! The exit codes `trilat --help` and the README document (set in
//! `src/exit.rs`), checked on the real binary.

use std::process::{Command, Output};

const TRILAT: &str = env!("CARGO_BIN_EXE_trilat");

fn trilat(args: &[&str]) -> Output {
    Command::new(TRILAT)
        .args(args)
        .output()
        .expect("running trilat")
}

#[track_caller]
fn check(args: &[&str], code_expect: i32, stderr_expect: &str) {
    let out = trilat(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code_expect),
        "trilat {args:?}: {stderr}"
    );
    assert!(
        stderr.contains(stderr_expect),
        "trilat {args:?}: stderr {stderr:?} lacks {stderr_expect:?}"
    );
}

#[test]
fn success_is_0() {
    check(
        &["cyber", "pattern", "[ipv4-addr:value = '175.45.178.1']"],
        0,
        "",
    );
    check(&["--version"], 0, "");
}

#[test]
fn error_is_1_with_the_cause() {
    check(
        &["cyber", "import", "/nonexistent/bundle.json"],
        1,
        "Error: reading /nonexistent/bundle.json",
    );
}

#[test]
fn usage_error_is_2() {
    check(
        &["cyber", "import", "--no-such-flag", "x.json"],
        2,
        "--no-such-flag",
    );
    check(&["no-such-command"], 2, "no-such-command");
}

#[test]
fn refused_input_is_3() {
    check(
        &[
            "cyber",
            "pattern",
            "[ipv4-addr:value = '175.45.178.1']",
            "[bad",
        ],
        3,
        "1 patterns invalid",
    );
}

#[test]
fn help_lists_the_exit_codes() {
    let out = trilat(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for code in ["0 success", "1 error", "2 usage error", "3 done, but some"] {
        assert!(help.contains(code), "--help lacks {code:?}:\n{help}");
    }
}
