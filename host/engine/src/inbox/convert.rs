//! Converting an order request into an order at the MIS (R-A-5): the company, contact and
//! address when they are new, products a person asked to create, then the order.
//!
//! Every step is recorded as `sending` before the plugin is called and as `done` with the
//! target's id once answered. Running a conversion again — after a failure, a crash or
//! simply twice — skips what is done and asks the plugin to *find or create* a step that
//! may have reached the target, so nothing is created twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use switchyard_runtime::bindings::{
    Address, ConnectorError, Customer, Entity, Order, PartyKind, Product, PushMode, PushRequest,
};
use switchyard_runtime::{Job, LoadedPlugin, RuntimeError};
use switchyard_store::{
    Connection, ImportPage, ImportRecord, Level, OrderRequest, RequestState, RunCounts, RunOutcome,
    RunStatus, TenantId,
};

use super::evaluate::{
    address_memory_key, company_name_of, delivery_address, line_key, Evaluation, Settled,
};
use super::{decisions_of, order_of_request, stored_evaluation};
use crate::crash_point;
use crate::error::EngineError;
use crate::match_keys_of;
use crate::run_lock::HeldRunLock;
use crate::services::ConnectionServices;
use crate::Switchyard;

/// One conversion step as recorded on the request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Step {
    /// `sending` (may have reached the target) or `done`.
    state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    attempts: u32,
}

/// What a conversion did; also the CLI's `--json` answer.
#[derive(Debug, Clone, Serialize)]
pub struct Conversion {
    pub request: i64,
    /// The order at the target.
    pub order: String,
    /// True when the request was converted before: nothing was sent.
    pub already_converted: bool,
    /// What was created at the target in this run, by step (`company`, `contact`,
    /// `address`, `product-2`, `order`) and id; a step found at the target after an
    /// interrupted attempt is listed with `found`.
    pub created: Vec<(String, String)>,
    pub found: Vec<(String, String)>,
}

impl Conversion {
    /// The answer for a request converted earlier: nothing is sent.
    fn done_before(request: &OrderRequest) -> Conversion {
        Conversion {
            request: request.id,
            order: request.external_id.clone().unwrap_or_default(),
            already_converted: true,
            created: Vec::new(),
            found: Vec::new(),
        }
    }
}

struct Converting<'a> {
    request: &'a OrderRequest,
    target: &'a Connection,
    job: Job,
    plugin: Arc<LoadedPlugin>,
    services: Arc<ConnectionServices>,
    run: switchyard_store::RunId,
    progress: BTreeMap<String, Step>,
    conversion: Conversion,
}

fn entity_json(e: &Entity) -> Result<serde_json::Value, EngineError> {
    serde_json::to_value(e).map_err(|e| EngineError::Canonical(e.to_string()))
}

