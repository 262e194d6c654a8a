"""pack(): MIG demands and partitionable GPUs in, per-GPU layouts, node labels and configs out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gpukit.errors import InputError
from gpukit.hardware.catalog import Catalog, GpuModel, catalog
from gpukit.hardware.migparted import node_configs
from gpukit.hardware.packing.assign import _assign
from gpukit.hardware.packing.fleet import _integer, _lower_bound, _split
from gpukit.hardware.packing.models import GpuSlot, MigDemand, PackingPlan, Unplaced
from gpukit.hardware.packing.per_model import _Class, _demand_name, _frac, _ModelData, _options

__all__ = ["pack"]


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


