//! The import flow: fetch → map-in → canonical records + bindings, page by page.

use std::time::Duration;

use serde::Serialize;
use switchyard_runtime::bindings::{ConnectorError, Direction, FetchRequest, Page, StreamInfo};
use switchyard_runtime::{Job, LoadedPlugin, RuntimeError};
use switchyard_store::{ConnectionId, ImportPage, ImportRecord, Level, RunCounts, RunId};

use crate::error::EngineError;
use crate::match_keys::match_keys_of;
use crate::run_lock::HeldRunLock;
use crate::services::ConnectionServices;
use crate::Switchyard;

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Records asked for per page.
    pub page_size: u32,
    /// Stop after this many pages (the cursor keeps the place).
    pub max_pages: Option<u32>,
    /// Attempts of a fetch that fails with a retryable error.
    pub fetch_attempts: u32,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            page_size: 100,
            max_pages: None,
            fetch_attempts: 4,
        }
    }
}

/// What an import did; also the `--json` answer of the CLI.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    pub flow: String,
    pub connection: String,
    pub stream: String,
    pub run: String,
    pub pages: u64,
    pub fetched: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Records that could not be mapped, and pages that could not be read.
    pub failed: u64,
    /// Why, for the first few of them (the activity log has every one).
    pub failures: Vec<String>,
}

/// Reasons kept in a summary; the activity log has all of them.
pub(crate) const FAILURES_KEPT: usize = 20;

/// Adds a failure's reason to a summary's list, up to [`FAILURES_KEPT`].
pub(crate) fn keep_failure(failures: &mut Vec<String>, reason: String) {
    if failures.len() < FAILURES_KEPT {
        failures.push(reason);
    }
}

impl ImportSummary {
    /// The run's note when it went on past failures.
    pub(crate) fn failure_note(&self) -> Option<String> {
        failure_note(self.failed, &self.failures)
    }
}

/// "N failed: first reason; …" for a run that finished with failed records.
pub(crate) fn failure_note(failed: u64, failures: &[String]) -> Option<String> {
    (failed > 0).then(|| {
        let mut note = format!("{failed} failed (retried on a later run)");
        if let Some(first) = failures.first() {
            note.push_str(": ");
            note.push_str(first);
            if failures.len() > 1 {
                note.push_str(&format!(" (and {} more in the log)", failed - 1));
            }
        }
        note
    })
}

/// Told after every stored page (drives the CLI's progress bar).
pub trait ImportProgress: Send + Sync {
    fn page_stored(&self, summary: &ImportSummary);
}

impl ImportProgress for () {
    fn page_stored(&self, _summary: &ImportSummary) {}
}

impl Switchyard {
    /// Import a source stream of a connection until the provider has nothing
    /// more (or `max_pages`). Safe to interrupt at any point: each page and
    /// the cursor after it are stored in one transaction, and bindings make a
    /// re-run update instead of duplicating.
    pub async fn import(
        &self,
        connection: ConnectionId,
        stream: &str,
        opts: &ImportOptions,
        progress: &dyn ImportProgress,
    ) -> Result<ImportSummary, EngineError> {
        let (conn, plugin) = self.plugin_for(connection).await?;
        if !conn.live {
            return Err(EngineError::NotLive(conn.name.clone()));
        }
        let info = plugin
            .manifest()
            .streams
            .iter()
            .find(|s| {
                s.name == stream && matches!(s.direction, Direction::Source | Direction::Both)
            })
            .cloned()
            .ok_or_else(|| EngineError::UnknownStream {
                provider: plugin.provider().to_string(),
                stream: stream.to_string(),
            })?;
        let lock = HeldRunLock::acquire(self.store(), conn.id, &conn.name, stream).await?;
        let result = self
            .import_locked(&conn, &plugin, &info, stream, opts, progress, &lock)
            .await;
        let released = lock.release().await;
        let summary = result?;
        released?;
        Ok(summary)
    }

    /// The import, once this host holds the run lock of the connection's stream.
    #[allow(clippy::too_many_arguments)]
    async fn import_locked(
        &self,
        conn: &switchyard_store::Connection,
        plugin: &LoadedPlugin,
        info: &StreamInfo,
        stream: &str,
        opts: &ImportOptions,
        progress: &dyn ImportProgress,
        lock: &HeldRunLock,
    ) -> Result<ImportSummary, EngineError> {
        let run = self
            .open_run(
                conn.id,
                stream,
                "import",
                "abandoned: the host stopped before this run finished; the next run resumed from the stored cursor",
            )
            .await?;
        let services = self.services_for(conn, plugin, Some(run)).await?;
        let mut summary = ImportSummary {
            flow: "import".into(),
            connection: conn.name.clone(),
            stream: stream.to_string(),
            run: run.to_string(),
            ..Default::default()
        };
        let result = async {
            let mut job = plugin.start_job(services.clone()).await?;
            self.import_pages(
                &mut job,
                &services,
                conn,
                run,
                info.entity.as_str(),
                stream,
                opts,
                progress,
                lock,
                &mut summary,
            )
            .await
        }
        .await;
        services.flush().await;
        let counts = RunCounts {
            fetched: summary.fetched,
            created: summary.created,
            updated: summary.updated,
            unchanged: summary.unchanged,
            failed: summary.failed,
        };
        let note = summary.failure_note();
        self.close_run(run, result, counts, note)
            .await
            .map(|()| summary)
    }

