#![cfg(not(target_arch = "wasm32"))]
//! check and fetch against the Presswise simulator.

mod support;

use std::collections::BTreeSet;

use support::{item, kind, order, Sim};
use switchyard_plugin_presswise::Presswise;
use switchyard_sdk::testing::{sent_requests, FakeHost};
use switchyard_sdk::types::*;
use switchyard_sdk::Connector;
use switchyard_sim::presswise::model::Shipment;
use switchyard_sim::presswise::PresswiseConfig;

fn fetch(
    stream: &str,
    cursor: Option<String>,
    size: u32,
    ids: &[&str],
) -> Result<Page, ConnectorError> {
    Presswise::fetch(FetchRequest {
        stream: stream.into(),
        cursor,
        page_size: size,
        now: "2026-12-01T10:00:00Z".into(),
        external_ids: ids.iter().map(|s| s.to_string()).collect(),
    })
}

#[test]
fn check_connects_or_names_the_refusal() {
    let sim = Sim::small();
    sim.host().install();
    let report = Presswise::check().unwrap();
    assert!(
        report
            .message
            .starts_with("connected to Presswise as user switchyard at http://127.0.0.1:"),
        "{}",
        report.message
    );
    let sent = sent_requests();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].placeholder_body.contains("get_categories"));
    assert_eq!(sent[0].idempotent, Some(true));

    sim.host().secret("password", "wrong").install();
    match Presswise::check().unwrap_err() {
        ConnectorError::Auth(m) => {
            assert!(m.contains("Authentication failed"), "{m}");
            assert!(m.contains("password"), "{m}");
        }
        other => panic!("{other:?}"),
    }

    // A URL that is not the order service.
    let bad = sim.url().replace("wsdl-order2.php", "wsdl-order.php");
    sim.host().config("url", &bad).install();
    let e = Presswise::check().unwrap_err();
    assert_eq!(kind(&e), "not-found", "{e:?}");
    assert!(e.message().contains("`url`"), "{e:?}");

    // Nothing listening.
    FakeHost::new()
        .config("url", "http://127.0.0.1:9/r/wsdl-order2.php")
        .config("username", "x")
        .secret("password", "p")
        .secret("authorization-code", "c")
        .install();
    assert_eq!(kind(&Presswise::check().unwrap_err()), "transient");

    // No URL at all.
    FakeHost::new().config("username", "x").install();
    match Presswise::check().unwrap_err() {
        ConnectorError::InvalidInput(i) => assert_eq!(i.location, "url"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn status_by_external_ids_is_one_record_per_item_with_shipments() {
    let sim = Sim::small();
    let product = sim.active_product();
    sim.host().install();
    let p = Presswise::map_out(
        "orders".into(),
        Entity::Order(order(
            "WEB-42",
            vec![
                item("li-1", "A", Some(product), 1.0),
                item("li-2", "B", Some(product), 5.0),
            ],
        )),
    )
    .unwrap();
    let pushed = Presswise::push(PushRequest {
        stream: "orders".into(),
        payload: p,
        idempotency_key: "k".into(),
        external_id: None,
        mode: PushMode::Create,
    })
    .unwrap();
    let id: u64 = pushed.external_id.parse().unwrap();
    sim.set_item_status(id, "1", "Finishing").unwrap();
    sim.set_item_shipment(
        id,
        "2",
        Shipment {
            carrier: "UPS".into(),
            tracking_number: "1Z999AA10123456784".into(),
            ship_date: "2026-12-02 14:30:00".into(),
        },
    )
    .unwrap();

    // Empty ids: no change feed, an empty page.
    let empty = fetch("order-status", None, 100, &[]).unwrap();
    assert!(empty.records.is_empty());
    assert!(!empty.has_more);

    // An unknown order and a non-id are left out.
    let page = fetch(
        "order-status",
        None,
        100,
        &[&pushed.external_id, "99999999", "junk"],
    )
    .unwrap();
    assert!(!page.has_more);
    let view = sim.order(id).unwrap();
    let ids: Vec<String> = page.records.iter().map(|r| r.external_id.clone()).collect();
    assert_eq!(
        ids,
        [
            format!("{id}/{}", view.items[0].item_id),
            format!("{id}/{}", view.items[1].item_id)
        ]
    );
    let updates: Vec<StatusUpdate> = page
        .records
        .into_iter()
        .map(
            |r| match Presswise::map_in("order-status".into(), r).unwrap() {
                Entity::StatusUpdate(u) => u,
                other => panic!("{other:?}"),
            },
        )
        .collect();
    assert_eq!(updates[0].order_external_id, id.to_string());
    assert_eq!(
        updates[0].item_external_id,
        Some(view.items[0].item_id.to_string())
    );
    assert_eq!(updates[0].status, ItemStatus::InProduction);
    assert_eq!(updates[0].status_text.as_deref(), Some("Finishing"));
    assert_eq!(updates[0].shipment, None);
    assert_eq!(updates[1].status, ItemStatus::Shipped);
    assert_eq!(
        updates[1].shipment,
        Some(switchyard_sdk::types::Shipment {
            carrier: Some("UPS".into()),
            tracking_number: Some("1Z999AA10123456784".into()),
            tracking_url: None,
            shipped_at: Some("2026-12-02T14:30:00Z".into()),
        })
    );
    // The item's source id travels in the extension.
    assert!(updates[1].extension.contains("\"sourceJobID\":\"li-2\""));

    // One item asked for by `{orderID}/{itemID}`.
    let one = format!("{id}/{}", view.items[1].item_id);
    let page = fetch("order-status", None, 100, &[&one]).unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].external_id, one);
}

