//! The Presswise (Smartsoft) simulator: SOAP 1.1 rpc/encoded at `/r/wsdl-order2.php`.
//!
//! Presswise has no idempotency key: a second `add_purchase_order` with the same
//! `sourceOrderID` creates a second order, as the real MIS does. A connector must guard against
//! that itself (look the order up with `find_orders` before re-pushing); tests detect a
//! duplicate with [`PresswiseSim::count_for_source`]. See `README.md` beside this file.

mod api;
pub mod generator;
pub mod model;
pub mod xml;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::cli::{CommonArgs, Served};
use crate::clock::{next_change_stamp, parse_timestamp, Millis, DEFAULT_BASE_TIME};
use crate::core::{lock, RunningSim, SimCore, Simulator};
use crate::{FaultConfig, SimError};
use model::*;

pub use api::OPERATIONS;

/// The path of the SOAP endpoint (and, with `?wsdl`, of the WSDL).
pub const ENDPOINT_PATH: &str = "/r/wsdl-order2.php";
/// The first item (job) id; above any position so a control reference is never ambiguous.
pub const FIRST_ITEM_ID: u64 = 500_001;

/// The `<auth>` the simulator accepts: `user`, `pass` and the tenant's authorisation `code`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresswiseCredentials {
    /// `auth.user`.
    pub user: String,
    /// `auth.pass`.
    pub pass: String,
    /// `auth.code` (the authorisation code of the tenant).
    pub code: String,
}

impl Default for PresswiseCredentials {
    fn default() -> Self {
        PresswiseCredentials {
            user: "switchyard".into(),
            pass: "presswise-secret".into(),
            code: "PW-7F3A-11C9".into(),
        }
    }
}

/// How to start a Presswise simulator.
#[derive(Clone, Debug)]
pub struct PresswiseConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of the data (and of fault decisions).
    pub seed: u64,
    /// Number of seeded orders.
    pub orders: usize,
    /// Number of seeded users; `None` = orders / 4, between 20 and 10,000.
    pub users: Option<usize>,
    /// Number of catalogue products (1..=10,000).
    pub products: usize,
    /// The first order id (`orderID`); pushed orders continue after the seeded ones.
    pub first_order_id: u64,
    /// Date of the first seeded order.
    pub base_time: Millis,
    /// `Some(n)`: seeded order i carries `sourceOrderID` n + i, as if an older integration had
    /// pushed Pressero orders n.. already (the "status only" migration case). `None`: web-shop
    /// ids `WEB-…`, some empty (entered by hand), a few doubled (a past double push).
    pub source_ids_from: Option<u64>,
    /// Accepted credentials.
    pub credentials: PresswiseCredentials,
    /// Faults from the start.
    pub faults: FaultConfig,
    /// Share of writes (`add_purchase_order`, `create_user`) that are applied and then never
    /// answered: the "timeout after the request was received" fault.
    pub accept_then_hang_rate: f64,
    /// Apply and then never answer the next N writes.
    pub accept_then_hang_next: u32,
}

impl Default for PresswiseConfig {
    fn default() -> Self {
        PresswiseConfig {
            port: 0,
            seed: 42,
            orders: 1000,
            users: None,
            products: 200,
            first_order_id: 20_001,
            base_time: DEFAULT_BASE_TIME,
            source_ids_from: None,
            credentials: PresswiseCredentials::default(),
            faults: FaultConfig::default(),
            accept_then_hang_rate: 0.0,
            accept_then_hang_next: 0,
        }
    }
}

/// The accept-then-hang fault: writes applied, answer never sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AcceptThenHang {
    /// Share of writes that hang after being applied.
    pub rate: f64,
    /// Hang after the next N writes.
    pub next: u32,
    /// Writes applied and left unanswered so far (read-only; ignored when set).
    pub hung: u64,
}

