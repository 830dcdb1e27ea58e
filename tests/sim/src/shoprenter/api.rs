//! HTTP face of the Shoprenter simulator: the shop API at the root and the control API under
//! `/_control/shoprenter`.

// Error answers are returned early as ready responses; their size is irrelevant on this path.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::model::{id_number, Kind};
use super::{inner_of, BatchFaults, ShoprenterSim, WriteError};
use crate::clock::parse_timestamp;
use crate::core::{PreFault, Simulator};
use crate::request::{parse_query, percent_decode};
use crate::FaultConfig;

const MAX_LIMIT: usize = 200;
const DEFAULT_LIMIT: usize = 10;
const MAX_BATCH: usize = 200;

pub(super) fn router(sim: Arc<ShoprenterSim>) -> Router {
    Router::new().fallback(dispatch).with_state(sim)
}

/// The representation the client asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

fn negotiate(headers: &HeaderMap) -> Option<Format> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Format::Xml);
    };
    let a = accept.to_ascii_lowercase();
    if a.contains("application/json") {
        Some(Format::Json)
    } else if a.trim().is_empty() || a.contains("xml") || a.contains("*/*") {
        Some(Format::Xml)
    } else {
        None
    }
}

fn xml_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

fn xml_element(name: &str, v: &Value, out: &mut String) {
    // Element names must not start with a digit or hold odd characters.
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = if name.chars().next().is_none_or(|c| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    };
    match v {
        Value::Null => {
            out.push_str(&format!("<{name}/>"));
        }
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, x) in m {
                xml_element(k, x, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Array(a) => {
            out.push_str(&format!("<{name}>"));
            for x in a {
                xml_element("item", x, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => {
            out.push_str(&format!("<{name}>"));
            xml_escape(s, out);
            out.push_str(&format!("</{name}>"));
        }
        other => {
            out.push_str(&format!("<{name}>{other}</{name}>"));
        }
    }
}

/// The same data as XML: `<response>` with one element per field, list entries as `<item>`.
pub fn to_xml(v: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml_element("response", v, &mut out);
    out
}

fn render(status: u16, body: Option<&Value>, format: Format) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let Some(body) = body else {
        return status.into_response();
    };
    match format {
        Format::Json => (status, axum::Json(body)).into_response(),
        Format::Xml => (
            status,
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            to_xml(body),
        )
            .into_response(),
    }
}

/// Shoprenter's error body: the HTTP status, an inner code and a message.
fn error_body(inner: u32, message: &str) -> Value {
    json!({ "error": inner, "message": message })
}

fn error(status: u16, inner: u32, message: &str) -> (u16, Option<Value>) {
    (status, Some(error_body(inner, message)))
}

fn write_error(e: WriteError) -> (u16, Option<Value>) {
    match e {
        WriteError::NoData => error(400, 40001, "Data parameter not found in POST/PUT!"),
        WriteError::Readonly(f) => error(
            400,
            40002,
            &format!("The following fields are readonly: {}!", f.join(", ")),
        ),
        WriteError::Required(f) => error(
            400,
            40003,
            &format!("The following fields are required: {}!", f.join(", ")),
        ),
        WriteError::Wrong(m) => error(400, 40005, &m),
        WriteError::BadReference(m) => error(400, 40006, &m),
        WriteError::NotFound => error(404, 40401, "Not Found"),
    }
}

fn credential(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

async fn dispatch(
    State(sim): State<Arc<ShoprenterSim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.first() == Some(&"_control") {
        return control(&sim, &method, &segments[1..], &body);
    }
    let Some(format) = negotiate(&headers) else {
        return (
            StatusCode::NOT_ACCEPTABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Not Acceptable: the API answers application/json (Accept: application/json) or XML.",
        )
            .into_response();
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}");
    let key = endpoint_key(&method, &segments);
    let core = sim.core();
    let admission = core.admit(&key).await;
    match admission.pre {
        PreFault::Timeout => {
            core.hang().await;
            return render(503, Some(&error_body(50301, "Service Unavailable")), format);
        }
        PreFault::Throttle { retry_after_secs } => {
            let mut r = render(429, Some(&error_body(42901, "Too Many Requests")), format);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
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
            return render(
                500,
                Some(&error_body(50001, "Internal Server Error")),
                format,
            );
        }
        PreFault::None => {}
    }
    let given = credential(&headers);
    let user = given.as_ref().map(|(u, _)| u.as_str()).unwrap_or("");
    if !sim.admit_rate(user) {
        // No Retry-After: the real limit's answer is not documented to carry one.
        return render(429, Some(&error_body(42901, "Too Many Requests")), format);
    }
    let c = sim.config();
    if !given.is_some_and(|(u, p)| u == c.user && p == c.api_key) {
        let mut r = render(401, Some(&error_body(40101, "Unauthorized")), format);
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Shoprenter API\""),
        );
        return r;
    }
    let (status, value) = if segments == ["batch"] {
        if method == Method::POST {
            batch(&sim, &body, &base)
        } else {
            error(405, 40501, "Method Not Allowed")
        }
    } else {
        let parsed = parse_body(&method, &headers, &body);
        match parsed {
            Ok(b) => handle(
                &sim,
                &method,
                &segments,
                uri.query().unwrap_or(""),
                b.as_ref(),
                &base,
            ),
            Err(e) => e,
        }
    };
    let response = render(status, value.as_ref(), format);
    core.shape_body(response, admission.body).await
}

fn endpoint_key(method: &Method, segments: &[&str]) -> String {
    match segments {
        [] => format!("{method} /"),
        [k] => format!("{method} /{k}"),
        [k, ..] => format!("{method} /{k}/{{id}}"),
    }
}

type Answer = (u16, Option<Value>);

fn parse_body(method: &Method, headers: &HeaderMap, body: &[u8]) -> Result<Option<Value>, Answer> {
    if *method != Method::POST && *method != Method::PUT {
        return Ok(None);
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !ct.contains("json") || body.iter().all(u8::is_ascii_whitespace) {
        return Err(error(400, 40001, "Data parameter not found in POST/PUT!"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(Some(v)),
        _ => Err(error(
            400,
            40005,
            "The given data is empty or not in PHP array format.",
        )),
    }
}

/// One API call (also a batch sub-request).
fn handle(
    sim: &ShoprenterSim,
    method: &Method,
    segments: &[&str],
    raw_query: &str,
    body: Option<&Value>,
    base: &str,
) -> Answer {
    let not_found = || error(404, 40401, "Not Found");
    let Some(kind) = segments.first().and_then(|s| Kind::from_path(s)) else {
        return not_found();
    };
    let schema = kind.schema();
    let id = match segments {
        [_] => None,
        [_, id] => Some(percent_decode(id)),
        _ => return not_found(),
    };
    let allowed = match (method.as_str(), &id) {
        ("GET", None) => "getCollection",
        ("GET", Some(_)) => "get",
        ("POST", _) => "post",
        ("PUT", Some(_)) => "put",
        ("DELETE", Some(_)) => "delete",
        _ => "",
    };
    if !schema.allows(allowed)
        || (kind == super::model::Kind::ProductCategoryRelation
            && allowed == "post"
            && id.is_some())
    {
        return error(405, 40501, "Method Not Allowed");
    }
    let empty = Map::new();
    let fields = body.and_then(Value::as_object).unwrap_or(&empty);
    let offset = sim.offset();
    match (allowed, id) {
        ("getCollection", _) => list(sim, kind, raw_query, base),
        ("get", Some(id)) => {
            let d = sim.read();
            match d.table(kind).find(kind, &id) {
                Some(pos) => (200, Some(d.record(kind, pos, base))),
                None => not_found(),
            }
        }
        ("post", None) => {
            let mut d = sim.write();
            match d.create(kind, fields, offset) {
                Ok(pos) => (201, Some(d.record(kind, pos, base))),
                Err(e) => write_error(e),
            }
        }
        ("post", Some(id)) | ("put", Some(id)) => {
            let mut d = sim.write();
            match d.update(kind, &id, fields, offset) {
                Ok(pos) => (200, Some(d.record(kind, pos, base))),
                Err(e) => write_error(e),
            }
        }
        ("delete", Some(id)) => match sim.write().delete(kind, &id) {
            Ok(()) => (204, None),
            Err(e) => write_error(e),
        },
        _ => not_found(),
    }
}

fn bad_param(name: &str) -> Answer {
    error(
        400,
        40005,
        &format!("The {name} parameter has wrong data. The data is not int."),
    )
}

/// Normalises an e-mail as a MySQL `=` on a case-insensitive collation compares it:
/// case ignored, trailing spaces ignored (leading ones count).
fn email_key(s: &str) -> String {
    s.trim_end().to_lowercase()
}

fn list(sim: &ShoprenterSim, kind: Kind, raw_query: &str, base: &str) -> Answer {
    let q = parse_query(raw_query);
    let page = match q.get("page") {
        Some(p) => match p.trim().parse::<usize>() {
            Ok(p) => p,
            Err(_) => return bad_param("page"),
        },
        None => 0,
    };
    let limit = match q.get("limit") {
        Some(l) => match l.trim().parse::<usize>() {
            Ok(l) if (1..=MAX_LIMIT).contains(&l) => l,
            _ => {
                return error(
                    400,
                    40005,
                    &format!("The limit must be integer 1 between {MAX_LIMIT}."),
                )
            }
        },
        None => DEFAULT_LIMIT,
    };
    let full = q.get("full").is_some_and(|f| f.trim() == "1");
    let schema = kind.schema();
    let allowed: Vec<String> = schema.filters.iter().map(|f| f.to_lowercase()).collect();
    let get = |name: &str| {
        allowed
            .iter()
            .any(|a| a == name)
            .then(|| q.get(name))
            .flatten()
            .map(|s| s.trim().to_owned())
    };
    // Dates are shop-local and zoneless; a zone given by the client is ignored like the
    // real API does with any other text after the time.
    let time = |name: &str| -> Result<Option<i64>, Answer> {
        match get(name) {
            None => Ok(None),
            Some(t) => {
                let t = t.get(..19).unwrap_or(&t).to_owned();
                parse_timestamp(&t).map(Some).ok_or_else(|| {
                    error(
                        400,
                        40005,
                        &format!(
                            "The {name} parameter has wrong data. Format: 2013-01-01T10:30:00"
                        ),
                    )
                })
            }
        }
    };
    let day = |name: &str| -> Result<Option<i64>, Answer> {
        match get(name) {
            None => Ok(None),
            Some(t) => parse_timestamp(t.get(..10).unwrap_or(&t))
                .map(Some)
                .ok_or_else(|| {
                    error(
                        400,
                        40005,
                        &format!("The {name} parameter has wrong data. Format: 2013-01-01"),
                    )
                }),
        }
    };
    let num = |name: &str| -> Result<Option<u32>, Answer> {
        match get(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| bad_param(name)),
        }
    };
    let resource = |name: &str, of: Kind| -> Option<Option<u32>> {
        get(name).map(|v| inner_of(of, &v).or_else(|| id_number(&v)))
    };
    let r = (|| -> Result<_, Answer> {
        Ok((
            num("innerid")?,
            num("inneridmin")?,
            time("createdatmin")?,
            time("createdatmax")?,
            time("updatedatmin")?,
            time("updatedatmax")?,
            day("createdat")?,
            day("updatedat")?,
            num("parentproductid")?,
        ))
    })();
    let (inner, inner_min, c_min, c_max, u_min, u_max, c_day, u_day, parent_product) = match r {
        Ok(v) => v,
        Err(e) => return e,
    };
    let email = get("email").map(|e| email_key(&e));
    let text_key = get("sku")
        .or_else(|| get("code"))
        .or_else(|| get("name"))
        .map(|s| s.to_lowercase());
    let status = resource("orderstatusid", Kind::OrderStatus);
    let order = resource("orderid", Kind::Order);
    let customer = resource("customerid", Kind::Customer);
    let product = resource("productid", Kind::Product);
    let category = resource("categoryid", Kind::Category);
    let language = get("languageid").map(|v| id_number(&v));
    let no_abandoned = get("excludeabandonedcart").is_some_and(|v| v == "1");
    let no_storno = get("excludestorno").is_some_and(|v| v == "1");
    const DAY: i64 = 86_400_000;

    let d = sim.read();
    let t = d.table(kind);
    let matches = |pos: usize| -> bool {
        let row = &t.rows[pos];
        if row.deleted {
            return false;
        }
        let id = pos as u32 + 1;
        let eq = |want: &Option<Option<u32>>, have: u32| match want {
            None => true,
            Some(w) => *w == Some(have),
        };
        inner.is_none_or(|n| n == id)
            && inner_min.is_none_or(|n| id >= n)
            && c_min.is_none_or(|m| row.created >= m)
            && c_max.is_none_or(|m| row.created <= m)
            && u_min.is_none_or(|m| row.updated >= m)
            && u_max.is_none_or(|m| row.updated <= m)
            && c_day.is_none_or(|m| row.created >= m && row.created < m + DAY)
            && u_day.is_none_or(|m| row.updated >= m && row.updated < m + DAY)
            && parent_product.is_none_or(|n| row.parent == n)
            && email
                .as_ref()
                .is_none_or(|e| row.key.as_deref().is_some_and(|k| email_key(k) == *e))
            && text_key.as_ref().is_none_or(|s| {
                row.key
                    .as_deref()
                    .is_some_and(|k| k.trim().to_lowercase() == *s)
            })
            && match kind {
                Kind::Order => eq(&status, row.aux),
                Kind::OrderStatusDescription => eq(&status, row.parent),
                _ => true,
            }
            && eq(&order, row.parent)
            && eq(&customer, row.parent)
            && eq(&product, row.parent)
            && match kind {
                Kind::ProductCategoryRelation => eq(&category, row.aux),
                _ => eq(&category, row.parent),
            }
            && match &language {
                None => true,
                Some(l) => *l == Some(row.aux),
            }
            && !(no_abandoned && row.aux == 0)
            && !(no_storno && row.storno)
    };
    let mut total = 0usize;
    let mut items = Vec::new();
    let skip = page.saturating_mul(limit);
    // A parent filter narrows the scan to that parent's rows (same ascending order).
    let parent_filter = match kind {
        Kind::OrderProduct | Kind::OrderTotal | Kind::OrderHistory => order,
        Kind::Address => customer,
        Kind::ProductDescription | Kind::ProductCategoryRelation => product,
        Kind::CategoryDescription => category,
        Kind::OrderStatusDescription => status,
        Kind::Product => parent_product.map(Some),
        _ => None,
    };
    let candidates: Box<dyn Iterator<Item = usize>> = match parent_filter {
        Some(Some(p)) => Box::new(t.children(p).iter().map(|&p| p as usize)),
        Some(None) => Box::new(std::iter::empty()),
        None => Box::new(0..t.rows.len()),
    };
    for pos in candidates {
        if !matches(pos) {
            continue;
        }
        if total >= skip && items.len() < limit {
            items.push(if full {
                d.record(kind, pos, base)
            } else {
                json!({ "href": format!("{base}/{}/{}", kind.path(), t.id_of(kind, pos)) })
            });
        }
        total += 1;
    }
    let pages = total.div_ceil(limit);
    let last = pages.saturating_sub(1);
    // Keep the client's other parameters in its order; page and limit go last.
    let others: Vec<&str> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let k = p.split('=').next().unwrap_or("").to_ascii_lowercase();
            k != "page" && k != "limit"
        })
        .collect();
    let href = |p: usize| {
        let mut qs = others.join("&");
        if !qs.is_empty() {
            qs.push('&');
        }
        json!({ "href": format!("{base}/{}?{qs}page={p}&limit={limit}", kind.path()) })
    };
    let mut m = Map::new();
    m.insert("href".into(), href(page)["href"].clone());
    m.insert("page".into(), json!(page.to_string()));
    m.insert("pageCount".into(), json!(pages.to_string()));
    m.insert("limit".into(), json!(limit.to_string()));
    m.insert("first".into(), href(0));
    m.insert(
        "previous".into(),
        if page > 0 && page <= last + 1 {
            href(page - 1)
        } else {
            Value::Null
        },
    );
    m.insert(
        "next".into(),
        if page < last {
            href(page + 1)
        } else {
            Value::Null
        },
    );
    m.insert("last".into(), href(last));
    m.insert("items".into(), Value::Array(items));
    (200, Some(Value::Object(m)))
}

fn status_text(code: u16) -> &'static str {
    StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// `POST /batch`: `{"data":{"requests":[{"method","uri","data"?}]}}` → always 200 with
/// `{"requests":{"request":[{"method","uri","response":{"header":{"statusCode",…},"body"}}]}}`.
fn batch(sim: &ShoprenterSim, body: &[u8], base: &str) -> Answer {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return error(400, 40001, "Data parameter not found in POST/PUT!");
    };
    let requests = v
        .pointer("/data/requests")
        .or_else(|| v.get("requests"))
        .and_then(Value::as_array);
    let Some(requests) = requests else {
        return error(
            400,
            40004,
            "The following query parameters are required: requests!",
        );
    };
    if requests.len() > MAX_BATCH {
        return error(
            400,
            40005,
            &format!("The requests parameter has wrong data. At most {MAX_BATCH} requests."),
        );
    }
    let mut out = Vec::with_capacity(requests.len());
    for r in requests {
        let method_text = r
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let uri = r
            .get("uri")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        // Absolute URIs name the shop host; only the path and query matter here.
        let rel = match uri.find("://") {
            Some(i) => uri[i + 3..]
                .find('/')
                .map(|j| &uri[i + 3 + j..])
                .unwrap_or("/"),
            None => uri.as_str(),
        };
        let (path, query) = rel.split_once('?').unwrap_or((rel, ""));
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (status, body) = match (sim.batch_roll(), Method::from_bytes(method_text.as_bytes())) {
            (Some(code), _) => error(code, code as u32 * 100 + 1, status_text(code)),
            (None, Ok(method)) => {
                let data = r.get("data");
                if (method == Method::POST || method == Method::PUT)
                    && !data.is_some_and(Value::is_object)
                {
                    error(400, 40001, "Data parameter not found in POST/PUT!")
                } else {
                    handle(sim, &method, &segments, query, data, base)
                }
            }
            (None, Err(_)) => error(405, 40501, "Method Not Allowed"),
        };
        out.push(json!({
            "method": method_text,
            "uri": uri,
            "response": {
                "header": { "statusCode": status, "statusText": status_text(status) },
                "body": body.unwrap_or(Value::Null),
            }
        }));
    }
    (200, Some(json!({ "requests": { "request": out } })))
}

// ---- control API ----

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ResetBody {
    seed: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateBody {
    per_second: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: u32,
}

fn control_error(status: StatusCode, text: impl std::fmt::Display) -> Response {
    (status, axum::Json(json!({ "error": text.to_string() }))).into_response()
}

fn parse_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| control_error(StatusCode::BAD_REQUEST, e))
}

