"""KAI scheduler: detection, its CRDs and its Queues (one parent holding the GPUs KAI counts, one per queue a plan names).

Workloads reach KAI through its schedulerName and queue label (``gpukit.vocab``), set by
``gpukit.manifests.scheduling``; KAI groups a Job's pods itself. Pods of a pool with
``kai_fractions`` share GPUs through KAI's ``gpu-fraction`` annotation
(``gpukit.advisor.mechanisms.kai_fraction``; the pod side in ``gpukit.manifests.meta``).

What the queues rest on (KAI-Scheduler docs/priority/README.md): a priority class of value
100 or more is non-preemptible and "can only consume in-quota resources"; a Deployment with
no priority class gets ``inference`` (125), other workloads ``train`` (50, preemptible). KAI's
quick-start ``default-queue`` has GPU quota 0 (docs/quickstart/default-queues.yaml), so
gpukit sends work of no team to its own :data:`~gpukit.vocab.KAI_GPUKIT_QUEUE` and gives
every queue at least the GPUs its non-preemptible workloads ask for. KAI's ``gpu`` quota
counts ``nvidia.com/gpu`` and its own fractions, not ``nvidia.com/gpu.shared`` nor MIG
devices: pools shared that way add nothing to the quota (:func:`kai_counted_gpus`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gpukit.integrations._base import Detection, Integration, WireKind
from gpukit.platform.files import PlatformFile, manifest_file
from gpukit.platform.model import PlatformPlan, pool_resources, split
from gpukit.topology.render import KAI_TOPOLOGY_API, kai_topology
from gpukit.vocab import GPU, KAI_DEFAULT_QUEUE, KAI_GPUKIT_QUEUE, KAI_QUEUE_LABEL, managed_by

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor.plan import Plan
    from gpukit.fleet import NodePool

__all__ = [
    "API",
    "GROUP",
    "INTEGRATION",
    "KAI_NON_PREEMPTIBLE_FROM",
    "KAI_PARENT_QUEUE",
    "in_quota_gpus",
    "kai_counted_gpus",
    "kai_queue_quotas",
    "kai_queues",
    "kai_warnings",
    "non_preemptible",
    "platform_files",
]

Obj = dict[str, Any]

GROUP = "scheduling.run.ai"
API = f"{GROUP}/v2"

KAI_PARENT_QUEUE = "gpukit"
#: KAI treats a priority class of this value or more as non-preemptible (in quota only).
KAI_NON_PREEMPTIBLE_FROM = 100


def kai_counted_gpus(pool: NodePool) -> int:
    """GPUs of ``pool`` that KAI's ``gpu`` quota counts: what its nodes advertise as
    ``nvidia.com/gpu`` (whole GPUs, which KAI fractions are of; single-strategy MIG devices and
    unrenamed time-slicing replicas are advertised under that name too)."""
    return pool_resources(pool)[0].get(GPU, 0)


def non_preemptible(plan: Plan) -> bool:
    """Whether KAI runs the plan's pods in quota only: gpukit's priority classes are below
    100 only for preemptible work, and KAI gives serving (a Deployment) ``inference``."""
    from gpukit.manifests.scheduling import PRIORITY_CLASSES

    if plan.priority_class is not None:
        value = next((pc.value for pc in PRIORITY_CLASSES if pc.name == plan.priority_class), 0)
        return value >= KAI_NON_PREEMPTIBLE_FROM
    return plan.workload.kind == "inference"


def in_quota_gpus(plan: Plan) -> float:
    """GPUs KAI counts for all of the plan's pods at once (fractions as fractions)."""
    choice = plan.choice
    if choice.resource_name != GPU:
        return 0.0  # nvidia.com/gpu.shared and MIG devices: KAI's quota does not see them
    per_pod = choice.gpu_share if choice.sharing == "kai-fraction" else choice.gpus
    return per_pod * plan.pods


def _queue_of(plan: Plan) -> str | None:
    from gpukit.manifests.scheduling import scheduling

    return scheduling(plan).kai_queue


def kai_queue_quotas(pp: PlatformPlan) -> tuple[int, dict[str, int], dict[str, float]]:
    """(GPUs KAI counts in the fleet, queue -> GPU quota, queue -> non-preemptible demand).

    Each queue first gets the GPUs its non-preemptible workloads ask for (rounded up: KAI
    places those in quota only), then the rest is split evenly; borrowing idle GPUs beyond
    the quota stays open to preemptible work."""
    total = sum(kai_counted_gpus(pool) for pool in pp.fleet.node_pools)
    demand = {name: 0.0 for name in pp.kai_queues}
    for plan in pp.plans:
        queue = _queue_of(plan) if plan.scheduler == "kai" else None
        if queue in demand and non_preemptible(plan):
            demand[queue] += in_quota_gpus(plan)
    reserved = {name: math.ceil(d - 1e-9) for name, d in demand.items()}
    rest = max(0, total - sum(reserved.values()))
    quotas = {
        name: reserved[name] + split(rest, len(pp.kai_queues), index)
        for index, name in enumerate(pp.kai_queues)
    }
    return total, quotas, demand


