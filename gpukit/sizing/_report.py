"""The sizing report: per GPU model and node pool, gpukit's plans against whole GPUs for every pod.

The models :func:`gpukit.sizing.size` returns (:class:`SizingReport` and its parts) and their
two renderings: :meth:`SizingReport.to_dict` (stable JSON) and :meth:`SizingReport.table`
(a terminal). Nothing here plans or counts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from gpukit.quantity import format_gib

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: How MIG instances are counted onto GPUs (shown in reports).
MIG_PACKING = (
    "gpukit.hardware.packing.pack per pool (LP over valid layouts, integer rounding, exact "
    "search), never more GPUs than placement-checked first-fit decreasing; layouts free to change"
)
#: How shares and whole GPUs are counted (shown in reports).
SHARE_PACKING = (
    "time-slicing / MPS: a GPU holds at most its replica count of pods and at most its memory "
    "in their needs with headroom; whole GPUs: gang jobs on whole nodes of their own, other "
    "pods packed onto nodes by GPU count; each sharing set-up on nodes of its own"
)


class Driver(BaseModel):
    """One workload's part of a GPU model's count."""

    model_config = _FROZEN

    workload: str
    sharing: str
    pool: str
    gpus: float  # GPU-equivalents under gpukit's plan (a 1g.10gb slice of 7: 1/7 ...)
    naive_gpus: int


class PoolSizing(BaseModel):
    """One node pool: GPUs and nodes under gpukit's plans and under the naive plan."""

    model_config = _FROZEN

    pool: str
    gpu_model: str
    gpus_per_node: int
    workloads: int
    pods: int
    gpukit_gpus: int
    gpukit_nodes: int
    naive_gpus: int
    naive_nodes: int
    gpukit_cost_per_hour: float  # GPUs in use x the pool's price per GPU-hour
    naive_cost_per_hour: float
    gpukit_node_cost_per_hour: float  # whole nodes bought x GPUs per node x price
    naive_node_cost_per_hour: float
    by_sharing: dict[str, int]  # gpukit GPUs per sharing mechanism
    mig_gpus: int = 0  # GPUs the packer partitions ...
    mig_lower_bound: int = 0  # ... and the fewest any packing could use (fleet LP)


class Saving(BaseModel):
    """Pods of one kind that gpukit gives the same smaller option, and the GPUs it frees."""

    model_config = _FROZEN

    kind: str
    option: str  # e.g. "MIG 1g.10gb", "4-way MPS share"
    gpu_model: str
    pool: str
    workloads: int
    pods: int
    memory_bytes: int | None  # the largest need among them (measured or given), None unknown
    measured: bool  # memory from measured usage (DCGM), not from requests or estimates
    naive_gpus: int
    gpukit_gpus: float
    freed_gpus: int

    @property
    def sentence(self) -> str:
        verb = "use" if self.measured else "need"
        memory = (
            f" {verb} at most {format_gib(self.memory_bytes)} each" if self.memory_bytes else ""
        )
        return (
            f"these {self.pods} {self.kind} pods{memory}: {self.option} on {self.gpu_model} "
            f"(pool {self.pool}) would free {self.freed_gpus} GPUs"
        )


class SizingLine(BaseModel):
    """GPUs of one model: gpukit's plans against whole GPUs for every pod."""

    model_config = _FROZEN

    gpu_model: str
    pools: tuple[str, ...]
    workloads: int
    gpukit_gpus: int
    naive_gpus: int
    gpukit_cost_per_hour: float
    naive_cost_per_hour: float
    by_sharing: dict[str, int]  # gpukit GPUs per sharing mechanism
    drivers: tuple[Driver, ...]  # largest users of this model under gpukit's plans
    savers: tuple[Driver, ...]  # largest naive - gpukit differences
    gpukit_nodes: int = 0
    naive_nodes: int = 0

    @property
    def ratio(self) -> float:
        """Naive GPUs per gpukit GPU (how many times fewer GPUs gpukit needs)."""
        return self.naive_gpus / self.gpukit_gpus if self.gpukit_gpus else 1.0


