//! The MiniCRM simulator: REST + JSON under `/Api/R3/` with HTTP Basic `SystemId:ApiKey`.
//! See `README.md` in this folder for what comes from the reference and what is our choice.

mod api;
pub mod generator;
pub mod model;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::cli::{CommonArgs, Served};
use crate::clock::{next_change_stamp, Millis, DEFAULT_BASE_TIME};
use crate::core::{lock, RunningSim, SimCore, Simulator};
use crate::{FaultConfig, SimError};
use model::*;

/// The public host the real API lives on; `Url` fields point there, as the real ones do.
pub const PUBLIC_BASE: &str = "https://r3.minicrm.hu/Api/R3/";

/// A request budget per SystemId: at most `requests` in any `window_secs` window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests: u32,
    /// Window length in seconds (sliding).
    pub window_secs: u64,
}

impl Default for RateLimit {
    /// 60 requests per minute: what public MiniCRM clients throttle themselves to.
    fn default() -> Self {
        RateLimit {
            requests: 60,
            window_secs: 60,
        }
    }
}

/// How to start a MiniCRM simulator.
#[derive(Clone, Debug)]
pub struct MinicrmConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of the data (and of fault decisions).
    pub seed: u64,
    /// Projects in the Order module (one per web-shop order).
    pub orders: usize,
    /// Person contacts; `None` = orders / 4, between 20 and 10,000.
    pub customers: Option<usize>,
    /// Date of the first generated order.
    pub base_time: Millis,
    /// The account's SystemId (the Basic-auth user).
    pub system_id: String,
    /// The account's API key (the Basic-auth password).
    pub api_key: String,
    /// Modules the account has; a module it lacks answers 404.
    pub modules: Vec<ModuleKind>,
    /// Request budget per SystemId (`None` = unlimited).
    pub rate_limit: Option<RateLimit>,
    /// Status of an answer to bad credentials (401; the real service may also answer 404).
    pub auth_failure_status: u16,
    /// How many PUT requests the push log keeps (oldest dropped first).
    pub push_log_limit: usize,
    /// Faults from the start.
    pub faults: FaultConfig,
}

impl Default for MinicrmConfig {
    fn default() -> Self {
        MinicrmConfig {
            port: 0,
            seed: 42,
            orders: 1000,
            customers: None,
            base_time: DEFAULT_BASE_TIME,
            system_id: "54321".into(),
            api_key: "MiniCrmApiKey0123456789abcdefXYZ".into(),
            modules: vec![ModuleKind::Sales, ModuleKind::Order, ModuleKind::Webshop],
            rate_limit: Some(RateLimit::default()),
            auth_failure_status: 401,
            push_log_limit: 10_000,
            faults: FaultConfig::default(),
        }
    }
}

/// Counts of what the simulator holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinicrmCounts {
    /// Person contacts.
    pub persons: usize,
    /// Business contacts.
    pub businesses: usize,
    /// Addresses.
    pub addresses: usize,
    /// Projects, all modules.
    pub projects: usize,
    /// Projects per CategoryId.
    pub projects_by_category: std::collections::BTreeMap<u32, usize>,
    /// PUT requests received (including rejected ones).
    pub puts: u64,
    /// Requests refused by the rate limit.
    pub rate_limited: u64,
}

/// One PUT request as received, with the answer it got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushRecord {
    /// 1-based arrival number.
    pub seq: u64,
    /// `Contact`, `Address` or `Project`.
    pub resource: String,
    /// The request path, e.g. `/Api/R3/Project/5003`.
    pub path: String,
    /// The body as JSON, or as a string when it was not JSON.
    pub body: Value,
    /// The HTTP status answered.
    pub status: u16,
    /// The id answered (`{"Id": n}`), on success.
    pub id: Option<u32>,
}

pub(crate) struct MinicrmData {
    pub seed: u64,
    /// Every module kind; only `enabled` ones are visible.
    pub modules: Vec<Module>,
    pub enabled: Vec<u32>,
    pub contacts: Vec<Contact>,
    pub addresses: Vec<Address>,
    pub projects: Vec<Project>,
    /// Normalised e-mail → contact ids.
    pub email_index: HashMap<String, Vec<u32>>,
    pub latest: Millis,
    pub next_history_id: u32,
}

/// The key e-mails are compared by: case-insensitive, trailing spaces ignored (MySQL's
/// `utf8mb4_general_ci` with PAD SPACE), leading spaces significant.
pub(crate) fn email_key(e: &str) -> String {
    e.trim_end().to_lowercase()
}

