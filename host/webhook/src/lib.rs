//! Receives Pressero webhook deliveries and hands them, checked and typed, to a sink.
//!
//! Pressero POSTs each event as JSON
//! `{"Type","TypeName","Timestamp","Data","SubscriberId","SiteId","MessageID"}` with, when the
//! site has a security key, a `MessageHash` header: the lower-case hex SHA-1 of the key's UTF-8
//! bytes followed by the exact body bytes (`docs/pressero-api.md`).
//!
//! [`router`] serves `POST /webhooks/pressero/{connection}`, where `connection` is an opaque id
//! the [`WebhookSink`] understands. For each delivery, in this order:
//!
//! | check | answer when it fails |
//! |---|---|
//! | the body fits the cap ([`DEFAULT_MAX_BODY_BYTES`], or [`ReceiverConfig`]) | `413` |
//! | the sink knows the connection ([`WebhookSink::security_key`] is `Some`) | `404` |
//! | `MessageHash` is present and matches (constant-time compare, over the raw body) | `401` |
//! | the body is an envelope with `TypeName`, `MessageID` and `Data` | `400`, naming what is wrong |
//! | the sink takes the event ([`WebhookSink::deliver`]) | `503` / `500` ([`SinkError`]) |
//!
//! and `200 {"received":true,"messageId":…}` when all pass. Every error answer is JSON
//! `{"error": <text>, "code": <stable code>}`.
//!
//! A connection must have a security key: an unsigned delivery is never accepted, so a
//! Pressero site without a key cannot deliver to this receiver.
//!
//! **Duplicates.** Pressero retries a delivery it saw fail, and may send one event twice; this
//! receiver does not remember `MessageID`s. Every verified delivery is passed on, duplicates
//! included, and the sink decides (e.g. by storing [`PresseroEvent::message_id`] with a unique
//! key). A sink that answers an error makes Pressero retry later.
//!
//! Webhooks can also be lost: they only let a connector act sooner; the connector still polls.
//!
//! The security key is never logged, and never part of an answer.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// The default cap on a delivery's body: 1 MiB (Pressero's events carry one order summary,
/// item, stock row or user, a few kilobytes).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The header Pressero signs deliveries with.
pub const MESSAGE_HASH_HEADER: &str = "MessageHash";

/// A site's webhook security key. Its `Debug` output is redacted and it has no `Display`, so
/// it does not end up in logs by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SecurityKey(String);

impl SecurityKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        SecurityKey(key.into())
    }

    /// The key itself, for computing a hash.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecurityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecurityKey(***)")
    }
}

impl From<String> for SecurityKey {
    fn from(key: String) -> Self {
        SecurityKey(key)
    }
}

impl From<&str> for SecurityKey {
    fn from(key: &str) -> Self {
        SecurityKey(key.to_string())
    }
}

/// Why a sink could not look up a connection or take an event.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// A passing failure (a store is busy, a queue is full): answered `503`, so Pressero
    /// retries the delivery.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// Any other failure: answered `500`.
    #[error("{0}")]
    Failed(String),
}

/// What the receiver hands on: a verified delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct PresseroEvent {
    /// `TypeName`, e.g. `OrderPlaced`, `OrderItemStatusChanged`.
    pub type_name: String,
    /// The numeric `Type`, when present.
    pub type_code: Option<u64>,
    /// `Timestamp`, as sent (RFC 3339), when present.
    pub timestamp: Option<String>,
    /// `SubscriberId`: the Pressero account, when present.
    pub subscriber_id: Option<String>,
    /// `SiteId`: the site the event is about (empty when absent).
    pub site_id: String,
    /// `MessageID`: unique per event; the same on a retried delivery.
    pub message_id: String,
    /// `Data.OrderNumber`, for order and item events.
    pub order_number: Option<u64>,
    /// `Data.OrderItemId`, for item events.
    pub item_id: Option<String>,
    /// `Data.OrderItemNumber` (e.g. `1001-2`), for item events.
    pub item_number: Option<String>,
    /// `Data.UserId`, for user events.
    pub user_id: Option<String>,
    /// `Data` as sent.
    pub data: Value,
}

