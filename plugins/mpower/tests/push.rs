#![cfg(not(target_arch = "wasm32"))]
//! map-out and push against the M-Power simulator.

mod support;

use support::{kind, Sim};
use switchyard_plugin_mpower::Mpower;
use switchyard_sdk::testing::sent_requests;
use switchyard_sdk::types::*;
use switchyard_sdk::Connector;
use switchyard_sim::mpower::MpowerFaults;

fn company(name: &str, vat: Option<&str>) -> Customer {
    Customer {
        company_name: Some(name.into()),
        vat_number: vat.map(Into::into),
        email: Some("info@zebra-print.example".into()),
        phone: Some("+31 20 555 0000".into()),
        extension: r#"{"legal_form":"B.V."}"#.into(),
        ..Customer::blank(PartyKind::Company)
    }
}

fn contact(company_id: &str, email: &str) -> Customer {
    Customer {
        first_name: Some("Zoë".into()),
        last_name: Some("de Vries".into()),
        email: Some(email.into()),
        company_external_id: Some(company_id.into()),
        ..Customer::blank(PartyKind::Person)
    }
}

fn address_of(company_id: &str, line: &str) -> Customer {
    Customer {
        external_id: Some(company_id.into()),
        addresses: vec![Address {
            external_id: None,
            first_name: None,
            last_name: None,
            company: None,
            lines: vec![line.into()],
            city: Some("Amsterdam".into()),
            postal_code: Some("1017 CE".into()),
            region: None,
            country: Some("nl".into()),
            phone: None,
            email: None,
            extension: r#"{"label":"Warehouse"}"#.into(),
        }],
        ..Customer::blank(PartyKind::Company)
    }
}

fn product(code: &str, sku: &str, cents: i64) -> Product {
    Product {
        external_id: format!("src-{code}"),
        sku: Some(sku.into()),
        code: Some(code.into()),
        name: format!("Poster {code}"),
        names: vec![],
        short_description: None,
        long_description: None,
        price_excl_tax: Some(cents),
        price_incl_tax: None,
        currency: Some("EUR".into()),
        ean: None,
        quantity: None,
        categories: vec![],
        variants: vec![],
        properties: vec![],
        active: true,
        extension: "{}".into(),
    }
}

fn item(id: &str, product: Option<&str>, quantity: f64, cents: i64) -> OrderItem {
    OrderItem {
        external_id: Some(id.into()),
        sku: None,
        product_code: None,
        product_external_id: product.map(Into::into),
        name: format!("Item {id}"),
        quantity,
        unit_price: cents,
        tax_rate_bp: None,
        tax: 0,
        total: (cents as f64 * quantity) as i64,
        status: ItemStatus::Approved,
        files_pending: false,
        extension: "{}".into(),
    }
}

fn addr(id: Option<&str>) -> Address {
    Address {
        external_id: id.map(Into::into),
        first_name: None,
        last_name: None,
        company: None,
        lines: vec!["Dam 1".into()],
        city: Some("Amsterdam".into()),
        postal_code: Some("1012 JS".into()),
        region: None,
        country: Some("NL".into()),
        phone: None,
        email: None,
        extension: "{}".into(),
    }
}

fn order(
    number: &str,
    company: &str,
    contact: &str,
    address: &str,
    items: Vec<OrderItem>,
) -> Order {
    Order {
        external_id: number.into(),
        number: number.into(),
        placed_at: "2026-12-01T10:00:00Z".into(),
        updated_at: None,
        currency: "EUR".into(),
        payment: PaymentState::Paid,
        payment_method: None,
        customer: Customer {
            external_id: Some(contact.into()),
            company_external_id: Some(company.into()),
            ..Customer::blank(PartyKind::Person)
        },
        billing: Some(addr(Some("pressero-billing-7"))),
        shipping: Some(addr(Some(address))),
        coupons: vec![],
        subtotal: 0,
        shipping_total: 0,
        tax_total: 0,
        total: 0,
        items,
        status: None,
        extension: r#"{"notes":"deliver before noon"}"#.into(),
    }
}

fn push(
    stream: &str,
    entity: Entity,
    key: &str,
    mode: PushMode,
) -> Result<PushResult, ConnectorError> {
    let payload = Mpower::map_out(stream.into(), entity).expect("map-out");
    push_payload(stream, payload, key, mode)
}

