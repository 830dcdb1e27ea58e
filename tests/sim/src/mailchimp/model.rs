//! The records the Mailchimp simulator keeps, shaped as the Marketing API writes them.
//!
//! Every struct (de)serialises with the API's field names, so a client's JSON body is read
//! straight into it and a stored record is written straight out; fields the server computes
//! (`orders_count`, the embedded `customer` of an order, `product_title` of a line, list
//! stats) are added when rendering. Missing strings are `""`, as the real API answers.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A customer's address (e-commerce customers).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub province: String,
    pub province_code: String,
    pub postal_code: String,
    pub country: String,
    pub country_code: String,
}

/// A store's address, with coordinates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreAddress {
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub province: String,
    pub province_code: String,
    pub postal_code: String,
    pub country: String,
    pub country_code: String,
    pub longitude: f64,
    pub latitude: f64,
}

/// An order's shipping or billing address.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderAddress {
    pub name: String,
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub province: String,
    pub province_code: String,
    pub postal_code: String,
    pub country: String,
    pub country_code: String,
    pub longitude: f64,
    pub latitude: f64,
    pub phone: String,
    pub company: String,
}

/// `GET /ecommerce/stores/{store_id}` (without the computed parts).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Store {
    pub id: String,
    pub list_id: String,
    pub name: String,
    pub platform: String,
    pub domain: String,
    pub is_syncing: bool,
    pub email_address: String,
    pub currency_code: String,
    pub money_format: String,
    pub primary_locale: String,
    pub timezone: String,
    pub phone: String,
    pub address: StoreAddress,
    pub created_at: String,
    pub updated_at: String,
}

/// An e-commerce customer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Customer {
    pub id: String,
    pub email_address: String,
    pub opt_in_status: bool,
    pub company: String,
    pub first_name: String,
    pub last_name: String,
    pub address: Address,
    pub created_at: String,
    pub updated_at: String,
}

/// A product variant (attributes such as colour and size show in its title and SKU; the real
/// API has no attribute field).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Variant {
    pub id: String,
    pub title: String,
    pub url: String,
    pub sku: String,
    pub price: f64,
    pub inventory_quantity: i64,
    pub image_url: String,
    pub backorders: String,
    pub visibility: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A product image.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Image {
    pub id: String,
    pub url: String,
    pub variant_ids: Vec<String>,
}

/// A product with its variants.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Product {
    pub id: String,
    pub currency_code: String,
    pub title: String,
    pub handle: String,
    pub url: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub vendor: String,
    pub image_url: String,
    pub variants: Vec<Variant>,
    pub images: Vec<Image>,
    pub published_at_foreign: String,
}

/// The `customer` of an order or cart: stored by id, rendered in full.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomerRef {
    pub id: String,
}

/// Promo `type` (amount kind).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromoType {
    #[default]
    Fixed,
    Percentage,
}

/// Promo rule `target`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromoTarget {
    PerItem,
    #[default]
    Total,
    Shipping,
}

/// A promo applied to an order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderPromo {
    pub code: String,
    pub amount_discounted: f64,
    #[serde(rename = "type")]
    pub kind: PromoType,
}

/// An order line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderLine {
    pub id: String,
    pub product_id: String,
    pub product_variant_id: String,
    pub quantity: i64,
    pub price: f64,
    pub discount: f64,
}

/// An order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Order {
    pub id: String,
    pub customer: CustomerRef,
    pub campaign_id: String,
    pub landing_site: String,
    pub financial_status: String,
    pub fulfillment_status: String,
    pub currency_code: String,
    pub order_total: f64,
    pub order_url: String,
    pub discount_total: f64,
    pub tax_total: f64,
    pub shipping_total: f64,
    pub processed_at_foreign: String,
    pub cancelled_at_foreign: String,
    pub updated_at_foreign: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<OrderAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<OrderAddress>,
    pub promos: Vec<OrderPromo>,
    pub lines: Vec<OrderLine>,
    pub tracking_number: String,
    pub tracking_carrier: String,
    pub tracking_url: String,
}

/// A cart line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CartLine {
    pub id: String,
    pub product_id: String,
    pub product_variant_id: String,
    pub quantity: i64,
    pub price: f64,
}

/// A cart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cart {
    pub id: String,
    pub customer: CustomerRef,
    pub campaign_id: String,
    pub checkout_url: String,
    pub currency_code: String,
    pub order_total: f64,
    pub tax_total: f64,
    pub lines: Vec<CartLine>,
    pub created_at: String,
    pub updated_at: String,
}

