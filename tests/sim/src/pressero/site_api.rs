//! Site-level endpoints: products and categories (read and write), stock, site users and their
//! address books. Bodies bind case-insensitively (.NET); errors are `{"Message"}`.

// Error answers are returned early as ready responses; their size is irrelevant on this path.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use super::api::{field, message, ok_json, paging, site_index, text};
use super::generator::{ns, stable_uuid};
use super::model::*;
use super::{PresseroData, PresseroSim, WebhookEvent};
use crate::clock::now_millis;

type Obj = Map<String, Value>;

fn bad(text: &str) -> Response {
    message(StatusCode::BAD_REQUEST, text)
}

fn object(body: &[u8]) -> Result<Obj, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(bad("The request is invalid.")),
    }
}

/// A string field: `Ok(None)` when absent or null, an error when of another type.
fn opt_text(obj: &Obj, name: &str) -> Result<Option<String>, Response> {
    match field(obj, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(&format!("The field '{name}' must be a string."))),
    }
}

fn opt_bool(obj: &Obj, name: &str) -> Result<Option<bool>, Response> {
    match field(obj, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(bad(&format!("The field '{name}' must be true or false."))),
    }
}

fn opt_int(obj: &Obj, name: &str) -> Result<Option<i64>, Response> {
    match field(obj, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
        Some(_) => Err(bad(&format!("The field '{name}' must be a whole number."))),
    }
}

/// Money in: a decimal number (or numeric string) with at most two decimals, ≥ 0; cents out.
fn opt_money(obj: &Obj, name: &str) -> Result<Option<i64>, Response> {
    let v = match field(obj, name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    let err = || {
        bad(&format!(
            "The field '{name}' must be a decimal number >= 0."
        ))
    };
    let v = v.filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(err)?;
    let cents = (v * 100.0).round();
    if (cents / 100.0 - v).abs() > 1e-6 || cents > 1e12 {
        return Err(err());
    }
    Ok(Some(cents as i64))
}

fn required(value: Option<String>, name: &str) -> Result<String, Response> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(bad(&format!("The {name} field is required."))),
    }
}

fn parse_uuid(id: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(id.trim()).ok()
}

fn site_or_404(d: &PresseroData, site: &str) -> Result<usize, Response> {
    site_index(d, site).ok_or_else(|| message(StatusCode::NOT_FOUND, "Site not found"))
}

fn result(r: Result<Response, Response>) -> Response {
    r.unwrap_or_else(|e| e)
}

// ---- products ----

/// The index of a product visible on site `si`, by id.
fn product_index(d: &PresseroData, si: usize, id: &str) -> Option<usize> {
    let id = parse_uuid(id)?;
    d.products
        .iter()
        .position(|p| p.id == id && p.site.is_none_or(|s| s as usize == si))
}

pub(super) fn product_get(sim: &PresseroSim, site: &str, id: &str) -> Response {
    let d = sim.read();
    result((|| {
        let si = site_or_404(&d, site)?;
        let k = product_index(&d, si, id)
            .ok_or_else(|| message(StatusCode::NOT_FOUND, "Product not found"))?;
        Ok(ok_json(&d.product_view(&d.products[k], si)))
    })())
}

/// Reads `CategoryIds` and checks every id is a category of the site.
fn category_ids(
    d: &PresseroData,
    si: usize,
    obj: &Obj,
) -> Result<Option<Vec<uuid::Uuid>>, Response> {
    let list = match field(obj, "CategoryIds") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad("The field 'CategoryIds' must be an array.")),
    };
    let mut out = Vec::with_capacity(list.len());
    for v in list {
        let t = text(Some(v)).unwrap_or_default();
        let id = parse_uuid(&t)
            .filter(|id| {
                d.categories
                    .iter()
                    .any(|c| c.id == *id && c.site as usize == si)
            })
            .ok_or_else(|| bad(&format!("Category '{t}' not found.")))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(Some(out))
}

