//! The PostgreSQL schema: its DDL and the check that a store opened has it.
//!
//! The same tables as the SQLite store's schema version 2 (see
//! `sqlite/schema.rs`; no store of PostgreSQL has been released, so its
//! version 1 has the withdrawal log from the start), in PostgreSQL's types, plus `store_head`: the one
//! row every write transaction locks first (see `mod.rs`, "Write order").
//! Version 2 adds leases and the fence on writes ([`STEP_V2`]); a store of
//! version 1 is stepped to 2 when opened.

use super::pool::{Conn, Context};
use crate::{StoreError, AUDIT_HASH_GENESIS};

/// The schema version this code writes (`store_meta.schema_version`):
/// version 1 and the step to 2 (leases and fencing, [`STEP_V2`]).
pub(super) const SCHEMA_VERSION: i64 = 2;

/// `store_meta.application`: what tells a Trilat store from other tables.
const APPLICATION: &str = "trilat";

/// Serialises opening (checking or creating) stores in one database: two
/// processes starting on an empty database create the schema once.
const OPEN_LOCK_KEY: i64 = 0x5452_4c54_0000_0001;

/// Schema version 1. `text` keys compare byte for byte (`COLLATE "C"`), as
/// in SQLite. `report_version`, `report_superseded`, `withdrawal_log` and `audit_block` are
/// append-only: a trigger refuses any UPDATE, DELETE or TRUNCATE statement
/// (even one that would touch no row).
///
/// * `withdrawal_log.stored_at_ms` is NULL for a withdrawal whose arrival
///   is not known: one an SQLite store of schema 1 held, copied in by
///   `trilat migrate` (see `migrate.rs`).
/// * `store_head` holds the change feed's last seq (`feed_seq`), the last
///   arrival time, and the audit chain's recorded tip. A write transaction
///   locks it first (`SELECT … FOR UPDATE`), so writers from every process
///   take turns there, and commit in the order of the seqs and audit
///   entries they assign.
const SCHEMA_V1: &str = r#"
CREATE TABLE store_meta (
    key   text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE store_head (
    one            boolean PRIMARY KEY DEFAULT true CHECK (one),
    feed_seq       bigint  NOT NULL,
    stored_at_ms   bigint,
    audit_tip_seq  bigint  NOT NULL,
    audit_tip_hash text    NOT NULL
);

CREATE TABLE report_version (
    seq          bigint PRIMARY KEY,
    report_id    bytea  NOT NULL,
    owner        text COLLATE "C" NOT NULL,
    counter      bigint NOT NULL,
    body         text   NOT NULL,
    kind         text COLLATE "C" NOT NULL,
    stored_at_ms bigint NOT NULL,
    observed_ms  bigint NOT NULL,
    exercise     boolean NOT NULL,
    revoked      boolean NOT NULL,
    west double precision, south double precision,
    east double precision, north double precision,
    cell bigint,
    UNIQUE (report_id, owner, counter)
);
CREATE INDEX report_version_kind     ON report_version (kind, seq);
CREATE INDEX report_version_owner    ON report_version (owner);
CREATE INDEX report_version_observed ON report_version (observed_ms);
CREATE INDEX report_version_cell     ON report_version (cell);

CREATE TABLE report_superseded (seq bigint PRIMARY KEY);

CREATE TABLE report_withdrawal (
    report_id bytea  NOT NULL,
    owner     text COLLATE "C" NOT NULL,
    counter   bigint NOT NULL,
    body      text   NOT NULL,
    PRIMARY KEY (report_id, owner)
);

CREATE TABLE withdrawal_log (
    seq          bigint PRIMARY KEY,
    body         text   NOT NULL,
    stored_at_ms bigint
);

CREATE TABLE audit_block (
    first_seq bigint PRIMARY KEY,
    n_entries bigint NOT NULL,
    last_hash bytea  NOT NULL,
    entries   bytea  NOT NULL
);
-- A block is hashed bytes that do not compress: stored out of line as they
-- are, rather than run through pglz first (a batch's block is ~100 KB).
ALTER TABLE audit_block ALTER COLUMN entries SET STORAGE EXTERNAL;

CREATE TABLE sync_state (
    key   text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE peer_request_seen (
    signature bytea  PRIMARY KEY,
    seen_ms   bigint NOT NULL
);
CREATE INDEX peer_request_seen_ms ON peer_request_seen (seen_ms);

CREATE FUNCTION trilat_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER report_version_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON report_version
    FOR EACH STATEMENT EXECUTE FUNCTION trilat_append_only();
CREATE TRIGGER report_superseded_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON report_superseded
    FOR EACH STATEMENT EXECUTE FUNCTION trilat_append_only();
CREATE TRIGGER withdrawal_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON withdrawal_log
    FOR EACH STATEMENT EXECUTE FUNCTION trilat_append_only();
CREATE TRIGGER audit_block_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_block
    FOR EACH STATEMENT EXECUTE FUNCTION trilat_append_only();
"#;

/// The step from version 1 to 2: leases (`lease`: holder, fencing token
/// and expiry on the database's clock; see `lease.rs`) and the fence on
/// writes. A connection opened for a lease's holder carries the lease in
/// its settings (`trilat.fence_name`, `trilat.fence_holder`,
/// `trilat.fence_token`); `trilat_check_fence` refuses, with SQLSTATE
/// `TRLFN`, any statement of such a session that moves the store's head
/// (every write of reports, withdrawals and audit entries does, just
/// before its commit) or writes sync state, unless the lease is still
/// that holder's under that token and unexpired. It locks the lease row
/// (`FOR SHARE`) until the commit, so the lease cannot change hands
/// between the check and the commit. Sessions without a fence are not
/// checked.
const STEP_V2: &str = r#"
CREATE TABLE lease (
    name       text COLLATE "C" PRIMARY KEY,
    holder     text COLLATE "C" NOT NULL,
    token      bigint      NOT NULL CHECK (token > 0),
    expires_at timestamptz NOT NULL
);

CREATE FUNCTION trilat_check_fence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fence_name   text := nullif(current_setting('trilat.fence_name', true), '');
    fence_holder text := current_setting('trilat.fence_holder', true);
    fence_token  bigint := nullif(current_setting('trilat.fence_token', true), '')::bigint;
    held         record;
BEGIN
    IF fence_name IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT holder, token, expires_at > clock_timestamp() AS live INTO held
        FROM lease WHERE name = fence_name FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'TRLFN', MESSAGE = format(
            'lease %s is no longer held by %s under token %s: it was never granted',
            fence_name, fence_holder, fence_token);
    ELSIF held.holder <> fence_holder OR held.token <> fence_token THEN
        RAISE EXCEPTION USING ERRCODE = 'TRLFN', MESSAGE = format(
            'lease %s is no longer held by %s under token %s: it moved to %s under token %s',
            fence_name, fence_holder, fence_token, held.holder, held.token);
    ELSIF NOT held.live THEN
        RAISE EXCEPTION USING ERRCODE = 'TRLFN', MESSAGE = format(
            'lease %s is no longer held by %s under token %s: it expired',
            fence_name, fence_holder, fence_token);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER store_head_fenced BEFORE UPDATE ON store_head
    FOR EACH STATEMENT EXECUTE FUNCTION trilat_check_fence();
CREATE TRIGGER sync_state_fenced BEFORE INSERT OR UPDATE OR DELETE ON sync_state
    FOR EACH STATEMENT EXECUTE FUNCTION trilat_check_fence();
CREATE TRIGGER peer_request_seen_fenced BEFORE INSERT OR DELETE ON peer_request_seen
    FOR EACH STATEMENT EXECUTE FUNCTION trilat_check_fence();
"#;

/// Checks the store in the connection's schema (the first of its
/// `search_path`), creating it in an empty schema, and returns its store
/// id. Another program's tables, or a store of another schema version,
/// are refused with what to do; nothing is written then.
pub(super) async fn open(conn: &mut Conn) -> Result<u64, StoreError> {
    conn.begin("BEGIN").await?;
    let res = check_or_create(conn).await;
    conn.end(res).await
}

async fn check_or_create(conn: &mut Conn) -> Result<u64, StoreError> {
    let client = &conn.client;
    client
        .execute("SELECT pg_advisory_xact_lock($1)", &[&OPEN_LOCK_KEY])
        .await
        .ctx("lock the schema")?;
    let row = client
        .query_one(
            "SELECT current_schema(), to_regclass('store_meta') IS NOT NULL,
                    (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p'))",
            &[],
        )
        .await
        .ctx("look for the store's tables")?;
    let schema: Option<String> = row.get(0);
    let has_meta: bool = row.get(1);
    let n_tables: i64 = row.get(2);
    let Some(schema) = schema else {
        return Err(StoreError::Invalid(
            "the connection has no schema to create the store in (its search_path names none that exists)".into(),
        ));
    };
    if !has_meta {
        if n_tables > 0 {
            return Err(StoreError::Corrupt(format!(
                "not a Trilat store: schema {schema:?} holds {n_tables} tables but no store_meta \
                 (give the store an empty schema or database)"
            )));
        }
        return create(conn).await;
    }
    check(conn, &schema).await
}

async fn check(conn: &mut Conn, schema: &str) -> Result<u64, StoreError> {
    let rows = conn
        .client
        .query("SELECT key, value FROM store_meta", &[])
        .await
        .ctx("read store_meta")?;
    let meta = |key: &str| {
        rows.iter()
            .find(|row| row.get::<_, &str>(0) == key)
            .map(|row| row.get::<_, String>(1))
    };
    if meta("application").as_deref() != Some(APPLICATION) {
        return Err(StoreError::Corrupt(format!(
            "not a Trilat store: schema {schema:?} has a store_meta table without application = {APPLICATION:?}"
        )));
    }
    let version = meta("schema_version").and_then(|text| text.parse::<i64>().ok());
    match version {
        Some(SCHEMA_VERSION) => {}
        Some(1) => upgrade_to_v2(conn).await?,
        Some(version) if version > SCHEMA_VERSION => {
            return Err(StoreError::Corrupt(format!(
                "schema version {version} is newer than this program's {SCHEMA_VERSION}; upgrade trilat"
            )))
        }
        other => {
            return Err(StoreError::Corrupt(format!(
                "store_meta.schema_version is {other:?}, not a version this program knows"
            )))
        }
    }
    meta("store_id")
        .and_then(|text| u64::from_str_radix(&text, 16).ok())
        .ok_or_else(|| StoreError::Corrupt("store_meta has no valid store_id".into()))
}

/// A new store: the tables, `store_meta` (a random store id) and the head
/// (empty feed, the audit chain at genesis). Inside the open transaction.
async fn create(conn: &mut Conn) -> Result<u64, StoreError> {
    let client = &conn.client;
    client
        .batch_execute(SCHEMA_V1)
        .await
        .ctx("create schema v1")?;
    client
        .batch_execute(STEP_V2)
        .await
        .ctx("create schema v2 (leases)")?;
    let store_id: u64 = rand::random();
    let meta = [
        ("application", APPLICATION.to_string()),
        ("schema_version", SCHEMA_VERSION.to_string()),
        ("store_id", format!("{store_id:016x}")),
    ];
    for (key, value) in &meta {
        client
            .execute(
                "INSERT INTO store_meta (key, value) VALUES ($1, $2)",
                &[key, value],
            )
            .await
            .ctx("write store_meta")?;
    }
    client
        .execute(
            "INSERT INTO store_head (feed_seq, stored_at_ms, audit_tip_seq, audit_tip_hash)
             VALUES (0, NULL, 0, $1)",
            &[&AUDIT_HASH_GENESIS],
        )
        .await
        .ctx("write store_head")?;
    Ok(store_id)
}

/// Version 1 to 2 ([`STEP_V2`]), inside the open transaction (under its
/// lock): all of it or nothing.
async fn upgrade_to_v2(conn: &mut Conn) -> Result<(), StoreError> {
    let client = &conn.client;
    client
        .batch_execute(STEP_V2)
        .await
        .ctx("upgrade schema 1 to 2 (leases)")?;
    client
        .execute(
            "UPDATE store_meta SET value = '2' WHERE key = 'schema_version'",
            &[],
        )
        .await
        .ctx("record schema version 2")?;
    Ok(())
}