def kai_warnings(pp: PlatformPlan) -> list[str]:
    """Non-preemptible KAI work that no quota can hold, and plans on KAI's zero-quota queue."""
    if not pp.fleet.installed.kai:
        return []
    out = []
    total, _, demand = kai_queue_quotas(pp)
    wanted = sum(demand.values())
    if wanted > total:
        out.append(
            f"KAI: non-preemptible work (serving) asks for {wanted:g} GPUs in quota but KAI "
            f"counts {total} in the fleet; some of it stays Pending (KAI runs it in quota "
            "only): add whole-GPU capacity, or mark work preemptible"
        )
    on_default = sorted(
        p.name
        for p in pp.plans
        if p.scheduler == "kai" and _queue_of(p) == KAI_DEFAULT_QUEUE and non_preemptible(p)
    )
    if on_default:
        out.append(
            f"KAI: {', '.join(on_default)} name KAI's {KAI_DEFAULT_QUEUE}, whose GPU quota is 0, "
            "but are non-preemptible (in quota only): they never schedule; name a team queue "
            f"or none (gpukit's {KAI_GPUKIT_QUEUE} has quota)"
        )
    return out


def kai_queues(pp: PlatformPlan) -> list[Obj]:
    """KAI Queues the planned workloads name, under one parent that owns the GPUs KAI counts.

    Each queue is guaranteed its quota (:func:`kai_queue_quotas`) and may use idle GPUs beyond
    it (no limit, equal over-quota weight); CPU and memory are not guaranteed.
    """
    if not pp.kai_queues:
        return []
    total, quotas, _ = kai_queue_quotas(pp)

    def resources(gpu_quota: int) -> Obj:
        unlimited = {"quota": 0, "limit": -1, "overQuotaWeight": 1}
        return {
            "cpu": dict(unlimited),
            "gpu": {"quota": gpu_quota, "limit": -1, "overQuotaWeight": 1},
            "memory": dict(unlimited),
        }

    parent = {
        "apiVersion": API,
        "kind": "Queue",
        "metadata": {"name": KAI_PARENT_QUEUE, "labels": managed_by()},
        "spec": {"resources": resources(max(total, sum(quotas.values())))},
    }
    children = [
        {
            "apiVersion": API,
            "kind": "Queue",
            "metadata": {"name": name, "labels": managed_by()},
            "spec": {"parentQueue": KAI_PARENT_QUEUE, "resources": resources(quotas[name])},
        }
        for name in pp.kai_queues
    ]
    return [parent, *children]


def _uncounted_lines(pp: PlatformPlan) -> list[str]:
    pools = [p.name for p in pp.fleet.node_pools if kai_counted_gpus(p) == 0]
    if not pools:
        return []
    return [
        f"Pool(s) {', '.join(pools)} add no GPU quota: KAI counts nvidia.com/gpu and its own",
        "fractions, not nvidia.com/gpu.shared or MIG devices (set kai_fractions to share",
        "GPUs the way KAI counts).",
    ]


def platform_files(pp: PlatformPlan) -> list[PlatformFile]:
    return [*_queue_files(pp), *_topology_files(pp)]


def _topology_files(pp: PlatformPlan) -> list[PlatformFile]:
    objects = kai_topology(pp.fleet) if pp.fleet.installed.kai else []
    if not objects:
        return []
    return [
        manifest_file(
            "manifests/46-kai-topology.yaml",
            "KAI Topology: the fleet's network levels (gpukit.topology).",
            ["Workloads name it and a level in their kai.scheduler/topology* annotations."],
            objects,
            needs="the KAI scheduler",
        )
    ]


def _queue_files(pp: PlatformPlan) -> list[PlatformFile]:
    objects = kai_queues(pp)
    if not objects:
        return []
    _, _, demand = kai_queue_quotas(pp)
    served = [f"{name} {d:g}" for name, d in demand.items() if d]
    return [
        manifest_file(
            "manifests/45-kai-queues.yaml",
            "KAI scheduler Queues.",
            [
                "One parent queue holding the GPUs KAI counts, one queue per team;",
                f"work of no team goes to {KAI_GPUKIT_QUEUE}. Workload pods name their queue",
                f"in the {KAI_QUEUE_LABEL} label. KAI's own {KAI_DEFAULT_QUEUE} (GPU quota 0)",
                "is left alone: KAI runs non-preemptible work (a Deployment) in quota only.",
                *(
                    ["Quota first covers non-preemptible GPUs: " + ", ".join(served) + "."]
                    if served
                    else []
                ),
                *_uncounted_lines(pp),
            ],
            objects,
            needs="the KAI scheduler",
        )
    ]


INTEGRATION = Integration(
    name="kai",
    title="KAI scheduler",
    installed="kai",
    detection=Detection(groups=(GROUP,)),
    crds=(f"podgroups.{GROUP}", f"queues.{GROUP}", "topologies.kai.scheduler"),
    kinds=(WireKind(API, "Queue"), WireKind(KAI_TOPOLOGY_API, "Topology")),
    platform=platform_files,
    platform_warnings=kai_warnings,
)
