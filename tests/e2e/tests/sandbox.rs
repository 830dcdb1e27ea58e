//! Hostile plugins, built from test crates, against the real runtime: each is
//! stopped with a clear error and the host goes on serving other plugins.

use std::time::Duration;

use switchyard_e2e::{host_in, test_plugin_dir};
use switchyard_engine::{ImportOptions, Switchyard};
use switchyard_runtime::{RuntimeConfig, RuntimeError};
use switchyard_store::{ConnectionId, NewConnection};

async fn hostile_host(dir: &std::path::Path) -> (Switchyard, ConnectionId, ConnectionId) {
    let config = RuntimeConfig {
        call_deadline: Duration::from_millis(1500),
        memory_limit_bytes: 32 << 20,
        ..Default::default()
    };
    let host = host_in(dir, &test_plugin_dir(), config).await;
    let tenant = host.store().ensure_tenant("mallory").await.unwrap();
    let mut c = NewConnection::new(tenant, "hostile", "hostile");
    // The only allowed destination is this (closed) loopback port.
    c.settings
        .insert("base-url".into(), "http://127.0.0.1:9/".into());
    c.live = true;
    let hostile = host.store().create_connection(c).await.unwrap();
    let mut e = NewConnection::new(tenant, "echo", "echo");
    e.settings
        .insert("base-url".into(), "http://127.0.0.1:9/".into());
    e.live = true;
    let echo = host.store().create_connection(e).await.unwrap();
    (host, hostile, echo)
}

async fn still_serving(host: &Switchyard, echo: ConnectionId) {
    let msg = host.check(echo).await.expect("echo still answers");
    assert!(msg.starts_with("echo "), "{msg}");
}

async fn fetch_error(host: &Switchyard, conn: ConnectionId, stream: &str) -> String {
    let err = host
        .import(conn, stream, &ImportOptions::default(), &())
        .await
        .expect_err("hostile stream must fail");
    err.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_loop_is_stopped_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let (host, hostile, echo) = hostile_host(dir.path()).await;
    let msg = fetch_error(&host, hostile, "loop").await;
    assert!(msg.contains("exceeded its deadline of 1500 ms"), "{msg}");
    still_serving(&host, echo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (host, hostile, echo) = hostile_host(dir.path()).await;
    let msg = fetch_error(&host, hostile, "bomb").await;
    assert!(msg.contains("memory limit of 33554432 bytes"), "{msg}");
    still_serving(&host, echo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_outside_the_allow_list_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (host, hostile, echo) = hostile_host(dir.path()).await;
    let msg = fetch_error(&host, hostile, "escape").await;
    assert!(
        msg.contains("Denied(") && msg.contains("allow-list"),
        "{msg}"
    );
    assert!(msg.contains("127.0.0.2"), "the error names the host: {msg}");
    still_serving(&host, echo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_environment_and_clock_yield_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (host, hostile, echo) = hostile_host(dir.path()).await;
    std::env::set_var("SWITCHYARD_SHOULD_NOT_LEAK", "1");
    let report = host.check(hostile).await.unwrap();
    assert!(report.contains("file=error"), "{report}");
    assert!(report.contains("dir=error"), "{report}");
    assert!(report.contains("env=0"), "{report}");
    assert!(report.contains("args=0"), "{report}");
    assert!(report.contains("clock=0"), "{report}");
    still_serving(&host, echo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_clear_trap_and_the_host_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (host, hostile, echo) = hostile_host(dir.path()).await;
    let msg = fetch_error(&host, hostile, "trap").await;
    assert!(msg.contains("hostile plugin: `fetch` trapped"), "{msg}");
    still_serving(&host, echo).await;
}

#[test]
fn runtime_errors_name_the_plugin_and_call() {
    let e = RuntimeError::Deadline {
        provider: "x".into(),
        call: "fetch",
        deadline_ms: 5,
    };
    assert_eq!(
        e.to_string(),
        "x plugin: `fetch` exceeded its deadline of 5 ms and was stopped"
    );
}
