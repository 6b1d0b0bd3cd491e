//! The `retry-harness` binary as a user runs it: output, exit codes, and one-line errors.

mod common;
use common::{scratch_file, workspace};
use std::process::{Command, Output};

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_retry-harness"))
        .args(args)
        .current_dir(workspace())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn demo_prints_the_story_table() {
    let output = harness(&["demo"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    assert!(table.starts_with("step"), "{table}");
    for needle in [
        "web_scraper",
        "retry",
        "no retry",
        "flaky_api",
        "retry_count",
        "retry_policy",
    ] {
        assert!(table.contains(needle), "missing {needle}: {table}");
    }
    assert_eq!(table, stdout(&harness(&["demo"])), "the demo is seeded");
}

#[test]
fn demo_safety_story_shows_every_new_decision() {
    let output = harness(&["demo", "--story", "safety"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    for decision in [
        "\"decision\":\"retry\"",
        "\"delay_source\":\"retry_after\"",
        "retry_after_too_long",
        "unsafe_to_retry",
        "deadline_exceeded",
        "budget_exhausted",
        "\"retry_budget\":{\"tokens\":3.5",
    ] {
        assert!(table.contains(decision), "missing {decision}: {table}");
    }
}

#[test]
fn simulate_compares_configs_and_draws_the_plot() {
    let plot = scratch_file("simulate.svg", "");
    let output = harness(&[
        "simulate",
        "--config",
        "plugin-manifest.yaml",
        "--config",
        "examples/spec-example-plugins.yaml",
        "--duration-s",
        "20",
        "--profile",
        "outage:5-10",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("plugin-manifest.yaml: offered 1000 calls"),
        "{text}"
    );
    assert!(
        text.contains("spec-example-plugins.yaml: offered 1000 calls"),
        "{text}"
    );
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>") && svg.len() > 1000);
    let phases = harness(&[
        "simulate",
        "--config",
        "examples/spec-example-plugins.yaml",
        "--profile",
        "examples/phases-outage-then-throttle.yaml",
        "--json",
    ]);
    assert!(phases.status.success(), "{}", stderr(&phases));
    let reports: serde_json::Value = serde_json::from_str(&stdout(&phases)).unwrap();
    let timeline = reports[0]["timeline"].as_array().unwrap();
    assert_eq!(timeline[20]["breaker"], "open", "{}", timeline[20]);
    assert!(timeline[5]["failures"] == 0 && timeline[20]["failures"].as_u64() > Some(0));
    let compared = harness(&[
        "simulate",
        "--tools",
        "3",
        "--duration-s",
        "10",
        "--compare",
        "plugin-manifest.yaml",
        "examples/spec-example-plugins.yaml",
    ]);
    assert_eq!(
        stdout(&compared).lines().count(),
        2,
        "{}",
        stdout(&compared)
    );
    let again = harness(&["simulate", "--duration-s", "20", "--json"]);
    assert_eq!(
        stdout(&again),
        stdout(&harness(&["simulate", "--duration-s", "20", "--json"]))
    );
}

#[test]
fn demo_with_config_uses_it() {
    let config = scratch_file("demo.yaml", "max_retries: 0\n");
    let output = harness(&["demo", "--config", config.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let retries = stdout(&output)
        .lines()
        .filter(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words
                .windows(2)
                .any(|pair| pair[1] == "retry" && pair[0] != "no")
        })
        .count();
    assert_eq!(retries, 0, "{}", stdout(&output));
    assert!(stdout(&output).contains("\"max_retries\":0"));
}

#[test]
fn conformance_directory_ends_with_summary_line() {
    let output = harness(&["conformance", "tests/conformance"]);
    assert!(output.status.success(), "{}", stdout(&output));
    let text = stdout(&output);
    let last = text.lines().last().unwrap();
    assert!(last.ends_with("passed, 0 failed"), "{last}");
    assert!(
        text.lines()
            .all(|line| line.starts_with("ok   ") || line == last)
    );
}

#[test]
fn conformance_failure_exits_one() {
    let file = scratch_file(
        "fail.yaml",
        "name: fails\nsteps:\n  - {hook: tool_post_invoke, tool: t, result: {}, expect: {retry: true}}\n",
    );
    let output = harness(&["conformance", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("FAIL") && text.contains("retry: expected true, got false"),
        "{text}"
    );
    assert!(text.ends_with("0 passed, 1 failed\n"), "{text}");
}

#[test]
fn conformance_missing_path_exits_two_with_one_line() {
    let output = harness(&["conformance", "no/such/dir"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    assert!(stderr(&output).contains("no/such/dir"));
}

#[test]
fn check_config_accepts_the_manifest_defaults() {
    let output = harness(&["check-config", "plugin-manifest.yaml"]);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(
        text.starts_with("valid (manifest default_configs)"),
        "{text}"
    );
    let default_row: Vec<&str> = text.lines().nth(2).unwrap().split_whitespace().collect();
    assert_eq!(
        default_row,
        [
            "default",
            "2",
            "exponential",
            "200",
            "2",
            "5000",
            "full",
            "429,500,502,503,504"
        ]
    );
}

#[test]
fn check_config_prints_effective_policy_per_tool() {
    let file = scratch_file(
        "plugins.yaml",
        "plugins:\n  - name: PIIFilter\n    config: {}\n  - name: RetryWithBackoff\n    kind: plugins.retry_with_backoff.retry.RetryWithBackoffPlugin\n    config:\n      max_retries: 3\n      tool_overrides:\n        web_scraper: {backoff_base_ms: 1000}\n",
    );
    let output = harness(&["check-config", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("valid (plugin entry \"RetryWithBackoff\")"),
        "{text}"
    );
    assert!(text.contains("tool web_scraper  3"), "{text}");
    let json = harness(&["check-config", "--json", file.to_str().unwrap()]);
    let value: serde_json::Value =
        serde_json::from_str(stdout(&json).split_once('\n').unwrap().1).unwrap();
    assert_eq!(value["tools"]["web_scraper"]["backoff_base_ms"], 1000);
}

#[test]
fn check_config_rejects_each_reference_bad_config_naming_the_key() {
    let cases = [
        (
            "max_retries: 11",
            "max_retries",
            "max_retries cannot exceed 10",
        ),
        (
            "backoff_base_ms: 0",
            "backoff_base_ms",
            "backoff_base_ms must be > 0",
        ),
        (
            "max_backoff_ms: 100",
            "max_backoff_ms",
            "max_backoff_ms must be >= backoff_base_ms",
        ),
        ("jitter: 1", "jitter", "jitter must be a boolean"),
        ("jitter: \"yes\"", "jitter", "jitter must be a boolean"),
        (
            "retry_on_status: 503",
            "retry_on_status",
            "retry_on_status must be a list of integers",
        ),
        (
            "tool_overrides: {t: 5}",
            "tool_overrides['t']",
            "tool_overrides['t']: expected a dict, got int",
        ),
        ("maxRetries: 3", "maxRetries", "did you mean max_retries?"),
        (
            "tool_overrides: {t: {bogus: 1}}",
            "tool_overrides['t'].bogus",
            "is not a known key",
        ),
        (
            "tool_overrides: {t: {max_retries: 11}}",
            "tool_overrides['t'].max_retries",
            "cannot exceed 10",
        ),
        (
            "tool_overrides: {t: {backoff_base_ms: 0}}",
            "tool_overrides['t'].backoff_base_ms",
            "must be > 0",
        ),
        (
            "retry_on_status: [-1]",
            "retry_on_status",
            "within 100..=599",
        ),
        (
            "retry_on_status: [99999]",
            "retry_on_status",
            "within 100..=599",
        ),
    ];
    for (index, (yaml, key, message)) in cases.iter().enumerate() {
        let file = scratch_file(&format!("bad-{index}.yaml"), yaml);
        let output = harness(&["check-config", file.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1), "{yaml}");
        let text = stdout(&output);
        assert!(text.starts_with("invalid"), "{yaml}: {text}");
        assert!(text.contains(&format!("error [{key}]: ")), "{yaml}: {text}");
        assert!(text.contains(message), "{yaml}: {text}");
    }
}

#[test]
fn check_config_accepts_the_specification_example_verbatim() {
    let output = harness(&["check-config", "examples/spec-example-plugins.yaml"]);
    assert!(output.status.success(), "{}", stdout(&output));
    let text = stdout(&output);
    for row in [
        "status 429",
        "status 504",
        "pattern \"connection.*reset\"",
        "tool web_scraper",
        "tool database_query",
    ] {
        assert!(text.contains(row), "missing {row}: {text}");
    }
    assert!(text.contains("circuit_breaker: opens after 5"), "{text}");
}

#[test]
fn check_config_rejects_mixed_schemas_naming_keys() {
    let file = scratch_file(
        "mixed.yaml",
        "max_retries: 3\ndefault_policy: {max_retries: 2}\n",
    );
    let output = harness(&["check-config", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains(
        "mixes the flat (ContextForge) keys max_retries with the nested keys default_policy"
    ));
}

#[test]
fn demo_replays_under_the_specification_example() {
    let output = harness(&["demo", "--config", "examples/spec-example-plugins.yaml"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("\"decision\":\"not_retryable\"") && text.contains("\"source\""),
        "{text}"
    );
}

#[test]
fn check_config_reports_every_error_of_one_file() {
    let file = scratch_file("many.yaml", "max_retries: 11\njitter: 1\nbogus: 2\n");
    let output = harness(&["check-config", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("3 error(s)"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn check_config_accepts_json() {
    let file = scratch_file("config.json", r#"{"max_retries": 4, "jitter": false}"#);
    let output = harness(&["check-config", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stdout(&output));
}

#[test]
fn bad_inputs_exit_two_with_one_line() {
    let invalid_yaml = scratch_file("invalid.yaml", "max_retries: [1,\n");
    let not_a_component = scratch_file("fake.wasm", "not wasm at all");
    let no_plugin = scratch_file("noplugin.yaml", "plugins:\n  - name: Other\n");
    let cases: Vec<Vec<String>> = vec![
        vec!["check-config".into(), "no-such-file.yaml".into()],
        vec!["check-config".into(), invalid_yaml.display().to_string()],
        vec!["check-config".into(), no_plugin.display().to_string()],
        vec![
            "--component".into(),
            not_a_component.display().to_string(),
            "demo".into(),
        ],
        vec![
            "--component".into(),
            "missing.wasm".into(),
            "conformance".into(),
            "tests/conformance".into(),
        ],
        vec!["demo".into(), "--config".into(), "missing.yaml".into()],
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = harness(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let err = stderr(&output);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn bench_prints_rows_with_the_floor() {
    let output = harness(&["bench", "--iterations", "200", "--runs", "1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let needles = [
        "floor ns",
        "native ns",
        "success",
        "retryable failure",
        "non-retryable",
        "resource_post_fetch",
        "1 MiB of text",
        "cold start",
        "throughput",
    ];
    for needle in needles {
        assert!(text.contains(needle), "missing {needle}: {text}");
    }
    let json = harness(&["bench", "--json", "--iterations", "200", "--runs", "1"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let rows = report["rows"].as_array().unwrap();
    assert!(
        rows.iter()
            .all(|row| row["floor_ns"].as_f64().unwrap() > 0.0)
    );
    assert!(report["cold_start"]["component_bytes"].as_u64().unwrap() > 0);
    assert_eq!(report["throughput"].as_array().unwrap().len(), 3);
}

#[test]
fn bench_profile_makes_untimed_calls_on_one_backend() {
    for backend in ["plugin", "floor", "native"] {
        let output = harness(&[
            "bench",
            "--only",
            "resource_post_fetch",
            "--profile",
            backend,
            "--calls",
            "10",
        ]);
        assert!(output.status.success(), "{backend}: {}", stderr(&output));
        assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    }
    let nothing = harness(&["bench", "--only", "no such row", "--profile", "plugin"]);
    assert!(!nothing.status.success());
    assert!(
        stderr(&nothing).contains("no bench row"),
        "{}",
        stderr(&nothing)
    );
}

#[test]
fn usage_error_exits_two() {
    assert_eq!(harness(&["no-such-command"]).status.code(), Some(2));
    let help = stdout(&harness(&["--help"]));
    assert!(help.contains("Exit codes"), "{help}");
}
