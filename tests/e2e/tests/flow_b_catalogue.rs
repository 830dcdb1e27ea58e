//! Flow B's catalogue (R-B-7, R-B-8): Presswise categories and products into a Pressero
//! site by the built wasm plugins, through the host, against both simulators on 127.0.0.1.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};
use switchyard_e2e::{
    days_ago_ms, host_with_timeout, plugin_dir, pressero_connection_with, presswise_connection,
    stream_flow,
};
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig};
use switchyard_sim::presswise::{spawn_presswise, PresswiseConfig};

const SITE: &str = "shop.example.com";

/// The source id a site record keeps in its integration data.
fn integration_id(record: &Value) -> Option<String> {
    let data: Value = serde_json::from_str(record["IntegrationData"].as_str()?).ok()?;
    data["externalId"].as_str().map(str::to_string)
}

/// Site records created from the source, by the source's id.
fn by_source_id(records: Vec<Value>) -> HashMap<String, Value> {
    records
        .into_iter()
        .filter_map(|r| integration_id(&r).map(|id| (id, r)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn categories_first_then_products_created_updated_and_never_doubled() {
    let pressero = spawn_pressero(PresseroConfig {
        orders: 3,
        base_time: days_ago_ms(2),
        ..Default::default()
    })
    .await
    .unwrap();
    let presswise = spawn_presswise(PresswiseConfig {
        orders: 5,
        products: 40,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = host_with_timeout(dir.path(), &plugin_dir(), Duration::from_secs(5)).await;
    let password = pressero.credentials().password.clone();
    let site =
        pressero_connection_with(&host, &pressero, "shop", &password, &[("site", SITE)]).await;
    let mis = presswise_connection(&host, &presswise, "presswise").await;
    stream_flow(
        &host,
        "mis-categories",
        (mis, "categories"),
        (site, "categories"),
        json!({}),
    )
    .await;
    let products = stream_flow(
        &host,
        "mis-products",
        (mis, "products"),
        (site, "products"),
        json!({}),
    )
    .await;
    let (ps_categories, ps_products) = presswise.catalogue();

    // One sync of the product flow brings the categories first.
    let first = host.sync_flow(products).await.unwrap();
    assert_eq!(first.categories.len(), 1, "{first:?}");
    let cat_push = first.categories[0].push.as_ref().unwrap();
    assert_eq!(
        cat_push.pushed as usize,
        ps_categories.len(),
        "{cat_push:?}"
    );
    assert_eq!(cat_push.failed + cat_push.dead, 0, "{cat_push:?}");
    let push = first.push.as_ref().unwrap();
    assert_eq!(push.pushed as usize, ps_products.len(), "{push:?}");
    assert_eq!(push.failed + push.dead, 0, "{push:?}");

    // Categories: each once, under its parent (or Root), integration data kept.
    let site_categories = pressero.site_categories_json(SITE);
    let root = site_categories
        .iter()
        .find(|c| c["IsRoot"] == json!(true))
        .expect("root")["CategoryId"]
        .clone();
    let made = by_source_id(site_categories.clone());
    assert_eq!(made.len(), ps_categories.len());
    for c in &ps_categories {
        let at = &made[&c.category_id.to_string()];
        assert_eq!(at["Name"], json!(c.name));
        let parent = if c.parent_id == 0 {
            root.clone()
        } else {
            made[&c.parent_id.to_string()]["CategoryId"].clone()
        };
        assert_eq!(at["ParentId"], parent, "category {}", c.name);
    }

    // Products: each once, active, in its category (Root without one).
    let site_products = by_source_id(pressero.site_products_json(SITE));
    assert_eq!(site_products.len(), ps_products.len());
    for p in &ps_products {
        let at = &site_products[&p.product_id.to_string()];
        assert_eq!(at["Name"], json!(p.name));
        assert_eq!(at["IsActive"], json!(true), "new products are active: {at}");
        let category = if p.category_id == 0 {
            root.clone()
        } else {
            made[&p.category_id.to_string()]["CategoryId"].clone()
        };
        assert_eq!(at["CategoryIds"], json!([category]), "product {}", p.name);
    }

    // A product changed at Presswise is updated in place, nothing else is sent.
    let changed = &ps_products[3];
    presswise
        .change_product(changed.product_id, "Renamed in the MIS", 4321)
        .unwrap();
    let second = host.sync_flow(products).await.unwrap();
    let push = second.push.as_ref().unwrap();
    assert_eq!(push.pushed, 1, "{push:?}");
    assert_eq!(second.categories[0].push.as_ref().unwrap().pushed, 0);
    let after = by_source_id(pressero.site_products_json(SITE));
    assert_eq!(after.len(), ps_products.len(), "no product created twice");
    let at = &after[&changed.product_id.to_string()];
    assert_eq!(at["Name"], json!("Renamed in the MIS"));
    assert_eq!(
        at["ProductId"],
        site_products[&changed.product_id.to_string()]["ProductId"]
    );

    // Nothing changed: nothing sent.
    let third = host.sync_flow(products).await.unwrap();
    assert_eq!(third.push.as_ref().unwrap().pushed, 0);
    assert_eq!(
        by_source_id(pressero.site_categories_json(SITE)).len(),
        ps_categories.len()
    );
}
