//! The M-Power Aspire (print MIS) simulator. M-Power has no public API specification; the
//! simulator defines a small REST+JSON API of its own, documented in `README.md` beside this
//! file: companies, contacts, addresses, products, orders and the order-request inbox.

mod api;
pub mod generator;
pub mod model;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cli::{CommonArgs, Served};
use crate::clock::{next_change_stamp, Millis, DEFAULT_BASE_TIME};
use crate::core::{lock, RunningSim, SimCore, Simulator};
use crate::{FaultConfig, SimError};
use model::*;

/// The API key the simulator accepts by default (header `X-Api-Key`).
pub const DEFAULT_API_KEY: &str = "mpower-sim-key-0001";

/// How to start an M-Power simulator.
#[derive(Clone, Debug)]
pub struct MpowerConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of the data (and of fault decisions).
    pub seed: u64,
    /// Number of generated contacts (companies are a third of that, at least 5).
    pub contacts: usize,
    /// Number of generated products.
    pub products: usize,
    /// Number of generated orders.
    pub orders: usize,
    /// Number of generated open order requests in the inbox.
    pub order_requests: usize,
    /// Date of the first generated order.
    pub base_time: Millis,
    /// The accepted `X-Api-Key`.
    pub api_key: String,
    /// Faults from the start.
    pub faults: FaultConfig,
    /// M-Power specific faults from the start.
    pub mpower_faults: MpowerFaults,
}

impl Default for MpowerConfig {
    fn default() -> Self {
        MpowerConfig {
            port: 0,
            seed: 42,
            contacts: 10_000,
            products: 10_000,
            orders: 1000,
            order_requests: 25,
            base_time: DEFAULT_BASE_TIME,
            api_key: DEFAULT_API_KEY.to_owned(),
            faults: FaultConfig::default(),
            mpower_faults: MpowerFaults::default(),
        }
    }
}

/// Faults only M-Power has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MpowerFaults {
    /// The next N successful `POST` requests are carried out (the record is stored) and then
    /// answered `500`, as when a response is lost after the commit. A retry with the same
    /// `Idempotency-Key` gets the stored answer; without one it creates a duplicate.
    pub fail_after_commit_next: u32,
}

/// Counts of what the simulator holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MpowerCounts {
    /// Companies.
    pub companies: usize,
    /// Contacts.
    pub contacts: usize,
    /// Addresses.
    pub addresses: usize,
    /// Products.
    pub products: usize,
    /// Orders.
    pub orders: usize,
    /// Order requests (open and converted).
    pub order_requests: usize,
    /// Open order requests.
    pub open_order_requests: usize,
    /// Records created through the API, per resource.
    pub created_via_api: std::collections::BTreeMap<String, usize>,
    /// Answers replayed for a repeated `Idempotency-Key`.
    pub idempotent_replays: u64,
    /// Answers turned into 500 by `fail_after_commit_next`.
    pub failed_after_commit: u64,
}

/// An error answer: `{"error":{"status","code","message","field"?,"existing_id"?}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub existing_id: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            existing_id: None,
        }
    }

    /// 422 naming the field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.into()),
            ..ApiError::new(422, "validation_failed", message)
        }
    }

    /// 422: a required field is absent, null or empty.
    pub fn required(field: &str) -> ApiError {
        ApiError::invalid(field, format!("{field} is required"))
    }

    /// 404 for a path id.
    pub fn not_found(what: &str, id: u64) -> ApiError {
        ApiError::new(404, "not_found", format!("{what} {id} not found"))
    }

    /// 409 pointing at the record that already holds the unique value.
    pub fn conflict(code: &'static str, message: impl Into<String>, existing: u64) -> ApiError {
        ApiError {
            existing_id: Some(existing),
            ..ApiError::new(409, code, message)
        }
    }
}

/// E-mail as matched: trimmed, lower case.
pub fn norm_email(s: &str) -> String {
    s.trim().to_lowercase()
}

