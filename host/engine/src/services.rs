//! The capabilities one job of a connection gets.

use std::sync::Arc;

use async_trait::async_trait;
use switchyard_http::{ConnectionPolicy, HttpCapability, HttpError, Method, OutboundRequest};
use switchyard_runtime::bindings::switchyard::connector::{http, log, matching};
use switchyard_runtime::HostServices;
use switchyard_store::{Connection, Level, RunId, Store};

use crate::activity::ActivityBuffer;
use crate::match_keys::{match_key_type, normalise};
use switchyard_matching::{address_key as postal_key, PostalAddress};

/// [`HostServices`] for one connection: HTTP under the connection's policy,
/// the connection's own key space, matching within its tenant, and activity
/// logged with secrets redacted.
pub struct ConnectionServices {
    store: Store,
    http: HttpCapability,
    policy: Arc<ConnectionPolicy>,
    conn: Connection,
    activity: ActivityBuffer,
}

impl ConnectionServices {
    pub(crate) fn new(
        store: Store,
        http: HttpCapability,
        policy: Arc<ConnectionPolicy>,
        conn: Connection,
        run: Option<RunId>,
    ) -> Self {
        let activity = ActivityBuffer::new(conn.tenant, conn.id, run);
        ConnectionServices {
            store,
            http,
            policy,
            conn,
            activity,
        }
    }

    /// Write the buffered activity lines to the store.
    pub async fn flush(&self) {
        self.activity.flush(&self.store).await;
    }

    /// Record an engine-side activity line for this connection (redacted).
    pub fn note(&self, level: Level, kind: &str, message: &str, detail: Option<serde_json::Value>) {
        let message = self.policy.redact(message);
        let detail =
            detail.and_then(|d| serde_json::from_str(&self.policy.redact(&d.to_string())).ok());
        self.activity.push(level, kind, message, detail);
    }
}

fn method_of(m: http::Method) -> Method {
    match m {
        http::Method::Get => Method::Get,
        http::Method::Head => Method::Head,
        http::Method::Post => Method::Post,
        http::Method::Put => Method::Put,
        http::Method::Patch => Method::Patch,
        http::Method::Delete => Method::Delete,
    }
}

fn wit_error(e: HttpError) -> http::HttpError {
    match e {
        HttpError::Denied(m) => http::HttpError::Denied(m),
        HttpError::InvalidRequest(m) => http::HttpError::InvalidRequest(m),
        HttpError::UnknownSecret(m) => http::HttpError::UnknownSecret(m),
        HttpError::Timeout(m) => http::HttpError::Timeout(m),
        HttpError::Connection(m) => http::HttpError::Connection(m),
        HttpError::TooLarge(m) => http::HttpError::TooLarge(m),
    }
}

#[async_trait]
impl HostServices for ConnectionServices {
    async fn http_send(&self, req: http::Request) -> Result<http::Response, http::HttpError> {
        let out = OutboundRequest {
            method: method_of(req.method),
            url: req.url,
            headers: req.headers.into_iter().map(|h| (h.name, h.value)).collect(),
            body: req.body,
            basic_auth: req.basic_auth.map(|b| (b.username, b.password)),
            idempotent: req.idempotent,
        };
        let resp = self
            .http
            .send(&self.policy, out, &self.activity)
            .await
            .map_err(wit_error);
        // A plugin may make many requests in one call: their log is not held until it returns.
        if self.activity.is_full() {
            self.activity.flush(&self.store).await;
        }
        let resp = resp?;
        Ok(http::Response {
            status: resp.status,
            headers: resp
                .headers
                .into_iter()
                .map(|(name, value)| http::Header { name, value })
                .collect(),
            body: resp.body,
        })
    }

    async fn kv_get(&self, key: String) -> Result<Option<Vec<u8>>, String> {
        self.store
            .kv_get(self.conn.tenant, self.conn.id, &key)
            .await
            .map_err(|e| e.to_string())
    }

    async fn kv_set(&self, key: String, value: Vec<u8>, ttl: Option<u32>) -> Result<(), String> {
        let ttl = ttl.map(|s| std::time::Duration::from_secs(u64::from(s)));
        self.store
            .kv_set(self.conn.tenant, self.conn.id, &key, &value, ttl)
            .await
            .map_err(|e| e.to_string())
    }

    async fn kv_delete(&self, key: String) -> Result<(), String> {
        self.store
            .kv_delete(self.conn.tenant, self.conn.id, &key)
            .await
            .map_err(|e| e.to_string())
    }

    async fn find_matches(
        &self,
        kind: matching::MatchKind,
        fields: Vec<matching::MatchField>,
    ) -> Result<Vec<matching::Candidate>, String> {
        let (entity_kind, _) = match_key_type(kind, "");
        // An address is one key made of its postal fields, not one lookup per field.
        let fields = if kind == matching::MatchKind::Address {
            let field = |n: &str| {
                fields
                    .iter()
                    .find(|f| f.name == n)
                    .map_or("", |f| f.value.as_str())
            };
            let street = if field("street").is_empty() {
                field("address")
            } else {
                field("street")
            };
            vec![matching::MatchField {
                name: "address".into(),
                value: postal_key(PostalAddress {
                    street,
                    house_number: field("house-number"),
                    postcode: field("postcode"),
                    city: field("city"),
                    country: field("country"),
                }),
            }]
        } else {
            fields
        };
        let asked = fields.len().max(1);
        // canonical id → (fields that matched, summary)
        let mut found: std::collections::BTreeMap<String, (Vec<String>, String)> =
            Default::default();
        for field in &fields {
            let (_, key_type) = match_key_type(kind, &field.name);
            let value = if key_type == "address" {
                field.value.clone()
            } else {
                normalise(&key_type, &field.value)
            };
            if value.is_empty() {
                continue;
            }
            let records = self
                .store
                .find_by_match_key(self.conn.tenant, entity_kind, &key_type, &value)
                .await
                .map_err(|e| e.to_string())?;
            for r in records {
                let entry = found
                    .entry(r.id.to_string())
                    .or_insert_with(|| (Vec::new(), crate::match_keys::summary(&r.data)));
                entry.0.push(field.name.clone());
            }
        }
        let mut out: Vec<matching::Candidate> = found
            .into_iter()
            .map(|(id, (matched, summary))| matching::Candidate {
                canonical_id: id,
                score: ((matched.len() * 100) / asked).min(100) as u8,
                matched_fields: matched,
                summary,
            })
            .collect();
        out.sort_by_key(|c| std::cmp::Reverse(c.score));
        Ok(out)
    }

    fn log(&self, level: log::Level, message: String) {
        let level = match level {
            log::Level::Trace => Level::Trace,
            log::Level::Debug => Level::Debug,
            log::Level::Info => Level::Info,
            log::Level::Warn => Level::Warn,
            log::Level::Error => Level::Error,
        };
        let message = self.policy.redact(&message);
        tracing::debug!(connection = %self.conn.id, %level, "{message}");
        self.activity.push(level, "plugin-log", message, None);
    }

    fn config_get(&self, name: &str) -> Option<String> {
        self.conn.settings.get(name).cloned()
    }

    fn config_all(&self) -> Vec<(String, String)> {
        self.conn
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}
