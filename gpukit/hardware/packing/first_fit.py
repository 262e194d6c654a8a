"""First-fit decreasing over valid layouts: the baseline the fleet packer is benchmarked against."""

from __future__ import annotations

from collections.abc import Sequence

from gpukit.hardware.catalog import Catalog, catalog
from gpukit.hardware.mig.geometry import profile_shapes, valid_vectors
from gpukit.hardware.packing.models import GpuSlot, MigDemand
from gpukit.hardware.packing.per_model import _frac, _options

__all__ = ["first_fit_decreasing"]


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
        first = profile_shapes(options[0][0])[options[0][1]]
        items.extend(((first.size, first.compute), options) for _ in range(demand.count))
    items.sort(key=lambda it: (-it[0][0], -it[0][1]))
    all_names = {k: tuple(p.name for p in cat.get(k).profiles) for k in avail}
    valid = {k: set(valid_vectors(k, all_names[k])) for k in avail}
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


