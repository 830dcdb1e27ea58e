//! An in-process fake host for native unit tests of connector logic.
//!
//! On a native target every host call of the SDK ([`crate::http`],
//! [`crate::store`], [`crate::config`], [`crate::log`], [`crate::matching`]) goes
//! to the [`FakeHost`] installed on the current thread, so tests running in
//! parallel threads never see each other's state. Build one, give it settings,
//! secrets and HTTP routes, [`FakeHost::install`] it, call the connector, then
//! inspect [`sent_requests`], [`logs`] and [`store_entry`].
//!
//! Like the real host, the fake fills `{{secret:NAME}}` placeholders in the URL,
//! headers, basic credentials and body before a route sees the request, and
//! answers `unknown-secret` for a secret it does not have. A request that no
//! route matches fails with a `connection` error. For end-to-end tests against a
//! provider simulator, load the built component in the real host instead.
//!
//! This module does not exist on `wasm32`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::bindings::switchyard::connector::http::{Header, HttpError, Method, Request, Response};
use crate::bindings::switchyard::connector::log::Level;
use crate::bindings::switchyard::connector::matching::{Candidate, MatchField, MatchKind};

type Handler = Box<dyn FnMut(&SentRequest) -> FakeResponse>;

struct Route {
    method: Method,
    pattern: String,
    handler: Handler,
}

impl Route {
    fn matches(&self, method: Method, url: &str) -> bool {
        if self.method != method {
            return false;
        }
        if let Some(prefix) = self.pattern.strip_suffix('*') {
            return url.starts_with(prefix);
        }
        url == self.pattern
            || url
                .strip_prefix(self.pattern.as_str())
                .is_some_and(|rest| rest.starts_with('?'))
    }
}

/// A request as a route sees it: placeholders resolved, plus the plugin-side text.
#[derive(Debug, Clone, PartialEq)]
pub struct SentRequest {
    /// The HTTP method.
    pub method: Method,
    /// The URL with secrets filled in.
    pub url: String,
    /// The headers with secrets filled in.
    pub headers: Vec<Header>,
    /// The body with secrets filled in (empty when none).
    pub body: Vec<u8>,
    /// Basic credentials with secrets filled in.
    pub basic_auth: Option<(String, String)>,
    /// The URL as the plugin wrote it, placeholders intact.
    pub placeholder_url: String,
    /// The body as the plugin wrote it, placeholders intact.
    pub placeholder_body: String,
    /// The plugin's idempotency flag.
    pub idempotent: Option<bool>,
}

impl SentRequest {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// The body as text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON (`Null` when it is not JSON).
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The value of query parameter `name`, undecoded.
    pub fn query(&self, name: &str) -> Option<&str> {
        let (_, query) = self.url.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
    }
}

/// What a route answers: a response, or a failure to deliver.
#[derive(Debug, Clone, PartialEq)]
pub enum FakeResponse {
    /// An HTTP answer.
    Answer {
        /// The status code.
        status: u16,
        /// The headers.
        headers: Vec<Header>,
        /// The body.
        body: Vec<u8>,
    },
    /// The host could not deliver the request.
    Failure(HttpError),
}

impl FakeResponse {
    /// An answer with a JSON body text.
    pub fn json(status: u16, body: &str) -> Self {
        FakeResponse::Answer {
            status,
            headers: vec![Header {
                name: "Content-Type".into(),
                value: "application/json".into(),
            }],
            body: body.as_bytes().to_vec(),
        }
    }

    /// An answer whose body is `value` serialised as JSON.
    pub fn json_value(status: u16, value: &serde_json::Value) -> Self {
        Self::json(status, &value.to_string())
    }

    /// Adds a header to an answer.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let FakeResponse::Answer { headers, .. } = &mut self {
            headers.push(Header {
                name: name.into(),
                value: value.into(),
            });
        }
        self
    }
}

/// The fake host of one test; see the [module docs](self).
#[derive(Default)]
pub struct FakeHost {
    config: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
    routes: Vec<Route>,
    store: BTreeMap<String, (Vec<u8>, Option<u32>)>,
    logs: Vec<(Level, String)>,
    sent: Vec<SentRequest>,
    candidates: Vec<(MatchKind, Vec<Candidate>)>,
}