fn push_payload(
    stream: &str,
    payload: Payload,
    key: &str,
    mode: PushMode,
) -> Result<PushResult, ConnectorError> {
    Mpower::push(PushRequest {
        stream: stream.into(),
        payload,
        idempotency_key: key.into(),
        external_id: None,
        mode,
    })
}

fn id_of(external_id: &str) -> u64 {
    external_id.rsplit('-').next().unwrap().parse().unwrap()
}

/// Pushes a company, a contact and an address under it and a product; returns their ids.
fn chain(sim: &Sim) -> (String, String, String, String) {
    let c = push(
        "companies",
        Entity::Customer(company("Zebra Print B.V.", Some("NL999999999B01"))),
        "k-c",
        PushMode::Create,
    )
    .unwrap();
    assert!(c.created);
    assert!(c.external_id.starts_with("company-"), "{c:?}");
    let cj = sim.company_json(id_of(&c.external_id)).unwrap();
    assert_eq!(cj["name"], "Zebra Print B.V.");
    assert_eq!(cj["legal_form"], "B.V.");
    assert_eq!(cj["vat_number"], "NL999999999B01");

    let p = push(
        "contacts",
        Entity::Customer(contact(&c.external_id, "zoe@zebra-print.example")),
        "k-p",
        PushMode::Create,
    )
    .unwrap();
    assert!(p.created);
    assert!(p.external_id.starts_with("contact-"));
    let pj = sim.contact_json(id_of(&p.external_id)).unwrap();
    assert_eq!(pj["company_id"], id_of(&c.external_id));
    assert_eq!(pj["last_name"], "de Vries");

    let a = push(
        "addresses",
        Entity::Customer(address_of(&c.external_id, "Prinsengracht 263a")),
        "k-a",
        PushMode::Create,
    )
    .unwrap();
    assert!(a.created);
    assert!(a.external_id.starts_with("address-"));
    let aj = sim.address_json(id_of(&a.external_id)).unwrap();
    assert_eq!(aj["company_id"], id_of(&c.external_id));
    assert_eq!(aj["street"], "Prinsengracht");
    assert_eq!(aj["house_number"], "263a");
    assert_eq!(aj["postcode"], "1017 CE");
    assert_eq!(aj["country"], "NL");
    assert_eq!(aj["label"], "Warehouse");

    let pr = push(
        "products",
        Entity::Product(product("ZP-A2", "SKU-ZP-A2", 1250)),
        "k-pr",
        PushMode::Create,
    )
    .unwrap();
    assert!(pr.created);
    let prj = sim.product_json(pr.external_id.parse().unwrap()).unwrap();
    assert_eq!(prj["product_code"], "ZP-A2");
    assert_eq!(prj["external_id"], "SKU-ZP-A2");
    assert_eq!(prj["price"], "12.50");
    (c.external_id, p.external_id, a.external_id, pr.external_id)
}

