//! The Pressero (Aleyant) simulator; contract in `docs/pressero-api.md`.

mod api;
pub mod generator;
pub mod model;
mod site_api;
pub mod webhooks;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::{Deserialize, Serialize};

use crate::cli::{CommonArgs, Served};
use crate::clock::{next_change_stamp, now_millis, to_datetime, Millis, DEFAULT_BASE_TIME};
use crate::core::{lock, RunningSim, SimCore, Simulator};
use crate::{FaultConfig, SimError};
use generator::{ns, stable_uuid};
use model::*;
pub use webhooks::{
    message_hash, WebhookDelivery, WebhookEvent, WebhookSettings, WebhookSubscriber,
};
use webhooks::{PendingEvent, WebhookHub};

/// The data-centre host names of the reference (Chicago, Singapore, Amsterdam). The simulator
/// answers requests naming any of them (or a loopback address) in `Host`.
pub const DATA_CENTRE_HOSTS: [(&str, &str); 3] = [
    ("chicago", "admin.chi.v6.pressero.com"),
    ("singapore", "admin.sg.v6.pressero.com"),
    ("amsterdam", "admin.ams.v6.pressero.com"),
];

/// The loopback host names the simulator also answers to.
pub const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// The credentials the simulator accepts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PresseroCredentials {
    /// `UserName`.
    pub user_name: String,
    /// `Password`.
    pub password: String,
    /// `SubscriberId`.
    pub subscriber_id: String,
    /// `ConsumerID`.
    #[serde(rename = "ConsumerID")]
    pub consumer_id: String,
}

impl Default for PresseroCredentials {
    fn default() -> Self {
        PresseroCredentials {
            user_name: "api@example.com".into(),
            password: "pressero-secret".into(),
            subscriber_id: "8d3f5c1a-7b2e-4f60-9a11-3c5e2d7f9b01".into(),
            consumer_id: "c0a1b2c3-d4e5-4f60-8a7b-9c0d1e2f3a4b".into(),
        }
    }
}

/// How to start a Pressero simulator.
#[derive(Clone, Debug)]
pub struct PresseroConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of the data (and of fault decisions).
    pub seed: u64,
    /// Number of generated orders.
    pub orders: usize,
    /// Number of site users; `None` = orders / 4, between 20 and 10,000.
    pub users: Option<usize>,
    /// Catalogue size: the 24 named products, then seeded variants of them (10,000 at most).
    pub products: usize,
    /// The first order number.
    pub first_order_number: u64,
    /// Date of the first generated order.
    pub base_time: Millis,
    /// Accepted credentials.
    pub credentials: PresseroCredentials,
    /// Token lifetime in seconds (20 minutes by default).
    pub token_ttl_secs: u64,
    /// Tokens stop working after this many authorised requests (the "expired mid-run" fault).
    pub token_max_uses: Option<u64>,
    /// Faults from the start.
    pub faults: FaultConfig,
    /// Webhook subscribers registered from the start (each URL must be loopback).
    pub webhooks: Vec<WebhookSubscriber>,
    /// Share of webhook events dropped without delivery (0..=1): the lost-webhook fault.
    pub webhook_drop_rate: f64,
    /// HTTP attempts per webhook before it is recorded as failed.
    pub webhook_max_attempts: u32,
    /// Delay before the first webhook retry (doubled after each).
    pub webhook_retry_delay_ms: u64,
    /// Refuse (400, as HTTP.sys) a `Host` that is neither a data-centre name nor loopback.
    /// Off by default: older tests name arbitrary hosts; the host is recorded either way.
    pub reject_unknown_hosts: bool,
}

impl Default for PresseroConfig {
    fn default() -> Self {
        PresseroConfig {
            port: 0,
            seed: 42,
            orders: 1000,
            users: None,
            products: generator::BASE_PRODUCTS,
            first_order_number: 1001,
            base_time: DEFAULT_BASE_TIME,
            credentials: PresseroCredentials::default(),
            token_ttl_secs: 20 * 60,
            token_max_uses: None,
            faults: FaultConfig::default(),
            webhooks: Vec::new(),
            webhook_drop_rate: 0.0,
            webhook_max_attempts: 3,
            webhook_retry_delay_ms: 200,
            reject_unknown_hosts: false,
        }
    }
}

impl PresseroConfig {
    fn webhook_settings(&self) -> WebhookSettings {
        WebhookSettings {
            drop_rate: self.webhook_drop_rate,
            max_attempts: self.webhook_max_attempts,
            retry_delay_ms: self.webhook_retry_delay_ms,
        }
    }
}

/// What a touch changes on an order (it always bumps `ModifiedDate`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderChange {
    /// Unpaid → Paid; else the first pending item → Approved; else the ship-to phone.
    #[default]
    Auto,
    /// Mark paid now.
    Payment,
    /// Advance the first item that can move along the workflow.
    ItemStatus,
    /// Change the ship-to phone.
    ShipTo,
    /// Change nothing but `ModifiedDate`.
    ModifiedOnly,
}

/// Counts of what the simulator holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresseroCounts {
    /// Orders.
    pub orders: usize,
    /// Order items.
    pub items: usize,
    /// Site users.
    pub users: usize,
    /// Sites.
    pub sites: usize,
    /// Catalogue products.
    pub products: usize,
    /// Tokens issued and still stored.
    pub tokens: usize,
    /// Shipments posted.
    pub shipments: usize,
    /// Product categories (every site's Root included).
    pub categories: usize,
    /// Webhook subscriptions.
    pub webhook_subscriptions: usize,
    /// Webhook deliveries recorded (delivered, failed or dropped).
    pub webhook_deliveries: usize,
}

