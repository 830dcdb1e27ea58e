//! Calls to the M-Power REST API: the authenticated request, list pages,
//! and the mapping of HTTP answers to [`ConnectorError`] kinds.
//!
//! The API key only ever appears as the `{{secret:api-key}}` placeholder in the
//! `X-Api-Key` header; the host fills it in. Messages name the request by
//! `METHOD url`, and the key is never in a URL, so no error or log holds it.

use serde::Deserialize;
use serde_json::Value;
use switchyard_sdk::http::{retry_after_ms, secret, Method, Request, Response};
use switchyard_sdk::prelude::*;

use crate::settings;

/// The largest `per_page` M-Power accepts.
pub const MAX_PER_PAGE: u32 = 200;

/// The error body of every non-2xx answer: `{"error": {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    /// The HTTP status the body repeats.
    #[serde(default)]
    pub status: u16,
    /// `validation_failed`, `duplicate_external_reference`, …
    #[serde(default)]
    pub code: String,
    /// The explanation.
    #[serde(default)]
    pub message: String,
    /// The field concerned, when one is.
    #[serde(default)]
    pub field: Option<String>,
    /// The record holding a unique value (409).
    #[serde(default)]
    pub existing_id: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ApiError,
}

/// Reads the M-Power error body of an answer, if it has one.
pub fn api_error(body: &[u8]) -> Option<ApiError> {
    serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .map(|e| e.error)
}

/// One page of a list: `{"data": [...], "page", "per_page", "total", "total_pages"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ListPage {
    /// The records of this page.
    pub data: Vec<Value>,
    /// The 1-based page number.
    #[serde(default)]
    pub page: u32,
    /// Records matching in all.
    #[serde(default)]
    pub total: u64,
    /// Pages in all.
    #[serde(default)]
    pub total_pages: u32,
}

/// A failed call: either the API answered with a non-2xx status (`Api`, with
/// the error body), or the call could not be made or read (`Other`).
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// A non-2xx answer.
    Api {
        /// The HTTP status.
        status: u16,
        /// The parsed error body (empty when the body was not M-Power's shape).
        error: Box<ApiError>,
        /// The error the answer means for the host.
        mapped: ConnectorError,
    },
    /// Transport failures and unreadable answers.
    Other(ConnectorError),
}

impl CallError {
    /// The error the host sees.
    pub fn into_error(self) -> ConnectorError {
        match self {
            CallError::Api { mapped, .. } => mapped,
            CallError::Other(e) => e,
        }
    }
}

impl From<ConnectorError> for CallError {
    fn from(e: ConnectorError) -> Self {
        CallError::Other(e)
    }
}

impl From<CallError> for ConnectorError {
    fn from(e: CallError) -> Self {
        e.into_error()
    }
}

