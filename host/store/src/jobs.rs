//! The durable job queue: work queued by triggers (CLI, schedule, webhook, global sync) and
//! run in the background, with retries, backoff and dead letters.
//!
//! Jobs sharing a serial key (one connection's syncs) never run at once; a trigger of work
//! that is already queued joins it instead of queueing it twice. A claimed job holds a lease;
//! a host that dies leaves the lease to expire and the job is queued again.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;

use crate::error::{is_unique_violation, DbContext, StoreError};
use crate::ids::{FlowId, JobId, TenantId};
use crate::store::{col, Store};
use crate::time::{duration_ms, from_ms, now_ms, to_ms};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting to run (at or after `run_after`).
    Queued,
    /// Claimed by a host.
    Running,
    /// Done.
    Succeeded,
    /// Failed for good (a permanent error).
    Failed,
    /// Failed on every attempt: a dead letter, with the reason in `last_error`.
    Dead,
}

impl JobState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Dead => "dead",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "dead" => JobState::Dead,
            other => return Err(StoreError::Corrupt(format!("unknown job state {other:?}"))),
        })
    }
}

/// What to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The owning tenant.
    pub tenant: TenantId,
    /// What to do, e.g. `flow-sync`.
    pub kind: String,
    /// Jobs with one serial key never run at once.
    pub serial_key: String,
    /// The flow it concerns, if any.
    pub flow: Option<FlowId>,
    /// Arguments (JSON object).
    pub args: Value,
    /// Attempts before it becomes a dead letter.
    pub max_attempts: u32,
    /// Not before this.
    pub run_after: Option<DateTime<Utc>>,
    /// The global synchronisation that queued it.
    pub parent: Option<JobId>,
    /// Who asked: `cli`, `schedule`, `webhook`, `global-sync`.
    pub trigger: String,
}

/// A queued, running or finished job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// The owning tenant.
    pub tenant: TenantId,
    /// What to do.
    pub kind: String,
    /// Jobs with one serial key never run at once.
    pub serial_key: String,
    /// The flow it concerns.
    pub flow: Option<FlowId>,
    /// Arguments.
    pub args: Value,
    /// Where it stands.
    pub state: JobState,
    /// Attempts so far.
    pub attempts: u32,
    /// Attempts before it becomes a dead letter.
    pub max_attempts: u32,
    /// Not run before this.
    pub run_after: DateTime<Utc>,
    /// The last attempt's error (the dead letter's reason).
    pub last_error: Option<String>,
    /// The global synchronisation that queued it.
    pub parent: Option<JobId>,
    /// Who asked.
    pub trigger: String,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When its last attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
}

/// The answer to a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    /// The job that will do the work.
    pub id: JobId,
    /// True when the same work was already queued and the trigger joined it.
    pub joined: bool,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub enum JobOutcome {
    /// Done.
    Succeeded,
    /// Failed; retried after `retry_in` unless attempts are used up (then dead).
    Retry {
        /// The error.
        error: String,
        /// The backoff.
        retry_in: Duration,
    },
    /// Failed for good.
    Failed(String),
}

const JOB_COLUMNS: &str = "id, tenant_id, kind, serial_key, flow_id, args, state, attempts, \
     max_attempts, run_after, last_error, parent_id, trigger, created_at, started_at, finished_at";

