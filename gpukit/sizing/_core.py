"""Fleet sizing: GPUs and nodes a workload mix needs under gpukit's plans against whole GPUs.

The naive plan is the seed guide's first anti-pattern: every pod gets whole, dedicated GPUs
of the same model gpukit chose for it. gpukit's plan counts, per node pool:

- MIG instances packed onto GPUs by gpukit.hardware.packing.pack (an LP over the valid
  layouts, integer rounding, exact search: every GPU's layout has a valid placement), on as
  many GPUs as hardware's first-fit decreasing would use, never more;
- time-slicing and MPS replicas packed by replica count and by memory: a GPU takes at most
  ``replicas`` pods and at most its memory in pods' needs (with headroom);
- whole GPUs as planned; gang (multi-worker) jobs in whole nodes of their own, single-node
  pods packed onto nodes by GPU count.

Workloads are planned once per decision shape (what the advisor's rules read): a mix of
100,000 workloads usually has a few thousand shapes, so the cost is one plan per shape and
a linear pass over the workloads.

>>> import gpukit as gk
>>> report = size([gk.Workload(name=f"s{i}", kind="inference", gpu_memory="6Gi",
...                            isolation="strict") for i in range(7)])
>>> [(line.gpu_model, line.gpukit_gpus, line.naive_gpus) for line in report.lines]
[('H100-80GB', 1, 7)]
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from gpukit.advisor import HEADROOM, Plan, plan
from gpukit.advisor.rules import Context
from gpukit.errors import NoFeasiblePlan
from gpukit.fleet import Fleet, NodePool, default_fleet
from gpukit.hardware import GpuModel, get_gpu
from gpukit.memory import memory_need
from gpukit.quantity import format_gib
from gpukit.workload import Workload

__all__ = [
    "Driver",
    "PoolSizing",
    "Saving",
    "SizingLine",
    "SizingReport",
    "Unplaced",
    "check_plan",
    "mig_gpus_needed",
    "mig_packing",
    "size",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: How MIG instances are counted onto GPUs (shown in reports).
MIG_PACKING = (
    "gpukit.hardware.packing.pack per pool (LP over valid layouts, integer rounding, exact "
    "search), never more GPUs than placement-checked first-fit decreasing; layouts free to change"
)
#: How shares and whole GPUs are counted (shown in reports).
SHARE_PACKING = (
    "time-slicing / MPS: a GPU holds at most its replica count of pods and at most its memory "
    "in their needs with headroom; whole GPUs: gang jobs on whole nodes of their own, other "
    "pods packed onto nodes by GPU count; each sharing set-up on nodes of its own"
)
#: Nodes given to every pool when sizing ignores the fleet's current size.
_UNBOUNDED_NODES = 1_000_000
#: Workloads named per line as the ones that drive it.
TOP_DRIVERS = 3
#: Savings named in a report.
TOP_SAVINGS = 5


class Driver(BaseModel):
    """One workload's part of a GPU model's count."""

    model_config = _FROZEN

    workload: str
    sharing: str
    pool: str
    gpus: float  # GPU-equivalents under gpukit's plan (a 1g.10gb slice of 7: 1/7 ...)
    naive_gpus: int


class PoolSizing(BaseModel):
    """One node pool: GPUs and nodes under gpukit's plans and under the naive plan."""

    model_config = _FROZEN

    pool: str
    gpu_model: str
    gpus_per_node: int
    workloads: int
    pods: int
    gpukit_gpus: int
    gpukit_nodes: int
    naive_gpus: int
    naive_nodes: int
    gpukit_cost_per_hour: float  # GPUs in use x the pool's price per GPU-hour
    naive_cost_per_hour: float
    gpukit_node_cost_per_hour: float  # whole nodes bought x GPUs per node x price
    naive_node_cost_per_hour: float
    by_sharing: dict[str, int]  # gpukit GPUs per sharing mechanism
    mig_gpus: int = 0  # GPUs the packer partitions ...
    mig_lower_bound: int = 0  # ... and the fewest any packing could use (fleet LP)