/// Where verified deliveries go, and where the keys of connections come from.
///
/// Implementations are shared by every request (`Send + Sync`), and must answer quickly:
/// Pressero gives a delivery a few seconds before it retries. Queue the work, do not do it
/// in [`WebhookSink::deliver`].
#[async_trait]
pub trait WebhookSink: Send + Sync {
    /// The security key of `connection`; `None` when there is no such connection (the
    /// delivery is answered `404`).
    async fn security_key(&self, connection: &str) -> Result<Option<SecurityKey>, SinkError>;

    /// Takes one verified event for `connection`. Called for every delivery that passed the
    /// checks, duplicates (the same [`PresseroEvent::message_id`]) included.
    async fn deliver(&self, connection: &str, event: PresseroEvent) -> Result<(), SinkError>;
}

/// How the receiver is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// Deliveries with a larger body are answered `413`.
    pub max_body_bytes: usize,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// Why a delivery was refused; each becomes an HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// The body is over the cap.
    #[error("the body is larger than {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The body could not be read.
    #[error("the body could not be read: {0}")]
    Unreadable(String),
    /// The sink does not know the connection.
    #[error("unknown webhook connection")]
    UnknownConnection,
    /// No `MessageHash` header.
    #[error("the MessageHash header is missing")]
    MissingHash,
    /// `MessageHash` does not match the body and the connection's key.
    #[error("the MessageHash does not match the body")]
    BadHash,
    /// The body is not a Pressero envelope; the text names what is wrong.
    #[error("malformed delivery: {0}")]
    Malformed(String),
    /// The sink failed.
    #[error(transparent)]
    Sink(#[from] SinkError),
}

impl ReceiveError {
    /// The HTTP status the error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ReceiveError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ReceiveError::Unreadable(_) | ReceiveError::Malformed(_) => StatusCode::BAD_REQUEST,
            ReceiveError::UnknownConnection => StatusCode::NOT_FOUND,
            ReceiveError::MissingHash | ReceiveError::BadHash => StatusCode::UNAUTHORIZED,
            ReceiveError::Sink(SinkError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            ReceiveError::Sink(SinkError::Failed(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            ReceiveError::TooLarge { .. } => "body_too_large",
            ReceiveError::Unreadable(_) => "unreadable_body",
            ReceiveError::UnknownConnection => "unknown_connection",
            ReceiveError::MissingHash => "missing_message_hash",
            ReceiveError::BadHash => "bad_message_hash",
            ReceiveError::Malformed(_) => "malformed_body",
            ReceiveError::Sink(SinkError::Unavailable(_)) => "sink_unavailable",
            ReceiveError::Sink(SinkError::Failed(_)) => "sink_failed",
        }
    }
}

impl IntoResponse for ReceiveError {
    fn into_response(self) -> Response {
        // A sink's own text may name internals: it goes to the log, not to the caller.
        let text = match &self {
            ReceiveError::Sink(_) => "the delivery could not be taken; retry later".to_string(),
            other => other.to_string(),
        };
        (
            self.status(),
            Json(json!({ "error": text, "code": self.code() })),
        )
            .into_response()
    }
}

/// The `MessageHash` of `body` under `key`: lower-case hex of SHA-1(key bytes ‖ body bytes).
pub fn message_hash(key: &str, body: &[u8]) -> String {
    hex::encode(digest(key, body))
}

fn digest(key: &str, body: &[u8]) -> [u8; 20] {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(body);
    h.finalize().into()
}

/// Whether `header` (hex, any case, surrounding blanks ignored) is the `MessageHash` of `body`
/// under `key`. The comparison takes the same time wherever the first difference is.
pub fn verify_message_hash(key: &str, body: &[u8], header: &str) -> bool {
    let Ok(given) = hex::decode(header.trim()) else {
        return false;
    };
    let expected = digest(key, body);
    // Lengths are public (always 20 for SHA-1); the bytes are compared in constant time.
    given.len() == expected.len() && bool::from(given.ct_eq(&expected))
}

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn text_field(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, ReceiveError> {
    match field(obj, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(ReceiveError::Malformed(format!("{name} must be a string"))),
    }
}

fn data_text(data: &Value, name: &str) -> Option<String> {
    match data.as_object().and_then(|o| field(o, name))? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses a delivery body (already verified) into an event.
pub fn parse_event(body: &[u8]) -> Result<PresseroEvent, ReceiveError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ReceiveError::Malformed(format!("the body is not JSON ({e})")))?;
    let Value::Object(obj) = value else {
        return Err(ReceiveError::Malformed(
            "the body is not a JSON object".into(),
        ));
    };
    let type_name = text_field(&obj, "TypeName")?
        .ok_or_else(|| ReceiveError::Malformed("TypeName is missing".into()))?;
    let message_id = text_field(&obj, "MessageID")?
        .ok_or_else(|| ReceiveError::Malformed("MessageID is missing".into()))?;
    let data = field(&obj, "Data")
        .cloned()
        .ok_or_else(|| ReceiveError::Malformed("Data is missing".into()))?;
    let type_code = match field(&obj, "Type") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .ok_or_else(|| ReceiveError::Malformed("Type must be a whole number".into()))?,
        ),
        Some(_) => return Err(ReceiveError::Malformed("Type must be a number".into())),
    };
    let order_number = match data_text(&data, "OrderNumber") {
        None => None,
        Some(n) => Some(n.parse::<u64>().map_err(|_| {
            ReceiveError::Malformed(format!("Data.OrderNumber `{n}` is not an order number"))
        })?),
    };
    Ok(PresseroEvent {
        type_name,
        type_code,
        timestamp: text_field(&obj, "Timestamp")?,
        subscriber_id: text_field(&obj, "SubscriberId")?,
        site_id: text_field(&obj, "SiteId")?.unwrap_or_default(),
        message_id,
        order_number,
        item_id: data_text(&data, "OrderItemId"),
        item_number: data_text(&data, "OrderItemNumber"),
        user_id: data_text(&data, "UserId"),
        data,
    })
}

