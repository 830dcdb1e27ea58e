//! What one connection may do: destinations, secrets, rate, concurrency, retries.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;
use url::Url;

use crate::error::{HttpError, PolicyError};
use crate::pattern::{HostPattern, Scheme};
use crate::secret::{Redactor, SecretSet};

/// How fast a connection may send: a token bucket refilled at `requests_per_second`
/// holding at most `burst` tokens. Requests over the rate wait; they never fail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained rate; may be below 1 (0.5 = one request every two seconds).
    pub requests_per_second: f64,
    /// How many requests may go at once after a quiet spell (at least 1).
    pub burst: u32,
}

/// When and how often an idempotent request is sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total sends of one request including the first (1 = no retries), not counting
    /// those answered 429.
    pub max_attempts: u32,
    /// How many 429 answers to one request are waited out (their `Retry-After` honoured)
    /// before the 429 is handed to the plugin. Any request, idempotent or not: a 429 says
    /// the provider did not take it.
    pub max_throttled: u32,
    /// The first back-off delay; each next one doubles, with jitter.
    pub base_delay: Duration,
    /// No wait is longer, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            max_throttled: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// A connection's HTTP rules, built once per connection and kept for its life
/// (it holds the rate limiter and concurrency state). Share it behind an `Arc`.
///
/// `Debug` shows the secret names, never their values.
pub struct ConnectionPolicy {
    pub(crate) allowed: Vec<HostPattern>,
    pub(crate) secrets: SecretSet,
    pub(crate) redactor: Redactor,
    pub(crate) rate_limit: Option<(RateLimit, DefaultDirectRateLimiter)>,
    pub(crate) concurrency: Option<(usize, Arc<Semaphore>)>,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_body_bytes: Option<u64>,
}

impl ConnectionPolicy {
    /// Starts a policy: nothing allowed, no secrets, no rate limit, default retries.
    pub fn builder() -> ConnectionPolicyBuilder {
        ConnectionPolicyBuilder::default()
    }

    /// `text` with every secret value of the connection (raw, percent-encoded, base64,
    /// JSON-escaped) replaced by `***`. For any text leaving the host: log lines, errors.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// The allow-list.
    pub fn allowed_hosts(&self) -> &[HostPattern] {
        &self.allowed
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// Whether `url` may be requested: http(s), no user info, and on the allow-list.
    /// Messages hold the destination as written in the URL; the caller redacts.
    pub(crate) fn check_destination(&self, url: &Url) -> Result<(), HttpError> {
        let Some(scheme) = Scheme::of(url) else {
            return Err(HttpError::InvalidRequest(format!(
                "scheme {} is not supported; use http or https",
                url.scheme()
            )));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(HttpError::InvalidRequest(
                "URLs with user info are not allowed; use basic-auth".to_string(),
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| HttpError::InvalidRequest("the URL has no host".to_string()))?;
        let port = url.port().unwrap_or(scheme.default_port());
        if self.allowed.iter().any(|p| p.matches(scheme, host, port)) {
            Ok(())
        } else {
            Err(HttpError::Denied(format!(
                "host {host}:{port} is not in the connection's allow-list"
            )))
        }
    }
}

impl fmt::Debug for ConnectionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let allowed: Vec<String> = self.allowed.iter().map(ToString::to_string).collect();
        let names: Vec<&str> = self.secrets.names().collect();
        f.debug_struct("ConnectionPolicy")
            .field("allowed", &allowed)
            .field("secrets", &names)
            .field("rate_limit", &self.rate_limit.as_ref().map(|(r, _)| r))
            .field(
                "max_concurrency",
                &self.concurrency.as_ref().map(|(n, _)| n),
            )
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

/// Builds a [`ConnectionPolicy`]; every check happens in [`build`](Self::build).
#[derive(Default)]
pub struct ConnectionPolicyBuilder {
    patterns: Vec<String>,
    allowed: Vec<HostPattern>,
    secrets: Vec<(String, String)>,
    rate_limit: Option<RateLimit>,
    max_concurrency: Option<usize>,
    retry: Option<RetryPolicy>,
    timeout: Option<Duration>,
    max_body_bytes: Option<u64>,
}

impl fmt::Debug for ConnectionPolicyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.secrets.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ConnectionPolicyBuilder")
            .field("patterns", &self.patterns)
            .field("allowed", &self.allowed)
            .field("secrets", &names)
            .finish_non_exhaustive()
    }
}

impl ConnectionPolicyBuilder {
    /// Allows destinations matching `pattern` (see [`HostPattern`] for the forms).
    pub fn allow_host(mut self, pattern: impl Into<String>) -> Self {
        self.patterns.push(pattern.into());
        self
    }

    /// Allows destinations matching an already parsed pattern.
    pub fn allow(mut self, pattern: HostPattern) -> Self {
        self.allowed.push(pattern);
        self
    }

    /// Adds the secret `name`, referred to as `{{secret:name}}`. Its value must not be empty.
    pub fn secret(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.secrets.push((name.into(), value.into()));
        self
    }

    /// Limits the sending rate (token bucket); without it the rate is unlimited.
    pub fn rate_limit(mut self, requests_per_second: f64, burst: u32) -> Self {
        self.rate_limit = Some(RateLimit {
            requests_per_second,
            burst,
        });
        self
    }

