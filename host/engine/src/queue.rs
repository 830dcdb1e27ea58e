//! Background work: triggers queue jobs (CLI, schedule, webhook, global synchronisation),
//! workers run them one per connection at a time, with retries, backoff and dead letters.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use switchyard_store::{
    Enqueued, FlowId, Job, JobId, JobOutcome, JobState, Level, NewActivity, NewJob, TenantId,
};

use switchyard_runtime::bindings::EntityKind;

use crate::error::EngineError;
use crate::flow_settings::FlowMode;
use crate::import::{ImportOptions, ImportSummary};
use crate::push::PushSummary;
use crate::status_sync::StatusSummary;
use crate::Switchyard;

/// The job kinds.
pub const FLOW_SYNC: &str = "flow-sync";
/// A global synchronisation of one service across a tenant's sites (R-B-6).
pub const GLOBAL_SYNC: &str = "global-sync";

/// Attempts of a queued job before it is a dead letter.
const JOB_ATTEMPTS: u32 = 3;
/// How long a claimed job is a host's before another may take it over.
const LEASE: Duration = Duration::from_secs(120);

/// One whole synchronisation of a flow (R-B-4, R-B-5): import the source, push, poll status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlowSyncSummary {
    pub flow: String,
    pub import: Option<ImportSummary>,
    pub push: Option<PushSummary>,
    pub status: Option<StatusSummary>,
    /// For a product flow: the category flows synchronised before it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<FlowSyncSummary>,
    /// For an inbox flow: the target's reference streams imported first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reference: Vec<ImportSummary>,
    /// For an inbox flow: the requests made or matched again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbox: Option<crate::inbox::InboxSummary>,
    /// Steps that could not finish while the flow went on with the next (the provider of
    /// one side unavailable, say); their runs carry the error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub step_errors: Vec<String>,
}

impl FlowSyncSummary {
    /// Records (and pages) that failed in this synchronisation; each is on its record and
    /// tried again later.
    pub fn failed_records(&self) -> u64 {
        self.import.as_ref().map_or(0, |i| i.failed)
            + self.push.as_ref().map_or(0, |p| p.failed + p.dead)
            + self.status.as_ref().map_or(0, |s| s.failed)
            + self.reference.iter().map(|r| r.failed).sum::<u64>()
            + self
                .categories
                .iter()
                .map(FlowSyncSummary::failed_records)
                .sum::<u64>()
    }

    /// Whether everything ran and nothing failed.
    pub fn is_clean(&self) -> bool {
        self.step_errors.is_empty()
            && self.failed_records() == 0
            && self.categories.iter().all(FlowSyncSummary::is_clean)
    }
}

/// What a global synchronisation queued.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GlobalSyncSummary {
    pub service: String,
    /// Flows queued (Enabled and Live).
    pub queued: Vec<String>,
    /// Flows left out, with why.
    pub skipped: Vec<(String, String)>,
}

impl Switchyard {
    /// Queues a synchronisation of a flow; joins one already queued. Syncs of one source
    /// connection never run at once.
    pub async fn trigger_flow_sync(
        &self,
        flow: FlowId,
        trigger: &str,
        parent: Option<JobId>,
    ) -> Result<Enqueued, EngineError> {
        let flow = self.store().flow(flow).await?;
        Ok(self
            .store()
            .enqueue_job(NewJob {
                tenant: flow.tenant,
                kind: FLOW_SYNC.into(),
                serial_key: format!("connection:{}", flow.source),
                flow: Some(flow.id),
                args: json!({ "flow": flow.id }),
                max_attempts: JOB_ATTEMPTS,
                run_after: None,
                parent,
                trigger: trigger.into(),
            })
            .await?)
    }

    /// Queues a global synchronisation of `service` (a target connection's name or
    /// provider) for all of a tenant's sites where it is Enabled and Live (R-B-6).
    pub async fn trigger_global_sync(
        &self,
        tenant: TenantId,
        service: &str,
        trigger: &str,
    ) -> Result<Enqueued, EngineError> {
        Ok(self
            .store()
            .enqueue_job(NewJob {
                tenant,
                kind: GLOBAL_SYNC.into(),
                serial_key: format!("tenant:{tenant}:global"),
                flow: None,
                args: json!({ "service": service }),
                max_attempts: JOB_ATTEMPTS,
                run_after: None,
                parent: None,
                trigger: trigger.into(),
            })
            .await?)
    }

