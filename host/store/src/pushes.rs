//! Push records (R-B-2): per flow and source record, whether and how it reached the target,
//! and per item the target's id, status and shipment.
//!
//! The states make a push safe to interrupt: an attempt is written as `sending` before the
//! plugin is called, so after a crash the next attempt knows the target may already have the
//! record and asks the plugin to look it up before creating it (R-B-3).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;

use crate::canonical::{canonical_from_row, CanonicalRecord};
use crate::error::{DbContext, StoreError};
use crate::ids::{CanonicalId, ConnectionId, FlowId, RunId};
use crate::store::{col, Store};
use crate::time::{from_ms, now_ms};

/// Where a record stands in a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushState {
    /// A push rule holds it (`hold_reason` says which).
    Waiting,
    /// An attempt started and its outcome is not recorded: the target may have it.
    Sending,
    /// Created at the target (or found there after an ambiguous attempt).
    Pushed,
    /// Found at the target without pushing (status-only mode).
    Linked,
    /// The last attempt failed (`last_error`).
    Failed,
    /// Given up after the flow's maximum attempts; only "push again" retries it.
    Dead,
}

impl PushState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PushState::Waiting => "waiting",
            PushState::Sending => "sending",
            PushState::Pushed => "pushed",
            PushState::Linked => "linked",
            PushState::Failed => "failed",
            PushState::Dead => "dead",
        }
    }

    /// Whether the target has the record.
    pub fn is_at_target(self) -> bool {
        matches!(self, PushState::Pushed | PushState::Linked)
    }
}

impl fmt::Display for PushState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PushState {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "waiting" => PushState::Waiting,
            "sending" => PushState::Sending,
            "pushed" => PushState::Pushed,
            "linked" => PushState::Linked,
            "failed" => PushState::Failed,
            "dead" => PushState::Dead,
            other => return Err(StoreError::Corrupt(format!("unknown push state {other:?}"))),
        })
    }
}

/// The integration record of one source record in one flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRecord {
    /// The flow.
    pub flow: FlowId,
    /// The canonical record (e.g. the order).
    pub canonical_id: CanonicalId,
    /// Where it stands.
    pub state: PushState,
    /// The push rule that holds it, while waiting.
    pub hold_reason: Option<String>,
    /// The key passed to the target on every attempt.
    pub idempotency_key: String,
    /// The target's id (order number) once it has the record.
    pub external_id: Option<String>,
    /// The target's status text of the record.
    pub external_status: Option<String>,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// Whether the last error may clear by itself (transient, rate limited).
    pub retryable: bool,
    /// Attempts so far.
    pub attempts: u32,
    /// Not retried automatically before this.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the target got it.
    pub pushed_at: Option<DateTime<Utc>>,
    /// The run that last touched it.
    pub last_run: Option<RunId>,
    /// Every item reached a final status: status polling skips it.
    pub status_final: bool,
    /// Why the last status poll of this record failed (cleared by the next good one).
    pub status_error: Option<String>,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The integration record of one item of a pushed record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushItem {
    /// The item's id at the source.
    pub source_item_id: String,
    /// The target's id of the line.
    pub external_id: Option<String>,
    /// The target's status text of the line.
    pub external_status: Option<String>,
    /// The canonical item status last synced from the target.
    pub status: Option<String>,
    /// The shipment last synced from the target (canonical JSON).
    pub shipment: Option<Value>,
    /// What was last written back to the source.
    pub written_back: Option<String>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One line the target reported for a pushed record.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedLine {
    /// The item's id at the source.
    pub source_item_id: String,
    /// The target's id of the line.
    pub external_id: String,
    /// The target's status text of the line.
    pub external_status: Option<String>,
}

/// A successful push (or a find, in status-only mode or after an ambiguous attempt).
#[derive(Debug, Clone)]
pub struct PushSuccess<'a> {
    /// The flow.
    pub flow: FlowId,
    /// The target connection (a binding is written there).
    pub target: ConnectionId,
    /// The entity kind of the binding, e.g. `order`.
    pub kind: &'a str,
    /// The canonical record.
    pub canonical_id: CanonicalId,
    /// The target's id.
    pub external_id: &'a str,
    /// The target's status text.
    pub external_status: Option<&'a str>,
    /// The target's lines.
    pub lines: &'a [PushedLine],
    /// True for status-only links ([`PushState::Linked`]).
    pub linked: bool,
    /// The run.
    pub run: Option<RunId>,
}

