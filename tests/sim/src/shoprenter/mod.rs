//! The Shoprenter simulator: the shop REST API (Basic auth, JSON or XML, 0-based pages with
//! links, opaque base64 ids, `/batch`, 3 requests/s per shop) over seeded shop data. Facts and
//! choices are in this module's `README.md`.

mod api;
pub mod generator;
pub mod model;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::cli::{CommonArgs, Served};
use crate::clock::{now_millis, Millis, DEFAULT_BASE_TIME};
use crate::core::{lock, RunningSim, SimCore, Simulator};
use crate::{FaultConfig, SimError};
use generator::GenData;
use model::{decode_id, encode_id, id_number, link_target, Kind, Row, Src, Table};

/// The partial-batch-failure fault: a share of `/batch` sub-requests fail on their own while
/// the batch still answers 200.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchFaults {
    /// Share of sub-requests that fail (0.0..=1.0), drawn from a seeded generator.
    pub rate: f64,
    /// Fail exactly the next N sub-requests.
    pub next: u32,
    /// The status of a failed sub-request (5xx or 4xx; 500 by default).
    pub status: u16,
}

impl Default for BatchFaults {
    fn default() -> Self {
        BatchFaults {
            rate: 0.0,
            next: 0,
            status: 500,
        }
    }
}

impl BatchFaults {
    fn validate(&self) -> Result<(), SimError> {
        if !(0.0..=1.0).contains(&self.rate) || !(400..=599).contains(&self.status) {
            return Err(SimError::InvalidFault(format!(
                "batch rate={} status={}",
                self.rate, self.status
            )));
        }
        Ok(())
    }
}

/// How to start a Shoprenter simulator.
#[derive(Clone, Debug)]
pub struct ShoprenterConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of the data (and of fault decisions).
    pub seed: u64,
    /// Generated orders.
    pub orders: usize,
    /// Generated customers; `None` = orders / 4 within 20..=10,000.
    pub customers: Option<usize>,
    /// Generated products; `None` = 200 (at most 10,000).
    pub products: Option<usize>,
    /// Date of the first order (UTC milliseconds).
    pub base_time: Millis,
    /// The shop's offset from UTC in minutes: timestamps are served and filtered in shop-local
    /// time without a zone (default +60, Budapest winter time; no daylight saving).
    pub utc_offset_minutes: i32,
    /// Basic auth user name.
    pub user: String,
    /// Basic auth password (the API key).
    pub api_key: String,
    /// Requests per second per shop credential before 429 (0 = no limit).
    pub rate_limit: u32,
    /// Faults from the start.
    pub faults: FaultConfig,
    /// Partial batch failures from the start.
    pub batch_faults: BatchFaults,
}

impl Default for ShoprenterConfig {
    fn default() -> Self {
        ShoprenterConfig {
            port: 0,
            seed: 42,
            orders: 1000,
            customers: None,
            products: None,
            base_time: DEFAULT_BASE_TIME,
            utc_offset_minutes: 60,
            user: "apiuser".into(),
            api_key: "0123456789abcdef0123456789abcdef".into(),
            rate_limit: 3,
            faults: FaultConfig::default(),
            batch_faults: BatchFaults::default(),
        }
    }
}

/// Counts of records held (deleted ones excluded).
pub type ShoprenterCounts = std::collections::BTreeMap<String, usize>;

pub(crate) struct ShopData {
    pub seed: u64,
    pub gen: GenData,
    pub tables: Vec<Table>,
    /// Latest shop-local stamp handed out.
    pub latest: Millis,
    /// Records written through the API (POST, PUT, DELETE), by kind path.
    pub writes: HashMap<&'static str, u64>,
}

