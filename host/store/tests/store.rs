//! Behaviour of the store on real SQLite files.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use switchyard_store::{
    ConnectionId, ImportPage, ImportRecord, KeyError, Level, MatchKey, NewActivity, NewBinding,
    NewConnection, RecordChange, RunCounts, RunOutcome, RunStatus, SecretKey, Secrets, Store,
    StoreError, TenantId,
};
use tempfile::TempDir;

fn key() -> SecretKey {
    SecretKey::from_bytes([7; 32])
}

async fn fresh() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.db"), key())
        .await
        .unwrap();
    (dir, store)
}

async fn tenant_and_connection(store: &Store) -> (TenantId, ConnectionId) {
    let tenant = store.ensure_tenant("acme").await.unwrap();
    let conn = store
        .create_connection(NewConnection::new(tenant, "pressero", "Main shop"))
        .await
        .unwrap();
    (tenant, conn)
}

fn record(kind: &str, external_id: &str, data: serde_json::Value) -> ImportRecord {
    ImportRecord {
        kind: kind.into(),
        external_id: external_id.into(),
        external_updated_at: None,
        data,
        match_keys: vec![],
    }
}

fn page<'a>(
    tenant: TenantId,
    conn: ConnectionId,
    records: Vec<ImportRecord>,
    next_cursor: Option<&str>,
) -> ImportPage<'a> {
    ImportPage {
        tenant,
        connection: conn,
        stream: "orders",
        run: None,
        records,
        next_cursor: next_cursor.map(str::to_owned),
    }
}

async fn raw_pool(path: &Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

#[tokio::test]
async fn fresh_file_is_created_and_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("store.db");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    assert!(!path.exists());
    let store = Store::open(&path, key()).await.unwrap();
    assert!(path.exists());
    store.close().await;

    let pool = raw_pool(&path).await;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
    for table in [
        "tenants",
        "connections",
        "plugin_versions",
        "cursors",
        "canonical_records",
        "bindings",
        "match_keys",
        "kv",
        "runs",
        "activity_log",
        "run_locks",
    ] {
        assert!(
            tables.iter().any(|t| t == table),
            "missing table {table}: {tables:?}"
        );
    }
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(journal, "wal");
}

#[tokio::test]
async fn reopening_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = Store::open(&path, key()).await.unwrap();
    let (tenant, conn) = tenant_and_connection(&store).await;
    store.set_cursor(conn, "orders", "page-7").await.unwrap();
    store.close().await;
    drop(store);

    let store = Store::open(&path, key()).await.unwrap();
    assert_eq!(store.ensure_tenant("acme").await.unwrap(), tenant);
    assert_eq!(store.connection(conn).await.unwrap().name, "Main shop");
    assert_eq!(
        store.cursor(conn, "orders").await.unwrap().as_deref(),
        Some("page-7")
    );
}

#[tokio::test]
async fn in_memory_url_works_across_pooled_calls() {
    let store = Store::open_url("sqlite::memory:", key()).await.unwrap();
    let (tenant, conn) = tenant_and_connection(&store).await;
    let clone = store.clone();
    assert_eq!(clone.connection(conn).await.unwrap().tenant, tenant);
    assert!(matches!(
        Store::open_url("postgres://x", key()).await,
        Err(StoreError::InvalidInput(_))
    ));
}

#[tokio::test]
async fn tenants_are_unique_by_name() {
    let (_dir, store) = fresh().await;
    let id = store.create_tenant("acme").await.unwrap();
    assert!(matches!(
        store.create_tenant("acme").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.ensure_tenant("acme").await.unwrap(), id);
    let other = store.ensure_tenant("globex").await.unwrap();
    assert_ne!(other, id);
    let names: Vec<_> = store
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["acme", "globex"]);
    assert!(matches!(
        store.create_tenant("  ").await,
        Err(StoreError::InvalidInput(_))
    ));
}

