//! Sending: secret filling, allow-list on every hop, rate and concurrency limits,
//! retries with back-off (also of 2xx answers whose body is broken), per-attempt time-out,
//! body cap, exchange logging.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::body_check::body_defect;
use crate::error::HttpError;
use crate::exchange::{Exchange, ExchangeLog};
use crate::pattern::Scheme;
use crate::policy::ConnectionPolicy;
use crate::secret::{Redactor, MASK};

/// How much of a body the exchange log keeps.
const EXCERPT_BYTES: usize = 2048;

/// Headers whose values are credentials: always `***` in the log.
const CREDENTIAL_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// Headers the host owns: a plugin setting them could break framing or routing.
const HOST_OWNED_HEADERS: [&str; 5] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
];

/// The HTTP methods of the WIT contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// Whether sending the request twice is harmless by HTTP's definition (GET, HEAD, PUT, DELETE).
    pub fn is_idempotent(self) -> bool {
        matches!(
            self,
            Method::Get | Method::Head | Method::Put | Method::Delete
        )
    }

    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request from a plugin, as the WIT `request` record carries it.
///
/// `{{secret:NAME}}` may appear in `url`, header values, `body` and both `basic_auth` parts.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    /// The method.
    pub method: Method,
    /// Absolute http(s) URL, without user info.
    pub url: String,
    /// Header lines, in order.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// `(username, password)`, encoded by the host into `Authorization: Basic`.
    pub basic_auth: Option<(String, String)>,
    /// Whether the host may send it again; `None`: by method (GET, HEAD, PUT, DELETE).
    pub idempotent: Option<bool>,
}

impl OutboundRequest {
    /// A request with no headers, body or credentials.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        OutboundRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            basic_auth: None,
            idempotent: None,
        }
    }

    /// A bare GET.
    pub fn get(url: impl Into<String>) -> Self {
        OutboundRequest::new(Method::Get, url)
    }
}

impl fmt::Debug for OutboundRequest {
    // The plugin may put literal credentials here: show their shape, not their content.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("OutboundRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("header_names", &header_names)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("basic_auth", &self.basic_auth.as_ref().map(|_| MASK))
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

/// The server's answer, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundResponse {
    /// The status code.
    pub status: u16,
    /// Header lines, in order; non-UTF-8 bytes replaced.
    pub headers: Vec<(String, String)>,
    /// The whole body (at most the size cap).
    pub body: Vec<u8>,
}

impl OutboundResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Process-wide limits, used where a connection's policy sets none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpDefaults {
    /// Per attempt: connecting, sending, and reading the whole response.
    pub timeout: Duration,
    /// Response bodies longer than this fail with `TooLarge`.
    pub max_body_bytes: u64,
    /// Redirects followed per request; beyond, the 3xx response is returned as is.
    pub max_redirects: u32,
}

impl Default for HttpDefaults {
    fn default() -> Self {
        HttpDefaults {
            timeout: Duration::from_secs(30),
            max_body_bytes: 16 * 1024 * 1024,
            max_redirects: 5,
        }
    }
}

/// The outbound HTTP capability. One per process; cheap to clone (one shared client).
#[derive(Clone)]
pub struct HttpCapability {
    inner: Arc<CapabilityInner>,
}

struct CapabilityInner {
    client: reqwest::Client,
    defaults: HttpDefaults,
}

impl fmt::Debug for HttpCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpCapability")
            .field("defaults", &self.inner.defaults)
            .finish_non_exhaustive()
    }
}

/// One request on the wire: a hop of a redirect chain, sent once per attempt.
struct Hop {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
    idempotent: bool,
    /// Headers that carried secrets: not forwarded to another origin.
    secret_headers: HashSet<HeaderName>,
}

/// How a single attempt ended when no whole response came back.
enum AttemptFailure {
    Timeout,
    Connection(String),
    /// The status and headers came, then the connection broke before the body was complete.
    BodyCut {
        received: u64,
        announced: Option<u64>,
        why: String,
    },
    TooLarge,
}

/// Shared by all attempts of one `send`.
struct SendState {
    attempts: u32,
    /// Answers of 429 waited out; they do not count against `max_attempts`.
    throttled: u32,
    backoff: backon::ExponentialBackoff,
    /// 2xx answers sent again because their body was broken.
    malformed_retries: u32,
    /// Why the body of the answer returned last is broken; `None` when it looked whole.
    malformed_body: Option<String>,
}

