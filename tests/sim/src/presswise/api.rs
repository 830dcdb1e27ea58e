//! HTTP face of the Presswise simulator: the SOAP endpoint `/r/wsdl-order2.php` (POST calls,
//! `GET ?wsdl`) and the control API under `/_control/presswise`.

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
use super::xml::{self, EnvelopeError, Node, Out};
use super::{PresswiseData, PresswiseSim, ENDPOINT_PATH};
use crate::clock::parse_timestamp;
use crate::core::{PreFault, Simulator};
use crate::request::{parse_query, percent_decode};
use crate::FaultConfig;

/// The WSDL served at `GET /r/wsdl-order2.php?wsdl`; `{LOCATION}` becomes the endpoint URL.
const WSDL: &str = include_str!("wsdl-order2.wsdl");

/// The operations served, in WSDL order.
pub const OPERATIONS: &[&str] = &[
    "add_purchase_order",
    "create_user",
    "get_order_status",
    "find_orders",
    "get_categories",
    "get_products",
];

const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 500;

/// `status.code` values (our own numbering; the reference only says 0 is success).
mod code {
    pub const OK: u32 = 0;
    pub const AUTH: u32 = 1;
    pub const MISSING: u32 = 2;
    pub const INVALID: u32 = 3;
    pub const NOT_FOUND: u32 = 4;
    pub const EXISTS: u32 = 5;
}

pub(super) fn router(sim: Arc<PresswiseSim>) -> Router {
    Router::new().fallback(dispatch).with_state(sim)
}

fn soap(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// A SOAP Fault as PHP's SoapServer sends it: HTTP 500, `text/xml`.
fn fault(code: &str, text: &str) -> Response {
    soap(StatusCode::INTERNAL_SERVER_ERROR, xml::fault(code, text))
}

fn html(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=iso-8859-1")],
        format!("<html><head><title>{text}</title></head><body><h1>{text}</h1></body></html>\n"),
    )
        .into_response()
}

