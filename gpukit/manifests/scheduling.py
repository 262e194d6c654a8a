"""Who schedules a rendered workload: scheduler name, queue labels, priority classes, PodGroups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpukit.advisor.plan import PREEMPTIBLE_PRIORITY_CLASS, Plan
from gpukit.vocab import (
    KAI_DEFAULT_QUEUE,
    KAI_QUEUE_LABEL,
    KAI_SCHEDULER,
    KUEUE_PRIORITY_LABEL,
    KUEUE_QUEUE_LABEL,
    VOLCANO_GROUP_ANNOTATION,
    VOLCANO_SCHEDULER,
)

__all__ = [
    "KAI_DEFAULT_QUEUE",
    "KAI_QUEUE_LABEL",
    "KAI_SCHEDULER",
    "KUEUE_PRIORITY_LABEL",
    "KUEUE_QUEUE_LABEL",
    "PREEMPTIBLE_CLASS",
    "PRIORITY_CLASSES",
    "VOLCANO_GROUP_ANNOTATION",
    "VOLCANO_SCHEDULER",
    "PriorityClass",
    "Scheduling",
    "scheduling",
]

# The label, annotation and scheduler names in __all__ are defined in gpukit.vocab; they
# stay importable from here for one release.


@dataclass(frozen=True)
class PriorityClass:
    """One priority level, rendered both as a Kubernetes PriorityClass (pod priority and
    kube-scheduler preemption) and as a Kueue WorkloadPriorityClass (admission order and
    Kueue preemption), under the same name."""

    name: str
    value: int
    description: str


#: Work that may be stopped to make room for anything else (the advisor's name for it).
#: Its value is negative, so that pods with no priority class at all (priority 0) still
#: preempt it, as cluster-autoscaler's over-provisioning placeholders do.
PREEMPTIBLE_CLASS = PREEMPTIBLE_PRIORITY_CLASS

#: Every priority class gpukit renders on the platform side, highest first. A workload
#: names one of these or none; the platform bundle creates all of them.
PRIORITY_CLASSES: tuple[PriorityClass, ...] = (
    PriorityClass(
        "gpukit-serving", 1000, "online inference: admitted first and may preempt batch work"
    ),
    PriorityClass(
        "gpukit-standard", 100, "training, fine-tuning and batch work that should not be stopped"
    ),
    PriorityClass(
        PREEMPTIBLE_CLASS,
        -100,
        "preemptible work: runs on idle quota and is stopped first when others need it",
    ),
)


@dataclass(frozen=True)
class Scheduling:
    """The scheduling side of one plan, read by every renderer the same way.

    Rules:
    - ``volcano``: the plan says Volcano (gang); pods carry ``schedulerName: volcano``.
    - ``kai-scheduler``: the plan says KAI; pods carry its schedulerName and the
      ``kai.scheduler/queue`` label (KAI groups a Job's pods itself, gang included).
    - Kueue: when the plan says Kueue, the top-level object carries the LocalQueue label;
      Kueue then admits the object as a whole (all-or-nothing).
    - Priority: the plan's ``priority_class`` (the advisor sets :data:`PREEMPTIBLE_CLASS`
      for preemptible work), as priorityClassName and, with Kueue, its priority label.
    """

    scheduler_name: str | None
    kueue_queue: str | None
    kai_queue: str | None
    volcano_queue: str | None
    priority_class: str | None

    @property
    def volcano(self) -> bool:
        return self.scheduler_name == VOLCANO_SCHEDULER

    def object_labels(self) -> dict[str, str]:
        """Labels on the object a queueing system admits (Job, JobSet, Deployment, ...)."""
        labels: dict[str, str] = {}
        if self.kueue_queue:
            labels[KUEUE_QUEUE_LABEL] = self.kueue_queue
            if self.priority_class:
                labels[KUEUE_PRIORITY_LABEL] = self.priority_class
        if self.kai_queue:
            labels[KAI_QUEUE_LABEL] = self.kai_queue
        return labels

    def pod_labels(self) -> dict[str, str]:
        """Labels every pod template carries: KAI reads its queue from the pods too."""
        return {KAI_QUEUE_LABEL: self.kai_queue} if self.kai_queue else {}

    def pod_fields(self) -> dict[str, Any]:
        """Pod spec fields: schedulerName and priorityClassName when set."""
        fields: dict[str, Any] = {}
        if self.scheduler_name:
            fields["schedulerName"] = self.scheduler_name
        if self.priority_class:
            fields["priorityClassName"] = self.priority_class
        return fields


def priority_class(plan: Plan) -> str | None:
    """The priority class the plan chose (one of :data:`PRIORITY_CLASSES`), or None."""
    return plan.priority_class


def scheduling(plan: Plan) -> Scheduling:
    """How the plan's pods are scheduled and queued (see :class:`Scheduling` for the rules)."""
    volcano = plan.scheduler == "volcano"
    kai = plan.scheduler == "kai"
    return Scheduling(
        scheduler_name=VOLCANO_SCHEDULER if volcano else KAI_SCHEDULER if kai else None,
        kueue_queue=plan.queue if plan.scheduler == "kueue" else None,
        kai_queue=(plan.queue or KAI_DEFAULT_QUEUE) if kai else None,
        volcano_queue=(plan.queue or "default") if volcano else None,
        priority_class=priority_class(plan),
    )


def __getattr__(name: str) -> Any:
    # Moved to the Volcano integration; this path keeps working for one release. Resolved
    # lazily: the integration imports this module.
    if name == "volcano_podgroup":
        from gpukit.integrations.volcano import volcano_podgroup

        return volcano_podgroup
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
