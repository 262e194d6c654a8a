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

This module plans and adds up (:func:`size`); the per-pool counting lives in
:mod:`gpukit.sizing._counting`, the report models and their rendering in
:mod:`gpukit.sizing._report`. Their names stay importable from here.

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
from dataclasses import dataclass

from gpukit.advisor import HEADROOM, Plan, plan
from gpukit.advisor.rules import Context
from gpukit.errors import NoFeasiblePlan
from gpukit.fleet import Fleet, NodePool, default_fleet
from gpukit.hardware import get_gpu
from gpukit.memory import memory_need
from gpukit.sizing._counting import (  # noqa: F401 - private names re-exported as before
    _UNBOUNDED_NODES,
    _job_nodes,
    _pod_nodes,
    _pool_sizing,
    _share_gpus,
    _Tally,
    _unbounded,
    mig_gpus_needed,
    mig_packing,
)
from gpukit.sizing._report import (  # noqa: F401 - private names re-exported as before
    _FROZEN,
    MIG_PACKING,
    SHARE_PACKING,
    Driver,
    PoolSizing,
    Saving,
    SizingLine,
    SizingReport,
    Unplaced,
    _driver_dict,
)
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

#: Workloads named per line as the ones that drive it.
TOP_DRIVERS = 3
#: Savings named in a report.
TOP_SAVINGS = 5


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
