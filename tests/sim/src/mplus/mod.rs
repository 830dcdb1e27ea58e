//! The MplusKASSA simulator: SOAP 1.1 (`urn:mplusqapi`) on one endpoint, as the vendored WSDL
//! (`tests/sim/reference/mpluskassa/mplusqapi.wsdl`) describes it. See `README.md` here.

mod api;
pub mod generator;
pub mod model;
pub mod soap;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::{Deserialize, Serialize};

use crate::cli::{CommonArgs, Served};
use crate::clock::{next_change_stamp, Millis, DEFAULT_BASE_TIME};
use crate::core::{RunningSim, SimCore, Simulator};
use crate::{FaultConfig, SimError};
use model::*;

/// The operations the simulator serves, as the WSDL names them (`portType` operations).
pub const OPERATIONS: &[&str] = &[
    "getProducts",
    "getArticleGroups",
    "getRelations",
    "createRelation",
    "updateRelation",
    "getOrders",
    "getOrderChanges",
    "createOrderV3",
    "updateOrder",
    "getStock",
    "updateStock",
    "setStock",
    "getCurrentSyncMarkers",
];

/// The largest `syncMarkerLimit` honoured; larger values are cut to it (our choice).
pub const MAX_SYNC_LIMIT: usize = 1000;

/// How to start an MplusKASSA simulator.
#[derive(Clone, Debug)]
pub struct MplusConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of the data (and of fault decisions).
    pub seed: u64,
    /// Number of generated orders.
    pub orders: usize,
    /// Number of relations; `None` = orders / 4, between 20 and 10,000.
    pub relations: Option<usize>,
    /// Number of products; `None` = 200 (at most 10,000).
    pub products: Option<usize>,
    /// Date of the first generated order.
    pub base_time: Millis,
    /// The accepted `ident` query parameter.
    pub ident: String,
    /// The accepted `secret` query parameter.
    pub secret: String,
    /// Faults from the start.
    pub faults: FaultConfig,
}

impl Default for MplusConfig {
    fn default() -> Self {
        MplusConfig {
            port: 0,
            seed: 42,
            orders: 1000,
            relations: None,
            products: None,
            base_time: DEFAULT_BASE_TIME,
            ident: "switchyard".into(),
            secret: "mplus-secret".into(),
            faults: FaultConfig::default(),
        }
    }
}

/// Counts of what the simulator holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MplusCounts {
    /// Products.
    pub products: usize,
    /// Articles (variants) over all products.
    pub articles: usize,
    /// Article groups.
    pub article_groups: usize,
    /// Relations.
    pub relations: usize,
    /// Orders.
    pub orders: usize,
    /// Stock records (branch × stock article).
    pub stock_records: usize,
    /// Orders created through `createOrderV3`.
    pub orders_created: usize,
    /// Relations created through `createRelation`.
    pub relations_created: usize,
    /// Idempotency keys remembered.
    pub idempotency_keys: usize,
}

/// The current value of every change feed, as `getCurrentSyncMarkers` reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncMarkers {
    /// `articleSyncMarker` (products and articles).
    pub article: i64,
    /// `articleGroupSyncMarker`.
    pub article_group: i64,
    /// `relationSyncMarker`.
    pub relation: i64,
    /// `orderSyncMarker` (orders and order changes).
    pub order: i64,
    /// `stockId`.
    pub stock_id: i64,
}

/// The first answer to a `createOrderV3`, replayed for a repeated `idempotencyKey`.
#[derive(Clone, Debug)]
pub(crate) struct CreateAnswer {
    pub result: &'static str,
    pub order: Option<usize>,
    pub error: Option<String>,
}