/// Formats a shop-local stamp as `2019-09-06T15:47:59`.
pub fn local_text(ms: Millis) -> String {
    crate::clock::to_datetime(ms)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

fn local_text_space(ms: Millis) -> String {
    crate::clock::to_datetime(ms)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Child collections linked from a record.
fn child_links(kind: Kind, id: &str) -> Vec<(&'static str, String)> {
    let q = |path: &str, param: &str| format!("/{path}?{param}={id}");
    match kind {
        Kind::Order => vec![
            ("orderTotals", q("orderTotals", "orderId")),
            ("orderProducts", q("orderProducts", "orderId")),
            ("orderGiftWrappings", q("orderGiftWrappings", "orderId")),
            ("orderProductAddons", q("orderProductAddons", "orderId")),
        ],
        Kind::OrderStatus => vec![(
            "orderStatusDescriptions",
            q("orderStatusDescriptions", "orderStatusId"),
        )],
        Kind::OrderProduct => vec![(
            "orderProductOptions",
            q("orderProductOptions", "orderProductId"),
        )],
        Kind::Customer => vec![
            ("addresses", q("addresses", "customerId")),
            ("loyaltyPoints", q("loyaltyPoints", "customerId")),
        ],
        Kind::Category => vec![
            (
                "categoryDescriptions",
                q("categoryDescriptions", "categoryId"),
            ),
            ("customerGroups", format!("/categories/{id}/customerGroups")),
            (
                "categoryCustomerGroupRelations",
                q("categoryCustomerGroupRelations", "categoryId"),
            ),
        ],
        Kind::Coupon => vec![("couponDescriptions", q("couponDescriptions", "couponId"))],
        Kind::Product => {
            let mut v: Vec<(&'static str, String)> = [
                "productDescriptions",
                "productRelatedProductRelations",
                "productCategoryRelations",
                "productSpecials",
                "productProductBadgeRelations",
                "productListAttributeValueRelations",
                "numberAttributeValues",
                "textAttributeValues",
                "productTags",
                "productCollateralProductRelations",
                "customerGroupProductPrices",
                "productAddonProductRelations",
            ]
            .into_iter()
            .map(|p| (p, q(p, "productId")))
            .collect();
            v.push(("relatedProducts", format!("/products/{id}/relatedProducts")));
            v.push((
                "collateralProducts",
                format!("/products/{id}/collateralProducts"),
            ));
            v.push((
                "productAddons",
                format!("/productExtend/{id}/productAddons"),
            ));
            v.push((
                "productAddonRelations",
                q("productAddonRelations", "productId"),
            ));
            v
        }
        _ => Vec::new(),
    }
}

/// Fields the reference shows as `{}` when empty (a PHP XML-to-JSON artefact of the real API).
fn empty_as_object(kind: Kind, field: &str) -> bool {
    matches!(
        (kind, field),
        (Kind::OrderProduct, "modelNumber")
            | (Kind::OrderTotal, "key" | "description")
            | (Kind::Customer, "fax")
            | (Kind::Coupon, "email")
            | (Kind::Product, "loyaltyPoints")
            | (Kind::Category, "groupCode")
    )
}

/// Makes relative hrefs absolute.
fn absolutize(v: &mut Value, base: &str) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(h)) = m.get_mut("href") {
                if h.starts_with('/') {
                    *h = format!("{base}{h}");
                }
            }
            for (_, x) in m.iter_mut() {
                absolutize(x, base);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| absolutize(x, base)),
        _ => {}
    }
}

/// The inner id a link value points to (`{"href": "…/orders/b3Jk…"}` → 172).
fn link_number(v: Option<&Value>) -> Option<u32> {
    let href = v?.get("href")?.as_str()?;
    id_number(href.rsplit('/').next()?)
}

impl ShopData {
    fn generate(cfg: &ShoprenterConfig, seed: u64) -> ShopData {
        let sizes = generator::Sizes {
            orders: cfg.orders,
            customers: cfg
                .customers
                .unwrap_or((cfg.orders / 4).clamp(20, 10_000))
                .max(1),
            products: cfg.products.unwrap_or(200).clamp(1, 10_000),
        };
        let base = cfg.base_time + i64::from(cfg.utc_offset_minutes) * 60_000;
        let (gen, tables) = generator::generate(seed, &sizes, base);
        let latest = tables
            .iter()
            .flat_map(|t| t.rows.iter().map(|r| r.updated))
            .max()
            .unwrap_or(base);
        ShopData {
            seed,
            gen,
            tables,
            latest,
            writes: HashMap::new(),
        }
    }

    pub fn table(&self, kind: Kind) -> &Table {
        &self.tables[kind.index()]
    }

    pub fn table_mut(&mut self, kind: Kind) -> &mut Table {
        &mut self.tables[kind.index()]
    }

    /// A shop-local stamp for a change made now, after everything handed out so far.
    pub fn change_stamp(&mut self, offset_minutes: i32) -> Millis {
        let now = now_millis() + i64::from(offset_minutes) * 60_000;
        // Whole seconds: the API shows seconds only, and a later change must show later.
        let now = now - now.rem_euclid(1000);
        self.latest = now.max(self.latest - self.latest.rem_euclid(1000) + 1000);
        self.latest
    }

