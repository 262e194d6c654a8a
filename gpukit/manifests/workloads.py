"""Workload manifests from a Plan: the core kinds (Pod, Deployment, Job) rendered here, the
others by the integration that registers them; the kind is chosen by kinds.object_kind."""

from __future__ import annotations

from typing import Any

from gpukit import integrations
from gpukit.advisor.plan import Plan
from gpukit.errors import GpukitError
from gpukit.integrations import Renderer
from gpukit.integrations.jobset import render_jobset
from gpukit.integrations.lws import render_leaderworkerset
from gpukit.integrations.nvidia_dra import claim_objects
from gpukit.integrations.trainer import (
    PATCH_MANAGER,
    TRAINER_CONTAINER,
    TRAINER_JOB,
    TRAINING_RUNTIME,
    render_trainjob,
)
from gpukit.integrations.training_operator import render_pytorchjob
from gpukit.integrations.volcano import render_volcano_job, volcano_podgroup
from gpukit.manifests import meta
from gpukit.manifests.kinds import object_kind
from gpukit.manifests.order import apply_order
from gpukit.manifests.pods import container, node_selector, pod_spec, torchrun_env
from gpukit.manifests.scheduling import Scheduling, scheduling
from gpukit.vocab import (
    APP_NAME_LABEL,
    INDEXED_JOB_NAME_LABEL,
    LWS_NAME_LABEL,
    VOLCANO_QUEUE_ANNOTATION,
)

__all__ = [
    "CORE_RENDERERS",
    "LWS_NAME_LABEL",
    "PATCH_MANAGER",
    "TRAINER_CONTAINER",
    "TRAINER_JOB",
    "TRAINING_RUNTIME",
    "VOLCANO_QUEUE_ANNOTATION",
    "container",
    "node_selector",
    "pod_spec",
    "render_deployment",
    "render_job",
    "render_jobset",
    "render_leaderworkerset",
    "render_pod",
    "render_pytorchjob",
    "render_trainjob",
    "render_volcano_job",
    "render_workload",
    "renderer",
]
# The JobSet, LWS, PyTorchJob, TrainJob and Volcano Job renderers and their constants live
# in their integrations (gpukit.integrations.*); imported here for one release.

Obj = dict[str, Any]


def _side_objects(plan: Plan, sched: Scheduling, members: int) -> list[Obj]:
    """Objects a plain-pod workload needs beside it: its DRA claim and its Volcano PodGroup."""
    objects = claim_objects(plan, meta.labels(plan))
    if sched.volcano:
        objects.append(volcano_podgroup(plan, sched, members, meta.labels(plan)))
    return objects


# -- plain pods ------------------------------------------------------------------------------


def render_pod(plan: Plan) -> list[Obj]:
    """A single Pod: notebooks and dev shells."""
    sched = scheduling(plan)
    template = meta.template_metadata(plan, sched)
    metadata = meta.metadata(plan, {**template["labels"], **sched.object_labels()})
    if "annotations" in template:
        metadata["annotations"] = template["annotations"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": pod_spec(plan, "Never" if plan.workload.kind == "ci" else "Always", sched=sched),
    }
    return [*_side_objects(plan, sched, 1), pod]


def render_deployment(plan: Plan) -> list[Obj]:
    """Online inference: a Deployment of identical replicas behind a ClusterIP Service."""
    sched = scheduling(plan)
    selector = {APP_NAME_LABEL: plan.name}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta.metadata(plan, meta.object_labels(plan, sched)),
        "spec": {
            "replicas": plan.workload.replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": meta.template_metadata(plan, sched),
                "spec": pod_spec(plan, None, sched=sched),
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta.metadata(plan, meta.labels(plan)),
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    return [*_side_objects(plan, sched, plan.workload.replicas), service, deployment]


def render_job(plan: Plan) -> list[Obj]:
    """batch/v1 Job; several workers become an Indexed Job with a headless Service."""
    w = plan.workload
    sched = scheduling(plan)
    pods = w.workers if w.is_distributed else w.replicas
    spec: Obj = {}
    if sched.kueue_queue:
        spec["suspend"] = True  # Kueue unsuspends the Job when it admits it
    spec.update(parallelism=pods, completions=pods, backoffLimit=0 if w.is_distributed else 3)
    objects = _side_objects(plan, sched, pods)
    env = None
    extra: Obj = {}
    if w.is_distributed:
        spec["completionMode"] = "Indexed"
        # Indexed Job pod host names: <job>-<completion index>, under the subdomain.
        env = torchrun_env(plan, f"{w.name}-0.{w.name}")
        extra["subdomain"] = w.name
        objects.append(meta.headless_service(plan, {INDEXED_JOB_NAME_LABEL: w.name}))
    pod = pod_spec(
        plan, "Never" if w.is_distributed else "OnFailure", env=env, sched=sched, extra=extra
    )
    spec["template"] = {"metadata": meta.template_metadata(plan, sched), "spec": pod}
    objects.append(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": meta.metadata(plan, meta.object_labels(plan, sched)),
            "spec": spec,
        }
    )
    return objects


#: The kinds every cluster runs without an integration.
CORE_RENDERERS: dict[str, Renderer] = {
    "Pod": render_pod,
    "Deployment": render_deployment,
    "Job": render_job,
}


def renderer(kind: str) -> Renderer:
    """The renderer of object kind ``kind``: a core one, or the integration's that registers it."""
    found = CORE_RENDERERS.get(kind) or integrations.renderer_for(kind)
    if found is None:
        raise GpukitError(f"no renderer for object kind {kind!r}; register an integration for it")
    return found


def render_workload(plan: Plan) -> list[Obj]:
    """The objects that run the planned workload, in apply order."""
    from gpukit.serving import engine_kind  # serving a named model: the engine's renderer
    from gpukit.topology.render import apply as with_topology

    kind = engine_kind(plan, object_kind(plan))
    return apply_order(with_topology(plan, renderer(kind)(plan)))
