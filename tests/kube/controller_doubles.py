"""Test doubles of CONTROLLERS' EFFECTS, not the controllers.

No Kueue, Volcano, KAI, job controller, kube-scheduler or kubelet runs here. Each double
writes into gpukit's API double (:class:`gpukit.testing.FakeApiServer`) the objects and
status fields the real controller would write, in the JSON shapes those projects use
(Kueue v1beta2 Workload ``status.admission`` and conditions, Volcano PodGroup
``status.phase`` and ``Unschedulable`` condition, pod ``spec.nodeName`` and container
states), so that ``gpukit verify`` can be tested on every verdict. The decisions (which
flavor, which node) are the test's, never the double's.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from gpukit.testing import FakeApiServer
from gpukit.verify import Expectation

Obj = dict[str, Any]
TIME = "2026-01-01T00:00:00Z"


def _pod_templates(obj: Any) -> Iterator[Obj]:
    """Every pod template in a workload object (Job, Deployment, Volcano tasks, JobSet...)."""
    if isinstance(obj, dict):
        spec = obj.get("spec")
        if "template" in obj and isinstance(obj["template"], dict):
            template = obj["template"]
            if "containers" in (template.get("spec") or {}):
                yield template
                return
        for key, value in obj.items():
            if key != "status" and (key != "spec" or spec is value):
                yield from _pod_templates(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _pod_templates(item)


def _owner(obj: Obj) -> Obj:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
    }


class World:
    """The controllers' effects on one submitted workload, step by step, as the test says."""

    def __init__(self, api: FakeApiServer, exp: Expectation) -> None:
        self.api = api
        self.exp = exp

    # -- the workload object ----------------------------------------------------------

    def submit(self) -> Obj:
        """The rendered objects, stored as an apply would store them."""
        self.api.add(*copy.deepcopy(list(self.exp.objects)))
        return self.main()

    def main(self) -> Obj:
        found = self.api.get(self.exp.api_version, self.exp.kind, self.exp.name, self.exp.namespace)
        assert found is not None, "submit() first"
        return found

    # -- Kueue (double of its admission effect) -----------------------------------------

    def _workload(self, status: Obj) -> Obj:
        main = self.main()
        name = f"{self.exp.kind.lower()}-{self.exp.name}-0a1b2"
        wl = {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "Workload",
            "metadata": {
                "name": name,
                "namespace": self.exp.namespace,
                "ownerReferences": [_owner(main)],
            },
            "spec": {
                "queueName": self.exp.queue,
                "podSets": [{"name": "main", "count": self.exp.pods, "template": {}}],
            },
            "status": status,
        }
        self.api.add(wl)
        return wl

    def kueue_admits(self, cluster_queue: str, flavor: str) -> Obj:
        resource = self.exp.resource or "cpu"
        return self._workload(
            {
                "admission": {
                    "clusterQueue": cluster_queue,
                    "podSetAssignments": [
                        {"name": "main", "flavors": {resource: flavor}, "count": self.exp.pods}
                    ],
                },
                "conditions": [
                    {
                        "type": "QuotaReserved",
                        "status": "True",
                        "reason": "QuotaReserved",
                        "message": f"Quota reserved in ClusterQueue {cluster_queue}",
                        "lastTransitionTime": TIME,
                    },
                    {
                        "type": "Admitted",
                        "status": "True",
                        "reason": "Admitted",
                        "message": "The workload is admitted",
                        "lastTransitionTime": TIME,
                    },
                ],
            }
        )

    def kueue_holds(self, reason: str, message: str) -> Obj:
        """QuotaReserved=False, as Kueue leaves a workload it cannot admit (yet)."""
        return self._workload(
            {
                "conditions": [
                    {
                        "type": "QuotaReserved",
                        "status": "False",
                        "reason": reason,
                        "message": message,
                        "lastTransitionTime": TIME,
                    }
                ]
            }
        )

    # -- Volcano (double of its PodGroup controller and scheduler's phase) --------------

    def volcano_pod_group(
        self, phase: str, message: str | None = None, queue: str | None = None
    ) -> Obj:
        main = self.main()
        status: Obj = {"phase": phase}
        if message:
            status["conditions"] = [
                {
                    "type": "Unschedulable",
                    "status": "True",
                    "reason": "NotEnoughResources",
                    "message": message,
                    "lastTransitionTime": TIME,
                }
            ]
        group = {
            "apiVersion": "scheduling.volcano.sh/v1beta1",
            "kind": "PodGroup",
            "metadata": {
                "name": f"{self.exp.name}-{main['metadata']['uid'][:8]}",
                "namespace": self.exp.namespace,
                "ownerReferences": [_owner(main)],
            },
            "spec": {"minMember": self.exp.pods, "queue": queue or self.exp.queue or "default"},
            "status": status,
        }
        self.api.add(group)
        return group

    # -- the job controller, kube-scheduler and kubelet (doubles of their effects) ------

    def create_pods(self, count: int | None = None) -> list[str]:
        main = self.main()
        template = next(_pod_templates(main), None) or {
            "metadata": main["metadata"],
            "spec": main["spec"],
        }
        names = []
        for index in range(self.exp.pods if count is None else count):
            name = f"{self.exp.name}-{index}"
            meta = copy.deepcopy(template.get("metadata") or {})
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": self.exp.namespace,
                    "labels": meta.get("labels") or {},
                    "annotations": meta.get("annotations") or {},
                    "ownerReferences": [_owner(main)],
                },
                "spec": copy.deepcopy(template["spec"]),
                "status": {"phase": "Pending"},
            }
            self.api.add(pod)
            names.append(name)
        return names

    def _pod(self, name: str) -> Obj:
        found = self.api.get("v1", "Pod", name, self.exp.namespace)
        assert found is not None, f"no pod {name}"
        return found

    def _put_pod(self, pod: Obj) -> None:
        pod = copy.deepcopy(pod)
        for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"):
            pod["metadata"].pop(key, None)
        self.api.add(pod)

    def bind(self, name: str, node: str) -> None:
        pod = self._pod(name)
        pod["spec"]["nodeName"] = node
        pod["status"] = {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": TIME}],
        }
        self._put_pod(pod)

    def unschedulable(self, name: str, message: str) -> None:
        pod = self._pod(name)
        pod["status"] = {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": message,
                    "lastTransitionTime": TIME,
                }
            ],
        }
        self._put_pod(pod)

    def run(self, name: str) -> None:
        pod = self._pod(name)
        pod["status"] = {
            **pod["status"],
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": c["name"],
                    "image": c["image"],
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": TIME}},
                }
                for c in pod["spec"]["containers"]
            ],
        }
        self._put_pod(pod)

    def container_waits(self, name: str, reason: str, message: str) -> None:
        pod = self._pod(name)
        pod["status"] = {
            **pod["status"],
            "containerStatuses": [
                {
                    "name": c["name"],
                    "image": c["image"],
                    "ready": False,
                    "restartCount": 0,
                    "state": {"waiting": {"reason": reason, "message": message}},
                }
                for c in pod["spec"]["containers"]
            ],
        }
        self._put_pod(pod)

    # -- where pods may go ---------------------------------------------------------------

    def nodes(self, labels: dict[str, str] | None = None) -> list[str]:
        """Names of nodes whose labels include ``labels`` (default: the planned pool's)."""
        want = self.exp.node_labels if labels is None else labels
        return sorted(
            n["metadata"]["name"]
            for n in self.api.list("v1", "Node")
            if all((n["metadata"].get("labels") or {}).get(k) == v for k, v in want.items())
        )

    def bind_all(self, nodes: list[str] | None = None, count: int | None = None) -> None:
        targets = nodes or self.nodes()
        assert targets, "no node to bind to"
        for index in range(self.exp.pods if count is None else count):
            self.bind(f"{self.exp.name}-{index}", targets[index % len(targets)])

    def run_all(self) -> None:
        for index in range(self.exp.pods):
            self.run(f"{self.exp.name}-{index}")
