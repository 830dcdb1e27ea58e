//! The Pressero connector, built as a wasm component, importing orders from the
//! simulator through the host.

use std::sync::{Arc, Mutex};

use switchyard_e2e::{host_in, plugin_dir, pressero_connection};
use switchyard_engine::ImportOptions;
use switchyard_runtime::RuntimeConfig;
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig};

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
