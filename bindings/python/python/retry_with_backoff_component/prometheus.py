"""Prometheus metrics over the plugin's retry statistics (``prometheus_client``).

``RetryStatsCollector(plugin)`` reads ``plugin.stats()`` at every scrape, so the counts come
from the component itself and nothing is double-booked. Register it once::

    from prometheus_client import REGISTRY
    from retry_with_backoff_component.prometheus import RetryStatsCollector

    REGISTRY.register(RetryStatsCollector(plugin))

``plugin`` is a ``Plugin`` or the ContextForge ``RetryWithBackoffPlugin`` (anything with a
``stats()`` method). The families, all counters (exposed with Prometheus' ``_total`` suffix):

- ``retry_with_backoff_calls_total{tool}``: tool results seen;
- ``retry_with_backoff_decisions_total{tool, decision}``: results by decision (``success``,
  ``retry``, ``give_up``, ``not_retryable``, ``circuit_open``, ``unsafe_to_retry``,
  ``budget_exhausted``, ``retry_after_too_long``, ``deadline_exceeded``);
- ``retry_with_backoff_retries_granted_total{tool}``;
- ``retry_with_backoff_recovered_requests_total{tool}``: requests that succeeded after a retry;
- ``retry_with_backoff_retry_delay_seconds_total{tool}``: delay asked over all retries;
- ``retry_with_backoff_breaker_opens_total{tool}``.

A new config starts the component's counts afresh; Prometheus reads that as a counter reset.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector


class HasStats(Protocol):
    """Anything that reports the component's statistics."""

    def stats(self) -> dict[str, Any]: ...


class RetryStatsCollector(Collector):
    """A ``prometheus_client`` collector over a plugin's ``stats()``."""

    def __init__(self, plugin: HasStats, prefix: str = "retry_with_backoff") -> None:
        self._plugin = plugin
        self._prefix = prefix

    def collect(self) -> Iterator[CounterMetricFamily]:
        prefix = self._prefix
        calls = CounterMetricFamily(f"{prefix}_calls", "Tool results seen.", labels=["tool"])
        decisions = CounterMetricFamily(
            f"{prefix}_decisions", "Tool results by decision.", labels=["tool", "decision"]
        )
        granted = CounterMetricFamily(
            f"{prefix}_retries_granted", "Retries granted.", labels=["tool"]
        )
        recovered = CounterMetricFamily(
            f"{prefix}_recovered_requests",
            "Requests that succeeded after at least one retry.",
            labels=["tool"],
        )
        delay = CounterMetricFamily(
            f"{prefix}_retry_delay_seconds",
            "Delay asked over all retries granted.",
            labels=["tool"],
        )
        opens = CounterMetricFamily(
            f"{prefix}_breaker_opens", "Times the tool's circuit breaker opened.", labels=["tool"]
        )
        for tool, counts in sorted(self._plugin.stats().items()):
            calls.add_metric([tool], counts["calls"])
            decisions.add_metric([tool, "success"], counts["successes"])
            for decision, count in sorted(counts["failures"].items()):
                decisions.add_metric([tool, decision], count)
            granted.add_metric([tool], counts["retries_granted"])
            recovered.add_metric([tool], counts["recovered"])
            delay.add_metric([tool], counts["total_delay_ms"] / 1000)
            opens.add_metric([tool], counts["breaker_opens"])
        yield from (calls, decisions, granted, recovered, delay, opens)