/// Counts of what the simulator holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresswiseCounts {
    /// Orders (seeded + pushed).
    pub orders: usize,
    /// Orders pushed through `add_purchase_order`.
    pub pushed_orders: usize,
    /// Order items (jobs).
    pub items: usize,
    /// Users (seeded + created).
    pub users: usize,
    /// Users created through `create_user`.
    pub created_users: usize,
    /// Catalogue products.
    pub products: usize,
    /// Catalogue categories.
    pub categories: usize,
    /// `sourceOrderID`s held by more than one order.
    pub duplicated_source_ids: usize,
}

pub(crate) struct PresswiseData {
    pub seed: u64,
    pub base_time: Millis,
    pub source_ids_from: Option<u64>,
    pub users: Vec<User>,
    /// Users the seeded orders refer to (created ones come after).
    pub seeded_users: usize,
    pub categories: Vec<Category>,
    pub products: Vec<Product>,
    pub first_order_id: u64,
    pub orders: Vec<Order>,
    /// sourceOrderID → order ids, in creation order (empty ids are not indexed).
    pub by_source: HashMap<Box<str>, Vec<u64>>,
    pub next_item_id: u64,
    pub latest: Millis,
}

impl PresswiseData {
    fn generate(cfg: &PresswiseConfig, seed: u64) -> PresswiseData {
        let user_count = cfg
            .users
            .unwrap_or((cfg.orders / 4).clamp(20, 10_000))
            .max(1);
        let users = generator::users(seed, user_count);
        let categories = generator::categories(seed);
        let products = generator::products(seed, cfg.products, &categories, cfg.base_time);
        let mut data = PresswiseData {
            seed,
            base_time: cfg.base_time,
            source_ids_from: cfg.source_ids_from,
            seeded_users: users.len(),
            users,
            categories,
            products,
            first_order_id: cfg.first_order_id,
            orders: Vec::with_capacity(cfg.orders),
            by_source: HashMap::new(),
            next_item_id: FIRST_ITEM_ID,
            latest: cfg.base_time,
        };
        let mut orders = Vec::with_capacity(cfg.orders);
        let mut by_source: HashMap<Box<str>, Vec<u64>> = HashMap::with_capacity(cfg.orders);
        let mut next_item = FIRST_ITEM_ID;
        let mut latest = data.latest;
        {
            let ctx = data.context();
            for i in 0..cfg.orders as u32 {
                let fields = generator::order_fields(&ctx, i);
                let id = cfg.first_order_id + u64::from(i);
                let o = generator::order_state(&ctx, i, id, &fields, next_item);
                next_item += o.items.len() as u64;
                if !fields.source_order_id.is_empty() {
                    by_source
                        .entry(fields.source_order_id.into_boxed_str())
                        .or_default()
                        .push(id);
                }
                latest = latest.max(o.modified);
                orders.push(o);
            }
        }
        data.orders = orders;
        data.by_source = by_source;
        data.latest = latest;
        data.next_item_id = next_item;
        data
    }

