"""The Prometheus collector scrapes the component's statistics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from retry_with_backoff_component import Plugin
from retry_with_backoff_component.prometheus import RetryStatsCollector


def test_collector_exposes_counters_per_tool_and_decision():
    plugin = Plugin({"max_retries": 1, "jitter": False})
    plugin.tool_post_invoke("search", {"isError": True}, "r1")
    plugin.tool_post_invoke("search", {"isError": True}, "r1")
    plugin.tool_post_invoke("search", {"content": []}, "r2")
    registry = CollectorRegistry()
    registry.register(RetryStatsCollector(plugin))
    text = generate_latest(registry).decode()
    assert 'retry_with_backoff_calls_total{tool="search"} 3.0' in text
    assert 'retry_with_backoff_decisions_total{decision="give_up",tool="search"} 1.0' in text
    assert 'retry_with_backoff_decisions_total{decision="success",tool="search"} 1.0' in text
    assert 'retry_with_backoff_retries_granted_total{tool="search"} 1.0' in text
    assert 'retry_with_backoff_retry_delay_seconds_total{tool="search"} 0.2' in text
    assert "# TYPE retry_with_backoff_breaker_opens_total counter" in text
    assert registry.get_sample_value(
        "retry_with_backoff_decisions_total", {"tool": "search", "decision": "retry"}
    ) == 1.0