    /// A record as the API shows it, with absolute links under `base`.
    pub fn record(&self, kind: Kind, pos: usize, base: &str) -> Value {
        let table = self.table(kind);
        let row = &table.rows[pos];
        let schema = kind.schema();
        let id = table.id_of(kind, pos);
        let mut m = Map::new();
        m.insert("href".into(), json!(format!("/{}/{id}", kind.path())));
        for f in &schema.fields {
            let empty = if link_target(&f.name).is_some() {
                Value::Null
            } else {
                Value::String(String::new())
            };
            m.insert(f.name.clone(), empty);
        }
        if let Src::Gen(a, b) = row.src {
            m.extend(generator::render(kind, &self.gen, (a, b), row));
        }
        if let Some(over) = &row.over {
            m.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        m.insert("id".into(), Value::String(id.clone()));
        if schema.field("innerId").is_some() {
            m.insert("innerId".into(), Value::String((pos + 1).to_string()));
        }
        let (created, updated) = if kind == Kind::Coupon {
            (local_text_space(row.created), local_text_space(row.updated))
        } else {
            (local_text(row.created), local_text(row.updated))
        };
        if schema.field("dateCreated").is_some() {
            m.insert("dateCreated".into(), Value::String(created));
            m.insert("dateUpdated".into(), Value::String(updated));
        }
        if kind == Kind::OrderHistory {
            m.insert(
                "dateAdded".into(),
                Value::String(local_text_space(row.created)),
            );
        }
        for (field, href) in child_links(kind, &id) {
            m.insert(field.into(), json!({ "href": href }));
        }
        if kind == Kind::Product {
            m.insert(
                "allImages".into(),
                json!({ "mainImage": format!("/images/product/{}.jpg", row.key.as_deref().unwrap_or("")) }),
            );
        }
        for (k, v) in m.iter_mut() {
            if v.as_str() == Some("") && empty_as_object(kind, k) {
                *v = json!({});
            }
        }
        let mut v = Value::Object(m);
        absolutize(&mut v, base);
        v
    }

    /// Recomputes a row's filter keys from its rendered fields after a write.
    fn reindex(&mut self, kind: Kind, pos: usize) {
        let rec = self.record(kind, pos, "");
        let table = &mut self.tables[kind.index()];
        let old_parent = table.rows[pos].parent;
        let row = &mut table.rows[pos];
        let text = |f: &str| rec.get(f).and_then(Value::as_str).map(Into::into);
        let link = |f: &str| link_number(rec.get(f)).unwrap_or(0);
        let parent = match kind {
            Kind::Order => {
                row.key = text("email");
                row.aux = link("orderStatus");
                link("customer")
            }
            Kind::Customer => {
                row.key = text("email");
                row.aux = link("customerGroup");
                old_parent
            }
            Kind::Product => {
                row.key = text("sku");
                link_number(rec.get("parentProduct")).unwrap_or(pos as u32 + 1)
            }
            Kind::Coupon => {
                row.key = text("code");
                old_parent
            }
            Kind::CustomerGroup | Kind::ProductDescription | Kind::CategoryDescription => {
                row.key = text("name");
                old_parent
            }
            Kind::OrderProduct | Kind::OrderTotal | Kind::OrderHistory => link("order"),
            Kind::Address => link("customer"),
            Kind::Category => link("parentCategory"),
            _ => old_parent,
        };
        table.set_parent(pos, parent);
    }
}

/// Why a write was refused, in Shoprenter's terms.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// 400 40001
    NoData,
    /// 400 40002
    Readonly(Vec<String>),
    /// 400 40003
    Required(Vec<String>),
    /// 400 40005
    Wrong(String),
    /// 400 40006
    BadReference(String),
    /// 404
    NotFound,
}

