//! HTTP face of the M-Power simulator: the API under `/api/v1/` and the control API under
//! `/_control/mpower`. The contract is in `README.md`.

// Error answers are returned early as ready responses; their size is irrelevant on this path.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::model::*;
use super::{
    norm_code, norm_email, norm_name, norm_vat, ApiError, MpowerData, MpowerFaults, MpowerSim,
    NewRequest,
};
use crate::clock::{format_millis, now_millis, parse_timestamp, Millis};
use crate::core::{PreFault, Simulator};
use crate::request::parse_query;
use crate::FaultConfig;

const MAX_PER_PAGE: usize = 200;
const DEFAULT_PER_PAGE: usize = 50;
/// The header carrying the API key.
pub const API_KEY_HEADER: &str = "x-api-key";

pub(super) fn router(sim: Arc<MpowerSim>) -> Router {
    Router::new().fallback(dispatch).with_state(sim)
}

fn error_response(e: &ApiError) -> Response {
    let mut err = json!({ "status": e.status, "code": e.code, "message": e.message });
    if let Some(f) = &e.field {
        err["field"] = json!(f);
    }
    if let Some(x) = e.existing_id {
        err["existing_id"] = json!(x);
    }
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(json!({ "error": err }))).into_response()
}

fn json_response(status: u16, body: &Value, location: Option<&str>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut r = (status, axum::Json(body)).into_response();
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        r.headers_mut().insert(header::LOCATION, l);
    }
    r
}

/// A handler's successful answer.
struct Outcome {
    status: u16,
    body: Value,
    location: Option<String>,
    /// (resource kind, id) of the record written, for the received-writes log.
    write: Option<(&'static str, u64)>,
}

impl Outcome {
    fn ok(body: Value) -> Outcome {
        Outcome {
            status: 200,
            body,
            location: None,
            write: None,
        }
    }
    fn created(resource: &'static str, id: u64, path: &str, body: Value) -> Outcome {
        Outcome {
            status: 201,
            body,
            location: Some(format!("/api/v1/{path}/{id}")),
            write: Some((resource, id)),
        }
    }
    fn updated(resource: &'static str, id: u64, body: Value) -> Outcome {
        Outcome {
            status: 200,
            body,
            location: None,
            write: Some((resource, id)),
        }
    }
}

type Handled = Result<Outcome, ApiError>;

async fn dispatch(
    State(sim): State<Arc<MpowerSim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let query = parse_query(uri.query().unwrap_or(""));
    if segments.first() == Some(&"_control") {
        return control(&sim, &method, &segments[1..], &query, &body);
    }
    if segments.len() < 2 || segments[0] != "api" || segments[1] != "v1" {
        return not_found_route(&path);
    }
    let route = match Route::parse(&method, &segments[2..]) {
        None => return not_found_route(&path),
        Some(Err(allowed)) => {
            let mut r = error_response(&ApiError::new(
                405,
                "method_not_allowed",
                format!("{method} is not allowed on {path}; allowed: {allowed}"),
            ));
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allowed));
            return r;
        }
        Some(Ok(r)) => r,
    };
    let core = sim.core();
    let admission = core.admit(&route.key()).await;
    match admission.pre {
        PreFault::Timeout => {
            core.hang().await;
            return error_response(&ApiError::new(503, "unavailable", "shutting down"));
        }
        PreFault::Throttle { retry_after_secs } => {
            let mut r = error_response(&ApiError::new(
                429,
                "rate_limited",
                format!("too many requests; retry after {retry_after_secs} s"),
            ));
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
            return error_response(&ApiError::new(
                500,
                "internal_error",
                "an unexpected error occurred",
            ));
        }
        PreFault::None => {}
    }
    let key_ok = headers
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|k| k == sim.api_key());
    if !key_ok {
        return error_response(&ApiError::new(
            401,
            "unauthorized",
            "missing or invalid API key (header X-Api-Key)",
        ));
    }
    let response = if method == Method::GET {
        let d = sim.read();
        match read(&d, &route, &query) {
            Ok(o) => json_response(o.status, &o.body, None),
            Err(e) => error_response(&e),
        }
    } else {
        write_request(&sim, &route, &method, &path, &headers, &query, &body)
    };
    core.shape_body(response, admission.body).await
}

fn not_found_route(path: &str) -> Response {
    error_response(&ApiError::new(
        404,
        "not_found",
        format!("no resource at {path}"),
    ))
}

/// Runs a POST or PATCH under the write lock: idempotency replay, the change, the
/// received-writes log, and the lost-answer fault.
fn write_request(
    sim: &MpowerSim,
    route: &Route,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Response {
    if let Some(k) = query.keys().next() {
        return error_response(&ApiError {
            field: Some(k.clone()),
            ..ApiError::new(400, "invalid_parameter", format!("unknown parameter {k}"))
        });
    }
    let idem_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty() && route.idempotent());
    let received: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let fingerprint = format!("{method} {path} {received}");
    let mut d = sim.write();
    if let Some(k) = &idem_key {
        if let Some(stored) = d.idempotency.get(k).cloned() {
            if stored.fingerprint != fingerprint {
                return error_response(&ApiError {
                    field: Some("Idempotency-Key".into()),
                    ..ApiError::new(
                        422,
                        "idempotency_key_reused",
                        "this Idempotency-Key was used with a different request",
                    )
                });
            }
            d.replays += 1;
            let mut r = json_response(stored.status, &stored.body, stored.location.as_deref());
            r.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            return r;
        }
    }
    let outcome = match write(&mut d, route, body) {
        Ok(o) => o,
        Err(e) => return error_response(&e),
    };
    if let Some((resource, id)) = outcome.write {
        d.writes.push(ReceivedWrite {
            method: method.to_string(),
            resource: resource.to_owned(),
            id,
            path: path.to_owned(),
            body: received,
            idempotency_key: idem_key.clone(),
            at: format_millis(now_millis()),
        });
    }
    if let Some(k) = idem_key {
        d.idempotency.insert(
            k,
            super::StoredAnswer {
                fingerprint,
                status: outcome.status,
                body: outcome.body.clone(),
                location: outcome.location.clone(),
            },
        );
    }
    if *method == Method::POST && sim.take_fail_after_commit() {
        d.failed_after_commit += 1;
        return error_response(&ApiError::new(
            500,
            "internal_error",
            "an unexpected error occurred",
        ));
    }
    json_response(outcome.status, &outcome.body, outcome.location.as_deref())
}

/// The API's endpoints; ids are kept as given and parsed by the handler (non-numeric = 404).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Route {
    Ping,
    Companies,
    Company(String),
    CompanyAddresses(String),
    Addresses,
    Address(String),
    Contacts,
    Contact(String),
    Products,
    Product(String),
    Orders,
    Order(String),
    Requests,
    Request(String),
    Convert(String),
    /// Same resources as above, but which method.
    Create(Box<Route>),
    Patch(Box<Route>),
}

