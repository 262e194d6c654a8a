"""JobSet: detection, its CRD and the JobSet renderer (one Indexed Job, stable pod DNS)."""

from __future__ import annotations

from typing import Any

from gpukit.advisor.plan import Plan
from gpukit.integrations._base import Detection, Integration, WireKind
from gpukit.integrations.nvidia_dra import claim_objects
from gpukit.manifests import meta
from gpukit.manifests.pods import pod_spec, torchrun_env
from gpukit.manifests.scheduling import scheduling

__all__ = ["API", "INTEGRATION", "render_jobset"]

Obj = dict[str, Any]

API = "jobset.x-k8s.io/v1alpha2"


def render_jobset(plan: Plan) -> list[Obj]:
    """A JobSet of one Indexed Job, one pod per worker; JobSet gives the pods stable DNS."""
    w = plan.workload
    sched = scheduling(plan)
    replicated = "workers"
    # JobSet pod host names: <jobset>-<replicatedJob>-<job index>-<pod index>.<subdomain>.
    env = torchrun_env(plan, f"{w.name}-{replicated}-0-0.{w.name}")
    pod = pod_spec(plan, "Never", env=env, sched=sched)
    spec: Obj = {}
    if sched.kueue_queue:
        spec["suspend"] = True  # Kueue unsuspends the JobSet on admission
    spec["network"] = {"enableDNSHostnames": True, "publishNotReadyAddresses": True}
    spec["failurePolicy"] = {"maxRestarts": 3}
    spec["replicatedJobs"] = [
        {
            "name": replicated,
            "replicas": 1,
            "template": {
                "spec": {
                    "parallelism": w.workers,
                    "completions": w.workers,
                    "backoffLimit": 0,
                    "completionMode": "Indexed",
                    "template": {"metadata": meta.template_metadata(plan, sched), "spec": pod},
                }
            },
        }
    ]
    jobset = {
        "apiVersion": API,
        "kind": "JobSet",
        "metadata": meta.metadata(plan, meta.object_labels(plan, sched)),
        "spec": spec,
    }
    return [*claim_objects(plan, meta.labels(plan)), jobset]


INTEGRATION = Integration(
    name="jobset",
    title="JobSet",
    installed="jobset",
    detection=Detection(groups=("jobset.x-k8s.io",)),
    crds=("jobsets.jobset.x-k8s.io",),
    kinds=(WireKind(API, "JobSet"),),
    renderers={"JobSet": render_jobset},
    lint_kinds=(WireKind(API, "JobSet"),),
)
