//! The `products` and `categories` streams of the configured site (R-B-7, R-B-8).
//!
//! Reading: `GET site/{site}/products?…&includeDeleted=true` and `GET site/{site}/categories`,
//! paged by [`crate::site`]; deleted products map to inactive ones.
//!
//! Writing: `POST site/{site}/products` (create) or `PUT site/{site}/products/{id}` (update,
//! when the push request names the `external-id`); the same for categories.
//! - The integration data is kept on the record (`IntegrationData`): the canonical extension's
//!   `integrationData` text when it has one, else `{"externalId": <the canonical id>}`, so a
//!   later look-up can find what this connection created.
//! - New products are active (R-B-7); an update sends the canonical `active`.
//! - A product's categories are canonical references, resolved against the site's categories
//!   by `CategoryId`, then by the `externalId` of their integration data, then by name. What
//!   does not resolve is left out (with a warning); a new product with no category left goes
//!   under the setting `default-category-id`, or the site's Root (Pressero's default). An
//!   update with no category left keeps the product's categories.
//! - A category's parent resolves the same way; none (or unresolved) = under Root.
//! - `find-or-create` and `find` look the record up first: a product by `ProductCode`, then by
//!   `Sku`; a category by the `externalId` of its integration data, then by name under the
//!   same parent. `find-or-create` updates what it finds (`created: false`), else creates.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use switchyard_sdk::http::Method;
use switchyard_sdk::money::{self, currency_decimals};
use switchyard_sdk::prelude::*;

use crate::api::{encode_component, Session};
use crate::site::{self, site_path, SiteList};

/// The products list.
pub const PRODUCT_LIST: SiteList = SiteList {
    path: "products",
    id_field: "ProductId",
    query: "&includeDeleted=true",
};

/// The categories list.
pub const CATEGORY_LIST: SiteList = SiteList {
    path: "categories",
    id_field: "CategoryId",
    query: "",
};

/// Look-ups read at most this many pages of 500.
const LOOKUP_PAGES: u64 = 40;

fn text(obj: &Value, field: &str) -> Option<String> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn flag(obj: &Value, field: &str, default: bool) -> bool {
    obj.get(field).and_then(Value::as_bool).unwrap_or(default)
}

fn decimals() -> u32 {
    currency_decimals(crate::settings::currency().as_deref().unwrap_or("USD"))
}

/// The `externalId` an `IntegrationData` text carries, when it is such a JSON object.
pub fn integration_external_id(integration: Option<&str>) -> Option<String> {
    let v: Value = serde_json::from_str(integration?).ok()?;
    text(&v, "externalId")
}

/// The integration data to keep on a record pushed from canonical `external_id`/`extension`.
pub fn integration_data(external_id: &str, extension: &str) -> String {
    let ext: Value = serde_json::from_str(extension).unwrap_or(Value::Null);
    match ext.get("integrationData") {
        Some(Value::String(s)) => s.clone(),
        Some(v) if v.is_object() => v.to_string(),
        _ => json!({ "externalId": external_id }).to_string(),
    }
}

fn parse_doc(data: &str) -> Result<Value> {
    let doc: Value = serde_json::from_str(data).or_invalid("data")?;
    if !doc.is_object() {
        return Err(ConnectorError::invalid_input("not an object", "data"));
    }
    Ok(doc)
}

// ---- map-in ----

/// A Pressero product (as the products list serves it) → the canonical product.
pub fn product_in(data: &str) -> Result<Product> {
    let doc = parse_doc(data)?;
    let id = text(&doc, "ProductId").or_invalid("ProductId")?;
    let name = text(&doc, "Name")
        .or_else(|| text(&doc, "ProductCode"))
        .or_invalid("Name")?;
    let price = match doc.get("Price") {
        None | Some(Value::Null) => None,
        Some(v) => Some(money::json_to_minor(v, decimals()).map_err(|e| e.at("Price"))?),
    };
    let categories = match doc.get("CategoryIds") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|v| v.as_str())
            .map(str::to_string)
            .collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(ConnectorError::invalid_input("not a list", "CategoryIds")),
    };
    let deleted = flag(&doc, "IsDeleted", false);
    let active = flag(&doc, "IsActive", true);
    let integration = text(&doc, "IntegrationData");
    let extension = json!({
        "integrationData": integration,
        "integrationExternalId": integration_external_id(integration.as_deref()),
        "categoryName": doc.get("CategoryName"),
        "isActive": active,
        "isDeleted": deleted,
        "modifiedDate": doc.get("ModifiedDate"),
    });
    Ok(Product {
        external_id: id,
        sku: text(&doc, "Sku"),
        code: text(&doc, "ProductCode"),
        name,
        names: Vec::new(),
        short_description: None,
        long_description: None,
        price_excl_tax: price,
        price_incl_tax: None,
        currency: crate::settings::currency(),
        ean: None,
        quantity: None,
        categories,
        variants: Vec::new(),
        properties: Vec::new(),
        active: active && !deleted,
        extension: extension.to_string(),
    })
}

