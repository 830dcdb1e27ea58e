//! The outbound HTTP capability: allow-list, secret injection, rate limit, retry, redacted exchange log.
//!
//! The host side of the WIT `http` interface. It knows nothing of wasm: the runtime
//! converts WIT records into [`OutboundRequest`] and back from [`OutboundResponse`] /
//! [`HttpError`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use switchyard_http::*;
//! let http = HttpCapability::new(HttpDefaults::default())?; // once per process
//! let policy = ConnectionPolicy::builder()                   // once per connection
//!     .allow_host("api.example.com")
//!     .secret("API_KEY", "k-123")
//!     .rate_limit(5.0, 10)
//!     .max_concurrency(4)
//!     .build()?;
//! let req = OutboundRequest::get("https://api.example.com/items?key={{secret:API_KEY}}");
//! let res = http.send(&policy, req, &DiscardExchanges).await?;
//! assert!(res.status < 600);
//! # Ok(()) }
//! ```

mod body_check;
mod capability;
mod credential_fields;
mod error;
mod exchange;
mod pattern;
mod policy;
mod secret;

pub use capability::{HttpCapability, HttpDefaults, Method, OutboundRequest, OutboundResponse};
pub use error::{HttpError, PolicyError};
pub use exchange::{DiscardExchanges, Exchange, ExchangeLog};
pub use pattern::{HostPattern, PortPattern, Scheme};
pub use policy::{ConnectionPolicy, ConnectionPolicyBuilder, RateLimit, RetryPolicy};
pub use secret::MASK;
