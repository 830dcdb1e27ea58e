//! The Presswise order service (`wsdl-order2.php`) over the host's HTTP.
//!
//! Every call is a SOAP 1.1 rpc/encoded POST with `SOAPAction: #POST` and
//! `<auth><user/><pass/><code/></auth>` first; the password and authorization
//! code are `{{secret:…}}` placeholders the host fills in. Answers carry
//! `result.status.code` (0 = OK); [`status_error`] maps the others, and
//! [`Client::call`] maps SOAP Faults, HTTP errors and malformed answers.

use serde::{Deserialize, Serialize};
use switchyard_sdk::http::{secret, Request};
use switchyard_sdk::prelude::*;

use crate::settings;
use crate::soap::{self, Answer, Element, Value};

/// Presswise's largest page of `get_products` / `get_categories`.
pub const MAX_PAGE_SIZE: u32 = 500;

/// `result.status.code` values of the order service.
pub mod code {
    /// Success.
    pub const OK: u32 = 0;
    /// Authentication failed.
    pub const AUTH: u32 = 1;
    /// A required field is missing.
    pub const MISSING: u32 = 2;
    /// A value is invalid.
    pub const INVALID: u32 = 3;
    /// A referenced record does not exist.
    pub const NOT_FOUND: u32 = 4;
    /// The record already exists.
    pub const EXISTS: u32 = 5;
}

/// A connection to one tenant's order service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The SOAP endpoint.
    pub url: String,
    /// `auth.user`.
    pub username: String,
}

/// Where the field a status text names is, e.g. `btCity` in
/// `Missing required field: btCity` or `items[1].quantity` in
/// `Invalid value for items[1].quantity: '0'`; `operation` when it names none.
pub fn status_location(text: &str, operation: &str) -> String {
    if let Some(rest) = text.strip_prefix("Missing required field: ") {
        return rest.trim().to_string();
    }
    if let Some(rest) = text.strip_prefix("Invalid value for ") {
        if let Some((field, _)) = rest.split_once(": ") {
            return field.trim().to_string();
        }
    }
    // `Product 7 is inactive (items[1].productID)`.
    if let Some(inner) = text
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once('(').map(|(_, f)| f))
    {
        if !inner.contains(' ') && !inner.is_empty() {
            return inner.to_string();
        }
    }
    // `Product not found: items[1].productID = '7'`.
    if let Some((_, rest)) = text.split_once(": ") {
        if let Some((field, _)) = rest.split_once(" = ") {
            if !field.contains(' ') {
                return field.to_string();
            }
        }
    }
    operation.to_string()
}

/// The error a non-zero `status.code` of `operation` means.
pub fn status_error(
    operation: &str,
    code: u32,
    text: &str,
    existing_id: Option<&str>,
) -> ConnectorError {
    match code {
        code::AUTH => ConnectorError::auth(format!(
            "Presswise refused the credentials ({text}); check `username`, `password` and `authorization-code`"
        )),
        code::MISSING | code::INVALID => ConnectorError::invalid_input(
            format!("Presswise rejected {operation}: {text}"),
            status_location(text, operation),
        ),
        code::NOT_FOUND => ConnectorError::not_found(format!("Presswise {operation}: {text}")),
        code::EXISTS => ConnectorError::already_exists(
            format!("Presswise {operation}: {text}"),
            existing_id.unwrap_or_default(),
        ),
        other => ConnectorError::permanent(format!(
            "Presswise answered {operation} with the unknown status {other}: {text}"
        )),
    }
}

fn malformed(operation: &str, what: impl std::fmt::Display) -> ConnectorError {
    // For a write this is ambiguous (the order may exist): transient, so the
    // host retries in find-or-create mode.
    ConnectorError::transient(format!(
        "the answer to Presswise {operation} is unusable ({what})"
    ))
}

impl Client {
    /// The client of this connection's settings.
    pub fn from_config() -> Result<Self> {
        Ok(Client {
            url: settings::endpoint()?,
            username: config::required(settings::USERNAME)?,
        })
    }

    fn auth(&self) -> Value {
        Value::Struct {
            xsi_type: "ns1:Auth",
            members: vec![
                ("user", Value::string(&self.username)),
                ("pass", Value::Secret(secret(settings::PASSWORD))),
                ("code", Value::Secret(secret(settings::AUTHORIZATION_CODE))),
            ],
        }
    }

