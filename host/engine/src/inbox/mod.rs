//! Flow A (R-A-1 … R-A-5): orders become **order requests** in an inbox; matching presets
//! the contact, company, address and products it can; a person decides the rest; a
//! request is then **converted** into an order at the MIS, creating what is missing.
//!
//! Decisions are kept on the request (and, for products and addresses, remembered per
//! integration), so matching can be run again at any time without losing them.

mod convert;
mod evaluate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use switchyard_runtime::bindings::{Entity, Order};
use switchyard_store::{
    Connection, ConnectionId, FlowId, NewOrderRequest, OrderRequest, RequestChange, RequestSource,
    RequestState, TenantId,
};

pub use convert::Conversion;
pub use evaluate::{
    AddressAnswer, Candidate, CompanyAnswer, ContactAnswer, Evaluation, LineAnswer, Settled,
    MERGE_PLUS_ADDRESSING, PRODUCT_MATCHING,
};

use crate::error::EngineError;
use crate::Switchyard;
pub use evaluate::Matcher;
use evaluate::{contact_memory_key, line_key};

/// The decision "create it at conversion" (a contact, company or product).
pub const NEW: &str = "new";

/// What people decided for a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Decisions {
    /// The contact at the target, or `new`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The company at the target, or `new` (when the contact is new).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Per line (1-based): the product at the target, or `new`.
    pub lines: BTreeMap<usize, String>,
    /// Changes made before converting (R-A-5).
    pub edits: Edits,
}

/// Changes to a request before it is converted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Edits {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// Per line (1-based): the quantity.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub quantities: BTreeMap<usize, f64>,
    /// The delivery address's fields (`street`, `postcode`, `city`, `country`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub address: BTreeMap<String, String>,
}

impl Edits {
    /// Lays these edits over `other` (the newer value wins).
    fn merge(&mut self, other: Edits) {
        if other.notes.is_some() {
            self.notes = other.notes;
        }
        if other.email.is_some() {
            self.email = other.email;
        }
        if other.company_name.is_some() {
            self.company_name = other.company_name;
        }
        self.quantities.extend(other.quantities);
        self.address.extend(other.address);
    }

    /// The order with the edits applied.
    fn apply(&self, mut order: Order) -> Result<Order, EngineError> {
        if let Some(n) = &self.notes {
            let mut ext: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&order.extension).unwrap_or_default();
            ext.insert("notes".into(), serde_json::Value::String(n.clone()));
            order.extension = serde_json::Value::Object(ext).to_string();
        }
        if let Some(e) = &self.email {
            order.customer.email = Some(e.clone());
        }
        if let Some(c) = &self.company_name {
            order.customer.company_name = Some(c.clone());
        }
        for (line, q) in &self.quantities {
            let item = order
                .items
                .get_mut(line.wrapping_sub(1))
                .ok_or_else(|| EngineError::Inbox(format!("the order has no line {line}")))?;
            item.quantity = *q;
        }
        if !self.address.is_empty() {
            let a = order
                .shipping
                .as_mut()
                .or(order.billing.as_mut())
                .ok_or_else(|| EngineError::Inbox("the order has no address to edit".into()))?;
            for (field, value) in &self.address {
                match field.as_str() {
                    "street" => a.lines = vec![value.clone()],
                    "postcode" => a.postal_code = Some(value.clone()),
                    "city" => a.city = Some(value.clone()),
                    "country" => a.country = Some(value.clone()),
                    other => {
                        return Err(EngineError::Inbox(format!(
                            "unknown address field `{other}` (street, postcode, city, country)"
                        )))
                    }
                }
            }
        }
        Ok(order)
    }
}

/// What filling the inbox from a flow did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InboxSummary {
    pub flow: String,
    /// New requests.
    pub created: u64,
    /// Open requests whose order changed at the source.
    pub refreshed: u64,
    /// Requests matched again (open ones).
    pub evaluated: u64,
    pub ready: u64,
    pub needs_attention: u64,
}

/// Converting or converted: what it was planned on no longer changes.
fn is_settled(r: &OrderRequest) -> bool {
    matches!(r.state, RequestState::Converting | RequestState::Converted)
}

/// Refuses a decision on a request that is being converted or is converted.
fn ensure_open(r: &OrderRequest) -> Result<(), EngineError> {
    if is_settled(r) {
        return Err(EngineError::Inbox(format!(
            "order request {} is {}{}; it can no longer be changed",
            r.id,
            r.state.as_str(),
            r.external_id
                .as_deref()
                .map(|o| format!(" (order {o})"))
                .unwrap_or_default()
        )));
    }
    Ok(())
}

/// The matching answer stored on a request.
pub(crate) fn stored_evaluation(r: &OrderRequest) -> Result<Evaluation, EngineError> {
    serde_json::from_value(r.evaluation.clone()).map_err(|e| {
        EngineError::Inbox(format!(
            "the matching stored on order request {} is unreadable: {e}",
            r.id
        ))
    })
}

