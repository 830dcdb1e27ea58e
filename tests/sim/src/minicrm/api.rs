//! HTTP face of the MiniCRM simulator: the API under `/Api/R3/` and the control API under
//! `/_control/minicrm`. Errors are plain text, as the real API's are.

// Error answers are returned early as ready responses; their size is irrelevant on this path.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::model::*;
use super::{email_key, MinicrmData, MinicrmSim, PushRecord, RateLimit};
use crate::core::{PreFault, Simulator};
use crate::request::percent_decode;
use crate::FaultConfig;

/// Results per page of every list.
pub const PAGE_SIZE: usize = 100;

type Query = Vec<(String, String)>;

pub(super) fn router(sim: Arc<MinicrmSim>) -> Router {
    Router::new().fallback(dispatch).with_state(sim)
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn bad(body: impl Into<String>) -> Response {
    text(StatusCode::BAD_REQUEST, body)
}

fn not_found(body: impl Into<String>) -> Response {
    text(StatusCode::NOT_FOUND, body)
}

fn ok_json(value: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        value.to_string(),
    )
        .into_response()
}

/// Keys keep their case: PHP's `$_GET` is case-sensitive.
fn parse_query(q: &str) -> Query {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// The API's endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Route {
    Category,
    SchemaPerson,
    SchemaBusiness,
    SchemaProject(String),
    ProjectSearch,
    ProjectGet(String),
    ProjectPut(Option<String>),
    ProjectHistory(String),
    ContactSearch,
    ContactGet(String),
    ContactPut(Option<String>),
    AddressGet(String),
    AddressPut(Option<String>),
    AddressList(String),
}

impl Route {
    /// `None`: no such resource; `Some(Err(allowed))`: it exists, the method does not.
    fn match_path(method: &Method, segs: &[&str]) -> Option<Result<Route, &'static str>> {
        let own = |s: &str| s.to_owned();
        let get = method == Method::GET;
        let put = method == Method::PUT;
        let pick = |ok: bool, r: Route, allowed: &'static str| {
            if ok {
                Ok(r)
            } else {
                Err(allowed)
            }
        };
        Some(match segs {
            ["Category"] => pick(get, Route::Category, "GET"),
            ["Schema", "Person"] => pick(get, Route::SchemaPerson, "GET"),
            ["Schema", "Business"] => pick(get, Route::SchemaBusiness, "GET"),
            ["Schema", "Project", c] => pick(get, Route::SchemaProject(own(c)), "GET"),
            ["Project"] if put => Ok(Route::ProjectPut(None)),
            ["Project"] => pick(get, Route::ProjectSearch, "GET, PUT"),
            ["Project", id] if put => Ok(Route::ProjectPut(Some(own(id)))),
            ["Project", id] => pick(get, Route::ProjectGet(own(id)), "GET, PUT"),
            ["ProjectHistory", id] => pick(get, Route::ProjectHistory(own(id)), "GET"),
            ["Contact"] if put => Ok(Route::ContactPut(None)),
            ["Contact"] => pick(get, Route::ContactSearch, "GET, PUT"),
            ["Contact", id] if put => Ok(Route::ContactPut(Some(own(id)))),
            ["Contact", id] => pick(get, Route::ContactGet(own(id)), "GET, PUT"),
            ["Address"] => pick(put, Route::AddressPut(None), "PUT"),
            ["Address", id] if put => Ok(Route::AddressPut(Some(own(id)))),
            ["Address", id] => pick(get, Route::AddressGet(own(id)), "GET, PUT"),
            ["AddressList", id] => pick(get, Route::AddressList(own(id)), "GET"),
            _ => return None,
        })
    }

    /// The key under which requests are counted.
    fn key(&self) -> &'static str {
        match self {
            Route::Category => "GET /Api/R3/Category",
            Route::SchemaPerson => "GET /Api/R3/Schema/Person",
            Route::SchemaBusiness => "GET /Api/R3/Schema/Business",
            Route::SchemaProject(_) => "GET /Api/R3/Schema/Project/{id}",
            Route::ProjectSearch => "GET /Api/R3/Project",
            Route::ProjectGet(_) => "GET /Api/R3/Project/{id}",
            Route::ProjectPut(None) => "PUT /Api/R3/Project",
            Route::ProjectPut(Some(_)) => "PUT /Api/R3/Project/{id}",
            Route::ProjectHistory(_) => "GET /Api/R3/ProjectHistory/{id}",
            Route::ContactSearch => "GET /Api/R3/Contact",
            Route::ContactGet(_) => "GET /Api/R3/Contact/{id}",
            Route::ContactPut(None) => "PUT /Api/R3/Contact",
            Route::ContactPut(Some(_)) => "PUT /Api/R3/Contact/{id}",
            Route::AddressGet(_) => "GET /Api/R3/Address/{id}",
            Route::AddressPut(None) => "PUT /Api/R3/Address",
            Route::AddressPut(Some(_)) => "PUT /Api/R3/Address/{id}",
            Route::AddressList(_) => "GET /Api/R3/AddressList/{id}",
        }
    }
}

fn authorized(sim: &MinicrmSim, headers: &HeaderMap) -> bool {
    let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, b64)) = v.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return false;
    };
    let Ok(pair) = String::from_utf8(raw) else {
        return false;
    };
    let (system_id, key) = sim.credentials();
    pair.split_once(':')
        .is_some_and(|(s, k)| s == system_id && k == key)
}

