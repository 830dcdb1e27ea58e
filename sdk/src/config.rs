//! The connection's non-secret settings (the ones a manifest declares).
//!
//! Secret settings never reach the plugin: refer to them in requests with
//! [`crate::http::secret`]. A setting set to blank text counts as not set.

use std::str::FromStr;

use crate::error::{ConnectorError, Result};

/// The value of setting `name`, trimmed; `None` when unset or blank.
pub fn get(name: &str) -> Option<String> {
    crate::host::config_get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The value of setting `name`, or `invalid-input` naming the missing setting.
pub fn required(name: &str) -> Result<String> {
    get(name).ok_or_else(|| {
        ConnectorError::invalid_input(format!("the setting `{name}` is required"), name)
    })
}

/// The value of setting `name`, or `default` when unset.
pub fn get_or(name: &str, default: &str) -> String {
    get(name).unwrap_or_else(|| default.to_string())
}

/// Setting `name` parsed as `T`; `None` when unset, `invalid-input` naming the
/// setting when it does not parse.
pub fn parse<T: FromStr>(name: &str) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    match get(name) {
        None => Ok(None),
        Some(v) => v.parse::<T>().map(Some).map_err(|e| {
            ConnectorError::invalid_input(
                format!("the setting `{name}` has the invalid value `{v}`: {e}"),
                name,
            )
        }),
    }
}

/// Setting `name` as a yes/no flag (`true/false`, `yes/no`, `1/0`, `on/off`),
/// or `default` when unset.
pub fn flag(name: &str, default: bool) -> Result<bool> {
    match get(name) {
        None => Ok(default),
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Ok(true),
            "false" | "no" | "0" | "off" => Ok(false),
            _ => Err(ConnectorError::invalid_input(
                format!("the setting `{name}` must be true or false, not `{v}`"),
                name,
            )),
        },
    }
}

/// Every non-secret setting of the connection.
pub fn all() -> Vec<(String, String)> {
    crate::host::config_all()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::testing::FakeHost;

    #[test]
    fn required_names_the_missing_setting() {
        FakeHost::new()
            .config("username", " ann ")
            .config("blank", "  ")
            .config("overlap-seconds", "abc")
            .config("flag", "Yes")
            .install();
        assert_eq!(required("username").unwrap(), "ann");
        match required("blank").unwrap_err() {
            ConnectorError::InvalidInput(i) => {
                assert_eq!(i.location, "blank");
                assert!(i.message.contains("`blank` is required"));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse::<u32>("overlap-seconds").is_err());
        assert_eq!(parse::<u32>("absent").unwrap(), None);
        assert!(flag("flag", false).unwrap());
        assert!(!flag("absent", false).unwrap());
        assert!(flag("username", false).is_err());
        assert_eq!(get_or("absent", "x"), "x");
        assert_eq!(all().len(), 4);
    }
}
