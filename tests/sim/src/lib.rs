//! Provider simulators on 127.0.0.1.
//!
//! Each simulated system is a module with its own state, seeded data generator and HTTP API,
//! served on its own port. What every system shares lives in [`core`]: the running server
//! handle ([`RunningSim`]), fault injection ([`FaultConfig`]), request counting and the
//! shutdown signal.
//!
//! ```no_run
//! # async fn demo() -> Result<(), switchyard_sim::SimError> {
//! use switchyard_sim::pressero::{spawn_pressero, PresseroConfig};
//! let sim = spawn_pressero(PresseroConfig { orders: 1000, ..PresseroConfig::default() }).await?;
//! println!("{}", sim.base_url()); // http://127.0.0.1:PORT/api/
//! sim.touch_order(1005)?;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod cli;
pub mod clock;
pub mod core;
mod error;
pub mod mailchimp;
pub mod minicrm;
pub mod mplus;
pub mod mpower;
pub mod pressero;
pub mod presswise;
pub mod request;
pub mod shoprenter;

pub use crate::core::{FaultConfig, FaultStats, RunningSim, SimCore, Simulator};
pub use error::SimError;