    /// Runs one flow's synchronisation now, in this process: import the source stream,
    /// push what is due, then poll statuses when the flow has a status stream.
    ///
    /// A product flow first synchronises the category flows between the same two
    /// connections, so that a new product's categories are at the target before it
    /// (R-B-7).
    pub async fn sync_flow(&self, flow: FlowId) -> Result<FlowSyncSummary, EngineError> {
        let (flow, settings, source, _) = self.open_flow(flow).await?;
        let kind = self.stream_kind(&source, &flow.source_stream)?;
        let mut summary = FlowSyncSummary {
            flow: flow.name.clone(),
            ..Default::default()
        };
        if kind == EntityKind::Product {
            for other in self.store().flows(flow.tenant).await? {
                if other.source == flow.source
                    && other.target == flow.target
                    && other.live
                    && self.stream_kind(&source, &other.source_stream)? == EntityKind::Category
                {
                    summary
                        .categories
                        .push(Box::pin(self.sync_flow(other.id)).await?);
                }
            }
        }
        // An import that cannot finish (the source unavailable) does not keep what is
        // already stored from being pushed and polled: the step's error is reported and the
        // flow goes on. Only what stops every step (storage, credentials, a run already
        // going, settings) ends the sync.
        match self
            .import(
                flow.source,
                &flow.source_stream,
                &ImportOptions::default(),
                &(),
            )
            .await
        {
            Ok(import) => summary.import = Some(import),
            Err(e) if e.stops_flow() => return Err(e),
            Err(e) => summary
                .step_errors
                .push(format!("import of {}: {e}", flow.source_stream)),
        }
        if settings.mode == FlowMode::Inbox {
            // Know what the target has before matching against it.
            for stream in &settings.reference_streams {
                summary.reference.push(
                    self.import(flow.target, stream, &ImportOptions::default(), &())
                        .await?,
                );
            }
            summary.inbox = Some(self.fill_inbox(flow.id).await?);
            return Ok(summary);
        }
        match self.push_flow(flow.id, &()).await {
            Ok(push) => summary.push = Some(push),
            Err(e) if e.stops_flow() => return Err(e),
            Err(e) => summary.step_errors.push(format!("push: {e}")),
        }
        if kind == EntityKind::Order && settings.status_stream.is_some() {
            match self.sync_status(flow.id).await {
                Ok(status) => summary.status = Some(status),
                Err(e) if e.stops_flow() => return Err(e),
                Err(e) => summary.step_errors.push(format!("status sync: {e}")),
            }
        }
        Ok(summary)
    }

    /// Queues the flows of a global synchronisation and logs, per account and per site,
    /// what it did.
    async fn run_global_sync(&self, job: &Job) -> Result<GlobalSyncSummary, EngineError> {
        let service = job
            .args
            .get("service")
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_string();
        let mut summary = GlobalSyncSummary {
            service: service.clone(),
            ..Default::default()
        };
        for flow in self.store().flows(job.tenant).await? {
            let target = self.store().connection(flow.target).await?;
            if service != target.name && service != target.provider {
                continue;
            }
            let (message, queued) = if flow.enabled && flow.live {
                let e = self
                    .trigger_flow_sync(flow.id, "global-sync", Some(job.id))
                    .await?;
                summary.queued.push(flow.name.clone());
                (
                    format!(
                        "global synchronisation of {service}: flow {} {} (job {})",
                        flow.name,
                        if e.joined {
                            "joined the sync already queued"
                        } else {
                            "queued"
                        },
                        e.id
                    ),
                    true,
                )
            } else {
                let why = match (flow.enabled, flow.live) {
                    (false, _) => "not Enabled",
                    (true, false) => "not Live",
                    _ => unreachable!(),
                };
                summary.skipped.push((flow.name.clone(), why.into()));
                (
                    format!(
                        "global synchronisation of {service}: flow {} skipped, {why}",
                        flow.name
                    ),
                    false,
                )
            };
            // Per site: the source connection's log.
            self.store()
                .log_activity(NewActivity {
                    tenant: job.tenant,
                    connection: Some(flow.source),
                    run: None,
                    level: Level::Info,
                    kind: "global-sync".into(),
                    message,
                    detail: Some(json!({ "job": job.id, "flow": flow.name, "queued": queued })),
                })
                .await?;
        }
        // Per account: a tenant-wide entry.
        self.store()
            .log_activity(NewActivity {
                tenant: job.tenant,
                connection: None,
                run: None,
                level: Level::Info,
                kind: "global-sync".into(),
                message: format!(
                    "global synchronisation of {service}: {} site(s) queued, {} skipped",
                    summary.queued.len(),
                    summary.skipped.len()
                ),
                detail: Some(serde_json::to_value(&summary).unwrap_or_default()),
            })
            .await?;
        Ok(summary)
    }

