//! The Shoprenter simulator (placeholder until its issue-3 part lands).

use crate::cli::{CommonArgs, Served};
use crate::{FaultConfig, SimError};

/// `switchyard-sim` flags of the Shoprenter simulator.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Shoprenter")]
pub struct ShoprenterArgs {
    /// Serve Shoprenter on this port (0 = ephemeral).
    #[arg(long)]
    pub shoprenter_port: Option<u16>,
}

impl ShoprenterArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.shoprenter_port
    }
}

/// Serves Shoprenter as the binary's flags say.
pub async fn serve_cli(
    _args: &ShoprenterArgs,
    _port: u16,
    _common: &CommonArgs,
    _faults: FaultConfig,
) -> Result<Served, SimError> {
    Err(SimError::InvalidConfig(
        "shoprenter is not simulated yet".into(),
    ))
}
