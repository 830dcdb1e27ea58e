#![cfg(not(target_arch = "wasm32"))]
//! Answers the Pressero simulator cuts short (issue 10): the orders stream fails `transient`,
//! so the host retries the run, instead of `invalid-input`, which it would not.

mod common;

use common::{fetch_req, Sim};
use switchyard_plugin_pressero::Pressero;
use switchyard_sdk::types::*;
use switchyard_sdk::Connector;
use switchyard_sim::FaultConfig;

#[test]
fn an_order_document_cut_short_is_transient_and_the_next_fetch_succeeds() {
    let sim = Sim::small();
    sim.install();
    for fault in [
        FaultConfig {
            malformed_rate: 1.0,
            scope: Some("Details".into()),
            ..FaultConfig::default()
        },
        FaultConfig {
            truncated_rate: 1.0,
            scope: Some("Details".into()),
            ..FaultConfig::default()
        },
    ] {
        sim.sim.set_faults(fault.clone()).unwrap();
        match Pressero::fetch(fetch_req("orders", None, 5)).unwrap_err() {
            ConnectorError::Transient(m) => {
                assert!(m.contains("/Details"), "{fault:?}: {m}");
                if fault.malformed_rate > 0.0 {
                    assert!(
                        m.contains("answered with broken JSON (EOF while parsing"),
                        "{m}"
                    );
                    assert!(m.contains("the answer begins: «{"), "{m}");
                }
            }
            other => panic!("{fault:?}: {other:?}"),
        }
    }
    sim.sim.set_faults(FaultConfig::default()).unwrap();
    let page = Pressero::fetch(fetch_req("orders", None, 5)).unwrap();
    assert_eq!(page.records.len(), 5);
}
