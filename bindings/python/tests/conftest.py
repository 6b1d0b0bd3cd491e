"""Shared fixtures: the repository's paths and MCP results."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CONFORMANCE = ROOT / "tests" / "conformance"


def unavailable(status: int = 503) -> dict:
    """A tool result that failed with an HTTP status."""
    return {
        "content": [{"type": "text", "text": "upstream unavailable"}],
        "isError": True,
        "structuredContent": {"status_code": status},
    }


OK = {"content": [{"type": "text", "text": "fine"}], "isError": False}


@pytest.fixture
def conformance_dir() -> Path:
    return CONFORMANCE
