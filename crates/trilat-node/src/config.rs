//! The node's configuration file, `trilat.toml`: who the node is, where it
//! listens and keeps its data, the sharing policy, its peers, the public keys
//! of every party whose reports may arrive, the API tokens and the limits.
//!
//! Loading validates everything and names the offending field in the error.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use trilat_core::{Party, Policy, PublicKey};

/// Longest configuration file accepted.
pub const CONFIG_BYTES_MAX: usize = 1024 * 1024;
/// Most peers a node may list (full mesh of a small coalition).
pub const PEERS_MAX: usize = 64;
/// Most API tokens a node may list.
pub const TOKENS_MAX: usize = 10_000;

/// A configuration that cannot be used; `field` names where the problem is.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {field}: {reason}")]
pub struct ConfigError {
    /// The configuration file (or `<memory>`).
    pub path: String,
    /// The field at fault, e.g. `peers[1].public_key`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// What a local user may do, from least to most.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Reads reports, the change feed and the live stream.
    Reader,
    /// Also creates, versions and revokes the node's reports.
    Analyst,
    /// Also reads the audit log and the metrics.
    Admin,
}

/// One API token: only its SHA-256 is stored, never the token itself.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Hex SHA-256 of the bearer token ([`token_sha256`]).
    pub sha256: String,
    /// The party the token's holder reads and writes as.
    pub party: Party,
    /// What the holder may do.
    pub role: Role,
    /// Who holds it (shown in audit entries as `PARTY:name`).
    pub name: String,
}

/// A partner node of the full mesh.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// The partner's party code.
    pub party: Party,
    /// Base URL of its node's peer listener, e.g. `https://jpn.example:7441`
    /// (plain `http://` only on loopback with `tls.allow_plain_http_loopback`).
    pub url: String,
    /// Its node's public key (base64 Ed25519): signs its reports and requests.
    pub public_key: PublicKey,
    /// SHA-256 (hex) of its node's TLS certificate (DER), as `trilat init`
    /// prints it: the only certificate accepted from it, as client or
    /// server. Required for an `https://` peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_sha256: Option<String>,
}

/// Mutual TLS between peers (`[tls]`): peers reach this node on a listener
/// of its own, which serves only the peer endpoints, demands a client
/// certificate and accepts only those pinned in `[[peers]]`
/// (`federation::tls`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Address of the peer listener; required when a peer is `https://`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// This node's certificate (PEM); relative to the config file.
    pub cert_file: PathBuf,
    /// Its private key (PEM, PKCS#8); relative to the config file.
    pub key_file: PathBuf,
    /// Allows `http://` peers on loopback addresses and serves the peer
    /// endpoints on the (then loopback-only) main listener too: for tests
    /// on one machine, never between partners.
    pub allow_plain_http_loopback: bool,
}

impl Default for TlsConfig {
    fn default() -> TlsConfig {
        TlsConfig {
            listen: None,
            cert_file: "node-tls.crt".into(),
            key_file: "node-tls.key".into(),
            allow_plain_http_loopback: false,
        }
    }
}

/// TLS to the party's bus (`[bus_tls]`, docs/bus.md "TLS"): with this
/// table the bus is reached over TLS only, as with a `tls://` URL, and the
/// server's certificate must verify against `ca_file` (or, without it, the
/// system's CAs) and be issued for the URL's host.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusTlsConfig {
    /// PEM file of the CAs that sign the NATS server's certificate;
    /// relative to the config file. Without it, the system's CAs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// This process's client certificate (PEM), for a server that demands
    /// one (`verify: true` in its `tls {}` block); with `key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM); with `cert_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
}

impl BusTlsConfig {
    /// Each file named, joined to `base` (the config file's folder).
    fn resolve_paths(&mut self, base: &Path) {
        for path in [&mut self.ca_file, &mut self.cert_file, &mut self.key_file]
            .into_iter()
            .flatten()
        {
            *path = base.join(&*path);
        }
    }
}

/// A party whose reports may arrive (relayed) without it being a direct peer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyKeyConfig {
    /// The party code.
    pub party: Party,
    /// Its public key (base64 Ed25519).
    pub public_key: PublicKey,
}

