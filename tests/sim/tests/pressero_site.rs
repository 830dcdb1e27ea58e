//! Pressero site endpoints over HTTP: products and categories (create, update, read), stock
//! (with LowInventory), site users and address books.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig, PresseroSim, WebhookSubscriber};
use switchyard_sim::RunningSim;

const SITE: &str = "shop.example.com";

struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn login(sim: &RunningSim<PresseroSim>) -> Api {
        let client = reqwest::Client::new();
        let base = sim.base_url();
        let r = client
            .post(format!("{base}V2/Authentication"))
            .header("content-type", "application/json")
            .body(serde_json::to_string(sim.credentials()).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        Api {
            client,
            base,
            token: v["Token"].as_str().unwrap().to_owned(),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("token {}", self.token));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let bytes = r.bytes().await.unwrap();
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, v)
    }
}

async fn start(orders: usize) -> RunningSim<PresseroSim> {
    spawn_pressero(PresseroConfig {
        orders,
        ..PresseroConfig::default()
    })
    .await
    .expect("spawn")
}

type Inbox = Arc<Mutex<Vec<Value>>>;

async fn receiver() -> (String, Inbox) {
    let inbox: Inbox = Arc::new(Mutex::new(Vec::new()));
    async fn hook(State(inbox): State<Inbox>, body: Bytes) {
        inbox
            .lock()
            .unwrap()
            .push(serde_json::from_slice(&body).unwrap());
    }
    let app = Router::new()
        .route("/h", post(hook))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/h"), inbox)
}

