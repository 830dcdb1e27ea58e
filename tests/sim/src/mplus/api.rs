//! HTTP face of the MplusKASSA simulator: the SOAP endpoint `POST /?ident=…&secret=…` and the
//! control API under `/_control/mplus`.

// Faults are returned early as ready answers; their size is irrelevant on this path.
#![allow(clippy::result_large_err)]

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use super::model::*;
use super::soap::{self, FaultCode, Node, ParseError, Writer, MPLUS_NS};
use super::{generator, CreateAnswer, MplusData, MplusSim, OrderTouch, StockChange};
use super::{MAX_SYNC_LIMIT, OPERATIONS};
use crate::clock::{to_datetime, Millis};
use crate::core::{PreFault, Simulator};
use crate::request::parse_query;
use crate::FaultConfig;

pub(super) fn router(sim: Arc<MplusSim>) -> Router {
    Router::new().fallback(dispatch).with_state(sim)
}

/// A SOAP Fault to answer with.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    code: FaultCode,
    string: String,
    detail: Option<String>,
}

impl Fault {
    fn client(string: impl Into<String>) -> Fault {
        Fault {
            code: FaultCode::Client,
            string: string.into(),
            detail: None,
        }
    }
    fn detail(mut self, d: impl Into<String>) -> Fault {
        self.detail = Some(d.into());
        self
    }
    fn xml(&self) -> String {
        soap::fault(self.code, &self.string, self.detail.as_deref())
    }
}

fn xml_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn fault_response(f: &Fault) -> Response {
    // SOAP 1.1 over HTTP: every Fault travels with 500.
    xml_response(StatusCode::INTERNAL_SERVER_ERROR, f.xml())
}

async fn dispatch(
    State(sim): State<Arc<MplusSim>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.first() == Some(&"_control") {
        return control(&sim, &method, &segments[1..], &body);
    }
    if !segments.is_empty() {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    if method != Method::POST {
        return xml_response(
            StatusCode::METHOD_NOT_ALLOWED,
            Fault::client(format!("HTTP {method} method not implemented")).xml(),
        );
    }
    let parsed = soap::parse_request(&body);
    let key = match &parsed {
        Ok(op) => op.name.clone(),
        Err(_) => "(unreadable request)".to_owned(),
    };
    let core = sim.core();
    let admission = core.admit(&key).await;
    match admission.pre {
        PreFault::Timeout => {
            core.hang().await;
            return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
        }
        PreFault::Throttle { retry_after_secs } => {
            let f = Fault {
                code: FaultCode::Server,
                string: "Too many requests, try again later".into(),
                detail: None,
            };
            let mut r = xml_response(StatusCode::TOO_MANY_REQUESTS, f.xml());
            r.headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs.into());
            return r;
        }
        PreFault::ServerError { status: 503 } => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><head><title>503 Service Unavailable</title></head><body><h1>503 Service Unavailable</h1></body></html>",
            )
                .into_response();
        }
        PreFault::ServerError { .. } => {
            return fault_response(&Fault {
                code: FaultCode::Server,
                string: "Internal server error".into(),
                detail: Some("The MplusKASSA server could not complete the request".into()),
            });
        }
        PreFault::None => {}
    }
    let op = match parsed {
        Ok(op) => op,
        Err(e) => return fault_response(&parse_fault(&e)),
    };
    let q = parse_query(uri.query().unwrap_or(""));
    let cfg = sim.config();
    let ok = q.get("ident").is_some_and(|i| *i == cfg.ident)
        && q.get("secret").is_some_and(|s| *s == cfg.secret);
    if !ok {
        return fault_response(
            &Fault::client("Authentication failed")
                .detail("Unknown ident or wrong secret (query parameters `ident` and `secret`)"),
        );
    }
    let response = match handle(&sim, &op) {
        Ok(content) => xml_response(StatusCode::OK, soap::envelope(&content)),
        Err(f) => fault_response(&f),
    };
    core.shape_body(response, admission.body).await
}

fn parse_fault(e: &ParseError) -> Fault {
    match e {
        ParseError::Syntax(m) => Fault::client("XML syntax error").detail(m.clone()),
        ParseError::NotEnvelope(m) => {
            Fault::client("Validation constraint violation: tag name or namespace mismatch")
                .detail(m.clone())
        }
    }
}

/// The answer to a raw request without HTTP, faults or credentials: `(is_fault, envelope)`.
pub(super) fn answer_xml(sim: &MplusSim, body: &[u8]) -> (bool, String) {
    match soap::parse_request(body).map_err(|e| parse_fault(&e)) {
        Ok(op) => match handle(sim, &op) {
            Ok(c) => (false, soap::envelope(&c)),
            Err(f) => (true, f.xml()),
        },
        Err(f) => (true, f.xml()),
    }
}

fn handle(sim: &MplusSim, op: &Node) -> Result<String, Fault> {
    if op.ns != MPLUS_NS || !OPERATIONS.contains(&op.name.as_str()) {
        return Err(Fault::client(format!(
            "Method '{}' not implemented: method name or namespace not recognized",
            op.name
        ))
        .detail(format!("element {{{}}}{}", op.ns, op.name)));
    }
    match op.name.as_str() {
        "getProducts" => get_products(&sim.read(), required(op, "request")?),
        "getArticleGroups" => get_article_groups(&sim.read(), required(op, "request")?),
        "getRelations" => get_relations(&sim.read(), op.child("request")),
        "createRelation" => create_relation(&mut sim.write(), op.child("relation")),
        "updateRelation" => update_relation(&mut sim.write(), op.child("relation")),
        "getOrders" => get_orders(&sim.read(), required(op, "request")?),
        "getOrderChanges" => get_order_changes(&sim.read(), required(op, "request")?),
        "createOrderV3" => create_order(&mut sim.write(), required(op, "request")?),
        "updateOrder" => update_order(&mut sim.write(), op.child("order")),
        "getStock" => get_stock(&sim.read(), required(op, "request")?),
        "updateStock" => change_stock(&mut sim.write(), required(op, "request")?, false),
        "setStock" => change_stock(&mut sim.write(), required(op, "request")?, true),
        "getCurrentSyncMarkers" => Ok(current_markers(&sim.read())),
        other => Err(Fault::client(format!(
            "Method '{other}' not implemented: method name or namespace not recognized"
        ))),
    }
}

// ---- reading request values ----

fn required<'a>(node: &'a Node, name: &str) -> Result<&'a Node, Fault> {
    node.child(name).ok_or_else(|| {
        Fault::client("Validation constraint violation: missing required element")
            .detail(format!("<{name}> is required in <{}>", node.name))
    })
}

fn mismatch(node: &Node, name: &str, text: &str) -> Fault {
    Fault::client("Validation constraint violation: data type mismatch")
        .detail(format!("<{name}> in <{}>: `{text}`", node.name))
}

fn int<T: std::str::FromStr>(node: &Node, name: &str) -> Result<Option<T>, Fault> {
    match node.text_of(name) {
        None => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|_| mismatch(node, name, t)),
    }
}

