use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

use crate::error::RuntimeError;

/// Compiled components on disk, keyed by the wasm's SHA-256 and the engine's
/// settings, so a restart or a reload of the same file skips compilation.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
    engine_key: String,
}

impl CompileCache {
    /// Open (and create) the cache directory for this engine.
    pub fn open(dir: &Path, engine: &Engine) -> Result<CompileCache, RuntimeError> {
        // wasmtime refuses relative paths in some places; keep it absolute.
        let dir = std::path::absolute(dir)
            .map_err(|e| RuntimeError::Setup(format!("compile cache {}: {e}", dir.display())))?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| RuntimeError::Setup(format!("compile cache {}: {e}", dir.display())))?;
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Ok(CompileCache {
            dir,
            engine_key: format!("{:016x}", h.finish()),
        })
    }

    fn path_for(&self, wasm_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{wasm_sha256}-{}.cwasm", self.engine_key))
    }

    /// A compiled component for these wasm bytes: from the cache, or compiled
    /// and stored. Returns whether it came from the cache.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
        wasm_sha256: &str,
    ) -> Result<(Component, bool), wasmtime::Error> {
        let path = self.path_for(wasm_sha256);
        if path.exists() {
            // SAFETY: the file was written by `Component::serialize` of an
            // engine with the same compatibility hash (it is in the name), in
            // a directory only this host writes; wasmtime re-checks the header.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => return Ok((c, true)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "dropping unusable compile cache entry");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let component = Component::new(engine, wasm)?;
        let bytes = component.serialize()?;
        // Write then rename so a concurrent reader never sees half a file.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, &bytes).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
        Ok((component, false))
    }
}

/// Hex SHA-256 of bytes.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
