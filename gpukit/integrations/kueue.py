"""Kueue: detection, its CRDs, and its platform objects (ResourceFlavors, ClusterQueues, LocalQueues).

Workloads reach Kueue through the queue label (``gpukit.vocab.KUEUE_QUEUE_LABEL``) that
``gpukit.manifests.scheduling`` puts on the admitted object, and start suspended.
"""

from __future__ import annotations

from typing import Any

from gpukit.integrations._base import Detection, Integration, WireKind
from gpukit.manifests.pods import pool_node_selector
from gpukit.platform.files import PlatformFile, manifest_file
from gpukit.platform.model import PlatformPlan, pool_resources, split
from gpukit.quantity import format_bytes
from gpukit.topology.render import flavor_topology_name, kueue_topology
from gpukit.vocab import managed_by

__all__ = [
    "GROUP",
    "INTEGRATION",
    "KUEUE_API",
    "cluster_queues",
    "kueue_objects",
    "local_queues",
    "platform_files",
    "quota_lines",
    "resource_flavors",
]

Obj = dict[str, Any]

GROUP = "kueue.x-k8s.io"
#: Kueue's storage version in the CRDs gpukit targets (v0.19); every Kueue object uses it.
KUEUE_API = f"{GROUP}/v1beta2"


def resource_flavors(pp: PlatformPlan) -> list[Obj]:
    """A ResourceFlavor per node pool, with the labels that select the pool's nodes.

    Kueue matches them against a pod's node selector when it picks a flavor, so a pod that
    asks for an L4 time-slicing share is never counted against the A100 quota (both are
    ``nvidia.com/gpu``), and writes them into admitted pods.
    """
    flavors = []
    for pool in pp.fleet.node_pools:
        spec: Obj = {"nodeLabels": pool_node_selector(pool, dra=pp.dra)}
        spec.update(flavor_topology_name(pp.fleet, pool))  # Kueue topology-aware scheduling
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
                "metadata": {"name": pool.name, "labels": managed_by()},
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
                "metadata": {"name": name, "labels": managed_by()},
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
            "metadata": {"name": q.name, "namespace": q.namespace, "labels": managed_by()},
            "spec": {"clusterQueue": q.cluster_queue},
        }
        for q in pp.local_queues
    ]


def kueue_objects(pp: PlatformPlan) -> list[Obj]:
    if not pp.fleet.installed.kueue or not pp.cluster_queues:
        return []
    return [
        *kueue_topology(pp.fleet),
        *resource_flavors(pp),
        *cluster_queues(pp),
        *local_queues(pp),
    ]


def quota_lines(pp: PlatformPlan) -> list[str]:
    """The quota summary in the Kueue file's header, one line per pool."""
    lines = [
        "Quotas (whole cluster, split evenly over the ClusterQueues, borrowable in the cohort):"
    ]
    if pp.kueue_ignores_gpus:
        lines += [
            "  GPU quota is NOT enforced by Kueue here: DRA pods ask for GPUs through",
            "  ResourceClaims, which ClusterQueue quotas do not count; cpu and memory only.",
        ]
    for pool in pp.fleet.node_pools:
        res, estimated = pool_resources(pool)
        parts = [f"cpu {res['cpu']}", f"memory {format_bytes(res['memory'])}"]
        for resource, amount in res.items():
            if resource not in ("cpu", "memory") and not pp.dra:
                wanted = pp.kueue_demand.get((pool.name, resource))
                parts.append(
                    f"{resource} {amount}" + (f" (Kueue workloads ask {wanted})" if wanted else "")
                )
        note = " (cpu/memory estimated: the fleet does not declare them)" if estimated else ""
        lines.append(f"  {pool.name}: {', '.join(parts)}{note}")
    return lines


def platform_files(pp: PlatformPlan) -> list[PlatformFile]:
    objects = kueue_objects(pp)
    if not objects:
        return []
    return [
        manifest_file(
            "manifests/30-kueue.yaml",
            "Kueue flavors, ClusterQueues and LocalQueues.",
            [
                "A ResourceFlavor per node pool, ClusterQueues with quotas, a LocalQueue per team namespace.",
                f"ClusterQueues share cohort {pp.options.cohort}: idle quota is borrowed, and reclaimed by preemption.",
                *quota_lines(pp),
            ],
            objects,
            needs="Kueue",
        )
    ]


INTEGRATION = Integration(
    name="kueue",
    title="Kueue",
    installed="kueue",
    detection=Detection(groups=(GROUP,)),
    crds=tuple(
        f"{plural}.{GROUP}"
        for plural in (
            "clusterqueues",
            "cohorts",
            "localqueues",
            "resourceflavors",
            "topologies",
            "workloadpriorityclasses",
        )
    ),
    kinds=tuple(
        WireKind(KUEUE_API, kind)
        for kind in (
            "ClusterQueue",
            "LocalQueue",
            "ResourceFlavor",
            "Topology",
            "WorkloadPriorityClass",
        )
    ),
    platform=platform_files,
)
