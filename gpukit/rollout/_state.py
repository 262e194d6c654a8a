"""Where a rollout starts and ends: nodes and their MIG configs, the work on them, the target.

The target is what `gpukit mig plan -o yaml` writes (its node labels and per-GPU layouts).
The current state comes from a fleet file (nodes named ``<pool>-<i>`` as the packer names
them, each GPU in the pool's layout; running pods from a PodList, if given) or from a live
cluster (node labels and allocatable, GPU pods, their gangs, PodDisruptionBudgets, Kueue
Workloads admitted but not yet running).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gpukit import vocab
from gpukit.errors import InputError
from gpukit.fleet import Fleet
from gpukit.hardware.catalog import get_gpu
from gpukit.quantity import parse_quantity
from gpukit.rollout._plan import MIG_CONFIG_LABEL, Budget, Consumer, NodeChange, PodDemand

__all__ = ["Target", "consumers_from_pods", "load_target", "nodes_from_fleet", "read_cluster"]

Obj = dict[str, Any]
VOLCANO_GROUP = vocab.VOLCANO_GROUP_ANNOTATION
GANG_LABELS = (
    "volcano.sh/job-name",
    "jobset.sigs.k8s.io/jobset-name",
    "training.kubeflow.org/job-name",
    "leaderworkerset.sigs.k8s.io/name",
)


class Target:
    """Per node: the config label to set and the GPU resources it then offers."""

    def __init__(
        self, configs: Mapping[str, str], capacity: Mapping[str, Mapping[str, int]]
    ) -> None:
        self.configs = dict(configs)
        self.capacity = {n: dict(c) for n, c in capacity.items()}


def _layout_resources(model: str, layout: Mapping[str, int] | None) -> dict[str, int]:
    if not layout:
        return {}
    gpu = get_gpu(model)
    out: dict[str, int] = {}
    for name, count in layout.items():
        res = gpu.profile(name).resource_name
        out[res] = out.get(res, 0) + int(count)
    return out


def load_target(path: str | Path) -> Target:
    """The target of `gpukit mig plan -o yaml` (or -o json): node labels and GPU layouts."""
    from gpukit._loading import load_documents, read_text

    label, text = read_text(path)
    docs = [d for _, d in load_documents(label, text)]
    plan = next((d for d in docs if isinstance(d, dict) and "node_labels" in d), None)
    if plan is None:
        raise InputError(
            f"{label}: no MIG plan in it (no node_labels); write one with "
            "`gpukit mig plan --fleet F --demand D -o yaml > plan.yaml`"
        )
    configs: dict[str, str] = {}
    for node, labels in (plan.get("node_labels") or {}).items():
        value = labels.get(MIG_CONFIG_LABEL) if isinstance(labels, dict) else labels
        if not isinstance(value, str) or not value:
            raise InputError(f"{label}: node_labels.{node} has no {MIG_CONFIG_LABEL} value")
        configs[str(node)] = value
    capacity: dict[str, dict[str, int]] = {n: {} for n in configs}
    for gpu in plan.get("gpus") or []:
        node = str(gpu.get("node"))
        room = capacity.setdefault(node, {})
        for res, n in _layout_resources(str(gpu.get("model")), gpu.get("layout")).items():
            room[res] = room.get(res, 0) + n
    return Target(configs, capacity)


def _change(
    name: str, labels: Mapping[str, str], capacity: Mapping[str, int], target: Target
) -> NodeChange:
    config = labels.get(MIG_CONFIG_LABEL)
    if name in target.configs:
        return NodeChange(
            name, labels, config, capacity, target.configs[name], target.capacity.get(name, {})
        )
    return NodeChange(name, labels, config, capacity, config, capacity)


def nodes_from_fleet(fleet: Fleet, target: Target) -> list[NodeChange]:
    """The fleet's MIG pools as nodes ``<pool>-<i>`` (the packer's names), in their layouts."""
    from gpukit.manifests.pods import pool_node_selector

    nodes = []
    for pool in fleet.node_pools:
        if pool.mig is None:
            continue
        per_gpu = _layout_resources(pool.gpu, pool.mig.layout)
        capacity = {r: n * pool.gpus_per_node for r, n in per_gpu.items()}
        labels = dict(pool_node_selector(pool))
        if pool.mig.config_name:
            labels[MIG_CONFIG_LABEL] = pool.mig.config_name
        for i in range(pool.nodes):
            nodes.append(_change(f"{pool.name}-{i}", labels, capacity, target))
    unknown = sorted(set(target.configs) - {n.name for n in nodes})
    if unknown:
        raise InputError(
            f"the target names nodes the fleet does not have: {', '.join(unknown)}; plan the target "
            "on the same fleet (gpukit mig plan --fleet ...)"
        )
    return nodes


def _gpu_requests(pod: Obj) -> dict[str, int]:
    out: dict[str, int] = {}
    for container in (pod.get("spec") or {}).get("containers") or []:
        res = container.get("resources") or {}
        merged = {**(res.get("requests") or {}), **(res.get("limits") or {})}
        for name, value in merged.items():
            if name.startswith("nvidia.com/"):
                out[name] = out.get(name, 0) + int(parse_quantity(value))
    return out


def _gang(pod: Obj) -> str | None:
    meta = pod.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    if annotations.get(VOLCANO_GROUP):
        return annotations[VOLCANO_GROUP]
    labels = meta.get("labels") or {}
    return next((f"{k}={labels[k]}" for k in GANG_LABELS if k in labels), None)


def _selected(selector: Obj | None, labels: Mapping[str, str]) -> bool:
    if not selector:
        return False
    match = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        have = labels.get(key)
        if (op == "In" and have not in values) or (op == "NotIn" and have in values):
            return False
        if (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True


def consumers_from_pods(
    pods: list[Obj], budgets: list[Obj] = ()
) -> tuple[list[Consumer], list[Budget]]:
    """GPU pods as consumers (pods of one gang together), and the PDBs that cover them."""
    groups: dict[str, list[tuple[Obj, PodDemand]]] = {}
    for pod in pods:
        status = (pod.get("status") or {}).get("phase")
        if status in ("Succeeded", "Failed"):
            continue
        requests = _gpu_requests(pod)
        if not requests:
            continue
        meta = pod["metadata"]
        ns = meta.get("namespace", "default")
        demand = PodDemand(
            f"{ns}/{meta['name']}",
            requests,
            (pod.get("spec") or {}).get("nodeName"),
            dict((pod.get("spec") or {}).get("nodeSelector") or {}),
        )
        gang = _gang(pod)
        key = f"{ns}/{gang}" if gang else f"{ns}/{meta['name']}"
        groups.setdefault(key, []).append((pod, demand))
    pdbs = []
    for pdb in budgets:
        meta = pdb["metadata"]
        allowed = int(((pdb.get("status") or {}).get("disruptionsAllowed")) or 0)
        pdbs.append(
            (
                f"{meta.get('namespace', 'default')}/{meta['name']}",
                meta.get("namespace", "default"),
                pdb,
                allowed,
            )
        )
    consumers = []
    for key, members in sorted(groups.items()):
        first = members[0][0]
        labels = first["metadata"].get("labels") or {}
        ns = first["metadata"].get("namespace", "default")
        budget = next(
            (
                name
                for name, where, pdb, _ in pdbs
                if where == ns and _selected((pdb.get("spec") or {}).get("selector"), labels)
            ),
            None,
        )
        consumers.append(
            Consumer(
                key,
                tuple(d for _, d in members),
                gang=len(members) > 1 or _gang(first) is not None,
                budget=budget,
            )
        )
    return consumers, [Budget(name, allowed) for name, _, _, allowed in pdbs]


def read_cluster(
    cluster: Any, target: Target
) -> tuple[list[NodeChange], list[Consumer], list[Budget]]:
    """Nodes (labels, allocatable MIG resources), GPU pods, their PDBs, from a live cluster."""
    nodes_res = cluster.resource("v1", "Node")
    pods_res = cluster.resource("v1", "Pod")
    nodes_raw, _ = cluster.list(nodes_res)
    nodes = []
    for node in nodes_raw:
        labels = (node.get("metadata") or {}).get("labels") or {}
        name = node["metadata"]["name"]
        if MIG_CONFIG_LABEL not in labels and name not in target.configs:
            continue
        alloc = (node.get("status") or {}).get("allocatable") or {}
        capacity = {
            r: int(parse_quantity(v)) for r, v in alloc.items() if r.startswith("nvidia.com/")
        }
        nodes.append(_change(name, labels, capacity, target))
    unknown = sorted(set(target.configs) - {n.name for n in nodes})
    if unknown:
        raise InputError(f"the target names nodes the cluster does not have: {', '.join(unknown)}")
    pods, _ = cluster.list(pods_res)
    pdbs: list[Obj] = []
    pdb_res = cluster.find("policy", "poddisruptionbudgets")
    if pdb_res is not None:
        pdbs, _ = cluster.list(pdb_res)
    consumers, budgets = consumers_from_pods(pods, pdbs)
    return nodes, consumers, budgets