async fn dispatch(
    State(sim): State<Arc<MinicrmSim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segs.first() == Some(&"_control") {
        return control(&sim, &method, &segs[1..], uri.query().unwrap_or(""), &body);
    }
    let Some(rest) = segs.strip_prefix(&["Api", "R3"][..]) else {
        return not_found("Not Found");
    };
    let route = match Route::match_path(&method, rest) {
        None => return not_found("Not Found"),
        Some(Err(allowed)) => {
            let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
            if let Ok(v) = allowed.parse() {
                r.headers_mut().insert(header::ALLOW, v);
            }
            return r;
        }
        Some(Ok(r)) => r,
    };
    let core = sim.core();
    let admission = core.admit(route.key()).await;
    match admission.pre {
        PreFault::Timeout => {
            core.hang().await;
            return text(StatusCode::SERVICE_UNAVAILABLE, "Shutting down");
        }
        PreFault::Throttle { retry_after_secs } => {
            let mut r = text(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
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
            return text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
        PreFault::None => {}
    }
    if !authorized(&sim, &headers) {
        let status = StatusCode::from_u16(sim.config().auth_failure_status)
            .unwrap_or(StatusCode::UNAUTHORIZED);
        let mut r = text(status, "Unauthorized");
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"MiniCRM API\""),
            );
        }
        return r;
    }
    if let Err(wait) = sim.take_rate() {
        let mut r = text(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
        r.headers_mut().insert(header::RETRY_AFTER, wait.into());
        return r;
    }
    let query = parse_query(uri.query().unwrap_or(""));
    let response = match &route {
        Route::ProjectPut(id) => record(
            &sim,
            "Project",
            &path,
            &body,
            put_project(&sim, id.as_deref(), &body),
        ),
        Route::ContactPut(id) => record(
            &sim,
            "Contact",
            &path,
            &body,
            put_contact(&sim, id.as_deref(), &body),
        ),
        Route::AddressPut(id) => record(
            &sim,
            "Address",
            &path,
            &body,
            put_address(&sim, id.as_deref(), &body),
        ),
        _ => handle_get(&sim, &route, &query),
    };
    core.shape_body(response, admission.body).await
}

/// Logs a PUT as received, with the answer it got.
fn record(
    sim: &MinicrmSim,
    resource: &str,
    path: &str,
    body: &[u8],
    answer: Result<u32, Response>,
) -> Response {
    let parsed = serde_json::from_slice::<Value>(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    let (status, id, response) = match answer {
        Ok(id) => (200, Some(id), ok_json(&json!({ "Id": id }))),
        Err(r) => (r.status().as_u16(), None, r),
    };
    sim.record_push(PushRecord {
        seq: 0,
        resource: resource.to_owned(),
        path: path.to_owned(),
        body: parsed,
        status,
        id,
    });
    response
}

fn handle_get(sim: &MinicrmSim, route: &Route, q: &Query) -> Response {
    let d = sim.read();
    let result = match route {
        Route::Category => Ok(categories(&d, q)),
        Route::SchemaPerson => Ok(ok_json(&person_schema())),
        Route::SchemaBusiness => Ok(ok_json(&business_schema())),
        Route::SchemaProject(c) => project_schema(&d, c),
        Route::ProjectSearch => project_search(&d, q),
        Route::ProjectGet(id) => parse_id(id, "Project")
            .and_then(|id| d.project(id).ok_or_else(|| project_missing(id)))
            .and_then(|p| visible(&d, p))
            .map(|p| ok_json(&d.project_detail(p))),
        Route::ProjectHistory(id) => project_history(&d, id),
        Route::ContactSearch => contact_search(&d, q),
        Route::ContactGet(id) => parse_id(id, "Contact")
            .and_then(|id| {
                d.contact(id)
                    .ok_or_else(|| not_found(format!("Contact not found: {id}")))
            })
            .map(|c| ok_json(&d.contact_detail(c))),
        Route::AddressGet(id) => parse_id(id, "Address")
            .and_then(|id| {
                d.address(id)
                    .ok_or_else(|| not_found(format!("Address not found: {id}")))
            })
            .map(|a| ok_json(&d.address_detail(a))),
        Route::AddressList(id) => address_list(&d, id, q),
        Route::ProjectPut(_) | Route::ContactPut(_) | Route::AddressPut(_) => {
            Err(bad("Bad Request"))
        }
    };
    result.unwrap_or_else(|r| r)
}

fn parse_id(id: &str, what: &str) -> Result<u32, Response> {
    id.trim()
        .parse::<u32>()
        .map_err(|_| bad(format!("{what} (GET): Invalid id '{id}'.")))
}

fn project_missing(id: u32) -> Response {
    not_found(format!("Project not found: {id}"))
}

/// A project of a module the account no longer has is not reachable.
fn visible<'a>(d: &MinicrmData, p: &'a Project) -> Result<&'a Project, Response> {
    if d.module(p.category_id).is_some() {
        Ok(p)
    } else {
        Err(project_missing(p.id))
    }
}

fn category_missing(c: &str) -> Response {
    not_found(format!("Category not found: {c}"))
}

