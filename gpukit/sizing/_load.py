"""Workloads streamed from large files: many YAML documents or JSON Lines, no document cap."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from gpukit._loading import validate_model
from gpukit._yaml import JSON_LINES_SUFFIXES, stream_source
from gpukit.errors import WorkloadError
from gpukit.workload import Workload

__all__ = ["stream_workloads", "workload_sources"]

_SUFFIXES = (".yaml", ".yml", ".json", *JSON_LINES_SUFFIXES)


def workload_sources(sources: Iterable[str | Path]) -> list[str]:
    """Files as given ('-' is standard input); folders expanded to their workload files, sorted."""
    files: list[str] = []
    for source in sources:
        path = Path(source)
        if str(source) != "-" and path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in _SUFFIXES and p.is_file())
            if not found:
                raise WorkloadError(
                    f"{path}: folder holds no .yaml, .yml, .json, .jsonl or .ndjson files"
                )
            files.extend(str(p) for p in found)
        else:
            files.append(str(source))
    return files


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
                name = item.get("name") if isinstance(item, dict) else None
                if jsonl:
                    where = f"{label} (line {loaded.index + 1})"
                else:
                    where = label + (f" (document {loaded.index + 1})" if loaded.index else "")
                where += f", workload {name!r}" if isinstance(name, str) else ""
                workload = validate_model(Workload, item, where, WorkloadError)
                if workload.name in seen:
                    raise WorkloadError(
                        f"{where}: name {workload.name!r} is already used in {seen[workload.name]}; "
                        "workload names must be unique"
                    )
                seen[workload.name] = label
                any_found = True
                yield workload
    if not any_found:
        raise WorkloadError(f"{', '.join(str(s) for s in sources)}: no workloads found")