struct Receiver {
    sink: Arc<dyn WebhookSink>,
    config: ReceiverConfig,
}

/// The receiver with the default [`ReceiverConfig`]: `POST /webhooks/pressero/{connection}`.
pub fn router(receiver: Arc<dyn WebhookSink>) -> Router {
    router_with(receiver, ReceiverConfig::default())
}

/// The receiver with its own [`ReceiverConfig`].
pub fn router_with(receiver: Arc<dyn WebhookSink>, config: ReceiverConfig) -> Router {
    Router::new()
        .route("/webhooks/pressero/{connection}", post(receive))
        .with_state(Arc::new(Receiver {
            sink: receiver,
            config,
        }))
}

async fn read_capped(body: Body, limit: usize) -> Result<Bytes, ReceiveError> {
    match axum::body::to_bytes(body, limit).await {
        Ok(b) => Ok(b),
        Err(e) => {
            let inner = e.into_inner();
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(inner.as_ref());
            while let Some(err) = source {
                if err.is::<http_body_util::LengthLimitError>() {
                    return Err(ReceiveError::TooLarge { limit });
                }
                source = err.source();
            }
            Err(ReceiveError::Unreadable(inner.to_string()))
        }
    }
}

async fn receive(
    State(rx): State<Arc<Receiver>>,
    Path(connection): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match handle(&rx, &connection, &headers, body).await {
        Ok(message_id) => (
            StatusCode::OK,
            Json(json!({ "received": true, "messageId": message_id })),
        )
            .into_response(),
        Err(e) => {
            match &e {
                ReceiveError::Sink(inner) => tracing::error!(
                    connection = %connection,
                    error = %inner,
                    "Pressero webhook: the sink failed"
                ),
                other => tracing::warn!(
                    connection = %connection,
                    code = other.code(),
                    "Pressero webhook refused: {other}"
                ),
            }
            e.into_response()
        }
    }
}

