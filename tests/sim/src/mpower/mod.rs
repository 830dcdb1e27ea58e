//! The Mpower simulator (placeholder until its issue-3 part lands).

use crate::cli::{CommonArgs, Served};
use crate::{FaultConfig, SimError};

/// `switchyard-sim` flags of the Mpower simulator.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Mpower")]
pub struct MpowerArgs {
    /// Serve Mpower on this port (0 = ephemeral).
    #[arg(long)]
    pub mpower_port: Option<u16>,
}

impl MpowerArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.mpower_port
    }
}

/// Serves Mpower as the binary's flags say.
pub async fn serve_cli(
    _args: &MpowerArgs,
    _port: u16,
    _common: &CommonArgs,
    _faults: FaultConfig,
) -> Result<Served, SimError> {
    Err(SimError::InvalidConfig(
        "mpower is not simulated yet".into(),
    ))
}
