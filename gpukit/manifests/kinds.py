"""Which Kubernetes object runs a plan: the one rule, written down in one function."""

from __future__ import annotations

from typing import Literal

from gpukit.advisor.plan import Plan
from gpukit.advisor.serving import lws_missing, runs_as_leader_worker_set
from gpukit.errors import FleetError
from gpukit.integrations.trainer import trainjob_blocker

__all__ = ["ObjectKind", "object_kind", "trainjob_blocker"]

ObjectKind = Literal[
    "Pod",
    "Deployment",
    "Job",
    "VolcanoJob",
    "PyTorchJob",
    "TrainJob",
    "JobSet",
    "LeaderWorkerSet",
    # Serving a named model (gpukit.serving.engine_kind): the engine's renderer of the kind.
    "Deployment[vllm]",
    "Deployment[sglang]",
    "LeaderWorkerSet[vllm]",
    "LeaderWorkerSet[sglang]",
    "InferenceService",
    "LLMInferenceService",
]


def object_kind(plan: Plan) -> ObjectKind:
    """The object that runs the plan. The rule, first match wins:

    1. Serving (``inference``): several workers per replica (one model across nodes) is a
       ``LeaderWorkerSet`` (needs LWS installed); otherwise a ``Deployment`` + ``Service``.
    2. ``interactive``: a ``Pod`` (a notebook or dev shell; nothing to restart or scale).
    3. Multi-worker training (``training``/``fine-tuning`` with workers > 1):
       a. the plan chose Volcano: a Volcano ``Job`` (gang, PyTorch plugin);
       b. Kubeflow Trainer v2 installed and a TrainJob can carry the plan
          (:func:`trainjob_blocker`): a ``TrainJob`` on the ``torch-distributed`` runtime;
       c. the Kubeflow training operator installed: a ``PyTorchJob``;
       d. JobSet installed: a ``JobSet`` of one Indexed Job;
       e. else an Indexed batch ``Job`` with a headless Service for the rendezvous.
    4. Everything else (single-worker training, batch inference, CI): a batch ``Job``.

    Trainer v2 comes before the v1 operator because it is its successor; both come before a
    bare JobSet because they set up the PyTorch rendezvous themselves.
    """
    w, installed = plan.workload, plan.fleet.installed
    if runs_as_leader_worker_set(w.kind, w.workers):
        # plan() rejects these options on a fleet without LWS; a plan built around it stops here.
        if lws_missing(w.kind, w.workers, installed):
            raise FleetError(
                f"{w.name}: serving one model across {w.workers} nodes needs a "
                "LeaderWorkerSet, but the fleet says LWS is not installed; install LWS "
                "and set installed.lws: true, or serve on one node (workers: 1)"
            )
        return "LeaderWorkerSet"
    if w.kind == "inference":
        return "Deployment"
    if w.kind == "interactive":
        return "Pod"
    if w.is_training and w.is_distributed:
        if plan.scheduler == "volcano":
            return "VolcanoJob"
        if installed.kubeflow_trainer and trainjob_blocker(plan) is None:
            return "TrainJob"
        if installed.training_operator:
            return "PyTorchJob"
        if installed.jobset:
            return "JobSet"
    return "Job"
