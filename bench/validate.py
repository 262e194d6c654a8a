"""Validation speed: cold start, then objects per second on real and rendered manifests.

    .venv/bin/python bench/validate.py

Prints one line per figure. Reference examples are read from ../shared/reference when it
is beside the repository.
"""

from __future__ import annotations

import glob
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "reference" / "examples"


def _rate(label: str, objects: list, validate, rounds: int = 5) -> None:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for obj in objects:
            validate(obj)
        times.append(time.perf_counter() - start)
    best = min(times)
    print(
        f"{label}: {len(objects)} objects, best {best * 1000:.1f} ms "
        f"(median {statistics.median(times) * 1000:.1f} ms), "
        f"{len(objects) / best:,.0f} objects/s, {best / len(objects) * 1e6:.0f} us/object"
    )


def main() -> None:
    start = time.perf_counter()
    from gpukit.validate import Validator

    print(f"import gpukit.validate: {(time.perf_counter() - start) * 1000:.0f} ms")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "x"}},
        "spec": {
            "containers": [
                {"name": "c", "image": "cuda", "resources": {"limits": {"nvidia.com/gpu": 1}}}
            ]
        },
    }
    validator = Validator()
    start = time.perf_counter()
    validator.validate(pod)
    print(
        f"first Pod (loads and compiles the core schema): {(time.perf_counter() - start) * 1000:.0f} ms"
    )
    _rate("Pod with a GPU", [pod] * 2000, validator.validate)

    from gpukit.validate._files import load_manifests

    examples = [
        doc.data
        for path in sorted(glob.glob(str(EXAMPLES / "*" / "*.yaml")))
        for doc in load_manifests(path)[1]
        if isinstance(doc.data, dict) and "kind" in doc.data
    ]
    if examples:
        fresh = Validator()
        start = time.perf_counter()
        for obj in examples:
            fresh.validate(obj)
        print(
            f"reference examples, cold (every schema loaded and compiled once): "
            f"{(time.perf_counter() - start) * 1000:.0f} ms"
        )
        _rate("reference examples, warm", examples, fresh.validate)

    from gpukit.advisor import plan
    from gpukit.fleet import default_fleet
    from gpukit.manifests import render
    from gpukit.workload import load_workloads

    fleet = default_fleet()
    workloads = load_workloads(*sorted(glob.glob(str(ROOT / "examples" / "workloads" / "*.yaml"))))
    rendered = [obj for w in workloads for obj in render(plan(w, fleet))]
    _rate("rendered example workloads", rendered * 50, validator.validate)


if __name__ == "__main__":
    main()
