"""KAI scheduler: detection, its CRDs and its Queues (one parent holding the fleet's GPUs, one per team).

Workloads reach KAI through its schedulerName and queue label (``gpukit.vocab``), set by
``gpukit.manifests.scheduling``; KAI groups a Job's pods itself.
"""

from __future__ import annotations

from typing import Any

from gpukit.integrations._base import Detection, Integration, WireKind
from gpukit.platform.files import PlatformFile, manifest_file
from gpukit.platform.model import PlatformPlan, split
from gpukit.topology.render import KAI_TOPOLOGY_API, kai_topology
from gpukit.vocab import KAI_DEFAULT_QUEUE, KAI_QUEUE_LABEL, managed_by

__all__ = ["API", "GROUP", "INTEGRATION", "KAI_PARENT_QUEUE", "kai_queues", "platform_files"]

Obj = dict[str, Any]

GROUP = "scheduling.run.ai"
API = f"{GROUP}/v2"

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
        "apiVersion": API,
        "kind": "Queue",
        "metadata": {"name": KAI_PARENT_QUEUE, "labels": managed_by()},
        "spec": {"resources": resources(total_gpus)},
    }
    children = [
        {
            "apiVersion": API,
            "kind": "Queue",
            "metadata": {"name": name, "labels": managed_by()},
            "spec": {
                "parentQueue": KAI_PARENT_QUEUE,
                "resources": resources(split(total_gpus, len(pp.kai_queues), index)),
            },
        }
        for index, name in enumerate(pp.kai_queues)
    ]
    return [parent, *children]


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
    return [
        manifest_file(
            "manifests/45-kai-queues.yaml",
            "KAI scheduler Queues.",
            [
                "One parent queue holding the fleet's GPUs, one queue per team.",
                f"Workload pods name their queue in the {KAI_QUEUE_LABEL} label; pods of no",
                f"team use KAI's own {KAI_DEFAULT_QUEUE}, which gpukit leaves alone.",
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
)
