//! The connection to one TAK endpoint: TCP or TLS, fed from a bounded
//! queue, reconnecting with exponential backoff. What the server sends back
//! (other clients' events) is read and dropped, so it never fills the
//! socket's buffer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::config::TakEndpoint;

/// First wait after a failed connection.
const BACKOFF_MIN: Duration = Duration::from_millis(500);
/// Longest wait between two attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Longest a connection (with its TLS handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest one event's write may take before the connection is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Events waiting for the connection, oldest first; bounded: a push beyond
/// the bound drops the oldest (a stale picture is worth less than a fresh one).
pub(super) struct Queue {
    events: Mutex<VecDeque<String>>,
    queue_max: usize,
    ready: Notify,
}

impl Queue {
    /// Adds `xml`; true when the oldest event was dropped to make room.
    pub(super) fn push(&self, xml: String) -> bool {
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        let dropped = events.len() >= self.queue_max;
        if dropped {
            events.pop_front();
        }
        events.push_back(xml);
        assert!(events.len() <= self.queue_max);
        drop(events);
        self.ready.notify_one();
        dropped
    }

    /// The oldest event, waiting for one.
    async fn pop(&self) -> String {
        loop {
            let next = self
                .events
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop_front();
            if let Some(xml) = next {
                return xml;
            }
            self.ready.notified().await;
        }
    }
}

/// The connection side of one endpoint.
pub(super) struct Link {
    endpoint: TakEndpoint,
    queue: Arc<Queue>,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl Link {
    /// The link and the queue that feeds it.
    pub(super) fn new(endpoint: &TakEndpoint) -> (Arc<Queue>, Link) {
        let queue = Arc::new(Queue {
            events: Mutex::new(VecDeque::new()),
            queue_max: endpoint.queue_max,
            ready: Notify::new(),
        });
        let link = Link {
            endpoint: endpoint.clone(),
            queue: queue.clone(),
        };
        (queue, link)
    }

    /// Connects, writes queued events, reconnects after a failure; forever.
    pub(super) async fn run(self) {
        let name = &self.endpoint.name;
        let mut backoff = BACKOFF_MIN;
        // An event whose write failed goes first on the next connection.
        let mut pending: Option<String> = None;
        loop {
            match self.connect().await {
                Ok(stream) => {
                    tracing::info!(tak = %name, address = %self.endpoint.address, "TAK endpoint connected");
                    backoff = BACKOFF_MIN;
                    let e = self.write_all(stream, &mut pending).await;
                    tracing::warn!(tak = %name, %e, "TAK connection lost; reconnecting");
                }
                Err(e) => {
                    tracing::warn!(tak = %name, %e, retry_ms = backoff.as_millis() as u64, "TAK endpoint unreachable");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// Writes events until the connection fails; the error.
    async fn write_all(&self, stream: Box<dyn Stream>, pending: &mut Option<String>) -> String {
        let (mut reader, mut writer) = tokio::io::split(stream);
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let xml = match pending.take() {
                Some(xml) => xml,
                None => tokio::select! {
                    xml = self.queue.pop() => xml,
                    read = reader.read(&mut buffer) => match read {
                        Ok(0) => return "closed by the server".into(),
                        Ok(_) => continue,
                        Err(e) => return e.to_string(),
                    },
                },
            };
            let write = async {
                writer.write_all(xml.as_bytes()).await?;
                writer.flush().await
            };
            match tokio::time::timeout(WRITE_TIMEOUT, write).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    *pending = Some(xml);
                    return e.to_string();
                }
                Err(_) => {
                    *pending = Some(xml);
                    return "write timed out".into();
                }
            }
        }
    }

    async fn connect(&self) -> Result<Box<dyn Stream>, String> {
        let connect = async {
            let tcp = TcpStream::connect(&self.endpoint.address)
                .await
                .map_err(|e| format!("connect {}: {e}", self.endpoint.address))?;
            let _ = tcp.set_nodelay(true);
            if !self.endpoint.tls {
                return Ok(Box::new(tcp) as Box<dyn Stream>);
            }
            let connector =
                tokio_rustls::TlsConnector::from(Arc::new(client_config(&self.endpoint)?));
            let name = self
                .endpoint
                .server_name
                .clone()
                .unwrap_or_else(|| self.endpoint.host().to_string());
            let server_name = ServerName::try_from(name.clone())
                .map_err(|e| format!("server name {name:?}: {e}"))?;
            let tls = connector
                .connect(server_name, tcp)
                .await
                .map_err(|e| format!("TLS with {}: {e}", self.endpoint.address))?;
            Ok(Box::new(tls) as Box<dyn Stream>)
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| format!("connect {}: timed out", self.endpoint.address))?
    }
}

/// The TLS client config of `endpoint`: its CA as the only root, its client
/// certificate when given. Read at each connection, so renewed files are used.
fn client_config(endpoint: &TakEndpoint) -> Result<rustls::ClientConfig, String> {
    let ca_file = endpoint.ca_file.as_ref().ok_or("tls without ca_file")?;
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| format!("{}: {e}", ca_file.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("{}: {e}", ca_file.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("{}: {e}", ca_file.display()))?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    match (&endpoint.cert_file, &endpoint.key_file) {
        (Some(cert_file), Some(key_file)) => {
            let chain = CertificateDer::pem_file_iter(cert_file)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("{}: {e}", cert_file.display()))?;
            let key = PrivateKeyDer::from_pem_file(key_file)
                .map_err(|e| format!("{}: {e}", key_file.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("{}: {e}", cert_file.display()))
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}

/// ring's provider, as the federation's peer connections use (see
/// `federation::tls`: rustls deprecates it for lacking post-quantum key
/// exchange; aws-lc-rs would need cmake and a C toolchain to build).
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
