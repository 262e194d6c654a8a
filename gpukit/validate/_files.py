"""Reading manifest files the way kubectl does: YAML 1.1 scalars, no timestamps, no duplicate keys."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from gpukit._loading import read_text
from gpukit.errors import ManifestError

__all__ = ["Document", "expand_paths", "foreign_shape", "load_manifests"]

_SUFFIXES = (".yaml", ".yml", ".json")


# libyaml's parser when present: an order of magnitude faster on large CRD files.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """SafeLoader that keeps timestamps as strings and records duplicate keys.

    kubectl's YAML decoder hands unquoted dates to the API server as strings, so a
    label value ``2026-01-31`` is a string there; PyYAML would make it a date.
    Duplicate keys are an error for the API server's strict decoding; PyYAML keeps
    the last silently.
    """

    duplicates: list[tuple[str, int]]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    self.duplicates.append((key_node.value, key_node.start_mark.line + 1))
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class Document:
    """One document of a file: its 0-based index, its data, duplicate keys (key, line)."""

    __slots__ = ("data", "duplicates", "index")

    def __init__(self, index: int, data: Any, duplicates: list[tuple[str, int]]) -> None:
        self.index = index
        self.data = data
        self.duplicates = duplicates


def load_manifests(source: str | Path) -> tuple[str, list[Document]]:
    """(label, non-empty documents) of a YAML or JSON file, or '-' for standard input."""
    label, text = read_text(source)
    return label, parse_manifests(label, text)


def parse_manifests(label: str, text: str) -> list[Document]:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(
                f"{label}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
        items = data if isinstance(data, list) else [data]
        return [Document(i, d, []) for i, d in enumerate(items) if d is not None]
    docs: list[Document] = []
    loader = _Loader(text)
    loader.duplicates = []
    try:
        index = 0
        while loader.check_data():
            data = loader.get_data()
            if data is not None:
                docs.append(Document(index, data, loader.duplicates))
            loader.duplicates = []
            index += 1
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ManifestError(f"{label}: not valid YAML{where}: {problem}") from None
    finally:
        loader.dispose()
    return docs


# Top-level keys of the Helm charts gpukit's platform bundle installs (NVIDIA GPU Operator
# first, then Kueue, Volcano and KAI). Values files have neither apiVersion nor kind; two of
# these keys, or one in a file named like a values file, tell them from a broken manifest.
# fmt: off
_HELM_VALUES_KEYS = frozenset(
    {
        # NVIDIA GPU Operator
        "cdi", "daemonsets", "dcgm", "dcgmExporter", "devicePlugin", "driver", "gds",
        "gfd", "mig", "migManager", "nfd", "node-feature-discovery", "nodeStatusExporter",
        "operator", "psa", "sandboxDevicePlugin", "sandboxWorkloads", "toolkit",
        "validator", "vfioManager", "vgpuDeviceManager", "vgpuManager",
        # Kueue, Volcano, KAI scheduler
        "controllerManager", "enableCertManager", "managerConfig", "custom", "basic",
        "global", "scheduler", "binder", "podgrouper", "admission",
    }
)
# fmt: on


def foreign_shape(data: Any, label: str = "") -> str | None:
    """'workload' or 'helm-values' for a document that is one of gpukit's other inputs.

    Such a document has no apiVersion and no kind of Kubernetes' CamelCase form, so the
    validator could only say 'needs apiVersion'; naming what it is tells the user what
    to do instead. None for anything else (including broken manifests).
    """
    if isinstance(data, list) and data:
        shapes = {foreign_shape(item, label) for item in data}
        return "workload" if shapes == {"workload"} else None
    if not isinstance(data, dict) or "apiVersion" in data:
        return None
    from typing import get_args

    from gpukit.workload import Kind

    if isinstance(data.get("name"), str) and data.get("kind") in get_args(Kind):
        return "workload"
    if "kind" in data:
        return None
    keys = {k for k in data if isinstance(k, str)} & _HELM_VALUES_KEYS
    if len(keys) >= 2 or (keys and "values" in Path(label).name.lower()):
        return "helm-values"
    return None


def expand_paths(paths: Iterable[str | Path]) -> Iterator[str | Path]:
    """Each path; a folder becomes its YAML/JSON files, recursively, in sorted order."""
    for path in paths:
        if str(path) != "-" and Path(path).is_dir():
            found = sorted(
                p for p in Path(path).rglob("*") if p.is_file() and p.suffix in _SUFFIXES
            )
            if not found:
                raise ManifestError(f"{path}: folder holds no .yaml, .yml or .json files")
            yield from found
        else:
            yield path
