"""Schema nodes: OpenAPI v3 structural schemas compiled once into slotted objects."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["META_DEF", "MISSING", "PODSPEC_DEF", "Compiler", "Node"]

META_DEF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
PODSPEC_DEF = "io.k8s.api.core.v1.PodSpec"
_HOOKS = {META_DEF: "meta", PODSPEC_DEF: "podspec"}

MISSING: Any = object()


class Node:
    """One compiled schema node. Attributes mirror the keywords; None means 'not given'."""

    __slots__ = (
        "addl",
        "all_of",
        "any_of",
        "default",
        "defaults",
        "embedded",
        "enum",
        "excl_max",
        "excl_min",
        "format",
        "hook",
        "int_or_string",
        "items",
        "list_type",
        "map_keys",
        "max_items",
        "max_len",
        "max_props",
        "maximum",
        "min_items",
        "min_len",
        "min_props",
        "minimum",
        "multiple_of",
        "not_",
        "nullable",
        "one_of",
        "pattern",
        "pattern_src",
        "preserve",
        "props",
        "required",
        "type",
        "unique",
    )

    def __init__(self) -> None:
        for slot in self.__slots__:
            setattr(self, slot, None)
        self.default = MISSING
        self.nullable = False
        self.int_or_string = False
        self.preserve = False
        self.embedded = False
        self.unique = False
        self.defaults = ()

    def field_names(self) -> list[str]:
        return sorted(self.props or ())


class Compiler:
    """Turns schema dicts into Nodes; ``$ref`` names resolve against ``definitions``.

    Each definition compiles once (memoised), so shared and recursive definitions cost
    nothing after the first object that reaches them.
    """

    def __init__(self, definitions: dict[str, Any] | None = None) -> None:
        self._definitions = definitions or {}
        self._memo: dict[str, Node] = {}

    def ref(self, name: str) -> Node:
        node = self._memo.get(name)
        if node is None:
            if name not in self._definitions:
                raise KeyError(f"schema definition {name!r} not found")
            node = Node()
            self._memo[name] = node  # before filling: definitions may be recursive
            self._fill(node, self._definitions[name])
            node.hook = _HOOKS.get(name)
        return node

    def compile(self, schema: dict[str, Any]) -> Node:
        ref = schema.get("$ref")
        if ref is not None:
            return self.ref(ref.rsplit("/", 1)[-1])
        node = Node()
        self._fill(node, schema)
        return node

    def _fill(self, node: Node, s: dict[str, Any]) -> None:
        kind = s.get("type")
        node.type = kind if isinstance(kind, str) else None
        props = s.get("properties")
        if props:
            node.props = {name: self.compile(sub) for name, sub in props.items()}
            node.defaults = tuple(
                (name, sub.default)
                for name, sub in node.props.items()
                if sub.default is not MISSING
            )
        addl = s.get("additionalProperties")
        if isinstance(addl, dict):
            node.addl = self.compile(addl)
        elif isinstance(addl, bool):
            node.addl = addl
        if isinstance(s.get("items"), dict):
            node.items = self.compile(s["items"])
        if s.get("required"):
            node.required = tuple(s["required"])
        if "enum" in s and s["enum"] is not None:
            node.enum = tuple(s["enum"])
        if isinstance(s.get("pattern"), str):
            node.pattern_src = s["pattern"]
            node.pattern = _compile_pattern(s["pattern"])
        node.format = s.get("format") or None
        node.minimum = s.get("minimum")
        node.maximum = s.get("maximum")
        node.excl_min = bool(s.get("exclusiveMinimum"))
        node.excl_max = bool(s.get("exclusiveMaximum"))
        node.multiple_of = s.get("multipleOf")
        node.min_len = s.get("minLength")
        node.max_len = s.get("maxLength")
        node.min_items = s.get("minItems")
        node.max_items = s.get("maxItems")
        node.unique = bool(s.get("uniqueItems"))
        node.min_props = s.get("minProperties")
        node.max_props = s.get("maxProperties")
        node.nullable = bool(s.get("nullable"))
        if "default" in s:
            node.default = s["default"]
        node.int_or_string = bool(s.get("x-kubernetes-int-or-string"))
        node.preserve = bool(s.get("x-kubernetes-preserve-unknown-fields"))
        node.embedded = bool(s.get("x-kubernetes-embedded-resource"))
        node.list_type = s.get("x-kubernetes-list-type")
        if s.get("x-kubernetes-list-map-keys"):
            node.map_keys = tuple(s["x-kubernetes-list-map-keys"])
        for key, slot in (("anyOf", "any_of"), ("allOf", "all_of"), ("oneOf", "one_of")):
            if s.get(key):
                setattr(node, slot, tuple(self.compile(sub) for sub in s[key]))
        if isinstance(s.get("not"), dict):
            node.not_ = self.compile(s["not"])


_INLINE_FLAGS = re.compile(r"\(\?([imsx]+)\)")


def _compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """A Go RE2 pattern as a Python regex, or None when it cannot be expressed.

    RE2 allows inline flags anywhere (``^(?i)[a-z]+$``); Python only at the start, so a
    later ``(?i)`` becomes a scoped group over the rest of the pattern. ``\\z`` is RE2's
    end of text.
    """
    text = pattern.replace(r"\z", r"\Z")
    match = _INLINE_FLAGS.search(text)
    if match and match.start() > 0:
        text = f"{text[: match.start()]}(?{match.group(1)}:{text[match.end() :]})"
    try:
        return re.compile(text)
    except re.error:
        return None
