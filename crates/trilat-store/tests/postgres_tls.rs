//! The PostgreSQL store over TLS (docs/store.md, "TLS"), against real
//! servers this file starts with scripts/postgres: one with TLS only (its
//! certificate from a CA made here, issued for `localhost`), one without.
//! `verify-full` connects with the right CA and the right host name, and
//! refuses the wrong CA and a name the certificate was not issued for;
//! `verify-ca` takes the right CA whatever the name; a role that logs in by
//! client certificate does so with `sslcert` and `sslkey`; `require` against
//! a server without TLS fails instead of going on in clear text.
//!
//! Needs PostgreSQL's server programs (Debian's postgresql package); without
//! them the tests skip, saying so, and under CI (`CI=true`) they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use trilat_store::{PostgresStore, ReportStore};

/// A server started by scripts/postgres, stopped when dropped.
struct TestServer {
    dir: tempfile::TempDir,
    port: u16,
}

impl TestServer {
    /// Starts a server, with TLS (and TLS only) when `tls` is a folder of
    /// [`write_pki`]'s files (the role `trilat_cert` then logs in with its
    /// client certificate only); `None` (after saying so) without PostgreSQL.
    fn start(test: &str, tls: Option<&Path>) -> Option<TestServer> {
        let installed = std::fs::read_dir("/usr/lib/postgresql")
            .map(|versions| {
                versions
                    .flatten()
                    .any(|v| v.path().join("bin/pg_ctl").exists())
            })
            .unwrap_or(false);
        if !installed {
            if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                panic!("{test}: no PostgreSQL server programs under /usr/lib/postgresql under CI");
            }
            eprintln!(
                "SKIP: {test}: PostgreSQL is not installed (apt-get install postgresql), \
                 the store's TLS is not tested"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(script());
        command.arg("start").arg(dir.path());
        if let Some(pki) = tls {
            command
                .env("POSTGRES_TLS_CERT", pki.join("server.pem"))
                .env("POSTGRES_TLS_KEY", pki.join("server.key"))
                .env("POSTGRES_TLS_CA", pki.join("ca.pem"));
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "scripts/postgres start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let url = String::from_utf8(output.stdout).unwrap();
        let port = url
            .trim()
            .rsplit_once(':')
            .and_then(|(_, rest)| rest.split('/').next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no port in {url:?}"));
        Some(TestServer { dir, port })
    }

    /// The URL of the `trilat` database, named `host` (what `verify-full`
    /// checks) but reached at 127.0.0.1 whatever `host` resolves to, with
    /// `params`.
    fn url(&self, host: &str, params: &str) -> String {
        self.url_as("postgres", host, params)
    }

    /// The same as `user`.
    fn url_as(&self, user: &str, host: &str, params: &str) -> String {
        format!(
            "postgres://{user}@{host}:{}/trilat?hostaddr=127.0.0.1&{params}",
            self.port
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres")
}

/// A CA and, in `dir`, its certificate (`ca.pem`), a server certificate
/// and key it issued for `localhost` only (`server.pem`, `server.key`) and
/// a client certificate for the role `trilat_cert` (`client.pem`,
/// `client.key`); a second, unrelated CA's certificate (`other-ca.pem`).
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
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client
        .distinguished_name
        .push(DnType::CommonName, "trilat_cert");
    let client = client.signed_by(&client_key, &ca).unwrap();
    std::fs::write(dir.join("client.pem"), client.pem()).unwrap();
    std::fs::write(dir.join("client.key"), client_key.serialize_pem()).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
    std::fs::write(dir.join("other-ca.pem"), new_ca("Another CA").pem()).unwrap();
}

/// Opens a store at `url` in a schema of its own and reads its feed: the
/// connection works end to end.
fn open(url: &str) -> Result<(), String> {
    let schema = format!("tls_{:016x}", rand::random::<u64>());
    let store = PostgresStore::open_in_schema(url, &schema).map_err(|e| e.to_string())?;
    store.changes(None, 1).map_err(|e| e.to_string())?;
    Ok(())
}

#[test]
fn verify_full_and_verify_ca_check_the_servers_certificate() {
    let pki = tempfile::tempdir().unwrap();
    write_pki(pki.path());
    let test = "verify_full_and_verify_ca_check_the_servers_certificate";
    let Some(server) = TestServer::start(test, Some(pki.path())) else {
        return;
    };
    let ca = pki.path().join("ca.pem").display().to_string();
    let other_ca = pki.path().join("other-ca.pem").display().to_string();
    let full = |ca: &str| format!("sslmode=verify-full&sslrootcert={ca}");

    // The server takes TLS only, so each success below went over TLS.
    let clear = open(&server.url("127.0.0.1", "sslmode=disable")).unwrap_err();
    assert!(clear.contains("no encryption"), "{clear}");

    open(&server.url("localhost", &full(&ca))).unwrap();
    open(&server.url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}"))).unwrap();
    open(&server.url("127.0.0.1", &format!("sslmode=require&sslrootcert={ca}"))).unwrap();
    open(&server.url("127.0.0.1", "sslmode=require")).unwrap();
    open(&server.url("127.0.0.1", "sslmode=prefer")).unwrap();

    // The wrong CA: refused, naming the server, the mode, the CA file and why.
    let wrong = open(&server.url("localhost", &full(&other_ca))).unwrap_err();
    for expected in [
        "connect to postgres://localhost:",
        "sslmode=verify-full",
        other_ca.as_str(),
        "UnknownIssuer",
    ] {
        assert!(wrong.contains(expected), "{expected:?} not in: {wrong}");
    }
    let wrong_ca = open(&server.url(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={other_ca}"),
    ))
    .unwrap_err();
    assert!(wrong_ca.contains("UnknownIssuer"), "{wrong_ca}");

    // The right CA, but a host the certificate was not issued for.
    let name = open(&server.url("127.0.0.1", &full(&ca))).unwrap_err();
    assert!(name.contains("connect to postgres://127.0.0.1:"), "{name}");
    assert!(
        name.contains("certificate not valid for name \"127.0.0.1\""),
        "{name}"
    );

    // A role that logs in by client certificate: with sslcert and sslkey
    // only.
    let client = format!(
        "{}&sslcert={}&sslkey={}",
        full(&ca),
        pki.path().join("client.pem").display(),
        pki.path().join("client.key").display()
    );
    open(&server.url_as("trilat_cert", "localhost", &client)).unwrap();
    let without = open(&server.url_as("trilat_cert", "localhost", &full(&ca))).unwrap_err();
    assert!(
        without.contains("connection requires a valid client certificate"),
        "{without}"
    );
}

#[test]
fn require_against_a_server_without_tls_fails_instead_of_going_on_in_clear() {
    let test = "require_against_a_server_without_tls_fails_instead_of_going_on_in_clear";
    let Some(server) = TestServer::start(test, None) else {
        return;
    };
    open(&server.url("127.0.0.1", "sslmode=prefer")).unwrap();
    open(&server.url("127.0.0.1", "sslmode=disable")).unwrap();
    let refused = open(&server.url("127.0.0.1", "sslmode=require")).unwrap_err();
    assert!(refused.contains("server does not support TLS"), "{refused}");
    assert!(
        refused.contains("connect to postgres://127.0.0.1:"),
        "{refused}"
    );
    assert!(refused.contains("sslmode=require"), "{refused}");
}

#[test]
fn a_missing_ca_file_is_named_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("no-such-ca.pem");
    // Nothing listens on port 9 of loopback: the file is read first.
    let url = format!(
        "postgres://postgres@127.0.0.1:9/trilat?sslmode=verify-full&sslrootcert={}",
        absent.display()
    );
    let err = PostgresStore::open(&url).err().unwrap().to_string();
    assert!(err.contains(&absent.display().to_string()), "{err}");
    assert!(err.contains("cannot read"), "{err}");
    let err = PostgresStore::check_url("postgres://h/db?sslmode=verify-full")
        .unwrap_err()
        .to_string();
    assert!(err.contains("sslrootcert=PATH"), "{err}");
}
