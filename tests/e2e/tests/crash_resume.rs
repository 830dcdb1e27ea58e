//! A sync process killed with SIGKILL in the middle, then run again: every
//! order is present exactly once.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use switchyard_e2e::{plugin_dir, TEST_KEY};
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig};
use switchyard_sim::FaultConfig;
use switchyard_store::{RunStatus, SecretKey, Store};

fn switchyard_bin() -> std::path::PathBuf {
    std::env::var_os("SWITCHYARD_BIN")
        .map(Into::into)
        .expect("SWITCHYARD_BIN is set by `cargo xtask test`")
}

fn cli(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(switchyard_bin());
    cmd.env("SWITCHYARD_DATA_DIR", data)
        .env("SWITCHYARD_PLUGIN_DIR", plugin_dir())
        .env("SWITCHYARD_SECRET_KEY", TEST_KEY)
        .stdin(Stdio::null());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_sync_then_rerun_leaves_every_order_once() {
    let orders = 1500;
    let sim = spawn_pressero(PresseroConfig {
        orders,
        ..Default::default()
    })
    .await
    .unwrap();
    // Slow the simulator so the kill lands mid-run.
    sim.set_faults(FaultConfig {
        latency_ms: 3,
        ..Default::default()
    })
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let creds = sim.credentials().clone();
    let status = cli(data.path())
        .args(["connection", "add", "pressero", "shop"])
        .args(["--set", &format!("base-url={}", sim.base_url())])
        .args(["--set", &format!("username={}", creds.user_name)])
        .args(["--set", &format!("subscriber-id={}", creds.subscriber_id)])
        .args([
            "--set",
            &format!("{}=1000", switchyard_engine::RATE_LIMIT_SETTING),
        ])
        .args(["--secret", &format!("password={}", creds.password)])
        .args(["--secret", &format!("consumer-id={}", creds.consumer_id)])
        .status()
        .unwrap();
    assert!(status.success());

    let store = Store::open(
        &data.path().join("switchyard.db"),
        SecretKey::from_base64(TEST_KEY).unwrap(),
    )
    .await
    .unwrap();
    let tenant = store.ensure_tenant("default").await.unwrap();
    let conn = store
        .connection_by_name(tenant, "shop")
        .await
        .unwrap()
        .unwrap()
        .id;

    let mut child = cli(data.path())
        .args(["sync", "shop", "orders", "--page-size", "50"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some, but not all, orders are stored.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n = store.count_bindings(conn, "order").await.unwrap();
        if n >= 200 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "sync ended before it could be killed"
        );
        assert!(Instant::now() < deadline, "sync made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let partial = store.count_bindings(conn, "order").await.unwrap();
    assert!(
        partial < orders as u64,
        "killed too late to prove anything ({partial})"
    );

    sim.set_faults(FaultConfig::default()).unwrap();
    let out = cli(data.path())
        .args(["sync", "shop", "orders", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["failed"], 0, "{summary}");

    assert_eq!(
        store.count_bindings(conn, "order").await.unwrap(),
        orders as u64
    );
    assert_eq!(
        store.count_canonical(tenant, "order").await.unwrap(),
        orders as u64
    );
    // The killed run is closed as abandoned, not left "running" for ever.
    let runs = store.runs(conn, 10).await.unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(
        runs.iter().all(|r| r.status != RunStatus::Running),
        "{runs:?}"
    );
    let killed = runs
        .iter()
        .find(|r| r.status == RunStatus::Failed)
        .expect("the killed run");
    assert!(
        killed.error.as_deref().unwrap_or("").contains("abandoned"),
        "{killed:?}"
    );
    assert!(store.run_lock(conn, "orders").await.unwrap().is_none());
    sim.shutdown().await;
}
