//! Support for the end-to-end tests: the built plugins, a host on a temporary
//! embedded database, and connections to the simulators.
//!
//! The plugin directories come from `cargo xtask test`, which builds the wasm
//! components first (`SWITCHYARD_PLUGIN_DIR`, `SWITCHYARD_TEST_PLUGIN_DIR`).

use std::path::{Path, PathBuf};

use switchyard_engine::Switchyard;
use switchyard_http::{HttpCapability, HttpDefaults};
use switchyard_runtime::{PluginRegistry, Runtime, RuntimeConfig};
use switchyard_sim::pressero::PresseroSim;
use switchyard_sim::RunningSim;
use switchyard_store::{ConnectionId, NewConnection, SecretKey, Secrets, Store};

fn dir_from_env(var: &str, default: &str) -> PathBuf {
    let dir = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(default)
    });
    assert!(
        dir.is_dir(),
        "{} does not exist: run the tests with `cargo xtask test`, which builds the wasm plugins first",
        dir.display()
    );
    dir
}

/// Where the built connector plugins are.
pub fn plugin_dir() -> PathBuf {
    dir_from_env("SWITCHYARD_PLUGIN_DIR", "target/plugins")
}

/// Where the built test plugins (hostile, echo) are.
pub fn test_plugin_dir() -> PathBuf {
    dir_from_env("SWITCHYARD_TEST_PLUGIN_DIR", "target/test-plugins")
}

/// A fixed test key, so a child process and the test share the database.
pub const TEST_KEY: &str = "c3dpdGNoeWFyZC10ZXN0LWtleS0zMi1ieXRlcy1vayE=";

/// A host on an embedded database in `dir`, with every plugin of `plugins`.
pub async fn host_in(dir: &Path, plugins: &Path, config: RuntimeConfig) -> Switchyard {
    let key = SecretKey::from_base64(TEST_KEY).expect("test key");
    let store = Store::open(&dir.join("switchyard.db"), key)
        .await
        .expect("store");
    let runtime = Runtime::new(config).expect("runtime");
    let registry = PluginRegistry::new(runtime);
    let report = registry.scan_dir(plugins).await.expect("plugin dir");
    assert!(
        report.refused.is_empty(),
        "plugins refused: {:?}",
        report.refused
    );
    Switchyard::new(
        store,
        registry,
        HttpCapability::new(HttpDefaults::default()).expect("http"),
    )
}

/// A live Pressero connection to a simulator, with the given password.
pub async fn pressero_connection(
    host: &Switchyard,
    sim: &RunningSim<PresseroSim>,
    name: &str,
    password: &str,
) -> ConnectionId {
    pressero_connection_with(host, sim, name, password, &[]).await
}

