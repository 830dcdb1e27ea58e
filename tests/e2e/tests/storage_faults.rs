//! The database becomes unusable in the middle of an import — its files made immutable, or
//! its disk filled up — and the `switchyard` binary ends with one line naming the file and
//! the cause and the storage-fault exit code (3), never a signal. Once the disk is fixed,
//! the next run goes on from the stored cursor and every order is stored exactly once.
//!
//! Both faults are real, not simulated: `chattr +i` (ext4 and most Linux file systems) and
//! a small tmpfs mounted for the test. Both need root (CAP_LINUX_IMMUTABLE, CAP_SYS_ADMIN);
//! without it the tests fail and say so, rather than pass without the fault.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use switchyard_e2e::{plugin_dir, TEST_KEY};
use switchyard_sim::pressero::{spawn_pressero, PresseroConfig, PresseroSim};
use switchyard_sim::FaultConfig;
use switchyard_sim::RunningSim;
use switchyard_store::{ConnectionId, SecretKey, Store, TenantId};

const ORDERS: usize = 1500;
/// The exit code of a storage fault (host/cli/src/exit.rs).
const STORAGE_FAULT: i32 = 3;

fn cli(data: &Path) -> Command {
    let bin =
        std::env::var_os("SWITCHYARD_BIN").expect("SWITCHYARD_BIN is set by `cargo xtask test`");
    let mut cmd = Command::new(bin);
    cmd.env("SWITCHYARD_DATA_DIR", data)
        .env("SWITCHYARD_PLUGIN_DIR", plugin_dir())
        .env("SWITCHYARD_SECRET_KEY", TEST_KEY)
        // The one line a person sees, not the details these ask for.
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdin(Stdio::null());
    cmd
}

/// A simulator slow enough for the fault to land mid-run, and a connection to it.
async fn shop(data: &Path) -> (RunningSim<PresseroSim>, Store, TenantId, ConnectionId) {
    let sim = spawn_pressero(PresseroConfig {
        orders: ORDERS,
        ..Default::default()
    })
    .await
    .unwrap();
    sim.set_faults(FaultConfig {
        latency_ms: 3,
        ..Default::default()
    })
    .unwrap();
    let creds = sim.credentials().clone();
    let status = cli(data)
        .args(["connection", "add", "pressero", "shop"])
        .args(["--set", &format!("base-url={}", sim.base_url())])
        .args(["--set", &format!("username={}", creds.user_name)])
        .args(["--set", &format!("subscriber-id={}", creds.subscriber_id)])
        .args([
            "--set",
            &format!("{}=1000", switchyard_engine::RATE_LIMIT_SETTING),
        ])
        .args(["--secret", &format!("password={}", creds.password)])
        .args(["--secret", &format!("consumer-id={}", creds.consumer_id)])
        .status()
        .unwrap();
    assert!(status.success());
    let store = open(data).await;
    let tenant = store.ensure_tenant("default").await.unwrap();
    let conn = store
        .connection_by_name(tenant, "shop")
        .await
        .unwrap()
        .unwrap()
        .id;
    (sim, store, tenant, conn)
}

async fn open(data: &Path) -> Store {
    Store::open(
        &data.join("switchyard.db"),
        SecretKey::from_base64(TEST_KEY).unwrap(),
    )
    .await
    .unwrap()
}

