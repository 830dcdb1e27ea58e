//! The connector error type and shortcuts to build it.
//!
//! Every connector function returns [`ConnectorError`] on failure. The host
//! decides from its case whether to retry: `rate-limited` and `transient` are
//! retried later, the rest are reported as they are. So choose the case by what
//! a retry would do, and write the text for the person who reads the log.
//!
//! An answer the provider sent broken is `transient`, not `invalid-input`: half a
//! document (cut short, or garbled) or an HTML error page where JSON or XML was due
//! is the provider or the network failing for a moment, and the next attempt may get
//! it whole. `invalid-input` is for what asking again cannot change: a well-formed
//! answer whose fields do not fit (say where, e.g. `Items[3].OrderNumber`), a bad
//! setting, a record that cannot be mapped. [`crate::http::decode_json`] makes this
//! choice for JSON answers.

use std::fmt::Display;

pub use crate::bindings::switchyard::connector::types::{
    AlreadyExists, ConnectorError, InvalidInput, RateLimited,
};

/// A result whose error is a [`ConnectorError`].
pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;

impl ConnectorError {
    /// Credentials were refused or are missing; `message` names the cause.
    pub fn auth(message: impl Into<String>) -> Self {
        ConnectorError::Auth(message.into())
    }

    /// The record or endpoint does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        ConnectorError::NotFound(message.into())
    }

    /// The provider asked to slow down, optionally saying for how long.
    pub fn rate_limited(message: impl Into<String>, retry_after_ms: Option<u64>) -> Self {
        ConnectorError::RateLimited(RateLimited {
            message: message.into(),
            retry_after_ms,
        })
    }

    /// The input cannot be used; `location` is a field path such as
    /// `items[2].sku` or a request part such as `cursor`. Not for an answer that
    /// arrived broken (that is [`transient`](Self::transient)).
    pub fn invalid_input(message: impl Into<String>, location: impl Into<String>) -> Self {
        ConnectorError::InvalidInput(InvalidInput {
            message: message.into(),
            location: location.into(),
        })
    }

    /// The target already holds the record, under `external_id`.
    pub fn already_exists(message: impl Into<String>, external_id: impl Into<String>) -> Self {
        ConnectorError::AlreadyExists(AlreadyExists {
            message: message.into(),
            external_id: external_id.into(),
        })
    }

    /// A failure that may pass: timeout, 5xx, connection reset, an answer cut short
    /// or garbled.
    pub fn transient(message: impl Into<String>) -> Self {
        ConnectorError::Transient(message.into())
    }

    /// A failure that retrying will not fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        ConnectorError::Permanent(message.into())
    }

    /// Whether the host will retry this error later (`rate-limited`, `transient`).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ConnectorError::RateLimited(_) | ConnectorError::Transient(_)
        )
    }

    /// The human-readable text of the error, whatever its case.
    pub fn message(&self) -> &str {
        match self {
            ConnectorError::Auth(m)
            | ConnectorError::NotFound(m)
            | ConnectorError::Transient(m)
            | ConnectorError::Permanent(m) => m,
            ConnectorError::RateLimited(r) => &r.message,
            ConnectorError::InvalidInput(i) => &i.message,
            ConnectorError::AlreadyExists(a) => &a.message,
        }
    }
}

/// Turns a missing value or a foreign error into an `invalid-input` error that
/// names where it happened.
///
/// ```
/// use switchyard_sdk::error::ErrorContext;
/// let doc = serde_json::json!({"Currency": "USD"});
/// let err = doc.get("OrderNumber").or_invalid("Details.OrderNumber").unwrap_err();
/// assert_eq!(err.message(), "missing Details.OrderNumber");
/// ```
pub trait ErrorContext<T> {
    /// Maps the failure to `invalid-input` at `location`.
    fn or_invalid(self, location: &str) -> Result<T>;
}

impl<T> ErrorContext<T> for Option<T> {
    fn or_invalid(self, location: &str) -> Result<T> {
        self.ok_or_else(|| ConnectorError::invalid_input(format!("missing {location}"), location))
    }
}

impl<T, E: Display> ErrorContext<T> for std::result::Result<T, E> {
    fn or_invalid(self, location: &str) -> Result<T> {
        self.map_err(|e| ConnectorError::invalid_input(e.to_string(), location))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_pick_the_case_the_host_retries_on() {
        assert!(ConnectorError::transient("x").is_retryable());
        assert!(ConnectorError::rate_limited("x", Some(5)).is_retryable());
        assert!(!ConnectorError::auth("x").is_retryable());
        assert!(!ConnectorError::permanent("x").is_retryable());
        assert_eq!(
            ConnectorError::invalid_input("bad", "items[0].Price"),
            ConnectorError::InvalidInput(InvalidInput {
                message: "bad".into(),
                location: "items[0].Price".into()
            })
        );
    }

    #[test]
    fn or_invalid_names_the_location() {
        let r: Result<u32> = "x".parse::<u32>().or_invalid("Quantity");
        match r.unwrap_err() {
            ConnectorError::InvalidInput(i) => {
                assert_eq!(i.location, "Quantity");
                assert!(i.message.contains("invalid digit"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
