//! Pushing a flow's source records to its target (R-B-1 … R-B-4, R-B-7, R-B-8): push rules,
//! push records, retries with backoff and dead letters, and never a second record at the
//! target.
//!
//! A flow moves what its source stream carries: orders (held by push rules, pushed once) or
//! catalogue records — products and categories — which are pushed when new and sent again as
//! updates when they change at the source; categories go parents first.
//!
//! An attempt is recorded as `sending` before the plugin is called. Whenever an earlier
//! attempt exists — it failed, timed out after sending, or the host died before recording
//! the answer — the plugin is asked to `find-or-create`, so a target without idempotency
//! keys is searched before anything is created again.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use switchyard_runtime::bindings::{
    Category, ConnectorError, Direction, Entity, EntityKind, Order, Product, PushMode, PushRequest,
    PushResult,
};
use switchyard_runtime::{Job, LoadedPlugin, RuntimeError};
use switchyard_store::{
    idempotency_key, CanonicalId, CanonicalRecord, Connection, Flow, FlowId, Level, PushFailure,
    PushRecord, PushState, PushSuccess, PushedLine, RunCounts, RunId, StoreError,
};

use crate::crash_point;
use crate::error::EngineError;
use crate::flow_settings::{FlowMode, FlowSettings};
use crate::import::{failure_note, keep_failure};
use crate::push_rules;
use crate::run_lock::HeldRunLock;
use crate::services::ConnectionServices;
use crate::Switchyard;

/// One source record on its way to the target.
#[derive(Debug, Clone)]
pub(crate) enum Subject {
    Order(Box<Order>),
    Product(Box<Product>),
    Category(Category),
}

impl Subject {
    /// The record's canonical entity, if a flow can push it.
    pub(crate) fn of(record: &CanonicalRecord) -> Result<Subject, String> {
        match serde_json::from_value::<Entity>(record.data.clone()) {
            Ok(Entity::Order(o)) => Ok(Subject::Order(Box::new(o))),
            Ok(Entity::Product(p)) => Ok(Subject::Product(Box::new(p))),
            Ok(Entity::Category(c)) => Ok(Subject::Category(c)),
            Ok(other) => Err(format!(
                "canonical record {} is a {}: flows push orders, products and categories",
                record.id,
                other.kind().as_str()
            )),
            Err(e) => Err(format!(
                "canonical record {} is not a valid entity: {e}",
                record.id
            )),
        }
    }

    /// Stored kind of the record (bindings, push records).
    fn kind(&self) -> &'static str {
        match self {
            Subject::Order(_) => "order",
            Subject::Product(_) => "product",
            Subject::Category(_) => "category",
        }
    }

    /// How people name it in the log: `order 1001`, `product BC-STD`, `category Flyers`.
    fn label(&self) -> String {
        match self {
            Subject::Order(o) => format!("order {}", o.number),
            Subject::Product(p) => format!(
                "product {}",
                p.code.as_deref().or(p.sku.as_deref()).unwrap_or(&p.name)
            ),
            Subject::Category(c) => format!("category {}", c.name),
        }
    }

    /// The structured reference put into activity details.
    fn reference(&self) -> serde_json::Value {
        match self {
            Subject::Order(o) => serde_json::json!({ "order": o.number }),
            Subject::Product(p) => serde_json::json!({ "product": p.external_id }),
            Subject::Category(c) => serde_json::json!({ "category": c.external_id }),
        }
    }

    /// Catalogue records are sent again as updates when they change.
    fn is_catalogue(&self) -> bool {
        !matches!(self, Subject::Order(_))
    }
}

/// Adds `more` to a JSON object of activity details.
fn detail(subject: &Subject, more: serde_json::Value) -> serde_json::Value {
    let mut d = subject.reference();
    if let (Some(d), serde_json::Value::Object(more)) = (d.as_object_mut(), more) {
        d.extend(more);
    }
    d
}

