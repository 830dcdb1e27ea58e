//! HTTP face of the Mailchimp simulator: the Marketing API under `/3.0/` and the control API
//! under `/_control/mailchimp`.

// Problems are returned early as ready answers; their size is irrelevant on this path.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::generator::stamp;
use super::model::*;
use super::{data_centre, MailchimpData, MailchimpSim};
use crate::clock::{now_millis, parse_timestamp};
use crate::core::{PreFault, Simulator};
use crate::request::{parse_query, percent_decode};
use crate::FaultConfig;

const ERROR_DOCS: &str = "https://mailchimp.com/developer/marketing/docs/errors/";
const MAX_COUNT: usize = 1000;
const DEFAULT_COUNT: usize = 10;

pub(super) fn router(sim: Arc<MailchimpSim>) -> Router {
    Router::new().fallback(dispatch).with_state(sim)
}

/// An `application/problem+json` answer.
pub(crate) struct Problem {
    status: StatusCode,
    title: &'static str,
    detail: String,
    errors: Vec<(String, String)>,
}

impl Problem {
    fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            title,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }
    fn not_found() -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "Resource Not Found",
            "The requested resource could not be found.",
        )
    }
    fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "Bad Request", detail)
    }
    fn invalid(errors: Vec<(String, String)>) -> Problem {
        Problem {
            status: StatusCode::BAD_REQUEST,
            title: "Invalid Resource",
            detail: "The resource submitted could not be validated. For field-specific details, see the 'errors' array.".into(),
            errors,
        }
    }
    fn field(field: &str, message: impl Into<String>) -> Problem {
        Problem::invalid(vec![(field.to_owned(), message.into())])
    }
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": ERROR_DOCS,
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "instance": uuid::Uuid::new_v4().to_string(),
        });
        if !self.errors.is_empty() {
            body["errors"] = self
                .errors
                .iter()
                .map(|(f, m)| json!({ "field": f, "message": m }))
                .collect();
        }
        (
            self.status,
            [(
                header::CONTENT_TYPE,
                "application/problem+json; charset=utf-8",
            )],
            body.to_string(),
        )
            .into_response()
    }
}

fn ok(value: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        value.to_string(),
    )
        .into_response()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The resources served, by path shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Res {
    Stores,
    Store,
    Customers,
    Customer,
    Products,
    Product,
    Variants,
    Variant,
    Orders,
    Order,
    OrderLines,
    OrderLine,
    Carts,
    Cart,
    CartLines,
    CartLine,
    PromoRules,
    PromoRule,
    PromoCodes,
    PromoCode,
    Lists,
    List,
    Members,
    Member,
}

impl Res {
    /// Matches the path after `/3.0/`; returns the resource and its path ids.
    fn parse(segments: &[String]) -> Option<(Res, Vec<String>)> {
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let id = |i: usize| segments[i].clone();
        let r = match s.as_slice() {
            ["ecommerce", "stores"] => (Res::Stores, vec![]),
            ["ecommerce", "stores", _] => (Res::Store, vec![id(2)]),
            ["ecommerce", "stores", _, c] => (
                match *c {
                    "customers" => Res::Customers,
                    "products" => Res::Products,
                    "orders" => Res::Orders,
                    "carts" => Res::Carts,
                    "promo-rules" => Res::PromoRules,
                    _ => return None,
                },
                vec![id(2)],
            ),
            ["ecommerce", "stores", _, c, _] => (
                match *c {
                    "customers" => Res::Customer,
                    "products" => Res::Product,
                    "orders" => Res::Order,
                    "carts" => Res::Cart,
                    "promo-rules" => Res::PromoRule,
                    _ => return None,
                },
                vec![id(2), id(4)],
            ),
            ["ecommerce", "stores", _, c, _, sub] => (
                match (*c, *sub) {
                    ("products", "variants") => Res::Variants,
                    ("orders", "lines") => Res::OrderLines,
                    ("carts", "lines") => Res::CartLines,
                    ("promo-rules", "promo-codes") => Res::PromoCodes,
                    _ => return None,
                },
                vec![id(2), id(4)],
            ),
            ["ecommerce", "stores", _, c, _, sub, _] => (
                match (*c, *sub) {
                    ("products", "variants") => Res::Variant,
                    ("orders", "lines") => Res::OrderLine,
                    ("carts", "lines") => Res::CartLine,
                    ("promo-rules", "promo-codes") => Res::PromoCode,
                    _ => return None,
                },
                vec![id(2), id(4), id(6)],
            ),
            ["lists"] => (Res::Lists, vec![]),
            ["lists", _] => (Res::List, vec![id(1)]),
            ["lists", _, "members"] => (Res::Members, vec![id(1)]),
            ["lists", _, "members", _] => (Res::Member, vec![id(1), id(3)]),
            _ => return None,
        };
        Some(r)
    }

    fn template(self) -> &'static str {
        match self {
            Res::Stores => "/3.0/ecommerce/stores",
            Res::Store => "/3.0/ecommerce/stores/{store_id}",
            Res::Customers => "/3.0/ecommerce/stores/{store_id}/customers",
            Res::Customer => "/3.0/ecommerce/stores/{store_id}/customers/{customer_id}",
            Res::Products => "/3.0/ecommerce/stores/{store_id}/products",
            Res::Product => "/3.0/ecommerce/stores/{store_id}/products/{product_id}",
            Res::Variants => "/3.0/ecommerce/stores/{store_id}/products/{product_id}/variants",
            Res::Variant => {
                "/3.0/ecommerce/stores/{store_id}/products/{product_id}/variants/{variant_id}"
            }
            Res::Orders => "/3.0/ecommerce/stores/{store_id}/orders",
            Res::Order => "/3.0/ecommerce/stores/{store_id}/orders/{order_id}",
            Res::OrderLines => "/3.0/ecommerce/stores/{store_id}/orders/{order_id}/lines",
            Res::OrderLine => "/3.0/ecommerce/stores/{store_id}/orders/{order_id}/lines/{line_id}",
            Res::Carts => "/3.0/ecommerce/stores/{store_id}/carts",
            Res::Cart => "/3.0/ecommerce/stores/{store_id}/carts/{cart_id}",
            Res::CartLines => "/3.0/ecommerce/stores/{store_id}/carts/{cart_id}/lines",
            Res::CartLine => "/3.0/ecommerce/stores/{store_id}/carts/{cart_id}/lines/{line_id}",
            Res::PromoRules => "/3.0/ecommerce/stores/{store_id}/promo-rules",
            Res::PromoRule => "/3.0/ecommerce/stores/{store_id}/promo-rules/{promo_rule_id}",
            Res::PromoCodes => {
                "/3.0/ecommerce/stores/{store_id}/promo-rules/{promo_rule_id}/promo-codes"
            }
            Res::PromoCode => {
                "/3.0/ecommerce/stores/{store_id}/promo-rules/{promo_rule_id}/promo-codes/{promo_code_id}"
            }
            Res::Lists => "/3.0/lists",
            Res::List => "/3.0/lists/{list_id}",
            Res::Members => "/3.0/lists/{list_id}/members",
            Res::Member => "/3.0/lists/{list_id}/members/{subscriber_hash}",
        }
    }

    fn allows(self, m: &Method) -> bool {
        use Res::*;
        match self {
            Stores | Customers | Products | Variants | Orders | OrderLines | Carts | CartLines
            | PromoRules | PromoCodes | Lists | Members => *m == Method::GET || *m == Method::POST,
            Customer | Variant | Member => {
                [Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(m)
            }
            List => *m == Method::GET,
            _ => [Method::GET, Method::PATCH, Method::DELETE].contains(m),
        }
    }
}

