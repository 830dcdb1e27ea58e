-- Flows (source stream -> target stream), push records per order and item, the job queue.

CREATE TABLE flows (
    id                      TEXT PRIMARY KEY,
    tenant_id               TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name                    TEXT NOT NULL,
    source_connection_id    TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    source_stream           TEXT NOT NULL,
    target_connection_id    TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    target_stream           TEXT NOT NULL,
    -- JSON object: mode, window_days, status_stream, write_back_stream, max_attempts.
    settings                TEXT NOT NULL DEFAULT '{}',
    -- R-CONN-5: the service's switches on this site.
    enabled                 BOOLEAN NOT NULL DEFAULT FALSE,
    live                    BOOLEAN NOT NULL DEFAULT FALSE,
    -- cron expression (seconds field first), or NULL for no schedule.
    schedule                TEXT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX flows_by_source ON flows (source_connection_id);
CREATE INDEX flows_by_target ON flows (target_connection_id);

-- One row per flow and source record (an order): whether and how it reached the target.
CREATE TABLE pushes (
    flow_id             TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
    canonical_id        TEXT NOT NULL REFERENCES canonical_records(id) ON DELETE CASCADE,
    -- waiting: a push rule holds it; sending: an attempt started and its answer is not
    -- recorded (after a crash: ambiguous); pushed / linked (found, status-only); failed:
    -- the last attempt failed; dead: gave up after max attempts.
    state               TEXT NOT NULL CHECK (state IN
                            ('waiting', 'sending', 'pushed', 'linked', 'failed', 'dead')),
    hold_reason         TEXT,
    idempotency_key     TEXT NOT NULL,
    external_id         TEXT,
    external_status     TEXT,
    last_error          TEXT,
    -- retryable: whether the last error may clear by itself (transient, rate limited).
    retryable           BOOLEAN NOT NULL DEFAULT FALSE,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     BIGINT,
    pushed_at           BIGINT,
    last_run_id         TEXT REFERENCES runs(id) ON DELETE SET NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (flow_id, canonical_id)
);
CREATE INDEX pushes_by_state ON pushes (flow_id, state);
CREATE INDEX pushes_by_external ON pushes (flow_id, external_id);

-- R-B-2: the integration record per order item and service.
CREATE TABLE push_items (
    flow_id             TEXT NOT NULL,
    canonical_id        TEXT NOT NULL,
    source_item_id      TEXT NOT NULL,
    external_id         TEXT,
    external_status     TEXT,
    -- The canonical item status last synced from the target, and its shipment (JSON).
    status              TEXT,
    shipment            TEXT,
    -- What was last written back to the source (status + shipment digest), to write once.
    written_back        TEXT,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (flow_id, canonical_id, source_item_id),
    FOREIGN KEY (flow_id, canonical_id) REFERENCES pushes (flow_id, canonical_id) ON DELETE CASCADE
);
CREATE INDEX push_items_by_external ON push_items (flow_id, external_id);

-- The durable job queue.
CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    -- Jobs with one serial key never run at once (one running sync per connection).
    serial_key      TEXT NOT NULL,
    flow_id         TEXT REFERENCES flows(id) ON DELETE CASCADE,
    args            TEXT NOT NULL DEFAULT '{}',
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL,
    run_after       BIGINT NOT NULL,
    holder          TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    -- The global synchronisation that queued it, if any.
    parent_id       TEXT,
    trigger         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    started_at      BIGINT,
    finished_at     BIGINT
);
CREATE INDEX jobs_ready ON jobs (state, run_after);
CREATE INDEX jobs_by_serial ON jobs (serial_key, state);
-- A second trigger of the same work joins the one already queued.
CREATE UNIQUE INDEX jobs_one_queued ON jobs (kind, serial_key, args) WHERE state = 'queued';