/// What a push run did; also the `--json` answer of the CLI.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PushSummary {
    pub flow: String,
    pub run: String,
    /// Source records looked at.
    pub considered: u64,
    /// Created at the target (or found there after an ambiguous attempt).
    pub pushed: u64,
    /// Found at the target in status-only mode.
    pub linked: u64,
    /// Held by a push rule.
    pub waiting: u64,
    /// Failed this run (their push records carry the error).
    pub failed: u64,
    /// Given up this run after the maximum attempts.
    pub dead: u64,
    /// Why, for the first few failed ones (their push records and the log have every one).
    pub failures: Vec<String>,
    /// Not due: outside the window, waiting for a retry time, or failed for a reason only a
    /// change or "push again" clears.
    pub skipped: u64,
}

/// Told after every record (drives the CLI's progress bar).
pub trait PushProgress: Send + Sync {
    fn record_done(&self, summary: &PushSummary);
}

impl PushProgress for () {
    fn record_done(&self, _summary: &PushSummary) {}
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum PushOutcome {
    /// The target has it now.
    Pushed { external_id: String, created: bool },
    /// Status-only: found at the target.
    Linked { external_id: String },
    /// Status-only: not at the target; nothing was pushed.
    NotAtTarget,
    /// Failed (recorded on the push record).
    Failed { error: String, retryable: bool },
    /// Failed too often: given up.
    Dead { error: String },
    /// The target already had it: nothing was sent.
    AlreadyThere { external_id: String },
}

/// Everything one push run (or one "push again") works with.
pub(crate) struct PushContext {
    pub flow: Flow,
    /// What the source stream carries.
    pub kind: EntityKind,
    pub settings: FlowSettings,
    pub target: Connection,
    pub plugin: Arc<LoadedPlugin>,
    pub services: Arc<ConnectionServices>,
    pub run: RunId,
}

impl Switchyard {
    /// The flow, its settings and both connections, checked: the flow is Live and the target
    /// plugin writes the target stream.
    pub(crate) async fn open_flow(
        &self,
        flow: FlowId,
    ) -> Result<(Flow, FlowSettings, Connection, Connection), EngineError> {
        let flow = self.store().flow(flow).await?;
        let settings = FlowSettings::parse(&flow.name, &flow.settings)?;
        if !flow.live {
            return Err(EngineError::FlowNotLive(flow.name.clone()));
        }
        let source = self.store().connection(flow.source).await?;
        let target = self.store().connection(flow.target).await?;
        Ok((flow, settings, source, target))
    }

    /// Pushes every source record of the flow that the target does not have yet and whose
    /// push rules hold. Safe to interrupt anywhere and to run again.
    pub async fn push_flow(
        &self,
        flow: FlowId,
        progress: &dyn PushProgress,
    ) -> Result<PushSummary, EngineError> {
        let (flow, settings, source, target) = self.open_flow(flow).await?;
        if settings.mode == FlowMode::Inbox {
            return Err(EngineError::Inbox(format!(
                "flow {} puts orders into the inbox as order requests; they are converted with \
                 `switchyard inbox convert`, not pushed",
                flow.name
            )));
        }
        let plugin = self.target_plugin(&target, &flow.target_stream)?;
        let lock =
            HeldRunLock::acquire(self.store(), source.id, &source.name, &flow_lock(&flow)).await?;
        let result = self
            .push_locked(&flow, settings, source, target, plugin, progress, &lock)
            .await;
        let released = lock.release().await;
        let summary = result?;
        released?;
        Ok(summary)
    }

