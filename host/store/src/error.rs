//! Typed errors. None of them ever carries a secret value or a key.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

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
    /// The database file itself cannot be used: the disk is full, the file is not writable,
    /// the disk failed, the file cannot be opened or is not (or no longer) a database.
    /// Unlike [`StoreError::Database`] this is not about one statement: nothing will be
    /// stored until a person fixes the file or the disk, so the message says which file and
    /// why in words.
    #[error("{database} {fault} (while {context})")]
    Storage {
        /// Which database: the file, or the in-memory one.
        database: DatabaseName,
        /// What is wrong with it.
        fault: StorageFault,
        /// What the store was doing.
        context: String,
        /// The driver's error, with SQLite's (extended) result code.
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
    /// Wraps a driver error with what the store was doing; a fault of the storage itself
    /// (disk full, not writable, I/O error, cannot open, corrupt) becomes
    /// [`StoreError::Storage`], naming the database (see [`open_databases`] for how).
    pub(crate) fn db(context: impl Into<String>, source: sqlx::Error) -> Self {
        Self::db_in(None, context, source)
    }

    /// As [`StoreError::db`], for a caller that knows which database it used.
    pub(crate) fn db_in(
        database: Option<&DatabaseName>,
        context: impl Into<String>,
        source: sqlx::Error,
    ) -> Self {
        match StorageFault::of(&source) {
            Some(fault) => StoreError::Storage {
                database: database.cloned().unwrap_or_else(the_open_database),
                fault,
                context: context.into(),
                source,
            },
            None => StoreError::Database {
                context: context.into(),
                source,
            },
        }
    }

    /// The storage fault behind this error, if it is one: the caller cannot go on storing
    /// anything until a person fixes the disk or the file (the CLI exits with its own code).
    pub fn storage_fault(&self) -> Option<StorageFault> {
        match self {
            StoreError::Storage { fault, .. } => Some(*fault),
            _ => None,
        }
    }
}

/// What is wrong with the database file, from SQLite's result code.
///
/// Only faults of the storage are classified; a constraint, a busy lock or a bad statement
/// is not one (it stays [`StoreError::Database`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFault {
    /// SQLITE_FULL (13): the disk (or the file system's quota) is full.
    DiskFull,
    /// SQLITE_READONLY (8) and its extended codes: the file cannot be written (permissions,
    /// an immutable file, a read-only file system, a file moved away while open).
    ReadOnly {
        /// SQLite's extended result code, which says more (e.g. 1032 = moved while open).
        code: i32,
    },
    /// SQLITE_IOERR (10) and its extended codes: the operating system failed a read, a
    /// write, a sync or a lock.
    Io {
        /// SQLite's extended result code (e.g. 778 = a write failed).
        code: i32,
    },
    /// SQLITE_CANTOPEN (14): the file or its directory cannot be opened.
    CannotOpen {
        /// SQLite's extended result code.
        code: i32,
    },
    /// SQLITE_CORRUPT (11): the file is damaged.
    Corrupt,
    /// SQLITE_NOTADB (26): the file is not a SQLite database (or is encrypted).
    NotADatabase,
}

impl StorageFault {
    /// Classifies an (extended) SQLite result code.
    pub fn from_code(code: i32) -> Option<StorageFault> {
        // The primary code is the low byte; the extended code adds detail above it.
        match code & 0xff {
            13 => Some(StorageFault::DiskFull),
            8 => Some(StorageFault::ReadOnly { code }),
            10 => Some(StorageFault::Io { code }),
            14 => Some(StorageFault::CannotOpen { code }),
            11 => Some(StorageFault::Corrupt),
            26 => Some(StorageFault::NotADatabase),
            _ => None,
        }
    }

    /// Classifies a driver error; `None` when it is not a fault of the storage.
    pub fn of(error: &sqlx::Error) -> Option<StorageFault> {
        match error {
            sqlx::Error::Database(db) => db
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .and_then(StorageFault::from_code),
            _ => None,
        }
    }
}