pub(crate) struct MplusData {
    pub seed: u64,
    pub branches: Vec<Branch>,
    pub employees: Vec<(i64, String)>,
    pub groups: Vec<ArticleGroup>,
    pub products: Vec<Product>,
    /// articleNumber → (product index, article index).
    pub article_index: HashMap<i64, (usize, usize)>,
    pub relations: Vec<Relation>,
    pub relation_index: HashMap<i64, usize>,
    pub orders: Vec<Order>,
    pub order_index: HashMap<String, usize>,
    pub ext_order_index: HashMap<String, usize>,
    pub stock: HashMap<(i32, i64), Stock>,
    pub markers: SyncMarkers,
    /// Feeds: syncMarker → index, one entry per record (its latest change).
    pub product_feed: BTreeMap<i64, usize>,
    pub group_feed: BTreeMap<i64, usize>,
    pub relation_feed: BTreeMap<i64, usize>,
    pub order_feed: BTreeMap<i64, usize>,
    /// Every order change (creation included), by its marker.
    pub order_changes: BTreeMap<i64, OrderChangeRecord>,
    /// stockId → (branch, article) of the latest change of that record.
    pub stock_feed: BTreeMap<i64, (i32, i64)>,
    pub idempotency: HashMap<String, CreateAnswer>,
    pub latest: Millis,
    pub orders_created: usize,
    pub relations_created: usize,
    pub next_relation: i64,
    /// The next `orderNumber.number` per year.
    pub next_order_number: HashMap<i32, i64>,
}

impl MplusData {
    fn generate(cfg: &MplusConfig, seed: u64) -> MplusData {
        let relation_count = cfg
            .relations
            .unwrap_or((cfg.orders / 4).clamp(20, 10_000))
            .max(1);
        let product_count = cfg.products.unwrap_or(200).clamp(1, 10_000);
        let branches = generator::branches();
        let employees = generator::employees();
        let mut groups = generator::article_groups();
        let mut products = generator::products(seed, product_count, &groups, cfg.base_time);
        let mut relations = generator::relations(seed, relation_count, cfg.base_time);
        let mut orders = generator::orders(
            &generator::OrderContext {
                seed,
                products: &products,
                relations: &relations,
                employees: &employees,
                base_time: cfg.base_time,
            },
            cfg.orders,
        );
        let stock_list = generator::stock(seed, &products, &branches);
        let mut m = SyncMarkers::default();
        let mut group_feed = BTreeMap::new();
        for (i, g) in groups.iter_mut().enumerate() {
            m.article_group += 1;
            g.marker = m.article_group;
            group_feed.insert(g.marker, i);
        }
        let mut product_feed = BTreeMap::new();
        let mut article_index = HashMap::new();
        for (i, p) in products.iter_mut().enumerate() {
            for (k, a) in p.articles.iter_mut().enumerate() {
                m.article += 1;
                a.marker = m.article;
                article_index.insert(a.number, (i, k));
            }
            p.marker = m.article;
            product_feed.insert(p.marker, i);
        }
        let mut relation_feed = BTreeMap::new();
        let mut relation_index = HashMap::new();
        for (i, r) in relations.iter_mut().enumerate() {
            m.relation += 1;
            r.marker = m.relation;
            relation_feed.insert(r.marker, i);
            relation_index.insert(r.number, i);
        }
        let mut order_feed = BTreeMap::new();
        let mut order_changes = BTreeMap::new();
        let mut order_index = HashMap::with_capacity(orders.len());
        let mut ext_order_index = HashMap::new();
        let mut latest = cfg.base_time;
        for (i, o) in orders.iter_mut().enumerate() {
            m.order += 1;
            o.marker = m.order;
            order_index.insert(o.id.clone(), i);
            if let Some(e) = &o.ext_id {
                ext_order_index.insert(e.clone(), i);
            }
            latest = latest.max(o.entry);
            // The feed shows the creation; completed states and payments came later, as
            // separate changes, on every seventh order.
            let final_state = o.snapshot();
            if i % 7 == 3 {
                let mut first = final_state.clone();
                first.delivery = Progress::Nothing;
                first.complete = Progress::Nothing;
                first.cancel = Progress::Nothing;
                order_changes.insert(
                    o.marker,
                    OrderChangeRecord {
                        order: i,
                        old: None,
                        new: first.clone(),
                        change_counter: 0,
                        version: 1,
                    },
                );
                m.order += 1;
                o.marker = m.order;
                o.change_counter = 1;
                o.version = 2;
                order_changes.insert(
                    o.marker,
                    OrderChangeRecord {
                        order: i,
                        old: Some(first),
                        new: final_state,
                        change_counter: 1,
                        version: 2,
                    },
                );
            } else {
                order_changes.insert(
                    o.marker,
                    OrderChangeRecord {
                        order: i,
                        old: None,
                        new: final_state,
                        change_counter: 0,
                        version: 1,
                    },
                );
            }
            order_feed.insert(o.marker, i);
        }
        let mut stock = HashMap::with_capacity(stock_list.len());
        let mut stock_feed = BTreeMap::new();
        for (b, a, mut s) in stock_list {
            m.stock_id += 1;
            s.stock_id = m.stock_id;
            stock_feed.insert(s.stock_id, (b, a));
            stock.insert((b, a), s);
        }
        let next_relation = relations.last().map_or(1001, |r| r.number + 1);
        let mut next_order_number: HashMap<i32, i64> = HashMap::new();
        for o in &orders {
            let n = next_order_number.entry(o.year).or_insert(1);
            *n = (*n).max(o.number + 1);
        }
        MplusData {
            seed,
            branches,
            employees,
            groups,
            products,
            article_index,
            relations,
            relation_index,
            orders,
            order_index,
            ext_order_index,
            stock,
            markers: m,
            product_feed,
            group_feed,
            relation_feed,
            order_feed,
            order_changes,
            stock_feed,
            idempotency: HashMap::new(),
            latest,
            orders_created: 0,
            relations_created: 0,
            next_relation,
            next_order_number,
        }
    }

