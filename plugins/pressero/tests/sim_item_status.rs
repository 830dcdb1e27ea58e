#![cfg(not(target_arch = "wasm32"))]
//! The `item-status` stream against the Pressero simulator on 127.0.0.1.

mod common;

use common::{fetch_req, Sim};
use switchyard_plugin_pressero::Pressero;
use switchyard_sdk::types::*;
use switchyard_sdk::Connector;

const PUT_STATUS: &str = "PUT /api/v2/orders/{n}/item/{i}/status/{statusId}";
const POST_SHIPMENT: &str = "POST /api/v2/orders/shipments";

/// The first order the orders stream imports, as the host would hold it.
fn first_order() -> Order {
    let page = Pressero::fetch(fetch_req("orders", None, 5)).unwrap();
    let raw = page.records[0].clone();
    match Pressero::map_in("orders".into(), raw).unwrap() {
        Entity::Order(o) => o,
        other => panic!("{other:?}"),
    }
}

fn update(
    order: &Order,
    item: Option<&str>,
    status: ItemStatus,
    text: Option<&str>,
    shipment: Option<Shipment>,
) -> StatusUpdate {
    StatusUpdate {
        order_external_id: order.external_id.clone(),
        item_external_id: item.map(str::to_string),
        status,
        status_text: text.map(str::to_string),
        shipment,
        extension: "{}".into(),
    }
}

fn push(u: StatusUpdate, mode: PushMode) -> Result<PushResult, ConnectorError> {
    let payload = Pressero::map_out("item-status".into(), Entity::StatusUpdate(u))?;
    Pressero::push(PushRequest {
        stream: "item-status".into(),
        payload,
        idempotency_key: "k-1".into(),
        external_id: None,
        mode,
    })
}

fn ups(tracking: &str) -> Shipment {
    Shipment {
        carrier: Some("UPS".into()),
        tracking_number: Some(tracking.into()),
        tracking_url: Some(format!("https://ups.example/track/{tracking}")),
        shipped_at: Some("2026-12-02T08:00:00Z".into()),
    }
}

#[test]
fn a_status_is_written_back_to_the_item_the_orders_stream_imported() {
    let sim = Sim::small();
    sim.install();
    let order = first_order();
    let number: u64 = order.number.parse().unwrap();
    let item = order.items[0].external_id.clone().unwrap();

    let r = push(
        update(
            &order,
            Some(&item),
            ItemStatus::InProduction,
            Some("Plates made & mounted"),
            None,
        ),
        PushMode::Create,
    )
    .unwrap();
    assert_eq!(r.external_id, item);
    assert_eq!(r.status.as_deref(), Some("In Production"));
    assert!(!r.created);
    assert_eq!(r.items.len(), 1);
    assert_eq!(r.items[0].source_id, item);

    // Visible through the simulator's own API.
    let items = sim.sim.order_items_json(number).unwrap();
    assert_eq!(items[0]["OrderItemId"], item.as_str());
    assert_eq!(items[0]["StatusId"], "InProduction");
    assert_eq!(items[0]["Notes"], "Plates made & mounted");

    // The same update again writes nothing.
    let puts = sim.sim.request_count(PUT_STATUS);
    let again = push(
        update(
            &order,
            Some(&item),
            ItemStatus::InProduction,
            Some("Plates made & mounted"),
            None,
        ),
        PushMode::Create,
    )
    .unwrap();
    assert_eq!(again.status.as_deref(), Some("In Production"));
    assert_eq!(sim.sim.request_count(PUT_STATUS), puts);

    // find: reports, never writes.
    let found = push(
        update(&order, Some(&item), ItemStatus::Completed, None, None),
        PushMode::Find,
    )
    .unwrap();
    assert_eq!(found.status.as_deref(), Some("In Production"));
    assert_eq!(
        sim.sim.order_items_json(number).unwrap()[0]["StatusId"],
        "InProduction"
    );
}

