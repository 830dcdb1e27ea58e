//! The outbound HTTP capability: allow-list, secret injection, rate limit, retry, redacted exchange log.
