//! Mutual TLS between peers, in addition to the signed requests of
//! [`super::auth`].
//!
//! Each node has one TLS identity: a self-signed certificate and its private
//! key (ECDSA P-256, written by `trilat init` with [`write_identity`]). A
//! peer is named in `[[peers]]` by the SHA-256 of its certificate's DER
//! (`cert_sha256`, [`cert_sha256`]); no certificate authority, host name or
//! validity period is consulted: the pin is the whole trust decision, as the
//! Ed25519 `public_key` next to it is for signatures.
//!
//! * **Server** ([`PeerListener`]): the peer listener (`[tls] listen`)
//!   demands a client certificate and accepts exactly the pinned ones
//!   ([`PinnedPeers`]); handshakes run in their own tasks (bounded in number
//!   and time) so a slow one never holds up the others. A refused handshake
//!   is logged and, when it is about the certificate, audited with the
//!   presented certificate's SHA-256, a bounded number a minute
//!   ([`super::refusals`]). Each accepted connection carries the
//!   party whose certificate it presented ([`PeerConn`]), and a request on it
//!   must be signed by that same party ([`bind_party`]).
//! * **Client** ([`peer_client`]): one HTTP client per peer, presenting this
//!   node's certificate and accepting only the peer's pinned one
//!   ([`PinnedServer`]).
//!
//! TLS 1.3 only, with the `ring` provider. Handshake signatures are checked
//! by rustls's own verification against the pinned certificate's key, so
//! holding a copy of a pinned certificate is not enough to pass.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use sha2::{Digest as _, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::server::TlsStream;
use trilat_core::Party;
use trilat_store::AuditAction;

use super::auth::HEADER_PARTY;
use super::refusals::{Admit, RefusalBudget};
use crate::config::Config;
use crate::{audit_event, AppError, AppState};

/// Longest a peer's TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most TLS handshakes in progress at once on the peer listener; further
/// connections are closed at once until one finishes.
const HANDSHAKES_MAX: usize = 64;

/// A TLS setup that cannot be used; names the file or setting at fault.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct TlsError {
    /// The file or setting, e.g. `/etc/trilat/node-tls.crt`.
    pub what: String,
    /// Why.
    pub reason: String,
}

fn tls_error(what: impl std::fmt::Display, reason: impl std::fmt::Display) -> TlsError {
    TlsError {
        what: what.to_string(),
        reason: reason.to_string(),
    }
}

/// This node's TLS identity: its certificate and private key.
pub struct Identity {
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// Reads a PEM certificate and a PEM (PKCS#8) private key.
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<Identity, TlsError> {
        let cert = CertificateDer::from_pem_file(cert_file)
            .map_err(|e| tls_error(cert_file.display(), format!("not a PEM certificate: {e}")))?;
        let key = PrivateKeyDer::from_pem_file(key_file)
            .map_err(|e| tls_error(key_file.display(), format!("not a PEM private key: {e}")))?;
        // A key that does not match the certificate fails every handshake;
        // say so now, naming both files.
        rustls::sign::CertifiedKey::from_der(vec![cert.clone()], key.clone_key(), &provider())
            .map_err(|e| {
                let reason = format!("does not go with {}: {e}", cert_file.display());
                tls_error(key_file.display(), reason)
            })?;
        Ok(Identity { cert, key })
    }

    /// The identity named by `config`'s `[tls]` section.
    pub fn of_config(config: &Config) -> Result<Identity, TlsError> {
        Identity::load(&config.tls.cert_file, &config.tls.key_file)
    }

    /// The SHA-256 of the certificate (what partners pin).
    pub fn cert_sha256(&self) -> String {
        cert_sha256(&self.cert)
    }
}

