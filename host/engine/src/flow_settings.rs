//! The settings of a flow, read from its JSON object and checked once per run.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::EngineError;

/// How a flow treats records the target does not have yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlowMode {
    /// Push them (R-B-2).
    #[default]
    Push,
    /// Push nothing; link records an older integration already pushed, then keep their
    /// statuses in sync (R-B-4, for migrations).
    StatusOnly,
    /// Orders become order requests in the inbox (Flow A, R-A-1): matched, decided by a
    /// person where needed, and converted into orders at the target.
    Inbox,
}

/// A flow's settings. Unknown keys are refused, so a typo is not silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FlowSettings {
    /// Push or status only.
    pub mode: FlowMode,
    /// Only orders placed this many days back are pushed (R-B-4: 30).
    pub window_days: u32,
    /// The target's stream of status updates of pushed records (none: no status sync).
    pub status_stream: Option<String>,
    /// The source's stream that takes item status write-backs (none: no write-back).
    pub write_back_stream: Option<String>,
    /// Attempts of a push that fails with a retryable error before it is given up.
    pub max_attempts: u32,
    /// The first retry waits this long; each further one twice as long (at most an hour).
    pub retry_backoff_seconds: u64,
    /// Records handled per page (and per transaction of progress).
    pub page_size: u32,
    /// Inbox mode: the target's streams imported before matching, so it knows what the
    /// target has (contacts, companies, addresses, products).
    pub reference_streams: Vec<String>,
    /// Status sync also polls records whose items all reached a final status (completed,
    /// cancelled, denied). Off by default: a finished order does not change any more, and
    /// polling it would make every run cost what the whole history holds.
    pub poll_final: bool,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            mode: FlowMode::Push,
            window_days: 30,
            status_stream: Some("order-status".into()),
            write_back_stream: Some("item-status".into()),
            max_attempts: 5,
            retry_backoff_seconds: 30,
            page_size: 50,
            reference_streams: vec![
                "companies".into(),
                "contacts".into(),
                "addresses".into(),
                "products".into(),
            ],
            poll_final: false,
        }
    }
}

impl FlowSettings {
    /// Reads and checks a flow's settings.
    pub fn parse(flow: &str, value: &Value) -> Result<FlowSettings, EngineError> {
        let s: FlowSettings =
            serde_json::from_value(value.clone()).map_err(|e| EngineError::FlowSettings {
                flow: flow.to_string(),
                reason: e.to_string(),
            })?;
        let bad = |reason: &str| EngineError::FlowSettings {
            flow: flow.to_string(),
            reason: reason.to_string(),
        };
        if s.window_days == 0 {
            return Err(bad("window-days must be at least 1"));
        }
        if s.max_attempts == 0 {
            return Err(bad("max-attempts must be at least 1"));
        }
        if !(1..=1000).contains(&s.page_size) {
            return Err(bad("page-size must be between 1 and 1000"));
        }
        Ok(s)
    }

    /// The wait before attempt `attempts + 1`.
    pub fn backoff(&self, attempts: u32) -> std::time::Duration {
        let factor = 1u64 << attempts.saturating_sub(1).min(16);
        std::time::Duration::from_secs(self.retry_backoff_seconds.saturating_mul(factor).min(3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_overrides() {
        let s = FlowSettings::parse("f", &json!({})).unwrap();
        assert_eq!(s, FlowSettings::default());
        let s =
            FlowSettings::parse("f", &json!({"mode": "status-only", "window-days": 7})).unwrap();
        assert_eq!(s.mode, FlowMode::StatusOnly);
        assert_eq!(s.window_days, 7);
    }

    #[test]
    fn typos_and_bad_values_are_refused() {
        let e = FlowSettings::parse("f", &json!({"windowdays": 7})).unwrap_err();
        assert!(e.to_string().contains("windowdays"), "{e}");
        let e = FlowSettings::parse("f", &json!({"max-attempts": 0})).unwrap_err();
        assert!(e.to_string().contains("max-attempts"), "{e}");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let s = FlowSettings::default();
        assert_eq!(s.backoff(1).as_secs(), 30);
        assert_eq!(s.backoff(2).as_secs(), 60);
        assert_eq!(s.backoff(30).as_secs(), 3600);
    }
}
