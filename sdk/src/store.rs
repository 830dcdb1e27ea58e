//! The plugin's own key-value space, namespaced by tenant and connection.
//!
//! The host keeps it between calls (each call runs in a fresh instance), so this
//! is where e.g. an access token lives. Store failures are `transient`: the host
//! side of the store may come back.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ConnectorError, Result};

fn store_failure(op: &str, key: &str, e: String) -> ConnectorError {
    ConnectorError::transient(format!("the plugin store could not {op} `{key}`: {e}"))
}

/// The bytes under `key`; `None` when absent or expired.
pub fn get(key: &str) -> Result<Option<Vec<u8>>> {
    crate::host::store_get(key).map_err(|e| store_failure("read", key, e))
}

/// Writes `value` under `key`, replacing any old one; it expires after
/// `ttl_seconds` when given.
pub fn set(key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<()> {
    crate::host::store_set(key, value, ttl_seconds).map_err(|e| store_failure("write", key, e))
}

/// Removes `key` (no error when absent).
pub fn delete(key: &str) -> Result<()> {
    crate::host::store_delete(key).map_err(|e| store_failure("delete", key, e))
}

/// The JSON value under `key`. A value that no longer decodes as `T` (e.g.
/// written by an older plugin version) counts as absent.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>> {
    Ok(get(key)?.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// Writes `value` as JSON under `key`, expiring after `ttl_seconds` when given.
pub fn set_json<T: Serialize + ?Sized>(
    key: &str,
    value: &T,
    ttl_seconds: Option<u32>,
) -> Result<()> {
    let bytes = serde_json::to_vec(value).map_err(|e| {
        ConnectorError::permanent(format!("cannot encode the value of `{key}` as JSON: {e}"))
    })?;
    set(key, &bytes, ttl_seconds)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::testing::{store_entry, FakeHost};

    #[test]
    fn json_values_round_trip_with_their_ttl() {
        FakeHost::new().stored("old", b"not json").install();
        set_json("token", &serde_json::json!({"t": "abc"}), Some(900)).unwrap();
        let v: Option<serde_json::Value> = get_json("token").unwrap();
        assert_eq!(v.unwrap()["t"], "abc");
        assert_eq!(store_entry("token").unwrap().1, Some(900));
        assert_eq!(get_json::<serde_json::Value>("old").unwrap(), None);
        delete("token").unwrap();
        assert_eq!(get("token").unwrap(), None);
    }
}
