//! A policy layer of the nested schema: the policy keys one mapping sets (`default_policy`, a
//! `status_code_policies` entry, an `error_patterns` entry, a `tool_policies` entry). Layers
//! stack, each overriding only the fields it sets.

use serde_json::{Map, Value, json};

use super::read::{self, Errors};
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

/// The policy keys every layer may set.
pub(crate) const POLICY_KEYS: &[&str] = &[
    "max_retries",
    "backoff_strategy",
    "backoff_base_ms",
    "backoff_multiplier",
    "max_backoff_ms",
    "jitter",
    "jitter_max_percent",
];

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
    /// The configuration name.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Exponential => "exponential",
            Self::Linear => "linear",
            Self::Fixed => "fixed",
        }
    }
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
        }
    }

    /// Reads the policy keys of `map` (checking `extra_keys` are allowed too), recording every
    /// broken rule under `prefix`.
    pub(crate) fn read(
        map: &Map<String, Value>,
        prefix: &str,
        extra_keys: &[&str],
        errors: &mut Errors,
    ) -> Self {
        let known: Vec<&str> = POLICY_KEYS.iter().chain(extra_keys).copied().collect();
        read::reject_unknown_keys(errors, prefix, map, &known);
        let key = |name: &str| read::join(prefix, name);
        let limit = i128::from(MAX_RETRIES_LIMIT);
        let mut layer = Self {
            max_retries: map
                .get("max_retries")
                .and_then(|v| read::integer_in(errors, &key("max_retries"), v, 0, Some(limit)))
                .map(|n| n as u32),
            base_ms: map
                .get("backoff_base_ms")
                .and_then(|v| read::integer_in(errors, &key("backoff_base_ms"), v, 1, None)),
            max_ms: map
                .get("max_backoff_ms")
                .and_then(|v| read::integer_in(errors, &key("max_backoff_ms"), v, 1, None)),
            jitter: map
                .get("jitter")
                .and_then(|v| read::boolean(errors, &key("jitter"), v)),
            ..Self::default()
        };
        if let Some(value) = map.get("backoff_strategy") {
            layer.strategy = read_strategy(errors, &key("backoff_strategy"), value);
        }
        if let Some(value) = map.get("backoff_multiplier") {
            let path = key("backoff_multiplier");
            layer.multiplier = read::number(errors, &path, value).and_then(|m| {
                if m >= 1.0 {
                    Some(m)
                } else {
                    errors.push(&path, format!("{path} must be >= 1.0, but was {m}"));
                    None
                }
            });
        }
        if let Some(value) = map.get("jitter_max_percent") {
            let path = key("jitter_max_percent");
            layer.jitter_max_percent = read::number(errors, &path, value).and_then(|p| {
                if (0.0..=100.0).contains(&p) {
                    Some(p)
                } else {
                    errors.push(&path, format!("{path} must be within 0..=100, but was {p}"));
                    None
                }
            });
        }
        if let Some(value) = map.get("retry_on_status") {
            layer.retry_on_status = read::status_list(errors, &key("retry_on_status"), value);
        }
        layer
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
        let mut map = Map::new();
        let mut put = |key: &str, value: Value| {
            map.insert(key.to_owned(), value);
        };
        put("max_retries", json!(self.max_retries));
        put(
            "backoff_strategy",
            json!(self.strategy.map(Strategy::as_str)),
        );
        put("backoff_base_ms", json!(self.base_ms));
        put("backoff_multiplier", json!(self.multiplier));
        put("max_backoff_ms", json!(self.max_ms));
        put("jitter", json!(self.jitter));
        put(
            "jitter_max_percent",
            json!(self.jitter_max_percent.map(whole_or_fraction)),
        );
        map
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

fn read_strategy(errors: &mut Errors, key: &str, value: &Value) -> Option<Strategy> {
    match value.as_str() {
        Some("exponential") => Some(Strategy::Exponential),
        Some("linear") => Some(Strategy::Linear),
        Some("fixed") => Some(Strategy::Fixed),
        _ => {
            errors.push(
                key,
                format!(
                    "{key} must be one of exponential, linear, fixed, but was {}",
                    read::show(value)
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_layer(value: Value) -> Result<PolicyLayer, Vec<String>> {
        let mut errors = Errors::default();
        let layer = PolicyLayer::read(value.as_object().unwrap(), "p", &[], &mut errors);
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