#[test]
fn a_shipment_is_recorded_once_however_often_it_is_pushed() {
    let sim = Sim::small();
    sim.install();
    let order = first_order();
    let number: u64 = order.number.parse().unwrap();
    let item = order.items[0].external_id.clone().unwrap();
    let before = sim.sim.counts().shipments;

    let r = push(
        update(
            &order,
            Some(&item),
            ItemStatus::Shipped,
            Some("On its way"),
            Some(ups("1Z999")),
        ),
        PushMode::Create,
    )
    .unwrap();
    assert!(r.created, "a shipment was recorded");
    assert_eq!(r.status.as_deref(), Some("Shipped"));
    assert_eq!(sim.sim.counts().shipments, before + 1);
    let items = sim.sim.order_items_json(number).unwrap();
    assert_eq!(items[0]["StatusId"], "Shipped");
    assert_eq!(items[0]["ShipmentTracking"]["Carrier"], "UPS");
    assert_eq!(items[0]["ShipmentTracking"]["TrackingNumber"], "1Z999");
    assert_eq!(items[0]["Notes"], "On its way");

    // A retry (e.g. the answer was lost) finds the shipment and records no second one.
    for mode in [PushMode::Create, PushMode::FindOrCreate] {
        let again = push(
            update(
                &order,
                Some(&item),
                ItemStatus::Shipped,
                Some("On its way"),
                Some(ups("1Z999")),
            ),
            mode,
        )
        .unwrap();
        assert!(!again.created);
        assert_eq!(again.status.as_deref(), Some("Shipped"));
    }
    assert_eq!(sim.sim.counts().shipments, before + 1);
    assert_eq!(sim.sim.request_count(POST_SHIPMENT), 1);

    // The whole order: the other items get one shipment, then Completed.
    let all = push(
        update(
            &order,
            None,
            ItemStatus::Completed,
            None,
            Some(ups("1Z999")),
        ),
        PushMode::Create,
    )
    .unwrap();
    assert_eq!(all.external_id, order.number);
    assert_eq!(all.items.len(), order.items.len());
    assert_eq!(all.status.as_deref(), Some("Completed"));
    let expected = if order.items.len() > 1 {
        before + 2
    } else {
        before + 1
    };
    assert_eq!(sim.sim.counts().shipments, expected);
    for it in sim
        .sim
        .order_items_json(number)
        .unwrap()
        .as_array()
        .unwrap()
    {
        assert_eq!(it["StatusId"], "Completed");
        assert_eq!(it["ShipmentTracking"]["TrackingNumber"], "1Z999");
    }
}

#[test]
fn bad_references_and_status_ids_are_named() {
    let sim = Sim::small();
    sim.install();
    let order = first_order();
    let mut missing = update(
        &order,
        Some("no-such-item"),
        ItemStatus::Approved,
        None,
        None,
    );
    assert!(matches!(
        push(missing.clone(), PushMode::Create),
        Err(ConnectorError::NotFound(_))
    ));
    missing.order_external_id = "99999".into();
    missing.item_external_id = None;
    assert!(matches!(
        push(missing.clone(), PushMode::Create),
        Err(ConnectorError::NotFound(_))
    ));
    missing.order_external_id = "A-1".into();
    match push(missing, PushMode::Create).unwrap_err() {
        ConnectorError::InvalidInput(i) => assert_eq!(i.location, "order-external-id"),
        other => panic!("{other:?}"),
    }
    let mut no_carrier = ups("1Z1");
    no_carrier.carrier = None;
    match push(
        update(&order, None, ItemStatus::Shipped, None, Some(no_carrier)),
        PushMode::Create,
    )
    .unwrap_err()
    {
        ConnectorError::InvalidInput(i) => assert_eq!(i.location, "shipment.carrier"),
        other => panic!("{other:?}"),
    }

    // A site-specific status id is used as configured (the simulator knows only its own).
    sim.host()
        .config("item-status-ids", "approved=ArtworkOK")
        .install();
    let item = order.items[0].external_id.clone();
    let err = push(
        update(&order, item.as_deref(), ItemStatus::Approved, None, None),
        PushMode::Create,
    )
    .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::InvalidInput(_)) && err.message().contains("ArtworkOK"),
        "{err:?}"
    );
}