    /// Hands out the timestamp of a change made now.
    pub fn change_stamp(&mut self) -> Millis {
        self.latest = next_change_stamp(self.latest);
        self.latest
    }

    pub fn article(&self, number: i64) -> Option<&Article> {
        let (p, a) = *self.article_index.get(&number)?;
        self.products.get(p)?.articles.get(a)
    }

    /// Records a change of relation `i` in the relation feed.
    pub fn touch_relation(&mut self, i: usize) -> (i64, Millis) {
        let stamp = self.change_stamp();
        self.markers.relation += 1;
        let marker = self.markers.relation;
        let r = &mut self.relations[i];
        self.relation_feed.remove(&r.marker);
        r.marker = marker;
        r.changed = stamp;
        self.relation_feed.insert(marker, i);
        (marker, stamp)
    }

    /// Records a change of order `i` (its header values before the change are `old`).
    pub fn touch_order(&mut self, i: usize, old: Option<OrderSnapshot>) -> i64 {
        self.markers.order += 1;
        let marker = self.markers.order;
        let o = &mut self.orders[i];
        self.order_feed.remove(&o.marker);
        o.marker = marker;
        if old.is_some() {
            o.change_counter += 1;
            o.version += 1;
        }
        self.order_feed.insert(marker, i);
        let rec = OrderChangeRecord {
            order: i,
            old,
            new: o.snapshot(),
            change_counter: o.change_counter,
            version: o.version,
        };
        self.order_changes.insert(marker, rec);
        marker
    }

    /// Changes stock in thousandths (`set` replaces `free`, else adds); answers the stockId.
    pub fn change_stock(&mut self, branch: i32, article: i64, change: StockChange) -> i64 {
        let stamp = self.change_stamp();
        self.markers.stock_id += 1;
        let id = self.markers.stock_id;
        let s = self.stock.entry((branch, article)).or_default();
        self.stock_feed.remove(&s.stock_id);
        match change {
            StockChange::SetFree(v) => s.free = v,
            StockChange::AddFree(v) => s.free += v,
            StockChange::AddReserved(v) => s.reserved += v,
        }
        s.stock_id = id;
        s.changed = stamp;
        self.stock_feed.insert(id, (branch, article));
        id
    }