/// A name as compared by the inspection helpers: lower case, whitespace collapsed.
pub fn norm_name(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// VAT number as matched: letters and digits only, upper case (`NL 1234.56.789.B01` =
/// `NL123456789B01`).
pub fn norm_vat(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase()
}

/// A product code or external id as matched: trimmed, lower case.
pub fn norm_code(s: &str) -> String {
    s.trim().to_lowercase()
}

/// The key under which an address is recognised: case and runs of whitespace ignored, nothing
/// else ("Main St." is not "Main Street", "1012AB" is not "1012 AB").
pub fn address_key(
    street: &str,
    house_number: Option<&str>,
    postcode: &str,
    city: &str,
    country: &str,
) -> String {
    [street, house_number.unwrap_or(""), postcode, city, country]
        .iter()
        .map(|s| norm_name(s))
        .collect::<Vec<_>>()
        .join("|")
}

/// A stored first answer for an `Idempotency-Key`.
#[derive(Clone, Debug)]
pub(crate) struct StoredAnswer {
    /// Method, path and body of the first request.
    pub fingerprint: String,
    pub status: u16,
    pub body: Value,
    pub location: Option<String>,
}

pub(crate) struct MpowerData {
    pub seed: u64,
    pub companies: Vec<Company>,
    pub contacts: Vec<Contact>,
    pub addresses: Vec<Address>,
    pub products: Vec<Product>,
    pub orders: Vec<Order>,
    pub requests: Vec<OrderRequest>,
    /// Normalised e-mail → contact ids.
    pub email_index: HashMap<String, Vec<u64>>,
    /// Normalised product code → product id.
    pub code_index: HashMap<String, u64>,
    /// Normalised external id → product id.
    pub ext_index: HashMap<String, u64>,
    /// Order external reference (exact) → order id.
    pub order_refs: HashMap<String, u64>,
    /// (channel, external reference) → order request id; channel = integration name in lower
    /// case, or the source for e-mail and manual requests.
    pub request_refs: HashMap<(String, String), u64>,
    /// (integration in lower case, address key) → address ids used with that integration.
    pub known_addresses: HashMap<(String, String), Vec<u64>>,
    pub latest: Millis,
    pub idempotency: HashMap<String, StoredAnswer>,
    pub writes: Vec<ReceivedWrite>,
    pub replays: u64,
    pub failed_after_commit: u64,
}

/// Input for a new order request, already validated for shape.
pub(crate) struct NewRequest {
    pub source: Source,
    pub integration: Option<String>,
    pub external_reference: Option<String>,
    pub product_matching: bool,
    pub customer: RequestCustomer,
    pub address: RequestAddress,
    pub lines: Vec<RequestLine>,
    pub notes: Option<String>,
    pub contact_id: Option<u64>,
    pub company_id: Option<u64>,
    pub address_id: Option<u64>,
}

impl MpowerData {
    fn generate(cfg: &MpowerConfig, seed: u64) -> MpowerData {
        let n_contacts = cfg.contacts.max(3);
        let n_companies = (n_contacts / 3).max(5).min(n_contacts);
        let (companies, cseeds) = generator::companies(seed, n_companies, cfg.base_time);
        let contacts = generator::contacts(seed, n_contacts, &companies, &cseeds);
        let addresses = generator::addresses(seed, &companies, &cseeds);
        let products = generator::products(seed, cfg.products.max(1), cfg.base_time);
        let mut contacts_of: Vec<Vec<u64>> = vec![Vec::new(); companies.len()];
        for c in &contacts {
            contacts_of[(c.company_id - 1) as usize].push(c.id);
        }
        let mut addresses_of: Vec<Vec<u64>> = vec![Vec::new(); companies.len()];
        for a in &addresses {
            addresses_of[(a.company_id - 1) as usize].push(a.id);
        }
        // Orders go to companies that have a contact (a few near-duplicates have none).
        let eligible: Vec<usize> = (0..companies.len())
            .filter(|&i| !contacts_of[i].is_empty() && !addresses_of[i].is_empty())
            .collect();
        let mut data = MpowerData {
            seed,
            companies,
            contacts,
            addresses,
            products,
            orders: Vec::with_capacity(cfg.orders),
            requests: Vec::new(),
            email_index: HashMap::new(),
            code_index: HashMap::new(),
            ext_index: HashMap::new(),
            order_refs: HashMap::new(),
            request_refs: HashMap::new(),
            known_addresses: HashMap::new(),
            latest: cfg.base_time,
            idempotency: HashMap::new(),
            writes: Vec::new(),
            replays: 0,
            failed_after_commit: 0,
        };
        for c in &data.contacts {
            if let Some(e) = &c.email {
                data.email_index
                    .entry(norm_email(e))
                    .or_default()
                    .push(c.id);
            }
        }
        for p in &data.products {
            data.code_index.insert(norm_code(&p.product_code), p.id);
            if let Some(x) = &p.external_id {
                data.ext_index.insert(norm_code(x), p.id);
            }
        }
        let ctx = generator::OrderContext {
            seed,
            base_time: cfg.base_time,
            eligible: &eligible,
            contacts_of: &contacts_of,
            addresses_of: &addresses_of,
            products: &data.products,
        };
        let mut via_pressero = Vec::new();
        let orders: Vec<Order> = (0..cfg.orders as u64)
            .map(|i| {
                let (o, web) = generator::order(&ctx, i);
                if web {
                    via_pressero.push(o.address_id);
                }
                o
            })
            .collect();
        for o in &orders {
            if let Some(r) = &o.external_reference {
                data.order_refs.insert(r.clone(), o.id);
            }
            data.latest = data.latest.max(o.updated);
        }
        data.orders = orders;
        for address_id in via_pressero {
            data.remember_address("Pressero", address_id);
        }
        for c in &data.companies {
            data.latest = data.latest.max(c.updated);
        }
        for i in 0..cfg.order_requests as u64 {
            let created = data.latest + 1 + i as i64 * 60_000;
            let s = generator::request(
                seed,
                i,
                &data.contacts,
                &data.companies,
                &addresses_of,
                &data.addresses,
                &data.products,
                created,
            );
            let lines = s
                .lines
                .into_iter()
                .map(|(code, ext, desc, quantity, price)| RequestLine {
                    product_code: code,
                    external_id: ext,
                    description: desc,
                    quantity,
                    price_cents: price,
                    product_id: None,
                    matched_by: None,
                })
                .collect();
            let new = NewRequest {
                source: s.source,
                integration: s.integration,
                external_reference: s.external_reference,
                product_matching: true,
                customer: s.customer,
                address: s.address,
                lines,
                notes: None,
                contact_id: None,
                company_id: None,
                address_id: None,
            };
            if let Ok(id) = data.insert_request(new, s.created) {
                data.latest = data.latest.max(data.requests[(id - 1) as usize].updated);
            }
        }
        data
    }

    /// Hands out the stamp for a change made now.
    pub fn change_stamp(&mut self) -> Millis {
        self.latest = next_change_stamp(self.latest);
        self.latest
    }

    fn remember_address(&mut self, integration: &str, address_id: u64) {
        let Some(a) = self.address(address_id) else {
            return;
        };
        let key = address_key(
            &a.street,
            a.house_number.as_deref(),
            &a.postcode,
            &a.city,
            &a.country,
        );
        let ids = self
            .known_addresses
            .entry((integration.to_lowercase(), key))
            .or_default();
        if !ids.contains(&address_id) {
            ids.push(address_id);
        }
    }

    pub fn company(&self, id: u64) -> Option<&Company> {
        self.companies
            .get(usize::try_from(id.checked_sub(1)?).ok()?)
    }
    pub fn company_mut(&mut self, id: u64) -> Option<&mut Company> {
        self.companies
            .get_mut(usize::try_from(id.checked_sub(1)?).ok()?)
    }
    pub fn contact(&self, id: u64) -> Option<&Contact> {
        self.contacts.get(usize::try_from(id.checked_sub(1)?).ok()?)
    }
    pub fn contact_mut(&mut self, id: u64) -> Option<&mut Contact> {
        self.contacts
            .get_mut(usize::try_from(id.checked_sub(1)?).ok()?)
    }
    pub fn address(&self, id: u64) -> Option<&Address> {
        self.addresses
            .get(usize::try_from(id.checked_sub(1)?).ok()?)
    }
    pub fn address_mut(&mut self, id: u64) -> Option<&mut Address> {
        self.addresses
            .get_mut(usize::try_from(id.checked_sub(1)?).ok()?)
    }
    pub fn product(&self, id: u64) -> Option<&Product> {
        self.products.get(usize::try_from(id.checked_sub(1)?).ok()?)
    }
    pub fn product_mut(&mut self, id: u64) -> Option<&mut Product> {
        self.products
            .get_mut(usize::try_from(id.checked_sub(1)?).ok()?)
    }
    pub fn order(&self, id: u64) -> Option<&Order> {
        self.orders.get(usize::try_from(id.checked_sub(1)?).ok()?)
    }
    pub fn order_mut(&mut self, id: u64) -> Option<&mut Order> {
        self.orders
            .get_mut(usize::try_from(id.checked_sub(1)?).ok()?)
    }
    pub fn request(&self, id: u64) -> Option<&OrderRequest> {
        self.requests.get(usize::try_from(id.checked_sub(1)?).ok()?)
    }
    pub fn request_mut(&mut self, id: u64) -> Option<&mut OrderRequest> {
        self.requests
            .get_mut(usize::try_from(id.checked_sub(1)?).ok()?)
    }

    pub fn contact_view(&self, c: &Contact) -> Value {
        contact_json(c, self.company(c.company_id))
    }

    pub fn insert_company(&mut self, mut c: Company) -> u64 {
        let stamp = self.change_stamp();
        c.id = self.companies.len() as u64 + 1;
        c.created = stamp;
        c.updated = stamp;
        self.companies.push(c);
        self.companies.len() as u64
    }

    pub fn insert_contact(&mut self, mut c: Contact) -> u64 {
        let stamp = self.change_stamp();
        c.id = self.contacts.len() as u64 + 1;
        c.created = stamp;
        c.updated = stamp;
        if let Some(e) = &c.email {
            self.email_index
                .entry(norm_email(e))
                .or_default()
                .push(c.id);
        }
        self.contacts.push(c);
        self.contacts.len() as u64
    }

    /// Changes a contact's e-mail and keeps the index in step.
    pub fn set_contact_email(&mut self, id: u64, email: Option<String>) {
        let Some(c) = self.contact_mut(id) else {
            return;
        };
        let old = std::mem::replace(&mut c.email, email.clone());
        if let Some(o) = old {
            if let Some(ids) = self.email_index.get_mut(&norm_email(&o)) {
                ids.retain(|&x| x != id);
            }
        }
        if let Some(e) = email {
            self.email_index.entry(norm_email(&e)).or_default().push(id);
        }
    }

    pub fn insert_address(&mut self, mut a: Address) -> u64 {
        let stamp = self.change_stamp();
        a.id = self.addresses.len() as u64 + 1;
        a.created = stamp;
        a.updated = stamp;
        self.addresses.push(a);
        self.addresses.len() as u64
    }

    /// Product codes and external ids are unique (case-insensitive): the id holding `code`.
    pub fn product_with_code(&self, code: &str) -> Option<u64> {
        self.code_index.get(&norm_code(code)).copied()
    }

    pub fn product_with_external_id(&self, ext: &str) -> Option<u64> {
        self.ext_index.get(&norm_code(ext)).copied()
    }

    pub fn insert_product(&mut self, mut p: Product) -> u64 {
        let stamp = self.change_stamp();
        p.id = self.products.len() as u64 + 1;
        p.created = stamp;
        p.updated = stamp;
        self.code_index.insert(norm_code(&p.product_code), p.id);
        if let Some(x) = &p.external_id {
            self.ext_index.insert(norm_code(x), p.id);
        }
        self.products.push(p);
        self.products.len() as u64
    }

    /// Changes a product's code / external id and keeps the indexes in step.
    pub fn set_product_keys(&mut self, id: u64, code: Option<String>, ext: Option<Option<String>>) {
        let Some(p) = self.product_mut(id) else {
            return;
        };
        let (old_code, old_ext) = (p.product_code.clone(), p.external_id.clone());
        if let Some(c) = &code {
            p.product_code = c.clone();
        }
        if let Some(x) = &ext {
            p.external_id = x.clone();
        }
        if let Some(c) = code {
            self.code_index.remove(&norm_code(&old_code));
            self.code_index.insert(norm_code(&c), id);
        }
        if let Some(x) = ext {
            if let Some(o) = old_ext {
                self.ext_index.remove(&norm_code(&o));
            }
            if let Some(x) = x {
                self.ext_index.insert(norm_code(&x), id);
            }
        }
    }

    pub fn insert_order(&mut self, mut o: Order) -> u64 {
        let stamp = self.change_stamp();
        o.id = self.orders.len() as u64 + 1;
        o.created = stamp;
        o.updated = stamp;
        if let Some(r) = &o.external_reference {
            self.order_refs.insert(r.clone(), o.id);
        }
        self.orders.push(o);
        self.orders.len() as u64
    }

    /// The channel a request's external reference is unique in.
    pub fn channel(source: Source, integration: Option<&str>) -> String {
        match (source, integration) {
            (Source::Integration, Some(i)) => i.to_lowercase(),
            (s, _) => s.name().to_owned(),
        }
    }

    /// Stores a new order request and runs M-Power's import matching on it.
    pub fn insert_request(&mut self, new: NewRequest, created: Millis) -> Result<u64, ApiError> {
        let channel = Self::channel(new.source, new.integration.as_deref());
        if let Some(r) = &new.external_reference {
            if let Some(&existing) = self.request_refs.get(&(channel.clone(), r.clone())) {
                return Err(ApiError::conflict(
                    "duplicate_external_reference",
                    format!(
                        "an order request with external_reference {r} already exists for {channel}"
                    ),
                    existing,
                ));
            }
        }
        let id = self.requests.len() as u64 + 1;
        let mut r = OrderRequest {
            id,
            source: new.source,
            integration: new.integration,
            external_reference: new.external_reference,
            product_matching: new.product_matching,
            customer: new.customer,
            address: new.address,
            lines: new.lines,
            notes: new.notes,
            contact_match: ContactMatch::None,
            contact_candidates: Vec::new(),
            contact_id: new.contact_id,
            company_id: new.company_id,
            address_id: new.address_id,
            address_recognised: false,
            status: RequestStatus::Open,
            order_id: None,
            created,
            updated: created,
        };
        self.match_request(&mut r);
        if let Some(x) = &r.external_reference {
            self.request_refs.insert((channel, x.clone()), id);
        }
        self.requests.push(r);
        Ok(id)
    }

    /// M-Power's import matching: contact by e-mail (with its company), address used before
    /// with this integration, products by product code or external id.
    fn match_request(&self, r: &mut OrderRequest) {
        if let Some(cid) = r.contact_id {
            r.contact_match = ContactMatch::Manual;
            if r.company_id.is_none() {
                r.company_id = self.contact(cid).map(|c| c.company_id);
            }
        } else if let Some(email) = r.customer.email.as_deref().filter(|e| !e.trim().is_empty()) {
            let ids = self
                .email_index
                .get(&norm_email(email))
                .cloned()
                .unwrap_or_default();
            r.contact_candidates = ids.clone();
            match ids.as_slice() {
                [] => r.contact_match = ContactMatch::None,
                [one] => {
                    r.contact_match = ContactMatch::Matched;
                    r.contact_id = Some(*one);
                    if r.company_id.is_none() {
                        r.company_id = self.contact(*one).map(|c| c.company_id);
                    }
                }
                _ => r.contact_match = ContactMatch::Multiple,
            }
        }
        self.recognise_address(r);
        for l in &mut r.lines {
            if l.product_id.is_some() {
                l.matched_by = Some(MatchedBy::Manual);
                continue;
            }
            if !r.product_matching {
                continue;
            }
            if let Some(id) = l
                .product_code
                .as_deref()
                .and_then(|c| self.product_with_code(c))
            {
                l.product_id = Some(id);
                l.matched_by = Some(MatchedBy::ProductCode);
            } else if let Some(id) = l
                .external_id
                .as_deref()
                .and_then(|x| self.product_with_external_id(x))
            {
                l.product_id = Some(id);
                l.matched_by = Some(MatchedBy::ExternalId);
            }
        }
    }

    /// Presets the address when this integration used it before for the selected company.
    pub fn recognise_address(&self, r: &mut OrderRequest) {
        if r.address_id.is_some() {
            return;
        }
        r.address_recognised = false;
        let (Some(integration), Some(company)) = (r.integration.as_deref(), r.company_id) else {
            return;
        };
        let a = &r.address;
        let key = address_key(
            &a.street,
            a.house_number.as_deref(),
            &a.postcode,
            &a.city,
            &a.country,
        );
        if let Some(ids) = self.known_addresses.get(&(integration.to_lowercase(), key)) {
            if let Some(&id) = ids
                .iter()
                .find(|&&id| self.address(id).is_some_and(|a| a.company_id == company))
            {
                r.address_id = Some(id);
                r.address_recognised = true;
            }
        }
    }

    /// Converts an open request into an order: creates the company, contact and address when
    /// missing, then the order. Answers the order id.
    pub fn convert(&mut self, id: u64) -> Result<u64, ApiError> {
        let r = self
            .request(id)
            .ok_or_else(|| ApiError::not_found("order request", id))?
            .clone();
        if let Some(order) = r.order_id {
            return Err(ApiError::conflict(
                "already_converted",
                format!("order request {id} was already converted into order {order}"),
                order,
            ));
        }
        let missing = r.missing();
        if let Some(first) = missing.first() {
            return Err(ApiError::invalid(
                first.clone(),
                format!(
                    "order request is not ready to convert; missing: {}",
                    missing.join(", ")
                ),
            ));
        }
        if let Some(x) = &r.external_reference {
            if let Some(&existing) = self.order_refs.get(x) {
                return Err(ApiError::conflict(
                    "duplicate_external_reference",
                    format!("an order with external_reference {x} already exists"),
                    existing,
                ));
            }
        }
        if let (Some(cid), Some(co)) = (r.contact_id, r.company_id) {
            if self.contact(cid).is_some_and(|c| c.company_id != co) {
                return Err(ApiError::invalid(
                    "company_id",
                    format!("contact {cid} does not belong to company {co}"),
                ));
            }
        }
        let c = &r.customer;
        let company_id = match r.company_id {
            Some(x) => x,
            None => {
                let person = [c.first_name.as_deref(), c.last_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                let name = c
                    .company_name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .or_else(|| (!person.is_empty()).then_some(person))
                    .or_else(|| c.email.as_deref().map(|e| e.trim().to_owned()))
                    .unwrap_or_else(|| format!("Order request {id}"));
                self.insert_company(Company {
                    id: 0,
                    name,
                    vat_number: c.vat_number.clone(),
                    legal_form: None,
                    email: None,
                    phone: c.phone.clone(),
                    created: 0,
                    updated: 0,
                })
            }
        };
        let contact_id = match r.contact_id {
            Some(x) => x,
            None => {
                let last = c
                    .last_name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .or_else(|| {
                        c.email
                            .as_deref()
                            .and_then(|e| e.trim().split('@').next().map(str::to_owned))
                    })
                    .unwrap_or_else(|| "Unknown".to_owned());
                self.insert_contact(Contact {
                    id: 0,
                    company_id,
                    first_name: c.first_name.clone(),
                    last_name: last,
                    email: c.email.as_deref().map(|e| e.trim().to_owned()),
                    phone: c.phone.clone(),
                    created: 0,
                    updated: 0,
                })
            }
        };
        let address_id = match r.address_id {
            Some(x) => x,
            None => {
                let a = &r.address;
                self.insert_address(Address {
                    id: 0,
                    company_id,
                    label: None,
                    street: a.street.clone(),
                    house_number: a.house_number.clone(),
                    postcode: a.postcode.clone(),
                    city: a.city.clone(),
                    country: a.country.clone(),
                    created: 0,
                    updated: 0,
                })
            }
        };
        if let Some(i) = &r.integration {
            self.remember_address(i, address_id);
        }
        let lines = r
            .lines
            .iter()
            .map(|l| OrderLine {
                product_id: l.product_id.unwrap_or_default(),
                description: l.description.clone(),
                quantity: l.quantity,
                price_cents: l.price_cents,
            })
            .collect();
        let order_id = self.insert_order(Order {
            id: 0,
            company_id,
            contact_id,
            address_id,
            invoice_address_id: None,
            external_reference: r.external_reference.clone(),
            notes: r.notes.clone(),
            status: OrderStatus::Open,
            lines,
            order_request_id: Some(id),
            created: 0,
            updated: 0,
        });
        let stamp = self.change_stamp();
        if let Some(req) = self.request_mut(id) {
            req.status = RequestStatus::Converted;
            req.order_id = Some(order_id);
            req.company_id = Some(company_id);
            req.contact_id = Some(contact_id);
            req.address_id = Some(address_id);
            req.updated = stamp;
        }
        Ok(order_id)
    }

    fn counts(&self) -> MpowerCounts {
        let mut created_via_api = std::collections::BTreeMap::new();
        for w in self.writes.iter().filter(|w| w.method == "POST") {
            *created_via_api.entry(w.resource.clone()).or_insert(0) += 1;
        }
        MpowerCounts {
            companies: self.companies.len(),
            contacts: self.contacts.len(),
            addresses: self.addresses.len(),
            products: self.products.len(),
            orders: self.orders.len(),
            order_requests: self.requests.len(),
            open_order_requests: self
                .requests
                .iter()
                .filter(|r| r.status == RequestStatus::Open)
                .count(),
            created_via_api,
            idempotent_replays: self.replays,
            failed_after_commit: self.failed_after_commit,
        }
    }
}

/// The M-Power simulator's state handle (what [`RunningSim`] dereferences to).
pub struct MpowerSim {
    config: MpowerConfig,
    core: SimCore,
    data: RwLock<MpowerData>,
    mpower_faults: Mutex<MpowerFaults>,
}

impl Simulator for MpowerSim {
    const BASE_PATH: &'static str = "/api/v1/";
    fn core(&self) -> &SimCore {
        &self.core
    }
}

/// Starts an M-Power simulator on 127.0.0.1 (`cfg.port`, 0 = ephemeral).
pub async fn spawn_mpower(cfg: MpowerConfig) -> Result<RunningSim<MpowerSim>, SimError> {
    let port = cfg.port;
    let sim = Arc::new(MpowerSim::new(cfg)?);
    let router = api::router(sim.clone());
    RunningSim::serve(sim, port, router).await
}

/// `switchyard-sim` flags of the M-Power simulator.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "M-Power Aspire (REST + JSON under /api/v1/)")]
pub struct MpowerArgs {
    /// Serve M-Power on this port (0 = ephemeral).
    #[arg(long)]
    pub mpower_port: Option<u16>,
    /// Accepted `X-Api-Key`.
    #[arg(long)]
    pub mpower_api_key: Option<String>,
    /// Number of open order requests in the inbox.
    #[arg(long, default_value_t = 25)]
    pub mpower_order_requests: usize,
}

impl MpowerArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.mpower_port
    }
}

