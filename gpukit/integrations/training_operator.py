"""Kubeflow training operator (v1): detection, its CRD and the PyTorchJob renderer."""

from __future__ import annotations

from typing import Any

from gpukit.advisor.plan import Plan
from gpukit.integrations._base import Detection, Integration, WireKind
from gpukit.integrations.nvidia_dra import claim_objects
from gpukit.manifests import meta
from gpukit.manifests.pods import nccl_env, pod_spec
from gpukit.manifests.scheduling import scheduling

__all__ = ["API", "INTEGRATION", "render_pytorchjob"]

Obj = dict[str, Any]

API = "kubeflow.org/v1"


def render_pytorchjob(plan: Plan) -> list[Obj]:
    """A Kubeflow PyTorchJob (training operator v1): one Master and workers-1 Workers.

    The operator sets MASTER_ADDR/PORT, WORLD_SIZE, RANK and torchrun's PET_* variables.
    """
    w = plan.workload
    sched = scheduling(plan)

    def replica(count: int) -> Obj:
        pod = pod_spec(plan, None, env=nccl_env(), container_name="pytorch", sched=sched)
        return {
            "replicas": count,
            "restartPolicy": "OnFailure",
            "template": {"metadata": meta.template_metadata(plan, sched), "spec": pod},
        }

    spec: Obj = {}
    if sched.kueue_queue:
        spec["runPolicy"] = {"suspend": True}  # Kueue unsuspends it on admission
    spec["nprocPerNode"] = str(plan.choice.gpus)
    spec["pytorchReplicaSpecs"] = {"Master": replica(1), "Worker": replica(w.workers - 1)}
    job = {
        "apiVersion": API,
        "kind": "PyTorchJob",
        "metadata": meta.metadata(plan, meta.object_labels(plan, sched)),
        "spec": spec,
    }
    return [*claim_objects(plan, meta.labels(plan)), job]


INTEGRATION = Integration(
    name="training-operator",
    title="Kubeflow training operator",
    installed="training_operator",
    detection=Detection(resources=(("kubeflow.org", "pytorchjobs"),)),
    crds=("pytorchjobs.kubeflow.org",),
    kinds=(WireKind(API, "PyTorchJob"),),
    renderers={"PyTorchJob": render_pytorchjob},
    lint_kinds=(WireKind(API, "PyTorchJob"),),
)
