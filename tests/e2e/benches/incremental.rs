//! Incremental cost (issue 10): what a sync costs after a change, as the history grows.
//!
//! For each history size (orders seeded in the Pressero simulator, one every ~4 minutes up to
//! now, so about 10,800 of them fall inside the flow's 30-day window), on a fresh SQLite file
//! with the built wasm plugins, against the Pressero and Presswise simulators:
//!
//! 1. a full first sync of Flow B (import, push, status sync), timed per step, with the HTTP
//!    requests both simulators saw per endpoint and per pushed order;
//! 2. `SWITCHYARD_BENCH_CHANGED` (100) orders inside the window changed in Pressero
//!    (`touch_order`: unpaid ones get paid, else a pending item is approved, else the ship-to
//!    changes, so some become eligible) and `SWITCHYARD_BENCH_SHIPPED` (10) pushed orders
//!    shipped in Presswise; then the import, push and status sync, each timed;
//! 3. a run (import, push, status sync) with nothing changed at all.
//!
//! It ends with a table per step: each history, and the ratio largest / smallest. Figures
//! are printed, never asserted.
//!
//! ```text
//! export SWITCHYARD_PLUGIN_DIR=target/plugins SWITCHYARD_TEST_PLUGIN_DIR=target/test-plugins
//! cargo bench -p switchyard-e2e --bench incremental        # release profile
//! cargo test -p switchyard-e2e --bench incremental         # the same under the dev profile
//! SWITCHYARD_BENCH_HISTORY=100,2000 cargo test -p switchyard-e2e --bench incremental
//! ```
//!
//! (`cargo xtask test` builds the plugins into those directories.) Environment:
//! `SWITCHYARD_BENCH_HISTORY` history sizes, comma-separated (default `100,100000`;
//! `100_000` is accepted); `SWITCHYARD_BENCH_CHANGED` orders changed (100);
//! `SWITCHYARD_BENCH_SHIPPED` orders shipped in Presswise (10);
//! `SWITCHYARD_BENCH_FUTURE_MODIFIED=1` keeps the generated orders that are modified after
//! now (see [`World::new`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::json;
use switchyard_e2e::{
    host_with_timeout, order_flow, plugin_dir, pressero_connection, presswise_connection,
};
use switchyard_engine::{ImportSummary, PushSummary, StatusSummary, Switchyard};
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig, PresseroSim};
use switchyard_sim::presswise::model::Shipment;
use switchyard_sim::presswise::{spawn_presswise, PresswiseConfig, PresswiseSim};
use switchyard_sim::{RunningSim, Simulator};
use switchyard_store::{ConnectionId, FlowId};

/// Spacing of the simulator's generated orders (`generator::ORDER_SPACING_MS`): one every
/// ~4 minutes.
const SPACING_MS: i64 = 240_000;
/// The flow's push window.
const WINDOW_DAYS: i64 = 30;

fn env_list(name: &str, default: &str) -> Vec<usize> {
    let raw = std::env::var(name).unwrap_or_else(|_| default.to_string());
    raw.split(',')
        .map(|s| s.trim().replace('_', ""))
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .unwrap_or_else(|_| panic!("{name}: `{s}` is not a number"))
        })
        .collect()
}

fn env_number(name: &str, default: usize) -> usize {
    env_list(name, &default.to_string())
        .first()
        .copied()
        .unwrap_or(default)
}

/// HTTP requests per endpoint key, both simulators.
type Requests = BTreeMap<String, u64>;

fn requests_seen(w: &World) -> Requests {
    let mut all = w.pressero.core().requests_seen();
    all.extend(w.presswise.core().requests_seen());
    all
}

