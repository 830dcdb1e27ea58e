#![cfg(not(target_arch = "wasm32"))]
//! map-in on realistic order documents written from docs/pressero-api.md.

use serde_json::{json, Value};
use switchyard_plugin_pressero::map::order;
use switchyard_plugin_pressero::Pressero;
use switchyard_sdk::testing::FakeHost;
use switchyard_sdk::types::*;
use switchyard_sdk::Connector;

const ORDER_1001: &str = include_str!("fixtures/order-1001.json");

fn location(e: ConnectorError) -> String {
    match e {
        ConnectorError::InvalidInput(i) => i.location,
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

fn with(mut doc: Value, edit: impl FnOnce(&mut Value)) -> String {
    edit(&mut doc);
    doc.to_string()
}

fn fixture() -> Value {
    serde_json::from_str(ORDER_1001).unwrap()
}

#[test]
fn a_company_order_on_account_maps_to_the_canonical_order() {
    let o = order(ORDER_1001, true).unwrap();
    assert_eq!(o.external_id, "1001");
    assert_eq!(o.number, "1001");
    assert_eq!(o.placed_at, "2026-11-30T09:15:00Z");
    assert_eq!(o.updated_at.as_deref(), Some("2026-11-30T09:00:00.25Z"));
    assert_eq!(o.currency, "USD");
    assert_eq!(o.payment, PaymentState::OpenTerms);
    assert_eq!(o.payment_method.as_deref(), Some("Invoice"));
    // Money in minor units, exactly.
    assert_eq!(
        (o.subtotal, o.shipping_total, o.tax_total, o.total),
        (4549, 550, 1284, 5883)
    );
    assert_eq!(
        o.coupons,
        vec![Coupon {
            code: "WELCOME10".into(),
            amount: 500,
            description: None
        }]
    );

    // The customer is the company, the person its contact (R-A-2, R-D-1).
    assert_eq!(o.customer.kind, PartyKind::Company);
    assert_eq!(o.customer.company_name.as_deref(), Some("Acme Print Ltd"));
    assert_eq!(o.customer.email.as_deref(), Some("ann.buyer@example.com"));
    assert_eq!(o.customer.contacts.len(), 1);
    assert_eq!(o.customer.contacts[0].first_name.as_deref(), Some("Ann"));
    assert_eq!(o.customer.contacts[0].external_id.as_deref(), Some("u-77"));

    let bill = o.billing.unwrap();
    assert_eq!(bill.lines, ["1 Main St", "Suite 4"]);
    assert_eq!(bill.country.as_deref(), Some("US"));
    assert_eq!(bill.region.as_deref(), Some("IL"));
    assert_eq!(bill.postal_code.as_deref(), Some("60601"));
    let ship = o.shipping.unwrap();
    assert_eq!(ship.first_name.as_deref(), Some("Bob"));
    assert_eq!(ship.lines, ["9 Wharf Rd"]);
    assert_eq!(ship.phone, None);

    let [cards, flyer] = &o.items[..] else {
        panic!("two items")
    };
    assert_eq!(
        cards.external_id.as_deref(),
        Some("a1a1a1a1-0000-4000-8000-000000000001")
    );
    assert_eq!(cards.sku.as_deref(), Some("BC350-100"));
    assert_eq!(cards.product_code.as_deref(), Some("BC-350"));
    assert_eq!(cards.product_external_id.as_deref(), Some("p-0001"));
    assert_eq!(
        (cards.quantity, cards.total, cards.unit_price, cards.tax),
        (2.0, 2550, 1275, 689)
    );
    assert_eq!(cards.status, ItemStatus::Approved);
    assert!(!cards.files_pending);
    // 19.99 for 3 → 1999 total, 666 each (rounded), no float drift.
    assert_eq!((flyer.total, flyer.unit_price, flyer.tax), (1999, 666, 595));
    assert_eq!(flyer.status, ItemStatus::Pending);
    assert!(flyer.files_pending);
    let ext: Value = serde_json::from_str(&flyer.extension).unwrap();
    assert_eq!(ext["orderItemNumber"], "1001-2");
    assert_eq!(ext["shipping"], 550);

    // Payments 0.1 + 0.2 in the extension: 10 + 20 cents, never 30.000000000000004.
    let ext: Value = serde_json::from_str(&o.extension).unwrap();
    assert_eq!(ext["payments"][0]["amount"], 10);
    assert_eq!(ext["payments"][1]["amount"], 20);
    assert_eq!(ext["siteName"], "shop.example.com");
    assert_eq!(ext["productMatching"], true);
}

#[test]
fn a_private_order_is_a_person_and_missing_totals_are_derived() {
    let data = with(fixture(), |d| {
        d["Details"]["OrderedBy"]["Business"] = json!("");
        d["Details"]["PaymentStatus"] = json!("Paid");
        d["Details"].as_object_mut().unwrap().remove("SubTotal");
        d["Details"].as_object_mut().unwrap().remove("TaxTotal");
        d["Details"]["OrderTotal"] = json!("58.83");
        d["Details"]["BillTo"] = json!({});
    });
    let o = order(&data, false).unwrap();
    assert_eq!(o.customer.kind, PartyKind::Person);
    assert_eq!(o.customer.external_id.as_deref(), Some("u-77"));
    assert_eq!(o.customer.last_name.as_deref(), Some("Buyer"));
    assert!(o.customer.contacts.is_empty());
    assert_eq!(o.payment, PaymentState::Paid);
    assert_eq!(o.subtotal, 2550 + 1999);
    assert_eq!(o.tax_total, 689 + 595);
    assert_eq!(o.total, 5883);
    assert_eq!(o.billing, None);
    let ext: Value = serde_json::from_str(&o.extension).unwrap();
    assert_eq!(ext["productMatching"], false);
}

#[test]
fn every_payment_and_item_status_maps() {
    for (text, state) in [
        ("Paid", PaymentState::Paid),
        ("Unpaid", PaymentState::Unpaid),
        ("OnAccount", PaymentState::OpenTerms),
        ("PartiallyPaid", PaymentState::PartiallyPaid),
        ("Refunded", PaymentState::Refunded),
    ] {
        let data = with(fixture(), |d| d["Details"]["PaymentStatus"] = json!(text));
        assert_eq!(order(&data, true).unwrap().payment, state, "{text}");
    }
    for (text, status) in [
        ("Pending", ItemStatus::Pending),
        ("Approved", ItemStatus::Approved),
        ("Denied", ItemStatus::Denied),
        ("Cancelled", ItemStatus::Cancelled),
        ("InProduction", ItemStatus::InProduction),
        ("Shipped", ItemStatus::Shipped),
        ("Completed", ItemStatus::Completed),
    ] {
        let data = with(fixture(), |d| d["Items"][0]["StatusId"] = json!(text));
        assert_eq!(
            order(&data, true).unwrap().items[0].status,
            status,
            "{text}"
        );
    }
}

/// A change that breaks the fixture.
type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn malformed_data_is_invalid_input_naming_the_field() {
    let cases: Vec<(&str, Edit)> = vec![
        (
            "Details.OrderTotal",
            Box::new(|d| d["Details"]["OrderTotal"] = json!("12,50")),
        ),
        (
            "Details.OrderTotal",
            Box::new(|d| {
                d["Details"].as_object_mut().unwrap().remove("OrderTotal");
            }),
        ),
        (
            "Details.PaymentStatus",
            Box::new(|d| d["Details"]["PaymentStatus"] = json!("Maybe")),
        ),
        (
            "Details.OrderDate",
            Box::new(|d| d["Details"]["OrderDate"] = json!("last Tuesday")),
        ),
        (
            "Details.Currency",
            Box::new(|d| d["Details"]["Currency"] = json!(null)),
        ),
        (
            "Details.OrderNumber",
            Box::new(|d| d["Details"]["OrderNumber"] = json!("A-1")),
        ),
        (
            "Items[1].StatusId",
            Box::new(|d| d["Items"][1]["StatusId"] = json!("Lost")),
        ),
        (
            "Items[0].Price",
            Box::new(|d| d["Items"][0]["Price"] = json!(true)),
        ),
        (
            "Items[1].Quantity",
            Box::new(|d| d["Items"][1]["Quantity"] = json!(-1)),
        ),
        (
            "Items[0].FilesPending",
            Box::new(|d| d["Items"][0]["FilesPending"] = json!("no")),
        ),
        (
            "Details.Coupons[0].Code",
            Box::new(|d| d["Details"]["Coupons"][0]["Code"] = json!(null)),
        ),
        (
            "Payments[1].Amount",
            Box::new(|d| d["Payments"][1]["Amount"] = json!("x")),
        ),
    ];
    for (expected, edit) in cases {
        let data = with(fixture(), |d| edit(d));
        assert_eq!(location(order(&data, true).unwrap_err()), expected);
    }
    assert_eq!(location(order("not json", true).unwrap_err()), "data");
    assert_eq!(location(order("{}", true).unwrap_err()), "Details");
}

#[test]
fn map_in_through_the_connector_reads_the_product_matching_setting() {
    FakeHost::new()
        .config("disable-product-matching", "true")
        .install();
    let raw = RawRecord {
        external_id: "1001".into(),
        updated_at: None,
        data: ORDER_1001.into(),
    };
    let Entity::Order(o) = Pressero::map_in("orders".into(), raw.clone()).unwrap() else {
        panic!("an order")
    };
    let ext: Value = serde_json::from_str(&o.extension).unwrap();
    assert_eq!(ext["productMatching"], false);
    assert!(matches!(
        Pressero::map_in("invoices".into(), raw),
        Err(ConnectorError::NotFound(_))
    ));
    let err = Pressero::map_out("orders".into(), Entity::Order(o)).unwrap_err();
    assert!(
        matches!(err, ConnectorError::Permanent(ref m) if m.contains("not supported")),
        "{err:?}"
    );
}