fn start_sync(data: &Path) -> Child {
    cli(data)
        .args(["sync", "shop", "orders", "--page-size", "50"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until some, not all, orders are stored.
async fn wait_for_progress(store: &Store, conn: ConnectionId, child: &mut Child) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n = store.count_bindings(conn, "order").await.unwrap();
        if n >= 200 {
            return n;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "sync ended before the fault"
        );
        assert!(Instant::now() < deadline, "sync made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for the faulted run to end (it must, and on its own).
fn wait_for_exit(child: Child) -> Output {
    let pid = child.id();
    let (done, waiting) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match waiting.recv_timeout(Duration::from_secs(120)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("the run did not end after the storage fault");
        }
    }
}

/// The faulted run ended with code 3, not a signal, and its last line is the one error line,
/// naming the database file and a cause.
fn assert_storage_fault(out: &Output, database: &Path, cause: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        None,
        "died of a signal: {:?}\n{stderr}",
        out.status
    );
    assert_eq!(
        out.status.code(),
        Some(STORAGE_FAULT),
        "exit status {:?}\n{stderr}",
        out.status
    );
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    let line = errors[0];
    eprintln!("the faulted run said: {line}");
    assert_eq!(
        stderr.lines().rfind(|l| !l.trim().is_empty()),
        Some(line),
        "the error line is the last: {stderr}"
    );
    assert!(
        line.contains(&format!("the database file {}", database.display())),
        "names the file: {line}"
    );
    assert!(
        cause.iter().any(|c| line.contains(c)),
        "names the cause ({cause:?}): {line}"
    );
    for noise in ["panicked", "backtrace", "Caused by"] {
        assert!(!stderr.contains(noise), "{noise}: {stderr}");
    }
}

/// After the fault is gone: the next run resumes and every order is there exactly once.
async fn assert_rerun_completes(
    data: &Path,
    sim: &RunningSim<PresseroSim>,
    tenant: TenantId,
    conn: ConnectionId,
    stored_before: u64,
) {
    sim.set_faults(FaultConfig::default()).unwrap();
    let out = cli(data)
        .args(["sync", "shop", "orders", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["failed"], 0, "{summary}");
    // From the stored cursor, not from the first order again.
    assert!(
        summary["fetched"].as_u64().unwrap() < ORDERS as u64,
        "the rerun fetched everything again: {summary}"
    );
    assert_eq!(
        summary["created"].as_u64().unwrap(),
        ORDERS as u64 - stored_before,
        "{summary}"
    );
    let store = open(data).await;
    assert_eq!(
        store.count_bindings(conn, "order").await.unwrap(),
        ORDERS as u64
    );
    assert_eq!(
        store.count_canonical(tenant, "order").await.unwrap(),
        ORDERS as u64
    );
    for n in sim.order_numbers() {
        assert!(
            store
                .binding(conn, "order", &n.to_string())
                .await
                .unwrap()
                .is_some(),
            "order {n}"
        );
    }
    store.close().await;
}

/// Files made immutable, made writable again when the test ends, even by a panic.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(files: Vec<PathBuf>) -> Immutable {
        let mut guard = Immutable(Vec::new());
        for f in files {
            chattr("+i", &f);
            guard.0.push(f);
        }
        guard
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for f in self.0.drain(..) {
            chattr("-i", &f);
        }
    }
}

fn chattr(flag: &str, file: &Path) {
    let out = Command::new("chattr")
        .arg(flag)
        .arg(file)
        .output()
        .expect("chattr (e2fsprogs) is needed to make the database immutable");
    assert!(
        out.status.success(),
        "chattr {flag} {} failed — this test needs root and a file system with the \
         immutable attribute: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_immutable_database_mid_import_ends_with_one_line_then_the_rerun_resumes() {
    let data = tempfile::tempdir().unwrap();
    let (sim, store, tenant, conn) = shop(data.path()).await;
    let mut child = start_sync(data.path());
    wait_for_progress(&store, conn, &mut child).await;
    // This process must not have the WAL index mapped when it becomes immutable: its own
    // next read would fault (that is the bug under test, in the test).
    store.close().await;
    drop(store);

    // The database, its WAL and its WAL index, as `chattr +i .switchyard/*` does. The
    // index is what turned this into SIGBUS: it is written through a memory mapping.
    let db = data.path().join("switchyard.db");
    let files = ["", "-wal", "-shm"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db.display())))
        .collect();
    let immutable = Immutable::set(files);
    let out = wait_for_exit(child);
    drop(immutable);
    assert_storage_fault(
        &out,
        &db,
        &["cannot be written", "cannot be read or written"],
    );

    let store = open(data.path()).await;
    let stored = store.count_bindings(conn, "order").await.unwrap();
    store.close().await;
    assert!(stored < ORDERS as u64, "the fault came too late ({stored})");
    assert_rerun_completes(data.path(), &sim, tenant, conn, stored).await;
    sim.shutdown().await;
}

/// A tmpfs of its own, unmounted when the test ends, even by a panic.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> SmallDisk {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mounting a tmpfs failed — this test needs root (CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk(dir.to_owned())
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if let Err(e) = f.write_all(&chunk).and_then(|_| f.sync_all()) {
                assert_eq!(e.raw_os_error(), Some(28), "ENOSPC expected: {e}");
                return path;
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: a file still open (a failed assertion's store) does not keep it mounted.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_mid_import_ends_with_one_line_then_the_rerun_resumes() {
    let mount = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(mount.path(), "64m");
    let data = mount.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let (sim, store, tenant, conn) = shop(&data).await;
    let mut child = start_sync(&data);
    wait_for_progress(&store, conn, &mut child).await;
    let filler = disk.fill();
    let out = wait_for_exit(child);
    let stored = store.count_bindings(conn, "order").await.unwrap();
    store.close().await;
    drop(store);
    assert_storage_fault(&out, &data.join("switchyard.db"), &["disk full"]);
    assert!(stored < ORDERS as u64, "the fault came too late ({stored})");

    std::fs::remove_file(filler).unwrap();
    assert_rerun_completes(&data, &sim, tenant, conn, stored).await;
    sim.shutdown().await;
    drop(disk);
}