thread_local! {
    static HOST: RefCell<Option<FakeHost>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's fake host, installing an empty one if none is.
pub(crate) fn with_host<R>(f: impl FnOnce(&mut FakeHost) -> R) -> R {
    HOST.with(|cell| {
        let mut slot = cell.borrow_mut();
        f(slot.get_or_insert_with(FakeHost::default))
    })
}

impl FakeHost {
    /// An empty fake host: no settings, no secrets, no routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a non-secret setting of the connection.
    pub fn config(mut self, name: &str, value: &str) -> Self {
        self.config.insert(name.into(), value.into());
        self
    }

    /// Sets a secret setting, reachable only through `{{secret:NAME}}`.
    pub fn secret(mut self, name: &str, value: &str) -> Self {
        self.secrets.insert(name.into(), value.into());
        self
    }

    /// Answers requests with `method` to `pattern`: an exact URL (any query
    /// string allowed after it) or a prefix ending in `*`. The first matching
    /// route wins.
    pub fn route(
        mut self,
        method: Method,
        pattern: &str,
        handler: impl FnMut(&SentRequest) -> FakeResponse + 'static,
    ) -> Self {
        self.routes.push(Route {
            method,
            pattern: pattern.into(),
            handler: Box::new(handler),
        });
        self
    }

    /// Pre-fills the plugin's store.
    pub fn stored(mut self, key: &str, value: &[u8]) -> Self {
        self.store.insert(key.into(), (value.to_vec(), None));
        self
    }

    /// Sets the candidates `matching::find` answers for `kind`.
    pub fn candidates(mut self, kind: MatchKind, candidates: Vec<Candidate>) -> Self {
        self.candidates.push((kind, candidates));
        self
    }

    /// Makes this the fake host of the current thread, replacing any other.
    pub fn install(self) {
        HOST.with(|cell| *cell.borrow_mut() = Some(self));
    }

    fn fill(&self, text: &str) -> Result<String, HttpError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{secret:") {
            out.push_str(&rest[..start]);
            let after = &rest[start + "{{secret:".len()..];
            let Some(end) = after.find("}}") else {
                return Err(HttpError::InvalidRequest(
                    "unterminated secret placeholder".into(),
                ));
            };
            let name = &after[..end];
            match self.secrets.get(name) {
                Some(v) => out.push_str(v),
                None => return Err(HttpError::UnknownSecret(name.to_string())),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    pub(crate) fn send(&mut self, req: &Request) -> Result<Response, HttpError> {
        let placeholder_body = req
            .body
            .as_deref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let headers = req
            .headers
            .iter()
            .map(|h| {
                Ok(Header {
                    name: h.name.clone(),
                    value: self.fill(&h.value)?,
                })
            })
            .collect::<Result<Vec<_>, HttpError>>()?;
        let basic_auth = match &req.basic_auth {
            Some(b) => Some((self.fill(&b.username)?, self.fill(&b.password)?)),
            None => None,
        };
        let sent = SentRequest {
            method: req.method,
            url: self.fill(&req.url)?,
            headers,
            body: self.fill(&placeholder_body)?.into_bytes(),
            basic_auth,
            placeholder_url: req.url.clone(),
            placeholder_body,
            idempotent: req.idempotent,
        };
        self.sent.push(sent.clone());
        let route = self
            .routes
            .iter_mut()
            .find(|r| r.matches(sent.method, &sent.url));
        let answer = match route {
            Some(r) => (r.handler)(&sent),
            None => FakeResponse::Failure(HttpError::Connection(format!(
                "no fake route for {:?} {}",
                sent.method, sent.url
            ))),
        };
        match answer {
            FakeResponse::Answer {
                status,
                headers,
                body,
            } => Ok(Response {
                status,
                headers,
                body,
            }),
            FakeResponse::Failure(e) => Err(e),
        }
    }

    pub(crate) fn store_get(&self, key: &str) -> Option<Vec<u8>> {
        self.store.get(key).map(|(v, _)| v.clone())
    }

    pub(crate) fn store_set(&mut self, key: &str, value: &[u8], ttl: Option<u32>) {
        self.store.insert(key.into(), (value.to_vec(), ttl));
    }

    pub(crate) fn store_delete(&mut self, key: &str) {
        self.store.remove(key);
    }

    pub(crate) fn config_get(&self, name: &str) -> Option<String> {
        self.config.get(name).cloned()
    }

    pub(crate) fn config_all(&self) -> Vec<(String, String)> {
        self.config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub(crate) fn log_write(&mut self, level: Level, message: &str) {
        self.logs.push((level, message.to_string()));
    }

    pub(crate) fn matching_find(
        &self,
        kind: MatchKind,
        _fields: &[MatchField],
    ) -> Result<Vec<Candidate>, String> {
        Ok(self
            .candidates
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, c)| c.clone())
            .unwrap_or_default())
    }
}

/// Every request sent on this thread since the fake host was installed.
pub fn sent_requests() -> Vec<SentRequest> {
    with_host(|h| h.sent.clone())
}

/// Every log line written on this thread since the fake host was installed.
pub fn logs() -> Vec<(Level, String)> {
    with_host(|h| h.logs.clone())
}

/// A value of the plugin's store and the TTL it was written with.
pub fn store_entry(key: &str) -> Option<(Vec<u8>, Option<u32>)> {
    with_host(|h| h.store.get(key).cloned())
}

/// Removes a value from the plugin's store, as if its TTL had passed.
pub fn expire(key: &str) {
    with_host(|h| {
        h.store.remove(key);
    })
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
    }
}

/// Sends a request the plugin made to a server on loopback (a provider simulator) over a
/// plain HTTP/1.1 connection and reads its answer, for [`FakeHost`] routes in native tests
/// against a simulator: `route(Method::Get, "http://127.0.0.1:*", move |r| forward_to_loopback(addr, "127.0.0.1", timeout, r))`.
/// No answer within `read_timeout` is the host's `timeout` error, as the real host's
/// deadline would be; a refused or cut-off connection is `connection`.
pub fn forward_to_loopback(
    addr: std::net::SocketAddr,
    host_header: &str,
    read_timeout: Duration,
    req: &SentRequest,
) -> FakeResponse {
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
        .set_read_timeout(Some(read_timeout))
        .expect("timeout");
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\nContent-Length: {}\r\n",
        method_name(req.method),
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
                    "no answer within {read_timeout:?}"
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
