//! The Mailchimp simulator (placeholder until its issue-3 part lands).

use crate::cli::{CommonArgs, Served};
use crate::{FaultConfig, SimError};

/// `switchyard-sim` flags of the Mailchimp simulator.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Mailchimp")]
pub struct MailchimpArgs {
    /// Serve Mailchimp on this port (0 = ephemeral).
    #[arg(long)]
    pub mailchimp_port: Option<u16>,
}

impl MailchimpArgs {
    /// The port asked for, if any.
    pub fn port(&self) -> Option<u16> {
        self.mailchimp_port
    }
}

/// Serves Mailchimp as the binary's flags say.
pub async fn serve_cli(
    _args: &MailchimpArgs,
    _port: u16,
    _common: &CommonArgs,
    _faults: FaultConfig,
) -> Result<Served, SimError> {
    Err(SimError::InvalidConfig(
        "mailchimp is not simulated yet".into(),
    ))
}
