//! Runs of a flow over a connection's stream, and the run lock that keeps them single.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqliteRow;

use crate::error::{is_foreign_key_violation, DbContext, StoreError};
use crate::ids::{ConnectionId, RunId};
use crate::store::{col, Store};
use crate::time::{duration_ms, from_ms, now_ms};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Started, not finished.
    Running,
    /// Finished without error.
    Succeeded,
    /// Finished with an error.
    Failed,
}

impl RunStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(RunStatus::Running),
            "succeeded" => Ok(RunStatus::Succeeded),
            "failed" => Ok(RunStatus::Failed),
            other => Err(StoreError::Corrupt(format!("unknown run status {other:?}"))),
        }
    }
}

/// Record counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    /// Records fetched from the source.
    pub fetched: u64,
    /// Records created.
    pub created: u64,
    /// Records whose content changed.
    pub updated: u64,
    /// Records seen again unchanged.
    pub unchanged: u64,
    /// Records that failed.
    pub failed: u64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// [`RunStatus::Succeeded`] or [`RunStatus::Failed`].
    pub status: RunStatus,
    /// Its counts.
    pub counts: RunCounts,
    /// What went wrong, for a failed run.
    pub error: Option<String>,
}

impl RunOutcome {
    /// A successful end.
    pub fn succeeded(counts: RunCounts) -> Self {
        RunOutcome {
            status: RunStatus::Succeeded,
            counts,
            error: None,
        }
    }

    /// A failed end with its reason.
    pub fn failed(counts: RunCounts, error: impl Into<String>) -> Self {
        RunOutcome {
            status: RunStatus::Failed,
            counts,
            error: Some(error.into()),
        }
    }
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// Its id.
    pub id: RunId,
    /// The connection.
    pub connection: ConnectionId,
    /// The stream, e.g. `orders`.
    pub stream: String,
    /// The flow it belongs to, if any.
    pub flow: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Where it stands.
    pub status: RunStatus,
    /// Its counts (zero until finished).
    pub counts: RunCounts,
    /// The error of a failed run.
    pub error: Option<String>,
}

/// A held run lock (see [`Store::try_acquire_run_lock`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLock {
    /// The connection.
    pub connection: ConnectionId,
    /// The stream.
    pub stream: String,
    /// Who holds it, e.g. `worker-3/run-…`.
    pub holder: String,
    /// Until when; after this another holder may take it.
    pub expires_at: DateTime<Utc>,
}

const RUN_COLUMNS: &str = "id, connection_id, stream, flow, started_at, finished_at, status, \
     fetched, created, updated, unchanged, failed, error";

