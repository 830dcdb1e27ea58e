//! Status synchronisation (R-B-5): poll the target for the records it has, keep each item's
//! status and shipment on its push record, and write them back to the source per item.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

use switchyard_runtime::bindings::{
    ConnectorError, Direction, Entity, FetchRequest, ItemStatus, Page, PushMode, PushRequest,
    RawRecord, StatusUpdate,
};
use switchyard_runtime::{Job, RuntimeError};
use switchyard_store::{CanonicalId, Level, PushItem, PushRecord, RunCounts};

use crate::error::EngineError;
use crate::flow_settings::FlowSettings;
use crate::import::{failure_note, keep_failure};
use crate::push::{flow_lock, order_of};
use crate::push_rules::status_name;
use crate::run_lock::HeldRunLock;
use crate::services::ConnectionServices;
use crate::Switchyard;

/// What a status synchronisation did; also the `--json` answer of the CLI.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatusSummary {
    pub flow: String,
    pub run: String,
    /// Records at the target that were polled.
    pub polled: u64,
    /// Item statuses or shipments that changed.
    pub changed: u64,
    /// Items written back to the source.
    pub written_back: u64,
    /// Records whose status could not be read, and items not written back (logged, and
    /// tried again on the next run).
    pub failed: u64,
    /// Why, for the first few of them.
    pub failures: Vec<String>,
}

/// Item statuses after which nothing changes any more.
fn is_final(status: ItemStatus) -> bool {
    matches!(
        status,
        ItemStatus::Completed | ItemStatus::Cancelled | ItemStatus::Denied
    )
}

fn is_final_name(name: &str) -> bool {
    matches!(name, "completed" | "cancelled" | "denied")
}

/// Errors after which no other record's status can be read either: storage, the lock, or
/// the target refusing the credentials.
fn stops_status_run(e: &EngineError) -> bool {
    match e {
        EngineError::Runtime(RuntimeError::Connector(c, _)) => matches!(c, ConnectorError::Auth(_)),
        EngineError::Runtime(_) => false,
        _ => true,
    }
}

/// Records asked about per fetch.
const POLL_BATCH: u32 = 50;

/// The target side and, with write-back, the source side of one status run.
struct StatusRun {
    flow: switchyard_store::Flow,
    settings: FlowSettings,
    status_stream: String,
    target_job: Job,
    target_services: Arc<ConnectionServices>,
    source_side: Option<(Job, Arc<ConnectionServices>, String)>,
    summary: StatusSummary,
    /// Whether any status was read this run: until one is, a failure may mean the target is
    /// down rather than one record being broken.
    answered: bool,
}

