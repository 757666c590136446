//! The PostgreSQL server the tests use: the URL in `TRILAT_TEST_POSTGRES`
//! (scripts/test and .ci/run start one with scripts/postgres). Without it
//! the PostgreSQL tests skip, saying so; under CI (`CI=true`) they fail.
//! Each store gets a schema of its own, dropped when the [`Server`] is.

use std::sync::Mutex;

use trilat_store::PostgresStore;

pub const URL_VAR: &str = "TRILAT_TEST_POSTGRES";

/// The test server, or `None` (after saying so) when none is configured.
pub fn server(test: &str) -> Option<Server> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(Server {
            url,
            schemas: Mutex::new(Vec::new()),
        }),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => panic!(
            "{URL_VAR} is not set under CI: .ci/run must start PostgreSQL (scripts/postgres start)"
        ),
        _ => {
            eprintln!(
                "SKIP: {test}: {URL_VAR} not set, PostgreSQL store not tested \
                 (scripts/test starts a server; see docs/store.md)"
            );
            None
        }
    }
}

pub struct Server {
    url: String,
    schemas: Mutex<Vec<String>>,
}

impl Server {
    /// A store in a new, empty schema.
    pub fn store(&self) -> PostgresStore {
        let schema = self.schema();
        self.store_in(&schema)
    }

    /// A new schema name (dropped with the server).
    pub fn schema(&self) -> String {
        let schema = format!("test_{:016x}", rand::random::<u64>());
        self.schemas.lock().unwrap().push(schema.clone());
        schema
    }

    /// Another store on `schema`: what another process of the node opens.
    pub fn store_in(&self, schema: &str) -> PostgresStore {
        PostgresStore::open_in_schema(&self.url, schema).unwrap()
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `sql` in `schema` with a connection of its own (to set up or
    /// tamper with what a store reads).
    pub fn execute(&self, schema: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, connection) =
                tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await?;
            let driver = tokio::spawn(connection);
            let res = client
                .batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}; {sql}"
                ))
                .await;
            drop(client);
            let _ = driver.await;
            res
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let schemas = std::mem::take(&mut *self.schemas.lock().unwrap());
        for schema in schemas {
            if let Err(e) = self.execute("public", &format!("DROP SCHEMA {schema} CASCADE")) {
                eprintln!("could not drop test schema {schema}: {e}");
            }
        }
    }
}
