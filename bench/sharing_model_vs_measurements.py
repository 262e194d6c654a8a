"""How close the sharing model and the device calibration come to the H200 reference.

    python bench/sharing_model_vs_measurements.py

Prints (1) the shipped model against every row of gpu-sharing-measurements.md (in-sample: the
constants are fitted to these rows), (2) the shipped model against the run measured with
`python -m gpukit.calibrate` on the device H200 (out of sample), (3) that run against the
reference row by row, (4) how long a fit and a prediction take.
"""

from __future__ import annotations

import statistics
import sys
import time
from importlib import resources
from pathlib import Path

from gpukit.calibrate.compare import compare, format_comparison
from gpukit.calibrate.importer import parse_measurements_markdown
from gpukit.sharing import load_calibration, predict, read_calibration
from gpukit.sharing.calibration import Calibration
from gpukit.sharing.fit import fit_calibration, row_errors

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "gpu-sharing-measurements.md"
MEASURED = resources.files("gpukit.sharing").joinpath("data/measured/H200-141GB-2026-11-29.yaml")


def errors_table(title: str, rows: Calibration, model: Calibration) -> None:
    print(f"\n== {title}")
    print(f"{'workload':14} {'rows':>4} {'<=20%':>5} {'median |err|':>12} {'worst |err|':>11}  worst row")
    assert model.model is not None
    for w in rows.workloads:
        ref = model.workload(w.name)
        errs = row_errors(w, model.model, ref.gpu_boundness, ref.gpu_fill)
        worst_i, _ = max(errs, key=lambda ie: max(abs(x) for x in ie[1]))
        per_row = [max(abs(x) for x in e) for _, e in errs]
        r = w.rows[worst_i]
        print(
            f"{w.name:14} {len(errs):>4} {sum(e <= 0.2 for e in per_row):>5} "
            f"{statistics.median(per_row):>12.1%} {max(per_row):>11.1%}  {r.mode} N={r.replicas} run {r.run}"
        )


def main() -> int:
    shipped = load_calibration()
    if REFERENCE.is_file():
        reference = parse_measurements_markdown(REFERENCE.read_text(encoding="utf-8"), gpu="H200")
        errors_table("shipped model vs the reference rows (in sample; |err| = worst of the 4 ratios)", reference, shipped)
        start = time.perf_counter()
        fit_calibration(reference)
        print(f"\nfit of the 74 reference rows: {time.perf_counter() - start:.2f} s")
    else:
        print(f"reference not found at {REFERENCE}; skipping the in-sample table", file=sys.stderr)
    measured = read_calibration(str(MEASURED))
    errors_table("shipped model vs the device run of 2026-11-29 (out of sample)", measured, shipped)
    print("\n== device run vs reference, ratio of ratios (1.00 = same as the reference)")
    print(format_comparison(compare(measured, shipped)))
    eager_m, eager_r = measured.workload("w1-eager-b1"), shipped.workload("w1-eager-b1")
    print(
        f"\neager batch 1 solo: {eager_m.solo.throughput:.0f} samples/s here, "
        f"{eager_r.solo.throughput:.0f} in the reference (runs {', '.join(f'{x:.0f}' for x in eager_r.solo.runs)})"
    )
    print("eager batch 1 absolute aggregate samples/s, device run vs reference:")
    for mode in ("time-slicing", "mps", "mps-limits"):
        for n in (2, 4, 8, 16):
            m = next((r for r in eager_m.rows if r.mode == mode and r.replicas == n), None)
            r = next((r for r in eager_r.rows if r.mode == mode and r.replicas == n), None)
            if m and r:
                a, b = m.aggregate * eager_m.solo.throughput, r.aggregate * eager_r.solo.throughput
                print(f"  {mode:13} N={n:<2} {a:7.0f} vs {b:7.0f}  ({a / b:.2f})")
    start = time.perf_counter()
    for _ in range(2000):
        predict("mps-limits", 8, kind="inference", calibration=shipped)
    print(f"\npredict(): {(time.perf_counter() - start) / 2000 * 1e6:.0f} us per call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