impl Route {
    /// `None`: no such resource; `Some(Err(allowed))`: it exists, the method does not.
    fn parse(method: &Method, segs: &[&str]) -> Option<Result<Route, &'static str>> {
        let own = |i: usize| segs[i].to_owned();
        let (route, allowed): (Route, &'static str) = match segs {
            ["ping"] => (Route::Ping, "GET"),
            ["companies"] => (Route::Companies, "GET, POST"),
            ["companies", _] => (Route::Company(own(1)), "GET, PATCH"),
            ["companies", _, "addresses"] => (Route::CompanyAddresses(own(1)), "GET, POST"),
            ["addresses"] => (Route::Addresses, "GET"),
            ["addresses", _] => (Route::Address(own(1)), "GET, PATCH"),
            ["contacts"] => (Route::Contacts, "GET, POST"),
            ["contacts", _] => (Route::Contact(own(1)), "GET, PATCH"),
            ["products"] => (Route::Products, "GET, POST"),
            ["products", _] => (Route::Product(own(1)), "GET, PATCH"),
            ["orders"] => (Route::Orders, "GET, POST"),
            ["orders", _] => (Route::Order(own(1)), "GET, PATCH"),
            ["order-requests"] => (Route::Requests, "GET, POST"),
            ["order-requests", _] => (Route::Request(own(1)), "GET, PATCH"),
            ["order-requests", _, "convert"] => (Route::Convert(own(1)), "POST"),
            _ => return None,
        };
        let m = method.as_str();
        if !allowed.split(", ").any(|a| a == m) {
            return Some(Err(allowed));
        }
        Some(Ok(match m {
            "POST" if !matches!(route, Route::Convert(_)) => Route::Create(Box::new(route)),
            "PATCH" => Route::Patch(Box::new(route)),
            _ => route,
        }))
    }

    /// `Idempotency-Key` is honoured on order, order-request and conversion POSTs only.
    fn idempotent(&self) -> bool {
        match self {
            Route::Convert(_) => true,
            Route::Create(r) => matches!(**r, Route::Orders | Route::Requests),
            _ => false,
        }
    }

    /// The key under which requests are counted.
    fn key(&self) -> String {
        let (method, inner) = match self {
            Route::Create(r) => ("POST", &**r),
            Route::Patch(r) => ("PATCH", &**r),
            Route::Convert(_) => ("POST", self),
            r => ("GET", r),
        };
        let path = match inner {
            Route::Ping => "ping",
            Route::Companies => "companies",
            Route::Company(_) => "companies/{id}",
            Route::CompanyAddresses(_) => "companies/{id}/addresses",
            Route::Addresses => "addresses",
            Route::Address(_) => "addresses/{id}",
            Route::Contacts => "contacts",
            Route::Contact(_) => "contacts/{id}",
            Route::Products => "products",
            Route::Product(_) => "products/{id}",
            Route::Orders => "orders",
            Route::Order(_) => "orders/{id}",
            Route::Requests => "order-requests",
            Route::Request(_) => "order-requests/{id}",
            Route::Convert(_) => "order-requests/{id}/convert",
            Route::Create(_) | Route::Patch(_) => "?",
        };
        format!("{method} /api/v1/{path}")
    }
}

fn path_id(s: &str, what: &str) -> Result<u64, ApiError> {
    s.parse::<u64>()
        .map_err(|_| ApiError::new(404, "not_found", format!("{what} {s} not found")))
}

// ---- reading ----

struct ListParams {
    page: usize,
    per_page: usize,
    by_updated: bool,
    updated_since: Option<Millis>,
}

fn bad_param(name: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        field: Some(name.to_owned()),
        ..ApiError::new(400, "invalid_parameter", message)
    }
}

fn list_params(q: &HashMap<String, String>, filters: &[&str]) -> Result<ListParams, ApiError> {
    for k in q.keys() {
        if !["page", "per_page", "sort", "updated_since"].contains(&k.as_str())
            && !filters.contains(&k.as_str())
        {
            return Err(bad_param(
                k,
                format!(
                    "unknown parameter {k}; filters here: {}",
                    filters.join(", ")
                ),
            ));
        }
    }
    let number = |name: &str, default: usize| -> Result<usize, ApiError> {
        match q.get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map_err(|_| bad_param(name, format!("{name} must be a positive integer"))),
        }
    };
    let page = number("page", 1)?;
    if page == 0 {
        return Err(bad_param("page", "page starts at 1"));
    }
    let per_page = number("per_page", DEFAULT_PER_PAGE)?;
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(bad_param(
            "per_page",
            format!("per_page must be between 1 and {MAX_PER_PAGE}"),
        ));
    }
    let by_updated = match q.get("sort").map(String::as_str) {
        None | Some("id") => false,
        Some("updated_at") => true,
        Some(_) => return Err(bad_param("sort", "sort must be id or updated_at")),
    };
    let updated_since =
        match q.get("updated_since") {
            None => None,
            Some(v) => Some(parse_timestamp(v).ok_or_else(|| {
                bad_param("updated_since", "updated_since must be an RFC 3339 time")
            })?),
        };
    Ok(ListParams {
        page,
        per_page,
        by_updated,
        updated_since,
    })
}

/// Filters by `updated_since`, sorts, cuts the page: `{data, page, per_page, total, total_pages}`.
fn page_of<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    p: &ListParams,
    updated: impl Fn(&T) -> Millis,
    id: impl Fn(&T) -> u64,
    render: impl Fn(&T) -> Value,
) -> Value {
    let mut hits: Vec<&T> = items
        .filter(|x| p.updated_since.is_none_or(|t| updated(x) >= t))
        .collect();
    if p.by_updated {
        hits.sort_by_key(|x| (updated(x), id(x)));
    } else {
        hits.sort_by_key(|x| id(x));
    }
    let total = hits.len();
    let data: Vec<Value> = hits
        .into_iter()
        .skip((p.page - 1).saturating_mul(p.per_page))
        .take(p.per_page)
        .map(render)
        .collect();
    json!({
        "data": data,
        "page": p.page,
        "per_page": p.per_page,
        "total": total,
        "total_pages": total.div_ceil(p.per_page),
    })
}

fn id_filter(q: &HashMap<String, String>, name: &str) -> Result<Option<u64>, ApiError> {
    q.get(name)
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| bad_param(name, format!("{name} must be an id")))
        })
        .transpose()
}

