"""Fixtures for the platform tests: fleets by name, with scheduler/operator switches flipped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import gpukit as gk

FLEETS = Path(__file__).resolve().parents[2] / "examples" / "fleets"


def _fleet(name: str = "default", **installed: bool) -> gk.Fleet:
    base = gk.default_fleet() if name == "default" else gk.load_fleet(FLEETS / f"{name}.yaml")
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
