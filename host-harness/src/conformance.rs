//! The conformance runner: replays scenario files against the component (and, by default,
//! the native engine, requiring both to agree) and reports one line per scenario.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use retry_host::bindings::{PluginContext, ToolPostInvokePayload};
use retry_host::guest_env::{GuestEnv, VirtualClock, fresh_seed};
use retry_host::hook::{Configure, ResourcePostFetch, Stats, ToolPostInvoke};
use retry_host::{PluginRuntime, payload};

use crate::backend::{Backend, BackendChoice, backends};
use crate::matcher::subset_mismatch;
use crate::scenario::{Hook, Scenario, Step};

/// The result of one scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioReport {
    /// The file.
    pub file: PathBuf,
    /// The scenario's name, when the file could be read that far.
    pub name: String,
    /// Why it failed (empty: it passed).
    pub failures: Vec<String>,
}

impl ScenarioReport {
    /// Whether the scenario passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The report as printed: `ok   file: name`, or `FAIL file: name` and indented details.
    pub fn render(&self) -> String {
        let status = if self.passed() { "ok  " } else { "FAIL" };
        let mut out = format!("{status} {}: {}", self.file.display(), self.name);
        for failure in &self.failures {
            for line in failure.lines() {
                let _ = write!(out, "\n       {line}");
            }
        }
        out
    }
}

/// Every `*.yaml` (or `*.yml`) file named by `paths` or below the directories among them,
/// sorted.
///
/// # Errors
/// A path that does not exist or a directory that cannot be read.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_yaml(path, &mut files)?;
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            bail!("{}: no such file or directory", path.display());
        }
    }
    files.sort();
    Ok(files)
}

fn collect_yaml(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect_yaml(&path, files)?;
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            files.push(path);
        }
    }
    Ok(())
}

/// Runs the scenario in `file` on the chosen backends.
pub fn run_file(runtime: &PluginRuntime, file: &Path, choice: BackendChoice) -> ScenarioReport {
    let scenario = match Scenario::load(file) {
        Ok(scenario) => scenario,
        Err(err) => {
            return ScenarioReport {
                file: file.to_owned(),
                name: "(not a valid scenario)".to_owned(),
                failures: vec![format!("{err:#}")],
            };
        }
    };
    let failures = match run_scenario(runtime, &scenario, choice) {
        Ok(failures) => failures,
        Err(err) => vec![format!("{err:#}")],
    };
    ScenarioReport {
        file: file.to_owned(),
        name: scenario.name,
        failures,
    }
}

/// Runs a loaded scenario; returns the failed expectations.
///
/// # Errors
/// A backend that cannot be created, or a call that traps.
pub fn run_scenario(
    runtime: &PluginRuntime,
    scenario: &Scenario,
    choice: BackendChoice,
) -> Result<Vec<String>> {
    let seed = scenario.random_seed.unwrap_or_else(fresh_seed);
    let clock = VirtualClock::new(scenario.start_wall_ms);
    let env = GuestEnv::with_clock(clock.clone(), seed);
    let mut backends = backends(runtime, choice, &env)?;
    let mut failures = Vec::new();

    if let Some(config) = &scenario.config {
        let text = config.to_string();
        for backend in &mut backends {
            let outcome = backend.call(&Configure(&text))?;
            match (&scenario.expect_config_error, outcome) {
                (None, Ok(())) => {}
                (None, Err(err)) => failures.push(format!(
                    "[{}] configure refused the config: {}",
                    backend.name(),
                    err.text()
                )),
                (Some(expected), Err(err)) if err.text().contains(expected.as_str()) => {}
                (Some(expected), Err(err)) => failures.push(format!(
                    "[{}] config error: expected it to contain {expected:?}, got {:?}",
                    backend.name(),
                    err.text()
                )),
                (Some(expected), Ok(())) => failures.push(format!(
                    "[{}] config error: expected one containing {expected:?}, but the config was accepted",
                    backend.name()
                )),
            }
        }
    } else if let Some(expected) = &scenario.expect_config_error {
        failures.push(format!(
            "config error: expected one containing {expected:?}, but the scenario has no config"
        ));
    }
    if scenario.expect_config_error.is_some() || !failures.is_empty() {
        return Ok(failures);
    }

    for (index, step) in scenario.steps.iter().enumerate() {
        clock.set_ms(step.at_ms);
        let label = format!("step {} ({})", index + 1, describe(step));
        let mut outcomes = Vec::with_capacity(backends.len());
        for backend in &mut backends {
            let outcome =
                call(backend, step).with_context(|| format!("{label} on {}", backend.name()))?;
            outcomes.push((backend.name(), outcome));
        }
        let (first_name, first) = &outcomes[0];
        for (name, other) in &outcomes[1..] {
            if other != first {
                failures.push(format!(
                    "{label}: {first_name} and {name} disagree\n  {first_name}: {}\n  {name}: {}",
                    first.render(),
                    other.render()
                ));
            }
        }
        failures.extend(
            check(step, first)
                .into_iter()
                .map(|f| format!("{label}: {f}")),
        );
    }
    Ok(failures)
}

