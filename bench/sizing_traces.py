"""Fleet sizing on a seeded synthetic mix of 1,000 workloads shaped like published GPU traces.

Run: .venv/bin/python bench/sizing_traces.py [--n 1000] [--seed 2020] [--json]

The mix follows the shape two public cluster traces report, not their exact numbers:

- Alibaba PAI, 2020 trace (Weng et al., "MLaaS in the Wild: Workload Analysis and Scheduling
  in Large-Scale Heterogeneous GPU Clusters", NSDI 2022): most task instances ask for less
  than one whole GPU (PAI shares GPUs), and use little of what they get; a few jobs ask for
  many GPUs.
- Microsoft Philly (Jeon et al., "Analysis of Large-Scale Multi-Tenant GPU Clusters for DNN
  Training Workloads", USENIX ATC 2019): most jobs use one GPU; a small share of distributed
  jobs uses 8 or more and takes much of the GPU time.

The class weights below are this benchmark's own choice within that shape (about 70 % of
workloads fit in a fraction of a GPU, 20 % use one whole GPU, 8 % several on one node and 2 %
several nodes); sizes are drawn from skewed ranges. Workloads are planned on the embedded
default fleet with pool sizes left open (sizing asks how many GPUs the mix needs). The naive
plan gives every pod whole dedicated GPUs of the model gpukit chose. Every plan is checked to
meet its memory need (with headroom) and its isolation need; the run fails if one does not.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter

import gpukit as gk
from gpukit.sizing import size

#: (class, weight): share of workloads in each class.
CLASSES = [
    ("serve-small", 25),  # online inference of small models: a fraction of a GPU
    ("batch-small", 10),  # batch scoring / embeddings among trusted processes
    ("notebook", 20),  # interactive development, mostly idle
    ("ci", 15),  # GPU tests per commit
    ("train-1gpu", 20),  # single-GPU training and fine-tuning
    ("multi-gpu", 8),  # tensor-parallel serving or multi-GPU training on one node
    ("multi-node", 2),  # distributed training across nodes
]


def _skewed_gib(rng: random.Random, low: float, high: float) -> str:
    """Memory in [low, high] GiB, small values far more likely (log-uniform)."""
    value = low * (high / low) ** rng.random()
    return f"{max(1, round(value * 4)) / 4:g}Gi"


def trace_mix(n: int, seed: int) -> list[gk.Workload]:
    rng = random.Random(seed)
    names, weights = zip(*CLASSES, strict=True)
    teams = ["team-nlp", "team-vision", "team-research", None]
    out = []
    for i in range(n):
        cls = rng.choices(names, weights)[0]
        name = f"{cls}-{i:04d}"
        team = rng.choice(teams)
        if cls == "serve-small":
            w = gk.Workload(
                name=name, kind="inference", gpu_memory=_skewed_gib(rng, 1, 30),
                isolation=rng.choice(["strict", "strict", "process", "process", "process"]),
                replicas=rng.choice([1, 1, 1, 2, 2, 3, 4]), team=team,
            )
        elif cls == "batch-small":
            w = gk.Workload(
                name=name, kind="batch-inference", gpu_memory=_skewed_gib(rng, 1, 16),
                replicas=rng.choice([1, 2, 4, 8]), team=team,
            )
        elif cls == "notebook":
            memory = None if rng.random() < 0.5 else _skewed_gib(rng, 1, 12)
            w = gk.Workload(name=name, kind="interactive", gpu_memory=memory, team=team)
        elif cls == "ci":
            w = gk.Workload(name=name, kind="ci", gpu_memory=_skewed_gib(rng, 0.5, 6))
        elif cls == "train-1gpu":
            model = {"params": rng.choice(["125M", "350M", "1B", "3B", "7B", "13B"]),
                     "mode": rng.choice(["training", "lora", "lora", "qlora"])}
            if model["mode"] == "training" and model["params"] in ("7B", "13B"):
                model["mode"] = "lora"  # full training of these needs several GPUs: multi-gpu class
            w = gk.Workload(name=name, kind=rng.choice(["training", "fine-tuning"]), model=model,
                            team=team, preemptible=rng.random() < 0.2)
        elif cls == "multi-gpu":
            if rng.random() < 0.5:
                w = gk.Workload(name=name, kind="inference",
                                model={"params": rng.choice(["34B", "70B"]), "precision": "bf16"})
            else:
                w = gk.Workload(name=name, kind="training", gpus=rng.choice([2, 4, 8]), team=team)
        else:
            w = gk.Workload(name=name, kind="training", workers=rng.choice([2, 2, 4, 8]), gpus=8,
                            team=rng.choice(["team-research", "team-nlp"]))
        out.append(w)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)

    workloads = trace_mix(args.n, args.seed)
    start = time.perf_counter()
    report = size(workloads, gk.default_fleet())
    elapsed = time.perf_counter() - start

    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0 if not report.violations else 1
    classes = Counter(w.name.rsplit("-", 1)[0] for w in workloads)
    pods = sum(w.workers * w.replicas for w in workloads)
    print(f"mix: {args.n} workloads, {pods} pods, seed {args.seed}: {dict(classes)}")
    print(report.table())
    print()
    print(f"gpukit: {report.gpukit_gpus} GPUs (${report.gpukit_cost_per_hour:,.2f}/h); "
          f"naive whole-GPU: {report.naive_gpus} GPUs (${report.naive_cost_per_hour:,.2f}/h); "
          f"{report.ratio:.2f}x fewer GPUs, "
          f"{1 - report.gpukit_gpus / report.naive_gpus:.0%} saved")
    print(f"plans missing a memory or isolation need: {len(report.violations)}; "
          f"unplaced workloads: {len(report.unplaced)}; sized in {elapsed:.2f}s")
    return 0 if not report.violations else 1


if __name__ == "__main__":
    sys.exit(main())
