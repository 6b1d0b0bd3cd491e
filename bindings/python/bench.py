"""Per-call cost of the ContextForge hook from Python, measured side by side in one process.

Three ways to answer ``tool_post_invoke``, timed in turn run after run (so drift in the
machine's speed touches all of them alike), each run on fresh request ids:

(a) ``cpex-retry-with-backoff`` 0.3.11, the published plugin this package replaces
    (``await plugin.tool_post_invoke(payload, context)``);
(b) this package's ``RetryWithBackoffPlugin``, the same call;
(c) the same component called through wasmtime-py's component API (``wasmtime_py_raw``),
    with no cpex objects at all: what a Python gateway would pay without this package.

It reports the median ns per call of each, the ratios to (a), and what it costs to get from
nothing to a first answer. Run with ``just bench-python`` (which installs what it needs), or
``python bindings/python/bench.py [--calls N] [--runs N] [--json]``. No test asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cpex.framework import GlobalContext, PluginConfig, PluginContext, ToolPostInvokePayload

sys.path.insert(0, str(Path(__file__).resolve().parent))

OK = {"content": [{"type": "text", "text": "fine"}], "isError": False}
UNAVAILABLE = {
    "content": [{"type": "text", "text": "upstream unavailable"}],
    "isError": True,
    "structuredContent": {"status_code": 503},
}
CONFIG = {"max_retries": 2, "backoff_base_ms": 200, "max_backoff_ms": 5000}
PUBLISHED = "cpex_retry_with_backoff.retry_with_backoff.RetryWithBackoffPlugin"
OURS = "retry_with_backoff_component.RetryWithBackoffPlugin"


def plugin_config(kind: str) -> PluginConfig:
    return PluginConfig(name="RetryWithBackoff", kind=kind, hooks=["tool_post_invoke"], config=CONFIG)


def make_published():
    from cpex_retry_with_backoff.retry_with_backoff import RetryWithBackoffPlugin

    return RetryWithBackoffPlugin(plugin_config(PUBLISHED))


def make_ours():
    from retry_with_backoff_component import RetryWithBackoffPlugin

    return RetryWithBackoffPlugin(plugin_config(OURS))


def contexts(prefix: str, count: int) -> list[PluginContext]:
    """``count`` contexts with request ids never used before (built outside the timing)."""
    return [
        PluginContext(global_context=GlobalContext(request_id=f"{prefix}-{index}"))
        for index in range(count)
    ]


async def time_hook(plugin, payload, scopes: list[PluginContext]) -> float:
    hook = plugin.tool_post_invoke
    start = time.perf_counter_ns()
    for scope in scopes:
        await hook(payload, scope)
    return (time.perf_counter_ns() - start) / len(scopes)


def frozen(scopes: list[PluginContext]) -> list[PluginContext]:
    """Moves the run's fresh contexts out of the collector's young generations, so that a run
    measures the hook rather than the collector scanning the benchmark's own fixtures (the
    same for every plugin)."""
    gc.collect()
    gc.freeze()
    return scopes


def time_raw(raw, result: dict, prefix: str, count: int) -> float:
    ids = [f"{prefix}-{index}" for index in range(count)]
    call = raw.tool_post_invoke
    start = time.perf_counter_ns()
    for request_id in ids:
        call("api", result, request_id)
    return (time.perf_counter_ns() - start) / count


def per_call(calls: int, runs: int) -> list[dict]:
    import wasmtime_py_raw

    from retry_with_backoff_component import component_bytes

    published, ours = make_published(), make_ours()
    raw = wasmtime_py_raw.load(component_bytes())
    raw.configure(json.dumps(CONFIG))
    raw_calls = max(20, calls // 200)  # wasmtime-py takes ~0.5 ms a call
    rows = []
    loop = asyncio.new_event_loop()
    for label, result in (("success", OK), ("retryable failure (503)", UNAVAILABLE)):
        payload = ToolPostInvokePayload(name="api", result=result)
        samples: dict[str, list[float]] = {"published": [], "ours": [], "raw": []}
        for warmup in (True, False):
            for run in range(1 if warmup else runs):
                tag = f"{label[:3]}-{'w' if warmup else run}"
                for name, plugin in (("published", published), ("ours", ours)):
                    scopes = frozen(contexts(f"{name}-{tag}", calls))
                    ns = loop.run_until_complete(time_hook(plugin, payload, scopes))
                    gc.unfreeze()
                    if not warmup:
                        samples[name].append(ns)
                ns = time_raw(raw, result, f"raw-{tag}", raw_calls)
                if not warmup:
                    samples["raw"].append(ns)
        medians = {name: statistics.median(values) for name, values in samples.items()}
        rows.append(
            {
                "path": f"tool_post_invoke {label}",
                "published_ns": medians["published"],
                "ours_ns": medians["ours"],
                "wasmtime_py_ns": medians["raw"],
                "ours_vs_published": medians["ours"] / medians["published"],
                "wasmtime_py_vs_published": medians["raw"] / medians["published"],
            }
        )
    loop.close()
    return rows


COLD_START = """
import json, time
t0 = time.perf_counter()
from retry_with_backoff_component import Plugin
t1 = time.perf_counter()
plugin = Plugin()
t2 = time.perf_counter()
plugin.tool_post_invoke("api", {"isError": True, "structuredContent": {"status_code": 503}}, "r")
t3 = time.perf_counter()
second = Plugin()
t4 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "load_and_instantiate_ms": (t2 - t1) * 1e3,
                  "first_call_ms": (t3 - t2) * 1e3, "next_instance_ms": (t4 - t3) * 1e3}))
