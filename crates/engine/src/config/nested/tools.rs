//! The tool layers of the nested schema: `tool_policies`.

use serde_json::Value;

use super::super::key_path::KeyPath;
use super::super::layer::PolicyLayer;
use super::super::read::{self, Errors};

/// Most `tool_policies` entries a config may have: twice the 20 000 overrides the ContextForge
/// plugin is known to take. Reading a config briefly holds its JSON tree (about 1 KiB per tool
/// policy), and 40 000 configure within 44 MiB of the component's 64 MiB.
pub(crate) const MAX_TOOL_POLICIES: usize = 40_000;

/// Reads `tool_policies` (at `path`): the tool names and their layers, in the same order.
pub(super) fn read_tools(
    value: Option<&Value>,
    path: &KeyPath,
    errors: &mut Errors,
) -> (Vec<String>, Vec<PolicyLayer>) {
    let Some(map) = value.and_then(|v| read::mapping(errors, path, v)) else {
        return (Vec::new(), Vec::new());
    };
    if map.len() > MAX_TOOL_POLICIES {
        errors.push(
            path,
            format!(
                "{path} must have at most {MAX_TOOL_POLICIES} entries, but had {}",
                map.len()
            ),
        );
        return (Vec::new(), Vec::new());
    }
    let mut names = Vec::new();
    let mut layers = Vec::new();
    for (tool, value) in map {
        let entry_path = path.entry(tool);
        if let Some(entry) = read::mapping(errors, &entry_path, value) {
            names.push(tool.clone());
            layers.push(PolicyLayer::read(entry, &entry_path, true, &[], errors));
        }
    }
    (names, layers)
}
