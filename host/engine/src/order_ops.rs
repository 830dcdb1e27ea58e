//! Operations on one order across the flows it takes part in: "push again" (R-B-3) and
//! "why is it not pushed" (R-B-1, R-B-10: one answer per service).

use serde::Serialize;
use switchyard_store::{CanonicalRecord, Flow, PushItem, PushRecord, TenantId};

use crate::error::EngineError;
use switchyard_runtime::bindings::EntityKind;

use crate::push::{flow_lock, order_of, PushContext, PushOutcome, Subject};
use crate::push_rules::{self, Hold};
use crate::run_lock::HeldRunLock;
use crate::Switchyard;

/// One flow's view of an order.
#[derive(Debug, Clone, Serialize)]
pub struct OrderInFlow {
    /// The flow.
    pub flow: String,
    /// The target connection.
    pub service: String,
    /// The push record, if the flow has touched the order.
    pub push: Option<PushRecord>,
    /// Its item records.
    pub items: Vec<PushItem>,
    /// The push rules that do not hold now (empty: it may be pushed).
    pub holds: Vec<Hold>,
}

/// The result of "push again" in one flow.
#[derive(Debug, Clone, Serialize)]
pub struct PushAgain {
    /// The flow.
    pub flow: String,
    /// The target connection.
    pub service: String,
    /// What happened.
    pub outcome: PushOutcome,
    /// Rules that hold the order (then nothing was sent).
    pub holds: Vec<Hold>,
}

impl Switchyard {
    /// The flows of a tenant whose source has the order `order` (its external id at the
    /// source), optionally only those pushing to `service` (a connection name or provider).
    async fn flows_with_order(
        &self,
        tenant: TenantId,
        order: &str,
        service: Option<&str>,
    ) -> Result<Vec<(Flow, String, CanonicalRecord)>, EngineError> {
        let mut out = Vec::new();
        for flow in self.store().flows(tenant).await? {
            let target = self.store().connection(flow.target).await?;
            if service.is_some_and(|s| s != target.name && s != target.provider) {
                continue;
            }
            let Some(binding) = self.store().binding(flow.source, "order", order).await? else {
                continue;
            };
            let Some(record) = self.store().canonical(&binding.canonical_id).await? else {
                continue;
            };
            out.push((flow, target.name, record));
        }
        if out.is_empty() {
            return Err(EngineError::UnknownOrder {
                order: order.to_string(),
                service: service.map(str::to_string),
            });
        }
        Ok(out)
    }

    /// Where an order stands in every flow it takes part in, and which rules hold it.
    pub async fn why(
        &self,
        tenant: TenantId,
        order: &str,
        service: Option<&str>,
    ) -> Result<Vec<OrderInFlow>, EngineError> {
        let mut out = Vec::new();
        for (flow, service, record) in self.flows_with_order(tenant, order, service).await? {
            let holds = order_of(&record)
                .map(|o| push_rules::holds(&o))
                .map_err(EngineError::Canonical)?;
            out.push(OrderInFlow {
                push: self.store().push_record(flow.id, &record.id).await?,
                items: self.store().push_items(flow.id, &record.id).await?,
                flow: flow.name,
                service,
                holds,
            });
        }
        Ok(out)
    }

    /// Pushes one order again now, in every matching flow, even after it was given up; a
    /// record the target already has is not sent again (R-B-3).
    pub async fn push_again(
        &self,
        tenant: TenantId,
        order: &str,
        service: Option<&str>,
    ) -> Result<Vec<PushAgain>, EngineError> {
        let mut out = Vec::new();
        for (flow, service, record) in self.flows_with_order(tenant, order, service).await? {
            let (flow, settings, source, target) = self.open_flow(flow.id).await?;
            let canonical = order_of(&record).map_err(EngineError::Canonical)?;
            let holds = push_rules::holds(&canonical);
            if !holds.is_empty() {
                let reason = push_rules::reason(&holds);
                self.store()
                    .hold_push(flow.id, &record.id, &reason, None)
                    .await?;
                out.push(PushAgain {
                    flow: flow.name,
                    service,
                    outcome: PushOutcome::Failed {
                        error: format!("not pushed: {reason}"),
                        retryable: false,
                    },
                    holds,
                });
                continue;
            }
            let plugin = self.target_plugin(&target, &flow.target_stream)?;
            let lock =
                HeldRunLock::acquire(self.store(), source.id, &source.name, &flow_lock(&flow))
                    .await?;
            let result = async {
                let run = self
                    .store()
                    .start_run(source.id, &flow_lock(&flow), Some("push-again"))
                    .await?;
                let services = self.services_for(&target, &plugin, Some(run)).await?;
                let ctx = PushContext {
                    flow: flow.clone(),
                    kind: EntityKind::Order,
                    settings,
                    target: target.clone(),
                    plugin: plugin.clone(),
                    services: services.clone(),
                    run,
                };
                let mut job = plugin.start_job(services.clone()).await?;
                let outcome = self
                    .attempt_push(
                        &ctx,
                        &mut job,
                        &record,
                        &Subject::Order(Box::new(canonical)),
                        true,
                    )
                    .await;
                services.flush().await;
                let status = if outcome.is_ok() {
                    switchyard_store::RunStatus::Succeeded
                } else {
                    switchyard_store::RunStatus::Failed
                };
                self.store()
                    .finish_run(
                        run,
                        switchyard_store::RunOutcome {
                            status,
                            counts: Default::default(),
                            error: outcome.as_ref().err().map(|e| e.to_string()),
                        },
                    )
                    .await?;
                outcome
            }
            .await;
            let released = lock.release().await;
            let outcome = result?;
            released?;
            out.push(PushAgain {
                flow: flow.name,
                service,
                outcome,
                holds,
            });
        }
        Ok(out)
    }
}
