use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::Component;

use crate::bindings::{Manifest, PluginPre};
use crate::compile_cache::sha256_hex;
use crate::error::{PluginError, RuntimeError};
use crate::job::Job;
use crate::runtime::Runtime;
use crate::sandbox::JobState;
use crate::services::{HostServices, NoServices};

/// Where a loaded plugin came from.
#[derive(Debug, Clone)]
pub struct PluginSource {
    pub path: PathBuf,
    /// Hex SHA-256 of the wasm file.
    pub sha256: String,
    /// Whether the compiled code came from the on-disk compile cache.
    pub from_cache: bool,
    /// Time spent compiling or loading from cache, in microseconds.
    pub compile_micros: u64,
}

/// A validated, compiled plugin version, ready to start jobs quickly.
///
/// Cloned `Arc`s keep a version alive: jobs started on it finish on it even
/// after the registry has swapped a newer version in.
pub struct LoadedPlugin {
    runtime: Runtime,
    component: Component,
    pre: PluginPre<JobState>,
    manifest: Manifest,
    source: PluginSource,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("provider", &self.manifest.provider)
            .field("version", &self.manifest.version)
            .field("source", &self.source)
            .finish()
    }
}

impl LoadedPlugin {
    /// Load, compile, validate and describe a plugin file.
    pub async fn load_file(
        runtime: &Runtime,
        path: &Path,
    ) -> Result<Arc<LoadedPlugin>, PluginError> {
        let wasm = std::fs::read(path).map_err(|source| PluginError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::load_bytes(runtime, &wasm, path).await
    }

    /// Load a plugin from bytes; `path` is only used in messages and metadata.
    pub async fn load_bytes(
        runtime: &Runtime,
        wasm: &[u8],
        path: &Path,
    ) -> Result<Arc<LoadedPlugin>, PluginError> {
        let sha256 = sha256_hex(wasm);
        let started = Instant::now();
        let (component, from_cache) = match runtime.compile_cache() {
            Some(cache) => cache.load_or_compile(runtime.engine(), wasm, &sha256),
            None => Component::new(runtime.engine(), wasm).map(|c| (c, false)),
        }
        .map_err(|e| PluginError::InvalidComponent {
            path: path.to_path_buf(),
            reason: format!("{e:#}"),
        })?;
        let compile_micros = started.elapsed().as_micros() as u64;

        let instance_pre =
            runtime
                .linker()
                .instantiate_pre(&component)
                .map_err(|e| PluginError::WrongWorld {
                    path: path.to_path_buf(),
                    reason: format!("{e:#}"),
                })?;
        let pre = PluginPre::new(instance_pre).map_err(|e| PluginError::WrongWorld {
            path: path.to_path_buf(),
            reason: format!("{e:#}"),
        })?;

        let source = PluginSource {
            path: path.to_path_buf(),
            sha256,
            from_cache,
            compile_micros,
        };
        let mut job = Job::start(
            runtime.clone(),
            pre.clone(),
            "?".into(),
            Arc::new(NoServices),
        )
        .await
        .map_err(|e| PluginError::Describe {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let manifest = job.describe().await.map_err(|e| PluginError::Describe {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        validate_manifest(&manifest).map_err(|reason| PluginError::BadManifest {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(Arc::new(LoadedPlugin {
            runtime: runtime.clone(),
            component,
            pre,
            manifest,
            source,
        }))
    }

    /// The manifest the plugin described itself with (cached at load).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The provider id, e.g. `pressero`.
    pub fn provider(&self) -> &str {
        &self.manifest.provider
    }

    /// The plugin's version.
    pub fn version(&self) -> &str {
        &self.manifest.version
    }

    /// Where it came from.
    pub fn source(&self) -> &PluginSource {
        &self.source
    }

    /// The names of what the component imports and exports.
    pub fn world(&self, runtime: &Runtime) -> Result<(Vec<String>, Vec<String>), RuntimeError> {
        let ty = self.component.component_type();
        let imports = ty
            .imports(runtime.engine())
            .map(|(n, _)| n.to_string())
            .collect();
        let exports = ty
            .exports(runtime.engine())
            .map(|(n, _)| n.to_string())
            .collect();
        Ok((imports, exports))
    }

    /// Start a job: a fresh store and instance bound to these services.
    pub async fn start_job(&self, services: Arc<dyn HostServices>) -> Result<Job, RuntimeError> {
        Job::start(
            self.runtime.clone(),
            self.pre.clone(),
            self.manifest.provider.clone(),
            services,
        )
        .await
    }
}

fn validate_manifest(m: &Manifest) -> Result<(), String> {
    let id_ok = !m.provider.is_empty()
        && m.provider
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !id_ok {
        return Err(format!(
            "provider id {:?} must be non-empty lower-case ASCII letters, digits, '-' or '_'",
            m.provider
        ));
    }
    if m.version.split('.').count() != 3
        || m.version.split('.').any(|p| {
            p.is_empty()
                || !p
                    .split(['-', '+'])
                    .next()
                    .unwrap_or("")
                    .chars()
                    .all(|c| c.is_ascii_digit())
        })
    {
        return Err(format!("version {:?} is not MAJOR.MINOR.PATCH", m.version));
    }
    if m.streams.is_empty() {
        return Err("the plugin declares no stream".into());
    }
    Ok(())
}