/// Bounds at the edge and in federation. Every field has a default.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body accepted (bytes).
    pub body_bytes_max: usize,
    /// Largest page of query results, changes or audit entries.
    pub page_size_max: usize,
    /// Requests served at once before the node sheds load (503).
    pub concurrency_max: usize,
    /// Longest a request may take (ms) before it is answered 503.
    pub request_timeout_ms: u64,
    /// Reports buffered per live-stream subscriber before it lags.
    pub stream_buffer_max: usize,
    /// Most reports in one push to a peer.
    pub push_batch_max: usize,
    /// Local changes queued per peer before falling back to pull.
    pub push_queue_max: usize,
    /// Most reports asked for in one pull from a peer.
    pub pull_page_max: usize,
    /// Interval of the catch-up pull from each peer (ms).
    pub pull_interval_ms: u64,
    /// Shortest retry delay after a failed peer request (ms).
    pub backoff_ms_min: u64,
    /// Longest retry delay after a failed peer request (ms).
    pub backoff_ms_max: u64,
    /// Most attempts at one push batch to a peer (the first included);
    /// after that the batch and the peer's push queue are dropped and the
    /// peer's pull delivers them.
    pub push_attempts_max: u32,
    /// Largest clock difference accepted on a signed peer request (ms).
    pub clock_skew_ms_max: i64,
    /// How long the lease on a peer link (`link:<PARTY>`) lasts unless
    /// renewed (ms, the store's clock): with several processes on one
    /// store, the longest a link stays undriven after its owner dies.
    pub link_lease_ms: u64,
    /// How often the owner of a link renews its lease, and a process
    /// standing by asks for a lease that has expired (ms); below
    /// `link_lease_ms`.
    pub link_lease_renew_ms: u64,
    /// Most audit entries committed in one transaction: the entries of
    /// requests made while a commit is under way wait for the next and
    /// share it (one disk flush for many). 1 commits each request alone.
    pub audit_group_max: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body_bytes_max: 4 * 1024 * 1024,
            page_size_max: 1000,
            concurrency_max: 256,
            request_timeout_ms: 30_000,
            stream_buffer_max: 1024,
            push_batch_max: 256,
            push_queue_max: 10_000,
            pull_page_max: 1000,
            pull_interval_ms: 2_000,
            backoff_ms_min: 100,
            backoff_ms_max: 10_000,
            push_attempts_max: 5,
            clock_skew_ms_max: 300_000,
            link_lease_ms: 10_000,
            link_lease_renew_ms: 2_000,
            audit_group_max: 1_000,
        }
    }
}

/// The whole node configuration (`trilat.toml`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The party this node speaks for; it owns and signs the node's reports.
    pub party: Party,
    /// Address of the HTTP listener (API, peer endpoints, TAXII).
    pub listen: SocketAddr,
    /// Directory of the SQLite database (unless `store` names another
    /// place); relative to the config file.
    pub data_dir: PathBuf,
    /// Where the reports are kept (see [`StoreLocation`]): `"sqlite:PATH"`
    /// or `"postgres://USER@HOST:PORT/DATABASE"`; without it, SQLite in
    /// `data_dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<ConnectionUrl>,
    /// The party's internal bus, `"nats://HOST:PORT"` (NATS with
    /// JetStream), when the node runs as several processes on one
    /// PostgreSQL store: each process hears of what the others stored
    /// (docs/bus.md). Without it, none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus: Option<ConnectionUrl>,
    /// A prefix for the bus's stream and subjects, so that several nodes
    /// of one party can share one NATS server without hearing each other
    /// (tests running clusters in parallel; a staging node beside
    /// production): `"NS"` gives the stream `NS_TRILAT_<PARTY>` and the
    /// subjects `NS.trilat.<PARTY>.…`. 1 to 32 of `A-Z`, `a-z`, `0-9`, `_`
    /// and `-`; only with `bus`. Without it, `TRILAT_<PARTY>` and
    /// `trilat.<PARTY>.…` (docs/bus.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus_namespace: Option<String>,
    /// File holding the node's base64 Ed25519 secret; relative to the config file.
    pub key_file: PathBuf,
    /// TLS to the bus: its CA and a client certificate (`[bus_tls]`, see
    /// [`BusTlsConfig`]); only with `bus`. A `tls://` bus URL asks for TLS
    /// too, trusting the system's CAs. (A table, so declared after every
    /// plain value: the TOML written keeps them at its top.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus_tls: Option<BusTlsConfig>,
    /// The sharing policy: levels, groups, agreements, accreditation.
    pub policy: Policy,
    /// Mutual TLS between peers.
    #[serde(default)]
    pub tls: TlsConfig,
    /// Partner nodes of the full mesh. (Not written when empty, so that
    /// `[[peers]]` tables can be appended to a fresh `trilat init` file.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<PeerConfig>,
    /// Public keys of further parties whose reports may arrive relayed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<PartyKeyConfig>,
    /// API tokens (hashes only).
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// Bounds.
    #[serde(default)]
    pub limits: Limits,
    /// The TAXII server's own table, read by `taxii` (kept verbatim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxii: Option<toml::Table>,
    /// The engines' own table, read by `engines` (kept verbatim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engines: Option<toml::Table>,
    /// TAK endpoints fed with Cursor-on-Target events (`[[tak]]`, docs/tak.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tak: Vec<crate::tak::TakEndpoint>,
}

/// A `store` or `bus` value of `trilat.toml` as written. It may hold a
/// password (`postgres://user:pw@…`, `nats://user:pw@…`), so it prints
/// (`Debug`, `Display`) without it: a config logged or shown in an error
/// never shows the password. [`ConnectionUrl::as_str`] is the value itself,
/// for connecting.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ConnectionUrl(String);

impl ConnectionUrl {
    /// The value as written (with its password, if any).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for ConnectionUrl {
    fn from(text: String) -> ConnectionUrl {
        ConnectionUrl(text)
    }
}

impl From<&str> for ConnectionUrl {
    fn from(text: &str) -> ConnectionUrl {
        ConnectionUrl(text.to_string())
    }
}

