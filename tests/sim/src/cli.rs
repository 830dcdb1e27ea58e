//! What the `switchyard-sim` binary shares between systems: the common data flags, fault
//! flags and the handle of a served system.

use std::future::Future;
use std::pin::Pin;

use crate::clock::{parse_timestamp, Millis};
use crate::core::{RunningSim, Simulator};
use crate::{FaultConfig, SimError};

/// Every system the binary can serve, by the name used in flags and in the printed JSON.
pub const SYSTEMS: &[&str] = &[
    "pressero",
    "presswise",
    "mpower",
    "shoprenter",
    "minicrm",
    "mailchimp",
    "mplus",
];

/// Data flags every system's generator reads.
#[derive(Clone, Debug, clap::Args)]
pub struct CommonArgs {
    /// Seed of the generated data and of fault decisions: same seed, same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of generated orders per system.
    #[arg(long, default_value_t = 1000)]
    pub orders: usize,
    /// Number of generated customers/users/contacts (default: orders / 4, 20..=10000).
    #[arg(long)]
    pub customers: Option<usize>,
    /// Number of generated products (default: each system's own, at most 10000).
    #[arg(long)]
    pub products: Option<usize>,
    /// Date of the first generated order (RFC 3339).
    #[arg(long, default_value = "2026-01-01T00:00:00Z")]
    pub base_time: String,
}

impl CommonArgs {
    /// `--customers`, or orders / 4 clamped to 20..=10000.
    pub fn customer_count(&self) -> usize {
        self.customers
            .unwrap_or((self.orders / 4).clamp(20, 10_000))
            .max(1)
    }

    /// `--base-time` as milliseconds since the epoch.
    pub fn base_millis(&self) -> Result<Millis, SimError> {
        parse_timestamp(&self.base_time).ok_or_else(|| {
            SimError::InvalidConfig(format!("--base-time `{}` is not RFC 3339", self.base_time))
        })
    }
}

/// The faults given for `system` by `--fault SYSTEM:KEY=VALUE` flags.
pub fn faults_for(system: &str, specs: &[String]) -> Result<FaultConfig, SimError> {
    let mut faults = FaultConfig::default();
    for spec in specs {
        let bad = || {
            SimError::InvalidFault(format!(
                "{spec} (expected SYSTEM:KEY=VALUE with SYSTEM one of: {})",
                SYSTEMS.join(", ")
            ))
        };
        let (sys, kv) = spec.split_once(':').ok_or_else(bad)?;
        if !SYSTEMS.contains(&sys) {
            return Err(bad());
        }
        let (k, v) = kv.split_once('=').ok_or_else(bad)?;
        if sys == system {
            faults.set(k, v)?;
        }
    }
    Ok(faults)
}

/// A system being served by the binary: its name, base URL, and how to stop it.
pub struct Served {
    /// The system's name, one of [`SYSTEMS`].
    pub system: &'static str,
    /// The API's base URL.
    pub base_url: String,
    stop: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Served {
    /// Wraps a running simulator.
    pub fn new<S: Simulator>(system: &'static str, sim: RunningSim<S>) -> Served {
        Served {
            system,
            base_url: sim.base_url(),
            stop: Box::pin(sim.shutdown()),
        }
    }

    /// Stops the simulator gracefully.
    pub async fn shutdown(self) {
        self.stop.await
    }
}
