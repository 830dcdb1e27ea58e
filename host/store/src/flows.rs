//! Flows: a source connection's stream feeding a target connection's stream (R-CONN-4).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;

use crate::error::{is_foreign_key_violation, is_unique_violation, DbContext, StoreError};
use crate::ids::{ConnectionId, FlowId, TenantId};
use crate::store::{checked_name, col, Store};
use crate::time::{from_ms, now_ms};

/// What to create.
#[derive(Debug, Clone)]
pub struct NewFlow {
    /// The owning tenant (both connections must belong to it).
    pub tenant: TenantId,
    /// Unique per tenant, e.g. `shop-to-presswise`.
    pub name: String,
    /// Where records come from.
    pub source: ConnectionId,
    /// The source stream, e.g. `orders`.
    pub source_stream: String,
    /// Where records go.
    pub target: ConnectionId,
    /// The target stream, e.g. `orders`.
    pub target_stream: String,
    /// Flow settings (a JSON object; the engine reads and validates them).
    pub settings: Value,
    /// R-CONN-5 "Enabled".
    pub enabled: bool,
    /// R-CONN-5 "Live".
    pub live: bool,
    /// A cron schedule, if the flow runs on one.
    pub schedule: Option<String>,
}

/// A stored flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// Its id.
    pub id: FlowId,
    /// The owning tenant.
    pub tenant: TenantId,
    /// Its unique name in the tenant.
    pub name: String,
    /// The source connection.
    pub source: ConnectionId,
    /// The source stream.
    pub source_stream: String,
    /// The target connection.
    pub target: ConnectionId,
    /// The target stream.
    pub target_stream: String,
    /// Flow settings (JSON object).
    pub settings: Value,
    /// R-CONN-5 "Enabled": configuration is allowed.
    pub enabled: bool,
    /// R-CONN-5 "Live": data flows.
    pub live: bool,
    /// The cron schedule, if any.
    pub schedule: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

const FLOW_COLUMNS: &str = "id, tenant_id, name, source_connection_id, source_stream, \
     target_connection_id, target_stream, settings, enabled, live, schedule, created_at, updated_at";

impl Store {
    /// Creates a flow. Both connections must belong to the tenant; a taken name is a
    /// [`StoreError::Conflict`].
    pub async fn create_flow(&self, f: NewFlow) -> Result<FlowId, StoreError> {
        let name = checked_name(&f.name, "flow name")?;
        checked_name(&f.source_stream, "source stream")?;
        checked_name(&f.target_stream, "target stream")?;
        if !f.settings.is_object() {
            return Err(StoreError::InvalidInput(
                "flow settings must be a JSON object".into(),
            ));
        }
        for (conn, role) in [(f.source, "source"), (f.target, "target")] {
            let owner = self.connection(conn).await?.tenant;
            if owner != f.tenant {
                return Err(StoreError::InvalidInput(format!(
                    "the {role} connection {conn} belongs to another tenant"
                )));
            }
        }
        let id = FlowId::new();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO flows (id, tenant_id, name, source_connection_id, source_stream,
                target_connection_id, target_stream, settings, enabled, live, schedule,
                created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(id.to_string())
        .bind(f.tenant.to_string())
        .bind(name)
        .bind(f.source.to_string())
        .bind(f.source_stream.trim())
        .bind(f.target.to_string())
        .bind(f.target_stream.trim())
        .bind(f.settings.to_string())
        .bind(f.enabled)
        .bind(f.live)
        .bind(f.schedule.as_deref())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!(
                    "a flow named {name:?} already exists in tenant {}",
                    f.tenant
                ))
            } else if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!(
                    "tenant {} or a connection of flow {name:?}",
                    f.tenant
                ))
            } else {
                StoreError::db(format!("creating flow {name:?}"), e)
            }
        })?;
        Ok(id)
    }

    /// A flow; [`StoreError::NotFound`] if missing.
    pub async fn flow(&self, id: FlowId) -> Result<Flow, StoreError> {
        sqlx::query(&format!("SELECT {FLOW_COLUMNS} FROM flows WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .context(format!("reading flow {id}"))?
            .map(|r| flow_from_row(&r))
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("flow {id}")))
    }

    /// A tenant's flow by name.
    pub async fn flow_by_name(
        &self,
        tenant: TenantId,
        name: &str,
    ) -> Result<Option<Flow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {FLOW_COLUMNS} FROM flows WHERE tenant_id = $1 AND name = $2"
        ))
        .bind(tenant.to_string())
        .bind(name.trim())
        .fetch_optional(&self.pool)
        .await
        .context(format!("reading flow {name:?} of tenant {tenant}"))?
        .map(|r| flow_from_row(&r))
        .transpose()
    }

    /// A tenant's flows, by name.
    pub async fn flows(&self, tenant: TenantId) -> Result<Vec<Flow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {FLOW_COLUMNS} FROM flows WHERE tenant_id = $1 ORDER BY name"
        ))
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await
        .context(format!("listing flows of tenant {tenant}"))?
        .iter()
        .map(flow_from_row)
        .collect()
    }

    /// Every flow with a schedule, across tenants.
    pub async fn scheduled_flows(&self) -> Result<Vec<Flow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {FLOW_COLUMNS} FROM flows WHERE schedule IS NOT NULL ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await
        .context("listing scheduled flows")?
        .iter()
        .map(flow_from_row)
        .collect()
    }

    /// Sets a flow's Enabled and Live switches.
    pub async fn set_flow_flags(
        &self,
        id: FlowId,
        enabled: bool,
        live: bool,
    ) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE flows SET enabled = $2, live = $3, updated_at = $4 WHERE id = $1")
                .bind(id.to_string())
                .bind(enabled)
                .bind(live)
                .bind(now_ms())
                .execute(&self.pool)
                .await
                .context(format!("switching flow {id}"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("flow {id}")));
        }
        Ok(())
    }

    /// Replaces a flow's settings and schedule. New settings (a wider window, another
    /// mode) make its next push look at every source record again.
    pub async fn update_flow(
        &self,
        id: FlowId,
        settings: &Value,
        schedule: Option<&str>,
    ) -> Result<(), StoreError> {
        if !settings.is_object() {
            return Err(StoreError::InvalidInput(
                "flow settings must be a JSON object".into(),
            ));
        }
        let done = sqlx::query(
            "UPDATE flows SET settings = $2, schedule = $3, updated_at = $4,
                push_seq = CASE WHEN settings = $2 THEN push_seq ELSE 0 END
             WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(settings.to_string())
        .bind(schedule)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .context(format!("updating flow {id}"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("flow {id}")));
        }
        Ok(())
    }
}

fn flow_from_row(r: &SqliteRow) -> Result<Flow, StoreError> {
    let settings: String = col(r, "settings")?;
    Ok(Flow {
        id: FlowId::from_column(&col::<String>(r, "id")?)?,
        tenant: TenantId::from_column(&col::<String>(r, "tenant_id")?)?,
        name: col(r, "name")?,
        source: ConnectionId::from_column(&col::<String>(r, "source_connection_id")?)?,
        source_stream: col(r, "source_stream")?,
        target: ConnectionId::from_column(&col::<String>(r, "target_connection_id")?)?,
        target_stream: col(r, "target_stream")?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Corrupt(format!("flow settings are not JSON: {e}")))?,
        enabled: col(r, "enabled")?,
        live: col(r, "live")?,
        schedule: col(r, "schedule")?,
        created_at: from_ms(col(r, "created_at")?)?,
        updated_at: from_ms(col(r, "updated_at")?)?,
    })
}
