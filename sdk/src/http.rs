//! JSON over the host's HTTP capability.
//!
//! The host performs every request: it checks the destination against the
//! connection's allow-list, fills in `{{secret:NAME}}` placeholders (write them
//! with [`secret`]), rate-limits, retries idempotent requests on 429/5xx/time-outs
//! and logs the exchange with secrets redacted. This module builds requests,
//! decodes JSON answers and maps HTTP failures to [`ConnectorError`]:
//!
//! | status / failure            | error                                             |
//! |-----------------------------|---------------------------------------------------|
//! | 401, 403                    | `auth`, naming the status and provider's message  |
//! | 404, 410                    | `not-found`                                       |
//! | 429                         | `rate-limited`, with `Retry-After` in ms          |
//! | 400, 422                    | `invalid-input` at the request                    |
//! | 408, 5xx                    | `transient`                                       |
//! | other non-2xx               | `permanent`                                       |
//! | host `timeout`/`connection` (a body cut short included) | `transient`           |
//! | host `unknown-secret`       | `auth` (the connection lacks that secret)         |
//! | host `denied`, `invalid-request`, `too-large` | `permanent`                     |
//! | 2xx body that is broken or cut short JSON, or not JSON by its `Content-Type` | `transient`, naming the request and the start of the body |
//! | 2xx body of well-formed JSON that does not fit the type | `invalid-input` at the request, naming the field path |
//!
//! A broken body is the provider (or the network) failing for a moment, like a 5xx: the host
//! already sent an idempotent request again when the body it got did not parse, and a later
//! run may get a whole answer. A well-formed answer of the wrong shape will not change by
//! asking again, so it is `invalid-input`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::error::Category;

use crate::bindings::switchyard::connector::http as wit;
use crate::error::{ConnectorError, Result};

pub use crate::bindings::switchyard::connector::http::{BasicAuth, Header, HttpError, Method};

/// The placeholder the host replaces with the connection's secret setting `name`.
///
/// ```
/// assert_eq!(switchyard_sdk::http::secret("password"), "{{secret:password}}");
/// ```
pub fn secret(name: &str) -> String {
    format!("{{{{secret:{name}}}}}")
}

/// The text of an HTTP method, for messages.
pub fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
    }
}

/// A request being built; send it with [`Request::send`] (any status) or
/// [`Request::send_json`] (2xx decoded, the rest mapped to an error).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<Header>,
    body: Option<Vec<u8>>,
    basic_auth: Option<BasicAuth>,
    idempotent: Option<bool>,
}

impl Request {
    /// A request with `method` to the absolute `url` (placeholders allowed).
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            basic_auth: None,
            idempotent: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// A `POST` request (not retried by the host unless marked idempotent).
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// A `PUT` request.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }

    /// A `PATCH` request (not retried by the host unless marked idempotent).
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new(Method::Patch, url)
    }

    /// A `DELETE` request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }

    /// Adds a header; the value may hold `{{secret:NAME}}` placeholders.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(Header {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// Adds several headers.
    pub fn headers<'a>(mut self, headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        for (n, v) in headers {
            self = self.header(n, v);
        }
        self
    }

    /// Sets HTTP Basic credentials, which the host encodes; each part may hold
    /// secret placeholders, e.g. `basic_auth(&user, secret("password"))`.
    pub fn basic_auth(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic_auth = Some(BasicAuth {
            username: username.into(),
            password: password.into(),
        });
        self
    }

    /// Sets a raw body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets a JSON body and the `Content-Type: application/json` header.
    ///
    /// Placeholders inside string values survive serialisation unchanged, so
    /// `{"Password": "{{secret:password}}"}` reaches the host as written.
    pub fn json<B: Serialize + ?Sized>(self, body: &B) -> Result<Self> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            ConnectorError::permanent(format!("cannot encode the request body as JSON: {e}"))
        })?;
        Ok(self.header("Content-Type", "application/json").body(bytes))
    }

    /// Says whether the host may send the request again after a failure
    /// (default: GET, HEAD, PUT, DELETE yes; POST, PATCH no).
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// The method of the request.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The URL of the request, placeholders unresolved.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `METHOD url`, for messages (placeholders, never secrets).
    pub fn describe(&self) -> String {
        format!("{} {}", method_name(self.method), self.url)
    }

    /// The request as the generated bindings take it.
    pub fn to_wit(&self) -> wit::Request {
        wit::Request {
            method: self.method,
            url: self.url.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
            basic_auth: self.basic_auth.clone(),
            idempotent: self.idempotent,
        }
    }

    /// Sends the request; any status is an `Ok` answer, only a failure to
    /// deliver is an error (mapped by [`transport_error`]).
    pub fn send(&self) -> Result<Response> {
        let what = self.describe();
        let answer =
            crate::host::http_send(&self.to_wit()).map_err(|e| transport_error(&what, e))?;
        Ok(Response {
            request: what,
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
        })
    }

    /// Sends the request and fails on a non-2xx status (see [`status_error`]).
    pub fn send_ok(&self) -> Result<Response> {
        self.send()?.error_for_status()
    }

    /// Sends the request, fails on a non-2xx status and decodes the JSON body.
    pub fn send_json<T: DeserializeOwned>(&self) -> Result<T> {
        self.send_ok()?.json()
    }
}