/// A failed attempt.
#[derive(Debug, Clone)]
pub struct PushFailure<'a> {
    /// The error, for people.
    pub error: &'a str,
    /// Whether it may clear by itself.
    pub retryable: bool,
    /// Not retried automatically before this (ms since the epoch).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Give up: [`PushState::Dead`].
    pub dead: bool,
    /// The run.
    pub run: Option<RunId>,
}

const PUSH_COLUMNS: &str = "flow_id, canonical_id, state, hold_reason, idempotency_key, \
     external_id, external_status, last_error, retryable, attempts, next_attempt_at, pushed_at, \
     last_run_id, status_final, status_error, created_at, updated_at";

/// The push columns of a join, each as `p_<name>` (see [`push_from_row_at`]).
const JOINED_PUSH_COLUMNS: &str = "p.flow_id AS p_flow_id, p.canonical_id AS p_canonical_id, \
     p.state AS p_state, p.hold_reason AS p_hold_reason, p.idempotency_key AS p_idempotency_key, \
     p.external_id AS p_external_id, p.external_status AS p_external_status, \
     p.last_error AS p_last_error, p.retryable AS p_retryable, p.attempts AS p_attempts, \
     p.next_attempt_at AS p_next_attempt_at, p.pushed_at AS p_pushed_at, \
     p.last_run_id AS p_last_run_id, p.status_final AS p_status_final, p.status_error AS p_status_error, \
     p.created_at AS p_created_at, p.updated_at AS p_updated_at";

/// The canonical columns of a join.
const JOINED_CANONICAL_COLUMNS: &str = "c.id, c.tenant_id, c.kind, c.data, c.content_hash, \
     c.created_at, c.updated_at, c.change_seq";

const ITEM_COLUMNS: &str =
    "source_item_id, external_id, external_status, status, shipment, written_back, updated_at";

/// The idempotency key of a record in a flow: stable across attempts, runs and hosts.
pub fn idempotency_key(flow: FlowId, canonical_id: &CanonicalId) -> String {
    format!("switchyard-{flow}-{canonical_id}")
}

