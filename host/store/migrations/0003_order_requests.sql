-- Flow A (R-A-1 … R-A-5): the inbox of order requests, and what matching remembers per
-- integration (an address used before, a product a person linked).

CREATE TABLE order_requests (
    -- Small and sequential, so people can say "request 12".
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id               TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    -- The MIS the request becomes an order at.
    target_connection_id    TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    source_kind             TEXT NOT NULL CHECK (source_kind IN ('integration', 'email', 'manual')),
    -- The integration (source connection name), or `email` / `manual`.
    source_name             TEXT NOT NULL,
    flow_id                 TEXT REFERENCES flows(id) ON DELETE SET NULL,
    canonical_id            TEXT REFERENCES canonical_records(id) ON DELETE SET NULL,
    -- The order number at the source; unique per source and target.
    reference               TEXT NOT NULL,
    -- needs-attention: a person must decide (several contacts, a product not linked);
    -- ready: nothing missing; converting: conversion started (steps in `progress`);
    -- converted: the order exists at the target; failed: the last conversion failed.
    state                   TEXT NOT NULL CHECK (state IN
                                ('needs-attention', 'ready', 'converting', 'converted', 'failed')),
    reason                  TEXT,
    -- JSON: the canonical order as it came in (edits live in `decisions`).
    order_data              TEXT NOT NULL,
    -- JSON: the last matching answer (candidates, scores, matched fields, what is missing).
    evaluation              TEXT NOT NULL DEFAULT '{}',
    -- JSON: what people decided (contact, company, product links, edits).
    decisions               TEXT NOT NULL DEFAULT '{}',
    -- JSON: conversion steps, each `sending` before it is sent and `done` with its id after.
    progress                TEXT NOT NULL DEFAULT '{}',
    -- The order's id at the target once converted.
    external_id             TEXT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    converted_at            BIGINT,
    UNIQUE (tenant_id, target_connection_id, source_name, reference)
);
CREATE INDEX order_requests_by_state ON order_requests (tenant_id, state, id);

CREATE TABLE match_memory (
    tenant_id               TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    target_connection_id    TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    -- The integration the decision was made for (source name of the request).
    integration             TEXT NOT NULL,
    -- `product` (key: the line's normalised product code), `address` (key: company id
    -- at the target + normalised address) or `contact` (key: the normalised e-mail that
    -- matched several contacts).
    kind                    TEXT NOT NULL,
    key_value               TEXT NOT NULL,
    external_id             TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    PRIMARY KEY (target_connection_id, integration, kind, key_value)
);

-- Matching looks up one kind of record by one key: this index answers it without a scan.
CREATE INDEX match_keys_by_kind ON match_keys (tenant_id, kind, key_type, key_value);