    /// Bumps a product's marker after one of its articles changed.
    pub fn touch_article(&mut self, number: i64) -> Option<i64> {
        let (p, a) = *self.article_index.get(&number)?;
        let stamp = self.change_stamp();
        self.markers.article += 1;
        let marker = self.markers.article;
        let product = &mut self.products[p];
        self.product_feed.remove(&product.marker);
        product.marker = marker;
        product.articles[a].marker = marker;
        product.articles[a].changed = stamp;
        self.product_feed.insert(marker, p);
        Some(marker)
    }
}

/// A stock change.
#[derive(Clone, Copy, Debug)]
pub(crate) enum StockChange {
    SetFree(i64),
    AddFree(i64),
    AddReserved(i64),
}

/// What a control-API or test touch changes on an order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderTouch {
    /// Unpaid → paid in full; else not delivered → delivered; else the reference.
    #[default]
    Auto,
    /// Add a payment for what is still open.
    Payment,
    /// Deliver every line.
    Deliver,
    /// Cancel every line.
    Cancel,
    /// Change the reference text only.
    Reference,
}

/// The MplusKASSA simulator's state handle (what [`RunningSim`] dereferences to).
pub struct MplusSim {
    config: MplusConfig,
    core: SimCore,
    data: RwLock<MplusData>,
}

impl Simulator for MplusSim {
    const BASE_PATH: &'static str = "/";
    fn core(&self) -> &SimCore {
        &self.core
    }
}

/// Starts an MplusKASSA simulator on 127.0.0.1 (`cfg.port`, 0 = ephemeral). The SOAP endpoint
/// is `POST /?ident=…&secret=…` (the WSDL's `soap:address` is `http://127.0.0.1:18083/`).
pub async fn spawn_mplus(cfg: MplusConfig) -> Result<RunningSim<MplusSim>, SimError> {
    let port = cfg.port;
    let sim = Arc::new(MplusSim::new(cfg)?);
    let router = api::router(sim.clone());
    RunningSim::serve(sim, port, router).await
}

/// `switchyard-sim` flags of the MplusKASSA simulator.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "MplusKASSA (SOAP 1.1, urn:mplusqapi, at /)")]
pub struct MplusArgs {
    /// Serve MplusKASSA on this port (0 = ephemeral; the WSDL's address uses 18083).
    #[arg(long)]
    pub mplus_port: Option<u16>,
    /// Accepted `ident` query parameter.
    #[arg(long)]
    pub mplus_ident: Option<String>,
    /// Accepted `secret` query parameter.
    #[arg(long)]
    pub mplus_secret: Option<String>,
}

impl MplusArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.mplus_port
    }
}

/// Serves MplusKASSA as the binary's flags say.
pub async fn serve_cli(
    args: &MplusArgs,
    port: u16,
    common: &CommonArgs,
    faults: FaultConfig,
) -> Result<Served, SimError> {
    let d = MplusConfig::default();
    let cfg = MplusConfig {
        port,
        seed: common.seed,
        orders: common.orders,
        relations: common.customers,
        products: common.products,
        base_time: common.base_millis()?,
        ident: args.mplus_ident.clone().unwrap_or(d.ident),
        secret: args.mplus_secret.clone().unwrap_or(d.secret),
        faults,
    };
    Ok(Served::new("mplus", spawn_mplus(cfg).await?))
}

/// A relation as tests inspect it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RelationView {
    /// `relationNumber`.
    pub number: i64,
    /// `name`.
    pub name: String,
    /// `companyName`.
    pub company_name: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `syncMarker`.
    pub sync_marker: i64,
}

/// An order as tests inspect it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderView {
    /// `orderId`.
    pub order_id: String,
    /// `extOrderId`.
    pub ext_order_id: Option<String>,
    /// `relationNumber`.
    pub relation_number: i64,
    /// `employeeNumber`.
    pub employee_number: i64,
    /// `totalInclAmount`, cents.
    pub total_incl: i64,
    /// Line count.
    pub lines: usize,
    /// `syncMarker`.
    pub sync_marker: i64,
    /// `changeCounter`.
    pub change_counter: i32,
}

