//! Calls to the Pressero admin API: authentication, token reuse, order reads,
//! and the generic data calls the write and site streams use.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use switchyard_sdk::http::{secret, status_error, Method, Request, Response};
use switchyard_sdk::prelude::*;
use switchyard_sdk::time::Timestamp;

use crate::keyset::OrderKey;
use crate::settings::Endpoint;

/// Pressero tokens live 20 minutes; without a clock or an `Expires` we keep
/// one for 15.
const DEFAULT_TOKEN_TTL: u32 = 15 * 60;
/// Stop using a token this long before it expires.
const TOKEN_MARGIN: i64 = 120;

/// The answer of `POST V2/Authentication`.
#[derive(Debug, Deserialize)]
struct AuthAnswer {
    #[serde(rename = "Token")]
    token: String,
    #[serde(rename = "Expires")]
    expires: Option<String>,
}

/// A token as kept in the plugin store.
#[derive(Debug, Serialize, Deserialize)]
struct StoredToken {
    token: String,
    base: String,
}

/// A session with the API of one connection.
pub struct Session {
    /// Where the API lives.
    pub endpoint: Endpoint,
    /// The API user (non-secret).
    pub username: String,
    subscriber_id: String,
    now: Option<Timestamp>,
    token: Option<String>,
}

impl Session {
    /// A session from the connection's settings; `now` when the call has one.
    pub fn from_config(now: Option<Timestamp>) -> Result<Self> {
        Ok(Session {
            endpoint: crate::settings::configured_endpoint()?,
            username: config::required("username")?,
            subscriber_id: config::required("subscriber-id")?,
            now,
            token: None,
        })
    }

    fn store_key(&self) -> String {
        format!("token:v1:{}@{}", self.username, self.subscriber_id)
    }

    /// Authenticates with the connection's credentials and keeps the token.
    /// Refused credentials give an `auth` error naming Pressero's reason.
    pub fn authenticate(&mut self) -> Result<String> {
        let url = format!("{}V2/Authentication", self.endpoint.base);
        // The secrets stay placeholders: the host fills them in.
        let answer = Request::post(url)
            .header("Accept", "application/json")
            .json(&json!({
                "UserName": self.username,
                "Password": secret("password"),
                "SubscriberId": self.subscriber_id,
                "ConsumerID": secret("consumer-id"),
            }))?
            // Authenticating has no side effect, so the host may retry it.
            .idempotent(true)
            .send()?;
        if matches!(answer.status, 401 | 403) {
            return Err(ConnectorError::auth(format!(
                "Pressero refused the credentials ({}: {})",
                answer.status,
                answer.provider_message()
            )));
        }
        let auth: AuthAnswer = answer.error_for_status()?.json()?;
        let ttl = token_ttl(self.now, auth.expires.as_deref());
        store::set_json(
            &self.store_key(),
            &StoredToken {
                token: auth.token.clone(),
                base: self.endpoint.base.clone(),
            },
            Some(ttl),
        )?;
        self.token = Some(auth.token.clone());
        Ok(auth.token)
    }

    fn token(&mut self) -> Result<String> {
        if let Some(t) = &self.token {
            return Ok(t.clone());
        }
        if let Some(stored) = store::get_json::<StoredToken>(&self.store_key())? {
            if stored.base == self.endpoint.base {
                self.token = Some(stored.token.clone());
                return Ok(stored.token);
            }
        }
        self.authenticate()
    }

    /// Sends a data call with the token; on a 401, re-authenticates once and
    /// retries. Non-2xx answers become errors, except the statuses in `allow`.
    fn call(&mut self, build: impl Fn(&str) -> Result<Request>, allow: &[u16]) -> Result<Response> {
        let token = self.token()?;
        let mut answer = build(&token)?.send()?;
        if answer.status == 401 {
            store::delete(&self.store_key())?;
            self.token = None;
            let token = self.authenticate()?;
            answer = build(&token)?.send()?;
            if answer.status == 401 {
                return Err(ConnectorError::auth(format!(
                    "Pressero refused a fresh token ({}: {})",
                    answer.status,
                    answer.provider_message()
                )));
            }
        }
        if allow.contains(&answer.status) {
            return Ok(answer);
        }
        match status_error(
            &answer.request,
            answer.status,
            &answer.headers,
            &answer.body,
        ) {
            Some(e) => Err(e),
            None => Ok(answer),
        }
    }

    /// One page of `POST v2/Orders/Search` for orders modified at or after `from`.
    pub fn search_orders(&mut self, from: Timestamp, page: u32, size: u32) -> Result<Vec<Value>> {
        let url = format!(
            "{}v2/Orders/Search?pageNumber={page}&pageSize={size}",
            self.endpoint.base
        );
        let filter = json!([{
            "Column": "ModifiedDate",
            "Value": from.to_string(),
            "Operator": "greaterthanorequal",
        }]);
        let answer = self.call(
            |token| {
                Request::post(&url)
                    .header("Authorization", format!("token {token}"))
                    .header("Accept", "application/json")
                    .json(&filter)
                    // A search changes nothing: safe to retry.
                    .map(|r| r.idempotent(true))
            },
            &[],
        )?;
        let body: Value = answer.json()?;
        match body.get("Items") {
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(Value::Null) | None => Ok(Vec::new()),
            Some(_) => Err(ConnectorError::invalid_input(
                "Items is not a list",
                format!("response of {}", answer.request),
            )),
        }
    }

