//! Pressero records as the simulator stores them (compact), and the JSON shapes it serves.

use serde::Serialize;

use crate::clock::{format_millis, Millis};

/// Status of one order item; the `StatusId` values of `docs/pressero-api.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemStatus {
    /// Waiting for approval (possibly for files).
    Pending,
    /// Approved for production.
    Approved,
    /// Denied by the approver.
    Denied,
    /// Cancelled.
    Cancelled,
    /// Being produced.
    InProduction,
    /// Shipped.
    Shipped,
    /// Done.
    Completed,
}

impl ItemStatus {
    /// Every status, in workflow order.
    pub const ALL: [ItemStatus; 7] = [
        ItemStatus::Pending,
        ItemStatus::Approved,
        ItemStatus::Denied,
        ItemStatus::Cancelled,
        ItemStatus::InProduction,
        ItemStatus::Shipped,
        ItemStatus::Completed,
    ];

    /// The `StatusId` text.
    pub fn id(self) -> &'static str {
        match self {
            ItemStatus::Pending => "Pending",
            ItemStatus::Approved => "Approved",
            ItemStatus::Denied => "Denied",
            ItemStatus::Cancelled => "Cancelled",
            ItemStatus::InProduction => "InProduction",
            ItemStatus::Shipped => "Shipped",
            ItemStatus::Completed => "Completed",
        }
    }

    /// The human `StatusName`.
    pub fn name(self) -> &'static str {
        match self {
            ItemStatus::Pending => "Pending Approval",
            ItemStatus::Approved => "Approved",
            ItemStatus::Denied => "Denied",
            ItemStatus::Cancelled => "Cancelled",
            ItemStatus::InProduction => "In Production",
            ItemStatus::Shipped => "Shipped",
            ItemStatus::Completed => "Completed",
        }
    }

    /// Parses a `StatusId` case-insensitively.
    pub fn parse(text: &str) -> Option<ItemStatus> {
        ItemStatus::ALL
            .into_iter()
            .find(|s| s.id().eq_ignore_ascii_case(text.trim()))
    }

    /// The workflow stage id shown beside the status (stable per status).
    pub fn workflow_stage_id(self) -> String {
        let n = ItemStatus::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1;
        format!("5f1d0c2e-0000-4000-8000-00000000000{n}")
    }
}

/// The order's `PaymentStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Paid in full.
    Paid,
    /// Not paid.
    Unpaid,
    /// Open terms: the customer pays on invoice.
    OnAccount,
    /// Part paid.
    PartiallyPaid,
    /// Paid, then refunded.
    Refunded,
}

impl PaymentStatus {
    /// The JSON text.
    pub fn id(self) -> &'static str {
        match self {
            PaymentStatus::Paid => "Paid",
            PaymentStatus::Unpaid => "Unpaid",
            PaymentStatus::OnAccount => "OnAccount",
            PaymentStatus::PartiallyPaid => "PartiallyPaid",
            PaymentStatus::Refunded => "Refunded",
        }
    }
}

/// A postal address with phone, as used for users and for order bill/ship-to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
    pub first_name: String,
    pub last_name: String,
    pub business: String,
    pub address1: String,
    pub address2: String,
    pub address3: String,
    pub city: String,
    pub postal: String,
    pub state_province: String,
    pub country: String,
    pub phone: String,
    pub email: String,
}

/// A storefront site.
#[derive(Clone, Debug)]
pub struct Site {
    pub id: uuid::Uuid,
    pub domain: &'static str,
    pub name: &'static str,
    pub currency: &'static str,
    /// Sales tax in basis points (825 = 8.25 %).
    pub tax_bp: i64,
}

/// A catalogue product.
#[derive(Clone, Debug)]
pub struct Product {
    pub id: uuid::Uuid,
    pub name: String,
    pub code: String,
    pub sku: String,
    /// Category name of the generated catalogue (resolved per site to a category id).
    pub category: &'static str,
    /// Price of one unit, in hundredths of a cent, so small unit prices stay exact.
    pub unit_price_centicents: i64,
    /// Quantities the product is sold in.
    pub quantities: &'static [u32],
    /// Deleted products are hidden unless `includeDeleted=true`.
    pub deleted: bool,
    /// `None`: the generated catalogue, offered on every site; `Some(site)`: created there.
    pub site: Option<u8>,
    /// `IsActive`.
    pub active: bool,
    /// Explicit `CategoryIds`; empty = the category named `category` on the viewing site.
    pub category_ids: Vec<uuid::Uuid>,
    /// `IntegrationData`: free text an integration keeps on the product.
    pub integration_data: Option<String>,
    /// Stock, when the product's inventory is tracked.
    pub stock: Option<Stock>,
    pub modified: Millis,
}

