//! Shoprenter resources as the simulator stores them: one compact row per record, the schema
//! (field names, required/read-only flags, allowed methods) read from the vendored `data.json`
//! files, and the opaque base64 ids.

use std::collections::HashMap;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{Map, Value};

use crate::clock::Millis;

/// Every resource the simulator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `/orders`
    Order,
    /// `/orderStatuses`
    OrderStatus,
    /// `/orderStatusDescriptions`
    OrderStatusDescription,
    /// `/orderProducts`
    OrderProduct,
    /// `/orderTotals`
    OrderTotal,
    /// `/orderHistories`
    OrderHistory,
    /// `/customers`
    Customer,
    /// `/customerGroups`
    CustomerGroup,
    /// `/addresses`
    Address,
    /// `/products`
    Product,
    /// `/productDescriptions`
    ProductDescription,
    /// `/productCategoryRelations`
    ProductCategoryRelation,
    /// `/categories`
    Category,
    /// `/categoryDescriptions`
    CategoryDescription,
    /// `/coupons`
    Coupon,
}

impl Kind {
    /// Every kind, in table order.
    pub const ALL: [Kind; 15] = [
        Kind::Order,
        Kind::OrderStatus,
        Kind::OrderStatusDescription,
        Kind::OrderProduct,
        Kind::OrderTotal,
        Kind::OrderHistory,
        Kind::Customer,
        Kind::CustomerGroup,
        Kind::Address,
        Kind::Product,
        Kind::ProductDescription,
        Kind::ProductCategoryRelation,
        Kind::Category,
        Kind::CategoryDescription,
        Kind::Coupon,
    ];

    /// Index into the tables.
    pub fn index(self) -> usize {
        Kind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    /// The URL path segment, e.g. `orderProducts`.
    pub fn path(self) -> &'static str {
        match self {
            Kind::Order => "orders",
            Kind::OrderStatus => "orderStatuses",
            Kind::OrderStatusDescription => "orderStatusDescriptions",
            Kind::OrderProduct => "orderProducts",
            Kind::OrderTotal => "orderTotals",
            Kind::OrderHistory => "orderHistories",
            Kind::Customer => "customers",
            Kind::CustomerGroup => "customerGroups",
            Kind::Address => "addresses",
            Kind::Product => "products",
            Kind::ProductDescription => "productDescriptions",
            Kind::ProductCategoryRelation => "productCategoryRelations",
            Kind::Category => "categories",
            Kind::CategoryDescription => "categoryDescriptions",
            Kind::Coupon => "coupons",
        }
    }

    /// The kind served under a path segment (case-sensitive, as the real router).
    pub fn from_path(path: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.path() == path)
    }

    /// The directory of the vendored reference.
    pub fn reference_dir(self) -> &'static str {
        match self {
            Kind::Order => "order",
            Kind::OrderStatus => "order_status",
            Kind::OrderStatusDescription => "order_status_description",
            Kind::OrderProduct => "order_product",
            Kind::OrderTotal => "order_total",
            Kind::OrderHistory => "order_history",
            Kind::Customer => "customer",
            Kind::CustomerGroup => "customer_group",
            Kind::Address => "address",
            Kind::Product => "product",
            Kind::ProductDescription => "product_description",
            Kind::ProductCategoryRelation => "product_category_relation",
            Kind::Category => "category",
            Kind::CategoryDescription => "category_description",
            Kind::Coupon => "coupon",
        }
    }

    /// The text before `-` in the decoded id, and the key name(s) after it.
    fn id_parts(self) -> (&'static str, &'static str, Option<&'static str>) {
        match self {
            Kind::Order => ("order", "order_id", None),
            Kind::OrderStatus => ("orderStatus", "order_status_id", None),
            Kind::OrderStatusDescription => (
                "orderStatusDescription",
                "order_status_id",
                Some("language_id"),
            ),
            Kind::OrderProduct => ("orderProduct", "order_product_id", None),
            Kind::OrderTotal => ("orderTotal", "order_total_id", None),
            Kind::OrderHistory => ("orderHistory", "order_history_id", None),
            Kind::Customer => ("customer", "customer_id", None),
            Kind::CustomerGroup => ("customerGroup", "customer_group_id", None),
            Kind::Address => ("address", "address_id", None),
            Kind::Product => ("product", "product_id", None),
            Kind::ProductDescription => ("productDescription", "product_id", Some("language_id")),
            Kind::ProductCategoryRelation => ("productCategory", "product_id", Some("category_id")),
            Kind::Category => ("category", "category_id", None),
            Kind::CategoryDescription => {
                ("categoryDescription", "category_id", Some("language_id"))
            }
            Kind::Coupon => ("coupon", "coupon_id", None),
        }
    }

    /// Whether the id names two keys (`product_id=…&language_id=…`) rather than a row number.
    pub fn composite(self) -> bool {
        self.id_parts().2.is_some()
    }

    /// The schema read from the vendored `data.json`.
    pub fn schema(self) -> &'static Schema {
        &schemas()[self.index()]
    }
}

