//! What a durable commit costs: small write transactions committed under the pool's
//! `synchronous=NORMAL` and under `synchronous=FULL` (the `sending` mark of a push, see
//! `Store::begin_durable_write`), on a temporary file in WAL mode, as the store opens it.
//!
//! `cargo bench -p switchyard-store --bench durable_commit` (COMMITS=N to change the count;
//! TMPDIR picks the disk). Prints figures only: they depend on the disk.

use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

const DEFAULT_COMMITS: u32 = 2_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let commits = std::env::var("COMMITS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_COMMITS);
    let dir = tempfile::tempdir().expect("a temporary directory");
    println!(
        "durable commit: {commits} write transactions (one small row each) in WAL mode, in {}",
        dir.path().display()
    );
    // Each twice, alternating, so neither profits alone from a warm disk cache.
    let mut normal = Vec::new();
    let mut full = Vec::new();
    for round in 0..2 {
        let file = |name: &str| dir.path().join(format!("{name}-{round}.db"));
        normal.push(run(&file("normal"), SqliteSynchronous::Normal, commits).await);
        full.push(run(&file("full"), SqliteSynchronous::Full, commits).await);
    }
    let best = |times: &[Duration]| times.iter().min().copied().unwrap_or_default();
    let (normal, full) = (best(&normal), best(&full));
    let rate = |d: Duration| f64::from(commits) / d.as_secs_f64();
    let per = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(commits);
    println!(
        "  synchronous=NORMAL: {:>9.0} commits/s ({:>7.1} µs each)",
        rate(normal),
        per(normal)
    );
    println!(
        "  synchronous=FULL:   {:>9.0} commits/s ({:>7.1} µs each)",
        rate(full),
        per(full)
    );
    println!(
        "  FULL costs {:.1}x NORMAL per commit (+{:.1} µs, the flush of the WAL)",
        full.as_secs_f64() / normal.as_secs_f64(),
        per(full) - per(normal)
    );
}

/// `commits` transactions as the store writes: BEGIN IMMEDIATE, one insert, COMMIT.
async fn run(path: &std::path::Path, synchronous: SqliteSynchronous, commits: u32) -> Duration {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .pragma("mmap_size", "0");
    let pool: SqlitePool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("open");
    sqlx::query("CREATE TABLE marks (id INTEGER PRIMARY KEY, state TEXT NOT NULL, at INTEGER)")
        .execute(&pool)
        .await
        .expect("create");
    let start = Instant::now();
    for i in 0..commits {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
        sqlx::query("INSERT INTO marks (state, at) VALUES ('sending', $1)")
            .bind(i64::from(i))
            .execute(&mut *tx)
            .await
            .expect("insert");
        tx.commit().await.expect("commit");
    }
    let elapsed = start.elapsed();
    pool.close().await;
    elapsed
}