impl ConnectionUrl {
    /// The value without its secret: a NATS URL's whole user info (it may
    /// be a bare token, `nats://TOKEN@HOST`), a database URL's password.
    fn shown(&self) -> String {
        if self.0.starts_with("nats://") || self.0.starts_with("tls://") {
            crate::bus::shown_url(&self.0)
        } else {
            trilat_store::redact_password(&self.0)
        }
    }
}

impl std::fmt::Display for ConnectionUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl std::fmt::Debug for ConnectionUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.shown())
    }
}

/// Where a node keeps its reports: the `store` key of `trilat.toml`.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// SQLite in this file (`store = "sqlite:PATH"`, relative to the config
    /// file; without `store`, `trilat.sqlite3` in `data_dir`): one process.
    Sqlite(PathBuf),
    /// PostgreSQL at this URL (`store = "postgres://…"`): one party's node
    /// run as several processes shares it (docs/store.md, "PostgreSQL").
    Postgres(String),
}

impl StoreLocation {
    /// Reads a `store` value; the error says which forms are accepted.
    pub fn parse(text: &str) -> Result<StoreLocation, String> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(
                    "\"sqlite:\" needs a file path, e.g. \"sqlite:data/trilat.sqlite3\"".into(),
                );
            }
            return Ok(StoreLocation::Sqlite(path.into()));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            trilat_store::PostgresStore::check_url(text).map_err(|e| e.to_string())?;
            return Ok(StoreLocation::Postgres(text.to_string()));
        }
        Err(format!(
            "{:?} is not a store: expected \"sqlite:PATH\" or \"postgres://USER@HOST:PORT/DATABASE\"",
            trilat_store::redact_password(text)
                .chars()
                .take(40)
                .collect::<String>()
        ))
    }
}

/// The URL without its password.
impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            StoreLocation::Postgres(url) => f.write_str(&trilat_store::redact_password(url)),
        }
    }
}

/// Without the URL: it may hold a password.
impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            StoreLocation::Postgres(_) => f.write_str("Postgres(..)"),
        }
    }
}

/// Hex SHA-256 of a bearer token, as stored in [`TokenConfig::sha256`].
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random bearer token (`trl_` + 64 hex digits).
pub fn generate_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("trl_{}", hex::encode(bytes))
}

impl Config {
    /// Reads and validates a config file; relative paths in it are resolved
    /// against the file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let err = |field: &str, reason: String| ConfigError {
            path: shown.clone(),
            field: field.into(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| err("(file)", e.to_string()))?;
        if bytes.len() > CONFIG_BYTES_MAX {
            return Err(err(
                "(file)",
                format!("{} bytes, more than {CONFIG_BYTES_MAX}", bytes.len()),
            ));
        }
        let text = String::from_utf8(bytes).map_err(|e| err("(file)", e.to_string()))?;
        let mut config = Config::parse(&text).map_err(|mut e| {
            e.path = shown.clone();
            e
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.data_dir = base.join(&config.data_dir);
        if let Some(path) = config
            .store
            .as_ref()
            .and_then(|s| s.as_str().strip_prefix("sqlite:"))
        {
            config.store = Some(format!("sqlite:{}", base.join(path).display()).into());
        }
        config.key_file = base.join(&config.key_file);
        config.tls.cert_file = base.join(&config.tls.cert_file);
        config.tls.key_file = base.join(&config.tls.key_file);
        if let Some(bus_tls) = &mut config.bus_tls {
            bus_tls.resolve_paths(base);
        }
        config
            .tak
            .iter_mut()
            .for_each(|tak| tak.resolve_paths(base));
        Ok(config)
    }

    /// Parses and validates config text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError {
            path: "<memory>".into(),
            field: toml_error_field(&e),
            reason: e.message().to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Where the reports are kept: `store`, or SQLite in `data_dir`.
    pub fn store_location(&self) -> Result<StoreLocation, ConfigError> {
        match &self.store {
            None => Ok(StoreLocation::Sqlite(self.data_dir.join("trilat.sqlite3"))),
            Some(text) => StoreLocation::parse(text.as_str()).map_err(|reason| ConfigError {
                path: "<memory>".into(),
                field: "store".into(),
                reason,
            }),
        }
    }

    /// The config as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serialises: no maps with non-string keys")
    }

