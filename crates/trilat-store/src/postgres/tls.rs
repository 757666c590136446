//! TLS to the PostgreSQL server, as libpq's `sslmode` asks for it
//! (docs/store.md, "TLS").
//!
//! tokio-postgres knows `sslmode` `disable`, `prefer` and `require` only, and
//! no certificate files; so the URL's TLS parameters (`sslmode`,
//! `sslrootcert`, `sslcert`, `sslkey`) are taken out of it here, the rest is
//! parsed by tokio-postgres, and the connector is rustls (ring, as the
//! node's peer TLS) through `tokio-postgres-rustls`, which also gives SCRAM
//! its channel binding. What each mode checks of the server's certificate:
//!
//! | `sslmode` | TLS | certificate checked |
//! | --- | --- | --- |
//! | `disable` | never | — |
//! | `prefer` (the default) | if the server offers it, else clear text | no |
//! | `require` | always | against `sslrootcert` if given (as `verify-ca`), else no |
//! | `verify-ca` | always | signed by a CA of `sslrootcert` |
//! | `verify-full` | always | as `verify-ca`, and issued for the host connected to |
//!
//! A mode that requires TLS never falls back to clear text: a server
//! without TLS, or a certificate that does not verify, fails the connection.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::StoreError;

/// The URL parameters this module takes out (libpq's names).
const TLS_PARAMS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];
/// The longest certificate file read (a CA bundle of a few hundred CAs).
const PEM_BYTES_MAX: u64 = 4 << 20;

/// libpq's `sslmode` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Result<SslMode, StoreError> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            // libpq's `allow` tries clear text first: not offered.
            other => {
                return Err(invalid(format!(
                    "sslmode={other:?} is not one of disable, prefer, require, verify-ca, \
                     verify-full"
                )))
            }
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// What the URL asks of TLS (read without touching a file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TlsSettings {
    pub(super) mode: SslMode,
    /// PEM file of the CAs the server's certificate must chain to.
    pub(super) root_cert: Option<PathBuf>,
    /// PEM certificate (chain) and key this client presents, for a server
    /// that asks for one (`hostssl … cert` in pg_hba.conf).
    pub(super) client_cert: Option<(PathBuf, PathBuf)>,
}

impl TlsSettings {
    /// How much of the server's certificate is checked.
    fn check(&self) -> Check {
        match (self.mode, &self.root_cert) {
            (SslMode::VerifyFull, _) => Check::ChainAndHost,
            (SslMode::VerifyCa, _) | (SslMode::Require, Some(_)) => Check::Chain,
            _ => Check::Nothing,
        }
    }

    /// Words for messages: `sslmode=verify-full, CA /etc/trilat/db-ca.pem`.
    pub(super) fn describe(&self) -> String {
        match &self.root_cert {
            Some(path) => format!("sslmode={}, CA {}", self.mode.as_str(), path.display()),
            None => format!("sslmode={}", self.mode.as_str()),
        }
    }