/// Serves M-Power as the binary's flags say: `--customers` contacts (default 10,000),
/// `--products` products (default 10,000), `--orders` orders.
pub async fn serve_cli(
    args: &MpowerArgs,
    port: u16,
    common: &CommonArgs,
    faults: FaultConfig,
) -> Result<Served, SimError> {
    let cfg = MpowerConfig {
        port,
        seed: common.seed,
        contacts: common.customers.unwrap_or(10_000),
        products: common.products.unwrap_or(10_000),
        orders: common.orders,
        order_requests: args.mpower_order_requests,
        base_time: common.base_millis()?,
        api_key: args
            .mpower_api_key
            .clone()
            .unwrap_or_else(|| DEFAULT_API_KEY.to_owned()),
        faults,
        ..MpowerConfig::default()
    };
    Ok(Served::new("mpower", spawn_mpower(cfg).await?))
}

impl MpowerSim {
    /// Builds the state (generating the data) without serving it.
    pub fn new(cfg: MpowerConfig) -> Result<MpowerSim, SimError> {
        cfg.faults.validate()?;
        if cfg.api_key.trim().is_empty() {
            return Err(SimError::InvalidConfig(
                "the API key must not be empty".into(),
            ));
        }
        let data = MpowerData::generate(&cfg, cfg.seed);
        Ok(MpowerSim {
            core: SimCore::new(cfg.seed, cfg.faults.clone()),
            data: RwLock::new(data),
            mpower_faults: Mutex::new(cfg.mpower_faults.clone()),
            config: cfg,
        })
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, MpowerData> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, MpowerData> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The accepted `X-Api-Key`.
    pub fn api_key(&self) -> &str {
        &self.config.api_key
    }

    /// The configuration the simulator started with.
    pub fn config(&self) -> &MpowerConfig {
        &self.config
    }

    /// The seed of the current data.
    pub fn seed(&self) -> u64 {
        self.read().seed
    }

    /// Counts of what the simulator holds.
    pub fn counts(&self) -> MpowerCounts {
        self.read().counts()
    }

    /// Every write the API accepted (creates and updates), as received, oldest first.
    pub fn writes(&self) -> Vec<ReceivedWrite> {
        self.read().writes.clone()
    }

    /// Records created through the API (`POST`s that answered 201), as received; `resource`
    /// filters by kind (`companies`, `contacts`, `addresses`, `products`, `orders`,
    /// `order_requests`, `conversions`).
    pub fn created(&self, resource: Option<&str>) -> Vec<ReceivedWrite> {
        self.read()
            .writes
            .iter()
            .filter(|w| w.method == "POST" && resource.is_none_or(|r| w.resource == r))
            .cloned()
            .collect()
    }

    /// Contacts whose e-mail equals `email` trimmed and case-insensitively (as read by the API).
    pub fn contacts_with_email(&self, email: &str) -> Vec<Value> {
        let d = self.read();
        d.email_index
            .get(&norm_email(email))
            .into_iter()
            .flatten()
            .filter_map(|&id| d.contact(id).map(|c| d.contact_view(c)))
            .collect()
    }

    /// Companies whose name equals `name` ignoring case and runs of whitespace.
    pub fn companies_named(&self, name: &str) -> Vec<Value> {
        let wanted = norm_name(name);
        let d = self.read();
        d.companies
            .iter()
            .filter(|c| norm_name(&c.name) == wanted)
            .map(company_json)
            .collect()
    }

    /// Groups of contacts that share an e-mail (trimmed, case-insensitive): ids per e-mail.
    pub fn duplicate_contacts(&self) -> Vec<(String, Vec<u64>)> {
        let d = self.read();
        let mut out: Vec<(String, Vec<u64>)> = d
            .email_index
            .iter()
            .filter(|(_, ids)| ids.len() > 1)
            .map(|(e, ids)| (e.clone(), ids.clone()))
            .collect();
        out.sort();
        out
    }

    /// A company as the API answers it.
    pub fn company_json(&self, id: u64) -> Option<Value> {
        self.read().company(id).map(company_json)
    }

    /// A contact as the API answers it (with its company).
    pub fn contact_json(&self, id: u64) -> Option<Value> {
        let d = self.read();
        d.contact(id).map(|c| d.contact_view(c))
    }

    /// An address as the API answers it.
    pub fn address_json(&self, id: u64) -> Option<Value> {
        self.read().address(id).map(address_json)
    }

    /// A product as the API answers it.
    pub fn product_json(&self, id: u64) -> Option<Value> {
        self.read().product(id).map(product_json)
    }

    /// An order as the API answers it.
    pub fn order_json(&self, id: u64) -> Option<Value> {
        self.read().order(id).map(order_json)
    }

    /// The order with this external reference, as the API answers it.
    pub fn order_by_external_reference(&self, reference: &str) -> Option<Value> {
        let d = self.read();
        let id = *d.order_refs.get(reference)?;
        d.order(id).map(order_json)
    }

    /// An order request as the API answers it.
    pub fn order_request_json(&self, id: u64) -> Option<Value> {
        self.read().request(id).map(order_request_json)
    }

    /// Writes every record as JSON lines (`{"kind":…,"record":…}`): for comparing data sets.
    pub fn write_all_json(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        let d = self.read();
        let mut line = |kind: &str, v: Value| -> std::io::Result<()> {
            serde_json::to_writer(&mut out, &serde_json::json!({ "kind": kind, "record": v }))?;
            out.write_all(b"\n")
        };
        for c in &d.companies {
            line("company", company_json(c))?;
        }
        for c in &d.contacts {
            line("contact", d.contact_view(c))?;
        }
        for a in &d.addresses {
            line("address", address_json(a))?;
        }
        for p in &d.products {
            line("product", product_json(p))?;
        }
        for o in &d.orders {
            line("order", order_json(o))?;
        }
        for r in &d.requests {
            line("order_request", order_request_json(r))?;
        }
        Ok(())
    }

    /// Requests seen for an endpoint key, e.g. `POST /api/v1/orders`.
    pub fn request_count(&self, endpoint: &str) -> u64 {
        self.core.request_count(endpoint)
    }

    /// Faults injected so far.
    pub fn fault_stats(&self) -> crate::FaultStats {
        self.core.fault_stats()
    }

    /// Replaces the fault configuration.
    pub fn set_faults(&self, faults: FaultConfig) -> Result<(), SimError> {
        self.core.set_faults(faults)
    }

    /// The M-Power specific faults.
    pub fn mpower_faults(&self) -> MpowerFaults {
        lock(&self.mpower_faults).clone()
    }

    /// Replaces the M-Power specific faults.
    pub fn set_mpower_faults(&self, faults: MpowerFaults) {
        *lock(&self.mpower_faults) = faults;
    }

    /// Consumes one `fail_after_commit_next`, if any is left.
    pub(crate) fn take_fail_after_commit(&self) -> bool {
        let mut f = lock(&self.mpower_faults);
        if f.fail_after_commit_next > 0 {
            f.fail_after_commit_next -= 1;
            true
        } else {
            false
        }
    }

    /// Regenerates the data (with `seed`, or the configured one); forgets idempotency keys,
    /// received writes, counters and faults.
    pub fn reset(&self, seed: Option<u64>) {
        let seed = seed.unwrap_or(self.config.seed);
        *self.write() = MpowerData::generate(&self.config, seed);
        *lock(&self.mpower_faults) = MpowerFaults::default();
        self.core.reset();
    }
}