/// Checks `Authorization: Basic base64(anystring:key)`; `Ok(key)` when it is the right one.
fn authenticate(sim: &MailchimpSim, headers: &HeaderMap) -> Result<String, Problem> {
    use base64::Engine;
    let missing = || {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "API Key Missing",
            "Your request did not include an API key.",
        )
    };
    let invalid = || {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "API Key Invalid",
            "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(missing)?;
    let (scheme, rest) = value.trim().split_once(' ').ok_or_else(invalid)?;
    let key = if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .map_err(|_| invalid())?;
        let text = String::from_utf8(raw).map_err(|_| invalid())?;
        let (_, key) = text.split_once(':').ok_or_else(invalid)?;
        key.to_owned()
    } else if scheme.eq_ignore_ascii_case("apikey") || scheme.eq_ignore_ascii_case("bearer") {
        // Mailchimp also takes OAuth-style `Bearer` and legacy `apikey` schemes.
        rest.trim().to_owned()
    } else {
        return Err(invalid());
    };
    if key.is_empty() {
        return Err(missing());
    }
    // The key must name this data centre (the host is `{dc}.api.mailchimp.com`); a key of
    // another data centre, or a Host of another one, gets the real API's 401.
    let dc = sim.config().dc();
    if data_centre(&key) != Some(dc) {
        return Err(invalid());
    }
    if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        let host = host.split(':').next().unwrap_or(host);
        if let Some(host_dc) = host.to_ascii_lowercase().strip_suffix(".api.mailchimp.com") {
            if !host_dc.eq_ignore_ascii_case(dc) {
                return Err(invalid());
            }
        }
    }
    if key != sim.api_key() {
        return Err(invalid());
    }
    Ok(key)
}

async fn dispatch(
    State(sim): State<Arc<MailchimpSim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let segments: Vec<String> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        // `+` is literal in a path (`a+b@example.com`), unlike in a query.
        .map(|s| percent_decode(&s.replace('+', "%2B")))
        .collect();
    if segments.first().map(String::as_str) == Some("_control") {
        return control(&sim, &method, &segments[1..], &body);
    }
    if segments.first().map(String::as_str) != Some("3.0") {
        return Problem::not_found().into_response();
    }
    let route = Res::parse(&segments[1..]);
    let key = match &route {
        Some((r, _)) => format!("{method} {}", r.template()),
        None => format!("{method} /3.0/{{unknown}}"),
    };
    // The connection slot is taken before the added latency so that held requests count.
    let auth = authenticate(&sim, &headers);
    let slot = auth.as_ref().ok().map(|k| sim.acquire(k));
    let core = sim.core();
    let admission = core.admit(&key).await;
    match admission.pre {
        PreFault::Timeout => {
            core.hang().await;
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        PreFault::Throttle { .. } => {
            // Mailchimp sends no Retry-After (nor any rate-limit header).
            return Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests",
                "You have exceeded the limit of 10 simultaneous connections.",
            )
            .into_response();
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
            return Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                "An unexpected internal error has occurred. Please contact Support for more information.",
            )
            .into_response();
        }
        PreFault::None => {}
    }
    if let Err(p) = auth {
        return p.into_response();
    }
    let Some(Some(_slot)) = slot else {
        if sim.bare_403() {
            return Response::builder()
                .status(StatusCode::FORBIDDEN)
                .body(Body::empty())
                .unwrap_or_else(|_| StatusCode::FORBIDDEN.into_response());
        }
        return Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            "You have exceeded the limit of 10 simultaneous connections.",
        )
        .into_response();
    };
    let Some((res, ids)) = route else {
        return Problem::not_found().into_response();
    };
    if !res.allows(&method) {
        return Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
            "The requested method and resource are not compatible. See the Allow header for this resource's available methods.",
        )
        .into_response();
    }
    let query = parse_query(uri.query().unwrap_or(""));
    let response = match handle(&sim, &method, res, &ids, &query, &body) {
        Ok(r) => r,
        Err(p) => p.into_response(),
    };
    core.shape_body(response, admission.body).await
}

// ---------------------------------------------------------------- request helpers

fn body_object(body: &[u8]) -> Result<Map<String, Value>, Problem> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Problem::invalid(vec![(
            String::new(),
            "Schema describes object, other type found instead".into(),
        )])),
        Err(_) => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "JSON Parse Error",
            "We encountered an unspecified JSON parsing error.",
        )),
    }
}

fn blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        _ => false,
    }
}

