//! The Pressero simulator over real HTTP on 127.0.0.1.

use std::net::SocketAddr;

use serde_json::{json, Value};
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig, PresseroSim};
use switchyard_sim::{FaultConfig, RunningSim};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A raw HTTP/1.1 answer; `complete` is false when the body is shorter than announced.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    complete: bool,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "invalid JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = body.unwrap_or("");
    let auth = token
        .map(|t| format!("Authorization: token {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: admin.chi.v6.pressero.com\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        // The connection closed before a complete header: no answer at all.
        return Answer {
            status: 0,
            headers: Vec::new(),
            body: raw,
            complete: false,
        };
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let announced = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let complete = announced.is_none_or(|n| n == body.len());
    Answer {
        status,
        headers,
        body,
        complete,
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

fn credentials(sim: &PresseroSim) -> String {
    serde_json::to_string(sim.credentials()).unwrap()
}

async fn login(sim: &RunningSim<PresseroSim>) -> String {
    let a = call(
        sim.addr(),
        "POST",
        "/api/V2/Authentication",
        None,
        Some(&credentials(sim)),
    )
    .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    a.json()["Token"].as_str().unwrap().to_owned()
}

async fn search(
    sim: &RunningSim<PresseroSim>,
    token: &str,
    page: usize,
    size: usize,
    filter: &Value,
) -> Answer {
    call(
        sim.addr(),
        "POST",
        &format!("/api/v2/Orders/Search?pageNumber={page}&pageSize={size}"),
        Some(token),
        Some(&filter.to_string()),
    )
    .await
}

#[tokio::test]
async fn auth_flow_requires_a_valid_token() {
    let sim = start(20).await;
    assert!(sim.base_url().starts_with("http://127.0.0.1:") && sim.base_url().ends_with("/api/"));
    let a = call(sim.addr(), "GET", "/api/v2/orders/1001/Details", None, None).await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.json()["Message"],
        "Authorization has been denied for this request."
    );
    let a = call(
        sim.addr(),
        "GET",
        "/api/v2/orders/1001/Details",
        Some("not-a-token"),
        None,
    )
    .await;
    assert_eq!(a.status, 401);

    let mut wrong: Value = serde_json::to_value(sim.credentials()).unwrap();
    wrong["Password"] = json!("guess");
    let a = call(
        sim.addr(),
        "POST",
        "/api/V2/Authentication",
        None,
        Some(&wrong.to_string()),
    )
    .await;
    assert_eq!(a.status, 401);
    assert_eq!(a.json()["Message"], "Invalid credentials");

    let token = login(&sim).await;
    let a = call(
        sim.addr(),
        "GET",
        "/api/v2/orders/1001/Details",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["OrderNumber"], 1001);
    // A bearer token is not how Pressero authorises.
    let mut s = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    s.write_all(format!("GET /api/v2/orders/1001/Details HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 401"), "{out}");

    sim.expire_tokens();
    let a = call(
        sim.addr(),
        "GET",
        "/api/v2/orders/1001/Details",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(a.status, 401);
    assert_eq!(sim.request_count("POST /api/v2/authentication"), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn search_pages_over_modified_date_filter() {
    let sim = start(1000).await;
    let token = login(&sim).await;
    let all = search(&sim, &token, 0, 1, &json!([])).await.json();
    assert_eq!(all["TotalItems"], 1000);

    // A cut-off in the middle of the data: only later orders come back.
    let cutoff = sim.order_details_json(1500).unwrap()["ModifiedDate"]
        .as_str()
        .unwrap()
        .to_owned();
    let filter = json!([{"Column":"ModifiedDate","Value":cutoff,"Operator":"greaterthanorequal"}]);
    let first = search(&sim, &token, 0, 100, &filter).await.json();
    let total = first["TotalItems"].as_u64().unwrap() as usize;
    assert!(total > 100 && total < 1000, "{total}");
    let mut seen: Vec<(String, u64)> = Vec::new();
    let mut page = 0;
    loop {
        let a = search(&sim, &token, page, 100, &filter).await;
        assert_eq!(a.status, 200);
        let v = a.json();
        assert_eq!(v["TotalItems"].as_u64().unwrap() as usize, total);
        let items = v["Items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        for o in items {
            let m = o["ModifiedDate"].as_str().unwrap().to_owned();
            assert!(m >= cutoff);
            seen.push((m, o["OrderNumber"].as_u64().unwrap()));
        }
        page += 1;
    }
    assert_eq!(seen.len(), total);
    assert_eq!(page, total.div_ceil(100));
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "sorted by ModifiedDate, then OrderNumber");
    sorted.dedup();
    assert_eq!(sorted.len(), total);

    let one = search(
        &sim,
        &token,
        0,
        10,
        &json!([{"Column":"OrderNumber","Value":"1234","Operator":"equals"}]),
    )
    .await
    .json();
    assert_eq!(one["TotalItems"], 1);
    assert_eq!(one["Items"][0]["OrderNumber"], 1234);
    assert_eq!(
        sim.request_count("POST /api/v2/orders/search"),
        page as u64 + 4
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn details_items_and_payments_agree() {
    let sim = start(300).await;
    let token = login(&sim).await;
    let summaries = search(&sim, &token, 0, 500, &json!([])).await.json();
    let (mut coupons, mut pending_files, mut currencies) =
        (0, 0, std::collections::BTreeSet::new());
    for s in summaries["Items"].as_array().unwrap() {
        let n = s["OrderNumber"].as_u64().unwrap();
        let d = call(
            sim.addr(),
            "GET",
            &format!("/api/v2/orders/{n}/Details"),
            Some(&token),
            None,
        )
        .await
        .json();
        let items = call(
            sim.addr(),
            "GET",
            &format!("/api/v2/orders/{n}/items"),
            Some(&token),
            None,
        )
        .await
        .json();
        let pays = call(
            sim.addr(),
            "GET",
            &format!("/api/v2/orders/{n}/Payments"),
            Some(&token),
            None,
        )
        .await
        .json();
        let items = items.as_array().unwrap();
        assert_eq!(d["OrderId"], s["OrderId"]);
        assert_eq!(d["OrderTotal"], s["OrderTotal"]);
        assert_eq!(items.len() as u64, s["ItemCount"].as_u64().unwrap());
        let cents = |v: &Value| (v.as_f64().unwrap() * 100.0).round() as i64;
        let sub: i64 = items.iter().map(|i| cents(&i["Price"])).sum();
        let tax: i64 = items.iter().map(|i| cents(&i["Tax"])).sum();
        let ship: i64 = items.iter().map(|i| cents(&i["Shipping"])).sum();
        let coupon: i64 = d["Coupons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| cents(&c["Amount"]))
            .sum();
        assert_eq!(cents(&d["SubTotal"]), sub);
        assert_eq!(cents(&d["TaxTotal"]), tax);
        assert_eq!(cents(&d["ShippingTotal"]), ship);
        assert_eq!(cents(&d["OrderTotal"]), sub + tax + ship - coupon);
        assert!(d["ModifiedDate"].as_str() >= d["OrderDate"].as_str());
        for (k, i) in items.iter().enumerate() {
            assert_eq!(i["OrderItemNumber"], format!("{n}-{}", k + 1));
            assert_eq!(i["BillToFirstName"], d["BillTo"]["FirstName"]);
            assert_eq!(i["ShipToCity"], d["ShipTo"]["City"]);
            let st = call(
                sim.addr(),
                "GET",
                &format!("/api/v2/orders/{n}/item/{}/Status", k + 1),
                Some(&token),
                None,
            )
            .await
            .json();
            assert_eq!(st["StatusId"], i["StatusId"]);
            pending_files += usize::from(i["FilesPending"] == true);
        }
        let paid: i64 = pays
            .as_array()
            .unwrap()
            .iter()
            .map(|p| cents(&p["Amount"]))
            .sum();
        match d["PaymentStatus"].as_str().unwrap() {
            "Paid" => assert_eq!(paid, cents(&d["OrderTotal"])),
            "Unpaid" | "OnAccount" | "Refunded" => assert_eq!(paid, 0),
            "PartiallyPaid" => assert!(paid > 0 && paid < cents(&d["OrderTotal"])),
            other => panic!("{other}"),
        }
        coupons += usize::from(!d["Coupons"].as_array().unwrap().is_empty());
        currencies.insert(d["Currency"].as_str().unwrap().to_owned());
    }
    assert!(
        coupons > 0 && pending_files > 0 && currencies.len() >= 2,
        "{coupons} {pending_files} {currencies:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn settled_orders_are_not_modified_in_the_future() {
    use switchyard_sim::clock::{now_millis, parse_timestamp};
    let now = now_millis();
    // The newest of 500 orders placed about now: some are modified days later.
    let sim = spawn_pressero(PresseroConfig {
        orders: 500,
        base_time: now - 500 * 240_000,
        ..Default::default()
    })
    .await
    .unwrap();
    let modified = |n: u64| {
        parse_timestamp(
            sim.order_details_json(n).unwrap()["ModifiedDate"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
    };
    let late = sim
        .order_numbers()
        .into_iter()
        .filter(|&n| modified(n) > now)
        .count();
    assert!(late > 0);
    assert_eq!(sim.settle_future_changes(now), late);
    assert!(sim.order_numbers().into_iter().all(|n| modified(n) <= now));
    assert_eq!(sim.settle_future_changes(now), 0);
    // A change is dated now again, not after the latest future one.
    let stamp = sim.touch_order(1001).unwrap().timestamp_millis();
    assert!(stamp - now < 60_000, "{}", stamp - now);
    sim.shutdown().await;
}

#[tokio::test]
async fn touch_moves_an_order_to_the_end() {
    let sim = start(200).await;
    let token = login(&sim).await;
    let before = sim.order_details_json(1010).unwrap();
    let stamp = sim.touch_order(1010).unwrap();
    let after = sim.order_details_json(1010).unwrap();
    assert!(after["ModifiedDate"].as_str() > before["ModifiedDate"].as_str());
    assert_ne!(before, after, "a field changed besides the date");
    let last = search(&sim, &token, 199, 1, &json!([])).await.json();
    assert_eq!(last["Items"][0]["OrderNumber"], 1010);
    assert_eq!(
        last["Items"][0]["ModifiedDate"],
        switchyard_sim::clock::format_millis(stamp.timestamp_millis())
    );

    // Over the control API, and a new order sorts after it.
    let a = call(
        sim.addr(),
        "POST",
        "/_control/pressero/orders/1020/touch",
        None,
        Some(r#"{"change":"ship_to"}"#),
    )
    .await;
    assert_eq!(a.status, 200);
    let a = call(
        sim.addr(),
        "POST",
        "/_control/pressero/orders",
        None,
        Some(r#"{"count":2}"#),
    )
    .await;
    assert_eq!(a.json()["OrderNumbers"], json!([1201, 1202]));
    let all = search(&sim, &token, 0, 500, &json!([])).await.json();
    let all: Vec<u64> = all["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["OrderNumber"].as_u64().unwrap())
        .collect();
    let tail = all[all.len() - 3..].to_vec();
    assert_eq!(tail, vec![1020, 1201, 1202]);

    // Changing an order while a client pages: page 1 shifts by one and the order reappears at the end.
    let first_of_page0 = search(&sim, &token, 0, 10, &json!([])).await.json()["Items"][0]
        ["OrderNumber"]
        .as_u64()
        .unwrap();
    sim.on_search_page(1, move |s| {
        s.touch_order(first_of_page0).unwrap();
    });
    let page1 = search(&sim, &token, 1, 10, &json!([])).await.json();
    assert_eq!(page1["TotalItems"], 202);
    let last = search(&sim, &token, 201, 1, &json!([])).await.json();
    assert_eq!(
        last["Items"][0]["OrderNumber"].as_u64().unwrap(),
        first_of_page0
    );

    // Status PUT changes the item and bumps the order.
    let a = call(
        sim.addr(),
        "PUT",
        "/api/V2/Orders/1030/Item/1/Status/Approved?notes=ok%20then",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(a.status, 200);
    let st = call(
        sim.addr(),
        "GET",
        "/api/v2/orders/1030/item/1030-1/Status",
        Some(&token),
        None,
    )
    .await
    .json();
    assert_eq!(st["StatusId"], "Approved");
    let last = search(&sim, &token, 201, 1, &json!([])).await.json();
    assert_eq!(last["Items"][0]["OrderNumber"], 1030);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_input_shapes() {
    let sim = start(10).await;
    let token = login(&sim).await;
    let a = call(
        sim.addr(),
        "GET",
        "/api/v2/orders/99999/Details",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.json()["Message"].clone()),
        (404, json!("Order not found"))
    );
    let a = search(
        &sim,
        &token,
        0,
        10,
        &json!([{"Column":"Colour","Value":"x","Operator":"equals"}]),
    )
    .await;
    assert_eq!(a.status, 400);
    assert!(a.json()["Message"].as_str().unwrap().contains("Colour"));
    let a = search(
        &sim,
        &token,
        0,
        10,
        &json!([{"Column":"ModifiedDate","Value":"x","Operator":"like"}]),
    )
    .await;
    assert_eq!(a.status, 400);
    let a = search(
        &sim,
        &token,
        0,
        10,
        &json!([{"Column":"ModifiedDate","Value":"soon","Operator":"greaterthan"}]),
    )
    .await;
    assert_eq!(a.status, 400);
    let a = search(&sim, &token, 0, 501, &json!([])).await;
    assert_eq!(a.status, 400);
    let a = call(
        sim.addr(),
        "PUT",
        "/api/V2/Orders/1001/Item/1/Status/Teleported",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(a.status, 400);
    let a = call(
        sim.addr(),
        "GET",
        "/api/v2/orders/1001/item/9/Status",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(a.status, 404);
    let a = call(sim.addr(), "GET", "/api/v2/nothing", Some(&token), None).await;
    assert_eq!(a.status, 404);
    assert!(a.json()["Message"].is_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn each_fault_is_observable() {
    let sim = start(10).await;
    let token = login(&sim).await;
    let details = "/api/v2/orders/1001/Details";

    sim.set_faults(FaultConfig {
        throttle_next: 2,
        retry_after_secs: 7,
        ..FaultConfig::default()
    })
    .unwrap();
    for _ in 0..2 {
        let a = call(sim.addr(), "GET", details, Some(&token), None).await;
        assert_eq!(a.status, 429);
        assert_eq!(a.header("retry-after"), Some("7"));
    }
    assert_eq!(
        call(sim.addr(), "GET", details, Some(&token), None)
            .await
            .status,
        200
    );

    sim.set_faults(FaultConfig {
        throttle_every: 3,
        throttle_burst: 2,
        ..FaultConfig::default()
    })
    .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(
            call(sim.addr(), "GET", details, Some(&token), None)
                .await
                .status,
        );
    }
    assert_eq!(
        statuses,
        vec![200, 200, 200, 429, 429, 200, 200, 200, 429, 429]
    );

    sim.set_faults(FaultConfig {
        error_rate: 1.0,
        ..FaultConfig::default()
    })
    .unwrap();
    let a = call(sim.addr(), "GET", details, Some(&token), None).await;
    assert!(a.status == 500 || a.status == 503, "{}", a.status);

    sim.set_faults(FaultConfig {
        malformed_rate: 1.0,
        ..FaultConfig::default()
    })
    .unwrap();
    let a = call(sim.addr(), "GET", details, Some(&token), None).await;
    assert_eq!(a.status, 200);
    assert!(a.complete && serde_json::from_slice::<Value>(&a.body).is_err());

    sim.set_faults(FaultConfig {
        truncated_rate: 1.0,
        ..FaultConfig::default()
    })
    .unwrap();
    let a = call(sim.addr(), "GET", details, Some(&token), None).await;
    assert_eq!(a.status, 200);
    assert!(!a.complete, "body shorter than Content-Length");

    sim.set_faults(FaultConfig {
        latency_ms: 50,
        ..FaultConfig::default()
    })
    .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        call(sim.addr(), "GET", details, Some(&token), None)
            .await
            .status,
        200
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(50));

    // A timeout: accepted and never answered while the simulator runs.
    sim.set_faults(FaultConfig {
        timeout_next: 1,
        ..FaultConfig::default()
    })
    .unwrap();
    let addr = sim.addr();
    let hung = tokio::spawn(async move {
        call(
            addr,
            "GET",
            "/api/v2/orders/1001/Details",
            Some(&token),
            None,
        )
        .await
        .status
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!hung.is_finished());
    let stats = sim.fault_stats();
    assert_eq!(
        (
            stats.throttled,
            stats.server_errors,
            stats.malformed,
            stats.truncated,
            stats.timeouts,
            stats.delayed
        ),
        (6, 1, 1, 1, 1, 1)
    );
    let control = call(sim.addr(), "GET", "/_control/pressero", None, None)
        .await
        .json();
    assert_eq!(control["fault_stats"]["throttled"], 6);
    sim.shutdown().await;
    assert_eq!(hung.await.unwrap(), 503, "released at shutdown");
}

#[tokio::test]
async fn token_expires_mid_run() {
    let sim = spawn_pressero(PresseroConfig {
        orders: 5,
        token_max_uses: Some(3),
        ..PresseroConfig::default()
    })
    .await
    .unwrap();
    let token = login(&sim).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            call(
                sim.addr(),
                "GET",
                "/api/v2/orders/1001/items",
                Some(&token),
                None,
            )
            .await
            .status,
        );
    }
    assert_eq!(statuses, vec![200, 200, 200, 401, 401]);
    let fresh = login(&sim).await;
    assert_eq!(
        call(
            sim.addr(),
            "GET",
            "/api/v2/orders/1001/items",
            Some(&fresh),
            None
        )
        .await
        .status,
        200
    );
    sim.shutdown().await;
}

#[test]
fn same_seed_same_data() {
    let dump = |seed: u64| {
        let sim = PresseroSim::new(PresseroConfig {
            seed,
            orders: 500,
            ..PresseroConfig::default()
        })
        .unwrap();
        let mut out = Vec::new();
        sim.write_orders_json(&mut out).unwrap();
        out
    };
    let a = dump(7);
    assert_eq!(a, dump(7));
    assert_ne!(a, dump(8));
}

#[test]
fn generated_data_has_the_variety_connectors_meet() {
    let sim = PresseroSim::new(PresseroConfig {
        orders: 2000,
        ..PresseroConfig::default()
    })
    .unwrap();
    let mut emails = std::collections::HashMap::<String, std::collections::BTreeSet<String>>::new();
    let mut businesses =
        std::collections::HashMap::<String, std::collections::BTreeSet<String>>::new();
    let mut statuses = std::collections::BTreeSet::new();
    let mut payment = std::collections::BTreeSet::new();
    let mut previous_date = String::new();
    for n in sim.order_numbers() {
        let d = sim.order_details_json(n).unwrap();
        let e = d["BillTo"]["Email"].as_str().unwrap().to_owned();
        emails.entry(e.trim().to_lowercase()).or_default().insert(e);
        let b = d["BillTo"]["Business"].as_str().unwrap().to_owned();
        if !b.is_empty() {
            let key: String = b
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric())
                .take(8)
                .collect();
            businesses.entry(key).or_default().insert(b);
        }
        payment.insert(d["PaymentStatus"].as_str().unwrap().to_owned());
        for i in sim.order_items_json(n).unwrap().as_array().unwrap() {
            statuses.insert(i["StatusId"].as_str().unwrap().to_owned());
        }
        let od = d["OrderDate"].as_str().unwrap().to_owned();
        assert!(od > previous_date, "order dates grow with the number");
        previous_date = od;
    }
    assert!(
        emails.values().any(|v| v.len() > 1),
        "case/whitespace e-mail variants"
    );
    assert!(
        businesses.values().any(|v| v.len() > 1),
        "near-duplicate company names"
    );
    assert_eq!(statuses.len(), 7, "{statuses:?}");
    assert_eq!(payment.len(), 5, "{payment:?}");
}

#[tokio::test]
async fn control_api_and_write_endpoints() {
    let sim = start(100).await;
    let token = login(&sim).await;
    let addr = sim.addr();

    // Faults over the control API.
    let a = call(
        addr,
        "PUT",
        "/_control/pressero/faults",
        None,
        Some(r#"{"throttle_next":1,"scope":"orders/search"}"#),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        call(addr, "GET", "/api/v2/orders/1001/items", Some(&token), None)
            .await
            .status,
        200
    );
    assert_eq!(search(&sim, &token, 0, 5, &json!([])).await.status, 429);
    let a = call(
        addr,
        "PUT",
        "/_control/pressero/faults",
        None,
        Some(r#"{"error_rate":2}"#),
    )
    .await;
    assert_eq!(a.status, 400);

    // A hook set over HTTP fires on the page it names.
    let first = search(&sim, &token, 0, 5, &json!([])).await.json()["Items"][0]["OrderNumber"]
        .as_u64()
        .unwrap();
    let a = call(
        addr,
        "POST",
        "/_control/pressero/hooks/search-page",
        None,
        Some(&json!({"page":3,"touch":[first]}).to_string()),
    )
    .await;
    assert_eq!(a.status, 200);
    search(&sim, &token, 3, 5, &json!([])).await;
    let last = search(&sim, &token, 99, 1, &json!([])).await.json();
    assert_eq!(last["Items"][0]["OrderNumber"].as_u64().unwrap(), first);

    // Shipments set tracking and status.
    let body =
        json!({"OrderNumber":1002,"OrderItemIds":["1"],"Carrier":"UPS","TrackingNumber":"1ZTEST"});
    let a = call(
        addr,
        "POST",
        "/api/V2/Orders/Shipments",
        Some(&token),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let items = sim.order_items_json(1002).unwrap();
    assert_eq!(items[0]["StatusId"], "Shipped");
    assert_eq!(items[0]["ShipmentTracking"]["TrackingNumber"], "1ZTEST");
    let a = call(
        addr,
        "POST",
        "/api/V2/Orders/Shipments",
        Some(&token),
        Some(r#"{"OrderNumber":1002}"#),
    )
    .await;
    assert_eq!(a.status, 400);

    // Users by e-mail ignore case and surrounding whitespace; products page.
    let d = sim.order_details_json(1003).unwrap();
    let site = d["SiteName"].as_str().unwrap().to_owned();
    let email = d["OrderedBy"]["Email"]
        .as_str()
        .unwrap()
        .trim()
        .to_uppercase();
    let a = call(
        addr,
        "GET",
        &format!("/api/site/{site}/users/?email={email}"),
        Some(&token),
        None,
    )
    .await
    .json();
    assert!(a["TotalItems"].as_u64().unwrap() >= 1);
    let p = call(
        addr,
        "GET",
        &format!("/api/site/{site}/products?pageNumber=0&pageSize=100"),
        Some(&token),
        None,
    )
    .await
    .json();
    let p_all = call(
        addr,
        "GET",
        &format!("/api/site/{site}/products?pageNumber=0&pageSize=100&includeDeleted=true"),
        Some(&token),
        None,
    )
    .await
    .json();
    assert!(p_all["TotalItems"].as_u64() > p["TotalItems"].as_u64());
    assert_eq!(
        call(
            addr,
            "GET",
            "/api/site/nowhere.example/products",
            Some(&token),
            None
        )
        .await
        .status,
        404
    );

    // Reset with another seed regenerates and clears counters.
    let before = sim.order_details_json(1001).unwrap();
    let a = call(
        addr,
        "POST",
        "/_control/pressero/reset",
        None,
        Some(r#"{"seed":5}"#),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_ne!(sim.order_details_json(1001).unwrap(), before);
    assert_eq!(sim.request_count("POST /api/v2/orders/search"), 0);
    assert_eq!(
        call(addr, "GET", "/api/v2/orders/1001/items", Some(&token), None)
            .await
            .status,
        401,
        "tokens forgotten"
    );
    sim.shutdown().await;
}