class Saving(BaseModel):
    """Pods of one kind that gpukit gives the same smaller option, and the GPUs it frees."""

    model_config = _FROZEN

    kind: str
    option: str  # e.g. "MIG 1g.10gb", "4-way MPS share"
    gpu_model: str
    pool: str
    workloads: int
    pods: int
    memory_bytes: int | None  # the largest need among them (measured or given), None unknown
    measured: bool  # memory from measured usage (DCGM), not from requests or estimates
    naive_gpus: int
    gpukit_gpus: float
    freed_gpus: int

    @property
    def sentence(self) -> str:
        verb = "use" if self.measured else "need"
        memory = (
            f" {verb} at most {format_gib(self.memory_bytes)} each" if self.memory_bytes else ""
        )
        return (
            f"these {self.pods} {self.kind} pods{memory}: {self.option} on {self.gpu_model} "
            f"(pool {self.pool}) would free {self.freed_gpus} GPUs"
        )


class SizingLine(BaseModel):
    """GPUs of one model: gpukit's plans against whole GPUs for every pod."""

    model_config = _FROZEN

    gpu_model: str
    pools: tuple[str, ...]
    workloads: int
    gpukit_gpus: int
    naive_gpus: int
    gpukit_cost_per_hour: float
    naive_cost_per_hour: float
    by_sharing: dict[str, int]  # gpukit GPUs per sharing mechanism
    drivers: tuple[Driver, ...]  # largest users of this model under gpukit's plans
    savers: tuple[Driver, ...]  # largest naive - gpukit differences
    gpukit_nodes: int = 0
    naive_nodes: int = 0

    @property
    def ratio(self) -> float:
        """Naive GPUs per gpukit GPU (how many times fewer GPUs gpukit needs)."""
        return self.naive_gpus / self.gpukit_gpus if self.gpukit_gpus else 1.0


class Unplaced(BaseModel):
    """A workload no option in the fleet can run."""

    model_config = _FROZEN

    workload: str
    codes: tuple[str, ...]
    message: str