#[tokio::test]
async fn connections_settings_flags_and_duplicate_names() {
    let (_dir, store) = fresh().await;
    let tenant = store.ensure_tenant("acme").await.unwrap();
    let mut new = NewConnection::new(tenant, "pressero", "Main shop");
    new.settings
        .insert("data_centre".into(), "amsterdam".into());
    let conn = store.create_connection(new.clone()).await.unwrap();

    let err = store.create_connection(new).await.unwrap_err();
    match &err {
        StoreError::Conflict(msg) => assert!(msg.contains("Main shop"), "{msg}"),
        other => panic!("expected conflict, got {other:?}"),
    }
    // The same name in another tenant is fine.
    let other = store.ensure_tenant("globex").await.unwrap();
    store
        .create_connection(NewConnection::new(other, "pressero", "Main shop"))
        .await
        .unwrap();

    let c = store.connection(conn).await.unwrap();
    assert_eq!(
        c.settings.get("data_centre").map(String::as_str),
        Some("amsterdam")
    );
    assert!(!c.enabled && !c.live);

    let mut settings = BTreeMap::new();
    settings.insert("data_centre".to_string(), "chicago".to_string());
    store
        .update_connection_settings(conn, settings.clone())
        .await
        .unwrap();
    store.set_connection_flags(conn, true, true).await.unwrap();
    let c = store
        .connection_by_name(tenant, "Main shop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.settings, settings);
    assert!(c.enabled && c.live);
    assert_eq!(store.connections(tenant).await.unwrap().len(), 1);
    assert_eq!(store.live_connections("pressero").await.unwrap().len(), 1);

    let missing = ConnectionId::new();
    assert!(matches!(
        store.connection(missing).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.set_connection_flags(missing, true, true).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .create_connection(NewConnection::new(TenantId::new(), "pressero", "x"))
            .await,
        Err(StoreError::NotFound(_))
    ));

    store.delete_connection(conn).await.unwrap();
    assert!(store
        .connection_by_name(tenant, "Main shop")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn secrets_round_trip_encrypted_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = Store::open(&path, key()).await.unwrap();
    let tenant = store.ensure_tenant("acme").await.unwrap();
    let mut new = NewConnection::new(tenant, "pressero", "Main shop");
    new.secrets = Secrets::new()
        .with("password", "hunter2-very-secret")
        .with("username", "ann");
    let conn = store.create_connection(new).await.unwrap();

    let secrets = store.connection_secrets(conn).await.unwrap();
    assert_eq!(secrets.get("password"), Some("hunter2-very-secret"));
    assert_eq!(secrets.get("username"), Some("ann"));

    store
        .set_connection_secrets(conn, &Secrets::new().with("password", "rotated-pass-42"))
        .await
        .unwrap();
    let secrets = store.connection_secrets(conn).await.unwrap();
    assert_eq!(secrets.get("password"), Some("rotated-pass-42"));
    assert_eq!(secrets.len(), 1);

    let pool = raw_pool(&path).await;
    let raw: String = sqlx::query_scalar("SELECT secrets FROM connections WHERE id = $1")
        .bind(conn.to_string())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!raw.contains("rotated-pass-42"));
    assert!(!raw.contains("password"));
    // Nothing anywhere in the file holds the plaintext either.
    store.close().await;
    pool.close().await;
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("rotated-pass-42"));
    }
}

#[tokio::test]
async fn wrong_key_is_a_clear_error_without_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = Store::open(&path, key()).await.unwrap();
    let tenant = store.ensure_tenant("acme").await.unwrap();
    let mut new = NewConnection::new(tenant, "pressero", "Main shop");
    new.secrets = Secrets::new().with("password", "hunter2-very-secret");
    let conn = store.create_connection(new).await.unwrap();
    store.close().await;

    let other = Store::open(&path, SecretKey::from_bytes([9; 32]))
        .await
        .unwrap();
    let err = other.connection_secrets(conn).await.unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { connection } if connection == conn));
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("secrets cannot be decrypted: wrong key"),
        "{text}"
    );
    assert!(!text.contains("hunter2"));
    // Settings stay readable without the key.
    assert_eq!(other.connection(conn).await.unwrap().name, "Main shop");
}

#[tokio::test]
async fn secrets_copied_to_another_connection_do_not_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = Store::open(&path, key()).await.unwrap();
    let tenant = store.ensure_tenant("acme").await.unwrap();
    let mut a = NewConnection::new(tenant, "pressero", "A");
    a.secrets = Secrets::new().with("password", "a-secret");
    let a = store.create_connection(a).await.unwrap();
    let b = store
        .create_connection(NewConnection::new(tenant, "pressero", "B"))
        .await
        .unwrap();
    let pool = raw_pool(&path).await;
    sqlx::query("UPDATE connections SET secrets = (SELECT secrets FROM connections WHERE id = $1) WHERE id = $2")
        .bind(a.to_string())
        .bind(b.to_string())
        .execute(&pool)
        .await
        .unwrap();
    assert!(matches!(
        store.connection_secrets(b).await,
        Err(StoreError::WrongKey { .. })
    ));
    assert_eq!(
        store.connection_secrets(a).await.unwrap().get("password"),
        Some("a-secret")
    );
}

