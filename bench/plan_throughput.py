"""plan() + render() throughput over 10,000 varied workloads on the default fleet.

Run: .venv/bin/python bench/plan_throughput.py [--n 10000] [--seed 7] [--repeat 3] [--profile]

Workloads are built first (pydantic validation of user input is not what is measured), then
each is planned and rendered. The figure is the best of --repeat runs, in workloads per
second, for plan() alone and for plan() + render(). Every run starts with empty advisor
caches (fleet facts, decisions per workload shape, memory estimates, and the frozen
Reason/Rejection/Option values that recur between workloads), so nothing is carried from
one run to the next; within a run, workloads of one shape reuse the decision (the script
prints how many shapes there are).
Target (issue 4): >= 5,000 workloads/s for plan() + render() on the 2-core dev machine.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import time
from collections import Counter

import gpukit as gk
from gpukit.errors import GpukitError, NoFeasiblePlan

KINDS = ["training", "fine-tuning", "inference", "batch-inference", "interactive", "ci"]
KIND_WEIGHTS = [10, 10, 30, 15, 20, 15]


def varied_workloads(n: int, seed: int) -> list[gk.Workload]:
    """Seeded mix covering every branch: memory given, estimated or unknown; every isolation
    and priority; replicas, workers, teams, queues, preemptible; models of 125M to 405B."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        fields: dict = {"name": f"w{i:05d}", "kind": kind}
        memory = rng.random()
        if memory < 0.55:
            fields["gpu_memory"] = f"{rng.choice([1, 2, 3, 4, 6, 8, 12, 16, 20, 30, 40, 60, 80, 120])}Gi"
        elif memory < 0.85:
            model = {
                "params": rng.choice(["125M", "350M", "1B", "3B", "7B", "8B", "13B", "34B", "70B", "405B"]),
                "precision": rng.choice(["fp32", "bf16", "fp16", "fp8", "int8", "int4"]),
                "mode": rng.choice(["inference", "inference", "lora", "qlora", "training"]),
            }
            if rng.random() < 0.3:
                model |= {"sequence_length": rng.choice([2048, 4096, 8192]), "layers": 32,
                          "hidden_size": 4096, "batch_size": rng.randint(1, 8)}
            fields["model"] = model
        if rng.random() < 0.4:
            fields["isolation"] = rng.choice(["strict", "process", "none"])
        if rng.random() < 0.4:
            fields["priority"] = rng.choice(["latency", "throughput", "cost"])
        if kind in ("training", "fine-tuning") and rng.random() < 0.3:
            fields["workers"] = rng.choice([2, 4])
            fields["gpus"] = rng.choice([1, 2, 4, 8])
        elif rng.random() < 0.05:
            fields["gpus"] = rng.choice([1, 2])
        if kind in ("inference", "batch-inference"):
            fields["replicas"] = rng.randint(1, 6)
        if rng.random() < 0.5:
            fields["team"] = rng.choice(["team-nlp", "team-vision", "team-research", "team-new"])
        fields["preemptible"] = rng.random() < 0.15
        out.append(gk.Workload(**fields))
    return out


def _cold_caches() -> None:
    """Empty every advisor cache: reuse within a run is by design, across runs it is not."""
    from gpukit import memory
    from gpukit.advisor import clear_caches

    clear_caches()
    memory._quantity_bytes.cache_clear()


def _shape(w: gk.Workload, fleet: gk.Fleet) -> tuple[object, ...]:
    from gpukit.advisor.context import Context

    return Context(w, fleet, gk.memory_need(w)).shape


def run(
    workloads: list[gk.Workload], fleet: gk.Fleet, with_render: bool
) -> tuple[float, float, Counter]:
    """(wall seconds, CPU seconds of this process, outcomes) for one pass."""
    render = gk.render
    plan = gk.plan
    outcome: Counter = Counter()
    _cold_caches()
    cpu = time.process_time()
    start = time.perf_counter()
    for w in workloads:
        try:
            p = plan(w, fleet)
        except NoFeasiblePlan:
            outcome["no feasible plan"] += 1
            continue
        outcome[p.sharing] += 1
        if with_render:
            try:
                render(p)
            except GpukitError:
                outcome["render refused"] += 1  # e.g. multi-node serving (LeaderWorkerSet)
    return time.perf_counter() - start, time.process_time() - cpu, outcome


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="print the top of a cProfile run")
    args = ap.parse_args(argv)

    fleet = gk.default_fleet()
    load = os.getloadavg()
    t0 = time.perf_counter()
    workloads = varied_workloads(args.n, args.seed)
    build = time.perf_counter() - t0
    shapes = len({w.model_copy(update={"name": "x"}) for w in workloads})
    decision_shapes = len({_shape(w, fleet) for w in workloads})

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run(workloads, fleet, True)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)

    plan_runs = [run(workloads, fleet, False) for _ in range(args.repeat)]
    both_runs = [run(workloads, fleet, True) for _ in range(args.repeat)]
    outcome = both_runs[0][2]
    print(f"workloads: {args.n} (seed {args.seed}; {shapes} distinct apart from name, "
          f"{decision_shapes} decision shapes; built in {build:.2f}s)")
    print(f"outcomes: {dict(sorted(outcome.items()))}")
    print(f"load average before: {load[0]:.2f} on {os.cpu_count()} CPUs; best of {args.repeat} runs")
    for label, runs in (("plan()", plan_runs), ("plan() + render()", both_runs)):
        wall = min(r[0] for r in runs)
        cpu = min(r[1] for r in runs)
        print(f"{label + ':':19} {args.n / wall:8.0f} workloads/s wall ({wall * 1e6 / args.n:.0f} us each), "
              f"{args.n / cpu:8.0f} workloads/s CPU time ({cpu * 1e6 / args.n:.0f} us each)")
    rate = args.n / min(r[0] for r in both_runs)
    print(f"target >= 5000 workloads/s (plan + render, wall): {'met' if rate >= 5000 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
