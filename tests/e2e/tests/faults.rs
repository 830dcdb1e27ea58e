//! Flow B under the faults real providers have every day — 5xx, half a JSON or SOAP body,
//! bodies cut off mid-transfer, bursts of 429, requests that are never answered — on both
//! sides at once: the runs go on past them, report what failed and why, and at most three
//! `flow sync` runs bring every eligible order to Presswise exactly once and every status
//! back to Pressero.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use switchyard_e2e::{
    days_ago_ms, host_with_timeout, order_flow, plugin_dir, pressero_connection_with,
    presswise_connection,
};
use switchyard_engine::push_rules::holds;
use switchyard_engine::{FlowSyncSummary, Switchyard};
use switchyard_runtime::bindings::{Entity, Order};
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig, PresseroSim};
use switchyard_sim::presswise::{model::Shipment, spawn_presswise, PresswiseConfig, PresswiseSim};
use switchyard_sim::{FaultConfig, RunningSim};
use switchyard_store::{CanonicalId, ConnectionId, FlowId, PushState};

/// The mix of everyday faults, as the issue measured it.
fn everyday_faults() -> FaultConfig {
    FaultConfig {
        error_rate: 0.05,
        malformed_rate: 0.02,
        truncated_rate: 0.02,
        throttle_every: 400,
        throttle_burst: 3,
        retry_after_secs: 1,
        timeout_rate: 0.002,
        ..Default::default()
    }
}

struct World {
    _dir: tempfile::TempDir,
    host: Switchyard,
    pressero: RunningSim<PresseroSim>,
    presswise: RunningSim<PresswiseSim>,
    source: ConnectionId,
    flow: FlowId,
}