/// An HTTP answer of any status.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// `METHOD url` of the request, for messages.
    pub request: String,
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: Vec<Header>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Decodes the body as JSON (see [`decode_json`]): a broken, cut-short or non-JSON body
    /// is `transient`; well-formed JSON that does not fit `T` is `invalid-input` at
    /// `response of METHOD url`, naming the field path.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        decode_json(&self.request, &self.headers, &self.body)
    }

    /// `Ok(self)` for a 2xx status, otherwise the error [`status_error`] maps it to.
    pub fn error_for_status(self) -> Result<Self> {
        match status_error(&self.request, self.status, &self.headers, &self.body) {
            None => Ok(self),
            Some(e) => Err(e),
        }
    }

    /// The provider's own explanation in the body (see [`provider_message`]).
    pub fn provider_message(&self) -> String {
        provider_message(&self.body)
    }
}

fn find_header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// The provider's explanation of an error from a response body: the first of
/// the JSON fields `Message`, `message`, `error_description`, `error`, `detail`,
/// `title`, `errors` that is a string, else the body text cut to 200 characters.
pub fn provider_message(body: &[u8]) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in [
            "Message",
            "message",
            "error_description",
            "error",
            "detail",
            "title",
            "errors",
        ] {
            match map.get(key) {
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
                    return s.trim().to_string()
                }
                Some(serde_json::Value::Object(inner)) => {
                    if let Some(serde_json::Value::String(s)) = inner.get("message") {
                        return s.trim().to_string();
                    }
                }
                _ => {}
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "no message".to_string();
    }
    let mut cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

/// How much of a broken body an error message quotes: enough to recognise an HTML error page
/// or where a document stops, short enough for a log line.
const BODY_START_BYTES: usize = 120;

