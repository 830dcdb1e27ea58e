//! The life of a run, written once: once the run lock is held, runs left `running` by a host
//! that died are closed, the new run is started, and at the end its outcome is recorded —
//! without ever letting a failure to record the end hide why the run itself failed.

use switchyard_store::{ConnectionId, RunCounts, RunId, RunOutcome, RunStatus};

use crate::error::EngineError;
use crate::Switchyard;

impl Switchyard {
    /// Starts a run of `conn`/`stream` (the caller holds its run lock). A run still marked
    /// running there belongs to a host that stopped mid-run: it is closed with `abandoned`.
    pub(crate) async fn open_run(
        &self,
        conn: ConnectionId,
        stream: &str,
        label: &str,
        abandoned: &str,
    ) -> Result<RunId, EngineError> {
        self.store()
            .abandon_running_runs(conn, stream, abandoned)
            .await?;
        Ok(self.store().start_run(conn, stream, Some(label)).await?)
    }

    /// Records how a run ended and passes its result on. A run that went on past failed
    /// records succeeds with `failures` as its note (they are on their records and retried
    /// later); a run that could not go on fails with its error. If the end cannot be
    /// recorded (the disk is full, say), the run's own error is what the caller gets.
    pub(crate) async fn close_run<T>(
        &self,
        run: RunId,
        result: Result<T, EngineError>,
        counts: RunCounts,
        failures: Option<String>,
    ) -> Result<T, EngineError> {
        let outcome = match &result {
            Ok(_) => RunOutcome {
                status: RunStatus::Succeeded,
                counts,
                error: failures,
            },
            Err(e) => RunOutcome::failed(counts, e.to_string()),
        };
        match (self.store().finish_run(run, outcome).await, result) {
            (Ok(()), result) => result,
            (Err(finish), Err(original)) => {
                tracing::error!(%run, error = %finish, "the end of the failed run could not be recorded");
                Err(original)
            }
            (Err(finish), Ok(_)) => Err(finish.into()),
        }
    }
}