fn parse_required<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| control_error(StatusCode::BAD_REQUEST, e))
}

fn status_json(sim: &ShoprenterSim) -> Value {
    let core = sim.core();
    json!({
        "system": "shoprenter",
        "seed": sim.seed(),
        "counts": sim.counts(),
        "writes": sim.writes(),
        "requests": core.requests_seen(),
        "max_concurrency": core.max_concurrency(),
        "faults": core.faults(),
        "fault_stats": core.fault_stats(),
        "batch_faults": sim.batch_faults(),
        "batch_failures": sim.batch_failures(),
        "rate_limit": sim.rate_limit.load(std::sync::atomic::Ordering::SeqCst),
        "rate_limited": sim.rate_limited(),
    })
}

fn control(sim: &ShoprenterSim, method: &Method, path: &[&str], body: &[u8]) -> Response {
    let ok = |v: &Value| axum::Json(v.clone()).into_response();
    let result: Result<Response, Response> = (|| match (method.as_str(), path) {
        ("GET", []) | ("GET", ["shoprenter"]) => Ok(ok(&status_json(sim))),
        ("GET", ["shoprenter", "requests"]) => Ok(ok(&json!(sim.core().requests_seen()))),
        ("GET", ["shoprenter", "faults"]) => Ok(ok(&json!(sim.core().faults()))),
        ("PUT", ["shoprenter", "faults"]) => {
            let f: FaultConfig = parse_json(body)?;
            sim.set_faults(f)
                .map_err(|e| control_error(StatusCode::BAD_REQUEST, e))?;
            Ok(ok(&json!(sim.core().faults())))
        }
        ("GET", ["shoprenter", "batch-faults"]) => Ok(ok(&json!(sim.batch_faults()))),
        ("PUT", ["shoprenter", "batch-faults"]) => {
            let f: BatchFaults = parse_json(body)?;
            sim.set_batch_faults(f)
                .map_err(|e| control_error(StatusCode::BAD_REQUEST, e))?;
            Ok(ok(&json!(sim.batch_faults())))
        }
        ("PUT", ["shoprenter", "rate-limit"]) => {
            let r: RateBody = parse_required(body)?;
            sim.set_rate_limit(r.per_second);
            Ok(ok(&json!({ "per_second": r.per_second })))
        }
        ("POST", ["shoprenter", "orders", n, "status"]) => {
            let n: u32 = n
                .parse()
                .map_err(|_| control_error(StatusCode::BAD_REQUEST, "order inner id"))?;
            let s: StatusBody = parse_required(body)?;
            sim.set_order_status(n, s.status)
                .map_err(|e| control_error(StatusCode::NOT_FOUND, e))?;
            let id = super::model::encode_id(Kind::Order, n, 0);
            Ok(ok(&sim
                .record_json(Kind::Order, &id)
                .unwrap_or(Value::Null)))
        }
        ("POST", ["shoprenter", "reset"]) => {
            let r: ResetBody = parse_json(body)?;
            sim.reset(r.seed);
            Ok(ok(&status_json(sim)))
        }
        _ => Err(control_error(
            StatusCode::NOT_FOUND,
            "no such control endpoint",
        )),
    })();
    result.unwrap_or_else(|r| r)
}