class SizingReport(BaseModel):
    """The GPUs a workload mix needs per GPU model and node pool, gpukit against naive."""

    model_config = _FROZEN

    fleet: str
    workloads: int
    lines: tuple[SizingLine, ...]
    unplaced: tuple[Unplaced, ...] = ()
    violations: tuple[str, ...] = ()  # plans that miss a memory or isolation need (never expected)
    mig_packing: str = MIG_PACKING
    pools: tuple[PoolSizing, ...] = ()
    savings: tuple[Saving, ...] = ()  # the biggest, largest first
    shapes: int = 0  # distinct decision shapes planned
    notes: tuple[str, ...] = ()  # where the workloads came from, what was assumed

    @property
    def gpukit_gpus(self) -> int:
        return sum(line.gpukit_gpus for line in self.lines)

    @property
    def naive_gpus(self) -> int:
        return sum(line.naive_gpus for line in self.lines)

    @property
    def gpukit_nodes(self) -> int:
        return sum(p.gpukit_nodes for p in self.pools)

    @property
    def naive_nodes(self) -> int:
        return sum(p.naive_nodes for p in self.pools)

    @property
    def ratio(self) -> float:
        return self.naive_gpus / self.gpukit_gpus if self.gpukit_gpus else 1.0

    @property
    def gpukit_cost_per_hour(self) -> float:
        return sum(line.gpukit_cost_per_hour for line in self.lines)

    @property
    def naive_cost_per_hour(self) -> float:
        return sum(line.naive_cost_per_hour for line in self.lines)

    @property
    def mig_gpus(self) -> int:
        return sum(p.mig_gpus for p in self.pools)

    @property
    def mig_lower_bound(self) -> int:
        return sum(p.mig_lower_bound for p in self.pools)

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON form: totals first, then one entry per GPU model.

        Keys after ``mig_packing`` were added later; the earlier ones keep their meaning.
        """
        return {
            "fleet": self.fleet,
            "workloads": self.workloads,
            "gpukit_gpus": self.gpukit_gpus,
            "naive_gpus": self.naive_gpus,
            "ratio": round(self.ratio, 3),
            "gpukit_cost_per_hour": round(self.gpukit_cost_per_hour, 2),
            "naive_cost_per_hour": round(self.naive_cost_per_hour, 2),
            "gpu_models": [
                {
                    "gpu_model": line.gpu_model,
                    "pools": list(line.pools),
                    "workloads": line.workloads,
                    "gpukit_gpus": line.gpukit_gpus,
                    "naive_gpus": line.naive_gpus,
                    "ratio": round(line.ratio, 3),
                    "gpukit_cost_per_hour": round(line.gpukit_cost_per_hour, 2),
                    "naive_cost_per_hour": round(line.naive_cost_per_hour, 2),
                    "by_sharing": dict(line.by_sharing),
                    "drivers": [_driver_dict(d) for d in line.drivers],
                    "savers": [_driver_dict(d) for d in line.savers],
                    "gpukit_nodes": line.gpukit_nodes,
                    "naive_nodes": line.naive_nodes,
                }
                for line in self.lines
            ],
            "unplaced": [u.model_dump() | {"codes": list(u.codes)} for u in self.unplaced],
            "violations": list(self.violations),
            "mig_packing": self.mig_packing,
            "gpukit_nodes": self.gpukit_nodes,
            "naive_nodes": self.naive_nodes,
            "mig_gpus": self.mig_gpus,
            "mig_lower_bound": self.mig_lower_bound,
            "shapes": self.shapes,
            "pools": [
                p.model_dump()
                | {
                    key: round(getattr(p, key), 2)
                    for key in (
                        "gpukit_cost_per_hour",
                        "naive_cost_per_hour",
                        "gpukit_node_cost_per_hour",
                        "naive_node_cost_per_hour",
                    )
                }
                for p in self.pools
            ],
            "savings": [
                s.model_dump() | {"gpukit_gpus": round(s.gpukit_gpus, 3), "sentence": s.sentence}
                for s in self.savings
            ],
            "notes": list(self.notes),
        }

    def table(self) -> str:
        """The report for a terminal: one row per GPU model and a total, then per pool."""
        from gpukit._text import table

        rows: list[tuple[object, ...]] = [
            (
                line.gpu_model,
                line.gpukit_gpus,
                line.naive_gpus,
                f"{line.ratio:.2f}x",
                f"{line.gpukit_cost_per_hour:.2f}",
                f"{line.naive_cost_per_hour:.2f}",
                ", ".join(f"{d.workload} ({d.gpus:.3g})" for d in line.drivers),
            )
            for line in self.lines
        ]
        rows.append(
            (
                "TOTAL",
                self.gpukit_gpus,
                self.naive_gpus,
                f"{self.ratio:.2f}x",
                f"{self.gpukit_cost_per_hour:.2f}",
                f"{self.naive_cost_per_hour:.2f}",
                "",
            )
        )
        text = table(
            [
                "GPU MODEL",
                "GPUKIT GPUS",
                "NAIVE GPUS",
                "RATIO",
                "GPUKIT $/H",
                "NAIVE $/H",
                "DRIVEN BY",
            ],
            rows,
            max_width=70,
        )
        pool_rows: list[tuple[object, ...]] = [
            (
                p.pool,
                p.gpu_model,
                p.pods,
                f"{p.gpukit_gpus}/{p.naive_gpus}",
                f"{p.gpukit_nodes}/{p.naive_nodes}",
                f"{p.gpukit_node_cost_per_hour:.2f}/{p.naive_node_cost_per_hour:.2f}",
                ", ".join(f"{k} {v}" for k, v in p.by_sharing.items()),
            )
            for p in self.pools
        ]
        pool_rows.append(
            (
                "TOTAL",
                "",
                sum(p.pods for p in self.pools),
                f"{self.gpukit_gpus}/{self.naive_gpus}",
                f"{self.gpukit_nodes}/{self.naive_nodes}",
                (
                    f"{sum(p.gpukit_node_cost_per_hour for p in self.pools):.2f}/"
                    f"{sum(p.naive_node_cost_per_hour for p in self.pools):.2f}"
                ),
                "",
            )
        )
        pools = table(
            [
                "POOL",
                "GPU",
                "PODS",
                "GPUS (GPUKIT/NAIVE)",
                "NODES",
                "NODES $/H",
                "GPUKIT GPUS BY SHARING",
            ],
            pool_rows,
            max_width=60,
        )
        notes = [
            (
                f"{self.workloads} workloads ({self.shapes} decision shapes) on fleet {self.fleet}; "
                "naive = whole dedicated GPUs for every pod, same GPU model"
            ),
            f"MIG packing: {self.mig_packing}",
        ]
        if self.mig_gpus:
            notes.append(
                f"MIG: {self.mig_gpus} GPUs partitioned; no packing uses fewer than "
                f"{self.mig_lower_bound} (LP lower bound)"
            )
        notes.append(f"shares and nodes: {SHARE_PACKING}")
        notes += list(self.notes)
        notes += [f"saving: {s.sentence}" for s in self.savings]
        notes += [
            f"unplaced: {u.workload}: [{', '.join(u.codes)}] {u.message}" for u in self.unplaced
        ]
        notes += [f"VIOLATION: {v}" for v in self.violations]
        return text + "\n\n" + pools + "\n\n" + "\n".join(notes)


def _driver_dict(d: Driver) -> dict[str, Any]:
    return {
        "workload": d.workload,
        "sharing": d.sharing,
        "pool": d.pool,
        "gpus": round(d.gpus, 3),
        "naive_gpus": d.naive_gpus,
    }


# -- counting -------------------------------------------------------------------------------


def mig_packing(model: GpuModel | str, counts: Mapping[str, int]) -> tuple[int, int]:
    """(GPUs, lower bound) for ``counts`` MIG instances (profile -> how many) on ``model``.

    The fleet packer (gpukit.hardware.packing.pack) on as many free GPUs as first-fit
    decreasing (gpukit.hardware.packing.first_fit_decreasing) needs; it never uses more.
    The lower bound is the packer's: no packing of these instances uses fewer GPUs.
    """
    from gpukit.hardware.packing import GpuSlot, MigDemand, first_fit_decreasing, pack

    model = model if isinstance(model, GpuModel) else get_gpu(model)
    counts = {name: n for name, n in counts.items() if n}
    if not counts:
        return 0, 0
    demands = [
        MigDemand(name=name, profile=name, count=n, gpu=model.key)
        for name, n in sorted(counts.items())
    ]
    one = [GpuSlot(node="n0", index=0, model=model.key)]
    upper, left = first_fit_decreasing(demands, one, limits=False)
    if left:  # pragma: no cover - every profile of the model fits an empty GPU
        raise ValueError(f"{left} MIG instances fit no {model.key}")
    slots = [GpuSlot(node=f"n{i // 8}", index=i % 8, model=model.key) for i in range(upper)]
    packed = pack(demands, slots)
    used = upper if packed.unplaced else min(upper, packed.gpus_used)
    return used, min(used, packed.lower_bound)


def mig_gpus_needed(model: GpuModel | str, counts: Mapping[str, int]) -> int:
    """GPUs of ``model`` that hold ``counts`` MIG instances (profile -> how many).

    Every GPU counted has a layout with a valid placement; see :func:`mig_packing`.
    """
    return mig_packing(model, counts)[0]


def check_plan(p: Plan) -> list[str]:
    """Ways the plan misses the workload's memory or isolation need (empty when it meets them)."""
    problems = []
    c, w = p.choice, p.workload
    if p.memory.bytes is not None:
        need = math.ceil(p.memory.bytes * (1 + HEADROOM))
        if need > c.memory_total_bytes:
            problems.append(
                f"{w.name}: needs {need} bytes with headroom, gets {c.memory_total_bytes}"
            )
    isolation = w.effective_isolation
    if c.sharing == "time-slicing" and isolation != "none":
        problems.append(f"{w.name}: time-slicing for isolation {isolation!r}")
    if c.sharing == "mps" and isolation == "strict":
        problems.append(f"{w.name}: MPS for strict isolation")
    if c.mig_profile is not None and not get_gpu(c.gpu_model).mig_capable:
        problems.append(f"{w.name}: MIG on {c.gpu_model}, which is not MIG-capable")
    return problems


