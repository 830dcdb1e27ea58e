#![cfg(not(target_arch = "wasm32"))]
//! The `products`, `categories` and `users` streams against the Pressero simulator.

mod common;

use common::{fetch_req, Sim, SITE};
use serde_json::{json, Value};
use switchyard_plugin_pressero::Pressero;
use switchyard_sdk::types::*;
use switchyard_sdk::Connector;

fn product(code: &str, name: &str, price: i64, categories: &[&str]) -> Product {
    Product {
        external_id: format!("mis-{code}"),
        sku: Some(format!("{code}-SKU")),
        code: Some(code.into()),
        name: name.into(),
        names: Vec::new(),
        short_description: None,
        long_description: None,
        price_excl_tax: Some(price),
        price_incl_tax: None,
        currency: Some("USD".into()),
        ean: None,
        quantity: None,
        categories: categories.iter().map(|c| c.to_string()).collect(),
        variants: Vec::new(),
        properties: Vec::new(),
        active: true,
        extension: "{}".into(),
    }
}

fn category(id: &str, name: &str, parent: Option<&str>) -> Category {
    Category {
        external_id: id.into(),
        name: name.into(),
        parent_external_id: parent.map(str::to_string),
        extension: "{}".into(),
    }
}

fn push(
    stream: &str,
    entity: Entity,
    external_id: Option<&str>,
    mode: PushMode,
) -> Result<PushResult, ConnectorError> {
    let payload = Pressero::map_out(stream.into(), entity)?;
    Pressero::push(PushRequest {
        stream: stream.into(),
        payload,
        idempotency_key: "k".into(),
        external_id: external_id.map(str::to_string),
        mode,
    })
}

/// Every record of a stream, paging with `size`; also the number of pages.
fn fetch_all(
    stream: &str,
    size: u32,
    cursor: Option<String>,
) -> (Vec<RawRecord>, usize, Option<String>) {
    let mut cursor = cursor;
    let mut out = Vec::new();
    for pages in 1..1000 {
        let page = Pressero::fetch(fetch_req(stream, cursor.clone(), size)).unwrap();
        assert!(page.records.len() <= size as usize);
        out.extend(page.records);
        cursor = page.next_cursor;
        if !page.has_more {
            return (out, pages, cursor);
        }
    }
    panic!("no end");
}

fn by_id(stream: &str, id: &str) -> Entity {
    let mut req = fetch_req(stream, None, 10);
    req.external_ids = vec![id.to_string()];
    let page = Pressero::fetch(req).unwrap();
    assert_eq!(page.records.len(), 1, "{id}");
    Pressero::map_in(stream.into(), page.records[0].clone()).unwrap()
}

fn product_by_id(id: &str) -> Product {
    match by_id("products", id) {
        Entity::Product(p) => p,
        other => panic!("{other:?}"),
    }
}

fn root_id() -> String {
    let (cats, _, _) = fetch_all("categories", 500, None);
    cats.iter()
        .map(
            |r| match Pressero::map_in("categories".into(), r.clone()).unwrap() {
                Entity::Category(c) => c,
                other => panic!("{other:?}"),
            },
        )
        .find(|c| c.parent_external_id.is_none())
        .unwrap()
        .external_id
}

