//! Crash points for recovery tests: `SWITCHYARD_CRASH_AT=before-send:3` makes the process
//! kill itself with SIGKILL the third time a push reaches `before-send`, exactly as an
//! operator's `kill -9` or the OOM killer would. Unset (always, in production), a crash point
//! costs one relaxed atomic load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// The environment variable naming the crash point and its hit count.
pub const CRASH_AT_ENV: &str = "SWITCHYARD_CRASH_AT";

/// The points a push passes: the record is `sending`, nothing sent yet; the target answered,
/// nothing recorded yet; the answer is recorded.
pub const POINTS: [&str; 3] = ["before-send", "after-send", "after-record"];

struct Armed {
    point: String,
    at: u64,
    hits: Mutex<HashMap<String, u64>>,
}

static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
static ANY: AtomicBool = AtomicBool::new(true);

fn armed() -> Option<&'static Armed> {
    ARMED
        .get_or_init(|| {
            let spec = std::env::var(CRASH_AT_ENV).ok()?;
            let (point, at) = spec.split_once(':').unwrap_or((spec.as_str(), "1"));
            let at = at.parse().ok().filter(|n| *n > 0)?;
            POINTS.contains(&point).then(|| Armed {
                point: point.to_string(),
                at,
                hits: Mutex::new(HashMap::new()),
            })
        })
        .as_ref()
}

/// Passes the crash point `point`.
pub fn reached(point: &str) {
    if !ANY.load(Ordering::Relaxed) {
        return;
    }
    let Some(armed) = armed() else {
        ANY.store(false, Ordering::Relaxed);
        return;
    };
    if armed.point != point {
        return;
    }
    let mut hits = armed.hits.lock().unwrap_or_else(|e| e.into_inner());
    let n = hits.entry(point.to_string()).or_insert(0);
    *n += 1;
    if *n == armed.at {
        eprintln!(
            "switchyard: crash point {point} reached ({} time); killing the process",
            armed.at
        );
        // SAFETY: kill(2) on our own pid; no memory is touched.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}