/// `POST site/{site}/products` (create, `id` None) or `PUT site/{site}/products/{id}` (update:
/// only the fields given change).
pub(super) fn product_save(
    sim: &PresseroSim,
    site: &str,
    id: Option<&str>,
    body: &[u8],
) -> Response {
    sim.mutate(|d| {
        result((|| {
            let si = site_or_404(d, site)?;
            let existing = match id {
                Some(id) => Some(
                    product_index(d, si, id)
                        .ok_or_else(|| message(StatusCode::NOT_FOUND, "Product not found"))?,
                ),
                None => None,
            };
            let obj = object(body)?;
            let name = opt_text(&obj, "Name")?;
            let code = opt_text(&obj, "ProductCode")?;
            let sku = opt_text(&obj, "Sku")?;
            let price = opt_money(&obj, "Price")?;
            let active = opt_bool(&obj, "IsActive")?;
            let deleted = opt_bool(&obj, "IsDeleted")?;
            let integration = opt_text(&obj, "IntegrationData")?;
            let cats = category_ids(d, si, &obj)?;
            if existing.is_none() {
                required(name.clone(), "Name")?;
                required(code.clone(), "ProductCode")?;
                if price.is_none() {
                    return Err(bad("The Price field is required."));
                }
            }
            if let Some(n) = &name {
                required(Some(n.clone()), "Name")?;
            }
            if let Some(c) = &code {
                let c = required(Some(c.clone()), "ProductCode")?;
                // Product codes are unique among the products a site offers.
                let clash = d.products.iter().enumerate().any(|(k, p)| {
                    Some(k) != existing
                        && !p.deleted
                        && p.site.is_none_or(|s| s as usize == si)
                        && p.code.trim().eq_ignore_ascii_case(c.trim())
                });
                if clash {
                    return Err(bad(&format!(
                        "A product with ProductCode '{}' already exists.",
                        c.trim()
                    )));
                }
            }
            let now = now_millis();
            let k = match existing {
                Some(k) => k,
                None => {
                    if d.products.len() >= usize::from(u16::MAX) {
                        return Err(bad("The product limit of the site is reached."));
                    }
                    let code = code.clone().unwrap_or_default();
                    let root = d
                        .categories
                        .iter()
                        .find(|c| c.site as usize == si && c.parent.is_none())
                        .map(|c| c.id);
                    d.products.push(Product {
                        id: stable_uuid(d.seed, ns::PRODUCT, 1_000_000 + d.products.len() as u64),
                        name: String::new(),
                        sku: code.trim().to_owned(),
                        code: String::new(),
                        category: "",
                        unit_price_centicents: 0,
                        quantities: &[1],
                        deleted: false,
                        site: Some(si as u8),
                        // Downloaded products are active unless said otherwise (R-B-7).
                        active: true,
                        category_ids: root.into_iter().collect(),
                        integration_data: None,
                        stock: None,
                        modified: now,
                    });
                    d.products.len() - 1
                }
            };
            let p = &mut d.products[k];
            if let Some(n) = name {
                p.name = n.trim().to_owned();
            }
            if let Some(c) = code {
                p.code = c.trim().to_owned();
            }
            if let Some(s) = sku {
                p.sku = s.trim().to_owned();
            }
            if let Some(c) = price {
                p.unit_price_centicents = c * 100;
            }
            if let Some(a) = active {
                p.active = a;
            }
            if let Some(x) = deleted {
                p.deleted = x;
            }
            if let Some(i) = integration {
                p.integration_data = Some(i);
            }
            if let Some(c) = cats {
                p.category_ids = c;
            }
            p.modified = now;
            Ok(ok_json(&d.product_view(&d.products[k], si)))
        })())
    })
}

// ---- categories ----

fn category_index(d: &PresseroData, si: usize, id: &str) -> Option<usize> {
    let id = parse_uuid(id)?;
    d.categories
        .iter()
        .position(|c| c.id == id && c.site as usize == si)
}

