"""Deterministic YAML: the same objects always give the same bytes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

__all__ = ["to_yaml"]


class _Dumper(yaml.SafeDumper):
    """Block style, insertion key order, multi-line strings as literal blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        # Indent list items under their key, as kubectl and most style guides do.
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # kubectl users read plain YAML, never &anchors


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(objects: dict[str, Any] | Iterable[dict[str, Any]]) -> str:
    """Objects as one multi-document YAML stream, keys in the order they were built."""
    docs = [objects] if isinstance(objects, dict) else list(objects)
    return "---\n".join(
        yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100)
        for doc in docs
    )
