//! Runs the plugin natively against the Presswise simulator on 127.0.0.1.
//!
//! The simulator runs in-process on its own tokio runtime; the SDK's fake host
//! (`switchyard_sdk::testing`) forwards the plugin's requests to it over a plain
//! HTTP/1.1 loopback connection, with secrets filled in as the real host does.
//! A request the simulator does not answer in time fails with the host's
//! `timeout` error, as the real host's deadline would.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use switchyard_sdk::bindings::switchyard::connector::http::{Header, HttpError, Method};
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

fn method(m: Method) -> &'static str {
    match m {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
    }
}

/// Sends the request to the simulator and reads its answer.
pub fn forward(addr: std::net::SocketAddr, req: &SentRequest) -> FakeResponse {
    let path = req
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
        .unwrap_or_else(|| "/".into());
    let mut stream = match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Ok(s) => s,
        Err(e) => return FakeResponse::Failure(HttpError::Connection(e.to_string())),
    };
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .expect("timeout");
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nHost: acme.mypresswise.com\r\nConnection: close\r\nContent-Length: {}\r\n",
        method(req.method),
        req.body.len()
    );
    for h in &req.headers {
        head.push_str(&format!("{}: {}\r\n", h.name, h.value));
    }
    head.push_str("\r\n");
    if let Err(e) = stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(&req.body))
    {
        return FakeResponse::Failure(HttpError::Connection(e.to_string()));
    }
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return FakeResponse::Failure(HttpError::Timeout(format!(
                    "no answer within {READ_TIMEOUT:?}"
                )))
            }
            Err(e) => return FakeResponse::Failure(HttpError::Connection(e.to_string())),
        }
    }
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return FakeResponse::Failure(HttpError::Connection("no complete answer".into()));
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<Header> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| Header {
            name: k.trim().into(),
            value: v.trim().into(),
        })
        .collect();
    let get = |n: &str| {
        headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(n))
            .map(|h| h.value.clone())
    };
    if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
                return FakeResponse::Failure(HttpError::Connection("broken chunk".into()));
            };
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16)
                .unwrap_or(0);
            rest = &rest[eol + 2..];
            if size == 0 {
                break;
            }
            if rest.len() < size {
                return FakeResponse::Failure(HttpError::Connection("body cut off".into()));
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[(size + 2).min(rest.len())..];
        }
        body = out;
    } else if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if body.len() < len {
            return FakeResponse::Failure(HttpError::Connection("body cut off".into()));
        }
    }
    FakeResponse::Answer {
        status,
        headers,
        body,
    }
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
