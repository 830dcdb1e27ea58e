//! `HttpCapability::send` against real axum servers on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use base64::Engine;
use futures_util::StreamExt;
use switchyard_http::*;

/// What a test server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
}

/// The requests a test server received, in arrival order.
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<Vec<Seen>>>);

impl Arrivals {
    async fn take(&self, req: Request) -> Seen {
        let at = Instant::now();
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let seen = Seen {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            headers: parts.headers,
            body,
            at,
        };
        self.0.lock().unwrap().push(seen.clone());
        seen
    }

    fn all(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// Serves `router` on an ephemeral port of 127.0.0.1.
async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A server answering every request with `respond(n, seen)`, n counting from 1.
async fn server<F>(respond: F) -> (SocketAddr, Arrivals)
where
    F: Fn(usize, &Seen) -> Response + Clone + Send + Sync + 'static,
{
    let arrivals = Arrivals::default();
    let recorded = arrivals.clone();
    let router = Router::new().fallback(any(move |req: Request| {
        let recorded = recorded.clone();
        let respond = respond.clone();
        async move {
            let seen = recorded.take(req).await;
            respond(recorded.count(), &seen)
        }
    }));
    (serve(router).await, arrivals)
}

#[derive(Default)]
struct ExchangeRecorder(Mutex<Vec<Exchange>>);

impl ExchangeLog for ExchangeRecorder {
    fn record(&self, exchange: &Exchange) {
        self.0.lock().unwrap().push(exchange.clone());
    }
}

impl ExchangeRecorder {
    fn only(&self) -> Exchange {
        let all = self.0.lock().unwrap();
        assert_eq!(all.len(), 1, "one exchange per send");
        all[0].clone()
    }
}

/// Every string of an exchange, to grep for secrets.
fn every_logged_string(e: &Exchange) -> String {
    let mut all = vec![e.url.clone(), format!("{e:?}")];
    all.extend(e.final_url.clone());
    for (n, v) in e.request_headers.iter().chain(&e.response_headers) {
        all.push(format!("{n}: {v}"));
    }
    all.extend(e.request_body_excerpt.clone());
    all.extend(e.response_body_excerpt.clone());
    all.extend(e.error.clone());
    all.join("\n")
}

fn http() -> HttpCapability {
    HttpCapability::new(HttpDefaults::default()).unwrap()
}

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        max_throttled: 0,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(5),
    }
}

fn status(code: u16) -> Response {
    StatusCode::from_u16(code).unwrap().into_response()
}

const API_KEY: &str = "k&y/s3cr3t+val ue";
const TOKEN: &str = "tok-9f8e7d6c5b";
const PASSWORD: &str = "pa55:w0rd\"quoted";

