//! Storage: tenants, connections, cursors, canonical records, bindings, runs, activity log (sqlx; SQLite embedded).
