//! Matching an order request against what the MIS has (R-A-2 … R-A-4): the contact by
//! e-mail and its company, a company by VAT number or name, the delivery address used
//! before with this integration, each line's product by product code or external id.
//! Every answer names its candidates, their scores and the fields that matched.

use serde::{Deserialize, Serialize};
use switchyard_matching::{company_key, name_similarity};
use switchyard_runtime::bindings::{Address, Customer, Entity, Order, OrderItem, PartyKind};
use switchyard_store::{
    CanonicalRecord, Connection, OrderRequest, RequestState, Store, StoreError,
};

use super::{Decisions, NEW};
use crate::match_keys::{address_key, normalise, EMAIL_BASE};

/// Candidates looked at per lookup; more than this is reported as "many".
const MAX_CANDIDATES: u32 = 20;

/// One record at the target that may be the one meant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Its id at the target (e.g. `contact-17`).
    pub external_id: String,
    /// 0–100: how well it matches.
    pub score: u8,
    /// Which fields matched (`email`, `vat`, `name`, `product-code`, `external-id`).
    pub matched_fields: Vec<String>,
    /// What it is, for a person: name, e-mail, company.
    pub summary: String,
}

/// How a part of the request was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Settled {
    /// Exactly one record matched.
    Matched,
    /// Several matched: a person must choose.
    Multiple,
    /// Nothing matched: it is created at conversion.
    New,
    /// A person chose it.
    Chosen,
    /// It comes with the chosen contact (a contact's company).
    FromContact,
    /// Used before with this integration (an address, a linked product).
    Remembered,
    /// Nothing matched and it cannot be created without a person (a product).
    Unmatched,
}

/// The contact (R-A-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactAnswer {
    pub settled: Settled,
    /// The contact at the target, when known.
    pub contact: Option<String>,
    /// The e-mail it was looked up by.
    pub email: Option<String>,
    pub candidates: Vec<Candidate>,
}

/// The company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyAnswer {
    pub settled: Settled,
    pub company: Option<String>,
    /// The name it is (or will be created) under.
    pub name: String,
    pub candidates: Vec<Candidate>,
}

/// The delivery address (R-A-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressAnswer {
    pub settled: Settled,
    pub address: Option<String>,
    /// The normalised key it was recognised by.
    pub key: String,
    /// As a person reads it.
    pub text: String,
}

/// One order line (R-A-4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineAnswer {
    /// 1-based, as people count.
    pub line: usize,
    pub name: String,
    pub product_code: Option<String>,
    pub sku: Option<String>,
    pub quantity: f64,
    pub settled: Settled,
    /// The product at the target, when linked; `None` with `New`: created at conversion.
    pub product: Option<String>,
    /// `product-code` or `external-id` when matched.
    pub matched_by: Option<String>,
    pub candidates: Vec<Candidate>,
}

/// Everything matching found for a request, and what still blocks conversion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub contact: ContactAnswer,
    pub company: CompanyAnswer,
    pub address: AddressAnswer,
    pub lines: Vec<LineAnswer>,
    /// Whether product matching was on for the target connection.
    pub product_matching: bool,
    /// What a person must still decide; empty = ready.
    pub missing: Vec<String>,
}

impl Evaluation {
    /// The state this answer puts a request in, and the reason.
    pub fn state(&self) -> (RequestState, Option<String>) {
        if self.missing.is_empty() {
            (RequestState::Ready, None)
        } else {
            (RequestState::NeedsAttention, Some(self.missing.join("; ")))
        }
    }
}

/// Matching against what one target connection holds (as last imported, plus what
/// conversions created): every lookup goes through the store's match-key index.
pub struct Matcher<'a> {
    pub store: &'a Store,
    pub target: &'a Connection,
}

/// A bound customer record: its id at the target and the canonical customer.
struct Party {
    external_id: String,
    customer: Customer,
}

fn customer_of(record: &CanonicalRecord) -> Option<Customer> {
    match serde_json::from_value::<Entity>(record.data.clone()) {
        Ok(Entity::Customer(c)) => Some(c),
        _ => None,
    }
}

