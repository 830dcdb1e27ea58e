//! The Shoprenter simulator over real HTTP on 127.0.0.1.

mod support;

use std::net::SocketAddr;

use serde_json::{json, Value};
use switchyard_sim::shoprenter::model::Kind;
use switchyard_sim::shoprenter::{spawn_shoprenter, BatchFaults, ShoprenterConfig, ShoprenterSim};
use switchyard_sim::{FaultConfig, RunningSim};

use support::Answer;

/// One request to the shop's API host.
async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    extra_headers: &str,
    body: Option<&str>,
) -> Answer {
    support::raw(
        addr,
        "shopname.api.myshoprenter.hu",
        method,
        path,
        extra_headers,
        body,
    )
    .await
}

async fn start(orders: usize, rate: u32) -> RunningSim<ShoprenterSim> {
    spawn_shoprenter(ShoprenterConfig {
        orders,
        rate_limit: rate,
        ..ShoprenterConfig::default()
    })
    .await
    .expect("spawn")
}

/// A JSON call with the right credentials.
async fn api(
    sim: &RunningSim<ShoprenterSim>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Answer {
    let auth = format!(
        "Authorization: {}\r\nAccept: application/json\r\n",
        sim.basic_auth_header()
    );
    let text = body.map(|b| b.to_string());
    raw(sim.addr(), method, path, &auth, text.as_deref()).await
}

fn last_segment(href: &str) -> String {
    href.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn auth_accept_and_error_shapes() {
    let sim = start(50, 0).await;
    let none = raw(
        sim.addr(),
        "GET",
        "/orders",
        "Accept: application/json\r\n",
        None,
    )
    .await;
    assert_eq!(none.status, 401);
    assert_eq!(none.json()["error"], 40101);
    let wrong = raw(
        sim.addr(),
        "GET",
        "/orders",
        "Authorization: Basic YXBpdXNlcjp3cm9uZw==\r\nAccept: application/json\r\n",
        None,
    )
    .await;
    assert_eq!(wrong.status, 401);
    // No Accept: XML of the same data.
    let auth = format!("Authorization: {}\r\n", sim.basic_auth_header());
    let xml = raw(sim.addr(), "GET", "/orders?limit=2", &auth, None).await;
    assert_eq!(xml.status, 200);
    assert!(xml.header("content-type").unwrap().contains("xml"));
    assert!(xml.text().contains("<response>") && xml.text().contains("<items><item><href>"));
    let html = raw(
        sim.addr(),
        "GET",
        "/orders",
        &format!("{auth}Accept: text/html\r\n"),
        None,
    )
    .await;
    assert_eq!(html.status, 406);
    let missing = api(&sim, "GET", "/orders/b3JkZXItb3JkZXJfaWQ9OTk5OTk=", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], 40401);
    let over = api(&sim, "GET", "/orders?limit=201", None).await;
    assert_eq!(over.status, 400);
    assert_eq!(over.json()["error"], 40005);
    let required = api(&sim, "POST", "/customers", Some(&json!({"firstname": "A"}))).await;
    assert_eq!(required.status, 400);
    let e = required.json();
    assert_eq!(e["error"], 40003);
    assert!(e["message"].as_str().unwrap().contains("email"), "{e}");
    let deleted = api(&sim, "DELETE", "/orders/b3JkZXItb3JkZXJfaWQ9MQ==", None).await;
    assert_eq!(deleted.status, 405);
}

#[tokio::test]
async fn paging_links_and_ids() {
    let sim = start(47, 0).await;
    let p = api(&sim, "GET", "/orders?page=0&limit=5", None)
        .await
        .json();
    assert_eq!(p["page"], "0");
    assert_eq!(p["limit"], "5");
    assert!(p["previous"].is_null());
    assert!(p["next"]["href"]
        .as_str()
        .unwrap()
        .ends_with("/orders?page=1&limit=5"));
    assert!(p["last"]["href"]
        .as_str()
        .unwrap()
        .ends_with("page=9&limit=5"));
    assert_eq!(p["items"].as_array().unwrap().len(), 5);
    let first = p["items"][0]["href"].as_str().unwrap();
    assert_eq!(last_segment(first), "b3JkZXItb3JkZXJfaWQ9MQ==");
    let last = api(&sim, "GET", "/orders?page=9&limit=5", None)
        .await
        .json();
    assert_eq!(last["items"].as_array().unwrap().len(), 2);
    assert!(last["next"].is_null());
    let full = api(&sim, "GET", "/orders?full=1&limit=3", None)
        .await
        .json();
    let o = &full["items"][0];
    assert_eq!(o["innerId"], "1");
    assert_eq!(o["id"], "b3JkZXItb3JkZXJfaWQ9MQ==");
    // Related resources by link; the order's products are found by orderId.
    let products_href = o["orderProducts"]["href"].as_str().unwrap();
    let path = &products_href[products_href.find("/orderProducts").unwrap()..];
    let lines = api(&sim, "GET", &format!("{path}&full=1"), None)
        .await
        .json();
    let lines = lines["items"].as_array().unwrap().clone();
    assert!(!lines.is_empty());
    for l in &lines {
        assert!(l["order"]["href"]
            .as_str()
            .unwrap()
            .ends_with(o["id"].as_str().unwrap()));
    }
    let totals = api(
        &sim,
        "GET",
        &format!("/orderTotals?orderId={}&full=1", o["id"].as_str().unwrap()),
        None,
    )
    .await
    .json();
    let types: Vec<&str> = totals["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.first(), Some(&"SUB_TOTAL"));
    assert_eq!(types.last(), Some(&"TOTAL"));
    let total = totals["items"].as_array().unwrap().last().unwrap()["value"].clone();
    assert_eq!(total, o["total"]);
}

#[tokio::test]
async fn push_then_read_and_filters() {
    let sim = start(30, 0).await;
    let group = sim.ids(Kind::CustomerGroup)[1].clone();
    let created = api(
        &sim,
        "POST",
        "/customers",
        Some(&json!({
            "firstname": "Teszt", "lastname": "Elek", "email": "Teszt.Elek@Example.hu",
            "telephone": "+36201234567", "password": "secret",
            "customerGroup": {"id": group}
        })),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let c = created.json();
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(c["customerGroup"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&group));
    let read = api(&sim, "GET", &format!("/customers/{id}"), None)
        .await
        .json();
    assert_eq!(read["email"], "Teszt.Elek@Example.hu");
    // E-mail filter ignores case and trailing spaces.
    let found = api(
        &sim,
        "GET",
        "/customers?email=teszt.elek%40example.hu%20",
        None,
    )
    .await
    .json();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let bad_ref = api(
        &sim,
        "POST",
        "/addresses",
        Some(&json!({"firstname":"a","lastname":"b","address1":"c","postcode":"1","city":"d",
            "customer":{"id":"Y3VzdG9tZXItY3VzdG9tZXJfaWQ9OTk5OTk="},"country":{"id":"Y291bnRyeS1jb3VudHJ5X2lkPTk3"}})),
    )
    .await;
    assert_eq!(bad_ref.status, 400);
    assert_eq!(bad_ref.json()["error"], 40006);
    // Status change bumps dateUpdated and shows up with updatedAtMin.
    let before = api(&sim, "GET", "/orders/b3JkZXItb3JkZXJfaWQ9Mw==", None)
        .await
        .json();
    let put = api(
        &sim,
        "PUT",
        "/orders/b3JkZXItb3JkZXJfaWQ9Mw==",
        Some(&json!({"orderStatus": {"id": "b3JkZXJTdGF0dXMtb3JkZXJfc3RhdHVzX2lkPTQ="}})),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.text());
    let after = put.json();
    assert!(after["orderStatus"]["href"]
        .as_str()
        .unwrap()
        .ends_with("b3JkZXJTdGF0dXMtb3JkZXJfc3RhdHVzX2lkPTQ="));
    assert!(after["dateUpdated"].as_str() > before["dateUpdated"].as_str());
    let since = after["dateUpdated"].as_str().unwrap();
    let changed = api(&sim, "GET", &format!("/orders?updatedAtMin={since}"), None)
        .await
        .json();
    let hrefs: Vec<String> = changed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| last_segment(i["href"].as_str().unwrap()))
        .collect();
    assert_eq!(hrefs, vec!["b3JkZXItb3JkZXJfaWQ9Mw==".to_owned()]);
    let by_status = api(
        &sim,
        "GET",
        "/orders?orderStatusId=b3JkZXJTdGF0dXMtb3JkZXJfc3RhdHVzX2lkPTQ=&limit=200",
        None,
    )
    .await
    .json();
    assert!(by_status["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["href"]
            .as_str()
            .unwrap()
            .ends_with("b3JkZXItb3JkZXJfaWQ9Mw==")));
    let history = api(
        &sim,
        "GET",
        "/orderHistories?orderId=b3JkZXItb3JkZXJfaWQ9Mw==&full=1",
        None,
    )
    .await
    .json();
    assert!(history["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["orderStatus"]["href"]
            .as_str()
            .unwrap()
            .ends_with("b3JkZXJTdGF0dXMtb3JkZXJfc3RhdHVzX2lkPTQ=")));
    // Delete, then 404.
    assert_eq!(
        api(&sim, "DELETE", &format!("/customers/{id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        api(&sim, "GET", &format!("/customers/{id}"), None)
            .await
            .status,
        404
    );
    assert_eq!(sim.writes()["customers"], 2);
}

/// Every resource exposes every field its vendored data.json names, in a GET by id and in a
/// full page.
#[tokio::test]
async fn every_resource_exposes_its_reference_fields() {
    let sim = start(20, 0).await;
    for kind in Kind::ALL {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/reference/shoprenter/");
        let text = std::fs::read_to_string(format!("{path}{}/data.json", kind.reference_dir()))
            .expect("reference");
        let spec: Value = serde_json::from_str(&text).unwrap();
        let names: Vec<String> = spec["properties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                p["name"]
                    .as_str()
                    .unwrap()
                    .trim_end_matches('*')
                    .trim()
                    .to_owned()
            })
            .collect();
        let page = api(
            &sim,
            "GET",
            &format!("/{}?full=1&limit=5", kind.path()),
            None,
        )
        .await;
        assert_eq!(page.status, 200, "{}", kind.path());
        let page = page.json();
        let first = &page["items"][0];
        let id = first["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{} empty", kind.path()));
        let one = api(&sim, "GET", &format!("/{}/{id}", kind.path()), None)
            .await
            .json();
        for n in &names {
            assert!(one.get(n).is_some(), "{} GET lacks {n}", kind.path());
            assert!(first.get(n).is_some(), "{} page lacks {n}", kind.path());
        }
    }
}

#[tokio::test]
async fn batch_answers_200_with_partial_failures() {
    let sim = start(10, 0).await;
    let body = json!({"data": {"requests": [
        {"method": "GET", "uri": "http://shopname.api.myshoprenter.hu/orders/b3JkZXItb3JkZXJfaWQ9MQ=="},
        {"method": "GET", "uri": "/orders/b3JkZXItb3JkZXJfaWQ9OTk5"},
        {"method": "POST", "uri": "/customerGroups", "data": {"name": "Batch group"}},
    ]}});
    let a = api(&sim, "POST", "/batch", Some(&body)).await;
    assert_eq!(a.status, 200);
    let r = a.json();
    let subs = r["requests"]["request"].as_array().unwrap();
    let codes: Vec<u64> = subs
        .iter()
        .map(|s| s["response"]["header"]["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, vec![200, 404, 201]);
    assert_eq!(subs[0]["response"]["body"]["innerId"], "1");
    sim.set_batch_faults(BatchFaults {
        next: 2,
        status: 503,
        ..BatchFaults::default()
    })
    .unwrap();
    let a = api(&sim, "POST", "/batch", Some(&body)).await;
    assert_eq!(a.status, 200);
    let codes: Vec<u64> = a.json()["requests"]["request"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["response"]["header"]["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, vec![503, 503, 201]);
    assert_eq!(sim.batch_failures(), 2);
}

#[tokio::test]
async fn injected_faults_use_the_error_shape() {
    let sim = start(10, 0).await;
    sim.set_faults(FaultConfig {
        fail_next: 1,
        ..FaultConfig::default()
    })
    .unwrap();
    let a = api(&sim, "GET", "/orders", None).await;
    assert!(a.status == 500 || a.status == 503);
    sim.set_faults(FaultConfig {
        throttle_next: 1,
        ..FaultConfig::default()
    })
    .unwrap();
    let a = api(&sim, "GET", "/orders", None).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.json()["error"], 42901);
    assert_eq!(api(&sim, "GET", "/orders", None).await.status, 200);
    assert_eq!(sim.fault_stats().throttled, 1);
}

#[tokio::test]
async fn same_seed_same_data() {
    let a = start(40, 0).await;
    let b = start(40, 0).await;
    let mut x = Vec::new();
    let mut y = Vec::new();
    a.write_orders_json(&mut x).unwrap();
    b.write_orders_json(&mut y).unwrap();
    assert_eq!(x, y);
    let c = spawn_shoprenter(ShoprenterConfig {
        orders: 40,
        seed: 7,
        rate_limit: 0,
        ..ShoprenterConfig::default()
    })
    .await
    .unwrap();
    let mut z = Vec::new();
    c.write_orders_json(&mut z).unwrap();
    assert_ne!(x, z);
}

/// ~10 requests/s get 429s; 2 requests/s (below the 3/s limit) get none. Assertions are on
/// counts: whatever the machine's speed, no more than 3 per started second are admitted.
#[tokio::test]
async fn rate_limit_three_per_second() {
    let sim = start(5, 3).await;
    let mut throttled = 0u64;
    let mut admitted = 0u64;
    let began = std::time::Instant::now();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    for _ in 0..20 {
        tick.tick().await;
        let a = api(&sim, "GET", "/orderStatuses", None).await;
        match a.status {
            429 => {
                assert_eq!(a.json()["error"], 42901);
                assert!(a.header("retry-after").is_none());
                throttled += 1;
            }
            200 => admitted += 1,
            s => panic!("unexpected {s}"),
        }
    }
    let secs = began.elapsed().as_secs() + 1;
    assert!(admitted <= 3 * secs, "{admitted} admitted in {secs} s");
    assert!(
        throttled >= 20 - 3 * secs,
        "{throttled} throttled in {secs} s"
    );
    assert!(throttled > 0);
    assert_eq!(sim.rate_limited(), throttled);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // Never closer than 500 ms, even when a request is slow.
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for _ in 0..6 {
        tick.tick().await;
        assert_eq!(api(&sim, "GET", "/orderStatuses", None).await.status, 200);
    }
    assert_eq!(sim.rate_limited(), throttled);
}

/// Fetches every record of a resource with `full=1` (rate limit off).
async fn all(sim: &RunningSim<ShoprenterSim>, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut page = 0;
    loop {
        let p = api(
            sim,
            "GET",
            &format!("/{path}?full=1&limit=200&page={page}"),
            None,
        )
        .await
        .json();
        out.extend(p["items"].as_array().unwrap().iter().cloned());
        if p["next"].is_null() {
            return out;
        }
        page += 1;
    }
}

#[tokio::test]
async fn generated_data_has_the_variety_connectors_meet() {
    let sim = start(400, 0).await;
    let orders = all(&sim, "orders").await;
    assert_eq!(orders.len(), 400);
    let statuses: std::collections::BTreeSet<String> = orders
        .iter()
        .map(|o| {
            o["orderStatus"]["href"]
                .as_str()
                .map(last_segment)
                .unwrap_or_default()
        })
        .collect();
    // Eight statuses plus abandoned carts (no status).
    assert_eq!(statuses.len(), 9, "{statuses:?}");
    assert!(
        orders.iter().any(|o| o["customer"].is_null()),
        "guest orders"
    );
    let abandoned = api(&sim, "GET", "/orders?excludeAbandonedCart=1&limit=1", None)
        .await
        .json();
    assert!(
        abandoned["pageCount"]
            .as_str()
            .unwrap()
            .parse::<usize>()
            .unwrap()
            < 400
    );
    let totals = all(&sim, "orderTotals").await;
    for ty in ["SUB_TOTAL", "TAX", "SHIPPING", "COUPON", "TOTAL"] {
        assert!(totals.iter().any(|t| t["type"] == ty), "{ty}");
    }
    let customers = all(&sim, "customers").await;
    let mut emails: Vec<String> = customers
        .iter()
        .map(|c| c["email"].as_str().unwrap().trim().to_lowercase())
        .collect();
    let n = emails.len();
    emails.sort();
    emails.dedup();
    assert!(emails.len() < n, "repeated customers with e-mail variants");
    assert!(customers.iter().any(|c| c["email"].as_str().unwrap()
        != c["email"].as_str().unwrap().trim()
        || c["email"]
            .as_str()
            .unwrap()
            .chars()
            .any(|ch| ch.is_uppercase())));
    let addresses = all(&sim, "addresses").await;
    assert!(addresses.iter().any(|a| a["type"] == "business"));
    assert!(addresses.iter().any(|a| a["type"] == "private"));
    let products = all(&sim, "products").await;
    assert!(products.iter().any(|p| {
        p["parentProduct"]["href"].as_str().map(last_segment) != p["id"].as_str().map(str::to_owned)
    }));
    let variants = api(&sim, "GET", "/products?parentProductId=1&full=1", None)
        .await
        .json();
    assert_eq!(variants["items"].as_array().unwrap().len(), 4);
    let status_names = all(&sim, "orderStatusDescriptions").await;
    assert!(status_names.iter().any(|d| d["name"] == "Teljesítve"));
    assert!(!all(&sim, "coupons").await.is_empty());
}

#[tokio::test]
async fn control_api() {
    let sim = start(10, 3).await;
    let c = |m: &'static str, p: &'static str, b: Option<&'static str>| {
        let addr = sim.addr();
        async move { raw(addr, m, p, "", b).await }
    };
    let s = c("GET", "/_control/shoprenter", None).await.json();
    assert_eq!(s["counts"]["orders"], 10);
    assert_eq!(s["rate_limit"], 3);
    assert_eq!(
        c(
            "PUT",
            "/_control/shoprenter/rate-limit",
            Some(r#"{"per_second":0}"#)
        )
        .await
        .status,
        200
    );
    for _ in 0..6 {
        assert_eq!(api(&sim, "GET", "/orders", None).await.status, 200);
    }
    let put = c(
        "PUT",
        "/_control/shoprenter/batch-faults",
        Some(r#"{"rate":1.0,"status":502}"#),
    )
    .await;
    assert_eq!(put.status, 200);
    assert_eq!(sim.batch_faults().status, 502);
    let o = c(
        "POST",
        "/_control/shoprenter/orders/2/status",
        Some(r#"{"status":5}"#),
    )
    .await;
    assert_eq!(o.status, 200, "{}", o.text());
    assert!(o.json()["orderStatus"]["href"]
        .as_str()
        .unwrap()
        .ends_with("b3JkZXJTdGF0dXMtb3JkZXJfc3RhdHVzX2lkPTU="));
    let s = c("GET", "/_control/shoprenter", None).await.json();
    assert_eq!(s["requests"]["get /orders"], 6);
    assert_eq!(
        c("POST", "/_control/shoprenter/reset", None).await.status,
        200
    );
    assert_eq!(sim.batch_faults(), BatchFaults::default());
    assert_eq!(sim.request_count("GET /orders"), 0);
}
