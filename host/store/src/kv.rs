//! A plugin's own key-value space, namespaced by tenant and connection.

use std::time::Duration;

use crate::error::{is_foreign_key_violation, DbContext, StoreError};
use crate::ids::{ConnectionId, TenantId};
use crate::store::Store;
use crate::time::{duration_ms, now_ms};

impl Store {
    /// A value; `None` when absent or expired.
    pub async fn kv_get(
        &self,
        tenant: TenantId,
        conn: ConnectionId,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query_scalar(
            "SELECT value FROM kv
             WHERE tenant_id = $1 AND connection_id = $2 AND key = $3
               AND (expires_at IS NULL OR expires_at > $4)",
        )
        .bind(tenant.to_string())
        .bind(conn.to_string())
        .bind(key)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await
        .context(format!("reading key {key:?} of {conn}"))
    }

    /// Writes a value, replacing any old one; with `ttl` it expires that long from now.
    pub async fn kv_set(
        &self,
        tenant: TenantId,
        conn: ConnectionId,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let expires_at = ttl.map(|t| now.saturating_add(duration_ms(t)));
        sqlx::query(
            "INSERT INTO kv (tenant_id, connection_id, key, value, expires_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id, connection_id, key)
             DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
        )
        .bind(tenant.to_string())
        .bind(conn.to_string())
        .bind(key)
        .bind(value)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("tenant {tenant} or connection {conn}"))
            } else {
                StoreError::db(format!("writing key {key:?} of {conn}"), e)
            }
        })?;
        Ok(())
    }

    /// Removes a value; no error when absent.
    pub async fn kv_delete(
        &self,
        tenant: TenantId,
        conn: ConnectionId,
        key: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM kv WHERE tenant_id = $1 AND connection_id = $2 AND key = $3")
            .bind(tenant.to_string())
            .bind(conn.to_string())
            .bind(key)
            .execute(&self.pool)
            .await
            .context(format!("deleting key {key:?} of {conn}"))?;
        Ok(())
    }

    /// Deletes every expired entry (they already read as absent); returns how many.
    pub async fn purge_expired_kv(&self) -> Result<u64, StoreError> {
        let result =
            sqlx::query("DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= $1")
                .bind(now_ms())
                .execute(&self.pool)
                .await
                .context("purging expired key-value entries")?;
        Ok(result.rows_affected())
    }
}