/// Both simulators with faults, a short per-request time-out (a hang costs a second, not
/// thirty), and a flow that retries failed records on the next run.
async fn world(
    orders: usize,
    pressero_faults: FaultConfig,
    presswise_faults: FaultConfig,
) -> World {
    let pressero = spawn_pressero(PresseroConfig {
        orders,
        base_time: days_ago_ms(5),
        faults: pressero_faults,
        ..Default::default()
    })
    .await
    .unwrap();
    let presswise = spawn_presswise(PresswiseConfig {
        faults: presswise_faults,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = host_with_timeout(dir.path(), &plugin_dir(), Duration::from_secs(1)).await;
    let password = pressero.credentials().password.clone();
    // Waits before a request is sent again are cut to a tenth: what is tested is that the
    // faults are got over, and the default waits would make this test ten minutes long.
    let quick = [(switchyard_engine::RETRY_BASE_SETTING, "20")];
    let source = pressero_connection_with(&host, &pressero, "shop", &password, &quick).await;
    let target = presswise_connection(&host, &presswise, "presswise").await;
    {
        let mut settings = host.store().connection(target).await.unwrap().settings;
        settings.insert(quick[0].0.to_string(), quick[0].1.to_string());
        host.store()
            .update_connection_settings(target, settings)
            .await
            .unwrap();
    }
    let flow = order_flow(
        &host,
        "shop-to-presswise",
        source,
        target,
        json!({ "retry-backoff-seconds": 0, "max-attempts": 6, "page-size": 50 }),
    )
    .await;
    World {
        _dir: dir,
        host,
        pressero,
        presswise,
        source,
        flow,
    }
}

impl World {
    /// Every imported order, by number.
    async fn orders(&self) -> HashMap<String, (CanonicalId, Order)> {
        let mut out = HashMap::new();
        for n in self.pressero.order_numbers() {
            let Some(b) = self
                .host
                .store()
                .binding(self.source, "order", &n.to_string())
                .await
                .unwrap()
            else {
                continue;
            };
            let r = self
                .host
                .store()
                .canonical(&b.canonical_id)
                .await
                .unwrap()
                .unwrap();
            let Entity::Order(o) = serde_json::from_value(r.data).unwrap() else {
                panic!("not an order")
            };
            out.insert(o.number.clone(), (r.id, o));
        }
        out
    }

    /// Ships the first line of every order Presswise has that was not shipped yet; returns
    /// (Pressero order number, tracking number) of each.
    fn ship_new(&self, shipped: &mut HashMap<String, String>) {
        for o in self.presswise.pushed_orders() {
            let source = o.fields.source_order_id.clone();
            if shipped.contains_key(&source) {
                continue;
            }
            let Some(line) = o.items.first() else {
                continue;
            };
            let tracking = format!("1Z{}", o.order_id);
            self.presswise
                .set_item_shipment(
                    o.order_id,
                    &line.item_id.to_string(),
                    Shipment {
                        carrier: "UPS".into(),
                        tracking_number: tracking.clone(),
                        ship_date: String::new(),
                    },
                )
                .unwrap();
            shipped.insert(source, tracking);
        }
    }
}

fn reasons(s: &FlowSyncSummary) -> Vec<String> {
    let mut out = s.step_errors.clone();
    for f in [
        s.import.as_ref().map(|i| &i.failures),
        s.push.as_ref().map(|p| &p.failures),
        s.status.as_ref().map(|s| &s.failures),
    ]
    .into_iter()
    .flatten()
    {
        out.extend(f.iter().cloned());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyday_faults_on_both_sides_settle_within_three_syncs() {
    let w = world(2000, everyday_faults(), everyday_faults()).await;
    let mut shipped = HashMap::new();
    let mut summaries = Vec::new();
    // Orders that were eligible when imported: each must be on Presswise exactly once.
    let mut eligible = std::collections::BTreeSet::new();
    for run in 1..=3 {
        let s = w
            .host
            .sync_flow(w.flow)
            .await
            .unwrap_or_else(|e| panic!("sync {run} could not run: {e}"));
        // Whatever failed is reported with its reason.
        let failed = s.failed_records() as usize + s.step_errors.len();
        assert_eq!(failed == 0, reasons(&s).is_empty(), "run {run}: {s:#?}");
        // Eligible as imported, before a shipment written back changes the order.
        for (n, (_, o)) in w.orders().await {
            if holds(&o).is_empty() {
                eligible.insert(n);
            }
        }
        // What Presswise has now gets shipped there; the next status sync brings it back.
        if run < 3 {
            w.ship_new(&mut shipped);
        }
        summaries.push(s);
    }
    let faults = w.pressero.fault_stats();
    assert!(
        faults.malformed > 0 && faults.truncated > 0,
        "faults were injected at Pressero: {faults:?}"
    );
    let faults = w.presswise.fault_stats();
    assert!(
        faults.malformed > 0 && faults.truncated > 0,
        "faults were injected at Presswise: {faults:?}\n{summaries:#?}"
    );
    // The faults were met and got over: requests sent again (a broken body, a 5xx, a 429,
    // no answer) show in the runs' logs.
    let mut resent = 0;
    for s in &summaries {
        for run in [
            s.import.as_ref().map(|i| i.run.clone()),
            s.push.as_ref().map(|p| p.run.clone()),
            s.status.as_ref().map(|s| s.run.clone()),
        ]
        .into_iter()
        .flatten()
        {
            let run = run.parse().unwrap();
            resent += w
                .host
                .store()
                .run_activity(run, 100_000)
                .await
                .unwrap()
                .iter()
                .filter(|e| {
                    e.kind == "retry"
                        || e.detail.as_ref().is_some_and(|d| {
                            d["attempts"].as_u64().is_some_and(|a| a > 1)
                                || d["malformed_retries"].as_u64().is_some_and(|m| m > 0)
                        })
                })
                .count();
        }
    }
    assert!(
        resent > 50,
        "{resent} requests were sent again: {summaries:#?}"
    );

    // Every order imported; every eligible one on Presswise exactly once.
    let orders = w.orders().await;
    assert_eq!(
        orders.len(),
        w.pressero.order_numbers().len(),
        "{summaries:#?}"
    );
    assert!(eligible.len() > 200, "{} eligible", eligible.len());
    for n in &eligible {
        assert_eq!(
            w.presswise.count_for_source(n),
            1,
            "order {n}: {summaries:#?}"
        );
        let p = w
            .host
            .store()
            .push_record(w.flow, &orders[n].0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.state, PushState::Pushed, "order {n}: {p:?}");
    }
    assert_eq!(w.presswise.pushed_orders().len(), eligible.len());

    // Every shipment made before the last run is on its Pressero item.
    assert!(shipped.len() > 200, "{} shipped", shipped.len());
    for (number, tracking) in &shipped {
        let items = w
            .pressero
            .order_items_json(number.parse().unwrap())
            .unwrap()
            .to_string();
        assert!(
            items.contains(tracking),
            "order {number}: {items}\n{summaries:#?}"
        );
    }
    w.pressero.shutdown().await;
    w.presswise.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_permanently_broken_status_answer_fails_only_its_order() {
    let w = world(60, FaultConfig::default(), FaultConfig::default()).await;
    let first = w.host.sync_flow(w.flow).await.unwrap();
    assert!(first.is_clean(), "{first:#?}");
    let pushed = w.presswise.pushed_orders();
    assert!(pushed.len() > 5, "{} pushed", pushed.len());
    // One order's status answer is always cut short; every order gets a shipment.
    let broken = &pushed[pushed.len() / 2];
    w.presswise.break_status_of(broken.order_id, true);
    let mut shipped = HashMap::new();
    w.ship_new(&mut shipped);

    let s = w.host.sync_status(w.flow).await.unwrap();
    assert_eq!(s.failed, 1, "{s:#?}");
    assert_eq!(s.written_back as usize, shipped.len() - 1, "{s:#?}");
    let reason = s.failures.join("\n");
    assert!(
        reason.contains(&broken.order_id.to_string()),
        "the broken one is named: {reason}"
    );
    let broken_source = &broken.fields.source_order_id;
    for (number, tracking) in &shipped {
        let items = w
            .pressero
            .order_items_json(number.parse().unwrap())
            .unwrap()
            .to_string();
        assert_eq!(
            items.contains(tracking),
            number != broken_source,
            "order {number}"
        );
    }
    // `why` shows the failure on the order; once the answer heals, the next run brings it.
    let tenant = w.host.store().connection(w.source).await.unwrap().tenant;
    let why = w.host.why(tenant, broken_source, None).await.unwrap();
    let error = why[0].push.as_ref().unwrap().status_error.clone();
    assert!(
        error.is_some_and(|e| e.contains("could not be read")),
        "{why:#?}"
    );
    w.presswise.break_status_of(broken.order_id, false);
    let healed = w.host.sync_status(w.flow).await.unwrap();
    assert_eq!((healed.failed, healed.written_back), (0, 1), "{healed:#?}");
    let why = w.host.why(tenant, broken_source, None).await.unwrap();
    assert_eq!(why[0].push.as_ref().unwrap().status_error, None);
    w.pressero.shutdown().await;
    w.presswise.shutdown().await;
}