fn read(d: &MpowerData, route: &Route, q: &HashMap<String, String>) -> Handled {
    let no_params = |q: &HashMap<String, String>| match q.keys().next() {
        Some(k) => Err(bad_param(k, format!("unknown parameter {k}"))),
        None => Ok(()),
    };
    match route {
        Route::Ping => {
            no_params(q)?;
            Ok(Outcome::ok(
                json!({ "status": "ok", "product": "M-Power Aspire (simulated)", "api_version": "1" }),
            ))
        }
        Route::Companies => {
            let p = list_params(q, &["name", "q", "vat_number"])?;
            let name = q.get("name").map(|n| norm_name(n));
            let sub = q.get("q").map(|n| n.trim().to_lowercase());
            let vat = q.get("vat_number").map(|v| norm_vat(v));
            let it = d.companies.iter().filter(|c| {
                name.as_ref().is_none_or(|n| norm_name(&c.name) == *n)
                    && sub
                        .as_ref()
                        .is_none_or(|s| c.name.to_lowercase().contains(s.as_str()))
                    && vat
                        .as_ref()
                        .is_none_or(|v| c.vat_number.as_deref().is_some_and(|x| norm_vat(x) == *v))
            });
            Ok(Outcome::ok(page_of(
                it,
                &p,
                |c| c.updated,
                |c| c.id,
                company_json,
            )))
        }
        Route::Company(id) => {
            no_params(q)?;
            let id = path_id(id, "company")?;
            let c = d
                .company(id)
                .ok_or_else(|| ApiError::not_found("company", id))?;
            Ok(Outcome::ok(company_json(c)))
        }
        Route::CompanyAddresses(id) => {
            let p = list_params(q, &["postcode"])?;
            let id = path_id(id, "company")?;
            d.company(id)
                .ok_or_else(|| ApiError::not_found("company", id))?;
            let pc = q.get("postcode").map(|v| norm_postcode(v));
            let it = d.addresses.iter().filter(|a| {
                a.company_id == id && pc.as_ref().is_none_or(|p| norm_postcode(&a.postcode) == *p)
            });
            Ok(Outcome::ok(page_of(
                it,
                &p,
                |a| a.updated,
                |a| a.id,
                address_json,
            )))
        }
        Route::Addresses => {
            let p = list_params(q, &["company_id", "postcode", "country"])?;
            let company = id_filter(q, "company_id")?;
            let pc = q.get("postcode").map(|v| norm_postcode(v));
            let country = q.get("country").map(|c| c.trim().to_ascii_uppercase());
            let it = d.addresses.iter().filter(|a| {
                company.is_none_or(|c| a.company_id == c)
                    && pc.as_ref().is_none_or(|p| norm_postcode(&a.postcode) == *p)
                    && country.as_ref().is_none_or(|c| a.country == *c)
            });
            Ok(Outcome::ok(page_of(
                it,
                &p,
                |a| a.updated,
                |a| a.id,
                address_json,
            )))
        }
        Route::Address(id) => {
            no_params(q)?;
            let id = path_id(id, "address")?;
            let a = d
                .address(id)
                .ok_or_else(|| ApiError::not_found("address", id))?;
            Ok(Outcome::ok(address_json(a)))
        }
        Route::Contacts => {
            let p = list_params(q, &["email", "company_id", "q"])?;
            let company = id_filter(q, "company_id")?;
            let sub = q.get("q").map(|n| n.trim().to_lowercase());
            let keep = |c: &&Contact| {
                company.is_none_or(|x| c.company_id == x)
                    && sub.as_ref().is_none_or(|s| {
                        format!("{} {}", c.first_name.as_deref().unwrap_or(""), c.last_name)
                            .to_lowercase()
                            .contains(s.as_str())
                    })
            };
            let render = |c: &Contact| d.contact_view(c);
            let body = match q.get("email") {
                Some(e) => {
                    let ids = d
                        .email_index
                        .get(&norm_email(e))
                        .cloned()
                        .unwrap_or_default();
                    let it = ids.iter().filter_map(|&id| d.contact(id)).filter(keep);
                    page_of(it, &p, |c| c.updated, |c| c.id, render)
                }
                None => page_of(
                    d.contacts.iter().filter(keep),
                    &p,
                    |c| c.updated,
                    |c| c.id,
                    render,
                ),
            };
            Ok(Outcome::ok(body))
        }
        Route::Contact(id) => {
            no_params(q)?;
            let id = path_id(id, "contact")?;
            let c = d
                .contact(id)
                .ok_or_else(|| ApiError::not_found("contact", id))?;
            Ok(Outcome::ok(d.contact_view(c)))
        }
        Route::Products => {
            let p = list_params(q, &["product_code", "external_id", "q", "active"])?;
            let active = match q.get("active").map(String::as_str) {
                None => None,
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(_) => return Err(bad_param("active", "active must be true or false")),
            };
            let sub = q.get("q").map(|n| n.trim().to_lowercase());
            let keep = |x: &&Product| {
                active.is_none_or(|a| x.active == a)
                    && sub.as_ref().is_none_or(|s| {
                        x.name.to_lowercase().contains(s.as_str())
                            || x.product_code.to_lowercase().contains(s.as_str())
                    })
            };
            // Codes and external ids are unique: an index answers them.
            let by_key = match (q.get("product_code"), q.get("external_id")) {
                (Some(c), x) => Some(
                    d.product_with_code(c)
                        .filter(|&id| {
                            x.is_none_or(|x| {
                                d.product(id)
                                    .and_then(|p| p.external_id.as_deref())
                                    .map(norm_code)
                                    == Some(norm_code(x))
                            })
                        })
                        .into_iter()
                        .collect::<Vec<_>>(),
                ),
                (None, Some(x)) => Some(d.product_with_external_id(x).into_iter().collect()),
                (None, None) => None,
            };
            let body = match by_key {
                Some(ids) => {
                    let it = ids.iter().filter_map(|&id| d.product(id)).filter(keep);
                    page_of(it, &p, |x| x.updated, |x| x.id, product_json)
                }
                None => page_of(
                    d.products.iter().filter(keep),
                    &p,
                    |x| x.updated,
                    |x| x.id,
                    product_json,
                ),
            };
            Ok(Outcome::ok(body))
        }
        Route::Product(id) => {
            no_params(q)?;
            let id = path_id(id, "product")?;
            let x = d
                .product(id)
                .ok_or_else(|| ApiError::not_found("product", id))?;
            Ok(Outcome::ok(product_json(x)))
        }
        Route::Orders => {
            let p = list_params(
                q,
                &["external_reference", "company_id", "contact_id", "status"],
            )?;
            let company = id_filter(q, "company_id")?;
            let contact = id_filter(q, "contact_id")?;
            let status = match q.get("status") {
                None => None,
                Some(s) => Some(OrderStatus::parse(s.trim()).ok_or_else(|| {
                    bad_param(
                        "status",
                        "status must be open, in_production, completed or cancelled",
                    )
                })?),
            };
            let keep = |o: &&Order| {
                company.is_none_or(|c| o.company_id == c)
                    && contact.is_none_or(|c| o.contact_id == c)
                    && status.is_none_or(|s| o.status == s)
            };
            let body = match q.get("external_reference") {
                Some(r) => {
                    let ids: Vec<u64> = d.order_refs.get(r.as_str()).copied().into_iter().collect();
                    let it = ids.iter().filter_map(|&id| d.order(id)).filter(keep);
                    page_of(it, &p, |o| o.updated, |o| o.id, order_json)
                }
                None => page_of(
                    d.orders.iter().filter(keep),
                    &p,
                    |o| o.updated,
                    |o| o.id,
                    order_json,
                ),
            };
            Ok(Outcome::ok(body))
        }
        Route::Order(id) => {
            no_params(q)?;
            let id = path_id(id, "order")?;
            let o = d
                .order(id)
                .ok_or_else(|| ApiError::not_found("order", id))?;
            Ok(Outcome::ok(order_json(o)))
        }
        Route::Requests => {
            let p = list_params(
                q,
                &["status", "source", "integration", "external_reference"],
            )?;
            let status = q.get("status").map(|s| s.trim().to_owned());
            let source = q.get("source").map(|s| s.trim().to_owned());
            let integration = q.get("integration").map(|s| s.trim().to_lowercase());
            let reference = q.get("external_reference");
            let it = d.requests.iter().filter(|r| {
                status.as_ref().is_none_or(|s| r.status.name() == s)
                    && source.as_ref().is_none_or(|s| r.source.name() == s)
                    && integration.as_ref().is_none_or(|i| {
                        r.integration.as_deref().map(str::to_lowercase).as_ref() == Some(i)
                    })
                    && reference.is_none_or(|x| r.external_reference.as_ref() == Some(x))
            });
            Ok(Outcome::ok(page_of(
                it,
                &p,
                |r| r.updated,
                |r| r.id,
                order_request_json,
            )))
        }
        Route::Request(id) => {
            no_params(q)?;
            let id = path_id(id, "order request")?;
            let r = d
                .request(id)
                .ok_or_else(|| ApiError::not_found("order request", id))?;
            Ok(Outcome::ok(order_request_json(r)))
        }
        Route::Convert(_) | Route::Create(_) | Route::Patch(_) => Err(ApiError::new(
            405,
            "method_not_allowed",
            "use POST or PATCH",
        )),
    }
}

