"""Splitting flexible demand between GPU models: the fleet LP, integer moves, the lower bound."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from gpukit.hardware._lp import maximize
from gpukit.hardware.packing.models import GpuSlot
from gpukit.hardware.packing.per_model import _Class, _ModelData, _solve_model

__all__: list[str] = []


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