fn diff(after: &Requests, before: &Requests) -> Requests {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

fn total(r: &Requests) -> u64 {
    r.values().sum()
}

/// One step: how long it took, what it said and the requests it made.
struct Step {
    time: Duration,
    what: String,
    requests: Requests,
}

struct World {
    _dir: tempfile::TempDir,
    host: Switchyard,
    pressero: RunningSim<PresseroSim>,
    presswise: RunningSim<PresswiseSim>,
    source: ConnectionId,
    flow: FlowId,
}

impl World {
    async fn new(history: usize, future_modified: bool) -> (World, usize) {
        let now = chrono::Utc::now().timestamp_millis();
        let pressero = spawn_pressero(PresseroConfig {
            orders: history,
            // The newest order about now, the oldest `history` × 4 minutes ago.
            base_time: now - history as i64 * SPACING_MS,
            ..Default::default()
        })
        .await
        .expect("pressero simulator");
        // Generated orders are modified up to ten days after they are placed: with the newest
        // placed about now, a few hundred would be dated in the future, and the connector
        // re-reads those on every pass (it anchors its overlap at now), whatever the engine
        // does. A real store has no such orders; `SWITCHYARD_BENCH_FUTURE_MODIFIED=1` keeps
        // them (as the figures in issue 10 were measured).
        let settled = if future_modified {
            0
        } else {
            pressero.settle_future_changes(now)
        };
        let presswise = spawn_presswise(PresswiseConfig::default())
            .await
            .expect("presswise simulator");
        let dir = tempfile::tempdir().expect("temp dir");
        let host = host_with_timeout(dir.path(), &plugin_dir(), Duration::from_secs(30)).await;
        let password = pressero.credentials().password.clone();
        let source = pressero_connection(&host, &pressero, "shop", &password).await;
        let target = presswise_connection(&host, &presswise, "presswise").await;
        let flow = order_flow(
            &host,
            "shop-to-presswise",
            source,
            target,
            json!({
                "window-days": WINDOW_DAYS,
                "status-stream": "order-status",
                "write-back-stream": "item-status",
            }),
        )
        .await;
        let world = World {
            _dir: dir,
            host,
            pressero,
            presswise,
            source,
            flow,
        };
        (world, settled)
    }

    async fn import(&self) -> (Step, ImportSummary) {
        let before = requests_seen(self);
        let start = Instant::now();
        let s = self
            .host
            .import(self.source, "orders", &Default::default(), &())
            .await
            .expect("import");
        let time = start.elapsed();
        let step = Step {
            time,
            what: format!(
                "pages {}, fetched {}, created {}, updated {}, unchanged {}, failed {}",
                s.pages, s.fetched, s.created, s.updated, s.unchanged, s.failed
            ),
            requests: diff(&requests_seen(self), &before),
        };
        (step, s)
    }

    async fn push(&self) -> (Step, PushSummary) {
        let before = requests_seen(self);
        let start = Instant::now();
        let s = self.host.push_flow(self.flow, &()).await.expect("push");
        let time = start.elapsed();
        let step = Step {
            time,
            what: format!(
                "considered {}, pushed {}, waiting {}, skipped {}, failed {}, dead {}",
                s.considered, s.pushed, s.waiting, s.skipped, s.failed, s.dead
            ),
            requests: diff(&requests_seen(self), &before),
        };
        (step, s)
    }

    async fn status(&self) -> (Step, StatusSummary) {
        let before = requests_seen(self);
        let start = Instant::now();
        let s = self.host.sync_status(self.flow).await.expect("status sync");
        let time = start.elapsed();
        let step = Step {
            time,
            what: format!(
                "polled {}, changed {}, written back {}, failed {}",
                s.polled, s.changed, s.written_back, s.failed
            ),
            requests: diff(&requests_seen(self), &before),
        };
        (step, s)
    }

    /// Import, push and status sync, as one run of the flow.
    async fn run(&self, label: &str) -> Run {
        let (import, _) = self.import().await;
        println!("  {label} import  {}  ({})", secs(import.time), import.what);
        let (push, summary) = self.push().await;
        println!("  {label} push    {}  ({})", secs(push.time), push.what);
        let (status, _) = self.status().await;
        println!("  {label} status  {}  ({})", secs(status.time), status.what);
        Run {
            import,
            push,
            status,
            pushed: summary.pushed,
        }
    }

    /// Changes `count` orders spread over the push window (all of them when the history is
    /// shorter); returns how many were changed.
    fn change_orders(&self, count: usize) -> usize {
        let numbers = self.pressero.order_numbers();
        let in_window = ((WINDOW_DAYS * 86_400_000 / SPACING_MS) as usize).min(numbers.len());
        let window = &numbers[numbers.len() - in_window..];
        let count = count.min(window.len());
        for k in 0..count {
            let number = window[k * window.len() / count];
            self.pressero.touch_order(number).expect("touch order");
        }
        count
    }

    /// Ships the first item of the `count` oldest pushed orders in Presswise.
    fn ship(&self, count: usize) -> usize {
        let mut shipped = 0;
        for order in self.presswise.pushed_orders().into_iter().take(count) {
            let Some(item) = order.items.first() else {
                continue;
            };
            self.presswise
                .set_item_shipment(
                    order.order_id,
                    &item.item_id.to_string(),
                    Shipment {
                        carrier: "UPS".into(),
                        tracking_number: format!("1Z{:016}", order.order_id),
                        ship_date: String::new(),
                    },
                )
                .expect("shipment");
            shipped += 1;
        }
        shipped
    }
}

struct Run {
    import: Step,
    push: Step,
    status: Step,
    pushed: u64,
}

impl Run {
    fn time(&self) -> Duration {
        self.import.time + self.push.time + self.status.time
    }

    fn requests(&self) -> Requests {
        let mut all = Requests::new();
        for step in [&self.import, &self.push, &self.status] {
            for (k, v) in &step.requests {
                *all.entry(k.clone()).or_insert(0) += v;
            }
        }
        all
    }
}

struct Figures {
    history: usize,
    first: Run,
    changed: Run,
    idle: Run,
}

impl Figures {
    fn per_pushed(&self) -> f64 {
        total(&self.first.requests()) as f64 / self.first.pushed.max(1) as f64
    }
}

fn secs(d: Duration) -> String {
    format!("{:>9.3} s", d.as_secs_f64())
}

/// The first run's requests per endpoint: per step, in all, and per pushed order.
fn breakdown(run: &Run) -> String {
    let all = run.requests();
    let pushed = run.pushed.max(1) as f64;
    let width = all.keys().map(String::len).max().unwrap_or(8).max(8);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<width$}  {:>8}  {:>8}  {:>8}  {:>8}  {:>10}",
        "endpoint", "import", "push", "status", "total", "per pushed"
    );
    let count = |r: &Requests, k: &str| r.get(k).copied().unwrap_or(0);
    for (k, v) in &all {
        let _ = writeln!(
            out,
            "  {:<width$}  {:>8}  {:>8}  {:>8}  {:>8}  {:>10.2}",
            k,
            count(&run.import.requests, k),
            count(&run.push.requests, k),
            count(&run.status.requests, k),
            v,
            *v as f64 / pushed
        );
    }
    let _ = writeln!(
        out,
        "  {:<width$}  {:>8}  {:>8}  {:>8}  {:>8}  {:>10.2}",
        "all",
        total(&run.import.requests),
        total(&run.push.requests),
        total(&run.status.requests),
        total(&all),
        total(&all) as f64 / pushed
    );
    out
}