/// Tracked stock of a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stock {
    pub on_hand: i64,
    /// `LowInventory` fires when `on_hand` falls below this.
    pub threshold: i64,
}

/// A product category of a site.
#[derive(Clone, Debug)]
pub struct Category {
    pub id: uuid::Uuid,
    pub site: u8,
    pub name: String,
    /// `None` only for the site's Root.
    pub parent: Option<uuid::Uuid>,
    pub active: bool,
    pub integration_data: Option<String>,
    pub modified: Millis,
}

/// A category as served by `site/{site}/categories`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CategoryView {
    pub category_id: uuid::Uuid,
    pub name: String,
    pub parent_id: Option<uuid::Uuid>,
    pub is_root: bool,
    pub is_active: bool,
    pub integration_data: Option<String>,
    pub modified_date: String,
}

/// A stock row as served by `site/{site}/StockInventory`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StockView {
    pub product_id: uuid::Uuid,
    pub product_name: String,
    pub product_code: String,
    pub sku: String,
    pub track_inventory: bool,
    pub quantity_on_hand: i64,
    pub low_stock_threshold: i64,
}

/// An address-book entry as served by `site/{site}/Addressbook/{userId}`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BookEntryView {
    pub address_id: uuid::Uuid,
    pub is_default: bool,
    #[serde(flatten)]
    pub address: Address,
}

/// A registered site user.
#[derive(Clone, Debug)]
pub struct User {
    pub id: uuid::Uuid,
    pub site: u8,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub business: String,
    pub phone: String,
    /// The main (billing) address.
    pub address: Address,
    /// A second address some orders ship to.
    pub alt_address: Address,
    /// `IntegrationData` kept on the user (e.g. an external user id).
    pub integration_data: Option<String>,
    /// Address-book entries added through the API.
    pub book: Vec<(uuid::Uuid, Address)>,
    /// The default address-book entry, when one added through the API was made default.
    pub default_book: Option<uuid::Uuid>,
    pub modified: Millis,
}

/// Shipment information set on an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tracking {
    pub carrier: String,
    pub tracking_number: String,
    pub ship_date: String,
}

/// One stored order item.
#[derive(Clone, Debug)]
pub struct Item {
    pub product: u16,
    pub quantity: u32,
    pub price_cents: i64,
    pub tax_cents: i64,
    pub shipping_cents: i64,
    pub status: ItemStatus,
    pub files_pending: bool,
    pub status_modified: Millis,
    pub tracking: Option<Box<Tracking>>,
    pub notes: Option<Box<str>>,
}

/// A coupon applied to an order.
#[derive(Clone, Copy, Debug)]
pub struct CouponUse {
    pub coupon: u8,
    pub amount_cents: i64,
}

/// One stored order: indexes into users and the catalogue, plus small variant codes that the
/// renderer turns into the slightly different spellings real orders show.
#[derive(Clone, Debug)]
pub struct Order {
    pub number: u64,
    pub user: u32,
    pub site: u8,
    pub currency: &'static str,
    pub payment_status: PaymentStatus,
    pub payment_method: &'static str,
    pub coupon: Option<CouponUse>,
    /// 0 = the user's address as stored, 1.. = slightly different spellings.
    pub bill_variant: u8,
    /// Ship to the user's alternative address instead of the billing one.
    pub ship_alt: bool,
    pub ship_variant: u8,
    /// 0 = e-mail as registered, 1.. = case/whitespace variants typed at checkout.
    pub email_variant: u8,
    pub order_date: Millis,
    pub modified: Millis,
    /// When the last payment was received, if it differs from the order date.
    pub paid_at: Option<Millis>,
    /// Bumped by ship-to changes; alters the ship-to phone.
    pub ship_revision: u16,
    pub items: Vec<Item>,
}