/// A Pressero category → the canonical category (Root has no parent).
pub fn category_in(data: &str) -> Result<Category> {
    let doc = parse_doc(data)?;
    let integration = text(&doc, "IntegrationData");
    Ok(Category {
        external_id: text(&doc, "CategoryId").or_invalid("CategoryId")?,
        name: text(&doc, "Name").or_invalid("Name")?,
        parent_external_id: text(&doc, "ParentId"),
        extension: json!({
            "isRoot": flag(&doc, "IsRoot", false),
            "isActive": flag(&doc, "IsActive", true),
            "integrationData": integration,
            "integrationExternalId": integration_external_id(integration.as_deref()),
            "modifiedDate": doc.get("ModifiedDate"),
        })
        .to_string(),
    })
}

// ---- map-out ----

/// What `map-out` of `products` produces: the Pressero body, with the canonical category
/// references (`CategoryRefs`) `push` resolves against the site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProductPayload {
    /// `Name`.
    pub name: String,
    /// `ProductCode` (the canonical code, else the SKU).
    pub product_code: String,
    /// `Sku`, when known.
    pub sku: Option<String>,
    /// `Price` excluding tax, a decimal in the site currency; needed to create.
    pub price: Option<Value>,
    /// The canonical `active`.
    pub is_active: bool,
    /// `IntegrationData`.
    pub integration_data: String,
    /// Canonical category references.
    pub category_refs: Vec<String>,
}

/// `map-out` of `products`.
pub fn product_out(p: &Product) -> Result<Payload> {
    let name = p.name.trim();
    if name.is_empty() {
        return Err(ConnectorError::invalid_input("the name is empty", "name"));
    }
    let product_code = p
        .code
        .as_deref()
        .or(p.sku.as_deref())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            ConnectorError::invalid_input(
                "Pressero needs a product code (or SKU) for every product",
                "code",
            )
        })?
        .to_string();
    if let (Some(theirs), Some(ours)) = (p.currency.as_deref(), crate::settings::currency()) {
        if !theirs.trim().eq_ignore_ascii_case(&ours) {
            return Err(ConnectorError::invalid_input(
                format!("the price is in {theirs}, the site sells in {ours}"),
                "currency",
            ));
        }
    }
    let decimals = currency_decimals(
        p.currency
            .as_deref()
            .map(str::trim)
            .or(crate::settings::currency().as_deref())
            .unwrap_or("USD"),
    );
    let price = match p.price_excl_tax {
        Some(m) if m < 0 => {
            return Err(ConnectorError::invalid_input(
                "a price cannot be negative",
                "price-excl-tax",
            ))
        }
        Some(m) => Some(money::minor_to_json(m, decimals)),
        None => None,
    };
    let payload = ProductPayload {
        name: name.to_string(),
        product_code,
        sku: p
            .sku
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        price,
        is_active: p.active,
        integration_data: integration_data(&p.external_id, &p.extension),
        category_refs: p
            .categories
            .iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
    };
    to_payload(&payload)
}

/// What `map-out` of `categories` produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CategoryPayload {
    /// `Name`.
    pub name: String,
    /// The canonical parent reference; none = under Root.
    pub parent_ref: Option<String>,
    /// `IntegrationData`.
    pub integration_data: String,
    /// The canonical id (what the look-up of `find-or-create` searches for).
    pub external_id: String,
}

/// `map-out` of `categories`.
pub fn category_out(c: &Category) -> Result<Payload> {
    let name = c.name.trim();
    if name.is_empty() {
        return Err(ConnectorError::invalid_input("the name is empty", "name"));
    }
    to_payload(&CategoryPayload {
        name: name.to_string(),
        parent_ref: c
            .parent_external_id
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string),
        integration_data: integration_data(&c.external_id, &c.extension),
        external_id: c.external_id.clone(),
    })
}

