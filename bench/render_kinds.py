"""Rendering timings: render() per object kind, and a whole platform bundle per example fleet.

Run: .venv/bin/python bench/render_kinds.py   (prints one line per figure, best of 5)
"""

from __future__ import annotations

import time
from pathlib import Path

import gpukit as gk
from gpukit.manifests import object_kind
from gpukit.platform import platform_files, platform_plan

ROOT = Path(__file__).resolve().parents[1]
FLEETS = ROOT / "examples" / "fleets"
WORKLOADS = gk.load_workloads(ROOT / "examples" / "workloads")
GANG = gk.Workload(name="ddp", kind="training", workers=4, gpus=8, team="team-research")


def best(run, repeat: int = 5, number: int = 200) -> float:
    """Best of ``repeat`` runs of ``number`` calls, in seconds per call."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            run()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def fleet(name: str) -> gk.Fleet:
    return gk.default_fleet() if name == "default" else gk.load_fleet(FLEETS / f"{name}.yaml")


def main() -> None:
    seen = set()
    for name in ("default", "dra", "kai", "no-volcano"):
        f = fleet(name)
        for w in [*WORKLOADS, GANG]:
            p = gk.plan(w, f)
            kind = object_kind(p) + (" +DRA" if f.installed.dra else "")
            if kind in seen:
                continue
            seen.add(kind)
            per_call = best(lambda p=p: gk.render(p))
            print(f"render {kind:<22} {per_call * 1e6:8.1f} us/plan  ({name} fleet, {w.name})")
    for name in ("default", "dra", "kai", "no-volcano"):
        f = fleet(name)

        def bundle(f=f) -> None:
            for file in platform_files(platform_plan(f, WORKLOADS)):
                file.content()

        per_call = best(bundle, number=5)
        print(
            f"platform bundle {name:<12} {per_call * 1e3:8.1f} ms  (plans {len(WORKLOADS)} workloads, all files as text)"
        )


if __name__ == "__main__":
    main()
