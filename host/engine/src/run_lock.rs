//! One run per connection and stream at a time, across processes (R-C-4: pressing
//! "synchronise" again while a run is going must not start a parallel run).
//!
//! The lock lives in the store with an expiry that a heartbeat keeps pushing forward. A host
//! killed mid-run leaves its lock behind; another process on the same machine sees that the
//! holder's process is gone and takes the lock over at once instead of waiting for expiry.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use switchyard_store::{ConnectionId, RunLock, Store};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::error::EngineError;

/// How long a lock lives without a heartbeat.
const TTL: Duration = Duration::from_secs(60);
/// How often a held lock is renewed.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// Who holds a run lock: this machine, this process, and one run of it (so two runs of one
/// host never share a lock).
#[derive(Debug, Clone)]
pub(crate) struct RunHolder {
    machine: String,
    pid: u32,
    nonce: String,
}

impl RunHolder {
    /// A new identity for one run in this process.
    pub(crate) fn new_run() -> RunHolder {
        RunHolder {
            machine: machine_name(),
            pid: std::process::id(),
            nonce: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    fn parse(text: &str) -> Option<RunHolder> {
        let (rest, nonce) = text.rsplit_once('/')?;
        let (machine, pid) = rest.rsplit_once('/')?;
        Some(RunHolder {
            machine: machine.to_owned(),
            pid: pid.parse().ok()?,
            nonce: nonce.to_owned(),
        })
    }

    /// Known to be dead: it ran on this machine and its process is gone.
    fn is_dead(&self) -> bool {
        self.machine == machine_name() && !process_alive(self.pid)
    }
}

impl std::fmt::Display for RunHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.machine, self.pid, self.nonce)
    }
}

fn machine_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().replace('/', "_"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Whether a process of this machine is alive. Where that cannot be told, it is assumed
/// alive, so its lock is only taken once it expires.
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// A run lock held by this host, renewed in the background until released.
pub(crate) struct HeldRunLock {
    store: Store,
    lock: Arc<Mutex<RunLock>>,
    lost: Arc<AtomicBool>,
    heartbeat: JoinHandle<()>,
}

impl HeldRunLock {
    /// Takes the lock of `conn`/`stream`, from a dead holder if need be.
    pub(crate) async fn acquire(
        store: &Store,
        conn: ConnectionId,
        connection_name: &str,
        stream: &str,
    ) -> Result<HeldRunLock, EngineError> {
        let me = RunHolder::new_run().to_string();
        let mut lock = store.try_acquire_run_lock(conn, stream, &me, TTL).await?;
        if lock.is_none() {
            if let Some(current) = store.run_lock(conn, stream).await? {
                if RunHolder::parse(&current.holder).is_some_and(|h| h.is_dead()) {
                    tracing::warn!(
                        connection = connection_name,
                        stream,
                        "taking over the run lock of a host that stopped mid-run"
                    );
                    lock = store.take_over_run_lock(&current, &me, TTL).await?;
                }
            }
        }
        let Some(lock) = lock else {
            let until = store
                .run_lock(conn, stream)
                .await?
                .map(|l| l.expires_at.to_rfc3339());
            return Err(EngineError::RunInProgress {
                connection: connection_name.to_owned(),
                stream: stream.to_owned(),
                until,
            });
        };
        let lock = Arc::new(Mutex::new(lock));
        let lost = Arc::new(AtomicBool::new(false));
        let heartbeat = tokio::spawn({
            let (store, lock, lost) = (store.clone(), lock.clone(), lost.clone());
            async move {
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    let mut held = lock.lock().await;
                    match store.renew_run_lock(&held, TTL).await {
                        Ok(Some(renewed)) => *held = renewed,
                        Ok(None) => {
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                        // A busy database: try again at the next beat; the TTL leaves room.
                        Err(e) => tracing::warn!("renewing run lock: {e}"),
                    }
                }
            }
        });
        Ok(HeldRunLock {
            store: store.clone(),
            lock,
            lost,
            heartbeat,
        })
    }

    /// Fails once the lock was lost (expired and taken by another host): the run must stop
    /// before it writes more.
    pub(crate) fn ensure_held(&self) -> Result<(), EngineError> {
        if self.lost.load(Ordering::SeqCst) {
            return Err(EngineError::RunLockLost);
        }
        Ok(())
    }

    /// Stops the heartbeat and frees the lock.
    pub(crate) async fn release(self) -> Result<(), EngineError> {
        self.heartbeat.abort();
        let held = self.lock.lock().await;
        self.store.release_run_lock(&held).await?;
        Ok(())
    }
}

impl Drop for HeldRunLock {
    /// A run cancelled before `release` stops renewing, so its lock expires instead of being
    /// kept alive by an orphaned heartbeat.
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_round_trips_and_knows_the_living() {
        let me = RunHolder::new_run();
        assert_ne!(
            me.nonce,
            RunHolder::new_run().nonce,
            "every run has its own holder"
        );
        let parsed = RunHolder::parse(&me.to_string()).unwrap();
        assert_eq!(parsed.pid, std::process::id());
        assert_eq!(parsed.nonce, me.nonce);
        assert!(!parsed.is_dead(), "this process is alive");
        let elsewhere = RunHolder {
            machine: "another-machine".into(),
            pid: u32::MAX,
            nonce: "x".into(),
        };
        assert!(
            !elsewhere.is_dead(),
            "another machine's process is never presumed dead"
        );
        if cfg!(target_os = "linux") {
            let gone = RunHolder {
                pid: u32::MAX,
                ..me
            };
            assert!(gone.is_dead());
        }
        assert!(RunHolder::parse("no-separators").is_none());
    }
}
