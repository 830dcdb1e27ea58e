use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crate::error::PluginError;
use crate::plugin::LoadedPlugin;
use crate::runtime::Runtime;

/// The plugins a host serves, by provider id, with hot swap.
///
/// `current` hands out `Arc`s: a job keeps the version it started on even when
/// a newer one is swapped in. A file that fails to load is refused and the
/// version already serving stays.
#[derive(Clone)]
pub struct PluginRegistry {
    runtime: Runtime,
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    current: BTreeMap<String, Arc<LoadedPlugin>>,
    /// What each file looked like when last examined, to reload only changes.
    seen: HashMap<PathBuf, (SystemTime, u64)>,
}

/// What a directory scan did.
#[derive(Debug, Default)]
pub struct ScanReport {
    /// (provider, version, path) of every version swapped in.
    pub loaded: Vec<(String, String, PathBuf)>,
    /// Files refused, with the reason; the previous version keeps serving.
    pub refused: Vec<PluginError>,
}

impl PluginRegistry {
    /// An empty registry on a runtime.
    pub fn new(runtime: Runtime) -> PluginRegistry {
        PluginRegistry {
            runtime,
            inner: Arc::default(),
        }
    }

    /// The runtime plugins run on.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Load one file and, when valid, make it the current version of its provider.
    pub async fn install_file(&self, path: &Path) -> Result<Arc<LoadedPlugin>, PluginError> {
        let plugin = LoadedPlugin::load_file(&self.runtime, path).await?;
        let mut inner = self.inner.write().expect("registry lock");
        if let Some(old) = inner.current.get(plugin.provider()) {
            tracing::info!(
                provider = plugin.provider(),
                from = old.version(),
                to = plugin.version(),
                "plugin swapped"
            );
        }
        inner
            .current
            .insert(plugin.provider().to_string(), plugin.clone());
        Ok(plugin)
    }

    /// The version of a provider new jobs should use.
    pub fn current(&self, provider: &str) -> Option<Arc<LoadedPlugin>> {
        self.inner
            .read()
            .expect("registry lock")
            .current
            .get(provider)
            .cloned()
    }

    /// Every current plugin, by provider id.
    pub fn plugins(&self) -> Vec<Arc<LoadedPlugin>> {
        self.inner
            .read()
            .expect("registry lock")
            .current
            .values()
            .cloned()
            .collect()
    }

    /// Load every `*.wasm` in `dir` that is new or changed since the last scan.
    /// Call it on start and then periodically (or on a file event) for hot swap.
    pub async fn scan_dir(&self, dir: &Path) -> std::io::Result<ScanReport> {
        let mut report = ScanReport::default();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
            .collect();
        files.sort();
        for path in files {
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(_) => continue,
            };
            let stamp = (
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                meta.len(),
            );
            let unchanged =
                self.inner.read().expect("registry lock").seen.get(&path) == Some(&stamp);
            if unchanged {
                continue;
            }
            self.inner
                .write()
                .expect("registry lock")
                .seen
                .insert(path.clone(), stamp);
            match self.install_file(&path).await {
                Ok(p) => report.loaded.push((
                    p.provider().to_string(),
                    p.version().to_string(),
                    path.clone(),
                )),
                Err(e) => {
                    tracing::warn!(error = %e, "plugin refused; the current version keeps serving");
                    report.refused.push(e);
                }
            }
        }
        Ok(report)
    }
}