    /// Checks what serde cannot: policy consistency, unique peers and
    /// tokens, sane limits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field: String, reason: String| ConfigError {
            path: "<memory>".into(),
            field,
            reason,
        };
        self.policy
            .validate()
            .map_err(|e| err("policy".into(), e.to_string()))?;
        self.store_location()?;
        self.validate_bus()?;
        if self.peers.len() > PEERS_MAX {
            return Err(err(
                "peers".into(),
                format!("at most {PEERS_MAX} peers, got {}", self.peers.len()),
            ));
        }
        let mut seen = BTreeSet::from([self.party.clone()]);
        for (idx, peer) in self.peers.iter().enumerate() {
            if !seen.insert(peer.party.clone()) {
                return Err(err(
                    format!("peers[{idx}].party"),
                    format!("{} is listed twice or is this node", peer.party),
                ));
            }
            self.validate_peer_transport(idx, peer)?;
        }
        if self.tls.allow_plain_http_loopback && !self.listen.ip().is_loopback() {
            return Err(err(
                "tls.allow_plain_http_loopback".into(),
                format!(
                    "the peer endpoints would be served without TLS on {}, which is not a loopback address",
                    self.listen
                ),
            ));
        }
        for (idx, party) in self.parties.iter().enumerate() {
            if party.party == self.party {
                return Err(err(
                    format!("parties[{idx}].party"),
                    "this node's own key comes from key_file".into(),
                ));
            }
        }
        if self.tokens.len() > TOKENS_MAX {
            return Err(err("tokens".into(), format!("at most {TOKENS_MAX} tokens")));
        }
        let mut hashes = BTreeSet::new();
        for (idx, token) in self.tokens.iter().enumerate() {
            let well_formed = token.sha256.len() == 64
                && token
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !well_formed {
                return Err(err(
                    format!("tokens[{idx}].sha256"),
                    "expected 64 lowercase hex digits (SHA-256 of the token)".into(),
                ));
            }
            if !hashes.insert(&token.sha256) {
                return Err(err(
                    format!("tokens[{idx}].sha256"),
                    "the same token is listed twice".into(),
                ));
            }
            if token.name.is_empty() || token.name.len() > 64 {
                return Err(err(
                    format!("tokens[{idx}].name"),
                    "1 to 64 characters".into(),
                ));
            }
        }
        let limits = &self.limits;
        let positive = [
            ("limits.body_bytes_max", limits.body_bytes_max as u64),
            ("limits.page_size_max", limits.page_size_max as u64),
            ("limits.concurrency_max", limits.concurrency_max as u64),
            ("limits.request_timeout_ms", limits.request_timeout_ms),
            ("limits.stream_buffer_max", limits.stream_buffer_max as u64),
            ("limits.push_batch_max", limits.push_batch_max as u64),
            ("limits.push_queue_max", limits.push_queue_max as u64),
            ("limits.pull_page_max", limits.pull_page_max as u64),
            ("limits.pull_interval_ms", limits.pull_interval_ms),
            ("limits.backoff_ms_min", limits.backoff_ms_min),
            ("limits.link_lease_ms", limits.link_lease_ms),
            ("limits.link_lease_renew_ms", limits.link_lease_renew_ms),
            ("limits.audit_group_max", limits.audit_group_max as u64),
            (
                "limits.push_attempts_max",
                u64::from(limits.push_attempts_max),
            ),
            (
                "limits.clock_skew_ms_max",
                limits.clock_skew_ms_max.max(0) as u64,
            ),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(err(field.into(), "must be positive".into()));
            }
        }
        if limits.page_size_max > trilat_store::QUERY_LIMIT_MAX {
            return Err(err(
                "limits.page_size_max".into(),
                format!("at most {}", trilat_store::QUERY_LIMIT_MAX),
            ));
        }
        if limits.pull_page_max > trilat_store::QUERY_LIMIT_MAX {
            return Err(err(
                "limits.pull_page_max".into(),
                format!("at most {}", trilat_store::QUERY_LIMIT_MAX),
            ));
        }
        if limits.audit_group_max > trilat_store::BATCH_LEN_MAX {
            return Err(err(
                "limits.audit_group_max".into(),
                format!("at most {}", trilat_store::BATCH_LEN_MAX),
            ));
        }
        if limits.link_lease_ms > trilat_store::LEASE_DURATION_MS_MAX {
            return Err(err(
                "limits.link_lease_ms".into(),
                format!("at most {} ms", trilat_store::LEASE_DURATION_MS_MAX),
            ));
        }
        if limits.link_lease_renew_ms >= limits.link_lease_ms {
            return Err(err(
                "limits.link_lease_renew_ms".into(),
                "must be below link_lease_ms (renew before the lease expires)".into(),
            ));
        }
        if limits.backoff_ms_max < limits.backoff_ms_min {
            return Err(err(
                "limits.backoff_ms_max".into(),
                "must be at least backoff_ms_min".into(),
            ));
        }
        // The TAXII server's and the engines' own tables: a bad one stops
        // the node here rather than failing each request or leaving the
        // engines unstarted.
        crate::taxii::parse_config(self.taxii.as_ref()).map_err(|e| err("taxii".into(), e))?;
        crate::engines::parse_config(self.engines.as_ref(), &self.policy)
            .map_err(|e| err("engines".into(), e))?;
        crate::tak::validate_endpoints(&self.tak, &self.policy, &self.party)
            .map_err(|(f, r)| err(f, r))?;
        Ok(())
    }

    /// A peer's URL and certificate pin: `https://` with a well-formed
    /// `cert_sha256` and this node's peer listener set, or `http://` to a
    /// loopback host where `tls.allow_plain_http_loopback` allows it.
    /// `bus` is a NATS URL, on a PostgreSQL store only: the processes a bus
    /// joins share one store, and an SQLite file is not shared safely by
    /// several processes (each would write its own audit chain and seqs
    /// into one file, locking it against the others).
    fn validate_bus(&self) -> Result<(), ConfigError> {
        let err = |field: &str, reason: String| ConfigError {
            path: "<memory>".into(),
            field: field.into(),
            reason,
        };
        let Some(bus) = &self.bus else {
            if self.bus_tls.is_some() {
                return Err(err(
                    "bus_tls",
                    "sets TLS to the bus, but there is no `bus`".into(),
                ));
            }
            return match &self.bus_namespace {
                Some(_) => Err(err(
                    "bus_namespace",
                    "names the bus's stream and subjects, but there is no `bus`".into(),
                )),
                None => Ok(()),
            };
        };
        crate::bus::check_url(bus.as_str()).map_err(|reason| err("bus", reason))?;
        if let Some(bus_tls) = &self.bus_tls {
            match (&bus_tls.cert_file, &bus_tls.key_file) {
                (Some(_), None) => {
                    return Err(err("bus_tls.cert_file", "needs key_file beside it".into()))
                }
                (None, Some(_)) => {
                    return Err(err("bus_tls.key_file", "needs cert_file beside it".into()))
                }
                _ => {}
            }
        }
        if let Some(namespace) = &self.bus_namespace {
            crate::bus::check_namespace(namespace)
                .map_err(|reason| err("bus_namespace", reason))?;
        }
        if let StoreLocation::Sqlite(path) = self.store_location()? {
            return Err(err(
                "bus",
                format!(
                    "a bus joins several processes of one node on one store, and this node's \
                     store is the SQLite file {}, which several processes cannot share safely: \
                     set `store = \"postgres://…\"` (docs/store.md, \"PostgreSQL\"; \
                     `trilat migrate` moves an SQLite store there), or remove `bus` to run \
                     one process",
                    path.display()
                ),
            ));
        }
        Ok(())
    }

    fn validate_peer_transport(&self, idx: usize, peer: &PeerConfig) -> Result<(), ConfigError> {
        let err = |field: &str, reason: String| ConfigError {
            path: "<memory>".into(),
            field: format!("peers[{idx}].{field}"),
            reason,
        };
        if let Some(pin) = &peer.cert_sha256 {
            crate::federation::tls::parse_pin(pin).map_err(|e| err("cert_sha256", e))?;
        }
        if let Some(rest) = peer.url.strip_prefix("https://") {
            if rest.is_empty() {
                return Err(err("url", format!("{:?} names no host", peer.url)));
            }
            if peer.cert_sha256.is_none() {
                return Err(err(
                    "cert_sha256",
                    "required for an https:// peer: the SHA-256 of its TLS certificate".into(),
                ));
            }
            if self.tls.listen.is_none() {
                return Err(ConfigError {
                    path: "<memory>".into(),
                    field: "tls.listen".into(),
                    reason: format!(
                        "required: peers such as {} reach this node over mutual TLS",
                        peer.party
                    ),
                });
            }
            return Ok(());
        }
        let Some(rest) = peer.url.strip_prefix("http://") else {
            return Err(err("url", format!("{:?} is not an https URL", peer.url)));
        };
        if !self.tls.allow_plain_http_loopback {
            return Err(err(
                "url",
                format!(
                    "{:?}: plain HTTP between peers is refused; use https:// with the peer's cert_sha256 (tls.allow_plain_http_loopback = true allows http:// on loopback, for tests)",
                    peer.url
                ),
            ));
        }
        if !is_loopback_authority(rest) {
            return Err(err(
                "url",
                format!(
                    "{:?}: plain HTTP is allowed on loopback addresses only",
                    peer.url
                ),
            ));
        }
        Ok(())
    }

    /// Public keys of every other party whose reports this node may hold:
    /// peers first, then `parties`.
    pub fn known_keys(&self) -> BTreeMap<Party, PublicKey> {
        let mut keys = BTreeMap::new();
        for party in &self.parties {
            keys.insert(party.party.clone(), party.public_key);
        }
        for peer in &self.peers {
            keys.insert(peer.party.clone(), peer.public_key);
        }
        keys
    }
}