/// Encodes an opaque id: base64 of e.g. `order-order_id=172`.
pub fn encode_id(kind: Kind, a: u32, b: u32) -> String {
    let (prefix, ka, kb) = kind.id_parts();
    let text = match kb {
        Some(kb) => format!("{prefix}-{ka}={a}&{kb}={b}"),
        None => format!("{prefix}-{ka}={a}"),
    };
    B64.encode(text)
}

/// Decodes an opaque id of `kind` into its key(s); `None` if it is not one.
pub fn decode_id(kind: Kind, id: &str) -> Option<(u32, u32)> {
    let bytes = B64.decode(id.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (prefix, ka, kb) = kind.id_parts();
    let rest = text.strip_prefix(prefix)?.strip_prefix('-')?;
    match kb {
        None => {
            let n = rest.strip_prefix(ka)?.strip_prefix('=')?.parse().ok()?;
            Some((n, 0))
        }
        Some(kb) => {
            let (a, b) = rest.split_once('&')?;
            let a = a.strip_prefix(ka)?.strip_prefix('=')?.parse().ok()?;
            let b = b.strip_prefix(kb)?.strip_prefix('=')?.parse().ok()?;
            Some((a, b))
        }
    }
}

/// Ids of resources the simulator links to but does not serve (languages, countries, …):
/// `base64("{prefix}-{key}={n}")`.
pub fn foreign_id(prefix: &str, key: &str, n: u32) -> String {
    B64.encode(format!("{prefix}-{key}={n}"))
}

/// The number in a foreign or own id (`…=97` → 97); for composite ids the first key.
pub fn id_number(id: &str) -> Option<u32> {
    let text = String::from_utf8(B64.decode(id.trim()).ok()?).ok()?;
    let (_, rest) = text.split_once('=')?;
    let n = rest.split('&').next()?;
    n.parse().ok()
}

/// One field of a resource, as `data.json` names it.
#[derive(Clone, Debug)]
pub struct Field {
    /// The name (a trailing ` *` of the reference is dropped: `shippingMode *` → `shippingMode`).
    pub name: String,
    /// Must be given on POST.
    pub required: bool,
    /// Cannot be written (on POST unless also required).
    pub readonly: bool,
}

/// What `data.json` says about a resource.
#[derive(Clone, Debug)]
pub struct Schema {
    /// Fields in reference order.
    pub fields: Vec<Field>,
    /// Endpoint kinds present: `get`, `getCollection`, `post`, `put`, `delete`.
    pub endpoints: Vec<String>,
    /// Query parameters of `getCollection`.
    pub filters: Vec<String>,
}

impl Schema {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether the resource has this endpoint (`post`, `put`, `delete`, …).
    pub fn allows(&self, endpoint: &str) -> bool {
        self.endpoints.iter().any(|e| e == endpoint)
    }
}

macro_rules! reference {
    ($dir:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/reference/shoprenter/",
            $dir,
            "/data.json"
        ))
    };
}

fn raw_schema(kind: Kind) -> &'static str {
    match kind {
        Kind::Order => reference!("order"),
        Kind::OrderStatus => reference!("order_status"),
        Kind::OrderStatusDescription => reference!("order_status_description"),
        Kind::OrderProduct => reference!("order_product"),
        Kind::OrderTotal => reference!("order_total"),
        Kind::OrderHistory => reference!("order_history"),
        Kind::Customer => reference!("customer"),
        Kind::CustomerGroup => reference!("customer_group"),
        Kind::Address => reference!("address"),
        Kind::Product => reference!("product"),
        Kind::ProductDescription => reference!("product_description"),
        Kind::ProductCategoryRelation => reference!("product_category_relation"),
        Kind::Category => reference!("category"),
        Kind::CategoryDescription => reference!("category_description"),
        Kind::Coupon => reference!("coupon"),
    }
}

