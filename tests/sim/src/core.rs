//! What every simulated system shares: the running server, fault injection, request counting.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::SimError;

/// Faults a system injects into its API answers (never into `/_control/`).
///
/// Rates are probabilities in `0.0..=1.0`, drawn from a generator seeded by the system's seed,
/// so a run with the same requests in the same order sees the same faults. `*_next` counters
/// fault exactly the next N requests and then clear themselves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Share of requests answered with a 500 (JSON error) or a 503 (bare HTML, as a gateway would).
    pub error_rate: f64,
    /// Answer the next N requests with a 5xx.
    pub fail_next: u32,
    /// After every `throttle_every` admitted requests, answer the next `throttle_burst` with 429.
    pub throttle_every: u64,
    /// Length of each periodic 429 burst (with `throttle_every`).
    pub throttle_burst: u32,
    /// Answer the next N requests with 429 (a one-off burst).
    pub throttle_next: u32,
    /// The `Retry-After` header of a 429, in seconds.
    pub retry_after_secs: u32,
    /// Latency added to every request before it is handled.
    pub latency_ms: u64,
    /// Share of requests accepted and never answered (until the simulator shuts down).
    pub timeout_rate: f64,
    /// Never answer the next N requests.
    pub timeout_next: u32,
    /// Share of successful answers whose JSON is cut in half (a complete HTTP message with an
    /// invalid body).
    pub malformed_rate: f64,
    /// Share of successful answers that announce the full `Content-Length` and break the
    /// connection half-way through the body.
    pub truncated_rate: f64,
    /// When set, faults apply only to endpoints whose key contains this text (case-insensitive),
    /// e.g. `orders/search`.
    pub scope: Option<String>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            error_rate: 0.0,
            fail_next: 0,
            throttle_every: 0,
            throttle_burst: 0,
            throttle_next: 0,
            retry_after_secs: 1,
            latency_ms: 0,
            timeout_rate: 0.0,
            timeout_next: 0,
            malformed_rate: 0.0,
            truncated_rate: 0.0,
            scope: None,
        }
    }
}

impl FaultConfig {
    /// Sets one field from its name (as in JSON, `-` or `_`) and a textual value, as the
    /// command line's `--fault SYSTEM:KEY=VALUE` does.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SimError> {
        let bad = || SimError::InvalidFault(format!("{key}={value}"));
        let rate = || -> Result<f64, SimError> {
            let r: f64 = value.parse().map_err(|_| bad())?;
            if (0.0..=1.0).contains(&r) {
                Ok(r)
            } else {
                Err(bad())
            }
        };
        match key.replace('-', "_").as_str() {
            "error_rate" => self.error_rate = rate()?,
            "fail_next" => self.fail_next = value.parse().map_err(|_| bad())?,
            "throttle_every" => self.throttle_every = value.parse().map_err(|_| bad())?,
            "throttle_burst" => self.throttle_burst = value.parse().map_err(|_| bad())?,
            "throttle_next" => self.throttle_next = value.parse().map_err(|_| bad())?,
            "retry_after_secs" => self.retry_after_secs = value.parse().map_err(|_| bad())?,
            "latency_ms" => self.latency_ms = value.parse().map_err(|_| bad())?,
            "timeout_rate" => self.timeout_rate = rate()?,
            "timeout_next" => self.timeout_next = value.parse().map_err(|_| bad())?,
            "malformed_rate" => self.malformed_rate = rate()?,
            "truncated_rate" => self.truncated_rate = rate()?,
            "scope" => self.scope = Some(value.to_owned()),
            _ => return Err(bad()),
        }
        Ok(())
    }

    /// Checks that every rate is a probability.
    pub fn validate(&self) -> Result<(), SimError> {
        for (name, r) in [
            ("error_rate", self.error_rate),
            ("timeout_rate", self.timeout_rate),
            ("malformed_rate", self.malformed_rate),
            ("truncated_rate", self.truncated_rate),
        ] {
            if !(0.0..=1.0).contains(&r) {
                return Err(SimError::InvalidFault(format!("{name}={r}")));
            }
        }
        Ok(())
    }
}

/// How many faults a system has injected, and how many requests it admitted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultStats {
    /// API requests seen (control requests excluded).
    pub requests: u64,
    /// 5xx answers injected.
    pub server_errors: u64,
    /// 429 answers injected.
    pub throttled: u64,
    /// Requests left unanswered.
    pub timeouts: u64,
    /// Bodies cut to invalid JSON.
    pub malformed: u64,
    /// Bodies broken off mid-transfer.
    pub truncated: u64,
    /// Requests delayed by `latency_ms`.
    pub delayed: u64,
}

/// The fault decided for a request before it is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PreFault {
    None,
    Throttle { retry_after_secs: u32 },
    ServerError { status: u16 },
    Timeout,
}

/// The fault decided for a successful answer's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyFault {
    None,
    Malformed,
    Truncated,
}