/// Decodes `body`, the answer to `request` (`METHOD url`, for messages) with `headers`, as
/// JSON of type `T`, and says by the error case whether asking again may help:
///
/// - the body is not JSON — broken or cut short (serde_json's `Syntax` or `Eof` class), or
///   declared by its `Content-Type` as something else (an HTML error page) — `transient`,
///   with a message naming the request, the provider's words when the body has some (an HTML
///   `<title>`), and the first 120 bytes of the body;
/// - the body is well-formed JSON whose fields do not fit `T` (a field missing or of the wrong
///   type) — `invalid-input` at `response of {request}`, the message naming the field path
///   (`Items[3].OrderNumber`).
///
/// Use it for any JSON answer a connector decodes itself; [`Response::json`] calls it. The
/// host redacts secrets from answers before a plugin sees them, so the quoted bytes hold none.
///
/// ```
/// use switchyard_sdk::http::decode_json;
/// use switchyard_sdk::types::ConnectorError;
/// let cut = decode_json::<serde_json::Value>("GET http://x/orders/1", &[], br#"{"OrderNumber": 10"#);
/// assert!(matches!(cut, Err(ConnectorError::Transient(_))));
/// #[derive(serde::Deserialize, Debug)]
/// struct Order { #[serde(rename = "OrderNumber")] _n: u64 }
/// let wrong = decode_json::<Order>("GET http://x/orders/1", &[], br#"{"OrderNumber": "ten"}"#);
/// assert!(matches!(wrong, Err(ConnectorError::InvalidInput(i)) if i.message.contains("OrderNumber")));
/// ```
pub fn decode_json<T: DeserializeOwned>(
    request: &str,
    headers: &[Header],
    body: &[u8],
) -> Result<T> {
    // A UTF-8 byte order mark is legal before JSON text (RFC 8259 lets a parser ignore it)
    // and some servers always send one: it is not a broken answer.
    let json = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut de = serde_json::Deserializer::from_slice(json);
    // `path` is where in the document decoding stopped; `.` is the document itself.
    let (error, path) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        // Trailing bytes after the document: what `serde_json::from_slice` refuses too.
        Ok(value) => match de.end() {
            Ok(()) => return Ok(value),
            Err(e) => (e, ".".to_string()),
        },
        Err(e) => {
            let path = e.path().to_string();
            (e.into_inner(), path)
        }
    };
    let content_type = find_header(headers, "content-type");
    let declared_other = content_type.is_some_and(|ct| !is_json_media_type(ct));
    Err(match error.classify() {
        Category::Data if !declared_other => ConnectorError::invalid_input(
            format!(
                "the answer to {request} is JSON of another shape than expected: at `{path}`: {error}"
            ),
            format!("response of {request}"),
        ),
        // Syntax and Eof: broken or cut short. Io cannot happen on a slice. Data under
        // another declared type: a page that happened to parse is still not the answer.
        _ => {
            let what = match content_type {
                Some(ct) if declared_other => format!("{ct} instead of JSON"),
                _ => format!("broken JSON ({error})"),
            };
            let words = provider_words(body)
                .map(|w| format!("; the provider says: {w}"))
                .unwrap_or_default();
            ConnectorError::transient(format!(
                "{request} answered with {what}{words}; the answer begins: {} ({} bytes in all)",
                body_start(body),
                body.len()
            ))
        }
    })
}

/// `application/json`, `text/json` or any `+json` type, parameters ignored.
fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

/// What the provider says in a body that is not the expected JSON: the `<title>` of an HTML
/// page (a gateway or maintenance page names the failure there).
fn provider_words(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let words = text[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!words.is_empty()).then(|| words.chars().take(BODY_START_BYTES).collect())
}

/// The first [`BODY_START_BYTES`] of `body` as one line of text: invalid UTF-8 replaced,
/// control characters as spaces, the cut moved back to a character boundary.
fn body_start(body: &[u8]) -> String {
    if body.is_empty() {
        return "(nothing)".to_string();
    }
    let mut end = body.len().min(BODY_START_BYTES);
    // Step back over UTF-8 continuation bytes so a character is not split into U+FFFD.
    while end < body.len() && end > 0 && body[end] & 0b1100_0000 == 0b1000_0000 {
        end -= 1;
    }
    let mut text: String = String::from_utf8_lossy(&body[..end])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if end < body.len() {
        text.push('…');
    }
    format!("«{text}»")
}

/// `Retry-After` in milliseconds, when it is a number of seconds (an HTTP date
/// cannot be used: plugins have no clock).
pub fn retry_after_ms(headers: &[Header]) -> Option<u64> {
    let value = find_header(headers, "retry-after")?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| (s * 1000.0).round() as u64)
}

/// The error a non-2xx answer means, or `None` for a 2xx. `request` is the
/// `METHOD url` text the messages name.
pub fn status_error(
    request: &str,
    status: u16,
    headers: &[Header],
    body: &[u8],
) -> Option<ConnectorError> {
    if (200..300).contains(&status) {
        return None;
    }
    let msg = provider_message(body);
    Some(match status {
        401 | 403 => ConnectorError::auth(format!(
            "the provider refused the credentials ({status}: {msg}) at {request}"
        )),
        404 | 410 => ConnectorError::not_found(format!("{request} not found ({status}: {msg})")),
        429 => ConnectorError::rate_limited(
            format!("the provider asked to slow down ({status}: {msg})"),
            retry_after_ms(headers),
        ),
        400 | 422 => ConnectorError::invalid_input(
            format!("the provider rejected the request ({status}: {msg})"),
            request.to_string(),
        ),
        408 | 500..=599 => ConnectorError::transient(format!("{request} failed ({status}: {msg})")),
        _ => ConnectorError::permanent(format!("{request} failed ({status}: {msg})")),
    })
}