    #[allow(clippy::too_many_arguments)]
    async fn push_locked(
        &self,
        flow: &Flow,
        settings: FlowSettings,
        source: Connection,
        target: Connection,
        plugin: Arc<LoadedPlugin>,
        progress: &dyn PushProgress,
        lock: &HeldRunLock,
    ) -> Result<PushSummary, EngineError> {
        let lock_stream = flow_lock(flow);
        let run = self
            .open_run(
                source.id,
                &lock_stream,
                "push",
                "abandoned: the host stopped before this run finished; records it was sending are looked up at the target before they are sent again",
            )
            .await?;
        let services = self.services_for(&target, &plugin, Some(run)).await?;
        let kind = self.stream_kind(&source, &flow.source_stream)?;
        let ctx = PushContext {
            flow: flow.clone(),
            kind,
            settings,
            target,
            plugin,
            services: services.clone(),
            run,
        };
        let mut summary = PushSummary {
            flow: flow.name.clone(),
            run: run.to_string(),
            ..Default::default()
        };
        let result = self.push_pages(&ctx, progress, lock, &mut summary).await;
        services.flush().await;
        let counts = RunCounts {
            fetched: summary.considered,
            created: summary.pushed + summary.linked,
            updated: 0,
            unchanged: summary.waiting + summary.skipped,
            failed: summary.failed + summary.dead,
        };
        let note = failure_note(summary.failed + summary.dead, &summary.failures);
        self.close_run(run, result, counts, note)
            .await
            .map(|()| summary)
    }

    /// One pass: first the records due for a retry, then every source record changed since
    /// the flow last looked (its push mark), page by page. Records that did not change and
    /// are not due are never read, so a run costs what changed, not what the history holds.
    async fn push_pages(
        &self,
        ctx: &PushContext,
        progress: &dyn PushProgress,
        lock: &HeldRunLock,
        summary: &mut PushSummary,
    ) -> Result<(), EngineError> {
        let mut job = ctx.plugin.start_job(ctx.services.clone()).await?;
        let window_start = Utc::now() - chrono::Duration::days(i64::from(ctx.settings.window_days));
        let page_size = ctx.settings.page_size;
        // Categories are all read first and sent parents first, so that a parent is at the
        // target before its children name it.
        let mut categories = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let started = Utc::now();
        let mut after: Option<CanonicalId> = None;
        loop {
            lock.ensure_held()?;
            let page = self
                .store()
                .push_retries_due(ctx.flow.id, started, after.as_ref(), page_size)
                .await?;
            let full = page.len() as u32 == page_size;
            after = page.last().map(|(r, _)| r.id);
            let batch = self.subjects(ctx, page, summary);
            for (record, push, subject) in batch {
                seen.insert(record.id);
                if ctx.kind == EntityKind::Category {
                    categories.push((record, push, subject));
                    continue;
                }
                self.push_one(
                    ctx,
                    &mut job,
                    lock,
                    summary,
                    progress,
                    window_start,
                    &record,
                    push,
                    subject,
                )
                .await?;
            }
            if !full {
                break;
            }
        }
        let mut mark = self.store().push_seq(ctx.flow.id).await?;
        loop {
            lock.ensure_held()?;
            let page = self
                .store()
                .push_changes(
                    ctx.flow.id,
                    ctx.flow.source,
                    ctx.kind.as_str(),
                    mark,
                    page_size,
                )
                .await?;
            let full = page.len() as u32 == page_size;
            let last = page.last().map(|(r, _)| r.change_seq);
            let page: Vec<_> = page
                .into_iter()
                .filter(|(r, _)| !seen.contains(&r.id))
                .collect();
            let batch = self.subjects(ctx, page, summary);
            if ctx.kind == EntityKind::Category {
                categories.extend(batch);
            } else {
                for (record, push, subject) in batch {
                    self.push_one(
                        ctx,
                        &mut job,
                        lock,
                        summary,
                        progress,
                        window_start,
                        &record,
                        push,
                        subject,
                    )
                    .await?;
                }
                // Everything up to here was considered: a rerun starts after it. (Categories
                // move the mark only once all of them were sent, below.)
                if let Some(last) = last {
                    self.store().set_push_seq(ctx.flow.id, last).await?;
                }
            }
            if let Some(last) = last {
                mark = last;
            }
            if !full {
                break;
            }
        }
        if ctx.kind == EntityKind::Category {
            for (record, push, subject) in parents_first(categories) {
                self.push_one(
                    ctx,
                    &mut job,
                    lock,
                    summary,
                    progress,
                    window_start,
                    &record,
                    push,
                    subject,
                )
                .await?;
            }
            self.store().set_push_seq(ctx.flow.id, mark).await?;
        }
        Ok(())
    }

