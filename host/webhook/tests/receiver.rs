//! The receiver through its router (oneshot), and fed by the Pressero simulator's real
//! webhook sender on 127.0.0.1.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use switchyard_sim::pressero::{
    spawn_pressero, PresseroConfig, WebhookSettings, WebhookSubscriber,
};
use switchyard_webhook::{
    message_hash, router, router_with, PresseroEvent, ReceiverConfig, SecurityKey, SinkError,
    WebhookSink,
};
use tower::ServiceExt;

const KEY: &str = "site-security-key";

#[derive(Default)]
struct Sink {
    events: Mutex<Vec<(String, PresseroEvent)>>,
    fail: Mutex<Option<bool>>,
}

#[async_trait]
impl WebhookSink for Sink {
    async fn security_key(&self, connection: &str) -> Result<Option<SecurityKey>, SinkError> {
        Ok((connection == "conn-1").then(|| SecurityKey::new(KEY)))
    }

    async fn deliver(&self, connection: &str, event: PresseroEvent) -> Result<(), SinkError> {
        match *self.fail.lock().unwrap() {
            Some(true) => return Err(SinkError::Unavailable("queue full".into())),
            Some(false) => return Err(SinkError::Failed("disk on fire".into())),
            None => {}
        }
        self.events
            .lock()
            .unwrap()
            .push((connection.to_string(), event));
        Ok(())
    }
}

fn envelope() -> String {
    json!({
        "Type": 1,
        "TypeName": "OrderPlaced",
        "Timestamp": "2026-12-01T10:00:00.000Z",
        "Data": {"OrderNumber": 1042, "OrderTotal": 12.5},
        "SubscriberId": "sub-1",
        "SiteId": "7d1f0c2e-0000-4000-8000-000000000001",
        "MessageID": "5f1d0c2e-0000-4000-8000-000000000042",
    })
    .to_string()
}

fn request(connection: &str, body: &str, hash: Option<&str>) -> Request<Body> {
    let mut r = Request::post(format!("/webhooks/pressero/{connection}"))
        .header("Content-Type", "application/json");
    if let Some(h) = hash {
        r = r.header("MessageHash", h);
    }
    r.body(Body::from(body.to_string())).unwrap()
}

