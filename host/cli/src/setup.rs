//! Opening the embedded host and building/inspecting plugins.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use switchyard_engine::Switchyard;
use switchyard_http::{HttpCapability, HttpDefaults};
use switchyard_runtime::{LoadedPlugin, PluginRegistry, Runtime, RuntimeConfig};
use switchyard_store::{ConnectionId, KeyError, SecretKey, Store};

/// The embedded default: SQLite file, key file and compile cache in `data_dir`,
/// every plugin of `plugins` loaded.
pub(crate) async fn open_host(data_dir: &Path, plugins: &Path) -> Result<Switchyard> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    // A key given by the environment must work; only when none is given does
    // the embedded default create one beside the database.
    let key = match SecretKey::from_env_or_file() {
        Ok(k) => k,
        Err(KeyError::Missing) => SecretKey::load_or_create(&data_dir.join("secret.key"))?,
        Err(e) => return Err(e).context("secret key from SWITCHYARD_SECRET_KEY(_FILE)"),
    };
    let store = Store::open(&data_dir.join("switchyard.db"), key).await?;
    let runtime = Runtime::new(RuntimeConfig {
        compile_cache_dir: Some(data_dir.join("compile-cache")),
        ..Default::default()
    })?;
    let registry = PluginRegistry::new(runtime);
    let report = registry
        .scan_dir(plugins)
        .await
        .with_context(|| format!("cannot read plugin directory {}", plugins.display()))?;
    for refused in &report.refused {
        eprintln!("warning: {refused}");
    }
    for p in registry.plugins() {
        store
            .record_plugin_version(
                p.provider(),
                p.version(),
                &p.source().sha256,
                &p.source().path,
            )
            .await?;
    }
    let http = HttpCapability::new(HttpDefaults::default())?;
    Ok(Switchyard::new(store, registry, http))
}

pub(crate) async fn find_connection(
    host: &Switchyard,
    tenant: &str,
    name: &str,
) -> Result<ConnectionId> {
    let tenant = host.store().ensure_tenant(tenant).await?;
    match host.store().connection_by_name(tenant, name).await? {
        Some(c) => Ok(c.id),
        None => bail!("no connection named {name:?}"),
    }
}

/// `plugin build [NAME]`: cargo builds the crate(s) for wasm32-wasip2.
pub(crate) fn build_plugins(name: Option<&str>) -> Result<()> {
    let status = Command::new("rustup")
        .args(["target", "add", "wasm32-wasip2"])
        .status()
        .context("cannot run rustup")?;
    if !status.success() {
        bail!("rustup target add wasm32-wasip2 failed");
    }
    let mut cmd = Command::new("cargo");
    cmd.args(["build", "--release", "--target", "wasm32-wasip2"]);
    match name {
        Some(n) => {
            cmd.args(["--package", &format!("switchyard-plugin-{n}")]);
        }
        None => {
            for entry in std::fs::read_dir("plugins").context("run this from the workspace root")? {
                let entry = entry?;
                if entry.path().join("Cargo.toml").exists() {
                    let n = entry.file_name().to_string_lossy().to_string();
                    cmd.args(["--package", &format!("switchyard-plugin-{n}")]);
                }
            }
        }
    }
    let status = cmd.status().context("cannot run cargo")?;
    if !status.success() {
        bail!("plugin build failed");
    }
    println!("built; components are in target/wasm32-wasip2/release/*.wasm");
    Ok(())
}

/// `plugin inspect FILE`: validate, then print manifest and world.
pub(crate) async fn inspect(file: &Path) -> Result<()> {
    let runtime = Runtime::new(RuntimeConfig {
        pooling: false,
        ..Default::default()
    })?;
    let plugin: Arc<LoadedPlugin> = LoadedPlugin::load_file(&runtime, file).await?;
    let m = plugin.manifest();
    let world = plugin.world(&runtime)?;
    let out = serde_json::json!({
        "file": file.display().to_string(),
        "sha256": plugin.source().sha256,
        "world": {
            "imports": world.0,
            "exports": world.1,
        },
        "manifest": m,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
