//! `switchyard bench`: figures of the runtime, printed as a table. Ratios are
//! measured in one run (wasm vs native, cache vs compile) so a noisy shared
//! machine still gives comparable numbers; nothing here asserts a time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use switchyard_engine::Switchyard;
use switchyard_runtime::bindings::{FetchRequest, RawRecord};
use switchyard_runtime::{LoadedPlugin, NoServices, Runtime, RuntimeConfig};
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig};
use switchyard_store::{NewConnection, Secrets};

use crate::setup;

#[derive(clap::Args)]
pub(crate) struct BenchArgs {
    /// Calls measured per figure.
    #[arg(long, default_value_t = 2000)]
    calls: u32,
    /// Orders mapped in the map-in comparison.
    #[arg(long, default_value_t = 2000)]
    records: usize,
    /// Directory of the test plugins (the `echo` plugin measures bare calls).
    #[arg(
        long,
        env = "SWITCHYARD_TEST_PLUGIN_DIR",
        default_value = "target/test-plugins"
    )]
    test_plugins: PathBuf,
}

struct Row(&'static str, String, String);

pub(crate) async fn run(plugins: &Path, args: BenchArgs) -> Result<()> {
    let echo = std::fs::read(args.test_plugins.join("echo.wasm"))
        .context("echo.wasm missing: run `cargo xtask bench`")?;
    let pressero_path = plugins.join("pressero.wasm");
    let mut rows = Vec::new();

    // Compilation: fresh each time vs from the on-disk cache.
    let plain = Runtime::new(RuntimeConfig {
        pooling: false,
        ..Default::default()
    })?;
    let mut compile = u64::MAX;
    for _ in 0..3 {
        let p = LoadedPlugin::load_bytes(&plain, &echo, Path::new("echo.wasm")).await?;
        compile = compile.min(p.source().compile_micros);
    }
    let cache_dir = std::env::temp_dir().join(format!("switchyard-bench-{}", std::process::id()));
    let cached_rt = Runtime::new(RuntimeConfig {
        pooling: false,
        compile_cache_dir: Some(cache_dir.clone()),
        ..Default::default()
    })?;
    LoadedPlugin::load_bytes(&cached_rt, &echo, Path::new("echo.wasm")).await?;
    let mut from_cache = u64::MAX;
    for _ in 0..3 {
        let p = LoadedPlugin::load_bytes(&cached_rt, &echo, Path::new("echo.wasm")).await?;
        from_cache = from_cache.min(p.source().compile_micros);
    }
    rows.push(Row(
        "compile component (echo)",
        format!("{:.2} ms", compile as f64 / 1000.0),
        "1.00×".into(),
    ));
    rows.push(Row(
        "load from compile cache",
        format!("{:.2} ms", from_cache as f64 / 1000.0),
        format!("{:.1}× faster", compile as f64 / from_cache.max(1) as f64),
    ));

    // Instantiation from InstancePre, on-demand vs pooling allocator.
    let pooled = Runtime::new(RuntimeConfig::default())?;
    let mut inst = Vec::new();
    for rt in [&plain, &pooled] {
        let p = LoadedPlugin::load_bytes(rt, &echo, Path::new("echo.wasm")).await?;
        let n = args.calls.min(1000);
        let t = Instant::now();
        for _ in 0..n {
            let job = p.start_job(Arc::new(NoServices)).await?;
            drop(job);
        }
        inst.push(t.elapsed().as_secs_f64() * 1e6 / f64::from(n));
    }
    rows.push(Row(
        "instantiate from InstancePre (on demand)",
        format!("{:.1} µs", inst[0]),
        "1.00×".into(),
    ));
    rows.push(Row(
        "instantiate from InstancePre (pooling)",
        format!("{:.1} µs", inst[1]),
        format!("{:.1}× faster", inst[0] / inst[1]),
    ));

    // Per-call overhead: a trivial export on one instance.
    let p = LoadedPlugin::load_bytes(&pooled, &echo, Path::new("echo.wasm")).await?;
    let mut job = p.start_job(Arc::new(NoServices)).await?;
    let t = Instant::now();
    for _ in 0..args.calls {
        job.check().await?;
    }
    let per_call = t.elapsed().as_secs_f64() * 1e6 / f64::from(args.calls);
    rows.push(Row(
        "call a trivial export (check)",
        format!("{per_call:.2} µs"),
        String::new(),
    ));

    // map-in: the Pressero mapping in wasm vs the same code natively.
    let raws = pressero_records(plugins, &pressero_path, args.records).await?;
    let pressero = LoadedPlugin::load_file(&pooled, &pressero_path).await?;
    let mut job = pressero.start_job(Arc::new(NoServices)).await?;
    let t = Instant::now();
    for raw in &raws {
        job.map_in("orders", raw).await?;
    }
    let wasm_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for raw in &raws {
        std::hint::black_box(switchyard_plugin_pressero::map::order(&raw.data, true).ok());
    }
    let native_s = t.elapsed().as_secs_f64();
    let n = raws.len() as f64;
    rows.push(Row(
        "map-in Pressero orders, native",
        format!("{:.0} records/s", n / native_s),
        "1.00×".into(),
    ));
    rows.push(Row(
        "map-in Pressero orders, wasm",
        format!("{:.0} records/s", n / wasm_s),
        format!("{:.2}× native time", wasm_s / native_s),
    ));

    println!("{:<44} {:>20} {:>18}", "figure", "value", "ratio");
    println!("{}", "-".repeat(84));
    for Row(name, value, ratio) in rows {
        println!("{name:<44} {value:>20} {ratio:>18}");
    }
    let _ = std::fs::remove_dir_all(cache_dir);
    Ok(())
}

/// Raw order records as the plugin fetches them from a simulator.
async fn pressero_records(plugins: &Path, _plugin: &Path, count: usize) -> Result<Vec<RawRecord>> {
    let sim = spawn_pressero(PresseroConfig {
        orders: count,
        ..Default::default()
    })
    .await?;
    let dir = std::env::temp_dir().join(format!("switchyard-bench-db-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let host: Switchyard = setup::open_host(&dir, plugins).await?;
    let creds = sim.credentials().clone();
    let tenant = host.store().ensure_tenant("bench").await?;
    let mut c = NewConnection::new(tenant, "pressero", "bench");
    c.settings = [
        ("base-url", sim.base_url()),
        ("username", creds.user_name.clone()),
        ("subscriber-id", creds.subscriber_id.clone()),
        (switchyard_engine::RATE_LIMIT_SETTING, "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    c.secrets = Secrets::new()
        .with("password", creds.password.clone())
        .with("consumer-id", creds.consumer_id.clone());
    c.live = true;
    let id = host.store().create_connection(c).await?;
    let (conn, plugin) = host.plugin_for(id).await?;
    let services = host.services_for(&conn, &plugin, None).await?;
    let mut job = plugin.start_job(services).await?;
    let mut out = Vec::new();
    let mut cursor = None;
    while out.len() < count {
        let page = job
            .fetch(&FetchRequest {
                stream: "orders".into(),
                cursor: cursor.clone(),
                page_size: 200,
                now: "2030-01-01T00:00:00Z".into(),
                external_ids: Vec::new(),
            })
            .await?;
        out.extend(page.records);
        cursor = page.next_cursor;
        if !page.has_more {
            break;
        }
    }
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(out)
}
