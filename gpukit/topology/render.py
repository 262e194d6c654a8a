"""Topology rendered per scheduler: the workload's constraint fields and the platform objects.

Workload side (``apply``): Kueue reads the pod-set annotations on each pod template; Volcano
the Job's (or PodGroup's) ``networkTopology``; KAI the ``kai.scheduler/topology*``
annotations on the top-level object, which its pod grouper copies to the PodGroup's
``topologyConstraint``. Platform side: Kueue's and KAI's Topology objects (levels as node
labels, broadest first), the ResourceFlavor's ``topologyName``, Volcano's HyperNode tree.
Fields as in Kueue v0.19, Volcano v1.15 and KAI v0.17 (their CRDs are vendored in
gpukit/validate/schemas).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpukit.topology.model import PoolLayout, Topology
from gpukit.topology.planning import Constraint, decide

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor.plan import Plan
    from gpukit.fleet import Fleet, NodePool

__all__ = [
    "COMPUTE_DOMAIN_API",
    "COMPUTE_DOMAIN_CLAIM",
    "KAI_PREFERRED_ANNOTATION",
    "KAI_REQUIRED_ANNOTATION",
    "KAI_TOPOLOGY_ANNOTATION",
    "KAI_TOPOLOGY_API",
    "KUEUE_PREFERRED_ANNOTATION",
    "KUEUE_REQUIRED_ANNOTATION",
    "KUEUE_TOPOLOGY_API",
    "VOLCANO_TOPOLOGY_API",
    "apply",
    "compute_domain",
    "constraint_for",
    "domain_names",
    "flavor_topology_name",
    "kai_topology",
    "kueue_topology",
    "volcano_hypernodes",
]

Obj = dict[str, Any]

KUEUE_TOPOLOGY_API = "kueue.x-k8s.io/v1beta2"
KUEUE_REQUIRED_ANNOTATION = "kueue.x-k8s.io/podset-required-topology"
KUEUE_PREFERRED_ANNOTATION = "kueue.x-k8s.io/podset-preferred-topology"
VOLCANO_TOPOLOGY_API = "topology.volcano.sh/v1alpha1"
KAI_TOPOLOGY_API = "kai.scheduler/v1alpha1"
KAI_TOPOLOGY_ANNOTATION = "kai.scheduler/topology"
KAI_REQUIRED_ANNOTATION = "kai.scheduler/topology-required-placement"
KAI_PREFERRED_ANNOTATION = "kai.scheduler/topology-preferred-placement"
#: NVIDIA's DRA driver (k8s-dra-driver-gpu): a ComputeDomain sets up IMEX across the nodes
#: of a multi-node NVLink job; its controller creates the ResourceClaimTemplate it names.
COMPUTE_DOMAIN_API = "resource.nvidia.com/v1beta1"
COMPUTE_DOMAIN_CLAIM = "compute-domain"

#: The objects that run a plan (the ones KAI's pod grouper reads as a pod's top owner).
_WORKLOAD_KINDS = frozenset(
    {"Pod", "Deployment", "Job", "JobSet", "PyTorchJob", "TrainJob", "LeaderWorkerSet"}
)


def constraint_for(plan: Plan) -> Constraint | None:
    """The topology constraint of ``plan``'s gang, or None."""
    return decide(plan.fleet, plan.choice.pool, plan.workload.kind, plan.workers, plan.choice.gpus)


# -- workload side -------------------------------------------------------------------------


def _pod_templates(node: Any) -> list[Obj]:
    """Every pod template (a dict with metadata and a spec holding containers) inside node."""
    found: list[Obj] = []
    if isinstance(node, dict):
        spec = node.get("spec")
        if (
            isinstance(spec, dict)
            and isinstance(spec.get("containers"), list)
            and "kind" not in node
        ):
            found.append(node)
        for value in node.values():
            found += _pod_templates(value)
    elif isinstance(node, list):
        for value in node:
            found += _pod_templates(value)
    return found


def _annotate(meta: Obj, values: dict[str, str]) -> None:
    meta.setdefault("annotations", {}).update(values)


