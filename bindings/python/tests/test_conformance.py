"""Every conformance scenario through the Python runner, and the runner's own contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from retry_with_backoff_component import conformance


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "retry_with_backoff_component.conformance", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_scenario_passes(conformance_dir: Path):
    files = sorted(conformance_dir.rglob("*.yaml"))
    completed = run_cli(str(conformance_dir))
    lines = completed.stdout.strip().splitlines()
    failed = [line for line in lines if line.startswith("FAIL")]
    assert failed == [], completed.stdout
    assert lines[-1] == f"{len(files)} passed, 0 failed"
    assert completed.returncode == 0
    assert sum(line.startswith("ok   ") for line in lines) == len(files)


def test_failing_scenario_exits_1_and_names_the_step(tmp_path: Path):
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(
        "name: wrong on purpose\nconfig: {jitter: false}\nsteps:\n"
        "  - {hook: tool_post_invoke, tool: t, result: {isError: true}, expect: {retry_delay_ms: 999}}\n"
    )
    completed = run_cli(str(scenario))
    assert completed.returncode == 1
    assert f"FAIL {scenario}: wrong on purpose" in completed.stdout
    assert "step 1 (tool_post_invoke t request req-1 at 0 ms): retry_delay_ms: expected 999, got 200" in completed.stdout
    assert completed.stdout.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_unknown_key_is_reported_with_its_line(tmp_path: Path):
    scenario = tmp_path / "typo.yaml"
    scenario.write_text("name: typo\nsteps:\n  - hook: tool_post_invoke\n    tool: t\n    expect: {retry_delay: 200}\n")
    report = conformance.run_file(str(scenario))
    assert not report.passed
    assert report.name == "(not a valid scenario)"
    assert "retry_delay" in report.failures[0] and "line 5" in report.failures[0]


def test_yaml_1_1_booleans_stay_strings(tmp_path: Path):
    scenario = tmp_path / "yes.yaml"
    scenario.write_text(
        "name: yes is a string\nconfig: {jitter: yes}\nexpect_config_error: jitter\n"
    )
    assert conformance.run_file(str(scenario)).passed


def test_missing_path_exits_2(tmp_path: Path):
    completed = run_cli(str(tmp_path / "nowhere"))
    assert completed.returncode == 2
    assert "no such file or directory" in completed.stderr


def test_no_arguments_is_a_usage_error():
    assert run_cli().returncode == 2
