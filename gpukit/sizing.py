"""Fleet sizing: GPUs a workload mix needs under gpukit's plans against whole GPUs for all.

The naive plan is the seed guide's first anti-pattern: every pod gets whole, dedicated GPUs
of the same model gpukit chose for it. gpukit's plan counts MIG instances packed onto GPUs
(placement-checked, so every GPU's layout exists), time-slicing and MPS replicas packed onto
GPUs by the pool's replica count, and whole GPUs as planned.

>>> import gpukit as gk
>>> report = size([gk.Workload(name=f"s{i}", kind="inference", gpu_memory="6Gi",
...                            isolation="strict") for i in range(7)])
>>> [(line.gpu_model, line.gpukit_gpus, line.naive_gpus) for line in report.lines]
[('H100-80GB', 1, 7)]
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from gpukit.advisor import HEADROOM, Plan, plan
from gpukit.errors import NoFeasiblePlan
from gpukit.fleet import Fleet, default_fleet
from gpukit.hardware import GpuModel, get_gpu
from gpukit.workload import Workload

__all__ = [
    "Driver",
    "SizingLine",
    "SizingReport",
    "Unplaced",
    "check_plan",
    "first_fit_gpus",
    "mig_gpus_needed",
    "size",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: How MIG instances are counted onto GPUs (shown in reports).
MIG_PACKING = (
    "gpukit.hardware.packing.pack per pool (LP over valid layouts, integer rounding, exact "
    "search), never more GPUs than placement-checked first-fit decreasing; layouts free to change"
)
#: Nodes given to every pool when sizing ignores the fleet's current size.
_UNBOUNDED_NODES = 1_000_000
#: Workloads named per line as the ones that drive it.
TOP_DRIVERS = 3


class Driver(BaseModel):
    """One workload's part of a GPU model's count."""

    model_config = _FROZEN

    workload: str
    sharing: str
    pool: str
    gpus: float  # GPU-equivalents under gpukit's plan (a 1g.10gb slice of 7: 1/7 ...)
    naive_gpus: int


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
    """The GPUs a workload mix needs per GPU model, gpukit against naive."""

    model_config = _FROZEN

    fleet: str
    workloads: int
    lines: tuple[SizingLine, ...]
    unplaced: tuple[Unplaced, ...] = ()
    violations: tuple[str, ...] = ()  # plans that miss a memory or isolation need (never expected)
    mig_packing: str = MIG_PACKING

    @property
    def gpukit_gpus(self) -> int:
        return sum(line.gpukit_gpus for line in self.lines)

    @property
    def naive_gpus(self) -> int:
        return sum(line.naive_gpus for line in self.lines)

    @property
    def ratio(self) -> float:
        return self.naive_gpus / self.gpukit_gpus if self.gpukit_gpus else 1.0

    @property
    def gpukit_cost_per_hour(self) -> float:
        return sum(line.gpukit_cost_per_hour for line in self.lines)

    @property
    def naive_cost_per_hour(self) -> float:
        return sum(line.naive_cost_per_hour for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON form: totals first, then one entry per GPU model."""
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
                }
                for line in self.lines
            ],
            "unplaced": [u.model_dump() | {"codes": list(u.codes)} for u in self.unplaced],
            "violations": list(self.violations),
            "mig_packing": self.mig_packing,
        }

    def table(self) -> str:
        """The report for a terminal: one row per GPU model and a total."""
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
            ["GPU MODEL", "GPUKIT GPUS", "NAIVE GPUS", "RATIO", "GPUKIT $/H", "NAIVE $/H", "DRIVEN BY"],
            rows,
            max_width=70,
        )
        notes = [
            (
                f"{self.workloads} workloads on fleet {self.fleet}; naive = whole dedicated "
                "GPUs for every pod, same GPU model"
            ),
            f"MIG packing: {self.mig_packing}",
        ]
        notes += [f"unplaced: {u.workload}: [{', '.join(u.codes)}] {u.message}" for u in self.unplaced]
        notes += [f"VIOLATION: {v}" for v in self.violations]
        return text + "\n\n" + "\n".join(notes)


def _driver_dict(d: Driver) -> dict[str, Any]:
    return {
        "workload": d.workload,
        "sharing": d.sharing,
        "pool": d.pool,
        "gpus": round(d.gpus, 3),
        "naive_gpus": d.naive_gpus,
    }


# -- counting -------------------------------------------------------------------------------