impl MinicrmData {
    fn generate(cfg: &MinicrmConfig, seed: u64, enabled: &[ModuleKind]) -> MinicrmData {
        let customers = cfg
            .customers
            .unwrap_or((cfg.orders / 4).clamp(20, 10_000))
            .max(1);
        let modules: Vec<Module> = [ModuleKind::Sales, ModuleKind::Order, ModuleKind::Webshop]
            .into_iter()
            .map(Module::new)
            .collect();
        let active: Vec<Module> = modules
            .iter()
            .filter(|m| enabled.contains(&m.kind))
            .cloned()
            .collect();
        let g = generator::generate(seed, customers, cfg.orders, cfg.base_time, &active);
        let mut data = MinicrmData {
            seed,
            enabled: active.iter().map(|m| m.id).collect(),
            modules,
            contacts: g.contacts,
            addresses: g.addresses,
            projects: g.projects,
            email_index: HashMap::new(),
            latest: g.latest,
            next_history_id: 1,
        };
        for c in &data.contacts {
            data.email_index
                .entry(email_key(&c.email))
                .or_default()
                .push(c.id);
        }
        let mut next = 1;
        for p in &mut data.projects {
            for h in &mut p.history {
                h.id = next;
                next += 1;
            }
        }
        data.next_history_id = next;
        data
    }

    pub fn change_stamp(&mut self) -> Millis {
        // MiniCRM stamps have whole seconds; keep later changes strictly later anyway.
        self.latest = next_change_stamp(self.latest);
        self.latest
    }

    pub fn module(&self, category_id: u32) -> Option<&Module> {
        self.enabled
            .contains(&category_id)
            .then(|| self.modules.iter().find(|m| m.id == category_id))
            .flatten()
    }

    pub fn module_of_kind(&self, kind: ModuleKind) -> Option<&Module> {
        self.modules
            .iter()
            .find(|m| m.kind == kind && self.enabled.contains(&m.id))
    }

    pub fn contact(&self, id: u32) -> Option<&Contact> {
        let i = id.checked_sub(generator::FIRST_CONTACT_ID)?;
        self.contacts.get(i as usize)
    }

    pub fn contact_mut(&mut self, id: u32) -> Option<&mut Contact> {
        let i = id.checked_sub(generator::FIRST_CONTACT_ID)?;
        self.contacts.get_mut(i as usize)
    }

    pub fn address(&self, id: u32) -> Option<&Address> {
        let i = id.checked_sub(generator::FIRST_ADDRESS_ID)?;
        self.addresses.get(i as usize)
    }

    pub fn address_mut(&mut self, id: u32) -> Option<&mut Address> {
        let i = id.checked_sub(generator::FIRST_ADDRESS_ID)?;
        self.addresses.get_mut(i as usize)
    }

    pub fn project(&self, id: u32) -> Option<&Project> {
        let i = id.checked_sub(generator::FIRST_PROJECT_ID)?;
        self.projects.get(i as usize)
    }

    pub fn project_mut(&mut self, id: u32) -> Option<&mut Project> {
        let i = id.checked_sub(generator::FIRST_PROJECT_ID)?;
        self.projects.get_mut(i as usize)
    }

    pub fn reindex_email(&mut self, id: u32, old: &str, new: &str) {
        if let Some(ids) = self.email_index.get_mut(&email_key(old)) {
            ids.retain(|&x| x != id);
        }
        self.email_index.entry(email_key(new)).or_default().push(id);
    }

    /// Sets a project's status as a CRM user (or the API) would: history, stamps.
    pub fn set_status(&mut self, id: u32, status: u32, user_id: u32, by: &'static str) {
        let stamp = self.change_stamp();
        let hid = self.next_history_id;
        let Some(p) = self.project_mut(id) else {
            return;
        };
        if p.status_id == status {
            return;
        }
        p.history.push(StatusChange {
            id: hid,
            old: Some(p.status_id),
            new: status,
            user_id,
            at: stamp,
        });
        p.status_id = status;
        p.status_updated_at = stamp;
        p.updated_at = stamp;
        p.updated_by = by;
        self.next_history_id += 1;
    }

    // ---- rendering ----