    /// `GET` a JSON document under the API root; `None` on a 404.
    pub fn get(&mut self, path: &str) -> Result<Option<Value>> {
        let url = format!("{}{path}", self.endpoint.base);
        let answer = self.call(
            |token| {
                Ok(Request::get(&url)
                    .header("Authorization", format!("token {token}"))
                    .header("Accept", "application/json"))
            },
            &[404],
        )?;
        if answer.status == 404 {
            return Ok(None);
        }
        answer.json().map(Some)
    }

    /// Sends a data call `method` to `path` under the API root, with a JSON
    /// `body` when given. `idempotent` overrides the host's default retry rule
    /// (POST is not retried unless said). Non-2xx answers become errors,
    /// except the statuses in `allow`.
    pub fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotent: Option<bool>,
        allow: &[u16],
    ) -> Result<Response> {
        let url = format!("{}{path}", self.endpoint.base);
        self.call(
            |token| {
                let mut r = Request::new(method, &url)
                    .header("Authorization", format!("token {token}"))
                    .header("Accept", "application/json");
                if let Some(b) = body {
                    r = r.json(b)?;
                }
                if let Some(i) = idempotent {
                    r = r.idempotent(i);
                }
                Ok(r)
            },
            allow,
        )
    }

    /// One page of a site list (`site/{site}/products`, …): its `Items` and
    /// `TotalItems`. `query` is appended after the paging parameters.
    pub fn site_page(
        &mut self,
        path: &str,
        page: u64,
        size: u32,
        query: &str,
    ) -> Result<(Vec<Value>, u64)> {
        let path = format!("{path}?pageNumber={page}&pageSize={size}{query}");
        let answer = self.send(Method::Get, &path, None, None, &[])?;
        let body: Value = answer.json()?;
        let items = match body.get("Items") {
            Some(Value::Array(items)) => items.clone(),
            Some(Value::Null) | None => Vec::new(),
            Some(_) => {
                return Err(ConnectorError::invalid_input(
                    "Items is not a list",
                    format!("response of {}", answer.request),
                ))
            }
        };
        let total = body
            .get("TotalItems")
            .and_then(Value::as_u64)
            .unwrap_or(page * u64::from(size) + items.len() as u64);
        Ok((items, total))
    }

    /// The raw document of one order: its Details, items and Payments; `None`
    /// when the order no longer exists.
    pub fn order_document(&mut self, number: u64) -> Result<Option<Value>> {
        let Some(details) = self.get(&format!("v2/orders/{number}/Details"))? else {
            return Ok(None);
        };
        let items = self
            .get(&format!("v2/orders/{number}/items"))?
            .unwrap_or(json!([]));
        let payments = self
            .get(&format!("v2/orders/{number}/Payments"))?
            .unwrap_or(json!([]));
        Ok(Some(json!({
            "Details": details,
            "Items": items,
            "Payments": payments,
        })))
    }
}

/// Percent-encodes `text` for a URL path segment or query value (RFC 3986
/// unreserved characters stay as they are).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// How long to keep a token: its lifetime less a margin, when both `now` and
/// `Expires` are known; else the default.
pub fn token_ttl(now: Option<Timestamp>, expires: Option<&str>) -> u32 {
    match (now, expires.and_then(|e| Timestamp::parse(e).ok())) {
        (Some(now), Some(exp)) => {
            // The provider's clock may differ from the host's; a stale token
            // only costs one 401 and a re-authentication, so keep at least a
            // minute and at most an hour whatever the clocks say.
            let left = now.seconds_until(&exp) - TOKEN_MARGIN;
            left.clamp(60, 3600) as u32
        }
        _ => DEFAULT_TOKEN_TTL,
    }
}

/// An order number from JSON (a number, or a text of digits).
pub fn order_number(value: Option<&Value>, location: &str) -> Result<u64> {
    match value {
        Some(Value::Number(n)) => n.as_u64().or_invalid(location),
        Some(Value::String(s)) => s.trim().parse::<u64>().or_invalid(location),
        _ => Err(ConnectorError::invalid_input(
            format!("missing {location}"),
            location,
        )),
    }
}

/// The sort key of a search result.
pub fn summary_key(summary: &Value, index: usize) -> Result<OrderKey> {
    let number = order_number(
        summary.get("OrderNumber"),
        &format!("Items[{index}].OrderNumber"),
    )?;
    let location = format!("Items[{index}].ModifiedDate");
    let modified = summary
        .get("ModifiedDate")
        .and_then(Value::as_str)
        .or_invalid(&location)?;
    Ok(OrderKey {
        modified: Timestamp::parse_field(modified, &location)?,
        number,
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn token_ttl_stays_below_the_lifetime() {
        let now = Timestamp::parse("2026-12-01T10:00:00Z").ok();
        assert_eq!(token_ttl(now, Some("2026-12-01T10:20:00Z")), 1080);
        assert_eq!(token_ttl(now, Some("2026-12-01T10:01:00Z")), 60);
        assert_eq!(token_ttl(now, Some("2027-12-01T10:01:00Z")), 3600);
        assert_eq!(token_ttl(None, Some("2026-12-01T10:20:00Z")), 900);
        assert_eq!(token_ttl(now, None), 900);
    }

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(encode_component("Ready to ship"), "Ready%20to%20ship");
        assert_eq!(encode_component("a&b=c/ü"), "a%26b%3Dc%2F%C3%BC");
        assert_eq!(encode_component("shop.example.com"), "shop.example.com");
    }

    #[test]
    fn order_numbers_may_be_numbers_or_digit_texts() {
        assert_eq!(order_number(Some(&json!(1001)), "n").unwrap(), 1001);
        assert_eq!(order_number(Some(&json!("1002")), "n").unwrap(), 1002);
        assert!(order_number(Some(&json!("A-1")), "n").is_err());
        assert!(order_number(None, "n").is_err());
    }
}