    pub fn context(&self) -> generator::OrderContext<'_> {
        generator::OrderContext {
            seed: self.seed,
            users: &self.users[..self.seeded_users],
            products: &self.products,
            base_time: self.base_time,
            source_ids_from: self.source_ids_from,
        }
    }

    pub fn order(&self, id: u64) -> Option<&Order> {
        let i = id.checked_sub(self.first_order_id)?;
        self.orders.get(usize::try_from(i).ok()?)
    }

    pub fn order_mut(&mut self, id: u64) -> Option<&mut Order> {
        let i = id.checked_sub(self.first_order_id)?;
        self.orders.get_mut(usize::try_from(i).ok()?)
    }

    /// The order's fields: as received, or re-rendered from the seed.
    pub fn fields<'a>(&'a self, o: &'a Order) -> std::borrow::Cow<'a, OrderFields> {
        match &o.source {
            Source::Pushed(f) => std::borrow::Cow::Borrowed(f),
            Source::Generated(i) => {
                std::borrow::Cow::Owned(generator::order_fields(&self.context(), *i))
            }
        }
    }

    /// Hands out the stamp for a change made now.
    pub fn change_stamp(&mut self) -> Millis {
        self.latest = next_change_stamp(self.latest);
        self.latest
    }

    /// Stores a pushed order; returns its id.
    pub fn add_order(&mut self, fields: OrderFields, status: u8) -> u64 {
        let id = self.first_order_id + self.orders.len() as u64;
        let stamp = self.change_stamp();
        let items = (0..fields.items.len())
            .map(|_| {
                let item = ItemState {
                    id: self.next_item_id,
                    status: 0,
                    status_date: stamp,
                    shipment: None,
                };
                self.next_item_id += 1;
                item
            })
            .collect();
        if !fields.source_order_id.is_empty() {
            self.by_source
                .entry(fields.source_order_id.clone().into_boxed_str())
                .or_default()
                .push(id);
        }
        self.orders.push(Order {
            id,
            source: Source::Pushed(Box::new(fields)),
            created: stamp,
            status,
            status_date: stamp,
            modified: stamp,
            items,
        });
        id
    }

    pub fn view(&self, o: &Order) -> OrderView {
        OrderView {
            order_id: o.id,
            pushed: matches!(o.source, Source::Pushed(_)),
            fields: self.fields(o).into_owned(),
            status: ORDER_STATUSES[o.status as usize].to_owned(),
            status_date: mysql_datetime(o.status_date),
            created: mysql_datetime(o.created),
            items: o
                .items
                .iter()
                .map(|i| ItemView {
                    item_id: i.id,
                    status: ITEM_STATUSES[i.status as usize].to_owned(),
                    status_date: mysql_datetime(i.status_date),
                    shipment: i.shipment.as_deref().cloned(),
                })
                .collect(),
        }
    }

    /// Orders carrying `source` as `sourceOrderID` (exact match, as a MySQL `=` on a binary
    /// collation would; trimmed).
    pub fn for_source(&self, source: &str) -> &[u64] {
        self.by_source
            .get(source.trim())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// An item's position by position (`1`) or item id.
    pub fn item_index(o: &Order, reference: &str) -> Option<usize> {
        let n: u64 = reference.trim().parse().ok()?;
        if (1..=o.items.len() as u64).contains(&n) {
            return Some(n as usize - 1);
        }
        o.items.iter().position(|i| i.id == n)
    }
}

struct HangState {
    config: AcceptThenHang,
    rng: StdRng,
}

/// The Presswise simulator's state handle (what [`RunningSim`] dereferences to).
pub struct PresswiseSim {
    config: PresswiseConfig,
    core: SimCore,
    data: RwLock<PresswiseData>,
    hang: Mutex<HangState>,
    /// Orders whose `get_order_status` answer is always cut short (a record the provider
    /// keeps answering badly for, whatever the retries).
    broken_status: Mutex<std::collections::HashSet<u64>>,
}

impl Simulator for PresswiseSim {
    const BASE_PATH: &'static str = ENDPOINT_PATH;
    fn core(&self) -> &SimCore {
        &self.core
    }
}

/// Starts a Presswise simulator on 127.0.0.1 (`cfg.port`, 0 = ephemeral). Its
/// `base_url()` is the SOAP endpoint, `http://127.0.0.1:PORT/r/wsdl-order2.php`.
pub async fn spawn_presswise(cfg: PresswiseConfig) -> Result<RunningSim<PresswiseSim>, SimError> {
    let port = cfg.port;
    let sim = Arc::new(PresswiseSim::new(cfg)?);
    let router = api::router(sim.clone());
    RunningSim::serve(sim, port, router).await
}

/// `switchyard-sim` flags of the Presswise simulator.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Presswise (SOAP rpc/encoded at /r/wsdl-order2.php)")]
pub struct PresswiseArgs {
    /// Serve Presswise on this port (0 = ephemeral).
    #[arg(long)]
    pub presswise_port: Option<u16>,
    /// Accepted auth.user.
    #[arg(long)]
    pub presswise_user: Option<String>,
    /// Accepted auth.pass.
    #[arg(long)]
    pub presswise_pass: Option<String>,
    /// Accepted auth.code.
    #[arg(long)]
    pub presswise_code: Option<String>,
    /// The first order id.
    #[arg(long, default_value_t = 20_001)]
    pub presswise_first_order_id: u64,
    /// Seeded orders carry sourceOrderID N, N+1, … (an older integration pushed them).
    #[arg(long)]
    pub presswise_source_ids_from: Option<u64>,
    /// Share of writes applied and then never answered (0..1).
    #[arg(long, default_value_t = 0.0)]
    pub presswise_accept_then_hang_rate: f64,
}

