//! A policy layer of the nested schema: the policy keys one mapping sets (`default_policy`, a
//! `status_code_policies` entry, an `error_patterns` entry, a `tool_policies` entry). Layers
//! stack, each overriding only the fields it sets.

use std::str::FromStr;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::key_path::KeyPath;
use super::read::{self, Errors, section};
use crate::backoff::{Backoff, Exponential, Fixed, Linear};
use crate::jitter::Jitter;
use crate::policy::{MAX_RETRIES_LIMIT, Policy};
use crate::status::StatusSet;

/// Default `default_policy.max_retries` (the specification's example).
pub(super) const DEFAULT_POLICY_MAX_RETRIES: u32 = 2;
/// Default `default_policy.backoff_strategy`.
pub(super) const DEFAULT_POLICY_STRATEGY: Strategy = Strategy::Exponential;
/// Default `default_policy.backoff_base_ms`, in ms.
pub(super) const DEFAULT_POLICY_BASE_MS: u64 = 200;
/// Default `default_policy.backoff_multiplier`.
pub(super) const DEFAULT_POLICY_MULTIPLIER: f64 = 2.0;
/// Default `default_policy.max_backoff_ms`, in ms.
pub(super) const DEFAULT_POLICY_MAX_BACKOFF_MS: u64 = 5000;
/// Default `default_policy.jitter`.
pub(super) const DEFAULT_POLICY_JITTER: bool = true;
/// Default `default_policy.jitter_max_percent`, in percent.
pub(super) const DEFAULT_POLICY_JITTER_MAX_PERCENT: f64 = 20.0;

section!(
    /// The policy keys every layer may set.
    struct PolicyKeys {
        max_retries,
        backoff_strategy,
        backoff_base_ms,
        backoff_multiplier,
        max_backoff_ms,
        jitter,
        jitter_max_percent,
    }
);

section!(
    /// The keys only a `tool_policies` entry sets beside the policy keys.
    struct ToolOnlyKeys { retry_on_status, idempotent }
);

/// A backoff strategy name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strategy {
    /// `exponential`: `base * multiplier^(n-1)`.
    Exponential,
    /// `linear`: `base * n`.
    Linear,
    /// `fixed`: `base`.
    Fixed,
}

impl Strategy {
    const ALL: [Self; 3] = [Self::Exponential, Self::Linear, Self::Fixed];

    /// The configuration name.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Exponential => "exponential",
            Self::Linear => "linear",
            Self::Fixed => "fixed",
        }
    }
}

impl FromStr for Strategy {
    /// The rule a name breaks: `must be one of exponential, linear, fixed`.
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|strategy| strategy.as_str() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                format!("must be one of {}", names.join(", "))
            })
    }
}

/// A layer as the config writes it: [`PolicyKeys`] with their values.
#[derive(Serialize)]
struct PolicyDescription {
    max_retries: Option<u32>,
    backoff_strategy: Option<&'static str>,
    backoff_base_ms: Option<u64>,
    backoff_multiplier: Option<f64>,
    max_backoff_ms: Option<u64>,
    jitter: Option<bool>,
    jitter_max_percent: Option<Value>,
}

/// The fields one layer sets; `None` inherits from the layer below.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PolicyLayer {
    pub(crate) max_retries: Option<u32>,
    pub(crate) strategy: Option<Strategy>,
    pub(crate) base_ms: Option<u64>,
    pub(crate) multiplier: Option<f64>,
    pub(crate) max_ms: Option<u64>,
    pub(crate) jitter: Option<bool>,
    pub(crate) jitter_max_percent: Option<f64>,
    /// Only `tool_policies` entries may set it.
    pub(crate) retry_on_status: Option<StatusSet>,
    /// Only `tool_policies` entries may set it: whether the tool is safe to call again,
    /// overriding its MCP annotations.
    pub(crate) idempotent: Option<bool>,
}

impl PolicyLayer {
    /// The specification's example `default_policy`: every field set.
    pub(crate) fn defaults() -> Self {
        Self {
            max_retries: Some(DEFAULT_POLICY_MAX_RETRIES),
            strategy: Some(DEFAULT_POLICY_STRATEGY),
            base_ms: Some(DEFAULT_POLICY_BASE_MS),
            multiplier: Some(DEFAULT_POLICY_MULTIPLIER),
            max_ms: Some(DEFAULT_POLICY_MAX_BACKOFF_MS),
            jitter: Some(DEFAULT_POLICY_JITTER),
            jitter_max_percent: Some(DEFAULT_POLICY_JITTER_MAX_PERCENT),
            retry_on_status: None,
            idempotent: None,
        }
    }