fn decisions_of(r: &OrderRequest) -> Result<Decisions, EngineError> {
    serde_json::from_value(r.decisions.clone()).map_err(|e| {
        EngineError::Inbox(format!(
            "decisions of order request {} are unreadable: {e}",
            r.id
        ))
    })
}

/// The order of a request, as it came in.
pub(crate) fn order_of_request(r: &OrderRequest) -> Result<Order, EngineError> {
    match serde_json::from_value::<Entity>(r.order.clone()) {
        Ok(Entity::Order(o)) => Ok(o),
        Ok(other) => Err(EngineError::Inbox(format!(
            "order request {} holds a {}, not an order",
            r.id,
            other.kind().as_str()
        ))),
        Err(e) => Err(EngineError::Inbox(format!(
            "order request {} holds no valid order: {e}",
            r.id
        ))),
    }
}

impl Switchyard {
    /// Matches a request again (with its decisions) and stores the answer and the state it
    /// leads to.
    pub async fn evaluate_request(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> Result<(OrderRequest, Evaluation), EngineError> {
        let request = self.store().order_request(tenant, id).await?;
        if is_settled(&request) {
            let evaluation = stored_evaluation(&request)?;
            return Ok((request, evaluation));
        }
        let target = self.store().connection(request.target).await?;
        let evaluation = self.evaluate_with(&request, &target).await?;
        Ok((self.store().order_request(tenant, id).await?, evaluation))
    }

    async fn evaluate_with(
        &self,
        request: &OrderRequest,
        target: &Connection,
    ) -> Result<Evaluation, EngineError> {
        let decisions = decisions_of(request)?;
        let order = decisions.edits.apply(order_of_request(request)?)?;
        let lookup = Matcher {
            store: self.store(),
            target,
        };
        let evaluation = lookup.evaluate(request, &order, &decisions).await?;
        let (state, reason) = evaluation.state();
        let json =
            serde_json::to_value(&evaluation).map_err(|e| EngineError::Canonical(e.to_string()))?;
        self.store()
            .set_order_request_evaluation(request.id, state, reason.as_deref(), &json)
            .await?;
        Ok(evaluation)
    }

    /// Puts an order into the inbox by hand or from an e-mail (R-A-1), matched at once.
    pub async fn add_request(
        &self,
        target: ConnectionId,
        source: RequestSource,
        order: &Order,
    ) -> Result<(OrderRequest, Evaluation), EngineError> {
        let conn = self.store().connection(target).await?;
        if order.number.trim().is_empty() {
            return Err(EngineError::Inbox(
                "the order has no number: give it one so it is not entered twice".into(),
            ));
        }
        let data = serde_json::to_value(Entity::Order(order.clone()))
            .map_err(|e| EngineError::Canonical(e.to_string()))?;
        let (request, change) = self
            .store()
            .upsert_order_request(NewOrderRequest {
                tenant: conn.tenant,
                target,
                source,
                source_name: source.as_str(),
                flow: None,
                canonical: None,
                reference: &order.number,
                order: &data,
            })
            .await?;
        if change == RequestChange::Unchanged && request.state == RequestState::Converted {
            return Err(EngineError::Inbox(format!(
                "order {} was entered before as request {} and is converted already",
                order.number, request.id
            )));
        }
        let evaluation = self.evaluate_with(&request, &conn).await?;
        Ok((
            self.store().order_request(conn.tenant, request.id).await?,
            evaluation,
        ))
    }

    /// Creates a request for every order the flow's source holds that has none, refreshes
    /// open ones whose order changed, and matches every open one again.
    pub async fn fill_inbox(&self, flow: FlowId) -> Result<InboxSummary, EngineError> {
        let (flow, settings, source, target) = self.open_flow(flow).await?;
        let mut summary = InboxSummary {
            flow: flow.name.clone(),
            ..Default::default()
        };
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store()
                .bound_records(source.id, "order", after.as_deref(), settings.page_size)
                .await?;
            let full = page.len() as u32 == settings.page_size;
            for (record, external_id) in page {
                after = Some(external_id.clone());
                let number = match serde_json::from_value::<Entity>(record.data.clone()) {
                    Ok(Entity::Order(o)) => o.number,
                    _ => continue,
                };
                let (request, change) = self
                    .store()
                    .upsert_order_request(NewOrderRequest {
                        tenant: flow.tenant,
                        target: target.id,
                        source: RequestSource::Integration,
                        source_name: &source.name,
                        flow: Some(flow.id),
                        canonical: Some(record.id),
                        reference: &number,
                        order: &record.data,
                    })
                    .await?;
                match change {
                    RequestChange::Created => summary.created += 1,
                    RequestChange::Refreshed => summary.refreshed += 1,
                    RequestChange::Unchanged => {}
                }
                if matches!(
                    request.state,
                    RequestState::Converting | RequestState::Converted
                ) {
                    continue;
                }
                let evaluation = self.evaluate_with(&request, &target).await?;
                summary.evaluated += 1;
                match evaluation.state().0 {
                    RequestState::Ready => summary.ready += 1,
                    _ => summary.needs_attention += 1,
                }
            }
            if !full {
                break;
            }
        }
        Ok(summary)
    }

