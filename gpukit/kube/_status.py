"""status() and wait(): a job's phase from its conditions, its pods, events and advice."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gpukit.errors import ClusterError, InputError
from gpukit.fleet import Fleet
from gpukit.kube._client import (
    ApiStatusError,
    Cluster,
    Resource,
    WatchDropped,
    object_ref,
)
from gpukit.kube._connect import use_cluster
from gpukit.kube._inventory import pod_requests
from gpukit.kube._job_kinds import Condition, JobKind, Phase, conditions_of, kinds
from gpukit.kube._scheduling import Advice, explain_scheduling

__all__ = ["JobStatus", "PodState", "WaitTimeout", "status", "wait"]

Obj = dict[str, Any]
#: Consecutive watch drops wait() rides out before it gives up.
MAX_WATCH_DROPS = 5
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class PodState(BaseModel):
    """One pod of the job: phase, node, and why it waits or fails."""

    model_config = _FROZEN

    name: str
    phase: str
    node: str | None = None
    reason: str | None = None
    message: str | None = None
    restarts: int = 0


class JobStatus(BaseModel):
    """Where a submitted workload stands, and what to do when it is stuck."""

    model_config = _FROZEN

    kind: str
    api_version: str
    name: str
    namespace: str | None
    phase: Phase
    message: str | None = None
    conditions: tuple[Condition, ...] = ()
    pods: tuple[PodState, ...] = ()
    events: tuple[str, ...] = ()
    advice: tuple[Advice, ...] = ()

    @property
    def finished(self) -> bool:
        return self.phase in ("succeeded", "failed")

    @property
    def ref(self) -> str:
        return object_ref(self.kind, self.api_version, self.name, self.namespace)

    def summary(self) -> str:
        running = sum(p.phase == "Running" for p in self.pods)
        pods = f" ({running}/{len(self.pods)} pods running)" if self.pods else ""
        why = f": {self.message}" if self.message else ""
        return f"{self.ref}: {self.phase}{pods}{why}"

    def text(self) -> str:
        lines = [self.summary()]
        for pod in self.pods:
            where = f" on {pod.node}" if pod.node else ""
            why = (
                f" ({pod.reason}: {pod.message})"
                if pod.reason and pod.message
                else f" ({pod.reason})"
                if pod.reason
                else ""
            )
            lines.append(f"  pod {pod.name}: {pod.phase}{where}{why}")
        for event in self.events:
            lines.append(f"  event: {event}")
        for item in self.advice:
            lines.append(f"  what to do [{item.code}]: {item.message}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {**self.model_dump(mode="json"), "finished": self.finished}


class WaitTimeout(ClusterError):
    """wait() ran out of time; ``status`` is the last status seen."""

    def __init__(self, message: str, status: JobStatus) -> None:
        super().__init__(message)
        self.status = status


def _find(
    cluster: Cluster, name: str, namespace: str, kind: str | None
) -> tuple[JobKind, Resource, Obj]:
    found: list[tuple[JobKind, Resource, Obj]] = []
    looked: list[str] = []
    for spec in kinds(kind):
        res = cluster.find(spec.group, spec.plural)
        if res is None:
            continue
        looked.append(spec.key)
        obj = cluster.get(res, name, namespace)
        if obj is not None:
            found.append((spec, res, obj))
    if not found:
        raise ClusterError(
            f"nothing named {name!r} in namespace {namespace!r} (looked for: "
            f"{', '.join(looked) or 'no served kind'}); check the name and -n/--namespace"
        )
    uids = {o["metadata"].get("uid") for _, _, o in found}
    # A TrainJob's JobSet, or a JobSet's Jobs, share its name: follow the owner.
    top = [
        f
        for f in found
        if not any(ref.get("uid") in uids for ref in f[2]["metadata"].get("ownerReferences") or [])
    ]
    if len(top) > 1:
        raise InputError(
            f"several objects are named {name!r} in {namespace!r}: "
            f"{', '.join(f[0].key for f in top)}; pass --kind"
        )
    return top[0]


# -- reading the state ------------------------------------------------------------------


def _pods(cluster: Cluster, spec: JobKind, obj: Obj, namespace: str) -> list[Obj]:
    if spec.key == "pod":
        return [obj]
    res = cluster.find("", "pods")
    if res is None:
        return []
    if spec.key == "deployment":
        match = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        selectors = [",".join(f"{k}={v}" for k, v in sorted(match.items()))] if match else []
    else:
        selectors = [f"{label}={obj['metadata']['name']}" for label in spec.pod_labels]
    for selector in selectors:
        pods, _ = cluster.list(res, namespace, labels=selector)
        if pods:
            return sorted(pods, key=lambda p: p["metadata"]["name"])
    return []


def _pod_state(pod: Obj) -> PodState:
    status = pod.get("status") or {}
    reason, message = status.get("reason"), status.get("message")
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            reason, message = cond.get("reason") or "Unschedulable", cond.get("message")
    restarts = 0
    for cs in status.get("containerStatuses") or []:
        restarts += int(cs.get("restartCount") or 0)
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason") not in (None, "ContainerCreating", "PodInitializing"):
            reason, message = waiting.get("reason"), waiting.get("message")
        terminated = (cs.get("state") or {}).get("terminated")
        if terminated and terminated.get("exitCode"):
            reason = terminated.get("reason") or "Error"
            message = f"exit code {terminated['exitCode']}"
    return PodState(
        name=pod["metadata"]["name"],
        phase=status.get("phase", "Unknown"),
        node=(pod.get("spec") or {}).get("nodeName"),
        reason=reason,
        message=message,
        restarts=restarts,
    )


def _related(
    cluster: Cluster,
    group: str,
    plural: str,
    namespace: str,
    owner_uid: str | None,
    label: str | None = None,
) -> list[Obj]:
    res = cluster.find(group, plural)
    if res is None or owner_uid is None:
        return []
    try:
        items, _ = cluster.list(res, namespace, labels=label)
    except ApiStatusError:
        return []
    if label:
        return items
    return [
        i
        for i in items
        if any(ref.get("uid") == owner_uid for ref in i["metadata"].get("ownerReferences") or [])
    ]


def _events(
    cluster: Cluster, namespace: str, uids: set[str], names: set[tuple[str, str]], notes: list[str]
) -> list[Obj]:
    res = cluster.find("", "events")
    if res is None:
        return []
    try:
        events, _ = cluster.list(res, namespace)
    except ApiStatusError as exc:
        notes.append(str(exc))
        return []
    chosen = [
        e
        for e in events
        if (e.get("involvedObject") or {}).get("uid") in uids
        or (
            (e.get("involvedObject") or {}).get("kind"),
            (e.get("involvedObject") or {}).get("name"),
        )
        in names
    ]
    return sorted(
        chosen,
        key=lambda e: (e.get("lastTimestamp") or e.get("eventTime") or "", e["metadata"]["name"]),
    )


class _FleetSource:
    """The fleet advice names: the given one, else discovered once, lazily."""

    def __init__(self, cluster: Cluster, fleet: Fleet | None) -> None:
        self.cluster = cluster
        self.fleet = fleet
        self.tried = fleet is not None

    def get(self) -> Fleet | None:
        if not self.tried:
            self.tried = True
            from gpukit.kube._discover import discover

            try:
                self.fleet = discover(cluster=self.cluster)
            except ClusterError:
                self.fleet = None
        return self.fleet


def _advice_for_pod(pod: Obj, state: PodState, fleets: _FleetSource) -> list[Advice]:
    name = state.name
    if state.reason == "Unschedulable" and state.message:
        return explain_scheduling(state.message, fleets.get(), requests=pod_requests(pod))
    if state.reason in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName"):
        image = ((pod.get("spec") or {}).get("containers") or [{}])[0].get("image")
        return [
            Advice(
                code="IMAGE_PULL",
                message=(
                    f"pod {name}: image {image} cannot be pulled ({state.message or state.reason}); check "
                    "the image name and tag, and the pull secret for private registries"
                ),
            )
        ]
    if state.reason == "CrashLoopBackOff":
        return [
            Advice(
                code="CRASH_LOOP",
                message=(
                    f"pod {name} keeps crashing ({state.restarts} restarts); read kubectl logs {name} "
                    "--previous"
                ),
            )
        ]
    if state.reason == "UnexpectedAdmissionError":
        return [
            Advice(
                code="ADMISSION_REJECTED",
                message=(
                    f"pod {name} was rejected by the kubelet: {state.message}; on time-sliced or MPS "
                    "GPUs ask for 1 replica per container (the device plugin fails larger requests)"
                ),
            )
        ]
    if state.reason == "OOMKilled":
        return [
            Advice(
                code="OOM_KILLED", message=(f"pod {name} ran out of memory; raise its memory limit")
            )
        ]
    return []


def _read_status(
    cluster: Cluster, spec: JobKind, res: Resource, obj: Obj, fleets: _FleetSource
) -> JobStatus:
    meta = obj["metadata"]
    namespace = meta.get("namespace") or cluster.namespace
    phase, message = spec.phase(obj)
    notes: list[str] = []
    try:
        pods = _pods(cluster, spec, obj, namespace)
    except ApiStatusError as exc:
        pods, message = [], f"{message + '; ' if message else ''}pods unknown: {exc}"
    states = [_pod_state(p) for p in pods]
    # Pods are the ground truth when the controller's counters lag behind them.
    if phase == "running" and states and not any(s.phase == "Running" for s in states):
        phase = "pending"
    elif phase == "pending" and any(s.phase == "Running" for s in states):
        phase = "running"
    advice: list[Advice] = []
    for pod, state in zip(pods, states, strict=True):
        advice += _advice_for_pod(pod, state, fleets)
    uid = meta.get("uid")
    uids = {uid} | {p["metadata"].get("uid") for p in pods}
    names = {(spec.kind, meta["name"])} | {("Pod", p["metadata"]["name"]) for p in pods}
    if phase in ("queued", "pending"):
        for workload in _related(
            cluster,
            "kueue.x-k8s.io",
            "workloads",
            namespace,
            uid,
            label=f"kueue.x-k8s.io/job-uid={uid}" if uid else None,
        ):
            uids.add(workload["metadata"].get("uid"))
            for cond in conditions_of(workload):
                if (
                    cond.type in ("QuotaReserved", "Admitted")
                    and cond.status == "False"
                    and cond.message
                ):
                    message = cond.message
                    advice += explain_scheduling(cond.message, fleets.get())
        for group in _related(cluster, "scheduling.volcano.sh", "podgroups", namespace, uid):
            uids.add(group["metadata"].get("uid"))
            for cond in conditions_of(group):
                if cond.type == "Unschedulable" and cond.status == "True" and cond.message:
                    advice += explain_scheduling(cond.message, fleets.get())
    events = _events(cluster, namespace, {u for u in uids if u}, names, notes)
    lines = []
    shown = {" ".join(str(s.message).split()) for s in states if s.message}
    for event in events:
        if event.get("type") == "Normal" and event.get("reason") != "Scheduled":
            continue
        involved = event.get("involvedObject") or {}
        text = " ".join(str(event.get("message", "")).split())
        if text not in shown:  # the pod's own line already says it
            lines.append(
                f"{event.get('reason')} {involved.get('kind')}/{involved.get('name')}: {text}"
            )
        if event.get("reason") in (
            "FailedScheduling",
            "Unschedulable",
            "PodGroupPending",
        ) and phase in ("queued", "pending"):
            advice += explain_scheduling(str(event.get("message", "")), fleets.get())
    # One finding per kind: the pods' current conditions come first, older events after.
    unique: dict[str, Advice] = {}
    for item in advice:
        if item.code == "UNRECOGNISED" and len(advice) > 1:
            continue
        unique.setdefault(item.code, item)
    return JobStatus(
        kind=spec.kind,
        api_version=obj.get("apiVersion", res.api_version),
        name=meta["name"],
        namespace=namespace if res.namespaced else None,
        phase=phase,
        message=message,
        conditions=tuple(conditions_of(obj)),
        pods=tuple(states),
        events=tuple(lines[-10:]) + tuple(notes),
        advice=tuple(unique.values()),
    )


def status(
    name: str,
    namespace: str | None = None,
    kind: str | None = None,
    *,
    fleet: Fleet | None = None,
    context: str | None = None,
    kubeconfig: str | None = None,
    cluster: Cluster | None = None,
) -> JobStatus:
    """Where the Job, Volcano Job, PyTorchJob, TrainJob, JobSet, Deployment or Pod ``name``
    stands: phase from its conditions, its pods, recent events, and advice for whatever
    keeps it from running (FailedScheduling, Volcano gangs, Kueue quota), naming the pools
    and MIG layouts of ``fleet`` (default: discovered from the cluster when needed)."""
    cluster, owned = use_cluster(cluster, context, kubeconfig, namespace)
    try:
        spec, res, obj = _find(cluster, name, namespace or cluster.namespace, kind)
        return _read_status(cluster, spec, res, obj, _FleetSource(cluster, fleet))
    finally:
        if owned:
            cluster.close()


def _done(st: JobStatus, spec: JobKind, until: str) -> bool:
    if st.finished:
        return True
    if until == "running":
        return st.phase in ("running", "ready")
    return spec.serves and st.phase == "ready"


def wait(
    name: str,
    namespace: str | None = None,
    kind: str | None = None,
    *,
    until: Literal["finished", "running"] = "finished",
    timeout: float = 600,
    poll: float = 10,
    fleet: Fleet | None = None,
    on_change: Callable[[JobStatus], None] | None = None,
    context: str | None = None,
    kubeconfig: str | None = None,
    cluster: Cluster | None = None,
) -> JobStatus:
    """Follow ``name`` until it finishes (or, with until='running', runs; a Deployment: until
    it is ready). Watches the object and re-reads pods and events every ``poll`` seconds;
    a dropped watch is resumed; WaitTimeout after ``timeout`` seconds."""
    if until not in ("finished", "running"):
        raise InputError(f"until={until!r} is not allowed; use 'finished' or 'running'")
    cluster, owned = use_cluster(cluster, context, kubeconfig, namespace)
    try:
        ns = namespace or cluster.namespace
        spec, res, obj = _find(cluster, name, ns, kind)
        fleets = _FleetSource(cluster, fleet)
        deadline = time.monotonic() + timeout
        drops = 0
        last = None
        while True:
            current = _read_status(cluster, spec, res, obj, fleets)
            if on_change is not None and current.text() != last:
                on_change(current)
            last = current.text()
            if _done(current, spec, until):
                return current
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(
                    f"gave up waiting for {current.ref} after {timeout:g}s: {current.summary()}",
                    current,
                )
            resource_version = str(obj["metadata"].get("resourceVersion") or "0")
            try:
                for event_type, changed in cluster.watch(
                    res,
                    ns if res.namespaced else None,
                    resource_version=resource_version,
                    fields=f"metadata.name={name}",
                    timeout_seconds=max(1, int(min(poll, remaining) + 0.999)),
                ):
                    if event_type == "BOOKMARK":
                        obj["metadata"]["resourceVersion"] = changed.get("metadata", {}).get(
                            "resourceVersion", resource_version
                        )
                        continue
                    if event_type == "DELETED":
                        raise ClusterError(f"{current.ref} was deleted while waiting for it")
                    obj = changed
                    break
                drops = 0
            except WatchDropped as exc:
                drops += 1
                if drops > MAX_WATCH_DROPS:
                    raise ClusterError(
                        f"following {current.ref}: the watch dropped {drops} times in a row "
                        f"(last: {exc}); a proxy or load balancer may cut long requests: check "
                        "the connection, then run gpukit wait again"
                    ) from None
                fresh = cluster.get(res, name, ns)
                if fresh is None:
                    raise ClusterError(f"{current.ref} was deleted while waiting for it") from None
                obj = fresh
    finally:
        if owned:
            cluster.close()
