//! Runs the plugin natively against the M-Power simulator on 127.0.0.1.
//!
//! The simulator runs in-process on its own tokio runtime; the SDK's fake host
//! (`switchyard_sdk::testing`) forwards the plugin's requests to it over a plain
//! HTTP/1.1 loopback connection, with secrets filled in as the real host does.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use switchyard_sdk::bindings::switchyard::connector::http::{Header, HttpError, Method};
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
        "{} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
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