/// One request's `Host`, as recorded for inspection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostRecord {
    /// The host name without port, lower-case (empty when the request named none).
    pub host: String,
    /// The endpoint key (or the path, for requests refused for their host).
    pub endpoint: String,
    /// True when the host is a data-centre name or loopback.
    pub known: bool,
    /// False when the simulator refused the request for its host (400, like HTTP.sys).
    pub accepted: bool,
}

pub(crate) struct PresseroData {
    pub seed: u64,
    pub sites: Vec<Site>,
    pub products: Vec<Product>,
    pub users: Vec<User>,
    pub first_number: u64,
    pub base_time: Millis,
    pub orders: Vec<Order>,
    /// (ModifiedDate, OrderNumber): the search order.
    pub by_modified: BTreeSet<(Millis, u64)>,
    /// Latest stamp handed out (generated or changed).
    pub latest: Millis,
    pub shipments: usize,
    pub categories: Vec<Category>,
    /// Webhook events raised by changes, sent once the data lock is released.
    pub(crate) outbox: Vec<PendingEvent>,
}

/// An order a test places with [`PresseroSim::place_order`]: who buys, where it goes, and
/// which catalogue products (indexes into the generated catalogue) it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedOrder {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// The buyer's company ("" for a private person).
    pub business: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub products: Vec<usize>,
}

impl PresseroData {
    fn generate(cfg: &PresseroConfig, seed: u64) -> PresseroData {
        let user_count = cfg
            .users
            .unwrap_or((cfg.orders / 4).clamp(20, 10_000))
            .max(1);
        let sites = generator::sites(seed);
        let mut products = generator::catalogue(seed, cfg.products);
        let mut users = generator::users(seed, user_count);
        for p in &mut products {
            p.modified = cfg.base_time;
        }
        for u in &mut users {
            u.modified = cfg.base_time;
        }
        let categories = generator::categories(seed, &sites, &products, cfg.base_time);
        let mut data = PresseroData {
            seed,
            sites,
            products,
            users,
            first_number: cfg.first_order_number,
            base_time: cfg.base_time,
            orders: Vec::with_capacity(cfg.orders),
            by_modified: BTreeSet::new(),
            latest: cfg.base_time,
            shipments: 0,
            categories,
            outbox: Vec::new(),
        };
        let ctx = generator::OrderContext {
            seed,
            users: &data.users,
            sites: &data.sites,
            products: &data.products,
            base_time: data.base_time,
            first_number: data.first_number,
        };
        let orders: Vec<Order> = (0..cfg.orders as u64)
            .map(|i| generator::order(&ctx, cfg.first_order_number + i))
            .collect();
        for o in &orders {
            data.by_modified.insert((o.modified, o.number));
            data.latest = data.latest.max(o.modified);
        }
        data.orders = orders;
        data
    }

    pub fn order(&self, number: u64) -> Option<&Order> {
        let i = number.checked_sub(self.first_number)?;
        self.orders.get(usize::try_from(i).ok()?)
    }

    fn order_mut(&mut self, number: u64) -> Option<&mut Order> {
        let i = number.checked_sub(self.first_number)?;
        self.orders.get_mut(usize::try_from(i).ok()?)
    }

    /// Hands out the stamp for a change made now.
    pub fn change_stamp(&mut self) -> Millis {
        self.latest = next_change_stamp(self.latest);
        self.latest
    }

    /// Re-dates an order to `stamp` and keeps the search index in step.
    pub fn set_modified(&mut self, number: u64, stamp: Millis) {
        if let Some(o) = self.order_mut(number) {
            let old = o.modified;
            o.modified = stamp;
            self.by_modified.remove(&(old, number));
            self.by_modified.insert((stamp, number));
        }
    }

    /// Applies a change to an order and bumps its ModifiedDate.
    pub fn change_order(&mut self, number: u64, change: OrderChange) -> Result<Millis, SimError> {
        let stamp = self.change_stamp();
        let o = self
            .order_mut(number)
            .ok_or(SimError::UnknownOrder(number))?;
        let change = match change {
            OrderChange::Auto if o.payment_status == PaymentStatus::Unpaid => OrderChange::Payment,
            OrderChange::Auto if o.items.iter().any(|i| i.status == ItemStatus::Pending) => {
                OrderChange::ItemStatus
            }
            OrderChange::Auto => OrderChange::ShipTo,
            c => c,
        };
        let mut moved_item = None;
        match change {
            OrderChange::Payment => {
                o.payment_status = PaymentStatus::Paid;
                o.paid_at = Some(stamp);
            }
            OrderChange::ItemStatus => {
                if let Some((k, item)) = o.items.iter_mut().enumerate().find(|(_, i)| {
                    !matches!(
                        i.status,
                        ItemStatus::Completed | ItemStatus::Cancelled | ItemStatus::Denied
                    )
                }) {
                    item.status = match item.status {
                        ItemStatus::Pending => ItemStatus::Approved,
                        ItemStatus::Approved => ItemStatus::InProduction,
                        ItemStatus::InProduction => ItemStatus::Shipped,
                        _ => ItemStatus::Completed,
                    };
                    item.files_pending = false;
                    item.status_modified = stamp;
                    moved_item = Some(k);
                }
            }
            OrderChange::ShipTo => o.ship_revision = o.ship_revision.wrapping_add(1),
            OrderChange::ModifiedOnly | OrderChange::Auto => {}
        }
        self.set_modified(number, stamp);
        match change {
            OrderChange::Payment => self.raise_order(WebhookEvent::PaymentReceived, number),
            OrderChange::ItemStatus => match moved_item {
                Some(k) => self.raise_item(WebhookEvent::OrderItemStatusChanged, number, k),
                None => self.raise_order(WebhookEvent::OrderUpdated, number),
            },
            _ => self.raise_order(WebhookEvent::OrderUpdated, number),
        }
        Ok(stamp)
    }