/// Keyed results; an empty list is `[]`, as PHP's `json_encode` writes an empty array.
fn keyed_page(count: usize, results: Vec<(u32, Value)>) -> Value {
    let results = if results.is_empty() {
        Value::Array(Vec::new())
    } else {
        Value::Object(
            results
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    };
    json!({ "Count": count, "Results": results })
}

fn page_of(q: &Query, what: &str) -> Result<usize, Response> {
    match q.iter().rev().find(|(k, _)| k == "Page") {
        None => Ok(0),
        Some((_, v)) if v.trim().is_empty() => Ok(0),
        Some((_, v)) => v.trim().parse::<usize>().map_err(|_| {
            bad(format!(
                "{what} (GET): Invalid value '{v}' for the Page parameter."
            ))
        }),
    }
}

fn categories(d: &MinicrmData, q: &Query) -> Response {
    let detailed = q.iter().any(|(k, v)| k == "Detailed" && v.trim() == "1");
    let mut out = Map::new();
    for m in d.modules.iter().filter(|m| d.enabled.contains(&m.id)) {
        let v = if detailed {
            json!({ "Id": m.id, "OrderId": m.order, "Name": m.name, "Type": "Project" })
        } else {
            json!(m.name)
        };
        out.insert(m.id.to_string(), v);
    }
    if detailed {
        ok_json(&json!({ "Results": out }))
    } else {
        ok_json(&Value::Object(out))
    }
}

fn type_text(t: &FieldType) -> Value {
    match t {
        FieldType::Text(n) => json!(format!("Text({n})")),
        FieldType::Int => json!("Int"),
        FieldType::Float => json!("Float"),
        FieldType::DateTime => json!("DateTime"),
        FieldType::Boolean => json!("Boolean"),
        FieldType::Enum(opts) => Value::Object(
            opts.iter()
                .map(|(i, l)| (i.to_string(), json!(l)))
                .collect(),
        ),
    }
}

/// Person fields `PUT Contact` accepts, with their limits.
const PERSON_FIELDS: &[(&str, FieldType)] = &[
    ("Id", FieldType::Int),
    ("Type", FieldType::Text(32)),
    ("FirstName", FieldType::Text(255)),
    ("LastName", FieldType::Text(255)),
    ("Email", FieldType::Text(128)),
    ("Phone", FieldType::Text(128)),
    ("Description", FieldType::Text(4096)),
    ("Position", FieldType::Text(255)),
    ("VatNumber", FieldType::Text(64)),
    ("BusinessId", FieldType::Int),
    ("Deleted", FieldType::Boolean),
];
/// Business fields `PUT Contact` accepts.
const BUSINESS_FIELDS: &[(&str, FieldType)] = &[
    ("Id", FieldType::Int),
    ("Type", FieldType::Text(32)),
    ("Name", FieldType::Text(255)),
    ("Email", FieldType::Text(128)),
    ("Phone", FieldType::Text(128)),
    ("Description", FieldType::Text(4096)),
    ("VatNumber", FieldType::Text(64)),
    ("Deleted", FieldType::Boolean),
];

fn person_schema() -> Value {
    let mut m: Map<String, Value> = PERSON_FIELDS
        .iter()
        .filter(|(n, _)| *n != "Type")
        .map(|(n, t)| ((*n).to_owned(), type_text(t)))
        .collect();
    m.insert("EmailType".into(), json!("Text(1024)"));
    m.insert("PhoneType".into(), json!("Text(1024)"));
    Value::Object(m)
}

fn business_schema() -> Value {
    let mut m: Map<String, Value> = BUSINESS_FIELDS
        .iter()
        .filter(|(n, _)| *n != "Type")
        .map(|(n, t)| ((*n).to_owned(), type_text(t)))
        .collect();
    m.insert("EmailType".into(), json!("Text(1024)"));
    m.insert("PhoneType".into(), json!("Text(1024)"));
    m.insert("ParentId".into(), json!("Int"));
    Value::Object(m)
}

fn project_schema(d: &MinicrmData, c: &str) -> Result<Response, Response> {
    let m = c
        .trim()
        .parse::<u32>()
        .ok()
        .and_then(|id| d.module(id))
        .ok_or_else(|| category_missing(c))?;
    let mut out = Map::new();
    out.insert("Id".into(), json!("Int"));
    out.insert("CategoryId".into(), json!({ m.id.to_string(): m.name }));
    out.insert("ContactId".into(), json!("Int"));
    out.insert("BusinessId".into(), json!("Int"));
    out.insert(
        "StatusId".into(),
        Value::Object(
            m.statuses
                .iter()
                .map(|s| (s.id.to_string(), json!(s.name)))
                .collect(),
        ),
    );
    out.insert(
        "UserId".into(),
        Value::Object(
            USERS
                .iter()
                .map(|u| (u.id.to_string(), json!(u.name)))
                .collect(),
        ),
    );
    out.insert("Name".into(), json!("Text(512)"));
    out.insert("StatusUpdatedAt".into(), json!("DateTime"));
    out.insert("IsPrivate".into(), json!("Boolean"));
    out.insert("Invited".into(), json!("Text(65535)"));
    out.insert("Deleted".into(), json!("Int"));
    out.insert("CreatedBy".into(), json!("Text(255)"));
    out.insert("CreatedAt".into(), json!("DateTime"));
    out.insert("UpdatedBy".into(), json!("Text(255)"));
    out.insert("UpdatedAt".into(), json!("DateTime"));
    for f in &m.fields {
        out.insert(f.name.into(), type_text(&f.ty));
    }
    Ok(ok_json(&Value::Object(out)))
}

fn fold(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' | 'ö' | 'ő' => 'o',
            'ú' | 'ü' | 'ű' => 'u',
            c => c,
        })
        .collect()
}

fn parse_u32(v: &str, what: &str, param: &str) -> Result<u32, Response> {
    v.trim().parse().map_err(|_| {
        bad(format!(
            "{what} (GET): Invalid value '{v}' for the {param} parameter."
        ))
    })
}

fn parse_when(v: &str, what: &str, param: &str) -> Result<crate::clock::Millis, Response> {
    parse_local(v).ok_or_else(|| {
        bad(format!(
            "{what} (GET): Invalid date '{v}' for the {param} parameter. Use yyyy-mm-dd hh:mm:ss."
        ))
    })
}

/// Whether `p`'s module field `f` equals the filter value (text ignoring case; drop-downs
/// by label or option id; numbers numerically).
fn field_matches(f: &Field, v: Option<&FieldValue>, want: &str) -> bool {
    let w = want.trim();
    match (v, &f.ty) {
        (None, _) => w.is_empty(),
        (Some(FieldValue::Text(s)), _) => s.to_lowercase() == w.to_lowercase(),
        (Some(FieldValue::Int(n)), _) => w.parse::<i64>().ok() == Some(*n),
        (Some(FieldValue::Float(x)), _) => w.parse::<f64>().ok() == Some(*x),
        (Some(FieldValue::Bool(b)), _) => w == if *b { "1" } else { "0" },
        (Some(FieldValue::DateTime(t)), _) => format_local(*t).starts_with(w),
        (Some(FieldValue::Enum(id)), FieldType::Enum(opts)) => {
            id.to_string() == w
                || opts
                    .iter()
                    .any(|(i, l)| i == id && l.to_lowercase() == w.to_lowercase())
        }
        (Some(FieldValue::Enum(_)), _) => false,
    }
}

