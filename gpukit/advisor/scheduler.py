"""Which scheduler places a plan's pods, through which queue: KAI, Volcano, Kueue or the default.

Read per workload (team, queue, namespace and preemptible are not in the cached decision).
"""

from __future__ import annotations

from dataclasses import dataclass

from gpukit.advisor.context import Context
from gpukit.advisor.reasons import Reason, ReasonCode, reason
from gpukit.fleet import Fleet
from gpukit.vocab import KAI_DEFAULT_QUEUE, KAI_GPUKIT_QUEUE
from gpukit.workload import Workload

__all__ = ["KAI_DEFAULT_QUEUE", "PREEMPTIBLE_PRIORITY_CLASS", "SchedulerChoice", "choose_scheduler"]

#: The queue KAI's install (quick start) creates; a KAI plan of no team or queue goes there.

#: The one low priority class gpukit gives preemptible work. The platform renderer emits a
#: PriorityClass (pods, Volcano) and a Kueue WorkloadPriorityClass of this name, with a value
#: below the cluster default, so that other work can preempt it.
PREEMPTIBLE_PRIORITY_CLASS = "gpukit-preemptible"


@dataclass(frozen=True)
class SchedulerChoice:
    scheduler: str
    queue: str | None
    namespace: str
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...]
    priority_class: str | None = None


def _named_past_kai(fleet: Fleet, workload: Workload, gang: bool) -> str | None:
    """The scheduler other than KAI that the workload's named queue routes it to, or None.

    "volcano" or "kueue" when the fleet lists the named queue for that scheduler (Volcano
    only for a gang) and not for KAI; None when KAI takes the job.
    """
    name = workload.queue
    if not name:
        return None
    listed = {q.scheduler for q in fleet.queues if q.name == name}
    if "kai" in listed:
        return None
    if gang and fleet.installed.volcano and "volcano" in listed and _dra_ok(fleet, "volcano"):
        return "volcano"
    if fleet.installed.kueue and "kueue" in listed:
        return "kueue"
    return None


def _dra_ok(fleet: Fleet, scheduler: str) -> bool:
    from gpukit.dra.schedulers import schedules_dra  # lazy: gpukit.dra reads the advisor

    return schedules_dra(fleet, scheduler)


_QUEUE_KINDS = {"kueue": "Kueue LocalQueue", "volcano": "Volcano Queue"}


def _kai_choice(ctx: Context, workers: int, reasons: list[Reason], warnings: list[Reason]) -> str:
    """KAI's queue for the workload, with the reasons and warnings (see choose_scheduler)."""
    w, fleet = ctx.workload, ctx.fleet
    queue = fleet.queue_for("kai", w.team, w.queue)
    name = queue.name if queue is not None else (w.queue or w.team or KAI_GPUKIT_QUEUE)
    listed = [q.name for q in fleet.queues if q.scheduler == "kai"]
    if queue is None and listed and name != KAI_GPUKIT_QUEUE:
        warnings.append(
            reason(
                ReasonCode.QUEUE_NOT_IN_FLEET,
                f"KAI queue {name!r} is not in the fleet description (its KAI queues: "
                f"{', '.join(listed)}); make sure it exists, or KAI leaves the pods pending",
            )
        )
    if workers > 1:
        reasons.append(
            reason(
                ReasonCode.GANG_KAI,
                f"{workers} workers must start together or not at all: KAI groups the job's "
                f"pods into one PodGroup (minMember {workers}) and places all or none, "
                f"through queue {name}",
            )
        )
    elif w.team or w.queue:
        reasons.append(
            reason(
                ReasonCode.QUEUE_KAI,
                f"team work goes through KAI queue {name}: quota, fair sharing of idle GPUs "
                "and reclaim instead of first come, first served",
            )
        )
    else:
        reasons.append(
            reason(
                ReasonCode.SCHEDULER_KAI,
                "the fleet's GPU pods are placed by the KAI scheduler, whose queues account "
                f"for every GPU; no team or queue is named, so gpukit's queue "
                f"{KAI_GPUKIT_QUEUE}, which has GPU quota (KAI's own {KAI_DEFAULT_QUEUE} has "
                "none, and KAI runs non-preemptible work such as a Deployment in quota only)",
            )
        )
    if w.team and not w.queue and queue is None:
        # In the order _named_past_kai routes a named queue, so that the advice holds.
        for other in ("volcano", "kueue"):
            theirs = fleet.queue_for(other, w.team, None)
            if theirs is not None and (other == "kueue" or workers > 1):
                warnings.append(
                    reason(
                        ReasonCode.TEAM_QUEUE_BYPASSED,
                        f"team {w.team!r} has the {_QUEUE_KINDS[other]} {theirs.name} in the "
                        f"fleet, but KAI schedules the fleet's GPU work, so the job goes to KAI "
                        f"queue {name}; set queue: {theirs.name} to use it instead",
                    )
                )
                break
    return name


