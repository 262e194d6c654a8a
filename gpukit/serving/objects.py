"""The objects that serve a model: the workload object gpukit renders for the plan with the
engine's pods, the model cache claim, and an HPA on the engine's queue when asked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpukit.manifests import meta
from gpukit.serving.pods import cache_claim_name, cache_size, engine, serve_pod

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor.plan import Plan

__all__ = ["QUEUE_TARGET", "autoscaler", "cache_claim", "serve_deployment", "serve_lws"]

Obj = dict[str, Any]

#: Requests waiting per replica the HPA holds the fleet to. Waiting requests are the engine's
#: own signal that its batch is full; GPU utilisation is not one (a busy GPU reads 100 %
#: while throughput per request falls).
QUEUE_TARGET = "5"


def _pods(plan: Plan) -> int:
    w = plan.workload
    return (
        w.replicas * w.workers
        if w.max_replicas is None
        else max(w.replicas, w.max_replicas) * w.workers
    )


def cache_claim(plan: Plan) -> list[Obj]:
    """The model cache PersistentVolumeClaim, unless the workload names an existing one.

    One pod mounts it: ReadWriteOnce. Several pods (replicas, a multi-node group) may run on
    different nodes, so they need ReadWriteMany (a storage class that serves it: NFS, CephFS,
    a cloud file store)."""
    given = plan.workload.model_cache
    if given is not None and not given[:1].isdigit():
        return []
    mode = "ReadWriteOnce" if _pods(plan) == 1 else "ReadWriteMany"
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": meta.metadata(plan, meta.labels(plan), cache_claim_name(plan)),
            "spec": {
                "accessModes": [mode],
                "resources": {"requests": {"storage": cache_size(plan)}},
            },
        }
    ]


def autoscaler(plan: Plan, kind: str, api_version: str) -> list[Obj]:
    """An autoscaling/v2 HPA on the engine's waiting-request gauge (a Pods custom metric,
    served by an adapter such as prometheus-adapter from the engine's /metrics), or none when
    max_replicas is not set above replicas."""
    w = plan.workload
    if w.max_replicas is None or w.max_replicas <= w.replicas:
        return []
    return [
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta.metadata(plan, meta.labels(plan)),
            "spec": {
                "scaleTargetRef": {"apiVersion": api_version, "kind": kind, "name": plan.name},
                "minReplicas": w.replicas,
                "maxReplicas": w.max_replicas,
                "metrics": [
                    {
                        "type": "Pods",
                        "pods": {
                            "metric": {"name": engine(plan).queue_metric},
                            "target": {"type": "AverageValue", "averageValue": QUEUE_TARGET},
                        },
                    }
                ],
                # A new replica loads the model for minutes: scale down slowly.
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 600}},
            },
        }
    ]


def serve_deployment(plan: Plan) -> list[Obj]:
    """A Deployment + Service (gpukit.manifests.workloads) running the engine, its cache, its HPA."""
    from gpukit.manifests.workloads import render_deployment

    objects = render_deployment(plan)
    for obj in objects:
        if obj["kind"] == "Deployment":
            serve_pod(plan, obj["spec"]["template"]["spec"])
    return [*cache_claim(plan), *objects, *autoscaler(plan, "Deployment", "apps/v1")]


def serve_lws(plan: Plan) -> list[Obj]:
    """A LeaderWorkerSet (gpukit.integrations.lws: gang-started groups, one Service on the
    leaders) whose leader serves and whose workers join it."""
    from gpukit.integrations.lws import API, render_leaderworkerset

    objects = render_leaderworkerset(plan)
    for obj in objects:
        if obj["kind"] == "LeaderWorkerSet":
            group = obj["spec"]["leaderWorkerTemplate"]
            serve_pod(plan, group["leaderTemplate"]["spec"], "leader")
            serve_pod(plan, group["workerTemplate"]["spec"], "worker")
    return [*cache_claim(plan), *objects, *autoscaler(plan, "LeaderWorkerSet", API)]