/// The error a failure to deliver `request` means.
pub fn transport_error(request: &str, error: HttpError) -> ConnectorError {
    match error {
        HttpError::Timeout(m) => ConnectorError::transient(format!("{request} timed out: {m}")),
        HttpError::Connection(m) => {
            ConnectorError::transient(format!("{request} could not connect: {m}"))
        }
        HttpError::UnknownSecret(m) => ConnectorError::auth(format!(
            "the connection lacks a secret the request needs: {m}"
        )),
        HttpError::Denied(m) => ConnectorError::permanent(format!(
            "{request} is not on the connection's allowed hosts: {m}"
        )),
        HttpError::InvalidRequest(m) => {
            ConnectorError::permanent(format!("{request} is malformed: {m}"))
        }
        HttpError::TooLarge(m) => {
            ConnectorError::permanent(format!("the answer to {request} is too large: {m}"))
        }
    }
}

fn with_headers(mut req: Request, headers: &[(&str, &str)]) -> Request {
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    req.header("Accept", "application/json")
}

/// `GET url` and decode the JSON answer.
pub fn get_json<T: DeserializeOwned>(url: &str, headers: &[(&str, &str)]) -> Result<T> {
    with_headers(Request::get(url), headers).send_json()
}

/// `POST url` with a JSON body and decode the JSON answer (not retried by the host).
pub fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
    url: &str,
    headers: &[(&str, &str)],
    body: &B,
) -> Result<T> {
    with_headers(Request::post(url), headers)
        .json(body)?
        .send_json()
}