/// Converts a request body's fields into stored fields: links `{"id": …}` become relative
/// `{"href": …}`; unknown fields are dropped.
fn stored_fields(kind: Kind, body: &Map<String, Value>) -> Result<Map<String, Value>, WriteError> {
    let schema = kind.schema();
    let mut out = Map::new();
    for (k, v) in body {
        if k == "id" || schema.field(k).is_none() {
            continue;
        }
        if let Some(target) = link_target(k) {
            match v {
                Value::Null => {
                    out.insert(k.clone(), Value::Null);
                }
                Value::Object(o) => {
                    let Some(id) = o.get("id").and_then(Value::as_str) else {
                        return Err(WriteError::Wrong(format!(
                            "The {k} parameter is not a valid resource identifier or invalid format. Valid format: array([id] => dGF4Q2xhc3MtdGF4X2NsYXNzX2lkPTEw)"
                        )));
                    };
                    out.insert(k.clone(), json!({ "href": format!("/{target}/{id}") }));
                }
                _ => {
                    return Err(WriteError::Wrong(format!(
                        "The {k} parameter is not a valid resource identifier or invalid format. Valid format: array([id] => dGF4Q2xhc3MtdGF4X2NsYXNzX2lkPTEw)"
                    )))
                }
            }
            continue;
        }
        let v = match v {
            Value::Null => Value::String(String::new()),
            Value::Bool(b) => Value::String(if *b { "1" } else { "0" }.into()),
            Value::Number(n) => Value::String(n.to_string()),
            Value::String(_) | Value::Object(_) => v.clone(),
            Value::Array(_) => {
                return Err(WriteError::Wrong(format!(
                    "The {k} parameter has wrong data. The data is not scalar (scalar is integer, float, string or boolean)."
                )))
            }
        };
        out.insert(k.clone(), v);
    }
    Ok(out)
}

/// The kind a stored link field must point to, for reference checks.
fn own_kind_of_link(field: &str) -> Option<Kind> {
    Kind::from_path(link_target(field)?)
}

impl ShopData {
    /// Checks that links to resources the simulator holds name existing records.
    fn check_references(&self, fields: &Map<String, Value>) -> Result<(), WriteError> {
        for (k, v) in fields {
            let Some(kind) = own_kind_of_link(k) else {
                continue;
            };
            let Some(href) = v.get("href").and_then(Value::as_str) else {
                continue;
            };
            let id = href.rsplit('/').next().unwrap_or("");
            if self.table(kind).find(kind, id).is_none() {
                return Err(WriteError::BadReference(format!(
                    "Some resource identity in the given data is wrong: {k}"
                )));
            }
        }
        Ok(())
    }

    /// POST: creates a record; returns its position.
    pub fn create(
        &mut self,
        kind: Kind,
        body: &Map<String, Value>,
        offset: i32,
    ) -> Result<usize, WriteError> {
        let schema = kind.schema();
        let readonly: Vec<String> = schema
            .fields
            .iter()
            .filter(|f| f.readonly && !f.required && body.contains_key(&f.name))
            .map(|f| f.name.clone())
            .collect();
        if !readonly.is_empty() {
            return Err(WriteError::Readonly(readonly));
        }
        let missing: Vec<String> = schema
            .fields
            .iter()
            .filter(|f| f.required)
            .filter(|f| match body.get(&f.name) {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.trim().is_empty(),
                _ => false,
            })
            .map(|f| f.name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(WriteError::Required(missing));
        }
        let fields = stored_fields(kind, body)?;
        self.check_references(&fields)?;
        let stamp = self.change_stamp(offset);
        let mut row = Row::generated(Src::Created, 0, 0, None, stamp);
        if kind.composite() {
            let (a_field, b_field) = match kind {
                Kind::ProductCategoryRelation => ("product", "category"),
                Kind::OrderStatusDescription => ("orderStatus", "language"),
                Kind::ProductDescription => ("product", "language"),
                _ => ("category", "language"),
            };
            row.parent = link_number(fields.get(a_field)).unwrap_or(0);
            row.aux = link_number(fields.get(b_field)).unwrap_or(0);
            if let Some(&pos) = self.table(kind).composite.get(&(row.parent, row.aux)) {
                if !self.table(kind).rows[pos as usize].deleted {
                    return Err(WriteError::Wrong(
                        "The given data is wrong! The record already exists.".into(),
                    ));
                }
            }
        }
        row.over = Some(Box::new(fields));
        let table = self.table_mut(kind);
        let pos = table.push(kind, row) as usize - 1;
        self.reindex(kind, pos);
        *self.writes.entry(kind.path()).or_insert(0) += 1;
        Ok(pos)
    }

