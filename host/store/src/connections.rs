//! Connections: a tenant's configured link to one provider account.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqliteRow;

use crate::error::{is_foreign_key_violation, is_unique_violation, DbContext, StoreError};
use crate::ids::{ConnectionId, TenantId};
use crate::secrets::Secrets;
use crate::store::{checked_name, col, Store};
use crate::time::{from_ms, now_ms};

/// What is needed to create a connection.
#[derive(Debug, Clone)]
pub struct NewConnection {
    /// The owning tenant.
    pub tenant: TenantId,
    /// The provider, e.g. `pressero`.
    pub provider: String,
    /// The friendly name, unique within the tenant.
    pub name: String,
    /// Non-secret settings (URLs, ids, options).
    pub settings: BTreeMap<String, String>,
    /// Credentials; encrypted before they are written.
    pub secrets: Secrets,
    /// R-CONN-5 "Enabled": configuration is allowed.
    pub enabled: bool,
    /// R-CONN-5 "Live": data actually flows.
    pub live: bool,
}

impl NewConnection {
    /// A disabled, not-live connection with no settings or secrets.
    pub fn new(tenant: TenantId, provider: impl Into<String>, name: impl Into<String>) -> Self {
        NewConnection {
            tenant,
            provider: provider.into(),
            name: name.into(),
            settings: BTreeMap::new(),
            secrets: Secrets::new(),
            enabled: false,
            live: false,
        }
    }
}

/// A stored connection, without its secrets (see [`Store::connection_secrets`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// Its id.
    pub id: ConnectionId,
    /// The owning tenant.
    pub tenant: TenantId,
    /// The provider, e.g. `pressero`.
    pub provider: String,
    /// The friendly name, unique within the tenant.
    pub name: String,
    /// Non-secret settings.
    pub settings: BTreeMap<String, String>,
    /// R-CONN-5 "Enabled".
    pub enabled: bool,
    /// R-CONN-5 "Live".
    pub live: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When settings, secrets or flags last changed.
    pub updated_at: DateTime<Utc>,
}

const CONNECTION_COLUMNS: &str =
    "id, tenant_id, provider, name, settings, enabled, live, created_at, updated_at";