    /// Queues a webhook event about the site `site`.
    pub(crate) fn raise(&mut self, event: WebhookEvent, site: usize, data: serde_json::Value) {
        let Some(s) = self.sites.get(site) else {
            return;
        };
        self.outbox.push(PendingEvent {
            event,
            site_id: s.id,
            site_domain: s.domain.to_owned(),
            data,
        });
    }

    /// Queues an order-level event; `Data` is the order summary (plus payments for
    /// `PaymentReceived`), so a receiver can act without a call, or re-read the order.
    pub(crate) fn raise_order(&mut self, event: WebhookEvent, number: u64) {
        let Some(o) = self.order(number) else { return };
        let mut data = serde_json::to_value(self.summary(o)).unwrap_or_default();
        if event == WebhookEvent::PaymentReceived {
            data["Payments"] = serde_json::to_value(self.payments(o)).unwrap_or_default();
        }
        let site = o.site as usize;
        self.raise(event, site, data);
    }

    /// Queues an item-level event; `Data` is the item as `GET …/items` shows it.
    pub(crate) fn raise_item(&mut self, event: WebhookEvent, number: u64, k: usize) {
        let Some(o) = self.order(number) else { return };
        let Some(item) = self.items(o).into_iter().nth(k) else {
            return;
        };
        let data = serde_json::to_value(item).unwrap_or_default();
        let site = o.site as usize;
        self.raise(event, site, data);
    }

    /// Sets a product's stock; raises `LowInventory` on every site offering it when the
    /// quantity falls from at-or-above the threshold to below it.
    pub(crate) fn set_stock(&mut self, product: usize, stock: Option<Stock>) {
        let Some(p) = self.products.get_mut(product) else {
            return;
        };
        let before = p.stock;
        p.stock = stock;
        let crossed = match (before, stock) {
            (Some(b), Some(a)) => b.on_hand >= b.threshold && a.on_hand < a.threshold,
            (None, Some(a)) => a.on_hand < a.threshold,
            _ => false,
        };
        if crossed {
            let sites: Vec<usize> = match p.site {
                Some(s) => vec![s as usize],
                None => (0..self.sites.len()).collect(),
            };
            for site in sites {
                let row = self.stock_view(product);
                self.raise(
                    WebhookEvent::LowInventory,
                    site,
                    serde_json::to_value(row).unwrap_or_default(),
                );
            }
        }
    }

    pub(crate) fn stock_view(&self, product: usize) -> StockView {
        let p = &self.products[product];
        StockView {
            product_id: p.id,
            product_name: p.name.clone(),
            product_code: p.code.clone(),
            sku: p.sku.clone(),
            track_inventory: p.stock.is_some(),
            quantity_on_hand: p.stock.map_or(0, |s| s.on_hand),
            low_stock_threshold: p.stock.map_or(0, |s| s.threshold),
        }
    }

    /// Generates `count` more orders, dated now.
    pub fn add_orders(&mut self, count: usize) -> Vec<u64> {
        let next = self.first_number + self.orders.len() as u64;
        let mut numbers = Vec::with_capacity(count);
        for number in next..next + count as u64 {
            let ctx = generator::OrderContext {
                seed: self.seed,
                users: &self.users,
                sites: &self.sites,
                products: &self.products,
                base_time: self.base_time,
                first_number: self.first_number,
            };
            let mut o = generator::order(&ctx, number);
            let stamp = self.change_stamp();
            o.order_date = stamp;
            o.modified = stamp;
            for item in &mut o.items {
                item.status_modified = stamp;
                if let Some(t) = &mut item.tracking {
                    t.ship_date = model::stamp(stamp);
                }
            }
            self.by_modified.insert((stamp, number));
            // Tracked stock goes down by what the new order takes.
            let taken: Vec<(usize, i64)> = o
                .items
                .iter()
                .map(|i| (i.product as usize, i64::from(i.quantity)))
                .collect();
            self.orders.push(o);
            numbers.push(number);
            self.raise_order(WebhookEvent::OrderPlaced, number);
            for (product, quantity) in taken {
                if let Some(mut st) = self.products.get(product).and_then(|p| p.stock) {
                    st.on_hand = (st.on_hand - quantity).max(0);
                    self.set_stock(product, Some(st));
                }
            }
        }
        numbers
    }

