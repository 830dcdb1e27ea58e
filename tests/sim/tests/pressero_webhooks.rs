//! Pressero webhooks: deliveries to a receiver on 127.0.0.1, `MessageHash`, retries, failures
//! and the lost-webhook fault (covered by polling the order search).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use switchyard_sim::pressero::{
    message_hash, spawn_pressero, PresseroConfig, PresseroSim, WebhookEvent, WebhookSubscriber,
};
use switchyard_sim::RunningSim;

/// What the receiver got: (headers, body).
type Inbox = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver on 127.0.0.1 that answers `status` (first `fail_first` requests answer 500).
async fn receiver(fail_first: usize) -> (String, Inbox) {
    let inbox: Inbox = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(Mutex::new(0usize));
    let state = (inbox.clone(), seen, fail_first);
    async fn hook(
        State((inbox, seen, fail_first)): State<(Inbox, Arc<Mutex<usize>>, usize)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        let n = {
            let mut s = seen.lock().unwrap();
            *s += 1;
            *s
        };
        if n <= fail_first {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        inbox.lock().unwrap().push((headers, body));
        StatusCode::OK
    }
    let app = Router::new().route("/hook", post(hook)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), inbox)
}

async fn start(cfg: PresseroConfig) -> RunningSim<PresseroSim> {
    spawn_pressero(cfg).await.expect("spawn")
}

fn sub(url: &str, key: Option<&str>) -> WebhookSubscriber {
    WebhookSubscriber {
        url: url.to_owned(),
        key: key.map(str::to_owned),
        ..WebhookSubscriber::default()
    }
}

async fn idle(sim: &RunningSim<PresseroSim>) {
    assert!(sim.wait_webhooks_idle(Duration::from_secs(10)).await);
}

fn bodies(inbox: &Inbox) -> Vec<Value> {
    inbox
        .lock()
        .unwrap()
        .iter()
        .map(|(_, b)| serde_json::from_slice(b).expect("json body"))
        .collect()
}

#[tokio::test]
async fn order_placed_is_posted_with_a_correct_message_hash() {
    let (url, inbox) = receiver(0).await;
    let key = "s3cr3t-site-key";
    let sim = start(PresseroConfig {
        orders: 20,
        webhooks: vec![sub(&url, Some(key))],
        ..PresseroConfig::default()
    })
    .await;
    let numbers = sim.add_orders(2);
    idle(&sim).await;
    let got = inbox.lock().unwrap().clone();
    let placed: Vec<&(HeaderMap, Bytes)> = got
        .iter()
        .filter(|(_, b)| serde_json::from_slice::<Value>(b).unwrap()["TypeName"] == "OrderPlaced")
        .collect();
    assert_eq!(placed.len(), 2, "one OrderPlaced per new order");
    for ((headers, body), number) in placed.iter().zip(&numbers) {
        // The hash is SHA1 over key bytes then the exact payload bytes, lower-case hex.
        let mut h = Sha1::new();
        h.update(key.as_bytes());
        h.update(body);
        let expected: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let sent = headers
            .get("MessageHash")
            .expect("MessageHash")
            .to_str()
            .unwrap();
        assert_eq!(sent, expected);
        assert_eq!(sent, message_hash(key, body));
        let v: Value = serde_json::from_slice(body).unwrap();
        for k in [
            "Type",
            "TypeName",
            "Timestamp",
            "Data",
            "SubscriberId",
            "SiteId",
            "MessageID",
        ] {
            assert!(v.get(k).is_some(), "envelope lacks {k}: {v}");
        }
        assert_eq!(v["Type"], WebhookEvent::OrderPlaced.code());
        assert_eq!(v["SubscriberId"], sim.credentials().subscriber_id);
        assert_eq!(v["Data"]["OrderNumber"], json!(number));
        assert!(headers
            .get("content-type")
            .is_some_and(|c| c.to_str().unwrap().starts_with("application/json")));
    }
    // A tampered payload does not verify.
    let (_, body) = placed[0];
    let mut tampered = body.to_vec();
    tampered[0] = b' ';
    assert_ne!(
        message_hash(key, &tampered),
        placed[0].0["MessageHash"].to_str().unwrap()
    );
    let records = sim.webhook_deliveries();
    assert!(records
        .iter()
        .all(|d| d.delivered && d.attempts == 1 && d.status == Some(200)));
    sim.shutdown().await;
}

