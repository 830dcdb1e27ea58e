//! The inbox of order requests (R-A-1): orders from an integration, e-mail or manual entry
//! that wait to become orders at a MIS, with what matching found and what people decided;
//! and the match memory, what was decided once per integration and need not be asked again.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;

use crate::canonical::{canonical_from_row, CanonicalRecord};
use crate::error::{is_unique_violation, DbContext, StoreError};
use crate::ids::{CanonicalId, ConnectionId, FlowId, TenantId};
use crate::store::{checked_name, col, Store};
use crate::time::{from_ms, now_ms};

/// Where a request came from (R-A-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestSource {
    /// Imported from a connection (a web-to-print store).
    Integration,
    /// Typed from an e-mail.
    Email,
    /// Entered by hand.
    Manual,
}

impl RequestSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestSource::Integration => "integration",
            RequestSource::Email => "email",
            RequestSource::Manual => "manual",
        }
    }

    fn parse(s: &str) -> Result<RequestSource, StoreError> {
        match s {
            "integration" => Ok(RequestSource::Integration),
            "email" => Ok(RequestSource::Email),
            "manual" => Ok(RequestSource::Manual),
            other => Err(StoreError::Corrupt(format!(
                "unknown order request source {other:?}"
            ))),
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestState {
    /// A person must decide something (the reason says what).
    NeedsAttention,
    /// Nothing is missing: it can be converted.
    Ready,
    /// Conversion started; running it again continues where it stopped.
    Converting,
    /// The order exists at the target.
    Converted,
    /// The last conversion attempt failed (the reason says why); it can be tried again.
    Failed,
}

impl RequestState {
    /// The stored name, as people read it.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::NeedsAttention => "needs-attention",
            RequestState::Ready => "ready",
            RequestState::Converting => "converting",
            RequestState::Converted => "converted",
            RequestState::Failed => "failed",
        }
    }

    /// Reads a stored or typed name.
    pub fn parse(s: &str) -> Result<RequestState, StoreError> {
        match s {
            "needs-attention" => Ok(RequestState::NeedsAttention),
            "ready" => Ok(RequestState::Ready),
            "converting" => Ok(RequestState::Converting),
            "converted" => Ok(RequestState::Converted),
            "failed" => Ok(RequestState::Failed),
            other => Err(StoreError::InvalidInput(format!(
                "unknown order request state {other:?} (needs-attention, ready, converting, converted, failed)"
            ))),
        }
    }
}

/// A request to put into the inbox.
#[derive(Debug, Clone)]
pub struct NewOrderRequest<'a> {
    pub tenant: TenantId,
    /// The MIS connection it becomes an order at.
    pub target: ConnectionId,
    pub source: RequestSource,
    /// The integration's name (the source connection), or `email` / `manual`.
    pub source_name: &'a str,
    pub flow: Option<FlowId>,
    /// The canonical order it was made from, when imported.
    pub canonical: Option<CanonicalId>,
    /// The order number at the source.
    pub reference: &'a str,
    /// The canonical order (JSON).
    pub order: &'a Value,
}

/// A stored order request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub id: i64,
    pub tenant: TenantId,
    pub target: ConnectionId,
    pub source: RequestSource,
    pub source_name: String,
    pub flow: Option<FlowId>,
    pub canonical: Option<CanonicalId>,
    pub reference: String,
    pub state: RequestState,
    /// Why it is not ready, or why conversion failed.
    pub reason: Option<String>,
    /// The order as it came in.
    pub order: Value,
    /// The last matching answer.
    pub evaluation: Value,
    /// What people decided.
    pub decisions: Value,
    /// Conversion steps done or under way.
    pub progress: Value,
    /// The order's id at the target, once converted.
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub converted_at: Option<DateTime<Utc>>,
}

/// What [`Store::upsert_order_request`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestChange {
    /// A new request.
    Created,
    /// The source changed the order while the request was still open: it was refreshed.
    Refreshed,
    /// Nothing new (or the request is converted or converting and keeps what it had).
    Unchanged,
}

const COLUMNS: &str = "id, tenant_id, target_connection_id, source_kind, source_name, flow_id, \
     canonical_id, reference, state, reason, order_data, evaluation, decisions, progress, \
     external_id, created_at, updated_at, converted_at";