#[test]
fn debug_of_secrets_and_key_hides_values() {
    let secrets = Secrets::new()
        .with("password", "hunter2")
        .with("api_key", "abc-123");
    let shown = format!("{secrets:?}");
    assert_eq!(shown, r#"{"api_key": ***, "password": ***}"#);
    let key = SecretKey::from_bytes([42; 32]);
    let shown = format!("{key:?}");
    assert!(!shown.contains(&key.to_base64()));
    assert_eq!(shown, "SecretKey(***)");
}

#[test]
fn key_sources_and_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let original = SecretKey::from_bytes([5; 32]);

    let inline = SecretKey::from_sources(Some(original.to_base64()), None).unwrap();
    assert_eq!(inline.to_base64(), original.to_base64());
    assert!(matches!(
        SecretKey::from_sources(None, None),
        Err(KeyError::Missing)
    ));
    assert!(matches!(
        SecretKey::from_sources(Some("not base64 !!".into()), None),
        Err(KeyError::NotBase64 { .. })
    ));
    assert!(matches!(
        SecretKey::from_base64("AAAA"),
        Err(KeyError::WrongLength { len: 3, .. })
    ));

    let file = dir.path().join("keys").join("secret.key");
    let created = SecretKey::load_or_create(&file).unwrap();
    assert!(file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = SecretKey::load_or_create(&file).unwrap();
    assert_eq!(again.to_base64(), created.to_base64());
    let via_file = SecretKey::from_sources(None, Some(file.clone())).unwrap();
    assert_eq!(via_file.to_base64(), created.to_base64());
    assert!(matches!(
        SecretKey::from_sources(None, Some(dir.path().join("missing.key"))),
        Err(KeyError::Io { .. })
    ));
}

#[tokio::test]
async fn import_created_then_unchanged_then_updated() {
    let (_dir, store) = fresh().await;
    let (tenant, conn) = tenant_and_connection(&store).await;
    let records = || {
        vec![
            record("order", "o-1", json!({"number": "1001", "total": 10})),
            record("order", "o-2", json!({"number": "1002", "total": 20})),
        ]
    };

    let first = store
        .apply_import_page(page(tenant, conn, records(), Some("c1")))
        .await
        .unwrap();
    assert_eq!((first.created, first.updated, first.unchanged), (2, 0, 0));
    assert!(first
        .records
        .iter()
        .all(|(_, _, c)| *c == RecordChange::Created));

    let second = store
        .apply_import_page(page(tenant, conn, records(), Some("c2")))
        .await
        .unwrap();
    assert_eq!(
        (second.created, second.updated, second.unchanged),
        (0, 0, 2)
    );
    assert_eq!(first.records[0].1, second.records[0].1);

    // Same content in another key order is still unchanged; a changed total is an update.
    let third = store
        .apply_import_page(page(
            tenant,
            conn,
            vec![
                record("order", "o-1", json!({"total": 10, "number": "1001"})),
                record("order", "o-2", json!({"number": "1002", "total": 25})),
            ],
            Some("c3"),
        ))
        .await
        .unwrap();
    assert_eq!((third.created, third.updated, third.unchanged), (0, 1, 1));
    assert_eq!(third.records[1].2, RecordChange::Updated);

    let updated = store.canonical(&third.records[1].1).await.unwrap().unwrap();
    assert_eq!(updated.data, json!({"number": "1002", "total": 25}));
    assert_eq!(updated.tenant, tenant);
    assert_eq!(updated.kind, "order");
    assert_eq!(store.count_canonical(tenant, "order").await.unwrap(), 2);
    assert_eq!(
        store.cursor(conn, "orders").await.unwrap().as_deref(),
        Some("c3")
    );
}

#[tokio::test]
async fn same_external_id_in_two_pages_is_one_record() {
    let (_dir, store) = fresh().await;
    let (tenant, conn) = tenant_and_connection(&store).await;
    let a = store
        .apply_import_page(page(
            tenant,
            conn,
            vec![record("customer", "c-9", json!({"n": 1}))],
            None,
        ))
        .await
        .unwrap();
    let b = store
        .apply_import_page(page(
            tenant,
            conn,
            vec![
                record("customer", "c-9", json!({"n": 2})),
                record("customer", "c-9", json!({"n": 2})),
            ],
            None,
        ))
        .await
        .unwrap();
    assert_eq!(a.records[0].1, b.records[0].1);
    assert_eq!(b.records[0].1, b.records[1].1);
    assert_eq!((b.created, b.updated, b.unchanged), (0, 1, 1));
    assert_eq!(store.count_canonical(tenant, "customer").await.unwrap(), 1);
    assert_eq!(store.count_bindings(conn, "customer").await.unwrap(), 1);
    let binding = store
        .binding(conn, "customer", "c-9")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(binding.canonical_id, a.records[0].1);
    // No cursor given: none stored.
    assert_eq!(store.cursor(conn, "orders").await.unwrap(), None);
}

#[tokio::test]
async fn failing_record_leaves_nothing_of_the_page() {
    let (_dir, store) = fresh().await;
    let (tenant, conn) = tenant_and_connection(&store).await;
    store
        .apply_import_page(page(
            tenant,
            conn,
            vec![record("order", "o-1", json!({"v": 1}))],
            Some("c1"),
        ))
        .await
        .unwrap();

    let err = store
        .apply_import_page(page(
            tenant,
            conn,
            vec![
                record("order", "o-1", json!({"v": 2})),
                record("order", "o-2", json!({"v": 1})),
                record("Not A Kind", "o-3", json!({"v": 1})),
            ],
            Some("c2"),
        ))
        .await
        .unwrap_err();
    match &err {
        StoreError::InvalidInput(msg) => {
            assert!(msg.contains("o-3") && msg.contains("Not A Kind"), "{msg}")
        }
        other => panic!("expected invalid input, got {other:?}"),
    }
    assert_eq!(
        store.cursor(conn, "orders").await.unwrap().as_deref(),
        Some("c1")
    );
    assert_eq!(store.count_canonical(tenant, "order").await.unwrap(), 1);
    assert!(store.binding(conn, "order", "o-2").await.unwrap().is_none());
    let kept = store.binding(conn, "order", "o-1").await.unwrap().unwrap();
    let record = store.canonical(&kept.canonical_id).await.unwrap().unwrap();
    assert_eq!(record.data, json!({"v": 1}));
}

#[tokio::test]
async fn import_refuses_another_tenants_connection() {
    let (_dir, store) = fresh().await;
    let (_tenant, conn) = tenant_and_connection(&store).await;
    let intruder = store.ensure_tenant("globex").await.unwrap();
    let err = store
        .apply_import_page(page(
            intruder,
            conn,
            vec![record("order", "o-1", json!({}))],
            None,
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err:?}");
    assert_eq!(store.count_canonical(intruder, "order").await.unwrap(), 0);
}

#[tokio::test]
async fn match_keys_find_records_and_follow_updates() {
    let (_dir, store) = fresh().await;
    let (tenant, conn) = tenant_and_connection(&store).await;
    let mut ann = record("customer", "c-1", json!({"email": "ann@example.com"}));
    ann.match_keys = vec![MatchKey::new("email", "ann@example.com")];
    let mut bob = record("customer", "c-2", json!({"email": "bob@example.com"}));
    bob.match_keys = vec![MatchKey::new("email", "bob@example.com")];
    let out = store
        .apply_import_page(page(tenant, conn, vec![ann, bob], None))
        .await
        .unwrap();

    let found = store
        .find_by_match_key(tenant, "customer", "email", "ann@example.com")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, out.records[0].1);
    assert!(store
        .find_by_match_key(tenant, "product", "email", "ann@example.com")
        .await
        .unwrap()
        .is_empty());
    let other = store.ensure_tenant("globex").await.unwrap();
    assert!(store
        .find_by_match_key(other, "customer", "email", "ann@example.com")
        .await
        .unwrap()
        .is_empty());

    // Ann changes her e-mail: the old key no longer finds her, the new one does.
    let mut ann = record("customer", "c-1", json!({"email": "ann@new.example"}));
    ann.match_keys = vec![MatchKey::new("email", "ann@new.example")];
    store
        .apply_import_page(page(tenant, conn, vec![ann], None))
        .await
        .unwrap();
    assert!(store
        .find_by_match_key(tenant, "customer", "email", "ann@example.com")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.match_keys(&out.records[0].1).await.unwrap(),
        vec![MatchKey::new("email", "ann@new.example")]
    );
}

#[tokio::test]
async fn bindings_after_push_are_idempotent() {
    let (_dir, store) = fresh().await;
    let (tenant, source) = tenant_and_connection(&store).await;
    let target = store
        .create_connection(NewConnection::new(tenant, "presswise", "Print"))
        .await
        .unwrap();
    let out = store
        .apply_import_page(page(
            tenant,
            source,
            vec![record("order", "o-1", json!({}))],
            None,
        ))
        .await
        .unwrap();
    let canonical = out.records[0].1;
    assert!(store
        .binding_for_canonical(target, &canonical)
        .await
        .unwrap()
        .is_none());

    let pushed = NewBinding {
        connection: target,
        kind: "order",
        external_id: "PW-77",
        canonical_id: canonical,
        external_updated_at: None,
        run: None,
    };
    store.bind_external(pushed.clone()).await.unwrap();
    store.bind_external(pushed.clone()).await.unwrap();
    let found = store
        .binding_for_canonical(target, &canonical)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.external_id, "PW-77");
    assert_eq!(store.bindings_of(&canonical).await.unwrap().len(), 2);

    let other = store
        .apply_import_page(page(
            tenant,
            source,
            vec![record("order", "o-2", json!({}))],
            None,
        ))
        .await
        .unwrap();
    let clash = NewBinding {
        canonical_id: other.records[0].1,
        ..pushed
    };
    assert!(matches!(
        store.bind_external(clash).await,
        Err(StoreError::Conflict(_))
    ));
}

