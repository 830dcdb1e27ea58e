//! The [`Store`] handle: opening the database, tenants, plugin versions and cursors.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use crate::error::{
    is_unique_violation, register_open_database, DatabaseName, DbContext, StoreError,
};
use crate::ids::{ConnectionId, TenantId};
use crate::secrets::SecretKey;
use crate::time::{from_ms, now_ms};

/// How long a statement waits for another writer (in this or another process) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections per pool on a file database; writes are serialised by SQLite anyway.
const FILE_POOL_SIZE: u32 = 4;
/// Two processes migrating one fresh file at once can collide; the loser retries and then
/// finds the migrations applied.
const MIGRATION_ATTEMPTS: u32 = 3;
/// Switching a fresh file to WAL takes an exclusive lock and SQLite answers "database is
/// locked" at once instead of waiting, when another handle opens the same file at that
/// moment; opening retries for about as long as a statement would wait.
const OPEN_ATTEMPTS: u32 = 50;
const OPEN_RETRY_PAUSE: Duration = Duration::from_millis(100);
/// Connections of the pool for durable writes. Their transactions take the write lock, so
/// they run one at a time anyway; a second one lets the next writer queue on SQLite's busy
/// timeout like every other writer instead of on the pool.
const DURABLE_POOL_SIZE: u32 = 2;

/// The storage layer: a cheap-to-clone handle over a connection pool and the secret key.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: SqlitePool,
    /// Connections with `synchronous=FULL`, for [`Store::begin_durable_write`]; `None` for
    /// an in-memory database, where a second pool would be a second, empty database and
    /// there is no disk to be durable on.
    durable: Option<SqlitePool>,
    /// Which database this is, for storage-fault messages (see
    /// [`crate::error::open_databases`]).
    name: Arc<DatabaseName>,
    pub(crate) key: Arc<SecretKey>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("database", &self.name)
            .finish_non_exhaustive()
    }
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// Its unique name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// One loaded plugin build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginVersion {
    /// The provider it implements, e.g. `pressero`.
    pub provider: String,
    /// Its declared version.
    pub version: String,
    /// sha256 hex of the component file.
    pub sha256: String,
    /// Where it was loaded from.
    pub path: PathBuf,
    /// When it was (last) loaded.
    pub loaded_at: DateTime<Utc>,
}