    /// The connector: the files are read now, and a missing or unreadable
    /// one is an error naming it.
    pub(super) fn connector(&self) -> Result<MakeRustlsConnect, StoreError> {
        let provider = Arc::new(ring_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match (self.check(), &self.root_cert) {
            (Check::Nothing, _) => Arc::new(AnyCertificate(provider.clone())),
            (_, None) => {
                let mode = self.mode.as_str();
                return Err(invalid(format!("sslmode={mode} needs sslrootcert=PATH")));
            }
            (check, Some(path)) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in read_certs("sslrootcert", path)? {
                    roots
                        .add(cert)
                        .map_err(|e| invalid(format!("sslrootcert={}: {e}", path.display())))?;
                }
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| invalid(format!("sslrootcert={}: {e}", path.display())))?;
                Arc::new(Verifier {
                    webpki,
                    host_checked: check == Check::ChainAndHost,
                })
            }
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Postgres(format!("TLS versions: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert_file, key_file)) => {
                let chain = read_certs("sslcert", cert_file)?;
                check_size("sslkey", key_file)?;
                let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| {
                    invalid(format!(
                        "sslkey={}: not a PEM private key: {e}",
                        key_file.display()
                    ))
                })?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    invalid(format!(
                        "sslcert={} and sslkey={}: {e}",
                        cert_file.display(),
                        key_file.display()
                    ))
                })?
            }
        };
        Ok(MakeRustlsConnect::new(config))
    }

    /// tokio-postgres's mode for this one: whether to ask for TLS and
    /// whether to go on without it.
    fn driver_mode(&self) -> DriverSslMode {
        match self.mode {
            SslMode::Disable => DriverSslMode::Disable,
            SslMode::Prefer => DriverSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => DriverSslMode::Require,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Nothing,
    Chain,
    ChainAndHost,
}

/// Parses a store URL: tokio-postgres's `Config` for everything but TLS,
/// and the TLS settings. Reads no file (a config check calls it).
pub(super) fn parse_url(url: &str) -> Result<(tokio_postgres::Config, TlsSettings), StoreError> {
    let (rest, params) = take_tls_params(url)?;
    let mut config = rest.parse::<tokio_postgres::Config>().map_err(|e| {
        // The URL may hold a password: the message names the problem only.
        invalid(format!("the PostgreSQL store's URL does not parse: {e}"))
    })?;
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let mode = match param("sslmode") {
        Some(text) => SslMode::parse(text)?,
        None => SslMode::Prefer,
    };
    let file = |name: &str| -> Result<Option<PathBuf>, StoreError> {
        match param(name) {
            None => Ok(None),
            Some("") => Err(invalid(format!("{name}= needs a file path"))),
            Some("system") if name == "sslrootcert" => Err(invalid(
                "sslrootcert=system (the system's CAs) is not supported: name a PEM file of \
                 the CAs to trust"
                    .into(),
            )),
            Some(path) => Ok(Some(PathBuf::from(path))),
        }
    };
    let root_cert = file("sslrootcert")?;
    let client_cert = match (file("sslcert")?, file("sslkey")?) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => return Err(invalid("sslcert= needs sslkey= beside it".into())),
        (None, Some(_)) => return Err(invalid("sslkey= needs sslcert= beside it".into())),
    };
    if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && root_cert.is_none() {
        return Err(invalid(format!(
            "sslmode={} needs sslrootcert=PATH, a PEM file of the CAs that sign the server's \
             certificate (~/.postgresql/root.crt is not read)",
            mode.as_str()
        )));
    }
    let settings = TlsSettings {
        mode,
        root_cert,
        client_cert,
    };
    config.ssl_mode(settings.driver_mode());
    Ok((config, settings))
}

/// `url` without its TLS parameters, and those parameters (percent-decoded).
/// Only the URL form carries them here; a `key=value` connection string is
/// left to tokio-postgres whole.
fn take_tls_params(url: &str) -> Result<(String, Vec<(String, String)>), StoreError> {
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let Some((base, query)) = url.split_once('?').filter(|_| is_url) else {
        return Ok((url.to_string(), Vec::new()));
    };
    let mut kept = Vec::new();
    let mut taken: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !TLS_PARAMS.contains(&key) {
            kept.push(pair);
            continue;
        }
        if taken.iter().any(|(seen, _)| seen == key) {
            return Err(invalid(format!("{key}= is given twice in the URL")));
        }
        taken.push((key.to_string(), percent_decode(key, value)?));
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, taken))
}

fn percent_decode(key: &str, value: &str) -> Result<String, StoreError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        if bytes[idx] == b'%' {
            let hex = value.get(idx + 1..idx + 3).unwrap_or("");
            let byte = u8::from_str_radix(hex, 16)
                .ok()
                .filter(|_| hex.len() == 2)
                .ok_or_else(|| invalid(format!("{key}=: bad percent escape at byte {idx}")))?;
            out.push(byte);
            idx += 3;
        } else {
            out.push(bytes[idx]);
            idx += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid(format!("{key}=: not UTF-8 once decoded")))
}

fn invalid(reason: String) -> StoreError {
    StoreError::Invalid(reason)
}

fn check_size(param: &str, path: &Path) -> Result<(), StoreError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| invalid(format!("{param}={}: cannot read: {e}", path.display())))?;
    if meta.len() > PEM_BYTES_MAX {
        return Err(invalid(format!(
            "{param}={}: {} bytes, more than {PEM_BYTES_MAX}",
            path.display(),
            meta.len()
        )));
    }
    Ok(())
}

/// The certificates of a PEM file; none is an error.
fn read_certs(param: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, StoreError> {
    check_size(param, path)?;
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| invalid(format!("{param}={}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(invalid(format!(
            "{param}={}: no PEM certificate in it",
            path.display()
        )));
    }
    Ok(certs)
}