/// Required fields, by dotted path of nested objects (`customer.id`).
fn require(obj: &Map<String, Value>, fields: &[&str]) -> Result<(), Problem> {
    let errors: Vec<(String, String)> = fields
        .iter()
        .filter(|f| {
            let mut cur = obj.get(f.split('.').next().unwrap_or(""));
            for part in f.split('.').skip(1) {
                cur = cur.and_then(|v| v.get(part));
            }
            blank(cur)
        })
        .map(|f| {
            (
                (*f).to_owned(),
                "This value should not be blank.".to_owned(),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::invalid(errors))
    }
}

/// Required fields of every element of an array field.
fn require_each(obj: &Map<String, Value>, array: &str, fields: &[&str]) -> Result<(), Problem> {
    let Some(items) = obj.get(array).and_then(Value::as_array) else {
        return Err(Problem::field(array, "This value should not be blank."));
    };
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(m) = item.as_object() else {
            errors.push((format!("{array}.{i}"), "Schema describes object".into()));
            continue;
        };
        for f in fields {
            if blank(m.get(*f)) {
                errors.push((
                    format!("{array}.{i}.{f}"),
                    "This value should not be blank.".into(),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::invalid(errors))
    }
}

/// Timestamps a client may set: must parse, stored as the API writes them.
const CLIENT_TIMES: &[&str] = &[
    "processed_at_foreign",
    "cancelled_at_foreign",
    "updated_at_foreign",
    "published_at_foreign",
    "starts_at",
    "ends_at",
    "created_at_foreign",
];

fn normalise_times(obj: &mut Map<String, Value>) -> Result<(), Problem> {
    for f in CLIENT_TIMES {
        if let Some(Value::String(s)) = obj.get_mut(*f) {
            if s.trim().is_empty() {
                continue;
            }
            match parse_timestamp(s) {
                Some(ms) => *s = stamp(ms),
                None => return Err(Problem::field(f, "This value is not a valid datetime.")),
            }
        }
    }
    Ok(())
}

fn from_obj<T: DeserializeOwned>(obj: Map<String, Value>) -> Result<T, Problem> {
    serde_json::from_value(Value::Object(obj))
        .map_err(|e| Problem::field("", format!("Schema validation failed: {e}")))
}

/// Deep merge as Mailchimp's PATCH does: objects merge, arrays of objects with ids merge by
/// id (new ids are appended), anything else is replaced.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(old) => merge(old, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(p))
            if p.iter().all(|v| v.get("id").is_some_and(Value::is_string)) =>
        {
            for v in p {
                match t.iter_mut().find(|o| o.get("id") == v.get("id")) {
                    Some(old) => merge(old, v),
                    None => t.push(v.clone()),
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn patched<T: Serialize + DeserializeOwned>(
    old: &T,
    mut patch: Map<String, Value>,
) -> Result<T, Problem> {
    normalise_times(&mut patch)?;
    let mut v = serde_json::to_value(old).map_err(|e| Problem::bad_request(e.to_string()))?;
    patch.remove("id");
    merge(&mut v, &Value::Object(patch));
    match v {
        Value::Object(m) => from_obj(m),
        _ => Err(Problem::bad_request("not an object")),
    }
}

fn valid_email(e: &str) -> bool {
    let e = e.trim();
    e.split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.ends_with('.'))
        && !e.contains(' ')
}

struct Page {
    count: usize,
    offset: usize,
}

fn page(q: &HashMap<String, String>) -> Result<Page, Problem> {
    let num = |name: &str, default: usize| -> Result<usize, Problem> {
        match q.get(name) {
            None => Ok(default),
            Some(v) if v.trim().is_empty() => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map_err(|_| Problem::field(name, "This value should be a non-negative integer.")),
        }
    };
    let count = num("count", DEFAULT_COUNT)?;
    if count > MAX_COUNT {
        return Err(Problem::field(
            "count",
            format!("This value should be {MAX_COUNT} or less."),
        ));
    }
    Ok(Page {
        count,
        offset: num("offset", 0)?,
    })
}

/// Takes one page of rendered records: `(items, total_items)`.
fn paged<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    p: &Page,
    render: impl Fn(&T) -> Value,
) -> (Vec<Value>, usize) {
    let mut total = 0;
    let mut out = Vec::with_capacity(p.count.min(1000));
    for (i, item) in items.enumerate() {
        total = i + 1;
        if i >= p.offset && out.len() < p.count {
            out.push(render(item));
        }
    }
    (out, total)
}

// ---------------------------------------------------------------- rendering

/// Date-time fields the API leaves out when unset (an empty string is no RFC 3339 time).
const TIME_FIELDS: &[&str] = &[
    "created_at",
    "updated_at",
    "processed_at_foreign",
    "cancelled_at_foreign",
    "updated_at_foreign",
    "published_at_foreign",
    "starts_at",
    "ends_at",
    "created_at_foreign",
    "timestamp_signup",
    "timestamp_opt",
    "last_changed",
    "date_created",
    "campaign_last_sent",
    "last_sub_date",
    "last_unsub_date",
    "published_time",
];

fn strip_unset_times(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, v| !(TIME_FIELDS.contains(&k.as_str()) && v.as_str() == Some("")));
            m.values_mut().for_each(strip_unset_times);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_unset_times),
        _ => {}
    }
}

fn to_json<T: Serialize>(v: &T) -> Value {
    let mut v = serde_json::to_value(v).unwrap_or(Value::Null);
    strip_unset_times(&mut v);
    v
}

fn money(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn render_store(s: &StoreData) -> Value {
    let mut v = to_json(&s.store);
    v["connected_site"] = json!({
        "site_foreign_id": s.store.id,
        "site_script": { "url": "", "fragment": "" },
    });
    v["automations"] = json!({
        "abandoned_cart": { "is_supported": true, "id": "", "status": "save" },
        "abandoned_browse": { "is_supported": true, "id": "", "status": "save" },
    });
    v["list_is_active"] = json!(true);
    v
}

pub(super) fn render_customer(s: &StoreData, c: &Customer) -> Value {
    let mut v = to_json(c);
    let t = s.totals.get(&c.id).copied().unwrap_or_default();
    v["orders_count"] = json!(t.orders);
    v["total_spent"] = json!(money(t.spent));
    v
}

fn embedded_customer(s: &StoreData, id: &str) -> Value {
    match s.customers.get(id) {
        Some(c) => render_customer(s, c),
        None => json!({ "id": id }),
    }
}

fn line_titles(s: &StoreData, product_id: &str, variant_id: &str, v: &mut Value) {
    let p = s.products.get(product_id);
    let var = p.and_then(|p| p.variants.iter().find(|x| x.id == variant_id));
    v["product_title"] = json!(p.map(|p| p.title.as_str()).unwrap_or(""));
    v["product_variant_title"] = json!(var.map(|x| x.title.as_str()).unwrap_or(""));
    let image = var
        .map(|x| x.image_url.as_str())
        .filter(|u| !u.is_empty())
        .or(p.map(|p| p.image_url.as_str()))
        .unwrap_or("");
    v["image_url"] = json!(image);
}

fn render_order_line(s: &StoreData, l: &OrderLine) -> Value {
    let mut v = to_json(l);
    line_titles(s, &l.product_id, &l.product_variant_id, &mut v);
    v
}

fn render_cart_line(s: &StoreData, l: &CartLine) -> Value {
    let mut v = to_json(l);
    line_titles(s, &l.product_id, &l.product_variant_id, &mut v);
    if let Some(m) = v.as_object_mut() {
        // Cart lines have no image in the API.
        m.remove("image_url");
    }
    v
}

pub(super) fn render_order(s: &StoreData, o: &Order) -> Value {
    let mut v = to_json(o);
    v["customer"] = embedded_customer(s, &o.customer.id);
    v["store_id"] = json!(s.store.id);
    v["lines"] = o.lines.iter().map(|l| render_order_line(s, l)).collect();
    v
}

fn render_cart(s: &StoreData, c: &Cart) -> Value {
    let mut v = to_json(c);
    v["customer"] = embedded_customer(s, &c.customer.id);
    v["lines"] = c.lines.iter().map(|l| render_cart_line(s, l)).collect();
    v
}

fn render_list(l: &ListData) -> Value {
    let mut v = to_json(&l.list);
    let count = |st: MemberStatus| l.members.values().filter(|m| m.status == st).count();
    let subscribed = count(MemberStatus::Subscribed);
    let last_sub = l
        .members
        .values()
        .filter(|m| m.status == MemberStatus::Subscribed)
        .map(|m| m.timestamp_opt.as_str())
        .max()
        .unwrap_or("");
    let mut stats = json!({
        "member_count": subscribed,
        "total_contacts": l.members.len(),
        "unsubscribe_count": count(MemberStatus::Unsubscribed),
        "cleaned_count": count(MemberStatus::Cleaned),
        "member_count_since_send": subscribed,
        "unsubscribe_count_since_send": 0,
        "cleaned_count_since_send": 0,
        "campaign_count": 0,
        "merge_field_count": 2,
        "avg_sub_rate": 0,
        "avg_unsub_rate": 0,
        "target_sub_rate": 0,
        "open_rate": 0,
        "click_rate": 0,
        "last_sub_date": last_sub,
    });
    strip_unset_times(&mut stats);
    v["stats"] = stats;
    v
}

fn render_member(m: &Member) -> Value {
    let mut v = to_json(m);
    v["stats"] = json!({ "avg_open_rate": 0, "avg_click_rate": 0 });
    v["tags_count"] = json!(m.tags.len());
    v
}

/// Applies `fields` / `exclude_fields` (comma-separated dotted paths).
fn select_fields(mut v: Value, q: &HashMap<String, String>) -> Value {
    fn paths(s: &str) -> Vec<Vec<String>> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.split('.').map(str::to_owned).collect())
            .collect()
    }
    fn include(v: &mut Value, paths: &[Vec<String>]) {
        match v {
            Value::Object(m) => {
                m.retain(|k, _| paths.iter().any(|p| p.first() == Some(k)));
                for (k, child) in m.iter_mut() {
                    let rest: Vec<Vec<String>> = paths
                        .iter()
                        .filter(|p| p.first() == Some(k))
                        .map(|p| p[1..].to_vec())
                        .collect();
                    if !rest.iter().any(Vec::is_empty) {
                        include(child, &rest);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| include(x, paths)),
            _ => {}
        }
    }
    fn exclude(v: &mut Value, path: &[String]) {
        match v {
            Value::Object(m) => match path {
                [k] => {
                    m.remove(k);
                }
                [k, rest @ ..] => {
                    if let Some(child) = m.get_mut(k) {
                        exclude(child, rest);
                    }
                }
                [] => {}
            },
            Value::Array(a) => a.iter_mut().for_each(|x| exclude(x, path)),
            _ => {}
        }
    }
    if let Some(f) = q.get("fields") {
        let p = paths(f);
        if !p.is_empty() {
            include(&mut v, &p);
        }
    }
    if let Some(f) = q.get("exclude_fields") {
        for p in paths(f) {
            exclude(&mut v, &p);
        }
    }
    v
}

// ---------------------------------------------------------------- handlers

fn now() -> String {
    stamp(now_millis())
}

fn handle(
    sim: &MailchimpSim,
    method: &Method,
    res: Res,
    ids: &[String],
    q: &HashMap<String, String>,
    body: &[u8],
) -> Result<Response, Problem> {
    let id = |i: usize| ids.get(i).map(String::as_str).unwrap_or("");
    if *method == Method::GET {
        let d = sim.read();
        let p = page(q)?;
        let v = read(&d, res, ids, q, &p)?;
        return Ok(ok(select_fields(v, q)));
    }
    let mut d = sim.write();
    let d = &mut *d;
    if matches!(res, Res::Lists | Res::List | Res::Members | Res::Member) {
        return write_lists(d, method, res, ids, body, q);
    }
    if res == Res::Stores {
        let mut obj = body_object(body)?;
        require(&obj, &["id", "list_id", "name", "currency_code"])?;
        let mut store: Store = from_obj(std::mem::take(&mut obj))?;
        if d.stores.contains_key(&store.id) {
            return Err(Problem::bad_request(
                "A store with the provided ID already exists.",
            ));
        }
        if !d.lists.contains_key(&store.list_id) {
            return Err(Problem::field(
                "list_id",
                "The list_id provided does not exist in the account.",
            ));
        }
        store.currency_code = store.currency_code.to_uppercase();
        store.created_at = now();
        store.updated_at = store.created_at.clone();
        let data = StoreData {
            store,
            ..StoreData::default()
        };
        let v = render_store(&data);
        d.stores.insert(data.store.id.clone(), data);
        return Ok(ok(v));
    }
    let s = d.stores.get_mut(id(0)).ok_or_else(Problem::not_found)?;
    match (res, method.as_str()) {
        (Res::Store, "PATCH") => {
            let obj = body_object(body)?;
            let mut new: Store = patched(&s.store, obj)?;
            new.id = s.store.id.clone();
            // The list of a store cannot be changed once connected.
            new.list_id = s.store.list_id.clone();
            new.created_at = s.store.created_at.clone();
            new.updated_at = now();
            s.store = new;
            Ok(ok(render_store(s)))
        }
        (Res::Store, "DELETE") => {
            d.stores.remove(id(0));
            Ok(no_content())
        }
        (Res::Customers, "POST") => {
            let obj = body_object(body)?;
            require(&obj, &["id", "email_address", "opt_in_status"])?;
            let c = new_customer(obj)?;
            if s.customers.contains_key(&c.id) {
                return Err(Problem::bad_request(
                    "A customer with the provided ID already exists in the account.",
                ));
            }
            let v = render_customer(s, &c);
            s.customers.insert(c.id.clone(), c);
            Ok(ok(v))
        }
        (Res::Customer, "PUT") => {
            let mut obj = body_object(body)?;
            obj.insert("id".into(), json!(id(1)));
            let c = match s.customers.get(id(1)) {
                Some(old) => {
                    let mut c: Customer = patched(old, obj)?;
                    c.id = old.id.clone();
                    c.created_at = old.created_at.clone();
                    c.updated_at = now();
                    check_customer(&c)?;
                    c
                }
                None => {
                    require(&obj, &["email_address", "opt_in_status"])?;
                    new_customer(obj)?
                }
            };
            let v = render_customer(s, &c);
            s.customers.insert(c.id.clone(), c);
            Ok(ok(v))
        }
        (Res::Customer, "PATCH") => {
            let obj = body_object(body)?;
            let old = s.customers.get(id(1)).ok_or_else(Problem::not_found)?;
            let mut c: Customer = patched(old, obj)?;
            c.id = old.id.clone();
            c.created_at = old.created_at.clone();
            c.updated_at = now();
            check_customer(&c)?;
            let v = render_customer(s, &c);
            s.customers.insert(c.id.clone(), c);
            Ok(ok(v))
        }
        (Res::Customer, "DELETE") => {
            s.customers.remove(id(1)).ok_or_else(Problem::not_found)?;
            Ok(no_content())
        }
        (Res::Products, "POST") => {
            let mut obj = body_object(body)?;
            require(&obj, &["id", "title"])?;
            require_each(&obj, "variants", &["id", "title"])?;
            if obj.contains_key("images") {
                require_each(&obj, "images", &["id", "url"])?;
            }
            if obj
                .get("variants")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty)
            {
                return Err(Problem::field(
                    "variants",
                    "This value should not be blank.",
                ));
            }
            normalise_times(&mut obj)?;
            let mut p: Product = from_obj(obj)?;
            if s.products.contains_key(&p.id) {
                return Err(Problem::bad_request(
                    "A product with the provided ID already exists in the account.",
                ));
            }
            p.currency_code = s.store.currency_code.clone();
            let t = now();
            for v in &mut p.variants {
                v.created_at = t.clone();
                v.updated_at = t.clone();
            }
            if p.published_at_foreign.is_empty() {
                p.published_at_foreign = t;
            }
            let v = to_json(&p);
            s.products.insert(p.id.clone(), p);
            Ok(ok(v))
        }
        (Res::Product, "PATCH") => {
            let obj = body_object(body)?;
            let old = s.products.get(id(1)).ok_or_else(Problem::not_found)?;
            let mut p: Product = patched(old, obj)?;
            p.id = old.id.clone();
            p.currency_code = old.currency_code.clone();
            let t = now();
            for v in &mut p.variants {
                if v.created_at.is_empty() {
                    v.created_at = t.clone();
                }
                v.updated_at = t.clone();
            }
            let v = to_json(&p);
            s.products.insert(p.id.clone(), p);
            Ok(ok(v))
        }
        (Res::Product, "DELETE") => {
            s.products.remove(id(1)).ok_or_else(Problem::not_found)?;
            Ok(no_content())
        }
        (Res::Variants | Res::Variant, m) => {
            let p = s.products.get_mut(id(1)).ok_or_else(Problem::not_found)?;
            let mut obj = if m == "DELETE" {
                Map::new()
            } else {
                body_object(body)?
            };
            let existing = p.variants.iter().position(|v| v.id == id(2));
            let t = now();
            let v = match (m, existing) {
                ("POST", _) => {
                    require(&obj, &["id", "title"])?;
                    let v: Variant = from_obj(obj)?;
                    if p.variants.iter().any(|x| x.id == v.id) {
                        return Err(Problem::bad_request(
                            "A variant with the provided ID already exists for this product.",
                        ));
                    }
                    Variant {
                        created_at: t.clone(),
                        updated_at: t,
                        ..v
                    }
                }
                ("PUT", None) => {
                    obj.insert("id".into(), json!(id(2)));
                    require(&obj, &["title"])?;
                    let v: Variant = from_obj(obj)?;
                    Variant {
                        created_at: t.clone(),
                        updated_at: t,
                        ..v
                    }
                }
                ("PUT" | "PATCH", Some(i)) => {
                    let old = &p.variants[i];
                    let v: Variant = patched(old, obj)?;
                    Variant {
                        id: old.id.clone(),
                        created_at: old.created_at.clone(),
                        updated_at: t,
                        ..v
                    }
                }
                ("DELETE", Some(i)) => {
                    p.variants.remove(i);
                    return Ok(no_content());
                }
                _ => return Err(Problem::not_found()),
            };
            let out = to_json(&v);
            match p.variants.iter().position(|x| x.id == v.id) {
                Some(i) => p.variants[i] = v,
                None => p.variants.push(v),
            }
            Ok(ok(out))
        }
        (Res::Orders, "POST") => {
            let mut obj = body_object(body)?;
            require(&obj, &["id", "customer.id", "currency_code", "order_total"])?;
            require_each(
                &obj,
                "lines",
                &[
                    "id",
                    "product_id",
                    "product_variant_id",
                    "quantity",
                    "price",
                ],
            )?;
            if let Some(promos) = obj.get("promos").filter(|p| !p.is_null()) {
                if promos.is_array() {
                    require_each(&obj, "promos", &["code", "type", "amount_discounted"])?;
                }
            }
            normalise_times(&mut obj)?;
            let customer = obj.get("customer").cloned().unwrap_or(Value::Null);
            let mut o: Order = from_obj(obj)?;
            if s.orders.contains_key(&o.id) {
                return Err(Problem::bad_request(
                    "An order with the provided ID already exists in the account.",
                ));
            }
            check_currency(&o.currency_code)?;
            check_lines(
                s,
                o.lines
                    .iter()
                    .map(|l| (&l.product_id, &l.product_variant_id)),
            )?;
            upsert_embedded_customer(s, &customer)?;
            if o.processed_at_foreign.is_empty() {
                o.processed_at_foreign = now();
            }
            if o.updated_at_foreign.is_empty() {
                o.updated_at_foreign = o.processed_at_foreign.clone();
            }
            s.account(&o, 1);
            let v = render_order(s, &o);
            s.orders.insert(o.id.clone(), o);
            Ok(ok(v))
        }
        (Res::Order, "PATCH") => {
            let obj = body_object(body)?;
            let customer = obj.get("customer").cloned();
            let old = s.orders.get(id(1)).ok_or_else(Problem::not_found)?.clone();
            let mut o: Order = patched(&old, obj)?;
            o.id = old.id.clone();
            check_currency(&o.currency_code)?;
            check_lines(
                s,
                o.lines
                    .iter()
                    .map(|l| (&l.product_id, &l.product_variant_id)),
            )?;
            if let Some(c) = customer {
                upsert_embedded_customer(s, &c)?;
            }
            s.account(&old, -1);
            s.account(&o, 1);
            let v = render_order(s, &o);
            s.orders.insert(o.id.clone(), o);
            Ok(ok(v))
        }
        (Res::Order, "DELETE") => {
            let o = s.orders.remove(id(1)).ok_or_else(Problem::not_found)?;
            s.account(&o, -1);
            Ok(no_content())
        }
        (Res::OrderLines | Res::OrderLine, m) => {
            let mut o = s.orders.get(id(1)).ok_or_else(Problem::not_found)?.clone();
            let obj = if m == "DELETE" {
                Map::new()
            } else {
                body_object(body)?
            };
            let existing = o.lines.iter().position(|l| l.id == id(2));
            let line = match (m, existing) {
                ("POST", _) => {
                    require(
                        &obj,
                        &[
                            "id",
                            "product_id",
                            "product_variant_id",
                            "quantity",
                            "price",
                        ],
                    )?;
                    let l: OrderLine = from_obj(obj)?;
                    if o.lines.iter().any(|x| x.id == l.id) {
                        return Err(Problem::bad_request(
                            "A line with the provided ID already exists for this order.",
                        ));
                    }
                    l
                }
                ("PATCH", Some(i)) => {
                    let old = &o.lines[i];
                    OrderLine {
                        id: old.id.clone(),
                        ..patched(old, obj)?
                    }
                }
                ("DELETE", Some(i)) => {
                    o.lines.remove(i);
                    s.orders.insert(o.id.clone(), o);
                    return Ok(no_content());
                }
                _ => return Err(Problem::not_found()),
            };
            check_lines(
                s,
                [(&line.product_id, &line.product_variant_id)].into_iter(),
            )?;
            let v = render_order_line(s, &line);
            match o.lines.iter().position(|x| x.id == line.id) {
                Some(i) => o.lines[i] = line,
                None => o.lines.push(line),
            }
            o.updated_at_foreign = now();
            s.orders.insert(o.id.clone(), o);
            Ok(ok(v))
        }
        (Res::Carts, "POST") => {
            let obj = body_object(body)?;
            require(&obj, &["id", "customer.id", "currency_code", "order_total"])?;
            require_each(
                &obj,
                "lines",
                &[
                    "id",
                    "product_id",
                    "product_variant_id",
                    "quantity",
                    "price",
                ],
            )?;
            let customer = obj.get("customer").cloned().unwrap_or(Value::Null);
            let mut c: Cart = from_obj(obj)?;
            if s.carts.contains_key(&c.id) {
                return Err(Problem::bad_request(
                    "A cart with the provided ID already exists in the account.",
                ));
            }
            check_currency(&c.currency_code)?;
            check_lines(
                s,
                c.lines
                    .iter()
                    .map(|l| (&l.product_id, &l.product_variant_id)),
            )?;
            upsert_embedded_customer(s, &customer)?;
            c.created_at = now();
            c.updated_at = c.created_at.clone();
            let v = render_cart(s, &c);
            s.carts.insert(c.id.clone(), c);
            Ok(ok(v))
        }
        (Res::Cart, "PATCH") => {
            let obj = body_object(body)?;
            let customer = obj.get("customer").cloned();
            let old = s.carts.get(id(1)).ok_or_else(Problem::not_found)?;
            let mut c: Cart = patched(old, obj)?;
            c.id = old.id.clone();
            c.created_at = old.created_at.clone();
            c.updated_at = now();
            check_currency(&c.currency_code)?;
            check_lines(
                s,
                c.lines
                    .iter()
                    .map(|l| (&l.product_id, &l.product_variant_id)),
            )?;
            if let Some(cu) = customer {
                upsert_embedded_customer(s, &cu)?;
            }
            let v = render_cart(s, &c);
            s.carts.insert(c.id.clone(), c);
            Ok(ok(v))
        }
        (Res::Cart, "DELETE") => {
            s.carts.remove(id(1)).ok_or_else(Problem::not_found)?;
            Ok(no_content())
        }
        (Res::CartLines | Res::CartLine, m) => {
            let mut c = s.carts.get(id(1)).ok_or_else(Problem::not_found)?.clone();
            let obj = if m == "DELETE" {
                Map::new()
            } else {
                body_object(body)?
            };
            let existing = c.lines.iter().position(|l| l.id == id(2));
            let line = match (m, existing) {
                ("POST", _) => {
                    require(
                        &obj,
                        &[
                            "id",
                            "product_id",
                            "product_variant_id",
                            "quantity",
                            "price",
                        ],
                    )?;
                    let l: CartLine = from_obj(obj)?;
                    if c.lines.iter().any(|x| x.id == l.id) {
                        return Err(Problem::bad_request(
                            "A line with the provided ID already exists for this cart.",
                        ));
                    }
                    l
                }
                ("PATCH", Some(i)) => {
                    let old = &c.lines[i];
                    CartLine {
                        id: old.id.clone(),
                        ..patched(old, obj)?
                    }
                }
                ("DELETE", Some(i)) => {
                    c.lines.remove(i);
                    s.carts.insert(c.id.clone(), c);
                    return Ok(no_content());
                }
                _ => return Err(Problem::not_found()),
            };
            check_lines(
                s,
                [(&line.product_id, &line.product_variant_id)].into_iter(),
            )?;
            let v = render_cart_line(s, &line);
            match c.lines.iter().position(|x| x.id == line.id) {
                Some(i) => c.lines[i] = line,
                None => c.lines.push(line),
            }
            c.updated_at = now();
            s.carts.insert(c.id.clone(), c);
            Ok(ok(v))
        }
        (Res::PromoRules, "POST") => {
            let mut obj = body_object(body)?;
            require(&obj, &["id", "description", "amount", "type", "target"])?;
            normalise_times(&mut obj)?;
            let mut r: PromoRule = from_obj(obj)?;
            if s.promo_rules.contains_key(&r.id) {
                return Err(Problem::bad_request(
                    "A promo rule with the provided ID already exists in the account.",
                ));
            }
            check_promo_amount(&r)?;
            if r.created_at_foreign.is_empty() {
                r.created_at_foreign = now();
            }
            if r.updated_at_foreign.is_empty() {
                r.updated_at_foreign = r.created_at_foreign.clone();
            }
            let v = to_json(&r);
            s.promo_rules.insert(
                r.id.clone(),
                PromoRuleData {
                    rule: r,
                    codes: BTreeMap::new(),
                },
            );
            Ok(ok(v))
        }
        (Res::PromoRule, "PATCH") => {
            let obj = body_object(body)?;
            let rd = s
                .promo_rules
                .get_mut(id(1))
                .ok_or_else(Problem::not_found)?;
            let mut r: PromoRule = patched(&rd.rule, obj)?;
            r.id = rd.rule.id.clone();
            check_promo_amount(&r)?;
            rd.rule = r;
            Ok(ok(to_json(&rd.rule)))
        }
        (Res::PromoRule, "DELETE") => {
            s.promo_rules.remove(id(1)).ok_or_else(Problem::not_found)?;
            Ok(no_content())
        }
        (Res::PromoCodes | Res::PromoCode, m) => {
            let rd = s
                .promo_rules
                .get_mut(id(1))
                .ok_or_else(Problem::not_found)?;
            match m {
                "POST" => {
                    let mut obj = body_object(body)?;
                    require(&obj, &["id", "code", "redemption_url"])?;
                    normalise_times(&mut obj)?;
                    let mut c: PromoCode = from_obj(obj)?;
                    if rd.codes.contains_key(&c.id) {
                        return Err(Problem::bad_request(
                            "A promo code with the provided ID already exists in the account.",
                        ));
                    }
                    if c.created_at_foreign.is_empty() {
                        c.created_at_foreign = now();
                    }
                    if c.updated_at_foreign.is_empty() {
                        c.updated_at_foreign = c.created_at_foreign.clone();
                    }
                    let v = to_json(&c);
                    rd.codes.insert(c.id.clone(), c);
                    Ok(ok(v))
                }
                "PATCH" => {
                    let obj = body_object(body)?;
                    let old = rd.codes.get(id(2)).ok_or_else(Problem::not_found)?;
                    let c = PromoCode {
                        id: old.id.clone(),
                        ..patched(old, obj)?
                    };
                    let v = to_json(&c);
                    rd.codes.insert(c.id.clone(), c);
                    Ok(ok(v))
                }
                "DELETE" => {
                    rd.codes.remove(id(2)).ok_or_else(Problem::not_found)?;
                    Ok(no_content())
                }
                _ => Err(Problem::not_found()),
            }
        }
        _ => Err(Problem::not_found()),
    }
}

fn check_customer(c: &Customer) -> Result<(), Problem> {
    if !valid_email(&c.email_address) {
        return Err(Problem::field(
            "email_address",
            "This value is not a valid email address.",
        ));
    }
    Ok(())
}

fn new_customer(mut obj: Map<String, Value>) -> Result<Customer, Problem> {
    obj.remove("orders_count");
    obj.remove("total_spent");
    let mut c: Customer = from_obj(obj)?;
    check_customer(&c)?;
    c.created_at = now();
    c.updated_at = c.created_at.clone();
    Ok(c)
}

/// An order's or cart's `customer`: an existing id is enough; a new one needs an e-mail
/// address and opt-in status and is created.
fn upsert_embedded_customer(s: &mut StoreData, customer: &Value) -> Result<(), Problem> {
    let Some(obj) = customer.as_object() else {
        return Err(Problem::field(
            "customer",
            "This value should not be blank.",
        ));
    };
    let id = obj.get("id").and_then(Value::as_str).unwrap_or("");
    if s.customers.contains_key(id) {
        return Ok(());
    }
    let errors: Vec<(String, String)> = ["email_address", "opt_in_status"]
        .iter()
        .filter(|f| blank(obj.get(**f)))
        .map(|f| {
            (
                format!("customer.{f}"),
                "This value should not be blank.".to_owned(),
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let c = new_customer(obj.clone())?;
    s.customers.insert(c.id.clone(), c);
    Ok(())
}

fn check_currency(code: &str) -> Result<(), Problem> {
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err(Problem::field(
            "currency_code",
            "This value is not a valid ISO 4217 currency code.",
        ))
    }
}

fn check_lines<'a>(
    s: &StoreData,
    lines: impl Iterator<Item = (&'a String, &'a String)>,
) -> Result<(), Problem> {
    for (product, variant) in lines {
        let Some(p) = s.products.get(product) else {
            return Err(Problem::bad_request(format!(
                "A product with the provided ID '{product}' does not exist in the account."
            )));
        };
        if !p.variants.iter().any(|v| &v.id == variant) {
            return Err(Problem::bad_request(format!(
                "A product variant with the provided ID '{variant}' does not exist for this product."
            )));
        }
    }
    Ok(())
}

fn check_promo_amount(r: &PromoRule) -> Result<(), Problem> {
    let bad = match r.kind {
        PromoType::Percentage => !(0.0..=1.0).contains(&r.amount),
        PromoType::Fixed => r.amount < 0.0,
    };
    if bad {
        return Err(Problem::field(
            "amount",
            "For a percentage the amount is a decimal between 0.0 and 1.0; a fixed amount is not negative.",
        ));
    }
    Ok(())
}

/// `GET` of every resource.
fn read(
    d: &MailchimpData,
    res: Res,
    ids: &[String],
    q: &HashMap<String, String>,
    p: &Page,
) -> Result<Value, Problem> {
    let id = |i: usize| ids.get(i).map(String::as_str).unwrap_or("");
    match res {
        Res::Lists => {
            let (lists, total) = paged(d.lists.values(), p, render_list);
            return Ok(json!({
                "lists": lists,
                "total_items": total,
                "constraints": {
                    "may_create": true,
                    "max_instances": 100,
                    "current_total_instances": d.lists.len(),
                },
            }));
        }
        Res::List => {
            return d
                .lists
                .get(id(0))
                .map(render_list)
                .ok_or_else(Problem::not_found)
        }
        Res::Members => {
            let l = d.lists.get(id(0)).ok_or_else(Problem::not_found)?;
            let status = q.get("status").map(|s| s.trim().to_ascii_lowercase());
            let vip = q.get("vip_only").is_some_and(|v| v == "true");
            let (members, total) = paged(
                l.members.values().filter(|m| {
                    status.as_deref().is_none_or(|s| m.status.as_str() == s) && (!vip || m.vip)
                }),
                p,
                render_member,
            );
            return Ok(json!({ "members": members, "list_id": l.list.id, "total_items": total }));
        }
        Res::Member => {
            let l = d.lists.get(id(0)).ok_or_else(Problem::not_found)?;
            return find_member(l, id(1))
                .map(render_member)
                .ok_or_else(Problem::not_found);
        }
        Res::Stores => {
            let (stores, total) = paged(d.stores.values(), p, render_store);
            return Ok(json!({ "stores": stores, "total_items": total }));
        }
        _ => {}
    }
    let s = d.stores.get(id(0)).ok_or_else(Problem::not_found)?;
    let sid = &s.store.id;
    let v = match res {
        Res::Store => render_store(s),
        Res::Customers => {
            let email = q.get("email_address").map(|e| e.trim().to_lowercase());
            let (items, total) = paged(
                s.customers.values().filter(|c| {
                    email
                        .as_deref()
                        .is_none_or(|e| c.email_address.trim().to_lowercase() == e)
                }),
                p,
                |c| render_customer(s, c),
            );
            json!({ "store_id": sid, "customers": items, "total_items": total })
        }
        Res::Customer => s
            .customers
            .get(id(1))
            .map(|c| render_customer(s, c))
            .ok_or_else(Problem::not_found)?,
        Res::Products => {
            let (items, total) = paged(s.products.values(), p, to_json);
            json!({ "store_id": sid, "products": items, "total_items": total })
        }
        Res::Product => s
            .products
            .get(id(1))
            .map(to_json)
            .ok_or_else(Problem::not_found)?,
        Res::Variants => {
            let pr = s.products.get(id(1)).ok_or_else(Problem::not_found)?;
            let (items, total) = paged(pr.variants.iter(), p, to_json);
            json!({ "store_id": sid, "product_id": pr.id, "variants": items, "total_items": total })
        }
        Res::Variant => {
            let pr = s.products.get(id(1)).ok_or_else(Problem::not_found)?;
            pr.variants
                .iter()
                .find(|v| v.id == id(2))
                .map(to_json)
                .ok_or_else(Problem::not_found)?
        }
        Res::Orders => {
            let customer = q.get("customer_id");
            let campaign = q.get("campaign_id");
            let (items, total) = paged(
                s.orders.values().filter(|o| {
                    customer.is_none_or(|c| &o.customer.id == c)
                        && campaign.is_none_or(|c| &o.campaign_id == c)
                }),
                p,
                |o| render_order(s, o),
            );
            json!({ "store_id": sid, "orders": items, "total_items": total })
        }
        Res::Order => s
            .orders
            .get(id(1))
            .map(|o| render_order(s, o))
            .ok_or_else(Problem::not_found)?,
        Res::OrderLines => {
            let o = s.orders.get(id(1)).ok_or_else(Problem::not_found)?;
            let (items, total) = paged(o.lines.iter(), p, |l| render_order_line(s, l));
            json!({ "store_id": sid, "order_id": o.id, "lines": items, "total_items": total })
        }
        Res::OrderLine => {
            let o = s.orders.get(id(1)).ok_or_else(Problem::not_found)?;
            o.lines
                .iter()
                .find(|l| l.id == id(2))
                .map(|l| render_order_line(s, l))
                .ok_or_else(Problem::not_found)?
        }
        Res::Carts => {
            let (items, total) = paged(s.carts.values(), p, |c| render_cart(s, c));
            json!({ "store_id": sid, "carts": items, "total_items": total })
        }
        Res::Cart => s
            .carts
            .get(id(1))
            .map(|c| render_cart(s, c))
            .ok_or_else(Problem::not_found)?,
        Res::CartLines => {
            let c = s.carts.get(id(1)).ok_or_else(Problem::not_found)?;
            let (items, total) = paged(c.lines.iter(), p, |l| render_cart_line(s, l));
            json!({ "store_id": sid, "cart_id": c.id, "lines": items, "total_items": total })
        }
        Res::CartLine => {
            let c = s.carts.get(id(1)).ok_or_else(Problem::not_found)?;
            c.lines
                .iter()
                .find(|l| l.id == id(2))
                .map(|l| render_cart_line(s, l))
                .ok_or_else(Problem::not_found)?
        }
        Res::PromoRules => {
            let (items, total) = paged(s.promo_rules.values(), p, |r| to_json(&r.rule));
            json!({ "store_id": sid, "promo_rules": items, "total_items": total })
        }
        Res::PromoRule => s
            .promo_rules
            .get(id(1))
            .map(|r| to_json(&r.rule))
            .ok_or_else(Problem::not_found)?,
        Res::PromoCodes => {
            let r = s.promo_rules.get(id(1)).ok_or_else(Problem::not_found)?;
            let (items, total) = paged(r.codes.values(), p, to_json);
            json!({ "store_id": sid, "promo_codes": items, "total_items": total })
        }
        Res::PromoCode => {
            let r = s.promo_rules.get(id(1)).ok_or_else(Problem::not_found)?;
            r.codes
                .get(id(2))
                .map(to_json)
                .ok_or_else(Problem::not_found)?
        }
        _ => return Err(Problem::not_found()),
    };
    Ok(v)
}

/// A member by subscriber hash, e-mail address or contact id (as the API accepts).
fn find_member<'a>(l: &'a ListData, key: &str) -> Option<&'a Member> {
    l.members
        .get(&key.to_ascii_lowercase())
        .or_else(|| l.members.get(&subscriber_hash(key)))
        .or_else(|| l.members.values().find(|m| m.contact_id == key))
}

