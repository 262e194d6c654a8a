"""Kubeflow Trainer v2: detection, its CRDs, what a TrainJob can carry, the TrainJob renderer."""

from __future__ import annotations

from typing import Any

from gpukit.advisor.plan import Plan
from gpukit.integrations._base import Detection, Integration, WireKind
from gpukit.manifests import meta
from gpukit.manifests.pods import container, nccl_env, node_selector, resources, tolerations
from gpukit.manifests.scheduling import scheduling

__all__ = [
    "API",
    "GROUP",
    "INTEGRATION",
    "PATCH_MANAGER",
    "REQUIRES",
    "TRAINER_CONTAINER",
    "TRAINER_JOB",
    "TRAINER_MINIMUM",
    "TRAINING_RUNTIME",
    "render_trainjob",
    "requires",
    "trainjob_blocker",
]

Obj = dict[str, Any]

GROUP = "trainer.kubeflow.org"
API = f"{GROUP}/v1alpha1"
#: The Kubeflow Trainer v2 runtime a TrainJob runs on, and its trainer step's names.
TRAINING_RUNTIME = "torch-distributed"
TRAINER_JOB = "node"
TRAINER_CONTAINER = "node"
#: Who owns gpukit's entry in a TrainJob's runtimePatches.
PATCH_MANAGER = "gpukit.io/render"
#: TrainJob ``runtimePatches`` and ``numProcPerNode`` as an integer came with Trainer 2.2;
#: earlier releases take neither, and gpukit renders no other form of a TrainJob.
TRAINER_MINIMUM = (2, 2)
REQUIRES = "Kubeflow Trainer 2.2 or later (TrainJob runtimePatches, integer numProcPerNode)"


def requires(obj: Obj) -> str | None:
    """The minimum Trainer a rendered TrainJob needs, for the header of a written file."""
    if obj.get("apiVersion") == API and obj.get("kind") == "TrainJob":
        return REQUIRES
    return None


def trainjob_blocker(plan: Plan) -> str | None:
    """What a Trainer v2 TrainJob cannot carry for this plan, or None when it can carry all.

    A fleet that runs Trainer older than 2.2 cannot take the TrainJob gpukit renders.
    A TrainJob reaches its pods only through ``runtimePatches``, which allow node selector,
    tolerations, volumes and labels, but not ``schedulerName``, ``priorityClassName`` or
    pod-level ``resourceClaims``.
    """
    sched = scheduling(plan)
    version = plan.fleet.version("trainer")
    if version is not None and version < TRAINER_MINIMUM:
        return (
            f"Kubeflow Trainer {plan.fleet.versions['trainer']} (the fleet's; a TrainJob with "
            "runtimePatches and an integer numProcPerNode needs Trainer 2.2 or later)"
        )
    if plan.fleet.installed.dra:
        return "DRA resource claims (pod resourceClaims cannot be patched into a TrainJob)"
    if sched.scheduler_name:
        return f"schedulerName {sched.scheduler_name} (a TrainJob's runtime decides the scheduler)"
    if sched.priority_class and not sched.kueue_queue:
        return "a pod priority class (only Kueue's priority label reaches a TrainJob)"
    return None


def render_trainjob(plan: Plan) -> list[Obj]:
    """A Kubeflow Trainer v2 TrainJob on the ``torch-distributed`` ClusterTrainingRuntime.

    Trainer injects torchrun's PET_* variables. GPUs go in ``resourcesPerNode``; node
    selection, tolerations and /dev/shm reach the pods through one ``runtimePatches`` entry.
    """
    w = plan.workload
    sched = scheduling(plan)
    node_resources = resources(plan)
    trainer: Obj = {"numNodes": w.workers, "numProcPerNode": plan.choice.gpus, "image": w.image}
    if w.command:
        trainer["command"] = list(w.command)
    trainer["env"] = nccl_env()
    trainer["resourcesPerNode"] = node_resources
    pod: Obj = {"nodeSelector": node_selector(plan), "tolerations": tolerations(plan.pool)}
    main = container(plan, TRAINER_CONTAINER)
    if "volumeMounts" in main:
        pod["containers"] = [{"name": TRAINER_CONTAINER, "volumeMounts": main["volumeMounts"]}]
        pod["volumes"] = [{"name": "dshm", "emptyDir": {"medium": "Memory"}}]
    patch = {
        "manager": PATCH_MANAGER,
        "trainingRuntimeSpec": {
            "template": {
                "spec": {
                    "replicatedJobs": [
                        {
                            "name": TRAINER_JOB,
                            "template": {
                                "spec": {
                                    "template": {
                                        "metadata": {
                                            "labels": {**meta.labels(plan), **sched.pod_labels()}
                                        },
                                        "spec": pod,
                                    }
                                }
                            },
                        }
                    ]
                }
            }
        },
    }
    spec: Obj = {
        "runtimeRef": {
            "apiGroup": GROUP,
            "kind": "ClusterTrainingRuntime",
            "name": TRAINING_RUNTIME,
        }
    }
    if sched.kueue_queue:
        spec["suspend"] = True  # Kueue admits the TrainJob by setting it to false
    spec["trainer"] = trainer
    spec["runtimePatches"] = [patch]
    return [
        {
            "apiVersion": API,
            "kind": "TrainJob",
            "metadata": meta.metadata(plan, meta.object_labels(plan, sched)),
            "spec": spec,
        }
    ]


INTEGRATION = Integration(
    name="trainer",
    title="Kubeflow Trainer",
    installed="kubeflow_trainer",
    detection=Detection(resources=((GROUP, "trainjobs"),)),
    crds=tuple(
        f"{plural}.{GROUP}"
        for plural in ("clustertrainingruntimes", "trainingruntimes", "trainjobs")
    ),
    kinds=(WireKind(API, "TrainJob"),),
    renderers={"TrainJob": render_trainjob},
    requires=requires,
    lint_kinds=tuple(
        WireKind(API, kind) for kind in ("ClusterTrainingRuntime", "TrainingRuntime", "TrainJob")
    ),
)
