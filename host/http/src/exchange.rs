//! The record of one `send`, written to the activity log with secrets redacted.

use crate::capability::Method;

/// One `send` call as the activity log keeps it: every string is already redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The request method (of the first hop; a 303 may turn later hops into GET).
    pub method: Method,
    /// The URL the plugin asked for, secrets filled in then masked.
    pub url: String,
    /// The last URL requested when redirects were followed.
    pub final_url: Option<String>,
    /// The status of the response returned to the plugin; `None` on error.
    pub status: Option<u16>,
    /// HTTP requests sent in all (retries and redirect hops included).
    pub attempts: u32,
    /// Why the body returned to the plugin is broken, when it is: a 2xx whose declared
    /// JSON or XML does not parse, or an HTML page to a request that accepted only JSON or
    /// XML. It is returned as it is once retries are used up (or when the request may not
    /// be sent again), and the plugin reports it.
    pub malformed_body: Option<String>,
    /// 2xx answers sent again because their body was broken (counted in `attempts` too).
    pub malformed_retries: u32,
    /// Wall time of the whole call, waits included.
    pub duration_ms: u64,
    /// The request headers as sent; credentials always `***`.
    pub request_headers: Vec<(String, String)>,
    /// The start of the request body (about 2 KB), if there was one.
    pub request_body_excerpt: Option<String>,
    /// The response headers; `Set-Cookie` always `***`.
    pub response_headers: Vec<(String, String)>,
    /// The start of the response body (about 2 KB), if a response came back.
    pub response_body_excerpt: Option<String>,
    /// The error returned to the plugin, if any.
    pub error: Option<String>,
}

/// Where exchanges go: the runtime's activity log, a test's vector, ...
pub trait ExchangeLog: Send + Sync {
    /// Stores one exchange. Called once per `send`, success or not.
    fn record(&self, exchange: &Exchange);
}

impl<F: Fn(&Exchange) + Send + Sync> ExchangeLog for F {
    fn record(&self, exchange: &Exchange) {
        self(exchange)
    }
}

/// An [`ExchangeLog`] that keeps nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscardExchanges;

impl ExchangeLog for DiscardExchanges {
    fn record(&self, _exchange: &Exchange) {}
}
