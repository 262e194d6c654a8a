"""The sharing model reproduces every measured row of gpu-sharing-measurements.md.

Rule: each row's four ratios (aggregate, per replica, p50, p99 against solo) are predicted
within 20 %, with the model constants and each workload's (gpu_boundness, gpu_fill) taken from
the shipped H200 calibration, which is fitted to these rows (10 GPU constants and 2 numbers per
workload for 74 rows x 3 independent ratios).

How the eager W1 rows (CPU-launch-bound, documented as +-30 %) are handled:

- Solo runs (time-slicing, N = 1) are not predictions: the solo reference is the median of those
  runs, so the model gives exactly 1.0 and no model can be within 20 % of every run when the runs
  themselves spread 0.68-1.23x. For them the test asserts 1.0 and that the row is one of the
  document's solo runs (`test_solo_rows_are_the_documented_runs`).
- Five shared rows miss 20 %. Each is listed in NOISY_ROWS with why, and is asserted within the
  20 % model error compounded with the documented 30 % noise: predicted/measured in
  [0.8 / 1.3, 1.2 x 1.3]. The list may only name eager rows, and a test fails if a listed row
  no longer needs the exception, so it cannot grow quietly.
- Every other row, eager ones included, must be within 20 %.
"""

from __future__ import annotations

import re

import pytest

from gpukit.calibrate.importer import parse_measurements_markdown
from gpukit.sharing import load_calibration
from gpukit.sharing.calibration import Calibration
from gpukit.sharing.fit import row_errors
from tests._reference import VENDORED

REFERENCE = VENDORED / "gpu-sharing-measurements.md"
TOLERANCE = 0.20
EAGER_NOISE = 0.30
NOISE_LOW, NOISE_HIGH = (1 - TOLERANCE) / (1 + EAGER_NOISE), (1 + TOLERANCE) * (1 + EAGER_NOISE)
COLUMNS = ("aggregate", "per replica", "p50", "p99")

# (workload, mode, N, run) -> why the row misses 20 %.
NOISY_ROWS = {
    ("w1-eager-b1", "time-slicing", 2, "1"): (
        "run 1's machine ran eager batch 1 alone at 0.70x the reference (265 vs 380 samples/s); "
        "its p50 (3.29 ms) carries that slower CPU, 21 % above the model"
    ),
    ("w1-eager-b8", "time-slicing", 4, "1"): (
        "eager batch 8 alone has a CPU-jitter tail (p99 2.07x p50); at N = 4 the GPU has just "
        "saturated and that jitter stays in p99 (7.19 ms), which the model's saturated-queue "
        "tail (p99 ~ p50) does not carry; at N = 8 and 16 it is gone and the model is within 3 %"
    ),
    ("w1-eager-b8", "time-slicing", 4, "2"): "the same row measured on run 2's machine (p99 6.41 ms)",
    ("w1-eager-b8", "mps", 4, "2"): (
        "run 2's machine ran eager batch 8 alone at 1.23x the reference (3595 vs 2933 samples/s), "
        "so its ratios against the median read high; against its own solo the aggregate is 3.4x, "
        "the model 3.2x"
    ),
    ("w1-eager-b8", "mps-limits", 4, "2"): (
        "run 2's machine as above; against its own solo the aggregate is 3.25x, the model 2.6x "
        "(N = 2, 8 and 16 of the same series are within 15 %)"
    ),
}


def _reference() -> Calibration | None:
    if not REFERENCE.is_file():
        return None
    return parse_measurements_markdown(REFERENCE.read_text(encoding="utf-8"), gpu="H200")


MEASURED = _reference()
SHIPPED = load_calibration("H200")


def _rows():
    if MEASURED is None:
        return []
    return [
        pytest.param(w.name, i, id=f"{w.name}-{row.mode}-N{row.replicas}-run{row.run}")
        for w in MEASURED.workloads
        for i, row in enumerate(w.rows)
        if not (row.mode == "time-slicing" and row.replicas == 1)  # solo runs: their own test
    ]


ROWS = _rows()


