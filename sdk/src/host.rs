//! The one place that calls the host's imports.
//!
//! On `wasm32` every call goes to the generated import bindings. On a native
//! target the generated imports exist but panic when called, so the calls go to
//! the thread-local fake host of [`crate::testing`] instead; that lets connector
//! logic run in native unit tests and benchmarks.

use crate::bindings::switchyard::connector::{http, log, matching};

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::*;
    use crate::bindings::switchyard::connector::{config, store};

    pub fn http_send(req: &http::Request) -> Result<http::Response, http::HttpError> {
        http::send(req)
    }
    pub fn store_get(key: &str) -> Result<Option<Vec<u8>>, String> {
        store::get(key)
    }
    pub fn store_set(key: &str, value: &[u8], ttl: Option<u32>) -> Result<(), String> {
        store::set(key, value, ttl)
    }
    pub fn store_delete(key: &str) -> Result<(), String> {
        store::delete(key)
    }
    pub fn config_get(name: &str) -> Option<String> {
        config::get(name)
    }
    pub fn config_all() -> Vec<(String, String)> {
        config::all()
    }
    pub fn log_write(level: log::Level, message: &str) {
        log::write(level, message)
    }
    pub fn matching_find(
        kind: matching::MatchKind,
        fields: &[matching::MatchField],
    ) -> Result<Vec<matching::Candidate>, String> {
        matching::find(kind, fields)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;
    use crate::testing::with_host;

    pub fn http_send(req: &http::Request) -> Result<http::Response, http::HttpError> {
        with_host(|h| h.send(req))
    }
    pub fn store_get(key: &str) -> Result<Option<Vec<u8>>, String> {
        with_host(|h| Ok(h.store_get(key)))
    }
    pub fn store_set(key: &str, value: &[u8], ttl: Option<u32>) -> Result<(), String> {
        with_host(|h| {
            h.store_set(key, value, ttl);
            Ok(())
        })
    }
    pub fn store_delete(key: &str) -> Result<(), String> {
        with_host(|h| {
            h.store_delete(key);
            Ok(())
        })
    }
    pub fn config_get(name: &str) -> Option<String> {
        with_host(|h| h.config_get(name))
    }
    pub fn config_all() -> Vec<(String, String)> {
        with_host(|h| h.config_all())
    }
    pub fn log_write(level: log::Level, message: &str) {
        with_host(|h| h.log_write(level, message))
    }
    pub fn matching_find(
        kind: matching::MatchKind,
        fields: &[matching::MatchField],
    ) -> Result<Vec<matching::Candidate>, String> {
        with_host(|h| h.matching_find(kind, fields))
    }
}

pub(crate) use imp::*;