impl SendState {
    fn new(retry: &crate::policy::RetryPolicy) -> Self {
        SendState {
            attempts: 0,
            throttled: 0,
            backoff: ExponentialBuilder::default()
                .with_min_delay(retry.base_delay)
                .with_max_delay(retry.max_delay)
                .with_factor(2.0)
                .with_jitter()
                .without_max_times()
                .build(),
            malformed_retries: 0,
            malformed_body: None,
        }
    }
}

/// What the log needs beyond the result.
#[derive(Default)]
struct LogDraft {
    url: String,
    final_url: Option<String>,
    request_headers: Vec<(String, String)>,
    request_body_excerpt: Option<String>,
}

impl HttpCapability {
    /// Builds the shared client. Redirects are off in the client: `send` follows them
    /// itself so that every hop is checked against the allow-list.
    pub fn new(defaults: HttpDefaults) -> Result<Self, HttpError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(defaults.timeout)
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                HttpError::Connection(format!(
                    "could not build the HTTP client: {}",
                    error_chain(&e)
                ))
            })?;
        Ok(HttpCapability {
            inner: Arc::new(CapabilityInner { client, defaults }),
        })
    }

    /// The process-wide defaults.
    pub fn defaults(&self) -> HttpDefaults {
        self.inner.defaults
    }

    /// Sends `req` under `policy` and records one [`Exchange`] in `log`.
    ///
    /// A 429 or 5xx is returned as a response once retries are used up, and so is a 2xx
    /// whose body is broken (declared JSON or XML that does not parse, or HTML to a request
    /// that accepts only JSON or XML): the exchange then names the defect. Errors and the
    /// log are redacted.
    pub async fn send(
        &self,
        policy: &ConnectionPolicy,
        req: OutboundRequest,
        log: &dyn ExchangeLog,
    ) -> Result<OutboundResponse, HttpError> {
        let started = Instant::now();
        let method = req.method;
        let mut redactor = policy.redactor.clone();
        // Until the secrets are filled in, the template is what we can show.
        let mut draft = LogDraft {
            url: logged_text(&redactor, &req.url),
            ..LogDraft::default()
        };

        let mut state = SendState::new(&policy.retry);
        let result = match self.prepare(policy, req, &mut redactor) {
            Ok(hop) => {
                draft.url = logged_text(&redactor, hop.url.as_str());
                draft.request_headers = logged_headers(&hop.headers, &redactor);
                draft.request_body_excerpt = hop.body.as_deref().map(|b| excerpt(b, &redactor));
                self.follow(policy, hop, &redactor, &mut draft, &mut state)
                    .await
            }
            Err(e) => Err(e),
        };

        let result = result.map_err(|e| e.map_message(|m| redactor.redact(m)));
        let exchange = Exchange {
            method,
            url: draft.url,
            final_url: draft.final_url,
            status: result.as_ref().ok().map(|r| r.status),
            attempts: state.attempts,
            malformed_body: result
                .as_ref()
                .ok()
                .and(state.malformed_body.as_deref())
                .map(|why| logged_text(&redactor, why)),
            malformed_retries: state.malformed_retries,
            duration_ms: started.elapsed().as_millis().try_into().unwrap_or(u64::MAX),
            request_headers: draft.request_headers,
            request_body_excerpt: draft.request_body_excerpt,
            response_headers: result
                .as_ref()
                .map(|r| logged_pairs(&r.headers, &redactor))
                .unwrap_or_default(),
            response_body_excerpt: result.as_ref().ok().map(|r| excerpt(&r.body, &redactor)),
            error: result.as_ref().err().map(ToString::to_string),
        };
        log.record(&exchange);
        result
    }

    /// Fills secrets, validates, checks the first destination.
    fn prepare(
        &self,
        policy: &ConnectionPolicy,
        req: OutboundRequest,
        redactor: &mut Redactor,
    ) -> Result<Hop, HttpError> {
        let secrets = &policy.secrets;
        let url_text = secrets.fill_url(&req.url)?;
        let url = Url::parse(&url_text)
            .map_err(|e| HttpError::InvalidRequest(format!("invalid URL: {e}")))?;
        policy.check_destination(&url)?;

        let mut headers = HeaderMap::new();
        let mut secret_headers = HashSet::new();
        for (name, value) in &req.headers {
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| HttpError::InvalidRequest(format!("invalid header name {name:?}")))?;
            if HOST_OWNED_HEADERS.contains(&header_name.as_str()) {
                return Err(HttpError::InvalidRequest(format!(
                    "header {header_name} is set by the host"
                )));
            }
            let (filled, had_secret) = secrets.fill_text(value)?;
            let mut header_value = HeaderValue::from_str(&filled).map_err(|_| {
                HttpError::InvalidRequest(format!("header {header_name} has an invalid value"))
            })?;
            if had_secret {
                header_value.set_sensitive(true);
                secret_headers.insert(header_name.clone());
            }
            headers.append(header_name, header_value);
        }

        if let Some((user, pass)) = &req.basic_auth {
            if headers.contains_key(header::AUTHORIZATION) {
                return Err(HttpError::InvalidRequest(
                    "basic-auth and an Authorization header cannot both be given".to_string(),
                ));
            }
            let (user, user_secret) = secrets.fill_text(user)?;
            let (pass, pass_secret) = secrets.fill_text(pass)?;
            if user.contains(':') {
                return Err(HttpError::InvalidRequest(
                    "a basic-auth username cannot contain ':'".to_string(),
                ));
            }
            let encoded = STANDARD.encode(format!("{user}:{pass}"));
            if user_secret || pass_secret {
                redactor.add_basic_credentials(&encoded);
                secret_headers.insert(header::AUTHORIZATION);
            }
            let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| {
                HttpError::InvalidRequest("basic-auth cannot be encoded".to_string())
            })?;
            value.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, value);
        }

        let body = req
            .body
            .as_deref()
            .map(|b| secrets.fill_body(b))
            .transpose()?;
        Ok(Hop {
            method: req.method,
            idempotent: req.idempotent.unwrap_or(req.method.is_idempotent()),
            url,
            headers,
            body,
            secret_headers,
        })
    }

    /// Sends `hop`, following redirects while they stay on the allow-list; `state` counts
    /// the attempts of every hop.
    async fn follow(
        &self,
        policy: &ConnectionPolicy,
        mut hop: Hop,
        redactor: &Redactor,
        draft: &mut LogDraft,
        state: &mut SendState,
    ) -> Result<OutboundResponse, HttpError> {
        let explicit_idempotent = hop.idempotent;
        let mut redirects = 0;
        loop {
            let response = self.send_with_retries(policy, &hop, state).await?;
            let location = response.header("location").map(str::to_string);
            let (true, Some(location)) = (is_redirect(response.status), location) else {
                return Ok(response);
            };
            if redirects >= self.inner.defaults.max_redirects {
                return Ok(response);
            }
            let next = hop
                .url
                .join(&location)
                .map_err(|e| HttpError::Denied(format!("redirect to an invalid location: {e}")))?;
            policy.check_destination(&next).map_err(|e| match e {
                denied @ HttpError::Denied(_) => denied,
                other => HttpError::Denied(format!("redirect refused: {}", other.message())),
            })?;

            let became_get = match response.status {
                303 => hop.method != Method::Head,
                301 | 302 => hop.method == Method::Post,
                _ => false,
            };
            if became_get {
                hop.method = Method::Get;
                hop.body = None;
                hop.headers.remove(header::CONTENT_TYPE);
                hop.idempotent = explicit_idempotent || Method::Get.is_idempotent();
            }
            if !same_origin(&hop.url, &next) {
                // Credentials were meant for the first origin, not for whoever it sends us to.
                for name in [
                    header::AUTHORIZATION,
                    header::COOKIE,
                    header::PROXY_AUTHORIZATION,
                ] {
                    hop.headers.remove(name);
                }
                for name in hop.secret_headers.drain() {
                    hop.headers.remove(name);
                }
            }
            draft.final_url = Some(logged_text(redactor, next.as_str()));
            hop.url = next;
            redirects += 1;
        }
    }

    /// Sends one hop, again after 429/5xx/time-out/connection failures, and after a 2xx
    /// whose body is broken (see [`body_defect`]), while it is idempotent and attempts remain.
    /// The last answer is returned as it is, a broken body included, with the defect in
    /// `state`.
    async fn send_with_retries(
        &self,
        policy: &ConnectionPolicy,
        hop: &Hop,
        state: &mut SendState,
    ) -> Result<OutboundResponse, HttpError> {
        let timeout = policy.timeout.unwrap_or(self.inner.defaults.timeout);
        let max_body = policy
            .max_body_bytes
            .unwrap_or(self.inner.defaults.max_body_bytes);
        let max_delay = policy.retry.max_delay;
        let accept = joined_values(&hop.headers, header::ACCEPT);
        loop {
            state.attempts += 1;
            let outcome = self.attempt(policy, hop, timeout, max_body).await;
            let may_retry = hop.idempotent
                && state.attempts.saturating_sub(state.throttled) < policy.retry.max_attempts;
            let backoff = state.backoff.next().unwrap_or(max_delay).min(max_delay);
            let delay = match outcome {
                // The provider did not take the request: waiting it out is safe for any
                // method, and a burst of 429s must not use up the attempts meant for errors.
                Ok(res) if res.status == 429 && state.throttled < policy.retry.max_throttled => {
                    state.throttled += 1;
                    retry_after(&res, SystemTime::now()).map_or(backoff, |d| d.min(max_delay))
                }
                Ok(res) if may_retry && is_retryable_status(res.status) => {
                    retry_after(&res, SystemTime::now()).map_or(backoff, |d| d.min(max_delay))
                }
                Ok(res) => {
                    // Judged for every 2xx, retried or not, so that the log says it either way.
                    state.malformed_body = (hop.method != Method::Head
                        && (200..300).contains(&res.status))
                    .then(|| body_defect(res.header("content-type"), accept.as_deref(), &res.body))
                    .flatten();
                    if !(may_retry && state.malformed_body.is_some()) {
                        return Ok(res);
                    }
                    // Half a document is the provider failing for a moment: wait like for a 5xx.
                    state.malformed_retries += 1;
                    backoff
                }
                Err(
                    AttemptFailure::Timeout
                    | AttemptFailure::Connection(_)
                    | AttemptFailure::BodyCut { .. },
                ) if may_retry => backoff,
                Err(failure) => {
                    return Err(failure_error(
                        failure,
                        &hop.url,
                        timeout,
                        max_body,
                        state.attempts,
                    ))
                }
            };
            tokio::time::sleep(delay).await;
        }
    }

    /// One HTTP request: waits for the rate limiter and a concurrency slot, then sends
    /// and reads the body under the time-out and size cap.
    async fn attempt(
        &self,
        policy: &ConnectionPolicy,
        hop: &Hop,
        timeout: Duration,
        max_body: u64,
    ) -> Result<OutboundResponse, AttemptFailure> {
        if let Some((_, limiter)) = &policy.rate_limit {
            limiter.until_ready().await;
        }
        let _slot = match &policy.concurrency {
            Some((_, slots)) => Some(
                slots
                    .acquire()
                    .await
                    .expect("the concurrency semaphore is never closed"),
            ),
            None => None,
        };
        let exchange = async {
            let mut builder = self
                .inner
                .client
                .request(hop.method.to_reqwest(), hop.url.clone())
                .headers(hop.headers.clone());
            if let Some(body) = &hop.body {
                builder = builder.body(body.clone());
            }
            let mut response = builder.send().await.map_err(attempt_failure)?;
            let status = response.status().as_u16();
            let announced = response.content_length();
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            if hop.method != Method::Head
                && response.content_length().is_some_and(|len| len > max_body)
            {
                return Err(AttemptFailure::TooLarge);
            }
            let mut body = Vec::new();
            // Read errors after the headers mean the body was cut short: said as such, since
            // "could not reach" would send whoever reads the log to check the network.
            let cut = |e: reqwest::Error, received: usize| match attempt_failure(e) {
                AttemptFailure::Connection(why) => AttemptFailure::BodyCut {
                    received: received as u64,
                    announced,
                    why,
                },
                other => other,
            };
            while let Some(chunk) = response.chunk().await.map_err(|e| cut(e, body.len()))? {
                if body.len() as u64 + chunk.len() as u64 > max_body {
                    return Err(AttemptFailure::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(OutboundResponse {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(AttemptFailure::Timeout))
    }
}

fn attempt_failure(e: reqwest::Error) -> AttemptFailure {
    if e.is_timeout() {
        AttemptFailure::Timeout
    } else {
        AttemptFailure::Connection(error_chain(&e.without_url()))
    }
}

/// The final error of a hop; the caller redacts it.
fn failure_error(
    failure: AttemptFailure,
    url: &Url,
    timeout: Duration,
    max_body: u64,
    attempts: u32,
) -> HttpError {
    let host = url.host_str().unwrap_or("?");
    let port = url.port_or_known_default().unwrap_or(0);
    let tries = if attempts == 1 {
        "1 attempt".to_string()
    } else {
        format!("{attempts} attempts")
    };
    match failure {
        AttemptFailure::Timeout => HttpError::Timeout(format!(
            "no answer from {host}:{port} within {timeout:?} ({tries})"
        )),
        AttemptFailure::Connection(why) => {
            HttpError::Connection(format!("could not reach {host}:{port}: {why} ({tries})"))
        }
        AttemptFailure::BodyCut {
            received,
            announced,
            why,
        } => {
            let of = announced.map_or(String::new(), |n| format!(" of {n}"));
            HttpError::Connection(format!(
                "the answer from {host}:{port} was cut short: the connection broke after \
                 {received}{of} body bytes: {why} ({tries})"
            ))
        }
        AttemptFailure::TooLarge => HttpError::TooLarge(format!(
            "the response body from {host}:{port} exceeds the cap of {max_body} bytes"
        )),
    }
}

/// The error and its sources, e.g. "error sending request: client error (Connect): connection refused".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

fn same_origin(a: &Url, b: &Url) -> bool {
    Scheme::of(a) == Scheme::of(b)
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The wait a `Retry-After` header asks for: delay-seconds or an HTTP date.
fn retry_after(res: &OutboundResponse, now: SystemTime) -> Option<Duration> {
    let value = res.header("retry-after")?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Every value of header `name`, joined with `,` as HTTP allows; `None` when absent.
fn joined_values(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn logged_headers(headers: &HeaderMap, redactor: &Redactor) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                logged_value(n.as_str(), &String::from_utf8_lossy(v.as_bytes()), redactor),
            )
        })
        .collect()
}

fn logged_pairs(headers: &[(String, String)], redactor: &Redactor) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| (n.clone(), logged_value(n, v, redactor)))
        .collect()
}

fn logged_value(name: &str, value: &str, redactor: &Redactor) -> String {
    if CREDENTIAL_HEADERS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(name))
    {
        MASK.to_string()
    } else {
        redactor.redact(value)
    }
}

