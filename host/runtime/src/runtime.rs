use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::Plugin;
use crate::compile_cache::CompileCache;
use crate::error::RuntimeError;
use crate::sandbox::JobState;

/// How plugins are run.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Wall-clock budget of one export call (host calls included).
    pub call_deadline: Duration,
    /// Optional instruction budget per call (fuel units, roughly one per wasm op).
    pub fuel_per_call: Option<u64>,
    /// Linear memory cap of one instance.
    pub memory_limit_bytes: usize,
    /// Use the pooling allocator (fast instantiation, bounded instance count).
    pub pooling: bool,
    /// With pooling: how many instances may be live at once.
    pub max_instances: u32,
    /// Where compiled components are kept between runs; none = compile every load.
    pub compile_cache_dir: Option<PathBuf>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            call_deadline: Duration::from_secs(60),
            fuel_per_call: None,
            memory_limit_bytes: 64 << 20,
            pooling: true,
            max_instances: 64,
            compile_cache_dir: None,
        }
    }
}

/// Epoch ticks per second; the deadline resolution.
const TICKS_PER_SECOND: u64 = 100;

/// The wasmtime engine and the linker every plugin is instantiated with.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

struct RuntimeInner {
    engine: Engine,
    linker: Linker<JobState>,
    config: RuntimeConfig,
    cache: Option<CompileCache>,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    /// Build the engine, the linker (WASI with nothing in it, plus the
    /// Switchyard capabilities) and start the epoch clock.
    pub fn new(config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let mut wcfg = Config::new();
        wcfg.wasm_component_model(true)
            .epoch_interruption(true)
            .consume_fuel(config.fuel_per_call.is_some())
            // The plugin contract has no async WIT functions; turning the
            // concurrency machinery off makes each call several times cheaper.
            .concurrency_support(false);
        if config.pooling {
            let mut pool = PoolingAllocationConfig::default();
            let n = config.max_instances.max(1);
            pool.total_component_instances(n)
                .total_core_instances(n * 8)
                .max_core_instances_per_component(16)
                .total_memories(n * 2)
                .max_memories_per_component(4)
                .total_tables(n * 8)
                .max_tables_per_component(16)
                .total_stacks(n)
                .max_memory_size(config.memory_limit_bytes);
            wcfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&wcfg).map_err(|e| RuntimeError::Setup(e.to_string()))?;

        let mut linker: Linker<JobState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| RuntimeError::Setup(e.to_string()))?;
        Plugin::add_to_linker::<JobState, HasSelf<JobState>>(&mut linker, |s| s)
            .map_err(|e| RuntimeError::Setup(e.to_string()))?;

        let cache = match &config.compile_cache_dir {
            Some(dir) => Some(CompileCache::open(dir, &engine)?),
            None => None,
        };

        let ticker_stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = ticker_stop.clone();
            std::thread::Builder::new()
                .name("switchyard-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(1000 / TICKS_PER_SECOND));
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| RuntimeError::Setup(format!("epoch thread: {e}")))?;
        }

        Ok(Runtime {
            inner: Arc::new(RuntimeInner {
                engine,
                linker,
                config,
                cache,
                ticker_stop,
            }),
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub(crate) fn linker(&self) -> &Linker<JobState> {
        &self.inner.linker
    }

    /// The configuration this runtime was built with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    pub(crate) fn compile_cache(&self) -> Option<&CompileCache> {
        self.inner.cache.as_ref()
    }

    /// The deadline of one call in epoch ticks (at least one).
    pub(crate) fn deadline_ticks(&self) -> u64 {
        let ms = self.inner.config.call_deadline.as_millis() as u64;
        (ms * TICKS_PER_SECOND / 1000).max(1)
    }
}
