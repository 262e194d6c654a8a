"""Plan: the decision for one workload, with every reason, alternative and rejection."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gpukit.advisor.mechanisms import mechanism
from gpukit.advisor.option import Option, Sharing, option_label
from gpukit.advisor.predictions import OptionPrediction
from gpukit.advisor.reasons import Reason, Rejection, gib
from gpukit.advisor.scheduler import KAI_DEFAULT_QUEUE, PREEMPTIBLE_PRIORITY_CLASS
from gpukit.advisor.scoring import SCORE_FORMULA
from gpukit.fleet import Fleet, NodePool
from gpukit.memory import MemoryNeed
from gpukit.workload import Workload

__all__ = [
    "KAI_DEFAULT_QUEUE",
    "PREEMPTIBLE_PRIORITY_CLASS",
    "SCORE_FORMULA",
    "Option",
    "Plan",
    "Reason",
    "Rejection",
    "option_label",
]

Scheduler = Literal["volcano", "kueue", "kai", "default"]


def _grouped(rejections: tuple[Rejection, ...]) -> list[tuple[list[str], str, str]]:
    """Neighbouring rejections for the same reason, as one line each."""
    groups: list[tuple[list[str], str, str]] = []
    for r in rejections:
        if groups and groups[-1][1:] == (r.code, r.message):
            groups[-1][0].append(r.option)
        else:
            groups.append(([r.option], r.code, r.message))
    return groups


class Plan(BaseModel):
    """The decision for one workload on one fleet. Build it with :func:`gpukit.plan`.

    ``workload`` is the workload as planned: when a model needs more GPUs than a node holds,
    its ``workers`` are the plan's (several gang-scheduled nodes), so that everything that
    reads the plan sees one consistent pod count.
    """

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
    priority_class: str | None = None  # PREEMPTIBLE_PRIORITY_CLASS for preemptible work
    #: The sharing model's figures for the choice and the alternatives (modelled ones, in
    #: that order): gpukit.advisor.predict.
    predictions: tuple[OptionPrediction, ...] = ()

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
    def workers(self) -> int:
        """Pods that start together: the workload's, or more when the model spans nodes."""
        return self.choice.workers

    @property
    def gang(self) -> bool:
        return self.choice.workers > 1

    @property
    def pods(self) -> int:
        return self.choice.workers * self.workload.replicas

    # -- outputs ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (documented in the README; tools rely on these keys).

        Keys after ``rejections`` were added later; the earlier ones keep their meaning.
        """
        c = self.choice
        pods = self.pods
        return {
            "name": self.name,
            "kind": self.workload.kind,
            "sharing": c.sharing,
            "gpu_model": c.gpu_model,
            "mig_profile": c.mig_profile,
            "gpus": c.gpus,
            "resource_name": c.resource_name,
            "pool": c.pool,
            "workers": c.workers,
            "replicas": self.workload.replicas,
            "scheduler": self.scheduler,
            "queue": self.queue,
            "namespace": self.namespace,
            "memory_need_bytes": self.memory.bytes,
            "memory_source": self.memory.source,
            "cost_per_hour": round(c.cost_per_hour * pods, 4),
            "reasons": [{"code": r.code, "message": r.message} for r in self.reasons],
            "warnings": [{"code": r.code, "message": r.message} for r in self.warnings],
            "alternatives": [
                {
                    "sharing": a.sharing,
                    "gpu_model": a.gpu_model,
                    "mig_profile": a.mig_profile,
                    "gpus": a.gpus,
                    "pool": a.pool,
                    "cost_per_hour": round(a.cost_per_hour * a.workers * self.workload.replicas, 4),
                    "workers": a.workers,
                    "score": a.score,
                }
                for a in self.alternatives
            ],
            "rejections": [
                {"option": r.option, "code": r.code, "message": r.message} for r in self.rejections
            ],
            "score": c.score,
            "gang": self.gang,
            "priority_class": self.priority_class,
            "memory_per_pod_bytes": c.memory_bytes,
            "memory_formula": self.memory.formula or None,
            "memory_assumptions": list(self.memory.assumptions),
            "prediction": None if self.prediction is None else self.prediction.to_dict(),
        }

    @property
    def prediction(self) -> OptionPrediction | None:
        """The sharing model's figures for the chosen option (None: not modelled)."""
        label = self.choice.label
        return next((p for p in self.predictions if p.option == label), None)

    @property
    def summary(self) -> str:
        """One line: what was chosen and the main reason."""
        return self.reasons[0].message if self.reasons else ""

    def explain(self) -> str:
        """The plan as a reviewer would read it: decision, why, warnings, other options."""
        w = self.workload
        c = self.choice
        replicas = f"{w.replicas} replica" + ("s" if w.replicas > 1 else "")
        count = f"{c.workers} workers" if c.workers > 1 else replicas
        if c.workers > 1 and w.replicas > 1:
            count += f" x {replicas}"
        sched = self.scheduler + (f" (queue {self.queue})" if self.queue else "")
        need = f"needs {self.memory.describe()}" if self.memory.known else "memory need not given"
        lines = [
            f"{w.name}: {w.kind}, {count}, {need}",
            (
                f"Decision: {c.label}; {mechanism(c.sharing).request(c)}; scheduler {sched}; "
                f"namespace {self.namespace}; ~${c.cost_per_hour * self.pods:.2f}/h; "
                f"score {c.score:g}"
            ),
        ]
        if self.priority_class:
            lines.append(f"Priority class: {self.priority_class}")
        lines += ["Why:", *(f"  - [{r.code}] {r.message}" for r in self.reasons)]
        if self.memory.assumptions:
            lines += ["Memory assumptions:", *(f"  - {a}" for a in self.memory.assumptions)]
        if self.warnings:
            lines += ["Warnings:", *(f"  - [{r.code}] {r.message}" for r in self.warnings)]
        chosen = self.prediction
        if chosen is not None and any(p.mode != "dedicated" for p in self.predictions):
            lines += [
                "Predicted under sharing (x one replica alone on a dedicated GPU):",
                f"  - chosen: {chosen.summary}",
            ]
            if chosen.replicas_reason:
                lines.append(f"    replicas per GPU: {chosen.replicas_reason}")
            lines.append(f"    source: {chosen.source}")
            lines.append(f"    assumptions: {'; '.join(chosen.assumptions)}")
            lines += [f"  - {p.option}: {p.summary}" for p in self.predictions if p is not chosen]
        if self.alternatives:
            lines.append("Alternatives, best first:")
            lines += [
                f"  {i}. {a.label} ({gib(a.memory_bytes)} per pod, "
                f"~${a.cost_per_hour * a.workers * w.replicas:.2f}/h, score {a.score:g})"
                for i, a in enumerate(self.alternatives, 1)
            ]
        if self.rejections:
            lines.append("Rejected:")
            lines += [
                f"  - {'; '.join(options)}: [{code}] {message}"
                for options, code, message in _grouped(self.rejections)
            ]
        lines.append(f"Score: {SCORE_FORMULA}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()
