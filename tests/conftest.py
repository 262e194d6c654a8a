"""Shared fixtures: the repository root, the reference facts beside it, the examples."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference: the facts tests check against (never copied into the project)."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference facts not found beside the repository ({REFERENCE.name})")
    return REFERENCE


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES
