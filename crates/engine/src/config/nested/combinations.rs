//! Validation and building of merged (tool, class) policies: every combination is checked at
//! configure time in time linear in tools and classes, and built on first use.

use serde_json::{Value, json};

use super::super::effective::EffectivePolicy;
use super::super::key_path::KeyPath;
use super::super::layer::PolicyLayer;
use super::super::read::Errors;
use super::settings::RetryConditions;
use crate::backoff::{Backoff, Fixed};
use crate::jitter::Jitter;
use crate::policy::Policy;

/// The merged bounds of one class row, and whether that row is already broken.
pub(super) struct ClassBounds {
    pub(super) base_ms: u64,
    pub(super) max_ms: u64,
    pub(super) broken: bool,
}

/// The unbroken class slots, sorted by `key`.
pub(super) fn sorted_classes<K: Ord>(
    bounds: &[ClassBounds],
    key: impl Fn(&ClassBounds) -> K,
) -> Vec<usize> {
    let mut slots: Vec<usize> = (0..bounds.len()).filter(|&i| !bounds[i].broken).collect();
    slots.sort_by_key(|&i| key(&bounds[i]));
    slots
}

/// The unbroken class slots whose combination with `tool` has `max_backoff_ms` below
/// `backoff_base_ms`, in slot order. Only the tool's own bounds can break a combination whose
/// class row is sound: a tool setting both breaks all of them or none, one setting only a base
/// breaks the classes whose maximum is below it, and one setting only a maximum those whose
/// base is above it.
pub(super) fn failing_classes(
    tool: &PolicyLayer,
    bounds: &[ClassBounds],
    by_max: &[usize],
    by_base: &[usize],
) -> Vec<usize> {
    let mut failing: Vec<usize> = match (tool.base_ms, tool.max_ms) {
        (Some(base), Some(max)) if max < base => by_max.to_vec(),
        (Some(base), None) => by_max
            .iter()
            .copied()
            .take_while(|&i| bounds[i].max_ms < base)
            .collect(),
        (None, Some(max)) => by_base
            .iter()
            .copied()
            .take_while(|&i| bounds[i].base_ms > max)
            .collect(),
        _ => Vec::new(),
    };
    failing.sort_unstable();
    failing
}

/// Reports `merged` when its `max_backoff_ms` is below its `backoff_base_ms`, naming the
/// `layers` that made it (the key is the last one's); returns whether it was.
pub(super) fn report_broken(
    merged: &PolicyLayer,
    layers: &[&KeyPath],
    errors: &mut Errors,
) -> bool {
    let Err((max, base)) = merged.to_policy() else {
        return false;
    };
    let key = layers
        .last()
        .map_or_else(KeyPath::root, |layer| layer.key("max_backoff_ms"));
    let names: Vec<&str> = layers.iter().map(|layer| layer.as_str()).collect();
    errors.push(
        &key,
        format!(
            "{}: max_backoff_ms must be >= backoff_base_ms, but was {max} < {base}",
            names.join(" + ")
        ),
    );
    true
}

/// One merged policy with its description; `source` names the layers that applied.
pub(super) fn build_cell(
    merged: &PolicyLayer,
    source: &[Option<&str>],
    conditions: &RetryConditions,
) -> EffectivePolicy {
    let retry_on_status = merged
        .retry_on_status
        .clone()
        .unwrap_or_else(|| conditions.retry_on_status.clone());
    // A broken combination refuses the whole config, so its placeholder is never used.
    let policy = merged.to_policy().unwrap_or_else(|_| placeholder_policy());
    let mut described = merged.describe();
    described.insert("retry_on_status".to_owned(), json!(retry_on_status.codes()));
    if let Some(idempotent) = merged.idempotent {
        described.insert("idempotent".to_owned(), json!(idempotent));
    }
    described.insert(
        "source".to_owned(),
        json!(source.iter().flatten().collect::<Vec<_>>()),
    );
    EffectivePolicy::new(policy, retry_on_status, &Value::Object(described))
        .with_idempotent(merged.idempotent)
}

fn placeholder_policy() -> Policy {
    Policy::new(0, Backoff::Fixed(Fixed::new()), Jitter::None)
}
