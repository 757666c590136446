//! The party bus over TLS (docs/bus.md, "TLS"): a node whose `bus` is
//! `tls://` reaches a nats-server that takes TLS only (started here with
//! scripts/nats, its certificate from a CA made here) when `[bus_tls]
//! ca_file` is that CA, presenting its client certificate where the server
//! demands one, and announces what it stores there; with another CA it
//! refuses the server and says why in its audit log; a CA file that is not
//! there stops the node's start, naming the file.
//!
//! Needs `TRILAT_TEST_POSTGRES` (a bus needs a PostgreSQL store; scripts/test
//! starts one) and nats-server; without them the tests skip, saying so, and
//! under CI (`CI=true`) they fail.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use trilat_node::cluster::postgres_url_in_schema;
use trilat_node::config::BusTlsConfig;
use trilat_node::{AppState, StartError};
use trilat_store::PostgresStore;

use crate::common::{jpn_analyst_config, within, Api};

/// How long a node may take to connect to the bus (or be refused) on a
/// loaded machine: the NATS client waits longer between attempts each time.
const BUS_WAIT: Duration = Duration::from_secs(60);

/// The PostgreSQL server for the node's store, or `None` (after saying so)
/// without it or without nats-server.
fn postgres(test: &str) -> Option<String> {
    let url = std::env::var("TRILAT_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.is_empty());
    let nats = Path::new("/usr/sbin/nats-server").exists()
        || Command::new("nats-server")
            .arg("--version")
            .output()
            .is_ok();
    match (url, nats) {
        (Some(url), true) => Some(url),
        missing if std::env::var("CI").is_ok_and(|ci| ci == "true") => panic!(
            "{test}: under CI the bus's TLS tests need TRILAT_TEST_POSTGRES and nats-server \
             (scripts/test, scripts/install-deps); have (url, nats-server): {missing:?}"
        ),
        _ => {
            eprintln!(
                "SKIP: {test}: TRILAT_TEST_POSTGRES not set or nats-server not installed, the \
                 bus's TLS is not tested (scripts/test starts PostgreSQL; see docs/bus.md)"
            );
            None
        }
    }
}

/// A CA, and in `dir` its certificate (`ca.pem`), a server certificate and
/// key it issued for 127.0.0.1 (`server.pem`, `server.key`), a client
/// certificate and key (`client.pem`, `client.key`), and another CA's
/// certificate (`other-ca.pem`).
fn write_pki(dir: &Path) {
    // Named apart: a CA of the same name would be taken for the issuer
    // (and fail on the signature instead).
    let new_ca = |name: &str| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    };
    let ca = new_ca("Trilat test CA");
    for (name, san) in [("server", "127.0.0.1"), ("client", "trilat-jpn")] {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec![san.to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    }
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("other-ca.pem"), new_ca("Another CA").pem()).unwrap();
}

/// A nats-server with JetStream and TLS only, started by scripts/nats,
/// stopped when dropped.
struct TlsNats {
    dir: tempfile::TempDir,
    url: String,
}

impl TlsNats {
    /// With `client_ca`, clients must present a certificate it signed.
    fn start(pki: &Path, client_ca: Option<&Path>) -> TlsNats {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(script());
        command
            .arg("start")
            .arg(dir.path())
            .env("NATS_TLS_CERT", pki.join("server.pem"))
            .env("NATS_TLS_KEY", pki.join("server.key"));
        if let Some(ca) = client_ca {
            command.env("NATS_TLS_CA", ca);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "scripts/nats start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let url = String::from_utf8(output.stdout).unwrap().trim().to_string();
        assert!(url.starts_with("tls://127.0.0.1:"), "{url}");
        TlsNats { dir, url }
    }
}

impl Drop for TlsNats {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/nats")
}

/// A schema of the test database, dropped with this (after the node that
/// used it stopped).
struct Schema {
    postgres: String,
    name: String,
}

impl Schema {
    fn create(postgres: &str) -> Schema {
        let name = format!("bustls_{:016x}", rand::random::<u64>());
        drop(PostgresStore::open_in_schema(postgres, &name).unwrap());
        Schema {
            postgres: postgres.to_string(),
            name,
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Err(e) = PostgresStore::drop_schema(&self.postgres, &self.name) {
            eprintln!("could not drop test schema {}: {e}", self.name);
        }
    }
}

/// A JPN node served on a schema of its own, its bus at `bus_url` with
/// `bus_tls`, with an analyst's API; stopped when dropped.
struct TlsNode {
    state: AppState,
    api: Api,
    node: trilat_node::Node,
    /// Dropped after the node stopped (fields drop after `drop`).
    _schema: Schema,
}

impl TlsNode {
    async fn start(
        dir: &Path,
        postgres: &str,
        bus_url: &str,
        bus_tls: BusTlsConfig,
    ) -> Result<TlsNode, StartError> {
        let (mut config, token, listener) = jpn_analyst_config(dir, None).await;
        let addr = config.listen;
        let schema = Schema::create(postgres);
        config.store = Some(postgres_url_in_schema(postgres, &schema.name).into());
        config.bus = Some(bus_url.into());
        config.bus_namespace = Some(format!("t{:016x}", rand::random::<u64>()));
        config.bus_tls = Some(bus_tls);
        config.validate().unwrap();
        trilat_node::cluster::write_node_files(dir, &config, &trilat_core::NodeKey::generate())
            .unwrap();
        let state = trilat_node::open(config)?;
        let node = trilat_node::serve_on(state.clone(), listener).await?;
        Ok(TlsNode {
            state,
            api: Api::new(&format!("http://{addr}"), &token),
            node,
            _schema: schema,
        })
    }

