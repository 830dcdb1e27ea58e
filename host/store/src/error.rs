//! Typed errors. None of them ever carries a secret value or a key.

use std::io;
use std::path::PathBuf;

use crate::ids::ConnectionId;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed an operation.
    #[error("database error while {context}: {source}")]
    Database {
        /// What the store was doing, e.g. "reading connection 1f…".
        context: String,
        /// The driver's error (carries no bound parameter values).
        #[source]
        source: sqlx::Error,
    },
    /// The embedded migrations could not be applied.
    #[error("applying database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A uniqueness rule was broken, e.g. a second connection with the same name in a tenant.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The named thing does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The caller passed something the store does not accept.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The stored secrets do not decrypt under the configured key.
    #[error("secrets cannot be decrypted: wrong key (connection {connection})")]
    WrongKey {
        /// Whose secrets failed to decrypt.
        connection: ConnectionId,
    },
    /// A stored value could not be read back (bad uuid, bad JSON, unknown enum value).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Wraps a driver error with what the store was doing.
    pub(crate) fn db(context: impl Into<String>, source: sqlx::Error) -> Self {
        StoreError::Database {
            context: context.into(),
            source,
        }
    }
}

/// Adds store context to driver results.
pub(crate) trait DbContext<T> {
    /// Maps the driver error into [`StoreError::Database`] with `context`.
    fn context(self, context: impl Into<String>) -> Result<T, StoreError>;
}

impl<T> DbContext<T> for Result<T, sqlx::Error> {
    fn context(self, context: impl Into<String>) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::db(context, e))
    }
}

/// True when the driver error is a UNIQUE / PRIMARY KEY violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// True when the driver error is a FOREIGN KEY violation.
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

/// Why a [`crate::SecretKey`] could not be loaded or created.
///
/// Messages name where the key came from, never any of its bytes.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Neither `SWITCHYARD_SECRET_KEY` nor `SWITCHYARD_SECRET_KEY_FILE` is set.
    #[error(
        "no secret key configured: set SWITCHYARD_SECRET_KEY (base64 of 32 bytes) \
         or SWITCHYARD_SECRET_KEY_FILE (path of a file holding it)"
    )]
    Missing,
    /// The key text is not base64.
    #[error("secret key from {origin} is not valid base64")]
    NotBase64 {
        /// Where the key came from, e.g. "SWITCHYARD_SECRET_KEY" or a file path.
        origin: String,
    },
    /// The key decodes to the wrong number of bytes.
    #[error("secret key from {origin} has {len} bytes, expected 32")]
    WrongLength {
        /// Where the key came from.
        origin: String,
        /// How many bytes it decoded to.
        len: usize,
    },
    /// The key file could not be read or written.
    #[error("secret key file {}: {source}", path.display())]
    Io {
        /// The key file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
}
