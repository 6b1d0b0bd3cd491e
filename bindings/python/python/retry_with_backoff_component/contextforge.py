"""The ContextForge plugin: a drop-in for ``cpex-retry-with-backoff``.

In a ContextForge (cpex) ``plugins:`` file, only ``kind:`` changes::

    plugins:
      - name: RetryWithBackoff
        kind: retry_with_backoff_component.RetryWithBackoffPlugin
        hooks: [tool_post_invoke, resource_post_fetch]
        config: {max_retries: 3, backoff_base_ms: 200}

It takes the same constructor and hooks as the plugin it replaces, reads the same inputs (the
tool result as a mapping, the request id from the global context, the trace id from
``extensions.request.trace_id``) and returns cpex's own result types: ``retry_delay_ms`` on
the result and, when the component explains its decision, ``metadata``. The decision itself is
made by the sandboxed component, which also accepts the specification's nested schema
(``default_policy``, ``status_code_policies``, ``circuit_breaker``, ...).
"""

from __future__ import annotations

import logging
from typing import Any

from cpex.framework import (
    Plugin,
    PluginConfig,
    PluginContext,
    ResourcePostFetchPayload,
    ResourcePostFetchResult,
    ToolPostInvokePayload,
    ToolPostInvokeResult,
)

from ._native import ContextForgeHooks
from ._native import Plugin as _ComponentPlugin

__all__ = ["RetryWithBackoffPlugin"]

log = logging.getLogger("retry_with_backoff_component")


class RetryWithBackoffPlugin(Plugin):
    """Decides, after each tool call, whether the gateway should retry and after how long.

    The plugin owns one instance of the component, with its own per-request counters and
    breakers; it is safe to call from several threads. A config the component refuses raises
    ``ConfigError`` (a ``ValueError``) here, listing every issue with its key.
    """

    def __init__(self, config: PluginConfig) -> None:
        super().__init__(config)
        self._component = _ComponentPlugin(dict(config.config or {}))
        # Each hook is one native call: it reads the payload, context and trace id, asks the
        # component, logs a give-up and builds cpex's result.
        self._hooks = ContextForgeHooks(
            self._component, ToolPostInvokeResult, ResourcePostFetchResult, log
        )

    async def tool_post_invoke(
        self,
        payload: ToolPostInvokePayload,
        context: PluginContext,
        extensions: Any = None,
    ) -> ToolPostInvokeResult:
        """Asks the component whether to retry this call (``retry_delay_ms`` > 0) and why
        (``metadata``); a request that exhausted its retries is logged as a warning."""
        return self._hooks.tool_post_invoke(payload, context, extensions)

    async def resource_post_fetch(
        self,
        payload: ResourcePostFetchPayload,
        context: PluginContext,
    ) -> ResourcePostFetchResult:
        """Echoes the retry policy in force; a fetch is never retried."""
        return self._hooks.resource_post_fetch(payload, context)

    def stats(self) -> dict[str, Any]:
        """The retry statistics per tool (see ``Plugin.stats``); what
        ``retry_with_backoff_component.prometheus.RetryStatsCollector`` exports."""
        return self._component.stats()
