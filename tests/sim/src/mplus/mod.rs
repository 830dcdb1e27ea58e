//! The Mplus simulator (placeholder until its issue-3 part lands).

use crate::cli::{CommonArgs, Served};
use crate::{FaultConfig, SimError};

/// `switchyard-sim` flags of the Mplus simulator.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Mplus")]
pub struct MplusArgs {
    /// Serve Mplus on this port (0 = ephemeral).
    #[arg(long)]
    pub mplus_port: Option<u16>,
}

impl MplusArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.mplus_port
    }
}

/// Serves Mplus as the binary's flags say.
pub async fn serve_cli(
    _args: &MplusArgs,
    _port: u16,
    _common: &CommonArgs,
    _faults: FaultConfig,
) -> Result<Served, SimError> {
    Err(SimError::InvalidConfig("mplus is not simulated yet".into()))
}