    /// Chooses the contact (R-A-2) and/or the company of a request: an id at the target,
    /// or `new` to create it at conversion.
    pub async fn choose_for_request(
        &self,
        tenant: TenantId,
        id: i64,
        contact: Option<&str>,
        company: Option<&str>,
    ) -> Result<(OrderRequest, Evaluation), EngineError> {
        let request = self.store().order_request(tenant, id).await?;
        ensure_open(&request)?;
        let target = self.store().connection(request.target).await?;
        let lookup = Matcher {
            store: self.store(),
            target: &target,
        };
        let mut d = decisions_of(&request)?;
        if let Some(c) = contact {
            let c = c.trim();
            if c != NEW {
                if lookup.contact(c).await?.is_none() {
                    return Err(EngineError::Inbox(format!(
                        "{c} is not a contact at {} (as last imported)",
                        target.name
                    )));
                }
                // The next order of this integration from this e-mail does not ask again.
                let order = d.edits.apply(order_of_request(&request)?)?;
                if let Some(email) = order.customer.email.as_deref() {
                    self.store()
                        .remember_match(
                            tenant,
                            target.id,
                            &request.source_name,
                            "contact",
                            &contact_memory_key(email),
                            c,
                        )
                        .await?;
                }
            }
            d.contact = Some(c.to_string());
        }
        if let Some(c) = company {
            let c = c.trim();
            if c != NEW && lookup.company(c).await?.is_none() {
                return Err(EngineError::Inbox(format!(
                    "{c} is not a company at {} (as last imported)",
                    target.name
                )));
            }
            d.company = Some(c.to_string());
        }
        self.decide(tenant, &request, &target, &d).await
    }

    /// Links line `line` (1-based) of a request to a product at the target, or `new` to
    /// create it at conversion (R-A-4). A link is remembered for the integration: the same
    /// product code does not ask again.
    pub async fn link_request_line(
        &self,
        tenant: TenantId,
        id: i64,
        line: usize,
        product: &str,
    ) -> Result<(OrderRequest, Evaluation), EngineError> {
        let request = self.store().order_request(tenant, id).await?;
        ensure_open(&request)?;
        let target = self.store().connection(request.target).await?;
        let order = order_of_request(&request)?;
        let item = order.items.get(line.wrapping_sub(1)).ok_or_else(|| {
            EngineError::Inbox(format!(
                "order request {id} has no line {line} (it has {})",
                order.items.len()
            ))
        })?;
        let product = product.trim();
        let lookup = Matcher {
            store: self.store(),
            target: &target,
        };
        if product != NEW {
            if !lookup.has_product(product).await? {
                return Err(EngineError::Inbox(format!(
                    "{product} is not a product at {} (as last imported)",
                    target.name
                )));
            }
            self.store()
                .remember_match(
                    tenant,
                    target.id,
                    &request.source_name,
                    "product",
                    &line_key(item),
                    product,
                )
                .await?;
        }
        let mut d = decisions_of(&request)?;
        d.lines.insert(line, product.to_string());
        self.decide(tenant, &request, &target, &d).await
    }

    /// Edits a request before it is converted (R-A-5).
    pub async fn edit_request(
        &self,
        tenant: TenantId,
        id: i64,
        edits: Edits,
    ) -> Result<(OrderRequest, Evaluation), EngineError> {
        let request = self.store().order_request(tenant, id).await?;
        ensure_open(&request)?;
        let target = self.store().connection(request.target).await?;
        let mut d = decisions_of(&request)?;
        d.edits.merge(edits);
        // Refuse an edit that cannot apply before storing it.
        d.edits.apply(order_of_request(&request)?)?;
        self.decide(tenant, &request, &target, &d).await
    }

    async fn decide(
        &self,
        tenant: TenantId,
        request: &OrderRequest,
        target: &Connection,
        decisions: &Decisions,
    ) -> Result<(OrderRequest, Evaluation), EngineError> {
        let json =
            serde_json::to_value(decisions).map_err(|e| EngineError::Canonical(e.to_string()))?;
        self.store()
            .set_order_request_decisions(request.id, &json)
            .await?;
        let fresh = self.store().order_request(tenant, request.id).await?;
        let evaluation = self.evaluate_with(&fresh, target).await?;
        Ok((
            self.store().order_request(tenant, request.id).await?,
            evaluation,
        ))
    }
}