impl Store {
    /// Queues a job, or joins the same work (kind, serial key and arguments) already queued.
    pub async fn enqueue_job(&self, j: NewJob) -> Result<Enqueued, StoreError> {
        let id = JobId::new();
        let now = now_ms();
        let args = j.args.to_string();
        let inserted = sqlx::query(
            "INSERT INTO jobs (id, tenant_id, kind, serial_key, flow_id, args, state, attempts,
                               max_attempts, run_after, parent_id, trigger, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $8, $9, $10, $11)",
        )
        .bind(id.to_string())
        .bind(j.tenant.to_string())
        .bind(&j.kind)
        .bind(&j.serial_key)
        .bind(j.flow.map(|f| f.to_string()))
        .bind(&args)
        .bind(i64::from(j.max_attempts.max(1)))
        .bind(j.run_after.map(to_ms).unwrap_or(now))
        .bind(j.parent.map(|p| p.to_string()))
        .bind(&j.trigger)
        .bind(now)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(Enqueued { id, joined: false }),
            Err(e) if is_unique_violation(&e) => {
                let existing: String = sqlx::query_scalar(
                    "SELECT id FROM jobs WHERE kind = $1 AND serial_key = $2 AND args = $3
                     AND state = 'queued'",
                )
                .bind(&j.kind)
                .bind(&j.serial_key)
                .bind(&args)
                .fetch_one(&self.pool)
                .await
                .context(format!(
                    "reading the queued {} job of {}",
                    j.kind, j.serial_key
                ))?;
                Ok(Enqueued {
                    id: JobId::from_column(&existing)?,
                    joined: true,
                })
            }
            Err(e) => Err(StoreError::db(format!("queueing a {} job", j.kind), e)),
        }
    }

    /// Claims the next job that is due and whose serial key has no running job, for `lease`.
    /// Jobs whose holder's lease ran out (a host that died) are queued again first.
    pub async fn claim_job(
        &self,
        holder: &str,
        lease: Duration,
    ) -> Result<Option<Job>, StoreError> {
        let mut tx = self.begin_write("claiming a job").await?;
        let now = now_ms();
        // An expired job goes back to the queue, unless the same work is queued already.
        sqlx::query(
            "UPDATE jobs SET state = 'queued', holder = NULL, lease_until = NULL,
                last_error = 'the host running it stopped; queued again'
             WHERE state = 'running' AND lease_until < $1
               AND NOT EXISTS (SELECT 1 FROM jobs q WHERE q.state = 'queued'
                   AND q.kind = jobs.kind AND q.serial_key = jobs.serial_key AND q.args = jobs.args)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("re-queueing jobs of stopped hosts")?;
        sqlx::query(
            "UPDATE jobs SET state = 'failed', holder = NULL, lease_until = NULL, finished_at = $1,
                last_error = 'the host running it stopped; the same work was queued again'
             WHERE state = 'running' AND lease_until < $1",
        )
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("closing jobs of stopped hosts")?;
        let next: Option<String> = sqlx::query_scalar(
            "SELECT id FROM jobs j WHERE state = 'queued' AND run_after <= $1
               AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.serial_key = j.serial_key
                               AND r.state = 'running')
             ORDER BY run_after, created_at LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .context("choosing the next job")?;
        let Some(id) = next else {
            tx.commit().await.context("committing the job queue")?;
            return Ok(None);
        };
        sqlx::query(
            "UPDATE jobs SET state = 'running', holder = $2, lease_until = $3,
                attempts = attempts + 1, started_at = $4
             WHERE id = $1",
        )
        .bind(&id)
        .bind(holder)
        .bind(now + duration_ms(lease))
        .bind(now)
        .execute(&mut *tx)
        .await
        .context(format!("claiming job {id}"))?;
        let job = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await
            .context(format!("reading job {id}"))?;
        let job = job_from_row(&job)?;
        tx.commit()
            .await
            .context(format!("committing the claim of job {id}"))?;
        Ok(Some(job))
    }

    /// Extends the lease of a running job; false when it is no longer this holder's.
    pub async fn renew_job(
        &self,
        id: JobId,
        holder: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND holder = $2 AND state = 'running'",
        )
        .bind(id.to_string())
        .bind(holder)
        .bind(now_ms() + duration_ms(lease))
        .execute(&self.pool)
        .await
        .context(format!("renewing job {id}"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Finishes an attempt: done, queued again after a backoff, failed, or (attempts used
    /// up) a dead letter with the reason.
    pub async fn finish_job(&self, id: JobId, outcome: JobOutcome) -> Result<JobState, StoreError> {
        let job = self.job(id).await?;
        let now = now_ms();
        let (state, error, run_after) = match outcome {
            JobOutcome::Succeeded => (JobState::Succeeded, None, None),
            JobOutcome::Failed(e) => (JobState::Failed, Some(e), None),
            JobOutcome::Retry { error, .. } if job.attempts >= job.max_attempts => (
                JobState::Dead,
                Some(format!("gave up after {} attempts: {error}", job.attempts)),
                None,
            ),
            JobOutcome::Retry { error, retry_in } => (
                JobState::Queued,
                Some(error),
                Some(now + duration_ms(retry_in)),
            ),
        };
        let finished = state != JobState::Queued;
        let result = sqlx::query(
            "UPDATE jobs SET state = $2, last_error = $3, run_after = COALESCE($4, run_after),
                holder = NULL, lease_until = NULL, finished_at = $5
             WHERE id = $1 AND state = 'running'",
        )
        .bind(id.to_string())
        .bind(state.as_str())
        .bind(error.as_deref())
        .bind(run_after)
        .bind(finished.then_some(now))
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(state),
            // The same work was queued meanwhile: that job will do it.
            Err(e) if is_unique_violation(&e) => {
                sqlx::query(
                    "UPDATE jobs SET state = 'failed', last_error = $2, holder = NULL,
                        lease_until = NULL, finished_at = $3 WHERE id = $1",
                )
                .bind(id.to_string())
                .bind(format!(
                    "{}; the same work is queued again",
                    error.as_deref().unwrap_or("failed")
                ))
                .bind(now)
                .execute(&self.pool)
                .await
                .context(format!("finishing job {id}"))?;
                Ok(JobState::Failed)
            }
            Err(e) => Err(StoreError::db(format!("finishing job {id}"), e)),
        }
    }

    /// A job; [`StoreError::NotFound`] if missing.
    pub async fn job(&self, id: JobId) -> Result<Job, StoreError> {
        sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .context(format!("reading job {id}"))?
            .map(|r| job_from_row(&r))
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("job {id}")))
    }

    /// A tenant's jobs, newest first.
    pub async fn jobs(&self, tenant: TenantId, limit: u32) -> Result<Vec<Job>, StoreError> {
        sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT $2"
        ))
        .bind(tenant.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .context(format!("listing jobs of tenant {tenant}"))?
        .iter()
        .map(job_from_row)
        .collect()
    }

    /// The jobs a global synchronisation queued.
    pub async fn child_jobs(&self, parent: JobId) -> Result<Vec<Job>, StoreError> {
        sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE parent_id = $1 ORDER BY created_at"
        ))
        .bind(parent.to_string())
        .fetch_all(&self.pool)
        .await
        .context(format!("listing jobs of {parent}"))?
        .iter()
        .map(job_from_row)
        .collect()
    }

    /// How many jobs are queued or running.
    pub async fn pending_jobs(&self) -> Result<u64, StoreError> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
                .fetch_one(&self.pool)
                .await
                .context("counting pending jobs")?;
        Ok(n.max(0) as u64)
    }
}

