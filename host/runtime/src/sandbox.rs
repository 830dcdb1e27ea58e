//! The per-job store data: the sandboxed WASI context, limits and capabilities.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::ResourceLimiter;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use crate::bindings::switchyard::connector::{config, http, log, matching, store, types};
use crate::services::HostServices;

/// Everything one job's wasm instance can reach.
pub(crate) struct JobState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limits: MemoryCap,
    services: Arc<dyn HostServices>,
}

impl JobState {
    pub(crate) fn new(services: Arc<dyn HostServices>, memory_limit: usize) -> Self {
        // Rust's std on wasip2 imports WASI; we satisfy those imports with a
        // context that has nothing in it: no preopened directories, no
        // environment, no arguments, no network, and clocks stopped at zero
        // (plugins get time only through the fetch request).
        let mut b = WasiCtx::builder();
        b.allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .wall_clock(StoppedClock)
            .monotonic_clock(StoppedClock);
        JobState {
            wasi: b.build(),
            table: ResourceTable::new(),
            limits: MemoryCap::new(memory_limit),
            services,
        }
    }
}

impl WasiView for JobState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A clock that always reads zero.
struct StoppedClock;

impl HostWallClock for StoppedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for StoppedClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Caps linear memory and tables; remembers that it refused, so the runtime
/// can report "memory limit" instead of a bare trap.
pub(crate) struct MemoryCap {
    pub(crate) limit: usize,
    pub(crate) refused: bool,
}

impl MemoryCap {
    fn new(limit: usize) -> Self {
        MemoryCap {
            limit,
            refused: false,
        }
    }
}

const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.refused = true;
            wasmtime::bail!(
                "memory limit of {} bytes reached (asked for {desired})",
                self.limit
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.refused = true;
            wasmtime::bail!("table limit of {MAX_TABLE_ELEMENTS} elements reached");
        }
        Ok(true)
    }
}

impl types::Host for JobState {}

impl http::Host for JobState {
    async fn send(&mut self, req: http::Request) -> Result<http::Response, http::HttpError> {
        self.services.http_send(req).await
    }
}

impl store::Host for JobState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, String> {
        self.services.kv_get(key).await
    }
    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> Result<(), String> {
        self.services.kv_set(key, value, ttl_seconds).await
    }
    async fn delete(&mut self, key: String) -> Result<(), String> {
        self.services.kv_delete(key).await
    }
}

impl matching::Host for JobState {
    async fn find(
        &mut self,
        kind: matching::MatchKind,
        fields: Vec<matching::MatchField>,
    ) -> Result<Vec<matching::Candidate>, String> {
        self.services.find_matches(kind, fields).await
    }
}

impl log::Host for JobState {
    async fn write(&mut self, level: log::Level, message: String) {
        self.services.log(level, message);
    }
}

impl config::Host for JobState {
    async fn get(&mut self, name: String) -> Option<String> {
        self.services.config_get(&name)
    }
    async fn all(&mut self) -> Vec<(String, String)> {
        self.services.config_all()
    }
}
