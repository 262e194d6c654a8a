"""`gpukit size` at production scale: seeded, production-shaped mixes of 10,000 and 100,000 workloads.

Run: .venv/bin/python bench/sizing_scale.py [--n 10000 100000] [--seed 2023] [--check]

The mix has the shares the issue gives from a published production GPU cluster trace
(Alibaba's PAI GPU trace of 2023, cluster-trace-gpu-v2023 in alibaba/clusterdata, released
with Weng et al., "Beware of Fragmentation: Scheduling GPU-Sharing Workloads with
Fragmentation Gradient Descent", USENIX ATC 2023): about 13 % CPU-only pods, 38 % single-GPU
pods that need a fraction of a GPU (median about 0.47; the common fractions 0.81, 0.47,
0.32, 0.65 and 0.23, the rest spread over 0.05-1), 48 % whole single-GPU pods and 1 % pods
of 2, 4 or 8 GPUs; about 57 % latency-sensitive and 42 % best-effort (the rest unlabelled).
Pods are drawn until ``n`` GPU workloads exist; the CPU-only pods drawn on the way are
counted and left out, as sizing leaves them out. How a class becomes a Workload is this
benchmark's own choice: a fraction f of a GPU needs f x 80 GiB (an H100-80GB's memory);
the common fractions make 60 % of the fractional pods and a uniform draw over 0.05-1 the
rest (median of all about 0.47); latency-sensitive pods serve (inference); best-effort ones
are batch scoring, CI or notebooks, preemptible; whole-GPU pods train, fine-tune or serve.

Reported per size: seconds for :func:`gpukit.sizing.size` on the built workloads
(``size_s``); for the CLI path in process (``cli_s``: ``gpukit size -w FILE.jsonl``, streaming
the JSON Lines file, validating every workload, sizing, printing JSON); for the same command
as a separate process (``process_s``: interpreter start and imports too); decision shapes, GPUs and nodes, and the MIG packing
against its LP lower bound. ``--check`` exits 1 unless: 10,000 workloads size in < 1 s
and 100,000 in < 10 s (CLI path), MIG GPUs are within 1 % of the lower bound, and no plan
misses a memory or isolation need.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gpukit as gk
from gpukit.sizing import size

FRACTIONS = (0.81, 0.47, 0.32, 0.65, 0.23)
GPU_GIB = 80


def _fraction(rng: random.Random) -> float:
    """A GPU fraction: the trace's common values 60 % of the time, else uniform over 0.05-1."""
    if rng.random() < 0.6:
        return rng.choice(FRACTIONS)
    return round(rng.uniform(0.05, 1.0), 2)


def production_mix(n: int, seed: int) -> tuple[list[dict], int]:
    """(``n`` workload documents, CPU-only pods drawn on the way and left out)."""
    rng = random.Random(seed)
    docs: list[dict] = []
    cpu_only = 0
    i = -1
    while len(docs) < n:
        i += 1
        r = rng.random()
        latency = rng.random() < 0.57
        best_effort = not latency and rng.random() < 0.42 / 0.43
        name = f"p{i:06d}"
        if r < 0.13:
            cpu_only += 1  # no GPU: not a GPU workload, sizing never sees it
            continue
        if r < 0.13 + 0.38:
            memory = f"{max(0.5, round(_fraction(rng) * GPU_GIB * 4) / 4):g}Gi"
            if latency:
                doc = {
                    "name": name,
                    "kind": "inference",
                    "gpu_memory": memory,
                    "isolation": rng.choice(["strict", "process"]),
                    "priority": "latency",
                }
            else:
                kind = rng.choice(["batch-inference", "batch-inference", "ci", "interactive"])
                doc = {"name": name, "kind": kind, "gpu_memory": memory}
                if best_effort:
                    doc |= {"priority": "cost", "preemptible": True}
        elif r < 0.13 + 0.38 + 0.48:
            if latency:
                doc = {"name": name, "kind": "inference", "gpus": 1, "priority": "latency"}
            else:
                doc = {"name": name, "kind": rng.choice(["training", "fine-tuning"]), "gpus": 1}
                if best_effort:
                    doc |= {"preemptible": True}
        else:
            gpus = rng.choice([2, 4, 8])
            doc = {"name": name, "kind": "training", "gpus": gpus}
            if rng.random() < 0.3:
                doc["workers"] = rng.choice([2, 4])  # a gang across nodes
        docs.append(doc)
    return docs, cpu_only


def run(n: int, seed: int) -> dict:
    docs, cpu_only = production_mix(n, seed)
    workloads = [gk.Workload.model_validate(d) for d in docs]
    gk.default_fleet()  # parsed once, as the CLI would
    start = time.perf_counter()
    report = size(workloads)
    sized = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mix.jsonl"
        path.write_text("".join(json.dumps(d) + "\n" for d in docs))
        from typer.testing import CliRunner

        from gpukit.cli import app

        args = ["size", "-w", str(path), "--output", "json"]
        start = time.perf_counter()
        out = CliRunner().invoke(app, args)
        cli = time.perf_counter() - start
        assert out.exit_code in (0, 1), out.output
        assert json.loads(out.output)["gpukit_gpus"] == report.gpukit_gpus
        # The whole command as a shell runs it: interpreter start, imports, streaming, sizing.
        start = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "gpukit", *args], capture_output=True, text=True, check=False
        )
        process = time.perf_counter() - start
        assert json.loads(run.stdout)["gpukit_gpus"] == report.gpukit_gpus, run.stderr
    return {
        "pods": len(workloads) + cpu_only,
        "cpu_only": cpu_only,
        "workloads": len(workloads),
        "shapes": report.shapes,
        "size_s": round(sized, 3),
        "cli_s": round(cli, 3),
        "process_s": round(process, 3),
        "gpukit_gpus": report.gpukit_gpus,
        "naive_gpus": report.naive_gpus,
        "gpukit_nodes": report.gpukit_nodes,
        "naive_nodes": report.naive_nodes,
        "mig_gpus": report.mig_gpus,
        "mig_lower_bound": report.mig_lower_bound,
        "violations": len(report.violations),
        "unplaced": len(report.unplaced),
        "top_saving": report.savings[0].sentence if report.savings else "",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    ok = True
    for n in args.n:
        r = run(n, args.seed)
        print(json.dumps(r))
        limit = {10_000: 1.0, 100_000: 10.0}.get(n)
        if limit is not None and r["cli_s"] >= limit:
            print(f"MISSED: {n} workloads sized in {r['cli_s']} s, target < {limit} s")
            ok = False
        if r["mig_gpus"] > 1.01 * r["mig_lower_bound"]:
            print(f"MISSED: MIG {r['mig_gpus']} GPUs, more than 1 % over {r['mig_lower_bound']}")
            ok = False
        if r["violations"]:
            ok = False
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
