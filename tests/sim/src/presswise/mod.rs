//! The Presswise simulator (placeholder until its issue-3 part lands).

use crate::cli::{CommonArgs, Served};
use crate::{FaultConfig, SimError};

/// `switchyard-sim` flags of the Presswise simulator.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Presswise")]
pub struct PresswiseArgs {
    /// Serve Presswise on this port (0 = ephemeral).
    #[arg(long)]
    pub presswise_port: Option<u16>,
}

impl PresswiseArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.presswise_port
    }
}

/// Serves Presswise as the binary's flags say.
pub async fn serve_cli(
    _args: &PresswiseArgs,
    _port: u16,
    _common: &CommonArgs,
    _faults: FaultConfig,
) -> Result<Served, SimError> {
    Err(SimError::InvalidConfig(
        "presswise is not simulated yet".into(),
    ))
}