fn project_search(d: &MinicrmData, q: &Query) -> Result<Response, Response> {
    const W: &str = "Project";
    let page = page_of(q, W)?;
    let mut category = None;
    let mut status = None;
    let mut group = None;
    let mut user = None;
    let mut main_contact = None;
    let mut since = None;
    let mut at: Option<String> = None;
    let mut deleted = None;
    let mut query = None;
    let mut name = None;
    let mut custom: Vec<(String, String)> = Vec::new();
    for (k, v) in q {
        // An empty parameter is no filter (PHP clients send `Email=&UpdatedSince=`).
        if v.trim().is_empty() {
            continue;
        }
        match k.as_str() {
            "Page" => {}
            "CategoryId" => {
                let c = parse_u32(v, W, k)?;
                d.module(c).ok_or_else(|| category_missing(v))?;
                category = Some(c);
            }
            "StatusId" => status = Some(v.clone()),
            "StatusGroup" => {
                group = Some(StatusGroup::parse(v).ok_or_else(|| {
                    bad(format!("Project (GET): Invalid value '{v}' for the StatusGroup parameter. Use Lead, Open, Success or Failed."))
                })?)
            }
            "UserId" => user = Some(v.clone()),
            "MainContactId" => main_contact = Some(parse_u32(v, W, k)?),
            "UpdatedSince" => since = Some(parse_when(v, W, k)?),
            "UpdatedAt" => {
                parse_when(v, W, k)?;
                at = Some(v.trim().replace('+', " "));
            }
            "Deleted" => {
                deleted = Some(match v.trim() {
                    "0" => false,
                    "1" => true,
                    _ => return Err(bad(format!("Project (GET): Invalid value '{v}' for the Deleted parameter."))),
                })
            }
            "Query" => query = Some(fold(v.trim())),
            "Name" => name = Some(v.trim().to_lowercase()),
            _ => custom.push((k.clone(), v.clone())),
        }
    }
    // A custom-field filter must name a field of some visible module.
    for (k, _) in &custom {
        let known = d
            .modules
            .iter()
            .filter(|m| d.enabled.contains(&m.id) && category.is_none_or(|c| c == m.id))
            .any(|m| m.field_index(k).is_some());
        if !known {
            return Err(bad(format!("Project (GET): Unknown field '{k}'.")));
        }
    }
    let mut count = 0usize;
    let mut results = Vec::new();
    let skip = page.saturating_mul(PAGE_SIZE);
    for p in &d.projects {
        let Some(m) = d.module(p.category_id) else {
            continue;
        };
        if category.is_some_and(|c| c != p.category_id) {
            continue;
        }
        if let Some(s) = &status {
            if m.status(s).map(|s| s.id) != Some(p.status_id) {
                continue;
            }
        }
        if let Some(g) = group {
            if m.statuses
                .iter()
                .find(|s| s.id == p.status_id)
                .map(|s| s.group)
                != Some(g)
            {
                continue;
            }
        }
        if let Some(u) = &user {
            let matches = USERS
                .iter()
                .any(|x| x.id == p.user_id && (x.id.to_string() == u.trim() || x.name == u.trim()));
            if !matches {
                continue;
            }
        }
        if let Some(mc) = main_contact {
            if p.business_id != Some(mc) && p.contact_id != mc {
                continue;
            }
        }
        if since.is_some_and(|t| p.updated_at / 1000 < t / 1000) {
            continue;
        }
        if let Some(a) = &at {
            if !format_local(p.updated_at).starts_with(a.as_str()) {
                continue;
            }
        }
        if deleted.is_some_and(|x| x != p.deleted) {
            continue;
        }
        if let Some(n) = &name {
            if !p.name.to_lowercase().contains(n.as_str()) {
                continue;
            }
        }
        if let Some(qq) = &query {
            let in_fields = p
                .fields
                .iter()
                .any(|v| matches!(v, Some(FieldValue::Text(s)) if fold(s).contains(qq.as_str())));
            if !fold(&p.name).contains(qq.as_str()) && !in_fields {
                continue;
            }
        }
        let custom_ok = custom.iter().all(|(k, v)| {
            m.field_index(k)
                .is_some_and(|i| field_matches(&m.fields[i], p.fields[i].as_ref(), v))
        });
        if !custom_ok {
            continue;
        }
        if count >= skip && results.len() < PAGE_SIZE {
            results.push((p.id, d.project_summary(p)));
        }
        count += 1;
    }
    Ok(ok_json(&keyed_page(count, results)))
}

fn project_history(d: &MinicrmData, id: &str) -> Result<Response, Response> {
    let id = parse_id(id, "ProjectHistory")?;
    let p = d.project(id).ok_or_else(|| project_missing(id))?;
    let p = visible(d, p)?;
    let m = d.module(p.category_id).ok_or_else(|| project_missing(id))?;
    let name = |s: Option<u32>| {
        s.and_then(|s| m.statuses.iter().find(|x| x.id == s))
            .map(|x| x.name)
            .unwrap_or("")
    };
    let first_status = p.history.first().and_then(|h| h.old).unwrap_or(p.status_id);
    let mut entries = vec![(0u32, None, first_status, p.user_id, p.created_at)];
    entries.extend(
        p.history
            .iter()
            .map(|h| (h.id + 1_000_000, h.old, h.new, h.user_id, h.at)),
    );
    let count = entries.len();
    let results: Map<String, Value> = entries
        .into_iter()
        .rev()
        .map(|(hid, old, new, user, at)| {
            // The creation entry gets an id derived from the project.
            let hid = if hid == 0 { p.id } else { hid };
            (
                hid.to_string(),
                json!({
                    "Id": hid.to_string(),
                    "ProjectId": p.id.to_string(),
                    "Type": "StatusHistory",
                    "UserId": user.to_string(),
                    "ClosedAt": format_local(at),
                    "Status_Old_Id": old.map(|o| o.to_string()).unwrap_or_default(),
                    "Status_New_Id": new.to_string(),
                    "Status_Old_Name": name(old),
                    "Status_New_Name": name(Some(new)),
                }),
            )
        })
        .collect();
    Ok(ok_json(
        &json!({ "Count": count.to_string(), "Results": results }),
    ))
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn contact_search(d: &MinicrmData, q: &Query) -> Result<Response, Response> {
    const W: &str = "Contact";
    let page = page_of(q, W)?;
    let mut email = None;
    let mut name = None;
    let mut phone = None;
    let mut query = None;
    let mut since = None;
    let mut main = None;
    for (k, v) in q {
        if v.trim().is_empty() {
            continue;
        }
        match k.as_str() {
            "Page" => {}
            "Email" => email = Some(email_key(v)),
            "Name" => name = Some(v.trim().to_lowercase()),
            "Phone" => phone = Some(digits(v)),
            "Query" => query = Some(fold(v.trim())),
            "UpdatedSince" => since = Some(parse_when(v, W, k)?),
            "MainContactId" => main = Some(parse_u32(v, W, k)?),
            _ => return Err(bad(format!("Contact (GET): Unknown field '{k}'."))),
        }
    }
    let candidates: Box<dyn Iterator<Item = &Contact>> = match &email {
        Some(e) => Box::new(
            d.email_index
                .get(e)
                .into_iter()
                .flatten()
                .filter_map(|&id| d.contact(id)),
        ),
        None => Box::new(d.contacts.iter()),
    };
    let mut ids: Vec<&Contact> = candidates
        .filter(|c| {
            name.as_ref()
                .is_none_or(|n| c.display_name().to_lowercase().contains(n.as_str()))
        })
        .filter(|c| {
            phone
                .as_ref()
                .is_none_or(|p| !p.is_empty() && digits(&c.phone).ends_with(p.as_str()))
        })
        .filter(|c| {
            query.as_ref().is_none_or(|qq| {
                [&c.display_name(), &c.email, &c.phone, &c.description]
                    .iter()
                    .any(|s| fold(s).contains(qq.as_str()))
            })
        })
        .filter(|c| since.is_none_or(|t| c.updated_at / 1000 >= t / 1000))
        .filter(|c| main.is_none_or(|m| c.id == m || c.business_id == Some(m)))
        .collect();
    ids.sort_by_key(|c| c.id);
    let count = ids.len();
    let results = ids
        .into_iter()
        .skip(page.saturating_mul(PAGE_SIZE))
        .take(PAGE_SIZE)
        .map(|c| (c.id, d.contact_summary(c)))
        .collect();
    Ok(ok_json(&keyed_page(count, results)))
}

fn address_list(d: &MinicrmData, id: &str, q: &Query) -> Result<Response, Response> {
    let id = parse_id(id, "AddressList")?;
    let c = d
        .contact(id)
        .ok_or_else(|| not_found(format!("Contact not found: {id}")))?;
    let structured = q.iter().any(|(k, v)| k == "Structured" && v.trim() == "1");
    let results: Vec<(u32, Value)> = c
        .addresses
        .iter()
        .filter_map(|&a| d.address(a))
        .map(|a| {
            let line = MinicrmData::address_line(a);
            let v = if structured {
                json!({ "Id": a.id, "Address": line, "Url": format!("{}Address/{}", super::PUBLIC_BASE, a.id) })
            } else {
                json!(line)
            };
            (a.id, v)
        })
        .collect();
    Ok(ok_json(&keyed_page(results.len(), results)))
}

// ---- PUT: validation and writes ----

fn body_object(body: &[u8], what: &str) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad(format!(
            "{what} (PUT): The request body must be a JSON object."
        ))),
        Err(_) => Err(bad(format!("{what} (PUT): Invalid JSON in request body."))),
    }
}

