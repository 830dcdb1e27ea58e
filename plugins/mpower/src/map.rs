//! M-Power JSON ↔ canonical entities, and the push payloads (pure code).
//!
//! Companies, contacts and addresses all become canonical `customer`s and share
//! one binding space, so their ids are namespaced: `company-{id}`,
//! `contact-{id}`, `address-{id}`. Products and orders use the plain M-Power id.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use switchyard_sdk::money;
use switchyard_sdk::prelude::*;

/// Prefix of company ids (`company-12`).
pub const COMPANY: &str = "company";
/// Prefix of contact ids (`contact-12`).
pub const CONTACT: &str = "contact";
/// Prefix of address ids (`address-12`).
pub const ADDRESS: &str = "address";

/// `{prefix}-{id}`.
pub fn ref_id(prefix: &str, id: u64) -> String {
    format!("{prefix}-{id}")
}

/// The M-Power id in `{prefix}-{id}`, `None` for anything else.
pub fn parse_ref(text: &str, prefix: &str) -> Option<u64> {
    let rest = text.trim().strip_prefix(prefix)?.strip_prefix('-')?;
    parse_id(rest)
}

/// A plain positive M-Power id (`"17"`).
pub fn parse_id(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<u64>().ok().filter(|n| *n > 0)
}

/// What `push` sends: the M-Power request body and what it needs besides it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushPayload {
    /// The JSON body of the `POST` (or `PATCH` for an update), exactly as sent.
    pub body: Value,
    /// `addresses`: the company the address is created under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<u64>,
    /// `orders`: the canonical item external id of each line, in line order
    /// (answered as `pushed-item.source-id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_ids: Vec<String>,
}

impl PushPayload {
    /// The payload as the host carries it.
    pub fn to_payload(&self) -> Payload {
        Payload {
            data: serde_json::to_string(self).expect("a payload serialises"),
        }
    }

    /// Reads a payload written by `map-out`.
    pub fn from_payload(p: &Payload) -> Result<PushPayload> {
        serde_json::from_str(&p.data).or_invalid("payload")
    }
}

fn parse(raw: &RawRecord) -> Result<Value> {
    let v: Value = serde_json::from_str(&raw.data).or_invalid("data")?;
    if !v.is_object() {
        return Err(ConnectorError::invalid_input(
            "the record is not a JSON object",
            "data",
        ));
    }
    Ok(v)
}

fn id_of(v: &Value, field: &str) -> Result<u64> {
    v.get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| ConnectorError::invalid_input(format!("missing or bad {field}"), field))
}

/// A text field; `None` when absent, null or blank. Kept as stored otherwise.
fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

fn extension(pairs: Vec<(&str, Value)>) -> String {
    let map: Map<String, Value> = pairs
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Value::Object(map).to_string()
}

/// An M-Power company → a company customer `company-{id}`.
pub fn company(raw: &RawRecord) -> Result<Customer> {
    let v = parse(raw)?;
    let id = id_of(&v, "id")?;
    Ok(Customer {
        external_id: Some(ref_id(COMPANY, id)),
        company_name: Some(text(&v, "name").or_invalid("name")?),
        vat_number: text(&v, "vat_number"),
        email: text(&v, "email"),
        phone: text(&v, "phone"),
        extension: extension(vec![
            ("legal_form", json!(text(&v, "legal_form"))),
            ("mpower_id", json!(id)),
        ]),
        ..Customer::blank(PartyKind::Company)
    })
}

