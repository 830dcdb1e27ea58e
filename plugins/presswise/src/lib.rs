//! The Presswise (Smartsoft) connector: SOAP 1.1 rpc/encoded at `…/r/wsdl-order2.php`.
//!
//! - `orders` (target): `map-out` writes the `add_purchase_order` fields as JSON;
//!   `push` sends them as SOAP. Presswise has no idempotency key, so a push in
//!   `find-or-create` mode looks the order up by `sourceOrderID` first.
//! - `order-status` (source): per-item status and shipments of orders the host
//!   asks for by id (`fetch-request.external-ids`); Presswise has no change feed.
//! - `products`, `categories` (source): the catalogue in 1-based pages.
//!
//! See `README.md` beside this crate.

pub mod api;
pub mod map;
pub mod settings;
pub mod soap;

use serde::{Deserialize, Serialize};
use switchyard_sdk::prelude::*;

use crate::api::{Client, OrderStatus, MAX_PAGE_SIZE};
use crate::map::StatusRecord;
use crate::settings::{CATEGORIES, ORDERS, ORDER_STATUS, PRODUCTS};

/// The Presswise connector.
pub struct Presswise;

fn unknown_stream(stream: &str) -> ConnectorError {
    ConnectorError::not_found(format!("the Presswise connector has no stream `{stream}`"))
}

/// The position in a catalogue pass: the next 1-based page, in pages of `page_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    /// The next page to read (1-based).
    pub page: u32,
    /// The page size the pages are counted in.
    pub page_size: u32,
}

impl Connector for Presswise {
    fn describe() -> Manifest {
        settings::manifest()
    }

    fn check() -> Result<CheckReport> {
        let client = Client::from_config()?;
        let page = client.get_categories(1, 1)?;
        Ok(CheckReport {
            message: format!(
                "connected to Presswise as user {} at {} ({} categories)",
                client.username,
                client.url,
                page.total
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "?".into())
            ),
        })
    }

    fn fetch(req: FetchRequest) -> Result<Page> {
        match req.stream.as_str() {
            ORDER_STATUS => fetch_status(&req),
            PRODUCTS | CATEGORIES => fetch_catalogue(&req),
            ORDERS => Err(ConnectorError::permanent(
                "the Presswise `orders` stream is a target: it is pushed, not fetched",
            )),
            other => Err(unknown_stream(other)),
        }
    }

    fn map_in(stream: String, raw: RawRecord) -> Result<Entity> {
        match stream.as_str() {
            ORDER_STATUS => map::status_update(&raw).map(Entity::StatusUpdate),
            PRODUCTS => map::product(&raw, settings::currency().as_deref()).map(Entity::Product),
            CATEGORIES => map::category(&raw).map(Entity::Category),
            ORDERS => Err(ConnectorError::permanent(
                "the Presswise `orders` stream is a target: there is nothing to map in",
            )),
            other => Err(unknown_stream(other)),
        }
    }

    fn map_out(stream: String, item: Entity) -> Result<Payload> {
        if stream != ORDERS {
            return Err(match stream.as_str() {
                ORDER_STATUS | PRODUCTS | CATEGORIES => ConnectorError::permanent(format!(
                    "the Presswise `{stream}` stream is a source: it is not written"
                )),
                other => unknown_stream(other),
            });
        }
        let Entity::Order(order) = item else {
            return Err(ConnectorError::invalid_input(
                "the Presswise `orders` stream takes orders",
                "entity",
            ));
        };
        map::order_payload(&order, &settings::OrderSettings::load()?)
    }

    fn push(req: PushRequest) -> Result<PushResult> {
        if req.stream != ORDERS {
            return Err(match req.stream.as_str() {
                ORDER_STATUS | PRODUCTS | CATEGORIES => ConnectorError::permanent(format!(
                    "the Presswise `{}` stream is a source: it is not written",
                    req.stream
                )),
                other => unknown_stream(other),
            });
        }
        push_order(&req)
    }
}

/// The result of an order found at Presswise (`created: false`).
fn found(order: &OrderStatus) -> PushResult {
    PushResult {
        external_id: order.order_id.clone(),
        status: (!order.status.is_empty()).then(|| order.status.clone()),
        created: false,
        items: order
            .items
            .iter()
            .map(|i| PushedItem {
                source_id: i.source_job_id.clone(),
                external_id: i.item_id.clone(),
                status: (!i.status.is_empty()).then(|| i.status.clone()),
            })
            .collect(),
    }
}

/// The oldest order carrying `source_order_id`, if any.
fn find_existing(client: &Client, source_order_id: &str) -> Result<Option<OrderStatus>> {
    let mut orders = client.find_orders(source_order_id)?;
    if orders.len() > 1 {
        let ids: Vec<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
        switchyard_sdk::log::warn!(
            "Presswise holds {} orders with sourceOrderID {source_order_id} ({}); answering the oldest",
            orders.len(),
            ids.join(", ")
        );
    }
    Ok((!orders.is_empty()).then(|| orders.remove(0)))
}

