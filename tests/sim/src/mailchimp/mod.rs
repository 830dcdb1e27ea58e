//! The Mailchimp Marketing API simulator: e-commerce stores (customers, products, variants,
//! orders, lines, carts, promo rules and codes) and lists with members, under `/3.0/`.
//! Facts and choices: `README.md` beside this file.

mod api;
pub mod generator;
pub mod model;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::{Deserialize, Serialize};

use crate::cli::{CommonArgs, Served};
use crate::clock::{Millis, DEFAULT_BASE_TIME};
use crate::core::{lock, RunningSim, SimCore, Simulator};
use crate::{FaultConfig, SimError};
use model::{ListData, StoreData};

/// `switchyard-sim` flags of the Mailchimp simulator.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Mailchimp")]
pub struct MailchimpArgs {
    /// Serve Mailchimp on this port (0 = ephemeral).
    #[arg(long)]
    pub mailchimp_port: Option<u16>,
    /// The accepted API key; its suffix after the last `-` must be the data centre.
    #[arg(long, default_value = "0123456789abcdef0123456789abcdef-us6")]
    pub mailchimp_api_key: String,
    /// Simultaneous requests allowed per API key; the next one answers 429.
    #[arg(long, default_value_t = 10)]
    pub mailchimp_max_connections: usize,
    /// Answer requests over the connection limit with a bare 403 (no body), as Mailchimp
    /// does "at exceptionally high volumes", instead of a 429 problem document.
    #[arg(long)]
    pub mailchimp_bare_403_on_overload: bool,
}

impl MailchimpArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.mailchimp_port
    }
}

/// Serves Mailchimp as the binary's flags say.
pub async fn serve_cli(
    args: &MailchimpArgs,
    port: u16,
    common: &CommonArgs,
    faults: FaultConfig,
) -> Result<Served, SimError> {
    let cfg = MailchimpConfig {
        port,
        seed: common.seed,
        orders: common.orders,
        customers: Some(common.customer_count()),
        products: common.products,
        base_time: common.base_millis()?,
        api_key: args.mailchimp_api_key.clone(),
        max_connections: args.mailchimp_max_connections,
        bare_403_on_overload: args.mailchimp_bare_403_on_overload,
        faults,
    };
    Ok(Served::new("mailchimp", spawn_mailchimp(cfg).await?))
}

/// How to start a Mailchimp simulator.
#[derive(Clone, Debug)]
pub struct MailchimpConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of the data (and of fault decisions).
    pub seed: u64,
    /// Number of generated orders (over all stores).
    pub orders: usize,
    /// Number of generated customers; `None` = orders / 4, between 20 and 10,000.
    pub customers: Option<usize>,
    /// Number of generated products; `None` = 200.
    pub products: Option<usize>,
    /// Date of the first generated order.
    pub base_time: Millis,
    /// The accepted API key, `<32 hex>-<dc>`; the data centre is the part after the last `-`.
    pub api_key: String,
    /// Simultaneous requests per API key before a 429 (Mailchimp: 10).
    pub max_connections: usize,
    /// Answer over-limit requests with a bare 403 instead of a 429 problem document.
    pub bare_403_on_overload: bool,
    /// Faults from the start.
    pub faults: FaultConfig,
}

impl Default for MailchimpConfig {
    fn default() -> Self {
        MailchimpConfig {
            port: 0,
            seed: 42,
            orders: 1000,
            customers: None,
            products: None,
            base_time: DEFAULT_BASE_TIME,
            api_key: "0123456789abcdef0123456789abcdef-us6".into(),
            max_connections: 10,
            bare_403_on_overload: false,
            faults: FaultConfig::default(),
        }
    }
}

impl MailchimpConfig {
    /// The data centre of the configured key (`us6` for `…-us6`).
    pub fn dc(&self) -> &str {
        data_centre(&self.api_key).unwrap_or("")
    }
}

/// The data centre a key names: the part after its last `-`.
pub fn data_centre(key: &str) -> Option<&str> {
    key.rsplit_once('-')
        .map(|(_, dc)| dc)
        .filter(|dc| !dc.is_empty())
}