fn norm_postcode(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}

// ---- request bodies ----

/// A JSON object being read; `prefix` names nested fields (`lines[0].`).
struct Obj<'a> {
    m: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Obj<'a> {
    fn name(&self, f: &str) -> String {
        format!("{}{f}", self.prefix)
    }

    /// Unknown fields are refused (422) so a misspelt field is not silently dropped;
    /// `ignored` are read-only fields a client may echo back from a read.
    fn only(&self, allowed: &[&str], ignored: &[&str]) -> Result<(), ApiError> {
        for k in self.m.keys() {
            if !allowed.contains(&k.as_str()) && !ignored.contains(&k.as_str()) {
                return Err(ApiError {
                    code: "unknown_field",
                    ..ApiError::invalid(self.name(k), format!("unknown field {}", self.name(k)))
                });
            }
        }
        Ok(())
    }

    fn has(&self, f: &str) -> bool {
        self.m.contains_key(f)
    }

    /// Absent → `None`; null or blank → `Some(None)`; a string → `Some(Some(trimmed))`.
    fn text(&self, f: &str) -> Result<Option<Option<String>>, ApiError> {
        match self.m.get(f) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(_) => Err(ApiError::invalid(
                self.name(f),
                format!("{} must be a string", self.name(f)),
            )),
        }
    }

    fn text_req(&self, f: &str) -> Result<String, ApiError> {
        self.text(f)?
            .flatten()
            .ok_or_else(|| ApiError::required(&self.name(f)))
    }

    /// For PATCH: absent → `None`; present must be a non-blank string.
    fn text_keep(&self, f: &str) -> Result<Option<String>, ApiError> {
        match self.text(f)? {
            None => Ok(None),
            Some(None) => Err(ApiError::required(&self.name(f))),
            Some(Some(s)) => Ok(Some(s)),
        }
    }

    fn id(&self, f: &str) -> Result<Option<Option<u64>>, ApiError> {
        match self.m.get(f) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::Number(n)) if n.as_u64().is_some_and(|x| x > 0) => Ok(Some(n.as_u64())),
            Some(_) => Err(ApiError::invalid(
                self.name(f),
                format!("{} must be a positive integer id", self.name(f)),
            )),
        }
    }

    fn id_req(&self, f: &str) -> Result<u64, ApiError> {
        self.id(f)?
            .flatten()
            .ok_or_else(|| ApiError::required(&self.name(f)))
    }

    fn quantity(&self, f: &str) -> Result<Option<u32>, ApiError> {
        match self.m.get(f) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64().and_then(|x| u32::try_from(x).ok()) {
                Some(x) if x > 0 => Ok(Some(x)),
                _ => Err(ApiError::invalid(
                    self.name(f),
                    format!("{} must be a positive integer", self.name(f)),
                )),
            },
            Some(_) => Err(ApiError::invalid(
                self.name(f),
                format!("{} must be a positive integer", self.name(f)),
            )),
        }
    }

    /// Money: a JSON number or a decimal string with at most two decimals, not negative.
    fn money(&self, f: &str) -> Result<Option<i64>, ApiError> {
        let bad = || {
            ApiError::invalid(
                self.name(f),
                format!(
                    "{} must be an amount with at most two decimals, e.g. \"12.50\"",
                    self.name(f)
                ),
            )
        };
        let text = match self.m.get(f) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(_) => return Err(bad()),
        };
        let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
        if whole.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || frac.len() > 2
            || !frac.chars().all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(frac))
            .map(Some)
            .ok_or_else(bad)
    }

    fn boolean(&self, f: &str) -> Result<Option<bool>, ApiError> {
        match self.m.get(f) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::invalid(
                self.name(f),
                format!("{} must be true or false", self.name(f)),
            )),
        }
    }

    fn object(&self, f: &str) -> Result<Option<Obj<'a>>, ApiError> {
        match self.m.get(f) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Obj {
                m,
                prefix: format!("{}{f}.", self.prefix),
            })),
            Some(_) => Err(ApiError::invalid(
                self.name(f),
                format!("{} must be an object", self.name(f)),
            )),
        }
    }

    fn array(&self, f: &str) -> Result<Option<Vec<Obj<'a>>>, ApiError> {
        match self.m.get(f) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(xs)) => xs
                .iter()
                .enumerate()
                .map(|(i, x)| match x {
                    Value::Object(m) => Ok(Obj {
                        m,
                        prefix: format!("{}{f}[{i}].", self.prefix),
                    }),
                    _ => Err(ApiError::invalid(
                        format!("{}{f}[{i}]", self.prefix),
                        "each line must be an object",
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(ApiError::invalid(
                self.name(f),
                format!("{} must be an array", self.name(f)),
            )),
        }
    }

    fn email(&self, f: &str) -> Result<Option<Option<String>>, ApiError> {
        let v = self.text(f)?;
        if let Some(Some(e)) = &v {
            let t = e.trim();
            let ok = t
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'));
            if !ok || t.contains(' ') {
                return Err(ApiError::invalid(
                    self.name(f),
                    format!("{} is not an e-mail address", self.name(f)),
                ));
            }
        }
        Ok(v)
    }

    fn country(&self, f: &str) -> Result<Option<String>, ApiError> {
        match self.text(f)? {
            None => Ok(None),
            Some(None) => Err(ApiError::required(&self.name(f))),
            Some(Some(c)) => iso_country(&c).map(Some).ok_or_else(|| {
                ApiError::invalid(
                    self.name(f),
                    format!(
                        "{} must be an ISO 3166-1 alpha-2 code such as NL",
                        self.name(f)
                    ),
                )
            }),
        }
    }
}

fn parse_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::new(
            400,
            "invalid_json",
            "the body must be a JSON object",
        )),
        Err(e) => Err(ApiError::new(
            400,
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )),
    }
}

const READ_ONLY: &[&str] = &["id", "created_at", "updated_at"];