/// An M-Power contact → a person customer `contact-{id}` of `company-{company_id}`,
/// with the company's name and VAT number from the read's `company`.
pub fn contact(raw: &RawRecord) -> Result<Customer> {
    let v = parse(raw)?;
    let id = id_of(&v, "id")?;
    let company_id = id_of(&v, "company_id")?;
    let company = v.get("company").cloned().unwrap_or(Value::Null);
    Ok(Customer {
        external_id: Some(ref_id(CONTACT, id)),
        first_name: text(&v, "first_name"),
        last_name: text(&v, "last_name"),
        // As stored: M-Power keeps case and stray spaces; matching is the host's job.
        email: v
            .get("email")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        phone: text(&v, "phone"),
        company_external_id: Some(ref_id(COMPANY, company_id)),
        company_name: text(&company, "name"),
        vat_number: text(&company, "vat_number"),
        extension: extension(vec![
            ("mpower_id", json!(id)),
            ("legal_form", json!(text(&company, "legal_form"))),
        ]),
        ..Customer::blank(PartyKind::Person)
    })
}

/// An M-Power address → the company customer `company-{company_id}` holding
/// this one address `address-{id}` (line `"{street} {house_number}"`; the
/// label, street and house number are kept in the address's extension).
pub fn address(raw: &RawRecord) -> Result<Customer> {
    let v = parse(raw)?;
    let id = id_of(&v, "id")?;
    let company_id = id_of(&v, "company_id")?;
    let street = text(&v, "street").unwrap_or_default();
    let number = text(&v, "house_number");
    let line = format!("{} {}", street, number.clone().unwrap_or_default())
        .trim()
        .to_string();
    let address = Address {
        external_id: Some(ref_id(ADDRESS, id)),
        first_name: None,
        last_name: None,
        company: None,
        lines: if line.is_empty() { vec![] } else { vec![line] },
        city: text(&v, "city"),
        postal_code: text(&v, "postcode"),
        region: None,
        country: text(&v, "country"),
        phone: None,
        email: None,
        extension: extension(vec![
            ("label", json!(text(&v, "label"))),
            ("street", json!(text(&v, "street"))),
            ("house_number", json!(number)),
            ("mpower_id", json!(id)),
        ]),
    };
    Ok(Customer {
        external_id: Some(ref_id(COMPANY, company_id)),
        addresses: vec![address],
        ..Customer::blank(PartyKind::Company)
    })
}

/// An M-Power product → a product `{id}`: code = `product_code`, SKU = the
/// M-Power `external_id` (the web store's SKU), price from the decimal string.
pub fn product(raw: &RawRecord) -> Result<Product> {
    let v = parse(raw)?;
    let id = id_of(&v, "id")?;
    let price = match v.get("price") {
        None | Some(Value::Null) => None,
        Some(p) => Some(money::json_to_minor(p, 2).map_err(|e| e.at("price"))?),
    };
    let ext = text(&v, "external_id");
    Ok(Product {
        external_id: id.to_string(),
        sku: ext.clone(),
        code: text(&v, "product_code"),
        name: text(&v, "name").or_invalid("name")?,
        names: vec![],
        short_description: None,
        long_description: None,
        price_excl_tax: price,
        price_incl_tax: None,
        currency: None,
        ean: None,
        quantity: None,
        categories: vec![],
        variants: vec![],
        properties: vec![],
        active: v.get("active").and_then(Value::as_bool).unwrap_or(true),
        extension: extension(vec![("mpower_external_id", json!(ext))]),
    })
}

/// The `updated_at` of an M-Power record, normalised to UTC, if it has one.
pub fn updated_at(v: &Value) -> Option<String> {
    v.get("updated_at")
        .and_then(Value::as_str)
        .and_then(|t| switchyard_sdk::time::Timestamp::parse(t).ok())
        .map(|t| t.to_string())
}

// ---- map-out ----

