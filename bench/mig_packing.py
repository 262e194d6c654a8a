"""MIG fleet packing benchmark: proven optimality on a seeded suite, and a 10,000-instance plan.

    .venv/bin/python bench/mig_packing.py            # full run (about a minute on 2 cores)
    .venv/bin/python bench/mig_packing.py --small 40 --large 1   # a quick look

Part 1, quality: a seeded suite of random instances of up to 64 GPUs (1 to 3 GPU models,
profile demands pinned to a model, profile names several models share, memory needs that
map to a different profile on each model, some GPUs with a current layout). For each, the
packer's plan is checked independently (every layout placeable by this script's own
search, every demand hosted on a profile it may use, no model over its GPU count), and its
GPU count is compared with a certified lower bound (bench/mig_exact.py). When they differ,
the exact branch and bound decides whether a better plan exists.

Part 2, scale: 10,000 demanded instances over 2,000 GPUs of five models (a third of the
H100s already carrying a layout), against the certified lower bound and against
first-fit decreasing measured in the same run. Times are wall-clock of `pack()` alone.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mig_exact import Instance, certified_bound, exact_min_gpus, layout_is_valid

from gpukit.hardware import get_gpu
from gpukit.hardware.mig import maximal_multisets
from gpukit.hardware.packing import (
    GpuSlot,
    MigDemand,
    PackingPlan,
    first_fit_decreasing,
    pack,
)
from gpukit.quantity import parse_quantity

POOL = ["A100-40GB", "A100-80GB", "H100-80GB", "H100-94GB", "H200-141GB", "A30-24GB", "B200"]
# Relative frequency of each profile shape in generated demand: small instances dominate.
SHAPES = {"1g": 8, "1g+me": 0.3, "1g2m": 2, "2g": 3, "2g+me": 0.2, "3g": 1.5, "4g": 0.5, "7g": 0.3}
SHARED_NAMES = ["1g.10gb", "2g.20gb", "3g.40gb", "1g.20gb", "4g.40gb", "7g.80gb"]
MEMORY = ["4Gi", "8Gi", "10Gi", "16Gi", "20Gi", "30Gi", "40Gi"]


def options(demand: MigDemand, models: list[str]) -> tuple[tuple[str, str], ...]:
    """Where a demand may go, worked out here rather than by the packer."""
    pool = [get_gpu(demand.gpu).key] if demand.gpu else models
    out = []
    for key in pool:
        gpu = get_gpu(key)
        if demand.profile:
            p = gpu.find_profile(demand.profile)
        else:
            p = gpu.smallest_profile(int(parse_quantity(demand.memory)), demand.compute)
        if p is not None:
            out.append((key, p.name))
    return tuple(out)


def to_instance(demands: list[MigDemand], slots: list[GpuSlot]) -> Instance:
    avail: dict[str, int] = {}
    for s in slots:
        avail[s.model] = avail.get(s.model, 0) + 1
    return [(d.count, options(d, sorted(avail))) for d in demands], avail


def check(plan: PackingPlan, demands: list[MigDemand], slots: list[GpuSlot]) -> None:
    """Raise AssertionError unless the plan is valid and places every demand."""
    models = sorted({s.model for s in slots})
    allowed = {f"d{i}": set(options(d, models)) for i, d in enumerate(demands)}
    hosted = {f"d{i}": 0 for i in range(len(demands))}
    assert len(plan.gpus) == len(slots)
    assert not plan.unplaced, plan.unplaced
    for g in plan.gpus:
        per_profile: dict[str, int] = {}
        for name, profile, count in g.hosts:
            assert (g.model, profile) in allowed[name], (g, name)
            hosted[name] += count
            per_profile[profile] = per_profile.get(profile, 0) + count
        if g.layout is not None:
            assert layout_is_valid(g.model, g.layout), g
        for profile, count in per_profile.items():
            assert g.layout and g.layout.get(profile, 0) >= count, g
        assert g.used == bool(g.hosts)
    assert hosted == {f"d{i}": d.count for i, d in enumerate(demands)}
    assert plan.gpus_used == sum(1 for g in plan.gpus if g.used)


# ----------------------------------------------------------------------------- generators


def small_instance(rng: random.Random) -> tuple[list[MigDemand], list[GpuSlot]]:
    """A random instance that fits its fleet (certified per-model bound below the GPU count)."""
    while True:
        demands, slots = _draw_small(rng)
        avail: dict[str, int] = {}
        for slot in slots:
            avail[slot.model] = avail.get(slot.model, 0) + 1
        models = sorted(avail)
        pinned = [(d.count, options(d, models)) for d in demands]
        pinned = [(c, o) for c, o in pinned if len(o) == 1]
        fits = all(
            certified_bound(([(c, o) for c, o in pinned if o[0][0] == m], {m: n})) < n
            for m, n in avail.items()
        )
        if fits and certified_bound(to_instance(demands, slots)) < len(slots):
            return demands, slots


def _draw_small(rng: random.Random) -> tuple[list[MigDemand], list[GpuSlot]]:
    n_models = rng.choice([1, 1, 2, 2, 3])
    models = rng.sample(POOL, n_models)
    slots: list[GpuSlot] = []
    counts = {m: rng.randint(2, 64 // n_models) for m in models}
    for m, n in counts.items():
        layouts = maximal_multisets(m)
        for i in range(n):
            current = dict(rng.choice(layouts)) if rng.random() < 0.3 else None
            slots.append(GpuSlot(node=f"{m.lower()}-{i // 8}", index=i % 8, model=m, current=current))
    fill = rng.uniform(0.3, 0.95)
    demands: list[MigDemand] = []
    for m, n in counts.items():
        gpu = get_gpu(m)
        profiles = list(gpu.profiles)
        weights = [SHAPES[p.shape] for p in profiles]
        # Add demand until its memory slots reach the fill target of this model's GPUs.
        slots_left = fill * n * gpu.mig.memory_slices
        media_left = n
        while slots_left > 0:
            p = rng.choices(profiles, weights)[0]
            count = rng.randint(1, max(1, int(slots_left / p.memory_slices / 2)))
            if p.media_extensions:
                count = min(count, media_left)
                media_left -= count
                if not count:
                    continue
            demands.append(MigDemand(profile=p.name, gpu=m, count=count))
            slots_left -= count * p.memory_slices
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 2)):
            if rng.random() < 0.5:
                demands.append(MigDemand(memory=rng.choice(MEMORY), compute=rng.choice([1, 1, 2]),
                                         count=rng.randint(1, 6)))
            else:
                # A profile name: several models may have it, with different shapes.
                names = sorted({p.name for m in models for p in get_gpu(m).profiles if not p.media_extensions})
                shared = [n for n in SHARED_NAMES if n in names] or names
                demands.append(MigDemand(profile=rng.choice(shared), count=rng.randint(1, 6)))
    demands = [d for d in demands if options(d, models)]
    return [d.model_copy(update={"name": f"d{i}"}) for i, d in enumerate(demands)], slots


def large_instance(rng: random.Random) -> tuple[list[MigDemand], list[GpuSlot]]:
    """10,000 instances that fit the 2,000 GPUs (certified bound at most 95% of them)."""
    while True:
        demands, slots = _draw_large(rng)
        instance = to_instance(demands, slots)
        classes, avail = instance
        fits = all(
            certified_bound(([(c, o) for c, o in classes if len(o) == 1 and o[0][0] == m], {m: n})) < n
            for m, n in avail.items()
        )
        if fits and certified_bound(instance) <= 0.95 * len(slots):
            return demands, slots


def _draw_large(rng: random.Random) -> tuple[list[MigDemand], list[GpuSlot]]:
    fleet = {"H100-80GB": 600, "A100-80GB": 500, "A100-40GB": 400, "H200-141GB": 300, "A30-24GB": 200}
    balanced = {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}
    slots = [
        GpuSlot(node=f"{m.lower()}-{i // 8}", index=i % 8, model=m,
                current=balanced if m == "H100-80GB" and i % 3 == 0 else None)
        for m, n in fleet.items() for i in range(n)
    ]
    demands: list[MigDemand] = []
    total = 10_000
    # About two thirds pinned to a model in proportion to its GPUs, the rest flexible.
    pinned = {m: round(0.65 * total * n / sum(fleet.values())) for m, n in fleet.items()}
    for m, share in pinned.items():
        gpu = get_gpu(m)
        profiles = list(gpu.profiles)
        weights = [SHAPES[p.shape] * (3 if p.shape == "1g" else 1) for p in profiles]
        while share > 0:
            p = rng.choices(profiles, weights)[0]
            count = min(share, rng.randint(5, 120), p.max_instances * fleet[m] // 4)
            demands.append(MigDemand(profile=p.name, gpu=m, count=count))
            share -= count
    left = total - sum(d.count for d in demands)
    while left > 0:
        count = min(left, rng.randint(20, 200))
        if rng.random() < 0.5:
            demands.append(MigDemand(profile=rng.choices(SHARED_NAMES[:4], [6, 3, 1, 2])[0], count=count))
        else:
            demands.append(MigDemand(memory=rng.choice(MEMORY[:4]), compute=rng.choice([1, 1, 1, 2]), count=count))
        left -= count
    return [d.model_copy(update={"name": f"d{i}"}) for i, d in enumerate(demands)], slots


# ----------------------------------------------------------------------------- runs


def run_small(n: int, seed: int) -> bool:
    rng = random.Random(seed)
    by_bound = by_exact = worse = undecided = 0
    gaps = []
    exact_time = pack_time = 0.0
    sizes = []
    for i in range(n):
        demands, slots = small_instance(rng)
        sizes.append(len(slots))
        t0 = time.perf_counter()
        plan = pack(demands, slots)
        pack_time += time.perf_counter() - t0
        check(plan, demands, slots)
        instance = to_instance(demands, slots)
        bound = certified_bound(instance)
        assert plan.gpus_used >= bound, (i, plan.gpus_used, bound)
        if plan.gpus_used == bound:
            by_bound += 1
            assert plan.lower_bound <= bound, (i, plan.lower_bound, bound)
            continue
        t0 = time.perf_counter()
        best, complete = exact_min_gpus(instance, plan.gpus_used)
        exact_time += time.perf_counter() - t0
        if best < plan.gpus_used:
            worse += 1
            gaps.append((i, plan.gpus_used, best))
        elif complete:
            by_exact += 1
            assert plan.lower_bound <= best, (i, plan.lower_bound, best)
        else:
            undecided += 1
    print(f"suite: {n} instances (seed {seed}), {min(sizes)}-{max(sizes)} GPUs each, "
          f"median {statistics.median(sizes):.0f}")
    print(f"  optimal, proven by a certified lower bound that the plan meets: {by_bound}")
    print(f"  optimal, proven by exact branch and bound:                     {by_exact}")
    print(f"  not optimal (packer, optimum):                                  {worse} {gaps[:10]}")
    print(f"  undecided (exact search ran out of budget):                     {undecided}")
    print(f"  packer time: {pack_time:.2f} s total, {1000 * pack_time / n:.1f} ms mean; "
          f"exact search time: {exact_time:.2f} s")
    return worse == 0 and undecided == 0


def run_large(count: int, seed: int) -> bool:
    ok = True
    for k in range(count):
        rng = random.Random(seed + k)
        demands, slots = large_instance(rng)
        instances = sum(d.count for d in demands)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            plan = pack(demands, slots)
            times.append(time.perf_counter() - t0)
        check(plan, demands, slots)
        had = {(s.node, s.index) for s in slots if s.current is not None}
        with_layout = [g for g in plan.gpus if (g.node, g.index) in had]
        reused = sum(1 for g in with_layout if g.used and not g.changed)
        idle = sum(1 for g in with_layout if not g.used and not g.changed)
        t0 = time.perf_counter()
        bound = certified_bound(to_instance(demands, slots))
        bound_time = time.perf_counter() - t0
        t0 = time.perf_counter()
        ffd, ffd_left = first_fit_decreasing(demands, slots)
        ffd_time = time.perf_counter() - t0
        ffd_free, _ = first_fit_decreasing(demands, slots, limits=False)
        gap = (plan.gpus_used - bound) / bound
        print(f"large #{k + 1} (seed {seed + k}): {instances} instances, {len(demands)} demands, "
              f"{len(slots)} GPUs of {len({s.model for s in slots})} models")
        print(f"  packer: {plan.gpus_used} GPUs, certified lower bound {bound} "
              f"(gap {100 * gap:.2f}%); time {min(times):.3f} s best of 3 "
              f"(runs: {', '.join(f'{t:.3f}' for t in times)})")
        print(f"  layouts: of the {len(had)} GPUs that had one, {reused} keep it and host demand, "
              f"{idle} keep it unused, {len(had) - reused - idle} change; {plan.gpus_changed} GPUs "
              f"change in all (the rest had MIG off) on {len(plan.nodes_changed)} nodes")
        if ffd_left:
            ffd_text = f"{ffd} GPUs and {ffd_left} instances left over (a model ran out of GPUs)"
        else:
            ffd_text = f"{ffd} GPUs ({100 * (ffd - bound) / bound:.2f}% over the bound)"
        print(f"  first-fit decreasing: {ffd_text}, time {ffd_time:.3f} s; without per-model "
              f"GPU limits it would need {ffd_free} GPUs ({100 * (ffd_free - bound) / bound:.2f}% over the bound)")
        print(f"  (certified bound computed in {bound_time:.2f} s, outside the timing)")
        ok = ok and gap <= 0.01 and max(times) < 2.0
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=240, help="instances in the quality suite")
    parser.add_argument("--large", type=int, default=3, help="10,000-instance plans to time")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    t0 = time.perf_counter()
    quality = run_small(args.small, args.seed) if args.small else True
    scale = run_large(args.large, args.seed) if args.large else True
    print(f"targets met: quality={'yes' if quality else 'NO'}, scale={'yes' if scale else 'NO'} "
          f"(whole run {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
