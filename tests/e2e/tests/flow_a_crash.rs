//! A conversion by the `switchyard` binary killed with SIGKILL at several points — before a
//! step is sent, after it is sent but before the answer is recorded, after it is recorded —
//! then run again: the company, contact, address and order are each on M-Power once.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use switchyard_e2e::{
    days_ago_ms, host_with_timeout, mpower_connection, plugin_dir, pressero_connection,
    stream_flow, TEST_KEY,
};
use switchyard_engine::crash_point::CRASH_AT_ENV;
use switchyard_sim::mpower::{spawn_mpower, MpowerConfig};
use switchyard_sim::pressero::{spawn_pressero, PlacedOrder, PresseroConfig};
use switchyard_store::RequestState;

fn convert_command(data: &std::path::Path, request: i64) -> Command {
    let bin =
        std::env::var_os("SWITCHYARD_BIN").expect("SWITCHYARD_BIN is set by `cargo xtask test`");
    let mut cmd = Command::new(bin);
    cmd.env("SWITCHYARD_DATA_DIR", data)
        .env("SWITCHYARD_PLUGIN_DIR", plugin_dir())
        .env("SWITCHYARD_SECRET_KEY", TEST_KEY)
        .env_remove(CRASH_AT_ENV)
        .args(["inbox", "convert", &request.to_string(), "--tenant", "acme"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_conversion_then_again_creates_everything_once() {
    let pressero = spawn_pressero(PresseroConfig {
        orders: 1,
        base_time: days_ago_ms(2),
        ..Default::default()
    })
    .await
    .unwrap();
    let mpower = spawn_mpower(MpowerConfig {
        contacts: 30,
        products: 30,
        orders: 2,
        order_requests: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let host = host_with_timeout(data.path(), &plugin_dir(), Duration::from_secs(5)).await;
    let password = pressero.credentials().password.clone();
    let shop = pressero_connection(&host, &pressero, "shop", &password).await;
    let mis = mpower_connection(&host, &mpower, "mpower", &[]).await;
    let flow = stream_flow(
        &host,
        "shop-to-mpower",
        (shop, "orders"),
        (mis, "orders"),
        json!({"mode": "inbox"}),
    )
    .await;
    let number = pressero.place_order(&PlacedOrder {
        email: "crash.test@example.org".into(),
        first_name: "Cora".into(),
        last_name: "Rash".into(),
        business: "Crash Test Printing B.V.".into(),
        street: "Damrak 70".into(),
        postcode: "1012 LM".into(),
        city: "Amsterdam".into(),
        country: "NL".into(),
        products: vec![0],
    });
    host.sync_flow(flow).await.unwrap();
    let tenant = host.store().connection(mis).await.unwrap().tenant;
    let request = host
        .store()
        .order_request_by_reference(tenant, mis, "shop", &number.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(request.state, RequestState::Ready, "{:?}", request.reason);

    // Steps: company, contact, address, order. Each kill leaves one step ambiguous.
    for crash in [
        "before-send:1",
        "after-send:1",
        "after-send:2",
        "after-record:2",
        "after-send:1",
    ] {
        let out = convert_command(data.path(), request.id)
            .env(CRASH_AT_ENV, crash)
            .output()
            .unwrap();
        assert_eq!(
            out.status.signal(),
            Some(9),
            "{crash}: not killed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = convert_command(data.path(), request.id).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = convert_command(data.path(), request.id).output().unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("converted before"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    for resource in ["companies", "contacts", "addresses", "orders"] {
        assert_eq!(
            mpower.created(Some(resource)).len(),
            1,
            "{resource}: {:?}",
            mpower.created(Some(resource))
        );
    }
    let done = host
        .store()
        .order_request(tenant, request.id)
        .await
        .unwrap();
    assert_eq!(done.state, RequestState::Converted);
    let order = mpower
        .order_json(done.external_id.unwrap().parse().unwrap())
        .unwrap();
    assert_eq!(order["external_reference"], number.to_string());
}
