//! Records the M-Power simulator holds, and their JSON form (the contract in `README.md`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::clock::{format_millis, Millis};

/// A company (customer account).
#[derive(Clone, Debug)]
pub struct Company {
    pub id: u64,
    pub name: String,
    pub vat_number: Option<String>,
    pub legal_form: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created: Millis,
    pub updated: Millis,
}

/// A contact person; always belongs to one company.
#[derive(Clone, Debug)]
pub struct Contact {
    pub id: u64,
    pub company_id: u64,
    pub first_name: Option<String>,
    pub last_name: String,
    /// As entered: case and stray whitespace are kept.
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created: Millis,
    pub updated: Millis,
}

/// An address under a company.
#[derive(Clone, Debug)]
pub struct Address {
    pub id: u64,
    pub company_id: u64,
    pub label: Option<String>,
    pub street: String,
    pub house_number: Option<String>,
    pub postcode: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub created: Millis,
    pub updated: Millis,
}

/// A product of the MIS catalogue.
#[derive(Clone, Debug)]
pub struct Product {
    pub id: u64,
    pub product_code: String,
    pub external_id: Option<String>,
    pub name: String,
    pub price_cents: i64,
    pub active: bool,
    pub created: Millis,
    pub updated: Millis,
}

/// Order status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    InProduction,
    Completed,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 4] = [
        OrderStatus::Open,
        OrderStatus::InProduction,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::InProduction => "in_production",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|v| v.name() == s)
    }
}

/// One order line: unit price × quantity.
#[derive(Clone, Debug)]
pub struct OrderLine {
    pub product_id: u64,
    pub description: Option<String>,
    pub quantity: u32,
    pub price_cents: i64,
}

/// An order (job) in the MIS.
#[derive(Clone, Debug)]
pub struct Order {
    pub id: u64,
    pub company_id: u64,
    pub contact_id: u64,
    pub address_id: u64,
    pub invoice_address_id: Option<u64>,
    pub external_reference: Option<String>,
    pub notes: Option<String>,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub order_request_id: Option<u64>,
    pub created: Millis,
    pub updated: Millis,
}

impl Order {
    pub fn number(&self) -> String {
        format!("SO-{:06}", self.id)
    }

    pub fn total_cents(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| l.price_cents * i64::from(l.quantity))
            .sum()
    }
}

/// Where an order request came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Integration,
    Email,
    Manual,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Integration => "integration",
            Source::Email => "email",
            Source::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        [Source::Integration, Source::Email, Source::Manual]
            .into_iter()
            .find(|v| v.name() == s)
    }
}

/// Order request status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestStatus {
    Open,
    Converted,
}

impl RequestStatus {
    pub fn name(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Converted => "converted",
        }
    }
}

/// The customer as the source gave it.
#[derive(Clone, Debug, Default)]
pub struct RequestCustomer {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub vat_number: Option<String>,
}

/// The delivery address as the source gave it.
#[derive(Clone, Debug, Default)]
pub struct RequestAddress {
    pub street: String,
    pub house_number: Option<String>,
    pub postcode: String,
    pub city: String,
    pub country: String,
}

/// How a request line's product was linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchedBy {
    ProductCode,
    ExternalId,
    Manual,
}

impl MatchedBy {
    pub fn name(self) -> &'static str {
        match self {
            MatchedBy::ProductCode => "product_code",
            MatchedBy::ExternalId => "external_id",
            MatchedBy::Manual => "manual",
        }
    }
}

/// One line of an order request.
#[derive(Clone, Debug)]
pub struct RequestLine {
    pub product_code: Option<String>,
    pub external_id: Option<String>,
    pub description: Option<String>,
    pub quantity: u32,
    pub price_cents: i64,
    pub product_id: Option<u64>,
    pub matched_by: Option<MatchedBy>,
}

/// How the contact was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactMatch {
    /// Exactly one contact with the e-mail: preset with its company.
    Matched,
    /// Several contacts share the e-mail: one must be picked.
    Multiple,
    /// None: contact and company are created at conversion.
    None,
    /// Set by a client.
    Manual,
}

impl ContactMatch {
    pub fn name(self) -> &'static str {
        match self {
            ContactMatch::Matched => "matched",
            ContactMatch::Multiple => "multiple",
            ContactMatch::None => "none",
            ContactMatch::Manual => "manual",
        }
    }
}

/// An order request in the inbox (from an integration, an e-mail or manual entry).
#[derive(Clone, Debug)]
pub struct OrderRequest {
    pub id: u64,
    pub source: Source,
    pub integration: Option<String>,
    pub external_reference: Option<String>,
    pub product_matching: bool,
    pub customer: RequestCustomer,
    pub address: RequestAddress,
    pub lines: Vec<RequestLine>,
    pub notes: Option<String>,
    pub contact_match: ContactMatch,
    pub contact_candidates: Vec<u64>,
    pub contact_id: Option<u64>,
    pub company_id: Option<u64>,
    pub address_id: Option<u64>,
    pub address_recognised: bool,
    pub status: RequestStatus,
    pub order_id: Option<u64>,
    pub created: Millis,
    pub updated: Millis,
}