    /// PUT (or POST with id): changes a record; returns its position.
    pub fn update(
        &mut self,
        kind: Kind,
        id: &str,
        body: &Map<String, Value>,
        offset: i32,
    ) -> Result<usize, WriteError> {
        let pos = self
            .table(kind)
            .find(kind, id)
            .ok_or(WriteError::NotFound)?;
        let schema = kind.schema();
        let readonly: Vec<String> = schema
            .fields
            .iter()
            .filter(|f| f.readonly && body.contains_key(&f.name))
            .map(|f| f.name.clone())
            .collect();
        if !readonly.is_empty() {
            return Err(WriteError::Readonly(readonly));
        }
        let fields = stored_fields(kind, body)?;
        if fields.is_empty() && body.is_empty() {
            return Err(WriteError::NoData);
        }
        self.check_references(&fields)?;
        let old_status = self.table(kind).rows[pos].aux;
        let stamp = self.change_stamp(offset);
        {
            let row = &mut self.table_mut(kind).rows[pos];
            row.over.get_or_insert_with(Default::default).extend(fields);
            row.updated = stamp;
        }
        self.reindex(kind, pos);
        if kind == Kind::Order {
            let new_status = self.table(kind).rows[pos].aux;
            if new_status != old_status && new_status != 0 {
                self.add_history(pos as u32 + 1, new_status, stamp, "Állapot módosítva (API)");
            }
        }
        *self.writes.entry(kind.path()).or_insert(0) += 1;
        Ok(pos)
    }

    fn add_history(&mut self, order: u32, status: u32, stamp: Millis, comment: &str) {
        let mut row = Row::generated(Src::Created, order, status, None, stamp);
        let mut over = Map::new();
        over.insert("comment".into(), json!(comment));
        over.insert(
            "order".into(),
            json!({ "href": format!("/orders/{}", encode_id(Kind::Order, order, 0)) }),
        );
        over.insert(
            "orderStatus".into(),
            json!({ "href": format!("/orderStatuses/{}", encode_id(Kind::OrderStatus, status, 0)) }),
        );
        row.over = Some(Box::new(over));
        self.table_mut(Kind::OrderHistory)
            .push(Kind::OrderHistory, row);
    }

    /// DELETE.
    pub fn delete(&mut self, kind: Kind, id: &str) -> Result<(), WriteError> {
        let pos = self
            .table(kind)
            .find(kind, id)
            .ok_or(WriteError::NotFound)?;
        self.table_mut(kind).rows[pos].deleted = true;
        *self.writes.entry(kind.path()).or_insert(0) += 1;
        Ok(())
    }
}

struct BatchState {
    config: BatchFaults,
    rng: StdRng,
    failed: u64,
}

/// The Shoprenter simulator's state handle (what [`RunningSim`] dereferences to).
pub struct ShoprenterSim {
    config: ShoprenterConfig,
    core: SimCore,
    data: RwLock<ShopData>,
    rate_limit: AtomicU32,
    windows: Mutex<HashMap<String, VecDeque<Instant>>>,
    rate_limited: AtomicU64,
    batch: Mutex<BatchState>,
}

impl Simulator for ShoprenterSim {
    const BASE_PATH: &'static str = "/";
    fn core(&self) -> &SimCore {
        &self.core
    }
}

/// Starts a Shoprenter simulator on 127.0.0.1 (`cfg.port`, 0 = ephemeral).
pub async fn spawn_shoprenter(
    cfg: ShoprenterConfig,
) -> Result<RunningSim<ShoprenterSim>, SimError> {
    let port = cfg.port;
    let sim = Arc::new(ShoprenterSim::new(cfg)?);
    let router = api::router(sim.clone());
    RunningSim::serve(sim, port, router).await
}

/// `switchyard-sim` flags of the Shoprenter simulator.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Shoprenter (REST, Basic auth, JSON/XML at the root)")]
pub struct ShoprenterArgs {
    /// Serve Shoprenter on this port (0 = ephemeral).
    #[arg(long)]
    pub shoprenter_port: Option<u16>,
    /// Accepted Basic auth user.
    #[arg(long, default_value = "apiuser")]
    pub shoprenter_user: String,
    /// Accepted API key (Basic auth password).
    #[arg(long, default_value = "0123456789abcdef0123456789abcdef")]
    pub shoprenter_api_key: String,
    /// Requests per second per shop before 429 (0 = off, for benchmarks).
    #[arg(long, default_value_t = 3)]
    pub shoprenter_rate_limit: u32,
    /// Shop time zone as minutes east of UTC (zoneless timestamps).
    #[arg(long, default_value_t = 60, allow_hyphen_values = true)]
    pub shoprenter_utc_offset_minutes: i32,
    /// Share of `/batch` sub-requests that fail (partial batch failure).
    #[arg(long, default_value_t = 0.0)]
    pub shoprenter_batch_fail_rate: f64,
}