fn member_key(l: &ListData, key: &str) -> Option<String> {
    find_member(l, key).map(|m| m.id.clone())
}

fn write_lists(
    d: &mut MailchimpData,
    method: &Method,
    res: Res,
    ids: &[String],
    body: &[u8],
    _q: &HashMap<String, String>,
) -> Result<Response, Problem> {
    let id = |i: usize| ids.get(i).map(String::as_str).unwrap_or("");
    let t = now();
    if res == Res::Lists {
        let obj = body_object(body)?;
        require(
            &obj,
            &[
                "name",
                "permission_reminder",
                "contact.company",
                "contact.address1",
                "contact.city",
                "contact.country",
                "campaign_defaults.from_name",
                "campaign_defaults.from_email",
                "campaign_defaults.subject",
                "campaign_defaults.language",
            ],
        )?;
        if !obj.get("email_type_option").is_some_and(Value::is_boolean) {
            return Err(Problem::field(
                "email_type_option",
                "This value should not be blank.",
            ));
        }
        let mut l: List = from_obj(obj)?;
        d.next_web_id += 1;
        l.id = format!("{:010x}", (d.seed ^ d.next_web_id as u64) & 0xff_ffff_ffff);
        l.web_id = d.next_web_id;
        l.date_created = t;
        l.list_rating = 0;
        if l.visibility.is_empty() {
            l.visibility = "pub".into();
        }
        l.subscribe_url_short = format!("https://eepurl.com/{}", &l.id[..6]);
        l.subscribe_url_long = format!(
            "https://example.us6.list-manage.com/subscribe?u=0a1b2c3d&id={}",
            l.id
        );
        l.beamer_address = format!("us6-{}@inbound.mailchimp.com", l.id);
        let data = ListData {
            list: l,
            members: BTreeMap::new(),
        };
        let v = render_list(&data);
        d.lists.insert(data.list.id.clone(), data);
        return Ok(ok(v));
    }
    let seed = d.seed;
    d.next_web_id += 1;
    let web_id = d.next_web_id;
    let l = d.lists.get_mut(id(0)).ok_or_else(Problem::not_found)?;
    let list_id = l.list.id.clone();
    let new_member = |obj: Map<String, Value>, status_field: &str| -> Result<Member, Problem> {
        let mut obj = obj;
        let status = obj.remove(status_field);
        obj.remove("status");
        obj.remove("id");
        let mut m: Member = from_obj(obj)?;
        m.status = parse_status(status.as_ref(), status_field)?;
        m.email_address = m.email_address.trim().to_owned();
        if !valid_email(&m.email_address) {
            return Err(Problem::bad_request(format!(
                "{} looks fake or invalid, please enter a real email address.",
                m.email_address
            )));
        }
        m.id = subscriber_hash(&m.email_address);
        let h = subscriber_hash(&format!("{seed}{}", m.id));
        m.unique_email_id = h[..10].to_owned();
        m.contact_id = subscriber_hash(&format!("contact{}", m.id));
        m.web_id = web_id;
        if m.email_type.is_empty() {
            m.email_type = "html".into();
        }
        m.full_name = full_name(&m);
        m.timestamp_opt = t.clone();
        m.last_changed = t.clone();
        m.member_rating = 2;
        m.source = "API - Generic".into();
        m.list_id = list_id.clone();
        Ok(m)
    };
    match (res, method.as_str()) {
        (Res::Members, "POST") => {
            let obj = body_object(body)?;
            require(&obj, &["email_address", "status"])?;
            let m = new_member(obj, "status")?;
            if l.members.contains_key(&m.id) {
                return Err(Problem::new(
                    StatusCode::BAD_REQUEST,
                    "Member Exists",
                    format!(
                        "{} is already a list member. Use PUT to insert or update list members.",
                        m.email_address
                    ),
                ));
            }
            let v = render_member(&m);
            l.members.insert(m.id.clone(), m);
            Ok(ok(v))
        }
        (Res::Member, "PUT") => {
            let obj = body_object(body)?;
            require(&obj, &["email_address", "status_if_new"])?;
            let email = obj
                .get("email_address")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim()
                .to_owned();
            let hash = subscriber_hash(&email);
            let path = id(1);
            if path.to_ascii_lowercase() != hash && subscriber_hash(path) != hash {
                return Err(Problem::bad_request(
                    "The subscriber hash in the URL does not match the email_address in the body.",
                ));
            }
            let m = match l.members.get(&hash) {
                Some(old) => update_member(old, obj, &t)?,
                None => new_member(obj, "status_if_new")?,
            };
            let v = render_member(&m);
            l.members.insert(m.id.clone(), m);
            Ok(ok(v))
        }
        (Res::Member, "PATCH") => {
            let obj = body_object(body)?;
            let key = member_key(l, id(1)).ok_or_else(Problem::not_found)?;
            let old = &l.members[&key];
            let m = update_member(old, obj, &t)?;
            if m.id != key {
                if l.members.contains_key(&m.id) {
                    return Err(Problem::new(
                        StatusCode::BAD_REQUEST,
                        "Member Exists",
                        format!("{} is already a list member.", m.email_address),
                    ));
                }
                l.members.remove(&key);
            }
            let v = render_member(&m);
            l.members.insert(m.id.clone(), m);
            Ok(ok(v))
        }
        (Res::Member, "DELETE") => {
            // DELETE archives the member; it stays readable with status `archived`.
            let key = member_key(l, id(1)).ok_or_else(Problem::not_found)?;
            if let Some(m) = l.members.get_mut(&key) {
                m.status = MemberStatus::Archived;
                m.last_changed = t.clone();
            }
            Ok(no_content())
        }
        _ => Err(Problem::not_found()),
    }
}

