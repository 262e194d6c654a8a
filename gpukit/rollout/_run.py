"""Carry out a rollout on a cluster, wave by wave, and resumably.

Per node: cordon; evict its GPU pods through the Eviction API (a PodDisruptionBudget that
refuses is waited on, never overridden; nothing is deleted); set ``nvidia.com/mig.config``;
follow ``nvidia.com/mig.config.state`` to ``success`` (on ``failed`` or a time-out the
rollout stops and the node stays cordoned); wait until the node's allocatable shows the
target MIG resources (naming the device-plugin restart when it does not); uncordon (only
nodes this rollout cordoned). Progress is kept in a ConfigMap, written after every step, so
a second run continues where the first stopped and a crash loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gpukit import vocab
from gpukit.errors import ClusterError, InputError
from gpukit.quantity import parse_quantity
from gpukit.rollout._plan import MIG_CONFIG_LABEL, RolloutPlan
from gpukit.rollout._state import Target, _gpu_requests

__all__ = ["PROGRESS_NAME", "RolloutResult", "carry_out"]

Obj = dict[str, Any]
STATE_LABEL = vocab.MIG_CONFIG_STATE_LABEL
PROGRESS_NAME = "gpukit-mig-rollout"
CORDONED_BY = "gpukit.io/mig-rollout-cordoned"
MERGE = "application/merge-patch+json"
#: A node's steps, in order; the progress record names the last one done.
STEPS = ("pending", "cordoned", "evicted", "labelled", "configured", "done")


@dataclass
class RolloutResult:
    ok: bool
    #: node -> its last step done (STEPS), or "failed".
    nodes: dict[str, str]
    message: str
    events: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "nodes": self.nodes, "message": self.message, "events": self.events}


class _Stop(Exception):
    """The rollout stops here (the message says why and what is left as it is)."""


def plan_id(plan: RolloutPlan) -> str:
    text = json.dumps(
        {"waves": [w.nodes for w in plan.waves], "targets": plan.targets}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class _Runner:
    def __init__(
        self,
        cluster: Any,
        plan: RolloutPlan,
        target: Target,
        *,
        namespace: str,
        node_timeout: float,
        eviction_timeout: float,
        poll: float,
        on_event: Callable[[str], None],
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.cluster = cluster
        self.plan = plan
        self.target = target
        self.namespace = namespace
        self.node_timeout = node_timeout
        self.eviction_timeout = eviction_timeout
        self.poll = poll
        self.sleep = sleep
        self.clock = clock
        self.events: list[str] = []
        self._say = on_event
        self.nodes_res = cluster.resource("v1", "Node")
        self.pods_res = cluster.resource("v1", "Pod")
        self.cm_res = cluster.resource("v1", "ConfigMap")
        self.id = plan_id(plan)
        self.progress: dict[str, str] = {}
        #: The waves and targets carried out: the plan's, or on a resume the recorded ones
        #: (nodes already relabelled no longer show up as changes in a fresh plan).
        self.waves: list[tuple[str, ...]] = [w.nodes for w in plan.waves]
        self.targets: dict[str, str | None] = dict(plan.targets)

    def say(self, line: str) -> None:
        self.events.append(line)
        self._say(line)

    # -- progress in the cluster ----------------------------------------------------------

    def load_progress(self) -> None:
        found = self.cluster.get(self.cm_res, PROGRESS_NAME, self.namespace)
        if found is None:
            self.progress = {n: "pending" for w in self.waves for n in w}
            self.save()
            return
        data = found.get("data") or {}
        recorded_targets = json.loads(data.get("targets") or "{}")
        recorded = json.loads(data.get("nodes") or "{}")
        unfinished = any(state != "done" for state in recorded.values())
        same_goal = all(recorded_targets.get(n) == t for n, t in self.targets.items())
        if unfinished and not same_goal:
            raise InputError(
                f"ConfigMap {self.namespace}/{PROGRESS_NAME} records another rollout (plan "
                f"{data.get('plan')}, to other targets) that has not finished; finish that one, "
                "or delete the ConfigMap once its nodes are as you want them"
            )
        if not unfinished and not same_goal:  # the last rollout finished: start this one
            self.progress = {n: "pending" for w in self.waves for n in w}
            self.save()
            return
        self.id = str(data.get("plan"))
        self.waves = [tuple(w) for w in json.loads(data.get("waves") or "[]")]
        self.targets = recorded_targets
        nodes = [n for w in self.waves for n in w]
        self.progress = {n: recorded.get(n, "pending") for n in nodes}
        done = sum(s == "done" for s in self.progress.values())
        self.say(f"resuming rollout {self.id}: {done}/{len(nodes)} nodes done")

    def save(self) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": PROGRESS_NAME,
                "namespace": self.namespace,
                "labels": {"app.kubernetes.io/managed-by": "gpukit"},
            },
            "data": {
                "plan": self.id,
                "waves": json.dumps([list(w) for w in self.waves]),
                "targets": json.dumps(self.targets, sort_keys=True),
                "nodes": json.dumps(self.progress, sort_keys=True),
            },
        }
        self.cluster.apply(self.cm_res, body, dry_run=False, force=True)

    def mark(self, node: str, step: str) -> None:
        self.progress[node] = step
        self.save()
        self.say(f"{node}: {step}")

    def reached(self, node: str, step: str) -> bool:
        state = self.progress.get(node, "pending")
        return state in STEPS and STEPS.index(state) >= STEPS.index(step)

    # -- node calls -----------------------------------------------------------------------

    def node(self, name: str) -> Obj:
        found = self.cluster.get(self.nodes_res, name)
        if found is None:
            raise _Stop(f"node {name} is gone from the cluster")
        return found

    def patch_node(self, name: str, body: Obj) -> None:
        self.cluster.request(
            "PATCH",
            self.nodes_res.path(None, name),
            verb="patch",
            resource="nodes",
            name=name,
            body=body,
            content_type=MERGE,
        )

    def cordon(self, name: str) -> None:
        node = self.node(name)
        if (node.get("spec") or {}).get("unschedulable"):
            was = (node["metadata"].get("annotations") or {}).get(CORDONED_BY)
            if was != self.id:
                self.say(f"{name}: already cordoned by someone else; it stays cordoned afterwards")
            return
        self.patch_node(
            name,
            {"spec": {"unschedulable": True}, "metadata": {"annotations": {CORDONED_BY: self.id}}},
        )

    def gpu_pods(self, name: str) -> list[Obj]:
        pods, _ = self.cluster.list(self.pods_res, None, fields=f"spec.nodeName={name}")
        return [
            p
            for p in pods
            if _gpu_requests(p)
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        ]

    def evict(self, name: str) -> None:
        deadline = self.clock() + self.eviction_timeout
        while True:
            pods = self.gpu_pods(name)
            if not pods:
                return
            waiting = []
            for pod in pods:
                meta = pod["metadata"]
                if meta.get("deletionTimestamp"):
                    waiting.append(meta["name"])
                    continue
                body = {
                    "apiVersion": "policy/v1",
                    "kind": "Eviction",
                    "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
                }
                try:
                    self.cluster.request(
                        "POST",
                        self.pods_res.path(meta["namespace"], meta["name"]) + "/eviction",
                        verb="create",
                        resource="pods/eviction",
                        namespace=meta["namespace"],
                        name=meta["name"],
                        body=body,
                    )
                    self.say(f"{name}: evicted {meta['namespace']}/{meta['name']}")
                except ClusterError as exc:
                    code = getattr(exc, "code", None)
                    if code == 404:
                        continue
                    if code != 429:  # 429: a PodDisruptionBudget says not now
                        raise
                    waiting.append(f"{meta['namespace']}/{meta['name']} (disruption budget)")
            if self.clock() >= deadline:
                raise _Stop(
                    f"{name}: pods still there after {self.eviction_timeout:.0f}s: "
                    f"{', '.join(waiting) or 'terminating'}; the node stays cordoned, nothing "
                    "was relabelled; free them (or relax the PodDisruptionBudget) and run again"
                )
            self.sleep(self.poll)

    def expected(self, name: str) -> dict[str, int]:
        return self.target.capacity.get(name, {})

    def advertises_target(self, node: Obj) -> bool:
        alloc = (node.get("status") or {}).get("allocatable") or {}
        have = {
            r: int(parse_quantity(v)) for r, v in alloc.items() if r.startswith("nvidia.com/mig-")
        }
        want = self.expected(node["metadata"]["name"])
        return all(have.get(r, 0) == n for r, n in want.items()) and all(
            have.get(r, 0) == 0 for r in have if r not in want
        )

    def wait_configured(self, name: str) -> None:
        deadline = self.clock() + self.node_timeout
        while True:
            node = self.node(name)
            labels = node["metadata"].get("labels") or {}
            state = labels.get(STATE_LABEL)
            if state == "failed":
                raise _Stop(
                    f"{name}: the MIG manager reports {STATE_LABEL}=failed; the node stays "
                    "cordoned; read the nvidia-mig-manager pod's log on that node, fix, and run again"
                )
            if state == "success" and self.advertises_target(node):
                return
            if self.clock() >= deadline:
                if state == "success":
                    raise _Stop(
                        f"{name}: {STATE_LABEL}=success, but the node does not advertise the new MIG "
                        "devices in its allocatable: restart the device plugin on it (delete the "
                        "nvidia-device-plugin-daemonset pod on that node) and run again"
                    )
                raise _Stop(
                    f"{name}: {STATE_LABEL} is {state!r} after {self.node_timeout:.0f}s (stalled); "
                    "the node stays cordoned; check the nvidia-mig-manager pod on it, then run again"
                )
            self.sleep(self.poll)

    def uncordon(self, name: str) -> None:
        node = self.node(name)
        if (node["metadata"].get("annotations") or {}).get(CORDONED_BY) == self.id:
            self.patch_node(
                name,
                {"spec": {"unschedulable": None}, "metadata": {"annotations": {CORDONED_BY: None}}},
            )

    # -- the rollout ----------------------------------------------------------------------

    def run(self) -> RolloutResult:
        self.load_progress()
        try:
            for index, wave in enumerate(self.waves, 1):
                todo = [n for n in wave if not self.reached(n, "done")]
                if not todo:
                    continue
                self.say(f"wave {index}/{len(self.waves)}: {', '.join(todo)}")
                steps = (
                    ("cordoned", self.cordon),
                    ("evicted", self.evict),
                    (
                        "labelled",
                        lambda n: self.patch_node(
                            n, {"metadata": {"labels": {MIG_CONFIG_LABEL: self.targets[n]}}}
                        ),
                    ),
                    ("configured", self.wait_configured),
                    ("done", self.uncordon),
                )
                for step, action in steps:
                    for name in todo:
                        if not self.reached(name, step):
                            action(name)
                            self.mark(name, step)
        except _Stop as stop:
            self.say(f"stopped: {stop}")
            return RolloutResult(False, dict(self.progress), str(stop), self.events)
        message = f"rollout {self.id} done: {len(self.progress)} node(s) in their target MIG config"
        self.say(message)
        return RolloutResult(True, dict(self.progress), message, self.events)


def carry_out(
    cluster: Any,
    plan: RolloutPlan,
    target: Target,
    *,
    namespace: str = "gpu-operator",
    node_timeout: float = 900.0,
    eviction_timeout: float = 300.0,
    poll: float = 5.0,
    on_event: Callable[[str], None] = lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RolloutResult:
    """Carry out ``plan`` on ``cluster``; progress is kept in ConfigMap ``namespace``/gpukit-mig-rollout."""
    if not plan.safe:
        raise InputError("the rollout plan has no safe order; free capacity first (see the plan)")
    return _Runner(
        cluster,
        plan,
        target,
        namespace=namespace,
        node_timeout=node_timeout,
        eviction_timeout=eviction_timeout,
        poll=poll,
        on_event=on_event,
        sleep=sleep,
        clock=clock,
    ).run()
