//! `push` of every stream, by mode.
//!
//! - `create`: `POST`. Orders carry the host's idempotency key as
//!   `Idempotency-Key`, so M-Power replays the first answer to a repeat. A 409
//!   `duplicate_external_reference` (orders) or `duplicate_product_code` /
//!   `duplicate_external_id` (products) with `existing_id` is answered as the
//!   existing record (`created: false`).
//! - `find-or-create`: look the record up first (companies by VAT number, else
//!   name; contacts by e-mail within the company; addresses by postcode, then
//!   street and house number; products by product code, then external id;
//!   orders by external reference) and create only when none is found.
//! - `find`: only look up; none is `not-found`.
//! - With `external-id` set: an update, `PATCH /{collection}/{id}` (orders,
//!   whose lines cannot change, are answered as they are).

use serde_json::Value;
use switchyard_sdk::prelude::*;

use crate::api::{query, CallError, Client};
use crate::map::{self, PushPayload};
use crate::settings::{ADDRESSES, COMPANIES, CONTACTS, ORDERS, PRODUCTS};
use crate::Collection;

/// The 409 codes that mean "the record exists already, under `existing_id`".
const DUPLICATE_CODES: [&str; 3] = [
    "duplicate_external_reference",
    "duplicate_product_code",
    "duplicate_external_id",
];

fn id_of(v: &Value, what: &str) -> Result<u64> {
    v.get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| ConnectorError::transient(format!("M-Power answered {what} without an id")))
}

fn text<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body.get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// What a push answers for an M-Power record of `stream`.
fn result(
    stream: &str,
    collection: &Collection,
    record: &Value,
    payload: &PushPayload,
    created: bool,
) -> Result<PushResult> {
    let id = id_of(record, &format!("a {stream} record"))?;
    let status = record
        .get("status")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut items = Vec::new();
    if stream == ORDERS {
        if let Some(lines) = record.get("lines").and_then(Value::as_array) {
            for (i, line) in lines.iter().enumerate() {
                let line_no = line
                    .get("line_no")
                    .and_then(Value::as_u64)
                    .unwrap_or(i as u64 + 1);
                let source_id = payload
                    .source_ids
                    .get(line_no.saturating_sub(1) as usize)
                    .cloned()
                    .unwrap_or_else(|| line_no.to_string());
                items.push(PushedItem {
                    source_id,
                    external_id: line_no.to_string(),
                    status: status.clone(),
                });
            }
        }
    }
    Ok(PushResult {
        external_id: collection.external_id(id),
        status,
        created,
        items,
    })
}

/// `push` of any stream.
pub fn push(req: &PushRequest) -> Result<PushResult> {
    let stream = req.stream.as_str();
    let collection = Collection::of(stream)?;
    let payload = PushPayload::from_payload(&req.payload)?;
    let client = Client::from_config()?;
    if let Some(id) = req
        .external_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        return update(&client, stream, &collection, id, &payload);
    }
    match req.mode {
        PushMode::Create => create(&client, stream, &collection, &payload, req),
        PushMode::FindOrCreate => match find(&client, stream, &payload)? {
            Some(found) => {
                let r = result(stream, &collection, &found, &payload, false)?;
                switchyard_sdk::log::info!(
                    "M-Power {stream} record {} was found (an earlier attempt or an existing record); not created again",
                    r.external_id
                );
                Ok(r)
            }
            None => create(&client, stream, &collection, &payload, req),
        },
        PushMode::Find => match find(&client, stream, &payload)? {
            Some(found) => result(stream, &collection, &found, &payload, false),
            None => Err(ConnectorError::not_found(format!(
                "M-Power holds no {stream} record matching the pushed one"
            ))),
        },
    }
}

fn update(
    client: &Client,
    stream: &str,
    collection: &Collection,
    external_id: &str,
    payload: &PushPayload,
) -> Result<PushResult> {
    let n = collection.parse_id(external_id).ok_or_else(|| {
        ConnectorError::invalid_input(
            format!("`{external_id}` is not an id of the M-Power `{stream}` stream"),
            "external-id",
        )
    })?;
    let path = format!("{}/{n}", collection.path);
    if stream == ORDERS {
        // M-Power cannot change an order's company, contact or lines.
        return match client.get_opt(&path)? {
            Some(o) => result(stream, collection, &o, payload, false),
            None => Err(ConnectorError::not_found(format!(
                "M-Power has no order {n}"
            ))),
        };
    }
    let record = client.patch(&path, &payload.body)?;
    result(stream, collection, &record, payload, false)
}