fn write(d: &mut MpowerData, route: &Route, body: &[u8]) -> Handled {
    let m = parse_body(body)?;
    let o = Obj {
        m: &m,
        prefix: String::new(),
    };
    match route {
        Route::Create(r) => match &**r {
            Route::Companies => create_company(d, &o),
            Route::CompanyAddresses(id) => create_address(d, path_id(id, "company")?, &o),
            Route::Contacts => create_contact(d, &o),
            Route::Products => create_product(d, &o),
            Route::Orders => create_order(d, &o),
            Route::Requests => create_request(d, &o),
            _ => Err(ApiError::new(
                405,
                "method_not_allowed",
                "POST is not allowed here",
            )),
        },
        Route::Patch(r) => match &**r {
            Route::Company(id) => patch_company(d, path_id(id, "company")?, &o),
            Route::Address(id) => patch_address(d, path_id(id, "address")?, &o),
            Route::Contact(id) => patch_contact(d, path_id(id, "contact")?, &o),
            Route::Product(id) => patch_product(d, path_id(id, "product")?, &o),
            Route::Order(id) => patch_order(d, path_id(id, "order")?, &o),
            Route::Request(id) => patch_request(d, path_id(id, "order request")?, &o),
            _ => Err(ApiError::new(
                405,
                "method_not_allowed",
                "PATCH is not allowed here",
            )),
        },
        Route::Convert(id) => {
            let id = path_id(id, "order request")?;
            o.only(&[], &[])?;
            let order_id = d.convert(id)?;
            let order = d.order(order_id).map(order_json).unwrap_or(Value::Null);
            let request = d.request(id).map(order_request_json).unwrap_or(Value::Null);
            Ok(Outcome {
                status: 201,
                body: json!({ "order": order, "order_request": request }),
                location: Some(format!("/api/v1/orders/{order_id}")),
                write: Some(("conversions", id)),
            })
        }
        _ => Err(ApiError::new(
            405,
            "method_not_allowed",
            "method not allowed",
        )),
    }
}

const COMPANY_FIELDS: &[&str] = &["name", "vat_number", "legal_form", "email", "phone"];

fn create_company(d: &mut MpowerData, o: &Obj) -> Handled {
    o.only(COMPANY_FIELDS, READ_ONLY)?;
    let c = Company {
        id: 0,
        name: o.text_req("name")?,
        vat_number: o.text("vat_number")?.flatten(),
        legal_form: o.text("legal_form")?.flatten(),
        email: o.email("email")?.flatten(),
        phone: o.text("phone")?.flatten(),
        created: 0,
        updated: 0,
    };
    let id = d.insert_company(c);
    let body = d.company(id).map(company_json).unwrap_or(Value::Null);
    Ok(Outcome::created("companies", id, "companies", body))
}

fn patch_company(d: &mut MpowerData, id: u64, o: &Obj) -> Handled {
    d.company(id)
        .ok_or_else(|| ApiError::not_found("company", id))?;
    o.only(COMPANY_FIELDS, READ_ONLY)?;
    let name = o.text_keep("name")?;
    let vat = o.text("vat_number")?;
    let form = o.text("legal_form")?;
    let email = o.email("email")?;
    let phone = o.text("phone")?;
    let stamp = d.change_stamp();
    let c = d
        .company_mut(id)
        .ok_or_else(|| ApiError::not_found("company", id))?;
    if let Some(n) = name {
        c.name = n;
    }
    if let Some(v) = vat {
        c.vat_number = v;
    }
    if let Some(v) = form {
        c.legal_form = v;
    }
    if let Some(v) = email {
        c.email = v;
    }
    if let Some(v) = phone {
        c.phone = v;
    }
    c.updated = stamp;
    Ok(Outcome::updated("companies", id, company_json(c)))
}

const ADDRESS_FIELDS: &[&str] = &[
    "label",
    "street",
    "house_number",
    "postcode",
    "city",
    "country",
];

fn create_address(d: &mut MpowerData, company_id: u64, o: &Obj) -> Handled {
    d.company(company_id)
        .ok_or_else(|| ApiError::not_found("company", company_id))?;
    o.only(
        ADDRESS_FIELDS,
        &["id", "created_at", "updated_at", "company_id"],
    )?;
    let a = Address {
        id: 0,
        company_id,
        label: o.text("label")?.flatten(),
        street: o.text_req("street")?,
        house_number: o.text("house_number")?.flatten(),
        postcode: o.text_req("postcode")?,
        city: o.text_req("city")?,
        country: o
            .country("country")?
            .ok_or_else(|| ApiError::required("country"))?,
        created: 0,
        updated: 0,
    };
    let id = d.insert_address(a);
    let body = d.address(id).map(address_json).unwrap_or(Value::Null);
    Ok(Outcome::created("addresses", id, "addresses", body))
}

fn patch_address(d: &mut MpowerData, id: u64, o: &Obj) -> Handled {
    d.address(id)
        .ok_or_else(|| ApiError::not_found("address", id))?;
    o.only(
        ADDRESS_FIELDS,
        &["id", "created_at", "updated_at", "company_id"],
    )?;
    let label = o.text("label")?;
    let street = o.text_keep("street")?;
    let house = o.text("house_number")?;
    let postcode = o.text_keep("postcode")?;
    let city = o.text_keep("city")?;
    let country = o.country("country")?;
    let stamp = d.change_stamp();
    let a = d
        .address_mut(id)
        .ok_or_else(|| ApiError::not_found("address", id))?;
    if let Some(v) = label {
        a.label = v;
    }
    if let Some(v) = street {
        a.street = v;
    }
    if let Some(v) = house {
        a.house_number = v;
    }
    if let Some(v) = postcode {
        a.postcode = v;
    }
    if let Some(v) = city {
        a.city = v;
    }
    if let Some(v) = country {
        a.country = v;
    }
    a.updated = stamp;
    Ok(Outcome::updated("addresses", id, address_json(a)))
}

const CONTACT_FIELDS: &[&str] = &["company_id", "first_name", "last_name", "email", "phone"];

fn existing_company(d: &MpowerData, field: &str, id: u64) -> Result<(), ApiError> {
    d.company(id)
        .map(|_| ())
        .ok_or_else(|| ApiError::invalid(field, format!("company {id} does not exist")))
}

fn create_contact(d: &mut MpowerData, o: &Obj) -> Handled {
    o.only(
        CONTACT_FIELDS,
        &["id", "created_at", "updated_at", "company"],
    )?;
    let company_id = o.id_req("company_id")?;
    existing_company(d, "company_id", company_id)?;
    let c = Contact {
        id: 0,
        company_id,
        first_name: o.text("first_name")?.flatten(),
        last_name: o.text_req("last_name")?,
        email: o.email("email")?.flatten(),
        phone: o.text("phone")?.flatten(),
        created: 0,
        updated: 0,
    };
    let id = d.insert_contact(c);
    let body = d
        .contact(id)
        .map(|c| d.contact_view(c))
        .unwrap_or(Value::Null);
    Ok(Outcome::created("contacts", id, "contacts", body))
}

