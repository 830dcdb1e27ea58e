//! The outbound policy of a connection, from its plugin's manifest and settings.

use std::time::Duration;

use switchyard_http::ConnectionPolicy;
use switchyard_runtime::bindings::Manifest;
use switchyard_store::{Connection, Secrets};

use crate::error::EngineError;

/// The host-level connection setting that overrides the plugin's rate-limit hint.
pub const RATE_LIMIT_SETTING: &str = "host.requests-per-second";

/// The host-level connection setting: the wait in milliseconds before the first time a
/// request is sent again after a 5xx, a broken body or no answer (default 200; each further
/// wait doubles, with jitter, up to 30 s).
pub const RETRY_BASE_SETTING: &str = "host.retry-base-ms";

/// The host-level connection setting: how long one HTTP attempt may take, in seconds
/// (default: the host's, 30). A provider that accepts a request and never answers costs
/// this much per attempt before the request is retried.
pub const TIMEOUT_SETTING: &str = "host.timeout-seconds";

/// Build the policy: allowed hosts from the manifest (with `{{config:NAME}}`
/// resolved to the host of that URL setting), the connection's secrets for
/// placeholder injection, and the provider's rate-limit hint.
pub(crate) fn connection_policy(
    conn: &Connection,
    manifest: &Manifest,
    secrets: &Secrets,
) -> Result<ConnectionPolicy, EngineError> {
    let mut b = ConnectionPolicy::builder();
    for pattern in &manifest.allowed_hosts {
        if let Some(name) = pattern
            .strip_prefix("{{config:")
            .and_then(|p| p.strip_suffix("}}"))
        {
            let Some(value) = conn.settings.get(name).filter(|v| !v.is_empty()) else {
                continue; // optional URL setting left empty: nothing to allow
            };
            let url = url::Url::parse(value).map_err(|e| EngineError::Setting {
                name: name.to_string(),
                reason: format!("{value:?} is not a URL: {e}"),
            })?;
            let host = url.host_str().ok_or_else(|| EngineError::Setting {
                name: name.to_string(),
                reason: format!("{value:?} has no host"),
            })?;
            let port = url.port_or_known_default().unwrap_or(443);
            b = b.allow_host(format!("{}://{host}:{port}", url.scheme()));
        } else {
            b = b.allow_host(pattern.clone());
        }
    }
    for (name, value) in secrets.iter() {
        b = b.secret(name, value);
    }
    // The operator's per-connection setting wins over the plugin's hint.
    if let Some(text) = conn.settings.get(RATE_LIMIT_SETTING) {
        let rps: f64 = text.parse().map_err(|_| EngineError::Setting {
            name: RATE_LIMIT_SETTING.into(),
            reason: format!("{text:?} is not a number of requests per second"),
        })?;
        b = b.rate_limit(rps, (rps.ceil() as u32).max(1));
    } else if let Some(hint) = &manifest.rate_limit {
        let rps = hint.requests_per_second.max(0.1) as f64;
        b = b.rate_limit(rps, (rps.ceil() as u32).max(1));
        if let Some(c) = hint.max_concurrency {
            b = b.max_concurrency(c as usize);
        }
    }
    if let Some(text) = conn.settings.get(RETRY_BASE_SETTING) {
        let base = text
            .parse::<u64>()
            .ok()
            .filter(|ms| (1..=30_000).contains(ms))
            .ok_or_else(|| EngineError::Setting {
                name: RETRY_BASE_SETTING.into(),
                reason: format!("{text:?} is not a number of milliseconds between 1 and 30000"),
            })?;
        b = b.retry(switchyard_http::RetryPolicy {
            base_delay: Duration::from_millis(base),
            ..switchyard_http::RetryPolicy::default()
        });
    }
    if let Some(text) = conn.settings.get(TIMEOUT_SETTING) {
        let timeout = text
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| EngineError::Setting {
                name: TIMEOUT_SETTING.into(),
                reason: format!("{text:?} is not a number of seconds between 0 and 3600"),
            })?;
        b = b.timeout(timeout);
    }
    b.build().map_err(|e| EngineError::Setting {
        name: "allowed-hosts".into(),
        reason: e.to_string(),
    })
}