    /// Places an order as `spec` describes (buyer, address, catalogue products): the buyer
    /// becomes a user of site 0, or is the user with that e-mail already.
    pub fn place_order(&mut self, spec: &PlacedOrder) -> u64 {
        let stamp = self.change_stamp();
        let user = match self
            .users
            .iter()
            .position(|u| u.site == 0 && u.email.trim().eq_ignore_ascii_case(spec.email.trim()))
        {
            Some(k) => k,
            None => {
                let n = self.users.len() as u64;
                let address = Address {
                    first_name: spec.first_name.clone(),
                    last_name: spec.last_name.clone(),
                    business: spec.business.clone(),
                    address1: spec.street.clone(),
                    address2: String::new(),
                    address3: String::new(),
                    city: spec.city.clone(),
                    postal: spec.postcode.clone(),
                    state_province: String::new(),
                    country: spec.country.clone(),
                    phone: "+31 20 555 0100".into(),
                    email: spec.email.clone(),
                };
                self.users.push(User {
                    id: stable_uuid(self.seed, ns::USER, 2_000_000 + n),
                    site: 0,
                    email: spec.email.clone(),
                    first_name: spec.first_name.clone(),
                    last_name: spec.last_name.clone(),
                    business: spec.business.clone(),
                    phone: address.phone.clone(),
                    alt_address: address.clone(),
                    address,
                    integration_data: None,
                    book: Vec::new(),
                    default_book: None,
                    modified: stamp,
                });
                self.users.len() - 1
            }
        };
        // A returning buyer may type the address differently this time.
        {
            let u = &mut self.users[user];
            u.address.address1 = spec.street.clone();
            u.address.postal = spec.postcode.clone();
            u.address.city = spec.city.clone();
            u.address.country = spec.country.clone();
            u.address.business = spec.business.clone();
            u.business = spec.business.clone();
        }
        let number = self.first_number + self.orders.len() as u64;
        let ctx = generator::OrderContext {
            seed: self.seed,
            users: &self.users,
            sites: &self.sites,
            products: &self.products,
            base_time: self.base_time,
            first_number: self.first_number,
        };
        let mut o = generator::order(&ctx, number);
        o.user = user as u32;
        o.site = 0;
        o.currency = self.sites[0].currency;
        o.payment_status = PaymentStatus::Paid;
        o.payment_method = "CreditCard";
        o.coupon = None;
        o.bill_variant = 0;
        o.ship_alt = false;
        o.ship_variant = 0;
        o.email_variant = 0;
        o.order_date = stamp;
        o.modified = stamp;
        o.paid_at = None;
        o.items = spec
            .products
            .iter()
            .map(|&p| {
                let product = &self.products[p % self.products.len()];
                let quantity = product.quantities.first().copied().unwrap_or(1);
                Item {
                    product: (p % self.products.len()) as u16,
                    quantity,
                    price_cents: product.unit_price_centicents * i64::from(quantity) / 100,
                    tax_cents: 0,
                    shipping_cents: 0,
                    status: ItemStatus::Approved,
                    files_pending: false,
                    status_modified: stamp,
                    tracking: None,
                    notes: None,
                }
            })
            .collect();
        self.by_modified.insert((stamp, number));
        self.orders.push(o);
        self.raise_order(WebhookEvent::OrderPlaced, number);
        number
    }

    // ---- rendering ----

    pub fn summary(&self, o: &Order) -> OrderSummary {
        let user = &self.users[o.user as usize];
        OrderSummary {
            order_id: stable_uuid(self.seed, ns::ORDER, o.number),
            order_number: o.number,
            site_name: self.sites[o.site as usize].domain.to_owned(),
            order_date: stamp(o.order_date),
            modified_date: stamp(o.modified),
            ordered_by_email: user.email.clone(),
            order_total: money(o.total_cents()),
            currency: o.currency.to_owned(),
            payment_status: o.payment_status.id().to_owned(),
            item_count: o.items.len(),
        }
    }

    fn bill_to(&self, o: &Order) -> Address {
        let user = &self.users[o.user as usize];
        let mut a = generator::address_variant(&user.address, o.bill_variant);
        a.email = generator::checkout_email(user, o.email_variant);
        a
    }

    fn ship_to(&self, o: &Order) -> Address {
        let user = &self.users[o.user as usize];
        let base = if o.ship_alt {
            &user.alt_address
        } else {
            &user.address
        };
        let mut a = generator::address_variant(base, o.ship_variant);
        if o.ship_revision > 0 {
            a.phone = format!(
                "+1 555-01{:02}-{:04}",
                o.ship_revision % 100,
                o.number % 10_000
            );
        }
        a
    }

    pub fn details(&self, o: &Order) -> OrderDetails {
        let user = &self.users[o.user as usize];
        OrderDetails {
            summary: self.summary(o),
            bill_to: self.bill_to(o),
            ship_to: self.ship_to(o),
            payment_method: o.payment_method.to_owned(),
            coupons: o
                .coupon
                .iter()
                .map(|c| CouponLine {
                    code: generator::COUPONS[c.coupon as usize].0.to_owned(),
                    amount: money(c.amount_cents),
                })
                .collect(),
            sub_total: money(o.sub_total_cents()),
            shipping_total: money(o.shipping_cents()),
            tax_total: money(o.tax_cents()),
            ordered_by: OrderedBy {
                user_id: user.id,
                email: user.email.clone(),
                first_name: user.first_name.clone(),
                last_name: user.last_name.clone(),
                business: user.business.clone(),
                phone: user.phone.clone(),
            },
        }
    }

    /// A user as `site/{site}/users` serves it.
    pub fn user_view(&self, u: &User) -> UserView {
        UserView {
            user_id: u.id,
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            business: u.business.clone(),
            phone: u.phone.clone(),
            site_name: self.sites[u.site as usize].domain.to_owned(),
            integration_data: u.integration_data.clone(),
            modified_date: stamp(u.modified),
        }
    }

    /// The category ids a product shows on site `si`.
    pub fn product_category_ids(&self, p: &Product, si: usize) -> Vec<uuid::Uuid> {
        if !p.category_ids.is_empty() {
            return p.category_ids.clone();
        }
        self.categories
            .iter()
            .find(|c| c.site as usize == si && c.parent.is_some() && c.name == p.category)
            .map(|c| vec![c.id])
            .unwrap_or_default()
    }

