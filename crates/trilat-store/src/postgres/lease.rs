//! Leases in PostgreSQL, on the database's clock (`clock_timestamp()`),
//! so processes whose clocks disagree still agree on who holds a lease.
//! The rules are `crate::lease::acquire_rule`'s, in SQL; the fence on
//! writes is the schema's `trilat_check_fence` (`schema.rs`, version 2).

use std::sync::Arc;

use super::pool::{wait, Context, Pool};
use super::PostgresStore;
use crate::lease::{check_lease_request, fenced, TenureRow};
use crate::{Lease, LeaseGrant, LeaseState, ReportStore, StoreError, LEASES_LISTED_MAX};

/// Grants the lease if free, expired or the holder's own (then extended,
/// same token); a new tenure takes the next token. No row when another
/// holder's lease is live.
const ACQUIRE_SQL: &str = "INSERT INTO lease AS l (name, holder, token, expires_at)
     VALUES ($1, $2, 1, clock_timestamp() + $3 * interval '1 millisecond')
     ON CONFLICT (name) DO UPDATE SET
         holder = excluded.holder,
         token = CASE WHEN l.holder = excluded.holder AND l.expires_at > clock_timestamp()
                      THEN l.token ELSE l.token + 1 END,
         expires_at = greatest(excluded.expires_at,
                               CASE WHEN l.holder = excluded.holder THEN l.expires_at
                                    ELSE excluded.expires_at END)
     WHERE l.holder = excluded.holder OR l.expires_at <= clock_timestamp()
     RETURNING token";

/// The lease as it stands, with the milliseconds it has left.
const READ_SQL: &str = "SELECT holder, token,
         greatest(0, (extract(epoch FROM expires_at - clock_timestamp()) * 1000))::bigint
     FROM lease WHERE name = $1";

/// Every lease, by name, with the milliseconds each has left.
const LIST_SQL: &str = "SELECT name, holder, token,
         greatest(0, (extract(epoch FROM expires_at - clock_timestamp()) * 1000))::bigint
     FROM lease ORDER BY name LIMIT $1";

impl PostgresStore {
    pub(super) fn lease_acquire(
        &self,
        name: &str,
        holder: &str,
        duration_ms: u64,
    ) -> Result<LeaseGrant, StoreError> {
        check_lease_request(name, holder, duration_ms)?;
        let mut conn = self.pool.get()?;
        wait(async {
            let acquire = conn.statement(ACQUIRE_SQL).await?;
            let granted = conn
                .client
                .query_opt(&acquire, &[&name, &holder, &(duration_ms as f64)])
                .await
                .ctx("acquire lease")?;
            if let Some(row) = granted {
                let token: i64 = row.get(0);
                return Ok(LeaseGrant::Granted(Lease {
                    name: name.to_string(),
                    holder: holder.to_string(),
                    token: token as u64,
                    duration_ms,
                }));
            }
            let read = conn.statement(READ_SQL).await?;
            let row = conn
                .client
                .query_opt(&read, &[&name])
                .await
                .ctx("read lease")?
                .ok_or_else(|| StoreError::Corrupt(format!("lease {name} vanished")))?;
            Ok(LeaseGrant::HeldBy {
                holder: row.get(0),
                token: row.get::<_, i64>(1) as u64,
                remaining_ms: row.get::<_, i64>(2) as u64,
            })
        })
    }

    pub(super) fn lease_renew(&self, lease: &Lease, duration_ms: u64) -> Result<Lease, StoreError> {
        check_lease_request(&lease.name, &lease.holder, duration_ms)?;
        let mut conn = self.pool.get()?;
        wait(async {
            let renew = conn
                .statement(
                    "UPDATE lease SET expires_at = greatest(expires_at,
                         clock_timestamp() + $4 * interval '1 millisecond')
                     WHERE name = $1 AND holder = $2 AND token = $3
                       AND expires_at > clock_timestamp()",
                )
                .await?;
            let token = lease.token as i64;
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
                [&lease.name, &lease.holder, &token, &(duration_ms as f64)];
            if conn
                .client
                .execute(&renew, &params)
                .await
                .ctx("renew lease")?
                == 1
            {
                return Ok(Lease {
                    duration_ms,
                    ..lease.clone()
                });
            }
            let read = conn.statement(READ_SQL).await?;
            let now = conn
                .client
                .query_opt(&read, &[&lease.name])
                .await
                .ctx("read lease")?
                .map(|row| TenureRow {
                    holder: row.get(0),
                    token: row.get::<_, i64>(1) as u64,
                    expires_ms: 0,
                });
            Err(fenced(lease, now.as_ref()))
        })
    }

    pub(super) fn lease_list(&self) -> Result<Vec<LeaseState>, StoreError> {
        let mut conn = self.pool.get()?;
        wait(async {
            let list = conn.statement(LIST_SQL).await?;
            let limit = LEASES_LISTED_MAX as i64;
            let rows = conn
                .client
                .query(&list, &[&limit])
                .await
                .ctx("list leases")?;
            Ok(rows
                .iter()
                .map(|row| LeaseState {
                    name: row.get(0),
                    holder: row.get(1),
                    token: row.get::<_, i64>(2) as u64,
                    remaining_ms: row.get::<_, i64>(3) as u64,
                })
                .collect())
        })
    }

    pub(super) fn lease_release(&self, lease: &Lease) -> Result<(), StoreError> {
        let mut conn = self.pool.get()?;
        wait(async {
            let release = conn
                .statement(
                    "UPDATE lease SET expires_at = clock_timestamp()
                     WHERE name = $1 AND holder = $2 AND token = $3
                       AND expires_at > clock_timestamp()",
                )
                .await?;
            let token = lease.token as i64;
            conn.client
                .execute(&release, &[&lease.name, &lease.holder, &token])
                .await
                .ctx("release lease")?;
            Ok(())
        })
    }

    /// The store on connections that carry `lease` in their settings: the
    /// schema's fence checks each of their writes (see `schema.rs`). A pool
    /// of its own, opened lazily (its connections only as they are used).
    pub(super) fn lease_fenced(&self, lease: &Lease) -> Result<Arc<dyn ReportStore>, StoreError> {
        check_lease_request(&lease.name, &lease.holder, lease.duration_ms.max(1))?;
        let mut config = self.pool.config().clone();
        let mut options = config.get_options().unwrap_or("").to_string();
        // Safe inside `-c`: names and holders are letters, digits and `:._-`.
        options.push_str(&format!(
            " -c trilat.fence_name={} -c trilat.fence_holder={} -c trilat.fence_token={}",
            lease.name, lease.holder, lease.token
        ));
        config.options(options.trim());
        let store = PostgresStore::with_pool(Pool::new(config, self.pool.tls().clone())?)?
            .with_clock(self.clock.clone());
        Ok(Arc::new(store))
    }
}
