use std::net::SocketAddr;

/// What can go wrong when starting or driving a simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listening socket could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An order number that the simulator does not hold.
    #[error("unknown order {0}")]
    UnknownOrder(u64),
    /// An order item that the order does not hold.
    #[error("order {order} has no item {item}")]
    UnknownOrderItem {
        /// The order number.
        order: u64,
        /// The item reference as given.
        item: String,
    },
    /// A catalogue product that the simulator does not hold.
    #[error("unknown product {0}")]
    UnknownProduct(u64),
    /// A fault setting that is not known or whose value does not parse.
    #[error("invalid fault setting `{0}`")]
    InvalidFault(String),
    /// A configuration value that cannot be used.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}