    pub fn project_summary(&self, p: &Project) -> Value {
        let mut m = Map::new();
        m.insert("Id".into(), json!(p.id));
        m.insert("Name".into(), json!(p.name));
        m.insert(
            "Url".into(),
            json!(format!("{PUBLIC_BASE}Project/{}", p.id)),
        );
        m.insert("ContactId".into(), json!(p.contact_id));
        m.insert("StatusId".into(), json!(p.status_id));
        m.insert("UserId".into(), json!(p.user_id));
        m.insert("Deleted".into(), json!(u8::from(p.deleted)));
        if let Some(b) = p.business_id {
            m.insert("BusinessId".into(), json!(b));
        }
        Value::Object(m)
    }

    pub fn project_detail(&self, p: &Project) -> Value {
        let user = USERS
            .iter()
            .find(|u| u.id == p.user_id)
            .map(|u| u.name)
            .unwrap_or("");
        let mut m = Map::new();
        m.insert("Id".into(), json!(p.id));
        m.insert("CategoryId".into(), json!(p.category_id));
        m.insert("ContactId".into(), json!(p.contact_id));
        m.insert("StatusId".into(), json!(p.status_id));
        m.insert("UserId".into(), json!(user));
        m.insert("Name".into(), json!(p.name));
        m.insert(
            "StatusUpdatedAt".into(),
            json!(format_local(p.status_updated_at)),
        );
        m.insert("IsPrivate".into(), json!(0));
        m.insert("Invited".into(), json!(""));
        m.insert("Deleted".into(), json!(u8::from(p.deleted)));
        m.insert("CreatedBy".into(), json!(p.created_by));
        m.insert("CreatedAt".into(), json!(format_local(p.created_at)));
        m.insert("UpdatedBy".into(), json!(p.updated_by));
        m.insert("UpdatedAt".into(), json!(format_local(p.updated_at)));
        m.insert("BusinessId".into(), json!(p.business_id));
        m.insert(
            "ProjectHash".into(),
            json!(format!("{:x}{:08x}", p.id, p.created_at as u32)),
        );
        m.insert(
            "ProjectEmail".into(),
            json!(format!("p{}@r3.minicrm.hu", p.id)),
        );
        if let Some(module) = self.modules.iter().find(|m| m.id == p.category_id) {
            for (f, v) in module.fields.iter().zip(&p.fields) {
                m.insert(f.name.into(), render_field(f, v.as_ref()));
            }
        }
        Value::Object(m)
    }

    pub fn contact_summary(&self, c: &Contact) -> Value {
        let mut m = Map::new();
        m.insert("Id".into(), json!(c.id));
        m.insert("Name".into(), json!(c.display_name()));
        m.insert(
            "Url".into(),
            json!(format!("{PUBLIC_BASE}Contact/{}", c.id)),
        );
        m.insert("Type".into(), json!(c.kind.name()));
        m.insert("Email".into(), json!(c.email));
        m.insert("Phone".into(), json!(c.phone));
        if let Some(b) = c.business_id {
            m.insert("BusinessId".into(), json!(b));
        }
        Value::Object(m)
    }

    pub fn contact_detail(&self, c: &Contact) -> Value {
        let mut m = Map::new();
        m.insert("Id".into(), json!(c.id));
        m.insert("Type".into(), json!(c.kind.name()));
        match c.kind {
            ContactType::Business => {
                m.insert("Name".into(), json!(c.name));
            }
            ContactType::Person => {
                m.insert("FirstName".into(), json!(c.first_name));
                m.insert("LastName".into(), json!(c.last_name));
            }
        }
        m.insert("Email".into(), json!(c.email));
        m.insert("Phone".into(), json!(c.phone));
        m.insert("Description".into(), json!(c.description));
        m.insert("Deleted".into(), json!(u8::from(c.deleted)));
        m.insert("CreatedBy".into(), json!(c.created_by));
        m.insert("CreatedAt".into(), json!(format_local(c.created_at)));
        m.insert("UpdatedBy".into(), json!(c.updated_by));
        m.insert("UpdatedAt".into(), json!(format_local(c.updated_at)));
        m.insert("Url".into(), json!(""));
        m.insert("VatNumber".into(), json!(c.vat_number));
        match c.kind {
            ContactType::Business => {}
            ContactType::Person => {
                m.insert("Position".into(), json!(c.position));
                m.insert("BusinessId".into(), json!(c.business_id));
            }
        }
        m.insert("Tags".into(), json!([]));
        Value::Object(m)
    }

