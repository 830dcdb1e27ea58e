-- A run costs what changed, not what the history holds (R-P-3).

-- Every content change of a canonical record takes the next number of one sequence, so a
-- flow finds what changed since it last looked through an index instead of re-reading its
-- whole source. Existing rows keep their insertion order.
ALTER TABLE canonical_records ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
UPDATE canonical_records SET change_seq = rowid;
CREATE INDEX canonical_by_change ON canonical_records (change_seq);
CREATE INDEX canonical_changes_by_kind ON canonical_records (tenant_id, kind, change_seq);

-- The last change a flow's push considered: records changed after it are looked at again.
ALTER TABLE flows ADD COLUMN push_seq INTEGER NOT NULL DEFAULT 0;

-- Retries due: failed-and-retryable (by next attempt) and interrupted sends.
CREATE INDEX pushes_due ON pushes (flow_id, state, retryable, next_attempt_at);

-- Status polling skips records whose items all reached a final status.
ALTER TABLE pushes ADD COLUMN status_final BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX pushes_to_poll ON pushes (flow_id, status_final, canonical_id);

-- Records whose status could not be read: retried on the next status run, shown by `why`.
ALTER TABLE pushes ADD COLUMN status_error TEXT;
