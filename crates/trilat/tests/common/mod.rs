//! What the `trilat demo` tests share: free ports in the demo's layout, the
//! running demo stopped on drop, and its banner's nodes.

use std::net::TcpListener;
use std::process::Child;

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

/// The banner's entry for `party`.
pub fn node<'a>(banner: &'a Value, party: &str) -> &'a Value {
    banner["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["party"] == party)
        .unwrap_or_else(|| panic!("no {party} in the banner: {banner}"))
}