/// What one hook call answered, normalised across hooks.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Whether the plugin asked for a retry.
    pub retry: bool,
    /// The delay it asked for.
    pub retry_delay_ms: u64,
    /// The metadata object.
    pub metadata: Value,
    /// The warning to log, if any.
    pub warning: Option<String>,
}

impl Outcome {
    fn render(&self) -> String {
        format!(
            "retry={} retry_delay_ms={} metadata={} warning={:?}",
            self.retry, self.retry_delay_ms, self.metadata, self.warning
        )
    }
}

fn call(backend: &mut Backend, step: &Step) -> Result<Outcome> {
    let context = PluginContext {
        remaining_ms: step.remaining_ms,
        ..payload::context(
            &step.request_id,
            step.trace_id.as_deref(),
            step.server_id.as_deref(),
        )
    };
    let (retry, retry_delay_ms, metadata, warning) = match step.hook {
        Hook::ToolPostInvoke => {
            let tool_payload = ToolPostInvokePayload {
                annotations: step
                    .tool_annotations
                    .as_ref()
                    .and_then(payload::tool_annotations),
                ..payload::tool_payload(&step.tool, &step.result)
            };
            let result = backend.call(&ToolPostInvoke {
                payload: &tool_payload,
                context: &context,
            })?;
            (
                result.retry,
                result.retry_delay_ms,
                result.metadata,
                result.warning,
            )
        }
        Hook::ResourcePostFetch => {
            let payload = payload::resource_payload(&step.uri, step.content.as_ref());
            let result = backend.call(&ResourcePostFetch {
                payload: &payload,
                context: &context,
            })?;
            (false, 0, result.metadata, None)
        }
        // The statistics travel as the outcome's metadata object.
        Hook::Stats => (false, 0, backend.call(&Stats)?, None),
    };
    let metadata: Value = serde_json::from_str(&metadata)
        .with_context(|| format!("the metadata is not JSON: {metadata}"))?;
    if !metadata.is_object() {
        bail!("the metadata is not a JSON object: {metadata}");
    }
    if retry != (retry_delay_ms > 0) {
        bail!(
            "retry={retry} with retry_delay_ms={retry_delay_ms}: a retry needs a delay >= 1 and only a retry has one"
        );
    }
    Ok(Outcome {
        retry,
        retry_delay_ms,
        metadata,
        warning,
    })
}

fn check(step: &Step, outcome: &Outcome) -> Vec<String> {
    let mut failures = Vec::new();
    let expect = &step.expect;
    if let Some(retry) = expect.retry
        && retry != outcome.retry
    {
        failures.push(format!("retry: expected {retry}, got {}", outcome.retry));
    }
    if let Some(delay) = expect.retry_delay_ms
        && !delay.matches(outcome.retry_delay_ms)
    {
        failures.push(format!(
            "retry_delay_ms: expected {delay}, got {}",
            outcome.retry_delay_ms
        ));
    }
    if let Some(metadata) = &expect.metadata
        && let Some(mismatch) = subset_mismatch(metadata, &outcome.metadata)
    {
        failures.push(format!(
            "{mismatch}\n  whole metadata: {}",
            outcome.metadata
        ));
    }
    if let Some(stats) = &expect.stats
        && let Some(mismatch) = subset_mismatch(stats, &outcome.metadata)
    {
        failures.push(format!("{mismatch}\n  whole stats: {}", outcome.metadata));
    }
    failures
}

fn describe(step: &Step) -> String {
    match step.hook {
        Hook::ToolPostInvoke => format!(
            "tool_post_invoke {} request {} at {} ms",
            step.tool, step.request_id, step.at_ms
        ),
        Hook::ResourcePostFetch => format!("resource_post_fetch {} at {} ms", step.uri, step.at_ms),
        Hook::Stats => format!("stats at {} ms", step.at_ms),
    }
}

/// Totals of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that failed.
    pub failed: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)
    }
}

/// Runs every scenario below `paths`, printing each report line as it goes (through `print`),
/// and returns the totals.
///
/// # Errors
/// A path that does not exist.
pub fn run_paths(
    runtime: &PluginRuntime,
    paths: &[PathBuf],
    choice: BackendChoice,
    mut print: impl FnMut(&str),
) -> Result<Summary> {
    let mut summary = Summary::default();
    for file in discover(paths)? {
        let report = run_file(runtime, &file, choice);
        if report.passed() {
            summary.passed += 1;
        } else {
            summary.failed += 1;
        }
        print(&report.render());
    }
    Ok(summary)
}
