//! Flow B end to end: Pressero orders pushed to Presswise by the built wasm plugins, through
//! the host, against both simulators on 127.0.0.1.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use switchyard_e2e::{
    days_ago_ms, host_with_timeout, order_flow, plugin_dir, pressero_connection,
    presswise_connection,
};
use switchyard_engine::push_rules::{holds, PushRule};
use switchyard_engine::{PushOutcome, Switchyard};
use switchyard_runtime::bindings::{Entity, ItemStatus, Order, PaymentState};
use switchyard_sim::pressero::{spawn_pressero, OrderChange, PresseroConfig, PresseroSim};
use switchyard_sim::presswise::{spawn_presswise, PresswiseConfig, PresswiseSim};
use switchyard_sim::{FaultConfig, RunningSim};
use switchyard_store::{ConnectionId, FlowId, PushState};

/// Settings that make every failed push due again at once (the tests settle in loops).
fn quick_retries() -> serde_json::Value {
    json!({ "retry-backoff-seconds": 0, "max-attempts": 3 })
}

struct World {
    _dir: tempfile::TempDir,
    host: Switchyard,
    pressero: RunningSim<PresseroSim>,
    presswise: RunningSim<PresswiseSim>,
    source: ConnectionId,
    target: ConnectionId,
    flow: FlowId,
}

async fn world(orders: usize, presswise: PresswiseConfig, settings: serde_json::Value) -> World {
    let pressero = spawn_pressero(PresseroConfig {
        orders,
        base_time: days_ago_ms(5),
        ..Default::default()
    })
    .await
    .unwrap();
    let presswise = spawn_presswise(presswise).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = host_with_timeout(dir.path(), &plugin_dir(), Duration::from_secs(2)).await;
    let password = pressero.credentials().password.clone();
    let source = pressero_connection(&host, &pressero, "shop", &password).await;
    let target = presswise_connection(&host, &presswise, "presswise").await;
    let flow = order_flow(&host, "shop-to-presswise", source, target, settings).await;
    World {
        _dir: dir,
        host,
        pressero,
        presswise,
        source,
        target,
        flow,
    }
}

impl World {
    async fn import(&self) {
        let s = self
            .host
            .import(self.source, "orders", &Default::default(), &())
            .await
            .unwrap();
        assert_eq!(s.failed, 0, "{s:?}");
    }