/// A promo rule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PromoRule {
    pub id: String,
    pub title: String,
    pub description: String,
    pub starts_at: String,
    pub ends_at: String,
    pub amount: f64,
    #[serde(rename = "type")]
    pub kind: PromoType,
    pub target: PromoTarget,
    pub enabled: bool,
    pub created_at_foreign: String,
    pub updated_at_foreign: String,
}

/// A promo code of a rule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PromoCode {
    pub id: String,
    pub code: String,
    pub redemption_url: String,
    pub usage_count: i64,
    pub enabled: bool,
    pub created_at_foreign: String,
    pub updated_at_foreign: String,
}

/// A list's contact block.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListContact {
    pub company: String,
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
    pub phone: String,
}

/// A list's campaign defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CampaignDefaults {
    pub from_name: String,
    pub from_email: String,
    pub subject: String,
    pub language: String,
}

/// An audience (list), without its computed stats.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct List {
    pub id: String,
    pub web_id: i64,
    pub name: String,
    pub contact: ListContact,
    pub permission_reminder: String,
    pub use_archive_bar: bool,
    pub campaign_defaults: CampaignDefaults,
    pub notify_on_subscribe: String,
    pub notify_on_unsubscribe: String,
    pub date_created: String,
    pub list_rating: i64,
    pub email_type_option: bool,
    pub subscribe_url_short: String,
    pub subscribe_url_long: String,
    pub beamer_address: String,
    pub visibility: String,
    pub double_optin: bool,
    pub has_welcome: bool,
    pub marketing_permissions: bool,
    pub modules: Vec<String>,
}

/// A member's status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    #[default]
    Subscribed,
    Unsubscribed,
    Cleaned,
    Pending,
    Transactional,
    Archived,
}

impl MemberStatus {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Subscribed => "subscribed",
            MemberStatus::Unsubscribed => "unsubscribed",
            MemberStatus::Cleaned => "cleaned",
            MemberStatus::Pending => "pending",
            MemberStatus::Transactional => "transactional",
            MemberStatus::Archived => "archived",
        }
    }
}

/// A member's location block.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    pub gmtoff: i64,
    pub dstoff: i64,
    pub country_code: String,
    pub timezone: String,
    pub region: String,
}

/// A member's tag.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tag {
    pub id: i64,
    pub name: String,
}

/// A list member. `id` is the MD5 of the lower-cased e-mail address.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Member {
    pub id: String,
    pub email_address: String,
    pub unique_email_id: String,
    pub contact_id: String,
    pub full_name: String,
    pub web_id: i64,
    pub email_type: String,
    pub status: MemberStatus,
    pub merge_fields: serde_json::Map<String, Value>,
    pub ip_signup: String,
    pub timestamp_signup: String,
    pub ip_opt: String,
    pub timestamp_opt: String,
    pub member_rating: i64,
    pub last_changed: String,
    pub language: String,
    pub vip: bool,
    pub email_client: String,
    pub location: Location,
    pub source: String,
    pub tags: Vec<Tag>,
    pub list_id: String,
}

/// Order count and money spent per customer, kept as orders come and go.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CustomerTotals {
    pub orders: i64,
    pub spent: f64,
}

/// A promo rule with its codes.
#[derive(Clone, Debug, Default)]
pub struct PromoRuleData {
    pub rule: PromoRule,
    pub codes: BTreeMap<String, PromoCode>,
}

/// A store and everything in it. Collections are listed in ascending id order.
#[derive(Clone, Debug, Default)]
pub struct StoreData {
    pub store: Store,
    pub customers: BTreeMap<String, Customer>,
    pub totals: HashMap<String, CustomerTotals>,
    pub products: BTreeMap<String, Product>,
    pub orders: BTreeMap<String, Order>,
    pub carts: BTreeMap<String, Cart>,
    pub promo_rules: BTreeMap<String, PromoRuleData>,
}

impl StoreData {
    /// Counts an order towards (`sign` = 1) or away from (`-1`) its customer's totals.
    pub fn account(&mut self, order: &Order, sign: i64) {
        let t = self.totals.entry(order.customer.id.clone()).or_default();
        t.orders += sign;
        // Cancelled and refunded orders still count as orders but not as money spent.
        if !matches!(order.financial_status.as_str(), "cancelled" | "refunded") {
            t.spent += sign as f64 * order.order_total;
        }
        if t.orders <= 0 {
            t.orders = 0;
            t.spent = 0.0;
        }
    }
}

/// A list and its members (by subscriber hash).
#[derive(Clone, Debug, Default)]
pub struct ListData {
    pub list: List,
    pub members: BTreeMap<String, Member>,
}

/// The MD5 of the lower-cased e-mail address: the API's subscriber hash.
pub fn subscriber_hash(email: &str) -> String {
    use md5::{Digest, Md5};
    let digest = Md5::digest(email.trim().to_lowercase().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
