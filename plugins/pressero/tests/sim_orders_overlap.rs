#![cfg(not(target_arch = "wasm32"))]
//! The orders stream's overlap against the Pressero simulator: a pass searches the overlap
//! window again but reads (Details, items, payments) only the orders that changed.

mod common;

use common::{fetch_req, Sim};
use switchyard_plugin_pressero::keyset::{OrderCursor, SeenKeys};
use switchyard_plugin_pressero::Pressero;
use switchyard_sdk::types::RawRecord;
use switchyard_sdk::Connector;
use switchyard_sim::pressero::PresseroConfig;

const ORDERS: usize = 300;
const PAGE: u32 = 50;
const SEARCH: &str = "POST /api/v2/orders/search";
const DETAILS: &str = "GET /api/v2/orders/{n}/details";
const ITEMS: &str = "GET /api/v2/orders/{n}/items";
const PAYMENTS: &str = "GET /api/v2/orders/{n}/payments";

/// Requests of a pass, by endpoint.
#[derive(Debug, PartialEq, Eq)]
struct Cost {
    searches: u64,
    details: u64,
    items: u64,
    payments: u64,
}

fn counts(sim: &Sim) -> Cost {
    Cost {
        searches: sim.sim.request_count(SEARCH),
        details: sim.sim.request_count(DETAILS),
        items: sim.sim.request_count(ITEMS),
        payments: sim.sim.request_count(PAYMENTS),
    }
}

/// One pass of the orders stream from `cursor`: its records, the cursor it ends with and the
/// requests it sent.
fn pass(sim: &Sim, cursor: Option<String>) -> (Vec<RawRecord>, String, Cost) {
    let before = counts(sim);
    let mut cursor = cursor;
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = Pressero::fetch(fetch_req("orders", cursor.clone(), PAGE)).unwrap();
        out.extend(page.records);
        cursor = page.next_cursor;
        if !page.has_more {
            let after = counts(sim);
            let cost = Cost {
                searches: after.searches - before.searches,
                details: after.details - before.details,
                items: after.items - before.items,
                payments: after.payments - before.payments,
            };
            return (out, cursor.expect("a pass ends with a cursor"), cost);
        }
    }
    panic!("the pass did not end");
}

fn numbers(records: &[RawRecord]) -> Vec<u64> {
    let mut n: Vec<u64> = records
        .iter()
        .map(|r| r.external_id.parse().unwrap())
        .collect();
    n.sort();
    n
}

#[test]
fn the_next_pass_reads_only_the_orders_that_changed() {
    let sim = Sim::start(PresseroConfig {
        orders: ORDERS,
        ..PresseroConfig::default()
    });
    // An overlap wider than the whole history: every order stays inside the window, the
    // worst case of re-reading it (before, each pass read all 300 orders again).
    sim.host()
        .config("overlap-seconds", &(10 * 365 * 86_400).to_string())
        .install();

    let (first, cursor, cost) = pass(&sim, None);
    assert_eq!(first.len(), ORDERS);
    assert_eq!(cost.details, ORDERS as u64);
    let c: OrderCursor = switchyard_sdk::cursor::decode(Some(&cursor))
        .unwrap()
        .unwrap();
    assert_eq!(c.seen.len(), ORDERS, "every key of the window is kept");

    // 10 orders change.
    let all = sim.sim.order_numbers();
    let touched: Vec<u64> = all.iter().step_by(29).take(10).copied().collect();
    for n in &touched {
        sim.sim.touch_order(*n).unwrap();
    }

    // What the pass cost before: the same cursor without its seen keys reads the window again.
    let old_style = switchyard_sdk::cursor::encode(&OrderCursor {
        seen: SeenKeys::default(),
        ..c.clone()
    });
    let (reread, _, before) = pass(&sim, Some(old_style));
    assert_eq!(reread.len(), ORDERS);
    assert_eq!(before.details, ORDERS as u64);

    // Now: the same searches, and only the 10 changed orders are read.
    let (changed, cursor, after) = pass(&sim, Some(cursor));
    assert_eq!(numbers(&changed), touched);
    assert_eq!(
        after,
        Cost {
            searches: before.searches,
            details: 10,
            items: 10,
            payments: 10,
        }
    );
    println!(
        "one incremental pass, 10 of {ORDERS} orders changed: before {before:?}, after {after:?}"
    );
    // Their new versions are what was emitted.
    for r in &changed {
        let n: u64 = r.external_id.parse().unwrap();
        let details = sim.sim.order_details_json(n).unwrap();
        let modified =
            switchyard_sdk::time::Timestamp::parse(details["ModifiedDate"].as_str().unwrap())
                .unwrap();
        assert_eq!(r.updated_at.as_deref(), Some(modified.to_string().as_str()));
    }

    // Nothing changed since: the window is searched, nothing is read.
    let (quiet, _, cost) = pass(&sim, Some(cursor));
    assert!(quiet.is_empty(), "{:?}", numbers(&quiet));
    assert_eq!(cost.details, 0);
    assert_eq!(cost.searches, before.searches);
}

#[test]
fn with_the_default_overlap_the_last_passes_changes_are_not_read_again() {
    let sim = Sim::start(PresseroConfig {
        orders: ORDERS,
        ..PresseroConfig::default()
    });
    sim.install();
    let (first, cursor, _) = pass(&sim, None);
    assert_eq!(first.len(), ORDERS);
    let all = sim.sim.order_numbers();

    // Changes now: inside the next window (300 s back from the newest change).
    let earlier: Vec<u64> = all.iter().step_by(31).take(10).copied().collect();
    for n in &earlier {
        sim.sim.touch_order(*n).unwrap();
    }
    let (second, cursor, _) = pass(&sim, Some(cursor));
    assert_eq!(numbers(&second), earlier);

    // 10 others change: the window holds both sets, only the new one is read.
    let later: Vec<u64> = all.iter().skip(7).step_by(31).take(10).copied().collect();
    for n in &later {
        sim.sim.touch_order(*n).unwrap();
    }
    let c: OrderCursor = switchyard_sdk::cursor::decode(Some(&cursor))
        .unwrap()
        .unwrap();
    let old_style = switchyard_sdk::cursor::encode(&OrderCursor {
        seen: SeenKeys::default(),
        ..c
    });
    let (reread, _, before) = pass(&sim, Some(old_style));
    assert_eq!(reread.len(), 20, "{:?}", numbers(&reread));
    let (third, _, after) = pass(&sim, Some(cursor));
    assert_eq!(numbers(&third), later);
    assert_eq!(after.details, 10);
    assert_eq!(after.searches, before.searches);
    println!("default overlap, 10 changed after 10 changed: before {before:?}, after {after:?}");
}
