//! Storage: tenants, connections, flows, cursors, canonical records, bindings, push records,
//! jobs, runs, activity log, order requests and match memory
//! (sqlx; SQLite embedded).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use switchyard_store::{NewConnection, SecretKey, Secrets, Store};
//! let dir = std::path::Path::new("/var/lib/switchyard");
//! let key = SecretKey::load_or_create(&dir.join("secret.key"))?;
//! let store = Store::open(&dir.join("switchyard.db"), key).await?;
//! let tenant = store.ensure_tenant("acme").await?;
//! let mut new = NewConnection::new(tenant, "pressero", "Main shop");
//! new.secrets = Secrets::new().with("password", "…");
//! let conn = store.create_connection(new).await?;
//! # let _ = conn; Ok(()) }
//! ```
//!
//! The SQLite file uses WAL, foreign keys and a 5 s busy timeout, so several processes can
//! share it; migrations run on open. Queries are runtime-checked and use `$n` placeholders,
//! which SQLite and PostgreSQL both accept.

mod activity;
mod canonical;
mod connections;
mod error;
mod flows;
mod ids;
mod jobs;
mod kv;
mod order_requests;
mod pushes;
mod runs;
mod secrets;
mod store;
mod time;

pub use activity::{Activity, Level, NewActivity};
pub use canonical::{
    canonical_json, Binding, CanonicalRecord, ImportPage, ImportRecord, MatchKey, NewBinding,
    PageOutcome, RecordChange,
};
pub use connections::{Connection, NewConnection};
pub use error::{DatabaseName, KeyError, StorageFault, StoreError};
pub use flows::{Flow, NewFlow};
pub use ids::{CanonicalId, ConnectionId, FlowId, JobId, RunId, TenantId};
pub use jobs::{Enqueued, Job, JobOutcome, JobState, NewJob};
pub use order_requests::{
    NewOrderRequest, OrderRequest, RequestChange, RequestSource, RequestState,
};
pub use pushes::{
    idempotency_key, PushFailure, PushItem, PushRecord, PushState, PushSuccess, PushedLine,
};
pub use runs::{Run, RunCounts, RunLock, RunOutcome, RunStatus};
pub use secrets::{SecretKey, Secrets, SECRET_KEY_ENV, SECRET_KEY_FILE_ENV};
pub use store::{PluginVersion, Store, Tenant};