fn parse_schema(text: &str) -> Schema {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let fields = v["properties"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    let name = p["name"].as_str()?.trim_end_matches('*').trim().to_owned();
                    Some(Field {
                        name,
                        required: p["required"].as_bool().unwrap_or(false),
                        readonly: p["readonly"].as_bool().unwrap_or(false),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let endpoints = v["endpoints"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let filters = v["endpoints"]["getCollection"]["parameters"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["name"].as_str())
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Schema {
        fields,
        endpoints,
        filters,
    }
}

fn schemas() -> &'static [Schema] {
    static SCHEMAS: OnceLock<Vec<Schema>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        Kind::ALL
            .iter()
            .map(|k| parse_schema(raw_schema(*k)))
            .collect()
    })
}

/// Fields that hold a link (`{"href": …}` or `null`) rather than text, and the collection the
/// link points into.
pub fn link_target(field: &str) -> Option<&'static str> {
    Some(match field {
        "customer" => "customers",
        "customerGroup" => "customerGroups",
        "shippingCountry" | "paymentCountry" | "country" => "countries",
        "shippingZone" | "paymentZone" | "zone" => "zones",
        "orderStatus" => "orderStatuses",
        "language" => "languages",
        "currency" => "currencies",
        "shippingMode" => "shippingModes",
        "order" => "orders",
        "product" | "parentProduct" => "products",
        "category" | "parentCategory" | "centralCategory" => "categories",
        "defaultAddress" => "addresses",
        "taxClass" => "taxClasses",
        "noStockStatus" | "inStockStatus" | "onlyStock1Status" | "onlyStock2Status"
        | "onlyStock3Status" | "onlyStock4Status" => "stockStatuses",
        "productClass" => "productClasses",
        "volumeUnit" => "lengthClasses",
        "weightUnit" => "weightClasses",
        "manufacturer" => "manufacturers",
        _ => return None,
    })
}

/// Where a stored record comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    /// Rendered by the generator from its compact data: (index, sub-index).
    Gen(u32, u16),
    /// Created through the API: only the stored fields.
    Created,
}

/// One record. Generated records are rendered from compact data on request; what a client
/// writes is kept in `over` and laid over the rendering.
#[derive(Clone, Debug)]
pub struct Row {
    /// The record's origin.
    pub src: Src,
    /// Filter key: the owning record's inner id (order of an order product, customer of an
    /// address, product of a description, status of a status description, parent product).
    pub parent: u32,
    /// Second filter key: order status of an order (0 = abandoned cart), language of a
    /// description, category of a relation.
    pub aux: u32,
    /// Text filter key: e-mail, sku, code or name.
    pub key: Option<Box<str>>,
    /// Storno order (excluded by `excludeStorno=1`).
    pub storno: bool,
    /// `dateCreated`, shop-local time as if it were UTC.
    pub created: Millis,
    /// `dateUpdated`, shop-local time as if it were UTC.
    pub updated: Millis,
    /// Deleted through the API.
    pub deleted: bool,
    /// Fields written by a client (links stored as relative `{"href": "/orders/…"}`).
    pub over: Option<Box<Map<String, Value>>>,
}

impl Row {
    /// A generated row.
    pub fn generated(src: Src, parent: u32, aux: u32, key: Option<&str>, created: Millis) -> Row {
        Row {
            src,
            parent,
            aux,
            key: key.map(Into::into),
            storno: false,
            created,
            updated: created,
            deleted: false,
            over: None,
        }
    }
}

/// The records of one resource; inner id = position + 1.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Rows by inner id − 1.
    pub rows: Vec<Row>,
    /// (first key, second key) → position, for composite ids.
    pub composite: HashMap<(u32, u32), u32>,
    /// `parent` → positions, ascending: child lookups (`orderId`, `customerId`, `productId`)
    /// cost the children, not the table.
    pub by_parent: HashMap<u32, Vec<u32>>,
}

impl Table {
    /// Appends a row and returns its inner id.
    pub fn push(&mut self, kind: Kind, row: Row) -> u32 {
        let pos = self.rows.len() as u32;
        if kind.composite() {
            self.composite.insert((row.parent, row.aux), pos);
        }
        self.by_parent.entry(row.parent).or_default().push(pos);
        self.rows.push(row);
        pos + 1
    }

    /// Changes a row's parent key and keeps the index in step.
    pub fn set_parent(&mut self, pos: usize, parent: u32) {
        let old = self.rows[pos].parent;
        if old == parent {
            return;
        }
        if let Some(v) = self.by_parent.get_mut(&old) {
            v.retain(|p| *p as usize != pos);
        }
        let v = self.by_parent.entry(parent).or_default();
        let at = v.partition_point(|p| (*p as usize) < pos);
        v.insert(at, pos as u32);
        self.rows[pos].parent = parent;
    }

    /// Positions of the rows whose parent key is `parent`, ascending.
    pub fn children(&self, parent: u32) -> &[u32] {
        self.by_parent
            .get(&parent)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The position of the record an opaque id names, if it exists and is not deleted.
    pub fn find(&self, kind: Kind, id: &str) -> Option<usize> {
        let (a, b) = decode_id(kind, id)?;
        let pos = if kind.composite() {
            *self.composite.get(&(a, b))? as usize
        } else {
            (a as usize).checked_sub(1)?
        };
        self.rows.get(pos).filter(|r| !r.deleted).map(|_| pos)
    }

    /// The opaque id of the row at `pos`.
    pub fn id_of(&self, kind: Kind, pos: usize) -> String {
        let row = &self.rows[pos];
        if kind.composite() {
            encode_id(kind, row.parent, row.aux)
        } else {
            encode_id(kind, pos as u32 + 1, 0)
        }
    }
}