fn create(
    client: &Client,
    stream: &str,
    collection: &Collection,
    payload: &PushPayload,
    req: &PushRequest,
) -> Result<PushResult> {
    let path = match stream {
        ADDRESSES => {
            let cid = payload.company_id.ok_or_else(|| {
                ConnectorError::invalid_input("the address payload has no company", "payload")
            })?;
            format!("/companies/{cid}/addresses")
        }
        _ => collection.path.to_string(),
    };
    let key = (stream == ORDERS && !req.idempotency_key.trim().is_empty())
        .then_some(req.idempotency_key.as_str());
    match client.post(&path, &payload.body, key) {
        Ok(record) => result(stream, collection, &record, payload, true),
        Err(CallError::Api {
            status: 409,
            error,
            mapped,
        }) if DUPLICATE_CODES.contains(&error.code.as_str()) && error.existing_id.is_some() => {
            let existing = error.existing_id.unwrap_or_default();
            switchyard_sdk::log::info!(
                "M-Power already holds {stream} record {existing} ({}); answering it",
                error.code
            );
            match client.get_opt(&format!("{}/{existing}", collection.path))? {
                Some(record) => result(stream, collection, &record, payload, false),
                // Gone between the answer and the read: say what M-Power said.
                None => Err(mapped),
            }
        }
        Err(e) => Err(e.into_error()),
    }
}

/// The first record of a filtered list, if any.
fn first(client: &Client, path: &str, params: &[(&str, String)]) -> Result<Option<Value>> {
    let page = client.list(&format!("{path}{}", query(params)))?;
    if page.total > 1 {
        switchyard_sdk::log::warn!(
            "M-Power holds {} records at {path} matching the pushed one; answering the first",
            page.total
        );
    }
    Ok(page.data.into_iter().next())
}

/// Looks the pushed record up (see the module docs).
pub fn find(client: &Client, stream: &str, payload: &PushPayload) -> Result<Option<Value>> {
    let body = &payload.body;
    match stream {
        COMPANIES => {
            if let Some(vat) = text(body, "vat_number") {
                first(client, "/companies", &[("vat_number", vat.into())])
            } else if let Some(name) = text(body, "name") {
                first(client, "/companies", &[("name", name.into())])
            } else {
                Ok(None)
            }
        }
        CONTACTS => {
            let company = body
                .get("company_id")
                .and_then(Value::as_u64)
                .or(payload.company_id)
                .ok_or_else(|| {
                    ConnectorError::invalid_input("the contact payload has no company", "payload")
                })?;
            if let Some(email) = text(body, "email") {
                return first(
                    client,
                    "/contacts",
                    &[("email", email.into()), ("company_id", company.to_string())],
                );
            }
            // No e-mail: the same first and last name within the company.
            let norm = |s: Option<&str>| s.unwrap_or("").trim().to_lowercase();
            let (fname, lname) = (
                norm(text(body, "first_name")),
                norm(text(body, "last_name")),
            );
            let page = client.list(&format!(
                "/contacts{}",
                query(&[
                    ("company_id", company.to_string()),
                    ("per_page", "200".into())
                ])
            ))?;
            Ok(page.data.into_iter().find(|c| {
                c.get("email").is_none_or(Value::is_null)
                    && norm(text(c, "first_name")) == fname
                    && norm(text(c, "last_name")) == lname
            }))
        }
        ADDRESSES => {
            let cid = payload.company_id.ok_or_else(|| {
                ConnectorError::invalid_input("the address payload has no company", "payload")
            })?;
            let Some(postcode) = text(body, "postcode") else {
                return Ok(None);
            };
            let wanted = map::street_key(
                text(body, "street").unwrap_or(""),
                text(body, "house_number"),
            );
            let page = client.list(&format!(
                "/companies/{cid}/addresses{}",
                query(&[("postcode", postcode.into()), ("per_page", "200".into())])
            ))?;
            Ok(page.data.into_iter().find(|a| {
                map::street_key(text(a, "street").unwrap_or(""), text(a, "house_number")) == wanted
            }))
        }
        PRODUCTS => {
            if let Some(code) = text(body, "product_code") {
                if let Some(p) = first(client, "/products", &[("product_code", code.into())])? {
                    return Ok(Some(p));
                }
            }
            match text(body, "external_id") {
                Some(ext) => first(client, "/products", &[("external_id", ext.into())]),
                None => Ok(None),
            }
        }
        ORDERS => match text(body, "external_reference") {
            Some(r) => first(client, "/orders", &[("external_reference", r.into())]),
            None => Ok(None),
        },
        other => Err(ConnectorError::not_found(format!(
            "the M-Power connector has no stream `{other}`"
        ))),
    }
}