    pub fn address_detail(&self, a: &Address) -> Value {
        json!({
            "Id": a.id,
            "ContactId": a.contact_id,
            "Type": a.kind,
            "Name": a.name,
            "CountryId": a.country,
            "PostalCode": a.postal_code,
            "City": a.city,
            "County": a.county,
            "Address": a.address,
            "Default": u8::from(a.default),
            "CreatedBy": a.created_by,
            "CreatedAt": format_local(a.created_at),
            "UpdatedBy": a.updated_by,
            "UpdatedAt": format_local(a.updated_at),
        })
    }

    /// The one-line form `AddressList` shows: `Name (PostalCode City, Address)`.
    pub fn address_line(a: &Address) -> String {
        let name = if a.name.is_empty() { "NoName" } else { &a.name };
        format!("{name} ({} {}, {})", a.postal_code, a.city, a.address)
    }
}

fn render_field(f: &Field, v: Option<&FieldValue>) -> Value {
    match (v, &f.ty) {
        (Some(FieldValue::Text(s)), _) => json!(s),
        (Some(FieldValue::Int(n)), _) => json!(n),
        (Some(FieldValue::Float(x)), _) => json!(x),
        (Some(FieldValue::DateTime(t)), _) => json!(format_local(*t)),
        (Some(FieldValue::Bool(b)), _) => json!(u8::from(*b)),
        (Some(FieldValue::Enum(id)), FieldType::Enum(opts)) => json!(opts
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, l)| *l)
            .unwrap_or("")),
        (Some(FieldValue::Enum(_)), _) => json!(""),
        (None, FieldType::Int | FieldType::Float | FieldType::Boolean) => json!(0),
        (None, _) => json!(""),
    }
}

struct RateState {
    limit: Option<RateLimit>,
    recent: VecDeque<Instant>,
    refused: u64,
}

struct PushLog {
    entries: VecDeque<PushRecord>,
    total: u64,
}

/// The MiniCRM simulator's state handle (what [`RunningSim`] dereferences to).
pub struct MinicrmSim {
    config: MinicrmConfig,
    core: SimCore,
    data: RwLock<MinicrmData>,
    pushes: Mutex<PushLog>,
    rate: Mutex<RateState>,
}

impl Simulator for MinicrmSim {
    const BASE_PATH: &'static str = "/Api/R3/";
    fn core(&self) -> &SimCore {
        &self.core
    }
}

/// Starts a MiniCRM simulator on 127.0.0.1 (`cfg.port`, 0 = ephemeral).
pub async fn spawn_minicrm(cfg: MinicrmConfig) -> Result<RunningSim<MinicrmSim>, SimError> {
    let port = cfg.port;
    let sim = Arc::new(MinicrmSim::new(cfg)?);
    let router = api::router(sim.clone());
    RunningSim::serve(sim, port, router).await
}

/// `switchyard-sim` flags of the MiniCRM simulator.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "MiniCRM (REST + JSON under /Api/R3/)")]
pub struct MinicrmArgs {
    /// Serve MiniCRM on this port (0 = ephemeral).
    #[arg(long)]
    pub minicrm_port: Option<u16>,
    /// Accepted SystemId (Basic-auth user).
    #[arg(long)]
    pub minicrm_system_id: Option<String>,
    /// Accepted API key (Basic-auth password).
    #[arg(long)]
    pub minicrm_api_key: Option<String>,
    /// Requests allowed per SystemId per minute (0 = unlimited).
    #[arg(long, default_value_t = 60)]
    pub minicrm_rate_per_minute: u32,
    /// Leave the Webshop module out of the account (its CategoryId then answers 404).
    #[arg(long)]
    pub minicrm_no_webshop: bool,
}

impl MinicrmArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.minicrm_port
    }
}

/// Serves MiniCRM as the binary's flags say.
pub async fn serve_cli(
    args: &MinicrmArgs,
    port: u16,
    common: &CommonArgs,
    faults: FaultConfig,
) -> Result<Served, SimError> {
    let d = MinicrmConfig::default();
    let a = args.clone();
    let mut modules = d.modules.clone();
    if a.minicrm_no_webshop {
        modules.retain(|m| *m != ModuleKind::Webshop);
    }
    let cfg = MinicrmConfig {
        port,
        seed: common.seed,
        orders: common.orders,
        customers: common.customers,
        base_time: common.base_millis()?,
        system_id: a.minicrm_system_id.unwrap_or(d.system_id),
        api_key: a.minicrm_api_key.unwrap_or(d.api_key),
        modules,
        rate_limit: (a.minicrm_rate_per_minute > 0).then_some(RateLimit {
            requests: a.minicrm_rate_per_minute,
            window_secs: 60,
        }),
        faults,
        ..MinicrmConfig::default()
    };
    Ok(Served::new("minicrm", spawn_minicrm(cfg).await?))
}