/// Lowercase hex SHA-256 of a certificate's DER: the pin of `[[peers]]
/// cert_sha256`, equal to `openssl x509 -noout -fingerprint -sha256`
/// without the colons.
pub fn cert_sha256(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// A new self-signed certificate and key for `party`'s node, as PEM
/// `(certificate, private key)`.
pub fn generate(party: &Party) -> Result<(String, String), TlsError> {
    let failed = |e: rcgen::Error| tls_error("certificate generation", e);
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let name = format!("{}.peer.trilat", party.as_str().to_ascii_lowercase());
    let mut params = rcgen::CertificateParams::new(vec![name]).map_err(failed)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("Trilat node {party}"));
    let cert = params.self_signed(&key).map_err(failed)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Generates `party`'s TLS identity and writes it to `cert_file` and
/// `key_file` (the key readable by its owner only); returns the
/// certificate's SHA-256.
pub fn write_identity(
    party: &Party,
    cert_file: &Path,
    key_file: &Path,
) -> Result<String, TlsError> {
    let (cert_pem, key_pem) = generate(party)?;
    crate::cluster::write_secret(key_file, key_pem.trim_end())
        .map_err(|e| tls_error(key_file.display(), e))?;
    std::fs::write(cert_file, &cert_pem).map_err(|e| tls_error(cert_file.display(), e))?;
    Ok(Identity::load(cert_file, key_file)?.cert_sha256())
}

/// The crypto provider of every TLS connection the node makes or takes:
/// its peers', its party bus's (`bus::tls`) and a TAK server's (ring).
///
/// rustls deprecates ring's provider for lacking post-quantum key exchange
/// (X25519MLKEM768, in the aws-lc-rs provider). aws-lc-rs needs cmake and a
/// C toolchain at build time; ring keeps the build plain. The key exchange
/// is classical (X25519, P-256) until the project takes that cost.
#[allow(deprecated)]
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Parses a `cert_sha256` setting (64 hex digits, either case).
pub fn parse_pin(text: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(text).map_err(|_| "expected 64 hex digits".to_string())?;
    bytes
        .try_into()
        .map_err(|_| "expected 64 hex digits (a SHA-256)".to_string())
}

/// An error naming the certificate a peer presented and why it is refused.
fn refused(der: &CertificateDer<'_>, why: &str) -> rustls::Error {
    let message = format!("certificate sha256 {} {why}", cert_sha256(der));
    rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
        std::io::Error::other(message),
    ))))
}

/// Server side: accepts exactly the pinned peer certificates.
#[derive(Debug)]
pub struct PinnedPeers {
    pins: HashMap<[u8; 32], Party>,
    provider: Arc<CryptoProvider>,
}

impl PinnedPeers {
    /// The pins of `config`'s peers that have one.
    pub fn of_config(config: &Config) -> PinnedPeers {
        let pins = config
            .peers
            .iter()
            .filter_map(|peer| {
                let pin = parse_pin(peer.cert_sha256.as_deref()?).ok()?;
                Some((pin, peer.party.clone()))
            })
            .collect();
        PinnedPeers {
            pins,
            provider: provider(),
        }
    }

    /// The party whose pinned certificate `der` is.
    fn party_of(&self, der: &[u8]) -> Option<&Party> {
        self.pins.get(&<[u8; 32]>::from(Sha256::digest(der)))
    }
}