#[tokio::test]
async fn categories_have_a_root_and_can_be_created_updated_and_read() {
    let sim = start(10).await;
    let api = Api::login(&sim).await;
    let (s, page) = api
        .call("GET", &format!("site/{SITE}/categories?pageSize=500"), None)
        .await;
    assert_eq!(s, 200);
    let items = page["Items"].as_array().unwrap();
    let roots: Vec<&Value> = items.iter().filter(|c| c["IsRoot"] == true).collect();
    assert_eq!(roots.len(), 1);
    let root = roots[0]["CategoryId"].as_str().unwrap().to_owned();
    assert_eq!(roots[0]["Name"], "Root");
    assert!(roots[0]["ParentId"].is_null());
    assert!(items
        .iter()
        .filter(|c| c["IsRoot"] == false)
        .all(|c| c["ParentId"] == root.as_str()));
    assert_eq!(page["TotalItems"].as_u64().unwrap() as usize, items.len());

    // Create under Root by default, with integration data.
    let (s, c) = api
        .call(
            "POST",
            &format!("site/{SITE}/Categories"),
            Some(json!({"name": "Canvas Prints", "integrationData": "ext:cat:77"})),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let id = c["CategoryId"].as_str().unwrap().to_owned();
    assert_eq!(c["ParentId"], root.as_str());
    assert_eq!(c["IntegrationData"], "ext:cat:77");
    assert_eq!(c["IsActive"], true);
    // A child of it, then a rename.
    let (s, child) = api
        .call(
            "POST",
            &format!("site/{SITE}/categories"),
            Some(json!({"Name": "Framed", "ParentId": id})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, upd) = api
        .call(
            "PUT",
            &format!("site/{SITE}/categories/{id}"),
            Some(json!({"Name": "Canvas & Wall Art"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(upd["Name"], "Canvas & Wall Art");
    assert_eq!(upd["IntegrationData"], "ext:cat:77", "kept on update");
    let (_, got) = api
        .call("GET", &format!("site/{SITE}/categories/{id}"), None)
        .await;
    assert_eq!(got["Name"], "Canvas & Wall Art");
    // Errors: missing name, unknown parent, cycle, Root moved, other site, unknown id.
    let cases = [
        (
            "POST",
            format!("site/{SITE}/categories"),
            json!({"IsActive": true}),
            400,
        ),
        (
            "POST",
            format!("site/{SITE}/categories"),
            json!({"Name": "x", "ParentId": "00000000-0000-4000-8000-000000000000"}),
            400,
        ),
        (
            "PUT",
            format!("site/{SITE}/categories/{id}"),
            json!({"ParentId": child["CategoryId"]}),
            400,
        ),
        (
            "PUT",
            format!("site/{SITE}/categories/{root}"),
            json!({"IsActive": false}),
            400,
        ),
        (
            "PUT",
            format!("site/b2b.example.com/categories/{id}"),
            json!({"Name": "y"}),
            404,
        ),
        (
            "GET",
            "site/nosuch.example/categories".to_owned(),
            Value::Null,
            404,
        ),
    ];
    for (m, path, body, want) in cases {
        let body = (!body.is_null()).then_some(body);
        let (s, v) = api.call(m, &path, body).await;
        assert_eq!(s, want, "{m} {path}: {v}");
        assert!(v["Message"].is_string(), "{v}");
    }
    let (s, _) = api
        .call("DELETE", &format!("site/{SITE}/categories"), None)
        .await;
    assert_eq!(s, 405);
    sim.shutdown().await;
}

#[tokio::test]
async fn products_create_update_read_and_list() {
    let sim = start(10).await;
    let api = Api::login(&sim).await;
    let (_, cats) = api
        .call("GET", &format!("site/{SITE}/categories"), None)
        .await;
    let root = cats["Items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["IsRoot"] == true)
        .unwrap()["CategoryId"]
        .clone();
    let (_, before) = api
        .call("GET", &format!("site/{SITE}/products"), None)
        .await;
    let total_before = before["TotalItems"].as_u64().unwrap();
    // Generated products show a category id of this site.
    let first = &before["Items"][0];
    assert_eq!(first["CategoryIds"].as_array().unwrap().len(), 1);

    let (s, p) = api
        .call(
            "POST",
            &format!("site/{SITE}/products"),
            Some(
                json!({"Name": "Canvas 16x20", "ProductCode": "CNV-1620", "Sku": "CNV-1620-A",
                         "Price": 39.95, "IntegrationData": "{\"ext\":42}"}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let id = p["ProductId"].as_str().unwrap().to_owned();
    assert_eq!(p["IsActive"], true, "active by default");
    assert_eq!(p["Price"], 39.95);
    assert_eq!(p["CategoryIds"], json!([root]), "Root when none given");
    assert_eq!(p["CategoryName"], "Root");
    assert_eq!(p["IntegrationData"], "{\"ext\":42}");
    // Read one, listed on its own site only.
    let (s, got) = api
        .call("GET", &format!("site/{SITE}/products/{id}"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(got["ProductCode"], "CNV-1620");
    let (_, after) = api
        .call("GET", &format!("site/{SITE}/products?pageSize=500"), None)
        .await;
    assert_eq!(after["TotalItems"].as_u64().unwrap(), total_before + 1);
    let (_, other) = api
        .call("GET", "site/b2b.example.com/products?pageSize=500", None)
        .await;
    assert!(!other["Items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["ProductId"] == id.as_str()));
    let (s, _) = api
        .call("GET", &format!("site/b2b.example.com/products/{id}"), None)
        .await;
    assert_eq!(s, 404);

    // Update: category, price, inactive; other fields kept.
    let (_, cat) = api
        .call(
            "POST",
            &format!("site/{SITE}/categories"),
            Some(json!({"Name": "Canvas"})),
        )
        .await;
    let (s, u) = api
        .call(
            "PUT",
            &format!("site/{SITE}/products/{id}"),
            Some(json!({"price": "42.50", "isActive": false, "categoryIds": [cat["CategoryId"]]})),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["Price"], 42.5);
    assert_eq!(u["IsActive"], false);
    assert_eq!(u["CategoryName"], "Canvas");
    assert_eq!(u["Name"], "Canvas 16x20");
    assert_eq!(u["Sku"], "CNV-1620-A");

    // Errors.
    let bad = [
        json!({"ProductCode": "X1", "Price": 1}),
        json!({"Name": "x", "Price": 1}),
        json!({"Name": "x", "ProductCode": "X2"}),
        json!({"Name": "x", "ProductCode": "X3", "Price": -1}),
        json!({"Name": "x", "ProductCode": "X4", "Price": 1.234}),
        json!({"Name": "x", "ProductCode": "cnv-1620 ", "Price": 1}),
        json!({"Name": "x", "ProductCode": "BC-STD", "Price": 1}),
        json!({"Name": "x", "ProductCode": "X5", "Price": 1, "CategoryIds": ["nope"]}),
    ];
    for b in bad {
        let (s, v) = api
            .call("POST", &format!("site/{SITE}/products"), Some(b.clone()))
            .await;
        assert_eq!(s, 400, "{b} -> {v}");
        assert!(v["Message"].is_string());
    }
    let (s, _) = api
        .call(
            "PUT",
            &format!("site/{SITE}/products/00000000-0000-4000-8000-000000000000"),
            Some(json!({"Name": "x"})),
        )
        .await;
    assert_eq!(s, 404);
    // Unauthenticated writes are refused.
    let r = reqwest::Client::new()
        .post(format!("{}site/{SITE}/products", sim.base_url()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn stock_reads_updates_and_raises_low_inventory() {
    let (url, inbox) = receiver().await;
    let sim = spawn_pressero(PresseroConfig {
        orders: 10,
        webhooks: vec![WebhookSubscriber {
            url,
            ..WebhookSubscriber::default()
        }],
        ..PresseroConfig::default()
    })
    .await
    .unwrap();
    let api = Api::login(&sim).await;
    let (s, page) = api
        .call(
            "GET",
            &format!("site/{SITE}/StockInventory?pageSize=500"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let rows = page["Items"].as_array().unwrap();
    let tracked: Vec<&Value> = rows
        .iter()
        .filter(|r| r["TrackInventory"] == true)
        .collect();
    assert!(!tracked.is_empty() && tracked.len() < rows.len());
    let row = tracked[0].clone();
    let code = row["ProductCode"].as_str().unwrap().to_owned();
    // Set above the threshold: no event; then below it: one LowInventory.
    let (s, up) = api
        .call(
            "PUT",
            &format!("site/{SITE}/stockinventory"),
            Some(json!({"ProductCode": code, "QuantityOnHand": 100, "LowStockThreshold": 50})),
        )
        .await;
    assert_eq!(s, 200, "{up}");
    assert_eq!(up[0]["QuantityOnHand"], 100);
    let (s, _) = api
        .call(
            "PUT",
            &format!("site/{SITE}/StockInventory"),
            Some(json!([{"ProductId": row["ProductId"], "QuantityOnHand": 49}])),
        )
        .await;
    assert_eq!(s, 200);
    let (_, one) = api
        .call(
            "GET",
            &format!("site/{SITE}/StockInventory?productCode={code}"),
            None,
        )
        .await;
    assert_eq!(one["TotalItems"], 1);
    assert_eq!(one["Items"][0]["QuantityOnHand"], 49);
    assert_eq!(one["Items"][0]["LowStockThreshold"], 50);
    // Still below: no second event.
    api.call(
        "PUT",
        &format!("site/{SITE}/StockInventory"),
        Some(json!({"ProductCode": code, "QuantityOnHand": 40})),
    )
    .await;
    assert!(sim.wait_webhooks_idle(Duration::from_secs(10)).await);
    let low: Vec<Value> = inbox
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e["TypeName"] == "LowInventory")
        .cloned()
        .collect();
    // The generated catalogue is on every site, so each site hears of it.
    assert_eq!(low.len(), 3, "{low:?}");
    assert!(low
        .iter()
        .all(|e| e["Data"]["ProductCode"] == code.as_str() && e["Data"]["QuantityOnHand"] == 49));
    // A batch with one bad row changes nothing.
    let (s, _) = api
        .call(
            "PUT",
            &format!("site/{SITE}/StockInventory"),
            Some(json!([{"ProductCode": code, "QuantityOnHand": 500},
                        {"ProductCode": "NOPE", "QuantityOnHand": 1}])),
        )
        .await;
    assert_eq!(s, 404);
    let (_, one) = api
        .call(
            "GET",
            &format!("site/{SITE}/StockInventory?productCode={code}"),
            None,
        )
        .await;
    assert_eq!(one["Items"][0]["QuantityOnHand"], 40);
    for b in [
        json!({"ProductCode": code, "QuantityOnHand": -1}),
        json!({"QuantityOnHand": 1}),
        json!({"ProductCode": code}),
        json!([]),
    ] {
        let (s, v) = api
            .call(
                "PUT",
                &format!("site/{SITE}/StockInventory"),
                Some(b.clone()),
            )
            .await;
        assert_eq!(s, 400, "{b} {v}");
    }
    // New orders take stock: set every tracked product just at its threshold, add orders.
    let all: Vec<Value> = tracked
        .iter()
        .map(|r| json!({"ProductId": r["ProductId"], "QuantityOnHand": 1000, "LowStockThreshold": 1000}))
        .collect();
    let (s, _) = api
        .call(
            "PUT",
            &format!("site/{SITE}/StockInventory"),
            Some(Value::Array(all)),
        )
        .await;
    assert_eq!(s, 200);
    let n_before = inbox.lock().unwrap().len();
    sim.add_orders(30);
    assert!(sim.wait_webhooks_idle(Duration::from_secs(10)).await);
    let (_, after) = api
        .call(
            "GET",
            &format!("site/{SITE}/StockInventory?pageSize=500"),
            None,
        )
        .await;
    let dropped = after["Items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["TrackInventory"] == true && r["QuantityOnHand"].as_i64().unwrap() < 1000)
        .count();
    assert!(dropped > 0, "orders reduced stock");
    let new_low = inbox.lock().unwrap()[n_before..]
        .iter()
        .filter(|e| e["TypeName"] == "LowInventory")
        .count();
    assert_eq!(new_low, dropped * 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn users_create_update_and_address_book() {
    let (url, inbox) = receiver().await;
    let sim = start(40).await;
    sim.subscribe_webhook(WebhookSubscriber {
        url,
        ..WebhookSubscriber::default()
    })
    .unwrap();
    let api = Api::login(&sim).await;
    let (s, u) = api
        .call(
            "POST",
            &format!("site/{SITE}/users"),
            Some(
                json!({"Email": " new.buyer@example.org ", "FirstName": "Nina", "LastName": "Buyer",
                         "Business": "Nina's Bakery", "Address1": "1 Main St", "City": "Chicago",
                         "Country": "US", "IntegrationData": "crm:991"}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    let id = u["UserId"].as_str().unwrap().to_owned();
    assert_eq!(u["Email"], "new.buyer@example.org");
    assert_eq!(u["IntegrationData"], "crm:991");
    // Found by e-mail lookup, any case.
    let (_, found) = api
        .call(
            "GET",
            &format!("site/{SITE}/users/?email=NEW.Buyer@Example.org"),
            None,
        )
        .await;
    assert_eq!(found["TotalItems"], 1);
    assert_eq!(found["Items"][0]["UserId"], id.as_str());
    // Duplicate e-mail, missing fields, bad e-mail.
    for b in [
        json!({"Email": "NEW.BUYER@example.org", "FirstName": "a", "LastName": "b"}),
        json!({"Email": "x@example.org", "FirstName": "a"}),
        json!({"Email": "nope", "FirstName": "a", "LastName": "b"}),
    ] {
        let (s, v) = api
            .call("POST", &format!("site/{SITE}/users"), Some(b.clone()))
            .await;
        assert_eq!(s, 400, "{b} {v}");
        assert!(v["Message"].is_string());
    }
    // Same e-mail on another site is another user.
    let (s, _) = api
        .call(
            "POST",
            "site/b2b.example.com/users",
            Some(
                json!({"Email": "new.buyer@example.org", "FirstName": "Nina", "LastName": "Buyer"}),
            ),
        )
        .await;
    assert_eq!(s, 200);
    // Update.
    let (s, upd) = api
        .call(
            "PUT",
            &format!("site/{SITE}/users/{id}"),
            Some(json!({"Phone": "+1 312-555-0100"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(upd["Phone"], "+1 312-555-0100");
    assert_eq!(upd["FirstName"], "Nina");
    let (_, got) = api
        .call("GET", &format!("site/{SITE}/users/{id}"), None)
        .await;
    assert_eq!(got["Phone"], "+1 312-555-0100");
    let (s, _) = api
        .call("GET", &format!("site/b2b.example.com/users/{id}"), None)
        .await;
    assert_eq!(s, 404);

    // Address book: the registered address, then one added as default.
    let (s, book) = api
        .call("GET", &format!("site/{SITE}/Addressbook/{id}"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(book["TotalItems"], 1);
    assert_eq!(book["Items"][0]["Address1"], "1 Main St");
    assert_eq!(book["Items"][0]["IsDefault"], true);
    let (s, entry) = api
        .call(
            "POST",
            &format!("site/{SITE}/addressbook/{id}"),
            Some(json!({"FirstName": "Nina", "LastName": "Buyer", "Address1": "9 Dock Rd",
                         "City": "Gary", "StateProvince": "IN", "Country": "US", "IsDefault": true})),
        )
        .await;
    assert_eq!(s, 200, "{entry}");
    let (_, book) = api
        .call("GET", &format!("site/{SITE}/Addressbook/{id}"), None)
        .await;
    assert_eq!(book["TotalItems"], 2);
    let items = book["Items"].as_array().unwrap();
    assert_eq!(items[1]["AddressId"], entry["AddressId"]);
    assert_eq!(items[1]["IsDefault"], true);
    assert_eq!(items[0]["IsDefault"], false);
    let (s, v) = api
        .call(
            "POST",
            &format!("site/{SITE}/addressbook/{id}"),
            Some(json!({"FirstName": "Nina"})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    // A generated user's book holds its registered and second addresses.
    let (_, users) = api.call("GET", &format!("site/{SITE}/users"), None).await;
    let g = users["Items"][0]["UserId"].as_str().unwrap().to_owned();
    let (s, gb) = api
        .call("GET", &format!("site/{SITE}/Addressbook/{g}"), None)
        .await;
    assert_eq!(s, 200);
    assert!(matches!(gb["TotalItems"].as_u64(), Some(1 | 2)));
    let (s, _) = api
        .call(
            "GET",
            &format!("site/{SITE}/Addressbook/00000000-0000-4000-8000-000000000000"),
            None,
        )
        .await;
    assert_eq!(s, 404);

    assert!(sim.wait_webhooks_idle(Duration::from_secs(10)).await);
    let names: Vec<String> = inbox
        .lock()
        .unwrap()
        .iter()
        .map(|e| e["TypeName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["NewSiteUser", "NewSiteUser", "UpdatedSiteUser"]);
    sim.shutdown().await;
}

/// A large catalogue keeps the named base products first and adds distinct variants.
#[tokio::test]
async fn catalogue_grows_to_ten_thousand_distinct_products() {
    use switchyard_sim::pressero::generator::{catalogue, BASE_PRODUCTS, MAX_PRODUCTS};
    let small = catalogue(7, BASE_PRODUCTS);
    let big = catalogue(7, 20_000);
    assert_eq!(big.len(), MAX_PRODUCTS, "capped");
    for (a, b) in small.iter().zip(&big) {
        assert_eq!((&a.name, &a.code, a.id), (&b.name, &b.code, b.id));
    }
    let codes: std::collections::HashSet<&str> = big.iter().map(|p| p.code.as_str()).collect();
    let skus: std::collections::HashSet<&str> = big.iter().map(|p| p.sku.as_str()).collect();
    assert_eq!(codes.len(), big.len(), "product codes are unique");
    assert_eq!(skus.len(), big.len(), "SKUs are unique");
    assert!(big.iter().all(|p| p.unit_price_centicents > 0));
    assert_eq!(
        catalogue(7, 500)
            .iter()
            .map(|p| &p.name)
            .collect::<Vec<_>>(),
        big[..500].iter().map(|p| &p.name).collect::<Vec<_>>(),
        "same seed, same catalogue"
    );

    let sim = switchyard_sim::pressero::spawn_pressero(switchyard_sim::pressero::PresseroConfig {
        orders: 200,
        products: 3000,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(sim.counts().products, 3000);
    sim.shutdown().await;
}
