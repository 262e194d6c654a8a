"""Check the fleet on the cluster: one tiny pod per pool and GPU resource lands where the
fleet says, and every resource the fleet claims is advertised by the pool's nodes.

The probe creates only its own pods (labelled with one run id), and deletes exactly those,
by name and uid, whatever happens.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gpukit.errors import ClusterError
from gpukit.fleet import Fleet, NodePool
from gpukit.kube import Advice, explain_scheduling
from gpukit.quantity import parse_quantity

__all__ = ["PROBE_IMAGES", "ProbeReport", "ProbeResult", "probe", "probe_pod"]

Obj = dict[str, Any]
ProbeVerdict = Literal["as planned", "differs", "stuck", "skipped"]

#: ``nvidia-smi`` lists the GPUs the pod was given; ``pause`` only starts (nodes usually hold
#: the pause image already, so it works where images cannot be pulled).
PROBE_IMAGES = {
    "nvidia-smi": ("nvidia/cuda:12.4.1-base-ubuntu22.04", ["nvidia-smi", "-L"]),
    "pause": ("registry.k8s.io/pause:3.10", None),
}
PROBE_LABEL = "gpukit.io/probe"


@dataclass(frozen=True)
class ProbeResult:
    pool: str
    resource: str
    verdict: ProbeVerdict
    detail: str
    node: str | None = None
    advice: tuple[Advice, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "pool": self.pool,
            "resource": self.resource,
            "verdict": self.verdict,
            "detail": self.detail,
            "node": self.node,
            "advice": [{"code": a.code, "message": a.message} for a in self.advice],
        }


@dataclass(frozen=True)
class ProbeReport:
    run_id: str
    results: tuple[ProbeResult, ...]
    #: Pods created and deleted, by name (the clean-up is part of the report).
    created: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return (
            bool(self.results)
            and all(r.verdict in ("as planned", "skipped") for r in self.results)
            and set(self.created) == set(self.deleted)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "ok": self.ok,
            "results": [r.to_dict() for r in self.results],
            "created": list(self.created),
            "deleted": list(self.deleted),
        }

    def table(self) -> str:
        rows = [["POOL", "RESOURCE", "VERDICT", "NODE", "DETAIL"]]
        rows += [[r.pool, r.resource, r.verdict, r.node or "-", r.detail] for r in self.results]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [
            "  ".join([*(c.ljust(widths[i]) for i, c in enumerate(r[:4])), r[4]]).rstrip()
            for r in rows
        ]
        lines += [
            f"  what to do [{a.code}] ({r.pool}): {a.message}"
            for r in self.results
            for a in r.advice
        ]
        lines.append(
            f"probe {self.run_id}: created {len(self.created)} pods, deleted {len(self.deleted)}"
        )
        return "\n".join(lines)


def _selector(pool: NodePool, dra: bool) -> dict[str, str]:
    from gpukit.manifests.pods import pool_node_selector

    return pool_node_selector(pool, dra=dra)


def _resources(pool: NodePool) -> list[str]:
    from gpukit.platform.model import pool_resources

    capacity, _ = pool_resources(pool)
    return [r for r in capacity if r not in ("cpu", "memory")]


def _short(resource: str) -> str:
    tail = resource.rpartition("/")[2].replace(".", "-")
    return tail[:20].strip("-")


def probe_pod(
    pool: NodePool, resource: str, *, run_id: str, namespace: str, image: str, dra: bool = False
) -> Obj:
    """The probe pod for ``pool`` and ``resource``: one unit, the pool's selector and taints."""
    ref, command = PROBE_IMAGES.get(image, (image, None))
    container: Obj = {
        "name": "probe",
        "image": ref,
        "resources": {"limits": {resource: 1}},
    }
    if command:
        container["command"] = command
    tolerations = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    tolerations += [
        {"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect}
        if t.value is not None
        else {"key": t.key, "operator": "Exists", "effect": t.effect}
        for t in pool.taints
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"gpukit-probe-{pool.name}-{_short(resource)}-{run_id}"[:63].rstrip("-"),
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "gpukit",
                PROBE_LABEL: run_id,
                "gpukit.io/pool": pool.name,
            },
        },
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": 600,  # a probe never outlives a forgotten clean-up long
            "terminationGracePeriodSeconds": 0,
            "nodeSelector": _selector(pool, dra),
            "tolerations": tolerations,
            "containers": [container],
        },
    }


def _advertised(nodes: list[Obj], resource: str) -> int:
    total = 0
    for node in nodes:
        value = ((node.get("status") or {}).get("allocatable") or {}).get(resource)
        if value is not None:
            total += int(parse_quantity(value))
    return total


