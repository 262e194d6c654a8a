"""Reading manifest files the way kubectl does: YAML 1.1 scalars, no timestamps, no duplicate keys.

YAML goes through the bounded reader (:func:`gpukit._yaml.load_reporting`): the same size,
depth, alias and document limits as every other file gpukit reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from gpukit._loading import read_text
from gpukit._yaml import load_reporting
from gpukit.errors import ManifestError

__all__ = ["Document", "expand_paths", "foreign_shape", "load_manifests"]

_SUFFIXES = (".yaml", ".yml", ".json")


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
        except RecursionError:
            raise ManifestError(
                f"{label}: refused: nested too deep to read; flatten the document"
            ) from None
        items = data if isinstance(data, list) else [data]
        return [Document(i, d, []) for i, d in enumerate(items) if d is not None]
    # The bounded reader: kubectl's scalars (dates stay strings) and repeated keys reported
    # with their lines, as the API server's strict decoding would refuse them.
    return [
        Document(loaded.index, loaded.value, loaded.duplicates)
        for loaded in load_reporting(label, text, keys="text", timestamps=False)
        if loaded.value is not None
    ]


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