fn to_payload<T: Serialize>(value: &T) -> Result<Payload> {
    Ok(Payload {
        data: serde_json::to_string(value)
            .map_err(|e| ConnectorError::permanent(format!("cannot encode the payload: {e}")))?,
    })
}

// ---- push ----

/// Finds the site category a canonical reference names: by id, by integration data, by name.
pub fn resolve_category<'a>(categories: &'a [Value], reference: &str) -> Option<&'a Value> {
    let r = reference.trim();
    let by = |f: &dyn Fn(&Value) -> bool| categories.iter().find(|c| f(c));
    by(&|c| text(c, "CategoryId").is_some_and(|id| id.eq_ignore_ascii_case(r)))
        .or_else(|| {
            by(&|c| {
                let data = text(c, "IntegrationData");
                integration_external_id(data.as_deref()).is_some_and(|e| e == r)
                    || data.is_some_and(|d| d == r)
            })
        })
        .or_else(|| by(&|c| text(c, "Name").is_some_and(|n| n.eq_ignore_ascii_case(r))))
}

fn root_id(categories: &[Value]) -> Option<String> {
    categories
        .iter()
        .find(|c| flag(c, "IsRoot", false) || c.get("ParentId").is_some_and(Value::is_null))
        .and_then(|c| text(c, "CategoryId"))
}

fn written_id(answer: &Value, field: &str, request: &str) -> Result<String> {
    text(answer, field).ok_or_else(|| {
        ConnectorError::invalid_input(format!("missing {field}"), format!("response of {request}"))
    })
}

/// Finds a product by code (trimmed, any case), then by SKU, among the site's products.
pub fn find_product<'a>(products: &'a [Value], code: &str, sku: Option<&str>) -> Option<&'a Value> {
    let live = |p: &&Value| !flag(p, "IsDeleted", false);
    let same =
        |p: &Value, f: &str, v: &str| text(p, f).is_some_and(|x| x.eq_ignore_ascii_case(v.trim()));
    products
        .iter()
        .filter(live)
        .find(|p| same(p, "ProductCode", code))
        .or_else(|| {
            let sku = sku?;
            products.iter().filter(live).find(|p| same(p, "Sku", sku))
        })
}

fn is_duplicate_code(e: &ConnectorError) -> bool {
    matches!(e, ConnectorError::InvalidInput(_)) && e.message().contains("already exists")
}

