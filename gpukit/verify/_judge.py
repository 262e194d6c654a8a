"""The verdict per step: what the cluster did, compared with what the plan said. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from gpukit.fleet import Fleet
from gpukit.kube import Advice, explain_scheduling
from gpukit.quantity import parse_quantity
from gpukit.verify._expect import Expectation
from gpukit.verify._observe import Observation

__all__ = ["STEPS", "Step", "StepResult", "Verdict", "judge", "time_out"]

Obj = dict[str, Any]
Step = Literal["admitted", "scheduled", "running"]
STEPS: tuple[Step, ...] = ("admitted", "scheduled", "running")
#: ``waiting`` is provisional (the step may still happen); the rest are final.
Verdict = Literal["as planned", "differs", "stuck", "waiting", "not reached"]

_IMAGE_PULL = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)
_CRASH = frozenset({"CrashLoopBackOff", "CreateContainerConfigError", "RunContainerError"})


@dataclass(frozen=True)
class StepResult:
    step: Step
    verdict: Verdict
    detail: str
    advice: tuple[Advice, ...] = ()
    #: What a ``waiting`` step becomes when time runs out.
    on_timeout: Verdict = "stuck"

    @property
    def final(self) -> bool:
        return self.verdict in ("as planned", "differs", "stuck")

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "verdict": self.verdict,
            "detail": self.detail,
            "advice": [{"code": a.code, "message": a.message} for a in self.advice],
        }


def _ok(step: Step, detail: str) -> StepResult:
    return StepResult(step, "as planned", detail)


def _wait(
    step: Step,
    detail: str,
    fleet: Fleet | None = None,
    message: str = "",
    on_timeout: Verdict = "stuck",
) -> StepResult:
    advice = tuple(explain_scheduling(message, fleet)) if message else ()
    return StepResult(step, "waiting", detail, advice, on_timeout)


def _conditions(obj: Obj) -> dict[str, Obj]:
    return {c.get("type", ""): c for c in (obj.get("status") or {}).get("conditions") or []}


def _true(obj: Obj, kind: str) -> bool:
    return str(_conditions(obj).get(kind, {}).get("status")) == "True"


# -- admitted -------------------------------------------------------------------------


def _expected_flavor(exp: Expectation, flavors: Mapping[str, Obj], name: str) -> bool:
    """Whether flavor ``name`` is the planned pool: by name (gpukit names flavors after pools),
    or by node labels that the pool's nodes carry."""
    if name == exp.pool:
        return True
    labels = ((flavors.get(name) or {}).get("spec") or {}).get("nodeLabels") or {}
    return bool(labels) and all(exp.node_labels.get(k) == v for k, v in labels.items())


def _kueue_admitted(exp: Expectation, obs: Observation, fleet: Fleet | None) -> StepResult:
    step: Step = "admitted"
    if not obs.kueue_workloads:
        if obs.local_queue is None and obs.main is not None:
            return _wait(
                step,
                f"no Kueue Workload, and LocalQueue {exp.queue!r} is not in namespace "
                f"{exp.namespace!r}: Kueue never admits it; apply the platform bundle's "
                "LocalQueue (gpukit platform render)",
            )
        return _wait(step, "no Kueue Workload yet (Kueue creates one for a queued job)")
    expected_cq = ((obs.local_queue or {}).get("spec") or {}).get("clusterQueue")
    for wl in obs.kueue_workloads:
        name = wl["metadata"]["name"]
        conds = _conditions(wl)
        if not _true(wl, "Admitted"):
            reserved = conds.get("QuotaReserved") or {}
            message = " ".join(str(reserved.get("message") or "").split())
            reason = reserved.get("reason") or "Pending"
            if reason == "Inadmissible" or "doesn't exist" in message or "inadmissible" in message:
                what = f"Kueue finds Workload {name} inadmissible: {message or reason}"
            elif "quota" in message.lower():
                what = f"Kueue holds Workload {name} for quota: {message}"
            else:
                what = f"Kueue has not admitted Workload {name}" + (
                    f": {message}" if message else ""
                )
            return _wait(step, what, fleet, message)
        admission = (wl.get("status") or {}).get("admission") or {}
        cq = admission.get("clusterQueue")
        if expected_cq and cq != expected_cq:
            return StepResult(
                step,
                "differs",
                f"Workload {name} admitted by ClusterQueue {cq!r}; the LocalQueue "
                f"{exp.queue!r} points at {expected_cq!r}",
            )
        for assignment in admission.get("podSetAssignments") or []:
            for resource, flavor in sorted((assignment.get("flavors") or {}).items()):
                if not _expected_flavor(exp, obs.flavors, flavor):
                    return StepResult(
                        step,
                        "differs",
                        f"Workload {name} admitted with flavor {flavor!r} for {resource}; "
                        f"the plan is pool {exp.pool!r}: its pods go to that flavor's nodes",
                    )
    cq = ((obs.kueue_workloads[0].get("status") or {}).get("admission") or {}).get("clusterQueue")
    return _ok(step, f"admitted by Kueue (ClusterQueue {cq}, flavor of pool {exp.pool})")