impl Store {
    /// Creates a connection; a name already used in the tenant is a [`StoreError::Conflict`]
    /// naming it, an unknown tenant is [`StoreError::NotFound`].
    pub async fn create_connection(&self, c: NewConnection) -> Result<ConnectionId, StoreError> {
        let name = checked_name(&c.name, "connection name")?;
        let provider = checked_name(&c.provider, "provider")?;
        let id = ConnectionId::new();
        let sealed = self.key.seal(id, &c.secrets)?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO connections
             (id, tenant_id, provider, name, settings, secrets, enabled, live, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(id.to_string())
        .bind(c.tenant.to_string())
        .bind(provider)
        .bind(name)
        .bind(settings_json(&c.settings)?)
        .bind(sealed)
        .bind(c.enabled)
        .bind(c.live)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!(
                    "a connection named {name:?} already exists in tenant {}",
                    c.tenant
                ))
            } else if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("tenant {}", c.tenant))
            } else {
                StoreError::db(format!("creating connection {name:?}"), e)
            }
        })?;
        Ok(id)
    }

    /// A connection (settings and flags, never secrets); [`StoreError::NotFound`] if missing.
    pub async fn connection(&self, id: ConnectionId) -> Result<Connection, StoreError> {
        sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .context(format!("reading connection {id}"))?
        .map(|r| connection_from_row(&r))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("connection {id}")))
    }

    /// A tenant's connection by friendly name.
    pub async fn connection_by_name(
        &self,
        tenant: TenantId,
        name: &str,
    ) -> Result<Option<Connection>, StoreError> {
        sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE tenant_id = $1 AND name = $2"
        ))
        .bind(tenant.to_string())
        .bind(name.trim())
        .fetch_optional(&self.pool)
        .await
        .context(format!("reading connection {name:?} of tenant {tenant}"))?
        .map(|r| connection_from_row(&r))
        .transpose()
    }

    /// A tenant's connections, by name.
    pub async fn connections(&self, tenant: TenantId) -> Result<Vec<Connection>, StoreError> {
        sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE tenant_id = $1 ORDER BY name"
        ))
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await
        .context(format!("listing connections of tenant {tenant}"))?
        .iter()
        .map(connection_from_row)
        .collect()
    }

    /// Every connection of a provider that is Enabled and Live, across tenants (R-B-6).
    pub async fn live_connections(&self, provider: &str) -> Result<Vec<Connection>, StoreError> {
        sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections
             WHERE provider = $1 AND enabled = TRUE AND live = TRUE ORDER BY tenant_id, name"
        ))
        .bind(provider)
        .fetch_all(&self.pool)
        .await
        .context(format!("listing live {provider} connections"))?
        .iter()
        .map(connection_from_row)
        .collect()
    }

    /// The decrypted secrets; [`StoreError::WrongKey`] when the key does not match.
    pub async fn connection_secrets(&self, id: ConnectionId) -> Result<Secrets, StoreError> {
        let sealed: Option<Option<String>> =
            sqlx::query_scalar("SELECT secrets FROM connections WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .context(format!("reading secrets of connection {id}"))?;
        match sealed {
            None => Err(StoreError::NotFound(format!("connection {id}"))),
            Some(None) => Ok(Secrets::new()),
            Some(Some(text)) => self.key.open(id, &text),
        }
    }

    /// Replaces the settings.
    pub async fn update_connection_settings(
        &self,
        id: ConnectionId,
        settings: BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let result =
            sqlx::query("UPDATE connections SET settings = $1, updated_at = $2 WHERE id = $3")
                .bind(settings_json(&settings)?)
                .bind(now_ms())
                .bind(id.to_string())
                .execute(&self.pool)
                .await
                .context(format!("updating settings of connection {id}"))?;
        found(result.rows_affected(), id)
    }

    /// Replaces the secrets (encrypted with a fresh nonce).
    pub async fn set_connection_secrets(
        &self,
        id: ConnectionId,
        secrets: &Secrets,
    ) -> Result<(), StoreError> {
        let sealed = self.key.seal(id, secrets)?;
        let result =
            sqlx::query("UPDATE connections SET secrets = $1, updated_at = $2 WHERE id = $3")
                .bind(sealed)
                .bind(now_ms())
                .bind(id.to_string())
                .execute(&self.pool)
                .await
                .context(format!("updating secrets of connection {id}"))?;
        found(result.rows_affected(), id)
    }

    /// Sets the Enabled and Live switches (R-CONN-5).
    pub async fn set_connection_flags(
        &self,
        id: ConnectionId,
        enabled: bool,
        live: bool,
    ) -> Result<(), StoreError> {
        let result = sqlx::query(
            "UPDATE connections SET enabled = $1, live = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(enabled)
        .bind(live)
        .bind(now_ms())
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .context(format!("updating flags of connection {id}"))?;
        found(result.rows_affected(), id)
    }

    /// Deletes a connection with its cursors, bindings, runs, locks, key-value entries and
    /// activity. Canonical records stay: other connections may be bound to them.
    pub async fn delete_connection(&self, id: ConnectionId) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM connections WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .context(format!("deleting connection {id}"))?;
        found(result.rows_affected(), id)
    }
}

fn found(rows: u64, id: ConnectionId) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound(format!("connection {id}")))
    } else {
        Ok(())
    }
}

fn settings_json(settings: &BTreeMap<String, String>) -> Result<String, StoreError> {
    serde_json::to_string(settings)
        .map_err(|e| StoreError::InvalidInput(format!("settings not serialisable: {e}")))
}

fn connection_from_row(r: &SqliteRow) -> Result<Connection, StoreError> {
    let id = ConnectionId::from_column(&col::<String>(r, "id")?)?;
    let settings_text: String = col(r, "settings")?;
    let settings = serde_json::from_str(&settings_text)
        .map_err(|e| StoreError::Corrupt(format!("settings of connection {id}: {e}")))?;
    Ok(Connection {
        id,
        tenant: TenantId::from_column(&col::<String>(r, "tenant_id")?)?,
        provider: col(r, "provider")?,
        name: col(r, "name")?,
        settings,
        enabled: col(r, "enabled")?,
        live: col(r, "live")?,
        created_at: from_ms(col(r, "created_at")?)?,
        updated_at: from_ms(col(r, "updated_at")?)?,
    })
}