class Unplaced(BaseModel):
    """A workload no option in the fleet can run."""

    model_config = _FROZEN

    workload: str
    codes: tuple[str, ...]
    message: str


class SizingReport(BaseModel):
    """The GPUs a workload mix needs per GPU model and node pool, gpukit against naive."""

    model_config = _FROZEN

    fleet: str
    workloads: int
    lines: tuple[SizingLine, ...]
    unplaced: tuple[Unplaced, ...] = ()
    violations: tuple[str, ...] = ()  # plans that miss a memory or isolation need (never expected)
    mig_packing: str = MIG_PACKING
    pools: tuple[PoolSizing, ...] = ()
    savings: tuple[Saving, ...] = ()  # the biggest, largest first
    shapes: int = 0  # distinct decision shapes planned
    notes: tuple[str, ...] = ()  # where the workloads came from, what was assumed

    @property
    def gpukit_gpus(self) -> int:
        return sum(line.gpukit_gpus for line in self.lines)

    @property
    def naive_gpus(self) -> int:
        return sum(line.naive_gpus for line in self.lines)

    @property
    def gpukit_nodes(self) -> int:
        return sum(p.gpukit_nodes for p in self.pools)

    @property
    def naive_nodes(self) -> int:
        return sum(p.naive_nodes for p in self.pools)

    @property
    def ratio(self) -> float:
        return self.naive_gpus / self.gpukit_gpus if self.gpukit_gpus else 1.0

    @property
    def gpukit_cost_per_hour(self) -> float:
        return sum(line.gpukit_cost_per_hour for line in self.lines)

    @property
    def naive_cost_per_hour(self) -> float:
        return sum(line.naive_cost_per_hour for line in self.lines)

    @property
    def mig_gpus(self) -> int:
        return sum(p.mig_gpus for p in self.pools)

    @property
    def mig_lower_bound(self) -> int:
        return sum(p.mig_lower_bound for p in self.pools)

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON form: totals first, then one entry per GPU model.

        Keys after ``mig_packing`` were added later; the earlier ones keep their meaning.
        """
        return {
            "fleet": self.fleet,
            "workloads": self.workloads,
            "gpukit_gpus": self.gpukit_gpus,
            "naive_gpus": self.naive_gpus,
            "ratio": round(self.ratio, 3),
            "gpukit_cost_per_hour": round(self.gpukit_cost_per_hour, 2),
            "naive_cost_per_hour": round(self.naive_cost_per_hour, 2),
            "gpu_models": [
                {
                    "gpu_model": line.gpu_model,
                    "pools": list(line.pools),
                    "workloads": line.workloads,
                    "gpukit_gpus": line.gpukit_gpus,
                    "naive_gpus": line.naive_gpus,
                    "ratio": round(line.ratio, 3),
                    "gpukit_cost_per_hour": round(line.gpukit_cost_per_hour, 2),
                    "naive_cost_per_hour": round(line.naive_cost_per_hour, 2),
                    "by_sharing": dict(line.by_sharing),
                    "drivers": [_driver_dict(d) for d in line.drivers],
                    "savers": [_driver_dict(d) for d in line.savers],
                    "gpukit_nodes": line.gpukit_nodes,
                    "naive_nodes": line.naive_nodes,
                }
                for line in self.lines
            ],
            "unplaced": [u.model_dump() | {"codes": list(u.codes)} for u in self.unplaced],
            "violations": list(self.violations),
            "mig_packing": self.mig_packing,
            "gpukit_nodes": self.gpukit_nodes,
            "naive_nodes": self.naive_nodes,
            "mig_gpus": self.mig_gpus,
            "mig_lower_bound": self.mig_lower_bound,
            "shapes": self.shapes,
            "pools": [
                p.model_dump()
                | {
                    key: round(getattr(p, key), 2)
                    for key in (
                        "gpukit_cost_per_hour",
                        "naive_cost_per_hour",
                        "gpukit_node_cost_per_hour",
                        "naive_node_cost_per_hour",
                    )
                }
                for p in self.pools
            ],
            "savings": [
                s.model_dump() | {"gpukit_gpus": round(s.gpukit_gpus, 3), "sentence": s.sentence}
                for s in self.savings
            ],
            "notes": list(self.notes),
        }

    def table(self) -> str:
        """The report for a terminal: one row per GPU model and a total, then per pool."""
        from gpukit._text import table

        rows: list[tuple[object, ...]] = [
            (
                line.gpu_model,
                line.gpukit_gpus,
                line.naive_gpus,
                f"{line.ratio:.2f}x",
                f"{line.gpukit_cost_per_hour:.2f}",
                f"{line.naive_cost_per_hour:.2f}",
                ", ".join(f"{d.workload} ({d.gpus:.3g})" for d in line.drivers),
            )
            for line in self.lines
        ]
        rows.append(
            (
                "TOTAL",
                self.gpukit_gpus,
                self.naive_gpus,
                f"{self.ratio:.2f}x",
                f"{self.gpukit_cost_per_hour:.2f}",
                f"{self.naive_cost_per_hour:.2f}",
                "",
            )
        )
        text = table(
            [
                "GPU MODEL",
                "GPUKIT GPUS",
                "NAIVE GPUS",
                "RATIO",
                "GPUKIT $/H",
                "NAIVE $/H",
                "DRIVEN BY",
            ],
            rows,
            max_width=70,
        )
        pool_rows: list[tuple[object, ...]] = [
            (
                p.pool,
                p.gpu_model,
                p.pods,
                f"{p.gpukit_gpus}/{p.naive_gpus}",
                f"{p.gpukit_nodes}/{p.naive_nodes}",
                f"{p.gpukit_node_cost_per_hour:.2f}/{p.naive_node_cost_per_hour:.2f}",
                ", ".join(f"{k} {v}" for k, v in p.by_sharing.items()),
            )
            for p in self.pools
        ]
        pool_rows.append(
            (
                "TOTAL",
                "",
                sum(p.pods for p in self.pools),
                f"{self.gpukit_gpus}/{self.naive_gpus}",
                f"{self.gpukit_nodes}/{self.naive_nodes}",
                (
                    f"{sum(p.gpukit_node_cost_per_hour for p in self.pools):.2f}/"
                    f"{sum(p.naive_node_cost_per_hour for p in self.pools):.2f}"
                ),
                "",
            )
        )
        pools = table(
            [
                "POOL",
                "GPU",
                "PODS",
                "GPUS (GPUKIT/NAIVE)",
                "NODES",
                "NODES $/H",
                "GPUKIT GPUS BY SHARING",
            ],
            pool_rows,
            max_width=60,
        )
        notes = [
            (
                f"{self.workloads} workloads ({self.shapes} decision shapes) on fleet {self.fleet}; "
                "naive = whole dedicated GPUs for every pod, same GPU model"
            ),
            f"MIG packing: {self.mig_packing}",
        ]
        if self.mig_gpus:
            notes.append(
                f"MIG: {self.mig_gpus} GPUs partitioned; no packing uses fewer than "
                f"{self.mig_lower_bound} (LP lower bound)"
            )
        notes.append(f"shares and nodes: {SHARE_PACKING}")
        notes += list(self.notes)
        notes += [f"saving: {s.sentence}" for s in self.savings]
        notes += [
            f"unplaced: {u.workload}: [{', '.join(u.codes)}] {u.message}" for u in self.unplaced
        ]
        notes += [f"VIOLATION: {v}" for v in self.violations]
        return text + "\n\n" + pools + "\n\n" + "\n".join(notes)


def _driver_dict(d: Driver) -> dict[str, Any]:
    return {
        "workload": d.workload,
        "sharing": d.sharing,
        "pool": d.pool,
        "gpus": round(d.gpus, 3),
        "naive_gpus": d.naive_gpus,
    }
