//! `[[tak]]`: one TAK endpoint this node feeds.
//!
//! ```toml
//! [[tak]]
//! name = "jpn-tak"                 # audit actor "tak:jpn-tak"
//! address = "tak.example.jp:8089"  # host:port of the server's CoT input
//! tls = true                       # plain TCP only to a loopback address
//! ca_file = "tak-ca.pem"           # the server's CA (PEM)
//! cert_file = "tak-client.pem"     # this node's client certificate (PEM)
//! key_file = "tak-client.key"      # and its key (PEM: PKCS#8, PKCS#1 or SEC1)
//! party = "JPN"                    # whose users read this server
//! level_max = "CONFIDENTIAL"       # the highest level it is accredited for
//! exercise = false                 # exercise feed or real-world feed
//! vessels = true                   # also the AIS picture (own party only)
//! ```

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use trilat_core::{Party, Policy};

/// Most `[[tak]]` endpoints one node feeds.
pub const TAK_ENDPOINTS_MAX: usize = 16;
/// Longest endpoint name.
const NAME_LEN_MAX: usize = 64;
/// Largest queue of events waiting for one endpoint.
const QUEUE_MAX_MAX: usize = 100_000;

/// One TAK endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TakEndpoint {
    /// A short name: the audit actor is `tak:<name>`.
    pub name: String,
    /// `host:port` of the server's CoT input (TAK Server: 8089 TLS, 8087 TCP).
    pub address: String,
    /// TLS (a real server) or plain TCP (a server on this machine).
    #[serde(default)]
    pub tls: bool,
    /// With `tls`: the PEM file of the CA the server's certificate chains to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// With `tls`: this node's client certificate (PEM), which TAK Server requires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// With `cert_file`: its private key (PEM: PKCS#8, PKCS#1 RSA as
    /// `takyctl build_client` writes it, or SEC1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// With `tls`: the name the server's certificate is checked against
    /// (default: the host of `address`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// The party whose users read this server: the release rule is applied for it.
    pub party: Party,
    /// The highest classification level the server is accredited for.
    pub level_max: String,
    /// Feed exercise reports (`true`) or real-world reports (`false`).
    #[serde(default)]
    pub exercise: bool,
    /// Also feed the vessels of this node's AIS picture (only to a server
    /// of this node's own party: the picture is its own feed data).
    #[serde(default)]
    pub vessels: bool,
    /// Seconds between two sends of the vessels heard since the last.
    #[serde(default = "vessel_interval_s_default")]
    pub vessel_interval_s: u64,
    /// Events waiting for the connection at most; beyond it the oldest are
    /// dropped (and counted in the log).
    #[serde(default = "queue_max_default")]
    pub queue_max: usize,
}

fn vessel_interval_s_default() -> u64 {
    10
}

fn queue_max_default() -> usize {
    4_096
}

impl TakEndpoint {
    /// Resolves the certificate paths against the config file's folder.
    pub fn resolve_paths(&mut self, base: &Path) {
        for path in [&mut self.ca_file, &mut self.cert_file, &mut self.key_file]
            .into_iter()
            .flatten()
        {
            *path = base.join(&*path);
        }
    }

    /// The host part of `address`.
    pub fn host(&self) -> &str {
        let host = self
            .address
            .rsplit_once(':')
            .map_or(self.address.as_str(), |(host, _)| host);
        host.trim_start_matches('[').trim_end_matches(']')
    }

    /// The destination the release rule is applied for.
    pub fn destination(&self) -> trilat_tak::Destination {
        trilat_tak::Destination {
            party: self.party.clone(),
            level_max: self.level_max.clone(),
            exercise: self.exercise,
        }
    }
}

/// Checks the `[[tak]]` endpoints: `(field, reason)` of the first fault.
pub fn validate_endpoints(
    endpoints: &[TakEndpoint],
    policy: &Policy,
    node: &Party,
) -> Result<(), (String, String)> {
    let parties = policy.parties();
    if endpoints.len() > TAK_ENDPOINTS_MAX {
        return Err((
            "tak".into(),
            format!(
                "at most {TAK_ENDPOINTS_MAX} endpoints, got {}",
                endpoints.len()
            ),
        ));
    }
    let mut names = BTreeSet::new();
    for (idx, endpoint) in endpoints.iter().enumerate() {
        let field = |name: &str| format!("tak[{idx}].{name}");
        let name = &endpoint.name;
        let name_ok = !name.is_empty()
            && name.len() <= NAME_LEN_MAX
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !name_ok {
            return Err((
                field("name"),
                format!("{name:?}: 1 to {NAME_LEN_MAX} letters, digits, '-', '_' or '.'"),
            ));
        }
        if !names.insert(name) {
            return Err((field("name"), format!("{name:?} is used twice")));
        }
        validate_transport(endpoint).map_err(|(name, reason)| (field(name), reason))?;
        if &endpoint.party != node && !parties.contains(&endpoint.party) {
            return Err((
                field("party"),
                format!(
                    "{} is neither this node's party nor named by the policy: nothing could be released to it",
                    endpoint.party
                ),
            ));
        }
        if policy.level_rank(&endpoint.level_max).is_err() {
            return Err((
                field("level_max"),
                format!(
                    "{:?} is not a level of the policy ({})",
                    endpoint.level_max,
                    policy.levels.join(" < ")
                ),
            ));
        }
        if endpoint.vessel_interval_s == 0 || endpoint.vessel_interval_s > 3_600 {
            return Err((field("vessel_interval_s"), "1 to 3600 seconds".into()));
        }
        if endpoint.queue_max == 0 || endpoint.queue_max > QUEUE_MAX_MAX {
            return Err((field("queue_max"), format!("1 to {QUEUE_MAX_MAX}")));
        }
    }
    Ok(())
}