/// `push` of `products`.
pub fn push_product(req: &PushRequest) -> Result<PushResult> {
    let p: ProductPayload = serde_json::from_str(&req.payload.data).or_invalid("payload")?;
    let site = crate::settings::site()?;
    let mut session = Session::from_config(None)?;
    let products_path = site_path(&site, "products");

    // The record to update, if any: named by the request, or found by the look-up.
    let mut target = req.external_id.clone();
    if let (Some(id), PushMode::Find | PushMode::FindOrCreate) = (&target, req.mode) {
        let path = format!("{products_path}/{}", encode_component(id));
        if session.get(&path)?.is_none() {
            if req.mode == PushMode::Find {
                return Err(ConnectorError::not_found(format!(
                    "Pressero has no product {id} on {site}"
                )));
            }
            target = None;
        }
    }
    if target.is_none() && req.mode != PushMode::Create {
        let all = site::all(&mut session, &site, "products", "", LOOKUP_PAGES)?;
        target = find_product(&all, &p.product_code, p.sku.as_deref())
            .and_then(|f| text(f, "ProductId"));
        if target.is_none() && req.mode == PushMode::Find {
            return Err(ConnectorError::not_found(format!(
                "Pressero has no product with code {} on {site}",
                p.product_code
            )));
        }
    }
    if let (Some(id), PushMode::Find) = (&target, req.mode) {
        return Ok(PushResult {
            external_id: id.clone(),
            status: None,
            created: false,
            items: Vec::new(),
        });
    }

    let categories = site::all(&mut session, &site, "categories", "", LOOKUP_PAGES)?;
    let mut category_ids: Vec<String> = Vec::new();
    for r in &p.category_refs {
        match resolve_category(&categories, r).and_then(|c| text(c, "CategoryId")) {
            Some(id) if !category_ids.contains(&id) => category_ids.push(id),
            Some(_) => {}
            None => switchyard_sdk::log::warn!(
                "category `{r}` of product {} is not on {site}; left out",
                p.product_code
            ),
        }
    }

    let mut body = Map::new();
    body.insert("Name".into(), json!(p.name));
    body.insert("ProductCode".into(), json!(p.product_code));
    if let Some(s) = &p.sku {
        body.insert("Sku".into(), json!(s));
    }
    if let Some(price) = &p.price {
        body.insert("Price".into(), price.clone());
    }
    body.insert("IntegrationData".into(), json!(p.integration_data));
    match &target {
        Some(id) => {
            body.insert("IsActive".into(), json!(p.is_active));
            if !category_ids.is_empty() {
                body.insert("CategoryIds".into(), json!(category_ids));
            }
            let path = format!("{products_path}/{}", encode_component(id));
            let answer =
                session.send(Method::Put, &path, Some(&Value::Object(body)), None, &[404])?;
            if answer.status == 404 {
                return Err(ConnectorError::not_found(format!(
                    "Pressero has no product {id} on {site}"
                )));
            }
            let doc: Value = answer.json()?;
            Ok(PushResult {
                external_id: written_id(&doc, "ProductId", &answer.request)?,
                status: None,
                created: false,
                items: Vec::new(),
            })
        }
        None => {
            if p.price.is_none() {
                return Err(ConnectorError::invalid_input(
                    "Pressero needs a price to create a product",
                    "price-excl-tax",
                ));
            }
            // Downloaded products are active (R-B-7).
            body.insert("IsActive".into(), json!(true));
            if category_ids.is_empty() {
                if let Some(d) = config::get("default-category-id") {
                    category_ids.push(d);
                } else if let Some(root) = root_id(&categories) {
                    category_ids.push(root);
                }
            }
            if !category_ids.is_empty() {
                body.insert("CategoryIds".into(), json!(category_ids));
            }
            let body = Value::Object(body);
            let created = session.send(Method::Post, &products_path, Some(&body), Some(false), &[]);
            let answer = match created {
                Ok(a) => a,
                Err(e) if is_duplicate_code(&e) => {
                    let all = site::all(&mut session, &site, "products", "", LOOKUP_PAGES)?;
                    return Err(
                        match find_product(&all, &p.product_code, None)
                            .and_then(|f| text(f, "ProductId"))
                        {
                            Some(id) => ConnectorError::already_exists(e.message().to_string(), id),
                            None => e,
                        },
                    );
                }
                Err(e) => return Err(e),
            };
            let doc: Value = answer.json()?;
            Ok(PushResult {
                external_id: written_id(&doc, "ProductId", &answer.request)?,
                status: None,
                created: true,
                items: Vec::new(),
            })
        }
    }
}

/// Finds a category pushed before: by the `externalId` of its integration data, then by name
/// under `parent`.
pub fn find_category<'a>(
    categories: &'a [Value],
    external_id: &str,
    name: &str,
    parent: Option<&str>,
) -> Option<&'a Value> {
    categories
        .iter()
        .find(|c| {
            integration_external_id(text(c, "IntegrationData").as_deref())
                .is_some_and(|e| e == external_id)
        })
        .or_else(|| {
            categories.iter().find(|c| {
                text(c, "Name").is_some_and(|n| n.eq_ignore_ascii_case(name))
                    && !flag(c, "IsRoot", false)
                    && match parent {
                        Some(p) => text(c, "ParentId").is_some_and(|x| x.eq_ignore_ascii_case(p)),
                        None => true,
                    }
            })
        })
}

