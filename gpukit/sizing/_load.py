"""Workloads streamed from large files: many YAML documents or JSON Lines, no document cap."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from gpukit._loading import validate_model
from gpukit._yaml import JSON_LINES_SUFFIXES, stream_source
from gpukit.errors import WorkloadError
from gpukit.workload import Workload

__all__ = ["stream_workloads", "workload_sources"]

_SUFFIXES = (".yaml", ".yml", ".json", *JSON_LINES_SUFFIXES)


def workload_sources(sources: Iterable[str | Path]) -> list[str]:
    """Files as given ('-' is standard input); folders walked recursively for workload files
    (JSON Lines included), sorted, as every gpukit command reads folders."""
    from gpukit._yaml import expand_paths
    from gpukit.errors import ManifestError

    try:
        return list(expand_paths(list(sources), _SUFFIXES))
    except ManifestError as exc:
        raise WorkloadError(str(exc)) from None


def stream_workloads(*sources: str | Path) -> Iterator[Workload]:
    """Every workload of the given files or folders, one at a time, validated.

    Like :func:`gpukit.load_workloads` (a file holds one workload, several YAML documents or
    a list; names are unique; errors are one line naming file, document and field), but
    streamed: each document within the per-document limits, with no cap on how many, and
    JSON Lines files (``.jsonl``, ``.ndjson``, or one JSON object per line) accepted.
    """
    seen: dict[str, str] = {}
    any_found = False
    for source in workload_sources(sources):
        jsonl = None
        for label, loaded in stream_source(source, duplicate_keys=False):
            if loaded.value is None:
                continue
            if jsonl is None:
                jsonl = loaded.node is None
            items = loaded.value if isinstance(loaded.value, list) else [loaded.value]
            for item in items:
                try:
                    workload = Workload.model_validate(item)
                except ValidationError:
                    # Worded with where it is; built only for the error, not per workload.
                    validate_model(
                        Workload, item, _where(label, loaded.index, jsonl, item), WorkloadError
                    )
                    raise
                if workload.name in seen:
                    raise WorkloadError(
                        f"{_where(label, loaded.index, jsonl, item)}: name {workload.name!r} is "
                        f"already used in {seen[workload.name]}; workload names must be unique"
                    )
                seen[workload.name] = label
                any_found = True
                yield workload
    if not any_found:
        raise WorkloadError(f"{', '.join(str(s) for s in sources)}: no workloads found")


def _where(label: str, index: int, jsonl: bool | None, item: object) -> str:
    where = (
        f"{label} (line {index + 1})"
        if jsonl
        else label + (f" (document {index + 1})" if index else "")
    )
    name = item.get("name") if isinstance(item, dict) else None
    return where + (f", workload {name!r}" if isinstance(name, str) else "")
