//! Matching against many records (R-A-2 … R-A-4: "matching stays fast with 100k contacts
//! and products"): seeds a SQLite store with contacts, companies and products bound to one
//! M-Power connection, then prints lookups per second for whole order requests (contact
//! by e-mail, company, address, two product lines) and for single e-mail keys.
//!
//! `cargo bench -p switchyard-engine --bench matching` (`SWITCHYARD_BENCH_RECORDS=N` to
//! change the 100,000).

use std::time::{Duration, Instant};

use switchyard_engine::inbox::{Decisions, Matcher};
use switchyard_engine::match_keys_of;
use switchyard_runtime::bindings::{
    Address, Customer, Entity, ItemStatus, Order, OrderItem, PartyKind, PaymentState, Product,
};
use switchyard_store::{
    ImportPage, ImportRecord, NewConnection, NewOrderRequest, RequestSource, SecretKey, Store,
};

fn product(i: usize) -> Product {
    Product {
        external_id: (i + 1).to_string(),
        sku: Some(format!("EXT-{i:08X}")),
        code: Some(format!("P-{i:06}")),
        name: format!("Product {i}"),
        names: vec![],
        short_description: None,
        long_description: None,
        price_excl_tax: Some(1000),
        price_incl_tax: None,
        currency: None,
        ean: None,
        quantity: None,
        categories: vec![],
        variants: vec![],
        properties: vec![],
        active: true,
        extension: "{}".into(),
    }
}

fn item(code: Option<String>, sku: Option<String>) -> OrderItem {
    OrderItem {
        external_id: Some("1".into()),
        sku,
        product_code: code,
        product_external_id: None,
        name: "Line".into(),
        quantity: 1.0,
        unit_price: 100,
        tax_rate_bp: None,
        tax: 0,
        total: 100,
        status: ItemStatus::Approved,
        files_pending: false,
        extension: "{}".into(),
    }
}

fn order(i: usize, n: usize) -> Order {
    let mut buyer = Customer::blank(PartyKind::Person);
    buyer.email = Some(format!(" Buyer{i}@Example{}.com", i % 97));
    buyer.company_name = Some(format!("Company {} B.V.", i / 3));
    Order {
        external_id: i.to_string(),
        number: i.to_string(),
        placed_at: "2026-12-01T00:00:00Z".into(),
        updated_at: None,
        currency: "EUR".into(),
        payment: PaymentState::Paid,
        payment_method: None,
        customer: buyer,
        billing: None,
        shipping: Some(Address {
            external_id: None,
            first_name: None,
            last_name: None,
            company: None,
            lines: vec![format!("Main St. {}", i % 500)],
            city: Some("Amsterdam".into()),
            postal_code: Some("1012AB".into()),
            region: None,
            country: Some("NL".into()),
            phone: None,
            email: None,
            extension: "{}".into(),
        }),
        coupons: vec![],
        items: vec![
            item(Some(format!("p-{:06}", (i * 7) % n)), None),
            item(None, Some(format!("ext-{:08x}", (i * 13) % n))),
        ],
        subtotal: 0,
        shipping_total: 0,
        tax_total: 0,
        total: 0,
        status: None,
        extension: "{}".into(),
    }
}

fn record(kind: &str, id: String, entity: Entity) -> ImportRecord {
    ImportRecord {
        kind: kind.into(),
        external_id: id,
        external_updated_at: None,
        match_keys: match_keys_of(&entity),
        data: serde_json::to_value(&entity).unwrap(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::var("SWITCHYARD_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("bench.db"), SecretKey::generate())
        .await
        .unwrap();
    let tenant = store.ensure_tenant("bench").await.unwrap();
    let conn = store
        .create_connection(NewConnection::new(tenant, "mpower", "mis"))
        .await
        .unwrap();
    let target = store.connection(conn).await.unwrap();

    let seeding = Instant::now();
    for start in (0..n).step_by(1000) {
        let mut records = Vec::with_capacity(2000);
        for i in start..(start + 1000).min(n) {
            let mut c = Customer::blank(PartyKind::Person);
            c.email = Some(format!("buyer{i}@example{}.com", i % 97));
            c.last_name = Some(format!("Buyer {i}"));
            c.company_external_id = Some(format!("company-{}", i / 3 + 1));
            records.push(record(
                "customer",
                format!("contact-{}", i + 1),
                Entity::Customer(c),
            ));
            if i % 3 == 0 {
                let mut co = Customer::blank(PartyKind::Company);
                co.company_name = Some(format!("Company {} BV", i / 3));
                records.push(record(
                    "customer",
                    format!("company-{}", i / 3 + 1),
                    Entity::Customer(co),
                ));
            }
            records.push(record(
                "product",
                (i + 1).to_string(),
                Entity::Product(product(i)),
            ));
        }
        store
            .apply_import_page(ImportPage {
                tenant,
                connection: conn,
                stream: "seed",
                run: None,
                records,
                next_cursor: None,
            })
            .await
            .unwrap();
    }
    let seeded = seeding.elapsed();
    println!(
        "seeded {n} contacts, {} companies and {n} products in {:.1} s",
        n.div_ceil(3),
        seeded.as_secs_f64()
    );

    let sample = order(0, n);
    let data = serde_json::to_value(Entity::Order(sample)).unwrap();
    let (request, _) = store
        .upsert_order_request(NewOrderRequest {
            tenant,
            target: conn,
            source: RequestSource::Integration,
            source_name: "shop",
            flow: None,
            canonical: None,
            reference: "0",
            order: &data,
        })
        .await
        .unwrap();
    let matcher = Matcher {
        store: &store,
        target: &target,
    };
    let decisions = Decisions::default();

    // Whole requests: the contact (one match), its company, the address, two lines.
    let budget = Duration::from_secs(5);
    let started = Instant::now();
    let mut done = 0usize;
    let mut matched = 0usize;
    while started.elapsed() < budget {
        let i = (done * 7919) % n;
        let e = matcher
            .evaluate(&request, &order(i, n), &decisions)
            .await
            .unwrap();
        if e.contact.contact.is_some() && e.lines.iter().all(|l| l.product.is_some()) {
            matched += 1;
        }
        done += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(matched, done, "every seeded buyer and product is found");
    println!(
        "order requests matched: {done} in {secs:.2} s = {:.0} requests/s ({:.0} key lookups/s, 5 per request)",
        done as f64 / secs,
        done as f64 * 5.0 / secs
    );

    // Single e-mail keys, indexed (the contact lookup alone).
    let started = Instant::now();
    let mut lookups = 0usize;
    while started.elapsed() < budget {
        let i = (lookups * 104_729) % n;
        let found = store
            .find_bound_by_match_key(
                tenant,
                conn,
                "customer",
                "email",
                &format!("buyer{i}@example{}.com", i % 97),
                20,
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        lookups += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "contacts by e-mail: {lookups} lookups in {secs:.2} s = {:.0} lookups/s",
        lookups as f64 / secs
    );
}