impl Store {
    /// Source records of a flow changed after `after_seq` (a canonical record's
    /// [`CanonicalRecord::change_seq`]), oldest change first, each with its push record in
    /// the flow if any: those bound to the source connection with `kind`. A flow looks at
    /// these and remembers the last change it considered ([`Store::set_push_seq`]), so a
    /// run reads what changed, never the whole history. One query per page.
    pub async fn push_changes(
        &self,
        flow: FlowId,
        source: ConnectionId,
        kind: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<(CanonicalRecord, Option<PushRecord>)>, StoreError> {
        sqlx::query(&format!(
            "SELECT {JOINED_CANONICAL_COLUMNS}, {JOINED_PUSH_COLUMNS}
             FROM connections s
             CROSS JOIN canonical_records c
             CROSS JOIN bindings b
             LEFT JOIN pushes p ON p.flow_id = $1 AND p.canonical_id = c.id
             WHERE s.id = $2 AND c.tenant_id = s.tenant_id AND c.kind = $3
               AND c.change_seq > $4
               AND b.canonical_id = c.id AND b.connection_id = $2 AND b.kind = $3
             ORDER BY c.change_seq LIMIT $5"
        ))
        .bind(flow.to_string())
        .bind(source.to_string())
        .bind(kind)
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .context(format!("listing changed records of flow {flow}"))?
        .iter()
        .map(candidate_from_row)
        .collect()
    }

    /// Records of a flow due for another attempt at `now`, after `after` in id order: an
    /// attempt that was interrupted (`sending`), or a retryable failure whose next attempt
    /// has come. Found through an index, whatever the size of the history.
    pub async fn push_retries_due(
        &self,
        flow: FlowId,
        now: DateTime<Utc>,
        after: Option<&CanonicalId>,
        limit: u32,
    ) -> Result<Vec<(CanonicalRecord, Option<PushRecord>)>, StoreError> {
        sqlx::query(&format!(
            "SELECT {JOINED_CANONICAL_COLUMNS}, {JOINED_PUSH_COLUMNS}
             FROM pushes p JOIN canonical_records c ON c.id = p.canonical_id
             WHERE p.flow_id = $1 AND p.canonical_id > $3
               AND (p.state = 'sending'
                    OR (p.state = 'failed' AND p.retryable
                        AND (p.next_attempt_at IS NULL OR p.next_attempt_at <= $2)))
             ORDER BY p.canonical_id LIMIT $4"
        ))
        .bind(flow.to_string())
        .bind(now.timestamp_millis())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .context(format!("listing retries due in flow {flow}"))?
        .iter()
        .map(candidate_from_row)
        .collect()
    }

    /// The last source change a flow's push considered (0: none yet).
    pub async fn push_seq(&self, flow: FlowId) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT push_seq FROM flows WHERE id = $1")
            .bind(flow.to_string())
            .fetch_optional(&self.pool)
            .await
            .context(format!("reading the push mark of flow {flow}"))?
            .ok_or_else(|| StoreError::NotFound(format!("flow {flow}")))
    }

    /// Remembers the last source change a flow's push considered; never moves it back.
    pub async fn set_push_seq(&self, flow: FlowId, seq: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE flows SET push_seq = MAX(push_seq, $2) WHERE id = $1")
            .bind(flow.to_string())
            .bind(seq)
            .execute(&self.pool)
            .await
            .context(format!("moving the push mark of flow {flow}"))?;
        Ok(())
    }

    /// Makes a flow look at every source record again on its next push (after its
    /// settings changed, for instance its window).
    pub async fn reset_push_seq(&self, flow: FlowId) -> Result<(), StoreError> {
        sqlx::query("UPDATE flows SET push_seq = 0 WHERE id = $1")
            .bind(flow.to_string())
            .execute(&self.pool)
            .await
            .context(format!("resetting the push mark of flow {flow}"))?;
        Ok(())
    }

