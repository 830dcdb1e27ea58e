//! Runs the plugin natively against the M-Power simulator on 127.0.0.1.
//!
//! The simulator runs in-process on its own tokio runtime; the SDK's fake host
//! (`switchyard_sdk::testing`) forwards the plugin's requests to it over a plain
//! HTTP/1.1 loopback connection, with secrets filled in as the real host does.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::time::Duration;

use switchyard_sdk::bindings::switchyard::connector::http::Method;
use switchyard_sdk::testing::{FakeHost, FakeResponse, SentRequest};
use switchyard_sim::mpower::{spawn_mpower, MpowerConfig, MpowerSim};
use switchyard_sim::RunningSim;

/// How long the bridge waits for an answer before it reports a timeout.
pub const READ_TIMEOUT: Duration = Duration::from_millis(3000);

/// A running simulator and the runtime that serves it.
pub struct Sim {
    /// The simulator (dropped first: its Drop stops the server task).
    pub sim: RunningSim<MpowerSim>,
    _rt: tokio::runtime::Runtime,
}

impl std::ops::Deref for Sim {
    type Target = MpowerSim;
    fn deref(&self) -> &MpowerSim {
        &self.sim
    }
}

impl Sim {
    /// Starts a simulator with `cfg` on an ephemeral port.
    pub fn start(cfg: MpowerConfig) -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = rt.block_on(spawn_mpower(cfg)).expect("spawn the simulator");
        Sim { sim, _rt: rt }
    }

    /// Starts a small simulator: 30 contacts (10 companies), 40 products, 10 orders.
    pub fn small() -> Sim {
        Sim::start(MpowerConfig {
            contacts: 30,
            products: 40,
            orders: 10,
            order_requests: 2,
            ..MpowerConfig::default()
        })
    }

    /// The API base URL (`http://127.0.0.1:PORT/api/v1/`).
    pub fn url(&self) -> String {
        self.sim.base_url()
    }

    /// A fake host pointing at this simulator with `key` as the API key.
    pub fn host_with_key(&self, key: &str) -> FakeHost {
        let addr = self.sim.addr();
        let mut host = FakeHost::new()
            .config("url", &self.url())
            .secret("api-key", key);
        for m in [Method::Get, Method::Post, Method::Patch] {
            host = host.route(m, &format!("http://{addr}/*"), move |req| {
                forward(addr, req)
            });
        }
        host
    }

    /// A fake host pointing at this simulator with the right API key.
    pub fn host(&self) -> FakeHost {
        let key = self.api_key().to_string();
        self.host_with_key(&key)
    }
}

/// Sends the request to the simulator and reads its answer.
pub fn forward(addr: std::net::SocketAddr, req: &SentRequest) -> FakeResponse {
    switchyard_sdk::testing::forward_to_loopback(addr, "127.0.0.1", READ_TIMEOUT, req)
}

use switchyard_sdk::types::*;

/// The error's case, for assertions.
pub fn kind(e: &ConnectorError) -> &'static str {
    match e {
        ConnectorError::Auth(_) => "auth",
        ConnectorError::NotFound(_) => "not-found",
        ConnectorError::RateLimited(_) => "rate-limited",
        ConnectorError::InvalidInput(_) => "invalid-input",
        ConnectorError::AlreadyExists(_) => "already-exists",
        ConnectorError::Transient(_) => "transient",
        ConnectorError::Permanent(_) => "permanent",
    }
}