#[test]
fn seeded_orders_statuses_all_map_in() {
    let sim = Sim::start(PresswiseConfig {
        orders: 200,
        products: 20,
        ..PresswiseConfig::default()
    });
    sim.host().install();
    let ids: Vec<String> = (20001..20201).map(|n: u64| n.to_string()).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let page = fetch("order-status", None, 100, &refs).unwrap();
    let expected: usize = (20001..20201)
        .map(|n| sim.order(n).unwrap().items.len())
        .sum();
    assert_eq!(page.records.len(), expected);
    let mut shipped = 0;
    for r in page.records {
        let Entity::StatusUpdate(u) = Presswise::map_in("order-status".into(), r).unwrap() else {
            panic!()
        };
        if let Some(s) = &u.shipment {
            shipped += 1;
            assert!(s.carrier.is_some() && s.tracking_number.is_some());
            assert!(s.shipped_at.as_deref().unwrap().ends_with('Z'));
        }
    }
    assert!(shipped > 0, "seeded data has shipments");
}

#[test]
fn products_and_categories_page_through_the_whole_catalogue() {
    let sim = Sim::start(PresswiseConfig {
        orders: 10,
        products: 57,
        ..PresswiseConfig::default()
    });
    sim.host().config("currency", "usd").install();
    let (categories, products) = sim.catalogue();

    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = fetch("products", cursor.clone(), 20, &[]).unwrap();
        pages += 1;
        seen.extend(page.records);
        cursor = page.next_cursor;
        if !page.has_more {
            break;
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), products.len());
    let ids: BTreeSet<String> = seen.iter().map(|r| r.external_id.clone()).collect();
    assert_eq!(ids.len(), products.len(), "every product once");
    // After a pass the cursor starts the next pass at page 1.
    let again = fetch("products", cursor, 20, &[]).unwrap();
    assert_eq!(again.records[0].external_id, seen[0].external_id);

    for (raw, p) in seen.into_iter().zip(&products) {
        let Entity::Product(m) = Presswise::map_in("products".into(), raw).unwrap() else {
            panic!()
        };
        assert_eq!(m.external_id, p.product_id.to_string());
        assert_eq!(m.sku.as_deref(), Some(p.sku.as_str()));
        assert_eq!(m.name, p.name);
        assert_eq!(m.price_excl_tax, Some(p.price_cents));
        assert_eq!(m.currency.as_deref(), Some("USD"));
        assert_eq!(m.active, p.active);
        if p.category_id == 0 {
            assert!(m.categories.is_empty());
        } else {
            assert_eq!(m.categories, [p.category_id.to_string()]);
        }
    }

    let page = fetch("categories", None, 500, &[]).unwrap();
    assert!(!page.has_more);
    assert_eq!(page.records.len(), categories.len());
    let mut tops = 0;
    for (raw, c) in page.records.into_iter().zip(&categories) {
        let Entity::Category(m) = Presswise::map_in("categories".into(), raw).unwrap() else {
            panic!()
        };
        assert_eq!(m.external_id, c.category_id.to_string());
        assert_eq!(m.name, c.name);
        if c.parent_id == 0 {
            tops += 1;
            assert_eq!(m.parent_external_id, None);
        } else {
            assert_eq!(m.parent_external_id, Some(c.parent_id.to_string()));
        }
    }
    assert_eq!(tops, 8);

    // A page size over Presswise's limit is clamped, not refused.
    assert!(fetch("categories", None, 10_000, &[]).is_ok());
    // A foreign cursor is refused clearly.
    match fetch("products", Some("garbage".into()), 20, &[]).unwrap_err() {
        ConnectorError::InvalidInput(i) => assert_eq!(i.location, "cursor"),
        other => panic!("{other:?}"),
    }
}

/// Presswise is SOAP: every call is a POST, so only the plugin's `idempotent` mark lets the
/// host send a read again when its answer comes back cut short or garbled.
#[test]
fn broken_answers_to_reads_are_transient_and_reads_may_be_sent_again() {
    use switchyard_plugin_presswise::api::Client;
    use switchyard_sim::FaultConfig;

    let sim = Sim::small();
    sim.host().install();
    let client = Client::from_config().unwrap();
    let faults = [
        FaultConfig {
            malformed_rate: 1.0,
            ..FaultConfig::default()
        },
        FaultConfig {
            truncated_rate: 1.0,
            ..FaultConfig::default()
        },
    ];
    for fault in faults {
        sim.set_faults(fault.clone()).unwrap();
        let results = [
            ("get_order_status", client.get_order_status(1).map(|_| ())),
            ("find_orders", client.find_orders("WEB-1").map(|_| ())),
            ("get_products", client.get_products(1, 5).map(|_| ())),
            ("get_categories", client.get_categories(1, 5).map(|_| ())),
        ];
        for (operation, result) in results {
            let e = result.unwrap_err();
            assert_eq!(kind(&e), "transient", "{operation} under {fault:?}: {e:?}");
            assert!(e.message().contains(operation), "{e:?}");
        }
    }
    let sent = sent_requests();
    assert_eq!(sent.len(), 8);
    for req in &sent {
        assert_eq!(
            req.idempotent,
            Some(true),
            "a read the host may resend: {}",
            req.placeholder_body
        );
    }
    sim.set_faults(FaultConfig::default()).unwrap();
    assert!(client.get_products(1, 5).is_ok());
}
