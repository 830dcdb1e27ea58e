//! What the Presswise simulator stores: orders (generated ones compactly, pushed ones with every
//! field as received), users, products and categories.

use serde::{Deserialize, Serialize};

use crate::clock::{to_datetime, Millis};

/// Order statuses of the simulated tenant, in workflow order. Presswise statuses are
/// tenant-configurable; this list is our own conservative choice (see the README).
pub const ORDER_STATUSES: &[&str] = &[
    "AUTO New",
    "New",
    "On Hold",
    "In Production",
    "Proof Sent",
    "Ready to Ship",
    "Partially Shipped",
    "Shipped",
    "Completed",
    "Cancelled",
];

/// Item (job) statuses of the simulated tenant.
pub const ITEM_STATUSES: &[&str] = &[
    "New",
    "Prepress",
    "Proof Sent",
    "Proof Approved",
    "In Production",
    "Finishing",
    "Shipped",
    "Completed",
    "Cancelled",
    "On Hold",
];

/// Index of an order status by name (exact after trimming; statuses are shown to users as is).
pub fn order_status_index(name: &str) -> Option<u8> {
    ORDER_STATUSES
        .iter()
        .position(|s| *s == name.trim())
        .map(|i| i as u8)
}

/// Index of an item status by name.
pub fn item_status_index(name: &str) -> Option<u8> {
    ITEM_STATUSES
        .iter()
        .position(|s| *s == name.trim())
        .map(|i| i as u8)
}

pub(crate) const ITEM_SHIPPED: u8 = 6;
pub(crate) const ITEM_COMPLETED: u8 = 7;
pub(crate) const ITEM_CANCELLED: u8 = 8;

/// A bill-to or ship-to address as `add_purchase_order` carries it (`bt*` / `st*` fields).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyAddress {
    /// `First`.
    pub first: String,
    /// `Last`.
    pub last: String,
    /// `NameCompany`.
    pub name_company: String,
    /// `Street`.
    pub street: String,
    /// `City`.
    pub city: String,
    /// `State`.
    pub state: String,
    /// `Zip`.
    pub zip: String,
    /// `Country`.
    pub country: String,
}

/// One item of an order as received.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFields {
    /// `quantity`, as sent.
    pub quantity: String,
    /// `productID`.
    #[serde(rename = "productID")]
    pub product_id: String,
    /// `productDesc`.
    pub product_desc: String,
    /// `fileF.href`: where the print file is.
    pub file_href: String,
    /// `sourceJobID`: the sender's item id.
    #[serde(rename = "sourceJobID")]
    pub source_job_id: String,
    /// `numPages`, as sent.
    pub num_pages: String,
    /// Item fields the simulator does not know, name → text, as sent.
    pub extra: Vec<(String, String)>,
}

/// An order as `add_purchase_order` received it (every field as text, as sent).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFields {
    /// `customerPO`.
    #[serde(rename = "customerPO")]
    pub customer_po: String,
    /// `sourceOrderID`: the sender's order id (not unique: Presswise has no idempotency key).
    #[serde(rename = "sourceOrderID")]
    pub source_order_id: String,
    /// `userID` (our addition: the customer the order is for, from `create_user`).
    #[serde(rename = "userID")]
    pub user_id: String,
    /// `bt*` fields.
    pub bill_to: PartyAddress,
    /// `st*` fields.
    pub ship_to: PartyAddress,
    /// `initial_status`, as sent (empty = "AUTO New").
    pub initial_status: String,
    /// `shipMethod`.
    pub ship_method: String,
    /// `subTotal`, as sent.
    pub sub_total: String,
    /// `taxCost`, as sent.
    pub tax_cost: String,
    /// `totalCost`, as sent.
    pub total_cost: String,
    /// `dueDate`, as sent.
    pub due_date: String,
    /// `comments`.
    pub comments: String,
    /// The items.
    pub items: Vec<ItemFields>,
    /// Order fields the simulator does not know, name → text, as sent.
    pub extra: Vec<(String, String)>,
}

/// Where an order's fields live.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// Seeded: rendered from (seed, index) on demand.
    Generated(u32),
    /// Pushed through `add_purchase_order`.
    Pushed(Box<OrderFields>),
}

/// A shipment of an item.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Shipment {
    /// Carrier, e.g. `UPS`.
    pub carrier: String,
    /// Tracking number.
    pub tracking_number: String,
    /// Ship date, `YYYY-MM-DD HH:MM:SS` (empty = now when set through the control API).
    pub ship_date: String,
}

/// The mutable state of one order item (a Presswise job).
#[derive(Clone, Debug)]
pub(crate) struct ItemState {
    pub id: u64,
    pub status: u8,
    pub status_date: Millis,
    pub shipment: Option<Box<Shipment>>,
}

/// One order: its id, where its fields are, and its workflow state.
#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub id: u64,
    pub source: Source,
    pub created: Millis,
    pub status: u8,
    pub status_date: Millis,
    pub modified: Millis,
    pub items: Vec<ItemState>,
}

/// A customer account (`create_user` or seeded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// `userID`.
    #[serde(rename = "userID")]
    pub user_id: u64,
    /// `username`.
    pub username: String,
    /// `email`, as given (case and whitespace kept).
    pub email: String,
    /// `firstName`.
    pub first_name: String,
    /// `lastName`.
    pub last_name: String,
    /// `company`.
    pub company: String,
    /// `phone`.
    pub phone: String,
    /// True when it came in through `create_user`.
    pub created_by_api: bool,
}

/// A catalogue category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    /// `categoryID`.
    #[serde(rename = "categoryID")]
    pub category_id: u64,
    /// `parentID` (0 = top level).
    #[serde(rename = "parentID")]
    pub parent_id: u64,
    /// `name`.
    pub name: String,
    /// `active`.
    pub active: bool,
}

/// A catalogue product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// `productID` (what `add_purchase_order` items reference).
    #[serde(rename = "productID")]
    pub product_id: u64,
    /// `sku`.
    pub sku: String,
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: String,
    /// `categoryID` (0 = no category).
    #[serde(rename = "categoryID")]
    pub category_id: u64,
    /// Unit price in cents.
    pub price_cents: i64,
    /// `active`.
    pub active: bool,
    /// `modified`.
    pub modified: Millis,
}

/// Formats as Presswise (PHP/MySQL) shows dates: `YYYY-MM-DD HH:MM:SS`, UTC.
pub fn mysql_datetime(ms: Millis) -> String {
    to_datetime(ms).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Formats cents as `12.34`.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// An order's state as inspection shows it: every field as received plus what Presswise added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    /// `orderID` assigned by Presswise.
    #[serde(rename = "orderID")]
    pub order_id: u64,
    /// True when pushed through the API (false: seeded).
    pub pushed: bool,
    /// The fields as received (or as generated).
    pub fields: OrderFields,
    /// Order status name.
    pub status: String,
    /// When the status last changed.
    pub status_date: String,
    /// When the order was created.
    pub created: String,
    /// Per item: id, status, shipment (same order as `fields.items`).
    pub items: Vec<ItemView>,
}

/// An item's state as inspection shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemView {
    /// `itemID` (job id) assigned by Presswise.
    #[serde(rename = "itemID")]
    pub item_id: u64,
    /// Item status name.
    pub status: String,
    /// When the status last changed.
    pub status_date: String,
    /// The shipment, if shipped.
    pub shipment: Option<Shipment>,
}