def _errors(workload: str, index: int) -> tuple[float, ...]:
    assert MEASURED is not None and SHIPPED.model is not None
    measured = MEASURED.workload(workload)
    fitted = SHIPPED.workload(workload)
    got = dict(row_errors(measured, SHIPPED.model, fitted.gpu_boundness, fitted.gpu_fill))
    return got[index]


def _key(workload: str, index: int) -> tuple[str, str, int, str | None]:
    assert MEASURED is not None
    row = MEASURED.workload(workload).rows[index]
    return (workload, row.mode, row.replicas, row.run)


def test_the_document_is_read_completely():
    assert MEASURED is not None
    text = REFERENCE.read_text(encoding="utf-8")
    # Every data row of the five result tables: '| N | mode | ...' with 11 cells.
    table_rows = [line for line in text.splitlines() if re.match(r"^\| \d+ \| (time-slice|MPS)", line)]
    assert len(table_rows) == 74
    assert sum(len(w.rows) for w in MEASURED.workloads) == len(table_rows)
    assert [w.name for w in MEASURED.workloads] == [
        "w1-eager-b1", "w1-eager-b8", "w1-graph-b1", "w1-graph-b8", "w2-matmul",
    ]
    graph = MEASURED.workload("w1-graph-b1")
    row = next(r for r in graph.rows if r.mode == "mps-limits" and r.replicas == 16)
    assert (row.aggregate, row.p50, row.p99) == (5.41, 2.97, 2.96)
    assert graph.solo.throughput == 1767 and graph.solo.p99_ms == 0.59


def test_shipped_calibration_holds_the_documents_rows():
    """The package data is the reference, not a stale copy of it."""
    assert MEASURED is not None
    for w in MEASURED.workloads:
        shipped = SHIPPED.workload(w.name)
        assert shipped.rows == w.rows, w.name
        assert shipped.solo == w.solo, w.name
    assert SHIPPED.measured == MEASURED.measured == "2026-11-28"


@pytest.mark.parametrize(("workload", "index"), ROWS)
def test_row_is_reproduced(workload, index):
    errors = _errors(workload, index)
    key = _key(workload, index)
    worst = max(abs(e) for e in errors)
    shown = ", ".join(f"{c} {e:+.0%}" for c, e in zip(COLUMNS, errors, strict=True))
    if key in NOISY_ROWS:
        assert MEASURED is not None and MEASURED.workload(workload).noise >= 0.2, "exceptions are for noisy rows only"
        assert worst > TOLERANCE, f"{key} is within {TOLERANCE:.0%} now ({shown}); drop it from NOISY_ROWS"
        for column, e in zip(COLUMNS, errors, strict=True):
            assert NOISE_LOW <= 1 + e <= NOISE_HIGH, f"{key} {column}: {e:+.0%} beyond the noise bound ({NOISY_ROWS[key]})"
    else:
        assert worst <= TOLERANCE, f"{key}: {shown}"


def test_every_listed_exception_is_a_row():
    keys = {_key(p.values[0], p.values[1]) for p in ROWS}
    assert set(NOISY_ROWS) <= keys
    assert all(k[0].startswith("w1-eager") for k in NOISY_ROWS)


def test_solo_rows_are_the_documented_runs():
    assert MEASURED is not None and SHIPPED.model is not None
    for w in MEASURED.workloads:
        solos = [r for r in w.rows if r.mode == "time-slicing" and r.replicas == 1]
        runs = sorted(round(x / w.solo.throughput, 2) for x in (w.solo.runs or (w.solo.throughput,)))
        # Each solo row is one of the document's solo runs, and the spread is what it says.
        assert sorted(round(r.aggregate, 2) for r in solos) == pytest.approx(runs, abs=0.011), w.name
        for index, row in enumerate(w.rows):
            if row.mode == "time-slicing" and row.replicas == 1:
                # The model's solo is the reference itself: its error is the run's own distance.
                assert 1 + _errors(w.name, index)[0] == pytest.approx(1 / row.aggregate, rel=1e-6)
    assert MEASURED.workload("w1-eager-b1").noise == pytest.approx(0.30, abs=0.01)
    assert MEASURED.workload("w1-eager-b8").noise == pytest.approx(0.32, abs=0.01)