pub(super) fn categories(
    sim: &PresseroSim,
    site: &str,
    query: &HashMap<String, String>,
) -> Response {
    let d = sim.read();
    result((|| {
        let si = site_or_404(&d, site)?;
        let (page, size) = paging(query)?;
        let matching: Vec<&Category> = d
            .categories
            .iter()
            .filter(|c| c.site as usize == si)
            .collect();
        let items: Vec<CategoryView> = matching
            .iter()
            .skip(page.saturating_mul(size))
            .take(size)
            .map(|c| d.category_view(c))
            .collect();
        Ok(ok_json(&Page {
            items,
            total_items: matching.len(),
        }))
    })())
}

pub(super) fn category_get(sim: &PresseroSim, site: &str, id: &str) -> Response {
    let d = sim.read();
    result((|| {
        let si = site_or_404(&d, site)?;
        let k = category_index(&d, si, id)
            .ok_or_else(|| message(StatusCode::NOT_FOUND, "Category not found"))?;
        Ok(ok_json(&d.category_view(&d.categories[k])))
    })())
}

/// `POST site/{site}/categories` or `PUT site/{site}/categories/{id}`: `Name` (required on
/// create), `ParentId` (default Root), `IsActive`, `IntegrationData`.
pub(super) fn category_save(
    sim: &PresseroSim,
    site: &str,
    id: Option<&str>,
    body: &[u8],
) -> Response {
    sim.mutate(|d| {
        result((|| {
            let si = site_or_404(d, site)?;
            let existing = match id {
                Some(id) => Some(
                    category_index(d, si, id)
                        .ok_or_else(|| message(StatusCode::NOT_FOUND, "Category not found"))?,
                ),
                None => None,
            };
            let obj = object(body)?;
            let name = opt_text(&obj, "Name")?;
            let active = opt_bool(&obj, "IsActive")?;
            let integration = opt_text(&obj, "IntegrationData")?;
            let parent = match opt_text(&obj, "ParentId")? {
                None => None,
                Some(t) => Some(
                    parse_uuid(&t)
                        .and_then(|p| category_index(d, si, &p.to_string()))
                        .map(|k| d.categories[k].id)
                        .ok_or_else(|| bad(&format!("Parent category '{t}' not found.")))?,
                ),
            };
            if existing.is_none() || name.is_some() {
                required(name.clone(), "Name")?;
            }
            if let Some(k) = existing {
                let c = &d.categories[k];
                if c.parent.is_none() && (parent.is_some() || active == Some(false)) {
                    return Err(bad("The Root category cannot be moved or deactivated."));
                }
                if let Some(p) = parent {
                    // Refuse a cycle: the new parent must not be the category or below it.
                    let mut cursor = Some(p);
                    while let Some(at) = cursor {
                        if at == c.id {
                            return Err(bad("A category cannot be placed under itself."));
                        }
                        cursor = d
                            .categories
                            .iter()
                            .find(|x| x.id == at)
                            .and_then(|x| x.parent);
                    }
                }
            }
            let now = now_millis();
            let k = match existing {
                Some(k) => k,
                None => {
                    let root = d
                        .categories
                        .iter()
                        .find(|c| c.site as usize == si && c.parent.is_none())
                        .map(|c| c.id);
                    let n = d.categories.len() as u64;
                    d.categories.push(Category {
                        id: stable_uuid(d.seed, ns::CATEGORY, 1_000_000 + n),
                        site: si as u8,
                        name: String::new(),
                        parent: root,
                        active: true,
                        integration_data: None,
                        modified: now,
                    });
                    d.categories.len() - 1
                }
            };
            let c = &mut d.categories[k];
            if let Some(n) = name {
                c.name = n.trim().to_owned();
            }
            if let Some(p) = parent {
                c.parent = Some(p);
            }
            if let Some(a) = active {
                c.active = a;
            }
            if let Some(i) = integration {
                c.integration_data = Some(i);
            }
            c.modified = now;
            Ok(ok_json(&d.category_view(&d.categories[k])))
        })())
    })
}

// ---- stock ----