    /// The push record of a canonical record in a flow.
    pub async fn push_record(
        &self,
        flow: FlowId,
        canonical_id: &CanonicalId,
    ) -> Result<Option<PushRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {PUSH_COLUMNS} FROM pushes WHERE flow_id = $1 AND canonical_id = $2"
        ))
        .bind(flow.to_string())
        .bind(canonical_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .context(format!(
            "reading push record of {canonical_id} in flow {flow}"
        ))?
        .map(|r| push_from_row(&r))
        .transpose()
    }

    /// Every push record of a canonical record, across flows (R-B-10: one per service).
    pub async fn push_records_of(
        &self,
        canonical_id: &CanonicalId,
    ) -> Result<Vec<PushRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {PUSH_COLUMNS} FROM pushes WHERE canonical_id = $1 ORDER BY flow_id"
        ))
        .bind(canonical_id.to_string())
        .fetch_all(&self.pool)
        .await
        .context(format!("listing push records of {canonical_id}"))?
        .iter()
        .map(push_from_row)
        .collect()
    }

    /// The item records of a pushed record, by source item id.
    pub async fn push_items(
        &self,
        flow: FlowId,
        canonical_id: &CanonicalId,
    ) -> Result<Vec<PushItem>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM push_items WHERE flow_id = $1 AND canonical_id = $2
             ORDER BY source_item_id"
        ))
        .bind(flow.to_string())
        .bind(canonical_id.to_string())
        .fetch_all(&self.pool)
        .await
        .context(format!(
            "reading push items of {canonical_id} in flow {flow}"
        ))?
        .iter()
        .map(item_from_row)
        .collect()
    }

    /// How many records of a flow are in each state.
    pub async fn push_counts(&self, flow: FlowId) -> Result<BTreeMap<PushState, u64>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM pushes WHERE flow_id = $1 GROUP BY state")
                .bind(flow.to_string())
                .fetch_all(&self.pool)
                .await
                .context(format!("counting push records of flow {flow}"))?;
        rows.into_iter()
            .map(|(s, n)| Ok((s.parse()?, n.max(0) as u64)))
            .collect()
    }

    /// Records that a push rule holds the record. A record the target may already have
    /// (sending, pushed, linked) or that was given up (dead) is left as it is; returns
    /// whether the stored reason changed (so the log says it once, not every run).
    pub async fn hold_push(
        &self,
        flow: FlowId,
        canonical_id: &CanonicalId,
        reason: &str,
        run: Option<RunId>,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "INSERT INTO pushes (flow_id, canonical_id, state, hold_reason, idempotency_key,
                                 last_run_id, created_at, updated_at)
             VALUES ($1, $2, 'waiting', $3, $4, $5, $6, $6)
             ON CONFLICT (flow_id, canonical_id) DO UPDATE SET
                state = 'waiting', hold_reason = excluded.hold_reason,
                last_run_id = excluded.last_run_id, updated_at = excluded.updated_at
             WHERE pushes.state IN ('waiting', 'failed')
               AND (pushes.state <> 'waiting' OR pushes.hold_reason IS NOT excluded.hold_reason)",
        )
        .bind(flow.to_string())
        .bind(canonical_id.to_string())
        .bind(reason)
        .bind(idempotency_key(flow, canonical_id))
        .bind(run.map(|r| r.to_string()))
        .bind(now)
        .execute(&self.pool)
        .await
        .context(format!("holding {canonical_id} in flow {flow}"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Starts an attempt: the record becomes `sending` with one more attempt, durably,
    /// before anything is sent. Refused ([`StoreError::Conflict`]) when the target already
    /// has it, or when it is dead and `revive` is false. Returns the record as it was
    /// before, so the caller knows whether an earlier attempt may have reached the target.
    ///
    /// With `update`, a record already pushed may be sent again (a catalogue record that
    /// changed at the source): its external id is kept and its attempts start over.
    pub async fn begin_push_attempt(
        &self,
        flow: FlowId,
        canonical_id: &CanonicalId,
        revive: bool,
        update: bool,
        run: Option<RunId>,
    ) -> Result<Option<PushRecord>, StoreError> {
        let mut tx = self
            .begin_durable_write(&format!("starting a push of {canonical_id} in flow {flow}"))
            .await?;
        let before = sqlx::query(&format!(
            "SELECT {PUSH_COLUMNS} FROM pushes WHERE flow_id = $1 AND canonical_id = $2"
        ))
        .bind(flow.to_string())
        .bind(canonical_id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .context(format!("reading push record of {canonical_id}"))?
        .map(|r| push_from_row(&r))
        .transpose()?;
        if let Some(b) = &before {
            if b.state.is_at_target() && !(update && b.state == PushState::Pushed) {
                return Err(StoreError::Conflict(format!(
                    "{canonical_id} is already at the target of flow {flow} as {}",
                    b.external_id.as_deref().unwrap_or("?")
                )));
            }
            if b.state == PushState::Dead && !revive {
                return Err(StoreError::Conflict(format!(
                    "{canonical_id} was given up in flow {flow} after {} attempts; push it again by hand",
                    b.attempts
                )));
            }
        }
        let now = now_ms();
        sqlx::query(
            "INSERT INTO pushes (flow_id, canonical_id, state, idempotency_key, attempts,
                                 last_run_id, created_at, updated_at)
             VALUES ($1, $2, 'sending', $3, 1, $4, $5, $5)
             ON CONFLICT (flow_id, canonical_id) DO UPDATE SET
                state = 'sending', hold_reason = NULL,
                attempts = CASE WHEN pushes.state = 'pushed' THEN 1 ELSE pushes.attempts + 1 END,
                last_run_id = excluded.last_run_id, updated_at = excluded.updated_at",
        )
        .bind(flow.to_string())
        .bind(canonical_id.to_string())
        .bind(idempotency_key(flow, canonical_id))
        .bind(run.map(|r| r.to_string()))
        .bind(now)
        .execute(&mut *tx)
        .await
        .context(format!("starting a push of {canonical_id}"))?;
        tx.commit()
            .await
            .context(format!("committing the start of a push of {canonical_id}"))?;
        Ok(before)
    }

    /// Records a successful push: the record, its lines and the target binding, at once.
    pub async fn record_pushed(&self, s: PushSuccess<'_>) -> Result<(), StoreError> {
        let what = format!("push of {} in flow {}", s.canonical_id, s.flow);
        let mut tx = self.begin_write(&format!("recording the {what}")).await?;
        let now = now_ms();
        sqlx::query(
            "UPDATE pushes SET state = $3, external_id = $4, external_status = $5,
                last_error = NULL, retryable = FALSE, next_attempt_at = NULL, hold_reason = NULL,
                pushed_at = COALESCE(pushed_at, $6), last_run_id = $7, updated_at = $6
             WHERE flow_id = $1 AND canonical_id = $2",
        )
        .bind(s.flow.to_string())
        .bind(s.canonical_id.to_string())
        .bind(if s.linked { "linked" } else { "pushed" })
        .bind(s.external_id)
        .bind(s.external_status)
        .bind(now)
        .bind(s.run.map(|r| r.to_string()))
        .execute(&mut *tx)
        .await
        .context(format!("recording the {what}"))?;
        for line in s.lines {
            sqlx::query(
                "INSERT INTO push_items (flow_id, canonical_id, source_item_id, external_id,
                                         external_status, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (flow_id, canonical_id, source_item_id) DO UPDATE SET
                    external_id = excluded.external_id,
                    external_status = COALESCE(excluded.external_status, push_items.external_status),
                    updated_at = excluded.updated_at",
            )
            .bind(s.flow.to_string())
            .bind(s.canonical_id.to_string())
            .bind(&line.source_item_id)
            .bind(&line.external_id)
            .bind(line.external_status.as_deref())
            .bind(now)
            .execute(&mut *tx)
            .await
            .context(format!("recording item {} of the {what}", line.source_item_id))?;
        }
        sqlx::query(
            "INSERT INTO bindings (connection_id, kind, external_id, canonical_id,
                                   last_run_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (connection_id, kind, external_id) DO NOTHING",
        )
        .bind(s.target.to_string())
        .bind(s.kind)
        .bind(s.external_id)
        .bind(s.canonical_id.to_string())
        .bind(s.run.map(|r| r.to_string()))
        .bind(now)
        .execute(&mut *tx)
        .await
        .context(format!("binding the {what}"))?;
        tx.commit()
            .await
            .context(format!("committing the {what}"))?;
        Ok(())
    }

    /// Records a failed attempt.
    pub async fn record_push_failure(
        &self,
        flow: FlowId,
        canonical_id: &CanonicalId,
        f: PushFailure<'_>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE pushes SET state = $3, last_error = $4, retryable = $5, next_attempt_at = $6,
                last_run_id = $7, updated_at = $8
             WHERE flow_id = $1 AND canonical_id = $2 AND state = 'sending'",
        )
        .bind(flow.to_string())
        .bind(canonical_id.to_string())
        .bind(if f.dead { "dead" } else { "failed" })
        .bind(f.error)
        .bind(f.retryable)
        .bind(f.next_attempt_at.map(|t| t.timestamp_millis()))
        .bind(f.run.map(|r| r.to_string()))
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .context(format!(
            "recording a failed push of {canonical_id} in flow {flow}"
        ))?;
        Ok(())
    }

    /// Records at the target, after `after` in id order: what a status synchronisation polls.
    /// Records whose items all reached a final status are left out unless `include_final`.
    pub async fn pushed_records(
        &self,
        flow: FlowId,
        after: Option<&CanonicalId>,
        limit: u32,
        include_final: bool,
    ) -> Result<Vec<PushRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {PUSH_COLUMNS} FROM pushes
             WHERE flow_id = $1 AND state IN ('pushed', 'linked') AND canonical_id > $2
               AND ($4 OR status_final = FALSE)
             ORDER BY canonical_id LIMIT $3"
        ))
        .bind(flow.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(i64::from(limit))
        .bind(include_final)
        .fetch_all(&self.pool)
        .await
        .context(format!("listing pushed records of flow {flow}"))?
        .iter()
        .map(push_from_row)
        .collect()
    }

    /// The push record whose target id is `external_id`.
    pub async fn push_by_external_id(
        &self,
        flow: FlowId,
        external_id: &str,
    ) -> Result<Option<PushRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {PUSH_COLUMNS} FROM pushes WHERE flow_id = $1 AND external_id = $2
             ORDER BY created_at LIMIT 1"
        ))
        .bind(flow.to_string())
        .bind(external_id)
        .fetch_optional(&self.pool)
        .await
        .context(format!(
            "reading the push of target record {external_id} in flow {flow}"
        ))?
        .map(|r| push_from_row(&r))
        .transpose()
    }

    /// Stores a line's status as the target reports it; returns the item record as it is
    /// now when something changed, `None` when the target's line is unknown or unchanged.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_item_status(
        &self,
        flow: FlowId,
        canonical_id: &CanonicalId,
        external_item_id: &str,
        status: &str,
        external_status: Option<&str>,
        shipment: Option<&Value>,
    ) -> Result<Option<PushItem>, StoreError> {
        let shipment_text = shipment.map(|s| s.to_string());
        let done = sqlx::query(
            "UPDATE push_items SET status = $4, external_status = $5, shipment = $6, updated_at = $7
             WHERE flow_id = $1 AND canonical_id = $2 AND external_id = $3
               AND (status IS NOT $4 OR external_status IS NOT $5 OR shipment IS NOT $6)",
        )
        .bind(flow.to_string())
        .bind(canonical_id.to_string())
        .bind(external_item_id)
        .bind(status)
        .bind(external_status)
        .bind(shipment_text.as_deref())
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .context(format!("recording the status of target line {external_item_id}"))?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM push_items
             WHERE flow_id = $1 AND canonical_id = $2 AND external_id = $3"
        ))
        .bind(flow.to_string())
        .bind(canonical_id.to_string())
        .bind(external_item_id)
        .fetch_optional(&self.pool)
        .await
        .context(format!("reading target line {external_item_id}"))?
        .map(|r| item_from_row(&r))
        .transpose()
    }

    /// Marks whether every item of a pushed record reached a final status, so status
    /// polling skips it from now on (or polls it again).
    pub async fn set_push_final(
        &self,
        flow: FlowId,
        canonical_id: &CanonicalId,
        is_final: bool,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE pushes SET status_final = $3 WHERE flow_id = $1 AND canonical_id = $2")
            .bind(flow.to_string())
            .bind(canonical_id.to_string())
            .bind(is_final)
            .execute(&self.pool)
            .await
            .context(format!("marking {canonical_id} final in flow {flow}"))?;
        Ok(())
    }

    /// Records why the status of a pushed record could not be read (`None`: it was read).
    pub async fn record_status_error(
        &self,
        flow: FlowId,
        canonical_id: &CanonicalId,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE pushes SET status_error = $3
             WHERE flow_id = $1 AND canonical_id = $2 AND status_error IS NOT $3",
        )
        .bind(flow.to_string())
        .bind(canonical_id.to_string())
        .bind(error)
        .execute(&self.pool)
        .await
        .context(format!(
            "recording the status poll of {canonical_id} in flow {flow}"
        ))?;
        Ok(())
    }

    /// Records what was written back to the source for an item.
    pub async fn record_written_back(
        &self,
        flow: FlowId,
        canonical_id: &CanonicalId,
        source_item_id: &str,
        written: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE push_items SET written_back = $4, updated_at = $5
             WHERE flow_id = $1 AND canonical_id = $2 AND source_item_id = $3",
        )
        .bind(flow.to_string())
        .bind(canonical_id.to_string())
        .bind(source_item_id)
        .bind(written)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .context(format!("recording the write-back of item {source_item_id}"))?;
        Ok(())
    }
}

