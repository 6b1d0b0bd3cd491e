"""The lower-level API for non-ContextForge hosts: Plugin, Component, VirtualClock."""

from __future__ import annotations

import json
import threading

import pytest
from conftest import OK, unavailable

from retry_with_backoff_component import (
    Component,
    ConfigError,
    Plugin,
    StateError,
    ToolDecision,
    VirtualClock,
    component_bytes,
)


def test_plugin_flat_sequence_retries_then_gives_up():
    plugin = Plugin({"max_retries": 2, "jitter": False})
    delays = [plugin.tool_post_invoke("t", unavailable(), "r").retry_delay_ms for _ in range(4)]
    assert delays == [200, 400, 0, 200]


def test_decision_fields_and_trace_metadata():
    plugin = Plugin({"jitter": False})
    decision = plugin.tool_post_invoke("t", unavailable(), "r", trace_id="trace-1")
    assert isinstance(decision, ToolDecision)
    assert decision.retry is True
    assert decision.retry_delay_ms == 200
    assert decision.metadata == {"retry_with_backoff": {"retry_count": 1, "retry_delay_ms": 200}}
    assert json.loads(decision.metadata_json) == decision.metadata
    assert decision.warning is None
    assert "retry=True" in repr(decision)


def test_untraced_flat_call_has_empty_metadata():
    decision = Plugin().tool_post_invoke("t", unavailable(), "r")
    assert decision.metadata == {}


def test_give_up_returns_warning_line():
    plugin = Plugin({"max_retries": 0})
    decision = plugin.tool_post_invoke("search", unavailable(), "req-9")
    assert decision.retry is False and decision.retry_delay_ms == 0
    assert decision.warning == "tool=search request_id=req-9 exhausted after 1 failure(s)"


def test_success_and_non_retryable_do_not_retry():
    plugin = Plugin()
    assert plugin.tool_post_invoke("t", OK, "r").retry is False
    assert plugin.tool_post_invoke("t", unavailable(404), "r").retry is False


def test_configure_accepts_json_text_and_dict():
    plugin = Plugin()
    plugin.configure('{"max_retries": 1, "jitter": false}')
    assert plugin.describe()["default"]["max_retries"] == 1
    plugin.configure({"max_retries": 3})
    assert plugin.describe()["default"]["max_retries"] == 3


def test_config_error_lists_every_issue_with_its_key():
    with pytest.raises(ConfigError) as caught:
        Plugin({"max_retries": 11, "maxRetries": 1, "jitter": "yes"})
    err = caught.value
    keys = [key for key, _ in err.issues]
    assert "max_retries" in keys and "maxRetries" in keys and "jitter" in keys
    assert "did you mean max_retries?" in str(err)
    assert "[max_retries] max_retries cannot exceed 10, but was 11" in str(err)
    assert isinstance(err, ValueError)


def test_refused_config_keeps_the_previous_one():
    plugin = Plugin({"max_retries": 1, "jitter": False})
    with pytest.raises(ConfigError):
        plugin.configure({"max_retries": 99})
    assert plugin.describe()["default"]["max_retries"] == 1


def test_malformed_config_text_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        Plugin("[1, 2]")
    assert caught.value.issues[0][0] == ""


def test_nested_config_with_integer_keys():
    plugin = Plugin(
        {
            "default_policy": {"max_retries": 2, "jitter": False, "backoff_base_ms": 100},
            "status_code_policies": {429: {"max_retries": 5, "backoff_base_ms": 1000}},
        }
    )
    decision = plugin.tool_post_invoke("t", unavailable(429), "r")
    assert decision.retry_delay_ms == 1000
    assert decision.metadata["retry_with_backoff"]["decision"] == "retry"


