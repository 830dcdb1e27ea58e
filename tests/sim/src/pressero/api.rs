//! HTTP face of the Pressero simulator: the API under `/api/` and the control API under
//! `/_control/`. Paths are matched case-insensitively, as the real (IIS) server does.

// Error answers are returned early as ready responses; their size is irrelevant on this path.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use super::model::*;
use super::{site_api, OrderChange, PresseroSim, WebhookEvent};
use crate::clock::{format_millis, parse_timestamp, Millis};
use crate::core::{PreFault, Simulator};
use crate::request::parse_query;
use crate::FaultConfig;

const MAX_PAGE_SIZE: usize = 500;
const DEFAULT_PAGE_SIZE: usize = 50;

pub(super) fn router(sim: Arc<PresseroSim>) -> Router {
    Router::new().fallback(dispatch).with_state(sim)
}

pub(super) fn message(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "Message": text }))).into_response()
}

pub(super) fn ok_json<T: serde::Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

async fn dispatch(
    State(sim): State<Arc<PresseroSim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let query = parse_query(uri.query().unwrap_or(""));
    if lower.first().map(String::as_str) == Some("_control") {
        return control(&sim, &method, &segments[1..], &body);
    }
    if lower.first().map(String::as_str) != Some("api") {
        return not_found_route(&uri);
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let matched = Route::match_path(&method, &lower[1..], &segments[1..]);
    let endpoint = match &matched {
        Some(Ok(r)) => r.key(),
        _ => format!("{method} {path}"),
    };
    if !sim.note_host(host, &endpoint) {
        // What HTTP.sys answers before IIS sees a request for a host it has no binding for.
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/html; charset=us-ascii")],
            "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n<HTML><HEAD><TITLE>Bad Request</TITLE>\r\n<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n<BODY><h2>Bad Request - Invalid Hostname</h2>\r\n<hr><p>HTTP Error 400. The request hostname is invalid.</p>\r\n</BODY></HTML>\r\n",
        )
            .into_response();
    }
    let Some(route) = matched else {
        return not_found_route(&uri);
    };
    let route = match route {
        Ok(r) => r,
        Err(allowed) => {
            return message(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!(
                    "The requested resource does not support http method '{method}'. Allowed: {allowed}."
                ),
            )
        }
    };
    let core = sim.core();
    let admission = core.admit(&route.key()).await;
    match admission.pre {
        PreFault::Timeout => {
            core.hang().await;
            return message(StatusCode::SERVICE_UNAVAILABLE, "Shutting down");
        }
        PreFault::Throttle { retry_after_secs } => {
            let mut r = message(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests. Please retry later.",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs.into());
            return r;
        }
        PreFault::ServerError { status: 503 } => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body><h1>503 Service Unavailable</h1></body></html>",
            )
                .into_response();
        }
        PreFault::ServerError { .. } => {
            return message(StatusCode::INTERNAL_SERVER_ERROR, "An error has occurred.");
        }
        PreFault::None => {}
    }
    if route != Route::Authenticate {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("token")
                    .then(|| rest.trim().to_owned())
            });
        if !token.is_some_and(|t| sim.use_token(&t)) {
            return message(
                StatusCode::UNAUTHORIZED,
                "Authorization has been denied for this request.",
            );
        }
    }
    let response = handle(&sim, route, &query, &body);
    core.shape_body(response, admission.body).await
}

fn not_found_route(uri: &Uri) -> Response {
    message(
        StatusCode::NOT_FOUND,
        &format!("No HTTP resource was found that matches the request URI '{uri}'."),
    )
}

/// The API's endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Route {
    Authenticate,
    Search,
    Details(String),
    Items(String),
    ItemStatus(String, String),
    SetItemStatus(String, String, String),
    Payments(String),
    Shipments,
    Users(String),
    Products(String),
    ProductCreate(String),
    ProductGet(String, String),
    ProductUpdate(String, String),
    Categories(String),
    CategoryCreate(String),
    CategoryGet(String, String),
    CategoryUpdate(String, String),
    Stock(String),
    StockUpdate(String),
    UserCreate(String),
    UserGet(String, String),
    UserUpdate(String, String),
    AddressBook(String, String),
    AddressBookAdd(String, String),
}