async fn handle(
    rx: &Receiver,
    connection: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<String, ReceiveError> {
    let limit = rx.config.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ReceiveError::TooLarge { limit });
    }
    let key = rx
        .sink
        .security_key(connection)
        .await?
        .ok_or(ReceiveError::UnknownConnection)?;
    let bytes = read_capped(body, limit).await?;
    let hash = headers
        .get(MESSAGE_HASH_HEADER)
        .ok_or(ReceiveError::MissingHash)?
        .to_str()
        .map_err(|_| ReceiveError::BadHash)?;
    if !verify_message_hash(key.expose(), &bytes, hash) {
        return Err(ReceiveError::BadHash);
    }
    let event = parse_event(&bytes)?;
    let message_id = event.message_id.clone();
    tracing::debug!(
        connection = %connection,
        type_name = %event.type_name,
        message_id = %message_id,
        "Pressero webhook received"
    );
    rx.sink.deliver(connection, event).await?;
    Ok(message_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_sha1_of_key_then_body_in_hex() {
        // SHA-1("key" ‖ "body") = SHA-1("keybody").
        let h = message_hash("key", b"body");
        assert_eq!(h.len(), 40);
        assert_eq!(h, message_hash("keyb", b"ody"));
        assert!(verify_message_hash("key", b"body", &h));
        assert!(verify_message_hash("key", b"body", &h.to_uppercase()));
        assert!(verify_message_hash("key", b"body", &format!(" {h} ")));
        assert!(!verify_message_hash("key", b"body!", &h));
        assert!(!verify_message_hash("other", b"body", &h));
        assert!(!verify_message_hash("key", b"body", &h[..38]));
        assert!(!verify_message_hash("key", b"body", "not hex"));
        assert!(!verify_message_hash("key", b"body", ""));
    }

    #[test]
    fn the_key_does_not_show_in_debug_output() {
        let k = SecurityKey::new("s3cret");
        assert_eq!(format!("{k:?}"), "SecurityKey(***)");
        assert_eq!(k.expose(), "s3cret");
    }

    #[test]
    fn envelopes_parse_into_typed_events_or_name_the_fault() {
        let e = parse_event(
            br#"{"Type":2,"TypeName":"OrderItemStatusChanged","Timestamp":"2026-12-01T10:00:00.000Z",
                "Data":{"OrderNumber":1001,"OrderItemId":"abc","OrderItemNumber":"1001-1"},
                "SubscriberId":"sub","SiteId":"site-1","MessageID":"m-1"}"#,
        )
        .unwrap();
        assert_eq!(e.type_name, "OrderItemStatusChanged");
        assert_eq!(e.type_code, Some(2));
        assert_eq!(e.order_number, Some(1001));
        assert_eq!(e.item_id.as_deref(), Some("abc"));
        assert_eq!(e.item_number.as_deref(), Some("1001-1"));
        assert_eq!(e.site_id, "site-1");
        assert_eq!(e.message_id, "m-1");
        let user =
            parse_event(br#"{"TypeName":"NewSiteUser","MessageID":"m","Data":{"UserId":"u"}}"#)
                .unwrap();
        assert_eq!(user.user_id.as_deref(), Some("u"));
        assert_eq!(user.order_number, None);
        for (body, names) in [
            (&b"not json"[..], "not JSON"),
            (b"[1]", "not a JSON object"),
            (br#"{"MessageID":"m","Data":{}}"#, "TypeName"),
            (br#"{"TypeName":"X","Data":{}}"#, "MessageID"),
            (br#"{"TypeName":"X","MessageID":"m"}"#, "Data"),
            (
                br#"{"TypeName":"X","MessageID":"m","Data":{},"Type":"one"}"#,
                "Type",
            ),
            (
                br#"{"TypeName":"X","MessageID":"m","Data":{"OrderNumber":"A1"}}"#,
                "OrderNumber",
            ),
        ] {
            let err = parse_event(body).unwrap_err();
            assert!(matches!(err, ReceiveError::Malformed(_)));
            assert!(err.to_string().contains(names), "{err} should name {names}");
        }
    }
}