    /// The records of a page as subjects; one that is not a pushable entity is a failure of
    /// its own and the rest go on.
    fn subjects(
        &self,
        ctx: &PushContext,
        page: Vec<(CanonicalRecord, Option<PushRecord>)>,
        summary: &mut PushSummary,
    ) -> Vec<(CanonicalRecord, Option<PushRecord>, Subject)> {
        let mut batch = Vec::with_capacity(page.len());
        for (record, push) in page {
            match Subject::of(&record) {
                Ok(subject) => batch.push((record, push, subject)),
                Err(e) => {
                    summary.considered += 1;
                    summary.failed += 1;
                    keep_failure(&mut summary.failures, e.clone());
                    ctx.services.note(Level::Error, "push", &e, None);
                }
            }
        }
        batch
    }

    /// Considers one candidate: due or not, held by a rule or not, then one attempt.
    #[allow(clippy::too_many_arguments)]
    async fn push_one(
        &self,
        ctx: &PushContext,
        job: &mut Job,
        lock: &HeldRunLock,
        summary: &mut PushSummary,
        progress: &dyn PushProgress,
        window_start: DateTime<Utc>,
        record: &CanonicalRecord,
        push: Option<PushRecord>,
        subject: Subject,
    ) -> Result<(), EngineError> {
        lock.ensure_held()?;
        summary.considered += 1;
        if !is_due(record, push.as_ref(), &subject, window_start) {
            summary.skipped += 1;
            progress.record_done(summary);
            return Ok(());
        }
        if let Subject::Order(order) = &subject {
            let holds = push_rules::holds(order);
            if !holds.is_empty() {
                let reason = push_rules::reason(&holds);
                let changed = self
                    .store()
                    .hold_push(ctx.flow.id, &record.id, &reason, Some(ctx.run))
                    .await?;
                if changed {
                    ctx.services.note(
                        Level::Info,
                        "push-waiting",
                        &format!("order {} waits: {reason}", order.number),
                        Some(serde_json::json!({ "order": order.number, "holds": holds })),
                    );
                }
                summary.waiting += 1;
                progress.record_done(summary);
                return Ok(());
            }
        }
        let outcome = self.attempt_push(ctx, job, record, &subject, false).await?;
        count(summary, &outcome);
        if let PushOutcome::Failed { error, .. } | PushOutcome::Dead { error } = &outcome {
            keep_failure(
                &mut summary.failures,
                format!("{}: {error}", subject.label()),
            );
        }
        // What was sent and answered is in the store before the next record goes.
        ctx.services.flush().await;
        progress.record_done(summary);
        Ok(())
    }

