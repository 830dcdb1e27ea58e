use switchyard_runtime::RuntimeError;
use switchyard_store::StoreError;

/// Why a flow could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no plugin is loaded for provider `{0}`")]
    NoPlugin(String),
    #[error("stream `{stream}` is not a source stream of the {provider} plugin")]
    UnknownStream { provider: String, stream: String },
    #[error("connection `{0}` is not live: nothing flows until it is switched Live")]
    NotLive(String),
    #[error("flow `{0}` is not live: nothing flows until it is switched Live")]
    FlowNotLive(String),
    #[error("flow `{flow}`: {reason}")]
    FlowSettings { flow: String, reason: String },
    #[error("stream `{stream}` is not a target stream of the {provider} plugin")]
    NotATargetStream { provider: String, stream: String },
    #[error("{connection} refused the push: {message}; the run stopped (fix the credentials, then run it again)")]
    TargetRefused { connection: String, message: String },
    #[error("no flow has order `{order}`{}", .service.as_ref().map(|s| format!(" with service `{s}`")).unwrap_or_default())]
    UnknownOrder {
        order: String,
        service: Option<String>,
    },
    #[error("setting `{name}`: {reason}")]
    Setting { name: String, reason: String },
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("http capability: {0}")]
    Http(#[from] switchyard_http::HttpError),
    #[error("{0}")]
    Canonical(String),
    /// An order request cannot be matched, decided or converted as asked.
    #[error("{0}")]
    Inbox(String),
    #[error("a run of `{connection}` / {stream} is already in progress{}; it was not started again", .until.as_ref().map(|u| format!(" (its lock holds until {u} unless renewed)")).unwrap_or_default())]
    RunInProgress {
        connection: String,
        stream: String,
        until: Option<String>,
    },
    #[error(
        "the run lost its lock (not renewed in time) and stopped so that no other run overlaps it"
    )]
    RunLockLost,
}

impl EngineError {
    /// Whether nothing else of a flow can run after this: storage, credentials refused, a
    /// run already going, a missing plugin or bad settings. A provider that did not answer
    /// or answered badly is the failure of one step (or one record), and the flow goes on.
    pub fn stops_flow(&self) -> bool {
        use switchyard_runtime::bindings::ConnectorError;
        match self {
            EngineError::Runtime(RuntimeError::Connector(c, _)) => {
                matches!(c, ConnectorError::Auth(_))
            }
            EngineError::Runtime(_) | EngineError::Canonical(_) => false,
            _ => true,
        }
    }
}
