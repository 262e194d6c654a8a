"""Object metadata every renderer shares: gpukit's labels, names, template metadata, headless Services."""

from __future__ import annotations

from typing import Any

from gpukit.advisor.mechanisms.kai_fraction import fraction_text
from gpukit.advisor.plan import Plan
from gpukit.manifests.pods import RENDEZVOUS_PORT
from gpukit.manifests.scheduling import Scheduling
from gpukit.vocab import (
    APP_NAME_LABEL,
    GPUKIT,
    GPUKIT_SHARING_LABEL,
    KAI_GPU_FRACTION_ANNOTATION,
    MANAGED_BY_LABEL,
    VOLCANO_GROUP_ANNOTATION,
)

__all__ = [
    "headless_service",
    "labels",
    "metadata",
    "object_labels",
    "pod_annotations",
    "template_metadata",
]

Obj = dict[str, Any]


def labels(plan: Plan) -> dict[str, str]:
    """The labels on every object gpukit renders for ``plan``."""
    return {
        APP_NAME_LABEL: plan.name,
        MANAGED_BY_LABEL: GPUKIT,
        GPUKIT_SHARING_LABEL: plan.sharing,
    }


def metadata(plan: Plan, object_labels: dict[str, str], name: str | None = None) -> Obj:
    return {"name": name or plan.name, "namespace": plan.namespace, "labels": object_labels}


def object_labels(plan: Plan, sched: Scheduling) -> dict[str, str]:
    """Labels of the object a queueing system admits: gpukit's plus the queue's."""
    return {**labels(plan), **sched.object_labels()}


def template_metadata(plan: Plan, sched: Scheduling, extra: dict[str, str] | None = None) -> Obj:
    """A pod template's metadata: gpukit's labels, the scheduler's pod labels, Volcano's group."""
    meta: Obj = {"labels": {**labels(plan), **sched.pod_labels(), **(extra or {})}}
    annotations = pod_annotations(plan)
    if sched.volcano:
        # Plain pods join the PodGroup rendered beside them (Volcano Jobs make their own).
        annotations[VOLCANO_GROUP_ANNOTATION] = plan.name
    if annotations:
        meta["annotations"] = annotations
    return meta


def pod_annotations(plan: Plan) -> dict[str, str]:
    """Annotations the plan's choice puts on every pod: KAI's gpu-fraction for a KAI share."""
    if plan.choice.sharing != "kai-fraction":
        return {}
    return {KAI_GPU_FRACTION_ANNOTATION: fraction_text(plan.choice.gpu_share)}


def headless_service(plan: Plan, selector: dict[str, str]) -> Obj:
    """A headless Service that gives a multi-node job's pods stable DNS for the rendezvous."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(plan, labels(plan)),
        "spec": {
            "clusterIP": "None",
            # Ranks resolve each other before they are Ready: no readiness gate on rendezvous.
            "publishNotReadyAddresses": True,
            "selector": selector,
            "ports": [{"name": "rendezvous", "port": RENDEZVOUS_PORT}],
        },
    }
