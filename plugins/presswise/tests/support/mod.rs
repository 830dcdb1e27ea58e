//! Runs the plugin natively against the Presswise simulator on 127.0.0.1.
//!
//! The simulator runs in-process on its own tokio runtime; the SDK's fake host
//! (`switchyard_sdk::testing`) forwards the plugin's requests to it over a plain
//! HTTP/1.1 loopback connection, with secrets filled in as the real host does.
//! A request the simulator does not answer in time fails with the host's
//! `timeout` error, as the real host's deadline would.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::time::Duration;

use switchyard_sdk::bindings::switchyard::connector::http::Method;
use switchyard_sdk::testing::{FakeHost, FakeResponse, SentRequest};
use switchyard_sim::presswise::{spawn_presswise, PresswiseConfig, PresswiseSim};
use switchyard_sim::RunningSim;

/// How long the bridge waits for an answer before it reports a timeout.
pub const READ_TIMEOUT: Duration = Duration::from_millis(1500);

/// A running simulator and the runtime that serves it.
pub struct Sim {
    /// The simulator (dropped first: its Drop stops the server task).
    pub sim: RunningSim<PresswiseSim>,
    _rt: tokio::runtime::Runtime,
}

impl std::ops::Deref for Sim {
    type Target = PresswiseSim;
    fn deref(&self) -> &PresswiseSim {
        &self.sim
    }
}

impl Sim {
    /// Starts a simulator with `cfg` on an ephemeral port.
    pub fn start(cfg: PresswiseConfig) -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = rt
            .block_on(spawn_presswise(cfg))
            .expect("spawn the simulator");
        Sim { sim, _rt: rt }
    }

    /// Starts a small simulator (few orders, products).
    pub fn small() -> Sim {
        Sim::start(PresswiseConfig {
            orders: 30,
            products: 40,
            ..PresswiseConfig::default()
        })
    }

    /// The SOAP endpoint.
    pub fn url(&self) -> String {
        self.sim.base_url()
    }

    /// A fake host whose settings point at this simulator, with the right credentials.
    pub fn host(&self) -> FakeHost {
        let c = self.credentials().clone();
        let addr = self.sim.addr();
        FakeHost::new()
            .config("url", &self.url())
            .config("username", &c.user)
            .secret("password", &c.pass)
            .secret("authorization-code", &c.code)
            .route(Method::Post, &format!("http://{addr}/*"), move |req| {
                forward(addr, req)
            })
    }

    /// An active product of the catalogue.
    pub fn active_product(&self) -> u64 {
        let (_, products) = self.catalogue();
        products
            .iter()
            .find(|p| p.active)
            .map(|p| p.product_id)
            .expect("an active product")
    }
}

/// Sends the request to the simulator and reads its answer.
pub fn forward(addr: std::net::SocketAddr, req: &SentRequest) -> FakeResponse {
    switchyard_sdk::testing::forward_to_loopback(addr, "acme.mypresswise.com", READ_TIMEOUT, req)
}

use switchyard_sdk::types::*;

fn address(first: &str, last: &str, city: &str) -> Address {
    Address {
        external_id: None,
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        company: None,
        lines: vec!["1 Main St".into(), "Suite <5> & more".into()],
        city: Some(city.into()),
        postal_code: Some("10001".into()),
        region: Some("NY".into()),
        country: Some("US".into()),
        phone: None,
        email: None,
        extension: "{}".into(),
    }
}

/// A canonical order item; `product` is the linked Presswise productID, if any.
pub fn item(external_id: &str, sku: &str, product: Option<u64>, quantity: f64) -> OrderItem {
    OrderItem {
        external_id: Some(external_id.into()),
        sku: Some(sku.into()),
        product_code: None,
        product_external_id: product.map(|p| p.to_string()),
        name: format!("Business cards {sku}"),
        quantity,
        unit_price: 1250,
        tax_rate_bp: None,
        tax: 270,
        total: 2500,
        status: ItemStatus::Approved,
        files_pending: false,
        extension: "{}".into(),
    }
}

/// A canonical order numbered `number` with `items`.
pub fn order(number: &str, items: Vec<OrderItem>) -> Order {
    Order {
        external_id: number.into(),
        number: number.into(),
        placed_at: "2026-12-01T10:00:00Z".into(),
        updated_at: None,
        currency: "USD".into(),
        payment: PaymentState::Paid,
        payment_method: None,
        customer: Customer {
            external_id: None,
            kind: PartyKind::Person,
            company_name: None,
            first_name: Some("Ann".into()),
            last_name: Some("Lee".into()),
            email: Some("ann@example.org".into()),
            phone: None,
            vat_number: None,
            company_external_id: None,
            addresses: vec![],
            contacts: vec![],
            extension: "{}".into(),
        },
        billing: Some(address("Ann", "Lee", "New York")),
        shipping: Some(address("Bob", "Ray", "Boston")),
        coupons: vec![],
        subtotal: 2500 * items.len() as i64,
        shipping_total: 0,
        tax_total: 270 * items.len() as i64,
        total: 2770 * items.len() as i64,
        items,
        status: None,
        extension: "{}".into(),
    }
}

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
