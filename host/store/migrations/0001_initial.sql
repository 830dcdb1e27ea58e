-- Switchyard store schema, SQLite flavour.
-- Kept portable where easy: TEXT ids (uuid), timestamps as epoch milliseconds (BIGINT),
-- JSON as TEXT. A PostgreSQL flavour differs only in BYTEA for BLOB and identity columns.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE connections (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    name        TEXT NOT NULL,
    -- JSON object of setting name -> value.
    settings    TEXT NOT NULL DEFAULT '{}',
    -- base64(nonce || XChaCha20-Poly1305 ciphertext) of the JSON secret map; never plaintext.
    secrets     TEXT,
    enabled     BOOLEAN NOT NULL DEFAULT FALSE,
    live        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE plugin_versions (
    provider    TEXT NOT NULL,
    version     TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    path        TEXT NOT NULL,
    loaded_at   BIGINT NOT NULL,
    PRIMARY KEY (provider, version, sha256)
);

CREATE TABLE runs (
    id              TEXT PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    stream          TEXT NOT NULL,
    flow            TEXT,
    started_at      BIGINT NOT NULL,
    finished_at     BIGINT,
    status          TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    fetched         BIGINT NOT NULL DEFAULT 0,
    created         BIGINT NOT NULL DEFAULT 0,
    updated         BIGINT NOT NULL DEFAULT 0,
    unchanged       BIGINT NOT NULL DEFAULT 0,
    failed          BIGINT NOT NULL DEFAULT 0,
    error           TEXT
);
CREATE INDEX runs_by_connection ON runs (connection_id, started_at);

CREATE TABLE cursors (
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    stream          TEXT NOT NULL,
    cursor          TEXT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (connection_id, stream)
);

CREATE TABLE canonical_records (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind <> ''),
    data            TEXT NOT NULL,
    -- sha256 hex of the canonical JSON text (object keys sorted, no whitespace).
    content_hash    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX canonical_by_tenant_kind ON canonical_records (tenant_id, kind);

CREATE TABLE bindings (
    connection_id       TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    kind                TEXT NOT NULL,
    external_id         TEXT NOT NULL,
    canonical_id        TEXT NOT NULL REFERENCES canonical_records(id) ON DELETE CASCADE,
    external_updated_at TEXT,
    last_run_id         TEXT REFERENCES runs(id) ON DELETE SET NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (connection_id, kind, external_id)
);
-- Reverse look-up: which external record in a connection stands for a canonical record.
CREATE INDEX bindings_by_canonical ON bindings (canonical_id, connection_id);

CREATE TABLE match_keys (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    key_type        TEXT NOT NULL,
    key_value       TEXT NOT NULL,
    canonical_id    TEXT NOT NULL REFERENCES canonical_records(id) ON DELETE CASCADE,
    PRIMARY KEY (canonical_id, key_type, key_value)
);
CREATE INDEX match_keys_lookup ON match_keys (tenant_id, key_type, key_value);

CREATE TABLE kv (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    key             TEXT NOT NULL,
    value           BLOB NOT NULL,
    expires_at      BIGINT,
    PRIMARY KEY (tenant_id, connection_id, key)
);

CREATE TABLE activity_log (
    -- Monotonic sequence so entries written in the same millisecond keep their order.
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    connection_id   TEXT REFERENCES connections(id) ON DELETE CASCADE,
    run_id          TEXT REFERENCES runs(id) ON DELETE SET NULL,
    at              BIGINT NOT NULL,
    level           TEXT NOT NULL CHECK (level IN ('trace', 'debug', 'info', 'warn', 'error')),
    kind            TEXT NOT NULL,
    message         TEXT NOT NULL,
    detail          TEXT
);
CREATE INDEX activity_by_connection ON activity_log (connection_id, id);
CREATE INDEX activity_by_run ON activity_log (run_id, id);
CREATE INDEX activity_by_tenant_at ON activity_log (tenant_id, at);

-- "One run per connection and stream at a time", surviving process death through the expiry.
CREATE TABLE run_locks (
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    stream          TEXT NOT NULL,
    holder          TEXT NOT NULL,
    acquired_at     BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (connection_id, stream)
);
