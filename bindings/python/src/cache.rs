//! Where the extension keeps compiled components: compiling the component takes a few hundred
//! milliseconds, loading the cached artifact about one, so only the first process on a machine
//! pays for compilation.
//!
//! # Why no fallback to the temporary directory
//! A cached artifact is native code that is loaded as it is. A directory every user can write
//! to (`/tmp`) would let another user plant one, so without a per-user cache directory the
//! component is compiled in every process instead.

use std::path::PathBuf;

use anyhow::Result;
use retry_host::PluginRuntime;
use retry_host::artifact_cache;
use retry_host::limits::RuntimeOptions;

/// The environment variable that overrides the cache directory.
pub(crate) const CACHE_DIR_VARIABLE: &str = "RETRY_WITH_BACKOFF_CACHE_DIR";

/// `$RETRY_WITH_BACKOFF_CACHE_DIR`, else `$XDG_CACHE_HOME/retry-with-backoff-component`, else
/// `~/.cache/retry-with-backoff-component`; `None` when none of them is set (no caching).
pub(crate) fn cache_dir() -> Option<PathBuf> {
    let from = |variable: &str| {
        std::env::var_os(variable)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = from(CACHE_DIR_VARIABLE) {
        return Some(dir);
    }
    from("XDG_CACHE_HOME")
        .or_else(|| from("HOME").map(|home| home.join(".cache")))
        .map(|base| base.join("retry-with-backoff-component"))
}

/// The component in `wasm`, through the cache when there is one.
pub(crate) fn load(wasm: &[u8]) -> Result<PluginRuntime> {
    match cache_dir() {
        Some(dir) => artifact_cache::load(&dir, wasm, RuntimeOptions::default()),
        None => PluginRuntime::from_bytes_with(wasm, RuntimeOptions::default()),
    }
}
