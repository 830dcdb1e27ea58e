//! The M-Power Aspire connector: REST + JSON under `…/api/v1`, authenticated
//! with an `X-Api-Key` header (the `api-key` secret, filled in by the host).
//!
//! - `companies`, `contacts`, `addresses` (both, canonical `customer`): ids are
//!   namespaced `company-{id}`, `contact-{id}`, `address-{id}` because all three
//!   share the customer binding space.
//! - `products` (both, `product`): id = the M-Power product id.
//! - `orders` (target, `order`): `POST /orders` with an `Idempotency-Key`; a
//!   retry after an ambiguous failure finds the order by `external_reference`.
//!
//! See `README.md` beside this crate.

pub mod api;
pub mod map;
pub mod push;
pub mod settings;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_sdk::prelude::*;
use switchyard_sdk::time::Timestamp;

use crate::api::{Client, MAX_PER_PAGE};
use crate::map::{PushPayload, ADDRESS, COMPANY, CONTACT};
use crate::settings::{ADDRESSES, COMPANIES, CONTACTS, ORDERS, PRODUCTS};

/// The M-Power connector.
pub struct Mpower;

/// The `per_page` used when the host asks for 0 records.
pub const DEFAULT_PER_PAGE: u32 = 50;

fn unknown_stream(stream: &str) -> ConnectorError {
    ConnectorError::not_found(format!("the M-Power connector has no stream `{stream}`"))
}

/// Where a source stream's records are listed and read, and how their ids look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collection {
    /// The list path, e.g. `/companies` (`addresses` uses the global `/addresses`).
    pub path: &'static str,
    /// The id prefix (`company`), or `None` for plain ids (products, orders).
    pub prefix: Option<&'static str>,
}

impl Collection {
    /// The collection of `stream`.
    pub fn of(stream: &str) -> Result<Collection> {
        Ok(match stream {
            COMPANIES => Collection {
                path: "/companies",
                prefix: Some(COMPANY),
            },
            CONTACTS => Collection {
                path: "/contacts",
                prefix: Some(CONTACT),
            },
            ADDRESSES => Collection {
                path: "/addresses",
                prefix: Some(ADDRESS),
            },
            PRODUCTS => Collection {
                path: "/products",
                prefix: None,
            },
            ORDERS => Collection {
                path: "/orders",
                prefix: None,
            },
            other => return Err(unknown_stream(other)),
        })
    }

    /// The external id of M-Power record `id` (`company-12`, or `12`).
    pub fn external_id(&self, id: u64) -> String {
        match self.prefix {
            Some(p) => map::ref_id(p, id),
            None => id.to_string(),
        }
    }

    /// The M-Power id in an external id of this collection.
    pub fn parse_id(&self, external_id: &str) -> Option<u64> {
        match self.prefix {
            Some(p) => map::parse_ref(external_id, p),
            None => map::parse_id(external_id),
        }
    }
}

/// The position in a stream: a pass over `GET /{collection}?sort=updated_at`
/// with `updated_since` fixed during the pass and `page` advancing.
///
/// Boundary behaviour: M-Power's `updated_since` is inclusive (`updated_at >=
/// value`), and the next pass starts at the greatest `updated_at` seen, so the
/// record(s) carrying exactly that time are read once more at the start of the
/// next pass (a harmless re-import: the host maps by external id). Nothing
/// changed at or after that time is missed by the next pass. Paging is live
/// (an offset over the current data): a record changed *during* a pass moves to
/// the end of the sort order, is read again at the end of that pass, and shifts
/// the unread records one place towards the pages already read, so one unread
/// record per such change can be skipped until it changes again. Small passes
/// (the second and later are only what changed) keep that window small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchCursor {
    /// The `updated_since` of this pass; `None` on the first pass (everything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_since: Option<String>,
    /// The next page to read (1-based).
    pub page: u32,
    /// The page size the pages are counted in.
    pub per_page: u32,
    /// The greatest `updated_at` seen so far in this pass, as M-Power wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seen: Option<String>,
}

