"""Queues and quotas: priority classes, Kueue flavors/ClusterQueues/LocalQueues, Volcano and KAI queues."""

from __future__ import annotations

from typing import Any

from gpukit.manifests.pods import pool_node_selector
from gpukit.manifests.scheduling import PRIORITY_CLASSES
from gpukit.platform.model import PlatformPlan, pool_resources, split
from gpukit.quantity import format_bytes

__all__ = [
    "KUEUE_API",
    "cluster_queues",
    "kai_queues",
    "local_queues",
    "namespaces",
    "priority_classes",
    "resource_flavors",
    "volcano_queues",
]

Obj = dict[str, Any]

#: Kueue's storage version in the CRDs gpukit targets (v0.19); every Kueue object uses it.
KUEUE_API = "kueue.x-k8s.io/v1beta2"
_MANAGED = {"app.kubernetes.io/managed-by": "gpukit"}


def namespaces(pp: PlatformPlan) -> list[Obj]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": dict(_MANAGED)},
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
                "metadata": {"name": pc.name, "labels": dict(_MANAGED)},
                "value": pc.value,
                "globalDefault": False,
                "description": pc.description,
            }
        )
    if pp.fleet.installed.kueue:
        for pc in PRIORITY_CLASSES:
            objects.append(
                {
                    "apiVersion": KUEUE_API,
                    "kind": "WorkloadPriorityClass",
                    "metadata": {"name": pc.name, "labels": dict(_MANAGED)},
                    "value": pc.value,
                    "description": pc.description,
                }
            )
    return objects


def resource_flavors(pp: PlatformPlan) -> list[Obj]:
    """A ResourceFlavor per node pool, with the labels that select the pool's nodes.

    Kueue matches them against a pod's node selector when it picks a flavor, so a pod that
    asks for an L4 time-slicing share is never counted against the A100 quota (both are
    ``nvidia.com/gpu``), and writes them into admitted pods.
    """
    flavors = []
    for pool in pp.fleet.node_pools:
        spec: Obj = {"nodeLabels": pool_node_selector(pool, dra=pp.dra)}
        if pool.taints:
            spec["nodeTaints"] = [
                {
                    "key": t.key,
                    **({"value": t.value} if t.value is not None else {}),
                    "effect": t.effect,
                }
                for t in pool.taints
            ]
        flavors.append(
            {
                "apiVersion": KUEUE_API,
                "kind": "ResourceFlavor",
                "metadata": {"name": pool.name, "labels": dict(_MANAGED)},
                "spec": spec,
            }
        )
    return flavors


def _quantity(resource: str, amount: int) -> int | str:
    return format_bytes(amount) if resource == "memory" else amount


def cluster_queues(pp: PlatformPlan) -> list[Obj]:
    """ClusterQueues with a quota for every resource the pools offer (MIG devices included;
    on DRA fleets cpu and memory only, see :attr:`PlatformPlan.kueue_ignores_gpus`).

    One resource group: every flavor lists every covered resource in the same order (0
    where the pool has none), as Kueue requires. The pools' capacity is split evenly among
    the ClusterQueues, which share one cohort: each may borrow what the others leave idle,
    and gets its nominal quota back by preempting borrowers.
    """
    pools = pp.fleet.node_pools
    capacity = {pool.name: pool_resources(pool)[0] for pool in pools}
    gpu_names = sorted({r for c in capacity.values() for r in c if r not in ("cpu", "memory")})
    if pp.dra:
        # DRA pods ask for GPUs in resources.claims, not as extended resources: a quota on
        # nvidia.com/gpu would never be used up, so it would promise a limit that is not there.
        gpu_names = []
    covered = ["cpu", "memory", *gpu_names]
    queues = []
    count = len(pp.cluster_queues)
    for index, name in enumerate(pp.cluster_queues):
        flavors = [
            {
                "name": pool.name,
                "resources": [
                    {
                        "name": r,
                        "nominalQuota": _quantity(
                            r, split(capacity[pool.name].get(r, 0), count, index)
                        ),
                    }
                    for r in covered
                ],
            }
            for pool in pools
        ]
        queues.append(
            {
                "apiVersion": KUEUE_API,
                "kind": "ClusterQueue",
                "metadata": {"name": name, "labels": dict(_MANAGED)},
                "spec": {
                    "cohortName": pp.options.cohort,
                    "namespaceSelector": {},  # who may submit is decided by the LocalQueues
                    "queueingStrategy": "BestEffortFIFO",
                    "preemption": {
                        "reclaimWithinCohort": "Any",
                        "borrowWithinCohort": {"policy": "LowerPriority"},
                        "withinClusterQueue": "LowerPriority",
                    },
                    "resourceGroups": [{"coveredResources": covered, "flavors": flavors}],
                },
            }
        )
    return queues


def local_queues(pp: PlatformPlan) -> list[Obj]:
    """A LocalQueue per team namespace, pointing at its ClusterQueue."""
    return [
        {
            "apiVersion": KUEUE_API,
            "kind": "LocalQueue",
            "metadata": {"name": q.name, "namespace": q.namespace, "labels": dict(_MANAGED)},
            "spec": {"clusterQueue": q.cluster_queue},
        }
        for q in pp.local_queues
    ]


def kueue_objects(pp: PlatformPlan) -> list[Obj]:
    if not pp.fleet.installed.kueue or not pp.cluster_queues:
        return []
    return [*resource_flavors(pp), *cluster_queues(pp), *local_queues(pp)]


def volcano_queues(pp: PlatformPlan) -> list[Obj]:
    """Volcano Queues the fleet names or the planned gang jobs use (``default`` exists already).

    Equal weights; reclaimable, so a queue's idle share lent to others comes back."""
    return [
        {
            "apiVersion": "scheduling.volcano.sh/v1beta1",
            "kind": "Queue",
            "metadata": {"name": name, "labels": dict(_MANAGED)},
            "spec": {"weight": 1, "reclaimable": True},
        }
        for name in pp.volcano_queues
    ]


KAI_PARENT_QUEUE = "gpukit"


def kai_queues(pp: PlatformPlan) -> list[Obj]:
    """KAI Queues the planned workloads name, under one parent that owns all the fleet's GPUs.

    Each team queue is guaranteed an equal share of the GPUs (quota) and may use idle GPUs
    beyond it (no limit, equal over-quota weight); CPU and memory are not guaranteed.
    """
    if not pp.kai_queues:
        return []
    total_gpus = sum(pool.total_gpus for pool in pp.fleet.node_pools)

    def resources(gpu_quota: int) -> Obj:
        unlimited = {"quota": 0, "limit": -1, "overQuotaWeight": 1}
        return {
            "cpu": dict(unlimited),
            "gpu": {"quota": gpu_quota, "limit": -1, "overQuotaWeight": 1},
            "memory": dict(unlimited),
        }

    parent = {
        "apiVersion": "scheduling.run.ai/v2",
        "kind": "Queue",
        "metadata": {"name": KAI_PARENT_QUEUE, "labels": dict(_MANAGED)},
        "spec": {"resources": resources(total_gpus)},
    }
    children = [
        {
            "apiVersion": "scheduling.run.ai/v2",
            "kind": "Queue",
            "metadata": {"name": name, "labels": dict(_MANAGED)},
            "spec": {
                "parentQueue": KAI_PARENT_QUEUE,
                "resources": resources(split(total_gpus, len(pp.kai_queues), index)),
            },
        }
        for index, name in enumerate(pp.kai_queues)
    ]
    return [parent, *children]