/// `push` of `orders`, by mode.
pub fn push_order(req: &PushRequest) -> Result<PushResult> {
    let order = map::read_payload(&req.payload)?;
    let client = Client::from_config()?;
    // Presswise cannot update an order: a push of a known one answers it as it is.
    if let Some(id) = req
        .external_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let n: u64 = id.parse().map_err(|_| {
            ConnectorError::invalid_input(
                format!("`{id}` is not a Presswise orderID"),
                "external-id",
            )
        })?;
        return match client.get_order_status(n)? {
            Some(o) => {
                switchyard_sdk::log::info!(
                    "Presswise order {id} exists already; Presswise orders cannot be updated, so it is answered as it is"
                );
                Ok(found(&o))
            }
            None => Err(ConnectorError::not_found(format!(
                "Presswise has no order {id}"
            ))),
        };
    }
    match req.mode {
        PushMode::Find => match find_existing(&client, &order.source_order_id)? {
            Some(o) => Ok(found(&o)),
            None => Err(ConnectorError::not_found(format!(
                "Presswise has no order with sourceOrderID {}",
                order.source_order_id
            ))),
        },
        PushMode::FindOrCreate => match find_existing(&client, &order.source_order_id)? {
            Some(o) => {
                switchyard_sdk::log::info!(
                    "Presswise order {} with sourceOrderID {} was created by an earlier attempt; not pushed again",
                    o.order_id,
                    order.source_order_id
                );
                Ok(found(&o))
            }
            None => create(&client, &order),
        },
        PushMode::Create => create(&client, &order),
    }
}

fn create(client: &Client, order: &api::PurchaseOrder) -> Result<PushResult> {
    let created = client.add_purchase_order(order)?;
    let status = if order.initial_status.is_empty() {
        settings::DEFAULT_INITIAL_STATUS.to_string()
    } else {
        order.initial_status.clone()
    };
    Ok(PushResult {
        external_id: created.order_id,
        status: Some(status),
        created: true,
        items: created
            .items
            .into_iter()
            .map(|i| PushedItem {
                source_id: i.source_job_id,
                external_id: i.item_id,
                status: None,
            })
            .collect(),
    })
}

/// `fetch` of `order-status`: the items of the orders asked for by id.
///
/// An id is an orderID, or `{orderID}/{itemID}` for one item. Unknown orders
/// and ids that cannot be orderIDs are left out.
pub fn fetch_status(req: &FetchRequest) -> Result<Page> {
    let mut records = Vec::new();
    if req.external_ids.is_empty() {
        // No change feed: the host asks for what it pushed, by id.
        return Ok(Page {
            records,
            next_cursor: None,
            has_more: false,
        });
    }
    let client = Client::from_config()?;
    // Order id → the items asked for (None = every item), in the order asked.
    let mut wanted: Vec<(u64, Option<Vec<String>>)> = Vec::new();
    for id in &req.external_ids {
        let (order, item) = match id.trim().split_once('/') {
            Some((o, i)) => (o.trim(), Some(i.trim().to_string())),
            None => (id.trim(), None),
        };
        let Ok(n) = order.parse::<u64>() else {
            switchyard_sdk::log::warn!("`{id}` is not a Presswise orderID; left out");
            continue;
        };
        match wanted.iter_mut().find(|(k, _)| *k == n) {
            Some((_, items)) => match item {
                // The whole order was asked for as well.
                None => *items = None,
                Some(i) => {
                    if let Some(list) = items {
                        list.push(i);
                    }
                }
            },
            None => wanted.push((n, item.map(|i| vec![i]))),
        }
    }
    for (n, items) in wanted {
        let Some(order) = client.get_order_status(n)? else {
            switchyard_sdk::log::info!("Presswise has no order {n}; left out");
            continue;
        };
        for r in StatusRecord::of_order(&order) {
            if items.as_ref().is_none_or(|list| list.contains(&r.item_id)) {
                records.push(r.raw());
            }
        }
    }
    Ok(Page {
        records,
        next_cursor: None,
        has_more: false,
    })
}

/// `fetch` of `products` / `categories`: one page of a full pass. After the
/// last (short) page the cursor points at page 1 again, so the next run makes
/// a new pass.
pub fn fetch_catalogue(req: &FetchRequest) -> Result<Page> {
    let cursor = switchyard_sdk::cursor::decode::<PageCursor>(req.cursor.as_deref())?;
    let (page, size) = match cursor {
        Some(c) if c.page >= 1 && (1..=MAX_PAGE_SIZE).contains(&c.page_size) => {
            (c.page, c.page_size)
        }
        Some(_) => {
            return Err(ConnectorError::invalid_input(
                "the cursor's page or page size is out of range",
                "cursor",
            ))
        }
        None => (1, req.page_size.clamp(1, MAX_PAGE_SIZE)),
    };
    let client = Client::from_config()?;
    let (records, total) = if req.stream == PRODUCTS {
        let p = client.get_products(page, size)?;
        let records = p
            .rows
            .iter()
            .map(|r| RawRecord {
                external_id: r.product_id.clone(),
                updated_at: switchyard_sdk::time::Timestamp::parse(&r.modified)
                    .ok()
                    .map(|t| t.to_string()),
                data: serde_json::to_string(r).expect("a product serialises"),
            })
            .collect::<Vec<_>>();
        (records, p.total)
    } else {
        let p = client.get_categories(page, size)?;
        let records = p
            .rows
            .iter()
            .map(|r| RawRecord {
                external_id: r.category_id.clone(),
                updated_at: None,
                data: serde_json::to_string(r).expect("a category serialises"),
            })
            .collect::<Vec<_>>();
        (records, p.total)
    };
    let full = records.len() as u32 == size;
    let more_by_total = total.is_none_or(|t| u64::from(page) * u64::from(size) < t);
    let has_more = full && more_by_total;
    let next = if has_more {
        PageCursor {
            page: page + 1,
            page_size: size,
        }
    } else {
        PageCursor {
            page: 1,
            page_size: req.page_size.clamp(1, MAX_PAGE_SIZE),
        }
    };
    Ok(Page {
        records,
        next_cursor: Some(switchyard_sdk::cursor::encode(&next)),
        has_more,
    })
}

switchyard_sdk::export_connector!(Presswise);