#[tokio::test]
async fn placeholders_reach_the_server_and_never_the_log() {
    // The server echoes what it got, so the response excerpt is a redaction test too.
    let (addr, arrivals) = server(|_, seen| {
        let echo = format!(
            "query={:?} auth={:?} token={:?} body={}",
            seen.query,
            seen.headers.get("authorization"),
            seen.headers.get("x-token"),
            String::from_utf8_lossy(&seen.body)
        );
        ([("set-cookie", format!("session={TOKEN}"))], echo).into_response()
    })
    .await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .secret("API_KEY", API_KEY)
        .secret("TOKEN", TOKEN)
        .secret("PASSWORD", PASSWORD)
        .build()
        .unwrap();
    let req = OutboundRequest {
        method: Method::Post,
        url: format!("http://{addr}/items?key={{{{secret:API_KEY}}}}&page=2"),
        headers: vec![
            ("X-Token".into(), "Bearer {{secret:TOKEN}}".into()),
            ("X-Api-Key".into(), "{{secret:API_KEY}}".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: Some(
            br#"{"user":"ann","password":"{{secret:PASSWORD}}","token":"{{secret:TOKEN}}"}"#
                .to_vec(),
        ),
        basic_auth: Some(("ann".into(), "{{secret:PASSWORD}}".into())),
        idempotent: None,
    };
    let log = ExchangeRecorder::default();
    let res = http().send(&policy, req, &log).await.unwrap();
    assert_eq!(res.status, 200);

    let seen = &arrivals.all()[0];
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(seen.query.as_deref().unwrap().as_bytes())
            .into_owned()
            .collect();
    assert_eq!(
        query,
        vec![
            ("key".to_string(), API_KEY.to_string()),
            ("page".to_string(), "2".to_string())
        ]
    );
    assert_eq!(seen.headers["x-token"], format!("Bearer {TOKEN}").as_str());
    assert_eq!(seen.headers["x-api-key"], API_KEY);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ann:{PASSWORD}"));
    assert_eq!(
        seen.headers["authorization"],
        format!("Basic {basic}").as_str()
    );
    let body = String::from_utf8_lossy(&seen.body);
    assert!(
        body.contains(&format!(r#""password":"{PASSWORD}""#)),
        "{body}"
    );

    let exchange = log.only();
    let logged = every_logged_string(&exchange);
    let encoded_key = url::form_urlencoded::byte_serialize(API_KEY.as_bytes()).collect::<String>();
    for leak in [
        API_KEY,
        TOKEN,
        PASSWORD,
        "pa55",
        "s3cr3t",
        "tok-9f8e",
        basic.as_str(),
        encoded_key.as_str(),
    ] {
        assert!(
            !logged.contains(leak),
            "{leak:?} leaked into the log:\n{logged}"
        );
    }
    assert!(exchange.url.contains("key=***&page=2"), "{}", exchange.url);
    let header = |name: &str| {
        exchange
            .request_headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("authorization").as_deref(), Some("***"));
    assert_eq!(header("x-api-key").as_deref(), Some("***"));
    assert_eq!(header("x-token").as_deref(), Some("Bearer ***"));
    assert!(exchange
        .request_body_excerpt
        .unwrap()
        .contains(r#""user":"ann""#));
    assert_eq!(exchange.status, Some(200));
    assert_eq!(exchange.attempts, 1);
}

#[tokio::test]
async fn unknown_secret_names_the_placeholder_and_sends_nothing() {
    let (addr, arrivals) = server(|_, _| status(200)).await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .secret("API_KEY", API_KEY)
        .build()
        .unwrap();
    let log = ExchangeRecorder::default();
    let mut req = OutboundRequest::get(format!("http://{addr}/x"));
    req.headers
        .push(("X-Token".into(), "{{secret:MISSING}}".into()));
    let err = http().send(&policy, req, &log).await.unwrap_err();
    assert_eq!(err, HttpError::UnknownSecret("MISSING".into()));
    assert_eq!(arrivals.count(), 0);
    let exchange = log.only();
    assert_eq!(exchange.status, None);
    assert!(exchange.error.unwrap().contains("MISSING"));
}

#[tokio::test]
async fn destinations_off_the_allow_list_are_denied() {
    let (allowed, _) = server(|_, _| status(200)).await;
    let (other, other_arrivals) = server(|_, _| status(200)).await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", allowed.port()))
        .build()
        .unwrap();
    let log = ExchangeRecorder::default();

    let err = http()
        .send(
            &policy,
            OutboundRequest::get(format!("http://{other}/")),
            &log,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        HttpError::Denied(format!(
            "host 127.0.0.1:{} is not in the connection's allow-list",
            other.port()
        ))
    );
    // Same host, other scheme is refused too: https is allowed only on the same port here,
    // and a URL with user info never goes out.
    let err = http()
        .send(
            &policy,
            OutboundRequest::get(format!("http://u:p@{allowed}/")),
            &log,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::InvalidRequest(_)), "{err:?}");
    let err = http()
        .send(
            &policy,
            OutboundRequest::get(format!("ftp://{allowed}/")),
            &log,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::InvalidRequest(_)), "{err:?}");
    assert_eq!(other_arrivals.count(), 0);
}

#[tokio::test]
async fn redirects_are_checked_on_every_hop() {
    let (other, other_arrivals) = server(|_, _| status(200)).await;
    let (start, start_arrivals) = server(move |_, seen| {
        let to = match seen.path.as_str() {
            "/to-other-port" => format!("http://{other}/stolen"),
            "/to-other-host" => "http://evil.invalid/stolen".to_string(),
            _ => "/nowhere".to_string(),
        };
        (StatusCode::FOUND, [("location", to)]).into_response()
    })
    .await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", start.port()))
        .build()
        .unwrap();
    let log = ExchangeRecorder::default();

    for path in ["/to-other-port", "/to-other-host"] {
        let err = http()
            .send(
                &policy,
                OutboundRequest::get(format!("http://{start}{path}")),
                &log,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, HttpError::Denied(m) if m.contains("is not in the connection's allow-list")),
            "{err:?}"
        );
    }
    assert_eq!(start_arrivals.count(), 2);
    assert_eq!(
        other_arrivals.count(),
        0,
        "the disallowed target was never contacted"
    );
}

#[tokio::test]
async fn redirects_to_allowed_hosts_are_followed() {
    let (landing, landing_arrivals) =
        server(|_, seen| format!("landed by {}", seen.method).into_response()).await;
    let (start, _) = server(move |_, seen| {
        let code = if seen.path == "/see-other" {
            StatusCode::SEE_OTHER
        } else {
            StatusCode::TEMPORARY_REDIRECT
        };
        (code, [("location", format!("http://{landing}/landing"))]).into_response()
    })
    .await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", start.port()))
        .allow_host(format!("http://127.0.0.1:{}", landing.port()))
        .secret("TOKEN", TOKEN)
        .build()
        .unwrap();
    let log = ExchangeRecorder::default();

    let mut req = OutboundRequest::get(format!("http://{start}/moved"));
    req.headers
        .push(("X-Token".into(), "{{secret:TOKEN}}".into()));
    let res = http().send(&policy, req, &log).await.unwrap();
    assert_eq!(
        (res.status, res.body.as_slice()),
        (200, b"landed by GET".as_slice())
    );

    // 303 turns a POST into a GET without body.
    let mut post = OutboundRequest::new(Method::Post, format!("http://{start}/see-other"));
    post.body = Some(b"payload".to_vec());
    let res = http().send(&policy, post, &log).await.unwrap();
    assert_eq!(res.body, b"landed by GET");

    let seen = landing_arrivals.all();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[0].headers.get("x-token").is_none(),
        "secret headers stay with their origin"
    );
    assert!(seen[1].body.is_empty());
    let exchanges = log.0.lock().unwrap();
    assert_eq!(exchanges[0].attempts, 2);
    assert_eq!(
        exchanges[0].final_url.as_deref(),
        Some(format!("http://{landing}/landing").as_str())
    );
}

#[tokio::test]
async fn a_503_is_retried_until_success() {
    let (addr, arrivals) = server(|n, _| {
        if n < 3 {
            status(503)
        } else {
            "ok".into_response()
        }
    })
    .await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .retry(fast_retries(3))
        .build()
        .unwrap();
    let log = ExchangeRecorder::default();
    let res = http()
        .send(
            &policy,
            OutboundRequest::get(format!("http://{addr}/")),
            &log,
        )
        .await
        .unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(arrivals.count(), 3);
    assert_eq!(log.only().attempts, 3);
}

#[tokio::test]
async fn when_retries_run_out_the_5xx_is_the_response() {
    let (addr, arrivals) = server(|_, _| status(502)).await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .retry(fast_retries(2))
        .build()
        .unwrap();
    let res = http()
        .send(
            &policy,
            OutboundRequest::get(format!("http://{addr}/")),
            &DiscardExchanges,
        )
        .await
        .unwrap();
    assert_eq!(res.status, 502);
    assert_eq!(arrivals.count(), 2);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (addr, arrivals) = server(|n, _| {
        if n == 1 {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response()
        } else {
            "ok".into_response()
        }
    })
    .await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .retry(fast_retries(3))
        .build()
        .unwrap();
    let res = http()
        .send(
            &policy,
            OutboundRequest::get(format!("http://{addr}/")),
            &DiscardExchanges,
        )
        .await
        .unwrap();
    assert_eq!(res.status, 200);
    let seen = arrivals.all();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at.duration_since(seen[0].at);
    assert!(
        gap >= Duration::from_secs(1),
        "second request after {gap:?}"
    );
}

#[tokio::test]
async fn a_burst_of_429_is_waited_out_even_for_a_post_without_using_the_attempts() {
    // Three 429s, then one 503, then success: a burst longer than the attempts for errors.
    let (addr, arrivals) = server(|n, _| match n {
        1..=3 => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")]).into_response(),
        4 => status(503),
        _ => "ok".into_response(),
    })
    .await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .retry(RetryPolicy {
            max_throttled: 3,
            ..fast_retries(2)
        })
        .build()
        .unwrap();
    let url = format!("http://{addr}/");
    let res = http()
        .send(&policy, OutboundRequest::get(&url), &DiscardExchanges)
        .await
        .unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(arrivals.count(), 5, "3 throttled + 2 attempts");

    // A POST that is throttled was not taken: sent again; a 503 to it is not.
    let (addr, arrivals) = server(|n, _| match n {
        1 => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")]).into_response(),
        _ => status(503),
    })
    .await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .retry(RetryPolicy {
            max_throttled: 3,
            ..fast_retries(3)
        })
        .build()
        .unwrap();
    let res = http()
        .send(
            &policy,
            OutboundRequest::new(Method::Post, format!("http://{addr}/")),
            &DiscardExchanges,
        )
        .await
        .unwrap();
    assert_eq!(res.status, 503);
    assert_eq!(
        arrivals.count(),
        2,
        "the 429 waited out, the 503 not retried"
    );

    // Past max_throttled the 429 is the answer.
    let (addr, arrivals) =
        server(|_, _| (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")]).into_response())
            .await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .retry(RetryPolicy {
            max_throttled: 2,
            ..fast_retries(1)
        })
        .build()
        .unwrap();
    let res = http()
        .send(
            &policy,
            OutboundRequest::get(format!("http://{addr}/")),
            &DiscardExchanges,
        )
        .await
        .unwrap();
    assert_eq!(res.status, 429);
    assert_eq!(arrivals.count(), 3);
}

#[tokio::test]
async fn non_idempotent_requests_are_sent_once() {
    let (addr, arrivals) = server(|_, _| status(503)).await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .retry(fast_retries(3))
        .build()
        .unwrap();
    let url = format!("http://{addr}/");
    let res = http()
        .send(
            &policy,
            OutboundRequest::new(Method::Post, &url),
            &DiscardExchanges,
        )
        .await
        .unwrap();
    assert_eq!(res.status, 503);
    assert_eq!(arrivals.count(), 1, "POST is not retried");

    let mut get = OutboundRequest::get(&url);
    get.idempotent = Some(false);
    http().send(&policy, get, &DiscardExchanges).await.unwrap();
    assert_eq!(
        arrivals.count(),
        2,
        "explicitly non-idempotent GET is not retried"
    );

    let mut post = OutboundRequest::new(Method::Post, &url);
    post.idempotent = Some(true);
    http().send(&policy, post, &DiscardExchanges).await.unwrap();
    assert_eq!(arrivals.count(), 5, "explicitly idempotent POST is retried");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_after_retries() {
    let arrivals = Arrivals::default();
    let recorded = arrivals.clone();
    let router = Router::new().fallback(any(move |req: Request| {
        let recorded = recorded.clone();
        async move {
            recorded.take(req).await;
            std::future::pending::<()>().await;
            "never"
        }
    }));
    let addr = serve(router).await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .retry(fast_retries(2))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let log = ExchangeRecorder::default();
    let err = http()
        .send(
            &policy,
            OutboundRequest::get(format!("http://{addr}/")),
            &log,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, HttpError::Timeout(m) if m.contains("2 attempts")),
        "{err:?}"
    );
    assert_eq!(arrivals.count(), 2);
    assert_eq!(log.only().attempts, 2);
}

#[tokio::test]
async fn refused_connections_fail_after_retries_without_leaking_the_url() {
    // Take a free port and close it again: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{port}"))
        .secret("API_KEY", API_KEY)
        .retry(fast_retries(3))
        .build()
        .unwrap();
    let log = ExchangeRecorder::default();
    let req = OutboundRequest::get(format!(
        "http://127.0.0.1:{port}/?key={{{{secret:API_KEY}}}}"
    ));
    let err = http().send(&policy, req, &log).await.unwrap_err();
    assert!(
        matches!(&err, HttpError::Connection(m) if m.contains("3 attempts")),
        "{err:?}"
    );
    let exchange = log.only();
    assert_eq!(exchange.attempts, 3);
    assert!(!every_logged_string(&exchange).contains("s3cr3t"));
    assert!(!err.to_string().contains("s3cr3t"));
}

#[tokio::test]
async fn bodies_over_the_cap_are_too_large() {
    let (addr, _) = server(|_, seen| match seen.path.as_str() {
        "/sized" => vec![b'x'; 10_000].into_response(),
        "/exact" => vec![b'x'; 1_000].into_response(),
        // Streamed in chunks without Content-Length: the cap must stop the reading.
        _ => {
            let chunks = (0..100).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'y'; 100])));
            Body::from_stream(futures_util::stream::iter(chunks)).into_response()
        }
    })
    .await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .max_body_bytes(1_000)
        .build()
        .unwrap();
    for path in ["/sized", "/streamed"] {
        let err = http()
            .send(
                &policy,
                OutboundRequest::get(format!("http://{addr}{path}")),
                &DiscardExchanges,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, HttpError::TooLarge(_)), "{path}: {err:?}");
    }
    let res = http()
        .send(
            &policy,
            OutboundRequest::get(format!("http://{addr}/exact")),
            &DiscardExchanges,
        )
        .await
        .unwrap();
    assert_eq!(res.body.len(), 1_000);
}

