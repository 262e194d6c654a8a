"""Comparing a calibration with another (a new run against the shipped reference), row by row."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from gpukit.sharing.calibration import Calibration

__all__ = ["RowComparison", "compare", "format_comparison"]


@dataclass(frozen=True)
class RowComparison:
    workload: str
    mode: str
    replicas: int
    aggregate: float  # measured / reference, for aggregate throughput ratio
    p50: float
    p99: float


def compare(measured: Calibration, reference: Calibration) -> list[RowComparison]:
    """measured / reference for every (workload, mode, N) both hold; repeated rows by median."""

    def table(cal: Calibration) -> dict[tuple[str, str, int], tuple[float, float, float]]:
        groups: dict[tuple[str, str, int], list[tuple[float, float, float]]] = {}
        for w in cal.workloads:
            for r in w.rows:
                groups.setdefault((w.name, r.mode, r.replicas), []).append((r.aggregate, r.p50, r.p99))
        return {
            key: tuple(statistics.median(v[i] for v in values) for i in range(3))  # type: ignore[misc]
            for key, values in groups.items()
        }

    ours, theirs = table(measured), table(reference)
    out = []
    for key in sorted(set(ours) & set(theirs), key=lambda k: (k[0], k[1], k[2])):
        m, r = ours[key], theirs[key]
        out.append(RowComparison(*key, round(m[0] / r[0], 3), round(m[1] / r[1], 3), round(m[2] / r[2], 3)))
    return out


def format_comparison(rows: list[RowComparison]) -> str:
    lines = [f"{'workload':14} {'mode':13} {'N':>3} {'aggregate':>9} {'p50':>6} {'p99':>6}   (measured / reference)"]
    for c in rows:
        lines.append(f"{c.workload:14} {c.mode:13} {c.replicas:>3} {c.aggregate:>9.2f} {c.p50:>6.2f} {c.p99:>6.2f}")
    return "\n".join(lines)
