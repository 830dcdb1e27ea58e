use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Store, Trap};

use crate::bindings::{
    CheckReport, ConnectorError, Entity, FetchRequest, Manifest, Page, Payload, Plugin, PluginPre,
    PushRequest, PushResult, RawRecord,
};
use crate::error::RuntimeError;
use crate::runtime::Runtime;
use crate::sandbox::JobState;
use crate::services::HostServices;

/// One job's sandboxed instance of a plugin.
///
/// Each job has its own store: nothing a plugin keeps in memory survives the
/// job or reaches another tenant. A call that traps or overruns its deadline
/// poisons the job; start a new one to go on.
pub struct Job {
    runtime: Runtime,
    store: Store<JobState>,
    plugin: Plugin,
    provider: String,
    poisoned: bool,
}

/// Slack given to the host-side timeout beyond the epoch deadline: the epoch
/// stops wasm code, this stops a call stuck in a host import.
const HOST_SLACK: Duration = Duration::from_secs(2);

impl Job {
    pub(crate) async fn start(
        runtime: Runtime,
        pre: PluginPre<JobState>,
        provider: String,
        services: Arc<dyn HostServices>,
    ) -> Result<Job, RuntimeError> {
        let memory_limit = runtime.config().memory_limit_bytes;
        let mut store = Store::new(runtime.engine(), JobState::new(services, memory_limit));
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(runtime.deadline_ticks());
        if let Some(fuel) = runtime.config().fuel_per_call {
            store
                .set_fuel(fuel)
                .map_err(|e| RuntimeError::Setup(e.to_string()))?;
        }
        let plugin =
            pre.instantiate_async(&mut store)
                .await
                .map_err(|e| RuntimeError::Instantiate {
                    provider: provider.clone(),
                    message: format!("{e:#}"),
                })?;
        Ok(Job {
            runtime,
            store,
            plugin,
            provider,
            poisoned: false,
        })
    }

    /// Re-arm the per-call budgets; refuse a poisoned instance.
    fn arm(&mut self) -> Result<(), RuntimeError> {
        if self.poisoned {
            return Err(RuntimeError::Poisoned {
                provider: self.provider.clone(),
            });
        }
        // The deadline is relative to the current epoch: set it before every call.
        self.store.set_epoch_deadline(self.runtime.deadline_ticks());
        if let Some(fuel) = self.runtime.config().fuel_per_call {
            self.store
                .set_fuel(fuel)
                .map_err(|e| RuntimeError::Setup(e.to_string()))?;
        }
        Ok(())
    }

    fn classify(&mut self, call: &'static str, err: wasmtime::Error) -> RuntimeError {
        self.poisoned = true;
        let provider = self.provider.clone();
        if self.store.data().limits.refused {
            return RuntimeError::MemoryLimit {
                provider,
                call,
                limit_bytes: self.store.data().limits.limit,
            };
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => RuntimeError::Deadline {
                provider,
                call,
                deadline_ms: self.runtime.config().call_deadline.as_millis() as u64,
            },
            Some(Trap::OutOfFuel) => RuntimeError::OutOfFuel {
                provider,
                call,
                fuel: self.runtime.config().fuel_per_call.unwrap_or(0),
            },
            _ => RuntimeError::Trap {
                provider,
                call,
                message: format!("{err:#}"),
            },
        }
    }

    fn host_timeout(&mut self, call: &'static str) -> RuntimeError {
        self.poisoned = true;
        RuntimeError::Deadline {
            provider: self.provider.clone(),
            call,
            deadline_ms: self.runtime.config().call_deadline.as_millis() as u64,
        }
    }

    fn connector(&self, e: ConnectorError) -> RuntimeError {
        RuntimeError::Connector(e, self.provider.clone())
    }

    /// The provider id this job runs.
    pub fn provider(&self) -> &str {
        &self.provider
    }
}

/// Generates one wrapper per export: arm budgets, call under a host-side
/// timeout, classify traps, and lift the plugin's own error.
macro_rules! export_call {
    ($(#[$doc:meta])* $name:ident, $call:ident, $wit:literal, ($($arg:ident: $ty:ty => $pass:expr),*) -> $ok:ty, result) => {
        $(#[$doc])*
        pub async fn $name(&mut self, $($arg: $ty),*) -> Result<$ok, RuntimeError> {
            self.arm()?;
            let limit = self.runtime.config().call_deadline + HOST_SLACK;
            let iface = self.plugin.switchyard_connector_connector();
            let fut = iface.$call(&mut self.store, $($pass),*);
            match tokio::time::timeout(limit, fut).await {
                Err(_) => Err(self.host_timeout($wit)),
                Ok(Err(e)) => Err(self.classify($wit, e)),
                Ok(Ok(Err(e))) => Err(self.connector(e)),
                Ok(Ok(Ok(v))) => Ok(v),
            }
        }
    };
}

impl Job {
    /// `describe`: the plugin's manifest.
    pub async fn describe(&mut self) -> Result<Manifest, RuntimeError> {
        self.arm()?;
        let limit = self.runtime.config().call_deadline + HOST_SLACK;
        let iface = self.plugin.switchyard_connector_connector();
        let fut = iface.call_describe(&mut self.store);
        match tokio::time::timeout(limit, fut).await {
            Err(_) => Err(self.host_timeout("describe")),
            Ok(Err(e)) => Err(self.classify("describe", e)),
            Ok(Ok(v)) => Ok(v),
        }
    }

    export_call!(
        /// `check`: test the connection's credentials.
        check, call_check, "check", () -> CheckReport, result);
    export_call!(
        /// `fetch`: one page of a stream.
        fetch, call_fetch, "fetch", (req: &FetchRequest => req) -> Page, result);
    export_call!(
        /// `map-in`: a raw record into a canonical entity.
        map_in, call_map_in, "map-in", (stream: &str => stream, raw: &RawRecord => raw) -> Entity, result);
    export_call!(
        /// `map-out`: a canonical entity into a provider payload.
        map_out, call_map_out, "map-out", (stream: &str => stream, item: &Entity => item) -> Payload, result);
    export_call!(
        /// `push`: create or update one record at the provider.
        push, call_push, "push", (req: &PushRequest => req) -> PushResult, result);
}