    /// A product as `site/{site}/products` serves it on site `si`.
    pub fn product_view(&self, p: &Product, si: usize) -> ProductView {
        let category_ids = self.product_category_ids(p, si);
        let category_name = category_ids
            .first()
            .and_then(|id| self.categories.iter().find(|c| c.id == *id))
            .map_or_else(|| p.category.to_owned(), |c| c.name.clone());
        ProductView {
            product_id: p.id,
            name: p.name.clone(),
            product_code: p.code.clone(),
            sku: p.sku.clone(),
            category_name,
            price: money(p.unit_price_centicents / 100),
            is_deleted: p.deleted,
            is_active: p.active,
            category_ids,
            integration_data: p.integration_data.clone(),
            modified_date: stamp(p.modified),
        }
    }

    /// A category as `site/{site}/categories` serves it.
    pub fn category_view(&self, c: &Category) -> CategoryView {
        CategoryView {
            category_id: c.id,
            name: c.name.clone(),
            parent_id: c.parent,
            is_root: c.parent.is_none(),
            is_active: c.active,
            integration_data: c.integration_data.clone(),
            modified_date: stamp(c.modified),
        }
    }

    pub fn item_id(&self, o: &Order, index: usize) -> uuid::Uuid {
        stable_uuid(self.seed, ns::ITEM, o.number * 64 + index as u64)
    }

    pub fn items(&self, o: &Order) -> Vec<OrderItemView> {
        let bill = self.bill_to(o);
        let ship = self.ship_to(o);
        let user = &self.users[o.user as usize];
        o.items
            .iter()
            .enumerate()
            .map(|(k, i)| {
                let p = &self.products[i.product as usize];
                OrderItemView {
                    order_number: o.number,
                    order_item_number: format!("{}-{}", o.number, k + 1),
                    order_item_id: self.item_id(o, k),
                    product_id: p.id,
                    product_name: p.name.clone(),
                    product_code: p.code.clone(),
                    sku: p.sku.clone(),
                    quantity: i.quantity,
                    price: money(i.price_cents),
                    tax: money(i.tax_cents),
                    shipping: money(i.shipping_cents),
                    site_name: self.sites[o.site as usize].domain.to_owned(),
                    ordered_by_email: user.email.clone(),
                    bill_to: FlatAddress {
                        prefix: "BillTo",
                        address: bill.clone(),
                    },
                    ship_to: FlatAddress {
                        prefix: "ShipTo",
                        address: ship.clone(),
                    },
                    shipment_tracking: i.tracking.as_deref().cloned(),
                    workflow_stage_id: i.status.workflow_stage_id(),
                    status_id: i.status.id().to_owned(),
                    files_pending: i.files_pending,
                    notes: i.notes.as_deref().map(str::to_owned),
                }
            })
            .collect()
    }

    pub fn payments(&self, o: &Order) -> Vec<PaymentView> {
        let total = o.total_cents();
        let date = stamp(o.paid_at.unwrap_or(o.order_date));
        let pay = |cents: i64| PaymentView {
            amount: money(cents),
            method: o.payment_method.to_owned(),
            date: date.clone(),
        };
        match o.payment_status {
            PaymentStatus::Paid => vec![pay(total)],
            PaymentStatus::PartiallyPaid => vec![pay(total / 2)],
            PaymentStatus::Refunded => vec![
                pay(total),
                PaymentView {
                    amount: money(-total),
                    method: o.payment_method.to_owned(),
                    date: stamp(o.modified),
                },
            ],
            PaymentStatus::Unpaid | PaymentStatus::OnAccount => Vec::new(),
        }
    }

    /// Finds an item by position (`1`), item number (`1001-1`) or item id (uuid).
    pub fn item_index(&self, o: &Order, reference: &str) -> Option<usize> {
        let r = reference.trim();
        if let Ok(k) = r.parse::<usize>() {
            return (1..=o.items.len()).contains(&k).then(|| k - 1);
        }
        if let Some((n, k)) = r.split_once('-') {
            if n.parse::<u64>().ok() == Some(o.number) {
                if let Ok(k) = k.parse::<usize>() {
                    return (1..=o.items.len()).contains(&k).then(|| k - 1);
                }
            }
        }
        (0..o.items.len()).find(|&k| self.item_id(o, k).to_string().eq_ignore_ascii_case(r))
    }
}

pub(crate) struct Token {
    expires: Millis,
    uses: u64,
    revoked: bool,
}

type SearchHook = Box<dyn FnOnce(&PresseroSim) + Send>;

/// The Pressero simulator's state handle (what [`RunningSim`] dereferences to).
pub struct PresseroSim {
    config: PresseroConfig,
    core: SimCore,
    data: RwLock<PresseroData>,
    tokens: Mutex<HashMap<String, Token>>,
    token_max_uses: Mutex<Option<u64>>,
    search_hooks: Mutex<Vec<(u64, SearchHook)>>,
    hooks: WebhookHub,
    hosts: Mutex<HostLog>,
    reject_unknown_hosts: std::sync::atomic::AtomicBool,
}

/// The `Host` of the latest requests (bounded) and a count per host.
#[derive(Default)]
struct HostLog {
    recent: std::collections::VecDeque<HostRecord>,
    counts: std::collections::BTreeMap<String, u64>,
}

/// How many recent `Host` records are kept.
const HOST_LOG_LEN: usize = 4096;

impl Simulator for PresseroSim {
    const BASE_PATH: &'static str = "/api/";
    fn core(&self) -> &SimCore {
        &self.core
    }
}

/// Starts a Pressero simulator on 127.0.0.1 (`cfg.port`, 0 = ephemeral).
pub async fn spawn_pressero(cfg: PresseroConfig) -> Result<RunningSim<PresseroSim>, SimError> {
    let port = cfg.port;
    let sim = Arc::new(PresseroSim::new(cfg)?);
    let router = api::router(sim.clone());
    RunningSim::serve(sim, port, router).await
}