fn patch_contact(d: &mut MpowerData, id: u64, o: &Obj) -> Handled {
    d.contact(id)
        .ok_or_else(|| ApiError::not_found("contact", id))?;
    o.only(
        CONTACT_FIELDS,
        &["id", "created_at", "updated_at", "company"],
    )?;
    let company_id = match o.id("company_id")? {
        None => None,
        Some(None) => return Err(ApiError::required("company_id")),
        Some(Some(x)) => {
            existing_company(d, "company_id", x)?;
            Some(x)
        }
    };
    let first = o.text("first_name")?;
    let last = o.text_keep("last_name")?;
    let email = o.email("email")?;
    let phone = o.text("phone")?;
    let stamp = d.change_stamp();
    if let Some(e) = email {
        d.set_contact_email(id, e);
    }
    let c = d
        .contact_mut(id)
        .ok_or_else(|| ApiError::not_found("contact", id))?;
    if let Some(v) = company_id {
        c.company_id = v;
    }
    if let Some(v) = first {
        c.first_name = v;
    }
    if let Some(v) = last {
        c.last_name = v;
    }
    if let Some(v) = phone {
        c.phone = v;
    }
    c.updated = stamp;
    let body = d
        .contact(id)
        .map(|c| d.contact_view(c))
        .unwrap_or(Value::Null);
    Ok(Outcome::updated("contacts", id, body))
}

const PRODUCT_FIELDS: &[&str] = &["product_code", "external_id", "name", "price", "active"];

fn unique_product_keys(
    d: &MpowerData,
    me: Option<u64>,
    code: Option<&str>,
    ext: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(existing) = code
        .and_then(|c| d.product_with_code(c))
        .filter(|&x| Some(x) != me)
    {
        return Err(ApiError {
            field: Some("product_code".into()),
            ..ApiError::conflict(
                "duplicate_product_code",
                "a product with this product_code exists",
                existing,
            )
        });
    }
    if let Some(existing) = ext
        .and_then(|x| d.product_with_external_id(x))
        .filter(|&x| Some(x) != me)
    {
        return Err(ApiError {
            field: Some("external_id".into()),
            ..ApiError::conflict(
                "duplicate_external_id",
                "a product with this external_id exists",
                existing,
            )
        });
    }
    Ok(())
}

fn create_product(d: &mut MpowerData, o: &Obj) -> Handled {
    o.only(PRODUCT_FIELDS, READ_ONLY)?;
    let code = o.text_req("product_code")?;
    let ext = o.text("external_id")?.flatten();
    let name = o.text_req("name")?;
    let price = o
        .money("price")?
        .ok_or_else(|| ApiError::required("price"))?;
    let active = o.boolean("active")?.unwrap_or(true);
    unique_product_keys(d, None, Some(&code), ext.as_deref())?;
    let id = d.insert_product(Product {
        id: 0,
        product_code: code,
        external_id: ext,
        name,
        price_cents: price,
        active,
        created: 0,
        updated: 0,
    });
    let body = d.product(id).map(product_json).unwrap_or(Value::Null);
    Ok(Outcome::created("products", id, "products", body))
}

fn patch_product(d: &mut MpowerData, id: u64, o: &Obj) -> Handled {
    d.product(id)
        .ok_or_else(|| ApiError::not_found("product", id))?;
    o.only(PRODUCT_FIELDS, READ_ONLY)?;
    let code = o.text_keep("product_code")?;
    let ext = o.text("external_id")?;
    let name = o.text_keep("name")?;
    let price = if o.has("price") {
        Some(
            o.money("price")?
                .ok_or_else(|| ApiError::required("price"))?,
        )
    } else {
        None
    };
    let active = o.boolean("active")?;
    unique_product_keys(
        d,
        Some(id),
        code.as_deref(),
        ext.clone().flatten().as_deref(),
    )?;
    let stamp = d.change_stamp();
    d.set_product_keys(id, code, ext);
    let p = d
        .product_mut(id)
        .ok_or_else(|| ApiError::not_found("product", id))?;
    if let Some(v) = name {
        p.name = v;
    }
    if let Some(v) = price {
        p.price_cents = v;
    }
    if let Some(v) = active {
        p.active = v;
    }
    p.updated = stamp;
    Ok(Outcome::updated("products", id, product_json(p)))
}

const ORDER_FIELDS: &[&str] = &[
    "company_id",
    "contact_id",
    "address_id",
    "invoice_address_id",
    "external_reference",
    "notes",
    "status",
    "lines",
];
const ORDER_READ_ONLY: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "order_number",
    "total",
    "order_request_id",
];

fn company_address(d: &MpowerData, field: &str, id: u64, company: u64) -> Result<(), ApiError> {
    match d.address(id) {
        None => Err(ApiError::invalid(
            field,
            format!("address {id} does not exist"),
        )),
        Some(a) if a.company_id != company => Err(ApiError::invalid(
            field,
            format!("address {id} does not belong to company {company}"),
        )),
        Some(_) => Ok(()),
    }
}

fn status_field(o: &Obj) -> Result<Option<OrderStatus>, ApiError> {
    match o.text("status")? {
        None => Ok(None),
        Some(None) => Err(ApiError::required("status")),
        Some(Some(s)) => OrderStatus::parse(s.trim()).map(Some).ok_or_else(|| {
            ApiError::invalid(
                "status",
                "status must be open, in_production, completed or cancelled",
            )
        }),
    }
}

fn create_order(d: &mut MpowerData, o: &Obj) -> Handled {
    o.only(ORDER_FIELDS, ORDER_READ_ONLY)?;
    let company_id = o.id_req("company_id")?;
    existing_company(d, "company_id", company_id)?;
    let contact_id = o.id_req("contact_id")?;
    match d.contact(contact_id) {
        None => {
            return Err(ApiError::invalid(
                "contact_id",
                format!("contact {contact_id} does not exist"),
            ))
        }
        Some(c) if c.company_id != company_id => {
            return Err(ApiError::invalid(
                "contact_id",
                format!("contact {contact_id} does not belong to company {company_id}"),
            ))
        }
        Some(_) => {}
    }
    let address_id = o.id_req("address_id")?;
    company_address(d, "address_id", address_id, company_id)?;
    let invoice_address_id = o.id("invoice_address_id")?.flatten();
    if let Some(a) = invoice_address_id {
        company_address(d, "invoice_address_id", a, company_id)?;
    }
    let external_reference = o.text("external_reference")?.flatten();
    let notes = o.text("notes")?.flatten();
    let status = status_field(o)?.unwrap_or(OrderStatus::Open);
    let lines_in = o
        .array("lines")?
        .ok_or_else(|| ApiError::required("lines"))?;
    if lines_in.is_empty() {
        return Err(ApiError::invalid(
            "lines",
            "lines must hold at least one line",
        ));
    }
    let mut lines = Vec::with_capacity(lines_in.len());
    for l in &lines_in {
        l.only(
            &["product_id", "description", "quantity", "price"],
            &["line_no", "total"],
        )?;
        let pid = l.id_req("product_id")?;
        let product = d.product(pid).ok_or_else(|| {
            ApiError::invalid(
                l.name("product_id"),
                format!("product {pid} does not exist"),
            )
        })?;
        let quantity = l
            .quantity("quantity")?
            .ok_or_else(|| ApiError::required(&l.name("quantity")))?;
        lines.push(OrderLine {
            product_id: pid,
            description: l.text("description")?.flatten(),
            quantity,
            price_cents: l.money("price")?.unwrap_or(product.price_cents),
        });
    }
    if let Some(x) = &external_reference {
        if let Some(&existing) = d.order_refs.get(x) {
            return Err(ApiError {
                field: Some("external_reference".into()),
                ..ApiError::conflict(
                    "duplicate_external_reference",
                    format!("an order with external_reference {x} already exists"),
                    existing,
                )
            });
        }
    }
    let id = d.insert_order(Order {
        id: 0,
        company_id,
        contact_id,
        address_id,
        invoice_address_id,
        external_reference,
        notes,
        status,
        lines,
        order_request_id: None,
        created: 0,
        updated: 0,
    });
    let body = d.order(id).map(order_json).unwrap_or(Value::Null);
    Ok(Outcome::created("orders", id, "orders", body))
}

