//! Canonical records, bindings (external id ↔ canonical id per connection), match keys and
//! the transactional import page.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::sqlite::SqliteRow;
use sqlx::SqliteConnection;

use crate::error::{is_foreign_key_violation, is_unique_violation, DbContext, StoreError};
use crate::ids::{CanonicalId, ConnectionId, RunId, TenantId};
use crate::store::{col, upsert_cursor, Store};
use crate::time::{from_ms, now_ms};

/// Longest accepted entity kind.
const MAX_KIND_LEN: usize = 64;

/// One page of records fetched from a source, applied in one transaction.
#[derive(Debug, Clone)]
pub struct ImportPage<'a> {
    /// The tenant owning the connection.
    pub tenant: TenantId,
    /// The source connection.
    pub connection: ConnectionId,
    /// The stream the page came from, e.g. `orders`.
    pub stream: &'a str,
    /// The run importing it, recorded on each binding as its last seen run.
    pub run: Option<RunId>,
    /// The records, already mapped into canonical JSON.
    pub records: Vec<ImportRecord>,
    /// The cursor to store with the page; `None` leaves the stored cursor as it is.
    pub next_cursor: Option<String>,
}

/// One record of an [`ImportPage`].
#[derive(Debug, Clone)]
pub struct ImportRecord {
    /// The entity kind, e.g. `order`, `customer`, `stock-level` (lower case letters, digits,
    /// `-` and `_`, starting with a letter).
    pub kind: String,
    /// The record's id in the source system.
    pub external_id: String,
    /// The source's own last-modified stamp, kept on the binding.
    pub external_updated_at: Option<String>,
    /// The canonical entity.
    pub data: Value,
    /// Keys for matching, already normalised by the caller. They replace the record's old
    /// keys whenever the record is created or its data changes.
    pub match_keys: Vec<MatchKey>,
}

/// A normalised key to find a canonical record by, e.g. `email` = `ann@example.com`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MatchKey {
    /// What the key is, e.g. `email`, `sku`, `vat`.
    pub key_type: String,
    /// Its normalised value.
    pub value: String,
}

impl MatchKey {
    /// A key of `key_type` with `value`.
    pub fn new(key_type: impl Into<String>, value: impl Into<String>) -> Self {
        MatchKey {
            key_type: key_type.into(),
            value: value.into(),
        }
    }
}

/// What applying a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordChange {
    /// No binding existed: a canonical record and its binding were created.
    Created,
    /// The binding existed and the content changed.
    Updated,
    /// The binding existed and the content is the same.
    Unchanged,
}

/// The result of [`Store::apply_import_page`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageOutcome {
    /// Records created.
    pub created: u64,
    /// Records whose content changed.
    pub updated: u64,
    /// Records seen again with the same content.
    pub unchanged: u64,
    /// Per record, in page order: external id, canonical id, change.
    pub records: Vec<(String, CanonicalId, RecordChange)>,
}

/// A canonical record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanonicalRecord {
    /// Its id.
    pub id: CanonicalId,
    /// The owning tenant.
    pub tenant: TenantId,
    /// The entity kind.
    pub kind: String,
    /// The canonical entity.
    pub data: Value,
    /// sha256 hex of [`canonical_json`] of `data`.
    pub content_hash: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its content last changed.
    pub updated_at: DateTime<Utc>,
    /// Its place in the store's one sequence of content changes: a larger number changed
    /// later. Flows remember the last one they considered.
    pub change_seq: i64,
}

/// A binding: this connection's external record `external_id` of `kind` is `canonical_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The connection.
    pub connection: ConnectionId,
    /// The entity kind.
    pub kind: String,
    /// The id in the external system.
    pub external_id: String,
    /// The canonical record it stands for.
    pub canonical_id: CanonicalId,
    /// The external system's last-modified stamp, as last seen.
    pub external_updated_at: Option<String>,
    /// The run that last saw it.
    pub last_run: Option<RunId>,
    /// When the binding was created.
    pub created_at: DateTime<Utc>,
    /// When the binding was last touched by an import or [`Store::bind_external`].
    pub updated_at: DateTime<Utc>,
}