/// Counts of what the simulator holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailchimpCounts {
    /// Stores.
    pub stores: usize,
    /// Customers over all stores.
    pub customers: usize,
    /// Products over all stores.
    pub products: usize,
    /// Product variants over all stores.
    pub variants: usize,
    /// Orders over all stores.
    pub orders: usize,
    /// Order lines over all stores.
    pub order_lines: usize,
    /// Carts over all stores.
    pub carts: usize,
    /// Promo rules over all stores.
    pub promo_rules: usize,
    /// Promo codes over all stores.
    pub promo_codes: usize,
    /// Lists.
    pub lists: usize,
    /// Members over all lists.
    pub members: usize,
}

pub(crate) struct MailchimpData {
    pub seed: u64,
    pub stores: BTreeMap<String, StoreData>,
    pub lists: BTreeMap<String, ListData>,
    /// Web ids handed to lists and members created through the API.
    pub next_web_id: i64,
}

impl MailchimpData {
    fn generate(cfg: &MailchimpConfig, seed: u64) -> MailchimpData {
        let spec = generator::GenSpec {
            seed,
            orders: cfg.orders,
            customers: cfg
                .customers
                .unwrap_or((cfg.orders / 4).clamp(20, 10_000))
                .max(1),
            products: cfg.products.unwrap_or(200).max(1),
            base_time: cfg.base_time,
        };
        let g = generator::generate(&spec);
        MailchimpData {
            seed,
            stores: g.stores,
            lists: g.lists,
            next_web_id: 900_000,
        }
    }
}

/// The running Mailchimp simulator's state (reach it through `RunningSim`'s `Deref`).
pub struct MailchimpSim {
    core: SimCore,
    data: RwLock<MailchimpData>,
    config: MailchimpConfig,
    /// Requests in flight per API key (the 10-connection limit).
    connections: Mutex<HashMap<String, usize>>,
    /// The connection limit and the over-limit answer, changeable at run time.
    overload: Mutex<(usize, bool)>,
    /// Requests refused by the connection limit.
    refused: Mutex<u64>,
}

impl Simulator for MailchimpSim {
    const BASE_PATH: &'static str = "/3.0/";
    fn core(&self) -> &SimCore {
        &self.core
    }
}

/// Starts a Mailchimp simulator on 127.0.0.1.
pub async fn spawn_mailchimp(cfg: MailchimpConfig) -> Result<RunningSim<MailchimpSim>, SimError> {
    cfg.faults.validate()?;
    if data_centre(&cfg.api_key).is_none() {
        return Err(SimError::InvalidConfig(format!(
            "mailchimp API key `{}` has no data-centre suffix (`…-us6`)",
            cfg.api_key
        )));
    }
    if cfg.max_connections == 0 {
        return Err(SimError::InvalidConfig(
            "mailchimp max_connections must be at least 1".into(),
        ));
    }
    let sim = Arc::new(MailchimpSim::new(cfg));
    let router = api::router(sim.clone());
    let port = sim.config.port;
    RunningSim::serve(sim, port, router).await
}

/// Releases a connection slot when the request is answered.
pub(crate) struct Slot<'a> {
    sim: &'a MailchimpSim,
    key: String,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut c = lock(&self.sim.connections);
        if let Some(n) = c.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.remove(&self.key);
            }
        }
    }
}

impl MailchimpSim {
    fn new(cfg: MailchimpConfig) -> MailchimpSim {
        let data = MailchimpData::generate(&cfg, cfg.seed);
        MailchimpSim {
            core: SimCore::new(cfg.seed, cfg.faults.clone()),
            data: RwLock::new(data),
            connections: Mutex::new(HashMap::new()),
            overload: Mutex::new((cfg.max_connections, cfg.bare_403_on_overload)),
            refused: Mutex::new(0),
            config: cfg,
        }
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, MailchimpData> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, MailchimpData> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one of the key's connection slots; `None` when all are in use.
    pub(crate) fn acquire(&self, key: &str) -> Option<Slot<'_>> {
        let (limit, _) = *lock(&self.overload);
        let mut c = lock(&self.connections);
        let n = c.entry(key.to_owned()).or_insert(0);
        if *n >= limit {
            drop(c);
            *lock(&self.refused) += 1;
            return None;
        }
        *n += 1;
        Some(Slot {
            sim: self,
            key: key.to_owned(),
        })
    }

    /// Whether over-limit requests get a bare 403.
    pub(crate) fn bare_403(&self) -> bool {
        lock(&self.overload).1
    }

    /// The configuration the simulator started with.
    pub fn config(&self) -> &MailchimpConfig {
        &self.config
    }