/// `switchyard-sim` flags of the Pressero simulator.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Pressero (REST + JSON under /api/)")]
pub struct PresseroArgs {
    /// Serve Pressero on this port (0 = ephemeral).
    #[arg(long)]
    pub pressero_port: Option<u16>,
    /// Accepted UserName.
    #[arg(long)]
    pub pressero_user: Option<String>,
    /// Accepted Password.
    #[arg(long)]
    pub pressero_password: Option<String>,
    /// Accepted SubscriberId.
    #[arg(long)]
    pub pressero_subscriber_id: Option<String>,
    /// Accepted ConsumerID.
    #[arg(long)]
    pub pressero_consumer_id: Option<String>,
    /// Token lifetime in seconds.
    #[arg(long, default_value_t = 1200)]
    pub pressero_token_ttl_secs: u64,
    /// Tokens expire after this many authorised requests (mid-run expiry fault).
    #[arg(long)]
    pub pressero_token_max_uses: Option<u64>,
}

impl PresseroArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.pressero_port
    }
}

/// Serves Pressero as the binary's flags say.
pub async fn serve_cli(
    args: &PresseroArgs,
    port: u16,
    common: &CommonArgs,
    faults: FaultConfig,
) -> Result<Served, SimError> {
    let defaults = PresseroCredentials::default();
    let a = args.clone();
    let cfg = PresseroConfig {
        port,
        seed: common.seed,
        orders: common.orders,
        users: common.customers,
        products: common.products.unwrap_or(generator::BASE_PRODUCTS),
        base_time: common.base_millis()?,
        credentials: PresseroCredentials {
            user_name: a.pressero_user.unwrap_or(defaults.user_name),
            password: a.pressero_password.unwrap_or(defaults.password),
            subscriber_id: a.pressero_subscriber_id.unwrap_or(defaults.subscriber_id),
            consumer_id: a.pressero_consumer_id.unwrap_or(defaults.consumer_id),
        },
        token_ttl_secs: a.pressero_token_ttl_secs,
        token_max_uses: a.pressero_token_max_uses,
        faults,
        ..PresseroConfig::default()
    };
    Ok(Served::new("pressero", spawn_pressero(cfg).await?))
}

impl PresseroSim {
    /// Builds the state (generating the data) without serving it.
    pub fn new(cfg: PresseroConfig) -> Result<PresseroSim, SimError> {
        cfg.faults.validate()?;
        if cfg.first_order_number == 0 {
            return Err(SimError::InvalidConfig(
                "first order number must be > 0".into(),
            ));
        }
        cfg.webhook_settings().validate()?;
        let hooks = WebhookHub::new(
            cfg.seed,
            cfg.credentials.subscriber_id.clone(),
            cfg.webhook_settings(),
        );
        for sub in &cfg.webhooks {
            hooks.subscribe(sub.clone())?;
        }
        let data = PresseroData::generate(&cfg, cfg.seed);
        Ok(PresseroSim {
            core: SimCore::new(cfg.seed, cfg.faults.clone()),
            data: RwLock::new(data),
            tokens: Mutex::new(HashMap::new()),
            token_max_uses: Mutex::new(cfg.token_max_uses),
            search_hooks: Mutex::new(Vec::new()),
            hooks,
            hosts: Mutex::new(HostLog::default()),
            reject_unknown_hosts: std::sync::atomic::AtomicBool::new(cfg.reject_unknown_hosts),
            config: cfg,
        })
    }

    /// Runs a change under the write lock, then sends the webhooks it raised.
    pub(crate) fn mutate<R>(&self, f: impl FnOnce(&mut PresseroData) -> R) -> R {
        let (r, events) = {
            let mut d = self.write();
            let r = f(&mut d);
            (r, std::mem::take(&mut d.outbox))
        };
        self.hooks.emit(events);
        r
    }

    /// Registers a webhook subscriber; returns its subscription id.
    pub fn subscribe_webhook(&self, sub: WebhookSubscriber) -> Result<u64, SimError> {
        self.hooks.subscribe(sub)
    }

    /// Removes a subscription; false when there was none with that id.
    pub fn unsubscribe_webhook(&self, id: u64) -> bool {
        self.hooks.unsubscribe(id)
    }

    /// The subscriptions, with their ids.
    pub fn webhook_subscriptions(&self) -> Vec<(u64, WebhookSubscriber)> {
        self.hooks.subscriptions()
    }