impl Switchyard {
    /// Polls the target for the status of every record it has from this flow and writes
    /// changes back to the source. A record whose status cannot be read or written back is
    /// that record's failure: it is recorded on it, named in the summary and tried again on
    /// the next run, and the run goes on with the others.
    pub async fn sync_status(
        &self,
        flow: switchyard_store::FlowId,
    ) -> Result<StatusSummary, EngineError> {
        let (flow, settings, source, target) = self.open_flow(flow).await?;
        let status_stream =
            settings
                .status_stream
                .clone()
                .ok_or_else(|| EngineError::FlowSettings {
                    flow: flow.name.clone(),
                    reason: "status-stream is not set, so there is nothing to poll".into(),
                })?;
        let (_, target_plugin) = self.plugin_for(target.id).await?;
        let reads = target_plugin.manifest().streams.iter().any(|s| {
            s.name == status_stream && matches!(s.direction, Direction::Source | Direction::Both)
        });
        if !reads {
            return Err(EngineError::UnknownStream {
                provider: target.provider.clone(),
                stream: status_stream,
            });
        }
        let write_back = match &settings.write_back_stream {
            Some(stream) => Some((self.target_plugin(&source, stream)?, stream.clone())),
            None => None,
        };
        let lock_stream = flow_lock(&flow);
        let lock =
            HeldRunLock::acquire(self.store(), source.id, &source.name, &lock_stream).await?;
        let result = async {
            let run = self
                .open_run(
                    source.id,
                    &lock_stream,
                    "status",
                    "abandoned: the host stopped before this run finished; the next status run polls again",
                )
                .await?;
            let started = async {
                let target_services = self
                    .services_for(&target, &target_plugin, Some(run))
                    .await?;
                let target_job = target_plugin.start_job(target_services.clone()).await?;
                let source_side = match &write_back {
                    Some((plugin, stream)) => {
                        let services = self.services_for(&source, plugin, Some(run)).await?;
                        let job = plugin.start_job(services.clone()).await?;
                        Some((job, services, stream.clone()))
                    }
                    None => None,
                };
                Ok::<_, EngineError>(StatusRun {
                    summary: StatusSummary {
                        flow: flow.name.clone(),
                        run: run.to_string(),
                        ..Default::default()
                    },
                    flow: flow.clone(),
                    settings: settings.clone(),
                    status_stream: status_stream.clone(),
                    target_job,
                    target_services,
                    source_side,
                    answered: false,
                })
            }
            .await;
            let mut state = match started {
                Ok(state) => state,
                Err(e) => {
                    return self
                        .close_run(run, Err(e), RunCounts::default(), None)
                        .await
                }
            };
            let result = self.poll_statuses(&mut state, &lock).await;
            state.target_services.flush().await;
            if let Some((_, services, _)) = &state.source_side {
                services.flush().await;
            }
            let summary = state.summary;
            let counts = RunCounts {
                fetched: summary.polled,
                created: 0,
                updated: summary.changed,
                unchanged: summary.polled.saturating_sub(summary.changed),
                failed: summary.failed,
            };
            let note = failure_note(summary.failed, &summary.failures);
            self.close_run(run, result, counts, note)
                .await
                .map(|()| summary)
        }
        .await;
        let released = lock.release().await;
        let summary = result?;
        released?;
        Ok(summary)
    }

    /// Polls the flow's records at the target in batches; records in a final state are
    /// skipped unless the flow asks to poll them.
    async fn poll_statuses(
        &self,
        st: &mut StatusRun,
        lock: &HeldRunLock,
    ) -> Result<(), EngineError> {
        let mut after: Option<CanonicalId> = None;
        loop {
            lock.ensure_held()?;
            let pushed = self
                .store()
                .pushed_records(
                    st.flow.id,
                    after.as_ref(),
                    POLL_BATCH,
                    st.settings.poll_final,
                )
                .await?;
            let Some(last) = pushed.last() else {
                return Ok(());
            };
            after = Some(last.canonical_id);
            let by_external: HashMap<String, &PushRecord> = pushed
                .iter()
                .filter_map(|p| p.external_id.clone().map(|e| (e, p)))
                .collect();
            st.summary.polled += by_external.len() as u64;
            let ids: Vec<String> = by_external.keys().cloned().collect();
            match self.fetch_statuses(st, ids.clone()).await {
                Ok(page) => {
                    st.answered = true;
                    self.apply_statuses(st, &by_external, &page).await?;
                }
                Err(e) if stops_status_run(&e) => return Err(e),
                // One broken answer must not cost the others theirs: ask for each alone.
                Err(batch_error) => {
                    let mut any = false;
                    for id in ids {
                        let record = by_external[&id];
                        match self.fetch_statuses(st, vec![id.clone()]).await {
                            Ok(page) => {
                                any = true;
                                st.answered = true;
                                self.apply_statuses(st, &by_external, &page).await?;
                            }
                            Err(e) if stops_status_run(&e) => return Err(e),
                            Err(e) => self.status_failed(st, record, &id, &e).await?,
                        }
                    }
                    if !any && !st.answered {
                        // Nothing at all could be read: the target is down, not a record.
                        return Err(batch_error);
                    }
                }
            }
            st.target_services.flush().await;
            if let Some((_, services, _)) = &st.source_side {
                services.flush().await;
            }
            if (pushed.len() as u32) < POLL_BATCH {
                return Ok(());
            }
        }
    }

