use std::path::PathBuf;

use crate::bindings::ConnectorError;

/// Why a plugin file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("cannot read plugin file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid wasm component: {reason}")]
    InvalidComponent { path: PathBuf, reason: String },
    #[error(
        "{path} does not fit the world switchyard:connector/plugin@0.1.0 (it must export switchyard:connector/connector@0.1.0 and import only what the host offers): {reason}"
    )]
    WrongWorld { path: PathBuf, reason: String },
    #[error("{path}: describe failed: {reason}")]
    Describe { path: PathBuf, reason: String },
    #[error("{path}: manifest is unusable: {reason}")]
    BadManifest { path: PathBuf, reason: String },
}

/// Why a call into a plugin failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The plugin answered with its own typed error.
    #[error("{provider} plugin: {message}", provider = .1, message = .0.message())]
    Connector(ConnectorError, String),
    #[error(
        "{provider} plugin: `{call}` exceeded its deadline of {deadline_ms} ms and was stopped"
    )]
    Deadline {
        provider: String,
        call: &'static str,
        deadline_ms: u64,
    },
    #[error("{provider} plugin: `{call}` ran out of fuel ({fuel} units) and was stopped")]
    OutOfFuel {
        provider: String,
        call: &'static str,
        fuel: u64,
    },
    #[error("{provider} plugin: `{call}` tried to use more than its memory limit of {limit_bytes} bytes and was stopped")]
    MemoryLimit {
        provider: String,
        call: &'static str,
        limit_bytes: usize,
    },
    #[error("{provider} plugin: `{call}` trapped: {message}")]
    Trap {
        provider: String,
        call: &'static str,
        message: String,
    },
    #[error("{provider} plugin: the instance was stopped by an earlier failure and cannot be called again")]
    Poisoned { provider: String },
    #[error("cannot instantiate {provider} plugin: {message}")]
    Instantiate { provider: String, message: String },
    #[error("runtime setup failed: {0}")]
    Setup(String),
}

impl RuntimeError {
    /// The connector's own error, when the plugin answered with one.
    pub fn connector_error(&self) -> Option<&ConnectorError> {
        match self {
            RuntimeError::Connector(e, _) => Some(e),
            _ => None,
        }
    }
}
