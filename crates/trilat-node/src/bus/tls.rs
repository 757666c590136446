//! TLS to the party's bus (docs/bus.md, "TLS"): the rustls client config
//! the NATS client connects with when the URL is `tls://` or the config
//! has `[bus_tls]`.
//!
//! The server's certificate must chain to `bus_tls.ca_file` (or the
//! system's CAs) and be issued for the URL's host. The NATS client retries
//! in the background and reports a failed attempt without its cause, so
//! the verifier keeps the last refusal ([`TlsRefusal`]) for the bus's
//! log and audit entry: which host, against which CAs, and why.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::config::BusTlsConfig;

/// The longest certificate or key file read (a CA bundle of a few hundred CAs).
const PEM_BYTES_MAX: u64 = 4 << 20;

/// Why the bus's verifier refused the server's certificate, if the last
/// handshake was refused (cleared by one that verified).
#[derive(Clone, Debug, Default)]
pub(super) struct TlsRefusal(Arc<Mutex<Option<String>>>);

impl TlsRefusal {
    /// The refusal, once: a later failed attempt for another reason (the
    /// server down) is not told as this one.
    pub(super) fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn set(&self, refusal: Option<String>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = refusal;
    }
}

/// Whether the bus at `url` with `tls` is reached over TLS.
pub(super) fn wanted(url: &str, tls: Option<&BusTlsConfig>) -> bool {
    url.starts_with("tls://") || tls.is_some()
}

/// The client config for the bus: the CAs of `tls.ca_file` (or the
/// system's), the client certificate if named. Files are read now; an
/// error names the file and says what is wrong with it.
pub(super) fn client_config(
    tls: Option<&BusTlsConfig>,
) -> Result<(rustls::ClientConfig, TlsRefusal), String> {
    let default = BusTlsConfig::default();
    let tls = tls.unwrap_or(&default);
    let provider = crate::federation::tls::provider();
    let mut roots = rustls::RootCertStore::empty();
    let trusted = match &tls.ca_file {
        Some(ca_file) => {
            for cert in read_certs("bus_tls.ca_file", ca_file)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("bus_tls.ca_file {}: {e}", ca_file.display()))?;
            }
            format!("bus_tls.ca_file {}", ca_file.display())
        }
        None => {
            let native = rustls_native_certs::load_native_certs()
                .map_err(|e| format!("the system's CAs (no bus_tls.ca_file): {e}"))?;
            roots.add_parsable_certificates(native);
            if roots.is_empty() {
                return Err(
                    "a tls:// bus without bus_tls.ca_file trusts the system's CAs, and none \
                     were found: set bus_tls.ca_file"
                        .into(),
                );
            }
            "the system's CAs".to_string()
        }
    };
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("{trusted}: {e}"))?;
    let refusal = TlsRefusal::default();
    let verifier = Arc::new(Verifier {
        webpki,
        trusted,
        refusal: refusal.clone(),
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&tls.cert_file, &tls.key_file) {
        (Some(cert_file), Some(key_file)) => {
            let chain = read_certs("bus_tls.cert_file", cert_file)?;
            check_size("bus_tls.key_file", key_file)?;
            let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| {
                format!(
                    "bus_tls.key_file {}: not a PEM private key: {e}",
                    key_file.display()
                )
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                format!(
                    "bus_tls.key_file {} does not go with cert_file {}: {e}",
                    key_file.display(),
                    cert_file.display()
                )
            })?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok((config, refusal))
}

fn check_size(what: &str, path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("{what} {}: cannot read: {e}", path.display()))?;
    if meta.len() > PEM_BYTES_MAX {
        return Err(format!(
            "{what} {}: {} bytes, more than {PEM_BYTES_MAX}",
            path.display(),
            meta.len()
        ));
    }
    Ok(())
}

/// The certificates of a PEM file; none is an error.
fn read_certs(what: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    check_size(what, path)?;
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{what} {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{what} {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(certs)
}

/// rustls's own verification (chain, validity, host name), which keeps
/// its last refusal.
#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    /// Which CAs, for messages: `bus_tls.ca_file PATH` or the system's.
    trusted: String,
    refusal: TlsRefusal,
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
        self.refusal.set(res.as_ref().err().map(|e| {
            format!(
                "the server's TLS certificate for {} does not verify against {}: {e}",
                server_name.to_str(),
                self.trusted
            )
        }));
        res
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_wanted_by_the_scheme_or_the_table() {
        assert!(!wanted("nats://h:4222", None));
        assert!(wanted("tls://h:4222", None));
        assert!(wanted("nats://h:4222", Some(&BusTlsConfig::default())));
    }

    #[test]
    fn a_missing_or_empty_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("absent-ca.pem");
        let tls = BusTlsConfig {
            ca_file: Some(ca_file.clone()),
            ..Default::default()
        };
        let err = client_config(Some(&tls)).unwrap_err();
        assert!(
            err.contains(&format!("bus_tls.ca_file {}", ca_file.display())),
            "{err}"
        );
        assert!(err.contains("cannot read"), "{err}");
        std::fs::write(&ca_file, "no certificate here\n").unwrap();
        let err = client_config(Some(&tls)).unwrap_err();
        assert!(err.contains("no PEM certificate"), "{err}");
    }
}