impl Store {
    /// Records a run as started.
    pub async fn start_run(
        &self,
        conn: ConnectionId,
        stream: &str,
        flow: Option<&str>,
    ) -> Result<RunId, StoreError> {
        let id = RunId::new();
        sqlx::query(
            "INSERT INTO runs (id, connection_id, stream, flow, started_at, status)
             VALUES ($1, $2, $3, $4, $5, 'running')",
        )
        .bind(id.to_string())
        .bind(conn.to_string())
        .bind(stream)
        .bind(flow)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("connection {conn}"))
            } else {
                StoreError::db(format!("starting run of {conn}/{stream}"), e)
            }
        })?;
        Ok(id)
    }

    /// Records how a running run ended. Finishing twice is a [`StoreError::Conflict`].
    pub async fn finish_run(&self, run: RunId, outcome: RunOutcome) -> Result<(), StoreError> {
        if outcome.status == RunStatus::Running {
            return Err(StoreError::InvalidInput(format!(
                "run {run} cannot finish with status running"
            )));
        }
        let c = outcome.counts;
        let result = sqlx::query(
            "UPDATE runs SET finished_at = $1, status = $2, fetched = $3, created = $4,
                 updated = $5, unchanged = $6, failed = $7, error = $8
             WHERE id = $9 AND status = 'running'",
        )
        .bind(now_ms())
        .bind(outcome.status.as_str())
        .bind(count_column(c.fetched))
        .bind(count_column(c.created))
        .bind(count_column(c.updated))
        .bind(count_column(c.unchanged))
        .bind(count_column(c.failed))
        .bind(outcome.error)
        .bind(run.to_string())
        .execute(&self.pool)
        .await
        .context(format!("finishing run {run}"))?;
        if result.rows_affected() == 0 {
            return match self.run(run).await? {
                None => Err(StoreError::NotFound(format!("run {run}"))),
                Some(r) => Err(StoreError::Conflict(format!(
                    "run {run} already finished ({})",
                    r.status
                ))),
            };
        }
        Ok(())
    }

    /// Marks every run of `conn`/`stream` still `running` as failed with `reason`: called by
    /// the holder of the run lock, so no live process owns them (their host died mid-run).
    /// Returns how many were closed.
    pub async fn abandon_running_runs(
        &self,
        conn: ConnectionId,
        stream: &str,
        reason: &str,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE runs SET finished_at = $1, status = 'failed', error = $2
             WHERE connection_id = $3 AND stream = $4 AND status = 'running'",
        )
        .bind(now_ms())
        .bind(reason)
        .bind(conn.to_string())
        .bind(stream)
        .execute(&self.pool)
        .await
        .context(format!("closing abandoned runs of {conn}/{stream}"))?;
        Ok(result.rows_affected())
    }

    /// A run by id.
    pub async fn run(&self, id: RunId) -> Result<Option<Run>, StoreError> {
        sqlx::query(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .context(format!("reading run {id}"))?
            .map(|r| run_from_row(&r))
            .transpose()
    }

    /// A connection's latest runs, newest first.
    pub async fn runs(&self, conn: ConnectionId, limit: u32) -> Result<Vec<Run>, StoreError> {
        sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE connection_id = $1
             ORDER BY started_at DESC, id DESC LIMIT $2"
        ))
        .bind(conn.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .context(format!("listing runs of {conn}"))?
        .iter()
        .map(run_from_row)
        .collect()
    }

    /// Takes the lock for "one run per connection and stream at a time" (R-C-4), or `None`
    /// when another holder has it and it has not expired. It lives in the database, so it
    /// works across processes, and its expiry frees it when the holder dies: a long run
    /// must [`Store::renew_run_lock`] before `ttl` passes. The same holder taking it again
    /// extends it.
    pub async fn try_acquire_run_lock(
        &self,
        conn: ConnectionId,
        stream: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<RunLock>, StoreError> {
        let now = now_ms();
        let expires_at = now.saturating_add(duration_ms(ttl));
        let result = sqlx::query(
            "INSERT INTO run_locks (connection_id, stream, holder, acquired_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (connection_id, stream) DO UPDATE SET
                 holder = excluded.holder,
                 acquired_at = excluded.acquired_at,
                 expires_at = excluded.expires_at
             WHERE run_locks.expires_at <= excluded.acquired_at
                OR run_locks.holder = excluded.holder",
        )
        .bind(conn.to_string())
        .bind(stream)
        .bind(holder)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("connection {conn}"))
            } else {
                StoreError::db(format!("taking run lock of {conn}/{stream}"), e)
            }
        })?;
        if result.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(Some(RunLock {
            connection: conn,
            stream: stream.to_owned(),
            holder: holder.to_owned(),
            expires_at: from_ms(expires_at)?,
        }))
    }

    /// Extends a held lock to `ttl` from now; `None` if it was lost (expired and taken).
    pub async fn renew_run_lock(
        &self,
        lock: &RunLock,
        ttl: Duration,
    ) -> Result<Option<RunLock>, StoreError> {
        let expires_at = now_ms().saturating_add(duration_ms(ttl));
        let result = sqlx::query(
            "UPDATE run_locks SET expires_at = $1
             WHERE connection_id = $2 AND stream = $3 AND holder = $4",
        )
        .bind(expires_at)
        .bind(lock.connection.to_string())
        .bind(&lock.stream)
        .bind(&lock.holder)
        .execute(&self.pool)
        .await
        .context(format!(
            "renewing run lock of {}/{}",
            lock.connection, lock.stream
        ))?;
        if result.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(Some(RunLock {
            expires_at: from_ms(expires_at)?,
            ..lock.clone()
        }))
    }

    /// The lock of `conn`/`stream` as stored, held or expired; `None` if nobody took it.
    pub async fn run_lock(
        &self,
        conn: ConnectionId,
        stream: &str,
    ) -> Result<Option<RunLock>, StoreError> {
        let row = sqlx::query(
            "SELECT holder, expires_at FROM run_locks WHERE connection_id = $1 AND stream = $2",
        )
        .bind(conn.to_string())
        .bind(stream)
        .fetch_optional(&self.pool)
        .await
        .context(format!("reading run lock of {conn}/{stream}"))?;
        row.map(|r| {
            Ok(RunLock {
                connection: conn,
                stream: stream.to_owned(),
                holder: col(&r, "holder")?,
                expires_at: from_ms(col(&r, "expires_at")?)?,
            })
        })
        .transpose()
    }

    /// Takes over a lock from a holder known to be dead (its process is gone) before the
    /// lock expires; `None` if `dead` no longer holds it.
    pub async fn take_over_run_lock(
        &self,
        dead: &RunLock,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<RunLock>, StoreError> {
        let now = now_ms();
        let expires_at = now.saturating_add(duration_ms(ttl));
        let result = sqlx::query(
            "UPDATE run_locks SET holder = $1, acquired_at = $2, expires_at = $3
             WHERE connection_id = $4 AND stream = $5 AND holder = $6",
        )
        .bind(holder)
        .bind(now)
        .bind(expires_at)
        .bind(dead.connection.to_string())
        .bind(&dead.stream)
        .bind(&dead.holder)
        .execute(&self.pool)
        .await
        .context(format!(
            "taking over run lock of {}/{}",
            dead.connection, dead.stream
        ))?;
        if result.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(Some(RunLock {
            connection: dead.connection,
            stream: dead.stream.clone(),
            holder: holder.to_owned(),
            expires_at: from_ms(expires_at)?,
        }))
    }

    /// Releases a lock; false if it was no longer held by this holder.
    pub async fn release_run_lock(&self, lock: &RunLock) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "DELETE FROM run_locks WHERE connection_id = $1 AND stream = $2 AND holder = $3",
        )
        .bind(lock.connection.to_string())
        .bind(&lock.stream)
        .bind(&lock.holder)
        .execute(&self.pool)
        .await
        .context(format!(
            "releasing run lock of {}/{}",
            lock.connection, lock.stream
        ))?;
        Ok(result.rows_affected() > 0)
    }
}

fn count_column(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count_from(r: &SqliteRow, name: &str) -> Result<u64, StoreError> {
    let n: i64 = col(r, name)?;
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative run count {name}")))
}

fn run_from_row(r: &SqliteRow) -> Result<Run, StoreError> {
    Ok(Run {
        id: RunId::from_column(&col::<String>(r, "id")?)?,
        connection: ConnectionId::from_column(&col::<String>(r, "connection_id")?)?,
        stream: col(r, "stream")?,
        flow: col(r, "flow")?,
        started_at: from_ms(col(r, "started_at")?)?,
        finished_at: col::<Option<i64>>(r, "finished_at")?
            .map(from_ms)
            .transpose()?,
        status: col::<String>(r, "status")?.parse()?,
        counts: RunCounts {
            fetched: count_from(r, "fetched")?,
            created: count_from(r, "created")?,
            updated: count_from(r, "updated")?,
            unchanged: count_from(r, "unchanged")?,
            failed: count_from(r, "failed")?,
        },
        error: col(r, "error")?,
    })
}