def mig_gpus_needed(model: GpuModel | str, counts: Mapping[str, int]) -> int:
    """GPUs of ``model`` that hold ``counts`` MIG instances (profile -> how many).

    The fleet packer (gpukit.hardware.packing.pack: an LP over valid layouts, then integer
    rounding and exact search) on as many free GPUs as first-fit decreasing needs; it never
    uses more. Every GPU it uses has a layout with a valid placement.
    """
    from gpukit.hardware.packing import GpuSlot, MigDemand, pack

    model = model if isinstance(model, GpuModel) else get_gpu(model)
    counts = {name: n for name, n in counts.items() if n}
    if not counts:
        return 0
    upper = first_fit_gpus(model, counts)
    slots = [GpuSlot(node=f"n{i // 8}", index=i % 8, model=model.key) for i in range(upper)]
    demands = [
        MigDemand(name=name, profile=name, count=n, gpu=model.key) for name, n in sorted(counts.items())
    ]
    packed = pack(demands, slots)
    return upper if packed.unplaced else min(upper, packed.gpus_used)


def first_fit_gpus(model: GpuModel | str, counts: Mapping[str, int]) -> int:
    """GPUs first-fit decreasing needs for ``counts`` MIG instances of ``model``.

    Instances largest first, each onto the first GPU whose instances plus it still have a
    valid placement (gpukit.hardware.mig.place_counts), else onto a new GPU.
    """
    from gpukit.hardware.mig import place_counts

    model = model if isinstance(model, GpuModel) else get_gpu(model)
    order = sorted(
        (model.profile(name) for name, n in counts.items() for _ in range(n)),
        key=lambda p: (-p.memory_slices, -p.compute_slices, p.name),
    )
    gpus: list[dict[str, int]] = []
    used: list[int] = []  # memory slots taken on each GPU
    open_gpus: list[int] = []  # indexes of GPUs that may still take an instance
    smallest = min((p.memory_slices for p in model.profiles), default=1)
    memory_slices = model.mig.memory_slices if model.mig else 1
    for profile in order:
        target = None
        for index in open_gpus:
            if used[index] + profile.memory_slices > memory_slices:
                continue
            trial = dict(gpus[index])
            trial[profile.name] = trial.get(profile.name, 0) + 1
            if place_counts(model, trial) is not None:
                gpus[index], target = trial, index
                break
        if target is None:
            gpus.append({profile.name: 1})
            used.append(0)
            target = len(gpus) - 1
            open_gpus.append(target)
        used[target] += profile.memory_slices
        if used[target] + smallest > memory_slices:
            open_gpus.remove(target)  # no slot left even for the smallest profile
    return len(gpus)


def check_plan(p: Plan) -> list[str]:
    """Ways the plan misses the workload's memory or isolation need (empty when it meets them)."""
    problems = []
    c, w = p.choice, p.workload
    if p.memory.bytes is not None:
        need = math.ceil(p.memory.bytes * (1 + HEADROOM))
        if need > c.memory_total_bytes:
            problems.append(f"{w.name}: needs {need} bytes with headroom, gets {c.memory_total_bytes}")
    isolation = w.effective_isolation
    if c.sharing == "time-slicing" and isolation != "none":
        problems.append(f"{w.name}: time-slicing for isolation {isolation!r}")
    if c.sharing == "mps" and isolation == "strict":
        problems.append(f"{w.name}: MPS for strict isolation")
    if c.mig_profile is not None and not get_gpu(c.gpu_model).mig_capable:
        problems.append(f"{w.name}: MIG on {c.gpu_model}, which is not MIG-capable")
    return problems


def _unbounded(fleet: Fleet) -> Fleet:
    pools = tuple(
        pool.model_copy(update={"nodes": _UNBOUNDED_NODES}) for pool in fleet.node_pools
    )
    return fleet.model_copy(update={"node_pools": pools})


