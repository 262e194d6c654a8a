"""Exact checks for the MIG packing benchmark: certified lower bounds and an exact solver.

Kept apart from the packer on purpose. Valid layouts are re-derived here from the catalog's
raw profile facts (allowed starts, sizes, per-profile maxima, one media-extension instance)
with a placement search of its own, so the packer's engine is not checking itself.

* :func:`certified_bound` solves the fleet LP (through gpukit's small simplex), then turns
  its dual solution into a certificate: prices are scaled until every valid layout of
  every model costs at most one GPU, so by weak duality ``ceil(sum of prices)`` bounds
  the optimum whatever rounding the LP did.
* :func:`exact_min_gpus` is a branch and bound: every split of flexible demand between
  the models it may use, and per model an iterative-deepening search over maximal layouts
  (each GPU must hold the largest instance still wanted), pruned by certified bounds.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence

from gpukit.hardware import get_gpu
from gpukit.hardware._lp import maximize

__all__ = ["Instance", "certified_bound", "exact_min_gpus", "layout_is_valid"]

# An instance: classes of identical demand units, each (count, ((model, profile), ...)),
# and GPUs available per model.
Instance = tuple[list[tuple[int, tuple[tuple[str, str], ...]]], dict[str, int]]


@functools.cache
def _facts(model: str) -> dict[str, tuple[int, int, tuple[int, ...], int, bool]]:
    gpu = get_gpu(model)
    return {
        p.name: (p.compute_slices, p.memory_slices, tuple(p.starts), p.max_instances, p.media_extensions)
        for p in gpu.profiles
    }


def layout_is_valid(model: str, counts: dict[str, int]) -> bool:
    """Independent check: a start for every instance, no shared slot, per-profile limits."""
    facts = _facts(model)
    gpu = get_gpu(model)
    slots = gpu.mig.memory_slices  # type: ignore[union-attr]
    if any(c > facts[n][3] for n, c in counts.items() if c):
        return False
    if sum(c for n, c in counts.items() if facts[n][4]) > 1:
        return False
    items = sorted((n for n, c in counts.items() for _ in range(c)), key=lambda n: -facts[n][1])

    def go(i: int, used: int) -> bool:
        if i == len(items):
            return True
        _, size, starts, _, _ = facts[items[i]]
        for s in starts:
            mask = ((1 << size) - 1) << s
            if s + size <= slots and not used & mask and go(i + 1, used | mask):
                return True
        return False

    return go(0, 0)


@functools.cache
def _patterns(model: str, names: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    """Maximal valid count vectors over ``names``, by brute force over counts."""
    facts = _facts(model)
    valid = set()
    for vec in itertools.product(*(range(facts[n][3] + 1) for n in names)):
        if layout_is_valid(model, dict(zip(names, vec))):
            valid.add(vec)
    maximal = [
        v for v in valid
        if any(v) and not any(tuple(c + (j == i) for j, c in enumerate(v)) in valid for i in range(len(names)))
    ]
    return tuple(sorted(maximal, reverse=True))


def _names(instance: Instance) -> dict[str, tuple[str, ...]]:
    classes, avail = instance
    out: dict[str, set[str]] = {m: set() for m in avail}
    for _, options in classes:
        for model, profile in options:
            out[model].add(profile)
    facts = {m: _facts(m) for m in out}
    return {
        m: tuple(sorted(v, key=lambda n: (-facts[m][n][1], -facts[m][n][0], n)))
        for m, v in out.items() if v
    }


def certified_bound(instance: Instance) -> int:
    """A proven lower bound on the GPUs any valid plan uses for the instance."""
    classes, _ = instance
    names = _names(instance)
    models = sorted(names)
    cols = [(m, n) for m in models for n in names[m]]
    col = {c: i for i, c in enumerate(cols)}
    pinned = [0.0] * len(cols)
    flexible = []
    for count, options in classes:
        if len(options) == 1:
            pinned[col[options[0]]] += count
        else:
            flexible.append((count, options))
    width = len(cols) + len(flexible)
    rows, rhs = [], []
    for m in models:
        for p in _patterns(m, names[m]):
            row = [0.0] * width
            for n, v in zip(names[m], p):
                row[col[(m, n)]] = float(v)
            rows.append(row)
            rhs.append(1.0)
    for f, (_, options) in enumerate(flexible):
        for option in options:
            row = [0.0] * width
            row[len(cols) + f] = 1.0
            row[col[option]] = -1.0
            rows.append(row)
            rhs.append(0.0)
    objective = pinned + [float(c) for c, _ in flexible]
    _, y, _ = maximize(rows, rhs, objective)
    prices = {c: max(0.0, y[i]) for c, i in col.items()}
    # Certificate: scale so that every maximal layout costs <= 1 GPU ...
    worst = max(
        [1.0] + [
            sum(v * prices[(m, n)] for n, v in zip(names[m], p))
            for m in models for p in _patterns(m, names[m])
        ]
    )
    prices = {c: v / worst for c, v in prices.items()}
    # ... and price each flexible unit at its cheapest option.
    bound = sum(pinned[i] * prices[c] for c, i in col.items())
    bound += sum(count * min(prices[o] for o in options) for count, options in flexible)
    return math.ceil(bound - 1e-7)


class _Model:
    def __init__(self, model: str, names: tuple[str, ...]) -> None:
        facts = _facts(model)
        gpu = get_gpu(model)
        self.patterns = _patterns(model, names)
        self.comp = [facts[n][0] for n in names]
        self.mem = [facts[n][1] for n in names]
        self.cap = [facts[n][3] for n in names]
        self.media = [facts[n][4] for n in names]
        self.C = gpu.mig.compute_slices  # type: ignore[union-attr]
        self.M = gpu.mig.memory_slices  # type: ignore[union-attr]
        self.memo: dict[tuple[int, ...], int | None] = {}

    def bound(self, r: Sequence[int]) -> int:
        if not any(r):
            return 0
        simple = max(
            [-(-sum(c * x for c, x in zip(self.comp, r)) // self.C),
             -(-sum(m * x for m, x in zip(self.mem, r)) // self.M),
             -(-sum(x for x, me in zip(r, self.media) if me) // 1)]
            + [-(-x // cap) for x, cap in zip(r, self.cap)]
        )
        _, y, _ = maximize(self.patterns, [1.0] * len(self.patterns), [float(x) for x in r])
        worst = max([1.0] + [sum(a * b for a, b in zip(p, y)) for p in self.patterns])
        lp = sum(x * v / worst for x, v in zip(r, y))
        return max(simple, math.ceil(lp - 1e-7))

    def greedy(self, r: tuple[int, ...]) -> int:
        n = 0
        weights = [m * 16 + c for m, c in zip(self.mem, self.comp)]
        while any(r):
            best = max(self.patterns, key=lambda p: sum(min(a, b) * w for a, b, w in zip(r, p, weights)))
            r = tuple(max(0, a - b) for a, b in zip(r, best))
            n += 1
        return n

    def minimum(self, r: tuple[int, ...], budget: list[int]) -> int | None:
        """Fewest GPUs for ``r``; None when the node budget ran out."""
        if r in self.memo:
            return self.memo[r]
        upper = self.greedy(r)
        lower = self.bound(r)
        failed: set[tuple[tuple[int, ...], int]] = set()

        def feasible(r: tuple[int, ...], k: int) -> bool | None:
            if not any(r):
                return True
            if k == 0 or (r, k) in failed:
                return False
            budget[0] -= 1
            if budget[0] < 0:
                return None
            if self.bound(r) > k:
                failed.add((r, k))
                return False
            t = next(i for i, v in enumerate(r) if v)
            children = {tuple(max(0, a - b) for a, b in zip(r, p)) for p in self.patterns if p[t]}
            for child in sorted(children, key=sum):
                found = feasible(child, k - 1)
                if found is None:
                    return None
                if found:
                    return True
            failed.add((r, k))
            return False

        result: int | None = upper
        for k in range(lower, upper):
            found = feasible(r, k)
            if found is None:
                result = None
                break
            if found:
                result = k
                break
        self.memo[r] = result
        return result


def exact_min_gpus(instance: Instance, upper: int, budget: int = 300_000) -> tuple[int, bool]:
    """(fewest GPUs found, complete) given a known solution of ``upper`` GPUs.

    ``complete`` is False when the node budget ran out somewhere: the count is then only
    an upper bound.

    Enumerates every split of each flexible class between its options, pruned by the
    certified per-model bounds; each model's share is solved exactly.
    """
    classes, avail = instance
    names = _names(instance)
    solvers = {m: _Model(m, names[m]) for m in names}
    index = {m: {n: i for i, n in enumerate(names[m])} for m in names}
    base = {m: [0] * len(names[m]) for m in names}
    flexible = []
    for count, options in classes:
        if len(options) == 1:
            m, n = options[0]
            base[m][index[m][n]] += count
        else:
            flexible.append((count, options))
    left = [budget]
    best = upper
    undecided = False

    def splits(count: int, k: int):
        if k == 1:
            yield (count,)
            return
        for first in range(count, -1, -1):
            for rest in splits(count - first, k - 1):
                yield (first, *rest)

    for choice in itertools.product(*(list(splits(c, len(o))) for c, o in flexible)):
        vectors = {m: list(v) for m, v in base.items()}
        for (count, options), parts in zip(flexible, choice):
            for (m, n), units in zip(options, parts):
                vectors[m][index[m][n]] += units
        keys = {m: tuple(v) for m, v in vectors.items()}
        if sum(solvers[m].bound(v) for m, v in keys.items()) >= best:
            continue
        total = 0
        for m, v in keys.items():
            got = solvers[m].minimum(v, left)
            if got is None:
                undecided = True
                total = best
                break
            if got > avail[m]:
                total = best
                break
            total += got
        best = min(best, total)
    return best, not undecided
