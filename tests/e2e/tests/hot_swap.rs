//! Hot swap: a new version is taken while the host runs; jobs already started
//! finish on the old one; a broken file is refused and the current one serves.

use std::sync::Arc;

use switchyard_e2e::test_plugin_dir;
use switchyard_runtime::{NoServices, PluginRegistry, Runtime, RuntimeConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_to_v2_while_a_job_runs_and_a_corrupt_file_is_refused() {
    let plugins = tempfile::tempdir().unwrap();
    let src = test_plugin_dir();
    let live = plugins.path().join("echo.wasm");
    std::fs::copy(src.join("echo.wasm"), &live).unwrap();

    let registry = PluginRegistry::new(Runtime::new(RuntimeConfig::default()).unwrap());
    let report = registry.scan_dir(plugins.path()).await.unwrap();
    assert_eq!(report.loaded.len(), 1);
    assert_eq!(registry.current("echo").unwrap().version(), "1.0.0");

    // A job starts on v1 and is still running when v2 arrives.
    let v1 = registry.current("echo").unwrap();
    let mut running = v1.start_job(Arc::new(NoServices)).await.unwrap();
    assert_eq!(running.check().await.unwrap().message, "echo 1.0.0");

    // Replace the file in place (write then rename, as a deploy would).
    let tmp = plugins.path().join("echo.wasm.tmp");
    std::fs::copy(src.join("echo-v2.wasm"), &tmp).unwrap();
    std::fs::rename(&tmp, &live).unwrap();
    let report = registry.scan_dir(plugins.path()).await.unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(registry.current("echo").unwrap().version(), "2.0.0");

    // The job in flight keeps its version; new jobs take the new one.
    assert_eq!(running.check().await.unwrap().message, "echo 1.0.0");
    let current = registry.current("echo").unwrap();
    let mut fresh = current.start_job(Arc::new(NoServices)).await.unwrap();
    assert_eq!(fresh.check().await.unwrap().message, "echo 2.0.0");

    // A corrupt build of the same plugin is refused; v2 keeps serving.
    std::fs::write(&live, b"\0asm\x0d\0\x01\0 this is not a component").unwrap();
    let report = registry.scan_dir(plugins.path()).await.unwrap();
    assert_eq!(report.refused.len(), 1);
    let why = report.refused[0].to_string();
    assert!(
        why.contains("echo.wasm is not a valid wasm component"),
        "{why}"
    );
    let current = registry.current("echo").unwrap();
    assert_eq!(current.version(), "2.0.0");
    let mut after = current.start_job(Arc::new(NoServices)).await.unwrap();
    assert_eq!(after.check().await.unwrap().message, "echo 2.0.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_of_another_world_is_refused() {
    let plugins = tempfile::tempdir().unwrap();
    // A valid, empty component: header only (magic, version 0x0d, layer 1).
    let empty: &[u8] = b"\0asm\x0d\0\x01\0";
    std::fs::write(plugins.path().join("empty.wasm"), empty).unwrap();
    let registry = PluginRegistry::new(Runtime::new(RuntimeConfig::default()).unwrap());
    let report = registry.scan_dir(plugins.path()).await.unwrap();
    assert_eq!(report.refused.len(), 1);
    let why = report.refused[0].to_string();
    assert!(why.contains("switchyard:connector"), "{why}");
}
