"""The conformance runner for Python hosts.

``python -m retry_with_backoff_component.conformance PATH...`` replays scenario files (the
format of ``shared/conformance-format.md``) against the component through this package: each
scenario gets a fresh plugin with a virtual clock and a seeded random source, every step goes
through the same Python API a gateway uses, and the report and exit codes are the Rust
runner's: one ``ok``/``FAIL`` line per scenario (failure details may be worded differently),
then ``N passed, N failed``; exit 0 when nothing failed, 1 when a scenario failed, 2 for a path
that does not exist.
"""

from __future__ import annotations

import json
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from . import _yaml
from ._native import DEFAULT_START_WALL_MS, ConfigError, Plugin, VirtualClock

__all__ = ["Report", "discover", "main", "run_file", "run_paths"]

DEFAULT_REQUEST_ID = "req-1"
U64_MAX = 2**64 - 1

_SCENARIO_KEYS = (
    "name",
    "description",
    "config",
    "random_seed",
    "start_wall_ms",
    "expect_config_error",
    "steps",
)
_STEP_KEYS = (
    "at_ms",
    "hook",
    "tool",
    "request_id",
    "trace_id",
    "server_id",
    "remaining_ms",
    "tool_annotations",
    "result",
    "uri",
    "content",
    "expect",
)
_EXPECT_KEYS = ("retry", "retry_delay_ms", "metadata", "stats")
_HOOKS = ("tool_post_invoke", "resource_post_fetch", "stats")


class ScenarioError(Exception):
    """A file that is not a valid scenario; the message names the line or step."""


@dataclass
class Report:
    """The result of one scenario file."""

    file: str
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def render(self) -> str:
        status = "ok  " if self.passed else "FAIL"
        lines = [f"{status} {self.file}: {self.name}"]
        for failure in self.failures:
            lines.extend("       " + line for line in failure.split("\n"))
        return "\n".join(lines)


# ---- reading a scenario ---------------------------------------------------------------------


def _line_of(node: yaml.Node | None, key: str) -> int | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if getattr(key_node, "value", None) == key:
                return key_node.start_mark.line + 1
    return None


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == key:
                return value_node
    return None


def _check_keys(value: Any, node: yaml.Node | None, allowed: Sequence[str], what: str) -> None:
    if not isinstance(value, dict):
        raise ScenarioError(f"{what}: expected a mapping, got {_kind(value)}")
    for key in value:
        if key not in allowed:
            line = _line_of(node, key)
            where = f" at line {line}" if line else ""
            expected = ", ".join(f"`{name}`" for name in allowed)
            raise ScenarioError(
                f"{what}: unknown field `{key}`, expected one of {expected}{where}"
            )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a sequence"
    return "a mapping"