impl Default for ShoprenterArgs {
    fn default() -> Self {
        let c = ShoprenterConfig::default();
        ShoprenterArgs {
            shoprenter_port: None,
            shoprenter_user: c.user,
            shoprenter_api_key: c.api_key,
            shoprenter_rate_limit: c.rate_limit,
            shoprenter_utc_offset_minutes: c.utc_offset_minutes,
            shoprenter_batch_fail_rate: 0.0,
        }
    }
}

impl ShoprenterArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.shoprenter_port
    }
}

/// Serves Shoprenter as the binary's flags say.
pub async fn serve_cli(
    args: &ShoprenterArgs,
    port: u16,
    common: &CommonArgs,
    faults: FaultConfig,
) -> Result<Served, SimError> {
    let cfg = ShoprenterConfig {
        port,
        seed: common.seed,
        orders: common.orders,
        customers: common.customers,
        products: common.products,
        base_time: common.base_millis()?,
        utc_offset_minutes: args.shoprenter_utc_offset_minutes,
        user: args.shoprenter_user.clone(),
        api_key: args.shoprenter_api_key.clone(),
        rate_limit: args.shoprenter_rate_limit,
        faults,
        batch_faults: BatchFaults {
            rate: args.shoprenter_batch_fail_rate,
            ..BatchFaults::default()
        },
    };
    Ok(Served::new("shoprenter", spawn_shoprenter(cfg).await?))
}

impl ShoprenterSim {
    /// Builds the state (generating the data) without serving it.
    pub fn new(cfg: ShoprenterConfig) -> Result<ShoprenterSim, SimError> {
        cfg.faults.validate()?;
        cfg.batch_faults.validate()?;
        if cfg.user.is_empty() || cfg.api_key.is_empty() {
            return Err(SimError::InvalidConfig(
                "shoprenter user and API key must not be empty".into(),
            ));
        }
        let data = ShopData::generate(&cfg, cfg.seed);
        Ok(ShoprenterSim {
            core: SimCore::new(cfg.seed, cfg.faults.clone()),
            data: RwLock::new(data),
            rate_limit: AtomicU32::new(cfg.rate_limit),
            windows: Mutex::new(HashMap::new()),
            rate_limited: AtomicU64::new(0),
            batch: Mutex::new(BatchState {
                config: cfg.batch_faults.clone(),
                rng: StdRng::seed_from_u64(cfg.seed ^ 0xBA7C),
                failed: 0,
            }),
            config: cfg,
        })
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, ShopData> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, ShopData> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The configuration the simulator started with.
    pub fn config(&self) -> &ShoprenterConfig {
        &self.config
    }

    /// The `Authorization` header value that the simulator accepts.
    pub fn basic_auth_header(&self) -> String {
        use base64::Engine;
        let raw = format!("{}:{}", self.config.user, self.config.api_key);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// Records held per resource path (deleted excluded).
    pub fn counts(&self) -> ShoprenterCounts {
        let d = self.read();
        Kind::ALL
            .iter()
            .map(|k| {
                let n = d.table(*k).rows.iter().filter(|r| !r.deleted).count();
                (k.path().to_owned(), n)
            })
            .collect()
    }

    /// Writes (POST/PUT/DELETE) applied per resource path.
    pub fn writes(&self) -> std::collections::BTreeMap<String, u64> {
        self.read()
            .writes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect()
    }

    /// The opaque ids of a resource's records, in inner-id order.
    pub fn ids(&self, kind: Kind) -> Vec<String> {
        let d = self.read();
        let t = d.table(kind);
        (0..t.rows.len())
            .filter(|&p| !t.rows[p].deleted)
            .map(|p| t.id_of(kind, p))
            .collect()
    }

    /// A record as JSON (links relative to `http://shop`), or `None`.
    pub fn record_json(&self, kind: Kind, id: &str) -> Option<Value> {
        let d = self.read();
        let pos = d.table(kind).find(kind, id)?;
        Some(d.record(kind, pos, "http://shop"))
    }

    /// Sets an order's status (inner id 1..=8) now, as the shop admin would: bumps
    /// `dateUpdated` and adds an order history entry.
    pub fn set_order_status(&self, order_inner_id: u32, status: u32) -> Result<(), SimError> {
        let id = encode_id(Kind::Order, order_inner_id, 0);
        let mut body = Map::new();
        body.insert(
            "orderStatus".into(),
            json!({ "id": encode_id(Kind::OrderStatus, status, 0) }),
        );
        self.write()
            .update(Kind::Order, &id, &body, self.config.utc_offset_minutes)
            .map(|_| ())
            .map_err(|e| SimError::InvalidConfig(format!("order {order_inner_id}: {e:?}")))
    }

    /// Changes the requests-per-second limit (0 = off).
    pub fn set_rate_limit(&self, per_second: u32) {
        self.rate_limit.store(per_second, Ordering::SeqCst);
        lock(&self.windows).clear();
    }

    /// Requests answered 429 by the rate limit (not by injected faults).
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::SeqCst)
    }