fn full_name(m: &Member) -> String {
    let part = |k: &str| {
        m.merge_fields
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    format!("{} {}", part("FNAME"), part("LNAME"))
        .trim()
        .to_owned()
}

fn parse_status(v: Option<&Value>, field: &str) -> Result<MemberStatus, Problem> {
    let allowed = [
        MemberStatus::Subscribed,
        MemberStatus::Unsubscribed,
        MemberStatus::Cleaned,
        MemberStatus::Pending,
        MemberStatus::Transactional,
    ];
    let s = v.and_then(Value::as_str).unwrap_or("");
    allowed
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| {
            Problem::field(
                field,
                "Data did not match any of the allowed values: subscribed, unsubscribed, cleaned, pending, transactional.",
            )
        })
}

fn update_member(old: &Member, mut obj: Map<String, Value>, t: &str) -> Result<Member, Problem> {
    let status = obj.remove("status");
    obj.remove("status_if_new");
    for f in ["id", "unique_email_id", "contact_id", "web_id", "list_id"] {
        obj.remove(f);
    }
    // merge_fields replace key by key, which the deep merge does.
    let mut m: Member = patched(old, obj)?;
    if let Some(s) = status {
        m.status = parse_status(Some(&s), "status")?;
    }
    m.email_address = m.email_address.trim().to_owned();
    if !valid_email(&m.email_address) {
        return Err(Problem::bad_request(format!(
            "{} looks fake or invalid, please enter a real email address.",
            m.email_address
        )));
    }
    m.id = subscriber_hash(&m.email_address);
    m.full_name = full_name(&m);
    m.last_changed = t.to_owned();
    Ok(m)
}

