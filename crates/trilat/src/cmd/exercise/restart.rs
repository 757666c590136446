//! The nodes `--cluster` started: the runner owns them, so a `node_restart`
//! inject can stop one and start it again from its files, on the same
//! store, ports, key and certificate.
//!
//! A stop is a crash, not a shutdown: the node's server and every task of
//! it (federation, engines) are aborted at once, requests in flight cut,
//! nothing drained. That is how a node stops today anyway (it has no
//! graceful shutdown path: `trilat serve` ends on a signal the same way),
//! and it is the harder case for the drill: what the store committed is
//! all the node has when it comes back, and its peers must notice it went.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use trilat_core::Party;
use trilat_node::cluster::{Cluster, ClusterNode};
use trilat_node::config::Role;

/// How long a restarted node may wait for its ports to be free again.
const BIND_WAIT_MS_MAX: u64 = 10_000;
/// Wait between tries to bind them.
const BIND_RETRY_MS: u64 = 100;

/// The cluster's nodes, some of them down.
pub(super) struct OwnedNodes {
    cluster: Cluster,
    dir: PathBuf,
    down: BTreeMap<Party, DownNode>,
}

/// What a stopped node needs to come back as itself.
struct DownNode {
    idx: usize,
    url: String,
    peer_url: String,
    cert_sha256: String,
    tokens: BTreeMap<(Party, Role), String>,
    addr: SocketAddr,
    peer_addr: Option<SocketAddr>,
}

impl OwnedNodes {
    /// The nodes of `cluster`, whose files are under `dir/PARTY/`.
    pub(super) fn new(cluster: Cluster, dir: &Path) -> OwnedNodes {
        OwnedNodes {
            cluster,
            dir: dir.to_path_buf(),
            down: BTreeMap::new(),
        }
    }

    /// Stops (`up: false`) or starts again (`up: true`) `party`'s node.
    pub(super) async fn set(&mut self, party: &Party, up: bool) -> anyhow::Result<()> {
        if up {
            self.start(party).await
        } else {
            self.stop(party).await
        }
    }

    async fn stop(&mut self, party: &Party) -> anyhow::Result<()> {
        let Some(idx) = self.cluster.nodes.iter().position(|n| &n.party == party) else {
            bail!("{party}'s node is not running: it cannot be stopped");
        };
        let ClusterNode {
            url,
            peer_url,
            cert_sha256,
            tokens,
            node,
            ..
        } = self.cluster.nodes.remove(idx);
        let (addr, peer_addr) = (node.addr, node.peer_addr);
        node.stop();
        drop(node);
        // The aborted tasks drop their listeners at their next poll.
        tokio::task::yield_now().await;
        let previous = self.down.insert(
            party.clone(),
            DownNode {
                idx,
                url,
                peer_url,
                cert_sha256,
                tokens,
                addr,
                peer_addr,
            },
        );
        assert!(previous.is_none(), "a running node was not down");
        Ok(())
    }

    async fn start(&mut self, party: &Party) -> anyhow::Result<()> {
        let Some(down) = self.down.remove(party) else {
            bail!("{party}'s node is not down: it cannot be started again");
        };
        let config_path = self.dir.join(party.as_str()).join("trilat.toml");
        let config = trilat_node::Config::load(&config_path)
            .with_context(|| format!("restarting {party}'s node"))?;
        assert_eq!(&config.party, party, "the node's files are its party's");
        let state = trilat_node::open(config)
            .with_context(|| format!("reopening {party}'s node's store"))?;
        let listener = bind(down.addr).await?;
        let peer_listener = match down.peer_addr {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        let node = trilat_node::serve_with(state, listener, peer_listener)
            .await
            .with_context(|| format!("serving {party}'s node again"))?;
        let idx = down.idx.min(self.cluster.nodes.len());
        self.cluster.nodes.insert(
            idx,
            ClusterNode {
                party: party.clone(),
                url: down.url,
                peer_url: down.peer_url,
                cert_sha256: down.cert_sha256,
                tokens: down.tokens,
                node,
            },
        );
        Ok(())
    }
}

/// Binds `addr` again, waiting (bounded) while the stopped node's socket
/// is still being closed.
async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let mut waited_ms = 0;
    loop {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(_) if waited_ms < BIND_WAIT_MS_MAX => {
                tokio::time::sleep(Duration::from_millis(BIND_RETRY_MS)).await;
                waited_ms += BIND_RETRY_MS;
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("binding {addr} again after {BIND_WAIT_MS_MAX} ms"))
            }
        }
    }
}