    fn bus_up(&self) -> bool {
        self.state.bus.as_ref().is_some_and(|bus| bus.is_up())
    }

    /// The audit entries about the bus so far.
    fn bus_audit(&self) -> Vec<String> {
        let entries = self
            .state
            .store
            .audit(0, trilat_store::QUERY_LIMIT_MAX)
            .unwrap();
        entries
            .into_iter()
            .filter(|entry| entry.event.detail.starts_with("bus "))
            .map(|entry| entry.event.detail)
            .collect()
    }
}

impl Drop for TlsNode {
    fn drop(&mut self) {
        self.node.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_reaches_a_tls_bus_with_its_ca_and_client_certificate() {
    let Some(postgres) = postgres("a_node_reaches_a_tls_bus_with_its_ca_and_client_certificate")
    else {
        return;
    };
    let pki = tempfile::tempdir().unwrap();
    write_pki(pki.path());
    // The server demands a client certificate signed by the CA.
    let nats = TlsNats::start(pki.path(), Some(&pki.path().join("ca.pem")));
    let dir = tempfile::tempdir().unwrap();
    let bus_tls = BusTlsConfig {
        ca_file: Some(pki.path().join("ca.pem")),
        cert_file: Some(pki.path().join("client.pem")),
        key_file: Some(pki.path().join("client.key")),
    };
    let node = TlsNode::start(dir.path(), &postgres, &nats.url, bus_tls)
        .await
        .unwrap();
    within(BUS_WAIT, "the bus up over TLS, and audited", || async {
        node.bus_up()
            && node
                .bus_audit()
                .iter()
                .any(|detail| detail.ends_with(" connected"))
    })
    .await;
    // JetStream answers over it: the note's announcement is acknowledged.
    node.api
        .post_note("over TLS", "UNCLASSIFIED", "GREEN", &["JPN"])
        .await;
    let bus = node.state.bus.clone().unwrap();
    within(BUS_WAIT, "the announcement acknowledged", || {
        let bus = bus.clone();
        async move { bus.n_published() >= 1 }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_a_bus_whose_certificate_another_ca_signed() {
    let Some(postgres) = postgres("a_node_refuses_a_bus_whose_certificate_another_ca_signed")
    else {
        return;
    };
    let pki = tempfile::tempdir().unwrap();
    write_pki(pki.path());
    let nats = TlsNats::start(pki.path(), None);
    let dir = tempfile::tempdir().unwrap();
    let other_ca = pki.path().join("other-ca.pem");
    let bus_tls = BusTlsConfig {
        ca_file: Some(other_ca.clone()),
        ..Default::default()
    };
    let node = TlsNode::start(dir.path(), &postgres, &nats.url, bus_tls)
        .await
        .unwrap();
    // The refusal is audited with the host, the CA file and the reason.
    within(BUS_WAIT, "the refusal audited", || async {
        node.bus_audit()
            .iter()
            .any(|detail| detail.contains("UnknownIssuer"))
    })
    .await;
    let audit = node.bus_audit();
    let refusal = audit
        .iter()
        .find(|detail| detail.contains("UnknownIssuer"))
        .unwrap();
    let port = nats.url.rsplit(':').next().unwrap();
    for expected in [
        format!("bus tls://127.0.0.1:{port} lost"),
        "certificate for 127.0.0.1".to_string(),
        format!("bus_tls.ca_file {}", other_ca.display()),
    ] {
        assert!(
            refusal.contains(&expected),
            "{expected:?} not in {refusal:?}"
        );
    }
    assert!(!node.bus_up());
    assert!(
        !audit.iter().any(|detail| detail.ends_with(" connected")),
        "{audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bus_ca_file_stops_the_start_naming_it() {
    let Some(postgres) = postgres("a_missing_bus_ca_file_stops_the_start_naming_it") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("no-such-ca.pem");
    let bus_tls = BusTlsConfig {
        ca_file: Some(absent.clone()),
        ..Default::default()
    };
    // Nothing listens on port 9: the file is read before any connection.
    let err = TlsNode::start(dir.path(), &postgres, "tls://127.0.0.1:9", bus_tls)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains(&format!("bus_tls.ca_file {}", absent.display())),
        "{err}"
    );
    assert!(err.contains("cannot read"), "{err}");
}