#[tokio::test]
async fn the_concurrency_cap_holds() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let (flight, max) = (in_flight.clone(), max_seen.clone());
    let router = Router::new().fallback(any(move || {
        let (flight, max) = (flight.clone(), max.clone());
        async move {
            let now = flight.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            flight.fetch_sub(1, Ordering::SeqCst);
            "ok"
        }
    }));
    let addr = serve(router).await;
    let policy = Arc::new(
        ConnectionPolicy::builder()
            .allow_host(format!("127.0.0.1:{}", addr.port()))
            .max_concurrency(2)
            .build()
            .unwrap(),
    );
    let http = http();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (http, policy) = (http.clone(), policy.clone());
        tasks.push(tokio::spawn(async move {
            http.send(
                &policy,
                OutboundRequest::get(format!("http://{addr}/")),
                &DiscardExchanges,
            )
            .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().status, 200);
    }
    let max = max_seen.load(Ordering::SeqCst);
    assert!((1..=2).contains(&max), "max in flight {max}");
}

#[tokio::test]
async fn the_rate_limit_waits_instead_of_failing() {
    let (addr, arrivals) = server(|_, _| "ok".into_response()).await;
    // 10 requests/s, burst 1: five requests need at least four periods of 100 ms.
    let policy = Arc::new(
        ConnectionPolicy::builder()
            .allow_host(format!("127.0.0.1:{}", addr.port()))
            .rate_limit(10.0, 1)
            .build()
            .unwrap(),
    );
    let http = http();
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (http, policy) = (http.clone(), policy.clone());
        tasks.push(tokio::spawn(async move {
            http.send(
                &policy,
                OutboundRequest::get(format!("http://{addr}/")),
                &DiscardExchanges,
            )
            .await
        }));
    }
    for task in tasks {
        assert_eq!(
            task.await.unwrap().unwrap().status,
            200,
            "rate-limited requests succeed"
        );
    }
    let seen = arrivals.all();
    assert_eq!(seen.len(), 5);
    let spread = seen[4].at.duration_since(seen[0].at);
    // A lower bound only, with slack for delivery jitter.
    assert!(
        spread >= Duration::from_millis(300),
        "five requests within {spread:?}"
    );
}

