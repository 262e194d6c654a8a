"""Shared fixtures: the repository root, the vendored reference facts, the examples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import gpukit as gk

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """tests/reference: the upstream facts tests check against, vendored (SOURCES.md names each).

    CRDs are stored gzipped: read them with tests._reference.crd_text.
    """
    return REFERENCE


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES


def _fleet(name: str = "default", **installed: bool) -> gk.Fleet:
    base = gk.default_fleet() if name == "default" else gk.load_fleet(EXAMPLES / "fleets" / f"{name}.yaml")
    if not installed:
        return base
    data = base.model_dump()
    data["installed"].update(installed)
    # Queues of a scheduler switched off would make the fleet invalid: drop them.
    data["queues"] = [q for q in data["queues"] if data["installed"][q["scheduler"]]]
    return gk.Fleet.model_validate(data)


@pytest.fixture(scope="session")
def fleet() -> Callable[..., gk.Fleet]:
    """fleet(name="default", **installed): an example fleet with `installed` flags overridden."""
    return _fleet
