//! A cache of precompiled components, so a host compiles a component once per machine rather
//! than once per process (compiling takes ~0.2-0.3 s, loading an artifact ~1 ms).
//!
//! An artifact is named after a hash of the component's bytes and of the engine's settings
//! (wasmtime's compatibility hash, which covers its version, target and codegen options), so a
//! new build of the component or a different execution bound never loads a stale artifact.
//! Artifacts are native code: only this cache writes to its directory.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result};

use crate::limits::RuntimeOptions;
use crate::runtime::PluginRuntime;

/// Where the harness keeps artifacts by default: beside the components it builds.
pub fn default_cache_dir() -> PathBuf {
    Path::new(crate::runtime::PLUGIN_WASM).parent().map_or_else(
        || PathBuf::from("precompiled"),
        |dir| dir.join("precompiled"),
    )
}

/// The artifact file for `wasm` compiled with `options`, in `dir`.
pub fn artifact_path(dir: &Path, wasm: &[u8], options: RuntimeOptions) -> Result<PathBuf> {
    let engine = PluginRuntime::new_engine(options)?;
    let mut hasher = DefaultHasher::new();
    wasm.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    Ok(dir.join(format!("component-{:016x}.cwasm", hasher.finish())))
}

/// Loads the component in `wasm` from its cached artifact in `dir`, or compiles it and stores
/// the artifact. A missing or unreadable cache only costs the compilation.
///
/// # Errors
/// The component does not compile.
pub fn load(dir: &Path, wasm: &[u8], options: RuntimeOptions) -> Result<PluginRuntime> {
    let path = artifact_path(dir, wasm, options)?;
    if path.is_file()
        && let Ok(runtime) = PluginRuntime::from_precompiled_file(
            PluginRuntime::new_engine(options)?,
            &path,
            options,
        )
    {
        return Ok(runtime);
    }
    let runtime = PluginRuntime::from_bytes_with(wasm, options)?;
    // Write beside, then rename: a reader never sees half an artifact.
    if let Ok(artifact) = runtime.precompile()
        && std::fs::create_dir_all(dir).is_ok()
    {
        // Unique per writer (threads of one process share its id), so two writers never
        // interleave in one file and a renamed artifact is always whole.
        static WRITERS: AtomicU64 = AtomicU64::new(0);
        let writer = WRITERS.fetch_add(1, Ordering::Relaxed);
        let partial = path.with_extension(format!("partial-{}-{writer}", std::process::id()));
        if std::fs::write(&partial, artifact).is_ok() {
            let _ = std::fs::rename(&partial, &path);
        }
    }
    Ok(runtime)
}

/// [`load`] for the component file at `wasm_path`.
///
/// # Errors
/// The file cannot be read or does not compile.
pub fn load_file(dir: &Path, wasm_path: &Path, options: RuntimeOptions) -> Result<PluginRuntime> {
    let wasm = std::fs::read(wasm_path)
        .with_context(|| format!("cannot read component {}", wasm_path.display()))?;
    load(dir, &wasm, options)
        .with_context(|| format!("cannot load component {}", wasm_path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::ExecutionBound;

    #[test]
    fn artifact_names_depend_on_bytes_and_settings() {
        let dir = Path::new("/tmp");
        let epoch = RuntimeOptions::default();
        let fuel = epoch.with_execution_bound(ExecutionBound::Fuel);
        let a = artifact_path(dir, b"one", epoch).unwrap();
        assert_eq!(a, artifact_path(dir, b"one", epoch).unwrap());
        assert_ne!(a, artifact_path(dir, b"two", epoch).unwrap());
        assert_ne!(a, artifact_path(dir, b"one", fuel).unwrap());
    }

    #[test]
    fn second_load_uses_the_artifact_and_a_corrupt_one_is_replaced() {
        let dir = std::env::temp_dir().join(format!("retry-artifacts-{}", std::process::id()));
        let wasm = std::fs::read(crate::runtime::PLUGIN_WASM).unwrap();
        let options = RuntimeOptions::default();
        load(&dir, &wasm, options).unwrap();
        let path = artifact_path(&dir, &wasm, options).unwrap();
        assert!(path.exists());
        load(&dir, &wasm, options).unwrap();
        std::fs::write(&path, b"garbage").unwrap();
        let runtime = load(&dir, &wasm, options).unwrap();
        assert!(
            runtime
                .imports()
                .iter()
                .any(|i| i.starts_with("wasi:random"))
        );
        assert!(
            std::fs::read(&path).unwrap().len() > 1000,
            "the corrupt artifact was rewritten"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
