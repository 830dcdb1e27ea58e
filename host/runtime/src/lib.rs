//! The wasmtime component runtime of Switchyard.
//!
//! It loads connector plugins (components of the world
//! `switchyard:connector/plugin@0.1.0`), keeps them in a [`PluginRegistry`] that
//! can swap a new version in while jobs run on the old one, and runs every call
//! of a job in a fresh sandboxed [`Job`]: no filesystem, no environment, no
//! sockets, a wall-clock deadline per call, optional fuel, and a memory cap.
//!
//! The capabilities a plugin imports (http, store, matching, log, config) are
//! answered by a [`HostServices`] implementation the embedder supplies, so this
//! crate only knows about wasm.

pub mod bindings;
mod compile_cache;
mod error;
mod job;
mod plugin;
mod registry;
mod runtime;
mod sandbox;
mod services;

pub use compile_cache::CompileCache;
pub use error::{PluginError, RuntimeError};
pub use job::Job;
pub use plugin::{LoadedPlugin, PluginSource};
pub use registry::{PluginRegistry, ScanReport};
pub use runtime::{Runtime, RuntimeConfig};
pub use services::{HostServices, NoServices};