fn req_int<T: std::str::FromStr>(node: &Node, name: &str) -> Result<T, Fault> {
    required(node, name)?;
    int(node, name)?.ok_or_else(|| mismatch(node, name, ""))
}

fn ints<T: std::str::FromStr>(node: &Node, name: &str) -> Result<Vec<T>, Fault> {
    node.all(name)
        .map(|c| {
            let t = c.text.trim();
            t.parse().map_err(|_| mismatch(node, name, t))
        })
        .collect()
}

fn boolean(node: &Node, name: &str) -> Result<Option<bool>, Fault> {
    match node.text_of(name) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(t) => Err(mismatch(node, name, t)),
    }
}

fn string(node: &Node, name: &str) -> Option<String> {
    node.child(name).map(|c| c.text.clone())
}

/// A `SoapMplusDate` (`day`, `mon`, `year`) as the midnight it starts.
fn date(node: &Node, name: &str) -> Result<Option<Millis>, Fault> {
    let Some(d) = node.child(name) else {
        return Ok(None);
    };
    let (day, mon, year): (u32, u32, i32) =
        (req_int(d, "day")?, req_int(d, "mon")?, req_int(d, "year")?);
    chrono::NaiveDate::from_ymd_opt(year, mon, day)
        .and_then(|x| x.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc().timestamp_millis()))
        .ok_or_else(|| mismatch(node, name, &format!("{year}-{mon}-{day}")))
}

/// The `(syncMarker, syncMarkerLimit)` of a feed request; the limit is cut to 1..=1000.
fn feed_args(node: &Node) -> Result<(Option<i64>, usize), Fault> {
    let marker: Option<i64> = int(node, "syncMarker")?;
    let limit: Option<i64> = int(node, "syncMarkerLimit")?;
    let limit = limit.map_or(MAX_SYNC_LIMIT, |l| (l.max(1) as usize).min(MAX_SYNC_LIMIT));
    Ok((marker, limit))
}

/// The records of a feed after `marker`, at most `limit`, that `keep` accepts.
fn feed<'a>(
    feed: &'a std::collections::BTreeMap<i64, usize>,
    marker: i64,
    limit: usize,
    mut keep: impl FnMut(usize) -> bool + 'a,
) -> impl Iterator<Item = usize> + 'a {
    feed.range(marker.saturating_add(1)..)
        .map(|(_, &i)| i)
        .filter(move |&i| keep(i))
        .take(limit)
}

// ---- writing shared types ----

fn datetime(w: &mut Writer, name: &'static str, ms: Millis) {
    use chrono::{Datelike, Timelike};
    let t = to_datetime(ms);
    w.open(name)
        .val("sec", t.second())
        .val("min", t.minute())
        .val("hour", t.hour())
        .val("day", t.day())
        .val("mon", t.month())
        .val("year", t.year())
        .val("isdst", false)
        .val("timezone", 0)
        .close();
}

fn date_out(w: &mut Writer, name: &'static str, ms: Millis) {
    use chrono::Datelike;
    let t = to_datetime(ms);
    w.open(name)
        .val("day", t.day())
        .val("mon", t.month())
        .val("year", t.year())
        .close();
}