    /// Every webhook delivery recorded so far (delivered, failed after retries, or dropped), in
    /// the order they finished.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.hooks.deliveries()
    }

    /// Webhooks queued or being sent.
    pub fn webhooks_pending(&self) -> usize {
        self.hooks.pending()
    }

    /// Waits until no webhook is queued or in flight (or `timeout` passes); true when idle.
    pub async fn wait_webhooks_idle(&self, timeout: std::time::Duration) -> bool {
        let end = tokio::time::Instant::now() + timeout;
        while self.hooks.pending() > 0 {
            if tokio::time::Instant::now() >= end {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        true
    }

    /// The webhook delivery settings in force.
    pub fn webhook_settings(&self) -> WebhookSettings {
        self.hooks.settings()
    }

    /// Replaces the webhook delivery settings.
    pub fn set_webhook_settings(&self, settings: WebhookSettings) -> Result<(), SimError> {
        self.hooks.set_settings(settings)
    }

    /// Sets the share of webhook events dropped without delivery (the lost-webhook fault).
    pub fn set_webhook_drop_rate(&self, rate: f64) -> Result<(), SimError> {
        let mut s = self.hooks.settings();
        s.drop_rate = rate;
        self.hooks.set_settings(s)
    }

    /// Checks a request's `Host` (the three data-centre names and loopback are accepted) and
    /// records it. Returns false when the host is refused.
    pub(crate) fn note_host(&self, host: Option<&str>, endpoint: &str) -> bool {
        let name = host
            .map(|h| {
                let h = h.trim().to_ascii_lowercase();
                // Strip the port; a bracketed IPv6 literal keeps its brackets.
                match h.strip_prefix('[').and_then(|rest| rest.find(']')) {
                    Some(end) => h[..end + 2].to_owned(),
                    None => h.split(':').next().unwrap_or_default().to_owned(),
                }
            })
            .unwrap_or_default();
        let known = DATA_CENTRE_HOSTS.iter().any(|(_, h)| *h == name)
            || LOOPBACK_HOSTS.contains(&name.as_str());
        let accepted = known
            || !self
                .reject_unknown_hosts
                .load(std::sync::atomic::Ordering::Relaxed);
        let mut log = lock(&self.hosts);
        *log.counts.entry(name.clone()).or_insert(0) += 1;
        if log.recent.len() >= HOST_LOG_LEN {
            log.recent.pop_front();
        }
        log.recent.push_back(HostRecord {
            host: name,
            endpoint: endpoint.to_owned(),
            known,
            accepted,
        });
        accepted
    }

    /// Turns refusing unknown hosts on or off (see [`PresseroConfig::reject_unknown_hosts`]).
    pub fn set_reject_unknown_hosts(&self, on: bool) {
        self.reject_unknown_hosts
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Requests per `Host` name (port stripped, lower-case), refused ones included.
    pub fn host_counts(&self) -> std::collections::BTreeMap<String, u64> {
        lock(&self.hosts).counts.clone()
    }

    /// The latest API requests' hosts, oldest first (the last 4,096).
    pub fn host_log(&self) -> Vec<HostRecord> {
        lock(&self.hosts).recent.iter().cloned().collect()
    }

    /// The `Host` of the latest API request.
    pub fn last_host(&self) -> Option<String> {
        lock(&self.hosts).recent.back().map(|r| r.host.clone())
    }

    /// The data centre (`chicago`, `singapore`, `amsterdam`) the latest request named, if any.
    pub fn last_data_centre(&self) -> Option<&'static str> {
        let host = self.last_host()?;
        DATA_CENTRE_HOSTS
            .iter()
            .find(|(_, h)| *h == host)
            .map(|(dc, _)| *dc)
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, PresseroData> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, PresseroData> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The accepted credentials.
    pub fn credentials(&self) -> &PresseroCredentials {
        &self.config.credentials
    }

    /// The configuration the simulator started with.
    pub fn config(&self) -> &PresseroConfig {
        &self.config
    }

    /// Counts of what the simulator holds.
    pub fn counts(&self) -> PresseroCounts {
        let d = self.read();
        PresseroCounts {
            orders: d.orders.len(),
            items: d.orders.iter().map(|o| o.items.len()).sum(),
            users: d.users.len(),
            sites: d.sites.len(),
            products: d.products.len(),
            tokens: lock(&self.tokens).len(),
            shipments: d.shipments,
            categories: d.categories.len(),
            webhook_subscriptions: self.hooks.subscriptions().len(),
            webhook_deliveries: self.hooks.deliveries().len(),
        }
    }

    /// Order numbers, ascending.
    pub fn order_numbers(&self) -> Vec<u64> {
        self.read().orders.iter().map(|o| o.number).collect()
    }

    /// Changes an order (see [`OrderChange::Auto`]) and bumps its `ModifiedDate` to
    /// `max(now, latest + 1 ms)`; returns the new `ModifiedDate`.
    pub fn touch_order(&self, number: u64) -> Result<chrono::DateTime<chrono::Utc>, SimError> {
        self.touch_order_with(number, OrderChange::Auto)
    }

    /// Like [`PresseroSim::touch_order`] with a chosen change.
    pub fn touch_order_with(
        &self,
        number: u64,
        change: OrderChange,
    ) -> Result<chrono::DateTime<chrono::Utc>, SimError> {
        self.mutate(|d| d.change_order(number, change))
            .map(to_datetime)
    }

    /// Adds `count` new orders dated now; returns their numbers.
    pub fn add_orders(&self, count: usize) -> Vec<u64> {
        self.mutate(|d| d.add_orders(count))
    }

    /// Re-dates every order modified after `now` to when it was placed (its items too), as
    /// if those later changes had not happened yet; returns how many. Generated orders are
    /// modified up to ten days after they are placed, so when the newest are placed about
    /// now some carry a `ModifiedDate` in the future, which a client re-reads on every pass.
    pub fn settle_future_changes(&self, now: Millis) -> usize {
        self.mutate(|d| {
            let late: Vec<(u64, Millis)> = d
                .orders
                .iter()
                .filter(|o| o.modified > now)
                .map(|o| (o.number, o.order_date.min(now)))
                .collect();
            for &(number, placed) in &late {
                if let Some(o) = d.order_mut(number) {
                    for item in &mut o.items {
                        item.status_modified = item.status_modified.min(placed);
                    }
                }
                d.set_modified(number, placed);
            }
            d.latest = d.by_modified.last().map_or(d.base_time, |&(m, _)| m);
            late.len()
        })
    }

    /// Places an order for a chosen buyer, address and products (see [`PlacedOrder`]):
    /// paid, items approved, dated now; returns its number.
    pub fn place_order(&self, spec: &PlacedOrder) -> u64 {
        self.mutate(|d| d.place_order(spec))
    }

    /// The details answer of an order, as JSON.
    pub fn order_details_json(&self, number: u64) -> Option<serde_json::Value> {
        let d = self.read();
        let o = d.order(number)?;
        serde_json::to_value(d.details(o)).ok()
    }

    /// The products site `site` lists (deleted ones too), as `site/{site}/products` serves
    /// them; none for an unknown site.
    pub fn site_products_json(&self, site: &str) -> Vec<serde_json::Value> {
        let d = self.read();
        let Some(si) = api::site_index(&d, site) else {
            return Vec::new();
        };
        d.products
            .iter()
            .filter(|p| p.site.is_none_or(|s| s as usize == si))
            .filter_map(|p| serde_json::to_value(d.product_view(p, si)).ok())
            .collect()
    }

    /// The categories of site `site`, as `site/{site}/categories` serves them.
    pub fn site_categories_json(&self, site: &str) -> Vec<serde_json::Value> {
        let d = self.read();
        let Some(si) = api::site_index(&d, site) else {
            return Vec::new();
        };
        d.categories
            .iter()
            .filter(|c| c.site as usize == si)
            .filter_map(|c| serde_json::to_value(d.category_view(c)).ok())
            .collect()
    }

    /// The items answer of an order, as JSON.
    pub fn order_items_json(&self, number: u64) -> Option<serde_json::Value> {
        let d = self.read();
        let o = d.order(number)?;
        serde_json::to_value(d.items(o)).ok()
    }

    /// Writes every order (details, items, payments) as JSON lines: for comparing data sets.
    pub fn write_orders_json(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        let d = self.read();
        for o in &d.orders {
            let line = serde_json::json!({
                "Details": d.details(o),
                "Items": d.items(o),
                "Payments": d.payments(o),
            });
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Runs `hook` once, when the next search for page `page_number` arrives, before that page
    /// is computed: e.g. touch an order to move it to the end while a client is paging.
    pub fn on_search_page(
        &self,
        page_number: u64,
        hook: impl FnOnce(&PresseroSim) + Send + 'static,
    ) {
        lock(&self.search_hooks).push((page_number, Box::new(hook)));
    }

    pub(crate) fn run_search_hooks(&self, page_number: u64) {
        let due: Vec<SearchHook> = {
            let mut hooks = lock(&self.search_hooks);
            let (due, keep): (Vec<_>, Vec<_>) =
                hooks.drain(..).partition(|(p, _)| *p == page_number);
            *hooks = keep;
            due.into_iter().map(|(_, h)| h).collect()
        };
        for hook in due {
            hook(self);
        }
    }

    /// Makes every issued token invalid at once (the next call answers 401).
    pub fn expire_tokens(&self) {
        for t in lock(&self.tokens).values_mut() {
            t.revoked = true;
        }
    }

    /// Makes tokens stop working after `uses` authorised requests (`None` = no limit).
    pub fn set_token_max_uses(&self, uses: Option<u64>) {
        *lock(&self.token_max_uses) = uses;
    }

    /// Requests seen for an endpoint key, e.g. `POST /api/v2/orders/search`.
    pub fn request_count(&self, endpoint: &str) -> u64 {
        self.core.request_count(endpoint)
    }

    /// Faults injected so far.
    pub fn fault_stats(&self) -> crate::FaultStats {
        self.core.fault_stats()
    }

    /// Replaces the fault configuration.
    pub fn set_faults(&self, faults: FaultConfig) -> Result<(), SimError> {
        self.core.set_faults(faults)
    }

    /// Regenerates the data (with `seed`, or the configured one), forgets tokens, hooks,
    /// counters and faults.
    pub fn reset(&self, seed: Option<u64>) {
        let seed = seed.unwrap_or(self.config.seed);
        *self.write() = PresseroData::generate(&self.config, seed);
        lock(&self.tokens).clear();
        lock(&self.search_hooks).clear();
        *lock(&self.token_max_uses) = self.config.token_max_uses;
        self.hooks.clear(self.config.webhook_settings());
        for sub in &self.config.webhooks {
            // Checked when the simulator was built.
            let _ = self.hooks.subscribe(sub.clone());
        }
        *lock(&self.hosts) = HostLog::default();
        self.set_reject_unknown_hosts(self.config.reject_unknown_hosts);
        self.core.reset();
    }

    /// The seed of the current data.
    pub fn seed(&self) -> u64 {
        self.read().seed
    }

    pub(crate) fn issue_token(&self) -> (String, Millis) {
        let expires = now_millis() + (self.config.token_ttl_secs as i64) * 1000;
        let mut tokens = lock(&self.tokens);
        let n = tokens.len() as u64 + 1;
        let token = format!(
            "{}{}",
            stable_uuid(self.config.seed ^ now_millis() as u64, 99, n).simple(),
            stable_uuid(self.config.seed, 98, n).simple()
        );
        tokens.insert(
            token.clone(),
            Token {
                expires,
                uses: 0,
                revoked: false,
            },
        );
        (token, expires)
    }

    /// Checks and counts one use of a token.
    pub(crate) fn use_token(&self, token: &str) -> bool {
        let max = *lock(&self.token_max_uses);
        let mut tokens = lock(&self.tokens);
        let Some(t) = tokens.get_mut(token) else {
            return false;
        };
        if t.revoked || t.expires <= now_millis() {
            return false;
        }
        if let Some(max) = max {
            if t.uses >= max {
                t.revoked = true;
                return false;
            }
        }
        t.uses += 1;
        true
    }
}
