"""The retry-with-backoff component driven through wasmtime-py's dynamic component API.

A benchmark baseline: no generated bindings and no native extension, only
``wasmtime.component`` (wasmtime-py 50). Every call goes through wasmtime-py's generic value
conversion, which looks up the function's type and converts each value field by field in
Python.

How wasmtime-py 50 represents WIT values (and what this module relies on):

* record: a ``wasmtime.component.Record``, fields read and written as attributes that are
  named exactly as in the WIT, hyphens included (``getattr(r, "request-id")``);
* option<T>: ``None`` or the bare value;
* variant: ``Variant(tag, payload)`` only when two cases share a Python type (``content-block``:
  several record cases). When every case has a different Python type the tag is dropped and
  the bare payload comes back: ``config-error`` arrives as a ``str`` (``malformed``) or a
  ``list`` of records (``invalid``);
* result<_, E>: ``None`` for ``ok``, the (bare) error payload for ``err``;
* u64: ``int``; string: ``str``.

WASI preview 2 comes from ``Linker.add_wasip2()`` and a ``WasiConfig`` on the ``Store``
(``Store.set_wasi``). Without the latter, instantiation still succeeds but the first WASI call
aborts the process (a Rust panic in the C API), so it is always set here.
"""

from __future__ import annotations

import json
import time
from typing import Any

import wasmtime
from wasmtime import component as wc

__all__ = ["ConfigError", "RawPlugin", "load"]

INTERFACE = "mcp-plugins:retry-with-backoff/plugin@0.2.0"

_ENGINE = wasmtime.Engine()


def _json(value: Any) -> str:
    """Compact JSON text, as the component receives JSON leaves."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _record(fields: dict[str, Any]) -> wc.Record:
    """A WIT record from its fields, keyed by their WIT (kebab-case) names."""
    rec = wc.Record()
    for name, value in fields.items():
        setattr(rec, name, value)
    return rec


def _content_block(block: Any) -> wc.Variant:
    """One MCP content block as a ``content-block``: ``text`` for a well-formed text block,
    ``other`` (the block as JSON text) for anything else."""
    if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
        annotations = block.get("annotations")
        return wc.Variant("text", _record({
            "text": block["text"],
            "annotations": None if annotations is None else _json(annotations),
        }))
    return wc.Variant("other", _json(block))


def _call_tool_result(result: dict) -> wc.Record:
    """An MCP ``CallToolResult`` dict as the WIT ``call-tool-result``."""
    is_error = result.get("isError")
    structured = result.get("structuredContent")
    return _record({
        "content": [_content_block(b) for b in result.get("content") or []],
        "is-error": is_error if isinstance(is_error, bool) else None,  # only a real bool
        "structured-content": None if structured is None else _json(structured),
        "meta": _json(result["_meta"]) if "_meta" in result else None,
    })


class ConfigError(ValueError):
    """``configure`` returned ``err(config-error)``.

    ``kind`` is ``"malformed"`` or ``"invalid"``; ``issues`` lists ``(key, message)`` pairs
    (empty for ``malformed``). wasmtime-py drops the variant's tag, so the kind is inferred
    from the payload's Python type.
    """

    def __init__(self, payload: Any) -> None:
        if isinstance(payload, str):
            self.kind, self.issues = "malformed", []
            text = payload
        else:
            self.kind = "invalid"
            self.issues = [(i.key, i.message) for i in payload]
            text = "; ".join(message for _, message in self.issues)
        super().__init__(f"{self.kind} config: {text}")


class RawPlugin:
    """One instance of the component in its own store.

    ``load_ms`` is the compile (or deserialize) time, ``instantiate_ms`` the time to set up the
    WASI linker and store and instantiate. Not thread-safe: one caller at a time.
    """

    load_ms: float
    instantiate_ms: float

    def __init__(self, component: wc.Component, load_ms: float) -> None:
        start = time.perf_counter()
        linker = wc.Linker(_ENGINE)
        linker.add_wasip2()
        self._store = wasmtime.Store(_ENGINE)
        self._store.set_wasi(wasmtime.WasiConfig())  # no args, env, files or stdio
        instance = linker.instantiate(self._store, component)
        self.instantiate_ms = (time.perf_counter() - start) * 1e3
        self.load_ms = load_ms

        iface = instance.get_export_index(self._store, INTERFACE)
        if iface is None:
            raise LookupError(f"component does not export {INTERFACE}")

        def func(name: str) -> wc.Func:
            index = instance.get_export_index(self._store, name, iface)
            found = instance.get_func(self._store, index) if index is not None else None
            if found is None:
                raise LookupError(f"{INTERFACE} has no function {name}")
            return found

        self._configure = func("configure")
        self._tool_post_invoke = func("tool-post-invoke")
        self._describe = func("describe")

    def configure(self, config_json: str) -> None:
        """Makes ``config_json`` (a JSON object) the configuration in force.

        Raises ``ConfigError`` when the component refuses it (the previous one stays).
        """
        err = self._configure(self._store, config_json)
        if err is not None:
            raise ConfigError(err)

    def describe(self) -> str:
        """The configuration in force, as JSON text."""
        return self._describe(self._store)

    def tool_post_invoke(self, tool: str, result: dict, request_id: str) -> tuple[bool, int, str]:
        """Asks whether the call of ``tool`` that returned ``result`` (an MCP
        ``CallToolResult`` dict) should be retried.

        Returns ``(retry, retry_delay_ms, metadata_json)``.
        """
        payload = _record({"name": tool, "result": _call_tool_result(result)})
        context = _record({
            "request-id": request_id,
            "trace-id": None,
            "server-id": None,
            "tenant-id": None,
            "user": None,
        })
        out = self._tool_post_invoke(self._store, payload, context)
        return out.retry, getattr(out, "retry-delay-ms"), out.metadata


def load(wasm_bytes: bytes) -> RawPlugin:
    """Compiles ``wasm_bytes`` (a component, or an artifact from ``Component.serialize()`` made
    by this same wasmtime build, which is deserialized instead) and instantiates it with WASI
    preview 2."""
    start = time.perf_counter()
    if bytes(wasm_bytes[:4]) == b"\x7fELF":  # a precompiled artifact, not a wasm binary
        component = wc.Component.deserialize(_ENGINE, wasm_bytes)
    else:
        component = wc.Component(_ENGINE, wasm_bytes)
    return RawPlugin(component, (time.perf_counter() - start) * 1e3)