async fn dispatch(
    State(sim): State<Arc<PresswiseSim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if let Some(rest) = path.strip_prefix("/_control") {
        let segments: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let query = parse_query(uri.query().unwrap_or(""));
        return control(&sim, &method, &segments, &query, &body);
    }
    // Apache on Linux: the script name is case-sensitive.
    if path != ENDPOINT_PATH {
        return html(StatusCode::NOT_FOUND, "404 Not Found");
    }
    let wants_wsdl = uri
        .query()
        .is_some_and(|q| parse_query(q).contains_key("wsdl"));
    let core = sim.core();
    if method == Method::GET && wants_wsdl {
        let admission = core.admit("GET /r/wsdl-order2.php?wsdl").await;
        if let Some(r) = pre_fault(&sim, admission.pre).await {
            return r;
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let location = format!("http://{host}{ENDPOINT_PATH}");
        let r = soap(StatusCode::OK, WSDL.replace("{LOCATION}", &location));
        return core.shape_body(r, admission.body).await;
    }
    if method != Method::POST {
        // What PHP's SoapServer says to anything but a POSTed envelope.
        return fault(
            "SOAP-ENV:Client",
            "Bad Request. Can't find HTTP_RAW_POST_DATA",
        );
    }
    let parsed = xml::parse(&body).and_then(xml::operation);
    let key = match &parsed {
        Ok(op) if OPERATIONS.contains(&op.name.as_str()) => {
            format!("POST {ENDPOINT_PATH} {}", op.name)
        }
        _ => format!("POST {ENDPOINT_PATH}"),
    };
    let admission = core.admit(&key).await;
    if let Some(r) = pre_fault(&sim, admission.pre).await {
        return r;
    }
    let action = headers
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"').to_owned());
    if action.as_deref() != Some("#POST") {
        return fault("SOAP-ENV:Client", "SOAPAction header must be #POST");
    }
    let op = match parsed {
        Ok(op) => op,
        Err(EnvelopeError::Version) => return fault("SOAP-ENV:VersionMismatch", "Wrong Version"),
        Err(EnvelopeError::Xml(m)) => {
            return fault("SOAP-ENV:Client", &format!("Bad Request: {m}"))
        }
        Err(EnvelopeError::Shape(m)) => return fault("SOAP-ENV:Client", &m),
    };
    if !OPERATIONS.contains(&op.name.as_str()) {
        return fault(
            "SOAP-ENV:Server",
            &format!("Procedure '{}' not present", op.name),
        );
    }
    let (mut response, applied_write) = handle(&sim, &op);
    let broken = op.name == "get_order_status"
        && op
            .text_of("orderID")
            .and_then(|id| id.parse().ok())
            .is_some_and(|id| sim.status_is_broken(id));
    if broken {
        let half = response.len() / 2;
        let cut = (0..=half)
            .rev()
            .find(|i| response.is_char_boundary(*i))
            .unwrap_or(0);
        response.truncate(cut);
    }
    if applied_write && sim.hang_after_write() {
        // The write is applied; the answer is never sent (the client sees a timeout).
        core.hang().await;
        return html(StatusCode::SERVICE_UNAVAILABLE, "503 Service Unavailable");
    }
    core.shape_body(soap(StatusCode::OK, response), admission.body)
        .await
}

async fn pre_fault(sim: &PresswiseSim, pre: PreFault) -> Option<Response> {
    match pre {
        PreFault::None => None,
        PreFault::Timeout => {
            sim.core().hang().await;
            Some(html(
                StatusCode::SERVICE_UNAVAILABLE,
                "503 Service Unavailable",
            ))
        }
        PreFault::Throttle { retry_after_secs } => {
            // No rate limit is known; a fronting proxy's 429 is HTML, not SOAP.
            let mut r = html(StatusCode::TOO_MANY_REQUESTS, "429 Too Many Requests");
            r.headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs.into());
            Some(r)
        }
        PreFault::ServerError { status: 503 } => Some(html(
            StatusCode::SERVICE_UNAVAILABLE,
            "503 Service Unavailable",
        )),
        PreFault::ServerError { .. } => Some(fault("SOAP-ENV:Server", "Internal Server Error")),
    }
}

/// Runs one operation; the flag says whether a write was applied.
fn handle(sim: &PresswiseSim, op: &Node) -> (String, bool) {
    let name = op.name.as_str();
    let result_type = match name {
        "add_purchase_order" => "ns1:PurchaseOrderResult",
        "create_user" => "ns1:UserResult",
        "get_order_status" => "ns1:OrderStatusResult",
        "find_orders" => "ns1:FindOrdersResult",
        "get_categories" => "ns1:CategoriesResult",
        _ => "ns1:ProductsResult",
    };
    let mut out = Out::default();
    if let Err((c, text)) = authorise(sim, op) {
        out.status(c, &text);
        return (out.envelope(name, result_type), false);
    }
    let outcome = match name {
        "add_purchase_order" => add_purchase_order(sim, op, &mut out),
        "create_user" => create_user(sim, op, &mut out),
        "get_order_status" => get_order_status(sim, op, &mut out),
        "find_orders" => find_orders(sim, op, &mut out),
        "get_categories" => get_categories(sim, op, &mut out),
        _ => get_products(sim, op, &mut out),
    };
    let wrote = match outcome {
        Ok(wrote) => wrote,
        Err((c, text)) => {
            out = Out::default();
            out.status(c, &text);
            false
        }
    };
    (out.envelope(name, result_type), wrote)
}

type OpResult = Result<bool, (u32, String)>;

fn missing(field: &str) -> (u32, String) {
    (code::MISSING, format!("Missing required field: {field}"))
}

fn invalid(field: &str, value: &str) -> (u32, String) {
    (
        code::INVALID,
        format!("Invalid value for {field}: '{value}'"),
    )
}