/// A binding to record after pushing a canonical record to a target (R-B-2, R-B-3).
#[derive(Debug, Clone)]
pub struct NewBinding<'a> {
    /// The target connection.
    pub connection: ConnectionId,
    /// The entity kind.
    pub kind: &'a str,
    /// The id the target gave the record.
    pub external_id: &'a str,
    /// The canonical record pushed.
    pub canonical_id: CanonicalId,
    /// The target's last-modified stamp, if it reports one.
    pub external_updated_at: Option<&'a str>,
    /// The run that pushed it.
    pub run: Option<RunId>,
}

/// The JSON text whose sha256 is a record's content hash: object keys sorted, no
/// whitespace, so equal content hashes equally whatever order the plugin built it in.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(k.as_str()).to_string());
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn content_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn check_kind(kind: &str) -> Result<(), String> {
    let mut chars = kind.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if starts_with_letter && rest_ok && kind.len() <= MAX_KIND_LEN {
        Ok(())
    } else {
        Err(format!(
            "kind {kind:?} is not valid (lower case letters, digits, '-' and '_', \
             starting with a letter, at most {MAX_KIND_LEN} characters)"
        ))
    }
}

impl Store {
    /// Applies a page in one transaction: per record, upserts its canonical row, binding and
    /// match keys; then stores the page's cursor. Any failure leaves nothing of the page
    /// written, the cursor included, so the page is simply fetched again.
    ///
    /// Per record: a binding `(connection, kind, external_id)` exists → the content hash
    /// decides [`RecordChange::Updated`] or [`RecordChange::Unchanged`]; otherwise a new
    /// canonical record and binding → [`RecordChange::Created`]. The same external id twice
    /// in a page is one record.
    pub async fn apply_import_page(&self, page: ImportPage<'_>) -> Result<PageOutcome, StoreError> {
        let conn = page.connection;
        let mut tx = self
            .begin_write(&format!("starting import page of {conn}/{}", page.stream))
            .await?;
        let owner: Option<String> =
            sqlx::query_scalar("SELECT tenant_id FROM connections WHERE id = $1")
                .bind(conn.to_string())
                .fetch_optional(&mut *tx)
                .await
                .context(format!("reading connection {conn}"))?;
        match owner {
            None => return Err(StoreError::NotFound(format!("connection {conn}"))),
            Some(t) if t != page.tenant.to_string() => {
                return Err(StoreError::InvalidInput(format!(
                    "connection {conn} does not belong to tenant {}",
                    page.tenant
                )))
            }
            Some(_) => {}
        }

        let now = now_ms();
        let mut outcome = PageOutcome::default();
        for (index, record) in page.records.iter().enumerate() {
            let (id, change) =
                apply_record(&mut tx, &page, record, now)
                    .await
                    .map_err(|e| match e {
                        StoreError::InvalidInput(why) => StoreError::InvalidInput(format!(
                            "record {index} (external id {:?}): {why}",
                            record.external_id
                        )),
                        other => other,
                    })?;
            match change {
                RecordChange::Created => outcome.created += 1,
                RecordChange::Updated => outcome.updated += 1,
                RecordChange::Unchanged => outcome.unchanged += 1,
            }
            outcome
                .records
                .push((record.external_id.clone(), id, change));
        }
        if let Some(cursor) = &page.next_cursor {
            upsert_cursor(&mut tx, conn, page.stream, cursor, now).await?;
        }
        tx.commit()
            .await
            .context(format!("committing import page of {conn}/{}", page.stream))?;
        Ok(outcome)
    }