impl Switchyard {
    /// Converts a request (R-A-5). Safe to run twice and after a crash: nothing is created
    /// twice at the target.
    pub async fn convert_request(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> Result<Conversion, EngineError> {
        let request = self.store().order_request(tenant, id).await?;
        if request.state == RequestState::Converted {
            return Ok(Conversion::done_before(&request));
        }
        let target = self.store().connection(request.target).await?;
        let plugin = self.target_plugin(&target, "orders")?;
        let stream = format!("inbox:{id}");
        let lock = HeldRunLock::acquire(self.store(), target.id, &target.name, &stream).await?;
        let result = self
            .convert_locked(tenant, id, &target, &plugin, &stream)
            .await;
        let released = lock.release().await;
        let conversion = result?;
        released?;
        Ok(conversion)
    }

    async fn convert_locked(
        &self,
        tenant: TenantId,
        id: i64,
        target: &Connection,
        plugin: &Arc<LoadedPlugin>,
        stream: &str,
    ) -> Result<Conversion, EngineError> {
        // Read again under the lock: another process may have finished it meanwhile.
        let request = self.store().order_request(tenant, id).await?;
        if request.state == RequestState::Converted {
            return Ok(Conversion::done_before(&request));
        }
        let progress: BTreeMap<String, Step> =
            serde_json::from_value(request.progress.clone()).unwrap_or_default();
        // Once steps have been sent, the answer they were planned on stands (a contact
        // created by step one must not turn into a second candidate of its own e-mail).
        let evaluation: Evaluation = if progress.is_empty() {
            self.evaluate_with(&request, target).await?
        } else {
            stored_evaluation(&request)?
        };
        if !evaluation.missing.is_empty() {
            return Err(EngineError::Inbox(format!(
                "order request {id} is not ready: {}",
                evaluation.missing.join("; ")
            )));
        }
        self.store()
            .abandon_running_runs(
                target.id,
                stream,
                "abandoned: the host stopped during this conversion; its steps are looked up at the target before they are sent again",
            )
            .await?;
        let run = self
            .store()
            .start_run(target.id, stream, Some("convert"))
            .await?;
        let services = self.services_for(target, plugin, Some(run)).await?;
        let job = plugin.start_job(services.clone()).await?;
        let mut cx = Converting {
            request: &request,
            target,
            job,
            plugin: plugin.clone(),
            services: services.clone(),
            run,
            progress,
            conversion: Conversion {
                request: id,
                order: String::new(),
                already_converted: false,
                created: Vec::new(),
                found: Vec::new(),
            },
        };
        let result = self.convert_steps(&mut cx, &evaluation).await;
        let (status, error) = match &result {
            Ok(()) => (RunStatus::Succeeded, None),
            Err(e) => (RunStatus::Failed, Some(e.to_string())),
        };
        if let Err(e) = &result {
            self.store()
                .mark_order_request_failed(id, &e.to_string())
                .await?;
            services.note(
                Level::Error,
                "convert-failed",
                &format!("order request {id} ({}): {e}", request.reference),
                Some(serde_json::json!({ "request": id, "error": e.to_string() })),
            );
        }
        services.flush().await;
        self.store()
            .finish_run(
                run,
                RunOutcome {
                    status,
                    counts: RunCounts {
                        fetched: 1,
                        created: cx.conversion.created.len() as u64,
                        updated: 0,
                        unchanged: cx.conversion.found.len() as u64,
                        failed: u64::from(result.is_err()),
                    },
                    error,
                },
            )
            .await?;
        result.map(|()| cx.conversion)
    }

    async fn convert_steps(
        &self,
        cx: &mut Converting<'_>,
        evaluation: &Evaluation,
    ) -> Result<(), EngineError> {
        let request = cx.request;
        let decisions = decisions_of(request)?;
        let order = decisions.edits.apply(order_of_request(request)?)?;
        let customer = &order.customer;

        let company = match &evaluation.company.company {
            Some(c) => c.clone(),
            None => {
                let name = evaluation.company.name.clone();
                let mut company = Customer::blank(PartyKind::Company);
                company.company_name = Some(if name.trim().is_empty() {
                    company_name_of(customer)
                } else {
                    name
                });
                company.email = customer.email.clone();
                company.phone = customer.phone.clone();
                company.vat_number = customer.vat_number.clone();
                self.step(cx, "company", "companies", Entity::Customer(company))
                    .await?
            }
        };

        let contact = match &evaluation.contact.contact {
            Some(c) => c.clone(),
            None => {
                let mut contact = Customer::blank(PartyKind::Person);
                contact.company_name = Some(evaluation.company.name.clone());
                contact.first_name = customer.first_name.clone();
                // M-Power needs a last name; the e-mail's local part stands in.
                contact.last_name = customer.last_name.clone().or_else(|| {
                    customer
                        .email
                        .as_deref()
                        .and_then(|e| e.split('@').next())
                        .map(str::to_string)
                });
                contact.email = customer.email.clone();
                contact.phone = customer.phone.clone();
                contact.company_external_id = Some(company.clone());
                self.step(cx, "contact", "contacts", Entity::Customer(contact))
                    .await?
            }
        };

        let delivery = delivery_address(&order)
            .cloned()
            .ok_or_else(|| EngineError::Inbox("the order has no address".into()))?;
        let address = match (&evaluation.address.address, evaluation.address.settled) {
            (Some(a), _) => a.clone(),
            _ => {
                let mut holder = Customer::blank(PartyKind::Company);
                holder.external_id = Some(company.clone());
                holder.addresses = vec![Address {
                    external_id: None,
                    ..delivery.clone()
                }];
                self.step(cx, "address", "addresses", Entity::Customer(holder))
                    .await?
            }
        };
        // R-A-3: the next order of this integration to this address is recognised.
        self.store()
            .remember_match(
                request.tenant,
                cx.target.id,
                &request.source_name,
                "address",
                &address_memory_key(&company, &evaluation.address.key),
                &address,
            )
            .await?;

        let mut products = BTreeMap::new();
        for line in &evaluation.lines {
            let item = order.items.get(line.line - 1).ok_or_else(|| {
                EngineError::Inbox(format!(
                    "line {} of the matching is not in the order any more; match it again",
                    line.line
                ))
            })?;
            let product = match (&line.product, line.settled) {
                (Some(p), _) => p.clone(),
                (None, Settled::New) => {
                    let product = Product {
                        external_id: String::new(),
                        sku: item.sku.clone(),
                        code: item.product_code.clone().or_else(|| item.sku.clone()),
                        name: item.name.clone(),
                        names: Vec::new(),
                        short_description: None,
                        long_description: None,
                        price_excl_tax: Some(item.unit_price),
                        price_incl_tax: None,
                        currency: Some(order.currency.clone()),
                        ean: None,
                        quantity: None,
                        categories: Vec::new(),
                        variants: Vec::new(),
                        properties: Vec::new(),
                        active: true,
                        extension: "{}".into(),
                    };
                    let id = self
                        .step(
                            cx,
                            &format!("product-{}", line.line),
                            "products",
                            Entity::Product(product),
                        )
                        .await?;
                    self.store()
                        .remember_match(
                            request.tenant,
                            cx.target.id,
                            &request.source_name,
                            "product",
                            &line_key(item),
                            &id,
                        )
                        .await?;
                    id
                }
                (None, _) => {
                    return Err(EngineError::Inbox(format!(
                        "line {} has no product",
                        line.line
                    )))
                }
            };
            products.insert(line.line, product);
        }

        let mut outgoing: Order = order.clone();
        outgoing.customer.external_id = Some(contact);
        outgoing.customer.company_external_id = Some(company);
        let mut shipping = delivery;
        shipping.external_id = Some(address);
        outgoing.shipping = Some(shipping);
        outgoing.billing = None;
        for (i, item) in outgoing.items.iter_mut().enumerate() {
            item.product_external_id = products.get(&(i + 1)).cloned();
        }
        let order_id = self
            .step(cx, "order", "orders", Entity::Order(outgoing))
            .await?;
        self.store()
            .mark_order_request_converted(request.id, &order_id)
            .await?;
        cx.services.note(
            Level::Info,
            "converted",
            &format!(
                "order request {} ({} from {}) converted into order {order_id} at {}",
                request.id, request.reference, request.source_name, cx.target.name
            ),
            Some(serde_json::json!({ "request": request.id, "order": order_id })),
        );
        cx.conversion.order = order_id;
        Ok(())
    }

    /// Runs one step, or answers what an earlier run of it got.
    async fn step(
        &self,
        cx: &mut Converting<'_>,
        name: &str,
        stream: &str,
        entity: Entity,
    ) -> Result<String, EngineError> {
        let earlier = cx.progress.get(name).cloned();
        if let Some(Step {
            state,
            external_id: Some(id),
            ..
        }) = &earlier
        {
            if state == "done" {
                return Ok(id.clone());
            }
        }
        let attempts = earlier.as_ref().map_or(0, |s| s.attempts) + 1;
        // Any earlier attempt may have reached the target.
        let mode = if earlier.is_some() {
            PushMode::FindOrCreate
        } else {
            PushMode::Create
        };
        cx.progress.insert(
            name.to_string(),
            Step {
                state: "sending".into(),
                external_id: None,
                attempts,
            },
        );
        self.save_progress(cx).await?;
        crash_point::reached("before-send");
        let label = format!("order request {} {name}", cx.request.id);
        let payload = cx.job.map_out(stream, &entity).await.map_err(|e| {
            EngineError::Inbox(format!(
                "{label}: the plugin could not map it: {}",
                describe(&e)
            ))
        })?;
        cx.services.note(
            Level::Info,
            "push-payload",
            &format!(
                "{label} → {} ({})",
                cx.target.name,
                if mode == PushMode::Create { "create" } else { "find or create" }
            ),
            Some(serde_json::json!({ "request": cx.request.id, "step": name, "payload": payload.data })),
        );
        let req = PushRequest {
            stream: stream.to_string(),
            payload,
            idempotency_key: format!("{}:request-{}:{name}", cx.request.tenant, cx.request.id),
            external_id: None,
            mode,
        };
        let answer = cx.job.push(&req).await;
        crash_point::reached("after-send");
        let (id, created) = match answer {
            Ok(r) => (r.external_id, r.created),
            Err(RuntimeError::Connector(ConnectorError::AlreadyExists(a), _)) => {
                (a.external_id, false)
            }
            Err(e) => {
                let message = describe(&e);
                if let RuntimeError::Connector(..) = e {
                } else {
                    // The instance is poisoned (deadline, trap): a later step needs a new one.
                    cx.job = cx.plugin.start_job(cx.services.clone()).await?;
                }
                return Err(EngineError::Inbox(format!(
                    "{label} at {}: {message} (run the conversion again once the cause is fixed; \
                     what reached {} is looked up first)",
                    cx.target.name, cx.target.name
                )));
            }
        };
        // Known to matching before the step counts as done: a crash in between only
        // repeats this.
        self.learn(cx, &id, entity).await?;
        cx.progress.insert(
            name.to_string(),
            Step {
                state: "done".into(),
                external_id: Some(id.clone()),
                attempts,
            },
        );
        self.save_progress(cx).await?;
        crash_point::reached("after-record");
        cx.services.note(
            Level::Info,
            "pushed",
            &format!(
                "{label} {} as {id} at {}",
                if created { "created" } else { "found (an earlier attempt had created it)" },
                cx.target.name
            ),
            Some(serde_json::json!({ "request": cx.request.id, "step": name, "external_id": id, "created": created })),
        );
        if created {
            cx.conversion.created.push((name.to_string(), id.clone()));
        } else {
            cx.conversion.found.push((name.to_string(), id.clone()));
        }
        Ok(id)
    }

    async fn save_progress(&self, cx: &Converting<'_>) -> Result<(), EngineError> {
        let json = serde_json::to_value(&cx.progress)
            .map_err(|e| EngineError::Canonical(e.to_string()))?;
        self.store()
            .set_order_request_progress(cx.request.id, &json)
            .await?;
        Ok(())
    }

    /// Keeps what was created at the target in the store as if imported, so the next
    /// request matches it (the same e-mail finds this contact) before the next import.
    async fn learn(
        &self,
        cx: &Converting<'_>,
        id: &str,
        entity: Entity,
    ) -> Result<(), EngineError> {
        let (kind, entity) = match entity {
            Entity::Customer(mut c) => {
                if c.addresses.is_empty() {
                    c.external_id = Some(id.to_string());
                } else if let Some(a) = c.addresses.first_mut() {
                    a.external_id = Some(id.to_string());
                }
                ("customer", Entity::Customer(c))
            }
            Entity::Product(mut p) => {
                p.external_id = id.to_string();
                ("product", Entity::Product(p))
            }
            // The order is recorded on the request itself.
            _ => return Ok(()),
        };
        self.store()
            .apply_import_page(ImportPage {
                tenant: cx.request.tenant,
                connection: cx.target.id,
                stream: "inbox",
                run: Some(cx.run),
                records: vec![ImportRecord {
                    kind: kind.to_string(),
                    external_id: id.to_string(),
                    external_updated_at: None,
                    match_keys: match_keys_of(&entity),
                    data: entity_json(&entity)?,
                }],
                next_cursor: None,
            })
            .await?;
        Ok(())
    }
}

fn describe(e: &RuntimeError) -> String {
    match e {
        RuntimeError::Connector(c, _) => c.message(),
        other => other.to_string(),
    }
}