fn yes(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

// ---- products and article groups ----

fn write_article(w: &mut Writer, a: &Article, groups: &[i32]) {
    w.open("article")
        .val("articleNumber", a.number)
        .text("pluNumber", &a.plu)
        .val("syncMarker", a.marker);
    datetime(w, "changeTimestamp", a.changed);
    datetime(w, "createTimestamp", a.created);
    w.text("active", yes(a.active))
        .text("description", &a.description)
        .opt("colour", a.colour.as_deref())
        .opt("size", a.size.as_deref())
        .text("invoiceText", &a.description)
        .text("receiptText", &a.description)
        .text("displayText", &a.description)
        .text("barcode", &a.barcode)
        .text("brandName", &a.brand)
        .val("turnoverGroup", a.turnover_group)
        .val("vatCode", a.vat_code)
        .val("vatPercentage", a.vat_percentage)
        .val("purchasePrice", a.purchase_price)
        .val("priceIncl", a.price_incl)
        .val("priceExcl", a.price_excl)
        .text("webshop", yes(a.webshop))
        .val("categoryId", groups.first().copied().unwrap_or(0))
        .text("stockArticle", yes(a.stock_article))
        .text("specialPrice", "PRICE-NORMAL")
        .open("barcodeList")
        .open("barcode")
        .text("barcode", &a.barcode)
        .close()
        .close()
        .text("discontinued", yes(!a.active))
        .close();
}

fn write_product(w: &mut Writer, p: &Product) {
    w.open("product")
        .val("productNumber", p.number)
        .val("syncMarker", p.marker)
        .text("description", &p.description)
        .text("extraText", &p.extra_text)
        .open("articleList");
    for a in &p.articles {
        write_article(w, a, &p.groups);
    }
    w.close();
    for g in &p.groups {
        w.val("groupNumbers", g);
    }
    w.close();
}

fn get_products(d: &MplusData, req: &Node) -> Result<String, Fault> {
    let articles: HashSet<i64> = ints(req, "articleNumbers")?.into_iter().collect();
    let products: HashSet<i64> = ints(req, "productNumbers")?.into_iter().collect();
    let groups: HashSet<i32> = ints(req, "groupNumbers")?.into_iter().collect();
    let plus: HashSet<String> = req
        .child("pluNumbers")
        .map(|l| {
            l.all("text")
                .filter_map(|t| t.text_of("text"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let only_webshop = boolean(req, "onlyWebshop")?.unwrap_or(false);
    let only_active = boolean(req, "onlyActive")?.unwrap_or(false);
    let (marker, limit) = feed_args(req)?;
    let keep = |i: usize| {
        let p = &d.products[i];
        (products.is_empty() || products.contains(&p.number))
            && (groups.is_empty() || p.groups.iter().any(|g| groups.contains(g)))
            && (articles.is_empty() || p.articles.iter().any(|a| articles.contains(&a.number)))
            && (plus.is_empty() || p.articles.iter().any(|a| plus.contains(&a.plu)))
            && (!only_webshop || p.articles.iter().any(|a| a.webshop))
            && (!only_active || p.articles.iter().any(|a| a.active))
    };
    let mut w = Writer::new();
    w.open("GetProductsResponse").open("productList");
    let picked: Vec<usize> = match marker {
        Some(m) => feed(&d.product_feed, m, limit, keep).collect(),
        None => (0..d.products.len()).filter(|&i| keep(i)).collect(),
    };
    for i in picked {
        write_product(&mut w, &d.products[i]);
    }
    Ok(w.finish())
}

fn write_group(w: &mut Writer, d: &MplusData, g: &ArticleGroup, with_articles: bool) {
    w.open("articleGroups")
        .val("groupNumber", g.number)
        .val("syncMarker", g.marker)
        .text("name", &g.name)
        .text("text", &g.text)
        .open("subGroupList");
    for s in d.groups.iter().filter(|s| s.parent == Some(g.number)) {
        write_group(w, d, s, with_articles);
    }
    w.close().val("sortOrder", g.sort_order);
    if with_articles {
        let in_group = || d.products.iter().filter(|p| p.groups.contains(&g.number));
        w.open("productNumbers");
        for p in in_group() {
            w.val("number", p.number);
        }
        w.close().open("articleNumbers");
        for p in in_group() {
            for a in &p.articles {
                w.val("number", a.number);
            }
        }
        w.close();
    }
    w.text("isDeleted", "false").close();
}

fn get_article_groups(d: &MplusData, req: &Node) -> Result<String, Fault> {
    let (marker, limit) = feed_args(req)?;
    let wanted: HashSet<i32> = ints(req, "groupNumbers")?.into_iter().collect();
    let with_articles = boolean(req, "retrieveArticleNumbers")?.unwrap_or(false);
    let mut w = Writer::new();
    w.open("GetArticleGroupsResponse").open("articleGroupList");
    let picked: Vec<usize> = match marker {
        // A feed lists every changed group flat, sub groups included.
        Some(m) => feed(&d.group_feed, m, limit, |i| {
            wanted.is_empty() || wanted.contains(&d.groups[i].number)
        })
        .collect(),
        None => (0..d.groups.len())
            .filter(|&i| {
                let g = &d.groups[i];
                if wanted.is_empty() {
                    g.parent.is_none()
                } else {
                    wanted.contains(&g.number)
                }
            })
            .collect(),
    };
    for i in picked {
        write_group(&mut w, d, &d.groups[i], with_articles);
    }
    Ok(w.finish())
}

// ---- relations ----

fn write_relation(w: &mut Writer, r: &Relation) {
    w.open("relation")
        .val("relationNumber", r.number)
        .opt("extRelationId", r.ext_id.as_deref())
        .val("syncMarker", r.marker);
    datetime(w, "createTimestamp", r.created);
    datetime(w, "changeTimestamp", r.changed);
    w.text("active", yes(r.active))
        .text("name", &r.name)
        .text("address", &r.address)
        .text("zipcode", &r.zipcode)
        .text("city", &r.city)
        .text("country", &r.country)
        .opt("deliveryAddress", r.delivery_address.as_deref())
        .opt("deliveryZipcode", r.delivery_zipcode.as_deref())
        .opt("deliveryCity", r.delivery_city.as_deref())
        .opt("deliveryCountry", r.delivery_country.as_deref())
        .opt("contact", r.contact.as_deref())
        .opt("telephone", r.telephone.as_deref())
        .opt("mobile", r.mobile.as_deref())
        .opt("email", r.email.as_deref())
        .val("categoryId", r.category_id)
        .val("paymentWithinDays", r.payment_within_days)
        .opt("vatNumber", r.vat_number.as_deref())
        .opt("commerceNumber", r.commerce_number.as_deref())
        .opt("extraText", r.extra_text.as_deref())
        .text("defaultVatMethod", "VAT-METHOD-INCLUSIVE")
        .opt("companyName", r.company_name.as_deref())
        .close();
}

fn get_relations(d: &MplusData, req: Option<&Node>) -> Result<String, Fault> {
    let empty = Node::default();
    let req = req.unwrap_or(&empty);
    let numbers: HashSet<i64> = ints(req, "relationNumbers")?.into_iter().collect();
    let category: Option<i32> = int(req, "categoryId")?;
    let (marker, limit) = feed_args(req)?;
    let keep = |i: usize| {
        let r = &d.relations[i];
        (numbers.is_empty() || numbers.contains(&r.number))
            && category.is_none_or(|c| r.category_id == c)
    };
    let picked: Vec<usize> = match marker {
        Some(m) => feed(&d.relation_feed, m, limit, keep).collect(),
        None if !numbers.is_empty() => {
            let mut v: Vec<usize> = numbers
                .iter()
                .filter_map(|n| d.relation_index.get(n).copied())
                .filter(|&i| keep(i))
                .collect();
            v.sort_unstable();
            v
        }
        None => (0..d.relations.len()).filter(|&i| keep(i)).collect(),
    };
    let mut w = Writer::new();
    w.open("GetRelationsResponse").open("relationList");
    for i in picked {
        write_relation(&mut w, &d.relations[i]);
    }
    Ok(w.finish())
}

/// Copies the fields a request gives into a relation (only those present).
fn apply_relation(r: &mut Relation, n: &Node) -> Result<(), Fault> {
    let set = |field: &mut Option<String>, name: &str| {
        if let Some(v) = string(n, name) {
            *field = (!v.is_empty()).then_some(v);
        }
    };
    set(&mut r.ext_id, "extRelationId");
    set(&mut r.contact, "contact");
    set(&mut r.delivery_address, "deliveryAddress");
    set(&mut r.delivery_zipcode, "deliveryZipcode");
    set(&mut r.delivery_city, "deliveryCity");
    set(&mut r.delivery_country, "deliveryCountry");
    set(&mut r.telephone, "telephone");
    set(&mut r.mobile, "mobile");
    set(&mut r.email, "email");
    set(&mut r.vat_number, "vatNumber");
    set(&mut r.commerce_number, "commerceNumber");
    set(&mut r.extra_text, "extraText");
    set(&mut r.company_name, "companyName");
    for (field, name) in [
        (&mut r.name, "name"),
        (&mut r.address, "address"),
        (&mut r.zipcode, "zipcode"),
        (&mut r.city, "city"),
        (&mut r.country, "country"),
    ] {
        if let Some(v) = string(n, name) {
            *field = v;
        }
    }
    if let Some(a) = boolean(n, "active")? {
        r.active = a;
    }
    if let Some(c) = int(n, "categoryId")? {
        r.category_id = c;
    }
    if let Some(p) = int(n, "paymentWithinDays")? {
        r.payment_within_days = p;
    }
    Ok(())
}

fn create_relation(d: &mut MplusData, rel: Option<&Node>) -> Result<String, Fault> {
    let rel = rel.ok_or_else(|| {
        Fault::client("Validation constraint violation: missing required element")
            .detail("<relation> is required in <createRelation>")
    })?;
    let wanted: Option<i64> = int(rel, "relationNumber")?.filter(|&n: &i64| n > 0);
    let answer = |result: &str, number: i64, stamp: Option<(i64, Millis)>, error: &str| {
        let mut w = Writer::new();
        w.open("CreateRelationResponse")
            .text("result", result)
            .val("relationNumber", number);
        if let Some((marker, at)) = stamp {
            datetime(&mut w, "changeTimestamp", at);
            w.val("syncMarker", marker);
        }
        w.text("errorMessage", error);
        w.finish()
    };
    if let Some(n) = wanted {
        if d.relation_index.contains_key(&n) {
            return Ok(answer(
                "CREATE-RELATION-RESULT-FAILED-RELATION-NUMBER-ALREADY-TAKEN",
                n,
                None,
                &format!("Relation number {n} is already taken"),
            ));
        }
    }
    let mut r = Relation {
        active: true,
        category_id: 1,
        ..Relation::default()
    };
    apply_relation(&mut r, rel)?;
    if r.name.trim().is_empty() {
        return Ok(answer(
            "CREATE-RELATION-RESULT-FAILED",
            0,
            None,
            "A relation needs a name",
        ));
    }
    let number = wanted.unwrap_or(d.next_relation);
    d.next_relation = d.next_relation.max(number + 1);
    r.number = number;
    let stamp = d.change_stamp();
    r.created = stamp;
    let i = d.relations.len();
    d.relations.push(r);
    d.relation_index.insert(number, i);
    d.relations_created += 1;
    let touched = d.touch_relation(i);
    d.relations[i].created = touched.1;
    Ok(answer(
        "CREATE-RELATION-RESULT-OK",
        number,
        Some(touched),
        "",
    ))
}

fn update_relation(d: &mut MplusData, rel: Option<&Node>) -> Result<String, Fault> {
    let rel = rel.ok_or_else(|| {
        Fault::client("Validation constraint violation: missing required element")
            .detail("<relation> is required in <updateRelation>")
    })?;
    let number: Option<i64> = int(rel, "relationNumber")?;
    let answer = |result: &str, error: &str, stamp: Option<(i64, Millis)>| {
        let mut w = Writer::new();
        w.open("UpdateRelationResponse")
            .text("result", result)
            .text("errorMessage", error);
        if let Some((marker, at)) = stamp {
            datetime(&mut w, "changeTimestamp", at);
            w.val("syncMarker", marker);
        }
        w.finish()
    };
    let Some(i) = number.and_then(|n| d.relation_index.get(&n).copied()) else {
        return Ok(answer(
            "UPDATE-RELATION-RESULT-NOT-FOUND",
            &format!("Relation {} not found", number.unwrap_or(0)),
            None,
        ));
    };
    let mut r = d.relations[i].clone();
    apply_relation(&mut r, rel)?;
    if r.name.trim().is_empty() {
        return Ok(answer(
            "UPDATE-RELATION-RESULT-FAILED",
            "A relation needs a name",
            None,
        ));
    }
    d.relations[i] = r;
    let touched = d.touch_relation(i);
    Ok(answer("UPDATE-RELATION-RESULT-OK", "", Some(touched)))
}

// ---- orders ----

fn write_address(w: &mut Writer, name: &'static str, a: &Address) {
    w.open(name)
        .opt("name", a.name.as_deref())
        .opt("contact", a.contact.as_deref())
        .opt("address", a.address.as_deref())
        .opt("zipcode", a.zipcode.as_deref())
        .opt("city", a.city.as_deref())
        .opt("country", a.country.as_deref())
        .opt("companyName", a.company_name.as_deref())
        .close();
}

fn qty(w: &mut Writer, value: &'static str, places: &'static str, v: i64) {
    let (v, p) = split_qty(v);
    w.val(value, v).val(places, p);
}

fn write_line(w: &mut Writer, o: &Order, l: &Line, seq: usize) {
    w.open("line")
        .text("lineId", &l.id)
        .val("employeeNumber", o.employee)
        .val("articleNumber", l.article)
        .text("pluNumber", &l.plu)
        .text("text", &l.text)
        .open("data");
    qty(w, "quantity", "decimalPlaces", l.quantity);
    qty(
        w,
        "deliveredQuantity",
        "deliveredDecimalPlaces",
        l.delivered,
    );
    qty(
        w,
        "cancelledQuantity",
        "cancelledDecimalPlaces",
        l.cancelled,
    );
    w.val("price", l.price)
        .val("priceExcl", l.price_excl)
        .val("turnoverGroup", l.turnover_group)
        .val("vatCode", l.vat_code)
        .val("vatPercentage", l.vat_percentage)
        .text(
            "discountType",
            if l.discount_percentage > 0 {
                "DISCOUNT-TYPE-EXTERNAL-DISCOUNT"
            } else {
                "DISCOUNT-TYPE-NONE"
            },
        )
        .val("discountPercentage", l.discount_percentage)
        .val("totalInclAmount", l.total_incl())
        .val("totalExclAmount", l.total_excl())
        .close()
        .text("lineType", "LINE-TYPE-NONE")
        .val("sequenceNumber", seq + 1)
        .close();
}

fn write_order(w: &mut Writer, d: &MplusData, o: &Order, with_lines: bool) {
    let relation = d.relation_index.get(&o.relation).map(|&i| &d.relations[i]);
    let employee = d
        .employees
        .iter()
        .find(|(n, _)| *n == o.employee)
        .map_or("", |(_, name)| name.as_str());
    w.open("order")
        .text("orderId", &o.id)
        .opt("extOrderId", o.ext_id.as_deref())
        .val("syncMarker", o.marker)
        .text("orderType", o.order_type)
        .val("entryBranchNumber", o.branch)
        .val("employeeNumber", o.employee)
        .text("employeeName", employee);
    datetime(w, "entryTimestamp", o.entry);
    w.val("relationNumber", o.relation);
    if let Some(r) = relation {
        w.text("relationName", &r.name)
            .val("relationCategoryId", r.category_id)
            .opt("relationVatNumber", r.vat_number.as_deref());
    }
    if let Some(a) = &o.delivery_address {
        write_address(w, "deliveryAddress", a);
    }
    if let Some(a) = &o.invoice_address {
        write_address(w, "invoiceAddress", a);
    }
    date_out(w, "financialDate", o.financial);
    w.val("financialBranchNumber", o.branch)
        .val("workplaceNumber", o.workplace)
        .opt("reference", o.reference.as_deref())
        .val("totalInclAmount", o.total_incl())
        .val("totalExclAmount", o.total_excl())
        .text("vatMethod", "VAT-METHOD-INCLUSIVE")
        .open("vatGroupList");
    let mut codes: Vec<(i32, i32)> = o
        .lines
        .iter()
        .map(|l| (l.vat_code, l.vat_percentage))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    for (code, pct) in codes {
        let (incl, excl) = o
            .lines
            .iter()
            .filter(|l| l.vat_code == code)
            .fold((0, 0), |(i, e), l| (i + l.total_incl(), e + l.total_excl()));
        w.open("vatGroup")
            .val("branchNumber", o.branch)
            .val("vatCode", code)
            .val("vatPercentage", pct)
            .val("exclAmount", excl)
            .val("vatAmount", incl - excl)
            .close();
    }
    w.close()
        .opt("deliveryMethod", o.delivery_method.as_deref())
        .opt("paymentMethod", o.payment_method.as_deref())
        .val("changeCounter", o.change_counter)
        .val("versionNumber", o.version)
        .val("prepaidAmount", o.prepaid())
        .text("fullyPaid", yes(o.fully_paid()))
        .text("deliveryState", &o.delivery.wsdl("ORDER-DELIVERY-STATE"))
        .text("cancelState", &o.cancel.wsdl("ORDER-CANCEL-STATE"))
        .text("completeState", &o.complete.wsdl("ORDER-COMPLETE-STATE"))
        .open("orderNumber")
        .val("year", o.year)
        .val("number", o.number)
        .close()
        .open("branchOrderNumber")
        .val("branchNumber", o.branch)
        .val("workplaceNumber", o.workplace)
        .val("year", o.year)
        .val("number", o.number)
        .close();
    if with_lines {
        w.open("lineList");
        for (k, l) in o.lines.iter().enumerate() {
            write_line(w, o, l, k);
        }
        w.close();
    }
    w.open("paymentList");
    for p in &o.payments {
        w.open("payment").text("paymentId", &p.id);
        date_out(w, "financialDate", p.at);
        datetime(w, "entryTimestamp", p.at);
        w.val("branchNumber", o.branch)
            .val("employeeNumber", o.employee)
            .text("method", &p.method)
            .val("amount", p.amount)
            .close();
    }
    w.close().close();
}

/// Filters shared by `getOrders` and `getOrderChanges`.
struct OrderFilter {
    from: Option<Millis>,
    through: Option<Millis>,
    branches: HashSet<i32>,
    employees: HashSet<i64>,
    relations: HashSet<i64>,
    articles: HashSet<i64>,
    types: HashSet<String>,
    ids: HashSet<String>,
}

impl OrderFilter {
    fn read(req: &Node) -> Result<OrderFilter, Fault> {
        Ok(OrderFilter {
            from: date(req, "fromFinancialDate")?,
            through: date(req, "throughFinancialDate")?,
            branches: ints(req, "branchNumbers")?.into_iter().collect(),
            employees: ints(req, "employeeNumbers")?.into_iter().collect(),
            relations: ints(req, "relationNumbers")?.into_iter().collect(),
            articles: ints(req, "articleNumbers")?.into_iter().collect(),
            types: req
                .child("orderTypeList")
                .map(|l| {
                    l.all("orderType")
                        .map(|t| t.text.trim().to_owned())
                        .collect()
                })
                .unwrap_or_default(),
            ids: req
                .all("orderIds")
                .map(|c| c.text.trim().to_owned())
                .collect(),
        })
    }

    fn keeps(&self, o: &Order) -> bool {
        self.from.is_none_or(|f| o.financial >= f)
            && self.through.is_none_or(|t| o.financial <= t)
            && (self.branches.is_empty() || self.branches.contains(&o.branch))
            && (self.employees.is_empty() || self.employees.contains(&o.employee))
            && (self.relations.is_empty() || self.relations.contains(&o.relation))
            && (self.articles.is_empty()
                || o.lines.iter().any(|l| self.articles.contains(&l.article)))
            && (self.types.is_empty() || self.types.contains(o.order_type))
            && (self.ids.is_empty() || self.ids.contains(&o.id))
    }
}

fn get_orders(d: &MplusData, req: &Node) -> Result<String, Fault> {
    let filter = OrderFilter::read(req)?;
    let (marker, limit) = feed_args(req)?;
    let with_lines = boolean(req, "includeLineList")?.unwrap_or(false);
    let picked: Vec<usize> = match marker {
        Some(m) => feed(&d.order_feed, m, limit, |i| filter.keeps(&d.orders[i])).collect(),
        None if !filter.ids.is_empty() => {
            let mut v: Vec<usize> = filter
                .ids
                .iter()
                .filter_map(|id| d.order_index.get(id).copied())
                .filter(|&i| filter.keeps(&d.orders[i]))
                .collect();
            v.sort_unstable();
            v
        }
        None => (0..d.orders.len())
            .filter(|&i| filter.keeps(&d.orders[i]))
            .collect(),
    };
    let mut w = Writer::new();
    w.open("GetOrdersResponse").open("orderList");
    for i in picked {
        write_order(&mut w, d, &d.orders[i], with_lines);
    }
    Ok(w.finish())
}

fn write_change(w: &mut Writer, d: &MplusData, marker: i64, c: &OrderChangeRecord) {
    let o = &d.orders[c.order];
    w.open("orderChange")
        .text("orderId", &o.id)
        .opt("extOrderId", o.ext_id.as_deref());
    datetime(w, "entryTimestamp", o.entry);
    w.val("entryBranchNumber", o.branch)
        .val("workplaceNumber", o.workplace)
        .val("financialBranchNumber", o.branch)
        .opt("reference", o.reference.as_deref())
        .val("changeCounter", c.change_counter)
        .val("versionNumber", c.version)
        .open("orderNumber")
        .val("year", o.year)
        .val("number", o.number)
        .close()
        .val("syncMarker", marker)
        .text("orderType", o.order_type);
    let old = c.old.as_ref();
    let new = &c.new;
    // Each field: the old value (when there was one) and the new one, in the WSDL's order.
    if let Some(x) = old {
        w.val("employeeNumberOld", x.employee);
    }
    w.val("employeeNumberNew", new.employee);
    if let Some(x) = old {
        w.val("relationNumberOld", x.relation);
    }
    w.val("relationNumberNew", new.relation);
    if let Some(a) = old.and_then(|x| x.delivery_address.as_ref()) {
        write_address(w, "deliveryAddressOld", a);
    }
    if let Some(a) = &new.delivery_address {
        write_address(w, "deliveryAddressNew", a);
    }
    if let Some(a) = old.and_then(|x| x.invoice_address.as_ref()) {
        write_address(w, "invoiceAddressOld", a);
    }
    if let Some(a) = &new.invoice_address {
        write_address(w, "invoiceAddressNew", a);
    }
    if let Some(x) = old {
        date_out(w, "financialDateOld", x.financial);
    }
    date_out(w, "financialDateNew", new.financial);
    if let Some(x) = old {
        w.val("totalInclAmountOld", x.total_incl);
    }
    w.val("totalInclAmountNew", new.total_incl);
    if let Some(x) = old {
        w.val("totalExclAmountOld", x.total_excl);
    }
    w.val("totalExclAmountNew", new.total_excl);
    if let Some(m) = old.and_then(|x| x.delivery_method.as_deref()) {
        w.text("deliveryMethodOld", m);
    }
    w.opt("deliveryMethodNew", new.delivery_method.as_deref());
    if let Some(m) = old.and_then(|x| x.payment_method.as_deref()) {
        w.text("paymentMethodOld", m);
    }
    w.opt("paymentMethodNew", new.payment_method.as_deref());
    if let Some(x) = old {
        w.val("prepaidAmountOld", x.prepaid);
    }
    w.val("prepaidAmountNew", new.prepaid);
    if let Some(x) = old {
        w.text("fullyPaidOld", yes(x.fully_paid));
    }
    w.text("fullyPaidNew", yes(new.fully_paid));
    if let Some(x) = old {
        w.text("deliveryStateOld", &x.delivery.wsdl("ORDER-DELIVERY-STATE"));
    }
    w.text(
        "deliveryStateNew",
        &new.delivery.wsdl("ORDER-DELIVERY-STATE"),
    );
    if let Some(x) = old {
        w.text("cancelStateOld", &x.cancel.wsdl("ORDER-CANCEL-STATE"));
    }
    w.text("cancelStateNew", &new.cancel.wsdl("ORDER-CANCEL-STATE"));
    if let Some(x) = old {
        w.text("completeStateOld", &x.complete.wsdl("ORDER-COMPLETE-STATE"));
    }
    w.text(
        "completeStateNew",
        &new.complete.wsdl("ORDER-COMPLETE-STATE"),
    );
    w.close();
}

fn get_order_changes(d: &MplusData, req: &Node) -> Result<String, Fault> {
    let filter = OrderFilter::read(req)?;
    let (marker, limit) = feed_args(req)?;
    let mut w = Writer::new();
    w.open("GetOrderChangesResponse").open("orderChangeList");
    let from = marker.unwrap_or(0).saturating_add(1);
    for (m, c) in d
        .order_changes
        .range(from..)
        .filter(|(_, c)| filter.keeps(&d.orders[c.order]))
        .take(limit)
    {
        write_change(&mut w, d, *m, c);
    }
    Ok(w.finish())
}

fn read_address(n: &Node) -> Address {
    let s = |name: &str| string(n, name).filter(|v| !v.is_empty());
    Address {
        name: s("name"),
        contact: s("contact"),
        address: s("address"),
        zipcode: s("zipcode"),
        city: s("city"),
        country: s("country"),
        company_name: s("companyName"),
    }
}

/// Reads `lineList`; `Err(text)` is a business failure (unknown article), a `Fault` a
/// malformed request.
fn read_lines(
    d: &MplusData,
    list: &Node,
    order_key: u64,
) -> Result<Result<Vec<Line>, String>, Fault> {
    let mut lines = Vec::new();
    for (k, l) in list.all("line").enumerate() {
        let article: i64 = req_int(l, "articleNumber")?;
        let Some(a) = d.article(article) else {
            return Ok(Err(format!("Article {article} not found")));
        };
        let (quantity, price, price_excl, discount) = match l.child("data") {
            Some(data) => {
                let q: i64 = req_int(data, "quantity")?;
                let places: u32 = int(data, "decimalPlaces")?.unwrap_or(0);
                let quantity = join_qty(q, places)
                    .ok_or_else(|| mismatch(data, "quantity", &q.to_string()))?;
                let price: Option<i64> = int(data, "price")?;
                let excl: Option<i64> = int(data, "priceExcl")?;
                let discount: i32 = int(data, "discountPercentage")?.unwrap_or(0);
                let price = price.unwrap_or(a.price_incl);
                (
                    quantity,
                    price,
                    excl.unwrap_or_else(|| generator::excl(price, a.vat_percentage)),
                    discount.clamp(0, 100),
                )
            }
            None => (QTY_ONE, a.price_incl, a.price_excl, 0),
        };
        lines.push(Line {
            id: generator::guid(d.seed, 8, order_key.wrapping_mul(64) + k as u64),
            article,
            plu: a.plu.clone(),
            text: string(l, "text")
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| a.description.clone()),
            quantity,
            delivered: 0,
            cancelled: 0,
            price,
            price_excl,
            vat_code: a.vat_code,
            vat_percentage: a.vat_percentage,
            turnover_group: a.turnover_group,
            discount_percentage: discount,
        });
    }
    Ok(Ok(lines))
}

fn create_answer(d: &MplusData, a: &CreateAnswer, replay: bool) -> String {
    let mut w = Writer::new();
    w.open("CreateOrderV3Response")
        .text(
            "idempotencyResult",
            if replay {
                "IDEMPOTENCY-RESULT-REPLAY-RESPONSE"
            } else {
                "IDEMPOTENCY-RESULT-ORIGINAL-RESPONSE"
            },
        )
        .text("result", a.result);
    let order = a.order.map(|i| &d.orders[i]);
    if let Some(o) = order {
        write_order(&mut w, d, o, true);
    }
    w.opt("errorMessage", a.error.as_deref()).open("info");
    match order {
        Some(o) => w
            .text("orderId", &o.id)
            .text("orderString", &o.order_string()),
        None => w.text("orderId", "").text("orderString", ""),
    };
    w.text("orderQueued", "false").close();
    w.finish()
}

fn create_order(d: &mut MplusData, req: &Node) -> Result<String, Fault> {
    let key = required(req, "idempotencyKey")?.text.trim().to_owned();
    let on = required(req, "order")?;
    if key.is_empty() {
        return Err(mismatch(req, "idempotencyKey", ""));
    }
    if let Some(first) = d.idempotency.get(&key) {
        return Ok(create_answer(d, first, true));
    }
    let answer = build_order(d, on)?;
    let xml = create_answer(d, &answer, false);
    d.idempotency.insert(key, answer);
    Ok(xml)
}

fn failed(error: String) -> CreateAnswer {
    CreateAnswer {
        result: "CREATE-ORDER-RESULT-FAILED",
        order: None,
        error: Some(error),
    }
}

fn build_order(d: &mut MplusData, on: &Node) -> Result<CreateAnswer, Fault> {
    let ext_id = string(on, "extOrderId")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if let Some(&i) = ext_id.as_ref().and_then(|e| d.ext_order_index.get(e)) {
        return Ok(CreateAnswer {
            result: "CREATE-ORDER-RESULT-EXT-ORDER-ID-ALREADY-EXISTS",
            order: Some(i),
            error: Some(format!(
                "An order with extOrderId {} already exists",
                ext_id.unwrap_or_default()
            )),
        });
    }
    let employee: Option<i64> = int(on, "employeeNumber")?;
    let Some(employee) = employee else {
        return Ok(failed("employeeNumber is required".into()));
    };
    if !d.employees.iter().any(|(n, _)| *n == employee) {
        return Ok(failed(format!("Employee {employee} not found")));
    }
    let relation: i64 = int(on, "relationNumber")?.unwrap_or(0);
    if relation != 0 && !d.relation_index.contains_key(&relation) {
        return Ok(failed(format!("Relation {relation} not found")));
    }
    let branch: i32 = int(on, "entryBranchNumber")?
        .or(int(on, "financialBranchNumber")?)
        .unwrap_or(3);
    if !d.branches.iter().any(|b| b.number == branch) {
        return Ok(failed(format!("Branch {branch} not found")));
    }
    let index = d.orders.len();
    let lines = match on.child("lineList") {
        Some(list) => match read_lines(d, list, index as u64)? {
            Ok(l) => l,
            Err(e) => return Ok(failed(e)),
        },
        None => Vec::new(),
    };
    if lines.is_empty() {
        return Ok(failed("An order needs at least one line".into()));
    }
    let stamp = d.change_stamp();
    let financial = date(on, "financialDate")?.unwrap_or(stamp - stamp.rem_euclid(86_400_000));
    let year: i32 = to_datetime(stamp)
        .format("%Y")
        .to_string()
        .parse()
        .unwrap_or(2026);
    let number = {
        let n = d.next_order_number.entry(year).or_insert(1);
        *n += 1;
        *n - 1
    };
    let mut payments = Vec::new();
    if let Some(list) = on.child("paymentList") {
        for (k, p) in list.all("payment").enumerate() {
            let method = required(p, "method")?.text.trim().to_owned();
            let amount: i64 = req_int(p, "amount")?;
            payments.push(Payment {
                id: generator::guid(d.seed, 9, (index as u64) * 16 + k as u64),
                method,
                amount,
                at: stamp,
            });
        }
    }
    let order = Order {
        id: generator::guid(d.seed ^ 0x5EED, 3, index as u64),
        ext_id: ext_id.clone(),
        year,
        number,
        order_type: "ORDER-TYPE-EXTERNAL-SALES-ORDER",
        branch,
        workplace: int(on, "workplaceNumber")?.unwrap_or(99),
        employee,
        relation,
        entry: stamp,
        financial,
        reference: string(on, "reference").filter(|r| !r.is_empty()),
        delivery_address: on
            .child("deliveryAddress")
            .map(|a| Arc::new(read_address(a))),
        invoice_address: on
            .child("invoiceAddress")
            .map(|a| Arc::new(read_address(a))),
        delivery_method: string(on, "deliveryMethod").filter(|r| !r.is_empty()),
        payment_method: string(on, "paymentMethod")
            .filter(|r| !r.is_empty())
            .or_else(|| payments.first().map(|p| p.method.clone())),
        lines,
        payments,
        delivery: Progress::Nothing,
        cancel: Progress::Nothing,
        complete: Progress::Nothing,
        change_counter: 0,
        version: 1,
        marker: 0,
    };
    // An open order reserves its stock articles in its branch.
    let reservations: Vec<(i64, i64)> = order
        .lines
        .iter()
        .filter(|l| d.article(l.article).is_some_and(|a| a.stock_article))
        .map(|l| (l.article, l.quantity))
        .collect();
    d.order_index.insert(order.id.clone(), index);
    if let Some(e) = ext_id {
        d.ext_order_index.insert(e, index);
    }
    d.orders.push(order);
    d.orders_created += 1;
    d.touch_order(index, None);
    for (article, q) in reservations {
        d.change_stock(branch, article, StockChange::AddReserved(q));
    }
    Ok(CreateAnswer {
        result: "CREATE-ORDER-RESULT-OK",
        order: Some(index),
        error: None,
    })
}

fn update_order(d: &mut MplusData, on: Option<&Node>) -> Result<String, Fault> {
    let on = on.ok_or_else(|| {
        Fault::client("Validation constraint violation: missing required element")
            .detail("<order> is required in <updateOrder>")
    })?;
    let id = required(on, "orderId")?.text.trim().to_owned();
    let answer = |result: &str, o: Option<&Order>, error: &str| {
        let mut w = Writer::new();
        w.open("UpdateOrderResponse")
            .text("result", result)
            .open("info");
        match o {
            Some(o) => w
                .text("orderId", &o.id)
                .text("orderString", &o.order_string()),
            None => w.text("orderId", &id).text("orderString", ""),
        };
        w.text("orderQueued", "false")
            .close()
            .text("errorMessage", error);
        w.finish()
    };
    let Some(&i) = d.order_index.get(&id) else {
        return Ok(answer(
            "UPDATE-ORDER-RESULT-NOT-FOUND",
            None,
            &format!("Order {id} not found"),
        ));
    };
    if let Some(v) = int::<i32>(on, "versionNumber")? {
        if v != d.orders[i].version {
            let o = &d.orders[i];
            return Ok(answer(
                "UPDATE-ORDER-RESULT-ORDER-HAS-CHANGED",
                Some(o),
                &format!("versionNumber {v} is not the current {}", o.version),
            ));
        }
    }
    let lines = match on.child("lineList") {
        Some(list) => match read_lines(
            d,
            list,
            ((i as u64) << 20) | (d.orders[i].change_counter as u64 + 1),
        )? {
            Ok(l) if l.is_empty() => {
                return Ok(answer(
                    "UPDATE-ORDER-RESULT-FAILED",
                    Some(&d.orders[i]),
                    "An order needs at least one line",
                ))
            }
            Ok(l) => Some(l),
            Err(e) => return Ok(answer("UPDATE-ORDER-RESULT-FAILED", Some(&d.orders[i]), &e)),
        },
        None => None,
    };
    let relation: Option<i64> = int(on, "relationNumber")?;
    if let Some(r) = relation.filter(|&r| r != 0) {
        if !d.relation_index.contains_key(&r) {
            return Ok(answer(
                "UPDATE-ORDER-RESULT-FAILED",
                Some(&d.orders[i]),
                &format!("Relation {r} not found"),
            ));
        }
    }
    let employee: Option<i64> = int(on, "employeeNumber")?;
    let delivery = match on.text_of("deliveryState") {
        Some(t) => Some(
            Progress::parse("ORDER-DELIVERY-STATE", t)
                .ok_or_else(|| mismatch(on, "deliveryState", t))?,
        ),
        None => None,
    };
    let before = d.orders[i].clone();
    let o = &mut d.orders[i];
    if let Some(r) = relation {
        o.relation = r;
    }
    if let Some(e) = employee {
        o.employee = e;
    }
    if let Some(r) = string(on, "reference") {
        o.reference = (!r.is_empty()).then_some(r);
    }
    if let Some(m) = string(on, "deliveryMethod") {
        o.delivery_method = (!m.is_empty()).then_some(m);
    }
    if let Some(m) = string(on, "paymentMethod") {
        o.payment_method = (!m.is_empty()).then_some(m);
    }
    if let Some(a) = on.child("deliveryAddress") {
        o.delivery_address = Some(Arc::new(read_address(a)));
    }
    if let Some(a) = on.child("invoiceAddress") {
        o.invoice_address = Some(Arc::new(read_address(a)));
    }
    if let Some(mut l) = lines {
        // Keep the ids of lines that stay at the same position.
        for (k, line) in l.iter_mut().enumerate() {
            if let Some(old) = before.lines.get(k) {
                line.id = old.id.clone();
            }
        }
        o.lines = l;
    }
    if let Some(s) = delivery {
        o.delivery = s;
        for l in &mut o.lines {
            l.delivered = match s {
                Progress::Complete => l.quantity - l.cancelled,
                Progress::Nothing => 0,
                Progress::Partial => l.delivered,
            };
        }
        o.complete = if s == Progress::Complete {
            Progress::Complete
        } else {
            o.complete
        };
    }
    let changed = o.relation != before.relation
        || o.employee != before.employee
        || o.reference != before.reference
        || o.delivery_method != before.delivery_method
        || o.payment_method != before.payment_method
        || o.delivery_address != before.delivery_address
        || o.invoice_address != before.invoice_address
        || o.lines != before.lines
        || o.delivery != before.delivery;
    if !changed {
        let o = &d.orders[i];
        return Ok(answer("UPDATE-ORDER-RESULT-NO-CHANGES", Some(o), ""));
    }
    d.touch_order(i, Some(before.snapshot()));
    Ok(answer("UPDATE-ORDER-RESULT-OK", Some(&d.orders[i]), ""))
}

// ---- stock ----

fn write_stock(w: &mut Writer, branch: i32, article: i64, s: &Stock) {
    w.open("articleStocks")
        .val("branchNumber", branch)
        .val("articleNumber", article);
    datetime(w, "changeTimestamp", s.changed);
    w.val("stockId", s.stock_id);
    qty(w, "amountFree", "decimalPlacesFree", s.free);
    qty(w, "amountReserved", "decimalPlacesReserved", s.reserved);
    qty(w, "amountIncoming", "decimalPlacesIncoming", s.incoming);
    w.text("isDayStockArticle", "false").close();
}

fn get_stock(d: &MplusData, req: &Node) -> Result<String, Fault> {
    let branch: i32 = req_int(req, "branchNumber")?;
    let list = required(req, "articleNumbers")?;
    let articles: Vec<i64> = ints(list, "articleNumbers")?;
    let mut branches: Vec<i32> = req
        .child("branchNumbers")
        .map(|b| ints(b, "branchNumber"))
        .transpose()?
        .unwrap_or_default();
    if branches.is_empty() {
        branches.push(branch);
    }
    for b in &branches {
        if !d.branches.iter().any(|x| x.number == *b) {
            return Err(Fault::client("Branch not found").detail(format!("branchNumber {b}")));
        }
    }
    let since: Option<i64> = int(req, "stockId")?;
    let mut w = Writer::new();
    w.open("GetStockResponse");
    match since {
        // stockId: the stock records changed after it, in change order.
        Some(since) => {
            let wanted: HashSet<i64> = articles.iter().copied().collect();
            for (_, &(b, a)) in d.stock_feed.range(since.saturating_add(1)..) {
                if branches.contains(&b) && (wanted.is_empty() || wanted.contains(&a)) {
                    if let Some(s) = d.stock.get(&(b, a)) {
                        write_stock(&mut w, b, a, s);
                    }
                }
            }
        }
        None => {
            let all: Vec<i64>;
            let articles = if articles.is_empty() {
                all = d
                    .products
                    .iter()
                    .flat_map(|p| {
                        p.articles
                            .iter()
                            .filter(|a| a.stock_article)
                            .map(|a| a.number)
                    })
                    .collect();
                &all
            } else {
                &articles
            };
            for &b in &branches {
                for &a in articles {
                    if let Some(s) = d.stock.get(&(b, a)) {
                        write_stock(&mut w, b, a, s);
                    }
                }
            }
        }
    }
    Ok(w.finish())
}

fn change_stock(d: &mut MplusData, req: &Node, set: bool) -> Result<String, Fault> {
    let branch: i32 = req_int(req, "branchNumber")?;
    let article: i64 = req_int(req, "articleNumber")?;
    let amount: i64 = req_int(req, if set { "amount" } else { "amountChanged" })?;
    let places: u32 = int(req, "decimalPlaces")?.unwrap_or(0);
    let (element, prefix) = if set {
        ("SetStockResponse", "SET-STOCK-RESULT")
    } else {
        ("UpdateStockResponse", "UPDATE-STOCK-RESULT")
    };
    let answer = |result: &str, stock_id: Option<i64>| {
        let mut w = Writer::new();
        w.open(element)
            .text("result", &format!("{prefix}-{result}"));
        if let Some(id) = stock_id {
            w.val("stockId", id);
        }
        w.finish()
    };
    if !d.branches.iter().any(|b| b.number == branch) {
        return Ok(answer("BRANCH-NOT-FOUND", None));
    }
    let Some(a) = d.article(article) else {
        return Ok(answer("ARTICLE-NOT-FOUND", None));
    };
    if !a.stock_article {
        return Ok(answer("NO-STOCK-ARTICLE", None));
    }
    let Some(v) = join_qty(amount, places) else {
        return Ok(answer("FAILED", None));
    };
    let change = if set {
        StockChange::SetFree(v)
    } else {
        StockChange::AddFree(v)
    };
    let id = d.change_stock(branch, article, change);
    Ok(answer("OK", Some(id)))
}

fn current_markers(d: &MplusData) -> String {
    let m = d.markers;
    let mut w = Writer::new();
    w.open("getCurrentSyncMarkersResponse")
        .val("articleSyncMarker", m.article)
        .val("articleGroupSyncMarker", m.article_group)
        .val("relationSyncMarker", m.relation)
        .val("employeeSyncMarker", d.employees.len())
        .val("invoiceSyncMarker", 0)
        .val("receiptSyncMarker", 0)
        .val("orderSyncMarker", m.order)
        .val("stockId", m.stock_id);
    w.finish()
}

// ---- control API ----

fn ok_json<T: serde::Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
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

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ResetBody {
    seed: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct TouchBody {
    change: OrderTouch,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceBody {
    price_incl: i64,
}

fn status_json(sim: &MplusSim) -> Value {
    let core = sim.core();
    json!({
        "system": "mplus",
        "seed": sim.seed(),
        "counts": sim.counts(),
        "sync_markers": sim.sync_markers(),
        "requests": core.requests_seen(),
        "max_concurrency": core.max_concurrency(),
        "faults": core.faults(),
        "fault_stats": core.fault_stats(),
    })
}

fn control(sim: &MplusSim, method: &Method, path: &[&str], body: &[u8]) -> Response {
    let lower: Vec<String> = path.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let result: Result<Response, Response> = (|| match (method.as_str(), l.as_slice()) {
        ("GET", []) | ("GET", ["mplus"]) => Ok(ok_json(&status_json(sim))),
        ("GET", ["mplus", "requests"]) => Ok(ok_json(&sim.core().requests_seen())),
        ("GET", ["mplus", "faults"]) => Ok(ok_json(&sim.core().faults())),
        ("PUT", ["mplus", "faults"]) => {
            let faults: FaultConfig = parse_body(body)?;
            sim.set_faults(faults)
                .map_err(|e| control_error(StatusCode::BAD_REQUEST, e))?;
            Ok(ok_json(&sim.core().faults()))
        }
        ("POST", ["mplus", "reset"]) => {
            let r: ResetBody = parse_body(body)?;
            sim.reset(r.seed);
            Ok(ok_json(&status_json(sim)))
        }
        ("POST", ["mplus", "orders", _, "touch"]) => {
            let t: TouchBody = parse_body(body)?;
            let marker = sim
                .touch_order(path[2], t.change)
                .map_err(|e| control_error(StatusCode::NOT_FOUND, e))?;
            Ok(ok_json(
                &json!({ "orderId": path[2], "syncMarker": marker }),
            ))
        }
        ("PUT", ["mplus", "articles", n, "price"]) => {
            let number: i64 = n
                .parse()
                .map_err(|_| control_error(StatusCode::BAD_REQUEST, "article number"))?;
            let p: PriceBody = serde_json::from_slice(body)
                .map_err(|e| control_error(StatusCode::BAD_REQUEST, e))?;
            let marker = sim
                .set_article_price(number, p.price_incl)
                .map_err(|e| control_error(StatusCode::NOT_FOUND, e))?;
            Ok(ok_json(
                &json!({ "articleNumber": number, "syncMarker": marker }),
            ))
        }
        _ => Err(control_error(
            StatusCode::NOT_FOUND,
            "no such control endpoint",
        )),
    })();
    result.unwrap_or_else(|r| r)
}