/// A scalar as text (numbers and booleans too, as PHP coerces them).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn invalid(what: &str, value: &Value, label: &str) -> Response {
    let shown = scalar(value).unwrap_or_else(|| value.to_string());
    bad(format!(
        "{what} (PUT): Invalid value '{shown}' for the {label} field."
    ))
}

fn check_text(what: &str, label: &str, v: &Value, max: usize) -> Result<String, Response> {
    let s = scalar(v).ok_or_else(|| invalid(what, v, label))?;
    if s.chars().count() > max {
        return Err(bad(format!(
            "{what} (PUT): The value of the {label} field is too long (max. {max} characters)."
        )));
    }
    Ok(s)
}

fn check_int(what: &str, label: &str, v: &Value) -> Result<i64, Response> {
    scalar(v)
        .and_then(|s| s.trim().parse::<i64>().ok())
        .ok_or_else(|| invalid(what, v, label))
}

fn check_bool(what: &str, label: &str, v: &Value) -> Result<bool, Response> {
    match scalar(v).as_deref().map(str::trim) {
        Some("1") | Some("true") => Ok(true),
        Some("0") | Some("false") | Some("") => Ok(false),
        _ => Err(invalid(what, v, label)),
    }
}

fn parse_path_id(id: Option<&str>, what: &str) -> Result<Option<u32>, Response> {
    id.map(|s| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| bad(format!("{what} (PUT): Invalid id '{s}'.")))
    })
    .transpose()
}

/// The record a PUT changes: the URL's id, else an `Id` in the body (the manual's examples send
/// `{"Id": …}` to the collection URL to update), else none (create).
fn target_id(
    path: Option<u32>,
    obj: &Map<String, Value>,
    what: &str,
) -> Result<Option<u32>, Response> {
    match (path, obj.get("Id")) {
        (Some(id), _) => Ok(Some(id)),
        (None, None) | (None, Some(Value::Null)) => Ok(None),
        (None, Some(v)) => u32::try_from(check_int(what, "Id", v)?)
            .map(Some)
            .map_err(|_| invalid(what, v, "Id")),
    }
}