def test_virtual_clock_and_seed_make_runs_reproducible():
    def run(seed: int) -> list[int]:
        clock = VirtualClock()
        plugin = Plugin({"max_retries": 10}, clock=clock, seed=seed)
        delays = []
        for _ in range(6):
            delays.append(plugin.tool_post_invoke("t", unavailable(), "r").retry_delay_ms)
            clock.advance_ms(10)
        return delays

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_virtual_clock_expires_idle_requests():
    clock = VirtualClock()
    plugin = Plugin({"max_retries": 3, "jitter": False, "request_ttl_ms": 1000}, clock=clock)
    assert plugin.tool_post_invoke("t", unavailable(), "r").retry_delay_ms == 200
    clock.set_ms(5000)
    assert clock.now_ms == 5000
    assert plugin.tool_post_invoke("t", unavailable(), "r").retry_delay_ms == 200


def test_nested_wall_clock_reads_the_virtual_clock():
    clock = VirtualClock(0)
    plugin = Plugin({"default_policy": {"jitter": False}}, clock=clock)
    decision = plugin.tool_post_invoke("t", unavailable(), "r")
    assert decision.metadata["retry_with_backoff"]["next_retry_at"] == "1970-01-01T00:00:00.200Z"


def test_each_plugin_has_its_own_state():
    first = Plugin({"jitter": False})
    second = Plugin({"jitter": False})
    assert first.tool_post_invoke("t", unavailable(), "r").retry_delay_ms == 200
    assert first.tool_post_invoke("t", unavailable(), "r").retry_delay_ms == 400
    assert second.tool_post_invoke("t", unavailable(), "r").retry_delay_ms == 200


def test_resource_post_fetch_echoes_policy():
    metadata = Plugin({"max_retries": 4}).resource_post_fetch("file:///x", {"uri": "file:///x"})
    assert metadata["retry_policy"]["max_retries"] == 4


def test_hostile_results_are_classified_without_error():
    plugin = Plugin()
    deep: list = []
    cursor = deep
    for _ in range(10_000):
        cursor.append([])
        cursor = cursor[0]
    cyclic: list = []
    cyclic.append(cyclic)
    for result in [None, 7, "x", [1], deep, cyclic, {"isError": "true"}, {1: 2}, {"content": object()}]:
        decision = plugin.tool_post_invoke("t", result, "r")
        assert decision.retry is False


def test_pydantic_like_results_are_dumped_by_alias():
    class Model:
        def model_dump(self, mode: str, by_alias: bool) -> dict:
            assert mode == "json" and by_alias
            return unavailable()

    assert Plugin().tool_post_invoke("t", Model(), "r").retry is True


def test_dict_subclass_with_overlay_is_read_through_its_mapping_methods():
    class Overlay(dict):
        """Keeps its data outside the C-level dict storage, like a copy-on-write view."""

        def __init__(self, data: dict):
            super().__init__()
            self._data = data

        def __getitem__(self, key):
            return self._data[key]

        def get(self, key, default=None):
            return self._data.get(key, default)

        def items(self):
            return self._data.items()

    assert Plugin().tool_post_invoke("t", Overlay(unavailable()), "r").retry is True
    traced = Plugin({"default_policy": {"jitter": False}}).tool_post_invoke(
        "t", Overlay({"isError": True, "structuredContent": Overlay({"status_code": 429})}), "r"
    )
    assert traced.metadata["retry_with_backoff"]["reason"] == "status:429"


