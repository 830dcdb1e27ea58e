use async_trait::async_trait;

use crate::bindings::switchyard::connector::{http, log, matching};

/// What the host offers a plugin during one job, for one tenant and connection.
///
/// The runtime calls these from the plugin's imports. Implementations decide
/// policy (allow-list, secrets, rate limits, storage namespaces); the runtime
/// only guarantees the plugin reaches nothing else.
#[async_trait]
pub trait HostServices: Send + Sync {
    /// `http.send`.
    async fn http_send(&self, req: http::Request) -> Result<http::Response, http::HttpError>;
    /// `store.get` in this connection's own key space.
    async fn kv_get(&self, key: String) -> Result<Option<Vec<u8>>, String>;
    /// `store.set`.
    async fn kv_set(
        &self,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> Result<(), String>;
    /// `store.delete`.
    async fn kv_delete(&self, key: String) -> Result<(), String>;
    /// `matching.find` over this tenant's canonical records.
    async fn find_matches(
        &self,
        kind: matching::MatchKind,
        fields: Vec<matching::MatchField>,
    ) -> Result<Vec<matching::Candidate>, String>;
    /// `log.write`; implementations redact secrets.
    fn log(&self, level: log::Level, message: String);
    /// `config.get`: a non-secret setting.
    fn config_get(&self, name: &str) -> Option<String>;
    /// `config.all`: every non-secret setting.
    fn config_all(&self) -> Vec<(String, String)>;
}

/// Services that refuse everything: used to `describe` a plugin at load time,
/// before it is bound to any connection.
pub struct NoServices;

#[async_trait]
impl HostServices for NoServices {
    async fn http_send(&self, _req: http::Request) -> Result<http::Response, http::HttpError> {
        Err(http::HttpError::Denied(
            "no connection is bound to this call".into(),
        ))
    }
    async fn kv_get(&self, _key: String) -> Result<Option<Vec<u8>>, String> {
        Err("no connection is bound to this call".into())
    }
    async fn kv_set(&self, _key: String, _v: Vec<u8>, _ttl: Option<u32>) -> Result<(), String> {
        Err("no connection is bound to this call".into())
    }
    async fn kv_delete(&self, _key: String) -> Result<(), String> {
        Err("no connection is bound to this call".into())
    }
    async fn find_matches(
        &self,
        _kind: matching::MatchKind,
        _fields: Vec<matching::MatchField>,
    ) -> Result<Vec<matching::Candidate>, String> {
        Ok(Vec::new())
    }
    fn log(&self, _level: log::Level, _message: String) {}
    fn config_get(&self, _name: &str) -> Option<String> {
        None
    }
    fn config_all(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}