async fn call(app: axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let answer = app.oneshot(req).await.unwrap();
    let status = answer.status();
    let bytes = axum::body::to_bytes(answer.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_signed_delivery_reaches_the_sink_as_a_typed_event() {
    let sink = Arc::new(Sink::default());
    let app = router(sink.clone());
    let body = envelope();
    let hash = message_hash(KEY, body.as_bytes());
    let (status, answer) = call(app.clone(), request("conn-1", &body, Some(&hash))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["messageId"], "5f1d0c2e-0000-4000-8000-000000000042");
    // A duplicate is passed on too: the sink decides.
    let (status, _) = call(app, request("conn-1", &body, Some(&hash.to_uppercase()))).await;
    assert_eq!(status, StatusCode::OK);
    let events = sink.events.lock().unwrap();
    assert_eq!(events.len(), 2);
    let (conn, e) = &events[0];
    assert_eq!(conn, "conn-1");
    assert_eq!(e.type_name, "OrderPlaced");
    assert_eq!(e.type_code, Some(1));
    assert_eq!(e.order_number, Some(1042));
    assert_eq!(e.subscriber_id.as_deref(), Some("sub-1"));
    assert_eq!(e.data["OrderTotal"], 12.5);
    assert_eq!(events[1].1, *e);
}

#[tokio::test]
async fn refusals_are_json_with_the_right_status() {
    let sink = Arc::new(Sink::default());
    let app = router_with(
        sink.clone(),
        ReceiverConfig {
            max_body_bytes: 4096,
        },
    );
    let body = envelope();
    let hash = message_hash(KEY, body.as_bytes());

    let (s, a) = call(app.clone(), request("conn-1", &body, None)).await;
    assert_eq!(
        (s, a["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("missing_message_hash"))
    );
    assert!(a["error"].as_str().unwrap().contains("MessageHash"));
    let wrong = message_hash("another-key", body.as_bytes());
    let (s, a) = call(app.clone(), request("conn-1", &body, Some(&wrong))).await;
    assert_eq!(
        (s, a["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_message_hash"))
    );
    assert!(!a.to_string().contains(KEY), "the key never shows");
    // The hash covers the exact bytes: a re-serialised body does not match.
    let tampered = body.replace("1042", "1043");
    let (s, _) = call(app.clone(), request("conn-1", &tampered, Some(&hash))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let (s, a) = call(app.clone(), request("nobody", &body, Some(&hash))).await;
    assert_eq!(
        (s, a["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_connection"))
    );

    let bad = r#"{"TypeName":"OrderPlaced","Data":{}}"#;
    let (s, a) = call(
        app.clone(),
        request("conn-1", bad, Some(&message_hash(KEY, bad.as_bytes()))),
    )
    .await;
    assert_eq!(
        (s, a["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_body"))
    );
    assert!(a["error"].as_str().unwrap().contains("MessageID"), "{a}");
    let (s, a) = call(
        app.clone(),
        request("conn-1", "{oops", Some(&message_hash(KEY, b"{oops"))),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(a["error"].as_str().unwrap().contains("not JSON"), "{a}");

    let big = format!(
        r#"{{"TypeName":"X","MessageID":"m","Data":"{}"}}"#,
        "x".repeat(5000)
    );
    let (s, a) = call(
        app.clone(),
        request("conn-1", &big, Some(&message_hash(KEY, big.as_bytes()))),
    )
    .await;
    assert_eq!(
        (s, a["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))
    );
    // Also without a Content-Length (a streamed body).
    let stream = futures_body(big.clone());
    let mut req = request("conn-1", "", Some(&message_hash(KEY, big.as_bytes())));
    *req.body_mut() = stream;
    req.headers_mut().remove("content-length");
    let (s, _) = call(app.clone(), req).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);

    *sink.fail.lock().unwrap() = Some(true);
    let (s, a) = call(app.clone(), request("conn-1", &body, Some(&hash))).await;
    assert_eq!(
        (s, a["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("sink_unavailable"))
    );
    *sink.fail.lock().unwrap() = Some(false);
    let (s, a) = call(app.clone(), request("conn-1", &body, Some(&hash))).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !a.to_string().contains("disk on fire"),
        "sink internals stay in the log"
    );
    assert!(sink.events.lock().unwrap().is_empty());

    // Only POST is served.
    let get = Request::get("/webhooks/pressero/conn-1")
        .body(Body::empty())
        .unwrap();
    let answer = app.oneshot(get).await.unwrap();
    assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
}

/// A body with no known length.
fn futures_body(text: String) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = text
        .into_bytes()
        .chunks(1000)
        .map(|c| Ok(c.to_vec()))
        .collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn the_simulator_s_webhooks_are_verified_and_delivered() {
    let sink = Arc::new(Sink::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(sink.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let sim = spawn_pressero(PresseroConfig {
        orders: 20,
        ..PresseroConfig::default()
    })
    .await
    .unwrap();
    sim.set_webhook_settings(WebhookSettings {
        drop_rate: 0.0,
        max_attempts: 1,
        retry_delay_ms: 10,
    })
    .unwrap();
    sim.subscribe_webhook(WebhookSubscriber {
        url: format!("http://{addr}/webhooks/pressero/conn-1"),
        site: None,
        key: Some(KEY.into()),
        events: Vec::new(),
    })
    .unwrap();
    // A subscriber with the wrong key is refused, and one for an unknown connection.
    sim.subscribe_webhook(WebhookSubscriber {
        url: format!("http://{addr}/webhooks/pressero/conn-1"),
        site: None,
        key: Some("wrong".into()),
        events: Vec::new(),
    })
    .unwrap();
    sim.subscribe_webhook(WebhookSubscriber {
        url: format!("http://{addr}/webhooks/pressero/conn-9"),
        site: None,
        key: Some(KEY.into()),
        events: Vec::new(),
    })
    .unwrap();

    let numbers = sim.add_orders(2);
    sim.touch_order_with(
        numbers[0],
        switchyard_sim::pressero::OrderChange::ItemStatus,
    )
    .unwrap();
    assert!(sim.wait_webhooks_idle(Duration::from_secs(20)).await);

    let deliveries = sim.webhook_deliveries();
    let good: Vec<_> = deliveries
        .iter()
        .filter(|d| d.subscription_id == 1)
        .collect();
    assert!(good.len() >= 3, "{deliveries:?}");
    assert!(good.iter().all(|d| d.delivered && d.status == Some(200)));
    assert!(deliveries
        .iter()
        .filter(|d| d.subscription_id == 2)
        .all(|d| !d.delivered && d.status == Some(401)));
    assert!(deliveries
        .iter()
        .filter(|d| d.subscription_id == 3)
        .all(|d| !d.delivered && d.status == Some(404)));

    let events = sink.events.lock().unwrap().clone();
    assert_eq!(events.len(), good.len(), "only the verified ones arrive");
    let placed: Vec<u64> = events
        .iter()
        .filter(|(_, e)| e.type_name == "OrderPlaced")
        .filter_map(|(_, e)| e.order_number)
        .collect();
    assert_eq!(placed, numbers);
    let status = events
        .iter()
        .find(|(_, e)| e.type_name == "OrderItemStatusChanged")
        .map(|(_, e)| e.clone())
        .expect("an item status event");
    assert_eq!(status.order_number, Some(numbers[0]));
    assert!(status.item_id.is_some() && status.item_number.is_some());
    assert_eq!(
        status.subscriber_id.as_deref(),
        Some(sim.credentials().subscriber_id.as_str())
    );
    let ids: Vec<String> = good.iter().map(|d| d.message_id.to_string()).collect();
    for (_, e) in &events {
        assert!(ids.contains(&e.message_id), "{}", e.message_id);
    }
    server.abort();
    sim.shutdown().await;
}