fn ext_map(extension: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(extension) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn ext_text(extension: &str, key: &str) -> Option<String> {
    ext_map(extension)
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

/// Builds a JSON object from the pairs whose value is not `None`.
fn object(pairs: Vec<(&str, Option<Value>)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect(),
    )
}

fn s(v: &Option<String>) -> Option<Value> {
    v.as_ref()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(|t| Value::String(t.to_string()))
}

/// A company customer → `POST /companies` {name, vat_number, legal_form, email, phone}.
pub fn company_payload(c: &Customer) -> Result<PushPayload> {
    let name = s(&c.company_name).ok_or_else(|| {
        ConnectorError::invalid_input("the company has no name", "customer.company-name")
    })?;
    Ok(PushPayload {
        body: object(vec![
            ("name", Some(name)),
            ("vat_number", s(&c.vat_number)),
            ("legal_form", s(&ext_text(&c.extension, "legal_form"))),
            ("email", s(&c.email)),
            ("phone", s(&c.phone)),
        ]),
        company_id: None,
        source_ids: vec![],
    })
}

fn required_ref(value: Option<&str>, prefix: &str, what: &str, field: &str) -> Result<u64> {
    value.and_then(|v| parse_ref(v, prefix)).ok_or_else(|| {
        ConnectorError::permanent(format!(
            "{what} has no M-Power {prefix} id (`{field}` must be `{prefix}-N`, found {})",
            value
                .map(|v| format!("`{v}`"))
                .unwrap_or_else(|| "none".into())
        ))
    })
}

/// A person customer → `POST /contacts` {company_id, first_name, last_name, email, phone};
/// `company_id` comes from `company-external-id` (`company-N`).
pub fn contact_payload(c: &Customer) -> Result<PushPayload> {
    let company_id = required_ref(
        c.company_external_id.as_deref(),
        COMPANY,
        "the contact",
        "company-external-id",
    )?;
    let last = s(&c.last_name).ok_or_else(|| {
        ConnectorError::invalid_input("the contact has no last name", "customer.last-name")
    })?;
    Ok(PushPayload {
        body: object(vec![
            ("company_id", Some(json!(company_id))),
            ("first_name", s(&c.first_name)),
            ("last_name", Some(last)),
            ("email", s(&c.email)),
            ("phone", s(&c.phone)),
        ]),
        company_id: Some(company_id),
        source_ids: vec![],
    })
}

/// Splits an address line into street and house number: a trailing token that
/// begins with a digit is the number (`"Main Street 12a"` → `("Main Street",
/// Some("12a"))`); otherwise the whole line is the street.
pub fn split_street(line: &str) -> (String, Option<String>) {
    let line = line.trim();
    if let Some((street, last)) = line.rsplit_once(char::is_whitespace) {
        let street = street.trim();
        if !street.is_empty() && last.starts_with(|c: char| c.is_ascii_digit()) {
            return (street.to_string(), Some(last.to_string()));
        }
    }
    (line.to_string(), None)
}

/// Street and house number compared case- and space-insensitively.
pub fn street_key(street: &str, number: Option<&str>) -> String {
    format!("{street} {}", number.unwrap_or(""))
        .split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A company customer holding one address → `POST /companies/{cid}/addresses`
/// {street, house_number, postcode, city, country, label}. The company is the
/// customer's `company-N` id (or its `company-external-id`).
pub fn address_payload(c: &Customer) -> Result<PushPayload> {
    let company = c
        .external_id
        .as_deref()
        .filter(|id| parse_ref(id, COMPANY).is_some())
        .or(c.company_external_id.as_deref());
    let company_id = required_ref(company, COMPANY, "the address", "external-id")?;
    let a = c.addresses.first().ok_or_else(|| {
        ConnectorError::invalid_input("the customer holds no address", "customer.addresses")
    })?;
    // Our own map-in keeps street and number apart; otherwise split the line.
    let (street, number) = match ext_text(&a.extension, "street") {
        Some(street) => (street, ext_text(&a.extension, "house_number")),
        None => {
            let line = a
                .lines
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            split_street(&line)
        }
    };
    if street.is_empty() {
        return Err(ConnectorError::invalid_input(
            "the address has no street",
            "addresses[0].lines",
        ));
    }
    let need = |v: &Option<String>, field: &str| {
        s(v).ok_or_else(|| {
            ConnectorError::invalid_input(format!("the address has no {field}"), field)
        })
    };
    Ok(PushPayload {
        body: object(vec![
            ("street", Some(Value::String(street))),
            ("house_number", s(&number)),
            (
                "postcode",
                Some(need(&a.postal_code, "addresses[0].postal-code")?),
            ),
            ("city", Some(need(&a.city, "addresses[0].city")?)),
            ("country", Some(need(&a.country, "addresses[0].country")?)),
            ("label", s(&ext_text(&a.extension, "label"))),
        ]),
        company_id: Some(company_id),
        source_ids: vec![],
    })
}

/// A product → `POST /products` {product_code (code, else SKU), external_id (SKU), name, price}.
pub fn product_payload(p: &Product) -> Result<PushPayload> {
    let code = s(&p.code).or_else(|| s(&p.sku)).ok_or_else(|| {
        ConnectorError::invalid_input(
            format!("product {} has neither a code nor a SKU", p.external_id),
            "product.code",
        )
    })?;
    let price = p.price_excl_tax.ok_or_else(|| {
        ConnectorError::invalid_input(
            format!("product {} has no price", p.external_id),
            "product.price-excl-tax",
        )
    })?;
    let name = if p.name.trim().is_empty() {
        return Err(ConnectorError::invalid_input(
            format!("product {} has no name", p.external_id),
            "product.name",
        ));
    } else {
        p.name.trim().to_string()
    };
    Ok(PushPayload {
        body: object(vec![
            ("product_code", Some(code)),
            ("external_id", s(&p.sku)),
            ("name", Some(Value::String(name))),
            ("price", Some(Value::String(money::format_minor(price, 2)))),
        ]),
        company_id: None,
        source_ids: vec![],
    })
}

/// An order → `POST /orders`: the company, contact and delivery address from
/// the customer's and shipping address's `company-N`/`contact-N`/`address-N`
/// ids, `external_reference` = the order number, one line per item with the
/// plain M-Power product id. A missing id is a permanent error naming it.
pub fn order_payload(o: &Order) -> Result<PushPayload> {
    let what = format!("order {}", o.number);
    let company_id = required_ref(
        o.customer.company_external_id.as_deref(),
        COMPANY,
        &what,
        "customer.company-external-id",
    )?;
    let contact_id = required_ref(
        o.customer.external_id.as_deref(),
        CONTACT,
        &what,
        "customer.external-id",
    )?;
    let address_id = required_ref(
        o.shipping.as_ref().and_then(|a| a.external_id.as_deref()),
        ADDRESS,
        &what,
        "shipping.external-id",
    )?;
    let invoice_address_id = o
        .billing
        .as_ref()
        .and_then(|a| a.external_id.as_deref())
        .and_then(|id| parse_ref(id, ADDRESS));
    if o.items.is_empty() {
        return Err(ConnectorError::permanent(format!("{what} has no lines")));
    }
    let mut lines = Vec::with_capacity(o.items.len());
    let mut source_ids = Vec::with_capacity(o.items.len());
    for (i, item) in o.items.iter().enumerate() {
        let n = i + 1;
        let product_id = item
            .product_external_id
            .as_deref()
            .and_then(parse_id)
            .ok_or_else(|| {
                ConnectorError::permanent(format!(
                    "{what} line {n} has no M-Power product id (items[{i}].product-external-id{})",
                    item.product_external_id
                        .as_deref()
                        .map(|p| format!(" is `{p}`"))
                        .unwrap_or_default()
                ))
            })?;
        let q = item.quantity;
        if !(q.is_finite() && q >= 1.0 && q.fract() == 0.0 && q <= f64::from(u32::MAX)) {
            return Err(ConnectorError::permanent(format!(
                "{what} line {n}: M-Power takes whole quantities of at least 1, not {q}"
            )));
        }
        lines.push(object(vec![
            ("product_id", Some(json!(product_id))),
            ("quantity", Some(json!(q as u64))),
            (
                "price",
                Some(Value::String(money::format_minor(item.unit_price, 2))),
            ),
            (
                "description",
                Some(Value::String(item.name.clone())).filter(|_| !item.name.trim().is_empty()),
            ),
        ]));
        source_ids.push(item.external_id.clone().unwrap_or_else(|| n.to_string()));
    }
    Ok(PushPayload {
        body: object(vec![
            ("company_id", Some(json!(company_id))),
            ("contact_id", Some(json!(contact_id))),
            ("address_id", Some(json!(address_id))),
            ("invoice_address_id", invoice_address_id.map(|a| json!(a))),
            ("external_reference", Some(Value::String(o.number.clone()))),
            ("notes", s(&ext_text(&o.extension, "notes"))),
            ("lines", Some(Value::Array(lines))),
        ]),
        company_id: Some(company_id),
        source_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(v: Value) -> RawRecord {
        RawRecord {
            external_id: "x".into(),
            updated_at: None,
            data: v.to_string(),
        }
    }

    #[test]
    fn ids_are_namespaced() {
        assert_eq!(ref_id(COMPANY, 3), "company-3");
        assert_eq!(parse_ref("company-3", COMPANY), Some(3));
        assert_eq!(parse_ref("contact-3", COMPANY), None);
        assert_eq!(parse_ref("company-", COMPANY), None);
        assert_eq!(parse_ref("company-x", COMPANY), None);
        assert_eq!(parse_id("17"), Some(17));
        assert_eq!(parse_id("0"), None);
        assert_eq!(parse_id("BC-STD"), None);
    }

    #[test]
    fn streets_split_on_a_trailing_number() {
        assert_eq!(
            split_street("Main Street 12a"),
            ("Main Street".into(), Some("12a".into()))
        );
        assert_eq!(split_street("1 Main St"), ("1 Main St".into(), None));
        assert_eq!(
            split_street("Keizersgracht"),
            ("Keizersgracht".into(), None)
        );
        assert_eq!(split_street("12"), ("12".into(), None));
        assert_eq!(
            street_key("Main  street", Some("1")),
            street_key("MAIN STREET 1", None)
        );
    }

    #[test]
    fn a_company_maps_in_and_back_out() {
        let c = company(&raw(
            json!({"id": 1, "name": "Acme B.V.", "vat_number": "NL123456789B01",
            "legal_form": "B.V.", "email": null, "phone": "+31 20 1234567",
            "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"}),
        ))
        .unwrap();
        assert_eq!(c.kind, PartyKind::Company);
        assert_eq!(c.external_id.as_deref(), Some("company-1"));
        assert_eq!(c.company_name.as_deref(), Some("Acme B.V."));
        assert_eq!(c.email, None);
        let ext: Value = serde_json::from_str(&c.extension).unwrap();
        assert_eq!(ext, json!({"legal_form": "B.V.", "mpower_id": 1}));
        let p = company_payload(&c).unwrap();
        assert_eq!(
            p.body,
            json!({"name": "Acme B.V.", "vat_number": "NL123456789B01", "legal_form": "B.V.",
                   "phone": "+31 20 1234567"})
        );
    }

    #[test]
    fn a_product_maps_price_to_cents() {
        let p = product(&raw(
            json!({"id": 5, "product_code": "BC-STD", "external_id": "PR-SKU-1",
            "name": "Business cards", "price": "12.50", "active": false}),
        ))
        .unwrap();
        assert_eq!(p.external_id, "5");
        assert_eq!(p.code.as_deref(), Some("BC-STD"));
        assert_eq!(p.sku.as_deref(), Some("PR-SKU-1"));
        assert_eq!(p.price_excl_tax, Some(1250));
        assert!(!p.active);
        let out = product_payload(&p).unwrap();
        assert_eq!(
            out.body,
            json!({"product_code": "BC-STD", "external_id": "PR-SKU-1", "name": "Business cards",
                   "price": "12.50"})
        );
    }
}