    #[allow(clippy::too_many_arguments)]
    async fn import_pages(
        &self,
        job: &mut Job,
        services: &ConnectionServices,
        conn: &switchyard_store::Connection,
        run: RunId,
        kind: &str,
        stream: &str,
        opts: &ImportOptions,
        progress: &dyn ImportProgress,
        lock: &HeldRunLock,
        summary: &mut ImportSummary,
    ) -> Result<(), EngineError> {
        loop {
            lock.ensure_held()?;
            let cursor = self.store().cursor(conn.id, stream).await?;
            let req = FetchRequest {
                stream: stream.to_string(),
                cursor,
                page_size: opts.page_size,
                now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                external_ids: Vec::new(),
            };
            let page = match fetch_with_retry(job, services, &req, opts.fetch_attempts).await {
                Ok(page) => page,
                Err(e) => {
                    return page_failed(e, services, stream, req.cursor.as_deref(), summary);
                }
            };
            summary.fetched += page.records.len() as u64;
            let mut records = Vec::with_capacity(page.records.len());
            for raw in &page.records {
                match job.map_in(stream, raw).await {
                    Ok(entity) if entity.kind().as_str() == kind => {
                        let data = serde_json::to_value(&entity)
                            .map_err(|e| EngineError::Canonical(e.to_string()))?;
                        records.push(ImportRecord {
                            kind: kind.to_string(),
                            external_id: raw.external_id.clone(),
                            external_updated_at: raw.updated_at.clone(),
                            match_keys: match_keys_of(&entity),
                            data,
                        });
                    }
                    Ok(entity) => {
                        let reason = format!(
                            "record {} of stream {stream} mapped to a {} instead of a {kind}",
                            raw.external_id,
                            entity.kind().as_str()
                        );
                        summary.failed += 1;
                        keep_failure(&mut summary.failures, reason.clone());
                        services.note(
                            Level::Error,
                            "dead-letter",
                            &reason,
                            Some(serde_json::json!({ "external_id": raw.external_id, "raw": raw.data })),
                        );
                    }
                    Err(RuntimeError::Connector(e, _)) => {
                        // Bad provider data: keep the raw record in the log so
                        // nothing is lost, count it, and go on with the rest.
                        let reason = format!(
                            "record {} of stream {stream} could not be mapped: {}",
                            raw.external_id,
                            e.message()
                        );
                        summary.failed += 1;
                        keep_failure(&mut summary.failures, reason.clone());
                        services.note(
                            Level::Error,
                            "dead-letter",
                            &reason,
                            Some(serde_json::json!({ "external_id": raw.external_id, "raw": raw.data })),
                        );
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            // A page fetched while the lock was lost is not stored: another run may own it.
            lock.ensure_held()?;
            let outcome = self
                .store()
                .apply_import_page(ImportPage {
                    tenant: conn.tenant,
                    connection: conn.id,
                    stream,
                    run: Some(run),
                    records,
                    next_cursor: page.next_cursor.clone(),
                })
                .await?;
            summary.pages += 1;
            summary.created += outcome.created;
            summary.updated += outcome.updated;
            summary.unchanged += outcome.unchanged;
            services.flush().await;
            progress.page_stored(summary);
            if !page.has_more
                || opts
                    .max_pages
                    .is_some_and(|m| summary.pages >= u64::from(m))
            {
                return Ok(());
            }
        }
    }
}

/// A page that could not be read even after its retries. The cursor stays before it, so
/// the next run reads it again and nothing is skipped. The run ends there with what it
/// stored, its failure counted and named, unless nothing could be read at all or the
/// provider refused the credentials: then the source is unusable for now and the run fails.
fn page_failed(
    e: EngineError,
    services: &ConnectionServices,
    stream: &str,
    cursor: Option<&str>,
    summary: &mut ImportSummary,
) -> Result<(), EngineError> {
    let EngineError::Runtime(RuntimeError::Connector(c, plugin)) = &e else {
        return Err(e);
    };
    if matches!(c, ConnectorError::Auth(_)) || summary.pages == 0 {
        return Err(e);
    }
    let reason = format!(
        "a page of stream {stream} could not be read ({plugin} plugin: {}); the next run reads it again",
        c.message()
    );
    summary.failed += 1;
    keep_failure(&mut summary.failures, reason.clone());
    services.note(
        Level::Error,
        "page-failed",
        &reason,
        Some(serde_json::json!({ "stream": stream, "cursor": cursor })),
    );
    Ok(())
}

async fn fetch_with_retry(
    job: &mut Job,
    services: &ConnectionServices,
    req: &FetchRequest,
    attempts: u32,
) -> Result<Page, EngineError> {
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match job.fetch(req).await {
            Ok(page) => return Ok(page),
            Err(RuntimeError::Connector(e, p)) if e.is_retryable() && attempt < attempts => {
                let wait = match &e {
                    ConnectorError::RateLimited(r) => {
                        r.retry_after_ms.map(Duration::from_millis).unwrap_or(delay)
                    }
                    _ => delay,
                }
                .min(Duration::from_secs(30));
                services.note(
                    Level::Warn,
                    "retry",
                    &format!(
                        "fetch attempt {attempt} failed ({p} plugin: {}); retrying in {} ms",
                        e.message(),
                        wait.as_millis()
                    ),
                    None,
                );
                tokio::time::sleep(wait).await;
                delay *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