fn push_from_row(r: &SqliteRow) -> Result<PushRecord, StoreError> {
    push_from_row_at(r, "")
}

/// A push record from columns named `{prefix}{column}`.
fn push_from_row_at(r: &SqliteRow, prefix: &str) -> Result<PushRecord, StoreError> {
    let name = |n: &str| format!("{prefix}{n}");
    let opt_time = |n: &str| -> Result<Option<DateTime<Utc>>, StoreError> {
        col::<Option<i64>>(r, &name(n))?.map(from_ms).transpose()
    };
    Ok(PushRecord {
        flow: FlowId::from_column(&col::<String>(r, &name("flow_id"))?)?,
        canonical_id: CanonicalId::from_column(&col::<String>(r, &name("canonical_id"))?)?,
        state: col::<String>(r, &name("state"))?.parse()?,
        hold_reason: col(r, &name("hold_reason"))?,
        idempotency_key: col(r, &name("idempotency_key"))?,
        external_id: col(r, &name("external_id"))?,
        external_status: col(r, &name("external_status"))?,
        last_error: col(r, &name("last_error"))?,
        retryable: col(r, &name("retryable"))?,
        attempts: col::<i64>(r, &name("attempts"))?.clamp(0, i64::from(u32::MAX)) as u32,
        next_attempt_at: opt_time("next_attempt_at")?,
        pushed_at: opt_time("pushed_at")?,
        last_run: col::<Option<String>>(r, &name("last_run_id"))?
            .map(|s| RunId::from_column(&s))
            .transpose()?,
        status_final: col(r, &name("status_final"))?,
        status_error: col(r, &name("status_error"))?,
        created_at: from_ms(col(r, &name("created_at"))?)?,
        updated_at: from_ms(col(r, &name("updated_at"))?)?,
    })
}

/// A canonical record and, when the left join found one, its push record.
fn candidate_from_row(r: &SqliteRow) -> Result<(CanonicalRecord, Option<PushRecord>), StoreError> {
    let record = canonical_from_row(r)?;
    let push = match col::<Option<String>>(r, "p_state")? {
        Some(_) => Some(push_from_row_at(r, "p_")?),
        None => None,
    };
    Ok((record, push))
}

fn item_from_row(r: &SqliteRow) -> Result<PushItem, StoreError> {
    let shipment: Option<String> = col(r, "shipment")?;
    Ok(PushItem {
        source_item_id: col(r, "source_item_id")?,
        external_id: col(r, "external_id")?,
        external_status: col(r, "external_status")?,
        status: col(r, "status")?,
        shipment: shipment
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("stored shipment is not JSON: {e}")))?,
        written_back: col(r, "written_back")?,
        updated_at: from_ms(col(r, "updated_at")?)?,
    })
}