/// Text as the log may keep it: secrets masked by value, then credential-named fields
/// (a provider-minted token, `?token=…`) whatever their value.
fn logged_text(redactor: &Redactor, text: &str) -> String {
    crate::credential_fields::mask(&redactor.redact(text)).into_owned()
}

/// The redacted start of a body: secrets by value, then credential-named fields whatever
/// their value. Redaction runs on the whole text first, so a secret cut by the excerpt's end
/// cannot leak in part.
fn excerpt(body: &[u8], redactor: &Redactor) -> String {
    let text = logged_text(redactor, &String::from_utf8_lossy(body));
    if text.len() <= EXCERPT_BYTES {
        return text;
    }
    let mut end = EXCERPT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} bytes in all]", &text[..end], body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_with(header: &str, value: &str) -> OutboundResponse {
        OutboundResponse {
            status: 429,
            headers: vec![(header.into(), value.into())],
            body: vec![],
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(
            retry_after(&response_with("Retry-After", "7"), now),
            Some(Duration::from_secs(7))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(42));
        assert_eq!(
            retry_after(&response_with("retry-after", &later), now),
            Some(Duration::from_secs(42))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(42));
        assert_eq!(
            retry_after(&response_with("retry-after", &past), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(&response_with("retry-after", "soon"), now),
            None
        );
        assert_eq!(retry_after(&response_with("x-other", "3"), now), None);
    }

    #[test]
    fn excerpt_truncates_after_redaction() {
        let redactor = Redactor::for_secrets(["SECRETVALUE"].into_iter());
        let mut body = "a".repeat(EXCERPT_BYTES - 3).into_bytes();
        body.extend_from_slice(b"SECRETVALUE and more");
        let text = excerpt(&body, &redactor);
        assert!(!text.contains("SEC"), "{text}");
        let long = "é".repeat(EXCERPT_BYTES);
        assert!(excerpt(long.as_bytes(), &redactor).contains("bytes in all"));
    }

    #[test]
    fn capability_builds_its_client() {
        let http = HttpCapability::new(HttpDefaults::default()).unwrap();
        assert_eq!(http.defaults().max_redirects, 5);
    }

    #[test]
    fn request_debug_hides_credentials() {
        let mut req = OutboundRequest::get("https://x.com/");
        req.basic_auth = Some(("ann".into(), "literal-password".into()));
        req.headers.push(("X-Token".into(), "literal-token".into()));
        let debug = format!("{req:?}");
        assert!(
            !debug.contains("literal-password") && !debug.contains("literal-token"),
            "{debug}"
        );
    }
}
