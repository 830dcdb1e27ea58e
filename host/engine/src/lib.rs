//! Sync flows of Switchyard: a connection's plugin is run against its provider,
//! fetched records are mapped into canonical records with bindings, and the
//! cursor moves only once what it covers is stored.
//!
//! [`Switchyard`] ties the parts together: the storage layer, the plugin
//! registry and the outbound HTTP capability.

mod activity;
pub mod crash_point;
mod error;
mod flow_settings;
mod import;
pub mod inbox;
mod match_keys;
mod order_ops;
mod policy;
mod push;
pub mod push_rules;
mod queue;
mod run_lock;
mod run_scope;
mod services;
mod status_sync;
mod webhook_trigger;

pub use error::EngineError;
pub use flow_settings::{FlowMode, FlowSettings};
pub use import::{ImportOptions, ImportProgress, ImportSummary};
pub use match_keys::match_keys_of;
pub use order_ops::{OrderInFlow, PushAgain};
pub use policy::{RATE_LIMIT_SETTING, RETRY_BASE_SETTING, TIMEOUT_SETTING};
pub use push::{PushOutcome, PushProgress, PushSummary};
pub use queue::{check_schedule, FlowSyncSummary, GlobalSyncSummary, FLOW_SYNC, GLOBAL_SYNC};
pub use services::ConnectionServices;
pub use status_sync::StatusSummary;
pub use webhook_trigger::{WebhookTrigger, WEBHOOK_KEY_SECRET};

use std::sync::Arc;

use switchyard_http::HttpCapability;
use switchyard_runtime::{LoadedPlugin, PluginRegistry};
use switchyard_store::{ConnectionId, Store};

/// The host: storage, plugins and outbound HTTP.
#[derive(Clone)]
pub struct Switchyard {
    store: Store,
    registry: PluginRegistry,
    http: HttpCapability,
}

impl Switchyard {
    /// Tie a store, a plugin registry and an HTTP capability together.
    pub fn new(store: Store, registry: PluginRegistry, http: HttpCapability) -> Switchyard {
        Switchyard {
            store,
            registry,
            http,
        }
    }

    /// The storage layer.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The plugin registry.
    pub fn registry(&self) -> &PluginRegistry {
        &self.registry
    }

    /// The plugin currently serving a connection's provider.
    pub async fn plugin_for(
        &self,
        connection: ConnectionId,
    ) -> Result<(switchyard_store::Connection, Arc<LoadedPlugin>), EngineError> {
        let conn = self.store.connection(connection).await?;
        let plugin = self
            .registry
            .current(&conn.provider)
            .ok_or_else(|| EngineError::NoPlugin(conn.provider.clone()))?;
        Ok((conn, plugin))
    }

    /// Services for one job of a connection: its policy, secrets and key space.
    pub async fn services_for(
        &self,
        conn: &switchyard_store::Connection,
        plugin: &LoadedPlugin,
        run: Option<switchyard_store::RunId>,
    ) -> Result<Arc<ConnectionServices>, EngineError> {
        let secrets = self.store.connection_secrets(conn.id).await?;
        let policy = policy::connection_policy(conn, plugin.manifest(), &secrets)?;
        Ok(Arc::new(ConnectionServices::new(
            self.store.clone(),
            self.http.clone(),
            Arc::new(policy),
            conn.clone(),
            run,
        )))
    }

    /// "Test connection" (R-CONN-2): run the plugin's `check`.
    pub async fn check(&self, connection: ConnectionId) -> Result<String, EngineError> {
        let (conn, plugin) = self.plugin_for(connection).await?;
        let services = self.services_for(&conn, &plugin, None).await?;
        let mut job = plugin.start_job(services.clone()).await?;
        let outcome = job.check().await;
        services.flush().await;
        Ok(outcome?.message)
    }
}