    /// Claims and runs the next due job; `None` when nothing is due.
    pub async fn run_next_job(&self, holder: &str) -> Result<Option<(Job, JobState)>, EngineError> {
        let Some(job) = self.store().claim_job(holder, LEASE).await? else {
            return Ok(None);
        };
        // Keep the lease while the job runs; a host that dies lets it lapse.
        let renewer = {
            let store = self.store().clone();
            let holder = holder.to_string();
            let id = job.id;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LEASE / 4).await;
                    if !matches!(store.renew_job(id, &holder, LEASE).await, Ok(true)) {
                        return;
                    }
                }
            })
        };
        let result = self.execute(&job).await;
        renewer.abort();
        let outcome = match &result {
            Ok(detail) => {
                self.log_job(
                    &job,
                    Level::Info,
                    &format!("job {} ({}) succeeded", job.id, job.kind),
                    Some(detail.clone()),
                )
                .await;
                JobOutcome::Succeeded
            }
            Err(e) => {
                let message = e.to_string();
                self.log_job(
                    &job,
                    Level::Error,
                    &format!(
                        "job {} ({}) attempt {} failed: {message}",
                        job.id, job.kind, job.attempts
                    ),
                    None,
                )
                .await;
                if is_retryable(e) {
                    JobOutcome::Retry {
                        error: message,
                        retry_in: Duration::from_secs(5 << job.attempts.min(8)),
                    }
                } else {
                    JobOutcome::Failed(message)
                }
            }
        };
        let state = self.store().finish_job(job.id, outcome).await?;
        if state == JobState::Dead {
            self.log_job(
                &job,
                Level::Error,
                &format!(
                    "job {} ({}) is a dead letter after {} attempts",
                    job.id, job.kind, job.attempts
                ),
                None,
            )
            .await;
        }
        Ok(Some((job, state)))
    }

    /// Runs due jobs until none is left; returns them with how they ended.
    pub async fn run_jobs_until_idle(
        &self,
        holder: &str,
    ) -> Result<Vec<(Job, JobState)>, EngineError> {
        let mut done = Vec::new();
        while let Some(j) = self.run_next_job(holder).await? {
            done.push(j);
        }
        Ok(done)
    }

    async fn execute(&self, job: &Job) -> Result<serde_json::Value, EngineError> {
        match job.kind.as_str() {
            FLOW_SYNC => {
                let flow = job
                    .flow
                    .ok_or_else(|| EngineError::Canonical(format!("job {} has no flow", job.id)))?;
                Ok(serde_json::to_value(self.sync_flow(flow).await?).unwrap_or_default())
            }
            GLOBAL_SYNC => {
                Ok(serde_json::to_value(self.run_global_sync(job).await?).unwrap_or_default())
            }
            other => Err(EngineError::Canonical(format!(
                "unknown job kind {other:?}"
            ))),
        }
    }

    async fn log_job(
        &self,
        job: &Job,
        level: Level,
        message: &str,
        detail: Option<serde_json::Value>,
    ) {
        let connection = match job.flow {
            Some(f) => self.store().flow(f).await.ok().map(|f| f.source),
            None => None,
        };
        let entry = NewActivity {
            tenant: job.tenant,
            connection,
            run: None,
            level,
            kind: "job".into(),
            message: message.to_string(),
            detail,
        };
        if let Err(e) = self.store().log_activity(entry).await {
            tracing::warn!("could not log job {}: {e}", job.id);
        }
    }

    /// Queues a sync of every flow whose schedule fell due in `(since, until]`.
    pub async fn enqueue_due_schedules(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Enqueued>, EngineError> {
        let mut queued = Vec::new();
        for flow in self.store().scheduled_flows().await? {
            let Some(expr) = &flow.schedule else { continue };
            let schedule = match cron::Schedule::from_str(expr) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("flow {} has an invalid schedule {expr:?}: {e}", flow.name);
                    continue;
                }
            };
            let due = schedule.after(&since).next().is_some_and(|t| t <= until);
            if due && flow.enabled && flow.live {
                queued.push(self.trigger_flow_sync(flow.id, "schedule", None).await?);
            }
        }
        Ok(queued)
    }
}

/// Checks a cron expression (with seconds: `sec min hour day month weekday`).
pub fn check_schedule(expr: &str) -> Result<(), String> {
    cron::Schedule::from_str(expr)
        .map(|_| ())
        .map_err(|e| format!("schedule {expr:?} is not a valid cron expression (sec min hour day month weekday): {e}"))
}

/// Whether a failed job is worth another attempt.
fn is_retryable(e: &EngineError) -> bool {
    !matches!(
        e,
        EngineError::NotLive(_)
            | EngineError::FlowNotLive(_)
            | EngineError::FlowSettings { .. }
            | EngineError::Setting { .. }
            | EngineError::UnknownStream { .. }
            | EngineError::NotATargetStream { .. }
            | EngineError::NoPlugin(_)
            | EngineError::TargetRefused { .. }
    )
}