#[tokio::test]
async fn set_cookie_in_responses_is_masked_in_the_log() {
    let (addr, _) = server(|_, _| ([("set-cookie", "sid=abc123")], "ok").into_response()).await;
    let policy = ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .build()
        .unwrap();
    let log = ExchangeRecorder::default();
    let res = http()
        .send(
            &policy,
            OutboundRequest::get(format!("http://{addr}/")),
            &log,
        )
        .await
        .unwrap();
    assert_eq!(
        res.header("set-cookie"),
        Some("sid=abc123"),
        "the plugin gets the real header"
    );
    let exchange = log.only();
    assert!(exchange
        .response_headers
        .contains(&("set-cookie".to_string(), "***".to_string())));
    assert!(!every_logged_string(&exchange).contains("abc123"));
}

const ORDER_JSON: &str = r#"{"OrderNumber":1010,"Details":{"Currency":"USD","OrderTotal":19.99}}"#;

fn json_answer(body: &str) -> Response {
    (
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// The first half of `body`: what a provider cutting its answer short sends.
fn half(body: &str) -> String {
    body[..body.len() / 2].to_string()
}

fn retrying_policy(addr: SocketAddr, max_attempts: u32) -> ConnectionPolicy {
    ConnectionPolicy::builder()
        .allow_host(format!("127.0.0.1:{}", addr.port()))
        .retry(fast_retries(max_attempts))
        .build()
        .unwrap()
}

#[tokio::test]
async fn half_a_json_body_is_retried_like_a_5xx() {
    let (addr, arrivals) = server(|n, _| {
        if n < 3 {
            json_answer(&half(ORDER_JSON))
        } else {
            json_answer(ORDER_JSON)
        }
    })
    .await;
    let log = ExchangeRecorder::default();
    let res = http()
        .send(
            &retrying_policy(addr, 3),
            OutboundRequest::get(format!("http://{addr}/v2/orders/1010/Details")),
            &log,
        )
        .await
        .unwrap();
    assert_eq!(
        res.body,
        ORDER_JSON.as_bytes(),
        "the plugin gets the whole one"
    );
    assert_eq!(arrivals.count(), 3);
    let exchange = log.only();
    assert_eq!(exchange.attempts, 3);
    assert_eq!(exchange.malformed_retries, 2);
    assert_eq!(exchange.malformed_body, None, "the body returned is whole");
}

#[tokio::test]
async fn a_body_malformed_on_every_attempt_is_returned_as_it_is() {
    let (addr, arrivals) = server(|_, _| json_answer(&half(ORDER_JSON))).await;
    let log = ExchangeRecorder::default();
    let res = http()
        .send(
            &retrying_policy(addr, 3),
            OutboundRequest::get(format!("http://{addr}/v2/orders/1010/Details")),
            &log,
        )
        .await
        .expect("a malformed body is an answer, not an error");
    assert_eq!(
        (res.status, res.body.as_slice()),
        (200, half(ORDER_JSON).as_bytes())
    );
    assert_eq!(arrivals.count(), 3);
    let exchange = log.only();
    assert_eq!(exchange.attempts, 3);
    assert_eq!(exchange.malformed_retries, 2);
    assert_eq!(exchange.error, None);
    let why = exchange.malformed_body.expect("the log names the defect");
    assert!(
        why.contains("declared application/json but is not JSON: EOF while parsing"),
        "{why}"
    );
}

#[tokio::test]
async fn a_malformed_answer_to_a_post_is_not_sent_again() {
    let (addr, arrivals) = server(|_, _| json_answer(&half(ORDER_JSON))).await;
    let log = ExchangeRecorder::default();
    let mut post = OutboundRequest::new(Method::Post, format!("http://{addr}/v2/orders"));
    post.body = Some(ORDER_JSON.as_bytes().to_vec());
    let res = http()
        .send(&retrying_policy(addr, 3), post, &log)
        .await
        .unwrap();
    assert_eq!(res.body, half(ORDER_JSON).as_bytes());
    assert_eq!(arrivals.count(), 1, "a POST may have created something");
    let exchange = log.only();
    assert_eq!((exchange.attempts, exchange.malformed_retries), (1, 0));
    assert!(
        exchange.malformed_body.is_some(),
        "the log still says the body was broken"
    );

    // Marked idempotent by the plugin (a SOAP read is a POST), it is sent again.
    let mut read = OutboundRequest::new(Method::Post, format!("http://{addr}/soap"));
    read.idempotent = Some(true);
    http()
        .send(&retrying_policy(addr, 3), read, &DiscardExchanges)
        .await
        .unwrap();
    assert_eq!(arrivals.count(), 4);
}

const SOAP_ANSWER: &str = r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><ns1:get_order_statusResponse xmlns:ns1="urn:presswise:order2"><result><status><code>0</code></status></result></ns1:get_order_statusResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;

#[tokio::test]
async fn xml_cut_in_half_is_retried() {
    let (addr, arrivals) = server(|n, _| {
        let body = if n == 1 {
            half(SOAP_ANSWER)
        } else {
            SOAP_ANSWER.to_string()
        };
        ([("content-type", "text/xml; charset=utf-8")], body).into_response()
    })
    .await;
    let log = ExchangeRecorder::default();
    let mut req = OutboundRequest::new(Method::Post, format!("http://{addr}/wsdl-order2.php"));
    req.idempotent = Some(true);
    let res = http()
        .send(&retrying_policy(addr, 3), req, &log)
        .await
        .unwrap();
    assert_eq!(res.body, SOAP_ANSWER.as_bytes());
    assert_eq!(arrivals.count(), 2);
    let exchange = log.only();
    assert_eq!((exchange.attempts, exchange.malformed_retries), (2, 1));
    assert_eq!(exchange.malformed_body, None);
}

#[tokio::test]
async fn an_html_page_to_a_json_only_request_is_retried() {
    let (addr, arrivals) = server(|n, _| {
        if n == 1 {
            (
                [("content-type", "text/html")],
                "<html><title>Service temporarily unavailable</title></html>",
            )
                .into_response()
        } else {
            json_answer(ORDER_JSON)
        }
    })
    .await;
    let policy = retrying_policy(addr, 3);
    let mut req = OutboundRequest::get(format!("http://{addr}/v2/orders/1010/Details"));
    req.headers
        .push(("Accept".into(), "application/json".into()));
    let res = http().send(&policy, req, &DiscardExchanges).await.unwrap();
    assert_eq!(res.body, ORDER_JSON.as_bytes());
    assert_eq!(arrivals.count(), 2);

    // A request that accepts anything gets the page: it may be what was asked for.
    let res = http()
        .send(
            &policy,
            OutboundRequest::get(format!("http://{addr}/page")),
            &DiscardExchanges,
        )
        .await
        .unwrap();
    assert_eq!(res.body, ORDER_JSON.as_bytes());
    assert_eq!(arrivals.count(), 3, "no retry without an Accept");
}

/// A server that announces the whole body, sends half of it and breaks the connection, for
/// the first `cut` requests; then it answers whole.
async fn cutting_server(cut: usize) -> (SocketAddr, Arrivals) {
    server(move |n, _| {
        let whole = Bytes::from(ORDER_JSON);
        if n > cut {
            return json_answer(ORDER_JSON);
        }
        let first = whole.slice(..whole.len() / 2);
        // The pause lets hyper flush the headers and the first half before the failure tears
        // the connection down (as the simulators' `truncated_rate` does).
        let chunks = futures_util::stream::iter([Some(first), None]).then(|chunk| async move {
            match chunk {
                Some(bytes) => Ok::<_, std::io::Error>(bytes),
                None => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "cut",
                    ))
                }
            }
        });
        (
            [
                ("content-type", "application/json".to_string()),
                ("content-length", whole.len().to_string()),
            ],
            Body::from_stream(chunks),
        )
            .into_response()
    })
    .await
}

