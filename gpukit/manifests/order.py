"""Apply order: what must exist before what, so one `kubectl apply` of a list never races."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["APPLY_ORDER", "apply_order"]

#: Kinds in the order they must be created. Cluster-wide set-up first (namespaces, priority
#: classes, config the GPU Operator reads), then queues and quotas, then what workloads
#: reference (claims, Services, PodGroups), then the workloads themselves.
APPLY_ORDER: tuple[str, ...] = (
    "Namespace",
    "PriorityClass",
    "WorkloadPriorityClass",
    "ConfigMap",
    "ResourceFlavor",
    "Cohort",
    "ClusterQueue",
    "LocalQueue",
    "Queue",
    "NodePool",
    "ResourceClaimTemplate",
    "ResourceClaim",
    "Service",
    "PodGroup",
)

_RANK = {kind: rank for rank, kind in enumerate(APPLY_ORDER)}


def apply_order(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``objects`` sorted into apply order; kinds not listed (the workloads) come last.

    Stable: objects of the same rank keep the order they were built in.
    """
    return sorted(objects, key=lambda obj: _RANK.get(obj.get("kind", ""), len(_RANK)))