/// `GET site/{site}/StockInventory?pageNumber&pageSize&productId&productCode`: one row per
/// product the site offers (deleted ones aside).
pub(super) fn stock(sim: &PresseroSim, site: &str, query: &HashMap<String, String>) -> Response {
    let d = sim.read();
    result((|| {
        let si = site_or_404(&d, site)?;
        let (page, size) = paging(query)?;
        let by_id = query
            .get("productid")
            .map(|s| s.trim().to_ascii_lowercase());
        let by_code = query
            .get("productcode")
            .map(|s| s.trim().to_ascii_lowercase());
        let rows: Vec<usize> = (0..d.products.len())
            .filter(|&k| {
                let p = &d.products[k];
                !p.deleted
                    && p.site.is_none_or(|s| s as usize == si)
                    && by_id.as_ref().is_none_or(|id| p.id.to_string() == *id)
                    && by_code
                        .as_ref()
                        .is_none_or(|c| p.code.to_ascii_lowercase() == *c)
            })
            .collect();
        let items: Vec<StockView> = rows
            .iter()
            .skip(page.saturating_mul(size))
            .take(size)
            .map(|&k| d.stock_view(k))
            .collect();
        Ok(ok_json(&Page {
            items,
            total_items: rows.len(),
        }))
    })())
}

/// `PUT site/{site}/StockInventory` with one row or an array of rows `{ProductId | ProductCode,
/// QuantityOnHand, LowStockThreshold?, TrackInventory?}`; all rows are checked before any is
/// applied. Answers the updated rows.
pub(super) fn stock_update(sim: &PresseroSim, site: &str, body: &[u8]) -> Response {
    sim.mutate(|d| {
        result((|| {
            let si = site_or_404(d, site)?;
            let rows: Vec<Obj> = match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(o)) => vec![o],
                Ok(Value::Array(a)) if !a.is_empty() => a
                    .into_iter()
                    .map(|v| match v {
                        Value::Object(o) => Ok(o),
                        _ => Err(bad("The request is invalid.")),
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err(bad("The request is invalid.")),
            };
            let mut plan = Vec::with_capacity(rows.len());
            for row in &rows {
                let id = opt_text(row, "ProductId")?;
                let code = opt_text(row, "ProductCode")?;
                let k = match (&id, &code) {
                    (Some(id), _) => product_index(d, si, id),
                    (None, Some(c)) => d.products.iter().position(|p| {
                        !p.deleted
                            && p.site.is_none_or(|s| s as usize == si)
                            && p.code.eq_ignore_ascii_case(c.trim())
                    }),
                    (None, None) => return Err(bad("ProductId or ProductCode is required.")),
                }
                .ok_or_else(|| message(StatusCode::NOT_FOUND, "Product not found"))?;
                let qty = opt_int(row, "QuantityOnHand")?;
                let threshold = opt_int(row, "LowStockThreshold")?;
                let track = opt_bool(row, "TrackInventory")?;
                if qty.is_some_and(|q| q < 0) || threshold.is_some_and(|t| t < 0) {
                    return Err(bad("Quantities must be >= 0."));
                }
                if qty.is_none() && threshold.is_none() && track.is_none() {
                    return Err(bad("The QuantityOnHand field is required."));
                }
                plan.push((k, qty, threshold, track));
            }
            let now = now_millis();
            let mut out = Vec::with_capacity(plan.len());
            for (k, qty, threshold, track) in plan {
                let before = d.products[k].stock;
                let new = if track == Some(false) {
                    None
                } else {
                    let base = before.unwrap_or(Stock {
                        on_hand: 0,
                        threshold: 0,
                    });
                    Some(Stock {
                        on_hand: qty.unwrap_or(base.on_hand),
                        threshold: threshold.unwrap_or(base.threshold),
                    })
                };
                d.set_stock(k, new);
                d.products[k].modified = now;
                out.push(d.stock_view(k));
            }
            Ok(ok_json(&out))
        })())
    })
}

// ---- users ----

fn user_index(d: &PresseroData, si: usize, id: &str) -> Option<usize> {
    let id = parse_uuid(id)?;
    d.users
        .iter()
        .position(|u| u.id == id && u.site as usize == si)
}