impl fmt::Display for StorageFault {
    /// Follows "the database file X": e.g. "cannot be written: disk full".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            StorageFault::DiskFull => f.write_str("cannot be written: disk full"),
            StorageFault::ReadOnly { code } => {
                f.write_str("cannot be written: ")?;
                f.write_str(match code {
                    // SQLITE_READONLY_DBMOVED
                    1032 => "it was moved or deleted while open",
                    // SQLITE_READONLY_DIRECTORY
                    1544 => "its directory is read-only",
                    // SQLITE_READONLY_CANTLOCK, SQLITE_READONLY_CANTINIT
                    520 | 1288 => "its shared-memory file is read-only",
                    // SQLITE_READONLY_ROLLBACK, SQLITE_READONLY_RECOVERY
                    776 | 264 => "read-only, and it needs recovery after a crash",
                    _ => "read-only (permissions, an immutable file or a read-only file system)",
                })
            }
            StorageFault::Io { code } => {
                f.write_str("cannot be read or written: I/O error")?;
                let detail = match code {
                    266 => "a read failed",                          // SQLITE_IOERR_READ
                    522 => "the file is shorter than expected",      // SQLITE_IOERR_SHORT_READ
                    778 => "a write failed",                         // SQLITE_IOERR_WRITE
                    1034 => "flushing to disk failed",               // SQLITE_IOERR_FSYNC
                    1290 => "flushing its directory to disk failed", // SQLITE_IOERR_DIR_FSYNC
                    1546 => "truncating failed",                     // SQLITE_IOERR_TRUNCATE
                    2570 | 2826 => "deleting a journal failed",      // IOERR_DELETE, _BLOCKED
                    3850 | 2058 | 2314 | 3594 => "locking failed", // IOERR_LOCK, _RDLOCK, _UNLOCK, _CHECKRESERVEDLOCK
                    4618 | 4874 | 5130 | 5386 => "its shared-memory file failed", // IOERR_SHMOPEN, _SHMSIZE, _SHMLOCK, _SHMMAP
                    3338 => "it is not accessible", // SQLITE_IOERR_ACCESS
                    _ => "",
                };
                if detail.is_empty() {
                    Ok(())
                } else {
                    write!(f, " ({detail})")
                }
            }
            StorageFault::CannotOpen { code } => {
                f.write_str("cannot be opened")?;
                match code {
                    526 => f.write_str(": it is a directory"), // SQLITE_CANTOPEN_ISDIR
                    1550 => f.write_str(": it is a symbolic link"), // SQLITE_CANTOPEN_SYMLINK
                    _ => f.write_str(" (missing directory, permissions, or too many open files)"),
                }
            }
            StorageFault::Corrupt => f.write_str("is corrupt"),
            StorageFault::NotADatabase => f.write_str("is not a SQLite database"),
        }
    }
}

/// Which database an error is about, as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseName {
    /// A database file.
    File(PathBuf),
    /// A private in-memory database.
    InMemory,
    /// Not known where the error was raised (several databases are open in this process).
    Unknown,
}