impl PresswiseArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.presswise_port
    }
}

/// Serves Presswise as the binary's flags say.
pub async fn serve_cli(
    args: &PresswiseArgs,
    port: u16,
    common: &CommonArgs,
    faults: FaultConfig,
) -> Result<Served, SimError> {
    let defaults = PresswiseCredentials::default();
    let a = args.clone();
    let cfg = PresswiseConfig {
        port,
        seed: common.seed,
        orders: common.orders,
        users: common.customers,
        products: common.products.unwrap_or(200),
        first_order_id: a.presswise_first_order_id,
        base_time: common.base_millis()?,
        source_ids_from: a.presswise_source_ids_from,
        credentials: PresswiseCredentials {
            user: a.presswise_user.unwrap_or(defaults.user),
            pass: a.presswise_pass.unwrap_or(defaults.pass),
            code: a.presswise_code.unwrap_or(defaults.code),
        },
        faults,
        accept_then_hang_rate: a.presswise_accept_then_hang_rate,
        accept_then_hang_next: 0,
    };
    Ok(Served::new("presswise", spawn_presswise(cfg).await?))
}

fn check_rate(name: &str, r: f64) -> Result<(), SimError> {
    if (0.0..=1.0).contains(&r) {
        Ok(())
    } else {
        Err(SimError::InvalidFault(format!("{name}={r}")))
    }
}