/// Why a simulator-side change was refused.
#[derive(Debug, thiserror::Error)]
pub enum MinicrmError {
    /// No project with this id.
    #[error("unknown project {0}")]
    UnknownProject(u32),
    /// The project's module has no such status.
    #[error("module {category} has no status `{status}`")]
    UnknownStatus {
        /// The project's CategoryId.
        category: u32,
        /// The status given.
        status: String,
    },
}

impl MinicrmSim {
    /// Builds the state (generating the data) without serving it.
    pub fn new(cfg: MinicrmConfig) -> Result<MinicrmSim, SimError> {
        cfg.faults.validate()?;
        if cfg.system_id.is_empty() || cfg.system_id.contains(':') {
            return Err(SimError::InvalidConfig(
                "system_id must be non-empty and without ':'".into(),
            ));
        }
        if let Some(r) = cfg.rate_limit {
            if r.requests == 0 || r.window_secs == 0 {
                return Err(SimError::InvalidConfig(
                    "rate limit needs requests > 0 and window_secs > 0".into(),
                ));
            }
        }
        if !matches!(cfg.auth_failure_status, 401 | 403 | 404) {
            return Err(SimError::InvalidConfig(
                "auth_failure_status must be 401, 403 or 404".into(),
            ));
        }
        let data = MinicrmData::generate(&cfg, cfg.seed, &cfg.modules);
        Ok(MinicrmSim {
            core: SimCore::new(cfg.seed, cfg.faults.clone()),
            data: RwLock::new(data),
            pushes: Mutex::new(PushLog {
                entries: VecDeque::new(),
                total: 0,
            }),
            rate: Mutex::new(RateState {
                limit: cfg.rate_limit,
                recent: VecDeque::new(),
                refused: 0,
            }),
            config: cfg,
        })
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, MinicrmData> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, MinicrmData> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The configuration the simulator started with.
    pub fn config(&self) -> &MinicrmConfig {
        &self.config
    }

    /// `(SystemId, ApiKey)` accepted.
    pub fn credentials(&self) -> (&str, &str) {
        (&self.config.system_id, &self.config.api_key)
    }

    /// The seed of the current data.
    pub fn seed(&self) -> u64 {
        self.read().seed
    }

    /// Counts of what the simulator holds.
    pub fn counts(&self) -> MinicrmCounts {
        let d = self.read();
        let mut by_cat = std::collections::BTreeMap::new();
        for p in &d.projects {
            *by_cat.entry(p.category_id).or_insert(0) += 1;
        }
        MinicrmCounts {
            persons: d
                .contacts
                .iter()
                .filter(|c| c.kind == ContactType::Person)
                .count(),
            businesses: d
                .contacts
                .iter()
                .filter(|c| c.kind == ContactType::Business)
                .count(),
            addresses: d.addresses.len(),
            projects: d.projects.len(),
            projects_by_category: by_cat,
            puts: lock(&self.pushes).total,
            rate_limited: lock(&self.rate).refused,
        }
    }

    /// The CategoryId of the account's module of `kind`, if it has one.
    pub fn category_id(&self, kind: ModuleKind) -> Option<u32> {
        self.read().module_of_kind(kind).map(|m| m.id)
    }

    /// `(StatusId, name)` of a module's statuses, in pipeline order.
    pub fn statuses(&self, kind: ModuleKind) -> Vec<(u32, String)> {
        self.read()
            .module_of_kind(kind)
            .map(|m| {
                m.statuses
                    .iter()
                    .map(|s| (s.id, s.name.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Project ids of a module, ascending.
    pub fn project_ids(&self, category_id: u32) -> Vec<u32> {
        self.read()
            .projects
            .iter()
            .filter(|p| p.category_id == category_id)
            .map(|p| p.id)
            .collect()
    }

    /// `GET Project/{id}` as JSON.
    pub fn project_json(&self, id: u32) -> Option<Value> {
        let d = self.read();
        d.project(id).map(|p| d.project_detail(p))
    }

    /// `GET Contact/{id}` as JSON.
    pub fn contact_json(&self, id: u32) -> Option<Value> {
        let d = self.read();
        d.contact(id).map(|c| d.contact_detail(c))
    }

    /// Ids of contacts whose e-mail equals `email` the way MiniCRM's search compares.
    pub fn contacts_by_email(&self, email: &str) -> Vec<u32> {
        self.read()
            .email_index
            .get(&email_key(email))
            .cloned()
            .unwrap_or_default()
    }

    /// Every PUT kept in the push log, oldest first (bodies as received).
    pub fn pushes(&self) -> Vec<PushRecord> {
        lock(&self.pushes).entries.iter().cloned().collect()
    }

    /// The PUTs to one resource (`Contact`, `Address`, `Project`; case-insensitive).
    pub fn pushes_to(&self, resource: &str) -> Vec<PushRecord> {
        lock(&self.pushes)
            .entries
            .iter()
            .filter(|p| p.resource.eq_ignore_ascii_case(resource))
            .cloned()
            .collect()
    }

    pub(crate) fn record_push(&self, mut rec: PushRecord) {
        let mut log = lock(&self.pushes);
        log.total += 1;
        rec.seq = log.total;
        log.entries.push_back(rec);
        while log.entries.len() > self.config.push_log_limit {
            log.entries.pop_front();
        }
    }

    /// Sets a project's status by id or name, as a person working in the CRM would
    /// (`UpdatedAt`, `StatusUpdatedAt` and the status history change).
    pub fn set_project_status(&self, id: u32, status: &str) -> Result<(), MinicrmError> {
        let mut d = self.write();
        let p = d.project(id).ok_or(MinicrmError::UnknownProject(id))?;
        let category = p.category_id;
        let user = p.user_id;
        let s = d
            .modules
            .iter()
            .find(|m| m.id == category)
            .and_then(|m| m.status(status))
            .map(|s| s.id)
            .ok_or_else(|| MinicrmError::UnknownStatus {
                category,
                status: status.to_owned(),
            })?;
        let by = USERS
            .iter()
            .find(|u| u.id == user)
            .map(|u| u.name)
            .unwrap_or(USERS[0].name);
        d.set_status(id, s, user, by);
        Ok(())
    }

    /// Changes the modules the account has (projects of a removed module stay stored but
    /// answer 404 until it is added back).
    pub fn set_modules(&self, kinds: &[ModuleKind]) {
        let mut d = self.write();
        let ids: Vec<u32> = d
            .modules
            .iter()
            .filter(|m| kinds.contains(&m.kind))
            .map(|m| m.id)
            .collect();
        d.enabled = ids;
    }

    /// Replaces the request budget (`None` = unlimited) and forgets the current window.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        let mut r = lock(&self.rate);
        r.limit = limit;
        r.recent.clear();
    }

    /// The current request budget.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        lock(&self.rate).limit
    }

    /// Counts one request against the budget; `Err(retry_after_secs)` when over it.
    pub(crate) fn take_rate(&self) -> Result<(), u64> {
        let mut r = lock(&self.rate);
        let Some(limit) = r.limit else {
            return Ok(());
        };
        let now = Instant::now();
        let window = std::time::Duration::from_secs(limit.window_secs);
        while r
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            r.recent.pop_front();
        }
        if r.recent.len() >= limit.requests as usize {
            r.refused += 1;
            let wait = r
                .recent
                .front()
                .map(|t| window.saturating_sub(now.duration_since(*t)))
                .unwrap_or(window);
            return Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        }
        r.recent.push_back(now);
        Ok(())
    }

    /// Requests seen for an endpoint key, e.g. `GET /Api/R3/Project`.
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

    /// Regenerates the data (with `seed`, or the configured one) and the configured modules
    /// and rate limit; forgets the push log, counters and faults.
    pub fn reset(&self, seed: Option<u64>) {
        let seed = seed.unwrap_or(self.config.seed);
        *self.write() = MinicrmData::generate(&self.config, seed, &self.config.modules);
        *lock(&self.pushes) = PushLog {
            entries: VecDeque::new(),
            total: 0,
        };
        *lock(&self.rate) = RateState {
            limit: self.config.rate_limit,
            recent: VecDeque::new(),
            refused: 0,
        };
        self.core.reset();
    }

    /// Writes every contact (with addresses) and project as JSON lines: for comparing data sets.
    pub fn write_data_json(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        let d = self.read();
        for c in &d.contacts {
            let addresses: Vec<Value> = c
                .addresses
                .iter()
                .filter_map(|&a| d.address(a).map(|a| d.address_detail(a)))
                .collect();
            let line = json!({ "Contact": d.contact_detail(c), "Addresses": addresses });
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        for p in &d.projects {
            serde_json::to_writer(&mut out, &json!({ "Project": d.project_detail(p) }))?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