fn authorise(sim: &PresswiseSim, op: &Node) -> Result<(), (u32, String)> {
    let Some(auth) = op.child("auth").filter(|a| !a.is_nil()) else {
        return Err((code::AUTH, "Authentication failed: missing auth".into()));
    };
    let c = sim.credentials();
    let given = |f: &str| auth.child(f).map(|n| n.text.as_str()).unwrap_or("");
    // Compared exactly: passwords and codes are case-sensitive; the user name too (our choice).
    if given("user") == c.user && given("pass") == c.pass && given("code") == c.code {
        Ok(())
    } else {
        Err((
            code::AUTH,
            "Authentication failed: invalid user, pass or code".into(),
        ))
    }
}

fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 4
}

const ORDER_FIELDS: &[&str] = &[
    "customerPO",
    "sourceOrderID",
    "userID",
    "initial_status",
    "shipMethod",
    "subTotal",
    "taxCost",
    "totalCost",
    "dueDate",
    "comments",
    "items",
];
const ADDRESS_PARTS: &[&str] = &[
    "First",
    "Last",
    "NameCompany",
    "Street",
    "City",
    "State",
    "Zip",
    "Country",
];
const REQUIRED_ORDER: &[&str] = &[
    "sourceOrderID",
    "btFirst",
    "btLast",
    "btStreet",
    "btCity",
    "btZip",
    "btCountry",
    "stFirst",
    "stLast",
    "stStreet",
    "stCity",
    "stZip",
    "stCountry",
    "shipMethod",
    "totalCost",
];

fn party(order: &Node, prefix: &str) -> PartyAddress {
    let t = |part: &str| {
        order
            .text_of(&format!("{prefix}{part}"))
            .unwrap_or_default()
    };
    PartyAddress {
        first: t("First"),
        last: t("Last"),
        name_company: t("NameCompany"),
        street: t("Street"),
        city: t("City"),
        state: t("State"),
        zip: t("Zip"),
        country: t("Country"),
    }
}

fn is_address_field(name: &str) -> bool {
    ["bt", "st"].iter().any(|p| {
        name.strip_prefix(p)
            .is_some_and(|rest| ADDRESS_PARTS.contains(&rest))
    })
}