/// The verdict for one admitted request; keeps the request counted as in flight while alive.
pub(crate) struct Admission<'a> {
    pub pre: PreFault,
    pub body: BodyFault,
    core: &'a SimCore,
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.core.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

struct FaultState {
    config: FaultConfig,
    rng: StdRng,
    seed: u64,
    admitted: u64,
    stats: FaultStats,
}

/// The part of a simulator that does not depend on the system: faults, counters, shutdown.
pub struct SimCore {
    faults: Mutex<FaultState>,
    requests: Mutex<BTreeMap<String, u64>>,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    shutdown: watch::Sender<bool>,
}

/// Locks a mutex even if a panicking test poisoned it; the data stays usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SimCore {
    /// A core whose fault decisions are seeded by `seed`.
    pub fn new(seed: u64, faults: FaultConfig) -> Self {
        SimCore {
            faults: Mutex::new(FaultState {
                config: faults,
                rng: StdRng::seed_from_u64(seed ^ 0xFA17_FA17),
                seed,
                admitted: 0,
                stats: FaultStats::default(),
            }),
            requests: Mutex::new(BTreeMap::new()),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            shutdown: watch::Sender::new(false),
        }
    }

    /// Replaces the fault configuration.
    pub fn set_faults(&self, config: FaultConfig) -> Result<(), SimError> {
        config.validate()?;
        let mut f = lock(&self.faults);
        f.config = config;
        // Periodic bursts count from the moment the setting is made.
        f.admitted = 0;
        Ok(())
    }

    /// Changes the fault configuration in place, e.g. `core.update_faults(|f| f.throttle_next = 3)`.
    pub fn update_faults(&self, change: impl FnOnce(&mut FaultConfig)) {
        change(&mut lock(&self.faults).config);
    }

    /// The current fault configuration.
    pub fn faults(&self) -> FaultConfig {
        lock(&self.faults).config.clone()
    }

    /// Faults injected so far.
    pub fn fault_stats(&self) -> FaultStats {
        lock(&self.faults).stats.clone()
    }

    /// How many requests reached an endpoint, by its key such as
    /// `POST /api/v2/orders/search` (compared case-insensitively).
    pub fn request_count(&self, endpoint: &str) -> u64 {
        let wanted = endpoint.trim().to_ascii_lowercase();
        lock(&self.requests).get(&wanted).copied().unwrap_or(0)
    }

    /// Requests seen per endpoint key.
    pub fn requests_seen(&self) -> BTreeMap<String, u64> {
        lock(&self.requests).clone()
    }

    /// The highest number of API requests in flight at once.
    pub fn max_concurrency(&self) -> u64 {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Clears counters, statistics and faults, and reseeds the fault generator.
    pub fn reset(&self) {
        let mut f = lock(&self.faults);
        let seed = f.seed;
        *f = FaultState {
            config: FaultConfig::default(),
            rng: StdRng::seed_from_u64(seed ^ 0xFA17_FA17),
            seed,
            admitted: 0,
            stats: FaultStats::default(),
        };
        lock(&self.requests).clear();
        self.max_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Counts a request to `endpoint` and decides its faults; waits out the added latency.
    pub(crate) async fn admit(&self, endpoint: &str) -> Admission<'_> {
        *lock(&self.requests)
            .entry(endpoint.to_ascii_lowercase())
            .or_insert(0) += 1;
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let (pre, body, latency) = self.decide(endpoint);
        let admission = Admission {
            pre,
            body,
            core: self,
        };
        if latency > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
        }
        admission
    }

    fn decide(&self, endpoint: &str) -> (PreFault, BodyFault, u64) {
        let mut f = lock(&self.faults);
        let f = &mut *f;
        f.stats.requests += 1;
        if let Some(scope) = &f.config.scope {
            if !endpoint
                .to_ascii_lowercase()
                .contains(&scope.to_ascii_lowercase())
            {
                return (PreFault::None, BodyFault::None, 0);
            }
        }
        f.admitted += 1;
        let c = &mut f.config;
        // Draw every roll each time so one setting does not shift another's sequence.
        let rolls: [f64; 4] = [
            f.rng.random(),
            f.rng.random(),
            f.rng.random(),
            f.rng.random(),
        ];
        let latency = c.latency_ms;
        if latency > 0 {
            f.stats.delayed += 1;
        }
        let periodic_429 = c.throttle_every > 0 && c.throttle_burst > 0 && {
            let cycle = c.throttle_every + u64::from(c.throttle_burst);
            (f.admitted - 1) % cycle >= c.throttle_every
        };
        let pre = if c.timeout_next > 0 || rolls[0] < c.timeout_rate {
            c.timeout_next = c.timeout_next.saturating_sub(1);
            f.stats.timeouts += 1;
            PreFault::Timeout
        } else if c.throttle_next > 0 || periodic_429 {
            c.throttle_next = c.throttle_next.saturating_sub(1);
            f.stats.throttled += 1;
            PreFault::Throttle {
                retry_after_secs: c.retry_after_secs,
            }
        } else if c.fail_next > 0 || rolls[1] < c.error_rate {
            c.fail_next = c.fail_next.saturating_sub(1);
            f.stats.server_errors += 1;
            PreFault::ServerError {
                status: if rolls[1] < c.error_rate / 2.0 {
                    503
                } else {
                    500
                },
            }
        } else {
            PreFault::None
        };
        let body = if pre != PreFault::None {
            BodyFault::None
        } else if rolls[2] < c.malformed_rate {
            BodyFault::Malformed
        } else if rolls[3] < c.truncated_rate {
            BodyFault::Truncated
        } else {
            BodyFault::None
        };
        (pre, body, latency)
    }

    /// Records the body fault actually applied (only successful answers get one).
    fn count_body_fault(&self, fault: BodyFault) {
        let mut f = lock(&self.faults);
        match fault {
            BodyFault::Malformed => f.stats.malformed += 1,
            BodyFault::Truncated => f.stats.truncated += 1,
            BodyFault::None => {}
        }
    }

    /// Never returns before the simulator shuts down: the "timeout" fault.
    pub(crate) async fn hang(&self) {
        let mut rx = self.shutdown.subscribe();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                break;
            }
        }
    }

    /// Applies a body fault to a successful answer.
    pub(crate) async fn shape_body(&self, response: Response, fault: BodyFault) -> Response {
        if fault == BodyFault::None || !response.status().is_success() {
            return response;
        }
        let (mut parts, body) = response.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
            return Response::from_parts(parts, Body::empty());
        };
        if bytes.len() < 2 {
            return Response::from_parts(parts, Body::from(bytes));
        }
        self.count_body_fault(fault);
        let half = bytes.slice(..bytes.len() / 2);
        match fault {
            BodyFault::Malformed => {
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, half.len().into());
                Response::from_parts(parts, Body::from(half))
            }
            BodyFault::Truncated => {
                // Announce the whole length, send half, then fail the body: hyper closes the
                // connection and the client sees an incomplete message.
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
                // The pause lets hyper flush the headers and first half before the failure
                // tears the connection down.
                // States: 0 = send the half, 1 = fail, 2 = done.
                let stream =
                    futures_util::stream::unfold((0u8, half), |(state, half)| async move {
                        match state {
                            0 => Some((Ok::<_, std::io::Error>(half.clone()), (1, half))),
                            1 => {
                                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                                let cut = std::io::Error::new(
                                    std::io::ErrorKind::ConnectionAborted,
                                    "simulated truncation",
                                );
                                Some((Err(cut), (2, half)))
                            }
                            _ => None,
                        }
                    });
                Response::from_parts(parts, Body::from_stream(stream))
            }
            BodyFault::None => unreachable!("handled above"),
        }
    }
}