pub(super) fn user_get(sim: &PresseroSim, site: &str, id: &str) -> Response {
    let d = sim.read();
    result((|| {
        let si = site_or_404(&d, site)?;
        let k = user_index(&d, si, id)
            .ok_or_else(|| message(StatusCode::NOT_FOUND, "User not found"))?;
        Ok(ok_json(&d.user_view(&d.users[k])))
    })())
}

const ADDRESS_FIELDS: [&str; 12] = [
    "FirstName",
    "LastName",
    "Business",
    "Address1",
    "Address2",
    "Address3",
    "City",
    "Postal",
    "StateProvince",
    "Country",
    "Phone",
    "Email",
];

/// Applies the address fields present in `obj` to `a`.
fn apply_address(a: &mut Address, obj: &Obj) -> Result<(), Response> {
    for name in ADDRESS_FIELDS {
        if let Some(v) = opt_text(obj, name)? {
            let v = v.trim().to_owned();
            match name {
                "FirstName" => a.first_name = v,
                "LastName" => a.last_name = v,
                "Business" => a.business = v,
                "Address1" => a.address1 = v,
                "Address2" => a.address2 = v,
                "Address3" => a.address3 = v,
                "City" => a.city = v,
                "Postal" => a.postal = v,
                "StateProvince" => a.state_province = v,
                "Country" => a.country = v,
                "Phone" => a.phone = v,
                _ => a.email = v,
            }
        }
    }
    Ok(())
}

fn empty_address() -> Address {
    Address {
        first_name: String::new(),
        last_name: String::new(),
        business: String::new(),
        address1: String::new(),
        address2: String::new(),
        address3: String::new(),
        city: String::new(),
        postal: String::new(),
        state_province: String::new(),
        country: String::new(),
        phone: String::new(),
        email: String::new(),
    }
}

/// `POST site/{site}/users` (`Email`, `FirstName`, `LastName` required; `Business`, `Phone`,
/// address fields, `IntegrationData`) or `PUT site/{site}/users/{userId}` (fields given change).
/// Raises `NewSiteUser` / `UpdatedSiteUser`.
pub(super) fn user_save(sim: &PresseroSim, site: &str, id: Option<&str>, body: &[u8]) -> Response {
    sim.mutate(|d| {
        result((|| {
            let si = site_or_404(d, site)?;
            let existing = match id {
                Some(id) => Some(
                    user_index(d, si, id)
                        .ok_or_else(|| message(StatusCode::NOT_FOUND, "User not found"))?,
                ),
                None => None,
            };
            let obj = object(body)?;
            let email = opt_text(&obj, "Email")?;
            let first = opt_text(&obj, "FirstName")?;
            let last = opt_text(&obj, "LastName")?;
            let business = opt_text(&obj, "Business")?;
            let phone = opt_text(&obj, "Phone")?;
            let integration = opt_text(&obj, "IntegrationData")?;
            if existing.is_none() {
                required(email.clone(), "Email")?;
                required(first.clone(), "FirstName")?;
                required(last.clone(), "LastName")?;
            }
            if let Some(e) = &email {
                let e = e.trim();
                if !e.contains('@') || e.starts_with('@') || e.ends_with('@') {
                    return Err(bad("The Email field is not a valid e-mail address."));
                }
                // A new registration with a known e-mail is refused (trimmed, any case).
                let taken = d.users.iter().enumerate().any(|(k, u)| {
                    Some(k) != existing
                        && u.site as usize == si
                        && u.email.trim().eq_ignore_ascii_case(e)
                });
                if taken {
                    return Err(bad("A user with this email address already exists."));
                }
            }
            let now = now_millis();
            let (k, event) = match existing {
                Some(k) => (k, WebhookEvent::UpdatedSiteUser),
                None => {
                    let n = d.users.len() as u64;
                    d.users.push(User {
                        id: stable_uuid(d.seed, ns::USER, 1_000_000 + n),
                        site: si as u8,
                        email: String::new(),
                        first_name: String::new(),
                        last_name: String::new(),
                        business: String::new(),
                        phone: String::new(),
                        address: empty_address(),
                        alt_address: empty_address(),
                        integration_data: None,
                        book: Vec::new(),
                        default_book: None,
                        modified: now,
                    });
                    (d.users.len() - 1, WebhookEvent::NewSiteUser)
                }
            };
            let u = &mut d.users[k];
            // A user whose second address is their first keeps it so (one book entry).
            let single = u.alt_address == u.address;
            if let Some(e) = email {
                u.email = e.trim().to_owned();
                u.address.email = u.email.clone();
            }
            if let Some(f) = first {
                u.first_name = f.trim().to_owned();
                u.address.first_name = u.first_name.clone();
            }
            if let Some(l) = last {
                u.last_name = l.trim().to_owned();
                u.address.last_name = u.last_name.clone();
            }
            if let Some(b) = business {
                u.business = b.trim().to_owned();
                u.address.business = u.business.clone();
            }
            if let Some(p) = phone {
                u.phone = p.trim().to_owned();
                u.address.phone = u.phone.clone();
            }
            if let Some(i) = integration {
                u.integration_data = Some(i);
            }
            apply_address(&mut u.address, &obj)?;
            if single || event == WebhookEvent::NewSiteUser {
                u.alt_address = u.address.clone();
            }
            u.modified = now;
            let view = d.user_view(&d.users[k]);
            d.raise(event, si, serde_json::to_value(&view).unwrap_or_default());
            Ok(ok_json(&view))
        })())
    })
}