fn put_contact(sim: &MinicrmSim, id: Option<&str>, body: &[u8]) -> Result<u32, Response> {
    const W: &str = "Contact";
    let obj = body_object(body, W)?;
    let id = target_id(parse_path_id(id, W)?, &obj, W)?;
    let mut d = sim.write();
    let existing = match id {
        Some(id) => Some(
            d.contact(id)
                .ok_or_else(|| not_found(format!("Contact not found: {id}")))?
                .kind,
        ),
        None => None,
    };
    let kind = match (obj.get("Type"), existing) {
        (None, Some(k)) => k,
        (None, None) => return Err(bad("Contact (PUT): The Type field is required.")),
        (Some(v), _) => {
            let k = match scalar(v).as_deref().map(str::trim) {
                Some("Person") => ContactType::Person,
                Some("Business") => ContactType::Business,
                _ => return Err(invalid(W, v, "Type")),
            };
            if existing.is_some_and(|e| e != k) {
                return Err(bad(
                    "Contact (PUT): The Type of an existing contact cannot be changed.",
                ));
            }
            k
        }
    };
    let fields = match kind {
        ContactType::Person => PERSON_FIELDS,
        ContactType::Business => BUSINESS_FIELDS,
    };
    for (k, v) in &obj {
        let Some((_, ty)) = fields.iter().find(|(n, _)| n == k) else {
            return Err(bad(format!(
                "Contact (PUT): Unknown field '{k}' for a {}.",
                kind.name()
            )));
        };
        match ty {
            FieldType::Text(max) => {
                check_text(W, k, v, *max)?;
            }
            FieldType::Int if k == "BusinessId" && v.is_null() => {}
            FieldType::Int => {
                check_int(W, k, v)?;
            }
            FieldType::Boolean => {
                check_bool(W, k, v)?;
            }
            _ => {}
        }
    }
    if let (Some(v), Some(id)) = (obj.get("Id"), id) {
        if check_int(W, "Id", v)? != i64::from(id) {
            return Err(bad(
                "Contact (PUT): The Id in the body does not match the URL.",
            ));
        }
    }
    let business_id = match obj.get("BusinessId") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => {
            let b = u32::try_from(check_int(W, "BusinessId", v)?)
                .map_err(|_| invalid(W, v, "BusinessId"))?;
            match d.contact(b) {
                Some(c) if c.kind == ContactType::Business => Some(Some(b)),
                _ => return Err(invalid(W, v, "BusinessId")),
            }
        }
    };
    let get = |k: &str| obj.get(k).and_then(scalar);
    if id.is_none() {
        match kind {
            ContactType::Business if get("Name").is_none_or(|n| n.trim().is_empty()) => {
                return Err(bad("Contact (PUT): The Name field is required."));
            }
            ContactType::Person
                if get("FirstName").is_none_or(|n| n.trim().is_empty())
                    && get("LastName").is_none_or(|n| n.trim().is_empty()) =>
            {
                return Err(bad(
                    "Contact (PUT): The FirstName or LastName field is required.",
                ));
            }
            _ => {}
        }
    }
    let stamp = d.change_stamp();
    let id = match id {
        Some(id) => id,
        None => {
            let new_id = super::generator::FIRST_CONTACT_ID + d.contacts.len() as u32;
            d.contacts.push(Contact {
                id: new_id,
                kind,
                name: String::new(),
                first_name: String::new(),
                last_name: String::new(),
                email: String::new(),
                phone: String::new(),
                description: String::new(),
                business_id: None,
                vat_number: String::new(),
                position: String::new(),
                deleted: false,
                created_by: API_USER,
                created_at: stamp,
                updated_by: API_USER,
                updated_at: stamp,
                addresses: Vec::new(),
            });
            d.email_index.entry(String::new()).or_default().push(new_id);
            new_id
        }
    };
    let old_email = d.contact(id).map(|c| c.email.clone()).unwrap_or_default();
    let Some(c) = d.contact_mut(id) else {
        return Err(not_found(format!("Contact not found: {id}")));
    };
    if let Some(v) = get("Name") {
        c.name = v;
    }
    if let Some(v) = get("FirstName") {
        c.first_name = v;
    }
    if let Some(v) = get("LastName") {
        c.last_name = v;
    }
    if let Some(v) = get("Email") {
        c.email = v;
    }
    if let Some(v) = get("Phone") {
        c.phone = v;
    }
    if let Some(v) = get("Description") {
        c.description = v;
    }
    if let Some(v) = get("Position") {
        c.position = v;
    }
    if let Some(v) = get("VatNumber") {
        c.vat_number = v;
    }
    if let Some(v) = get("Deleted") {
        c.deleted = v.trim() == "1" || v.trim() == "true";
    }
    if let Some(b) = business_id {
        c.business_id = b;
    }
    c.updated_at = stamp;
    c.updated_by = API_USER;
    let new_email = c.email.clone();
    if new_email != old_email || obj.contains_key("Email") {
        d.reindex_email(id, &old_email, &new_email);
    }
    Ok(id)
}

fn put_address(sim: &MinicrmSim, id: Option<&str>, body: &[u8]) -> Result<u32, Response> {
    const W: &str = "Address";
    let obj = body_object(body, W)?;
    let id = target_id(parse_path_id(id, W)?, &obj, W)?;
    let mut d = sim.write();
    if let Some(id) = id {
        d.address(id)
            .ok_or_else(|| not_found(format!("Address not found: {id}")))?;
    }
    const TEXT: &[(&str, usize)] = &[
        ("Type", 255),
        ("Name", 255),
        ("CountryId", 255),
        ("PostalCode", 32),
        ("City", 255),
        ("County", 255),
        ("Address", 1024),
    ];
    for (k, v) in &obj {
        match k.as_str() {
            "Id" => {
                check_int(W, k, v)?;
            }
            "ContactId" => {
                check_int(W, k, v)?;
            }
            "Default" => {
                check_bool(W, k, v)?;
            }
            other => match TEXT.iter().find(|(n, _)| *n == other) {
                Some((_, max)) => {
                    check_text(W, k, v, *max)?;
                }
                None => return Err(bad(format!("Address (PUT): Unknown field '{k}'."))),
            },
        }
    }
    let contact_id = match obj.get("ContactId") {
        Some(v) => {
            let c = u32::try_from(check_int(W, "ContactId", v)?)
                .map_err(|_| invalid(W, v, "ContactId"))?;
            d.contact(c).ok_or_else(|| invalid(W, v, "ContactId"))?;
            Some(c)
        }
        None if id.is_none() => return Err(bad("Address (PUT): The ContactId field is required.")),
        None => None,
    };
    let get = |k: &str| obj.get(k).and_then(scalar);
    if id.is_none() && get("Name").is_none_or(|n| n.trim().is_empty()) {
        return Err(bad("Address (PUT): The Name field is required."));
    }
    if let (Some(id), Some(c)) = (id, contact_id) {
        if d.address(id).is_some_and(|a| a.contact_id != c) {
            return Err(bad(
                "Address (PUT): An address cannot be moved to another contact.",
            ));
        }
    }
    let stamp = d.change_stamp();
    let id = match id {
        Some(id) => id,
        None => {
            let new_id = super::generator::FIRST_ADDRESS_ID + d.addresses.len() as u32;
            let c = contact_id.unwrap_or_default();
            let first = d.contact(c).is_some_and(|c| c.addresses.is_empty());
            d.addresses.push(Address {
                id: new_id,
                contact_id: c,
                kind: String::new(),
                name: String::new(),
                country: String::new(),
                postal_code: String::new(),
                city: String::new(),
                county: String::new(),
                address: String::new(),
                default: first,
                created_by: API_USER,
                created_at: stamp,
                updated_by: API_USER,
                updated_at: stamp,
            });
            if let Some(c) = d.contact_mut(c) {
                c.addresses.push(new_id);
            }
            new_id
        }
    };
    let make_default = obj
        .get("Default")
        .map(|v| check_bool(W, "Default", v))
        .transpose()?;
    let Some(a) = d.address_mut(id) else {
        return Err(not_found(format!("Address not found: {id}")));
    };
    for (k, field) in [
        ("Type", &mut a.kind),
        ("Name", &mut a.name),
        ("CountryId", &mut a.country),
        ("PostalCode", &mut a.postal_code),
        ("City", &mut a.city),
        ("County", &mut a.county),
        ("Address", &mut a.address),
    ] {
        if let Some(v) = obj.get(k).and_then(scalar) {
            *field = v;
        }
    }
    a.updated_at = stamp;
    a.updated_by = API_USER;
    let owner = a.contact_id;
    if let Some(def) = make_default {
        a.default = def;
        if def {
            // One default address per contact.
            let others: Vec<u32> = d
                .contact(owner)
                .map(|c| c.addresses.clone())
                .unwrap_or_default();
            for o in others.into_iter().filter(|&o| o != id) {
                if let Some(x) = d.address_mut(o) {
                    x.default = false;
                }
            }
        }
    }
    Ok(id)
}