def apply(plan: Plan, objects: list[Obj]) -> list[Obj]:
    """``objects`` (as rendered for ``plan``) with its topology constraint; in place, returned."""
    constraint = constraint_for(plan)
    if constraint is None:
        return objects
    label = constraint.level.label
    for obj in objects:
        kind = obj.get("kind")
        if plan.scheduler == "kueue" and kind in _WORKLOAD_KINDS:
            key = KUEUE_REQUIRED_ANNOTATION if constraint.required else KUEUE_PREFERRED_ANNOTATION
            for template in _pod_templates(obj.get("spec", {})):
                _annotate(template.setdefault("metadata", {}), {key: label})
        elif plan.scheduler == "volcano" and (
            (kind == "Job" and obj["apiVersion"].startswith("batch.volcano.sh/"))
            or kind == "PodGroup"
        ):
            if constraint.tier is not None:
                obj["spec"]["networkTopology"] = {
                    "mode": "hard" if constraint.required else "soft",
                    "highestTierAllowed": constraint.tier,
                }
        elif plan.scheduler == "kai" and kind in _WORKLOAD_KINDS:
            key = KAI_REQUIRED_ANNOTATION if constraint.required else KAI_PREFERRED_ANNOTATION
            _annotate(obj["metadata"], {KAI_TOPOLOGY_ANNOTATION: constraint.topology, key: label})
    domain = compute_domain(plan, constraint)
    if domain is not None:
        _join_compute_domain(objects, domain["spec"]["channel"]["resourceClaimTemplate"]["name"])
        objects.insert(0, domain)
    return objects


def compute_domain(plan: Plan, constraint: Constraint | None = None) -> Obj | None:
    """The ComputeDomain a gang inside one multi-node NVLink domain needs (GB200 NVL72-class
    fleets with NVIDIA's DRA driver), or None.

    ``numNodes`` 0: with the driver's default IMEXDaemonsWithDNSNames the count only feeds
    the object's status and is deprecated; each pod starts once its own node's IMEX daemon runs.
    """
    constraint = constraint or constraint_for(plan)
    if (
        constraint is None
        or constraint.level.name != "nvlink"
        or constraint.nodes < 2
        or not plan.fleet.installed.dra
    ):
        return None
    return {
        "apiVersion": COMPUTE_DOMAIN_API,
        "kind": "ComputeDomain",
        "metadata": {"name": plan.name, "namespace": plan.namespace, "labels": _managed()},
        "spec": {
            "numNodes": 0,
            "channel": {"resourceClaimTemplate": {"name": f"{plan.name}-{COMPUTE_DOMAIN_CLAIM}"}},
        },
    }


def _join_compute_domain(objects: list[Obj], template: str) -> None:
    """Every GPU pod claims the domain's IMEX channel (the template the controller makes)."""
    for obj in objects:
        if obj.get("kind") not in _WORKLOAD_KINDS and not obj.get("apiVersion", "").startswith(
            "batch.volcano.sh/"
        ):
            continue
        for pod in _pod_templates(obj.get("spec", {})):
            spec = pod["spec"]
            claims = spec.setdefault("resourceClaims", [])
            claims.append({"name": COMPUTE_DOMAIN_CLAIM, "resourceClaimTemplateName": template})
            for c in spec["containers"]:
                limits = c.get("resources", {}).get("limits", {})
                if any(str(k).startswith("nvidia.com/") for k in limits) or "claims" in c.get(
                    "resources", {}
                ):
                    c.setdefault("resources", {}).setdefault("claims", []).append(
                        {"name": COMPUTE_DOMAIN_CLAIM}
                    )


# -- platform side ---------------------------------------------------------------------------


def _levels(topo: Topology, key: str = "nodeLabel") -> list[Obj]:
    return [{key: level.label} for level in topo.levels]