/// Stock of one article in one branch, in units (decimals as `f64` for inspection only).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StockView {
    /// `amountFree`.
    pub free: f64,
    /// `amountReserved`.
    pub reserved: f64,
    /// `amountIncoming`.
    pub incoming: f64,
    /// `stockId`.
    pub stock_id: i64,
}

impl MplusSim {
    /// Builds the state (generating the data) without serving it.
    pub fn new(cfg: MplusConfig) -> Result<MplusSim, SimError> {
        cfg.faults.validate()?;
        if cfg.ident.is_empty() || cfg.secret.is_empty() {
            return Err(SimError::InvalidConfig(
                "mplus ident and secret must not be empty".into(),
            ));
        }
        let data = MplusData::generate(&cfg, cfg.seed);
        Ok(MplusSim {
            core: SimCore::new(cfg.seed, cfg.faults.clone()),
            data: RwLock::new(data),
            config: cfg,
        })
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, MplusData> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, MplusData> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The configuration the simulator started with.
    pub fn config(&self) -> &MplusConfig {
        &self.config
    }

    /// The query string a client appends to the endpoint: `ident=…&secret=…`.
    pub fn credentials_query(&self) -> String {
        format!("ident={}&secret={}", self.config.ident, self.config.secret)
    }

    /// The seed of the current data.
    pub fn seed(&self) -> u64 {
        self.read().seed
    }

    /// Counts of what the simulator holds.
    pub fn counts(&self) -> MplusCounts {
        let d = self.read();
        MplusCounts {
            products: d.products.len(),
            articles: d.article_index.len(),
            article_groups: d.groups.len(),
            relations: d.relations.len(),
            orders: d.orders.len(),
            stock_records: d.stock.len(),
            orders_created: d.orders_created,
            relations_created: d.relations_created,
            idempotency_keys: d.idempotency.len(),
        }
    }

    /// The current sync markers.
    pub fn sync_markers(&self) -> SyncMarkers {
        self.read().markers
    }

    /// Relations whose e-mail equals `email` after trimming, case-insensitively.
    pub fn relations_by_email(&self, email: &str) -> Vec<RelationView> {
        let want = email.trim().to_lowercase();
        let d = self.read();
        d.relations
            .iter()
            .filter(|r| {
                r.email
                    .as_deref()
                    .is_some_and(|e| e.trim().to_lowercase() == want)
            })
            .map(relation_view)
            .collect()
    }

    /// One relation by number.
    pub fn relation(&self, number: i64) -> Option<RelationView> {
        let d = self.read();
        d.relation_index
            .get(&number)
            .map(|&i| relation_view(&d.relations[i]))
    }

    /// One order by `orderId`.
    pub fn order(&self, order_id: &str) -> Option<OrderView> {
        let d = self.read();
        d.order_index
            .get(order_id)
            .map(|&i| order_view(&d.orders[i]))
    }

    /// One order by `extOrderId`.
    pub fn order_by_ext_id(&self, ext_id: &str) -> Option<OrderView> {
        let d = self.read();
        d.ext_order_index
            .get(ext_id)
            .map(|&i| order_view(&d.orders[i]))
    }

    /// Every `orderId`, in creation order.
    pub fn order_ids(&self) -> Vec<String> {
        self.read().orders.iter().map(|o| o.id.clone()).collect()
    }

    /// Article numbers of every article, in product order.
    pub fn article_numbers(&self) -> Vec<i64> {
        self.read()
            .products
            .iter()
            .flat_map(|p| p.articles.iter().map(|a| a.number))
            .collect()
    }

    /// Article numbers of stock articles.
    pub fn stock_article_numbers(&self) -> Vec<i64> {
        self.read()
            .products
            .iter()
            .flat_map(|p| {
                p.articles
                    .iter()
                    .filter(|a| a.stock_article)
                    .map(|a| a.number)
            })
            .collect()
    }

    /// Stock of an article in a branch.
    pub fn stock(&self, branch: i32, article: i64) -> Option<StockView> {
        let d = self.read();
        let s = d.stock.get(&(branch, article))?;
        let units = |v: i64| v as f64 / QTY_ONE as f64;
        Some(StockView {
            free: units(s.free),
            reserved: units(s.reserved),
            incoming: units(s.incoming),
            stock_id: s.stock_id,
        })
    }

    /// Changes an order as a cashier would (see [`OrderTouch`]); answers its new syncMarker.
    pub fn touch_order(&self, order_id: &str, touch: OrderTouch) -> Result<i64, SimError> {
        let mut d = self.write();
        let i = *d
            .order_index
            .get(order_id)
            .ok_or_else(|| SimError::InvalidConfig(format!("unknown order {order_id}")))?;
        let stamp = d.change_stamp();
        let seed = d.seed;
        let old = d.orders[i].snapshot();
        let o = &mut d.orders[i];
        let touch = match touch {
            OrderTouch::Auto if !o.fully_paid() => OrderTouch::Payment,
            OrderTouch::Auto if o.delivery != Progress::Complete => OrderTouch::Deliver,
            OrderTouch::Auto => OrderTouch::Reference,
            t => t,
        };
        match touch {
            OrderTouch::Payment => {
                let open = o.total_incl() - o.prepaid();
                if open > 0 {
                    let n = o.payments.len() as u64;
                    o.payments.push(Payment {
                        id: generator::guid(seed, 7, stamp as u64 ^ n),
                        method: o.payment_method.clone().unwrap_or_else(|| "PIN".into()),
                        amount: open,
                        at: stamp,
                    });
                }
            }
            OrderTouch::Deliver => {
                for l in &mut o.lines {
                    l.delivered = l.quantity - l.cancelled;
                }
                o.delivery = Progress::Complete;
                o.complete = Progress::Complete;
            }
            OrderTouch::Cancel => {
                for l in &mut o.lines {
                    l.cancelled = l.quantity - l.delivered;
                }
                o.cancel = Progress::Complete;
                o.complete = Progress::Complete;
            }
            OrderTouch::Reference | OrderTouch::Auto => {
                o.reference = Some(format!("REF-{}", o.change_counter + 1));
            }
        }
        Ok(d.touch_order(i, Some(old)))
    }

    /// Changes an article's price including VAT (cents); bumps the article feed.
    pub fn set_article_price(&self, article: i64, price_incl: i64) -> Result<i64, SimError> {
        let mut d = self.write();
        let &(p, a) = d
            .article_index
            .get(&article)
            .ok_or_else(|| SimError::InvalidConfig(format!("unknown article {article}")))?;
        let art = &mut d.products[p].articles[a];
        art.price_incl = price_incl;
        art.price_excl = generator::excl(price_incl, art.vat_percentage);
        d.touch_article(article)
            .ok_or_else(|| SimError::InvalidConfig(format!("unknown article {article}")))
    }

    /// Requests seen for an operation key, e.g. `getProducts`.
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

    /// Regenerates the data (with `seed`, or the configured one), forgets idempotency keys,
    /// counters and faults.
    pub fn reset(&self, seed: Option<u64>) {
        let seed = seed.unwrap_or(self.config.seed);
        *self.write() = MplusData::generate(&self.config, seed);
        self.core.reset();
    }

    /// The SOAP answer body of an operation, computed without HTTP, faults or auth: for
    /// comparing data sets and for conformance checks.
    pub fn answer(&self, request_xml: &str) -> String {
        api::answer_xml(self, request_xml.as_bytes()).1
    }
}

fn relation_view(r: &Relation) -> RelationView {
    RelationView {
        number: r.number,
        name: r.name.clone(),
        company_name: r.company_name.clone(),
        email: r.email.clone(),
        sync_marker: r.marker,
    }
}

fn order_view(o: &Order) -> OrderView {
    OrderView {
        order_id: o.id.clone(),
        ext_order_id: o.ext_id.clone(),
        relation_number: o.relation,
        employee_number: o.employee,
        total_incl: o.total_incl(),
        lines: o.lines.len(),
        sync_marker: o.marker,
        change_counter: o.change_counter,
    }
}