impl Order {
    pub fn sub_total_cents(&self) -> i64 {
        self.items.iter().map(|i| i.price_cents).sum()
    }
    pub fn tax_cents(&self) -> i64 {
        self.items.iter().map(|i| i.tax_cents).sum()
    }
    pub fn shipping_cents(&self) -> i64 {
        self.items.iter().map(|i| i.shipping_cents).sum()
    }
    pub fn coupon_cents(&self) -> i64 {
        self.coupon.map_or(0, |c| c.amount_cents)
    }
    pub fn total_cents(&self) -> i64 {
        self.sub_total_cents() + self.tax_cents() + self.shipping_cents() - self.coupon_cents()
    }
}

/// Money as served: a decimal number with at most two decimals.
pub fn money(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// `OrderSummary` of the search answer.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderSummary {
    pub order_id: uuid::Uuid,
    pub order_number: u64,
    pub site_name: String,
    pub order_date: String,
    pub modified_date: String,
    pub ordered_by_email: String,
    pub order_total: f64,
    pub currency: String,
    pub payment_status: String,
    pub item_count: usize,
}

/// `OrderedBy` of the details answer.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderedBy {
    pub user_id: uuid::Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub business: String,
    pub phone: String,
}

/// A coupon line of the details answer.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CouponLine {
    pub code: String,
    pub amount: f64,
}

/// The details answer.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderDetails {
    #[serde(flatten)]
    pub summary: OrderSummary,
    pub bill_to: Address,
    pub ship_to: Address,
    pub payment_method: String,
    pub coupons: Vec<CouponLine>,
    pub sub_total: f64,
    pub shipping_total: f64,
    pub tax_total: f64,
    pub ordered_by: OrderedBy,
}

/// One element of the items answer. Bill-to/ship-to fields are flat (`BillToFirstName`, …).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderItemView {
    pub order_number: u64,
    pub order_item_number: String,
    pub order_item_id: uuid::Uuid,
    pub product_id: uuid::Uuid,
    pub product_name: String,
    pub product_code: String,
    pub sku: String,
    pub quantity: u32,
    pub price: f64,
    pub tax: f64,
    pub shipping: f64,
    pub site_name: String,
    pub ordered_by_email: String,
    #[serde(flatten)]
    pub bill_to: FlatAddress,
    #[serde(flatten)]
    pub ship_to: FlatAddress,
    pub shipment_tracking: Option<Tracking>,
    pub workflow_stage_id: String,
    pub status_id: String,
    pub files_pending: bool,
    /// Notes given with the last status change (`?notes=`).
    pub notes: Option<String>,
}

/// An address flattened with a prefix, e.g. `BillToFirstName`.
#[derive(Clone, Debug)]
pub struct FlatAddress {
    pub prefix: &'static str,
    pub address: Address,
}

impl Serialize for FlatAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let a = &self.address;
        let fields: [(&str, &str); 11] = [
            ("FirstName", &a.first_name),
            ("LastName", &a.last_name),
            ("Business", &a.business),
            ("Address1", &a.address1),
            ("Address2", &a.address2),
            ("Address3", &a.address3),
            ("City", &a.city),
            ("Postal", &a.postal),
            ("StateProvince", &a.state_province),
            ("Country", &a.country),
            ("Phone", &a.phone),
        ];
        let mut map = s.serialize_map(Some(fields.len()))?;
        for (k, v) in fields {
            map.serialize_entry(&format!("{}{k}", self.prefix), v)?;
        }
        map.end()
    }
}

/// The item status answer.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ItemStatusView {
    pub status_id: String,
    pub status_name: String,
    pub modified_date: String,
    pub notes: Option<String>,
}

/// One payment.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PaymentView {
    pub amount: f64,
    pub method: String,
    pub date: String,
}

/// A site user as served by `site/{site}/users`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserView {
    pub user_id: uuid::Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub business: String,
    pub phone: String,
    pub site_name: String,
    pub integration_data: Option<String>,
    pub modified_date: String,
}

/// A product as served by `site/{site}/products`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProductView {
    pub product_id: uuid::Uuid,
    pub name: String,
    pub product_code: String,
    pub sku: String,
    pub category_name: String,
    pub price: f64,
    pub is_deleted: bool,
    pub is_active: bool,
    pub category_ids: Vec<uuid::Uuid>,
    pub integration_data: Option<String>,
    pub modified_date: String,
}

/// A page of results: `{"Items":[…],"TotalItems":n}`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total_items: usize,
}

pub fn stamp(ms: Millis) -> String {
    format_millis(ms)
}