def _group_message(group: Obj) -> str:
    status = group.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Unschedulable" and str(cond.get("status")) == "True":
            return " ".join(str(cond.get("message") or cond.get("reason") or "").split())
    for cond in status.get("schedulingConditions") or []:  # KAI
        reasons = [r.get("message") or r.get("reason") for r in cond.get("reasons") or []]
        text = "; ".join(str(r) for r in reasons if r) or cond.get("message") or cond.get("reason")
        if text:
            return " ".join(str(text).split())
    return ""


def _group_admitted(exp: Expectation, obs: Observation, fleet: Fleet | None) -> StepResult:
    step: Step = "admitted"
    who = "Volcano" if exp.admission == "volcano" else "KAI"
    if not obs.pod_groups:
        return _wait(step, f"no {who} PodGroup yet (the {who} controller creates one)")
    group = obs.pod_groups[0]
    name = group["metadata"]["name"]
    spec = group.get("spec") or {}
    queue = spec.get("queue")
    if exp.queue and queue and queue != exp.queue:
        return StepResult(
            step, "differs", f"PodGroup {name} is in {who} queue {queue!r}, planned {exp.queue!r}"
        )
    min_member = spec.get("minMember")
    if exp.gang and min_member is not None and int(min_member) != exp.pods:
        return StepResult(
            step,
            "differs",
            f"PodGroup {name} gangs {min_member} pods, the plan starts {exp.pods} together",
        )
    message = _group_message(group)
    if exp.admission == "volcano":
        phase = (group.get("status") or {}).get("phase") or "Pending"
        if phase in ("Inqueue", "Running", "Completed"):
            return _ok(step, f"Volcano PodGroup {name} {phase} in queue {queue or 'default'}")
        return _wait(
            step,
            f"Volcano PodGroup {name} {phase}" + (f": {message}" if message else ""),
            fleet,
            message,
        )
    if message:
        return _wait(step, f"KAI PodGroup {name} unschedulable: {message}", fleet, message)
    if any((p.get("spec") or {}).get("nodeName") for p in obs.pods):
        return _ok(step, f"KAI PodGroup {name} scheduled in queue {queue}")
    return _wait(step, f"KAI PodGroup {name} in queue {queue}: not scheduled yet")


def _admitted(exp: Expectation, obs: Observation, fleet: Fleet | None) -> StepResult:
    if obs.main is None:
        return _wait(
            "admitted", f"{exp.ref} is not in namespace {exp.namespace!r} (not submitted?)"
        )
    if exp.admission == "kueue":
        return _kueue_admitted(exp, obs, fleet)
    if exp.admission in ("volcano", "kai"):
        return _group_admitted(exp, obs, fleet)
    return _ok("admitted", "no admission step: the plan uses the default scheduler")


# -- scheduled -------------------------------------------------------------------------


def _requested(pod: Obj, resource: str) -> int:
    total = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        res = container.get("resources") or {}
        amount = (res.get("limits") or {}).get(resource, (res.get("requests") or {}).get(resource))
        if amount is not None:
            total += int(parse_quantity(amount))
    return total


def _gpu_requests(pod: Obj) -> dict[str, int]:
    names: set[str] = set()
    for container in (pod.get("spec") or {}).get("containers") or []:
        res = container.get("resources") or {}
        for part in ("limits", "requests"):
            names |= {n for n in res.get(part) or {} if n.startswith("nvidia.com/")}
    return {n: _requested(pod, n) for n in sorted(names)}


def _unschedulable(pod: Obj) -> str:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and str(cond.get("status")) == "False":
            return " ".join(str(cond.get("message") or cond.get("reason") or "").split())
    return ""


def _pod_differs(exp: Expectation, pod: Obj, node: Obj | None) -> str | None:
    name = pod["metadata"]["name"]
    node_name = pod["spec"]["nodeName"]
    labels = ((node or {}).get("metadata") or {}).get("labels") or {}
    for key, value in sorted(exp.node_labels.items()):
        if labels.get(key) != value:
            have = labels.get(key)
            return (
                f"pod {name} is on node {node_name}, outside pool {exp.pool!r}: its label {key} "
                f"is {have!r}, the pool's is {value!r}"
            )
    if exp.resource is not None:
        asked = _gpu_requests(pod)
        if asked.get(exp.resource) != exp.amount or len(asked) != 1:
            got = ", ".join(f"{k}: {v}" for k, v in asked.items()) or "no GPU resource"
            return f"pod {name} asks for {got}; the plan is {exp.resource}: {exp.amount}"
    else:
        claims = (pod.get("spec") or {}).get("resourceClaims") or []
        templates = {
            c.get("resourceClaimTemplateName") or c.get("resourceClaimName") for c in claims
        }
        if exp.claim_templates and not templates & set(exp.claim_templates):
            return f"pod {name} has no claim from {', '.join(exp.claim_templates)}"
    return None