fn patch_order(d: &mut MpowerData, id: u64, o: &Obj) -> Handled {
    let current = d
        .order(id)
        .ok_or_else(|| ApiError::not_found("order", id))?
        .clone();
    o.only(
        &[
            "address_id",
            "invoice_address_id",
            "external_reference",
            "notes",
            "status",
        ],
        ORDER_READ_ONLY,
    )?;
    for f in ["company_id", "contact_id", "lines"] {
        if o.has(f) {
            return Err(ApiError::invalid(
                f,
                format!("{f} cannot be changed on an order"),
            ));
        }
    }
    let address_id = match o.id("address_id")? {
        None => None,
        Some(None) => return Err(ApiError::required("address_id")),
        Some(Some(a)) => {
            company_address(d, "address_id", a, current.company_id)?;
            Some(a)
        }
    };
    let invoice = o.id("invoice_address_id")?;
    if let Some(Some(a)) = invoice {
        company_address(d, "invoice_address_id", a, current.company_id)?;
    }
    let reference = o.text("external_reference")?;
    if let Some(Some(x)) = &reference {
        if let Some(&existing) = d.order_refs.get(x).filter(|&&e| e != id) {
            return Err(ApiError {
                field: Some("external_reference".into()),
                ..ApiError::conflict(
                    "duplicate_external_reference",
                    format!("an order with external_reference {x} already exists"),
                    existing,
                )
            });
        }
    }
    let notes = o.text("notes")?;
    let status = status_field(o)?;
    if let Some(s) = status {
        let closed = matches!(
            current.status,
            OrderStatus::Completed | OrderStatus::Cancelled
        );
        if closed && s != current.status {
            return Err(ApiError::invalid(
                "status",
                format!(
                    "a {} order cannot become {}",
                    current.status.name(),
                    s.name()
                ),
            ));
        }
    }
    let stamp = d.change_stamp();
    if let Some(r) = &reference {
        if let Some(old) = &current.external_reference {
            d.order_refs.remove(old);
        }
        if let Some(new) = r {
            d.order_refs.insert(new.clone(), id);
        }
    }
    let ord = d
        .order_mut(id)
        .ok_or_else(|| ApiError::not_found("order", id))?;
    if let Some(a) = address_id {
        ord.address_id = a;
    }
    if let Some(a) = invoice {
        ord.invoice_address_id = a;
    }
    if let Some(r) = reference {
        ord.external_reference = r;
    }
    if let Some(n) = notes {
        ord.notes = n;
    }
    if let Some(s) = status {
        ord.status = s;
    }
    ord.updated = stamp;
    Ok(Outcome::updated("orders", id, order_json(ord)))
}

fn create_request(d: &mut MpowerData, o: &Obj) -> Handled {
    o.only(
        &[
            "source",
            "integration",
            "external_reference",
            "product_matching",
            "customer",
            "address",
            "lines",
            "notes",
            "contact_id",
            "company_id",
            "address_id",
        ],
        READ_ONLY,
    )?;
    let source_text = o.text_req("source")?;
    let source = Source::parse(source_text.trim()).ok_or_else(|| {
        ApiError::invalid("source", "source must be integration, email or manual")
    })?;
    let integration = o.text("integration")?.flatten();
    if source == Source::Integration && integration.is_none() {
        return Err(ApiError::required("integration"));
    }
    let cust = o
        .object("customer")?
        .ok_or_else(|| ApiError::required("customer"))?;
    cust.only(
        &[
            "email",
            "first_name",
            "last_name",
            "phone",
            "company_name",
            "vat_number",
        ],
        &[],
    )?;
    let customer = RequestCustomer {
        email: cust.email("email")?.flatten(),
        first_name: cust.text("first_name")?.flatten(),
        last_name: cust.text("last_name")?.flatten(),
        phone: cust.text("phone")?.flatten(),
        company_name: cust.text("company_name")?.flatten(),
        vat_number: cust.text("vat_number")?.flatten(),
    };
    if customer.email.is_none() && customer.last_name.is_none() {
        return Err(ApiError::invalid(
            "customer.email",
            "customer.email or customer.last_name is required",
        ));
    }
    let addr = o
        .object("address")?
        .ok_or_else(|| ApiError::required("address"))?;
    addr.only(
        &["street", "house_number", "postcode", "city", "country"],
        &[],
    )?;
    let address = RequestAddress {
        street: addr.text_req("street")?,
        house_number: addr.text("house_number")?.flatten(),
        postcode: addr.text_req("postcode")?,
        city: addr.text_req("city")?,
        country: addr
            .country("country")?
            .ok_or_else(|| ApiError::required("address.country"))?,
    };
    let lines_in = o
        .array("lines")?
        .ok_or_else(|| ApiError::required("lines"))?;
    if lines_in.is_empty() {
        return Err(ApiError::invalid(
            "lines",
            "lines must hold at least one line",
        ));
    }
    let mut lines = Vec::with_capacity(lines_in.len());
    for l in &lines_in {
        l.only(
            &[
                "product_code",
                "external_id",
                "product_id",
                "description",
                "quantity",
                "price",
            ],
            &["line_no"],
        )?;
        let product_id = l.id("product_id")?.flatten();
        if let Some(p) = product_id {
            d.product(p).ok_or_else(|| {
                ApiError::invalid(l.name("product_id"), format!("product {p} does not exist"))
            })?;
        }
        let product_code = l.text("product_code")?.flatten();
        let external_id = l.text("external_id")?.flatten();
        if product_id.is_none() && product_code.is_none() && external_id.is_none() {
            return Err(ApiError::invalid(
                l.name("product_code"),
                format!(
                    "{} or external_id or product_id is required",
                    l.name("product_code")
                ),
            ));
        }
        lines.push(RequestLine {
            product_code,
            external_id,
            description: l.text("description")?.flatten(),
            quantity: l
                .quantity("quantity")?
                .ok_or_else(|| ApiError::required(&l.name("quantity")))?,
            price_cents: l
                .money("price")?
                .ok_or_else(|| ApiError::required(&l.name("price")))?,
            product_id,
            matched_by: None,
        });
    }
    let contact_id = o.id("contact_id")?.flatten();
    if let Some(c) = contact_id {
        d.contact(c).ok_or_else(|| {
            ApiError::invalid("contact_id", format!("contact {c} does not exist"))
        })?;
    }
    let company_id = o.id("company_id")?.flatten();
    if let Some(c) = company_id {
        existing_company(d, "company_id", c)?;
    }
    let address_id = o.id("address_id")?.flatten();
    if let Some(a) = address_id {
        let company = company_id
            .or_else(|| contact_id.and_then(|c| d.contact(c)).map(|c| c.company_id))
            .ok_or_else(|| {
                ApiError::invalid("address_id", "address_id needs company_id or contact_id")
            })?;
        company_address(d, "address_id", a, company)?;
    }
    let new = NewRequest {
        source,
        integration,
        external_reference: o.text("external_reference")?.flatten(),
        product_matching: o.boolean("product_matching")?.unwrap_or(true),
        customer,
        address,
        lines,
        notes: o.text("notes")?.flatten(),
        contact_id,
        company_id,
        address_id,
    };
    let stamp = d.change_stamp();
    let id = d.insert_request(new, stamp).map_err(|e| ApiError {
        field: Some("external_reference".into()),
        ..e
    })?;
    let body = d.request(id).map(order_request_json).unwrap_or(Value::Null);
    Ok(Outcome::created(
        "order_requests",
        id,
        "order-requests",
        body,
    ))
}

