from __future__ import annotations

from typing import Any

import pytest

import gpukit as gk


def _dra_fleet(base: gk.Fleet, **dra: Any) -> gk.Fleet:
    """``base`` with DRA installed and its ``dra:`` settings replaced by ``dra``."""
    data = base.model_dump()
    data["installed"]["dra"] = True
    data["dra"] = dra
    return gk.Fleet.model_validate(data)


@pytest.fixture(scope="session")
def dra_fleet(fleet):
    """dra_fleet(name="dra", **settings): an example fleet with DRA on and these settings."""

    def make(name: str = "dra", **settings: Any) -> gk.Fleet:
        return _dra_fleet(fleet(name), **settings)

    return make