    /// The accepted API key.
    pub fn api_key(&self) -> &str {
        &self.config.api_key
    }

    /// The `Authorization` header value a client sends (`Basic base64(anystring:key)`).
    pub fn authorization(&self) -> String {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("anystring:{}", self.config.api_key))
        )
    }

    /// Changes the connection limit and whether over-limit requests get a bare 403.
    pub fn set_overload(&self, max_connections: usize, bare_403: bool) {
        *lock(&self.overload) = (max_connections.max(1), bare_403);
    }

    /// Requests refused because the key had all its connections in use.
    pub fn connection_refusals(&self) -> u64 {
        *lock(&self.refused)
    }

    /// Counts of what the simulator holds.
    pub fn counts(&self) -> MailchimpCounts {
        let d = self.read();
        let mut c = MailchimpCounts {
            stores: d.stores.len(),
            lists: d.lists.len(),
            members: d.lists.values().map(|l| l.members.len()).sum(),
            ..MailchimpCounts::default()
        };
        for s in d.stores.values() {
            c.customers += s.customers.len();
            c.products += s.products.len();
            c.variants += s.products.values().map(|p| p.variants.len()).sum::<usize>();
            c.orders += s.orders.len();
            c.order_lines += s.orders.values().map(|o| o.lines.len()).sum::<usize>();
            c.carts += s.carts.len();
            c.promo_rules += s.promo_rules.len();
            c.promo_codes += s.promo_rules.values().map(|r| r.codes.len()).sum::<usize>();
        }
        c
    }

    /// Store ids, ascending.
    pub fn store_ids(&self) -> Vec<String> {
        self.read().stores.keys().cloned().collect()
    }

    /// List ids, ascending.
    pub fn list_ids(&self) -> Vec<String> {
        self.read().lists.keys().cloned().collect()
    }

    /// An order as the API renders it (`GET …/orders/{id}`).
    pub fn order_json(&self, store_id: &str, order_id: &str) -> Option<serde_json::Value> {
        let d = self.read();
        let s = d.stores.get(store_id)?;
        Some(api::render_order(s, s.orders.get(order_id)?))
    }

    /// A customer as the API renders it.
    pub fn customer_json(&self, store_id: &str, customer_id: &str) -> Option<serde_json::Value> {
        let d = self.read();
        let s = d.stores.get(store_id)?;
        Some(api::render_customer(s, s.customers.get(customer_id)?))
    }

    /// A member as the API renders it, by e-mail address.
    pub fn member_json(&self, list_id: &str, email: &str) -> Option<serde_json::Value> {
        let d = self.read();
        let l = d.lists.get(list_id)?;
        let m = l.members.get(&model::subscriber_hash(email))?;
        serde_json::to_value(m).ok()
    }

    /// Order ids of a store, ascending.
    pub fn order_ids(&self, store_id: &str) -> Vec<String> {
        self.read()
            .stores
            .get(store_id)
            .map(|s| s.orders.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Writes every store's orders (rendered) as JSON lines: for comparing data sets.
    pub fn write_orders_json(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        let d = self.read();
        for s in d.stores.values() {
            for o in s.orders.values() {
                serde_json::to_writer(&mut out, &api::render_order(s, o))?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    /// Requests seen for an endpoint key, e.g. `GET /3.0/ecommerce/stores/{store_id}/orders`.
    pub fn request_count(&self, endpoint: &str) -> u64 {
        self.core.request_count(endpoint)
    }

    /// The highest number of API requests in flight at once.
    pub fn max_concurrency(&self) -> u64 {
        self.core.max_concurrency()
    }

    /// Faults injected so far.
    pub fn fault_stats(&self) -> crate::FaultStats {
        self.core.fault_stats()
    }

    /// Replaces the fault configuration.
    pub fn set_faults(&self, faults: FaultConfig) -> Result<(), SimError> {
        self.core.set_faults(faults)
    }

    /// Regenerates the data (with `seed`, or the configured one); clears counters and faults.
    pub fn reset(&self, seed: Option<u64>) {
        let seed = seed.unwrap_or(self.config.seed);
        *self.write() = MailchimpData::generate(&self.config, seed);
        *lock(&self.overload) = (
            self.config.max_connections,
            self.config.bare_403_on_overload,
        );
        *lock(&self.refused) = 0;
        self.core.reset();
    }

    /// The seed of the current data.
    pub fn seed(&self) -> u64 {
        self.read().seed
    }
}
