"""discover(): a Fleet read from a live cluster's nodes (GFD labels), APIs and queues."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from gpukit import vocab
from gpukit.dra.slices import SliceFindings, read_slices
from gpukit.errors import ClusterError, GpukitError
from gpukit.fleet import Fleet, Installed, MigConfig, NodePool, Queue, Sharing, Taint
from gpukit.hardware import GpuModel
from gpukit.hardware.catalog import catalog
from gpukit.integrations import installed_flags, versions_from_api
from gpukit.kube._client import ApiStatusError, Cluster
from gpukit.kube._connect import use_cluster
from gpukit.quantity import format_bytes, parse_quantity
from gpukit.topology.discover import discover_topology

__all__ = ["Discovery", "discover", "discover_cluster", "fleet_from_option"]

Obj = dict[str, Any]

#: Labels that name a node's pool (first found wins): gpukit's own, then the clouds'.
NODE_POOL_LABELS = (
    "gpukit.io/pool",
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
    "karpenter.sh/nodepool",
    "kubernetes.azure.com/agentpool",
    "agentpool",
    "doks.digitalocean.com/node-pool",
)
#: A label that names the team a Volcano Queue or Kueue LocalQueue belongs to.
TEAM_LABEL = vocab.GPUKIT_TEAM_LABEL
#: Taints that come and go with a node's life, not with its pool.
TRANSIENT_TAINTS = (
    "node.kubernetes.io/",
    "node.cloudprovider.kubernetes.io/",
    "ToBeDeletedByClusterAutoscaler",
    "DeletionCandidateOfClusterAutoscaler",
    "karpenter.sh/disrupted",
    "karpenter.sh/disruption",
)

_MIG_COUNT = re.compile(r"^nvidia\.com/mig-(?P<profile>.+)\.count$")


class Discovery(BaseModel):
    """What discover_cluster() found: the Fleet, each GPU node's pool, and notes for people."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fleet: Fleet
    node_pools: dict[str, str]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class GpuNode:
    """One node's GPU facts as GFD and the device plugin report them."""

    name: str
    model: GpuModel
    product: str
    gpus: int
    mig: MigConfig | None
    sharing: Sharing | None
    pool_label: tuple[str, str] | None
    taints: tuple[Taint, ...]
    allocatable: dict[str, int]
    cpu: int | None
    memory: int | None
    ready: bool
    schedulable: bool
    labels: dict[str, str] = field(default_factory=dict)

    def group_key(self) -> tuple[Any, ...]:
        mig = self.mig.model_dump_json() if self.mig else None
        sharing = self.sharing.model_dump_json() if self.sharing else None
        taints = tuple(t.model_dump_json() for t in self.taints)
        return (self.model.key, self.product, self.gpus, mig, sharing, self.pool_label, taints)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(parse_quantity(value))
    except (TypeError, ValueError):
        return default


