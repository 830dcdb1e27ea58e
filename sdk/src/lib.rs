//! What a connector author depends on: bindings, helpers, export macro.