fn field_value(f: &Field, v: &Value) -> Result<Option<FieldValue>, Response> {
    const W: &str = "Project";
    if v.is_null() || v.as_str().is_some_and(|s| s.is_empty()) {
        return Ok(None);
    }
    Ok(Some(match &f.ty {
        FieldType::Text(max) => FieldValue::Text(check_text(W, f.label, v, *max)?.into()),
        FieldType::Int => FieldValue::Int(check_int(W, f.label, v)?),
        FieldType::Float => FieldValue::Float(
            scalar(v)
                .and_then(|s| s.trim().replace(',', ".").parse::<f64>().ok())
                .filter(|x| x.is_finite())
                .ok_or_else(|| invalid(W, v, f.label))?,
        ),
        FieldType::DateTime => FieldValue::DateTime(
            scalar(v)
                .and_then(|s| parse_local(&s))
                .ok_or_else(|| invalid(W, v, f.label))?,
        ),
        FieldType::Boolean => FieldValue::Bool(check_bool(W, f.label, v)?),
        FieldType::Enum(opts) => {
            let s = scalar(v).ok_or_else(|| invalid(W, v, f.label))?;
            let s = s.trim();
            let id = opts
                .iter()
                .find(|(i, l)| i.to_string() == s || l.to_lowercase() == s.to_lowercase())
                .map(|(i, _)| *i)
                .ok_or_else(|| invalid(W, v, f.label))?;
            FieldValue::Enum(id)
        }
    }))
}

fn put_project(sim: &MinicrmSim, id: Option<&str>, body: &[u8]) -> Result<u32, Response> {
    const W: &str = "Project";
    let obj = body_object(body, W)?;
    let id = target_id(parse_path_id(id, W)?, &obj, W)?;
    let mut d = sim.write();
    let existing = match id {
        Some(id) => {
            let p = d.project(id).ok_or_else(|| project_missing(id))?;
            Some(visible(&d, p)?.category_id)
        }
        None => None,
    };
    let category = match (obj.get("CategoryId"), existing) {
        (None, Some(c)) => c,
        (None, None) => return Err(bad("Project (PUT): The CategoryId field is required.")),
        (Some(v), _) => {
            let c = u32::try_from(check_int(W, "CategoryId", v)?)
                .map_err(|_| invalid(W, v, "CategoryId"))?;
            if d.module(c).is_none() {
                return Err(category_missing(&c.to_string()));
            }
            if existing.is_some_and(|e| e != c) {
                return Err(bad(
                    "Project (PUT): A project cannot be moved to another module.",
                ));
            }
            c
        }
    };
    let Some(module) = d.module(category).cloned() else {
        return Err(category_missing(&category.to_string()));
    };
    const BASE: &[&str] = &[
        "Id",
        "CategoryId",
        "ContactId",
        "BusinessId",
        "StatusId",
        "UserId",
        "Name",
        "Deleted",
    ];
    let mut values: Vec<(usize, Option<FieldValue>)> = Vec::new();
    for (k, v) in &obj {
        if BASE.contains(&k.as_str()) {
            continue;
        }
        let i = module
            .field_index(k)
            .ok_or_else(|| bad(format!("Project (PUT): Unknown field '{k}'.")))?;
        values.push((i, field_value(&module.fields[i], v)?));
    }
    if let (Some(v), Some(id)) = (obj.get("Id"), id) {
        if check_int(W, "Id", v)? != i64::from(id) {
            return Err(bad(
                "Project (PUT): The Id in the body does not match the URL.",
            ));
        }
    }
    let contact = match obj.get("ContactId") {
        Some(v) => {
            let c = u32::try_from(check_int(W, "ContactId", v)?)
                .map_err(|_| invalid(W, v, "ContactId"))?;
            Some(
                d.contact(c)
                    .ok_or_else(|| invalid(W, v, "ContactId"))?
                    .clone(),
            )
        }
        None if id.is_none() => return Err(bad("Project (PUT): The ContactId field is required.")),
        None => None,
    };
    let business = match obj.get("BusinessId") {
        Some(Value::Null) | None => None,
        Some(v) => {
            let b = u32::try_from(check_int(W, "BusinessId", v)?)
                .map_err(|_| invalid(W, v, "BusinessId"))?;
            match d.contact(b) {
                Some(c) if c.kind == ContactType::Business => Some(b),
                _ => return Err(invalid(W, v, "BusinessId")),
            }
        }
    };
    let status = match obj.get("StatusId") {
        Some(v) => {
            let s = scalar(v).ok_or_else(|| invalid(W, v, "Status"))?;
            Some(module.status(&s).ok_or_else(|| invalid(W, v, "Status"))?.id)
        }
        None if id.is_none() => return Err(bad("Project (PUT): The StatusId field is required.")),
        None => None,
    };
    // An unknown responsible is replaced by a user of the module, not refused (the reference
    // documents this).
    let user = obj.get("UserId").map(|v| {
        let s = scalar(v).unwrap_or_default();
        USERS
            .iter()
            .find(|u| u.id.to_string() == s.trim() || u.name == s)
            .unwrap_or(&USERS[0])
            .id
    });
    let deleted = obj
        .get("Deleted")
        .map(|v| check_bool(W, "Deleted", v))
        .transpose()?;
    let name = obj
        .get("Name")
        .map(|v| check_text(W, "Name", v, 512))
        .transpose()?;
    if id.is_none() {
        for (i, f) in module.fields.iter().enumerate() {
            if f.required && !values.iter().any(|(j, v)| *j == i && v.is_some()) {
                return Err(bad(format!(
                    "Project (PUT): The {} field is required.",
                    f.label
                )));
            }
        }
    } else {
        for (i, v) in &values {
            if module.fields[*i].required && v.is_none() {
                return Err(bad(format!(
                    "Project (PUT): The {} field is required.",
                    module.fields[*i].label
                )));
            }
        }
    }
    let stamp = d.change_stamp();
    let id = match id {
        Some(id) => id,
        None => {
            let c = contact
                .as_ref()
                .map(|c| (c.id, c.kind, c.business_id, c.display_name()));
            let (cid, kind, cbiz, cname) =
                c.unwrap_or((0, ContactType::Person, None, String::new()));
            let new_id = super::generator::FIRST_PROJECT_ID + d.projects.len() as u32;
            d.projects.push(Project {
                id: new_id,
                category_id: category,
                contact_id: cid,
                business_id: if kind == ContactType::Business {
                    Some(cid)
                } else {
                    cbiz
                },
                user_id: USERS[0].id,
                status_id: status.unwrap_or(module.statuses[0].id),
                name: cname,
                status_updated_at: stamp,
                deleted: false,
                created_by: API_USER,
                created_at: stamp,
                updated_by: API_USER,
                updated_at: stamp,
                fields: vec![None; module.fields.len()],
                history: Vec::new(),
            });
            new_id
        }
    };
    let hid = d.next_history_id;
    let Some(p) = d.project_mut(id) else {
        return Err(project_missing(id));
    };
    let mut used_history = false;
    if let Some(s) = status {
        if s != p.status_id {
            p.history.push(StatusChange {
                id: hid,
                old: Some(p.status_id),
                new: s,
                user_id: 0,
                at: stamp,
            });
            used_history = true;
            p.status_id = s;
            p.status_updated_at = stamp;
        }
    }
    if let Some(c) = &contact {
        p.contact_id = c.id;
        p.business_id = if c.kind == ContactType::Business {
            Some(c.id)
        } else {
            c.business_id
        };
    }
    if let Some(b) = business {
        p.business_id = Some(b);
    }
    if let Some(u) = user {
        p.user_id = u;
    }
    if let Some(n) = name {
        p.name = n;
    }
    if let Some(x) = deleted {
        p.deleted = x;
    }
    for (i, v) in values {
        p.fields[i] = v;
    }
    p.updated_at = stamp;
    p.updated_by = API_USER;
    if used_history {
        d.next_history_id += 1;
    }
    Ok(id)
}