def _scheduled(exp: Expectation, obs: Observation, fleet: Fleet | None) -> StepResult:
    step: Step = "scheduled"
    pods = obs.pods
    bound = [p for p in pods if (p.get("spec") or {}).get("nodeName")]
    for pod in bound:
        problem = _pod_differs(exp, pod, obs.nodes.get(pod["spec"]["nodeName"]))
        if problem:
            return StepResult(step, "differs", problem)
    if len(bound) >= exp.pods:
        nodes = sorted({p["spec"]["nodeName"] for p in bound})
        what = f"{exp.resource}: {exp.amount}" if exp.resource else "its claims"
        return _ok(
            step,
            f"{len(bound)}/{exp.pods} pods bound in pool {exp.pool} ({', '.join(nodes)}) with {what}",
        )
    message = next((m for m in map(_unschedulable, pods) if m), "")
    if exp.gang and bound:
        return _wait(
            step,
            f"gang partly bound: {len(bound)} of {exp.pods} pods bound"
            + (f"; {message}" if message else ""),
            fleet,
            message,
            on_timeout="differs",  # a gang starts whole or not at all
        )
    if not pods:
        return _wait(step, f"no pods yet (0/{exp.pods})")
    return _wait(
        step,
        f"{len(bound)}/{exp.pods} pods bound" + (f": {message}" if message else ""),
        fleet,
        message,
    )


# -- running ---------------------------------------------------------------------------


def _container_trouble(pod: Obj) -> str | None:
    """Why a container cannot run (image pull, crash, out of memory), or None."""
    name = pod["metadata"]["name"]
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        state = cs.get("state") or {}
        last = cs.get("lastState") or {}
        waiting = state.get("waiting") or {}
        for terminated in (state.get("terminated") or {}, last.get("terminated") or {}):
            if terminated.get("reason") == "OOMKilled":
                return (
                    f"pod {name} container {cs.get('name')} was killed out of memory (OOMKilled); "
                    "raise its memory limit or the plan's memory figures"
                )
        reason = waiting.get("reason")
        message = " ".join(str(waiting.get("message") or "").split())
        if reason in _IMAGE_PULL:
            return f"pod {name} cannot pull its image ({reason}): {message}".rstrip(": ")
        if reason in _CRASH:
            return f"pod {name} container {cs.get('name')} {reason}: {message}".rstrip(": ")
    return None


def _started(pod: Obj) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") == "Succeeded":
        return True
    statuses = status.get("containerStatuses") or []
    return (
        status.get("phase") == "Running"
        and bool(statuses)
        and all(cs.get("started") or "running" in (cs.get("state") or {}) for cs in statuses)
    )


def _running(exp: Expectation, obs: Observation) -> StepResult:
    step: Step = "running"
    for pod in obs.pods:
        trouble = _container_trouble(pod)
        if trouble:
            return StepResult(step, "stuck", trouble)
        status = pod.get("status") or {}
        if status.get("phase") == "Failed":
            why = status.get("reason") or status.get("message") or "no reason given"
            return StepResult(step, "stuck", f"pod {pod['metadata']['name']} failed: {why}")
    started = [p for p in obs.pods if _started(p)]
    if len(started) >= exp.pods:
        return _ok(step, f"{len(started)}/{exp.pods} pods running")
    return _wait(step, f"{len(started)}/{exp.pods} pods running")


# -- all steps -------------------------------------------------------------------------


def judge(
    exp: Expectation, obs: Observation, fleet: Fleet | None = None, until: Step = "running"
) -> tuple[StepResult, ...]:
    """Each step up to ``until``: a step after one that has not happened is ``not reached``."""
    results: list[StepResult] = []
    checks = {
        "admitted": lambda: _admitted(exp, obs, fleet),
        "scheduled": lambda: _scheduled(exp, obs, fleet),
        "running": lambda: _running(exp, obs),
    }
    blocked = False
    for step in STEPS[: STEPS.index(until) + 1]:
        if blocked:
            results.append(StepResult(step, "not reached", "an earlier step has not happened"))
            continue
        result = checks[step]()
        results.append(result)
        blocked = result.verdict in ("waiting", "stuck")
    return tuple(results)


def time_out(steps: tuple[StepResult, ...], waited: float) -> tuple[StepResult, ...]:
    """After the deadline: what still waits is stuck, with what it waits for."""
    return tuple(
        replace(s, verdict=s.on_timeout, detail=f"{s.detail} (after {waited:.0f}s)")
        if s.verdict == "waiting"
        else s
        for s in steps
    )