    /// A canonical record by id.
    pub async fn canonical(&self, id: &CanonicalId) -> Result<Option<CanonicalRecord>, StoreError> {
        sqlx::query(
            "SELECT id, tenant_id, kind, data, content_hash, created_at, updated_at, change_seq
             FROM canonical_records WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .context(format!("reading canonical record {id}"))?
        .map(|r| canonical_from_row(&r))
        .transpose()
    }

    /// How many canonical records of `kind` a tenant has.
    pub async fn count_canonical(&self, tenant: TenantId, kind: &str) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM canonical_records WHERE tenant_id = $1 AND kind = $2",
        )
        .bind(tenant.to_string())
        .bind(kind)
        .fetch_one(&self.pool)
        .await
        .context(format!("counting {kind} records of tenant {tenant}"))?;
        Ok(n.max(0) as u64)
    }

    /// The binding of an external record.
    pub async fn binding(
        &self,
        conn: ConnectionId,
        kind: &str,
        external_id: &str,
    ) -> Result<Option<Binding>, StoreError> {
        sqlx::query(&format!(
            "SELECT {BINDING_COLUMNS} FROM bindings
             WHERE connection_id = $1 AND kind = $2 AND external_id = $3"
        ))
        .bind(conn.to_string())
        .bind(kind)
        .bind(external_id)
        .fetch_optional(&self.pool)
        .await
        .context(format!("reading binding {conn}/{kind}/{external_id}"))?
        .map(|r| binding_from_row(&r))
        .transpose()
    }

    /// The binding of a canonical record in a connection: "does this target already have it?"
    /// (the idempotency check before a push). Oldest first if there are several.
    pub async fn binding_for_canonical(
        &self,
        conn: ConnectionId,
        canonical_id: &CanonicalId,
    ) -> Result<Option<Binding>, StoreError> {
        sqlx::query(&format!(
            "SELECT {BINDING_COLUMNS} FROM bindings
             WHERE canonical_id = $1 AND connection_id = $2 ORDER BY created_at LIMIT 1"
        ))
        .bind(canonical_id.to_string())
        .bind(conn.to_string())
        .fetch_optional(&self.pool)
        .await
        .context(format!("reading binding of {canonical_id} in {conn}"))?
        .map(|r| binding_from_row(&r))
        .transpose()
    }

    /// Every binding of a canonical record, across connections.
    pub async fn bindings_of(
        &self,
        canonical_id: &CanonicalId,
    ) -> Result<Vec<Binding>, StoreError> {
        sqlx::query(&format!(
            "SELECT {BINDING_COLUMNS} FROM bindings WHERE canonical_id = $1
             ORDER BY created_at, connection_id"
        ))
        .bind(canonical_id.to_string())
        .fetch_all(&self.pool)
        .await
        .context(format!("listing bindings of {canonical_id}"))?
        .iter()
        .map(binding_from_row)
        .collect()
    }

    /// Records that `external_id` in a connection is `canonical_id`, e.g. right after a push
    /// so a retry finds it. Re-binding the same pair refreshes it; binding an external id
    /// that already stands for another canonical record is a [`StoreError::Conflict`].
    pub async fn bind_external(&self, b: NewBinding<'_>) -> Result<Binding, StoreError> {
        check_kind(b.kind).map_err(StoreError::InvalidInput)?;
        let now = now_ms();
        let what = format!("binding {}/{}/{}", b.connection, b.kind, b.external_id);
        let result = sqlx::query(
            "INSERT INTO bindings (connection_id, kind, external_id, canonical_id,
                                   external_updated_at, last_run_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
             ON CONFLICT (connection_id, kind, external_id) DO UPDATE SET
                external_updated_at = excluded.external_updated_at,
                last_run_id = excluded.last_run_id,
                updated_at = excluded.updated_at
             WHERE bindings.canonical_id = excluded.canonical_id",
        )
        .bind(b.connection.to_string())
        .bind(b.kind)
        .bind(b.external_id)
        .bind(b.canonical_id.to_string())
        .bind(b.external_updated_at)
        .bind(b.run.map(|r| r.to_string()))
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!(
                    "connection {}, canonical record {} or run of {what}",
                    b.connection, b.canonical_id
                ))
            } else {
                StoreError::db(format!("writing {what}"), e)
            }
        })?;
        if result.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "{what} already stands for another canonical record"
            )));
        }
        self.binding(b.connection, b.kind, b.external_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(what))
    }

    /// How many bindings of `kind` a connection has.
    pub async fn count_bindings(&self, conn: ConnectionId, kind: &str) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM bindings WHERE connection_id = $1 AND kind = $2",
        )
        .bind(conn.to_string())
        .bind(kind)
        .fetch_one(&self.pool)
        .await
        .context(format!("counting {kind} bindings of {conn}"))?;
        Ok(n.max(0) as u64)
    }

    /// The tenant's canonical records of `kind` carrying the match key, oldest first.
    /// `key_value` must be normalised the same way as at import.
    pub async fn find_by_match_key(
        &self,
        tenant: TenantId,
        kind: &str,
        key_type: &str,
        key_value: &str,
    ) -> Result<Vec<CanonicalRecord>, StoreError> {
        sqlx::query(
            "SELECT c.id, c.tenant_id, c.kind, c.data, c.content_hash, c.created_at, c.updated_at, c.change_seq
             FROM match_keys m JOIN canonical_records c ON c.id = m.canonical_id
             WHERE m.tenant_id = $1 AND m.key_type = $2 AND m.key_value = $3 AND m.kind = $4
             ORDER BY c.created_at, c.id",
        )
        .bind(tenant.to_string())
        .bind(key_type)
        .bind(key_value)
        .bind(kind)
        .fetch_all(&self.pool)
        .await
        .context(format!("finding {kind} by {key_type}"))?
        .iter()
        .map(canonical_from_row)
        .collect()
    }

    /// The match keys of a canonical record, sorted.
    pub async fn match_keys(&self, id: &CanonicalId) -> Result<Vec<MatchKey>, StoreError> {
        sqlx::query(
            "SELECT key_type, key_value FROM match_keys WHERE canonical_id = $1
             ORDER BY key_type, key_value",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await
        .context(format!("reading match keys of {id}"))?
        .iter()
        .map(|r| {
            Ok(MatchKey::new(
                col::<String>(r, "key_type")?,
                col::<String>(r, "key_value")?,
            ))
        })
        .collect()
    }
}