    /// Reads the policy keys of `map`, the mapping at `path` (with `retry_on_status` too when
    /// `tool_only` is set, and `extra_keys` allowed), recording every broken rule.
    pub(crate) fn read(
        map: &Map<String, Value>,
        path: &KeyPath,
        tool_only: bool,
        extra_keys: &[&str],
        errors: &mut Errors,
    ) -> Self {
        let tool_key_names = if tool_only { ToolOnlyKeys::KEYS } else { &[] };
        let known: Vec<&str> = PolicyKeys::KEYS
            .iter()
            .chain(tool_key_names)
            .chain(extra_keys)
            .copied()
            .collect();
        read::reject_unknown_keys(errors, path, map, &known);
        let keys = PolicyKeys::of(map, path);
        let tool_keys = if tool_only {
            ToolOnlyKeys::of(map, path)
        } else {
            ToolOnlyKeys::default()
        };
        let limit = i128::from(MAX_RETRIES_LIMIT);
        Self {
            max_retries: keys
                .max_retries
                .and_then(|f| f.integer_in(errors, 0, Some(limit)))
                .map(|n| n as u32),
            strategy: keys.backoff_strategy.and_then(|f| f.parse(errors)),
            base_ms: keys
                .backoff_base_ms
                .and_then(|f| f.integer_in(errors, 1, None)),
            multiplier: keys
                .backoff_multiplier
                .and_then(|f| f.number_in(errors, 1.0.., "must be >= 1.0")),
            max_ms: keys
                .max_backoff_ms
                .and_then(|f| f.integer_in(errors, 1, None)),
            jitter: keys.jitter.and_then(|f| f.boolean(errors)),
            jitter_max_percent: keys
                .jitter_max_percent
                .and_then(|f| f.number_in(errors, 0.0..=100.0, "must be within 0..=100")),
            retry_on_status: tool_keys
                .retry_on_status
                .and_then(|f| f.status_list(errors)),
            idempotent: tool_keys.idempotent.and_then(|f| f.boolean(errors)),
        }
    }

    /// `self` over `below`: the fields `self` sets win.
    pub(crate) fn over(&self, below: &Self) -> Self {
        Self {
            max_retries: self.max_retries.or(below.max_retries),
            strategy: self.strategy.or(below.strategy),
            base_ms: self.base_ms.or(below.base_ms),
            multiplier: self.multiplier.or(below.multiplier),
            max_ms: self.max_ms.or(below.max_ms),
            jitter: self.jitter.or(below.jitter),
            jitter_max_percent: self.jitter_max_percent.or(below.jitter_max_percent),
            retry_on_status: self
                .retry_on_status
                .clone()
                .or_else(|| below.retry_on_status.clone()),
            idempotent: self.idempotent.or(below.idempotent),
        }
    }

    /// The policy of a complete layer (one merged over [`PolicyLayer::defaults`]), or the
    /// broken rule `max_backoff_ms >= backoff_base_ms` as `(max, base)`.
    pub(crate) fn to_policy(&self) -> Result<Policy, (u64, u64)> {
        let base_ms = self.base_ms.unwrap_or(DEFAULT_POLICY_BASE_MS);
        let max_ms = self.max_ms.unwrap_or(DEFAULT_POLICY_MAX_BACKOFF_MS);
        if max_ms < base_ms {
            return Err((max_ms, base_ms));
        }
        let backoff = match self.strategy.unwrap_or(DEFAULT_POLICY_STRATEGY) {
            Strategy::Exponential => Backoff::Exponential(
                Exponential::new()
                    .with_base_ms(base_ms)
                    .with_multiplier(self.multiplier.unwrap_or(DEFAULT_POLICY_MULTIPLIER))
                    .with_max_ms(max_ms),
            ),
            Strategy::Linear => {
                Backoff::Linear(Linear::new().with_base_ms(base_ms).with_max_ms(max_ms))
            }
            Strategy::Fixed => {
                Backoff::Fixed(Fixed::new().with_base_ms(base_ms).with_max_ms(max_ms))
            }
        };
        let jitter = if self.jitter.unwrap_or(DEFAULT_POLICY_JITTER) {
            Jitter::Proportional {
                percent: self
                    .jitter_max_percent
                    .unwrap_or(DEFAULT_POLICY_JITTER_MAX_PERCENT),
            }
        } else {
            Jitter::None
        };
        Ok(Policy::new(
            self.max_retries.unwrap_or(DEFAULT_POLICY_MAX_RETRIES),
            backoff,
            jitter,
        ))
    }