/// Whether the host of a URL's `authority[/path]` is a loopback address
/// (`localhost`, `127.0.0.0/8`, `[::1]`).
fn is_loopback_authority(rest: &str) -> bool {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Best effort at naming the field a TOML error is about: the key path in
/// the message or the line.
fn toml_error_field(e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => format!("(byte {}..{})", span.start, span.end),
        None => "(document)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> String {
        let key = trilat_core::NodeKey::from_seed([3; 32]).public_key();
        format!(
            r#"
party = "JPN"
listen = "127.0.0.1:7402"
data_dir = "data"
key_file = "node.key"

[policy]
levels = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"]
groups = {{ TRILAT = ["USA", "JPN", "KOR"] }}
accreditation = {{ USA = "SECRET", JPN = "SECRET", KOR = "SECRET" }}
[[policy.agreements]]
name = "TRILAT"
parties = ["USA", "JPN", "KOR"]
level_max = "SECRET"
kinds = ["*"]

[tls]
listen = "127.0.0.1:7442"

[[peers]]
party = "USA"
url = "https://127.0.0.1:7441"
public_key = "{key}"
cert_sha256 = "{pin}"

[[tokens]]
sha256 = "{hash}"
party = "JPN"
role = "admin"
name = "admin"
"#,
            hash = token_sha256("secret"),
            pin = "ab".repeat(32),
        )
    }

    #[track_caller]
    fn check(edit: impl Fn(String) -> String, field: &str) {
        let text = edit(base());
        match Config::parse(&text) {
            Ok(_) if field.is_empty() => {}
            Ok(_) => panic!("expected an error at {field}"),
            Err(e) => assert!(
                e.field.contains(field) && !field.is_empty(),
                "expected {field}, got {e}"
            ),
        }
    }

    #[test]
    fn validation_names_the_field() {
        check(|t| t, "");
        check(
            |t| t.replace("https://127.0.0.1:7441", "ftp://x"),
            "peers[0].url",
        );
        check(
            |t| t.replace("party = \"USA\"", "party = \"JPN\""),
            "peers[0].party",
        );
        check(
            |t| t.replace(&token_sha256("secret"), "abc"),
            "tokens[0].sha256",
        );
        check(
            |t| t + "\n[limits]\npage_size_max = 0\n",
            "limits.page_size_max",
        );
        check(
            |t| t + "\n[limits]\npush_attempts_max = 0\n",
            "limits.push_attempts_max",
        );
        check(|t| t + "\n[limits]\npush_attempts_max = 12\n", "");
        check(
            |t| t + "\n[limits]\nlink_lease_ms = 5000\nlink_lease_renew_ms = 1000\n",
            "",
        );
        check(
            |t| t + "\n[limits]\nlink_lease_ms = 2000\nlink_lease_renew_ms = 2000\n",
            "limits.link_lease_renew_ms",
        );
        check(
            |t| t + "\n[limits]\nlink_lease_ms = 0\n",
            "limits.link_lease_ms",
        );
        check(
            |t| t + "\n[limits]\nlink_lease_ms = 3600001\n",
            "limits.link_lease_ms",
        );
        check(
            |t| t.replace("level_max = \"SECRET\"", "level_max = \"TOP\""),
            "policy",
        );
        check(
            |t| t.replace("role = \"admin\"", "role = \"king\""),
            "(byte",
        );
        // The TAXII server's and the engines' tables are checked on load.
        check(|t| t + "\n[taxii]\ntitle = \"Trilat\"\n", "");
        check(|t| t + "\n[taxii]\ntitel = \"typo\"\n", "taxii");
        check(
            |t| {
                t + "\n[[taxii.collections]]\nid = \"not-a-uuid\"\napi_root = \"nowhere\"\ntitle = \"x\"\n"
            },
            "taxii",
        );
        check(|t| t + "\n[engines]\nexercise = true\n", "");
        check(
            |t| {
                t + "\n[engines.marking]\nlevel = \"SECRET\"\ntlp = \"AMBER\"\nrel_to = [\"TRILAT\"]\nfurther_sharing = \"none\"\n"
            },
            "",
        );
        check(|t| t + "\n[engines]\nexcercise = true\n", "engines");
        check(
            |t| {
                t + "\n[engines.marking]\nlevel = \"TOP\"\ntlp = \"AMBER\"\nrel_to = [\"TRILAT\"]\nfurther_sharing = \"none\"\n"
            },
            "engines",
        );
    }

    #[test]
    fn plain_http_between_peers_is_refused_unless_allowed_on_loopback() {
        let plain = |t: String| t.replace("https://127.0.0.1:7441", "http://127.0.0.1:7441");
        check(plain, "peers[0].url");
        let allowed = |t: String| t.replace("[tls]\n", "[tls]\nallow_plain_http_loopback = true\n");
        check(|t| allowed(plain(t)), "");
        check(
            |t| allowed(t.replace("https://127.0.0.1:7441", "http://[::1]:7441")),
            "",
        );
        check(
            |t| allowed(t.replace("https://127.0.0.1:7441", "http://localhost:7441/")),
            "",
        );
        // Only loopback, however allowed.
        check(
            |t| allowed(t.replace("https://127.0.0.1:7441", "http://192.0.2.7:7441")),
            "peers[0].url",
        );
        check(
            |t| allowed(t.replace("https://127.0.0.1:7441", "http://127.0.0.1@evil:7441")),
            "peers[0].url",
        );
        // The peer endpoints on the main listener, then: loopback only.
        check(
            |t| {
                allowed(plain(t))
                    .replace("listen = \"127.0.0.1:7402\"", "listen = \"0.0.0.0:7402\"")
            },
            "tls.allow_plain_http_loopback",
        );
    }

    #[test]
    fn an_https_peer_needs_its_pin_and_a_peer_listener() {
        check(
            |t| t.replace(&format!("cert_sha256 = \"{}\"\n", "ab".repeat(32)), ""),
            "peers[0].cert_sha256",
        );
        check(
            |t| t.replace(&"ab".repeat(32), "not-hex"),
            "peers[0].cert_sha256",
        );
        check(
            |t| t.replace(&"ab".repeat(32), &"ab".repeat(31)),
            "peers[0].cert_sha256",
        );
        check(
            |t| t.replace("[tls]\nlisten = \"127.0.0.1:7442\"\n", ""),
            "tls.listen",
        );
    }

    #[test]
    fn round_trips_through_toml() {
        let config = Config::parse(&base()).unwrap();
        let again = Config::parse(&config.to_toml()).unwrap();
        assert_eq!(config, again);
        assert_eq!(config.known_keys().len(), 1);
    }

    #[test]
    fn push_attempts_max_is_read_and_defaults_to_five() {
        let config = Config::parse(&base()).unwrap();
        assert_eq!(config.limits.push_attempts_max, 5);
        let text = base() + "\n[limits]\npush_attempts_max = 12\n";
        assert_eq!(Config::parse(&text).unwrap().limits.push_attempts_max, 12);
    }

    /// `store` selects SQLite (the default, in `data_dir`) or PostgreSQL;
    /// anything else names the field and the accepted forms.
    #[test]
    fn store_is_sqlite_by_default_or_what_store_names() {
        let with_store = |value: &str| {
            base().replace(
                "key_file = \"node.key\"",
                &format!("key_file = \"node.key\"\nstore = \"{value}\""),
            )
        };
        let config = Config::parse(&base()).unwrap();
        assert_eq!(
            config.store_location().unwrap(),
            StoreLocation::Sqlite(PathBuf::from("data/trilat.sqlite3"))
        );
        let url = "postgres://trilat:secret@db.example:5432/trilat";
        let config = Config::parse(&with_store(url)).unwrap();
        assert_eq!(
            config.store_location().unwrap(),
            StoreLocation::Postgres(url.into())
        );
        assert_eq!(Config::parse(&config.to_toml()).unwrap(), config);
        // The password stays out of everything that prints the config.
        assert!(!format!("{:?}", config.store_location().unwrap()).contains("secret"));
        assert_eq!(
            config.store_location().unwrap().to_string(),
            "postgres://trilat:***@db.example:5432/trilat"
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(
            debug.contains("postgres://trilat:***@db.example"),
            "{debug}"
        );
        assert_eq!(config.store.as_ref().unwrap().as_str(), url);
        // A typo in the scheme is not a store; the error does not show the password.
        let err = Config::parse(&with_store("postgress://trilat:secret@db/trilat")).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(err.to_string().contains("trilat:***@db"), "{err}");
        let config = Config::parse(&with_store("sqlite:other.db")).unwrap();
        assert_eq!(
            config.store_location().unwrap(),
            StoreLocation::Sqlite(PathBuf::from("other.db"))
        );
        for bad in [
            "",
            "sqlite:",
            "mysql://db/trilat",
            "postgres://h:notaport/db",
            "data/trilat.db",
        ] {
            let err = Config::parse(&with_store(bad)).unwrap_err();
            assert_eq!(err.field, "store", "{bad}: {err}");
        }
        let err = Config::parse(&with_store("data/trilat.db")).unwrap_err();
        assert!(err.reason.contains("sqlite:PATH"), "{err}");
    }

    /// `bus` is absent by default (one process) or a NATS URL; a bad one
    /// names the field.
    #[test]
    fn bus_is_none_by_default_or_a_nats_url() {
        let with_bus = |value: &str| {
            base().replace(
                "key_file = \"node.key\"",
                &format!(
                    "key_file = \"node.key\"\nstore = \"postgres://trilat@db:5432/trilat\"\n\
                     bus = \"{value}\""
                ),
            )
        };
        assert_eq!(Config::parse(&base()).unwrap().bus, None);
        let config = Config::parse(&with_bus("nats://nats.usa.example:4222")).unwrap();
        assert_eq!(
            config.bus.as_ref().map(ConnectionUrl::as_str),
            Some("nats://nats.usa.example:4222")
        );
        assert_eq!(Config::parse(&config.to_toml()).unwrap(), config);
        // Credentials in the URL, a password or a bare token, never print.
        for secret in ["nats://bus:s3cret@h:4222", "nats://s3cret@h:4222"] {
            let config = Config::parse(&with_bus(secret)).unwrap();
            assert_eq!(config.bus.as_ref().map(ConnectionUrl::as_str), Some(secret));
            let shown = format!("{config:?} {}", config.bus.as_ref().unwrap());
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("nats://…@h:4222"), "{shown}");
        }
        // Over TLS: the token stays hidden as well.
        let config = Config::parse(&with_bus("tls://s3cret@h:4222")).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("tls://…@h:4222"), "{shown}");
        for bad in [
            "",
            "nats.usa.example:4222",
            "https://h:4222",
            "nats://h",
            "nats://h:4222/x",
            "tls://h",
        ] {
            let err = Config::parse(&with_bus(bad)).unwrap_err();
            assert_eq!(err.field, "bus", "{bad}: {err}");
            assert!(err.reason.contains("nats://HOST:PORT"), "{bad}: {err}");
        }
    }

    /// `[bus_tls]` names the bus's CA and client certificate: beside a
    /// `bus` only, certificate and key together, its paths relative to the
    /// config file once loaded.
    #[test]
    fn bus_tls_names_its_files_beside_a_bus() {
        let with = |extra: &str| {
            base().replace(
                "key_file = \"node.key\"",
                &format!(
                    "key_file = \"node.key\"\nstore = \"postgres://trilat@db:5432/trilat\"{extra}"
                ),
            )
        };
        let bus = "\nbus = \"tls://nats.jpn.example:4222\"";
        let full = format!(
            "{bus}\nbus_tls = {{ ca_file = \"ca.pem\", cert_file = \"c.pem\", key_file = \"c.key\" }}"
        );
        let config = Config::parse(&with(&full)).unwrap();
        let bus_tls = config.bus_tls.clone().unwrap();
        assert_eq!(bus_tls.ca_file, Some(PathBuf::from("ca.pem")));
        assert_eq!(Config::parse(&config.to_toml()).unwrap(), config);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trilat.toml");
        std::fs::write(&path, with(&full)).unwrap();
        let loaded = Config::load(&path).unwrap().bus_tls.unwrap();
        assert_eq!(loaded.ca_file, Some(dir.path().join("ca.pem")));
        assert_eq!(loaded.key_file, Some(dir.path().join("c.key")));

        for (extra, field, reason) in [
            (
                "\nbus_tls = { ca_file = \"ca.pem\" }".to_string(),
                "bus_tls",
                "no `bus`",
            ),
            (
                format!("{bus}\nbus_tls = {{ cert_file = \"c.pem\" }}"),
                "bus_tls.cert_file",
                "key_file",
            ),
            (
                format!("{bus}\nbus_tls = {{ key_file = \"c.key\" }}"),
                "bus_tls.key_file",
                "cert_file",
            ),
        ] {
            let err = Config::parse(&with(&extra)).unwrap_err();
            assert_eq!(err.field, field, "{extra}: {err}");
            assert!(err.reason.contains(reason), "{extra}: {err}");
        }
    }

    /// A store URL's TLS parameters are checked at load: `verify-full`
    /// without a CA file is refused, naming the field.
    #[test]
    fn a_store_url_asking_verify_full_needs_its_ca_file() {
        let with_store = |url: &str| {
            base().replace(
                "key_file = \"node.key\"",
                &format!("key_file = \"node.key\"\nstore = \"{url}\""),
            )
        };
        let good = "postgres://trilat@db:5432/trilat?sslmode=verify-full&sslrootcert=/etc/ca.pem";
        assert!(Config::parse(&with_store(good)).is_ok());
        let err = Config::parse(&with_store(
            "postgres://trilat@db/trilat?sslmode=verify-full",
        ))
        .unwrap_err();
        assert_eq!(err.field, "store", "{err}");
        assert!(err.reason.contains("sslrootcert=PATH"), "{err}");
    }

    /// A bus on an SQLite store is refused: several processes cannot share
    /// the file. The error names the field, the file and what to do.
    #[test]
    fn a_bus_needs_a_postgres_store() {
        let bus = "\nbus = \"nats://127.0.0.1:4222\"";
        let with = |extra: &str| {
            base().replace(
                "key_file = \"node.key\"",
                &format!("key_file = \"node.key\"{extra}"),
            )
        };
        for store in ["", "\nstore = \"sqlite:data/reports.sqlite3\""] {
            let err = Config::parse(&with(&format!("{store}{bus}"))).unwrap_err();
            assert_eq!(err.field, "bus", "{err}");
            assert!(err.reason.contains("SQLite file"), "{err}");
            assert!(err.reason.contains("postgres://"), "{err}");
            assert!(err.reason.contains("remove `bus`"), "{err}");
        }
        let postgres = "\nstore = \"postgres://trilat@db:5432/trilat\"";
        assert!(Config::parse(&with(&format!("{postgres}{bus}"))).is_ok());
    }

    /// `bus_namespace` names the stream and subjects; it needs a bus and a
    /// name a NATS subject token and stream name both accept.
    #[test]
    fn a_bus_namespace_is_a_plain_name_beside_a_bus() {
        let with = |extra: &str| {
            base().replace(
                "key_file = \"node.key\"",
                &format!(
                    "key_file = \"node.key\"\nstore = \"postgres://trilat@db:5432/trilat\"{extra}"
                ),
            )
        };
        let bus = "\nbus = \"nats://127.0.0.1:4222\"";
        let config = Config::parse(&with(&format!("{bus}\nbus_namespace = \"ci-7_a\""))).unwrap();
        assert_eq!(config.bus_namespace.as_deref(), Some("ci-7_a"));
        assert_eq!(Config::parse(&config.to_toml()).unwrap(), config);
        let err = Config::parse(&with("\nbus_namespace = \"ci\"")).unwrap_err();
        assert_eq!(err.field, "bus_namespace", "{err}");
        for bad in ["", "a.b", "a*", "a>", "a b", "a/b", &"x".repeat(33)] {
            let text = with(&format!("{bus}\nbus_namespace = \"{bad}\""));
            let err = Config::parse(&text).unwrap_err();
            assert_eq!(err.field, "bus_namespace", "{bad}: {err}");
        }
    }

    /// A relative `sqlite:` path is relative to the config file, like `data_dir`.
    #[test]
    fn a_relative_sqlite_store_is_read_beside_the_config_file() {
        let dir = std::env::temp_dir().join(format!("trilat-config-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = base().replace(
            "key_file = \"node.key\"",
            "key_file = \"node.key\"\nstore = \"sqlite:db/reports.sqlite3\"",
        );
        std::fs::write(dir.join("trilat.toml"), text).unwrap();
        let config = Config::load(&dir.join("trilat.toml")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            config.store_location().unwrap(),
            StoreLocation::Sqlite(dir.join("db/reports.sqlite3"))
        );
    }
}