/// `push` of `categories`.
pub fn push_category(req: &PushRequest) -> Result<PushResult> {
    let c: CategoryPayload = serde_json::from_str(&req.payload.data).or_invalid("payload")?;
    let site = crate::settings::site()?;
    let mut session = Session::from_config(None)?;
    let path = site_path(&site, "categories");
    let categories = site::all(&mut session, &site, "categories", "", LOOKUP_PAGES)?;
    let root = root_id(&categories);
    let parent = match &c.parent_ref {
        None => root.clone(),
        Some(r) => match resolve_category(&categories, r).and_then(|p| text(p, "CategoryId")) {
            Some(id) => Some(id),
            None => {
                switchyard_sdk::log::warn!(
                    "parent category `{r}` of category {} is not on {site}; it goes under Root",
                    c.name
                );
                root.clone()
            }
        },
    };

    let mut target = req.external_id.clone();
    if let Some(id) = &target {
        let known = categories
            .iter()
            .any(|x| text(x, "CategoryId").is_some_and(|x| x.eq_ignore_ascii_case(id)));
        if !known && req.mode != PushMode::Create {
            target = None;
        }
    }
    if target.is_none() && req.mode != PushMode::Create {
        target = find_category(&categories, &c.external_id, &c.name, parent.as_deref())
            .and_then(|f| text(f, "CategoryId"));
    }
    match (&target, req.mode) {
        (Some(id), PushMode::Find) => {
            return Ok(PushResult {
                external_id: id.clone(),
                status: None,
                created: false,
                items: Vec::new(),
            })
        }
        (None, PushMode::Find) => {
            return Err(ConnectorError::not_found(format!(
                "Pressero has no category {} on {site}",
                c.name
            )))
        }
        _ => {}
    }

    let mut body = Map::new();
    body.insert("Name".into(), json!(c.name));
    body.insert("IntegrationData".into(), json!(c.integration_data));
    let is_root = target.is_some() && target == root;
    if let Some(p) = &parent {
        // Root cannot be moved; a category is not its own parent.
        if !is_root && target.as_deref() != Some(p.as_str()) {
            body.insert("ParentId".into(), json!(p));
        }
    }
    let body = Value::Object(body);
    let (answer, created) = match &target {
        Some(id) => {
            let url = format!("{path}/{}", encode_component(id));
            let a = session.send(Method::Put, &url, Some(&body), None, &[404])?;
            if a.status == 404 {
                return Err(ConnectorError::not_found(format!(
                    "Pressero has no category {id} on {site}"
                )));
            }
            (a, false)
        }
        None => (
            session.send(Method::Post, &path, Some(&body), Some(false), &[])?,
            true,
        ),
    };
    let doc: Value = answer.json()?;
    Ok(PushResult {
        external_id: written_id(&doc, "CategoryId", &answer.request)?,
        status: None,
        created,
        items: Vec::new(),
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn categories_resolve_by_id_integration_data_or_name() {
        let cats = vec![
            json!({"CategoryId": "R", "Name": "Root", "ParentId": null, "IsRoot": true}),
            json!({"CategoryId": "C1", "Name": "Flyers", "ParentId": "R", "IntegrationData": "{\"externalId\":\"mis-7\"}"}),
            json!({"CategoryId": "C2", "Name": "Cards", "ParentId": "R"}),
        ];
        let id = |r: &str| resolve_category(&cats, r).and_then(|c| text(c, "CategoryId"));
        assert_eq!(id("c2").as_deref(), Some("C2"));
        assert_eq!(id("mis-7").as_deref(), Some("C1"));
        assert_eq!(id("cards").as_deref(), Some("C2"));
        assert_eq!(id("posters"), None);
        assert_eq!(root_id(&cats).as_deref(), Some("R"));
        let f = |e: &str, n: &str| {
            find_category(&cats, e, n, Some("R")).and_then(|c| text(c, "CategoryId"))
        };
        assert_eq!(f("mis-7", "Other").as_deref(), Some("C1"));
        assert_eq!(f("x", "CARDS").as_deref(), Some("C2"));
        assert_eq!(f("x", "Root"), None);
    }

    #[test]
    fn integration_data_is_the_extension_text_or_the_canonical_id() {
        assert_eq!(integration_data("p-1", "{}"), r#"{"externalId":"p-1"}"#);
        assert_eq!(
            integration_data("p-1", r#"{"integrationData":"MIS 42"}"#),
            "MIS 42"
        );
        assert_eq!(
            integration_external_id(Some(r#"{"externalId":"p-1"}"#)).as_deref(),
            Some("p-1")
        );
        assert_eq!(integration_external_id(Some("MIS 42")), None);
    }

    #[test]
    fn products_are_found_by_code_then_sku_never_deleted_ones() {
        let ps = vec![
            json!({"ProductId": "1", "ProductCode": "BC-1", "Sku": "S1", "IsDeleted": true}),
            json!({"ProductId": "2", "ProductCode": "bc-1 ", "Sku": "S2"}),
            json!({"ProductId": "3", "ProductCode": "FL-1", "Sku": "S3"}),
        ];
        let id =
            |c: &str, s: Option<&str>| find_product(&ps, c, s).and_then(|p| text(p, "ProductId"));
        assert_eq!(id("BC-1", None).as_deref(), Some("2"));
        assert_eq!(id("nope", Some("s3")).as_deref(), Some("3"));
        assert_eq!(id("nope", Some("S1")), None);
    }
}
