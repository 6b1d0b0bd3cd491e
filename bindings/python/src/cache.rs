//! Where the extension keeps compiled components: compiling the component takes a few hundred
//! milliseconds, loading the cached artifact about one, so only the first process on a machine
//! pays for compilation.

use std::path::PathBuf;

/// The environment variable that overrides the cache directory.
pub(crate) const CACHE_DIR_VARIABLE: &str = "RETRY_WITH_BACKOFF_CACHE_DIR";

/// `$RETRY_WITH_BACKOFF_CACHE_DIR`, else `$XDG_CACHE_HOME/retry-with-backoff-component`, else
/// `~/.cache/retry-with-backoff-component`, else a folder in the temporary directory. A cache
/// that cannot be written only costs the compilation.
pub(crate) fn cache_dir() -> PathBuf {
    let from = |variable: &str| {
        std::env::var_os(variable)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = from(CACHE_DIR_VARIABLE) {
        return dir;
    }
    let base = from("XDG_CACHE_HOME")
        .or_else(|| from("HOME").map(|home| home.join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("retry-with-backoff-component")
}
