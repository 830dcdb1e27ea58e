//! The Presswise connector, built as a wasm component, against the simulator
//! through the host: check (secrets filled in by the host, the `{{config:url}}`
//! allow-list) and catalogue imports.

use switchyard_e2e::{host_in, plugin_dir};
use switchyard_engine::{ImportOptions, Switchyard};
use switchyard_runtime::RuntimeConfig;
use switchyard_sim::presswise::{spawn_presswise, PresswiseConfig, PresswiseSim};
use switchyard_sim::RunningSim;
use switchyard_store::{ConnectionId, NewConnection, Secrets};

async fn connection(
    host: &Switchyard,
    sim: &RunningSim<PresswiseSim>,
    name: &str,
    password: &str,
) -> ConnectionId {
    let creds = sim.credentials().clone();
    let tenant = host.store().ensure_tenant("acme").await.expect("tenant");
    let mut c = NewConnection::new(tenant, "presswise", name);
    c.settings = [
        ("url", sim.base_url()),
        ("username", creds.user.clone()),
        ("currency", "USD".to_string()),
        (switchyard_engine::RATE_LIMIT_SETTING, "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    c.secrets = Secrets::new()
        .with("password", password)
        .with("authorization-code", creds.code.clone());
    c.enabled = true;
    c.live = true;
    host.store().create_connection(c).await.expect("connection")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_catalogue_import_through_the_host() {
    let sim = spawn_presswise(PresswiseConfig {
        orders: 10,
        products: 230,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = host_in(dir.path(), &plugin_dir(), RuntimeConfig::default()).await;
    let pass = sim.credentials().pass.clone();

    let good = connection(&host, &sim, "presswise", &pass).await;
    let message = host.check(good).await.expect("connects");
    assert!(
        message.contains("connected to Presswise as user switchyard"),
        "{message}"
    );

    let bad = connection(&host, &sim, "presswise-wrong", "wrong-pass").await;
    let e = host.check(bad).await.expect_err("a wrong password fails");
    let text = e.to_string();
    assert!(
        text.to_lowercase().contains("authentication failed"),
        "{text}"
    );

    let opts = ImportOptions::default();
    let products = host.import(good, "products", &opts, &()).await.unwrap();
    assert_eq!(products.created, 230, "{products:?}");
    assert_eq!(products.failed, 0, "{products:?}");
    assert_eq!(products.pages, 3, "{products:?}");
    let categories = host.import(good, "categories", &opts, &()).await.unwrap();
    let (cats, _) = sim.catalogue();
    assert_eq!(categories.created as usize, cats.len(), "{categories:?}");
    let tenant = host.store().connection(good).await.unwrap().tenant;
    assert_eq!(
        host.store()
            .count_canonical(tenant, "product")
            .await
            .unwrap(),
        230
    );
    // A second pass starts over and changes nothing.
    let again = host.import(good, "products", &opts, &()).await.unwrap();
    assert_eq!((again.created, again.updated), (0, 0), "{again:?}");
    assert_eq!(again.unchanged, 230, "{again:?}");

    // No secret reaches the activity log.
    for c in [good, bad] {
        for a in host.store().activity(c, None, 10_000).await.unwrap() {
            let line = format!("{} {:?}", a.message, a.detail);
            assert!(!line.contains(&pass), "{line}");
            assert!(!line.contains(&sim.credentials().code), "{line}");
        }
    }
    sim.shutdown().await;
}
