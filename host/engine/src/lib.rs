//! Sync flows: fetch, map-in, canonical records and bindings, cursors.