/// Cents as a decimal string, `1234` → `"12.34"`.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// A write the API accepted, as it was received (for the control API).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReceivedWrite {
    /// `POST` or `PATCH`.
    pub method: String,
    /// Resource kind: `companies`, `contacts`, `addresses`, `products`, `orders`,
    /// `order_requests`, `conversions`.
    pub resource: String,
    /// Id of the record created or changed.
    pub id: u64,
    /// The request path.
    pub path: String,
    /// The body as received (`null` when it was empty).
    pub body: Value,
    /// The `Idempotency-Key` header, if any.
    pub idempotency_key: Option<String>,
    /// When it was accepted (RFC 3339).
    pub at: String,
}

pub fn company_json(c: &Company) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "vat_number": c.vat_number,
        "legal_form": c.legal_form,
        "email": c.email,
        "phone": c.phone,
        "created_at": format_millis(c.created),
        "updated_at": format_millis(c.updated),
    })
}

pub fn company_ref_json(c: &Company) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "vat_number": c.vat_number,
        "legal_form": c.legal_form,
    })
}

pub fn contact_json(c: &Contact, company: Option<&Company>) -> Value {
    json!({
        "id": c.id,
        "company_id": c.company_id,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": c.email,
        "phone": c.phone,
        "company": company.map(company_ref_json),
        "created_at": format_millis(c.created),
        "updated_at": format_millis(c.updated),
    })
}

pub fn address_json(a: &Address) -> Value {
    json!({
        "id": a.id,
        "company_id": a.company_id,
        "label": a.label,
        "street": a.street,
        "house_number": a.house_number,
        "postcode": a.postcode,
        "city": a.city,
        "country": a.country,
        "created_at": format_millis(a.created),
        "updated_at": format_millis(a.updated),
    })
}

pub fn product_json(p: &Product) -> Value {
    json!({
        "id": p.id,
        "product_code": p.product_code,
        "external_id": p.external_id,
        "name": p.name,
        "price": money(p.price_cents),
        "active": p.active,
        "created_at": format_millis(p.created),
        "updated_at": format_millis(p.updated),
    })
}

pub fn order_json(o: &Order) -> Value {
    let lines: Vec<Value> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "line_no": i + 1,
                "product_id": l.product_id,
                "description": l.description,
                "quantity": l.quantity,
                "price": money(l.price_cents),
                "total": money(l.price_cents * i64::from(l.quantity)),
            })
        })
        .collect();
    json!({
        "id": o.id,
        "order_number": o.number(),
        "company_id": o.company_id,
        "contact_id": o.contact_id,
        "address_id": o.address_id,
        "invoice_address_id": o.invoice_address_id,
        "external_reference": o.external_reference,
        "notes": o.notes,
        "status": o.status.name(),
        "lines": lines,
        "total": money(o.total_cents()),
        "order_request_id": o.order_request_id,
        "created_at": format_millis(o.created),
        "updated_at": format_millis(o.updated),
    })
}

pub fn order_request_json(r: &OrderRequest) -> Value {
    let lines: Vec<Value> = r
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "line_no": i + 1,
                "product_code": l.product_code,
                "external_id": l.external_id,
                "description": l.description,
                "quantity": l.quantity,
                "price": money(l.price_cents),
                "product_id": l.product_id,
                "matched_by": l.matched_by.map(MatchedBy::name),
            })
        })
        .collect();
    let c = &r.customer;
    let a = &r.address;
    json!({
        "id": r.id,
        "source": r.source.name(),
        "integration": r.integration,
        "external_reference": r.external_reference,
        "product_matching": r.product_matching,
        "status": r.status.name(),
        "customer": {
            "email": c.email,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "phone": c.phone,
            "company_name": c.company_name,
            "vat_number": c.vat_number,
        },
        "address": {
            "street": a.street,
            "house_number": a.house_number,
            "postcode": a.postcode,
            "city": a.city,
            "country": a.country,
        },
        "lines": lines,
        "notes": r.notes,
        "contact_match": r.contact_match.name(),
        "contact_candidates": r.contact_candidates,
        "contact_id": r.contact_id,
        "company_id": r.company_id,
        "address_id": r.address_id,
        "address_recognised": r.address_recognised,
        "ready": r.missing().is_empty(),
        "missing": r.missing(),
        "order_id": r.order_id,
        "created_at": format_millis(r.created),
        "updated_at": format_millis(r.updated),
    })
}

impl OrderRequest {
    /// What blocks conversion, by field name (empty = ready).
    pub fn missing(&self) -> Vec<String> {
        let mut m = Vec::new();
        if self.contact_match == ContactMatch::Multiple && self.contact_id.is_none() {
            m.push("contact_id".to_owned());
        }
        for (i, l) in self.lines.iter().enumerate() {
            if l.product_id.is_none() {
                m.push(format!("lines[{i}].product_id"));
            }
        }
        m
    }
}

/// The ISO 3166-1 alpha-2 codes accepted as `country`.
pub const ISO_COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// `Some("NL")` for a known code in any case, else `None`.
pub fn iso_country(s: &str) -> Option<String> {
    let up = s.trim().to_ascii_uppercase();
    (up.len() == 2 && ISO_COUNTRIES.split(' ').any(|c| c == up)).then_some(up)
}