/// Address, TLS files, and plain TCP only to loopback.
fn validate_transport(endpoint: &TakEndpoint) -> Result<(), (&'static str, String)> {
    let port_ok = endpoint
        .address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if !port_ok {
        return Err((
            "address",
            format!("{:?}: expected host:port", endpoint.address),
        ));
    }
    if endpoint.tls {
        if endpoint.ca_file.is_none() {
            return Err(("ca_file", "tls needs the server's CA (PEM)".into()));
        }
        if endpoint.cert_file.is_some() != endpoint.key_file.is_some() {
            return Err((
                "key_file",
                "give cert_file and key_file together, or neither".into(),
            ));
        }
        return Ok(());
    }
    let host = endpoint.host();
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err((
            "tls",
            format!("plain TCP to {host} would carry marked data in clear: set tls = true (plain TCP is for a server on this machine)"),
        ));
    }
    for (name, file) in [
        ("ca_file", &endpoint.ca_file),
        ("cert_file", &endpoint.cert_file),
    ] {
        if file.is_some() {
            return Err((name, "only used with tls = true".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::Config;

    const BASE: &str = r#"
party = "JPN"
listen = "127.0.0.1:7402"
data_dir = "data"
key_file = "node.key"

[policy]
levels = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"]
groups = { TRILAT = ["USA", "JPN", "KOR"] }
accreditation = { USA = "SECRET", JPN = "SECRET", KOR = "SECRET" }
"#;

    /// Parses BASE with one `[[tak]]` table; the error's `field: reason`.
    #[track_caller]
    fn check(tak: &str, expect: Result<(), (&str, &str)>) {
        let text = format!("{BASE}\n[[tak]]\n{tak}");
        match (Config::parse(&text), expect) {
            (Ok(config), Ok(())) => assert_eq!(config.tak.len(), 1),
            (Err(e), Err((field, reason))) => {
                assert_eq!(e.field, field, "{e}");
                assert!(e.reason.contains(reason), "{e}");
            }
            (got, want) => panic!("got {got:?}, want {want:?}"),
        }
    }

    const GOOD: &str = "name = \"jpn-tak\"\naddress = \"127.0.0.1:8087\"\nparty = \"JPN\"\nlevel_max = \"CONFIDENTIAL\"\n";

    #[test]
    fn tak_sections_are_checked_when_the_config_loads() {
        check(GOOD, Ok(()));
        check(
            "name = \"x\"\naddress = \"tak.example:8089\"\ntls = true\nca_file = \"ca.pem\"\nparty = \"USA\"\nlevel_max = \"SECRET\"\n",
            Ok(()),
        );
        check(
            &GOOD.replace("CONFIDENTIAL", "TOP SECRET"),
            Err(("tak[0].level_max", "not a level of the policy")),
        );
        check(
            &GOOD.replace("127.0.0.1:8087", "tak.example:8087"),
            Err(("tak[0].tls", "in clear")),
        );
        check(
            &GOOD.replace("127.0.0.1:8087", "127.0.0.1"),
            Err(("tak[0].address", "expected host:port")),
        );
        check(
            &GOOD.replace("jpn-tak", "jpn tak"),
            Err(("tak[0].name", "letters, digits")),
        );
        check(
            "name = \"x\"\naddress = \"tak.example:8089\"\ntls = true\nparty = \"USA\"\nlevel_max = \"SECRET\"\n",
            Err(("tak[0].ca_file", "CA")),
        );
        check(
            &GOOD.replace("\"JPN\"", "\"AUS\""),
            Err(("tak[0].party", "neither this node's party")),
        );
        check(
            &format!("{GOOD}queue_max = 0\n"),
            Err(("tak[0].queue_max", "1 to")),
        );
    }

    #[test]
    fn an_unknown_key_in_a_tak_section_is_refused() {
        let text = format!("{BASE}\n[[tak]]\n{GOOD}colour = \"red\"\n");
        let e = Config::parse(&text).unwrap_err();
        assert!(e.reason.contains("colour"), "{e}");
    }

    #[test]
    fn two_endpoints_may_not_share_a_name() {
        let text = format!("{BASE}\n[[tak]]\n{GOOD}\n[[tak]]\n{GOOD}");
        let e = Config::parse(&text).unwrap_err();
        assert_eq!(e.field, "tak[1].name");
    }
}
