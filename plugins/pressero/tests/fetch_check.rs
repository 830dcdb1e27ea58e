#![cfg(not(target_arch = "wasm32"))]
//! check and fetch against a fake Pressero in the SDK's native fake host.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{json, Value};
use switchyard_plugin_pressero::keyset::OrderCursor;
use switchyard_plugin_pressero::Pressero;
use switchyard_sdk::bindings::switchyard::connector::http::Method;
use switchyard_sdk::testing::{sent_requests, store_entry, FakeHost, FakeResponse};
use switchyard_sdk::types::*;
use switchyard_sdk::Connector;

const BASE: &str = "http://127.0.0.1:9/api/";

fn host() -> FakeHost {
    FakeHost::new()
        .config("base-url", BASE)
        .config("username", "ann")
        .config("subscriber-id", "sub-1")
        .secret("password", "pw")
        .secret("consumer-id", "cons")
}

fn auth_ok(
    tokens: Rc<RefCell<u32>>,
) -> impl FnMut(&switchyard_sdk::testing::SentRequest) -> FakeResponse {
    move |req| {
        let body = req.body_json();
        if body["Password"] != "pw" || body["UserName"] != "ann" || body["ConsumerID"] != "cons" {
            return FakeResponse::json(401, r#"{"Message":"Invalid credentials"}"#);
        }
        *tokens.borrow_mut() += 1;
        FakeResponse::json_value(
            200,
            &json!({"Token": format!("t{}", tokens.borrow()), "Expires": "2026-12-01T10:20:00Z"}),
        )
    }
}

#[test]
fn check_answers_connected_or_names_the_refusal() {
    let tokens = Rc::new(RefCell::new(0));
    host()
        .route(
            Method::Post,
            &format!("{BASE}V2/Authentication"),
            auth_ok(tokens),
        )
        .install();
    let report = Pressero::check().unwrap();
    assert_eq!(
        report.message,
        format!("connected to Pressero as user ann at {BASE}")
    );
    // The plugin sent placeholders, never the secret values.
    let sent = &sent_requests()[0];
    assert!(sent.placeholder_body.contains("{{secret:password}}"));
    assert!(!sent.placeholder_body.contains("pw\""));
    assert_eq!(store_entry("token:v1:ann@sub-1").unwrap().1, Some(900));

    let tokens = Rc::new(RefCell::new(0));
    host()
        .secret("password", "wrong")
        .route(
            Method::Post,
            &format!("{BASE}V2/Authentication"),
            auth_ok(tokens),
        )
        .install();
    match Pressero::check().unwrap_err() {
        ConnectorError::Auth(m) => assert_eq!(
            m,
            "Pressero refused the credentials (401: Invalid credentials)"
        ),
        other => panic!("{other:?}"),
    }

    FakeHost::new()
        .config("data-centre", "london")
        .config("username", "a")
        .config("subscriber-id", "s")
        .install();
    match Pressero::check().unwrap_err() {
        ConnectorError::InvalidInput(i) => assert_eq!(i.location, "data-centre"),
        other => panic!("{other:?}"),
    }
}

/// A fake Pressero with orders (number, modified) and a token that can expire.
fn pressero(orders: Rc<RefCell<Vec<(u64, String)>>>, valid_token: Rc<RefCell<String>>) -> FakeHost {
    let tokens = Rc::new(RefCell::new(0u32));
    let t2 = valid_token.clone();
    let o2 = orders.clone();
    let o3 = orders.clone();
    host()
        .route(
            Method::Post,
            &format!("{BASE}V2/Authentication"),
            move |req| {
                let mut a = auth_ok(tokens.clone());
                let r = a(req);
                *t2.borrow_mut() = format!("token t{}", tokens.borrow());
                r
            },
        )
        .route(Method::Post, &format!("{BASE}v2/Orders/Search"), {
            let valid = valid_token.clone();
            move |req| {
                if req.header("Authorization") != Some(valid.borrow().as_str()) {
                    return FakeResponse::json(
                        401,
                        r#"{"Message":"Authorization has been denied for this request."}"#,
                    );
                }
                let filter = req.body_json();
                assert_eq!(filter[0]["Operator"], "greaterthanorequal");
                let from =
                    switchyard_sdk::time::Timestamp::parse(filter[0]["Value"].as_str().unwrap())
                        .unwrap();
                let page: usize = req.query("pageNumber").unwrap().parse().unwrap();
                let size: usize = req.query("pageSize").unwrap().parse().unwrap();
                let mut hits: Vec<(switchyard_sdk::time::Timestamp, u64, String)> = o2
                    .borrow()
                    .iter()
                    .map(|(n, m)| {
                        (
                            switchyard_sdk::time::Timestamp::parse(m).unwrap(),
                            *n,
                            m.clone(),
                        )
                    })
                    .filter(|(t, _, _)| *t >= from)
                    .collect();
                hits.sort();
                let items: Vec<Value> = hits
                    .iter()
                    .skip(page * size)
                    .take(size)
                    .map(
                        |(_, n, m)| json!({"OrderNumber": n, "ModifiedDate": m, "OrderTotal": 1.5}),
                    )
                    .collect();
                FakeResponse::json_value(200, &json!({"Items": items, "TotalItems": hits.len()}))
            }
        })
        .route(Method::Get, &format!("{BASE}v2/orders/*"), move |req| {
            let rest = req.url.strip_prefix(&format!("{BASE}v2/orders/")).unwrap();
            let (n, what) = rest.split_once('/').unwrap();
            let n: u64 = n.parse().unwrap();
            if !o3.borrow().iter().any(|(k, _)| *k == n) || n == 404 {
                return FakeResponse::json(404, r#"{"Message":"Order not found"}"#);
            }
            match what {
                "Details" => FakeResponse::json_value(200, &json!({"OrderNumber": n})),
                "items" => FakeResponse::json(200, "[]"),
                "Payments" => FakeResponse::json(200, "[]"),
                _ => FakeResponse::json(404, "{}"),
            }
        })
}

fn fetch(cursor: Option<String>, size: u32) -> Page {
    Pressero::fetch(FetchRequest {
        stream: "orders".into(),
        cursor,
        page_size: size,
        now: "2026-12-01T10:00:00Z".into(),
        external_ids: Vec::new(),
    })
    .unwrap()
}

#[test]
fn fetch_pages_incrementally_reauthenticates_and_rewinds_at_the_end() {
    let orders = Rc::new(RefCell::new(vec![
        (1001, "2026-11-30T10:00:00Z".to_string()),
        (1002, "2026-11-30T10:00:00Z".to_string()),
        (1003, "2026-11-30T10:00:00Z".to_string()),
        (404, "2026-11-30T11:00:00Z".to_string()),
        (1005, "2026-11-30T12:00:00Z".to_string()),
    ]));
    let token = Rc::new(RefCell::new(String::new()));
    pressero(orders.clone(), token.clone()).install();

    let p1 = fetch(None, 2);
    assert_eq!(
        p1.records
            .iter()
            .map(|r| r.external_id.as_str())
            .collect::<Vec<_>>(),
        ["1001", "1002"]
    );
    assert!(p1.has_more);
    assert_eq!(
        p1.records[0].updated_at.as_deref(),
        Some("2026-11-30T10:00:00Z")
    );
    let doc: Value = serde_json::from_str(&p1.records[0].data).unwrap();
    assert_eq!(doc["Details"]["OrderNumber"], 1001);
    assert_eq!(doc["Items"], json!([]));

    // The token expires at Pressero: one re-authentication, then the retry.
    *token.borrow_mut() = "expired".into();
    let p2 = fetch(p1.next_cursor, 2);
    // 404 vanished between search and read: skipped, the cursor moves past it.
    assert_eq!(
        p2.records
            .iter()
            .map(|r| r.external_id.as_str())
            .collect::<Vec<_>>(),
        ["1003"]
    );
    assert!(p2.has_more);
    let auths = sent_requests()
        .iter()
        .filter(|r| r.url.ends_with("V2/Authentication"))
        .count();
    assert_eq!(auths, 2);

    let p3 = fetch(p2.next_cursor, 2);
    assert_eq!(
        p3.records
            .iter()
            .map(|r| r.external_id.as_str())
            .collect::<Vec<_>>(),
        ["1005"]
    );
    // A full page cannot know it is the last; the next call finds the end.
    assert!(p3.has_more);
    let p3 = fetch(p3.next_cursor, 2);
    assert!(p3.records.is_empty());
    assert!(!p3.has_more);
    let c: OrderCursor = switchyard_sdk::cursor::decode(p3.next_cursor.as_deref())
        .unwrap()
        .unwrap();
    assert_eq!(
        c.from.to_string(),
        "2026-11-30T11:55:00Z",
        "rewound by the 300 s overlap"
    );

    // Next run: the overlap is searched again, but 1005, seen there in this very
    // version, is not read again; what changed since is.
    orders
        .borrow_mut()
        .push((1006, "2026-11-30T13:00:00Z".into()));
    let details_before = details_reads();
    let p4 = fetch(p3.next_cursor, 10);
    assert_eq!(
        p4.records
            .iter()
            .map(|r| r.external_id.as_str())
            .collect::<Vec<_>>(),
        ["1006"]
    );
    assert!(!p4.has_more);
    assert_eq!(details_reads() - details_before, 1);

    // 1005 changes again (a later ModifiedDate): it is read.
    orders.borrow_mut()[4].1 = "2026-11-30T13:30:00Z".into();
    let p5 = fetch(p4.next_cursor, 10);
    assert_eq!(
        p5.records
            .iter()
            .map(|r| r.external_id.as_str())
            .collect::<Vec<_>>(),
        ["1005"]
    );
}

/// Details requests sent so far on this thread.
fn details_reads() -> usize {
    sent_requests()
        .iter()
        .filter(|r| r.url.ends_with("/Details"))
        .count()
}

#[test]
fn a_corrupt_cursor_and_an_unknown_stream_are_errors() {
    let token = Rc::new(RefCell::new(String::new()));
    pressero(Rc::new(RefCell::new(vec![])), token).install();
    let err = Pressero::fetch(FetchRequest {
        stream: "orders".into(),
        cursor: Some("{\"from\":42}".into()),
        page_size: 10,
        now: "2026-12-01T10:00:00Z".into(),
        external_ids: Vec::new(),
    })
    .unwrap_err();
    assert!(
        matches!(err, ConnectorError::InvalidInput(ref i) if i.location == "cursor"),
        "{err:?}"
    );
    let err = Pressero::fetch(FetchRequest {
        stream: "invoices".into(),
        cursor: None,
        page_size: 10,
        now: "2026-12-01T10:00:00Z".into(),
        external_ids: Vec::new(),
    })
    .unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound(_)));
    // An empty first run ends at once and starts the next from the epoch.
    let p = fetch(None, 10);
    assert!(p.records.is_empty() && !p.has_more);
}