#[tokio::test]
async fn no_key_no_hash_and_every_change_raises_its_event() {
    let (url, inbox) = receiver(0).await;
    let sim = start(PresseroConfig {
        orders: 50,
        ..PresseroConfig::default()
    })
    .await;
    sim.subscribe_webhook(sub(&url, None)).unwrap();
    // An unpaid order: a payment touch raises PaymentReceived.
    let numbers = sim.order_numbers();
    let unpaid = numbers[3..]
        .iter()
        .copied()
        .find(|n| sim.order_details_json(*n).unwrap()["PaymentStatus"] == "Unpaid")
        .expect("an unpaid order");
    sim.touch_order_with(unpaid, switchyard_sim::pressero::OrderChange::Payment)
        .unwrap();
    sim.touch_order_with(numbers[0], switchyard_sim::pressero::OrderChange::ShipTo)
        .unwrap();
    // Item status PUT over HTTP.
    let client = reqwest::Client::new();
    let base = sim.base_url();
    let token: Value = serde_json::from_slice(
        &client
            .post(format!("{base}V2/Authentication"))
            .header("content-type", "application/json")
            .body(serde_json::to_string(sim.credentials()).unwrap())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    let token = token["Token"].as_str().unwrap().to_owned();
    let r = client
        .put(format!(
            "{base}V2/Orders/{}/Item/1/Status/Approved?notes=ok",
            numbers[1]
        ))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A shipment: OrderItemUpdated with the tracking on the item.
    let r = client
        .post(format!("{base}V2/Orders/Shipments"))
        .header("Authorization", format!("token {token}"))
        .header("content-type", "application/json")
        .body(
            json!({"OrderNumber": numbers[2], "OrderItemIds": ["1"], "Carrier": "UPS",
                   "TrackingNumber": "1Z999"})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    idle(&sim).await;
    let got = inbox.lock().unwrap().clone();
    assert!(got.iter().all(|(h, _)| h.get("MessageHash").is_none()));
    let events = bodies(&inbox);
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["TypeName"].as_str().unwrap())
        .collect();
    // Events arrive in the order they happened; the last status change only when the shipped
    // item was not shipped before.
    assert_eq!(
        names[..4],
        [
            "PaymentReceived",
            "OrderUpdated",
            "OrderItemStatusChanged",
            "OrderItemUpdated"
        ],
        "{names:?}"
    );
    assert!(names.len() == 4 || (names.len() == 5 && names[4] == "OrderItemStatusChanged"));
    assert_eq!(events[0]["Data"]["OrderNumber"], json!(unpaid));
    assert_eq!(events[0]["Data"]["PaymentStatus"], "Paid");
    assert_eq!(events[2]["Data"]["StatusId"], "Approved");
    assert_eq!(events[2]["Data"]["Notes"], "ok");
    assert_eq!(
        events[3]["Data"]["ShipmentTracking"]["TrackingNumber"],
        "1Z999"
    );
    // Message ids are unique.
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["MessageID"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len());
    sim.shutdown().await;
}

#[tokio::test]
async fn failed_attempts_are_retried_and_a_dead_receiver_is_recorded() {
    let (url, inbox) = receiver(2).await;
    let sim = start(PresseroConfig {
        orders: 10,
        webhook_retry_delay_ms: 10,
        ..PresseroConfig::default()
    })
    .await;
    sim.subscribe_webhook(sub(&url, None)).unwrap();
    sim.add_orders(1);
    idle(&sim).await;
    let d = sim.webhook_deliveries();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].attempts, 3, "two 500s then a 200");
    assert!(d[0].delivered);
    assert_eq!(d[0].status, Some(200));
    assert_eq!(inbox.lock().unwrap().len(), 1);

    // Nobody listens on this port: every attempt fails and the failure is recorded.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://{}/gone", dead.local_addr().unwrap());
    drop(dead);
    sim.reset(None);
    sim.subscribe_webhook(sub(&dead_url, None)).unwrap();
    sim.add_orders(1);
    idle(&sim).await;
    let d = sim.webhook_deliveries();
    let failed: Vec<_> = d.iter().filter(|x| x.url == dead_url).collect();
    assert_eq!(failed.len(), 1);
    assert!(!failed[0].delivered && !failed[0].dropped);
    assert_eq!(failed[0].attempts, 3, "default 3 attempts");
    assert!(failed[0].error.is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn subscribers_must_be_loopback_and_filters_apply() {
    let sim = start(PresseroConfig {
        orders: 10,
        ..PresseroConfig::default()
    })
    .await;
    for bad in [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "not a url",
    ] {
        assert!(sim.subscribe_webhook(sub(bad, None)).is_err(), "{bad}");
    }
    assert!(spawn_pressero(PresseroConfig {
        webhooks: vec![sub("http://192.0.2.1/x", None)],
        ..PresseroConfig::default()
    })
    .await
    .is_err());
    // Control API: register with site and event filters.
    let (url, inbox) = receiver(0).await;
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}pressero/webhooks", sim.control_url()))
        .body(
            json!({"url": url, "site": "b2b.example.com", "events": ["OrderUpdated"]}).to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .post(format!("{}pressero/webhooks", sim.control_url()))
        .body(json!({"url": "http://example.org/"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Touch one order of each site: only b2b's OrderUpdated arrives.
    let details: Vec<Value> = sim
        .order_numbers()
        .iter()
        .map(|n| sim.order_details_json(*n).unwrap())
        .collect();
    for site in ["shop.example.com", "b2b.example.com", "print.example.co.uk"] {
        if let Some(o) = details.iter().find(|d| d["SiteName"] == site) {
            let n = o["OrderNumber"].as_u64().unwrap();
            sim.touch_order_with(n, switchyard_sim::pressero::OrderChange::ModifiedOnly)
                .unwrap();
        }
    }
    sim.add_orders(3);
    idle(&sim).await;
    let events = bodies(&inbox);
    let b2b_touched = details.iter().any(|d| d["SiteName"] == "b2b.example.com");
    assert_eq!(events.len(), usize::from(b2b_touched));
    for e in &events {
        assert_eq!(e["TypeName"], "OrderUpdated");
        assert_eq!(e["Data"]["SiteName"], "b2b.example.com");
    }
    let status: Value = serde_json::from_slice(
        &client
            .get(format!("{}pressero/webhooks", sim.control_url()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(status["subscriptions"].as_array().unwrap().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn dropped_webhooks_are_recorded_and_polling_still_finds_the_orders() {
    let (url, inbox) = receiver(0).await;
    let sim = start(PresseroConfig {
        orders: 30,
        webhook_drop_rate: 0.5,
        ..PresseroConfig::default()
    })
    .await;
    sim.subscribe_webhook(WebhookSubscriber {
        url: url.clone(),
        events: vec![WebhookEvent::OrderPlaced],
        ..WebhookSubscriber::default()
    })
    .unwrap();
    let cut = chrono::Utc::now() - chrono::Duration::seconds(5);
    let numbers = sim.add_orders(40);
    idle(&sim).await;
    let records = sim.webhook_deliveries();
    let dropped = records.iter().filter(|d| d.dropped).count();
    let delivered = records.iter().filter(|d| d.delivered).count();
    assert_eq!(dropped + delivered, 40);
    assert!(
        dropped > 5 && delivered > 5,
        "about half dropped: {dropped}"
    );
    assert!(records
        .iter()
        .filter(|d| d.dropped)
        .all(|d| d.attempts == 0));
    let received: Vec<u64> = bodies(&inbox)
        .iter()
        .map(|e| e["Data"]["OrderNumber"].as_u64().unwrap())
        .collect();
    assert_eq!(received.len(), delivered);
    // Polling covers what the lost webhooks did not say.
    let client = reqwest::Client::new();
    let base = sim.base_url();
    let token: Value = serde_json::from_slice(
        &client
            .post(format!("{base}V2/Authentication"))
            .body(serde_json::to_string(sim.credentials()).unwrap())
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    let page: Value = serde_json::from_slice(
        &client
            .post(format!("{base}v2/Orders/Search?pageNumber=0&pageSize=500"))
            .header(
                "Authorization",
                format!("token {}", token["Token"].as_str().unwrap()),
            )
            .header("content-type", "application/json")
            .body(
                json!([{"Column":"ModifiedDate","Operator":"greaterthanorequal",
                        "Value": cut.to_rfc3339()}])
                .to_string(),
            )
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    let polled: Vec<u64> = page["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["OrderNumber"].as_u64().unwrap())
        .collect();
    for n in &numbers {
        assert!(polled.contains(n), "order {n} found by polling");
    }
    let missed = numbers.iter().filter(|n| !received.contains(n)).count();
    assert_eq!(missed, dropped);
    sim.shutdown().await;
}

#[tokio::test]
async fn drop_rate_is_deterministic_per_seed_and_settable_over_control() {
    async fn run(seed: u64) -> Vec<bool> {
        let (url, _inbox) = receiver(0).await;
        let sim = start(PresseroConfig {
            seed,
            orders: 5,
            ..PresseroConfig::default()
        })
        .await;
        sim.subscribe_webhook(sub(&url, None)).unwrap();
        let r = reqwest::Client::new()
            .put(format!("{}pressero/webhooks/settings", sim.control_url()))
            .body(json!({"drop_rate": 0.3}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        sim.add_orders(20);
        idle(&sim).await;
        let mut d = sim.webhook_deliveries();
        d.sort_by_key(|x| x.message_id);
        let out = d.iter().map(|x| x.dropped).collect();
        sim.shutdown().await;
        out
    }
    assert_eq!(run(7).await, run(7).await);
    let bad = start(PresseroConfig::default()).await;
    assert!(bad.set_webhook_drop_rate(1.5).is_err());
    bad.shutdown().await;
}