/// A simulated system: it owns a [`SimCore`] and serves its API under a base path.
pub trait Simulator: Send + Sync + 'static {
    /// The path the system's API lives under, e.g. `/api/`.
    const BASE_PATH: &'static str;
    /// The shared part.
    fn core(&self) -> &SimCore;
}

/// A simulator serving on 127.0.0.1. Dereferences to the system's state handle, so test code
/// calls e.g. `sim.touch_order(1001)` directly. Dropping it stops the server abruptly; call
/// [`RunningSim::shutdown`] to stop gracefully.
pub struct RunningSim<S: Simulator> {
    addr: SocketAddr,
    sim: Arc<S>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl<S: Simulator> RunningSim<S> {
    /// Binds `127.0.0.1:port` (0 = ephemeral) and serves `router`.
    pub(crate) async fn serve(sim: Arc<S>, port: u16, router: Router) -> Result<Self, SimError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { addr, source })?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = server.await {
                eprintln!("simulator on {addr} stopped: {e}");
            }
        });
        Ok(RunningSim {
            addr,
            sim,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The API's base URL, e.g. `http://127.0.0.1:PORT/api/`.
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, S::BASE_PATH)
    }

    /// The control API's base URL, `http://127.0.0.1:PORT/_control/`.
    pub fn control_url(&self) -> String {
        format!("http://{}/_control/", self.addr)
    }

    /// The system's state handle (also reachable through `Deref`).
    pub fn sim(&self) -> &Arc<S> {
        &self.sim
    }

    /// Stops accepting, releases requests held by the timeout fault, and waits for the
    /// server to finish.
    pub async fn shutdown(mut self) {
        self.sim.core().shutdown.send_replace(true);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl<S: Simulator> std::ops::Deref for RunningSim<S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.sim
    }
}

impl<S: Simulator> Drop for RunningSim<S> {
    fn drop(&mut self) {
        self.sim.core().shutdown.send_replace(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
