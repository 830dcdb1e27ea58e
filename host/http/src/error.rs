//! The errors of the capability.

/// Why the host could not deliver a request; the same cases as the WIT `http-error`.
///
/// Every message is already redacted: it never holds a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The destination (or a redirect target) is not on the connection's allow-list.
    #[error("denied: {0}")]
    Denied(String),
    /// The URL, a header or the body was malformed.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A `{{secret:NAME}}` placeholder names no secret of the connection; holds `NAME`.
    #[error("unknown secret: {0}")]
    UnknownSecret(String),
    /// No answer in time, after retries.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The server could not be reached (DNS, refused, reset), after retries.
    #[error("connection failed: {0}")]
    Connection(String),
    /// The response body exceeded the size cap.
    #[error("response too large: {0}")]
    TooLarge(String),
}

impl HttpError {
    /// The message without the case prefix, as the WIT variant carries it.
    pub fn message(&self) -> &str {
        match self {
            HttpError::Denied(m)
            | HttpError::InvalidRequest(m)
            | HttpError::UnknownSecret(m)
            | HttpError::Timeout(m)
            | HttpError::Connection(m)
            | HttpError::TooLarge(m) => m,
        }
    }

    /// The same case with its message passed through `f` (used for redaction).
    pub(crate) fn map_message(self, f: impl FnOnce(&str) -> String) -> HttpError {
        match self {
            HttpError::Denied(m) => HttpError::Denied(f(&m)),
            HttpError::InvalidRequest(m) => HttpError::InvalidRequest(f(&m)),
            HttpError::UnknownSecret(m) => HttpError::UnknownSecret(f(&m)),
            HttpError::Timeout(m) => HttpError::Timeout(f(&m)),
            HttpError::Connection(m) => HttpError::Connection(f(&m)),
            HttpError::TooLarge(m) => HttpError::TooLarge(f(&m)),
        }
    }
}

/// Why a [`ConnectionPolicy`](crate::ConnectionPolicy) could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// An allow-list entry could not be parsed.
    #[error("invalid host pattern {pattern:?}: {reason}")]
    InvalidHostPattern {
        /// The entry as written.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The rate limit is not a positive, finite rate with a burst of at least 1.
    #[error("invalid rate limit: {0}")]
    InvalidRateLimit(String),
    /// The retry policy is inconsistent (e.g. zero attempts).
    #[error("invalid retry policy: {0}")]
    InvalidRetryPolicy(String),
    /// A secret has an empty name or an empty value (an empty value cannot be redacted).
    #[error("invalid secret {name:?}: {reason}")]
    InvalidSecret {
        /// The secret's name (never its value).
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The concurrency cap is zero.
    #[error("max concurrency must be at least 1")]
    InvalidConcurrency,
}