    /// Every imported order, by number.
    async fn orders(&self) -> HashMap<String, (switchyard_store::CanonicalId, Order)> {
        let mut out = HashMap::new();
        for n in self.pressero.order_numbers() {
            let b = self
                .host
                .store()
                .binding(self.source, "order", &n.to_string())
                .await
                .unwrap()
                .expect("imported");
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

    async fn state(&self, id: &switchyard_store::CanonicalId) -> Option<PushState> {
        self.host
            .store()
            .push_record(self.flow, id)
            .await
            .unwrap()
            .map(|p| p.state)
    }
}

fn eligible(o: &Order) -> bool {
    holds(o).is_empty()
}

/// An order held by exactly one rule that `change` clears in the simulator.
fn held_only_by(
    orders: &HashMap<String, (switchyard_store::CanonicalId, Order)>,
    rule: PushRule,
) -> Option<String> {
    let mut numbers: Vec<&String> = orders.keys().collect();
    numbers.sort();
    numbers
        .into_iter()
        .find(|n| {
            let o = &orders[*n].1;
            let rules: Vec<PushRule> = holds(o).into_iter().map(|h| h.rule).collect();
            // A pending file is always on a pending item: that rule comes with items-approved.
            let expected: &[PushRule] = match rule {
                PushRule::NoFilesPending => &[PushRule::NoFilesPending, PushRule::ItemsApproved],
                _ => std::slice::from_ref(&rule),
            };
            if rules != expected {
                return false;
            }
            match rule {
                PushRule::Paid => o.payment == PaymentState::Unpaid,
                // The simulator's item change moves the first open item: it must be the only
                // pending one (approved then, files cleared); the others are approved or denied.
                PushRule::ItemsApproved | PushRule::NoFilesPending => {
                    let first_open = o.items.iter().find(|i| {
                        !matches!(
                            i.status,
                            ItemStatus::Completed | ItemStatus::Cancelled | ItemStatus::Denied
                        )
                    });
                    first_open.is_some_and(|i| i.status == ItemStatus::Pending)
                        && o.items
                            .iter()
                            .filter(|i| i.status == ItemStatus::Pending)
                            .count()
                            == 1
                }
                PushRule::ValidItemStatus => true,
            }
        })
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_push_rule_holds_an_order_until_it_holds() {
    let w = world(300, PresswiseConfig::default(), quick_retries()).await;
    w.import().await;
    let first = w.host.push_flow(w.flow, &()).await.unwrap();
    let orders = w.orders().await;
    let eligible_count = orders.values().filter(|(_, o)| eligible(o)).count() as u64;
    assert!(
        eligible_count > 20 && eligible_count < 300,
        "{eligible_count} of 300 eligible"
    );
    assert_eq!(first.pushed, eligible_count, "{first:?}");
    assert_eq!(first.waiting, 300 - eligible_count, "{first:?}");

    // Both ways, per rule: an order breaking it waits with that reason and is not at the
    // target; each one the simulator can change is pushed once the rule holds.
    let mut changed = Vec::new();
    for rule in PushRule::ALL {
        let Some(number) = held_only_by(&orders, rule) else {
            panic!("no order held only by {}", rule.name());
        };
        let (id, _) = &orders[&number];
        let p = w
            .host
            .store()
            .push_record(w.flow, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.state, PushState::Waiting);
        let reason = p.hold_reason.unwrap();
        assert!(reason.starts_with(rule.name()), "{number}: {reason}");
        assert_eq!(
            w.presswise.count_for_source(&number),
            0,
            "{number} is not pushed"
        );
        let why = w
            .host
            .why(
                w.host.store().connection(w.source).await.unwrap().tenant,
                &number,
                None,
            )
            .await
            .unwrap();
        assert!(
            why[0].holds.iter().any(|h| h.rule == rule),
            "{:?}",
            why[0].holds
        );
        let change = match rule {
            PushRule::Paid => Some(OrderChange::Payment),
            PushRule::ItemsApproved | PushRule::NoFilesPending => Some(OrderChange::ItemStatus),
            // A cancelled or shipped item does not come back in Pressero.
            PushRule::ValidItemStatus => None,
        };
        if let Some(change) = change {
            w.pressero
                .touch_order_with(number.parse().unwrap(), change)
                .unwrap();
            changed.push(number);
        }
    }
    w.import().await;
    let second = w.host.push_flow(w.flow, &()).await.unwrap();
    assert_eq!(second.pushed, changed.len() as u64, "{second:?}");
    for number in &changed {
        let (id, _) = &orders[number];
        assert_eq!(w.state(id).await, Some(PushState::Pushed), "{number}");
        assert_eq!(w.presswise.count_for_source(number), 1, "{number}");
    }
    // A third run pushes nothing: every record is where it belongs.
    let third = w.host.push_flow(w.flow, &()).await.unwrap();
    assert_eq!(third.pushed, 0, "{third:?}");
    assert!(w
        .presswise
        .duplicate_sources()
        .iter()
        .all(|(s, _)| !orders.contains_key(s)));
    w.pressero.shutdown().await;
    w.presswise.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_orders_with_faults_land_exactly_once() {
    let w = world(
        1000,
        PresswiseConfig {
            // High enough that some pushes still fail after the tries a run makes at once.
            faults: FaultConfig {
                error_rate: 0.2,
                malformed_rate: 0.1,
                ..Default::default()
            },
            accept_then_hang_rate: 0.03,
            ..Default::default()
        },
        quick_retries(),
    )
    .await;
    w.import().await;
    let orders = w.orders().await;
    let eligible: Vec<&String> = orders
        .iter()
        .filter(|(_, (_, o))| eligible(o))
        .map(|(n, _)| n)
        .collect();
    assert!(eligible.len() > 100, "{} eligible", eligible.len());

    let first = w.host.push_flow(w.flow, &()).await.unwrap();
    assert!(first.failed > 0, "faults were injected: {first:?}");
    // Failed ones carry their error.
    let mut failed_with_error = 0;
    for n in &eligible {
        let p = w
            .host
            .store()
            .push_record(w.flow, &orders[*n].0)
            .await
            .unwrap()
            .unwrap();
        if p.state == PushState::Failed {
            assert!(
                p.last_error.as_deref().is_some_and(|e| !e.is_empty()),
                "{n}: {p:?}"
            );
            failed_with_error += 1;
        }
    }
    assert_eq!(failed_with_error, first.failed, "{first:?}");

    // Settle: retries run until nothing is due (dead letters wait for push-again).
    for _ in 0..5 {
        let s = w.host.push_flow(w.flow, &()).await.unwrap();
        if s.failed == 0 {
            break;
        }
    }
    // Faults off; "push again" whatever is left (dead or failed).
    w.presswise.set_faults(FaultConfig::default()).unwrap();
    w.presswise.set_accept_then_hang(0.0, 0).unwrap();
    let tenant = w.host.store().connection(w.source).await.unwrap().tenant;
    for n in &eligible {
        let state = w.state(&orders[*n].0).await;
        if state != Some(PushState::Pushed) {
            let again = w
                .host
                .push_again(tenant, n, Some("presswise"))
                .await
                .unwrap();
            assert!(
                matches!(again[0].outcome, PushOutcome::Pushed { .. }),
                "{n}: {:?}",
                again[0].outcome
            );
        }
    }
    // Exactly once on Presswise, checked through the simulator.
    for n in &eligible {
        assert_eq!(w.presswise.count_for_source(n), 1, "order {n}");
        assert_eq!(
            w.state(&orders[*n].0).await,
            Some(PushState::Pushed),
            "order {n}"
        );
    }
    assert_eq!(w.presswise.pushed_orders().len(), eligible.len());
    // push-again of an order already there sends nothing.
    let again = w.host.push_again(tenant, eligible[0], None).await.unwrap();
    assert!(
        matches!(again[0].outcome, PushOutcome::AlreadyThere { .. }),
        "{:?}",
        again[0].outcome
    );
    assert_eq!(w.presswise.count_for_source(eligible[0]), 1);
    let _ = w.target;
    w.pressero.shutdown().await;
    w.presswise.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_shipment_from_presswise_reach_the_pressero_items() {
    let w = world(60, PresswiseConfig::default(), quick_retries()).await;
    w.import().await;
    let pushed = w.host.push_flow(w.flow, &()).await.unwrap();
    assert!(pushed.pushed > 3, "{pushed:?}");
    let orders = w.orders().await;
    let (number, (id, order)) = orders
        .iter()
        .filter(|(_, (_, o))| eligible(o))
        .min_by_key(|(n, _)| n.to_string())
        .unwrap();
    let p = w
        .host
        .store()
        .push_record(w.flow, id)
        .await
        .unwrap()
        .unwrap();
    let presswise_id: u64 = p.external_id.unwrap().parse().unwrap();
    let items = w.host.store().push_items(w.flow, id).await.unwrap();
    let approved: Vec<_> = order
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::Approved)
        .collect();
    assert_eq!(items.len(), approved.len(), "{items:?}");
    let line = items[0].external_id.clone().unwrap();
    w.presswise
        .set_item_shipment(
            presswise_id,
            &line,
            switchyard_sim::presswise::model::Shipment {
                carrier: "UPS".into(),
                tracking_number: "1Z999AA10123456784".into(),
                ship_date: String::new(),
            },
        )
        .unwrap();
    let s = w.host.sync_status(w.flow).await.unwrap();
    assert!(s.changed >= 1, "{s:?}");
    assert_eq!(s.written_back, 1, "{s:?}");
    let after = w.host.store().push_items(w.flow, id).await.unwrap();
    let shipped = after
        .iter()
        .find(|i| i.external_id.as_deref() == Some(line.as_str()))
        .unwrap();
    assert_eq!(shipped.status.as_deref(), Some("shipped"));
    assert!(shipped
        .shipment
        .as_ref()
        .unwrap()
        .to_string()
        .contains("1Z999AA10123456784"));
    // The Pressero item shows it.
    let pressero_items = w
        .pressero
        .order_items_json(number.parse().unwrap())
        .unwrap()
        .to_string();
    assert!(
        pressero_items.contains("1Z999AA10123456784"),
        "{pressero_items}"
    );
    // Polling again writes nothing twice.
    let again = w.host.sync_status(w.flow).await.unwrap();
    assert_eq!(again.written_back, 0, "{again:?}");
    w.pressero.shutdown().await;
    w.presswise.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_only_mode_pushes_nothing_and_updates_statuses() {
    // The older integration pushed Pressero orders from the first number on.
    let pressero_first: u64 = {
        let probe = spawn_pressero(PresseroConfig {
            orders: 40,
            base_time: days_ago_ms(5),
            ..Default::default()
        })
        .await
        .unwrap();
        let n = *probe.order_numbers().iter().min().unwrap();
        probe.shutdown().await;
        n
    };
    let mut settings = quick_retries();
    settings["mode"] = json!("status-only");
    let w = world(
        40,
        PresswiseConfig {
            orders: 40,
            source_ids_from: Some(pressero_first),
            ..Default::default()
        },
        settings,
    )
    .await;
    w.import().await;
    let s = w.host.push_flow(w.flow, &()).await.unwrap();
    assert_eq!(s.pushed, 0, "{s:?}");
    assert!(s.linked > 0, "{s:?}");
    assert!(
        w.presswise.pushed_orders().is_empty(),
        "status-only pushed something"
    );
    let status = w.host.sync_status(w.flow).await.unwrap();
    assert_eq!(status.polled, s.linked, "{status:?}");
    assert!(status.changed > 0, "{status:?}");
    assert!(w.presswise.pushed_orders().is_empty());
    w.pressero.shutdown().await;
    w.presswise.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_sync_touches_only_enabled_live_sites_and_never_runs_twice_at_once() {
    let w = world(30, PresswiseConfig::default(), quick_retries()).await;
    let password = w.pressero.credentials().password.clone();
    let site_b = pressero_connection(&w.host, &w.pressero, "site-b", &password).await;
    let site_c = pressero_connection(&w.host, &w.pressero, "site-c", &password).await;
    let flow_b = order_flow(&w.host, "b-to-presswise", site_b, w.target, quick_retries()).await;
    let flow_c = order_flow(&w.host, "c-to-presswise", site_c, w.target, quick_retries()).await;
    w.host
        .store()
        .set_flow_flags(flow_b, true, false)
        .await
        .unwrap(); // Enabled, not Live
    w.host
        .store()
        .set_flow_flags(flow_c, false, false)
        .await
        .unwrap(); // not Enabled
    let tenant = w.host.store().connection(w.source).await.unwrap().tenant;

    let global = w
        .host
        .trigger_global_sync(tenant, "presswise", "test")
        .await
        .unwrap();
    assert!(!global.joined);
    // A second trigger before it ran joins it.
    let again = w
        .host
        .trigger_global_sync(tenant, "presswise", "test")
        .await
        .unwrap();
    assert!(again.joined && again.id == global.id);
    let done = w.host.run_jobs_until_idle("test-worker").await.unwrap();
    assert!(
        done.iter()
            .all(|(_, s)| *s == switchyard_store::JobState::Succeeded),
        "{done:?}"
    );
    let children = w.host.store().child_jobs(global.id).await.unwrap();
    assert_eq!(children.len(), 1, "{children:?}");
    assert_eq!(children[0].flow, Some(w.flow));
    assert!(
        w.host
            .store()
            .push_counts(w.flow)
            .await
            .unwrap()
            .values()
            .sum::<u64>()
            > 0
    );
    for (conn, flow) in [(site_b, flow_b), (site_c, flow_c)] {
        assert!(w.host.store().push_counts(flow).await.unwrap().is_empty());
        assert!(
            w.host.store().runs(conn, 10).await.unwrap().is_empty(),
            "site not synced"
        );
        // Its log says why it was left out (per site), and the account log has the summary.
        let log = w.host.store().activity(conn, None, 10).await.unwrap();
        assert!(
            log.iter()
                .any(|e| e.kind == "global-sync" && e.message.contains("skipped")),
            "{log:?}"
        );
    }
    let account = w
        .host
        .store()
        .tenant_activity(tenant, 100_000)
        .await
        .unwrap();
    assert!(account
        .iter()
        .any(|e| e.connection.is_none() && e.message.contains("1 site(s) queued, 2 skipped")));

    // While a sync of the site runs, another trigger queues but does not start in parallel.
    let first = w
        .host
        .trigger_flow_sync(w.flow, "test", None)
        .await
        .unwrap();
    let claimed = w
        .host
        .store()
        .claim_job("another-host", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, first.id);
    let second = w
        .host
        .trigger_flow_sync(w.flow, "webhook", None)
        .await
        .unwrap();
    assert!(!second.joined);
    let third = w
        .host
        .trigger_flow_sync(w.flow, "schedule", None)
        .await
        .unwrap();
    assert!(
        third.joined && third.id == second.id,
        "a third trigger joins the queued one"
    );
    assert!(
        w.host.run_next_job("test-worker").await.unwrap().is_none(),
        "ran in parallel"
    );
    // And a direct run while the flow's run lock is held elsewhere is refused clearly.
    w.host
        .store()
        .finish_job(claimed.id, switchyard_store::JobOutcome::Succeeded)
        .await
        .unwrap();
    let lock = w
        .host
        .store()
        .try_acquire_run_lock(
            w.source,
            "flow:shop-to-presswise",
            "elsewhere",
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert!(lock.is_some());
    let err = w.host.push_flow(w.flow, &()).await.unwrap_err();
    assert!(err.to_string().contains("already in progress"), "{err}");
    w.pressero.shutdown().await;
    w.presswise.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pressero_webhook_queues_the_sync_at_once() {
    use switchyard_sim::pressero::{WebhookEvent, WebhookSubscriber};
    const KEY: &str = "site-security-key";
    let w = world(20, PresswiseConfig::default(), quick_retries()).await;
    let mut secrets = w.host.store().connection_secrets(w.source).await.unwrap();
    secrets.insert(switchyard_engine::WEBHOOK_KEY_SECRET, KEY);
    w.host
        .store()
        .set_connection_secrets(w.source, &secrets)
        .await
        .unwrap();
    w.import().await;
    w.host.push_flow(w.flow, &()).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = switchyard_webhook::router(std::sync::Arc::new(
        switchyard_engine::WebhookTrigger::new(w.host.clone()),
    ));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    w.pressero
        .subscribe_webhook(WebhookSubscriber {
            url: format!("http://{addr}/webhooks/pressero/{}", w.source),
            site: None,
            key: Some(KEY.into()),
            events: vec![WebhookEvent::OrderPlaced],
        })
        .unwrap();
    let added = w.pressero.add_orders(1)[0];
    assert!(w.pressero.wait_webhooks_idle(Duration::from_secs(10)).await);
    let tenant = w.host.store().connection(w.source).await.unwrap().tenant;
    let jobs = w.host.store().jobs(tenant, 10).await.unwrap();
    assert!(
        jobs.iter().any(|j| j.trigger == "webhook"
            && j.flow == Some(w.flow)
            && j.state == switchyard_store::JobState::Queued),
        "{jobs:?}"
    );
    let done = w.host.run_jobs_until_idle("test-worker").await.unwrap();
    assert_eq!(done.len(), 1, "{done:?}");
    // The new order was imported and went through the push rules straight away.
    let b = w
        .host
        .store()
        .binding(w.source, "order", &added.to_string())
        .await
        .unwrap()
        .expect("imported");
    let p = w
        .host
        .store()
        .push_record(w.flow, &b.canonical_id)
        .await
        .unwrap()
        .expect("considered");
    assert!(
        matches!(p.state, PushState::Pushed | PushState::Waiting),
        "{p:?}"
    );
    server.abort();
    w.pressero.shutdown().await;
    w.presswise.shutdown().await;
}
