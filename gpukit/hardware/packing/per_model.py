"""One GPU model's share of a packing: where demands may go, layout patterns, fewest covers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from gpukit.hardware._lp import solve_cover
from gpukit.hardware.catalog import Catalog, GpuModel
from gpukit.hardware.mig.geometry import maximal_vectors, profile_shapes, valid_vectors
from gpukit.hardware.packing.models import MigDemand
from gpukit.quantity import format_gib, parse_quantity

__all__: list[str] = []


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
        shapes = profile_shapes(model.key)
        self.model = model
        self.key = model.key
        self.names: tuple[str, ...] = tuple(
            sorted(set(names), key=lambda n: (-shapes[n].size, -shapes[n].compute, n))
        )
        self.index = {n: i for i, n in enumerate(self.names)}
        self.patterns = maximal_vectors(self.key, self.names)
        self.valid = set(valid_vectors(self.key, self.names))
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


def _frac(model: GpuModel, profile: str) -> tuple[float, float]:
    """How much of a GPU one instance takes: the larger of its compute and memory shares."""
    p = model.find_profile(profile)
    geo = model.mig
    assert p is not None and geo is not None
    share = max(p.compute_slices / geo.compute_slices, p.memory_slices / geo.memory_slices)
    return (share, model.price_per_hour or 1.0)

