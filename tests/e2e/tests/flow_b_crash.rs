//! A push run of the `switchyard` binary killed with SIGKILL at several points — before
//! sending, after sending but before the answer is recorded, after recording mid-page —
//! then run again: every eligible order is on Presswise exactly once.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use switchyard_e2e::{
    days_ago_ms, host_with_timeout, order_flow, plugin_dir, pressero_connection,
    presswise_connection, TEST_KEY,
};
use switchyard_engine::crash_point::CRASH_AT_ENV;
use switchyard_engine::push_rules::holds;
use switchyard_runtime::bindings::Entity;
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig};
use switchyard_sim::presswise::{spawn_presswise, PresswiseConfig};
use switchyard_store::PushState;

fn push_command(data: &std::path::Path) -> Command {
    let bin =
        std::env::var_os("SWITCHYARD_BIN").expect("SWITCHYARD_BIN is set by `cargo xtask test`");
    let mut cmd = Command::new(bin);
    cmd.env("SWITCHYARD_DATA_DIR", data)
        .env("SWITCHYARD_PLUGIN_DIR", plugin_dir())
        .env("SWITCHYARD_SECRET_KEY", TEST_KEY)
        .env_remove(CRASH_AT_ENV)
        .args(["flow", "push", "shop-to-presswise", "--tenant", "acme"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_each_point_of_a_push_loses_and_doubles_nothing() {
    let pressero = spawn_pressero(PresseroConfig {
        orders: 200,
        base_time: days_ago_ms(5),
        ..Default::default()
    })
    .await
    .unwrap();
    let presswise = spawn_presswise(PresswiseConfig::default()).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let host = host_with_timeout(data.path(), &plugin_dir(), Duration::from_secs(5)).await;
    let password = pressero.credentials().password.clone();
    let source = pressero_connection(&host, &pressero, "shop", &password).await;
    let target = presswise_connection(&host, &presswise, "presswise").await;
    let flow = order_flow(
        &host,
        "shop-to-presswise",
        source,
        target,
        json!({"page-size": 20}),
    )
    .await;
    host.import(source, "orders", &Default::default(), &())
        .await
        .unwrap();

    let mut eligible = Vec::new();
    for n in pressero.order_numbers() {
        let b = host
            .store()
            .binding(source, "order", &n.to_string())
            .await
            .unwrap()
            .unwrap();
        let r = host
            .store()
            .canonical(&b.canonical_id)
            .await
            .unwrap()
            .unwrap();
        let Entity::Order(o) = serde_json::from_value(r.data).unwrap() else {
            panic!()
        };
        if holds(&o).is_empty() {
            eligible.push((o.number, r.id));
        }
    }
    assert!(eligible.len() > 30, "{} eligible", eligible.len());

    // Each crash point, at a hit count inside a page; every run goes on from the last.
    for (point, at) in [
        ("before-send", 3),
        ("after-send", 4),
        ("after-record", 7),
        ("after-send", 25),
    ] {
        let out = push_command(data.path())
            .env(CRASH_AT_ENV, format!("{point}:{at}"))
            .output()
            .unwrap();
        assert_eq!(
            out.status.signal(),
            Some(SIGKILL),
            "{point}:{at} should kill the run: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        // The killed run's log shows what it sent up to the kill: one payload per send, and
        // the exchanges of those sends.
        let killed = host.store().runs(source, 1).await.unwrap().remove(0);
        let sent = if point == "before-send" { at - 1 } else { at };
        let log = log_of_run(data.path(), &killed.id.to_string());
        let payloads: Vec<&serde_json::Value> =
            log.iter().filter(|e| e["kind"] == "push-payload").collect();
        assert_eq!(payloads.len(), sent, "{point}:{at}: {log:#?}");
        assert!(
            payloads
                .iter()
                .all(|e| e["detail"]["payload"].is_string() || e["detail"]["payload"].is_object()),
            "{payloads:#?}"
        );
        let exchanges = log.iter().filter(|e| e["kind"] == "http").count();
        assert!(
            exchanges >= sent,
            "{point}:{at}: {exchanges} exchanges for {sent} sends"
        );
    }
    let stuck = count_in_state(&host, flow, &eligible, PushState::Sending).await;
    assert!(
        stuck >= 1,
        "an attempt was killed after sending, before its answer was recorded"
    );

    let out = push_command(data.path()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (number, id) in &eligible {
        assert_eq!(presswise.count_for_source(number), 1, "order {number}");
        let p = host.store().push_record(flow, id).await.unwrap().unwrap();
        assert_eq!(p.state, PushState::Pushed, "order {number}: {p:?}");
    }
    assert_eq!(presswise.pushed_orders().len(), eligible.len());
    pressero.shutdown().await;
    presswise.shutdown().await;
}

/// The entries of one run, as `switchyard log --run RUN --json` prints them.
fn log_of_run(data: &std::path::Path, run: &str) -> Vec<serde_json::Value> {
    let bin =
        std::env::var_os("SWITCHYARD_BIN").expect("SWITCHYARD_BIN is set by `cargo xtask test`");
    let out = Command::new(bin)
        .env("SWITCHYARD_DATA_DIR", data)
        .env("SWITCHYARD_PLUGIN_DIR", plugin_dir())
        .env("SWITCHYARD_SECRET_KEY", TEST_KEY)
        .env_remove(CRASH_AT_ENV)
        .args([
            "log", "--run", run, "--tenant", "acme", "--json", "--limit", "10000",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The signal `kill -9` sends.
const SIGKILL: i32 = 9;

async fn count_in_state(
    host: &switchyard_engine::Switchyard,
    flow: switchyard_store::FlowId,
    eligible: &[(String, switchyard_store::CanonicalId)],
    state: PushState,
) -> usize {
    let mut n = 0;
    for (_, id) in eligible {
        if host
            .store()
            .push_record(flow, id)
            .await
            .unwrap()
            .is_some_and(|p| p.state == state)
        {
            n += 1;
        }
    }
    n
}