impl Store {
    /// Puts a request into the inbox, or refreshes the order of an open one from the same
    /// source and reference. A request that is converting or converted, or whose failed
    /// conversion sent steps already, is never changed: what was sent stays what it was.
    pub async fn upsert_order_request(
        &self,
        r: NewOrderRequest<'_>,
    ) -> Result<(OrderRequest, RequestChange), StoreError> {
        let source_name = checked_name(r.source_name, "order request source")?;
        let reference = checked_name(r.reference, "order request reference")?;
        if let Some(existing) = self
            .order_request_by_reference(r.tenant, r.target, source_name, reference)
            .await?
        {
            // A failed conversion that already sent steps stays as it was sent.
            let nothing_sent = existing.progress.as_object().is_none_or(|o| o.is_empty());
            let open = match existing.state {
                RequestState::NeedsAttention | RequestState::Ready => true,
                RequestState::Failed => nothing_sent,
                RequestState::Converting | RequestState::Converted => false,
            };
            if !open || &existing.order == r.order {
                return Ok((existing, RequestChange::Unchanged));
            }
            sqlx::query(
                "UPDATE order_requests SET order_data = $2, canonical_id = COALESCE($3, canonical_id),
                    updated_at = $4 WHERE id = $1",
            )
            .bind(existing.id)
            .bind(r.order.to_string())
            .bind(r.canonical.map(|c| c.to_string()))
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .context(format!("refreshing order request {}", existing.id))?;
            let fresh = self.order_request(r.tenant, existing.id).await?;
            return Ok((fresh, RequestChange::Refreshed));
        }
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO order_requests (tenant_id, target_connection_id, source_kind, source_name,
                flow_id, canonical_id, reference, state, order_data, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'needs-attention', $8, $9, $9)
             RETURNING id",
        )
        .bind(r.tenant.to_string())
        .bind(r.target.to_string())
        .bind(r.source.as_str())
        .bind(source_name)
        .bind(r.flow.map(|f| f.to_string()))
        .bind(r.canonical.map(|c| c.to_string()))
        .bind(reference)
        .bind(r.order.to_string())
        .bind(now)
        .fetch_one(&self.pool)
        .await;
        let id: i64 = match inserted {
            Ok(row) => col(&row, "id")?,
            Err(e) if is_unique_violation(&e) => {
                // Another process put it in first: theirs stands.
                let existing = self
                    .order_request_by_reference(r.tenant, r.target, source_name, reference)
                    .await?
                    .ok_or_else(|| {
                        StoreError::Conflict(format!(
                            "order request {source_name}/{reference} vanished while being created"
                        ))
                    })?;
                return Ok((existing, RequestChange::Unchanged));
            }
            Err(e) => {
                return Err(StoreError::db(
                    format!("creating order request {source_name}/{reference}"),
                    e,
                ))
            }
        };
        Ok((
            self.order_request(r.tenant, id).await?,
            RequestChange::Created,
        ))
    }

    /// One request of a tenant; [`StoreError::NotFound`] when there is none.
    pub async fn order_request(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> Result<OrderRequest, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM order_requests WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.to_string())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .context(format!("reading order request {id}"))?
        .map(|r| request_from_row(&r))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("order request {id}")))
    }

    /// The request for an order of a source, if there is one.
    pub async fn order_request_by_reference(
        &self,
        tenant: TenantId,
        target: ConnectionId,
        source_name: &str,
        reference: &str,
    ) -> Result<Option<OrderRequest>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM order_requests WHERE tenant_id = $1 AND target_connection_id = $2
               AND source_name = $3 AND reference = $4"
        ))
        .bind(tenant.to_string())
        .bind(target.to_string())
        .bind(source_name.trim())
        .bind(reference.trim())
        .fetch_optional(&self.pool)
        .await
        .context(format!("reading order request {source_name}/{reference}"))?
        .map(|r| request_from_row(&r))
        .transpose()
    }

    /// A tenant's requests, oldest first, optionally of one state; at most `limit`, after
    /// id `after` (for paging).
    pub async fn order_requests(
        &self,
        tenant: TenantId,
        state: Option<RequestState>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<OrderRequest>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM order_requests
             WHERE tenant_id = $1 AND ($2 IS NULL OR state = $2) AND id > $3
             ORDER BY id LIMIT $4"
        ))
        .bind(tenant.to_string())
        .bind(state.map(RequestState::as_str))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .context(format!("listing order requests of tenant {tenant}"))?
        .iter()
        .map(request_from_row)
        .collect()
    }

    /// How many requests a tenant has in each state.
    pub async fn order_request_counts(
        &self,
        tenant: TenantId,
    ) -> Result<BTreeMap<RequestState, u64>, StoreError> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) AS n FROM order_requests WHERE tenant_id = $1 GROUP BY state",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await
        .context(format!("counting order requests of tenant {tenant}"))?;
        let mut out = BTreeMap::new();
        for r in &rows {
            let state = RequestState::parse(&col::<String>(r, "state")?)?;
            out.insert(state, col::<i64>(r, "n")?.max(0) as u64);
        }
        Ok(out)
    }

    /// Stores a matching answer and the state it leads to. A request that is converting or
    /// converted keeps the answer its conversion was planned on, and its state.
    pub async fn set_order_request_evaluation(
        &self,
        id: i64,
        state: RequestState,
        reason: Option<&str>,
        evaluation: &Value,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE order_requests SET evaluation = $2, state = $3, reason = $4, updated_at = $5
             WHERE id = $1 AND state NOT IN ('converting', 'converted')",
        )
        .bind(id)
        .bind(evaluation.to_string())
        .bind(state.as_str())
        .bind(reason)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .context(format!("storing the matching of order request {id}"))?;
        Ok(())
    }

    /// Stores what people decided. Refused once the request is converting or converted:
    /// what is being converted must not change under it.
    pub async fn set_order_request_decisions(
        &self,
        id: i64,
        decisions: &Value,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE order_requests SET decisions = $2, updated_at = $3
             WHERE id = $1 AND state NOT IN ('converting', 'converted')",
        )
        .bind(id)
        .bind(decisions.to_string())
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .context(format!("storing decisions of order request {id}"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "order request {id} is being converted or converted already; it cannot be changed"
            )));
        }
        Ok(())
    }

    /// Marks a request `converting` with its conversion steps so far. Called before every
    /// step is sent and after it is answered, so a crash leaves a record of what may have
    /// reached the target.
    pub async fn set_order_request_progress(
        &self,
        id: i64,
        progress: &Value,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE order_requests SET progress = $2, state = 'converting', reason = NULL,
                updated_at = $3
             WHERE id = $1 AND state <> 'converted'",
        )
        .bind(id)
        .bind(progress.to_string())
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .context(format!("storing conversion progress of order request {id}"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "order request {id} is converted already"
            )));
        }
        Ok(())
    }

    /// The order exists at the target as `external_id`.
    pub async fn mark_order_request_converted(
        &self,
        id: i64,
        external_id: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(
            "UPDATE order_requests SET state = 'converted', reason = NULL, external_id = $2,
                converted_at = $3, updated_at = $3
             WHERE id = $1",
        )
        .bind(id)
        .bind(external_id)
        .bind(now)
        .execute(&self.pool)
        .await
        .context(format!("marking order request {id} converted"))?;
        Ok(())
    }

    /// The conversion failed with `reason`; the steps done so far stay recorded, so trying
    /// again continues from there.
    pub async fn mark_order_request_failed(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE order_requests SET state = 'failed', reason = $2, updated_at = $3
             WHERE id = $1 AND state <> 'converted'",
        )
        .bind(id)
        .bind(reason)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .context(format!("marking order request {id} failed"))?;
        Ok(())
    }

    /// Remembers a decision for an integration: this key (a product code, an address) is
    /// this record at the target. A later decision for the same key replaces it.
    pub async fn remember_match(
        &self,
        tenant: TenantId,
        target: ConnectionId,
        integration: &str,
        kind: &str,
        key: &str,
        external_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO match_memory (tenant_id, target_connection_id, integration, kind,
                key_value, external_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (target_connection_id, integration, kind, key_value)
             DO UPDATE SET external_id = excluded.external_id, created_at = excluded.created_at",
        )
        .bind(tenant.to_string())
        .bind(target.to_string())
        .bind(integration)
        .bind(kind)
        .bind(key)
        .bind(external_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .context(format!("remembering {kind} {key:?} for {integration}"))?;
        Ok(())
    }

    /// What was remembered for an integration's key, if anything.
    pub async fn remembered_match(
        &self,
        target: ConnectionId,
        integration: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT external_id FROM match_memory WHERE target_connection_id = $1
               AND integration = $2 AND kind = $3 AND key_value = $4",
        )
        .bind(target.to_string())
        .bind(integration)
        .bind(kind)
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .context(format!(
            "reading the remembered {kind} {key:?} of {integration}"
        ))?;
        row.map(|r| col(&r, "external_id")).transpose()
    }

    /// Canonical records of `kind` with the match key `key_type` = `value` that a connection
    /// holds, with their id there; at most `limit`, oldest first. Answered from indexes
    /// (match key, then binding), so it stays fast with many records: `CROSS JOIN` makes
    /// SQLite start from the match key instead of scanning the connection's bindings.
    pub async fn find_bound_by_match_key(
        &self,
        tenant: TenantId,
        conn: ConnectionId,
        kind: &str,
        key_type: &str,
        value: &str,
        limit: u32,
    ) -> Result<Vec<(CanonicalRecord, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.tenant_id, c.kind, c.data, c.content_hash, c.created_at, c.updated_at, c.change_seq,
                    b.external_id AS bound_id
             FROM match_keys m
             CROSS JOIN bindings b
             CROSS JOIN canonical_records c
             WHERE m.tenant_id = $1 AND m.kind = $3 AND m.key_type = $4 AND m.key_value = $5
               AND b.canonical_id = m.canonical_id AND b.connection_id = $2
               AND c.id = m.canonical_id
             ORDER BY c.created_at, c.id LIMIT $6",
        )
        .bind(tenant.to_string())
        .bind(conn.to_string())
        .bind(kind)
        .bind(key_type)
        .bind(value)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .context(format!("finding {kind} by {key_type} in connection {conn}"))?;
        rows.iter()
            .map(|r| Ok((canonical_from_row(r)?, col::<String>(r, "bound_id")?)))
            .collect()
    }

    /// The records of `kind` a connection holds, by external id, after `after`; at most
    /// `limit` (for paging through what an import brought).
    pub async fn bound_records(
        &self,
        conn: ConnectionId,
        kind: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(CanonicalRecord, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.tenant_id, c.kind, c.data, c.content_hash, c.created_at, c.updated_at, c.change_seq,
                    b.external_id AS bound_id
             FROM bindings b JOIN canonical_records c ON c.id = b.canonical_id
             WHERE b.connection_id = $1 AND b.kind = $2 AND b.external_id > $3
             ORDER BY b.external_id LIMIT $4",
        )
        .bind(conn.to_string())
        .bind(kind)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .context(format!("listing {kind} records of connection {conn}"))?;
        rows.iter()
            .map(|r| Ok((canonical_from_row(r)?, col::<String>(r, "bound_id")?)))
            .collect()
    }
}