// ---------------------------------------------------------------- control API

fn control(sim: &MailchimpSim, method: &Method, segments: &[String], body: &[u8]) -> Response {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let json_body = || serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    let bad =
        |m: String| (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": m }))).into_response();
    match (method.as_str(), s.as_slice()) {
        ("GET", ["mailchimp"]) => {
            let core = sim.core();
            let (max_connections, bare_403) = *crate::core::lock(&sim.overload);
            axum::Json(json!({
                "system": "mailchimp",
                "seed": sim.seed(),
                "dc": sim.config().dc(),
                "counts": sim.counts(),
                "requests": core.requests_seen(),
                "max_concurrency": core.max_concurrency(),
                "max_connections": max_connections,
                "bare_403_on_overload": bare_403,
                "connection_refusals": sim.connection_refusals(),
                "faults": core.faults(),
                "fault_stats": core.fault_stats(),
            }))
            .into_response()
        }
        ("GET", ["mailchimp", "requests"]) => {
            axum::Json(sim.core().requests_seen()).into_response()
        }
        ("GET", ["mailchimp", "faults"]) => axum::Json(sim.core().faults()).into_response(),
        ("PUT", ["mailchimp", "faults"]) => match serde_json::from_slice::<FaultConfig>(body) {
            Ok(f) => match sim.set_faults(f) {
                Ok(()) => axum::Json(sim.core().faults()).into_response(),
                Err(e) => bad(e.to_string()),
            },
            Err(e) => bad(e.to_string()),
        },
        ("PUT", ["mailchimp", "overload"]) => {
            let v = json_body();
            let (cur_max, cur_bare) = *crate::core::lock(&sim.overload);
            let max = v
                .get("max_connections")
                .and_then(Value::as_u64)
                .map_or(cur_max, |n| n as usize);
            let bare = v
                .get("bare_403")
                .and_then(Value::as_bool)
                .unwrap_or(cur_bare);
            sim.set_overload(max, bare);
            axum::Json(json!({ "max_connections": max.max(1), "bare_403": bare })).into_response()
        }
        ("POST", ["mailchimp", "reset"]) => {
            let seed = json_body().get("seed").and_then(Value::as_u64);
            sim.reset(seed);
            axum::Json(json!({ "seed": sim.seed(), "counts": sim.counts() })).into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": "unknown control endpoint" })),
        )
            .into_response(),
    }
}
