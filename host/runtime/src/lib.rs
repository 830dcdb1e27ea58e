//! The wasmtime component runtime: engine, plugin registry with hot swap, host capabilities.