fn later(a: Option<String>, b: Option<&str>) -> Option<String> {
    match (a, b) {
        (None, b) => b.map(str::to_string),
        (Some(a), None) => Some(a),
        (Some(a), Some(b)) => match (Timestamp::parse(&a), Timestamp::parse(b)) {
            (Ok(ta), Ok(tb)) if tb > ta => Some(b.to_string()),
            (Err(_), Ok(_)) => Some(b.to_string()),
            _ => Some(a),
        },
    }
}

/// A fetched M-Power record as a raw record of `collection`.
fn raw_record(collection: &Collection, v: &Value) -> Result<RawRecord> {
    let id = v.get("id").and_then(Value::as_u64).ok_or_else(|| {
        ConnectorError::transient(format!(
            "M-Power listed a record without an id under {}",
            collection.path
        ))
    })?;
    Ok(RawRecord {
        external_id: collection.external_id(id),
        updated_at: map::updated_at(v),
        data: v.to_string(),
    })
}

/// `fetch` of a source stream (see [`FetchCursor`]), or of the records asked
/// for by id (`/companies/{n}` for `company-n`, …; missing ones left out).
pub fn fetch(req: &FetchRequest) -> Result<Page> {
    if req.stream == ORDERS {
        return Err(ConnectorError::permanent(
            "the M-Power `orders` stream is a target: it is pushed, not fetched",
        ));
    }
    let collection = Collection::of(&req.stream)?;
    let client = Client::from_config()?;
    if !req.external_ids.is_empty() {
        let mut records = Vec::new();
        for id in &req.external_ids {
            let Some(n) = collection.parse_id(id) else {
                switchyard_sdk::log::warn!(
                    "`{id}` is not an id of the M-Power `{}` stream; left out",
                    req.stream
                );
                continue;
            };
            match client.get_opt(&format!("{}/{n}", collection.path))? {
                Some(v) => records.push(raw_record(&collection, &v)?),
                None => switchyard_sdk::log::info!("M-Power has no {id}; left out"),
            }
        }
        return Ok(Page {
            records,
            next_cursor: None,
            has_more: false,
        });
    }
    let requested = if req.page_size == 0 {
        DEFAULT_PER_PAGE
    } else {
        req.page_size.min(MAX_PER_PAGE)
    };
    let cursor = cursor::decode::<FetchCursor>(req.cursor.as_deref())?.unwrap_or(FetchCursor {
        updated_since: None,
        page: 1,
        per_page: requested,
        max_seen: None,
    });
    if cursor.page == 0 || !(1..=MAX_PER_PAGE).contains(&cursor.per_page) {
        return Err(ConnectorError::invalid_input(
            "the cursor's page or page size is out of range",
            "cursor",
        ));
    }
    let mut params = vec![
        ("sort", "updated_at".to_string()),
        ("per_page", cursor.per_page.to_string()),
        ("page", cursor.page.to_string()),
    ];
    if let Some(since) = &cursor.updated_since {
        params.push(("updated_since", since.clone()));
    }
    let page = client.list(&format!("{}{}", collection.path, api::query(&params)))?;
    let mut max_seen = cursor.max_seen.clone();
    let mut records = Vec::with_capacity(page.data.len());
    for v in &page.data {
        max_seen = later(max_seen, v.get("updated_at").and_then(Value::as_str));
        records.push(raw_record(&collection, v)?);
    }
    let end = page.data.is_empty() || cursor.page >= page.total_pages;
    let next = if end {
        // A new pass from what this one saw; with nothing seen, the same start.
        FetchCursor {
            updated_since: max_seen.or(cursor.updated_since),
            page: 1,
            per_page: requested,
            max_seen: None,
        }
    } else {
        FetchCursor {
            updated_since: cursor.updated_since,
            page: cursor.page + 1,
            per_page: cursor.per_page,
            max_seen,
        }
    };
    Ok(Page {
        records,
        next_cursor: Some(cursor::encode(&next)),
        has_more: !end,
    })
}

