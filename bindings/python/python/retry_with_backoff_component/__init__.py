"""Retry-with-backoff for MCP gateways, as a sandboxed WebAssembly component.

The component (the decision engine: classification, backoff, jitter, breakers, per-request
state) runs in wasmtime inside this extension module; nothing is fetched or compiled at run
time beyond the first start on a machine.

- ``RetryWithBackoffPlugin``: the ContextForge plugin (``cpex``), a drop-in for
  ``cpex-retry-with-backoff``: in a ``plugins:`` file, change ``kind:`` to
  ``retry_with_backoff_component.RetryWithBackoffPlugin``. Needs ``cpex`` installed.
- ``Plugin``: the plugin for any other Python host: configure from a dict or JSON, call with
  plain dicts, get a ``ToolDecision``.
- ``Component``: a compiled component; ``Component()`` is the bundled one,
  ``Component.load(path)`` another build.
- ``VirtualClock``: virtual time for tests and simulations.
- ``python -m retry_with_backoff_component.conformance PATH...``: the conformance runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._native import (
    DEFAULT_START_WALL_MS,
    Component,
    ConfigError,
    Plugin,
    StateError,
    ToolDecision,
    VirtualClock,
    cache_dir,
    component_bytes,
)

if TYPE_CHECKING:
    from .contextforge import RetryWithBackoffPlugin

__all__ = [
    "DEFAULT_START_WALL_MS",
    "Component",
    "ConfigError",
    "Plugin",
    "RetryWithBackoffPlugin",
    "StateError",
    "ToolDecision",
    "VirtualClock",
    "cache_dir",
    "component_bytes",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The ContextForge class imports cpex; load it only when asked for, so that hosts without
    # cpex can use the rest of the package.
    if name == "RetryWithBackoffPlugin":
        from .contextforge import RetryWithBackoffPlugin

        return RetryWithBackoffPlugin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
