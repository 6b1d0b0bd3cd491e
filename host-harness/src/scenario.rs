//! The conformance scenario file format (v1, `shared/conformance-format.md`): its model and
//! its loading, with errors that name the file, the line and what is wrong.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;
use serde_json::Value;
use serde_yaml_ng::Value as Yaml;

use crate::yaml;
use retry_host::guest_env::DEFAULT_START_WALL_MS;

/// The request id of a step that names none.
pub const DEFAULT_REQUEST_ID: &str = "req-1";

/// A scenario as written in its file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    #[allow(
        dead_code,
        reason = "free text for readers; parsed so that it is allowed"
    )]
    description: Option<String>,
    #[serde(default)]
    config: Option<Yaml>,
    #[serde(default)]
    random_seed: Option<u64>,
    #[serde(default)]
    start_wall_ms: Option<u64>,
    #[serde(default)]
    expect_config_error: Option<String>,
    #[serde(default)]
    steps: Option<Vec<RawStep>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    at_ms: Option<u64>,
    hook: Hook,
    #[serde(default)]
    tool: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    server_id: Option<String>,
    #[serde(default)]
    remaining_ms: Option<u64>,
    #[serde(default)]
    tool_annotations: Option<Yaml>,
    #[serde(default)]
    result: Option<Yaml>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    content: Option<Yaml>,
    #[serde(default)]
    expect: Option<RawExpect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[serde(default)]
    retry: Option<bool>,
    #[serde(default)]
    retry_delay_ms: Option<DelayExpectation>,
    #[serde(default)]
    metadata: Option<Yaml>,
    #[serde(default)]
    stats: Option<Yaml>,
}

/// Which hook a step calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// `tool_post_invoke`.
    ToolPostInvoke,
    /// `resource_post_fetch`.
    ResourcePostFetch,
    /// `stats` (format v2): reads the retry statistics.
    Stats,
}

/// An expected `retry_delay_ms`: exact, or an inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum DelayExpectation {
    /// Exactly this many ms.
    Exact(u64),
    /// Within `min..=max` (either bound optional).
    Range {
        /// The smallest allowed delay.
        #[serde(default)]
        min: Option<u64>,
        /// The largest allowed delay.
        #[serde(default)]
        max: Option<u64>,
    },
}

impl DelayExpectation {
    /// Whether `delay_ms` meets the expectation.
    pub fn matches(&self, delay_ms: u64) -> bool {
        match *self {
            Self::Exact(expected) => delay_ms == expected,
            Self::Range { min, max } => {
                min.is_none_or(|min| delay_ms >= min) && max.is_none_or(|max| delay_ms <= max)
            }
        }
    }
}

impl std::fmt::Display for DelayExpectation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exact(expected) => write!(f, "{expected}"),
            Self::Range { min, max } => {
                let min = min.map_or(String::new(), |m| m.to_string());
                let max = max.map_or(String::new(), |m| m.to_string());
                write!(f, "{min}..={max}")
            }
        }
    }
}

/// What a step expects of the plugin's answer; every part is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expectation {
    /// Whether the plugin asks for a retry.
    pub retry: Option<bool>,
    /// The delay.
    pub retry_delay_ms: Option<DelayExpectation>,
    /// A subset of the returned metadata (`null` values assert absent keys).
    pub metadata: Option<Value>,
    /// A subset of the statistics (a `stats` step).
    pub stats: Option<Value>,
}

/// One call of a hook.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Virtual monotonic time of the call, in ms since the start.
    pub at_ms: u64,
    /// The hook called.
    pub hook: Hook,
    /// The tool name (tool_post_invoke).
    pub tool: String,
    /// The request id.
    pub request_id: String,
    /// The trace id, if the call is traced.
    pub trace_id: Option<String>,
    /// The MCP server id, if given.
    pub server_id: Option<String>,
    /// The time the caller has left, if given (format v2).
    pub remaining_ms: Option<u64>,
    /// The tool's MCP annotations, if given (format v2; MCP's camelCase keys).
    pub tool_annotations: Option<Value>,
    /// The tool result (tool_post_invoke).
    pub result: Value,
    /// The resource URI (resource_post_fetch).
    pub uri: String,
    /// The fetched content (resource_post_fetch).
    pub content: Option<Value>,
    /// What the answer must be.
    pub expect: Expectation,
}

/// A loaded, checked scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The scenario's name.
    pub name: String,
    /// The plugin config as JSON, if any (absent: the component's defaults).
    pub config: Option<Value>,
    /// The random seed, if fixed.
    pub random_seed: Option<u64>,
    /// Wall clock at virtual time 0, in Unix ms.
    pub start_wall_ms: u64,
    /// When set, configuring must fail with an error containing this text.
    pub expect_config_error: Option<String>,
    /// The calls, in order.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Loads and checks the scenario at `path`.
    ///
    /// # Errors
    /// An unreadable file, invalid YAML, a field of the wrong type or unknown to the format
    /// (with its line), or a broken rule of the format (naming the step).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text)
    }

    /// Parses and checks a scenario from its text.
    ///
    /// # Errors
    /// As [`Scenario::load`].
    pub fn parse(text: &str) -> Result<Self> {
        let raw: RawScenario = serde_yaml_ng::from_str(text)?;
        let config = raw.config.as_ref().map(yaml::to_json).transpose()?;
        let Some(raw_steps) = raw.steps else {
            if raw.expect_config_error.is_none() {
                bail!("a scenario needs `steps` unless it gives `expect_config_error`");
            }
            return Ok(Self {
                name: raw.name,
                config,
                random_seed: raw.random_seed,
                start_wall_ms: raw.start_wall_ms.unwrap_or(DEFAULT_START_WALL_MS),
                expect_config_error: raw.expect_config_error,
                steps: Vec::new(),
            });
        };
        let mut steps = Vec::with_capacity(raw_steps.len());
        let mut now = 0;
        for (index, raw) in raw_steps.into_iter().enumerate() {
            let step = check_step(raw, now).with_context(|| format!("step {}", index + 1))?;
            now = step.at_ms;
            steps.push(step);
        }
        Ok(Self {
            name: raw.name,
            config,
            random_seed: raw.random_seed,
            start_wall_ms: raw.start_wall_ms.unwrap_or(DEFAULT_START_WALL_MS),
            expect_config_error: raw.expect_config_error,
            steps,
        })
    }
}