def _u64(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U64_MAX:
        raise ScenarioError(f"{what}: expected an integer from 0 to {U64_MAX}, got {value!r}")
    return value


def _text(value: Any, what: str, node: yaml.Node | None = None) -> str:
    """A string field: a string, or any other plain scalar as written (``request_id: 42`` is
    ``"42"``), as the Rust runner reads it."""
    if isinstance(value, str):
        return value
    if isinstance(node, yaml.ScalarNode) and node.style is None and value is not None:
        return node.value
    raise ScenarioError(f"{what}: expected a string, got {_kind(value)}")


def _delay(value: Any, node: yaml.Node | None, what: str) -> tuple[int | None, int | None]:
    if isinstance(value, dict):
        _check_keys(value, node, ("min", "max"), what)
        low = value.get("min")
        high = value.get("max")
        return (
            None if low is None else _u64(low, f"{what}.min"),
            None if high is None else _u64(high, f"{what}.max"),
        )
    number = _u64(value, what)
    return (number, number)


@dataclass
class Step:
    at_ms: int
    hook: str
    tool: str
    request_id: str
    trace_id: str | None
    server_id: str | None
    remaining_ms: int | None
    tool_annotations: Any
    result: Any
    uri: str
    content: Any
    expect_retry: bool | None
    expect_delay: tuple[int | None, int | None] | None
    expect_delay_text: str
    expect_metadata: Any
    expect_stats: Any


@dataclass
class Scenario:
    name: str
    config: Any
    has_config: bool
    random_seed: int | None
    start_wall_ms: int
    expect_config_error: str | None
    steps: list[Step]


def _optional_text(raw: dict, key: str, what: str, node: yaml.Node | None) -> str | None:
    value = raw.get(key)
    return None if value is None else _text(value, f"{what}.{key}", _child(node, key))


def _or_default(request_id: str | None) -> str:
    return DEFAULT_REQUEST_ID if request_id is None else request_id


def _step(raw: Any, node: yaml.Node | None, index: int, previous_ms: int) -> Step:
    what = f"step {index}"
    _check_keys(raw, node, _STEP_KEYS, what)
    at_ms = previous_ms if raw.get("at_ms") is None else _u64(raw["at_ms"], f"{what}.at_ms")
    if at_ms < previous_ms:
        raise ScenarioError(
            f"{what}: at_ms {at_ms} is before the previous step's {previous_ms}: "
            "time never decreases"
        )
    hook = raw.get("hook")
    if hook not in _HOOKS:
        raise ScenarioError(
            f"{what}: hook must be one of `tool_post_invoke`, `resource_post_fetch`, `stats`, "
            f"got {hook!r}"
        )
    tool = _optional_text(raw, "tool", what, node)
    if hook == "tool_post_invoke" and tool is None:
        raise ScenarioError(f"{what}: a tool_post_invoke step needs `tool`")
    uri = _optional_text(raw, "uri", what, node)
    if hook == "resource_post_fetch" and uri is None:
        raise ScenarioError(f"{what}: a resource_post_fetch step needs `uri`")
    expect = raw.get("expect") or {}
    expect_node = _child(node, "expect")
    _check_keys(expect, expect_node, _EXPECT_KEYS, f"{what}.expect")
    retry = expect.get("retry")
    if retry is not None and not isinstance(retry, bool):
        raise ScenarioError(f"{what}.expect.retry: expected a boolean, got {_kind(retry)}")
    delay = None
    delay_text = ""
    if expect.get("retry_delay_ms") is not None:
        raw_delay = expect["retry_delay_ms"]
        delay = _delay(raw_delay, _child(expect_node, "retry_delay_ms"), f"{what}.expect.retry_delay_ms")
        if isinstance(raw_delay, dict):
            low, high = delay
            delay_text = f"{'' if low is None else low}..={'' if high is None else high}"
        else:
            delay_text = str(delay[0])
    return Step(
        at_ms=at_ms,
        hook=hook,
        tool=tool or "",
        request_id=_or_default(_optional_text(raw, "request_id", what, node)),
        trace_id=_optional_text(raw, "trace_id", what, node),
        server_id=_optional_text(raw, "server_id", what, node),
        remaining_ms=(
            None
            if raw.get("remaining_ms") is None
            else _u64(raw["remaining_ms"], f"{what}.remaining_ms")
        ),
        tool_annotations=(
            _yaml.to_json(raw["tool_annotations"])
            if raw.get("tool_annotations") is not None
            else None
        ),
        result=_yaml.to_json(raw.get("result")),
        uri=uri or "",
        content=_yaml.to_json(raw["content"]) if raw.get("content") is not None else None,
        expect_retry=retry,
        expect_delay=delay,
        expect_delay_text=delay_text,
        expect_metadata=_yaml.to_json(expect["metadata"]) if "metadata" in expect else None,
        expect_stats=_yaml.to_json(expect["stats"]) if "stats" in expect else None,
    )


def load_scenario(path: str) -> Scenario:
    """Reads and checks a scenario file; raises ``ScenarioError`` naming what is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(f"cannot read {path}: {err.strerror}") from None
    try:
        raw, node = _yaml.load_with_nodes(text)
    except yaml.YAMLError as err:
        raise ScenarioError(str(err).replace("\n", " ")) from None
    _check_keys(raw, node, _SCENARIO_KEYS, "scenario")
    if "name" not in raw:
        raise ScenarioError("missing field `name`")
    name = _text(raw["name"], "name", _child(node, "name"))
    if raw.get("description") is not None:
        _text(raw["description"], "description", _child(node, "description"))
    expect_error = raw.get("expect_config_error")
    if expect_error is not None:
        expect_error = _text(expect_error, "expect_config_error", _child(node, "expect_config_error"))
    seed = raw.get("random_seed")
    seed = None if seed is None else _u64(seed, "random_seed")
    start = raw.get("start_wall_ms")
    start = DEFAULT_START_WALL_MS if start is None else _u64(start, "start_wall_ms")
    raw_steps = raw.get("steps")
    steps: list[Step] = []
    if raw_steps is None:
        if expect_error is None:
            raise ScenarioError("a scenario needs `steps` unless it gives `expect_config_error`")
    else:
        if not isinstance(raw_steps, list):
            raise ScenarioError(f"steps: expected a sequence, got {_kind(raw_steps)}")
        step_nodes = getattr(_child(node, "steps"), "value", [])
        now = 0
        for index, raw_step in enumerate(raw_steps, start=1):
            step_node = step_nodes[index - 1] if index - 1 < len(step_nodes) else None
            step = _step(raw_step, step_node, index, now)
            now = step.at_ms
            steps.append(step)
    config = raw.get("config")
    return Scenario(
        name=name,
        config=_yaml.to_json(config),
        has_config=config is not None,
        random_seed=seed,
        start_wall_ms=start,
        expect_config_error=expect_error,
        steps=steps,
    )


# ---- running it -----------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    """Compact JSON with sorted keys, as the Rust runner prints values."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _equal(a: Any, b: Any) -> bool:
    """Whole equality with numbers compared by value (1 == 1.0) and booleans apart from numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return len(a) == len(b) and all(key in b and _equal(a[key], b[key]) for key in a)
    return type(a) is type(b) and a == b


def subset_mismatch(expected: Any, actual: Any, path: str = "metadata") -> str | None:
    """The first difference between ``expected`` (a subset) and ``actual``, or ``None``."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            where = f"{path}.{key}"
            if value is None:
                if key in actual:
                    return f"{where}: expected absent, got {_dumps(actual[key])}"
            elif key not in actual:
                return f"{where}: expected {_dumps(value)}, but it is absent"
            else:
                found = subset_mismatch(value, actual[key], where)
                if found:
                    return found
        return None
    if _equal(expected, actual):
        return None
    return f"{path}: expected {_dumps(expected)}, got {_dumps(actual)}"


@dataclass
class Outcome:
    retry: bool
    retry_delay_ms: int
    metadata: Any
    warning: str | None


def _call(plugin: Plugin, step: Step) -> Outcome:
    scope = {"trace_id": step.trace_id, "server_id": step.server_id}
    if step.hook == "tool_post_invoke":
        decision = plugin.tool_post_invoke(
            step.tool,
            step.result,
            step.request_id,
            remaining_ms=step.remaining_ms,
            tool_annotations=step.tool_annotations,
            **scope,
        )
        outcome = Outcome(
            decision.retry, decision.retry_delay_ms, decision.metadata, decision.warning
        )
    elif step.hook == "stats":
        # The statistics travel as the outcome's metadata object.
        outcome = Outcome(False, 0, plugin.stats(), None)
    else:
        metadata = plugin.resource_post_fetch(step.uri, step.content, step.request_id, **scope)
        outcome = Outcome(False, 0, metadata, None)
    if not isinstance(outcome.metadata, dict):
        raise RuntimeError(f"the metadata is not a JSON object: {_dumps(outcome.metadata)}")
    if outcome.retry != (outcome.retry_delay_ms > 0):
        raise RuntimeError(
            f"retry={str(outcome.retry).lower()} with retry_delay_ms={outcome.retry_delay_ms}: "
            "a retry needs a delay >= 1 and only a retry has one"
        )
    return outcome


def _check(step: Step, outcome: Outcome) -> list[str]:
    failures = []
    if step.expect_retry is not None and step.expect_retry != outcome.retry:
        failures.append(
            f"retry: expected {str(step.expect_retry).lower()}, got {str(outcome.retry).lower()}"
        )
    if step.expect_delay is not None:
        low, high = step.expect_delay
        delay = outcome.retry_delay_ms
        if (low is not None and delay < low) or (high is not None and delay > high):
            failures.append(f"retry_delay_ms: expected {step.expect_delay_text}, got {delay}")
    if step.expect_metadata is not None:
        mismatch = subset_mismatch(step.expect_metadata, outcome.metadata)
        if mismatch:
            failures.append(f"{mismatch}\n  whole metadata: {_dumps(outcome.metadata)}")
    if step.expect_stats is not None:
        mismatch = subset_mismatch(step.expect_stats, outcome.metadata)
        if mismatch:
            failures.append(f"{mismatch}\n  whole stats: {_dumps(outcome.metadata)}")
    return failures


def _describe(step: Step) -> str:
    if step.hook == "tool_post_invoke":
        return f"tool_post_invoke {step.tool} request {step.request_id} at {step.at_ms} ms"
    if step.hook == "stats":
        return f"stats at {step.at_ms} ms"
    return f"resource_post_fetch {step.uri} at {step.at_ms} ms"


def _config_error_text(err: ConfigError) -> str:
    return "; ".join(message for _, message in err.issues)


def run_scenario(scenario: Scenario) -> list[str]:
    """Runs a loaded scenario in a fresh plugin; returns the failed expectations."""
    seed = scenario.random_seed
    if seed is None:
        seed = random.getrandbits(64)
    clock = VirtualClock(scenario.start_wall_ms)
    plugin = Plugin(clock=clock, seed=seed)
    expected = scenario.expect_config_error
    if scenario.has_config:
        try:
            plugin.configure(scenario.config)
            if expected is not None:
                return [
                    f"config error: expected one containing {_dumps(expected)}, "
                    "but the config was accepted"
                ]
        except ConfigError as err:
            text = _config_error_text(err)
            if expected is None:
                return [f"configure refused the config: {text}"]
            if expected not in text:
                return [f"config error: expected it to contain {_dumps(expected)}, got {_dumps(text)}"]
        if expected is not None:
            return []
    elif expected is not None:
        return [
            f"config error: expected one containing {_dumps(expected)}, "
            "but the scenario has no config"
        ]
    failures = []
    for index, step in enumerate(scenario.steps, start=1):
        clock.set_ms(step.at_ms)
        label = f"step {index} ({_describe(step)})"
        try:
            outcome = _call(plugin, step)
        except Exception as err:  # a trap or a broken answer fails the scenario, not the run
            failures.append(f"{label}: {err}")
            return failures
        failures.extend(f"{label}: {failure}" for failure in _check(step, outcome))
    return failures


def run_file(path: str) -> Report:
    """Runs the scenario in ``path``."""
    try:
        scenario = load_scenario(path)
    except ScenarioError as err:
        return Report(path, "(not a valid scenario)", [str(err)])
    try:
        failures = run_scenario(scenario)
    except Exception as err:
        failures = [str(err)]
    return Report(path, scenario.name, failures)


def discover(paths: Sequence[str]) -> list[str]:
    """Every ``*.yaml`` / ``*.yml`` file named by ``paths`` or below the directories among
    them, sorted by path components (as the Rust runner sorts them)."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            for root, _, names in os.walk(path):
                files.extend(
                    os.path.join(root, name)
                    for name in names
                    if name.endswith((".yaml", ".yml"))
                )
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return sorted(files, key=lambda file: Path(file).parts)


def run_paths(paths: Sequence[str], print_line=print) -> tuple[int, int]:
    """Runs every scenario below ``paths``, printing each report; returns (passed, failed)."""
    passed = failed = 0
    for file in discover(paths):
        report = run_file(file)
        if report.passed:
            passed += 1
        else:
            failed += 1
        print_line(report.render())
    return passed, failed


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``python -m retry_with_backoff_component.conformance PATH...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or any(arg in ("-h", "--help") for arg in args):
        stream = sys.stdout if args else sys.stderr
        print(
            "usage: python -m retry_with_backoff_component.conformance PATH...\n\n"
            "Runs conformance scenario files, or every *.yaml below directories.\n\n"
            "Exit codes:\n"
            "  0  every scenario passed\n"
            "  1  a scenario failed\n"
            "  2  usage error or a path that does not exist",
            file=stream,
        )
        return 0 if args else 2
    try:
        passed, failed = run_paths(args)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