    /// Calls `operation` with `params` (after `auth`) and answers its `result`
    /// once `status.code` is 0. `write` marks a call that creates something:
    /// the host does not resend it.
    pub fn call(
        &self,
        operation: &str,
        params: Vec<(&'static str, Value)>,
        write: bool,
    ) -> Result<Element> {
        let mut all = vec![("auth", self.auth())];
        all.extend(params);
        let body = soap::envelope(operation, &all);
        let response = Request::post(&self.url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", "#POST")
            .body(body)
            .idempotent(!write)
            .send()
            .map_err(|e| match e {
                ConnectorError::Transient(m) => {
                    ConnectorError::transient(format!("Presswise {operation}: {m}"))
                }
                other => other,
            })?;
        let answer = soap::read_answer(&response.body);
        match (response.status, answer) {
            (200, Ok(Answer::Response(r))) => self.result(operation, r),
            (_, Ok(Answer::Fault(f))) if f.is_client() => Err(ConnectorError::permanent(format!(
                "Presswise refused the {operation} request with a SOAP Fault ({}: {})",
                f.code, f.message
            ))),
            (_, Ok(Answer::Fault(f))) => Err(ConnectorError::transient(format!(
                "Presswise answered {operation} with a SOAP Fault ({}: {}, HTTP {})",
                f.code, f.message, response.status
            ))),
            (200, Err(e)) => Err(malformed(operation, e)),
            (404, _) => Err(ConnectorError::not_found(format!(
                "there is no Presswise order service at {} (HTTP 404); check the `url` setting (…/r/wsdl-order2.php)",
                self.url
            ))),
            (status, _) => {
                let e = switchyard_sdk::http::status_error(
                    &format!("Presswise {operation} at {}", self.url),
                    status,
                    &response.headers,
                    &response.body,
                )
                .unwrap_or_else(|| malformed(operation, format!("HTTP {status} without a SOAP answer")));
                Err(e)
            }
        }
    }

    fn result(&self, operation: &str, response: Element) -> Result<Element> {
        let result = response
            .child("result")
            .or_else(|| response.children.first())
            .cloned()
            .ok_or_else(|| malformed(operation, "no result"))?;
        let status = result
            .child("status")
            .ok_or_else(|| malformed(operation, "no result.status"))?;
        let code: u32 = status
            .text_of("code")
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| malformed(operation, "no numeric result.status.code"))?;
        if code == code::OK {
            return Ok(result);
        }
        let text = status
            .text_of("text")
            .unwrap_or_else(|| "no message".into());
        Err(status_error(
            operation,
            code,
            &text,
            result.text_of("userID").as_deref(),
        ))
    }

    /// `add_purchase_order`: creates an order (a new one on every call).
    pub fn add_purchase_order(&self, order: &PurchaseOrder) -> Result<CreatedOrder> {
        const OP: &str = "add_purchase_order";
        let result = self.call(OP, vec![("order", order.to_soap())], true)?;
        let order_id = result
            .text_of("orderID")
            .ok_or_else(|| malformed(OP, "no orderID"))?;
        let items = result
            .array("items")
            .iter()
            .map(|i| {
                Ok(CreatedItem {
                    item_id: i
                        .text_of("itemID")
                        .ok_or_else(|| malformed(OP, "an item without itemID"))?,
                    source_job_id: i.text_of("sourceJobID").unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CreatedOrder { order_id, items })
    }

    /// `get_order_status`: an order and its items; `None` when Presswise has no such order.
    pub fn get_order_status(&self, order_id: u64) -> Result<Option<OrderStatus>> {
        const OP: &str = "get_order_status";
        match self.call(OP, vec![("orderID", Value::int(order_id))], false) {
            Ok(result) => {
                let order = result
                    .child("order")
                    .ok_or_else(|| malformed(OP, "no order"))?;
                Ok(Some(OrderStatus::read(order, OP)?))
            }
            Err(ConnectorError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `find_orders`: every order carrying `source_order_id`, oldest first.
    pub fn find_orders(&self, source_order_id: &str) -> Result<Vec<OrderStatus>> {
        const OP: &str = "find_orders";
        let result = self.call(
            OP,
            vec![("sourceOrderID", Value::string(source_order_id))],
            false,
        )?;
        result
            .array("orders")
            .iter()
            .map(|o| OrderStatus::read(o, OP))
            .collect()
    }

    /// `get_categories`: one 1-based page.
    pub fn get_categories(&self, page: u32, page_size: u32) -> Result<CatalogPage<Category>> {
        const OP: &str = "get_categories";
        let result = self.call(OP, paging(page, page_size), false)?;
        let rows = result
            .array("categories")
            .iter()
            .map(|c| Category::read(c, OP))
            .collect::<Result<Vec<_>>>()?;
        Ok(CatalogPage {
            total: result.text_of("total").and_then(|t| t.parse().ok()),
            rows,
        })
    }

    /// `get_products`: one 1-based page of every product, inactive ones included.
    pub fn get_products(&self, page: u32, page_size: u32) -> Result<CatalogPage<Product>> {
        const OP: &str = "get_products";
        let result = self.call(OP, paging(page, page_size), false)?;
        let rows = result
            .array("products")
            .iter()
            .map(|p| Product::read(p, OP))
            .collect::<Result<Vec<_>>>()?;
        Ok(CatalogPage {
            total: result.text_of("total").and_then(|t| t.parse().ok()),
            rows,
        })
    }
}

fn paging(page: u32, page_size: u32) -> Vec<(&'static str, Value)> {
    vec![
        ("page", Value::int(page.max(1))),
        ("pageSize", Value::int(page_size.clamp(1, MAX_PAGE_SIZE))),
    ]
}

fn required(e: &Element, field: &str, operation: &str) -> Result<String> {
    e.text_of(field)
        .ok_or_else(|| malformed(operation, format!("no {}.{field}", e.name)))
}

/// A bill-to or ship-to address (`bt*` / `st*`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// `First`.
    pub first: String,
    /// `Last`.
    pub last: String,
    /// `NameCompany`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name_company: String,
    /// `Street`.
    pub street: String,
    /// `City`.
    pub city: String,
    /// `State`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub state: String,
    /// `Zip`.
    pub zip: String,
    /// `Country`.
    pub country: String,
}

/// One item of `add_purchase_order`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseItem {
    /// `quantity` (an integer > 0).
    pub quantity: u64,
    /// `productID`.
    #[serde(rename = "productID")]
    pub product_id: String,
    /// `productDesc`.
    pub product_desc: String,
    /// `sourceJobID`: the sender's item id.
    #[serde(rename = "sourceJobID")]
    pub source_job_id: String,
    /// `fileF.href`: where the print file is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_href: Option<String>,
    /// `numPages`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_pages: Option<u32>,
}

/// The `order` of `add_purchase_order`: what `map-out` writes as the payload (JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseOrder {
    /// `customerPO`.
    #[serde(
        rename = "customerPO",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_po: Option<String>,
    /// `sourceOrderID`: the canonical order's number.
    #[serde(rename = "sourceOrderID")]
    pub source_order_id: String,
    /// `bt*`.
    pub bill_to: Party,
    /// `st*`.
    pub ship_to: Party,
    /// `initial_status`.
    #[serde(rename = "initial_status")]
    pub initial_status: String,
    /// `shipMethod`.
    pub ship_method: String,
    /// `subTotal` (decimal text).
    pub sub_total: String,
    /// `taxCost` (decimal text).
    pub tax_cost: String,
    /// `totalCost` (decimal text).
    pub total_cost: String,
    /// `dueDate` (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// `comments`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    /// The items.
    pub items: Vec<PurchaseItem>,
}

fn party_members(prefix: &str, p: &Party) -> Vec<(&'static str, Value)> {
    let names: [&'static str; 8] = if prefix == "bt" {
        [
            "btFirst",
            "btLast",
            "btNameCompany",
            "btStreet",
            "btCity",
            "btState",
            "btZip",
            "btCountry",
        ]
    } else {
        [
            "stFirst",
            "stLast",
            "stNameCompany",
            "stStreet",
            "stCity",
            "stState",
            "stZip",
            "stCountry",
        ]
    };
    let values = [
        &p.first,
        &p.last,
        &p.name_company,
        &p.street,
        &p.city,
        &p.state,
        &p.zip,
        &p.country,
    ];
    names
        .into_iter()
        .zip(values)
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, v)| (n, Value::string(v.as_str())))
        .collect()
}

impl PurchaseOrder {
    /// The order as the SOAP `ns1:PurchaseOrder` struct.
    pub fn to_soap(&self) -> Value {
        let mut m: Vec<(&'static str, Value)> = Vec::new();
        if let Some(po) = &self.customer_po {
            m.push(("customerPO", Value::string(po)));
        }
        m.push(("sourceOrderID", Value::string(&self.source_order_id)));
        m.extend(party_members("bt", &self.bill_to));
        m.extend(party_members("st", &self.ship_to));
        if !self.initial_status.is_empty() {
            m.push(("initial_status", Value::string(&self.initial_status)));
        }
        m.push(("shipMethod", Value::string(&self.ship_method)));
        m.push(("subTotal", Value::decimal(&self.sub_total)));
        m.push(("taxCost", Value::decimal(&self.tax_cost)));
        m.push(("totalCost", Value::decimal(&self.total_cost)));
        if let Some(d) = &self.due_date {
            m.push(("dueDate", Value::string(d)));
        }
        if let Some(c) = &self.comments {
            m.push(("comments", Value::string(c)));
        }
        let items = self
            .items
            .iter()
            .map(|i| {
                let mut im = vec![
                    ("quantity", Value::int(i.quantity)),
                    ("productID", Value::string(&i.product_id)),
                    ("productDesc", Value::string(&i.product_desc)),
                ];
                if let Some(href) = &i.file_href {
                    im.push((
                        "fileF",
                        Value::Struct {
                            xsi_type: "ns1:FileRef",
                            members: vec![("href", Value::string(href))],
                        },
                    ));
                }
                im.push(("sourceJobID", Value::string(&i.source_job_id)));
                if let Some(n) = i.num_pages {
                    im.push(("numPages", Value::int(n)));
                }
                Value::Struct {
                    xsi_type: "ns1:OrderItem",
                    members: im,
                }
            })
            .collect();
        m.push((
            "items",
            Value::Array {
                item_type: "ns1:OrderItem",
                items,
            },
        ));
        Value::Struct {
            xsi_type: "ns1:PurchaseOrder",
            members: m,
        }
    }
}

/// An item of a created order: Presswise's itemID for the sender's sourceJobID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedItem {
    /// `itemID`.
    pub item_id: String,
    /// `sourceJobID`.
    pub source_job_id: String,
}

/// The answer of `add_purchase_order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedOrder {
    /// `orderID`.
    pub order_id: String,
    /// The items, in order.
    pub items: Vec<CreatedItem>,
}

/// A shipment of an item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    /// `carrier`.
    pub carrier: String,
    /// `trackingNumber`.
    pub tracking_number: String,
    /// `shipDate` (`YYYY-MM-DD HH:MM:SS`, UTC).
    pub ship_date: String,
}