// ---- control API ----

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ResetBody {
    seed: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModulesBody {
    modules: Vec<ModuleKind>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateBody {
    limit: Option<RateLimit>,
}

fn control_error(status: StatusCode, t: impl std::fmt::Display) -> Response {
    (status, axum::Json(json!({ "error": t.to_string() }))).into_response()
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

fn status_json(sim: &MinicrmSim) -> Value {
    let core = sim.core();
    let d = sim.read();
    let modules: Vec<Value> = d
        .modules
        .iter()
        .filter(|m| d.enabled.contains(&m.id))
        .map(|m| {
            json!({
                "CategoryId": m.id,
                "Name": m.name,
                "Kind": m.kind,
                "Statuses": m.statuses.iter().map(|s| json!({"Id": s.id, "Name": s.name, "Group": s.group.name()})).collect::<Vec<_>>(),
            })
        })
        .collect();
    drop(d);
    json!({
        "system": "minicrm",
        "seed": sim.seed(),
        "system_id": sim.credentials().0,
        "modules": modules,
        "counts": sim.counts(),
        "rate_limit": sim.rate_limit(),
        "requests": core.requests_seen(),
        "max_concurrency": core.max_concurrency(),
        "faults": core.faults(),
        "fault_stats": core.fault_stats(),
    })
}

fn control(sim: &MinicrmSim, method: &Method, path: &[&str], query: &str, body: &[u8]) -> Response {
    let lower: Vec<String> = path.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let result: Result<Response, Response> = (|| match (method.as_str(), l.as_slice()) {
        ("GET", []) | ("GET", ["minicrm"]) => Ok(ok_json(&status_json(sim))),
        ("GET", ["minicrm", "requests"]) => Ok(ok_json(&json!(sim.core().requests_seen()))),
        ("GET", ["minicrm", "faults"]) => Ok(ok_json(&json!(sim.core().faults()))),
        ("PUT", ["minicrm", "faults"]) => {
            let faults: FaultConfig = parse_body(body)?;
            sim.set_faults(faults)
                .map_err(|e| control_error(StatusCode::BAD_REQUEST, e))?;
            Ok(ok_json(&json!(sim.core().faults())))
        }
        ("GET", ["minicrm", "pushes"]) => {
            let q = parse_query(query);
            let pushes = match q.iter().find(|(k, _)| k.eq_ignore_ascii_case("resource")) {
                Some((_, r)) => sim.pushes_to(r),
                None => sim.pushes(),
            };
            Ok(ok_json(&json!(pushes)))
        }
        ("POST", ["minicrm", "projects", id, "status"]) => {
            let id: u32 = id
                .parse()
                .map_err(|_| control_error(StatusCode::BAD_REQUEST, "project id"))?;
            let b: StatusBody = parse_required(body)?;
            let status = scalar(&b.status).unwrap_or_default();
            sim.set_project_status(id, &status)
                .map_err(|e| control_error(StatusCode::NOT_FOUND, e))?;
            Ok(ok_json(&sim.project_json(id).unwrap_or(Value::Null)))
        }
        ("PUT", ["minicrm", "modules"]) => {
            let b: ModulesBody = parse_required(body)?;
            sim.set_modules(&b.modules);
            Ok(ok_json(&status_json(sim)))
        }
        ("PUT", ["minicrm", "rate-limit"]) => {
            let b: RateBody = parse_required(body)?;
            if b.limit
                .is_some_and(|r| r.requests == 0 || r.window_secs == 0)
            {
                return Err(control_error(
                    StatusCode::BAD_REQUEST,
                    "requests and window_secs must be > 0",
                ));
            }
            sim.set_rate_limit(b.limit);
            Ok(ok_json(&json!({ "limit": b.limit })))
        }
        ("POST", ["minicrm", "reset"]) => {
            let r: ResetBody = parse_body(body)?;
            sim.reset(r.seed);
            Ok(ok_json(&status_json(sim)))
        }
        _ => Err(control_error(
            StatusCode::NOT_FOUND,
            "no such control endpoint",
        )),
    })();
    result.unwrap_or_else(|r| r)
}