#[tokio::test]
async fn kv_values_expire_and_are_namespaced() {
    let (_dir, store) = fresh().await;
    let (tenant, conn) = tenant_and_connection(&store).await;
    let other_conn = store
        .create_connection(NewConnection::new(tenant, "pressero", "Second"))
        .await
        .unwrap();

    store
        .kv_set(tenant, conn, "token", b"abc", None)
        .await
        .unwrap();
    assert_eq!(
        store
            .kv_get(tenant, conn, "token")
            .await
            .unwrap()
            .as_deref(),
        Some(&b"abc"[..])
    );
    assert_eq!(
        store.kv_get(tenant, other_conn, "token").await.unwrap(),
        None
    );

    store
        .kv_set(tenant, conn, "long", b"1", Some(Duration::from_secs(3600)))
        .await
        .unwrap();
    store
        .kv_set(tenant, conn, "short", b"2", Some(Duration::from_millis(30)))
        .await
        .unwrap();
    store
        .kv_set(tenant, conn, "gone", b"3", Some(Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(store.kv_get(tenant, conn, "gone").await.unwrap(), None);
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(store.kv_get(tenant, conn, "short").await.unwrap(), None);
    assert_eq!(
        store.kv_get(tenant, conn, "long").await.unwrap().as_deref(),
        Some(&b"1"[..])
    );
    assert_eq!(store.purge_expired_kv().await.unwrap(), 2);

    // Overwriting without a TTL makes the value permanent again.
    store
        .kv_set(tenant, conn, "short", b"4", None)
        .await
        .unwrap();
    assert_eq!(
        store
            .kv_get(tenant, conn, "short")
            .await
            .unwrap()
            .as_deref(),
        Some(&b"4"[..])
    );
    store.kv_delete(tenant, conn, "short").await.unwrap();
    store.kv_delete(tenant, conn, "short").await.unwrap();
    assert_eq!(store.kv_get(tenant, conn, "short").await.unwrap(), None);
}

#[tokio::test]
async fn runs_start_and_finish_once() {
    let (_dir, store) = fresh().await;
    let (_tenant, conn) = tenant_and_connection(&store).await;
    let run = store
        .start_run(conn, "orders", Some("pressero-to-mpower"))
        .await
        .unwrap();
    let r = store.run(run).await.unwrap().unwrap();
    assert_eq!(r.status, RunStatus::Running);
    assert!(r.finished_at.is_none());

    let counts = RunCounts {
        fetched: 5,
        created: 3,
        updated: 1,
        unchanged: 1,
        failed: 0,
    };
    store
        .finish_run(run, RunOutcome::succeeded(counts))
        .await
        .unwrap();
    let r = store.run(run).await.unwrap().unwrap();
    assert_eq!(r.status, RunStatus::Succeeded);
    assert_eq!(r.counts, counts);
    assert!(r.finished_at.is_some());
    assert!(matches!(
        store
            .finish_run(run, RunOutcome::failed(counts, "again"))
            .await,
        Err(StoreError::Conflict(_))
    ));

    let failed = store.start_run(conn, "orders", None).await.unwrap();
    store
        .finish_run(
            failed,
            RunOutcome::failed(RunCounts::default(), "provider said 401"),
        )
        .await
        .unwrap();
    let runs = store.runs(conn, 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    let f = runs.iter().find(|r| r.id == failed).unwrap();
    assert_eq!(f.error.as_deref(), Some("provider said 401"));
    assert_eq!(store.runs(conn, 1).await.unwrap().len(), 1);
    assert!(matches!(
        store
            .finish_run(
                switchyard_store::RunId::new(),
                RunOutcome::succeeded(counts)
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn abandoned_runs_are_closed_per_stream() {
    let (_dir, store) = fresh().await;
    let (_tenant, conn) = tenant_and_connection(&store).await;
    let dead = store.start_run(conn, "orders", None).await.unwrap();
    let other_stream = store.start_run(conn, "products", None).await.unwrap();
    let done = store.start_run(conn, "orders", None).await.unwrap();
    store
        .finish_run(done, RunOutcome::succeeded(RunCounts::default()))
        .await
        .unwrap();
    let closed = store
        .abandon_running_runs(conn, "orders", "host stopped")
        .await
        .unwrap();
    assert_eq!(closed, 1);
    let r = store.run(dead).await.unwrap().unwrap();
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("host stopped"));
    assert!(r.finished_at.is_some());
    let r = store.run(other_stream).await.unwrap().unwrap();
    assert_eq!(r.status, RunStatus::Running);
    let r = store.run(done).await.unwrap().unwrap();
    assert_eq!(r.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn run_lock_is_single_and_expires() {
    let (_dir, store) = fresh().await;
    let (_tenant, conn) = tenant_and_connection(&store).await;
    let hour = Duration::from_secs(3600);
    let lock = store
        .try_acquire_run_lock(conn, "orders", "worker-a", hour)
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .try_acquire_run_lock(conn, "orders", "worker-b", hour)
        .await
        .unwrap()
        .is_none());
    // Another stream is independent; the holder itself may re-take (extend) it.
    assert!(store
        .try_acquire_run_lock(conn, "products", "worker-b", hour)
        .await
        .unwrap()
        .is_some());
    assert!(store
        .try_acquire_run_lock(conn, "orders", "worker-a", hour)
        .await
        .unwrap()
        .is_some());
    assert!(store.renew_run_lock(&lock, hour).await.unwrap().is_some());
    assert!(store.release_run_lock(&lock).await.unwrap());
    assert!(!store.release_run_lock(&lock).await.unwrap());

    // A holder that died: its expired lock is taken over, and it cannot renew any more.
    let dead = store
        .try_acquire_run_lock(conn, "orders", "worker-a", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    let taken = store
        .try_acquire_run_lock(conn, "orders", "worker-b", hour)
        .await
        .unwrap();
    assert_eq!(taken.unwrap().holder, "worker-b");
    assert!(store.renew_run_lock(&dead, hour).await.unwrap().is_none());
    assert!(!store.release_run_lock(&dead).await.unwrap());
}

#[tokio::test]
async fn a_dead_holders_lock_is_taken_over_once() {
    let (_dir, store) = fresh().await;
    let (_tenant, conn) = tenant_and_connection(&store).await;
    let hour = Duration::from_secs(3600);
    assert!(store.run_lock(conn, "orders").await.unwrap().is_none());
    let dead = store
        .try_acquire_run_lock(conn, "orders", "host-a:1", hour)
        .await
        .unwrap()
        .unwrap();
    let seen = store.run_lock(conn, "orders").await.unwrap().unwrap();
    assert_eq!(seen.holder, "host-a:1");
    let mine = store
        .take_over_run_lock(&seen, "host-a:2", hour)
        .await
        .unwrap()
        .expect("taken over");
    assert_eq!(mine.holder, "host-a:2");
    // A second taker working from the same stale view gets nothing.
    assert!(store
        .take_over_run_lock(&dead, "host-a:3", hour)
        .await
        .unwrap()
        .is_none());
    assert!(store.renew_run_lock(&dead, hour).await.unwrap().is_none());
    assert!(store.renew_run_lock(&mine, hour).await.unwrap().is_some());
}

#[tokio::test]
async fn activity_log_and_purge() {
    let (_dir, store) = fresh().await;
    let (tenant, conn) = tenant_and_connection(&store).await;
    let run = store.start_run(conn, "orders", None).await.unwrap();
    for i in 0..3 {
        store
            .log_activity(NewActivity {
                tenant,
                connection: Some(conn),
                run: Some(run),
                level: Level::Info,
                kind: "record".into(),
                message: format!("imported order {i}"),
                detail: Some(json!({"i": i})),
            })
            .await
            .unwrap();
    }
    store
        .log_activity(NewActivity {
            tenant,
            connection: Some(conn),
            run: None,
            level: Level::Warn,
            kind: "log".into(),
            message: "outside a run".into(),
            detail: None,
        })
        .await
        .unwrap();

    let all = store.activity(conn, None, 10).await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].message, "outside a run");
    assert_eq!(all[0].level, Level::Warn);
    let of_run = store.activity(conn, Some(run), 2).await.unwrap();
    let messages: Vec<_> = of_run.iter().map(|a| a.message.as_str()).collect();
    assert_eq!(messages, ["imported order 2", "imported order 1"]);
    assert_eq!(of_run[0].detail, Some(json!({"i": 2})));
    assert_eq!(store.tenant_activity(tenant, 10).await.unwrap().len(), 4);

    // Another tenant's purge touches nothing of ours; a purge in the past removes nothing.
    let other = store.ensure_tenant("globex").await.unwrap();
    assert_eq!(
        store
            .purge_activity_before(other, Utc::now() + chrono::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .purge_activity_before(tenant, Utc::now() - chrono::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .purge_activity_before(tenant, Utc::now() + chrono::Duration::hours(1))
            .await
            .unwrap(),
        4
    );
    assert!(store.activity(conn, None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn plugin_versions_are_recorded() {
    let (_dir, store) = fresh().await;
    store
        .record_plugin_version(
            "pressero",
            "0.1.0",
            "aa",
            Path::new("/plugins/pressero-0.1.0.wasm"),
        )
        .await
        .unwrap();
    store
        .record_plugin_version("pressero", "0.1.0", "aa", Path::new("/plugins/moved.wasm"))
        .await
        .unwrap();
    store
        .record_plugin_version(
            "pressero",
            "0.2.0",
            "bb",
            Path::new("/plugins/pressero-0.2.0.wasm"),
        )
        .await
        .unwrap();
    let versions = store.plugin_versions("pressero").await.unwrap();
    assert_eq!(versions.len(), 2);
    let v1 = versions.iter().find(|v| v.version == "0.1.0").unwrap();
    assert_eq!(v1.path, Path::new("/plugins/moved.wasm"));
    assert!(store.plugin_versions("presswise").await.unwrap().is_empty());
}

#[tokio::test]
async fn two_handles_on_one_file_write_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    // Both open a fresh file at once: the migrations must not trip over each other.
    let (a, b) = tokio::join!(Store::open(&path, key()), Store::open(&path, key()));
    let (a, b) = (a.unwrap(), b.unwrap());
    let tenant = a.ensure_tenant("acme").await.unwrap();
    assert_eq!(b.ensure_tenant("acme").await.unwrap(), tenant);
    let conn = a
        .create_connection(NewConnection::new(tenant, "shoprenter", "Shop"))
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for (w, store) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            for p in 0..10 {
                let records = (0..5)
                    .map(|r| record("order", &format!("w{w}-p{p}-r{r}"), json!({"w": w, "p": p})))
                    .collect();
                let page = ImportPage {
                    tenant,
                    connection: conn,
                    stream: "orders",
                    run: None,
                    records,
                    next_cursor: Some(format!("w{w}-p{p}")),
                };
                store.apply_import_page(page).await?;
                store
                    .kv_set(tenant, conn, &format!("k{w}"), &[p as u8], None)
                    .await?;
                store
                    .log_activity(NewActivity {
                        tenant,
                        connection: Some(conn),
                        run: None,
                        level: Level::Debug,
                        kind: "log".into(),
                        message: format!("w{w} p{p}"),
                        detail: None,
                    })
                    .await?;
            }
            Ok::<_, StoreError>(())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(a.count_canonical(tenant, "order").await.unwrap(), 200);
    assert_eq!(b.count_bindings(conn, "order").await.unwrap(), 200);
    assert_eq!(b.activity(conn, None, 1000).await.unwrap().len(), 40);
}
