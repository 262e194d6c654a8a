"""Kueue: detection, its CRDs, and its platform objects (ResourceFlavors, ClusterQueues, LocalQueues).

Workloads reach Kueue through the queue label (``gpukit.vocab.KUEUE_QUEUE_LABEL``) that
``gpukit.manifests.scheduling`` puts on the admitted object, and start suspended.
"""

from __future__ import annotations

from typing import Any

from gpukit.dra import kueue as dra_kueue
from gpukit.fleet import Fleet
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
    "KUEUE_V1BETA1_API",
    "KUEUE_V1BETA2_SINCE",
    "cluster_queues",
    "kueue_api",
    "kueue_needs",
    "kueue_objects",
    "local_queues",
    "platform_files",
    "quota_lines",
    "requires",
    "resource_flavors",
    "version_from_api",
]

Obj = dict[str, Any]

GROUP = "kueue.x-k8s.io"
#: Kueue's storage version in the CRDs gpukit targets (v0.19); every Kueue object uses it
#: unless the fleet says it runs an older Kueue (:func:`kueue_api`).
KUEUE_API = f"{GROUP}/v1beta2"
#: Kueue serves v1beta2 from 0.15 on; before, v1beta1, whose ClusterQueue names its cohort
#: ``cohort`` where v1beta2 says ``cohortName`` (kubernetes-sigs/kueue
#: config/components/crd/bases/kueue.x-k8s.io_clusterqueues.yaml, both versions served).
KUEUE_V1BETA2_SINCE = (0, 15)
KUEUE_V1BETA1_API = f"{GROUP}/v1beta1"


def kueue_api(fleet: Fleet) -> str:
    """The Kueue apiVersion to render for the fleet's Kueue: v1beta2 unless it runs < 0.15."""
    version = fleet.version("kueue")
    return KUEUE_V1BETA1_API if version is not None and version < KUEUE_V1BETA2_SINCE else KUEUE_API


def kueue_needs(fleet: Fleet) -> str:
    """What the Kueue objects need installed, for a file header."""
    api = kueue_api(fleet)
    if fleet.versions.get("kueue"):
        return f"Kueue {fleet.versions['kueue']} (as the fleet says; {api})"
    return f"Kueue 0.15 or later ({api})"


def version_from_api(served: list[str]) -> str | None:
    """A Kueue that serves no v1beta2 is older than 0.15: "0.14" (render v1beta1 for it).
    One that serves v1beta2 is 0.15 or later, which is what gpukit renders for anyway."""
    return None if "v1beta2" in served else "0.14"


def requires(obj: Obj) -> str | None:
    """The minimum Kueue an object needs, for the header of a written file."""
    if obj.get("apiVersion") == KUEUE_API:
        return f"Kueue 0.15 or later ({KUEUE_API})"
    return None


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
                "apiVersion": kueue_api(pp.fleet),
                "kind": "ResourceFlavor",
                "metadata": {"name": pool.name, "labels": managed_by()},
                "spec": spec,
            }
        )
    return flavors


def _quantity(resource: str, amount: int) -> int | str:
    return format_bytes(amount) if resource == "memory" else amount


def _pool_capacity(pp: PlatformPlan, pool: Any) -> dict[str, int]:
    """cpu, memory and GPUs; on DRA fleets the GPUs as Kueue counts DRA claims (gpukit.dra.kueue)."""
    res = pool_resources(pool)[0]
    if not pp.dra:
        return res
    return {"cpu": res["cpu"], "memory": res["memory"], **dra_kueue.pool_devices(pool, pp.fleet)}


def cluster_queues(pp: PlatformPlan) -> list[Obj]:
    """ClusterQueues with a quota for every resource the pools offer (MIG devices included;
    on DRA fleets the names Kueue's deviceClassMappings count, see :mod:`gpukit.dra.kueue`).

    One resource group: every flavor lists every covered resource in the same order (0
    where the pool has none), as Kueue requires. The pools' capacity is split evenly among
    the ClusterQueues, which share one cohort: each may borrow what the others leave idle,
    and gets its nominal quota back by preempting borrowers.
    """
    pools = pp.fleet.node_pools
    capacity = {pool.name: _pool_capacity(pp, pool) for pool in pools}
    gpu_names = sorted({r for c in capacity.values() for r in c if r not in ("cpu", "memory")})
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
        cohort_key = "cohort" if kueue_api(pp.fleet) == KUEUE_V1BETA1_API else "cohortName"
        queues.append(
            {
                "apiVersion": kueue_api(pp.fleet),
                "kind": "ClusterQueue",
                "metadata": {"name": name, "labels": managed_by()},
                "spec": {
                    cohort_key: pp.options.cohort,
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
            "apiVersion": kueue_api(pp.fleet),
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
    lines += dra_kueue.quota_note(pp)
    for pool in pp.fleet.node_pools:
        estimated = pool_resources(pool)[1]
        res = _pool_capacity(pp, pool)
        parts = [f"cpu {res['cpu']}", f"memory {format_bytes(res['memory'])}"]
        for resource, amount in res.items():
            if resource not in ("cpu", "memory"):
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
        *dra_kueue.config_files(pp),
        manifest_file(
            "manifests/30-kueue.yaml",
            "Kueue flavors, ClusterQueues and LocalQueues.",
            [
                "A ResourceFlavor per node pool, ClusterQueues with quotas, a LocalQueue per team namespace.",
                f"ClusterQueues share cohort {pp.options.cohort}: idle quota is borrowed, and reclaimed by preemption.",
                *quota_lines(pp),
            ],
            objects,
            needs=kueue_needs(pp.fleet),
        ),
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
    requires=requires,
    version_from_api=version_from_api,
)