/// The error a non-2xx M-Power answer means (see the crate README):
/// 401 → `auth`, 404 → `not-found`, 409 → `permanent` (naming `code`, `message`
/// and `existing_id`), 400/422 and other 4xx → `permanent`, 429 → `rate-limited`
/// with `Retry-After`, 5xx/408 → `transient`.
pub fn map_status(what: &str, resp: &Response) -> ConnectorError {
    let status = resp.status;
    let e = api_error(&resp.body).unwrap_or_default();
    let code = if e.code.is_empty() {
        "no code".to_string()
    } else {
        e.code.clone()
    };
    let message = if e.message.is_empty() {
        resp.provider_message()
    } else {
        e.message.clone()
    };
    match status {
        401 | 403 => ConnectorError::auth(format!(
            "M-Power refused the API key ({status} {code}: {message}) at {what}"
        )),
        404 | 410 => ConnectorError::not_found(format!("{what}: not found ({status}: {message})")),
        // The duplicates a push can answer as "found" are handled by `push`;
        // any other conflict is for a person to resolve.
        409 => ConnectorError::permanent(format!(
            "M-Power refused {what}: conflict ({code}: {message}{})",
            e.existing_id
                .map(|id| format!("; existing id {id}"))
                .unwrap_or_default()
        )),
        429 => ConnectorError::rate_limited(
            format!("M-Power asked to slow down at {what} ({message})"),
            retry_after_ms(&resp.headers),
        ),
        408 | 500..=599 => {
            ConnectorError::transient(format!("{what} failed ({status} {code}: {message})"))
        }
        _ => {
            let field = e
                .field
                .as_deref()
                .map(|f| format!("; field `{f}`"))
                .unwrap_or_default();
            ConnectorError::permanent(format!(
                "M-Power rejected {what} ({status} {code}: {message}{field})"
            ))
        }
    }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?k=v&…` with the values encoded (empty for no pairs).
pub fn query(pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("?{}", parts.join("&"))
}

/// A client of one connection's API.
#[derive(Debug, Clone)]
pub struct Client {
    /// The base URL, ending in `/api/v1` (no slash).
    pub base: String,
}

impl Client {
    /// A client from the connection's `url` setting.
    pub fn from_config() -> Result<Client> {
        Ok(Client {
            base: settings::base_url()?,
        })
    }

    /// A client of `base` (already normalised).
    pub fn new(base: impl Into<String>) -> Client {
        Client { base: base.into() }
    }

    fn request(&self, method: Method, path: &str) -> Request {
        let url = format!("{}{path}", self.base);
        Request::new(method, url)
            .header("X-Api-Key", secret(settings::API_KEY))
            .header("Accept", "application/json")
    }

    /// Sends `req` and answers the 2xx response; a non-2xx is [`CallError::Api`].
    fn send_ok(&self, req: Request) -> std::result::Result<Response, CallError> {
        let what = req.describe();
        let resp = req.send()?;
        if !resp.is_success() {
            let error = Box::new(api_error(&resp.body).unwrap_or_default());
            return Err(CallError::Api {
                status: resp.status,
                mapped: map_status(&what, &resp),
                error,
            });
        }
        Ok(resp)
    }

    /// Sends `req` and decodes a 2xx JSON answer; a non-2xx is [`CallError::Api`].
    /// The body is decoded by the SDK, which tells a broken or cut-short body
    /// (`transient`: the host already tried again) from one of the wrong shape.
    fn send(&self, req: Request) -> std::result::Result<Value, CallError> {
        Ok(self.send_ok(req)?.json::<Value>()?)
    }

    /// `GET path` (path starts with `/`, query included).
    pub fn get(&self, path: &str) -> std::result::Result<Value, CallError> {
        self.send(self.request(Method::Get, path))
    }

    /// `GET path`, `None` on a 404.
    pub fn get_opt(&self, path: &str) -> Result<Option<Value>> {
        match self.get(path) {
            Ok(v) => Ok(Some(v)),
            Err(CallError::Api { status: 404, .. }) => Ok(None),
            Err(e) => Err(e.into_error()),
        }
    }

    /// `GET path` as a list page: a broken body is `transient`, a whole one
    /// without a `data` list is `invalid-input` naming the field (retrying
    /// would get the same answer).
    pub fn list(&self, path: &str) -> Result<ListPage> {
        self.send_ok(self.request(Method::Get, path))?
            .json::<ListPage>()
    }

    /// `POST path` with a JSON body; `idempotency_key` sets `Idempotency-Key`
    /// (and lets the host resend the request, since M-Power replays the answer).
    pub fn post(
        &self,
        path: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> std::result::Result<Value, CallError> {
        let mut req = self.request(Method::Post, path);
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k).idempotent(true);
        }
        self.send(req.json(body)?)
    }

    /// `PATCH path` with a JSON body.
    pub fn patch(&self, path: &str, body: &Value) -> std::result::Result<Value, CallError> {
        self.send(self.request(Method::Patch, path).json(body)?)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use switchyard_sdk::testing::{FakeHost, FakeResponse};

    fn resp(status: u16, body: &str) -> Response {
        Response {
            request: "GET u".into(),
            status,
            headers: vec![switchyard_sdk::http::Header {
                name: "Retry-After".into(),
                value: "3".into(),
            }],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn statuses_map_to_the_kinds_the_host_retries_on() {
        let e = map_status(
            "GET u",
            &resp(
                401,
                r#"{"error":{"status":401,"code":"unauthorized","message":"missing or invalid API key (header X-Api-Key)"}}"#,
            ),
        );
        assert!(matches!(e, ConnectorError::Auth(_)), "{e:?}");
        assert!(e.message().contains("refused the API key"));
        let e = map_status(
            "GET u",
            &resp(404, r#"{"error":{"code":"not_found","message":"no"}}"#),
        );
        assert!(matches!(e, ConnectorError::NotFound(_)));
        let e = map_status(
            "POST u",
            &resp(
                409,
                r#"{"error":{"status":409,"code":"duplicate_product_code","message":"taken","existing_id":17}}"#,
            ),
        );
        assert!(matches!(e, ConnectorError::Permanent(_)), "{e:?}");
        assert!(e
            .message()
            .contains("duplicate_product_code: taken; existing id 17"));
        let e = map_status(
            "POST u",
            &resp(
                422,
                r#"{"error":{"status":422,"code":"validation_failed","message":"lines[0].quantity is required","field":"lines[0].quantity"}}"#,
            ),
        );
        assert!(matches!(e, ConnectorError::Permanent(_)));
        assert!(e.message().contains("lines[0].quantity is required"));
        assert!(e.message().contains("field `lines[0].quantity`"));
        match map_status(
            "GET u",
            &resp(429, r#"{"error":{"code":"rate_limited","message":"slow"}}"#),
        ) {
            ConnectorError::RateLimited(r) => assert_eq!(r.retry_after_ms, Some(3000)),
            other => panic!("{other:?}"),
        }
        let e = map_status("GET u", &resp(503, "<html>503</html>"));
        assert!(matches!(e, ConnectorError::Transient(_)));
    }

    #[test]
    fn a_2xx_that_is_not_json_is_transient_and_names_the_endpoint() {
        FakeHost::new()
            .secret("api-key", "k")
            .route(Method::Get, "http://127.0.0.1/api/v1/ping", |_| {
                FakeResponse::json(200, "{\"status\":")
            })
            .route(Method::Get, "http://127.0.0.1/api/v1/companies", |_| {
                FakeResponse::json(200, r#"{"data":[{"id":1}],"page":"one"}"#)
            })
            .install();
        let c = Client::new("http://127.0.0.1/api/v1");
        let e = c.get("/ping").unwrap_err().into_error();
        assert!(matches!(e, ConnectorError::Transient(_)), "{e:?}");
        assert!(e.message().contains("GET http://127.0.0.1/api/v1/ping"));
        assert!(e.message().contains("broken JSON"), "{e:?}");
        let e = c.list("/ping").unwrap_err();
        assert!(matches!(e, ConnectorError::Transient(_)), "{e:?}");

        // Whole JSON that is not a list page: asking again will not change it.
        match c.list("/companies").unwrap_err() {
            ConnectorError::InvalidInput(i) => {
                assert!(i.message.contains("at `page`"), "{}", i.message);
                assert_eq!(
                    i.location,
                    "response of GET http://127.0.0.1/api/v1/companies"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            query(&[
                ("vat_number", "NL 1234.56".into()),
                ("email", "a+b@x.nl".into())
            ]),
            "?vat_number=NL%201234.56&email=a%2Bb%40x.nl"
        );
        assert_eq!(query(&[]), "");
    }
}