impl DatabaseName {
    /// The file's path, if it is a file.
    pub fn path(&self) -> Option<&Path> {
        match self {
            DatabaseName::File(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for DatabaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseName::File(p) => write!(f, "the database file {}", p.display()),
            DatabaseName::InMemory => f.write_str("the in-memory database"),
            DatabaseName::Unknown => f.write_str("the database"),
        }
    }
}

/// The databases this process has open: each [`crate::Store`] holds an `Arc` of its name
/// and registers a `Weak` here, so an entry dies with the last clone of its store.
///
/// Why a process-wide list: most errors are built by [`DbContext::context`] on a bare
/// driver result, in code that does not hold the `Store` (about a hundred call sites in
/// every module). Passing the store's name into each would touch all of them; instead a
/// storage fault names the one database open in the process — the binary opens exactly
/// one — and says "the database" when several are (tests, or an embedding host).
static OPEN_DATABASES: Mutex<Vec<Weak<DatabaseName>>> = Mutex::new(Vec::new());

/// Registers a store's database name for [`the_open_database`].
pub(crate) fn register_open_database(name: &Arc<DatabaseName>) {
    let mut open = OPEN_DATABASES.lock().unwrap_or_else(|e| e.into_inner());
    open.retain(|w| w.strong_count() > 0);
    open.push(Arc::downgrade(name));
}

/// The databases open in this process now, each once.
pub(crate) fn open_databases() -> Vec<DatabaseName> {
    let mut open = OPEN_DATABASES.lock().unwrap_or_else(|e| e.into_inner());
    open.retain(|w| w.strong_count() > 0);
    let mut names: Vec<DatabaseName> = Vec::new();
    for name in open.iter().filter_map(Weak::upgrade) {
        if !names.contains(&name) {
            names.push((*name).clone());
        }
    }
    names
}

/// The one database open in this process, or [`DatabaseName::Unknown`].
fn the_open_database() -> DatabaseName {
    let mut names = open_databases();
    if names.len() == 1 {
        names.pop().unwrap_or(DatabaseName::Unknown)
    } else {
        DatabaseName::Unknown
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_faults_are_classified_by_primary_code() {
        assert_eq!(StorageFault::from_code(13), Some(StorageFault::DiskFull));
        assert_eq!(
            StorageFault::from_code(8),
            Some(StorageFault::ReadOnly { code: 8 })
        );
        // SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE, SQLITE_CANTOPEN_ISDIR: extended codes
        // keep their family and their detail.
        assert_eq!(
            StorageFault::from_code(1032),
            Some(StorageFault::ReadOnly { code: 1032 })
        );
        assert_eq!(
            StorageFault::from_code(778),
            Some(StorageFault::Io { code: 778 })
        );
        assert_eq!(
            StorageFault::from_code(526),
            Some(StorageFault::CannotOpen { code: 526 })
        );
        assert_eq!(StorageFault::from_code(11), Some(StorageFault::Corrupt));
        // SQLITE_CORRUPT_INDEX
        assert_eq!(StorageFault::from_code(779), Some(StorageFault::Corrupt));
        assert_eq!(
            StorageFault::from_code(26),
            Some(StorageFault::NotADatabase)
        );
    }

    #[test]
    fn statement_errors_are_not_storage_faults() {
        // SQLITE_ERROR, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CONSTRAINT, _UNIQUE, _FOREIGNKEY,
        // SQLITE_BUSY_SNAPSHOT.
        for code in [1, 5, 6, 19, 2067, 787, 517] {
            assert_eq!(StorageFault::from_code(code), None, "code {code}");
        }
        assert_eq!(StorageFault::of(&sqlx::Error::RowNotFound), None);
        assert_eq!(StorageFault::of(&sqlx::Error::PoolTimedOut), None);
    }

    #[test]
    fn a_storage_fault_is_one_line_naming_the_file_and_the_cause() {
        let e = StoreError::Storage {
            database: DatabaseName::File("/x/.switchyard/switchyard.db".into()),
            fault: StorageFault::DiskFull,
            context: "recording the push of 42".into(),
            source: sqlx::Error::RowNotFound,
        };
        assert_eq!(
            e.to_string(),
            "the database file /x/.switchyard/switchyard.db cannot be written: disk full \
             (while recording the push of 42)"
        );
        assert_eq!(e.storage_fault(), Some(StorageFault::DiskFull));
        let e = StoreError::Storage {
            database: DatabaseName::InMemory,
            fault: StorageFault::Io { code: 778 },
            context: "claiming a job".into(),
            source: sqlx::Error::RowNotFound,
        };
        assert_eq!(
            e.to_string(),
            "the in-memory database cannot be read or written: I/O error (a write failed) \
             (while claiming a job)"
        );
        for code in [
            8, 264, 520, 776, 1032, 1288, 1544, 10, 266, 3338, 14, 526, 1550, 11, 26,
        ] {
            let text = StorageFault::from_code(code).unwrap().to_string();
            assert!(!text.contains('\n') && !text.is_empty(), "{code}: {text}");
        }
    }

    #[test]
    fn other_database_errors_keep_their_case() {
        let e = StoreError::db("reading a tenant", sqlx::Error::RowNotFound);
        assert!(matches!(e, StoreError::Database { .. }), "{e:?}");
        assert_eq!(e.storage_fault(), None);
    }
}