#[test]
fn a_company_contact_address_product_and_order_are_pushed() {
    let sim = Sim::small();
    sim.host().install();
    let (c, p, a, pr) = chain(&sim);
    let o = order(
        "PR-1",
        &c,
        &p,
        &a,
        vec![
            item("li-1", Some(&pr), 2.0, 1250),
            item("li-2", Some("1"), 1.0, 999),
        ],
    );
    let r = push("orders", Entity::Order(o), "order-key-1", PushMode::Create).unwrap();
    assert!(r.created);
    assert_eq!(r.status.as_deref(), Some("open"));
    let oj = sim.order_json(r.external_id.parse().unwrap()).unwrap();
    assert_eq!(oj["company_id"], id_of(&c));
    assert_eq!(oj["contact_id"], id_of(&p));
    assert_eq!(oj["address_id"], id_of(&a));
    assert!(
        oj["invoice_address_id"].is_null(),
        "billing had no M-Power id"
    );
    assert_eq!(oj["external_reference"], "PR-1");
    assert_eq!(oj["notes"], "deliver before noon");
    assert_eq!(oj["lines"][0]["product_id"], pr.parse::<u64>().unwrap());
    assert_eq!(oj["lines"][0]["quantity"], 2);
    assert_eq!(oj["lines"][0]["price"], "12.50");
    assert_eq!(oj["lines"][0]["description"], "Item li-1");
    assert_eq!(oj["lines"][1]["price"], "9.99");
    assert_eq!(r.items.len(), 2);
    assert_eq!(r.items[0].source_id, "li-1");
    assert_eq!(r.items[0].external_id, "1");
    assert_eq!(r.items[1].source_id, "li-2");
    assert_eq!(r.items[1].external_id, "2");
    let created = sim.created(Some("orders"));
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].idempotency_key.as_deref(), Some("order-key-1"));
    let sent = sent_requests();
    let last = sent.last().unwrap();
    assert_eq!(last.header("Idempotency-Key"), Some("order-key-1"));
    assert!(!last.placeholder_body.contains(sim.api_key()));

    // Found again by its reference, and by `find`.
    let o = order(
        "PR-1",
        &c,
        &p,
        &a,
        vec![
            item("li-1", Some(&pr), 2.0, 1250),
            item("li-2", Some("1"), 1.0, 999),
        ],
    );
    let again = push("orders", Entity::Order(o), "another-key", PushMode::Find).unwrap();
    assert!(!again.created);
    assert_eq!(again.external_id, r.external_id);
    assert_eq!(again.items[1].source_id, "li-2");
    // A create with another key hits the unique reference: found, not duplicated.
    let o = order("PR-1", &c, &p, &a, vec![item("li-1", Some(&pr), 2.0, 1250)]);
    let dup = push("orders", Entity::Order(o), "third-key", PushMode::Create).unwrap();
    assert!(!dup.created);
    assert_eq!(dup.external_id, r.external_id);
    assert_eq!(sim.created(Some("orders")).len(), 1);
}

#[test]
fn the_same_idempotency_key_creates_one_order() {
    let sim = Sim::small();
    sim.host().install();
    let (c, p, a, pr) = chain(&sim);
    let make = || order("PR-2", &c, &p, &a, vec![item("li-1", Some(&pr), 1.0, 1250)]);
    let first = push(
        "orders",
        Entity::Order(make()),
        "same-key",
        PushMode::Create,
    )
    .unwrap();
    let second = push(
        "orders",
        Entity::Order(make()),
        "same-key",
        PushMode::Create,
    )
    .unwrap();
    assert_eq!(first.external_id, second.external_id);
    assert_eq!(sim.created(Some("orders")).len(), 1);
    assert_eq!(sim.counts().idempotent_replays, 1);
}

#[test]
fn find_or_create_after_a_lost_answer_creates_nothing_twice() {
    let sim = Sim::small();
    sim.host().install();
    let (c, _, a, pr) = chain(&sim);
    let before = sim.counts();

    // A contact: the answer is lost after the commit.
    sim.set_mpower_faults(MpowerFaults {
        fail_after_commit_next: 1,
    });
    let person = contact(&c, "Lost.Answer@zebra-print.example");
    let e = push(
        "contacts",
        Entity::Customer(person.clone()),
        "k1",
        PushMode::Create,
    )
    .unwrap_err();
    assert_eq!(kind(&e), "transient", "{e:?}");
    let r = push(
        "contacts",
        Entity::Customer(person),
        "k1",
        PushMode::FindOrCreate,
    )
    .unwrap();
    assert!(!r.created);
    let after = sim.counts();
    assert_eq!(after.contacts, before.contacts + 1);
    assert_eq!(
        sim.created(Some("contacts")).len(),
        2,
        "the chain's one and this one"
    );
    assert_eq!(
        sim.created(Some("contacts")).last().unwrap().id,
        id_of(&r.external_id)
    );

    // An order.
    let p = r.external_id.clone();
    sim.set_mpower_faults(MpowerFaults {
        fail_after_commit_next: 1,
    });
    let o = order("PR-3", &c, &p, &a, vec![item("li-9", Some(&pr), 3.0, 100)]);
    let e = push("orders", Entity::Order(o.clone()), "k2", PushMode::Create).unwrap_err();
    assert_eq!(kind(&e), "transient");
    let r = push("orders", Entity::Order(o), "k2", PushMode::FindOrCreate).unwrap();
    assert!(!r.created);
    assert_eq!(r.items[0].source_id, "li-9");
    assert_eq!(sim.created(Some("orders")).len(), 1);
    assert_eq!(sim.counts().orders, before.orders + 1);
    assert_eq!(
        sim.order_by_external_reference("PR-3").unwrap()["id"],
        r.external_id.parse::<u64>().unwrap()
    );
}

