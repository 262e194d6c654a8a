"""Putting chosen layouts on physical GPUs: current layouts kept where no GPU is lost, then filled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gpukit.errors import GpukitError
from gpukit.hardware.catalog import GpuModel, catalog
from gpukit.hardware.mig import canonical_counts, place_counts
from gpukit.hardware.packing.models import GpuAssignment, GpuSlot
from gpukit.hardware.packing.per_model import _Class, _ModelData, _solve_model, _sub

__all__: list[str] = []


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