const BINDING_COLUMNS: &str = "connection_id, kind, external_id, canonical_id, \
     external_updated_at, last_run_id, created_at, updated_at";

async fn apply_record(
    db: &mut SqliteConnection,
    page: &ImportPage<'_>,
    record: &ImportRecord,
    now: i64,
) -> Result<(CanonicalId, RecordChange), StoreError> {
    check_kind(&record.kind).map_err(StoreError::InvalidInput)?;
    if record.external_id.is_empty() {
        return Err(StoreError::InvalidInput(
            "external id must not be empty".into(),
        ));
    }
    let conn = page.connection.to_string();
    let run = page.run.map(|r| r.to_string());
    let text = canonical_json(&record.data);
    let hash = content_hash(&text);
    let what = format!(
        "importing {}/{}/{}",
        page.connection, record.kind, record.external_id
    );

    let existing: Option<(String, String)> = sqlx::query_as(
        "SELECT b.canonical_id, c.content_hash
         FROM bindings b JOIN canonical_records c ON c.id = b.canonical_id
         WHERE b.connection_id = $1 AND b.kind = $2 AND b.external_id = $3",
    )
    .bind(&conn)
    .bind(&record.kind)
    .bind(&record.external_id)
    .fetch_optional(&mut *db)
    .await
    .context(what.clone())?;

    let fk = |e: sqlx::Error| {
        if is_foreign_key_violation(&e) {
            StoreError::NotFound(format!("run of {what} (or its connection)"))
        } else {
            StoreError::db(what.clone(), e)
        }
    };

    let (id, change) = match existing {
        Some((id, old_hash)) => {
            let id = CanonicalId::from_column(&id)?;
            let change = if old_hash == hash {
                RecordChange::Unchanged
            } else {
                sqlx::query(
                    "UPDATE canonical_records SET data = $1, content_hash = $2, updated_at = $3,
                        change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM canonical_records)
                     WHERE id = $4",
                )
                .bind(&text)
                .bind(&hash)
                .bind(now)
                .bind(id.to_string())
                .execute(&mut *db)
                .await
                .map_err(fk)?;
                RecordChange::Updated
            };
            sqlx::query(
                "UPDATE bindings SET external_updated_at = $1, last_run_id = $2, updated_at = $3
                 WHERE connection_id = $4 AND kind = $5 AND external_id = $6",
            )
            .bind(&record.external_updated_at)
            .bind(&run)
            .bind(now)
            .bind(&conn)
            .bind(&record.kind)
            .bind(&record.external_id)
            .execute(&mut *db)
            .await
            .map_err(fk)?;
            (id, change)
        }
        None => {
            let id = CanonicalId::new();
            sqlx::query(
                "INSERT INTO canonical_records
                 (id, tenant_id, kind, data, content_hash, created_at, updated_at, change_seq)
                 VALUES ($1, $2, $3, $4, $5, $6, $6,
                         (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM canonical_records))",
            )
            .bind(id.to_string())
            .bind(page.tenant.to_string())
            .bind(&record.kind)
            .bind(&text)
            .bind(&hash)
            .bind(now)
            .execute(&mut *db)
            .await
            .map_err(fk)?;
            sqlx::query(
                "INSERT INTO bindings (connection_id, kind, external_id, canonical_id,
                                       external_updated_at, last_run_id, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(&conn)
            .bind(&record.kind)
            .bind(&record.external_id)
            .bind(id.to_string())
            .bind(&record.external_updated_at)
            .bind(&run)
            .bind(now)
            .execute(&mut *db)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("{what}: binding already exists"))
                } else {
                    fk(e)
                }
            })?;
            (id, RecordChange::Created)
        }
    };

    if change != RecordChange::Unchanged {
        replace_match_keys(db, page.tenant, &record.kind, id, &record.match_keys).await?;
    }
    Ok((id, change))
}