def test_threads_share_one_plugin_safely():
    plugin = Plugin({"max_retries": 2, "jitter": False}, shards=2)
    errors: list[str] = []

    def worker(index: int) -> None:
        tool = f"tool-{index}"
        for _ in range(100):
            delays = [plugin.tool_post_invoke(tool, unavailable(), "r").retry_delay_ms for _ in range(3)]
            if delays != [200, 400, 0]:
                errors.append(f"{tool}: {delays}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert plugin.shards == 2


def test_component_loads_bundled_and_from_file(tmp_path):
    component = Component()
    assert any(name.startswith("wasi:clocks") for name in component.imports)
    wasm = tmp_path / "retry_component.wasm"
    wasm.write_bytes(component_bytes())
    loaded = Component.load(wasm)
    plugin = loaded.plugin({"jitter": False}, clock=VirtualClock(), seed=1)
    assert plugin.tool_post_invoke("t", unavailable(), "r").retry_delay_ms == 200


def test_component_load_of_garbage_is_an_error(tmp_path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"not wasm")
    with pytest.raises(RuntimeError):
        Component.load(bad)


def test_self_containing_structures_end_quickly():
    loop: list = []
    loop.append(loop)
    loop.append(loop)
    result = {"isError": True, "structuredContent": {"status_code": 503, "loop": loop}}
    assert Plugin().tool_post_invoke("t", result, "r").retry is True


def test_defaultdict_results_are_read_without_being_changed():
    from collections import defaultdict

    result = defaultdict(dict, {"isError": True})
    assert Plugin().tool_post_invoke("t", result, "r").retry is True
    assert set(result) == {"isError"}


def test_pydantic_items_inside_a_dict_result_are_read_as_objects():
    class Text:
        def model_dump(self, mode: str, by_alias: bool) -> dict:
            return {"type": "text", "text": "connection reset by peer"}

    plugin = Plugin({"default_policy": {"jitter": False}, "retry_conditions": {"retry_on_connection_error": False}})
    decision = plugin.tool_post_invoke("t", {"isError": True, "content": [Text()]}, "r")
    assert decision.metadata["retry_with_backoff"]["reason"] == "connection"
    assert decision.retry is False


def test_stats_count_decisions_per_tool_across_shards():
    plugin = Plugin({"max_retries": 1, "jitter": False}, shards=2)
    for tool in ("a", "b", "c"):
        plugin.tool_post_invoke(tool, {"isError": True}, "r1")
        plugin.tool_post_invoke(tool, {"isError": True}, "r1")
        plugin.tool_post_invoke(tool, OK, "r2")
    stats = plugin.stats()
    assert set(stats) == {"a", "b", "c"}
    for tool in ("a", "b", "c"):
        assert stats[tool]["calls"] == 3
        assert stats[tool]["successes"] == 1
        assert stats[tool]["retries_granted"] == 1
        assert stats[tool]["failures"]["give_up"] == 1
        assert stats[tool]["total_delay_ms"] == 200


def test_remaining_time_and_annotations_reach_the_component():
    plugin = Plugin({"default_policy": {"max_retries": 3, "jitter": False}})
    unsafe = plugin.tool_post_invoke(
        "send_email", {"isError": True}, "r1", tool_annotations={"idempotentHint": False}
    )
    assert unsafe.metadata["retry_with_backoff"]["decision"] == "unsafe_to_retry"
    late = plugin.tool_post_invoke("report", {"isError": True}, "r2", remaining_ms=100)
    assert late.metadata["retry_with_backoff"]["decision"] == "deadline_exceeded"


def test_state_moves_to_a_plugin_with_another_number_of_shards():
    config = {"max_retries": 5, "jitter": False}
    before = Plugin(config, shards=3)
    tools = [f"tool-{index}" for index in range(6)]
    for tool in tools:
        before.tool_post_invoke(tool, {"isError": True}, "r")
        before.tool_post_invoke(tool, {"isError": True}, "r")
    snapshot = before.export_state()
    assert isinstance(snapshot, str)
    for shards, state in ((1, snapshot), (2, json.loads(snapshot))):
        after = Plugin(config, shards=shards)
        after.import_state(state)
        for tool in tools:
            assert after.tool_post_invoke(tool, {"isError": True}, "r").retry_delay_ms == 800
            assert after.stats()[tool]["calls"] == 3
        with pytest.raises(StateError):
            after.import_state("not a snapshot")
        with pytest.raises(StateError):
            after.import_state({"version": 99})
        assert after.tool_post_invoke(tools[0], {"isError": True}, "r").retry_delay_ms == 1600