def size(
    workloads: Iterable[Workload], fleet: Fleet | None = None, *, bounded: bool = False
) -> SizingReport:
    """GPUs per GPU model that ``workloads`` need under gpukit's plans and under the naive plan.

    Each workload is planned on ``fleet`` (default: the embedded default fleet). Unless
    ``bounded``, the fleet's pools are taken as large as needed: the question is how many
    GPUs the mix needs, not whether today's fleet has them.
    """
    fleet = fleet or default_fleet()
    planning_fleet = fleet if bounded else _unbounded(fleet)
    items = list(workloads)

    dedicated: dict[str, int] = defaultdict(int)  # pool -> GPUs
    mig: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # pool -> profile -> n
    mig_shares: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # time-sliced
    shares: dict[str, int] = defaultdict(int)  # pool -> replicas in use
    naive: dict[str, int] = defaultdict(int)
    parts: dict[str, list[Driver]] = defaultdict(list)
    names: dict[str, set[str]] = defaultdict(set)
    unplaced: list[Unplaced] = []
    violations: list[str] = []

    for workload in items:
        try:
            p = plan(workload, planning_fleet)
        except NoFeasiblePlan as exc:
            codes = tuple(sorted({r.code for r in exc.rejections}))
            unplaced.append(
                Unplaced(workload=workload.name, codes=codes, message=str(exc).split(": ", 1)[0])
            )
            continue
        violations += check_plan(p)
        c = p.choice
        pods = p.pods
        if c.sharing == "dedicated":
            dedicated[c.pool] += pods * c.gpus
            equivalent, whole = float(pods * c.gpus), pods * c.gpus
        elif c.sharing == "mig":
            mig[c.pool][c.mig_profile or ""] += pods
            equivalent, whole = pods * c.gpu_share, pods
        elif c.mig_profile is not None:
            # Time-sliced shares of a MIG slice: the slices are packed like MIG (below).
            mig_shares[c.pool][c.mig_profile] += pods
            equivalent, whole = pods * c.gpu_share, pods
        else:
            shares[c.pool] += pods
            equivalent, whole = pods * c.gpu_share, pods
        naive[c.pool] += whole
        parts[c.pool].append(
            Driver(workload=workload.name, sharing=c.sharing, pool=c.pool, gpus=equivalent, naive_gpus=whole)
        )
        names[c.pool].add(workload.name)

    by_model: dict[str, list[str]] = defaultdict(list)
    for pool in fleet.node_pools:
        if pool.name in parts:
            by_model[pool.model.key].append(pool.name)

    lines = []
    for model_key in sorted(by_model):
        pools = by_model[model_key]
        gpukit_gpus = 0
        gpukit_cost = naive_cost = 0.0
        naive_gpus = 0
        by_sharing: dict[str, int] = defaultdict(int)
        drivers: list[Driver] = []
        count = 0
        for name in pools:
            pool = fleet.pool(name)
            n = dedicated.get(name, 0)
            by_sharing["dedicated"] += n
            if name in mig_shares:
                # A pool time-slices all its MIG devices alike: ceil(pods / replicas) slices.
                replicas = pool.sharing.replicas if pool.sharing else 1
                slices = {
                    profile: -(-pods // replicas) for profile, pods in mig_shares[name].items()
                }
                m = mig_gpus_needed(pool.model, slices)
                by_sharing[pool.sharing.mode if pool.sharing else "mig"] += m
                n += m
            if name in mig:
                m = mig_gpus_needed(pool.model, mig[name])
                by_sharing["mig"] += m
                n += m
            if name in shares:
                replicas = pool.sharing.replicas if pool.sharing else 1
                s = math.ceil(shares[name] / replicas)
                by_sharing[pool.sharing.mode if pool.sharing else "shared"] += s
                n += s
            gpukit_gpus += n
            naive_gpus += naive[name]
            gpukit_cost += n * pool.price
            naive_cost += naive[name] * pool.price
            drivers += parts[name]
            count += len(names[name])
        drivers.sort(key=lambda d: (-d.gpus, d.workload))
        savers = sorted(drivers, key=lambda d: (-(d.naive_gpus - d.gpus), d.workload))
        lines.append(
            SizingLine(
                gpu_model=model_key,
                pools=tuple(pools),
                workloads=count,
                gpukit_gpus=gpukit_gpus,
                naive_gpus=naive_gpus,
                gpukit_cost_per_hour=round(gpukit_cost, 4),
                naive_cost_per_hour=round(naive_cost, 4),
                by_sharing={k: v for k, v in sorted(by_sharing.items()) if v},
                drivers=tuple(drivers[:TOP_DRIVERS]),
                savers=tuple(d for d in savers[:TOP_DRIVERS] if d.naive_gpus > d.gpus),
            )
        )
    return SizingReport(
        fleet=fleet.name,
        workloads=len(items),
        lines=tuple(lines),
        unplaced=tuple(unplaced),
        violations=tuple(violations),
    )