/// `check`: `GET /ping` and one authenticated list call.
pub fn check() -> Result<CheckReport> {
    let client = Client::from_config()?;
    client.get("/ping")?;
    let companies = client.list("/companies?per_page=1")?;
    Ok(CheckReport {
        message: format!(
            "connected to M-Power at {} ({} companies)",
            client.base, companies.total
        ),
    })
}

fn customer_of(stream: &str, item: Entity) -> Result<Customer> {
    match item {
        Entity::Customer(c) => Ok(c),
        _ => Err(ConnectorError::invalid_input(
            format!("the M-Power `{stream}` stream takes customers"),
            "entity",
        )),
    }
}

impl Connector for Mpower {
    fn describe() -> Manifest {
        settings::manifest()
    }

    fn check() -> Result<CheckReport> {
        check()
    }

    fn fetch(req: FetchRequest) -> Result<Page> {
        fetch(&req)
    }

    fn map_in(stream: String, raw: RawRecord) -> Result<Entity> {
        match stream.as_str() {
            COMPANIES => map::company(&raw).map(Entity::Customer),
            CONTACTS => map::contact(&raw).map(Entity::Customer),
            ADDRESSES => map::address(&raw).map(Entity::Customer),
            PRODUCTS => map::product(&raw).map(Entity::Product),
            ORDERS => Err(ConnectorError::permanent(
                "the M-Power `orders` stream is a target: there is nothing to map in",
            )),
            other => Err(unknown_stream(other)),
        }
    }

    fn map_out(stream: String, item: Entity) -> Result<Payload> {
        let payload: PushPayload = match stream.as_str() {
            COMPANIES => map::company_payload(&customer_of(&stream, item)?)?,
            CONTACTS => map::contact_payload(&customer_of(&stream, item)?)?,
            ADDRESSES => map::address_payload(&customer_of(&stream, item)?)?,
            PRODUCTS => match item {
                Entity::Product(p) => map::product_payload(&p)?,
                _ => {
                    return Err(ConnectorError::invalid_input(
                        "the M-Power `products` stream takes products",
                        "entity",
                    ))
                }
            },
            ORDERS => match item {
                Entity::Order(o) => map::order_payload(&o)?,
                _ => {
                    return Err(ConnectorError::invalid_input(
                        "the M-Power `orders` stream takes orders",
                        "entity",
                    ))
                }
            },
            other => return Err(unknown_stream(other)),
        };
        Ok(payload.to_payload())
    }

    fn push(req: PushRequest) -> Result<PushResult> {
        push::push(&req)
    }
}

switchyard_sdk::export_connector!(Mpower);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_keeps_the_greatest_time() {
        let a = Some("2026-01-01T00:05:00.000Z".to_string());
        assert_eq!(
            later(a.clone(), Some("2026-01-01T00:04:00.000Z")),
            a.clone()
        );
        assert_eq!(
            later(a, Some("2026-01-01T00:05:00.001Z")).as_deref(),
            Some("2026-01-01T00:05:00.001Z")
        );
        assert_eq!(later(None, None), None);
    }

    #[test]
    fn collections_know_their_ids() {
        let c = Collection::of(ADDRESSES).unwrap();
        assert_eq!(c.path, "/addresses");
        assert_eq!(c.external_id(4), "address-4");
        assert_eq!(c.parse_id("address-4"), Some(4));
        assert_eq!(c.parse_id("company-4"), None);
        let p = Collection::of(PRODUCTS).unwrap();
        assert_eq!(p.external_id(4), "4");
        assert_eq!(p.parse_id("4"), Some(4));
        assert!(Collection::of("nope").is_err());
    }
}