impl PresswiseSim {
    /// Builds the state (generating the data) without serving it.
    pub fn new(cfg: PresswiseConfig) -> Result<PresswiseSim, SimError> {
        cfg.faults.validate()?;
        check_rate("accept_then_hang_rate", cfg.accept_then_hang_rate)?;
        if cfg.first_order_id == 0 {
            return Err(SimError::InvalidConfig("first order id must be > 0".into()));
        }
        if !(1..=10_000).contains(&cfg.products) {
            return Err(SimError::InvalidConfig("products must be 1..=10000".into()));
        }
        let data = PresswiseData::generate(&cfg, cfg.seed);
        Ok(PresswiseSim {
            core: SimCore::new(cfg.seed, cfg.faults.clone()),
            data: RwLock::new(data),
            hang: Mutex::new(HangState {
                config: AcceptThenHang {
                    rate: cfg.accept_then_hang_rate,
                    next: cfg.accept_then_hang_next,
                    hung: 0,
                },
                rng: StdRng::seed_from_u64(cfg.seed ^ 0x4A46_4A46),
            }),
            broken_status: Mutex::new(Default::default()),
            config: cfg,
        })
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, PresswiseData> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, PresswiseData> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The accepted credentials.
    pub fn credentials(&self) -> &PresswiseCredentials {
        &self.config.credentials
    }

    /// The configuration the simulator started with.
    pub fn config(&self) -> &PresswiseConfig {
        &self.config
    }

    /// The seed of the current data.
    pub fn seed(&self) -> u64 {
        self.read().seed
    }

    /// Counts of what the simulator holds.
    pub fn counts(&self) -> PresswiseCounts {
        let d = self.read();
        PresswiseCounts {
            orders: d.orders.len(),
            pushed_orders: d
                .orders
                .iter()
                .filter(|o| matches!(o.source, Source::Pushed(_)))
                .count(),
            items: d.orders.iter().map(|o| o.items.len()).sum(),
            users: d.users.len(),
            created_users: d.users.len() - d.seeded_users,
            products: d.products.len(),
            categories: d.categories.len(),
            duplicated_source_ids: d.by_source.values().filter(|v| v.len() > 1).count(),
        }
    }

    /// One order as inspection shows it (fields as received, status, items, shipments).
    pub fn order(&self, order_id: u64) -> Option<OrderView> {
        let d = self.read();
        d.order(order_id).map(|o| d.view(o))
    }

    /// Every order pushed through `add_purchase_order`, oldest first.
    pub fn pushed_orders(&self) -> Vec<OrderView> {
        let d = self.read();
        d.orders
            .iter()
            .filter(|o| matches!(o.source, Source::Pushed(_)))
            .map(|o| d.view(o))
            .collect()
    }

    /// The ids of the orders carrying this `sourceOrderID` (seeded or pushed), oldest first.
    pub fn orders_for_source(&self, source_order_id: &str) -> Vec<u64> {
        self.read().for_source(source_order_id).to_vec()
    }

    /// How many orders carry this `sourceOrderID`: more than 1 is a duplicate push.
    pub fn count_for_source(&self, source_order_id: &str) -> usize {
        self.read().for_source(source_order_id).len()
    }

    /// Every `sourceOrderID` held by more than one order, with the order ids, sorted by id.
    pub fn duplicate_sources(&self) -> Vec<(String, Vec<u64>)> {
        let d = self.read();
        let mut out: Vec<(String, Vec<u64>)> = d
            .by_source
            .iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        out.sort();
        out
    }

    /// Users created through `create_user`, oldest first.
    pub fn created_users(&self) -> Vec<User> {
        let d = self.read();
        d.users[d.seeded_users..].to_vec()
    }

    /// Sets an order's status (one of [`ORDER_STATUSES`]), as production would.
    pub fn set_order_status(&self, order_id: u64, status: &str) -> Result<(), SimError> {
        let s = order_status_index(status).ok_or_else(|| {
            SimError::InvalidConfig(format!(
                "unknown order status `{status}` (one of: {})",
                ORDER_STATUSES.join(", ")
            ))
        })?;
        let mut d = self.write();
        let stamp = d.change_stamp();
        let o = d
            .order_mut(order_id)
            .ok_or(SimError::UnknownOrder(order_id))?;
        o.status = s;
        o.status_date = stamp;
        o.modified = stamp;
        Ok(())
    }

    /// Sets an item's status (one of [`ITEM_STATUSES`]); `item` is a position (`1`) or an
    /// item id.
    pub fn set_item_status(&self, order_id: u64, item: &str, status: &str) -> Result<(), SimError> {
        self.change_item(order_id, item, Some(status), None)
    }

    /// Attaches a shipment to an item and sets it to `Shipped`; an empty `ship_date` means now.
    pub fn set_item_shipment(
        &self,
        order_id: u64,
        item: &str,
        shipment: Shipment,
    ) -> Result<(), SimError> {
        self.change_item(order_id, item, None, Some(shipment))
    }

    /// Changes an item's status and/or shipment (a shipment without status means `Shipped`).
    pub fn change_item(
        &self,
        order_id: u64,
        item: &str,
        status: Option<&str>,
        shipment: Option<Shipment>,
    ) -> Result<(), SimError> {
        let status = match status {
            Some(s) => Some(item_status_index(s).ok_or_else(|| {
                SimError::InvalidConfig(format!(
                    "unknown item status `{s}` (one of: {})",
                    ITEM_STATUSES.join(", ")
                ))
            })?),
            None => shipment.as_ref().map(|_| ITEM_SHIPPED),
        };
        if let Some(s) = &shipment {
            if s.carrier.trim().is_empty() || s.tracking_number.trim().is_empty() {
                return Err(SimError::InvalidConfig(
                    "a shipment needs carrier and trackingNumber".into(),
                ));
            }
            if !s.ship_date.trim().is_empty() && parse_timestamp(&s.ship_date).is_none() {
                return Err(SimError::InvalidConfig(format!(
                    "shipDate `{}` is not a date",
                    s.ship_date
                )));
            }
        }
        let mut d = self.write();
        let stamp = d.change_stamp();
        let o = d
            .order_mut(order_id)
            .ok_or(SimError::UnknownOrder(order_id))?;
        let k = PresswiseData::item_index(o, item).ok_or_else(|| SimError::UnknownOrderItem {
            order: order_id,
            item: item.to_owned(),
        })?;
        let it = &mut o.items[k];
        if let Some(s) = status {
            it.status = s;
            it.status_date = stamp;
        }
        if let Some(mut s) = shipment {
            if s.ship_date.trim().is_empty() {
                s.ship_date = mysql_datetime(stamp);
            } else if let Some(t) = parse_timestamp(&s.ship_date) {
                s.ship_date = mysql_datetime(t);
            }
            it.shipment = Some(Box::new(s));
        }
        o.modified = stamp;
        Ok(())
    }

    /// The accept-then-hang fault setting and how many writes it has hung.
    pub fn accept_then_hang(&self) -> AcceptThenHang {
        lock(&self.hang).config.clone()
    }

    /// Sets the accept-then-hang fault (`hung` is kept).
    pub fn set_accept_then_hang(&self, rate: f64, next: u32) -> Result<(), SimError> {
        check_rate("accept_then_hang_rate", rate)?;
        let mut h = lock(&self.hang);
        h.config.rate = rate;
        h.config.next = next;
        Ok(())
    }

    /// Decides whether a write just applied is left unanswered.
    pub(crate) fn hang_after_write(&self) -> bool {
        let mut h = lock(&self.hang);
        let roll: f64 = h.rng.random();
        let hang = if h.config.next > 0 {
            h.config.next -= 1;
            true
        } else {
            roll < h.config.rate
        };
        if hang {
            h.config.hung += 1;
        }
        hang
    }

    /// From now on, every `get_order_status` answer for `order_id` is a 200 whose SOAP
    /// envelope is cut in half; `false` heals it.
    pub fn break_status_of(&self, order_id: u64, broken: bool) {
        let mut set = lock(&self.broken_status);
        if broken {
            set.insert(order_id);
        } else {
            set.remove(&order_id);
        }
    }

    /// Whether the status answer of `order_id` is broken (see [`Self::break_status_of`]).
    pub(crate) fn status_is_broken(&self, order_id: u64) -> bool {
        lock(&self.broken_status).contains(&order_id)
    }

    /// Requests seen for an endpoint key, e.g. `POST /r/wsdl-order2.php add_purchase_order`.
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

    /// Regenerates the data (with `seed`, or the configured one); forgets pushed orders,
    /// created users, counters and faults (the accept-then-hang fault back to its config).
    pub fn reset(&self, seed: Option<u64>) {
        let seed = seed.unwrap_or(self.config.seed);
        *self.write() = PresswiseData::generate(&self.config, seed);
        *lock(&self.hang) = HangState {
            config: AcceptThenHang {
                rate: self.config.accept_then_hang_rate,
                next: self.config.accept_then_hang_next,
                hung: 0,
            },
            rng: StdRng::seed_from_u64(seed ^ 0x4A46_4A46),
        };
        self.core.reset();
    }

    /// Writes every order (as inspection shows it) as JSON lines: for comparing data sets.
    pub fn write_orders_json(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        let d = self.read();
        for o in &d.orders {
            serde_json::to_writer(&mut out, &d.view(o))?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The catalogue: categories and products.
    pub fn catalogue(&self) -> (Vec<Category>, Vec<Product>) {
        let d = self.read();
        (d.categories.clone(), d.products.clone())
    }

    /// Changes a catalogue product's name and price (as someone editing it in Presswise
    /// would): its `modified` moves on, so a catalogue sync sees it changed.
    pub fn change_product(
        &self,
        product_id: u64,
        name: &str,
        price_cents: i64,
    ) -> Result<(), SimError> {
        let mut d = self.write();
        let stamp = d.change_stamp();
        let p = d
            .products
            .iter_mut()
            .find(|p| p.product_id == product_id)
            .ok_or(SimError::UnknownProduct(product_id))?;
        p.name = name.to_string();
        p.price_cents = price_cents;
        p.modified = stamp;
        Ok(())
    }

    /// Every user (seeded, then created).
    pub fn users(&self) -> Vec<User> {
        self.read().users.clone()
    }
}