impl Store {
    /// Opens (creating if missing) the SQLite file at `path` and applies the migrations.
    pub async fn open(path: &Path, key: SecretKey) -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::connect(options, false, key).await
    }

    /// Opens a database by URL: `sqlite://path/to/file.db` (created if missing) or
    /// `sqlite::memory:` (a private in-memory database, gone when the last clone drops).
    pub async fn open_url(url: &str, key: SecretKey) -> Result<Store, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::InvalidInput(
                "only sqlite: database URLs are supported".into(),
            ));
        }
        let options = SqliteConnectOptions::from_str(url)
            .context("parsing the database URL")?
            .create_if_missing(true);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Self::connect(options, in_memory, key).await
    }

    async fn connect(
        options: SqliteConnectOptions,
        in_memory: bool,
        key: SecretKey,
    ) -> Result<Store, StoreError> {
        let name = Arc::new(if in_memory {
            DatabaseName::InMemory
        } else {
            let path = options.get_filename();
            // Absolute, so a person reading the message finds the file whatever the
            // working directory was.
            DatabaseName::File(std::path::absolute(path).unwrap_or_else(|_| path.to_owned()))
        });
        let options = options
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal)
            // No memory-mapped reads of the database file: when the file shrinks or its disk
            // fails under a mapping, the process gets SIGBUS instead of an error SQLite could
            // report. 0 is this build's default; saying so keeps it when SQLite comes from a
            // system library compiled with a default mmap size. (The WAL index, `-shm`, is
            // always mapped; the binary reports a SIGBUS there, see host/cli.)
            .pragma("mmap_size", "0");
        let options = if in_memory {
            options
        } else {
            options.journal_mode(SqliteJournalMode::Wal)
        };
        let pool = if in_memory {
            // Every pooled connection to `:memory:` shares one database only while one stays
            // open, and shared-cache locking does not wait: keep exactly one, forever.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options.clone())
                .await
        } else {
            let mut attempt = 1;
            loop {
                match SqlitePoolOptions::new()
                    .max_connections(FILE_POOL_SIZE)
                    .connect_with(options.clone())
                    .await
                {
                    Err(e) if is_busy(&e) && attempt < OPEN_ATTEMPTS => {
                        attempt += 1;
                        tokio::time::sleep(OPEN_RETRY_PAUSE).await;
                    }
                    result => break result,
                }
            }
        }
        .map_err(|e| StoreError::db_in(Some(&name), "opening the database", e))?;
        let durable = (!in_memory).then(|| {
            // Opened on first use: most commands never push.
            SqlitePoolOptions::new()
                .max_connections(DURABLE_POOL_SIZE)
                .connect_lazy_with(options.synchronous(SqliteSynchronous::Full))
        });
        register_open_database(&name);
        let store = Store {
            pool,
            durable,
            name,
            key: Arc::new(key),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = sqlx::migrate!("./migrations");
        let mut attempt = 1;
        loop {
            match migrator.run(&self.pool).await {
                Ok(()) => return Ok(()),
                // A full disk or an unwritable file does not heal by retrying; say which.
                Err(sqlx::migrate::MigrateError::Execute(e))
                    if crate::error::StorageFault::of(&e).is_some() =>
                {
                    return Err(StoreError::db_in(
                        Some(&self.name),
                        "applying database migrations",
                        e,
                    ))
                }
                Err(_) if attempt < MIGRATION_ATTEMPTS => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Which database this store uses (a file, or the in-memory one).
    pub fn database(&self) -> &DatabaseName {
        &self.name
    }

    /// Closes the pools, waiting for connections to be returned.
    pub async fn close(&self) {
        if let Some(durable) = &self.durable {
            durable.close().await;
        }
        self.pool.close().await;
    }

    /// Begins a transaction that takes the write lock up front. SQLite cannot upgrade a
    /// read transaction to a write one while another connection writes (it fails at once
    /// with "database is locked"); starting as a writer makes it wait on the busy timeout.
    pub(crate) async fn begin_write(
        &self,
        context: &str,
    ) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| StoreError::db_in(Some(&self.name), context, e))
    }

    /// Begins a write transaction (as [`Store::begin_write`]) whose commit survives a power
    /// cut, not only a crash of the process: the WAL is flushed to disk (`synchronous=FULL`)
    /// before the commit returns. For a mark that must hold before something leaves the
    /// host, e.g. a push recorded as `sending` before the plugin is called: under the
    /// pool's `synchronous=NORMAL` the last commits can vanish with the power, and a rerun
    /// would create what it should find.
    ///
    /// Why a pool of its own instead of `PRAGMA synchronous=FULL` on a pooled connection
    /// for one transaction: the setting is per connection and would have to be put back on
    /// every path (commit, rollback, a dropped transaction, a cancelled future) before the
    /// connection is reused, or later writes would silently pay for a flush each. These
    /// connections are always FULL and the others always NORMAL. Flushing the WAL also makes
    /// every earlier commit in it durable, whichever connection wrote it.
    ///
    /// On an in-memory database this is [`Store::begin_write`].
    pub(crate) async fn begin_durable_write(
        &self,
        context: &str,
    ) -> Result<Transaction<'static, Sqlite>, StoreError> {
        let Some(durable) = &self.durable else {
            return self.begin_write(context).await;
        };
        durable
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| StoreError::db_in(Some(&self.name), context, e))
    }

    // ---- tenants ----

    /// Creates a tenant; a taken name is a [`StoreError::Conflict`].
    pub async fn create_tenant(&self, name: &str) -> Result<TenantId, StoreError> {
        let name = checked_name(name, "tenant name")?;
        let id = TenantId::new();
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(name)
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("a tenant named {name:?} already exists"))
                } else {
                    StoreError::db(format!("creating tenant {name:?}"), e)
                }
            })?;
        Ok(id)
    }

    /// The tenant with this name, created if missing (safe under concurrency).
    pub async fn ensure_tenant(&self, name: &str) -> Result<TenantId, StoreError> {
        let name = checked_name(name, "tenant name")?;
        sqlx::query(
            "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(TenantId::new().to_string())
        .bind(name)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .context(format!("ensuring tenant {name:?}"))?;
        self.tenant_by_name(name)
            .await?
            .map(|t| t.id)
            .ok_or_else(|| StoreError::NotFound(format!("tenant {name:?}")))
    }

    /// A tenant by id.
    pub async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
        sqlx::query("SELECT id, name, created_at FROM tenants WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .context(format!("reading tenant {id}"))?
            .map(|r| tenant_from_row(&r))
            .transpose()
    }

    /// A tenant by name.
    pub async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StoreError> {
        sqlx::query("SELECT id, name, created_at FROM tenants WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .context(format!("reading tenant {name:?}"))?
            .map(|r| tenant_from_row(&r))
            .transpose()
    }

    /// All tenants, by name.
    pub async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        sqlx::query("SELECT id, name, created_at FROM tenants ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .context("listing tenants")?
            .iter()
            .map(tenant_from_row)
            .collect()
    }

    // ---- plugin versions ----

    /// Records that a plugin build was loaded; loading the same build again refreshes
    /// `loaded_at` and `path`.
    pub async fn record_plugin_version(
        &self,
        provider: &str,
        version: &str,
        sha256: &str,
        path: &Path,
    ) -> Result<PluginVersion, StoreError> {
        let path_text = path.to_str().ok_or_else(|| {
            StoreError::InvalidInput(format!("plugin path {} is not UTF-8", path.display()))
        })?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO plugin_versions (provider, version, sha256, path, loaded_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (provider, version, sha256)
             DO UPDATE SET path = excluded.path, loaded_at = excluded.loaded_at",
        )
        .bind(provider)
        .bind(version)
        .bind(sha256)
        .bind(path_text)
        .bind(now)
        .execute(&self.pool)
        .await
        .context(format!("recording plugin {provider} {version}"))?;
        Ok(PluginVersion {
            provider: provider.to_owned(),
            version: version.to_owned(),
            sha256: sha256.to_owned(),
            path: path.to_owned(),
            loaded_at: from_ms(now)?,
        })
    }

    /// Every recorded build of a provider's plugin, most recently loaded first.
    pub async fn plugin_versions(&self, provider: &str) -> Result<Vec<PluginVersion>, StoreError> {
        sqlx::query(
            "SELECT provider, version, sha256, path, loaded_at FROM plugin_versions
             WHERE provider = $1 ORDER BY loaded_at DESC, version DESC",
        )
        .bind(provider)
        .fetch_all(&self.pool)
        .await
        .context(format!("listing plugin versions of {provider}"))?
        .iter()
        .map(|r| {
            Ok(PluginVersion {
                provider: col(r, "provider")?,
                version: col(r, "version")?,
                sha256: col(r, "sha256")?,
                path: PathBuf::from(col::<String>(r, "path")?),
                loaded_at: from_ms(col(r, "loaded_at")?)?,
            })
        })
        .collect()
    }

    // ---- cursors ----

    /// The saved cursor of a connection's stream, if any.
    pub async fn cursor(
        &self,
        conn: ConnectionId,
        stream: &str,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT cursor FROM cursors WHERE connection_id = $1 AND stream = $2")
            .bind(conn.to_string())
            .bind(stream)
            .fetch_optional(&self.pool)
            .await
            .context(format!("reading cursor of {conn}/{stream}"))
    }

    /// Sets a stream's cursor outside an import page (e.g. a reset, or a push-only flow).
    pub async fn set_cursor(
        &self,
        conn: ConnectionId,
        stream: &str,
        cursor: &str,
    ) -> Result<(), StoreError> {
        let mut conn_ = self
            .pool
            .acquire()
            .await
            .context("acquiring a connection")?;
        upsert_cursor(&mut conn_, conn, stream, cursor, now_ms()).await
    }

    /// Forgets a stream's cursor, so the next run starts from the beginning.
    pub async fn clear_cursor(&self, conn: ConnectionId, stream: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM cursors WHERE connection_id = $1 AND stream = $2")
            .bind(conn.to_string())
            .bind(stream)
            .execute(&self.pool)
            .await
            .context(format!("clearing cursor of {conn}/{stream}"))?;
        Ok(())
    }
}

pub(crate) async fn upsert_cursor(
    db: &mut sqlx::SqliteConnection,
    conn: ConnectionId,
    stream: &str,
    cursor: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO cursors (connection_id, stream, cursor, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (connection_id, stream)
         DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
    )
    .bind(conn.to_string())
    .bind(stream)
    .bind(cursor)
    .bind(now)
    .execute(db)
    .await
    .map_err(|e| {
        if crate::error::is_foreign_key_violation(&e) {
            StoreError::NotFound(format!("connection {conn}"))
        } else {
            StoreError::db(format!("writing cursor of {conn}/{stream}"), e)
        }
    })?;
    Ok(())
}

fn tenant_from_row(r: &SqliteRow) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: TenantId::from_column(&col::<String>(r, "id")?)?,
        name: col(r, "name")?,
        created_at: from_ms(col(r, "created_at")?)?,
    })
}

