"""LeaderWorkerSet: detection, its CRD and the multi-node serving renderer."""

from __future__ import annotations

from typing import Any

from gpukit.advisor.plan import Plan
from gpukit.integrations._base import Detection, Integration, WireKind
from gpukit.integrations.nvidia_dra import claim_objects
from gpukit.manifests import meta
from gpukit.manifests.pods import SERVING_PORT, nccl_env, pod_spec
from gpukit.manifests.scheduling import scheduling
from gpukit.vocab import LWS_NAME_LABEL, VOLCANO_QUEUE_ANNOTATION

__all__ = ["API", "INTEGRATION", "render_leaderworkerset"]

Obj = dict[str, Any]

API = "leaderworkerset.x-k8s.io/v1"


def render_leaderworkerset(plan: Plan) -> list[Obj]:
    """Multi-node serving: a LeaderWorkerSet (one leader + workers-1 workers per replica)
    and a Service in front of the leaders. LWS injects LWS_LEADER_ADDRESS and
    LWS_GROUP_SIZE for the serving runtime (vLLM, SGLang, ...) to form its group."""
    w = plan.workload
    sched = scheduling(plan)
    leader_meta = meta.template_metadata(plan, sched, {"role": "leader"})
    worker_meta = meta.template_metadata(plan, sched, {"role": "worker"})
    for template in (leader_meta, worker_meta):
        template.pop("annotations", None)  # LWS makes one PodGroup per group itself
    metadata = meta.metadata(plan, meta.object_labels(plan, sched))
    if sched.volcano:
        # The PodGroups LWS creates take their queue from this annotation.
        metadata["annotations"] = {VOLCANO_QUEUE_ANNOTATION: sched.volcano_queue}
    lws = {
        "apiVersion": API,
        "kind": "LeaderWorkerSet",
        "metadata": metadata,
        "spec": {
            "replicas": w.replicas,
            "leaderWorkerTemplate": {
                "size": w.workers,
                # One lost pod breaks the model's tensor/pipeline group: restart the group.
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": {
                    "metadata": leader_meta,
                    "spec": pod_spec(plan, None, env=nccl_env(), ports=True, sched=sched),
                },
                "workerTemplate": {
                    "metadata": worker_meta,
                    "spec": pod_spec(plan, None, env=nccl_env(), ports=False, sched=sched),
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta.metadata(plan, meta.labels(plan)),
        "spec": {
            "selector": {LWS_NAME_LABEL: plan.name, "role": "leader"},
            "ports": [{"name": "http", "port": 80, "targetPort": SERVING_PORT}],
        },
    }
    return [*claim_objects(plan, meta.labels(plan)), service, lws]


INTEGRATION = Integration(
    name="lws",
    title="LeaderWorkerSet",
    installed="lws",
    detection=Detection(groups=("leaderworkerset.x-k8s.io",)),
    crds=("leaderworkersets.leaderworkerset.x-k8s.io",),
    kinds=(WireKind(API, "LeaderWorkerSet"),),
    renderers={"LeaderWorkerSet": render_leaderworkerset},
    lint_kinds=(WireKind(API, "LeaderWorkerSet"),),
)