fn check_step(raw: RawStep, previous_ms: u64) -> Result<Step> {
    let at_ms = raw.at_ms.unwrap_or(previous_ms);
    if at_ms < previous_ms {
        bail!("at_ms {at_ms} is before the previous step's {previous_ms}: time never decreases");
    }
    let tool = match (raw.hook, raw.tool) {
        (Hook::ToolPostInvoke, None) => bail!("a tool_post_invoke step needs `tool`"),
        (_, tool) => tool.unwrap_or_default(),
    };
    let uri = match (raw.hook, raw.uri) {
        (Hook::ResourcePostFetch, None) => bail!("a resource_post_fetch step needs `uri`"),
        (_, uri) => uri.unwrap_or_default(),
    };
    let expect = match raw.expect {
        None => Expectation::default(),
        Some(expect) => Expectation {
            retry: expect.retry,
            retry_delay_ms: expect.retry_delay_ms,
            metadata: expect.metadata.as_ref().map(yaml::to_json).transpose()?,
            stats: expect.stats.as_ref().map(yaml::to_json).transpose()?,
        },
    };
    Ok(Step {
        at_ms,
        hook: raw.hook,
        tool,
        request_id: raw
            .request_id
            .unwrap_or_else(|| DEFAULT_REQUEST_ID.to_owned()),
        trace_id: raw.trace_id,
        server_id: raw.server_id,
        remaining_ms: raw.remaining_ms,
        tool_annotations: raw
            .tool_annotations
            .as_ref()
            .map(yaml::to_json)
            .transpose()?,
        result: raw
            .result
            .as_ref()
            .map(yaml::to_json)
            .transpose()?
            .unwrap_or(Value::Null),
        uri,
        content: raw.content.as_ref().map(yaml::to_json).transpose()?,
        expect,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
name: exhaustion starts a fresh budget
description: free text
config: {max_retries: 2, jitter: false}
random_seed: 7
steps:
  - at_ms: 0
    hook: tool_post_invoke
    tool: web_scraper
    trace_id: t-1
    result:
      isError: true
      content: [{type: text, text: "upstream timeout"}]
    expect:
      retry: true
      retry_delay_ms: 200
      metadata: {retry_with_backoff: {retry_count: 1}}
  - hook: resource_post_fetch
    uri: file:///data.txt
    content: {type: resource, uri: "file:///data.txt", text: hello}
    expect:
      retry_delay_ms: {min: 0, max: 0}
      metadata: {retry_policy: {max_retries: 2}}
"#;

    #[test]
    fn parse_format_example() {
        let scenario = Scenario::parse(EXAMPLE).unwrap();
        assert_eq!(scenario.steps.len(), 2);
        assert_eq!(scenario.start_wall_ms, DEFAULT_START_WALL_MS);
        assert_eq!(scenario.steps[0].request_id, "req-1");
        assert_eq!(scenario.steps[1].hook, Hook::ResourcePostFetch);
        assert_eq!(
            scenario.steps[1].expect.retry_delay_ms,
            Some(DelayExpectation::Range {
                min: Some(0),
                max: Some(0)
            })
        );
    }

    #[test]
    fn parse_unknown_key_names_line() {
        let err = Scenario::parse("name: x\nsteps: []\nbogus: 1\n").unwrap_err();
        assert!(format!("{err:#}").contains("line 3"), "{err:#}");
    }

    #[test]
    fn parse_decreasing_time_is_rejected() {
        let text = "name: x\nsteps:\n - {at_ms: 5, hook: resource_post_fetch, uri: u}\n - {at_ms: 1, hook: resource_post_fetch, uri: u}\n";
        let err = format!("{:#}", Scenario::parse(text).unwrap_err());
        assert!(
            err.contains("step 2") && err.contains("never decreases"),
            "{err}"
        );
    }

    #[test]
    fn parse_missing_steps_without_config_error_is_rejected() {
        assert!(Scenario::parse("name: x\n").is_err());
        assert!(Scenario::parse("name: x\nexpect_config_error: max_retries\n").is_ok());
    }

    #[test]
    fn parse_unknown_key_in_a_delay_range_is_rejected() {
        let text = "name: x\nsteps:\n - {hook: resource_post_fetch, uri: u, expect: {retry_delay_ms: {min: 1, mx: 5}}}\n";
        assert!(Scenario::parse(text).is_err());
    }

    #[test]
    fn delay_expectation_ranges_are_inclusive() {
        let range = DelayExpectation::Range {
            min: Some(1),
            max: Some(200),
        };
        assert!(range.matches(1) && range.matches(200) && !range.matches(0) && !range.matches(201));
    }
}