/// Reads one column, naming it in the error.
pub(crate) fn col<T>(row: &SqliteRow, name: &str) -> Result<T, StoreError>
where
    T: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(name).context(format!("reading column {name}"))
}

/// A trimmed, non-empty name.
pub(crate) fn checked_name<'a>(name: &'a str, what: &str) -> Result<&'a str, StoreError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(StoreError::InvalidInput(format!(
            "{what} must not be empty"
        )));
    }
    Ok(trimmed)
}

/// SQLITE_BUSY (5) or SQLITE_LOCKED (6), including their extended codes.
fn is_busy(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{open_databases, StorageFault};

    fn key() -> SecretKey {
        SecretKey::from_bytes([3; 32])
    }

    async fn synchronous(db: &mut sqlx::SqliteConnection) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn durable_writes_flush_and_other_writes_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db"), key()).await.unwrap();
        // 1 = NORMAL, 2 = FULL.
        for _ in 0..3 {
            let mut tx = store.begin_durable_write("testing").await.unwrap();
            assert_eq!(synchronous(&mut tx).await, 2);
            tx.commit().await.unwrap();
            // A durable transaction dropped without commit leaves nothing behind either.
            let mut tx = store.begin_durable_write("testing").await.unwrap();
            assert_eq!(synchronous(&mut tx).await, 2);
            drop(tx);
            let mut tx = store.begin_write("testing").await.unwrap();
            assert_eq!(synchronous(&mut tx).await, 1);
            tx.rollback().await.unwrap();
            let mut c = store.pool.acquire().await.unwrap();
            assert_eq!(synchronous(&mut c).await, 1);
            let mode: String = sqlx::query_scalar("PRAGMA mmap_size")
                .fetch_one(&mut *c)
                .await
                .map(|n: i64| n.to_string())
                .unwrap();
            assert_eq!(mode, "0");
        }
        // Both pools write one database.
        let mut tx = store.begin_durable_write("testing").await.unwrap();
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, 'durable', 0)")
            .bind(TenantId::new().to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(store.tenant_by_name("durable").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn in_memory_durable_writes_use_the_one_database() {
        let store = Store::open_url("sqlite::memory:", key()).await.unwrap();
        assert_eq!(store.database(), &DatabaseName::InMemory);
        let mut tx = store.begin_durable_write("testing").await.unwrap();
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, 'mem', 0)")
            .bind(TenantId::new().to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(store.tenant_by_name("mem").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("garbage.db");
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let e = Store::open(&path, key()).await.unwrap_err();
        assert_eq!(e.storage_fault(), Some(StorageFault::NotADatabase), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "the database file {} is not a SQLite database (while opening the database)",
                path.display()
            )
        );
    }

    #[tokio::test]
    async fn a_database_in_a_missing_directory_cannot_be_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("s.db");
        let e = Store::open(&path, key()).await.unwrap_err();
        assert!(
            matches!(e.storage_fault(), Some(StorageFault::CannotOpen { .. })),
            "{e:?}"
        );
        let text = e.to_string();
        assert!(
            text.starts_with(&format!(
                "the database file {} cannot be opened",
                path.display()
            )),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_full_database_is_a_disk_full_fault() {
        // `max_page_count` makes SQLite answer SQLITE_FULL exactly as a full disk does.
        let store = Store::open_url("sqlite::memory:", key()).await.unwrap();
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        sqlx::query(&format!("PRAGMA max_page_count = {}", pages + 2))
            .execute(&store.pool)
            .await
            .unwrap();
        let mut fault = None;
        for i in 0..1000 {
            match store
                .create_tenant(&format!("{i}-{}", "x".repeat(500)))
                .await
            {
                Ok(_) => {}
                Err(e) => {
                    fault = Some(e);
                    break;
                }
            }
        }
        let e = fault.expect("the database filled up");
        assert_eq!(e.storage_fault(), Some(StorageFault::DiskFull), "{e:?}");
        assert!(e
            .to_string()
            .contains("cannot be written: disk full (while creating tenant"));
    }

    #[tokio::test]
    async fn an_open_store_is_listed_until_its_last_clone_drops() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("listed.db"), key())
            .await
            .unwrap();
        let name = store.database().clone();
        assert!(name.path().is_some_and(|p| p.is_absolute()), "{name:?}");
        let clone = store.clone();
        drop(store);
        assert!(open_databases().contains(&name));
        drop(clone);
        assert!(!open_databases().contains(&name));
    }
}