fn file_href(item: &Node) -> String {
    let Some(f) = item.child("fileF").filter(|f| !f.is_nil()) else {
        return String::new();
    };
    if let Some(h) = f.text_of("href") {
        return h;
    }
    // `<fileF href="https://…"/>`: a plain attribute (a `#id` one was resolved as a reference).
    f.attr("href")
        .filter(|h| !h.starts_with('#'))
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

fn read_items(sim_data: &PresswiseData, node: &Node) -> Result<Vec<ItemFields>, (u32, String)> {
    let mut items = Vec::new();
    for (k, item) in node.children.iter().enumerate() {
        let at = |f: &str| format!("items[{}].{f}", k + 1);
        let t = |f: &str| item.text_of(f).unwrap_or_default();
        let quantity = item
            .text_of("quantity")
            .ok_or_else(|| missing(&at("quantity")))?;
        if !quantity.parse::<u32>().is_ok_and(|q| q > 0) {
            return Err(invalid(&at("quantity"), &quantity));
        }
        let product_id = item
            .text_of("productID")
            .ok_or_else(|| missing(&at("productID")))?;
        let product = product_id
            .parse::<u64>()
            .ok()
            .and_then(|id| sim_data.products.iter().find(|p| p.product_id == id));
        match product {
            None => {
                return Err((
                    code::NOT_FOUND,
                    format!("Product not found: {} = '{product_id}'", at("productID")),
                ))
            }
            Some(p) if !p.active => {
                return Err((
                    code::INVALID,
                    format!("Product {product_id} is inactive ({})", at("productID")),
                ))
            }
            Some(_) => {}
        }
        let source_job_id = item
            .text_of("sourceJobID")
            .ok_or_else(|| missing(&at("sourceJobID")))?;
        let num_pages = t("numPages");
        if !num_pages.is_empty() && !num_pages.parse::<u32>().is_ok_and(|n| n > 0) {
            return Err(invalid(&at("numPages"), &num_pages));
        }
        let known = [
            "quantity",
            "productID",
            "productDesc",
            "fileF",
            "sourceJobID",
            "numPages",
        ];
        items.push(ItemFields {
            quantity,
            product_id,
            product_desc: t("productDesc"),
            file_href: file_href(item),
            source_job_id,
            num_pages,
            extra: item
                .children
                .iter()
                .filter(|c| !known.contains(&c.name.as_str()))
                .map(|c| (c.name.clone(), c.text.trim().to_owned()))
                .collect(),
        });
    }
    Ok(items)
}

fn add_purchase_order(sim: &PresswiseSim, op: &Node, out: &mut Out) -> OpResult {
    let order = op
        .child("order")
        .filter(|o| !o.is_nil())
        .ok_or_else(|| missing("order"))?;
    for f in REQUIRED_ORDER {
        if order.text_of(f).is_none() {
            return Err(missing(f));
        }
    }
    let t = |f: &str| order.text_of(f).unwrap_or_default();
    for f in ["subTotal", "taxCost", "totalCost"] {
        let v = t(f);
        if !v.is_empty() && !is_decimal(&v) {
            return Err(invalid(f, &v));
        }
    }
    let due = t("dueDate");
    if !due.is_empty() && parse_timestamp(&due).is_none() {
        return Err(invalid("dueDate", &due));
    }
    let initial = t("initial_status");
    let status = if initial.is_empty() {
        0
    } else {
        order_status_index(&initial).ok_or_else(|| invalid("initial_status", &initial))?
    };
    let items_node = order
        .child("items")
        .filter(|i| !i.is_nil() && !i.children.is_empty())
        .ok_or_else(|| missing("items"))?;
    let mut d = sim.write();
    let user_id = t("userID");
    if !user_id.is_empty()
        && !user_id
            .parse::<u64>()
            .is_ok_and(|id| d.users.iter().any(|u| u.user_id == id))
    {
        return Err((
            code::NOT_FOUND,
            format!("User not found: userID = '{user_id}'"),
        ));
    }
    let items = read_items(&d, items_node)?;
    let fields = OrderFields {
        customer_po: t("customerPO"),
        source_order_id: t("sourceOrderID"),
        user_id,
        bill_to: party(order, "bt"),
        ship_to: party(order, "st"),
        initial_status: initial,
        ship_method: t("shipMethod"),
        sub_total: t("subTotal"),
        tax_cost: t("taxCost"),
        total_cost: t("totalCost"),
        due_date: due,
        comments: order
            .child("comments")
            .map(|c| c.text.clone())
            .unwrap_or_default(),
        items,
        extra: order
            .children
            .iter()
            .filter(|c| !ORDER_FIELDS.contains(&c.name.as_str()) && !is_address_field(&c.name))
            .map(|c| (c.name.clone(), c.text.trim().to_owned()))
            .collect(),
    };
    // No idempotency key: the same sourceOrderID again is a new order, as in the real MIS.
    let id = d.add_order(fields, status);
    let Some(o) = d.order(id) else {
        return Err((code::NOT_FOUND, "Order not found".into()));
    };
    let fields = d.fields(o);
    out.status(code::OK, "OK").int("orderID", id);
    out.open_array("items", "ns1:ItemRef", o.items.len());
    for (state, f) in o.items.iter().zip(&fields.items) {
        out.open("item", "ns1:ItemRef")
            .int("itemID", state.id)
            .string("sourceJobID", &f.source_job_id)
            .close("item");
    }
    out.close("items");
    Ok(true)
}

fn create_user(sim: &PresswiseSim, op: &Node, out: &mut Out) -> OpResult {
    let user = op
        .child("user")
        .filter(|u| !u.is_nil())
        .ok_or_else(|| missing("user"))?;
    let email = user.text_of("email").ok_or_else(|| missing("email"))?;
    let (local, domain) = email.split_once('@').unwrap_or(("", ""));
    if local.is_empty() || !domain.contains('.') || email.contains(char::is_whitespace) {
        return Err(invalid("email", &email));
    }
    let first = user
        .text_of("firstName")
        .ok_or_else(|| missing("firstName"))?;
    let last = user
        .text_of("lastName")
        .ok_or_else(|| missing("lastName"))?;
    let mut d = sim.write();
    let wanted = email.to_ascii_lowercase();
    // E-mail is unique per tenant, compared as MySQL's case-insensitive collation does
    // (trailing spaces ignored too).
    if let Some(u) = d
        .users
        .iter()
        .find(|u| u.email.trim().to_ascii_lowercase() == wanted)
    {
        let id = u.user_id;
        out.status(
            code::EXISTS,
            &format!("User already exists: email = '{email}'"),
        )
        .int("userID", id);
        return Ok(false);
    }
    let username = user.text_of("username").unwrap_or_else(|| email.clone());
    if d.users
        .iter()
        .any(|u| u.username.eq_ignore_ascii_case(&username))
    {
        return Err((
            code::EXISTS,
            format!("User already exists: username = '{username}'"),
        ));
    }
    let id = d
        .users
        .last()
        .map_or(super::generator::FIRST_USER_ID, |u| u.user_id + 1);
    d.users.push(User {
        user_id: id,
        username,
        email,
        first_name: first,
        last_name: last,
        company: user.text_of("company").unwrap_or_default(),
        phone: user.text_of("phone").unwrap_or_default(),
        created_by_api: true,
    });
    out.status(code::OK, "OK").int("userID", id);
    Ok(true)
}

fn write_order_status(d: &PresswiseData, o: &Order, name: &str, out: &mut Out) {
    let f = d.fields(o);
    out.open(name, "ns1:OrderStatus")
        .int("orderID", o.id)
        .string("sourceOrderID", &f.source_order_id)
        .string("customerPO", &f.customer_po)
        .string("status", ORDER_STATUSES[o.status as usize])
        .string("statusDate", &mysql_datetime(o.status_date))
        .string("created", &mysql_datetime(o.created))
        .string("modified", &mysql_datetime(o.modified));
    out.open_array("items", "ns1:ItemStatus", o.items.len());
    for (state, item) in o.items.iter().zip(&f.items) {
        out.open("item", "ns1:ItemStatus")
            .int("itemID", state.id)
            .string("sourceJobID", &item.source_job_id)
            .string("productID", &item.product_id)
            .string("quantity", &item.quantity)
            .string("status", ITEM_STATUSES[state.status as usize])
            .string("statusDate", &mysql_datetime(state.status_date));
        match &state.shipment {
            Some(s) => {
                out.open("shipment", "ns1:Shipment")
                    .string("carrier", &s.carrier)
                    .string("trackingNumber", &s.tracking_number)
                    .string("shipDate", &s.ship_date)
                    .close("shipment");
            }
            None => {
                out.nil("shipment");
            }
        }
        out.close("item");
    }
    out.close("items").close(name);
}

fn get_order_status(sim: &PresswiseSim, op: &Node, out: &mut Out) -> OpResult {
    let id_text = op.text_of("orderID").ok_or_else(|| missing("orderID"))?;
    let id: u64 = id_text.parse().map_err(|_| invalid("orderID", &id_text))?;
    let d = sim.read();
    let o = d.order(id).ok_or_else(|| {
        (
            code::NOT_FOUND,
            format!("Order not found: orderID = '{id}'"),
        )
    })?;
    out.status(code::OK, "OK");
    write_order_status(&d, o, "order", out);
    Ok(false)
}

fn find_orders(sim: &PresswiseSim, op: &Node, out: &mut Out) -> OpResult {
    let source = op
        .text_of("sourceOrderID")
        .ok_or_else(|| missing("sourceOrderID"))?;
    let d = sim.read();
    let ids = d.for_source(&source);
    // Not finding one is an answer, not an error: a connector asks to learn whether a push
    // whose answer it lost has landed.
    out.status(code::OK, "OK").int("count", ids.len());
    out.open_array("orders", "ns1:OrderStatus", ids.len());
    for id in ids {
        if let Some(o) = d.order(*id) {
            write_order_status(&d, o, "item", out);
        }
    }
    out.close("orders");
    Ok(false)
}

fn paging(op: &Node) -> Result<(usize, usize), (u32, String)> {
    let page = match op.text_of("page") {
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| invalid("page", &p))?,
        None => 1,
    };
    let size = match op.text_of("pageSize") {
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|s| (1..=MAX_PAGE_SIZE).contains(s))
            .ok_or_else(|| invalid("pageSize", &s))?,
        None => DEFAULT_PAGE_SIZE,
    };
    Ok((page, size))
}

