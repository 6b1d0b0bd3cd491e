"""Type stubs of the extension module (wasmtime and the component, compiled in)."""

from os import PathLike
from pathlib import Path
from typing import Any, Mapping

DEFAULT_START_WALL_MS: int
"""The default wall clock of a ``VirtualClock`` at 0: 2026-01-01T00:00:00Z, in Unix ms."""

class StateError(ValueError):
    """The plugin refused a state snapshot; the state in force is unchanged."""

class ConfigError(ValueError):
    """The plugin refused a configuration; the previous one stays in force."""

    issues: list[tuple[str, str]]
    """Every broken rule as ``(key, message)``; the message names the key, the rule and the
    bad value. The key is ``""`` for text that is not a JSON object."""

class VirtualClock:
    """A clock moved by hand: monotonic ``now_ms``, wall ``start_wall_ms + now_ms``."""

    def __init__(self, start_wall_ms: int = ...) -> None: ...
    def set_ms(self, at_ms: int) -> None:
        """Sets the virtual time, in ms since the start."""
    def advance_ms(self, ms: int) -> None:
        """Moves the virtual time forward by ``ms``."""
    @property
    def now_ms(self) -> int:
        """The virtual time, in ms since the start."""

class ToolDecision:
    """The answer to ``tool_post_invoke``."""

    @property
    def retry(self) -> bool:
        """Whether the gateway should call the tool again, with the same request id."""
    @property
    def retry_delay_ms(self) -> int:
        """How long to wait first: >= 1 when retrying, 0 otherwise."""
    @property
    def metadata(self) -> dict[str, Any]:
        """The metadata explaining the decision (a new dict on each access)."""
    @property
    def metadata_json(self) -> str:
        """The metadata as JSON text, as the component returned it."""
    @property
    def warning(self) -> str | None:
        """A line to log at warning level (a request that exhausted its retries)."""

class Plugin:
    """One plugin with its own component instance(s) and state; safe to share among threads
    (each instance has a lock; calls hold the GIL)."""

    def __init__(
        self,
        config: Mapping[str, Any] | str | None = None,
        *,
        clock: VirtualClock | None = None,
        seed: int | None = None,
        shards: int = 1,
    ) -> None:
        """A plugin of the bundled component, configured with ``config`` (a dict or JSON text;
        default: the manifest's defaults). ``clock`` and ``seed`` virtualise time and
        randomness (default: real clocks, secure random). ``shards`` instances share the tools
        between them (each tool always on the same one); calls hold the GIL, so threads take
        turns. Raises ``ConfigError`` for a refused config."""
    def configure(self, config: Mapping[str, Any] | str | None) -> None:
        """Puts ``config`` in force (dropping all state) or raises ``ConfigError``."""
    def tool_post_invoke(
        self,
        tool: str,
        result: Any,
        request_id: str,
        *,
        trace_id: str | None = None,
        server_id: str | None = None,
        tenant_id: str | None = None,
        user: str | None = None,
        remaining_ms: int | None = None,
        tool_annotations: Any = None,
    ) -> ToolDecision:
        """Decides whether to retry a tool call; ``result`` is the MCP ``CallToolResult`` (a
        dict or a pydantic model). ``remaining_ms`` is the time the caller has left for the
        whole call; ``tool_annotations`` the tool's MCP annotations (``readOnlyHint``,
        ``idempotentHint``, ...), a dict or a pydantic model."""
    def resource_post_fetch(
        self,
        uri: str,
        content: Any = None,
        request_id: str = "",
        *,
        trace_id: str | None = None,
        server_id: str | None = None,
        tenant_id: str | None = None,
        user: str | None = None,
    ) -> dict[str, Any]:
        """The metadata for a resource fetch (the retry policy in force); never a retry."""
    def stats(self) -> dict[str, Any]:
        """The retry statistics per tool (``calls``, ``successes``, ``failures`` by decision,
        ``retries_granted``, ``recovered``, ``total_delay_ms``, ``breaker_opens``)."""
    def describe(self) -> dict[str, Any]:
        """The configuration in force: schema, effective keys, policy per tool and class."""
    def export_state(self) -> str:
        """Everything the plugin remembers, as a versioned JSON snapshot (times relative to now),
        merged over its instances."""
    def import_state(self, state: str | dict[str, Any]) -> None:
        """Takes over an ``export_state`` snapshot on top of the state in force (configure
        first); raises ``StateError`` for anything else, changing nothing."""
    @property
    def shards(self) -> int:
        """How many component instances serve this plugin."""

class Component:
    """A compiled component; ``Component()`` is the one bundled in this package."""

    def __init__(self) -> None: ...
    @staticmethod
    def load(path: str | PathLike[str]) -> Component:
        """Another build of the component, from a ``.wasm`` file."""
    def plugin(
        self,
        config: Mapping[str, Any] | str | None = None,
        *,
        clock: VirtualClock | None = None,
        seed: int | None = None,
        shards: int = 1,
    ) -> Plugin:
        """A new plugin instance of this component (see ``Plugin``)."""
    @property
    def imports(self) -> list[str]:
        """The WASI interfaces the component imports."""

def component_bytes() -> bytes:
    """The bundled component's ``.wasm`` bytes, for other runtimes."""

def cache_dir() -> Path | None:
    """Where compiled components are cached (``RETRY_WITH_BACKOFF_CACHE_DIR`` overrides), or
    ``None`` without a per-user cache directory (then every process compiles)."""

class ContextForgeHooks:
    """The ContextForge hooks of one plugin, each answered in one native call."""

    def __init__(
        self, plugin: Plugin, tool_result_type: type, resource_result_type: type, logger: Any
    ) -> None: ...
    def tool_post_invoke(self, payload: Any, context: Any, extensions: Any = None) -> Any:
        """cpex's ``tool_post_invoke``: returns a ``ToolPostInvokeResult``."""
    def resource_post_fetch(self, payload: Any, context: Any) -> Any:
        """cpex's ``resource_post_fetch``: returns a ``ResourcePostFetchResult``."""
