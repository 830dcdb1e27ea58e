//! Typed identifiers. All are UUIDs stored as TEXT so the schema stays portable.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::StoreError;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random (v4) id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            /// Parses a value read back from the database; a bad value means the row is corrupt.
            pub(crate) fn from_column(text: &str) -> Result<Self, StoreError> {
                text.parse().map_err(|_| {
                    StoreError::Corrupt(format!(concat!("stored ", $what, " id {:?} is not a uuid"), text))
                })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A tenant: the owner of connections, canonical records and logs.
    TenantId,
    "tenant"
);
uuid_id!(
    /// A connection: one tenant's configured link to one provider account.
    ConnectionId,
    "connection"
);
uuid_id!(
    /// A canonical record in the tenant's store.
    CanonicalId,
    "canonical record"
);
uuid_id!(
    /// One run of a flow over one connection and stream.
    RunId,
    "run"
);
uuid_id!(
    /// A flow: a source connection's stream feeding a target connection's stream.
    FlowId,
    "flow"
);
uuid_id!(
    /// A job in the durable queue.
    JobId,
    "job"
);