"""


def cold_start(runs: int) -> dict:
    """From a fresh process with a warm artifact cache: import, first plugin (artifact load +
    instantiate), first call; and a second plugin in the same process (instantiate only)."""
    subprocess.run([sys.executable, "-c", COLD_START], check=True, capture_output=True)  # warm the cache
    samples = [
        json.loads(subprocess.run([sys.executable, "-c", COLD_START], check=True, capture_output=True, text=True).stdout)
        for _ in range(runs)
    ]
    out = {key: statistics.median(sample[key] for sample in samples) for key in samples[0]}
    out["load_instantiate_first_call_ms"] = out["load_and_instantiate_ms"] + out["first_call_ms"]
    return out


def construction(runs: int) -> dict:
    """Constructing each plugin object in a warm process, and wasmtime-py's compile and
    instantiate of the same component."""
    import wasmtime_py_raw

    from retry_with_backoff_component import component_bytes

    def median_ms(make) -> float:
        values = []
        for _ in range(runs):
            start = time.perf_counter()
            make()
            values.append((time.perf_counter() - start) * 1e3)
        return statistics.median(values)

    raws = [wasmtime_py_raw.load(component_bytes()) for _ in range(3)]
    return {
        "published_construct_ms": median_ms(make_published),
        "ours_construct_ms": median_ms(make_ours),
        "wasmtime_py_compile_ms": statistics.median(raw.load_ms for raw in raws),
        "wasmtime_py_instantiate_ms": statistics.median(raw.instantiate_ms for raw in raws),
    }


def threads(calls: int, workers: int = 4) -> list[dict]:
    """Decisions per second with ``workers`` threads sharing one ``Plugin`` (each thread its own
    tool), with one instance behind a lock and with one instance per thread (``shards``). Calls
    keep the GIL (a decision takes a microsecond or two, and a gateway calls from one event
    loop), so threads take turns either way: this shows that sharing costs nothing, not a
    parallel speed-up."""
    import threading

    from retry_with_backoff_component import Plugin

    rows = []
    for shards in (1, workers):
        plugin = Plugin(CONFIG, shards=shards)
        per_thread = max(1, calls // workers)

        def work(index: int) -> None:
            tool = f"tool-{index}"
            for call in range(per_thread):
                plugin.tool_post_invoke(tool, UNAVAILABLE if call % 4 == 3 else OK, f"r-{index}-{call}")

        pool = [threading.Thread(target=work, args=(index,)) for index in range(workers)]
        start = time.perf_counter()
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        elapsed = time.perf_counter() - start
        rows.append({"threads": workers, "shards": shards, "decisions_per_sec": per_thread * workers / elapsed})
    single = Plugin(CONFIG)
    start = time.perf_counter()
    for call in range(calls):
        single.tool_post_invoke("tool", UNAVAILABLE if call % 4 == 3 else OK, f"r-{call}")
    rows.insert(0, {"threads": 1, "shards": 1, "decisions_per_sec": calls / (time.perf_counter() - start)})
    return rows


def render(report: dict) -> str:
    lines = [
        "| path | cpex-retry-with-backoff 0.3.11 ns/call | this package ns/call | wasmtime-py ns/call | this package x published | wasmtime-py x published |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in report["rows"]:
        lines.append(
            f"| {row['path']} | {row['published_ns']:,.0f} | {row['ours_ns']:,.0f} | "
            f"{row['wasmtime_py_ns']:,.0f} | {row['ours_vs_published']:.2f} | "
            f"{row['wasmtime_py_vs_published']:.1f} |".replace(",", " ")
        )
    cold = report["cold_start"]
    build = report["construction"]
    lines += [
        "",
        f"cold start (fresh process, cached artifact): import {cold['import_ms']:.1f} ms; "
        f"artifact load + instantiate {cold['load_and_instantiate_ms']:.2f} ms; first call "
        f"{cold['first_call_ms'] * 1e3:.0f} us; total {cold['load_instantiate_first_call_ms']:.2f} ms; "
        f"another plugin in the same process {cold['next_instance_ms']:.2f} ms",
        f"construct a plugin object: published {build['published_construct_ms']:.3f} ms, "
        f"this package {build['ours_construct_ms']:.3f} ms; wasmtime-py compile "
        f"{build['wasmtime_py_compile_ms']:.0f} ms, instantiate {build['wasmtime_py_instantiate_ms']:.2f} ms",
        "threads (Plugin API, 3 successes then a 503): "
        + ", ".join(
            f"{row['threads']} thread(s) on {row['shards']} instance(s) {row['decisions_per_sec']:,.0f}/s".replace(",", " ")
            for row in report["threads"]
        ),
        f"({report['calls']} calls per run, {report['runs']} runs interleaved, median; "
        f"wasmtime-py {report['raw_calls']} calls per run)",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000, help="calls per timed run")
    parser.add_argument("--runs", type=int, default=7, help="timed runs (the median is reported)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    report = {
        "rows": per_call(args.calls, args.runs),
        "cold_start": cold_start(args.runs),
        "construction": construction(args.runs),
        "threads": threads(args.calls),
        "calls": args.calls,
        "runs": args.runs,
        "raw_calls": max(20, args.calls // 200),
    }
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