def read_gpu_node(node: Obj) -> tuple[GpuNode | None, list[str]]:
    """(GPU facts, notes) for one Node object; None for a node without GPUs or one skipped."""
    meta = node.get("metadata") or {}
    name = meta.get("name", "?")
    labels: dict[str, str] = dict(meta.get("labels") or {})
    status = node.get("status") or {}
    allocatable = {
        k: _int(v)
        for k, v in (status.get("allocatable") or {}).items()
        if k.startswith("nvidia.com/")
    }
    product_label = labels.get("nvidia.com/gpu.product")
    if not product_label:
        if any(allocatable.values()):
            return None, [
                (
                    f"node {name}: advertises {', '.join(sorted(allocatable))} but has no "
                    "nvidia.com/gpu.product label; skipped (run GPU Feature Discovery, "
                    "part of the GPU Operator, to label it)"
                )
            ]
        return None, []
    product = re.sub(r"-SHARED$", "", product_label)
    single_profile = None
    if "-MIG-" in product:
        product, single_profile = product.rsplit("-MIG-", 1)
    if single_profile == "INVALID":
        return None, [
            (
                f"node {name}: GPU Feature Discovery reports an invalid MIG layout "
                f"({product_label}): under the single strategy every GPU needs the same "
                "profile; skipped"
            )
        ]
    model = catalog().by_product(product)
    if model is None:
        return None, [
            (
                f"node {name}: GPU product {product!r} is not in gpukit's catalog; "
                "skipped (add the model to gpukit/hardware/data/gpus.yaml)"
            )
        ]
    notes: list[str] = []
    config_name = labels.get("nvidia.com/mig.config")
    count = _int(labels.get("nvidia.com/gpu.count"))
    mode = labels.get("nvidia.com/gpu.sharing-strategy")
    replicas = _int(labels.get("nvidia.com/gpu.replicas"), 1)
    rename = any(k.endswith(".shared") for k in allocatable)
    mig: MigConfig | None = None
    try:
        if single_profile is not None:
            profile = model.profile(single_profile)
            per_gpu = profile.max_instances
            gpus = max(1, count // per_gpu)
            if count % per_gpu:
                notes.append(
                    f"node {name}: {count} {profile.name} devices do not fill whole "
                    f"GPUs ({per_gpu} per GPU); counted as {gpus} GPUs"
                )
            mig = MigConfig(
                strategy="single", layout={profile.name: per_gpu}, config_name=config_name
            )
        else:
            devices = _mig_devices(labels, allocatable)
            gpus = count or (allocatable.get("nvidia.com/gpu", 0) // max(replicas, 1))
            if devices and gpus:
                layout = {}
                for profile_name, total in devices.items():
                    profile = model.profile(profile_name)
                    if total % gpus:
                        notes.append(
                            f"node {name}: {total} {profile.name} devices over {gpus} "
                            f"GPUs differ per GPU; counted as {total // gpus} per GPU"
                        )
                    if total // gpus:
                        layout[profile] = total // gpus
                ordered = sorted(layout, key=lambda p: (p.memory_slices, p.compute_slices, p.name))
                mig = MigConfig(
                    strategy="mixed",
                    layout={p.name: layout[p] for p in ordered},
                    config_name=config_name,
                )
                first = next(iter(devices))
                mode = labels.get(f"nvidia.com/mig-{first}.sharing-strategy", "none")
                replicas = _int(labels.get(f"nvidia.com/mig-{first}.replicas"), 1)
    except GpukitError as exc:
        return None, [f"node {name}: {exc}; skipped"]
    if gpus <= 0:
        return None, [f"node {name}: reports no GPUs (nvidia.com/gpu.count is 0); skipped"]
    sharing = None
    if mode in ("time-slicing", "mps") and replicas >= 2:
        sharing = Sharing(
            mode=mode,
            replicas=replicas,
            rename_by_default=rename,
            config_name=labels.get("nvidia.com/device-plugin.config"),
        )
    spec = node.get("spec") or {}
    taints = tuple(
        Taint(key=t["key"], value=t.get("value") or None, effect=t.get("effect", "NoSchedule"))
        for t in spec.get("taints") or []
        if not t.get("key", "").startswith(TRANSIENT_TAINTS)
        and t.get("effect") in ("NoSchedule", "PreferNoSchedule", "NoExecute")
    )
    pool_label = next(((k, labels[k]) for k in NODE_POOL_LABELS if labels.get(k)), None)
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    node_alloc = status.get("allocatable") or {}
    cpu = int(parse_quantity(node_alloc["cpu"])) if "cpu" in node_alloc else None
    memory = int(parse_quantity(node_alloc["memory"])) if "memory" in node_alloc else None
    return GpuNode(
        name=name,
        model=model,
        product=product,
        gpus=gpus,
        mig=mig,
        sharing=sharing,
        pool_label=pool_label,
        taints=taints,
        allocatable=allocatable,
        cpu=cpu,
        memory=memory,
        ready=ready,
        schedulable=not spec.get("unschedulable"),
        labels=labels,
    ), notes


def _mig_devices(labels: dict[str, str], allocatable: dict[str, int]) -> dict[str, int]:
    """MIG profile (resource form) -> devices on the node, from GFD counts or allocatable."""
    devices = {}
    for key, value in labels.items():
        match = _MIG_COUNT.match(key)
        if match and _int(value):
            devices[match["profile"]] = _int(value)
    if not devices:
        for key, value in allocatable.items():
            if key.startswith("nvidia.com/mig-") and value:
                profile = key.removeprefix("nvidia.com/mig-").removesuffix(".shared")
                replicas = _int(labels.get(f"nvidia.com/mig-{profile}.replicas"), 1)
                devices[profile] = value // max(replicas, 1)
    return dict(sorted(devices.items()))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "pool"


def _pool_name(node: GpuNode) -> str:
    if node.pool_label:
        return _slug(node.pool_label[1])
    name = node.model.key.lower()
    if node.mig:
        name += "-" + (node.mig.config_name or "mig")
    if node.sharing:
        name += "-" + node.sharing.mode
    return _slug(name)


def _qualifiers(node: GpuNode) -> list[str]:
    return [
        (node.mig.config_name or "mig") if node.mig else "whole",
        node.sharing.mode if node.sharing else "",
        node.model.key.lower(),
        f"{node.gpus}gpu",
    ]


def group_pools(nodes: Iterable[GpuNode]) -> list[tuple[str, list[GpuNode]]]:
    """Nodes grouped into pools (same GPU, MIG and sharing set-up, pool label, taints), named.

    A pool is named after its node-pool label, else its GPU and set-up; when two pools would
    share a name, what tells them apart (MIG config, sharing, model, GPUs per node) is added.
    """
    groups: dict[tuple[Any, ...], list[GpuNode]] = {}
    for node in sorted(nodes, key=lambda n: n.name):
        groups.setdefault(node.group_key(), []).append(node)
    ordered = sorted(groups.values(), key=lambda members: (_pool_name(members[0]), members[0].name))
    bases = [_pool_name(m[0]) for m in ordered]
    names = list(bases)
    for base in sorted(set(bases)):
        clash = [i for i, b in enumerate(bases) if b == base]
        if len(clash) < 2:
            continue
        for depth in range(1, 5):
            tried = {
                i: _slug("-".join([base, *[q for q in _qualifiers(ordered[i][0])[:depth] if q]]))
                for i in clash
            }
            if len(set(tried.values())) == len(clash):
                break
        for i, name in tried.items():
            names[i] = name
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[i] = f"{name}-{seen[name]}"
    return list(zip(names, ordered, strict=True))


def _node_pool(name: str, members: list[GpuNode]) -> NodePool:
    first = members[0]
    cpus = [m.cpu for m in members if m.cpu]
    memories = [m.memory for m in members if m.memory]
    return NodePool(
        name=name,
        gpu=first.model.key,
        gpus_per_node=first.gpus,
        nodes=len(members),
        product=first.product,
        mig=first.mig,
        sharing=first.sharing,
        labels=dict([first.pool_label]) if first.pool_label else {},
        taints=first.taints,
        cpu_per_node=min(cpus) if cpus else None,
        memory_per_node=format_bytes(min(memories)) if memories else None,
    )


def _installed(cluster: Cluster, gpu_nodes: list[GpuNode], notes: list[str]) -> Installed:
    groups = cluster.api_groups()

    def serves(group: str, plural: str) -> bool:
        return group in groups and cluster.find(group, plural) is not None

    dra = False
    device_classes = cluster.find("resource.k8s.io", "deviceclasses")
    if device_classes is not None:
        try:
            items, _ = cluster.list(device_classes)
            dra = any(i["metadata"]["name"].endswith("nvidia.com") for i in items)
        except ApiStatusError as exc:
            notes.append(f"DRA: {exc}; assuming no NVIDIA DRA driver")
    dcgm = any(n.labels.get("nvidia.com/gpu.deploy.dcgm-exporter") == "true" for n in gpu_nodes)
    if not dcgm:
        pods = cluster.find("", "pods")
        try:
            if pods is not None:
                for selector in (
                    "app=nvidia-dcgm-exporter",
                    "app.kubernetes.io/name=dcgm-exporter",
                ):
                    if cluster.list(pods, labels=selector)[0]:
                        dcgm = True
                        break
        except ApiStatusError as exc:
            notes.append(f"DCGM exporter: {exc}; assuming it is not deployed")
    # Each integration says how it is detected (gpukit.integrations); DRA and DCGM need more
    # than the API groups, so they are read above.
    flags = {
        k: v
        for k, v in installed_flags(groups, serves).items()
        if k not in ("dra", "dcgm_exporter")
    }
    return Installed(**flags, dcgm_exporter=dcgm, dra=dra)


def _queues(cluster: Cluster, installed: Installed, notes: list[str]) -> list[Queue]:
    queues: list[Queue] = []
    if installed.kueue:
        res = cluster.find("kueue.x-k8s.io", "localqueues")
        try:
            items = cluster.list(res)[0] if res else []
        except ApiStatusError as exc:
            notes.append(f"Kueue queues unknown: {exc}")
            items = []
        for item in sorted(
            items, key=lambda i: (i["metadata"].get("namespace", ""), i["metadata"]["name"])
        ):
            meta = item["metadata"]
            queues.append(
                Queue(
                    name=meta["name"],
                    scheduler="kueue",
                    team=(meta.get("labels") or {}).get(TEAM_LABEL) or meta.get("namespace"),
                    namespace=meta.get("namespace"),
                    cluster_queue=(item.get("spec") or {}).get("clusterQueue"),
                )
            )
    if installed.volcano:
        res = cluster.find("scheduling.volcano.sh", "queues")
        try:
            items = cluster.list(res)[0] if res else []
        except ApiStatusError as exc:
            notes.append(f"Volcano queues unknown: {exc}")
            items = []
        for item in sorted(items, key=lambda i: i["metadata"]["name"]):
            meta = item["metadata"]
            state = (item.get("status") or {}).get("state", "Open")
            if meta["name"] == "root":
                continue  # the hierarchy's root: jobs go to its children
            if state != "Open":
                notes.append(f"Volcano queue {meta['name']} is {state}; left out of the fleet")
                continue
            queues.append(
                Queue(
                    name=meta["name"],
                    scheduler="volcano",
                    team=(meta.get("labels") or {}).get(TEAM_LABEL) or meta["name"],
                )
            )
    if installed.kai:
        notes.append(
            "KAI Scheduler queues (scheduling.run.ai) are not part of the fleet model "
            "yet; plans do not target them"
        )
    return queues


def _dra_slices(cluster: Cluster, notes: list[str]) -> SliceFindings | None:
    """What the NVIDIA DRA driver's ResourceSlices publish, or None where none are served."""
    res = cluster.find("resource.k8s.io", "resourceslices")
    if res is None:
        return None
    try:
        items, _ = cluster.list(res)
    except ApiStatusError as exc:
        notes.append(f"DRA ResourceSlices: {exc}; GPUs read from node labels only")
        return None
    return read_slices(items)


def _with_slice_labels(node: Obj, labels: dict[str, dict[str, str]]) -> Obj:
    """The node with the GFD-style labels its ResourceSlices imply, where GFD wrote none."""
    meta = node.get("metadata") or {}
    found = labels.get(meta.get("name", ""))
    if not found or (meta.get("labels") or {}).get("nvidia.com/gpu.product"):
        return node
    merged = {**found, **(meta.get("labels") or {})}
    return {**node, "metadata": {**meta, "labels": merged}}


def read_nodes(
    cluster: Cluster, slice_labels: dict[str, dict[str, str]] | None = None
) -> tuple[list[GpuNode], list[str], int]:
    """(GPU nodes, notes, number of nodes listed). ``slice_labels``: per node, the labels
    its DRA ResourceSlices imply, for nodes GPU Feature Discovery did not label."""
    nodes_res = cluster.find("", "nodes")
    if nodes_res is None:
        raise ClusterError(
            f"the API at {cluster.server} serves no nodes resource; "
            "is this a Kubernetes API server?"
        )
    items, _ = cluster.list(nodes_res)
    gpu_nodes: list[GpuNode] = []
    notes: list[str] = []
    for item in items:
        node, node_notes = read_gpu_node(_with_slice_labels(item, slice_labels or {}))
        notes.extend(node_notes)
        if node is not None:
            gpu_nodes.append(node)
            if not node.ready:
                notes.append(
                    f"node {node.name} is NotReady; counted in pool, but its GPUs "
                    "are not usable now"
                )
            elif not node.schedulable:
                notes.append(
                    f"node {node.name} is cordoned; counted in its pool, but no new pods land there"
                )
    return gpu_nodes, notes, len(items)


def discover_cluster(
    context: str | None = None, *, kubeconfig: str | None = None, cluster: Cluster | None = None
) -> Discovery:
    """The Fleet of a live cluster, which pool each GPU node is in, and notes on what was odd.

    Reads nodes (required), API discovery, device classes, DRA ResourceSlices (a node's GPUs
    where GPU Feature Discovery did not label it; the driver's consumable shares and dynamic
    MIG), LocalQueues and Volcano Queues (each optional: a forbidden read becomes a note).
    """
    cluster, owned = use_cluster(cluster, context, kubeconfig)
    try:
        slice_notes: list[str] = []
        findings = _dra_slices(cluster, slice_notes)
        gpu_nodes, notes, listed = read_nodes(cluster, findings.labels if findings else None)
        notes[:0] = slice_notes
        where = f"context {cluster.context!r}" if cluster.context else cluster.server
        if not gpu_nodes:
            skipped = f"; {'; '.join(notes)}" if notes else ""
            raise ClusterError(
                f"no GPU nodes in {where}: none of its {listed} nodes has the "
                f"nvidia.com/gpu.product label GPU Feature Discovery writes{skipped}; install the "
                "GPU Operator (or GPU Feature Discovery), or give a fleet file with --fleet"
            )
        pools: list[NodePool] = []
        node_pools: dict[str, str] = {}
        for name, members in group_pools(gpu_nodes):
            try:
                pools.append(_node_pool(name, members))
            except ValidationError as exc:
                notes.append(
                    f"pool {name} ({', '.join(m.name for m in members)}): "
                    f"{exc.errors()[0]['msg']}; skipped"
                )
                continue
            node_pools.update({m.name: name for m in members})
        if not pools:
            raise ClusterError(f"no usable GPU pool in {where}: {'; '.join(notes)}")
        installed = _installed(cluster, gpu_nodes, notes)
        queues = _queues(cluster, installed, notes)
        # Network levels from the nodes' zone, block, rack and NVLink-clique labels.
        topology = discover_topology(
            {m.name: (node_pools[m.name], m.labels) for m in gpu_nodes if m.name in node_pools}
        )
        fleet = Fleet(
            name=cluster.context or "live",
            description=f"discovered from {where}: {len(node_pools)} GPU nodes in "
            f"{len(pools)} pools",
            node_pools=tuple(pools),
            installed=installed,
            dra=findings.settings() if findings and installed.dra else {},
            queues=tuple(queues),
            # Where served API versions tell (Kueue without v1beta2 is older than 0.15).
            versions=versions_from_api(cluster.api_groups()),
            topology=topology,
        )
        return Discovery(
            fleet=fleet, node_pools=dict(sorted(node_pools.items())), notes=tuple(notes)
        )
    finally:
        if owned:
            cluster.close()


def discover(
    context: str | None = None, *, kubeconfig: str | None = None, cluster: Cluster | None = None
) -> Fleet:
    """The Fleet of a live cluster: node pools from GFD labels, installed schedulers, queues.

    >>> fleet = gpukit.kube.discover()          # doctest: +SKIP
    >>> gpukit.plan(workload, fleet)            # doctest: +SKIP
    """
    return discover_cluster(context, kubeconfig=kubeconfig, cluster=cluster).fleet


def fleet_from_option(value: str | os.PathLike[str] | None) -> Fleet:
    """--fleet: None -> the embedded default fleet, 'live' (or 'live:CONTEXT') -> discover(),
    anything else -> a fleet file."""
    from gpukit.fleet import default_fleet, load_fleet

    if value is None:
        return default_fleet()
    text = str(value)
    if text == "live" or text.startswith("live:"):
        context = text.partition(":")[2] or None
        if context is None and Path(text).is_file():
            return load_fleet(text)  # a file literally called 'live'
        return discover(context)
    return load_fleet(text)