/// The status of one item, as `get_order_status` / `find_orders` answer it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemStatus {
    /// `itemID`.
    #[serde(rename = "itemID")]
    pub item_id: String,
    /// `sourceJobID`.
    #[serde(rename = "sourceJobID")]
    pub source_job_id: String,
    /// `productID`.
    #[serde(rename = "productID")]
    pub product_id: String,
    /// `quantity`.
    pub quantity: String,
    /// `status`, e.g. `In Production`.
    pub status: String,
    /// `statusDate`.
    pub status_date: String,
    /// `shipment`, when the item has shipped.
    pub shipment: Option<Shipment>,
}

/// An order with its status, as `get_order_status` / `find_orders` answer it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatus {
    /// `orderID`.
    #[serde(rename = "orderID")]
    pub order_id: String,
    /// `sourceOrderID`.
    #[serde(rename = "sourceOrderID")]
    pub source_order_id: String,
    /// `status`.
    pub status: String,
    /// `statusDate`.
    pub status_date: String,
    /// `modified`.
    pub modified: String,
    /// The items.
    pub items: Vec<ItemStatus>,
}

impl OrderStatus {
    fn read(o: &Element, operation: &str) -> Result<Self> {
        let items = o
            .array("items")
            .iter()
            .map(|i| {
                Ok(ItemStatus {
                    item_id: required(i, "itemID", operation)?,
                    source_job_id: i.text_of("sourceJobID").unwrap_or_default(),
                    product_id: i.text_of("productID").unwrap_or_default(),
                    quantity: i.text_of("quantity").unwrap_or_default(),
                    status: i.text_of("status").unwrap_or_default(),
                    status_date: i.text_of("statusDate").unwrap_or_default(),
                    shipment: i.child("shipment").map(|s| Shipment {
                        carrier: s.text_of("carrier").unwrap_or_default(),
                        tracking_number: s.text_of("trackingNumber").unwrap_or_default(),
                        ship_date: s.text_of("shipDate").unwrap_or_default(),
                    }),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(OrderStatus {
            order_id: required(o, "orderID", operation)?,
            source_order_id: o.text_of("sourceOrderID").unwrap_or_default(),
            status: o.text_of("status").unwrap_or_default(),
            status_date: o.text_of("statusDate").unwrap_or_default(),
            modified: o.text_of("modified").unwrap_or_default(),
            items,
        })
    }
}

/// One page of a catalogue list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogPage<T> {
    /// `total`, when the answer has it.
    pub total: Option<u64>,
    /// The rows of the page.
    pub rows: Vec<T>,
}

/// A catalogue category, as `get_categories` answers it (and the raw record's JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    /// `categoryID`.
    #[serde(rename = "categoryID")]
    pub category_id: String,
    /// `parentID` (`0` = top level).
    #[serde(rename = "parentID")]
    pub parent_id: String,
    /// `name`.
    pub name: String,
    /// `active`.
    pub active: bool,
}

impl Category {
    fn read(c: &Element, operation: &str) -> Result<Self> {
        Ok(Category {
            category_id: required(c, "categoryID", operation)?,
            parent_id: c.text_of("parentID").unwrap_or_else(|| "0".into()),
            name: c.text_of("name").unwrap_or_default(),
            active: flag(c.text_of("active")),
        })
    }
}

/// A catalogue product, as `get_products` answers it (and the raw record's JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// `productID`.
    #[serde(rename = "productID")]
    pub product_id: String,
    /// `sku`.
    pub sku: String,
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: String,
    /// `categoryID` (`0` = none).
    #[serde(rename = "categoryID")]
    pub category_id: String,
    /// `price` (decimal text).
    pub price: String,
    /// `active`.
    pub active: bool,
    /// `modified` (`YYYY-MM-DD HH:MM:SS`, UTC).
    pub modified: String,
}

impl Product {
    fn read(p: &Element, operation: &str) -> Result<Self> {
        Ok(Product {
            product_id: required(p, "productID", operation)?,
            sku: p.text_of("sku").unwrap_or_default(),
            name: p.text_of("name").unwrap_or_default(),
            description: p.text_of("description").unwrap_or_default(),
            category_id: p.text_of("categoryID").unwrap_or_else(|| "0".into()),
            price: p.text_of("price").unwrap_or_default(),
            active: flag(p.text_of("active")),
            modified: p.text_of("modified").unwrap_or_default(),
        })
    }
}

fn flag(text: Option<String>) -> bool {
    matches!(text.as_deref(), Some("true" | "1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_texts_name_the_field() {
        assert_eq!(
            status_location("Missing required field: btCity", "op"),
            "btCity"
        );
        assert_eq!(
            status_location("Missing required field: items[2].productID", "op"),
            "items[2].productID"
        );
        assert_eq!(
            status_location("Invalid value for items[1].quantity: '0'", "op"),
            "items[1].quantity"
        );
        assert_eq!(
            status_location("Product 7 is inactive (items[1].productID)", "op"),
            "items[1].productID"
        );
        assert_eq!(
            status_location("Product not found: items[1].productID = '7'", "op"),
            "items[1].productID"
        );
        assert_eq!(
            status_location("Something odd", "add_purchase_order"),
            "add_purchase_order"
        );
    }

    #[test]
    fn status_codes_map_to_error_cases() {
        assert!(matches!(
            status_error("x", 1, "t", None),
            ConnectorError::Auth(_)
        ));
        assert!(matches!(
            status_error("x", 2, "t", None),
            ConnectorError::InvalidInput(_)
        ));
        assert!(matches!(
            status_error("x", 3, "t", None),
            ConnectorError::InvalidInput(_)
        ));
        assert!(matches!(
            status_error("x", 4, "t", None),
            ConnectorError::NotFound(_)
        ));
        match status_error("create_user", 5, "User already exists", Some("77")) {
            ConnectorError::AlreadyExists(a) => assert_eq!(a.external_id, "77"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            status_error("x", 9, "t", None),
            ConnectorError::Permanent(_)
        ));
    }
}
