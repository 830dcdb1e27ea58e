//! The Minicrm simulator (placeholder until its issue-3 part lands).

use crate::cli::{CommonArgs, Served};
use crate::{FaultConfig, SimError};

/// `switchyard-sim` flags of the Minicrm simulator.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Minicrm")]
pub struct MinicrmArgs {
    /// Serve Minicrm on this port (0 = ephemeral).
    #[arg(long)]
    pub minicrm_port: Option<u16>,
}

impl MinicrmArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.minicrm_port
    }
}

/// Serves Minicrm as the binary's flags say.
pub async fn serve_cli(
    _args: &MinicrmArgs,
    _port: u16,
    _common: &CommonArgs,
    _faults: FaultConfig,
) -> Result<Served, SimError> {
    Err(SimError::InvalidConfig(
        "minicrm is not simulated yet".into(),
    ))
}
