"""The ContextForge plugin, driven the way the gateway drives it: through cpex's PluginManager
loaded from a ``plugins:`` YAML file."""

from __future__ import annotations

import asyncio
import logging
import textwrap
import threading

import pytest
from conftest import OK, unavailable

cpex = pytest.importorskip("cpex.framework")

from cpex.framework import (  # noqa: E402
    GlobalContext,
    PluginConfig,
    PluginContext,
    PluginManager,
    ResourcePostFetchPayload,
    ResourcePostFetchResult,
    ToolPostInvokePayload,
    ToolPostInvokeResult,
)
from cpex.framework.extensions import Extensions, RequestExtension  # noqa: E402
from cpex.framework.hooks.policies import HookPayloadPolicy  # noqa: E402

from retry_with_backoff_component import ConfigError, RetryWithBackoffPlugin  # noqa: E402

KIND = "retry_with_backoff_component.RetryWithBackoffPlugin"


def plugins_file(tmp_path, config: str, kind: str = KIND) -> str:
    path = tmp_path / "plugins.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            plugins:
              - name: RetryWithBackoff
                kind: {kind}
                hooks: [tool_post_invoke, resource_post_fetch]
                mode: sequential
                priority: 50
                config:
            """
        )
        + textwrap.indent(textwrap.dedent(config), " " * 6)
    )
    return str(path)


def traced(trace_id: str = "trace-1") -> Extensions:
    return Extensions(request=RequestExtension(trace_id=trace_id))


def run(coroutine):
    return asyncio.run(coroutine)


async def with_manager(path: str, body, **options):
    PluginManager.reset()
    manager = PluginManager(path, **options)
    await manager.initialize()
    try:
        return await body(manager)
    finally:
        await manager.shutdown()
        PluginManager.reset()


async def invoke(manager, tool: str, result, request_id: str, extensions=None):
    outcome, _ = await manager.invoke_hook(
        "tool_post_invoke",
        ToolPostInvokePayload(name=tool, result=result),
        global_context=GlobalContext(request_id=request_id, server_id="srv-1"),
        extensions=extensions,
    )
    return outcome


def test_manager_loads_plugin_and_retries_with_backoff(tmp_path, caplog):
    path = plugins_file(tmp_path, "max_retries: 2\njitter: false\n")

    async def body(manager):
        plugin = manager.get_plugin("RetryWithBackoff")
        assert isinstance(plugin, RetryWithBackoffPlugin)
        return [await invoke(manager, "weather", unavailable(), "req-1", traced()) for _ in range(4)]

    with caplog.at_level(logging.WARNING, logger="retry_with_backoff_component"):
        results = run(with_manager(path, body))
    assert [r.retry_delay_ms for r in results] == [200, 400, 0, 200]
    assert results[0].metadata == {"retry_with_backoff": {"retry_count": 1, "retry_delay_ms": 200}}
    assert results[2].metadata == {"retry_with_backoff": {"retry_count": 3, "retry_delay_ms": 0}}
    assert all(r.continue_processing for r in results)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["tool_post_invoke: tool=weather request_id=req-1 exhausted after 3 failure(s)"]


def test_manager_success_and_untraced_calls(tmp_path):
    path = plugins_file(tmp_path, "jitter: false\n")

    async def body(manager):
        failure = await invoke(manager, "weather", unavailable(), "req-2")
        success = await invoke(manager, "weather", OK, "req-2", traced())
        return failure, success

    failure, success = run(with_manager(path, body))
    assert failure.retry_delay_ms == 200 and failure.metadata == {}
    assert success.retry_delay_ms == 0
    assert success.metadata == {"retry_with_backoff": {"retry_count": 0, "retry_delay_ms": 0}}


def test_manager_resource_post_fetch_echoes_policy(tmp_path):
    path = plugins_file(tmp_path, "max_retries: 4\n")

    async def body(manager):
        outcome, _ = await manager.invoke_hook(
            "resource_post_fetch",
            ResourcePostFetchPayload(uri="file:///data.txt", content={"text": "x"}),
            global_context=GlobalContext(request_id="req-3"),
        )
        return outcome

    outcome = run(with_manager(path, body))
    assert outcome.metadata["retry_policy"]["max_retries"] == 4
    assert outcome.retry_delay_ms == 0


def test_manager_with_gateway_payload_policy(tmp_path):
    # The gateway isolates payloads: the plugin then sees a copy-on-write view of the result.
    path = plugins_file(tmp_path, "jitter: false\n")
    policies = {"tool_post_invoke": HookPayloadPolicy(writable_fields=frozenset({"result"}))}

    async def body(manager):
        return await invoke(manager, "weather", unavailable(), "req-4", traced())

    outcome = run(with_manager(path, body, hook_policies=policies))
    assert outcome.retry_delay_ms == 200


def test_manager_nested_schema_from_yaml(tmp_path):
    config = """\
    default_policy: {max_retries: 2, backoff_base_ms: 100, jitter: false}
    status_code_policies:
      429: {max_retries: 5, backoff_base_ms: 1000}
    tool_policies:
      slow_tool: {backoff_base_ms: 3000, max_backoff_ms: 9000}
    circuit_breaker: {failure_threshold: 2, recovery_timeout_ms: 60000}
    """
    path = plugins_file(tmp_path, config)

    async def body(manager):
        limited = await invoke(manager, "api", unavailable(429), "req-5", traced())
        slow = await invoke(manager, "slow_tool", unavailable(503), "req-6")
        tripped = await invoke(manager, "slow_tool", unavailable(503), "req-7")
        return limited, slow, tripped

    limited, slow, tripped = run(with_manager(path, body))
    assert limited.retry_delay_ms == 1000
    annotation = limited.metadata["retry_with_backoff"]
    assert annotation["decision"] == "retry" and annotation["policy"]["source"] == ["default", "status:429"]
    assert slow.retry_delay_ms == 3000
    assert tripped.retry_delay_ms == 0
    assert tripped.metadata["retry_with_backoff"]["decision"] == "circuit_open"


def plugin_config(config: dict) -> PluginConfig:
    return PluginConfig(name="RetryWithBackoff", kind=KIND, hooks=["tool_post_invoke"], config=config)


def test_refused_config_raises_at_construction_with_every_issue():
    with pytest.raises(ConfigError) as caught:
        RetryWithBackoffPlugin(plugin_config({"max_retries": 11, "backoff_base_ms": 0, "jiter": True}))
    keys = {key for key, _ in caught.value.issues}
    assert keys == {"max_retries", "backoff_base_ms", "jiter"}
    assert "did you mean jitter?" in str(caught.value)


def test_hooks_called_directly_return_cpex_types():
    plugin = RetryWithBackoffPlugin(plugin_config({"jitter": False}))
    context = PluginContext(global_context=GlobalContext(request_id="r"))
    payload = ToolPostInvokePayload(name="t", result=unavailable())
    result = run(plugin.tool_post_invoke(payload, context))
    assert isinstance(result, ToolPostInvokeResult)
    assert result.retry_delay_ms == 200
    assert result.model_fields_set == {"retry_delay_ms"}
    fetched = run(plugin.resource_post_fetch(ResourcePostFetchPayload(uri="u", content=None), context))
    assert isinstance(fetched, ResourcePostFetchResult)
    assert fetched.metadata["retry_policy"]["backoff_base_ms"] == 200
    # The statistics a Prometheus collector reads (retry_with_backoff_component.prometheus).
    assert plugin.stats()["t"]["retries_granted"] == 1


def test_unreadable_extensions_count_as_untraced():
    plugin = RetryWithBackoffPlugin(plugin_config({"jitter": False}))
    context = PluginContext(global_context=GlobalContext(request_id="r"))
    payload = ToolPostInvokePayload(name="t", result=unavailable())
    result = run(plugin.tool_post_invoke(payload, context, object()))
    assert result.metadata == {}


def test_plugin_objects_do_not_share_state():
    first = RetryWithBackoffPlugin(plugin_config({"jitter": False}))
    second = RetryWithBackoffPlugin(plugin_config({"jitter": False}))
    context = PluginContext(global_context=GlobalContext(request_id="r"))
    payload = ToolPostInvokePayload(name="t", result=unavailable())
    assert run(first.tool_post_invoke(payload, context)).retry_delay_ms == 200
    assert run(first.tool_post_invoke(payload, context)).retry_delay_ms == 400
    assert run(second.tool_post_invoke(payload, context)).retry_delay_ms == 200


def test_plugin_is_safe_to_use_from_threads():
    plugin = RetryWithBackoffPlugin(plugin_config({"max_retries": 2, "jitter": False}))
    failures: list[str] = []

    def worker(index: int) -> None:
        async def calls():
            for round_ in range(50):
                context = PluginContext(global_context=GlobalContext(request_id=f"r-{round_}"))
                payload = ToolPostInvokePayload(name=f"tool-{index}", result=unavailable())
                delays = [(await plugin.tool_post_invoke(payload, context)).retry_delay_ms for _ in range(3)]
                if delays != [200, 400, 0]:
                    failures.append(f"tool-{index}: {delays}")

        asyncio.run(calls())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_same_decisions_as_the_plugin_it_replaces(tmp_path):
    """Where the published plugin is installed, both give the same delays and metadata for the
    same sequence (jitter off; its known defects excluded)."""
    pytest.importorskip("cpex_retry_with_backoff")
    config = "max_retries: 3\njitter: false\ntool_overrides: {fragile: {max_retries: 1, backoff_base_ms: 50}}\n"
    sequence = [
        ("weather", unavailable(), "a"),
        ("weather", unavailable(502), "a"),
        ("weather", unavailable(404), "b"),
        ("weather", OK, "a"),
        ("fragile", unavailable(), "c"),
        ("fragile", unavailable(), "c"),
        ("fragile", unavailable(), "c"),
        ("weather", {"isError": True}, "d"),
        ("weather", {"structuredContent": {"isError": True}}, "e"),
    ]

    def outcomes(kind: str):
        async def body(manager):
            seen = []
            for tool, result, request in sequence:
                outcome = await invoke(manager, tool, result, request, traced())
                seen.append((outcome.retry_delay_ms, outcome.metadata))
            return seen

        return run(with_manager(plugins_file(tmp_path, config, kind), body))

    ours = outcomes(KIND)
    theirs = outcomes("cpex_retry_with_backoff.retry_with_backoff.RetryWithBackoffPlugin")
    assert ours == theirs


def test_manifest_kind_names_this_plugin_class():
    import importlib

    import yaml
    from conftest import ROOT

    manifest = yaml.safe_load((ROOT / "plugin-manifest.yaml").read_text())
    module, _, name = manifest["kind"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is RetryWithBackoffPlugin
    assert manifest["default_configs"]["max_retries"] == 2
