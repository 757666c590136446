//! Connections to the PostgreSQL server: tokio-postgres clients in a
//! bounded pool, their connection tasks on a small runtime the store owns.
//!
//! The store's calls are synchronous (the trait is), and a caller may be a
//! plain thread, a `spawn_blocking` thread or, in tests, an async task. So
//! a call never enters a tokio runtime (that panics inside another one): it
//! waits on the client's future with `futures::executor::block_on`, while
//! the socket is driven by the connection task on the store's runtime.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tokio_postgres::{Client, Statement};

use super::tls::TlsSettings;
use crate::StoreError;

/// Most connections one store opens (one process of a node).
pub(super) const CONNECTIONS_MAX: usize = 8;
/// How long a call waits for a free connection before it fails.
const POOL_WAIT_MAX: Duration = Duration::from_secs(30);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most prepared statements kept per connection (queries vary in shape).
const STATEMENTS_MAX: usize = 128;

/// Adds the failing operation to a driver error.
pub(super) trait Context<T> {
    fn ctx(self, operation: &str) -> Result<T, StoreError>;
}

impl<T> Context<T> for Result<T, tokio_postgres::Error> {
    fn ctx(self, operation: &str) -> Result<T, StoreError> {
        self.map_err(|e| match e.as_db_error() {
            // The schema's fence (`schema.rs`, `trilat_check_fence`).
            Some(db) if db.code().code() == "TRLFN" => StoreError::Fenced(db.message().into()),
            _ => StoreError::Postgres(format!("{operation}: {}", describe(&e))),
        })
    }
}

/// The server's message with its detail, or the driver's with its causes
/// (a TLS failure's reason is in a cause: "invalid peer certificate:
/// UnknownIssuer").
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        },
        None => {
            let mut text = error.to_string();
            let mut cause = std::error::Error::source(error);
            // Bounded: a cause chain is a few links; a cycle would not end.
            for _ in 0..8 {
                let Some(inner) = cause else { break };
                let inner_text = inner.to_string();
                if !text.ends_with(&inner_text) {
                    text.push_str(": ");
                    text.push_str(&inner_text);
                }
                cause = inner.source();
            }
            text
        }
    }
}

/// Runs `future` to completion on this thread (see the module's comment).
pub(super) fn wait<F: Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}

/// One connection and the statements prepared on it.
pub(super) struct Conn {
    pub(super) client: Client,
    statements: HashMap<String, Statement>,
    /// A transaction was begun and not yet ended: such a connection is
    /// closed rather than pooled (closing rolls it back).
    pub(super) in_transaction: bool,
}

impl Conn {
    /// `sql` prepared on this connection (once; then from the cache).
    pub(super) async fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await.ctx("prepare")?;
        if self.statements.len() == STATEMENTS_MAX {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    pub(super) async fn begin(&mut self, sql: &str) -> Result<(), StoreError> {
        debug_assert!(!self.in_transaction);
        self.client.batch_execute(sql).await.ctx("begin")?;
        self.in_transaction = true;
        Ok(())
    }

    /// Rolls back; a connection that cannot is closed by the pool (which
    /// rolls it back as well).
    pub(super) async fn rollback(&mut self) {
        debug_assert!(self.in_transaction);
        if self.client.batch_execute("ROLLBACK").await.is_ok() {
            self.in_transaction = false;
        }
    }

    /// Commits on `Ok`, rolls back on `Err`, and passes `res` on.
    pub(super) async fn end<T>(&mut self, res: Result<T, StoreError>) -> Result<T, StoreError> {
        debug_assert!(self.in_transaction);
        let end = if res.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.client.batch_execute(end).await;
        self.in_transaction = false;
        match (res, ended) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(e)) => Err(e).ctx("commit"),
            (Err(e), _) => Err(e),
        }
    }
}

struct Slots {
    idle: Vec<Conn>,
    n_open: usize,
}

/// The bounded pool.
pub(super) struct Pool {
    /// Drives the connection tasks; `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    config: tokio_postgres::Config,
    /// What the URL asked of TLS, and the connector built from it (its
    /// files read once, when the pool was made).
    tls: TlsSettings,
    connector: tokio_postgres_rustls::MakeRustlsConnect,
    slots: Mutex<Slots>,
    freed: Condvar,
}

