//! The Pressero connector, built as a wasm component, importing orders from the
//! simulator through the host.

use std::sync::{Arc, Mutex};

use switchyard_e2e::{host_in, plugin_dir, pressero_connection};
use switchyard_engine::{EngineError, ImportOptions, ImportProgress, ImportSummary};
use switchyard_runtime::RuntimeConfig;
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig};
use switchyard_sim::FaultConfig;

/// An order the test changed mid-import, and when.
type Touch = (u64, chrono::DateTime<chrono::Utc>);

fn order_updated_at(data: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    let text = data["Order"]["updated_at"].as_str().expect("updated_at");
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("rfc3339")
        .to_utc()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_orders_then_only_the_changes() {
    let sim = spawn_pressero(PresseroConfig {
        orders: 1000,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = host_in(dir.path(), &plugin_dir(), RuntimeConfig::default()).await;
    let password = sim.credentials().password.clone();
    let conn = pressero_connection(&host, &sim, "pressero", &password).await;
    let opts = ImportOptions::default();

    let first = host.import(conn, "orders", &opts, &()).await.unwrap();
    assert_eq!(first.created, 1000, "{first:?}");
    assert_eq!(first.failed, 0, "{first:?}");
    let tenant = host.store().connection(conn).await.unwrap().tenant;
    assert_eq!(
        host.store().count_canonical(tenant, "order").await.unwrap(),
        1000
    );
    assert_eq!(
        host.store().count_bindings(conn, "order").await.unwrap(),
        1000
    );

    // Change 17 orders spread over the history, add 3.
    let numbers = sim.order_numbers();
    let changed: Vec<u64> = numbers.iter().step_by(59).take(17).copied().collect();
    for n in &changed {
        sim.touch_order(*n).unwrap();
    }
    let added = sim.add_orders(3);

    let second = host.import(conn, "orders", &opts, &()).await.unwrap();
    assert_eq!(second.created, 3, "{second:?}");
    assert_eq!(second.updated, 17, "{second:?}");
    assert_eq!(second.failed, 0, "{second:?}");
    assert_eq!(
        host.store().count_canonical(tenant, "order").await.unwrap(),
        1003
    );
    for n in added {
        assert!(host
            .store()
            .binding(conn, "order", &n.to_string())
            .await
            .unwrap()
            .is_some());
    }

    // Nothing changed: nothing created or updated.
    let third = host.import(conn, "orders", &opts, &()).await.unwrap();
    assert_eq!((third.created, third.updated), (0, 0), "{third:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_changed_while_paging_is_not_lost() {
    let sim = spawn_pressero(PresseroConfig {
        orders: 600,
        seed: 7,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = host_in(dir.path(), &plugin_dir(), RuntimeConfig::default()).await;
    let password = sim.credentials().password.clone();
    let conn = pressero_connection(&host, &sim, "pressero", &password).await;

    // While the import is on its third search, change an order it has
    // already read and one it has not reached yet.
    let numbers = sim.order_numbers();
    let (early, late) = (numbers[5], numbers[550]);
    let touched: Arc<Mutex<Vec<Touch>>> = Arc::default();
    let seen = touched.clone();
    // The connector pages keyset-style (each search asks for page 0 from its
    // high-water mark), so the hook waits for the third search of page 0.
    sim.on_search_page(0, move |s| {
        s.on_search_page(0, move |s| {
            s.on_search_page(0, move |s| {
                for n in [early, late] {
                    let at = s.touch_order(n).expect("touch");
                    seen.lock().unwrap().push((n, at));
                }
            })
        })
    });
    let opts = ImportOptions {
        page_size: 50,
        ..Default::default()
    };
    let summary = host.import(conn, "orders", &opts, &()).await.unwrap();
    assert_eq!(summary.created, 600, "{summary:?}");
    let touched = touched.lock().unwrap().clone();
    assert_eq!(touched.len(), 2, "the paging hook ran");
    for (n, at) in touched {
        let b = host
            .store()
            .binding(conn, "order", &n.to_string())
            .await
            .unwrap()
            .expect("bound");
        let rec = host
            .store()
            .canonical(&b.canonical_id)
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(
            order_updated_at(&rec.data),
            at,
            "order {n} holds its latest version"
        );
    }
    sim.shutdown().await;
}

/// Tells the test each time a page is stored.
struct PageSignal(tokio::sync::mpsc::UnboundedSender<u64>);

impl ImportProgress for PageSignal {
    fn page_stored(&self, summary: &ImportSummary) {
        let _ = self.0.send(summary.pages);
    }
}

/// R-C-4: pressing "synchronise" again while a run is going does not start a parallel run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_import_while_one_runs_is_refused() {
    let sim = spawn_pressero(PresseroConfig {
        orders: 300,
        ..Default::default()
    })
    .await
    .unwrap();
    // Slow enough that the first run is still going when the second is asked for.
    sim.set_faults(FaultConfig {
        latency_ms: 20,
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = host_in(dir.path(), &plugin_dir(), RuntimeConfig::default()).await;
    let password = sim.credentials().password.clone();
    let conn = pressero_connection(&host, &sim, "pressero", &password).await;

    let (tx, mut pages) = tokio::sync::mpsc::unbounded_channel();
    let first = tokio::spawn({
        let host = host.clone();
        async move {
            let opts = ImportOptions {
                page_size: 20,
                ..Default::default()
            };
            host.import(conn, "orders", &opts, &PageSignal(tx)).await
        }
    });
    pages.recv().await.expect("the first run stores a page");
    let err = host
        .import(conn, "orders", &ImportOptions::default(), &())
        .await
        .expect_err("a second run while the first goes must be refused");
    assert!(
        matches!(err, EngineError::RunInProgress { .. }),
        "unexpected error: {err}"
    );
    assert!(err.to_string().contains("already in progress"), "{err}");

    let first = first.await.unwrap().expect("the first run finishes");
    assert_eq!(first.created, 300, "{first:?}");
    let runs = host.store().runs(conn, 10).await.unwrap();
    assert_eq!(
        runs.len(),
        1,
        "the refused run left no run behind: {runs:?}"
    );

    // Once the first run is over, the next one goes ahead.
    sim.set_faults(FaultConfig::default()).unwrap();
    let again = host
        .import(conn, "orders", &ImportOptions::default(), &())
        .await
        .expect("runs once the first has finished");
    assert_eq!((again.created, again.updated), (0, 0), "{again:?}");
    sim.shutdown().await;
}
