"""The reference facts tests check against: vendored under tests/reference, sources in its SOURCES.md.

Tests read only the vendored copy, so a fresh clone runs every test. A checkout that has the
workplace's shared reference set beside it (``../shared/reference``) gets one extra check:
the vendored copy equals it (tests/test_reference_vendored.py).
"""

from __future__ import annotations

import gzip
from pathlib import Path

VENDORED = Path(__file__).resolve().parent / "reference"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
EXAMPLES = VENDORED / "examples"
CRDS = VENDORED / "crds"


def read_bytes(relative: str) -> bytes:
    """A vendored file's upstream bytes; CRDs are stored gzipped (``NAME.yaml.gz``)."""
    path = VENDORED / relative
    if path.is_file():
        return path.read_bytes()
    return gzip.decompress((VENDORED / f"{relative}.gz").read_bytes())


def read_text(relative: str) -> str:
    return read_bytes(relative).decode("utf-8")


def crd_names() -> list[str]:
    """Upstream file names of every vendored CRD (``kueue.x-k8s.io_workloads.yaml`` ...)."""
    return sorted(p.name.removesuffix(".gz") for p in CRDS.glob("*.yaml.gz"))


def crd_text(name: str) -> str:
    """One CRD's YAML, by upstream file name with or without ``.yaml``."""
    stem = name.removesuffix(".yaml")
    return read_text(f"crds/{stem}.yaml")


def unpack_crds(into: Path) -> Path:
    """The reference layout tools expect (``crds/*.yaml`` and its SOURCES.md), unpacked under ``into``."""
    (into / "crds").mkdir(parents=True, exist_ok=True)
    (into / "crds" / "SOURCES.md").write_bytes((CRDS / "SOURCES.md").read_bytes())
    for name in crd_names():
        (into / "crds" / name).write_bytes(read_bytes(f"crds/{name}"))
    return into
