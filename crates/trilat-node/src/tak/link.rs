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
use crate::federation::tls::provider;

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
    /// Notified on each reconnection (not the first connection): the feed
    /// then sends the picture again, since a restarted server lost it.
    reconnected: Arc<Notify>,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl Link {
    /// The link, the queue that feeds it and its reconnection signal.
    pub(super) fn new(endpoint: &TakEndpoint) -> (Arc<Queue>, Arc<Notify>, Link) {
        let queue = Arc::new(Queue {
            events: Mutex::new(VecDeque::new()),
            queue_max: endpoint.queue_max,
            ready: Notify::new(),
        });
        let reconnected = Arc::new(Notify::new());
        let link = Link {
            endpoint: endpoint.clone(),
            queue: queue.clone(),
            reconnected: reconnected.clone(),
        };
        (queue, reconnected, link)
    }

    /// Connects, writes queued events, reconnects after a failure; forever.
    pub(super) async fn run(self) {
        let name = &self.endpoint.name;
        let mut backoff = BACKOFF_MIN;
        // An event whose write failed goes first on the next connection.
        let mut pending: Option<String> = None;
        let mut n_connections = 0u64;
        loop {
            match self.connect().await {
                Ok(stream) => {
                    tracing::info!(tak = %name, address = %self.endpoint.address, "TAK endpoint connected");
                    backoff = BACKOFF_MIN;
                    n_connections += 1;
                    if n_connections > 1 {
                        self.reconnected.notify_one();
                    }
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

#[cfg(test)]
mod tests {
    //! The link against a TLS server that, like TAK Server, demands a client
    //! certificate from its CA: events arrive in order, and after the server
    //! drops the connection the link reconnects and carries on.

    use std::sync::Arc;
    use std::time::Duration;

    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio::io::AsyncReadExt as _;
    use tokio::net::TcpListener;

    use super::{provider, Link};
    use crate::tak::TakEndpoint;

    const WAIT: Duration = Duration::from_secs(20);

    struct Pki {
        ca: CertifiedIssuer<'static, KeyPair>,
    }

    impl Pki {
        fn new() -> Pki {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
            Pki { ca }
        }

        /// A certificate for `name` and its PKCS#8 key.
        fn issue(&self, name: &str) -> (rcgen::Certificate, KeyPair) {
            let key = KeyPair::generate().unwrap();
            let cert = CertificateParams::new(vec![name.to_string()])
                .unwrap()
                .signed_by(&key, &self.ca)
                .unwrap();
            (cert, key)
        }
    }

    fn tls_server(pki: &Pki) -> tokio_rustls::TlsAcceptor {
        let (cert, key) = pki.issue("localhost");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca.der().clone()).unwrap();
        let clients = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider(),
        )
        .build()
        .unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(clients)
            .with_single_cert(vec![cert.der().clone()], key)
            .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }

    type ServerStream = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;

    /// Accepts one TLS connection (the handshake checks the client certificate).
    async fn accept(listener: &TcpListener, acceptor: &tokio_rustls::TlsAcceptor) -> ServerStream {
        let (tcp, _) = listener.accept().await.unwrap();
        acceptor.accept(tcp).await.unwrap()
    }

    /// Reads until `n_events` events came.
    async fn receive(tls: &mut ServerStream, n_events: usize) -> String {
        let mut text = String::new();
        let mut buffer = [0u8; 4096];
        while text.matches("</event>").count() < n_events {
            let n = tls.read(&mut buffer).await.unwrap();
            assert!(n > 0, "closed after {text:?}");
            text.push_str(std::str::from_utf8(&buffer[..n]).unwrap());
        }
        text
    }

    #[tokio::test]
    async fn events_go_over_tls_with_a_client_certificate_and_survive_a_reconnect() {
        let pki = Pki::new();
        let dir = tempfile::tempdir().unwrap();
        let (client_cert, client_key) = pki.issue("trilat-jpn");
        std::fs::write(dir.path().join("ca.pem"), pki.ca.pem()).unwrap();
        std::fs::write(dir.path().join("client.pem"), client_cert.pem()).unwrap();
        std::fs::write(dir.path().join("client.key"), client_key.serialize_pem()).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let endpoint: TakEndpoint = toml::from_str(&format!(
            "name = \"t\"\naddress = \"127.0.0.1:{port}\"\ntls = true\nserver_name = \"localhost\"\n\
             party = \"JPN\"\nlevel_max = \"SECRET\"\nqueue_max = 8\n\
             ca_file = {:?}\ncert_file = {:?}\nkey_file = {:?}\n",
            dir.path().join("ca.pem"),
            dir.path().join("client.pem"),
            dir.path().join("client.key"),
        ))
        .unwrap();
        let acceptor = tls_server(&pki);
        let (queue, _reconnected, link) = Link::new(&endpoint);
        let task = tokio::spawn(link.run());
        queue.push("<event uid=\"one\"></event>".into());
        queue.push("<event uid=\"two\"></event>".into());
        let mut tls = tokio::time::timeout(WAIT, accept(&listener, &acceptor))
            .await
            .expect("the link connects over TLS");
        let first = tokio::time::timeout(WAIT, receive(&mut tls, 2))
            .await
            .unwrap();
        assert_eq!(
            first,
            "<event uid=\"one\"></event><event uid=\"two\"></event>"
        );
        // The server drops the connection; the link connects again by itself
        // and the next event comes on the new connection.
        drop(tls);
        let mut tls = tokio::time::timeout(WAIT, accept(&listener, &acceptor))
            .await
            .expect("the link reconnects");
        queue.push("<event uid=\"three\"></event>".into());
        let second = tokio::time::timeout(WAIT, receive(&mut tls, 1))
            .await
            .unwrap();
        assert_eq!(second, "<event uid=\"three\"></event>");
        task.abort();
    }

    #[test]
    fn the_queue_is_bounded_and_drops_the_oldest() {
        let endpoint: TakEndpoint = toml::from_str(
            "name = \"t\"\naddress = \"127.0.0.1:1\"\nparty = \"JPN\"\nlevel_max = \"SECRET\"\nqueue_max = 2\n",
        )
        .unwrap();
        let (queue, _reconnected, _link) = Link::new(&endpoint);
        assert!(!queue.push("a".into()));
        assert!(!queue.push("b".into()));
        assert!(queue.push("c".into()), "full: the oldest goes");
        let held: Vec<String> = queue.events.lock().unwrap().iter().cloned().collect();
        assert_eq!(held, ["b", "c"]);
    }
}