#[tokio::test]
async fn a_body_cut_by_a_broken_connection_is_retried() {
    let (addr, arrivals) = cutting_server(1).await;
    let log = ExchangeRecorder::default();
    let res = http()
        .send(
            &retrying_policy(addr, 3),
            OutboundRequest::get(format!("http://{addr}/v2/orders/1010/Details")),
            &log,
        )
        .await
        .unwrap();
    assert_eq!(res.body, ORDER_JSON.as_bytes());
    assert_eq!(arrivals.count(), 2);
    assert_eq!(log.only().attempts, 2);
}

#[tokio::test]
async fn a_body_cut_on_every_attempt_fails_saying_so() {
    let (addr, arrivals) = cutting_server(usize::MAX).await;
    let log = ExchangeRecorder::default();
    let err = http()
        .send(
            &retrying_policy(addr, 2),
            OutboundRequest::get(format!("http://{addr}/v2/orders/1010/Details")),
            &log,
        )
        .await
        .unwrap_err();
    let whole = ORDER_JSON.len();
    assert!(
        matches!(&err, HttpError::Connection(m)
            if m.contains("was cut short") && m.contains(&format!("of {whole} body bytes")) && m.contains("2 attempts")),
        "{err:?}"
    );
    assert_eq!(arrivals.count(), 2);
    let exchange = log.only();
    assert_eq!(exchange.attempts, 2);
    assert!(exchange.error.unwrap().contains("cut short"));
}