def _matches(node: Obj, selector: dict[str, str]) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def probe(
    fleet: Fleet,
    *,
    cluster: Any = None,
    namespace: str | None = None,
    image: str = "nvidia-smi",
    timeout: float = 120.0,
    interval: float = 2.0,
    context: str | None = None,
    kubeconfig: str | None = None,
    run_id: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ProbeReport:
    """Probe every pool of ``fleet``: advertised resources, then one pod per GPU resource."""
    from gpukit import kube

    owned = cluster is None
    if owned:
        cluster = kube.connect(context, kubeconfig=kubeconfig, namespace=namespace)
    run_id = run_id or secrets.token_hex(3)
    namespace = namespace or cluster.namespace
    dra = fleet.installed.dra
    node_res = cluster.find("", "nodes")
    pod_res = cluster.find("", "pods")
    if node_res is None or pod_res is None:
        raise ClusterError(
            "the cluster serves no core nodes/pods: is this a Kubernetes API server?"
        )
    results: dict[tuple[str, str], ProbeResult] = {}
    waiting: dict[tuple[str, str], Obj] = {}
    created: list[tuple[str, str]] = []  # (name, uid)
    deleted: list[str] = []
    try:
        all_nodes, _ = cluster.list(node_res)
        for pool in fleet.node_pools:
            selector = _selector(pool, dra)
            nodes = [n for n in all_nodes if _matches(n, selector)]
            for resource in _resources(pool):
                key = (pool.name, resource)
                if dra:
                    results[key] = ProbeResult(
                        pool.name,
                        resource,
                        "skipped",
                        "DRA pools are not probed: their devices come through ResourceClaims",
                    )
                    continue
                if not nodes:
                    labels = ", ".join(f"{k}={v}" for k, v in sorted(selector.items()))
                    results[key] = ProbeResult(
                        pool.name,
                        resource,
                        "differs",
                        f"no node carries the pool's labels ({labels})",
                    )
                    continue
                if _advertised(nodes, resource) <= 0:
                    results[key] = ProbeResult(
                        pool.name,
                        resource,
                        "differs",
                        f"no node of the pool advertises {resource} in its allocatable "
                        f"({len(nodes)} nodes); check the MIG layout or device-plugin config, and "
                        "that the device plugin restarted after a change",
                    )
                    continue
                pod = probe_pod(
                    pool, resource, run_id=run_id, namespace=namespace, image=image, dra=dra
                )
                _, made = cluster.apply(pod_res, pod, dry_run=False)
                created.append((made["metadata"]["name"], made["metadata"].get("uid", "")))
                waiting[key] = pod
        start = clock()
        while waiting:
            for key, pod in list(waiting.items()):
                pool = fleet.pool(key[0])
                seen = cluster.get(pod_res, pod["metadata"]["name"], namespace)
                result = _judge_probe(pool, key[1], seen)
                if result is not None:
                    results[key] = result
                    del waiting[key]
            if not waiting:
                break
            if clock() - start >= timeout:
                for key, pod in waiting.items():
                    seen = cluster.get(pod_res, pod["metadata"]["name"], namespace) or {}
                    message = _unschedulable(seen)
                    results[key] = ProbeResult(
                        key[0],
                        key[1],
                        "stuck",
                        (message or "not bound") + f" (after {timeout:.0f}s)",
                        advice=tuple(explain_scheduling(message, fleet)) if message else (),
                    )
                break
            sleep(interval)
    finally:
        for name, uid in created:
            body = {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0}
            if uid:
                body["preconditions"] = {"uid": uid}
            try:
                cluster.request(
                    "DELETE",
                    pod_res.path(namespace, name),
                    verb="delete",
                    resource="pods",
                    namespace=namespace,
                    name=name,
                    body=body,
                )
                deleted.append(name)
            except ClusterError as exc:
                if getattr(exc, "code", None) == 404:
                    deleted.append(name)  # already gone (activeDeadlineSeconds, someone else)
        if owned:
            cluster.close()
    order = [(p.name, r) for p in fleet.node_pools for r in _resources(p)]
    return ProbeReport(
        run_id=run_id,
        results=tuple(results[k] for k in order if k in results),
        created=tuple(n for n, _ in created),
        deleted=tuple(deleted),
    )


def _unschedulable(pod: Obj) -> str:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and str(cond.get("status")) == "False":
            return " ".join(str(cond.get("message") or cond.get("reason") or "").split())
    return ""


def _judge_probe(pool: NodePool, resource: str, pod: Obj | None) -> ProbeResult | None:
    """The probe's verdict, or None while it still waits."""
    if pod is None:
        return ProbeResult(pool.name, resource, "stuck", "the probe pod disappeared before it ran")
    node = (pod.get("spec") or {}).get("nodeName")
    status = pod.get("status") or {}
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName"):
            return ProbeResult(
                pool.name,
                resource,
                "stuck",
                f"cannot pull the probe image ({waiting['reason']}); use --probe-image pause",
                node,
            )
    if not node:
        return None
    phase = status.get("phase")
    if phase == "Failed":
        return ProbeResult(
            pool.name,
            resource,
            "stuck",
            f"the probe failed on {node}: {status.get('reason') or 'see its logs'}",
            node,
        )
    if phase not in ("Running", "Succeeded"):
        return None
    return ProbeResult(pool.name, resource, "as planned", f"ran on {node} ({phase})", node)
