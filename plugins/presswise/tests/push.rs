#![cfg(not(target_arch = "wasm32"))]
//! map-out and push against the Presswise simulator.

mod support;

use support::{item, kind, order, Sim};
use switchyard_plugin_presswise::api::PurchaseOrder;
use switchyard_plugin_presswise::Presswise;
use switchyard_sdk::testing::sent_requests;
use switchyard_sdk::types::*;
use switchyard_sdk::Connector;
use switchyard_sim::presswise::PresswiseConfig;
use switchyard_sim::FaultConfig;

fn payload(o: Order) -> Payload {
    Presswise::map_out("orders".into(), Entity::Order(o)).expect("map-out")
}

fn push(p: &Payload, mode: PushMode) -> Result<PushResult, ConnectorError> {
    Presswise::push(PushRequest {
        stream: "orders".into(),
        payload: p.clone(),
        idempotency_key: "key-1".into(),
        external_id: None,
        mode,
    })
}

#[test]
fn push_creates_exactly_one_order_with_items_and_escaped_fields() {
    let sim = Sim::small();
    let product = sim.active_product();
    sim.host().install();
    let p = payload(order(
        "WEB-9001",
        vec![
            item("li-1", "BC-1", Some(product), 2.0),
            item("li-2", "BC-2", Some(product), 1.0),
        ],
    ));
    let r = push(&p, PushMode::Create).unwrap();
    assert!(r.created);
    assert_eq!(r.status.as_deref(), Some("AUTO New"));
    assert_eq!(sim.count_for_source("WEB-9001"), 1);
    let id: u64 = r.external_id.parse().unwrap();
    let view = sim.order(id).expect("the order exists");
    assert_eq!(view.status, "AUTO New");
    let f = &view.fields;
    assert_eq!(f.bill_to.first, "Ann");
    assert_eq!(f.ship_to.city, "Boston");
    // Markup in values arrives as text, not as XML.
    assert_eq!(f.bill_to.street, "1 Main St, Suite <5> & more");
    assert_eq!(f.total_cost, "55.40");
    assert_eq!(f.tax_cost, "5.40");
    assert_eq!(f.ship_method, "Ground");
    assert_eq!(f.items[0].product_id, product.to_string());
    assert_eq!(f.items[0].quantity, "2");
    assert_eq!(f.items[1].source_job_id, "li-2");
    assert_eq!(f.comments, "", "no pricing in notes unless asked");
    // Pushed items: the source's item ids → Presswise's item ids.
    assert_eq!(r.items.len(), 2);
    assert_eq!(r.items[0].source_id, "li-1");
    assert_eq!(r.items[0].external_id, view.items[0].item_id.to_string());
    assert_eq!(r.items[1].external_id, view.items[1].item_id.to_string());

    // Secrets reached the wire only through placeholders the host filled in.
    let sent = sent_requests();
    let last = sent.last().unwrap();
    assert_eq!(last.header("SOAPAction"), Some("#POST"));
    assert!(last.placeholder_body.contains("{{secret:password}}"));
    assert!(last
        .placeholder_body
        .contains("{{secret:authorization-code}}"));
    assert!(!last.placeholder_body.contains(&sim.credentials().pass));
    assert!(last.body_text().contains(&sim.credentials().pass));
    assert_eq!(
        last.idempotent,
        Some(false),
        "a create is never resent by the host"
    );
}

#[test]
fn find_or_create_after_an_accepted_push_whose_answer_was_lost_does_not_duplicate() {
    let sim = Sim::small();
    let product = sim.active_product();
    sim.host().install();
    let p = payload(order(
        "WEB-7007",
        vec![item("li-1", "BC-1", Some(product), 3.0)],
    ));

    sim.set_accept_then_hang(0.0, 1).unwrap();
    let e = push(&p, PushMode::Create).unwrap_err();
    assert_eq!(kind(&e), "transient", "{e:?}");
    assert!(e.message().contains("add_purchase_order"), "{e:?}");
    assert_eq!(sim.accept_then_hang().hung, 1);
    assert_eq!(sim.count_for_source("WEB-7007"), 1, "the write was applied");

    // The host retries with find-or-create: the order is found, not pushed again.
    let r = push(&p, PushMode::FindOrCreate).unwrap();
    assert!(!r.created);
    assert_eq!(sim.count_for_source("WEB-7007"), 1);
    let id = sim.orders_for_source("WEB-7007")[0];
    assert_eq!(r.external_id, id.to_string());
    assert_eq!(r.status.as_deref(), Some("AUTO New"));
    let view = sim.order(id).unwrap();
    assert_eq!(r.items.len(), 1);
    assert_eq!(r.items[0].source_id, "li-1");
    assert_eq!(r.items[0].external_id, view.items[0].item_id.to_string());
    assert_eq!(r.items[0].status.as_deref(), Some("New"));
    assert_eq!(
        sim.request_count("POST /r/wsdl-order2.php add_purchase_order"),
        1
    );

    // find-or-create of an order that is not there creates it, once.
    let q = payload(order(
        "WEB-7008",
        vec![item("li-9", "BC-1", Some(product), 1.0)],
    ));
    let r = push(&q, PushMode::FindOrCreate).unwrap();
    assert!(r.created);
    assert_eq!(sim.count_for_source("WEB-7008"), 1);
}