impl Pool {
    pub(super) fn new(
        config: tokio_postgres::Config,
        tls: TlsSettings,
    ) -> Result<Pool, StoreError> {
        let connector = tls.connector()?;
        let mut config = config;
        config.connect_timeout(CONNECT_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("trilat");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("trilat-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Postgres(format!("start the connection runtime: {e}")))?;
        Ok(Pool {
            runtime: Some(runtime),
            config,
            tls,
            connector,
            slots: Mutex::new(Slots {
                idle: Vec::new(),
                n_open: 0,
            }),
            freed: Condvar::new(),
        })
    }

    /// What the pool connects with (a fenced store's pool starts from it).
    pub(super) fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// What the pool asks of TLS (a fenced store's pool asks the same).
    pub(super) fn tls(&self) -> &TlsSettings {
        &self.tls
    }

    fn slots(&self) -> Result<MutexGuard<'_, Slots>, StoreError> {
        self.slots.lock().map_err(|_| StoreError::Poisoned)
    }

    /// A connection: an idle one, a new one while fewer than
    /// [`CONNECTIONS_MAX`] are open, or the next one returned (waiting at
    /// most [`POOL_WAIT_MAX`]).
    pub(super) fn get(&self) -> Result<PoolGuard<'_>, StoreError> {
        let deadline = std::time::Instant::now() + POOL_WAIT_MAX;
        let mut slots = self.slots()?;
        loop {
            if let Some(conn) = slots.idle.pop() {
                if !conn.client.is_closed() {
                    return Ok(PoolGuard {
                        conn: Some(conn),
                        pool: self,
                    });
                }
                slots.n_open -= 1;
                continue;
            }
            if slots.n_open < CONNECTIONS_MAX {
                slots.n_open += 1;
                drop(slots);
                return match self.connect() {
                    Ok(conn) => Ok(PoolGuard {
                        conn: Some(conn),
                        pool: self,
                    }),
                    Err(e) => {
                        self.release_slot();
                        Err(e)
                    }
                };
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(StoreError::Postgres(format!(
                    "no connection free within {} s (all {CONNECTIONS_MAX} busy)",
                    POOL_WAIT_MAX.as_secs()
                )));
            }
            slots = self
                .freed
                .wait_timeout(slots, deadline - now)
                .map_err(|_| StoreError::Poisoned)?
                .0;
        }
    }

    fn connect(&self) -> Result<Conn, StoreError> {
        let runtime = self.runtime.as_ref().expect("present until drop");
        let config = self.config.clone();
        let connector = self.connector.clone();
        let connecting = runtime.spawn(async move {
            let (client, connection) = config.connect(connector).await?;
            // Ends when the client is dropped or the server goes away; the
            // client then reports itself closed and the pool drops it.
            tokio::spawn(connection);
            Ok::<_, tokio_postgres::Error>(client)
        });
        let client = wait(connecting)
            .map_err(|e| StoreError::Postgres(format!("connect: {e}")))?
            .ctx(&format!(
                "connect to {} ({})",
                server_name(&self.config),
                self.tls.describe()
            ))?;
        Ok(Conn {
            client,
            statements: HashMap::new(),
            in_transaction: false,
        })
    }

    fn release_slot(&self) {
        if let Ok(mut slots) = self.slots.lock() {
            slots.n_open -= 1;
        }
        self.freed.notify_one();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Ok(mut slots) = self.slots.lock() {
            slots.idle.clear();
        }
        // Without blocking: a store may be dropped on an async task.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Where the store connects, for messages (never the password).
pub(super) fn server_name(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("postgres://{host}:{port}/{database}")
}

/// A pooled connection, returned on drop (closed instead if a transaction
/// was left open or the server closed it).
pub(super) struct PoolGuard<'a> {
    conn: Option<Conn>,
    pool: &'a Pool,
}

impl std::ops::Deref for PoolGuard<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("present until drop")
    }
}

impl std::ops::DerefMut for PoolGuard<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("present until drop")
    }
}

impl Drop for PoolGuard<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if conn.in_transaction || conn.client.is_closed() {
            drop(conn);
            self.pool.release_slot();
            return;
        }
        if let Ok(mut slots) = self.pool.slots.lock() {
            slots.idle.push(conn);
        }
        self.pool.freed.notify_one();
    }
}