/// ring's provider, as the node's peer TLS (rustls deprecates it for
/// lacking post-quantum key exchange; aws-lc-rs would need cmake and a C
/// toolchain to build).
#[allow(deprecated)]
fn ring_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// `verify-ca` and `verify-full`: the chain against the CAs of
/// `sslrootcert` (validity period included), and for `verify-full` the
/// host name or address too.
#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    host_checked: bool,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let res = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match res {
            // webpki checks the name after the chain: this error means
            // the chain verified (what verify-ca asks).
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.host_checked => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// `prefer`, and `require` without `sslrootcert`: encryption without
/// checking who the server is, as libpq does in these modes (the
/// handshake's signature is still checked against the certificate's key).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(url: &str, mode: SslMode, rest: &str) {
        let (config, settings) = parse_url(url).unwrap();
        assert_eq!(settings.mode, mode, "{url}");
        let (expected_rest, _) = take_tls_params(url).unwrap();
        assert_eq!(expected_rest, rest, "{url}");
        assert_eq!(config.get_ssl_mode(), settings.driver_mode(), "{url}");
    }

    #[test]
    fn the_tls_parameters_leave_the_url_and_set_the_mode() {
        let base = "postgres://trilat@db.example:5432/trilat";
        check(base, SslMode::Prefer, base);
        check(&format!("{base}?sslmode=disable"), SslMode::Disable, base);
        check(&format!("{base}?sslmode=require"), SslMode::Require, base);
        check(
            &format!("{base}?application_name=a&sslmode=verify-full&sslrootcert=/etc/ca.pem"),
            SslMode::VerifyFull,
            &format!("{base}?application_name=a"),
        );
        check(
            &format!("{base}?sslmode=verify-ca&sslrootcert=/etc/ca.pem&connect_timeout=5"),
            SslMode::VerifyCa,
            &format!("{base}?connect_timeout=5"),
        );
    }

    #[test]
    fn the_files_are_read_as_named() {
        let url = "postgres://h/db?sslmode=verify-full&sslrootcert=/a%20b/ca.pem\
                   &sslcert=/c/client.pem&sslkey=/c/client.key";
        let (_, settings) = parse_url(url).unwrap();
        assert_eq!(settings.root_cert, Some(PathBuf::from("/a b/ca.pem")));
        assert_eq!(
            settings.client_cert,
            Some((
                PathBuf::from("/c/client.pem"),
                PathBuf::from("/c/client.key")
            ))
        );
        assert_eq!(settings.check(), Check::ChainAndHost);
        let (_, require) = parse_url("postgres://h/db?sslmode=require&sslrootcert=/ca").unwrap();
        assert_eq!(
            require.check(),
            Check::Chain,
            "libpq: require with a CA is verify-ca"
        );
        let (_, bare) = parse_url("postgres://h/db?sslmode=require").unwrap();
        assert_eq!(bare.check(), Check::Nothing);
    }

    #[test]
    fn bad_tls_parameters_say_what_is_wrong() {
        for (url, expected) in [
            ("postgres://h/db?sslmode=allow", "not one of"),
            (
                "postgres://h/db?sslmode=verify-full",
                "needs sslrootcert=PATH",
            ),
            (
                "postgres://h/db?sslmode=verify-ca",
                "needs sslrootcert=PATH",
            ),
            ("postgres://h/db?sslrootcert=system", "not supported"),
            ("postgres://h/db?sslrootcert=", "needs a file path"),
            ("postgres://h/db?sslcert=/c.pem", "needs sslkey="),
            ("postgres://h/db?sslkey=/k.pem", "needs sslcert="),
            ("postgres://h/db?sslmode=require&sslmode=disable", "twice"),
            ("postgres://h/db?sslrootcert=/a%2", "percent escape"),
        ] {
            let err = parse_url(url).unwrap_err().to_string();
            assert!(err.contains(expected), "{url}: {err}");
        }
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent-ca.pem");
        let url = format!(
            "postgres://h/db?sslmode=verify-full&sslrootcert={}",
            path.display()
        );
        let (_, settings) = parse_url(&url).unwrap();
        let err = settings.connector().err().unwrap().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("sslrootcert="), "{err}");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = settings.connector().err().unwrap().to_string();
        assert!(err.contains("no PEM certificate"), "{err}");
    }
}