def choose_scheduler(ctx: Context, workers: int | None = None) -> SchedulerChoice:
    """Which scheduler places the workload's pods, through which queue. First match wins:

    1. **KAI** when the fleet has it, unless the workload *names* (``queue``) a queue the
       fleet lists for Volcano (multi-worker jobs only) or Kueue, and not for KAI.
       KAI gang-schedules every kind (Job, PyTorchJob, JobSet, LeaderWorkerSet, ...) through
       the PodGroups its pod grouper makes, and its hierarchical queues carry quota, fair
       sharing and reclaim: on its own it does what Volcano (gang) and Kueue (quota) do here.
       A second scheduler on the same GPU nodes (Volcano, or the default scheduler behind
       Kueue) races KAI for the same GPUs, and KAI's queues do not count what it places; so
       a team's Kueue or Volcano queue alone does not take the job off KAI
       (TEAM_QUEUE_BYPASSED warns), while naming one does, as the user's explicit choice
       (KAI_BYPASSED warns). Volcano thus wins over KAI only for a multi-worker job that
       names a Volcano queue (for instance to keep a Volcano Job with its PyTorch plugin).
       The KAI queue: the fleet's KAI queue for the workload's queue or team, else the
       queue or team name (the platform bundle creates it), else KAI's ``default-queue``.
       Codes GANG_KAI (multi-worker), QUEUE_KAI (team or queue), SCHEDULER_KAI (neither).
    2. **Volcano** for a multi-worker job when installed (GANG_VOLCANO).
    3. **Kueue** when installed and the job is multi-worker or names a team or queue that
       has a LocalQueue (GANG_KUEUE, QUEUE_KUEUE); no LocalQueue: NO_QUEUE_FOR_TEAM.
    4. The **default** scheduler (DEFAULT_SCHEDULER); a multi-worker job warns NO_GANG.

    ``workers`` is the plan's (the model may spread a single-worker job over nodes).
    """
    from gpukit.dra.schedulers import (
        dra_scheduler_skipped,
        schedules_dra,
    )  # lazy: dra reads advisor

    w, fleet = ctx.workload, ctx.fleet
    workers = w.workers if workers is None else workers
    gang = workers > 1
    installed = fleet.installed
    reasons: list[Reason] = []
    warnings: list[Reason] = []
    scheduler, queue_name, queue_ns = "default", None, None
    # On a DRA fleet, KAI and Volcano only from the release that allocates claims.
    kai = installed.kai and schedules_dra(fleet, "kai")
    volcano = installed.volcano and schedules_dra(fleet, "volcano")
    past_kai = _named_past_kai(fleet, w, gang) if kai else None

    if kai and past_kai is None:
        scheduler, queue_name = "kai", _kai_choice(ctx, workers, reasons, warnings)
    elif gang and volcano and past_kai in (None, "volcano"):
        queue = fleet.queue_for("volcano", w.team, w.queue)
        scheduler, queue_name = "volcano", queue.name if queue else (w.queue or "default")
        reasons.append(
            reason(
                ReasonCode.GANG_VOLCANO,
                f"{workers} workers must start together or not at all: Volcano gang "
                f"scheduling (minAvailable {workers}) avoids half-started jobs holding GPUs",
            )
        )
    elif installed.kueue and (gang or w.team or w.queue):
        # With KAI installed this is reached only for a named Kueue queue (past_kai).
        queue = fleet.queue_for("kueue", w.team, w.queue)
        if queue is not None or w.queue:
            scheduler = "kueue"
            queue_name = queue.name if queue else w.queue
            queue_ns = queue.namespace if queue else None
            if queue is None:
                warnings.append(
                    reason(
                        ReasonCode.QUEUE_NOT_IN_FLEET,
                        f"LocalQueue {w.queue!r} is not in the fleet description; "
                        "make sure it exists in the workload's namespace",
                    )
                )
            if gang:
                reasons.append(
                    reason(
                        ReasonCode.GANG_KUEUE,
                        f"no Volcano here; Kueue admits all {workers} workers at once "
                        f"or none (all-or-nothing admission) through queue {queue_name}; "
                        "enable waitForPodsReady so a job whose pods cannot all start is requeued",
                    )
                )
            else:
                reasons.append(
                    reason(
                        ReasonCode.QUEUE_KUEUE,
                        f"team work goes through Kueue queue {queue_name}: quota, "
                        "fair sharing and preemption instead of first come, first served",
                    )
                )
        else:
            warnings.append(
                reason(
                    ReasonCode.NO_QUEUE_FOR_TEAM,
                    f"Kueue is installed but the fleet has no LocalQueue for team "
                    f"{w.team!r}; the job bypasses quota. Add a queue for the team",
                )
            )
    elif (w.team or w.queue) and not installed.kueue and scheduler == "default":
        warnings.append(
            reason(
                ReasonCode.NO_QUOTA,
                f"team {w.team or w.queue!r} has no queue or quota here (no Kueue): GPUs go "
                "first come, first served and one team can take them all",
            )
        )
    instead = "the default scheduler" if scheduler == "default" else scheduler.title()
    for skipped in ("kai", "volcano") if gang else ("kai",):
        if getattr(installed, skipped) and not schedules_dra(fleet, skipped):
            warnings.append(dra_scheduler_skipped(fleet, skipped, instead))
    if past_kai is not None and scheduler == past_kai:
        warnings.append(
            reason(
                ReasonCode.KAI_BYPASSED,
                f"queue {queue_name} is a {_QUEUE_KINDS[past_kai]}, so this job bypasses the "
                "KAI scheduler the fleet runs: KAI's queues do not count its GPUs and two "
                "schedulers placing pods on the same GPU nodes race for them; give each its "
                "own node pools",
            )
        )
    if gang and scheduler == "default":
        warnings.append(
            reason(
                ReasonCode.NO_GANG,
                f"{workers} workers with no gang scheduler (Volcano or Kueue): a "
                "partial start holds GPUs while waiting for the rest and can deadlock",
            )
        )
    if scheduler == "default":
        reasons.append(
            reason(
                ReasonCode.DEFAULT_SCHEDULER,
                "no gang and no team queue needed: the default scheduler places "
                "each pod on its own",
            )
        )
    priority_class = None
    if w.preemptible:
        priority_class = PREEMPTIBLE_PRIORITY_CLASS
        via = "a Kueue WorkloadPriorityClass" if scheduler == "kueue" else "a PriorityClass"
        reasons.append(
            reason(
                ReasonCode.PREEMPTIBLE_LOW_PRIORITY,
                f"preemptible: {via} {PREEMPTIBLE_PRIORITY_CLASS}, below the cluster default, "
                "lets other work take its GPUs; make it checkpoint",
            )
        )
    namespace = w.namespace or queue_ns or w.effective_namespace
    if queue_ns and w.namespace and w.namespace != queue_ns:
        warnings.append(
            reason(
                ReasonCode.QUEUE_NAMESPACE_MISMATCH,
                f"LocalQueue {queue_name} lives in namespace {queue_ns}, but the "
                f"workload asks for {w.namespace}; Kueue only admits jobs from the queue's namespace",
            )
        )
    return SchedulerChoice(
        scheduler, queue_name, namespace, tuple(reasons), tuple(warnings), priority_class
    )
