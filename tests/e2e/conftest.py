"""The e2e suite, enabled (KUBECONFIG and GPUKIT_E2E=1) but unable to reach a cluster, skips
in one line that says what is missing, instead of an error and a traceback per test."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path

import pytest


def missing_requirement(environ: Mapping[str, str] = os.environ) -> str | None:
    """What the suite lacks to reach a cluster, in one line; None when nothing is missing.

    KUBECONFIG may list several files (``:``-separated, as kubectl reads it); one that exists
    is enough.
    """
    listed = [p for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if not any(Path(p).expanduser().is_file() for p in listed):
        return (
            f"end-to-end suite: no kubeconfig file at {environ.get('KUBECONFIG', '')!r}; "
            "point KUBECONFIG at the kubeconfig of the cluster to test"
        )
    if importlib.util.find_spec("kubernetes") is None:
        return (
            "end-to-end suite: the kubernetes client is not installed: pip install 'gpukit[kube]'"
        )
    return None


def _enabled() -> bool:
    return bool(os.environ.get("KUBECONFIG")) and os.environ.get("GPUKIT_E2E") == "1"


#: Why the suite does not run when it is not enabled (the module's skip mark says the same).
NOT_ENABLED = "end-to-end suite: set KUBECONFIG and GPUKIT_E2E=1 to run it against a real cluster"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before the tests' own skip marks and fixtures, and from one place, so `pytest -rs`
    # folds every test's skip into a single line.
    if item.path.parent != Path(__file__).parent:
        return
    missing = missing_requirement() if _enabled() else NOT_ENABLED
    if missing:
        pytest.skip(missing)
