//! Status synchronisation (R-B-5): poll the target for the records it has, keep each item's
//! status and shipment on its push record, and write them back to the source per item.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use switchyard_runtime::bindings::{
    ConnectorError, Direction, Entity, FetchRequest, Page, PushMode, PushRequest, StatusUpdate,
};
use switchyard_runtime::{Job, RuntimeError};
use switchyard_store::{CanonicalId, Level, PushItem, RunCounts, RunOutcome, RunStatus};

use crate::error::EngineError;
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
    /// Updates that could not be read or written back (logged).
    pub failed: u64,
}

/// Records asked about per fetch.
const POLL_BATCH: u32 = 50;

impl Switchyard {
    /// Polls the target for the status of every record it has from this flow and writes
    /// changes back to the source.
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
                .store()
                .start_run(source.id, &lock_stream, Some("status"))
                .await?;
            let target_services = self
                .services_for(&target, &target_plugin, Some(run))
                .await?;
            let mut target_job = target_plugin.start_job(target_services.clone()).await?;
            let mut source_side = match &write_back {
                Some((plugin, stream)) => {
                    let services = self.services_for(&source, plugin, Some(run)).await?;
                    let job = plugin.start_job(services.clone()).await?;
                    Some((job, services, stream.clone()))
                }
                None => None,
            };
            let mut summary = StatusSummary {
                flow: flow.name.clone(),
                run: run.to_string(),
                ..Default::default()
            };
            let mut after: Option<CanonicalId> = None;
            let result: Result<(), EngineError> = async {
                loop {
                    lock.ensure_held()?;
                    let pushed = self
                        .store()
                        .pushed_records(flow.id, after.as_ref(), POLL_BATCH)
                        .await?;
                    let Some(last) = pushed.last() else {
                        return Ok(());
                    };
                    after = Some(last.canonical_id);
                    let by_external: HashMap<String, CanonicalId> = pushed
                        .iter()
                        .filter_map(|p| p.external_id.clone().map(|e| (e, p.canonical_id)))
                        .collect();
                    summary.polled += by_external.len() as u64;
                    let req = FetchRequest {
                        stream: status_stream.clone(),
                        cursor: None,
                        page_size: POLL_BATCH * 10,
                        now: chrono::Utc::now()
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        external_ids: by_external.keys().cloned().collect(),
                    };
                    let page = fetch_status(&mut target_job, &target_services, &req).await?;
                    for raw in &page.records {
                        let update = match target_job.map_in(&status_stream, raw).await {
                            Ok(Entity::StatusUpdate(u)) => u,
                            Ok(other) => {
                                summary.failed += 1;
                                target_services.note(
                                    Level::Error,
                                    "dead-letter",
                                    &format!(
                                        "status record {} mapped to a {}, not a status update",
                                        raw.external_id,
                                        other.kind().as_str()
                                    ),
                                    Some(serde_json::json!({"raw": raw.data})),
                                );
                                continue;
                            }
                            Err(RuntimeError::Connector(e, _)) => {
                                summary.failed += 1;
                                target_services.note(
                                    Level::Error,
                                    "dead-letter",
                                    &format!(
                                        "status record {} could not be mapped: {}",
                                        raw.external_id,
                                        e.message()
                                    ),
                                    Some(serde_json::json!({"raw": raw.data})),
                                );
                                continue;
                            }
                            Err(e) => return Err(e.into()),
                        };
                        let Some(canonical_id) = by_external.get(&update.order_external_id) else {
                            continue;
                        };
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
                                flow.id,
                                canonical_id,
                                &item_id,
                                status_name(update.status),
                                update.status_text.as_deref(),
                                shipment.as_ref(),
                            )
                            .await?
                            .is_some()
                        {
                            summary.changed += 1;
                            target_services.note(
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
                        if let Some((job, services, stream)) = source_side.as_mut() {
                            match self
                                .write_back(
                                    job,
                                    services,
                                    stream,
                                    flow.id,
                                    canonical_id,
                                    &item_id,
                                    &update,
                                )
                                .await
                            {
                                Ok(true) => summary.written_back += 1,
                                Ok(false) => {}
                                Err(WriteBackError::Connector(message)) => {
                                    summary.failed += 1;
                                    services.note(
                                        Level::Error,
                                        "write-back-failed",
                                        &message,
                                        None,
                                    );
                                }
                                Err(WriteBackError::Engine(e)) => return Err(e),
                            }
                        }
                    }
                    if (pushed.len() as u32) < POLL_BATCH {
                        return Ok(());
                    }
                }
            }
            .await;
            target_services.flush().await;
            if let Some((_, services, _)) = &source_side {
                services.flush().await;
            }
            self.store()
                .finish_run(
                    run,
                    RunOutcome {
                        status: if result.is_ok() {
                            RunStatus::Succeeded
                        } else {
                            RunStatus::Failed
                        },
                        counts: RunCounts {
                            fetched: summary.polled,
                            created: 0,
                            updated: summary.changed,
                            unchanged: summary.polled.saturating_sub(summary.changed),
                            failed: summary.failed,
                        },
                        error: result.as_ref().err().map(|e| e.to_string()),
                    },
                )
                .await?;
            result.map(|()| summary)
        }
        .await;
        let released = lock.release().await;
        let summary = result?;
        released?;
        Ok(summary)
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
        job.push(&PushRequest {
            stream: stream.to_string(),
            payload,
            idempotency_key: format!(
                "switchyard-{flow}-{canonical_id}-{}-{digest}",
                item.source_item_id
            ),
            external_id: Some(item.source_item_id.clone()),
            mode: PushMode::Create,
        })
        .await
        .map_err(connector)?;
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
                let wait = match &e {
                    ConnectorError::RateLimited(r) => {
                        r.retry_after_ms.map(Duration::from_millis).unwrap_or(delay)
                    }
                    _ => delay,
                }
                .min(Duration::from_secs(30));
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