def kueue_topology(fleet: Fleet) -> list[Obj]:
    """Kueue's Topology: the levels' node labels, broadest first (none without a topology)."""
    topo = fleet.topology
    if topo is None or not topo.pools:
        return []
    return [
        {
            "apiVersion": KUEUE_TOPOLOGY_API,
            "kind": "Topology",
            "metadata": {"name": topo.name, "labels": _managed()},
            "spec": {"levels": _levels(topo)},
        }
    ]


def flavor_topology_name(fleet: Fleet, pool: NodePool) -> dict[str, str]:
    """The ResourceFlavor fields that tie ``pool`` to the Topology: ``topologyName``, or {}."""
    topo = fleet.topology
    if topo is None or pool.name not in topo.pools:
        return {}
    return {"topologyName": topo.name}


def kai_topology(fleet: Fleet) -> list[Obj]:
    """KAI's Topology: the same levels (KAI names its own resource; same shape as Kueue's)."""
    topo = fleet.topology
    if topo is None or not topo.pools:
        return []
    return [
        {
            "apiVersion": KAI_TOPOLOGY_API,
            "kind": "Topology",
            "metadata": {"name": topo.name, "labels": _managed()},
            "spec": {"levels": [{"nodeLabel": lv.label, "alias": lv.name} for lv in topo.levels]},
        }
    ]


def domain_names(topo: Topology, pool: NodePool, level: str) -> list[str]:
    """The label values of ``pool``'s domains at ``level``: the fleet's names or
    ``<pool>-<level>-<n>``, one per ``nodes_per`` nodes, in node order."""
    layout = topo.pools[pool.name]
    named = layout.domains.get(level)  # type: ignore[call-overload]
    if named:
        return list(named)
    size = layout.nodes_per.get(level)  # type: ignore[call-overload]
    if not size:
        return []
    return [f"{pool.name}-{level}-{n}" for n in range(-(-pool.nodes // size))]


def volcano_hypernodes(fleet: Fleet) -> list[Obj]:
    """Volcano's HyperNode tree: tier 1 holds the nodes of one tightest domain (selected by
    its label), each higher tier the HyperNodes of the tier below that it contains (domains
    numbered in node order, so nodes_per of the broader level over the narrower's groups them)."""
    topo = fleet.topology
    if topo is None:
        return []
    out: list[Obj] = []
    for pool in fleet.node_pools:
        if pool.name not in topo.pools:
            continue
        below: tuple[str, list[str], int] | None = None
        for level in topo.network_levels:
            names = domain_names(topo, pool, level.name)
            size = topo.nodes_per(pool.name, level.name)
            if not names or size is None:
                continue
            tier = topo.tier(level.name)
            for index, name in enumerate(names):
                if below is None:
                    members = [
                        {
                            "type": "Node",
                            "selector": {"labelMatch": {"matchLabels": {level.label: name}}},
                        }
                    ]
                else:
                    members = [
                        {"type": "HyperNode", "selector": {"exactMatch": {"name": _hn(child)}}}
                        for child in _children(topo.pools[pool.name], below, index, name, size)
                    ]
                if members:
                    out.append(
                        {
                            "apiVersion": VOLCANO_TOPOLOGY_API,
                            "kind": "HyperNode",
                            "metadata": {"name": _hn(name), "labels": _managed()},
                            "spec": {"tier": tier, "tierName": level.name, "members": members},
                        }
                    )
            below = (level.name, names, size)
    return out


def _children(
    layout: PoolLayout, below: tuple[str, list[str], int], index: int, name: str, size: int
) -> list[str]:
    """The narrower domains inside domain ``name`` (the ``index``-th of its level)."""
    _, child_names, child_size = below
    if layout.parents:
        return [child for child in child_names if layout.parents.get(child) == name]
    per = max(1, size // child_size)
    return child_names[index * per : (index + 1) * per]


def _hn(value: str) -> str:
    """A HyperNode name from a domain label value (lower case, DNS-safe)."""
    cleaned = "".join(c if c.isalnum() or c in "-." else "-" for c in value.lower()).strip("-.")
    return cleaned[:253] or "domain"


def _managed() -> dict[str, str]:
    from gpukit.vocab import managed_by

    return managed_by()