fn patch_request(d: &mut MpowerData, id: u64, o: &Obj) -> Handled {
    let current = d
        .request(id)
        .ok_or_else(|| ApiError::not_found("order request", id))?
        .clone();
    if let Some(order) = current.order_id {
        return Err(ApiError::conflict(
            "already_converted",
            format!("order request {id} was already converted into order {order}"),
            order,
        ));
    }
    o.only(
        &["contact_id", "company_id", "address_id", "lines", "notes"],
        READ_ONLY,
    )?;
    let mut r = current;
    if let Some(c) = o.id("contact_id")? {
        match c {
            Some(cid) => {
                let contact = d.contact(cid).ok_or_else(|| {
                    ApiError::invalid("contact_id", format!("contact {cid} does not exist"))
                })?;
                r.contact_id = Some(cid);
                r.contact_match = ContactMatch::Manual;
                if !o.has("company_id") {
                    r.company_id = Some(contact.company_id);
                }
            }
            None => {
                // Back to "create at conversion".
                r.contact_id = None;
                r.contact_match = ContactMatch::None;
                r.contact_candidates.clear();
            }
        }
        r.address_id = r.address_id.filter(|_| o.has("address_id"));
    }
    if let Some(c) = o.id("company_id")? {
        if let Some(x) = c {
            existing_company(d, "company_id", x)?;
        }
        r.company_id = c;
    }
    if let Some(a) = o.id("address_id")? {
        if let Some(x) = a {
            let company = r.company_id.ok_or_else(|| {
                ApiError::invalid("address_id", "select a company before an address")
            })?;
            company_address(d, "address_id", x, company)?;
            r.address_recognised = false;
        }
        r.address_id = a;
    }
    if let Some(lines) = o.array("lines")? {
        for l in &lines {
            l.only(&["line_no", "product_id"], &[])?;
            let n = l.id_req("line_no")? as usize;
            if n > r.lines.len() {
                return Err(ApiError::invalid(
                    l.name("line_no"),
                    format!("the request has no line {n}"),
                ));
            }
            let pid = l
                .id("product_id")?
                .ok_or_else(|| ApiError::required(&l.name("product_id")))?;
            if let Some(p) = pid {
                d.product(p).ok_or_else(|| {
                    ApiError::invalid(l.name("product_id"), format!("product {p} does not exist"))
                })?;
            }
            let line = &mut r.lines[n - 1];
            line.product_id = pid;
            line.matched_by = pid.map(|_| MatchedBy::Manual);
        }
    }
    if let Some(n) = o.text("notes")? {
        r.notes = n;
    }
    if r.address_id.is_none() {
        d.recognise_address(&mut r);
    }
    r.updated = d.change_stamp();
    let body = order_request_json(&r);
    if let Some(slot) = d.request_mut(id) {
        *slot = r;
    }
    Ok(Outcome::updated("order_requests", id, body))
}

// ---- control API ----

fn control_error(status: StatusCode, text: impl std::fmt::Display) -> Response {
    (status, axum::Json(json!({ "error": text.to_string() }))).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ResetBody {
    seed: Option<u64>,
}

fn parse_control<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| control_error(StatusCode::BAD_REQUEST, e))
}

fn status_json(sim: &MpowerSim) -> Value {
    let core = sim.core();
    json!({
        "system": "mpower",
        "seed": sim.seed(),
        "counts": sim.counts(),
        "requests": core.requests_seen(),
        "max_concurrency": core.max_concurrency(),
        "faults": core.faults(),
        "mpower_faults": sim.mpower_faults(),
        "fault_stats": core.fault_stats(),
    })
}

fn control(
    sim: &MpowerSim,
    method: &Method,
    path: &[&str],
    query: &HashMap<String, String>,
    body: &[u8],
) -> Response {
    let result: Result<Response, Response> = (|| match (method.as_str(), path) {
        ("GET", []) | ("GET", ["mpower"]) => Ok(axum::Json(status_json(sim)).into_response()),
        ("GET", ["mpower", "requests"]) => {
            Ok(axum::Json(sim.core().requests_seen()).into_response())
        }
        ("GET", ["mpower", "faults"]) => Ok(axum::Json(sim.core().faults()).into_response()),
        ("PUT", ["mpower", "faults"]) => {
            let faults: FaultConfig = parse_control(body)?;
            sim.set_faults(faults)
                .map_err(|e| control_error(StatusCode::BAD_REQUEST, e))?;
            Ok(axum::Json(sim.core().faults()).into_response())
        }
        ("GET", ["mpower", "mpower-faults"]) => Ok(axum::Json(sim.mpower_faults()).into_response()),
        ("PUT", ["mpower", "mpower-faults"]) => {
            let faults: MpowerFaults = parse_control(body)?;
            sim.set_mpower_faults(faults);
            Ok(axum::Json(sim.mpower_faults()).into_response())
        }
        ("GET", ["mpower", "created"]) => {
            let r = query.get("resource").map(String::as_str);
            Ok(axum::Json(sim.created(r)).into_response())
        }
        ("GET", ["mpower", "writes"]) => Ok(axum::Json(sim.writes()).into_response()),
        ("GET", ["mpower", "contacts"]) => {
            let e = query
                .get("email")
                .ok_or_else(|| control_error(StatusCode::BAD_REQUEST, "email is required"))?;
            Ok(axum::Json(sim.contacts_with_email(e)).into_response())
        }
        ("GET", ["mpower", "companies"]) => {
            let n = query
                .get("name")
                .ok_or_else(|| control_error(StatusCode::BAD_REQUEST, "name is required"))?;
            Ok(axum::Json(sim.companies_named(n)).into_response())
        }
        ("GET", ["mpower", "duplicates"]) => {
            let groups: Vec<Value> = sim
                .duplicate_contacts()
                .into_iter()
                .map(|(email, ids)| json!({ "email": email, "contact_ids": ids }))
                .collect();
            Ok(axum::Json(json!({ "contacts_by_email": groups })).into_response())
        }
        ("POST", ["mpower", "reset"]) => {
            let r: ResetBody = parse_control(body)?;
            sim.reset(r.seed);
            Ok(axum::Json(status_json(sim)).into_response())
        }
        _ => Err(control_error(
            StatusCode::NOT_FOUND,
            "no such control endpoint",
        )),
    })();
    result.unwrap_or_else(|r| r)
}