def _unbounded(fleet: Fleet) -> Fleet:
    pools = tuple(pool.model_copy(update={"nodes": _UNBOUNDED_NODES}) for pool in fleet.node_pools)
    return fleet.model_copy(update={"node_pools": pools})


def _job_nodes(workers: int, gpus: int, per_node: int) -> int:
    """Whole nodes one gang job of ``workers`` pods x ``gpus`` GPUs takes, kept to itself."""
    if gpus >= per_node:
        return workers * -(-gpus // per_node)
    return -(-workers // (per_node // gpus))


def _pod_nodes(pods_by_gpus: Mapping[int, int], per_node: int) -> int:
    """Nodes that hold single-node pods of several GPU counts (GPU count -> pods).

    Counts that divide the node's GPUs pack perfectly (sizes dividing one another): the
    total over the node size, rounded up, which no packing beats. Other counts go
    ``per_node // gpus`` to a node of their own (an upper bound; plans ask for powers of two).
    """
    fitting = sum(g * n for g, n in pods_by_gpus.items() if per_node % g == 0)
    nodes = -(-fitting // per_node)
    for g, n in pods_by_gpus.items():
        if per_node % g:
            nodes += -(-n // (per_node // g)) if g < per_node else n * -(-g // per_node)
    return nodes


def _share_gpus(pods: int, memory: int, gpu_memory: int, replicas: int) -> int:
    """GPUs (or MIG slices) for ``pods`` shares: by replica count and by memory.

    Plans give each pod at most a GPU's memory over its replicas (check_plan verifies it),
    so any ``replicas`` pods fit one GPU's memory and this count is reached.
    """
    if not pods:
        return 0
    return max(-(-pods // replicas), -(-memory // gpu_memory) if gpu_memory else 0)


@dataclass
class _Tally:
    """What one pool's plans add up to, before packing."""

    pods: int = 0
    workloads: int = 0
    single: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # GPUs/pod -> pods
    gang_gpus: int = 0
    gang_nodes: int = 0
    mig: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # profile -> instances
    # time-sliced MIG slices: profile -> [pods, memory with headroom]
    mig_shares: dict[str, list[int]] = field(default_factory=dict)
    shares: list[int] = field(default_factory=lambda: [0, 0])  # [pods, memory with headroom]
    naive_single: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    naive_gang_gpus: int = 0
    naive_gang_nodes: int = 0
    # (GPU-equivalents, workload, sharing, naive GPUs) per workload
    drivers: list[tuple[float, str, str, int]] = field(default_factory=list)


@dataclass
class _Saving:
    kind: str
    option: str
    pool: str
    gpu_model: str
    workloads: int = 0
    pods: int = 0
    memory: int | None = None
    unknown_memory: bool = False
    measured: bool = True
    naive: int = 0
    gpukit: float = 0.0


def _option_text(p: Plan, pool: NodePool) -> str:
    c = p.choice
    if c.sharing == "mig":
        return f"MIG {c.mig_profile}"
    replicas = pool.sharing.replicas if pool.sharing else 1
    if c.mig_profile is not None:
        return f"{replicas}-way time-sliced MIG {c.mig_profile}"
    return f"{replicas}-way {'MPS' if c.sharing == 'mps' else c.sharing} share"


def size(
    workloads: Iterable[Workload],
    fleet: Fleet | None = None,
    *,
    bounded: bool = False,
    measured: Collection[str] = (),
    notes: Iterable[str] = (),
) -> SizingReport:
    """GPUs and nodes per GPU model and pool that ``workloads`` need, gpukit against naive.

    Each workload is planned on ``fleet`` (default: the embedded default fleet), once per
    decision shape. Unless ``bounded``, the fleet's pools are taken as large as needed: the
    question is how many GPUs the mix needs, not whether today's fleet has them.
    ``measured`` names the workloads whose ``gpu_memory`` is a measured peak (the savings
    say "use" for them, "need" otherwise); ``notes`` are carried into the report.
    """
    fleet = fleet or default_fleet()
    planning_fleet = fleet if bounded else _unbounded(fleet)
    measured = frozenset(measured)

    # 1. Group by decision shape: the advisor decides the same for every workload of a shape.
    # Workloads equal in every field the shape derives from share it without computing it.
    by_fields: dict[tuple[object, ...], list[Workload]] = {}
    count = 0
    for workload in workloads:
        count += 1
        members = by_fields.get(fields := _shape_fields(workload))
        if members is None:
            by_fields[fields] = [workload]
        else:
            members.append(workload)
    groups: dict[tuple[object, ...], list[Workload]] = {}
    for members in by_fields.values():
        shape = Context(members[0], planning_fleet, memory_need(members[0])).shape
        groups.setdefault(shape, []).extend(members)

    tallies: dict[str, _Tally] = defaultdict(_Tally)
    savings: dict[tuple[str, ...], _Saving] = {}
    unplaced: list[Unplaced] = []
    violations: list[str] = []

    # 2. One plan per shape; add its pods to its pool, once per workload of the shape.
    for members in groups.values():
        try:
            p = plan(members[0], planning_fleet)
        except NoFeasiblePlan as exc:
            codes = tuple(sorted({r.code for r in exc.rejections}))
            unplaced += [
                Unplaced(
                    workload=w.name,
                    codes=codes,
                    message=f"no option in fleet {planning_fleet.name!r} can run {w.name!r}",
                )
                for w in members
            ]
            continue
        problems = check_plan(p)
        if problems and len(members) > 1:
            problems = [
                f"{x} (and {len(members) - 1} more workloads of the same shape)" for x in problems
            ]
        violations += problems
        _add(tallies[p.choice.pool], savings, p, members, fleet.pool(p.choice.pool), measured)

    # 3. Pack each pool; gather pools per GPU model.
    pools: list[PoolSizing] = []
    for pool in fleet.node_pools:
        if pool.name in tallies:
            pools.append(_pool_sizing(pool, tallies[pool.name]))
    lines = _lines(pools, tallies)
    top = sorted(savings.values(), key=lambda s: (-(s.naive - s.gpukit), s.pool, s.kind, s.option))
    return SizingReport(
        fleet=fleet.name,
        workloads=count,
        lines=tuple(lines),
        unplaced=tuple(sorted(unplaced, key=lambda u: u.workload)),
        violations=tuple(violations),
        pools=tuple(pools),
        savings=tuple(_saving(s) for s in top[:TOP_SAVINGS] if int(s.naive - s.gpukit) > 0),
        shapes=len(groups),
        notes=tuple(notes),
    )


def _shape_fields(w: Workload) -> tuple[object, ...]:
    """The workload fields that the advisor's decision shape (Context.shape) is computed from."""
    return (
        w.kind,
        w.gpus,
        w.workers,
        w.replicas,
        w.gpu_memory,
        w.model,
        w.isolation,
        w.priority,
        w.utilisation,
        w.gpu_boundness,
        w.gpu_fill,
        w.latency_target,
    )


def _add(
    tally: _Tally,
    savings: dict[tuple[str, ...], _Saving],
    p: Plan,
    members: list[Workload],
    pool: NodePool,
    measured: frozenset[str],
) -> None:
    c = p.choice
    k = len(members)
    pods = p.pods
    tally.pods += pods * k
    tally.workloads += k
    need = math.ceil(p.memory.bytes * (1 + HEADROOM)) if p.memory.bytes is not None else 0
    if c.sharing == "dedicated":
        whole = pods * c.gpus
        if c.workers > 1:
            jobs = p.workload.replicas * k
            nodes = _job_nodes(c.workers, c.gpus, pool.gpus_per_node)
            tally.gang_gpus += whole * k
            tally.gang_nodes += nodes * jobs
            tally.naive_gang_gpus += whole * k
            tally.naive_gang_nodes += nodes * jobs
        else:
            tally.single[c.gpus] += pods * k
            tally.naive_single[c.gpus] += pods * k
        equivalent = float(whole)
    else:
        if c.sharing == "mig":
            tally.mig[c.mig_profile or ""] += pods * k
        elif c.mig_profile is not None:
            entry = tally.mig_shares.setdefault(c.mig_profile, [0, 0])
            entry[0] += pods * k
            entry[1] += need * pods * k
        else:
            tally.shares[0] += pods * k
            tally.shares[1] += need * pods * k
        tally.naive_single[1] += pods * k
        whole = pods
        equivalent = pods * c.gpu_share
    for w in members:
        tally.drivers.append((equivalent, w.name, c.sharing, whole))
    if c.sharing == "dedicated":
        return
    key = (c.pool, p.workload.kind, _option_text(p, pool))
    s = savings.get(key)
    if s is None:
        s = savings[key] = _Saving(p.workload.kind, key[2], c.pool, c.gpu_model)
    s.workloads += k
    s.pods += pods * k
    s.naive += whole * k
    s.gpukit += equivalent * k
    if p.memory.bytes is None:
        s.unknown_memory = True
    else:
        s.memory = max(s.memory or 0, p.memory.bytes)
    s.measured = s.measured and all(w.name in measured for w in members)


def _saving(s: _Saving) -> Saving:
    return Saving(
        kind=s.kind,
        option=s.option,
        gpu_model=s.gpu_model,
        pool=s.pool,
        workloads=s.workloads,
        pods=s.pods,
        memory_bytes=None if s.unknown_memory else s.memory,
        measured=s.measured and not s.unknown_memory,
        naive_gpus=s.naive,
        gpukit_gpus=round(s.gpukit, 4),
        freed_gpus=int(s.naive - s.gpukit),
    )


def _pool_sizing(pool: NodePool, t: _Tally) -> PoolSizing:
    per_node = pool.gpus_per_node
    replicas = pool.sharing.replicas if pool.sharing else 1
    mode = pool.sharing.mode if pool.sharing else "mig"
    by_sharing: dict[str, int] = defaultdict(int)
    dedicated = sum(g * n for g, n in t.single.items()) + t.gang_gpus
    by_sharing["dedicated"] += dedicated
    nodes = _pod_nodes(t.single, per_node) + t.gang_nodes
    mig_gpus = mig_bound = 0
    if t.mig_shares:
        # A pool time-slices all its MIG devices alike: each slice takes `replicas` pods
        # and its memory in their needs.
        slices = {
            profile: _share_gpus(n, mem, pool.model.profile(profile).memory_bytes, replicas)
            for profile, (n, mem) in t.mig_shares.items()
        }
        m, bound = mig_packing(pool.model, slices)
        by_sharing[mode] += m
        nodes += -(-m // per_node)
        mig_gpus, mig_bound = mig_gpus + m, mig_bound + bound
    if t.mig:
        m, bound = mig_packing(pool.model, t.mig)
        by_sharing["mig"] += m
        nodes += -(-m // per_node)
        mig_gpus, mig_bound = mig_gpus + m, mig_bound + bound
    if t.shares[0]:
        s = _share_gpus(t.shares[0], t.shares[1], pool.model.memory_bytes, replicas)
        by_sharing[pool.sharing.mode if pool.sharing else "shared"] += s
        nodes += -(-s // per_node)
    gpus = sum(by_sharing.values())
    naive_gpus = sum(g * n for g, n in t.naive_single.items()) + t.naive_gang_gpus
    naive_nodes = _pod_nodes(t.naive_single, per_node) + t.naive_gang_nodes
    price = pool.price
    return PoolSizing(
        pool=pool.name,
        gpu_model=pool.model.key,
        gpus_per_node=per_node,
        workloads=t.workloads,
        pods=t.pods,
        gpukit_gpus=gpus,
        gpukit_nodes=nodes,
        naive_gpus=naive_gpus,
        naive_nodes=naive_nodes,
        gpukit_cost_per_hour=round(gpus * price, 4),
        naive_cost_per_hour=round(naive_gpus * price, 4),
        gpukit_node_cost_per_hour=round(nodes * per_node * price, 4),
        naive_node_cost_per_hour=round(naive_nodes * per_node * price, 4),
        by_sharing={k: v for k, v in sorted(by_sharing.items()) if v},
        mig_gpus=mig_gpus,
        mig_lower_bound=mig_bound,
    )


def _lines(pools: list[PoolSizing], tallies: Mapping[str, _Tally]) -> list[SizingLine]:
    by_model: dict[str, list[PoolSizing]] = defaultdict(list)
    for p in pools:
        by_model[p.gpu_model].append(p)
    lines = []
    for model_key in sorted(by_model):
        members = by_model[model_key]
        by_sharing: dict[str, int] = defaultdict(int)
        for p in members:
            for k, v in p.by_sharing.items():
                by_sharing[k] += v
        entries = [(d, p.pool) for p in members for d in tallies[p.pool].drivers]
        drivers = heapq.nsmallest(TOP_DRIVERS, entries, key=lambda e: (-e[0][0], e[0][1]))
        savers = heapq.nsmallest(
            TOP_DRIVERS, entries, key=lambda e: (-(e[0][3] - e[0][0]), e[0][1])
        )
        lines.append(
            SizingLine(
                gpu_model=model_key,
                pools=tuple(p.pool for p in members),
                workloads=sum(p.workloads for p in members),
                gpukit_gpus=sum(p.gpukit_gpus for p in members),
                naive_gpus=sum(p.naive_gpus for p in members),
                gpukit_cost_per_hour=round(sum(p.gpukit_cost_per_hour for p in members), 4),
                naive_cost_per_hour=round(sum(p.naive_cost_per_hour for p in members), 4),
                by_sharing={k: v for k, v in sorted(by_sharing.items()) if v},
                drivers=tuple(_driver(e) for e in drivers),
                savers=tuple(_driver(e) for e in savers if e[0][3] > e[0][0]),
                gpukit_nodes=sum(p.gpukit_nodes for p in members),
                naive_nodes=sum(p.naive_nodes for p in members),
            )
        )
    return lines


def _driver(entry: tuple[tuple[float, str, str, int], str]) -> Driver:
    (gpus, name, sharing, naive), pool = entry
    return Driver(workload=name, sharing=sharing, pool=pool, gpus=gpus, naive_gpus=naive)