#[test]
fn find_or_create_finds_existing_companies_addresses_and_products() {
    let sim = Sim::small();
    sim.host().install();
    let before = sim.counts();
    // Acme B.V. by its VAT number in another spelling.
    let r = push(
        "companies",
        Entity::Customer(company("Acme", Some("nl123456789b01"))),
        "k",
        PushMode::FindOrCreate,
    )
    .unwrap();
    assert!(!r.created);
    assert_eq!(r.external_id, "company-1");
    // Company 1's head office, written differently.
    let r = push(
        "addresses",
        Entity::Customer(Customer {
            addresses: vec![Address {
                lines: vec!["main  STREET 1".into()],
                postal_code: Some("1012ab".into()),
                ..address_of("company-1", "x").addresses[0].clone()
            }],
            ..address_of("company-1", "x")
        }),
        "k",
        PushMode::FindOrCreate,
    )
    .unwrap();
    assert!(!r.created, "{r:?}");
    assert_eq!(
        sim.address_json(id_of(&r.external_id)).unwrap()["company_id"],
        1
    );
    // A product by its code; and a create of a taken code answers the existing one.
    let existing = sim.product_json(1).unwrap();
    let code = existing["product_code"].as_str().unwrap();
    let r = push(
        "products",
        Entity::Product(product(code, "SKU-NEW-1", 500)),
        "k",
        PushMode::FindOrCreate,
    )
    .unwrap();
    assert_eq!((r.external_id.as_str(), r.created), ("1", false));
    let r = push(
        "products",
        Entity::Product(product(code, "SKU-NEW-2", 500)),
        "k",
        PushMode::Create,
    )
    .unwrap();
    assert_eq!((r.external_id.as_str(), r.created), ("1", false));
    // Nothing was created.
    assert_eq!(sim.counts().companies, before.companies);
    assert_eq!(sim.counts().addresses, before.addresses);
    assert_eq!(sim.counts().products, before.products);
    assert!(sim.created(None).is_empty());

    // `find` of something that is not there.
    let e = push(
        "companies",
        Entity::Customer(company("No Such Company Ltd", None)),
        "k",
        PushMode::Find,
    )
    .unwrap_err();
    assert_eq!(kind(&e), "not-found");
}

#[test]
fn missing_ids_fail_map_out_permanently_and_bad_input_names_the_field() {
    let sim = Sim::small();
    sim.host().install();
    let o = order(
        "PR-1",
        "company-1",
        "contact-1",
        "address-1",
        vec![item("a", Some("1"), 1.0, 100), item("b", None, 1.0, 100)],
    );
    let e = Mpower::map_out("orders".into(), Entity::Order(o)).unwrap_err();
    assert_eq!(kind(&e), "permanent");
    assert!(
        e.message()
            .contains("order PR-1 line 2 has no M-Power product id"),
        "{e:?}"
    );
    let mut o = order(
        "PR-1",
        "company-1",
        "contact-1",
        "address-1",
        vec![item("a", Some("1"), 1.0, 100)],
    );
    o.customer.company_external_id = None;
    let e = Mpower::map_out("orders".into(), Entity::Order(o)).unwrap_err();
    assert_eq!(kind(&e), "permanent");
    assert!(e.message().contains("company-external-id"), "{e:?}");
    let e = Mpower::map_out(
        "contacts".into(),
        Entity::Customer(Customer {
            company_external_id: None,
            ..contact("x", "a@b.example")
        }),
    )
    .unwrap_err();
    assert_eq!(kind(&e), "permanent");
    assert!(e.message().contains("company-external-id"));

    // The contact's company does not fit the order: M-Power's 422 names the field.
    let o = order(
        "PR-9",
        "company-2",
        "contact-1",
        "address-1",
        vec![item("a", Some("1"), 1.0, 100)],
    );
    let e = push("orders", Entity::Order(o), "k", PushMode::Create).unwrap_err();
    assert_eq!(kind(&e), "permanent", "{e:?}");
    assert!(e.message().contains("contact_id"), "{e:?}");
}