    /// Caps the requests in flight at once for the connection; without it there is no cap.
    pub fn max_concurrency(mut self, max: usize) -> Self {
        self.max_concurrency = Some(max);
        self
    }

    /// Sets the retry policy (default: 3 attempts, 200 ms base, 30 s max).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Per-attempt timeout, overriding the capability's default.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Response body cap in bytes, overriding the capability's default.
    pub fn max_body_bytes(mut self, max: u64) -> Self {
        self.max_body_bytes = Some(max);
        self
    }

    /// Checks everything and builds the policy.
    pub fn build(self) -> Result<ConnectionPolicy, PolicyError> {
        let mut allowed = self.allowed;
        for p in &self.patterns {
            allowed.push(HostPattern::parse(p)?);
        }

        let mut secrets = SecretSet::default();
        for (name, value) in self.secrets {
            let invalid = |reason: &str| PolicyError::InvalidSecret {
                name: name.clone(),
                reason: reason.into(),
            };
            if name.is_empty() || name.contains("}}") {
                return Err(invalid(
                    "a name must be non-empty and must not contain '}}'",
                ));
            }
            if value.is_empty() {
                return Err(invalid("the value is empty"));
            }
            secrets.insert(name, value);
        }
        let redactor = Redactor::for_secrets(secrets.values());

        let rate_limit = match self.rate_limit {
            None => None,
            Some(limit) => {
                let rps = limit.requests_per_second;
                if !(rps.is_finite() && rps > 0.0) {
                    return Err(PolicyError::InvalidRateLimit(format!(
                        "{rps} requests/s is not a positive rate"
                    )));
                }
                let burst = NonZeroU32::new(limit.burst).ok_or_else(|| {
                    PolicyError::InvalidRateLimit("burst must be at least 1".into())
                })?;
                let period = Duration::try_from_secs_f64(1.0 / rps).map_err(|_| {
                    PolicyError::InvalidRateLimit(format!("{rps} requests/s is out of range"))
                })?;
                let quota = Quota::with_period(period)
                    .ok_or_else(|| {
                        PolicyError::InvalidRateLimit(format!("{rps} requests/s is too fast"))
                    })?
                    .allow_burst(burst);
                Some((limit, RateLimiter::direct(quota)))
            }
        };

        let concurrency = match self.max_concurrency {
            None => None,
            Some(0) => return Err(PolicyError::InvalidConcurrency),
            Some(n) => Some((n, Arc::new(Semaphore::new(n)))),
        };

        let retry = self.retry.unwrap_or_default();
        if retry.max_attempts == 0 {
            return Err(PolicyError::InvalidRetryPolicy(
                "max_attempts must be at least 1".into(),
            ));
        }
        if retry.base_delay > retry.max_delay {
            return Err(PolicyError::InvalidRetryPolicy(
                "base_delay is longer than max_delay".into(),
            ));
        }

        Ok(ConnectionPolicy {
            allowed,
            secrets,
            redactor,
            rate_limit,
            concurrency,
            retry,
            timeout: self.timeout,
            max_body_bytes: self.max_body_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_names_not_values() {
        let policy = ConnectionPolicy::builder()
            .allow_host("api.example.com")
            .secret("API_KEY", "hunter2-value")
            .build()
            .unwrap();
        let debug = format!("{policy:?}");
        assert!(debug.contains("API_KEY"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
        let builder = ConnectionPolicy::builder().secret("API_KEY", "hunter2-value");
        assert!(!format!("{builder:?}").contains("hunter2"));
    }

    #[test]
    fn redact_masks_secret_values() {
        let policy = ConnectionPolicy::builder()
            .secret("K", "p@ss word")
            .build()
            .unwrap();
        assert_eq!(
            policy.redact("key=p@ss word; q=p%40ss%20word"),
            "key=***; q=***"
        );
    }

    #[test]
    fn rejects_bad_settings() {
        assert!(ConnectionPolicy::builder()
            .allow_host("ftp://x")
            .build()
            .is_err());
        assert!(ConnectionPolicy::builder().secret("K", "").build().is_err());
        assert!(ConnectionPolicy::builder()
            .rate_limit(0.0, 1)
            .build()
            .is_err());
        assert!(ConnectionPolicy::builder()
            .rate_limit(1.0, 0)
            .build()
            .is_err());
        assert!(ConnectionPolicy::builder()
            .max_concurrency(0)
            .build()
            .is_err());
        let zero = RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        };
        assert!(ConnectionPolicy::builder().retry(zero).build().is_err());
    }

    #[test]
    fn destination_checks() {
        let policy = ConnectionPolicy::builder()
            .allow_host("api.example.com")
            .build()
            .unwrap();
        let check = |u: &str| policy.check_destination(&Url::parse(u).unwrap());
        assert!(check("https://api.example.com/v1").is_ok());
        assert!(
            matches!(check("https://other.com/"), Err(HttpError::Denied(m)) if m.contains("other.com:443"))
        );
        assert!(matches!(
            check("https://u:p@api.example.com/"),
            Err(HttpError::InvalidRequest(_))
        ));
        assert!(matches!(
            check("ftp://api.example.com/"),
            Err(HttpError::InvalidRequest(_))
        ));
    }
}
