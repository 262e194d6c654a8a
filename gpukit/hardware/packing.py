"""Fleet packing: per-GPU MIG layouts that place every demand on the fewest GPUs, then change fewest.

:func:`pack` is a pure function. Input: MIG demands (:class:`MigDemand`: a profile x count,
optionally on one GPU model, or a memory need) and the GPUs that may be partitioned
(:class:`GpuSlot`: node, index, model, optional current layout). Output: a
:class:`PackingPlan` with every GPU's layout and placement, what each GPU hosts, the
``nvidia.com/mig.config`` label per node with the mig-parted configs behind them, the GPUs
used, a lower bound on that number, and every demand that cannot be placed with the reason.

Objectives, in order: fewest GPUs hosting a demand; then fewest GPUs whose layout changes
(a change makes the MIG manager evict the GPU pods on that node), with changes gathered
on as few nodes as possible.

How: one LP over all GPU models (patterns = maximal valid layouts; flexible demands split
between the models they fit) gives the split and a lower bound; each model's share is then
solved as an integer problem (LP rounded down, the remainder by exact search); current
layouts are kept wherever that costs no extra GPU.

Demand file (``gpukit mig plan --demand FILE``), YAML or JSON::

    demands:                      # or a bare list of the same items
      - name: notebooks           # optional, default demand-<n>
        profile: 1g.10gb          # a MIG profile ...
        count: 12                 # instances (default 1)
        gpu: H100-80GB            # optional: only on this model (default: any that has it)
      - name: llm-7b
        memory: 30Gi              # ... or a memory need: the smallest profile that holds it
        compute: 2                # optional compute slices (default 1)
        count: 4

Fleet file (``--fleet FILE``): ``default`` (gpukit's embedded fleet), a gpukit Fleet
(``node_pools``; each pool with a ``mig`` section gives nodes ``<pool>-<i>`` with
``gpus_per_node`` GPUs and the pool's ``mig.layout`` as current layout; whole-GPU pools
only with ``--whole-gpu-pools``), or a simple list::

    - model: A100-40GB            # any GPU name the catalog knows
      count: 16                   # GPUs
      gpus_per_node: 8            # optional (default 8); nodes are <model>-<n>
      node: a100                  # optional node name prefix
      layout: {1g.5gb: 7}         # optional current layout of each of these GPUs
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from gpukit.errors import GpukitError, InputError
from gpukit.hardware._lp import maximize, solve_cover
from gpukit.hardware.catalog import Catalog, GpuModel, catalog
from gpukit.hardware.mig import (
    MigLayout,
    _maximal_vectors,
    _shapes,
    _valid_vectors,
    canonical_counts,
    place_counts,
)
from gpukit.hardware.migparted import (
    DEFAULT_CONFIGMAP,
    MigPartedEntry,
    mig_parted_configmap,
    node_configs,
)
from gpukit.quantity import format_gib, parse_quantity

__all__ = [
    "GpuAssignment",
    "GpuSlot",
    "MigDemand",
    "PackingPlan",
    "Unplaced",
    "first_fit_decreasing",
    "load_demands",
    "load_gpu_slots",
    "pack",
    "slots_from_fleet",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


# ----------------------------------------------------------------------------- inputs


class MigDemand(BaseModel):
    """Instances wanted: a MIG profile, or the memory (and compute) a workload needs."""

    model_config = _FROZEN

    name: str | None = None
    count: int = Field(default=1, ge=1)
    profile: str | None = Field(default=None, description="e.g. 1g.10gb; names are per GPU model")
    memory: str | int | None = Field(default=None, description="e.g. 30Gi: smallest profile holding it")
    compute: int = Field(default=1, ge=1, description="compute slices needed with 'memory'")
    gpu: str | None = Field(default=None, description="only on this GPU model")

    @model_validator(mode="after")
    def _one_of(self) -> MigDemand:
        if (self.profile is None) == (self.memory is None):
            raise ValueError("give exactly one of 'profile' (e.g. 1g.10gb) or 'memory' (e.g. 20Gi)")
        if self.memory is not None:
            parse_quantity(self.memory)
        return self


class GpuSlot(BaseModel):
    """One GPU that may be partitioned: where it is, its model, and its current MIG layout.

    ``current`` None means MIG is off (or unknown); ``{}`` means MIG on with no instances.
    """

    model_config = _FROZEN

    node: str
    index: int = Field(ge=0)
    model: str
    current: dict[str, int] | None = None

    @field_validator("model")
    @classmethod
    def _known(cls, value: str) -> str:
        from gpukit.hardware.catalog import get_gpu

        return get_gpu(value).key

    @field_validator("current")
    @classmethod
    def _canonical_layout(cls, value: dict[str, int] | None, info: ValidationInfo) -> dict[str, int] | None:
        # Profile names as the catalog spells them ('1g.10gb.me' -> '1g.10gb+me').
        if value and "model" in info.data:
            return canonical_counts(info.data["model"], value)
        return value


# ----------------------------------------------------------------------------- outputs


class Unplaced(BaseModel):
    model_config = _FROZEN

    demand: str
    count: int
    reason: str


class GpuAssignment(BaseModel):
    """One GPU's outcome: its layout (None: MIG off), placement, what it hosts, if it changes."""

    model_config = _FROZEN

    node: str
    index: int
    model: str
    layout: dict[str, int] | None
    placement: str | None = None
    hosts: tuple[tuple[str, str, int], ...] = Field(
        default=(), description="(demand, profile, instances) placed on this GPU"
    )
    used: bool = False
    changed: bool = False