async fn replace_match_keys(
    db: &mut SqliteConnection,
    tenant: TenantId,
    kind: &str,
    id: CanonicalId,
    keys: &[MatchKey],
) -> Result<(), StoreError> {
    let what = format!("writing match keys of {id}");
    sqlx::query("DELETE FROM match_keys WHERE canonical_id = $1")
        .bind(id.to_string())
        .execute(&mut *db)
        .await
        .context(what.clone())?;
    for key in keys {
        if key.key_type.is_empty() || key.value.is_empty() {
            return Err(StoreError::InvalidInput(format!(
                "match key {:?} = {:?} must have a type and a value",
                key.key_type, key.value
            )));
        }
        sqlx::query(
            "INSERT INTO match_keys (tenant_id, kind, key_type, key_value, canonical_id)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (canonical_id, key_type, key_value) DO NOTHING",
        )
        .bind(tenant.to_string())
        .bind(kind)
        .bind(&key.key_type)
        .bind(&key.value)
        .bind(id.to_string())
        .execute(&mut *db)
        .await
        .context(what.clone())?;
    }
    Ok(())
}

pub(crate) fn canonical_from_row(r: &SqliteRow) -> Result<CanonicalRecord, StoreError> {
    let id = CanonicalId::from_column(&col::<String>(r, "id")?)?;
    let text: String = col(r, "data")?;
    let data = serde_json::from_str(&text)
        .map_err(|e| StoreError::Corrupt(format!("data of canonical record {id}: {e}")))?;
    Ok(CanonicalRecord {
        id,
        tenant: TenantId::from_column(&col::<String>(r, "tenant_id")?)?,
        kind: col(r, "kind")?,
        data,
        content_hash: col(r, "content_hash")?,
        created_at: from_ms(col(r, "created_at")?)?,
        updated_at: from_ms(col(r, "updated_at")?)?,
        change_seq: col(r, "change_seq")?,
    })
}

fn binding_from_row(r: &SqliteRow) -> Result<Binding, StoreError> {
    Ok(Binding {
        connection: ConnectionId::from_column(&col::<String>(r, "connection_id")?)?,
        kind: col(r, "kind")?,
        external_id: col(r, "external_id")?,
        canonical_id: CanonicalId::from_column(&col::<String>(r, "canonical_id")?)?,
        external_updated_at: col(r, "external_updated_at")?,
        last_run: col::<Option<String>>(r, "last_run_id")?
            .map(|s| RunId::from_column(&s))
            .transpose()?,
        created_at: from_ms(col(r, "created_at")?)?,
        updated_at: from_ms(col(r, "updated_at")?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_ignores_key_order() {
        let a = json!({"b": 1, "a": {"y": [1, "x"], "x": null}});
        let b = json!({"a": {"x": null, "y": [1, "x"]}, "b": 1});
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&a), r#"{"a":{"x":null,"y":[1,"x"]},"b":1}"#);
        assert_ne!(canonical_json(&a), canonical_json(&json!({"a": 1, "b": 1})));
    }

    #[test]
    fn kinds_are_checked() {
        assert!(check_kind("order").is_ok());
        assert!(check_kind("stock-level").is_ok());
        assert!(check_kind("").is_err());
        assert!(check_kind("Order").is_err());
        assert!(check_kind("1order").is_err());
        assert!(check_kind("or der").is_err());
    }
}
