"""Volcano: detection, its CRDs, the Volcano Job renderer, PodGroups for plain pods, its Queues."""

from __future__ import annotations

from typing import Any

from gpukit.advisor.plan import Plan
from gpukit.integrations._base import Detection, Integration, WireKind
from gpukit.integrations.nvidia_dra import claim_objects
from gpukit.manifests import meta
from gpukit.manifests.pods import RENDEZVOUS_PORT, pod_spec, torchrun_env
from gpukit.manifests.scheduling import Scheduling, scheduling
from gpukit.platform.files import PlatformFile, manifest_file
from gpukit.platform.model import PlatformPlan
from gpukit.topology.render import VOLCANO_TOPOLOGY_API, volcano_hypernodes
from gpukit.vocab import VOLCANO_SCHEDULER, managed_by

__all__ = [
    "BATCH_API",
    "INTEGRATION",
    "SCHEDULING_API",
    "platform_files",
    "render_volcano_job",
    "volcano_podgroup",
    "volcano_queues",
]

Obj = dict[str, Any]

BATCH_API = "batch.volcano.sh/v1alpha1"
SCHEDULING_API = "scheduling.volcano.sh/v1beta1"


def render_volcano_job(plan: Plan) -> list[Obj]:
    """A Volcano Job: master and worker tasks started as one gang.

    Volcano's pytorch plugin sets only MASTER_ADDR/PORT, WORLD_SIZE and RANK, which torchrun
    does not read, so every task also carries torchrun's PET_* settings, meeting at the
    master pod's stable name (svc plugin: <job>-<task>-<index>.<job>).
    """
    w = plan.workload
    sched = scheduling(plan)
    labels = meta.labels(plan)
    env = torchrun_env(plan, f"{w.name}-master-0.{w.name}", master_env=False)

    def task(name: str, replicas: int) -> Obj:
        # The Job's schedulerName reaches every pod; the priority class is set on the pods
        # too, so kube-level preemption sees it whatever the Volcano version copies.
        pod = pod_spec(
            plan,
            "OnFailure",
            env=env,
            container_name=name,
            sched=Scheduling(None, None, None, None, sched.priority_class),
        )
        return {
            "name": name,
            "replicas": replicas,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        }

    master = task("master", 1)
    master["policies"] = [{"event": "TaskCompleted", "action": "CompleteJob"}]
    tasks = [master]
    if w.workers > 1:
        tasks.append(task("worker", w.workers - 1))
    spec: Obj = {
        "minAvailable": w.workers,
        "schedulerName": VOLCANO_SCHEDULER,
        "queue": sched.volcano_queue,
    }
    if sched.priority_class:
        spec["priorityClassName"] = sched.priority_class
    spec.update(
        maxRetry=3,
        policies=[{"event": "PodEvicted", "action": "RestartJob"}],
        plugins={
            # pytorch: MASTER_ADDR/PORT, WORLD_SIZE, RANK per pod; env: task index;
            # svc: a headless Service and stable pod host names, published before the pods
            # are Ready, since ranks resolve the master while they all start.
            "pytorch": ["--master=master", "--worker=worker", f"--port={RENDEZVOUS_PORT}"],
            "env": [],
            "svc": ["--publish-not-ready-addresses=true"],
        },
        tasks=tasks,
    )
    job = {
        "apiVersion": BATCH_API,
        "kind": "Job",
        "metadata": meta.metadata(plan, labels),
        "spec": spec,
    }
    return [*claim_objects(plan, labels), job]


def volcano_podgroup(
    plan: Plan, sched: Scheduling, members: int, labels: dict[str, str]
) -> dict[str, Any]:
    """A Volcano PodGroup for plain pods: all ``members`` pods are placed together or none."""
    spec: dict[str, Any] = {"minMember": members, "queue": sched.volcano_queue}
    if sched.priority_class:
        spec["priorityClassName"] = sched.priority_class
    return {
        "apiVersion": SCHEDULING_API,
        "kind": "PodGroup",
        "metadata": {"name": plan.name, "namespace": plan.namespace, "labels": labels},
        "spec": spec,
    }


def volcano_queues(pp: PlatformPlan) -> list[Obj]:
    """Volcano Queues the fleet names or the planned gang jobs use (``default`` exists already).

    Equal weights; reclaimable, so a queue's idle share lent to others comes back."""
    return [
        {
            "apiVersion": SCHEDULING_API,
            "kind": "Queue",
            "metadata": {"name": name, "labels": managed_by()},
            "spec": {"weight": 1, "reclaimable": True},
        }
        for name in pp.volcano_queues
    ]


def platform_files(pp: PlatformPlan) -> list[PlatformFile]:
    if not pp.fleet.installed.volcano:
        return []
    return [*_queue_files(pp), *_hypernode_files(pp)]


def _hypernode_files(pp: PlatformPlan) -> list[PlatformFile]:
    hypernodes = volcano_hypernodes(pp.fleet)
    if not hypernodes:
        return []
    return [
        manifest_file(
            "manifests/41-volcano-hypernodes.yaml",
            "Volcano HyperNodes: the fleet's network topology (gpukit.topology).",
            [
                "Tier 1 selects the nodes of one domain by its node label; each higher tier",
                "holds the HyperNodes below it. Jobs name a tier in spec.networkTopology.",
            ],
            hypernodes,
            needs="Volcano",
        )
    ]


def _queue_files(pp: PlatformPlan) -> list[PlatformFile]:
    if not pp.volcano_queues:
        return []
    return [
        manifest_file(
            "manifests/40-volcano-queues.yaml",
            "Volcano Queues.",
            [
                "The queues the fleet names or gang jobs use (Volcano creates 'default' itself).",
                "Equal weights; reclaimable, so a queue gets back what it lent.",
            ],
            volcano_queues(pp),
            needs="Volcano",
        )
    ]


INTEGRATION = Integration(
    name="volcano",
    title="Volcano",
    installed="volcano",
    detection=Detection(groups=("batch.volcano.sh", "scheduling.volcano.sh")),
    crds=(
        "jobs.batch.volcano.sh",
        "podgroups.scheduling.volcano.sh",
        "queues.scheduling.volcano.sh",
        "hypernodes.topology.volcano.sh",
    ),
    kinds=(
        WireKind(BATCH_API, "Job"),
        WireKind(SCHEDULING_API, "PodGroup"),
        WireKind(SCHEDULING_API, "Queue"),
        WireKind(VOLCANO_TOPOLOGY_API, "HyperNode"),
    ),
    renderers={"VolcanoJob": render_volcano_job},
    lint_kinds=(WireKind(BATCH_API, "Job"),),
    platform=platform_files,
)