    /// Sliding one-second window per credential: at most `rate_limit` admitted requests in
    /// any second. Refused requests do not count against the window.
    pub(crate) fn admit_rate(&self, credential: &str) -> bool {
        let limit = self.rate_limit.load(Ordering::SeqCst) as usize;
        if limit == 0 {
            return true;
        }
        let now = Instant::now();
        let mut windows = lock(&self.windows);
        let w = windows.entry(credential.to_owned()).or_default();
        while w
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            w.pop_front();
        }
        if w.len() >= limit {
            self.rate_limited.fetch_add(1, Ordering::SeqCst);
            return false;
        }
        w.push_back(now);
        true
    }

    /// Replaces the partial-batch-failure fault.
    pub fn set_batch_faults(&self, faults: BatchFaults) -> Result<(), SimError> {
        faults.validate()?;
        lock(&self.batch).config = faults;
        Ok(())
    }

    /// The partial-batch-failure fault in force.
    pub fn batch_faults(&self) -> BatchFaults {
        lock(&self.batch).config.clone()
    }

    /// Sub-requests failed by the batch fault so far.
    pub fn batch_failures(&self) -> u64 {
        lock(&self.batch).failed
    }

    /// Decides whether the next batch sub-request fails; returns its status if so.
    pub(crate) fn batch_roll(&self) -> Option<u16> {
        let mut b = lock(&self.batch);
        let roll: f64 = b.rng.random();
        if b.config.next > 0 || roll < b.config.rate {
            b.config.next = b.config.next.saturating_sub(1);
            b.failed += 1;
            Some(b.config.status)
        } else {
            None
        }
    }

    /// Requests seen for an endpoint key, e.g. `GET /orders`.
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

    /// Regenerates the data (with `seed`, or the configured one); clears counters, faults,
    /// rate windows and batch faults, and restores the configured rate limit.
    pub fn reset(&self, seed: Option<u64>) {
        let seed = seed.unwrap_or(self.config.seed);
        *self.write() = ShopData::generate(&self.config, seed);
        lock(&self.windows).clear();
        self.rate_limit
            .store(self.config.rate_limit, Ordering::SeqCst);
        self.rate_limited.store(0, Ordering::SeqCst);
        *lock(&self.batch) = BatchState {
            config: BatchFaults::default(),
            rng: StdRng::seed_from_u64(seed ^ 0xBA7C),
            failed: 0,
        };
        self.core.reset();
    }

    /// The seed of the current data.
    pub fn seed(&self) -> u64 {
        self.read().seed
    }

    /// Writes every order with its products, totals and history as JSON lines (for comparing
    /// data sets between seeds).
    pub fn write_orders_json(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        let d = self.read();
        let children = |kind: Kind, order: u32| -> Vec<Value> {
            let t = d.table(kind);
            t.children(order)
                .iter()
                .map(|&p| p as usize)
                .filter(|&p| !t.rows[p].deleted)
                .map(|p| d.record(kind, p, "http://shop"))
                .collect()
        };
        for pos in 0..d.table(Kind::Order).rows.len() {
            let line = json!({
                "order": d.record(Kind::Order, pos, "http://shop"),
                "orderProducts": children(Kind::OrderProduct, pos as u32 + 1),
                "orderTotals": children(Kind::OrderTotal, pos as u32 + 1),
            });
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    pub(crate) fn offset(&self) -> i32 {
        self.config.utc_offset_minutes
    }
}

/// Decodes an id of `kind` to its inner id (for filters that take resource ids).
pub(crate) fn inner_of(kind: Kind, id: &str) -> Option<u32> {
    decode_id(kind, id).map(|(a, _)| a)
}