    async fn fetch_statuses(
        &self,
        st: &mut StatusRun,
        ids: Vec<String>,
    ) -> Result<Page, EngineError> {
        let req = FetchRequest {
            stream: st.status_stream.clone(),
            cursor: None,
            page_size: POLL_BATCH * 10,
            now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            external_ids: ids,
        };
        fetch_status(&mut st.target_job, &st.target_services, &req).await
    }

    /// A record whose status could not be read, even after retries: recorded on it and
    /// named; the next run asks again.
    async fn status_failed(
        &self,
        st: &mut StatusRun,
        record: &PushRecord,
        external_id: &str,
        e: &EngineError,
    ) -> Result<(), EngineError> {
        let reason = format!(
            "the status of target record {external_id} could not be read: {e}; asked again on the next run"
        );
        st.summary.failed += 1;
        keep_failure(&mut st.summary.failures, reason.clone());
        self.store()
            .record_status_error(st.flow.id, &record.canonical_id, Some(&reason))
            .await?;
        st.target_services.note(
            Level::Error,
            "status-failed",
            &reason,
            Some(serde_json::json!({ "external_id": external_id })),
        );
        Ok(())
    }

    /// Stores the statuses of one answer, writes them back, and marks records whose items
    /// all reached a final status.
    async fn apply_statuses(
        &self,
        st: &mut StatusRun,
        by_external: &HashMap<String, &PushRecord>,
        page: &Page,
    ) -> Result<(), EngineError> {
        let flow = st.flow.id;
        // Per record: whether every status it reported is final and was written back.
        let mut settled: HashMap<CanonicalId, bool> = HashMap::new();
        for raw in &page.records {
            let update = match st.target_job.map_in(&st.status_stream, raw).await {
                Ok(Entity::StatusUpdate(u)) => u,
                Ok(other) => {
                    let reason = format!(
                        "status record {} mapped to a {}, not a status update",
                        raw.external_id,
                        other.kind().as_str()
                    );
                    self.status_record_failed(st, by_external, raw, reason)
                        .await?;
                    continue;
                }
                Err(RuntimeError::Connector(e, _)) => {
                    let reason = format!(
                        "status record {} could not be mapped: {}",
                        raw.external_id,
                        e.message()
                    );
                    self.status_record_failed(st, by_external, raw, reason)
                        .await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let Some(record) = by_external.get(&update.order_external_id) else {
                continue;
            };
            let canonical_id = record.canonical_id;
            if record.status_error.is_some() {
                self.store()
                    .record_status_error(flow, &canonical_id, None)
                    .await?;
            }
            let Some(item_id) = update.item_external_id.clone() else {
                continue;
            };
            let shipment = update
                .shipment
                .as_ref()
                .map(|s| serde_json::to_value(s).unwrap_or_default());
            if self
                .store()
                .record_item_status(
                    flow,
                    &canonical_id,
                    &item_id,
                    status_name(update.status),
                    update.status_text.as_deref(),
                    shipment.as_ref(),
                )
                .await?
                .is_some()
            {
                st.summary.changed += 1;
                st.target_services.note(
                    Level::Info,
                    "status",
                    &format!(
                        "target record {} line {item_id}: {}{}",
                        update.order_external_id,
                        update
                            .status_text
                            .as_deref()
                            .unwrap_or(status_name(update.status)),
                        update
                            .shipment
                            .as_ref()
                            .and_then(|s| s.tracking_number.as_deref())
                            .map(|t| format!(", tracking {t}"))
                            .unwrap_or_default()
                    ),
                    None,
                );
            }
            let mut written = true;
            if let Some((job, services, stream)) = st.source_side.as_mut() {
                match self
                    .write_back(
                        job,
                        services,
                        stream,
                        flow,
                        &canonical_id,
                        &item_id,
                        &update,
                    )
                    .await
                {
                    Ok(true) => st.summary.written_back += 1,
                    Ok(false) => {}
                    Err(WriteBackError::Connector(message)) => {
                        written = false;
                        st.summary.failed += 1;
                        keep_failure(&mut st.summary.failures, message.clone());
                        services.note(Level::Error, "write-back-failed", &message, None);
                    }
                    Err(WriteBackError::Engine(e)) => return Err(e),
                }
            }
            let entry = settled.entry(canonical_id).or_insert(true);
            *entry &= written && is_final(update.status);
        }
        for (canonical_id, maybe_final) in settled {
            if maybe_final && self.all_items_final(st, &canonical_id).await? {
                self.store()
                    .set_push_final(flow, &canonical_id, true)
                    .await?;
            }
        }
        Ok(())
    }

    /// A status record that came back but cannot be used: its order's failure.
    async fn status_record_failed(
        &self,
        st: &mut StatusRun,
        by_external: &HashMap<String, &PushRecord>,
        raw: &RawRecord,
        reason: String,
    ) -> Result<(), EngineError> {
        st.summary.failed += 1;
        keep_failure(&mut st.summary.failures, reason.clone());
        if let Some(record) = by_external.get(&raw.external_id) {
            self.store()
                .record_status_error(st.flow.id, &record.canonical_id, Some(&reason))
                .await?;
        }
        st.target_services.note(
            Level::Error,
            "dead-letter",
            &reason,
            Some(serde_json::json!({"raw": raw.data})),
        );
        Ok(())
    }

    /// Every item of a pushed record has a final status (and, with write-back, the source
    /// has it): nothing about it changes any more.
    async fn all_items_final(
        &self,
        st: &StatusRun,
        canonical_id: &CanonicalId,
    ) -> Result<bool, EngineError> {
        let items = self.store().push_items(st.flow.id, canonical_id).await?;
        Ok(!items.is_empty()
            && items.iter().all(|i| {
                i.status.as_deref().is_some_and(is_final_name)
                    && (st.source_side.is_none()
                        || i.written_back.as_deref() == Some(write_back_digest(i).as_str()))
            }))
    }

    /// Writes an item's status and shipment back to the source once; true when it was sent.
    #[allow(clippy::too_many_arguments)]
    async fn write_back(
        &self,
        job: &mut Job,
        services: &ConnectionServices,
        stream: &str,
        flow: switchyard_store::FlowId,
        canonical_id: &CanonicalId,
        target_item: &str,
        update: &StatusUpdate,
    ) -> Result<bool, WriteBackError> {
        let items = self.store().push_items(flow, canonical_id).await?;
        let Some(item) = items
            .iter()
            .find(|i| i.external_id.as_deref() == Some(target_item))
        else {
            return Ok(false);
        };
        let digest = write_back_digest(item);
        if item.written_back.as_deref() == Some(digest.as_str()) {
            return Ok(false);
        }
        let record = self.store().canonical(canonical_id).await?.ok_or_else(|| {
            EngineError::Canonical(format!("canonical record {canonical_id} is gone"))
        })?;
        let order = order_of(&record).map_err(EngineError::Canonical)?;
        // The source already shows this status and there is no shipment: nothing to write.
        let already_at_source = update.shipment.is_none()
            && order
                .items
                .iter()
                .find(|i| i.external_id.as_deref() == Some(item.source_item_id.as_str()))
                .is_some_and(|i| i.status == update.status);
        if already_at_source {
            self.store()
                .record_written_back(flow, canonical_id, &item.source_item_id, &digest)
                .await?;
            return Ok(false);
        }
        let outgoing = StatusUpdate {
            order_external_id: order.external_id.clone(),
            item_external_id: Some(item.source_item_id.clone()),
            status: update.status,
            status_text: update.status_text.clone(),
            shipment: update.shipment.clone(),
            extension: update.extension.clone(),
        };
        let connector = |e: RuntimeError| match e {
            RuntimeError::Connector(c, p) => WriteBackError::Connector(format!(
                "writing the status of order {} item {} back ({p} plugin): {}",
                order.number,
                item.source_item_id,
                c.message()
            )),
            other => WriteBackError::Engine(other.into()),
        };
        let payload = job
            .map_out(stream, &Entity::StatusUpdate(outgoing))
            .await
            .map_err(connector)?;
        services.note(
            Level::Info,
            "write-back",
            &format!(
                "order {} item {}: {}",
                order.number,
                item.source_item_id,
                item.status.as_deref().unwrap_or("?")
            ),
            Some(serde_json::json!({ "payload": payload.data })),
        );
        let request = PushRequest {
            stream: stream.to_string(),
            payload,
            idempotency_key: format!(
                "switchyard-{flow}-{canonical_id}-{}-{digest}",
                item.source_item_id
            ),
            external_id: Some(item.source_item_id.clone()),
            mode: PushMode::Create,
        };
        // Writing a status is the same whatever the number of times: a transient failure
        // is tried again at once a few times before it is left to the next run.
        let mut delay = Duration::from_millis(250);
        for attempt in 1.. {
            match job.push(&request).await {
                Ok(_) => break,
                Err(RuntimeError::Connector(e, p)) if e.is_retryable() && attempt < 3 => {
                    services.note(
                        Level::Warn,
                        "retry",
                        &format!(
                            "writing the status of order {} item {} back, try {attempt} failed ({p} plugin: {}); trying again",
                            order.number,
                            item.source_item_id,
                            e.message()
                        ),
                        None,
                    );
                    tokio::time::sleep(retry_wait(&e, delay)).await;
                    delay *= 2;
                }
                Err(e) => return Err(connector(e)),
            }
        }
        self.store()
            .record_written_back(flow, canonical_id, &item.source_item_id, &digest)
            .await?;
        Ok(true)
    }
}

enum WriteBackError {
    Connector(String),
    Engine(EngineError),
}

impl From<switchyard_store::StoreError> for WriteBackError {
    fn from(e: switchyard_store::StoreError) -> Self {
        WriteBackError::Engine(e.into())
    }
}

impl From<EngineError> for WriteBackError {
    fn from(e: EngineError) -> Self {
        WriteBackError::Engine(e)
    }
}

/// What identifies a write-back: the status and shipment it carries.
fn write_back_digest(item: &PushItem) -> String {
    let text = format!(
        "{}|{}",
        item.status.as_deref().unwrap_or(""),
        item.shipment
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default()
    );
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

async fn fetch_status(
    job: &mut Job,
    services: &ConnectionServices,
    req: &FetchRequest,
) -> Result<Page, EngineError> {
    let mut delay = Duration::from_millis(200);
    for attempt in 1.. {
        match job.fetch(req).await {
            Ok(page) => return Ok(page),
            Err(RuntimeError::Connector(e, p)) if e.is_retryable() && attempt < 4 => {
                let wait = retry_wait(&e, delay);
                services.note(
                    Level::Warn,
                    "retry",
                    &format!(
                        "status fetch attempt {attempt} failed ({p} plugin: {}); retrying",
                        e.message()
                    ),
                    None,
                );
                tokio::time::sleep(wait).await;
                delay *= 2;
            }
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("the loop returns")
}

/// The wait before trying again: what the provider asked for, else `delay`; at most 30 s.
fn retry_wait(e: &ConnectorError, delay: Duration) -> Duration {
    match e {
        ConnectorError::RateLimited(r) => {
            r.retry_after_ms.map(Duration::from_millis).unwrap_or(delay)
        }
        _ => delay,
    }
    .min(Duration::from_secs(30))
}