/// `PUT url` with a JSON body and decode the JSON answer.
pub fn put_json<B: Serialize + ?Sized, T: DeserializeOwned>(
    url: &str,
    headers: &[(&str, &str)],
    body: &B,
) -> Result<T> {
    with_headers(Request::put(url), headers)
        .json(body)?
        .send_json()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::testing::{FakeHost, FakeResponse};

    fn kind(e: &ConnectorError) -> &'static str {
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

    #[test]
    fn statuses_map_to_the_case_the_host_retries_on() {
        let body = br#"{"Message":"Invalid credentials"}"#;
        let cases = [
            (401, "auth"),
            (403, "auth"),
            (404, "not-found"),
            (429, "rate-limited"),
            (400, "invalid-input"),
            (422, "invalid-input"),
            (500, "transient"),
            (503, "transient"),
            (409, "permanent"),
        ];
        for (status, expected) in cases {
            let e = status_error("GET http://x/", status, &[], body).unwrap();
            assert_eq!(kind(&e), expected, "status {status}");
        }
        assert!(status_error("GET http://x/", 204, &[], b"").is_none());
        let e = status_error("POST http://x/auth", 401, &[], body).unwrap();
        assert!(e.message().contains("401: Invalid credentials"), "{e:?}");
    }

    #[test]
    fn rate_limit_carries_retry_after_in_ms() {
        let headers = [Header {
            name: "Retry-After".into(),
            value: "7".into(),
        }];
        match status_error("GET u", 429, &headers, b"slow down").unwrap() {
            ConnectorError::RateLimited(r) => {
                assert_eq!(r.retry_after_ms, Some(7000));
                assert!(r.message.contains("slow down"));
            }
            other => panic!("{other:?}"),
        }
        let date = [Header {
            name: "retry-after".into(),
            value: "Wed, 21 Oct 2026 07:28:00 GMT".into(),
        }];
        assert_eq!(retry_after_ms(&date), None);
    }

    #[test]
    fn host_failures_map_by_what_a_retry_would_do() {
        let t = transport_error("GET u", HttpError::Timeout("30s".into()));
        assert_eq!(kind(&t), "transient");
        let c = transport_error("GET u", HttpError::Connection("refused".into()));
        assert_eq!(kind(&c), "transient");
        let s = transport_error("GET u", HttpError::UnknownSecret("password".into()));
        assert_eq!(kind(&s), "auth");
        let d = transport_error("GET u", HttpError::Denied("evil.example".into()));
        assert_eq!(kind(&d), "permanent");
    }

    #[test]
    fn provider_message_prefers_json_fields_and_cuts_text() {
        assert_eq!(provider_message(br#"{"message":"nope"}"#), "nope");
        assert_eq!(
            provider_message(br#"{"error":{"message":"inner"}}"#),
            "inner"
        );
        assert_eq!(provider_message(b""), "no message");
        let long = "x".repeat(500);
        assert_eq!(provider_message(long.as_bytes()).chars().count(), 201);
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Token {
        #[serde(rename = "Token")]
        token: String,
    }

    #[test]
    fn post_json_sends_placeholders_and_decodes_the_answer() {
        let host = FakeHost::new().secret("password", "s3cret").route(
            Method::Post,
            "http://127.0.0.1/auth",
            |req| {
                // The fake host, like the real one, fills in the secret.
                assert!(req.body_text().contains("\"s3cret\""));
                assert_eq!(req.header("content-type"), Some("application/json"));
                FakeResponse::json(200, r#"{"Token":"abc"}"#)
            },
        );
        host.install();
        let t: Token = post_json(
            "http://127.0.0.1/auth",
            &[],
            &serde_json::json!({"Password": secret("password")}),
        )
        .unwrap();
        assert_eq!(t.token, "abc");
        // The plugin-side request kept the placeholder; the log shows it redacted.
        let sent = crate::testing::sent_requests();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].placeholder_body.contains("{{secret:password}}"));
    }

    #[test]
    fn get_json_maps_a_404_and_a_bad_body() {
        FakeHost::new()
            .route(Method::Get, "http://127.0.0.1/missing", |_| {
                FakeResponse::json(404, r#"{"Message":"Order not found"}"#)
            })
            .route(Method::Get, "http://127.0.0.1/garbled", |_| {
                FakeResponse::json(200, "not json")
            })
            .install();
        let e = get_json::<Token>("http://127.0.0.1/missing", &[]).unwrap_err();
        assert_eq!(kind(&e), "not-found");
        assert!(e.message().contains("Order not found"));
        let e = get_json::<Token>("http://127.0.0.1/garbled", &[]).unwrap_err();
        assert_eq!(
            kind(&e),
            "transient",
            "a garbled answer may be whole next time"
        );
        let e = get_json::<Token>("http://127.0.0.1/unrouted", &[]).unwrap_err();
        assert_eq!(kind(&e), "transient", "unrouted is a connection failure");
    }

    const DETAILS: &str = r#"{"OrderNumber":1010,"Details":{"Currency":"USD","Items":[{"Sku":"A-1","Quantity":2},{"Sku":"B-2","Quantity":"many"}]}}"#;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Line {
        #[serde(rename = "Sku")]
        sku: String,
        #[serde(rename = "Quantity")]
        quantity: u32,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Details {
        #[serde(rename = "Items")]
        items: Vec<Line>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Order {
        #[serde(rename = "OrderNumber")]
        number: u64,
        #[serde(rename = "Details")]
        details: Details,
    }

    fn answer(content_type: &str, body: &[u8]) -> Response {
        Response {
            request: "GET http://127.0.0.1/v2/orders/1010/Details".into(),
            status: 200,
            headers: vec![Header {
                name: "Content-Type".into(),
                value: content_type.into(),
            }],
            body: body.to_vec(),
        }
    }

    #[test]
    fn json_cut_short_or_broken_is_transient_and_quotes_the_start() {
        let half = &DETAILS.as_bytes()[..DETAILS.len() / 2];
        let e = answer("application/json", half)
            .json::<Order>()
            .unwrap_err();
        assert_eq!(kind(&e), "transient", "{e:?}");
        let m = e.message();
        assert!(
            m.starts_with("GET http://127.0.0.1/v2/orders/1010/Details answered with broken JSON (EOF while parsing"),
            "{m}"
        );
        assert!(
            m.contains(&format!("«{}»", String::from_utf8_lossy(half))),
            "{m}"
        );
        assert!(m.contains(&format!("({} bytes in all)", half.len())), "{m}");

        // Syntax errors (not only the end of input) are transient too.
        let e = answer("application/json", b"{\"OrderNumber\":10}}")
            .json::<serde_json::Value>()
            .unwrap_err();
        assert_eq!(kind(&e), "transient", "trailing characters: {e:?}");
        let e = answer("application/json", b"{\"OrderNumber\" 10")
            .json::<serde_json::Value>()
            .unwrap_err();
        assert_eq!(kind(&e), "transient", "{e:?}");
        let e = answer("application/json", b"").json::<Order>().unwrap_err();
        assert_eq!(kind(&e), "transient", "{e:?}");
        assert!(e.message().contains("«(nothing)»") || e.message().contains("(nothing)"));
        // A byte order mark is not a defect.
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), br#"{"a":1}"#].concat();
        assert!(answer("application/json", &with_bom)
            .json::<serde_json::Value>()
            .is_ok());
    }

    #[test]
    fn a_page_instead_of_json_is_transient_with_the_providers_words() {
        let page = b"<!DOCTYPE html><html><head><title>503 Service\n  Unavailable</title></head><body>maintenance</body></html>";
        let e = answer("text/html; charset=utf-8", page)
            .json::<Order>()
            .unwrap_err();
        assert_eq!(kind(&e), "transient", "{e:?}");
        let m = e.message();
        assert!(
            m.contains("answered with text/html; charset=utf-8 instead of JSON"),
            "{m}"
        );
        assert!(
            m.contains("the provider says: 503 Service Unavailable"),
            "{m}"
        );
        // Even well-formed JSON is not the answer when the provider declares another type.
        let e = answer("text/plain", b"\"maintenance\"")
            .json::<Order>()
            .unwrap_err();
        assert_eq!(kind(&e), "transient", "{e:?}");
    }

    #[test]
    fn well_formed_json_of_the_wrong_shape_is_invalid_input_naming_the_path() {
        let e = answer("application/json", DETAILS.as_bytes())
            .json::<Order>()
            .unwrap_err();
        match e {
            ConnectorError::InvalidInput(i) => {
                assert_eq!(
                    i.location,
                    "response of GET http://127.0.0.1/v2/orders/1010/Details"
                );
                assert!(
                    i.message
                        .contains("at `Details.Items[1].Quantity`: invalid type: string \"many\""),
                    "{}",
                    i.message
                );
            }
            other => panic!("{other:?}"),
        }
        // A missing field is a shape error too, and a body without Content-Type is judged
        // by its bytes alone.
        let mut no_type = answer("application/json", br#"{"Details":{"Items":[]}}"#);
        no_type.headers.clear();
        let e = no_type.json::<Order>().unwrap_err();
        assert_eq!(kind(&e), "invalid-input", "{e:?}");
        assert!(e.message().contains("missing field `OrderNumber`"), "{e:?}");
    }

    #[test]
    fn the_quoted_start_is_short_and_cut_between_characters() {
        let long = format!("{{\"Name\":\"{}", "é".repeat(200));
        let quoted = body_start(long.as_bytes());
        assert!(quoted.len() <= BODY_START_BYTES + "«»…".len(), "{quoted}");
        assert!(quoted.ends_with("é…»"), "{quoted}");
        assert!(!quoted.contains('\u{FFFD}'), "{quoted}");
        assert_eq!(body_start(b"a\r\nb\xFF"), "«a  b\u{FFFD}»");
    }

    #[test]
    fn unknown_secret_is_an_auth_error() {
        FakeHost::new().install();
        let e = Request::get(format!("http://127.0.0.1/?k={}", secret("api-key")))
            .send()
            .unwrap_err();
        assert_eq!(kind(&e), "auth");
    }
}