    /// The policy keys with their values, as the config writes them (complete layers only).
    pub(crate) fn describe(&self) -> Map<String, Value> {
        let description = PolicyDescription {
            max_retries: self.max_retries,
            backoff_strategy: self.strategy.map(Strategy::as_str),
            backoff_base_ms: self.base_ms,
            backoff_multiplier: self.multiplier,
            max_backoff_ms: self.max_ms,
            jitter: self.jitter,
            jitter_max_percent: self.jitter_max_percent.map(whole_or_fraction),
        };
        match serde_json::to_value(description) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }
}

/// A percentage as JSON: `20`, not `20.0`, when it is whole.
fn whole_or_fraction(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        json!(value as i64)
    } else {
        json!(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn description_uses_exactly_the_policy_keys() {
        let described = PolicyLayer::defaults().describe();
        let mut keys: Vec<&str> = described.keys().map(String::as_str).collect();
        let mut expected = PolicyKeys::KEYS.to_vec();
        keys.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn strategy_parses_its_names_and_states_the_rule() {
        assert_eq!("linear".parse::<Strategy>(), Ok(Strategy::Linear));
        assert_eq!(
            "cubic".parse::<Strategy>(),
            Err("must be one of exponential, linear, fixed".to_owned())
        );
    }

    fn read_layer(value: Value) -> Result<PolicyLayer, Vec<String>> {
        let mut errors = Errors::default();
        let path = KeyPath::root().key("p");
        let layer = PolicyLayer::read(value.as_object().unwrap(), &path, false, &[], &mut errors);
        if errors.0.is_empty() {
            Ok(layer)
        } else {
            Err(errors.0.into_iter().map(|e| e.message).collect())
        }
    }

    #[test]
    fn layer_reads_every_policy_key() {
        let layer = read_layer(json!({"max_retries": 5, "backoff_strategy": "linear",
            "backoff_base_ms": 100, "backoff_multiplier": 1.5, "max_backoff_ms": 900,
            "jitter": false, "jitter_max_percent": 10}))
        .unwrap();
        assert_eq!(layer.strategy, Some(Strategy::Linear));
        assert_eq!(layer.multiplier, Some(1.5));
        assert_eq!(layer.jitter_max_percent, Some(10.0));
    }

    #[test]
    fn layer_unknown_strategy_is_rejected() {
        assert_eq!(
            read_layer(json!({"backoff_strategy": "random"})).unwrap_err(),
            ["p.backoff_strategy must be one of exponential, linear, fixed, but was \"random\""]
        );
    }

    #[test]
    fn layer_multiplier_below_one_is_rejected() {
        assert_eq!(
            read_layer(json!({"backoff_multiplier": 0.5})).unwrap_err(),
            ["p.backoff_multiplier must be >= 1.0, but was 0.5"]
        );
    }

    #[test]
    fn layer_jitter_percent_out_of_range_is_rejected() {
        assert_eq!(
            read_layer(json!({"jitter_max_percent": 101})).unwrap_err(),
            ["p.jitter_max_percent must be within 0..=100, but was 101"]
        );
    }

    #[test]
    fn layer_retry_on_status_needs_permission() {
        let errors = read_layer(json!({"retry_on_status": [503]})).unwrap_err();
        assert!(errors[0].starts_with("p.retry_on_status is not a known key"));
    }

    #[test]
    fn over_keeps_only_fields_set_above() {
        let top = PolicyLayer {
            max_retries: Some(5),
            ..PolicyLayer::default()
        };
        let merged = top.over(&PolicyLayer::defaults());
        assert_eq!(merged.max_retries, Some(5));
        assert_eq!(merged.base_ms, Some(DEFAULT_POLICY_BASE_MS));
    }

    #[test]
    fn to_policy_rejects_max_below_base() {
        let layer = PolicyLayer {
            base_ms: Some(9000),
            ..PolicyLayer::default()
        }
        .over(&PolicyLayer::defaults());
        assert_eq!(layer.to_policy().unwrap_err(), (5000, 9000));
    }
}
