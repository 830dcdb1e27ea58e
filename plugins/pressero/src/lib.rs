//! The Pressero connector: orders from Pressero's admin API (v2).
//!
//! Built against `docs/pressero-api.md`. `fetch` pages orders incrementally
//! with the keyset cursor of [`keyset`]; `map-in` maps them with [`map`].
//! Orders are a source stream only: `map-out` and `push` are not supported.

pub mod api;
pub mod keyset;
pub mod map;
pub mod settings;

use serde_json::Value;
use switchyard_sdk::prelude::*;
use switchyard_sdk::time::Timestamp;

use crate::api::{summary_key, Session};
use crate::keyset::{decide, Decision, OrderCursor};
use crate::settings::ORDERS;

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
        if req.stream != ORDERS {
            return Err(unknown_stream(&req.stream));
        }
        fetch_orders(&req)
    }

    fn map_in(stream: String, raw: RawRecord) -> Result<Entity> {
        if stream != ORDERS {
            return Err(unknown_stream(&stream));
        }
        let product_matching = !config::flag("disable-product-matching", false)?;
        map::order(&raw.data, product_matching).map(Entity::Order)
    }

    fn map_out(stream: String, _item: Entity) -> Result<Payload> {
        if stream != ORDERS {
            return Err(unknown_stream(&stream));
        }
        Err(ConnectorError::permanent(
            "the Pressero connector does not write orders (map-out is not supported for `orders` yet)",
        ))
    }

    fn push(req: PushRequest) -> Result<PushResult> {
        if req.stream != ORDERS {
            return Err(unknown_stream(&req.stream));
        }
        Err(ConnectorError::permanent(
            "the Pressero connector does not write orders (push is not supported for `orders` yet)",
        ))
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
                next,
                has_more,
            } => {
                let mut records = Vec::with_capacity(take.len());
                for i in take {
                    let key = keys[i];
                    match session.order_document(key.number)? {
                        Some(doc) => records.push(raw_record(key, doc)),
                        // Deleted between the search and the read: nothing to import.
                        None => switchyard_sdk::log::warn!(
                            "Pressero order {} vanished while paging; skipped",
                            key.number
                        ),
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