fn step_requests(step: &Step) -> String {
    step.requests
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn measure(history: usize, opts: &Options) -> Figures {
    println!("\n== history of {history} orders");
    let setup = Instant::now();
    let (w, settled) = World::new(history, opts.future_modified).await;
    println!(
        "  setup (simulators, store, plugins) {}; {settled} orders modified in the future re-dated",
        secs(setup.elapsed())
    );

    let first = w.run("first  ").await;
    println!(
        "  first sync {}; {} requests for {} pushed orders = {:.2} per pushed order",
        secs(first.time()),
        total(&first.requests()),
        first.pushed,
        total(&first.requests()) as f64 / first.pushed.max(1) as f64
    );
    print!("{}", breakdown(&first));

    let changed = w.change_orders(opts.changes);
    let shipped = w.ship(opts.shipments);
    println!("  changed {changed} orders in Pressero, shipped {shipped} orders in Presswise");
    let changed = w.run("changed").await;
    for (name, step) in [
        ("import", &changed.import),
        ("push", &changed.push),
        ("status", &changed.status),
    ] {
        println!("    {name} requests: {}", step_requests(step));
    }

    let idle = w.run("idle   ").await;
    for (name, step) in [
        ("import", &idle.import),
        ("push", &idle.push),
        ("status", &idle.status),
    ] {
        println!("    {name} requests: {}", step_requests(step));
    }

    let World {
        pressero,
        presswise,
        ..
    } = w;
    pressero.shutdown().await;
    presswise.shutdown().await;
    Figures {
        history,
        first,
        changed,
        idle,
    }
}

fn table(figures: &[Figures]) -> String {
    type Row = (&'static str, fn(&Figures) -> f64, &'static str);
    let rows: [Row; 10] = [
        (
            "first sync (import+push+status)",
            |f| f.first.time().as_secs_f64(),
            "s",
        ),
        (
            "first sync: requests per pushed order",
            Figures::per_pushed,
            "",
        ),
        (
            "import of the changes",
            |f| f.changed.import.time.as_secs_f64(),
            "s",
        ),
        (
            "push of the changes",
            |f| f.changed.push.time.as_secs_f64(),
            "s",
        ),
        (
            "status sync after the changes",
            |f| f.changed.status.time.as_secs_f64(),
            "s",
        ),
        (
            "run after the changes (all three)",
            |f| f.changed.time().as_secs_f64(),
            "s",
        ),
        (
            "nothing changed: import",
            |f| f.idle.import.time.as_secs_f64(),
            "s",
        ),
        (
            "nothing changed: push",
            |f| f.idle.push.time.as_secs_f64(),
            "s",
        ),
        (
            "nothing changed: status sync",
            |f| f.idle.status.time.as_secs_f64(),
            "s",
        ),
        (
            "nothing changed: run (all three)",
            |f| f.idle.time().as_secs_f64(),
            "s",
        ),
    ];
    let mut out = String::new();
    let _ = write!(out, "{:<40}", "step");
    for f in figures {
        let _ = write!(out, "  {:>12}", format!("{} orders", f.history));
    }
    if figures.len() > 1 {
        let _ = write!(out, "  {:>8}", "ratio");
    }
    out.push('\n');
    for (name, value, unit) in rows {
        let _ = write!(out, "{name:<40}");
        for f in figures {
            let v = value(f);
            let cell = if unit.is_empty() {
                format!("{v:.2}")
            } else {
                format!("{v:.3} {unit}")
            };
            let _ = write!(out, "  {cell:>12}");
        }
        if let (Some(small), Some(large), true) =
            (figures.first(), figures.last(), figures.len() > 1)
        {
            let (s, l) = (value(small), value(large));
            let ratio = if s > 0.0 {
                format!("{:.1}×", l / s)
            } else {
                "-".into()
            };
            let _ = write!(out, "  {ratio:>8}");
        }
        out.push('\n');
    }
    out
}

struct Options {
    changes: usize,
    shipments: usize,
    future_modified: bool,
}

fn main() {
    let histories = env_list("SWITCHYARD_BENCH_HISTORY", "100,100000");
    let opts = Options {
        changes: env_number("SWITCHYARD_BENCH_CHANGED", 100),
        shipments: env_number("SWITCHYARD_BENCH_SHIPPED", 10),
        future_modified: std::env::var("SWITCHYARD_BENCH_FUTURE_MODIFIED")
            .is_ok_and(|v| !v.is_empty() && v != "0"),
    };
    println!(
        "incremental cost: histories {histories:?}, {} orders changed, {} shipped, window \
         {WINDOW_DAYS} days, one order every {} minutes, future ModifiedDates {}",
        opts.changes,
        opts.shipments,
        SPACING_MS / 60_000,
        if opts.future_modified {
            "kept"
        } else {
            "re-dated"
        }
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut figures = Vec::new();
    for history in histories {
        figures.push(rt.block_on(measure(history, &opts)));
    }
    println!("\n{}", table(&figures));
}