fn job_from_row(r: &SqliteRow) -> Result<Job, StoreError> {
    let opt_time = |name: &str| -> Result<Option<DateTime<Utc>>, StoreError> {
        col::<Option<i64>>(r, name)?.map(from_ms).transpose()
    };
    let args: String = col(r, "args")?;
    Ok(Job {
        id: JobId::from_column(&col::<String>(r, "id")?)?,
        tenant: TenantId::from_column(&col::<String>(r, "tenant_id")?)?,
        kind: col(r, "kind")?,
        serial_key: col(r, "serial_key")?,
        flow: col::<Option<String>>(r, "flow_id")?
            .map(|s| FlowId::from_column(&s))
            .transpose()?,
        args: serde_json::from_str(&args)
            .map_err(|e| StoreError::Corrupt(format!("job arguments are not JSON: {e}")))?,
        state: col::<String>(r, "state")?.parse()?,
        attempts: col::<i64>(r, "attempts")?.clamp(0, i64::from(u32::MAX)) as u32,
        max_attempts: col::<i64>(r, "max_attempts")?.clamp(1, i64::from(u32::MAX)) as u32,
        run_after: from_ms(col(r, "run_after")?)?,
        last_error: col(r, "last_error")?,
        parent: col::<Option<String>>(r, "parent_id")?
            .map(|s| JobId::from_column(&s))
            .transpose()?,
        trigger: col(r, "trigger")?,
        created_at: from_ms(col(r, "created_at")?)?,
        started_at: opt_time("started_at")?,
        finished_at: opt_time("finished_at")?,
    })
}
