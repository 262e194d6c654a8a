"""Plan: the decision for one workload, with every reason, alternative and rejection."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gpukit.fleet import Fleet, NodePool
from gpukit.memory import MemoryNeed
from gpukit.quantity import format_gib
from gpukit.workload import Workload

__all__ = ["Option", "Plan", "Reason", "Rejection"]

Sharing = Literal["dedicated", "mig", "time-slicing", "mps"]
Scheduler = Literal["volcano", "kueue", "default"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Reason(BaseModel):
    """A rule that fired: a stable code and the sentence a platform engineer would write."""

    model_config = _FROZEN

    code: str
    message: str


class Option(BaseModel):
    """One way to give the workload GPUs: a sharing mechanism on a node pool."""

    model_config = _FROZEN

    sharing: Sharing
    pool: str
    gpu_model: str
    mig_profile: str | None = None
    gpus: int = 1
    resource_name: str
    memory_bytes: int  # GPU memory each pod gets
    cost_per_hour: float  # per pod, the pool's GPU price times the share of a GPU it takes
    rank: int = 0  # preference of the sharing mechanism for this workload; lower is better

    @property
    def label(self) -> str:
        if self.sharing == "mig":
            what = f"MIG {self.mig_profile} on {self.gpu_model}"
        elif self.sharing == "dedicated":
            what = f"{self.gpus}x {self.gpu_model} (whole GPU{'s' if self.gpus > 1 else ''})"
        else:
            what = f"{self.sharing} share of {self.gpu_model}"
        return f"{what}, pool {self.pool}"

    @property
    def score(self) -> tuple[int, float, str]:
        """Sort key: the mechanism the rules prefer, then the cheapest, then by pool name."""
        return (self.rank, round(self.cost_per_hour, 6), self.pool + (self.mig_profile or ""))


class Rejection(BaseModel):
    """An option that was considered and turned down, with why."""

    model_config = _FROZEN

    option: str
    code: str
    message: str


class Plan(BaseModel):
    """The decision for one workload on one fleet. Build it with :func:`gpukit.plan`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    workload: Workload
    fleet: Fleet
    choice: Option
    scheduler: Scheduler
    queue: str | None = None
    namespace: str
    memory: MemoryNeed
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...] = ()
    alternatives: tuple[Option, ...] = ()
    rejections: tuple[Rejection, ...] = ()

    # -- what renderers read ------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.workload.name

    @property
    def sharing(self) -> Sharing:
        return self.choice.sharing

    @property
    def pool(self) -> NodePool:
        return self.fleet.pool(self.choice.pool)

    @property
    def gang(self) -> bool:
        return self.workload.workers > 1

    # -- outputs ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (documented in the README; tools rely on these keys)."""
        c = self.choice
        return {
            "name": self.name,
            "kind": self.workload.kind,
            "sharing": c.sharing,
            "gpu_model": c.gpu_model,
            "mig_profile": c.mig_profile,
            "gpus": c.gpus,
            "resource_name": c.resource_name,
            "pool": c.pool,
            "workers": self.workload.workers,
            "replicas": self.workload.replicas,
            "scheduler": self.scheduler,
            "queue": self.queue,
            "namespace": self.namespace,
            "memory_need_bytes": self.memory.bytes,
            "memory_source": self.memory.source,
            "cost_per_hour": round(c.cost_per_hour * self.pods, 4),
            "reasons": [r.model_dump() for r in self.reasons],
            "warnings": [w.model_dump() for w in self.warnings],
            "alternatives": [
                {
                    "sharing": a.sharing,
                    "gpu_model": a.gpu_model,
                    "mig_profile": a.mig_profile,
                    "gpus": a.gpus,
                    "pool": a.pool,
                    "cost_per_hour": round(a.cost_per_hour * self.pods, 4),
                }
                for a in self.alternatives
            ],
            "rejections": [r.model_dump() for r in self.rejections],
        }

    @property
    def pods(self) -> int:
        return self.workload.workers * self.workload.replicas

    @property
    def summary(self) -> str:
        """One line: what was chosen and the main reason."""
        return self.reasons[0].message if self.reasons else ""

    def explain(self) -> str:
        """The plan as a reviewer would read it: decision, why, warnings, other options."""
        w = self.workload
        c = self.choice
        count = f"{w.workers} workers" if w.workers > 1 else f"{w.replicas} replica" + (
            "s" if w.replicas > 1 else ""
        )
        sched = self.scheduler + (f" (queue {self.queue})" if self.queue else "")
        lines = [
            f"{w.name}: {w.kind}, {count}, needs {self.memory.describe()}",
            f"Decision: {c.label}; {c.resource_name}: {c.gpus} per pod; scheduler {sched}; "
            f"namespace {self.namespace}; ~${c.cost_per_hour * self.pods:.2f}/h",
            "Why:",
            *(f"  - [{r.code}] {r.message}" for r in self.reasons),
        ]
        if self.warnings:
            lines += ["Warnings:", *(f"  - [{r.code}] {r.message}" for r in self.warnings)]
        if self.alternatives:
            lines.append("Alternatives, best first:")
            lines += [
                f"  {i}. {a.label} ({format_gib(a.memory_bytes)} per pod, "
                f"~${a.cost_per_hour * self.pods:.2f}/h)"
                for i, a in enumerate(self.alternatives, 1)
            ]
        if self.rejections:
            lines.append("Rejected:")
            lines += [f"  - {r.option}: [{r.code}] {r.message}" for r in self.rejections]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()