impl Route {
    /// `None`: no such resource; `Some(Err(allowed))`: resource exists, method does not.
    fn match_path(
        method: &Method,
        lower: &[String],
        raw: &[&str],
    ) -> Option<Result<Route, String>> {
        let l: Vec<&str> = lower.iter().map(String::as_str).collect();
        let own = |i: usize| raw[i].to_owned();
        let one = |m: Method, r: Route| vec![(m, r)];
        let choices: Vec<(Method, Route)> = match l.as_slice() {
            ["v2", "authentication"] => one(Method::POST, Route::Authenticate),
            ["v2", "orders", "search"] => one(Method::POST, Route::Search),
            ["v2", "orders", "shipments"] => one(Method::POST, Route::Shipments),
            ["v2", "orders", _, "details"] => one(Method::GET, Route::Details(own(2))),
            ["v2", "orders", _, "items"] => one(Method::GET, Route::Items(own(2))),
            ["v2", "orders", _, "payments"] => one(Method::GET, Route::Payments(own(2))),
            ["v2", "orders", _, "item", _, "status"] => {
                one(Method::GET, Route::ItemStatus(own(2), own(4)))
            }
            ["v2", "orders", _, "item", _, "status", _] => {
                one(Method::PUT, Route::SetItemStatus(own(2), own(4), own(6)))
            }
            ["site", _, "users"] => vec![
                (Method::GET, Route::Users(own(1))),
                (Method::POST, Route::UserCreate(own(1))),
            ],
            ["site", _, "users", _] => vec![
                (Method::GET, Route::UserGet(own(1), own(3))),
                (Method::PUT, Route::UserUpdate(own(1), own(3))),
            ],
            ["site", _, "addressbook", _] => vec![
                (Method::GET, Route::AddressBook(own(1), own(3))),
                (Method::POST, Route::AddressBookAdd(own(1), own(3))),
            ],
            ["site", _, "products"] => vec![
                (Method::GET, Route::Products(own(1))),
                (Method::POST, Route::ProductCreate(own(1))),
            ],
            ["site", _, "products", _] => vec![
                (Method::GET, Route::ProductGet(own(1), own(3))),
                (Method::PUT, Route::ProductUpdate(own(1), own(3))),
            ],
            ["site", _, "categories"] => vec![
                (Method::GET, Route::Categories(own(1))),
                (Method::POST, Route::CategoryCreate(own(1))),
            ],
            ["site", _, "categories", _] => vec![
                (Method::GET, Route::CategoryGet(own(1), own(3))),
                (Method::PUT, Route::CategoryUpdate(own(1), own(3))),
            ],
            ["site", _, "stockinventory"] => vec![
                (Method::GET, Route::Stock(own(1))),
                (Method::PUT, Route::StockUpdate(own(1))),
            ],
            _ => return None,
        };
        let allowed = choices
            .iter()
            .map(|(m, _)| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        match choices.into_iter().find(|(m, _)| m == method) {
            Some((_, r)) => Some(Ok(r)),
            None => Some(Err(allowed)),
        }
    }

    /// The key under which requests are counted.
    fn key(&self) -> String {
        match self {
            Route::Authenticate => "POST /api/v2/authentication",
            Route::Search => "POST /api/v2/orders/search",
            Route::Details(_) => "GET /api/v2/orders/{n}/details",
            Route::Items(_) => "GET /api/v2/orders/{n}/items",
            Route::ItemStatus(..) => "GET /api/v2/orders/{n}/item/{i}/status",
            Route::SetItemStatus(..) => "PUT /api/v2/orders/{n}/item/{i}/status/{statusId}",
            Route::Payments(_) => "GET /api/v2/orders/{n}/payments",
            Route::Shipments => "POST /api/v2/orders/shipments",
            Route::Users(_) => "GET /api/site/{site}/users",
            Route::Products(_) => "GET /api/site/{site}/products",
            Route::ProductCreate(_) => "POST /api/site/{site}/products",
            Route::ProductGet(..) => "GET /api/site/{site}/products/{id}",
            Route::ProductUpdate(..) => "PUT /api/site/{site}/products/{id}",
            Route::Categories(_) => "GET /api/site/{site}/categories",
            Route::CategoryCreate(_) => "POST /api/site/{site}/categories",
            Route::CategoryGet(..) => "GET /api/site/{site}/categories/{id}",
            Route::CategoryUpdate(..) => "PUT /api/site/{site}/categories/{id}",
            Route::Stock(_) => "GET /api/site/{site}/stockinventory",
            Route::StockUpdate(_) => "PUT /api/site/{site}/stockinventory",
            Route::UserCreate(_) => "POST /api/site/{site}/users",
            Route::UserGet(..) => "GET /api/site/{site}/users/{userId}",
            Route::UserUpdate(..) => "PUT /api/site/{site}/users/{userId}",
            Route::AddressBook(..) => "GET /api/site/{site}/addressbook/{userId}",
            Route::AddressBookAdd(..) => "POST /api/site/{site}/addressbook/{userId}",
        }
        .to_owned()
    }
}

/// Reads a JSON object's field case-insensitively, as .NET model binding does.
pub(super) fn field<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

pub(super) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn handle(
    sim: &PresseroSim,
    route: Route,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Response {
    match route {
        Route::Authenticate => authenticate(sim, body),
        Route::Search => search(sim, query, body),
        Route::Details(n) => with_order(sim, &n, |d, o| ok_json(&d.details(o))),
        Route::Items(n) => with_order(sim, &n, |d, o| ok_json(&d.items(o))),
        Route::Payments(n) => with_order(sim, &n, |d, o| ok_json(&d.payments(o))),
        Route::ItemStatus(n, i) => with_order(sim, &n, |d, o| match d.item_index(o, &i) {
            Some(k) => {
                let item = &o.items[k];
                ok_json(&ItemStatusView {
                    status_id: item.status.id().to_owned(),
                    status_name: item.status.name().to_owned(),
                    modified_date: format_millis(item.status_modified),
                    notes: item.notes.as_deref().map(str::to_owned),
                })
            }
            None => message(StatusCode::NOT_FOUND, "Order item not found"),
        }),
        Route::SetItemStatus(n, i, s) => set_item_status(sim, &n, &i, &s, query),
        Route::Shipments => shipments(sim, body),
        Route::Users(site) => users(sim, &site, query),
        Route::Products(site) => products(sim, &site, query),
        Route::ProductCreate(site) => site_api::product_save(sim, &site, None, body),
        Route::ProductGet(site, id) => site_api::product_get(sim, &site, &id),
        Route::ProductUpdate(site, id) => site_api::product_save(sim, &site, Some(&id), body),
        Route::Categories(site) => site_api::categories(sim, &site, query),
        Route::CategoryCreate(site) => site_api::category_save(sim, &site, None, body),
        Route::CategoryGet(site, id) => site_api::category_get(sim, &site, &id),
        Route::CategoryUpdate(site, id) => site_api::category_save(sim, &site, Some(&id), body),
        Route::Stock(site) => site_api::stock(sim, &site, query),
        Route::StockUpdate(site) => site_api::stock_update(sim, &site, body),
        Route::UserCreate(site) => site_api::user_save(sim, &site, None, body),
        Route::UserGet(site, id) => site_api::user_get(sim, &site, &id),
        Route::UserUpdate(site, id) => site_api::user_save(sim, &site, Some(&id), body),
        Route::AddressBook(site, id) => site_api::address_book(sim, &site, &id),
        Route::AddressBookAdd(site, id) => site_api::address_book_add(sim, &site, &id, body),
    }
}

fn authenticate(sim: &PresseroSim, body: &[u8]) -> Response {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return message(StatusCode::BAD_REQUEST, "The request is invalid.");
    };
    let c = sim.credentials();
    let given = |name: &str| text(field(&obj, name)).unwrap_or_default();
    // User names and ids compare case-insensitively (e-mail, GUIDs); the password exactly.
    let valid = given("UserName").trim().eq_ignore_ascii_case(&c.user_name)
        && given("Password") == c.password
        && given("SubscriberId")
            .trim()
            .eq_ignore_ascii_case(&c.subscriber_id)
        && given("ConsumerID")
            .trim()
            .eq_ignore_ascii_case(&c.consumer_id);
    if !valid {
        return message(StatusCode::UNAUTHORIZED, "Invalid credentials");
    }
    let (token, expires) = sim.issue_token();
    ok_json(&json!({ "Token": token, "Expires": format_millis(expires) }))
}

fn parse_order_number(n: &str) -> Result<u64, Response> {
    n.trim()
        .parse::<u64>()
        .map_err(|_| message(StatusCode::BAD_REQUEST, "The request is invalid."))
}

fn with_order(
    sim: &PresseroSim,
    n: &str,
    f: impl FnOnce(&super::PresseroData, &Order) -> Response,
) -> Response {
    let number = match parse_order_number(n) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let d = sim.read();
    match d.order(number) {
        Some(o) => f(&d, o),
        None => message(StatusCode::NOT_FOUND, "Order not found"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Compare {
    Equals,
    Greater,
    GreaterOrEqual,
    Less,
}

enum Filter {
    OrderNumber(u64),
    SiteName(String),
    ModifiedDate(Compare, Millis),
    OrderDate(Compare, Millis),
}

impl Filter {
    fn holds(&self, d: &super::PresseroData, o: &Order) -> bool {
        fn cmp(c: Compare, a: Millis, b: Millis) -> bool {
            match c {
                Compare::Equals => a == b,
                Compare::Greater => a > b,
                Compare::GreaterOrEqual => a >= b,
                Compare::Less => a < b,
            }
        }
        match self {
            Filter::OrderNumber(n) => o.number == *n,
            Filter::SiteName(s) => d.sites[o.site as usize].domain.eq_ignore_ascii_case(s),
            Filter::ModifiedDate(c, t) => cmp(*c, o.modified, *t),
            Filter::OrderDate(c, t) => cmp(*c, o.order_date, *t),
        }
    }
}

fn parse_filters(body: &[u8]) -> Result<Vec<Filter>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("The request is invalid. {e}"))?;
    let Value::Array(entries) = value else {
        return Err("The request is invalid. The body must be an array of filters.".into());
    };
    let mut out = Vec::with_capacity(entries.len());
    for entry in &entries {
        let Value::Object(obj) = entry else {
            return Err("The request is invalid. Each filter must be an object.".into());
        };
        let column = text(field(obj, "Column")).unwrap_or_default();
        let operator = text(field(obj, "Operator")).unwrap_or_default();
        let value = text(field(obj, "Value")).unwrap_or_default();
        let op = match operator.to_ascii_lowercase().as_str() {
            "equals" => Compare::Equals,
            "greaterthan" => Compare::Greater,
            "greaterthanorequal" => Compare::GreaterOrEqual,
            "lessthan" => Compare::Less,
            _ => return Err(format!("Invalid filter operator '{operator}'.")),
        };
        let date = || {
            parse_timestamp(&value)
                .ok_or_else(|| format!("Invalid date value '{value}' for column '{column}'."))
        };
        let filter = match column.to_ascii_lowercase().as_str() {
            "ordernumber" if op == Compare::Equals => Filter::OrderNumber(
                value
                    .trim()
                    .parse()
                    .map_err(|_| format!("Invalid value '{value}' for column 'OrderNumber'."))?,
            ),
            "sitename" if op == Compare::Equals => Filter::SiteName(value.trim().to_owned()),
            "modifieddate" if op != Compare::Equals => Filter::ModifiedDate(op, date()?),
            "orderdate" if op != Compare::Equals => Filter::OrderDate(op, date()?),
            "ordernumber" | "sitename" | "modifieddate" | "orderdate" => {
                return Err(format!(
                    "Operator '{operator}' is not supported for column '{column}'."
                ))
            }
            _ => return Err(format!("Invalid filter column '{column}'.")),
        };
        out.push(filter);
    }
    Ok(out)
}

pub(super) fn paging(query: &HashMap<String, String>) -> Result<(usize, usize), Response> {
    let bad = |m: &str| message(StatusCode::BAD_REQUEST, m);
    let page = match query.get("pagenumber") {
        Some(p) => p
            .trim()
            .parse::<usize>()
            .map_err(|_| bad("Invalid pageNumber."))?,
        None => 0,
    };
    let size = match query.get("pagesize") {
        Some(p) => p
            .trim()
            .parse::<usize>()
            .map_err(|_| bad("Invalid pageSize."))?,
        None => DEFAULT_PAGE_SIZE,
    };
    if size == 0 || size > MAX_PAGE_SIZE {
        return Err(bad(&format!(
            "pageSize must be between 1 and {MAX_PAGE_SIZE}."
        )));
    }
    Ok((page, size))
}

fn search(sim: &PresseroSim, query: &HashMap<String, String>, body: &[u8]) -> Response {
    let (page, size) = match paging(query) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let filters = match parse_filters(body) {
        Ok(f) => f,
        Err(m) => return message(StatusCode::BAD_REQUEST, &m),
    };
    sim.run_search_hooks(page as u64);
    let d = sim.read();
    // Start the scan at the tightest lower ModifiedDate bound; the rest is filtered.
    let lower = filters
        .iter()
        .filter_map(|f| match f {
            Filter::ModifiedDate(Compare::GreaterOrEqual, t) => Some(*t),
            Filter::ModifiedDate(Compare::Greater, t) => Some(t + 1),
            _ => None,
        })
        .max()
        .unwrap_or(Millis::MIN);
    let skip = page.saturating_mul(size);
    let mut total = 0usize;
    let mut items = Vec::new();
    for &(_, number) in d.by_modified.range((lower, 0)..) {
        let Some(o) = d.order(number) else { continue };
        if !filters.iter().all(|f| f.holds(&d, o)) {
            continue;
        }
        if total >= skip && items.len() < size {
            items.push(d.summary(o));
        }
        total += 1;
    }
    ok_json(&Page {
        items,
        total_items: total,
    })
}

fn set_item_status(
    sim: &PresseroSim,
    n: &str,
    i: &str,
    s: &str,
    query: &HashMap<String, String>,
) -> Response {
    let number = match parse_order_number(n) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let Some(status) = ItemStatus::parse(s) else {
        return message(StatusCode::BAD_REQUEST, &format!("Invalid status '{s}'."));
    };
    sim.mutate(|d| {
        let Some(o) = d.order(number) else {
            return message(StatusCode::NOT_FOUND, "Order not found");
        };
        let Some(k) = d.item_index(o, i) else {
            return message(StatusCode::NOT_FOUND, "Order item not found");
        };
        let stamp = d.change_stamp();
        let first = d.first_number;
        let o = &mut d.orders[(number - first) as usize];
        let item = &mut o.items[k];
        item.status = status;
        item.status_modified = stamp;
        if status != ItemStatus::Pending {
            item.files_pending = false;
        }
        if let Some(notes) = query.get("notes") {
            item.notes = Some(notes.clone().into_boxed_str());
        }
        d.set_modified(number, stamp);
        d.raise_item(WebhookEvent::OrderItemStatusChanged, number, k);
        ok_json(&json!({ "Message": "Status updated" }))
    })
}

fn shipments(sim: &PresseroSim, body: &[u8]) -> Response {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return message(StatusCode::BAD_REQUEST, "The request is invalid.");
    };
    let Some(number) = text(field(&obj, "OrderNumber")).and_then(|n| n.trim().parse::<u64>().ok())
    else {
        return message(StatusCode::BAD_REQUEST, "OrderNumber is required.");
    };
    let carrier = text(field(&obj, "Carrier")).unwrap_or_default();
    let tracking = text(field(&obj, "TrackingNumber")).unwrap_or_default();
    if carrier.trim().is_empty() || tracking.trim().is_empty() {
        return message(
            StatusCode::BAD_REQUEST,
            "Carrier and TrackingNumber are required.",
        );
    }
    let refs: Vec<String> = match field(&obj, "OrderItemIds") {
        Some(Value::Array(ids)) if !ids.is_empty() => {
            ids.iter().filter_map(|v| text(Some(v))).collect()
        }
        _ => return message(StatusCode::BAD_REQUEST, "OrderItemIds is required."),
    };
    sim.mutate(|d| {
        let Some(o) = d.order(number) else {
            return message(StatusCode::NOT_FOUND, "Order not found");
        };
        let mut indexes = Vec::new();
        for r in &refs {
            match d.item_index(o, r) {
                Some(k) => indexes.push(k),
                None => return message(StatusCode::NOT_FOUND, "Order item not found"),
            }
        }
        let stamp = d.change_stamp();
        d.shipments += 1;
        let shipment_no = d.shipments as u64;
        let seed = d.seed;
        let first = d.first_number;
        let o = &mut d.orders[(number - first) as usize];
        let mut moved = Vec::new();
        for &k in &indexes {
            let item = &mut o.items[k];
            if item.status != ItemStatus::Shipped {
                moved.push(k);
            }
            item.status = ItemStatus::Shipped;
            item.status_modified = stamp;
            item.files_pending = false;
            item.tracking = Some(Box::new(Tracking {
                carrier: carrier.clone(),
                tracking_number: tracking.clone(),
                ship_date: format_millis(stamp),
            }));
        }
        d.set_modified(number, stamp);
        for &k in &indexes {
            d.raise_item(WebhookEvent::OrderItemUpdated, number, k);
        }
        for k in moved {
            d.raise_item(WebhookEvent::OrderItemStatusChanged, number, k);
        }
        ok_json(&json!({ "ShipmentId": super::generator::stable_uuid(seed, 7, shipment_no) }))
    })
}

pub(super) fn site_index(d: &super::PresseroData, site: &str) -> Option<usize> {
    d.sites
        .iter()
        .position(|s| s.domain.eq_ignore_ascii_case(site.trim()))
}

fn users(sim: &PresseroSim, site: &str, query: &HashMap<String, String>) -> Response {
    let d = sim.read();
    let Some(si) = site_index(&d, site) else {
        return message(StatusCode::NOT_FOUND, "Site not found");
    };
    let (page, size) = match paging(query) {
        Ok(p) => p,
        Err(r) => return r,
    };
    // Exact match after trimming, ignoring case: what an e-mail lookup on SQL Server gives.
    let email = query.get("email").map(|e| e.trim().to_ascii_lowercase());
    let matching: Vec<&User> = d
        .users
        .iter()
        .filter(|u| u.site as usize == si)
        .filter(|u| {
            email
                .as_ref()
                .is_none_or(|e| u.email.trim().to_ascii_lowercase() == *e)
        })
        .collect();
    let items = matching
        .iter()
        .skip(page * size)
        .take(size)
        .map(|u| d.user_view(u))
        .collect();
    ok_json(&Page {
        items,
        total_items: matching.len(),
    })
}

fn products(sim: &PresseroSim, site: &str, query: &HashMap<String, String>) -> Response {
    let d = sim.read();
    let Some(si) = site_index(&d, site) else {
        return message(StatusCode::NOT_FOUND, "Site not found");
    };
    let (page, size) = match paging(query) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let include_deleted = query
        .get("includedeleted")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let matching: Vec<&Product> = d
        .products
        .iter()
        .filter(|p| p.site.is_none_or(|s| s as usize == si))
        .filter(|p| include_deleted || !p.deleted)
        .collect();
    let items = matching
        .iter()
        .skip(page * size)
        .take(size)
        .map(|p| d.product_view(p, si))
        .collect();
    ok_json(&Page {
        items,
        total_items: matching.len(),
    })
}

// ---- control API ----

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct TouchBody {
    change: OrderChange,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddBody {
    count: usize,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ResetBody {
    seed: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchHookBody {
    page: u64,
    touch: Vec<u64>,
    #[serde(default)]
    change: OrderChange,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictBody {
    reject_unknown_hosts: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenLimitBody {
    max_uses: Option<u64>,
}

fn control_error(status: StatusCode, text: impl std::fmt::Display) -> Response {
    (status, axum::Json(json!({ "error": text.to_string() }))).into_response()
}

fn parse_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| control_error(StatusCode::BAD_REQUEST, e))
}

fn parse_required<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| control_error(StatusCode::BAD_REQUEST, e))
}

fn status_json(sim: &PresseroSim) -> Value {
    let core = sim.core();
    json!({
        "system": "pressero",
        "seed": sim.seed(),
        "counts": sim.counts(),
        "requests": core.requests_seen(),
        "max_concurrency": core.max_concurrency(),
        "faults": core.faults(),
        "fault_stats": core.fault_stats(),
        "webhooks": webhooks_json(sim),
        "hosts": sim.host_counts(),
    })
}

fn webhooks_json(sim: &PresseroSim) -> Value {
    let subs: Vec<Value> = sim
        .webhook_subscriptions()
        .into_iter()
        .map(|(id, s)| json!({ "id": id, "subscriber": s }))
        .collect();
    let deliveries = sim.webhook_deliveries();
    json!({
        "subscriptions": subs,
        "settings": sim.webhook_settings(),
        "pending": sim.webhooks_pending(),
        "delivered": deliveries.iter().filter(|d| d.delivered).count(),
        "failed": deliveries.iter().filter(|d| !d.delivered && !d.dropped).count(),
        "dropped": deliveries.iter().filter(|d| d.dropped).count(),
    })
}

fn control(sim: &PresseroSim, method: &Method, path: &[&str], body: &[u8]) -> Response {
    let lower: Vec<String> = path.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let result: Result<Response, Response> = (|| match (method.as_str(), l.as_slice()) {
        ("GET", []) | ("GET", ["pressero"]) => Ok(ok_json(&status_json(sim))),
        ("GET", ["pressero", "requests"]) => Ok(ok_json(&sim.core().requests_seen())),
        ("GET", ["pressero", "faults"]) => Ok(ok_json(&sim.core().faults())),
        ("PUT", ["pressero", "faults"]) => {
            let faults: FaultConfig = parse_body(body)?;
            sim.set_faults(faults)
                .map_err(|e| control_error(StatusCode::BAD_REQUEST, e))?;
            Ok(ok_json(&sim.core().faults()))
        }
        ("POST", ["pressero", "orders", n, "touch"]) => {
            let number: u64 = n
                .parse()
                .map_err(|_| control_error(StatusCode::BAD_REQUEST, "order number"))?;
            let t: TouchBody = parse_body(body)?;
            sim.touch_order_with(number, t.change)
                .map_err(|e| control_error(StatusCode::NOT_FOUND, e))?;
            Ok(ok_json(&sim.order_details_json(number)))
        }
        ("POST", ["pressero", "orders"]) => {
            let a: AddBody = parse_required(body)?;
            Ok(ok_json(&json!({ "OrderNumbers": sim.add_orders(a.count) })))
        }
        ("POST", ["pressero", "reset"]) => {
            let r: ResetBody = parse_body(body)?;
            sim.reset(r.seed);
            Ok(ok_json(&status_json(sim)))
        }
        ("POST", ["pressero", "tokens", "expire"]) => {
            sim.expire_tokens();
            Ok(ok_json(&json!({ "expired": true })))
        }
        ("PUT", ["pressero", "tokens", "limit"]) => {
            let t: TokenLimitBody = parse_required(body)?;
            sim.set_token_max_uses(t.max_uses);
            Ok(ok_json(&json!({ "max_uses": t.max_uses })))
        }
        ("POST", ["pressero", "hooks", "search-page"]) => {
            let h: SearchHookBody = parse_required(body)?;
            let (touch, change) = (h.touch, h.change);
            sim.on_search_page(h.page, move |s| {
                for n in touch {
                    let _ = s.touch_order_with(n, change);
                }
            });
            Ok(ok_json(&json!({ "page": h.page })))
        }
        ("GET", ["pressero", "webhooks"]) => Ok(ok_json(&webhooks_json(sim))),
        ("POST", ["pressero", "webhooks"]) => {
            let sub: super::WebhookSubscriber = parse_required(body)?;
            let id = sim
                .subscribe_webhook(sub)
                .map_err(|e| control_error(StatusCode::BAD_REQUEST, e))?;
            Ok(ok_json(&json!({ "id": id })))
        }
        ("DELETE", ["pressero", "webhooks", id]) => {
            let id: u64 = id
                .parse()
                .map_err(|_| control_error(StatusCode::BAD_REQUEST, "subscription id"))?;
            if sim.unsubscribe_webhook(id) {
                Ok(ok_json(&json!({ "removed": id })))
            } else {
                Err(control_error(StatusCode::NOT_FOUND, "no such subscription"))
            }
        }
        ("GET", ["pressero", "webhooks", "deliveries"]) => Ok(ok_json(&sim.webhook_deliveries())),
        ("GET", ["pressero", "webhooks", "settings"]) => Ok(ok_json(&sim.webhook_settings())),
        ("PUT", ["pressero", "webhooks", "settings"]) => {
            let s: super::WebhookSettings = parse_body(body)?;
            sim.set_webhook_settings(s)
                .map_err(|e| control_error(StatusCode::BAD_REQUEST, e))?;
            Ok(ok_json(&sim.webhook_settings()))
        }
        ("PUT", ["pressero", "hosts", "strict"]) => {
            let b: StrictBody = parse_required(body)?;
            sim.set_reject_unknown_hosts(b.reject_unknown_hosts);
            Ok(ok_json(
                &json!({ "reject_unknown_hosts": b.reject_unknown_hosts }),
            ))
        }
        ("GET", ["pressero", "hosts"]) => Ok(ok_json(&json!({
            "counts": sim.host_counts(),
            "last": sim.last_host(),
            "last_data_centre": sim.last_data_centre(),
            "recent": sim.host_log(),
        }))),
        _ => Err(control_error(
            StatusCode::NOT_FOUND,
            "no such control endpoint",
        )),
    })();
    result.unwrap_or_else(|r| r)
}
