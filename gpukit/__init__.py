"""gpukit: pick the GPU sharing mechanism and scheduler for a Kubernetes job, explain why,
and emit the manifests.

>>> import gpukit as gk
>>> w = gk.Workload(name="bert-serve", kind="inference", gpu_memory="6Gi", isolation="strict")
>>> gk.plan(w).sharing
'mig'

Importing gpukit loads no kubernetes, kfp or ipywidgets: surfaces that need them import
them when used. Public names resolve lazily, so `import gpukit` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it
_EXPORTS = {
    "ClusterError": "gpukit.errors",
    "Fleet": "gpukit.fleet",
    "FleetError": "gpukit.errors",
    "GpukitError": "gpukit.errors",
    "InputError": "gpukit.errors",
    "ManifestError": "gpukit.errors",
    "MigLayoutError": "gpukit.errors",
    "MissingExtraError": "gpukit.errors",
    "NoFeasiblePlan": "gpukit.errors",
    "NodePool": "gpukit.fleet",
    "Plan": "gpukit.advisor",
    "UnknownGpuError": "gpukit.errors",
    "Workload": "gpukit.workload",
    "WorkloadError": "gpukit.errors",
    "default_fleet": "gpukit.fleet",
    "get_gpu": "gpukit.hardware",
    "load_fleet": "gpukit.fleet",
    "load_workloads": "gpukit.workload",
    "memory_need": "gpukit.memory",
    "parse_gpu": "gpukit.hardware",
    "object_kind": "gpukit.manifests",
    "plan": "gpukit.advisor",
    "render": "gpukit.manifests",
    "render_platform": "gpukit.platform",
    "size": "gpukit.sizing",
    "to_yaml": "gpukit.manifests",
}
#: Subpackages that are also callable: gpukit.lint(x) is gpukit.lint.lint(x), and
#: gpukit.verify(w) is gpukit.verify.verify(w).
_CALLABLE_PACKAGES = ("lint", "verify")

__all__ = sorted(["__version__", *_CALLABLE_PACKAGES, *_EXPORTS])


def __getattr__(name: str) -> Any:
    if name in _CALLABLE_PACKAGES:
        value = importlib.import_module(f"gpukit.{name}")
        globals()[name] = value
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gpukit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from gpukit.advisor import Plan, plan
    from gpukit.errors import (
        ClusterError,
        FleetError,
        GpukitError,
        InputError,
        ManifestError,
        MigLayoutError,
        MissingExtraError,
        NoFeasiblePlan,
        UnknownGpuError,
        WorkloadError,
    )
    from gpukit.fleet import Fleet, NodePool, default_fleet, load_fleet
    from gpukit.hardware import get_gpu, parse_gpu
    from gpukit.memory import memory_need
    from gpukit.manifests import object_kind, render, to_yaml
    from gpukit.platform import render_platform
    from gpukit.sizing import size
    from gpukit.workload import Workload, load_workloads
