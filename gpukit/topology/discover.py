"""Fleet topology read from a live cluster's node labels: which levels exist, how big each
pool's domains are, and which domain sits in which."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from gpukit.topology.model import LEVEL_ORDER, Level, PoolLayout, Topology

__all__ = ["KNOWN_LABELS", "discover_topology"]

#: Node labels that name a network domain, with the level they stand for and who writes them.
#: First match per level wins.
KNOWN_LABELS: tuple[tuple[str, str, str], ...] = (
    ("topology.kubernetes.io/zone", "zone", "Kubernetes well-known label"),
    # GKE (A3/A4 reservations): block, sub-block (one rack; on A4X the NVL72 domain), host.
    ("cloud.google.com/gce-topology-block", "block", "GKE"),
    ("cloud.google.com/gce-topology-subblock", "rack", "GKE"),
    # EKS (EC2 instance topology): layer-1 is the top of the network, layer-3 the switch
    # nearest the instance.
    ("topology.k8s.aws/network-node-layer-2", "block", "EKS"),
    ("topology.k8s.aws/network-node-layer-3", "rack", "EKS"),
    # Kueue's documentation uses these names; some on-premises clusters copy them.
    ("cloud.provider.com/topology-block", "block", "Kueue docs convention"),
    ("cloud.provider.com/topology-rack", "rack", "Kueue docs convention"),
    # GPU Feature Discovery on multi-node NVLink systems (GB200 NVL72): <cluster UUID>.<clique>.
    ("nvidia.com/gpu.clique", "nvlink", "NVIDIA GPU Feature Discovery"),
)

_HOST = "kubernetes.io/hostname"


def discover_topology(
    nodes: Mapping[str, tuple[str, Mapping[str, str]]], name: str = "gpukit"
) -> Topology | None:
    """The topology of ``nodes`` (node name -> (pool, labels)), or None when no GPU node
    carries a known domain label. Each pool's ``nodes_per`` a level is its largest domain."""
    found: dict[str, str] = {}
    for label, level, _ in KNOWN_LABELS:
        if level not in found and any(label in labels for _, labels in nodes.values()):
            found[level] = label
    if not found:
        return None
    levels = [Level(name=lv, label=found[lv]) for lv in LEVEL_ORDER if lv in found]  # type: ignore[arg-type]
    levels.append(Level(name="host", label=_HOST))
    pools: dict[str, PoolLayout] = {}
    for pool in sorted({pool for pool, _ in nodes.values()}):
        members = [labels for p, labels in nodes.values() if p == pool]
        nodes_per: dict[str, int] = {}
        domains: dict[str, tuple[str, ...]] = {}
        parents: dict[str, str] = {}
        broader: str | None = None
        for level in levels[:-1]:
            values = Counter(m[level.label] for m in members if level.label in m)
            if values:
                nodes_per[level.name] = max(values.values())
                domains[level.name] = tuple(sorted(values))
                if broader is not None:
                    for m in members:
                        if level.label in m and broader in m:
                            parents.setdefault(m[level.label], m[broader])
                broader = level.label
        if nodes_per:
            pools[pool] = PoolLayout(nodes_per=nodes_per, domains=domains, parents=parents)  # type: ignore[arg-type]
    return Topology(name=name, levels=tuple(levels), pools=pools)
