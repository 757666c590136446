//! `trilat init`'s files: the signing key and the TLS key are readable by
//! their owner only, also when `--force` writes over files that were not;
//! a config holding a password (store or bus URL) is too. And a one-shot
//! command whose reader has gone (`trilat … | head`) stops quietly on
//! SIGPIPE instead of panicking.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

mod support;

const TRILAT: &str = env!("CARGO_BIN_EXE_trilat");

fn init(dir: &Path, extra: &[&str]) {
    support::run_ok(
        Command::new(TRILAT)
            .args(["init", "--party", "USA", "--dir"])
            .arg(dir)
            .args(extra),
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn keys_stay_readable_by_their_owner_only_when_written_over() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("usa");
    init(&node, &[]);
    let keys = [node.join("node.key"), node.join("node-tls.key")];
    for key in &keys {
        assert_eq!(mode(key), 0o600, "{}", key.display());
        std::fs::set_permissions(key, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    init(&node, &["--force"]);
    for key in &keys {
        assert_eq!(mode(key), 0o600, "{} after --force", key.display());
    }
}

#[test]
fn a_config_with_a_password_is_readable_by_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("usa");
    init(
        &node,
        &[
            "--store",
            "postgres://trilat@127.0.0.1:5432/trilat",
            "--bus",
            "nats://trilat:s3cret@127.0.0.1:4222",
        ],
    );
    assert_eq!(mode(&node.join("trilat.toml")), 0o600);
}

#[test]
fn a_one_shot_command_stops_quietly_when_its_reader_has_gone() {
    use std::os::fd::{FromRawFd as _, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: pipe fills the two descriptors, each owned once below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader); // the reader has gone before the first line is written
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(TRILAT)
        .args(["init", "--party", "USA", "--dir"])
        .arg(dir.path().join("usa"))
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{:?} {stderr}",
        out.status
    );
}

/// `trilat init` writes the TLS forms (docs/store.md and docs/bus.md,
/// "TLS") and reads the files they name first: a missing one fails the
/// command, naming it, and writes no config.
#[test]
fn init_writes_the_tls_forms_and_names_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    // Another node's certificate stands in for a CA certificate (a real PEM).
    init(&dir.path().join("other"), &[]);
    let ca = dir.path().join("other/node-tls.crt");
    let store = format!(
        "postgres://trilat@db.usa.example:5432/trilat?sslmode=verify-full&sslrootcert={}",
        ca.display()
    );
    let node = dir.path().join("usa");
    init(
        &node,
        &[
            "--store",
            &store,
            "--bus",
            "tls://nats.usa.example:4222",
            "--bus-ca-file",
            &ca.display().to_string(),
        ],
    );
    let text = std::fs::read_to_string(node.join("trilat.toml")).unwrap();
    let config: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(config["store"].as_str(), Some(store.as_str()), "{text}");
    assert_eq!(
        config["bus_tls"]["ca_file"].as_str(),
        Some(ca.display().to_string().as_str()),
        "{text}"
    );

    let absent = dir.path().join("no-such-ca.pem");
    let plain_store = "postgres://trilat@db.kor.example:5432/trilat";
    let store_absent_ca = format!(
        "{plain_store}?sslmode=verify-full&sslrootcert={}",
        absent.display()
    );
    let absent_text = absent.display().to_string();
    for (name, store, extra) in [
        ("store", store_absent_ca.as_str(), None),
        (
            "bus",
            plain_store,
            Some(["--bus-ca-file", absent_text.as_str()]),
        ),
    ] {
        let node = dir.path().join(format!("kor-{name}"));
        let out = Command::new(TRILAT)
            .args(["init", "--party", "KOR", "--dir"])
            .arg(&node)
            .args(["--store", store, "--bus", "tls://nats.kor.example:4222"])
            .args(extra.iter().flatten())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}: {stderr}");
        assert!(stderr.contains(&absent_text), "{name}: {stderr}");
        assert!(!node.join("trilat.toml").exists(), "{name}");
    }
}