#[test]
fn find_answers_not_found_or_the_oldest_seeded_order() {
    let sim = Sim::start(PresswiseConfig {
        orders: 20,
        products: 40,
        source_ids_from: Some(1000),
        ..PresswiseConfig::default()
    });
    let product = sim.active_product();
    sim.host().install();

    let unknown = payload(order("999999", vec![item("x", "BC-1", Some(product), 1.0)]));
    let e = push(&unknown, PushMode::Find).unwrap_err();
    assert_eq!(kind(&e), "not-found", "{e:?}");
    assert!(e.message().contains("999999"));

    // Seeded order 3 carries sourceOrderID 1003 (an older integration pushed it).
    let seeded = payload(order("1003", vec![item("x", "BC-1", Some(product), 1.0)]));
    let r = push(&seeded, PushMode::Find).unwrap();
    assert!(!r.created);
    assert_eq!(r.external_id, "20004");
    let view = sim.order(20004).unwrap();
    assert_eq!(r.status.as_deref(), Some(view.status.as_str()));
    assert_eq!(r.items.len(), view.items.len());
    for (pushed, item) in r.items.iter().zip(&view.items) {
        assert_eq!(pushed.external_id, item.item_id.to_string());
        assert_eq!(pushed.status.as_deref(), Some(item.status.as_str()));
    }
    assert_eq!(sim.counts().pushed_orders, 0, "find never creates");
}

#[test]
fn an_item_without_a_product_fails_clearly_unless_a_default_is_set() {
    let sim = Sim::small();
    let product = sim.active_product();
    sim.host().install();
    let o = order(
        "WEB-5",
        vec![
            item("li-1", "BC-1", Some(product), 1.0),
            item("li-2", "FLY-9", None, 1.0),
        ],
    );
    match Presswise::map_out("orders".into(), Entity::Order(o.clone())).unwrap_err() {
        ConnectorError::InvalidInput(i) => {
            assert_eq!(i.location, "items[1].product-external-id");
            assert!(i.message.contains("item 2 (sku FLY-9)"), "{}", i.message);
            assert!(i.message.contains("default-product-id"), "{}", i.message);
        }
        other => panic!("{other:?}"),
    }

    sim.host()
        .config("default-product-id", &product.to_string())
        .config("pricing-in-notes", "true")
        .install();
    let p = payload(o);
    let po: PurchaseOrder = serde_json::from_str(&p.data).unwrap();
    assert_eq!(po.items[1].product_id, product.to_string());
    let notes = po.comments.clone().unwrap();
    assert!(
        notes.contains("2. Business cards FLY-9 [FLY-9]: 1 x 12.50 USD = 25.00 USD (tax 2.70 USD)"),
        "{notes}"
    );
    assert!(notes.contains("Total: 55.40 USD"), "{notes}");
    let r = push(&p, PushMode::Create).unwrap();
    let view = sim.order(r.external_id.parse().unwrap()).unwrap();
    assert_eq!(view.fields.comments, notes);
}

#[test]
fn presswise_refusals_and_failures_map_to_error_cases() {
    let sim = Sim::small();
    let product = sim.active_product();
    sim.host().install();
    let good = payload(order(
        "WEB-1",
        vec![item("li-1", "BC-1", Some(product), 1.0)],
    ));

    // A payload Presswise refuses: the field is the location (status code 2).
    let mut po: PurchaseOrder = serde_json::from_str(&good.data).unwrap();
    po.bill_to.city.clear();
    let e = push(
        &Payload {
            data: serde_json::to_string(&po).unwrap(),
        },
        PushMode::Create,
    )
    .unwrap_err();
    match e {
        ConnectorError::InvalidInput(i) => assert_eq!(i.location, "btCity"),
        other => panic!("{other:?}"),
    }
    // An unknown product (status code 4).
    let mut po: PurchaseOrder = serde_json::from_str(&good.data).unwrap();
    po.items[0].product_id = "987654".into();
    let e = push(
        &Payload {
            data: serde_json::to_string(&po).unwrap(),
        },
        PushMode::Create,
    )
    .unwrap_err();
    assert_eq!(kind(&e), "not-found", "{e:?}");
    assert_eq!(sim.counts().pushed_orders, 0);

    // A SOAP Fault (HTTP 500) is transient and names the operation.
    sim.set_faults(FaultConfig {
        fail_next: 1,
        error_rate: 0.0,
        scope: Some("find_orders".into()),
        ..FaultConfig::default()
    })
    .unwrap();
    let e = push(&good, PushMode::Find).unwrap_err();
    assert_eq!(kind(&e), "transient", "{e:?}");
    assert!(e.message().contains("find_orders"), "{e:?}");

    // A malformed answer to add_purchase_order is ambiguous: transient.
    sim.set_faults(FaultConfig {
        malformed_rate: 1.0,
        scope: Some("add_purchase_order".into()),
        ..FaultConfig::default()
    })
    .unwrap();
    let e = push(&good, PushMode::Create).unwrap_err();
    assert_eq!(kind(&e), "transient", "{e:?}");
    assert!(e.message().contains("add_purchase_order"), "{e:?}");
    sim.set_faults(FaultConfig::default()).unwrap();
    // …and the retry in find-or-create mode finds what was created.
    let r = push(&good, PushMode::FindOrCreate).unwrap();
    assert!(!r.created);
    assert_eq!(sim.count_for_source("WEB-1"), 1);

    // Wrong credentials on a push are an auth error.
    sim.host().secret("authorization-code", "nope").install();
    let e = push(&good, PushMode::Create).unwrap_err();
    assert_eq!(kind(&e), "auth", "{e:?}");
}
