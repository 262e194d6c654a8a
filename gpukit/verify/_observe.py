"""What the cluster did with a workload: its object, Kueue Workloads, pod groups, pods, nodes.

Read-only: lists and gets through :class:`gpukit.kube.Cluster`, nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gpukit import vocab
from gpukit.errors import ClusterError
from gpukit.verify._expect import Expectation

__all__ = ["Observation", "observe"]

Obj = dict[str, Any]

KUEUE = "kueue.x-k8s.io"
VOLCANO_SCHEDULING = "scheduling.volcano.sh"
KAI_SCHEDULING = "scheduling.run.ai"
VOLCANO_GROUP_ANNOTATION = vocab.VOLCANO_GROUP_ANNOTATION
KAI_GROUP_ANNOTATION = "pod-group-name"


@dataclass(frozen=True)
class Observation:
    """Everything verify reads about one workload at one moment."""

    main: Obj | None = None
    #: Kueue Workloads owned by the workload object or by its pods.
    kueue_workloads: tuple[Obj, ...] = ()
    #: The LocalQueue the workload names (None: not found or no Kueue).
    local_queue: Obj | None = None
    flavors: dict[str, Obj] = field(default_factory=dict)
    #: Volcano or KAI PodGroups of the workload.
    pod_groups: tuple[Obj, ...] = ()
    pods: tuple[Obj, ...] = ()
    nodes: dict[str, Obj] = field(default_factory=dict)
    #: Kinds of objects the cluster does not serve (Kueue not installed, say).
    missing_apis: tuple[str, ...] = ()


def _uid(obj: Obj | None) -> str | None:
    return None if obj is None else (obj.get("metadata") or {}).get("uid")


def _owned_by(obj: Obj, uids: set[str]) -> bool:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(ref.get("uid") in uids for ref in refs)


def _annotation(obj: Obj, key: str) -> str | None:
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(key)


def observe(cluster: Any, exp: Expectation) -> Observation:
    """Read the cluster's state for ``exp`` (a :class:`gpukit.kube.Cluster`)."""
    missing: list[str] = []
    try:
        main_res = cluster.resource(exp.api_version, exp.kind)
    except ClusterError:
        main_res = None
        missing.append(f"{exp.kind} ({exp.api_version})")
    main = cluster.get(main_res, exp.name, exp.namespace) if main_res is not None else None

    pods: list[Obj] = []
    pod_res = cluster.find("", "pods")
    if pod_res is not None:
        pods, _ = cluster.list(pod_res, exp.namespace, labels=exp.selector)
    pods.sort(key=lambda p: p["metadata"]["name"])
    owners = {u for u in [_uid(main), *(_uid(p) for p in pods)] if u}

    workloads: list[Obj] = []
    local_queue = None
    flavors: dict[str, Obj] = {}
    if exp.admission == "kueue":
        wl_res = cluster.find(KUEUE, "workloads")
        if wl_res is None:
            missing.append("Kueue Workload (kueue.x-k8s.io)")
        else:
            items, _ = cluster.list(wl_res, exp.namespace)
            workloads = sorted(
                (w for w in items if _owned_by(w, owners)), key=lambda w: w["metadata"]["name"]
            )
            lq_res = cluster.find(KUEUE, "localqueues")
            if lq_res is not None and exp.queue:
                local_queue = cluster.get(lq_res, exp.queue, exp.namespace)
            rf_res = cluster.find(KUEUE, "resourceflavors")
            if rf_res is not None:
                found, _ = cluster.list(rf_res)
                flavors = {f["metadata"]["name"]: f for f in found}

    groups: list[Obj] = []
    if exp.admission in ("volcano", "kai"):
        group, key = (
            (VOLCANO_SCHEDULING, VOLCANO_GROUP_ANNOTATION)
            if exp.admission == "volcano"
            else (KAI_SCHEDULING, KAI_GROUP_ANNOTATION)
        )
        pg_res = cluster.find(group, "podgroups")
        if pg_res is None:
            missing.append(f"PodGroup ({group})")
        else:
            named = {a for a in (_annotation(p, key) for p in pods) if a}
            items, _ = cluster.list(pg_res, exp.namespace)
            groups = sorted(
                (
                    g
                    for g in items
                    if _owned_by(g, {u for u in [_uid(main)] if u})
                    or g["metadata"]["name"] in named
                    or g["metadata"]["name"] == exp.name
                ),
                key=lambda g: g["metadata"]["name"],
            )

    nodes: dict[str, Obj] = {}
    node_res = cluster.find("", "nodes")
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and node not in nodes and node_res is not None:
            found_node = cluster.get(node_res, node)
            if found_node is not None:
                nodes[node] = found_node
    return Observation(
        main=main,
        kueue_workloads=tuple(workloads),
        local_queue=local_queue,
        flavors=flavors,
        pod_groups=tuple(groups),
        pods=tuple(pods),
        nodes=nodes,
        missing_apis=tuple(missing),
    )
