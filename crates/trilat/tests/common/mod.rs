//! What the `trilat demo` tests share: free ports in the demo's layout, the
//! running demo started and stopped on drop, and its banner's nodes.

use std::fs::File;
use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A first port P with P, P+1 and P+2 free on loopback (the demo's layout).
pub fn free_port_triple() -> u16 {
    for _ in 0..50 {
        let Ok(first) = TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let port = first.local_addr().unwrap().port();
        drop(first);
        let Some(last) = port.checked_add(2) else {
            continue;
        };
        if (port..=last).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return port;
        }
    }
    panic!("no three consecutive free loopback ports in 50 tries");
}

/// A running `trilat demo`, stopped (SIGTERM, as Ctrl-C) on drop.
pub struct Demo(pub Child);

impl Drop for Demo {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the id of a child this test started and has not waited for.
        unsafe {
            libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.0.wait();
    }
}

/// Starts `trilat demo --json-banner ARGS` with its data in `work/nodes`
/// and its log in `work/demo.log` (a file: a pipe nobody reads would fill
/// and block the demo); returns it with its banner. What it prints after
/// the banner (a play's summary) is read and dropped.
pub fn start_demo(work: &Path, args: &[&str]) -> (Demo, Value) {
    let port = free_port_triple().to_string();
    let log = work.join("demo.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_trilat"))
        .args(["demo", "--json-banner", "--port", &port, "--dir"])
        .arg(work.join("nodes"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .expect("running trilat demo");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let demo = Demo(child);
    let banner = serde_json::from_str(&line).unwrap_or_else(|e| {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("trilat demo printed no banner ({e}): {line:?}; its log:\n{log}")
    });
    (demo, banner)
}

/// The banner's entry for `party`.
pub fn node<'a>(banner: &'a Value, party: &str) -> &'a Value {
    banner["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["party"] == party)
        .unwrap_or_else(|| panic!("no {party} in the banner: {banner}"))
}
