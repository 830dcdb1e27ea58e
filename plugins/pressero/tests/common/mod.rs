//! Runs the plugin natively against the Pressero simulator on 127.0.0.1: the SDK's fake host
//! forwards every request the plugin sends (secrets filled in) to the simulator and hands its
//! answer back, so the plugin code is exercised exactly as in the real host, minus wasm.

#![allow(dead_code)]

use serde_json::Value;
use switchyard_sdk::bindings::switchyard::connector::http::{Header, HttpError, Method};
use switchyard_sdk::testing::{FakeHost, FakeResponse, SentRequest};
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig, PresseroSim};
use switchyard_sim::RunningSim;

/// The storefront the site streams use in these tests.
pub const SITE: &str = "shop.example.com";

/// A running simulator and the runtime that serves it.
pub struct Sim {
    pub rt: tokio::runtime::Runtime,
    pub sim: RunningSim<PresseroSim>,
    client: reqwest::Client,
}

impl Sim {
    /// Starts a simulator with `cfg` (port 0).
    pub fn start(cfg: PresseroConfig) -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sim = rt
            .block_on(spawn_pressero(PresseroConfig { port: 0, ..cfg }))
            .unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        Sim { rt, sim, client }
    }

    /// A small simulator: 30 orders.
    pub fn small() -> Sim {
        Sim::start(PresseroConfig {
            orders: 30,
            ..PresseroConfig::default()
        })
    }

    /// A fake host configured for this simulator, forwarding every request to it.
    pub fn host(&self) -> FakeHost {
        let c = self.sim.credentials().clone();
        let base = self.sim.base_url();
        let mut host = FakeHost::new()
            .config("base-url", &base)
            .config("username", &c.user_name)
            .config("subscriber-id", &c.subscriber_id)
            .config("site", SITE)
            .config("currency", "USD")
            .secret("password", &c.password)
            .secret("consumer-id", &c.consumer_id);
        for method in [
            Method::Get,
            Method::Post,
            Method::Put,
            Method::Patch,
            Method::Delete,
            Method::Head,
        ] {
            let handle = self.rt.handle().clone();
            let client = self.client.clone();
            host = host.route(method, &format!("{base}*"), move |req| {
                handle.block_on(forward(&client, req))
            });
        }
        host
    }

    /// Installs [`Sim::host`] on this thread.
    pub fn install(&self) {
        self.host().install();
    }

    /// Sends a request to the simulator's API with a fresh token (for test set-up).
    pub fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let base = self.sim.base_url();
        let c = self.sim.credentials().clone();
        self.rt.block_on(async {
            let auth: Value = self
                .client
                .post(format!("{base}V2/Authentication"))
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(&c).unwrap())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .map(|b| serde_json::from_slice(&b).unwrap())
                .unwrap();
            let mut r = self.client.request(method, format!("{base}{path}")).header(
                "Authorization",
                format!("token {}", auth["Token"].as_str().unwrap()),
            );
            if let Some(b) = body {
                r = r
                    .header("Content-Type", "application/json")
                    .body(b.to_string());
            }
            let answer = r.send().await.unwrap();
            let status = answer.status().as_u16();
            let bytes = answer.bytes().await.unwrap();
            (
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            )
        })
    }
}

async fn forward(client: &reqwest::Client, req: &SentRequest) -> FakeResponse {
    let method = match req.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
        Method::Head => reqwest::Method::HEAD,
    };
    let mut r = client.request(method, &req.url);
    for h in &req.headers {
        r = r.header(&h.name, &h.value);
    }
    if !req.body.is_empty() {
        r = r.body(req.body.clone());
    }
    match r.send().await {
        Ok(answer) => {
            let status = answer.status().as_u16();
            let headers = answer
                .headers()
                .iter()
                .map(|(k, v)| Header {
                    name: k.as_str().to_string(),
                    value: v.to_str().unwrap_or_default().to_string(),
                })
                .collect();
            let body = answer.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            FakeResponse::Answer {
                status,
                headers,
                body,
            }
        }
        Err(e) => FakeResponse::Failure(HttpError::Connection(e.to_string())),
    }
}

/// A fetch request for `stream`.
pub fn fetch_req(
    stream: &str,
    cursor: Option<String>,
    size: u32,
) -> switchyard_sdk::types::FetchRequest {
    switchyard_sdk::types::FetchRequest {
        stream: stream.into(),
        cursor,
        page_size: size,
        now: now(),
        external_ids: Vec::new(),
    }
}

/// The machine's clock as RFC 3339 (the simulator stamps changes with it).
pub fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    switchyard_sdk::time::Timestamp::from_unix(secs).to_string()
}
