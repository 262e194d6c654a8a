"""inventory(): per node GPU allocatable, allocated and free; per queue quota and usage."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from gpukit._text import table
from gpukit.kube._client import ApiStatusError, Cluster
from gpukit.kube._connect import use_cluster
from gpukit.kube._discover import group_pools, read_nodes
from gpukit.quantity import parse_quantity

__all__ = ["Inventory", "NodeInventory", "QueueUsage", "ResourceUse", "inventory"]

Obj = dict[str, Any]
_FROZEN = ConfigDict(frozen=True, extra="forbid")
_FINISHED = ("Succeeded", "Failed")


class ResourceUse(BaseModel):
    """One extended resource on one node; allocated is None when pods could not be read."""

    model_config = _FROZEN

    resource: str
    allocatable: int
    allocated: int | None = None

    @property
    def free(self) -> int | None:
        return None if self.allocated is None else max(self.allocatable - self.allocated, 0)


class NodeInventory(BaseModel):
    """A GPU node: model, physical GPUs, set-up, and use of each nvidia.com resource."""

    model_config = _FROZEN

    name: str
    pool: str
    gpu: str
    product: str
    gpus: int
    mig_config: str | None = None
    mig_layout: dict[str, int] = {}
    sharing: str | None = None
    ready: bool = True
    schedulable: bool = True
    resources: tuple[ResourceUse, ...] = ()

    @property
    def state(self) -> str:
        if not self.ready:
            return "NotReady"
        return "Ready" if self.schedulable else "Cordoned"


class QueueUsage(BaseModel):
    """One resource of one queue: quota (nominal or capability) and what is in use."""

    model_config = _FROZEN

    scheduler: str
    kind: str
    name: str
    namespace: str | None = None
    cluster_queue: str | None = None
    flavor: str | None = None
    resource: str | None = None
    quota: str | None = None
    used: str | None = None
    pending: int | None = None
    admitted: int | None = None


class Inventory(BaseModel):
    """GPU capacity and use of a live cluster, as `gpukit inventory` shows it."""

    model_config = _FROZEN

    context: str | None = None
    nodes: tuple[NodeInventory, ...] = ()
    queues: tuple[QueueUsage, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form: free is included per resource."""
        data = self.model_dump(mode="json")
        for node, raw in zip(self.nodes, data["nodes"], strict=True):
            for use, raw_use in zip(node.resources, raw["resources"], strict=True):
                raw_use["free"] = use.free
            raw["state"] = node.state
        return data

    def table(self) -> str:
        rows = []
        for node in self.nodes:
            mig = ", ".join(f"{n}x{c}" for n, c in node.mig_layout.items()) or "-"
            for use in node.resources or (ResourceUse(resource="-", allocatable=0),):
                rows.append(
                    (
                        node.name,
                        node.pool,
                        node.gpu,
                        node.gpus,
                        node.state,
                        use.resource,
                        use.allocatable,
                        use.allocated,
                        use.free,
                        (node.mig_config + ": " + mig)
                        if node.mig_config and node.mig_layout
                        else mig,
                    )
                )
        text = table(
            [
                "NODE",
                "POOL",
                "GPU",
                "GPUS",
                "STATE",
                "RESOURCE",
                "ALLOCATABLE",
                "ALLOCATED",
                "FREE",
                "MIG PER GPU",
            ],
            rows,
        )
        if self.queues:
            qrows = [
                (
                    q.scheduler,
                    q.kind,
                    f"{q.namespace}/{q.name}" if q.namespace else q.name,
                    q.cluster_queue,
                    q.flavor,
                    q.resource,
                    q.quota,
                    q.used,
                    q.pending,
                    q.admitted,
                )
                for q in self.queues
            ]
            text += "\n\n" + table(
                [
                    "SCHEDULER",
                    "KIND",
                    "QUEUE",
                    "CLUSTERQUEUE",
                    "FLAVOR",
                    "RESOURCE",
                    "QUOTA",
                    "USED",
                    "PENDING",
                    "ADMITTED",
                ],
                qrows,
            )
        return text


def pod_requests(pod: Obj) -> dict[str, int]:
    """nvidia.com/* amounts a pod holds: containers summed, init containers' largest if larger."""
    spec = pod.get("spec") or {}

    def amounts(container: Obj) -> dict[str, int]:
        res = container.get("resources") or {}
        merged = {**(res.get("limits") or {}), **(res.get("requests") or {})}
        return {k: int(parse_quantity(v)) for k, v in merged.items() if k.startswith("nvidia.com/")}

    total: dict[str, int] = {}
    for container in spec.get("containers") or []:
        for key, value in amounts(container).items():
            total[key] = total.get(key, 0) + value
    for container in spec.get("initContainers") or []:
        for key, value in amounts(container).items():
            total[key] = max(total.get(key, 0), value)
    return total


def _allocated(cluster: Cluster, notes: list[str]) -> dict[str, dict[str, int]] | None:
    pods_res = cluster.find("", "pods")
    if pods_res is None:
        return None
    try:
        pods, _ = cluster.list(pods_res, fields="status.phase!=Succeeded,status.phase!=Failed")
    except ApiStatusError as exc:
        notes.append(f"allocation unknown: {exc}")
        return None
    per_node: dict[str, dict[str, int]] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or (pod.get("status") or {}).get("phase") in _FINISHED:
            continue
        bucket = per_node.setdefault(node, {})
        for key, value in pod_requests(pod).items():
            bucket[key] = bucket.get(key, 0) + value
    return per_node


