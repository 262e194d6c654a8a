"""Namespaces and priority classes; the queue objects moved to their integrations.

Kueue flavors/ClusterQueues/LocalQueues live in :mod:`gpukit.integrations.kueue`, Volcano
Queues in :mod:`gpukit.integrations.volcano`, KAI Queues in :mod:`gpukit.integrations.kai`;
their old names here re-export them for one release.
"""

from __future__ import annotations

from typing import Any

from gpukit.integrations.kai import KAI_PARENT_QUEUE, kai_queues
from gpukit.integrations.kueue import (
    KUEUE_API,
    cluster_queues,
    kueue_api,
    kueue_objects,
    local_queues,
    resource_flavors,
)
from gpukit.integrations.volcano import volcano_queues
from gpukit.manifests.scheduling import PRIORITY_CLASSES
from gpukit.platform.model import PlatformPlan
from gpukit.vocab import managed_by

__all__ = [
    "KAI_PARENT_QUEUE",
    "KUEUE_API",
    "cluster_queues",
    "kai_queues",
    "kueue_objects",
    "local_queues",
    "namespaces",
    "priority_classes",
    "resource_flavors",
    "volcano_queues",
]

Obj = dict[str, Any]


def namespaces(pp: PlatformPlan) -> list[Obj]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": managed_by()},
        }
        for name in pp.namespaces
    ]


def priority_classes(pp: PlatformPlan) -> list[Obj]:
    """Each gpukit priority level as a PriorityClass and, with Kueue, a WorkloadPriorityClass.

    Pods name the first (priorityClassName: kube-scheduler preemption); Kueue workloads the
    second (its priority-class label: admission order and Kueue preemption).
    """
    objects: list[Obj] = []
    for pc in PRIORITY_CLASSES:
        objects.append(
            {
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": {"name": pc.name, "labels": managed_by()},
                "value": pc.value,
                "globalDefault": False,
                "description": pc.description,
            }
        )
    if pp.fleet.installed.kueue:
        for pc in PRIORITY_CLASSES:
            objects.append(
                {
                    "apiVersion": kueue_api(pp.fleet),
                    "kind": "WorkloadPriorityClass",
                    "metadata": {"name": pc.name, "labels": managed_by()},
                    "value": pc.value,
                    "description": pc.description,
                }
            )
    return objects