fn person_summary(c: &Customer) -> String {
    let name = [c.first_name.as_deref(), c.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut s = format!("{name} <{}>", c.email.as_deref().unwrap_or("").trim());
    if let Some(company) = &c.company_name {
        s.push_str(&format!(" at {company}"));
    }
    if let Some(id) = &c.company_external_id {
        s.push_str(&format!(" ({id})"));
    }
    s
}

fn company_summary(c: &Customer) -> String {
    let mut s = c.company_name.clone().unwrap_or_default();
    if let Some(vat) = &c.vat_number {
        s.push_str(&format!(" (VAT {vat})"));
    }
    s
}

/// The address an order is delivered to: shipping, else billing.
pub(crate) fn delivery_address(order: &Order) -> Option<&Address> {
    order.shipping.as_ref().or(order.billing.as_ref())
}

fn address_text(a: &Address) -> String {
    [
        a.lines.join(", "),
        [a.postal_code.as_deref(), a.city.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        a.country.clone().unwrap_or_default(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

/// The name a company is created under: the buyer's company, else the person's name.
pub(crate) fn company_name_of(c: &Customer) -> String {
    c.company_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| {
            [c.first_name.as_deref(), c.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        })
}

/// The memory key of a line's product: what identifies it at the source.
pub(crate) fn line_key(item: &OrderItem) -> String {
    let code = item
        .product_code
        .as_deref()
        .or(item.sku.as_deref())
        .unwrap_or(&item.name);
    normalise("code", code)
}

/// The memory key of a contact chosen for an e-mail.
pub(crate) fn contact_memory_key(email: &str) -> String {
    normalise("email", email)
}

/// The memory key of an address under a company.
pub(crate) fn address_memory_key(company: &str, key: &str) -> String {
    format!("{company}|{key}")
}

/// Whether a connection setting holds `true` (`default` when unset).
pub(crate) fn flag(conn: &Connection, name: &str, default: bool) -> bool {
    conn.settings
        .get(name)
        .map(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "true" | "yes" | "1" | "on"
            )
        })
        .unwrap_or(default)
}

/// The setting that switches product matching off for a connection (R-A-4).
pub const PRODUCT_MATCHING: &str = "product-matching";
/// The setting that treats `ann+shop@x` as `ann@x`.
pub const MERGE_PLUS_ADDRESSING: &str = "merge-plus-addressing";

impl Matcher<'_> {
    async fn parties(&self, key_type: &str, value: &str) -> Result<Vec<Party>, StoreError> {
        if value.is_empty() {
            return Ok(Vec::new());
        }
        let found = self
            .store
            .find_bound_by_match_key(
                self.target.tenant,
                self.target.id,
                "customer",
                key_type,
                value,
                MAX_CANDIDATES,
            )
            .await?;
        Ok(found
            .into_iter()
            .filter_map(|(r, id)| {
                customer_of(&r).map(|customer| Party {
                    external_id: id,
                    customer,
                })
            })
            .collect())
    }

    /// Contacts (persons) with this e-mail.
    async fn contacts_by_email(&self, email: &str) -> Result<Vec<Candidate>, StoreError> {
        let key_type = if flag(self.target, MERGE_PLUS_ADDRESSING, false) {
            EMAIL_BASE
        } else {
            "email"
        };
        Ok(self
            .parties(key_type, &normalise(key_type, email))
            .await?
            .into_iter()
            .filter(|p| p.customer.kind == PartyKind::Person)
            .map(|p| Candidate {
                summary: person_summary(&p.customer),
                external_id: p.external_id,
                score: 100,
                matched_fields: vec!["email".into()],
            })
            .collect())
    }

    /// A bound contact by its id at the target, with its company.
    pub(crate) async fn contact(&self, id: &str) -> Result<Option<Customer>, StoreError> {
        self.bound_customer(id, PartyKind::Person).await
    }

    /// A bound company by its id at the target.
    pub(crate) async fn company(&self, id: &str) -> Result<Option<Customer>, StoreError> {
        self.bound_customer(id, PartyKind::Company).await
    }

    async fn bound_customer(
        &self,
        id: &str,
        kind: PartyKind,
    ) -> Result<Option<Customer>, StoreError> {
        let Some(b) = self.store.binding(self.target.id, "customer", id).await? else {
            return Ok(None);
        };
        Ok(self
            .store
            .canonical(&b.canonical_id)
            .await?
            .and_then(|r| customer_of(&r))
            .filter(|c| c.kind == kind && (kind == PartyKind::Person || c.addresses.is_empty())))
    }

    /// Companies by VAT number, else by normalised name; scored by name similarity.
    async fn companies(&self, c: &Customer) -> Result<Vec<Candidate>, StoreError> {
        let name = company_name_of(c);
        let is_company =
            |p: &Party| p.customer.kind == PartyKind::Company && p.customer.addresses.is_empty();
        let mut out: Vec<Candidate> = Vec::new();
        if let Some(vat) = c.vat_number.as_deref() {
            for p in self.parties("vat", &normalise("vat", vat)).await? {
                if is_company(&p) {
                    let mut fields = vec!["vat".to_string()];
                    let similar =
                        name_similarity(&name, p.customer.company_name.as_deref().unwrap_or(""));
                    if company_key(&name)
                        == company_key(p.customer.company_name.as_deref().unwrap_or(""))
                    {
                        fields.push("name".into());
                    }
                    out.push(Candidate {
                        summary: company_summary(&p.customer),
                        external_id: p.external_id,
                        score: 90u8.saturating_add(similar / 10).min(100),
                        matched_fields: fields,
                    });
                }
            }
        }
        if out.is_empty() && c.company_name.is_some() {
            for p in self
                .parties("company", &normalise("company", &name))
                .await?
            {
                if is_company(&p) {
                    out.push(Candidate {
                        summary: company_summary(&p.customer),
                        score: name_similarity(
                            &name,
                            p.customer.company_name.as_deref().unwrap_or(""),
                        )
                        .min(89),
                        external_id: p.external_id,
                        matched_fields: vec!["name".into()],
                    });
                }
            }
        }
        out.sort_by_key(|c| std::cmp::Reverse(c.score));
        Ok(out)
    }

    /// A known address of `company` with this key (imported from the target).
    async fn company_address(
        &self,
        company: &str,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        for p in self.parties("address", key).await? {
            if p.customer.external_id.as_deref() == Some(company) {
                if let Some(id) = p
                    .customer
                    .addresses
                    .first()
                    .and_then(|a| a.external_id.clone())
                {
                    return Ok(Some(id));
                }
            }
        }
        Ok(None)
    }

    /// Products by one key (`code` or `sku`).
    async fn products(
        &self,
        key_type: &str,
        value: &str,
        field: &str,
    ) -> Result<Vec<Candidate>, StoreError> {
        let value = normalise(key_type, value);
        if value.is_empty() {
            return Ok(Vec::new());
        }
        let found = self
            .store
            .find_bound_by_match_key(
                self.target.tenant,
                self.target.id,
                "product",
                key_type,
                &value,
                MAX_CANDIDATES,
            )
            .await?;
        Ok(found
            .into_iter()
            .map(|(r, id)| {
                let body = r.data.get("product");
                let pick = |k: &str| {
                    body.and_then(|b| b.get(k))
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_string()
                };
                Candidate {
                    external_id: id,
                    score: 100,
                    matched_fields: vec![field.to_string()],
                    summary: format!("{} {}", pick("code"), pick("name"))
                        .trim()
                        .to_string(),
                }
            })
            .collect())
    }

    /// Whether a product is bound at the target.
    pub(crate) async fn has_product(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .store
            .binding(self.target.id, "product", id)
            .await?
            .is_some())
    }

    /// Matches a request, applying what people decided.
    pub async fn evaluate(
        &self,
        request: &OrderRequest,
        order: &Order,
        decisions: &Decisions,
    ) -> Result<Evaluation, StoreError> {
        let mut missing = Vec::new();
        let customer = &order.customer;
        let email = customer
            .email
            .clone()
            .or_else(|| order.billing.as_ref().and_then(|b| b.email.clone()))
            .filter(|e| !e.trim().is_empty());

        // The contact, and the company that comes with it.
        let mut company_from_contact = None;
        let contact = match decisions.contact.as_deref() {
            Some(NEW) => ContactAnswer {
                settled: Settled::New,
                contact: None,
                email: email.clone(),
                candidates: Vec::new(),
            },
            Some(chosen) => {
                match self.contact(chosen).await? {
                    Some(c) => company_from_contact = c.company_external_id.clone(),
                    None => missing.push(format!(
                        "contact: {chosen} is not a contact at {}; choose another",
                        self.target.name
                    )),
                }
                ContactAnswer {
                    settled: Settled::Chosen,
                    contact: Some(chosen.to_string()),
                    email: email.clone(),
                    candidates: Vec::new(),
                }
            }
            None => {
                let candidates = match &email {
                    Some(e) => self.contacts_by_email(e).await?,
                    None => Vec::new(),
                };
                // Several match, and a person chose among them before for this integration.
                let remembered = match (&email, candidates.len()) {
                    (Some(e), 2..) => self
                        .store
                        .remembered_match(
                            self.target.id,
                            &request.source_name,
                            "contact",
                            &contact_memory_key(e),
                        )
                        .await?
                        .filter(|id| candidates.iter().any(|c| &c.external_id == id)),
                    _ => None,
                };
                match (candidates.len(), remembered) {
                    (_, Some(id)) => {
                        company_from_contact =
                            self.contact(&id).await?.and_then(|c| c.company_external_id);
                        ContactAnswer {
                            settled: Settled::Remembered,
                            contact: Some(id),
                            email: email.clone(),
                            candidates,
                        }
                    }
                    (0, None) => ContactAnswer {
                        settled: Settled::New,
                        contact: None,
                        email: email.clone(),
                        candidates,
                    },
                    (1, None) => {
                        let id = candidates[0].external_id.clone();
                        company_from_contact =
                            self.contact(&id).await?.and_then(|c| c.company_external_id);
                        ContactAnswer {
                            settled: Settled::Matched,
                            contact: Some(id),
                            email: email.clone(),
                            candidates,
                        }
                    }
                    (n, None) => {
                        missing.push(format!(
                            "contact: {n} contacts at {} have the e-mail {} ({}); choose one",
                            self.target.name,
                            email.as_deref().unwrap_or("").trim(),
                            candidates
                                .iter()
                                .map(|c| c.external_id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                        ContactAnswer {
                            settled: Settled::Multiple,
                            contact: None,
                            email: email.clone(),
                            candidates,
                        }
                    }
                }
            }
        };

        let name = company_name_of(customer);
        let company = if let Some(id) = company_from_contact.clone() {
            CompanyAnswer {
                settled: Settled::FromContact,
                company: Some(id),
                name: name.clone(),
                candidates: Vec::new(),
            }
        } else if contact.settled == Settled::Multiple {
            // The company comes with the contact a person chooses.
            CompanyAnswer {
                settled: Settled::FromContact,
                company: None,
                name: name.clone(),
                candidates: Vec::new(),
            }
        } else if contact.contact.is_some() {
            missing.push("company: the chosen contact has no company at the target".into());
            CompanyAnswer {
                settled: Settled::Unmatched,
                company: None,
                name: name.clone(),
                candidates: Vec::new(),
            }
        } else {
            match decisions.company.as_deref() {
                Some(NEW) => CompanyAnswer {
                    settled: Settled::New,
                    company: None,
                    name: name.clone(),
                    candidates: Vec::new(),
                },
                Some(chosen) => {
                    if self.company(chosen).await?.is_none() {
                        missing.push(format!(
                            "company: {chosen} is not a company at {}; choose another",
                            self.target.name
                        ));
                    }
                    CompanyAnswer {
                        settled: Settled::Chosen,
                        company: Some(chosen.to_string()),
                        name: name.clone(),
                        candidates: Vec::new(),
                    }
                }
                None => {
                    let candidates = self.companies(customer).await?;
                    match candidates.len() {
                        0 => CompanyAnswer {
                            settled: Settled::New,
                            company: None,
                            name: name.clone(),
                            candidates,
                        },
                        1 => CompanyAnswer {
                            settled: Settled::Matched,
                            company: Some(candidates[0].external_id.clone()),
                            name: name.clone(),
                            candidates,
                        },
                        n => {
                            missing.push(format!(
                                "company: {n} companies at {} match {name:?} ({}); choose one or `new`",
                                self.target.name,
                                candidates.iter().map(|c| format!("{} {}", c.external_id, c.summary)).collect::<Vec<_>>().join(", ")
                            ));
                            CompanyAnswer {
                                settled: Settled::Multiple,
                                company: None,
                                name: name.clone(),
                                candidates,
                            }
                        }
                    }
                }
            }
        };

        // The delivery address: used before with this integration, or known for the company.
        let address = match delivery_address(order) {
            None => {
                missing.push(
                    "address: the order has no delivery or billing address; edit the request"
                        .into(),
                );
                AddressAnswer {
                    settled: Settled::Unmatched,
                    address: None,
                    key: String::new(),
                    text: String::new(),
                }
            }
            Some(a) => {
                let key = address_key(a);
                let text = address_text(a);
                if !a.country.as_deref().is_some_and(|c| {
                    c.trim().len() == 2 && c.trim().chars().all(|ch| ch.is_ascii_alphabetic())
                }) {
                    missing.push(format!(
                        "address: country {:?} is not an ISO 3166 code; edit the request",
                        a.country.as_deref().unwrap_or("")
                    ));
                }
                let mut found = None;
                if let Some(company) = &company.company {
                    if let Some(id) = self
                        .store
                        .remembered_match(
                            self.target.id,
                            &request.source_name,
                            "address",
                            &address_memory_key(company, &key),
                        )
                        .await?
                    {
                        found = Some((Settled::Remembered, id));
                    } else if let Some(id) = self.company_address(company, &key).await? {
                        found = Some((Settled::Matched, id));
                    }
                }
                match found {
                    Some((settled, id)) => AddressAnswer {
                        settled,
                        address: Some(id),
                        key,
                        text,
                    },
                    None => AddressAnswer {
                        settled: Settled::New,
                        address: None,
                        key,
                        text,
                    },
                }
            }
        };

        // Lines: a person's link, then what was linked before for this integration, then
        // the product code, then the external id.
        let product_matching = flag(self.target, PRODUCT_MATCHING, true);
        let mut lines = Vec::with_capacity(order.items.len());
        if order.items.is_empty() {
            missing.push("lines: the order has no lines".into());
        }
        for (i, item) in order.items.iter().enumerate() {
            let line = i + 1;
            let mut answer = LineAnswer {
                line,
                name: item.name.clone(),
                product_code: item.product_code.clone(),
                sku: item.sku.clone(),
                quantity: item.quantity,
                settled: Settled::Unmatched,
                product: None,
                matched_by: None,
                candidates: Vec::new(),
            };
            if let Some(link) = decisions.lines.get(&line) {
                if link == NEW {
                    answer.settled = Settled::New;
                } else if self.has_product(link).await? {
                    answer.settled = Settled::Chosen;
                    answer.product = Some(link.clone());
                } else {
                    missing.push(format!(
                        "line {line}: product {link} is not at {}; link another",
                        self.target.name
                    ));
                }
                lines.push(answer);
                continue;
            }
            if let Some(id) = self
                .store
                .remembered_match(
                    self.target.id,
                    &request.source_name,
                    "product",
                    &line_key(item),
                )
                .await?
            {
                answer.settled = Settled::Remembered;
                answer.product = Some(id);
                lines.push(answer);
                continue;
            }
            if product_matching {
                let mut candidates = Vec::new();
                if let Some(code) = &item.product_code {
                    candidates = self.products("code", code, "product-code").await?;
                }
                if candidates.is_empty() {
                    if let Some(sku) = &item.sku {
                        candidates = self.products("sku", sku, "external-id").await?;
                    }
                }
                if candidates.len() == 1 {
                    answer.settled = Settled::Matched;
                    answer.product = Some(candidates[0].external_id.clone());
                    answer.matched_by = candidates[0].matched_fields.first().cloned();
                } else if candidates.len() > 1 {
                    answer.settled = Settled::Multiple;
                }
                answer.candidates = candidates;
            }
            if answer.product.is_none() {
                missing.push(format!(
                    "line {line} ({}{}): {}; link a product or `new`",
                    item.name,
                    item.product_code
                        .as_deref()
                        .or(item.sku.as_deref())
                        .map(|c| format!(", code {c}"))
                        .unwrap_or_default(),
                    if !product_matching {
                        "product matching is off for this connection".to_string()
                    } else if answer.candidates.len() > 1 {
                        format!("{} products match", answer.candidates.len())
                    } else {
                        format!(
                            "no product at {} has this product code or external id",
                            self.target.name
                        )
                    }
                ));
            }
            lines.push(answer);
        }
        Ok(Evaluation {
            contact,
            company,
            address,
            lines,
            product_matching,
            missing,
        })
    }
}
