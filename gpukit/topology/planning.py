"""The topology constraint of a gang: which level must (or should) hold all its workers, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gpukit.topology.model import Level, Topology

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.fleet import Fleet

__all__ = ["Constraint", "decide", "nodes_spanned"]

Mode = Literal["required", "preferred"]

#: Levels whose links keep a gang's per-step collectives off the critical path: one host
#: (NVLink/NVSwitch), one multi-node NVLink domain, one rack (one leaf switch, non-blocking).
#: Above a rack, traffic crosses spine links that are usually oversubscribed.
FAST_LEVELS = frozenset({"host", "nvlink", "rack"})

_WHY = {
    "host": "one host: the workers talk over NVLink inside the node",
    "nvlink": "one NVLink domain: the workers' collectives run over multi-node NVLink",
    "rack": (
        "one rack: every worker sits under one leaf switch, so all-reduce runs at full "
        "link speed instead of crossing the oversubscribed spine"
    ),
}


@dataclass(frozen=True)
class Constraint:
    """All of a gang's pods in one domain of ``level``: ``required`` (wait until one is free)
    or ``preferred`` (the scheduler packs as tightly as it can, then spills over)."""

    level: Level
    mode: Mode
    nodes: int
    code: str
    message: str
    topology: str
    tier: int | None

    @property
    def required(self) -> bool:
        return self.mode == "required"


def nodes_spanned(gpus_per_node: int, workers: int, gpus_per_worker: int) -> int:
    """Nodes a gang of ``workers`` pods of ``gpus_per_worker`` GPUs occupies, packed."""
    per_node = max(1, gpus_per_node // max(1, gpus_per_worker))
    return -(-workers // per_node)


def _tightest_holding(topo: Topology, pool: str, nodes: int) -> Level | None:
    for level in reversed(topo.levels):
        size = topo.nodes_per(pool, level.name)
        if size is not None and size >= nodes:
            return level
    return None


def decide(
    fleet: Fleet, pool: str, kind: str, workers: int, gpus_per_worker: int
) -> Constraint | None:
    """The constraint for a gang of ``workers`` pods on ``pool``, or None (no gang, or the
    fleet declares no topology for the pool).

    The rule: find the tightest declared level one of whose domains holds the gang (sized
    from the GPUs per worker and the pool's nodes per domain). A fast level (host, NVLink
    domain, rack) is *required*: the job waits for a free domain rather than run at the
    speed of the slowest link. Above a rack the gang must cross racks anyway; requiring a
    whole free block would only make it wait, so the tightest level is *preferred*. Serving
    with tensor parallelism across nodes (``inference``) needs an NVLink domain when the
    fleet has one: tensor-parallel all-reduce runs inside every layer, on every token.
    """
    topo = fleet.topology
    if topo is None or workers < 2 or pool not in topo.pools:
        return None
    node_pool = fleet.pool(pool)
    nodes = nodes_spanned(node_pool.gpus_per_node, workers, gpus_per_worker)
    span = f"{workers} workers x {gpus_per_worker} GPUs ({nodes} node{'s' * (nodes > 1)})"
    nvlink = topo.level("nvlink")
    if kind == "inference" and nvlink is not None:
        size = topo.nodes_per(pool, "nvlink") or 0
        if size >= nodes:
            return Constraint(
                nvlink, "required", nodes, "TOPOLOGY_NVLINK_DOMAIN",
                f"{span}: tensor-parallel serving stays inside one NVLink domain "
                f"({nvlink.label}, {size} nodes each): its all-reduce runs in every layer "
                "for every token, and only NVLink keeps that off the critical path",
                topo.name, topo.tier("nvlink"),
            )  # fmt: skip
    level = _tightest_holding(topo, pool, nodes)
    if level is None:
        return None
    size = topo.nodes_per(pool, level.name)
    if level.name in FAST_LEVELS:
        return Constraint(
            level, "required", nodes, "TOPOLOGY_REQUIRED",
            f"{span} fit in {_WHY[level.name]} ({level.label}, {size} nodes each); "
            f"required at the {level.name} level: the gang waits for a free {level.name} "
            "rather than run at the speed of its slowest link",
            topo.name, topo.tier(level.name),
        )  # fmt: skip
    fast = [lv for lv in topo.levels if lv.name in FAST_LEVELS and lv.name != "host"]
    tighter = fast[0] if fast else None
    too_small = (
        f"no {tighter.name} holds them ({topo.nodes_per(pool, tighter.name)} nodes each), so "
        "the gang crosses racks whatever the scheduler does; "
        if tighter is not None and topo.nodes_per(pool, tighter.name)
        else ""
    )
    return Constraint(
        level, "preferred", nodes, "TOPOLOGY_PREFERRED",
        f"{span}: {too_small}preferred within one {level.name} ({level.label}, {size} nodes "
        f"each), not required: requiring a whole free {level.name} would hold the job back "
        f"for little gain, while packing it into one keeps most traffic off the links "
        f"between {level.name}s",
        topo.name, topo.tier(level.name),
    )  # fmt: skip


def unplaceable(fleet: Fleet, pool: str, workers: int, gpus_per_worker: int) -> str | None:
    """Why no declared level of the pool holds the gang (a warning), or None."""
    topo = fleet.topology
    if topo is None or workers < 2 or pool not in topo.pools:
        return None
    nodes = nodes_spanned(fleet.pool(pool).gpus_per_node, workers, gpus_per_worker)
    if _tightest_holding(topo, pool, nodes) is not None:
        return None
    sizes = ", ".join(
        f"{lv.name} {topo.nodes_per(pool, lv.name)}"
        for lv in topo.levels
        if topo.nodes_per(pool, lv.name) is not None
    )
    return (
        f"{workers} workers span {nodes} nodes, more than any declared topology domain of "
        f"pool {pool} holds ({sizes} nodes); no topology constraint set, so the gang may "
        "land anywhere; declare the broader level's size or shrink the gang"
    )