/// A live Pressero connection with further settings (e.g. the `site` of catalogue streams).
pub async fn pressero_connection_with(
    host: &Switchyard,
    sim: &RunningSim<PresseroSim>,
    name: &str,
    password: &str,
    more: &[(&str, &str)],
) -> ConnectionId {
    let creds = sim.credentials().clone();
    let tenant = host.store().ensure_tenant("acme").await.expect("tenant");
    let mut c = NewConnection::new(tenant, "pressero", name);
    c.settings = [
        ("data-centre", "amsterdam".to_string()),
        ("base-url", sim.base_url()),
        ("username", creds.user_name.clone()),
        ("subscriber-id", creds.subscriber_id.clone()),
        // The simulator is local: no need to pace requests as for the real API.
        (switchyard_engine::RATE_LIMIT_SETTING, "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .chain(more.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    .collect();
    c.secrets = Secrets::new()
        .with("password", password)
        .with("consumer-id", creds.consumer_id.clone());
    c.enabled = true;
    c.live = true;
    host.store().create_connection(c).await.expect("connection")
}

/// A host like [`host_in`] whose HTTP capability gives up on a silent provider after
/// `timeout` (the fault tests make the simulators hang on purpose).
pub async fn host_with_timeout(
    dir: &Path,
    plugins: &Path,
    timeout: std::time::Duration,
) -> Switchyard {
    let key = SecretKey::from_base64(TEST_KEY).expect("test key");
    let store = Store::open(&dir.join("switchyard.db"), key)
        .await
        .expect("store");
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let registry = PluginRegistry::new(runtime);
    let report = registry.scan_dir(plugins).await.expect("plugin dir");
    assert!(
        report.refused.is_empty(),
        "plugins refused: {:?}",
        report.refused
    );
    let http = HttpCapability::new(HttpDefaults {
        timeout,
        ..HttpDefaults::default()
    })
    .expect("http");
    Switchyard::new(store, registry, http)
}

/// A live Presswise connection to a simulator; items without a linked product go to the
/// catalogue's first active product.
pub async fn presswise_connection(
    host: &Switchyard,
    sim: &RunningSim<switchyard_sim::presswise::PresswiseSim>,
    name: &str,
) -> ConnectionId {
    let creds = sim.credentials().clone();
    let (_, products) = sim.catalogue();
    let default_product = products
        .iter()
        .find(|p| p.active)
        .expect("an active product")
        .product_id;
    let tenant = host.store().ensure_tenant("acme").await.expect("tenant");
    let mut c = NewConnection::new(tenant, "presswise", name);
    c.settings = [
        ("url", sim.base_url()),
        ("username", creds.user.clone()),
        ("default-product-id", default_product.to_string()),
        (switchyard_engine::RATE_LIMIT_SETTING, "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    c.secrets = Secrets::new()
        .with("password", creds.pass.clone())
        .with("authorization-code", creds.code.clone());
    c.enabled = true;
    c.live = true;
    host.store().create_connection(c).await.expect("connection")
}

/// A Live, Enabled flow from a connection's `orders` to another's `orders`.
pub async fn order_flow(
    host: &Switchyard,
    name: &str,
    source: ConnectionId,
    target: ConnectionId,
    settings: serde_json::Value,
) -> switchyard_store::FlowId {
    stream_flow(host, name, (source, "orders"), (target, "orders"), settings).await
}

/// A Live, Enabled flow from one connection's stream to another's.
pub async fn stream_flow(
    host: &Switchyard,
    name: &str,
    (source, source_stream): (ConnectionId, &str),
    (target, target_stream): (ConnectionId, &str),
    settings: serde_json::Value,
) -> switchyard_store::FlowId {
    let tenant = host
        .store()
        .connection(source)
        .await
        .expect("source")
        .tenant;
    host.store()
        .create_flow(switchyard_store::NewFlow {
            tenant,
            name: name.into(),
            source,
            source_stream: source_stream.into(),
            target,
            target_stream: target_stream.into(),
            settings,
            enabled: true,
            live: true,
            schedule: None,
        })
        .await
        .expect("flow")
}

/// Milliseconds since the epoch, `days` ago: simulator data placed inside the push window.
pub fn days_ago_ms(days: i64) -> i64 {
    (chrono::Utc::now() - chrono::Duration::days(days)).timestamp_millis()
}

/// A live M-Power connection to a simulator, with extra settings (e.g. `product-matching`).
pub async fn mpower_connection(
    host: &Switchyard,
    sim: &RunningSim<switchyard_sim::mpower::MpowerSim>,
    name: &str,
    extra: &[(&str, &str)],
) -> ConnectionId {
    let tenant = host.store().ensure_tenant("acme").await.expect("tenant");
    let mut c = NewConnection::new(tenant, "mpower", name);
    c.settings = [
        ("url", sim.base_url()),
        (switchyard_engine::RATE_LIMIT_SETTING, "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    .collect();
    c.secrets = Secrets::new().with("api-key", sim.api_key());
    c.enabled = true;
    c.live = true;
    host.store().create_connection(c).await.expect("connection")
}
