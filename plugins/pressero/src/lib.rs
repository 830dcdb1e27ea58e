//! The Pressero connector: Pressero's admin API (v2), built against
//! `docs/pressero-api.md`.
//!
//! Streams:
//! - `orders` (source): `fetch` pages orders incrementally with the keyset cursor of
//!   [`keyset`]; `map-in` maps them with [`map`].
//! - `item-status` (target): item status and shipment written back ([`status`]).
//! - `products`, `categories` (both): the configured site's catalogue ([`catalogue`]).
//! - `users` (source): the site's registered users ([`users`]).
//!
//! The site streams page their lists with [`site`].

pub mod api;
pub mod catalogue;
pub mod keyset;
pub mod map;
pub mod settings;
pub mod site;
pub mod status;
pub mod users;

use serde_json::Value;
use switchyard_sdk::prelude::*;
use switchyard_sdk::time::Timestamp;

use crate::api::{summary_key, Session};
use crate::keyset::{decide, Decision, OrderCursor};
use crate::settings::{CATEGORIES, ITEM_STATUS, ORDERS, PRODUCTS, USERS};

/// The most search pages one `fetch` reads while walking past covered records.
const MAX_SEARCH_PAGES: u32 = 20;
/// Pressero's largest page (a choice of the API page).
const MAX_PAGE_SIZE: u32 = 500;

/// The Pressero connector.
pub struct Pressero;

fn unknown_stream(stream: &str) -> ConnectorError {
    ConnectorError::not_found(format!("the Pressero connector has no stream `{stream}`"))
}

impl Connector for Pressero {
    fn describe() -> Manifest {
        settings::manifest()
    }

    fn check() -> Result<CheckReport> {
        let mut session = Session::from_config(None)?;
        session.authenticate()?;
        Ok(CheckReport {
            message: format!(
                "connected to Pressero as user {} at {}",
                session.username, session.endpoint.label
            ),
        })
    }

    fn fetch(req: FetchRequest) -> Result<Page> {
        match req.stream.as_str() {
            ORDERS => fetch_orders(&req),
            PRODUCTS => site::fetch(&req, &catalogue::PRODUCT_LIST),
            CATEGORIES => site::fetch(&req, &catalogue::CATEGORY_LIST),
            USERS => site::fetch(&req, &users::USER_LIST),
            ITEM_STATUS => Err(ConnectorError::permanent(
                "`item-status` is a target stream: it is pushed, not fetched",
            )),
            other => Err(unknown_stream(other)),
        }
    }

    fn map_in(stream: String, raw: RawRecord) -> Result<Entity> {
        match stream.as_str() {
            ORDERS => {
                let product_matching = !config::flag("disable-product-matching", false)?;
                map::order(&raw.data, product_matching).map(Entity::Order)
            }
            PRODUCTS => catalogue::product_in(&raw.data).map(Entity::Product),
            CATEGORIES => catalogue::category_in(&raw.data).map(Entity::Category),
            USERS => users::customer(&raw.data).map(Entity::Customer),
            ITEM_STATUS => Err(ConnectorError::permanent(
                "`item-status` is a target stream: there is nothing to map in",
            )),
            other => Err(unknown_stream(other)),
        }
    }

    fn map_out(stream: String, item: Entity) -> Result<Payload> {
        match (stream.as_str(), &item) {
            (ITEM_STATUS, Entity::StatusUpdate(u)) => status::map_out(u),
            (PRODUCTS, Entity::Product(p)) => catalogue::product_out(p),
            (CATEGORIES, Entity::Category(c)) => catalogue::category_out(c),
            (ORDERS | USERS, _) => Err(ConnectorError::permanent(format!(
                "the Pressero connector does not write {stream}: map-out is not supported for the source stream `{stream}`"
            ))),
            (ITEM_STATUS | PRODUCTS | CATEGORIES, _) => Err(ConnectorError::invalid_input(
                format!("the stream `{stream}` takes {}", expected_entity(&stream)),
                "entity",
            )),
            (other, _) => Err(unknown_stream(other)),
        }
    }

    fn push(req: PushRequest) -> Result<PushResult> {
        match req.stream.as_str() {
            ITEM_STATUS => status::push(&req),
            PRODUCTS => catalogue::push_product(&req),
            CATEGORIES => catalogue::push_category(&req),
            ORDERS | USERS => Err(ConnectorError::permanent(format!(
                "the Pressero connector does not write {0}: push is not supported for the source stream `{0}`",
                req.stream
            ))),
            other => Err(unknown_stream(other)),
        }
    }
}

fn expected_entity(stream: &str) -> &'static str {
    match stream {
        ITEM_STATUS => "status updates",
        PRODUCTS => "products",
        _ => "categories",
    }
}

/// One page of the orders stream.
pub fn fetch_orders(req: &FetchRequest) -> Result<Page> {
    let now = Timestamp::parse(&req.now).ok();
    let size = req.page_size.clamp(1, MAX_PAGE_SIZE);
    let overlap = settings::overlap_seconds()?;
    let cursor = match switchyard_sdk::cursor::decode::<OrderCursor>(req.cursor.as_deref())? {
        Some(c) => c,
        None => OrderCursor::start(settings::since()?, size),
    };
    let mut session = Session::from_config(now)?;
    // A hint counted in another page size is worthless; page 0 is always safe.
    let mut page_number = if cursor.page_size == size {
        cursor.page
    } else {
        0
    };
    let mut prior_covered = false;
    for _ in 0..MAX_SEARCH_PAGES {
        let summaries = session.search_orders(cursor.from, page_number, size)?;
        let keys = summaries
            .iter()
            .enumerate()
            .map(|(i, s)| summary_key(s, i))
            .collect::<Result<Vec<_>>>()?;
        match decide(
            &cursor,
            page_number,
            prior_covered,
            &keys,
            size,
            now,
            overlap,
        ) {
            Decision::ReadPage(n) => {
                prior_covered = n > page_number;
                page_number = n;
            }
            Decision::Emit {
                take,
                mut next,
                has_more,
            } => {
                // Only these are read (Details, items, payments): hits whose exact
                // key was emitted before are not in `take`.
                let mut records = Vec::with_capacity(take.len());
                for i in take {
                    let key = keys[i];
                    match session.order_document(key.number)? {
                        Some(doc) => records.push(raw_record(key, doc)),
                        // Deleted between the search and the read: nothing to import.
                        None => {
                            next.seen.remove(&key);
                            switchyard_sdk::log::warn!(
                                "Pressero order {} vanished while paging; skipped",
                                key.number
                            )
                        }
                    }
                }
                return Ok(Page {
                    records,
                    next_cursor: Some(switchyard_sdk::cursor::encode(&next)),
                    has_more,
                });
            }
        }
    }
    // Still walking past covered records: keep the progress, continue next call.
    let mut next = cursor.clone();
    next.page = page_number;
    next.page_size = size;
    Ok(Page {
        records: Vec::new(),
        next_cursor: Some(switchyard_sdk::cursor::encode(&next)),
        has_more: true,
    })
}

fn raw_record(key: keyset::OrderKey, doc: Value) -> RawRecord {
    RawRecord {
        external_id: key.number.to_string(),
        updated_at: Some(key.modified.to_string()),
        data: doc.to_string(),
    }
}

switchyard_sdk::export_connector!(Pressero);