def _kueue_usage(cluster: Cluster, notes: list[str]) -> list[QueueUsage]:
    rows: list[QueueUsage] = []
    cq_res = cluster.find("kueue.x-k8s.io", "clusterqueues")
    lq_res = cluster.find("kueue.x-k8s.io", "localqueues")
    if cq_res is not None:
        try:
            cqs, _ = cluster.list(cq_res)
        except ApiStatusError as exc:
            notes.append(f"Kueue ClusterQueue quotas unknown: {exc}")
            cqs = []
        for cq in sorted(cqs, key=lambda o: o["metadata"]["name"]):
            status = cq.get("status") or {}
            used = {
                (f.get("name"), r.get("name")): r.get("total")
                for f in status.get("flavorsUsage") or []
                for r in f.get("resources") or []
            }
            for group in (cq.get("spec") or {}).get("resourceGroups") or []:
                for flavor in group.get("flavors") or []:
                    for res in flavor.get("resources") or []:
                        rows.append(
                            QueueUsage(
                                scheduler="kueue",
                                kind="ClusterQueue",
                                name=cq["metadata"]["name"],
                                flavor=flavor.get("name"),
                                resource=res.get("name"),
                                quota=_text(res.get("nominalQuota")),
                                used=_text(used.get((flavor.get("name"), res.get("name")), "0")),
                                pending=status.get("pendingWorkloads"),
                                admitted=status.get("admittedWorkloads"),
                            )
                        )
    if lq_res is not None:
        try:
            lqs, _ = cluster.list(lq_res)
        except ApiStatusError as exc:
            notes.append(f"Kueue LocalQueues unknown: {exc}")
            lqs = []
        for lq in sorted(
            lqs, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"])
        ):
            status = lq.get("status") or {}
            usage = status.get("flavorsUsage") or status.get("flavorUsage") or []
            base = {
                "scheduler": "kueue",
                "kind": "LocalQueue",
                "name": lq["metadata"]["name"],
                "namespace": lq["metadata"].get("namespace"),
                "cluster_queue": (lq.get("spec") or {}).get("clusterQueue"),
                "pending": status.get("pendingWorkloads"),
                "admitted": status.get("admittedWorkloads"),
            }
            lines = [
                (f.get("name"), r.get("name"), r.get("total"))
                for f in usage
                for r in f.get("resources") or []
            ]
            if not lines:
                rows.append(QueueUsage(**base))
            for flavor, resource, total in lines:
                rows.append(QueueUsage(**base, flavor=flavor, resource=resource, used=_text(total)))
    return rows


def _volcano_usage(cluster: Cluster, notes: list[str]) -> list[QueueUsage]:
    res = cluster.find("scheduling.volcano.sh", "queues")
    if res is None:
        return []
    try:
        queues, _ = cluster.list(res)
    except ApiStatusError as exc:
        notes.append(f"Volcano queue quotas unknown: {exc}")
        return []
    rows = []
    for queue in sorted(queues, key=lambda o: o["metadata"]["name"]):
        spec, status = queue.get("spec") or {}, queue.get("status") or {}
        capability = spec.get("capability") or spec.get("deserved") or {}
        allocated = status.get("allocated") or {}
        resources = sorted(set(capability) | {k for k in allocated if k.startswith("nvidia.com/")})
        base = {
            "scheduler": "volcano",
            "kind": "Queue",
            "name": queue["metadata"]["name"],
            "pending": status.get("pending"),
            "admitted": status.get("running"),
        }
        if not resources:
            rows.append(QueueUsage(**base))
        for resource in resources:
            rows.append(
                QueueUsage(
                    **base,
                    resource=resource,
                    quota=_text(capability.get(resource)),
                    used=_text(allocated.get(resource, "0")),
                )
            )
    return rows


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def inventory(
    context: str | None = None, *, kubeconfig: str | None = None, cluster: Cluster | None = None
) -> Inventory:
    """GPU nodes with allocatable, allocated (limits of pods bound and not finished) and free
    nvidia.com resources, and Kueue / Volcano queue quotas and usage where RBAC allows."""
    cluster, owned = use_cluster(cluster, context, kubeconfig)
    try:
        gpu_nodes, notes, _ = read_nodes(cluster)
        allocated = _allocated(cluster, notes)
        rows = []
        for pool, members in group_pools(gpu_nodes):
            for node in members:
                held = (allocated or {}).get(node.name, {}) if allocated is not None else None
                resources = tuple(
                    ResourceUse(
                        resource=key,
                        allocatable=value,
                        allocated=None if held is None else held.get(key, 0),
                    )
                    for key, value in sorted(node.allocatable.items())
                )
                rows.append(
                    NodeInventory(
                        name=node.name,
                        pool=pool,
                        gpu=node.model.key,
                        product=node.product,
                        gpus=node.gpus,
                        mig_config=node.mig.config_name if node.mig else None,
                        mig_layout=dict(node.mig.layout) if node.mig else {},
                        sharing=(
                            f"{node.sharing.mode} x{node.sharing.replicas}"
                            if node.sharing
                            else None
                        ),
                        ready=node.ready,
                        schedulable=node.schedulable,
                        resources=resources,
                    )
                )
        groups = cluster.api_groups()
        queues: list[QueueUsage] = []
        if "kueue.x-k8s.io" in groups:
            queues += _kueue_usage(cluster, notes)
        if "scheduling.volcano.sh" in groups:
            queues += _volcano_usage(cluster, notes)
        return Inventory(
            context=cluster.context,
            nodes=tuple(sorted(rows, key=lambda r: r.name)),
            queues=tuple(queues),
            notes=tuple(notes),
        )
    finally:
        if owned:
            cluster.close()