impl ClientCertVerifier for PinnedPeers {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        match self.party_of(end_entity.as_ref()) {
            Some(_) => Ok(ClientCertVerified::assertion()),
            None => Err(refused(end_entity, "is not pinned for any peer")),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Client side: accepts only the one certificate pinned for the peer.
#[derive(Debug)]
pub struct PinnedServer {
    party: Party,
    pin: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if <[u8; 32]>::from(Sha256::digest(end_entity)) == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            let why = format!("is not the one pinned for {}", self.party);
            Err(refused(end_entity, &why))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The server config of the peer listener: this node's certificate, a
/// client certificate demanded and checked against `pins`.
pub fn server_config(
    identity: &Identity,
    pins: Arc<PinnedPeers>,
) -> Result<rustls::ServerConfig, TlsError> {
    rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| tls_error("TLS protocol versions", e))?
        .with_client_cert_verifier(pins)
        .with_single_cert(vec![identity.cert.clone()], identity.key.clone_key())
        .map_err(|e| tls_error("TLS certificate", e))
}

/// An HTTP client for `peer`: presents this node's certificate and accepts
/// only the server certificate whose SHA-256 is `pin`.
pub fn peer_client(
    identity: &Identity,
    peer: &Party,
    pin: [u8; 32],
    timeout: Duration,
) -> Result<reqwest::Client, TlsError> {
    let verifier = Arc::new(PinnedServer {
        party: peer.clone(),
        pin,
        provider: provider(),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| tls_error("TLS protocol versions", e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(vec![identity.cert.clone()], identity.key.clone_key())
        .map_err(|e| tls_error("TLS certificate", e))?;
    reqwest::Client::builder()
        .timeout(timeout)
        .use_preconfigured_tls(config)
        .build()
        .map_err(|e| tls_error(format!("HTTP client for {peer}"), e))
}

/// What a TLS error says, with a refused certificate's own message rather
/// than its debug form.
fn describe(error: &rustls::Error) -> String {
    match error {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            format!("invalid peer certificate: {other}")
        }
        other => other.to_string(),
    }
}

/// An error and its causes on one line, TLS errors described by
/// [`describe`]: what a failed peer request logs and shows in the peer
/// status (reqwest's own message stops at "error sending request").
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = match cause.downcast_ref::<rustls::Error>() {
            Some(tls) => describe(tls),
            None => cause.to_string(),
        };
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// Who is at the other end of a peer connection: its address and the party
/// whose pinned certificate it presented.
#[derive(Clone, Debug)]
pub struct PeerConn {
    /// The remote address.
    pub addr: SocketAddr,
    /// The party of the certificate.
    pub party: Party,
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, PeerListener>>
    for PeerConn
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, PeerListener>) -> PeerConn {
        stream.remote_addr().clone()
    }
}

/// The peer listener: TCP connections whose TLS handshake passed, each with
/// the party it authenticated as. Handshakes run in tasks of their own.
pub struct PeerListener {
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, PeerConn)>,
    local_addr: SocketAddr,
    acceptor: tokio::task::JoinHandle<()>,
}

impl PeerListener {
    /// Accepts on `listener` with `config`; refusals are logged and audited
    /// on `state`.
    pub fn new(
        listener: TcpListener,
        config: rustls::ServerConfig,
        pins: Arc<PinnedPeers>,
        state: AppState,
    ) -> std::io::Result<PeerListener> {
        let local_addr = listener.local_addr()?;
        let (sender, accepted) = mpsc::channel(HANDSHAKES_MAX);
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let acceptor = tokio::spawn(accept_loop(listener, acceptor, pins, sender, state));
        Ok(PeerListener {
            accepted,
            local_addr,
            acceptor,
        })
    }
}

impl Drop for PeerListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for PeerListener {
    type Io = TlsStream<TcpStream>;
    type Addr = PeerConn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(accepted) => accepted,
            // The accept loop ended (its listener failed for good): serve
            // what is in flight and accept nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Err(std::io::Error::other(format!(
            "the peer listener on {} has no single peer address",
            self.local_addr
        )))
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    pins: Arc<PinnedPeers>,
    accepted: mpsc::Sender<(TlsStream<TcpStream>, PeerConn)>,
    state: AppState,
) {
    let handshakes = Arc::new(Semaphore::new(HANDSHAKES_MAX));
    let refusals = Arc::new(Mutex::new(RefusalBudget::default()));
    loop {
        let (tcp, addr) = match listener.accept().await {
            Ok(connection) => connection,
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::warn!(%e, "peer listener: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = handshakes.clone().try_acquire_owned() else {
            tracing::warn!(%addr, "peer listener: {HANDSHAKES_MAX} handshakes in progress; connection closed");
            continue;
        };
        let (acceptor, pins, accepted, state, refusals) = (
            acceptor.clone(),
            pins.clone(),
            accepted.clone(),
            state.clone(),
            refusals.clone(),
        );
        tokio::spawn(async move {
            let outcome = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await;
            drop(permit);
            match outcome {
                Ok(Ok(tls)) => {
                    let (_, connection) = tls.get_ref();
                    let party = connection
                        .peer_certificates()
                        .and_then(|certs| certs.first())
                        .and_then(|cert| pins.party_of(cert.as_ref()));
                    if let Some(party) = party.cloned() {
                        let _ = accepted.send((tls, PeerConn { addr, party })).await;
                    }
                }
                Ok(Err(e)) => handshake_refused(&state, &refusals, addr, &e).await,
                Err(_) => tracing::warn!(%addr, "peer TLS handshake timed out"),
            }
        });
    }
}

/// Logs a refused handshake; one refused over its certificate (none, or
/// not pinned) is audited too, naming the certificate's SHA-256, within
/// the bound of [`super::refusals`] (beyond it, counted into a summary).
async fn handshake_refused(
    state: &AppState,
    refusals: &Arc<Mutex<RefusalBudget>>,
    addr: SocketAddr,
    error: &std::io::Error,
) {
    let tls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let reason = tls.map_or_else(|| error.to_string(), describe);
    tracing::warn!(%addr, "peer TLS handshake refused: {reason}");
    let about_certificate = matches!(
        tls,
        Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
    );
    if !about_certificate {
        return;
    }
    let admit = refusals
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .admit(Instant::now(), addr.ip());
    match admit {
        Admit::Audit => {
            let event = audit_event(
                &format!("tls:{addr}"),
                AuditAction::Refuse,
                format!("peer TLS handshake from {addr} refused: {reason}"),
            );
            if let Err(e) = state.audit(event).await {
                tracing::error!(%addr, error = %e.message, "refused handshake not audited");
            }
        }
        Admit::Count { first: false, .. } => {}
        Admit::Count {
            first: true,
            flush_at,
        } => {
            let (state, refusals) = (state.clone(), refusals.clone());
            tokio::spawn(async move {
                tokio::time::sleep_until(flush_at.into()).await;
                audit_refusal_summary(&state, &refusals).await;
            });
        }
    }
}

/// Audits the refusals counted since the last summary, as one entry.
async fn audit_refusal_summary(state: &AppState, refusals: &Mutex<RefusalBudget>) {
    let summary = refusals
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take_summary();
    let Some(summary) = summary else { return };
    let event = audit_event("tls:refusals", AuditAction::Refuse, summary.detail());
    if let Err(e) = state.audit(event).await {
        tracing::error!(error = %e.message, "refused handshakes' summary not audited");
    }
}

/// Middleware of the peer listener: a request must be signed by the party
/// whose certificate the connection presented (the signature itself, and a
/// missing party header, are the handler's to check:
/// [`super::auth::verify_request`]).
pub async fn bind_party(
    State(state): State<AppState>,
    ConnectInfo(conn): ConnectInfo<PeerConn>,
    request: Request,
    next: Next,
) -> Response {
    let claimed = request
        .headers()
        .get(HEADER_PARTY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // A request naming no party is the signature check's to refuse (401).
    if claimed.is_empty() || claimed == conn.party.as_str() {
        return next.run(request).await;
    }
    let shown: String = claimed.chars().take(16).collect();
    let message = format!(
        "request claims {shown} on a connection authenticated as {} ({})",
        conn.party, conn.addr
    );
    let mut event = audit_event(
        &format!("peer:{}", conn.party),
        AuditAction::Refuse,
        message.clone(),
    );
    event.counterparty = Some(conn.party.clone());
    if let Err(e) = state.audit(event).await {
        return e.into_response();
    }
    AppError::forbidden(message).into_response()
}

/// The peer endpoints as the main (plain HTTP) listener serves them when
/// plain HTTP is not allowed: a refusal that says where peers belong.
pub fn plain_http_refused_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/peer/v1/push", axum::routing::post(plain_http_refused))
        .route("/peer/v1/changes", axum::routing::get(plain_http_refused))
}

async fn plain_http_refused(State(state): State<AppState>) -> AppError {
    let listen = state
        .config
        .tls
        .listen
        .map_or_else(|| "(none configured)".to_string(), |addr| addr.to_string());
    tracing::warn!("peer request over plain HTTP refused");
    AppError::new(
        axum::http::StatusCode::FORBIDDEN,
        "plain_http_refused",
        format!(
            "plain HTTP between peers is refused: the peer endpoints are served over mutual TLS on the peer listener {listen}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_is_written_loaded_and_pinned_by_its_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let jpn = Party::new("JPN").unwrap();
        let pin = write_identity(&jpn, &path("a.crt"), &path("a.key")).unwrap();
        let identity = Identity::load(&path("a.crt"), &path("a.key")).unwrap();
        assert_eq!(identity.cert_sha256(), pin);
        assert_eq!(parse_pin(&pin).unwrap().len(), 32);
        assert_eq!(
            parse_pin(&pin.to_uppercase()).unwrap(),
            parse_pin(&pin).unwrap()
        );
        // A second identity for the same party is a different certificate.
        let other = write_identity(&jpn, &path("b.crt"), &path("b.key")).unwrap();
        assert_ne!(other, pin);
        // A key that is not the certificate's is named at load.
        let error = Identity::load(&path("a.crt"), &path("b.key"))
            .err()
            .expect("mismatched key refused");
        assert!(error.what.ends_with("b.key"), "{error}");
        assert!(error.reason.contains("does not go with"), "{error}");
        // Files that are not PEM are named too.
        let error = Identity::load(&path("a.key"), &path("a.key"))
            .err()
            .expect("a key is no certificate");
        assert!(error.what.ends_with("a.key"), "{error}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path("a.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the private key is readable by others");
        }
    }

    #[test]
    fn pins_are_64_hex_digits() {
        assert!(parse_pin(&"0".repeat(64)).is_ok());
        assert!(parse_pin(&"0".repeat(62)).is_err());
        assert!(parse_pin(&"g".repeat(64)).is_err());
        assert!(parse_pin("").is_err());
    }
}