fn json_col(r: &SqliteRow, name: &str, id: i64) -> Result<Value, StoreError> {
    let text: String = col(r, name)?;
    serde_json::from_str(&text)
        .map_err(|e| StoreError::Corrupt(format!("{name} of order request {id}: {e}")))
}

fn request_from_row(r: &SqliteRow) -> Result<OrderRequest, StoreError> {
    let id: i64 = col(r, "id")?;
    Ok(OrderRequest {
        id,
        tenant: TenantId::from_column(&col::<String>(r, "tenant_id")?)?,
        target: ConnectionId::from_column(&col::<String>(r, "target_connection_id")?)?,
        source: RequestSource::parse(&col::<String>(r, "source_kind")?)?,
        source_name: col(r, "source_name")?,
        flow: col::<Option<String>>(r, "flow_id")?
            .map(|f| FlowId::from_column(&f))
            .transpose()?,
        canonical: col::<Option<String>>(r, "canonical_id")?
            .map(|c| CanonicalId::from_column(&c))
            .transpose()?,
        reference: col(r, "reference")?,
        state: RequestState::parse(&col::<String>(r, "state")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        reason: col(r, "reason")?,
        order: json_col(r, "order_data", id)?,
        evaluation: json_col(r, "evaluation", id)?,
        decisions: json_col(r, "decisions", id)?,
        progress: json_col(r, "progress", id)?,
        external_id: col(r, "external_id")?,
        created_at: from_ms(col(r, "created_at")?)?,
        updated_at: from_ms(col(r, "updated_at")?)?,
        converted_at: col::<Option<i64>>(r, "converted_at")?
            .map(from_ms)
            .transpose()?,
    })
}