// ---- address book ----

/// The user's address book: the registered address (entry 0), the second address when it
/// differs (entry 1), then the entries added through the API.
fn book(d: &PresseroData, k: usize) -> Vec<BookEntryView> {
    let u = &d.users[k];
    let entry = |i: u64| stable_uuid(d.seed, ns::ADDRESS, k as u64 * 1_000_000 + i);
    let mut out = vec![BookEntryView {
        address_id: entry(0),
        is_default: u.default_book.is_none(),
        address: u.address.clone(),
    }];
    if u.alt_address != u.address {
        out.push(BookEntryView {
            address_id: entry(1),
            is_default: false,
            address: u.alt_address.clone(),
        });
    }
    for (id, a) in &u.book {
        out.push(BookEntryView {
            address_id: *id,
            is_default: u.default_book == Some(*id),
            address: a.clone(),
        });
    }
    out
}

pub(super) fn address_book(sim: &PresseroSim, site: &str, user: &str) -> Response {
    let d = sim.read();
    result((|| {
        let si = site_or_404(&d, site)?;
        let k = user_index(&d, si, user)
            .ok_or_else(|| message(StatusCode::NOT_FOUND, "User not found"))?;
        let items = book(&d, k);
        Ok(ok_json(&Page {
            total_items: items.len(),
            items,
        }))
    })())
}

/// `POST site/{site}/Addressbook/{userId}` with an address (`FirstName`, `LastName`,
/// `Address1`, `City`, `Country` required) and optional `IsDefault`; answers the new entry.
pub(super) fn address_book_add(sim: &PresseroSim, site: &str, user: &str, body: &[u8]) -> Response {
    sim.mutate(|d| {
        result((|| {
            let si = site_or_404(d, site)?;
            let k = user_index(d, si, user)
                .ok_or_else(|| message(StatusCode::NOT_FOUND, "User not found"))?;
            let obj = object(body)?;
            let mut a = empty_address();
            apply_address(&mut a, &obj)?;
            for (name, v) in [
                ("FirstName", &a.first_name),
                ("LastName", &a.last_name),
                ("Address1", &a.address1),
                ("City", &a.city),
                ("Country", &a.country),
            ] {
                required(Some(v.clone()), name)?;
            }
            let make_default = opt_bool(&obj, "IsDefault")?.unwrap_or(false);
            let n = d.users[k].book.len() as u64;
            let id = stable_uuid(d.seed, ns::ADDRESS, k as u64 * 1_000_000 + 16 + n);
            let u = &mut d.users[k];
            u.book.push((id, a.clone()));
            if make_default {
                u.default_book = Some(id);
            }
            u.modified = now_millis();
            Ok(ok_json(&BookEntryView {
                address_id: id,
                is_default: make_default,
                address: a,
            }))
        })())
    })
}
