//! Activity of a job, buffered in memory and written to the store in bounded batches as the
//! run goes: when the buffer fills, after each record and page, and before anything is sent
//! to a target. A run killed mid-way keeps its log up to its last flush (R-P-2).

use std::sync::Mutex;

use switchyard_http::{Exchange, ExchangeLog};
use switchyard_store::{ConnectionId, Level, NewActivity, RunId, Store, TenantId};

/// Lines per write: a batch is one transaction.
const BATCH: usize = 200;
/// A buffer this full is written at the next chance the host has (see [`ActivityBuffer::is_full`]).
const FULL: usize = 64;

/// Collects activity lines (already redacted) until the engine flushes them.
pub(crate) struct ActivityBuffer {
    tenant: TenantId,
    connection: ConnectionId,
    run: Option<RunId>,
    lines: Mutex<Vec<NewActivity>>,
}

impl ActivityBuffer {
    pub(crate) fn new(tenant: TenantId, connection: ConnectionId, run: Option<RunId>) -> Self {
        ActivityBuffer {
            tenant,
            connection,
            run,
            lines: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn push(
        &self,
        level: Level,
        kind: &str,
        message: String,
        detail: Option<serde_json::Value>,
    ) {
        let entry = NewActivity {
            tenant: self.tenant,
            connection: Some(self.connection),
            run: self.run,
            level,
            kind: kind.to_string(),
            message,
            detail,
        };
        self.lines.lock().expect("activity lock").push(entry);
    }

    /// Whether enough lines wait that they should be written now.
    pub(crate) fn is_full(&self) -> bool {
        self.lines.lock().expect("activity lock").len() >= FULL
    }

    /// Write what was collected, in batches; a failure to log is reported, never fatal.
    pub(crate) async fn flush(&self, store: &Store) {
        let lines = std::mem::take(&mut *self.lines.lock().expect("activity lock"));
        let mut lines = lines.into_iter().peekable();
        while lines.peek().is_some() {
            let batch: Vec<NewActivity> = lines.by_ref().take(BATCH).collect();
            if let Err(e) = store.log_activities(batch).await {
                tracing::warn!(error = %e, "activity log write failed");
            }
        }
    }
}

impl ExchangeLog for ActivityBuffer {
    fn record(&self, ex: &Exchange) {
        let level = match (ex.status, &ex.error) {
            (_, Some(_)) => Level::Error,
            (Some(s), _) if s >= 400 => Level::Warn,
            _ if ex.malformed_body.is_some() => Level::Warn,
            _ => Level::Info,
        };
        let message = match (ex.status, &ex.error) {
            (Some(s), _) if ex.malformed_body.is_some() => format!(
                "{} {} → {s}, but the body is broken: {}",
                ex.method.as_str(),
                ex.url,
                ex.malformed_body.as_deref().unwrap_or_default()
            ),
            (Some(s), _) => format!("{} {} → {s}", ex.method.as_str(), ex.url),
            (None, Some(e)) => format!("{} {} failed: {e}", ex.method.as_str(), ex.url),
            (None, None) => format!("{} {}", ex.method.as_str(), ex.url),
        };
        let detail = serde_json::json!({
            "method": ex.method.as_str(),
            "url": ex.url,
            "status": ex.status,
            "attempts": ex.attempts,
            "duration_ms": ex.duration_ms,
            "request_headers": ex.request_headers,
            "request_body": ex.request_body_excerpt,
            "response_body": ex.response_body_excerpt,
            "error": ex.error,
            "malformed_body": ex.malformed_body,
            "malformed_retries": ex.malformed_retries,
        });
        self.push(level, "http", message, Some(detail));
    }
}