fn get_categories(sim: &PresswiseSim, op: &Node, out: &mut Out) -> OpResult {
    let (page, size) = paging(op)?;
    let d = sim.read();
    let rows: Vec<&Category> = d
        .categories
        .iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .collect();
    out.status(code::OK, "OK")
        .int("page", page)
        .int("pageSize", size)
        .int("total", d.categories.len());
    out.open_array("categories", "ns1:Category", rows.len());
    for c in rows {
        out.open("item", "ns1:Category")
            .int("categoryID", c.category_id)
            .int("parentID", c.parent_id)
            .string("name", &c.name)
            .boolean("active", c.active)
            .close("item");
    }
    out.close("categories");
    Ok(false)
}

fn get_products(sim: &PresswiseSim, op: &Node, out: &mut Out) -> OpResult {
    let (page, size) = paging(op)?;
    let category = match op.text_of("categoryID") {
        Some(c) => Some(c.parse::<u64>().map_err(|_| invalid("categoryID", &c))?),
        None => None,
    };
    let d = sim.read();
    if let Some(c) = category.filter(|c| *c != 0) {
        if !d.categories.iter().any(|k| k.category_id == c) {
            return Err((
                code::NOT_FOUND,
                format!("Category not found: categoryID = '{c}'"),
            ));
        }
    }
    let matching: Vec<&Product> = d
        .products
        .iter()
        .filter(|p| category.is_none_or(|c| p.category_id == c))
        .collect();
    let rows = matching
        .iter()
        .skip((page - 1).saturating_mul(size))
        .take(size);
    let shown = matching
        .len()
        .saturating_sub((page - 1).saturating_mul(size))
        .min(size);
    out.status(code::OK, "OK")
        .int("page", page)
        .int("pageSize", size)
        .int("total", matching.len());
    out.open_array("products", "ns1:Product", shown);
    for p in rows {
        out.open("item", "ns1:Product")
            .int("productID", p.product_id)
            .string("sku", &p.sku)
            .string("name", &p.name)
            .string("description", &p.description)
            .int("categoryID", p.category_id)
            .typed("price", "xsd:decimal", &money(p.price_cents))
            .boolean("active", p.active)
            .string("modified", &mysql_datetime(p.modified))
            .close("item");
    }
    out.close("products");
    Ok(false)
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
    status: String,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ItemBody {
    status: Option<String>,
    shipment: Option<Shipment>,
}

fn control_error(status: StatusCode, text: impl std::fmt::Display) -> Response {
    (status, axum::Json(json!({ "error": text.to_string() }))).into_response()
}

fn ok_json<T: serde::Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
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

fn status_json(sim: &PresswiseSim) -> Value {
    let core = sim.core();
    json!({
        "system": "presswise",
        "seed": sim.seed(),
        "counts": sim.counts(),
        "requests": core.requests_seen(),
        "max_concurrency": core.max_concurrency(),
        "faults": core.faults(),
        "fault_stats": core.fault_stats(),
        "accept_then_hang": sim.accept_then_hang(),
    })
}

fn sim_error(e: crate::SimError) -> Response {
    let status = match e {
        crate::SimError::UnknownOrder(_) | crate::SimError::UnknownOrderItem { .. } => {
            StatusCode::NOT_FOUND
        }
        _ => StatusCode::BAD_REQUEST,
    };
    control_error(status, e)
}

fn order_id(text: &str) -> Result<u64, Response> {
    text.parse()
        .map_err(|_| control_error(StatusCode::BAD_REQUEST, "order id must be a number"))
}

fn control(
    sim: &PresswiseSim,
    method: &Method,
    path: &[String],
    query: &HashMap<String, String>,
    body: &[u8],
) -> Response {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    let result: Result<Response, Response> = (|| match (method.as_str(), p.as_slice()) {
        ("GET", []) | ("GET", ["presswise"]) => Ok(ok_json(&status_json(sim))),
        ("GET", ["presswise", "requests"]) => Ok(ok_json(&sim.core().requests_seen())),
        ("GET", ["presswise", "faults"]) => Ok(ok_json(&sim.core().faults())),
        ("PUT", ["presswise", "faults"]) => {
            let faults: FaultConfig = parse_body(body)?;
            sim.set_faults(faults).map_err(sim_error)?;
            Ok(ok_json(&sim.core().faults()))
        }
        ("GET", ["presswise", "accept-then-hang"]) => Ok(ok_json(&sim.accept_then_hang())),
        ("PUT", ["presswise", "accept-then-hang"]) => {
            let h: super::AcceptThenHang = parse_body(body)?;
            sim.set_accept_then_hang(h.rate, h.next)
                .map_err(sim_error)?;
            Ok(ok_json(&sim.accept_then_hang()))
        }
        ("GET", ["presswise", "orders"]) => {
            let pushed_only = query.get("pushed").is_some_and(|v| v == "true" || v == "1");
            let views = match query.get("sourceorderid") {
                Some(s) => sim
                    .orders_for_source(s)
                    .into_iter()
                    .filter_map(|id| sim.order(id))
                    .filter(|v| !pushed_only || v.pushed)
                    .collect::<Vec<_>>(),
                None if pushed_only => sim.pushed_orders(),
                None => {
                    return Err(control_error(
                        StatusCode::BAD_REQUEST,
                        "give sourceOrderID=… or pushed=true",
                    ))
                }
            };
            Ok(ok_json(&views))
        }
        ("GET", ["presswise", "orders", id]) => {
            let id = order_id(id)?;
            sim.order(id)
                .map(|v| ok_json(&v))
                .ok_or_else(|| sim_error(crate::SimError::UnknownOrder(id)))
        }
        ("PUT", ["presswise", "orders", id, "status"]) => {
            let id = order_id(id)?;
            let b: StatusBody = parse_required(body)?;
            sim.set_order_status(id, &b.status).map_err(sim_error)?;
            Ok(ok_json(&sim.order(id)))
        }
        ("PUT", ["presswise", "orders", id, "items", item]) => {
            let id = order_id(id)?;
            let b: ItemBody = parse_body(body)?;
            if b.status.is_none() && b.shipment.is_none() {
                return Err(control_error(
                    StatusCode::BAD_REQUEST,
                    "give status and/or shipment",
                ));
            }
            sim.change_item(id, item, b.status.as_deref(), b.shipment)
                .map_err(sim_error)?;
            Ok(ok_json(&sim.order(id)))
        }
        ("GET", ["presswise", "sources", source]) => {
            let ids = sim.orders_for_source(source);
            Ok(ok_json(&json!({
                "sourceOrderID": source,
                "count": ids.len(),
                "orderIDs": ids,
            })))
        }
        ("GET", ["presswise", "duplicates"]) => {
            let rows: Vec<Value> = sim
                .duplicate_sources()
                .into_iter()
                .map(|(s, ids)| json!({ "sourceOrderID": s, "orderIDs": ids }))
                .collect();
            Ok(ok_json(&rows))
        }
        ("GET", ["presswise", "users"]) => {
            let created_only = query
                .get("created")
                .is_some_and(|v| v == "true" || v == "1");
            Ok(ok_json(&if created_only {
                sim.created_users()
            } else {
                sim.users()
            }))
        }
        ("POST", ["presswise", "reset"]) => {
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
