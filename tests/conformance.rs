//! Runs every conformance scenario on the component and on the native engine (which must agree
//! step by step), and checks that the scenario directory holds nothing unclassified.

mod common;

use std::path::PathBuf;

use common::{scratch_file, workspace};

use host_harness::backend::BackendChoice;
use host_harness::conformance::{discover, run_file, run_paths};
use host_harness::scenario::Scenario;
use retry_host::PluginRuntime;

fn scenario_dir() -> PathBuf {
    workspace().join("tests").join("conformance")
}

#[test]
fn every_scenario_passes_on_wasm_and_native() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut failures = Vec::new();
    let summary = run_paths(&runtime, &[scenario_dir()], BackendChoice::Both, |line| {
        if !line.starts_with("ok") {
            failures.push(line.to_owned());
        }
    })
    .unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        summary.passed >= 70,
        "only {} scenarios ran",
        summary.passed
    );
}

#[test]
fn every_yaml_under_tests_is_a_scenario_with_an_expectation() {
    let all_yaml = discover(&[workspace().join("tests")]).unwrap();
    for file in all_yaml {
        assert!(
            file.starts_with(scenario_dir()),
            "{} is a YAML file outside tests/conformance: classify or remove it",
            file.display()
        );
        let scenario =
            Scenario::load(&file).unwrap_or_else(|e| panic!("{}: {e:#}", file.display()));
        let expects_something = scenario.expect_config_error.is_some()
            || scenario.steps.iter().any(|step| {
                step.expect.retry.is_some()
                    || step.expect.retry_delay_ms.is_some()
                    || step.expect.metadata.is_some()
                    || step.expect.stats.is_some()
            });
        assert!(expects_something, "{} asserts nothing", file.display());
    }
}

#[test]
fn wrong_expectation_fails_with_expected_and_actual() {
    let runtime = PluginRuntime::plugin().unwrap();
    let file = scratch_file(
        "wrong.yaml",
        "name: wrong on purpose\nconfig: {jitter: false}\nsteps:\n  - {hook: tool_post_invoke, tool: t, result: {isError: true}, expect: {retry_delay_ms: 999}}\n",
    );
    let report = run_file(&runtime, &file, BackendChoice::Both);
    assert!(!report.passed());
    let text = report.render();
    assert!(
        text.starts_with("FAIL") && text.contains("step 1"),
        "{text}"
    );
    assert!(text.contains("expected 999, got 200"), "{text}");
}

#[test]
fn wrong_config_error_expectation_fails() {
    let runtime = PluginRuntime::plugin().unwrap();
    let accepted = scratch_file(
        "accepted.yaml",
        "name: config is fine\nconfig: {max_retries: 3}\nexpect_config_error: max_retries\n",
    );
    assert!(!run_file(&runtime, &accepted, BackendChoice::Both).passed());
    let other = scratch_file(
        "other.yaml",
        "name: other error\nconfig: {max_retries: 11}\nexpect_config_error: jitter\n",
    );
    assert!(!run_file(&runtime, &other, BackendChoice::Both).passed());
}

#[test]
fn invalid_scenario_is_a_failure_naming_the_line() {
    let runtime = PluginRuntime::plugin().unwrap();
    let file = scratch_file(
        "invalid.yaml",
        "name: typo\nsteps:\n  - hook: tool_post_invoke\n    tool: t\n    expect: {retry_delay: 200}\n",
    );
    let report = run_file(&runtime, &file, BackendChoice::Both);
    assert!(!report.passed());
    assert!(report.render().contains("line 5"), "{}", report.render());
    let broken = scratch_file("broken.yaml", "name: [unclosed\n");
    assert!(!run_file(&runtime, &broken, BackendChoice::Wasm).passed());
}