class PackingPlan(BaseModel):
    """Per-GPU layouts, node labels and mig-parted configs for a set of MIG demands."""

    model_config = _FROZEN

    gpus: tuple[GpuAssignment, ...]
    node_labels: dict[str, str]
    configs: dict[str, tuple[MigPartedEntry, ...]]
    gpus_used: int
    gpus_changed: int
    nodes_changed: tuple[str, ...]
    lower_bound: int = Field(
        description="no plan places this demand on fewer GPUs (fleet LP, ignoring GPU counts "
        "per model); counts all demand that some fleet model can hold, placed or not"
    )
    unplaced: tuple[Unplaced, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unplaced

    def configmap(self, *, name: str = DEFAULT_CONFIGMAP, namespace: str = "gpu-operator") -> dict[str, Any]:
        """The mig-parted ConfigMap for the MIG manager (see :func:`mig_parted_configmap`)."""
        return mig_parted_configmap(self.configs, name=name, namespace=namespace)

    def to_dict(self) -> dict[str, Any]:
        """A plain, deterministic summary for YAML/JSON output."""
        return {
            "gpus_used": self.gpus_used,
            "lower_bound": self.lower_bound,
            "gpus_changed": self.gpus_changed,
            "nodes_changed": list(self.nodes_changed),
            "unplaced": [u.model_dump() for u in self.unplaced],
            "node_labels": {n: {"nvidia.com/mig.config": c} for n, c in self.node_labels.items()},
            "gpus": [
                {
                    "node": g.node,
                    "index": g.index,
                    "model": g.model,
                    "layout": g.layout,
                    "placement": g.placement,
                    "used": g.used,
                    "changed": g.changed,
                    "hosts": [{"demand": d, "profile": p, "count": c} for d, p, c in g.hosts],
                }
                for g in self.gpus
            ],
            "notes": list(self.notes),
        }


# ----------------------------------------------------------------------------- the packer


class _Class:
    """Demands with identical options, pooled: options are (model key, profile name)."""

    __slots__ = ("demands", "options")

    def __init__(self, options: tuple[tuple[str, str], ...]) -> None:
        self.options = options
        self.demands: list[tuple[str, int]] = []

    @property
    def count(self) -> int:
        return sum(c for _, c in self.demands)


def _demand_name(demand: MigDemand, i: int) -> str:
    return demand.name or f"demand-{i + 1}"


def _options(demand: MigDemand, models: Sequence[GpuModel], cat: Catalog) -> tuple[list[tuple[str, str]], str]:
    """Where a demand can go: (model, profile) pairs, or [] and why not."""
    if demand.gpu is not None:
        wanted = cat.get(demand.gpu)
        pool = [m for m in models if m.key == wanted.key]
        if not pool:
            return [], f"the fleet has no {wanted.key} GPU that can be partitioned"
        if wanted.mig is None:
            return [], f"{wanted.key} is not MIG-capable"
    else:
        pool = list(models)
    if not pool:
        return [], "the fleet has no MIG-capable GPU"
    if demand.profile is not None:
        out = [(m.key, p.name) for m in pool if (p := m.find_profile(demand.profile)) is not None]
        if not out:
            have = sorted({p.name for m in pool for p in m.profiles})
            from gpukit.errors import did_you_mean

            return [], (
                f"no GPU model in the fleet has MIG profile {demand.profile!r}"
                f"{did_you_mean(demand.profile, have)}; fleet profiles: {', '.join(have)}"
            )
        return out, ""
    need = int(parse_quantity(demand.memory))  # type: ignore[arg-type]
    out = []
    for m in pool:
        p = m.smallest_profile(need, demand.compute)
        if p is not None:
            out.append((m.key, p.name))
    if not out:
        largest = max((p for m in pool for p in m.profiles), key=lambda p: p.memory_bytes)
        return [], (
            f"needs {format_gib(need)} with {demand.compute} compute slice(s); the largest MIG "
            f"profile in the fleet is {largest.name} ({format_gib(largest.memory_bytes)}); use whole GPUs"
        )
    return out, ""


class _ModelData:
    """One GPU model's share of the problem: profile order, patterns, slot facts."""

    def __init__(self, model: GpuModel, names: Iterable[str]) -> None:
        shapes = _shapes(model.key)
        self.model = model
        self.key = model.key
        self.names: tuple[str, ...] = tuple(
            sorted(set(names), key=lambda n: (-shapes[n].size, -shapes[n].compute, n))
        )
        self.index = {n: i for i, n in enumerate(self.names)}
        self.patterns = _maximal_vectors(self.key, self.names)
        self.valid = set(_valid_vectors(self.key, self.names))
        geo = model.mig
        assert geo is not None
        self.C = geo.compute_slices
        self.M = geo.memory_slices
        self.comp = [shapes[n].compute for n in self.names]
        self.mem = [shapes[n].size for n in self.names]
        self.cap = [shapes[n].max_instances for n in self.names]
        self.media = [shapes[n].media for n in self.names]
        self.media_cap = geo.max_media_extension_instances

    def vector(self, counts: Mapping[str, int]) -> tuple[int, ...]:
        return tuple(counts.get(n, 0) for n in self.names)

    def simple_lb(self, r: Sequence[int]) -> int:
        if not any(r):
            return 0
        bounds = [
            -(-sum(c * x for c, x in zip(self.comp, r)) // self.C),
            -(-sum(m * x for m, x in zip(self.mem, r)) // self.M),
        ]
        bounds.extend(-(-x // cap) for x, cap in zip(r, self.cap))
        media = sum(x for x, me in zip(r, self.media) if me)
        if media:
            bounds.append(-(-media // self.media_cap))
        return max(bounds)

    def lp(self, r: Sequence[int]) -> float:
        return solve_cover(self.patterns, r).value if any(r) else 0.0

    def lb(self, r: Sequence[int]) -> int:
        return max(self.simple_lb(r), math.ceil(self.lp(r) - 1e-6))


def _sub(r: Sequence[int], p: Sequence[int], times: int = 1) -> tuple[int, ...]:
    return tuple(max(0, a - b * times) for a, b in zip(r, p))


def _greedy(md: _ModelData, r: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Repeatedly take the pattern covering the most of what is left (by memory, then compute)."""
    out = []
    weights = [m * 16 + c for m, c in zip(md.mem, md.comp)]
    while any(r):
        best = max(
            md.patterns,
            key=lambda p: (sum(min(a, b) * w for a, b, w in zip(r, p, weights)), -sum(p)),
        )
        out.append(best)
        r = _sub(r, best)
    return out


def _exact(md: _ModelData, r: tuple[int, ...], budget: int = 20_000) -> list[tuple[int, ...]]:
    """Fewest patterns covering ``r``: iterative deepening from the LP bound, LP-pruned.

    Each step branches only on patterns holding the largest profile still wanted (some
    GPU must hold it). Falls back to the greedy cover when the node budget runs out.
    """
    if not any(r):
        return []
    best = _greedy(md, r)
    lower = md.lb(r)
    if len(best) <= lower:
        return best
    failed: set[tuple[tuple[int, ...], int]] = set()
    nodes = 0

    def dfs(r: tuple[int, ...], k: int) -> list[tuple[int, ...]] | None:
        nonlocal nodes
        if not any(r):
            return []
        if k == 0 or (r, k) in failed:
            return None
        nodes += 1
        if nodes > budget or md.simple_lb(r) > k or md.lb(r) > k:
            failed.add((r, k))
            return None
        t = next(i for i, v in enumerate(r) if v)
        seen = set()
        for p in md.patterns:
            if not p[t]:
                continue
            nxt = _sub(r, p)
            if nxt in seen:
                continue
            seen.add(nxt)
            found = dfs(nxt, k - 1)
            if found is not None:
                return [p, *found]
        failed.add((r, k))
        return None

    for k in range(lower, len(best)):
        found = dfs(r, k)
        if found is not None:
            return found
        if nodes > budget:
            break
    return best


def _solve_model(md: _ModelData, d: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Near-fewest GPU layouts (patterns) covering ``d`` on one model."""
    if not any(d):
        return []
    lp = solve_cover(md.patterns, d)
    target = max(md.simple_lb(d), math.ceil(lp.value - 1e-6))
    base: list[tuple[int, ...]] = []
    r = d
    for i, x in sorted(enumerate(lp.x), key=lambda ix: -ix[1]):
        k = math.floor(x + 1e-9)
        if k:
            base.extend([md.patterns[i]] * k)
            r = _sub(r, md.patterns[i], k)
    solution = base + _exact(md, r)
    # Rounding down can strand a remainder that needs one GPU more than the LP; hand the
    # exact search a larger remainder (one copy back per pattern used) and keep the better.
    if len(solution) > target and base:
        back = list(dict.fromkeys(base))
        base2 = list(base)
        for p in back:
            base2.remove(p)
        r2 = d
        for p in base2:
            r2 = _sub(r2, p)
        alt = base2 + _exact(md, r2)
        if len(alt) < len(solution):
            solution = alt
    return solution


def pack(
    demands: Sequence[MigDemand],
    gpus: Sequence[GpuSlot],
    *,
    cat: Catalog | None = None,
) -> PackingPlan:
    """Choose each GPU's MIG layout so every demand is placed on the fewest GPUs.

    Pure: no I/O. See the module docstring for the objectives and the method.
    """
    cat = cat or catalog()
    notes: list[str] = []
    unplaced: list[Unplaced] = []
    slots = sorted(gpus, key=lambda g: (g.node, g.index))
    seen = set()
    for g in slots:
        if (g.node, g.index) in seen:
            raise InputError(f"GPU {g.index} of node {g.node!r} is listed twice; each GPU once")
        seen.add((g.node, g.index))
    by_model: dict[str, list[GpuSlot]] = {}
    skipped = 0
    for g in slots:
        if cat.get(g.model).mig is None:
            skipped += 1
            continue
        by_model.setdefault(g.model, []).append(g)
    if skipped:
        notes.append(f"{skipped} GPU(s) are not MIG-capable and were left as whole GPUs")
    models = [cat.get(k) for k in by_model]

    # 1. Demands -> classes of identical options.
    classes: dict[tuple[tuple[str, str], ...], _Class] = {}
    for i, demand in enumerate(demands):
        name = _demand_name(demand, i)
        options, why = _options(demand, models, cat)
        if not options:
            unplaced.append(Unplaced(demand=name, count=demand.count, reason=why))
            continue
        key = tuple(sorted(options, key=lambda o: _frac(cat.get(o[0]), o[1]) + (o[0],)))
        classes.setdefault(key, _Class(key)).demands.append((name, demand.count))
    class_list = sorted(classes.values(), key=lambda c: c.options)

    names: dict[str, set[str]] = {m.key: set() for m in models}
    for cls in class_list:
        for key, profile in cls.options:
            names[key].add(profile)
    data = {k: _ModelData(cat.get(k), v) for k, v in names.items() if v}

    # 2. Split flexible demand between models with one LP over the whole fleet.
    avail = {k: len(v) for k, v in by_model.items()}
    split, lp_bound = _split(class_list, data, avail)

    # 3. Integer layouts per model; move flexible units off models that run out of GPUs.
    plan_patterns, split = _integer(class_list, data, split, by_model)

    # 4. Spread each class's units over the GPUs; what does not fit is unplaced.
    lower = _lower_bound(class_list, data, split, lp_bound)
    assignments, leftover = _assign(class_list, data, split, plan_patterns, by_model)
    for name, count, reason in leftover:
        unplaced.append(Unplaced(demand=name, count=count, reason=reason))

    # 5. Node labels and configs for every node with MIG-capable GPUs.
    nodes: dict[str, list[tuple[GpuModel, Mapping[str, int] | None]]] = {}
    for a in assignments:
        nodes.setdefault(a.node, []).append((cat.get(a.model), a.layout))
    labels, configs = node_configs(nodes)
    changed_nodes = tuple(sorted({a.node for a in assignments if a.changed}))
    used = sum(1 for a in assignments if a.used)
    return PackingPlan(
        gpus=tuple(assignments),
        node_labels=labels,
        configs={k: tuple(v) for k, v in configs.items()},
        gpus_used=used,
        gpus_changed=sum(1 for a in assignments if a.changed),
        nodes_changed=changed_nodes,
        lower_bound=lower,
        unplaced=tuple(sorted(unplaced, key=lambda u: u.demand)),
        notes=tuple(notes),
    )


def _frac(model: GpuModel, profile: str) -> tuple[float, float]:
    """How much of a GPU one instance takes: the larger of its compute and memory shares."""
    p = model.find_profile(profile)
    geo = model.mig
    assert p is not None and geo is not None
    share = max(p.compute_slices / geo.compute_slices, p.memory_slices / geo.memory_slices)
    return (share, model.price_per_hour or 1.0)


def _split(
    classes: list[_Class], data: dict[str, _ModelData], avail: Mapping[str, int]
) -> tuple[dict[int, dict[str, int]], float]:
    """Units of each class per model, from the fleet-wide LP; and that LP's value.

    The LP ignores how many GPUs each model has unless its split would need more than a
    model has; then it is solved again with those limits (when they can be met at all).
    """
    split: dict[int, dict[str, int]] = {}
    flexible = [i for i, c in enumerate(classes) if len(c.options) > 1]
    for i, cls in enumerate(classes):
        if len(cls.options) == 1:
            split[i] = {cls.options[0][0]: cls.count}
    pinned = _pinned_vectors(classes, data, split)
    if not flexible:
        value = sum(data[k].lp(v) for k, v in pinned.items())
        return split, value
    value, amounts, load = _fleet_lp(classes, data, pinned, flexible, None)
    if any(load[k] > avail[k] + 1e-6 for k in load):
        try:
            _, amounts, _ = _fleet_lp(classes, data, pinned, flexible, avail)
        except ValueError:  # the fleet cannot hold it all: keep the unlimited split
            pass
    for i in flexible:
        split[i] = _round_split(classes[i], amounts[i])
    return split, value


def _fleet_lp(
    classes: list[_Class],
    data: dict[str, _ModelData],
    pinned: Mapping[str, tuple[int, ...]],
    flexible: list[int],
    avail: Mapping[str, int] | None,
) -> tuple[float, dict[int, dict[str, float]], dict[str, float]]:
    """Solve the fleet LP through its dual: (value, flexible units per model, GPUs per model).

    Primal: min sum x_mP s.t. per model m and profile q, sum_P P_q x_mP - sum_c z_cm
    >= pinned_mq; per flexible class c, sum_m z_cm >= n_c; with limits, sum_P x_mP <= avail_m.
    Dual variables: prices y_mq, then u_c, then (with limits) w_m.
    """
    models = sorted(data)
    cols: list[tuple[str, int]] = [(k, j) for k in models for j in range(len(data[k].names))]
    col_of = {kj: n for n, kj in enumerate(cols)}
    n_y = len(cols)
    n_w = len(models) if avail is not None else 0
    width = n_y + len(flexible) + n_w
    rows: list[list[float]] = []
    rhs: list[float] = []
    kinds: list[tuple[str, Any]] = []
    for w, k in enumerate(models):
        for p in data[k].patterns:
            row = [0.0] * width
            for j, v in enumerate(p):
                row[col_of[(k, j)]] = float(v)
            if avail is not None:
                row[n_y + len(flexible) + w] = -1.0
            rows.append(row)
            rhs.append(1.0)
            kinds.append(("pattern", k))
    for f, i in enumerate(flexible):
        for key, profile in classes[i].options:
            row = [0.0] * width
            row[n_y + f] = 1.0
            row[col_of[(key, data[key].index[profile])]] = -1.0
            rows.append(row)
            rhs.append(0.0)
            kinds.append(("assign", (i, key)))
    c = [float(pinned.get(k, (0,) * len(data[k].names))[j]) for k, j in cols]
    c += [float(classes[i].count) for i in flexible]
    if avail is not None:
        c += [-float(avail[k]) for k in models]
    value, _, duals = maximize(rows, rhs, c)
    amounts: dict[int, dict[str, float]] = {i: {} for i in flexible}
    load = {k: 0.0 for k in models}
    for (kind, what), x in zip(kinds, duals):
        if kind == "pattern":
            load[what] += x
        elif x > 1e-9:
            i, key = what
            amounts[i][key] = amounts[i].get(key, 0.0) + x
    return value, amounts, load


def _round_split(cls: _Class, amounts: Mapping[str, float]) -> dict[str, int]:
    """Whole units per model from the LP's fractional split: floors, then largest remainders."""
    total = cls.count
    order = [k for k, _ in cls.options]
    if not amounts:
        return {order[0]: total}
    scale = total / max(sum(amounts.values()), 1e-9)
    raw = {k: amounts.get(k, 0.0) * scale for k in order}
    out = {k: math.floor(v + 1e-9) for k, v in raw.items()}
    left = total - sum(out.values())
    for k in sorted(order, key=lambda k: (-(raw[k] - out[k]), order.index(k)))[:max(left, 0)]:
        out[k] += 1
    return {k: v for k, v in out.items() if v}


def _pinned_vectors(
    classes: list[_Class], data: dict[str, _ModelData], split: Mapping[int, Mapping[str, int]]
) -> dict[str, tuple[int, ...]]:
    acc: dict[str, list[int]] = {k: [0] * len(md.names) for k, md in data.items()}
    for i, per_model in split.items():
        cls = classes[i]
        profile_on = dict(cls.options)
        for key, units in per_model.items():
            acc[key][data[key].index[profile_on[key]]] += units
    return {k: tuple(v) for k, v in acc.items()}


class _Counts:
    """Per-model solutions, cached by demand vector (the split search asks again and again)."""

    def __init__(self, data: Mapping[str, _ModelData]) -> None:
        self.data = data
        self.cache: dict[tuple[str, tuple[int, ...]], list[tuple[int, ...]]] = {}
        self.calls = 0

    def solve(self, key: str, vec: tuple[int, ...]) -> list[tuple[int, ...]]:
        found = self.cache.get((key, vec))
        if found is None:
            self.calls += 1
            found = _solve_model(self.data[key], vec)
            self.cache[(key, vec)] = found
        return found

    def count(self, key: str, vec: tuple[int, ...]) -> int:
        return len(self.solve(key, vec))


def _shift(vec: tuple[int, ...], j: int, delta: int) -> tuple[int, ...]:
    out = list(vec)
    out[j] += delta
    return tuple(out)


#: Up to this many ways to split flexible demand between models, the packer tries them all.
_EXHAUSTIVE_SPLITS = 3000


def _compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    """Every way to write ``total`` as ``parts`` ordered non-negative integers."""
    if parts == 1:
        return [(total,)]
    return [(first, *rest) for first in range(total, -1, -1) for rest in _compositions(total - first, parts - 1)]


def _integer(
    classes: list[_Class],
    data: dict[str, _ModelData],
    split: dict[int, dict[str, int]],
    by_model: Mapping[str, Sequence[GpuSlot]],
    budget: int = 600,
) -> tuple[dict[str, list[tuple[int, ...]]], dict[int, dict[str, int]]]:
    """Per model the GPU patterns, after moving flexible units between models.

    First units leave models that need more GPUs than they have; then units move wherever
    that saves a GPU on one model without costing one on the other. ``budget`` caps the
    per-model solves this search may spend (it keeps large fleets fast).
    """
    counts = _Counts(data)
    avail = {k: len(v) for k, v in by_model.items()}
    vectors = _pinned_vectors(classes, data, split)
    flexible = [i for i, c in enumerate(classes) if len(c.options) > 1]

    def move(i: int, src: str, dst: str, units: int) -> None:
        profile_on = dict(classes[i].options)
        split[i][src] -= units
        split[i][dst] = split[i].get(dst, 0) + units
        split[i] = {m: u for m, u in split[i].items() if u}
        vectors[src] = _shift(vectors[src], data[src].index[profile_on[src]], -units)
        vectors[dst] = _shift(vectors[dst], data[dst].index[profile_on[dst]], units)

    def largest_move(i: int, src: str, dst: str, limit: int) -> int:
        """Most units (<= limit) of class i that dst can take without running out of GPUs."""
        j = data[dst].index[dict(classes[i].options)[dst]]
        lo, hi, best = 1, limit, 0
        while lo <= hi:
            mid = (lo + hi) // 2
            if counts.count(dst, _shift(vectors[dst], j, mid)) <= avail[dst]:
                best, lo = mid, mid + 1
            else:
                hi = mid - 1
        return best

    # 1. Models short of GPUs hand flexible units to models with room.
    for _ in range(4 * len(classes) + 4):
        over = [k for k in sorted(vectors) if counts.count(k, vectors[k]) > avail[k]]
        if not over:
            break
        moved = False
        for k in over:
            for i in flexible:
                units = split[i].get(k, 0)
                if not units:
                    continue
                # Only as many units as it takes to bring k within its GPUs.
                j = data[k].index[dict(classes[i].options)[k]]
                lo, hi, enough = 1, units, units
                while lo <= hi:
                    mid = (lo + hi) // 2
                    if counts.count(k, _shift(vectors[k], j, -mid)) <= avail[k]:
                        enough, hi = mid, mid - 1
                    else:
                        lo = mid + 1
                for other, _ in classes[i].options:
                    if other == k or not enough:
                        continue
                    n = largest_move(i, k, other, enough)
                    if n:
                        move(i, k, other, n)
                        enough -= n
                        moved = True
                if counts.count(k, vectors[k]) <= avail[k]:
                    break
        if not moved:
            break

    # 2. Few ways to split the flexible units: try them all (per-model counts are cached).
    combos = 1
    for i in flexible:
        combos *= math.comb(classes[i].count + len(classes[i].options) - 1, len(classes[i].options) - 1)
    if flexible and combos <= _EXHAUSTIVE_SPLITS:
        best = sum(counts.count(k, v) for k, v in vectors.items())
        base = {k: list(v) for k, v in _pinned_vectors(classes, data, {
            i: split[i] for i in range(len(classes)) if i not in flexible
        }).items()}
        for combo in itertools.product(
            *(_compositions(classes[i].count, len(classes[i].options)) for i in flexible)
        ):
            trial = {k: list(v) for k, v in base.items()}
            for i, parts in zip(flexible, combo):
                for (key, profile), units in zip(classes[i].options, parts):
                    trial[key][data[key].index[profile]] += units
            total = 0
            for k, v in trial.items():
                n = counts.count(k, tuple(v))
                if n > avail[k]:
                    total = best
                    break
                total += n
                if total >= best:
                    break
            if total < best:
                best = total
                for i, parts in zip(flexible, combo):
                    split[i] = {key: u for (key, _), u in zip(classes[i].options, parts) if u}
                vectors = {k: tuple(v) for k, v in trial.items()}

    # 3. Save GPUs: the fewest units whose move takes one GPU off a model, if the model
    # they go to needs no extra GPU for them.
    improved = True
    while improved and counts.calls < budget:
        improved = False
        for i in flexible:
            for src in sorted(split[i]):
                units = split[i].get(src, 0)
                if not units:
                    continue
                j = data[src].index[dict(classes[i].options)[src]]
                now = counts.count(src, vectors[src])
                lo, hi, need = 1, units, 0
                while lo <= hi and counts.calls < budget:
                    mid = (lo + hi) // 2
                    if counts.count(src, _shift(vectors[src], j, -mid)) < now:
                        need, hi = mid, mid - 1
                    else:
                        lo = mid + 1
                if not need:
                    continue
                for dst, profile in classes[i].options:
                    if dst == src:
                        continue
                    jd = data[dst].index[profile]
                    before = counts.count(dst, vectors[dst])
                    after = counts.count(dst, _shift(vectors[dst], jd, need))
                    if after <= before and after <= avail[dst]:
                        move(i, src, dst, need)
                        improved = True
                        break
                if improved:
                    break
            if improved:
                break
    return {k: counts.solve(k, v) for k, v in vectors.items()}, split


def _lower_bound(
    classes: list[_Class],
    data: dict[str, _ModelData],
    split: Mapping[int, Mapping[str, int]],
    lp_value: float,
) -> int:
    """A lower bound on GPUs used: the fleet LP, or per-model bounds when nothing is flexible."""
    bound = math.ceil(lp_value - 1e-6)
    if all(len(c.options) == 1 for c in classes):
        vectors = _pinned_vectors(classes, data, split)
        bound = max(bound, sum(data[k].lb(v) for k, v in vectors.items()))
    return bound


def _assign(
    classes: list[_Class],
    data: dict[str, _ModelData],
    split: Mapping[int, Mapping[str, int]],
    solved: Mapping[str, list[tuple[int, ...]]],
    by_model: Mapping[str, Sequence[GpuSlot]],
) -> tuple[list[GpuAssignment], list[tuple[str, int, str]]]:
    """Put patterns on physical GPUs (keeping current layouts where possible) and fill them."""
    leftover: list[tuple[str, int, str]] = []
    out: list[GpuAssignment] = []
    # Units wanted per (model, profile index), as an ordered list of (demand, count).
    queues: dict[str, list[list[tuple[str, int]]]] = {k: [[] for _ in md.names] for k, md in data.items()}
    for i, cls in enumerate(classes):
        profile_on = dict(cls.options)
        per_model = dict(split.get(i, {}))
        demands = list(cls.demands)
        for key in [k for k, _ in cls.options]:
            units = per_model.get(key, 0)
            q = data[key].index[profile_on[key]] if key in data else None
            while units and demands:
                name, count = demands[0]
                take = min(units, count)
                queues[key][q].append((name, take))  # type: ignore[index]
                units -= take
                if take == count:
                    demands.pop(0)
                else:
                    demands[0] = (name, count - take)
    changed_nodes: set[str] = set()
    for key in sorted(by_model):
        gpus = list(by_model[key])
        md = data.get(key)
        if md is None:
            out.extend(_keep(g) for g in gpus)
            continue
        demand_vec = tuple(sum(c for _, c in queue) for queue in queues[key])
        patterns = list(solved.get(key, []))
        if len(patterns) > len(gpus):
            patterns = sorted(patterns, key=lambda p: -sum(c * x for c, x in zip(md.comp, p)))[: len(gpus)]
        placed_layouts = _reuse(md, demand_vec, patterns, gpus)
        # placed_layouts: slot -> (layout vector over names or None to keep, fill vector)
        remaining = list(demand_vec)
        plan: dict[tuple[str, int], tuple[dict[str, int] | None, tuple[int, ...], bool]] = {}
        by_slot = {(g.node, g.index): g for g in gpus}
        for slot, (layout, keep) in placed_layouts.items():
            fill = tuple(min(a, b) for a, b in zip(layout, remaining))
            if not any(fill):
                continue  # nothing left for it: leave the GPU as it is
            remaining = [a - b for a, b in zip(remaining, fill)]
            gpu = by_slot[slot]
            if keep:
                counts = dict(gpu.current or {})
            else:
                counts = {n: c for n, c in zip(md.names, layout) if c}
            plan[slot] = (counts, fill, not keep)
        for g in gpus:
            slot = (g.node, g.index)
            if slot not in plan:
                out.append(_keep(g))
                continue
            counts, fill, changed = plan[slot]
            hosts = []
            for q, n in enumerate(fill):
                if n:
                    for name, c in _take(queues[key][q], n):
                        hosts.append((name, md.names[q], c))
            placement = place_counts(md.model, counts)
            if changed:
                changed_nodes.add(g.node)
            out.append(GpuAssignment(
                node=g.node, index=g.index, model=key, layout=_sorted_counts(md.model, counts),
                placement=_placement_text(placement), hosts=tuple(hosts),
                used=bool(hosts), changed=changed,
            ))
        # Whatever is still queued did not fit on this model's GPUs.
        for q, queue in enumerate(queues[key]):
            left = sum(c for _, c in queue)
            for name, count in queue:
                leftover.append((
                    name, count,
                    (f"the fleet's {len(gpus)} {key} GPU(s) are full; {md.names[q]} x{left} "
                     "more would need more GPUs of a model that has it"),
                ))
            queue.clear()
    out.sort(key=lambda a: (a.node, a.index))
    return out, leftover


def _take(queue: list[tuple[str, int]], n: int) -> list[tuple[str, int]]:
    """Up to ``n`` units off the front of ``queue``, as (demand, units)."""
    out = []
    while n and queue:
        name, count = queue[0]
        take = min(n, count)
        out.append((name, take))
        n -= take
        if take == count:
            queue.pop(0)
        else:
            queue[0] = (name, count - take)
    return out


def _keep(g: GpuSlot) -> GpuAssignment:
    model = catalog().get(g.model)
    counts = None if g.current is None else _sorted_counts(model, g.current) if model.mig else None
    placement = place_counts(model, counts) if counts else None
    return GpuAssignment(
        node=g.node, index=g.index, model=g.model, layout=counts,
        placement=_placement_text(placement) if counts else None,
    )


def _sorted_counts(model: GpuModel, counts: Mapping[str, int]) -> dict[str, int]:
    return canonical_counts(model, counts)


def _placement_text(placement: tuple[tuple[str, int], ...] | None) -> str | None:
    if placement is None:
        return None
    return " + ".join(f"{n}@{s}" for n, s in placement)


def _reuse(
    md: _ModelData,
    demand: tuple[int, ...],
    patterns: list[tuple[int, ...]],
    gpus: Sequence[GpuSlot],
) -> dict[tuple[str, int], tuple[tuple[int, ...], bool]]:
    """Choose which GPUs carry the layouts: current layouts kept where no GPU is lost.

    Returns slot -> (layout vector, keep current). A GPU whose current layout holds a
    pattern's share of the demand keeps that layout; GPUs with reusable layouts are tried
    first (in bulk per distinct layout) as long as the total GPU count does not grow.
    """
    target = len(patterns)
    current: dict[tuple[str, int], tuple[int, ...]] = {}
    for g in gpus:
        if g.current is not None and _valid_current(md, g.current):
            current[(g.node, g.index)] = md.vector({k: v for k, v in g.current.items()})
    chosen: dict[tuple[str, int], tuple[tuple[int, ...], bool]] = {}
    r = demand
    # Distinct current layouts, most useful first.
    groups: dict[tuple[int, ...], list[tuple[str, int]]] = {}
    for slot in sorted(current):
        groups.setdefault(current[slot], []).append(slot)
    weights = [m * 16 + c for m, c in zip(md.mem, md.comp)]

    def useful(vec: tuple[int, ...], r: tuple[int, ...]) -> int:
        return sum(min(a, b) * w for a, b, w in zip(vec, r, weights))

    fixed = 0
    for vec in sorted(groups, key=lambda v: (-useful(v, demand), v)):
        slots = groups[vec]

        def attempt(
            t: int, r: tuple[int, ...] = r, vec: tuple[int, ...] = vec, fixed: int = fixed
        ) -> tuple[bool, tuple[int, ...], int]:
            rr = r
            n = 0
            for _ in range(t):
                if not useful(vec, rr):
                    break
                rr = _sub(rr, vec)
                n += 1
            return fixed + n + len(_solve_model(md, rr)) <= target, rr, n

        if not useful(vec, r):
            continue
        ok, rr, n = attempt(len(slots))
        if not ok:
            lo, hi, best = 1, len(slots) - 1, (False, r, 0)
            while lo <= hi:
                mid = (lo + hi) // 2
                trial = attempt(mid)
                if trial[0]:
                    best, lo = trial, mid + 1
                else:
                    hi = mid - 1
            ok, rr, n = best
        if ok and n:
            for slot in slots[:n]:
                chosen[slot] = (vec, True)
            fixed += n
            r = rr
    rest = _solve_model(md, r) if fixed else patterns
    free = [g for g in gpus if (g.node, g.index) not in chosen]
    # Patterns whose share fits a current layout keep that GPU unchanged.
    spare: dict[tuple[int, ...], list[GpuSlot]] = {}
    for g in free:
        if (g.node, g.index) in current:
            spare.setdefault(current[(g.node, g.index)], []).append(g)
    remaining = r
    pending: list[tuple[int, ...]] = []
    for p in rest:
        fill = tuple(min(a, b) for a, b in zip(p, remaining))
        remaining = _sub(remaining, fill)
        fits = [v for v, gs in spare.items() if gs and all(a >= b for a, b in zip(v, fill))]
        if fits:
            vec = min(fits, key=lambda v: (sum(v), v))
            host = spare[vec].pop(0)
            chosen[(host.node, host.index)] = (vec, True)
            free.remove(host)
        else:
            pending.append(p)
    # New layouts fill whole nodes, the emptiest first, so that few nodes change; inside a
    # node, GPUs without a layout to keep go first.
    per_node: dict[str, list[GpuSlot]] = {}
    for g in free:
        per_node.setdefault(g.node, []).append(g)
    order = [
        g
        for node in sorted(per_node, key=lambda n: (-len(per_node[n]), n))
        for g in sorted(per_node[node], key=lambda g: ((g.node, g.index) in current, g.index))
    ]
    for p, host in zip(pending, order):
        chosen[(host.node, host.index)] = (p, False)
    return chosen


def _valid_current(md: _ModelData, current: Mapping[str, int]) -> bool:
    try:
        return place_counts(md.model, canonical_counts(md.model, current)) is not None
    except GpukitError:
        return False


# ----------------------------------------------------------------------------- baseline


def first_fit_decreasing(
    demands: Sequence[MigDemand],
    gpus: Sequence[GpuSlot],
    *,
    limits: bool = True,
    cat: Catalog | None = None,
) -> tuple[int, int]:
    """(GPUs used, instances left over) of first-fit decreasing: the benchmark's baseline.

    Instances largest first (memory slots, then compute); each goes to the first open GPU,
    in opening order, of the first model it may use (smallest share of a GPU first) where
    the grown layout is still placeable; else it opens a GPU of the first such model that
    has one left; else it is left over. ``limits=False`` ignores how many GPUs each model
    has (how many it would need).
    """
    cat = cat or catalog()
    avail: dict[str, int] = {}
    for g in gpus:
        if cat.get(g.model).mig is not None:
            avail[g.model] = avail.get(g.model, 0) + 1
    if not limits:
        avail = {k: 10**9 for k in avail}
    models = [cat.get(k) for k in avail]
    items: list[tuple[tuple[int, int], list[tuple[str, str]]]] = []
    for demand in demands:
        options, _ = _options(demand, models, cat)
        if not options:
            continue
        options.sort(key=lambda o: _frac(cat.get(o[0]), o[1]) + (o[0],))
        first = _shapes(options[0][0])[options[0][1]]
        items.extend(((first.size, first.compute), options) for _ in range(demand.count))
    items.sort(key=lambda it: (-it[0][0], -it[0][1]))
    all_names = {k: tuple(p.name for p in cat.get(k).profiles) for k in avail}
    valid = {k: set(_valid_vectors(k, all_names[k])) for k in avail}
    index = {k: {n: i for i, n in enumerate(all_names[k])} for k in avail}
    open_gpus: dict[str, list[list[int]]] = {k: [] for k in avail}
    # Per (model, profile), the first open GPU that may still take one: GPUs only fill up.
    start: dict[tuple[str, str], int] = {}
    opened = left_over = 0
    for _, options in items:
        placed = False
        for key, profile in options:
            j = index[key][profile]
            pool = open_gpus[key]
            s = start.get((key, profile), 0)
            for n in range(s, len(pool)):
                vec = pool[n]
                vec[j] += 1
                if tuple(vec) in valid[key]:
                    placed = True
                    break
                vec[j] -= 1
                if n == s:
                    s = n + 1
            start[(key, profile)] = s
            if placed:
                break
        if placed:
            continue
        for key, profile in options:
            if avail[key]:
                avail[key] -= 1
                vec = [0] * len(all_names[key])
                vec[index[key][profile]] = 1
                open_gpus[key].append(vec)
                opened += 1
                placed = True
                break
        if not placed:
            left_over += 1
    return opened, left_over


# ----------------------------------------------------------------------------- files


def load_demands(source: str | Path) -> list[MigDemand]:
    """Demands from a YAML/JSON demand file (format in the module docstring)."""
    from gpukit._loading import load_documents, read_text, validate_model

    label, text = read_text(source)
    docs = [doc for _, doc in load_documents(label, text)]
    if len(docs) != 1:
        raise InputError(f"{label}: a demand file holds one document, found {len(docs)}")
    doc = docs[0]
    items = doc.get("demands") if isinstance(doc, dict) else doc
    if isinstance(doc, dict) and set(doc) - {"demands"}:
        extra = sorted(set(doc) - {"demands"})
        raise InputError(f"{label}: unknown top-level key(s) {', '.join(extra)}; a demand file has 'demands'")
    if not isinstance(items, list) or not items:
        raise InputError(f"{label}: expected 'demands:' with a non-empty list of demands")
    return [validate_model(MigDemand, item, f"{label}: demand {i + 1}", InputError) for i, item in enumerate(items)]


def load_gpu_slots(source: str | Path, *, whole_gpu_pools: bool = False) -> list[GpuSlot]:
    """GPUs from a fleet file: a gpukit Fleet (node_pools) or a simple list (module docstring).

    ``default`` is gpukit's embedded default fleet. From a Fleet, only pools with a ``mig``
    section are taken unless ``whole_gpu_pools`` (then MIG-capable pools of whole GPUs
    too, with MIG off).
    """
    from gpukit._loading import load_documents, read_text

    if str(source) == "default":
        from gpukit.fleet import default_fleet

        return slots_from_fleet(default_fleet(), whole_gpu_pools=whole_gpu_pools)
    label, text = read_text(source)
    docs = [doc for _, doc in load_documents(label, text)]
    if len(docs) != 1:
        raise InputError(f"{label}: a fleet file holds one document, found {len(docs)}")
    doc = docs[0]
    if isinstance(doc, dict) and "node_pools" in doc:
        return slots_from_fleet(_fleet_from(doc, label), whole_gpu_pools=whole_gpu_pools)
    items = doc.get("gpus") if isinstance(doc, dict) and set(doc) == {"gpus"} else doc
    if not isinstance(items, list) or not items:
        raise InputError(
            f"{label}: expected a Fleet (node_pools: ...) or a list of {{model, count}} items"
        )
    return _slots_from_list(items, label)


def _fleet_from(doc: Any, label: str) -> Any:
    from gpukit._loading import validate_model
    from gpukit.errors import FleetError
    from gpukit.fleet import Fleet

    return validate_model(Fleet, doc, label, FleetError)


def slots_from_fleet(fleet: Any, *, whole_gpu_pools: bool = False) -> list[GpuSlot]:
    """GpuSlots for a gpukit Fleet: node '<pool>-<i>', the pool's MIG layout as current layout.

    Pools without a ``mig`` section hold whole GPUs (training, large models); they are
    left out unless ``whole_gpu_pools``, and pools of GPUs that cannot do MIG always are.
    """
    out = []
    for pool in fleet.node_pools:
        mig = getattr(pool, "mig", None)
        if pool.model.mig is None or (mig is None and not whole_gpu_pools):
            continue
        current = dict(mig.layout) if mig is not None else None
        for n in range(pool.nodes):
            for i in range(pool.gpus_per_node):
                out.append(GpuSlot(node=f"{pool.name}-{n}", index=i, model=pool.gpu, current=current))
    if not out:
        raise InputError(
            "the fleet has no MIG pool (a node pool with 'mig:'); add one, or pass "
            "--whole-gpu-pools to let gpukit partition MIG-capable whole-GPU pools"
        )
    return out


_LIST_KEYS = {"model", "count", "gpus_per_node", "node", "layout"}


def _slots_from_list(items: list[Any], label: str) -> list[GpuSlot]:
    from gpukit.errors import did_you_mean

    out: list[GpuSlot] = []
    used_prefixes: dict[str, int] = {}
    for n, item in enumerate(items):
        where = f"{label}: item {n + 1}"
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected a mapping like {{model: A100-40GB, count: 8}}")
        for key in item:
            if key not in _LIST_KEYS:
                raise InputError(
                    f"{where}: unknown key {key!r}{did_you_mean(str(key), _LIST_KEYS)}; "
                    f"allowed: {', '.join(sorted(_LIST_KEYS))}"
                )
        if "model" not in item:
            raise InputError(f"{where}: 'model' is required (e.g. A100-40GB)")
        model = catalog().get(str(item["model"]))
        count = item.get("count", 1)
        per_node = item.get("gpus_per_node", 8)
        for field, value in (("count", count), ("gpus_per_node", per_node)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{where}: {field!r} must be a whole number >= 1, got {value!r}")
        layout = item.get("layout")
        if layout is not None:
            if not isinstance(layout, dict):
                raise InputError(f"{where}: 'layout' is a mapping profile -> count, e.g. {{1g.10gb: 7}}")
            MigLayout.from_counts(model, layout)
        prefix = str(item.get("node") or model.key.lower())
        start = used_prefixes.get(prefix, 0)
        for i in range(count):
            node_no, gpu_no = divmod(i, per_node)
            out.append(GpuSlot(
                node=f"{prefix}-{start + node_no}", index=gpu_no, model=model.key,
                current=dict(layout) if layout is not None else None,
            ))
        used_prefixes[prefix] = start + -(-count // per_node)
    return out
