"""YAML as the Rust harness reads it: YAML 1.2's core schema, so that every host of the
conformance scenarios sees the same values.

PyYAML implements YAML 1.1, where ``yes``, ``no``, ``on`` and ``off`` are booleans, ``0777`` is
octal and ``1_000`` is an integer. The Rust runner (``serde_yaml_ng``) reads those as strings, so
this loader resolves plain scalars with its rules: integers are decimal without leading zeros, or
``0x``/``0o``/``0b`` with an optional sign; floats need a point or an exponent (``007.5`` and
``1.`` are floats, ``03`` is a string); no merge keys. Mapping keys become JSON object keys
(``429:`` becomes ``"429"``), as a gateway would hand them to the plugin.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

__all__ = ["CoreLoader", "load_with_nodes", "to_json"]


class CoreLoader(yaml.SafeLoader):
    """A safe loader with the Rust runner's resolution of plain scalars, refusing duplicate
    mapping keys as it does."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (list, dict)):
                    continue  # refused as unhashable by the base class
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)


CoreLoader.yaml_implicit_resolvers = {}
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^[-+]?(?:0|[1-9][0-9]*|0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+)$"),
    list("-+0123456789"),
)
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*|[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+)"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


def _construct_int(loader: CoreLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits)


def _construct_bool(loader: CoreLoader, node: yaml.ScalarNode) -> bool:
    return loader.construct_scalar(node).lower() == "true"


CoreLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
CoreLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


def load_with_nodes(text: str) -> tuple[Any, yaml.Node | None]:
    """Parses one YAML document; returns its value and its node tree (for line numbers).

    Raises ``yaml.YAMLError`` for invalid YAML (its message gives the line)."""
    loader = CoreLoader(text)
    try:
        node = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return value, node


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, (list, dict)):
        raise ValueError("a mapping key must be a scalar")
    return str(key)


def to_json(value: Any) -> Any:
    """A YAML value as JSON: keys become strings, NaN and infinities become ``None``."""
    if isinstance(value, dict):
        return {_key(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
