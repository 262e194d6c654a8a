"""Manifests: render() turns a Plan into Kubernetes objects (dicts, apply order); to_yaml().

The package is not called `render` so that `gpukit.render` stays the function.

Names resolve lazily, so that the renderers' building blocks (``gpukit.manifests.pods``,
``meta``, ``scheduling``), which the integrations import, load without the dispatcher
(``workloads``), which imports the integrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpukit._lazy import lazy_exports

__all__ = ["ObjectKind", "apply_order", "object_kind", "render", "to_yaml"]

_EXPORTS = {
    "ObjectKind": "gpukit.manifests.kinds",
    "apply_order": "gpukit.manifests.order",
    "object_kind": "gpukit.manifests.kinds",
    "to_yaml": "gpukit.manifests.yaml",
}


def render(plan: Plan) -> list[dict[str, Any]]:
    """The manifests that run ``plan``, in the order ``kubectl apply`` should see them.

    Pure: no I/O, no cluster calls. Same plan, same objects. Which object runs the plan
    (Deployment, Job, TrainJob, ...) is decided by :func:`object_kind`.
    """
    from gpukit.manifests.workloads import render_workload

    return render_workload(plan)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor.plan import Plan
    from gpukit.manifests.kinds import ObjectKind, object_kind
    from gpukit.manifests.order import apply_order
    from gpukit.manifests.yaml import to_yaml
