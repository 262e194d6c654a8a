"""Fleet topology as data: network levels (zone, block, rack, NVLink domain, host) as node labels."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DEFAULT_LABELS",
    "LEVEL_ORDER",
    "Level",
    "LevelName",
    "PoolLayout",
    "Topology",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

LevelName = Literal["zone", "block", "rack", "nvlink", "host"]

#: Broadest first: a rack sits in a block, a block in a zone; an NVLink domain (GB200 NVL72:
#: one rack's 18 trays) sits in a rack; a host in everything.
LEVEL_ORDER: tuple[LevelName, ...] = ("zone", "block", "rack", "nvlink", "host")

#: Labels that are the same on every cluster (Kubernetes' well-known labels; GPU Feature
#: Discovery writes nvidia.com/gpu.clique on multi-node NVLink systems). Block and rack labels
#: differ by provider and must be given (gpukit.topology.discover knows the common ones).
DEFAULT_LABELS: dict[str, str] = {
    "zone": "topology.kubernetes.io/zone",
    "nvlink": "nvidia.com/gpu.clique",
    "host": "kubernetes.io/hostname",
}


class Level(BaseModel):
    """One level of the network: its name and the node label whose value names a domain."""

    model_config = _FROZEN

    name: LevelName
    label: str = Field(default="", description="node label key; default for zone, nvlink, host")

    @model_validator(mode="after")
    def _label(self) -> Level:
        if not self.label:
            default = DEFAULT_LABELS.get(self.name)
            if default is None:
                raise ValueError(
                    f"topology level {self.name!r}: give its node label key (label: ...), e.g. "
                    "cloud.google.com/gce-topology-subblock or topology.k8s.aws/network-node-layer-3"
                )
            object.__setattr__(self, "label", default)
        return self


class PoolLayout(BaseModel):
    """How many nodes of one pool each domain of a level holds (``rack: 4`` = 4 nodes a rack).

    ``domains``: the label values of each level's domains, when the fleet file names them
    (default: ``<pool>-<level>-<n>``, numbered in node order). ``parents``: a domain's label
    value -> the one of the broader domain it sits in (discovery reads them from the nodes;
    without them, domains are grouped in order, ``nodes_per`` of the broader level at a time).
    """

    model_config = _FROZEN

    nodes_per: dict[LevelName, int] = Field(default_factory=dict)
    domains: dict[LevelName, tuple[str, ...]] = Field(default_factory=dict)
    parents: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        # ``h100: {rack: 4, block: 16}`` is the short form of ``{nodes_per: {...}}``.
        if isinstance(value, dict) and not ({"nodes_per", "domains", "parents"} & set(value)):
            return {"nodes_per": value}
        return value

    @model_validator(mode="after")
    def _sizes(self) -> PoolLayout:
        for name, count in self.nodes_per.items():
            if count < 1:
                raise ValueError(f"topology nodes per {name}: {count}; give at least 1")
        return self


class Topology(BaseModel):
    """The fleet's network levels, broadest first, and each pool's layout in them."""

    model_config = _FROZEN

    name: str = Field(default="gpukit", description="the Topology object's name (Kueue, KAI)")
    levels: tuple[Level, ...] = Field(min_length=1)
    pools: dict[str, PoolLayout] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> Topology:
        names = [level.name for level in self.levels]
        if len(set(names)) != len(names):
            raise ValueError(f"topology.levels: each level once; got {names}")
        ranks = [LEVEL_ORDER.index(n) for n in names]
        if ranks != sorted(ranks):
            wanted = [n for n in LEVEL_ORDER if n in names]
            raise ValueError(f"topology.levels: list them broadest first: {wanted}, not {names}")
        labels = [level.label for level in self.levels]
        if len(set(labels)) != len(labels):
            raise ValueError(f"topology.levels: each node label once; got {labels}")
        host = DEFAULT_LABELS["host"]
        if host in labels and labels[-1] != host:
            raise ValueError(f"topology.levels: {host} can only be the last level")
        for pool, layout in self.pools.items():
            for name in [*layout.nodes_per, *layout.domains]:
                if name not in names:
                    raise ValueError(
                        f"topology.pools.{pool}: level {name!r} is not in topology.levels "
                        f"({', '.join(names)}); add it there or remove it here"
                    )
            sizes = [layout.nodes_per[n] for n in names if n in layout.nodes_per]
            if sizes != sorted(sizes, reverse=True):
                raise ValueError(
                    f"topology.pools.{pool}: a broader level holds at least as many nodes as a "
                    f"narrower one; got {layout.nodes_per}"
                )
        return self

    def level(self, name: str) -> Level | None:
        return next((lv for lv in self.levels if lv.name == name), None)

    def nodes_per(self, pool: str, level: str) -> int | None:
        """Nodes of ``pool`` one domain of ``level`` holds; None when the fleet does not say."""
        if level == "host":
            return 1
        layout = self.pools.get(pool)
        return None if layout is None else layout.nodes_per.get(level)

    @property
    def network_levels(self) -> tuple[Level, ...]:
        """The levels above a host, tightest first: Volcano's HyperNode tiers 1, 2, ..."""
        return tuple(lv for lv in reversed(self.levels) if lv.name != "host")

    def tier(self, level: str) -> int | None:
        """Volcano HyperNode tier of ``level`` (1 = tightest above a host), None for host."""
        names = [lv.name for lv in self.network_levels]
        return names.index(level) + 1 if level in names else None