    /// One attempt for one record, with everything recorded; errors of the record itself
    /// are outcomes, only storage, lock and authentication problems stop the run.
    pub(crate) async fn attempt_push(
        &self,
        ctx: &PushContext,
        job: &mut Job,
        record: &CanonicalRecord,
        subject: &Subject,
        revive: bool,
    ) -> Result<PushOutcome, EngineError> {
        let flow = ctx.flow.id;
        let label = subject.label();
        let before = match self
            .store()
            .begin_push_attempt(
                flow,
                &record.id,
                revive,
                subject.is_catalogue(),
                Some(ctx.run),
            )
            .await
        {
            Ok(before) => before,
            Err(StoreError::Conflict(_)) => {
                let p = self.store().push_record(flow, &record.id).await?;
                return Ok(PushOutcome::AlreadyThere {
                    external_id: p.and_then(|p| p.external_id).unwrap_or_default(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        // A catalogue record the target has had before is updated in place.
        let update = before
            .as_ref()
            .filter(|_| subject.is_catalogue())
            .and_then(|b| b.external_id.clone());
        let attempts = match &before {
            Some(b) if b.state == PushState::Pushed => 1,
            Some(b) => b.attempts + 1,
            None => 1,
        };
        let mut mode = match ctx.settings.mode {
            FlowMode::StatusOnly => PushMode::Find,
            // (Inbox flows never reach here: `push_flow` refuses them.)
            FlowMode::Push | FlowMode::Inbox if update.is_some() => PushMode::Create,
            // Any earlier attempt may have reached the target.
            FlowMode::Push | FlowMode::Inbox if attempts > 1 => PushMode::FindOrCreate,
            FlowMode::Push | FlowMode::Inbox => PushMode::Create,
        };
        crash_point::reached("before-send");
        // A transient failure is tried again at once, a few times with backoff, before it
        // is left to a later run; every try after the first looks the record up first,
        // since the one before may have reached the target.
        let mut tries = 1;
        let result = loop {
            let result = self
                .send(ctx, job, subject, &record.id, mode, update.clone())
                .await;
            match &result {
                Err(e)
                    if e.is_retryable()
                        && tries < SEND_TRIES
                        && e.retry_after().is_none_or(|w| w <= MAX_SEND_WAIT) =>
                {
                    let wait = e.retry_after().unwrap_or(SEND_BACKOFF * (1 << (tries - 1)));
                    ctx.services.note(
                        Level::Warn,
                        "retry",
                        &format!(
                            "{label} to {}: try {tries} failed ({e}); trying again in {} ms",
                            ctx.target.name,
                            wait.as_millis()
                        ),
                        Some(detail(subject, serde_json::json!({ "try": tries }))),
                    );
                    if let SendError::Runtime(_) = e {
                        // The instance is poisoned; the next try needs a fresh one.
                        *job = ctx.plugin.start_job(ctx.services.clone()).await?;
                    }
                    tokio::time::sleep(wait).await;
                    tries += 1;
                    if mode == PushMode::Create && update.is_none() {
                        mode = PushMode::FindOrCreate;
                    }
                }
                _ => break result,
            }
        };
        // The exchange with the target is in the log before its answer is recorded.
        ctx.services.flush().await;
        crash_point::reached("after-send");
        let outcome = match result {
            Ok(r) => {
                let linked = mode == PushMode::Find;
                self.record_success(ctx, record, subject, &r, linked)
                    .await?;
                ctx.services.note(
                    Level::Info,
                    "pushed",
                    &format!(
                        "{label} {} as {} at {}",
                        if linked {
                            "linked"
                        } else if r.created {
                            "created"
                        } else if update.is_some() {
                            "updated"
                        } else {
                            "found (an earlier attempt had created it)"
                        },
                        r.external_id,
                        ctx.target.name
                    ),
                    Some(detail(subject, serde_json::json!({ "external_id": r.external_id, "status": r.status, "attempt": attempts, "created": r.created }))),
                );
                if linked {
                    PushOutcome::Linked {
                        external_id: r.external_id,
                    }
                } else {
                    PushOutcome::Pushed {
                        external_id: r.external_id,
                        created: r.created,
                    }
                }
            }
            Err(SendError::Connector(ConnectorError::AlreadyExists(a))) => {
                let found = PushResult {
                    external_id: a.external_id.clone(),
                    status: None,
                    created: false,
                    items: Vec::new(),
                };
                self.record_success(ctx, record, subject, &found, mode == PushMode::Find)
                    .await?;
                ctx.services.note(
                    Level::Info,
                    "pushed",
                    &format!(
                        "{label} was already at {} as {} ({})",
                        ctx.target.name, a.external_id, a.message
                    ),
                    Some(detail(
                        subject,
                        serde_json::json!({ "external_id": a.external_id }),
                    )),
                );
                PushOutcome::Pushed {
                    external_id: a.external_id,
                    created: false,
                }
            }
            Err(SendError::Connector(ConnectorError::NotFound(why))) if mode == PushMode::Find => {
                let reason = format!(
                    "status-only: not found at {} ({why}); nothing is pushed in this mode, \
                     it is looked up again later",
                    ctx.target.name
                );
                // Looked up again after the backoff (the older integration may push it
                // yet), never given up: this is not a failure of the record.
                let next = Utc::now()
                    + chrono::Duration::from_std(ctx.settings.backoff(attempts))
                        .unwrap_or_else(|_| chrono::Duration::hours(1));
                self.store()
                    .record_push_failure(
                        flow,
                        &record.id,
                        PushFailure {
                            error: &reason,
                            retryable: true,
                            next_attempt_at: Some(next),
                            dead: false,
                            run: Some(ctx.run),
                        },
                    )
                    .await?;
                PushOutcome::NotAtTarget
            }
            Err(e) => {
                let retryable = e.is_retryable();
                let auth = matches!(e, SendError::Connector(ConnectorError::Auth(_)));
                let message = e.to_string();
                let dead = retryable && attempts >= ctx.settings.max_attempts;
                let next_attempt_at: Option<DateTime<Utc>> = (retryable && !dead).then(|| {
                    Utc::now()
                        + chrono::Duration::from_std(ctx.settings.backoff(attempts))
                            .unwrap_or_else(|_| chrono::Duration::hours(1))
                });
                self.store()
                    .record_push_failure(
                        flow,
                        &record.id,
                        PushFailure {
                            error: &message,
                            retryable,
                            next_attempt_at,
                            dead,
                            run: Some(ctx.run),
                        },
                    )
                    .await?;
                ctx.services.note(
                    Level::Error,
                    if dead { "dead-letter" } else { "push-failed" },
                    &format!(
                        "{label} to {}: attempt {attempts} failed: {message}{}",
                        ctx.target.name,
                        if dead {
                            "; given up (push it again once the cause is fixed)"
                        } else if retryable {
                            "; retried later"
                        } else {
                            "; retried when the record changes or is pushed again"
                        }
                    ),
                    Some(detail(
                        subject,
                        serde_json::json!({ "attempt": attempts, "error": message }),
                    )),
                );
                if let SendError::Runtime(_) = e {
                    // The instance is poisoned; later records need a fresh one.
                    *job = ctx.plugin.start_job(ctx.services.clone()).await?;
                }
                if auth {
                    return Err(EngineError::TargetRefused {
                        connection: ctx.target.name.clone(),
                        message,
                    });
                }
                if dead {
                    PushOutcome::Dead { error: message }
                } else {
                    PushOutcome::Failed {
                        error: message,
                        retryable,
                    }
                }
            }
        };
        crash_point::reached("after-record");
        Ok(outcome)
    }

    async fn send(
        &self,
        ctx: &PushContext,
        job: &mut Job,
        subject: &Subject,
        canonical_id: &CanonicalId,
        mode: PushMode,
        update: Option<String>,
    ) -> Result<PushResult, SendError> {
        let outgoing = match subject {
            Subject::Order(order) => Entity::Order(
                self.with_target_products(ctx, push_rules::pushable_part(order))
                    .await
                    .map_err(SendError::Engine)?,
            ),
            // Catalogue records name their categories and parents by the source's ids; the
            // target plugin resolves them through the integration data it keeps.
            Subject::Product(p) => Entity::Product((**p).clone()),
            Subject::Category(c) => Entity::Category(c.clone()),
        };
        let payload = job
            .map_out(&ctx.flow.target_stream, &outgoing)
            .await
            .map_err(SendError::from_runtime)?;
        // R-P-2: exactly what is sent to the target.
        ctx.services.note(
            Level::Info,
            "push-payload",
            &format!(
                "{} → {} ({})",
                subject.label(),
                ctx.target.name,
                match (mode, &update) {
                    (_, Some(id)) => format!("update {id}"),
                    (PushMode::Create, None) => "create".into(),
                    (PushMode::FindOrCreate, None) => "find or create".into(),
                    (PushMode::Find, None) => "find only".into(),
                }
            ),
            Some(detail(
                subject,
                serde_json::json!({ "payload": payload.data }),
            )),
        );
        // The payload is in the log before it leaves: a run killed mid-send still shows it.
        ctx.services.flush().await;
        let req = PushRequest {
            stream: ctx.flow.target_stream.clone(),
            payload,
            idempotency_key: idempotency_key(ctx.flow.id, canonical_id),
            external_id: update,
            mode,
        };
        job.push(&req).await.map_err(SendError::from_runtime)
    }

    async fn record_success(
        &self,
        ctx: &PushContext,
        record: &CanonicalRecord,
        subject: &Subject,
        result: &PushResult,
        linked: bool,
    ) -> Result<(), EngineError> {
        let lines: Vec<PushedLine> = result
            .items
            .iter()
            .map(|i| PushedLine {
                source_item_id: i.source_id.clone(),
                external_id: i.external_id.clone(),
                external_status: i.status.clone(),
            })
            .collect();
        self.store()
            .record_pushed(PushSuccess {
                flow: ctx.flow.id,
                target: ctx.target.id,
                kind: subject.kind(),
                canonical_id: record.id,
                external_id: &result.external_id,
                external_status: result.status.as_deref(),
                lines: &lines,
                linked,
                run: Some(ctx.run),
            })
            .await?;
        Ok(())
    }

    /// Items refer to products by the source's ids; the target needs its own. Where both
    /// connections are bound to one canonical product, the item carries the target's id;
    /// otherwise none (the plugin falls back to its own matching or default).
    async fn with_target_products(
        &self,
        ctx: &PushContext,
        mut order: Order,
    ) -> Result<Order, EngineError> {
        for item in &mut order.items {
            let Some(source_product) = item.product_external_id.take() else {
                continue;
            };
            let Some(binding) = self
                .store()
                .binding(ctx.flow.source, "product", &source_product)
                .await?
            else {
                continue;
            };
            item.product_external_id = self
                .store()
                .binding_for_canonical(ctx.flow.target, &binding.canonical_id)
                .await?
                .map(|b| b.external_id);
        }
        Ok(order)
    }

    /// The kind of entity a connection's stream carries, from its plugin's manifest.
    pub(crate) fn stream_kind(
        &self,
        conn: &Connection,
        stream: &str,
    ) -> Result<EntityKind, EngineError> {
        let plugin = self
            .registry()
            .current(&conn.provider)
            .ok_or_else(|| EngineError::NoPlugin(conn.provider.clone()))?;
        plugin
            .manifest()
            .streams
            .iter()
            .find(|s| s.name == stream)
            .map(|s| s.entity)
            .ok_or_else(|| EngineError::UnknownStream {
                provider: conn.provider.clone(),
                stream: stream.to_string(),
            })
    }

    /// The plugin serving the target connection, checked to write `stream`.
    pub(crate) fn target_plugin(
        &self,
        target: &Connection,
        stream: &str,
    ) -> Result<Arc<LoadedPlugin>, EngineError> {
        let plugin = self
            .registry()
            .current(&target.provider)
            .ok_or_else(|| EngineError::NoPlugin(target.provider.clone()))?;
        let writes = plugin.manifest().streams.iter().any(|s| {
            s.name == stream && matches!(s.direction, Direction::Target | Direction::Both)
        });
        if !writes {
            return Err(EngineError::NotATargetStream {
                provider: target.provider.clone(),
                stream: stream.to_string(),
            });
        }
        Ok(plugin)
    }
}

/// Why sending failed.
#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error("{}", .0.message())]
    Connector(ConnectorError),
    #[error("{0}")]
    Runtime(RuntimeError),
    #[error("{0}")]
    Engine(EngineError),
}

/// Tries of one send within a run before a transient failure is left to a later run.
const SEND_TRIES: u32 = 3;
/// The wait after the first failed try; doubled after each further one.
const SEND_BACKOFF: std::time::Duration = std::time::Duration::from_millis(250);
/// The longest wait between tries within a run (a longer `Retry-After` waits for a later run).
const MAX_SEND_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl SendError {
    /// How long the target asked to wait, when it said.
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            SendError::Connector(ConnectorError::RateLimited(r)) => {
                r.retry_after_ms.map(std::time::Duration::from_millis)
            }
            _ => None,
        }
    }

    fn from_runtime(e: RuntimeError) -> SendError {
        match e {
            RuntimeError::Connector(c, _) => SendError::Connector(c),
            other => SendError::Runtime(other),
        }
    }

    /// Whether the cause may clear by itself. A plugin stopped mid-call (deadline, trap) may
    /// have sent its request: retried, and the retry looks the record up first.
    fn is_retryable(&self) -> bool {
        match self {
            SendError::Connector(c) => c.is_retryable(),
            SendError::Runtime(_) => true,
            SendError::Engine(_) => true,
        }
    }
}

/// The run-lock stream of a flow: one push or status run of a flow at a time.
pub(crate) fn flow_lock(flow: &Flow) -> String {
    format!("flow:{}", flow.name)
}

/// The canonical order of a record.
pub(crate) fn order_of(record: &CanonicalRecord) -> Result<Order, String> {
    match serde_json::from_value::<Entity>(record.data.clone()) {
        Ok(Entity::Order(o)) => Ok(o),
        Ok(other) => Err(format!(
            "canonical record {} is a {}, not an order",
            record.id,
            other.kind().as_str()
        )),
        Err(e) => Err(format!(
            "canonical record {} is not a valid order: {e}",
            record.id
        )),
    }
}

/// Whether a record is due for an attempt now. Orders count within the window of days;
/// catalogue records whenever they changed since they were pushed.
fn is_due(
    record: &CanonicalRecord,
    push: Option<&PushRecord>,
    subject: &Subject,
    window_start: DateTime<Utc>,
) -> bool {
    if let Subject::Order(order) = subject {
        let placed = DateTime::parse_from_rfc3339(&order.placed_at)
            .map(|t| t.with_timezone(&Utc))
            .ok();
        if placed.is_some_and(|p| p < window_start) {
            return false;
        }
    }
    match push {
        None => true,
        Some(p) => match p.state {
            PushState::Waiting | PushState::Sending => true,
            PushState::Failed if p.retryable => p.next_attempt_at.is_none_or(|t| t <= Utc::now()),
            // A mapping or validation error clears only when the record changes.
            PushState::Failed => record.updated_at > p.updated_at,
            PushState::Pushed => subject.is_catalogue() && record.updated_at > p.updated_at,
            PushState::Linked | PushState::Dead => false,
        },
    }
}

/// Categories ordered so that every parent comes before its children (by the source's
/// ids); a parent that is not among them (already pushed, or missing) does not hold a
/// child back.
fn parents_first<T>(
    mut categories: Vec<(CanonicalRecord, T, Subject)>,
) -> Vec<(CanonicalRecord, T, Subject)> {
    let parent_of: std::collections::HashMap<String, Option<String>> = categories
        .iter()
        .filter_map(|(_, _, s)| match s {
            Subject::Category(c) => Some((c.external_id.clone(), c.parent_external_id.clone())),
            _ => None,
        })
        .collect();
    let depth = |id: &str| {
        let mut d = 0usize;
        let mut at = parent_of.get(id).cloned().flatten();
        // Bounded: a cycle in the source's data must not hang the push.
        while let Some(p) = at {
            d += 1;
            if d > parent_of.len() {
                break;
            }
            at = parent_of.get(&p).cloned().flatten();
        }
        d
    };
    categories.sort_by_cached_key(|(r, _, s)| match s {
        Subject::Category(c) => (depth(&c.external_id), r.id),
        _ => (0, r.id),
    });
    categories
}

fn count(summary: &mut PushSummary, outcome: &PushOutcome) {
    match outcome {
        PushOutcome::Pushed { .. } => summary.pushed += 1,
        PushOutcome::Linked { .. } => summary.linked += 1,
        PushOutcome::NotAtTarget => summary.waiting += 1,
        PushOutcome::Failed { .. } => summary.failed += 1,
        PushOutcome::Dead { .. } => summary.dead += 1,
        PushOutcome::AlreadyThere { .. } => summary.skipped += 1,
    }
}
