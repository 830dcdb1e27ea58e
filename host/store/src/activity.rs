//! The activity log (R-P-2): what came from a source and what went to a target, per run,
//! deleted on a retention schedule. The host redacts secrets before it writes here.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;

use crate::error::{is_foreign_key_violation, DbContext, StoreError};
use crate::ids::{ConnectionId, RunId, TenantId};
use crate::store::{col, Store};
use crate::time::{from_ms, now_ms, to_ms};

/// Severity, as in the WIT `log.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Finest detail.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal progress.
    Info,
    /// Something odd, not fatal.
    Warn,
    /// A failure.
    Error,
}

impl Level {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "trace" => Ok(Level::Trace),
            "debug" => Ok(Level::Debug),
            "info" => Ok(Level::Info),
            "warn" => Ok(Level::Warn),
            "error" => Ok(Level::Error),
            other => Err(StoreError::Corrupt(format!("unknown log level {other:?}"))),
        }
    }
}

/// An entry to write.
#[derive(Debug, Clone)]
pub struct NewActivity {
    /// The tenant it belongs to (retention is per tenant).
    pub tenant: TenantId,
    /// The connection, unless it is tenant-wide (e.g. a global synchronisation).
    pub connection: Option<ConnectionId>,
    /// The run, if it happened in one.
    pub run: Option<RunId>,
    /// Severity.
    pub level: Level,
    /// What sort of entry, e.g. `http`, `log`, `record`, `run`, `push`.
    pub kind: String,
    /// One line for a person.
    pub message: String,
    /// Structured detail, e.g. the request and response of an HTTP exchange.
    pub detail: Option<Value>,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Its sequence number: later entries have larger ones.
    pub id: i64,
    /// The tenant.
    pub tenant: TenantId,
    /// The connection, if any.
    pub connection: Option<ConnectionId>,
    /// The run, if any.
    pub run: Option<RunId>,
    /// When it was written.
    pub at: DateTime<Utc>,
    /// Severity.
    pub level: Level,
    /// What sort of entry.
    pub kind: String,
    /// One line for a person.
    pub message: String,
    /// Structured detail.
    pub detail: Option<Value>,
}

const ACTIVITY_COLUMNS: &str =
    "id, tenant_id, connection_id, run_id, at, level, kind, message, detail";

impl Store {
    /// Writes an entry, stamped now.
    pub async fn log_activity(&self, entry: NewActivity) -> Result<(), StoreError> {
        self.log_activities(vec![entry]).await
    }

    /// Writes entries in one statement, stamped now, in their order. A run writes its
    /// activity this way in bounded batches as it goes, so a killed run keeps its log. One
    /// statement, not an explicit transaction: when the disk fails mid-write, nothing is
    /// left open on the pooled connection for the next caller to trip over.
    pub async fn log_activities(&self, entries: Vec<NewActivity>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let at = now_ms();
        let mut rows = Vec::with_capacity(entries.len());
        for entry in &entries {
            let detail = entry
                .detail
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| StoreError::InvalidInput(format!("activity detail: {e}")))?;
            rows.push((entry, detail));
        }
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO activity_log
             (tenant_id, connection_id, run_id, at, level, kind, message, detail) ",
        );
        insert.push_values(rows, |mut row, (entry, detail)| {
            row.push_bind(entry.tenant.to_string())
                .push_bind(entry.connection.map(|c| c.to_string()))
                .push_bind(entry.run.map(|r| r.to_string()))
                .push_bind(at)
                .push_bind(entry.level.as_str())
                .push_bind(entry.kind.clone())
                .push_bind(entry.message.clone())
                .push_bind(detail);
        });
        insert.build().execute(&self.pool).await.map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!(
                    "tenant {}, its connection or run of an activity entry",
                    entries[0].tenant
                ))
            } else {
                StoreError::db("writing activity entries", e)
            }
        })?;
        Ok(())
    }

    /// A connection's latest entries, newest first; only the run's when `run` is given.
    pub async fn activity(
        &self,
        conn: ConnectionId,
        run: Option<RunId>,
        limit: u32,
    ) -> Result<Vec<Activity>, StoreError> {
        let rows = match run {
            Some(run) => {
                sqlx::query(&format!(
                    "SELECT {ACTIVITY_COLUMNS} FROM activity_log
                     WHERE connection_id = $1 AND run_id = $2 ORDER BY id DESC LIMIT $3"
                ))
                .bind(conn.to_string())
                .bind(run.to_string())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {ACTIVITY_COLUMNS} FROM activity_log
                     WHERE connection_id = $1 ORDER BY id DESC LIMIT $2"
                ))
                .bind(conn.to_string())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
            }
        }
        .context(format!("reading activity of {conn}"))?;
        rows.iter().map(activity_from_row).collect()
    }

    /// A run's entries across connections (a push run logs on its source and its target),
    /// oldest first.
    pub async fn run_activity(&self, run: RunId, limit: u32) -> Result<Vec<Activity>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ACTIVITY_COLUMNS} FROM activity_log WHERE run_id = $1 ORDER BY id LIMIT $2"
        ))
        .bind(run.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .context(format!("reading activity of run {run}"))?
        .iter()
        .map(activity_from_row)
        .collect()
    }

    /// A tenant's latest entries across its connections, newest first.
    pub async fn tenant_activity(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<Activity>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ACTIVITY_COLUMNS} FROM activity_log
             WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(tenant.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .context(format!("reading activity of tenant {tenant}"))?
        .iter()
        .map(activity_from_row)
        .collect()
    }

    /// Deletes a tenant's entries written before `before` (retention); returns how many.
    pub async fn purge_activity_before(
        &self,
        tenant: TenantId,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM activity_log WHERE tenant_id = $1 AND at < $2")
            .bind(tenant.to_string())
            .bind(to_ms(before))
            .execute(&self.pool)
            .await
            .context(format!("purging activity of tenant {tenant}"))?;
        Ok(result.rows_affected())
    }
}

fn activity_from_row(r: &SqliteRow) -> Result<Activity, StoreError> {
    let id: i64 = col(r, "id")?;
    let detail = col::<Option<String>>(r, "detail")?
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("detail of activity entry {id}: {e}")))?;
    Ok(Activity {
        id,
        tenant: TenantId::from_column(&col::<String>(r, "tenant_id")?)?,
        connection: col::<Option<String>>(r, "connection_id")?
            .map(|s| ConnectionId::from_column(&s))
            .transpose()?,
        run: col::<Option<String>>(r, "run_id")?
            .map(|s| RunId::from_column(&s))
            .transpose()?,
        at: from_ms(col(r, "at")?)?,
        level: col::<String>(r, "level")?.parse()?,
        kind: col(r, "kind")?,
        message: col(r, "message")?,
        detail,
    })
}