#[test]
fn a_product_is_created_under_root_then_updated_and_found_by_code() {
    let sim = Sim::small();
    sim.install();
    let before = sim.sim.counts().products;
    let root = root_id();

    // Its category is not on the site: it goes under Root. New products are active.
    let mut p = product(
        "MIS-BC-100",
        "Business cards, 100",
        1999,
        &["mis-cat-missing"],
    );
    p.active = false;
    let created = push(
        "products",
        Entity::Product(p.clone()),
        None,
        PushMode::Create,
    )
    .unwrap();
    assert!(created.created);
    assert_eq!(sim.sim.counts().products, before + 1);
    let got = product_by_id(&created.external_id);
    assert_eq!(got.code.as_deref(), Some("MIS-BC-100"));
    assert_eq!(got.sku.as_deref(), Some("MIS-BC-100-SKU"));
    assert_eq!(got.name, "Business cards, 100");
    assert_eq!(got.price_excl_tax, Some(1999));
    assert_eq!(got.currency.as_deref(), Some("USD"));
    assert!(got.active, "downloaded products are active (R-B-7)");
    assert_eq!(got.categories, vec![root.clone()]);
    let ext: Value = serde_json::from_str(&got.extension).unwrap();
    assert_eq!(ext["integrationData"], r#"{"externalId":"mis-MIS-BC-100"}"#);
    assert_eq!(ext["integrationExternalId"], "mis-MIS-BC-100");

    // Update by external id: the fields change, the integration data stays on the product.
    let mut changed = p.clone();
    changed.name = "Business cards, 100 (matt)".into();
    changed.price_excl_tax = Some(2450);
    changed.active = true;
    let updated = push(
        "products",
        Entity::Product(changed.clone()),
        Some(&created.external_id),
        PushMode::Create,
    )
    .unwrap();
    assert!(!updated.created);
    assert_eq!(updated.external_id, created.external_id);
    let got = product_by_id(&created.external_id);
    assert_eq!(got.name, "Business cards, 100 (matt)");
    assert_eq!(got.price_excl_tax, Some(2450));
    assert_eq!(
        got.categories,
        vec![root],
        "no category resolved: the product keeps its own"
    );

    // find-or-create (the answer of an earlier create was lost): found by code, not created.
    let again = push(
        "products",
        Entity::Product(changed.clone()),
        None,
        PushMode::FindOrCreate,
    )
    .unwrap();
    assert!(!again.created);
    assert_eq!(again.external_id, created.external_id);
    assert_eq!(sim.sim.counts().products, before + 1);
    // A plain create of the same code: Pressero refuses, the plugin names the existing one.
    match push("products", Entity::Product(changed), None, PushMode::Create).unwrap_err() {
        ConnectorError::AlreadyExists(a) => assert_eq!(a.external_id, created.external_id),
        other => panic!("{other:?}"),
    }
    // find never creates.
    assert!(matches!(
        push(
            "products",
            Entity::Product(product("NOPE-1", "x", 1, &[])),
            None,
            PushMode::Find
        ),
        Err(ConnectorError::NotFound(_))
    ));
    let found = push(
        "products",
        Entity::Product(product("MIS-BC-100", "x", 1, &[])),
        None,
        PushMode::Find,
    )
    .unwrap();
    assert_eq!(found.external_id, created.external_id);
    // An unknown product to update is not-found.
    assert!(matches!(
        push(
            "products",
            Entity::Product(product("MIS-X", "x", 1, &[])),
            Some("00000000-0000-4000-8000-000000000000"),
            PushMode::Create
        ),
        Err(ConnectorError::NotFound(_))
    ));
    assert_eq!(sim.sim.counts().products, before + 1);
}

#[test]
fn categories_are_created_and_products_find_them_by_the_source_id() {
    let sim = Sim::small();
    sim.install();
    let root = root_id();
    let parent = push(
        "categories",
        Entity::Category(category("mis-cat-1", "MIS Flyers", None)),
        None,
        PushMode::Create,
    )
    .unwrap();
    assert!(parent.created);
    let child = push(
        "categories",
        Entity::Category(category("mis-cat-2", "MIS Flyers A5", Some("mis-cat-1"))),
        None,
        PushMode::Create,
    )
    .unwrap();
    let c = match by_id("categories", &child.external_id) {
        Entity::Category(c) => c,
        other => panic!("{other:?}"),
    };
    assert_eq!(c.name, "MIS Flyers A5");
    assert_eq!(
        c.parent_external_id.as_deref(),
        Some(parent.external_id.as_str())
    );
    let p = match by_id("categories", &parent.external_id) {
        Entity::Category(c) => c,
        other => panic!("{other:?}"),
    };
    assert_eq!(p.parent_external_id.as_deref(), Some(root.as_str()));
    let ext: Value = serde_json::from_str(&p.extension).unwrap();
    assert_eq!(ext["integrationExternalId"], "mis-cat-1");

    // A repeat (find-or-create) finds it by its integration data; an update renames it.
    let count = sim.sim.counts().categories;
    let again = push(
        "categories",
        Entity::Category(category("mis-cat-1", "MIS Flyers", None)),
        None,
        PushMode::FindOrCreate,
    )
    .unwrap();
    assert_eq!(
        (again.external_id.as_str(), again.created),
        (parent.external_id.as_str(), false)
    );
    let renamed = push(
        "categories",
        Entity::Category(category("mis-cat-1", "MIS Leaflets", None)),
        Some(&parent.external_id),
        PushMode::Create,
    )
    .unwrap();
    assert!(!renamed.created);
    assert_eq!(sim.sim.counts().categories, count);

    // A product naming the source category goes under it.
    let made = push(
        "products",
        Entity::Product(product("MIS-FL-A5", "Flyer A5", 500, &["mis-cat-2"])),
        None,
        PushMode::Create,
    )
    .unwrap();
    assert_eq!(
        product_by_id(&made.external_id).categories,
        vec![child.external_id]
    );
}

#[test]
fn products_page_through_the_catalogue_deleted_ones_inactive() {
    let sim = Sim::small();
    sim.install();
    let (all, pages, _) = fetch_all("products", 7, None);
    assert_eq!(
        all.len(),
        24,
        "the generated catalogue, deleted ones included"
    );
    assert_eq!(pages, 4);
    let mut ids: Vec<&str> = all.iter().map(|r| r.external_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 24);
    let inactive = all
        .iter()
        .filter(
            |r| match Pressero::map_in("products".into(), (*r).clone()).unwrap() {
                Entity::Product(p) => !p.active,
                _ => false,
            },
        )
        .count();
    assert_eq!(inactive, 2);
}

#[test]
fn users_page_with_their_external_user_id_and_later_passes_bring_changes_only() {
    let sim = Sim::start(switchyard_sim::pressero::PresseroConfig {
        orders: 30,
        users: Some(60),
        ..Default::default()
    });
    sim.install();
    let (one_page, _, _) = fetch_all("users", 500, None);
    let (all, pages, end) = fetch_all("users", 6, None);
    assert!(one_page.len() >= 12, "{} users on {SITE}", one_page.len());
    assert_eq!(
        all.iter().map(|r| &r.external_id).collect::<Vec<_>>(),
        one_page.iter().map(|r| &r.external_id).collect::<Vec<_>>()
    );
    assert_eq!(pages, one_page.len().div_ceil(6));

    // Another system's user id is kept on the user (R-B-9).
    let id = all[3].external_id.clone();
    let (status, _) = sim.api(
        reqwest::Method::PUT,
        &format!("site/{SITE}/users/{id}"),
        Some(json!({"IntegrationData": "{\"externalUserId\":\"MIS-C-77\"}"})),
    );
    assert_eq!(status, 200);
    let (second, _, end) = fetch_all("users", 6, end);
    assert!(second.iter().any(|r| r.external_id == id));
    // The pass after that brings only what changed since (the generated users are old).
    let (third, _, _) = fetch_all("users", 6, end);
    assert_eq!(
        third
            .iter()
            .map(|r| r.external_id.as_str())
            .collect::<Vec<_>>(),
        [id.as_str()]
    );
    match Pressero::map_in("users".into(), third[0].clone()).unwrap() {
        Entity::Customer(c) => {
            assert_eq!(c.external_id.as_deref(), Some(id.as_str()));
            let ext: Value = serde_json::from_str(&c.extension).unwrap();
            assert_eq!(ext["externalUserId"], "MIS-C-77");
            assert_eq!(ext["siteName"], SITE);
        }
        other => panic!("{other:?}"),
    }
}
