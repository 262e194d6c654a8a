"""A small dense simplex for the covering LPs of MIG packing (a handful of rows, pure Python).

The packing LP is ``min sum(x) s.t. sum_P x_P * P >= d, x >= 0`` over layout patterns P.
It is solved through its dual ``max d.y s.t. P.y <= 1 for every P, y >= 0``, whose slack
basis is feasible from the start (no phase one). The dual solution ``y`` prices each
profile in GPUs; the primal ``x`` is read off the objective row.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CoverLp", "maximize", "solve_cover"]

_EPS = 1e-9


class CoverLp:
    """Result of :func:`solve_cover`: LP value, pattern amounts ``x`` and profile prices ``y``."""

    __slots__ = ("value", "x", "y")

    def __init__(self, value: float, x: list[float], y: list[float]) -> None:
        self.value = value
        self.x = x
        self.y = y


def solve_cover(patterns: Sequence[Sequence[int]], demand: Sequence[float]) -> CoverLp:
    """Solve ``min sum x`` covering ``demand`` with ``patterns`` (each a count vector).

    Every demanded coordinate must appear in some pattern, else the LP is infeasible and
    ValueError is raised.
    """
    for j in range(len(demand)):
        if demand[j] > _EPS and not any(p[j] for p in patterns):
            raise ValueError(f"coordinate {j} is demanded but no pattern covers it")
    value, y, x = maximize(patterns, [1.0] * len(patterns), demand)
    return CoverLp(value, x, y)


def maximize(
    a_rows: Sequence[Sequence[float]], b: Sequence[float], c: Sequence[float]
) -> tuple[float, list[float], list[float]]:
    """``max c.y s.t. A y <= b, y >= 0`` with ``b >= 0``: (value, y, row duals).

    The slack basis is feasible because ``b >= 0``. Row duals are the optimal values of
    the minimisation dual (one per row of ``A``).
    """
    n = len(c)
    m = len(a_rows)
    width = n + m + 1
    rows: list[list[float]] = []
    for i, a in enumerate(a_rows):
        if b[i] < 0:
            raise ValueError("maximize() needs b >= 0")
        row = [float(v) for v in a] + [0.0] * m + [float(b[i])]
        row[n + i] = 1.0
        rows.append(row)
    z = [-float(v) for v in c] + [0.0] * (m + 1)
    basis = [n + i for i in range(m)]
    degenerate = 0
    for _ in range(100_000):
        # Dantzig's rule while it makes progress, Bland's once it stalls (no cycling).
        if degenerate < 20:
            col, best = -1, -_EPS
            for j in range(width - 1):
                if z[j] < best:
                    col, best = j, z[j]
        else:
            col = next((j for j in range(width - 1) if z[j] < -_EPS), -1)
        if col < 0:
            break
        row_i, ratio = -1, 0.0
        for i in range(m):
            a = rows[i][col]
            if a > _EPS:
                r = rows[i][-1] / a
                if row_i < 0 or r < ratio - _EPS or (abs(r - ratio) <= _EPS and basis[i] < basis[row_i]):
                    row_i, ratio = i, r
        if row_i < 0:
            raise ValueError("LP is unbounded")
        degenerate = degenerate + 1 if ratio <= _EPS else 0
        pivot_row = rows[row_i]
        inv = 1.0 / pivot_row[col]
        pivot_row = [v * inv for v in pivot_row]
        rows[row_i] = pivot_row
        nz = [(k, v) for k, v in enumerate(pivot_row) if v != 0.0]
        for i in range(m):
            if i != row_i:
                f = rows[i][col]
                if f != 0.0:
                    r = rows[i]
                    for k, v in nz:
                        r[k] -= f * v
        f = z[col]
        for k, v in nz:
            z[k] -= f * v
        basis[row_i] = col
    y = [0.0] * n
    for i, var in enumerate(basis):
        if var < n:
            y[var] = rows[i][-1]
    duals = [max(0.0, z[n + i]) for i in range(m)]
    return z[-1], y, duals
