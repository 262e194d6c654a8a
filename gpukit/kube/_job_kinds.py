"""The workload kinds status() follows: where each lives, how its pods are labelled, its phase.

Each kind's phase comes from its own status shape (a Job's conditions, a Volcano Job's
state.phase, a JobSet's replicatedJobsStatus, ...); adding a kind is one function and one
JobKind entry in KINDS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gpukit import vocab
from gpukit.errors import InputError, did_you_mean

__all__ = ["KINDS", "KIND_KEYS", "Condition", "JobKind", "Phase", "conditions_of", "kinds"]

Obj = dict[str, Any]
Phase = Literal[
    "queued", "suspended", "pending", "running", "ready", "succeeded", "failed", "unknown"
]
QUEUE_LABEL = vocab.KUEUE_QUEUE_LABEL
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Condition(BaseModel):
    model_config = _FROZEN

    type: str
    status: str
    reason: str | None = None
    message: str | None = None


def conditions_of(obj: Obj) -> list[Condition]:
    return [
        Condition(
            type=c.get("type", ""),
            status=str(c.get("status", "")),
            reason=c.get("reason"),
            message=c.get("message"),
        )
        for c in (obj.get("status") or {}).get("conditions") or []
    ]


def _true(conds: list[Condition], *types: str) -> Condition | None:
    return next((c for c in conds if c.type in types and c.status == "True"), None)


def _suspended(obj: Obj, message: str | None = None) -> tuple[Phase, str | None]:
    queue = ((obj.get("metadata") or {}).get("labels") or {}).get(QUEUE_LABEL)
    if queue:
        return "queued", f"waiting for Kueue to admit it from LocalQueue {queue}"
    return "suspended", message or "suspended: nothing runs until spec.suspend is false"


def _batch_phase(obj: Obj) -> tuple[Phase, str | None]:
    conds = conditions_of(obj)
    if done := _true(conds, "Complete", "SuccessCriteriaMet"):
        return "succeeded", done.message
    if failed := _true(conds, "Failed", "FailureTarget"):
        return "failed", failed.message or failed.reason
    if (obj.get("spec") or {}).get("suspend") or _true(conds, "Suspended"):
        return _suspended(obj)
    active = (obj.get("status") or {}).get("active") or 0
    return ("running" if active else "pending"), None


_VOLCANO = {
    "Pending": "pending",
    "Running": "running",
    "Restarting": "running",
    "Completing": "running",
    "Aborting": "running",
    "Terminating": "running",
    "Completed": "succeeded",
    "Failed": "failed",
    "Aborted": "failed",
    "Terminated": "failed",
}


def _volcano_phase(obj: Obj) -> tuple[Phase, str | None]:
    state = (obj.get("status") or {}).get("state") or {}
    phase = _VOLCANO.get(state.get("phase", ""), "pending")
    return phase, state.get("message") or state.get("reason")  # type: ignore[return-value]


def _kubeflow_phase(obj: Obj) -> tuple[Phase, str | None]:
    conds = conditions_of(obj)
    for kind, phase in (("Succeeded", "succeeded"), ("Failed", "failed")):
        if found := _true(conds, kind):
            return phase, found.message  # type: ignore[return-value]
    if _true(conds, "Suspended") or ((obj.get("spec") or {}).get("runPolicy") or {}).get("suspend"):
        return _suspended(obj)
    if found := _true(conds, "Running", "Restarting"):
        return "running", found.message
    return "pending", None


def _replicated_active(obj: Obj, key: str) -> int:
    return sum(int(j.get("active") or 0) for j in (obj.get("status") or {}).get(key) or [])


def _jobset_phase(obj: Obj) -> tuple[Phase, str | None]:
    conds = conditions_of(obj)
    if found := _true(conds, "Completed", "Complete"):
        return "succeeded", found.message
    if found := _true(conds, "Failed"):
        return "failed", found.message
    if _true(conds, "Suspended") or (obj.get("spec") or {}).get("suspend"):
        return _suspended(obj)
    active = _replicated_active(obj, "replicatedJobsStatus") + _replicated_active(obj, "jobsStatus")
    return ("running" if active else "pending"), None


def _deployment_phase(obj: Obj) -> tuple[Phase, str | None]:
    conds = conditions_of(obj)
    stuck = next((c for c in conds if c.type == "Progressing" and c.status == "False"), None)
    if stuck is not None:
        return "failed", stuck.message
    wanted = (obj.get("spec") or {}).get("replicas", 1)
    available = (obj.get("status") or {}).get("availableReplicas") or 0
    if wanted and available >= wanted:
        return "ready", f"{available}/{wanted} replicas available"
    return ("running" if available else "pending"), f"{available}/{wanted} replicas available"


def _lws_phase(obj: Obj) -> tuple[Phase, str | None]:
    conds = conditions_of(obj)
    wanted = (obj.get("spec") or {}).get("replicas", 1)
    ready = (obj.get("status") or {}).get("readyReplicas") or 0
    if _true(conds, "Available") and ready >= wanted:
        return "ready", f"{ready}/{wanted} groups ready"
    return ("running" if ready else "pending"), f"{ready}/{wanted} groups ready"


def _pod_phase(obj: Obj) -> tuple[Phase, str | None]:
    status = obj.get("status") or {}
    phase = {"Succeeded": "succeeded", "Failed": "failed", "Running": "running"}.get(
        status.get("phase", ""), "pending"
    )
    return phase, status.get("message")  # type: ignore[return-value]


@dataclass(frozen=True)
class JobKind:
    """A kind status() follows: where it lives, how its pods are labelled, its phase."""

    key: str
    group: str
    plural: str
    kind: str
    pod_labels: tuple[str, ...]
    phase: Callable[[Obj], tuple[Phase, str | None]]
    serves: bool = False  # long-running: wait() ends when it is ready


KINDS = (
    JobKind(
        "job", "batch", "jobs", "Job", ("batch.kubernetes.io/job-name", "job-name"), _batch_phase
    ),
    JobKind("vcjob", "batch.volcano.sh", "jobs", "Job", ("volcano.sh/job-name",), _volcano_phase),
    JobKind(
        "pytorchjob",
        "kubeflow.org",
        "pytorchjobs",
        "PyTorchJob",
        ("training.kubeflow.org/job-name",),
        _kubeflow_phase,
    ),
    JobKind(
        "trainjob",
        "trainer.kubeflow.org",
        "trainjobs",
        "TrainJob",
        ("jobset.sigs.k8s.io/jobset-name",),
        _jobset_phase,
    ),
    JobKind(
        "jobset",
        "jobset.x-k8s.io",
        "jobsets",
        "JobSet",
        ("jobset.sigs.k8s.io/jobset-name",),
        _jobset_phase,
    ),
    JobKind("deployment", "apps", "deployments", "Deployment", (), _deployment_phase, serves=True),
    JobKind(
        "lws",
        "leaderworkerset.x-k8s.io",
        "leaderworkersets",
        "LeaderWorkerSet",
        ("leaderworkerset.sigs.k8s.io/name",),
        _lws_phase,
        serves=True,
    ),
    JobKind("pod", "", "pods", "Pod", (), _pod_phase),
)
KIND_KEYS = tuple(k.key for k in KINDS)


def kinds(kind: str | None) -> list[JobKind]:
    if kind is None:
        return list(KINDS)
    wanted = kind.lower()
    found = [
        k for k in KINDS if wanted in (k.key, k.kind.lower(), k.plural, f"{k.plural}.{k.group}")
    ]
    if not found:
        raise InputError(
            f"--kind {kind!r} is not a kind gpukit follows"
            f"{did_you_mean(wanted, KIND_KEYS)}; use one of {', '.join(KIND_KEYS)}"
        )
    return found
