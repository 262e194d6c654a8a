"""Manifests: render() turns a Plan into Kubernetes objects (dicts, apply order); to_yaml().

The package is not called `render` so that `gpukit.render` stays the function.
"""

from __future__ import annotations

from typing import Any

from gpukit.advisor.plan import Plan
from gpukit.manifests.kinds import ObjectKind, object_kind
from gpukit.manifests.order import apply_order
from gpukit.manifests.workloads import render_workload
from gpukit.manifests.yaml import to_yaml

__all__ = ["ObjectKind", "apply_order", "object_kind", "render", "to_yaml"]


def render(plan: Plan) -> list[dict[str, Any]]:
    """The manifests that run ``plan``, in the order ``kubectl apply`` should see them.

    Pure: no I/O, no cluster calls. Same plan, same objects. Which object runs the plan
    (Deployment, Job, TrainJob, ...) is decided by :func:`object_kind`.
    """
    return render_workload(plan)
